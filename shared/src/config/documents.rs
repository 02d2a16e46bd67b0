//! TOS-1, CLM-2: the documents a user consents to — the terms of use and
//! the privacy policy — with their versions and where to read them: the
//! operator's own pages (`TOBIRA_TERMS_URL`, `TOBIRA_PRIVACY_URL`, `{lang}`
//! standing for `ja` or `en`) or the portal's pages `/legal/terms` and
//! `/legal/privacy`.

use super::ConfigError;
use crate::i18n::Lang;

/// A document to consent to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Document {
    Terms,
    Privacy,
}

impl Document {
    pub const ALL: [Document; 2] = [Document::Terms, Document::Privacy];
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Terms => "terms",
            Self::Privacy => "privacy",
        }
    }
    /// The portal's own page of the document.
    pub fn portal_path(self) -> &'static str {
        match self {
            Self::Terms => "/legal/terms",
            Self::Privacy => "/legal/privacy",
        }
    }
}

/// The documents' versions and addresses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Documents {
    /// TOS-1: the current terms version (`TOBIRA_TERMS_VERSION`).
    pub terms_version: String,
    /// The current privacy policy version (`TOBIRA_PRIVACY_VERSION`).
    pub privacy_version: String,
    pub terms_url: Option<String>,
    pub privacy_url: Option<String>,
}

impl Default for Documents {
    fn default() -> Self {
        Self {
            terms_version: "2024-07".into(),
            privacy_version: "2024-07".into(),
            terms_url: None,
            privacy_url: None,
        }
    }
}

impl Documents {
    pub(super) fn read(get: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let d = Self::default();
        Ok(Self {
            terms_version: get("TOBIRA_TERMS_VERSION").unwrap_or(d.terms_version),
            privacy_version: get("TOBIRA_PRIVACY_VERSION").unwrap_or(d.privacy_version),
            terms_url: url(get, "TOBIRA_TERMS_URL")?,
            privacy_url: url(get, "TOBIRA_PRIVACY_URL")?,
        })
    }

    pub fn version(&self, doc: Document) -> &str {
        match doc {
            Document::Terms => &self.terms_version,
            Document::Privacy => &self.privacy_version,
        }
    }

    /// Where to read `doc` in `lang`: the operator's page, or the portal's.
    pub fn url(&self, doc: Document, lang: Lang) -> String {
        let configured = match doc {
            Document::Terms => &self.terms_url,
            Document::Privacy => &self.privacy_url,
        };
        match configured {
            Some(u) => u.replace("{lang}", lang.code()),
            None => format!("{}?lang={}", doc.portal_path(), lang.code()),
        }
    }
}

/// An operator's document address: `https://` and nothing a page could
/// not put in an `href` as it is.
fn url(
    get: &dyn Fn(&str) -> Option<String>,
    name: &'static str,
) -> Result<Option<String>, ConfigError> {
    let Some(v) = get(name) else {
        return Ok(None);
    };
    let v = v.trim().to_string();
    let ok = v.len() > "https://".len()
        && v.starts_with("https://")
        && v.len() <= 500
        && !v
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '"' || c == '<' || c == '>');
    if ok {
        Ok(Some(v))
    } else {
        Err(ConfigError::Invalid {
            name,
            value: v,
            expected: "an https:// address ({lang} is replaced by ja or en)",
        })
    }
}
