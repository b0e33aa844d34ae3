//! `glmnet(x, y, family = "binomial")`: input checks, standardisation, the
//! solver call, and the fitted path with its predictions.

use super::solver::{self, Abort, Lambdas, Problem};
use super::{BinomialParams, GlmnetError, Matrix};

/// Why a path is shorter than requested although no early-stop rule fired
/// (R warns in both cases and returns the solutions for the larger lambdas).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathWarning {
    /// Convergence not reached within `maxit` passes at this (0-based) lambda.
    MaxitReached { lambda_index: usize },
    /// More than `pmax` variables would have been nonzero at this lambda.
    PmaxExceeded { lambda_index: usize },
}

/// A fitted regularisation path (R's `glmnet` object for one response).
#[derive(Debug, Clone, PartialEq)]
pub struct Path {
    /// Lambdas, decreasing. For a computed sequence the first one is R's
    /// extrapolated `lambda_max`.
    pub lambda: Vec<f64>,
    /// Intercept per lambda (original scale).
    pub a0: Vec<f64>,
    /// Coefficients per lambda on the original scale: `beta[l][j]`.
    pub beta: Vec<Vec<f64>>,
    /// Number of nonzero coefficients per lambda.
    pub df: Vec<usize>,
    /// Fraction of (null) deviance explained, `1 - dev / nulldev`.
    pub dev_ratio: Vec<f64>,
    /// Null deviance `-2 sum w [y log ybar + (1 - y) log(1 - ybar)]`
    /// (with the original, unnormalised weights).
    pub nulldev: f64,
    /// Total coordinate-descent passes (R's `npasses`).
    pub npasses: usize,
    /// Set when the path was truncated by `maxit` or `pmax`.
    pub warning: Option<PathWarning>,
}

/// Fits the binomial elastic-net path.
///
/// Weights are normalised to `w / sum w`; predictors are centred at their
/// weighted mean (with an intercept) and divided by
/// `sqrt(sum w (x - xbar)^2)` (with `standardize`); the solution is mapped
/// back by `beta_j = b_j / s_j`, `a0 = b0 - sum_j beta_j xbar_j`.
///
/// This is R's `glmnet()`/`lognet()` around the Fortran, not a port of a Fortran routine:
/// the checks run in R's order, so that the first thing wrong is the one reported.
pub fn fit_binomial(x: &Matrix, y: &[f64], params: &BinomialParams) -> Result<Path, GlmnetError> {
    let (n, p) = (x.nrows(), x.ncols());
    check_data(x, y)?;
    check_control(params)?;
    let weights = observation_weights(params.weights.as_deref(), y)?;
    let mut ju: Vec<bool> = (0..p).map(|j| !is_constant(x.col(j))).collect();
    let vp = penalty_factors(params.penalty_factor.as_deref(), &mut ju)?;
    if !ju.iter().any(|&u| u) {
        return Err(invalid(
            "x",
            "every predictor is constant or excluded".into(),
        ));
    }
    let dfmax = params.dfmax.unwrap_or(p + 1);
    let pmax = params.pmax.unwrap_or_else(|| (dfmax * 2 + 20).min(p));
    let user_lambda = user_lambdas(params.lambda.as_deref())?;
    let lambdas = match &user_lambda {
        Some(l) => Lambdas::User(l),
        None => computed_lambdas(params, n, p)?,
    };

    let st = standardize(x, &weights.w, &ju, params.intercept, params.standardize);
    let pb = Problem {
        x: &st.x,
        n,
        p,
        y,
        w: &weights.w,
        ju: &ju,
        vp: &vp,
        alpha: params.alpha,
        lambdas,
        thresh: params.thresh,
        maxit: params.maxit,
        ne: dfmax,
        nx: pmax,
        intercept: params.intercept,
    };
    let sol = solver::solve(&pb).map_err(|reason| GlmnetError::NoSolution { reason })?;
    Ok(original_scale(sol, &st, user_lambda.is_none(), weights.sum))
}

