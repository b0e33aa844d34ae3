//! "Where ours and the paper's cannot agree": the years, the predictors, alpha, the
//! definitions and the outcome — each sentence's facts from the run (the panel's years, the
//! model's predictors, the params), none fixed in a template.

use std::collections::BTreeSet;

use serde::Serialize;

use super::data::DataSection;
use super::format::{parse_window, years_or, years_range};
use super::input::{Indicators, Inputs};
use super::published::Published;
use crate::error::Result;

#[derive(Serialize)]
pub struct DifferencesSection {
    pub paper_period: Option<String>,
    pub panel_years: Option<String>,
    /// The paper's years before the panel's first, which no published LA-level file here holds.
    pub years_missing: Option<String>,
    pub predictor_year: Option<i64>,
    pub paper_predictor_year: Option<i64>,
    /// The paper's Table 2 terms among our model's predictors (labels).
    pub present: Vec<String>,
    pub absent: Vec<Absent>,
    pub alpha: String,
    pub breaks: usize,
    pub outcome_years: Option<String>,
    pub paper_outcome: Option<String>,
}

#[derive(Serialize)]
pub struct Absent {
    pub id: String,
    pub label: String,
    pub why: String,
}

pub fn build(
    inp: &Inputs,
    indicators: &Indicators,
    published: &Published,
    data: &DataSection,
    alpha: &str,
) -> Result<DifferencesSection> {
    let co = inp.table("model", Some("coefficients"))?;
    let ours: BTreeSet<String> = co
        .strings("term")?
        .into_iter()
        .flatten()
        .filter(|t| t != "(Intercept)")
        .collect();
    let predictor_year = inp.params.predictor_year;
    let (mut present, mut absent) = (Vec::new(), Vec::new());
    for c in &published.model.coefficients {
        let Some(id) = &c.id else { continue };
        if ours.contains(id) {
            present.push(indicators.label(id));
        } else {
            absent.push(Absent {
                id: id.clone(),
                label: indicators.label(id),
                why: super::direct::why_absent(indicators, id, predictor_year),
            });
        }
    }
    let period = match published.study.period.as_slice() {
        [a, .., b] => Some((*a, *b)),
        _ => None,
    };
    let years_missing = match (period, data.first_year) {
        (Some((a, _)), Some(first)) if a < first => Some(years_range(a, first - 1)),
        _ => None,
    };
    Ok(DifferencesSection {
        paper_period: period.map(|(a, b)| years_range(a, b)),
        panel_years: data
            .first_year
            .zip(data.last_year)
            .map(|(a, b)| years_range(a, b)),
        years_missing,
        predictor_year,
        paper_predictor_year: published.model.predictor_year,
        present,
        absent,
        alpha: alpha.to_string(),
        breaks: data.breaks.len(),
        outcome_years: inp
            .params
            .outcome_window
            .as_deref()
            .and_then(parse_window)
            .map(|(a, b)| years_or(a, b)),
        paper_outcome: published.model.outcome.clone(),
    })
}
