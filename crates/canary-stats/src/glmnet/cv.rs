//! `cv.glmnet(..., family = "binomial")` with fixed folds, and
//! `assess.glmnet` measures on new data.

use super::path::{fit_binomial, logistic, Path};
use super::{BinomialParams, GlmnetError, Matrix};

/// Probabilities are clamped to `[1e-5, 1 - 1e-5]` in the deviance loss.
const PROB_MIN: f64 = 1e-5;

/// Loss used for cross-validation (R's `type.measure`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CvMeasure {
    /// `-2 [y log p + (1-y) log(1-p)]`, `p` clamped to `[1e-5, 1-1e-5]`.
    Deviance,
    /// Misclassification: `y (p <= 1/2) + (1-y) (p >= 1/2)` (a tie counts as
    /// an error, as in R).
    Class,
    /// `2 (y - p)^2` (R sums the squared error over both one-hot columns).
    Mse,
    /// `2 |y - p|`.
    Mae,
    /// Area under the ROC curve, computed per fold (higher is better).
    Auc,
}

impl CvMeasure {
    /// Loss of one observation.
    fn loss(self, y: f64, p: f64) -> f64 {
        match self {
            CvMeasure::Deviance => {
                let pc = p.clamp(PROB_MIN, 1.0 - PROB_MIN);
                -2.0 * ((1.0 - y) * (1.0 - pc).ln() + y * pc.ln())
            }
            CvMeasure::Class => {
                (1.0 - y) * ((p >= 0.5) as u8 as f64) + y * ((p <= 0.5) as u8 as f64)
            }
            CvMeasure::Mse => (1.0 - y - (1.0 - p)).powi(2) + (y - p).powi(2),
            CvMeasure::Mae => (1.0 - y - (1.0 - p)).abs() + (y - p).abs(),
            CvMeasure::Auc => f64::NAN,
        }
    }
}

/// Result of [`cv_binomial`].
#[derive(Debug, Clone, PartialEq)]
pub struct CvFit {
    /// The full-data lambdas.
    pub lambda: Vec<f64>,
    /// Mean cross-validated loss per lambda.
    pub cvm: Vec<f64>,
    /// Its standard error.
    pub cvsd: Vec<f64>,
    /// `cvm + cvsd`.
    pub cvup: Vec<f64>,
    /// `cvm - cvsd`.
    pub cvlo: Vec<f64>,
    /// Nonzero coefficients of the full-data fit per lambda.
    pub nzero: Vec<usize>,
    /// Largest lambda attaining the best `cvm` (minimum; maximum for AUC).
    pub lambda_min: f64,
    /// Largest lambda whose `cvm` is within one `cvsd` (at `lambda_min`) of the
    /// best.
    pub lambda_1se: f64,
    /// Index of `lambda_min` in `lambda`.
    pub index_min: usize,
    /// Index of `lambda_1se` in `lambda`.
    pub index_1se: usize,
    /// The measure used.
    pub measure: CvMeasure,
    /// The fit on all observations.
    pub path: Path,
    /// Out-of-fold predicted probabilities: `n × L`, column `l` at `lambda[l]`.
    pub oof_prob: Matrix,
}

/// Cross-validation with given folds (`foldid` 0-based, `K = max + 1 >= 3`
/// folds, each non-empty), as R's `cv.glmnet(x, y, family = "binomial",
/// foldid = foldid + 1, type.measure = ...)` with the default
/// `alignment = "lambda"`, `grouped = TRUE`.
///
/// Each fold's training set is fitted with its own lambda sequence; held-out
/// predictions at the full-data lambdas use coefficients interpolated linearly
/// in lambda. With `w_i` the observation weights (1 by default),
/// `m_k = sum_{i in k} w_i L_i / W_k` is fold `k`'s mean loss,
/// `cvm = sum_k W_k m_k / sum_k W_k` and
/// `cvsd = sqrt(sum_k W_k (m_k - cvm)^2 / sum_k W_k / (K - 1))`.
/// For AUC, `m_k` is the (weighted) AUC of fold `k`.
pub fn cv_binomial(
    x: &Matrix,
    y: &[f64],
    foldid: &[usize],
    params: &BinomialParams,
    measure: CvMeasure,
) -> Result<CvFit, GlmnetError> {
    let n = x.nrows();
    let members = fold_members(foldid, n)?;
    let k = members.len();
    if measure == CvMeasure::Auc && (n as f64) / (k as f64) < 10.0 {
        return Err(GlmnetError::InvalidParameter {
            name: "measure",
            reason: "AUC needs at least 10 observations per fold".into(),
        });
    }

    let path = fit_binomial(x, y, params)?;
    let lambda = path.lambda.clone();
    let nl = lambda.len();
    let oof = out_of_fold(
        &Folds {
            x,
            y,
            foldid,
            members: &members,
            params,
        },
        &lambda,
    )?;
    let w_all: Vec<f64> = params.weights.clone().unwrap_or_else(|| vec![1.0; n]);
    let curve = cv_curve(
        &FoldLosses {
            y,
            w: &w_all,
            members: &members,
            oof: &oof,
            nl,
        },
        measure,
    );
    let (index_min, index_1se) = min_and_1se(&lambda, &curve, measure);

    Ok(CvFit {
        cvup: curve
            .cvm
            .iter()
            .zip(&curve.cvsd)
            .map(|(m, s)| m + s)
            .collect(),
        cvlo: curve
            .cvm
            .iter()
            .zip(&curve.cvsd)
            .map(|(m, s)| m - s)
            .collect(),
        lambda_min: lambda[index_min],
        lambda_1se: lambda[index_1se],
        index_min,
        index_1se,
        nzero: path.df.clone(),
        lambda,
        cvm: curve.cvm,
        cvsd: curve.cvsd,
        measure,
        oof_prob: Matrix::from_col_major(n, nl, oof)?,
        path,
    })
}

