//! CASE-6: the file store on S3. Uploads are browser POSTs straight to the
//! bucket, with a policy signed here (Signature Version 4 for POST): the
//! key's prefix, 1 byte to the size limit, the one stored content type,
//! the `pending` tag (the bucket's lifecycle rule removes pending objects),
//! where S3 sends the browser back, and the expiry (never past the signing
//! credentials'). The bucket is versioned: confirmation reads the size,
//! ETag and version with `HeadObject` and tags that version kept; downloads
//! are presigned `GetObject` links to that version that make the browser
//! save the file — a later upload to the same key changes nothing
//! registered.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_sdk_s3::config::{ProvideCredentials, SharedCredentialsProvider};
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::types::{Tag, Tagging};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use tobira::clock::Timestamp;
use tobira::files::{
    content_disposition, Download, FileError, FileStore, Object, Stored, UploadForm, UploadPolicy,
    STORED_TYPE,
};
use tobira::random::hmac_sha256;

/// The tag every upload carries until it is confirmed; the template's
/// lifecycle rule expires objects that still have it.
pub const TAG: &str = "tobira";
pub const PENDING: &str = "pending";
pub const KEPT: &str = "kept";

pub struct S3Files {
    client: aws_sdk_s3::Client,
    /// What signs the upload forms (the function's role).
    credentials: Option<SharedCredentialsProvider>,
    bucket: String,
    region: String,
    /// Where forms post: the bucket's virtual-hosted URL, or an emulator's
    /// path-style one.
    action: String,
}

fn unavailable(e: impl std::fmt::Display) -> FileError {
    FileError::Unavailable(e.to_string())
}

fn system_time(t: Timestamp) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(t.millis().max(0) as u64)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// SigV4's signing key: HMAC-SHA256 chained over the date, the region, the
/// service and `aws4_request`, from `AWS4` + the secret.
pub fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> [u8; 32] {
    let k = hmac_sha256(format!("AWS4{secret}").as_bytes(), date.as_bytes());
    let k = hmac_sha256(&k, region.as_bytes());
    let k = hmac_sha256(&k, service.as_bytes());
    hmac_sha256(&k, b"aws4_request")
}

/// The `tagging` field of an upload: the object is pending.
pub fn pending_tagging() -> String {
    format!(
        "<Tagging><TagSet><Tag><Key>{TAG}</Key><Value>{PENDING}</Value></Tag></TagSet></Tagging>"
    )
}

impl S3Files {
    /// `endpoint`: an emulator's URL (path-style); `None` in AWS.
    pub fn new(
        client: aws_sdk_s3::Client,
        credentials: Option<SharedCredentialsProvider>,
        bucket: String,
        region: String,
        endpoint: Option<&str>,
    ) -> Self {
        let action = match endpoint {
            Some(e) => format!("{}/{bucket}", e.trim_end_matches('/')),
            None => format!("https://{bucket}.s3.{region}.amazonaws.com/"),
        };
        Self {
            client,
            credentials,
            bucket,
            region,
            action,
        }
    }

    /// The form for `p`, signed with these credentials.
    pub fn form(
        &self,
        p: &UploadPolicy,
        key_id: &str,
        secret: &str,
        token: Option<&str>,
    ) -> UploadForm {
        let now = chrono::DateTime::<chrono::Utc>::from(system_time(p.now));
        let date = now.format("%Y%m%d").to_string();
        let amz_date = now.format("%Y%m%dT%H%M%SZ").to_string();
        let expiration = chrono::DateTime::<chrono::Utc>::from(system_time(p.expires))
            .format("%Y-%m-%dT%H:%M:%S%.3fZ")
            .to_string();
        let credential = format!("{key_id}/{date}/{}/s3/aws4_request", self.region);
        let back = match &p.redirect {
            Some(r) => ("success_action_redirect", r.clone()),
            None => ("success_action_status", "201".to_string()),
        };
        let mut fields: Vec<(&str, String)> = vec![
            ("key", format!("{}${{filename}}", p.prefix)),
            ("Content-Type", STORED_TYPE.to_string()),
            back,
            ("tagging", pending_tagging()),
            ("x-amz-algorithm", "AWS4-HMAC-SHA256".into()),
            ("x-amz-credential", credential),
            ("x-amz-date", amz_date),
        ];
        if let Some(t) = token {
            fields.push(("x-amz-security-token", t.to_string()));
        }
        let mut conditions = vec![
            serde_json::json!({ "bucket": self.bucket }),
            serde_json::json!(["starts-with", "$key", p.prefix]),
            serde_json::json!(["content-length-range", 1, p.max_bytes]),
        ];
        for (name, value) in fields.iter().filter(|(n, _)| *n != "key") {
            conditions.push(serde_json::json!({ *name: value }));
        }
        let policy = serde_json::json!({ "expiration": expiration, "conditions": conditions });
        let policy = STANDARD.encode(policy.to_string());
        let key = signing_key(secret, &date, &self.region, "s3");
        let signature = hex(&hmac_sha256(&key, policy.as_bytes()));
        fields.push(("Policy", policy));
        fields.push(("X-Amz-Signature", signature));
        UploadForm {
            action: self.action.clone(),
            fields: fields
                .into_iter()
                .map(|(n, v)| (n.to_string(), v))
                .collect(),
        }
    }
}

