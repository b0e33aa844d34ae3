//! `script`: a stage in any language. canary runs the declared command — an argv, without a
//! shell — in a scratch folder, hands it its inputs and params through the environment, and
//! takes back the tables it writes, checked and rewritten canonically under `out/`, so that
//! downstream stages, `canary sql` and `verify` treat them as any kind's tables.
//!
//! The contract (README, "Stages in any language"):
//! * `CANARY_IN_<NAME>`: the path of each input (a multi-table stage's tables as
//!   `CANARY_IN_<STAGE>_<TABLE>`), in `input_format` (Parquet by default, or CSV);
//! * `CANARY_OUT_<TABLE>`: where to write each declared output, its extension following
//!   `output_format` (CSV by default); `CANARY_SIDE`: a folder for the plain files declared as
//!   `side_outputs` (kept as `out/<stage>/<file>`);
//! * `CANARY_PARAMS`: the stage's params as JSON; `CANARY_STAGE`: its name.
//!
//! The environment holds only `PATH`, `HOME`, `LANG`, `LC_ALL`, `TZ`, `TMPDIR` (inside the
//! scratch folder) and the variables the stage declares in `env:`, whose values are part of
//! its cache key, as are the command, the content of `files:` and of a project file the
//! command names, and the interpreter's `--version`. Outputs are taken only after the command
//! exits 0 within `timeout`, every declared output exists and parses, and the project's own
//! files (`raw/`, `stages/`, `pipeline.yaml`) are as they were.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use datafusion::arrow::array::{BooleanArray, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::arrow::record_batch::RecordBatch;

use crate::error::{Error, Result};
use crate::pipeline::KindSpec;
use crate::pipeline::{DataFormat, Script as Contract, Stage};
use crate::stage::{Input, OutputTable, StageContext, StageKind};

pub struct Script;

/// How many lines of the command's stderr an error shows.
const STDERR_TAIL: usize = 20;

impl KindSpec for Script {
    fn open_params(&self) -> bool {
        true
    }

    fn tables(&self, stage: &Stage) -> Vec<String> {
        let outputs = stage
            .script
            .as_ref()
            .map(|s| s.outputs.clone())
            .unwrap_or_default();
        if outputs == [stage.name.clone()] {
            return Vec::new();
        }
        outputs
            .into_iter()
            .map(|o| if o == stage.name { String::new() } else { o })
            .collect()
    }
}

impl StageKind for Script {
    fn name(&self) -> &'static str {
        "script"
    }

    fn version(&self) -> u32 {
        1
    }

    fn describe(&self) -> &'static str {
        "a command in any language (R, Python, shell) that reads its inputs and writes declared tables"
    }

    fn side_outputs(&self, stage: &Stage) -> Vec<String> {
        let mut out = vec![log_path(stage)];
        if let Some(s) = &stage.script {
            out.extend(
                s.side_outputs
                    .iter()
                    .map(|f| format!("out/{}/{f}", stage.name)),
            );
        }
        out
    }

    fn identity(&self, stage: &Stage) -> BTreeMap<String, String> {
        let Some(s) = &stage.script else {
            return BTreeMap::new();
        };
        let mut id = BTreeMap::new();
        id.insert(
            "command".to_string(),
            serde_json::to_string(&s.argv).unwrap_or_default(),
        );
        for v in &s.env {
            id.insert(
                format!("environment variable {v}"),
                std::env::var(v).unwrap_or_else(|_| "(unset)".into()),
            );
        }
        if let Some(program) = s.argv.first() {
            id.insert(format!("interpreter {program}"), interpreter(program));
        }
        for tool in &s.requires {
            id.insert(
                format!("required tool {tool}"),
                if on_path(tool).is_some() {
                    "present".into()
                } else {
                    "absent".into()
                },
            );
        }
        id
    }

    fn run(&self, ctx: &StageContext) -> Result<Vec<OutputTable>> {
        let s = ctx
            .stage
            .script
            .as_ref()
            .ok_or_else(|| ctx.fail("has no command"))?;
        let missing: Vec<&String> = s.requires.iter().filter(|t| on_path(t).is_none()).collect();
        if let Some(first) = missing.first() {
            let what = missing
                .iter()
                .map(|t| format!("`{t}`"))
                .collect::<Vec<_>>()
                .join(", ");
            if s.optional {
                let reason = format!("{what} is not installed");
                ctx.note(format!("skipped: {reason}; the stage is optional, its tables say so, and it runs once it is installed"));
                return Ok(skipped(ctx, s, &reason));
            }
            return Err(ctx
                .fail(format!("needs {what}, which is not on PATH"))
                .with_hint(format!("install {first} (e.g. Debian's r-base-core for Rscript), or mark the stage `optional: true` to skip it when absent")));
        }
        let scratch = Scratch::new(ctx)?;
        let mut cmd = scratch.command(ctx, s)?;
        let before = Snapshot::of(&ctx.pipeline.root);
        let (status, stdout, stderr, elapsed) = run_with_timeout(ctx, &mut cmd, s.timeout)?;
        write_log(ctx, &stdout, &stderr)?;
        let changed = Snapshot::of(&ctx.pipeline.root).changed_since(&before, &ctx.pipeline.root);
        if !changed.is_empty() {
            return Err(ctx
                .fail(format!("its command wrote into the project: {} changed", changed.join(", ")))
                .with_hint("a script writes only to the paths in CANARY_OUT_<TABLE> and CANARY_SIDE; its outputs were not taken (check the changed files with git)"));
        }
        if !status.success() {
            let code = status
                .code()
                .map(|c| format!("exit status {c}"))
                .unwrap_or_else(|| "killed by a signal".into());
            return Err(ctx
                .fail(format!(
                    "its command `{}` failed ({code}) after {:.1}s{}",
                    s.argv.join(" "),
                    elapsed.as_secs_f64(),
                    tail(&stderr)
                ))
                .with_hint(format!(
                    "the whole output is in {}; nothing of the stage was written",
                    log_path(ctx.stage)
                )));
        }
        let tables = scratch.outputs(ctx, s)?;
        scratch.side_files(ctx, s)?;
        Ok(tables)
    }
}

