//! Exact floating-point sums and products, rounded once: Shewchuk's expansions.
//!
//! J. R. Shewchuk, "Adaptive Precision Floating-Point Arithmetic and Fast Robust Geometric
//! Predicates", Discrete & Computational Geometry 18 (1997) 305–363. An [`Expansion`] holds a
//! number exactly as a list of non-overlapping doubles ("partials") in increasing magnitude:
//! adding a double is the chain of error-free two-sums of Shewchuk's GROW-EXPANSION with zero
//! elimination, exactly as Python's `math.fsum` does it (`Modules/mathmodule.c`), and the final
//! value is the exact sum rounded once to nearest, ties to even, by fsum's last step (including
//! its half-even fix-up across partials). Products use the error-free two-product
//! `p = a * b`, `e = fma(a, b, -p)`.
//!
//! Because [`Expansion::value`] is the *exact* sum rounded once, it does not depend on the
//! order in which values were added or expansions merged: this is what makes SQL aggregates
//! over many partitions byte-identical from run to run (`kinds/exact_aggregates.rs`).
//!
//! # Special values (as `math.fsum`, but without exceptions)
//! - any NaN among the inputs: the value is NaN (always the canonical `f64::NAN`, so the bytes
//!   do not depend on which NaN payload arrived first);
//! - `+inf` and `-inf` both among the inputs: NaN (fsum raises `ValueError`);
//! - otherwise an infinite input gives that infinity;
//! - an exact sum of finite values too large for a double: `±inf`, exactly when the correctly
//!   rounded sum with an unbounded exponent exceeds `f64::MAX` (fsum raises `OverflowError`).
//!
//! # Intermediate overflow
//! fsum fails when a *partial* sum overflows even if the final sum would not (`[1e308, 1e308,
//! -1e308]`), which would make the outcome depend on the order of the inputs. Here it cannot
//! happen: values with `|x| >= 2^960` are kept apart, scaled by `2^-1024` (exactly: a power of
//! two, and the scaled values stay normal), in a second expansion, and the two are combined
//! exactly when rounding. The unscaled expansion then holds values below `2^960`, so no partial
//! sum can reach `2^1024` before `2^63` values have been added; the scaled one cannot overflow
//! at all. So sums stay exact and order-independent for any finite inputs.
//!
//! # Products and quotients
//! [`Expansion::mul`], [`Expansion::mul_f64`] and [`Expansion::div_rounded`] are exact (the
//! quotient correctly rounded) while the magnitudes stay in a comfortable range: the product of
//! the operands' rounded values below `2^1000` in magnitude and no two-product underflowing
//! (partials above about `2^-969`); a quotient in `[2^-900, 2^900]`. Outside that range they
//! fall back to ordinary IEEE arithmetic on the operands' correctly rounded values: no longer
//! exact, but still a function of the exact operands only, hence still order-independent. Each
//! product first rewrites its operands in a canonical form (a function of the exact value
//! alone), so even an underflowing two-product loses the same bits whatever the history.
//!
//! An exact zero is `+0.0` (so `-0.0 + -0.0` gives `+0.0`; fsum's C code, in Python before
//! 3.12, does the same).

/// `2^e` for `-1022 <= e <= 1023`.
const fn pow2(e: i32) -> f64 {
    f64::from_bits(((e + 1023) as u64) << 52)
}

/// Inputs at least this large go to the scaled expansion.
const BIG: f64 = pow2(960);
const TWO_M512: f64 = pow2(-512);
const TWO_P512: f64 = pow2(512);
/// The scaled expansion is folded into the unscaled one when its value is below this (so the
/// folded partials stay below `2^1022`).
const FOLD_LIMIT: f64 = pow2(-3);
/// Granularity, in scaled units, at which the unscaled partials are cut when everything is
/// rounded in the scaled domain (the result is then at least `2^-4`, its ulp `2^-56` or more).
const CUT_SHIFT: i32 = 900;
/// Magnitude above which products fall back to IEEE arithmetic on rounded values.
const PRODUCT_LIMIT: f64 = pow2(1000);

/// An exact sum of doubles (see the module documentation).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Expansion {
    /// Non-overlapping, increasing magnitude, no zeros: the values with `|x| < 2^960`.
    small: Vec<f64>,
    /// The same for the values with `|x| >= 2^960`, each multiplied by `2^-1024`.
    big: Vec<f64>,
    /// The IEEE sum of the non-finite inputs (`0.0` when there were none): `±inf`, or NaN for
    /// a NaN or for both infinities. IEEE addition of these is commutative and associative.
    special: f64,
}

