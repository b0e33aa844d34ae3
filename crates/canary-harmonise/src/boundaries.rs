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
    let harmoniser = Harmoniser::new(changes, known_pairs(sources));
    let mut moved = Moved::default();
    for (source, rows) in sources.iter_mut() {
        let mut mover = SourceMover {
            changes,
            harmoniser: &harmoniser,
            source,
            merged: BTreeMap::new(),
            kept: Vec::with_capacity(rows.len()),
        };
        for r in std::mem::take(rows) {
            mover.place(r, &mut moved);
        }
        *rows = mover.finish(&mut moved);
    }
    moved.set_aside.sort();
    moved.set_aside.dedup_by(|a, b| {
        (a.source.as_str(), a.year, &a.la_code_old) == (b.source.as_str(), b.year, &b.la_code_old)
    });
    moved.partial.sort();
    moved.partial.dedup();
    moved
}

/// Known (old, ONS) code pairs, from rows that print both; the first in sorted order wins.
fn known_pairs(sources: &BTreeMap<String, Vec<TidyRow>>) -> BTreeMap<String, String> {
    let mut pairs: BTreeMap<String, String> = BTreeMap::new();
    for rows in sources.values() {
        for r in rows {
            if let (Some(o), Some(n)) = (&r.la_code_old, &r.la_code) {
                pairs.entry(o.clone()).or_insert_with(|| n.clone());
            }
        }
    }
    pairs
}

/// The name the boundary changes give the LA with this old code.
fn successor_name(changes: &GeographyChanges, old: &str) -> Option<String> {
    changes
        .changes
        .iter()
        .flat_map(|c| c.successors.iter())
        .find(|s| s.old_code == old)
        .map(|s| s.name.clone())
}

/// The predecessors' values of one measure and year, being summed into their successor.
struct Merge {
    sum: f64,
    /// Predecessor rows seen, and how many predecessors there are.
    seen: usize,
    expected: usize,
    /// Every value seen was published (`ok`) and present.
    all_ok: bool,
    name: String,
    old_code: String,
}

/// One source's rows on their way to the canonical boundaries.
struct SourceMover<'a> {
    changes: &'a GeographyChanges,
    harmoniser: &'a Harmoniser,
    source: &'a str,
    /// (year, measure, successor ONS code) → the sum under way.
    merged: BTreeMap<(i32, String, String), Merge>,
    kept: Vec<TidyRow>,
}

impl SourceMover<'_> {
    /// Recodes a row, adds it to its successor's sum, or sets it aside (a split LA);
    /// rows that are not LA rows, or whose LA did not change, are kept as they are.
    fn place(&mut self, mut r: TidyRow, moved: &mut Moved) {
        let code = if r.geography_level == GeographyLevel::LocalAuthority {
            r.la_code_old.clone().or_else(|| r.la_code.clone())
        } else {
            None
        };
        let Some(code) = code else {
            self.kept.push(r);
            return;
        };
        match self.harmoniser.harmonise(&code, r.year) {
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
                self.kept.push(r);
            }
            Ok(Harmonised::PartOf {
                ons_code,
                old_code,
                with,
                ..
            }) => {
                let name =
                    successor_name(self.changes, &old_code).unwrap_or_else(|| r.la_name.clone());
                let b = self
                    .merged
                    .entry((r.year, r.measure.clone(), ons_code))
                    .or_insert(Merge {
                        sum: 0.0,
                        seen: 0,
                        expected: with.len() + 1,
                        all_ok: true,
                        name,
                        old_code,
                    });
                match (r.status, r.value) {
                    (Status::Ok, Some(v)) => b.sum += v,
                    _ => b.all_ok = false,
                }
                b.seen += 1;
            }
            Ok(Harmonised::Split { via, .. }) => moved.set_aside.push(UnmappedLa {
                source: self.source.to_string(),
                year: r.year,
                la_code_old: r.la_code_old.clone(),
                la_code: r.la_code.clone(),
                la_name: r.la_name.clone(),
                reason: format!(
                    "split later ({}): cannot be apportioned to the canonical boundaries",
                    via.join(", ")
                ),
            }),
            _ => self.kept.push(r),
        }
    }

    /// The kept rows and one row per successor, measure and year: the sum when every
    /// predecessor published an additive value, otherwise `not_available` (and the
    /// LA-year is listed as partial).
    fn finish(mut self, moved: &mut Moved) -> Vec<TidyRow> {
        for ((year, measure, ons), m) in self.merged {
            let ok = m.all_ok && m.seen == m.expected && additive(&measure);
            if !ok {
                moved.partial.push((ons.clone(), year));
            }
            self.kept.push(TidyRow {
                source: self.source.to_string(),
                year,
                la_code_old: Some(m.old_code),
                la_code: Some(ons),
                la_name: m.name,
                geography_level: GeographyLevel::LocalAuthority,
                measure,
                value: ok.then_some(m.sum),
                status: if ok { Status::Ok } else { Status::NotAvailable },
            });
        }
        self.kept
    }
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

    const CHANGES: &str = r#"version: 1
