//! Phone numbers: the MIG-5 repair of legacy free text and the digit
//! comparison of SET-2.

/// A digit, ASCII or full-width, as its ASCII form.
fn ascii_digit(c: char) -> Option<char> {
    match c {
        '0'..='9' => Some(c),
        '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32),
        _ => None,
    }
}

/// Every digit of `s` (full-width ones as ASCII), nothing else.
pub fn digits_of(s: &str) -> String {
    s.chars().filter_map(ascii_digit).collect()
}

/// 4 to 32 ASCII digits and nothing else.
pub fn is_plain_digits(s: &str) -> bool {
    (4..=32).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit())
}

// home of MIG-5
/// MIG-5: a legacy phone as the portal keeps it.
pub fn normalise_legacy(raw: &str, default: &str) -> String {
    if is_plain_digits(raw) {
        return raw.to_string();
    }
    let digits = digits_of(raw);
    if is_plain_digits(&digits) {
        digits
    } else {
        default.to_string()
    }
}

/// SET-2: phones match by their digits; hyphens, spaces and the width of the
/// digits do not matter. An input without digits never matches.
pub fn same_digits(entered: &str, stored: &str) -> bool {
    let (a, b) = (digits_of(entered), digits_of(stored));
    !a.is_empty() && crate::random::ct_eq(a.as_bytes(), b.as_bytes())
}

/// SET-2: the phone entered matches the record's by its digits, or, when
/// MIG-5 replaced an unusable legacy phone, the legacy digits exactly (the
/// user never saw the replacement; an empty legacy phone is matched by an
/// empty entry). Both comparisons always run.
pub fn matches_record(entered: &str, phone: &str, legacy: Option<&str>) -> bool {
    let on_record = same_digits(entered, phone);
    let legacy = legacy.is_some_and(|l| {
        let (a, b) = (digits_of(entered), digits_of(l));
        // An entry with letters but no digits is not the empty legacy phone.
        let blank = entered
            .chars()
            .all(|c| c.is_whitespace() || c == '-' || c == '－');
        (!a.is_empty() || blank) & crate::random::ct_eq(a.as_bytes(), b.as_bytes())
    });
    on_record | legacy
}

/// MIG-5: the legacy digits to keep beside the replacement, when the
/// replacement is not the legacy phone's own digits.
pub fn replaced_legacy(raw: &str, kept: &str) -> Option<String> {
    let digits = digits_of(raw);
    (digits != kept).then_some(digits)
}

#[cfg(test)]
mod tests {
    use super::*;

    const D: &str = "0312345678";

    // MIG-5
    #[test]
    fn mig_5_every_branch() {
        assert_eq!(normalise_legacy("0312345678", D), "0312345678"); // digits: unchanged
        assert_eq!(normalise_legacy("0123", D), "0123"); // 4 digits: unchanged
        assert_eq!(normalise_legacy("03-1234-5679", D), "0312345679"); // hyphens removed
        assert_eq!(
            normalise_legacy("０９０－１２３４－５６７８", D),
            "09012345678"
        ); // full-width
        assert_eq!(normalise_legacy("+81 90 1111 2222", D), "819011112222"); // country prefix
        assert_eq!(normalise_legacy("12", D), D); // too short
        assert_eq!(normalise_legacy("", D), D); // empty
        assert_eq!(normalise_legacy(&"1".repeat(33), D), D); // too long
        assert_eq!(normalise_legacy(&"1".repeat(32), D), "1".repeat(32));
        assert_eq!(normalise_legacy("abc", D), D);
    }

    // SET-2
    #[test]
    fn set_2_phone_matches_by_digits() {
        assert!(same_digits("03-1234-5678", "0312345678"));
        assert!(same_digits("０３１２３４５６７８", "0312345678"));
        assert!(!same_digits("03-1234-5670", "0312345678"));
        assert!(!same_digits("", ""));
    }

    // SET-2
    #[test]
    fn set_2_legacy_phone_matches_only_when_mig_5_replaced_it() {
        // Replaced "12": the default and the legacy digits both match.
        assert!(matches_record("03-1234-5678", D, Some("12")));
        assert!(matches_record("１２", D, Some("12")));
        assert!(!matches_record("123", D, Some("12")));
        assert!(!matches_record("", D, Some("12")));
        // Not replaced: only the phone on record.
        assert!(!matches_record("12", D, None));
        // Replaced an empty phone: an empty entry is the legacy phone.
        assert!(matches_record("", D, Some("")));
        assert!(matches_record(" ", D, Some("")));
        assert!(!matches_record("abc", D, Some("")));
        assert!(!matches_record("", D, None));
        // MIG-5 keeps the legacy digits only when it replaced them.
        assert_eq!(replaced_legacy("03-1234-5679", "0312345679"), None);
        assert_eq!(replaced_legacy("12", D).as_deref(), Some("12"));
        assert_eq!(replaced_legacy("", D).as_deref(), Some(""));
    }
}