/// Add `x` to the partials `p` (non-overlapping, increasing magnitude) exactly: fsum's loop,
/// with Knuth's branch-free two-sum in place of fsum's swap and Dekker's fast two-sum (the
/// same `hi` and `lo` for any inputs, so the same partials, without the mispredicted
/// branches), and the zeros dropped without a branch too.
/// The caller guarantees that no partial sum overflows.
#[inline]
fn grow(p: &mut Vec<f64>, mut x: f64) {
    let mut i = 0;
    for j in 0..p.len() {
        let y = p[j];
        let hi = x + y;
        let yv = hi - x;
        let lo = (x - (hi - yv)) + (y - yv);
        p[i] = lo;
        i += usize::from(lo != 0.0);
        x = hi;
    }
    p.truncate(i);
    if x != 0.0 {
        p.push(x);
    }
}

/// The exact sum of partials built by [`grow`], correctly rounded: fsum's final step.
fn round_partials(p: &[f64]) -> f64 {
    let mut n = p.len();
    if n == 0 {
        return 0.0;
    }
    n -= 1;
    let mut hi = p[n];
    let mut lo = 0.0;
    while n > 0 {
        let x = hi;
        n -= 1;
        let y = p[n];
        hi = x + y;
        let yr = hi - x;
        lo = y - yr;
        if lo != 0.0 {
            break;
        }
    }
    // Half-even rounding across partials: when `lo` is exactly half an ulp of `hi` and the
    // partials below push the same way, the exact sum is past the tie.
    if n > 0 && ((lo < 0.0 && p[n - 1] < 0.0) || (lo > 0.0 && p[n - 1] > 0.0)) {
        let y = lo * 2.0;
        let x = hi + y;
        let yr = x - hi;
        if y == yr {
            hi = x;
        }
    }
    hi
}

/// `(p, e)` with `p = fl(a * b)` and `p + e = a * b` exactly (when nothing over- or underflows).
#[inline]
pub fn two_product(a: f64, b: f64) -> (f64, f64) {
    let p = a * b;
    (p, a.mul_add(b, -p))
}

fn canonical_nan(x: f64) -> f64 {
    if x.is_nan() {
        f64::NAN
    } else {
        x
    }
}

impl Expansion {
    pub fn new() -> Self {
        Self::default()
    }

    /// The expansion of one double.
    pub fn from_f64(x: f64) -> Self {
        let mut e = Self::new();
        e.add(x);
        e
    }

    /// The expansion of an integer (two doubles at most, exactly).
    pub fn from_u64(n: u64) -> Self {
        let hi = n as f64;
        let lo = (i128::from(n) - hi as i128) as f64;
        let mut e = Self::from_f64(hi);
        e.add(lo);
        e
    }

    /// Add `x` exactly.
    #[inline]
    pub fn add(&mut self, x: f64) {
        if !x.is_finite() {
            self.special = canonical_nan(self.special + x);
        } else if x.abs() < BIG {
            grow(&mut self.small, x);
        } else {
            grow(&mut self.big, x * TWO_M512 * TWO_M512);
        }
    }

    /// Add every value of `xs` exactly.
    pub fn extend<I: IntoIterator<Item = f64>>(&mut self, xs: I) {
        for x in xs {
            self.add(x);
        }
    }

    /// Add another expansion exactly (a merge of partial aggregates).
    pub fn add_expansion(&mut self, other: &Expansion) {
        for &x in &other.small {
            grow(&mut self.small, x);
        }
        for &x in &other.big {
            grow(&mut self.big, x);
        }
        self.special = canonical_nan(self.special + other.special);
    }

    /// Subtract another expansion exactly.
    pub fn sub_expansion(&mut self, other: &Expansion) {
        self.add_expansion(&other.negated());
    }

    /// `-self`, exactly.
    pub fn negated(&self) -> Expansion {
        Expansion {
            small: self.small.iter().map(|x| -x).collect(),
            big: self.big.iter().map(|x| -x).collect(),
            special: canonical_nan(-self.special),
        }
    }

    /// Whether nothing but zeros (or nothing) was added.
    pub fn is_zero(&self) -> bool {
        self.small.is_empty() && self.big.is_empty() && self.special == 0.0
    }

    /// Whether an infinity or a NaN was added.
    pub fn has_special(&self) -> bool {
        self.special != 0.0
    }

    /// The number of partials held (a measure of memory, not of the value).
    pub fn len(&self) -> usize {
        self.small.len() + self.big.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0 && self.special == 0.0
    }

    /// The exact value, correctly rounded to nearest (ties to even); see the module
    /// documentation for special values and overflow.
    pub fn value(&self) -> f64 {
        if self.special != 0.0 {
            return canonical_nan(self.special);
        }
        if self.big.is_empty() {
            return round_partials(&self.small);
        }
        match self.folded() {
            Some(p) => round_partials(&p),
            None => self.round_scaled(),
        }
    }

    /// The value of a finite expansion as unscaled partials, when its scaled part is small
    /// enough to bring back without overflow.
    fn folded(&self) -> Option<Vec<f64>> {
        if self.big.is_empty() {
            return Some(self.small.clone());
        }
        if round_partials(&self.big).abs() >= FOLD_LIMIT {
            return None;
        }
        let mut p = self.small.clone();
        for &b in &self.big {
            grow(&mut p, b * TWO_P512 * TWO_P512);
        }
        Some(p)
    }

