//! `compare`: the study's cohort comparison (its Table 3). The fitted model is applied to each
//! year of a window; each LA's first year predicted inadequate (probability above the
//! threshold) is its baseline. Group A: predicted but not judged inadequate in the window;
//! group B: predicted and judged inadequate. For each indicator: how many LAs, the median
//! change from the baseline year to the next, the share of LAs where it rose, each group's
//! baseline median and IQR — and, beyond the paper, a Wilcoxon rank-sum test (as R's
//! `wilcox.test`) of the difference between the groups' changes.
//!
//! Two versions are always written, each saying which rule made it: the study's (the chosen
//! fit, probability above the threshold) and a stated fallback for when that rule predicts no
//! LA — the fit at the paper's sparsity, flagging LAs whose risk exceeds the prevalence.

use std::collections::{BTreeMap, BTreeSet};

use crate::pipeline::KindSpec;
use crate::stage::columns::{from_rows, TableBuilder, TableData};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::error::Result;
use crate::params::{self, KindParams};
use crate::pipeline::Stage;
use crate::stage::TableDoc;
use crate::stage::{OutputTable, StageContext, StageKind};
use crate::stats::distributions::Alternative;
use crate::stats::quantile::five_number;
use crate::stats::wilcoxon::wilcox_test;

pub struct Compare;

/// The params of a `compare` stage.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CompareParams {
    /// the input that is a `fit` stage
    pub model: String,
    /// the input holding the long panel
    pub panel: String,
    /// the input holding the Ofsted judgements
    pub ofsted: String,
    /// first year the model is applied to (the study: 2010)
    pub from_year: i32,
    /// last year the model is applied to (the study: 2012)
    pub to_year: i32,
    /// which of the fit's coefficients: `lambda.min` or `lambda.1se`
    #[serde(default = "lambda_min")]
    pub choice: String,
    /// probability above which an LA is predicted inadequate
    #[serde(default = "params::half")]
    #[schemars(range(min = 0.0, max = 1.0))]
    pub threshold: f64,
    /// indicators to compare (none: all in the panel)
    pub indicators: Option<Vec<String>>,
    /// the fit the fallback cohorts use, flagging LAs above the outcome's prevalence
    #[serde(default = "paper_sparsity")]
    pub fallback_choice: String,
}

fn lambda_min() -> String {
    "lambda.min".into()
}

fn paper_sparsity() -> String {
    "paper_sparsity".into()
}

/// The columns of both versions of the cohorts, and of both member lists.
const COHORT_COLUMNS: [&str; 20] = [
    "indicator",
    "rule",
    "from_year",
    "to_year",
    "a_members",
    "a_n",
    "a_median_change",
    "a_pct_rise",
    "a_baseline_median",
    "a_baseline_q1",
    "a_baseline_q3",
    "b_members",
    "b_n",
    "b_median_change",
    "b_pct_rise",
    "b_baseline_median",
    "b_baseline_q1",
    "b_baseline_q3",
    "wilcoxon_w",
    "wilcoxon_p",
];

const MEMBER_COLUMNS: [&str; 7] = [
    "la_code",
    "la_name",
    "cohort",
    "rule",
    "first_predicted_year",
    "probability",
    "judged_inadequate",
];

impl KindSpec for Compare {
    fn params(&self) -> &KindParams {
        static P: params::Lazy = params::Lazy::new(KindParams::of::<CompareParams>);
        &P
    }

    fn tables(&self, _stage: &Stage) -> Vec<String> {
        ["", "members", "fallback", "fallback_members"]
            .map(String::from)
            .to_vec()
    }

    fn sql_aliases(&self) -> Vec<(String, String)> {
        vec![("members".into(), "cohort_members".into())]
    }

    fn check(&self, stage: &Stage) -> std::result::Result<(), String> {
        let params: CompareParams = stage.params_as()?;
        for (p, name) in [
            ("model", &params.model),
            ("panel", &params.panel),
            ("ofsted", &params.ofsted),
        ] {
            if !stage.inputs.iter().any(|i| i == name) {
                return Err(format!(
                    "param `{p}` names `{name}`, which is not one of the stage's inputs"
                ));
            }
        }
        Ok(())
    }
}

