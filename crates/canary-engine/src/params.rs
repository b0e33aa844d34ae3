//! A kind's params, declared once: a typed struct per kind (serde with `deny_unknown_fields`,
//! a doc comment per field, defaults and ranges as attributes of the field). Validation at the
//! param's line of `pipeline.yaml`, the help text, `canary kinds` and the README's kind table
//! are all read from that struct's JSON Schema (schemars), so they cannot disagree with what
//! the kind parses when it runs.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};

/// The shape a param's value must have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ParamType {
    String,
    Integer,
    /// Integers are accepted too.
    Number,
    Bool,
    StringList,
    /// A mapping (`{input: 2013}`); its entries are checked by the kind's struct.
    Map,
    /// More than one shape (`threshold`: a number or `prevalence`); checked by the struct.
    Any,
}

impl ParamType {
    pub fn describe(self) -> &'static str {
        match self {
            ParamType::String => "a string",
            ParamType::Integer => "an integer",
            ParamType::Number => "a number",
            ParamType::Bool => "true or false",
            ParamType::StringList => "a list of strings",
            ParamType::Map => "a mapping",
            ParamType::Any => "any value",
        }
    }

    pub fn accepts(self, v: &Value) -> bool {
        match self {
            ParamType::String => v.is_string(),
            ParamType::Integer => v.is_i64() || v.is_u64(),
            ParamType::Number => v.is_number(),
            ParamType::Bool => v.is_boolean(),
            ParamType::StringList => matches!(v, Value::Array(a) if a.iter().all(Value::is_string)),
            ParamType::Map => v.is_object(),
            ParamType::Any => true,
        }
    }
}

/// One param, as its kind's struct declares it.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    pub name: String,
    pub ty: ParamType,
    /// No default and not optional.
    pub required: bool,
    /// The field's doc comment.
    pub help: String,
    pub default: Option<Value>,
    pub minimum: Option<f64>,
    pub maximum: Option<f64>,
    /// The values a string param may take, when it is one of a few.
    pub choices: Vec<String>,
}

impl Param {
    /// Whether `v` is a value of this param; the message says what it must be.
    pub fn check(&self, v: &Value) -> Result<(), String> {
        if !self.ty.accepts(v) {
            return Err(format!("must be {}", self.ty.describe()));
        }
        if !self.choices.is_empty() {
            let s = v.as_str().unwrap_or_default();
            if !self.choices.iter().any(|c| c == s) {
                return Err(format!("must be {}, not `{s}`", self.choices_text()));
            }
        }
        if let Some(x) = v.as_f64() {
            let below = self.minimum.is_some_and(|m| x < m);
            let above = self.maximum.is_some_and(|m| x > m);
            if below || above {
                return Err(format!("must be {}, not {v}", self.range_text()));
            }
        }
        Ok(())
    }

    /// What the param takes, for help and docs: `an integer, at least 3`, `` `drop` or `median` ``.
    pub fn type_text(&self) -> String {
        if !self.choices.is_empty() {
            return self.choices_text();
        }
        let base = match self.ty {
            ParamType::Integer => "integer",
            ParamType::Number => "number",
            ParamType::String => "string",
            ParamType::Bool => "true or false",
            ParamType::StringList => "list of strings",
            ParamType::Map => "mapping",
            ParamType::Any => "see meaning",
        };
        match (self.minimum, self.maximum) {
            (None, None) => base.to_string(),
            _ => format!("{base}, {}", self.range_text()),
        }
    }

    /// The default as YAML would write it, or "required" / "none".
    pub fn default_text(&self) -> String {
        match &self.default {
            Some(Value::String(s)) => format!("`{s}`"),
            Some(Value::Array(a)) if a.is_empty() => "`[]`".into(),
            Some(Value::Object(m)) if m.is_empty() => "`{}`".into(),
            Some(v) => format!("`{v}`"),
            None if self.required => "required".into(),
            None => "none".into(),
        }
    }

    fn choices_text(&self) -> String {
        let quoted: Vec<String> = self.choices.iter().map(|c| format!("`{c}`")).collect();
        match quoted.split_last() {
            Some((last, [])) => last.clone(),
            Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
            None => String::new(),
        }
    }

    fn range_text(&self) -> String {
        let n = |x: f64| {
            if x.fract() == 0.0 && x.abs() < 1e15 {
                format!("{}", x as i64)
            } else {
                format!("{x}")
            }
        };
        match (self.minimum, self.maximum) {
            (Some(a), Some(b)) => format!("from {} to {}", n(a), n(b)),
            (Some(a), None) => format!("at least {}", n(a)),
            (None, Some(b)) => format!("at most {}", n(b)),
            (None, None) => String::new(),
        }
    }
}

