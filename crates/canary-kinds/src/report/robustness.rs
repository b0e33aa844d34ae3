//! How robust Table 2 is: across the sweep's fits (fold seeds × alpha × the handling of
//! missing values), how often cross-validation keeps the intercept alone, how often each
//! predictor is selected at lambda.min, and the spread of dev.ratio and CV AUC among the fits
//! that kept a predictor — the intercept-only fits counted apart, since their dev.ratio is 0
//! by construction and their out-of-fold AUC measures only the folds' differing prevalences.
//! Beside it, the path of the study's own fit: the order predictors enter, and the fit at the
//! paper's sparsity, which is *not* the cross-validated choice.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::charts;
use super::format::{num, pct, share};
use super::input::{Indicators, Inputs, SWEEP};
use crate::error::Result;
use crate::pipeline::Sweep;

#[derive(Serialize)]
pub struct RobustnessSection {
    pub sweep_stage: &'static str,
    /// None when the report does not read the sweep.
    pub sweep: Option<SweepSummary>,
    pub path: PathSummary,
}

#[derive(Serialize)]
pub struct SweepSummary {
    pub cells: usize,
    pub axes: Vec<Axis>,
    pub intercept_only: Count,
    /// Intercept-only fits by the value of each swept param with few values.
    pub by: Vec<Breakdown>,
    pub with_predictors: usize,
    pub selection: Vec<Selection>,
    /// The predictors some fit selected, most often first.
    pub selected_any: Vec<Selection>,
    pub selection_svg: String,
    pub selection_series: Option<String>,
    pub dev_ratio: Option<Spread>,
    pub cv_auc: Option<Spread>,
    pub intercept_only_cv_auc: Option<Spread>,
}

#[derive(Serialize)]
pub struct Axis {
    pub param: String,
    pub values: String,
    pub count: usize,
}

#[derive(Serialize, Clone)]
pub struct Count {
    pub count: usize,
    pub of: usize,
    pub pct: String,
}

impl Count {
    fn new(count: usize, of: usize) -> Count {
        Count {
            count,
            of,
            pct: share(count, of),
        }
    }
}

#[derive(Serialize)]
pub struct Breakdown {
    pub param: String,
    pub rows: Vec<BreakdownRow>,
}

#[derive(Serialize)]
pub struct BreakdownRow {
    pub value: String,
    pub intercept_only: Count,
}

#[derive(Serialize, Clone)]
pub struct Selection {
    pub term: String,
    pub label: String,
    pub selected: Count,
}

#[derive(Serialize)]
pub struct Spread {
    pub n: usize,
    pub min: String,
    pub median: String,
    pub max: String,
}

impl Spread {
    fn of(values: &[f64], decimals: usize) -> Option<Spread> {
        let v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
        let (lo, hi) = (
            v.iter().copied().reduce(f64::min)?,
            v.iter().copied().reduce(f64::max)?,
        );
        Some(Spread {
            n: v.len(),
            min: num(Some(lo), decimals),
            median: num(super::format::median(&v), decimals),
            max: num(Some(hi), decimals),
        })
    }
}

/// One fit of the sweep: its swept values (as text, in the sweep's param order) and results.
struct Cell {
    values: Vec<String>,
    intercept_only: bool,
    dev_ratio: Option<f64>,
    cv_auc: Option<f64>,
}

pub fn build(inp: &Inputs, indicators: &Indicators) -> Result<RobustnessSection> {
    let sweep = if inp.reads(SWEEP) {
        Some(sweep(inp, indicators)?)
    } else {
        None
    };
    Ok(RobustnessSection {
        sweep_stage: SWEEP,
        sweep,
        path: path(inp, indicators)?,
    })
}

/// The swept params, in the stacked tables' column order.
fn swept_params(inp: &Inputs) -> Vec<String> {
    match inp
        .ctx
        .pipeline
        .stages
        .get(SWEEP)
        .and_then(|s| s.sweep.as_ref())
    {
        Some(Sweep::Stack { params, .. }) => params.clone(),
        _ => Vec::new(),
    }
}

