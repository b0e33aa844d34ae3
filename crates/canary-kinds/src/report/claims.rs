//! The claims ledger at the top of the report: every row of the `claims` stage's table — the
//! paper's claim, its verdict, the evidence and the rule that decided it — with links to the
//! report section and the stage that hold the evidence, and a count per verdict.
//!
//! The table's contract (one row per claim): `position` (display order), `id`, `section`,
//! `claim`, `verdict` (one of [`VERDICTS`]), `evidence`, `rule`, `stage`, `anchor` (a section
//! id of this report). A verdict outside the four, or an anchor or stage the report cannot
//! link to, is an error naming the claim: a ledger whose links go nowhere is not shown.

use serde::Serialize;

use super::input::{Inputs, CLAIMS};
use crate::error::Result;

/// The verdicts, in the order they are counted; each with the CSS class that styles it and a
/// mark that tells them apart without colour.
pub const VERDICTS: [(&str, &str, &str); 4] = [
    ("reproduced", "v-reproduced", "✓"),
    ("partly reproduced", "v-partly", "◐"),
    ("not reproduced", "v-not", "✗"),
    (
        "cannot be tested with the published data",
        "v-untestable",
        "?",
    ),
];

#[derive(Serialize)]
pub struct ClaimsSection {
    /// False when the report does not read a `claims` stage.
    pub computed: bool,
    pub stage: &'static str,
    pub total: usize,
    pub counts: Vec<VerdictCount>,
    pub rows: Vec<ClaimRow>,
}

#[derive(Serialize)]
pub struct VerdictCount {
    pub verdict: &'static str,
    pub class: &'static str,
    pub mark: &'static str,
    pub n: usize,
}

#[derive(Serialize)]
pub struct ClaimRow {
    pub position: i64,
    pub id: String,
    pub section: String,
    pub claim: String,
    pub verdict: String,
    pub class: &'static str,
    pub mark: &'static str,
    pub evidence: String,
    pub rule: String,
    pub stage: String,
    /// The appendix entry of the stage (a sweep's cell links to its sweep).
    pub stage_anchor: String,
    pub anchor: String,
    pub anchor_title: String,
}

/// `anchors`: the report's section ids with their titles, as this run renders them.
pub fn build(inp: &Inputs, anchors: &[(String, String)]) -> Result<ClaimsSection> {
    let mut section = ClaimsSection {
        computed: inp.reads(CLAIMS),
        stage: CLAIMS,
        total: 0,
        counts: Vec::new(),
        rows: Vec::new(),
    };
    if section.computed {
        section.rows = rows(inp, anchors)?;
    }
    section.total = section.rows.len();
    section.counts = VERDICTS
        .iter()
        .map(|(verdict, class, mark)| VerdictCount {
            verdict,
            class,
            mark,
            n: section
                .rows
                .iter()
                .filter(|r| r.verdict == *verdict)
                .count(),
        })
        .collect();
    Ok(section)
}

fn rows(inp: &Inputs, anchors: &[(String, String)]) -> Result<Vec<ClaimRow>> {
    let ledger = inp.table(CLAIMS, None)?.records::<Ledger>()?;
    let mut rows = Vec::with_capacity(ledger.len());
    for l in ledger {
        // Whitespace runs (line breaks included) as one space: each field is one line of a table.
        let text = |v: Option<String>| {
            v.unwrap_or_default()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        };
        let position = l.position.unwrap_or_default();
        let (id, verdict, anchor, stage) =
            (text(l.id), text(l.verdict), text(l.anchor), text(l.stage));
        let fail = |what: String| {
            inp.ctx.fail(format!(
                "claim `{id}` (position {position}) of `{CLAIMS}`: {what}"
            ))
        };
        let Some(&(_, class, mark)) = VERDICTS.iter().find(|(v, ..)| *v == verdict) else {
            let all: Vec<String> = VERDICTS.iter().map(|(v, ..)| format!("`{v}`")).collect();
            return Err(fail(format!(
                "verdict `{verdict}` is not one of {}",
                all.join(", ")
            )));
        };
        let Some((_, anchor_title)) = anchors.iter().find(|(a, _)| *a == anchor) else {
            let all: Vec<&str> = anchors.iter().map(|(a, _)| a.as_str()).collect();
            let hint = crate::error::did_you_mean(&anchor, all.iter().copied())
                .map(|h| format!(" ({h})"))
                .unwrap_or_default();
            return Err(fail(format!(
                "anchor `{anchor}` is not a section of this report{hint}; its sections are {}",
                all.join(", ")
            )));
        };
        let Some(target) = stage_anchor(inp, &stage) else {
            return Err(fail(format!(
                "stage `{stage}` is not a stage or source of the pipeline"
            )));
        };
        rows.push(ClaimRow {
            position,
            section: text(l.section),
            claim: text(l.claim),
            class,
            mark,
            evidence: text(l.evidence),
            rule: text(l.rule),
            stage_anchor: target,
            anchor_title: anchor_title.clone(),
            id,
            verdict,
            stage,
            anchor,
        });
    }
    rows.sort_by(|a, b| a.position.cmp(&b.position).then_with(|| a.id.cmp(&b.id)));
    Ok(rows)
}

/// Where the report describes a stage: its appendix entry (its sweep's for a cell), or a
/// source's row in the data section.
fn stage_anchor(inp: &Inputs, stage: &str) -> Option<String> {
    let p = inp.ctx.pipeline;
    match p.stages.get(stage) {
        Some(s) => Some(format!("stage-{}", s.parent().unwrap_or(&s.name))),
        None => p
            .sources
            .contains_key(stage)
            .then(|| format!("source-{stage}")),
    }
}

/// A row of the claims ledger as the report reads it.
#[derive(serde::Deserialize)]
struct Ledger {
    position: Option<i64>,
    id: Option<String>,
    section: Option<String>,
    claim: Option<String>,
    verdict: Option<String>,
    evidence: Option<String>,
    rule: Option<String>,
    stage: Option<String>,
    anchor: Option<String>,
}
