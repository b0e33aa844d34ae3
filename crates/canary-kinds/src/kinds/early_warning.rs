//! `early_warning`: the study's question asked again on new years and answered out of time.
//! At each origin year `t` an elastic net (as `fit`, cv.glmnet's lambda.min) is fitted on the
//! LA-years whose outcome was known by then (`year + horizon <= t`) and tested on the LAs of
//! year `t`; a naive baseline (flag the LAs whose last judgement was inadequate or requires
//! improvement) is tested beside it. The numerics are in `stats::early_warning`.
//!
//! Input: one table of LA-years with the predictors, the 0/1 outcome (null while its window is
//! still open) and the baseline's score. Tables: `evaluation` (per origin and model: sensitivity,
//! specificity, PPV, AUC with a bootstrap interval; for the model, how many predictors it kept
//! and whether it is the intercept alone — every LA then gets the same risk, an AUC of 0.5 and
//! an interval of 0.5-0.5 that say nothing of the indicators), `coefficients` (per origin) and
//! `predictions` (per origin and LA, with a forecast for `forecast_year` when given).

use crate::pipeline::KindSpec;
use crate::stage::columns::{Column, TableBuilder, TableData};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::params::{self, int, KindParams};
use crate::pipeline::Stage;
use crate::stage::TableDoc;
use crate::stage::{OutputTable, StageContext, StageKind};
use crate::stats::early_warning::{
    assess, bootstrap_probabilities, rolling_origin, OriginModel, Split,
};
use crate::stats::glmnet::BinomialParams;

pub struct EarlyWarning;

/// The params of an `early_warning` stage.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EarlyWarningParams {
    /// the lead-indicator columns
    pub predictors: Vec<String>,
    /// the 0/1 outcome column (null while its window is open)
    pub outcome: String,
    /// origin years tested, `2018..2023` (inclusive) or one year
    pub origins: String,
    /// years after t the outcome window spans (t+1 ..= t+horizon)
    #[schemars(range(min = 1))]
    pub horizon: i64,
    /// the naive baseline's score column (the last judgement's grade, 1-4)
    pub baseline: String,
    /// the baseline flags scores at or above this (3: requires improvement or worse)
    #[serde(default = "three")]
    pub baseline_cut: f64,
    /// the LA column
    #[serde(default = "params::la_code")]
    pub id: String,
    /// the predictor-year column
    #[serde(default = "year")]
    pub year: String,
    /// elastic-net mixing: 1 lasso, 0 ridge
    #[schemars(range(min = 0.0, max = 1.0))]
    pub alpha: f64,
    /// cross-validation folds, at least 3 as in cv.glmnet
    #[serde(default = "int::<10>")]
    #[schemars(range(min = 3))]
    pub nfolds: i64,
    /// seed for the folds and the bootstrap
    pub seed: u64,
    /// probability above which an LA is flagged: a number (0.5 is the study's), or
    /// `prevalence` (the training rows' rate of the outcome)
    #[serde(default)]
    pub threshold: Threshold,
    /// bootstrap resamples for the AUC interval
    #[serde(default = "int::<2000>")]
    #[schemars(range(min = 0))]
    pub bootstrap: i64,
    /// the interval's coverage
    #[serde(default = "level")]
    #[schemars(range(min = 0.0, max = 1.0))]
    pub level: f64,
    /// also predict this year's LAs from every outcome known (for the scorecards)
    pub forecast_year: Option<i64>,
    /// refits on resampled rows behind each forecast's interval
    #[serde(default = "int::<200>")]
    #[schemars(range(min = 0))]
    pub forecast_bootstrap: i64,
}

