//! Running a pipeline: decide per stage whether its cached outputs still hold (and why not),
//! run the stages that must run — independent ones in parallel —, write outputs atomically,
//! and record what produced them in `pipeline.lock`.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::time::{Instant, SystemTime};

pub mod cache;
pub mod progress;
pub mod reason;
pub mod run_guard;
mod schedule;
pub mod side;

use cache::{Cache, CacheKey, Entry};
use progress::Progress;
pub use reason::{param_changes, ParamChange, Reason};

use crate::error::{Error, Result};
use crate::hash::HashCache;
use crate::lockfile::{self as lock, Lock, OutputRecord, RunInfo, SourceRecord, StageRecord};
use crate::pipeline::{Pipeline, Stage, Sweep};
use crate::stage::{Input, Registry, StageContext};

#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Stages to bring up to date (with what they depend on); empty for all.
    pub targets: Vec<String>,
    pub force: bool,
    pub dry_run: bool,
    pub jobs: usize,
    pub quiet: bool,
    /// List every cell of a sweep, not one line per sweep.
    pub verbose: bool,
    /// The memory a SQL stage's query may hold (`--memory`), over the pipeline's setting.
    pub memory: Option<usize>,
}

/// What happened to a stage in a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// With what the kind noted while it ran (an optional stage skipped), for the run's output.
    Ran(Vec<String>),
    UpToDate,
    Restored,
}

#[derive(Debug, Default)]
pub struct Summary {
    pub ran: Vec<String>,
    pub up_to_date: Vec<String>,
    pub restored: Vec<String>,
}

/// Why a stage would run, or that it would not.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    UpToDate,
    /// Outputs changed or went missing, but the cache holds the recorded ones.
    Restore(Vec<Reason>),
    Run(Vec<Reason>),
    /// Depends on stages that will run (named); its own reasons, if any, follow.
    AfterUpstream(Vec<String>, Vec<Reason>),
}

pub struct Engine<'a> {
    pub pipeline: &'a Pipeline,
    registry: &'a Registry,
    cache: Cache,
    hashes: HashCache,
    /// The lock as the last run left it, read when something needs it (a reason, the lock's
    /// rewrite): a run that changes nothing never parses it.
    previous: std::sync::OnceLock<Option<Lock>>,
    /// What a running stage may use: set by `run` from its options.
    resources: std::sync::RwLock<crate::session::Resources>,
}

impl<'a> Engine<'a> {
    /// A lock that cannot be read is treated as absent, with a warning on stderr: the cache
    /// decides what runs, the lock only names reasons, so no command is blocked by it.
    pub fn new(pipeline: &'a Pipeline, registry: &'a Registry) -> Result<Self> {
        let state = pipeline.state_dir();
        let engine = Engine {
            pipeline,
            registry,
            cache: Cache::new(&state),
            hashes: HashCache::load(state.join("hashes.json")),
            previous: std::sync::OnceLock::new(),
            resources: std::sync::RwLock::new(crate::session::Resources::new(
                1,
                pipeline.memory,
                &state,
            )),
        };
        // A lock that is not the one canary last wrote (edited, damaged, from elsewhere) is
        // read at once, so a damaged one is reported before anything else; an intact one is
        // read only when something needs it.
        let lock = std::fs::read(pipeline.lock_path()).ok();
        let stamp = std::fs::read_to_string(state.join("lock.stamp")).ok();
        let intact = match (&lock, &stamp) {
            (Some(bytes), Some(s)) => {
                s.split(' ').next() == Some(crate::hash::sha256_bytes(bytes).as_str())
            }
            _ => false,
        };
        if lock.is_some() && !intact {
            engine.previous();
        }
        Ok(engine)
    }

    /// The previous lock, parsed on first use; one that cannot be read is absent, with a
    /// warning.
    fn previous(&self) -> Option<&Lock> {
        self.previous
            .get_or_init(|| {
                let (previous, warning) = Lock::read_or_warn(&self.pipeline.lock_path());
                if let Some(w) = warning {
                    crate::console::errln(&format!("canary: {w}"));
                }
                previous
            })
            .as_ref()
    }

    fn selected(&self, targets: &[String]) -> Result<Vec<String>> {
        for t in targets {
            if !self.pipeline.stages.contains_key(t) {
                let hint =
                    crate::error::did_you_mean(t, self.pipeline.stages.keys().map(String::as_str))
                        .unwrap_or_else(|| "`canary dag` lists the stages".to_string());
                return Err(Error::usage(format!("there is no stage `{t}`")).with_hint(hint));
            }
        }
        Ok(if targets.is_empty() {
            self.pipeline.order.clone()
        } else {
            self.pipeline.upstream_closure(targets)
        })
    }

