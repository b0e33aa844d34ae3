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
    let ind = co.strings("indicator")?;
    let col = |c: &str| -> Result<Vec<Option<f64>>> { co.f64s(c) };
    let (a_n, a_med, a_pct, b_n, b_med, b_pct, p) = (
        col("a_n")?,
        col("a_median_change")?,
        col("a_pct_rise")?,
        col("b_n")?,
        col("b_median_change")?,
        col("b_pct_rise")?,
        col("wilcoxon_p")?,
    );
    let first = |c: &str| -> Result<Option<i64>> {
        Ok(if co.has(c) {
            co.i64s(c)?.into_iter().flatten().next()
        } else {
            None
        })
    };
    let rule = if co.has("rule") {
        co.strings("rule")?
            .into_iter()
            .flatten()
            .next()
            .unwrap_or_default()
    } else {
        "the study's (probability > the threshold)".into()
    };
    let (a_members, b_members) = match (first("a_members")?, first("b_members")?) {
        (Some(a), Some(b)) => (a, b),
        // Without member counts: the most LAs any indicator had.
        _ => (
            a_n.iter().flatten().fold(0.0, |m: f64, v| m.max(*v)) as i64,
            b_n.iter().flatten().fold(0.0, |m: f64, v| m.max(*v)) as i64,
        ),
    };
    let years = match (first("from_year")?, first("to_year")?) {
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
    for i in 0..co.rows() {
        let id = ind[i].clone().unwrap_or_default();
        if a_n[i].unwrap_or(0.0) == 0.0 && b_n[i].unwrap_or(0.0) == 0.0 {
            v.no_values.push(id);
            continue;
        }
        v.rows.push(Row {
            label: indicators.label(&id),
            indicator: id,
            a_n: num(a_n[i], 0),
            a_median_change: num(a_med[i], 2),
            a_pct_rise: num(a_pct[i], 0),
            b_n: num(b_n[i], 0),
            b_median_change: num(b_med[i], 2),
            b_pct_rise: num(b_pct[i], 0),
            wilcoxon_p: super::direct::p(p[i]),
            values: [a_med[i], a_pct[i], b_med[i], b_pct[i]],
        });
    }
    if v.empty {
        v.no_values.clear();
    }
    Ok((v, years))
}
