//! `tobira migrate <file.jsonl>`: an operator's local migration of a legacy
//! export into the embedded store, through the real `migrate-batch`
//! handler, chunk by chunk, with a progress bar on stderr, and a report of
//! every line (`report.rs`).
//!
//! The run applies only what its own file staged (an import batch), unless
//! told to apply everything pending; a file none of whose lines could be
//! staged applies nothing. A dry run is the same run on a throwaway copy of
//! the store (`Local::open_copy`), so its report is exactly what the real
//! run would do and the store stays as it was.

use std::collections::HashMap;
use std::io::BufRead;
use std::path::Path;

use serde_json::{json, Value};
use tobira::App;

pub use crate::report::{Format, ReportLine};

/// How to run a file migration.
#[derive(Clone, Debug)]
pub struct MigrateOptions {
    /// Records per import event and per apply chunk.
    pub chunk: usize,
    /// Whether this run works on a throwaway copy (the caller opens it).
    pub dry_run: bool,
    /// Apply every pending staged record, not only this file's.
    pub all_pending: bool,
}

impl Default for MigrateOptions {
    fn default() -> Self {
        Self {
            chunk: 1_000,
            dry_run: false,
            all_pending: false,
        }
    }
}

/// Exit codes of `tobira migrate` (README, "Migrating users").
pub mod exit {
    /// Every line migrated (or found already migrated).
    pub const OK: u8 = 0;
    /// A fault stopped the run: what was applied stays, a re-run goes on.
    pub const FAILED: u8 = 1;
    /// The command line was wrong: nothing was read or written.
    pub const USAGE: u8 = 2;
    /// Done, but some lines were rejected (see the report).
    pub const REJECTIONS: u8 = 3;
    /// Every line was rejected: nothing was applied.
    pub const ALL_REJECTED: u8 = 4;
}

/// A text progress bar: redrawn in place on a terminal, one line per tenth
/// otherwise (logs, CI).
pub struct Progress<'a> {
    out: &'a mut dyn std::io::Write,
    label: &'static str,
    total: u64,
    tty: bool,
    started: std::time::Instant,
    last_tenth: u64,
}

impl<'a> Progress<'a> {
    #[allow(clippy::disallowed_methods)] // the CLI's own wall clock, for the rate shown
    pub fn new(
        out: &'a mut dyn std::io::Write,
        label: &'static str,
        total: u64,
        tty: bool,
    ) -> Self {
        Self {
            out,
            label,
            total,
            tty,
            started: std::time::Instant::now(),
            last_tenth: u64::MAX,
        }
    }

    pub fn set(&mut self, done: u64) {
        let total = self.total.max(1);
        let done = done.min(total);
        let width = 30u64;
        let filled = (done * width / total) as usize;
        let secs = self.started.elapsed().as_secs_f64().max(1e-3);
        let line = format!(
            "{:<7} [{}{}] {done}/{} {:>3}%  {:.0}/s",
            self.label,
            "#".repeat(filled),
            "-".repeat(width as usize - filled),
            self.total,
            done * 100 / total,
            done as f64 / secs,
        );
        let tenth = done * 10 / total;
        if self.tty {
            let _ = write!(self.out, "\r{line}");
        } else if tenth != self.last_tenth {
            let _ = writeln!(self.out, "{line}");
        }
        self.last_tenth = tenth;
    }

    pub fn finish(&mut self) {
        if self.tty {
            let _ = writeln!(self.out);
        }
    }
}

/// What a file migration did, line by line.
#[derive(Debug, Default)]
pub struct MigrateRun {
    /// The import batch this run staged its records under.
    pub batch: String,
    /// Non-empty lines of the file.
    pub lines: u64,
    /// One line per file line (in order), then any other record the run
    /// applied (`--all-pending`).
    pub report: Vec<ReportLine>,
    /// What the apply step took: `file`, `all_pending`, or `nothing`.
    pub applied: &'static str,
    /// The fault that stopped the run, if one did.
    pub fault: Option<String>,
}