/// Where an LA's probability counts as flagged.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, Serialize, JsonSchema)]
#[serde(untagged, expecting = "a probability from 0 to 1, or `prevalence`")]
pub enum Threshold {
    /// a fixed probability
    Probability(f64),
    /// the training rows' rate of the outcome
    Rule(ThresholdRule),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum ThresholdRule {
    Prevalence,
}

impl Default for Threshold {
    fn default() -> Self {
        Threshold::Probability(0.5)
    }
}

fn three() -> f64 {
    3.0
}

fn level() -> f64 {
    0.95
}

fn year() -> String {
    "year".into()
}

/// `2018..2023` (inclusive) or a single year.
pub fn parse_years(s: &str) -> std::result::Result<Vec<i64>, String> {
    let bad = || format!("`{s}` is not a year range: write `2018..2023` or a single year");
    match s.split_once("..") {
        Some((a, b)) => {
            let (a, b): (i64, i64) = (
                a.trim().parse().map_err(|_| bad())?,
                b.trim().parse().map_err(|_| bad())?,
            );
            if a > b {
                return Err(bad());
            }
            Ok((a..=b).collect())
        }
        None => Ok(vec![s.trim().parse().map_err(|_| bad())?]),
    }
}

impl KindSpec for EarlyWarning {
    fn params(&self) -> &KindParams {
        static P: params::Lazy = params::Lazy::new(KindParams::of::<EarlyWarningParams>);
        &P
    }

    fn tables(&self, _stage: &Stage) -> Vec<String> {
        ["evaluation", "coefficients", "predictions"]
            .map(String::from)
            .to_vec()
    }

    fn check(&self, stage: &Stage) -> std::result::Result<(), String> {
        let p: EarlyWarningParams = stage.params_as()?;
        parse_years(&p.origins).map_err(|e| format!("param `origins`: {e}"))?;
        if let Threshold::Probability(t) = p.threshold {
            if !(0.0..=1.0).contains(&t) {
                return Err(format!(
                    "param `threshold` must be a probability from 0 to 1, or `prevalence`, not {t}"
                ));
            }
        }
        if stage.inputs.len() != 1 {
            return Err(
                "an `early_warning` stage reads one table of LA-years (a SQL stage builds it)"
                    .into(),
            );
        }
        Ok(())
    }
}

impl StageKind for EarlyWarning {
    fn name(&self) -> &'static str {
        "early_warning"
    }

    fn version(&self) -> u32 {
        2
    }

    fn describe(&self) -> &'static str {
        "rolling-origin, out-of-time evaluation of an early-warning elastic net against a naive baseline"
    }

    fn outputs(&self) -> &'static [TableDoc] {
        &[
            TableDoc {
                name: "coefficients",
                columns: &["origin_year", "term", "coefficient"],
            },
            TableDoc {
                name: "evaluation",
                columns: &[
                    "origin_year",
                    "outcome_window",
                    "model",
                    "nonzero",
                    "intercept_only",
                    "n_train",
                    "flag_at",
                    "n_test",
                    "positives",
                    "flagged",
                    "sensitivity",
                    "specificity",
                    "ppv",
                    "auc",
                    "auc_lo",
                    "auc_hi",
                ],
            },
            TableDoc {
                name: "predictions",
                columns: &[
                    "origin_year",
                    "la_code",
                    "observed",
                    "probability",
                    "probability_lo",
                    "probability_hi",
                    "flagged",
                    "baseline_flagged",
                ],
            },
        ]
    }

    fn run(&self, ctx: &StageContext) -> Result<Vec<OutputTable>> {
        let input = &ctx.stage.inputs[0];
        let (schema, batches) = ctx.read_table(input, None)?;
        let t = TableData::new(&format!("input `{input}`"), schema, &batches)?;
        let p: EarlyWarningParams = ctx.params()?;
        let columns = Columns::read(&t, &p)?;
        let origins = parse_years(&p.origins).map_err(|e| ctx.fail(e))?;
        let rows = Rows::in_year_order(ctx, columns)?;
        rows.years_have_data(ctx, input, &p, &origins)?;
        let study = Study {
            p: &p,
            rows: &rows,
            params: BinomialParams {
                alpha: p.alpha,
                ..BinomialParams::default()
            },
        };
        let mut out = Outputs::default();
        for split in &study.splits(&origins) {
            study.origin(ctx, split, &mut out)?;
        }
        out.build()
    }
}

