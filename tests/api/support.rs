//! Test harness: an `App` over in-memory fakes with a manual clock, request
//! builders, a cookie jar, and the local AWS emulator's address.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use lambda_http::Body;
use serde_json::Value;
use tobira::clock::Timestamp;
use tobira::store::Store;
use tobira::{App, Config, Ctx};
use tobira_test_kit::ManualClock;
use tobira_test_kit::SeededRandom;
use tobira_test_kit::{FaultyStore, MemoryOutbox, MemoryStore};
use tobira_web::web::{Request, Response};

/// 2026-11-21 12:00:00 UTC.
pub const T0: Timestamp = Timestamp::from_secs(1_795_262_400);
/// How far back [`Harness::audit_events`] reads (days).
pub const AUDIT_DAYS: i64 = 100;

pub const SAMPLE: &str = include_str!("../../demo/legacy-users.jsonl");

pub fn sample_records() -> Vec<Value> {
    SAMPLE
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

pub fn record(login: &str, ecid: &str, tenant: &str) -> Value {
    serde_json::json!({
        "login_id": login, "ecid": ecid, "email": login, "name": "Test User",
        "phone": "0312345678", "tenant_id": tenant, "role": "general"
    })
}

/// Apply until the checkpointed pass is complete; every record's line.
pub async fn apply_all(app: &App) -> tobira::migration::Report {
    let mut all = tobira::migration::Report::default();
    for _ in 0..1000 {
        let r = app
            .apply(&tobira::migration::ApplyOptions::default(), &ctx())
            .await
            .unwrap();
        all.records.extend(r.records);
        if r.complete {
            all.complete = true;
            return all;
        }
    }
    panic!("apply never completed");
}

pub struct Harness {
    pub app: App,
    pub memory: Arc<MemoryStore>,
    pub faulty: Arc<FaultyStore>,
    pub outbox: Arc<MemoryOutbox>,
    pub clock: Arc<ManualClock>,
    /// CASE-6: the attachments (a scratch directory).
    pub files: Arc<tobira_local::files::LocalFiles>,
    /// Leave notices in the outbox after a request (the request counts of
    /// `round_trips.rs` measure the request alone); the mail accessors
    /// still deliver.
    pub hold_notices: std::sync::atomic::AtomicBool,
}

/// The local configuration for tests: no answer floor for "forgot
/// password" (the test of the floor sets one).
pub fn test_config() -> Config {
    let mut config = Config::local("https://portal.example.com");
    config.forgot_floor = Duration::ZERO;
    config.lock_notice_floor = Duration::ZERO;
    config
}

pub fn ctx() -> Ctx {
    Ctx {
        ip: "192.0.2.10".into(),
        user_agent: "tests/1.0".into(),
        lang: tobira_web::i18n::Lang::Ja,
    }
}

impl Harness {
    pub fn new() -> Self {
        Self::with_config(test_config())
    }

    pub fn with_config(config: Config) -> Self {
        let memory = Arc::new(MemoryStore::default());
        Self::over(config, memory.clone(), memory)
    }

    /// A harness over another store (e.g. DynamoDB on the emulator);
    /// `memory` is then only a bystander.
    pub fn over(config: Config, inner: Arc<dyn Store>, memory: Arc<MemoryStore>) -> Self {
        let faulty = Arc::new(FaultyStore::new(inner));
        let outbox = Arc::new(MemoryOutbox::default());
        let clock = Arc::new(ManualClock::new(T0));
        // CASE-6: the local file store, in a directory of this harness.
        let dir = tempfile_dir("files");
        let files = Arc::new(tobira_local::files::LocalFiles::new(
            dir.clone(),
            config.link_key.clone(),
            clock.clone(),
        ));
        let ceremonies = tobira_passkeys::from_config(&config).expect("a valid relying party");
        let app = App {
            config: Arc::new(config),
            store: faulty.clone(),
            mailer: outbox.clone(),
            sms: outbox.clone(),
            voice: outbox.clone(),
            files: files.clone(),
            ceremonies,
            clock: clock.clone(),
            rng: Arc::new(SeededRandom::new(42)),
        };
        Self {
            app,
            files,
            memory,
            faulty,
            outbox,
            clock,
            hold_notices: Default::default(),
        }
    }

    pub fn advance(&self, d: Duration) {
        self.clock.advance(d);
    }

    /// Stage `record(login, ecid, tenant)` for each triple; the import report.
    pub async fn stage(&self, records: &[(&str, &str, &str)]) -> tobira::migration::Report {
        let records: Vec<Value> = records
            .iter()
            .map(|(login, ecid, tenant)| record(login, ecid, tenant))
            .collect();
        self.app.import(&records, &ctx()).await.unwrap()
    }

    /// `App::login` with the password as typed and the test context.
    pub async fn login(
        &self,
        login: &str,
        password: &str,
    ) -> tobira::Result<tobira::login::SignedIn> {
        let password = tobira::ids::Password::parse(password).unwrap();
        self.app.login(login, &password, &ctx()).await
    }

    /// Import and apply records, send setup links.
    pub async fn migrate(&self, records: &[Value]) {
        let r = self.app.import(records, &ctx()).await.unwrap();
        assert_eq!(r.counts.rejected, 0, "{r:?}");
        apply_all(&self.app).await;
        self.app
            .send_setup_links(None, false, &ctx())
            .await
            .unwrap();
    }

    /// The outbox's sender, once (what a stream or the portal's task does):
    /// every notice that is due is mailed. A store fault leaves them due.
    pub async fn deliver(&self) -> tobira::outbox::Delivered {
        self.app.deliver_due(&ctx()).await.unwrap_or_default()
    }

    /// Every mail sent, after the sender delivered what is due.
    pub async fn mails(&self) -> Vec<tobira::delivery::Mail> {
        self.deliver().await;
        self.outbox.mails()
    }

    /// The newest mail to `to` that holds `holding` in its subject or text.
    pub async fn newest_mail(&self, to: &str, holding: &str) -> tobira::delivery::Mail {
        self.mails()
            .await
            .into_iter()
            .rev()
            .find(|m| m.to == to && (m.subject.contains(holding) || m.text.contains(holding)))
            .unwrap_or_else(|| panic!("no mail to {to} with {holding:?}"))
    }

    /// Asserts that a mail to `to` holds `holding` in its subject or text.
    pub async fn assert_mailed(&self, to: &str, holding: &str) {
        self.newest_mail(to, holding).await;
    }

    /// The newest link to `path` (e.g. `/password/reset`) mailed to `to`.
    pub async fn mailed_link(&self, to: &str, path: &str) -> String {
        let needle = format!("{path}?token=");
        let mail = self.newest_mail(to, &needle).await;
        let link = mail.text.split_whitespace().find(|w| w.contains(&needle));
        link.expect("a link").to_string()
    }

    /// The token of [`Harness::mailed_link`].
    pub async fn link_token(&self, to: &str, path: &str) -> String {
        let link = self.mailed_link(to, path).await;
        link.split_once("token=").unwrap().1.to_string()
    }

    /// The token of the newest setup mail to `to`.
    pub async fn setup_token(&self, to: &str) -> String {
        self.link_token(to, "/setup").await
    }

    /// The user with login ID `login` and its version, if there is one.
    pub async fn find_user(&self, login: &str) -> Option<(tobira::model::User, u64)> {
        let login = tobira::ids::LoginId::parse(login).unwrap();
        self.app.user_by_login(&login).await.unwrap()
    }

    /// The user with login ID `login`.
    pub async fn user(&self, login: &str) -> tobira::model::User {
        let found = self.find_user(login).await;
        found.unwrap_or_else(|| panic!("no user {login}")).0
    }

    /// A migrated user with a password set, via the real setup path.
    pub async fn active_user(&self, login: &str, password: &str) {
        let ecid = format!("ecid{}", 9_000_000_000u64 + login.len() as u64);
        self.active_user_in(login, password, "econ9000000001", &ecid)
            .await;
    }

    /// [`Harness::active_user`] in a given tenant, with a given legacy ID.
    pub async fn active_user_in(&self, login: &str, password: &str, tenant: &str, ecid: &str) {
        self.migrate(&[record(login, ecid, tenant)]).await;
        self.activate(login, password).await;
    }

    /// A migrated user set up the way a first login would: the identity
    /// check, then the first password.
    pub async fn activate(&self, login: &str, password: &str) {
        let token = self.setup_token(login).await;
        let grant = self
            .app
            .verify_identity(&token, login, "Test User", "03-1234-5678", &ctx())
            .await
            .unwrap();
        let pw = tobira::ids::Password::parse(password).unwrap();
        self.app
            .set_initial_password(&grant.0, &pw, &ctx())
            .await
            .unwrap();
    }

    /// The audit events recorded for `tenant` (`-` for none), oldest first.
    pub async fn audit_events(&self, tenant: &str) -> Vec<tobira::app::AuditEvent> {
        let tenant = Some(tenant).filter(|t| *t != "-");
        tobira_test_kit::audit_trail(&self.app, tenant, AUDIT_DAYS).await
    }

    /// The detail of the newest audit event of `kind` for `tenant`.
    pub async fn audit_detail(&self, tenant: &str, kind: &str) -> Option<String> {
        let events = self.audit_events(tenant).await;
        events.into_iter().rev().find(|e| e.kind == kind)?.detail
    }

    /// The kinds of [`Harness::audit_events`].
    pub async fn audit_kinds(&self, tenant: &str) -> Vec<String> {
        let events = self.audit_events(tenant).await;
        events.into_iter().map(|e| e.kind).collect()
    }

    /// Send a request through the function that serves its route, as API
    /// Gateway would, with the senders that function's Lambda has: a
    /// function whose `main.rs` wires no mailer (or no SMS sender) gets one
    /// that refuses, as `tobira_aws::sends_nothing` does — and the test
    /// fails if the function tried to send (issue 17 item 3).
    pub async fn send(&self, req: Request) -> Response {
        let f = tobira_web::routes::function_for(req.method().as_str(), req.uri().path())
            .unwrap_or_else(|| panic!("no route for {} {}", req.method(), req.uri().path()));
        let mut app = self.app.clone();
        let refused = Arc::new(Refusing::default());
        // `sms` is the phone codes' wiring: SMS and voice calls (MFA-9).
        match lambda_senders(f) {
            "mail" => (app.sms, app.voice) = (refused.clone(), refused.clone()),
            "sms" => app.mailer = refused.clone(),
            _ => {
                (app.mailer, app.sms, app.voice) =
                    (refused.clone(), refused.clone(), refused.clone())
            }
        }
        // CASE-6: only a function whose Lambda wires S3 has a file store.
        if !lambda_wires_files(f) {
            app.files = Arc::new(tobira::files::Unwired);
        }
        // MFA-10: only a function whose Lambda wires WebAuthn runs ceremonies.
        if !lambda_wires(f, crate::infra::wires_ceremonies) {
            app.ceremonies = Arc::new(tobira::webauthn::Unwired);
        }
        let answer = tobira_local::call_function(&app, f, req).await.unwrap();
        let tried = refused.tried.load(std::sync::atomic::Ordering::SeqCst);
        assert_eq!(
            tried, 0,
            "{f} tried to send, but its Lambda has no such sender"
        );
        // The notices it wrote go out at once, as the table's stream has
        // the sender take them.
        if !self.hold_notices.load(std::sync::atomic::Ordering::Relaxed) {
            self.deliver().await;
        }
        answer
    }
}

/// What a function's Lambda wires as its senders (`mail`, `sms` or
/// `nothing`), read from its `main.rs` as `infra.rs` holds it.
fn lambda_senders(function: &str) -> &'static str {
    static WIRED: std::sync::OnceLock<HashMap<String, &'static str>> = std::sync::OnceLock::new();
    let wired = WIRED.get_or_init(|| {
        let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/functions");
        std::fs::read_dir(dir)
            .unwrap()
            .map(|e| {
                let e = e.unwrap();
                let name = e.file_name().into_string().unwrap();
                let main = std::fs::read_to_string(e.path().join("lambda/main.rs")).unwrap();
                let sends = crate::infra::wired_senders(&name, &main);
                (name, sends)
            })
            .collect()
    });
    wired
        .get(function)
        .copied()
        .unwrap_or_else(|| panic!("no Lambda function {function}"))
}