/// An output named like its stage is the stage's main table (`out/<stage>.parquet`).
fn table_name(stage: &Stage, output: &str) -> Option<String> {
    (output != stage.name).then(|| output.to_string())
}

fn log_path(stage: &Stage) -> String {
    // Cells of a sweep have brackets and commas in their names: a file name keeps it plain.
    let name: String = stage
        .name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '=' || c == '.' {
                c
            } else {
                '_'
            }
        })
        .collect();
    format!(".canary/logs/{name}.log")
}

/// The last lines of stderr, for an error message.
fn tail(stderr: &str) -> String {
    let lines: Vec<&str> = stderr.lines().collect();
    if lines.is_empty() {
        return "; it wrote nothing to stderr".into();
    }
    let from = lines.len().saturating_sub(STDERR_TAIL);
    format!(
        "; the last lines of its stderr:\n    {}",
        lines[from..].join("\n    ")
    )
}

/// The first line of `program --version` (stdout, else stderr: Rscript prints it there), once
/// per program and process.
fn interpreter(program: &str) -> String {
    static SEEN: OnceLock<Mutex<BTreeMap<String, String>>> = OnceLock::new();
    let seen = SEEN.get_or_init(|| Mutex::new(BTreeMap::new()));
    if let Some(v) = seen.lock().unwrap_or_else(|p| p.into_inner()).get(program) {
        return v.clone();
    }
    let version = match Command::new(program)
        .arg("--version")
        .stdin(Stdio::null())
        .output()
    {
        Ok(o) => {
            let text = format!(
                "{}\n{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            );
            text.lines()
                .map(str::trim)
                .find(|l| !l.is_empty())
                .unwrap_or("(no version)")
                .to_string()
        }
        Err(_) => "(not found)".to_string(),
    };
    seen.lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(program.to_string(), version.clone());
    version
}

/// The file a program name resolves to on PATH (or itself when it has a `/`).
fn on_path(program: &str) -> Option<PathBuf> {
    if program.contains('/') {
        return Path::new(program).is_file().then(|| PathBuf::from(program));
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join(program))
            .find(|p| p.is_file())
    })
}

