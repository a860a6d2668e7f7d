//! `cargo xtask shape`: the house has one shape, and this checks it.
//!
//! - Every vendor crate has the rooms of the vocabulary ([`VENDORS`]), its entry types carry
//!   the vendor's prefix (`EceClient`, `EceConfig`, `EceWebhook`, `EceSim`, one `Error`), its
//!   root re-exports exactly those entry types, and its integration tests are named alike.
//! - Inside cc-core, modules import only from lower layers ([`CC_CORE_LAYERS`]).
//! - `docs/architecture.md` shows both tables as they are here.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// The inbound room of a vendor crate, if it has one.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Inbound {
    /// `webhook`, with the receiver type `<Prefix>Webhook`.
    Webhook,
    /// `connection`: the vendor talks over a connection we keep (TCP).
    Connection,
    /// `poller`: the vendor pushes nothing; we poll.
    Poller,
    /// No inbound side (yet).
    None,
}

impl Inbound {
    fn room(self) -> Option<&'static str> {
        match self {
            Inbound::Webhook => Some("webhook"),
            Inbound::Connection => Some("connection"),
            Inbound::Poller => Some("poller"),
            Inbound::None => None,
        }
    }
}

/// One vendor crate's row of the vocabulary.
pub struct Vendor {
    /// The directory under `crates/`.
    pub dir: &'static str,
    /// The type-name prefix.
    pub prefix: &'static str,
    /// A `client` room with `<Prefix>Client` and `<Prefix>Config`.
    pub client: bool,
    /// The inbound room.
    pub inbound: Inbound,
    /// A `channel` room (the `ConversationEvent` mapping, and the `MessagingChannel` impl
    /// where the vendor is a messaging API).
    pub channel: bool,
    /// Rooms beyond the vocabulary, each with its own job.
    pub other: &'static [&'static str],
}

/// The vocabulary. Every vendor crate also has `model`, `error` (one `Error`) and `sim`
/// (`<Prefix>Sim`).
pub const VENDORS: &[Vendor] = &[
    Vendor {
        dir: "ece-messaging",
        prefix: "Ece",
        client: true,
        inbound: Inbound::Webhook,
        channel: true,
        other: &["availability", "start"],
    },
    Vendor {
        dir: "alvaria-servermsg",
        prefix: "Alvaria",
        client: true,
        inbound: Inbound::Webhook,
        channel: true,
        other: &[],
    },
    Vendor {
        dir: "icc-simprot",
        prefix: "SimProt",
        client: true,
        inbound: Inbound::Connection,
        channel: true,
        other: &["agent", "catalogue", "external", "framing"],
    },
    Vendor {
        dir: "icc-website-rest",
        prefix: "WebSite",
        client: true,
        inbound: Inbound::Poller,
        channel: true,
        other: &["diff"],
    },
    Vendor {
        dir: "lp-notifications",
        prefix: "Lp",
        client: false,
        inbound: Inbound::Webhook,
        channel: true,
        other: &["sequencer"],
    },
    Vendor {
        dir: "lp-connector",
        prefix: "Lp",
        client: true,
        inbound: Inbound::None,
        channel: true,
        other: &["auth", "domains"],
    },
    Vendor {
        dir: "wxcc-api",
        prefix: "Wxcc",
        client: true,
        inbound: Inbound::Webhook,
        channel: false,
        other: &["api", "auth", "csv", "notification", "query", "tracking"],
    },
    Vendor {
        dir: "wxcc-legacy",
        prefix: "Legacy",
        client: true,
        inbound: Inbound::None,
        channel: false,
        other: &["csv"],
    },
];

/// Integration test suites every crate names alike; a suite may also be named after the room
/// it tests (`sequencer.rs`). `common/` holds helpers shared by suites.
const SUITES: &[&str] = &["flow", "receiver", "faults", "fixtures"];

