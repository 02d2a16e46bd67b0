//! MFA-9: the voice caller (`tobira_aws::voice::PinpointVoice`) through the
//! real SDK. The emulator has no SMS and Voice v2 service, so, as in
//! `dynamo_retry.rs`, the SDK talks to a small recording stand-in on the
//! loopback that checks what the SDK signs and sends — the operation, the
//! SigV4 signature (recomputed here from the secret, independently of the
//! SDK's signer) and the JSON body — and answers as the service would:
//! - a Japanese and an English call: the voice of the language, the SSML
//!   as built by `otp_voice`, intact, from the deployment's number;
//! - the service's throttling maps to `DeliveryError::Throttled`, every
//!   other failure to `Unavailable` with the error's code only: nothing of
//!   the destination number (the service's messages may repeat it);
//! - the wiring (`tobira_aws::sends_sms`) in a child process of this test
//!   binary, where the environment is the test's own: without
//!   `TOBIRA_VOICE_ORIGINATION` it refuses to start, and with it the calls
//!   go from that (trimmed) identity to `TOBIRA_VOICE_ENDPOINT`.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use tobira::config::ConfigError;
use tobira::delivery::{DeliveryError, VoiceCall, VoiceCaller};
use tobira::i18n::Lang;
use tobira::mfa::voice::otp_voice;
use tobira::Config;
use tobira_aws::voice::PinpointVoice;

const KEY: &str = "AKIDTOBIRAVOICETEST";
const SECRET: &str = "tobira-voice-test-secret/0123456789";
const ORIGIN: &str = "arn:aws:sms-voice:us-east-1:123456789012:phone-number/phone-0123456789abcdef";
const TARGET: &str = "PinpointSMSVoiceV2.SendVoiceMessage";

