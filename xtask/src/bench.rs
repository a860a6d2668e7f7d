//! `cargo xtask bench [--quick] [--peers]`: runs every benchmark of the workspace (criterion,
//! the callgrind counts of the CPU rows, the `cckit` load/memory bench and, with `--peers`,
//! the Node express peer), then prints the tables — ours next to a baseline measured in the
//! same run — and writes them to `docs/benchmarks.md`.
//!
//! Criterion groups take part when they hold a function named `ours: …` and one named
//! `baseline: <what>`; the figure is the throughput at the median time (elements/s, or MiB/s
//! for byte throughputs). Instruction counts (`counts.json`) join their criterion row by group
//! name. Custom rows come from `target/cc-bench/*.json`.

use std::fmt::Write as _;
use std::fs;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

struct Row {
    benchmark: String,
    ours: f64,
    baseline: f64,
    baseline_name: String,
    unit: String,
    p99: Option<(f64, f64)>,
    /// Instructions per iteration (ours, baseline), for CPU rows counted by callgrind.
    instructions: Option<(f64, f64)>,
    /// Rows of alternating rounds: the median of the rounds' paired ratios and its quartiles
    /// (q1, median, q3), which is then the row's ratio.
    paired_ratio: Option<[f64; 3]>,
    /// Peer rows: CPU-seconds per 1,000 requests and peak RSS in MiB (ours, baseline).
    cpu_per_1k: Option<(f64, f64)>,
    rss_mib: Option<(f64, f64)>,
    measured_by: String,
}

/// Where the peers' section of `docs/benchmarks.md` starts; a run without `--peers` keeps it.
const PEERS_HEADING: &str = "## Peers: what integrators write today";

pub fn bench(root: &Path, quick: bool, peers: bool) -> bool {
    let target = root.join("target");
    // Stale results of renamed or removed benchmarks must not show up.
    let _ = fs::remove_dir_all(target.join("criterion"));
    let _ = fs::remove_dir_all(target.join("cc-bench"));
    let peer_dir = root.join("xtask/peers/express");
    let peers_ready = peers && prepare_peer(&peer_dir);
    let mut args = vec!["bench", "--workspace", "--all-features", "--bench", "*", "--"];
    if quick {
        args.push("--quick");
    }
    println!("==> cargo {}", args.join(" "));
    let mut command = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    command.args(&args).current_dir(root);
    if peers_ready {
        command.env("CC_BENCH_PEERS", &peer_dir);
    }
    if !matches!(command.status(), Ok(s) if s.success()) {
        eprintln!("xtask bench: the benchmarks failed");
        return false;
    }
    let mut rows = criterion_rows(&target.join("criterion"));
    join_counts(&mut rows, &target.join("cc-bench/counts.json"));
    rows.extend(custom_rows(&target.join("cc-bench/client.json"), "alternating rounds, wall clock"));
    rows.extend(custom_rows(&target.join("cc-bench/load.json"), "load generator, wall clock"));
    rows.extend(custom_rows(&target.join("cc-bench/memory.json"), "counting allocator"));
    let peer_rows = custom_rows(&target.join("cc-bench/peers.json"), "separate processes, wall clock");
    if rows.is_empty() {
        eprintln!("xtask bench: no results found");
        return false;
    }
    let table = render(&rows);
    println!("\n{table}");
    let doc_path = root.join("docs/benchmarks.md");
    let peers_section = if peer_rows.is_empty() {
        // Not measured this time: keep the last measured section, marked as such.
        fs::read_to_string(&doc_path)
            .ok()
            .and_then(|old| old.find(PEERS_HEADING).map(|at| old[at..].to_owned()))
    } else {
        let peers_table = render_peers(&peer_rows);
        println!("\n{peers_table}");
        Some(format!(
            "{PEERS_HEADING}\n\nWritten by `cargo xtask bench --peers{}`. The peer is \
             `xtask/peers/express/server.js`: express with a raw body, a timing-safe HMAC (or Basic) \
             check, `JSON.parse` and a dedupe `Map` capped at 1,000,000 ids — what a careful \
             integrator writes. Ours is the crates' route with the same dedupe, handing to an \
             in-memory queue. Each server is a child process pinned to core 1 (`taskset`), the \
             load generator (a minimal HTTP/1.1 client, so that it costs little next to either \
             server) is pinned to core 0; same connections and payloads (every request new, so \
             nothing is dropped as a duplicate), a warm-up each, then alternating rounds (median \
             of 3). CPU-seconds come from `/proc/<pid>/stat` (all threads), peak RSS from `VmHWM`.\n\n{peers_table}\n",
            if quick { " --quick" } else { "" },
        ))
    };
    let doc = format!(
        "# Benchmarks\n\n{}\n\n{table}\n\n{}\n\n{}\n{}",
        intro(quick),
        about(&rows),
        machine(),
        peers_section.map(|s| format!("\n{s}")).unwrap_or_default(),
    );
    if let Err(e) = fs::write(&doc_path, doc) {
        eprintln!("xtask bench: cannot write docs/benchmarks.md: {e}");
        return false;
    }
    println!("\nwritten to docs/benchmarks.md");
    true
}

