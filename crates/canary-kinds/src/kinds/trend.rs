//! `trend` and `correlate`: the study's Figure 2 (national medians with IQR per indicator and
//! year) and Figure 3 (Spearman correlations per year, and which pairs are significant in
//! enough years). Both read the long panel `(la_code, year, indicator, value)`.

use std::collections::{BTreeMap, BTreeSet};

use crate::pipeline::KindSpec;
use crate::stage::columns::{TableBuilder, TableData};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::error::Result;
use crate::params::{self, int, KindParams};
use crate::pipeline::Stage;
use crate::stage::TableDoc;
use crate::stage::{OutputTable, StageContext, StageKind};
use crate::stats::distributions::Alternative;
use crate::stats::quantile::five_number;
use crate::stats::spearman::spearman_all_pairs;

/// The long panel of the stage's first input, filtered by the `indicators`/`from_year`/
/// `to_year` params: `(indicator, year, la_code, group) → value`, values missing skipped.
struct Panel {
    cells: BTreeMap<(String, i32), Vec<Cell>>,
}

/// One LA's value: la_code, group, value.
type Cell = (String, Option<String>, f64);

/// Which of the panel a stage reads: the params `trend` and `correlate` share.
struct Selection<'a> {
    indicators: Option<&'a [String]>,
    from_year: Option<i64>,
    to_year: Option<i64>,
    group: Option<&'a str>,
    /// Indicator names that must be in the panel too (`min_years_for`).
    named: Vec<&'a str>,
}

fn read_panel(ctx: &StageContext, sel: &Selection) -> Result<Panel> {
    let group = sel.group;
    let input = ctx
        .stage
        .inputs
        .first()
        .ok_or_else(|| ctx.fail("needs the panel as its input"))?;
    let (schema, batches) = ctx.read_table(input, None)?;
    let t = TableData::new(&format!("input `{input}`"), schema, &batches)?;
    let indicators = t.strings("indicator")?;
    let years = t.i64s("year")?;
    let las = t.strings("la_code")?;
    let values = t.f64s("value")?;
    let groups = match group {
        Some(g) => t.strings(g)?,
        None => vec![None; t.rows()],
    };
    let wanted: Option<BTreeSet<String>> = sel.indicators.map(|a| a.iter().cloned().collect());
    // A name in `indicators` (or `min_years_for`) that the panel does not hold is a typo, not
    // a filter.
    let present: BTreeSet<&str> = indicators.iter().flatten().map(String::as_str).collect();
    if let Some(w) = &wanted {
        crate::stage::names_in_input(
            ctx,
            "indicators",
            w.iter().map(String::as_str),
            &present,
            input,
        )?;
    }
    crate::stage::names_in_input(
        ctx,
        "min_years_for",
        sel.named.iter().copied(),
        &present,
        input,
    )?;
    let from = sel.from_year.unwrap_or(i64::MIN);
    let to = sel.to_year.unwrap_or(i64::MAX);
    let mut cells: BTreeMap<(String, i32), Vec<Cell>> = BTreeMap::new();
    for i in 0..t.rows() {
        let (Some(ind), Some(year), Some(la), Some(v)) =
            (&indicators[i], years[i], &las[i], values[i])
        else {
            continue;
        };
        if year < from
            || year > to
            || wanted.as_ref().is_some_and(|w| !w.contains(ind))
            || !v.is_finite()
        {
            continue;
        }
        if group.is_some() && groups[i].is_none() {
            continue;
        }
        cells.entry((ind.clone(), year as i32)).or_default().push((
            la.clone(),
            groups[i].clone(),
            v,
        ));
    }
    Ok(Panel { cells })
}

// ---- trend ----

pub struct Trend;

/// The params of a `trend` stage.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct TrendParams {
    /// indicator ids to include (none: all in the panel)
    pub indicators: Option<Vec<String>>,
    /// first year to include (none: the panel's first)
    pub from_year: Option<i64>,
    /// last year to include (none: the panel's last)
    pub to_year: Option<i64>,
    /// a column of the input to group LAs by (e.g. an Ofsted grade); rows without one are
    /// left out
    pub group: Option<String>,
}

