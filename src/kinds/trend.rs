//! `trend` and `correlate`: the study's Figure 2 (national medians with IQR per indicator and
//! year) and Figure 3 (Spearman correlations per year, and which pairs are significant in
//! enough years). Both read the long panel `(la_code, year, indicator, value)`.

use std::collections::{BTreeMap, BTreeSet};

use super::columns::{TableBuilder, TableData};
use super::{OutputTable, ParamSpec, ParamType, StageContext, StageKind};
use crate::error::Result;
use crate::pipeline::Stage;
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

fn read_panel(ctx: &StageContext, group: Option<&str>) -> Result<Panel> {
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
    let wanted: Option<BTreeSet<String>> =
        ctx.param("indicators").and_then(|v| v.as_array()).map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        });
    // A name in `indicators` that the panel does not hold is a typo, not a filter.
    if let Some(w) = &wanted {
        let present: BTreeSet<&str> = indicators.iter().flatten().map(String::as_str).collect();
        super::names_in_input(
            ctx,
            "indicators",
            w.iter().map(String::as_str),
            &present,
            input,
        )?;
        if let Some(m) = ctx.param("min_years_for").and_then(|v| v.as_object()) {
            super::names_in_input(
                ctx,
                "min_years_for",
                m.keys().map(String::as_str),
                &present,
                input,
            )?;
        }
    } else if let Some(m) = ctx.param("min_years_for").and_then(|v| v.as_object()) {
        let present: BTreeSet<&str> = indicators.iter().flatten().map(String::as_str).collect();
        super::names_in_input(
            ctx,
            "min_years_for",
            m.keys().map(String::as_str),
            &present,
            input,
        )?;
    }
    let from = ctx.param_i64("from_year").unwrap_or(i64::MIN);
    let to = ctx.param_i64("to_year").unwrap_or(i64::MAX);
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

const SELECT_PARAMS: [ParamSpec; 3] = [
    ParamSpec {
        name: "indicators",
        ty: ParamType::StringList,
        required: false,
        help: "indicator ids to include (default: all in the panel)",
    },
    ParamSpec {
        name: "from_year",
        ty: ParamType::Integer,
        required: false,
        help: "first year to include",
    },
    ParamSpec {
        name: "to_year",
        ty: ParamType::Integer,
        required: false,
        help: "last year to include",
    },
];

// ---- trend ----

pub struct Trend;

