//! Sample quantiles as R's default `quantile(x, probs, type = 7)`, the median
//! as R's `median()`, and a quartile summary as R's `summary()` reports it.
//!
//! Type 7 (Hyndman & Fan 1996, definition 7): with `index = 1 + (n-1) p`,
//! `lo = floor(index)`, `hi = ceiling(index)`, `h = index - lo`,
//! `Q(p) = (1-h) x[lo] + h x[hi]` on the sorted sample, **but** R only
//! interpolates when `index > lo` and `x[hi] != x[lo]`; otherwise it returns
//! `x[lo]` unchanged. That branch matters for infinite values (it avoids
//! `0 * Inf = NaN` and `Inf - Inf`) and keeps equal neighbours exact, so it is
//! reproduced here. Type 7 involves no fuzz term (R applies its `4 * eps`
//! fuzz only to types 4-6 and 8-9).
//!
//! NaN: callers are expected to pass complete data; NaNs are dropped first
//! (R's `na.rm = TRUE`), and an empty sample gives NaN (R's `NA`).

/// Type-7 quantile of an already ascending-sorted, NaN-free sample.
///
/// `p` is clamped to `[0, 1]` as R does after its range check; a NaN `p` or an
/// empty sample gives NaN.
pub fn quantile_type7_sorted(sorted: &[f64], p: f64) -> f64 {
    let n = sorted.len();
    if n == 0 || p.is_nan() {
        return f64::NAN;
    }
    let p = p.clamp(0.0, 1.0);
    let index = 1.0 + (n - 1) as f64 * p;
    let lo = index.floor();
    let hi = index.ceil();
    let xlo = sorted[lo as usize - 1];
    let xhi = sorted[hi as usize - 1];
    if index > lo && xhi != xlo {
        let h = index - lo;
        (1.0 - h) * xlo + h * xhi
    } else {
        xlo
    }
}

/// R `quantile(x, probs, type = 7, na.rm = TRUE, names = FALSE)`.
pub fn quantile_type7(x: &[f64], probs: &[f64]) -> Vec<f64> {
    let sorted = sorted_finite_or_inf(x);
    probs
        .iter()
        .map(|&p| quantile_type7_sorted(&sorted, p))
        .collect()
}

/// R `median(x, na.rm = TRUE)`: the middle order statistic, or the mean of
/// the two middle ones (`(a + b) / 2`, which is what R's long-double `mean`
/// rounds to for two finite values). NaN for an empty sample.
pub fn median(x: &[f64]) -> f64 {
    let sorted = sorted_finite_or_inf(x);
    median_sorted(&sorted)
}

fn median_sorted(sorted: &[f64]) -> f64 {
    let n = sorted.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        sorted[n / 2]
    } else {
        let (a, b) = (sorted[n / 2 - 1], sorted[n / 2]);
        let s = a + b;
        if s.is_finite() || !a.is_finite() || !b.is_finite() {
            s / 2.0
        } else {
            // a + b overflowed; halve first (exact for such large values).
            a / 2.0 + b / 2.0
        }
    }
}

/// Sample size and quartiles of a variable, the numbers R's `summary()`
/// prints besides min/max (quartiles by type 7; not Tukey's `fivenum()` hinges).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FiveNumber {
    /// Number of non-NaN values used.
    pub n: usize,
    /// R `median()`.
    pub median: f64,
    /// `quantile(x, 0.25, type = 7)`.
    pub q1: f64,
    /// `quantile(x, 0.75, type = 7)`.
    pub q3: f64,
}

/// `(n, median, q1, q3)` of `x` after dropping NaNs; quantities are NaN when
/// no value remains.
pub fn five_number(x: &[f64]) -> FiveNumber {
    let sorted = sorted_finite_or_inf(x);
    FiveNumber {
        n: sorted.len(),
        median: median_sorted(&sorted),
        q1: quantile_type7_sorted(&sorted, 0.25),
        q3: quantile_type7_sorted(&sorted, 0.75),
    }
}

fn sorted_finite_or_inf(x: &[f64]) -> Vec<f64> {
    let mut v: Vec<f64> = x.iter().copied().filter(|v| !v.is_nan()).collect();
    v.sort_by(|a, b| a.partial_cmp(b).expect("NaN filtered out"));
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    #[test]
    fn small_cases_by_hand() {
        assert!(quantile_type7(&[], &[0.5])[0].is_nan());
        assert_eq!(
            quantile_type7(&[7.0], &[0.0, 0.3, 1.0]),
            vec![7.0, 7.0, 7.0]
        );
        assert_eq!(
            quantile_type7(&[1.0, 2.0, 3.0, 4.0], &[0.25, 0.5]),
            vec![1.75, 2.5]
        );
        // The `x[hi] != x[lo]` branch: no NaN from Inf arithmetic.
        assert_eq!(
            quantile_type7(&[1.0, f64::INFINITY, f64::INFINITY], &[0.75])[0],
            f64::INFINITY
        );
        assert_eq!(median(&[3.0, f64::NAN, 1.0]), 2.0);
        assert_eq!(median(&[f64::MAX, f64::MAX]), f64::MAX);
        let f = five_number(&[5.0, 1.0, 3.0, 2.0, 4.0]);
        assert_eq!(
            f,
            FiveNumber {
                n: 5,
                median: 3.0,
                q1: 2.0,
                q3: 4.0
            }
        );
    }

    #[test]
    fn golden_vs_r() {
        let path =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden/stats_quantile.json");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "golden file {}: {e}; regenerate it with `Rscript tests/r/make_stats_golden.R` from the crate root",
                path.display()
            )
        });
        let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
        let mut max_rel: f64 = 0.0;
        let mut count = 0;
        for case in doc["cases"].as_array().unwrap() {
            let x = num_vec(&case["x"]);
            let probs = num_vec(&case["probs"]);
            let want = num_vec(&case["q"]);
            let got = quantile_type7(&x, &probs);
            for (g, w) in got.iter().zip(&want) {
                let err = if g == w { 0.0 } else { ((g - w) / w).abs() };
                assert!(err <= 1e-12, "{}: got {g:e}, R {w:e}", case["name"]);
                max_rel = max_rel.max(err);
                count += 1;
            }
            let scalar = |k: &str| num_vec(&serde_json::Value::Array(vec![case[k].clone()]))[0];
            let same = |a: f64, b: f64| a == b || (a - b).abs() <= 1e-12 * b.abs();
            assert!(
                same(median(&x), scalar("median")),
                "{} median",
                case["name"]
            );
            let f = five_number(&x);
            assert_eq!(f.n, x.len());
            assert!(same(f.q1, scalar("q1")), "{} q1", case["name"]);
            assert!(same(f.q3, scalar("q3")), "{} q3", case["name"]);
        }
        eprintln!("quantile: {count} values vs R, max relative error {max_rel:e}");
    }

    fn num_vec(v: &serde_json::Value) -> Vec<f64> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|e| match e {
                serde_json::Value::String(s) if s == "Inf" => f64::INFINITY,
                serde_json::Value::String(s) if s == "-Inf" => f64::NEG_INFINITY,
                serde_json::Value::Null => f64::NAN,
                _ => e.as_f64().unwrap(),
            })
            .collect()
    }
}
