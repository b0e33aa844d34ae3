//! The command line: clap definitions, and one function per command that calls the library.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use crate::console::outln;
use crate::engine::{status_lines, Decision, Engine, RunOptions};
use crate::error::{Error, Result};
use crate::pipeline::{self, Pipeline};
use crate::stage::Registry;

#[derive(Debug, Parser)]
#[command(
    name = "canary",
    version,
    about = "A reproducible research pipeline for English children's social care statistics"
)]
pub struct Cli {
    /// The pipeline file.
    #[arg(
        short = 'f',
        long = "file",
        global = true,
        default_value = "pipeline.yaml"
    )]
    pub file: PathBuf,
    /// Print only errors.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    /// Override a param of pipeline.yaml, e.g. `--set model.alpha=0.5` (repeatable).
    #[arg(long = "set", global = true, value_name = "KEY=VALUE")]
    pub set: Vec<String>,
    /// Apply a named set of params from the pipeline's `profiles:` (before any `--set`).
    #[arg(long, global = true, value_name = "NAME")]
    pub profile: Option<String>,
    /// List every cell of a sweep (`matrix:`), not one line per sweep.
    #[arg(short, long, global = true)]
    pub verbose: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Bring stages up to date (all, or the named ones and what they need).
    Run {
        stages: Vec<String>,
        /// Run even stages whose cached outputs are valid.
        #[arg(long)]
        force: bool,
        /// Say what would run and why, without running anything.
        #[arg(long)]
        dry_run: bool,
        /// How many stages may run at once, and the partitions a SQL stage's query uses
        /// (default: the number of cores).
        #[arg(short, long)]
        jobs: Option<usize>,
        /// The memory a SQL stage's query may hold before it spills to disk (`512MB`, `2GiB`;
        /// default: the pipeline's `settings.memory`, else an eighth of RAM up to 512 MiB).
        #[arg(long, value_name = "SIZE")]
        memory: Option<String>,
    },
    /// Say, per stage, whether it is up to date or why it will run.
    Status { stages: Vec<String> },
    /// Show the stage graph.
    Dag {
        #[arg(long, value_enum, default_value = "text")]
        format: DagFormatArg,
    },
    /// Query the current outputs with SQL; every output table is registered by name.
    Sql {
        query: String,
        #[arg(long, value_enum, default_value = "table")]
        format: SqlFormat,
    },
    /// Fill raw/ with the sources, from a mirror folder or their URLs, checking checksums.
    Fetch {
        #[arg(long)]
        mirror: Option<PathBuf>,
    },
    /// List the stage kinds, or show one: its params (type, default, meaning), the tables it
    /// writes and an example stage.
    Kinds {
        name: Option<String>,
        /// Print the README's table of kinds (Markdown) instead.
        #[arg(long, conflicts_with = "name")]
        markdown: bool,
    },
    /// Remove cached outputs no stage of the current lock uses, and stray files under out/.
    Gc,
    /// Re-derive every output from the published files in a fresh temporary workspace and
    /// compare it with the lock (or RO-Crate): a verdict per stage and table.
    Verify {
        /// The lock to verify against (default: the pipeline's pipeline.lock).
        #[arg(long, conflicts_with = "crate_file")]
        lock: Option<PathBuf>,
        /// Verify against an RO-Crate's checksums instead (reports/ro-crate-metadata.json).
        #[arg(long = "crate", value_name = "FILE")]
        crate_file: Option<PathBuf>,
        /// How many stages may run at once (default: the number of cores).
        #[arg(short, long)]
        jobs: Option<usize>,
        /// Accept numeric cells that differ by at most this much (absolute or relative).
        #[arg(long)]
        tolerance: Option<f64>,
        /// Also add the verdict to the report as its "Verification" section.
        #[arg(long)]
        report: bool,
        /// A folder holding copies of the sources (tried before the pipeline's `mirrors:`).
        #[arg(long)]
        mirror: Option<PathBuf>,
    },
}

/// `canary sql --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SqlFormat {
    Table,
    Csv,
    Json,
}

impl From<SqlFormat> for crate::query::Format {
    fn from(f: SqlFormat) -> Self {
        match f {
            SqlFormat::Table => crate::query::Format::Table,
            SqlFormat::Csv => crate::query::Format::Csv,
            SqlFormat::Json => crate::query::Format::Json,
        }
    }
}

/// `canary dag --format`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum DagFormatArg {
    Text,
    Dot,
    Mermaid,
}

impl From<DagFormatArg> for pipeline::dag::DagFormat {
    fn from(f: DagFormatArg) -> Self {
        match f {
            DagFormatArg::Text => pipeline::dag::DagFormat::Text,
            DagFormatArg::Dot => pipeline::dag::DagFormat::Dot,
            DagFormatArg::Mermaid => pipeline::dag::DagFormat::Mermaid,
        }
    }
}

/// Parse the command line and run; the exit code follows the contract in the README.
pub fn main() -> i32 {
    crate::console::install_panic_hook();
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            // `--help` and `--version` exit 0 unless their text could not be written.
            return match e.print() {
                Ok(()) => e.exit_code(),
                Err(_) => e.exit_code().max(1),
            };
        }
    };
    let code = match dispatch(cli) {
        Ok(()) => 0,
        // stdout's reader went away (`| head`): end quietly, as SIGPIPE would.
        Err(e) if crate::console::is_broken_pipe(&e) => 141,
        Err(e) => {
            crate::console::errln(&e.to_string());
            e.exit_code()
        }
    };
    if code == 0 && crate::console::stderr_failed() {
        1
    } else {
        code
    }
}

