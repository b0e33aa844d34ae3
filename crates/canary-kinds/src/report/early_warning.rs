//! New years: the early-warning evaluation out of time — per origin, the model and the naive
//! baseline; which lead indicators the models kept; and the comparison with the 2016 result.
//! An origin whose model is the intercept alone (every LA the same risk: AUC 0.5, interval
//! 0.5-0.5) is labelled so and left out of the headline medians, which the text says.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::format::{count_words, median, num, parse_window, pct};
use super::input::{Indicators, Inputs, EARLY_WARNING};
use super::published::Published;
use crate::error::Result;

#[derive(Serialize)]
pub struct EarlyWarningSection {
    pub stage: &'static str,
    /// The outcome window's length in words ("two"), when every origin's is the same.
    pub horizon_words: Option<String>,
    pub horizon: Option<i64>,
    pub rows: Vec<OriginRow>,
    /// The model's origins that kept at least one predictor: the headline's.
    pub model: Option<Headline>,
    /// The baseline over the same origins.
    pub baseline: Option<Headline>,
    /// "beat", "fell short of", "roughly matched", and by how much.
    pub verdict: Option<String>,
    /// The judgements the baseline flags, from its cut ("inadequate or requires improvement").
    pub baseline_flags: Option<String>,
    pub intercept_only: Vec<OriginRow>,
    pub kept: Vec<Kept>,
    pub kept_majority: Vec<String>,
    pub paper_sensitivity: String,
    pub paper_specificity: String,
    pub paper_terms: Vec<String>,
}

#[derive(Serialize, Clone)]
pub struct OriginRow {
    pub origin: i64,
    pub window: String,
    pub model: String,
    pub intercept_only: bool,
    pub nonzero: Option<i64>,
    pub n_train: i64,
    pub n_test: i64,
    pub positives: i64,
    pub flagged: i64,
    pub flag_at: String,
    pub sensitivity: String,
    pub specificity: String,
    pub ppv: String,
    pub auc: String,
    pub auc_ci: String,
    #[serde(skip)]
    values: [Option<f64>; 3],
}

#[derive(Serialize)]
pub struct Headline {
    pub origins: usize,
    pub origin_list: String,
    pub auc_median: String,
    pub auc_range: String,
    pub sensitivity: String,
    pub specificity: String,
    #[serde(skip)]
    auc: f64,
}

#[derive(Serialize)]
pub struct Kept {
    pub term: String,
    pub label: String,
    pub kept: usize,
    pub origins: usize,
    pub sign: &'static str,
}

pub fn build(
    inp: &Inputs,
    indicators: &Indicators,
    published: &Published,
) -> Result<Option<EarlyWarningSection>> {
    if !inp.reads(EARLY_WARNING) {
        return Ok(None);
    }
    let rows = origin_rows(inp)?;
    let horizons: BTreeSet<i64> = rows
        .iter()
        .filter_map(|r| Some(parse_window(&r.window.replace('–', ".."))?.1 - r.origin))
        .collect();
    let horizon = (horizons.len() == 1).then(|| *horizons.first().unwrap_or(&0));
    let informative: BTreeSet<i64> = rows
        .iter()
        .filter(|r| r.model == "canary" && !r.intercept_only)
        .map(|r| r.origin)
        .collect();
    let model = headline(&rows, "canary", &informative);
    let baseline = headline(&rows, "baseline", &informative);
    let verdict = model.as_ref().zip(baseline.as_ref()).map(|(m, b)| {
        let d = m.auc - b.auc;
        match d {
            d if d > 0.02 => format!("beat it by {d:.2}"),
            d if d < -0.02 => format!("fell short of it by {:.2}", -d),
            _ => "roughly matched it".into(),
        }
    });
    let (kept, kept_majority) = kept(inp, indicators, &rows)?;
    let baseline_flags = baseline_flags(&rows);
    Ok(Some(EarlyWarningSection {
        stage: EARLY_WARNING,
        horizon_words: horizon.map(count_words),
        horizon,
        intercept_only: rows.iter().filter(|r| r.intercept_only).cloned().collect(),
        rows,
        model,
        baseline,
        verdict,
        baseline_flags,
        kept,
        kept_majority,
        paper_sensitivity: pct(published.model.sensitivity),
        paper_specificity: pct(published.model.specificity),
        paper_terms: published
            .model
            .coefficients
            .iter()
            .map(|c| c.term.clone())
            .collect(),
    }))
}

fn origin_rows(inp: &Inputs) -> Result<Vec<OriginRow>> {
    let ev = inp.table(EARLY_WARNING, Some("evaluation"))?;
    Ok(ev
        .records_or_null::<rows::Evaluation>(&["nonzero"])?
        .into_iter()
        .map(|e| OriginRow {
            origin: e.origin_year.unwrap_or_default(),
            window: e.outcome_window.as_deref().unwrap_or("").replace("..", "–"),
            model: e.model.unwrap_or_default(),
            intercept_only: e.nonzero == Some(0),
            nonzero: e.nonzero,
            n_train: e.n_train.unwrap_or_default(),
            n_test: e.n_test.unwrap_or_default(),
            positives: e.positives.unwrap_or_default(),
            flagged: e.flagged.unwrap_or_default(),
            flag_at: num(e.flag_at, 3),
            sensitivity: pct(e.sensitivity),
            specificity: pct(e.specificity),
            ppv: pct(e.ppv),
            auc: num(e.auc, 2),
            auc_ci: format!("{}–{}", num(e.auc_lo, 2), num(e.auc_hi, 2)),
            values: [e.auc, e.sensitivity, e.specificity],
        })
        .collect())
}