    /// The correctly rounded value when the scaled part dominates (`|value| > 2^1020`): the
    /// unscaled partials are brought into the scaled domain cut at multiples of `2^-900`, with a
    /// sticky half-unit standing for whatever was cut (its sign is the sign of the cut-off
    /// remainder), which cannot change a rounding at a granularity of `2^-56` or coarser.
    fn round_scaled(&self) -> f64 {
        let cut = pow2(CUT_SHIFT - 1024); // 2^-124: unscaled value / cut = count of 2^-900 units
        let unit = pow2(1024 - CUT_SHIFT); // 2^124: one scaled 2^-900 in unscaled units
        let mut p = self.big.clone();
        for &x in self.small.iter().rev() {
            if x.abs() >= pow2(177) {
                // A multiple of 2^125 at least: exact, and normal once scaled.
                grow(&mut p, x * TWO_M512 * TWO_M512);
                continue;
            }
            let t = (x * cut).trunc();
            if t != 0.0 {
                grow(&mut p, t * pow2(-CUT_SHIFT));
            }
            let r = x - t * unit;
            if r != 0.0 {
                // Everything smaller is less than the lowest bit of `x`, so the sign of the
                // whole remainder is the sign of `r`, and it is less than one unit.
                grow(&mut p, r.signum() * pow2(-CUT_SHIFT - 1));
                break;
            }
        }
        round_partials(&p) * TWO_P512 * TWO_P512
    }

    /// The exact value as canonical partials: each the correctly rounded value of what the
    /// larger ones leave, so a function of the exact value alone. `None` for a special value or
    /// a value too large to hold unscaled.
    fn canonical(&self) -> Option<Vec<f64>> {
        if self.special != 0.0 {
            return None;
        }
        let mut rest = self.folded()?;
        let mut out = Vec::new();
        loop {
            let v = round_partials(&rest);
            if v == 0.0 {
                break;
            }
            out.push(v);
            grow(&mut rest, -v);
        }
        out.reverse();
        Some(out)
    }

    /// `self * y`, exactly within the range given in the module documentation.
    pub fn mul_f64(&self, y: f64) -> Expansion {
        self.mul(&Expansion::from_f64(y))
    }

    /// `self * other`, exactly within the range given in the module documentation.
    pub fn mul(&self, other: &Expansion) -> Expansion {
        let (a, b) = (self.value(), other.value());
        let fallback = || Expansion::from_f64(canonical_nan(a * b));
        if !(a.is_finite() && b.is_finite()) || (a.abs() * b.abs()) >= PRODUCT_LIMIT {
            return fallback();
        }
        let (Some(pa), Some(pb)) = (self.canonical(), other.canonical()) else {
            return fallback();
        };
        let mut out = Vec::new();
        for &x in &pa {
            for &y in &pb {
                let (p, e) = two_product(x, y);
                grow(&mut out, e);
                grow(&mut out, p);
            }
        }
        Expansion {
            small: out,
            big: Vec::new(),
            special: 0.0,
        }
    }

    /// `self * 2^k` for `|k| <= 1000` (exact unless a partial under- or overflows).
    pub fn scaled_pow2(&self, k: i32) -> Expansion {
        let f = pow2(k);
        let mut out = Expansion::new();
        out.special = self.special;
        if let Some(p) = self.folded() {
            for x in p {
                out.add(x * f);
            }
        } else {
            // Only reached for a value above 2^1020: scale the rounded value.
            out.add(self.value() * f);
        }
        out
    }

    /// The sign of the exact value: -1, 0 or 1 (NaN for a NaN).
    pub fn signum(&self) -> f64 {
        let v = self.value();
        if v == 0.0 {
            0.0
        } else {
            v.signum()
        }
    }

