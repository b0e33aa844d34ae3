//! `claims`: the ledger of the paper's findings — a verdict per claim, with the numbers behind
//! it and the rule that decided it (`crate::claims`). This kind gathers the evidence from the
//! run's tables; the rules are pure functions there.
//!
//! Every indicator a published claim names must be one of the panel's: a misnamed item is an
//! error naming it and the nearest name, never a claim quietly "not in our panel".

use std::collections::BTreeMap;

use crate::pipeline::KindSpec;
use crate::stage::columns::{TableBuilder, TableData};
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
        let t = TableBuilder::new()
            .i64("position", (1..=claims.len() as i64).collect())
            .str("id", claims.iter().map(|c| c.id.clone()).collect())
            .str(
                "section",
                claims.iter().map(|c| c.section.to_string()).collect(),
            )
            .str("claim", claims.iter().map(|c| c.claim.clone()).collect())
            .str(
                "verdict",
                claims.iter().map(|c| c.verdict.to_string()).collect(),
            )
            .str(
                "evidence",
                claims.iter().map(|c| c.evidence.clone()).collect(),
            )
            .str("rule", claims.iter().map(|c| c.rule.clone()).collect())
            .str(
                "stage",
                claims.iter().map(|c| c.stage.to_string()).collect(),
            )
            .str(
                "anchor",
                claims.iter().map(|c| c.anchor.to_string()).collect(),
            )
            .build(None)?;
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

fn gather(ctx: &StageContext) -> Result<Evidence> {
    let mut e = Evidence::default();
    let defs = table(ctx, "panel", Some("definitions"))?;
    let (ind, first, brk) = (
        defs.strings("indicator")?,
        defs.i64s("first_year")?,
        defs.strings("break")?,
    );
    for i in 0..defs.rows() {
        let Some(id) = &ind[i] else { continue };
        e.indicators.insert(id.clone());
        if let (Some(b), Some(y)) = (&brk[i], first[i]) {
            e.breaks.entry(id.clone()).or_default().push((y, b.clone()));
        }
    }
    let tr = table(ctx, "trends", None)?;
    let (ti, ty, tm) = (
        tr.strings("indicator")?,
        tr.i64s("year")?,
        tr.f64s("median")?,
    );
    for i in 0..tr.rows() {
        if let (Some(n), Some(y), Some(m)) = (&ti[i], ty[i], tm[i]) {
            e.medians.entry(n.clone()).or_default().insert(y, m);
        }
    }
    gather_pairs(ctx, &mut e)?;
    e.model = gather_model(ctx)?;
    e.cohorts = gather_cohorts(ctx, None)?;
    e.fallback = gather_cohorts(ctx, Some("fallback"))?;
    Ok(e)
}

fn gather_pairs(ctx: &StageContext, e: &mut Evidence) -> Result<()> {
    let years = table(ctx, "correlations", None)?.i64s("year")?;
    let (lo, hi) = years
        .iter()
        .flatten()
        .fold((i64::MAX, i64::MIN), |(l, h), y| (l.min(*y), h.max(*y)));
    e.correlation_years = if lo <= hi { (lo, hi) } else { (0, 0) };
    let cs = table(ctx, "correlations", Some("summary"))?;
    let (x, y, tested, sig, sign, rho, need, corr) = (
        cs.strings("x")?,
        cs.strings("y")?,
        cs.i64s("years_tested")?,
        cs.i64s("years_significant")?,
        cs.strings("sign")?,
        cs.f64s("median_rho")?,
        cs.i64s("min_years_required")?,
        cs.bools("correlated")?,
    );
    for i in 0..cs.rows() {
        let (Some(a), Some(b)) = (&x[i], &y[i]) else {
            continue;
        };
        let key = if a <= b {
            (a.clone(), b.clone())
        } else {
            (b.clone(), a.clone())
        };
        e.pairs.insert(
            key,
            Pair {
                years_tested: tested[i].unwrap_or(0),
                years_significant: sig[i].unwrap_or(0),
                sign: sign[i].clone().filter(|s| !s.is_empty()),
                median_rho: rho[i],
                min_years: need[i].unwrap_or(0),
                correlated: corr[i] == Some(true),
            },
        );
    }
    Ok(())
}

fn gather_model(ctx: &StageContext) -> Result<ModelEvidence> {
    let mut m = ModelEvidence {
        predictor_year: ctx.params::<ClaimsParams>()?.predictor_year,
        ..Default::default()
    };
    let coef = table(ctx, "model", Some("coefficients"))?;
    let (term, choice, value) = (
        coef.strings("term")?,
        coef.strings("choice")?,
        coef.f64s("coefficient")?,
    );
    for i in 0..coef.rows() {
        let (Some(t), Some("lambda.min")) = (&term[i], choice[i].as_deref()) else {
            continue;
        };
        if t == "(Intercept)" {
            continue;
        }
        m.predictors.push(t.clone());
        if let Some(b) = value[i].filter(|b| *b != 0.0) {
            m.selected.insert(t.clone(), b);
        }
    }
    let s = table(ctx, "model", Some("summary"))?;
    let first = |c: &str| -> Result<Option<f64>> { Ok(s.f64s(c)?.first().copied().flatten()) };
    m.sensitivity = first("sensitivity")?;
    m.cv_sensitivity = first("cv_sensitivity")?;
    m.dev_ratio = first("dev_ratio")?;
    if ctx.has_table("model_sweep", Some("summary")) {
        let sw = table(ctx, "model_sweep", Some("summary"))?;
        m.sweep_cells = sw.rows();
        m.sweep_intercept_only = sw
            .bools("intercept_only")?
            .iter()
            .filter(|v| **v == Some(true))
            .count();
        let sc = table(ctx, "model_sweep", Some("coefficients"))?;
        let (term, choice, value) = (
            sc.strings("term")?,
            sc.strings("choice")?,
            sc.f64s("coefficient")?,
        );
        let mut selected: BTreeMap<String, (usize, usize)> = BTreeMap::new();
        for i in 0..sc.rows() {
            let (Some(t), Some("lambda.min"), Some(b)) = (&term[i], choice[i].as_deref(), value[i])
            else {
                continue;
            };
            if t != "(Intercept)" && b != 0.0 {
                let e = selected.entry(t.clone()).or_default();
                if b > 0.0 {
                    e.0 += 1;
                } else {
                    e.1 += 1;
                }
            }
        }
        m.sweep_selected = selected;
    }
    if ctx.inputs.iter().any(|(n, _)| n == "model_direct") {
        let d = table(ctx, "model_direct", None)?;
        let (term, est, p) = (d.strings("term")?, d.f64s("estimate")?, d.f64s("p_value")?);
        for i in 0..d.rows() {
            if let (Some(t), Some(est), Some(p)) = (&term[i], est[i], p[i]) {
                m.direct.insert(t.clone(), (est, p));
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
    let c = table(ctx, "cohorts", version)?;
    let (ind, rule, am, bm, a, b) = (
        c.strings("indicator")?,
        c.strings("rule")?,
        c.i64s("a_members")?,
        c.i64s("b_members")?,
        c.f64s("a_median_change")?,
        c.f64s("b_median_change")?,
    );
    Ok(CohortEvidence {
        rule: rule
            .first()
            .cloned()
            .flatten()
            .unwrap_or_else(|| "no rows".into()),
        a_members: am.first().copied().flatten().unwrap_or(0),
        b_members: bm.first().copied().flatten().unwrap_or(0),
        changes: (0..c.rows())
            .filter_map(|i| Some((ind[i].clone()?, (a[i], b[i]))))
            .collect(),
    })
}
