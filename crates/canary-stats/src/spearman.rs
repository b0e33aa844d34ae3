//! Spearman's rank correlation and its test, reproducing R's
//! `cor.test(x, y, method = "spearman")` with the default `exact = NULL`,
//! `continuity = FALSE`.
//!
//! * Observations are used pairwise-complete: a pair is dropped when either
//!   value is NaN (R's `complete.cases`). Infinite values are ordinary values.
//! * `rho` is the Pearson correlation of the average ranks (R
//!   `cor(rank(x), rank(y))`). Average ranks are half-integers with mean
//!   exactly `(n+1)/2`, so the centred sums below are exact in f64 and rho is
//!   correctly rounded up to the last division and square roots.
//! * `S = (n^3 - n)(1 - rho)/6`, R's reported statistic.
//! * p-value: R sets `exact = TRUE` by default for Spearman. Without ties
//!   and `n <= 1290` it uses algorithm AS 89 (Best & Roberts 1975, *Applied
//!   Statistics* 24:377-379), see [`prho`]; with ties (or `n > 1290`) the
//!   t approximation `t = r / sqrt((1 - r^2)/(n - 2))` with `n - 2` df.
//!   R calls AS 89 with `round(S) + 2` for the lower tail: S is even without
//!   ties, so `P(S < round(S) + 2) = P(S <= S_obs)`.
//!   Two-sided: the tail on the side of `S` relative to its mean
//!   `(n^3 - n)/6` is doubled and capped at 1.

pub use super::distributions::Alternative;
use super::distributions::{pnorm, pt};
use super::rank::{assign_average_ranks, rank_average_with_ties, sort_order};
use std::sync::OnceLock;

/// How the p-value was obtained.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpearmanMethod {
    /// AS 89 exact enumeration of all permutations (`n <= 9`, no ties).
    Exact,
    /// AS 89 Edgeworth series (`10 <= n <= 1290`, no ties).
    Edgeworth,
    /// Student t approximation with `n - 2` df (ties, or `n > 1290`).
    TDistribution,
    /// rho undefined (a variable is constant): rho, S and p are NaN (R's NA).
    NotComputed,
}

/// Result of [`cor_test_spearman`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SpearmanTest {
    /// Number of pairwise-complete observations.
    pub n: usize,
    /// Spearman's rho.
    pub rho: f64,
    /// R's statistic `S = (n^3 - n)(1 - rho)/6`.
    pub s: f64,
    /// p-value for the requested alternative.
    pub p_value: f64,
    /// Branch used for the p-value.
    pub method: SpearmanMethod,
    /// Whether x or y had tied values (which forbids the exact branch).
    pub ties: bool,
}

/// Largest n for which R uses AS 89 (`n * (n^2 - 1)` still fits an int there).
const MAX_AS89_N: usize = 1290;
/// Up to this n AS 89 enumerates permutations (R's choice; the paper used 6).
const MAX_EXACT_N: usize = 9;

/// Spearman's rho of the pairwise-complete observations of `x` and `y`;
/// NaN when fewer than two pairs remain or either variable is constant.
pub fn spearman_rho(x: &[f64], y: &[f64]) -> f64 {
    let (cx, cy) = complete_pairs(x, y);
    if cx.len() < 2 {
        return f64::NAN;
    }
    let (rx, _) = rank_average_with_ties(&cx);
    let (ry, _) = rank_average_with_ties(&cy);
    let (ccx, ssx) = centred(&rx);
    let (ccy, ssy) = centred(&ry);
    correlation_from_centred(&ccx, ssx, &ccy, ssy)
}

/// R `cor.test(x, y, method = "spearman", alternative = ...)`.
///
/// Returns `None` when fewer than two complete pairs remain (R stops with
/// "not enough finite observations"). Panics if the lengths differ.
pub fn cor_test_spearman(x: &[f64], y: &[f64], alternative: Alternative) -> Option<SpearmanTest> {
    assert_eq!(x.len(), y.len(), "'x' and 'y' must have the same length");
    let (cx, cy) = complete_pairs(x, y);
    let n = cx.len();
    if n < 2 {
        return None;
    }
    let (rx, tx) = rank_average_with_ties(&cx);
    let (ry, ty) = rank_average_with_ties(&cy);
    let (ccx, ssx) = centred(&rx);
    let (ccy, ssy) = centred(&ry);
    let rho = correlation_from_centred(&ccx, ssx, &ccy, ssy);
    Some(finish(n, rho, tx.has_ties() || ty.has_ties(), alternative))
}

