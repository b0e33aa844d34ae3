//! The engine of canary: `pipeline.yaml` read into a validated model (`pipeline`), the
//! contract a stage kind implements (`stage`), and the runner that decides what must run,
//! runs it in parallel, caches and records it (`engine`, `lockfile`) — with what they stand
//! on: one error type that points at the user's line (`error`), files written atomically
//! (`fsio`), content hashes (`hash`), typed kind params (`params`), the SQL sandbox
//! (`sandbox`), the shared DataFusion session (`session`) and Parquet tables (`table`).
//!
//! May depend on: DataFusion (arrow, parquet) and tokio, canary-yaml, canary-stats (the exact
//! float sums behind the SQL aggregates), canary-clean (its errors convert into [`Error`]),
//! serde. Never on the kinds, the report or the CLI:
//! it knows a kind only through [`stage::StageKind`], and validation knows kinds only through
//! [`pipeline::Catalogue`]. `tests/layout.rs` at the workspace root checks both.

pub mod console;
pub mod engine;
pub mod error;
pub mod fsio;
pub mod hash;
pub mod lockfile;
pub mod params;
pub mod pipeline;
pub mod sandbox;
pub mod session;
pub mod stage;
pub mod table;

pub use error::{Error, Result};