    /// The content hash of every source the selected stages read, verified against
    /// pipeline.yaml. A missing source is an error: only `canary fetch` writes into `raw/`.
    fn verify_sources(&self, stages: &[String]) -> Result<BTreeMap<String, String>> {
        let mut needed: Vec<&str> = stages
            .iter()
            .flat_map(|s| self.pipeline.stages[s].inputs.iter())
            .filter(|i| self.pipeline.sources.contains_key(*i))
            .map(String::as_str)
            .collect();
        needed.sort();
        needed.dedup();
        let mut hashes = BTreeMap::new();
        let mut errors = Vec::new();
        let mut missing: Vec<&str> = Vec::new();
        for name in needed {
            let src = &self.pipeline.sources[name];
            match self.hashes.hash_expecting(&src.path, &src.sha256)? {
                Some(h) if h == src.sha256 => {
                    hashes.insert(name.to_string(), h);
                }
                Some(h) => errors.push(Error::Checksum {
                    source_name: name.to_string(),
                    path: src.path.clone(),
                    expected: src.sha256.clone(),
                    actual: h,
                }),
                None => missing.push(name),
            }
        }
        if !missing.is_empty() {
            let first = &self.pipeline.sources[missing[0]];
            let what = if missing.len() == 1 {
                format!("source `{}` is missing", missing[0])
            } else {
                format!(
                    "{} sources are missing: {}",
                    missing.len(),
                    missing.join(", ")
                )
            };
            errors.push(
                Error::data(&first.path, what).with_hint(
                    "`canary fetch` brings missing sources from a mirror folder (`--mirror DIR`, CANARY_MIRROR, or `mirrors:` in pipeline.yaml) or their `url`, checking each against its sha256",
                ),
            );
        }
        match errors.len() {
            0 => Ok(hashes),
            1 => Err(errors.remove(0)),
            _ => Err(Error::Many(errors)),
        }
    }

    fn key_for(
        &self,
        stage: &Stage,
        input_hashes: &BTreeMap<String, String>,
    ) -> (CacheKey, String) {
        let kind = self.registry.get(&stage.kind).expect("validated kind");
        let inputs = stage
            .inputs
            .iter()
            .map(|i| (i.clone(), input_hashes.get(i).cloned().unwrap_or_default()))
            .collect();
        // A file that is not there has no hash: the key leaves it out, so it matches no run
        // that read the file, and the kind's run names what is missing.
        let files = stage
            .files
            .iter()
            .filter_map(|f| {
                let sha = self
                    .hashes
                    .hash(&self.pipeline.root.join(f))
                    .ok()
                    .flatten()?;
                Some((f.clone(), sha))
            })
            .collect();
        let mut key = CacheKey::new(
            &stage.kind,
            kind.version(),
            &stage.params,
            stage.sql.as_deref(),
            inputs,
            files,
            &stage.tables,
        );
        key.identity = kind.identity(stage);
        let digest = key.digest();
        (key, digest)
    }

    /// Compare a stage's would-be key with what the lock recorded last time: the reasons it
    /// must run, in the user's terms.
    fn why_changed(&self, stage: &Stage, key: &CacheKey) -> Vec<Reason> {
        let Some(prev) = self.previous().and_then(|l| l.stages.get(&stage.name)) else {
            return vec![Reason::NeverRan];
        };
        let mut why = Vec::new();
        if prev.kind != key.kind {
            why.push(Reason::KindChanged {
                from: prev.kind.clone(),
                to: key.kind.clone(),
            });
        } else if prev.kind_version != key.kind_version {
            why.push(Reason::KindVersion {
                kind: key.kind.clone(),
                from: prev.kind_version,
                to: key.kind_version,
            });
        }
        why.extend(
            param_changes(&prev.params, &key.params)
                .into_iter()
                .map(Reason::Param),
        );
        if prev.sql_sha256 != key.sql_sha256 {
            let through = param_changes(&prev.sql_params, &stage.sql_params);
            if through.is_empty() {
                why.push(match &stage.sql_file {
                    Some(f) => Reason::SqlFile { path: f.clone() },
                    None => Reason::SqlText,
                });
            } else {
                why.extend(through.into_iter().map(Reason::SqlParam));
            }
        }
        for (name, hash) in &key.inputs {
            match prev.inputs.get(name) {
                None => why.push(Reason::InputAdded {
                    input: name.clone(),
                }),
                Some(old) if old != hash => why.push(match self.pipeline.sources.get(name) {
                    Some(src) => Reason::SourceChanged {
                        source: name.clone(),
                        path: src.rel_path.clone(),
                    },
                    None => Reason::UpstreamChanged {
                        stage: name.clone(),
                    },
                }),
                _ => {}
            }
        }
        for name in prev.inputs.keys() {
            if !key.inputs.contains_key(name) {
                why.push(Reason::InputRemoved {
                    input: name.clone(),
                });
            }
        }
        for (path, hash) in &key.files {
            if prev.files.get(path) != Some(hash) {
                why.push(Reason::FileChanged { path: path.clone() });
            }
        }
        let names: std::collections::BTreeSet<&String> =
            key.identity.keys().chain(prev.identity.keys()).collect();
        for k in names {
            let (was, now) = (prev.identity.get(k), key.identity.get(k));
            if was != now {
                why.push(Reason::Identity {
                    what: k.clone(),
                    was: was.cloned(),
                    now: now.cloned(),
                });
            }
        }
        if why.is_empty() {
            why.push(Reason::CacheCleared);
        }
        why
    }