/// Where a param's value failed the kind's struct: the param (when known) and why.
#[derive(Debug, Clone, PartialEq)]
pub struct ParseError {
    pub param: Option<String>,
    pub message: String,
}

/// A kind's params: the list read off its struct, and the struct's own parser.
pub struct KindParams {
    params: Vec<Param>,
    parse: fn(&Map<String, Value>) -> Result<(), ParseError>,
}

impl KindParams {
    /// A kind without params of its own.
    pub const fn none() -> KindParams {
        KindParams {
            params: Vec::new(),
            parse: nothing_to_parse,
        }
    }

    /// The params of struct `T`.
    pub fn of<T: JsonSchema + DeserializeOwned>() -> KindParams {
        let schema = schemars::schema_for!(T);
        KindParams {
            params: from_schema(schema.as_value()),
            parse: |m| parse::<T>(m).map(drop),
        }
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Param> {
        self.params.iter()
    }

    pub fn get(&self, name: &str) -> Option<&Param> {
        self.params.iter().find(|p| p.name == name)
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.params.iter().map(|p| p.name.as_str())
    }

    pub fn is_empty(&self) -> bool {
        self.params.is_empty()
    }

    /// Parses `params` with the kind's struct: what the field checks cannot see (an entry of a
    /// mapping, a value of more than one shape).
    pub fn parse(&self, params: &BTreeMap<String, Value>) -> Result<(), ParseError> {
        let map: Map<String, Value> = params.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        (self.parse)(&map)
    }
}

fn nothing_to_parse(_: &Map<String, Value>) -> Result<(), ParseError> {
    Ok(())
}

/// The params of struct `T`, built once: `static P: LazyLock<KindParams> = LazyLock::new(KindParams::of::<T>);`
pub type Lazy = std::sync::LazyLock<KindParams>;

/// `params` as the kind's struct, naming the param a value does not fit.
pub fn parse<T: DeserializeOwned>(params: &Map<String, Value>) -> Result<T, ParseError> {
    serde_path_to_error::deserialize(Value::Object(params.clone())).map_err(|e| {
        let path = e.path().to_string();
        let param = path
            .split(['.', '['])
            .next()
            .filter(|p| !p.is_empty() && *p != "?");
        ParseError {
            param: param.map(str::to_string),
            message: e.into_inner().to_string(),
        }
    })
}

/// The params of an object schema as schemars writes it (JSON Schema 2020-12).
fn from_schema(root: &Value) -> Vec<Param> {
    let defs = root.get("$defs").and_then(Value::as_object);
    let required: Vec<&str> = root
        .get("required")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let Some(props) = root.get("properties").and_then(Value::as_object) else {
        return Vec::new();
    };
    props
        .iter()
        .map(|(name, s)| {
            let shape = resolve(s, defs);
            Param {
                name: name.clone(),
                ty: shape.ty,
                required: required.contains(&name.as_str()),
                help: description(s)
                    .or_else(|| description(&shape.schema))
                    .unwrap_or_default(),
                default: s.get("default").cloned(),
                minimum: shape.schema.get("minimum").and_then(Value::as_f64),
                maximum: shape.schema.get("maximum").and_then(Value::as_f64),
                choices: shape.choices,
            }
        })
        .collect()
}

struct Shape {
    ty: ParamType,
    choices: Vec<String>,
    /// The schema the shape was read from, `$ref` and `null` alternatives taken away.
    schema: Value,
}

fn resolve(s: &Value, defs: Option<&Map<String, Value>>) -> Shape {
    if let Some(r) = s.get("$ref").and_then(Value::as_str) {
        let target = r
            .rsplit('/')
            .next()
            .and_then(|n| defs?.get(n))
            .cloned()
            .unwrap_or(Value::Null);
        return resolve(&target, defs);
    }
    for key in ["anyOf", "oneOf"] {
        if let Some(alts) = s.get(key).and_then(Value::as_array) {
            let alts: Vec<&Value> = alts.iter().filter(|a| !is_null(a)).collect();
            if let [one] = alts.as_slice() {
                return resolve(one, defs);
            }
            let consts: Vec<String> = alts
                .iter()
                .filter_map(|a| resolve(a, defs).choices.first().cloned())
                .collect();
            if consts.len() == alts.len() {
                return Shape {
                    ty: ParamType::String,
                    choices: consts,
                    schema: s.clone(),
                };
            }
            return Shape {
                ty: ParamType::Any,
                choices: Vec::new(),
                schema: s.clone(),
            };
        }
    }
    let mut choices: Vec<String> = s
        .get("enum")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default();
    if let Some(c) = s.get("const").and_then(Value::as_str) {
        choices.push(c.to_string());
    }
    let types: Vec<&str> = match s.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts
            .iter()
            .filter_map(Value::as_str)
            .filter(|t| *t != "null")
            .collect(),
        _ => Vec::new(),
    };
    let ty = match types.as_slice() {
        ["string"] => ParamType::String,
        ["integer"] => ParamType::Integer,
        ["number"] => ParamType::Number,
        ["boolean"] => ParamType::Bool,
        ["object"] => ParamType::Map,
        ["array"] => match s.get("items").map(|i| resolve(i, defs).ty) {
            Some(ParamType::String) => ParamType::StringList,
            _ => ParamType::Any,
        },
        [] if !choices.is_empty() => ParamType::String,
        _ => ParamType::Any,
    };
    Shape {
        ty,
        choices,
        schema: s.clone(),
    }
}

