//! `claims`: the ledger of the paper's findings — a verdict per claim, with the numbers behind
//! it and the rule that decided it (`crate::claims`). This kind gathers the evidence from the
//! run's tables; the rules are pure functions there.
//!
//! Every indicator a published claim names must be one of the panel's: a misnamed item is an
//! error naming it and the nearest name, never a claim quietly "not in our panel".

use std::collections::BTreeMap;

use crate::pipeline::KindSpec;
use crate::stage::columns::{from_rows, TableData};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::claims::{
    assess, unknown_names, CohortEvidence, Evidence, ModelEvidence, Pair, Published,
};
use crate::error::{Error, Result};
use crate::params::{self, KindParams};
use crate::pipeline::Stage;
use crate::stage::TableDoc;
use crate::stage::{OutputTable, StageContext, StageKind};

pub struct Claims;

const INPUTS: [&str; 5] = ["panel", "trends", "correlations", "model", "cohorts"];

/// The params of a `claims` stage.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ClaimsParams {
    /// the paper's claims and values (reports/published_results.yaml)
    pub published: String,
    /// the model's predictor year, named where a term has no data
    pub predictor_year: Option<i64>,
}

impl KindSpec for Claims {
    fn params(&self) -> &KindParams {
        static P: params::Lazy = params::Lazy::new(KindParams::of::<ClaimsParams>);
        &P
    }

    fn files(&self, stage: &Stage) -> Vec<String> {
        stage
            .params_as::<ClaimsParams>()
            .map(|p| vec![p.published])
            .unwrap_or_default()
    }

    fn check(&self, stage: &Stage) -> std::result::Result<(), String> {
        for i in INPUTS {
            if !stage.inputs.iter().any(|x| x == i) {
                return Err(format!("a `claims` stage reads the stages {} (and optionally model_sweep, model_direct); `{i}` is missing from its inputs", INPUTS.join(", ")));
            }
        }
        Ok(())
    }
}

impl StageKind for Claims {
    fn name(&self) -> &'static str {
        "claims"
    }

    fn version(&self) -> u32 {
        1
    }

    fn describe(&self) -> &'static str {
        "a verdict per claim of the paper (reproduced, partly, not, cannot be tested), with its evidence and rule"
    }

    fn outputs(&self) -> &'static [TableDoc] {
        &[TableDoc {
            name: "",
            columns: &[
                "position", "id", "section", "claim", "verdict", "evidence", "rule", "stage",
                "anchor",
            ],
        }]
    }

    fn run(&self, ctx: &StageContext) -> Result<Vec<OutputTable>> {
        let p: ClaimsParams = ctx.params()?;
        let path = p.published.as_str();
        let text = std::fs::read_to_string(ctx.pipeline.root.join(path))
            .map_err(|e| Error::io("read", path, e))?;
        let published: Published = crate::pipeline::spec::from_yaml(&text).map_err(|e| {
            let mut err = Error::data(path, e.message);
            if let Error::Data { line, .. } = &mut err {
                *line = e.line;
            }
            err
        })?;
        let e = gather(ctx)?;
        check_names(ctx, path, &published, &e)?;
        let claims = assess(&published, &e);
        let rows: Vec<rows::Claim> = claims
            .into_iter()
            .zip(1..)
            .map(|(c, position)| rows::Claim {
                position,
                id: c.id,
                section: c.section.to_string(),
                claim: c.claim,
                verdict: c.verdict.to_string(),
                evidence: c.evidence,
                rule: c.rule,
                stage: c.stage.to_string(),
                anchor: c.anchor.to_string(),
            })
            .collect();
        let t = from_rows(None, &rows)?;
        Ok(vec![t])
    }
}

fn check_names(ctx: &StageContext, path: &str, p: &Published, e: &Evidence) -> Result<()> {
    let bad = unknown_names(p, &e.indicators);
    if bad.is_empty() {
        return Ok(());
    }
    Err(ctx
        .fail(format!("{path}: {}", bad.join("; ")))
        .with_hint(format!("use the panel's names (`canary sql \"select distinct indicator from panel_definitions\"`), in {path}")))
}

