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
    d.terms = inp
        .table(DIRECT, None)?
        .records::<rows::Term>()?
        .into_iter()
        .map(|t| {
            let name = t.term.unwrap_or_default();
            Term {
                label: indicators.label(&name),
                term: name,
                estimate: num(t.estimate, 4),
                conf_low: num(t.conf_low, 4),
                conf_high: num(t.conf_high, 4),
                p_value: p(t.p_value),
            }
        })
        .collect();
    let s = inp
        .table(DIRECT, Some("summary"))?
        .records::<rows::Summary>()?
        .into_iter()
        .next()
        .unwrap_or_default();
    (d.n, d.n_positive, d.bootstrap, d.seed) = (
        s.n.unwrap_or_default(),
        s.n_positive.unwrap_or_default(),
        s.bootstrap.unwrap_or_default(),
        s.seed.unwrap_or_default(),
    );
    (d.auc, d.auc_low, d.auc_high) = (num(s.auc, 2), num(s.auc_low, 2), num(s.auc_high, 2));
    (d.deviance, d.null_deviance, d.aic) =
        (num(s.deviance, 2), num(s.null_deviance, 2), num(s.aic, 2));
    d.converged = s.converged == Some(true);
    d.warnings = s.warnings.unwrap_or_default();
    let predictor_year = inp.params.predictor_year;
    d.left_out = s
        .left_out
        .unwrap_or_default()
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

/// The rows this section reads from the direct fit's tables.
mod rows {
    use serde::Deserialize;

    #[derive(Deserialize)]
    pub struct Term {
        pub term: Option<String>,
        pub estimate: Option<f64>,
        pub conf_low: Option<f64>,
        pub conf_high: Option<f64>,
        pub p_value: Option<f64>,
    }

    /// The fit's one-row summary.
    #[derive(Deserialize, Default)]
    pub struct Summary {
        pub n: Option<i64>,
        pub n_positive: Option<i64>,
        pub bootstrap: Option<i64>,
        pub seed: Option<i64>,
        pub auc: Option<f64>,
        pub auc_low: Option<f64>,
        pub auc_high: Option<f64>,
        pub deviance: Option<f64>,
        pub null_deviance: Option<f64>,
        pub aic: Option<f64>,
        pub converged: Option<bool>,
        pub warnings: Option<String>,
        pub left_out: Option<String>,
    }
}