/// Checks for node and installs the peer's packages (from its lock file) when missing.
fn prepare_peer(dir: &Path) -> bool {
    match Command::new("node").arg("--version").output() {
        Ok(out) if out.status.success() => {}
        _ => {
            println!("xtask bench --peers: `node` is not installed; the peer rows are skipped");
            return false;
        }
    }
    if dir.join("node_modules/express").is_dir() {
        return true;
    }
    println!("==> npm ci (in {})", dir.display());
    let installed = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(dir)
        .status()
        .is_ok_and(|s| s.success());
    if !installed {
        println!("xtask bench --peers: `npm ci` failed; the peer rows are skipped");
    }
    installed
}

fn intro(quick: bool) -> String {
    format!(
        "Written by `cargo xtask bench{}`. Every figure is a throughput (higher is better); \
         `ratio` = ours / baseline, both measured in the same run so that machine noise mostly \
         cancels; rows of alternating rounds give the median of their rounds' paired ratios \
         (each round of ours over the baseline round run next to it) and, in brackets, the \
         quartiles of those ratios, which show how far the ratio moved within the run. The \
         `measured by` column says what each row is: criterion rows give the throughput at the median time of their samples (wall clock); the CPU rows also give \
         instructions per iteration counted by callgrind (`ratio (instr.)` = baseline \
         instructions / ours), which repeat to within a fraction of a percent whatever else the \
         machine does — compare those across runs; load rows are wall clock from a load \
         generator, with p99 latency beside them; memory rows read a counting allocator.{}",
        if quick { " --quick" } else { "" },
        if quick {
            " This was a `--quick` run: fewer samples and requests, wider error, and no p99 (too few \
             requests to mean anything)."
        } else {
            ""
        },
    )
}

