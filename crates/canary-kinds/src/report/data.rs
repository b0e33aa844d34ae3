//! "The data": the published sources with publisher, licence, landing page and checksum; the
//! share of LAs with a value, indicator × year; the definition breaks.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::input::{Indicators, Inputs};
use crate::error::Result;

#[derive(Serialize)]
pub struct DataSection {
    pub sources: Vec<Source>,
    /// The years the panel holds, in order.
    pub years: Vec<i64>,
    pub first_year: Option<i64>,
    pub last_year: Option<i64>,
    pub coverage: Vec<CoverageRow>,
    pub breaks: Vec<Break>,
}

#[derive(Serialize)]
pub struct Source {
    pub name: String,
    pub path: String,
    pub sha256: String,
    pub publisher: Option<String>,
    pub licence: Option<String>,
    pub landing_page: Option<String>,
}

#[derive(Serialize)]
pub struct CoverageRow {
    pub indicator: String,
    /// Whole percentages, one per year of `years` (None: no row that year).
    pub shares: Vec<Option<i64>>,
}

#[derive(Serialize)]
pub struct Break {
    pub indicator: String,
    pub year: i64,
    pub note: String,
}

pub fn build(inp: &Inputs, indicators: &Indicators) -> Result<DataSection> {
    let sources = inp
        .ctx
        .pipeline
        .sources
        .values()
        .map(|s| Source {
            name: s.name.clone(),
            path: s.rel_path.clone(),
            sha256: s.sha256.clone(),
            publisher: s.publisher.clone(),
            licence: s.licence.clone(),
            landing_page: s.landing_page.clone(),
        })
        .collect();
    let coverage = coverage(inp)?;
    let years: Vec<i64> = coverage
        .values()
        .flat_map(|by| by.keys().copied())
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let rows = coverage
        .iter()
        .map(|(ind, by)| CoverageRow {
            indicator: ind.clone(),
            shares: years
                .iter()
                .map(|y| by.get(y).map(|s| (s * 100.0).round() as i64))
                .collect(),
        })
        .collect();
    let breaks = indicators
        .by_id
        .iter()
        .flat_map(|(id, i)| {
            i.breaks.iter().map(move |(y, note)| Break {
                indicator: id.clone(),
                year: *y,
                note: note.clone(),
            })
        })
        .collect();
    Ok(DataSection {
        sources,
        first_year: years.first().copied(),
        last_year: years.last().copied(),
        years,
        coverage: rows,
        breaks,
    })
}

/// Share of LAs with a value, indicator → year → share: as `harmonise` tabled it, or counted
/// here from the panel's rows.
fn coverage(inp: &Inputs) -> Result<BTreeMap<String, BTreeMap<i64, f64>>> {
    let mut coverage: BTreeMap<String, BTreeMap<i64, f64>> = BTreeMap::new();
    if inp.has_table("panel", Some("coverage")) {
        let cov = inp.table("panel", Some("coverage"))?;
        for c in cov.records::<Coverage>()? {
            if let (Some(ind), Some(y), Some(s)) = (c.indicator, c.year, c.share) {
                coverage.entry(ind).or_default().insert(y, s);
            }
        }
        return Ok(coverage);
    }
    let p = inp.table("panel", None)?;
    let rows = p.records::<PanelValue>()?;
    let all_las: BTreeSet<&String> = rows.iter().filter_map(|r| r.la_code.as_ref()).collect();
    let mut with_value: BTreeMap<(String, i64), BTreeSet<&String>> = BTreeMap::new();
    for r in &rows {
        if let (Some(l), Some(y), Some(n)) = (&r.la_code, r.year, &r.indicator) {
            let e = with_value.entry((n.clone(), y)).or_default();
            if r.value.is_some_and(f64::is_finite) {
                e.insert(l);
            }
        }
    }
    for ((ind, y), las) in with_value {
        coverage
            .entry(ind)
            .or_default()
            .insert(y, las.len() as f64 / all_las.len().max(1) as f64);
    }
    Ok(coverage)
}

/// A row of the panel's `coverage` table as the report reads it.
#[derive(serde::Deserialize)]
struct Coverage {
    indicator: Option<String>,
    year: Option<i64>,
    share: Option<f64>,
}

/// A row of the panel as the report counts it.
#[derive(serde::Deserialize)]
struct PanelValue {
    la_code: Option<String>,
    year: Option<i64>,
    indicator: Option<String>,
    value: Option<f64>,
}