impl KindSpec for Trend {
    fn params(&self) -> &KindParams {
        static P: params::Lazy = params::Lazy::new(KindParams::of::<TrendParams>);
        &P
    }
}

impl StageKind for Trend {
    fn name(&self) -> &'static str {
        "trend"
    }

    fn version(&self) -> u32 {
        1
    }

    fn describe(&self) -> &'static str {
        "per indicator and year: n, median, q1, q3 over LAs (R quantile type 7), optionally by group"
    }

    fn outputs(&self) -> &'static [TableDoc] {
        &[TableDoc {
            name: "",
            columns: &["indicator", "year", "n", "median", "q1", "q3", "[group]"],
        }]
    }

    fn run(&self, ctx: &StageContext) -> Result<Vec<OutputTable>> {
        let p: TrendParams = ctx.params()?;
        let group = p.group.as_deref();
        let panel = read_panel(
            ctx,
            &Selection {
                indicators: p.indicators.as_deref(),
                from_year: p.from_year,
                to_year: p.to_year,
                group,
                named: Vec::new(),
            },
        )?;
        // indicator, year, group, n, median, q1, q3
        let mut rows: Vec<TrendRow> = Vec::new();
        for ((ind, year), cells) in &panel.cells {
            let mut by_group: BTreeMap<Option<String>, Vec<f64>> = BTreeMap::new();
            for (_, g, v) in cells {
                by_group.entry(g.clone()).or_default().push(*v);
            }
            for (g, values) in by_group {
                let f = five_number(&values);
                rows.push((ind.clone(), *year, g, f.n, [f.median, f.q1, f.q3]));
            }
        }
        let mut t = TableBuilder::new()
            .str("indicator", rows.iter().map(|r| r.0.clone()).collect())
            .i32("year", rows.iter().map(|r| r.1).collect())
            .i64("n", rows.iter().map(|r| r.3 as i64).collect())
            .f64("median", rows.iter().map(|r| Some(r.4[0])).collect())
            .f64("q1", rows.iter().map(|r| Some(r.4[1])).collect())
            .f64("q3", rows.iter().map(|r| Some(r.4[2])).collect());
        if group.is_some() {
            t = t.opt_str("group", rows.iter().map(|r| r.2.clone()).collect());
        }
        Ok(vec![t.build(None)?])
    }
}

// ---- correlate ----

pub struct Correlate;

/// The params of a `correlate` stage.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CorrelateParams {
    /// indicator ids to include (none: all in the panel)
    pub indicators: Option<Vec<String>>,
    /// first year to include (none: the panel's first)
    pub from_year: Option<i64>,
    /// last year to include (none: the panel's last)
    pub to_year: Option<i64>,
    /// significance level (0.05 is the study's)
    #[serde(default = "five_percent")]
    #[schemars(range(min = 0.0, max = 1.0))]
    pub alpha: f64,
    /// a pair counts as correlated when significant in at least this many years (3 is the
    /// study's rule for CIN indicators)
    #[serde(default = "int::<3>")]
    #[schemars(range(min = 1))]
    pub min_years: i64,
    /// a lower `min_years` for indicators with few years, e.g. `{vacancy_rate_pct: 2}` (the
    /// study's rule for workforce indicators); a pair takes the smaller of its two
    #[serde(default)]
    pub min_years_for: BTreeMap<String, i64>,
    /// fewest pairwise-complete LAs for a test (cor.test needs 3)
    #[serde(default = "int::<10>")]
    #[schemars(range(min = 3))]
    pub min_n: i64,
}

fn five_percent() -> f64 {
    0.05
}

impl KindSpec for Correlate {
    fn params(&self) -> &KindParams {
        static P: params::Lazy = params::Lazy::new(KindParams::of::<CorrelateParams>);
        &P
    }

    fn tables(&self, _stage: &Stage) -> Vec<String> {
        vec![String::new(), "summary".into()]
    }

