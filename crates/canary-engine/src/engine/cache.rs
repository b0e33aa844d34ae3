//! The stage cache. A stage's key is the SHA-256 of its canonical definition (`CacheKey`): kind,
//! kind version, params, SQL text and the content hashes of its inputs. An entry for a key is
//! written only after the stage's outputs are in place; it records their hashes. Outputs are
//! also kept by content under `.canary/cache/objects/`, so switching a param back restores the
//! earlier outputs instead of running the stage again.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::lockfile::OutputRecord;

/// Bump when the meaning of a key changes (e.g. how inputs are hashed), to invalidate all.
const KEY_FORMAT: u32 = 1;

/// Everything that decides what a stage writes. Serialised canonically (sorted maps) and hashed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CacheKey {
    pub format: u32,
    pub kind: String,
    pub kind_version: u32,
    pub params: BTreeMap<String, serde_json::Value>,
    /// SHA-256 of the SQL text after substitution, when the kind takes SQL.
    pub sql_sha256: Option<String>,
    /// Input name → content hash (a source's SHA-256, or the combined hash of a stage's tables).
    pub inputs: BTreeMap<String, String>,
    /// Project files the kind reads (path → SHA-256).
    pub files: BTreeMap<String, String>,
    pub tables: Vec<String>,
    /// What else a kind says decides its output (a script's command, the values of the
    /// environment variables it declares, the identity of its interpreter). Left out of the
    /// serialised key when empty, so the keys of other kinds are as before.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub identity: BTreeMap<String, String>,
}

impl CacheKey {
    pub fn new(
        kind: &str,
        kind_version: u32,
        params: &BTreeMap<String, serde_json::Value>,
        sql: Option<&str>,
        inputs: BTreeMap<String, String>,
        files: BTreeMap<String, String>,
        tables: &[String],
    ) -> Self {
        CacheKey {
            format: KEY_FORMAT,
            kind: kind.to_string(),
            kind_version,
            params: params.clone(),
            sql_sha256: sql.map(|s| crate::hash::sha256_bytes(s.as_bytes())),
            inputs,
            files,
            tables: tables.to_vec(),
            identity: BTreeMap::new(),
        }
    }

    pub fn digest(&self) -> String {
        // serde_json writes struct fields in declaration order and BTreeMaps sorted: canonical.
        let bytes = serde_json::to_vec(self).expect("a cache key serialises");
        crate::hash::sha256_bytes(&bytes)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Entry {
    pub stage: String,
    pub key: String,
    pub definition: CacheKey,
    pub outputs: Vec<OutputRecord>,
    /// When the run that made these outputs started (RFC 3339, UTC) and how long it took.
    pub started: String,
    pub duration_ms: u64,
}

/// The combined hash of a stage's outputs, as its downstream stages see it.
pub fn outputs_hash(outputs: &[OutputRecord]) -> String {
    let mut s = String::new();
    for o in outputs {
        // Tables by name; files by path (a stage has one unnamed table but many files).
        s.push_str(if o.file {
            &o.path
        } else {
            o.table.as_deref().unwrap_or("")
        });
        s.push('=');
        s.push_str(&o.sha256);
        s.push('\n');
    }
    crate::hash::sha256_bytes(s.as_bytes())
}

pub struct Cache {
    dir: PathBuf,
}

impl Cache {
    pub fn new(state_dir: &Path) -> Self {
        Cache {
            dir: state_dir.join("cache"),
        }
    }

    fn entry_path(&self, key: &str) -> PathBuf {
        self.dir.join("entries").join(format!("{key}.json"))
    }

    pub fn object_path(&self, sha256: &str) -> PathBuf {
        self.dir.join("objects").join(&sha256[..2]).join(sha256)
    }

    pub fn get(&self, key: &str) -> Option<Entry> {
        let bytes = std::fs::read(self.entry_path(key)).ok()?;
        // A damaged entry is no entry: the stage simply runs again.
        serde_json::from_slice(&bytes).ok()
    }

    pub fn put(&self, entry: &Entry) -> Result<()> {
        let bytes = serde_json::to_vec_pretty(entry).expect("an entry serialises");
        crate::fsio::write_replace(&self.entry_path(&entry.key), &bytes)
    }

    pub fn has_object(&self, sha256: &str) -> bool {
        sha256.len() > 2 && self.object_path(sha256).is_file()
    }

    /// Keep a copy of a finished output, by content.
    pub fn store_object(&self, file: &Path, sha256: &str) -> Result<()> {
        let dest = self.object_path(sha256);
        if dest.is_file() {
            return Ok(());
        }
        // Streamed: an output of gigabytes is copied through a small buffer, never read whole.
        let mut from = std::fs::File::open(file).map_err(|e| Error::io("read", file, e))?;
        crate::fsio::fill_via_temp(&dest, false, |to, temp| {
            std::io::copy(&mut from, to)
                .map(|_| ())
                .map_err(|e| Error::io("copy an output into the cache as", temp, e))
        })
    }

    /// Put a stored output back in place, checking its hash on the way (one read copies and
    /// hashes it). A damaged object is removed and reported as absent, so the stage re-runs.
    pub fn restore_object(&self, sha256: &str, dest: &Path) -> Result<bool> {
        let src = self.object_path(sha256);
        let Ok(mut from) = std::fs::File::open(&src) else {
            return Ok(false);
        };
        let result = crate::fsio::fill_via_temp(dest, true, |to, temp| {
            let got = crate::hash::copy_hashed(&mut from, to)
                .map_err(|e| Error::io("restore a cached output to", temp, e))?;
            if got != sha256 {
                return Err(Error::data(
                    &src,
                    "the cached object's content does not match its hash",
                ));
            }
            Ok(())
        });
        match result {
            Ok(()) => Ok(true),
            Err(Error::Data { .. }) => {
                let _ = std::fs::remove_file(&src);
                Ok(false)
            }
            Err(e) => Err(e),
        }
    }

    /// Remove entries whose key is not in `keep`, then objects no remaining entry refers to.
    /// Returns (entries removed, objects removed, bytes freed).
    pub fn gc(&self, keep: &[String]) -> Result<(usize, usize, u64)> {
        let mut removed = (0, 0, 0u64);
        let mut live = std::collections::BTreeSet::new();
        let entries_dir = self.dir.join("entries");
        if let Ok(rd) = std::fs::read_dir(&entries_dir) {
            let mut paths: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
            paths.sort();
            for p in paths {
                let key = p
                    .file_stem()
                    .map(|s| s.to_string_lossy().to_string())
                    .unwrap_or_default();
                if keep.contains(&key) {
                    if let Some(e) = self.get(&key) {
                        live.extend(e.outputs.into_iter().map(|o| o.sha256));
                    }
                } else {
                    std::fs::remove_file(&p).map_err(|e| Error::io("remove", &p, e))?;
                    removed.0 += 1;
                }
            }
        }
        let objects_dir = self.dir.join("objects");
        if let Ok(rd) = std::fs::read_dir(&objects_dir) {
            for sub in rd.filter_map(|e| e.ok()) {
                for obj in std::fs::read_dir(sub.path())
                    .into_iter()
                    .flatten()
                    .filter_map(|e| e.ok())
                {
                    let name = obj.file_name().to_string_lossy().to_string();
                    if !live.contains(&name) {
                        removed.2 += obj.metadata().map(|m| m.len()).unwrap_or(0);
                        std::fs::remove_file(obj.path())
                            .map_err(|e| Error::io("remove", obj.path(), e))?;
                        removed.1 += 1;
                    }
                }
            }
        }
        Ok(removed)
    }
}
