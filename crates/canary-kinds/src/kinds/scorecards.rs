//! `scorecards`: one page per LA with its lead indicators over time against its DfE statistical
//! neighbours and England (median and IQR bands), flags where it moves outside its
//! neighbours' range, its Ofsted history and the early-warning model's forecast with its
//! interval — the lead indicators an improvement board reviews (seeds 001, 003). Pages are
//! static HTML (charts inline) and Markdown (the numbers as tables), at
//! `<out_dir>/<la_code>.html` with an index; each carries the study's caution.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value};

use crate::pipeline::KindSpec;
use crate::stage::columns::{from_rows, TableData};
use schemars::JsonSchema;
use serde::Deserialize;

use crate::error::{Error, Result};
use crate::params::{self, KindParams};
use crate::pipeline::Stage;
use crate::report::charts;
use crate::stage::TableDoc;
use crate::stage::{OutputTable, StageContext, StageKind};

pub struct Scorecards;

/// The params of a `scorecards` stage.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ScorecardsParams {
    /// the lead indicators shown, in order
    pub indicators: Vec<String>,
    /// the source holding the DfE statistical neighbour groups (CSV)
    pub neighbours: String,
    /// the first year shown (none: the panel's first)
    pub from_year: Option<i64>,
    /// the early-warning forecast shown (none: the latest origin)
    pub forecast_year: Option<i64>,
    /// the folder holding scorecard.html.tera and scorecard.md.tera
    pub templates: String,
    /// where the pages are written (reports/scorecards)
    pub out_dir: String,
}

/// The templates, in the folder the `templates` param names: each LA's page and the index.
const TEMPLATES: [&str; 4] = [
    "scorecard.html.tera",
    "scorecard.md.tera",
    "scorecards_index.html.tera",
    "scorecards_index.md.tera",
];

/// The study's caution, on every page.
pub const CAUTION: &str = "These indicators only point to where to look: they do not prove that a service has a problem, and a value outside the neighbours' range can have good reasons. Read them with the LA's own context.";

impl KindSpec for Scorecards {
    fn params(&self) -> &KindParams {
        static P: params::Lazy = params::Lazy::new(KindParams::of::<ScorecardsParams>);
        &P
    }

    fn files(&self, stage: &Stage) -> Vec<String> {
        match stage.params_as::<ScorecardsParams>() {
            Ok(p) => TEMPLATES
                .iter()
                .map(|n| format!("{}/{n}", p.templates.trim_end_matches('/')))
                .collect(),
            Err(_) => vec![],
        }
    }

    fn check(&self, stage: &Stage) -> std::result::Result<(), String> {
        for i in ["panel", "ofsted", "early_warning"] {
            if !stage.inputs.iter().any(|x| x == i) {
                return Err(format!("a `scorecards` stage reads `panel`, `ofsted`, `early_warning` and the neighbours source; `{i}` is missing from its inputs"));
            }
        }
        let p: ScorecardsParams = stage.params_as()?;
        {
            let n = &p.neighbours;
            if !stage.inputs.iter().any(|x| x == n) {
                return Err(format!(
                    "param `neighbours` names `{n}`, which is not among the stage's inputs"
                ));
            }
        }
        Ok(())
    }
}

