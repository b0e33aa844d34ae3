//! Average ranks with ties, as R's `rank(x, ties.method = "average")`.
//!
//! Ties are values that compare equal with `==` (so `-0.0` ties with `0.0`,
//! as in R). The order is found with a stable sort, so the result is fully
//! deterministic; with ties it does not depend on the order anyway.
//!
//! NaN: callers are expected to pass complete data. If NaNs are present they
//! are treated like R's default `na.last = TRUE`: every NaN is ranked after
//! all numbers, each with its own rank in input order (NaNs are never
//! averaged with each other), and they are not counted as ties.

/// Tie structure of a ranked sample.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct TieStats {
    /// Number of groups of two or more equal values.
    pub tied_groups: usize,
    /// `sum(t^3 - t)` over groups of size `t`, the quantity that enters
    /// tie-corrected variances (e.g. the Wilcoxon normal approximation).
    pub sum_t3_minus_t: f64,
}

impl TieStats {
    /// True when at least two values are equal.
    pub fn has_ties(&self) -> bool {
        self.tied_groups > 0
    }
}

/// Indices of the non-NaN entries of `x`, stably sorted by value.
pub fn sort_order(x: &[f64]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..x.len()).filter(|&i| !x[i].is_nan()).collect();
    // Non-NaN values are totally ordered by partial_cmp.
    idx.sort_by(|&i, &j| x[i].partial_cmp(&x[j]).expect("NaN filtered out"));
    idx
}

/// Average ranks of `x` (1-based, ties get the mean of the ranks they span).
///
/// Reference: R `rank(x, ties.method = "average", na.last = TRUE)`.
/// The ranks of the numbers always sum to `m (m + 1) / 2` for `m` numbers.
pub fn rank_average(x: &[f64]) -> Vec<f64> {
    rank_average_with_ties(x).0
}

/// [`rank_average`] plus the tie structure of the non-NaN values.
pub fn rank_average_with_ties(x: &[f64]) -> (Vec<f64>, TieStats) {
    let order = sort_order(x);
    let mut ranks = vec![0.0; x.len()];
    let ties = assign_average_ranks(x, &order, &mut ranks);
    let mut next = order.len();
    for (i, v) in x.iter().enumerate() {
        if v.is_nan() {
            next += 1;
            ranks[i] = next as f64;
        }
    }
    (ranks, ties)
}

/// Writes average ranks into `out[i]` for each index `i` in `order` (indices
/// of `x` sorted ascending); entries of `out` not in `order` are untouched.
pub(super) fn assign_average_ranks(x: &[f64], order: &[usize], out: &mut [f64]) -> TieStats {
    let mut ties = TieStats::default();
    let m = order.len();
    let mut start = 0;
    while start < m {
        let v = x[order[start]];
        let mut end = start + 1;
        while end < m && x[order[end]] == v {
            end += 1;
        }
        // Positions start..end (0-based) hold ranks start+1..=end; their mean
        // is a half-integer, exact in f64.
        let avg = (start + 1 + end) as f64 / 2.0;
        for &i in &order[start..end] {
            out[i] = avg;
        }
        let t = (end - start) as f64;
        if end - start > 1 {
            ties.tied_groups += 1;
            ties.sum_t3_minus_t += t * t * t - t;
        }
        start = end;
    }
    ties
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Small deterministic generator (SplitMix64) for property tests.
    fn splitmix(state: &mut u64) -> u64 {
        *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = *state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    #[test]
    fn matches_r_examples() {
        // R: rank(c(3, 1, 4, 1, 5, 9, 2, 6, 5)) -> 4.0 1.5 5.0 1.5 6.5 9.0 3.0 8.0 6.5
        let r = rank_average(&[3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0, 5.0]);
        assert_eq!(r, vec![4.0, 1.5, 5.0, 1.5, 6.5, 9.0, 3.0, 8.0, 6.5]);
        // -0 ties with 0; infinities are ordinary values.
        let r = rank_average(&[0.0, -0.0, f64::NEG_INFINITY, f64::INFINITY]);
        assert_eq!(r, vec![2.5, 2.5, 1.0, 4.0]);
        // NaN last, in input order: R rank(c(NA, 2, NA, 1)) -> 3 2 4 1
        let r = rank_average(&[f64::NAN, 2.0, f64::NAN, 1.0]);
        assert_eq!(r, vec![3.0, 2.0, 4.0, 1.0]);
        assert!(rank_average(&[]).is_empty());
    }

    #[test]
    fn tie_stats() {
        let (_, t) = rank_average_with_ties(&[1.0, 1.0, 2.0, 3.0, 3.0, 3.0]);
        assert_eq!(t.tied_groups, 2);
        assert_eq!(t.sum_t3_minus_t, 6.0 + 24.0);
        let (_, t) = rank_average_with_ties(&[1.0, 2.0, f64::NAN, f64::NAN]);
        assert!(!t.has_ties());
    }

    #[test]
    fn property_rank_sum_is_triangular() {
        let mut s = 42u64;
        for n in 0..200usize {
            let levels = 1 + (splitmix(&mut s) % 20);
            let x: Vec<f64> = (0..n)
                .map(|_| (splitmix(&mut s) % levels) as f64 * 0.5 - 3.0)
                .collect();
            let r = rank_average(&x);
            let sum: f64 = r.iter().sum();
            assert_eq!(sum, (n * (n + 1)) as f64 / 2.0, "n={n}");
            // Ranks are order-preserving.
            for i in 0..n {
                for j in 0..n {
                    if x[i] < x[j] {
                        assert!(r[i] < r[j]);
                    } else if x[i] == x[j] {
                        assert_eq!(r[i], r[j]);
                    }
                }
            }
        }
    }
}
