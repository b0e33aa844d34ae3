//! Wilcoxon rank-sum (Mann-Whitney) test, reproducing R's two-sample
//! `wilcox.test(x, y, alternative = ..., mu = 0, exact = NULL, correct = TRUE)`.
//!
//! * NaN values are dropped from each sample (R drops `NA`/`NaN`); infinite
//!   values are kept and ranked like any other value, as in R.
//! * `W = sum(ranks of x in the pooled sample) - n_x (n_x + 1)/2`, the number
//!   of pairs `(x_i, y_j)` with `x_i > y_j` (ties counting one half).
//! * Exact p-value when `n_x < 50`, `n_y < 50` and there are no ties (R's
//!   default): from the null distribution of W, whose generating function is
//!   the Gaussian binomial coefficient `[n_x + n_y choose n_x]_q`
//!   (Mann & Whitney 1947), built here in exact 128-bit integer arithmetic.
//!   Two-sided: `min(1, 2 P(W <= w))` if `w <= n_x n_y / 2`, otherwise
//!   `min(1, 2 P(W >= w))`.
//! * Otherwise the normal approximation with continuity correction and the
//!   tie-corrected variance
//!   `sigma^2 = n_x n_y / 12 * ((n_x + n_y + 1) - sum(t^3 - t)/((n_x + n_y)(n_x + n_y - 1)))`,
//!   `z = (W - n_x n_y / 2 - c) / sigma` with `c = 0.5 sign(W - n_x n_y/2)`
//!   (two-sided), `+0.5` (greater) or `-0.5` (less).

use super::distributions::pnorm;
pub use super::distributions::Alternative;
use super::rank::rank_average_with_ties;

/// Result of [`wilcox_test`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WilcoxonTest {
    /// R's statistic W.
    pub w: f64,
    /// p-value for the requested alternative.
    pub p_value: f64,
    /// True when the exact distribution was used, false for the normal approximation.
    pub exact: bool,
    /// Sizes of the samples after dropping NaN values.
    pub n_x: usize,
    /// See `n_x`.
    pub n_y: usize,
}

/// R's default threshold: exact only when both samples are smaller than this.
const EXACT_LIMIT: usize = 50;

/// R `wilcox.test(x, y, alternative = ...)` (two-sample, unpaired, defaults).
///
/// Returns `None` if either sample has no non-NaN value (R stops with
/// "not enough (non-missing) 'x'/'y' observations").
pub fn wilcox_test(x: &[f64], y: &[f64], alternative: Alternative) -> Option<WilcoxonTest> {
    let xs: Vec<f64> = x.iter().copied().filter(|v| !v.is_nan()).collect();
    let ys: Vec<f64> = y.iter().copied().filter(|v| !v.is_nan()).collect();
    let (m, n) = (xs.len(), ys.len());
    if m == 0 || n == 0 {
        return None;
    }
    let pooled: Vec<f64> = xs.iter().chain(&ys).copied().collect();
    let (ranks, ties) = rank_average_with_ties(&pooled);
    let (mf, nf) = (m as f64, n as f64);
    let w = ranks[..m].iter().sum::<f64>() - mf * (mf + 1.0) / 2.0;
    let exact = m < EXACT_LIMIT && n < EXACT_LIMIT && !ties.has_ties();
    let p_value = if exact {
        // W is an integer here (no ties).
        let w_int = w as i64;
        let p_le = |q: i64| pwilcox(q as f64, m, n, true);
        let p_ge = |q: i64| pwilcox((q - 1) as f64, m, n, false);
        match alternative {
            Alternative::TwoSided => {
                let p = if w > mf * nf / 2.0 {
                    p_ge(w_int)
                } else {
                    p_le(w_int)
                };
                (2.0 * p).min(1.0)
            }
            Alternative::Greater => p_ge(w_int),
            Alternative::Less => p_le(w_int),
        }
    } else {
        let z = w - mf * nf / 2.0;
        let sigma = ((mf * nf / 12.0)
            * ((mf + nf + 1.0) - ties.sum_t3_minus_t / ((mf + nf) * (mf + nf - 1.0))))
            .sqrt();
        let correction = match alternative {
            Alternative::TwoSided => 0.5 * sign(z),
            Alternative::Greater => 0.5,
            Alternative::Less => -0.5,
        };
        let z = (z - correction) / sigma;
        match alternative {
            Alternative::Less => pnorm(z, true),
            Alternative::Greater => pnorm(z, false),
            Alternative::TwoSided => 2.0 * pnorm(z, true).min(pnorm(z, false)),
        }
    };
    Some(WilcoxonTest {
        w,
        p_value,
        exact,
        n_x: m,
        n_y: n,
    })
}

/// R's `sign()`: -1, 0 or 1.
fn sign(v: f64) -> f64 {
    if v > 0.0 {
        1.0
    } else if v < 0.0 {
        -1.0
    } else {
        0.0
    }
}

