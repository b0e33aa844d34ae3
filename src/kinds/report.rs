//! `report`: the study report, rendered from tera templates into `reports/report.html` (one
//! self-contained file, charts inline as SVG) and `reports/report.md` (charts as SVG files
//! beside it). The main table lists the files written with their hashes, so the lock records
//! them like any other output.
//!
//! Contents in the study's order: the data (sources, coverage, definition breaks), Figure 2,
//! Figure 3, Table 2, Table 3 — each beside the paper's published values with the difference —
//! and the provenance appendix (each stage's key, inputs and outputs with hashes, params, SQL,
//! duration; the run's commit, versions and host).
//!
//! Template names: `pipeline`, `sources`, `years`, `coverage`, `breaks`, `figure2`,
//! `figure2_paper`, `figure3`, `figure3_paper`, `pairs`, `coefficients`, `summary`,
//! `model_vs_paper`, `cv_curve`, `cohorts`, `cohorts_by_id`, `table3_paper`, `published`,
//! `stages` (each with `record` when it is upstream of the report), `dag`, `run`,
//! `report_stage`.

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
    ParamSpec { name: "predictor_year", ty: ParamType::Integer, required: false, help: "the model's predictor year, stated beside its results" },
    ParamSpec { name: "outcome_window", ty: ParamType::String, required: false, help: "the model's outcome window (`2012..2013`), stated beside its results" },
    ParamSpec { name: "cohorts_from", ty: ParamType::Integer, required: false, help: "the cohorts' first year, stated beside Table 3" },
    ParamSpec { name: "cohorts_to", ty: ParamType::Integer, required: false, help: "the cohorts' last year, stated beside Table 3" },
];