    /// Whether the entry's outputs are in place; Err lists what is wrong with them.
    fn check_outputs(&self, entry: &Entry) -> Result<std::result::Result<(), Vec<Reason>>> {
        let mut problems = Vec::new();
        for o in &entry.outputs {
            let path = self.pipeline.root.join(&o.path);
            match self.hashes.hash_expecting(&path, &o.sha256)? {
                None => problems.push(Reason::OutputMissing {
                    path: o.path.clone(),
                }),
                Some(h) if h != o.sha256 => problems.push(Reason::OutputModified {
                    path: o.path.clone(),
                }),
                _ => {}
            }
        }
        Ok(if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        })
    }

    fn verdict(
        &self,
        stage: &Stage,
        key: &CacheKey,
        digest: &str,
        force: bool,
    ) -> Result<(Decision, Option<Entry>)> {
        if force {
            return Ok((Decision::Run(vec![Reason::Forced]), None));
        }
        let Some(entry) = self.cache.get(digest) else {
            return Ok((Decision::Run(self.why_changed(stage, key)), None));
        };
        let kind = self.registry.get(&stage.kind).expect("validated kind");
        let owned = side::Owned::new(&kind.side_outputs(stage));
        let records_files = entry.outputs.iter().any(|o| o.file);
        if !records_files {
            // An entry from before its files were recorded: they must at least exist.
            let missing: Vec<Reason> = owned
                .files
                .iter()
                .filter(|f| !self.pipeline.root.join(f).is_file())
                .map(|f| Reason::SideFileMissing { path: f.clone() })
                .collect();
            if !missing.is_empty() {
                return Ok((Decision::Run(missing), None));
            }
        }
        let mut checked = self.check_outputs(&entry)?;
        if records_files {
            let stray: Vec<Reason> = owned
                .present(&self.pipeline.root)
                .into_iter()
                .filter(|f| !entry.outputs.iter().any(|o| &o.path == f))
                .map(|path| Reason::Stray { path })
                .collect();
            if !stray.is_empty() {
                checked = Err(checked
                    .err()
                    .unwrap_or_default()
                    .into_iter()
                    .chain(stray)
                    .collect());
            }
        }
        Ok(match checked {
            Ok(()) => (Decision::UpToDate, Some(entry)),
            Err(problems) => {
                if entry
                    .outputs
                    .iter()
                    .all(|o| self.cache.has_object(&o.sha256))
                {
                    (Decision::Restore(problems), Some(entry))
                } else {
                    (Decision::Run(problems), None)
                }
            }
        })
    }

    /// What `run` would do, stage by stage, without running anything.
    pub fn plan(&self, targets: &[String], force: bool) -> Result<Vec<(String, Decision)>> {
        let selected = self.selected(targets)?;
        let mut input_hashes: BTreeMap<String, String> = BTreeMap::new();
        let mut missing_sources: HashSet<&str> = HashSet::new();
        for (name, src) in &self.pipeline.sources {
            match self.hashes.hash_expecting(&src.path, &src.sha256)? {
                Some(h) => {
                    input_hashes.insert(name.clone(), h);
                }
                None => {
                    missing_sources.insert(name.as_str());
                }
            }
        }
        let mut will_run: HashSet<String> = HashSet::new();
        let mut out = Vec::new();
        for name in &selected {
            let stage = &self.pipeline.stages[name];
            let upstream: Vec<String> = stage
                .inputs
                .iter()
                .filter(|i| will_run.contains(*i))
                .cloned()
                .collect();
            let (key, digest) = self.key_for(stage, &input_hashes);
            let never_ran = || self.previous().is_none_or(|l| !l.stages.contains_key(name));
            let missing: Vec<Reason> = stage
                .inputs
                .iter()
                .filter(|i| missing_sources.contains(i.as_str()))
                .map(|i| Reason::SourceMissing { source: i.clone() })
                .collect();
            let verdict = if !missing.is_empty() {
                Decision::Run(missing)
            } else if upstream.is_empty() || (!force && never_ran()) {
                let (v, entry) = self.verdict(stage, &key, &digest, force)?;
                if let Some(e) = entry {
                    input_hashes.insert(name.clone(), cache::outputs_hash(&e.outputs));
                }
                v
            } else {
                let own: Vec<Reason> = self
                    .why_changed(stage, &key)
                    .into_iter()
                    .filter(|r| !r.follows_from_upstream(&upstream))
                    .collect();
                Decision::AfterUpstream(upstream, own)
            };
            if !matches!(verdict, Decision::UpToDate) {
                will_run.insert(name.clone());
            }
            out.push((name.clone(), verdict));
        }
        Ok(out)
    }

    pub fn run(&self, opts: &RunOptions) -> Result<Summary> {
        let selected = self.selected(&opts.targets)?;
        if opts.dry_run {
            let plan = self.plan(&opts.targets, opts.force)?;
            for line in status_lines(self.pipeline, &plan, true, opts.verbose) {
                crate::console::outln(&line)?;
            }
            return Ok(Summary::default());
        }
        let progress = Progress::new(opts.quiet, selected.len());
        let _guard = run_guard::RunGuard::acquire(&self.pipeline.state_dir(), &|m| {
            crate::console::errln(&format!("canary: {m}"))
        })?;
        let started = Instant::now();
        let started_at = SystemTime::now();

        *self.resources.write().unwrap_or_else(|p| p.into_inner()) = crate::session::Resources::new(
            opts.jobs.max(1),
            opts.memory.or(self.pipeline.memory),
            &self.pipeline.state_dir(),
        );
        let input_hashes = self.verify_sources(&selected)?;
        let mut state = schedule::RunState::new(input_hashes);
        self.schedule(opts, &selected, &progress, &mut state);
        progress.done();
        self.conclude(opts, &selected, state, (started, started_at))
    }

    /// After the stages: the lock, the run log, each kind's `after_run`, the failures or the
    /// closing line.
    fn conclude(
        &self,
        opts: &RunOptions,
        selected: &[String],
        state: schedule::RunState,
        (started, started_at): (Instant, SystemTime),
    ) -> Result<Summary> {
        let schedule::RunState {
            input_hashes,
            records,
            summary,
            mut failures,
            this_run,
            ..
        } = state;
        let finished: Vec<String> = selected
            .iter()
            .filter(|s| records.contains_key(*s))
            .cloned()
            .collect();
        let lock = self.write_lock(records, &input_hashes)?;
        self.hashes.save()?;
        // Which commit and host a run came from is asked of git only when the run changed
        // something: a no-op starts no process.
        let changed =
            !summary.ran.is_empty() || !summary.restored.is_empty() || !failures.is_empty();
        let here = if changed {
            RunInfo::current(&self.pipeline.root)
        } else {
            RunInfo {
                host_os: std::env::consts::OS.into(),
                host_arch: std::env::consts::ARCH.into(),
                ..RunInfo::current_versions()
            }
        };
        let log = lock::RunRecord {
            started: humantime::format_rfc3339_seconds(started_at).to_string(),
            duration_ms: started.elapsed().as_millis() as u64,
            targets: opts.targets.clone(),
            force: opts.force,
            ok: failures.is_empty(),
            git_commit: here.git_commit.clone(),
            git_dirty: here.git_dirty,
            host_os: here.host_os.clone(),
            host_arch: here.host_arch.clone(),
            canary_version: here.canary_version.clone(),
            stages: this_run,
        };
        if let Err(e) = lock::RunLog::append(&self.pipeline.state_dir(), &log) {
            // The run log is a diary, not a record the outputs depend on.
            crate::console::errln(&format!(
                "canary: warning: the run log was not written: {}",
                e.headline()
            ));
        }
        // What a record of the run says of it (host, commit) is this run's.
        let record = Lock { run: here, ..lock };
        for name in &finished {
            let stage = &self.pipeline.stages[name];
            let kind = self.registry.get(&stage.kind).expect("validated kind");
            kind.after_run(self.pipeline, stage, &record, changed)
                .map_err(|e| e.in_stage(name))?;
        }
        if !failures.is_empty() {
            return Err(if failures.len() == 1 {
                failures.remove(0)
            } else {
                Error::Many(failures)
            });
        }
        if !opts.quiet {
            crate::console::outln(&format!(
                "done: {} ran, {} up to date{} in {:.2}s",
                summary.ran.len(),
                summary.up_to_date.len(),
                if summary.restored.is_empty() {
                    String::new()
                } else {
                    format!(", {} restored", summary.restored.len())
                },
                started.elapsed().as_secs_f64()
            ))?;
        }
        Ok(summary)
    }

    /// Restore or run a stage, given the verdict the scheduler reached for it.
    fn bring_up_to_date(
        &self,
        stage: &Stage,
        key: CacheKey,
        digest: String,
        (verdict, entry): (Decision, Option<Entry>),
        upstream: BTreeMap<String, StageRecord>,
    ) -> Result<(Action, StageRecord)> {
        match (verdict, entry) {
            (Decision::UpToDate, Some(e)) => {
                Ok((Action::UpToDate, record(stage, &key, &digest, &e)))
            }
            (Decision::Restore(_), Some(e)) => {
                for o in &e.outputs {
                    let path = self.pipeline.root.join(&o.path);
                    if self.hashes.hash(&path)?.as_deref() != Some(o.sha256.as_str()) {
                        if !self.cache.restore_object(&o.sha256, &path)? {
                            return self.execute(stage, key, digest, upstream);
                        }
                        self.hashes.remember(&path, &o.sha256);
                    }
                }
                let kind = self.registry.get(&stage.kind).expect("validated kind");
                let owned = side::Owned::new(&kind.side_outputs(stage));
                if e.outputs.iter().any(|o| o.file) {
                    for f in owned.present(&self.pipeline.root) {
                        if !e.outputs.iter().any(|o| o.path == f) {
                            let p = self.pipeline.root.join(&f);
                            std::fs::remove_file(&p)
                                .map_err(|err| Error::io("remove the stray file", &p, err))?;
                        }
                    }
                }
                Ok((Action::Restored, record(stage, &key, &digest, &e)))
            }
            _ => self.execute(stage, key, digest, upstream),
        }
    }

    /// Run the kind, write its tables atomically, then (only then) the cache entry.
    fn execute(
        &self,
        stage: &Stage,
        key: CacheKey,
        digest: String,
        upstream: BTreeMap<String, StageRecord>,
    ) -> Result<(Action, StageRecord)> {
        let kind = self.registry.get(&stage.kind).expect("validated kind");
        let inputs = stage
            .inputs
            .iter()
            .map(|i| {
                let input = match self.pipeline.sources.get(i) {
                    Some(src) => Input::Source {
                        path: src.path.clone(),
                    },
                    None => Input::Stage {
                        tables: self.pipeline.output_paths(&self.pipeline.stages[i]),
                    },
                };
                (i.clone(), input)
            })
            .collect();
        // Files beside the tables are written into a staging folder and moved into place only
        // when the stage has succeeded (`side.rs`).
        let owned = side::Owned::new(&kind.side_outputs(stage));
        let staging = (!owned.is_empty()).then(|| {
            self.pipeline.state_dir().join("tmp").join(format!(
                "side-{}",
                &crate::hash::sha256_bytes(stage.name.as_bytes())[..16]
            ))
        });
        if let Some(dir) = &staging {
            let _ = std::fs::remove_dir_all(dir);
            std::fs::create_dir_all(dir)
                .map_err(|e| Error::io("create the staging folder", dir, e))?;
        }
        let ctx = StageContext {
            pipeline: self.pipeline,
            stage,
            inputs,
            upstream,
            side: staging.clone(),
            notes: Default::default(),
            resources: self
                .resources
                .read()
                .unwrap_or_else(|p| p.into_inner())
                .clone(),
        };
        let result =
            self.run_and_write(&ctx, kind.as_ref(), key, digest, staging.as_deref(), &owned);
        if let Some(dir) = &staging {
            let _ = std::fs::remove_dir_all(dir);
        }
        result
    }

    /// The part of [`Engine::execute`] that can fail after the staging folder exists.
    fn run_and_write(
        &self,
        ctx: &StageContext,
        kind: &dyn crate::stage::StageKind,
        key: CacheKey,
        digest: String,
        staging: Option<&std::path::Path>,
        owned: &side::Owned,
    ) -> Result<(Action, StageRecord)> {
        let stage = ctx.stage;
        let started_at = SystemTime::now();
        let t0 = Instant::now();
        remove_stale_temps(&self.pipeline.output_paths(stage));
        let tables = run_kind(ctx, kind)?;
        let written = self.write_tables(stage, tables)?;
        let side_files = match staging.map(|dir| side_files(&stage.name, dir, owned)) {
            Some(Err(e)) => {
                discard(&written);
                return Err(e);
            }
            Some(Ok(files)) => files,
            None => Vec::new(),
        };
        let mut outputs = Vec::new();
        for t in &written {
            crate::fsio::commit(&t.written.temp, &t.dest)?;
            self.hashes.remember(&t.dest, &t.written.sha256);
            self.cache.store_object(&t.dest, &t.written.sha256)?;
            outputs.push(OutputRecord {
                table: t.table.clone(),
                path: self.pipeline.relative(&t.dest).to_string(),
                sha256: t.written.sha256.clone(),
                rows: t.written.rows,
                bytes: t.written.bytes,
                schema: t.schema.clone(),
                file: false,
            });
        }
        if let Some(dir) = staging {
            let rels: Vec<String> = side_files.iter().map(|f| f.0.clone()).collect();
            side::commit(&self.pipeline.root, dir, &rels, owned)?;
            for (rel, sha, bytes) in side_files {
                let dest = self.pipeline.root.join(&rel);
                self.hashes.remember(&dest, &sha);
                self.cache.store_object(&dest, &sha)?;
                outputs.push(OutputRecord {
                    table: None,
                    path: rel,
                    sha256: sha,
                    rows: 0,
                    bytes,
                    schema: Vec::new(),
                    file: true,
                });
            }
        }
        let entry = Entry {
            stage: stage.name.clone(),
            key: digest.clone(),
            definition: key.clone(),
            outputs,
            started: humantime::format_rfc3339_seconds(started_at).to_string(),
            duration_ms: t0.elapsed().as_millis() as u64,
        };
        self.cache.put(&entry)?;
        let notes = ctx.notes.lock().map(|n| n.clone()).unwrap_or_default();
        Ok((Action::Ran(notes), record(stage, &key, &digest, &entry)))
    }

    /// Each table the stage declares, from what the kind produced, to a temporary file beside
    /// its destination; on any failure the temporary files written so far are removed.
    fn write_tables(
        &self,
        stage: &Stage,
        tables: Vec<crate::stage::OutputTable>,
    ) -> Result<Vec<StagedTable>> {
        let mut by_name: BTreeMap<Option<String>, crate::stage::OutputTable> =
            tables.into_iter().map(|t| (t.name.clone(), t)).collect();
        let mut written = Vec::new();
        for (table, dest) in self.pipeline.output_paths(stage) {
            let Some(t) = by_name.remove(&table) else {
                discard(&written);
                return Err(Error::stage(
                    &stage.name,
                    format!(
                        "kind `{}` did not produce table `{}`",
                        stage.kind,
                        table.as_deref().unwrap_or(&stage.name)
                    ),
                ));
            };
            let w = match t.written {
                Some(w) => Ok(w),
                None => crate::table::write_temp(&dest, &t.schema, &t.batches, t.ordered),
            };
            match w {
                Ok(w) => written.push(StagedTable {
                    written: w,
                    dest,
                    table,
                    schema: crate::table::describe_schema(&t.schema),
                }),
                Err(e) => {
                    discard(&written);
                    return Err(e);
                }
            }
        }
        Ok(written)
    }

    fn write_lock(
        &self,
        mut records: BTreeMap<String, StageRecord>,
        input_hashes: &BTreeMap<String, String>,
    ) -> Result<Lock> {
        let mut sources = BTreeMap::new();
        for (name, src) in &self.pipeline.sources {
            let sha = match input_hashes.get(name) {
                Some(h) => h.clone(),
                // A source no selected stage reads keeps what the previous lock said of it.
                None => match self.previous().and_then(|l| l.sources.get(name)) {
                    Some(r) if r.sha256 == src.sha256 => r.sha256.clone(),
                    _ => continue,
                },
            };
            let bytes = std::fs::metadata(&src.path).map(|m| m.len()).unwrap_or(0);
            sources.insert(
                name.clone(),
                SourceRecord {
                    path: src.rel_path.clone(),
                    sha256: sha,
                    bytes,
                    external: src.external,
                },
            );
        }
        let lock = |stages| Lock {
            version: lock::LOCK_VERSION,
            pipeline: self.pipeline.name.clone(),
            run: RunInfo::current_versions(),
            sources: sources.clone(),
            stages,
        };
        // Every stage finished and the lock file what canary last wrote for the same keys and
        // outputs: nothing to write, and the lock never parsed.
        let whole = records.len() == self.pipeline.stages.len();
        let essence = whole.then(|| lock_essence(self.pipeline, &records, &sources));
        let stamp = self.pipeline.state_dir().join("lock.stamp");
        if let Some(e) = &essence {
            let on_disk = std::fs::read(self.pipeline.lock_path())
                .ok()
                .map(|b| crate::hash::sha256_bytes(&b));
            if let (Some(d), Ok(saved)) = (on_disk, std::fs::read_to_string(&stamp)) {
                if saved == format!("{d} {e}\n") {
                    return Ok(lock(records));
                }
            }
        }
        if let Some(prev) = self.previous() {
            for (name, r) in &prev.stages {
                match records.get_mut(name) {
                    // Stages not part of this run keep what the previous lock said about them.
                    None if self.pipeline.stages.contains_key(name) => {
                        records.insert(name.clone(), r.clone());
                    }
                    // A stage that ran again and made the same outputs keeps the times of the
                    // run that first made them, so a run that changes nothing changes no byte
                    // of the lock (this run's times are in the run log).
                    Some(now) if now.same_outputs(r) => {
                        now.started = r.started.clone();
                        now.duration_ms = r.duration_ms;
                    }
                    _ => {}
                }
            }
        }
        let lock = lock(records);
        lock.write(&self.pipeline.lock_path())?;
        if let Some(e) = essence {
            let d = crate::hash::sha256_file(&self.pipeline.lock_path())?;
            crate::fsio::write_replace(&stamp, format!("{d} {e}\n").as_bytes())?;
        }
        Ok(lock)
    }

    pub fn gc(&self) -> Result<String> {
        let _guard = run_guard::RunGuard::acquire(&self.pipeline.state_dir(), &|m| {
            crate::console::errln(&format!("canary: {m}"))
        })?;
        // What the lock records, and what the pipeline as it stands would use: so a missing or
        // damaged lock never makes gc throw away the current outputs' cache.
        let mut keep: Vec<String> = self
            .previous()
            .map(|l| l.stages.values().map(|r| r.key.clone()).collect())
            .unwrap_or_default();
        keep.extend(self.current_keys());
        let (entries, objects, bytes) = self.cache.gc(&keep)?;
        // Outputs of stages no longer in the pipeline.
        let mut stray = 0;
        let expected: std::collections::BTreeSet<PathBuf> = self
            .pipeline
            .stages
            .values()
            .flat_map(|s| self.pipeline.output_paths(s).into_iter().map(|(_, p)| p))
            .collect();
        // Links are removed, never followed: a link under out/ to a folder elsewhere never
        // leads gc to delete what is there.
        for path in crate::fsio::walk_entries(&self.pipeline.out_dir()) {
            if !expected.contains(&path) {
                std::fs::remove_file(&path).map_err(|e| Error::io("remove", &path, e))?;
                stray += 1;
            }
        }
        Ok(format!(
            "removed {entries} cache entries, {objects} cached outputs ({:.1} MB) and {stray} stray files under out/",
            bytes as f64 / 1e6
        ))
    }
}

