//! `cargo xtask bench [--quick]`: runs every benchmark of the workspace (criterion, and the
//! `cckit` load/memory bench), then prints one table — ours next to a baseline measured in the
//! same run — and writes it to `docs/benchmarks.md`.
//!
//! Criterion groups take part when they hold a function named `ours: …` and one named
//! `baseline: <what>`; the figure is the throughput at the median time (elements/s, or MiB/s
//! for byte throughputs). Custom rows come from `target/cc-bench/*.json`.

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
}

pub fn bench(root: &Path, quick: bool) -> bool {
    let target = root.join("target");
    // Stale results of renamed or removed benchmarks must not show up.
    let _ = fs::remove_dir_all(target.join("criterion"));
    let _ = fs::remove_dir_all(target.join("cc-bench"));
    let mut args = vec!["bench", "--workspace", "--all-features", "--bench", "*", "--"];
    if quick {
        args.push("--quick");
    }
    println!("==> cargo {}", args.join(" "));
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(&args)
        .current_dir(root)
        .status();
    if !matches!(status, Ok(s) if s.success()) {
        eprintln!("xtask bench: the benchmarks failed");
        return false;
    }
    let mut rows = criterion_rows(&target.join("criterion"));
    rows.extend(custom_rows(&target.join("cc-bench")));
    if rows.is_empty() {
        eprintln!("xtask bench: no results found");
        return false;
    }
    let table = render(&rows);
    println!("\n{table}");
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let doc = format!(
        "# Benchmarks\n\nWritten by `cargo xtask bench{}` on a {cpus}-CPU machine. Every figure is a \
         throughput (higher is better); `ratio` = ours / baseline, both measured in the same run so \
         that machine noise mostly cancels. Latency rows give p99 beside the throughput. Criterion \
         figures use the median time of each benchmark.\n\n{table}\n\nReading the rows: `ours` often does more than the baseline — the Alvaria row \
         verifies an RS256 JWT (2048-bit) before parsing, the LivePerson rows check an HMAC \
         signature, the typed parsers build models the `Value` baseline does not — so a ratio \
         below 1 is the price of that work, and above 1 means the typed path is faster than \
         generic JSON. Memory rows are conversations per MiB (bytes per conversation inverted): \
         the baseline keeps only the ids. Durable rows commit every request before answering \
         (SQLite with group commit; Redis with `appendfsync always`, one Lua script per append); \
         their Redis receivers run in the bench's own process on the same two cores as the load \
         generator and Redis, so the 2- and 3-receiver rows show the cost of sharing one Redis \
         on one machine (the receivers compete for the same cores; the order of these \
         rows changes from run to run), not the throughput of separate hosts, which this machine cannot measure. Sources: `crates/*/benches/`; fault \
         behaviour: [reliability.md](reliability.md).{}\n",
        if quick { " --quick" } else { "" },
        if quick { " This was a `--quick` run: fewer samples, wider error." } else { "" },
    );
    if let Err(e) = fs::write(root.join("docs/benchmarks.md"), doc) {
        eprintln!("xtask bench: cannot write docs/benchmarks.md: {e}");
        return false;
    }
    println!("\nwritten to docs/benchmarks.md");
    true
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
            });
        }
    }
    rows
}

fn custom_rows(dir: &Path) -> Vec<Row> {
    let mut rows = Vec::new();
    let Ok(entries) = fs::read_dir(dir) else { return rows };
    let mut files: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    files.sort();
    for file in files {
        let Some(Value::Array(items)) = read_json(&file) else { continue };
        for item in items {
            rows.push(Row {
                benchmark: item["benchmark"].as_str().unwrap_or_default().to_owned(),
                ours: item["ours"].as_f64().unwrap_or(0.0),
                baseline: item["baseline"].as_f64().unwrap_or(0.0),
                baseline_name: item["baseline_name"].as_str().unwrap_or_default().to_owned(),
                unit: item["unit"].as_str().unwrap_or_default().to_owned(),
                p99: item["p99_ms"]["ours"].as_f64().zip(item["p99_ms"]["baseline"].as_f64()),
            });
        }
    }
    rows
}

fn figure(value: f64, unit: &str) -> String {
    let shown = if value >= 100.0 { format!("{value:.0}") } else { format!("{value:.2}") };
    format!("{shown} {unit}")
}

fn render(rows: &[Row]) -> String {
    let mut out =
        String::from("| benchmark | ours | baseline | baseline name | ratio | p99 (ours / baseline) |\n");
    out.push_str("|---|---:|---:|---|---:|---|\n");
    for r in rows {
        let ratio = if r.baseline > 0.0 { r.ours / r.baseline } else { 0.0 };
        let p99 = r.p99.map_or(String::new(), |(o, b)| format!("{o:.1} ms / {b:.1} ms"));
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {ratio:.2} | {p99} |",
            r.benchmark,
            figure(r.ours, &r.unit),
            figure(r.baseline, &r.unit),
            r.baseline_name
        );
    }
    out
}
