//! Which of the paper's findings hold on the published data: one verdict per claim, from a
//! fixed vocabulary, with the numbers behind it and the rule that decided it.
//!
//! The claims themselves are data (`reports/published_results.yaml`: the Summary of findings,
//! Figure 2's statements with their `checks`, Figure 3's pairs, Table 2's headline terms, Table
//! 3's rows); the evidence is the run's tables, gathered by the `claims` kind into [`Evidence`].
//! This module is pure: no I/O, no DataFusion — every rule is a function of those two, so a
//! changed param or a new year of data can change a verdict, and the rules are tested on
//! hand-made evidence that produces each verdict. README, "How a verdict is reached", states
//! the same rules in words.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

pub mod published;
mod rules;

pub use published::Published;
pub use rules::assess;

/// The four verdicts a claim can get.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verdict {
    Reproduced,
    Partly,
    NotReproduced,
    CannotBeTested,
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Verdict::Reproduced => "reproduced",
            Verdict::Partly => "partly reproduced",
            Verdict::NotReproduced => "not reproduced",
            Verdict::CannotBeTested => "cannot be tested with the published data",
        })
    }
}

impl Verdict {
    /// The verdict of a claim made of parts: untestable parts make a full reproduction partial;
    /// a claim none of whose parts can be tested cannot be tested.
    pub fn combine(parts: &[Verdict]) -> Verdict {
        let tested: Vec<Verdict> = parts
            .iter()
            .copied()
            .filter(|v| *v != Verdict::CannotBeTested)
            .collect();
        if tested.is_empty() {
            Verdict::CannotBeTested
        } else if tested.len() == parts.len() && tested.iter().all(|v| *v == Verdict::Reproduced) {
            Verdict::Reproduced
        } else if tested
            .iter()
            .any(|v| matches!(v, Verdict::Reproduced | Verdict::Partly))
        {
            Verdict::Partly
        } else {
            Verdict::NotReproduced
        }
    }

    /// At most "partly reproduced": for evidence that is not the study's own procedure.
    pub fn at_most_partly(self) -> Verdict {
        if self == Verdict::Reproduced {
            Verdict::Partly
        } else {
            self
        }
    }
}

/// One row of the ledger.
#[derive(Debug, Clone, PartialEq)]
pub struct Claim {
    pub id: String,
    pub section: &'static str,
    pub claim: String,
    pub verdict: Verdict,
    /// The numbers behind the verdict.
    pub evidence: String,
    /// The rule that decided it, in words.
    pub rule: String,
    /// The stage whose tables hold the evidence, and the report's section that shows it.
    pub stage: &'static str,
    pub anchor: &'static str,
}

/// A Spearman pair as `correlations_summary` tabled it.
#[derive(Debug, Clone, PartialEq)]
pub struct Pair {
    pub years_tested: i64,
    pub years_significant: i64,
    /// `+`, `-`, or None when never significant (or significant with both signs).
    pub sign: Option<String>,
    pub median_rho: Option<f64>,
    pub min_years: i64,
    pub correlated: bool,
}

/// The cross-validated model, its sweep and the direct test of the paper's terms.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ModelEvidence {
    pub predictors: Vec<String>,
    pub predictor_year: Option<i64>,
    /// Non-zero coefficients at lambda.min, by predictor.
    pub selected: BTreeMap<String, f64>,
    pub sensitivity: Option<f64>,
    pub cv_sensitivity: Option<f64>,
    pub dev_ratio: Option<f64>,
    /// The sweep: cells, cells whose model is the intercept alone, and per predictor the
    /// cells selecting it with a positive and with a negative coefficient.
    pub sweep_cells: usize,
    pub sweep_intercept_only: usize,
    pub sweep_selected: BTreeMap<String, (usize, usize)>,
    /// The direct test: estimate and p value per term.
    pub direct: BTreeMap<String, (f64, f64)>,
}

/// One version of Table 3: the rule that made it, the groups' sizes, and per indicator the
/// groups' median changes the year after.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CohortEvidence {
    pub rule: String,
    pub a_members: i64,
    pub b_members: i64,
    pub changes: BTreeMap<String, (Option<f64>, Option<f64>)>,
}

/// Everything the rules look at, gathered from the run's tables.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Evidence {
    /// Indicator → year → national median (`trends`).
    pub medians: BTreeMap<String, BTreeMap<i64, f64>>,
    /// The panel's indicators, and each one's definition breaks (year, note).
    pub indicators: BTreeSet<String>,
    pub breaks: BTreeMap<String, Vec<(i64, String)>>,
    /// `correlations_summary`, keyed by the pair in name order; and the window it covers.
    pub pairs: BTreeMap<(String, String), Pair>,
    pub correlation_years: (i64, i64),
    pub model: ModelEvidence,
    /// The study's Table 3 and its stated fallback.
    pub cohorts: CohortEvidence,
    pub fallback: CohortEvidence,
}

/// Each indicator name a published claim uses that the panel does not have, as a sentence
/// naming where it is used and the nearest name the panel has.
pub fn unknown_names(p: &Published, indicators: &BTreeSet<String>) -> Vec<String> {
    p.names()
        .into_iter()
        .filter(|(name, _)| !indicators.contains(name))
        .map(|(name, at)| {
            let hint = crate::error::did_you_mean(&name, indicators.iter().map(String::as_str))
                .map(|h| format!(" ({h})"))
                .unwrap_or_default();
            format!("{at} names `{name}`, which is not an indicator of the panel{hint}")
        })
        .collect()
}

impl Evidence {
    pub fn pair(&self, x: &str, y: &str) -> Option<&Pair> {
        let key = if x <= y {
            (x.to_string(), y.to_string())
        } else {
            (y.to_string(), x.to_string())
        };
        self.pairs.get(&key)
    }
}