/// Statistic and p-value of the Spearman test from rho itself, for callers
/// that computed rho elsewhere: returns `(S, p, method)` exactly as
/// [`cor_test_spearman`] would for a sample of size `n` with or without ties.
pub fn spearman_p_value(
    rho: f64,
    n: usize,
    ties: bool,
    alternative: Alternative,
) -> (f64, f64, SpearmanMethod) {
    if !rho.is_finite() || n < 2 {
        return (f64::NAN, f64::NAN, SpearmanMethod::NotComputed);
    }
    let nf = n as f64;
    let n3_minus_n = nf * nf * nf - nf;
    // Same operation order as R: (n^3 - n) * (1 - r) / 6.
    let q = n3_minus_n * (1.0 - rho) / 6.0;
    let exact = !ties && n <= MAX_AS89_N;
    let method = if !exact {
        SpearmanMethod::TDistribution
    } else if n <= MAX_EXACT_N {
        SpearmanMethod::Exact
    } else {
        SpearmanMethod::Edgeworth
    };
    let pspearman = |lower_tail: bool| -> f64 {
        if exact {
            let is = q.round_ties_even() + if lower_tail { 2.0 } else { 0.0 };
            prho(n, is, lower_tail)
        } else {
            // R recovers r from q rather than reusing rho; keep that so the
            // last bits agree.
            let den = nf * (nf * nf - 1.0) / 6.0;
            let r = 1.0 - q / den;
            pt(
                r / ((1.0 - r * r) / (nf - 2.0)).sqrt(),
                nf - 2.0,
                !lower_tail,
            )
        }
    };
    let p = match alternative {
        Alternative::TwoSided => {
            // R: upper tail when S is above its null mean (n^3 - n)/6.
            let lower_tail = q <= n3_minus_n / 6.0;
            (2.0 * pspearman(lower_tail)).min(1.0)
        }
        Alternative::Greater => pspearman(true),
        Alternative::Less => pspearman(false),
    };
    (q, p, method)
}

/// Algorithm AS 89 (Best & Roberts 1975): for `S = sum_i (i - p_i)^2` over a
/// uniformly random permutation `p` of `1..n`, returns `P(S >= is)`
/// (`lower_tail = false`) or `P(S < is)` (`lower_tail = true`).
///
/// `n <= 9`: exact count over all `n!` permutations. Larger `n`: the
/// Edgeworth series of the paper with the continuity-corrected standardised
/// statistic `x = (6 (is - 1) / (n (n^2 - 1)) - 1) sqrt(n - 1)`:
/// `P(S >= is) = 1 - Phi(x) + u(x) exp(-x^2/2)`, and the lower tail as the
/// complement of that same expansion, `Phi(x) - u(x) exp(-x^2/2)`, each
/// clamped to `[0, 1]`. The clamp is why R reports exactly 0 for strong
/// correlations at moderate n (the series correction exceeds the normal tail).
/// `is` outside `(0, n(n^2-1)/3]` gives the trivial probability.
pub fn prho(n: usize, is: f64, lower_tail: bool) -> f64 {
    let trivial = if lower_tail { 0.0 } else { 1.0 };
    if n <= 1 || is <= 0.0 {
        return trivial;
    }
    let nf = n as f64;
    let max_s = nf * (nf * nf - 1.0) / 3.0;
    if is > max_s {
        return 1.0 - trivial;
    }
    if n <= MAX_EXACT_N {
        let counts = &exact_s_counts()[n];
        let total: u64 = counts.iter().sum();
        // S takes integer values 0..=max_s; count S >= is.
        let first = is.ceil() as usize;
        let upper: u64 = counts.iter().skip(first).sum();
        let k = if lower_tail { total - upper } else { upper };
        return k as f64 / total as f64;
    }
    const C: [f64; 12] = [
        0.2274, 0.2531, 0.1745, 0.0758, 0.1033, 0.3932, 0.0879, 0.0151, 0.0072, 0.0831, 0.0131,
        4.6e-4,
    ];
    let b = 1.0 / nf;
    let x = (6.0 * (is - 1.0) * b / (nf * nf - 1.0) - 1.0) * (1.0 / b - 1.0).sqrt();
    let y = x * x;
    let u = x
        * b
        * (C[0]
            + b * (C[1] + C[2] * b)
            + y * (-C[3] + b * (C[4] + C[5] * b)
                - y * b * (C[6] + C[7] * b - y * (C[8] - C[9] * b + y * b * (C[10] - C[11] * y)))));
    let corr = u / (y / 2.0).exp();
    let pv = if lower_tail {
        -corr + pnorm(x, true)
    } else {
        corr + pnorm(x, false)
    };
    pv.clamp(0.0, 1.0)
}

