//! canary: a reproducible research pipeline that rebuilds, from the published national
//! statistics, a study of English children's social care.
//!
//! The flow: `pipeline` (pipeline.yaml → validated DAG) → `engine` (content-cached stages,
//! lock) → `kinds` (what each stage does) → Parquet tables under `out/` → the report.
//!
//! This crate holds the commands over a run (`verify`, `fetch`, `canary sql`) and the CLI;
//! `src/main.rs` is a thin binary over it. The stage kinds and the report are
//! `canary-kinds`, the engine `canary-engine`, the numerics, parsers and harmonisation the
//! leaf crates: none of them may depend on this one (`tests/layout.rs`).
//!
//! May depend on: canary-kinds (the kinds to register, the report `verify` re-renders),
//! canary-engine (the model, the kind contract, the runner), the leaf crates, DataFusion's
//! arrow (`canary sql`'s printers and writers), tera (`verify`'s page), clap (the CLI only),
//! ureq (`canary fetch`).

pub mod cli;
pub mod fetch;
pub mod query;
pub mod verify;

// The stage kinds, the claims' rules and the report, under the names the code has always used.
pub use canary_kinds::{claims, kinds, report};

// The engine's modules under the names the code has always used for them.
pub use canary_engine::{
    console, engine, error, fsio, hash, lockfile, params, pipeline, sandbox, session, stage, table,
};
pub use error::{Error, Result};

// The leaf crates, likewise.
pub use canary_clean as clean;
pub use canary_harmonise as harmonise;
pub use canary_stats as stats;

/// The binary's entry point: parse arguments, run, return the exit code.
pub fn run() -> i32 {
    cli::main()
}