#[async_trait::async_trait]
impl FileStore for S3Files {
    async fn upload_form(&self, p: &UploadPolicy) -> Result<UploadForm, FileError> {
        let provider = self
            .credentials
            .as_ref()
            .ok_or_else(|| unavailable("no credentials provider"))?;
        let c = provider.provide_credentials().await.map_err(unavailable)?;
        // A form outliving the role's session would fail mid-window.
        let mut p = p.clone();
        if let Some(until) = c.expiry().and_then(|e| e.duration_since(UNIX_EPOCH).ok()) {
            let until = Timestamp::from_millis(until.as_millis() as i64 - 5 * 60_000);
            p.expires = p.expires.min(until.max(p.now));
        }
        Ok(self.form(
            &p,
            c.access_key_id(),
            c.secret_access_key(),
            c.session_token(),
        ))
    }

    async fn head(&self, key: &str) -> Result<Option<Stored>, FileError> {
        let out = self
            .client
            .head_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await;
        match out {
            Ok(o) => Ok(Some(Stored {
                size: o.content_length().unwrap_or(0).max(0) as u64,
                etag: o.e_tag().unwrap_or_default().to_string(),
                version: o.version_id().map(str::to_string),
            })),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_not_found()) => Ok(None),
            Err(e) => Err(unavailable(aws_sdk_s3::error::DisplayErrorContext(e))),
        }
    }

    async fn download_link(&self, d: &Download<'_>) -> Result<String, FileError> {
        let config = PresigningConfig::builder()
            .start_time(system_time(d.now))
            .expires_in(d.now.until(d.expires))
            .build()
            .map_err(unavailable)?;
        let req = self
            .client
            .get_object()
            .bucket(&self.bucket)
            .key(d.object.key)
            .set_version_id(d.object.version.map(str::to_string))
            .response_content_disposition(content_disposition(d.name))
            .response_content_type(d.content_type)
            .presigned(config)
            .await
            .map_err(|e| unavailable(aws_sdk_s3::error::DisplayErrorContext(e)))?;
        Ok(req.uri().to_string())
    }

    async fn delete(&self, o: Object<'_>) -> Result<(), FileError> {
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(o.key)
            .set_version_id(o.version.map(str::to_string))
            .send()
            .await
            .map_err(|e| unavailable(aws_sdk_s3::error::DisplayErrorContext(e)))?;
        Ok(())
    }

    async fn keep(&self, o: Object<'_>, kept: bool) -> Result<(), FileError> {
        let tag = Tag::builder()
            .key(TAG)
            .value(if kept { KEPT } else { PENDING })
            .build()
            .map_err(unavailable)?;
        let tagging = Tagging::builder()
            .tag_set(tag)
            .build()
            .map_err(unavailable)?;
        self.client
            .put_object_tagging()
            .bucket(&self.bucket)
            .key(o.key)
            .set_version_id(o.version.map(str::to_string))
            .tagging(tagging)
            .send()
            .await
            .map_err(|e| unavailable(aws_sdk_s3::error::DisplayErrorContext(e)))?;
        Ok(())
    }

    fn origin(&self) -> Option<String> {
        let scheme_end = self.action.find("://")? + 3;
        let host_end = self.action[scheme_end..]
            .find('/')
            .map_or(self.action.len(), |i| scheme_end + i);
        Some(self.action[..host_end].to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// AWS's documented example of deriving a SigV4 signing key
    /// ("Examples of how to derive a signing key for Signature Version 4").
    #[test]
    fn case_6_signing_key_matches_the_documented_example() {
        let key = signing_key(
            "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
            "20120215",
            "us-east-1",
            "iam",
        );
        assert_eq!(
            hex(&key),
            "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d"
        );
    }
}