canonical_year: 2024
changes:
  - id: bedfordshire_2009
    effective: 2009-04-01
    kind: split
    predecessors:
      - {name: Bedfordshire, old_code: "820", ons_code: null}
    successors:
      - {name: Bedford, old_code: "822", ons_code: E06000055}
      - {name: Central Bedfordshire, old_code: "823", ons_code: E06000056}
    evidence: "test"
  - id: gateshead_2013
    effective: 2013-04-01
    kind: recode
    predecessors:
      - {name: Gateshead, old_code: "390", ons_code: E08000020}
    successors:
      - {name: Gateshead, old_code: "390", ons_code: E08000037}
    evidence: "test"
  - id: dorset_bcp_2019_merge
    effective: 2019-04-01
    kind: merge
    predecessors:
      - {name: Bournemouth, old_code: "837", ons_code: E06000028}
      - {name: Poole, old_code: "836", ons_code: E06000029}
    successors:
      - {name: "Bournemouth, Christchurch and Poole", old_code: "839", ons_code: E06000058}
    evidence: "test"
"#;

    /// Published rows, one per line: year, old code, ONS code, name, measure, value (`-` for
    /// none; a row with neither code is the England row).
    const ROWS: &str = "
        2018 - - England Referrals 1000
        2018 837 E06000028 Bournemouth Referrals 10
        2018 836 E06000029 Poole Referrals 5.5
        2018 837 E06000028 Bournemouth ReferralsRate 3
        2018 836 E06000029 Poole ReferralsRate 4
        2017 837 E06000028 Bournemouth Assessments 7
        2017 836 E06000029 Poole Assessments -
        2016 837 E06000028 Bournemouth Plans 2
        2014 390 E08000020 Gateshead Referrals 8
        2008 820 - Bedfordshire Referrals 9
        2008 820 - Bedfordshire Assessments 1
        2020 839 E06000058 BCP Referrals 20";

    /// The rows of [`ROWS`] as the clean stage gives them (a missing value is suppressed).
    fn rows() -> Vec<TidyRow> {
        let opt = |s: &str| (s != "-").then(|| s.to_string());
        ROWS.trim()
            .lines()
            .map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                let value = opt(f[5]).map(|v| v.parse::<f64>().unwrap());
                TidyRow {
                    source: "s".into(),
                    year: f[0].parse().unwrap(),
                    la_code_old: opt(f[1]),
                    la_code: opt(f[2]),
                    la_name: f[3].into(),
                    geography_level: if f[1] == "-" && f[2] == "-" {
                        GeographyLevel::National
                    } else {
                        GeographyLevel::LocalAuthority
                    },
                    measure: f[4].into(),
                    value,
                    status: if value.is_some() {
                        Status::Ok
                    } else {
                        Status::Suppressed
                    },
                }
            })
            .collect()
    }

    #[test]
    fn merged_las_are_summed_recoded_ones_renamed_and_split_ones_set_aside() {
        let changes = canary_clean::geography::load_changes("g.yaml", CHANGES).unwrap();
        let rows = rows();
        let mut sources = BTreeMap::from([("s".to_string(), rows)]);
        let moved = move_to_boundaries(&changes, &mut sources);
        let got: Vec<String> = sources["s"]
            .iter()
            .map(|r| {
                format!(
                    "{} {:?} {:?} {} {} {:?} {:?}",
                    r.year, r.la_code_old, r.la_code, r.la_name, r.measure, r.value, r.status
                )
            })
            .collect();
        assert_eq!(
            got,
            [
                "2018 None None England Referrals Some(1000.0) Ok",
                "2014 Some(\"390\") Some(\"E08000037\") Gateshead Referrals Some(8.0) Ok",
                "2020 Some(\"839\") Some(\"E06000058\") BCP Referrals Some(20.0) Ok",
                "2016 Some(\"839\") Some(\"E06000058\") Bournemouth, Christchurch and Poole Plans None NotAvailable",
                "2017 Some(\"839\") Some(\"E06000058\") Bournemouth, Christchurch and Poole Assessments None NotAvailable",
                "2018 Some(\"839\") Some(\"E06000058\") Bournemouth, Christchurch and Poole Referrals Some(15.5) Ok",
                "2018 Some(\"839\") Some(\"E06000058\") Bournemouth, Christchurch and Poole ReferralsRate None NotAvailable",
            ],
            "{got:#?}"
        );
        assert_eq!(
            moved.partial,
            [
                ("E06000058".to_string(), 2016),
                ("E06000058".to_string(), 2017),
                ("E06000058".to_string(), 2018)
            ]
        );
        assert_eq!(moved.set_aside.len(), 1, "{:?}", moved.set_aside);
        assert_eq!(moved.set_aside[0].la_code_old.as_deref(), Some("820"));
        assert!(
            moved.set_aside[0].reason.starts_with("split later ("),
            "{:?}",
            moved.set_aside[0]
        );
    }
}