impl StageKind for Scorecards {
    fn name(&self) -> &'static str {
        "scorecards"
    }

    fn version(&self) -> u32 {
        3
    }

    fn describe(&self) -> &'static str {
        "a page per LA: lead indicators against statistical neighbours and England, Ofsted history, the model's forecast"
    }

    fn outputs(&self) -> &'static [TableDoc] {
        &[TableDoc {
            name: "",
            columns: &["la_code", "path", "sha256"],
        }]
    }

    fn side_outputs(&self, stage: &Stage) -> Vec<String> {
        // The whole folder: a page per LA and the index, moved into place together.
        match stage.params_as::<ScorecardsParams>() {
            Ok(p) => vec![format!("{}/", p.out_dir.trim_end_matches('/'))],
            Err(_) => vec![],
        }
    }

    fn run(&self, ctx: &StageContext) -> Result<Vec<OutputTable>> {
        let root = &ctx.pipeline.root;
        let p: ScorecardsParams = ctx.params()?;
        let out_rel = p.out_dir.trim_end_matches('/').to_string();
        let study = Study::read(ctx, &p)?;
        let mut pages = Pages {
            ctx,
            tera: templates_for(ctx, &root.join(&p.templates))?,
            out_dir: root.join(&out_rel),
            out_rel,
            written: Vec::new(),
        };
        let mut index: Vec<Value> = Vec::new();
        for (la, (_, name, old)) in &study.panel.names {
            index.push(study.la_pages(&mut pages, la, name, old)?);
        }
        index.sort_by(|a, b| a["la_name"].as_str().cmp(&b["la_name"].as_str()));
        // The index, like the pages, from templates (tera escapes the HTML).
        let ictx = tera::Context::from_value(
            json!({"index": index, "forecast_year": study.forecast_year, "caution": CAUTION}),
        )
        .map_err(|e| ctx.fail(format!("scorecards index context: {e}")))?;
        for (tpl, file) in [
            ("scorecards_index.html.tera", "index.html"),
            ("scorecards_index.md.tera", "index.md"),
        ] {
            pages.render(tpl, &ictx, file, String::new())?;
        }
        let rows: Vec<rows::Page> = pages
            .written
            .into_iter()
            .map(|(la_code, path, sha256)| rows::Page {
                la_code,
                path,
                sha256,
            })
            .collect();
        Ok(vec![from_rows(None, &rows)?])
    }
}

/// One of the stage's inputs as a table, named as SQL names it in errors.
fn read_input(ctx: &StageContext, input: &str, t: Option<&str>) -> Result<TableData> {
    let (s, b) = ctx.read_table(input, t)?;
    TableData::new(
        &format!("`{}`", crate::pipeline::Pipeline::sql_table_name(input, t)),
        s,
        &b,
    )
}

/// (indicator, LA) → year → value: the lead indicators from the first year shown.
type Values = BTreeMap<(String, String), BTreeMap<i64, f64>>;

/// LA → (year, name, old code) of the latest year the panel holds it.
type Names = BTreeMap<String, (i64, String, Option<String>)>;

/// The panel as the scorecards show it: the lead indicators' values, every LA's latest name
/// and old code, and the years shown.
struct Panel {
    values: Values,
    names: Names,
    years: Vec<i64>,
}

/// The panel's values of the lead indicators by LA and year, after checking that it holds
/// every indicator the params name.
fn read_panel(ctx: &StageContext, p: &ScorecardsParams) -> Result<Panel> {
    let indicators = &p.indicators;
    let panel = read_input(ctx, "panel", None)?.records::<rows::PanelValue>()?;
    let from_year = p.from_year.unwrap_or(i64::MIN);
    // A name the panel does not hold is a typo, not a filter (did you mean …?).
    let present: BTreeSet<&str> = panel
        .iter()
        .filter_map(|r| r.indicator.as_deref())
        .collect();
    crate::stage::names_in_input(
        ctx,
        "indicators",
        indicators.iter().map(String::as_str),
        &present,
        "panel",
    )?;
    let wanted: BTreeSet<&String> = indicators.iter().collect();
    let mut values: Values = BTreeMap::new();
    let mut names: Names = BTreeMap::new();
    let mut years: BTreeSet<i64> = BTreeSet::new();
    for r in &panel {
        let (Some(la), Some(y)) = (&r.la_code, r.year) else {
            continue;
        };
        if names.get(la).is_none_or(|(yy, _, _)| y >= *yy) {
            names.insert(
                la.clone(),
                (
                    y,
                    r.la_name.clone().unwrap_or_default(),
                    r.la_code_old.clone(),
                ),
            );
        }
        let (Some(ind), Some(v)) = (&r.indicator, r.value) else {
            continue;
        };
        if y < from_year || !wanted.contains(ind) || !v.is_finite() {
            continue;
        }
        years.insert(y);
        values
            .entry((ind.clone(), la.clone()))
            .or_default()
            .insert(y, v);
    }
    Ok(Panel {
        values,
        names,
        years: years.into_iter().collect(),
    })
}

