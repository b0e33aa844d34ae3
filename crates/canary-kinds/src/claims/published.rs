//! The paper's claims as `reports/published_results.yaml` states them: the parts the verdicts
//! need, typed. The file holds more (Table 1's typology, the paper's numbers the report prints
//! beside ours); serde leaves those alone.

use serde::Deserialize;

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Published {
    #[serde(default)]
    pub findings: Vec<Finding>,
    #[serde(default)]
    pub trends: Vec<TrendStatement>,
    #[serde(default)]
    pub correlations: Correlations,
    #[serde(default)]
    pub model: Model,
    #[serde(default)]
    pub cohorts: Cohorts,
}

/// One bullet of the Summary of findings, with what it asserts.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Finding {
    pub id: String,
    pub statement: String,
    #[serde(default)]
    pub not_correlated: Option<PairSet>,
    #[serde(default)]
    pub correlated: Vec<PairClaim>,
    #[serde(default)]
    pub trend: Option<TrendStatement>,
    #[serde(default)]
    pub model: Option<PredictionClaim>,
    #[serde(default)]
    pub cohorts: Option<CohortClaim>,
}

/// A statement about Figure 2's medians: one indicator or a group, and checks over spans.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TrendStatement {
    #[serde(default)]
    pub indicator: Option<String>,
    #[serde(default)]
    pub indicators: Vec<String>,
    #[serde(default)]
    pub statement: Option<String>,
    #[serde(default)]
    pub checks: Vec<Check>,
}

impl TrendStatement {
    pub fn indicators(&self) -> Vec<String> {
        self.indicator
            .iter()
            .cloned()
            .chain(self.indicators.iter().cloned())
            .collect()
    }
}

/// What a statement asserts about the medians over `span` (calendar years, inclusive).
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(tag = "shape", rename_all = "snake_case", deny_unknown_fields)]
pub enum Check {
    /// The median at `year` is below the years either side of it.
    Dip { year: i64, span: (i64, i64) },
    /// The last median of the span exceeds the first by at least `by`.
    Rising { by: f64, span: (i64, i64) },
    /// The last median of the span falls short of the first by at least `by`.
    Falling { by: f64, span: (i64, i64) },
    /// Every median of the span lies within `within` of `value`.
    Level {
        value: f64,
        within: f64,
        span: (i64, i64),
    },
    /// Medians rise up to `turn - 1`, then fall by at least `by` at `turn`.
    RiseThenFall {
        turn: i64,
        by: f64,
        span: (i64, i64),
    },
    /// After `after`, the medians reach `value` (± `within`) and then decline.
    Peak {
        after: i64,
        value: f64,
        within: f64,
        span: (i64, i64),
    },
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Correlations {
    #[serde(default)]
    pub found: Vec<PairClaim>,
    #[serde(default)]
    pub not_found: Vec<NotFound>,
}

/// A pair the paper found correlated, with its sign.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PairClaim {
    pub x: String,
    pub y: String,
    pub sign: String,
    #[serde(default)]
    pub paper_name: Option<String>,
}

/// Pairs the paper looked for and did not find. (`deny_unknown_fields` does not combine with
/// `flatten` in serde; `PairSet` checks its own fields.)
#[derive(Debug, Clone, Deserialize)]
pub struct NotFound {
    pub statement: String,
    #[serde(flatten)]
    pub pairs: PairSet,
}

/// Every pair `x × y`; `y: all` stands for every other indicator.
#[derive(Debug, Clone, Deserialize)]
pub struct PairSet {
    pub x: Vec<String>,
    pub y: Others,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum Others {
    List(Vec<String>),
    All(AllWord),
}

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AllWord {
    All,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PredictionClaim {
    pub terms: Vec<String>,
    pub sensitivity: f64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CohortClaim {
    pub indicators: Vec<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Model {
    #[serde(default)]
    pub coefficients: Vec<PaperTerm>,
    #[serde(default)]
    pub dominant_terms: Vec<String>,
    #[serde(default)]
    pub sensitivity: Option<f64>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct PaperTerm {
    pub term: String,
    pub id: String,
    pub coefficient: f64,
}

#[derive(Debug, Clone, Default, Deserialize)]
pub struct Cohorts {
    #[serde(default)]
    pub rows: Vec<CohortRow>,
}

#[derive(Debug, Clone, Deserialize)]
pub struct CohortRow {
    pub indicator: String,
    pub id: String,
    pub a_median_change: f64,
    pub b_median_change: f64,
}

impl Published {
    /// Every indicator name the claims use, with where it is used (for the check that each
    /// names an indicator of the panel).
    pub fn names(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let mut add = |name: &str, at: String| out.push((name.to_string(), at));
        for (i, t) in self.trends.iter().enumerate() {
            for n in t.indicators() {
                add(&n, format!("trends[{i}]"));
            }
        }
        for (i, p) in self.correlations.found.iter().enumerate() {
            add(&p.x, format!("correlations.found[{i}].x"));
            add(&p.y, format!("correlations.found[{i}].y"));
        }
        for (i, nf) in self.correlations.not_found.iter().enumerate() {
            nf.pairs
                .x
                .iter()
                .for_each(|n| add(n, format!("correlations.not_found[{i}].x")));
            if let Others::List(l) = &nf.pairs.y {
                l.iter()
                    .for_each(|n| add(n, format!("correlations.not_found[{i}].y")));
            }
        }
        for (i, c) in self.model.coefficients.iter().enumerate() {
            add(&c.id, format!("model.coefficients[{i}].id"));
        }
        for t in &self.model.dominant_terms {
            add(t, "model.dominant_terms".into());
        }
        for (i, r) in self.cohorts.rows.iter().enumerate() {
            add(&r.id, format!("cohorts.rows[{i}].id"));
        }
        for f in &self.findings {
            let at = format!("findings[{}]", f.id);
            if let Some(p) = &f.not_correlated {
                p.x.iter().for_each(|n| add(n, at.clone()));
                if let Others::List(l) = &p.y {
                    l.iter().for_each(|n| add(n, at.clone()));
                }
            }
            for p in &f.correlated {
                add(&p.x, at.clone());
                add(&p.y, at.clone());
            }
            if let Some(t) = &f.trend {
                t.indicators().iter().for_each(|n| add(n, at.clone()));
            }
            if let Some(m) = &f.model {
                m.terms.iter().for_each(|n| add(n, at.clone()));
            }
            if let Some(c) = &f.cohorts {
                c.indicators.iter().for_each(|n| add(n, at.clone()));
            }
        }
        out
    }
}