fn overrides(set: &[String]) -> Result<Vec<(String, String)>> {
    set.iter()
        .map(|s| {
            s.split_once('=')
                .map(|(k, v)| (k.trim().to_string(), v.to_string()))
                .ok_or_else(|| {
                    Error::usage(format!("`--set {s}` is not KEY=VALUE"))
                        .with_hint("write e.g. `--set model.alpha=0.5`")
                })
        })
        .collect()
}

fn dispatch(cli: Cli) -> Result<()> {
    let registry = crate::kinds::builtin();
    let load = || -> Result<Pipeline> {
        pipeline::load_profile(
            &cli.file,
            &registry,
            cli.profile.as_deref(),
            &overrides(&cli.set)?,
        )
    };
    match cli.command {
        Command::Run {
            stages,
            force,
            dry_run,
            jobs,
            memory,
        } => {
            let p = load()?;
            let jobs = jobs.unwrap_or_else(cores);
            if jobs == 0 {
                return Err(Error::usage("`--jobs` must be at least 1"));
            }
            let memory = memory.map(|m| parse_memory(&m)).transpose()?;
            Engine::new(&p, &registry)?.run(&RunOptions {
                targets: stages,
                force,
                dry_run,
                jobs,
                quiet: cli.quiet,
                verbose: cli.verbose,
                memory,
            })?;
            Ok(())
        }
        Command::Status { stages } => status(&load()?, &registry, &stages, cli.quiet, cli.verbose),
        Command::Dag { format } => {
            let p = load()?;
            crate::console::out(&pipeline::dag::render(&p, format.into()))
        }
        Command::Sql { query, format } => {
            let p = load()?;
            crate::query::run(&p, &registry, &query, format.into())
        }
        Command::Fetch { mirror } => {
            let p = load()?;
            let n = crate::fetch::fetch_all(&p, mirror.as_ref(), cli.quiet)?;
            if !cli.quiet {
                outln(&format!(
                    "{n} fetched, {} sources verified",
                    p.sources.len()
                ))?;
            }
            Ok(())
        }
        Command::Verify {
            lock,
            crate_file,
            jobs,
            tolerance,
            report,
            mirror,
        } => {
            let options = crate::verify::Options {
                lock,
                crate_file,
                jobs: jobs.unwrap_or_else(cores).max(1),
                tolerance,
                mirror,
                profile: cli.profile.clone(),
            };
            verify(&load()?, &registry, options, report, &cli.set, cli.quiet)
        }
        Command::Kinds { name, markdown } => crate::console::out(&match (name, markdown) {
            (_, true) => crate::kinds::docs::readme_table(&registry),
            (Some(n), false) => crate::kinds::docs::kind(&registry, &n)?,
            (None, false) => crate::kinds::docs::list(&registry),
        }),
        Command::Gc => {
            let p = load()?;
            let msg = Engine::new(&p, &registry)?.gc()?;
            if !cli.quiet {
                outln(&msg)?;
            }
            Ok(())
        }
    }
}

/// The cores this process may use: the default for `--jobs`.
fn cores() -> usize {
    std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
}

fn parse_memory(m: &str) -> Result<usize> {
    crate::pipeline::parse_size(m).ok_or_else(|| {
        Error::usage(format!("`--memory {m}` is not a size"))
            .with_hint("write e.g. `--memory 512MB` or `--memory 2GiB`")
    })
}

/// `canary status`: a line per stage, then how many will run.
fn status(
    p: &Pipeline,
    registry: &Registry,
    stages: &[String],
    quiet: bool,
    verbose: bool,
) -> Result<()> {
    let plan = Engine::new(p, registry)?.plan(stages, false)?;
    let stale = plan
        .iter()
        .filter(|(_, v)| *v != Decision::UpToDate)
        .count();
    for line in status_lines(p, &plan, false, verbose) {
        outln(&line)?;
    }
    if !quiet {
        outln(&if stale == 0 {
            "everything is up to date".to_string()
        } else {
            format!("{stale} of {} stages will run", plan.len())
        })?;
    }
    Ok(())
}

/// `canary verify`: re-derive every output in a fresh workspace and compare.
fn verify(
    p: &Pipeline,
    registry: &Registry,
    options: crate::verify::Options,
    report: bool,
    set: &[String],
    quiet: bool,
) -> Result<()> {
    if let Some(t) = options.tolerance {
        if !(t >= 0.0 && t.is_finite()) {
            return Err(
                Error::usage(format!("`--tolerance {t}` must be a finite number ≥ 0"))
                    .with_hint("e.g. `--tolerance 1e-9`"),
            );
        }
    }
    if !quiet {
        crate::console::errln(
            "canary: re-deriving every output in a fresh workspace (this runs the whole pipeline)…",
        );
    }
    let outcome = crate::verify::verify(p, registry, &overrides(set)?, &options)?;
    crate::console::out(&if quiet {
        format!("{}\n", outcome.summary())
    } else {
        outcome.render_text()
    })?;
    if report {
        for f in crate::verify::write_report_section(p, &outcome)? {
            if !quiet {
                outln(&format!("wrote {}", p.relative(&f)))?;
            }
        }
    }
    if outcome.ok() {
        Ok(())
    } else {
        Err(Error::Unverified(outcome.summary()))
    }
}
