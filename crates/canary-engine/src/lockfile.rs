//! `pipeline.lock`: what produced each output, for a reviewer to read and for `status` to diff
//! against. YAML with every map sorted and nothing in it that changes when the outputs do not:
//! a run that changes nothing leaves the file byte for byte as it was (and does not rewrite
//! it). A stage's `started`/`duration_ms` are those of the run that made its recorded outputs;
//! what each run did and when, on which host and git commit, is in the run log
//! (`.canary/runs.jsonl`, [`RunLog`]), which is not committed.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

pub const LOCK_VERSION: u32 = 1;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lock {
    pub version: u32,
    pub pipeline: String,
    #[serde(serialize_with = "versions_only")]
    pub run: RunInfo,
    #[serde(default)]
    pub sources: BTreeMap<String, SourceRecord>,
    #[serde(default)]
    pub stages: BTreeMap<String, StageRecord>,
}

/// The run: canary's and its engine's versions, the host and the git state. The lock file
/// keeps the versions only ([`versions_only`]): the git commit, the dirty flag and the host
/// change with every commit and machine while the outputs do not. They are filled in memory
/// for the run's own report and RO-Crate, and written to the run log; an older lock that has
/// them still reads.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunInfo {
    #[serde(default)]
    pub git_commit: Option<String>,
    #[serde(default)]
    pub git_dirty: Option<bool>,
    #[serde(default)]
    pub host_os: String,
    #[serde(default)]
    pub host_arch: String,
    pub canary_version: String,
    pub datafusion_version: String,
    pub arrow_version: String,
}

/// The part of [`RunInfo`] that the lock file records.
fn versions_only<S: serde::Serializer>(
    run: &RunInfo,
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    struct Versions<'a> {
        canary_version: &'a str,
        datafusion_version: &'a str,
        arrow_version: &'a str,
    }
    Versions {
        canary_version: &run.canary_version,
        datafusion_version: &run.datafusion_version,
        arrow_version: &run.arrow_version,
    }
    .serialize(s)
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceRecord {
    pub path: String,
    pub sha256: String,
    pub bytes: u64,
    /// The source lies outside the project, by the user's explicit `external: true`.
    #[serde(default, skip_serializing_if = "is_false")]
    pub external: bool,
}

fn is_false(b: &bool) -> bool {
    !*b
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StageRecord {
    pub kind: String,
    pub kind_version: u32,
    pub key: String,
    pub params: BTreeMap<String, serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sql_sha256: Option<String>,
    /// Global params substituted into the SQL, with their values.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub sql_params: BTreeMap<String, serde_json::Value>,
    /// Input name → content hash.
    pub inputs: BTreeMap<String, String>,
    /// Project files the stage read (path → SHA-256).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub files: BTreeMap<String, String>,
    /// A kind's further identity (a script's command, environment, interpreter).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub identity: BTreeMap<String, String>,
    pub outputs: Vec<OutputRecord>,
    /// When the run that made these outputs started, and how long the stage took then.
    pub started: String,
    pub duration_ms: u64,
}

/// One output table as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutputRecord {
    /// Table name for multi-table stages.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table: Option<String>,
    /// Relative to the project root.
    pub path: String,
    pub sha256: String,
    pub rows: usize,
    pub bytes: u64,
    /// `name: type` per column. The lock leaves it out for a sweep's cells, whose tables all
    /// have the schema of their stacked table (recorded once, there).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub schema: Vec<String>,
    /// A file beside the tables (a report page), not a table: `rows` and `schema` are empty.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub file: bool,
}

impl StageRecord {
    /// Whether two records describe the same outputs made from the same definition (their
    /// times aside).
    pub fn same_outputs(&self, other: &StageRecord) -> bool {
        self.key == other.key && self.outputs == other.outputs
    }
}

/// What to do about a lock that cannot be read.
pub const LOCK_HINT: &str =
    "the lock is written by `canary run`: delete it, or run `canary run --force`, to rebuild it";