impl StageKind for Compare {
    fn name(&self) -> &'static str {
        "compare"
    }

    fn version(&self) -> u32 {
        2
    }

    fn describe(&self) -> &'static str {
        "cohorts of LAs predicted inadequate, judged inadequate or not: change in each indicator the year after"
    }

    fn outputs(&self) -> &'static [TableDoc] {
        &[
            TableDoc {
                name: "",
                columns: &COHORT_COLUMNS,
            },
            TableDoc {
                name: "fallback",
                columns: &COHORT_COLUMNS,
            },
            TableDoc {
                name: "fallback_members",
                columns: &MEMBER_COLUMNS,
            },
            TableDoc {
                name: "members",
                columns: &MEMBER_COLUMNS,
            },
        ]
    }

    fn run(&self, ctx: &StageContext) -> Result<Vec<OutputTable>> {
        let p: CompareParams = ctx.params()?;
        let (from, to, threshold) = (p.from_year, p.to_year, p.threshold);
        let choice = p.choice.as_str();
        let model = p.model.as_str();
        let coefs = read_coefficients(ctx, model)?;
        let panel = Panel::read(ctx, &p.panel)?;
        let indicators: Vec<String> = match &p.indicators {
            Some(list) => list.clone(),
            None => panel.indicators.iter().cloned().collect(),
        };
        // A name the panel does not hold is a typo, not a filter (did you mean …?).
        let present: std::collections::BTreeSet<&str> =
            panel.indicators.iter().map(String::as_str).collect();
        crate::stage::names_in_input(
            ctx,
            "indicators",
            indicators.iter().map(String::as_str),
            &present,
            &p.panel,
        )?;
        let judged = judged_inadequate(ctx, &p.ofsted, from, to)?;
        let window = Window {
            from,
            to,
            indicators: &indicators,
            panel: &panel,
            judged: &judged,
        };

        let Some((intercept, beta)) = coefs.get(choice) else {
            return Err(ctx.fail(format!(
                "`{model}_coefficients` has no coefficients for choice `{choice}`"
            )));
        };
        let primary = window.cohorts(
            &format!("{choice}, probability > {threshold}"),
            *intercept,
            beta,
            threshold,
        );
        // The stated fallback: the fit at the paper's sparsity, flagging LAs whose predicted
        // risk exceeds the outcome's prevalence (the rule the early-warning evaluation uses).
        let fallback_choice = p.fallback_choice.as_str();
        let fallback = match (coefs.get(fallback_choice), model_prevalence(ctx, model)?) {
            (Some((a0, b)), Some(prev)) => window.cohorts(
                &format!("{fallback_choice}, probability > prevalence {prev:.4}"),
                *a0,
                b,
                prev,
            ),
            _ => Cohorts {
                rule: format!("none: `{model}` has no `{fallback_choice}` fit"),
                members: Vec::new(),
                rows: Vec::new(),
            },
        };
        Ok(vec![
            primary.table(from, to, None)?,
            primary.members_table(&panel, "members")?,
            fallback.table(from, to, Some("fallback"))?,
            fallback.members_table(&panel, "fallback_members")?,
        ])
    }
}

/// Intercept and coefficients per choice (`lambda.min`, `lambda.1se`, `paper_sparsity`).
fn read_coefficients(ctx: &StageContext, model: &str) -> Result<BTreeMap<String, Fit>> {
    let (s, b) = ctx.read_table(model, Some("coefficients"))?;
    let coefs = TableData::new(&format!("`{model}_coefficients`"), s, &b)?;
    let mut out: BTreeMap<String, Fit> = BTreeMap::new();
    for c in coefs.records::<crate::rows::Coefficient>()? {
        let (Some(choice), Some(term)) = (c.choice, c.term) else {
            continue;
        };
        let entry = out.entry(choice).or_default();
        let value = c.coefficient.unwrap_or(0.0);
        if term == "(Intercept)" {
            entry.0 = value;
        } else {
            entry.1.insert(term, value);
        }
    }
    Ok(out)
}

/// The share of LAs the model saw judged inadequate, from its summary (None without one).
fn model_prevalence(ctx: &StageContext, model: &str) -> Result<Option<f64>> {
    if !ctx.has_table(model, Some("summary")) {
        return Ok(None);
    }
    let (s, b) = ctx.read_table(model, Some("summary"))?;
    let t = TableData::new(&format!("`{model}_summary`"), s, &b)?;
    let first = t.records::<rows::Prevalence>()?.into_iter().next();
    Ok(match first.map(|r| (r.n, r.n_positive)) {
        Some((Some(n), Some(p))) if n > 0 => Some(p as f64 / n as f64),
        _ => None,
    })
}

/// The long panel as a lookup: (la, year, indicator) → value.
struct Panel {
    value: BTreeMap<(String, i32, String), f64>,
    la_name: BTreeMap<String, String>,
    indicators: BTreeSet<String>,
}