/// The input's columns the model reads: LA, year, outcome, the baseline's score and each
/// predictor, in the input's row order.
struct Columns {
    ids: Vec<Option<String>>,
    years: Vec<Option<i64>>,
    outcome: Vec<Option<f64>>,
    baseline: Vec<Option<f64>>,
    cols: Vec<Vec<Option<f64>>>,
}

impl Columns {
    /// The columns the params name.
    fn read(t: &TableData, p: &EarlyWarningParams) -> Result<Columns> {
        Ok(Columns {
            ids: t.strings(&p.id)?,
            years: t.i64s(&p.year)?,
            outcome: t.f64s(&p.outcome)?,
            baseline: t.f64s(&p.baseline)?,
            cols: p
                .predictors
                .iter()
                .map(|p| t.f64s(p))
                .collect::<Result<_>>()?,
        })
    }
}

/// The LA-years with a year and an LA, in (year, LA) order: `order[r]` is row r's index in
/// the input, `row_years[r]` its year, `labelled[r]` whether its outcome is known.
struct Rows {
    c: Columns,
    order: Vec<usize>,
    row_years: Vec<i64>,
    labelled: Vec<bool>,
}

impl Rows {
    /// The rows in (year, LA) order, after checking every outcome is 0, 1 or null.
    fn in_year_order(ctx: &StageContext, c: Columns) -> Result<Rows> {
        let (ids, years, outcome) = (&c.ids, &c.years, &c.outcome);
        // Rows in (year, LA) order so that folds and bootstrap draws do not depend on the input's.
        let mut order: Vec<usize> = (0..years.len())
            .filter(|&i| years[i].is_some() && ids[i].is_some())
            .collect();
        order.sort_by(|&a, &b| (years[a], &ids[a]).cmp(&(years[b], &ids[b])));
        for &i in &order {
            if let Some(y) = outcome[i] {
                if y != 0.0 && y != 1.0 {
                    return Err(ctx.fail(format!(
                        "outcome must be 0, 1 or null, but {} in {} has {y}",
                        ids[i].as_deref().unwrap_or("?"),
                        years[i].unwrap_or(0)
                    )));
                }
            }
        }
        let row_years: Vec<i64> = order.iter().map(|&i| years[i].unwrap_or(0)).collect();
        let labelled: Vec<bool> = order.iter().map(|&i| outcome[i].is_some()).collect();
        Ok(Rows {
            c,
            order,
            row_years,
            labelled,
        })
    }

    /// Every year tested — each origin and the forecast year — has data: a year with no row,
    /// or with no value of any predictor, means the sources do not cover it yet (params for
    /// new years set before the files are in), and the model would run on training medians
    /// alone. (One predictor missing is allowed: the study's 2025 forecast has no
    /// `single_assessments_within_45_days_pct`, whose file ends in 2022.)
    fn years_have_data(
        &self,
        ctx: &StageContext,
        input: &str,
        p: &EarlyWarningParams,
        origins: &[i64],
    ) -> Result<()> {
        let (order, years, cols) = (&self.order, &self.c.years, &self.c.cols);
        let predictors = &p.predictors;
        let forecast_year = p.forecast_year;
        for year in origins.iter().copied().chain(forecast_year) {
            let rows: Vec<usize> = order
                .iter()
                .copied()
                .filter(|&i| years[i] == Some(year))
                .collect();
            let empty: Vec<String> = predictors
                .iter()
                .zip(cols)
                .filter(|(_, c)| rows.iter().all(|&i| c[i].is_none()))
                .map(|(p, c)| {
                    let last = order
                        .iter()
                        .filter(|&&i| c[i].is_some())
                        .filter_map(|&i| years[i])
                        .max();
                    format!(
                        "`{p}` (last value in {})",
                        last.map(|y| y.to_string())
                            .unwrap_or_else(|| "no year".into())
                    )
                })
                .collect();
            if rows.is_empty() || empty.len() == predictors.len() {
                let what = if forecast_year == Some(year) {
                    "forecast_year"
                } else {
                    "origin"
                };
                let detail = if rows.is_empty() {
                    format!("input `{input}` has no row of {year}")
                } else {
                    format!(
                        "input `{input}` has no value in {year} of {}",
                        empty.join(", ")
                    )
                };
                return Err(ctx.fail(format!("{what} {year}: {detail}")).with_hint(
                    "the sources behind them do not cover that year yet: `panel_definitions` names each indicator's source and `panel_coverage` its years; add the files (README, \"Adding a year of data\") or choose earlier years",
                ));
            }
        }
        Ok(())
    }

