//! `cckit`: the toolkit's command-line tool. Its commands (`demo`, `sim`, `decode`, `trigger`)
//! arrive with the cckit issue; until then it reports its version and says so.

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("--version" | "-V") => {
            println!("cckit {}", env!("CARGO_PKG_VERSION"));
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!(
                "cckit {}: no commands are available yet (demo, sim, decode and trigger are planned).",
                env!("CARGO_PKG_VERSION")
            );
            ExitCode::from(2)
        }
    }
}