/// The observations of each fold (`K = max foldid + 1`): at least 3 folds, none empty.
fn fold_members(foldid: &[usize], n: usize) -> Result<Vec<Vec<usize>>, GlmnetError> {
    if foldid.len() != n {
        return Err(GlmnetError::DimensionMismatch {
            what: "length of foldid",
            expected: n,
            found: foldid.len(),
        });
    }
    let k = foldid.iter().max().map_or(0, |m| m.saturating_add(1));
    if k > n {
        // More folds than observations: some fold must be empty.
        let mut seen = vec![false; n];
        for &f in foldid.iter().filter(|&&f| f < n) {
            seen[f] = true;
        }
        let fold = seen.iter().position(|s| !s).unwrap_or(n);
        return Err(GlmnetError::EmptyFold { fold });
    }
    if k < 3 {
        return Err(GlmnetError::TooFewFolds { nfolds: k });
    }
    let mut members: Vec<Vec<usize>> = vec![Vec::new(); k];
    for (i, &f) in foldid.iter().enumerate() {
        members[f].push(i);
    }
    if let Some(f) = members.iter().position(|m| m.is_empty()) {
        return Err(GlmnetError::EmptyFold { fold: f });
    }
    Ok(members)
}

/// The data and its folds, as the per-fold fits need them.
struct Folds<'a> {
    x: &'a Matrix,
    y: &'a [f64],
    foldid: &'a [usize],
    members: &'a [Vec<usize>],
    params: &'a BinomialParams,
}

/// Out-of-fold probabilities, `n × L` column-major: each fold's held-out observations
/// predicted by the fit on the other folds, at the full-data lambdas.
fn out_of_fold(folds: &Folds, lambda: &[f64]) -> Result<Vec<f64>, GlmnetError> {
    let (n, nl) = (folds.x.nrows(), lambda.len());
    // Fit the folds, in parallel (results do not depend on the scheduling).
    let results = run_parallel(folds.members.len(), &|f| held_out_probs(folds, f, lambda));
    let mut oof = vec![0.0; n * nl];
    for (f, res) in results.into_iter().enumerate() {
        let probs = res?;
        for (l, col) in probs.iter().enumerate() {
            for (t, &i) in folds.members[f].iter().enumerate() {
                oof[l * n + i] = col[t];
            }
        }
    }
    Ok(oof)
}

/// Fold `f`'s held-out probabilities, one vector per lambda, from a path fitted (on its own
/// lambda sequence) to the other folds.
fn held_out_probs(folds: &Folds, f: usize, lambda: &[f64]) -> Result<Vec<Vec<f64>>, GlmnetError> {
    let (x, y, params) = (folds.x, folds.y, folds.params);
    let train: Vec<usize> = (0..x.nrows()).filter(|&i| folds.foldid[i] != f).collect();
    let xt = x.select_rows(&train);
    let yt: Vec<f64> = train.iter().map(|&i| y[i]).collect();
    let mut pf = params.clone();
    pf.weights = params
        .weights
        .as_ref()
        .map(|w| train.iter().map(|&i| w[i]).collect());
    let fit = fit_binomial(&xt, &yt, &pf)?;
    let xh = x.select_rows(&folds.members[f]);
    lambda
        .iter()
        .map(|&s| fit.predict_prob_at(&xh, s))
        .collect()
}