impl Panel {
    fn read(ctx: &StageContext, name: &str) -> Result<Panel> {
        let (s, b) = ctx.read_table(name, None)?;
        let panel = TableData::new(&format!("`{name}`"), s, &b)?;
        let mut p = Panel {
            value: BTreeMap::new(),
            la_name: BTreeMap::new(),
            indicators: BTreeSet::new(),
        };
        for r in panel.records_or_null::<rows::PanelValue>(&["la_name"])? {
            let (Some(la), Some(y), Some(ind)) = (r.la_code, r.year, r.indicator) else {
                continue;
            };
            p.indicators.insert(ind.clone());
            if let Some(n) = r.la_name {
                p.la_name.entry(la.clone()).or_insert(n);
            }
            if let Some(v) = r.value.filter(|v| v.is_finite()) {
                p.value.insert((la, y as i32, ind), v);
            }
        }
        Ok(p)
    }
}

/// LAs judged inadequate in the window: a headline judgement graded 4, published within it,
/// with the date of the first such judgement.
fn judged_inadequate(
    ctx: &StageContext,
    name: &str,
    from: i32,
    to: i32,
) -> Result<BTreeMap<String, String>> {
    let (s, b) = ctx.read_table(name, None)?;
    let of = TableData::new(&format!("`{name}`"), s, &b)?;
    // A table without the column holds headline judgements only.
    let all_headline = !of.has("headline");
    let mut judged: BTreeMap<String, String> = BTreeMap::new();
    let (wfrom, wto) = (format!("{from:04}-01-01"), format!("{to:04}-12-31"));
    for j in of.records_or_null::<rows::Judgement>(&["headline"])? {
        let (Some(code), Some(date), Some(4)) = (j.la_code, j.published, j.grade) else {
            continue;
        };
        if !(all_headline || j.headline == Some(true)) || date < wfrom || date > wto {
            continue;
        }
        let e = judged.entry(code).or_insert_with(|| date.clone());
        if date < *e {
            *e = date;
        }
    }
    Ok(judged)
}

struct Window<'a> {
    from: i32,
    to: i32,
    indicators: &'a [String],
    panel: &'a Panel,
    judged: &'a BTreeMap<String, String>,
}

struct Member {
    la: String,
    year: i32,
    probability: f64,
    group: &'static str,
    judged: Option<String>,
}

/// One version of Table 3: the rule that made the groups, who is in them, and per indicator
/// each group's change the year after.
struct Cohorts {
    rule: String,
    members: Vec<Member>,
    rows: Vec<Row>,
}

/// An indicator's row: each group's stats, and the rank-sum test's (W, p).
type Row = (String, [GroupStats; 2], Option<(f64, f64)>);

/// A fit's intercept and coefficients by term.
type Fit = (f64, BTreeMap<String, f64>);

impl Window<'_> {
    fn cohorts(
        &self,
        rule: &str,
        intercept: f64,
        beta: &BTreeMap<String, f64>,
        threshold: f64,
    ) -> Cohorts {
        let members = self.members(intercept, beta, threshold);
        let rows = self
            .indicators
            .iter()
            .map(|ind| self.changes(&members, ind))
            .collect();
        Cohorts {
            rule: rule.to_string(),
            members,
            rows,
        }
    }

    /// Each LA's first year predicted inadequate (probability above the threshold).
    fn members(&self, intercept: f64, beta: &BTreeMap<String, f64>, threshold: f64) -> Vec<Member> {
        let every_la: BTreeSet<&String> = self.panel.value.keys().map(|(la, _, _)| la).collect();
        let mut members = Vec::new();
        for la in every_la {
            for year in self.from..=self.to {
                let mut eta = intercept;
                let mut complete = true;
                for (term, b) in beta {
                    match self.panel.value.get(&(la.clone(), year, term.clone())) {
                        Some(v) => eta += b * v,
                        None => complete = *b == 0.0 && complete,
                    }
                }
                if !complete {
                    continue;
                }
                let p = 1.0 / (1.0 + (-eta).exp());
                if p > threshold {
                    let judged = self.judged.get(la).cloned();
                    let group = if judged.is_some() { "B" } else { "A" };
                    members.push(Member {
                        la: la.clone(),
                        year,
                        probability: p,
                        group,
                        judged,
                    });
                    break;
                }
            }
        }
        members
    }

    /// Per group: the change from the baseline year to the next.
    fn changes(
        &self,
        members: &[Member],
        ind: &str,
    ) -> (String, [GroupStats; 2], Option<(f64, f64)>) {
        let mut stats: [GroupStats; 2] = Default::default();
        let mut changes: [Vec<f64>; 2] = Default::default();
        let value = |la: &str, year: i32| {
            self.panel
                .value
                .get(&(la.to_string(), year, ind.to_string()))
                .copied()
        };
        for (g, group) in ["A", "B"].iter().enumerate() {
            let mine: Vec<&Member> = members.iter().filter(|m| m.group == *group).collect();
            let mut base = Vec::new();
            for m in &mine {
                let v0 = value(&m.la, m.year);
                base.extend(v0);
                if let (Some(v0), Some(v1)) = (v0, value(&m.la, m.year + 1)) {
                    changes[g].push(v1 - v0);
                }
            }
            let c = &changes[g];
            let f = five_number(&base);
            stats[g] = GroupStats {
                members: mine.len() as i64,
                n: c.len() as i64,
                median_change: (!c.is_empty()).then(|| crate::stats::quantile::median(c)),
                pct_rise: (!c.is_empty()).then(|| {
                    100.0 * c.iter().filter(|d| **d > 0.0).count() as f64 / c.len() as f64
                }),
                baseline: (f.n > 0).then_some((f.median, f.q1, f.q3)),
            };
        }
        let w =
            wilcox_test(&changes[0], &changes[1], Alternative::TwoSided).map(|t| (t.w, t.p_value));
        (ind.to_string(), stats, w)
    }
}

