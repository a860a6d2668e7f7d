//! Developer tasks for the workspace. Run as `cargo xtask <task>`.
//!
//! - `test-fixtures`: snapshot tests over `fixtures/`, with a coverage table per vendor.
//! - `ci`: the same steps as `.ci/run` (fmt, clippy, tests, test-fixtures, shape).
//! - `shape`: the vendor crates follow one vocabulary, cc-core's layers import downwards (see
//!   `shape.rs`).
//! - `bench [--quick] [--peers]`: every benchmark, ours beside a baseline, as one table (see `bench.rs`).

mod bench;
mod codegen;
mod shape;

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

const USAGE: &str =
    "usage: cargo xtask <test-fixtures|ci|shape|codegen wxcc [--check]|bench [--quick] [--peers]>

  test-fixtures  run the snapshot tests over fixtures/ (INSTA_UPDATE=no) and print, per vendor,
                 fixtures found, fixtures covered by a snapshot and snapshots passed; fails on an
                 uncovered fixture, a new or changed snapshot, a stale snapshot or a fixture
                 without provenance in its sources.txt
  ci             what .ci/run does: cargo fmt --check, clippy -D warnings (workspace, and
                 cc-core without features), rustdoc -D warnings, cargo test --workspace
                 --all-features, test-fixtures, shape, the codegen drift check, and the
                 no-HTTP-stack check of the light crates
  shape          every vendor crate has the rooms, entry-type names, root re-exports and test
                 suite names of the vocabulary; cc-core modules import only from lower layers;
                 docs/architecture.md shows both tables as xtask/src/shape.rs has them
  codegen wxcc   writes wxcc-api's operations and models (src/api/) from its OpenAPI spec;
                 --check regenerates in memory and fails on any difference
  bench          every benchmark (criterion and the load/memory bench), ours beside a baseline
                 measured in the same run, as one markdown table also written to
                 docs/benchmarks.md; --quick for a smoke run, --peers adds the Node express
                 peer (needs node; installs its packages with npm)";

/// Provenance kinds a `sources.txt` line may name.
const KINDS: &[&str] = &["seed", "doc", "reference", "constructed"];

