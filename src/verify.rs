//! `canary verify`: re-derive every output in a fresh workspace and compare it with what the
//! lock (or the RO-Crate) records — a verdict a hand-edited lock cannot fake.
//!
//! The workspace is a temporary folder holding copies of the project files stages read
//! (pipeline.yaml, SQL, YAML dictionaries, templates); sources are copied into it from the
//! project's `raw/` when they pass their checksums (else fetched from a mirror or URL), and
//! every stage runs from scratch (no cache). The project's own folders are only read.
//!
//! Each output gets one verdict:
//! * `identical` — the re-derived bytes hash as recorded, and the file on disk (when there is
//!   one) is the recorded file;
//! * `equal within T` — same schema and rows, every numeric cell within the tolerance
//!   (`|a - b| <= T` or `|a - b| <= T * max(|a|, |b|)`), every other cell equal;
//! * `differs` — with its cause, found by comparing the recorded definition with today's
//!   (param, SQL, project file, source, kind version), or by what disagrees (the lock's hash
//!   against the file on disk and the re-derivation), and how the tables differ.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use datafusion::arrow::array::{Array, ArrayRef};
use datafusion::arrow::compute::cast;
use datafusion::arrow::datatypes::DataType;
use datafusion::arrow::record_batch::RecordBatch;

use crate::engine::{param_changes, Engine, RunOptions};
use crate::error::{Error, Result};
use crate::lockfile::{Lock, StageRecord};
use crate::pipeline::Pipeline;
use crate::stage::Registry;

#[derive(Debug, Clone)]
pub struct Options {
    /// What to compare against: a lock file (default `pipeline.lock`) or an RO-Crate.
    pub lock: Option<PathBuf>,
    pub crate_file: Option<PathBuf>,
    pub jobs: usize,
    pub tolerance: Option<f64>,
    pub mirror: Option<PathBuf>,
    /// The `--profile` the run used: the re-derivation applies it too.
    pub profile: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Agreement {
    Identical,
    WithinTolerance(f64),
    Differs,
}

/// One row of the verdict table.
#[derive(Debug, Clone)]
pub struct Row {
    pub stage: String,
    pub table: String,
    pub recorded: Option<String>,
    pub rederived: Option<String>,
    pub status: Agreement,
    /// Why it differs, and how.
    pub details: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Outcome {
    pub rows: Vec<Row>,
    pub against: String,
    pub seconds: f64,
    pub date: String,
    pub run: crate::lockfile::RunInfo,
}

impl Outcome {
    pub fn ok(&self) -> bool {
        self.rows.iter().all(|r| r.status != Agreement::Differs)
    }

    pub fn summary(&self) -> String {
        let n = self.rows.len();
        let identical = self
            .rows
            .iter()
            .filter(|r| r.status == Agreement::Identical)
            .count();
        let within = self
            .rows
            .iter()
            .filter(|r| matches!(r.status, Agreement::WithinTolerance(_)))
            .count();
        let differ = n - identical - within;
        if differ == 0 {
            format!(
                "verified: all {n} outputs re-derived from the published files match {}{} ({:.1} s)",
                self.against,
                if within > 0 { format!(" ({identical} identical, {within} equal within the tolerance)") } else { " byte for byte".to_string() },
                self.seconds
            )
        } else {
            format!("NOT verified: {differ} of {n} outputs differ from {} ({identical} identical, {within} within the tolerance)", self.against)
        }
    }

