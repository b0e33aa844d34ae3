//! canary's stage kinds — what each stage of the study does (`kinds`: one module per kind,
//! `kinds::builtin` lists them) — the claims ledger's rules (`claims`: pure functions over the
//! evidence) and the report (`report`: a typed context per section, the templates, the
//! charts, the RO-Crate).
//!
//! May depend on: canary-engine (the `StageKind` contract, the pipeline model, tables,
//! errors), the leaf crates (numerics, parsers, harmonisation, YAML), DataFusion's arrow (the
//! kinds' tables), tera (templates), rayon. Never on the CLI or the commands over a run
//! (`canary`), which depend on this crate (`tests/layout.rs`).

pub mod claims;
pub mod kinds;
pub mod report;
pub mod rows;

// The engine's modules the kinds use, under the names they have always used (`crate::stage`…);
// not its runner (`engine`): a kind sees the pipeline only through the `StageKind` contract.
pub use canary_engine::{
    error, fsio, hash, lockfile, params, pipeline, sandbox, session, stage, table,
};
pub use error::{Error, Result};

// The leaf crates, likewise.
pub use canary_clean as clean;
pub use canary_harmonise as harmonise;
pub use canary_stats as stats;