/// One request as the stand-in received it.
#[derive(Clone, Debug)]
struct Seen {
    method: String,
    path: String,
    query: String,
    /// Lower-case names; a repeated header's values joined by ",".
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Seen {
    fn header(&self, name: &str) -> &str {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("no {name} header in {:?}", self.headers))
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

type Log = Arc<Mutex<Vec<Seen>>>;

/// An answer of the stand-in: status and body.
type Canned = (u16, &'static str);
const THROTTLED: Canned = (
    400,
    r#"{"__type":"ThrottlingException","Message":"Rate exceeded for +819012345678"}"#,
);
const INVALID: Canned = (
    400,
    r#"{"__type":"com.amazonaws.pinpointsmsvoicev2#ValidationException","Message":"Destination +819012345678 is not valid","Reason":"INVALID_PARAMETER"}"#,
);
const DENIED: Canned = (
    400,
    r#"{"__type":"AccessDeniedException","Message":"not allowed to call +819012345678","Reason":"ACCOUNT_DISABLED"}"#,
);
const BROKEN: Canned = (
    500,
    r#"{"__type":"InternalServerException","Message":"failed calling +819012345678"}"#,
);

/// A loopback SMS and Voice v2 stand-in: request number `n` (1-based) gets
/// `answers[n - 1]` while there is one, then a sent message's answer.
async fn stand_in(answers: &'static [Canned]) -> (SocketAddr, Log) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let log: Log = Arc::default();
    let record = log.clone();
    tokio::spawn(async move {
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            let record = record.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |req: hyper::Request<Incoming>| {
                    let record = record.clone();
                    async move {
                        let mut headers: Vec<(String, String)> = Vec::new();
                        for name in req.headers().keys() {
                            let values: Vec<&str> = req
                                .headers()
                                .get_all(name)
                                .iter()
                                .map(|v| v.to_str().unwrap())
                                .collect();
                            headers.push((name.as_str().to_string(), values.join(",")));
                        }
                        let method = req.method().to_string();
                        let path = req.uri().path().to_string();
                        let query = req.uri().query().unwrap_or_default().to_string();
                        let body = req.into_body().collect().await.unwrap().to_bytes();
                        let n = {
                            let mut log = record.lock().unwrap();
                            log.push(Seen {
                                method,
                                path,
                                query,
                                headers,
                                body: body.to_vec(),
                            });
                            log.len()
                        };
                        let (status, body) = answers.get(n - 1).copied().unwrap_or((
                            200,
                            r#"{"MessageId":"0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"}"#,
                        ));
                        Ok::<_, std::convert::Infallible>(
                            hyper::Response::builder()
                                .status(status)
                                .header("content-type", "application/x-amz-json-1.0")
                                .header("x-amzn-requestid", format!("stand-in-{n}"))
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
    (addr, log)
}

/// The SDK configuration of a Lambda (its default retry policy: three
/// attempts), with test credentials and short pauses between attempts.
async fn sdk() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(tobira_aws::http_client())
        .region(aws_config::Region::new("us-east-1"))
        .credentials_provider(aws_sdk_pinpointsmsvoicev2::config::Credentials::new(
            KEY, SECRET, None, None, "tests",
        ))
        .retry_config(
            aws_config::retry::RetryConfig::standard()
                .with_initial_backoff(Duration::from_millis(1)),
        )
        .load()
        .await
}

/// The production caller over the real SDK, pointed at `addr`.
async fn caller_at(addr: SocketAddr) -> PinpointVoice {
    let conf = aws_sdk_pinpointsmsvoicev2::config::Builder::from(&sdk().await)
        .endpoint_url(format!("http://{addr}"))
        .build();
    PinpointVoice::new(
        aws_sdk_pinpointsmsvoicev2::Client::from_conf(conf),
        ORIGIN.into(),
    )
}

fn call(to: &str, brand: &str, lang: Lang, code: &str) -> VoiceCall {
    let (ssml, text) = otp_voice(brand, lang, code, 5);
    VoiceCall {
        to: to.into(),
        lang,
        ssml,
        text,
    }
}

fn japanese() -> VoiceCall {
    call("+819012345678", "扉ポータル", Lang::Ja, "012345")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// HMAC-SHA256 (RFC 2104), written out so that the check does not share
/// the SDK's signing code.
fn hmac(key: &[u8], msg: &[u8]) -> [u8; 32] {
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    let mut inner = Sha256::new();
    inner.update(block.map(|b| b ^ 0x36));
    inner.update(msg);
    let mut outer = Sha256::new();
    outer.update(block.map(|b| b ^ 0x5c));
    outer.update(inner.finalize());
    outer.finalize().into()
}

/// A request of `SendVoiceMessage` as AWS accepts it: POST / in awsJson1_0
/// with the operation's target, signed with SigV4 for `sms-voice` in the
/// client's region by the test's key, over the headers that name the
/// operation and the host, and the signature right for exactly this
/// request (recomputed from the secret).
fn assert_signed_send_voice_message(seen: &Seen) {
    assert_eq!(seen.method, "POST");
    assert_eq!(seen.path, "/");
    assert_eq!(seen.query, "");
    assert_eq!(seen.header("x-amz-target"), TARGET);
    assert_eq!(seen.header("content-type"), "application/x-amz-json-1.0");

    let auth = seen.header("authorization");
    let rest = auth
        .strip_prefix("AWS4-HMAC-SHA256 Credential=")
        .unwrap_or_else(|| panic!("not SigV4: {auth}"));
    let (credential, rest) = rest.split_once(", SignedHeaders=").expect(auth);
    let (signed, signature) = rest.split_once(", Signature=").expect(auth);
    let amz_date = seen.header("x-amz-date");
    assert!(
        amz_date.len() == 16 && amz_date.as_bytes()[8] == b'T' && amz_date.ends_with('Z'),
        "{amz_date}"
    );
    let date = &amz_date[..8];
    assert_eq!(
        credential,
        format!("{KEY}/{date}/us-east-1/sms-voice/aws4_request"),
        "{auth}"
    );
    let signed: Vec<&str> = signed.split(';').collect();
    for needed in ["content-type", "host", "x-amz-date", "x-amz-target"] {
        assert!(signed.contains(&needed), "{needed} is not signed: {auth}");
    }
    let mut sorted = signed.clone();
    sorted.sort_unstable();
    assert_eq!(signed, sorted, "signed headers in order: {auth}");
    assert!(
        signature.len() == 64
            && signature
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
        "{signature}"
    );

    // The signature, recomputed (SigV4: canonical request, string to sign,
    // the derived key).
    let canonical_headers: String = signed
        .iter()
        .map(|name| {
            let value = seen
                .header(name)
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ");
            format!("{name}:{value}\n")
        })
        .collect();
    let canonical_request = format!(
        "POST\n/\n\n{canonical_headers}\n{}\n{}",
        signed.join(";"),
        hex(&Sha256::digest(&seen.body))
    );
    let scope = format!("{date}/us-east-1/sms-voice/aws4_request");
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        hex(&Sha256::digest(canonical_request.as_bytes()))
    );
    let mut key = hmac(format!("AWS4{SECRET}").as_bytes(), date.as_bytes());
    for part in ["us-east-1", "sms-voice", "aws4_request"] {
        key = hmac(&key, part.as_bytes());
    }
    assert_eq!(
        signature,
        hex(&hmac(&key, string_to_sign.as_bytes())),
        "the signature does not sign this request:\n{canonical_request}"
    );
}

/// The body of the call `c` from `origin`: exactly these fields.
fn expected_body(c: &VoiceCall, origin: &str, voice: &str) -> Value {
    json!({
        "DestinationPhoneNumber": c.to,
        "OriginationIdentity": origin,
        "MessageBody": c.ssml,
        "MessageBodyTextType": "SSML",
        "VoiceId": voice,
        "TimeToLive": 120,
    })
}

// MFA-9: a call to a Japanese user is read by the Japanese voice, a call
// to an English one by the English voice; the SSML from `otp_voice`
// reaches the service as it was built (digits, pauses, escaped brand),
// from the deployment's number, in a request AWS would accept.
#[tokio::test]
async fn mfa_9_calls_go_out_signed_in_the_users_language_with_the_ssml_intact() {
    let (addr, log) = stand_in(&[]).await;
    let caller = caller_at(addr).await;

    let ja = japanese();
    assert!(ja.ssml.contains("扉ポータル") && ja.ssml.contains("<say-as"));
    caller.call(&ja).await.unwrap();
    let en = call("+12025550143", "Tobira & Co", Lang::En, "987654");
    assert!(en.ssml.contains("Tobira &amp; Co"), "{}", en.ssml);
    caller.call(&en).await.unwrap();

    let seen = log.lock().unwrap().clone();
    assert_eq!(seen.len(), 2, "one request a call: {seen:?}");
    for (s, c, voice) in [(&seen[0], &ja, "MIZUKI"), (&seen[1], &en, "JOANNA")] {
        assert_signed_send_voice_message(s);
        assert_eq!(s.json(), expected_body(c, ORIGIN, voice));
        assert_eq!(s.json()["MessageBody"].as_str(), Some(c.ssml.as_str()));
    }
    // The adapter's table of voices is the one on the wire.
    assert_eq!(tobira_aws::voice::voice_of(Lang::Ja).as_str(), "MIZUKI");
    assert_eq!(tobira_aws::voice::voice_of(Lang::En).as_str(), "JOANNA");
}

// MFA-9: the service's throttling is `Throttled` (the caller tells the user
// to try again later) once the SDK's three attempts are spent; a single
// throttled attempt is absorbed by the SDK's retry.
#[tokio::test]
async fn mfa_9_throttling_maps_to_throttled_after_the_sdks_retries() {
    let (addr, log) = stand_in(&[THROTTLED, THROTTLED, THROTTLED]).await;
    let r = caller_at(addr).await.call(&japanese()).await;
    assert_eq!(r, Err(DeliveryError::Throttled));
    let seen = log.lock().unwrap().clone();
    assert_eq!(seen.len(), 3, "the SDK's three attempts: {seen:?}");
    for s in &seen {
        assert_signed_send_voice_message(s);
        assert_eq!(s.json(), seen[0].json(), "the same call each time");
    }

    let (addr, log) = stand_in(&[THROTTLED]).await;
    caller_at(addr).await.call(&japanese()).await.unwrap();
    assert_eq!(log.lock().unwrap().len(), 2);
}

// MFA-9: any other failure is `Unavailable`, named by the error's code and
// never by the service's message, which may repeat the destination number:
// a refused request at once, a server error after the SDK's retries, an
// unreachable service.
#[tokio::test]
async fn mfa_9_failures_map_to_unavailable_without_the_number() {
    let cases: [(&'static [Canned], usize, &str); 3] = [
        (&[INVALID], 1, "sms-voice: ValidationException"),
        (&[DENIED], 1, "sms-voice: AccessDeniedException"),
        (
            &[BROKEN, BROKEN, BROKEN],
            3,
            "sms-voice: InternalServerException",
        ),
    ];
    for (answers, attempts, expected) in cases {
        let (addr, log) = stand_in(answers).await;
        let r = caller_at(addr).await.call(&japanese()).await;
        assert_eq!(
            r,
            Err(DeliveryError::Unavailable(expected.into())),
            "{answers:?}"
        );
        let text = r.unwrap_err().to_string();
        assert!(!text.contains("9012345678"), "{text}");
        assert_eq!(log.lock().unwrap().len(), attempts, "{answers:?}");
    }

    // Nothing listens: the SDK's own error, again without the number.
    let closed = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    match caller_at(closed).await.call(&japanese()).await {
        Err(DeliveryError::Unavailable(m)) => {
            assert!(m.starts_with("sms-voice: "), "{m}");
            assert!(!m.contains("9012345678"), "{m}");
        }
        other => panic!("{other:?}"),
    }
}

// MFA-9: where voice codes are off, sms-otp needs no origination and calls
// nobody: the caller refuses (the SMS sender is unaffected).
#[tokio::test]
async fn mfa_9_wiring_without_voice_codes_places_no_calls() {
    let mut config = Config::local("https://portal.example.com");
    config.factors.voice = false;
    let Ok((_, _, voice)) = tobira_aws::sends_sms(&sdk().await, &config) else {
        panic!("sms-otp without voice codes needs no origination");
    };
    assert!(matches!(
        voice.call(&japanese()).await,
        Err(DeliveryError::Unavailable(_))
    ));
}

/// Set (to the child's part) when this binary runs as the child of
/// [`mfa_9_wiring_reads_the_origination_from_the_environment`].
const CHILD: &str = "TOBIRA_TEST_VOICE_WIRING_CHILD";

// MFA-9: the wiring of sms-otp with voice codes on. The environment is the
// process's, shared by every test of this binary, so the checks run in a
// child process of it that gets exactly the variables of each case:
// - no `TOBIRA_VOICE_ORIGINATION`, or a blank one: the function refuses to
//   start, naming the variable;
// - with one (spaces around it) and `TOBIRA_VOICE_ENDPOINT`: the call goes
//   to that endpoint, from the trimmed identity, signed.
#[tokio::test]
async fn mfa_9_wiring_reads_the_origination_from_the_environment() {
    run_child("missing", &[]).await;
    run_child("missing", &[("TOBIRA_VOICE_ORIGINATION", "   ")]).await;

    let (addr, log) = stand_in(&[]).await;
    let origin = "arn:aws:sms-voice:us-east-1:123456789012:pool/pool-0123456789abcdef";
    run_child(
        "call",
        &[
            ("TOBIRA_VOICE_ORIGINATION", &format!("  {origin}\n")),
            ("TOBIRA_VOICE_ENDPOINT", &format!("http://{addr}")),
        ],
    )
    .await;
    let seen = log.lock().unwrap().clone();
    assert_eq!(seen.len(), 1, "{seen:?}");
    assert_signed_send_voice_message(&seen[0]);
    assert_eq!(seen[0].json(), expected_body(&japanese(), origin, "MIZUKI"));
}

/// Runs [`mfa_9_wiring_child`] alone in a child process with `envs` (and
/// none of the voice or endpoint variables of this process).
async fn run_child(part: &str, envs: &[(&str, &str)]) {
    let exe = std::env::current_exe().unwrap();
    let out = tokio::process::Command::new(exe)
        .args([
            "--exact",
            "voice_adapter::mfa_9_wiring_child",
            "--nocapture",
            "--test-threads",
            "1",
        ])
        .env(CHILD, part)
        .env_remove("TOBIRA_VOICE_ORIGINATION")
        .env_remove("TOBIRA_VOICE_ENDPOINT")
        .env_remove("AWS_ENDPOINT_URL")
        .env_remove("AWS_ENDPOINT_URL_PINPOINT_SMS_VOICE_V2")
        .envs(envs.iter().copied())
        .kill_on_drop(true)
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("test result: ok. 1 passed"),
        "the child ({part}, {envs:?}) failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The child's half of the wiring test; in an ordinary run (no `CHILD`
/// variable) it does nothing.
#[tokio::test]
async fn mfa_9_wiring_child() {
    let Ok(part) = std::env::var(CHILD) else {
        return;
    };
    let mut config = Config::local("https://portal.example.com");
    config.factors.voice = true;
    let senders = tobira_aws::sends_sms(&sdk().await, &config);
    match part.as_str() {
        "missing" => assert_eq!(
            senders.err(),
            Some(ConfigError::Missing("TOBIRA_VOICE_ORIGINATION"))
        ),
        "call" => {
            let Ok((_, _, voice)) = senders else {
                panic!("the wiring refused a configured origination");
            };
            voice.call(&japanese()).await.unwrap();
        }
        other => panic!("unknown part {other}"),
    }
}
