//! The panel on one year's boundaries (`geography: boundaries`): every published row is moved
//! to the LA that holds its area in the canonical year of `stages/geography.yaml`. A recoded
//! LA takes its new code. LAs merged into a successor are summed measure by measure — counts
//! and populations add, so rates are recomputed from them by the dictionary's formulas;
//! published percentages and rates do not add, and are marked instead. A split LA cannot be
//! apportioned to its successors: its rows are set aside and listed.

use std::collections::BTreeMap;

use canary_clean::geography::{GeographyChanges, Harmonised, Harmoniser};
use canary_clean::tidy::{GeographyLevel, Status, TidyRow};

use super::panel::UnmappedLa;

/// Status given to a successor's indicator when a measure it needs could not be summed.
pub const NOT_HARMONISED: &str = "not_harmonised";

/// What moving to the canonical boundaries did.
#[derive(Debug, Default)]
pub struct Moved {
    /// Rows that could not be placed on the canonical boundaries (split LAs).
    pub set_aside: Vec<UnmappedLa>,
    /// (successor ONS code, year): LA-years built by summing predecessors, where some measure
    /// could not be summed.
    pub partial: Vec<(String, i32)>,
}

/// Whether a published measure adds up across LAs: counts and populations do; percentages,
/// rates, averages, scores, ranks and data-confidence codes do not. Judged from the name, as
/// the publishers name them (`%IAsWithin10wd0910`, `rereferral_percent`, `CINRatePer10K`).
pub fn additive(measure: &str) -> bool {
    let m = measure.to_ascii_lowercase();
    // The filters of an EES measure (`[category=...]`) do not decide.
    let name = m.split('[').next().unwrap_or(&m);
    ![
        "%",
        "percent",
        "pct",
        "rate",
        "per10",
        "per_10",
        "average",
        "avg",
        "score",
        "rank",
        "dci",
        "median",
        "mean",
        "proportion",
    ]
    .iter()
    .any(|w| name.contains(w))
}

/// Move every LA row of every source onto the canonical boundaries.
pub fn move_to_boundaries(
    changes: &GeographyChanges,
    sources: &mut BTreeMap<String, Vec<TidyRow>>,
) -> Moved {
    // Known (old, ONS) pairs, from rows that print both; the first in sorted order wins.
    let mut pairs: BTreeMap<String, String> = BTreeMap::new();
    for rows in sources.values() {
        for r in rows {
            if let (Some(o), Some(n)) = (&r.la_code_old, &r.la_code) {
                pairs.entry(o.clone()).or_insert_with(|| n.clone());
            }
        }
    }
    let harmoniser = Harmoniser::new(changes, pairs);
    let name_of = |old: &str| -> Option<String> {
        changes
            .changes
            .iter()
            .flat_map(|c| c.successors.iter())
            .find(|s| s.old_code == old)
            .map(|s| s.name.clone())
    };
    let mut moved = Moved::default();
    for (source, rows) in sources.iter_mut() {
        // (year, measure, successor ONS) → (sum, parts seen, parts expected, all ok, name, old)
        type Bucket = (f64, usize, usize, bool, String, String);
        let mut merged: BTreeMap<(i32, String, String), Bucket> = BTreeMap::new();
        let mut kept = Vec::with_capacity(rows.len());
        for mut r in std::mem::take(rows) {
            let code = if r.geography_level == GeographyLevel::LocalAuthority {
                r.la_code_old.clone().or_else(|| r.la_code.clone())
            } else {
                None
            };
            let Some(code) = code else {
                kept.push(r);
                continue;
            };
            match harmoniser.harmonise(&code, r.year) {
                Ok(Harmonised::One {
                    ons_code,
                    old_code,
                    via,
                }) if !via.is_empty() => {
                    if old_code.is_some() {
                        r.la_code_old = old_code;
                    }
                    if ons_code.is_some() {
                        r.la_code = ons_code;
                    }
                    kept.push(r);
                }
                Ok(Harmonised::PartOf {
                    ons_code,
                    old_code,
                    with,
                    ..
                }) => {
                    let name = name_of(&old_code).unwrap_or_else(|| r.la_name.clone());
                    let b = merged
                        .entry((r.year, r.measure.clone(), ons_code))
                        .or_insert((0.0, 0, with.len() + 1, true, name, old_code));
                    match (r.status, r.value) {
                        (Status::Ok, Some(v)) => b.0 += v,
                        _ => b.3 = false,
                    }
                    b.1 += 1;
                }
                Ok(Harmonised::Split { via, .. }) => moved.set_aside.push(UnmappedLa {
                    source: source.clone(),
                    year: r.year,
                    la_code_old: r.la_code_old.clone(),
                    la_code: r.la_code.clone(),
                    la_name: r.la_name.clone(),
                    reason: format!(
                        "split later ({}): cannot be apportioned to the canonical boundaries",
                        via.join(", ")
                    ),
                }),
                _ => kept.push(r),
            }
        }
        for ((year, measure, ons), (sum, seen, expected, all_ok, name, old)) in merged {
            let ok = all_ok && seen == expected && additive(&measure);
            if !ok {
                moved.partial.push((ons.clone(), year));
            }
            kept.push(TidyRow {
                source: source.clone(),
                year,
                la_code_old: Some(old),
                la_code: Some(ons),
                la_name: name,
                geography_level: GeographyLevel::LocalAuthority,
                measure,
                value: ok.then_some(sum),
                status: if ok { Status::Ok } else { Status::NotAvailable },
            });
        }
        *rows = kept;
    }
    moved.set_aside.sort();
    moved.set_aside.dedup_by(|a, b| {
        (a.source.as_str(), a.year, &a.la_code_old) == (b.source.as_str(), b.year, &b.la_code_old)
    });
    moved.partial.sort();
    moved.partial.dedup();
    moved
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_add_and_rates_do_not() {
        assert!(additive("Referrals1112"));
        assert!(additive("Mid2011Pop0-17"));
        assert!(additive(
            "referral_count[category=Referrals and Re-referrals]"
        ));
        assert!(!additive("%ReferralsWithin12mths1213"));
        assert!(!additive(
            "rereferral_percent[category=Referrals and Re-referrals]"
        ));
        assert!(!additive("CINAt310313RatePer10k"));
        assert!(!additive("idaci_average_score"));
    }
}
