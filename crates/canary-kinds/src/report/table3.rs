//! Table 3: the cohorts — never silently empty. The study's rule is shown when it predicts any
//! LA; when it predicts none, the stated fallback rule's version is shown and the text says so,
//! naming the rule that made the table and n per group. A group still empty is a sentence, not
//! a table of dashes, and indicators with no value in the window are named, not dashed.

use serde::Serialize;

use super::format::{difference, num, years_range};
use super::input::{Indicators, Inputs};
use super::published::Published;
use crate::error::Result;

#[derive(Serialize)]
pub struct Table3Section {
    /// The years the model is applied to, "2010–2012".
    pub years: Option<String>,
    pub primary: Version,
    /// The fallback's version, when the study's rule predicts no LA.
    pub fallback: Option<Version>,
    /// The version shown (the primary, or the fallback when that is empty).
    pub shown: Version,
    pub comparison: Vec<Comparison>,
    pub paper_a: Option<i64>,
    pub paper_b: Option<i64>,
}

#[derive(Serialize, Clone)]
pub struct Version {
    pub rule: String,
    pub a_members: i64,
    pub b_members: i64,
    /// Neither group has an LA.
    pub empty: bool,
    /// Rows of indicators with a value for some LA of the groups.
    pub rows: Vec<Row>,
    /// Indicators with no value for any LA of either group in these years.
    pub no_values: Vec<String>,
}

#[derive(Serialize, Clone)]
pub struct Row {
    pub indicator: String,
    pub label: String,
    pub a_n: String,
    pub a_median_change: String,
    pub a_pct_rise: String,
    pub b_n: String,
    pub b_median_change: String,
    pub b_pct_rise: String,
    pub wilcoxon_p: String,
    #[serde(skip)]
    values: [Option<f64>; 4],
}

#[derive(Serialize)]
pub struct Comparison {
    pub indicator: String,
    pub id: Option<String>,
    pub cells: Vec<Cell>,
}

#[derive(Serialize)]
pub struct Cell {
    pub ours: String,
    pub paper: String,
    pub difference: String,
}

pub fn build(
    inp: &Inputs,
    indicators: &Indicators,
    published: &Published,
) -> Result<Table3Section> {
    let (primary, years) = version(inp, indicators, None)?;
    let years = years.or_else(|| {
        Some(years_range(
            inp.params.cohorts_from?,
            inp.params.cohorts_to?,
        ))
    });
    let fallback = if primary.empty && inp.has_table("cohorts", Some("fallback")) {
        Some(version(inp, indicators, Some("fallback"))?.0)
    } else {
        None
    };
    let shown = fallback.clone().unwrap_or_else(|| primary.clone());
    let comparison = published
        .cohorts
        .rows
        .iter()
        .map(|r| {
            let ours =
                r.id.as_deref()
                    .and_then(|id| shown.rows.iter().find(|o| o.indicator == id));
            let paper = [
                r.a_median_change,
                r.a_pct_rise,
                r.b_median_change,
                r.b_pct_rise,
            ];
            let cells = (0..4)
                .map(|k| {
                    let o = ours.and_then(|o| o.values[k]);
                    Cell {
                        ours: num(o, 2),
                        paper: paper[k].map_or("—".into(), |v| v.to_string()),
                        difference: difference(o, paper[k], 2),
                    }
                })
                .collect();
            Comparison {
                indicator: r.indicator.clone(),
                id: r.id.clone(),
                cells,
            }
        })
        .collect();
    Ok(Table3Section {
        years,
        primary,
        fallback,
        shown,
        comparison,
        paper_a: published.cohorts.group_a.n,
        paper_b: published.cohorts.group_b.n,
    })
}

/// One version of the table (`None`: the study's rule; `Some("fallback")`), and its years.
fn version(
    inp: &Inputs,
    indicators: &Indicators,
    table: Option<&str>,
) -> Result<(Version, Option<String>)> {
    let co = inp.table("cohorts", table)?;
    let rows = co.records_or_null::<CohortRow>(&OPTIONAL)?;
    // The first value a column holds (these are the same in every row).
    let first = |f: fn(&CohortRow) -> Option<i64>| rows.iter().find_map(f);
    let rule = if co.has("rule") {
        rows.iter().find_map(|r| r.rule.clone()).unwrap_or_default()
    } else {
        "the study's (probability > the threshold)".into()
    };
    let (a_members, b_members) = match (first(|r| r.a_members), first(|r| r.b_members)) {
        (Some(a), Some(b)) => (a, b),
        // Without member counts: the most LAs any indicator had.
        _ => (
            rows.iter().filter_map(|r| r.a_n).fold(0.0, f64::max) as i64,
            rows.iter().filter_map(|r| r.b_n).fold(0.0, f64::max) as i64,
        ),
    };
    let years = match (first(|r| r.from_year), first(|r| r.to_year)) {
        (Some(a), Some(b)) => Some(years_range(a, b)),
        _ => None,
    };
    let mut v = Version {
        rule,
        a_members,
        b_members,
        empty: a_members == 0 && b_members == 0,
        rows: Vec::new(),
        no_values: Vec::new(),
    };
    for r in rows {
        let id = r.indicator.unwrap_or_default();
        if r.a_n.unwrap_or(0.0) == 0.0 && r.b_n.unwrap_or(0.0) == 0.0 {
            v.no_values.push(id);
            continue;
        }
        v.rows.push(Row {
            label: indicators.label(&id),
            indicator: id,
            a_n: num(r.a_n, 0),
            a_median_change: num(r.a_median_change, 2),
            a_pct_rise: num(r.a_pct_rise, 0),
            b_n: num(r.b_n, 0),
            b_median_change: num(r.b_median_change, 2),
            b_pct_rise: num(r.b_pct_rise, 0),
            wilcoxon_p: super::direct::p(r.wilcoxon_p),
            values: [
                r.a_median_change,
                r.a_pct_rise,
                r.b_median_change,
                r.b_pct_rise,
            ],
        });
    }
    if v.empty {
        v.no_values.clear();
    }
    Ok((v, years))
}

/// The columns a cohorts table may lack (one from a user's own stage): then the rule is the
/// study's, and the member counts come from the indicators' counts.
const OPTIONAL: [&str; 5] = ["rule", "a_members", "b_members", "from_year", "to_year"];

/// A row of a cohorts table as the table reads it.
#[derive(serde::Deserialize)]
struct CohortRow {
    indicator: Option<String>,
    a_n: Option<f64>,
    a_median_change: Option<f64>,
    a_pct_rise: Option<f64>,
    b_n: Option<f64>,
    b_median_change: Option<f64>,
    b_pct_rise: Option<f64>,
    wilcoxon_p: Option<f64>,
    rule: Option<String>,
    a_members: Option<i64>,
    b_members: Option<i64>,
    from_year: Option<i64>,
    to_year: Option<i64>,
}
