//! CASE-6: the S3 file store through the real SDK against the emulator
//! (moto serves S3, presigned requests and browser POST uploads included):
//! the signed form a browser posts, the size and ETag S3 reports, the
//! `kept` tag, a presigned download that saves the file under its name,
//! and removal. Moto does not check a POST policy, so the policy itself is
//! read back and held to what it must pin.

use std::time::Duration;

use base64::Engine;
use serde_json::Value;
use tobira::files::{Download, FileStore, Object, UploadForm, UploadPolicy};
use tobira_aws::s3::S3Files;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::attachments_support::multipart;
use crate::support::{aws_endpoint, sdk_config, T0};

/// One HTTP/1.1 exchange over a plain socket: status, headers, body.
async fn exchange(
    method: &str,
    url: &str,
    headers: &[(&str, String)],
    body: &[u8],
) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let rest = url
        .strip_prefix("http://")
        .expect("the emulator is plain HTTP");
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let path = if path.is_empty() { "/" } else { path };
    let mut s = tokio::net::TcpStream::connect(host).await.unwrap();
    let mut req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).await.unwrap();
    s.write_all(body).await.unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).await.unwrap();
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&raw[..end]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    (status, headers, raw[end + 4..].to_vec())
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> &'a str {
    headers
        .iter()
        .find(|(k, _)| k == name)
        .map_or("", |(_, v)| v.as_str())
}

async fn post(
    form: &UploadForm,
    name: &str,
    bytes: &[u8],
) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let body = multipart(form, name, bytes);
    let ct = "multipart/form-data; boundary=----tobira-test-boundary".to_string();
    exchange("POST", &form.action, &[("Content-Type", ct)], &body).await
}

async fn bucket() -> (S3Files, aws_sdk_s3::Client, String) {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let sdk = sdk_config().await;
    let config = aws_sdk_s3::config::Builder::from(&sdk)
        .force_path_style(true)
        .build();
    let client = aws_sdk_s3::Client::from_conf(config);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let name = format!("tobira-files-{}-{n}", std::process::id());
    client.create_bucket().bucket(&name).send().await.unwrap();
    // As the template declares it: versioned.
    let on = aws_sdk_s3::types::VersioningConfiguration::builder()
        .status(aws_sdk_s3::types::BucketVersioningStatus::Enabled)
        .build();
    client
        .put_bucket_versioning()
        .bucket(&name)
        .versioning_configuration(on)
        .send()
        .await
        .unwrap();
    let files = S3Files::new(
        client.clone(),
        sdk.credentials_provider(),
        name.clone(),
        "us-east-1".into(),
        Some(&aws_endpoint()),
    );
    (files, client, name)
}

fn policy(redirect: Option<&str>) -> UploadPolicy {
    UploadPolicy {
        prefix: "att/econ9000000001/C1/U1/01KB0000000000000000000000/".into(),
        max_bytes: 1000,
        redirect: redirect.map(str::to_string),
        now: T0,
        expires: T0.plus(Duration::from_secs(3600)),
    }
}

#[tokio::test]
async fn case_6_s3_form_pins_prefix_size_type_tag_and_expiry() {
    let (files, _, bucket) = bucket().await;
    let form = files.upload_form(&policy(None)).await.unwrap();
    assert_eq!(files.origin().as_deref(), Some(aws_endpoint().as_str()));
    let field = |n: &str| form.fields.iter().find(|(k, _)| k == n).unwrap().1.clone();
    let raw = base64::engine::general_purpose::STANDARD
        .decode(field("Policy"))
        .unwrap();
    let p: Value = serde_json::from_slice(&raw).unwrap();
    assert_eq!(p["expiration"], "2026-11-21T13:00:00.000Z");
    let conditions = p["conditions"].as_array().unwrap();
    for expected in [
        serde_json::json!({ "bucket": bucket }),
        serde_json::json!([
            "starts-with",
            "$key",
            "att/econ9000000001/C1/U1/01KB0000000000000000000000/"
        ]),
        serde_json::json!(["content-length-range", 1, 1000]),
        serde_json::json!({ "Content-Type": "application/octet-stream" }),
        serde_json::json!({ "success_action_status": "201" }),
        serde_json::json!({ "tagging": tobira_aws::s3::pending_tagging() }),
        serde_json::json!({ "x-amz-algorithm": "AWS4-HMAC-SHA256" }),
        serde_json::json!({ "x-amz-credential": "test/20261121/us-east-1/s3/aws4_request" }),
        serde_json::json!({ "x-amz-date": "20261121T120000Z" }),
    ] {
        assert!(conditions.contains(&expected), "{expected} not in {p}");
    }
    // Every field the browser sends but the policy and the signature is a
    // condition (S3 refuses a form with a field the policy does not name).
    for (k, _) in &form.fields {
        let named = conditions
            .iter()
            .any(|c| c.get(k).is_some() || (k == "key" && c[1] == "$key"));
        assert!(named || k == "Policy" || k == "X-Amz-Signature", "{k}");
    }
    // The signature is the signing key's HMAC of the policy.
    let key = tobira_aws::s3::signing_key("test", "20261121", "us-east-1", "s3");
    let mac = tobira::random::hmac_sha256(&key, field("Policy").as_bytes());
    let hex: String = mac.iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(field("X-Amz-Signature"), hex);
}

