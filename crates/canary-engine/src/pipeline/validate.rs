//! `PipelineSpec` (as typed) → `Pipeline` (as used): names, inputs, kinds, params, SQL files,
//! cycles. Every error points at the line of `pipeline.yaml` it is about and suggests the
//! nearest valid name.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::catalogue::{Catalogue, KindSpec};
use super::spec::{self, PipelineSpec, SourceMap, Value};
use super::{dag, matrix, paths, DataFormat, Pipeline, Script, Source, SqlOrigin, Stage, Sweep};
use crate::error::{did_you_mean, Error, Location, Result};

/// Read, parse and validate a pipeline file. `overrides` are `--set key=value` pairs that
/// replace global params (a dotted key such as `model.predictor_year` names a nested map entry).
pub fn load(
    file: &Path,
    registry: &dyn Catalogue,
    overrides: &[(String, String)],
) -> Result<Pipeline> {
    load_profile(file, registry, None, overrides)
}

/// As [`load`], with the params of a named profile of the pipeline's `profiles:` applied first.
pub fn load_profile(
    file: &Path,
    registry: &dyn Catalogue,
    profile: Option<&str>,
    overrides: &[(String, String)],
) -> Result<Pipeline> {
    if let Some(what) = crate::fsio::not_regular(file) {
        return Err(Error::pipeline(format!(
            "the pipeline file `{}` is {what}, not a regular file",
            file.display()
        ))
        .with_hint("name the pipeline's YAML file with `--file`"));
    }
    let bytes = std::fs::read(file).map_err(|e| {
        Error::pipeline(format!(
            "cannot read the pipeline file `{}`: {e}",
            file.display()
        ))
        .with_hint("run canary in the folder holding pipeline.yaml, or name the file with `--file`")
    })?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let before = &e.as_bytes()[..at];
        let line = before.iter().filter(|b| **b == b'\n').count() + 1;
        let start = before.iter().rposition(|b| *b == b'\n').map(|p| p + 1).unwrap_or(0);
        let column = String::from_utf8_lossy(&before[start..]).chars().count() + 1;
        let end = e.as_bytes()[at..].iter().position(|b| *b == b'\n').map(|p| at + p).unwrap_or(e.as_bytes().len());
        let mut loc = Location::new(file, line, column);
        loc.text = Some(String::from_utf8_lossy(&e.as_bytes()[start..end]).into_owned());
        Error::pipeline(format!("{}: a byte that is not UTF-8 (0x{:02x})", file.display(), e.as_bytes()[at]))
            .at(Some(loc))
            .with_hint("save the file as UTF-8 (a file written in Latin-1 or Windows-1252 has such bytes in names like `café`)")
    })?;
    let mut parsed = spec::parse(file, &text)?;
    if let Some(name) = profile {
        let Some(values) = parsed.profiles.get(name).cloned() else {
            let hint = did_you_mean(name, parsed.profiles.keys().map(String::as_str))
                .unwrap_or_else(|| {
                    if parsed.profiles.is_empty() {
                        "the pipeline declares no `profiles:`".to_string()
                    } else {
                        format!(
                            "its profiles are: {}",
                            parsed
                                .profiles
                                .keys()
                                .cloned()
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    }
                });
            return Err(Error::usage(format!(
                "`--profile {name}`: {} has no such profile",
                file.display()
            ))
            .with_hint(hint));
        };
        let as_text: Vec<(String, String)> = values
            .iter()
            .map(|(k, v)| (k.clone(), spec::to_yaml(v).trim_end().to_string()))
            .collect();
        apply_overrides(&mut parsed, &as_text).map_err(|e| match e {
            Error::Usage { message, hint } => Error::Usage {
                message: format!("profile `{name}`: {}", message.replace("`--set ", "`")),
                hint,
            },
            other => other,
        })?;
    }
    apply_overrides(&mut parsed, overrides)?;
    let root = file
        .parent()
        .map(|p| {
            if p.as_os_str().is_empty() {
                Path::new(".")
            } else {
                p
            }
        })
        .unwrap_or(Path::new("."))
        .to_path_buf();
    let root =
        std::fs::canonicalize(&root).map_err(|e| Error::io("open the project folder", &root, e))?;
    let file = root.join(file.file_name().unwrap_or_default());
    Validator {
        map: SourceMap::new(&file, &text),
        registry,
        root: &root,
        file: &file,
    }
    .validate(parsed, &file)
}

fn apply_overrides(spec: &mut PipelineSpec, overrides: &[(String, String)]) -> Result<()> {
    for (key, raw) in overrides {
        let value = spec::parse_value(raw).map_err(|e| {
            Error::usage(format!(
                "`--set {key}={raw}`: the value is not valid YAML: {e}"
            ))
        })?;
        let mut parts = key.split('.');
        let first = parts.next().unwrap_or_default();
        let Some(mut slot) = spec.params.get_mut(first) else {
            let hint =
                did_you_mean(first, spec.params.keys().map(String::as_str)).unwrap_or_else(|| {
                    "`--set` changes a param that pipeline.yaml already declares under `params:`"
                        .into()
                });
            return Err(
                Error::usage(format!("`--set {key}`: there is no param `{first}`")).with_hint(hint),
            );
        };
        for part in parts {
            let Value::Mapping(m) = slot else {
                return Err(Error::usage(format!(
                    "`--set {key}`: `{part}` is inside a param that is not a mapping"
                )));
            };
            let k = Value::String(part.to_string());
            if !m.contains_key(&k) {
                let names: Vec<String> = m
                    .keys()
                    .filter_map(|k| k.as_str().map(str::to_string))
                    .collect();
                let hint = did_you_mean(part, names.iter().map(String::as_str))
                    .unwrap_or_else(|| format!("the keys there are: {}", names.join(", ")));
                return Err(Error::usage(format!("`--set {key}`: no key `{part}`")).with_hint(hint));
            }
            slot = m.get_mut(&k).expect("checked above");
        }
        *slot = typed_override(key, raw, slot, value)?;
    }
    Ok(())
}

