//! The contract between the engine and the stage kinds: what a kind is ([`StageKind`]), what
//! it may use while it runs ([`StageContext`]), what it hands back ([`OutputTable`]) and the
//! catalogue of kinds a pipeline may name ([`Registry`]; the kinds canary ships fill it in
//! `kinds::builtin`). The engine knows kinds only through this module, and kinds know the
//! engine only through it: it depends on the pipeline's model, the tables and the lock's
//! records, never on `engine` or `kinds`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;

use crate::error::{Error, Result};
use crate::pipeline::{Catalogue, KindSpec, Pipeline, Stage};

pub mod columns;

/// A table a stage produced, before the engine writes it.
pub struct OutputTable {
    /// `None` for a single-table kind (written to `out/<stage>.parquet`).
    pub name: Option<String>,
    pub schema: SchemaRef,
    pub batches: Vec<RecordBatch>,
    /// Whether the rows already come in an order fixed by the inputs alone (file order,
    /// sorted maps). Otherwise the engine sorts them by every column first.
    pub ordered: bool,
    /// Already written by the kind to a temporary file beside its destination (a SQL stage
    /// streams its sorted result there): the engine commits it as it is, and `batches` is empty.
    pub written: Option<crate::table::Written>,
}

/// An input as the running stage sees it.
#[derive(Debug, Clone)]
pub enum Input {
    /// A raw file, verified against its checksum.
    Source { path: PathBuf },
    /// The Parquet tables of an upstream stage: `(table name or None, path)`.
    Stage {
        tables: Vec<(Option<String>, PathBuf)>,
    },
}

/// Everything a kind may use while it runs. Kinds do not reach outside it: that is what makes
/// the cache key (built from the same things) a complete description of the run.
pub struct StageContext<'a> {
    pub pipeline: &'a Pipeline,
    pub stage: &'a Stage,
    /// In the order the stage lists them.
    pub inputs: Vec<(String, Input)>,
    /// What the lock will record for every stage finished before this one started (its key,
    /// input hashes, outputs, duration): the provenance a report shows. Filled only for kinds
    /// that ask for it ([`StageKind::needs_upstream`]). Not part of the cache key, so a kind
    /// must only print it where run-specific details belong.
    pub upstream: std::collections::BTreeMap<String, crate::lockfile::StageRecord>,
    /// The staging folder for the files the stage writes beside its tables (its
    /// `side_outputs`); None for a kind that declares none.
    pub side: Option<PathBuf>,
    /// What the kind wants the run's output to say about this run of the stage.
    pub notes: std::sync::Mutex<Vec<String>>,
    /// The cores and memory it may use.
    pub resources: crate::session::Resources,
}

impl StageContext<'_> {
    /// Whether a stage input has a table of that name (kinds with optional inputs ask first).
    pub fn has_table(&self, name: &str, table: Option<&str>) -> bool {
        match self.input(name) {
            Ok(Input::Stage { tables }) => tables.iter().any(|(t, _)| t.as_deref() == table),
            _ => false,
        }
    }
}