/// `counts[n][s]` = number of permutations of `1..n` with `sum (i - p_i)^2 = s`,
/// for `n <= 9`, by dynamic programming over the set of values already placed
/// (2^9 states) instead of enumerating 9! permutations.
fn exact_s_counts() -> &'static Vec<Vec<u64>> {
    static TABLE: OnceLock<Vec<Vec<u64>>> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut all = vec![vec![1u64]]; // n = 0
        for n in 1..=MAX_EXACT_N {
            let max_s = n * (n * n - 1) / 3;
            let mut dp = vec![vec![0u64; max_s + 1]; 1 << n];
            dp[0][0] = 1;
            for mask in 0..(1usize << n) {
                let pos = mask.count_ones() as i64;
                if pos as usize == n {
                    continue;
                }
                for v in 0..n {
                    if mask & (1 << v) != 0 {
                        continue;
                    }
                    let d = (pos - v as i64).unsigned_abs() as usize;
                    let add = d * d;
                    let next = mask | (1 << v);
                    for s in 0..=max_s - add {
                        let c = dp[mask][s];
                        if c != 0 {
                            dp[next][s + add] += c;
                        }
                    }
                }
            }
            all.push(dp.pop().expect("full mask"));
        }
        all
    })
}

/// Keeps the pairs where neither value is NaN.
fn complete_pairs(x: &[f64], y: &[f64]) -> (Vec<f64>, Vec<f64>) {
    x.iter()
        .zip(y)
        .filter(|(a, b)| !a.is_nan() && !b.is_nan())
        .map(|(a, b)| (*a, *b))
        .unzip()
}

/// Values minus their mean, and the sum of squares of the result.
fn centred(r: &[f64]) -> (Vec<f64>, f64) {
    let mean = r.iter().sum::<f64>() / r.len() as f64;
    let c: Vec<f64> = r.iter().map(|v| v - mean).collect();
    let ss = c.iter().map(|v| v * v).sum();
    (c, ss)
}

/// Pearson correlation from centred vectors, in the form R's `cor` uses
/// (covariance over the product of standard deviations, clamped to [-1, 1]).
fn correlation_from_centred(cx: &[f64], ssx: f64, cy: &[f64], ssy: f64) -> f64 {
    let n1 = (cx.len() - 1) as f64;
    let sxy: f64 = cx.iter().zip(cy).map(|(a, b)| a * b).sum();
    if ssx == 0.0 || ssy == 0.0 {
        return f64::NAN;
    }
    let r = (sxy / n1) / ((ssx / n1).sqrt() * (ssy / n1).sqrt());
    r.clamp(-1.0, 1.0)
}

fn finish(n: usize, rho: f64, ties: bool, alternative: Alternative) -> SpearmanTest {
    let (s, p_value, method) = spearman_p_value(rho, n, ties, alternative);
    SpearmanTest {
        n,
        rho,
        s,
        p_value,
        method,
        ties,
    }
}

/// A variable prepared once for many correlations: its sort order, and when it
/// has no NaN, its centred ranks.
struct Prepared {
    order: Vec<usize>,
    complete: Option<(Vec<f64>, f64, bool)>,
}

fn prepare(x: &[f64]) -> Prepared {
    let order = sort_order(x);
    let complete = (order.len() == x.len()).then(|| {
        let mut r = vec![0.0; x.len()];
        let ties = assign_average_ranks(x, &order, &mut r).has_ties();
        let (c, ss) = centred(&r);
        (c, ss, ties)
    });
    Prepared { order, complete }
}

/// `cor_test_spearman` for every pair `(i, j)`, `i < j`, of `columns` (all of
/// the same length), in the order (0,1), (0,2), ..., (0,k-1), (1,2), ...
///
/// Each column is sorted once. A pair of complete columns reuses the
/// pre-computed ranks; otherwise the ranks on the pairwise-complete subset are
/// read off the pre-sorted order in O(n) (filtering a stable sort gives the
/// stable sort of the subset). Results are bit-identical to calling
/// [`cor_test_spearman`] on each pair.
pub fn spearman_all_pairs(
    columns: &[&[f64]],
    alternative: Alternative,
) -> Vec<Option<SpearmanTest>> {
    let prepared: Vec<Prepared> = columns.iter().map(|c| prepare(c)).collect();
    let k = columns.len();
    let mut out = Vec::with_capacity(k * k.saturating_sub(1) / 2);
    let mut scratch = Scratch::default();
    for i in 0..k {
        for j in (i + 1)..k {
            assert_eq!(
                columns[i].len(),
                columns[j].len(),
                "columns must have the same length"
            );
            out.push(pair_test(
                columns[i],
                &prepared[i],
                columns[j],
                &prepared[j],
                alternative,
                &mut scratch,
            ));
        }
    }
    out
}