/// The grades at or above the baseline's cut (its `flag_at`, the same at every origin), in
/// Ofsted's words, worst first.
fn baseline_flags(rows: &[OriginRow]) -> Option<String> {
    let cuts: BTreeSet<&str> = rows
        .iter()
        .filter(|r| r.model == "baseline")
        .map(|r| r.flag_at.as_str())
        .collect();
    let [cut] = cuts.into_iter().collect::<Vec<_>>()[..] else {
        return None;
    };
    let cut: f64 = cut.parse().ok()?;
    const GRADES: [(f64, &str); 4] = [
        (4.0, "inadequate"),
        (3.0, "requires improvement"),
        (2.0, "good"),
        (1.0, "outstanding"),
    ];
    let names: Vec<&str> = GRADES
        .iter()
        .filter(|(g, _)| *g >= cut)
        .map(|(_, n)| *n)
        .collect();
    (!names.is_empty()).then(|| super::format::and_list(&names).replace(" and ", " or "))
}

/// Medians over the origins in `over` of one model's AUC, sensitivity and specificity.
fn headline(rows: &[OriginRow], model: &str, over: &BTreeSet<i64>) -> Option<Headline> {
    let rs: Vec<&OriginRow> = rows
        .iter()
        .filter(|r| {
            r.model == model && over.contains(&r.origin) && r.values.iter().all(Option::is_some)
        })
        .collect();
    let col = |k: usize| -> Vec<f64> { rs.iter().filter_map(|r| r.values[k]).collect() };
    let auc = col(0);
    let (lo, hi) = (
        auc.iter().copied().reduce(f64::min)?,
        auc.iter().copied().reduce(f64::max)?,
    );
    Some(Headline {
        origins: rs.len(),
        origin_list: super::format::and_list(
            &rs.iter().map(|r| r.origin.to_string()).collect::<Vec<_>>(),
        ),
        auc_median: num(median(&auc), 2),
        auc_range: format!("{lo:.2}–{hi:.2}"),
        sensitivity: pct(median(&col(1))),
        specificity: pct(median(&col(2))),
        auc: median(&auc)?,
    })
}

/// Which predictors the models kept: at how many evaluated origins each was non-zero, its
/// usual sign; and those kept at more than half of them.
fn kept(
    inp: &Inputs,
    indicators: &Indicators,
    rows: &[OriginRow],
) -> Result<(Vec<Kept>, Vec<String>)> {
    let co = inp.table(EARLY_WARNING, Some("coefficients"))?;
    let evaluated: BTreeSet<i64> = rows.iter().map(|r| r.origin).collect();
    let mut by: BTreeMap<String, (usize, usize, usize)> = BTreeMap::new(); // term → (non-zero, positive, origins)
    for r in co.records::<rows::Coefficient>()? {
        let (Some(o), Some(t), Some(c)) = (r.origin_year, r.term, r.coefficient) else {
            continue;
        };
        if t == "(Intercept)" || !evaluated.contains(&o) {
            continue;
        }
        let e = by.entry(t).or_default();
        e.2 += 1;
        if c != 0.0 {
            e.0 += 1;
            e.1 += usize::from(c > 0.0);
        }
    }
    let kept = by
        .iter()
        .map(|(t, &(nz, pos, n))| Kept {
            term: t.clone(),
            label: indicators.label(t),
            kept: nz,
            origins: n,
            sign: if nz == 0 {
                "—"
            } else if pos * 2 >= nz {
                "+ (higher = more risk)"
            } else {
                "− (higher = less risk)"
            },
        })
        .collect();
    let majority = by
        .iter()
        .filter(|(_, (nz, _, n))| *n > 0 && nz * 2 > *n)
        .map(|(t, _)| t.clone())
        .collect();
    Ok((kept, majority))
}

/// The rows this section reads from the early-warning stage's tables.
mod rows {
    use serde::Deserialize;

    #[derive(Deserialize)]
    pub struct Evaluation {
        pub origin_year: Option<i64>,
        pub outcome_window: Option<String>,
        pub model: Option<String>,
        pub n_train: Option<i64>,
        pub n_test: Option<i64>,
        pub positives: Option<i64>,
        pub flagged: Option<i64>,
        pub flag_at: Option<f64>,
        pub sensitivity: Option<f64>,
        pub specificity: Option<f64>,
        pub ppv: Option<f64>,
        pub auc: Option<f64>,
        pub auc_lo: Option<f64>,
        pub auc_hi: Option<f64>,
        /// Optional: an evaluation table without it reads as not counted.
        pub nonzero: Option<i64>,
    }

    #[derive(Deserialize)]
    pub struct Coefficient {
        pub origin_year: Option<i64>,
        pub term: Option<String>,
        pub coefficient: Option<f64>,
    }
}
