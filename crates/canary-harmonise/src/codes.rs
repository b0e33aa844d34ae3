//! Old 3-digit DfE LA codes ↔ ONS 9-character codes, learnt from the files that print both
//! (CIN census 2012-13 on, every EES file), because the CIN census files before 2012-13 and
//! the s251 returns carry only the old code. The map is by year: an old code can change ONS
//! code at a boundary change (North Yorkshire kept 815 when it became a unitary in 2023).
//!
//! Within a year the old code is the identity: files republished later print today's ONS
//! code for past years (the 2021-22 release gives Buckinghamshire, 825, its 2020 code
//! E06000060 back to 2013, while the 2013-2025 files keep E10000002). Such rows are the same
//! LA and are keyed by the code most sources print that year, with a note, so the panel
//! neither splits one LA in two nor merges two.

use canary_clean::tidy::{GeographyLevel, TidyRow};
use std::collections::{BTreeMap, BTreeSet};

/// One old → new pairing and the years it was seen in.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct CodeMapEntry {
    pub la_code_old: String,
    pub la_code: String,
    pub first_year: i32,
    pub last_year: i32,
    pub la_name: String,
}

#[derive(Debug, Clone, Default)]
pub struct CodeMap {
    /// old → year → new code → sources printing that pair (more than one code = sources
    /// disagree that year).
    by_old: BTreeMap<String, BTreeMap<i32, BTreeMap<String, BTreeSet<String>>>>,
    names: BTreeMap<(String, String), String>,
}

/// A code printed as `314 / 318`: a combined return for two LAs, which cannot be one panel
/// row without merging two LAs.
pub fn is_combined(code: &str) -> bool {
    code.contains('/')
}

impl CodeMap {
    /// Learns pairs from LA rows; `shift` gives the year offset of a source whose `year`
    /// is not the reporting year (the ONS population file's mid-year: +1).
    pub fn learn(&mut self, source: &str, rows: &[TidyRow], shift: i32) {
        let mut last: Option<(&str, &str, i32)> = None;
        for r in rows {
            if r.geography_level != GeographyLevel::LocalAuthority {
                continue;
            }
            let (Some(old), Some(new)) = (r.la_code_old.as_deref(), r.la_code.as_deref()) else {
                continue;
            };
            if is_combined(old) || is_combined(new) {
                continue;
            }
            // Rows come in runs of one LA × many measures; skip the repeats cheaply.
            if last == Some((old, new, r.year)) {
                continue;
            }
            last = Some((old, new, r.year));
            self.by_old
                .entry(old.to_string())
                .or_default()
                .entry(r.year + shift)
                .or_default()
                .entry(new.to_string())
                .or_default()
                .insert(source.to_string());
            self.names
                .entry((old.to_string(), new.to_string()))
                .or_insert_with(|| r.la_name.clone());
        }
    }

    /// The ONS code of an old code in a reporting year: that year's pairing if seen, else
    /// the nearest year's (the later one on a tie, as pairings are learnt from 2013 on).
    /// When sources disagree that year, the code printed by the most sources (then the
    /// smallest, for determinism). None when never seen.
    pub fn resolve(&self, old: &str, year: i32) -> Option<&str> {
        let years = self.by_old.get(old)?;
        let (_, news) = years
            .iter()
            .min_by_key(|(y, _)| ((**y - year).abs(), -**y))?;
        news.iter()
            .max_by(|a, b| a.1.len().cmp(&b.1.len()).then(b.0.cmp(a.0)))
            .map(|(n, _)| n.as_str())
    }

    /// Every pairing with the span of years it was seen in, sorted.
    pub fn entries(&self) -> Vec<CodeMapEntry> {
        let mut spans: BTreeMap<(String, String), (i32, i32)> = BTreeMap::new();
        for (old, years) in &self.by_old {
            for (y, news) in years {
                for n in news.keys() {
                    let e = spans.entry((old.clone(), n.clone())).or_insert((*y, *y));
                    e.0 = e.0.min(*y);
                    e.1 = e.1.max(*y);
                }
            }
        }
        spans
            .into_iter()
            .map(|((o, n), (a, b))| CodeMapEntry {
                la_name: self
                    .names
                    .get(&(o.clone(), n.clone()))
                    .cloned()
                    .unwrap_or_default(),
                la_code_old: o,
                la_code: n,
                first_year: a,
                last_year: b,
            })
            .collect()
    }

    /// Where sources print different ONS codes for one old code in one year: a sentence
    /// per case saying which code the rows are keyed by.
    pub fn disagreements(&self) -> Vec<String> {
        let mut v = Vec::new();
        for (old, years) in &self.by_old {
            for (y, news) in years {
                if news.len() > 1 {
                    let list: Vec<String> = news
                        .iter()
                        .map(|(n, s)| {
                            format!("{n} ({})", s.iter().cloned().collect::<Vec<_>>().join(", "))
                        })
                        .collect();
                    let chosen = self.resolve(old, *y).unwrap_or_default();
                    v.push(format!("old code {old} in {y}: sources print {}; rows keyed by {chosen} (most sources)", list.join(" and ")));
                }
            }
        }
        v
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use canary_clean::tidy::Status;

    fn row(year: i32, old: &str, new: &str) -> TidyRow {
        TidyRow {
            source: "s".into(),
            year,
            la_code_old: Some(old.into()),
            la_code: Some(new.into()),
            la_name: "N".into(),
            geography_level: GeographyLevel::LocalAuthority,
            measure: "m".into(),
            value: Some(1.0),
            status: Status::Ok,
        }
    }

    #[test]
    fn nearest_year_and_recoding() {
        let mut m = CodeMap::default();
        m.learn(
            "a",
            &[
                row(2013, "815", "E10000023"),
                row(2023, "815", "E10000023"),
                row(2024, "815", "E06000065"),
                row(2021, "314 / 318", "E09000021 / E09000027"),
            ],
            0,
        );
        assert_eq!(m.resolve("815", 2010), Some("E10000023"));
        assert_eq!(m.resolve("815", 2025), Some("E06000065"));
        assert_eq!(m.resolve("314 / 318", 2021), None);
        assert_eq!(m.entries().len(), 2);
        m.learn("b", &[row(2023, "815", "E06000065")], 1);
        assert_eq!(m.resolve("815", 2024), Some("E06000065"));
        // A republished file with today's code for a past year: the majority code wins.
        m.learn("c", &[row(2013, "815", "E99999999")], 0);
        m.learn("d", &[row(2013, "815", "E10000023")], 0);
        assert_eq!(m.resolve("815", 2013), Some("E10000023"));
        assert_eq!(m.disagreements().len(), 1);
        assert!(
            m.disagreements()[0]
                .contains("E10000023 (a, d) and E99999999 (c); rows keyed by E10000023"),
            "{:?}",
            m.disagreements()
        );
    }
}
