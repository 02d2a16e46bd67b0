//! CASE-6: what a case attachment may be — its size, its types (by the
//! name's extension; the type a download is given comes from here, never
//! from the uploader), and how long an upload form stays valid.

use std::time::Duration;

use super::ConfigError;

/// 2 GiB: the customer portal guide's limit per file (seed 002 4.6).
pub const DEFAULT_MAX_BYTES: u64 = 2 * 1024 * 1024 * 1024;

/// Documents, spreadsheets, images, text and archives a support desk reads.
const DEFAULT_TYPES: &str = "pdf=application/pdf,txt=text/plain,csv=text/csv,log=text/plain,\
png=image/png,jpg=image/jpeg,jpeg=image/jpeg,gif=image/gif,zip=application/zip,\
xlsx=application/vnd.openxmlformats-officedocument.spreadsheetml.sheet,\
docx=application/vnd.openxmlformats-officedocument.wordprocessingml.document,\
pptx=application/vnd.openxmlformats-officedocument.presentationml.presentation";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AttachmentPolicy {
    /// Bytes per file, at least 1.
    pub max_bytes: u64,
    /// Lower-case extension → content type, in the configured order.
    pub types: Vec<(String, String)>,
    /// How long an upload form may be posted.
    pub upload_window: Duration,
    /// How long a download link works.
    pub link_ttl: Duration,
}

impl Default for AttachmentPolicy {
    fn default() -> Self {
        Self {
            max_bytes: DEFAULT_MAX_BYTES,
            types: parse_types(DEFAULT_TYPES).expect("the default types parse"),
            upload_window: Duration::from_secs(3600),
            link_ttl: Duration::from_secs(300),
        }
    }
}

impl AttachmentPolicy {
    pub(super) fn read(get: &dyn Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let d = Self::default();
        let max_bytes = match get("TOBIRA_ATTACHMENT_MAX_BYTES") {
            None => d.max_bytes,
            // S3 takes at most 5 GB in one POST.
            Some(v) => v
                .trim()
                .parse::<u64>()
                .ok()
                .filter(|n| (1..=5_000_000_000).contains(n))
                .ok_or(ConfigError::Invalid {
                    name: "TOBIRA_ATTACHMENT_MAX_BYTES",
                    value: v,
                    expected: "a number of bytes from 1 to 5000000000",
                })?,
        };
        let types = match get("TOBIRA_ATTACHMENT_TYPES") {
            None => d.types,
            Some(v) => parse_types(&v).ok_or(ConfigError::Invalid {
                name: "TOBIRA_ATTACHMENT_TYPES",
                value: v,
                expected: "distinct `extension=type/subtype` pairs separated by commas",
            })?,
        };
        Ok(Self {
            max_bytes,
            types,
            ..d
        })
    }

    /// The content type of a file called `name`, if its extension is allowed.
    pub fn type_of(&self, name: &str) -> Option<&str> {
        let (_, ext) = name.rsplit_once('.')?;
        let ext = ext.to_ascii_lowercase();
        self.types
            .iter()
            .find(|(e, _)| *e == ext)
            .map(|(_, t)| t.as_str())
    }

    /// The allowed extensions, for the pages (`.pdf, .png, …`).
    pub fn extensions(&self) -> String {
        let list: Vec<String> = self.types.iter().map(|(e, _)| format!(".{e}")).collect();
        list.join(", ")
    }
}

fn parse_types(v: &str) -> Option<Vec<(String, String)>> {
    let mut out: Vec<(String, String)> = Vec::new();
    for pair in v.split(',') {
        let (ext, ty) = pair.trim().split_once('=')?;
        let ext = ext.trim().trim_start_matches('.').to_ascii_lowercase();
        let ty = ty.trim().to_ascii_lowercase();
        let token = |s: &str| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"!#$&-^_.+".contains(&b))
        };
        let (main, sub) = ty.split_once('/')?;
        // A page, a script or a document a browser runs (XML with its
        // stylesheets, SVG) is never served from the store.
        let active = ["html", "script", "xsl", "svg"]
            .iter()
            .any(|w| sub.contains(w))
            || sub == "xml"
            || sub.ends_with("+xml");
        if !token(&ext) || !token(main) || !token(sub) || active {
            return None;
        }
        if out.iter().any(|(e, _)| *e == ext) {
            return None;
        }
        out.push((ext, ty));
    }
    (!out.is_empty()).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_6_types_come_from_the_extension_and_never_include_pages() {
        let p = AttachmentPolicy::default();
        assert_eq!(p.type_of("報告書.PDF"), Some("application/pdf"));
        assert_eq!(p.type_of("a.tar.zip"), Some("application/zip"));
        assert_eq!(p.type_of("page.html"), None);
        assert_eq!(p.type_of("noext"), None);
        assert!(parse_types("html=text/html").is_none());
        assert!(parse_types("x=application/xhtml+xml").is_none());
        assert!(parse_types("svg=image/svg+xml").is_none());
        for active in [
            "application/javascript",
            "text/ecmascript",
            "application/xml",
            "text/xsl",
        ] {
            assert!(parse_types(&format!("x={active}")).is_none(), "{active}");
        }
        assert!(parse_types("pdf=application/pdf,PDF=application/pdf").is_none());
        assert!(parse_types("pdf").is_none());
        let get = |k: &str| (k == "TOBIRA_ATTACHMENT_MAX_BYTES").then(|| "0".to_string());
        assert!(AttachmentPolicy::read(&get).is_err());
    }
}
