//! The local portal: every function's real handler behind one port, the
//! embedded SQLite store, mail and SMS into an outbox page. What runs here is
//! exactly what runs in Lambda, with local adapters behind the same ports.

pub mod cli;
pub mod files;
pub mod report;
pub mod sqlite;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::files::LocalFiles;
use crate::sqlite::{Outbox, SqliteStore};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Bytes, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use serde_json::Value;
use tobira::clock::{Clock, SystemClock};
use tobira::random::OsRandom;
use tobira::{App, Config, Error};
use tobira_web::errors;
use tobira_web::web::{self, Body, LocalPeer, Request, Response};

/// The demo account "created by an admin" on first start (RST-4).
pub const DEMO_ADMIN_CREATED: &str = "new.member@example.co.jp";

/// The demo's tenant admin (ADM, issue 15), active from the first start in
/// tenant `econ1000000001`, with e-mail codes as the second factor: the
/// codes land in the outbox.
pub const DEMO_ADMIN: &str = "admin@example.co.jp";

/// The demo admin's password (printed at start: a local demo only).
pub const DEMO_ADMIN_PASSWORD: &str = "Kanri-Door-5183";

/// The demo legacy export migrated on first start (a copy of the sample data).
pub const DEMO_USERS: &str = include_str!("../demo/legacy-users.jsonl");

/// A copy of the local data that lives as long as this value.
pub struct Scratch {
    dir: std::path::PathBuf,
    local: Option<Local>,
}