impl Engine<'_> {
    /// The cache key every stage would have now, following cached outputs downstream.
    fn current_keys(&self) -> Vec<String> {
        let mut input_hashes: BTreeMap<String, String> = BTreeMap::new();
        // A missing source has no hash, and a stage reading it no current key but an empty
        // input hash, which no cached entry has.
        for (name, src) in &self.pipeline.sources {
            if let Some(h) = self
                .hashes
                .hash_expecting(&src.path, &src.sha256)
                .ok()
                .flatten()
            {
                input_hashes.insert(name.clone(), h);
            }
        }
        let mut keys = Vec::new();
        for name in &self.pipeline.order {
            let (_, digest) = self.key_for(&self.pipeline.stages[name], &input_hashes);
            if let Some(e) = self.cache.get(&digest) {
                input_hashes.insert(name.clone(), cache::outputs_hash(&e.outputs));
            }
            keys.push(digest);
        }
        keys
    }
}

fn run_stage(action: &Action, record: &StageRecord) -> lock::RunStage {
    match action {
        Action::Ran(_) => lock::RunStage {
            action: "ran".into(),
            started: Some(record.started.clone()),
            duration_ms: Some(record.duration_ms),
        },
        Action::UpToDate => lock::RunStage {
            action: "cached".into(),
            started: None,
            duration_ms: None,
        },
        Action::Restored => lock::RunStage {
            action: "restored".into(),
            started: None,
            duration_ms: None,
        },
    }
}