/// Whether a function's Lambda wires the S3 file store (`infra.rs`).
fn lambda_wires_files(function: &str) -> bool {
    lambda_wires(function, crate::infra::wires_files)
}

/// Whether a function's Lambda's `main.rs` passes `check` (`infra.rs`).
fn lambda_wires(function: &str, check: fn(&str) -> bool) -> bool {
    let path = format!(
        "{}/functions/{function}/lambda/main.rs",
        env!("CARGO_MANIFEST_DIR")
    );
    check(&std::fs::read_to_string(path).unwrap())
}

/// A sender a function's Lambda does not have: it refuses, and counts.
#[derive(Default)]
struct Refusing {
    tried: std::sync::atomic::AtomicUsize,
}

impl Refusing {
    fn refuse(&self) -> Result<(), tobira::delivery::DeliveryError> {
        self.tried.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Err(tobira::delivery::DeliveryError::Unavailable(
            "not wired".into(),
        ))
    }
}

#[async_trait::async_trait]
impl tobira::delivery::Mailer for Refusing {
    async fn send(
        &self,
        _: &tobira::delivery::Mail,
    ) -> Result<(), tobira::delivery::DeliveryError> {
        self.refuse()
    }
}

#[async_trait::async_trait]
impl tobira::delivery::SmsSender for Refusing {
    async fn send(&self, _: &tobira::delivery::Sms) -> Result<(), tobira::delivery::DeliveryError> {
        self.refuse()
    }
}