impl MigrateRun {
    /// Lines by outcome; `migrated` is every user the run created,
    /// `renamed` and `phone_normalised` count those of them.
    pub fn counts(&self) -> Value {
        let mut c: std::collections::BTreeMap<&str, u64> = [
            "migrated",
            "renamed",
            "phone_normalised",
            "already_migrated",
            "rejected",
            "superseded",
            "not_applied",
        ]
        .into_iter()
        .map(|k| (k, 0))
        .collect();
        for l in &self.report {
            let outcome = l.outcome.as_str();
            let key = match outcome {
                "migrated" | "renamed" | "phone_normalised" => {
                    *c.entry("renamed").or_default() += u64::from(outcome == "renamed");
                    *c.entry("phone_normalised").or_default() +=
                        u64::from(l.phone_before != l.phone_after);
                    "migrated"
                }
                "already_migrated" | "rejected" | "superseded" => outcome,
                _ => "not_applied",
            };
            *c.entry(key).or_default() += 1;
        }
        json!(c)
    }

    /// The exit code (`exit`): fault, every line rejected, some lines not
    /// done by this run (rejected, or staged and applied by no one here),
    /// or none. Only the file's own lines count.
    pub fn exit_code(&self) -> u8 {
        let own = |outcome: &str| {
            self.report
                .iter()
                .filter(|l| l.line.is_some() && l.outcome == outcome)
                .count() as u64
        };
        let rejected = own("rejected");
        if self.fault.is_some() {
            exit::FAILED
        } else if self.lines > 0 && rejected == self.lines {
            exit::ALL_REJECTED
        } else if rejected > 0 || own("not_applied") > 0 {
            exit::REJECTIONS
        } else {
            exit::OK
        }
    }
}

/// Import `path` (one MIG-1 record per line) and apply what it staged, in
/// chunks. `Err` only when the file cannot be read (nothing done); a fault
/// later is `fault` in the run, with every line's outcome so far.
pub async fn migrate_file(
    app: &App,
    path: &Path,
    opts: &MigrateOptions,
    progress: &mut dyn std::io::Write,
    tty: bool,
) -> Result<MigrateRun, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let lines: Vec<String> = std::io::BufReader::new(file)
        .lines()
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let mut run = MigrateRun {
        batch: tobira::random::new_ulid(app.rng.as_ref(), app.now()).to_string(),
        applied: "nothing",
        ..MigrateRun::default()
    };
    // (file line number, record) of every line that is JSON.
    let mut records: Vec<(u64, Value)> = Vec::new();
    for (n, line) in lines.iter().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        run.lines += 1;
        let n = n as u64 + 1;
        match serde_json::from_str::<Value>(line) {
            Ok(v) => records.push((n, v)),
            Err(e) => run
                .report
                .push(ReportLine::rejected(n, format!("not JSON: {e}"))),
        }
    }
    if let Err(fault) = import_and_apply(app, &mut run, &records, opts, progress, tty).await {
        run.fault = Some(fault);
    }
    run.report.sort_by_key(|l| l.line.unwrap_or(u64::MAX));
    Ok(run)
}

