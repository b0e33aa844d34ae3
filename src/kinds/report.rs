//! `report`: the study report, rendered from tera templates into `reports/report.html` (one
//! self-contained file, charts inline as SVG) and `reports/report.md` (charts as SVG files
//! beside it). The main table lists the files written with their hashes, so the lock records
//! them like any other output.
//!
//! A first version: the data (sources, coverage, definition breaks), Figure 2, Figure 3,
//! Table 2 with the paper's values beside, Table 3, and the stages behind them.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value};

use super::columns::{TableBuilder, TableData};
use super::{OutputTable, ParamSpec, ParamType, StageContext, StageKind};
use crate::error::{Error, Result};
use crate::pipeline::Stage;
use crate::report::charts;

pub struct Report;

const INPUTS: [&str; 5] = ["panel", "trends", "correlations", "model", "cohorts"];

const PARAMS: &[ParamSpec] = &[
    ParamSpec { name: "templates", ty: ParamType::String, required: true, help: "the folder of tera templates (report.html.tera, report.md.tera)" },
    ParamSpec { name: "published", ty: ParamType::String, required: true, help: "the paper's published values (reports/published_results.yaml)" },
    ParamSpec { name: "out_dir", ty: ParamType::String, required: true, help: "where the report is written (reports)" },
];

