//! The SAM template: valid (cfn-lint), and its routes are exactly the route
//! table's, each on the function that serves it.

use std::collections::BTreeSet;
use std::process::Command;

const TEMPLATE: &str = include_str!("../../infra/template.yaml");

/// (function binary, METHOD, path) for every HttpApi event in the template.
fn template_routes() -> BTreeSet<(String, String, String)> {
    let mut out = BTreeSet::new();
    let (mut binary, mut method) = (String::new(), String::new());
    for line in TEMPLATE.lines() {
        let t = line.trim();
        if let Some(b) = t.strip_prefix("Binary:") {
            binary = b.trim().to_string();
        } else if let Some(m) = t.strip_prefix("Method:") {
            method = m.trim().to_string();
        } else if let Some(p) = t.strip_prefix("Path:") {
            out.insert((binary.clone(), method.clone(), p.trim().to_string()));
        }
    }
    out
}

#[test]
fn template_declares_every_route_on_its_function() {
    let declared = template_routes();
    let expected: BTreeSet<_> = tobira_web::routes::ROUTES
        .iter()
        .map(|r| {
            (
                r.function.to_string(),
                r.method.to_string(),
                r.path.to_string(),
            )
        })
        .collect();
    let missing: Vec<_> = expected.difference(&declared).collect();
    let extra: Vec<_> = declared.difference(&expected).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "missing from template: {missing:?}\nnot in the route table: {extra:?}"
    );
}

/// API Gateway's `$default` route (an HttpApi event without Path and
/// Method) is declared once, on `routes::FALLBACK`'s function, so that a
/// known path with another method gets 405 with `Allow` in AWS too.
#[test]
fn template_sends_unmatched_requests_to_the_fallback_function() {
    let events = TEMPLATE.matches("Type: HttpApi").count();
    let routes = TEMPLATE
        .lines()
        .filter(|l| l.trim().starts_with("Path:"))
        .count();
    assert_eq!(
        events,
        routes + 1,
        "exactly one HttpApi event without a Path"
    );
    let (before, _) = TEMPLATE
        .split_once("        Fallback:\n")
        .expect("the Fallback event");
    let owner = before
        .lines()
        .rev()
        .find_map(|l| l.trim().strip_prefix("Binary:"))
        .map(str::trim);
    assert_eq!(owner, Some(tobira_web::routes::FALLBACK));
}

#[test]
fn template_declares_nine_x86_64_al2023_functions_a_ttl_table_and_a_schedule() {
    for f in tobira_web::routes::FUNCTIONS {
        assert!(TEMPLATE.contains(&format!("Binary: {f}\n")), "function {f}");
    }
    assert_eq!(
        TEMPLATE.matches("BuildMethod: rust-cargolambda").count(),
        tobira_web::routes::FUNCTIONS.len()
    );
    assert!(TEMPLATE.contains("Runtime: provided.al2023"));
    assert!(TEMPLATE.contains("Architectures: [x86_64]"));
    assert!(!TEMPLATE.contains("arm64"));
    assert!(TEMPLATE.contains("AttributeName: ttl"));
    assert!(
        TEMPLATE.contains("{\"action\":\"continue\"}") || TEMPLATE.contains("action: continue")
    );
    // Least privilege: SNS publish only for sms-otp.
    assert_eq!(TEMPLATE.matches("sns:Publish").count(), 1);
}

/// The functions (their template sections) that may call `action`.
fn functions_allowed(action: &str) -> BTreeSet<String> {
    functions_with(&format!("Action: {action}"))
}

/// The functions whose definition has the line `wanted` (trimmed).
fn functions_with(wanted: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut current = None;
    for line in TEMPLATE.lines() {
        let is_resource = line.starts_with("  ") && !line.starts_with("   ") && line.ends_with(':');
        if is_resource {
            current = line.trim().strip_suffix("Function:").map(String::from);
        }
        if line.trim() == wanted {
            if let Some(f) = &current {
                out.insert(f.clone());
            }
        }
    }
    out
}

