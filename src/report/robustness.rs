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
    let io = sm.bools("intercept_only")?;
    let (dev, auc) = (sm.f64s("dev_ratio")?, sm.f64s("cv_auc")?);
    Ok((0..sm.rows())
        .map(|i| Cell {
            values: values.iter().map(|v| norm(v[i].clone())).collect(),
            intercept_only: io[i] == Some(true),
            dev_ratio: dev[i],
            cv_auc: auc[i],
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
    let (term, choice, coef) = (
        co.strings("term")?,
        co.strings("choice")?,
        co.f64s("coefficient")?,
    );
    // term → cell values → selected
    let mut selected: BTreeMap<String, BTreeSet<Vec<String>>> = BTreeMap::new();
    for i in 0..co.rows() {
        let (Some(t), Some("lambda.min")) = (&term[i], choice[i].as_deref()) else {
            continue;
        };
        if t == "(Intercept)" {
            continue;
        }
        let e = selected.entry(t.clone()).or_default();
        if coef[i].is_some_and(|c| c != 0.0) {
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
    let en = inp.table("model", Some("entry"))?;
    let (term, order, step, lambda, sign) = (
        en.strings("term")?,
        en.i64s("entry_order")?,
        en.i64s("entry_step")?,
        en.f64s("entry_lambda")?,
        en.f64s("sign_at_entry")?,
    );
    let mut entries: Vec<Entry> = (0..en.rows())
        .map(|i| {
            let t = term[i].clone().unwrap_or_default();
            Entry {
                order: order[i].unwrap_or_default(),
                label: indicators.label(&t),
                term: t,
                step: step[i].unwrap_or_default(),
                lambda: num(lambda[i], 4),
                sign: match sign[i] {
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
    let sm = inp.table("model", Some("summary"))?;
    let (Some(target), Some(df)) = (sm.i64s("sparsity_target")?[0], sm.i64s("sparse_df")?[0])
    else {
        return Ok(None);
    };
    let co = inp.table("model", Some("coefficients"))?;
    let (term, choice, coef) = (
        co.strings("term")?,
        co.strings("choice")?,
        co.f64s("coefficient")?,
    );
    let terms = (0..co.rows())
        .filter(|&i| {
            choice[i].as_deref() == Some("paper_sparsity")
                && term[i].as_deref() != Some("(Intercept)")
                && coef[i].is_some_and(|c| c != 0.0)
        })
        .map(|i| TermValue {
            term: term[i].clone().unwrap_or_default(),
            coefficient: num(coef[i], 4),
        })
        .collect();
    let a = inp.table("model", Some("assessment"))?;
    let (fit, rule, sample, thr) = (
        a.strings("fit")?,
        a.strings("rule")?,
        a.strings("sample")?,
        a.f64s("threshold")?,
    );
    let counts: Vec<Vec<Option<i64>>> = ["tp", "fp", "tn", "fn"]
        .iter()
        .map(|c| a.i64s(c))
        .collect::<Result<_>>()?;
    let (sens, spec) = (a.f64s("sensitivity")?, a.f64s("specificity")?);
    let assessment = (0..a.rows())
        .filter(|&i| fit[i].as_deref() == Some("paper_sparsity"))
        .map(|i| Assessment {
            rule: rule[i].clone().unwrap_or_default(),
            sample: sample[i].clone().unwrap_or_default().replace('_', " "),
            threshold: num(thr[i], 2),
            tp: counts[0][i].unwrap_or_default(),
            fp: counts[1][i].unwrap_or_default(),
            tn: counts[2][i].unwrap_or_default(),
            fn_: counts[3][i].unwrap_or_default(),
            sensitivity: pct(sens[i]),
            specificity: pct(spec[i]),
        })
        .collect();
    Ok(Some(SparseFit {
        target,
        df,
        lambda: num(sm.f64s("sparse_lambda")?[0], 4),
        dev_ratio: num(sm.f64s("sparse_dev_ratio")?[0], 3),
        terms,
        assessment,
    }))
}
