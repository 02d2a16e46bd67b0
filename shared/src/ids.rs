//! Newtypes that parse at the edge: once a value has one of these types it is
//! known to be well-formed, and nothing downstream checks it again.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::Error;

/// A sign-in ID as entered or migrated. Compared case-insensitively (LOG-1,
/// MIG-3) through [`LoginId::key`]; displayed as written.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct LoginId(String);

impl LoginId {
    pub const MAX: usize = 256;
    pub fn parse(s: &str) -> Result<Self, Error> {
        let s = s.trim();
        if s.is_empty()
            || s.chars().count() > Self::MAX
            || s.chars().any(|c| c.is_control() || c.is_whitespace())
        {
            return Err(Error::invalid("invalid_login_id"));
        }
        Ok(Self(s.to_string()))
    }
    /// The case-folded form every lookup and uniqueness check uses.
    pub fn key(&self) -> String {
        self.0.to_lowercase()
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for LoginId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "LoginId({:?})", self.0)
    }
}

impl fmt::Display for LoginId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An e-mail address, kept exactly as given (MIG-2), compared case-insensitively (SET-2).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Email(String);

impl Email {
    // home of MIG-2
    pub fn parse(s: &str) -> Result<Self, Error> {
        let s = s.trim();
        let bad = || Error::invalid("invalid_email");
        if s.len() > 254 || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad());
        }
        let (local, domain) = s.split_once('@').ok_or_else(bad)?;
        if local.is_empty()
            || local.len() > 64
            || domain.is_empty()
            || domain.contains('@')
            || !domain.contains('.')
            || domain.starts_with('.')
            || domain.ends_with('.')
            || domain.contains("..")
        {
            return Err(bad());
        }
        Ok(Self(s.to_string()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    pub fn local_part(&self) -> &str {
        self.0.split('@').next().unwrap_or_default()
    }
    /// SET-2: e-mail matches case-insensitively.
    pub fn matches(&self, other: &str) -> bool {
        self.0.to_lowercase() == other.trim().to_lowercase()
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A person's name exactly as registered (MIG-4): no trimming inside, no
/// normalisation; half-width and full-width spaces are different characters.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct PersonName(String);

impl PersonName {
    // home of MIG-4
    pub fn parse(s: &str) -> Result<Self, Error> {
        if s.trim().is_empty() || s.chars().count() > 100 || s.chars().any(char::is_control) {
            return Err(Error::invalid("invalid_name"));
        }
        Ok(Self(s.to_string()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password in memory. Never printed: `Debug` hides it, there is no `Display`
/// and no `Serialize` (PW-4, MSG-2).
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Password(String);

impl Password {
    /// Longer input is refused before it reaches argon2.
    pub const MAX_BYTES: usize = 1024;
    pub fn parse(s: &str) -> Result<Self, Error> {
        if s.is_empty() || s.len() > Self::MAX_BYTES {
            return Err(Error::invalid("invalid_password"));
        }
        Ok(Self(s.to_string()))
    }
    /// A new password as typed: one that cannot even be parsed (empty,
    /// over 1024 bytes) breaks the length rule (PW-1).
    pub fn parse_new(s: &str) -> Result<Self, Error> {
        Self::parse(s).map_err(|_| Error::WeakPassword {
            unmet: vec!["length"],
        })
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    // home of MSG-2
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

/// Contract (tenant) ID: `econ` + digits, a 15-digit number, or similar
/// operator-assigned ASCII identifiers.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct TenantId(String);

/// An operator's identifier as entered: trimmed, 1-64 ASCII letters,
/// digits, `-` or `_`; anything else is `code` with `message`.
pub fn plain_id<'s>(s: &'s str, code: &'static str) -> Result<&'s str, Error> {
    let s = s.trim();
    let plain = |c: char| c.is_ascii_alphanumeric() || c == '-' || c == '_';
    if s.is_empty() || s.len() > 64 || !s.chars().all(plain) {
        return Err(Error::invalid(code));
    }
    Ok(s)
}

impl TenantId {
    pub fn parse(s: &str) -> Result<Self, Error> {
        Ok(Self(plain_id(s, "invalid_tenant_id")?.to_string()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Legacy user ID (`ecid1234567890`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Ecid(String);

impl Ecid {
    pub fn parse(s: &str) -> Result<Self, Error> {
        let s = s.trim();
        if s.is_empty() || s.len() > 64 || !s.chars().all(|c| c.is_ascii_alphanumeric()) {
            return Err(Error::invalid("invalid_ecid"));
        }
        Ok(Self(s.to_string()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// ISO 3166 codes accepted for `country` besides the calling code itself.
pub const COUNTRY_CODES: &[(&str, &str)] = &[
    ("JP", "81"),
    ("US", "1"),
    ("CA", "1"),
    ("GB", "44"),
    ("KR", "82"),
    ("CN", "86"),
    ("HK", "852"),
    ("TW", "886"),
    ("SG", "65"),
    ("AU", "61"),
    ("DE", "49"),
    ("FR", "33"),
];

/// Calling codes whose national numbers are dialled at home with a trunk
/// 0 that E.164 leaves out (and whose numbers never begin with 0 after it).
const TRUNK_ZERO: [&str; 8] = ["81", "44", "82", "86", "886", "61", "49", "33"];

/// MFA-6: a mobile number for SMS codes, kept as E.164 (`+819000000000`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Phone(String);

impl Phone {
    // home of MFA-6
    /// E.164 (`+819000000000`), or a country code (`81`, `+81`, `JP`) and the
    /// national number, kept as E.164. Forgiving where it is safe: full-width
    /// digits and `＋`, hyphens, spaces, dots and brackets are dropped, and
    /// one trunk 0 of a national number (`090-1234-5678`) is left out, so
    /// the page's "without hyphens or the leading 0" is a hint, not a wall.
    pub fn parse(phone: &str, country: Option<&str>) -> Result<Self, Error> {
        let phone = Self::tidy(phone);
        // `reason` picks the words of the answer (the edge's `err.<code>.<reason>`).
        let bad = |code, reason: &str| Err(Error::invalid(code).with("reason", reason));
        let country = country.map(|c| {
            let c = c.trim();
            COUNTRY_CODES
                .iter()
                .find(|(iso, _)| iso.eq_ignore_ascii_case(c))
                .map_or(c, |(_, code)| *code)
        });
        let (cc, national) = match (phone.strip_prefix('+'), country) {
            // Typed in full: the number says its own country (a trunk 0 after
            // a known country code, `+81 090…`, is left out as well).
            (Some(full), _) => ("", Self::without_trunk_zero(full)),
            (None, Some(c)) if !c.is_empty() => (c.strip_prefix('+').unwrap_or(c), phone.clone()),
            _ => return bad("invalid_phone", "no_country"),
        };
        let by_country = !phone.starts_with('+');
        if (by_country && cc.is_empty())
            || !cc.bytes().all(|b| b.is_ascii_digit())
            || cc.len() > 3
            || cc.starts_with('0')
        {
            return bad("invalid_country_code", "digits");
        }
        if national.is_empty() || !national.bytes().all(|b| b.is_ascii_digit()) {
            return bad("invalid_phone", "not_digits");
        }
        // One trunk 0 is how the number is written at home; two are an
        // international prefix, which the country code replaces.
        let national = match national.as_str().strip_prefix('0') {
            Some(rest) if by_country && TRUNK_ZERO.contains(&cc) => rest,
            _ => national.as_str(),
        };
        if by_country && national.starts_with('0') {
            return bad("phone_leading_zero", "national");
        }
        let digits = format!("{cc}{national}");
        if !(8..=15).contains(&digits.len()) || digits.starts_with('0') {
            return bad("invalid_phone", "length");
        }
        Ok(Self(format!("+{digits}")))
    }

    /// `81090…` → `8190…`: the national trunk 0 some people keep after a
    /// country code of [`TRUNK_ZERO`].
    fn without_trunk_zero(full: &str) -> String {
        for cc in TRUNK_ZERO {
            if let Some(rest) = full.strip_prefix(cc).and_then(|r| r.strip_prefix('0')) {
                return format!("{cc}{rest}");
            }
        }
        full.to_string()
    }

    /// What people type around the digits, gone: full-width digits and `＋`
    /// as ASCII; hyphens and dashes, spaces, dots and brackets dropped. Any
    /// other character stays (and is refused).
    fn tidy(phone: &str) -> String {
        phone
            .trim()
            .chars()
            .filter_map(|c| match c {
                '０'..='９' => char::from_u32(c as u32 - '０' as u32 + '0' as u32),
                '＋' => Some('+'),
                '-' | '‐' | '‑' | '‒' | '–' | '—' | '―' | '−' | '－' | 'ー' | 'ｰ' => {
                    None
                }
                ' ' | '\u{3000}' | '\t' | '.' | '(' | ')' | '（' | '）' => None,
                c => Some(c),
            })
            .collect()
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
    /// For pages: the country code and the last four digits only.
    pub fn masked(e164: &str) -> String {
        let n = e164.len();
        if n < 8 {
            return "****".into();
        }
        format!("{}****{}", &e164[..3], &e164[n - 4..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // MFA-6
    #[test]
    fn mfa_6_national_number_without_leading_zero_becomes_e164() {
        assert_eq!(
            Phone::parse("9000000000", Some("81")).unwrap().as_str(),
            "+819000000000"
        );
        assert_eq!(
            Phone::parse("9012345678", Some("+81")).unwrap().as_str(),
            "+819012345678"
        );
        assert_eq!(
            Phone::parse("9012345678", Some("JP")).unwrap().as_str(),
            "+819012345678"
        );
        assert_eq!(
            Phone::parse("+819012345678", None).unwrap().as_str(),
            "+819012345678"
        );
        let code = |p: &str, c: Option<&str>| match Phone::parse(p, c) {
            Err(Error::Invalid { code, .. }) => code,
            other => panic!("{p}: {other:?}"),
        };
        // MFA-6 as a hint: what Japanese users type becomes E.164.
        for typed in [
            "090-1234-5678",
            "09012345678",
            "０９０－１２３４－５６７８",
            " 090 1234 5678 ",
            "(090) 1234-5678",
            "９０１２３４５６７８",
        ] {
            let p = Phone::parse(typed, Some("81")).unwrap_or_else(|e| panic!("{typed}: {e:?}"));
            assert_eq!(p.as_str(), "+819012345678", "{typed}");
        }
        assert_eq!(
            Phone::parse("＋８１ ９０-１２３４-５６７８", None)
                .unwrap()
                .as_str(),
            "+819012345678"
        );
        assert_eq!(
            Phone::parse("+81 (0)90-1234-5678", None).unwrap().as_str(),
            "+819012345678"
        );
        assert_eq!(code("090-12a4-5678", Some("81")), "invalid_phone");
        assert_eq!(code("---", Some("81")), "invalid_phone");
        // Only where the trunk 0 is one: elsewhere a leading 0 is refused.
        assert_eq!(code("0612345678", Some("39")), "phone_leading_zero");
        assert_eq!(
            Phone::parse("+39 06 1234 5678", None).unwrap().as_str(),
            "+390612345678"
        );
        // Two zeros are an international prefix, not a trunk 0.
        assert_eq!(code("0090000000", Some("81")), "phone_leading_zero");
        assert_eq!(code("9000000000", None), "invalid_phone");
        assert_eq!(
            Phone::parse("+819012345678", Some("81")).unwrap().as_str(),
            "+819012345678"
        );
        assert_eq!(code("9000000000", Some("0081")), "invalid_country_code");
        assert_eq!(code("9000000000", Some("+")), "invalid_country_code");
        assert_eq!(code("9000000000", Some("++81")), "invalid_country_code");
        assert_eq!(code("123", Some("81")), "invalid_phone");
        assert_eq!(Phone::masked("+819012345678"), "+81****5678");
    }

    #[test]
    fn password_hides_itself_in_debug() {
        let p = Password::parse("Hunter2-Secret").unwrap();
        let shown = format!("{p:?}");
        assert!(!shown.contains("Hunter2"), "{shown}");
    }

    // LOG-1
    #[test]
    fn login_id_key_is_case_insensitive_log_1() {
        let a = LoginId::parse("Mixed.Case@Example.com").unwrap();
        let b = LoginId::parse("mixed.case@example.COM").unwrap();
        assert_eq!(a.key(), b.key());
        assert_eq!(a.as_str(), "Mixed.Case@Example.com");
        assert!(LoginId::parse("has space").is_err());
        assert!(LoginId::parse("").is_err());
    }

    #[test]
    fn email_parses_and_matches_case_insensitively() {
        let e = Email::parse("Mixed.Case@Example.com").unwrap();
        assert_eq!(e.as_str(), "Mixed.Case@Example.com"); // MIG-2: unchanged
        assert!(e.matches("mixed.case@example.com"));
        for bad in [
            "", "a", "a@b", "@b.c", "a@@b.c", "a b@c.d", "a@.c", "a@b..c",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad}");
        }
    }

    // MIG-4
    #[test]
    fn names_are_kept_exactly_mig_4() {
        let n = PersonName::parse("山田　太郎").unwrap();
        assert_eq!(n.as_str(), "山田　太郎");
        assert_ne!(n, PersonName::parse("山田 太郎").unwrap());
        assert!(PersonName::parse("  ").is_err());
    }
}
