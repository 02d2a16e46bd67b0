//! The Lambda binaries themselves: each one started as Lambda starts it,
//! against a local stand-in for the Lambda Runtime API, fed a real event from
//! `events/`, talking to DynamoDB on the local emulator; and none needs a
//! glibc newer than provided.al2023's (2.34).

use std::convert::Infallible;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tokio::sync::{mpsc, Mutex};

fn binary(name: &str) -> PathBuf {
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/target")));
    let p = target.join("debug").join(name);
    assert!(p.exists(), "{} is missing: build the functions first (`cargo build --workspace --bins`, as scripts/test.sh does)", p.display());
    p
}

fn max_glibc(path: &PathBuf) -> (u32, u32) {
    let out = Command::new("objdump")
        .arg("-T")
        .arg(path)
        .output()
        .expect("objdump (binutils)");
    let text = String::from_utf8_lossy(&out.stdout);
    text.split("GLIBC_")
        .skip(1)
        .filter_map(|s| {
            let v: String = s
                .chars()
                .take_while(|c| c.is_ascii_digit() || *c == '.')
                .collect();
            let mut it = v.split('.').map(|x| x.parse::<u32>().ok());
            Some((it.next()??, it.next().flatten().unwrap_or(0)))
        })
        .max()
        .unwrap_or((0, 0))
}

#[test]
fn binaries_need_glibc_2_34_at_most() {
    for f in tobira_web::routes::FUNCTIONS {
        let v = max_glibc(&binary(f));
        assert!(v <= (2, 34), "{f} needs GLIBC_{}.{}", v.0, v.1);
        assert!(
            v >= (2, 2),
            "{f}: no glibc symbols found, objdump output unexpected"
        );
    }
}