// Issue 17 item 5: notices go through the outbox, so only the functions
// that still send do: e-mail codes (send-mail-otp, MFA-3) and the outbox's
// sender with MIG-12's notice (migrate-batch); SMS codes (sms-otp).
#[test]
fn template_lets_only_the_senders_send() {
    let ses = functions_allowed("ses:SendEmail");
    assert_eq!(
        ses,
        BTreeSet::from(["MigrateBatch".to_string(), "SendMailOtp".to_string()])
    );
    assert_eq!(
        functions_allowed("sns:Publish"),
        BTreeSet::from(["SmsOtp".to_string()])
    );
    // The outbox's stream and its retry schedule reach migrate-batch.
    assert!(TEMPLATE.contains("StreamViewType: KEYS_ONLY"));
    assert!(TEMPLATE.contains("Stream: !GetAtt Table.StreamArn"));
    assert!(TEMPLATE.contains("Input: '{\"action\":\"deliver-notices\"}'"));
}

/// What a function's `main.rs` wires as its senders: `http_lambda_main!`
/// with or without `sends = tobira_aws::sends_…`, or `app_from_env(…)` with
/// one of the constructors — and nothing else (comments aside).
pub fn wired_senders(name: &str, main: &str) -> &'static str {
    let code: String = main
        .lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .collect::<Vec<_>>()
        .join("\n");
    let mut found = Vec::new();
    for (form, sends) in [
        ("sends = tobira_aws::sends_mail)", "mail"),
        ("sends = tobira_aws::sends_sms)", "sms"),
        ("app_from_env(tobira_aws::sends_mail)", "mail"),
        ("app_from_env(tobira_aws::sends_sms)", "sms"),
        ("app_from_env(tobira_aws::sends_nothing)", "nothing"),
    ] {
        found.extend(std::iter::repeat_n(sends, code.matches(form).count()));
    }
    let macros = code.matches("http_lambda_main!(").count();
    let plain = macros - code.matches("sends = ").count().min(macros);
    found.extend(std::iter::repeat_n("nothing", plain));
    let wirings = macros + code.matches("app_from_env(").count();
    assert!(
        found.len() == 1 && wirings == 1 && !code.contains("App {"),
        "{name}: main.rs must wire its senders once, through the macro or \
         app_from_env with a tobira_aws constructor"
    );
    found[0]
}

/// CASE-6: whether a `main.rs` wires the S3 file store (comments aside).
pub fn wires_files(main: &str) -> bool {
    main.lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .any(|l| l.contains("files = tobira_aws::files_s3"))
}

/// MFA-10: whether a Lambda's `main.rs` wires the WebAuthn ceremonies.
pub fn wires_ceremonies(main: &str) -> bool {
    main.lines()
        .map(|l| l.split("//").next().unwrap_or(""))
        .any(|l| l.contains("ceremonies = tobira_passkeys::from_config"))
}

/// MFA-10: only the functions that serve the passkey routes run WebAuthn
/// ceremonies (and link webauthn-rs).
#[test]
fn mfa_10_only_login_and_enroll_totp_run_webauthn_ceremonies() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/functions");
    let mut wired = BTreeSet::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let main = std::fs::read_to_string(entry.path().join("lambda/main.rs")).unwrap();
        if wires_ceremonies(&main) {
            wired.insert(entry.file_name().into_string().unwrap());
        }
    }
    let serving: BTreeSet<String> = tobira_web::routes::ROUTES
        .iter()
        .filter(|r| r.path.contains("passkey"))
        .map(|r| r.function.to_string())
        .collect();
    assert_eq!(wired, serving);
    assert_eq!(
        wired,
        BTreeSet::from(["enroll-totp".to_string(), "login".to_string()])
    );
}