#[derive(Default)]
struct Scratch {
    pos: Vec<usize>,
    sub_x: Vec<f64>,
    sub_order: Vec<usize>,
    ranks_x: Vec<f64>,
    ranks_y: Vec<f64>,
}

fn pair_test(
    x: &[f64],
    px: &Prepared,
    y: &[f64],
    py: &Prepared,
    alternative: Alternative,
    s: &mut Scratch,
) -> Option<SpearmanTest> {
    if let (Some((cx, ssx, tx)), Some((cy, ssy, ty))) = (&px.complete, &py.complete) {
        let n = x.len();
        if n < 2 {
            return None;
        }
        let rho = correlation_from_centred(cx, *ssx, cy, *ssy);
        return Some(finish(n, rho, *tx || *ty, alternative));
    }
    // Compressed position of each kept observation (usize::MAX = dropped).
    s.pos.clear();
    let mut n = 0;
    for (a, b) in x.iter().zip(y) {
        if a.is_nan() || b.is_nan() {
            s.pos.push(usize::MAX);
        } else {
            s.pos.push(n);
            n += 1;
        }
    }
    if n < 2 {
        return None;
    }
    let tx = subset_ranks(
        x,
        px,
        &s.pos,
        n,
        &mut s.sub_x,
        &mut s.sub_order,
        &mut s.ranks_x,
    );
    let ty = subset_ranks(
        y,
        py,
        &s.pos,
        n,
        &mut s.sub_x,
        &mut s.sub_order,
        &mut s.ranks_y,
    );
    let (cx, ssx) = centred(&s.ranks_x);
    let (cy, ssy) = centred(&s.ranks_y);
    let rho = correlation_from_centred(&cx, ssx, &cy, ssy);
    Some(finish(n, rho, tx || ty, alternative))
}