const TREND_PARAMS: &[ParamSpec] = &[
    SELECT_PARAMS[0],
    SELECT_PARAMS[1],
    SELECT_PARAMS[2],
    ParamSpec {
        name: "group",
        ty: ParamType::String,
        required: false,
        help: "a column of the input to group LAs by (e.g. an Ofsted grade); rows without one are left out",
    },
];

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
    fn params(&self) -> &'static [ParamSpec] {
        TREND_PARAMS
    }
    fn run(&self, ctx: &StageContext) -> Result<Vec<OutputTable>> {
        let group = ctx.param_str("group");
        let panel = read_panel(ctx, group)?;
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

const CORRELATE_PARAMS: &[ParamSpec] = &[
    SELECT_PARAMS[0],
    SELECT_PARAMS[1],
    SELECT_PARAMS[2],
    ParamSpec {
        name: "alpha",
        ty: ParamType::Number,
        required: false,
        help: "significance level (default 0.05, the study's)",
    },
    ParamSpec {
        name: "min_years",
        ty: ParamType::Integer,
        required: false,
        help: "a pair counts as correlated when significant in at least this many years (default 3, the study's rule for CIN indicators)",
    },
    ParamSpec {
        name: "min_years_for",
        ty: ParamType::Any,
        required: false,
        help: "a lower `min_years` for indicators with few years, e.g. `{vacancy_rate_pct: 2}` (the study's rule for workforce indicators); a pair takes the smaller of its two",
    },
    ParamSpec {
        name: "min_n",
        ty: ParamType::Integer,
        required: false,
        help: "fewest pairwise-complete LAs for a test (default 10)",
    },
];

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
    fn params(&self) -> &'static [ParamSpec] {
        CORRELATE_PARAMS
    }
    fn tables(&self, _stage: &Stage) -> Vec<String> {
        vec![String::new(), "summary".into()]
    }
    fn check(&self, stage: &Stage) -> std::result::Result<(), String> {
        if let Some(v) = stage.params.get("min_years_for") {
            let ok = v
                .as_object()
                .is_some_and(|m| m.values().all(|x| x.is_i64()));
            if !ok {
                return Err(
                    "param `min_years_for` must map indicator ids to whole numbers of years".into(),
                );
            }
        }
        if let Some(a) = stage.params.get("alpha").and_then(|v| v.as_f64()) {
            if !(a > 0.0 && a < 1.0) {
                return Err(format!("param `alpha` must be between 0 and 1, not {a}"));
            }
        }
        Ok(())
    }
    fn run(&self, ctx: &StageContext) -> Result<Vec<OutputTable>> {
        let alpha = ctx.param_f64("alpha").unwrap_or(0.05);
        let min_years = ctx.param_i64("min_years").unwrap_or(3);
        let min_n = ctx.param_i64("min_n").unwrap_or(10).max(3) as usize;
        let min_for: BTreeMap<String, i64> = ctx
            .param("min_years_for")
            .and_then(|v| v.as_object())
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.as_i64()?)))
                    .collect()
            })
            .unwrap_or_default();
        let panel = read_panel(ctx, None)?;

        // Per year: one column per indicator over the LAs seen that year (NaN = missing).
        let mut by_year: BTreeMap<i32, BTreeMap<String, BTreeMap<String, f64>>> = BTreeMap::new();
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
        struct Row {
            year: i32,
            x: String,
            y: String,
            n: usize,
            rho: f64,
            p: f64,
        }
        let mut rows: Vec<Row> = Vec::new();
        for (year, cols) in &by_year {
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
                            rows.push(Row {
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
        let table = TableBuilder::new()
            .i32("year", rows.iter().map(|r| r.year).collect())
            .str("x", rows.iter().map(|r| r.x.clone()).collect())
            .str("y", rows.iter().map(|r| r.y.clone()).collect())
            .i64("n", rows.iter().map(|r| r.n as i64).collect())
            .f64("rho", rows.iter().map(|r| Some(r.rho)).collect())
            .f64("p", rows.iter().map(|r| Some(r.p)).collect())
            .build(None)?;

        // Summary per pair: in how many years tested and significant, with which sign.
        let mut pairs: BTreeMap<(String, String), Vec<&Row>> = BTreeMap::new();
        for r in &rows {
            pairs.entry((r.x.clone(), r.y.clone())).or_default().push(r);
        }
        let need_of = |x: &str, y: &str| -> i64 {
            min_for
                .get(x)
                .copied()
                .unwrap_or(min_years)
                .min(min_for.get(y).copied().unwrap_or(min_years))
        };
        let mut s: Vec<PairSummary> = Vec::new();
        for ((x, y), rs) in pairs {
            let sig: Vec<&&Row> = rs.iter().filter(|r| r.p < alpha).collect();
            let pos = sig.iter().filter(|r| r.rho > 0.0).count() as i64;
            let neg = sig.len() as i64 - pos;
            let sign = match (pos, neg) {
                (0, 0) => "",
                (_, 0) => "+",
                (0, _) => "-",
                _ => "mixed",
            };
            let need = need_of(&x, &y);
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
        let summary = TableBuilder::new()
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
                s.iter().map(|r| need_of(&r.0, &r.1)).collect(),
            )
            .bool("correlated", s.iter().map(|r| Some(r.8)).collect())
            .build(Some("summary"))?;
        Ok(vec![table, summary])
    }
}

/// A pair's summary row: x, y, years tested, significant, positive, negative, sign, median rho, correlated.
type PairSummary = (String, String, i64, i64, i64, i64, String, f64, bool);

/// A row of `trends`: indicator, year, group, n, [median, q1, q3].
type TrendRow = (String, i32, Option<String>, usize, [f64; 3]);
