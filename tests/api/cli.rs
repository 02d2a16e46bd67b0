//! `tobira migrate`: the operator's local import of a JSONL export, through
//! the real `migrate-batch` handler, with a progress bar (issue 3, MIG-1).

use std::process::Command;

use crate::support::SAMPLE;

fn temp_dir(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("tobira-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

// MIG-1, MIG-8
#[test]
fn mig_1_migrate_command_imports_a_jsonl_export_with_progress_and_reports_bad_lines() {
    let dir = temp_dir("migrate");
    let file = dir.join("export.jsonl");
    let mut text = SAMPLE.to_string();
    text.push_str("this line is not JSON\n");
    text.push_str("{\"login_id\": \"only-a-login@example.com\"}\n");
    std::fs::write(&file, text).unwrap();
    let run = |report: &str| {
        Command::new(env!("CARGO_BIN_EXE_tobira"))
            .arg("migrate")
            .arg(&file)
            .args(["--chunk", "4", "--report", report, "--data-dir"])
            .arg(dir.join("data"))
            .current_dir(&dir)
            .env("RUST_LOG", "warn")
            .output()
            .unwrap()
    };
    let out = run("first.csv");
    assert_eq!(
        out.status.code(),
        Some(3),
        "done, with rejected lines: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["lines"], 15);
    assert_eq!(
        report["counts"]["rejected"], 2,
        "the line that is not JSON and the malformed record"
    );
    assert_eq!(report["counts"]["renamed"], 1);
    assert_eq!(report["counts"]["migrated"], 13);
    let progress = String::from_utf8_lossy(&out.stderr);
    assert!(progress.contains("import  [###"), "{progress}");
    assert!(
        progress.contains("apply   [##############################] 13/13 100%"),
        "{progress}"
    );
    assert!(
        progress.contains("rejected line 14: not JSON"),
        "{progress}"
    );
    // A second run over the same data: nobody twice.
    let again = run("second.csv");
    let report: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(report["counts"]["already_migrated"], 13);
    assert_eq!(report["counts"]["migrated"], 0);
    let _ = std::fs::remove_dir_all(&dir);
}

/// `tobira invoke <function> <event>` in `dir`: exit code, stdout, stderr.
fn invoke(dir: &std::path::Path, function: &str, event: &str) -> (i32, String, String) {
    let file = dir.join(format!("{function}.json"));
    std::fs::write(&file, event).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_tobira"))
        .args(["invoke", function])
        .arg(&file)
        .arg("--data-dir")
        .arg(dir.join("data"))
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (
        out.status.code().unwrap(),
        text(&out.stdout),
        text(&out.stderr),
    )
}

// Issue 16: ops answers speak to operators and say what is valid.
#[test]
fn ops_answers_name_what_is_valid_unknown_function_and_unknown_case() {
    let dir = temp_dir("ops-answers");
    let (code, _, err) = invoke(&dir, "log-in", "{}");
    assert_eq!(code, 1);
    let answer: serde_json::Value = serde_json::from_str(err.trim()).unwrap();
    assert_eq!(answer["error"], "unknown_function");
    let msg = answer["message"].as_str().unwrap();
    for f in ["login", "migrate-batch", "manage-users"] {
        assert!(msg.contains(f), "{msg}");
    }
    let event = r#"{"action": "case-update", "number": "CS9999999", "status": "resolved"}"#;
    let (code, _, err) = invoke(&dir, "migrate-batch", event);
    assert_eq!(code, 1);
    let answer: serde_json::Value = serde_json::from_str(err.trim()).unwrap();
    assert_eq!(answer["error"], "not_found");
    let msg = answer["message"].as_str().unwrap();
    assert!(msg.contains("no case has the event's `number`"), "{msg}");
    assert!(!msg.contains("Page"), "not a web page's words: {msg}");
}