impl StageKind for Report {
    fn name(&self) -> &'static str {
        "report"
    }
    fn needs_upstream(&self) -> bool {
        true
    }
    fn version(&self) -> u32 {
        4
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
    fn side_outputs(&self, stage: &Stage) -> Vec<String> {
        let dir = stage.params.get("out_dir").and_then(|v| v.as_str()).unwrap_or("reports");
        vec![format!("{dir}/report.html"), format!("{dir}/report.md")]
    }
    /// The run as an RO-Crate beside the report: written from the lock, like the lock a record
    /// of the run rather than a cached output.
    fn after_run(&self, pipeline: &crate::pipeline::Pipeline, stage: &Stage, lock: &crate::engine::lock::Lock) -> Result<()> {
        crate::report::rocrate::write(pipeline, lock, &stage.name).map(|_| ())
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

        // Definitions: label, unit, quadrant per indicator; the breaks by year. A panel made by
        // a `harmonise` stage carries them; one made by plain SQL does not, and the report then
        // labels indicators by their ids.
        let mut info: BTreeMap<String, (String, String, String)> = BTreeMap::new();
        let mut breaks: Vec<Value> = Vec::new();
        let mut break_years: BTreeMap<String, Vec<(i64, String)>> = BTreeMap::new();
        if ctx.has_table("panel", Some("definitions")) {
        let defs = table("panel", Some("definitions"))?;
        let (d_ind, d_label, d_unit, d_quad, d_first, d_break) = (
            defs.strings("indicator")?,
            defs.strings("label")?,
            defs.strings("unit")?,
            defs.strings("quadrant")?,
            defs.i64s("first_year")?,
            defs.strings("break")?,
        );
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
        }

        // Coverage: share of LAs with a value, indicator × year — as `harmonise` tabled it, or
        // counted here from the panel's rows.
        let mut years: BTreeSet<i64> = BTreeSet::new();
        let mut coverage: BTreeMap<String, BTreeMap<i64, f64>> = BTreeMap::new();
        if ctx.has_table("panel", Some("coverage")) {
            let cov = table("panel", Some("coverage"))?;
            let (c_ind, c_year, c_share) = (cov.strings("indicator")?, cov.i64s("year")?, cov.f64s("share")?);
            for i in 0..cov.rows() {
                if let (Some(ind), Some(y), Some(s)) = (&c_ind[i], c_year[i], c_share[i]) {
                    years.insert(y);
                    coverage.entry(ind.clone()).or_default().insert(y, s);
                }
            }
        } else {
            let p = table("panel", None)?;
            let (p_la, p_year, p_ind, p_val) = (p.strings("la_code")?, p.i64s("year")?, p.strings("indicator")?, p.f64s("value")?);
            let all_las: BTreeSet<&String> = p_la.iter().flatten().collect();
            let mut with_value: BTreeMap<(String, i64), BTreeSet<&String>> = BTreeMap::new();
            for i in 0..p.rows() {
                if let (Some(la), Some(y), Some(ind)) = (&p_la[i], p_year[i], &p_ind[i]) {
                    years.insert(y);
                    let e = with_value.entry((ind.clone(), y)).or_default();
                    if p_val[i].is_some_and(f64::is_finite) {
                        e.insert(la);
                    }
                }
            }
            for ((ind, y), las) in with_value {
                coverage.entry(ind).or_default().insert(y, las.len() as f64 / all_las.len().max(1) as f64);
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
        // The paper's statements about Figure 2, beside the medians we find at both ends.
        let figure2_paper: Vec<Value> = published["trends"]
            .as_array()
            .map(|a| a.as_slice())
            .unwrap_or_default()
            .iter()
            .map(|t| {
                let id = t["indicator"].as_str().unwrap_or_default();
                let ours = points.get(id).and_then(|p| Some((p.first()?, p.last()?))).map(|(a, b)| {
                    let change = if b.median > a.median { "rose" } else if b.median < a.median { "fell" } else { "was unchanged" };
                    format!("median {:.1} in {} → {:.1} in {} ({change})", a.median, a.year, b.median, b.year)
                });
                json!({"indicator": id, "paper": t["statement"], "ours": ours.unwrap_or_else(|| "not in our panel".into())})
            })
            .collect();
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
        // Figure 3 proper: each indicator's correlation with re-referrals, and its years
        // significant (the heatmap above shows every pair).
        const FOCUS: &str = "re_referrals_pct";
        let mut with_focus: Vec<(String, f64, i64)> = (0..cs.rows())
            .filter_map(|i| {
                let (x, y) = (s_x[i].as_deref()?, s_y[i].as_deref()?);
                let other = if x == FOCUS { y } else if y == FOCUS { x } else { return None };
                Some((other.to_string(), s_rho[i]?, s_sig[i].unwrap_or(0)))
            })
            .filter(|t| t.1.is_finite())
            .collect();
        with_focus.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let figure3_focus = (!with_focus.is_empty()).then(|| {
            charts::bar_chart(&charts::BarChart {
                title: "Correlation with re-referrals (median over years; years significant)".into(),
                x_label: "median Spearman rho with % re-referrals".into(),
                bars: with_focus.iter().map(|(n, r, k)| charts::Bar { label: format!("{n} ({k})"), value: *r }).collect(),
                decimals: 2,
                plot_width: 0.0,
            })
        });
        // The pairs the paper found, and whether we find them too.
        let figure3_paper: Vec<Value> = published["correlations"]["found"]
            .as_array()
            .map(|a| a.as_slice())
            .unwrap_or_default()
            .iter()
            .map(|f| {
                let (x, y) = (f["x"].as_str().unwrap_or_default(), f["y"].as_str().unwrap_or_default());
                let row = (0..cs.rows()).find(|&i| {
                    let (a, b) = (s_x[i].as_deref(), s_y[i].as_deref());
                    (a == Some(x) && b == Some(y)) || (a == Some(y) && b == Some(x))
                });
                let (ours, agree) = match row {
                    None => ("not in our panel".to_string(), "cannot compare"),
                    Some(i) => {
                        let sign = s_sign[i].clone().unwrap_or_default();
                        let found = s_corr[i].as_deref() == Some("true");
                        let text = format!(
                            "{}, {} in {} year(s), median rho {}",
                            if found { "found" } else { "not found" },
                            sign,
                            s_sig[i].unwrap_or(0),
                            fmt(s_rho[i], 2)
                        );
                        let same = found && f["sign"].as_str() == Some(sign.as_str());
                        (text, if same { "agrees" } else { "differs" })
                    }
                };
                json!({"x": x, "y": y, "paper": f["sign"], "ours": ours, "agree": agree})
            })
            .collect();
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
        let versus = |ours: &str, paper: &Value| -> Value {
            let o = summary.get(ours).and_then(|v| v.parse::<f64>().ok());
            let diff = match (o, paper.as_f64()) {
                (Some(a), Some(b)) => format!("{:+.2}", a - b),
                _ => "—".into(),
            };
            json!({"ours": summary.get(ours), "paper": paper, "difference": diff})
        };
        let model_vs_paper = json!({
            "dev_ratio": versus("dev_ratio", &published["model"]["deviance_explained"]),
            "sensitivity": versus("sensitivity", &published["model"]["sensitivity"]),
            "specificity": versus("specificity", &published["model"]["specificity"]),
        });
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

        // New years: the early-warning evaluation out of time, when the report reads one.
        let early_warning = if ctx.stage.inputs.iter().any(|i| i == "early_warning") {
            Some(early_warning_context(ctx, &published)?)
        } else {
            None
        };

        // Table 3 beside the paper's rows, with the differences.
        let table3_paper: Vec<Value> = published["cohorts"]["rows"]
            .as_array()
            .map(|a| a.as_slice())
            .unwrap_or_default()
            .iter()
            .map(|r| {
                let ours = r["id"].as_str().and_then(|id| cohorts.iter().find(|c| c["indicator"].as_str() == Some(id)));
                let cell = |col: &str| -> Value {
                    let o = ours.and_then(|c| c[col].as_str()).and_then(|v| v.parse::<f64>().ok());
                    let p = r[col].as_f64();
                    json!({
                        "ours": o.map(|v| format!("{v:.2}")).unwrap_or_else(|| "—".into()),
                        "paper": p,
                        "difference": match (o, p) { (Some(a), Some(b)) => format!("{:+.2}", a - b), _ => "—".into() },
                    })
                };
                json!({"indicator": r["indicator"], "id": r["id"], "a_median_change": cell("a_median_change"), "a_pct_rise": cell("a_pct_rise"),
                       "b_median_change": cell("b_median_change"), "b_pct_rise": cell("b_pct_rise")})
            })
            .collect();

        // The stages, for the appendix.
        // Records are shown only for the stages this report depends on: which others happen to
        // have finished first depends on --jobs, and the report must not.
        let ancestors = ctx.pipeline.upstream_closure(std::slice::from_ref(&ctx.stage.name));
        let stages: Vec<Value> = ctx
            .pipeline
            .order
            .iter()
            .map(|n| {
                let s = &ctx.pipeline.stages[n];
                let record = ctx.upstream.get(n).filter(|_| ancestors.contains(n)).map(|r| {
                    json!({
                        "key": r.key,
                        "kind_version": r.kind_version,
                        "inputs": r.inputs.iter().map(|(k, v)| json!({"name": k, "sha256": v})).collect::<Vec<_>>(),
                        "files": r.files.iter().map(|(k, v)| json!({"path": k, "sha256": v})).collect::<Vec<_>>(),
                        "outputs": r.outputs.iter().map(|o| json!({"path": o.path, "rows": o.rows, "sha256": o.sha256})).collect::<Vec<_>>(),
                        "started": r.started,
                        "duration": format!("{:.2} s", r.duration_ms as f64 / 1000.0),
                    })
                });
                json!({"name": n, "kind": s.kind, "inputs": s.inputs, "description": s.description,
                       "params": serde_json::to_string_pretty(&s.params).unwrap_or_default(), "sql": s.sql,
                       "sql_file": s.sql_file, "record": record, "this": *n == ctx.stage.name})
            })
            .collect();
        let run = crate::engine::lock::RunInfo::current(root);
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
            "figure2_paper": figure2_paper,
            "figure3_paper": figure3_paper,
            "figure3_focus": figure3_focus.clone(),
            "model_vs_paper": model_vs_paper,
            "table3_paper": table3_paper,
            "run": run,
            "report_stage": ctx.stage.name,
            "early_warning": early_warning,
            "window": {
                "predictor_year": ctx.param_i64("predictor_year"),
                "outcome_window": ctx.param_str("outcome_window").map(|w| w.replace("..", "–")),
                "cohorts": match (ctx.param_i64("cohorts_from"), ctx.param_i64("cohorts_to")) {
                    (Some(a), Some(b)) => Some(format!("{a}–{b}")),
                    _ => None,
                },
            },
        });
        let tera_ctx = tera::Context::from_value(context).map_err(|e| ctx.fail(format!("report context: {e}")))?;

        let mut written: Vec<(String, String, u64)> = Vec::new();
        let mut write = |rel: &str, bytes: &[u8]| -> Result<()> {
            let dest = out_dir.join(rel);
            crate::table::write_atomic(&dest, bytes)?;
            let content = without_run_specific(&String::from_utf8_lossy(bytes));
            written.push((ctx.pipeline.relative(&dest).to_string(), crate::hash::sha256_bytes(content.as_bytes()), content.len() as u64));
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
        if let Some(f) = &figure3_focus {
            write("figures/figure3_rereferrals.svg", f.as_bytes())?;
        }
        write("figures/cv_curve.svg", cv.as_bytes())?;
        write("figures/dag.svg", dag.as_bytes())?;

        // Hashed without their run-specific blocks (durations, host, commit), so the table — and
        // the lock — stay byte-identical from run to run and machine to machine.
        Ok(vec![TableBuilder::new()
            .str("path", written.iter().map(|w| w.0.clone()).collect())
            .str("content_sha256", written.iter().map(|w| w.1.clone()).collect())
            .i64("content_bytes", written.iter().map(|w| w.2 as i64).collect())
            .build(None)?])
    }
}

/// Marks a block of a rendered report that depends on the run, not on the data: durations,
/// dates, host, commit, a verification verdict. Templates wrap such blocks in these HTML
/// comments (valid in Markdown).
pub const RUN_SPECIFIC_START: &str = "<!-- run-specific -->";
pub const RUN_SPECIFIC_END: &str = "<!-- /run-specific -->";

/// The text with every run-specific block removed, markers and all: what the report's content
/// hash and its snapshot test are taken over, so that adding or changing such a block (a
/// verification section, another run's durations) leaves the content as it was.
pub fn without_run_specific(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(RUN_SPECIFIC_START) {
        out.push_str(&rest[..start]);
        let after = start + RUN_SPECIFIC_START.len();
        match rest[after..].find(RUN_SPECIFIC_END) {
            Some(end) => rest = &rest[after + end + RUN_SPECIFIC_END.len()..],
            None => {
                rest = "";
                break;
            }
        }
    }
    out.push_str(rest);
    out
}

/// The early-warning section: the evaluation per origin, which predictors the models kept, and
/// sentences comparing the new years with the paper's Table 2 — written from the numbers.
fn early_warning_context(ctx: &StageContext, published: &Value) -> Result<Value> {
    let read = |t: &str| -> Result<TableData> {
        let (s, b) = ctx.read_table("early_warning", Some(t))?;
        TableData::new(&format!("`early_warning_{t}`"), s, &b)
    };
    let ev = read("evaluation")?;
    let (origin, window, model) = (ev.i64s("origin_year")?, ev.strings("outcome_window")?, ev.strings("model")?);
    let cols = ["flag_at", "sensitivity", "specificity", "ppv", "auc", "auc_lo", "auc_hi"];
    let vals: Vec<Vec<Option<f64>>> = cols.iter().map(|c| ev.f64s(c)).collect::<Result<_>>()?;
    let (n_test, positives, flagged, n_train) = (ev.i64s("n_test")?, ev.i64s("positives")?, ev.i64s("flagged")?, ev.i64s("n_train")?);
    let mut rows = Vec::new();
    let mut by_model: BTreeMap<String, Vec<(f64, f64, f64)>> = BTreeMap::new();
    for i in 0..ev.rows() {
        let m = model[i].clone().unwrap_or_default();
        let pct = |v: Option<f64>| v.map(|x| format!("{:.0}%", 100.0 * x)).unwrap_or_else(|| "—".into());
        rows.push(json!({
            "origin": origin[i], "window": window[i].as_deref().unwrap_or("").replace("..", "–"), "model": m,
            "n_train": n_train[i], "n_test": n_test[i], "positives": positives[i], "flagged": flagged[i],
            "flag_at": fmt(vals[0][i], 3),
            "sensitivity": pct(vals[1][i]), "specificity": pct(vals[2][i]), "ppv": pct(vals[3][i]),
            "auc": fmt(vals[4][i], 2), "auc_ci": format!("{}–{}", fmt(vals[5][i], 2), fmt(vals[6][i], 2)),
        }));
        if let (Some(a), Some(se), Some(sp)) = (vals[4][i], vals[1][i], vals[2][i]) {
            by_model.entry(m).or_default().push((a, se, sp));
        }
    }
    let summary = |m: &str| -> Option<Value> {
        let v = by_model.get(m)?;
        let med = |k: usize| {
            let x: Vec<f64> = v.iter().map(|t| [t.0, t.1, t.2][k]).collect();
            crate::stats::quantile::median(&x)
        };
        let lo = v.iter().map(|t| t.0).fold(f64::INFINITY, f64::min);
        let hi = v.iter().map(|t| t.0).fold(f64::NEG_INFINITY, f64::max);
        Some(json!({"origins": v.len(), "auc_median": format!("{:.2}", med(0)), "auc_range": format!("{lo:.2}–{hi:.2}"),
                    "sensitivity": format!("{:.0}%", 100.0 * med(1)), "specificity": format!("{:.0}%", 100.0 * med(2)),
                    "auc_value": med(0)}))
    };
    let (canary, baseline) = (summary("canary"), summary("baseline"));

    // Which predictors the models kept: origins with a nonzero coefficient, and its sign.
    let co = read("coefficients")?;
    let (c_origin, c_term, c_coef) = (co.i64s("origin_year")?, co.strings("term")?, co.f64s("coefficient")?);
    let evaluated: BTreeSet<i64> = origin.iter().flatten().copied().collect();
    let mut kept: BTreeMap<String, (usize, usize, usize)> = BTreeMap::new(); // term → (nonzero, positive, origins)
    for i in 0..co.rows() {
        let (Some(o), Some(t), Some(c)) = (c_origin[i], &c_term[i], c_coef[i]) else { continue };
        if t == "(Intercept)" || !evaluated.contains(&o) {
            continue;
        }
        let e = kept.entry(t.clone()).or_default();
        e.2 += 1;
        if c != 0.0 {
            e.0 += 1;
            if c > 0.0 {
                e.1 += 1;
            }
        }
    }
    let predictors: Vec<Value> = kept
        .iter()
        .map(|(t, (nz, pos, n))| {
            json!({"term": t, "kept": nz, "origins": n,
                   "sign": if *nz == 0 { "—" } else if pos * 2 >= *nz { "+ (higher = more risk)" } else { "− (higher = less risk)" }})
        })
        .collect();
    let matters: Vec<&String> = kept.iter().filter(|(_, (nz, _, n))| *n > 0 && nz * 2 > *n).map(|(t, _)| t).collect();

    // The comparison, in words computed from the numbers.
    let mut sentences = Vec::new();
    let paper_sens = published["model"]["sensitivity"].as_f64();
    let paper_spec = published["model"]["specificity"].as_f64();
    if let Some(c) = &canary {
        sentences.push(format!(
            "Tested out of time at {} origins, the lead-indicator model's AUC was {} (median; range {}), with a median sensitivity of {} and specificity of {} at its flag threshold — against the paper's in-sample {} and {}.",
            c["origins"], c["auc_median"].as_str().unwrap_or(""), c["auc_range"].as_str().unwrap_or(""),
            c["sensitivity"].as_str().unwrap_or(""), c["specificity"].as_str().unwrap_or(""),
            paper_sens.map(|v| format!("{:.0}%", 100.0 * v)).unwrap_or_default(), paper_spec.map(|v| format!("{:.0}%", 100.0 * v)).unwrap_or_default()
        ));
    }
    if let (Some(c), Some(b)) = (&canary, &baseline) {
        let (a, z) = (c["auc_value"].as_f64().unwrap_or(f64::NAN), b["auc_value"].as_f64().unwrap_or(f64::NAN));
        sentences.push(format!(
            "The naive baseline — flag the LAs whose last judgement was inadequate or requires improvement — reached a median AUC of {}; the model {} it{}.",
            b["auc_median"].as_str().unwrap_or(""),
            if a > z + 0.02 { "beat" } else if a + 0.02 < z { "fell short of" } else { "roughly matched" },
            if (a - z).abs() > 0.02 { format!(" by {:.2}", (a - z).abs()) } else { String::new() }
        ));
    }
    sentences.push(if matters.is_empty() {
        "No lead indicator was kept by the model at more than half of the origins: none carried a stable signal.".to_string()
    } else {
        format!("Kept at more than half of the origins: {}.", matters.iter().map(|m| format!("`{m}`")).collect::<Vec<_>>().join(", "))
    });
    let paper_terms: Vec<String> = published["model"]["coefficients"].as_array().map(|a| a.iter().filter_map(|c| c["term"].as_str().map(str::to_string)).collect()).unwrap_or_default();
    if !paper_terms.is_empty() {
        sentences.push(format!("The paper's Table 2 kept {}.", paper_terms.join("; ")));
    }
    Ok(json!({"rows": rows, "canary": canary, "baseline": baseline, "predictors": predictors, "sentences": sentences}))
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

/// An axis title for a dictionary unit.
pub fn unit_label(unit: &str) -> String {
    match unit {
        "pct" => "%".into(),
        "rateper10k" | "rate_per_10k" => "per 10,000 children aged 0-17".into(),
        "gbpperchild" | "gbp_per_child" => "£ per child".into(),
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