    /// The verdict as a plain-text table, then the details of what differs.
    pub fn render_text(&self) -> String {
        let short = |h: &Option<String>| {
            h.as_deref()
                .map(|h| h.chars().take(12).collect::<String>())
                .unwrap_or_else(|| "—".into())
        };
        let mut rows: Vec<[String; 5]> = vec![[
            "stage".into(),
            "table".into(),
            "recorded".into(),
            "re-derived".into(),
            "verdict".into(),
        ]];
        for r in &self.rows {
            rows.push([
                r.stage.clone(),
                r.table.clone(),
                short(&r.recorded),
                short(&r.rederived),
                r.status_text(),
            ]);
        }
        let widths: Vec<usize> = (0..5)
            .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
            .collect();
        let mut out = String::new();
        for r in &rows {
            let line: Vec<String> = (0..5)
                .map(|i| format!("{:<w$}", r[i], w = widths[i]))
                .collect();
            out.push_str(line.join("  ").trim_end());
            out.push('\n');
        }
        for r in self.rows.iter().filter(|r| !r.details.is_empty()) {
            out.push_str(&format!("\n{} / {}:\n", r.stage, r.table));
            for d in &r.details {
                out.push_str(&format!("  - {d}\n"));
            }
        }
        out.push('\n');
        out.push_str(&self.summary());
        out.push('\n');
        out
    }
}

impl Row {
    pub fn status_text(&self) -> String {
        match self.status {
            Agreement::Identical => "identical".into(),
            Agreement::WithinTolerance(t) => format!("equal within {t:e}"),
            Agreement::Differs => "DIFFERS".into(),
        }
    }
}

/// What was recorded for one output (or source).
struct Recorded {
    stage: String,
    table: String,
    path: String,
    sha256: String,
    /// A file beside the tables (a report page): compared line by line, not cell by cell.
    file: bool,
}

pub fn verify(
    pipeline: &Pipeline,
    registry: &Registry,
    overrides: &[(String, String)],
    opts: &Options,
) -> Result<Outcome> {
    let t0 = Instant::now();
    let (recorded, lock, against) = recorded(pipeline, registry, opts)?;
    let work = workspace(pipeline, opts)?;
    let (fresh, derived) = rederive(pipeline, registry, overrides, opts, work.path())?;
    let compare = Compare {
        pipeline,
        lock: lock.as_ref(),
        fresh: &fresh,
        derived: &derived,
        cache: crate::engine::cache::Cache::new(&pipeline.state_dir()),
        tolerance: opts.tolerance,
    };
    let mut rows = Vec::new();
    for rec in &recorded {
        rows.push(if rec.stage == "(source)" {
            source_row(rec, &derived)
        } else {
            compare.output_row(rec)?
        });
    }
    // Outputs the re-derivation made that the record does not know.
    for (stage, r) in &derived.stages {
        for o in &r.outputs {
            if !recorded.iter().any(|x| x.path == o.path) {
                rows.push(Row {
                    stage: stage.clone(),
                    table: o.table.clone().unwrap_or_else(|| stage.clone()),
                    recorded: None,
                    rederived: Some(o.sha256.clone()),
                    status: Agreement::Differs,
                    details: vec![format!(
                        "`{}` is not in {against}: the stage is new or the record is incomplete",
                        o.path
                    )],
                });
            }
        }
    }
    Ok(Outcome {
        rows,
        against,
        seconds: t0.elapsed().as_secs_f64(),
        date: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
        run: crate::lockfile::RunInfo::current(&pipeline.root),
    })
}

/// A fresh workspace: the project's files only (pipeline.yaml, the SQL and the files stages
/// read), then the sources — the committed copy when it still passes its checksum (the
/// published bytes, whoever holds them), otherwise fetched afresh from a mirror or its URL.
fn workspace(pipeline: &Pipeline, opts: &Options) -> Result<tempfile::TempDir> {
    let work = tempfile::Builder::new()
        .prefix("canary-verify-")
        .tempdir()
        .map_err(|e| Error::io("create a temporary workspace in", std::env::temp_dir(), e))?;
    let root = work.path();
    let mut files: Vec<String> = vec![pipeline.relative(&pipeline.file).to_string()];
    for s in pipeline.stages.values() {
        files.extend(s.files.iter().cloned());
        files.extend(s.sql_file.iter().cloned());
    }
    files.sort();
    files.dedup();
    for f in &files {
        let from = pipeline.root.join(f);
        let to = root.join(f);
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent).map_err(|e| Error::io("create", parent, e))?;
        }
        std::fs::copy(&from, &to)
            .map_err(|e| Error::io("copy into the verify workspace", &from, e))?;
    }
    let mirrors = crate::fetch::mirrors(pipeline, opts.mirror.as_ref());
    for src in pipeline.sources.values() {
        let mut fresh = src.clone();
        fresh.path = root.join(&src.rel_path);
        match crate::fetch::verified_copy(src) {
            Some(bytes) => crate::fsio::write_atomic(&fresh.path, &bytes)?,
            None => {
                crate::fetch::fetch_one(&fresh, &mirrors)?;
            }
        }
    }
    Ok(work)
}

