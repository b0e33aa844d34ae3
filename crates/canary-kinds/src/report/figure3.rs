//! Figure 3: Spearman correlations — the heatmap of every pair, each indicator's correlation
//! with re-referrals (the paper's figure), the pairs the study's rule keeps, and the pairs the
//! paper found or looked for and did not find, beside ours.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::charts;
use super::format::{num, years_range};
use super::input::{Indicators, Inputs};
use super::published::{NotFound, Pair, Published};
use crate::error::Result;

/// The paper's Figure 3 is about this indicator's correlations.
const FOCUS: &str = "re_referrals_pct";

#[derive(Serialize)]
pub struct Figure3Section {
    /// The years correlated, "2010–2014".
    pub years: String,
    /// The significance level the stage used.
    pub alpha: String,
    pub heatmap: String,
    pub focus: Option<Focus>,
    pub pairs: Vec<PairRow>,
    pub found: Vec<FoundRow>,
    pub not_found: Vec<NotFoundRow>,
}

#[derive(Serialize)]
pub struct Focus {
    pub indicator: String,
    pub label: String,
    pub svg: String,
}

#[derive(Serialize)]
pub struct PairRow {
    pub x: String,
    pub y: String,
    pub sign: String,
    pub years: i64,
    pub required: i64,
    pub rho: String,
}

#[derive(Serialize)]
pub struct FoundRow {
    pub x: String,
    pub y: String,
    pub paper_name: Option<String>,
    pub paper_sign: String,
    pub ours: String,
    /// "agrees", "differs", or "cannot be tested" (no year with both indicators).
    pub agreement: &'static str,
}

#[derive(Serialize)]
pub struct NotFoundRow {
    pub statement: String,
    pub tested: usize,
    /// The pairs of the statement that our rule finds correlated, "x × y (+, 3 years)".
    pub correlated: Vec<String>,
}

/// One row of `correlations_summary`.
struct Summary {
    sign: String,
    years: i64,
    required: i64,
    rho: Option<f64>,
    correlated: bool,
}

type Pairs = BTreeMap<(String, String), Summary>;

/// A pair's summary, whichever way round the table holds it.
fn get<'a>(pairs: &'a Pairs, x: &str, y: &str) -> Option<&'a Summary> {
    pairs
        .get(&(x.to_string(), y.to_string()))
        .or_else(|| pairs.get(&(y.to_string(), x.to_string())))
}

pub fn build(
    inp: &Inputs,
    indicators: &Indicators,
    published: &Published,
) -> Result<Figure3Section> {
    let pairs = summary(inp)?;
    let alpha = inp
        .stage_params::<crate::kinds::trend::CorrelateParams>("correlations")
        .map(|p| p.alpha)
        .ok_or_else(|| {
            inp.ctx
                .fail("the pipeline has no `correlate` stage named `correlations`")
        })?;
    Ok(Figure3Section {
        years: correlation_years(inp)?,
        alpha: format!("{alpha}"),
        heatmap: heatmap(&pairs),
        focus: focus(indicators, &pairs),
        pairs: pairs
            .iter()
            .filter(|(_, s)| s.correlated)
            .map(|((x, y), s)| PairRow {
                x: x.clone(),
                y: y.clone(),
                sign: s.sign.clone(),
                years: s.years,
                required: s.required,
                rho: num(s.rho, 2),
            })
            .collect(),
        found: published
            .correlations
            .found
            .iter()
            .map(|f| found_row(&pairs, f))
            .collect(),
        not_found: published
            .correlations
            .not_found
            .iter()
            .map(|n| not_found_row(&pairs, indicators, n))
            .collect(),
    })
}

/// A pair the paper found, beside ours.
fn found_row(pairs: &Pairs, f: &Pair) -> FoundRow {
    let (ours, agreement) = match get(pairs, &f.x, &f.y) {
        None => (
            "not tested: no year of these has enough LAs with both".to_string(),
            "cannot be tested",
        ),
        Some(s) => (
            format!(
                "{}, {} in {} year(s), median rho {}",
                if s.correlated { "found" } else { "not found" },
                s.sign,
                s.years,
                num(s.rho, 2)
            ),
            if s.correlated && s.sign == f.sign {
                "agrees"
            } else {
                "differs"
            },
        ),
    };
    FoundRow {
        x: f.x.clone(),
        y: f.y.clone(),
        paper_name: f.paper_name.clone(),
        paper_sign: f.sign.clone(),
        ours,
        agreement,
    }
}

