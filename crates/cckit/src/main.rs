//! `cckit`: run the vendor simulators, a demo of every implemented vendor flow, decode
//! captured payloads, send authenticated sample callbacks to your endpoint, and run a durable
//! receiver (`listen`).

mod decode;
mod demo;
mod listen;
mod sim;
mod trigger;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    name = "cckit",
    version,
    about = "Contact-center toolkit: demo, simulators, decode, trigger, listen"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Runs each vendor's flow against its simulator, in-process, and prints a transcript.
    Demo {
        /// ece, alvaria, icc-website, icc-simprot, lp, wxcc, wxcc-legacy or all.
        #[arg(default_value = "all")]
        vendor: String,
    },
    /// Runs one simulator until interrupted; prints its URL and the credentials it accepts.
    Sim {
        /// ece, alvaria, icc-website, icc-simprot, lp, wxcc or wxcc-legacy.
        vendor: String,
        /// Port on 127.0.0.1 (default: any free port).
        #[arg(long)]
        port: Option<u16>,
        /// Where the simulator posts callbacks (ece, alvaria) or notifications (lp).
        #[arg(long)]
        webhook: Option<String>,
        /// Faults for the next API calls, in order (ece, alvaria, icc-website, lp, wxcc): a comma list of
        /// `STATUS` or `STATUS:RETRY_AFTER_SECONDS` (e.g. `429:2`, `503`), `reset` (break the
        /// connection after processing) and `delay:MILLISECONDS`.
        #[arg(long)]
        faults: Option<String>,
    },
    /// Parses a captured payload with the vendor's model and prints it as JSON.
    Decode {
        /// ece, alvaria, icc-website, icc-simprot, lp, wxcc or wxcc-legacy (omit with --list).
        vendor: Option<String>,
        /// The payload kind (see --list).
        #[arg(long)]
        kind: Option<String>,
        /// The file to read; `-` or nothing reads standard input.
        file: Option<PathBuf>,
        /// Also print the vendor-neutral ConversationEvents.
        #[arg(long)]
        events: bool,
        /// List every input field the model dropped, by key path.
        #[arg(long)]
        roundtrip: bool,
        /// Lists vendors and kinds.
        #[arg(long)]
        list: bool,
        /// lp: verify with this client secret before parsing; wxcc: with the subscription's
        /// secret.
        #[arg(long)]
        secret: Option<String>,
        /// lp: the x-liveperson-signature value; wxcc: the X-WebexCC-Signature value.
        #[arg(long)]
        signature: Option<String>,
        /// wxcc: the X-WebExCC-Timestamp value (V2 subscriptions).
        #[arg(long)]
        timestamp: Option<String>,
        /// lp: the x-liveperson-account-id value.
        #[arg(long)]
        account_id: Option<String>,
        /// lp: the x-liveperson-client-id value.
        #[arg(long)]
        client_id: Option<String>,
    },
    /// A production receiver: acknowledges a delivery once it is committed to the store,
    /// then hands it on (stdout JSON lines, --forward-to URL, or --exec CMD).
    Listen {
        /// ece, alvaria, lp or wxcc.
        vendor: String,
        #[command(flatten)]
        options: listen::Options,
    },
    /// Sends one correctly authenticated sample callback to your endpoint.
    Trigger {
        /// ece, alvaria, lp or wxcc.
        vendor: Option<String>,
        /// ece: assigned|message|typing|complete; alvaria: new-session|agent-joined|message|session-end;
        /// lp: content|typing|accept|closed; wxcc: an event type (agent:login, task:new,
        /// capture:available…; capture-available also works).
        event: Option<String>,
        /// Your endpoint.
        #[arg(long)]
        to: Option<String>,
        /// ece: Basic user.
        #[arg(long)]
        user: Option<String>,
        /// ece: Basic password.
        #[arg(long)]
        password: Option<String>,
        /// alvaria: PEM private key to sign with (default: the built-in test key).
        #[arg(long)]
        private_key: Option<PathBuf>,
        /// alvaria: prints the built-in test key's public half and exits.
        #[arg(long)]
        print_public_key: bool,
        /// lp: the client secret to sign with; wxcc: the subscription's secret.
        #[arg(long)]
        secret: Option<String>,
        /// wxcc: the subscription id (the end of `source`).
        #[arg(long, default_value = "cckit-subscription")]
        subscription: String,
        /// wxcc: send as a V1 subscription does (no timestamp or version header).
        #[arg(long)]
        v1: bool,
        /// lp: x-liveperson-account-id.
        #[arg(long, default_value = "42257269")]
        account_id: String,
        /// lp: x-liveperson-client-id.
        #[arg(long, default_value = "81fad476-88af-4d08-bc0e-20bc69439ed4")]
        client_id: String,
    },
}

/// A command's failure: what to print and the exit code (1: failed, 2: usage).
pub struct Failure {
    message: String,
    code: u8,
}

impl Failure {
    /// A failed step (exit 1).
    pub fn failed(message: impl Into<String>) -> Self {
        Self { message: message.into(), code: 1 }
    }

    /// A usage error (exit 2).
    pub fn usage(message: impl Into<String>) -> Self {
        Self { message: message.into(), code: 2 }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Demo { vendor } => demo::run(&vendor).await,
        Command::Sim { vendor, port, webhook, faults } => {
            sim::run(&vendor, port, webhook, faults.as_deref()).await
        }
        Command::Decode {
            vendor,
            kind,
            file,
            events,
            roundtrip,
            list,
            secret,
            signature,
            timestamp,
            account_id,
            client_id,
        } => {
            let options =
                decode::Options { events, roundtrip, secret, signature, timestamp, account_id, client_id };
            if list {
                decode::list();
                Ok(())
            } else {
                decode::run(vendor.as_deref(), kind.as_deref(), file.as_deref(), &options)
            }
        }
        Command::Listen { vendor, options } => listen::run(&vendor, options).await,
        Command::Trigger {
            vendor,
            event,
            to,
            user,
            password,
            private_key,
            print_public_key,
            secret,
            subscription,
            v1,
            account_id,
            client_id,
        } => {
            let options = trigger::Options {
                to,
                user,
                password,
                private_key,
                secret,
                subscription,
                v1,
                account_id,
                client_id,
            };
            if print_public_key {
                print!("{}", alvaria_servermsg::sim::PUBLIC_KEY_PEM);
                Ok(())
            } else {
                trigger::run(vendor.as_deref(), event.as_deref(), &options).await
            }
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("cckit: {}", failure.message);
            ExitCode::from(failure.code)
        }
    }
}
