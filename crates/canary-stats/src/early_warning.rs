//! Out-of-time evaluation of an early-warning model: rolling-origin splits that never let a
//! test year (or any outcome not yet known at the origin) into the fit, the area under the ROC
//! curve with a bootstrap interval, and the counts a practitioner reads (sensitivity,
//! specificity, positive predictive value, LAs flagged).
//!
//! Rows are LA-years: predictors of year `s`, outcome "judged inadequate in calendar years
//! `s+1 ..= s+h`" (`h`, the horizon). At origin `t` the outcomes known are those whose window
//! has closed, `s + h <= t`; only those rows are fitted, and the model is tested on the rows of
//! year `t` itself. [`rolling_origin`] states this once, and its tests check it.

use crate::glmnet::{assign_folds, cv_binomial, BinomialParams, CvMeasure, Matrix};
use crate::rank::rank_average;

/// One origin: the rows fitted and the rows tested (indices into the caller's rows).
#[derive(Debug, Clone, PartialEq)]
pub struct Split {
    pub origin: i64,
    pub train: Vec<usize>,
    pub test: Vec<usize>,
}

/// Rolling-origin splits. `years[i]` is row i's predictor year, `labelled[i]` whether its
/// outcome is recorded. Training rows: labelled, `year + horizon <= origin` (their outcome
/// window closed by the origin, so the origin's own and later years are never fitted). Test
/// rows: `year == origin`.
pub fn rolling_origin(
    years: &[i64],
    labelled: &[bool],
    origins: &[i64],
    horizon: i64,
) -> Vec<Split> {
    origins
        .iter()
        .map(|&origin| Split {
            origin,
            train: (0..years.len())
                .filter(|&i| labelled[i] && years[i] + horizon <= origin)
                .collect(),
            test: (0..years.len()).filter(|&i| years[i] == origin).collect(),
        })
        .collect()
}

/// Area under the ROC curve: the probability that a random positive scores above a random
/// negative, ties counting one half — the Mann-Whitney statistic `(R1 - n1 (n1 + 1) / 2) /
/// (n1 n0)` with average ranks (what R's `pROC::auc` and `wilcox.test` give). None without
/// both classes.
pub fn auc(scores: &[f64], positive: &[bool]) -> Option<f64> {
    let n1 = positive.iter().filter(|p| **p).count();
    let n0 = positive.len() - n1;
    if n1 == 0 || n0 == 0 {
        return None;
    }
    let ranks = rank_average(scores);
    let r1: f64 = ranks
        .iter()
        .zip(positive)
        .filter(|(_, p)| **p)
        .map(|(r, _)| r)
        .sum();
    Some((r1 - n1 as f64 * (n1 as f64 + 1.0) / 2.0) / (n1 as f64 * n0 as f64))
}

/// How a bootstrap is drawn: how many resamples, from which seed, for which interval level.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bootstrap {
    pub resamples: usize,
    pub seed: u64,
    pub level: f64,
}

/// SplitMix64 (Steele, Lea & Flood 2014): a small, fully specified generator, so a bootstrap
/// interval is the same on every machine for the same seed.
#[derive(Debug, Clone)]
pub struct SplitMix64(u64);