/// One line per row: what it measures.
fn about(rows: &[Row]) -> String {
    const ABOUT: &[(&str, &str)] = &[
        (
            "ChatSentenceInfo",
            "one SimProt sentence message framed (length prefix, `[name, payload]` MessagePack envelope) and decoded back into the typed payload, against rmp_serde encoding and decoding the bare struct.",
        ),
        (
            "alvaria callback",
            "an Alvaria callback: RS256 JWT (2048-bit) signature and claims checked, then the body parsed; the baseline parses the body as a `Value` and checks nothing, so this row is the price of the signature.",
        ),
        (
            "ece callback batch",
            "a 1,000-message ECE callback body (375 KB) parsed into typed messages, against `serde_json::Value` on the same bytes.",
        ),
        (
            "ece client: 1000 concurrent",
            "a new `EceClient` (empty token cache, new connection pool) making 1,000 concurrent send-message calls to the simulator: one login, then 1,000 POSTs on new connections; the baseline is what a caller writes by hand with raw reqwest: a new client, the same login request, then the same 1,000 requests. Alternating rounds (41 pairs, after one warm-up round each), each side's median round and the median paired ratio; instructions per call over the whole process (client, simulator, runtime).",
        ),
        (
            "ece client: sequential",
            "one send-message call at a time through `EceClient` (token cache, retries, timeout, error decoding) against raw reqwest sending the same request (same headers, body bytes built once) to the same simulator. Alternating rounds of 600 calls (41 pairs), each side's median round and the median paired ratio; instructions per call over the whole process (the simulator's share is the same on both sides, so the count ratio is closer to 1 than the client's own overhead).",
        ),
        (
            "liveperson notification",
            "a real 1,020-byte LivePerson notification: HMAC-SHA1 signature checked, then parsed into typed changes, against `serde_json::Value` parsing alone.",
        ),
        (
            "loopback round trip",
            "one ES_CHAT_RESYNC → SE_CHAT_LIST exchange with the SimProt simulator over a loopback socket, against a raw TCP echo of the same bytes.",
        ),
        (
            "wxcc 1000-task page",
            "a 1,000-task `GET /v1/tasks` page parsed into `TaskPage`, against `serde_json::Value`.",
        ),
        (
            "webhook receiver under load",
            "the LivePerson route (headers, body read with a deadline, signature, parse, hand-off to a queue) under 64 keep-alive connections, against a bare axum handler that reads the body and answers 200; generator and server share the process and both cores (the generator's 64 reqwest clients are built once, outside the rounds). Alternating rounds (9 pairs), each side's median round and the median paired ratio; instructions per request over the whole process (generator included).",
        ),
        (
            "durable receiver",
            "the LivePerson route committing every request to the inbox before answering, against the same route handing to an in-memory queue (same run, same generator).",
        ),
        (
            "memory: LivePerson sequencer",
            "bytes the sequencer keeps per idle tracked dialog (after one in-order event each), as dialogs per MiB, against a `HashSet<String>` of the dialog ids.",
        ),
        (
            "memory: ECE webhook duplicate filter",
            "bytes the ECE route's duplicate filter keeps per remembered message id, as ids per MiB, against a `HashSet<String>` of the ids.",
        ),
    ];
    let mut out = String::from("What each row measures:\n");
    let mut seen = Vec::new();
    for row in rows {
        if let Some((prefix, text)) = ABOUT.iter().find(|(p, _)| row.benchmark.starts_with(p))
            && !seen.contains(prefix)
        {
            seen.push(*prefix);
            let _ = writeln!(out, "- **{prefix}…**: {text}");
        }
    }
    out.push_str(
        "\nDurable rows commit every request before answering (SQLite with group commit; Redis \
         with `appendfsync always`, one Lua script per append); their Redis receivers run in the \
         bench's own process on the same two cores as the load generator and Redis, so the 2- and \
         3-receiver rows show the cost of sharing one Redis on one machine (the receivers compete \
         for the same cores; the order of these rows changes from run to run), not the \
         throughput of separate hosts, which this machine cannot measure. Sources: \
         `crates/cckit/benches/` (cpu, client, load, peers), \
         `crates/icc-simprot/benches/loopback.rs`; fault behaviour: [reliability.md](reliability.md).",
    );
    out
}

fn machine() -> String {
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let model = fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines().find_map(|l| {
                l.strip_prefix("model name").map(|m| m.trim_start_matches([' ', '\t', ':']).to_owned())
            })
        })
        .unwrap_or_else(|| "unknown CPU".into());
    format!(
        "**Machine and noise.** {cpus} CPUs ({model}), shared with other tenants. Wall-clock \
         figures on these machines move by up to ±30 % between runs (and criterion's own \
         intervals widen when a neighbour is busy), so read a wall-clock ratio as a ratio within \
         one run, not an absolute; instruction counts are the figures to compare across runs \
         (only the loop over the routine is counted, so setup stays out; the same binary and \
         input gave the same count to within 0.1 % in repeated runs, 1.5 % across runs of the whole bench). Wall-clock rows of \
         loopback calls (the ECE client, the receiver under load) moved most between runs (the \
         sequential ECE client from 0.86 to 1.09 on one day when each side ran in one block), so \
         they run in alternating rounds and report each side's median round and the median of \
         the rounds' paired ratios: one side's rounds spread by ±20 % within a run here, while \
         a round and its neighbour move together, so the paired ratios spread less (their \
         quartiles are beside each ratio; the median paired ratio of the sequential ECE client \
         repeated to within about 1 % over five runs). They also carry a whole-process \
         instruction count (every thread) that repeats to within about 1 % (the cold ECE row, whose 1,000 concurrent tasks are scheduled differently every run, to \
         within about 2.5 %). Counts are taken under valgrind, whose emulated CPU has no SHA extensions: the \
         LivePerson rows' HMAC-SHA1 (the notification, the receiver under load) runs the \
         portable code there (about 12,400 instructions per 560-byte request, against a few \
         hundred with the CPU's SHA instructions, which the wall-clock figures use where the \
         CPU has them): the receiver's count ratio is lower than its wall-clock ratio for that \
         reason."
    )
}