impl Scratch {
    pub fn local(&self) -> &Local {
        self.local
            .as_ref()
            .expect("a scratch copy is opened before it is handed out")
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        self.local = None; // close the copy before removing it
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The local application and its outbox.
#[derive(Clone)]
pub struct Local {
    pub app: App,
    pub outbox: Arc<Outbox>,
    /// CASE-6: the attachments, in the data directory.
    pub files: Arc<LocalFiles>,
}

impl Local {
    /// Open (or create) the portal's data in `data_dir`.
    pub fn open(data_dir: &Path, mut config: Config) -> Result<Self, String> {
        std::fs::create_dir_all(data_dir)
            .map_err(|e| format!("cannot create {}: {e}", data_dir.display()))?;
        if link_key_unset() {
            config.link_key = link_key(data_dir, true)?;
        }
        let store =
            Arc::new(SqliteStore::open(&data_dir.join("tobira.db")).map_err(|e| e.to_string())?);
        let origin = files::origin_from_env()?;
        Ok(Self::with_files(
            store,
            config,
            data_dir.join("files"),
            origin,
        ))
    }

    /// A throwaway copy of the data in `data_dir` (or an empty store when
    /// there is none yet), in a scratch directory removed when the copy is
    /// dropped: `data_dir` is neither created nor changed.
    pub fn open_copy(data_dir: &Path, mut config: Config) -> Result<Scratch, String> {
        if link_key_unset() && data_dir.join(LINK_KEY_FILE).exists() {
            config.link_key = link_key(data_dir, false)?;
        }
        #[allow(clippy::disallowed_methods)] // a unique scratch name, not a rule's time
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let dir = std::env::temp_dir().join(format!("tobira-copy-{}-{nanos}", std::process::id()));
        // Only this user may read the copy (it holds hashes and personal data).
        {
            use std::os::unix::fs::DirBuilderExt;
            std::fs::DirBuilder::new()
                .mode(0o700)
                .create(&dir)
                .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        }
        // Removes the directory again if the copy fails.
        let mut scratch = Scratch {
            dir: dir.clone(),
            local: None,
        };
        let copy = dir.join("tobira.db");
        let source = data_dir.join("tobira.db");
        let store = if source.exists() {
            SqliteStore::open(&source).and_then(|s| s.copy_to(&copy))
        } else {
            SqliteStore::open(&copy)
        }
        .map_err(|e| e.to_string())?;
        let files = dir.join("files");
        scratch.local = Some(Self::with_store(Arc::new(store), config, files));
        Ok(scratch)
    }

    /// The portal over `store`, with its attachments in `files_dir`.
    pub fn with_store(store: Arc<SqliteStore>, config: Config, files_dir: PathBuf) -> Self {
        Self::with_files(store, config, files_dir, None)
    }

    /// [`Local::with_store`] with the file store served at `files_origin`
    /// (`None`: the portal's own).
    pub fn with_files(
        store: Arc<SqliteStore>,
        config: Config,
        files_dir: PathBuf,
        files_origin: Option<String>,
    ) -> Self {
        let clock: Arc<dyn Clock> = Arc::new(SystemClock);
        let outbox = Arc::new(Outbox::new(store.clone(), clock.clone()));
        let files = LocalFiles::new(files_dir, config.link_key.clone(), clock.clone());
        let files = Arc::new(files.at(files_origin));
        // MFA-10: the configuration was checked when it was read.
        let ceremonies = tobira_passkeys::from_config(&config).expect("a valid relying party");
        let app = App {
            config: Arc::new(config),
            store,
            mailer: outbox.clone(),
            sms: outbox.clone(),
            voice: outbox.clone(),
            files: files.clone(),
            ceremonies,
            clock,
            rng: Arc::new(OsRandom),
        };
        Self { app, outbox, files }
    }

    /// First start: migrate the demo users and send their setup links, so the
    /// first-login journey can be walked at once. Does nothing on later starts.
    pub async fn seed_demo(&self) -> Result<Option<Value>, Error> {
        let status = self.app.migration_status().await?;
        if status["counts"]["total"].as_u64().unwrap_or(0) > 0 {
            return Ok(None);
        }
        let records: Vec<Value> = DEMO_USERS
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(|l| serde_json::from_str(l).expect("demo data is valid JSON"))
            .collect();
        let mut out = serde_json::Map::new();
        for event in [
            serde_json::json!({ "action": "import", "records": records }),
            serde_json::json!({ "action": "apply" }),
            serde_json::json!({ "action": "send-setup-links" }),
        ] {
            let report = tobira_migrate_batch::handle(&self.app, event).await?;
            let action = report["action"].as_str().unwrap_or("-").to_string();
            out.insert(action, report);
        }
        // RST-4 / ADM-1: one account an admin created, whose registration
        // mail (a link to set the first password) waits in the outbox.
        let admin_made = tobira::admin::NewUser {
            tenant_id: "econ1000000001",
            name: "New Member",
            email: DEMO_ADMIN_CREATED,
            phone: "0312340000",
            lang: tobira_web::i18n::Lang::En,
            method: None,
            role: tobira::model::Role::General,
            ..Default::default()
        };
        let ctx = tobira::Ctx::system("demo");
        self.app.create_user(&admin_made, &ctx).await?;
        out.insert("admin-created".into(), Value::from(DEMO_ADMIN_CREATED));
        self.seed_admin(&ctx).await?;
        out.insert("admin".into(), Value::from(DEMO_ADMIN));
        Ok(Some(Value::Object(out)))
    }

    /// The demo's tenant admin, set up the way a person would: created
    /// pending by an admin (ADM-1) with e-mail codes chosen, the first
    /// password from the registration link (RST-4), the e-mail method
    /// proved with the code from the outbox (SET-4, MFA-2) and its
    /// recovery codes acknowledged (MFA-5). The terms wait for the first
    /// sign-in (TOS-1).
    async fn seed_admin(&self, ctx: &tobira::Ctx) -> Result<(), Error> {
        let admin = tobira::admin::NewUser {
            tenant_id: "econ1000000001",
            name: "管理 一郎",
            email: DEMO_ADMIN,
            phone: "0312340001",
            lang: tobira_web::i18n::Lang::Ja,
            method: Some("email"),
            role: tobira::model::Role::Admin,
            ..Default::default()
        };
        self.app.create_user(&admin, ctx).await?;
        let token = self
            .mailed_after(DEMO_ADMIN, "/password/reset?token=", |w| {
                w.split_once("token=").map(|(_, t)| t.to_string())
            })
            .await?;
        let password = tobira::ids::Password::parse(DEMO_ADMIN_PASSWORD)?;
        self.app.reset_password(&token, &password, ctx).await?;
        let signed = self.app.login(DEMO_ADMIN, &password, ctx).await?;
        let session = Some(signed.session.as_str());
        use tobira::mfa::{Channel, Purpose};
        self.app
            .send_code(session, Channel::Email, Purpose::Enroll, None, None, ctx)
            .await?;
        let code = self
            .mailed_after(DEMO_ADMIN, ":", |w| {
                (w.len() == 6 && w.bytes().all(|b| b.is_ascii_digit())).then(|| w.to_string())
            })
            .await?;
        self.app.confirm_email_method(session, &code, ctx).await?;
        self.app.acknowledge_recorded(session, true, ctx).await
    }

    /// The outbox's sender, once: every notice that is due goes to the
    /// outbox page (a background task of `tobira serve` runs it every
    /// [`DELIVERY_EVERY`], and the outbox page runs it before it lists).
    pub async fn deliver(&self) -> Result<tobira::outbox::Delivered, Error> {
        self.app.deliver_due(&tobira::Ctx::system("outbox")).await
    }

    /// A word of the newest outbox mail to `to` that holds `holding`, as
    /// `pick` takes it.
    async fn mailed_after(
        &self,
        to: &str,
        holding: &str,
        pick: impl Fn(&str) -> Option<String>,
    ) -> Result<String, Error> {
        self.deliver().await?;
        self.outbox
            .list()
            .into_iter()
            .rev()
            .filter(|m| m.to == to && m.text.contains(holding))
            .find_map(|m| m.text.split_whitespace().find_map(&pick))
            .ok_or(Error::Unavailable { what: "demo mail" })
    }
}

/// Whether `TOBIRA_LINK_KEY` is unset (or blank, as `Config` reads it).
fn link_key_unset() -> bool {
    std::env::var("TOBIRA_LINK_KEY").map_or(true, |v| v.trim().is_empty())
}

/// The file in the data directory that keeps the local portal's link key.
const LINK_KEY_FILE: &str = "link.key";

/// The local portal's `TOBIRA_LINK_KEY`: kept in the data directory (only
/// its owner may read it), so that every process on the same data — `serve`,
/// `invoke`, a restart — derives the same link tokens (`tobira::outbox`).
fn link_key(data_dir: &Path, create: bool) -> Result<tobira::config::SecretKey, String> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt;
    let path = data_dir.join(LINK_KEY_FILE);
    let bad = |e: std::io::Error| format!("{}: {e}", path.display());
    if create && !path.exists() {
        // Written whole under another name, then linked into place: a
        // process that starts at the same time reads a whole key or
        // none, and the first link wins.
        let key = tobira::config::SecretKey::random();
        let hex: String = key.expose().iter().map(|b| format!("{b:02x}")).collect();
        let tmp = data_dir.join(format!("{LINK_KEY_FILE}.{}.tmp", std::process::id()));
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(bad)?;
        f.write_all(hex.as_bytes()).map_err(bad)?;
        f.sync_all().map_err(bad)?;
        let linked = std::fs::hard_link(&tmp, &path);
        let _ = std::fs::remove_file(&tmp);
        match linked {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(e) => return Err(bad(e)),
        }
    }
    let text = std::fs::read_to_string(&path).map_err(bad)?;
    tobira::config::SecretKey::new(text.trim().as_bytes())
        .ok_or_else(|| format!("{}: not a key of at least 32 characters", path.display()))
}

/// Run one function with one request: the local equivalent of API Gateway
/// invoking that function's Lambda.
pub async fn call_function(app: &App, function: &str, req: Request) -> Option<Response> {
    Some(match function {
        "login" => tobira_login::handle(app, req).await,
        "verify-identity" => tobira_verify_identity::handle(app, req).await,
        "send-mail-otp" => tobira_send_mail_otp::handle(app, req).await,
        "sms-otp" => tobira_sms_otp::handle(app, req).await,
        "enroll-totp" => tobira_enroll_totp::handle(app, req).await,
        "reset-password" => tobira_reset_password::handle(app, req).await,
        "create-case" => tobira_create_case::handle(app, req).await,
        "manage-users" => tobira_manage_users::handle(app, req).await,
        _ => return None,
    })
}

/// An operator's typo in a function's name: the answer says what exists.
pub fn unknown_function(function: &str) -> Error {
    Error::invalid("unknown_function").detail(format!(
        "`{function}` is none of: {}",
        tobira_web::routes::FUNCTIONS.join(", ")
    ))
}

/// Invoke a function with a Lambda event, as `POST /_dev/invoke/{function}`
/// and `tobira invoke` do: an API Gateway HTTP API v2 event for the HTTP
/// functions (the answer is the Lambda proxy response), an ops or
/// EventBridge event for `migrate-batch`.
pub async fn invoke(app: &App, function: &str, event: &str) -> Result<Value, Error> {
    if function == "migrate-batch" {
        let event: Value = serde_json::from_str(event)
            .map_err(|e| Error::invalid("invalid_event").detail(format!("not JSON: {e}")))?;
        return tobira_migrate_batch::handle(app, event).await;
    }
    if !tobira_web::routes::FUNCTIONS.contains(&function) {
        return Err(unknown_function(function));
    }
    let req = lambda_http::request::from_str(event).map_err(|e| {
        Error::invalid("invalid_event").detail(format!("not an API Gateway HTTP API event: {e}"))
    })?;
    let resp = call_function(app, function, req)
        .await
        .ok_or(Error::NotFound)?;
    Ok(proxy_response(resp))
}

/// A response as the Lambda proxy integration carries it.
fn proxy_response(resp: Response) -> Value {
    let mut headers = serde_json::Map::new();
    let mut cookies = Vec::new();
    for (k, v) in resp.headers() {
        let v = v.to_str().unwrap_or_default().to_string();
        if k == http::header::SET_COOKIE {
            cookies.push(Value::String(v));
        } else {
            headers.insert(k.to_string(), Value::String(v));
        }
    }
    let body = String::from_utf8_lossy(resp.body().as_ref()).into_owned();
    serde_json::json!({
        "statusCode": resp.status().as_u16(),
        "headers": headers,
        "cookies": cookies,
        "body": body,
        "isBase64Encoded": false,
    })
}

/// Everything the local server answers: dev routes, then the route table.
pub async fn dispatch(local: &Local, req: Request) -> Response {
    let app = &local.app;
    let (method, path) = (
        req.method().as_str().to_string(),
        req.uri().path().to_string(),
    );
    match (method.as_str(), path.as_str()) {
        ("GET", "/_dev/outbox.json" | "/_dev/outbox") => {
            // What is due is delivered first, so that the page shows every
            // notice a request before it wrote.
            if let Err(e) = local.deliver().await {
                return errors::error_response(&e, web::lang_of(&req));
            }
            if path == "/_dev/outbox.json" {
                return web::json(200, &local.outbox.list());
            }
            return outbox_page(local, &req);
        }
        ("POST", p) if p.starts_with("/_dev/invoke/") => {
            // SES-3: an operator's event, from curl or the CLI — never from
            // a page of another site open in the developer's browser.
            if let Some(refused) = tobira_web::csrf::cross_site_refusal(app, &req) {
                return refused;
            }
            let function = &p["/_dev/invoke/".len()..];
            let event = String::from_utf8_lossy(req.body().as_ref()).into_owned();
            return match invoke(app, function, &event).await {
                Ok(v) => web::json(200, &v),
                Err(e) => errors::error_response(&e, web::lang_of(&req)),
            };
        }
        _ => {}
    }
    match tobira_web::routes::function_for(&method, &path) {
        Some(f) => call_function(app, f, req)
            .await
            .unwrap_or_else(|| errors::not_found(app, &Request::default())),
        None => errors::not_found(app, &req),
    }
}

fn outbox_page(local: &Local, req: &Request) -> Response {
    let entries = local
        .outbox
        .list()
        .into_iter()
        .map(|e| {
            let links = e
                .text
                .split_whitespace()
                .filter(|w| w.starts_with("http://") || w.starts_with("https://"))
                .map(str::to_string)
                .collect();
            tobira_web::pages::OutboxLine {
                channel: e.channel,
                to: e.to,
                subject: e.subject,
                text: e.text,
                sent_at: e.sent_at,
                links,
            }
        })
        .collect();
    web::html(
        200,
        tobira_web::pages::outbox(req, &local.app.config.brand, entries),
    )
}

/// Turn a hyper request into the request a Lambda handler gets.
async fn to_lambda(req: hyper::Request<Incoming>, peer: SocketAddr) -> Result<Request, Response> {
    let (parts, body) = req.into_parts();
    let bytes = match Limited::new(body, 1024 * 1024).collect().await {
        Ok(b) => b.to_bytes(),
        Err(_) => {
            return Err(errors::error_response(
                &Error::invalid("body_too_large").with("max", 1024 * 1024),
                tobira_web::i18n::Lang::En,
            ))
        }
    };
    let body = if bytes.is_empty() {
        Body::Empty
    } else {
        Body::Binary(bytes.to_vec())
    };
    let mut req = http::Request::from_parts(parts, body);
    req.extensions_mut().insert(LocalPeer(peer));
    Ok(req)
}

pub(crate) type Answer = hyper::Response<BoxBody<Bytes, std::io::Error>>;

pub(crate) fn to_hyper(resp: Response) -> Answer {
    let (parts, body) = resp.into_parts();
    let body = Full::new(Bytes::copy_from_slice(body.as_ref())).map_err(|e| match e {});
    hyper::Response::from_parts(parts, BoxBody::new(body))
}

/// How often the local portal's sender looks for notices that are due.
pub const DELIVERY_EVERY: std::time::Duration = std::time::Duration::from_millis(500);

/// Serve until the process ends; the outbox's sender runs beside.
pub async fn serve(local: Local, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    let sender = local.clone();
    tokio::spawn(async move {
        loop {
            if let Err(e) = sender.deliver().await {
                tracing::warn!(error = %e, "outbox: the sweep failed; tried again");
            }
            tokio::time::sleep(DELIVERY_EVERY).await;
        }
    });
    loop {
        let (stream, peer) = listener.accept().await?;
        let local = local.clone();
        tokio::spawn(async move {
            let svc = service_fn(move |req: hyper::Request<Incoming>| {
                let local = local.clone();
                async move {
                    let (method, path) = (req.method(), req.uri().path());
                    let files = matches!(
                        (method.as_str(), path),
                        ("POST" | "OPTIONS", files::UPLOAD_PATH) | ("GET", files::GET_PATH)
                    );
                    if files {
                        return Ok::<_, Infallible>(files::file_route(&local, req).await);
                    }
                    let resp = match to_lambda(req, peer).await {
                        Ok(req) => dispatch(&local, req).await,
                        Err(resp) => resp,
                    };
                    Ok::<_, Infallible>(to_hyper(resp))
                }
            });
            let _ = http1::Builder::new()
                .serve_connection(TokioIo::new(stream), svc)
                .await;
        });
    }
}