/// The data: a non-empty design of finite values and a 0/1 response of the same length.
fn check_data(x: &Matrix, y: &[f64]) -> Result<(), GlmnetError> {
    let n = x.nrows();
    if n == 0 || x.ncols() == 0 {
        return Err(GlmnetError::Empty);
    }
    if y.len() != n {
        return Err(GlmnetError::DimensionMismatch {
            what: "length of y",
            expected: n,
            found: y.len(),
        });
    }
    x.check_finite()?;
    for (i, &v) in y.iter().enumerate() {
        if v != 0.0 && v != 1.0 {
            return Err(GlmnetError::NotBinary { index: i, value: v });
        }
    }
    Ok(())
}

/// The mixing parameter and the convergence controls are in their domains.
fn check_control(params: &BinomialParams) -> Result<(), GlmnetError> {
    let alpha = params.alpha;
    if !(0.0..=1.0).contains(&alpha) {
        return Err(invalid("alpha", format!("must be in [0, 1], got {alpha}")));
    }
    if params.thresh.is_nan() || params.thresh <= 0.0 || params.thresh.is_infinite() {
        return Err(invalid("thresh", "must be positive".into()));
    }
    if params.maxit == 0 {
        return Err(invalid("maxit", "must be positive".into()));
    }
    Ok(())
}

/// Observation weights normalised to sum to 1, with the sum of the given ones (the null
/// deviance is reported on their scale).
struct Weights {
    w: Vec<f64>,
    sum: f64,
}

/// The observation weights (1 by default): finite, non-negative, not all zero, and leaving
/// at least 2 observations in each class.
fn observation_weights(given: Option<&[f64]>, y: &[f64]) -> Result<Weights, GlmnetError> {
    let n = y.len();
    let w_raw: Vec<f64> = match given {
        None => vec![1.0; n],
        Some(w) => {
            if w.len() != n {
                return Err(GlmnetError::DimensionMismatch {
                    what: "length of weights",
                    expected: n,
                    found: w.len(),
                });
            }
            if let Some(i) = w.iter().position(|v| !v.is_finite()) {
                return Err(GlmnetError::NonFinite {
                    what: "weights",
                    index: i,
                });
            }
            if w.iter().any(|&v| v < 0.0) {
                return Err(invalid("weights", "must be non-negative".into()));
            }
            w.to_vec()
        }
    };
    let sw: f64 = w_raw.iter().sum();
    if sw.is_nan() || sw <= 0.0 {
        return Err(invalid("weights", "must not all be zero".into()));
    }
    // Like R, refuse a class with fewer than 2 (positively weighted) members.
    for class in [0u8, 1u8] {
        let count = y
            .iter()
            .zip(&w_raw)
            .filter(|(&yi, &wi)| yi == class as f64 && wi > 0.0)
            .count();
        if count < 2 {
            return Err(GlmnetError::TooFewInClass { class, count });
        }
    }
    Ok(Weights {
        w: w_raw.iter().map(|&v| v / sw).collect(),
        sum: sw,
    })
}

/// Penalty factors: negative -> 0, infinite -> the predictor is excluded (in `ju`), then
/// rescaled to sum to p, as R does (lambda_max reflects the rescaling).
fn penalty_factors(given: Option<&[f64]>, ju: &mut [bool]) -> Result<Vec<f64>, GlmnetError> {
    let p = ju.len();
    let Some(pf) = given else {
        return Ok(vec![1.0; p]);
    };
    if pf.len() != p {
        return Err(GlmnetError::DimensionMismatch {
            what: "length of penalty_factor",
            expected: p,
            found: pf.len(),
        });
    }
    if pf.iter().any(|v| v.is_nan()) {
        return Err(invalid("penalty_factor", "contains NaN".into()));
    }
    let mut vp: Vec<f64> = pf
        .iter()
        .enumerate()
        .map(|(j, &v)| {
            if v == f64::INFINITY {
                ju[j] = false;
                1.0
            } else {
                v.max(0.0)
            }
        })
        .collect();
    let s: f64 = vp.iter().sum();
    if vp.iter().cloned().fold(0.0, f64::max) <= 0.0 {
        return Err(invalid(
            "penalty_factor",
            "all penalty factors are <= 0".into(),
        ));
    }
    for v in vp.iter_mut() {
        *v = *v * p as f64 / s;
    }
    Ok(vp)
}

