//! What the benches share: the LivePerson notification they send, gathering the latencies of
//! their connections, alternating rounds, callgrind counts, where results go.

// Each bench uses a part of this module.
#![allow(dead_code)]

use std::time::Duration;

/// A one-change LivePerson messaging notification (a consumer's text) for `dialog`, its keys
/// in the order LivePerson sends them (as in the captured
/// `fixtures/lp/ms.MessagingEventNotification.ContentEvent.text.*`): the event's `type` first,
/// the notification's `type` last.
pub fn notification(dialog: &str, sequence: u64) -> Vec<u8> {
    let dialog = serde_json::to_string(dialog).unwrap();
    let originator = "9a8392e5-33d1-4d34-a91e-a00bc9e111c0";
    format!(
        r#"{{"kind":"notification","body":{{"changes":[{{"sequence":{sequence},"originatorId":"{originator}","originatorMetadata":{{"id":"{originator}","role":"CONSUMER"}},"serverTimestamp":1700000000000,"event":{{"type":"ContentEvent","message":"hello, is anyone there?","contentType":"text/plain"}},"conversationId":{dialog},"dialogId":{dialog},"messageAudience":"ALL"}}]}},"type":"ms.MessagingEventNotification"}}"#
    )
    .into_bytes()
}

/// Waits for every connection task and returns all their latencies, sorted.
pub async fn sorted_latencies(tasks: Vec<tokio::task::JoinHandle<Vec<Duration>>>) -> Vec<Duration> {
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await.expect("a load connection panicked"));
    }
    latencies.sort();
    latencies
}

/// The 99th percentile of sorted latencies.
pub fn p99(sorted: &[Duration]) -> Duration {
    sorted[(sorted.len() * 99 / 100).min(sorted.len() - 1)]
}

/// Runs `ours` and `baseline` in `rounds` pairs, alternating which goes first (ours,
/// baseline, baseline, ours, …), so that a slow or fast stretch of a shared machine falls on
/// both sides; returns each side's rounds.
pub fn alternate<T>(
    rounds: usize,
    mut ours: impl FnMut() -> T,
    mut baseline: impl FnMut() -> T,
) -> (Vec<T>, Vec<T>) {
    let (mut a, mut b) = (Vec::with_capacity(rounds), Vec::with_capacity(rounds));
    for round in 0..rounds {
        if round % 2 == 0 {
            a.push(ours());
            b.push(baseline());
        } else {
            b.push(baseline());
            a.push(ours());
        }
    }
    (a, b)
}

/// The median of some figures (the upper one of an even count).
pub fn median(figures: impl IntoIterator<Item = f64>) -> f64 {
    quartiles(figures)[1]
}

/// The first quartile, the median and the third quartile of some figures (nearest rank; the
/// upper one of an even count).
pub fn quartiles(figures: impl IntoIterator<Item = f64>) -> [f64; 3] {
    let mut figures: Vec<f64> = figures.into_iter().collect();
    figures.sort_by(f64::total_cmp);
    let n = figures.len();
    [figures[n / 4], figures[n / 2], figures[(3 * n / 4).min(n - 1)]]
}

/// Alternating rounds of one row, summed up: each side's median round, and the ratio as the
/// median (with quartiles) of the rounds' paired ratios: each round of ours over the baseline
/// round run next to it. A slow stretch of the machine lowers both rounds of a pair, so the
/// paired ratios spread less than either side's rounds do (one side's rounds often spread by
/// ±20 % here); their quartiles go into the table beside the ratio.
pub struct Paired {
    pub ours: f64,
    pub baseline: f64,
    pub ratio: [f64; 3],
}

impl Paired {
    pub fn new(ours: &[f64], baseline: &[f64]) -> Self {
        assert_eq!(ours.len(), baseline.len(), "rounds come in pairs");
        Self {
            ours: median(ours.iter().copied()),
            baseline: median(baseline.iter().copied()),
            ratio: quartiles(ours.iter().zip(baseline).map(|(o, b)| o / b)),
        }
    }

    /// The row's `paired_ratio` for `cargo xtask bench`.
    pub fn ratio_json(&self) -> serde_json::Value {
        let [q1, median, q3] = self.ratio;
        serde_json::json!({"median": median, "q1": q1, "q3": q3})
    }
}

/// Whether to count instructions for `rows`: not with `CC_BENCH_COUNTS=0`, and not without
/// valgrind (then the bench says so).
pub fn counts_wanted(rows: &str) -> bool {
    if std::env::var("CC_BENCH_COUNTS").as_deref() == Ok("0") {
        return false;
    }
    let valgrind =
        std::process::Command::new("valgrind").arg("--version").output().is_ok_and(|o| o.status.success());
    if !valgrind {
        eprintln!("valgrind is not installed: the {rows} get no instruction counts");
    }
    valgrind
}

/// Instructions of one run of this bench binary under callgrind, with `CC_BENCH_COUNT=spec`
/// telling the child what to run. With `toggle`, only inside that function (of the thread
/// that calls it); without, the whole process, every thread (client, server, runtime).
pub fn callgrind_total(spec: &str, toggle: Option<&str>) -> u64 {
    let out = std::env::temp_dir().join(format!("cc-bench-callgrind-{}.out", std::process::id()));
    let mut command = std::process::Command::new("valgrind");
    command.args(["--tool=callgrind", "--quiet"]).arg(format!("--callgrind-out-file={}", out.display()));
    if let Some(function) = toggle {
        command.arg(format!("--toggle-collect={function}"));
    }
    let status = command
        .arg(std::env::current_exe().unwrap())
        .env("CC_BENCH_COUNT", spec)
        .status()
        .expect("run valgrind");
    assert!(status.success(), "callgrind run of {spec} failed");
    let text = std::fs::read_to_string(&out).unwrap();
    let _ = std::fs::remove_file(&out);
    text.lines()
        .find_map(|l| l.strip_prefix("totals:").or_else(|| l.strip_prefix("summary:")))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .expect("callgrind wrote its totals")
}

/// Instructions per iteration: a run of `long` iterations minus a run of `short` ones, over
/// `long - short`, so that start-up, setup and first-call costs cancel. `spec` makes the
/// child's `CC_BENCH_COUNT` for an iteration count; `toggle` as in [`callgrind_total`]
/// (`None`: the whole process).
pub fn per_iteration_count(spec: impl Fn(u64) -> String, toggle: Option<&str>, short: u64, long: u64) -> f64 {
    let (a, b) = (callgrind_total(&spec(long), toggle), callgrind_total(&spec(short), toggle));
    a.saturating_sub(b) as f64 / (long - short) as f64
}

/// Where the benches leave their rows for `cargo xtask bench`.
pub fn results_dir() -> std::path::PathBuf {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target/cc-bench");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