/// CASE-6: only create-case has a file store, and it is the only function
/// with rights on the attachments bucket: put, read, tag and delete
/// versions under `att/`, list (so a missing key is 404), never the
/// bucket's settings.
#[test]
fn case_6_only_create_case_reaches_the_attachments_bucket() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/functions");
    let mut wired = BTreeSet::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let main = std::fs::read_to_string(entry.path().join("lambda/main.rs")).unwrap();
        if wires_files(&main) {
            wired.insert(entry.file_name().into_string().unwrap());
        }
    }
    assert_eq!(wired, BTreeSet::from(["create-case".to_string()]));
    let s3: Vec<&str> = TEMPLATE
        .lines()
        .map(str::trim)
        .filter(|l| l.contains("s3:") && !l.starts_with('#'))
        // The bucket policy's one statement denies every call without TLS.
        .filter(|l| *l != "Action: \"s3:*\"")
        .collect();
    assert!(TEMPLATE
        .contains("Effect: Deny\n            Principal: \"*\"\n            Action: \"s3:*\""));
    assert_eq!(
        s3,
        [
            "- s3:PutObject",
            "- s3:PutObjectTagging",
            "- s3:PutObjectVersionTagging",
            "- s3:GetObject",
            "- s3:GetObjectVersion",
            "- s3:DeleteObjectVersion",
            "Action: s3:ListBucket",
        ],
        "the template's S3 rights"
    );
    for line in s3 {
        assert_eq!(
            functions_with(line),
            BTreeSet::from(["CreateCase".to_string()])
        );
    }
    assert!(TEMPLATE.contains("Resource: !Sub ${AttachmentsBucket.Arn}/att/*"));
    for setting in [
        "BlockPublicAcls: true",
        "BlockPublicPolicy: true",
        "IgnorePublicAcls: true",
        "RestrictPublicBuckets: true",
        "SSEAlgorithm: AES256",
        "ExpirationInDays: 1",
        "NoncurrentDays: 1",
        "Status: Enabled\n      LifecycleConfiguration",
        "Value: pending",
        "- !Ref PortalOrigin",
    ] {
        assert!(TEMPLATE.contains(setting), "{setting}");
    }
}

/// Issue 17 item 3: a function links the SES or SNS SDK only when its
/// `main.rs` names that sender, and it names one exactly when the template
/// lets it send (a function without the right has no client to misuse).
#[test]
fn each_binary_links_only_the_senders_the_template_allows() {
    let (mut mail, mut sms) = (BTreeSet::new(), BTreeSet::new());
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/functions");
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().into_string().unwrap();
        let main = std::fs::read_to_string(entry.path().join("lambda/main.rs")).unwrap();
        let logical: String = name
            .split('-')
            .map(|w| w[..1].to_uppercase() + &w[1..])
            .collect();
        match wired_senders(&name, &main) {
            "mail" => mail.insert(logical),
            "sms" => sms.insert(logical),
            _ => false,
        };
    }
    assert_eq!(mail, functions_allowed("ses:SendEmail"));
    assert_eq!(sms, functions_allowed("sns:Publish"));
    // MFA-9: the function that sends SMS places the calls too.
    assert_eq!(sms, functions_allowed("sms-voice:SendVoiceMessage"));
    // Every SES or SNS right is one of those two grants (no list form, no
    // wildcard, no other action that the sets above would not see).
    for line in TEMPLATE.lines().map(str::trim) {
        let action = line.strip_prefix("- ").unwrap_or(line);
        let grants = ["Action: ses:SendEmail", "Action: sns:Publish"];
        let mentions = action.contains("ses:") || action.contains("sns:");
        let known = grants.contains(&action)
            || action.starts_with('#')
            || action.starts_with("Resource: !Sub arn:${AWS::Partition}:ses:")
            || action.starts_with("ses:FromAddress:");
        assert!(
            !mentions || known,
            "an SES or SNS right the test does not know: {line}"
        );
    }
}