/// A table written to its temporary file, waiting to be moved into place.
struct StagedTable {
    written: crate::table::Written,
    dest: PathBuf,
    table: Option<String>,
    schema: Vec<String>,
}

fn discard(written: &[StagedTable]) {
    for t in written {
        let _ = std::fs::remove_file(&t.written.temp);
    }
}

/// The kind's `run`, with a panic turned into the stage's error: earlier outputs stay intact.
fn run_kind(
    ctx: &StageContext,
    kind: &dyn crate::stage::StageKind,
) -> Result<Vec<crate::stage::OutputTable>> {
    match std::panic::catch_unwind(AssertUnwindSafe(|| kind.run(ctx))) {
        Ok(r) => r,
        Err(panic) => {
            let msg = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "unknown panic".into());
            let stage = ctx.stage;
            Err(Error::stage(&stage.name, format!("it panicked: {msg}"))
                .with_hint("this is a bug in canary's `".to_string() + &stage.kind + "` kind: please report it with the stage definition; earlier outputs are intact"))
        }
    }
}

/// The files the stage wrote into its staging folder, each with its hash and size.
fn side_files(
    stage: &str,
    dir: &std::path::Path,
    owned: &side::Owned,
) -> Result<Vec<(String, String, u64)>> {
    let mut out = Vec::new();
    for rel in side::staged(stage, dir, owned)? {
        let staged = dir.join(&rel);
        let sha = crate::hash::sha256_file(&staged)?;
        let bytes = std::fs::metadata(&staged).map(|m| m.len()).unwrap_or(0);
        out.push((rel, sha, bytes));
    }
    Ok(out)
}