impl Cohorts {
    fn table(&self, from: i32, to: i32, name: Option<&str>) -> Result<OutputTable> {
        let rows = &self.rows;
        let g = |i: usize, f: fn(&GroupStats) -> Option<f64>| {
            rows.iter().map(|r| f(&r.1[i])).collect::<Vec<_>>()
        };
        let mut t = TableBuilder::new()
            .str("indicator", rows.iter().map(|r| r.0.clone()).collect())
            .str("rule", vec![self.rule.clone(); rows.len()])
            .i32("from_year", vec![from; rows.len()])
            .i32("to_year", vec![to; rows.len()]);
        for (i, p) in ["a", "b"].iter().enumerate() {
            t = t
                .i64(
                    &format!("{p}_members"),
                    rows.iter().map(|r| r.1[i].members).collect(),
                )
                .i64(&format!("{p}_n"), rows.iter().map(|r| r.1[i].n).collect())
                .f64(&format!("{p}_median_change"), g(i, |s| s.median_change))
                .f64(&format!("{p}_pct_rise"), g(i, |s| s.pct_rise))
                .f64(
                    &format!("{p}_baseline_median"),
                    g(i, |s| s.baseline.map(|b| b.0)),
                )
                .f64(
                    &format!("{p}_baseline_q1"),
                    g(i, |s| s.baseline.map(|b| b.1)),
                )
                .f64(
                    &format!("{p}_baseline_q3"),
                    g(i, |s| s.baseline.map(|b| b.2)),
                );
        }
        t.f64(
            "wilcoxon_w",
            rows.iter().map(|r| r.2.map(|w| w.0)).collect(),
        )
        .f64(
            "wilcoxon_p",
            rows.iter().map(|r| r.2.map(|w| w.1)).collect(),
        )
        .build(name)
    }

    fn members_table(&self, panel: &Panel, name: &str) -> Result<OutputTable> {
        let rows: Vec<rows::Member> = self
            .members
            .iter()
            .map(|m| rows::Member {
                la_code: m.la.clone(),
                la_name: panel.la_name.get(&m.la).cloned(),
                cohort: m.group.to_string(),
                rule: self.rule.clone(),
                first_predicted_year: m.year,
                probability: Some(m.probability),
                judged_inadequate: m.judged.clone(),
            })
            .collect();
        from_rows(Some(name), &rows)
    }
}

#[derive(Default, Clone)]
struct GroupStats {
    /// LAs in the group; `n` of them have the indicator in both years.
    members: i64,
    n: i64,
    median_change: Option<f64>,
    pct_rise: Option<f64>,
    baseline: Option<(f64, f64, f64)>,
}

/// The rows this kind reads from the model, the panel and the judgements, and the cohort
/// membership it writes.
mod rows {
    use serde::{Deserialize, Serialize};

    #[derive(Deserialize)]
    pub struct Prevalence {
        pub n: Option<i64>,
        pub n_positive: Option<i64>,
    }

    #[derive(Deserialize)]
    pub struct PanelValue {
        pub la_code: Option<String>,
        pub year: Option<i64>,
        pub indicator: Option<String>,
        pub value: Option<f64>,
        pub la_name: Option<String>,
    }

    #[derive(Deserialize)]
    pub struct Judgement {
        pub la_code: Option<String>,
        pub published: Option<String>,
        pub grade: Option<i64>,
        pub headline: Option<bool>,
    }

    #[derive(Serialize, Deserialize)]
    pub struct Member {
        pub la_code: String,
        pub la_name: Option<String>,
        pub cohort: String,
        pub rule: String,
        pub first_predicted_year: i32,
        pub probability: Option<f64>,
        pub judged_inadequate: Option<String>,
    }
}