impl StageKind for Report {
    fn name(&self) -> &'static str {
        "report"
    }
    fn version(&self) -> u32 {
        1
    }
    fn describe(&self) -> &'static str {
        "the study report in HTML and Markdown, the paper's values beside ours"
    }
    fn params(&self) -> &'static [ParamSpec] {
        PARAMS
    }
    fn files(&self, stage: &Stage) -> Vec<String> {
        let mut f = Vec::new();
        if let Some(t) = stage.params.get("templates").and_then(|v| v.as_str()) {
            f.push(format!("{t}/report.html.tera"));
            f.push(format!("{t}/report.md.tera"));
        }
        if let Some(p) = stage.params.get("published").and_then(|v| v.as_str()) {
            f.push(p.to_string());
        }
        f
    }
    fn check(&self, stage: &Stage) -> std::result::Result<(), String> {
        for i in INPUTS {
            if !stage.inputs.iter().any(|x| x == i) {
                return Err(format!("a `report` stage reads the stages {}; `{i}` is missing from its inputs", INPUTS.join(", ")));
            }
        }
        Ok(())
    }
    fn run(&self, ctx: &StageContext) -> Result<Vec<OutputTable>> {
        let root = &ctx.pipeline.root;
        let templates = ctx.param_str("templates").unwrap_or_default();
        let out_dir = root.join(ctx.param_str("out_dir").unwrap_or("reports"));
        let published_path = ctx.param_str("published").unwrap_or_default();
        let published_text = std::fs::read_to_string(root.join(published_path)).map_err(|e| Error::io("read", published_path, e))?;
        let published: serde_json::Value = crate::pipeline::spec::from_yaml::<crate::pipeline::spec::Value>(&published_text)
            .map(|v| crate::pipeline::spec::to_json(&v))
            .map_err(|e| Error::data(published_path, e.message))?;

        let table = |input: &str, t: Option<&str>| -> Result<TableData> {
            let (s, b) = ctx.read_table(input, t)?;
            TableData::new(&format!("`{}`", crate::pipeline::Pipeline::sql_table_name(input, t)), s, &b)
        };

        // Definitions: label, unit, quadrant per indicator; the breaks by year.
        let defs = table("panel", Some("definitions"))?;
        let (d_ind, d_label, d_unit, d_quad, d_first, d_break) = (
            defs.strings("indicator")?,
            defs.strings("label")?,
            defs.strings("unit")?,
            defs.strings("quadrant")?,
            defs.i64s("first_year")?,
            defs.strings("break")?,
        );
        let mut info: BTreeMap<String, (String, String, String)> = BTreeMap::new();
        let mut breaks: Vec<Value> = Vec::new();
        let mut break_years: BTreeMap<String, Vec<(i64, String)>> = BTreeMap::new();
        for i in 0..defs.rows() {
            let id = d_ind[i].clone().unwrap_or_default();
            info.entry(id.clone()).or_insert((
                d_label[i].clone().unwrap_or_default(),
                d_unit[i].clone().unwrap_or_default(),
                d_quad[i].clone().unwrap_or_default(),
            ));
            if let (Some(b), Some(y)) = (&d_break[i], d_first[i]) {
                breaks.push(json!({"indicator": id, "year": y, "note": b}));
                break_years.entry(id).or_default().push((y, b.clone()));
            }
        }

        // Coverage: share of LAs with a value, indicator × year.
        let cov = table("panel", Some("coverage"))?;
        let (c_ind, c_year, c_share) = (cov.strings("indicator")?, cov.i64s("year")?, cov.f64s("share")?);
        let mut years: BTreeSet<i64> = BTreeSet::new();
        let mut coverage: BTreeMap<String, BTreeMap<i64, f64>> = BTreeMap::new();
        for i in 0..cov.rows() {
            if let (Some(ind), Some(y), Some(s)) = (&c_ind[i], c_year[i], c_share[i]) {
                years.insert(y);
                coverage.entry(ind.clone()).or_default().insert(y, s);
            }
        }
        let coverage_rows: Vec<Value> = coverage
            .iter()
            .map(|(ind, by)| json!({"indicator": ind, "shares": years.iter().map(|y| by.get(y).map(|s| (s * 100.0).round() as i64)).collect::<Vec<_>>()}))
            .collect();

        // Figure 2: one small chart per indicator, grouped by quadrant.
        let tr = table("trends", None)?;
        let (t_ind, t_year, t_med, t_q1, t_q3) = (tr.strings("indicator")?, tr.i64s("year")?, tr.f64s("median")?, tr.f64s("q1")?, tr.f64s("q3")?);
        let mut points: BTreeMap<String, Vec<charts::TrendPoint>> = BTreeMap::new();
        for i in 0..tr.rows() {
            if let (Some(ind), Some(y), Some(m), Some(a), Some(b)) = (&t_ind[i], t_year[i], t_med[i], t_q1[i], t_q3[i]) {
                points.entry(ind.clone()).or_default().push(charts::TrendPoint { year: y as i32, median: m, q1: a, q3: b });
            }
        }
        let mut by_quadrant: BTreeMap<String, Vec<charts::TrendChart>> = BTreeMap::new();
        for (ind, pts) in points {
            let (label, unit, quadrant) = info.get(&ind).cloned().unwrap_or_default();
            let chart = charts::TrendChart {
                // Small multiples sit three abreast: long labels are cut to fit.
                title: if label.chars().count() > 42 { format!("{}…", label.chars().take(41).collect::<String>()) } else { label },
                x_label: "year (ending 31 March)".into(),
                y_label: unit_label(&unit),
                series: vec![charts::TrendSeries { name: "median, IQR of LAs".into(), points: pts }],
                breaks: break_years
                    .get(&ind)
                    .map(|b| b.iter().skip(1).map(|(y, note)| charts::DefinitionBreak { year: *y as f64 - 0.5, label: short(note) }).collect())
                    .unwrap_or_default(),
                ..Default::default()
            };
            by_quadrant.entry(quadrant).or_default().push(chart);
        }
        let figure2: Vec<Value> = by_quadrant
            .iter()
            .map(|(q, cs)| json!({"quadrant": q.replace('_', " "), "svg": charts::trend_grid(cs, 3)}))
            .collect();

        // Figure 3: median rho over the years, and years significant.
        let cs = table("correlations", Some("summary"))?;
        let (s_x, s_y, s_sig, s_sign, s_rho, s_corr) = (cs.strings("x")?, cs.strings("y")?, cs.i64s("years_significant")?, cs.strings("sign")?, cs.f64s("median_rho")?, cs.strings("correlated")?);
        let names: Vec<String> = s_x.iter().chain(&s_y).flatten().cloned().collect::<BTreeSet<_>>().into_iter().collect();
        let pos = |n: &str| names.iter().position(|x| x == n);
        let k = names.len();
        let mut values = vec![vec![f64::NAN; k]; k];
        let mut counts = vec![vec![0u32; k]; k];
        let mut pairs: Vec<Value> = Vec::new();
        for i in 0..cs.rows() {
            let (Some(x), Some(y)) = (&s_x[i], &s_y[i]) else { continue };
            let (Some(a), Some(b)) = (pos(x), pos(y)) else { continue };
            let rho = s_rho[i].unwrap_or(f64::NAN);
            values[a][b] = rho;
            values[b][a] = rho;
            let n = s_sig[i].unwrap_or(0) as u32;
            counts[a][b] = n;
            counts[b][a] = n;
            if s_corr[i].as_deref() == Some("true") {
                pairs.push(json!({"x": x, "y": y, "sign": s_sign[i], "years": n, "rho": format!("{rho:.2}")}));
            }
        }
        for (i, row) in values.iter_mut().enumerate() {
            row[i] = 1.0;
        }
        let figure3 = charts::heatmap(&charts::Heatmap {
            title: "Spearman correlations between indicators (median over years)".into(),
            labels: names.clone(),
            values,
            annotations: Some(counts),
            annotation_label: "years significant (p < 0.05)".into(),
            value_label: "median Spearman rho".into(),
        });

        // Table 2.
        let coef = table("model", Some("coefficients"))?;
        let (k_term, k_choice, k_coef) = (coef.strings("term")?, coef.strings("choice")?, coef.f64s("coefficient")?);
        let mut terms: BTreeMap<String, (Option<f64>, Option<f64>)> = BTreeMap::new();
        let mut term_order: Vec<String> = Vec::new();
        for i in 0..coef.rows() {
            let t = k_term[i].clone().unwrap_or_default();
            if !term_order.contains(&t) {
                term_order.push(t.clone());
            }
            let e = terms.entry(t).or_default();
            match k_choice[i].as_deref() {
                Some("lambda.min") => e.0 = k_coef[i],
                _ => e.1 = k_coef[i],
            }
        }
        let coefficients: Vec<Value> = term_order
            .iter()
            .map(|t| {
                let (a, b) = terms[t];
                json!({"term": t, "min": fmt(a, 4), "se": fmt(b, 4)})
            })
            .collect();
        let sm = table("model", Some("summary"))?;
        let summary: BTreeMap<String, String> = ["alpha", "n", "n_positive", "n_imputed", "lambda_min", "lambda_1se", "dev_ratio", "sensitivity", "specificity", "cv_sensitivity", "cv_specificity"]
            .iter()
            .map(|c| {
                let decimals = if c.starts_with("n") { 0 } else { 4 };
                Ok((c.to_string(), fmt(sm.f64s(c)?.first().copied().flatten(), decimals)))
            })
            .collect::<Result<_>>()?;
        let path = table("model", Some("path"))?;
        let cv = charts::cv_curve(&charts::CvCurve {
            title: "Cross-validated binomial deviance".into(),
            lambdas: path.f64s("lambda")?.into_iter().flatten().collect(),
            cvm: path.f64s("cvm")?.into_iter().flatten().collect(),
            cvsd: path.f64s("cvsd")?.into_iter().flatten().collect(),
            lambda_min: sm.f64s("lambda_min")?.first().copied().flatten().unwrap_or(f64::NAN),
            lambda_1se: sm.f64s("lambda_1se")?.first().copied().flatten().unwrap_or(f64::NAN),
            y_label: "binomial deviance".into(),
        });

        // Table 3.
        let co = table("cohorts", None)?;
        let co_cols = ["a_n", "a_median_change", "a_pct_rise", "b_n", "b_median_change", "b_pct_rise", "wilcoxon_p"];
        let co_ind = co.strings("indicator")?;
        let co_vals: Vec<Vec<Option<f64>>> = co_cols.iter().map(|c| co.f64s(c)).collect::<Result<_>>()?;
        let cohorts: Vec<Value> = (0..co.rows())
            .map(|i| {
                let mut m = serde_json::Map::new();
                m.insert("indicator".into(), json!(co_ind[i]));
                for (j, c) in co_cols.iter().enumerate() {
                    m.insert(c.to_string(), json!(fmt(co_vals[j][i], if c.ends_with("_n") { 0 } else { 2 })));
                }
                Value::Object(m)
            })
            .collect();

        // The stages, for the appendix.
        let stages: Vec<Value> = ctx
            .pipeline
            .order
            .iter()
            .map(|n| {
                let s = &ctx.pipeline.stages[n];
                json!({"name": n, "kind": s.kind, "inputs": s.inputs, "description": s.description,
                       "params": serde_json::to_string_pretty(&s.params).unwrap_or_default(), "sql": s.sql})
            })
            .collect();
        let dag = charts::dag(&charts::Dag {
            title: "The pipeline".into(),
            nodes: ctx
                .pipeline
                .sources
                .keys()
                .map(|s| charts::DagNode { name: s.clone(), kind: "source".into(), group: "source".into() })
                .chain(ctx.pipeline.order.iter().map(|n| {
                    let k = ctx.pipeline.stages[n].kind.clone();
                    charts::DagNode { name: n.clone(), group: k.split('.').next().unwrap_or("").to_string(), kind: k }
                }))
                .collect(),
            edges: ctx.pipeline.order.iter().flat_map(|n| ctx.pipeline.stages[n].inputs.iter().map(move |i| (i.clone(), n.clone()))).collect(),
        });
        let sources: Vec<Value> = ctx
            .pipeline
            .sources
            .values()
            .map(|s| json!({"name": s.name, "path": s.rel_path, "sha256": s.sha256, "publisher": s.publisher, "licence": s.licence, "landing_page": s.landing_page, "description": s.description}))
            .collect();

        let context = json!({
            "pipeline": ctx.pipeline.name,
            "sources": sources,
            "years": years,
            "coverage": coverage_rows,
            "breaks": breaks,
            "figure2": figure2.clone(),
            "figure3": figure3.clone(),
            "pairs": pairs,
            "coefficients": coefficients,
            "summary": summary,
            "cv_curve": cv.clone(),
            "cohorts_by_id": cohorts.iter().filter_map(|c| Some((c["indicator"].as_str()?.to_string(), c.clone()))).collect::<serde_json::Map<String, Value>>(),
            "cohorts": cohorts,
            "published": published,
            "stages": stages,
            "dag": dag.clone(),
        });
        let tera_ctx = tera::Context::from_value(context).map_err(|e| ctx.fail(format!("report context: {e}")))?;

        let mut written: Vec<(String, String, u64)> = Vec::new();
        let mut write = |rel: &str, bytes: &[u8]| -> Result<()> {
            let dest = out_dir.join(rel);
            crate::table::write_atomic(&dest, bytes)?;
            written.push((ctx.pipeline.relative(&dest).to_string(), crate::hash::sha256_bytes(bytes), bytes.len() as u64));
            Ok(())
        };
        for (name, file) in [("report.html.tera", "report.html"), ("report.md.tera", "report.md")] {
            let path = root.join(templates).join(name);
            let text = std::fs::read_to_string(&path).map_err(|e| Error::io("read the template", &path, e))?;
            let mut tera = tera::Tera::default();
            // Escape what the data says in the HTML; the SVGs are marked `safe` in the template.
            tera.autoescape_on(vec![".html.tera"]);
            tera.add_raw_template(name, &text)
                .map_err(|e| ctx.fail(format!("template `{}`: {}", path.display(), tera_error(&e))))?;
            let out = tera
                .render(name, &tera_ctx)
                .map_err(|e| ctx.fail(format!("template `{}`: {}", path.display(), tera_error(&e))).with_hint("the names a template may use are listed at the top of src/kinds/report.rs"))?;
            write(file, out.as_bytes())?;
        }
        // The Markdown twin shows its figures as SVG files beside it.
        for (i, f) in figure2.iter().enumerate() {
            write(&format!("figures/figure2_{}.svg", i + 1), f["svg"].as_str().unwrap_or_default().as_bytes())?;
        }
        write("figures/figure3.svg", figure3.as_bytes())?;
        write("figures/cv_curve.svg", cv.as_bytes())?;
        write("figures/dag.svg", dag.as_bytes())?;

        Ok(vec![TableBuilder::new()
            .str("path", written.iter().map(|w| w.0.clone()).collect())
            .str("sha256", written.iter().map(|w| w.1.clone()).collect())
            .i64("bytes", written.iter().map(|w| w.2 as i64).collect())
            .build(None)?])
    }
}

fn tera_error(e: &tera::Error) -> String {
    let mut s = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
    }
    s
}

fn fmt(v: Option<f64>, decimals: usize) -> String {
    match v {
        Some(x) if x.is_finite() => format!("{x:.decimals$}"),
        _ => "—".into(),
    }
}

fn unit_label(unit: &str) -> String {
    match unit {
        "pct" => "%".into(),
        "rate_per_10k" => "per 10,000 children aged 0-17".into(),
        "gbp_per_child" => "£ per child".into(),
        "count" => "count".into(),
        "ratio" => "ratio".into(),
        "score" => "score".into(),
        other => other.to_string(),
    }
}

/// The first words of a break note, for a label on a chart.
fn short(note: &str) -> String {
    let words: Vec<&str> = note.split_whitespace().take(4).collect();
    let mut s = words.join(" ");
    if note.split_whitespace().count() > 4 {
        s.push('…');
    }
    s
}