fn record(stage: &Stage, key: &CacheKey, digest: &str, e: &Entry) -> StageRecord {
    StageRecord {
        sql_params: stage.sql_params.clone(),
        kind: key.kind.clone(),
        kind_version: key.kind_version,
        key: digest.to_string(),
        params: key.params.clone(),
        sql_sha256: key.sql_sha256.clone(),
        inputs: key.inputs.clone(),
        files: key.files.clone(),
        identity: key.identity.clone(),
        outputs: e
            .outputs
            .iter()
            .map(|o| OutputRecord {
                schema: if stage.parent().is_some() {
                    Vec::new()
                } else {
                    o.schema.clone()
                },
                ..o.clone()
            })
            .collect(),
        started: e.started.clone(),
        duration_ms: e.duration_ms,
    }
}

/// What identifies a lock's content but its times: every stage's key and outputs, every
/// source's hash, the versions. Equal essences and an intact file mean the lock on disk is the
/// one this run would write (`.canary/lock.stamp` keeps both digests).
fn lock_essence(
    p: &Pipeline,
    records: &BTreeMap<String, StageRecord>,
    sources: &BTreeMap<String, SourceRecord>,
) -> String {
    use sha2::Digest;
    let mut h = sha2::Sha256::new();
    let v = RunInfo::current_versions();
    h.update(format!(
        "{}\n{}\n{} {} {}\n",
        lock::LOCK_VERSION,
        p.name,
        v.canary_version,
        v.datafusion_version,
        v.arrow_version
    ));
    for (name, src) in sources {
        h.update(format!(
            "source {name} {} {} {}\n",
            src.path, src.sha256, src.external
        ));
    }
    for (name, r) in records {
        h.update(format!("stage {name} {}\n", r.key));
        for o in &r.outputs {
            h.update(format!("  {} {} {}\n", o.path, o.sha256, o.rows));
        }
    }
    hex::encode(h.finalize())
}

