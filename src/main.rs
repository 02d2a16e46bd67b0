//! `tobira`: the whole portal on one port, and a command line to invoke any
//! function with an event file.
//!
//!     tobira serve  [--port 3000] [--data-dir .tobira] [--base-url http://127.0.0.1:3000]
//!     tobira invoke <function> <event.json> [--data-dir .tobira]
//!     tobira migrate <export.jsonl> [--data-dir .tobira] [--chunk 1000] [--dry-run]
//!                    [--report FILE.csv|FILE.jsonl] [--all-pending]

use std::path::PathBuf;
use std::process::ExitCode;

use tobira::Config;
use tobira_local::Local;

struct Args {
    command: String,
    positional: Vec<String>,
    port: u16,
    data_dir: PathBuf,
    base_url: Option<String>,
    chunk: usize,
    dry_run: bool,
    report: Option<PathBuf>,
    all_pending: bool,
}

impl Args {
    /// `--base-url`, or this machine at `--port`.
    fn base_url(&self) -> String {
        self.base_url
            .clone()
            .unwrap_or_else(|| format!("http://127.0.0.1:{}", self.port))
    }
}

fn parse_args() -> Result<Args, String> {
    let mut it = std::env::args().skip(1);
    let mut a = Args {
        command: String::new(),
        positional: Vec::new(),
        port: 3000,
        data_dir: ".tobira".into(),
        base_url: None,
        chunk: 1_000,
        dry_run: false,
        report: None,
        all_pending: false,
    };
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--port" => {
                a.port = value("--port")?
                    .parse()
                    .map_err(|_| "--port needs a number".to_string())?
            }
            "--data-dir" => a.data_dir = value("--data-dir")?.into(),
            "--base-url" => a.base_url = Some(value("--base-url")?),
            "--chunk" => {
                a.chunk = value("--chunk")?
                    .parse()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or("--chunk needs a positive number".to_string())?
            }
            "--dry-run" => a.dry_run = true,
            "--report" => a.report = Some(value("--report")?.into()),
            "--all-pending" => a.all_pending = true,
            "-h" | "--help" => return Err(String::new()),
            _ if a.command.is_empty() => a.command = arg,
            _ => a.positional.push(arg),
        }
    }
    if a.command.is_empty() {
        a.command = "serve".into();
    }
    Ok(a)
}

const USAGE: &str = "usage:
  tobira serve  [--port 3000] [--data-dir .tobira] [--base-url http://127.0.0.1:PORT]
  tobira invoke <function> <event.json> [--data-dir .tobira]
  tobira migrate <export.jsonl> [--data-dir .tobira] [--chunk 1000] [--dry-run]
                 [--report FILE.csv|FILE.jsonl] [--all-pending]

migrate: stages the file's records and applies only those (--all-pending: every
pending record); a file with no line that could be staged applies nothing.
--dry-run runs on a throwaway copy of the store: the report is what a real run
would do, and the store is left as it was. The report (one line per line:
line, tenant_id, ecid, outcome, login_id, final_login_id, phone_before,
phone_after, reason) goes to --report, or to ./migrate-report-<UTC time>.csv.
Exit codes: 0 every line migrated or already there; 3 done, some lines
rejected; 4 every line rejected, nothing applied; 1 a fault stopped the run
(what was applied stays; run it again); 2 a wrong command line.";

fn config(base_url: &str) -> Config {
    let mut c = Config::local(base_url);
    // Browsers treat loopback as a secure context, so __Host- cookies work on
    // http://127.0.0.1; any other plain-HTTP host needs them off.
    let loopback =
        base_url.starts_with("http://127.0.0.1") || base_url.starts_with("http://localhost");
    if base_url.starts_with("http://") && !loopback {
        c.cookie_secure = false;
    }
    // The demo's migration window (MIG-11) is open from yesterday for six
    // weeks unless TOBIRA_MIGRATION_WINDOW says otherwise, and the legacy
    // portal's key is a published demo key unless one is configured.
    if c.migration_window.is_none() {
        use tobira::clock::Clock;
        let today = tobira::clock::SystemClock.now();
        let day = std::time::Duration::from_secs(86_400);
        let start = tobira::clock::Timestamp::from_millis(today.millis() - 86_400_000);
        c.migration_window = Some((start.jst_date(), today.plus(day * 41).jst_date()));
    }
    if c.legacy_portal_key_sha256.is_none() {
        c.legacy_portal_key_sha256 = Some(tobira::random::token_hash(DEMO_LEGACY_KEY));
    }
    c
}