/// Each LA's headline Ofsted judgements: (published, framework, judgement, grade).
fn read_history(ctx: &StageContext) -> Result<BTreeMap<String, Vec<Judgement>>> {
    let mut history: BTreeMap<String, Vec<Judgement>> = BTreeMap::new();
    for j in read_input(ctx, "ofsted", None)?.records::<rows::Inspection>()? {
        if j.headline != Some(true) {
            continue;
        }
        if let Some(la) = j.la_code {
            history.entry(la).or_default().push((
                j.published.unwrap_or_default(),
                j.framework.unwrap_or_default(),
                j.judgement.unwrap_or_default(),
                j.grade,
            ));
        }
    }
    Ok(history)
}

/// LA → the model's prediction at each origin, as a page shows it.
type Predictions = BTreeMap<String, Vec<Value>>;

/// The early-warning model's predictions by LA, and the origin year whose forecast the
/// pages show (the param's, else the latest).
fn read_predictions(
    ctx: &StageContext,
    forecast_year: Option<i64>,
) -> Result<(Option<i64>, Predictions)> {
    let rows =
        read_input(ctx, "early_warning", Some("predictions"))?.records::<rows::Prediction>()?;
    let latest = rows.iter().filter_map(|r| r.origin_year).max();
    let forecast_year = forecast_year.or(latest);
    let mut predictions: Predictions = BTreeMap::new();
    for r in rows {
        let Some(la) = r.la_code else { continue };
        predictions.entry(la).or_default().push(json!({
            "origin": r.origin_year, "observed": r.observed, "forecast": r.origin_year == forecast_year,
            "probability": pct(r.probability), "lo": pct(r.probability_lo), "hi": pct(r.probability_hi),
            "flagged": r.flagged == Some(true),
        }));
    }
    Ok((forecast_year, predictions))
}

/// The values of the given LAs for one indicator and year, in the LAs' order.
fn values_of<'a>(
    values: &Values,
    las: impl Iterator<Item = &'a String>,
    ind: &str,
    y: i64,
) -> Vec<f64> {
    las.filter_map(|g| {
        values
            .get(&(ind.to_string(), g.clone()))
            .and_then(|m| m.get(&y))
            .copied()
    })
    .collect()
}

/// England: every LA's values, once per indicator and year.
fn england_bands(
    indicators: &[String],
    panel: &Panel,
) -> BTreeMap<(String, i64), crate::stats::quantile::FiveNumber> {
    let mut england = BTreeMap::new();
    for ind in indicators {
        for &y in &panel.years {
            let all = values_of(&panel.values, panel.names.keys(), ind, y);
            if !all.is_empty() {
                england.insert((ind.clone(), y), crate::stats::quantile::five_number(&all));
            }
        }
    }
    england
}

/// Everything a page shows, read once for every LA.
struct Study {
    indicators: Vec<String>,
    panel: Panel,
    /// old code → current code, to find an LA's neighbours in the panel
    by_old: BTreeMap<String, String>,
    labels: BTreeMap<String, (String, String)>,
    /// statistical neighbours, by old code
    neighbours: BTreeMap<String, Vec<String>>,
    history: BTreeMap<String, Vec<Judgement>>,
    predictions: Predictions,
    forecast_year: Option<i64>,
    england: BTreeMap<(String, i64), crate::stats::quantile::FiveNumber>,
}

/// The pages written so far into the staging folder: (la_code, path, sha256) each.
struct Pages<'a> {
    ctx: &'a StageContext<'a>,
    tera: tera::Tera,
    out_dir: std::path::PathBuf,
    out_rel: String,
    written: Vec<(String, String, String)>,
}

impl Pages<'_> {
    /// One page from its template, written and recorded under the LA it belongs to.
    fn render(&mut self, tpl: &str, tctx: &tera::Context, file: &str, la: String) -> Result<()> {
        let ctx = self.ctx;
        let text = self
            .tera
            .render(tpl, tctx)
            .map_err(|e| ctx.fail(format!("template `{tpl}`: {e}")))?;
        let dest = self.out_dir.join(file);
        write_page(ctx, &format!("{}/{file}", self.out_rel), &text)?;
        self.written.push((
            la,
            ctx.pipeline.relative(&dest).to_string(),
            crate::hash::sha256_bytes(text.as_bytes()),
        ));
        Ok(())
    }
}

