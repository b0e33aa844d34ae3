//! `compare`: the study's cohort comparison (its Table 3). The fitted model is applied to each
//! year of a window; each LA's first year predicted inadequate (probability above the
//! threshold) is its baseline. Group A: predicted but not judged inadequate in the window;
//! group B: predicted and judged inadequate. For each indicator: how many LAs, the median
//! change from the baseline year to the next, the share of LAs where it rose, each group's
//! baseline median and IQR — and, beyond the paper, a Wilcoxon rank-sum test (as R's
//! `wilcox.test`) of the difference between the groups' changes.

use std::collections::{BTreeMap, BTreeSet};

use super::columns::{TableBuilder, TableData};
use super::{OutputTable, ParamSpec, ParamType, StageContext, StageKind};
use crate::error::Result;
use crate::pipeline::Stage;
use crate::stats::distributions::Alternative;
use crate::stats::quantile::five_number;
use crate::stats::wilcoxon::wilcox_test;

pub struct Compare;

const PARAMS: &[ParamSpec] = &[
    ParamSpec { name: "model", ty: ParamType::String, required: true, help: "the input that is a `fit` stage" },
    ParamSpec { name: "panel", ty: ParamType::String, required: true, help: "the input holding the long panel" },
    ParamSpec { name: "ofsted", ty: ParamType::String, required: true, help: "the input holding the Ofsted judgements" },
    ParamSpec { name: "from_year", ty: ParamType::Integer, required: true, help: "first year the model is applied to (the study: 2010)" },
    ParamSpec { name: "to_year", ty: ParamType::Integer, required: true, help: "last year the model is applied to (the study: 2012)" },
    ParamSpec { name: "choice", ty: ParamType::String, required: false, help: "which coefficients: `lambda.min` (default) or `lambda.1se`" },
    ParamSpec { name: "threshold", ty: ParamType::Number, required: false, help: "probability above which an LA is predicted inadequate (default 0.5)" },
    ParamSpec { name: "indicators", ty: ParamType::StringList, required: false, help: "indicators to compare (default: all in the panel)" },
];