impl StageContext<'_> {
    /// Where to write a file the stage declares among its `side_outputs` (a project-relative
    /// path): into the staging folder, from which the engine moves it into place once the
    /// stage has succeeded.
    pub fn side_path(&self, rel: &str) -> PathBuf {
        match &self.side {
            Some(dir) => dir.join(rel),
            None => self.pipeline.root.join(rel),
        }
    }

    /// A line for the run's output under the stage's own (e.g. that it was skipped, and why).
    pub fn note(&self, text: impl Into<String>) {
        self.notes
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(text.into());
    }

    pub fn input(&self, name: &str) -> Result<&Input> {
        self.inputs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, i)| i)
            .ok_or_else(|| {
                Error::stage(&self.stage.name, format!("has no input named `{name}`")).with_hint(
                    format!("add `{name}` to the stage's `inputs` in pipeline.yaml"),
                )
            })
    }

    /// The path of a source input.
    pub fn source_path(&self, name: &str) -> Result<&Path> {
        match self.input(name)? {
            Input::Source { path } => Ok(path),
            Input::Stage { .. } => Err(Error::stage(
                &self.stage.name,
                format!("input `{name}` is a stage, but a raw source file is expected here"),
            )),
        }
    }

    /// Read one table of a stage input (`table` None for a single-table stage).
    pub fn read_table(
        &self,
        name: &str,
        table: Option<&str>,
    ) -> Result<(SchemaRef, Vec<RecordBatch>)> {
        match self.input(name)? {
            Input::Stage { tables } => {
                let (_, path) = tables
                    .iter()
                    .find(|(t, _)| t.as_deref() == table)
                    .ok_or_else(|| {
                        let have: Vec<String> =
                            tables.iter().filter_map(|(t, _)| t.clone()).collect();
                        Error::stage(
                            &self.stage.name,
                            format!(
                                "input `{name}` has no table `{}`; it has: {}",
                                table.unwrap_or("(single)"),
                                have.join(", ")
                            ),
                        )
                    })?;
                crate::table::read_parquet(path)
            }
            Input::Source { path } => read_source(name, path),
        }
    }

    /// The stage's params as its kind's struct. Validation parsed them already, so an error
    /// here is a kind asking for a struct that is not its own.
    pub fn params<T: serde::de::DeserializeOwned>(&self) -> Result<T> {
        self.stage.params_as().map_err(|e| self.fail(e))
    }

    pub fn fail(&self, message: impl Into<String>) -> Error {
        Error::stage(&self.stage.name, message)
    }
}

/// Every name a list param gives (`indicators: [...]`) is one the input holds: a name that
/// is not there is a typo to report, with the nearest name, not a filter that silently drops
/// rows. `present` is what the input holds; `input` names it in the message.
pub fn names_in_input<'a>(
    ctx: &StageContext,
    param: &str,
    names: impl Iterator<Item = &'a str>,
    present: &std::collections::BTreeSet<&str>,
    input: &str,
) -> Result<()> {
    let missing: Vec<&str> = names.filter(|n| !present.contains(n)).collect();
    let Some(first) = missing.first() else {
        return Ok(());
    };
    let hint = crate::error::did_you_mean(first, present.iter().copied()).unwrap_or_else(|| {
        format!("`canary sql \"select distinct indicator from {input}\"` lists the indicators")
    });
    Err(ctx
        .fail(format!(
            "param `{param}` names {} that input `{input}` does not hold: {}",
            if missing.len() == 1 {
                "an indicator"
            } else {
                "indicators"
            },
            crate::error::excerpt(
                &missing
                    .iter()
                    .map(|m| format!("`{m}`"))
                    .collect::<Vec<_>>()
                    .join(", "),
                300
            )
        ))
        .with_hint(hint))
}

/// A raw source as a table: Parquet directly, CSV through DataFusion's reader (the same type
/// inference a `sql` stage gets).
fn read_source(name: &str, path: &Path) -> Result<(SchemaRef, Vec<RecordBatch>)> {
    let is_csv = path
        .extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    if !is_csv {
        return crate::table::read_parquet(path);
    }
    read_csv_file(name, path)
}

/// A CSV file as a table, with DataFusion's type inference over the whole file.
pub fn read_csv_file(name: &str, path: &Path) -> Result<(SchemaRef, Vec<RecordBatch>)> {
    let session = crate::session::session();
    crate::session::runtime()?.block_on(async {
        crate::session::register_file(&session, name, path).await?;
        let df = session
            .table(name)
            .await
            .map_err(|e| Error::data(path, format!("cannot read: {e}")))?;
        let schema = Arc::new(df.schema().as_arrow().clone());
        let batches = df
            .collect()
            .await
            .map_err(|e| Error::data(path, format!("cannot read: {e}")))?;
        Ok((schema as SchemaRef, batches))
    })
}