/// The line a finished stage prints.
fn finished_line(name: &str, action: &Action, record: &StageRecord) -> String {
    let kind = &record.kind;
    match action {
        Action::Ran(notes) => {
            let rows: usize = record
                .outputs
                .iter()
                .filter(|o| !o.file)
                .map(|o| o.rows)
                .sum();
            let mut line = format!(
                "  ran       {name} ({kind}) in {:.2}s, {rows} rows",
                record.duration_ms as f64 / 1000.0
            );
            for n in notes {
                line.push_str(&format!("\n            note: {n}"));
            }
            line
        }
        Action::UpToDate => format!("  cached    {name} ({kind})"),
        Action::Restored => format!("  restored  {name} ({kind}) from the cache"),
    }
}

/// What the cells of one sweep did in a run.
#[derive(Debug, Default)]
struct SweepTally {
    ran: usize,
    cached: usize,
    restored: usize,
    ms: u64,
}

impl SweepTally {
    fn add(&mut self, action: &Action, ms: u64) {
        match action {
            Action::Ran(_) => {
                self.ran += 1;
                self.ms += ms;
            }
            Action::UpToDate => self.cached += 1,
            Action::Restored => self.restored += 1,
        }
    }

    fn describe(&self, cells: usize) -> String {
        let mut parts = vec![
            format!("{} ran", thousands(self.ran)),
            format!("{} up to date", thousands(self.cached)),
        ];
        if self.restored > 0 {
            parts.push(format!("{} restored", thousands(self.restored)));
        }
        format!("{} cells: {}", thousands(cells), parts.join(", "))
    }
}

