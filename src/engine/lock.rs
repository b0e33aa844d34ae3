//! `pipeline.lock`: what produced each output, for a reviewer to read and for `status` to diff
//! against. YAML with every map sorted, so a re-run that changes nothing changes no line but
//! the run header.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::cache::OutputRecord;
use crate::error::{Error, Result};

pub const LOCK_VERSION: u32 = 1;

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Lock {
    pub version: u32,
    pub pipeline: String,
    pub run: RunInfo,
    #[serde(default)]
    pub sources: BTreeMap<String, SourceRecord>,
    #[serde(default)]
    pub stages: BTreeMap<String, StageRecord>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunInfo {
    pub git_commit: Option<String>,
    pub git_dirty: Option<bool>,
    pub host_os: String,
    pub host_arch: String,
    pub canary_version: String,
    pub datafusion_version: String,
    pub arrow_version: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceRecord {
    pub path: String,
    pub sha256: String,
    pub bytes: u64,
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
    pub started: String,
    pub duration_ms: u64,
}

impl Lock {
    pub fn read(path: &Path) -> Result<Option<Lock>> {
        let text = match std::fs::read_to_string(path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(Error::io("read", path, e)),
        };
        let lock: Lock = crate::pipeline::spec::parse_yaml(path, &text).map_err(|e| {
            e.with_hint("the lock is written by `canary run`; delete it and run again to rebuild it")
        })?;
        Ok(Some(lock))
    }

    pub fn write(&self, path: &Path) -> Result<()> {
        let mut text = String::from(
            "# Written by `canary run`: what produced each output. Do not edit; `canary verify` re-derives it.\n",
        );
        text.push_str(&crate::pipeline::spec::to_yaml(self));
        crate::table::write_atomic(path, text.as_bytes())
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
            out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
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
            canary_version: env!("CARGO_PKG_VERSION").to_string(),
            datafusion_version: env!("CANARY_DATAFUSION_VERSION").to_string(),
            arrow_version: env!("CANARY_ARROW_VERSION").to_string(),
        }
    }
}