/// A user lambda sequence, checked and sorted decreasingly (as R sorts it).
fn user_lambdas(given: Option<&[f64]>) -> Result<Option<Vec<f64>>, GlmnetError> {
    let Some(l) = given else {
        return Ok(None);
    };
    if l.is_empty() {
        return Err(invalid("lambda", "empty sequence".into()));
    }
    if l.iter().any(|v| !v.is_finite() || *v < 0.0) {
        return Err(invalid(
            "lambda",
            "lambdas must be finite and non-negative".into(),
        ));
    }
    let mut l = l.to_vec();
    l.sort_by(|a, b| b.partial_cmp(a).unwrap());
    Ok(Some(l))
}

/// The computed lambda sequence: `nlambda` values down to `lambda.min.ratio` times
/// lambda_max, with R's default ratio (1e-2 when n < p, else 1e-4).
fn computed_lambdas(
    params: &BinomialParams,
    n: usize,
    p: usize,
) -> Result<Lambdas<'static>, GlmnetError> {
    if params.nlambda == 0 {
        return Err(invalid("nlambda", "must be at least 1".into()));
    }
    let flmin = params
        .lambda_min_ratio
        .unwrap_or(if n < p { 1e-2 } else { 1e-4 });
    if !(flmin > 0.0 && flmin < 1.0) {
        return Err(invalid("lambda_min_ratio", "must be in (0, 1)".into()));
    }
    Ok(Lambdas::Auto {
        nlam: params.nlambda,
        flmin,
    })
}

/// The solver's path on the original scale of the predictors (`beta_j = b_j / s_j`,
/// `a0 = b0 - sum_j beta_j xbar_j`), with R's reported first lambda and `nulldev`.
fn original_scale(
    sol: solver::Solution,
    st: &Standardized,
    computed: bool,
    weight_sum: f64,
) -> Path {
    let nl = sol.lambda.len();
    let mut beta = Vec::with_capacity(nl);
    let mut a0 = Vec::with_capacity(nl);
    for l in 0..nl {
        let mut b = sol.beta[l].clone();
        for (bj, s) in b.iter_mut().zip(&st.xs) {
            *bj /= s;
        }
        // In order of entry, as R sums it: another order changes the last bits.
        let mut shift = 0.0;
        for &k in &sol.order[l] {
            shift += b[k] * st.xm[k];
        }
        a0.push(sol.a0[l] - shift);
        beta.push(b);
    }
    let df = beta
        .iter()
        .map(|b| b.iter().filter(|v| **v != 0.0).count())
        .collect();
    let mut lambda = sol.lambda;
    if computed && lambda.len() > 2 {
        // R replaces the "infinite" first lambda by a log-linear extrapolation.
        lambda[0] = (2.0 * lambda[1].ln() - lambda[2].ln()).exp();
    }
    let warning = sol.abort.map(|a| match a {
        Abort::Maxit(l) => PathWarning::MaxitReached { lambda_index: l },
        Abort::Pmax(l) => PathWarning::PmaxExceeded { lambda_index: l },
    });
    Path {
        lambda,
        a0,
        beta,
        df,
        dev_ratio: sol.dev_ratio,
        nulldev: 2.0 * weight_sum * sol.dev0,
        npasses: sol.npasses,
        warning,
    }
}

fn invalid(name: &'static str, reason: String) -> GlmnetError {
    GlmnetError::InvalidParameter { name, reason }
}

/// A column is excluded when all its values equal the first one.
fn is_constant(c: &[f64]) -> bool {
    c.iter().all(|&v| v == c[0])
}

struct Standardized {
    x: Vec<f64>,
    xm: Vec<f64>,
    xs: Vec<f64>,
}