/// A minimal Lambda Runtime API: hands out one event, captures the answer.
async fn runtime_api(event: String) -> (String, mpsc::Receiver<(String, Value)>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let (tx, rx) = mpsc::channel(4);
    let event = Arc::new(Mutex::new(Some(event)));
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                return;
            };
            let (tx, event) = (tx.clone(), event.clone());
            tokio::spawn(async move {
                let svc = service_fn(move |req: hyper::Request<Incoming>| {
                    let (tx, event) = (tx.clone(), event.clone());
                    async move {
                        let path = req.uri().path().to_string();
                        let body = req
                            .into_body()
                            .collect()
                            .await
                            .map(|b| b.to_bytes())
                            .unwrap_or_default();
                        if path.ends_with("/invocation/next") {
                            let next = event.lock().await.take();
                            match next {
                                Some(e) => return Ok::<_, Infallible>(
                                    hyper::Response::builder()
                                        .header("Lambda-Runtime-Aws-Request-Id", "req-1")
                                        .header("Lambda-Runtime-Deadline-Ms", "99999999999999")
                                        .header(
                                            "Lambda-Runtime-Invoked-Function-Arn",
                                            "arn:aws:lambda:us-east-1:123456789012:function:tobira",
                                        )
                                        .body(Full::new(Bytes::from(e)))
                                        .unwrap(),
                                ),
                                None => tokio::time::sleep(Duration::from_secs(3600)).await,
                            }
                        }
                        let v = serde_json::from_slice(&body).unwrap_or(Value::Null);
                        let _ = tx.send((path, v)).await;
                        Ok(hyper::Response::builder()
                            .status(202)
                            .body(Full::new(Bytes::new()))
                            .unwrap())
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    (addr, rx)
}

/// The portal's settings every binary of these tests gets.
const PORTAL: [(&str, &str); 5] = [
    ("TOBIRA_BASE_URL", "https://portal.example.com"),
    ("TOBIRA_MAIL_FROM", "no-reply@example.com"),
    ("TOBIRA_BRAND", "tobira"),
    (
        "TOBIRA_CSRF_KEY",
        "csrf-key-of-the-binaries-test-0123456789",
    ),
    (
        "TOBIRA_LINK_KEY",
        "link-key-of-the-binaries-test-0123456789",
    ),
];

async fn run_binary(name: &str, event_file: &str, table: &str) -> (String, Value) {
    run_binary_with(name, event_file, table, &[]).await
}

/// [`run_binary`] with more of the function's environment.
async fn run_binary_with(
    name: &str,
    event_file: &str,
    table: &str,
    extra: &[(&str, &str)],
) -> (String, Value) {
    let event = std::fs::read_to_string(format!(
        "{}/events/{event_file}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap();
    let (addr, mut rx) = runtime_api(event).await;
    let mut child = tokio::process::Command::new(binary(name))
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", &addr)
        .env("AWS_LAMBDA_FUNCTION_NAME", name)
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "test")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "test")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_ENDPOINT_URL", crate::support::aws_endpoint())
        .env("TOBIRA_TABLE", table)
        .envs(PORTAL)
        .envs(extra.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let got = tokio::time::timeout(Duration::from_secs(60), rx.recv()).await;
    let _ = child.kill().await;
    match got {
        Ok(Some(answer)) => answer,
        _ => {
            let out = child.wait_with_output().await.unwrap();
            panic!(
                "{name} gave no answer; stderr:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
    }
}

#[tokio::test]
async fn lambda_binaries_answer_real_events_through_the_runtime_api() {
    let store = crate::support::dynamo_store().await;
    let table = store_table(&store);
    let (path, answer) = run_binary("login", "login/post-login.json", &table).await;
    assert!(
        path.ends_with("/invocation/req-1/response"),
        "{path}: {answer}"
    );
    assert_eq!(answer["statusCode"], 401, "{answer}");
    assert!(answer["body"]
        .as_str()
        .unwrap()
        .contains("invalid_credentials"));

    let (path, answer) = run_binary("migrate-batch", "migrate-batch/import.json", &table).await;
    assert!(path.ends_with("/response"), "{path}: {answer}");
    assert_eq!(answer["counts"]["staged"], 2, "{answer}");
    let (_, answer) = run_binary("migrate-batch", "migrate-batch/status.json", &table).await;
    assert_eq!(
        answer["counts"]["pending"], 2,
        "state went to DynamoDB: {answer}"
    );

    let (path, answer) = run_binary(
        "verify-identity",
        "verify-identity/post-setup-resend.json",
        &table,
    )
    .await;
    assert!(path.ends_with("/response"));
    assert_eq!(answer["statusCode"], 202, "{answer}");

    // CASE-6: create-case with its S3 file store (the emulator's): S3's
    // redirect after an upload, without the session cookie, answers the
    // page that sends the browser on.
    let endpoint = crate::support::aws_endpoint();
    let files = [
        ("TOBIRA_FILES_BUCKET", "tobira-binaries-files"),
        ("TOBIRA_FILES_ENDPOINT", endpoint.as_str()),
    ];
    let event = "create-case/get-attachment-confirm.json";
    let (_, answer) = run_binary_with("create-case", event, &table, &files).await;
    assert_eq!(answer["statusCode"], 200, "{answer}");
    assert!(answer["body"].as_str().unwrap().contains("b=1"), "{answer}");
}

/// CASE-6: create-case without its bucket stops at cold start, naming it.
#[tokio::test]
async fn create_case_binary_without_its_bucket_fails_naming_it() {
    let out = Command::new(binary("create-case"))
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9")
        .env("AWS_REGION", "us-east-1")
        .env("TOBIRA_TABLE", "t")
        .envs(PORTAL)
        .env("TOBIRA_PRIME", "false")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("TOBIRA_FILES_BUCKET"), "{err}");
}

#[tokio::test]
async fn lambda_binary_without_its_configuration_fails_loudly_naming_it() {
    let out = Command::new(binary("login"))
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", "127.0.0.1:9")
        .env("TOBIRA_BASE_URL", "https://portal.example.com")
        .env("TOBIRA_MAIL_FROM", "no-reply@example.com")
        .env("TOBIRA_BRAND", "tobira")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("TOBIRA_TABLE"), "{err}");
}

fn store_table(s: &tobira_aws::dynamo::DynamoStore) -> String {
    s.table().to_string()
}