#[async_trait::async_trait]
impl tobira::delivery::VoiceCaller for Refusing {
    async fn call(
        &self,
        _: &tobira::delivery::VoiceCall,
    ) -> Result<(), tobira::delivery::DeliveryError> {
        self.refuse()
    }
}

pub fn json_req(method: &str, uri: &str, body: &str) -> Request {
    http::Request::builder()
        .method(method)
        .uri(uri)
        .header("content-type", "application/json")
        .header("user-agent", "tests/1.0")
        .body(Body::Text(body.to_string()))
        .unwrap()
}

pub fn get(uri: &str) -> Request {
    http::Request::builder()
        .method("GET")
        .uri(uri)
        .body(Body::Empty)
        .unwrap()
}

pub fn form_req(uri: &str, fields: &[(&str, &str)]) -> Request {
    http::Request::builder()
        .method("POST")
        .uri(uri)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Body::Text(serde_urlencoded::to_string(fields).unwrap()))
        .unwrap()
}

/// A form post with the page's form token `csrf` before the other fields.
pub fn csrf_form(uri: &str, csrf: &str, fields: &[(&str, &str)]) -> Request {
    let mut all = vec![("csrf", csrf)];
    all.extend_from_slice(fields);
    form_req(uri, &all)
}

/// The value of the hidden (or any) input `name` of a page.
pub fn hidden(html: &str, name: &str) -> String {
    let needle = format!("name=\"{name}\" value=\"");
    let at = html
        .find(&needle)
        .unwrap_or_else(|| panic!("no {name} in page"))
        + needle.len();
    html[at..at + html[at..].find('"').unwrap()].to_string()
}