fn sweep(inp: &Inputs, indicators: &Indicators) -> Result<SweepSummary> {
    let params = swept_params(inp);
    let cells = read_cells(inp, &params)?;
    let n = cells.len();
    let distinct: Vec<Vec<String>> = (0..params.len())
        .map(|j| sorted(cells.iter().map(|c| c.values[j].clone())))
        .collect();
    let axes = params
        .iter()
        .zip(&distinct)
        .map(|(p, d)| Axis {
            param: p.clone(),
            values: axis_values(d),
            count: d.len(),
        })
        .collect();
    // The bars are split by the first swept param with two to four values (fold seeds aside).
    let series = params
        .iter()
        .enumerate()
        .find(|(j, p)| *p != "seed" && (2..=4).contains(&distinct[*j].len()))
        .map(|(j, _)| j);
    let (selection, selection_svg) = selection(
        inp,
        indicators,
        &params,
        &cells,
        series.map(|j| (j, &distinct[j])),
    )?;
    let kept: Vec<&Cell> = cells.iter().filter(|c| !c.intercept_only).collect();
    let alone: Vec<&Cell> = cells.iter().filter(|c| c.intercept_only).collect();
    let spread = |of: &[&Cell], value: fn(&Cell) -> Option<f64>, decimals| {
        Spread::of(
            &of.iter().filter_map(|c| value(c)).collect::<Vec<_>>(),
            decimals,
        )
    };
    Ok(SweepSummary {
        cells: n,
        axes,
        intercept_only: Count::new(alone.len(), n),
        by: breakdowns(&params, &distinct, &cells),
        with_predictors: kept.len(),
        selected_any: selection
            .iter()
            .filter(|s| s.selected.count > 0)
            .cloned()
            .collect(),
        selection,
        selection_svg,
        selection_series: series.map(|j| params[j].clone()),
        dev_ratio: spread(&kept, |c| c.dev_ratio, 3),
        cv_auc: spread(&kept, |c| c.cv_auc, 2),
        intercept_only_cv_auc: spread(&alone, |c| c.cv_auc, 2),
    })
}

/// One `Cell` per row of the sweep's summary.
fn read_cells(inp: &Inputs, params: &[String]) -> Result<Vec<Cell>> {
    let sm = inp.table(SWEEP, Some("summary"))?;
    let values: Vec<Vec<Option<String>>> = params
        .iter()
        .map(|p| sm.strings(p))
        .collect::<Result<_>>()?;
    Ok(sm
        .records::<rows::SweepCell>()?
        .into_iter()
        .enumerate()
        .map(|(i, c)| Cell {
            values: values.iter().map(|v| norm(v[i].clone())).collect(),
            intercept_only: c.intercept_only == Some(true),
            dev_ratio: c.dev_ratio,
            cv_auc: c.cv_auc,
        })
        .collect())
}

/// Intercept-only fits by the value of each swept param with two to twelve values.
fn breakdowns(params: &[String], distinct: &[Vec<String>], cells: &[Cell]) -> Vec<Breakdown> {
    params
        .iter()
        .enumerate()
        // Fold seeds are the noise the sweep averages over, not a choice: no breakdown by them.
        .filter(|(j, p)| *p != "seed" && (2..=12).contains(&distinct[*j].len()))
        .map(|(j, p)| Breakdown {
            param: p.clone(),
            rows: distinct[j]
                .iter()
                .map(|v| {
                    let of: Vec<&Cell> = cells.iter().filter(|c| &c.values[j] == v).collect();
                    BreakdownRow {
                        value: v.clone(),
                        intercept_only: Count::new(
                            of.iter().filter(|c| c.intercept_only).count(),
                            of.len(),
                        ),
                    }
                })
                .collect(),
        })
        .collect()
}

/// The distinct values, numbers in numeric order.
fn sorted(values: impl Iterator<Item = String>) -> Vec<String> {
    let mut v: Vec<String> = values.collect::<BTreeSet<_>>().into_iter().collect();
    v.sort_by(|a, b| {
        a.parse::<f64>()
            .ok()
            .zip(b.parse::<f64>().ok())
            .map_or_else(|| a.cmp(b), |(x, y)| x.total_cmp(&y))
    });
    v
}