/// Average ranks of the kept observations of `x` (in compressed order) from
/// the pre-sorted order; returns whether they contain ties.
fn subset_ranks(
    x: &[f64],
    p: &Prepared,
    pos: &[usize],
    n: usize,
    sub_x: &mut Vec<f64>,
    sub_order: &mut Vec<usize>,
    ranks: &mut Vec<f64>,
) -> bool {
    sub_x.clear();
    sub_x.extend(
        x.iter()
            .zip(pos)
            .filter(|(_, &q)| q != usize::MAX)
            .map(|(v, _)| *v),
    );
    sub_order.clear();
    sub_order.extend(p.order.iter().map(|&i| pos[i]).filter(|&q| q != usize::MAX));
    ranks.clear();
    ranks.resize(n, 0.0);
    assign_average_ranks(sub_x, sub_order, ranks).has_ties()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;

    fn splitmix(state: &mut u64) -> u64 {
        *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = *state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn unif(state: &mut u64) -> f64 {
        (splitmix(state) >> 11) as f64 / (1u64 << 53) as f64
    }

    fn rel(got: f64, want: f64) -> f64 {
        if got == want {
            0.0
        } else {
            ((got - want) / want).abs()
        }
    }

    #[test]
    fn exact_counts_are_permutation_counts() {
        let t = exact_s_counts();
        let mut f = 1u64;
        for (n, counts) in t.iter().enumerate().skip(1) {
            f *= n as u64;
            assert_eq!(counts.iter().sum::<u64>(), f);
            // S = 2 comes only from the n-1 adjacent transpositions.
            if n >= 2 {
                assert_eq!(counts[2], n as u64 - 1);
            }
            // Only even S occur.
            assert!(counts
                .iter()
                .enumerate()
                .all(|(s, &c)| s % 2 == 0 || c == 0));
        }
    }

    /// One case per p-value branch of R's cor.test (t with ties, Edgeworth at n = 10, exact
    /// at n = 9), each alternative, and the branch reported.
    #[test]
    fn golden_cor_test_branches() {
        let path =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden/stats_cor_test.json");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "golden file {}: {e}; regenerate it with `Rscript tests/r/make_stats_golden.R` from the crate root",
                path.display()
            )
        });
        let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
        let cases = doc["cases"].as_array().unwrap();
        let mut branches = Vec::new();
        for case in cases {
            let name = case["name"].as_str().unwrap();
            let x = num_vec(&case["x"]);
            let y = num_vec(&case["y"]);
            let method = match case["branch"].as_str().unwrap() {
                "t" => SpearmanMethod::TDistribution,
                "edgeworth" => SpearmanMethod::Edgeworth,
                "exact" => SpearmanMethod::Exact,
                b => panic!("{name}: branch {b}"),
            };
            branches.push(method);
            for (alt, key) in [
                (Alternative::TwoSided, "p_two_sided"),
                (Alternative::Less, "p_less"),
                (Alternative::Greater, "p_greater"),
            ] {
                let t = cor_test_spearman(&x, &y, alt).unwrap();
                assert_eq!(t.method, method, "{name} {key}");
                assert_eq!(t.n, case["n"].as_u64().unwrap() as usize, "{name}");
                let rho = case["rho"].as_f64().unwrap();
                let s = case["S"].as_f64().unwrap();
                let p = case[key].as_f64().unwrap();
                assert!(
                    (t.rho - rho).abs() <= 1e-12,
                    "{name}: rho {} vs R {rho}",
                    t.rho
                );
                assert!(
                    (t.s - s).abs() <= 1e-9 * s.abs().max(1.0),
                    "{name}: S {} vs R {s}",
                    t.s
                );
                assert!(
                    rel(t.p_value, p) <= 1e-9,
                    "{name} {key}: p {:e} vs R {p:e}",
                    t.p_value
                );
            }
        }
        assert_eq!(
            branches,
            [
                SpearmanMethod::TDistribution,
                SpearmanMethod::Edgeworth,
                SpearmanMethod::Exact
            ]
        );
    }

    #[test]
    fn golden_vs_r() {
        let path =
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden/stats_spearman.json");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "golden file {}: {e}; regenerate it with `Rscript tests/r/make_stats_golden.R` from the crate root",
                path.display()
            )
        });
        let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
        let (mut max_rho, mut max_p, mut count) = (0.0f64, 0.0f64, 0);
        let (mut n_zero, mut min_p) = (0, f64::INFINITY);
        for case in doc["cases"].as_array().unwrap() {
            let name = case["name"].as_str().unwrap();
            let x = num_vec(&case["x"]);
            let y = num_vec(&case["y"]);
            for (alt, key) in [
                (Alternative::TwoSided, "p_two_sided"),
                (Alternative::Less, "p_less"),
                (Alternative::Greater, "p_greater"),
            ] {
                let t = cor_test_spearman(&x, &y, alt).unwrap();
                let rho = case["rho"].as_f64().unwrap();
                let p = case[key].as_f64().unwrap();
                let s = case["S"].as_f64().unwrap();
                let e_rho = (t.rho - rho).abs();
                assert!(e_rho <= 1e-12, "{name}: rho {} vs R {rho}", t.rho);
                assert!(
                    (t.s - s).abs() <= 1e-9 * s.abs().max(1.0),
                    "{name}: S {} vs R {s}",
                    t.s
                );
                let e_p = rel(t.p_value, p);
                assert!(
                    e_p <= 1e-9,
                    "{name} {key}: p {:e} vs R {p:e} ({:?})",
                    t.p_value,
                    t.method
                );
                assert_eq!(t.n, case["n"].as_u64().unwrap() as usize, "{name}");
                if p == 0.0 {
                    n_zero += 1;
                } else {
                    min_p = min_p.min(p);
                }
                max_rho = max_rho.max(e_rho);
                max_p = max_p.max(e_p);
                count += 1;
            }
        }
        eprintln!(
            "spearman: {n_zero} p-values exactly 0 in R and here; smallest non-zero p {min_p:e}"
        );
        eprintln!(
            "spearman: {count} cases vs R, max |rho err| {max_rho:e}, max rel p err {max_p:e}"
        );
    }

    #[test]
    fn golden_prho_vs_r() {
        let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden/stats_prho.json");
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "golden file {}: {e}; regenerate it with `Rscript tests/r/make_stats_golden.R` from the crate root",
                path.display()
            )
        });
        let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
        let mut max_p = 0.0f64;
        let cases = doc["cases"].as_array().unwrap();
        for c in cases {
            let n = c["n"].as_u64().unwrap() as usize;
            let is = c["is"].as_f64().unwrap();
            let lower = c["lower"].as_bool().unwrap();
            let want = c["p"].as_f64().unwrap();
            let got = prho(n, is, lower);
            let e = rel(got, want);
            assert!(e <= 1e-9, "prho({n}, {is}, {lower}) = {got:e}, R {want:e}");
            max_p = max_p.max(e);
        }
        eprintln!(
            "prho: {} values vs R C_pRho, max rel err {max_p:e}",
            cases.len()
        );
    }

    fn num_vec(v: &serde_json::Value) -> Vec<f64> {
        v.as_array()
            .unwrap()
            .iter()
            .map(|e| match e {
                serde_json::Value::Null => f64::NAN,
                _ => e.as_f64().unwrap(),
            })
            .collect()
    }

    #[test]
    fn property_symmetric_and_monotone_invariant() {
        let mut st = 7u64;
        for case in 0..300 {
            let n = 2 + (splitmix(&mut st) % 60) as usize;
            let tied = case % 3 == 0;
            let x: Vec<f64> = (0..n)
                .map(|_| {
                    if tied {
                        (splitmix(&mut st) % 5) as f64
                    } else {
                        unif(&mut st) * 10.0 - 5.0
                    }
                })
                .collect();
            let y: Vec<f64> = x.iter().map(|v| 0.3 * v + unif(&mut st)).collect();
            for alt in [
                Alternative::TwoSided,
                Alternative::Less,
                Alternative::Greater,
            ] {
                let a = cor_test_spearman(&x, &y, alt).unwrap();
                // Symmetry in (x, y).
                let b = cor_test_spearman(&y, &x, alt).unwrap();
                assert_eq!(a.rho.to_bits(), b.rho.to_bits());
                assert_eq!(a.p_value.to_bits(), b.p_value.to_bits());
                // Strictly increasing transforms change nothing.
                let fx: Vec<f64> = x.iter().map(|v| (v * 0.7).exp() + 3.0 * v).collect();
                let gy: Vec<f64> = y.iter().map(|v| v * v * v).collect();
                let c = cor_test_spearman(&fx, &gy, alt).unwrap();
                assert_eq!(a.rho.to_bits(), c.rho.to_bits(), "n={n}");
                assert_eq!(a.p_value.to_bits(), c.p_value.to_bits());
                // A decreasing transform of x flips rho and swaps less/greater.
                let neg: Vec<f64> = x.iter().map(|v| -v).collect();
                let d = cor_test_spearman(&neg, &y, alt).unwrap();
                if a.rho.is_finite() {
                    assert!((a.rho + d.rho).abs() < 1e-15);
                }
            }
        }
    }

    #[test]
    fn all_pairs_identical_to_single_calls() {
        let mut st = 99u64;
        let n = 40;
        let cols: Vec<Vec<f64>> = (0..7)
            .map(|c| {
                (0..n)
                    .map(|i| {
                        let v = if c % 2 == 0 {
                            unif(&mut st)
                        } else {
                            (splitmix(&mut st) % 6) as f64
                        };
                        if c >= 4 && (i + c) % 9 == 0 {
                            f64::NAN
                        } else {
                            v + 0.01 * i as f64
                        }
                    })
                    .collect()
            })
            .collect();
        let refs: Vec<&[f64]> = cols.iter().map(|c| c.as_slice()).collect();
        let all = spearman_all_pairs(&refs, Alternative::TwoSided);
        let mut k = 0;
        for i in 0..cols.len() {
            for j in (i + 1)..cols.len() {
                let single = cor_test_spearman(&cols[i], &cols[j], Alternative::TwoSided);
                assert_eq!(all[k], single, "pair ({i}, {j})");
                k += 1;
            }
        }
        assert_eq!(k, all.len());
    }

    #[test]
    fn degenerate_inputs() {
        assert!(cor_test_spearman(&[1.0], &[2.0], Alternative::TwoSided).is_none());
        assert!(cor_test_spearman(&[1.0, f64::NAN], &[2.0, 3.0], Alternative::TwoSided).is_none());
        let t =
            cor_test_spearman(&[1.0, 1.0, 1.0], &[1.0, 2.0, 3.0], Alternative::TwoSided).unwrap();
        assert!(t.rho.is_nan() && t.p_value.is_nan());
        assert_eq!(t.method, SpearmanMethod::NotComputed);
        assert!(spearman_rho(&[1.0, 2.0, 3.0], &[3.0, 1.0, 2.0]) - (-0.5) < 1e-15);
    }
}
