//! Japanese and English (SES-3, MSG-1).

use std::collections::HashMap;
use std::sync::LazyLock;

use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Lang {
    #[default]
    Ja,
    En,
}

impl Lang {
    pub fn parse(s: &str) -> Option<Self> {
        match s.trim().to_ascii_lowercase().as_str() {
            "ja" | "ja-jp" => Some(Self::Ja),
            "en" | "en-us" | "en-gb" => Some(Self::En),
            _ => None,
        }
    }
    /// The first of ja/en in an `Accept-Language` header, by weight; Japanese by default.
    pub fn from_accept_language(h: &str) -> Self {
        let mut best: Option<(f32, Self)> = None;
        for part in h.split(',') {
            let mut it = part.split(';');
            let tag = it.next().unwrap_or("").trim().to_ascii_lowercase();
            let q = it
                .find_map(|p| {
                    p.trim()
                        .strip_prefix("q=")
                        .and_then(|v| v.parse::<f32>().ok())
                })
                .unwrap_or(1.0);
            let lang = match tag.split('-').next() {
                Some("ja") => Self::Ja,
                Some("en") => Self::En,
                _ => continue,
            };
            if best.is_none_or(|(bq, _)| q > bq) {
                best = Some((q, lang));
            }
        }
        best.map_or(Self::Ja, |(_, l)| l)
    }
    pub fn code(self) -> &'static str {
        match self {
            Self::Ja => "ja",
            Self::En => "en",
        }
    }
    pub fn other(self) -> Self {
        match self {
            Self::Ja => Self::En,
            Self::En => Self::Ja,
        }
    }
}

/// A text catalogue: `key<TAB>ja<TAB>en` lines (`#` starts a comment),
/// read once from the file compiled in. Every key has both languages.
pub struct Catalogue(HashMap<&'static str, [&'static str; 2]>);

impl Catalogue {
    /// Parses a catalogue; a malformed line or a key given twice is a bug
    /// in the file, which the catalogue's own test catches.
    pub fn parse(text: &'static str) -> Result<Self, String> {
        let mut map = HashMap::new();
        for (n, line) in text.lines().enumerate() {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let mut parts = line.split('\t');
            let (Some(key), Some(ja), Some(en), None) =
                (parts.next(), parts.next(), parts.next(), parts.next())
            else {
                return Err(format!("line {}: not key, ja, en", n + 1));
            };
            if [key, ja, en].iter().any(|p| p.trim().is_empty()) {
                return Err(format!("line {}: an empty field", n + 1));
            }
            if map.insert(key, [ja, en]).is_some() {
                return Err(format!("line {}: {key} twice", n + 1));
            }
        }
        Ok(Self(map))
    }

    /// A catalogue compiled into the binary (`include_str!`), whose own
    /// test proves it parses.
    pub fn compiled(text: &'static str) -> Self {
        Self::parse(text).expect("a compiled-in catalogue parses")
    }

    /// The text of `key`, if the catalogue has it.
    pub fn get(&self, lang: Lang, key: &str) -> Option<&'static str> {
        self.0.get(key).map(|[ja, en]| match lang {
            Lang::Ja => *ja,
            Lang::En => *en,
        })
    }
}

/// The domain's own texts (`i18n.tsv`): what a domain refusal says (cases)
/// and the labels a notice mail names. Page strings live in the web edge
/// (`tobira_web::i18n`).
static DOMAIN: LazyLock<Catalogue> =
    LazyLock::new(|| Catalogue::compiled(include_str!("i18n.tsv")));

/// The domain's text of `key`; a missing key shows itself as "??".
pub fn t(lang: Lang, key: &str) -> &'static str {
    DOMAIN.get(lang, key).unwrap_or("??")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_domain_catalogue_parses_and_refuses_a_bad_line() {
        assert!(Catalogue::parse(include_str!("i18n.tsv")).is_ok());
        assert_eq!(t(Lang::En, "enroll.totp"), "Authenticator app (TOTP)");
        assert_eq!(t(Lang::En, "no.such.key"), "??");
        assert!(Catalogue::parse("a\tb").is_err());
        assert!(Catalogue::parse("a\tb\t ").is_err());
        assert!(Catalogue::parse("a\tb\tc\na\td\te").is_err());
    }

    #[test]
    fn accept_language_picks_by_weight() {
        assert_eq!(
            Lang::from_accept_language("en-US,en;q=0.9,ja;q=0.8"),
            Lang::En
        );
        assert_eq!(Lang::from_accept_language("ja,en;q=0.5"), Lang::Ja);
        assert_eq!(Lang::from_accept_language("fr"), Lang::Ja);
        assert_eq!(Lang::from_accept_language("fr,en;q=0.1"), Lang::En);
    }
}