/// Every stage run afresh in the workspace at `root`: its pipeline and the lock it wrote.
fn rederive(
    pipeline: &Pipeline,
    registry: &Registry,
    overrides: &[(String, String)],
    opts: &Options,
    root: &std::path::Path,
) -> Result<(Pipeline, Lock)> {
    let file_name = pipeline
        .file
        .file_name()
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("pipeline.yaml"));
    let rel_file = pipeline.relative(&pipeline.file).to_string();
    let fresh = crate::pipeline::load_profile(
        &root.join(if rel_file.is_empty() {
            file_name
        } else {
            PathBuf::from(rel_file)
        }),
        registry,
        opts.profile.as_deref(),
        overrides,
    )?;
    Engine::new(&fresh, registry)?.run(&RunOptions {
        targets: vec![],
        force: true,
        dry_run: false,
        jobs: opts.jobs.max(1),
        quiet: true,
        verbose: false,
        memory: None,
    })?;
    let derived = Lock::read(&fresh.lock_path())?
        .ok_or_else(|| Error::data(fresh.lock_path(), "the re-derivation wrote no lock"))?;
    Ok((fresh, derived))
}

/// A source: the SHA-256 recorded against the one fetched now.
fn source_row(rec: &Recorded, derived: &Lock) -> Row {
    let now = derived.sources.get(&rec.table).map(|s| s.sha256.clone());
    let mut row = Row {
        stage: rec.stage.clone(),
        table: rec.table.clone(),
        recorded: Some(rec.sha256.clone()),
        rederived: now.clone(),
        status: Agreement::Identical,
        details: vec![],
    };
    if now.as_deref() != Some(rec.sha256.as_str()) {
        row.status = Agreement::Differs;
        row.details.push(format!(
            "source `{}` ({}) changed since the run: fetched now with a different SHA-256",
            rec.table, rec.path
        ));
    }
    row
}

/// What an output is compared with: the record, the re-derivation, the project's cache.
struct Compare<'a> {
    pipeline: &'a Pipeline,
    /// The record's own lock, for the definition then.
    lock: Option<&'a Lock>,
    fresh: &'a Pipeline,
    derived: &'a Lock,
    cache: crate::engine::cache::Cache,
    tolerance: Option<f64>,
}

impl Compare<'_> {
    /// An output: identical when the record, the file on disk and the re-derivation agree;
    /// otherwise why (the definition then and now, which hashes disagree) and how (cell by
    /// cell, or line by line for a page).
    fn output_row(&self, rec: &Recorded) -> Result<Row> {
        let new_rec = self.derived.stages.get(&rec.stage);
        let new_out = new_rec.and_then(|r| r.outputs.iter().find(|o| o.path == rec.path));
        let rederived = new_out.map(|o| o.sha256.clone());
        let on_disk_path = self.pipeline.root.join(&rec.path);
        let on_disk = if on_disk_path.is_file() {
            Some(crate::hash::sha256_file(&on_disk_path)?)
        } else {
            None
        };
        let mut row = Row {
            stage: rec.stage.clone(),
            table: rec.table.clone(),
            recorded: Some(rec.sha256.clone()),
            rederived: rederived.clone(),
            status: Agreement::Identical,
            details: vec![],
        };
        let disk_ok = on_disk.as_ref().is_none_or(|h| *h == rec.sha256);
        if rederived.as_deref() == Some(rec.sha256.as_str()) && disk_ok {
            return Ok(row);
        }
        if let (Some(then), Some(now)) = (self.lock.and_then(|l| l.stages.get(&rec.stage)), new_rec)
        {
            row.details
                .extend(causes(self.pipeline, &rec.stage, then, now));
        }
        match (&on_disk, &rederived) {
            (Some(d), Some(n)) if d != &rec.sha256 && d == n => row.details.push(format!(
                "the record was edited: `{}` on disk and its re-derivation agree, the record says otherwise",
                rec.path
            )),
            (Some(d), _) if d != &rec.sha256 => row.details.push(format!("`{}` on disk was modified after the run: it no longer matches the record", rec.path)),
            _ => {}
        }
        if rederived.is_none() {
            row.details
                .push("the re-derivation did not produce this output".into());
        }
        // A modified file on disk against its re-derivation, otherwise the recorded bytes
        // (still on disk, or kept in the project's cache) against it.
        let cached = self.cache.object_path(&rec.sha256);
        let compare_with = if on_disk.is_some() {
            Some(on_disk_path.clone())
        } else {
            cached.is_file().then_some(cached)
        };
        let mut within = false;
        let new_path = self.fresh.root.join(&rec.path);
        match (&compare_with, &new_out) {
            (Some(old), Some(_)) if rec.file => row.details.extend(diff_text(old, &new_path)),
            (Some(old), Some(_)) => {
                let diff = diff_tables(old, &new_path, self.tolerance)?;
                row.details.extend(diff.lines.clone());
                within = diff.within_tolerance && disk_ok && rederived.is_some();
            }
            (None, Some(_)) => row.details.push("the recorded output is neither on disk nor in the cache, so only hashes can be compared".into()),
            _ => {}
        }
        row.status = match (within, self.tolerance) {
            (true, Some(t)) => Agreement::WithinTolerance(t),
            _ => Agreement::Differs,
        };
        if row.details.is_empty() {
            row.details.push("the outputs differ though nothing in the definition changed: the computation is not deterministic (please report it)".into());
        }
        Ok(row)
    }
}