pub fn body_json(r: &Response) -> Value {
    serde_json::from_slice(r.body().as_ref()).unwrap_or(Value::Null)
}

pub fn body_text(r: &Response) -> String {
    String::from_utf8_lossy(r.body().as_ref()).into_owned()
}

/// AUD-1: every kind of `expected` is among `events`, and no `secret` is
/// anywhere in them.
pub fn assert_audited(events: &[tobira::app::AuditEvent], expected: &[&str], secrets: &[&str]) {
    let kinds: Vec<&str> = events.iter().map(|e| e.kind.as_str()).collect();
    for k in expected {
        assert!(kinds.contains(k), "{k} missing from {kinds:?}");
    }
    let all = format!("{events:?}");
    for secret in secrets {
        assert!(
            !all.contains(secret),
            "a secret leaked into the audit trail"
        );
    }
}

/// Cookies a browser would keep.
#[derive(Default, Debug, Clone)]
pub struct Jar(pub HashMap<String, String>);

impl Jar {
    pub fn take(&mut self, r: &Response) {
        for v in r.headers().get_all("set-cookie") {
            let v = v.to_str().unwrap();
            let (pair, attrs) = v.split_once(';').unwrap_or((v, ""));
            let (k, val) = pair.split_once('=').unwrap();
            if attrs.contains("Max-Age=0") {
                self.0.remove(k);
            } else {
                self.0.insert(k.to_string(), val.to_string());
            }
        }
    }
    pub fn header(&self) -> String {
        self.0
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }
    pub fn apply(&self, mut req: Request) -> Request {
        if !self.0.is_empty() {
            req.headers_mut()
                .insert("cookie", self.header().parse().unwrap());
        }
        req
    }
    /// [`csrf_form`] with this jar's cookies.
    pub fn form(&self, uri: &str, csrf: &str, fields: &[(&str, &str)]) -> Request {
        self.apply(csrf_form(uri, csrf, fields))
    }

