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
    let sm = inp.table("model", Some("summary"))?;
    let one = |c: &str| -> Result<Option<f64>> { Ok(sm.f64s(c)?.first().copied().flatten()) };
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
            one("dev_ratio")?,
            paper.deviance_explained,
        ),
        row(
            "sensitivity (in sample)",
            one("sensitivity")?,
            paper.sensitivity,
        ),
        row(
            "specificity (in sample)",
            one("specificity")?,
            paper.specificity,
        ),
    ];
    let outcome_years = inp
        .params
        .outcome_window
        .as_deref()
        .and_then(parse_window)
        .map(|(a, b)| years_or(a, b));
    Ok(Table2Section {
        alpha: one("alpha")?.map_or("—".into(), |a| a.to_string()),
        n: num(one("n")?, 0),
        n_positive: num(one("n_positive")?, 0),
        n_imputed: num(one("n_imputed")?, 0),
        predictor_year: inp.params.predictor_year,
        outcome_years,
        intercept_only: kept.is_empty(),
        kept,
        coefficients,
        versus,
        cv_sensitivity: pct(one("cv_sensitivity")?),
        cv_specificity: pct(one("cv_specificity")?),
        paper_coefficients: paper
            .coefficients
            .iter()
            .map(|c| PaperCoefficient {
                term: c.term.clone(),
                id: c.id.clone(),
                coefficient: c.coefficient.map_or("—".into(), |v| v.to_string()),
            })
            .collect(),
        cv_curve: cv_curve(inp, one("lambda_min")?, one("lambda_1se")?)?,
    })
}

/// One row per term, at lambda.min and lambda.1se, in the table's order; and the labels of
/// the predictors non-zero at lambda.min.
fn coefficients(
    coef: &TableData,
    indicators: &Indicators,
) -> Result<(Vec<CoefficientRow>, Vec<String>)> {
    let (term, choice, value) = (
        coef.strings("term")?,
        coef.strings("choice")?,
        coef.f64s("coefficient")?,
    );
    let mut order: Vec<String> = Vec::new();
    let mut by: BTreeMap<String, (Option<f64>, Option<f64>)> = BTreeMap::new();
    for i in 0..coef.rows() {
        let t = term[i].clone().unwrap_or_default();
        if !order.contains(&t) {
            order.push(t.clone());
        }
        let e = by.entry(t).or_default();
        match choice[i].as_deref() {
            Some("lambda.min") => e.0 = value[i],
            Some("lambda.1se") => e.1 = value[i],
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
    let path = inp.table("model", Some("path"))?;
    Ok(charts::cv_curve(&charts::CvCurve {
        title: "Cross-validated binomial deviance".into(),
        lambdas: path.f64s("lambda")?.into_iter().flatten().collect(),
        cvm: path.f64s("cvm")?.into_iter().flatten().collect(),
        cvsd: path.f64s("cvsd")?.into_iter().flatten().collect(),
        lambda_min: lambda_min.unwrap_or(f64::NAN),
        lambda_1se: lambda_1se.unwrap_or(f64::NAN),
        y_label: "binomial deviance".into(),
    }))
}
