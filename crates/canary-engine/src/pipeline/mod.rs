//! The pipeline as the engine uses it: read from `pipeline.yaml` (`spec`), checked and resolved
//! (`validate`), ordered (`dag`).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

pub mod catalogue;
pub mod dag;
pub mod matrix;
pub mod paths;
pub mod spec;
pub mod sql_params;
pub mod validate;

pub use catalogue::{Catalogue, KindSpec};
pub use validate::{load, load_profile};

/// The kind of the stage that stacks a sweep's cells (the engine's own; not declarable).
pub const STACK_KIND: &str = "stack";

/// A validated pipeline: every name resolves, the graph is acyclic, params are typed and
/// `${…}` references are substituted.
#[derive(Debug, Clone)]
pub struct Pipeline {
    /// The folder holding `pipeline.yaml`; every relative path is taken from here.
    pub root: PathBuf,
    pub file: PathBuf,
    pub name: String,
    pub description: Option<String>,
    pub params: BTreeMap<String, serde_json::Value>,
    pub mirrors: Vec<PathBuf>,
    pub sources: BTreeMap<String, Source>,
    pub stages: BTreeMap<String, Stage>,
    /// Stages in dependency order; ties broken by name so every run schedules alike.
    pub order: Vec<String>,
    /// `settings.memory`, in bytes, when the pipeline sets it.
    pub memory: Option<usize>,
}

/// A size as people write it: `512MB`, `2GiB`, `1.5G`, `800k`, or bytes. Decimal units are
/// powers of 1000, binary ones (`KiB`, `MiB`, `GiB`) of 1024; a bare `K`/`M`/`G` is binary.
pub fn parse_size(text: &str) -> Option<usize> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let n: f64 = num.parse().ok()?;
    let k: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "kb" => 1e3,
        "mb" => 1e6,
        "gb" => 1e9,
        "tb" => 1e12,
        "k" | "kib" => 1024.0,
        "m" | "mib" => 1024.0 * 1024.0,
        "g" | "gib" => 1024.0 * 1024.0 * 1024.0,
        "t" | "tib" => 1024.0f64.powi(4),
        _ => return None,
    };
    let bytes = n * k;
    (bytes.is_finite() && bytes >= 1.0 && bytes < usize::MAX as f64).then_some(bytes as usize)
}

#[derive(Debug, Clone, PartialEq)]
pub struct Source {
    pub name: String,
    /// As written in pipeline.yaml, relative to the project root.
    pub rel_path: String,
    pub path: PathBuf,
    pub sha256: String,
    pub url: Option<String>,
    pub landing_page: Option<String>,
    pub publisher: Option<String>,
    pub licence: Option<String>,
    pub description: Option<String>,
    /// The file lies outside the project, as the user declared with `external: true`.
    pub external: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Stage {
    pub name: String,
    pub kind: String,
    pub inputs: Vec<String>,
    /// Resolved: `${name}` references replaced by the global params' values.
    pub params: BTreeMap<String, serde_json::Value>,
    /// The SQL text, read from `sql_file` when given, with `${name}` substituted.
    pub sql: Option<String>,
    pub sql_file: Option<String>,
    /// Global params the SQL refers to (`${size}`), with their values: recorded in the lock so
    /// a changed SQL text can be traced to the param that changed it.
    pub sql_params: BTreeMap<String, serde_json::Value>,
    pub description: Option<String>,
    /// Table names for multi-table kinds (`""` is the main table, `out/<stage>.parquet`);
    /// empty for a single table.
    pub tables: Vec<String>,
    /// Project files the stage reads (relative paths), hashed into its cache key.
    pub files: Vec<String>,
    /// The stage's part in a parameter sweep (`matrix:`), if any.
    pub sweep: Option<Sweep>,
    /// What a `script` stage runs.
    pub script: Option<Script>,
    /// Where the stage's SQL is written, for an error DataFusion finds when it runs.
    pub sql_origin: Option<SqlOrigin>,
}

/// Where a stage's SQL text sits in a file the user edits — its `sql_file`, or the `sql:`
/// value in pipeline.yaml — so that a position in the SQL (line and column, as DataFusion or
/// the sandbox report it) becomes a position in that file.
#[derive(Debug, Clone, PartialEq)]
pub struct SqlOrigin {
    /// As the user names it: `stages/model_data.sql`, `pipeline.yaml`.
    pub file: PathBuf,
    /// The file's line holding the SQL's first line (1-based).
    pub first_line: usize,
    /// The characters before the SQL on that first line (the `sql: ` before an inline
    /// value; 0 in a SQL file or a block scalar, whose lines carry their own indentation).
    pub first_shift: usize,
    /// Whether the SQL is pipeline.yaml's value rather than a file of its own.
    pub in_yaml: bool,
}

impl SqlOrigin {
    /// The place of (`line`, `column`) of the SQL in the file whose text is `file_text`:
    /// its line and the text of that line, for the caret.
    pub fn locate(
        &self,
        sql: &str,
        file_text: Option<&str>,
        (line, column, width): (usize, usize, usize),
    ) -> crate::error::Location {
        let mut loc = crate::error::Location::new(&self.file, line, column);
        loc.width = width;
        if !self.in_yaml {
            loc.text = sql.lines().nth(line.saturating_sub(1)).map(str::to_string);
            return loc;
        }
        loc.line = self.first_line + line - 1;
        let text = file_text.and_then(|t| t.lines().nth(loc.line - 1));
        // The SQL line's column, shifted by the indentation (or the `sql: ` before it).
        let shift = match text {
            Some(t) if line > 1 || self.first_shift == 0 => t.len() - t.trim_start().len(),
            _ => self.first_shift,
        };
        loc.column = column + shift;
        loc.text = text.map(str::to_string);
        loc
    }
}

impl Stage {
    /// The params as a kind's typed struct (`kinds::params`); the message names the param.
    pub fn params_as<T: serde::de::DeserializeOwned>(&self) -> std::result::Result<T, String> {
        let map = self
            .params
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        crate::params::parse(&map).map_err(|e| match e.param {
            Some(p) => format!("param `{p}`: {}", e.message),
            None => e.message,
        })
    }
}

/// A `script` stage's command and contract, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct Script {
    /// The command as an argv, split like a shell would; run without a shell.
    pub argv: Vec<String>,
    /// The tables the script writes (`CANARY_OUT_<TABLE>`).
    pub outputs: Vec<String>,
    /// Plain files it writes (`CANARY_SIDE/<file>`), kept under `out/<stage>/`.
    pub side_outputs: Vec<String>,
    pub input_format: DataFormat,
    pub output_format: DataFormat,
    /// Environment variables passed through, and whose values are part of the key.
    pub env: Vec<String>,
    pub timeout: Option<std::time::Duration>,
    /// Skipped, with a visible note, when a tool in `requires` is absent.
    pub optional: bool,
    pub requires: Vec<String>,
}

