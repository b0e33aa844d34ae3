//! The serde mirror of `pipeline.yaml`, exactly as the user typed it. This is the only module
//! that touches serde_yaml (archived upstream: pinned here, swappable in one place).
//! Validation into the model the engine uses happens in `validate.rs`.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;

use crate::error::{Error, Location, Result};

/// A parameter value as written: scalars, lists and maps. Kept as YAML values so that each
/// stage kind checks its own types; canonical JSON is derived from it for cache keys.
pub type Value = serde_yaml::Value;

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

/// Parse the text of a pipeline file. Syntax errors and unknown keys come back pointing at
/// the line and column serde_yaml reports.
pub fn parse(path: &Path, text: &str) -> Result<PipelineSpec> {
    // Typed maps keep the last of two equal keys without a word; a `Value` rejects them, with
    // the position. So a stage defined twice is an error, not a silent overwrite.
    serde_yaml::from_str::<Value>(text).map_err(|e| yaml_error(path, text, &e))?;
    serde_yaml::from_str::<PipelineSpec>(text).map_err(|e| yaml_error(path, text, &e))
}

/// Parse any YAML data file (dictionaries, crosswalks) into `T`, with the same error style.
pub fn parse_yaml<T: serde::de::DeserializeOwned>(path: &Path, text: &str) -> Result<T> {
    serde_yaml::from_str::<T>(text).map_err(|e| yaml_error(path, text, &e))
}

/// A YAML error as plain data, for modules with error types of their own.
#[derive(Debug, Clone, PartialEq)]
pub struct YamlError {
    pub message: String,
    pub line: Option<usize>,
}

impl std::fmt::Display for YamlError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// Deserialise a YAML data file (dictionary, crosswalk) into `T`, keeping serde_yaml behind
/// this module. Duplicate keys are errors, as in pipeline.yaml.
pub fn from_yaml<T: serde::de::DeserializeOwned>(text: &str) -> std::result::Result<T, YamlError> {
    let to_err = |e: serde_yaml::Error| YamlError {
        message: e.to_string(),
        line: e.location().map(|l| l.line()),
    };
    serde_yaml::from_str::<Value>(text).map_err(to_err)?;
    serde_yaml::from_str::<T>(text).map_err(to_err)
}

/// Serialise to YAML (the lock file).
pub fn to_yaml<T: serde::Serialize>(value: &T) -> String {
    serde_yaml::to_string(value).expect("plain data serialises to YAML")
}

/// Parse a YAML fragment into a value (used for `--set key=value`).
pub fn parse_value(text: &str) -> std::result::Result<Value, String> {
    serde_yaml::from_str(text).map_err(|e| e.to_string())
}

fn yaml_error(path: &Path, text: &str, e: &serde_yaml::Error) -> Error {
    let raw = e.to_string();
    // serde_yaml appends " at line L column C" to its message; the gutter says it better.
    let mut message = match raw.find(" at line ") {
        Some(i) => raw[..i].to_string(),
        None => raw.clone(),
    };
    let at = |line: usize, column: usize| {
        let mut loc = Location::new(path, line, column);
        loc.text = text.lines().nth(line.saturating_sub(1)).map(str::to_string);
        loc.width = loc
            .text
            .as_deref()
            .map(|t| word_width(t, column))
            .unwrap_or(1);
        loc
    };
    let mut location = e.location().map(|l| at(l.line(), l.column()));
    let mut hint = if message.contains("unknown field") {
        "remove or rename the key; the accepted keys are listed after `expected`"
    } else if message.contains("duplicate") {
        "each name may appear once: rename or remove one of the two"
    } else {
        "fix the YAML syntax at the marked place (indentation, a missing `:` or an unclosed quote)"
    };
    // serde_yaml places some errors where they are noticed, not where they are: the end of
    // the file for an unclosed quote, the start of the mapping for a key given twice, nowhere
    // for an alias bomb. Each is found in the text.
    if message.contains("end of stream") || message.contains("quoted scalar") {
        if let Some((line, column)) = unclosed_quote(text) {
            message = "a quoted string is never closed".to_string();
            location = Some(at(line, column));
            hint = "close the quote (or remove it) at the marked place: everything after it was read as part of the string";
        }
    } else if let (Some(key), Some(l)) = (duplicate_key(&message), e.location()) {
        if let Some(line) = second_key(text, l.line(), l.column(), &key) {
            location = Some(at(line, l.column()));
        }
    } else if message.contains("repetition limit") || message.contains("recursion limit") {
        message = format!("{message}: the YAML expands too far (nested aliases `*name` or nesting, e.g. an alias bomb)");
        location = text
            .lines()
            .position(|l| {
                l.contains('*') && l.contains('&') || l.contains(", *") || l.contains("[*")
            })
            .map(|i| {
                let t = text.lines().nth(i).unwrap_or_default();
                at(i + 1, t.find('*').map(|c| c + 1).unwrap_or(1))
            });
        hint = "write the values out instead of through nested aliases";
    }
    Error::Pipeline {
        message: format!("{}: {message}", path.display()),
        location,
        hint: Some(hint.to_string()),
    }
}

