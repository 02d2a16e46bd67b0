//! The local file store (CASE-6): what S3 is in AWS, for the local portal
//! and the tests. It keeps S3's contract: the browser posts the file
//! straight to it (`POST /_files/upload`, multipart, streamed to disk)
//! with a form whose policy the store signed — key prefix, size range,
//! content type, where to send the browser back, expiry — and downloads
//! are signed, expiring links (`GET /_files/get`). Objects are kept under
//! the data directory as `files/<SHA-256 of the key>`: no key can name a
//! path outside it.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hyper::body::Bytes;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use tobira::clock::{Clock, Timestamp};
use tobira::config::SecretKey;
use tobira::files::{
    content_disposition, Download, FileError, FileStore, Object, Stored, UploadForm, UploadPolicy,
    STORED_TYPE,
};
use tobira::random::{ct_eq, hmac_sha256};

mod multipart;
mod serve;

use multipart::{disposition, Reader};
pub use serve::{file_route, FileBody};

pub const UPLOAD_PATH: &str = "/_files/upload";
pub const GET_PATH: &str = "/_files/get";

/// The form fields before the file: 64 KiB in all, as S3's limit for them.
const FIELDS_MAX: usize = 64 * 1024;

/// Fields before the file: a form has 5 (S3's up to 10).
const PARTS_MAX: usize = 16;

pub struct LocalFiles {
    root: PathBuf,
    key: SecretKey,
    clock: Arc<dyn Clock>,
    /// Where forms post and links point: the portal's own origin (`None`),
    /// or another (`TOBIRA_LOCAL_FILES_ORIGIN`), as S3 is another site.
    origin: Option<String>,
}

/// What an upload form allows (signed, in the form's `policy` field).
#[derive(Serialize, Deserialize)]
struct Policy {
    prefix: String,
    max: u64,
    redirect: Option<String>,
    expires: i64,
}

/// An answer's headers: name and value.
pub type Headers = Vec<(&'static str, String)>;

/// A stored upload: where the browser goes next, or (without a redirect)
/// the key and ETag, as S3's 201 answers them.
#[derive(Debug)]
pub enum Uploaded {
    Redirect(String),
    Created { key: String, etag: String },
}

impl Uploaded {
    /// S3's 201 body.
    pub fn xml(key: &str, etag: &str) -> String {
        let esc = |s: &str| {
            s.replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('"', "&quot;")
        };
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<PostResponse><Bucket>local</Bucket><Key>{}</Key><ETag>{}</ETag></PostResponse>",
            esc(key),
            esc(etag)
        )
    }
}