impl Study {
    /// The panel, the neighbour groups, Ofsted's judgements and the model's predictions.
    fn read(ctx: &StageContext, p: &ScorecardsParams) -> Result<Study> {
        let panel = read_panel(ctx, p)?;
        let by_old: BTreeMap<String, String> = panel
            .names
            .iter()
            .filter_map(|(la, (_, _, old))| Some((old.clone()?, la.clone())))
            .collect();
        let labels = indicator_labels(ctx)?;
        let ncode = p.neighbours.as_str();
        let neighbours = read_neighbours(ctx.source_path(ncode)?)?;
        let history = read_history(ctx)?;
        let (forecast_year, predictions) = read_predictions(ctx, p.forecast_year)?;
        let england = england_bands(&p.indicators, &panel);
        Ok(Study {
            indicators: p.indicators.clone(),
            panel,
            by_old,
            labels,
            neighbours,
            history,
            predictions,
            forecast_year,
            england,
        })
    }

    /// An LA's two pages (HTML and Markdown); its entry in the index.
    fn la_pages(
        &self,
        pages: &mut Pages,
        la: &str,
        name: &str,
        old: &Option<String>,
    ) -> Result<Value> {
        let ctx = pages.ctx;
        let names = &self.panel.names;
        let group: Vec<String> = old
            .as_ref()
            .and_then(|o| self.neighbours.get(o))
            .map(|ns| {
                ns.iter()
                    .filter_map(|n| self.by_old.get(n).cloned())
                    .collect()
            })
            .unwrap_or_default();
        let group_names: Vec<String> = group
            .iter()
            .map(|g| names.get(g).map(|n| n.1.clone()).unwrap_or_default())
            .collect();
        let mut cards = Vec::new();
        let mut flag_count = 0;
        for ind in &self.indicators {
            let (card, flags) = self.card(la, name, &group, ind);
            flag_count += flags;
            cards.push(card);
        }
        let mut hist = self.history.get(la).cloned().unwrap_or_default();
        hist.sort();
        let preds = self.predictions.get(la).cloned().unwrap_or_default();
        let forecast = preds.iter().find(|p| p["forecast"] == true).cloned();
        let context = json!({
            "la_code": la, "la_name": name, "la_code_old": old,
            "neighbours": group.iter().zip(&group_names).map(|(c, n)| json!({"code": c, "name": n})).collect::<Vec<_>>(),
            "indicators": cards, "flag_count": flag_count,
            "ofsted": hist.iter().map(|h| json!({"published": h.0, "framework": h.1, "judgement": h.2, "grade": h.3})).collect::<Vec<_>>(),
            "predictions": preds, "forecast": forecast, "forecast_year": self.forecast_year,
            "caution": CAUTION, "pipeline": ctx.pipeline.name,
        });
        let tctx = tera::Context::from_value(context)
            .map_err(|e| ctx.fail(format!("scorecard context: {e}")))?;
        for (tpl, ext) in [("scorecard.html.tera", "html"), ("scorecard.md.tera", "md")] {
            pages.render(tpl, &tctx, &format!("{la}.{ext}"), la.to_string())?;
        }
        Ok(json!({"la_code": la, "la_name": name, "flags": flag_count, "forecast": forecast}))
    }