/// Where a quoted YAML scalar opens and is never closed: (line, column), 1-based. A quote
/// opens a scalar only where a value starts (after `: `, `- `, `[`, `{`, `,` or at the start of
/// a line), so the apostrophe of `don't` is not one.
fn unclosed_quote(text: &str) -> Option<(usize, usize)> {
    let mut open: Option<(char, usize, usize)> = None;
    for (i, line) in text.lines().enumerate() {
        let chars: Vec<char> = line.chars().collect();
        let mut j = 0;
        while j < chars.len() {
            let c = chars[j];
            match open {
                Some(('"', _, _)) if c == '\\' => j += 1,
                Some(('"', _, _)) if c == '"' => open = None,
                Some(('\'', _, _)) if c == '\'' => {
                    if chars.get(j + 1) == Some(&'\'') {
                        j += 1;
                    } else {
                        open = None;
                    }
                }
                Some(_) => {}
                None if c == '#' && (j == 0 || chars[j - 1].is_whitespace()) => break,
                None if c == '"' || c == '\'' => {
                    let before = chars[..j].iter().rev().find(|c| !c.is_whitespace());
                    let value_start = match before {
                        None => true,
                        Some(':') | Some('-') | Some('[') | Some('{') | Some(',') => {
                            j == 0
                                || chars[j - 1].is_whitespace()
                                || matches!(before, Some('[') | Some('{') | Some(','))
                        }
                        _ => false,
                    };
                    if value_start {
                        open = Some((c, i + 1, j + 1));
                    }
                }
                None => {}
            }
            j += 1;
        }
    }
    open.map(|(_, l, c)| (l, c))
}

/// The key of serde_yaml's `duplicate entry with key "stages"`.
fn duplicate_key(message: &str) -> Option<String> {
    let rest = message.split("duplicate entry with key ").nth(1)?;
    Some(rest.trim().trim_matches('"').to_string())
}

/// The line of the second `key:` of the mapping that starts at (`line`, `column`).
fn second_key(text: &str, line: usize, column: usize, key: &str) -> Option<usize> {
    let indent = column.saturating_sub(1);
    let mut seen = 0;
    for (i, l) in text.lines().enumerate().skip(line.saturating_sub(1)) {
        let body = l.trim_start();
        if body.is_empty() || body.starts_with('#') {
            continue;
        }
        let ind = l.len() - body.len();
        if ind < indent && i + 1 > line {
            break;
        }
        if ind != indent {
            continue;
        }
        let k = body.trim_start_matches(['"', '\'']);
        if let Some(rest) = k.strip_prefix(key) {
            if rest.trim_start_matches(['"', '\'']).starts_with(':') {
                seen += 1;
                if seen == 2 {
                    return Some(i + 1);
                }
            }
        }
    }
    None
}

