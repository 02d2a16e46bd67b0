//! Issue 13, item 11: `TransactWriteItems` is idempotent across retries.
//! The emulator (moto) ignores `ClientRequestToken`, so, as for any service
//! the emulator lacks, the real SDK talks to a small recording stand-in that
//! checks what it sends:
//! - a 500 (the ambiguous failure: the transaction may have committed): the
//!   SDK retries with the same token (the SDK fills one in per call when
//!   none is set, and the store now sets its own);
//! - `TransactionInProgressException` (the SDK's retries of a slow commit
//!   met the first attempt still running) until the SDK gives up after its
//!   three attempts: the store's own retry must carry the same token, so it
//!   gets the first attempt's result, not a second transaction that
//!   conflicts with the committed first one (before: a new token per
//!   resend, and the committed write reported a conflict);
//! - another logical write carries another token.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tobira::store::{Cond, Key, Store, Write};
use tobira_aws::dynamo::DynamoStore;

use crate::support::T0;

/// (X-Amz-Target, JSON body) of every request the stand-in received.
type Seen = Arc<Mutex<Vec<(String, Value)>>>;

/// An answer of the stand-in: status and `__type` of the error.
type Canned = (u16, &'static str);
const AMBIGUOUS: Canned = (500, "InternalServerError");
const IN_PROGRESS: Canned = (400, "TransactionInProgressException");

/// A loopback DynamoDB stand-in: request number `n` (1-based) gets
/// `fail[n - 1]` while there is one, then `{}` (success).
async fn stand_in(fail: &'static [Canned]) -> (SocketAddr, Seen) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen: Seen = Arc::default();
    let record = seen.clone();
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let record = record.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
                    let record = record.clone();
                    async move {
                        let target = req
                            .headers()
                            .get("x-amz-target")
                            .map(|v| v.to_str().unwrap().to_string())
                            .unwrap_or_default();
                        let body = req.into_body().collect().await.unwrap().to_bytes();
                        let n = {
                            let mut seen = record.lock().unwrap();
                            seen.push((target, serde_json::from_slice(&body).unwrap()));
                            seen.len()
                        };
                        let (status, body) = match fail.get(n - 1) {
                            Some((status, kind)) => (
                                *status,
                                format!(
                                    r#"{{"__type":"com.amazonaws.dynamodb.v20120810#{kind}","message":"stand-in"}}"#
                                ),
                            ),
                            None => (200, "{}".to_string()),
                        };
                        Ok::<_, std::convert::Infallible>(
                            hyper::Response::builder()
                                .status(status)
                                .header("content-type", "application/x-amz-json-1.0")
                                .body(Full::new(Bytes::from(body)))
                                .unwrap(),
                        )
                    }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
    (addr, seen)
}

/// The production store over the real SDK, with its default retry policy.
async fn store_at(addr: SocketAddr) -> DynamoStore {
    let sdk = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(tobira_aws::http_client())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(format!("http://{addr}"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "test", "test", None, None, "tests",
        ))
        .load()
        .await;
    DynamoStore::new(aws_sdk_dynamodb::Client::new(&sdk), "tobira-stand-in")
}

fn batch() -> Vec<Write> {
    ["a", "b"]
        .into_iter()
        .map(|sk| Write::Put {
            key: Key::new("P#retry", sk),
            data: "{}".into(),
            expires_at: None,
            cond: Cond::Absent,
        })
        .collect()
}

fn token(v: &Value) -> String {
    v["ClientRequestToken"]
        .as_str()
        .unwrap_or_else(|| panic!("no ClientRequestToken in {v}"))
        .to_string()
}

// SES-1, LOG-2: a sign-in's session write (and a reset's batch) committed
// on a first attempt whose answer was lost is not reported as a conflict
// with itself (issue 13, item 11).
#[tokio::test]
async fn ses_1_dynamo_retry_idempotent_one_token_per_logical_write() {
    let (addr, seen) = stand_in(&[AMBIGUOUS, IN_PROGRESS, IN_PROGRESS]).await;
    let store = store_at(addr).await;

    store.write(batch(), T0).await.unwrap();
    let first: Vec<(String, Value)> = seen.lock().unwrap().clone();
    assert_eq!(first.len(), 4, "500, in progress twice, done: {first:?}");
    for (target, _) in &first {
        assert_eq!(target, "DynamoDB_20120810.TransactWriteItems");
    }
    let t1 = token(&first[0].1);
    assert!(!t1.is_empty() && t1.len() <= 36, "{t1}");
    assert_eq!(
        token(&first[1].1),
        t1,
        "the SDK's retry carries the same token"
    );
    assert_eq!(
        token(&first[2].1),
        t1,
        "the SDK's retry carries the same token"
    );
    assert_eq!(
        token(&first[3].1),
        t1,
        "the store's retry of a transaction in progress carries the same token"
    );
    assert!(
        first.iter().all(|(_, b)| *b == first[0].1),
        "and the same request"
    );

    // Another logical write of the very same items is another transaction.
    store.write(batch(), T0).await.unwrap();
    let all = seen.lock().unwrap().clone();
    assert_eq!(all.len(), 5);
    assert_ne!(token(&all[4].1), t1, "a new write has a new token");
}

// Issue 17 item 3: a Lambda's init reads one key nobody holds, through the
// real SDK, so that the connection is open before the first invocation; a
// failing read does not stop it.
#[tokio::test]
async fn init_primes_the_dynamodb_connection_with_one_cheap_read() {
    let (addr, seen) = stand_in(&[]).await;
    let store = store_at(addr).await;
    tobira_aws::prime(&store).await;
    let seen = seen.lock().unwrap().clone();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_eq!(seen[0].0, "DynamoDB_20120810.GetItem");
    assert_eq!(seen[0].1["Key"]["pk"]["S"], "PRIME");
    assert_eq!(seen[0].1["TableName"], "tobira-stand-in");
    // The table unreachable: logged, not fatal.
    let (addr, _) = stand_in(&[AMBIGUOUS, AMBIGUOUS, AMBIGUOUS, AMBIGUOUS]).await;
    tobira_aws::prime(&store_at(addr).await).await;
}