/// What the per-fold losses are computed from.
struct FoldLosses<'a> {
    y: &'a [f64],
    /// Observation weights (1 by default).
    w: &'a [f64],
    members: &'a [Vec<usize>],
    /// Out-of-fold probabilities, `n × nl` column-major.
    oof: &'a [f64],
    nl: usize,
}

/// The cross-validation curve: mean loss per lambda and its standard error.
struct CvCurve {
    cvm: Vec<f64>,
    cvsd: Vec<f64>,
}

/// `cvm` is the fold-weight-weighted mean of the fold means, `cvsd` the square root of
/// their weighted variance over `K - 1` (R's `cvcompute` with `grouped = TRUE`).
fn cv_curve(d: &FoldLosses, measure: CvMeasure) -> CvCurve {
    let (k, nl, n) = (d.members.len(), d.nl, d.y.len());
    let (y, w_all) = (d.y, d.w);
    let fold_w: Vec<f64> = d
        .members
        .iter()
        .map(|m| m.iter().map(|&i| w_all[i]).sum())
        .collect();
    let fold_mean: Vec<Vec<f64>> = d
        .members
        .iter()
        .map(|m| {
            (0..nl)
                .map(|l| fold_loss(m, y, w_all, &d.oof[l * n..(l + 1) * n], measure))
                .collect()
        })
        .collect();
    let wsum: f64 = fold_w.iter().sum();
    let mut cvm = vec![0.0; nl];
    let mut cvsd = vec![0.0; nl];
    for l in 0..nl {
        let m = (0..k).map(|f| fold_w[f] * fold_mean[f][l]).sum::<f64>() / wsum;
        let v = (0..k)
            .map(|f| fold_w[f] * (fold_mean[f][l] - m).powi(2))
            .sum::<f64>()
            / wsum;
        cvm[l] = m;
        cvsd[l] = (v / (k as f64 - 1.0)).sqrt();
    }
    CvCurve { cvm, cvsd }
}

/// One fold's weighted mean loss at one lambda (for AUC, the fold's weighted AUC).
fn fold_loss(members: &[usize], y: &[f64], w: &[f64], prob: &[f64], measure: CvMeasure) -> f64 {
    if measure == CvMeasure::Auc {
        let yy: Vec<f64> = members.iter().map(|&i| y[i]).collect();
        let pp: Vec<f64> = members.iter().map(|&i| prob[i]).collect();
        let ww: Vec<f64> = members.iter().map(|&i| w[i]).collect();
        return auc(&yy, &pp, &ww);
    }
    let mut s = 0.0;
    let mut sw = 0.0;
    for &i in members {
        s += w[i] * measure.loss(y[i], prob[i]);
        sw += w[i];
    }
    s / sw
}

/// lambda.min: the largest lambda attaining the best cvm; lambda.1se: the largest lambda
/// with cvm within one SE of it (on the loss scale; AUC negated). Their indices.
fn min_and_1se(lambda: &[f64], curve: &CvCurve, measure: CvMeasure) -> (usize, usize) {
    let sign = if measure == CvMeasure::Auc { -1.0 } else { 1.0 };
    let loss: Vec<f64> = curve.cvm.iter().map(|v| sign * v).collect();
    let best = loss.iter().cloned().fold(f64::INFINITY, f64::min);
    let index_min = largest_lambda_where(lambda, |l| loss[l] <= best);
    let bound = loss[index_min] + curve.cvsd[index_min];
    let index_1se = largest_lambda_where(lambda, |l| loss[l] <= bound);
    (index_min, index_1se)
}

/// Index of the largest lambda among those satisfying `pred`.
fn largest_lambda_where(lambda: &[f64], pred: impl Fn(usize) -> bool) -> usize {
    let mut best: Option<usize> = None;
    for l in 0..lambda.len() {
        let larger = match best {
            None => true,
            Some(b) => lambda[l] > lambda[b],
        };
        if pred(l) && larger {
            best = Some(l);
        }
    }
    best.unwrap_or(0)
}