impl StageKind for Compare {
    fn name(&self) -> &'static str {
        "compare"
    }
    fn version(&self) -> u32 {
        1
    }
    fn describe(&self) -> &'static str {
        "cohorts of LAs predicted inadequate, judged inadequate or not: change in each indicator the year after"
    }
    fn params(&self) -> &'static [ParamSpec] {
        PARAMS
    }
    fn tables(&self, _stage: &Stage) -> Vec<String> {
        vec![String::new(), "members".into()]
    }
    fn sql_aliases(&self) -> Vec<(String, String)> {
        vec![("members".into(), "cohort_members".into())]
    }
    fn check(&self, stage: &Stage) -> std::result::Result<(), String> {
        for p in ["model", "panel", "ofsted"] {
            let name = stage.params.get(p).and_then(|v| v.as_str()).unwrap_or_default();
            if !stage.inputs.iter().any(|i| i == name) {
                return Err(format!("param `{p}` names `{name}`, which is not one of the stage's inputs"));
            }
        }
        Ok(())
    }
    fn run(&self, ctx: &StageContext) -> Result<Vec<OutputTable>> {
        let from = ctx.param_i64("from_year").unwrap_or(0) as i32;
        let to = ctx.param_i64("to_year").unwrap_or(0) as i32;
        let choice = ctx.param_str("choice").unwrap_or("lambda.min");
        let threshold = ctx.param_f64("threshold").unwrap_or(0.5);

        // Coefficients.
        let model = ctx.param_str("model").unwrap_or_default();
        let (s, b) = ctx.read_table(model, Some("coefficients"))?;
        let coefs = TableData::new(&format!("`{model}_coefficients`"), s, &b)?;
        let (terms, choices, values) = (coefs.strings("term")?, coefs.strings("choice")?, coefs.f64s("coefficient")?);
        let mut intercept = 0.0;
        let mut beta: BTreeMap<String, f64> = BTreeMap::new();
        for i in 0..coefs.rows() {
            if choices[i].as_deref() != Some(choice) {
                continue;
            }
            match terms[i].as_deref() {
                Some("(Intercept)") => intercept = values[i].unwrap_or(0.0),
                Some(t) => {
                    beta.insert(t.to_string(), values[i].unwrap_or(0.0));
                }
                None => {}
            }
        }
        if beta.is_empty() {
            return Err(ctx.fail(format!("`{model}_coefficients` has no coefficients for choice `{choice}`")));
        }

        // Panel: (la, year, indicator) → value; names.
        let panel_name = ctx.param_str("panel").unwrap_or_default();
        let (s, b) = ctx.read_table(panel_name, None)?;
        let panel = TableData::new(&format!("`{panel_name}`"), s, &b)?;
        let (las, years, inds, vals) = (panel.strings("la_code")?, panel.i64s("year")?, panel.strings("indicator")?, panel.f64s("value")?);
        let names = if panel.has("la_name") { panel.strings("la_name")? } else { vec![None; panel.rows()] };
        let mut value: BTreeMap<(String, i32, String), f64> = BTreeMap::new();
        let mut la_name: BTreeMap<String, String> = BTreeMap::new();
        let mut all_indicators: BTreeSet<String> = BTreeSet::new();
        for i in 0..panel.rows() {
            let (Some(la), Some(y), Some(ind)) = (&las[i], years[i], &inds[i]) else { continue };
            all_indicators.insert(ind.clone());
            if let Some(n) = &names[i] {
                la_name.entry(la.clone()).or_insert_with(|| n.clone());
            }
            if let Some(v) = vals[i].filter(|v| v.is_finite()) {
                value.insert((la.clone(), y as i32, ind.clone()), v);
            }
        }
        let indicators: Vec<String> = match ctx.param("indicators").and_then(|v| v.as_array()) {
            Some(a) => a.iter().filter_map(|s| s.as_str().map(str::to_string)).collect(),
            None => all_indicators.into_iter().collect(),
        };

        // Judged inadequate in the window: a headline judgement graded 4, published within it.
        let ofsted_name = ctx.param_str("ofsted").unwrap_or_default();
        let (s, b) = ctx.read_table(ofsted_name, None)?;
        let of = TableData::new(&format!("`{ofsted_name}`"), s, &b)?;
        let (ocodes, opub, ograde) = (of.strings("la_code")?, of.strings("published")?, of.i64s("grade")?);
        let headline = if of.has("headline") { of.strings("headline")? } else { vec![Some("true".into()); of.rows()] };
        let mut judged: BTreeMap<String, String> = BTreeMap::new();
        let (wfrom, wto) = (format!("{from:04}-01-01"), format!("{to:04}-12-31"));
        for i in 0..of.rows() {
            let (Some(code), Some(date), Some(4)) = (&ocodes[i], &opub[i], ograde[i]) else { continue };
            if headline[i].as_deref() != Some("true") || date < &wfrom || date > &wto {
                continue;
            }
            let e = judged.entry(code.clone()).or_insert_with(|| date.clone());
            if date < e {
                *e = date.clone();
            }
        }

        // Each LA's first year predicted inadequate.
        let every_la: BTreeSet<String> = value.keys().map(|(la, _, _)| la.clone()).collect();
        struct Member {
            la: String,
            year: i32,
            probability: f64,
            group: &'static str,
            judged: Option<String>,
        }
        let mut members: Vec<Member> = Vec::new();
        for la in &every_la {
            for year in from..=to {
                let mut eta = intercept;
                let mut complete = true;
                for (term, b) in &beta {
                    match value.get(&(la.clone(), year, term.clone())) {
                        Some(v) => eta += b * v,
                        None => {
                            complete = *b == 0.0 && complete;
                        }
                    }
                }
                if !complete {
                    continue;
                }
                let p = 1.0 / (1.0 + (-eta).exp());
                if p > threshold {
                    let j = judged.get(la).cloned();
                    members.push(Member {
                        la: la.clone(),
                        year,
                        probability: p,
                        group: if j.is_some() { "B" } else { "A" },
                        judged: j,
                    });
                    break;
                }
            }
        }

        // Per indicator and group: changes from the baseline year to the next.
        let mut rows: Vec<(String, [GroupStats; 2], Option<(f64, f64)>)> = Vec::new();
        for ind in &indicators {
            let mut stats: [GroupStats; 2] = Default::default();
            let mut changes: [Vec<f64>; 2] = Default::default();
            for (g, group) in ["A", "B"].iter().enumerate() {
                let mut base = Vec::new();
                for m in members.iter().filter(|m| m.group == *group) {
                    let v0 = value.get(&(m.la.clone(), m.year, ind.clone()));
                    if let Some(v0) = v0 {
                        base.push(*v0);
                    }
                    if let (Some(v0), Some(v1)) = (v0, value.get(&(m.la.clone(), m.year + 1, ind.clone()))) {
                        changes[g].push(v1 - v0);
                    }
                }
                let c = &changes[g];
                let f = five_number(&base);
                stats[g] = GroupStats {
                    n: c.len() as i64,
                    median_change: (!c.is_empty()).then(|| crate::stats::quantile::median(c)),
                    pct_rise: (!c.is_empty()).then(|| 100.0 * c.iter().filter(|d| **d > 0.0).count() as f64 / c.len() as f64),
                    baseline: (f.n > 0).then_some((f.median, f.q1, f.q3)),
                };
            }
            let w = wilcox_test(&changes[0], &changes[1], Alternative::TwoSided).map(|t| (t.w, t.p_value));
            rows.push((ind.clone(), stats, w));
        }

        let g = |i: usize, f: fn(&GroupStats) -> Option<f64>| rows.iter().map(|r| f(&r.1[i])).collect::<Vec<_>>();
        let mut t = TableBuilder::new()
            .str("indicator", rows.iter().map(|r| r.0.clone()).collect())
            .i32("from_year", vec![from; rows.len()])
            .i32("to_year", vec![to; rows.len()]);
        for (i, p) in ["a", "b"].iter().enumerate() {
            t = t
                .i64(&format!("{p}_n"), rows.iter().map(|r| r.1[i].n).collect())
                .f64(&format!("{p}_median_change"), g(i, |s| s.median_change))
                .f64(&format!("{p}_pct_rise"), g(i, |s| s.pct_rise))
                .f64(&format!("{p}_baseline_median"), g(i, |s| s.baseline.map(|b| b.0)))
                .f64(&format!("{p}_baseline_q1"), g(i, |s| s.baseline.map(|b| b.1)))
                .f64(&format!("{p}_baseline_q3"), g(i, |s| s.baseline.map(|b| b.2)));
        }
        let cohorts = t
            .f64("wilcoxon_w", rows.iter().map(|r| r.2.map(|w| w.0)).collect())
            .f64("wilcoxon_p", rows.iter().map(|r| r.2.map(|w| w.1)).collect())
            .build(None)?;
        let members_t = TableBuilder::new()
            .str("la_code", members.iter().map(|m| m.la.clone()).collect())
            .opt_str("la_name", members.iter().map(|m| la_name.get(&m.la).cloned()).collect())
            .str("cohort", members.iter().map(|m| m.group.to_string()).collect())
            .i32("first_predicted_year", members.iter().map(|m| m.year).collect())
            .f64("probability", members.iter().map(|m| Some(m.probability)).collect())
            .opt_str("judged_inadequate", members.iter().map(|m| m.judged.clone()).collect())
            .build(Some("members"))?;
        Ok(vec![cohorts, members_t])
    }
}

#[derive(Default, Clone)]
struct GroupStats {
    n: i64,
    median_change: Option<f64>,
    pct_rise: Option<f64>,
    baseline: Option<(f64, f64, f64)>,
}