    /// The predictors of the given rows (positions in year order), one vector per row.
    fn x_of(&self, rows: &[usize]) -> Vec<Vec<Option<f64>>> {
        rows.iter()
            .map(|&r| self.c.cols.iter().map(|c| c[self.order[r]]).collect())
            .collect()
    }
}

/// The study out of time: its params and rows, the same at every origin.
struct Study<'a> {
    p: &'a EarlyWarningParams,
    rows: &'a Rows,
    params: BinomialParams,
}

/// The rows of the three tables, origin by origin.
#[derive(Default)]
struct Outputs {
    ev: Evaluation,
    coef: (Vec<i64>, Vec<String>, Vec<Option<f64>>),
    pred: Predictions,
}

/// One origin's fitted model and what it says of the origin's LAs.
struct OriginFit<'s> {
    split: &'s Split,
    threshold: f64,
    model: OriginModel,
    probs: Vec<f64>,
    observed: Vec<Option<f64>>,
    base: Vec<f64>,
}

impl Study<'_> {
    /// The rolling origins, and the forecast's own split when it is not one of them.
    fn splits(&self, origins: &[i64]) -> Vec<Split> {
        let (row_years, labelled) = (&self.rows.row_years, &self.rows.labelled);
        let mut splits = rolling_origin(row_years, labelled, origins, self.p.horizon);
        if let Some(f) = self.p.forecast_year {
            if !origins.contains(&f) {
                // Every known outcome is fitted for the forecast: none of its own year is known.
                let mut s = rolling_origin(row_years, labelled, &[f], 0).remove(0);
                s.train.retain(|&i| row_years[i] < f);
                splits.push(s);
            }
        }
        splits
    }

    /// One origin: the model fitted on the outcomes known by then, its coefficients, its
    /// predictions for the origin's LAs and the assessment of both models where the outcome
    /// is known.
    fn origin(&self, ctx: &StageContext, split: &Split, out: &mut Outputs) -> Result<()> {
        let (p, rows) = (self.p, self.rows);
        let (outcome, baseline) = (&rows.c.outcome, &rows.c.baseline);
        let order = &rows.order;
        let ys: Vec<f64> = split
            .train
            .iter()
            .map(|&r| outcome[order[r]].unwrap_or(0.0))
            .collect();
        if split.test.is_empty() || ys.iter().all(|v| *v == 0.0) || ys.iter().all(|v| *v == 1.0) {
            return Err(ctx.fail(format!(
                "origin {}: {} training rows with {} positive and {} test rows — too few to fit",
                split.origin,
                ys.len(),
                ys.iter().filter(|v| **v == 1.0).count(),
                split.test.len()
            ))
            .with_hint("choose later origins or a longer panel (param `origins`), or check the outcome column"));
        }
        let threshold = match p.threshold {
            Threshold::Probability(t) => t,
            Threshold::Rule(ThresholdRule::Prevalence) => ys.iter().sum::<f64>() / ys.len() as f64,
        };
        let model = OriginModel::fit(
            &rows.x_of(&split.train),
            &ys,
            &self.params,
            p.nfolds as usize,
            p.seed,
        )
        .map_err(|e| {
            ctx.fail(format!(
                "origin {}: the elastic net could not be fitted: {e}",
                split.origin
            ))
        })?;
        for (j, term) in std::iter::once("(Intercept)".to_string())
            .chain(p.predictors.iter().cloned())
            .enumerate()
        {
            out.coef.0.push(split.origin);
            out.coef.1.push(term);
            out.coef.2.push(Some(model.coefficients[j]));
        }
        let probs = model.predict(&rows.x_of(&split.test));
        let observed: Vec<Option<f64>> = split.test.iter().map(|&r| outcome[order[r]]).collect();
        let base: Vec<f64> = split
            .test
            .iter()
            .map(|&r| baseline[order[r]].unwrap_or(0.0))
            .collect();
        let fit = OriginFit {
            split,
            threshold,
            model,
            probs,
            observed,
            base,
        };
        self.predictions(&fit, &ys, &mut out.pred);
        self.assess(&fit, &mut out.ev);
        Ok(())
    }

    /// The origin's LAs with their probability, its interval for the forecast, and whether
    /// the model and the baseline flag them.
    fn predictions(&self, fit: &OriginFit, ys: &[f64], pred: &mut Predictions) {
        let (p, rows, split) = (self.p, self.rows, fit.split);
        let (probs, observed, base) = (&fit.probs, &fit.observed, &fit.base);
        // The forecast carries an interval: what a scorecard shows beside the probability.
        let is_forecast = p.forecast_year == Some(split.origin);
        let intervals = if is_forecast {
            let fb = p.forecast_bootstrap as usize;
            bootstrap_probabilities(
                &fit.model,
                &rows.x_of(&split.train),
                ys,
                &rows.x_of(&split.test),
                &self.params,
                crate::stats::early_warning::Bootstrap {
                    resamples: fb,
                    seed: p.seed,
                    level: p.level,
                },
            )
        } else {
            vec![None; split.test.len()]
        };
        for (k, &r) in split.test.iter().enumerate() {
            pred.origin.push(split.origin);
            pred.la
                .push(rows.c.ids[rows.order[r]].clone().unwrap_or_default());
            pred.observed.push(observed[k].map(|v| v as i64));
            pred.probability.push(Some(probs[k]));
            pred.lo.push(intervals[k].map(|c| c.0));
            pred.hi.push(intervals[k].map(|c| c.1));
            pred.flagged.push(Some(probs[k] > fit.threshold));
            pred.baseline.push(Some(base[k] >= p.baseline_cut));
        }
    }

    /// The model and the baseline assessed on the origin's LAs whose outcome is known.
    fn assess(&self, fit: &OriginFit, ev: &mut Evaluation) {
        let (p, split) = (self.p, fit.split);
        let (probs, observed, base) = (&fit.probs, &fit.observed, &fit.base);
        let (threshold, cut, seed) = (fit.threshold, p.baseline_cut, p.seed);
        let window = format!("{}..{}", split.origin + 1, split.origin + p.horizon);
        // Only LAs whose outcome is known are assessed.
        let known: Vec<usize> = (0..split.test.len())
            .filter(|&k| observed[k].is_some())
            .collect();
        if known.is_empty() {
            return;
        }
        let positive: Vec<bool> = known.iter().map(|&k| observed[k] == Some(1.0)).collect();
        let seed_o = seed ^ (split.origin as u64).wrapping_mul(0x9E37_79B9);
        for (name, scores, flags) in [
            (
                "canary",
                known.iter().map(|&k| probs[k]).collect::<Vec<_>>(),
                known
                    .iter()
                    .map(|&k| probs[k] > threshold)
                    .collect::<Vec<_>>(),
            ),
            (
                "baseline",
                known.iter().map(|&k| base[k]).collect(),
                known.iter().map(|&k| base[k] >= cut).collect(),
            ),
        ] {
            let a = assess(
                &scores,
                &flags,
                &positive,
                p.bootstrap as usize,
                seed_o,
                p.level,
            );
            // The baseline has no coefficients: its `nonzero` is null.
            let kept = (name == "canary").then(|| {
                fit.model.coefficients[1..]
                    .iter()
                    .filter(|c| **c != 0.0)
                    .count()
            });
            ev.push(
                split.origin,
                &window,
                name,
                split.train.len(),
                Some(if name == "canary" { threshold } else { cut }),
                kept,
                &a,
            );
        }
    }
}