/// 1234567 → "1,234,567".
pub fn thousands(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The lines of `status` / `--dry-run`: one per stage, and one per sweep (its cells summed up,
/// with the reasons they will run) unless `verbose` lists every cell.
pub fn status_lines(
    p: &Pipeline,
    plan: &[(String, Decision)],
    dry: bool,
    verbose: bool,
) -> Vec<String> {
    let mut cells: HashMap<&str, Vec<&Decision>> = HashMap::new();
    let mut out = Vec::new();
    for (name, verdict) in plan {
        let stage = &p.stages[name];
        if let Some(parent) = stage.parent() {
            cells.entry(parent).or_default().push(verdict);
            if verbose {
                out.push(describe(name, verdict, dry));
            }
            continue;
        }
        let Some(Sweep::Stack { cells: n, .. }) = &stage.sweep else {
            out.push(describe(name, verdict, dry));
            continue;
        };
        let mine = cells.remove(name.as_str()).unwrap_or_default();
        let fresh = mine.iter().filter(|v| ***v == Decision::UpToDate).count();
        let mut why: BTreeMap<String, usize> = BTreeMap::new();
        for v in &mine {
            let reasons = match v {
                Decision::UpToDate => continue,
                Decision::Restore(r) => r.iter().map(|r| format!("restored: {r}")).collect(),
                Decision::Run(r) => r.iter().map(Reason::to_string).collect(),
                Decision::AfterUpstream(up, own) => {
                    let mut r = vec![format!(
                        "upstream {} will run",
                        up.iter()
                            .map(|u| format!("`{u}`"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    )];
                    r.extend(own.iter().map(Reason::to_string));
                    r
                }
            };
            for r in reasons {
                // A cell's reasons name the cell; the sweep's line counts them together.
                *why.entry(
                    r.replace(&format!("`{name}["), &format!("`{name}[…"))
                        .to_string(),
                )
                .or_insert(0) += 1;
            }
        }
        let will = if dry { "would run" } else { "will run" };
        let mut line = format!(
            "{name}: {} cells, {} up to date",
            thousands(*n),
            thousands(fresh)
        );
        if fresh < mine.len() {
            let reasons: Vec<String> = why
                .iter()
                .map(|(r, k)| format!("{} because {r}", thousands(*k)))
                .collect();
            line.push_str(&format!(
                ", {} {will} ({})",
                thousands(mine.len() - fresh),
                reasons.join("; ")
            ));
        }
        if *verdict != Decision::UpToDate {
            line.push_str(&format!("; its stacked tables {will}"));
        }
        out.push(line);
    }
    out
}

/// One line of `status` / `--dry-run`.
pub fn describe(name: &str, v: &Decision, dry: bool) -> String {
    let will = if dry { "would run" } else { "will run" };
    match v {
        Decision::UpToDate => format!("{name}: up to date"),
        Decision::Restore(why) => format!(
            "{name}: {} from the cache, because {}",
            if dry {
                "would be restored"
            } else {
                "will be restored"
            },
            reason::join(why)
        ),
        Decision::Run(why) => format!("{name}: {will} because {}", reason::join(why)),
        Decision::AfterUpstream(up, own) => {
            let mut s = format!(
                "{name}: {will} because upstream stage{} {} will run",
                if up.len() > 1 { "s" } else { "" },
                up.iter()
                    .map(|u| format!("`{u}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            if !own.is_empty() {
                s.push_str(&format!("; also {}", reason::join(own)));
            }
            s
        }
    }
}

/// Temp files a killed run left in a stage's output folders: removed before the stage writes
/// there again (under the run lock), so a run touches only the folders of stages that run.
fn remove_stale_temps(paths: &[(Option<String>, PathBuf)]) {
    for (_, dest) in paths {
        let (Some(dir), prefix) = (dest.parent(), crate::table::temp_prefix(dest)) else {
            continue;
        };
        let Ok(rd) = std::fs::read_dir(dir) else {
            continue;
        };
        for e in rd.filter_map(|e| e.ok()) {
            if e.file_name().to_string_lossy().starts_with(&prefix) {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
}