/// An override must have the type of the value it replaces, so that a typo fails here, naming
/// the param, and not inside a stage: a number stays a number, a list a list. A string param
/// takes any scalar as its text (`--set window=2020`). An empty value (`--set k=`) is null,
/// which only a nullable param takes: one declared with `null` as its value in `params:`, and
/// which then takes any value.
fn typed_override(key: &str, raw: &str, old: &Value, new: Value) -> Result<Value> {
    let declared = || {
        format!(
            "param `{key}` is {} in pipeline.yaml ({})",
            spec::type_name(old),
            excerpt(&spec::to_json(old).to_string())
        )
    };
    let refuse = |hint: String| {
        Err(Error::usage(format!(
            "`--set {key}={}`: {}, but `{}` is {}",
            excerpt(raw),
            declared(),
            excerpt(raw),
            spec::type_name(&new)
        ))
        .with_hint(hint))
    };
    match (old, &new) {
        (Value::Null, _) => Ok(new),
        (_, Value::Null) => Err(Error::usage(format!(
            "`--set {key}={}`: {} is null, but {}",
            excerpt(raw),
            if raw.trim().is_empty() { "an empty value" } else { "the value" },
            declared()
        ))
        .with_hint(format!(
            "give a value, e.g. `--set {key}={}`; a param that may be empty is declared nullable, with `null` as its value under `params:`",
            excerpt(&spec::to_json(old).to_string())
        ))),
        (Value::Number(_), Value::Number(_)) | (Value::Bool(_), Value::Bool(_)) | (Value::Sequence(_), Value::Sequence(_)) | (Value::Mapping(_), Value::Mapping(_)) => Ok(new),
        (Value::String(_), Value::String(_)) => Ok(new),
        // A list a sweep reads may also be given as an integer range, `1..100`.
        (Value::Sequence(_), Value::String(r)) if r.split_once("..").is_some_and(|(a, b)| a.trim().parse::<i64>().is_ok() && b.trim().parse::<i64>().is_ok()) => Ok(new),
        (Value::String(_), Value::Number(_) | Value::Bool(_)) => Ok(Value::String(raw.trim().to_string())),
        (Value::Number(_), _) => refuse(format!("give a number, e.g. `--set {key}={}`", excerpt(&spec::to_json(old).to_string()))),
        (Value::Bool(_), _) => refuse(format!("give `true` or `false`: `--set {key}=true`")),
        (Value::Sequence(_), _) => refuse(format!("give a list in YAML's flow style (`--set {key}=[a, b]`) or an integer range (`--set {key}=1..10`)")),
        (Value::Mapping(_), _) => refuse(format!("set one of its keys (`--set {key}.NAME=…`) or give a mapping: `--set {key}={{a: 1}}`")),
        (Value::String(_), _) => refuse(format!("`{key}` takes text: quote it if it looks like YAML (`--set {key}='[x]'`)")),
        (Value::Tagged(_), _) => Ok(new),
    }
}

/// At most 200 characters of something the user typed, for a message.
fn excerpt(s: &str) -> String {
    crate::error::excerpt(s, 200)
}

struct Validator<'a> {
    map: SourceMap<'a>,
    registry: &'a dyn Catalogue,
    root: &'a Path,
    file: &'a Path,
}