// MFA-9: voice calls are placed by sms-otp (the function that wires
// `sends_sms`) alone, only where voice codes are on, with the one action
// `sms-voice:SendVoiceMessage` and only from the deployment's own phone
// number or pool; no other End User Messaging right, no wildcard. The
// switch reaches every function (the challenge and enrolment offer voice
// only where it is on); the origination only sms-otp.
#[test]
fn mfa_9_only_sms_otp_places_calls_from_the_origination_identity() {
    assert_eq!(TEMPLATE.matches("sms-voice:SendVoiceMessage").count(), 1);
    assert_eq!(
        functions_allowed("sms-voice:SendVoiceMessage"),
        BTreeSet::from(["SmsOtp".to_string()])
    );
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/functions");
    let main = std::fs::read_to_string(format!("{dir}/sms-otp/lambda/main.rs")).unwrap();
    assert_eq!(wired_senders("sms-otp", &main), "sms");

    // The grant: only under VoiceCodesOn, on the origination identity.
    let lines: Vec<&str> = TEMPLATE.lines().map(str::trim).collect();
    let at = lines
        .iter()
        .position(|l| *l == "Action: sms-voice:SendVoiceMessage")
        .expect("the grant");
    assert_eq!(
        lines[at - 4..=at + 2],
        [
            "- !If",
            "- VoiceCodesOn",
            "- Sid: CallFromTheOriginationIdentity",
            "Effect: Allow",
            "Action: sms-voice:SendVoiceMessage",
            "Resource: !Ref VoiceOriginationIdentity",
            "- !Ref AWS::NoValue",
        ],
        "the voice grant"
    );
    assert!(TEMPLATE.contains("  VoiceCodesOn: !Equals [!Ref VoiceCodes, \"true\"]\n"));
    // The parameter is an ARN (the grant's resource), of a number or a pool.
    let (_, parameter) = TEMPLATE
        .split_once("\n  VoiceOriginationIdentity:\n")
        .expect("the parameter");
    let parameter: String = parameter
        .lines()
        .take_while(|l| l.starts_with("    "))
        .map(|l| format!("{l}\n"))
        .collect();
    assert!(
        parameter.contains(":sms-voice:") && parameter.contains("(phone-number|pool)/"),
        "{parameter}"
    );
    assert!(parameter.contains("    Default: \"\"\n"));
    // Voice codes on without an identity: the stack refuses to deploy.
    assert!(TEMPLATE.contains(
        "    RuleCondition: !Equals [!Ref VoiceCodes, \"true\"]\n    Assertions:\n      \
         - Assert: !Not [!Equals [!Ref VoiceOriginationIdentity, \"\"]]\n"
    ));

    // No other End User Messaging (or Pinpoint) right among the resources.
    let (_, resources) = TEMPLATE.split_once("\nResources:\n").unwrap();
    for line in resources.lines().map(str::trim) {
        let action = line.strip_prefix("- ").unwrap_or(line);
        let mentions = ["sms-voice", "mobiletargeting", "pinpoint"]
            .iter()
            .any(|s| action.to_lowercase().contains(s));
        let known = action == "Action: sms-voice:SendVoiceMessage" || action.starts_with('#');
        assert!(
            !mentions || known,
            "an End User Messaging right the test does not know: {line}"
        );
    }
    assert!(!TEMPLATE.contains("sms-voice:*") && !TEMPLATE.contains("sms-voice:Send*"));

    // The environment.
    assert_eq!(TEMPLATE.matches("TOBIRA_VOICE_CODES:").count(), 1);
    let (globals, _) = TEMPLATE
        .split_once("\nGlobals:\n")
        .and_then(|(_, g)| g.split_once("\nResources:\n"))
        .unwrap();
    assert!(globals.contains("\n        TOBIRA_VOICE_CODES: !Ref VoiceCodes\n"));
    assert_eq!(TEMPLATE.matches("TOBIRA_VOICE_ORIGINATION:").count(), 1);
    assert_eq!(
        functions_with("TOBIRA_VOICE_ORIGINATION: !Ref VoiceOriginationIdentity"),
        BTreeSet::from(["SmsOtp".to_string()])
    );
    // Only a stand-in sets the endpoint.
    assert!(!TEMPLATE.contains("TOBIRA_VOICE_ENDPOINT"));
}

#[test]
fn the_sender_wiring_check_refuses_what_it_cannot_read() {
    let ok = "tobira_aws::http_lambda_main!(h, sends = tobira_aws::sends_sms);";
    assert_eq!(wired_senders("x", ok), "sms");
    assert_eq!(
        wired_senders("x", "tobira_aws::http_lambda_main!(h);"),
        "nothing"
    );
    // A comment does not wire a sender.
    let commented = "// tobira_aws::sends_mail\ntobira_aws::http_lambda_main!(h);";
    assert_eq!(wired_senders("x", commented), "nothing");
    for bad in [
        "let app = tobira_aws::app_from_env(my_senders).await?;",
        "let app = App { mailer, sms, ..base };",
        "tobira_aws::http_lambda_main!(h);\ntobira_aws::http_lambda_main!(g);",
    ] {
        let caught = std::panic::catch_unwind(|| wired_senders("x", bad));
        assert!(caught.is_err(), "{bad}");
    }
}