fn word_width(line: &str, column: usize) -> usize {
    line.chars()
        .skip(column.saturating_sub(1))
        .take_while(|c| !c.is_whitespace() && *c != ':' && *c != ',' && *c != ']')
        .count()
        .max(1)
}

/// Canonical JSON of a YAML value: maps with sorted keys, so equal definitions hash equally.
pub fn to_json(v: &Value) -> serde_json::Value {
    match v {
        Value::Null => serde_json::Value::Null,
        Value::Bool(b) => serde_json::Value::Bool(*b),
        Value::Number(n) => {
            if let Some(i) = n.as_i64() {
                serde_json::Value::from(i)
            } else if let Some(u) = n.as_u64() {
                serde_json::Value::from(u)
            } else {
                let f = n.as_f64().unwrap_or(f64::NAN);
                serde_json::Number::from_f64(f)
                    .map(serde_json::Value::Number)
                    .unwrap_or_else(|| serde_json::Value::String(f.to_string()))
            }
        }
        Value::String(s) => serde_json::Value::String(s.clone()),
        Value::Sequence(items) => serde_json::Value::Array(items.iter().map(to_json).collect()),
        Value::Mapping(m) => {
            let mut sorted: BTreeMap<String, serde_json::Value> = BTreeMap::new();
            for (k, v) in m {
                let key = match k {
                    Value::String(s) => s.clone(),
                    other => serde_yaml::to_string(other)
                        .unwrap_or_default()
                        .trim()
                        .to_string(),
                };
                sorted.insert(key, to_json(v));
            }
            serde_json::Value::Object(sorted.into_iter().collect())
        }
        Value::Tagged(t) => to_json(&t.value),
    }
}

/// The YAML value of a JSON one (a matrix value set as a cell's param).
pub fn from_json(v: &serde_json::Value) -> Value {
    serde_yaml::to_value(v).unwrap_or(Value::Null)
}

/// A short name for a value's type, for error messages.
pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_f64() => "a number",
        Value::Number(_) => "an integer",
        Value::String(_) => "a string",
        Value::Sequence(_) => "a list",
        Value::Mapping(_) => "a mapping",
        Value::Tagged(_) => "a tagged value",
    }
}

/// Where things are in a YAML file, found by reading its lines. serde_yaml gives no spans for
/// values, and the validation errors must point at the user's line, so keys and list items
/// are located by indentation: enough for the block style `pipeline.yaml` is written in.
pub struct SourceMap<'a> {
    path: &'a Path,
    lines: Vec<&'a str>,
}

impl<'a> SourceMap<'a> {
    pub fn new(path: &'a Path, text: &'a str) -> Self {
        SourceMap {
            path,
            lines: text.lines().collect(),
        }
    }

    /// The location of the key at the end of `keys` (a path of nested mapping keys, e.g.
    /// `["stages", "trends", "inputs"]`), or of the deepest one found.
    pub fn key(&self, keys: &[&str]) -> Option<Location> {
        let (line, indent) = self.find_key(keys)?;
        let key = keys.last()?;
        Some(self.loc(line, indent, key.chars().count()))
    }

    /// The location of `word` inside the value of the key path (an inline list `[a, b]` or a
    /// block list below it); falls back to the key itself.
    pub fn item(&self, keys: &[&str], word: &str) -> Option<Location> {
        let (line, indent) = self.find_key(keys)?;
        let end = self.block_end(line, indent);
        for l in line..end {
            let text = self.lines[l];
            let start = if l == line {
                indent + keys.last()?.len()
            } else {
                0
            };
            if let Some(col) = find_word(text, word, start) {
                return Some(self.loc(l, col, word.chars().count()));
            }
        }
        self.key(keys)
    }