/// The local demo's legacy-portal key (never used when a hash is configured).
const DEMO_LEGACY_KEY: &str = "tobira-demo-legacy-portal-key";

#[tokio::main]
async fn main() -> ExitCode {
    if std::env::var_os("RUST_LOG").is_none() {
        std::env::set_var("RUST_LOG", "warn");
    }
    tobira_web::init_logging();
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{e}{}{USAGE}", if e.is_empty() { "" } else { "\n" });
            return ExitCode::from(tobira_local::cli::exit::USAGE);
        }
    };
    match args.command.as_str() {
        "serve" => serve(args).await,
        "invoke" => invoke(args).await,
        "migrate" => migrate(args).await,
        other => {
            eprintln!("unknown command {other:?}\n{USAGE}");
            ExitCode::from(2)
        }
    }
}

/// Whether the demo's tenant admin is in the store (a data dir made before
/// it was seeded has none).
async fn demo_admin_exists(local: &Local) -> bool {
    let Ok(login) = tobira::ids::LoginId::parse(tobira_local::DEMO_ADMIN) else {
        return false;
    };
    matches!(local.app.user_by_login(&login).await, Ok(Some(_)))
}

/// The local portal on `args.data_dir`, or the reason on stderr.
fn open(args: &Args, base_url: &str) -> Option<Local> {
    Local::open(&args.data_dir, config(base_url))
        .map_err(|e| eprintln!("tobira: {e}"))
        .ok()
}

async fn serve(args: Args) -> ExitCode {
    let base_url = args.base_url();
    let Some(local) = open(&args, &base_url) else {
        return ExitCode::FAILURE;
    };
    match local.seed_demo().await {
        Ok(Some(report)) => {
            let counts = |a: &str| report[a]["counts"].to_string();
            println!(
                "first start: demo users migrated into {}",
                args.data_dir.display()
            );
            println!("  import: {}", counts("import"));
            println!("  apply:  {}", counts("apply"));
            println!("  setup links: {}", report["send-setup-links"]);
            println!(
                "  created by an admin (registration mail in the outbox): {}",
                report["admin-created"]
            );
        }
        Ok(None) => println!("data: {} (already migrated)", args.data_dir.display()),
        Err(e) => {
            eprintln!("tobira: demo migration failed: {e}");
            return ExitCode::FAILURE;
        }
    }
    let listener = match tokio::net::TcpListener::bind(("127.0.0.1", args.port)).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("tobira: cannot listen on 127.0.0.1:{}: {e}", args.port);
            return ExitCode::FAILURE;
        }
    };
    println!("outbox (setup mails, codes): {base_url}/_dev/outbox");
    println!("sign in: {base_url}/login");
    if demo_admin_exists(&local).await {
        println!(
            "tenant admin (users at /admin/users): login ID {} password {} — second factor: the e-mail code in the outbox",
            tobira_local::DEMO_ADMIN,
            tobira_local::DEMO_ADMIN_PASSWORD
        );
    }
    if let Some((a, b)) = &local.app.config.migration_window {
        println!("migration window: {a} to {b} (legacy-portal API: Authorization: Bearer {DEMO_LEGACY_KEY}, unless TOBIRA_LEGACY_PORTAL_KEY_SHA256 is set)");
    }
    println!("tobira listening on {base_url}");
    if let Err(e) = tobira_local::serve(local, listener).await {
        eprintln!("tobira: {e}");
        return ExitCode::FAILURE;
    }
    ExitCode::SUCCESS
}