    fn check(&self, stage: &Stage) -> std::result::Result<(), String> {
        let p: CorrelateParams = stage.params_as()?;
        if !(p.alpha > 0.0 && p.alpha < 1.0) {
            return Err(format!(
                "param `alpha` must be between 0 and 1, not {}",
                p.alpha
            ));
        }
        Ok(())
    }
}

impl StageKind for Correlate {
    fn name(&self) -> &'static str {
        "correlate"
    }

    fn version(&self) -> u32 {
        1
    }

    fn describe(&self) -> &'static str {
        "Spearman's rho for every pair of indicators per year, p-values as R's cor.test, and the pairs significant in enough years"
    }

    fn outputs(&self) -> &'static [TableDoc] {
        &[
            TableDoc {
                name: "",
                columns: &["year", "x", "y", "n", "rho", "p"],
            },
            TableDoc {
                name: "summary",
                columns: &[
                    "x",
                    "y",
                    "years_tested",
                    "years_significant",
                    "years_positive",
                    "years_negative",
                    "sign",
                    "median_rho",
                    "min_years_required",
                    "correlated",
                ],
            },
        ]
    }

    fn run(&self, ctx: &StageContext) -> Result<Vec<OutputTable>> {
        let p: CorrelateParams = ctx.params()?;
        let (alpha, min_years, min_n) = (p.alpha, p.min_years, p.min_n as usize);
        let min_for = &p.min_years_for;
        let panel = read_panel(
            ctx,
            &Selection {
                indicators: p.indicators.as_deref(),
                from_year: p.from_year,
                to_year: p.to_year,
                group: None,
                named: min_for.keys().map(String::as_str).collect(),
            },
        )?;
        let rows = correlations(&by_year(&panel), min_n);
        let table = correlations_table(&rows)?;
        let need = MinYears {
            default: min_years,
            by_indicator: min_for,
        };
        let s = pair_summaries(&rows, alpha, &need);
        Ok(vec![table, summary_table(&s, &need)?])
    }
}

/// Per year: one column per indicator over the LAs seen that year (NaN = missing).
type ByYear = BTreeMap<i32, BTreeMap<String, BTreeMap<String, f64>>>;

/// The panel's values by year, indicator and LA.
fn by_year(panel: &Panel) -> ByYear {
    let mut by_year: ByYear = BTreeMap::new();
    for ((ind, year), cells) in &panel.cells {
        let col = by_year
            .entry(*year)
            .or_default()
            .entry(ind.clone())
            .or_default();
        for (la, _, v) in cells {
            col.insert(la.clone(), *v);
        }
    }
    by_year
}

/// One pair's Spearman correlation in one year.
struct Correlation {
    year: i32,
    x: String,
    y: String,
    n: usize,
    rho: f64,
    p: f64,
}

/// Every pair of indicators tested in every year, kept where enough LAs have both and rho
/// is defined.
fn correlations(by_year: &ByYear, min_n: usize) -> Vec<Correlation> {
    let mut rows: Vec<Correlation> = Vec::new();
    for (year, cols) in by_year {
        let las: BTreeSet<&String> = cols.values().flat_map(|c| c.keys()).collect();
        let names: Vec<&String> = cols.keys().collect();
        let data: Vec<Vec<f64>> = names
            .iter()
            .map(|n| {
                las.iter()
                    .map(|la| cols[*n].get(*la).copied().unwrap_or(f64::NAN))
                    .collect()
            })
            .collect();
        let refs: Vec<&[f64]> = data.iter().map(|v| v.as_slice()).collect();
        let tests = spearman_all_pairs(&refs, Alternative::TwoSided);
        let mut k = 0;
        for i in 0..names.len() {
            for j in i + 1..names.len() {
                if let Some(t) = &tests[k] {
                    if t.n >= min_n && t.rho.is_finite() {
                        rows.push(Correlation {
                            year: *year,
                            x: names[i].clone(),
                            y: names[j].clone(),
                            n: t.n,
                            rho: t.rho,
                            p: t.p_value,
                        });
                    }
                }
                k += 1;
            }
        }
    }
    rows
}

