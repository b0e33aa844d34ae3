//! What the report reads: its input stages' tables by name, and the panel's indicators with
//! their labels, units, quadrants, first years and definition breaks.

use std::collections::{BTreeMap, BTreeSet};

use super::ReportParams;
use crate::error::Result;
use crate::pipeline::Pipeline;
use crate::stage::columns::TableData;
use crate::stage::StageContext;

/// The stages a report must read, and those it reads when listed (a section says so when not).
pub const REQUIRED: [&str; 5] = ["panel", "trends", "correlations", "model", "cohorts"];
pub const SWEEP: &str = "model_sweep";
pub const DIRECT: &str = "model_direct";
pub const EARLY_WARNING: &str = "early_warning";
pub const CLAIMS: &str = "claims";

/// The report stage's view of its inputs.
pub struct Inputs<'a> {
    pub ctx: &'a StageContext<'a>,
    /// The report stage's own params.
    pub params: ReportParams,
}

impl<'a> Inputs<'a> {
    /// A table of an input stage (`None`: its main table), labelled by its SQL name.
    pub fn table(&self, stage: &str, table: Option<&str>) -> Result<TableData> {
        let (s, b) = self.ctx.read_table(stage, table)?;
        TableData::new(
            &format!("`{}`", Pipeline::sql_table_name(stage, table)),
            s,
            &b,
        )
    }

    /// Whether the report stage lists `stage` among its inputs.
    pub fn reads(&self, stage: &str) -> bool {
        self.ctx.stage.inputs.iter().any(|i| i == stage)
    }

    pub fn has_table(&self, stage: &str, table: Option<&str>) -> bool {
        self.ctx.has_table(stage, table)
    }

    /// Another stage's params, as its kind's struct: what that stage ran with, defaults
    /// included.
    pub fn stage_params<T: serde::de::DeserializeOwned>(&self, stage: &str) -> Option<T> {
        self.ctx.pipeline.stages.get(stage)?.params_as().ok()
    }
}

/// One indicator of the panel.
#[derive(Debug, Clone, Default)]
pub struct Indicator {
    pub label: String,
    pub unit: String,
    pub quadrant: String,
    /// The first year any definition covers (None when the panel has no definitions).
    pub first_year: Option<i64>,
    /// The last year a definition covers; None when one is open-ended (or none is known).
    pub last_year: Option<i64>,
    /// Each later definition's first year and what changed (the first definition's note is
    /// why earlier years are missing).
    pub breaks: Vec<(i64, String)>,
}

/// The panel's indicators: from its `definitions` table when it has one (a `harmonise`
/// panel), else from an input stage named `panel_definitions`, else the indicators the
/// panel's rows hold, labelled by their ids.
pub struct Indicators {
    pub by_id: BTreeMap<String, Indicator>,
    /// Where the names came from, for messages: `panel_definitions` or `panel`.
    pub source: String,
}

impl Indicators {
    pub fn read(inp: &Inputs) -> Result<Indicators> {
        let defs = if inp.has_table("panel", Some("definitions")) {
            Some(inp.table("panel", Some("definitions"))?)
        } else if inp.reads("panel_definitions") {
            Some(inp.table("panel_definitions", None)?)
        } else {
            None
        };
        let Some(defs) = defs else {
            let p = inp.table("panel", None)?;
            let ids: BTreeSet<String> = p.strings("indicator")?.into_iter().flatten().collect();
            let by_id = ids
                .into_iter()
                .map(|id| {
                    (
                        id.clone(),
                        Indicator {
                            label: id,
                            ..Indicator::default()
                        },
                    )
                })
                .collect();
            return Ok(Indicators {
                by_id,
                source: "panel".into(),
            });
        };
        let mut open_ended: BTreeSet<String> = BTreeSet::new();
        let mut by_id: BTreeMap<String, Indicator> = BTreeMap::new();
        for d in defs.records_or_null::<Definition>(&["last_year"])? {
            let Some(id) = d.indicator else { continue };
            let e = by_id.entry(id.clone()).or_insert_with(|| Indicator {
                label: d.label.unwrap_or_default(),
                unit: d.unit.unwrap_or_default(),
                quadrant: d.quadrant.unwrap_or_default(),
                ..Indicator::default()
            });
            match d.last_year {
                Some(l) => e.last_year = Some(e.last_year.map_or(l, |m| m.max(l))),
                None => {
                    open_ended.insert(id);
                }
            }
            if let Some(y) = d.first_year {
                e.first_year = Some(e.first_year.map_or(y, |f| f.min(y)));
                if let Some(b) = d.break_ {
                    e.breaks.push((y, b));
                }
            }
        }
        for (id, e) in by_id.iter_mut() {
            e.breaks.sort();
            if open_ended.contains(id) {
                e.last_year = None;
            }
        }
        Ok(Indicators {
            by_id,
            source: "panel_definitions".into(),
        })
    }

    /// The label of an indicator, or its id when the panel does not know it.
    pub fn label(&self, id: &str) -> String {
        self.by_id
            .get(id)
            .map(|i| i.label.clone())
            .filter(|l| !l.is_empty())
            .unwrap_or_else(|| id.to_string())
    }

    pub fn contains(&self, id: &str) -> bool {
        self.by_id.contains_key(id)
    }

    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.by_id.keys().map(String::as_str)
    }
}

/// A row of the panel's definitions as the report reads it.
#[derive(serde::Deserialize)]
struct Definition {
    indicator: Option<String>,
    label: Option<String>,
    unit: Option<String>,
    quadrant: Option<String>,
    first_year: Option<i64>,
    #[serde(rename = "break")]
    break_: Option<String>,
    /// Optional: definitions without it have no indicator that ends.
    last_year: Option<i64>,
}