fn main() -> ExitCode {
    let root = workspace_root();
    let task = std::env::args().nth(1);
    let ok = match task.as_deref() {
        Some("test-fixtures") => test_fixtures(&root),
        Some("ci") => ci(&root),
        Some("shape") => shape::shape(&root),
        Some("codegen") => codegen::codegen(&root, &std::env::args().skip(2).collect::<Vec<_>>()),
        Some("bench") => bench::bench(
            &root,
            std::env::args().any(|a| a == "--quick"),
            std::env::args().any(|a| a == "--peers"),
        ),
        Some("-h" | "--help" | "help") => {
            println!("{USAGE}");
            true
        }
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    if ok { ExitCode::SUCCESS } else { ExitCode::FAILURE }
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives in the workspace root").to_path_buf()
}

fn run(root: &Path, title: &str, args: &[&str], env: &[(&str, &str)]) -> bool {
    println!("\n==> {title}: cargo {}", args.join(" "));
    let status = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(args)
        .envs(env.iter().copied())
        .current_dir(root)
        .status();
    match status {
        Ok(s) if s.success() => true,
        Ok(s) => {
            eprintln!("xtask: {title} failed ({s})");
            false
        }
        Err(e) => {
            eprintln!("xtask: could not run cargo: {e}");
            false
        }
    }
}

fn ci(root: &Path) -> bool {
    let lint = ["clippy", "--workspace", "--all-targets", "--all-features", "--", "-D", "warnings"];
    let lint_light =
        ["clippy", "-p", "cc-core", "--no-default-features", "--all-targets", "--", "-D", "warnings"];
    let docs = ["doc", "--workspace", "--all-features", "--no-deps", "--quiet"];
    run(root, "format", &["fmt", "--all", "--", "--check"], &[])
        && run(root, "lint", &lint, &[])
        && run(root, "lint cc-core without features", &lint_light, &[])
        && run(root, "docs", &docs, &[("RUSTDOCFLAGS", "-D warnings")])
        && run(root, "test", &["test", "--workspace", "--all-features"], &[("INSTA_UPDATE", "no")])
        && test_fixtures(root)
        && shape::shape(root)
        && codegen::codegen(root, &["wxcc".into(), "--check".into()])
        && light_crates_stay_light(root)
}

/// cc-core without features and lp-notifications by default must not pull an HTTP stack or
/// an async runtime.
fn light_crates_stay_light(root: &Path) -> bool {
    let heavy = ["reqwest ", "hyper ", "axum ", "tokio "];
    let trees: [&[&str]; 2] = [
        &["tree", "-p", "cc-core", "--no-default-features", "-e", "normal", "--prefix", "none"],
        &["tree", "-p", "lp-notifications", "-e", "normal", "--prefix", "none"],
    ];
    for args in trees {
        let output = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
            .args(args)
            .current_dir(root)
            .output();
        let Ok(output) = output else {
            eprintln!("xtask: could not run cargo tree");
            return false;
        };
        let tree = String::from_utf8_lossy(&output.stdout);
        if let Some(line) = tree.lines().find(|l| heavy.iter().any(|h| l.starts_with(h))) {
            eprintln!("xtask: `cargo {}` lists {line}", args.join(" "));
            return false;
        }
    }
    println!(
        "\n==> light crates: cc-core without features and lp-notifications pull no HTTP stack or runtime"
    );
    true
}

/// One fixture's provenance line.
struct Source {
    kind: String,
}

#[derive(Default)]
struct VendorReport {
    found: usize,
    covered: usize,
    snapshots: usize,
    failed: usize,
    kinds: BTreeMap<String, usize>,
}

fn test_fixtures(root: &Path) -> bool {
    let fixtures_dir = root.join("fixtures");
    let mut problems: Vec<String> = Vec::new();

    // 1. Fixtures and their provenance.
    let mut fixtures: BTreeMap<String, Vec<String>> = BTreeMap::new(); // vendor -> paths relative to root
    let mut reports: BTreeMap<String, VendorReport> = BTreeMap::new();
    for vendor_dir in sorted_entries(&fixtures_dir).into_iter().filter(|p| p.is_dir()) {
        let vendor = file_name(&vendor_dir);
        let mut files = Vec::new();
        collect_files(&vendor_dir, &mut files);
        files.retain(|f| !matches!(file_name(f).as_str(), "sources.txt" | "README.md"));
        let sources = read_sources(&vendor_dir, &mut problems);
        let report = reports.entry(vendor.clone()).or_default();
        let mut listed = BTreeSet::new();
        for file in &files {
            let rel_vendor = relative(file, &vendor_dir);
            listed.insert(rel_vendor.clone());
            match sources.get(&rel_vendor) {
                Some(src) => *report.kinds.entry(src.kind.clone()).or_default() += 1,
                None => problems
                    .push(format!("fixtures/{vendor}/{rel_vendor}: no provenance line in sources.txt")),
            }
        }
        for name in sources.keys().filter(|k| !listed.contains(*k)) {
            problems.push(format!("fixtures/{vendor}/sources.txt names `{name}`, which does not exist"));
        }
        report.found = files.len();
        fixtures.insert(vendor, files.iter().map(|f| relative(f, root)).collect());
    }

    // 2. Snapshots and the fixtures they were made from.
    let mut snapshot_inputs: BTreeMap<String, Vec<PathBuf>> = BTreeMap::new(); // fixture -> snapshots
    for crate_dir in sorted_entries(&root.join("crates")) {
        for snap in sorted_entries(&crate_dir.join("tests").join("snapshots")) {
            let name = file_name(&snap);
            if name.ends_with(".snap.new") || name.ends_with(".pending-snap") {
                problems.push(format!("{}: unreviewed snapshot left on disk", relative(&snap, root)));
                continue;
            }
            if !name.ends_with(".snap") {
                continue;
            }
            let text = fs::read_to_string(&snap).unwrap_or_default();
            if let Some(input) = header_field(&text, "input_file") {
                if !root.join(&input).is_file() {
                    problems.push(format!(
                        "{}: stale snapshot, its fixture {input} is gone",
                        relative(&snap, root)
                    ));
                }
                snapshot_inputs.entry(input).or_default().push(snap.clone());
            }
        }
    }

    // 3. Run the snapshot tests without writing anything.
    println!(
        "==> fixture snapshot tests: cargo test --workspace --all-features --test fixtures (INSTA_UPDATE=no)"
    );
    let output = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
        .args(["test", "--workspace", "--all-features", "--test", "fixtures", "--color", "never"])
        .env("INSTA_UPDATE", "no")
        .env("INSTA_FORCE_PASS", "0")
        .env_remove("INSTA_FORCE_UPDATE")
        .current_dir(root)
        .stdin(Stdio::null())
        .output();
    let output = match output {
        Ok(o) => o,
        Err(e) => {
            eprintln!("xtask: could not run cargo: {e}");
            return false;
        }
    };
    let log =
        format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    let failed_inputs: BTreeSet<String> =
        log.lines().filter_map(|l| l.trim().strip_prefix("Input file: ").map(str::to_owned)).collect();
    if !output.status.success() {
        println!("{log}");
        if failed_inputs.is_empty() {
            problems.push("the fixture tests failed (see the output above)".into());
        }
    }
    for input in &failed_inputs {
        let what = if snapshot_inputs.contains_key(input) { "changed" } else { "new (no reviewed snapshot)" };
        problems.push(format!("{input}: snapshot {what}; review it with `cargo insta review` or INSTA_UPDATE=always, then read the diff"));
    }

    // 4. Coverage per vendor.
    for (vendor, files) in &fixtures {
        let report = reports.get_mut(vendor).expect("report per vendor");
        for file in files {
            match snapshot_inputs.get(file) {
                Some(snaps) => {
                    report.covered += 1;
                    report.snapshots += snaps.len();
                    if failed_inputs.contains(file) {
                        report.failed += snaps.len().max(1);
                    }
                }
                None if failed_inputs.contains(file) => {
                    report.snapshots += 1;
                    report.failed += 1;
                }
                None => problems.push(format!("{file}: covered by no snapshot test")),
            }
        }
    }

    print_table(&reports);
    if problems.is_empty() {
        println!("\ntest-fixtures: ok");
        true
    } else {
        eprintln!("\ntest-fixtures: {} problem(s)", problems.len());
        for p in &problems {
            eprintln!("  - {p}");
        }
        false
    }
}

fn print_table(reports: &BTreeMap<String, VendorReport>) {
    println!("\n| vendor | fixtures found | fixtures covered | snapshots passed | provenance |");
    println!("|---|---:|---:|---:|---|");
    let mut total = VendorReport::default();
    for (vendor, r) in reports {
        let kinds: Vec<String> = r.kinds.iter().map(|(k, n)| format!("{k} {n}")).collect();
        println!(
            "| {vendor} | {} | {} | {}/{} | {} |",
            r.found,
            r.covered,
            r.snapshots.saturating_sub(r.failed),
            r.snapshots,
            kinds.join(", ")
        );
        total.found += r.found;
        total.covered += r.covered;
        total.snapshots += r.snapshots;
        total.failed += r.failed;
    }
    println!(
        "| **all** | {} | {} | {}/{} | |",
        total.found,
        total.covered,
        total.snapshots.saturating_sub(total.failed),
        total.snapshots
    );
}

/// Parses `sources.txt`: `<path> | <kind> | <detail>` per line, `#` comments.
fn read_sources(vendor_dir: &Path, problems: &mut Vec<String>) -> BTreeMap<String, Source> {
    let path = vendor_dir.join("sources.txt");
    let shown = format!("fixtures/{}/sources.txt", file_name(vendor_dir));
    let Ok(text) = fs::read_to_string(&path) else {
        problems.push(format!("{shown} is missing: every fixture must say where it came from"));
        return BTreeMap::new();
    };
    let mut sources = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let parts: Vec<&str> = line.splitn(3, '|').map(str::trim).collect();
        match parts.as_slice() {
            [file, kind, detail] if KINDS.contains(kind) && !detail.is_empty() => {
                sources.insert((*file).to_owned(), Source { kind: (*kind).to_owned() });
            }
            _ => problems.push(format!(
                "{shown}:{}: expected `<file> | <{}> | <detail>`",
                n + 1,
                KINDS.join("|")
            )),
        }
    }
    sources
}

fn header_field(snapshot: &str, field: &str) -> Option<String> {
    let header = snapshot.strip_prefix("---")?.split("\n---").next()?;
    header
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{field}: ")).map(|v| v.trim().trim_matches('"').to_owned()))
}

fn sorted_entries(dir: &Path) -> Vec<PathBuf> {
    let mut entries: Vec<PathBuf> =
        fs::read_dir(dir).map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect()).unwrap_or_default();
    entries.sort();
    entries
}

fn collect_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in sorted_entries(dir) {
        if entry.is_dir() {
            collect_files(&entry, out);
        } else {
            out.push(entry);
        }
    }
}

fn file_name(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

fn relative(path: &Path, base: &Path) -> String {
    path.strip_prefix(base).unwrap_or(path).to_string_lossy().replace('\\', "/")
}
