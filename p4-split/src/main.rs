//! `p4-split`: generates the Tofino program's configuration header and bfrt_python control
//! plane from the cluster file, and checks the P4 sources against the Rust crates.
//!
//! ```text
//! p4-split setup --config configs/cluster.toml --dry-run        # script to stdout
//! p4-split setup --config configs/cluster.toml --out setup.py
//! p4-split config-header --config configs/cluster.toml [--out p4/include/config.p4]
//! p4-split check --config configs/cluster.toml [--p4-dir p4-split/p4]
//! ```
//! Errors are one line on stderr, `p4-split: error: ...`: status 2 for a bad flag or
//! cluster file, 1 for a file that cannot be written or read at run time; `check` exits 1
//! when it finds inconsistencies. A closed stdout ends it quietly with status 0.

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use p4_split::deploy::Deployment;
use p4_split::p4src::SourceFile;
use p4_split::{config_header, consistency, setup_script, sources};
use ribosome_config::cli::{self, EXIT_RUNTIME, EXIT_USAGE};
use ribosome_config::{out, outln};
use std::path::{Path, PathBuf};
use std::process::ExitCode;

/// Control plane and configuration for the Ribosome Tofino program.
#[derive(Debug, Parser)]
#[command(version)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

#[derive(Debug, Subcommand)]
enum Cmd {
    /// Generate the bfrt_python setup script (ports, TM, mirrors, tables, timers).
    Setup {
        /// Cluster file ([servers], [switch], [tofino]).
        #[arg(long)]
        config: PathBuf,
        /// Print the script to stdout and write nothing.
        #[arg(long)]
        dry_run: bool,
        /// Write the script to this file.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Generate include/config.p4 (printed unless --out is given).
    ConfigHeader {
        /// Cluster file.
        #[arg(long)]
        config: PathBuf,
        /// Write the header to this file.
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Check P4 sources against the Rust crates and the cluster file.
    Check {
        /// Cluster file.
        #[arg(long)]
        config: PathBuf,
        /// Directory with ribosome.p4 and its includes (default: the sources built in).
        #[arg(long)]
        p4_dir: Option<PathBuf>,
    },
}

/// A failure and the exit status it gets.
#[derive(Debug)]
struct Failure(u8, anyhow::Error);

/// Errors found before any work starts (flags, the cluster file): status 2.
fn usage<T, E: Into<anyhow::Error>>(r: Result<T, E>) -> Result<T, Failure> {
    r.map_err(|e| Failure(EXIT_USAGE, e.into()))
}

/// Errors at run time (writing the output, reading --p4-dir): status 1.
fn runtime<T, E: Into<anyhow::Error>>(r: Result<T, E>) -> Result<T, Failure> {
    r.map_err(|e| Failure(EXIT_RUNTIME, e.into()))
}

fn write_or_print(text: &str, to: Option<&Path>) -> Result<()> {
    match to {
        Some(p) => std::fs::write(p, text).with_context(|| format!("writing {}", p.display())),
        None => {
            out!("{text}");
            Ok(())
        }
    }
}

fn read_dir_sources(dir: &Path) -> Result<Vec<SourceFile>> {
    sources::FILES
        .iter()
        .map(|(path, _)| {
            let full = dir.join(path);
            let text = std::fs::read_to_string(&full)
                .with_context(|| format!("reading {}", full.display()))?;
            Ok(SourceFile {
                path: (*path).to_string(),
                text,
            })
        })
        .collect()
}

fn run(cli: Cli) -> Result<bool, Failure> {
    match cli.cmd {
        Cmd::Setup {
            config,
            dry_run,
            out,
        } => {
            if !dry_run && out.is_none() {
                return usage(Err(anyhow::anyhow!(
                    "give --out FILE, or --dry-run to print the script"
                )));
            }
            let script = usage((|| {
                let d = Deployment::load(&config)?;
                let p4 = setup_script::committed_program()?;
                setup_script::render(&d, &p4, &config.display().to_string())
            })())?;
            runtime(write_or_print(
                &script,
                if dry_run { None } else { out.as_deref() },
            ))?;
        }
        Cmd::ConfigHeader { config, out } => {
            let text = usage((|| {
                let d = Deployment::load(&config)?;
                let p4 = setup_script::committed_program()?;
                config_header::render(&d, &p4, &config.display().to_string())
            })())?;
            runtime(write_or_print(&text, out.as_deref()))?;
        }
        Cmd::Check { config, p4_dir } => {
            let d = usage(Deployment::load(&config))?;
            let files = match p4_dir {
                Some(dir) => runtime(read_dir_sources(&dir))?,
                None => sources::committed(),
            };
            let findings = consistency::check_all(&files, &d);
            for f in &findings {
                outln!("{f}");
            }
            if !findings.is_empty() {
                eprintln!("p4-split: {} inconsistencies", findings.len());
                return Ok(false);
            }
            outln!("p4-split: P4 sources consistent with the Rust crates and the config");
        }
    }
    Ok(true)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(EXIT_RUNTIME),
        Err(Failure(code, e)) => cli::fail("p4-split", code, format!("{e:#}")),
    }
}