    /// `self / den` correctly rounded (ties to even) while the quotient lies in
    /// `[2^-900, 2^900]` and both operands below `2^1000`; otherwise the IEEE quotient of the
    /// two correctly rounded values.
    pub fn div_rounded(&self, den: &Expansion) -> f64 {
        let (a, b) = (self.value(), den.value());
        let plain = canonical_nan(a / b);
        if !plain.is_finite() || a == 0.0 {
            return plain;
        }
        let in_range = |v: f64| v.abs() < PRODUCT_LIMIT;
        let q0 = plain.abs();
        if !(in_range(a) && in_range(b) && (pow2(-900)..=pow2(900)).contains(&q0)) {
            return plain;
        }
        // Work with positive operands: rounding to nearest is symmetric.
        let num2 = if a < 0.0 {
            self.negated()
        } else {
            self.clone()
        }
        .scaled_pow2(1);
        let den = if b < 0.0 { den.negated() } else { den.clone() };
        // The sign of 2·num − den·(q + r), that is of num/den − (q + r)/2.
        let side = |q: f64, r: f64| {
            let mut mid = Expansion::from_f64(q);
            mid.add(r);
            let mut d = num2.clone();
            d.sub_expansion(&den.mul(&mid));
            d.signum()
        };
        let even = |x: f64, y: f64| if x.to_bits() & 1 == 0 { x } else { y };
        let mut q = q0;
        // The first guess is within a few ulps; each step moves one.
        for _ in 0..64 {
            let up = q.next_up();
            let s = side(q, up);
            if s > 0.0 {
                q = up;
                continue;
            }
            if s == 0.0 {
                q = even(q, up);
                break;
            }
            let down = q.next_down();
            let s = side(q, down);
            if s < 0.0 {
                q = down;
                continue;
            }
            if s == 0.0 {
                q = even(q, down);
            }
            break;
        }
        if (a < 0.0) != (b < 0.0) {
            -q
        } else {
            q
        }
    }

    /// The state of a partial aggregate as doubles: `[special, number of scaled partials,
    /// scaled partials…, unscaled partials…]`. [`Expansion::from_words`] reads it back.
    pub fn to_words(&self, out: &mut Vec<f64>) {
        out.reserve(2 + self.len());
        out.push(self.special);
        out.push(self.big.len() as f64);
        out.extend_from_slice(&self.big);
        out.extend_from_slice(&self.small);
    }

    /// Read back [`Expansion::to_words`]; `None` for words it could not have written.
    pub fn from_words(words: &[f64]) -> Option<Expansion> {
        let mut e = Expansion::new();
        e.add_words(words).then_some(e)
    }

    /// Add, exactly, the expansion that [`Expansion::to_words`] wrote (a partial aggregate's
    /// state), without building it first. The partials are re-added one by one, so the result
    /// is exact whatever expansion wrote them. Returns false, adding nothing, for words it
    /// could not have written.
    pub fn add_words(&mut self, words: &[f64]) -> bool {
        let [special, k, rest @ ..] = words else {
            return words.is_empty();
        };
        let valid = k.fract() == 0.0
            && *k >= 0.0
            && (*k as usize) <= rest.len()
            && (special.is_nan() || special.is_infinite() || *special == 0.0)
            && rest.iter().all(|x| x.is_finite());
        if !valid {
            return false;
        }
        let (big, small) = rest.split_at(*k as usize);
        for &x in big {
            grow(&mut self.big, x);
        }
        for &x in small {
            grow(&mut self.small, x);
        }
        self.special = canonical_nan(self.special + special);
        true
    }
}