async fn invoke(args: Args) -> ExitCode {
    let [function, file] = args.positional.as_slice() else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let event = match std::fs::read_to_string(file) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("tobira: cannot read {file}: {e}");
            return ExitCode::FAILURE;
        }
    };
    let base_url = args.base_url();
    let Some(local) = open(&args, &base_url) else {
        return ExitCode::FAILURE;
    };
    let answer = tobira_local::invoke(&local.app, function, &event).await;
    // The notices it wrote go to the outbox page now, as a running portal's
    // sender would take them (what fails stays for the portal's sender).
    if let Err(e) = local.deliver().await {
        eprintln!(
            "tobira: notices wait in the store: {}",
            tobira_web::errors::ops_message(&e)
        );
    }
    match answer {
        Ok(v) => {
            println!("{}", serde_json::to_string_pretty(&v).expect("JSON"));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!(
                "{}",
                serde_json::json!({ "error": e.code(), "message": tobira_web::errors::ops_message(&e) })
            );
            ExitCode::FAILURE
        }
    }
}

/// Import and apply a legacy export into the local store, with progress
/// on stderr, the summary on stdout and every line's outcome in the report.
async fn migrate(args: Args) -> ExitCode {
    use std::io::IsTerminal;
    use tobira_local::cli::{exit, Format};
    let [file] = args.positional.as_slice() else {
        eprintln!("{USAGE}");
        return ExitCode::from(exit::USAGE);
    };
    let report_path = args.report.clone().unwrap_or_else(|| {
        let stamp: String = {
            use tobira::clock::Clock;
            tobira::clock::SystemClock.now().rfc3339()
        }
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .collect();
        let dry = if args.dry_run { "-dry-run" } else { "" };
        PathBuf::from(format!("migrate-report-{stamp}{dry}.csv"))
    });
    let format = match Format::of(&report_path) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("tobira: {e}\n{USAGE}");
            return ExitCode::from(exit::USAGE);
        }
    };
    if let Err(e) = std::fs::File::open(file) {
        eprintln!("tobira: cannot read {file}: {e}");
        return ExitCode::from(exit::FAILED);
    }
    let base_url = args.base_url();
    let scratch;
    let local = if args.dry_run {
        match Local::open_copy(&args.data_dir, config(&base_url)) {
            Ok(s) => {
                scratch = s;
                scratch.local().clone()
            }
            Err(e) => {
                eprintln!("tobira: {e}");
                return ExitCode::from(exit::FAILED);
            }
        }
    } else {
        match open(&args, &base_url) {
            Some(l) => l,
            None => return ExitCode::from(exit::FAILED),
        }
    };
    // Made before anything is migrated, never over an earlier report.
    let mut out = match std::fs::File::create_new(&report_path) {
        Ok(f) => std::io::BufWriter::new(f),
        Err(e) => {
            eprintln!(
                "tobira: cannot create the report {}: {e}",
                report_path.display()
            );
            return ExitCode::from(exit::FAILED);
        }
    };
    let opts = tobira_local::cli::MigrateOptions {
        chunk: args.chunk,
        dry_run: args.dry_run,
        all_pending: args.all_pending,
    };
    let tty = std::io::stderr().is_terminal();
    let mut err = std::io::stderr();
    let work = tobira_local::cli::migrate_file(&local.app, file.as_ref(), &opts, &mut err, tty);
    // Ctrl-C: stop between records (each is one atomic write; a re-run goes
    // on), and let a dry run's copy be removed on the way out.
    let run = tokio::select! {
        r = work => r,
        _ = tokio::signal::ctrl_c() => Err("interrupted: what was applied stays; run it again to go on".into()),
    };
    let run = match run {
        Ok(run) => run,
        Err(e) => {
            eprintln!("tobira: {e}");
            return ExitCode::from(exit::FAILED);
        }
    };
    if let Err(e) = tobira_local::report::write(&mut out, format, &run.report) {
        eprintln!(
            "tobira: cannot write the report {}: {e}",
            report_path.display()
        );
        return ExitCode::from(exit::FAILED);
    }
    for l in run
        .report
        .iter()
        .filter(|l| l.outcome == "rejected")
        .take(10)
    {
        let n = l.line.map_or("-".into(), |n| n.to_string());
        eprintln!("rejected line {n}: {}", l.reason);
    }
    if let Some(f) = &run.fault {
        eprintln!("tobira: the run stopped: {f}");
    }
    let code = run.exit_code();
    let out = serde_json::json!({
        "dry_run": args.dry_run,
        "batch": run.batch,
        "lines": run.lines,
        "applied": run.applied,
        "counts": run.counts(),
        "report": report_path.display().to_string(),
        "fault": run.fault,
        "exit": code,
    });
    println!("{out:#}");
    ExitCode::from(code)
}
