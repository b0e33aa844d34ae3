//! Stage kinds: what a stage of `pipeline.yaml` can do. Each kind implements [`StageKind`] and
//! is listed in [`Registry::builtin`]; the engine knows nothing else about them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::datatypes::SchemaRef;
use datafusion::arrow::record_batch::RecordBatch;

use crate::error::{Error, Result};
use crate::pipeline::{Pipeline, Stage};

pub mod claims;
pub mod clean;
pub mod columns;
pub mod compare;
pub mod docs;
pub mod early_warning;
pub mod exact_aggregates;
pub mod fit;
pub mod glm;
pub mod harmonise;
pub mod ofsted;
pub mod params;
pub mod report;
pub mod scorecards;
pub mod script;
pub mod sql;
pub mod stack;
pub mod trend;

pub use params::{KindParams, ParamType};

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
    pub upstream: std::collections::BTreeMap<String, crate::engine::lock::StageRecord>,
    /// The staging folder for the files the stage writes beside its tables (its
    /// `side_outputs`); None for a kind that declares none.
    pub side: Option<PathBuf>,
    /// What the kind wants the run's output to say about this run of the stage.
    pub notes: std::sync::Mutex<Vec<String>>,
    /// The cores and memory it may use.
    pub resources: Resources,
}

/// What a stage may use while it runs. Never part of a cache key: outputs are the same
/// whatever these are (README, "What makes outputs byte-identical").
#[derive(Debug, Clone, PartialEq)]
pub struct Resources {
    /// DataFusion partitions for a SQL stage's query (`--jobs`).
    pub partitions: usize,
    /// The memory a query may hold before it spills, in bytes.
    pub memory: usize,
    /// Where queries spill (`.canary/tmp/spill`).
    pub spill_dir: PathBuf,
}

impl Resources {
    /// `memory` None: an eighth of the machine's memory, at most 512 MiB.
    pub fn new(partitions: usize, memory: Option<usize>, state_dir: &Path) -> Resources {
        let default = || {
            machine_memory()
                .map(|m| m / 8)
                .unwrap_or(usize::MAX)
                .min(512 << 20)
        };
        Resources {
            partitions: partitions.max(1),
            memory: memory.unwrap_or_else(default),
            spill_dir: state_dir.join("tmp").join("spill"),
        }
    }
}

/// Total memory from /proc/meminfo (Linux); None elsewhere.
fn machine_memory() -> Option<usize> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let kb: usize = text
        .lines()
        .find(|l| l.starts_with("MemTotal:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()?;
    Some(kb * 1024)
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
    let session = sql::session();
    sql::runtime()?.block_on(async {
        sql::register_file(&session, name, path).await?;
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

/// What a stage kind is. Implementations are stateless; one value serves every stage of the kind.
pub trait StageKind: Send + Sync {
    fn name(&self) -> &'static str;

    /// Bump whenever a change to the implementation could change what the kind writes, so
    /// outputs cached by the old implementation are not reused.
    fn version(&self) -> u32;

    fn describe(&self) -> &'static str;

    /// The kind's params, read off its typed struct ([`params`]).
    fn params(&self) -> &KindParams {
        static NONE: KindParams = KindParams::none();
        &NONE
    }

    /// The tables the kind writes and their columns, for `canary kinds` (a test holds them to
    /// what the study's stages write). Empty: one table whose columns the stage decides.
    fn outputs(&self) -> &'static [docs::TableDoc] {
        &[]
    }

    /// An example stage, for a kind the study's pipeline.yaml has no stage of.
    fn example(&self) -> Option<&'static str> {
        None
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

    /// What else decides the kind's output besides params, inputs, SQL and files, as
    /// `what → value` (a script's `command`, `environment variable R_LIBS`, `interpreter
    /// python3`): part of the cache key, recorded in the lock, named by `status` when it
    /// changes.
    fn identity(&self, _stage: &Stage) -> BTreeMap<String, String> {
        BTreeMap::new()
    }

    /// Kind-specific validation beyond param types (e.g. inputs it needs).
    fn check(&self, _stage: &Stage) -> std::result::Result<(), String> {
        Ok(())
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
        _lock: &crate::engine::lock::Lock,
        _changed: bool,
    ) -> Result<()> {
        Ok(())
    }

    fn run(&self, ctx: &StageContext) -> Result<Vec<OutputTable>>;
}

/// The kinds a pipeline may use, by name.
pub struct Registry {
    kinds: BTreeMap<&'static str, Arc<dyn StageKind>>,
}

impl Registry {
    pub fn empty() -> Self {
        Registry {
            kinds: BTreeMap::new(),
        }
    }

    /// Every kind canary ships.
    pub fn builtin() -> Self {
        let mut r = Registry::empty();
        r.register(Arc::new(sql::Sql));
        r.register(Arc::new(clean::CinCensus));
        r.register(Arc::new(clean::Ees));
        r.register(Arc::new(clean::Nomis));
        r.register(Arc::new(clean::Deprivation));
        r.register(Arc::new(clean::S251));
        r.register(Arc::new(clean::Lait));
        r.register(Arc::new(ofsted::Ofsted));
        r.register(Arc::new(harmonise::Harmonise));
        r.register(Arc::new(trend::Trend));
        r.register(Arc::new(trend::Correlate));
        r.register(Arc::new(fit::Fit));
        r.register(Arc::new(glm::Glm));
        r.register(Arc::new(compare::Compare));
        r.register(Arc::new(claims::Claims));
        r.register(Arc::new(early_warning::EarlyWarning));
        r.register(Arc::new(report::Report));
        r.register(Arc::new(scorecards::Scorecards));
        r.register(Arc::new(stack::Stack));
        r.register(Arc::new(script::Script));
        r
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