/// The main table: a row per year and pair tested.
fn correlations_table(rows: &[Correlation]) -> Result<OutputTable> {
    TableBuilder::new()
        .i32("year", rows.iter().map(|r| r.year).collect())
        .str("x", rows.iter().map(|r| r.x.clone()).collect())
        .str("y", rows.iter().map(|r| r.y.clone()).collect())
        .i64("n", rows.iter().map(|r| r.n as i64).collect())
        .f64("rho", rows.iter().map(|r| Some(r.rho)).collect())
        .f64("p", rows.iter().map(|r| Some(r.p)).collect())
        .build(None)
}

/// The years a pair must be significant in: `min_years`, or the smaller of its two
/// indicators' `min_years_for`.
struct MinYears<'a> {
    default: i64,
    by_indicator: &'a BTreeMap<String, i64>,
}

impl MinYears<'_> {
    /// The years the pair (x, y) needs.
    fn of(&self, x: &str, y: &str) -> i64 {
        let (min_for, min_years) = (self.by_indicator, self.default);
        min_for
            .get(x)
            .copied()
            .unwrap_or(min_years)
            .min(min_for.get(y).copied().unwrap_or(min_years))
    }
}

/// Summary per pair: in how many years tested and significant, with which sign.
fn pair_summaries(rows: &[Correlation], alpha: f64, need_of: &MinYears) -> Vec<PairSummary> {
    let mut pairs: BTreeMap<(String, String), Vec<&Correlation>> = BTreeMap::new();
    for r in rows {
        pairs.entry((r.x.clone(), r.y.clone())).or_default().push(r);
    }
    let mut s: Vec<PairSummary> = Vec::new();
    for ((x, y), rs) in pairs {
        let sig: Vec<&&Correlation> = rs.iter().filter(|r| r.p < alpha).collect();
        let pos = sig.iter().filter(|r| r.rho > 0.0).count() as i64;
        let neg = sig.len() as i64 - pos;
        let sign = match (pos, neg) {
            (0, 0) => "",
            (_, 0) => "+",
            (0, _) => "-",
            _ => "mixed",
        };
        let need = need_of.of(&x, &y);
        let mut rhos: Vec<f64> = rs.iter().map(|r| r.rho).collect();
        rhos.sort_by(f64::total_cmp);
        let median = crate::stats::quantile::median(&rhos);
        let meets = sign != "mixed" && (pos.max(neg)) >= need;
        s.push((
            x,
            y,
            rs.len() as i64,
            sig.len() as i64,
            pos,
            neg,
            sign.to_string(),
            median,
            meets,
        ));
    }
    s
}

/// The `summary` table: a row per pair.
fn summary_table(s: &[PairSummary], need_of: &MinYears) -> Result<OutputTable> {
    TableBuilder::new()
        .str("x", s.iter().map(|r| r.0.clone()).collect())
        .str("y", s.iter().map(|r| r.1.clone()).collect())
        .i64("years_tested", s.iter().map(|r| r.2).collect())
        .i64("years_significant", s.iter().map(|r| r.3).collect())
        .i64("years_positive", s.iter().map(|r| r.4).collect())
        .i64("years_negative", s.iter().map(|r| r.5).collect())
        .str("sign", s.iter().map(|r| r.6.clone()).collect())
        .f64("median_rho", s.iter().map(|r| Some(r.7)).collect())
        .i64(
            "min_years_required",
            s.iter().map(|r| need_of.of(&r.0, &r.1)).collect(),
        )
        .bool("correlated", s.iter().map(|r| Some(r.8)).collect())
        .build(Some("summary"))
}

/// A pair's summary row: x, y, years tested, significant, positive, negative, sign, median rho, correlated.
type PairSummary = (String, String, i64, i64, i64, i64, String, f64, bool);

/// A row of `trends`: indicator, year, group, n, [median, q1, q3].
type TrendRow = (String, i32, Option<String>, usize, [f64; 3]);
