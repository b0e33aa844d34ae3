//! What validation knows of the kinds a pipeline may name: the [`Catalogue`] of kinds and
//! each kind's [`KindSpec`] (its params, the tables it writes, the files it reads, its own
//! checks). The pipeline is checked against these traits, not against the kinds themselves,
//! so `pipeline` depends on nothing that runs a stage; `stage::StageKind` extends
//! [`KindSpec`] and `stage::Registry` is the catalogue the binary uses.

use crate::params::KindParams;

use super::Stage;

/// A kind as `pipeline.yaml`'s validation sees it: what it declares, not what it does.
pub trait KindSpec {
    /// The kind's params, read off its typed struct ([`crate::params`]).
    fn params(&self) -> &KindParams {
        static NONE: KindParams = KindParams::none();
        &NONE
    }

    /// Whether params other than those in `params()` are allowed (the `sql` kind takes any
    /// scalar for `${name}` substitution).
    fn open_params(&self) -> bool {
        false
    }

    /// Whether the kind reads `sql` / `sql_file`.
    fn uses_sql(&self) -> bool {
        false
    }

    /// The names of the tables the stage writes; empty for a single table `out/<stage>.parquet`.
    /// `""` names the main table (`out/<stage>.parquet`, SQL name `<stage>`) beside others
    /// (`out/<stage>/<t>.parquet`, SQL name `<stage>_<t>`).
    fn tables(&self, _stage: &Stage) -> Vec<String> {
        Vec::new()
    }

    /// Further names `canary sql` knows a table by, `(table, alias)`: for a contract name that
    /// the `<stage>_<table>` rule cannot give (the study's `cohort_members`).
    fn sql_aliases(&self) -> Vec<(String, String)> {
        Vec::new()
    }

    /// Project files the stage reads besides its inputs (a dictionary, a crosswalk, templates),
    /// relative to the project root. Their content is part of the cache key.
    fn files(&self, _stage: &Stage) -> Vec<String> {
        Vec::new()
    }

    /// Kind-specific validation beyond param types (e.g. inputs it needs).
    fn check(&self, _stage: &Stage) -> std::result::Result<(), String> {
        Ok(())
    }
}

/// The kinds a pipeline may use, by name.
pub trait Catalogue {
    fn kind(&self, name: &str) -> Option<&dyn KindSpec>;

    /// Every kind's name, sorted.
    fn kind_names(&self) -> Vec<&'static str>;
}