fn read_json(path: &Path) -> Option<Value> {
    serde_json::from_slice(&fs::read(path).ok()?).ok()
}

/// One row per criterion group that has an `ours:` and a `baseline:` function.
fn criterion_rows(dir: &Path) -> Vec<Row> {
    let mut groups: std::collections::BTreeMap<String, Vec<(String, f64, String)>> = Default::default();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let Ok(entries) = fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            if !path.is_dir() {
                continue;
            }
            if path.file_name().is_some_and(|n| n == "new") {
                let (Some(bench), Some(estimates)) =
                    (read_json(&path.join("benchmark.json")), read_json(&path.join("estimates.json")))
                else {
                    continue;
                };
                let median_ns = estimates["median"]["point_estimate"].as_f64().unwrap_or(0.0);
                if median_ns <= 0.0 {
                    continue;
                }
                let (per_second, unit) = match &bench["throughput"] {
                    Value::Object(t) if t.contains_key("Bytes") => {
                        (t["Bytes"].as_f64().unwrap_or(0.0) / median_ns * 1e9 / 1048576.0, "MiB/s")
                    }
                    Value::Object(t) if t.contains_key("Elements") => {
                        (t["Elements"].as_f64().unwrap_or(0.0) / median_ns * 1e9, "/s")
                    }
                    _ => (1e9 / median_ns, "/s"),
                };
                let group = bench["group_id"].as_str().unwrap_or_default().to_owned();
                let function = bench["function_id"].as_str().unwrap_or_default().to_owned();
                groups.entry(group).or_default().push((function, per_second, unit.to_owned()));
            } else {
                stack.push(path);
            }
        }
    }
    let mut rows = Vec::new();
    for (group, functions) in groups {
        let ours = functions.iter().find(|(f, ..)| f.starts_with("ours:"));
        let baseline = functions.iter().find(|(f, ..)| f.starts_with("baseline:"));
        if let (Some((ours_name, ours, unit)), Some((base_name, baseline, _))) = (ours, baseline) {
            rows.push(Row {
                benchmark: format!("{group}: {}", ours_name.trim_start_matches("ours:").trim()),
                ours: *ours,
                baseline: *baseline,
                baseline_name: base_name.trim_start_matches("baseline:").trim().to_owned(),
                unit: unit.clone(),
                p99: None,
                instructions: None,
                paired_ratio: None,
                cpu_per_1k: None,
                rss_mib: None,
                measured_by: "criterion, wall clock".into(),
            });
        }
    }
    rows
}

/// Adds callgrind's instructions per iteration to the criterion rows of the same group.
fn join_counts(rows: &mut [Row], path: &Path) {
    let Some(Value::Array(counts)) = read_json(path) else { return };
    for count in counts {
        let group = count["group"].as_str().unwrap_or_default();
        let figures = count["ours"].as_f64().zip(count["baseline"].as_f64());
        if let Some(row) = rows.iter_mut().find(|r| r.benchmark.starts_with(&format!("{group}: "))) {
            row.instructions = figures;
            row.measured_by = "criterion + callgrind".into();
        }
    }
}

