//! What the attachment tests (CASE-6) share: a browser's multipart upload
//! to the local file store, a download through its link, and a file store
//! whose objects are what their names say.

use std::sync::Arc;

use http_body_util::Full;
use hyper::body::Bytes;
use tobira::cases::{Confirmation, UploadTicket};
use tobira::files::{FileStore, UploadForm};
use tobira::model::User;
use tobira_local::files::{Refused, Uploaded};
use tobira_web::i18n::Lang;

use crate::cases_support::*;
use crate::support::{ctx, Harness};

const BOUNDARY: &str = "----tobira-test-boundary";

/// The multipart body a browser posts for `form` with the file `name`.
pub fn multipart(form: &UploadForm, name: &str, bytes: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    for (k, v) in &form.fields {
        body.extend_from_slice(
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n{v}\r\n")
                .as_bytes(),
        );
    }
    body.extend_from_slice(
        format!(
            "--{BOUNDARY}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{name}\"\r\nContent-Type: application/pdf\r\n\r\n"
        )
        .as_bytes(),
    );
    body.extend_from_slice(bytes);
    body.extend_from_slice(format!("\r\n--{BOUNDARY}--\r\n").as_bytes());
    body
}

/// Post the file to the local store as the browser does.
pub async fn upload(
    h: &Harness,
    form: &UploadForm,
    name: &str,
    bytes: &[u8],
) -> Result<Uploaded, Refused> {
    let ct = format!("multipart/form-data; boundary={BOUNDARY}");
    let body = Full::new(Bytes::from(multipart(form, name, bytes)));
    h.files.upload(Some(&ct), body).await
}

/// An upload the store took: its key and ETag.
pub async fn uploaded(h: &Harness, t: &UploadTicket, name: &str, bytes: &[u8]) -> (String, String) {
    match upload(h, &t.form, name, bytes).await.unwrap() {
        Uploaded::Created { key, etag } => (key, etag),
        other => panic!("{other:?}"),
    }
}

pub fn code(r: tobira::Result<impl std::fmt::Debug>) -> (u16, String) {
    let e = r.expect_err("refused");
    (tobira_web::errors::status(&e), e.code().to_string())
}

pub fn confirmation(key: &str) -> Confirmation<'_> {
    Confirmation {
        key,
        ..Default::default()
    }
}

/// The bytes behind a download link of the local store, and its headers.
pub async fn fetch(h: &Harness, link: &str) -> (Vec<u8>, Vec<(&'static str, String)>) {
    let query = link.split_once('?').unwrap().1;
    let (path, headers) = h.files.download(query).unwrap();
    (std::fs::read(path).unwrap(), headers)
}

/// A file store whose objects are what their names say: `empty.*` has no
/// bytes, `big.*` one more than `max`, `none.*` is not there, any other
/// 10 bytes. For the confirmation's own checks, which a store that keeps
/// its form's limits never lets a file reach.
pub struct NamedSizes {
    pub max: u64,
    pub deleted: std::sync::Mutex<Vec<String>>,
    /// Every `keep`: the key, and kept (`true`) or pending again.
    pub kept: std::sync::Mutex<Vec<(String, bool)>>,
}

#[async_trait::async_trait]
impl FileStore for NamedSizes {
    async fn upload_form(
        &self,
        _: &tobira::files::UploadPolicy,
    ) -> Result<UploadForm, tobira::files::FileError> {
        Ok(UploadForm {
            action: "/nowhere".into(),
            fields: Vec::new(),
        })
    }
    async fn head(
        &self,
        key: &str,
    ) -> Result<Option<tobira::files::Stored>, tobira::files::FileError> {
        let name = key.rsplit('/').next().unwrap_or("");
        let size = match name.split('.').next() {
            Some("none") => return Ok(None),
            Some("empty") => 0,
            Some("big") => self.max + 1,
            _ => 10,
        };
        Ok(Some(tobira::files::Stored {
            size,
            etag: "\"e\"".into(),
            version: None,
        }))
    }
    async fn download_link(
        &self,
        _: &tobira::files::Download<'_>,
    ) -> Result<String, tobira::files::FileError> {
        Ok("/nowhere".into())
    }
    async fn delete(&self, o: tobira::files::Object<'_>) -> Result<(), tobira::files::FileError> {
        self.deleted.lock().unwrap().push(o.key.to_string());
        Ok(())
    }
    async fn keep(
        &self,
        o: tobira::files::Object<'_>,
        kept: bool,
    ) -> Result<(), tobira::files::FileError> {
        self.kept.lock().unwrap().push((o.key.to_string(), kept));
        Ok(())
    }
    fn origin(&self) -> Option<String> {
        None
    }
}

/// A harness whose file store is [`NamedSizes`], a member of tenant A, an
/// open case and the prefix of an upload of theirs to it.
pub async fn named_sizes() -> (Harness, Arc<NamedSizes>, User, String, String) {
    let mut h = Harness::new();
    let store = Arc::new(NamedSizes {
        max: h.app.config.cases.attachments.max_bytes,
        deleted: Default::default(),
        kept: Default::default(),
    });
    h.app.files = store.clone();
    let u = member(&h.app, "sizes@example.com", TENANT_A, false, Lang::En).await;
    let case = h
        .app
        .create_case(&u, &inquiry("s", "b"), &ctx())
        .await
        .unwrap();
    let prefix = format!(
        "att/{TENANT_A}/{}/{}/01KB0000000000000000000000/",
        case.id, u.id
    );
    (h, store, u, case.id, prefix)
}