/// Null distribution function of the Wilcoxon rank-sum statistic, R's
/// `pwilcox(q, m, n, lower.tail)`: `P(W <= q)` or `P(W > q)` for samples of
/// sizes `m` and `n` without ties. `q` is floored (with R's 1e-7 fuzz).
///
/// Both tails are formed from exact integer counts, so the only rounding is
/// the final division. Panics if `m + n > 120`, beyond which the counts
/// could overflow i128 (the exact test only needs m, n < 50).
pub fn pwilcox(q: f64, m: usize, n: usize, lower_tail: bool) -> f64 {
    assert!(
        m + n <= 120,
        "pwilcox: m + n = {} too large for exact counts",
        m + n
    );
    if q.is_nan() {
        return f64::NAN;
    }
    let q = (q + 1e-7).floor();
    let mn = (m * n) as f64;
    let lower = if q < 0.0 {
        Some(0.0)
    } else if q >= mn {
        Some(1.0)
    } else {
        None
    };
    if let Some(lo) = lower {
        return if lower_tail { lo } else { 1.0 - lo };
    }
    let counts = wilcox_counts(m, n);
    let total: u128 = counts.iter().sum();
    let below: u128 = counts[..=q as usize].iter().sum();
    let k = if lower_tail { below } else { total - below };
    k as f64 / total as f64
}

/// Coefficients of the Gaussian binomial `[m+n choose m]_q`: entry `k` is the
/// number of orderings of m x's and n y's with exactly `k` (x, y) pairs where
/// the x is larger. Built as `prod_{i=1..m} (1 - q^(n+i)) / (1 - q^i)`;
/// after each factor the polynomial is `[n+i choose i]_q`, so intermediate
/// values stay below `2 C(m+n, m)`.
fn wilcox_counts(m: usize, n: usize) -> Vec<u128> {
    let deg = m * n;
    let mut c = vec![0i128; deg + n + m + 2];
    c[0] = 1;
    for i in 1..=m {
        let shift = n + i;
        for k in (shift..c.len()).rev() {
            c[k] -= c[k - shift];
        }
        for k in i..c.len() {
            c[k] += c[k - i];
        }
    }
    c.truncate(deg + 1);
    c.into_iter()
        .map(|v| u128::try_from(v).expect("counts are non-negative"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn binom(n: u128, k: u128) -> u128 {
        (1..=k).fold(1u128, |acc, i| acc * (n - k + i) / i)
    }

    #[test]
    fn counts_sum_to_binomial_and_are_symmetric() {
        for (m, n) in [(1, 1), (3, 4), (10, 7), (49, 49), (20, 49)] {
            let c = wilcox_counts(m, n);
            assert_eq!(
                c.iter().sum::<u128>(),
                binom((m + n) as u128, m as u128),
                "{m} {n}"
            );
            for k in 0..c.len() {
                assert_eq!(c[k], c[c.len() - 1 - k]);
            }
        }
        // m = 2, n = 2: W in {0,1,2,2,3,4} -> counts 1 1 2 1 1
        assert_eq!(wilcox_counts(2, 2), vec![1, 1, 2, 1, 1]);
    }

    #[test]
    fn known_small_case() {
        // R ?wilcox.test example (Hollander & Wolfe 1973, p. 69).
        let x = [0.80, 0.83, 1.89, 1.04, 1.45, 1.38, 1.91, 1.64, 0.73, 1.46];
        let y = [1.15, 0.88, 0.90, 0.74, 1.21];
        let t = wilcox_test(&x, &y, Alternative::Greater).unwrap();
        // R 4.2.2: W = 35, p-value = 0.1272061272061272 (exact)
        assert_eq!(t.w, 35.0);
        assert!(t.exact);
        assert!(
            (t.p_value - 0.1272061272061272).abs() < 1e-15,
            "{}",
            t.p_value
        );
    }

    #[test]
    fn golden_vs_r() {
        let path =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden/stats_wilcoxon.json");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "golden file {}: {e}; regenerate it with `Rscript tests/r/make_stats_golden.R` from the crate root",
                path.display()
            )
        });
        let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
        let mut max_p = 0.0f64;
        let cases = doc["cases"].as_array().unwrap();
        for case in cases {
            let name = case["name"].as_str().unwrap();
            let vec = |k: &str| -> Vec<f64> {
                case[k]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|e| match e {
                        serde_json::Value::String(s) if s == "Inf" => f64::INFINITY,
                        serde_json::Value::String(s) if s == "-Inf" => f64::NEG_INFINITY,
                        serde_json::Value::Null => f64::NAN,
                        _ => e.as_f64().unwrap(),
                    })
                    .collect()
            };
            let alt = match case["alternative"].as_str().unwrap() {
                "less" => Alternative::Less,
                "greater" => Alternative::Greater,
                _ => Alternative::TwoSided,
            };
            let t = wilcox_test(&vec("x"), &vec("y"), alt).unwrap();
            assert_eq!(t.w, case["W"].as_f64().unwrap(), "{name}");
            assert_eq!(t.exact, case["exact"].as_bool().unwrap(), "{name}");
            let want = case["p"].as_f64().unwrap();
            let e = if t.p_value == want {
                0.0
            } else {
                ((t.p_value - want) / want).abs()
            };
            assert!(e <= 1e-9, "{name}: p {:e} vs R {want:e}", t.p_value);
            max_p = max_p.max(e);
        }
        eprintln!(
            "wilcoxon: {} cases vs R, max rel p err {max_p:e}",
            cases.len()
        );
    }
}
