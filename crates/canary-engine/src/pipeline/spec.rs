//! The serde mirror of `pipeline.yaml`, exactly as the user typed it; YAML itself is read by
//! the `canary-yaml` crate, the one place serde_yaml is used.
//! Validation into the model the engine uses happens in `validate.rs`.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::error::{Error, Location, Result};

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PipelineSpec {
    pub name: String,
    #[serde(default)]
    pub description: Option<String>,
    /// Global parameters; stages refer to them as `${name}` in their params or SQL.
    #[serde(default)]
    pub params: BTreeMap<String, Value>,
    /// Folders holding copies of the sources, tried in order by `canary fetch`.
    #[serde(default)]
    pub mirrors: Vec<String>,
    #[serde(default)]
    pub sources: BTreeMap<String, SourceSpec>,
    #[serde(default)]
    pub stages: BTreeMap<String, StageSpec>,
    /// Named sets of param values (`model.predictor_year: 2019`), chosen with `--profile`:
    /// another configuration of the same stages, applied before any `--set`.
    #[serde(default)]
    pub profiles: BTreeMap<String, BTreeMap<String, Value>>,
    /// Engine settings, each with a default.
    #[serde(default)]
    pub settings: Settings,
}

/// How the engine runs this pipeline. Every field has a default, so the section is optional.
#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Settings {
    /// The largest sweep a stage's `matrix:` may make (the product of its lists' lengths): a
    /// typo such as `seed: 1..100000` is an error instead of a run that never ends.
    pub max_matrix_cells: usize,
    /// The memory a SQL stage's query may hold (`512MB`, `2GiB`) before its sorts, joins and
    /// aggregations spill to `.canary/tmp/`; `--memory` overrides it. Default: an eighth of
    /// the machine's memory, at most 512 MiB.
    pub memory: Option<String>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            max_matrix_cells: 10_000,
            memory: None,
        }
    }
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SourceSpec {
    /// Where the file lives in the project, normally under `raw/`.
    pub path: String,
    pub sha256: String,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub landing_page: Option<String>,
    #[serde(default)]
    pub publisher: Option<String>,
    #[serde(default)]
    pub licence: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// The file may lie outside the project (an absolute path, `..`, a symlink out): without
    /// it, such a path is an error. Recorded in the lock.
    #[serde(default)]
    pub external: bool,
}

#[derive(Debug, Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct StageSpec {
    pub kind: String,
    #[serde(default)]
    pub inputs: Vec<String>,
    #[serde(default)]
    pub params: BTreeMap<String, Value>,
    #[serde(default)]
    pub sql: Option<String>,
    #[serde(default)]
    pub sql_file: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    /// A parameter sweep: param name → a list of values or an integer range `a..b`
    /// (inclusive). The stage runs once per combination (a cell); downstream stages read the
    /// cells' tables stacked, with the swept params as leading columns.
    #[serde(default)]
    pub matrix: BTreeMap<String, Value>,
    /// Project files the stage reads besides its inputs (a script, a lookup), hashed into its
    /// cache key.
    #[serde(default)]
    pub files: Vec<String>,
    /// `script` stages only (README, "Stages in any language").
    #[serde(default)]
    pub command: Option<String>,
    #[serde(default)]
    pub outputs: Vec<String>,
    #[serde(default)]
    pub side_outputs: Vec<String>,
    #[serde(default)]
    pub input_format: Option<String>,
    #[serde(default)]
    pub output_format: Option<String>,
    #[serde(default)]
    pub env: Vec<String>,
    #[serde(default)]
    pub timeout: Option<Value>,
    #[serde(default)]
    pub optional: bool,
    #[serde(default)]
    pub requires: Vec<String>,
}

/// Parse the text of a pipeline file. Syntax errors, unknown keys and keys given twice come
/// back pointing at their line and column.
pub fn parse(path: &Path, text: &str) -> Result<PipelineSpec> {
    canary_yaml::from_str::<PipelineSpec>(text).map_err(|e| yaml_error(path, text, e))
}