/// Integer values as ranges ("1..100"), others listed (in the order given).
fn axis_values(values: &[String]) -> String {
    let ints: Option<Vec<i64>> = values.iter().map(|v| v.parse().ok()).collect();
    match ints {
        Some(v) if v.len() > 3 => super::format::int_ranges(&v),
        _ => values.join(", "),
    }
}

/// A swept value as text, numbers as Rust writes them (`1.0` → `1`), so that the summary's
/// and the coefficients' columns (and the appendix) agree.
fn norm(v: Option<String>) -> String {
    let v = v.unwrap_or_default();
    v.parse::<f64>().map_or(v, |x| x.to_string())
}

/// How often each predictor is non-zero at lambda.min, over all fits (an intercept-only fit
/// selects none: that is what the count is for), optionally split by one swept param.
fn selection(
    inp: &Inputs,
    indicators: &Indicators,
    params: &[String],
    cells: &[Cell],
    series: Option<(usize, &Vec<String>)>,
) -> Result<(Vec<Selection>, String)> {
    let co = inp.table(SWEEP, Some("coefficients"))?;
    let values: Vec<Vec<Option<String>>> = params
        .iter()
        .map(|p| co.strings(p))
        .collect::<Result<_>>()?;
    // term → cell values → selected
    let mut selected: BTreeMap<String, BTreeSet<Vec<String>>> = BTreeMap::new();
    for (i, c) in co
        .records::<crate::rows::Coefficient>()?
        .into_iter()
        .enumerate()
    {
        let (Some(t), Some("lambda.min")) = (c.term, c.choice.as_deref()) else {
            continue;
        };
        if t == "(Intercept)" {
            continue;
        }
        let e = selected.entry(t).or_default();
        if c.coefficient.is_some_and(|c| c != 0.0) {
            e.insert(values.iter().map(|v| norm(v[i].clone())).collect());
        }
    }
    let n = cells.len();
    let mut rows: Vec<Selection> = selected
        .iter()
        .map(|(t, s)| Selection {
            term: t.clone(),
            label: indicators.label(t),
            selected: Count::new(s.len(), n),
        })
        .collect();
    rows.sort_by(|a, b| {
        b.selected
            .count
            .cmp(&a.selected.count)
            .then_with(|| a.term.cmp(&b.term))
    });
    let groups: Vec<String> = series
        .map(|(_, d)| d.clone())
        .unwrap_or_else(|| vec![String::new()]);
    let chart = charts::ShareChart {
        title: "How often each predictor is selected at lambda.min, across the sweep's fits".into(),
        x_label: "% of fits with a non-zero coefficient".into(),
        series: series
            .map(|(j, d)| d.iter().map(|v| format!("{}: {v}", params[j])).collect())
            .unwrap_or_default(),
        rows: rows
            .iter()
            .map(|r| charts::ShareRow {
                label: r.term.clone(),
                shares: groups
                    .iter()
                    .map(|g| {
                        let in_group = |v: &Vec<String>| series.is_none_or(|(j, _)| &v[j] == g);
                        charts::Share {
                            count: selected[&r.term].iter().filter(|v| in_group(v)).count(),
                            of: cells.iter().filter(|c| in_group(&c.values)).count(),
                        }
                    })
                    .collect(),
            })
            .collect(),
    };
    Ok((rows, charts::share_chart(&chart)))
}

#[derive(Serialize)]
pub struct PathSummary {
    pub entries: Vec<Entry>,
    pub sparse: Option<SparseFit>,
}

#[derive(Serialize)]
pub struct Entry {
    pub order: i64,
    pub term: String,
    pub label: String,
    pub step: i64,
    pub lambda: String,
    pub sign: &'static str,
}

#[derive(Serialize)]
pub struct SparseFit {
    pub target: i64,
    pub df: i64,
    pub lambda: String,
    pub dev_ratio: String,
    pub terms: Vec<TermValue>,
    pub assessment: Vec<Assessment>,
}

#[derive(Serialize)]
pub struct TermValue {
    pub term: String,
    pub coefficient: String,
}

#[derive(Serialize)]
pub struct Assessment {
    pub rule: String,
    pub sample: String,
    pub threshold: String,
    pub tp: i64,
    pub fp: i64,
    pub tn: i64,
    pub fn_: i64,
    pub sensitivity: String,
    pub specificity: String,
}