/// With an intercept: `xm_j = sum w x_j`, `x_j - xm_j`, and (standardize)
/// `xs_j = sqrt(sum w (x_j - xm_j)^2)`. Without an intercept the columns are
/// not centred and (standardize) `xs_j = sqrt(sum w x^2 - (sum w x)^2)`.
fn standardize(x: &Matrix, w: &[f64], ju: &[bool], intercept: bool, scale: bool) -> Standardized {
    let (n, p) = (x.nrows(), x.ncols());
    let mut out = x.as_slice().to_vec();
    let mut xm = vec![0.0; p];
    let mut xs = vec![1.0; p];
    for j in 0..p {
        if !ju[j] {
            continue;
        }
        let c = &mut out[j * n..(j + 1) * n];
        if intercept {
            let m: f64 = w.iter().zip(c.iter()).map(|(a, b)| a * b).sum();
            xm[j] = m;
            for v in c.iter_mut() {
                *v -= m;
            }
            if scale {
                let s: f64 = w
                    .iter()
                    .zip(c.iter())
                    .map(|(a, b)| a * b * b)
                    .sum::<f64>()
                    .sqrt();
                xs[j] = s;
                for v in c.iter_mut() {
                    *v /= s;
                }
            }
        } else if scale {
            let m: f64 = w.iter().zip(c.iter()).map(|(a, b)| a * b).sum();
            let m2: f64 = w.iter().zip(c.iter()).map(|(a, b)| a * b * b).sum();
            let s = (m2 - m * m).sqrt();
            xs[j] = s;
            for v in c.iter_mut() {
                *v /= s;
            }
        }
    }
    Standardized { x: out, xm, xs }
}

/// Where `s` falls on the path, as R's `lambda.interp`: indices `left`,
/// `right` and the weight `frac` of `left`, on the scale
/// `(lambda_1 - lambda) / (lambda_1 - lambda_L)`; `s` outside the path range
/// is clamped to it.
pub(super) fn lambda_interp(lambda: &[f64], s: f64) -> (usize, usize, f64) {
    let k = lambda.len();
    if k == 1 {
        return (0, 0, 1.0);
    }
    let (lmax, lmin) = (lambda[0], lambda[k - 1]);
    let s = s.min(lmax).max(lmin);
    let den = lambda[0] - lambda[k - 1];
    let sfrac = (lambda[0] - s) / den;
    let norm: Vec<f64> = lambda.iter().map(|&l| (lambda[0] - l) / den).collect();
    // Linear interpolation of the index over `norm`, as R's approx().
    let coord = {
        let (mut i, mut j) = (0usize, k - 1);
        if sfrac <= norm[0] {
            0.0
        } else if sfrac >= norm[j] {
            j as f64
        } else {
            while i + 1 < j {
                let ij = (i + j) / 2;
                if sfrac < norm[ij] {
                    j = ij;
                } else {
                    i = ij;
                }
            }
            if sfrac == norm[j] {
                j as f64
            } else if sfrac == norm[i] {
                i as f64
            } else {
                i as f64 + (j as f64 - i as f64) * ((sfrac - norm[i]) / (norm[j] - norm[i]))
            }
        }
    };
    let left = coord.floor() as usize;
    let right = coord.ceil() as usize;
    let mut frac = (sfrac - norm[right]) / (norm[left] - norm[right]);
    if left == right || (norm[left] - norm[right]).abs() < f64::EPSILON {
        frac = 1.0;
    }
    (left, right, frac)
}

impl Path {
    /// For each predictor, the first path step (0-based) at which its coefficient is non-zero:
    /// the order in which the lasso lets predictors in. None for one that never enters.
    pub fn entry_steps(&self) -> Vec<Option<usize>> {
        let p = self.beta.first().map_or(0, |b| b.len());
        (0..p)
            .map(|j| self.beta.iter().position(|b| b[j] != 0.0))
            .collect()
    }

    /// The step with the largest lambda (the sparsest fit) that has exactly `k` non-zero
    /// predictors; when no step has exactly `k` (two entered at once), the first step with more.
    /// None when the path never reaches `k`.
    pub fn sparsest_with(&self, k: usize) -> Option<usize> {
        self.df
            .iter()
            .position(|d| *d == k)
            .or_else(|| self.df.iter().position(|d| *d > k))
    }

    /// Number of lambdas.
    pub fn len(&self) -> usize {
        self.lambda.len()
    }