#[test]
fn cfn_lint_passes_on_the_template() {
    let template = concat!(env!("CARGO_MANIFEST_DIR"), "/infra/template.yaml");
    let out = Command::new("cfn-lint").arg(template).output().expect(
        "cfn-lint not found: run the suite with scripts/test.sh, which installs it into .venv",
    );
    assert!(
        out.status.success(),
        "cfn-lint found problems:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `cargo tree` of the normal (not test) dependencies, with `args`.
fn cargo_tree(args: &[&str]) -> String {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["tree", "--offline", "--locked", "-e", "normal"])
        .args(args)
        .output()
        .expect("cargo tree");
    assert!(
        out.status.success(),
        "cargo tree {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// The packages `package` builds on its own (`cargo build -p`).
fn normal_dependencies(package: &str) -> String {
    cargo_tree(&["--prefix", "none", "-p", package])
}

/// `package`'s part of `cargo tree` over the default members, as `cargo
/// run --bin tobira` resolves features: unified across every default member
/// (`--no-dedupe`: every subtree in full, not "(*)" when printed before).
fn as_default_member(package: &str) -> String {
    let text = cargo_tree(&["--no-dedupe", "--prefix", "depth"]);
    let mut part = String::new();
    let mut inside = false;
    for line in text.lines() {
        if let Some(root) = line.strip_prefix('0') {
            inside = root.starts_with(&format!("{package} "));
        }
        if inside {
            part.push_str(line);
            part.push('\n');
        }
    }
    assert!(!part.is_empty(), "{package} is no default member");
    part
}

// Issue 14, item 5: `cargo run --bin tobira -- serve` on a fresh clone
// builds no AWS SDK (the local portal uses the embedded store and the
// outbox); every Lambda still links the AWS adapters. (The Lambdas' AWS
// side is a crate of its own, `tobira-aws`, not a feature of `tobira`: a
// feature would be switched on for `cargo run` too, which resolves the
// features of every default member.)
#[test]
fn local_portal_builds_no_aws_sdk_and_every_lambda_does() {
    let local = as_default_member("tobira-local") + &normal_dependencies("tobira-local");
    for sdk in [
        "aws-config ",
        "aws-sdk-dynamodb ",
        "aws-sdk-sesv2 ",
        "aws-sdk-sns ",
        "aws-smithy-",
    ] {
        assert!(!local.contains(sdk), "the local portal builds {sdk}");
    }
    // The fakes are for tests: nothing the portal runs links them.
    assert!(
        !local.contains("tobira-test-kit "),
        "the local portal links the test kit"
    );
    assert!(
        local.contains("rusqlite "),
        "the local portal has its store"
    );
    // The domain and the handlers have no AWS side at all; the Lambdas do.
    for f in ["tobira", "tobira-login", "tobira-migrate-batch"] {
        assert!(
            !normal_dependencies(f).contains("aws-sdk-"),
            "{f} builds the AWS SDK"
        );
    }
    for f in [
        "tobira-login-lambda",
        "tobira-migrate-batch-lambda",
        "tobira-sms-otp-lambda",
    ] {
        let lambda = normal_dependencies(f);
        assert!(
            lambda.contains("aws-sdk-dynamodb "),
            "{f} lacks the DynamoDB adapter"
        );
    }
}

/// The names of the packages in a `cargo tree --prefix none` listing.
fn package_names(tree: &str) -> BTreeSet<String> {
    tree.lines()
        .filter_map(|l| l.split_whitespace().next())
        .map(str::to_string)
        .collect()
}

// Issue 14, item 1: the arrows between the crates are the architecture.
// The domain builds none of the web edge, the adapters or the local store;
// the AWS adapters build no web edge; the web edge builds no adapter.
#[test]
fn the_domain_crate_builds_no_edge_adapter_or_store_crate() {
    let edge_and_adapters = [
        "lambda_http",
        "lambda_runtime",
        "http",
        "hyper",
        "askama",
        "qrcode",
        "serde_urlencoded",
        "rusqlite",
        "tobira-web",
        "tobira-aws",
        "tobira-local",
        "tobira-test-kit",
    ];
    let domain = package_names(&normal_dependencies("tobira"));
    for name in edge_and_adapters {
        assert!(!domain.contains(name), "the domain crate builds {name}");
    }
    assert!(
        !domain.iter().any(|n| n.starts_with("aws-")),
        "the domain crate builds the AWS SDK"
    );
    let aws = package_names(&normal_dependencies("tobira-aws"));
    for name in ["tobira-web", "askama", "qrcode", "rusqlite"] {
        assert!(!aws.contains(name), "the AWS adapters build {name}");
    }
    let web = package_names(&normal_dependencies("tobira-web"));
    assert!(web.contains("askama") && web.contains("tobira"));
    for name in ["tobira-aws", "rusqlite"] {
        assert!(!web.contains(name), "the web edge builds {name}");
    }
    assert!(
        !web.iter().any(|n| n.starts_with("aws-sdk")),
        "the web edge builds the AWS SDK"
    );
}

/// The top-level modules of a crate's `src/` and, for each, the other
/// top-level modules its code (tests aside) names as `crate::<module>`.
fn module_graph(src: &std::path::Path) -> std::collections::BTreeMap<String, BTreeSet<String>> {
    fn files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
        for e in std::fs::read_dir(dir).expect("readable source dir") {
            let p = e.expect("dir entry").path();
            if p.is_dir() {
                files(&p, out);
            } else if p.extension().is_some_and(|x| x == "rs") {
                out.push(p);
            }
        }
    }
    let mut all = Vec::new();
    files(src, &mut all);
    let mut graph = std::collections::BTreeMap::<String, BTreeSet<String>>::new();
    for f in all {
        let rel = f.strip_prefix(src).expect("under src");
        let first = rel.components().next().expect("a file");
        let module = first
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_string();
        if module == "lib" || module == "main" {
            continue;
        }
        let text = std::fs::read_to_string(&f).expect("readable source");
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        let deps = graph.entry(module.clone()).or_default();
        for part in code.split("crate::").skip(1) {
            let dep: String = part
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect();
            if !dep.is_empty() && dep != module {
                deps.insert(dep);
            }
        }
    }
    graph
}

/// A circle of modules that import each other, if the graph has one.
fn circle(graph: &std::collections::BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        m: &str,
        graph: &std::collections::BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = path.iter().position(|p| p == m) {
            return Some(path[i..].to_vec());
        }
        if !done.insert(m.to_string()) {
            return None;
        }
        path.push(m.to_string());
        for d in graph.get(m).into_iter().flatten() {
            if let Some(c) = visit(d, graph, path, done) {
                return Some(c);
            }
        }
        path.pop();
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|m| visit(m, graph, &mut Vec::new(), &mut done))
}

// Issue 14, item 3: no import circle in any crate (at the level of a
// crate's top-level modules: `crate::a` in module b is an arrow b → a).
#[test]
fn no_crate_has_an_import_circle() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut crates = vec!["shared/src", "web/src", "aws/src", "src", "test-kit/src"];
    let functions: Vec<String> = std::fs::read_dir(root.join("functions"))
        .expect("functions/")
        .map(|e| {
            format!(
                "functions/{}/src",
                e.expect("entry").file_name().to_string_lossy()
            )
        })
        .collect();
    crates.extend(functions.iter().map(String::as_str));
    for dir in crates {
        let graph = module_graph(&root.join(dir));
        assert!(
            graph.len() > 1 || !matches!(dir, "shared/src" | "web/src"),
            "{dir}: no modules read"
        );
        if let Some(c) = circle(&graph) {
            panic!(
                "{dir}: the modules {} import each other in a circle",
                c.join(" → ")
            );
        }
    }
    // The check sees a circle when there is one.
    let mut looped = std::collections::BTreeMap::new();
    looped.insert("a".to_string(), BTreeSet::from(["b".to_string()]));
    looped.insert("b".to_string(), BTreeSet::from(["a".to_string()]));
    assert!(circle(&looped).is_some());
}

// Issue 17 item 4: the migration's fan-out is declared — a state machine
// that asks migrate-batch for `apply-chunks` and applies them in a
// distributed Map of `MigrateConcurrency`, going round while records are
// pending — and the table's warm throughput is a parameter.
#[test]
fn template_fans_the_migration_out_with_its_concurrency_and_warm_throughput_as_parameters() {
    for part in [
        "MigrateStateMachine:",
        "Type: AWS::Serverless::StateMachine",
        "action: apply-chunks",
        "Mode: DISTRIBUTED",
        "MaxConcurrencyPath: $.concurrency",
        "States.StringToJson('${Concurrency}')",
        "Concurrency: !Ref MigrateConcurrency",
        "MigrateConcurrency:",
        "WriteUnitsPerSecond: !Ref TableWarmWriteUnits",
        "Variable: $.status.pending",
    ] {
        assert!(TEMPLATE.contains(part), "the template lacks {part:?}");
    }
}
