//! Evidence that the panel can be trusted: how much of it has values, why the rest is
//! missing, whether the LA rows add up to each file's England row, and whether the two
//! sources of an overlap year agree.

use super::dictionary::Dictionary;
use super::error::HarmoniseError;
use super::formula;
use super::panel::Harmonised;
// The cross-checks are evaluated over the panel's own index, so they live with the panel;
// they are evidence about it, so they are offered here too.
pub use super::panel::{crosscheck, CrosscheckRow};
use canary_clean::tidy::{GeographyLevel, TidyRow};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq)]
pub struct CoverageRow {
    pub indicator: String,
    pub year: i32,
    pub n_las: usize,
    pub n_values: usize,
    pub share: f64,
}

/// Indicator × year: LAs in the panel and how many have a value.
pub fn coverage(h: &Harmonised) -> Vec<CoverageRow> {
    let mut m: BTreeMap<(String, i32), (usize, usize)> = BTreeMap::new();
    for r in &h.panel {
        let e = m.entry((r.indicator.clone(), r.year)).or_default();
        e.0 += 1;
        e.1 += r.value.is_some() as usize;
    }
    m.into_iter()
        .map(|((indicator, year), (n, v))| CoverageRow {
            indicator,
            year,
            n_las: n,
            n_values: v,
            share: if n == 0 { 0.0 } else { v as f64 / n as f64 },
        })
        .collect()
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct StatusCount {
    pub indicator: String,
    pub status: String,
    pub n: usize,
}

/// Indicator × status: how many panel rows.
pub fn status_counts(h: &Harmonised) -> Vec<StatusCount> {
    let mut m: BTreeMap<(String, String), usize> = BTreeMap::new();
    for r in &h.panel {
        *m.entry((r.indicator.clone(), r.status.clone()))
            .or_default() += 1;
    }
    m.into_iter()
        .map(|((indicator, status), n)| StatusCount {
            indicator,
            status,
            n,
        })
        .collect()
}

#[derive(Debug, Clone, PartialEq)]
pub struct ReconRow {
    /// The source name (one file per year in every source used here).
    pub file: String,
    pub year: i32,
    pub measure: String,
    pub england: f64,
    pub la_sum: f64,
    pub n_las: usize,
    /// LA rows without a number (suppressed or not returned): the sum is then a lower bound.
    pub n_suppressed: usize,
    /// england − la_sum.
    pub difference: f64,
    pub tolerance: f64,
    pub ok: bool,
}

/// Sums every LA row (excluded LAs and combined returns included: the England figure counts
/// them) and compares with the England row. Tolerance is half the England row's rounding
/// unit (the LA rows of these files are unrounded). With LAs missing, the sum is only a
/// lower bound, so it must not exceed England by more than the tolerance.
pub fn reconcile(dict: &Dictionary, sources: &BTreeMap<String, Vec<TidyRow>>) -> Vec<ReconRow> {
    let mut out = Vec::new();
    for spec in &dict.reconcile {
        let Some(rows) = sources.get(&spec.source) else {
            continue;
        };
        // year → (england, sum, n, n_missing)
        let mut acc: BTreeMap<i32, (Option<f64>, f64, usize, usize)> = BTreeMap::new();
        for r in rows {
            if !spec.years.contains(r.year) || r.measure != formula::expand(&spec.measure, r.year) {
                continue;
            }
            let e = acc.entry(r.year).or_default();
            match r.geography_level {
                GeographyLevel::National => e.0 = r.value,
                GeographyLevel::LocalAuthority => {
                    e.2 += 1;
                    match r.value {
                        Some(v) => e.1 += v,
                        None => e.3 += 1,
                    }
                }
                _ => {}
            }
        }
        for (year, (england, la_sum, n, miss)) in acc {
            let Some(england) = england else { continue };
            let unit = spec
                .rounding
                .iter()
                .find(|(y, _)| y.contains(year))
                .map(|r| r.1)
                .unwrap_or(1.0);
            let tolerance = unit / 2.0 + 1e-9;
            let difference = england - la_sum;
            let ok = if miss == 0 {
                difference.abs() <= tolerance
            } else {
                difference >= -tolerance
            };
            out.push(ReconRow {
                file: spec.source.clone(),
                year,
                measure: formula::expand(&spec.measure, year),
                england,
                la_sum,
                n_las: n,
                n_suppressed: miss,
                difference,
                tolerance,
                ok,
            });
        }
    }
    out
}

/// Fails, printing the numbers, when any comparison is outside tolerance.
pub fn check_reconciliation(rows: &[ReconRow]) -> Result<(), HarmoniseError> {
    let failures: Vec<String> = rows
        .iter()
        .filter(|r| !r.ok)
        .map(|r| {
            format!(
                "{} {} `{}`: England {} vs LA sum {} ({} LAs, {} without a number): difference {} beyond ±{}",
                r.file, r.year, r.measure, r.england, r.la_sum, r.n_las, r.n_suppressed, r.difference, r.tolerance
            )
        })
        .collect();
    if failures.is_empty() {
        Ok(())
    } else {
        Err(HarmoniseError::Reconciliation { failures })
    }
}