/// The outputs (and sources) the lock or crate records, in pipeline order.
fn recorded(
    pipeline: &Pipeline,
    registry: &Registry,
    opts: &Options,
) -> Result<(Vec<Recorded>, Option<Lock>, String)> {
    if let Some(c) = &opts.crate_file {
        let out = recorded_in_crate(pipeline, registry, c)?;
        // The crate carries no definitions; the lock beside the pipeline, if any, names causes.
        return Ok((
            out,
            Lock::read(&pipeline.lock_path())?,
            format!("the RO-Crate `{}`", c.display()),
        ));
    }
    let path = opts.lock.clone().unwrap_or_else(|| pipeline.lock_path());
    let lock = Lock::read(&path)?.ok_or_else(|| {
        Error::data(&path, "there is no lock to verify against")
            .with_hint("run `canary run` first, or name a lock with `--lock FILE`")
    })?;
    let mut out = Vec::new();
    for (name, s) in &lock.sources {
        out.push(Recorded {
            stage: "(source)".into(),
            table: name.clone(),
            path: s.path.clone(),
            sha256: s.sha256.clone(),
            file: false,
        });
    }
    for name in &pipeline.order {
        if let Some(r) = lock.stages.get(name) {
            for o in &r.outputs {
                let table = if o.file {
                    o.path.clone()
                } else {
                    o.table.clone().unwrap_or_else(|| name.clone())
                };
                out.push(Recorded {
                    stage: name.clone(),
                    table,
                    path: o.path.clone(),
                    sha256: o.sha256.clone(),
                    file: o.file,
                });
            }
        }
    }
    Ok((
        out,
        Some(lock),
        format!("the lock `{}`", pipeline.relative(&path)),
    ))
}

/// The sources and outputs an RO-Crate lists with their checksums, matched to this
/// pipeline's by their paths relative to the project.
fn recorded_in_crate(pipeline: &Pipeline, registry: &Registry, c: &Path) -> Result<Vec<Recorded>> {
    let text = std::fs::read_to_string(c).map_err(|e| Error::io("read the RO-Crate", c, e))?;
    let json: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| Error::data(c, format!("not JSON: {e}")))?;
    let parent = c
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let crate_dir = std::fs::canonicalize(parent)
        .map_err(|e| Error::io("open the RO-Crate's folder", parent, e))?;
    let sums = crate::report::rocrate::checksums(&json);
    let project_rel = |id: &str| -> Option<String> {
        let abs = normalise(&crate_dir.join(id));
        let root = normalise(&pipeline.root);
        abs.strip_prefix(&root)
            .ok()
            .map(|p| p.to_string_lossy().replace('\\', "/"))
    };
    let by_path: BTreeMap<String, String> = sums
        .iter()
        .filter_map(|(id, sha)| Some((project_rel(id)?, sha.clone())))
        .collect();
    let mut out = Vec::new();
    for (name, src) in &pipeline.sources {
        if let Some(sha) = by_path.get(&src.rel_path) {
            out.push(Recorded {
                stage: "(source)".into(),
                table: name.clone(),
                path: src.rel_path.clone(),
                sha256: sha.clone(),
                file: false,
            });
        }
    }
    for name in &pipeline.order {
        let stage = &pipeline.stages[name];
        for (table, path) in pipeline.output_paths(stage) {
            let rel = pipeline.relative(&path).to_string();
            if let Some(sha) = by_path.get(&rel) {
                out.push(Recorded {
                    stage: name.clone(),
                    table: table.unwrap_or_else(|| name.clone()),
                    path: rel,
                    sha256: sha.clone(),
                    file: false,
                });
            }
        }
        // The files the stage owns beside its tables, as the crate lists them.
        let owned = crate::engine::side::Owned::new(
            &registry
                .get(&stage.kind)
                .map(|k| k.side_outputs(stage))
                .unwrap_or_default(),
        );
        for (rel, sha) in by_path.iter().filter(|(rel, _)| owned.contains(rel)) {
            out.push(Recorded {
                stage: name.clone(),
                table: rel.clone(),
                path: rel.clone(),
                sha256: sha.clone(),
                file: true,
            });
        }
    }
    if out.is_empty() {
        return Err(
            Error::data(c, "the RO-Crate records no output of this pipeline")
                .with_hint("give the crate written beside this pipeline's report"),
        );
    }
    Ok(out)
}