impl SplitMix64 {
    pub fn new(seed: u64) -> Self {
        SplitMix64(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (Lemire's multiply-shift; the bias is below 2^-40 for n < 2^24).
    pub fn below(&mut self, n: usize) -> usize {
        (((self.next_u64() >> 32) * n as u64) >> 32) as usize
    }
}

/// Percentile bootstrap interval of the AUC, resampling positives and negatives separately
/// (stratified, as `pROC::ci.auc` does by default): `b` resamples, the `(1 - level) / 2` and
/// `(1 + level) / 2` quantiles (R's type 7) of the resampled AUCs.
pub fn bootstrap_auc(
    scores: &[f64],
    positive: &[bool],
    b: usize,
    seed: u64,
    level: f64,
) -> Option<(f64, f64)> {
    let pos: Vec<f64> = scores
        .iter()
        .zip(positive)
        .filter(|(_, p)| **p)
        .map(|(s, _)| *s)
        .collect();
    let neg: Vec<f64> = scores
        .iter()
        .zip(positive)
        .filter(|(_, p)| !**p)
        .map(|(s, _)| *s)
        .collect();
    if pos.is_empty() || neg.is_empty() || b == 0 {
        return None;
    }
    let mut rng = SplitMix64::new(seed);
    let labels: Vec<bool> = std::iter::repeat_n(true, pos.len())
        .chain(std::iter::repeat_n(false, neg.len()))
        .collect();
    let mut aucs = Vec::with_capacity(b);
    let mut sample = Vec::with_capacity(labels.len());
    for _ in 0..b {
        sample.clear();
        sample.extend((0..pos.len()).map(|_| pos[rng.below(pos.len())]));
        sample.extend((0..neg.len()).map(|_| neg[rng.below(neg.len())]));
        aucs.push(auc(&sample, &labels).expect("both classes"));
    }
    aucs.sort_by(f64::total_cmp);
    let q = |p: f64| crate::quantile::quantile_type7_sorted(&aucs, p);
    Some((q((1.0 - level) / 2.0), q((1.0 + level) / 2.0)))
}

/// What a test year shows for one model.
#[derive(Debug, Clone, PartialEq)]
pub struct Assessment {
    pub n: usize,
    pub positives: usize,
    pub flagged: usize,
    pub sensitivity: Option<f64>,
    pub specificity: Option<f64>,
    /// Positive predictive value: of the LAs flagged, the share judged inadequate.
    pub ppv: Option<f64>,
    pub auc: Option<f64>,
    pub auc_lo: Option<f64>,
    pub auc_hi: Option<f64>,
}

/// Assess scores (higher = more concern) and flags against the observed outcomes.
pub fn assess(
    scores: &[f64],
    flagged: &[bool],
    positive: &[bool],
    bootstrap: usize,
    seed: u64,
    level: f64,
) -> Assessment {
    let (mut tp, mut fp, mut tn, mut fn_) = (0usize, 0usize, 0usize, 0usize);
    for (f, p) in flagged.iter().zip(positive) {
        match (*f, *p) {
            (true, true) => tp += 1,
            (true, false) => fp += 1,
            (false, false) => tn += 1,
            (false, true) => fn_ += 1,
        }
    }
    let ratio = |a: usize, b: usize| (a + b > 0).then(|| a as f64 / (a + b) as f64);
    let ci = bootstrap_auc(scores, positive, bootstrap, seed, level);
    Assessment {
        n: positive.len(),
        positives: tp + fn_,
        flagged: tp + fp,
        sensitivity: ratio(tp, fn_),
        specificity: ratio(tn, fp),
        ppv: ratio(tp, fp),
        auc: auc(scores, positive),
        auc_lo: ci.map(|c| c.0),
        auc_hi: ci.map(|c| c.1),
    }
}

/// A model fitted at one origin.
#[derive(Debug, Clone)]
pub struct OriginModel {
    /// Intercept then one coefficient per predictor, at lambda.min, on the original scale.
    pub coefficients: Vec<f64>,
    pub lambda_min: f64,
    /// The training medians that stand in for missing predictor values (train and test).
    pub medians: Vec<f64>,
}

impl OriginModel {
    /// Fit on the training rows: missing values replaced by the training medians (never a
    /// statistic of the test rows), lambda by cv.glmnet's rule on folds drawn from `seed`.
    pub fn fit(
        x: &[Vec<Option<f64>>],
        y: &[f64],
        params: &BinomialParams,
        nfolds: usize,
        seed: u64,
    ) -> Result<OriginModel, String> {
        let p = x.first().map_or(0, |r| r.len());
        let medians: Vec<f64> = (0..p)
            .map(|j| {
                let v: Vec<f64> = x
                    .iter()
                    .filter_map(|r| r[j])
                    .filter(|v| v.is_finite())
                    .collect();
                if v.is_empty() {
                    0.0
                } else {
                    crate::quantile::median(&v)
                }
            })
            .collect();
        let m = design(x, &medians)?;
        let folds = assign_folds(y.len(), nfolds, seed);
        let cv =
            cv_binomial(&m, y, &folds, params, CvMeasure::Deviance).map_err(|e| e.to_string())?;
        let k = cv.index_min;
        let mut coefficients = vec![cv.path.a0[k]];
        coefficients.extend(cv.path.beta[k].iter().copied());
        Ok(OriginModel {
            coefficients,
            lambda_min: cv.lambda_min,
            medians,
        })
    }

    /// Predicted probability for each row (missing values as the training medians).
    pub fn predict(&self, x: &[Vec<Option<f64>>]) -> Vec<f64> {
        x.iter()
            .map(|row| {
                let eta = self.coefficients[0]
                    + row
                        .iter()
                        .zip(&self.coefficients[1..])
                        .zip(&self.medians)
                        .map(|((v, b), m)| b * v.filter(|v| v.is_finite()).unwrap_or(*m))
                        .sum::<f64>();
                1.0 / (1.0 + (-eta).exp())
            })
            .collect()
    }
}

/// Percentile bootstrap interval of each test row's predicted probability: the training rows
/// are resampled `b` times, each resample refitted at the origin's lambda.min (the same
/// medians stand in for missing values), and the `(1 ± level) / 2` quantiles (type 7) of
/// the refitted models' predictions taken. Resamples with one class only are skipped.
pub fn bootstrap_probabilities(
    model: &OriginModel,
    x: &[Vec<Option<f64>>],
    y: &[f64],
    test: &[Vec<Option<f64>>],
    params: &BinomialParams,
    boot: Bootstrap,
) -> Vec<Option<(f64, f64)>> {
    let Bootstrap {
        resamples: b,
        seed,
        level,
    } = boot;
    let Ok(full) = design(x, &model.medians) else {
        return vec![None; test.len()];
    };
    let Ok(t) = design(test, &model.medians) else {
        return vec![None; test.len()];
    };
    let n = y.len();
    let mut rng = SplitMix64::new(seed);
    let mut draws: Vec<Vec<f64>> = vec![Vec::with_capacity(b); test.len()];
    let fixed = BinomialParams {
        lambda: Some(vec![model.lambda_min]),
        ..params.clone()
    };
    for _ in 0..b {
        let idx: Vec<usize> = (0..n).map(|_| rng.below(n)).collect();
        let ys: Vec<f64> = idx.iter().map(|&i| y[i]).collect();
        if ys.iter().all(|v| *v == ys[0]) {
            continue;
        }
        let cols: Vec<Vec<f64>> = (0..full.ncols())
            .map(|j| idx.iter().map(|&i| full.get(i, j)).collect())
            .collect();
        let Ok(m) = Matrix::from_columns(&cols) else {
            continue;
        };
        let Ok(path) = crate::glmnet::fit_binomial(&m, &ys, &fixed) else {
            continue;
        };
        let Ok(p) = path.predict_prob(&t, path.lambda.len() - 1) else {
            continue;
        };
        for (k, v) in p.into_iter().enumerate() {
            draws[k].push(v);
        }
    }
    draws
        .into_iter()
        .map(|mut d| {
            if d.len() < 2 {
                return None;
            }
            d.sort_by(f64::total_cmp);
            let q = |p: f64| crate::quantile::quantile_type7_sorted(&d, p);
            Some((q((1.0 - level) / 2.0), q((1.0 + level) / 2.0)))
        })
        .collect()
}

fn design(x: &[Vec<Option<f64>>], medians: &[f64]) -> Result<Matrix, String> {
    let cols: Vec<Vec<f64>> = (0..medians.len())
        .map(|j| {
            x.iter()
                .map(|r| r[j].filter(|v| v.is_finite()).unwrap_or(medians[j]))
                .collect()
        })
        .collect();
    Matrix::from_columns(&cols).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auc_is_the_mann_whitney_statistic() {
        // Pairs: 0.9 beats all three negatives; 0.4 ties one (a half) and beats two: 5.5 / 6.
        // R: pROC::auc(c(1,1,0,0,0), c(.9,.4,.4,.2,.1)) = 0.9167.
        let a = auc(
            &[0.9, 0.4, 0.4, 0.2, 0.1],
            &[true, true, false, false, false],
        )
        .unwrap();
        assert!((a - 11.0 / 12.0).abs() < 1e-15, "{a}");
        assert_eq!(auc(&[1.0, 2.0], &[true, true]), None);
        assert_eq!(auc(&[1.0, 2.0, 3.0], &[false, false, true]), Some(1.0));
        assert_eq!(auc(&[3.0, 2.0, 1.0], &[false, false, true]), Some(0.0));
    }

    #[test]
    fn bootstrap_interval_brackets_the_auc_and_repeats_for_a_seed() {
        let scores: Vec<f64> = (0..60).map(|i| ((i * 37) % 60) as f64 / 60.0).collect();
        let positive: Vec<bool> = (0..60).map(|i| (i * 37) % 60 > 35 || i % 7 == 0).collect();
        let a = auc(&scores, &positive).unwrap();
        let (lo, hi) = bootstrap_auc(&scores, &positive, 500, 7, 0.95).unwrap();
        assert!(lo < a && a < hi, "{lo} {a} {hi}");
        assert_eq!(
            bootstrap_auc(&scores, &positive, 500, 7, 0.95),
            Some((lo, hi))
        );
        assert_ne!(
            bootstrap_auc(&scores, &positive, 500, 8, 0.95),
            Some((lo, hi))
        );
    }

    #[test]
    fn no_test_year_or_unknown_outcome_is_ever_fitted() {
        let years: Vec<i64> = (2016..=2025)
            .flat_map(|y| std::iter::repeat_n(y, 3))
            .collect();
        let labelled: Vec<bool> = years.iter().map(|y| *y <= 2023).collect();
        for horizon in 1..=3 {
            let splits = rolling_origin(&years, &labelled, &[2020, 2021, 2022, 2023], horizon);
            for s in &splits {
                assert!(!s.train.is_empty() && !s.test.is_empty());
                for &i in &s.train {
                    assert!(years[i] < s.origin, "a test year was fitted");
                    assert!(
                        years[i] + horizon <= s.origin,
                        "an outcome not yet known at {} was fitted",
                        s.origin
                    );
                    assert!(labelled[i]);
                }
                assert!(s.test.iter().all(|&i| years[i] == s.origin));
                assert!(s.train.iter().all(|i| !s.test.contains(i)));
            }
        }
    }

    #[test]
    fn the_fit_at_an_origin_ignores_outcomes_it_could_not_have_known() {
        // Outcomes of the rows after the cut-off are scrambled: the model at the origin must not
        // change by a bit.
        let n = 240;
        let years: Vec<i64> = (0..n).map(|i| 2016 + (i % 8) as i64).collect();
        let x: Vec<Vec<Option<f64>>> = (0..n)
            .map(|i| {
                vec![
                    Some(((i * 31) % 97) as f64),
                    if i % 11 == 0 {
                        None
                    } else {
                        Some(((i * 17) % 41) as f64 / 4.0)
                    },
                ]
            })
            .collect();
        let y: Vec<f64> = (0..n)
            .map(|i| {
                if ((i * 31) % 97) > 70 || i % 13 == 0 {
                    1.0
                } else {
                    0.0
                }
            })
            .collect();
        let mut scrambled = y.clone();
        let (origin, horizon) = (2021, 2);
        for i in 0..n {
            if years[i] + horizon > origin {
                scrambled[i] = 1.0 - scrambled[i];
            }
        }
        let labelled = vec![true; n];
        let split = &rolling_origin(&years, &labelled, &[origin], horizon)[0];
        let params = BinomialParams {
            alpha: 1.0,
            ..BinomialParams::default()
        };
        let fit = |y: &[f64]| {
            let xs: Vec<Vec<Option<f64>>> = split.train.iter().map(|&i| x[i].clone()).collect();
            let ys: Vec<f64> = split.train.iter().map(|&i| y[i]).collect();
            OriginModel::fit(&xs, &ys, &params, 5, 1).unwrap()
        };
        let (a, b) = (fit(&y), fit(&scrambled));
        assert_eq!(a.coefficients, b.coefficients);
        assert_eq!(a.medians, b.medians);
        let test: Vec<Vec<Option<f64>>> = split.test.iter().map(|&i| x[i].clone()).collect();
        assert_eq!(a.predict(&test), b.predict(&test));
    }

    #[test]
    fn probability_intervals_bracket_the_fitted_probability() {
        let n = 200;
        let x: Vec<Vec<Option<f64>>> = (0..n).map(|i| vec![Some(((i * 31) % 97) as f64)]).collect();
        let y: Vec<f64> = (0..n)
            .map(|i| {
                if ((i * 31) % 97) > 60 || i % 9 == 0 {
                    1.0
                } else {
                    0.0
                }
            })
            .collect();
        let params = BinomialParams {
            alpha: 1.0,
            ..BinomialParams::default()
        };
        let m = OriginModel::fit(&x, &y, &params, 5, 3).unwrap();
        let test = vec![vec![Some(10.0)], vec![Some(90.0)], vec![None]];
        let p = m.predict(&test);
        let ci = bootstrap_probabilities(
            &m,
            &x,
            &y,
            &test,
            &params,
            Bootstrap {
                resamples: 100,
                seed: 5,
                level: 0.9,
            },
        );
        for (k, c) in ci.iter().enumerate() {
            let (lo, hi) = c.unwrap();
            assert!(
                lo <= p[k] + 0.02 && p[k] - 0.02 <= hi && lo < hi,
                "{k}: {lo} {} {hi}",
                p[k]
            );
        }
        assert_eq!(
            ci,
            bootstrap_probabilities(
                &m,
                &x,
                &y,
                &test,
                &params,
                Bootstrap {
                    resamples: 100,
                    seed: 5,
                    level: 0.9
                }
            )
        );
    }

    #[test]
    fn assessment_counts() {
        let a = assess(
            &[0.9, 0.6, 0.4, 0.1],
            &[true, true, false, false],
            &[true, false, true, false],
            0,
            1,
            0.95,
        );
        assert_eq!((a.n, a.positives, a.flagged), (4, 2, 2));
        assert_eq!(
            (a.sensitivity, a.specificity, a.ppv),
            (Some(0.5), Some(0.5), Some(0.5))
        );
        assert_eq!(a.auc, Some(0.75));
        assert_eq!(a.auc_lo, None);
    }
}
