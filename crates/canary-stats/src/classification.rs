//! How well 0/1 predictions agree with 0/1 outcomes: the confusion table at a probability
//! threshold, with sensitivity and specificity, and the mean binomial deviance of
//! probabilities — the numbers Table 2 of the study reports and cv.glmnet minimises.

/// Confusion counts at a probability threshold: an observation is predicted positive when its
/// probability is strictly above the threshold (the study's "more than 50% chance").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Confusion {
    pub tp: i64,
    pub fp: i64,
    pub tn: i64,
    pub fn_: i64,
}

impl Confusion {
    pub fn of(y: &[f64], p: &[f64], threshold: f64) -> Confusion {
        let mut c = Confusion {
            tp: 0,
            fp: 0,
            tn: 0,
            fn_: 0,
        };
        for (y, p) in y.iter().zip(p) {
            match (*y == 1.0, *p > threshold) {
                (true, true) => c.tp += 1,
                (true, false) => c.fn_ += 1,
                (false, true) => c.fp += 1,
                (false, false) => c.tn += 1,
            }
        }
        c
    }

    /// TP / (TP + FN); None without positives.
    pub fn sensitivity(&self) -> Option<f64> {
        let d = self.tp + self.fn_;
        (d > 0).then(|| self.tp as f64 / d as f64)
    }

    /// TN / (TN + FP); None without negatives.
    pub fn specificity(&self) -> Option<f64> {
        let d = self.tn + self.fp;
        (d > 0).then(|| self.tn as f64 / d as f64)
    }

    /// Predicted positives, TP + FP.
    pub fn flagged(&self) -> i64 {
        self.tp + self.fp
    }
}

/// The share of positives, `mean(y)`: the "prevalence" threshold the early-warning evaluation
/// and the fallback Table 3 flag against. None for no observations.
pub fn prevalence(y: &[f64]) -> Option<f64> {
    (!y.is_empty()).then(|| y.iter().filter(|v| **v == 1.0).count() as f64 / y.len() as f64)
}

/// Mean binomial deviance `-2 mean(y log p + (1 - y) log(1 - p))`, probabilities clamped to
/// `[1e-5, 1 - 1e-5]` as cv.glmnet clamps them (so a certain wrong prediction costs a finite
/// amount). With out-of-fold probabilities this is cv.glmnet's `cvm` for `type.measure =
/// "deviance"` (the fold-size-weighted mean of fold means is the overall mean).
pub fn mean_deviance(y: &[f64], p: &[f64]) -> Option<f64> {
    if y.is_empty() {
        return None;
    }
    let total: f64 = y
        .iter()
        .zip(p)
        .map(|(y, p)| {
            let p = p.clamp(1e-5, 1.0 - 1e-5);
            -2.0 * (y * p.ln() + (1.0 - y) * (1.0 - p).ln())
        })
        .sum();
    Some(total / y.len() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confusion_counts() {
        let c = Confusion::of(&[1.0, 1.0, 0.0, 0.0, 0.0], &[0.9, 0.2, 0.6, 0.1, 0.5], 0.5);
        assert_eq!(
            c,
            Confusion {
                tp: 1,
                fp: 1,
                tn: 2,
                fn_: 1
            }
        );
        assert_eq!(c.sensitivity(), Some(0.5));
        assert_eq!(c.specificity(), Some(2.0 / 3.0));
        assert_eq!(c.flagged(), 2);
    }

    #[test]
    fn deviance_and_prevalence() {
        assert_eq!(prevalence(&[1.0, 0.0, 0.0, 0.0]), Some(0.25));
        assert_eq!(prevalence(&[]), None);
        // log(0.5) each: -2 * ln(0.5) = 2 ln 2
        let d = mean_deviance(&[1.0, 0.0], &[0.5, 0.5]).unwrap();
        assert!((d - 2.0 * 2f64.ln()).abs() < 1e-15);
        // clamped, finite
        assert!(mean_deviance(&[1.0], &[0.0]).unwrap().is_finite());
    }
}