    /// One lead indicator on an LA's page: its value each year against its neighbours' and
    /// England's median and IQR, the years it lies outside its neighbours' range, and the
    /// chart; with the number of those years.
    fn card(&self, la: &str, name: &str, group: &[String], ind: &str) -> (Value, usize) {
        let own = self.panel.values.get(&(ind.to_string(), la.to_string()));
        let mut rows = Vec::new();
        let (mut own_pts, mut nb_pts, mut en_pts) = (Vec::new(), Vec::new(), Vec::new());
        let mut flags = Vec::new();
        for &y in &self.panel.years {
            let nb = values_of(&self.panel.values, group.iter(), ind, y);
            let v = own.and_then(|m| m.get(&y)).copied();
            let nf = (!nb.is_empty()).then(|| crate::stats::quantile::five_number(&nb));
            let ef = self.england.get(&(ind.to_string(), y));
            let outside = match (v, nb.len() >= 3) {
                (Some(v), true) => outside_range(y, v, &nb),
                _ => None,
            };
            if let Some(f) = &outside {
                flags.push(f.clone());
            }
            own_pts.push(charts::TrendPoint {
                year: y as i32,
                median: v.unwrap_or(f64::NAN),
                q1: f64::NAN,
                q3: f64::NAN,
            });
            if let Some(f) = &nf {
                nb_pts.push(band_point(y, f));
            }
            if let Some(f) = &ef {
                en_pts.push(band_point(y, f));
            }
            rows.push(json!({
                "year": y, "value": v.map(num), "outside": outside.is_some(),
                "neighbours": nf.as_ref().map(|f| format!("{} ({}–{})", num(f.median), num(f.q1), num(f.q3))),
                "england": ef.as_ref().map(|f| format!("{} ({}–{})", num(f.median), num(f.q1), num(f.q3))),
            }));
        }
        let (label, unit) = self
            .labels
            .get(ind)
            .cloned()
            .unwrap_or_else(|| (ind.to_string(), String::new()));
        let svg = charts::trend_chart(&charts::TrendChart {
            title: label.clone(),
            x_label: "year (ending 31 March)".into(),
            y_label: unit,
            series: vec![
                charts::TrendSeries {
                    name: name.to_string(),
                    points: own_pts,
                },
                charts::TrendSeries {
                    name: "statistical neighbours (median)".into(),
                    points: nb_pts,
                },
                charts::TrendSeries {
                    name: "England (median)".into(),
                    points: en_pts,
                },
            ],
            breaks: vec![],
            width: 460.0,
            height: 300.0,
        });
        let n = flags.len();
        (
            json!({"indicator": ind, "label": label, "svg": svg, "rows": rows, "flags": flags}),
            n,
        )
    }
}

/// The flag for a year an LA lies below or above its neighbours' range, if it does.
fn outside_range(y: i64, v: f64, nb: &[f64]) -> Option<String> {
    let (lo, hi) = nb
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
            (a.min(*x), b.max(*x))
        });
    (v < lo || v > hi).then(|| {
        format!(
            "{y}: {} is {} its neighbours' range ({}–{})",
            num(v),
            if v < lo { "below" } else { "above" },
            num(lo),
            num(hi)
        )
    })
}

/// A year's median and IQR band on a trend chart.
fn band_point(y: i64, f: &crate::stats::quantile::FiveNumber) -> charts::TrendPoint {
    charts::TrendPoint {
        year: y as i32,
        median: f.median,
        q1: f.q1,
        q3: f.q3,
    }
}

fn pct(v: Option<f64>) -> Option<String> {
    v.map(|x| format!("{:.0}%", 100.0 * x))
}