/// The study's own fit along its path: entry order, and the fit at the paper's sparsity.
fn path(inp: &Inputs, indicators: &Indicators) -> Result<PathSummary> {
    let mut entries: Vec<Entry> = inp
        .table("model", Some("entry"))?
        .records::<rows::Entry>()?
        .into_iter()
        .map(|e| {
            let t = e.term.unwrap_or_default();
            Entry {
                order: e.entry_order.unwrap_or_default(),
                label: indicators.label(&t),
                term: t,
                step: e.entry_step.unwrap_or_default(),
                lambda: num(e.entry_lambda, 4),
                sign: match e.sign_at_entry {
                    Some(s) if s > 0.0 => "+",
                    Some(s) if s < 0.0 => "−",
                    _ => "0",
                },
            }
        })
        .collect();
    entries.sort_by_key(|e| (e.order, e.step));
    Ok(PathSummary {
        entries,
        sparse: sparse_fit(inp)?,
    })
}

fn sparse_fit(inp: &Inputs) -> Result<Option<SparseFit>> {
    let summary = inp
        .table("model", Some("summary"))?
        .records::<rows::Sparse>()?;
    let Some((target, df, sm)) = summary
        .into_iter()
        .next()
        .and_then(|s| Some((s.sparsity_target?, s.sparse_df?, s)))
    else {
        return Ok(None);
    };
    let terms = inp
        .table("model", Some("coefficients"))?
        .records::<crate::rows::Coefficient>()?
        .into_iter()
        .filter(|c| {
            c.choice.as_deref() == Some("paper_sparsity")
                && c.term.as_deref() != Some("(Intercept)")
                && c.coefficient.is_some_and(|c| c != 0.0)
        })
        .map(|c| TermValue {
            term: c.term.unwrap_or_default(),
            coefficient: num(c.coefficient, 4),
        })
        .collect();
    let assessment = inp
        .table("model", Some("assessment"))?
        .records::<rows::Assessment>()?
        .into_iter()
        .filter(|a| a.fit.as_deref() == Some("paper_sparsity"))
        .map(|a| Assessment {
            rule: a.rule.unwrap_or_default(),
            sample: a.sample.unwrap_or_default().replace('_', " "),
            threshold: num(a.threshold, 2),
            tp: a.tp.unwrap_or_default(),
            fp: a.fp.unwrap_or_default(),
            tn: a.tn.unwrap_or_default(),
            fn_: a.fn_.unwrap_or_default(),
            sensitivity: pct(a.sensitivity),
            specificity: pct(a.specificity),
        })
        .collect();
    Ok(Some(SparseFit {
        target,
        df,
        lambda: num(sm.sparse_lambda, 4),
        dev_ratio: num(sm.sparse_dev_ratio, 3),
        terms,
        assessment,
    }))
}

/// The rows this section reads from the model's and the sweep's tables.
mod rows {
    use serde::Deserialize;

    #[derive(Deserialize)]
    pub struct SweepCell {
        pub intercept_only: Option<bool>,
        pub dev_ratio: Option<f64>,
        pub cv_auc: Option<f64>,
    }

    #[derive(Deserialize)]
    pub struct Entry {
        pub term: Option<String>,
        pub entry_order: Option<i64>,
        pub entry_step: Option<i64>,
        pub entry_lambda: Option<f64>,
        pub sign_at_entry: Option<f64>,
    }

    #[derive(Deserialize)]
    pub struct Sparse {
        pub sparsity_target: Option<i64>,
        pub sparse_df: Option<i64>,
        pub sparse_lambda: Option<f64>,
        pub sparse_dev_ratio: Option<f64>,
    }

    #[derive(Deserialize)]
    pub struct Assessment {
        pub fit: Option<String>,
        pub rule: Option<String>,
        pub sample: Option<String>,
        pub threshold: Option<f64>,
        pub tp: Option<i64>,
        pub fp: Option<i64>,
        pub tn: Option<i64>,
        #[serde(rename = "fn")]
        pub fn_: Option<i64>,
        pub sensitivity: Option<f64>,
        pub specificity: Option<f64>,
    }
}