    /// The text of a line (1-based).
    pub fn line(&self, line: usize) -> Option<&'a str> {
        self.lines.get(line.checked_sub(1)?).copied()
    }

    fn loc(&self, line: usize, col0: usize, width: usize) -> Location {
        let mut loc = Location::new(self.path, line + 1, col0 + 1);
        loc.text = Some(self.lines[line].to_string());
        loc.width = width;
        loc
    }

    fn find_key(&self, keys: &[&str]) -> Option<(usize, usize)> {
        let mut from = 0;
        let mut to = self.lines.len();
        let mut parent_indent: Option<usize> = None;
        let mut found = None;
        for key in keys {
            let mut hit = None;
            for l in from..to {
                let text = self.lines[l];
                let indent = text.len() - text.trim_start().len();
                let body = text.trim_start();
                if body.is_empty() || body.starts_with('#') {
                    continue;
                }
                if parent_indent.is_some_and(|p| indent <= p) {
                    continue;
                }
                let unquoted = body.trim_start_matches(['"', '\'']);
                if let Some(rest) = unquoted.strip_prefix(key) {
                    let rest = rest.trim_start_matches(['"', '\'']);
                    if rest.starts_with(':') {
                        hit = Some((l, indent + (body.len() - unquoted.len())));
                        break;
                    }
                }
            }
            let (l, indent) = hit?;
            found = Some((l, indent));
            parent_indent = Some(indent);
            from = l + 1;
            to = self.block_end(l, indent);
        }
        found
    }

    fn block_end(&self, line: usize, indent: usize) -> usize {
        for l in line + 1..self.lines.len() {
            let text = self.lines[l];
            let body = text.trim_start();
            if body.is_empty() || body.starts_with('#') {
                continue;
            }
            if text.len() - body.len() <= indent && !body.starts_with("- ") {
                return l;
            }
            if text.len() - body.len() < indent {
                return l;
            }
        }
        self.lines.len()
    }
}

fn find_word(text: &str, word: &str, start: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut from = start.min(text.len());
    while let Some(i) = text.get(from..).and_then(|t| t.find(word)) {
        let at = from + i;
        let before = at.checked_sub(1).map(|j| bytes[j] as char);
        let after = bytes.get(at + word.len()).map(|b| *b as char);
        let boundary =
            |c: Option<char>| c.is_none_or(|c| !(c.is_alphanumeric() || c == '_' || c == '.'));
        if boundary(before) && boundary(after) {
            return Some(at);
        }
        from = at + word.len();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "name: demo\nsources:\n  refs:\n    path: raw/r.csv\n    sha256: abc\nstages:\n  a:\n    kind: sql\n    inputs: [refs, nope]\n  b:\n    kind: sql\n    inputs:\n      - a\n      - other\n";

    #[test]
    fn locates_keys_and_items() {
        let p = Path::new("pipeline.yaml");
        let map = SourceMap::new(p, TEXT);
        let k = map.key(&["stages", "b", "kind"]).unwrap();
        assert_eq!((k.line, k.column), (11, 5));
        let i = map.item(&["stages", "a", "inputs"], "nope").unwrap();
        assert_eq!((i.line, i.column, i.width), (9, 20, 4));
        let j = map.item(&["stages", "b", "inputs"], "other").unwrap();
        assert_eq!((j.line, j.column), (14, 9));
    }

    #[test]
    fn unknown_key_is_reported_with_position() {
        let text = "name: x\nstages:\n  a:\n    kind: sql\n    sqll: select 1\n";
        let err = parse(Path::new("p.yaml"), text).unwrap_err().to_string();
        assert!(err.contains("unknown field `sqll`"), "{err}");
        assert!(err.contains("p.yaml:5:5"), "{err}");
    }

    #[test]
    fn canonical_json_sorts_keys() {
        let v: Value = serde_yaml::from_str("{b: 1, a: [x, 2.5]}").unwrap();
        assert_eq!(to_json(&v).to_string(), r#"{"a":["x",2.5],"b":1}"#);
    }
}