/// A refusal, as S3 words it: its code and a sentence.
#[derive(Debug)]
pub struct Refused(pub u16, pub &'static str, pub String);

fn refused(status: u16, code: &'static str, why: impl Into<String>) -> Refused {
    Refused(status, code, why.into())
}

fn io(e: std::io::Error) -> Refused {
    tracing::error!(error = %e, "local file store");
    refused(500, "InternalError", "the file could not be stored")
}

impl LocalFiles {
    pub fn new(root: PathBuf, key: SecretKey, clock: Arc<dyn Clock>) -> Self {
        Self {
            root,
            key,
            clock,
            origin: None,
        }
    }

    /// The store served at `origin` (`http://localhost:3000` for a portal
    /// at `http://127.0.0.1:3000`: another site, as S3 is).
    pub fn at(mut self, origin: Option<String>) -> Self {
        self.origin = origin;
        self
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.origin.as_deref().unwrap_or(""))
    }

    fn mac(&self, purpose: &str, value: &str) -> String {
        let msg = format!("tobira files\0{purpose}\0{value}");
        URL_SAFE_NO_PAD.encode(hmac_sha256(self.key.expose(), msg.as_bytes()))
    }

    fn path(&self, key: &str) -> PathBuf {
        let name: String = Sha256::digest(key.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        self.root.join(name)
    }

    /// `POST /_files/upload`: the form's fields, then the file (S3 reads
    /// no field after it). The answer is S3's: 303 to the form's redirect
    /// with `bucket`, `key` and `etag` (or 201 with them, for a form
    /// without one), or 400/403 with the reason.
    pub async fn upload<B>(&self, content_type: Option<&str>, body: B) -> Result<Uploaded, Refused>
    where
        B: hyper::body::Body<Data = Bytes> + Unpin,
    {
        let boundary = content_type
            .and_then(|t| {
                t.split(';')
                    .find_map(|p| p.trim().strip_prefix("boundary="))
            })
            .map(|b| b.trim_matches('"').to_string())
            .filter(|b| !b.is_empty() && b.len() <= 70)
            .ok_or_else(|| refused(400, "MalformedPOSTRequest", "not a multipart form"))?;
        let mut r = Reader {
            body,
            buf: b"\r\n".to_vec(),
            delim: format!("\r\n--{boundary}").into_bytes(),
        };
        let mut fields = HashMap::new();
        let mut room = FIELDS_MAX;
        r.until_delim(room).await?; // the preamble
        for part in 0.. {
            if part >= PARTS_MAX {
                return Err(refused(400, "MalformedPOSTRequest", "too many fields"));
            }
            let after = r.take(2).await?;
            if after == b"--" {
                return Err(refused(400, "MalformedPOSTRequest", "the form has no file"));
            }
            let headers = r.until(b"\r\n\r\n", room.min(8 * 1024)).await?;
            room = room.saturating_sub(headers.len());
            let headers = String::from_utf8_lossy(&headers).into_owned();
            let (name, filename) = disposition(&headers)
                .filter(|(n, _)| !n.is_empty())
                .ok_or_else(|| refused(400, "MalformedPOSTRequest", "a part has no name"))?;
            if name != "file" {
                let value = r.until_delim(room).await?;
                room = room.saturating_sub(name.len() + value.len());
                fields.insert(name, String::from_utf8_lossy(&value).into_owned());
                continue;
            }
            let (key, policy) = self.allowed(&fields, filename.as_deref().unwrap_or(""))?;
            let etag = format!("\"{}\"", self.store_file(&mut r, &key, policy.max).await?);
            let Some(redirect) = policy.redirect else {
                return Ok(Uploaded::Created { key, etag });
            };
            let query = serde_urlencoded::to_string([
                ("bucket", "local"),
                ("key", key.as_str()),
                ("etag", etag.as_str()),
            ])
            .expect("strings encode");
            let sep = if redirect.contains('?') { '&' } else { '?' };
            return Ok(Uploaded::Redirect(format!("{redirect}{sep}{query}")));
        }
        unreachable!("the loop returns")
    }

    /// The policy's checks, as S3 makes them; the key with the file's name.
    fn allowed(
        &self,
        fields: &HashMap<String, String>,
        filename: &str,
    ) -> Result<(String, Policy), Refused> {
        let field = |n: &str| fields.get(n).map(String::as_str).unwrap_or("");
        let forbidden = |why: &str| refused(403, "AccessDenied", why.to_string());
        let encoded = field("policy");
        if !ct_eq(
            field("signature").as_bytes(),
            self.mac("upload", encoded).as_bytes(),
        ) {
            return Err(forbidden("the form's signature does not match"));
        }
        let policy: Policy = URL_SAFE_NO_PAD
            .decode(encoded)
            .ok()
            .and_then(|p| serde_json::from_slice(&p).ok())
            .ok_or_else(|| forbidden("the policy is unreadable"))?;
        if self.clock.now() >= Timestamp::from_millis(policy.expires) {
            return Err(forbidden("the form has expired"));
        }
        let template = field("key");
        if !template.starts_with(&policy.prefix) {
            return Err(forbidden("the key is outside the form's prefix"));
        }
        let status = (policy.redirect.is_none()).then_some("201");
        if fields.get("success_action_redirect") != policy.redirect.as_ref()
            || fields.get("success_action_status").map(String::as_str) != status
        {
            return Err(forbidden("the redirect is not the form's"));
        }
        if field("Content-Type") != STORED_TYPE {
            return Err(forbidden("the content type is not the form's"));
        }
        // A browser may send a path (older ones did): only the last part.
        let filename = filename.rsplit(['/', '\\']).next().unwrap_or("");
        if filename.is_empty() {
            return Err(refused(400, "InvalidArgument", "no file was chosen"));
        }
        let key = template.replace("${filename}", filename);
        Ok((key, policy))
    }

    /// Streams the file to a scratch name, then puts it in place; its
    /// SHA-256 (the local ETag). Refuses an empty or too large file.
    async fn store_file<B>(&self, r: &mut Reader<B>, key: &str, max: u64) -> Result<String, Refused>
    where
        B: hyper::body::Body<Data = Bytes> + Unpin,
    {
        use tokio::io::AsyncWriteExt;
        tokio::fs::create_dir_all(&self.root).await.map_err(io)?;
        let path = self.path(key);
        // A name of its own: the same form posted twice at once writes two.
        static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let scratch = path.with_extension(format!("part{}-{n}", std::process::id()));
        let mut file = tokio::fs::File::create(&scratch).await.map_err(io)?;
        let mut hash = Sha256::new();
        let mut size: u64 = 0;
        let result = async {
            loop {
                let (chunk, last) = r.next_file_chunk().await?;
                size += chunk.len() as u64;
                if size > max {
                    return Err(refused(400, "EntityTooLarge", format!("over {max} bytes")));
                }
                hash.update(&chunk);
                file.write_all(&chunk).await.map_err(io)?;
                if last {
                    break;
                }
            }
            if size == 0 {
                return Err(refused(400, "EntityTooSmall", "the file is empty"));
            }
            file.sync_all().await.map_err(io)?;
            Ok(())
        }
        .await;
        if let Err(e) = result {
            let _ = tokio::fs::remove_file(&scratch).await;
            return Err(e);
        }
        let etag: String = hash.finalize().iter().map(|b| format!("{b:02x}")).collect();
        // Linked into place only if the key is free: locally a key is
        // written once (S3 keeps each upload as a version of its own).
        let placed = std::fs::hard_link(&scratch, &path);
        let _ = tokio::fs::remove_file(&scratch).await;
        match placed {
            Ok(()) => Ok(etag),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(refused(
                403,
                "AccessDenied",
                "a file of this name was uploaded with this form already",
            )),
            Err(e) => Err(io(e)),
        }
    }

    /// `GET /_files/get`: the file of a link this store signed, until it
    /// expires; the path of the file and the answer's headers.
    pub fn download(&self, query: &str) -> Result<(PathBuf, Headers), Refused> {
        let q: HashMap<String, String> = serde_urlencoded::from_str(query).unwrap_or_default();
        let get = |n: &str| q.get(n).map(String::as_str).unwrap_or("");
        let signed = signed_link(get("key"), get("name"), get("type"), get("exp"));
        let denied = || refused(403, "AccessDenied", "the link is not valid");
        if !ct_eq(get("sig").as_bytes(), self.mac("get", &signed).as_bytes()) {
            return Err(denied());
        }
        let expires = get("exp").parse::<i64>().map_err(|_| denied())?;
        if self.clock.now() >= Timestamp::from_millis(expires) {
            return Err(refused(403, "AccessDenied", "the link has expired"));
        }
        let path = self.path(get("key"));
        if !path.exists() {
            return Err(refused(404, "NoSuchKey", "no such file"));
        }
        Ok((
            path,
            vec![
                ("content-type", get("type").to_string()),
                ("content-disposition", content_disposition(get("name"))),
                ("x-content-type-options", "nosniff".into()),
                ("cache-control", "private, no-store".into()),
            ],
        ))
    }
}

#[async_trait::async_trait]
impl FileStore for LocalFiles {
    async fn upload_form(&self, p: &UploadPolicy) -> Result<UploadForm, FileError> {
        let policy = Policy {
            prefix: p.prefix.clone(),
            max: p.max_bytes,
            redirect: p.redirect.clone(),
            expires: p.expires.millis(),
        };
        let encoded = URL_SAFE_NO_PAD.encode(serde_json::to_vec(&policy).expect("serialises"));
        let signature = self.mac("upload", &encoded);
        let field = |k: &str, v: &str| (k.to_string(), v.to_string());
        let back = match &p.redirect {
            Some(r) => field("success_action_redirect", r),
            None => field("success_action_status", "201"),
        };
        Ok(UploadForm {
            action: self.url(UPLOAD_PATH),
            fields: vec![
                field("key", &format!("{}${{filename}}", p.prefix)),
                field("Content-Type", STORED_TYPE),
                back,
                field("policy", &encoded),
                field("signature", &signature),
            ],
        })
    }

    async fn head(&self, key: &str) -> Result<Option<Stored>, FileError> {
        use tokio::io::AsyncReadExt;
        let mut file = match tokio::fs::File::open(self.path(key)).await {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(FileError::Unavailable(e.to_string())),
        };
        // The ETag is the SHA-256 of the bytes, read as they are now.
        let (mut hash, mut size, mut buf) = (Sha256::new(), 0u64, vec![0u8; 64 * 1024]);
        loop {
            let n = file
                .read(&mut buf)
                .await
                .map_err(|e| FileError::Unavailable(e.to_string()))?;
            if n == 0 {
                break;
            }
            hash.update(&buf[..n]);
            size += n as u64;
        }
        let etag: String = hash.finalize().iter().map(|b| format!("{b:02x}")).collect();
        Ok(Some(Stored {
            size,
            etag: format!("\"{etag}\""),
            version: None,
        }))
    }

    async fn download_link(&self, d: &Download<'_>) -> Result<String, FileError> {
        let exp = d.expires.millis().to_string();
        let signed = signed_link(d.object.key, d.name, d.content_type, &exp);
        let query = serde_urlencoded::to_string([
            ("key", d.object.key),
            ("name", d.name),
            ("type", d.content_type),
            ("exp", &exp),
            ("sig", &self.mac("get", &signed)),
        ])
        .expect("strings encode");
        Ok(format!("{}?{query}", self.url(GET_PATH)))
    }

    async fn delete(&self, o: Object<'_>) -> Result<(), FileError> {
        match tokio::fs::remove_file(self.path(o.key)).await {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(FileError::Unavailable(e.to_string())),
        }
    }

    /// Local files are never swept: nothing to mark.
    async fn keep(&self, _: Object<'_>, _: bool) -> Result<(), FileError> {
        Ok(())
    }

    fn origin(&self) -> Option<String> {
        self.origin.clone()
    }
}

/// What a download link signs: its terms as one JSON array (no separator
/// a name could hold).
fn signed_link(key: &str, name: &str, content_type: &str, exp: &str) -> String {
    serde_json::json!([key, name, content_type, exp]).to_string()
}

/// `TOBIRA_LOCAL_FILES_ORIGIN`: an http(s) origin, no path.
pub fn origin_from_env() -> Result<Option<String>, String> {
    let Some(v) = std::env::var("TOBIRA_LOCAL_FILES_ORIGIN")
        .ok()
        .filter(|v| !v.trim().is_empty())
    else {
        return Ok(None);
    };
    let v = v.trim().trim_end_matches('/').to_string();
    let rest = v
        .strip_prefix("http://")
        .or_else(|| v.strip_prefix("https://"));
    match rest {
        Some(host) if !host.is_empty() && !host.contains(['/', '?', '#', ' ']) => Ok(Some(v)),
        _ => Err(format!(
            "TOBIRA_LOCAL_FILES_ORIGIN: `{v}` is not an http(s) origin (scheme and host, no path)"
        )),
    }
}
