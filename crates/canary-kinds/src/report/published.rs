//! The paper's published values (`reports/published_results.yaml`, owned by the project) as
//! the report reads them, and the check that every indicator they name is one of the panel's:
//! a misnamed item is an error of the report stage that names the item, where it is in the
//! file, and the closest name the panel has — never a quiet "not in our panel".

use serde::Deserialize;
use serde_json::Value;

use super::input::Indicators;
use crate::error::{did_you_mean, Error, Result};

#[derive(Debug, Default, Deserialize)]
pub struct Published {
    #[serde(default)]
    pub study: Study,
    #[serde(default)]
    pub trends: Vec<TrendStatement>,
    #[serde(default)]
    pub correlations: Correlations,
    #[serde(default)]
    pub model: Model,
    #[serde(default)]
    pub cohorts: Cohorts,
}

#[derive(Debug, Default, Deserialize)]
pub struct Study {
    #[serde(default)]
    pub period: Vec<i64>,
}

#[derive(Debug, Default, Deserialize)]
pub struct TrendStatement {
    pub indicator: Option<String>,
    #[serde(default)]
    pub indicators: Vec<String>,
    #[serde(default)]
    pub statement: String,
    #[serde(default)]
    pub checks: Vec<Check>,
}

impl TrendStatement {
    /// The indicators the statement is about, `indicator` first.
    pub fn ids(&self) -> Vec<String> {
        self.indicator
            .iter()
            .chain(&self.indicators)
            .cloned()
            .collect()
    }
}

