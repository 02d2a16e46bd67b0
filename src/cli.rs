//! `tobira migrate <file.jsonl>`: an operator's local migration of a legacy
//! export into the embedded store, through the real `migrate-batch`
//! handler, chunk by chunk, with a progress bar on stderr.

use std::io::BufRead;
use std::path::Path;

use serde_json::{json, Value};
use tobira::App;

/// How to run a file migration.
#[derive(Clone, Debug)]
pub struct MigrateOptions {
    /// Records per import event and per apply chunk.
    pub chunk: usize,
    /// Plan only: report what apply would do, write no user (MIG-9).
    pub dry_run: bool,
}

impl Default for MigrateOptions {
    fn default() -> Self {
        Self {
            chunk: 1_000,
            dry_run: false,
        }
    }
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

/// What a file migration did: every import and apply count, and the lines
/// that were not records at all.
#[derive(Debug, Default)]
pub struct MigrateSummary {
    pub lines: u64,
    pub import: Value,
    pub apply: Value,
    pub not_json: Vec<String>,
}

fn add_counts(into: &mut Value, counts: &Value) {
    if let (Some(into), Some(counts)) = (into.as_object_mut(), counts.as_object()) {
        for (k, v) in counts {
            let sum = into.get(k).and_then(Value::as_u64).unwrap_or(0) + v.as_u64().unwrap_or(0);
            into.insert(k.clone(), sum.into());
        }
    }
}

/// Import `path` (one MIG-1 record per line) and apply it, in chunks.
pub async fn migrate_file(
    app: &App,
    path: &Path,
    opts: &MigrateOptions,
    progress: &mut dyn std::io::Write,
    tty: bool,
) -> Result<MigrateSummary, String> {
    let file = std::fs::File::open(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let lines: Vec<String> = std::io::BufReader::new(file)
        .lines()
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let mut summary = MigrateSummary {
        import: json!({}),
        apply: json!({}),
        ..MigrateSummary::default()
    };
    let mut records = Vec::new();
    for (n, line) in lines.iter().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        summary.lines += 1;
        match serde_json::from_str::<Value>(line) {
            Ok(v) => records.push(v),
            Err(e) => summary
                .not_json
                .push(format!("line {}: not JSON: {e}", n + 1)),
        }
    }
    let run = |event: Value| async move {
        tobira_migrate_batch::handle(app, event)
            .await
            .map_err(|e| format!("migrate-batch: {}", tobira_web::errors::ops_message(&e)))
    };
    let mut bar = Progress::new(progress, "import", records.len() as u64, tty);
    let mut done = 0u64;
    for chunk in records.chunks(opts.chunk.max(1)) {
        let r = run(json!({ "action": "import", "records": chunk })).await?;
        add_counts(&mut summary.import, &r["counts"]);
        done += chunk.len() as u64;
        bar.set(done);
    }
    bar.finish();
    let pending = run(json!({ "action": "status" })).await?["counts"]["pending"]
        .as_u64()
        .unwrap_or(0);
    let label = if opts.dry_run { "plan" } else { "apply" };
    let mut bar = Progress::new(progress, label, pending, tty);
    let mut done = 0u64;
    let mut after: Option<String> = None;
    loop {
        let event = if opts.dry_run {
            json!({ "action": "plan", "max_records": opts.chunk, "after": after })
        } else {
            json!({ "action": "apply", "max_records": opts.chunk })
        };
        let r = run(event).await?;
        add_counts(&mut summary.apply, &r["counts"]);
        done += r["records"].as_array().map_or(0, |a| a.len() as u64);
        bar.set(done);
        if r["complete"] == true {
            break;
        }
        after = r["next"].as_str().map(String::from);
    }
    bar.finish();
    Ok(summary)
}