fn table(ctx: &StageContext, input: &str, t: Option<&str>) -> Result<TableData> {
    let (s, b) = ctx.read_table(input, t)?;
    TableData::new(
        &format!("`{}`", crate::pipeline::Pipeline::sql_table_name(input, t)),
        s,
        &b,
    )
}

/// The rows this kind reads, one struct per table: every field optional, as a row with a gap
/// is skipped (or counted as zero) rather than refused; and the ledger's row it writes.
mod rows {
    use serde::{Deserialize, Serialize};

    #[derive(Serialize, Deserialize)]
    pub struct Claim {
        pub position: i64,
        pub id: String,
        pub section: String,
        pub claim: String,
        pub verdict: String,
        pub evidence: String,
        pub rule: String,
        pub stage: String,
        pub anchor: String,
    }

    #[derive(Deserialize)]
    pub struct Definition {
        pub indicator: Option<String>,
        pub first_year: Option<i64>,
        #[serde(rename = "break")]
        pub break_: Option<String>,
    }

    #[derive(Deserialize)]
    pub struct Trend {
        pub indicator: Option<String>,
        pub year: Option<i64>,
        pub median: Option<f64>,
    }

    #[derive(Deserialize)]
    pub struct Year {
        pub year: Option<i64>,
    }

    #[derive(Deserialize)]
    pub struct PairSummary {
        pub x: Option<String>,
        pub y: Option<String>,
        pub years_tested: Option<i64>,
        pub years_significant: Option<i64>,
        pub sign: Option<String>,
        pub median_rho: Option<f64>,
        pub min_years_required: Option<i64>,
        pub correlated: Option<bool>,
    }

    #[derive(Deserialize)]
    pub struct ModelSummary {
        pub sensitivity: Option<f64>,
        pub cv_sensitivity: Option<f64>,
        pub dev_ratio: Option<f64>,
    }

    #[derive(Deserialize)]
    pub struct SweepCell {
        pub intercept_only: Option<bool>,
    }

    #[derive(Deserialize)]
    pub struct Direct {
        pub term: Option<String>,
        pub estimate: Option<f64>,
        pub p_value: Option<f64>,
    }

    #[derive(Deserialize)]
    pub struct Cohort {
        pub indicator: Option<String>,
        pub rule: Option<String>,
        pub a_members: Option<i64>,
        pub b_members: Option<i64>,
        pub a_median_change: Option<f64>,
        pub b_median_change: Option<f64>,
    }
}

fn gather(ctx: &StageContext) -> Result<Evidence> {
    let mut e = Evidence::default();
    for d in table(ctx, "panel", Some("definitions"))?.records::<rows::Definition>()? {
        let Some(id) = d.indicator else { continue };
        if let (Some(b), Some(y)) = (d.break_, d.first_year) {
            e.breaks.entry(id.clone()).or_default().push((y, b));
        }
        e.indicators.insert(id);
    }
    for t in table(ctx, "trends", None)?.records::<rows::Trend>()? {
        if let (Some(n), Some(y), Some(m)) = (t.indicator, t.year, t.median) {
            e.medians.entry(n).or_default().insert(y, m);
        }
    }
    gather_pairs(ctx, &mut e)?;
    e.model = gather_model(ctx)?;
    e.cohorts = gather_cohorts(ctx, None)?;
    e.fallback = gather_cohorts(ctx, Some("fallback"))?;
    Ok(e)
}