fn is_null(s: &Value) -> bool {
    s.get("type").and_then(Value::as_str) == Some("null")
}

fn description(s: &Value) -> Option<String> {
    let d = s.get("description")?.as_str()?;
    // A doc comment wrapped over lines reads as one sentence.
    Some(d.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// The LA column's name, the default of kinds that name one.
pub fn la_code() -> String {
    "la_code".into()
}

/// The study's probability threshold, the default of kinds that flag LAs.
pub fn half() -> f64 {
    0.5
}

/// Defaults for integer fields, `#[serde(default = "int::<10>")]`: the value sits in the
/// attribute beside the field rather than in a function elsewhere.
pub fn int<const N: i64>() -> i64 {
    N
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::{Deserialize, Serialize};
    use serde_json::json;

    #[derive(Deserialize, Serialize, JsonSchema, PartialEq, Eq, Debug)]
    #[serde(rename_all = "snake_case")]
    enum Missing {
        /// leave the row out
        Drop,
        /// impute the median
        Median,
    }

    fn drop_missing() -> Missing {
        Missing::Drop
    }

    /// Example params.
    #[derive(Deserialize, JsonSchema, Debug)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Example {
        /// the outcome
        /// column
        outcome: String,
        /// folds
        #[serde(default = "int::<10>")]
        #[schemars(range(min = 3))]
        nfolds: i64,
        /// mixing
        #[schemars(range(min = 0.0, max = 1.0))]
        alpha: f64,
        /// rows with a missing value
        #[serde(default = "drop_missing")]
        missing: Missing,
        /// optional ratio
        ratio: Option<f64>,
        /// names
        #[serde(default)]
        names: Vec<String>,
        /// per-input years
        #[serde(default)]
        years: BTreeMap<String, i64>,
    }

    #[test]
    fn reads_names_types_docs_defaults_ranges_and_choices() {
        let k = KindParams::of::<Example>();
        let p = |n: &str| k.get(n).unwrap().clone();
        assert_eq!(p("outcome").ty, ParamType::String);
        assert!(p("outcome").required);
        assert_eq!(p("outcome").help, "the outcome column");
        assert_eq!(p("nfolds").default, Some(json!(10)));
        assert!(!p("nfolds").required);
        assert_eq!(p("nfolds").minimum, Some(3.0));
        assert_eq!(p("nfolds").type_text(), "integer, at least 3");
        assert_eq!(p("alpha").type_text(), "number, from 0 to 1");
        assert_eq!(p("missing").choices, ["drop", "median"]);
        assert_eq!(p("missing").type_text(), "`drop` or `median`");
        assert_eq!(p("missing").default_text(), "`drop`");
        assert_eq!(p("ratio").ty, ParamType::Number);
        assert!(!p("ratio").required);
        assert_eq!(p("names").ty, ParamType::StringList);
        assert_eq!(p("years").ty, ParamType::Map);
    }

    #[test]
    fn checks_values_against_the_field_and_never_clamps() {
        let k = KindParams::of::<Example>();
        let nfolds = k.get("nfolds").unwrap();
        assert_eq!(
            nfolds.check(&json!(2)).unwrap_err(),
            "must be at least 3, not 2"
        );
        assert!(nfolds.check(&json!(3)).is_ok());
        assert_eq!(nfolds.check(&json!("x")).unwrap_err(), "must be an integer");
        let missing = k.get("missing").unwrap();
        assert_eq!(
            missing.check(&json!("mean")).unwrap_err(),
            "must be `drop` or `median`, not `mean`"
        );
        assert!(k.get("alpha").unwrap().check(&json!(1.5)).is_err());
    }

    #[test]
    fn the_struct_names_the_param_whose_entry_does_not_fit() {
        let k = KindParams::of::<Example>();
        let mut m = BTreeMap::new();
        m.insert("outcome".to_string(), json!("y"));
        m.insert("alpha".to_string(), json!(1));
        assert!(k.parse(&m).is_ok());
        m.insert("years".to_string(), json!({"cin": "twenty"}));
        let e = k.parse(&m).unwrap_err();
        assert_eq!(e.param.as_deref(), Some("years"));
        assert!(e.message.contains("invalid type"), "{}", e.message);
    }
}