/// How tables are handed to and taken from a script.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataFormat {
    Csv,
    Parquet,
}

impl DataFormat {
    pub fn extension(self) -> &'static str {
        match self {
            DataFormat::Csv => "csv",
            DataFormat::Parquet => "parquet",
        }
    }
}

/// A stage with `matrix:` becomes one stage per cell and a stacking stage under the stage's
/// own name, which is what downstream stages, `canary sql` and the report read.
#[derive(Debug, Clone, PartialEq)]
pub enum Sweep {
    /// One combination of the matrix's values. `values` in the matrix's (sorted) param order.
    Cell {
        parent: String,
        key: String,
        values: Vec<(String, serde_json::Value)>,
    },
    /// The cells' tables stacked; `params` are the swept params, in column order.
    Stack { params: Vec<String>, cells: usize },
}

impl Stage {
    /// The sweep a cell belongs to.
    pub fn parent(&self) -> Option<&str> {
        match &self.sweep {
            Some(Sweep::Cell { parent, .. }) => Some(parent),
            _ => None,
        }
    }
}

impl Pipeline {
    pub fn out_dir(&self) -> PathBuf {
        self.root.join("out")
    }

    pub fn state_dir(&self) -> PathBuf {
        self.root.join(".canary")
    }

    pub fn lock_path(&self) -> PathBuf {
        // A pipeline file other than pipeline.yaml gets its own lock beside it
        // (pipelines/early_warning.yaml → pipelines/early_warning.lock).
        self.file.with_extension("lock")
    }

    /// Where a stage's tables are written: `(table name or None, path)`.
    pub fn output_paths(&self, stage: &Stage) -> Vec<(Option<String>, PathBuf)> {
        // A cell's tables live in its sweep's `.cells` folder, named by the cell's values.
        let (out, base) = match &stage.sweep {
            Some(Sweep::Cell { parent, key, .. }) => {
                (self.out_dir().join(format!("{parent}.cells")), key.as_str())
            }
            _ => (self.out_dir(), stage.name.as_str()),
        };
        let main = out.join(format!("{base}.parquet"));
        if stage.tables.is_empty() {
            return vec![(None, main)];
        }
        stage
            .tables
            .iter()
            .map(|t| {
                if t.is_empty() {
                    (None, main.clone())
                } else {
                    (Some(t.clone()), out.join(base).join(format!("{t}.parquet")))
                }
            })
            .collect()
    }

    /// The name `canary sql` registers a table under.
    pub fn sql_table_name(stage: &str, table: Option<&str>) -> String {
        match table {
            None => stage.to_string(),
            Some(t) => format!("{stage}_{t}"),
        }
    }

    /// Stages that (transitively) depend on `name`, sorted.
    pub fn downstream(&self, name: &str) -> Vec<String> {
        let mut dependents: std::collections::HashMap<&str, Vec<&str>> =
            std::collections::HashMap::new();
        for s in self.stages.values() {
            for i in &s.inputs {
                dependents
                    .entry(i.as_str())
                    .or_default()
                    .push(s.name.as_str());
            }
        }
        let mut out: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
        let mut frontier = vec![name];
        while let Some(n) = frontier.pop() {
            for d in dependents.get(n).map(Vec::as_slice).unwrap_or_default() {
                if out.insert(d.to_string()) {
                    frontier.push(d);
                }
            }
        }
        out.into_iter().collect()
    }

    /// `stage` and every stage it (transitively) depends on, in pipeline order.
    pub fn upstream_closure(&self, names: &[String]) -> Vec<String> {
        let mut keep: std::collections::HashSet<&str> = std::collections::HashSet::new();
        let mut frontier: Vec<&str> = names.iter().map(String::as_str).collect();
        while let Some(n) = frontier.pop() {
            if let Some(s) = self.stages.get(n) {
                if keep.insert(n) {
                    frontier.extend(s.inputs.iter().map(String::as_str));
                }
            }
        }
        self.order
            .iter()
            .filter(|s| keep.contains(s.as_str()))
            .cloned()
            .collect()
    }

    pub fn relative<'a>(&self, path: &'a Path) -> std::borrow::Cow<'a, str> {
        match path.strip_prefix(&self.root) {
            Ok(p) => p.to_string_lossy(),
            Err(_) => path.to_string_lossy(),
        }
    }
}