/// An optional stage whose tool is absent: each declared table holds one row saying so, which
/// the report prints; its key records the tool as absent, so it runs once the tool is there.
fn skipped(ctx: &StageContext, s: &Contract, reason: &str) -> Vec<OutputTable> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("skipped", DataType::Boolean, false),
        Field::new("reason", DataType::Utf8, false),
    ]));
    let batch = RecordBatch::try_new(
        Arc::clone(&schema),
        vec![
            Arc::new(BooleanArray::from(vec![true])),
            Arc::new(StringArray::from(vec![reason])),
        ],
    )
    .expect("a fixed two-column row");
    let _ = write_log(ctx, "", &format!("skipped: {reason}\n"));
    s.outputs
        .iter()
        .map(|o| OutputTable {
            name: table_name(ctx.stage, o),
            schema: Arc::clone(&schema),
            batches: vec![batch.clone()],
            ordered: true,
            written: None,
        })
        .collect()
}

fn write_log(ctx: &StageContext, stdout: &str, stderr: &str) -> Result<()> {
    let path = ctx.side_path(&log_path(ctx.stage));
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| Error::io("create the log folder", dir, e))?;
    }
    let text = format!("== stdout ==\n{stdout}\n== stderr ==\n{stderr}");
    std::fs::write(&path, text).map_err(|e| Error::io("write the log", &path, e))
}

/// The scratch folder a command runs in: inputs handed over, outputs and side files taken back.
struct Scratch {
    dir: tempfile::TempDir,
}

impl Scratch {
    fn new(ctx: &StageContext) -> Result<Scratch> {
        let parent = ctx.pipeline.state_dir().join("tmp");
        std::fs::create_dir_all(&parent).map_err(|e| Error::io("create", &parent, e))?;
        let dir = tempfile::Builder::new()
            .prefix("script-")
            .tempdir_in(&parent)
            .map_err(|e| Error::io("create a scratch folder in", &parent, e))?;
        for sub in ["in", "out", "side", "tmp"] {
            std::fs::create_dir_all(dir.path().join(sub))
                .map_err(|e| Error::io("create", dir.path().join(sub), e))?;
        }
        Ok(Scratch { dir })
    }