#[tokio::test]
async fn case_6_s3_upload_confirm_download_and_remove_through_the_sdk() {
    let (files, client, bucket) = bucket().await;
    // The script's and the API's form: S3 answers 201 with the key.
    let form = files.upload_form(&policy(None)).await.unwrap();
    let bytes = b"%PDF-1.4 report \x00\xff";
    let (status, _, body) = post(&form, "report.pdf", bytes).await;
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
    let key = "att/econ9000000001/C1/U1/01KB0000000000000000000000/report.pdf";
    let stored = files.head(key).await.unwrap().expect("uploaded");
    assert_eq!(stored.size, bytes.len() as u64);
    assert!(stored.etag.starts_with('"'));
    let version = stored.version.clone().expect("a versioned bucket");
    assert_eq!(files.head("att/none").await.unwrap(), None);
    let object = Object {
        key,
        version: Some(&version),
    };

    // Kept: the lifecycle rule's tag is no longer pending. (The emulator
    // does not apply a POST's `tagging` field; the form's test pins it.)
    let tag_of = |v: String| {
        let (client, bucket) = (client.clone(), bucket.clone());
        async move {
            let tags = client
                .get_object_tagging()
                .bucket(&bucket)
                .key(key)
                .version_id(v)
                .send()
                .await
                .unwrap();
            tags.tag_set()[0].value().to_string()
        }
    };
    files.keep(object, true).await.unwrap();
    assert_eq!(tag_of(version.clone()).await, "kept");
    // The same form posted again: a new version; the one registered stays.
    let (status, _, _) = post(&form, "report.pdf", b"other bytes").await;
    assert_eq!(status, 201);
    let newer = files.head(key).await.unwrap().unwrap();
    assert_ne!(newer.version.as_deref(), Some(version.as_str()));
    assert_eq!(tag_of(version.clone()).await, "kept");
    // Not registered after all: pending again, for the lifecycle rule.
    let newer_object = Object {
        key,
        version: newer.version.as_deref(),
    };
    files.keep(newer_object, false).await.unwrap();
    assert_eq!(tag_of(newer.version.clone().unwrap()).await, "pending");

    // A presigned download (SigV4 query) that saves the file by its name.
    #[allow(clippy::disallowed_methods)] // the emulator checks expiry by its own clock
    let now = tobira::clock::Timestamp::from_millis(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64,
    );
    let link = files
        .download_link(&Download {
            object,
            name: "月次レポート.pdf",
            content_type: "application/pdf",
            now,
            expires: now.plus(Duration::from_secs(300)),
        })
        .await
        .unwrap();
    assert!(link.contains("X-Amz-Signature=") && link.contains("X-Amz-Expires=300"));
    let (status, headers, body) = exchange("GET", &link, &[], b"").await;
    assert_eq!(status, 200);
    assert_eq!(body, bytes, "the version registered, not the later upload");
    assert_eq!(header(&headers, "content-type"), "application/pdf");
    let disposition = header(&headers, "content-disposition");
    assert!(
        disposition.contains("filename*=UTF-8''%E6%9C%88%E6%AC%A1"),
        "{disposition}"
    );

    // The page's form: S3 sends the browser back to the redirect, its
    // state kept, with bucket and key (and ETag: S3 adds it, the emulator
    // does not).
    let back = "https://portal.example.com/cases/C1/uploads/confirm?state=s7";
    let form = files.upload_form(&policy(Some(back))).await.unwrap();
    let (status, headers, _) = post(&form, "second.pdf", b"two").await;
    assert_eq!(status, 303);
    let location = header(&headers, "location");
    assert!(location.starts_with(&format!("{back}&")), "{location}");
    assert!(location.contains("second.pdf"), "{location}");

    // A refused upload's version is removed; the other stays.
    files.delete(newer_object).await.unwrap();
    let left = files.head(key).await.unwrap().unwrap();
    assert_eq!(left.version.as_deref(), Some(version.as_str()));
    files.delete(object).await.unwrap();
    assert_eq!(files.head(key).await.unwrap(), None);
    files.delete(object).await.unwrap(); // removing what is gone is no error
}