impl Outputs {
    /// The `evaluation`, `coefficients` and `predictions` tables.
    fn build(self) -> Result<Vec<OutputTable>> {
        let (ev, coef, pred) = (self.ev, self.coef, self.pred);
        let evaluation = ev.build()?;
        let coefficients = TableBuilder::new()
            .i64("origin_year", coef.0)
            .str("term", coef.1)
            .f64("coefficient", coef.2)
            .build(Some("coefficients"))?;
        let predictions = TableBuilder::new()
            .i64("origin_year", pred.origin)
            .str("la_code", pred.la)
            .col(
                "observed",
                crate::stage::columns::Column::I64(pred.observed),
                true,
            )
            .f64("probability", pred.probability)
            .f64("probability_lo", pred.lo)
            .f64("probability_hi", pred.hi)
            .bool("flagged", pred.flagged)
            .bool("baseline_flagged", pred.baseline)
            .build(Some("predictions"))?;
        Ok(vec![evaluation, coefficients, predictions])
    }
}

#[derive(Default)]
struct Predictions {
    origin: Vec<i64>,
    la: Vec<String>,
    observed: Vec<Option<i64>>,
    probability: Vec<Option<f64>>,
    lo: Vec<Option<f64>>,
    hi: Vec<Option<f64>>,
    flagged: Vec<Option<bool>>,
    baseline: Vec<Option<bool>>,
}