impl Validator<'_> {
    /// Where line `line`, column `column` of a stage's SQL text is: in its `sql_file`, or in
    /// pipeline.yaml below the stage's `sql:` key.
    fn sql_location(
        &self,
        at: &str,
        s: &spec::StageSpec,
        text: &str,
        line: usize,
        column: usize,
        width: usize,
    ) -> Option<Location> {
        let origin = self.sql_origin(at, s)?;
        if origin.in_yaml && self.map.line(origin.first_line + line - 1).is_none() {
            return self.map.key(&["stages", at, "sql"]);
        }
        Some(origin.locate(text, Some(self.map.text()), (line, column, width)))
    }

    /// Where stage `at`'s SQL is written: its `sql_file`, or its `sql:` value here.
    fn sql_origin(&self, at: &str, s: &spec::StageSpec) -> Option<SqlOrigin> {
        if let Some(f) = &s.sql_file {
            return Some(SqlOrigin {
                file: f.into(),
                first_line: 1,
                first_shift: 0,
                in_yaml: false,
            });
        }
        let key = self.map.key(&["stages", at, "sql"])?;
        let after = key
            .text
            .as_deref()
            .unwrap_or_default()
            .split_once(':')
            .map(|(_, r)| r.trim())
            .unwrap_or_default();
        let block = after.starts_with('|') || after.starts_with('>');
        Some(SqlOrigin {
            file: self.file.to_path_buf(),
            first_line: if block { key.line + 1 } else { key.line },
            first_shift: if block {
                0
            } else {
                key.column - 1 + "sql: ".len()
            },
            in_yaml: true,
        })
    }

    /// Names that would clash where they end up: a stage or source named like another stage's
    /// SQL table (`model_summary` beside stage `model`'s table `summary`, or a kind's alias such
    /// as `cohort_members`) would make two tables of one name in `canary sql` and downstream
    /// SQL; a name longer than [`MAX_NAME`] bytes cannot be a file name under `out/`.
    fn check_names(&self, spec: &PipelineSpec, stages: &BTreeMap<String, Stage>) -> Vec<Error> {
        let mut errors = Vec::new();
        for (section, names) in [
            ("sources", spec.sources.keys().collect::<Vec<_>>()),
            ("stages", spec.stages.keys().collect()),
        ] {
            for name in names {
                if name.len() > MAX_NAME {
                    errors.push(self.err(
                        format!("`{}` is {} bytes long; a name is at most {MAX_NAME} bytes", crate::error::excerpt(name, 40), name.len()),
                        &[section, name],
                        Some("names become file names under `out/` and SQL table names: shorten it".into()),
                    ));
                }
            }
        }
        let mut sql_names: BTreeMap<String, String> = BTreeMap::new();
        for st in stages.values().filter(|s| s.parent().is_none()) {
            for t in st.tables.iter().filter(|t| !t.is_empty()) {
                sql_names.insert(
                    Pipeline::sql_table_name(&st.name, Some(t)),
                    format!("the SQL name of table `{t}` of stage `{}`", st.name),
                );
            }
            if let Some(kind) = self.registry.kind(&st.kind) {
                for (t, alias) in kind.sql_aliases() {
                    if st.tables.contains(&t) {
                        sql_names.insert(
                            alias,
                            format!(
                                "the SQL name kind `{}` gives table `{t}` of stage `{}`",
                                st.kind, st.name
                            ),
                        );
                    }
                }
            }
        }
        for (section, name) in spec
            .sources
            .keys()
            .map(|n| ("sources", n))
            .chain(spec.stages.keys().map(|n| ("stages", n)))
        {
            if let Some(owner) = sql_names.get(name) {
                errors.push(self.err(
                    format!("`{name}` is also {owner}"),
                    &[section, name],
                    Some("rename one of them: `canary sql` and the stages that read them would see two tables of that name".into()),
                ));
            }
        }
        errors
    }

    /// Every stage's SQL through the sandbox: one query, reading only the stage's inputs
    /// (each under its SQL name). A sweep's cells share their SQL text: checked once.
    fn check_sql(&self, spec: &PipelineSpec, stages: &BTreeMap<String, Stage>) -> Vec<Error> {
        let mut errors = Vec::new();
        let mut seen: BTreeSet<&str> = BTreeSet::new();
        for stage in stages.values() {
            let Some(sql) = &stage.sql else { continue };
            let at = stage.parent().unwrap_or(&stage.name);
            if !seen.insert(at) {
                continue;
            }
            let mut tables = BTreeSet::new();
            for input in &stage.inputs {
                match stages.get(input) {
                    Some(up) if !up.tables.is_empty() => {
                        tables.extend(up.tables.iter().map(|t| {
                            Pipeline::sql_table_name(
                                input,
                                Some(t.as_str()).filter(|t| !t.is_empty()),
                            )
                        }));
                    }
                    _ => {
                        tables.insert(input.clone());
                    }
                }
            }
            if let Err(r) = crate::sandbox::check(sql, crate::sandbox::Mode::Stage, &tables) {
                let loc = spec
                    .stages
                    .get(at)
                    .and_then(|s| self.sql_location(at, s, sql, r.line, r.column, r.width));
                errors.push(
                    Error::pipeline(format!(
                        "stage `{}`: its SQL is refused: {}",
                        stage.name, r.message
                    ))
                    .at(loc)
                    .with_hint(r.hint),
                );
            }
        }
        errors
    }

    /// A project file a stage reads: inside the project, and (when it exists) a regular file.
    fn project_file(&self, rel: &str) -> std::result::Result<PathBuf, String> {
        let path = paths::inside(self.root, rel)?;
        match crate::fsio::not_regular(&path) {
            Some(what) => Err(format!("is {what}, not a regular file")),
            None => Ok(path),
        }
    }

    /// A stage's params against its kind's struct: each named, of its type and range, the
    /// required ones present; then the struct's own parse, for what a field check cannot see.
    /// Every error is at the param's line.
    fn kind_params(
        &self,
        name: &str,
        at: &str,
        s: &spec::StageSpec,
        kind: &dyn KindSpec,
        params: &BTreeMap<String, serde_json::Value>,
    ) -> Vec<Error> {
        let declared = kind.params();
        let mut errors = Vec::new();
        for p in declared.iter() {
            match params.get(&p.name) {
                None if p.required => errors.push(self.err(
                    format!(
                        "stage `{name}` (kind `{}`) needs param `{}`: {}",
                        s.kind, p.name, p.help
                    ),
                    &["stages", at],
                    Some(format!(
                        "add `{}:` ({}) under the stage's `params:`",
                        p.name,
                        p.type_text()
                    )),
                )),
                Some(v) => {
                    let why = match p.check(v) {
                        Ok(()) => continue,
                        Err(_) if !p.ty.accepts(v) => format!(
                            "must be {}, but it is {}",
                            p.ty.describe(),
                            s.params
                                .get(&p.name)
                                .map(spec::type_name)
                                .unwrap_or("a value")
                        ),
                        Err(why) => why,
                    };
                    errors.push(self.err(
                        format!("stage `{name}`: param `{}` {why}", p.name),
                        &["stages", at, "params", &p.name],
                        Some(format!("`{}` ({}): {}", p.name, p.type_text(), p.help)),
                    ));
                }
                None => {}
            }
        }
        for (key, value) in &s.params {
            if declared.get(key).is_some() {
                continue;
            }
            if kind.open_params() {
                // Checked as resolved: `${model}` names a mapping although it is written as text.
                let resolved = params
                    .get(key)
                    .map(spec::from_json)
                    .unwrap_or_else(|| value.clone());
                if matches!(resolved, Value::Sequence(_) | Value::Mapping(_)) {
                    errors.push(self.err(
                        format!("stage `{name}`: param `{key}` must be a string, number or boolean, but it is {}", spec::type_name(&resolved)),
                        &["stages", at, "params", key],
                        Some("params of a `sql` stage are substituted into the SQL text as `${name}`: give a single value".into()),
                    ));
                }
            } else {
                let hint =
                    did_you_mean(key, declared.names()).unwrap_or_else(|| takes(&s.kind, declared));
                errors.push(self.err(
                    format!("stage `{name}`: kind `{}` has no param `{key}`", s.kind),
                    &["stages", at, "params", key],
                    Some(hint),
                ));
            }
        }
        if errors.is_empty() && !kind.open_params() {
            if let Err(e) = declared.parse(params) {
                let mut keys = vec!["stages", at];
                if let Some(p) = &e.param {
                    keys.extend(["params", p.as_str()]);
                }
                let what = e
                    .param
                    .as_ref()
                    .map(|p| format!("param `{p}`: "))
                    .unwrap_or_default();
                errors.push(self.err(
                    format!("stage `{name}`: {what}{}", e.message),
                    &keys,
                    Some(format!("`canary kinds {}` lists its params", s.kind)),
                ));
            }
        }
        errors
    }

    fn err(&self, message: String, keys: &[&str], hint: Option<String>) -> Error {
        // The key itself, or the deepest one found on its path (a key inside an inline map,
        // `params: {nope: 1}`, is found as the item of its parent).
        let loc = self.map.key(keys).or_else(|| {
            let (last, parent) = keys.split_last()?;
            self.map.item(parent, last).or_else(|| {
                (1..parent.len())
                    .rev()
                    .find_map(|n| self.map.key(&parent[..=n]))
            })
        });
        let e = Error::pipeline(message).at(loc);
        match hint {
            Some(h) => e.with_hint(h),
            None => e,
        }
    }

    fn validate(&self, spec: PipelineSpec, file: &Path) -> Result<Pipeline> {
        let params: BTreeMap<String, serde_json::Value> = spec
            .params
            .iter()
            .map(|(k, v)| (k.clone(), spec::to_json(v)))
            .collect();
        let mut errors = self.check_identifiers(&spec);
        let mut sources = BTreeMap::new();
        for (name, s) in &spec.sources {
            sources.insert(name.clone(), self.source(name, s, &mut errors));
        }
        let mut stages = BTreeMap::new();
        for (name, s) in &spec.stages {
            if s.kind == super::STACK_KIND {
                errors.push(self.err(
                    format!(
                        "stage `{name}`: kind `{}` is the engine's own, for the tables of a sweep",
                        s.kind
                    ),
                    &["stages", name, "kind"],
                    Some("declare `matrix:` on the stage to sweep instead".into()),
                ));
                continue;
            }
            let made = if s.matrix.is_empty() {
                self.stage(name, name, s, &spec, &params).map(|st| vec![st])
            } else {
                self.sweep(name, s, &spec, &params)
            };
            match made {
                Ok(list) => stages.extend(list.into_iter().map(|st| (st.name.clone(), st))),
                Err(mut es) => errors.append(&mut es),
            }
        }

        errors.extend(self.check_names(&spec, &stages));
        errors.extend(self.check_sql(&spec, &stages));
        if !errors.is_empty() {
            return Err(if errors.len() == 1 {
                errors.remove(0)
            } else {
                Error::Many(errors)
            });
        }
        let order = dag::topological_order(&stages).map_err(|cycle| {
            let first = cycle[0].clone();
            let loc = cycle
                .get(1)
                .and_then(|next| self.map.item(&["stages", next, "inputs"], &first));
            Error::pipeline(format!("the stages form a cycle: {}", cycle.join(" → ")))
                .at(loc)
                .with_hint("a stage cannot depend on its own output: remove one of these inputs")
        })?;

        let mirrors = spec.mirrors.iter().map(|m| self.root.join(m)).collect();
        let memory = match &spec.settings.memory {
            None => None,
            Some(m) => match super::parse_size(m) {
                Some(b) => Some(b),
                None => {
                    return Err(self.err(
                        format!("`settings.memory` is `{m}`, which is not a size"),
                        &["settings", "memory"],
                        Some("write e.g. `memory: 512MB` or `memory: 2GiB`".into()),
                    ))
                }
            },
        };
        Ok(Pipeline {
            root: self.root.to_path_buf(),
            file: file.to_path_buf(),
            name: spec.name,
            description: spec.description,
            params,
            mirrors,
            sources,
            stages,
            order,
            memory,
        })
    }

    /// Every source, stage and global param named as an SQL table may be, and no name both a
    /// source and a stage.
    fn check_identifiers(&self, spec: &PipelineSpec) -> Vec<Error> {
        let mut errors = Vec::new();
        for name in spec
            .sources
            .keys()
            .chain(spec.stages.keys())
            .chain(spec.params.keys())
        {
            if !is_identifier(name) {
                let section = if spec.sources.contains_key(name) {
                    "sources"
                } else if spec.stages.contains_key(name) {
                    "stages"
                } else {
                    "params"
                };
                errors.push(self.err(
                    format!("`{name}` is not a valid name"),
                    &[section, name],
                    Some("names are lowercase letters, digits and `_`, starting with a letter: they become SQL table names".into()),
                ));
            }
        }
        for name in spec.stages.keys() {
            if spec.sources.contains_key(name) {
                errors.push(self.err(
                    format!("`{name}` is both a source and a stage"),
                    &["stages", name],
                    Some("rename one of them: inputs refer to sources and stages by name".into()),
                ));
            }
        }
        errors
    }

    /// A source: its checksum well-formed, its path inside the project (unless `external`)
    /// and a regular file.
    fn source(&self, name: &str, s: &spec::SourceSpec, errors: &mut Vec<Error>) -> Source {
        let sha = s.sha256.trim().to_ascii_lowercase();
        if sha.len() != 64 || !sha.bytes().all(|b| b.is_ascii_hexdigit()) {
            errors.push(self.err(
                format!("source `{name}`: `sha256` must be 64 hexadecimal digits"),
                &["sources", name, "sha256"],
                Some("compute it with `sha256sum FILE`".into()),
            ));
        }
        let path = if s.external {
            self.root.join(&s.path)
        } else {
            match paths::inside(self.root, &s.path) {
                Ok(p) => p,
                Err(why) => {
                    errors.push(self.err(
                        format!("source `{name}`: its path `{}` {why}", s.path),
                        &["sources", name, "path"],
                        Some("keep the published files under `raw/` (`canary fetch` puts them there); to read a file outside the project on purpose, add `external: true` to the source (the lock records it)".into()),
                    ));
                    self.root.join(&s.path)
                }
            }
        };
        if let Some(what) = crate::fsio::not_regular(&path) {
            errors.push(self.err(
                format!("source `{name}`: `{}` is {what}, not a regular file", s.path),
                &["sources", name, "path"],
                Some("a source is a file canary reads whole: point `path` at the published file itself".into()),
            ));
        }
        Source {
            name: name.to_string(),
            rel_path: s.path.clone(),
            path,
            sha256: sha,
            url: s.url.clone(),
            landing_page: s.landing_page.clone(),
            publisher: s.publisher.clone(),
            licence: s.licence.clone(),
            description: s.description.clone(),
            external: s.external,
        }
    }

    /// A stage with `matrix:`: one stage per cell, each validated as the stage with the cell's
    /// values among its params, and a stacking stage under the stage's own name.
    fn sweep(
        &self,
        name: &str,
        s: &spec::StageSpec,
        spec: &PipelineSpec,
        globals: &BTreeMap<String, serde_json::Value>,
    ) -> std::result::Result<Vec<Stage>, Vec<Error>> {
        let Some(kind) = self.registry.kind(&s.kind) else {
            return self.stage(name, name, s, spec, globals).map(|st| vec![st]);
        };
        let axes = self.matrix_axes(name, s, kind, globals)?;
        let cap = spec.settings.max_matrix_cells;
        let sizes: Vec<String> = axes.iter().map(|a| a.values.len().to_string()).collect();
        match matrix::size(&axes) {
            Some(n) if n <= cap => {}
            n => {
                let total = n
                    .map(|n| n.to_string())
                    .unwrap_or_else(|| "more than 2^64".into());
                return Err(vec![self.err(
                    format!("stage `{name}`: its matrix makes {} = {total} cells, more than the cap of {cap}", sizes.join(" × ")),
                    &["stages", name, "matrix"],
                    Some("shorten a list or a range, or raise `settings: {max_matrix_cells: N}` in pipeline.yaml".into()),
                )]);
            }
        }
        let mut stages = Vec::new();
        for values in matrix::cells(&axes) {
            let mut cell_spec = s.clone();
            cell_spec.matrix.clear();
            for (k, v) in &values {
                cell_spec.params.insert(k.clone(), spec::from_json(v));
            }
            let cell = matrix::cell_name(name, &values);
            let mut stage = self.stage(&cell, name, &cell_spec, spec, globals)?;
            stage.sweep = Some(Sweep::Cell {
                parent: name.to_string(),
                key: matrix::cell_key(&values),
                values,
            });
            stages.push(stage);
        }
        let stack = stack_stage(name, s, &axes, &stages);
        stages.push(stack);
        Ok(stages)
    }

    /// The axes of a stage's `matrix:`: each a param of its kind (not also in `params:`), its
    /// values resolved from global params and each of the param's type and range.
    fn matrix_axes(
        &self,
        name: &str,
        s: &spec::StageSpec,
        kind: &dyn KindSpec,
        globals: &BTreeMap<String, serde_json::Value>,
    ) -> std::result::Result<Vec<matrix::Axis>, Vec<Error>> {
        let mut errors = Vec::new();
        let mut axes = Vec::new();
        for (param, v) in &s.matrix {
            let at = ["stages", name, "matrix", param.as_str()];
            let declared = kind.params().get(param);
            if declared.is_none() && !kind.open_params() {
                let hint = did_you_mean(param, kind.params().names())
                    .unwrap_or_else(|| takes(&s.kind, kind.params()));
                errors.push(self.err(format!("stage `{name}`: `matrix:` sweeps `{param}`, which kind `{}` has no param of", s.kind), &at, Some(hint)));
                continue;
            }
            if s.params.contains_key(param) {
                errors.push(self.err(
                    format!("stage `{name}`: param `{param}` is both in `params:` and in `matrix:`"),
                    &at,
                    Some("a swept param takes its values from the matrix: remove it from `params:`".into()),
                ));
            }
            // A whole entry may name a global param (`seed: ${model.sweep_seeds}`), so a profile
            // or `--set` can change a sweep's size.
            let resolved = match resolve_refs(&spec::to_json(v), globals) {
                Ok(r) => r,
                Err(missing) => {
                    let hint = did_you_mean(&missing, globals.keys().map(String::as_str))
                        .unwrap_or_else(|| "declare it under the top-level `params:`".into());
                    errors.push(self.err(format!("stage `{name}`: matrix param `{param}` refers to `${{{missing}}}`, which is not a global param"), &at, Some(hint)));
                    continue;
                }
            };
            match matrix::axis(param, &resolved) {
                Ok(axis) => {
                    if let Some(p) = declared {
                        let bad = axis
                            .values
                            .iter()
                            .find_map(|v| p.check(v).err().map(|why| (v, why)));
                        if let Some((bad, why)) = bad {
                            errors.push(
                                Error::pipeline(format!(
                                    "stage `{name}`: matrix value {bad} of `{param}` {why}"
                                ))
                                .at(self
                                    .map
                                    .item(&at, &matrix::render(bad))
                                    .or_else(|| self.map.key(&at)))
                                .with_hint(format!("`{param}`: {}", p.help)),
                            );
                        }
                    }
                    axes.push(axis);
                }
                Err(e) => errors.push(self.err(
                    format!("stage `{name}`: matrix param `{param}`: {e}"),
                    &at,
                    None,
                )),
            }
        }
        if errors.is_empty() {
            Ok(axes)
        } else {
            Err(errors)
        }
    }

    /// A `script` stage's contract; the keys that only `script` stages take are refused on
    /// any other kind.
    fn script(
        &self,
        name: &str,
        at: &str,
        s: &spec::StageSpec,
    ) -> std::result::Result<Option<Script>, Vec<Error>> {
        let mut errors = Vec::new();
        let only_script = [
            ("command", s.command.is_some()),
            ("outputs", !s.outputs.is_empty()),
            ("side_outputs", !s.side_outputs.is_empty()),
            ("input_format", s.input_format.is_some()),
            ("output_format", s.output_format.is_some()),
            ("env", !s.env.is_empty()),
            ("timeout", s.timeout.is_some()),
            ("optional", s.optional),
            ("requires", !s.requires.is_empty()),
        ];
        if s.kind != "script" {
            for (key, _) in only_script.iter().filter(|(_, set)| *set) {
                errors.push(self.err(
                    format!("stage `{name}`: `{key}` is for `script` stages, and this one is of kind `{}`", s.kind),
                    &["stages", at, key],
                    Some("remove it, or make the stage `kind: script`".into()),
                ));
            }
            return if errors.is_empty() {
                Ok(None)
            } else {
                Err(errors)
            };
        }
        let argv = self.script_command(name, at, s, &mut errors);
        errors.extend(self.script_outputs(name, at, s));
        let format = |key: &str, v: &Option<String>, default: DataFormat| match v.as_deref() {
            None => Ok(default),
            Some("csv") => Ok(DataFormat::Csv),
            Some("parquet") => Ok(DataFormat::Parquet),
            Some(other) => Err(self.err(
                format!("stage `{name}`: `{key}` must be `csv` or `parquet`, not `{other}`"),
                &["stages", at, key],
                None,
            )),
        };
        let input_format = format("input_format", &s.input_format, DataFormat::Parquet)
            .unwrap_or_else(|e| {
                errors.push(e);
                DataFormat::Parquet
            });
        let output_format = format("output_format", &s.output_format, DataFormat::Csv)
            .unwrap_or_else(|e| {
                errors.push(e);
                DataFormat::Csv
            });
        let timeout = match &s.timeout {
            None => None,
            Some(Value::Number(n)) if n.as_f64().is_some_and(|t| t > 0.0 && t.is_finite()) => Some(
                std::time::Duration::from_secs_f64(n.as_f64().unwrap_or(1.0)),
            ),
            Some(Value::String(t)) if humantime::parse_duration(t).is_ok() => {
                humantime::parse_duration(t).ok()
            }
            Some(other) => {
                errors.push(self.err(
                    format!("stage `{name}`: `timeout` must be a number of seconds or a duration such as `10m`, not {}", spec::type_name(other)),
                    &["stages", at, "timeout"],
                    None,
                ));
                None
            }
        };
        for (k, v) in &s.params {
            if contains_non_finite(v) {
                errors.push(
                    Error::pipeline(format!("stage `{name}`: param `{k}` holds a number JSON cannot represent (NaN or infinity), so it cannot be passed in CANARY_PARAMS"))
                        .at(self.map.item(&["stages", at, "params"], k))
                        .with_hint("give a finite number, or a string the script interprets"),
                );
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(Some(Script {
            argv,
            outputs: s.outputs.clone(),
            side_outputs: s.side_outputs.clone(),
            input_format,
            output_format,
            env: s.env.clone(),
            timeout,
            optional: s.optional,
            requires: s.requires.clone(),
        }))
    }

    /// A script's `command`, split into words as a shell would split it.
    fn script_command(
        &self,
        name: &str,
        at: &str,
        s: &spec::StageSpec,
        errors: &mut Vec<Error>,
    ) -> Vec<String> {
        match s.command.as_deref().map(shlex::split) {
            None => {
                errors.push(self.err(
                    format!("stage `{name}` (kind `script`) needs `command`"),
                    &["stages", at],
                    Some("add e.g. `command: python3 stages/ranks.py`".into()),
                ));
                Vec::new()
            }
            Some(None) | Some(Some(_))
                if s.command.as_deref().is_some_and(|c| c.trim().is_empty()) =>
            {
                errors.push(self.err(
                    format!("stage `{name}`: `command` is empty"),
                    &["stages", at, "command"],
                    None,
                ));
                Vec::new()
            }
            Some(None) => {
                errors.push(self.err(
                    format!("stage `{name}`: `command` cannot be split into words (an unclosed quote or a trailing `\\`)"),
                    &["stages", at, "command"],
                    Some("the command is split as a shell would split it, then run without a shell".into()),
                ));
                Vec::new()
            }
            Some(Some(argv)) => argv,
        }
    }

    /// A script's `outputs` (at least one, each a table name) and `side_outputs` (plain file
    /// names).
    fn script_outputs(&self, name: &str, at: &str, s: &spec::StageSpec) -> Vec<Error> {
        let mut errors = Vec::new();
        if s.outputs.is_empty() {
            errors.push(self.err(
                format!("stage `{name}` (kind `script`) needs `outputs`: the tables its command writes"),
                &["stages", at],
                Some(format!("add e.g. `outputs: [{name}]`; the script writes each to the path in CANARY_OUT_<TABLE>")),
            ));
        }
        for o in &s.outputs {
            if !is_identifier(o) {
                errors.push(
                    Error::pipeline(format!(
                        "stage `{name}`: output `{o}` is not a valid table name"
                    ))
                    .at(self.map.item(&["stages", at, "outputs"], o))
                    .with_hint(
                        "table names are lowercase letters, digits and `_`, starting with a letter",
                    ),
                );
            }
        }
        for f in &s.side_outputs {
            if f.is_empty() || f.contains('/') || f.starts_with('.') {
                errors.push(
                    Error::pipeline(format!("stage `{name}`: side output `{f}` must be a plain file name"))
                        .at(self.map.item(&["stages", at, "side_outputs"], f))
                        .with_hint(format!("the script writes it to CANARY_SIDE/<name>; canary keeps it as out/{name}/<name>")),
                );
            }
        }
        errors
    }

    /// Validate one stage. `at` is the stage's key in pipeline.yaml, where errors point: the
    /// stage's own name, or for a cell of a sweep the swept stage's.
    fn stage(
        &self,
        name: &str,
        at: &str,
        s: &spec::StageSpec,
        spec: &PipelineSpec,
        globals: &BTreeMap<String, serde_json::Value>,
    ) -> std::result::Result<Stage, Vec<Error>> {
        let Some(kind) = self.registry.kind(&s.kind) else {
            return Err(vec![self.unknown_kind(name, at, s)]);
        };
        let mut errors = self.stage_inputs(name, at, s, spec);
        // Params: resolve `${global}` references, then check names and types against the kind.
        let params = self.stage_params(name, at, s, globals, &mut errors);
        errors.extend(self.kind_params(name, at, s, kind, &params));
        let mut sql = None;
        let mut sql_params = BTreeMap::new();
        if kind.uses_sql() {
            sql = self.read_sql(name, at, s, &mut errors);
            if let Some(text) = &sql {
                let substituted =
                    self.substitute_sql(name, at, s, text, (globals, &params), &mut errors);
                if let Some((t, through)) = substituted {
                    sql = Some(t);
                    sql_params = through;
                }
            }
        } else if s.sql.is_some() || s.sql_file.is_some() {
            errors.push(self.err(
                format!("stage `{name}`: kind `{}` does not take SQL", s.kind),
                &[
                    "stages",
                    at,
                    if s.sql.is_some() { "sql" } else { "sql_file" },
                ],
                Some("use kind `sql` for a SQL stage, or remove the SQL".into()),
            ));
        }

        let mut stage = Stage {
            name: name.to_string(),
            kind: s.kind.clone(),
            inputs: s.inputs.clone(),
            params,
            sql,
            sql_file: s.sql_file.clone(),
            sql_params,
            description: s.description.clone(),
            tables: Vec::new(),
            files: Vec::new(),
            sweep: None,
            script: None,
            sql_origin: if s.sql.is_some() || s.sql_file.is_some() {
                self.sql_origin(at, s)
            } else {
                None
            },
        };
        match self.script(name, at, s) {
            Ok(script) => stage.script = script,
            Err(mut es) => errors.append(&mut es),
        }
        if errors.is_empty() {
            if let Err(message) = kind.check(&stage) {
                // A message about one param points at that param's line.
                let param = message
                    .strip_prefix("param `")
                    .and_then(|r| r.split_once('`'))
                    .map(|(p, _)| p)
                    .filter(|p| s.params.contains_key(*p));
                let keys = match param {
                    Some(p) => vec!["stages", at, "params", p],
                    None => vec!["stages", at],
                };
                errors.push(self.err(format!("stage `{name}`: {message}"), &keys, None));
            }
            errors.extend(self.stage_files(name, at, s, kind, &mut stage));
        }
        if errors.is_empty() {
            Ok(stage)
        } else {
            Err(errors)
        }
    }

    /// A kind no kind is called: the nearest name, or the list.
    fn unknown_kind(&self, name: &str, at: &str, s: &spec::StageSpec) -> Error {
        let hint = did_you_mean(&s.kind, self.registry.kind_names()).unwrap_or_else(|| {
            format!(
                "the kinds are: {}",
                self.registry
                    .kind_names()
                    .into_iter()
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        });
        let loc = self.map.item(&["stages", at, "kind"], &s.kind);
        Error::pipeline(format!("stage `{name}` has unknown kind `{}`", s.kind))
            .at(loc)
            .with_hint(hint)
    }

    /// Each input named once, and each a source or another stage.
    fn stage_inputs(
        &self,
        name: &str,
        at: &str,
        s: &spec::StageSpec,
        spec: &PipelineSpec,
    ) -> Vec<Error> {
        let mut errors = Vec::new();
        let mut seen = BTreeSet::new();
        for input in &s.inputs {
            if !seen.insert(input) {
                errors.push(
                    Error::pipeline(format!("stage `{name}` lists input `{input}` twice"))
                        .at(self.map.item(&["stages", at, "inputs"], input))
                        .with_hint("list each input once"),
                );
            } else if !spec.sources.contains_key(input) && !spec.stages.contains_key(input) {
                let names = spec
                    .sources
                    .keys()
                    .chain(spec.stages.keys())
                    .map(String::as_str);
                let hint = did_you_mean(input, names).unwrap_or_else(|| {
                    "inputs name a source (under `sources:`) or another stage".into()
                });
                errors.push(
                    Error::pipeline(format!("stage `{name}` has unknown input `{input}`"))
                        .at(self.map.item(&["stages", at, "inputs"], input))
                        .with_hint(hint),
                );
            }
        }
        errors
    }

    /// The stage's params with `${global}` references resolved; a reference to no global
    /// param is an error at its line.
    fn stage_params(
        &self,
        name: &str,
        at: &str,
        s: &spec::StageSpec,
        globals: &BTreeMap<String, serde_json::Value>,
        errors: &mut Vec<Error>,
    ) -> BTreeMap<String, serde_json::Value> {
        let mut params = BTreeMap::new();
        for (key, value) in &s.params {
            match resolve_refs(&spec::to_json(value), globals) {
                Ok(v) => {
                    params.insert(key.clone(), v);
                }
                Err(missing) => {
                    let hint = did_you_mean(&missing, globals.keys().map(String::as_str))
                        .unwrap_or_else(|| "declare it under the top-level `params:`".into());
                    errors.push(
                        Error::pipeline(format!("stage `{name}`: param `{key}` refers to `${{{missing}}}`, which is not a global param"))
                            .at(self.map.item(&["stages", at, "params", key], &missing))
                            .with_hint(hint),
                    );
                }
            }
        }
        params
    }

    /// The SQL of a stage that takes SQL: its `sql`, or its `sql_file` read from the project.
    fn read_sql(
        &self,
        name: &str,
        at: &str,
        s: &spec::StageSpec,
        errors: &mut Vec<Error>,
    ) -> Option<String> {
        let mut sql = None;
        match (&s.sql, &s.sql_file) {
            (Some(_), Some(_)) => errors.push(self.err(
                format!("stage `{name}` has both `sql` and `sql_file`"),
                &["stages", at, "sql_file"],
                Some("keep one of them".into()),
            )),
            (None, None) => errors.push(self.err(
                format!("stage `{name}` (kind `{}`) needs `sql` or `sql_file`", s.kind),
                &["stages", at],
                Some("add `sql: SELECT …` or `sql_file: stages/NAME.sql`".into()),
            )),
            (Some(text), None) => sql = Some(text.clone()),
            (None, Some(f)) => match self.project_file(f) {
                Err(why) => errors.push(self.err(
                    format!("stage `{name}`: its `sql_file` `{f}` {why}"),
                    &["stages", at, "sql_file"],
                    Some("SQL files live in the project, e.g. `stages/NAME.sql` (the path is relative to the folder holding pipeline.yaml)".into()),
                )),
                Ok(path) => match std::fs::read_to_string(&path) {
                    Ok(text) => sql = Some(text),
                    Err(e) => errors.push(self.err(
                        format!("stage `{name}`: cannot read `sql_file` {f}: {e}"),
                        &["stages", at, "sql_file"],
                        Some("the path is relative to the folder holding pipeline.yaml (e.g. `stages/NAME.sql`)".into()),
                    )),
                },
            },
        }
        sql
    }

    /// The SQL with `${name}` replaced by the stage's or the global params' values, and the
    /// global params it names (what `status` and `verify` name when the SQL changes through
    /// them); None, with the error pushed, when a reference cannot be substituted.
    fn substitute_sql(
        &self,
        name: &str,
        at: &str,
        s: &spec::StageSpec,
        text: &str,
        (globals, params): (
            &BTreeMap<String, serde_json::Value>,
            &BTreeMap<String, serde_json::Value>,
        ),
        errors: &mut Vec<Error>,
    ) -> Option<(String, BTreeMap<String, serde_json::Value>)> {
        let mut scope = globals.clone();
        scope.extend(params.iter().map(|(k, v)| (k.clone(), v.clone())));
        match super::sql_params::substitute(text, &scope) {
            Ok(t) => {
                // The global params the SQL names (its own params are recorded already).
                let mut sql_params = BTreeMap::new();
                for r in references(text) {
                    let top = r.split('.').next().unwrap_or_default();
                    if !params.contains_key(top) {
                        if let Some(v) = lookup(&r, globals) {
                            sql_params.insert(r, v.clone());
                        }
                    }
                }
                Some((t, sql_params))
            }
            Err(super::sql_params::SubstError::Missing(missing)) => {
                let hint =
                    did_you_mean(&missing, scope.keys().map(String::as_str)).unwrap_or_else(|| {
                        "declare it under the stage's or the top-level `params:`".into()
                    });
                errors.push(self.err(
                    format!(
                        "stage `{name}`: the SQL refers to `${{{missing}}}`, which is not a param"
                    ),
                    &[
                        "stages",
                        at,
                        if s.sql.is_some() { "sql" } else { "sql_file" },
                    ],
                    Some(hint),
                ));
                None
            }
            Err(super::sql_params::SubstError::Unrenderable {
                name: param,
                value,
                line,
                column,
                why,
            }) => {
                let loc = self.sql_location(at, s, text, line, column, param.len() + 3);
                errors.push(
                    Error::pipeline(format!("stage `{name}`: `${{{param}}}` in its SQL is {value}: {why}"))
                        .at(loc)
                        .with_hint(format!("substitute a single value: a string, number or boolean (one key of a mapping: `${{{param}.KEY}}`), or write the list into the SQL")),
                );
                None
            }
        }
    }

    /// The project files the stage reads — its kind's, its own `files:`, a script's own file
    /// named in its command — each inside the project and present.
    fn stage_files(
        &self,
        name: &str,
        at: &str,
        s: &spec::StageSpec,
        kind: &dyn KindSpec,
        stage: &mut Stage,
    ) -> Vec<Error> {
        let mut errors = Vec::new();
        stage.tables = kind.tables(stage);
        stage.files = kind.files(stage);
        for f in &s.files {
            if !stage.files.contains(f) {
                stage.files.push(f.clone());
            }
        }
        // A script's own file, named in its command, is part of its definition too.
        if let Some(script) = &stage.script {
            for a in script.argv.iter().skip(1) {
                let inside =
                    !a.starts_with('-') && !a.starts_with('/') && !a.split('/').any(|c| c == "..");
                if inside && self.root.join(a).is_file() && !stage.files.contains(a) {
                    stage.files.push(a.clone());
                }
            }
        }
        for f in &stage.files {
            let problem = match self.project_file(f) {
                Err(why) => Some(format!("stage `{name}` reads `{f}`, which {why}")),
                Ok(p) if !p.exists() => {
                    Some(format!("stage `{name}` reads `{f}`, which does not exist"))
                }
                Ok(_) => None,
            };
            if let Some(message) = problem {
                let loc = self.map.item(&["stages", at, "params"], f);
                errors.push(
                    Error::pipeline(message)
                        .at(loc.or_else(|| self.map.key(&["stages", at])))
                        .with_hint("the files a stage reads live in the project; the path is relative to the folder holding pipeline.yaml"),
                );
            }
        }
        errors
    }
}

/// The stage under a sweep's own name that stacks its cells' tables.
fn stack_stage(name: &str, s: &spec::StageSpec, axes: &[matrix::Axis], cells: &[Stage]) -> Stage {
    let first = &cells[0];
    Stage {
        name: name.to_string(),
        kind: super::STACK_KIND.to_string(),
        inputs: cells.iter().map(|c| c.name.clone()).collect(),
        params: BTreeMap::from([(
            "matrix".to_string(),
            serde_json::Value::Object(
                axes.iter()
                    .map(|a| (a.param.clone(), serde_json::Value::Array(a.values.clone())))
                    .collect(),
            ),
        )]),
        sql: None,
        sql_file: None,
        sql_params: BTreeMap::new(),
        description: s.description.clone(),
        tables: first.tables.clone(),
        files: Vec::new(),
        script: None,
        sql_origin: None,
        sweep: Some(Sweep::Stack {
            params: axes.iter().map(|a| a.param.clone()).collect(),
            cells: cells.len(),
        }),
    }
}

/// The longest stage or source name, in bytes (file names end at 255).
pub const MAX_NAME: usize = 200;

fn contains_non_finite(v: &Value) -> bool {
    match v {
        Value::Number(n) => n.as_f64().is_some_and(|f| !f.is_finite()),
        Value::Sequence(items) => items.iter().any(contains_non_finite),
        Value::Mapping(m) => m.values().any(contains_non_finite),
        Value::Tagged(t) => contains_non_finite(&t.value),
        _ => false,
    }
}

fn is_identifier(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// Replace a string that is exactly `${name}` by the global's value (keeping its type), and
/// `${name}` inside longer strings by its text. Err carries the unknown name.
fn resolve_refs(
    v: &serde_json::Value,
    globals: &BTreeMap<String, serde_json::Value>,
) -> std::result::Result<serde_json::Value, String> {
    use serde_json::Value as J;
    Ok(match v {
        J::String(s) => {
            if let Some(name) = s.strip_prefix("${").and_then(|r| r.strip_suffix('}')) {
                if !name.contains('}') {
                    return lookup(name, globals)
                        .cloned()
                        .ok_or_else(|| name.to_string());
                }
            }
            J::String(substitute(s, globals)?)
        }
        J::Array(items) => J::Array(
            items
                .iter()
                .map(|i| resolve_refs(i, globals))
                .collect::<std::result::Result<_, _>>()?,
        ),
        J::Object(m) => J::Object(
            m.iter()
                .map(|(k, v)| Ok((k.clone(), resolve_refs(v, globals)?)))
                .collect::<std::result::Result<_, String>>()?,
        ),
        other => other.clone(),
    })
}

/// A dotted name reaches into nested maps: `${model.alpha}`.
fn lookup<'a>(
    name: &str,
    scope: &'a BTreeMap<String, serde_json::Value>,
) -> Option<&'a serde_json::Value> {
    let mut parts = name.split('.');
    let mut v = scope.get(parts.next()?)?;
    for p in parts {
        v = v.get(p)?;
    }
    Some(v)
}

/// The names `${name}` refers to in text, in order, without repeats (`$${` is an escape).
pub fn references(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find("${") {
        let escaped = rest[..i].ends_with('$');
        let after = &rest[i + 2..];
        let Some(end) = after.find('}') else { break };
        let name = after[..end].trim().to_string();
        if !escaped && !out.contains(&name) {
            out.push(name);
        }
        rest = &after[end + 1..];
    }
    out
}

/// Substitute `${name}` in text with the value's plain text (strings unquoted). `$${` escapes.
pub fn substitute(
    text: &str,
    scope: &BTreeMap<String, serde_json::Value>,
) -> std::result::Result<String, String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("${") {
        if rest[..i].ends_with('$') {
            out.push_str(&rest[..i - 1]);
            out.push_str("${");
            rest = &rest[i + 2..];
            continue;
        }
        out.push_str(&rest[..i]);
        let after = &rest[i + 2..];
        let Some(end) = after.find('}') else {
            out.push_str(&rest[i..]);
            return Ok(out);
        };
        let name = after[..end].trim();
        let value = lookup(name, scope).ok_or_else(|| name.to_string())?;
        match value {
            serde_json::Value::String(s) => out.push_str(s),
            other => out.push_str(&other.to_string()),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

/// "kind `fit` takes: outcome, predictors, …", for a param no kind's struct declares.
fn takes(kind: &str, params: &crate::params::KindParams) -> String {
    if params.is_empty() {
        return format!("kind `{kind}` takes no params");
    }
    format!(
        "kind `{kind}` takes: {}",
        params.names().collect::<Vec<_>>().join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_lists_each_name_once_and_skips_escapes() {
        assert_eq!(
            references("a ${x} b ${ y.z } ${x} $${not} ${w"),
            vec!["x".to_string(), "y.z".to_string()]
        );
    }
    use serde_json::json;

    #[test]
    fn substitution_keeps_types_and_escapes() {
        let scope: BTreeMap<String, serde_json::Value> = [
            ("year".to_string(), json!(2012)),
            ("m".to_string(), json!({"a": 0.5})),
        ]
        .into();
        assert_eq!(
            substitute("where year = ${year}", &scope).unwrap(),
            "where year = 2012"
        );
        assert_eq!(substitute("a=${m.a} $${x}", &scope).unwrap(), "a=0.5 ${x}");
        assert_eq!(substitute("${nope}", &scope).unwrap_err(), "nope");
        assert_eq!(
            resolve_refs(&json!("${year}"), &scope).unwrap(),
            json!(2012)
        );
    }

    #[test]
    fn identifiers() {
        assert!(is_identifier("panel_wide"));
        assert!(!is_identifier("Panel"));
        assert!(!is_identifier("1x"));
        assert!(!is_identifier("a-b"));
    }
}