/// Parse any YAML data file (dictionaries, crosswalks) into `T`, with the same error style.
pub fn parse_yaml<T: serde::de::DeserializeOwned>(path: &Path, text: &str) -> Result<T> {
    canary_yaml::from_str::<T>(text).map_err(|e| yaml_error(path, text, e))
}

pub use canary_yaml::{
    from_json, from_str as from_yaml, parse_value, to_json, to_string as to_yaml, type_name,
    Error as YamlError, Value,
};

/// A YAML error as canary words it: the file, the marked place and what to do.
pub fn yaml_error(path: &Path, text: &str, e: YamlError) -> Error {
    use canary_yaml::ErrorKind;
    let hint = match e.kind {
        ErrorKind::UnknownField => {
            "remove or rename the key; the accepted keys are listed after `expected`"
        }
        ErrorKind::DuplicateKey => "each name may appear once: rename or remove one of the two",
        ErrorKind::UnclosedQuote => "close the quote (or remove it) at the marked place: everything after it was read as part of the string",
        ErrorKind::TooDeep => "write the values out instead of through nested aliases",
        ErrorKind::Syntax | ErrorKind::Shape => {
            "fix the YAML syntax at the marked place (indentation, a missing `:` or an unclosed quote)"
        }
    };
    let location = e.line.map(|line| {
        let column = e.column.unwrap_or(1);
        let mut loc = Location::new(path, line, column);
        loc.text = text.lines().nth(line.saturating_sub(1)).map(str::to_string);
        loc.width = loc
            .text
            .as_deref()
            .map(|t| word_width(t, column))
            .unwrap_or(1);
        loc
    });
    Error::Pipeline {
        message: format!("{}: {}", path.display(), e.message),
        location: location.map(Box::new),
        hint: Some(hint.to_string()),
    }
}

fn word_width(line: &str, column: usize) -> usize {
    line.chars()
        .skip(column.saturating_sub(1))
        .take_while(|c| !c.is_whitespace() && *c != ':' && *c != ',' && *c != ']')
        .count()
        .max(1)
}

/// Where keys and list items are in a file the user edits, as [`Location`]s for errors.
pub struct SourceMap<'a> {
    path: &'a Path,
    text: &'a str,
    map: canary_yaml::SourceMap<'a>,
}

impl<'a> SourceMap<'a> {
    pub fn new(path: &'a Path, text: &'a str) -> Self {
        SourceMap {
            path,
            text,
            map: canary_yaml::SourceMap::new(text),
        }
    }

    /// The location of the key at the end of `keys` (a path of nested mapping keys).
    pub fn key(&self, keys: &[&str]) -> Option<Location> {
        self.map.key(keys).map(|s| self.loc(s))
    }

    /// The location of `word` inside the value of the key path; falls back to the key.
    pub fn item(&self, keys: &[&str], word: &str) -> Option<Location> {
        self.map.item(keys, word).map(|s| self.loc(s))
    }

    /// The text of a line (1-based).
    pub fn line(&self, line: usize) -> Option<&'a str> {
        self.map.line(line)
    }

    /// The whole file.
    pub fn text(&self) -> &'a str {
        self.text
    }

    fn loc(&self, s: canary_yaml::Span) -> Location {
        let mut loc = Location::new(self.path, s.line, s.column);
        loc.text = self.map.line(s.line).map(str::to_string);
        loc.width = s.width;
        loc
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_key_is_reported_with_position() {
        let text = "name: x\nstages:\n  a:\n    kind: sql\n    sqll: select 1\n";
        let err = parse(Path::new("p.yaml"), text).unwrap_err().to_string();
        assert!(err.contains("unknown field `sqll`"), "{err}");
        assert!(err.contains("p.yaml:5:5"), "{err}");
    }
}