    /// True for an empty path (never returned by `fit_binomial`).
    pub fn is_empty(&self) -> bool {
        self.lambda.is_empty()
    }

    fn check_x(&self, x: &Matrix) -> Result<(), GlmnetError> {
        let p = self.beta.first().map_or(0, |b| b.len());
        if x.ncols() != p {
            return Err(GlmnetError::DimensionMismatch {
                what: "number of columns of newx",
                expected: p,
                found: x.ncols(),
            });
        }
        Ok(())
    }

    fn link_with(x: &Matrix, a0: f64, beta: &[f64]) -> Vec<f64> {
        let n = x.nrows();
        let mut eta = vec![a0; n];
        for (j, &b) in beta.iter().enumerate() {
            if b != 0.0 {
                for (e, &xi) in eta.iter_mut().zip(x.col(j)) {
                    *e += b * xi;
                }
            }
        }
        eta
    }

    /// Linear predictor `a0 + x beta` at path lambda `lambda_index`.
    pub fn predict_link(&self, x: &Matrix, lambda_index: usize) -> Result<Vec<f64>, GlmnetError> {
        self.check_x(x)?;
        if lambda_index >= self.len() {
            return Err(GlmnetError::InvalidParameter {
                name: "lambda_index",
                reason: format!("{lambda_index} >= path length {}", self.len()),
            });
        }
        Ok(Self::link_with(
            x,
            self.a0[lambda_index],
            &self.beta[lambda_index],
        ))
    }

    /// Probabilities `1 / (1 + exp(-eta))` at path lambda `lambda_index`.
    pub fn predict_prob(&self, x: &Matrix, lambda_index: usize) -> Result<Vec<f64>, GlmnetError> {
        Ok(self
            .predict_link(x, lambda_index)?
            .into_iter()
            .map(logistic)
            .collect())
    }

    /// Intercept and coefficients at an arbitrary `s`, interpolated linearly in
    /// lambda between the neighbouring path lambdas (R's `coef(fit, s)` with
    /// `exact = FALSE`; `s` outside the path is clamped to its ends).
    pub fn coef_at(&self, s: f64) -> (f64, Vec<f64>) {
        let (l, r, f) = lambda_interp(&self.lambda, s);
        let a0 = self.a0[l] * f + self.a0[r] * (1.0 - f);
        let b = self.beta[l]
            .iter()
            .zip(&self.beta[r])
            .map(|(&bl, &br)| bl * f + br * (1.0 - f))
            .collect();
        (a0, b)
    }

    /// Linear predictor at an arbitrary `s` (see [`Path::coef_at`]).
    pub fn predict_link_at(&self, x: &Matrix, s: f64) -> Result<Vec<f64>, GlmnetError> {
        self.check_x(x)?;
        if !s.is_finite() {
            return Err(GlmnetError::NonFinite {
                what: "s",
                index: 0,
            });
        }
        let (a0, b) = self.coef_at(s);
        Ok(Self::link_with(x, a0, &b))
    }

    /// Probabilities at an arbitrary `s` (see [`Path::coef_at`]).
    pub fn predict_prob_at(&self, x: &Matrix, s: f64) -> Result<Vec<f64>, GlmnetError> {
        Ok(self
            .predict_link_at(x, s)?
            .into_iter()
            .map(logistic)
            .collect())
    }
}

/// `1 / (1 + exp(-eta))`.
pub(super) fn logistic(eta: f64) -> f64 {
    1.0 / (1.0 + (-eta).exp())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interp_hits_knots_and_clamps() {
        let lam = [1.0, 0.5, 0.25, 0.125];
        assert_eq!(lambda_interp(&lam, 0.5), (1, 1, 1.0));
        assert_eq!(lambda_interp(&lam, 2.0), (0, 0, 1.0));
        assert_eq!(lambda_interp(&lam, 0.01), (3, 3, 1.0));
        let (l, r, f) = lambda_interp(&lam, 0.375);
        assert_eq!((l, r), (1, 2));
        assert!((f - 0.5).abs() < 1e-12);
    }
}
