//! The file store port (CASE-6): where case attachments live. Files never
//! pass through a function: the browser posts a file straight to the store
//! with a form the store signed ([`FileStore::upload_form`]), which pins
//! the key's prefix, the size range, the content type and where the store
//! sends the browser back; downloads are short-lived signed links. In AWS
//! the store is S3 (`tobira-aws`), locally a directory of the data
//! (`tobira-local`). Functions that attach nothing get [`Unwired`].

use crate::clock::Timestamp;

/// The one content type an upload is stored with: nothing the store holds
/// is ever served as a page. The type a download is given comes from the
/// configured allow-list (`config::AttachmentPolicy`), by the name's extension.
pub const STORED_TYPE: &str = "application/octet-stream";

/// What an upload form allows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UploadPolicy {
    /// The key's prefix; the browser's file name (`${filename}`) follows.
    pub prefix: String,
    /// Bytes, at least 1.
    pub max_bytes: u64,
    /// Where the store sends the browser after the upload (303), with
    /// `bucket`, `key` and `etag` added to the query; `None`: the store
    /// answers 201 with the key and ETag (a script's or an API client's
    /// upload, which then confirms it).
    pub redirect: Option<String>,
    pub now: Timestamp,
    pub expires: Timestamp,
}

/// A form the browser posts (multipart) to `action`: the hidden `fields`
/// in this order, then the file as the field `file`.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize)]
pub struct UploadForm {
    pub action: String,
    pub fields: Vec<(String, String)>,
}

/// An object the store holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stored {
    pub size: u64,
    /// The store's checksum of the bytes (S3's ETag).
    pub etag: String,
    /// The version that holds these bytes (S3's VersionId, the bucket is
    /// versioned): what is registered is never replaced by a later upload
    /// to the same key. `None` where a key is written once (locally).
    pub version: Option<String>,
}

/// One object: its key, and the version of it (if the store versions).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Object<'a> {
    pub key: &'a str,
    pub version: Option<&'a str>,
}

/// A download link's terms.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Download<'a> {
    pub object: Object<'a>,
    /// The original name, for `Content-Disposition: attachment`.
    pub name: &'a str,
    pub content_type: &'a str,
    pub now: Timestamp,
    pub expires: Timestamp,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileError {
    /// The store did not answer as it should; the message is for the log.
    Unavailable(String),
}

impl std::fmt::Display for FileError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Unavailable(m) => write!(f, "file store unavailable: {m}"),
        }
    }
}

#[async_trait::async_trait]
pub trait FileStore: Send + Sync {
    /// The signed form for one upload.
    async fn upload_form(&self, policy: &UploadPolicy) -> Result<UploadForm, FileError>;
    /// The object at `key`, if there is one.
    async fn head(&self, key: &str) -> Result<Option<Stored>, FileError>;
    /// A link that downloads `key` until `expires`, as an attachment.
    async fn download_link(&self, d: &Download<'_>) -> Result<String, FileError>;
    /// Remove an upload that was refused; no object is no error.
    async fn delete(&self, o: Object<'_>) -> Result<(), FileError>;
    /// The upload is confirmed (`true`): the store must keep it; or it was
    /// not registered after all (`false`): pending again. An upload is
    /// stored as pending, and pending objects expire.
    async fn keep(&self, o: Object<'_>, kept: bool) -> Result<(), FileError>;
    /// The origin forms post to (for the pages' `form-action`), if it is
    /// not the portal's own.
    fn origin(&self) -> Option<String>;
}

/// The file store of a function that has none: every call fails closed.
pub struct Unwired;

const UNWIRED: &str = "this function has no file store";

#[async_trait::async_trait]
impl FileStore for Unwired {
    async fn upload_form(&self, _: &UploadPolicy) -> Result<UploadForm, FileError> {
        Err(FileError::Unavailable(UNWIRED.into()))
    }
    async fn head(&self, _: &str) -> Result<Option<Stored>, FileError> {
        Err(FileError::Unavailable(UNWIRED.into()))
    }
    async fn download_link(&self, _: &Download<'_>) -> Result<String, FileError> {
        Err(FileError::Unavailable(UNWIRED.into()))
    }
    async fn delete(&self, _: Object<'_>) -> Result<(), FileError> {
        Err(FileError::Unavailable(UNWIRED.into()))
    }
    async fn keep(&self, _: Object<'_>, _: bool) -> Result<(), FileError> {
        Err(FileError::Unavailable(UNWIRED.into()))
    }
    fn origin(&self) -> Option<String> {
        None
    }
}

/// RFC 6266 / RFC 5987: `attachment` with an ASCII fallback name (every
/// other character, quote and backslash as `_`) and the exact name as
/// UTF-8, percent-encoded. Japanese names survive; nothing in the name can
/// end the header or add a parameter.
pub fn content_disposition(name: &str) -> String {
    let fallback: String = name
        .chars()
        .map(|c| match c {
            ' '..='~' if c != '"' && c != '\\' && c != '%' => c,
            _ => '_',
        })
        .collect();
    let mut encoded = String::new();
    for b in name.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' => encoded.push(b as char),
            b'!' | b'#' | b'$' | b'&' | b'+' | b'-' | b'.' | b'^' | b'_' | b'`' | b'|' | b'~' => {
                encoded.push(b as char)
            }
            _ => encoded.push_str(&format!("%{b:02X}")),
        }
    }
    format!("attachment; filename=\"{fallback}\"; filename*=UTF-8''{encoded}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_6_disposition_keeps_japanese_names_and_cannot_be_broken_out_of() {
        assert_eq!(
            content_disposition("月次レポート 11月.pdf"),
            "attachment; filename=\"______ 11_.pdf\"; filename*=UTF-8''%E6%9C%88%E6%AC%A1%E3%83%AC%E3%83%9D%E3%83%BC%E3%83%88%2011%E6%9C%88.pdf"
        );
        let evil = content_disposition("a\";b=c\\d%.txt");
        assert!(evil.starts_with(
            "attachment; filename=\"a_;b=c_d_.txt\"; filename*=UTF-8''a%22%3Bb%3Dc%5Cd%25.txt"
        ));
    }
}
