//! The per-line report of `tobira migrate`: one line per line of the
//! export, as CSV (for spreadsheets: BOM, CRLF, quoted, no formulas) or
//! JSONL (for tools), chosen by the file's extension.

use std::io::Write;
use std::path::Path;

use serde::Serialize;
use serde_json::Value;

/// One line of the export and what became of it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ReportLine {
    /// The export's line number (1-based); none for a record of an earlier
    /// import that `--all-pending` applied.
    pub line: Option<u64>,
    pub tenant_id: String,
    pub ecid: String,
    /// `migrated`, `renamed`, `phone_normalised`, `already_migrated`,
    /// `rejected`, `superseded` (a later line has the same tenant and
    /// ecid), `not_applied` (staged, but the run stopped first).
    pub outcome: String,
    pub login_id: String,
    pub final_login_id: String,
    pub phone_before: String,
    pub phone_after: String,
    pub reason: String,
}

impl ReportLine {
    pub fn rejected(line: u64, reason: String) -> Self {
        Self {
            line: Some(line),
            outcome: "rejected".into(),
            reason,
            ..Self::default()
        }
    }

    pub fn not_applied(line: u64, reason: &str) -> Self {
        Self {
            line: Some(line),
            outcome: "not_applied".into(),
            reason: reason.into(),
            ..Self::default()
        }
    }

    /// The staged record's identity: tenant and ecid as the store keys them
    /// (trimmed, as `TenantId` and `Ecid` parse them).
    pub fn key(&self) -> (String, String) {
        (
            self.tenant_id.trim().to_string(),
            self.ecid.trim().to_string(),
        )
    }

    /// From a line of a `migrate-batch` report (`RecordReport`).
    pub fn from_record(line: Option<u64>, r: &Value) -> Self {
        let f = |k: &str| r.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        Self {
            line,
            tenant_id: f("tenant_id"),
            ecid: f("ecid"),
            outcome: f("outcome"),
            login_id: f("login_id"),
            final_login_id: f("final_login_id"),
            phone_before: f("phone_before"),
            phone_after: f("phone_after"),
            reason: f("reason"),
        }
    }
}

/// The report's format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Csv,
    Jsonl,
}

impl Format {
    /// By extension: `.csv` or `.jsonl`.
    pub fn of(path: &Path) -> Result<Self, String> {
        match path.extension().and_then(|e| e.to_str()) {
            Some(e) if e.eq_ignore_ascii_case("csv") => Ok(Self::Csv),
            Some(e) if e.eq_ignore_ascii_case("jsonl") => Ok(Self::Jsonl),
            _ => Err(format!(
                "--report {}: the report is a .csv or a .jsonl file",
                path.display()
            )),
        }
    }
}

const COLUMNS: [&str; 9] = [
    "line",
    "tenant_id",
    "ecid",
    "outcome",
    "login_id",
    "final_login_id",
    "phone_before",
    "phone_after",
    "reason",
];

/// Write every line to `out` in `format`.
pub fn write(out: &mut dyn Write, format: Format, lines: &[ReportLine]) -> std::io::Result<()> {
    use tobira_web::csv::{line, BOM};
    match format {
        Format::Jsonl => {
            for l in lines {
                let json = serde_json::to_string(l).expect("report lines serialise");
                writeln!(out, "{json}")?;
            }
        }
        Format::Csv => {
            write!(out, "{BOM}{}", line(&COLUMNS))?;
            for l in lines {
                let n = l.line.map(|n| n.to_string()).unwrap_or_default();
                let cells = [
                    n.as_str(),
                    &l.tenant_id,
                    &l.ecid,
                    &l.outcome,
                    &l.login_id,
                    &l.final_login_id,
                    &l.phone_before,
                    &l.phone_after,
                    &l.reason,
                ];
                write!(out, "{}", line(&cells))?;
            }
        }
    }
    out.flush()
}
