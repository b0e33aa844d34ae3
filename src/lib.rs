//! canary: a reproducible research pipeline that rebuilds, from the published national
//! statistics, a study of English children's social care.
//!
//! The flow: `pipeline` (pipeline.yaml → validated DAG) → `engine` (content-cached stages,
//! lock) → `kinds` (what each stage does) → Parquet tables under `out/`.

pub mod claims;
pub mod clean;
pub mod cli;
pub mod console;
pub mod engine;
pub mod error;
pub mod fetch;
pub mod harmonise;
pub mod hash;
pub mod kinds;
pub mod pipeline;
pub mod query;
pub mod report;
pub mod sandbox;
pub mod stats;
pub mod table;
pub mod verify;

pub use error::{Error, Result};

/// The binary's entry point: parse arguments, run, return the exit code.
pub fn run() -> i32 {
    cli::main()
}