fn normalise(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    out
}

/// What changed in a stage's definition between the recorded run and today.
fn causes(pipeline: &Pipeline, stage: &str, then: &StageRecord, now: &StageRecord) -> Vec<String> {
    let mut why = Vec::new();
    if then.kind != now.kind {
        why.push(format!(
            "its kind changed from `{}` to `{}`",
            then.kind, now.kind
        ));
    } else if then.kind_version != now.kind_version {
        why.push(format!(
            "canary's `{}` kind changed from version {} to {}",
            now.kind, then.kind_version, now.kind_version
        ));
    }
    why.extend(
        param_changes(&then.params, &now.params)
            .into_iter()
            .map(|c| format!("{c} since the run")),
    );
    if then.sql_sha256 != now.sql_sha256 {
        let through = param_changes(&then.sql_params, &now.sql_params);
        if through.is_empty() {
            why.push(
                match pipeline.stages.get(stage).and_then(|s| s.sql_file.clone()) {
                    Some(f) => format!("its SQL file `{f}` changed since the run"),
                    None => "its SQL changed since the run".into(),
                },
            );
        } else {
            why.extend(
                through
                    .into_iter()
                    .map(|t| format!("{t} since the run, changing its SQL")),
            );
        }
    }
    for (f, h) in &now.files {
        if then.files.get(f) != Some(h) {
            why.push(format!("project file `{f}` changed since the run"));
        }
    }
    for (i, h) in &now.inputs {
        if then.inputs.get(i).is_some_and(|old| old != h) {
            why.push(match pipeline.sources.get(i) {
                Some(s) => format!("source `{i}` ({}) changed since the run", s.rel_path),
                None => format!("its input stage `{i}` now produces different output"),
            });
        }
    }
    why
}

/// Write the verdict beside each report of the pipeline, as `verification.html` and
/// `verification.md`: a record of this verification, like the RO-Crate (rewritten too), and
/// not an output of any stage — the report pages themselves stay exactly what the `report`
/// stage wrote, which is what the verdict is about.
pub fn write_report_section(pipeline: &Pipeline, verdict: &Outcome) -> Result<Vec<PathBuf>> {
    let mut written = Vec::new();
    // The lock file keeps no host or git state: the crate takes the last run's from the run log.
    let lock = Lock::read(&pipeline.lock_path())?.map(|mut l| {
        if let Some(run) = crate::lockfile::RunLog::last_run_info(&pipeline.state_dir()) {
            l.run = run;
        }
        l
    });
    for stage in pipeline.stages.values().filter(|s| s.kind == "report") {
        let dir = pipeline.root.join(
            stage
                .params
                .get("out_dir")
                .and_then(|v| v.as_str())
                .unwrap_or("reports"),
        );
        for (file, text) in [
            (
                "verification.html",
                render_section(VERIFICATION_HTML, verdict)?,
            ),
            ("verification.md", render_section(VERIFICATION_MD, verdict)?),
        ] {
            let path = dir.join(file);
            crate::fsio::write_atomic(&path, text.as_bytes())?;
            written.push(path);
        }
        if let Some(l) = &lock {
            written.push(crate::report::rocrate::write(pipeline, l, &stage.name)?);
        }
    }
    if written.is_empty() {
        return Err(Error::usage("`--report` writes the verdict beside the pipeline's report, but the pipeline has no `report` stage"));
    }
    Ok(written)
}