    fn command(&self, ctx: &StageContext, s: &Contract) -> Result<Command> {
        let root = &ctx.pipeline.root;
        // A project file the command names is passed by its absolute path: the command runs
        // in the scratch folder.
        let argv: Vec<String> = s
            .argv
            .iter()
            .map(|a| {
                if ctx.stage.files.contains(a) {
                    root.join(a).to_string_lossy().into_owned()
                } else {
                    a.clone()
                }
            })
            .collect();
        let mut cmd = Command::new(&argv[0]);
        cmd.args(&argv[1..])
            .current_dir(self.dir.path())
            .env_clear()
            .stdin(Stdio::null());
        for v in ["PATH", "HOME", "LANG", "LC_ALL", "TZ"] {
            if let Some(val) = std::env::var_os(v) {
                cmd.env(v, val);
            }
        }
        for v in &s.env {
            if let Some(val) = std::env::var_os(v) {
                cmd.env(v, val);
            }
        }
        cmd.env("TMPDIR", self.dir.path().join("tmp"));
        cmd.env("CANARY_STAGE", &ctx.stage.name);
        cmd.env(
            "CANARY_PARAMS",
            serde_json::to_string(&ctx.stage.params).unwrap_or_else(|_| "{}".into()),
        );
        cmd.env("CANARY_SIDE", self.dir.path().join("side"));
        for (name, input) in &ctx.inputs {
            match input {
                Input::Source { path } => {
                    // A copy: the command must not be able to change a published file.
                    let ext = path
                        .extension()
                        .map(|e| e.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    let dest = self.dir.path().join("in").join(if ext.is_empty() {
                        name.clone()
                    } else {
                        format!("{name}.{ext}")
                    });
                    std::fs::copy(path, &dest).map_err(|e| Error::io("copy the input", path, e))?;
                    cmd.env(var("CANARY_IN", name, None), dest);
                }
                Input::Stage { tables } => {
                    for (table, path) in tables {
                        let handed =
                            self.hand_over(ctx, name, table.as_deref(), path, s.input_format)?;
                        cmd.env(var("CANARY_IN", name, table.as_deref()), handed);
                    }
                }
            }
        }
        for o in &s.outputs {
            cmd.env(
                var("CANARY_OUT", o, None),
                self.output_path(o, s.output_format),
            );
        }
        Ok(cmd)
    }

    /// A copy of an upstream table in the scratch folder, in the format the script reads.
    fn hand_over(
        &self,
        ctx: &StageContext,
        input: &str,
        table: Option<&str>,
        path: &Path,
        format: DataFormat,
    ) -> Result<PathBuf> {
        let name = crate::pipeline::Pipeline::sql_table_name(input, table);
        let dest = self
            .dir
            .path()
            .join("in")
            .join(format!("{name}.{}", format.extension()));
        match format {
            DataFormat::Parquet => std::fs::copy(path, &dest)
                .map(|_| ())
                .map_err(|e| Error::io("copy the input", path, e))?,
            DataFormat::Csv => {
                let (_, batches) = ctx.read_table(input, table)?;
                let file =
                    std::fs::File::create(&dest).map_err(|e| Error::io("create", &dest, e))?;
                let mut w = datafusion::arrow::csv::WriterBuilder::new()
                    .with_header(true)
                    .build(file);
                for b in &batches {
                    w.write(b).map_err(|e| {
                        Error::data(&dest, format!("cannot write the input as CSV: {e}"))
                    })?;
                }
            }
        }
        Ok(dest)
    }

    fn output_path(&self, table: &str, format: DataFormat) -> PathBuf {
        self.dir
            .path()
            .join("out")
            .join(format!("{table}.{}", format.extension()))
    }

    /// Each declared output, read and checked.
    fn outputs(&self, ctx: &StageContext, s: &Contract) -> Result<Vec<OutputTable>> {
        let mut out = Vec::new();
        for o in &s.outputs {
            let path = self.output_path(o, s.output_format);
            if !path.is_file() {
                return Err(ctx
                    .fail(format!(
                        "its command exited 0 but did not write its output `{o}`"
                    ))
                    .with_hint(format!(
                        "the script must write the table to the path in CANARY_OUT_{} ({} format)",
                        o.to_ascii_uppercase(),
                        s.output_format.extension()
                    )));
            }
            let (schema, batches) = match s.output_format {
                DataFormat::Parquet => crate::table::read_parquet(&path),
                DataFormat::Csv => read_csv(&path),
            }
            .map_err(|e| {
                ctx.fail(format!(
                    "its output `{o}` is not a readable {} table: {}",
                    s.output_format.extension(),
                    e.headline()
                ))
            })?;
            if schema.fields().is_empty() {
                return Err(ctx
                    .fail(format!("its output `{o}` has no columns"))
                    .with_hint("write a header line (CSV) or a schema (Parquet)"));
            }
            out.push(OutputTable {
                name: table_name(ctx.stage, o),
                schema,
                batches,
                ordered: false,
                written: None,
            });
        }
        Ok(out)
    }

    /// The plain files the script made, into the stage's staging folder.
    fn side_files(&self, ctx: &StageContext, s: &Contract) -> Result<()> {
        for f in &s.side_outputs {
            let from = self.dir.path().join("side").join(f);
            if !from.is_file() {
                return Err(ctx
                    .fail(format!("its command did not write its side output `{f}`"))
                    .with_hint("write it into the folder in CANARY_SIDE"));
            }
            let to = ctx.side_path(&format!("out/{}/{f}", ctx.stage.name));
            if let Some(dir) = to.parent() {
                std::fs::create_dir_all(dir).map_err(|e| Error::io("create", dir, e))?;
            }
            std::fs::copy(&from, &to).map_err(|e| Error::io("keep the side output", &from, e))?;
        }
        Ok(())
    }
}

/// A script's CSV output as a table: header required, types inferred from every row by
/// arrow's CSV reader (as DataFusion infers a CSV source's), empty fields null.
fn read_csv(path: &Path) -> Result<(datafusion::arrow::datatypes::SchemaRef, Vec<RecordBatch>)> {
    use datafusion::arrow::csv::reader::{Format, ReaderBuilder};
    let open = || std::fs::File::open(path).map_err(|e| Error::io("read", path, e));
    let format = Format::default().with_header(true);
    let (schema, _) = format
        .infer_schema(open()?, None)
        .map_err(|e| Error::data(path, e.to_string()))?;
    let schema = Arc::new(schema);
    let reader = ReaderBuilder::new(Arc::clone(&schema))
        .with_format(format)
        .with_batch_size(64 * 1024)
        .build(open()?)
        .map_err(|e| Error::data(path, e.to_string()))?;
    let batches = reader
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| Error::data(path, e.to_string()))?;
    Ok((schema, batches))
}

