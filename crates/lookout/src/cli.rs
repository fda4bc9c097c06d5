//! Command line: `lookout serve`, `lookout agent`, `lookout check config FILE`, `lookout check rules FILE…`,
//! `lookout hash-password`, `lookout version`.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::config;
use crate::serve::{ServeArgs, run_blocking};

/// Lookout: a single-binary, memory-bounded monitoring appliance.
#[derive(Debug, Parser)]
#[command(name = "lookout", version, about)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// Subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the appliance (embedded default configuration when no --config is given).
    Serve(ServeArgs),
    /// Run as an agent: collect, scrape and tail on this node and forward everything (remote_write, Loki push);
    /// no query API, no long-term storage, a 64 MiB memory budget unless --memory-limit says otherwise.
    Agent(ServeArgs),
    /// Validate files without running anything.
    Check {
        /// What to check.
        #[command(subcommand)]
        what: CheckCommand,
    },
    /// Print a bcrypt hash of a password read from standard input (one line), for the web config file's
    /// `basic_auth_users` or `auth.users.<name>.password_hash`.
    HashPassword {
        /// bcrypt cost (work factor), 4 to 31.
        #[arg(long, default_value_t = lookout_auth::password::DEFAULT_COST)]
        cost: u32,
    },
    /// Print the version.
    Version,
}

/// `lookout check …`
#[derive(Debug, Subcommand)]
pub enum CheckCommand {
    /// Parse and validate a configuration file.
    Config {
        /// The file.
        file: PathBuf,
    },
    /// Parse and validate rule files as `promtool check rules` does.
    Rules {
        /// The files.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

/// `lookout check rules`: promtool's report per file; failure when any file has an error.
fn check_rules(files: &[PathBuf]) -> ExitCode {
    let mut failed = false;
    for file in files {
        let path = file.display().to_string();
        println!("Checking {path}");
        let text = match std::fs::read_to_string(file) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("  FAILED:\n{path}: {e}");
                failed = true;
                continue;
            }
        };
        match lookout_rules::parse(&path, &text, &lookout_rules::check_alert_template) {
            Ok((f, found)) => {
                for w in &found.warnings {
                    println!("{w}");
                }
                let rules: usize = f.groups.iter().map(|g| g.rules.len()).sum();
                println!("  SUCCESS: {rules} rules found");
            }
            Err(found) => {
                eprintln!("  FAILED:");
                for e in &found.errors {
                    eprintln!("{e}");
                }
                failed = true;
            }
        }
        println!();
    }
    if failed {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// `lookout hash-password`: the password is read from standard input so it stays out of shell history.
fn hash_password(cost: u32) -> ExitCode {
    use std::io::IsTerminal;
    if std::io::stdin().is_terminal() {
        eprint!("Password: ");
    }
    let mut line = String::new();
    if let Err(e) = std::io::stdin().read_line(&mut line) {
        eprintln!("error: reading the password from standard input: {e}");
        return ExitCode::FAILURE;
    }
    let password = line.trim_end_matches(['\r', '\n']);
    if password.is_empty() {
        eprintln!(
            "error: empty password (give it on standard input, e.g. `echo -n secret | lookout hash-password`)"
        );
        return ExitCode::FAILURE;
    }
    match lookout_auth::hash_password(password, cost) {
        Ok(h) => {
            println!("{h}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Runs the CLI; the exit code reports success.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Version => {
            println!(
                "lookout {} (Prometheus API compatible with {})",
                env!("CARGO_PKG_VERSION"),
                lookout_api::PROMETHEUS_COMPAT_VERSION
            );
            ExitCode::SUCCESS
        }
        Command::Check {
            what: CheckCommand::Config { file },
        } => match config::load(Some(&file), "localhost:9090") {
            Ok((cfg, _)) => {
                println!(
                    "{}: ok ({} scrape configs)",
                    file.display(),
                    cfg.scrape_configs.len()
                );
                ExitCode::SUCCESS
            }
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::FAILURE
            }
        },
        Command::Check {
            what: CheckCommand::Rules { files },
        } => check_rules(&files),
        Command::HashPassword { cost } => hash_password(cost),
        Command::Agent(mut args) => {
            args.agent = true;
            match run_blocking(args) {
                Ok(()) => ExitCode::SUCCESS,
                Err(e) => {
                    eprintln!("error: {e:#}");
                    ExitCode::FAILURE
                }
            }
        }
        Command::Serve(args) => match run_blocking(args) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::FAILURE
            }
        },
    }
}