fn header(v: &Outcome) -> String {
    format!(
        "Re-derived from the published files on {} by canary {} (DataFusion {}, Arrow {}) on {}/{}{}, against {}, in {:.1} s.",
        v.date,
        v.run.canary_version,
        v.run.datafusion_version,
        v.run.arrow_version,
        v.run.host_os,
        v.run.host_arch,
        v.run.git_commit.as_ref().map(|c| format!(", git commit {c}{}", if v.run.git_dirty == Some(true) { " (with uncommitted changes)" } else { "" })).unwrap_or_default(),
        v.against,
        v.seconds
    )
}

/// The verification pages, canary's own (not the report's templates, which the project owns):
/// `(template name, text)`. Tera escapes the HTML one.
const VERIFICATION_HTML: (&str, &str) = (
    "verification.html",
    include_str!("verify_templates/verification.html.tera"),
);
const VERIFICATION_MD: (&str, &str) = (
    "verification.md",
    include_str!("verify_templates/verification.md.tera"),
);

/// What the verification pages show of an outcome.
#[derive(serde::Serialize)]
struct Section<'a> {
    header: String,
    summary: String,
    rows: Vec<SectionRow<'a>>,
}

#[derive(serde::Serialize)]
struct SectionRow<'a> {
    stage: &'a str,
    table: &'a str,
    /// The first 16 hex digits, or `—`.
    recorded: String,
    rederived: String,
    verdict: String,
    details: &'a [String],
}

fn render_section((name, template): (&str, &str), v: &Outcome) -> Result<String> {
    let short = |x: &Option<String>| {
        x.as_deref()
            .map(|h| h.chars().take(16).collect::<String>())
            .unwrap_or_else(|| "—".into())
    };
    let section = Section {
        header: header(v),
        summary: v.summary(),
        rows: v
            .rows
            .iter()
            .map(|r| SectionRow {
                stage: &r.stage,
                table: &r.table,
                recorded: short(&r.recorded),
                rederived: short(&r.rederived),
                verdict: r.status_text(),
                details: &r.details,
            })
            .collect(),
    };
    let mut tera = tera::Tera::default();
    // Only the HTML page is escaped (by its `.html` name); the Markdown keeps its characters.
    tera.autoescape_on(vec![".html"]);
    let fail = |e: tera::Error| {
        Error::usage(format!(
            "the verification page `{name}` cannot be rendered: {e}"
        ))
        .with_hint("this is a bug in canary's verification template: please report it")
    };
    tera.add_raw_template(name, template).map_err(fail)?;
    let context = tera::Context::from_serialize(&section).map_err(fail)?;
    tera.render(name, &context).map_err(fail)
}

pub struct TableDiff {
    pub lines: Vec<String>,
    /// Same schema and rows, and every difference numeric and within the tolerance.
    pub within_tolerance: bool,
}

/// How two Parquet tables differ: schema, rows, and per column the cells that differ with the
/// largest absolute and relative difference.
/// How two versions of a file differ: the first lines that differ, numbered, for text; the
/// sizes for anything else.
pub fn diff_text(recorded: &Path, rederived: &Path) -> Vec<String> {
    let (Ok(a), Ok(b)) = (std::fs::read(recorded), std::fs::read(rederived)) else {
        return vec!["one of the two versions cannot be read".into()];
    };
    let (Ok(ta), Ok(tb)) = (std::str::from_utf8(&a), std::str::from_utf8(&b)) else {
        return vec![format!(
            "the files differ ({} and {} bytes, not text)",
            a.len(),
            b.len()
        )];
    };
    let (la, lb): (Vec<&str>, Vec<&str>) = (ta.lines().collect(), tb.lines().collect());
    let cut = |s: &str| {
        if s.chars().count() > 120 {
            format!("{}…", s.chars().take(120).collect::<String>())
        } else {
            s.to_string()
        }
    };
    let mut out = Vec::new();
    for i in 0..la.len().max(lb.len()) {
        let (x, y) = (la.get(i).copied(), lb.get(i).copied());
        if x != y {
            out.push(format!(
                "line {}: recorded `{}`, re-derived `{}`",
                i + 1,
                x.map(cut).unwrap_or_else(|| "(no line)".into()),
                y.map(cut).unwrap_or_else(|| "(no line)".into())
            ));
            if out.len() == 5 {
                break;
            }
        }
    }
    let differing = (0..la.len().max(lb.len()))
        .filter(|i| la.get(*i) != lb.get(*i))
        .count();
    if differing > out.len() {
        out.push(format!(
            "{} lines differ in all ({} recorded, {} re-derived)",
            differing,
            la.len(),
            lb.len()
        ));
    }
    out
}

