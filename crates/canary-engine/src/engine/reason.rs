//! Why a stage must run or be restored, as data: the planner decides on the variants (which
//! reasons an upstream run already explains, for instance) and `Display` words them, once,
//! for `status`, `--dry-run` and the run's output.

use std::collections::BTreeMap;
use std::fmt;

/// One reason a stage's cached outputs do not stand as they are.
#[derive(Debug, Clone, PartialEq)]
pub enum Reason {
    /// The lock has no record of the stage.
    NeverRan,
    /// `--force`.
    Forced,
    /// A source the stage reads is not on disk.
    SourceMissing {
        source: String,
    },
    KindChanged {
        from: String,
        to: String,
    },
    KindVersion {
        kind: String,
        from: u32,
        to: u32,
    },
    Param(ParamChange),
    /// A param substituted into the SQL changed (so the SQL's hash did).
    SqlParam(ParamChange),
    SqlFile {
        path: String,
    },
    SqlText,
    InputAdded {
        input: String,
    },
    InputRemoved {
        input: String,
    },
    /// A raw file the stage reads changed.
    SourceChanged {
        source: String,
        path: String,
    },
    /// An upstream stage's outputs are not those the stage was built from.
    UpstreamChanged {
        stage: String,
    },
    /// A project file the stage reads (a dictionary, a template) changed.
    FileChanged {
        path: String,
    },
    /// A part of a kind's identity (a script's command, an interpreter) changed.
    Identity {
        what: String,
        was: Option<String>,
        now: Option<String>,
    },
    /// Nothing in its definition changed, yet the cache has no entry for it.
    CacheCleared,
    OutputMissing {
        path: String,
    },
    OutputModified {
        path: String,
    },
    /// A file the stage writes beside its tables (from an entry older than such records).
    SideFileMissing {
        path: String,
    },
    /// A file in the stage's own folder that it did not write.
    Stray {
        path: String,
    },
}

impl Reason {
    /// Whether a run of upstream stage `stage` already explains this reason, so a plan that
    /// says the upstream will run need not repeat it.
    pub fn follows_from_upstream(&self, upstream: &[String]) -> bool {
        match self {
            Reason::UpstreamChanged { stage } => upstream.contains(stage),
            Reason::InputAdded { input } | Reason::InputRemoved { input } => {
                upstream.contains(input)
            }
            Reason::CacheCleared => true,
            _ => false,
        }
    }
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::NeverRan => write!(f, "it has not run before"),
            Reason::Forced => write!(f, "--force was given"),
            Reason::SourceMissing { source } => {
                write!(f, "source `{source}` is missing (`canary fetch` brings it)")
            }
            Reason::KindChanged { from, to } => {
                write!(f, "its kind changed from `{from}` to `{to}`")
            }
            Reason::KindVersion { kind, from, to } => {
                write!(f, "kind `{kind}` changed from version {from} to {to}")
            }
            Reason::Param(c) => write!(f, "{c}"),
            Reason::SqlParam(c) => write!(f, "{c} (used in its SQL)"),
            Reason::SqlFile { path } => write!(f, "its SQL file `{path}` changed"),
            Reason::SqlText => write!(f, "its SQL text changed"),
            Reason::InputAdded { input } => write!(f, "input `{input}` was added"),
            Reason::InputRemoved { input } => write!(f, "input `{input}` was removed"),
            Reason::SourceChanged { source, path } => {
                write!(f, "input file `{path}` (source `{source}`) changed")
            }
            Reason::UpstreamChanged { stage } => {
                write!(f, "input stage `{stage}` produced different output")
            }
            Reason::FileChanged { path } => write!(f, "file `{path}` changed"),
            Reason::Identity { what, was, now } => match (was, now) {
                (Some(a), Some(b)) => write!(f, "its {what} changed from {a} to {b}"),
                (None, Some(b)) => write!(f, "its {what} is now {b}"),
                (Some(a), None) => write!(f, "its {what} ({a}) is no longer part of it"),
                (None, None) => write!(f, "its {what} changed"),
            },
            Reason::CacheCleared => write!(
                f,
                "no cached result exists for its definition (the cache was cleared)"
            ),
            Reason::OutputMissing { path } => write!(f, "output `{path}` is missing"),
            Reason::OutputModified { path } => write!(f, "output `{path}` was modified"),
            Reason::SideFileMissing { path } => write!(f, "`{path}` is missing"),
            Reason::Stray { path } => write!(f, "`{path}` is not one of its outputs"),
        }
    }
}

/// A param whose value differs between the recorded run and now.
#[derive(Debug, Clone, PartialEq)]
pub struct ParamChange {
    pub name: String,
    pub was: Option<serde_json::Value>,
    pub now: Option<serde_json::Value>,
}

impl fmt::Display for ParamChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let k = &self.name;
        match (&self.was, &self.now) {
            (Some(a), Some(b)) => write!(f, "param `{k}` changed from {a} to {b}"),
            (None, Some(b)) => write!(f, "param `{k}` was added ({b})"),
            (Some(a), None) => write!(f, "param `{k}` was removed (was {a})"),
            (None, None) => write!(f, "param `{k}` changed"),
        }
    }
}

/// The params that differ between `then` and `now`, by name.
pub fn param_changes(
    then: &BTreeMap<String, serde_json::Value>,
    now: &BTreeMap<String, serde_json::Value>,
) -> Vec<ParamChange> {
    let keys: std::collections::BTreeSet<&String> = then.keys().chain(now.keys()).collect();
    keys.into_iter()
        .filter(|k| then.get(*k) != now.get(*k))
        .map(|k| ParamChange {
            name: k.clone(),
            was: then.get(k).cloned(),
            now: now.get(k).cloned(),
        })
        .collect()
}

/// Reasons joined as a sentence's clauses.
pub fn join(reasons: &[Reason]) -> String {
    reasons
        .iter()
        .map(Reason::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn upstream_runs_explain_only_their_own_reasons() {
        let up = vec!["panel".to_string()];
        assert!(Reason::UpstreamChanged {
            stage: "panel".into()
        }
        .follows_from_upstream(&up));
        assert!(!Reason::UpstreamChanged {
            stage: "other".into()
        }
        .follows_from_upstream(&up));
        assert!(Reason::CacheCleared.follows_from_upstream(&up));
        // A stage named like a file is not the file.
        assert!(!Reason::FileChanged {
            path: "panel".into()
        }
        .follows_from_upstream(&up));
    }

    #[test]
    fn params_are_worded_once() {
        let then = BTreeMap::from([("a".to_string(), json!(1)), ("b".to_string(), json!(2))]);
        let now = BTreeMap::from([("a".to_string(), json!(3)), ("c".to_string(), json!("x"))]);
        let words: Vec<String> = param_changes(&then, &now)
            .iter()
            .map(|c| c.to_string())
            .collect();
        assert_eq!(
            words,
            [
                "param `a` changed from 1 to 3",
                "param `b` was removed (was 2)",
                "param `c` was added (\"x\")"
            ]
        );
        let sql = Reason::SqlParam(param_changes(&then, &now).remove(0));
        assert_eq!(
            sql.to_string(),
            "param `a` changed from 1 to 3 (used in its SQL)"
        );
    }
}