/// The correctly rounded exact sum of `xs`.
pub fn exact_sum<I: IntoIterator<Item = f64>>(xs: I) -> f64 {
    let mut e = Expansion::new();
    e.extend(xs);
    e.value()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SplitMix64 (Steele, Lea, Flood 2014): a small seeded generator for property tests.
    struct SplitMix64(u64);

    impl SplitMix64 {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
            z ^ (z >> 31)
        }
        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }
        fn range(&mut self, lo: i64, hi: i64) -> i64 {
            lo + self.below((hi - lo + 1) as u64) as i64
        }
        /// A double of any finite magnitude, both signs, with some exact repeats and
        /// cancellations to make the sums hard.
        fn wild(&mut self) -> f64 {
            let sign = self.next() & (1 << 63);
            let exp = self.below(2047);
            let frac = self.next() & ((1 << 52) - 1);
            f64::from_bits(sign | exp << 52 | frac)
        }
        /// A double of moderate magnitude (1e-20 .. 1e20).
        fn moderate(&mut self) -> f64 {
            let m = (self.next() >> 11) as f64 / (1u64 << 53) as f64;
            let e = self.range(-66, 66) as i32;
            let x = m * pow2(e);
            if self.next() & 1 == 0 {
                x
            } else {
                -x
            }
        }
        fn shuffle<T>(&mut self, v: &mut [T]) {
            for i in (1..v.len()).rev() {
                let j = self.below(i as u64 + 1) as usize;
                v.swap(i, j);
            }
        }
    }

    fn bits(x: f64) -> u64 {
        x.to_bits()
    }

    /// `2^k` for any `k` from -1074 to 1023.
    fn p2(k: i32) -> f64 {
        if k >= -1022 {
            pow2(k)
        } else {
            f64::from_bits(1 << (k + 1074))
        }
    }

    #[test]
    fn hard_cases() {
        assert_eq!(exact_sum([1e100, 1.0, -1e100]), 1.0);
        assert_eq!(exact_sum([]), 0.0);
        assert_eq!(exact_sum([0.0]), 0.0);
        assert_eq!(
            exact_sum([1e100, 1.0, -1e100, 1e-100, 1e50, -1.0, -1e50]),
            1e-100
        );
        let p53 = pow2(53);
        assert_eq!(exact_sum([p53, -0.5, -pow2(-54)]), p53 - 1.0);
        assert_eq!(exact_sum([p53, 1.0, pow2(-100)]), p53 + 2.0);
        assert_eq!(exact_sum([p53 + 10.0, 1.0, pow2(-100)]), p53 + 12.0);
        assert_eq!(exact_sum([p53 - 4.0, 0.5, pow2(-54)]), p53 - 3.0);
        assert_eq!(exact_sum([1e16, 1., 1e-16]), 10000000000000002.0);
        let a = 1e16 - 2.;
        let b = 1. - pow2(-53);
        assert_eq!(exact_sum([a, b, -a, -b]), 0.0);
        // Ties: 2^53 + 1 is a tie between 2^53 and 2^53 + 2; even is 2^53.
        assert_eq!(exact_sum([p53, 1.0]), p53);
        assert_eq!(exact_sum([p53, 1.0, p2(-1074)]), p53 + 2.0);
        assert_eq!(exact_sum([p53, 1.0, -p2(-1074)]), p53);
        assert_eq!(exact_sum([p2(-1074), p2(-1074)]), p2(-1073));
    }

    /// The vectors of CPython's `test_math.testFsum`, values checked with `math.fsum`.
    #[test]
    fn fsum_test_vectors() {
        let h: Vec<f64> = (1..=1000).map(|n| 1.0 / n as f64).collect();
        assert_eq!(exact_sum(h), f64::from_bits(0x401D_F11F_45F4_E61A)); // 0x1.df11f45f4e61ap+2
        let alt: Vec<f64> = (1..=1000)
            .map(|n| if n % 2 == 0 { 1.0 } else { -1.0 } / n as f64)
            .collect();
        assert_eq!(exact_sum(alt), f64::from_bits(0xBFE6_2A2A_F1BD_3624)); // -0x1.62a2af1bd3624p-1
        let mut v: Vec<f64> = (-1074..972)
            .step_by(2)
            .map(|n: i32| p2(n) - p2(n + 50) + p2(n + 52))
            .collect();
        v.push(-pow2(1022));
        assert_eq!(exact_sum(v), f64::from_bits(0x7C95_5555_5555_5555)); // 0x1.5555555555555p+970
    }

    #[test]
    fn special_values() {
        let inf = f64::INFINITY;
        assert!(exact_sum([1.0, f64::NAN, 2.0]).is_nan());
        assert!(exact_sum([inf, -inf]).is_nan());
        assert!(exact_sum([inf, 1.0, -inf, 3.0]).is_nan());
        assert_eq!(exact_sum([inf, 1e308, inf]), inf);
        assert_eq!(exact_sum([-inf, 1e308]), -inf);
        // NaN bytes are canonical whatever payload came in.
        let odd_nan = f64::from_bits(0x7FF8_0000_0000_1234);
        assert_eq!(bits(exact_sum([odd_nan, 1.0])), bits(f64::NAN));
        assert_eq!(bits(exact_sum([-f64::NAN])), bits(f64::NAN));
    }

    #[test]
    fn overflow_of_the_exact_sum_and_no_intermediate_overflow() {
        let m = f64::MAX;
        assert_eq!(exact_sum([1e308, 1e308]), f64::INFINITY);
        assert_eq!(exact_sum([-1e308, -1e308]), f64::NEG_INFINITY);
        // fsum raises OverflowError on these; the exact sums are finite.
        assert_eq!(exact_sum([1e308, 1e308, -1e308]), 1e308);
        assert_eq!(exact_sum([1e308, -1e308, 1e308]), 1e308);
        assert_eq!(exact_sum([m, m, -m]), m);
        assert_eq!(exact_sum([m, m, -m, 1.0, -1.0]), m);
        // MAX + half an ulp of MAX rounds to inf (ties to even: MAX is odd); a bit less stays.
        let half_ulp = pow2(970);
        assert_eq!(exact_sum([m, half_ulp]), f64::INFINITY);
        assert_eq!(exact_sum([m, half_ulp, -p2(-1074)]), m);
        assert_eq!(exact_sum([m, half_ulp, -1e-300, 1e-300]), f64::INFINITY);
        // Big and small parts cancelling to something small.
        assert_eq!(exact_sum([1e300, 3.0, -1e300, 1e-300]), 3.0);
        assert_eq!(exact_sum([m, p2(-1074), -m]), p2(-1074));
        // Ties decided by a tiny remainder far below, with the big part dominating.
        let x = pow2(1000);
        let ulp = pow2(1000 - 52);
        assert_eq!(exact_sum([x, ulp / 2.0]), x);
        assert_eq!(exact_sum([x, ulp / 2.0, p2(-1074)]), x + ulp);
        assert_eq!(exact_sum([x, ulp / 2.0, -p2(-1074)]), x);
        assert_eq!(exact_sum([x, ulp, ulp / 2.0]), x + 2.0 * ulp);
        assert_eq!(exact_sum([-x, -ulp / 2.0, -p2(-1074)]), -(x + ulp));
    }

    /// Random dyadic numbers `m·2^e` with small `m` and `e`: their sum is exact in i128.
    fn dyadic(g: &mut SplitMix64, mbits: u32, erange: i32) -> (f64, i128) {
        let m = g.range(-(1 << mbits), 1 << mbits);
        let e = g.range(-erange as i64, erange as i64) as i32;
        let x = m as f64 * 2f64.powi(e);
        (x, i128::from(m) << (e + erange))
    }

    #[test]
    fn sums_of_dyadic_numbers_match_exact_integer_arithmetic() {
        let mut g = SplitMix64(7);
        for case in 0..2000 {
            let n = 1 + g.below(300) as usize;
            let erange = 30;
            let (xs, ints): (Vec<f64>, Vec<i128>) =
                (0..n).map(|_| dyadic(&mut g, 52, erange)).unzip();
            let exact: i128 = ints.iter().sum();
            // `as f64` rounds an i128 to nearest, ties to even; the scaling is exact.
            let want = exact as f64 * 2f64.powi(-erange);
            assert_eq!(
                bits(exact_sum(xs.iter().copied())),
                bits(want),
                "case {case}"
            );
        }
    }

    #[test]
    fn products_of_dyadic_numbers_match_exact_integer_arithmetic() {
        let mut g = SplitMix64(11);
        for case in 0..500 {
            let erange = 20;
            let draw = |g: &mut SplitMix64| {
                let n = 1 + g.below(40) as usize;
                let (xs, ints): (Vec<f64>, Vec<i128>) =
                    (0..n).map(|_| dyadic(g, 15, erange)).unzip();
                let mut e = Expansion::new();
                e.extend(xs);
                (e, ints.iter().sum::<i128>())
            };
            let (a, ia) = draw(&mut g);
            let (b, ib) = draw(&mut g);
            let want = (ia * ib) as f64 * 2f64.powi(-2 * erange);
            assert_eq!(bits(a.mul(&b).value()), bits(want), "case {case}");
            let y = g.range(-1000, 1000) as f64 * 0.25;
            let want = (ia * (y * 4.0) as i128) as f64 * 2f64.powi(-erange - 2);
            assert_eq!(bits(a.mul_f64(y).value()), bits(want), "case {case}");
            let mut s = a.clone();
            s.sub_expansion(&b);
            assert_eq!(bits(s.value()), bits((ia - ib) as f64 * 2f64.powi(-erange)));
            assert_eq!(
                bits(a.negated().value()),
                bits((-ia) as f64 * 2f64.powi(-erange))
            );
        }
    }

    #[test]
    fn products_are_exact_where_doubles_are_not() {
        // (1 + 2^-30)^2 = 1 + 2^-29 + 2^-60: a product of expansions, then cancellation.
        let a = Expansion::from_f64(1.0 + pow2(-30));
        let mut sq = a.mul(&a);
        sq.add(-1.0);
        sq.add(-pow2(-29));
        assert_eq!(sq.value(), pow2(-60));
        // 0.1 * 3 exactly minus 0.3: the representation error of the doubles.
        let mut d = Expansion::from_f64(0.1).mul_f64(3.0);
        d.add(-0.3);
        let want = 0.1f64.mul_add(3.0, -0.3);
        assert_eq!(d.value(), want);
        assert!(want != 0.0);
    }

    #[test]
    fn quotients_are_correctly_rounded() {
        let mut g = SplitMix64(5);
        for _ in 0..3000 {
            // An exactly representable numerator and denominator: IEEE division is the
            // correctly rounded quotient.
            let a = g.moderate();
            let b = g.range(1, 1 << 40) as f64;
            let mut num = Expansion::new();
            // `a` as two halves, so the numerator is built by additions.
            num.extend([a * 0.5, a * 0.5]);
            assert_eq!(
                bits(num.div_rounded(&Expansion::from_f64(b))),
                bits(a / b),
                "{a} / {b}"
            );
            assert_eq!(
                bits(num.div_rounded(&Expansion::from_f64(-b))),
                bits(a / -b)
            );
        }
        // A numerator that is not a double: 1 + 2^-60 over 3 rounds as the exact value does.
        let mut num = Expansion::from_f64(1.0);
        num.add(pow2(-60));
        let q = num.div_rounded(&Expansion::from_f64(3.0));
        assert_eq!(q, 1.0 / 3.0); // 1/3 + 2^-60/3 is still nearest to fl(1/3)
                                  // (2^53 + 1) / 1: a tie between 2^53 and 2^53 + 2, resolved to even.
        let mut t = Expansion::from_f64(pow2(53));
        t.add(1.0);
        assert_eq!(t.div_rounded(&Expansion::from_u64(1)), pow2(53));
        t.add(pow2(-40));
        assert_eq!(t.div_rounded(&Expansion::from_u64(1)), pow2(53) + 2.0);
        // Integers past 2^53 as denominators.
        let n = (1u64 << 60) + 1;
        let mut num = Expansion::from_u64(n);
        num = num.mul_f64(3.0);
        assert_eq!(num.div_rounded(&Expansion::from_u64(n)), 3.0);
        assert!(Expansion::new().div_rounded(&Expansion::new()).is_nan());
    }

    #[test]
    fn from_u64_is_exact() {
        for n in [
            0u64,
            1,
            1 << 53,
            (1 << 53) + 1,
            u64::MAX,
            u64::MAX - 1,
            12345678901234567,
        ] {
            let e = Expansion::from_u64(n);
            let mut back = e.clone();
            back.add(-(n as f64));
            let rest = back.value();
            assert_eq!(i128::from(n), (n as f64) as i128 + rest as i128, "{n}");
        }
    }

    /// The value does not depend on the order of the inputs nor on how they were split into
    /// expansions before merging.
    #[test]
    fn order_and_merge_independence() {
        let mut g = SplitMix64(42);
        for case in 0..300 {
            let n = 1 + g.below(60) as usize;
            let mut xs: Vec<f64> = (0..n)
                .map(|i| match (case + i) % 4 {
                    0 => g.wild(),
                    1 => g.moderate(),
                    _ => {
                        // Exact cancellation partners make sums near zero or near a tie.
                        let v = g.moderate();
                        if g.next() & 1 == 0 {
                            v
                        } else {
                            -v * 0.5
                        }
                    }
                })
                .collect();
            let want = exact_sum(xs.iter().copied());
            for _ in 0..5 {
                g.shuffle(&mut xs);
                assert_eq!(
                    bits(exact_sum(xs.iter().copied())),
                    bits(want),
                    "case {case}"
                );
                // Every split into two expansions merged either way round.
                for k in 0..=xs.len() {
                    let mut a = Expansion::new();
                    a.extend(xs[..k].iter().copied());
                    let mut b = Expansion::new();
                    b.extend(xs[k..].iter().copied());
                    let mut ab = a.clone();
                    ab.add_expansion(&b);
                    let mut ba = b.clone();
                    ba.add_expansion(&a);
                    assert_eq!(bits(ab.value()), bits(want), "case {case} split {k}");
                    assert_eq!(bits(ba.value()), bits(want), "case {case} split {k}");
                }
                // A random tree of merges through the state words.
                let mut parts: Vec<Expansion> =
                    xs.iter().map(|&x| Expansion::from_f64(x)).collect();
                while parts.len() > 1 {
                    let i = g.below(parts.len() as u64) as usize;
                    let b = parts.swap_remove(i);
                    let j = g.below(parts.len() as u64) as usize;
                    let mut w = Vec::new();
                    b.to_words(&mut w);
                    let b = Expansion::from_words(&w).unwrap();
                    parts[j].add_expansion(&b);
                }
                assert_eq!(bits(parts[0].value()), bits(want), "case {case} tree");
            }
        }
    }

    /// Permutations and merges keep products and quotients identical too.
    #[test]
    fn derived_values_are_order_independent() {
        let mut g = SplitMix64(99);
        for case in 0..200 {
            let n = 2 + g.below(40) as usize;
            let mut xs: Vec<f64> = (0..n).map(|_| g.moderate()).collect();
            let stat = |xs: &[f64]| {
                let (mut s, mut s2) = (Expansion::new(), Expansion::new());
                for &x in xs {
                    s.add(x);
                    let (p, e) = two_product(x, x);
                    s2.add(p);
                    s2.add(e);
                }
                let nn = Expansion::from_u64(xs.len() as u64);
                let mut d = nn.mul(&s2);
                d.sub_expansion(&s.mul(&s));
                let den = nn.mul(&Expansion::from_u64(xs.len() as u64 - 1));
                (d.value(), d.div_rounded(&den), s.div_rounded(&nn))
            };
            let want = stat(&xs);
            assert!(want.0 >= 0.0, "case {case}");
            for _ in 0..5 {
                g.shuffle(&mut xs);
                let got = stat(&xs);
                assert_eq!(bits(got.0), bits(want.0));
                assert_eq!(bits(got.1), bits(want.1));
                assert_eq!(bits(got.2), bits(want.2));
            }
        }
    }

    /// 2^-1074 · (a 2200-bit two's complement integer), limbs little-endian.
    struct Fixed([u64; 36]);

    impl Fixed {
        /// Adds a double exactly: its value is an integer number of 2^-1074 units.
        fn add(&mut self, x: f64) {
            let b = x.to_bits();
            let exp = ((b >> 52) & 0x7FF) as i32;
            let frac = b & ((1 << 52) - 1);
            let (mant, shift) = if exp == 0 {
                (frac, 0)
            } else {
                (frac | (1 << 52), exp - 1)
            };
            // |x| = mant · 2^(shift − 1074): add or subtract mant << shift.
            let mut limbs = [0u64; 36];
            let (w, s) = ((shift / 64) as usize, shift % 64);
            limbs[w] = mant << s;
            if s > 0 {
                limbs[w + 1] = mant >> (64 - s);
            }
            if x < 0.0 {
                // two's complement negation
                let mut carry = 1u64;
                for l in limbs.iter_mut() {
                    let (v, c) = (!*l).overflowing_add(carry);
                    *l = v;
                    carry = c as u64;
                }
            }
            let mut carry = 0u64;
            for (a, l) in self.0.iter_mut().zip(limbs) {
                let (v1, c1) = a.overflowing_add(l);
                let (v2, c2) = v1.overflowing_add(carry);
                *a = v2;
                carry = (c1 || c2) as u64;
            }
        }
        /// Round to nearest even as a double (the values here stay below 2^1024).
        fn to_f64(&self) -> f64 {
            let neg = self.0[35] >> 63 == 1;
            let mut m = self.0;
            if neg {
                let mut carry = 1u64;
                for l in m.iter_mut() {
                    let (v, c) = (!*l).overflowing_add(carry);
                    *l = v;
                    carry = c as u64;
                }
            }
            let top = (0..36).rev().find(|&i| m[i] != 0);
            let Some(top) = top else { return 0.0 };
            let bit = |i: usize| (m[i / 64] >> (i % 64)) & 1;
            let high = top * 64 + 63 - m[top].leading_zeros() as usize;
            let v = if high < 53 {
                // subnormal or small: exact
                let mut r = 0u64;
                for i in (0..=high).rev() {
                    r = (r << 1) | bit(i);
                }
                r as f64 * pow2(-1022) * pow2(-52)
            } else {
                let lowbit = high - 52;
                let mut r = 0u64;
                for i in (lowbit..=high).rev() {
                    r = (r << 1) | bit(i);
                }
                let half = bit(lowbit - 1) == 1;
                let sticky = (0..lowbit - 1).any(|i| bit(i) == 1);
                if half && (sticky || r & 1 == 1) {
                    r += 1;
                }
                // r < 2^54: r · 2^(lowbit − 1074), built without overflow or underflow.
                let e = lowbit as i32 - 1074;
                (r as f64) * p2(e / 2) * p2(e - e / 2)
            };
            if neg {
                -v
            } else {
                v
            }
        }
    }

    /// Wild magnitudes against an independent exact reference: every double is an integer
    /// multiple of 2^-1074, so the sum is an integer in a big fixed-point accumulator.
    #[test]
    fn wild_sums_match_a_fixed_point_reference() {
        let mut g = SplitMix64(2024);
        for case in 0..400 {
            let n = 1 + g.below(50) as usize;
            let xs: Vec<f64> = (0..n)
                .map(|_| {
                    // A third of the cases near the top of the range, where the exact sum is
                    // rounded in the scaled domain, with tiny values mixed in.
                    let x = if case % 3 == 0 && g.next() & 1 == 0 {
                        f64::from_bits(
                            (g.next() & (1 << 63)) | (2000 + g.below(42)) << 52 | g.below(1 << 52),
                        )
                    } else {
                        g.wild()
                    };
                    // Keep the exact sum finite: at most 2^1018 per value here.
                    if x.abs() > pow2(1018) {
                        x * pow2(-6)
                    } else {
                        x
                    }
                })
                .collect();
            let mut f = Fixed([0; 36]);
            for &x in &xs {
                f.add(x);
            }
            assert_eq!(
                bits(exact_sum(xs.iter().copied())),
                bits(f.to_f64()),
                "case {case}: {xs:?}"
            );
        }
    }

    #[test]
    fn words_round_trip_and_reject_garbage() {
        let mut e = Expansion::new();
        e.extend([1e300, 1.0, 1e-300, 1e100]);
        let mut w = Vec::new();
        e.to_words(&mut w);
        assert_eq!(Expansion::from_words(&w).unwrap().value(), e.value());
        assert_eq!(Expansion::from_words(&[]).unwrap().value(), 0.0);
        assert!(Expansion::from_words(&[0.0]).is_none());
        assert!(Expansion::from_words(&[0.0, 3.0, 1.0]).is_none());
        assert!(Expansion::from_words(&[1.0, 0.0]).is_none());
        assert!(Expansion::from_words(&[0.0, 0.0, f64::NAN]).is_none());
        let mut s = Expansion::from_f64(f64::INFINITY);
        s.add(2.0);
        let mut w = Vec::new();
        s.to_words(&mut w);
        assert_eq!(Expansion::from_words(&w).unwrap().value(), f64::INFINITY);
    }
}