    pub fn get(&self, name: &str) -> Option<&String> {
        self.0.get(name)
    }
}

/// The local AWS emulator (moto) the test command started.
pub fn aws_endpoint() -> String {
    std::env::var("TOBIRA_TEST_AWS_ENDPOINT").expect(
        "TOBIRA_TEST_AWS_ENDPOINT is not set: run the suite with scripts/test.sh, which starts the local AWS emulator",
    )
}

pub async fn sdk_config() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(tobira_aws::http_client())
        .region(aws_config::Region::new("us-east-1"))
        .endpoint_url(aws_endpoint())
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "test", "test", None, None, "tests",
        ))
        .load()
        .await
}

/// A fresh, uniquely named table on the emulator.
pub async fn dynamo_store() -> tobira_aws::dynamo::DynamoStore {
    static N: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
    let sdk = sdk_config().await;
    let client = aws_sdk_dynamodb::Client::new(&sdk);
    let table = format!(
        "tobira-test-{}-{}",
        std::process::id(),
        N.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
    );
    tobira_aws::dynamo::create_table(&client, &table)
        .await
        .unwrap();
    tobira_aws::dynamo::DynamoStore::new(client, table)
}

/// Pages load the portal's one script and nothing inline (issue 16 item
/// 12): every `<script` is the portal's own `/static/tobira.js`.
pub fn only_portal_script(html: &str) -> bool {
    let own = "<script src=\"/static/tobira.js\" defer></script>";
    html.matches("<script").count() == html.matches(own).count()
}

/// A fresh scratch path under the system's temporary directory (created
/// by whoever writes there first).
pub fn tempfile_dir(what: &str) -> std::path::PathBuf {
    static N: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    std::env::temp_dir().join(format!("tobira-{what}-{}-{n}", std::process::id()))
}