async fn import_and_apply(
    app: &App,
    run: &mut MigrateRun,
    records: &[(u64, Value)],
    opts: &MigrateOptions,
    progress: &mut dyn std::io::Write,
    tty: bool,
) -> Result<(), String> {
    let handle = |event: Value| async move {
        tobira_migrate_batch::handle(app, event)
            .await
            .map_err(|e| format!("migrate-batch: {}", tobira_web::errors::ops_message(&e)))
    };
    // Import: each line's outcome; the lines whose record was staged wait
    // for the apply step's outcome, by tenant and ecid (a later line with
    // the same pair supersedes an earlier one).
    let mut waiting: HashMap<(String, String), usize> = HashMap::new();
    let mut bar = Progress::new(progress, "import", records.len() as u64, tty);
    let mut done = 0u64;
    for chunk in records.chunks(opts.chunk.max(1)) {
        let values: Vec<&Value> = chunk.iter().map(|(_, v)| v).collect();
        let event = json!({ "action": "import", "records": values, "batch": run.batch });
        let r = handle(event).await;
        let r = match r {
            Ok(r) => r,
            Err(e) => {
                // This chunk's lines are not known to be staged.
                for (n, _) in chunk {
                    run.report
                        .push(ReportLine::not_applied(*n, "import failed"));
                }
                return Err(e);
            }
        };
        let lines = r["records"].as_array().cloned().unwrap_or_default();
        for ((n, _), rec) in chunk.iter().zip(lines) {
            let line = ReportLine::from_record(Some(*n), &rec);
            if line.outcome == "staged" {
                let key = line.key();
                if let Some(earlier) = waiting.insert(key, run.report.len()) {
                    let e = &mut run.report[earlier];
                    e.outcome = "superseded".into();
                    e.reason = format!("line {n} has the same tenant_id and ecid");
                }
            }
            run.report.push(line);
        }
        done += chunk.len() as u64;
        bar.set(done);
    }
    bar.finish();
    if waiting.is_empty() && !opts.all_pending {
        return Ok(()); // nothing of this file to apply
    }
    if run.lines > 0 && run.report.iter().all(|l| l.outcome == "rejected") {
        return Ok(()); // a file that is all wrong applies nothing at all
    }
    let staged = waiting.len() as u64;
    let total = if opts.all_pending {
        handle(json!({ "action": "status" })).await?["counts"]["pending"]
            .as_u64()
            .unwrap_or(0)
    } else {
        staged
    };
    run.applied = if opts.all_pending {
        "all_pending"
    } else {
        "file"
    };
    let mut bar = Progress::new(progress, "apply", total, tty);
    let mut done = 0u64;
    let mut after: Option<String> = None;
    let result = loop {
        let event = if opts.all_pending {
            json!({ "action": "apply", "max_records": opts.chunk })
        } else {
            json!({ "action": "apply", "max_records": opts.chunk, "batch": run.batch, "after": after })
        };
        let r = match handle(event).await {
            Ok(r) => r,
            Err(e) => break Err(e),
        };
        for rec in r["records"].as_array().into_iter().flatten() {
            let mut line = ReportLine::from_record(None, rec);
            let key = line.key();
            match waiting.remove(&key) {
                Some(i) => {
                    line.line = run.report[i].line;
                    run.report[i] = line;
                }
                None => run.report.push(line),
            }
            done += 1;
        }
        bar.set(done);
        if r["complete"] == true {
            break Ok(());
        }
        after = r["next"].as_str().map(String::from);
    };
    bar.finish();
    for i in waiting.into_values() {
        let l = &mut run.report[i];
        l.outcome = "not_applied".into();
        l.reason =
            "staged; this run did not apply it (a fault stopped it, or another run did)".into();
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(n: Option<u64>, outcome: &str) -> ReportLine {
        ReportLine {
            line: n,
            outcome: outcome.into(),
            ..ReportLine::default()
        }
    }

    fn run(lines: u64, report: Vec<ReportLine>, fault: bool) -> MigrateRun {
        MigrateRun {
            lines,
            report,
            fault: fault.then(|| "store".into()),
            ..MigrateRun::default()
        }
    }

    // Issue 16 item 10: exit codes count the file's own lines only.
    #[test]
    fn exit_codes_count_the_files_own_lines() {
        let ok = line(Some(1), "migrated");
        assert_eq!(run(1, vec![ok.clone()], false).exit_code(), exit::OK);
        // An earlier import's record rejected by --all-pending is not this file's.
        let other = line(None, "rejected");
        assert_eq!(run(1, vec![ok.clone(), other], false).exit_code(), exit::OK);
        let bad = line(Some(2), "rejected");
        assert_eq!(
            run(2, vec![ok.clone(), bad.clone()], false).exit_code(),
            exit::REJECTIONS
        );
        assert_eq!(run(1, vec![bad], false).exit_code(), exit::ALL_REJECTED);
        let pending = line(Some(2), "not_applied");
        assert_eq!(
            run(2, vec![ok.clone(), pending], false).exit_code(),
            exit::REJECTIONS
        );
        let twin = line(Some(2), "superseded");
        assert_eq!(run(2, vec![twin, ok.clone()], false).exit_code(), exit::OK);
        assert_eq!(run(1, vec![ok], true).exit_code(), exit::FAILED);
        assert_eq!(
            run(0, vec![], false).exit_code(),
            exit::OK,
            "an empty file did nothing wrong"
        );
    }
}
