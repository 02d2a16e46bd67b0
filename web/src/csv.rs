//! ADM-6: the sign-in history as a CSV file for spreadsheet programs:
//! UTF-8 with a byte-order mark (so that Excel reads Japanese), CRLF line
//! ends, every cell quoted, and no cell that a spreadsheet would run as a
//! formula.

use tobira::history::SignInRow;

use crate::i18n::{t, Lang};

/// The byte-order mark that starts the file.
pub const BOM: &str = "\u{feff}";

/// One cell, quoted; a value that begins with `=`, `+`, `-`, `@` (or their
/// full-width forms, which Japanese input methods type), a tab or a
/// carriage return is neutralized with a leading `'` (OWASP "CSV
/// injection"): a user agent or a login ID is the attacker's text.
pub fn cell(v: &str) -> String {
    let risky = v.starts_with(['=', '+', '-', '@', '\t', '\r', '＝', '＋', '－', '＠']);
    let v = v.replace('"', "\"\"");
    if risky {
        format!("\"'{v}\"")
    } else {
        format!("\"{v}\"")
    }
}

/// One row: quoted cells, comma-separated, CRLF.
pub fn line(cells: &[&str]) -> String {
    let mut out = cells.iter().map(|c| cell(c)).collect::<Vec<_>>().join(",");
    out.push_str("\r\n");
    out
}

/// The header line (in the viewer's language; the time column names the zone).
pub fn header(lang: Lang, zone: &str) -> String {
    let time = format!("{} ({zone})", t(lang, "history.time"));
    line(&[
        &time,
        t(lang, "history.user_id"),
        t(lang, "login.login_id"),
        t(lang, "history.event"),
        t(lang, "history.outcome"),
        t(lang, "history.ip"),
        t(lang, "history.user_agent"),
    ])
}

/// One row.
pub fn row(lang: Lang, r: &SignInRow) -> String {
    line(&[
        &r.local_time,
        r.user_id.as_deref().unwrap_or(""),
        r.login_id.as_deref().unwrap_or(""),
        event_label(lang, r.event),
        outcome_label(lang, r.outcome),
        &r.ip,
        &r.user_agent,
    ])
}

pub fn event_label(lang: Lang, event: &str) -> &'static str {
    match event {
        "password" => t(lang, "history.event.password"),
        _ => t(lang, "history.event.second_factor"),
    }
}

pub fn outcome_label(lang: Lang, outcome: &str) -> &'static str {
    match outcome {
        "success" => t(lang, "history.outcome.success"),
        "failure" => t(lang, "history.outcome.failure"),
        _ => t(lang, "history.outcome.locked"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // ADM-6
    #[test]
    fn adm_6_csv_cells_cannot_start_a_formula() {
        assert_eq!(cell("=HYPERLINK(\"x\")"), "\"'=HYPERLINK(\"\"x\"\")\"");
        for v in ["+1", "-1+2", "@SUM(A1)", "\tx", "\rx", "＝1+1", "＠SUM(A1)"] {
            assert!(cell(v).starts_with("\"'"), "{v}");
        }
        assert_eq!(cell("Mozilla/5.0"), "\"Mozilla/5.0\"");
        assert_eq!(cell("a,b"), "\"a,b\"");
    }
}
