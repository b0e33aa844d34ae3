//! Table 2: the cross-validated elastic net — its coefficients at lambda.min and lambda.1se,
//! its fit and classification beside the paper's, the CV curve, and the window it models
//! (from the report stage's params, never fixed in a template).

use std::collections::BTreeMap;

use serde::Serialize;

use super::charts;
use super::format::{difference, num, parse_window, pct, years_or};
use super::input::{Indicators, Inputs};
use super::published::Published;
use crate::error::Result;
use crate::stage::columns::TableData;

#[derive(Serialize)]
pub struct Table2Section {
    pub alpha: String,
    pub n: String,
    pub n_positive: String,
    pub n_imputed: String,
    /// The predictor year and the outcome's years as a sentence says them ("2012 or 2013").
    pub predictor_year: Option<i64>,
    pub outcome_years: Option<String>,
    /// Cross-validation kept no predictor: the model is the intercept alone.
    pub intercept_only: bool,
    /// The predictors kept at lambda.min, with their labels.
    pub kept: Vec<String>,
    pub coefficients: Vec<CoefficientRow>,
    pub versus: Vec<Versus>,
    pub cv_sensitivity: String,
    pub cv_specificity: String,
    pub paper_coefficients: Vec<PaperCoefficient>,
    pub cv_curve: String,
}

#[derive(Serialize)]
pub struct CoefficientRow {
    pub term: String,
    pub label: String,
    pub min: String,
    pub se: String,
}

#[derive(Serialize)]
pub struct Versus {
    pub what: &'static str,
    pub ours: String,
    pub paper: String,
    pub difference: String,
}

#[derive(Serialize)]
pub struct PaperCoefficient {
    pub term: String,
    pub id: Option<String>,
    pub coefficient: String,
}

pub fn build(
    inp: &Inputs,
    indicators: &Indicators,
    published: &Published,
) -> Result<Table2Section> {
    let sm = inp
        .table("model", Some("summary"))?
        .records::<rows::Summary>()?
        .into_iter()
        .next()
        .unwrap_or_default();
    let (coefficients, kept) =
        coefficients(&inp.table("model", Some("coefficients"))?, indicators)?;
    let paper = &published.model;
    let row = |what, ours: Option<f64>, theirs: Option<f64>| Versus {
        what,
        ours: num(ours, 4),
        paper: num(theirs, 2),
        difference: difference(ours, theirs, 2),
    };
    let versus = vec![
        row(
            "deviance explained (dev.ratio)",
            sm.dev_ratio,
            paper.deviance_explained,
        ),
        row("sensitivity (in sample)", sm.sensitivity, paper.sensitivity),
        row("specificity (in sample)", sm.specificity, paper.specificity),
    ];
    let outcome_years = inp
        .params
        .outcome_window
        .as_deref()
        .and_then(parse_window)
        .map(|(a, b)| years_or(a, b));
    Ok(Table2Section {
        alpha: sm.alpha.map_or("—".into(), |a| a.to_string()),
        n: num(sm.n, 0),
        n_positive: num(sm.n_positive, 0),
        n_imputed: num(sm.n_imputed, 0),
        predictor_year: inp.params.predictor_year,
        outcome_years,
        intercept_only: kept.is_empty(),
        kept,
        coefficients,
        versus,
        cv_sensitivity: pct(sm.cv_sensitivity),
        cv_specificity: pct(sm.cv_specificity),
        paper_coefficients: paper
            .coefficients
            .iter()
            .map(|c| PaperCoefficient {
                term: c.term.clone(),
                id: c.id.clone(),
                coefficient: c.coefficient.map_or("—".into(), |v| v.to_string()),
            })
            .collect(),
        cv_curve: cv_curve(inp, sm.lambda_min, sm.lambda_1se)?,
    })
}

/// One row per term, at lambda.min and lambda.1se, in the table's order; and the labels of
/// the predictors non-zero at lambda.min.
fn coefficients(
    coef: &TableData,
    indicators: &Indicators,
) -> Result<(Vec<CoefficientRow>, Vec<String>)> {
    let mut order: Vec<String> = Vec::new();
    let mut by: BTreeMap<String, (Option<f64>, Option<f64>)> = BTreeMap::new();
    for c in coef.records::<crate::rows::Coefficient>()? {
        let t = c.term.unwrap_or_default();
        if !order.contains(&t) {
            order.push(t.clone());
        }
        let e = by.entry(t).or_default();
        match c.choice.as_deref() {
            Some("lambda.min") => e.0 = c.coefficient,
            Some("lambda.1se") => e.1 = c.coefficient,
            _ => {}
        }
    }
    let kept = order
        .iter()
        .filter(|t| *t != "(Intercept)" && by[*t].0.is_some_and(|v| v != 0.0))
        .map(|t| indicators.label(t))
        .collect();
    let rows = order
        .iter()
        .map(|t| CoefficientRow {
            term: t.clone(),
            label: indicators.label(t),
            min: num(by[t].0, 4),
            se: num(by[t].1, 4),
        })
        .collect();
    Ok((rows, kept))
}

fn cv_curve(inp: &Inputs, lambda_min: Option<f64>, lambda_1se: Option<f64>) -> Result<String> {
    // A step with a gap is left out whole, so that the three series stay aligned.
    let path: Vec<(f64, f64, f64)> = inp
        .table("model", Some("path"))?
        .records::<rows::PathStep>()?
        .into_iter()
        .filter_map(|p| Some((p.lambda?, p.cvm?, p.cvsd?)))
        .collect();
    Ok(charts::cv_curve(&charts::CvCurve {
        title: "Cross-validated binomial deviance".into(),
        lambdas: path.iter().map(|p| p.0).collect(),
        cvm: path.iter().map(|p| p.1).collect(),
        cvsd: path.iter().map(|p| p.2).collect(),
        lambda_min: lambda_min.unwrap_or(f64::NAN),
        lambda_1se: lambda_1se.unwrap_or(f64::NAN),
        y_label: "binomial deviance".into(),
    }))
}

/// The rows this table reads from the model's tables.
mod rows {
    use serde::Deserialize;

    /// The model's one-row summary (counts read as numbers, as the table prints them).
    #[derive(Deserialize, Default)]
    pub struct Summary {
        pub alpha: Option<f64>,
        pub n: Option<f64>,
        pub n_positive: Option<f64>,
        pub n_imputed: Option<f64>,
        pub dev_ratio: Option<f64>,
        pub sensitivity: Option<f64>,
        pub specificity: Option<f64>,
        pub cv_sensitivity: Option<f64>,
        pub cv_specificity: Option<f64>,
        pub lambda_min: Option<f64>,
        pub lambda_1se: Option<f64>,
    }

    #[derive(Deserialize)]
    pub struct PathStep {
        pub lambda: Option<f64>,
        pub cvm: Option<f64>,
        pub cvsd: Option<f64>,
    }
}
