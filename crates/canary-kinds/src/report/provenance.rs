//! The provenance appendix: the pipeline's graph, the run (commit, versions, host), and per
//! stage its description, params, SQL and — for the stages this report depends on, whatever
//! `--jobs` was — its key, input and output hashes and duration. A sweep (`matrix:`) is one
//! entry however many cells it has: its swept params and values, the params its cells share,
//! its stacked outputs, a digest of its cells' keys, and the cells themselves when few.

use std::collections::BTreeSet;

use serde::Serialize;

use super::charts;
use super::format::int_ranges;
use crate::lockfile::{RunInfo, StageRecord};
use crate::pipeline::{Pipeline, Stage, Sweep};
use crate::stage::StageContext;

/// Up to this many cells, a sweep's entry lists each with its key.
const LIST_CELLS: usize = 12;

#[derive(Serialize)]
pub struct ProvenanceSection {
    pub dag: String,
    pub run: RunInfo,
    pub stages: Vec<StageEntry>,
}

#[derive(Serialize)]
pub struct StageEntry {
    pub name: String,
    pub kind: String,
    pub description: Option<String>,
    pub inputs: Vec<String>,
    pub params: String,
    pub sql: Option<String>,
    pub sql_file: Option<String>,
    pub record: Option<Record>,
    /// This report's own stage (its record is in the lock once it is written).
    pub this: bool,
    pub sweep: Option<SweepEntry>,
}

#[derive(Serialize)]
pub struct Record {
    pub key: String,
    pub kind_version: u32,
    pub inputs: Vec<Hashed>,
    pub files: Vec<Hashed>,
    pub outputs: Vec<Output>,
    pub started: String,
    pub duration: String,
}

#[derive(Serialize)]
pub struct Hashed {
    pub name: String,
    pub sha256: String,
}

#[derive(Serialize)]
pub struct Output {
    pub path: String,
    pub rows: usize,
    pub sha256: String,
}

#[derive(Serialize)]
pub struct SweepEntry {
    pub cells: usize,
    /// The kind each cell runs.
    pub cell_kind: String,
    pub axes: Vec<SweptParam>,
    /// The params every cell shares (the swept ones aside), as JSON.
    pub shared_params: String,
    /// Each cell with its values and key, when there are at most a few.
    pub cell_rows: Vec<CellRow>,
    pub recorded: usize,
    /// SHA-256 over the recorded cells' keys in cell order, one per line.
    pub keys_digest: String,
    /// Summed over the recorded cells (run-specific).
    pub duration: String,
}

#[derive(Serialize)]
pub struct SweptParam {
    pub param: String,
    pub values: String,
    pub count: usize,
}

#[derive(Serialize)]
pub struct CellRow {
    pub values: Vec<String>,
    pub key: String,
}

pub fn build(ctx: &StageContext) -> ProvenanceSection {
    let p = ctx.pipeline;
    // Records are shown only for the stages this report depends on: which others happen to
    // have finished first depends on --jobs, and the report must not.
    let ancestors: BTreeSet<String> = p
        .upstream_closure(std::slice::from_ref(&ctx.stage.name))
        .into_iter()
        .collect();
    let record = |n: &str| ctx.upstream.get(n).filter(|_| ancestors.contains(n));
    let stages = p
        .order
        .iter()
        .map(|n| &p.stages[n])
        .filter(|s| s.parent().is_none())
        .map(|s| {
            let sweep = match &s.sweep {
                Some(Sweep::Stack { params, .. }) => Some(sweep_entry(p, s, params, &record)),
                _ => None,
            };
            StageEntry {
                name: s.name.clone(),
                kind: s.kind.clone(),
                description: s.description.clone(),
                inputs: if sweep.is_some() {
                    Vec::new()
                } else {
                    s.inputs.clone()
                },
                params: serde_json::to_string_pretty(&s.params).unwrap_or_default(),
                sql: s.sql.clone(),
                sql_file: s.sql_file.clone(),
                record: record(&s.name).map(|r| record_of(r, sweep.is_none())),
                this: s.name == ctx.stage.name,
                sweep,
            }
        })
        .collect();
    ProvenanceSection {
        dag: dag(p),
        run: RunInfo::current(&p.root),
        stages,
    }
}

/// A stage's record as the appendix shows it; a sweep's inputs (its cells) are summarised by
/// its entry instead.
fn record_of(r: &StageRecord, with_inputs: bool) -> Record {
    Record {
        key: r.key.clone(),
        kind_version: r.kind_version,
        inputs: if with_inputs {
            r.inputs
                .iter()
                .map(|(k, v)| Hashed {
                    name: k.clone(),
                    sha256: v.clone(),
                })
                .collect()
        } else {
            Vec::new()
        },
        files: r
            .files
            .iter()
            .map(|(k, v)| Hashed {
                name: k.clone(),
                sha256: v.clone(),
            })
            .collect(),
        outputs: r
            .outputs
            .iter()
            .map(|o| Output {
                path: o.path.clone(),
                rows: o.rows,
                sha256: o.sha256.clone(),
            })
            .collect(),
        started: r.started.clone(),
        duration: format!("{:.2} s", r.duration_ms as f64 / 1000.0),
    }
}

