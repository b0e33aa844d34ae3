//! YAML in, serde values out, with the place of every error: the one crate that touches
//! `serde_yaml` (named by the project's user, archived upstream: pinned here, swappable in one
//! place). It knows YAML, not canary: callers word their own errors from [`Error`]'s kind and
//! position.
//!
//! [`SourceMap`] locates keys and items in the text for errors found after deserialising,
//! from saphyr-parser's spans (serde keeps none).
//!
//! May depend on: serde, serde_yaml, serde_json, saphyr-parser (the spans). Nothing of
//! canary's, and never DataFusion.

use std::collections::BTreeMap;

mod source_map;

pub use source_map::{NodeAt, Place, SourceMap, Span, Step, Style};

/// A value as written: scalars, lists and maps. Callers keep params as YAML values so that each
/// consumer checks its own types; [`to_json`] gives the canonical form for hashing.
pub type Value = serde_yaml::Value;

/// What went wrong, as data: callers choose the advice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// Malformed YAML (indentation, a missing `:`).
    Syntax,
    /// A key the target type does not have.
    UnknownField,
    /// A key given twice in one mapping; the position is the second one.
    DuplicateKey,
    /// A quoted scalar never closed; the position is where it opens.
    UnclosedQuote,
    /// Aliases or nesting that expand too far (an alias bomb).
    TooDeep,
    /// A well-formed document of the wrong shape (a missing field, a wrong type).
    Shape,
}

/// A YAML error with its 1-based position, found in the text where serde_yaml reports it
/// somewhere else (the end of the file for an unclosed quote, the start of the mapping for a
/// duplicate key, nowhere for an alias bomb).
#[derive(Debug, Clone, PartialEq)]
pub struct Error {
    pub kind: ErrorKind,
    /// serde_yaml's message without its " at line L column C".
    pub message: String,
    pub line: Option<usize>,
    pub column: Option<usize>,
}

impl std::fmt::Display for Error {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)?;
        match (self.line, self.column) {
            (Some(l), Some(c)) => write!(f, " at line {l} column {c}"),
            (Some(l), None) => write!(f, " at line {l}"),
            _ => Ok(()),
        }
    }
}

impl std::error::Error for Error {}

/// Deserialise `text` into `T`. Duplicate keys are errors: a typed map keeps the last of two
/// equal keys without a word, so the text is first read as a [`Value`], which rejects them.
pub fn from_str<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, Error> {
    serde_yaml::from_str::<Value>(text).map_err(|e| located(text, &e))?;
    serde_yaml::from_str::<T>(text).map_err(|e| located(text, &e))
}

/// Serialise plain data to YAML (the lock file).
pub fn to_string<T: serde::Serialize>(value: &T) -> String {
    serde_yaml::to_string(value).expect("plain data serialises to YAML")
}

/// Parse a YAML fragment into a value (a `--set key=value` on the command line).
pub fn parse_value(text: &str) -> Result<Value, Error> {
    serde_yaml::from_str(text).map_err(|e| located(text, &e))
}

fn located(text: &str, e: &serde_yaml::Error) -> Error {
    let raw = e.to_string();
    let mut message = match raw.find(" at line ") {
        Some(i) => raw[..i].to_string(),
        None => raw.clone(),
    };
    let mut at = e.location().map(|l| (l.line(), l.column()));
    let mut kind = if message.contains("unknown field") {
        ErrorKind::UnknownField
    } else if message.contains("duplicate") {
        ErrorKind::DuplicateKey
    } else if message.contains("missing field") || message.contains("invalid type") {
        ErrorKind::Shape
    } else {
        ErrorKind::Syntax
    };
    if message.contains("end of stream") || message.contains("quoted scalar") {
        if let Some(pos) = unclosed_quote(text) {
            message = "a quoted string is never closed".to_string();
            at = Some(pos);
            kind = ErrorKind::UnclosedQuote;
        }
    } else if let (Some(key), Some((line, column))) = (duplicate_key(&message), at) {
        if let Some(second) = second_key(text, line, column, &key) {
            at = Some((second, column));
        }
    } else if message.contains("repetition limit") || message.contains("recursion limit") {
        message = format!("{message}: the YAML expands too far (nested aliases `*name` or nesting, e.g. an alias bomb)");
        kind = ErrorKind::TooDeep;
        at = text
            .lines()
            .position(|l| {
                l.contains('*') && l.contains('&') || l.contains(", *") || l.contains("[*")
            })
            .map(|i| {
                let t = text.lines().nth(i).unwrap_or_default();
                (i + 1, t.find('*').map(|c| c + 1).unwrap_or(1))
            });
    }
    Error {
        kind,
        message,
        line: at.map(|a| a.0),
        column: at.map(|a| a.1),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_json_sorts_keys() {
        let v: Value = parse_value("{b: 1, a: [x, 2.5]}").unwrap();
        assert_eq!(to_json(&v).to_string(), r#"{"a":["x",2.5],"b":1}"#);
    }

    #[test]
    fn a_duplicate_key_is_placed_at_its_second_use() {
        let text = "a:\n  x: 1\n  y: 2\n  x: 3\n";
        let e = from_str::<BTreeMap<String, BTreeMap<String, i64>>>(text).unwrap_err();
        assert_eq!(e.kind, ErrorKind::DuplicateKey);
        assert_eq!(e.line, Some(4), "{e}");
    }

    #[test]
    fn an_unclosed_quote_is_placed_where_it_opens() {
        let text = "a: 1\nb: \"open\nc: don't\n";
        let e = from_str::<Value>(text).unwrap_err();
        assert_eq!(e.kind, ErrorKind::UnclosedQuote);
        assert_eq!((e.line, e.column), (Some(2), Some(4)), "{e}");
    }

    #[test]
    fn display_keeps_serde_yamls_position_suffix() {
        #[derive(Debug, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct S {
            a: i64,
        }
        let e = from_str::<S>("a: 1\nb: 2\n").unwrap_err();
        assert_eq!(e.kind, ErrorKind::UnknownField);
        assert_eq!(e.line, Some(2));
        assert!(e.to_string().ends_with("at line 2 column 1"), "{e}");
    }
}