/// `paired_ratio` of a row of alternating rounds: (q1, median, q3).
fn paired_ratio(item: &Value) -> Option<[f64; 3]> {
    let q = |key: &str| item["paired_ratio"][key].as_f64();
    Some([q("q1")?, q("median")?, q("q3")?])
}

fn pair(item: &Value, field: &str) -> Option<(f64, f64)> {
    item[field]["ours"].as_f64().zip(item[field]["baseline"].as_f64())
}

/// Rows a bench wrote itself; those with instruction counts are measured by `measured_by`
/// plus callgrind.
fn custom_rows(file: &Path, measured_by: &str) -> Vec<Row> {
    let Some(Value::Array(items)) = read_json(file) else { return Vec::new() };
    items
        .iter()
        .map(|item| Row {
            instructions: pair(item, "instructions"),
            measured_by: if item["instructions"].is_object() {
                format!("{measured_by} + callgrind")
            } else {
                measured_by.to_owned()
            },
            benchmark: item["benchmark"].as_str().unwrap_or_default().to_owned(),
            ours: item["ours"].as_f64().unwrap_or(0.0),
            baseline: item["baseline"].as_f64().unwrap_or(0.0),
            baseline_name: item["baseline_name"].as_str().unwrap_or_default().to_owned(),
            unit: item["unit"].as_str().unwrap_or_default().to_owned(),
            p99: pair(item, "p99_ms"),
            paired_ratio: paired_ratio(item),
            cpu_per_1k: pair(item, "cpu_s_per_1k"),
            rss_mib: pair(item, "rss_mib"),
        })
        .collect()
}

fn figure(value: f64, unit: &str) -> String {
    let shown = if value >= 100.0 { format!("{value:.0}") } else { format!("{value:.2}") };
    format!("{shown} {unit}")
}

fn ratio(ours: f64, baseline: f64) -> f64 {
    if baseline > 0.0 { ours / baseline } else { 0.0 }
}

fn render(rows: &[Row]) -> String {
    let mut out = String::from(
        "| benchmark | measured by | ours | baseline | baseline name | ratio | instructions (ours / baseline) | ratio (instr.) | p99 (ours / baseline) |\n",
    );
    out.push_str("|---|---|---:|---:|---|---:|---:|---:|---|\n");
    for r in rows {
        let p99 = r.p99.map_or(String::new(), |(o, b)| format!("{o:.1} ms / {b:.1} ms"));
        let (instructions, by_count) = r.instructions.map_or((String::new(), String::new()), |(o, b)| {
            (format!("{o:.0} / {b:.0}"), format!("{:.2}", ratio(b, o)))
        });
        let wall = match r.paired_ratio {
            Some([q1, median, q3]) => format!("{median:.2} ({q1:.2}–{q3:.2})"),
            None => format!("{:.2}", ratio(r.ours, r.baseline)),
        };
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {wall} | {instructions} | {by_count} | {p99} |",
            r.benchmark,
            r.measured_by,
            figure(r.ours, &r.unit),
            figure(r.baseline, &r.unit),
            r.baseline_name,
        );
    }
    out
}

fn render_peers(rows: &[Row]) -> String {
    let mut out = String::from(
        "| benchmark | ours | peer | peer name | ratio | p99 (ours / peer) | CPU-s per 1k requests (ours / peer) | peak RSS (ours / peer) |\n",
    );
    out.push_str("|---|---:|---:|---|---:|---|---|---|\n");
    for r in rows {
        let p99 = r.p99.map_or(String::new(), |(o, b)| format!("{o:.1} ms / {b:.1} ms"));
        let cpu = r.cpu_per_1k.map_or(String::new(), |(o, b)| format!("{o:.3} / {b:.3}"));
        let rss = r.rss_mib.map_or(String::new(), |(o, b)| format!("{o:.0} MiB / {b:.0} MiB"));
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {:.2} | {p99} | {cpu} | {rss} |",
            r.benchmark.trim_start_matches("peers: "),
            figure(r.ours, &r.unit),
            figure(r.baseline, &r.unit),
            r.baseline_name,
            ratio(r.ours, r.baseline),
        );
    }
    out
}
