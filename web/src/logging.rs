//! The process's log lines (every Lambda and the local portal): the level
//! from Lambda's advanced logging controls (`AWS_LAMBDA_LOG_LEVEL`), else
//! `RUST_LOG` (a level, or per target: `tobira=debug,warn`), else `info`;
//! JSON lines when `AWS_LAMBDA_LOG_FORMAT=JSON`; no timestamps (CloudWatch
//! adds them) and no colours.
//!
//! Not `lambda_runtime`'s default subscriber: its `EnvFilter` links a regex
//! engine into every binary for span-field filters nobody here uses
//! (docs/BINARY-SIZES.md). `Targets` parses the same level and per-target
//! directives without one.

use tracing::Subscriber;
use tracing_subscriber::filter::{LevelFilter, Targets};
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// Install the subscriber once, at start (a second call is ignored).
pub fn init_logging() {
    let filter = log_filter(
        std::env::var("AWS_LAMBDA_LOG_LEVEL").ok().as_deref(),
        std::env::var("RUST_LOG").ok().as_deref(),
    );
    let json = std::env::var("AWS_LAMBDA_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json"));
    let _ = subscriber(filter, json, std::io::stdout).try_init();
}

/// The subscriber [`init_logging`] installs, writing to `writer`. The
/// `fmt` builder's own level (INFO unless told) would sit under the
/// filter and cut `debug` and `trace` whatever the filter lets through:
/// it lets everything through, and `filter` alone decides.
pub fn subscriber<W>(filter: Targets, json: bool, writer: W) -> Box<dyn Subscriber + Send + Sync>
where
    W: for<'w> MakeWriter<'w> + Send + Sync + 'static,
{
    let fmt = tracing_subscriber::fmt()
        .with_max_level(LevelFilter::TRACE)
        .with_target(false)
        .without_time()
        .with_writer(writer);
    if json {
        Box::new(fmt.json().finish().with(filter))
    } else {
        Box::new(fmt.finish().with(filter))
    }
}

/// Lambda's level wins over `RUST_LOG`; Lambda's `FATAL` is `error` here;
/// anything unreadable is `info` (a typo in a setting must not silence the
/// audit lines).
pub fn log_filter(lambda_level: Option<&str>, rust_log: Option<&str>) -> Targets {
    let wanted = match lambda_level.map(str::trim) {
        Some(l) if l.eq_ignore_ascii_case("fatal") => Some("error"),
        Some(l) if !l.is_empty() => Some(l),
        _ => rust_log.map(str::trim).filter(|l| !l.is_empty()),
    };
    wanted
        .and_then(|w| w.parse::<Targets>().ok())
        .unwrap_or_else(|| Targets::new().with_default(LevelFilter::INFO))
}

#[cfg(test)]
mod tests {
    use super::log_filter;
    use tracing::Level;

    fn enabled(f: &tracing_subscriber::filter::Targets, target: &str, level: Level) -> bool {
        f.would_enable(target, &level)
    }

    #[test]
    fn lambda_level_wins_over_rust_log() {
        let f = log_filter(Some("DEBUG"), Some("error"));
        assert!(enabled(&f, "tobira", Level::DEBUG));
        assert!(!enabled(&f, "tobira", Level::TRACE));
    }

    #[test]
    fn rust_log_takes_a_level_or_targets() {
        let f = log_filter(None, Some("warn"));
        assert!(enabled(&f, "tobira", Level::WARN));
        assert!(!enabled(&f, "tobira", Level::INFO));
        let f = log_filter(None, Some("tobira=debug,warn"));
        assert!(enabled(&f, "tobira::login", Level::DEBUG));
        assert!(!enabled(&f, "hyper", Level::INFO));
        assert!(enabled(&f, "hyper", Level::WARN));
    }

    /// What the installed subscriber writes, for a filter and a format.
    fn written(filter: tracing_subscriber::filter::Targets, json: bool) -> String {
        let out = std::sync::Arc::new(std::sync::Mutex::new(Vec::<u8>::new()));
        let sink = out.clone();
        let writer = move || Sink(sink.clone());
        tracing::subscriber::with_default(super::subscriber(filter, json, writer), || {
            tracing::debug!(target: "tobira::login", step = 2, "a debug line");
            tracing::info!(target: "tobira::login", "an info line");
            tracing::trace!(target: "hyper", "a trace line");
        });
        let text = String::from_utf8(out.lock().unwrap().clone()).unwrap();
        text
    }

    struct Sink(std::sync::Arc<std::sync::Mutex<Vec<u8>>>);
    impl std::io::Write for Sink {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(b);
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    // The installed subscriber, not only the filter: DEBUG asked is DEBUG
    // written (the fmt builder's own INFO must not cut it).
    #[test]
    fn the_installed_subscriber_writes_what_the_level_asks() {
        let debug = written(log_filter(Some("DEBUG"), None), false);
        assert!(
            debug.contains("a debug line") && debug.contains("step=2"),
            "{debug}"
        );
        assert!(!debug.contains("a trace line"), "{debug}");
        let info = written(log_filter(None, None), false);
        assert!(
            info.contains("an info line") && !info.contains("a debug line"),
            "{info}"
        );
        let json = written(log_filter(Some("DEBUG"), None), true);
        let first: serde_json::Value = serde_json::from_str(json.lines().next().unwrap()).unwrap();
        assert_eq!(first["level"], "DEBUG");
        assert_eq!(first["fields"]["message"], "a debug line");
    }

    #[test]
    fn fatal_is_error_and_nonsense_or_nothing_is_info() {
        let f = log_filter(Some("FATAL"), None);
        assert!(enabled(&f, "tobira", Level::ERROR));
        assert!(!enabled(&f, "tobira", Level::WARN));
        for f in [
            log_filter(None, None),
            log_filter(Some(""), Some("loud=!!")),
            log_filter(None, Some("  ")),
        ] {
            assert!(enabled(&f, "tobira", Level::INFO));
            assert!(!enabled(&f, "tobira", Level::DEBUG));
        }
    }
}