/// `CANARY_IN_PANEL_WIDE`, `CANARY_OUT_RANKS`.
fn var(prefix: &str, name: &str, table: Option<&str>) -> String {
    let mut v = format!("{prefix}_{}", name.to_ascii_uppercase());
    if let Some(t) = table {
        v.push('_');
        v.push_str(&t.to_ascii_uppercase());
    }
    v
}

/// Run to completion or to the timeout, reading stdout and stderr as they come (a pipe that
/// fills would otherwise stall the command).
fn run_with_timeout(
    ctx: &StageContext,
    cmd: &mut Command,
    timeout: Option<Duration>,
) -> Result<(std::process::ExitStatus, String, String, Duration)> {
    let program = cmd.get_program().to_string_lossy().into_owned();
    // Its own process group, so that a timeout stops what it started too (a shell's `sleep`,
    // R's workers), not only the process canary started.
    std::os::unix::process::CommandExt::process_group(cmd, 0);
    let mut child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().map_err(|e| {
        let hint = if e.kind() == std::io::ErrorKind::NotFound {
            format!("`{program}` is not on PATH: install it, or write the command with the program's full path")
        } else {
            "check the stage's `command`".to_string()
        };
        ctx.fail(format!("cannot start its command `{program}`: {e}")).with_hint(hint)
    })?;
    let reader = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = r.read_to_end(&mut buf);
            String::from_utf8_lossy(&buf).into_owned()
        })
    };
    let out = reader(Box::new(child.stdout.take().expect("piped")));
    let err = reader(Box::new(child.stderr.take().expect("piped")));
    let t0 = Instant::now();
    // A thread waits for the command; this one waits for it or for the timeout, whichever comes
    // first — no polling, so a quick command costs no more than its own run.
    let pid = child.id();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait());
    });
    let waited = match timeout {
        Some(t) => rx.recv_timeout(t).ok(),
        None => rx.recv().ok(),
    };
    let status = match waited {
        Some(s) => s.map_err(|e| ctx.fail(format!("cannot wait for its command: {e}")))?,
        None => {
            // Its whole process group, so what it started stops too.
            let _ = Command::new("kill")
                .args(["-KILL", "--", &format!("-{pid}")])
                .stderr(Stdio::null())
                .status();
            let _ = rx.recv();
            let stderr = err.join().unwrap_or_default();
            let t = timeout.unwrap_or_default();
            return Err(ctx
                .fail(format!("its command `{program}` did not finish within its timeout of {}{}", humantime::format_duration(t), tail(&stderr)))
                .with_hint("raise `timeout:` if it needs longer; it was stopped and nothing of the stage was written"));
        }
    };
    Ok((
        status,
        out.join().unwrap_or_default(),
        err.join().unwrap_or_default(),
        t0.elapsed(),
    ))
}

/// The project's own files as they stand (`raw/`, `stages/`, `pipeline.yaml`): size, times and
/// inode, so a write by a command is seen without reading every file.
struct Snapshot(BTreeMap<PathBuf, (u64, i128, i128, u64)>);

impl Snapshot {
    fn of(root: &Path) -> Snapshot {
        use std::os::unix::fs::MetadataExt;
        let mut m = BTreeMap::new();
        let mut files = crate::fsio::walk(&root.join("raw"));
        files.extend(crate::fsio::walk(&root.join("stages")));
        files.push(root.join("pipeline.yaml"));
        for f in files {
            if let Ok(md) = std::fs::symlink_metadata(&f) {
                let t = |s: i64, ns: i64| s as i128 * 1_000_000_000 + ns as i128;
                m.insert(
                    f,
                    (
                        md.len(),
                        t(md.mtime(), md.mtime_nsec()),
                        t(md.ctime(), md.ctime_nsec()),
                        md.ino(),
                    ),
                );
            }
        }
        Snapshot(m)
    }

    /// The files added, removed or changed since `before`, relative to the project.
    fn changed_since(&self, before: &Snapshot, root: &Path) -> Vec<String> {
        let rel = |p: &Path| format!("`{}`", p.strip_prefix(root).unwrap_or(p).display());
        let mut out: Vec<String> = Vec::new();
        for (p, v) in &self.0 {
            match before.0.get(p) {
                None => out.push(format!("{} (added)", rel(p))),
                Some(old) if old != v => out.push(rel(p)),
                _ => {}
            }
        }
        for p in before.0.keys().filter(|p| !self.0.contains_key(*p)) {
            out.push(format!("{} (removed)", rel(p)));
        }
        out
    }
}