/// cc-core's modules, lowest layer first: a module imports only from layers below its own.
pub const CC_CORE_LAYERS: &[&[&str]] = &[
    &["secret"],
    &["de"],
    &["ids", "time", "enums"],
    &["error"],
    &["conversation"],
    &["auth"],
    &["http"],
    &["serve"],
    &["inbox"],
    &["webhook"],
    &["sim"],
];

/// Runs every check; prints what is wrong and returns whether all passed.
pub fn shape(root: &Path) -> bool {
    println!("\n==> shape: vendor crate vocabulary, cc-core layers, docs/architecture.md tables");
    let mut problems = Vec::new();
    for vendor in VENDORS {
        problems.extend(check_vendor(&root.join("crates").join(vendor.dir), vendor));
    }
    problems.extend(check_layers(&root.join("crates/cc-core/src")));
    match fs::read_to_string(root.join("docs/architecture.md")) {
        Ok(doc) => problems.extend(check_doc(&doc)),
        Err(e) => problems.push(format!("docs/architecture.md: {e}")),
    }
    for problem in &problems {
        eprintln!("xtask shape: {problem}");
    }
    if problems.is_empty() {
        println!(
            "{} vendor crates follow the vocabulary; cc-core's {} layers import downwards only",
            VENDORS.len(),
            CC_CORE_LAYERS.len()
        );
    }
    problems.is_empty()
}

/// The rooms a vendor must have, and the ones it may have.
fn expected_rooms(vendor: &Vendor) -> BTreeSet<&'static str> {
    let mut rooms: BTreeSet<&str> = ["model", "error", "sim"].into();
    if vendor.client {
        rooms.insert("client");
    }
    if let Some(room) = vendor.inbound.room() {
        rooms.insert(room);
    }
    if vendor.channel {
        rooms.insert("channel");
    }
    rooms.extend(vendor.other);
    rooms
}

/// The root re-exports a vendor crate has: its entry types, nothing else.
fn expected_exports(vendor: &Vendor) -> BTreeSet<String> {
    let mut names: BTreeSet<String> = ["Error".to_owned()].into();
    if vendor.client {
        names.insert(format!("{}Client", vendor.prefix));
        names.insert(format!("{}Config", vendor.prefix));
    }
    if vendor.inbound == Inbound::Webhook {
        names.insert(format!("{}Webhook", vendor.prefix));
    }
    names
}

fn check_vendor(dir: &Path, vendor: &Vendor) -> Vec<String> {
    let name = vendor.dir;
    let mut problems = Vec::new();
    let lib = match fs::read_to_string(dir.join("src/lib.rs")) {
        Ok(lib) => strip_comments(&lib),
        Err(e) => return vec![format!("{name}: src/lib.rs: {e}")],
    };
    let rooms = declared_modules(&lib);
    let expected = expected_rooms(vendor);
    for missing in expected.iter().filter(|r| !rooms.contains(**r)) {
        problems.push(format!("{name}: lacks the room `{missing}`"));
    }
    for extra in rooms.iter().filter(|r| !expected.contains(r.as_str())) {
        problems.push(format!("{name}: room `{extra}` is not in the vocabulary table (xtask/src/shape.rs)"));
    }

    let mut types: Vec<(&str, String, &str)> =
        vec![("error", "Error".into(), "enum"), ("sim", format!("{}Sim", vendor.prefix), "struct")];
    if vendor.client {
        types.push(("client", format!("{}Client", vendor.prefix), "struct"));
        types.push(("client", format!("{}Config", vendor.prefix), "struct"));
    }
    if vendor.inbound == Inbound::Webhook {
        types.push(("webhook", format!("{}Webhook", vendor.prefix), "struct"));
    }
    for (room, ty, kind) in types {
        match room_source(&dir.join("src"), room) {
            Some(source) if defines(&source, kind, &ty) => {}
            Some(_) => problems.push(format!("{name}: room `{room}` defines no `pub {kind} {ty}`")),
            None => {} // reported as a missing room
        }
    }

    let exports = root_exports(&lib);
    let wanted = expected_exports(vendor);
    if exports != wanted {
        let extra: Vec<_> = exports.difference(&wanted).collect();
        let missing: Vec<_> = wanted.difference(&exports).collect();
        problems.push(format!(
            "{name}: the root re-exports the entry types only (want {wanted:?}); extra {extra:?}, missing {missing:?}"
        ));
    }

    problems.extend(check_tests(dir, vendor, &rooms));
    problems
}