/// Runs `job(0..k)` on up to `available_parallelism` threads, in order.
fn run_parallel<T: Send>(k: usize, job: &(dyn Fn(usize) -> T + Sync)) -> Vec<T> {
    let threads = std::thread::available_parallelism()
        .map_or(1, |v| v.get())
        .min(k)
        .max(1);
    if threads == 1 {
        return (0..k).map(job).collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut out: Vec<Option<T>> = (0..k).map(|_| None).collect();
    std::thread::scope(|sc| {
        let handles: Vec<_> = (0..threads)
            .map(|_| {
                sc.spawn(|| {
                    let mut got = Vec::new();
                    loop {
                        let f = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        if f >= k {
                            break;
                        }
                        got.push((f, job(f)));
                    }
                    got
                })
            })
            .collect();
        for h in handles {
            // A panicking job is a bug of this module, not bad input.
            for (f, r) in h.join().expect("cv worker panicked") {
                out[f] = Some(r);
            }
        }
    });
    out.into_iter()
        .map(|v| v.expect("every fold ran"))
        .collect()
}

/// Weighted area under the ROC curve,
/// `sum_{i: y=1} sum_{j: y=0} w_i w_j ([p_i > p_j] + [p_i = p_j]/2) / (W_1 W_0)`
/// (Mann–Whitney with tied scores counted one half). R breaks ties at
/// random in its weighted AUC; counting them one half is its expectation and
/// equals R's unweighted (rank-based) AUC.
pub(super) fn auc(y: &[f64], p: &[f64], w: &[f64]) -> f64 {
    let mut idx: Vec<usize> = (0..y.len()).collect();
    idx.sort_by(|&a, &b| p[a].partial_cmp(&p[b]).unwrap_or(std::cmp::Ordering::Equal));
    let (mut w0_below, mut num) = (0.0, 0.0);
    let (mut w1_tot, mut w0_tot) = (0.0, 0.0);
    let mut g = 0;
    while g < idx.len() {
        let mut h = g;
        let (mut w0, mut w1) = (0.0, 0.0);
        while h < idx.len() && p[idx[h]] == p[idx[g]] {
            let i = idx[h];
            if y[i] == 1.0 {
                w1 += w[i];
            } else {
                w0 += w[i];
            }
            h += 1;
        }
        num += w1 * (w0_below + 0.5 * w0);
        w0_below += w0;
        w1_tot += w1;
        w0_tot += w0;
        g = h;
    }
    num / (w1_tot * w0_tot)
}

/// Measures of a path on new data (R's `assess.glmnet(fit, newx, newy)`),
/// one value per path lambda.
#[derive(Debug, Clone, PartialEq)]
pub struct Assessment {
    pub deviance: Vec<f64>,
    pub class: Vec<f64>,
    pub auc: Vec<f64>,
    pub mse: Vec<f64>,
    pub mae: Vec<f64>,
}

/// Weighted means of the [`CvMeasure`] losses (and the AUC) of `path` on
/// `(x, y)` at every path lambda; `weights = None` means all 1.
pub fn assess_binomial(
    path: &Path,
    x: &Matrix,
    y: &[f64],
    weights: Option<&[f64]>,
) -> Result<Assessment, GlmnetError> {
    let n = x.nrows();
    if y.len() != n {
        return Err(GlmnetError::DimensionMismatch {
            what: "length of y",
            expected: n,
            found: y.len(),
        });
    }
    if let Some((i, &v)) = y.iter().enumerate().find(|(_, &v)| v != 0.0 && v != 1.0) {
        return Err(GlmnetError::NotBinary { index: i, value: v });
    }
    let ones = vec![1.0; n];
    let w = match weights {
        Some(w) if w.len() != n => {
            return Err(GlmnetError::DimensionMismatch {
                what: "length of weights",
                expected: n,
                found: w.len(),
            })
        }
        Some(w) => w,
        None => &ones,
    };
    let sw: f64 = w.iter().sum();
    let mut out = Assessment {
        deviance: Vec::new(),
        class: Vec::new(),
        auc: Vec::new(),
        mse: Vec::new(),
        mae: Vec::new(),
    };
    for l in 0..path.len() {
        let p: Vec<f64> = path.predict_link(x, l)?.into_iter().map(logistic).collect();
        let mean = |m: CvMeasure| (0..n).map(|i| w[i] * m.loss(y[i], p[i])).sum::<f64>() / sw;
        out.deviance.push(mean(CvMeasure::Deviance));
        out.class.push(mean(CvMeasure::Class));
        out.mse.push(mean(CvMeasure::Mse));
        out.mae.push(mean(CvMeasure::Mae));
        out.auc.push(auc(y, &p, w));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auc_counts_ties_half() {
        let y = [0.0, 0.0, 1.0, 1.0];
        let w = [1.0; 4];
        assert_eq!(auc(&y, &[0.1, 0.2, 0.3, 0.4], &w), 1.0);
        assert_eq!(auc(&y, &[0.5; 4], &w), 0.5);
        assert_eq!(auc(&y, &[0.1, 0.3, 0.2, 0.4], &w), 0.75);
    }

    #[test]
    fn class_loss_counts_ties_as_errors() {
        assert_eq!(CvMeasure::Class.loss(1.0, 0.5), 1.0);
        assert_eq!(CvMeasure::Class.loss(0.0, 0.5), 1.0);
        assert_eq!(CvMeasure::Class.loss(1.0, 0.7), 0.0);
    }
}