fn num(v: f64) -> String {
    if v.abs() >= 100.0 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// Labels and units of the indicators, from the panel's definitions when it has them.
fn indicator_labels(ctx: &StageContext) -> Result<BTreeMap<String, (String, String)>> {
    let mut out = BTreeMap::new();
    if !ctx.has_table("panel", Some("definitions")) {
        return Ok(out);
    }
    let (s, b) = ctx.read_table("panel", Some("definitions"))?;
    for d in TableData::new("`panel_definitions`", s, &b)?.records::<rows::Definition>()? {
        if let Some(id) = d.indicator {
            let u = super::report::unit_label(d.unit.as_deref().unwrap_or(""));
            let label = d.label.unwrap_or_else(|| id.clone());
            out.entry(id).or_insert((label, u));
        }
    }
    Ok(out)
}

/// The DfE statistical neighbour groups: old 3-digit LA number → its ten neighbours, closest
/// first. The file's current groupings win over its "Old SNs" table of pre-reorganisation LAs.
pub fn read_neighbours(path: &std::path::Path) -> Result<BTreeMap<String, Vec<String>>> {
    let bytes = std::fs::read(path).map_err(|e| Error::io("read", path, e))?;
    let label = path.display().to_string();
    let groups =
        crate::clean::geography::parse_stat_neighbours("statistical_neighbours", &label, &bytes)?;
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for g in groups
        .iter()
        .filter(|g| !g.old_grouping)
        .chain(groups.iter().filter(|g| g.old_grouping))
    {
        out.entry(g.la_code_old.clone())
            .or_insert_with(|| g.neighbours.iter().map(|n| n.0.clone()).collect());
    }
    Ok(out)
}

fn templates_for(ctx: &StageContext, dir: &std::path::Path) -> Result<tera::Tera> {
    let mut tera = tera::Tera::default();
    tera.autoescape_on(vec![".html.tera"]);
    for name in TEMPLATES {
        let path = dir.join(name);
        let text =
            std::fs::read_to_string(&path).map_err(|e| Error::io("read the template", &path, e))?;
        tera.add_raw_template(name, &text)
            .map_err(|e| crate::report::render::parse_error(ctx, &path, &text, &e))?;
    }
    Ok(tera)
}

/// A page into the stage's staging folder; the engine moves the folder's pages into place
/// when the stage has succeeded.
fn write_page(ctx: &StageContext, rel: &str, text: &str) -> Result<()> {
    let path = ctx.side_path(rel);
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(|e| crate::error::Error::io("create", dir, e))?;
    }
    std::fs::write(&path, text).map_err(|e| crate::error::Error::io("write", &path, e))
}

/// A judgement on a scorecard: published, framework, judgement, grade.
type Judgement = (String, String, String, Option<i64>);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn neighbours_file_current_groupings() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("sn.csv");
        std::fs::write(&p, "\u{feff}LA num,LA Name,LA number,GOInd,GOReg,SN1,SNP,SN2,SNP,SN3,SNP,SN4,SNP,SN5,SNP,SN6,SNP,SN7,SNP,SN8,SNP,SN9,SNP,SN10,SNP,\n202,Camden,202,3,London (Inner),213,Very Close,205,Close,207,Close,206,Close,212,Somewhat close,352,Not Close,203,Not Close,870,Not Close,309,Not Close,302,Not Close,\n").unwrap();
        let n = read_neighbours(&p).unwrap();
        assert_eq!(
            n["202"],
            vec!["213", "205", "207", "206", "212", "352", "203", "870", "309", "302"]
        );
        std::fs::write(&p, "LA num,LA Name\n202,Camden\n").unwrap();
        assert!(read_neighbours(&p).unwrap_err().to_string().contains("SN1"));
    }
}

/// The rows this kind reads (every field optional: a gap skips the row or shows as blank) and
/// the one it writes, a page per row.
mod rows {
    use serde::{Deserialize, Serialize};

    #[derive(Deserialize)]
    pub struct PanelValue {
        pub la_code: Option<String>,
        pub la_code_old: Option<String>,
        pub la_name: Option<String>,
        pub year: Option<i64>,
        pub indicator: Option<String>,
        pub value: Option<f64>,
    }

    #[derive(Deserialize)]
    pub struct Inspection {
        pub la_code: Option<String>,
        pub published: Option<String>,
        pub framework: Option<String>,
        pub judgement: Option<String>,
        pub grade: Option<i64>,
        pub headline: Option<bool>,
    }

    #[derive(Deserialize)]
    pub struct Prediction {
        pub origin_year: Option<i64>,
        pub la_code: Option<String>,
        pub observed: Option<i64>,
        pub probability: Option<f64>,
        pub probability_lo: Option<f64>,
        pub probability_hi: Option<f64>,
        pub flagged: Option<bool>,
    }

    #[derive(Deserialize)]
    pub struct Definition {
        pub indicator: Option<String>,
        pub label: Option<String>,
        pub unit: Option<String>,
    }

    #[derive(Serialize, Deserialize)]
    pub struct Page {
        pub la_code: String,
        pub path: String,
        pub sha256: String,
    }
}