/// A cell's swept values, in the sweep's param order.
fn cell_values(c: &Stage, params: &[String]) -> Vec<serde_json::Value> {
    match &c.sweep {
        Some(Sweep::Cell { values, .. }) => params
            .iter()
            .map(|k| {
                values
                    .iter()
                    .find(|(n, _)| n == k)
                    .map(|(_, v)| v.clone())
                    .unwrap_or_default()
            })
            .collect(),
        _ => Vec::new(),
    }
}

fn text(v: &serde_json::Value) -> String {
    v.as_str().map_or_else(|| v.to_string(), str::to_string)
}

/// Each swept param with its values: integer ranges compacted ("1..100"), others listed in
/// the order the cells take them.
fn swept(cells: &[&Stage], params: &[String]) -> Vec<SweptParam> {
    params
        .iter()
        .enumerate()
        .map(|(j, param)| {
            let vs: Vec<serde_json::Value> = cells
                .iter()
                .map(|c| cell_values(c, params).get(j).cloned().unwrap_or_default())
                .collect();
            let distinct: BTreeSet<String> = vs.iter().map(text).collect();
            let ints: Option<Vec<i64>> = vs.iter().map(|v| v.as_i64()).collect();
            let values = match ints {
                Some(i) if distinct.len() > 3 => int_ranges(&i),
                _ => {
                    let mut seen: Vec<String> = Vec::new();
                    for v in vs.iter().map(text) {
                        if !seen.contains(&v) {
                            seen.push(v);
                        }
                    }
                    seen.join(", ")
                }
            };
            SweptParam {
                param: param.clone(),
                values,
                count: distinct.len(),
            }
        })
        .collect()
}

fn sweep_entry<'a>(
    p: &Pipeline,
    stack: &Stage,
    params: &[String],
    record: &dyn Fn(&str) -> Option<&'a StageRecord>,
) -> SweepEntry {
    let cells: Vec<&Stage> = stack
        .inputs
        .iter()
        .filter_map(|c| p.stages.get(c))
        .collect();
    let mut shared = cells.first().map(|c| c.params.clone()).unwrap_or_default();
    shared.retain(|k, _| !params.contains(k));
    let recorded: Vec<&StageRecord> = cells.iter().filter_map(|c| record(&c.name)).collect();
    let keys: String = recorded.iter().map(|r| format!("{}\n", r.key)).collect();
    let cell_rows = if cells.len() <= LIST_CELLS {
        cells
            .iter()
            .map(|c| CellRow {
                values: cell_values(c, params).iter().map(text).collect(),
                key: record(&c.name).map(|r| r.key.clone()).unwrap_or_default(),
            })
            .collect()
    } else {
        Vec::new()
    };
    SweepEntry {
        cells: cells.len(),
        cell_kind: cells.first().map(|c| c.kind.clone()).unwrap_or_default(),
        axes: swept(&cells, params),
        shared_params: serde_json::to_string_pretty(&shared).unwrap_or_default(),
        cell_rows,
        recorded: recorded.len(),
        keys_digest: crate::hash::sha256_bytes(keys.as_bytes()),
        duration: format!(
            "{:.2} s",
            recorded.iter().map(|r| r.duration_ms).sum::<u64>() as f64 / 1000.0
        ),
    }
}

/// The graph with each sweep drawn as one node: a cell's inputs become its sweep's.
fn dag(p: &Pipeline) -> String {
    let shown = |n: &str| -> String {
        p.stages
            .get(n)
            .and_then(|s| s.parent())
            .unwrap_or(n)
            .to_string()
    };
    let mut edges: Vec<(String, String)> = Vec::new();
    for n in &p.order {
        let to = shown(n);
        for i in &p.stages[n].inputs {
            let from = shown(i);
            if from != to && !edges.contains(&(from.clone(), to.clone())) {
                edges.push((from, to.clone()));
            }
        }
    }
    let nodes = p
        .sources
        .keys()
        .map(|s| charts::DagNode {
            name: s.clone(),
            kind: "source".into(),
            group: "source".into(),
        })
        .chain(
            p.order
                .iter()
                .map(|n| &p.stages[n])
                .filter(|s| s.parent().is_none())
                .map(|s| {
                    let kind = match &s.sweep {
                        Some(Sweep::Stack { cells, .. }) => {
                            let cell_kind = s
                                .inputs
                                .first()
                                .and_then(|c| p.stages.get(c))
                                .map_or(s.kind.as_str(), |c| c.kind.as_str());
                            format!("{cell_kind} × {cells}")
                        }
                        _ => s.kind.clone(),
                    };
                    charts::DagNode {
                        name: s.name.clone(),
                        group: kind.split(['.', ' ']).next().unwrap_or("").to_string(),
                        kind,
                    }
                }),
        )
        .collect();
    charts::dag(&charts::Dag {
        title: "The pipeline".into(),
        nodes,
        edges,
    })
}
