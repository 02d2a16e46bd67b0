//! `tobira migrate` as an operator runs it (issue 16, item 10): a report of
//! every line in a file it names, a dry run that leaves the store as it
//! was, a run that applies only its own file, a file that is all wrong
//! applying nothing, exit codes, and a summary that counts every user.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

use crate::support::SAMPLE;

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("tobira-mcli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn tobira(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tobira"))
        .args(args)
        .arg("--data-dir")
        .arg(dir.join("data"))
        .current_dir(dir)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

/// `tobira migrate <file> --report <report> [extra]`: exit code, summary.
fn migrate(dir: &Path, file: &str, report: &str, extra: &[&str]) -> (i32, Value, String) {
    let mut args = vec!["migrate", file, "--chunk", "4", "--report", report];
    args.extend_from_slice(extra);
    let out = tobira(dir, &args);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    let summary = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.code().unwrap(), summary, err)
}

fn jsonl(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Every item and outbox row of the local store, in order.
fn dump(dir: &Path) -> Vec<String> {
    let conn = rusqlite::Connection::open(dir.join("data/tobira.db")).unwrap();
    let mut out = Vec::new();
    for sql in [
        "SELECT pk || '|' || sk || '|' || data || '|' || v || '|' || IFNULL(exp, '') FROM items ORDER BY pk, sk",
        "SELECT id || '|' || recipient || '|' || subject FROM outbox ORDER BY id",
    ] {
        let mut st = conn.prepare(sql).unwrap();
        let rows = st.query_map([], |r| r.get::<_, String>(0)).unwrap();
        out.extend(rows.map(Result::unwrap));
    }
    out
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    std::fs::write(dir.join(name), text).unwrap();
    name.to_string()
}

/// The sample export, then a line that is not JSON, a record that is not
/// valid, and taro's record again (line 16 supersedes line 1).
fn messy_export() -> String {
    let mut text = SAMPLE.to_string();
    text.push_str("this line is not JSON\n");
    text.push_str("{\"login_id\": \"only-a-login@example.com\"}\n");
    text.push_str(SAMPLE.lines().next().unwrap());
    text.push('\n');
    text
}

// MIG-8, MIG-9 (issue 16 item 10): the report names every line.
#[test]
fn mig_8_migrate_writes_a_report_of_every_line_in_csv_or_jsonl() {
    let dir = temp_dir("report");
    let file = write(&dir, "export.jsonl", &messy_export());
    let (code, summary, err) = migrate(&dir, &file, "report.jsonl", &[]);
    assert_eq!(code, 3, "done with rejections: {err}");
    assert_eq!(summary["exit"], 3);
    assert_eq!(summary["report"], "report.jsonl");
    let lines = jsonl(&dir.join("report.jsonl"));
    assert_eq!(lines.len(), 16, "one report line per line of the file");
    let nums: Vec<u64> = lines.iter().map(|l| l["line"].as_u64().unwrap()).collect();
    assert_eq!(nums, (1..=16).collect::<Vec<_>>());
    let at = |n: usize| &lines[n - 1];
    assert_eq!(at(1)["outcome"], "superseded");
    assert!(at(1)["reason"].as_str().unwrap().contains("line 16"));
    assert_eq!(at(16)["outcome"], "migrated");
    assert_eq!(at(16)["final_login_id"], "taro.yamada@example.co.jp");
    // hanako's phone was normalised: before and after are both there.
    assert_eq!(at(2)["outcome"], "phone_normalised");
    assert_eq!(at(2)["phone_before"], "03-1234-5679");
    assert_eq!(at(2)["phone_after"], "0312345679");
    // The second claimant of shared@example.com is renamed (MIG-3).
    assert_eq!(at(7)["outcome"], "renamed");
    assert_eq!(at(7)["final_login_id"], "shared@example.com_ecid1000000007");
    assert_eq!(at(14)["outcome"], "rejected");
    assert!(at(14)["reason"].as_str().unwrap().starts_with("not JSON"));
    assert_eq!(at(15)["outcome"], "rejected");
    assert!(!at(15)["reason"].as_str().unwrap().is_empty());
    assert!(lines
        .iter()
        .all(|l| l["ecid"].is_string() && l["tenant_id"].is_string()));
    // The summary counts every user the run created, renamed ones and
    // those whose phone was changed included.
    let c = &summary["counts"];
    assert_eq!(c["migrated"], 13, "{summary}");
    assert!(c["renamed"].as_u64().unwrap() >= 1);
    assert!(c["phone_normalised"].as_u64().unwrap() >= 1);
    assert_eq!(c["rejected"], 2);
    assert_eq!(c["superseded"], 1);
    assert_eq!(summary["lines"], 16);

    // The same file again, as CSV: every line already there (taro's two
    // lines too: neither is staged again).
    let (code, summary, _) = migrate(&dir, &file, "again.csv", &[]);
    assert_eq!(code, 3, "the two bad lines are still bad");
    assert_eq!(summary["counts"]["migrated"], 0);
    assert_eq!(summary["counts"]["already_migrated"], 14);
    let csv = std::fs::read_to_string(dir.join("again.csv")).unwrap();
    assert!(csv.starts_with("\u{feff}\"line\",\"tenant_id\",\"ecid\",\"outcome\",\"login_id\",\"final_login_id\",\"phone_before\",\"phone_after\",\"reason\"\r\n"));
    assert_eq!(csv.matches("\r\n").count(), 17, "a header and 16 lines");
    assert!(csv.contains("\"16\",\"econ1000000001\",\"ecid1000000001\",\"already_migrated\""));
    // A report is never written over an earlier one.
    let (code, _, err) = migrate(&dir, &file, "again.csv", &[]);
    assert_eq!(code, 1);
    assert!(err.contains("cannot create the report"), "{err}");
    // A report that is neither CSV nor JSONL is a wrong command line.
    let (code, _, err) = migrate(&dir, &file, "report.txt", &[]);
    assert_eq!(code, 2);
    assert!(err.contains(".csv or a .jsonl"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

// MIG-9 (issue 16 item 10): a dry run leaves the store exactly as it was,
// and its report is what the real run then does.
#[test]
fn mig_9_dry_run_leaves_the_store_as_it_found_it_and_reports_the_real_run() {
    let dir = temp_dir("dry-run");
    // Nothing there yet: the dry run does not even make the data directory.
    let file = write(&dir, "export.jsonl", &messy_export());
    let (code, summary, err) = migrate(&dir, &file, "dry.jsonl", &["--dry-run"]);
    assert_eq!(code, 3, "{err}");
    assert_eq!(summary["dry_run"], true);
    assert_eq!(summary["counts"]["migrated"], 13);
    assert!(
        !dir.join("data").exists(),
        "a dry run made the data directory"
    );

    // With data: a first file for real, then a dry run of a second one.
    let first: String = SAMPLE.lines().take(6).map(|l| format!("{l}\n")).collect();
    let first = write(&dir, "first.jsonl", &first);
    assert_eq!(migrate(&dir, &first, "first.csv", &[]).0, 0);
    let before = dump(&dir);
    let (code, dry, err) = migrate(&dir, &file, "dry2.jsonl", &["--dry-run"]);
    assert_eq!(code, 3, "{err}");
    assert_eq!(dump(&dir), before, "the dry run changed the store");
    // Lines 1-6 and 16 are there already; 7-13 would be created.
    assert_eq!(dry["counts"]["already_migrated"], 7, "{dry}");
    assert_eq!(dry["counts"]["migrated"], 7, "{dry}");
    // The real run does what the dry run said, line for line.
    let (code, real, _) = migrate(&dir, &file, "real.jsonl", &[]);
    assert_eq!(code, 3);
    assert_eq!(real["counts"], dry["counts"]);
    assert_eq!(
        jsonl(&dir.join("real.jsonl")),
        jsonl(&dir.join("dry2.jsonl"))
    );
    assert_ne!(dump(&dir), before);
    let _ = std::fs::remove_dir_all(&dir);
}

/// Stage records with the ops event, without applying them (as another
/// operator's import would leave them).
fn stage_elsewhere(dir: &Path, lines: &str) {
    let records: Vec<Value> = lines
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let event = serde_json::json!({ "action": "import", "records": records }).to_string();
    let file = write(dir, "import.json", &event);
    let out = tobira(dir, &["invoke", "migrate-batch", &file]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

fn pending(dir: &Path) -> u64 {
    let file = write(dir, "status.json", r#"{"action": "status"}"#);
    let out = tobira(dir, &["invoke", "migrate-batch", &file]);
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v["counts"]["pending"].as_u64().unwrap()
}

// MIG-8 (issue 16 item 10): a run applies what its own file staged; a
// file that is all wrong applies nothing; --all-pending takes the rest.
#[test]
fn mig_8_migrate_applies_only_its_own_file_unless_told_otherwise() {
    let dir = temp_dir("own-file");
    let sample: Vec<&str> = SAMPLE.lines().collect();
    stage_elsewhere(&dir, &sample[..3].join("\n"));
    assert_eq!(pending(&dir), 3);

    let mine = write(&dir, "mine.jsonl", &sample[3..6].join("\n"));
    let (code, summary, err) = migrate(&dir, &mine, "mine.jsonl.report.jsonl", &[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(summary["applied"], "file");
    assert_eq!(summary["counts"]["migrated"], 3);
    assert_eq!(
        pending(&dir),
        3,
        "the other import's records are not this run's"
    );

    // Every line wrong: nothing applied, not even with --all-pending.
    let wrong = write(&dir, "wrong.jsonl", "not JSON\n{\"login_id\": \"x\"}\n\n");
    for extra in [&[][..], &["--all-pending"][..]] {
        let report = format!("wrong{}.csv", extra.len());
        let (code, summary, err) = migrate(&dir, &wrong, &report, extra);
        assert_eq!(code, 4, "{err}");
        assert_eq!(summary["applied"], "nothing");
        assert_eq!(summary["lines"], 2);
        assert_eq!(summary["counts"]["rejected"], 2);
        assert_eq!(
            pending(&dir),
            3,
            "a file of rejected lines applied something"
        );
    }

    // Told otherwise: the other records are applied too, reported without
    // a line number of this file.
    let more = write(&dir, "more.jsonl", sample[6]);
    let (code, summary, err) = migrate(&dir, &more, "more.jsonl.report.jsonl", &["--all-pending"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(summary["applied"], "all_pending");
    assert_eq!(summary["counts"]["migrated"], 4);
    assert_eq!(pending(&dir), 0);
    let lines = jsonl(&dir.join("more.jsonl.report.jsonl"));
    assert_eq!(lines[0]["line"], 1);
    assert_eq!(lines.iter().filter(|l| l["line"].is_null()).count(), 3);
    let _ = std::fs::remove_dir_all(&dir);
}

// Issue 16 item 10: exit codes tell success, rejections and failure apart;
// a fault stops the run with exit 1 and the report still written.
#[test]
fn migrate_exit_codes_tell_success_rejections_and_failure_apart() {
    let dir = temp_dir("exit");
    let good = write(
        &dir,
        "good.jsonl",
        &SAMPLE.lines().take(2).collect::<Vec<_>>().join("\n"),
    );
    assert_eq!(migrate(&dir, &good, "a.csv", &[]).0, 0);
    assert_eq!(
        migrate(&dir, &good, "b.csv", &[]).0,
        0,
        "already migrated is success"
    );
    // No such file: a failure, and no report left behind.
    let (code, _, err) = migrate(&dir, "missing.jsonl", "c.csv", &[]);
    assert_eq!(code, 1);
    assert!(err.contains("cannot read missing.jsonl"), "{err}");
    assert!(!dir.join("c.csv").exists());
    // A store that cannot be opened: a failure, nothing applied.
    std::fs::write(dir.join("not-a-dir"), "").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_tobira"))
        .args([
            "migrate",
            &good,
            "--report",
            "d.csv",
            "--data-dir",
            "not-a-dir",
        ])
        .current_dir(&dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        !dir.join("d.csv").exists(),
        "no report of a run that never started"
    );
    // Issue 16 item 2: a refused record's reason speaks to the operator, after its code.
    let bad = r#"{"login_id": "x@example.com", "ecid": "ecid9", "email": "x@example.com", "name": "X", "tenant_id": "econ1", "role": "superuser"}"#;
    let bad = write(&dir, "bad.jsonl", bad);
    let (code, _, _) = migrate(&dir, &bad, "e.jsonl", &[]);
    assert_eq!(code, 4);
    let reason = jsonl(&dir.join("e.jsonl"))[0]["reason"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        reason,
        "invalid_role: The role is admin or general (\"superuser\")."
    );
    // Usage: no file.
    let out = tobira(&dir, &["migrate"]);
    assert_eq!(out.status.code(), Some(2));
    let usage = String::from_utf8_lossy(&out.stderr);
    assert!(usage.contains("Exit codes: 0"), "{usage}");
    let _ = std::fs::remove_dir_all(&dir);
}