impl Lock {
    /// The lock at `path`, None when there is none. A lock that is not text or not a lock
    /// (damaged, half-merged, edited) is an error naming the file and, where it can, the line.
    pub fn read(path: &Path) -> Result<Option<Lock>> {
        let bytes = match std::fs::read(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io("read", path, e).with_hint(LOCK_HINT)),
        };
        let text = String::from_utf8(bytes).map_err(|e| {
            let at = e.utf8_error().valid_up_to();
            let line = e.as_bytes()[..at].iter().filter(|b| **b == b'\n').count() + 1;
            Error::Data {
                file: path.to_path_buf(),
                line: Some(line),
                column: None,
                message: format!("the lock is not text (a byte that is not UTF-8 at byte {at})"),
                hint: Some(LOCK_HINT.into()),
                location: None,
            }
        })?;
        let lock: Lock = canary_yaml::from_str(&text).map_err(|e| Error::Data {
            file: path.to_path_buf(),
            line: e.line,
            column: None,
            message: format!(
                "the lock cannot be read: {}",
                e.message.split(" at line ").next().unwrap_or_default()
            ),
            hint: Some(LOCK_HINT.into()),
            location: None,
        })?;
        Ok(Some(lock))
    }

    /// As [`Lock::read`], but a damaged lock is treated as absent, with the warning that says
    /// so: the cache, not the lock, decides what runs, so nothing is lost but the reasons
    /// `status` gives.
    pub fn read_or_warn(path: &Path) -> (Option<Lock>, Option<String>) {
        match Lock::read(path) {
            Ok(l) => (l, None),
            Err(e) => (
                None,
                Some(format!(
                    "warning: {}; treating it as absent (the cache still decides what runs; `canary run` rewrites it). To silence this: delete it, or run `canary run --force`",
                    e.headline()
                )),
            ),
        }
    }

    pub fn render(&self) -> String {
        let mut text = String::from(
            "# Written by `canary run`: what produced each output. Do not edit; `canary verify` re-derives it.\n",
        );
        text.push_str(&canary_yaml::to_string(self));
        text
    }

    /// Write the lock, unless the file already holds exactly these bytes (a run that changed
    /// nothing does not touch it).
    pub fn write(&self, path: &Path) -> Result<()> {
        let text = self.render();
        if std::fs::read(path).is_ok_and(|old| old == text.as_bytes()) {
            return Ok(());
        }
        crate::fsio::write_atomic(path, text.as_bytes())
    }
}

impl RunInfo {
    pub fn current(root: &Path) -> RunInfo {
        let git = |args: &[&str]| -> Option<String> {
            let out = std::process::Command::new("git")
                .args(args)
                .current_dir(root)
                .stderr(std::process::Stdio::null())
                .output()
                .ok()?;
            out.status
                .success()
                .then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
        };
        let git_commit = git(&["rev-parse", "HEAD"]);
        let git_dirty = git_commit
            .as_ref()
            .and_then(|_| git(&["status", "--porcelain", "--untracked-files=no"]))
            .map(|s| !s.is_empty());
        RunInfo {
            git_commit,
            git_dirty,
            host_os: std::env::consts::OS.to_string(),
            host_arch: std::env::consts::ARCH.to_string(),
            ..RunInfo::current_versions()
        }
    }

    /// The versions alone (what the lock file records).
    pub fn current_versions() -> RunInfo {
        RunInfo {
            git_commit: None,
            git_dirty: None,
            host_os: String::new(),
            host_arch: String::new(),
            canary_version: env!("CARGO_PKG_VERSION").to_string(),
            datafusion_version: datafusion::DATAFUSION_VERSION.to_string(),
            arrow_version: datafusion::arrow::ARROW_VERSION.to_string(),
        }
    }
}

/// One run as the run log records it: what changes from run to run and so is not in the lock.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    pub started: String,
    pub duration_ms: u64,
    /// The stages asked for (empty: all).
    pub targets: Vec<String>,
    pub force: bool,
    pub ok: bool,
    pub git_commit: Option<String>,
    pub git_dirty: Option<bool>,
    pub host_os: String,
    pub host_arch: String,
    pub canary_version: String,
    /// Per stage that finished or failed in this run: `ran`, `cached`, `restored` or `failed`,
    /// and for those that ran, when they started and how long they took.
    pub stages: BTreeMap<String, RunStage>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunStage {
    pub action: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
}

/// `.canary/runs.jsonl`: one JSON line per `canary run`, the last [`RunLog::KEEP`] kept.
pub struct RunLog;

impl RunLog {
    pub const KEEP: usize = 100;

    pub fn path(state_dir: &Path) -> std::path::PathBuf {
        state_dir.join("runs.jsonl")
    }

    /// Append a run, dropping the oldest beyond [`RunLog::KEEP`]. Lines that are not records
    /// (a damaged log) are dropped too.
    pub fn append(state_dir: &Path, record: &RunRecord) -> Result<()> {
        let path = RunLog::path(state_dir);
        let old = std::fs::read(&path).unwrap_or_default();
        let mut lines: Vec<String> = String::from_utf8_lossy(&old)
            .lines()
            .filter(|l| serde_json::from_str::<RunRecord>(l).is_ok())
            .map(str::to_string)
            .collect();
        lines.push(serde_json::to_string(record).unwrap_or_default());
        let skip = lines.len().saturating_sub(RunLog::KEEP);
        let mut text = lines[skip..].join("\n");
        text.push('\n');
        crate::fsio::write_atomic(&path, text.as_bytes())
    }

    /// The runs recorded, oldest first.
    pub fn read(state_dir: &Path) -> Vec<RunRecord> {
        let bytes = std::fs::read(RunLog::path(state_dir)).unwrap_or_default();
        String::from_utf8_lossy(&bytes)
            .lines()
            .filter_map(|l| serde_json::from_str(l).ok())
            .collect()
    }

    /// The host and git state of the last run, for a record made later from the lock (the
    /// RO-Crate `canary verify --report` rewrites).
    pub fn last_run_info(state_dir: &Path) -> Option<RunInfo> {
        let last = RunLog::read(state_dir).pop()?;
        Some(RunInfo {
            git_commit: last.git_commit,
            git_dirty: last.git_dirty,
            host_os: last.host_os,
            host_arch: last.host_arch,
            ..RunInfo::current_versions()
        })
    }
}
