//! The tables the benchmark prints.

use super::*;

pub(crate) fn us(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

pub(crate) fn creation_rows(phases: &[Phase]) {
    println!(
        "{:<38} {:>5} {:>7} {:>6} {:>7} {:>8} {:>7} {:>7} {:>7} {:>7} {:>7} {:>7} {:>5} {:>5}",
        "creations",
        "tasks",
        "at once",
        "n",
        "tenant",
        "per s",
        "mean",
        "p10",
        "p50",
        "p90",
        "p99",
        "max ms",
        ">1ms",
        "ckpt"
    );
    for p in phases {
        let mut t = p.samples.clone();
        t.sort();
        let n = t.len();
        let mean = t.iter().sum::<Duration>() / n as u32;
        println!(
            "{:<38} {:>5} {:>7} {:>6} {:>7} {:>8.0} {:>7.1} {:>7.1} {:>7.1} {:>7.1} {:>7.1} {:>7.2} {:>5} {:>5}",
            p.label,
            p.tasks,
            p.at_once,
            n,
            p.tenant,
            n as f64 / p.wall.as_secs_f64(),
            us(mean),
            us(percentile(&t, 0.1)),
            us(percentile(&t, 0.5)),
            us(percentile(&t, 0.9)),
            us(percentile(&t, 0.99)),
            ms(t[n - 1]),
            t.iter().filter(|d| **d > Duration::from_millis(1)).count(),
            p.checkpoints,
        );
    }
}

/// Where a sequential creation's time goes (concurrent phases overlap),
/// and which calls took over 1 ms.
pub(crate) fn spent_rows(phases: &[Phase]) {
    println!(
        "{:<38} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "time per creation (mean us)",
        "increment",
        "write",
        "get user",
        "mail row",
        "the rest",
        "total"
    );
    let sequential: Vec<&Phase> = phases
        .iter()
        .filter(|p| p.label.starts_with("sequential"))
        .collect();
    for p in &sequential {
        let n = p.samples.len() as f64;
        let total: Duration = p.samples.iter().sum();
        let per = |d: Duration| us(d) / n;
        let store: Duration = p.spent.iter().map(|s| s.time).sum();
        println!(
            "{:<38} {:>9.1} {:>9.1} {:>9.1} {:>9.1} {:>9.1} {:>9.1}",
            p.label,
            per(p.spent[0].time),
            per(p.spent[1].time),
            per(p.spent[2].time + p.spent[3].time),
            per(p.spent[4].time),
            per(total.saturating_sub(store)),
            per(total),
        );
    }
    println!(
        "{:<38} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
        "calls over 1 ms (all phases)",
        "increment",
        "write",
        "get user",
        "mail row",
        "",
        "creation"
    );
    let mut slow = [0u64; 5];
    let mut slow_creations = 0;
    let mut n = 0;
    for p in phases {
        for (s, t) in slow.iter_mut().zip(p.spent) {
            *s += t.slow;
        }
        slow_creations += p
            .samples
            .iter()
            .filter(|d| **d > Duration::from_millis(1))
            .count();
        n += p.samples.len();
    }
    println!(
        "{:<38} {:>9} {:>9} {:>9} {:>9} {:>9} {:>9}",
        format!("of {n} creations"),
        slow[0],
        slow[1],
        slow[2] + slow[3],
        slow[4],
        "",
        slow_creations
    );
}
