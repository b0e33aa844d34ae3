//! Figure 2: the national trends — one small chart per indicator (median and IQR of LAs),
//! grouped by Friedman quadrant — and the paper's statements about them beside the medians
//! we find over the years each statement covers.

use std::collections::BTreeMap;

use serde::Serialize;

use super::charts::{self, TrendPoint};
use super::format::{num, short, unit_label, years_range};
use super::input::{Indicators, Inputs};
use super::published::Published;
use crate::error::Result;

#[derive(Serialize)]
pub struct Figure2Section {
    pub quadrants: Vec<Quadrant>,
    pub statements: Vec<Statement>,
}

#[derive(Serialize)]
pub struct Quadrant {
    pub name: String,
    pub svg: String,
    /// The SVG file beside the Markdown report.
    pub file: String,
}

#[derive(Serialize)]
pub struct Statement {
    pub indicators: Vec<String>,
    pub paper: String,
    /// Per indicator, what our medians do over the statement's years.
    pub ours: Vec<String>,
}

pub fn build(
    inp: &Inputs,
    indicators: &Indicators,
    published: &Published,
) -> Result<Figure2Section> {
    let points = trend_points(inp)?;
    let statements = published
        .trends
        .iter()
        .map(|t| {
            let span = t.checks.iter().flat_map(|c| c.span.iter().copied()).fold(
                None,
                |acc: Option<(i64, i64)>, y| {
                    Some(acc.map_or((y, y), |(a, b)| (a.min(y), b.max(y))))
                },
            );
            let ids = t.ids();
            let ours = ids
                .iter()
                .map(|id| {
                    ours_over(
                        indicators,
                        id,
                        points.get(id).map(Vec::as_slice).unwrap_or_default(),
                        span,
                    )
                })
                .collect();
            Statement {
                indicators: ids,
                paper: t.statement.clone(),
                ours,
            }
        })
        .collect();
    let mut by_quadrant: BTreeMap<String, Vec<charts::TrendChart>> = BTreeMap::new();
    for (id, pts) in points {
        let info = indicators.by_id.get(&id).cloned().unwrap_or_default();
        let chart = charts::TrendChart {
            // Small multiples sit three abreast: a long label wraps onto a second line.
            title: indicators.label(&id),
            x_label: "year (ending 31 March)".into(),
            y_label: unit_label(&info.unit),
            series: vec![charts::TrendSeries {
                name: "median, IQR of LAs".into(),
                points: pts,
            }],
            breaks: info
                .breaks
                .iter()
                .skip(1)
                .map(|(y, note)| charts::DefinitionBreak {
                    year: *y as f64 - 0.5,
                    label: short(note),
                })
                .collect(),
            ..Default::default()
        };
        by_quadrant
            .entry(info.quadrant.clone())
            .or_default()
            .push(chart);
    }
    let quadrants = by_quadrant
        .iter()
        .enumerate()
        .map(|(i, (q, cs))| Quadrant {
            name: q.replace('_', " "),
            svg: charts::trend_grid(cs, 3),
            file: format!("figures/figure2_{}.svg", i + 1),
        })
        .collect();
    Ok(Figure2Section {
        quadrants,
        statements,
    })
}

/// indicator → its yearly medians and IQR, in year order.
fn trend_points(inp: &Inputs) -> Result<BTreeMap<String, Vec<TrendPoint>>> {
    let mut points: BTreeMap<String, Vec<TrendPoint>> = BTreeMap::new();
    for t in inp.table("trends", None)?.records::<Trend>()? {
        if let (Some(ind), Some(y), Some(m), Some(a), Some(b)) =
            (t.indicator, t.year, t.median, t.q1, t.q3)
        {
            points.entry(ind).or_default().push(TrendPoint {
                year: y as i32,
                median: m,
                q1: a,
                q3: b,
            });
        }
    }
    for p in points.values_mut() {
        p.sort_by_key(|p| p.year);
    }
    Ok(points)
}

/// What our medians do over `span` (the years the statement covers; all years without one).
fn ours_over(
    indicators: &Indicators,
    id: &str,
    pts: &[TrendPoint],
    span: Option<(i64, i64)>,
) -> String {
    let label = indicators.label(id);
    let (from, to) = span.unwrap_or((i64::MIN, i64::MAX));
    let inside: Vec<&TrendPoint> = pts
        .iter()
        .filter(|p| (from..=to).contains(&(p.year as i64)))
        .collect();
    let (Some(a), Some(b)) = (inside.first(), inside.last()) else {
        let held = match (pts.first(), pts.last()) {
            (Some(a), Some(b)) => format!(
                "the panel's medians run {}",
                years_range(a.year as i64, b.year as i64)
            ),
            _ => "the panel has no median of it".into(),
        };
        let covered = span
            .map(|(a, b)| format!(" for {}", years_range(a, b)))
            .unwrap_or_default();
        return format!("{label}: no median{covered}; {held}");
    };
    let change = if b.median > a.median {
        "rose"
    } else if b.median < a.median {
        "fell"
    } else {
        "was unchanged"
    };
    format!(
        "{label}: median {} in {} → {} in {} ({change})",
        num(Some(a.median), 1),
        a.year,
        num(Some(b.median), 1),
        b.year
    )
}

/// A row of the trends table as the figure reads it.
#[derive(serde::Deserialize)]
struct Trend {
    indicator: Option<String>,
    year: Option<i64>,
    median: Option<f64>,
    q1: Option<f64>,
    q3: Option<f64>,
}