/// What a stage kind is and does. Implementations are stateless; one value serves every
/// stage of the kind. What it declares to validation (params, tables, files) is its
/// [`KindSpec`], the supertrait.
pub trait StageKind: KindSpec + Send + Sync {
    fn name(&self) -> &'static str;

    /// Bump whenever a change to the implementation could change what the kind writes, so
    /// outputs cached by the old implementation are not reused.
    fn version(&self) -> u32;

    fn describe(&self) -> &'static str;

    /// The tables the kind writes and their columns, for `canary kinds` (a test holds them to
    /// what the study's stages write). Empty: one table whose columns the stage decides.
    fn outputs(&self) -> &'static [TableDoc] {
        &[]
    }

    /// An example stage, for a kind the study's pipeline.yaml has no stage of.
    fn example(&self) -> Option<&'static str> {
        None
    }

    /// What else decides the kind's output besides params, inputs, SQL and files, as
    /// `what → value` (a script's `command`, `environment variable R_LIBS`, `interpreter
    /// python3`): part of the cache key, recorded in the lock, named by `status` when it
    /// changes.
    fn identity(&self, _stage: &Stage) -> BTreeMap<String, String> {
        BTreeMap::new()
    }

    /// Files the kind writes outside `out/` (a report's pages), relative to the project root;
    /// a path ending in `/` is a folder whose every file is the stage's. The kind writes them
    /// at [`StageContext::side_path`]; the engine moves them into place when the stage
    /// succeeds, hashes and caches them like tables, and restores or re-runs the stage when one
    /// goes missing or is edited (`engine/side.rs`).
    fn side_outputs(&self, _stage: &Stage) -> Vec<String> {
        Vec::new()
    }

    /// Whether the kind reads [`StageContext::upstream`] (the report's provenance appendix).
    /// Only such kinds are handed the finished stages' records, which keeps a run of
    /// thousands of stages from copying them for every stage it starts.
    fn needs_upstream(&self) -> bool {
        false
    }

    /// Called once the run's lock is written, for each selected stage that finished: where a
    /// kind records something about the whole run (the report's RO-Crate). Not cached.
    /// `changed`: whether any stage ran or was restored in this run (a no-op changes nothing
    /// the record describes).
    fn after_run(
        &self,
        _pipeline: &Pipeline,
        _stage: &Stage,
        _lock: &crate::lockfile::Lock,
        _changed: bool,
    ) -> Result<()> {
        Ok(())
    }

    fn run(&self, ctx: &StageContext) -> Result<Vec<OutputTable>>;
}

/// The tables a kind writes. `""` is the main table (`out/<stage>.parquet`).
#[derive(Debug, Clone, Copy)]
pub struct TableDoc {
    pub name: &'static str,
    /// Empty when the stage decides them (its query, its script, its inputs).
    pub columns: &'static [&'static str],
}

/// The kinds a pipeline may use, by name: those canary ships are listed in
/// `kinds::builtin`; an embedding program may register its own.
pub struct Registry {
    kinds: BTreeMap<&'static str, Arc<dyn StageKind>>,
}

impl Registry {
    pub fn empty() -> Self {
        Registry {
            kinds: BTreeMap::new(),
        }
    }

    pub fn register(&mut self, kind: Arc<dyn StageKind>) {
        self.kinds.insert(kind.name(), kind);
    }

    pub fn get(&self, name: &str) -> Option<&Arc<dyn StageKind>> {
        self.kinds.get(name)
    }

    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.kinds.keys().copied()
    }
}

impl Catalogue for Registry {
    fn kind(&self, name: &str) -> Option<&dyn KindSpec> {
        self.get(name).map(|k| k.as_ref() as &dyn KindSpec)
    }

    fn kind_names(&self) -> Vec<&'static str> {
        self.names().collect()
    }
}