fn gather_pairs(ctx: &StageContext, e: &mut Evidence) -> Result<()> {
    let years = table(ctx, "correlations", None)?.records::<rows::Year>()?;
    let (lo, hi) = years
        .iter()
        .filter_map(|r| r.year)
        .fold((i64::MAX, i64::MIN), |(l, h), y| (l.min(y), h.max(y)));
    e.correlation_years = if lo <= hi { (lo, hi) } else { (0, 0) };
    for p in table(ctx, "correlations", Some("summary"))?.records::<rows::PairSummary>()? {
        let (Some(a), Some(b)) = (p.x, p.y) else {
            continue;
        };
        let key = if a <= b { (a, b) } else { (b, a) };
        e.pairs.insert(
            key,
            Pair {
                years_tested: p.years_tested.unwrap_or(0),
                years_significant: p.years_significant.unwrap_or(0),
                sign: p.sign.filter(|s| !s.is_empty()),
                median_rho: p.median_rho,
                min_years: p.min_years_required.unwrap_or(0),
                correlated: p.correlated == Some(true),
            },
        );
    }
    Ok(())
}

/// The non-zero coefficients at lambda.min, the intercept aside.
fn selected_at_min(
    coefs: Vec<crate::rows::Coefficient>,
) -> impl Iterator<Item = (String, Option<f64>)> {
    coefs
        .into_iter()
        .filter_map(|c| match (c.term, c.choice.as_deref()) {
            (Some(t), Some("lambda.min")) if t != "(Intercept)" => Some((t, c.coefficient)),
            _ => None,
        })
}

fn gather_model(ctx: &StageContext) -> Result<ModelEvidence> {
    let mut m = ModelEvidence {
        predictor_year: ctx.params::<ClaimsParams>()?.predictor_year,
        ..Default::default()
    };
    let coefs = table(ctx, "model", Some("coefficients"))?.records::<crate::rows::Coefficient>()?;
    for (t, b) in selected_at_min(coefs) {
        m.predictors.push(t.clone());
        if let Some(b) = b.filter(|b| *b != 0.0) {
            m.selected.insert(t, b);
        }
    }
    let summary = table(ctx, "model", Some("summary"))?.records::<rows::ModelSummary>()?;
    if let Some(s) = summary.first() {
        m.sensitivity = s.sensitivity;
        m.cv_sensitivity = s.cv_sensitivity;
        m.dev_ratio = s.dev_ratio;
    }
    if ctx.has_table("model_sweep", Some("summary")) {
        let cells = table(ctx, "model_sweep", Some("summary"))?.records::<rows::SweepCell>()?;
        m.sweep_cells = cells.len();
        m.sweep_intercept_only = cells
            .iter()
            .filter(|c| c.intercept_only == Some(true))
            .count();
        let coefs = table(ctx, "model_sweep", Some("coefficients"))?
            .records::<crate::rows::Coefficient>()?;
        let mut selected: BTreeMap<String, (usize, usize)> = BTreeMap::new();
        for (t, b) in selected_at_min(coefs) {
            let Some(b) = b.filter(|b| *b != 0.0) else {
                continue;
            };
            let e = selected.entry(t).or_default();
            if b > 0.0 {
                e.0 += 1;
            } else {
                e.1 += 1;
            }
        }
        m.sweep_selected = selected;
    }
    if ctx.inputs.iter().any(|(n, _)| n == "model_direct") {
        for d in table(ctx, "model_direct", None)?.records::<rows::Direct>()? {
            if let (Some(t), Some(est), Some(p)) = (d.term, d.estimate, d.p_value) {
                m.direct.insert(t, (est, p));
            }
        }
    }
    Ok(m)
}

fn gather_cohorts(ctx: &StageContext, version: Option<&str>) -> Result<CohortEvidence> {
    if !ctx.has_table("cohorts", version) {
        return Ok(CohortEvidence {
            rule: "not built".into(),
            ..Default::default()
        });
    }
    let rows = table(ctx, "cohorts", version)?.records::<rows::Cohort>()?;
    let first = rows.first();
    Ok(CohortEvidence {
        rule: first
            .and_then(|c| c.rule.clone())
            .unwrap_or_else(|| "no rows".into()),
        a_members: first.and_then(|c| c.a_members).unwrap_or(0),
        b_members: first.and_then(|c| c.b_members).unwrap_or(0),
        changes: rows
            .into_iter()
            .filter_map(|c| Some((c.indicator?, (c.a_median_change, c.b_median_change))))
            .collect(),
    })
}
