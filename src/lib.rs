//! canary: a reproducible research pipeline that rebuilds, from the published national
//! statistics, a study of English children's social care.
//!
//! The flow: `pipeline` (pipeline.yaml → validated DAG) → `engine` (content-cached stages,
//! lock) → `kinds` (what each stage does) → Parquet tables under `out/`.

pub mod claims;
pub mod cli;
pub mod console;
pub mod engine;
pub mod error;
pub mod fetch;
pub mod fsio;
pub mod hash;
pub mod kinds;
pub mod lockfile;
pub mod params;
pub mod pipeline;
pub mod query;
pub mod report;
pub mod sandbox;
pub mod session;
pub mod stage;
pub mod table;
pub mod verify;

pub use error::{Error, Result};

// The leaf crates, under the names the code has always used for them.
pub use canary_clean as clean;
pub use canary_harmonise as harmonise;
pub use canary_stats as stats;

/// The binary's entry point: parse arguments, run, return the exit code.
pub fn run() -> i32 {
    cli::main()
}
