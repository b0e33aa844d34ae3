//! The scheduler: stages start as soon as their selected inputs are done, up to `--jobs` at
//! a time, in pipeline order among those ready. Everything is by index into the selected
//! stages, built once, so a run of thousands of stages costs O(stages + edges): a stage found
//! up to date settles without a thread, and only a kind that asks for the finished stages'
//! records (the report) gets a copy of them.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use std::sync::mpsc;

use super::progress::Progress;
use super::{cache, finished_line, record, run_stage, Action, Decision, Engine, RunOptions};
use super::{Summary, SweepTally};
use crate::error::{Error, Result};
use crate::lockfile::{self as lock, StageRecord};
use crate::pipeline::Sweep;

/// The selected stages as a graph by index: how many selected inputs each still waits for,
/// who waits for it, and which are ready (a set of indices, so they start in pipeline order).
struct Graph {
    waiting: Vec<usize>,
    dependents: Vec<Vec<usize>>,
    ready: BTreeSet<usize>,
}

impl Graph {
    fn new(engine: &Engine, selected: &[String]) -> Graph {
        let index: HashMap<&str, usize> = selected
            .iter()
            .enumerate()
            .map(|(i, s)| (s.as_str(), i))
            .collect();
        let mut waiting = vec![0; selected.len()];
        let mut dependents = vec![Vec::new(); selected.len()];
        for (i, name) in selected.iter().enumerate() {
            for input in &engine.pipeline.stages[name].inputs {
                if let Some(&j) = index.get(input.as_str()) {
                    waiting[i] += 1;
                    dependents[j].push(i);
                }
            }
        }
        let ready = (0..selected.len()).filter(|i| waiting[*i] == 0).collect();
        Graph {
            waiting,
            dependents,
            ready,
        }
    }

    /// Stage `i` finished: those waiting only for it become ready.
    fn done(&mut self, i: usize) {
        for &d in &self.dependents[i] {
            self.waiting[d] -= 1;
            if self.waiting[d] == 0 {
                self.ready.insert(d);
            }
        }
    }
}

/// What a run has found so far.
pub(super) struct RunState {
    /// Each source's and each finished stage's content hash: the next stages' cache keys.
    pub input_hashes: BTreeMap<String, String>,
    pub records: BTreeMap<String, StageRecord>,
    pub summary: Summary,
    pub failures: Vec<Error>,
    /// What each stage did in this run, for the run log.
    pub this_run: BTreeMap<String, lock::RunStage>,
    sweeps: HashMap<String, SweepTally>,
}

type Outcome = Result<(Action, StageRecord)>;

impl RunState {
    pub fn new(input_hashes: BTreeMap<String, String>) -> RunState {
        RunState {
            input_hashes,
            records: BTreeMap::new(),
            summary: Summary::default(),
            failures: Vec::new(),
            this_run: BTreeMap::new(),
            sweeps: HashMap::new(),
        }
    }
}

impl Engine<'_> {
    /// Run the selected stages to the end, or until one fails: after a failure the stages
    /// running finish and are recorded, but nothing new starts.
    pub(super) fn schedule(
        &self,
        opts: &RunOptions,
        selected: &[String],
        progress: &Progress,
        state: &mut RunState,
    ) {
        let jobs = opts.jobs.max(1);
        let mut graph = Graph::new(self, selected);
        std::thread::scope(|scope| {
            let (tx, rx) = mpsc::channel::<(usize, Outcome)>();
            let mut running = 0usize;
            // Stages found up to date without starting a thread: in a no-op run, all of them.
            let mut settled: VecDeque<(usize, Outcome)> = VecDeque::new();
            loop {
                while state.failures.is_empty() && running < jobs {
                    let Some(i) = graph.ready.pop_first() else {
                        break;
                    };
                    let stage = &self.pipeline.stages[&selected[i]];
                    let (key, digest) = self.key_for(stage, &state.input_hashes);
                    let (decision, entry) = match self.verdict(stage, &key, &digest, opts.force) {
                        Ok(v) => v,
                        Err(e) => {
                            settled.push_back((i, Err(e)));
                            continue;
                        }
                    };
                    if let (Decision::UpToDate, Some(e)) = (&decision, &entry) {
                        let done = record(stage, &key, &digest, e);
                        settled.push_back((i, Ok((Action::UpToDate, done))));
                        continue;
                    }
                    running += 1;
                    if opts.verbose || stage.parent().is_none() {
                        progress.started(&selected[i], &stage.kind);
                    }
                    let tx = tx.clone();
                    let kind = self.registry.get(&stage.kind).expect("validated kind");
                    let upstream = if kind.needs_upstream() {
                        state.records.clone()
                    } else {
                        BTreeMap::new()
                    };
                    scope.spawn(move || {
                        let result =
                            self.bring_up_to_date(stage, key, digest, (decision, entry), upstream);
                        let _ = tx.send((i, result));
                    });
                }
                let (i, result) = match settled.pop_front() {
                    Some(done) => done,
                    None if running > 0 => {
                        let Ok(done) = rx.recv() else { break };
                        running -= 1;
                        done
                    }
                    None => break,
                };
                if self.settle(opts, &selected[i], result, progress, state) {
                    graph.done(i);
                }
            }
        });
    }

    /// Take in what a stage did: count it, print its line (a sweep's cells in their sweep's),
    /// record it. Whether it succeeded, so its dependents may start.
    fn settle(
        &self,
        opts: &RunOptions,
        name: &str,
        result: Outcome,
        progress: &Progress,
        state: &mut RunState,
    ) -> bool {
        let stage = &self.pipeline.stages[name];
        let (action, record) = match result {
            Ok(done) => done,
            Err(e) => {
                state.this_run.insert(
                    name.to_string(),
                    lock::RunStage {
                        action: "failed".into(),
                        started: None,
                        duration_ms: None,
                    },
                );
                let _ = progress.finished(name, &format!("  FAILED    {name}"));
                state.failures.push(e.in_stage(name));
                return false;
            }
        };
        let line = finished_line(name, &action, &record);
        state
            .this_run
            .insert(name.to_string(), run_stage(&action, &record));
        match &action {
            Action::Ran(_) => state.summary.ran.push(name.to_string()),
            Action::UpToDate => state.summary.up_to_date.push(name.to_string()),
            Action::Restored => state.summary.restored.push(name.to_string()),
        }
        let printed = match (stage.parent(), &stage.sweep) {
            // A cell: counted in its sweep's line, printed alone with --verbose.
            (Some(parent), _) => {
                state
                    .sweeps
                    .entry(parent.to_string())
                    .or_default()
                    .add(&action, record.duration_ms);
                if opts.verbose {
                    progress.finished(name, &line)
                } else {
                    progress.tick();
                    Ok(())
                }
            }
            (None, Some(Sweep::Stack { cells, .. })) => {
                let tally = state.sweeps.remove(name).unwrap_or_default();
                progress.finished(name, &format!("{line}; {}", tally.describe(*cells)))
            }
            _ => progress.finished(name, &line),
        };
        // Output that cannot be written stops the run as a failed stage does.
        if let Err(e) = printed {
            if state.failures.is_empty() {
                state.failures.push(e);
            }
        }
        state
            .input_hashes
            .insert(name.to_string(), cache::outputs_hash(&record.outputs));
        state.records.insert(name.to_string(), record);
        true
    }
}
