//! The paper's terms tested directly: the unpenalised logistic regression of the outcome on
//! the paper's Table 2 terms the model's rows hold (`model_direct`, as R's glm) — estimate,
//! 95% interval, p — its AUC with the bootstrap interval, and which terms were left out and
//! why, from the panel's definitions and the predictor year.

use serde::Serialize;

use super::format::num;
use super::input::{Indicators, Inputs, DIRECT};
use crate::error::Result;

#[derive(Serialize)]
pub struct DirectSection {
    pub stage: &'static str,
    pub computed: bool,
    pub terms: Vec<Term>,
    pub n: i64,
    pub n_positive: i64,
    pub auc: String,
    pub auc_low: String,
    pub auc_high: String,
    pub bootstrap: i64,
    pub seed: i64,
    pub deviance: String,
    pub null_deviance: String,
    pub aic: String,
    pub converged: bool,
    pub warnings: String,
    pub left_out: Vec<LeftOut>,
}

#[derive(Serialize)]
pub struct Term {
    pub term: String,
    pub label: String,
    pub estimate: String,
    pub conf_low: String,
    pub conf_high: String,
    pub p_value: String,
}

#[derive(Serialize)]
pub struct LeftOut {
    pub term: String,
    pub label: String,
    /// Why, in words from the definitions: "published by LA only from 2016 (…)".
    pub why: String,
}

pub fn build(inp: &Inputs, indicators: &Indicators) -> Result<DirectSection> {
    let mut d = DirectSection {
        stage: DIRECT,
        computed: inp.reads(DIRECT),
        terms: Vec::new(),
        n: 0,
        n_positive: 0,
        auc: "—".into(),
        auc_low: "—".into(),
        auc_high: "—".into(),
        bootstrap: 0,
        seed: 0,
        deviance: "—".into(),
        null_deviance: "—".into(),
        aic: "—".into(),
        converged: false,
        warnings: String::new(),
        left_out: Vec::new(),
    };
    if !d.computed {
        return Ok(d);
    }
    let t = inp.table(DIRECT, None)?;
    let term = t.strings("term")?;
    let cols: Vec<Vec<Option<f64>>> = ["estimate", "conf_low", "conf_high", "p_value"]
        .iter()
        .map(|c| t.f64s(c))
        .collect::<Result<_>>()?;
    d.terms = (0..t.rows())
        .map(|i| {
            let name = term[i].clone().unwrap_or_default();
            Term {
                label: indicators.label(&name),
                term: name,
                estimate: num(cols[0][i], 4),
                conf_low: num(cols[1][i], 4),
                conf_high: num(cols[2][i], 4),
                p_value: p(cols[3][i]),
            }
        })
        .collect();
    let s = inp.table(DIRECT, Some("summary"))?;
    let int =
        |c: &str| -> Result<i64> { Ok(s.i64s(c)?.first().copied().flatten().unwrap_or_default()) };
    let real =
        |c: &str, k: usize| -> Result<String> { Ok(num(s.f64s(c)?.first().copied().flatten(), k)) };
    let text = |c: &str| -> Result<String> {
        Ok(s.strings(c)?.first().cloned().flatten().unwrap_or_default())
    };
    (d.n, d.n_positive, d.bootstrap, d.seed) = (
        int("n")?,
        int("n_positive")?,
        int("bootstrap")?,
        int("seed")?,
    );
    (d.auc, d.auc_low, d.auc_high) = (real("auc", 2)?, real("auc_low", 2)?, real("auc_high", 2)?);
    (d.deviance, d.null_deviance, d.aic) = (
        real("deviance", 2)?,
        real("null_deviance", 2)?,
        real("aic", 2)?,
    );
    d.converged = s.bools("converged")?.first().copied().flatten() == Some(true);
    d.warnings = text("warnings")?;
    let predictor_year = inp.params.predictor_year;
    d.left_out = text("left_out")?
        .split(',')
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(|t| LeftOut {
            term: t.to_string(),
            label: indicators.label(t),
            why: why_absent(indicators, t, predictor_year),
        })
        .collect();
    Ok(d)
}

/// p as R prints small ones: "< 0.001" below a thousandth.
pub fn p(v: Option<f64>) -> String {
    match v {
        Some(x) if x.is_finite() && x < 0.001 => "< 0.001".into(),
        other => num(other, 3),
    }
}

/// Why a paper term is not in the model's design, from what the panel's definitions say.
pub fn why_absent(indicators: &Indicators, term: &str, predictor_year: Option<i64>) -> String {
    let Some(ind) = indicators.by_id.get(term) else {
        return "the panel has no such indicator".into();
    };
    let note = ind
        .breaks
        .first()
        .filter(|(y, _)| Some(*y) == ind.first_year)
        .map(|(_, n)| format!(" ({n})"))
        .unwrap_or_default();
    match (ind.first_year, ind.last_year, predictor_year) {
        (Some(first), _, Some(year)) if first > year => format!("not in the model's design: the panel holds it by LA only from {first}{note}, after the predictor year {year}"),
        (_, Some(last), Some(year)) if last < year => format!("not in the model's design: the panel holds it by LA only to {last}, before the predictor year {year}"),
        _ => "not among the model's predictors".into(),
    }
}