#[derive(Debug, Default, Deserialize)]
pub struct Check {
    #[serde(default)]
    pub span: Vec<i64>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Correlations {
    #[serde(default)]
    pub found: Vec<Pair>,
    #[serde(default)]
    pub not_found: Vec<NotFound>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Pair {
    pub x: String,
    pub y: String,
    #[serde(default)]
    pub sign: String,
    pub paper_name: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
pub struct NotFound {
    #[serde(default)]
    pub statement: String,
    #[serde(default)]
    pub x: Vec<String>,
    /// A list of indicators, or `all` (every other indicator of the panel).
    #[serde(default)]
    pub y: Value,
}

#[derive(Debug, Default, Deserialize)]
pub struct Model {
    pub outcome: Option<String>,
    pub predictor_year: Option<i64>,
    pub deviance_explained: Option<f64>,
    pub sensitivity: Option<f64>,
    pub specificity: Option<f64>,
    #[serde(default)]
    pub coefficients: Vec<Coefficient>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Coefficient {
    pub term: String,
    pub id: Option<String>,
    pub coefficient: Option<f64>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Cohorts {
    #[serde(default)]
    pub group_a: Group,
    #[serde(default)]
    pub group_b: Group,
    #[serde(default)]
    pub rows: Vec<CohortRow>,
}

#[derive(Debug, Default, Deserialize)]
pub struct Group {
    #[serde(default)]
    pub label: String,
    pub n: Option<i64>,
}

#[derive(Debug, Default, Deserialize)]
pub struct CohortRow {
    pub indicator: String,
    pub id: Option<String>,
    pub a_median_change: Option<f64>,
    pub a_pct_rise: Option<f64>,
    pub b_median_change: Option<f64>,
    pub b_pct_rise: Option<f64>,
}

/// Read the file and check every indicator it names against the panel's.
pub fn read(path: &str, text: &str, indicators: &Indicators, stage: &str) -> Result<Published> {
    let doc: Value = crate::pipeline::spec::from_yaml(text).map_err(|e| {
        let mut err = Error::data(path, e.message);
        if let Error::Data { line, .. } = &mut err {
            *line = e.line;
        }
        err
    })?;
    check_names(path, text, &doc, indicators, stage)?;
    serde_json::from_value(doc)
        .map_err(|e| Error::data(path, format!("is not the published values' shape: {e}")))
}

/// Keys whose values are indicator names (a name or a list of names), wherever they occur;
/// `id` only in the rows that map a published row onto an indicator.
const NAME_KEYS: [&str; 7] = [
    "indicator",
    "indicators",
    "x",
    "y",
    "terms",
    "dominant_terms",
    "baseline_medians",
];
const SECTIONS: [&str; 5] = ["trends", "correlations", "findings", "model", "cohorts"];

fn check_names(
    path: &str,
    text: &str,
    doc: &Value,
    indicators: &Indicators,
    stage: &str,
) -> Result<()> {
    let mut named: Vec<(String, String)> = Vec::new();
    for section in SECTIONS {
        walk(&doc[section], section, false, &mut named);
    }
    let mut problems: Vec<String> = Vec::new();
    for (item, name) in &named {
        if name == "all" && item.contains("not_found") || indicators.contains(name) {
            continue;
        }
        let at = locate(text, item.split(['[', '.']).next().unwrap_or(""), name)
            .map(|(l, c)| format!("{path}:{l}:{c}"))
            .unwrap_or_else(|| path.to_string());
        let hint = did_you_mean(name, indicators.ids())
            .unwrap_or_else(|| "no indicator of the panel has a similar name".into());
        problems.push(format!(
            "{at}: {item} names `{name}`, which is not an indicator of the panel (`{}`); {hint}",
            indicators.source
        ));
    }
    if problems.is_empty() {
        return Ok(());
    }
    Err(Error::stage(stage, format!("the published values name {} indicator(s) the panel does not have:\n  {}", problems.len(), problems.join("\n  ")))
        .with_hint(format!("write the panel's name in {path} (`canary sql \"select distinct indicator from {}\"` lists them)", indicators.source)))
}

/// Whether the values under key `k` of the item at `at` are indicator names. A published
/// row's `id` is its indicator (its `indicator` there is the paper's wording); a finding's
/// `id` is its own.
fn is_name_key(at: &str, k: &str) -> bool {
    let row = at.starts_with("model.coefficients[") || at.starts_with("cohorts.rows[");
    match k {
        "id" => row,
        "indicator" => !row,
        _ => NAME_KEYS.contains(&k),
    }
}

/// Collect `(item path, name)` for every indicator name under `v`.
fn walk(v: &Value, at: &str, names: bool, out: &mut Vec<(String, String)>) {
    match v {
        Value::String(s) if names => out.push((at.to_string(), s.clone())),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                walk(item, &format!("{at}[{i}]"), names, out);
            }
        }
        Value::Object(map) => {
            for (k, item) in map {
                let here = format!("{at}.{k}");
                if k == "baseline_medians" {
                    // group → indicator → figures: the indicators are the keys.
                    for (g, inds) in item.as_object().into_iter().flatten() {
                        for name in inds.as_object().into_iter().flat_map(|m| m.keys()) {
                            out.push((format!("{here}.{g}"), name.clone()));
                        }
                    }
                    continue;
                }
                walk(item, &here, names || is_name_key(at, k), out);
            }
        }
        _ => {}
    }
}

/// Line and column (1-based) of `name` as a whole word in the top-level section `section`.
fn locate(text: &str, section: &str, name: &str) -> Option<(usize, usize)> {
    let start = text
        .lines()
        .position(|l| l.starts_with(&format!("{section}:")))?;
    for (i, line) in text.lines().enumerate().skip(start + 1) {
        if !line.starts_with([' ', '-', '#']) && !line.trim().is_empty() {
            break; // the next top-level key
        }
        let code = line.split(" #").next().unwrap_or(line);
        let mut from = 0;
        while let Some(k) = code[from..].find(name) {
            let (a, b) = (from + k, from + k + name.len());
            let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
            if !word(code[..a].chars().last()) && !word(code[b..].chars().next()) {
                return Some((i + 1, code[..a].chars().count() + 1));
            }
            from = b;
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::input::Indicator;

    fn panel(names: &[&str]) -> Indicators {
        Indicators {
            by_id: names
                .iter()
                .map(|n| (n.to_string(), Indicator::default()))
                .collect(),
            source: "panel_definitions".into(),
        }
    }

    const TEXT: &str = "study:\n  period: [2001, 2014]\ntrends:\n  - indicator: re_referrals_pct\n    statement: dip\n  - indicators: [ia_within_10_days_pct, ca_within_35_day_pct]\n    statement: up\ncorrelations:\n  found:\n    - {x: re_referrals_pct, y: referrals_rate, sign: \"+\"}\n  not_found:\n    - {statement: s, x: [re_referrals_pct], y: all}\ncohorts:\n  rows:\n    - {indicator: \"Rates of CIN\", id: cin_rate, a_pct_rise: 31}\n";

    #[test]
    fn a_misnamed_item_is_located_and_a_close_name_suggested() {
        let ok = panel(&[
            "re_referrals_pct",
            "ia_within_10_days_pct",
            "ca_within_35_days_pct",
            "referrals_rate",
            "cin_rate",
        ]);
        let err = read("published.yaml", TEXT, &ok, "report")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains(
                "published.yaml:6:41: trends[1].indicators[1] names `ca_within_35_day_pct`"
            ),
            "{err}"
        );
        assert!(
            err.contains("did you mean `ca_within_35_days_pct`?"),
            "{err}"
        );
        assert!(err.contains("stage `report` failed"), "{err}");
        let fixed = TEXT.replace("ca_within_35_day_pct", "ca_within_35_days_pct");
        let p = read("published.yaml", &fixed, &ok, "report").unwrap();
        assert_eq!(
            p.trends[1].ids(),
            ["ia_within_10_days_pct", "ca_within_35_days_pct"]
        );
        assert_eq!(p.cohorts.rows[0].id.as_deref(), Some("cin_rate"));
        // `all` in not_found is every other indicator, not a name; the row label is not a name.
        let without_cin = panel(&[
            "re_referrals_pct",
            "ia_within_10_days_pct",
            "ca_within_35_days_pct",
            "referrals_rate",
        ]);
        let err = read("published.yaml", &fixed, &without_cin, "report")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("cohorts.rows[0].id names `cin_rate`") && err.contains("1 indicator(s)"),
            "{err}"
        );
    }
}