pub fn diff_tables(recorded: &Path, rederived: &Path, tolerance: Option<f64>) -> Result<TableDiff> {
    let (sa, ba) = crate::table::read_parquet(recorded)?;
    let (sb, bb) = crate::table::read_parquet(rederived)?;
    let mut lines = Vec::new();
    let (fa, fb) = (
        crate::table::describe_schema(&sa),
        crate::table::describe_schema(&sb),
    );
    if fa != fb {
        let gone: Vec<&String> = fa.iter().filter(|c| !fb.contains(c)).collect();
        let new: Vec<&String> = fb.iter().filter(|c| !fa.contains(c)).collect();
        lines.push(format!(
            "schema differs: recorded has {} the re-derivation lacks; the re-derivation has {} the record lacks",
            if gone.is_empty() { "no column".to_string() } else { gone.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ") },
            if new.is_empty() { "no column".to_string() } else { new.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ") },
        ));
    }
    let concat =
        |s: &datafusion::arrow::datatypes::SchemaRef, b: &[RecordBatch]| -> Result<RecordBatch> {
            datafusion::arrow::compute::concat_batches(s, b)
                .map_err(|e| Error::data(recorded, e.to_string()))
        };
    let (a, b) = (concat(&sa, &ba)?, concat(&sb, &bb)?);
    if a.num_rows() != b.num_rows() {
        lines.push(format!(
            "row count differs: recorded {}, re-derived {}",
            a.num_rows(),
            b.num_rows()
        ));
    }
    let mut within = fa == fb && a.num_rows() == b.num_rows();
    let n = a.num_rows().min(b.num_rows());
    for field in sa.fields() {
        let Ok(j) = sb.index_of(field.name()) else {
            continue;
        };
        let (ca, cb) = (
            a.column(sa.index_of(field.name()).unwrap_or(0)),
            b.column(j),
        );
        let (cells, max_abs, max_rel, numeric, all_within) = diff_column(ca, cb, n, tolerance)?;
        if cells > 0 {
            within &= all_within;
            let mut l = format!("column `{}`: {cells} of {n} cells differ", field.name());
            if numeric {
                l.push_str(&format!(
                    "; largest difference {max_abs:e} absolute, {max_rel:e} relative"
                ));
            }
            lines.push(l);
        }
    }
    Ok(TableDiff {
        lines,
        within_tolerance: within && tolerance.is_some(),
    })
}

/// Cells that differ, the largest absolute and relative difference among them, whether the
/// column is numeric, and whether every difference is within the tolerance (never, without
/// one or for text).
fn diff_column(
    a: &ArrayRef,
    b: &ArrayRef,
    n: usize,
    tolerance: Option<f64>,
) -> Result<(usize, f64, f64, bool, bool)> {
    let numeric = a.data_type().is_numeric() && b.data_type().is_numeric();
    let err = |e: datafusion::arrow::error::ArrowError| Error::data("verify", e.to_string());
    if numeric {
        let (fa, fb) = (
            cast(a, &DataType::Float64).map_err(err)?,
            cast(b, &DataType::Float64).map_err(err)?,
        );
        let fa = fa
            .as_any()
            .downcast_ref::<datafusion::arrow::array::Float64Array>()
            .expect("cast to f64");
        let fb = fb
            .as_any()
            .downcast_ref::<datafusion::arrow::array::Float64Array>()
            .expect("cast to f64");
        let (mut cells, mut max_abs, mut max_rel, mut beyond) = (0, 0.0f64, 0.0f64, 0);
        for i in 0..n {
            let (x, y) = (
                fa.is_valid(i).then(|| fa.value(i)),
                fb.is_valid(i).then(|| fb.value(i)),
            );
            match (x, y) {
                (Some(x), Some(y)) if x.to_bits() != y.to_bits() && !(x.is_nan() && y.is_nan()) => {
                    cells += 1;
                    let d = (x - y).abs();
                    let rel = d / x.abs().max(y.abs());
                    max_abs = max_abs.max(d);
                    max_rel = max_rel.max(rel);
                    if tolerance.is_none_or(|t| !(d <= t || rel <= t)) {
                        beyond += 1;
                    }
                }
                (None, None) => {}
                (Some(_), Some(_)) => {}
                _ => {
                    cells += 1;
                    beyond += 1;
                    max_abs = f64::INFINITY;
                    max_rel = f64::INFINITY;
                }
            }
        }
        return Ok((
            cells,
            max_abs,
            max_rel,
            true,
            tolerance.is_some() && beyond == 0,
        ));
    }
    let (sa, sb) = (
        cast(a, &DataType::Utf8).map_err(err)?,
        cast(b, &DataType::Utf8).map_err(err)?,
    );
    let sa = sa
        .as_any()
        .downcast_ref::<datafusion::arrow::array::StringArray>()
        .expect("cast to utf8");
    let sb = sb
        .as_any()
        .downcast_ref::<datafusion::arrow::array::StringArray>()
        .expect("cast to utf8");
    let cells = (0..n)
        .filter(|&i| (sa.is_valid(i).then(|| sa.value(i))) != (sb.is_valid(i).then(|| sb.value(i))))
        .count();
    Ok((cells, 0.0, 0.0, false, false))
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{Float64Array, StringArray};
    use std::sync::Arc;

    fn write(dir: &Path, name: &str, v: Vec<f64>, s: Vec<&str>) -> PathBuf {
        use datafusion::arrow::datatypes::{Field, Schema};
        let schema = Arc::new(Schema::new(vec![
            Field::new("s", DataType::Utf8, false),
            Field::new("v", DataType::Float64, false),
        ]));
        let b = RecordBatch::try_new(
            schema.clone(),
            vec![
                Arc::new(StringArray::from(s)),
                Arc::new(Float64Array::from(v)),
            ],
        )
        .unwrap();
        let dest = dir.join(name);
        let w = crate::table::write_temp(&dest, &schema, &[b], true).unwrap();
        crate::fsio::commit(&w.temp, &dest).unwrap();
        dest
    }

    #[test]
    fn differences_are_counted_per_column_and_judged_against_the_tolerance() {
        let d = tempfile::tempdir().unwrap();
        let a = write(
            d.path(),
            "a.parquet",
            vec![1.0, 2.0, 3.0],
            vec!["x", "y", "z"],
        );
        let b = write(
            d.path(),
            "b.parquet",
            vec![1.0, 2.0 + 1e-12, 3.5],
            vec!["x", "y", "z"],
        );
        let diff = diff_tables(&a, &b, None).unwrap();
        assert_eq!(diff.lines.len(), 1, "{:?}", diff.lines);
        assert!(
            diff.lines[0]
                .starts_with("column `v`: 2 of 3 cells differ; largest difference 5e-1 absolute"),
            "{}",
            diff.lines[0]
        );
        assert!(!diff.within_tolerance);
        // 0.5 is beyond 1e-9; only the 1e-12 difference is within it.
        assert!(!diff_tables(&a, &b, Some(1e-9)).unwrap().within_tolerance);
        let c = write(
            d.path(),
            "c.parquet",
            vec![1.0, 2.0 + 1e-12, 3.0],
            vec!["x", "y", "z"],
        );
        assert!(diff_tables(&a, &c, Some(1e-9)).unwrap().within_tolerance);
        let e = write(
            d.path(),
            "e.parquet",
            vec![1.0, 2.0, 3.0],
            vec!["x", "Y", "z"],
        );
        let diff = diff_tables(&a, &e, Some(1e-9)).unwrap();
        assert_eq!(
            diff.lines,
            vec!["column `s`: 1 of 3 cells differ".to_string()]
        );
        assert!(
            !diff.within_tolerance,
            "a text difference is never within a tolerance"
        );
        let f = write(d.path(), "f.parquet", vec![1.0, 2.0], vec!["x", "y"]);
        assert!(diff_tables(&a, &f, None)
            .unwrap()
            .lines
            .iter()
            .any(|l| l == "row count differs: recorded 3, re-derived 2"));
    }

    #[test]
    fn paths_are_normalised_without_touching_the_disk() {
        assert_eq!(
            normalise(Path::new("/p/reports/../out/x.parquet")),
            PathBuf::from("/p/out/x.parquet")
        );
    }
}
