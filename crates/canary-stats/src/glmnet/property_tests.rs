//! Deterministic property tests: KKT conditions, exact zeros of the lasso,
//! invariance to predictor scale, and errors (never panics) on bad input.

use super::*;

/// Small deterministic generator (SplitMix64 + Box–Muller) for test data.
struct Gen(u64);

impl Gen {
    fn u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn unif(&mut self) -> f64 {
        ((self.u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }
    fn normal(&mut self) -> f64 {
        let (u, v) = (self.unif(), self.unif());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }
}

/// `n × p` correlated normal design and a logistic response.
fn data(n: usize, p: usize, seed: u64) -> (Matrix, Vec<f64>) {
    let mut g = Gen(seed);
    let mut cols = vec![vec![0.0; n]; p];
    let mut y = vec![0.0; n];
    for i in 0..n {
        let z = g.normal();
        for (j, c) in cols.iter_mut().enumerate() {
            c[i] = 0.4 * z + g.normal() * (1.0 + j as f64 * 0.3);
        }
        let eta = -0.5 + cols[0][i] - 0.7 * cols[1][i] + 0.3 * cols[p - 1][i];
        y[i] = (g.unif() < 1.0 / (1.0 + (-eta).exp())) as u8 as f64;
    }
    (Matrix::from_columns(&cols).unwrap(), y)
}

/// Largest violation of the KKT conditions of the standardised problem at
/// each lambda, relative to lambda:
/// `g_j = x~_j' w (y - p)`, `g_j = lambda vp_j (alpha s_j + (1-alpha) b~_j)`
/// when `b_j != 0` and `|g_j| <= lambda vp_j alpha` when `b_j = 0`.
fn kkt_violation(x: &Matrix, y: &[f64], fit: &Path, alpha: f64, w: &[f64]) -> f64 {
    let (n, p) = (x.nrows(), x.ncols());
    let sw: f64 = w.iter().sum();
    let wn: Vec<f64> = w.iter().map(|v| v / sw).collect();
    let mut worst: f64 = 0.0;
    let mut xm = vec![0.0; p];
    let mut xs = vec![0.0; p];
    for j in 0..p {
        let c = x.col(j);
        xm[j] = (0..n).map(|i| wn[i] * c[i]).sum();
        xs[j] = (0..n)
            .map(|i| wn[i] * (c[i] - xm[j]).powi(2))
            .sum::<f64>()
            .sqrt();
    }
    for l in 0..fit.len() {
        let lam = fit.lambda[l];
        let prob = fit.predict_prob(x, l).unwrap();
        for j in 0..p {
            let c = x.col(j);
            let g: f64 = (0..n)
                .map(|i| wn[i] * (c[i] - xm[j]) / xs[j] * (y[i] - prob[i]))
                .sum();
            let bt = fit.beta[l][j] * xs[j];
            let viol = if bt != 0.0 {
                (g - lam * (alpha * bt.signum() + (1.0 - alpha) * bt)).abs()
            } else {
                (g.abs() - lam * alpha).max(0.0)
            };
            worst = worst.max(viol / lam);
        }
    }
    worst
}

#[test]
fn kkt_holds_along_the_path() {
    let (x, y) = data(300, 8, 11);
    let w = vec![1.0; 300];
    for alpha in [1.0, 0.5, 0.1] {
        // Default threshold: R's early stopping leaves O(sqrt(thresh)) slack.
        let fit = fit_binomial(
            &x,
            &y,
            &BinomialParams {
                alpha,
                ..Default::default()
            },
        )
        .unwrap();
        let v = kkt_violation(&x, &y, &fit, alpha, &w);
        assert!(v < 0.05, "alpha {alpha}: KKT violation {v}");
        // A tight threshold gives a (near) exact solution.
        let fit = fit_binomial(
            &x,
            &y,
            &BinomialParams {
                alpha,
                thresh: 1e-14,
                ..Default::default()
            },
        )
        .unwrap();
        let v = kkt_violation(&x, &y, &fit, alpha, &w);
        assert!(v < 1e-4, "alpha {alpha}, thresh 1e-14: KKT violation {v}");
    }
    // With weights.
    let mut g = Gen(5);
    let w: Vec<f64> = (0..300).map(|_| 0.2 + 2.0 * g.unif()).collect();
    let fit = fit_binomial(
        &x,
        &y,
        &BinomialParams {
            alpha: 0.8,
            weights: Some(w.clone()),
            thresh: 1e-14,
            ..Default::default()
        },
    )
    .unwrap();
    let v = kkt_violation(&x, &y, &fit, 0.8, &w);
    assert!(v < 1e-4, "weighted: KKT violation {v}");
}

#[test]
fn lasso_gives_exact_zeros() {
    let (x, y) = data(200, 10, 3);
    let fit = fit_binomial(&x, &y, &BinomialParams::default()).unwrap();
    assert!(
        fit.beta[0].iter().all(|&b| b == 0.0),
        "first lambda is the null model"
    );
    assert_eq!(fit.df[0], 0);
    // Somewhere along the path some but not all coefficients are exactly 0.
    assert!(fit.df.iter().any(|&d| d > 0 && d < 10));
    for l in 0..fit.len() {
        assert_eq!(fit.df[l], fit.beta[l].iter().filter(|&&b| b != 0.0).count());
    }
    // Ridge has no exact zeros after the first lambda.
    let ridge = fit_binomial(
        &x,
        &y,
        &BinomialParams {
            alpha: 0.0,
            ..Default::default()
        },
    )
    .unwrap();
    assert!(ridge.df[1..].iter().all(|&d| d == 10));
}

#[test]
fn predictions_invariant_to_predictor_scale() {
    let (x, y) = data(150, 6, 8);
    let fit = fit_binomial(&x, &y, &BinomialParams::default()).unwrap();
    let mut cols: Vec<Vec<f64>> = (0..6).map(|j| x.col(j).to_vec()).collect();
    cols[2].iter_mut().for_each(|v| *v = *v * 1000.0 + 5.0);
    cols[4].iter_mut().for_each(|v| *v *= 1e-3);
    let xs = Matrix::from_columns(&cols).unwrap();
    let fit2 = fit_binomial(&xs, &y, &BinomialParams::default()).unwrap();
    assert_eq!(fit.len(), fit2.len());
    for l in 0..fit.len() {
        assert!((fit.lambda[l] - fit2.lambda[l]).abs() <= 1e-12 * fit.lambda[l]);
        let p1 = fit.predict_prob(&x, l).unwrap();
        let p2 = fit2.predict_prob(&xs, l).unwrap();
        for (a, b) in p1.iter().zip(&p2) {
            assert!((a - b).abs() < 1e-9, "lambda {l}: {a} vs {b}");
        }
        let b2 = fit.beta[l][2] / 1000.0;
        assert!((fit2.beta[l][2] - b2).abs() <= 1e-9 * (1.0 + b2.abs()));
    }
}

#[test]
fn interpolated_prediction_matches_knots_and_is_linear() {
    let (x, y) = data(120, 5, 21);
    let fit = fit_binomial(&x, &y, &BinomialParams::default()).unwrap();
    let l = 10;
    assert_eq!(
        fit.predict_link_at(&x, fit.lambda[l]).unwrap(),
        fit.predict_link(&x, l).unwrap()
    );
    let mid = 0.5 * (fit.lambda[l] + fit.lambda[l + 1]);
    let e = fit.predict_link_at(&x, mid).unwrap();
    let a = fit.predict_link(&x, l).unwrap();
    let b = fit.predict_link(&x, l + 1).unwrap();
    for i in 0..x.nrows() {
        assert!((e[i] - 0.5 * (a[i] + b[i])).abs() < 1e-12);
    }
    // Beyond the path: clamped to its ends.
    assert_eq!(
        fit.predict_link_at(&x, 1e9).unwrap(),
        fit.predict_link(&x, 0).unwrap()
    );
}

#[test]
fn cv_oof_predictions_and_selection_are_consistent() {
    let (x, y) = data(200, 6, 4);
    let folds = assign_folds(200, 10, 9);
    let cv = cv_binomial(
        &x,
        &y,
        &folds,
        &BinomialParams::default(),
        CvMeasure::Deviance,
    )
    .unwrap();
    let nl = cv.lambda.len();
    assert_eq!(cv.oof_prob.ncols(), nl);
    assert!(cv.index_1se <= cv.index_min);
    assert_eq!(cv.lambda[cv.index_min], cv.lambda_min);
    let best = cv.cvm.iter().cloned().fold(f64::INFINITY, f64::min);
    assert_eq!(cv.cvm[cv.index_min], best);
    // Recompute cvm at lambda.min from the out-of-fold probabilities.
    let n = 200;
    let col = &cv.oof_prob.as_slice()[cv.index_min * n..(cv.index_min + 1) * n];
    let mut fm = [(0.0, 0.0); 10];
    for i in 0..n {
        let p = col[i].clamp(1e-5, 1.0 - 1e-5);
        fm[folds[i]].0 += -2.0 * (y[i] * p.ln() + (1.0 - y[i]) * (1.0 - p).ln());
        fm[folds[i]].1 += 1.0;
    }
    let cvm: f64 = fm.iter().map(|(s, _)| s).sum::<f64>() / n as f64;
    assert!((cvm - cv.cvm[cv.index_min]).abs() < 1e-12);
    // Deterministic (threads do not change the result).
    let cv2 = cv_binomial(
        &x,
        &y,
        &folds,
        &BinomialParams::default(),
        CvMeasure::Deviance,
    )
    .unwrap();
    assert_eq!(cv, cv2);
}

#[test]
fn bad_data_is_an_error_not_a_panic() {
    let (x, y) = data(40, 3, 1);
    let d = BinomialParams::default();
    let e = |r: Result<Path, GlmnetError>| r.unwrap_err();
    assert!(matches!(
        e(fit_binomial(&x, &y[..39], &d)),
        GlmnetError::DimensionMismatch { .. }
    ));
    let mut y2 = y.clone();
    y2[3] = 2.0;
    assert!(matches!(
        e(fit_binomial(&x, &y2, &d)),
        GlmnetError::NotBinary { index: 3, .. }
    ));
    let mut y1 = vec![0.0; 40];
    y1[0] = 1.0;
    assert!(matches!(
        e(fit_binomial(&x, &y1, &d)),
        GlmnetError::TooFewInClass { class: 1, count: 1 }
    ));
    let mut xv = x.as_slice().to_vec();
    xv[5] = f64::NAN;
    let xn = Matrix::from_col_major(40, 3, xv).unwrap();
    assert!(matches!(
        e(fit_binomial(&xn, &y, &d)),
        GlmnetError::NonFinite { .. }
    ));
    let constant = Matrix::from_columns(&[vec![1.0; 40]]).unwrap();
    assert!(fit_binomial(&constant, &y, &d).is_err());
    assert!(matches!(
        fit_binomial(&Matrix::from_col_major(0, 0, vec![]).unwrap(), &[], &d).unwrap_err(),
        GlmnetError::Empty
    ));
}

#[test]
fn bad_params_are_an_error_not_a_panic() {
    let (x, y) = data(40, 3, 1);
    for bad in [
        BinomialParams {
            alpha: 1.5,
            ..Default::default()
        },
        BinomialParams {
            alpha: f64::NAN,
            ..Default::default()
        },
        BinomialParams {
            nlambda: 0,
            ..Default::default()
        },
        BinomialParams {
            lambda_min_ratio: Some(0.0),
            ..Default::default()
        },
        BinomialParams {
            lambda: Some(vec![]),
            ..Default::default()
        },
        BinomialParams {
            lambda: Some(vec![0.1, -1.0]),
            ..Default::default()
        },
        BinomialParams {
            lambda: Some(vec![f64::NAN]),
            ..Default::default()
        },
        BinomialParams {
            weights: Some(vec![1.0; 3]),
            ..Default::default()
        },
        BinomialParams {
            weights: Some(vec![-1.0; 40]),
            ..Default::default()
        },
        BinomialParams {
            weights: Some(vec![0.0; 40]),
            ..Default::default()
        },
        BinomialParams {
            penalty_factor: Some(vec![0.0; 3]),
            ..Default::default()
        },
        BinomialParams {
            penalty_factor: Some(vec![1.0; 2]),
            ..Default::default()
        },
        BinomialParams {
            thresh: 0.0,
            ..Default::default()
        },
        BinomialParams {
            maxit: 0,
            ..Default::default()
        },
    ] {
        assert!(fit_binomial(&x, &y, &bad).is_err(), "{bad:?}");
    }
}

#[test]
fn bad_folds_are_an_error_not_a_panic() {
    let (x, y) = data(40, 3, 1);
    let d = BinomialParams::default();
    let f2: Vec<usize> = (0..40).map(|i| i % 2).collect();
    assert!(matches!(
        cv_binomial(&x, &y, &f2, &d, CvMeasure::Deviance).unwrap_err(),
        GlmnetError::TooFewFolds { nfolds: 2 }
    ));
    let mut f4: Vec<usize> = (0..40).map(|i| i % 4).collect();
    f4[0] = usize::MAX;
    assert!(cv_binomial(&x, &y, &f4, &d, CvMeasure::Deviance).is_err());
    let f5: Vec<usize> = (0..40)
        .map(|i| if i % 5 == 3 { 4 } else { i % 3 })
        .collect();
    assert!(cv_binomial(&x, &y, &f5[..39], &d, CvMeasure::Deviance).is_err());
    let gap: Vec<usize> = (0..40).map(|i| [0, 1, 3][i % 3]).collect();
    assert!(matches!(
        cv_binomial(&x, &y, &gap, &d, CvMeasure::Deviance).unwrap_err(),
        GlmnetError::EmptyFold { fold: 2 }
    ));
    let f10: Vec<usize> = (0..40).map(|i| i % 10).collect();
    assert!(cv_binomial(&x, &y, &f10, &d, CvMeasure::Auc).is_err());
    // Messages are readable.
    assert!(GlmnetError::TooFewFolds { nfolds: 2 }
        .to_string()
        .contains("at least 3"));
}

#[test]
fn path_truncation_is_reported() {
    let (x, y) = data(100, 8, 2);
    let fit = fit_binomial(
        &x,
        &y,
        &BinomialParams {
            maxit: 10,
            ..Default::default()
        },
    )
    .unwrap();
    assert!(matches!(
        fit.warning,
        Some(PathWarning::MaxitReached { .. })
    ));
    let fit = fit_binomial(
        &x,
        &y,
        &BinomialParams {
            pmax: Some(1),
            ..Default::default()
        },
    )
    .unwrap();
    assert!(matches!(
        fit.warning,
        Some(PathWarning::PmaxExceeded { .. })
    ));
    assert!(fit.df.iter().all(|&d| d <= 1));
}