#[derive(Default)]
struct Evaluation {
    origin: Vec<i64>,
    window: Vec<String>,
    model: Vec<String>,
    nonzero: Vec<Option<i64>>,
    n_train: Vec<i64>,
    cut: Vec<Option<f64>>,
    n_test: Vec<i64>,
    positives: Vec<i64>,
    flagged: Vec<i64>,
    sensitivity: Vec<Option<f64>>,
    specificity: Vec<Option<f64>>,
    ppv: Vec<Option<f64>>,
    auc: Vec<Option<f64>>,
    auc_lo: Vec<Option<f64>>,
    auc_hi: Vec<Option<f64>>,
}

impl Evaluation {
    /// `nonzero`: the model's predictors with a non-zero coefficient (None for the baseline).
    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        origin: i64,
        window: &str,
        model: &str,
        n_train: usize,
        cut: Option<f64>,
        nonzero: Option<usize>,
        a: &crate::stats::early_warning::Assessment,
    ) {
        self.nonzero.push(nonzero.map(|k| k as i64));
        self.cut.push(cut);
        self.origin.push(origin);
        self.window.push(window.to_string());
        self.model.push(model.to_string());
        self.n_train.push(n_train as i64);
        self.n_test.push(a.n as i64);
        self.positives.push(a.positives as i64);
        self.flagged.push(a.flagged as i64);
        self.sensitivity.push(a.sensitivity);
        self.specificity.push(a.specificity);
        self.ppv.push(a.ppv);
        self.auc.push(a.auc);
        self.auc_lo.push(a.auc_lo);
        self.auc_hi.push(a.auc_hi);
    }

    fn build(self) -> Result<OutputTable> {
        TableBuilder::new()
            .i64("origin_year", self.origin)
            .str("outcome_window", self.window)
            .str("model", self.model)
            .col("nonzero", Column::I64(self.nonzero.clone()), true)
            .bool(
                "intercept_only",
                self.nonzero.iter().map(|k| k.map(|k| k == 0)).collect(),
            )
            .i64("n_train", self.n_train)
            .f64("flag_at", self.cut)
            .i64("n_test", self.n_test)
            .i64("positives", self.positives)
            .i64("flagged", self.flagged)
            .f64("sensitivity", self.sensitivity)
            .f64("specificity", self.specificity)
            .f64("ppv", self.ppv)
            .f64("auc", self.auc)
            .f64("auc_lo", self.auc_lo)
            .f64("auc_hi", self.auc_hi)
            .build(Some("evaluation"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn year_ranges() {
        assert_eq!(parse_years("2018..2020"), Ok(vec![2018, 2019, 2020]));
        assert_eq!(parse_years("2019"), Ok(vec![2019]));
        assert!(parse_years("2020..2018").is_err());
        assert!(parse_years("2018-2020").unwrap_err().contains("2018..2023"));
    }
}