fn check_tests(dir: &Path, vendor: &Vendor, rooms: &BTreeSet<String>) -> Vec<String> {
    let name = vendor.dir;
    let mut problems = Vec::new();
    let Ok(entries) = fs::read_dir(dir.join("tests")) else {
        return vec![format!("{name}: no tests/ directory")];
    };
    let mut suites = BTreeSet::new();
    for entry in entries.flatten() {
        let path = entry.path();
        let stem = if path.is_dir() {
            path.file_name().map(|n| n.to_string_lossy().into_owned())
        } else if path.extension().is_some_and(|e| e == "rs") {
            path.file_stem().map(|n| n.to_string_lossy().into_owned())
        } else {
            continue;
        };
        let Some(stem) = stem else { continue };
        if stem == "snapshots" || stem == "common" {
            continue;
        }
        if !SUITES.contains(&stem.as_str()) && !rooms.contains(&stem) {
            problems.push(format!(
                "{name}: test suite `{stem}` is named neither like the others ({SUITES:?}) nor after a room"
            ));
        }
        suites.insert(stem);
    }
    let mut required = vec!["fixtures"];
    if vendor.client {
        required.push("flow");
    }
    if vendor.inbound == Inbound::Webhook {
        required.push("receiver");
    }
    for suite in required {
        if !suites.contains(suite) {
            problems.push(format!("{name}: lacks the test suite tests/{suite}.rs"));
        }
    }
    problems
}

/// Modules declared in a crate root (`mod x;`, `pub mod x;`, behind any `#[cfg]`).
fn declared_modules(lib: &str) -> BTreeSet<String> {
    lib.lines()
        .filter_map(|line| {
            let line = line.trim();
            let rest = line.strip_prefix("pub mod ").or_else(|| line.strip_prefix("mod "))?;
            let name = rest.strip_suffix(';')?.trim();
            Some(name.to_owned())
        })
        .collect()
}

/// The source of room `room` (`room.rs`, or every file of `room/`).
fn room_source(src: &Path, room: &str) -> Option<String> {
    if let Ok(text) = fs::read_to_string(src.join(format!("{room}.rs"))) {
        return Some(text);
    }
    let dir = src.join(room);
    let mut files = Vec::new();
    collect_rs(&dir, &mut files);
    if files.is_empty() {
        return None;
    }
    Some(files.iter().filter_map(|f| fs::read_to_string(f).ok()).collect::<Vec<_>>().join("\n"))
}