/// A statement of pairs the paper did not find correlated: how many we could test, and
/// those our rule finds correlated.
fn not_found_row(pairs: &Pairs, indicators: &Indicators, n: &NotFound) -> NotFoundRow {
    let ys: Vec<String> = match n.y.as_array() {
        Some(a) => a
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        None => indicators.ids().map(str::to_string).collect(), // `all`
    };
    let combos: BTreeSet<(&String, &String)> =
        n.x.iter()
            .flat_map(|x| {
                ys.iter()
                    .filter(move |y| *y != x)
                    .map(move |y| if x < y { (x, y) } else { (y, x) })
            })
            .collect();
    let tested = combos
        .iter()
        .filter(|(x, y)| get(pairs, x, y).is_some())
        .count();
    let correlated = combos
        .iter()
        .filter_map(|(x, y)| {
            get(pairs, x, y)
                .filter(|s| s.correlated)
                .map(|s| format!("{x} × {y} ({}, {} years)", s.sign, s.years))
        })
        .collect();
    NotFoundRow {
        statement: n.statement.clone(),
        tested,
        correlated,
    }
}

fn summary(inp: &Inputs) -> Result<Pairs> {
    let cs = inp.table("correlations", Some("summary"))?;
    let mut out = BTreeMap::new();
    for p in cs.records_or_null::<SummaryRow>(&["min_years_required"])? {
        let (Some(a), Some(b)) = (p.x, p.y) else {
            continue;
        };
        out.insert(
            (a, b),
            Summary {
                sign: p.sign.unwrap_or_default(),
                years: p.years_significant.unwrap_or(0),
                required: p.min_years_required.unwrap_or(0),
                rho: p.median_rho.filter(|r| r.is_finite()),
                correlated: p.correlated == Some(true),
            },
        );
    }
    Ok(out)
}

fn correlation_years(inp: &Inputs) -> Result<String> {
    let c = inp.table("correlations", None)?;
    let years: BTreeSet<i64> = c.i64s("year")?.into_iter().flatten().collect();
    Ok(match (years.first(), years.last()) {
        (Some(a), Some(b)) => years_range(*a, *b),
        _ => "no year".into(),
    })
}

fn heatmap(pairs: &Pairs) -> String {
    let names: Vec<String> = pairs
        .keys()
        .flat_map(|(x, y)| [x.clone(), y.clone()])
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let pos = |n: &str| names.iter().position(|x| x == n).unwrap_or(0);
    let k = names.len();
    let mut values = vec![vec![f64::NAN; k]; k];
    let mut counts = vec![vec![0u32; k]; k];
    for ((x, y), s) in pairs {
        let (a, b) = (pos(x), pos(y));
        let rho = s.rho.unwrap_or(f64::NAN);
        (values[a][b], values[b][a]) = (rho, rho);
        (counts[a][b], counts[b][a]) = (s.years as u32, s.years as u32);
    }
    for (i, row) in values.iter_mut().enumerate() {
        row[i] = 1.0;
    }
    charts::heatmap(&charts::Heatmap {
        title: "Spearman correlations between indicators (median over years)".into(),
        labels: names,
        values,
        annotations: Some(counts),
        annotation_label: "years significant".into(),
        value_label: "median Spearman rho".into(),
    })
}

/// Each indicator's correlation with re-referrals, and its years significant.
fn focus(indicators: &Indicators, pairs: &Pairs) -> Option<Focus> {
    let mut with: Vec<(String, f64, i64)> = pairs
        .iter()
        .filter_map(|((x, y), s)| {
            let other = if x == FOCUS {
                y
            } else if y == FOCUS {
                x
            } else {
                return None;
            };
            Some((other.clone(), s.rho?, s.years))
        })
        .collect();
    if with.is_empty() {
        return None;
    }
    with.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    let label = indicators.label(FOCUS);
    let svg = charts::bar_chart(&charts::BarChart {
        title: format!("Correlation with {label} (median over years; years significant)"),
        x_label: format!("median Spearman rho with {label}"),
        bars: with
            .iter()
            .map(|(n, r, k)| charts::Bar {
                label: format!("{n} ({k})"),
                value: *r,
            })
            .collect(),
        decimals: 2,
        plot_width: 0.0,
    });
    Some(Focus {
        indicator: FOCUS.into(),
        label,
        svg,
    })
}

/// A row of the correlations' summary as the figure reads it.
#[derive(serde::Deserialize)]
struct SummaryRow {
    x: Option<String>,
    y: Option<String>,
    years_significant: Option<i64>,
    sign: Option<String>,
    median_rho: Option<f64>,
    correlated: Option<bool>,
    /// Optional: a summary without it reads as 0.
    min_years_required: Option<i64>,
}