fn collect_rs(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else { return };
    let mut entries: Vec<_> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            collect_rs(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Whether `source` defines `pub <kind> <name>` (also through `cc_core::simulator!`, which
/// takes a `pub struct` line).
fn defines(source: &str, kind: &str, name: &str) -> bool {
    let wanted = format!("pub {kind} {name}");
    source.lines().any(|line| {
        let line = line.trim();
        line.strip_prefix(&wanted)
            .is_some_and(|rest| rest.starts_with([' ', '{', '(', '<', ';']) || rest.is_empty())
    })
}

/// The names a crate root re-exports (`pub use a::{B, C};`, `pub use a::B;`).
fn root_exports(lib: &str) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut rest = lib;
    while let Some(at) = rest.find("pub use ") {
        let after = &rest[at + "pub use ".len()..];
        let Some(end) = after.find(';') else { break };
        let path = &after[..end];
        match (path.find('{'), path.rfind('}')) {
            (Some(open), Some(close)) if open < close => names.extend(
                path[open + 1..close]
                    .split(',')
                    .map(|n| n.trim().rsplit(" as ").next().unwrap_or("").trim().to_owned())
                    .filter(|n| !n.is_empty()),
            ),
            _ => names.extend(path.rsplit("::").next().map(|n| n.trim().to_owned())),
        }
        rest = &after[end..];
    }
    names
}

/// Drops `//` comments (doc comments included): intra-doc links are not imports.
fn strip_comments(text: &str) -> String {
    text.lines().map(|l| l.split("//").next().unwrap_or("")).collect::<Vec<_>>().join("\n")
}

/// Every `crate::x` a cc-core module names, by module, with the file and line.
fn check_layers(src: &Path) -> Vec<String> {
    let layer_of: BTreeMap<&str, usize> =
        CC_CORE_LAYERS.iter().enumerate().flat_map(|(i, mods)| mods.iter().map(move |m| (*m, i))).collect();
    let lib = match fs::read_to_string(src.join("lib.rs")) {
        Ok(lib) => strip_comments(&lib),
        Err(e) => return vec![format!("cc-core: src/lib.rs: {e}")],
    };
    let mut problems = Vec::new();
    let modules = declared_modules(&lib);
    for module in &modules {
        if !layer_of.contains_key(module.as_str()) {
            problems.push(format!(
                "cc-core: module `{module}` has no layer in CC_CORE_LAYERS (xtask/src/shape.rs)"
            ));
        }
    }
    // Names re-exported at the root resolve to the module they come from; so do exported macros.
    let mut owner: BTreeMap<String, String> = BTreeMap::new();
    for line in lib.split(';') {
        let line = line.trim();
        if let Some(path) = line.strip_prefix("pub use ") {
            let module = path.split("::").next().unwrap_or("").trim().to_owned();
            for name in root_exports(&format!("pub use {path};")) {
                owner.insert(name, module.clone());
            }
        }
    }
    let mut files = Vec::new();
    collect_rs(src, &mut files);
    for file in &files {
        let Ok(text) = fs::read_to_string(file) else { continue };
        let Some(module) = top_module(src, file) else { continue };
        for line in text.lines() {
            if let Some(name) = line.split("macro_rules!").nth(1).and_then(|r| r.split_whitespace().next()) {
                owner.insert(name.trim_end_matches('{').to_owned(), module.clone());
            }
        }
    }
    for file in &files {
        let Some(module) = top_module(src, file) else { continue };
        let Some(&layer) = layer_of.get(module.as_str()) else { continue };
        let Ok(text) = fs::read_to_string(file) else { continue };
        // In a module's top file (`x.rs`, `x/mod.rs`) `super::` is the crate root too.
        let top_file = file.parent() == Some(src)
            || file.file_name().is_some_and(|n| n == "mod.rs")
                && file.parent().and_then(Path::parent) == Some(src);
        let roots: &[&str] = if top_file { &["crate::", "super::"] } else { &["crate::"] };
        for (number, line) in strip_comments(&text).lines().enumerate() {
            for name in referenced(line, roots) {
                let target = if layer_of.contains_key(name.as_str()) {
                    Some(name.clone())
                } else {
                    owner.get(&name).cloned()
                };
                let Some(target) = target else { continue };
                if target == module {
                    continue;
                }
                let Some(&target_layer) = layer_of.get(target.as_str()) else { continue };
                if target_layer > layer {
                    let shown = file.strip_prefix(src).unwrap_or(file).display();
                    problems.push(format!(
                        "cc-core: src/{shown}:{}: `{module}` (layer {}) uses `{target}` (layer {}), a higher layer",
                        number + 1,
                        layer + 1,
                        target_layer + 1
                    ));
                }
            }
        }
    }
    problems
}

/// The top-level module a cc-core file belongs to (`auth` for `auth/cache.rs`).
fn top_module(src: &Path, file: &Path) -> Option<String> {
    let relative = file.strip_prefix(src).ok()?;
    let first = relative.components().next()?.as_os_str().to_string_lossy().into_owned();
    let name = first.strip_suffix(".rs").unwrap_or(&first).to_owned();
    (name != "lib").then_some(name)
}

/// The first segment after each of `roots` in `line` (`crate::auth::X` → `auth`), also inside
/// `$crate::` and `use crate::{a, b}` groups.
fn referenced(line: &str, roots: &[&str]) -> Vec<String> {
    let mut names = Vec::new();
    for root in roots {
        for (at, _) in line.match_indices(root) {
            // `super::` inside `super::super::` or `x::super::` is not a path from the root.
            let before = line[..at].chars().last();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                continue;
            }
            let after = &line[at + root.len()..];
            if let Some(group) = after.strip_prefix('{') {
                let group = group.split('}').next().unwrap_or("");
                names.extend(group.split(',').map(|n| ident(n.trim())).filter(|n| !n.is_empty()));
            } else {
                let name = ident(after);
                if !name.is_empty() {
                    names.push(name);
                }
            }
        }
    }
    names
}

fn ident(text: &str) -> String {
    text.chars().take_while(|c| c.is_alphanumeric() || *c == '_').collect()
}

/// The row of the vocabulary table in `docs/architecture.md` for `vendor`.
pub fn vocabulary_row(vendor: &Vendor) -> String {
    let p = vendor.prefix;
    let dash = || "–".to_owned();
    let client = if vendor.client { format!("`{p}Client`, `{p}Config`") } else { dash() };
    let inbound = match vendor.inbound {
        Inbound::Webhook => format!("`webhook`: `{p}Webhook`"),
        Inbound::Connection => "`connection`".to_owned(),
        Inbound::Poller => "`poller`".to_owned(),
        Inbound::None => dash(),
    };
    let channel = if vendor.channel { "`channel`".to_owned() } else { dash() };
    let other = if vendor.other.is_empty() {
        dash()
    } else {
        vendor.other.iter().map(|o| format!("`{o}`")).collect::<Vec<_>>().join(", ")
    };
    format!("| `{}` | {client} | {inbound} | {channel} | `{p}Sim` | {other} |", vendor.dir)
}

/// The row of the layer table in `docs/architecture.md` for layer `index` (its first cells).
pub fn layer_row_start(index: usize) -> String {
    let modules = CC_CORE_LAYERS[index].iter().map(|m| format!("`{m}`")).collect::<Vec<_>>().join(", ");
    format!("| {} | {modules}", index + 1)
}

fn check_doc(doc: &str) -> Vec<String> {
    let mut problems = Vec::new();
    for vendor in VENDORS {
        let row = vocabulary_row(vendor);
        if !doc.lines().any(|l| l.trim() == row) {
            problems.push(format!("docs/architecture.md: the vocabulary table lacks the row\n  {row}"));
        }
    }
    for index in 0..CC_CORE_LAYERS.len() {
        let start = layer_row_start(index);
        // Feature notes may follow a module: "`http` (`client`)".
        let found = doc.lines().any(|l| {
            let cells: Vec<&str> = l.split('|').map(str::trim).collect();
            cells.len() > 2 && format!("| {} | {}", cells[1], strip_notes(cells[2])) == start
        });
        if !found {
            problems.push(format!(
                "docs/architecture.md: the cc-core layer table lacks a row starting\n  {start} |"
            ));
        }
    }
    problems
}

fn strip_notes(cell: &str) -> String {
    let mut out = String::new();
    let mut depth = 0;
    for c in cell.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            _ if depth == 0 => out.push(c),
            _ => {}
        }
    }
    out.split(',').map(str::trim).filter(|s| !s.is_empty()).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modules_exports_and_definitions_are_read_from_source() {
        let lib = "#![deny(missing_docs)]\n#[cfg(feature = \"client\")]\npub mod client;\nmod hidden;\npub use client::{EceClient, EceConfig as Config};\npub use error::Error;\npub use webhook::{\n    EceWebhook,\n};";
        assert_eq!(declared_modules(lib), ["client".to_owned(), "hidden".to_owned()].into());
        let exports: Vec<_> = root_exports(lib).into_iter().collect();
        assert_eq!(exports, ["Config", "EceClient", "EceWebhook", "Error"]);
        assert!(defines(
            "cc_core::simulator! {\n    pub struct EceSim { state: S, config: C }\n}",
            "struct",
            "EceSim"
        ));
        assert!(!defines("pub struct EceSimulator;", "struct", "EceSim"));
        assert!(defines("pub enum Error {", "enum", "Error"));
    }

    #[test]
    fn references_name_the_first_segment() {
        assert_eq!(referenced("use crate::http::{Body, Error};", &["crate::"]), ["http"]);
        assert_eq!(referenced("use crate::{auth::X, de::parse_json};", &["crate::"]), ["auth", "de"]);
        assert_eq!(referenced("$crate::sim::SimServer", &["crate::"]), ["sim"]);
        assert_eq!(referenced("use super::super::x;", &["super::"]), ["super"]);
        assert!(referenced("let a = b;", &["crate::"]).is_empty());
    }

    #[test]
    fn rows_render_each_kind_of_room() {
        assert_eq!(
            vocabulary_row(&VENDORS[0]),
            "| `ece-messaging` | `EceClient`, `EceConfig` | `webhook`: `EceWebhook` | `channel` | `EceSim` | `availability`, `start` |"
        );
        assert_eq!(layer_row_start(2), "| 3 | `ids`, `time`, `enums`");
        assert_eq!(strip_notes("`http` (`client`)"), "`http`");
    }

    #[test]
    fn a_crate_that_drifted_is_reported_room_by_room() {
        let dir = std::env::temp_dir().join(format!("xtask-shape-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("src")).unwrap();
        fs::create_dir_all(dir.join("tests")).unwrap();
        fs::write(dir.join("src/lib.rs"), "pub mod client;\npub mod error;\npub mod model;\npub mod extra;\npub use client::{EceClient, Started};\npub use error::Error;").unwrap();
        fs::write(dir.join("src/client.rs"), "pub struct EceClient;\npub struct Config;").unwrap();
        fs::write(dir.join("src/error.rs"), "pub enum Error {}").unwrap();
        fs::write(dir.join("tests/sim.rs"), "").unwrap();
        let vendor = Vendor {
            dir: "ece-messaging",
            prefix: "Ece",
            client: true,
            inbound: Inbound::Webhook,
            channel: false,
            other: &[],
        };
        let problems = check_vendor(&dir, &vendor).join("\n");
        for expected in [
            "lacks the room `sim`",
            "lacks the room `webhook`",
            "room `extra` is not in the vocabulary table",
            "room `client` defines no `pub struct EceConfig`",
            "extra [\"Started\"]",
            "test suite `sim` is named neither",
            "lacks the test suite tests/fixtures.rs",
            "lacks the test suite tests/flow.rs",
            "lacks the test suite tests/receiver.rs",
        ] {
            assert!(problems.contains(expected), "missing {expected:?} in\n{problems}");
        }
        fs::remove_dir_all(dir).unwrap();
    }

    #[test]
    fn an_upward_import_in_cc_core_is_reported() {
        let dir = std::env::temp_dir().join(format!("xtask-layers-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("auth")).unwrap();
        fs::write(
            dir.join("lib.rs"),
            "pub mod auth;\npub mod http;\npub mod secret;\npub use secret::Secret;",
        )
        .unwrap();
        fs::write(dir.join("auth/mod.rs"), "use crate::Secret;\nmod source;").unwrap();
        fs::write(
            dir.join("auth/source.rs"),
            "// crate::http in a comment is fine\nuse crate::http::Executor;",
        )
        .unwrap();
        fs::write(dir.join("http.rs"), "use crate::auth::Token;").unwrap();
        fs::write(dir.join("secret.rs"), "").unwrap();
        let problems = check_layers(&dir);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].contains("src/auth/source.rs:2: `auth` (layer 6) uses `http` (layer 7)"),
            "{problems:?}"
        );
        fs::remove_dir_all(dir).unwrap();
    }
}
