//! The rules: one function per kind of claim, each returning the verdict, the evidence and the
//! rule in words. Thresholds are named constants, so the README can state them exactly.

use std::collections::BTreeMap;

use super::published::{
    Check, CohortClaim, Finding, NotFound, Others, PairClaim, PairSet, PredictionClaim, Published,
    TrendStatement,
};
use super::{Claim, CohortEvidence, Evidence, Verdict};

/// A pair significant in some years but fewer than the rule needs is "partly reproduced".
/// For pairs the paper did not find: correlated pairs among fewer than this share of the
/// pairs tested make the claim "partly reproduced", at or above it "not reproduced".
const NOT_FOUND_PARTLY_SHARE: f64 = 0.5;
/// Table 3's pattern: the share of comparable rows whose B − A difference has the paper's
/// sign, for "reproduced" and for "partly reproduced".
const PATTERN_REPRODUCED: f64 = 2.0 / 3.0;
const PATTERN_PARTLY: f64 = 1.0 / 3.0;
/// A term not chosen by cross-validation still supports the paper when the sweep chooses it,
/// with the paper's sign, in at least this share of cells.
const SWEEP_SUPPORT: f64 = 0.5;
/// The direct test supports a term when its estimate has the paper's sign at p below this.
const DIRECT_P: f64 = 0.05;

/// Every claim of the paper, in the report's order.
pub fn assess(p: &Published, e: &Evidence) -> Vec<Claim> {
    let mut out: Vec<Claim> = p.findings.iter().map(|f| finding(p, e, f)).collect();
    for t in &p.trends {
        let (verdict, evidence, rule) = trend(e, t);
        let name = t.indicators().join("+");
        out.push(Claim {
            id: format!("figure2.{name}"),
            section: "Figure 2",
            claim: format!(
                "{}: {}",
                t.indicators().join(", "),
                t.statement.clone().unwrap_or_default()
            ),
            verdict,
            evidence,
            rule,
            stage: "trends",
            anchor: "figure-2",
        });
    }
    for c in &p.correlations.found {
        let (verdict, evidence, rule) = found(e, c);
        out.push(Claim {
            id: format!("figure3.{}.{}", c.x, c.y),
            section: "Figure 3",
            claim: format!("{} × {} correlated ({})", c.x, c.y, c.sign),
            verdict,
            evidence,
            rule,
            stage: "correlations",
            anchor: "figure-3",
        });
    }
    for (i, nf) in p.correlations.not_found.iter().enumerate() {
        let (verdict, evidence, rule) = not_found(e, nf);
        out.push(Claim {
            id: format!("figure3.not_found.{}", i + 1),
            section: "Figure 3",
            claim: format!("not found: {}", nf.statement),
            verdict,
            evidence,
            rule,
            stage: "correlations",
            anchor: "figure-3",
        });
    }
    for t in &p.model.dominant_terms {
        let (verdict, evidence, rule) = term(e, p, t);
        let label = p
            .model
            .coefficients
            .iter()
            .find(|c| &c.id == t)
            .map(|c| c.term.clone())
            .unwrap_or_else(|| t.clone());
        out.push(Claim {
            id: format!("table2.{t}"),
            section: "Table 2",
            claim: format!("{label} is among the model's headline terms"),
            verdict,
            evidence,
            rule,
            stage: "model",
            anchor: "table-2",
        });
    }
    if !p.cohorts.rows.is_empty() {
        let (verdict, evidence, rule) = pattern(e, p);
        out.push(Claim {
            id: "table3.pattern".into(),
            section: "Table 3",
            claim: "more child protection intervention after an inadequate rating: each row's difference between the groups (B − A) has the paper's sign".into(),
            verdict,
            evidence,
            rule,
            stage: "cohorts",
            anchor: "table-3",
        });
    }
    out
}

/// A claim of the "Summary of findings", judged by the rule its kind of statement calls for.
fn finding(p: &Published, e: &Evidence, f: &Finding) -> Claim {
    let (verdict, evidence, rule, stage, anchor) = if let Some(set) = &f.not_correlated {
        let (v, ev, r) = not_correlated(e, set);
        (v, ev, r, "correlations", "figure-3")
    } else if !f.correlated.is_empty() {
        let (v, ev, r) = all_correlated(e, &f.correlated);
        (v, ev, r, "correlations", "figure-3")
    } else if let Some(t) = &f.trend {
        let (v, ev, r) = trend(e, t);
        (v, ev, r, "trends", "figure-2")
    } else if let Some(m) = &f.model {
        let (v, ev, r) = prediction(e, p, m);
        (v, ev, r, "model", "table-2")
    } else if let Some(c) = &f.cohorts {
        let (v, ev, r) = protective(e, c);
        (v, ev, r, "cohorts", "table-3")
    } else {
        (
            Verdict::CannotBeTested,
            "the claim states nothing the run can test".into(),
            "no rule applies".into(),
            "claims",
            "claims",
        )
    };
    Claim {
        id: format!("finding.{}", f.id),
        section: "Summary of findings",
        claim: f.statement.clone(),
        verdict,
        evidence,
        rule,
        stage,
        anchor,
    }
}

/// A finding that several pairs are correlated: each pair judged as Figure 3's are, the
/// verdicts combined.
fn all_correlated(e: &Evidence, pairs: &[PairClaim]) -> (Verdict, String, String) {
    let parts: Vec<(Verdict, String)> = pairs
        .iter()
        .map(|c| found(e, c))
        .map(|(v, ev, _)| (v, ev))
        .collect();
    let v = Verdict::combine(&parts.iter().map(|p| p.0).collect::<Vec<_>>());
    let ev = parts
        .iter()
        .map(|p| p.1.clone())
        .collect::<Vec<_>>()
        .join("; ");
    let rule = format!(
        "each pair as Figure 3's pairs are judged ({}); the parts combined: {COMBINE}",
        found_rule()
    );
    (v, ev, rule)
}

const COMBINE: &str = "all parts reproduced → reproduced; a part untestable or only some parts holding → partly reproduced; none holding → not reproduced; none testable → cannot be tested";

/// `d` decimals; a value that rounds to zero prints without a minus sign (a deviance ratio of
/// -2e-15 is the intercept alone, not a negative fit).
fn fmt(v: Option<f64>, d: usize) -> String {
    v.map(|v| {
        let s = format!("{v:.d$}");
        if s.trim_start_matches('-')
            .chars()
            .all(|c| c == '0' || c == '.')
        {
            s.trim_start_matches('-').to_string()
        } else {
            s
        }
    })
    .unwrap_or_else(|| "—".into())
}

fn found_rule() -> String {
    "reproduced when the pair meets the study's rule (significant at p < 0.05, same sign, in at least the years required) with the paper's sign; partly when significant with that sign in fewer years; not reproduced otherwise; cannot be tested when the panel has no LA values for one of the pair in the correlation years".into()
}

/// A pair the paper found.
fn found(e: &Evidence, c: &PairClaim) -> (Verdict, String, String) {
    let Some(pair) = e.pair(&c.x, &c.y).filter(|p| p.years_tested > 0) else {
        let missing: Vec<&str> = [&c.x, &c.y]
            .into_iter()
            .filter(|n| !has_years(e, n, e.correlation_years))
            .map(String::as_str)
            .collect();
        let why = if missing.is_empty() {
            "the pair was not tested".to_string()
        } else {
            format!(
                "{} has no LA values in {}-{}",
                missing.join(" and "),
                e.correlation_years.0,
                e.correlation_years.1
            )
        };
        return (
            Verdict::CannotBeTested,
            format!("{} × {}: {why}", c.x, c.y),
            found_rule(),
        );
    };
    let ours = format!(
        "{} × {}: significant in {} of {} years tested (the rule needs {}), sign {}, median rho {}",
        c.x,
        c.y,
        pair.years_significant,
        pair.years_tested,
        pair.min_years,
        pair.sign.as_deref().unwrap_or("none"),
        fmt(pair.median_rho, 2)
    );
    let same_sign = pair.sign.as_deref() == Some(c.sign.as_str());
    let v = if pair.correlated && same_sign {
        Verdict::Reproduced
    } else if same_sign && pair.years_significant > 0 {
        Verdict::Partly
    } else {
        Verdict::NotReproduced
    };
    (v, ours, found_rule())
}

fn has_years(e: &Evidence, name: &str, (from, to): (i64, i64)) -> bool {
    e.medians
        .get(name)
        .is_some_and(|m| m.keys().any(|y| (from..=to).contains(y)))
}

/// The pairs a set names, each once, in name order.
fn pairs_of(e: &Evidence, set: &PairSet) -> Vec<(String, String)> {
    let others: Vec<String> = match &set.y {
        Others::List(l) => l.clone(),
        Others::All(_) => e.indicators.iter().cloned().collect(),
    };
    let mut out = std::collections::BTreeSet::new();
    for x in &set.x {
        for y in &others {
            if x != y {
                out.insert(if x <= y {
                    (x.clone(), y.clone())
                } else {
                    (y.clone(), x.clone())
                });
            }
        }
    }
    out.into_iter().collect()
}

fn not_correlated(e: &Evidence, set: &PairSet) -> (Verdict, String, String) {
    let pairs = pairs_of(e, set);
    let tested: Vec<&(String, String)> = pairs
        .iter()
        .filter(|(x, y)| e.pair(x, y).is_some_and(|p| p.years_tested > 0))
        .collect();
    let correlated: Vec<String> = tested
        .iter()
        .filter_map(|(x, y)| {
            let p = e.pair(x, y)?;
            p.correlated.then(|| {
                format!(
                    "{x} × {y} ({}, {} years)",
                    p.sign.as_deref().unwrap_or("?"),
                    p.years_significant
                )
            })
        })
        .collect();
    let rule = format!(
        "the study's rule applied to every pair named: none correlated → reproduced; correlated pairs fewer than {:.0}% of those tested → partly reproduced; more → not reproduced; no pair testable → cannot be tested",
        NOT_FOUND_PARTLY_SHARE * 100.0
    );
    if tested.is_empty() {
        return (
            Verdict::CannotBeTested,
            format!(
                "none of the {} pairs has LA values in the correlation years",
                pairs.len()
            ),
            rule,
        );
    }
    let share = correlated.len() as f64 / tested.len() as f64;
    let v = if correlated.is_empty() {
        Verdict::Reproduced
    } else if share < NOT_FOUND_PARTLY_SHARE {
        Verdict::Partly
    } else {
        Verdict::NotReproduced
    };
    let mut ev = format!(
        "{} of {} pairs tested are correlated",
        correlated.len(),
        tested.len()
    );
    if !correlated.is_empty() {
        ev.push_str(&format!(
            ": {}",
            correlated
                .iter()
                .take(6)
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        ));
        if correlated.len() > 6 {
            ev.push_str(&format!(" and {} more", correlated.len() - 6));
        }
    }
    if tested.len() < pairs.len() {
        ev.push_str(&format!(
            "; {} pairs have no LA values in the correlation years",
            pairs.len() - tested.len()
        ));
    }
    (v, ev, rule)
}

fn not_found(e: &Evidence, nf: &NotFound) -> (Verdict, String, String) {
    not_correlated(e, &nf.pairs)
}

/// What one check found on the medians of one indicator.
#[derive(Debug, Clone, PartialEq)]
enum Outcome {
    /// It holds; `whole` when every year of its span has a median.
    Holds {
        whole: bool,
        said: String,
    },
    Fails(String),
    Untestable(String),
}

fn trend(e: &Evidence, t: &TrendStatement) -> (Verdict, String, String) {
    let rule = format!(
        "each check of the statement on the national medians of the years the published files hold: a check holding over its whole span → reproduced, over part of it (years before {} are not published by LA) → partly reproduced, failing → not reproduced, with no year of its span → cannot be tested; a statement about a group holds when it holds for most of the group; {COMBINE}",
        e.medians.values().filter_map(|m| m.keys().next()).min().unwrap_or(&2010)
    );
    let mut parts = Vec::new();
    let mut evidence = Vec::new();
    for check in &t.checks {
        let names = t.indicators();
        let outcomes: Vec<Outcome> = names.iter().map(|n| run_check(e, n, check)).collect();
        let verdicts: Vec<Verdict> = outcomes.iter().map(outcome_verdict).collect();
        let v = if names.len() == 1 {
            verdicts[0]
        } else {
            majority(&verdicts)
        };
        parts.push(v);
        for (n, o) in names.iter().zip(&outcomes) {
            let said = match o {
                Outcome::Holds { said, .. } | Outcome::Fails(said) | Outcome::Untestable(said) => {
                    said
                }
            };
            evidence.push(format!("{n} {}: {said}", describe(check)));
        }
        for n in &names {
            for (year, note) in e.breaks.get(n).into_iter().flatten() {
                if within(check, *year) {
                    evidence.push(format!("definition break in {year} ({n}): {note}"));
                }
            }
        }
    }
    (Verdict::combine(&parts), evidence.join("; "), rule)
}

fn majority(v: &[Verdict]) -> Verdict {
    let tested: Vec<&Verdict> = v
        .iter()
        .filter(|v| **v != Verdict::CannotBeTested)
        .collect();
    if tested.is_empty() {
        return Verdict::CannotBeTested;
    }
    let holding = tested
        .iter()
        .filter(|v| matches!(v, Verdict::Reproduced | Verdict::Partly))
        .count();
    if holding * 2 > tested.len() {
        if tested.iter().all(|v| **v == Verdict::Reproduced) && tested.len() == v.len() {
            Verdict::Reproduced
        } else {
            Verdict::Partly
        }
    } else {
        Verdict::NotReproduced
    }
}

fn outcome_verdict(o: &Outcome) -> Verdict {
    match o {
        Outcome::Holds { whole: true, .. } => Verdict::Reproduced,
        Outcome::Holds { whole: false, .. } => Verdict::Partly,
        Outcome::Fails(_) => Verdict::NotReproduced,
        Outcome::Untestable(_) => Verdict::CannotBeTested,
    }
}

fn span_of(c: &Check) -> (i64, i64) {
    match c {
        Check::Dip { span, .. }
        | Check::Rising { span, .. }
        | Check::Falling { span, .. }
        | Check::Level { span, .. }
        | Check::RiseThenFall { span, .. }
        | Check::Peak { span, .. } => *span,
    }
}

fn within(c: &Check, year: i64) -> bool {
    let (a, b) = span_of(c);
    (a..=b).contains(&year)
}

fn describe(c: &Check) -> String {
    let (a, b) = span_of(c);
    match c {
        Check::Dip { year, .. } => format!("dip in {year}"),
        Check::Rising { by, .. } => format!("rising by ≥ {by} over {a}-{b}"),
        Check::Falling { by, .. } => format!("falling by ≥ {by} over {a}-{b}"),
        Check::Level { value, within, .. } => format!("within {value} ± {within} over {a}-{b}"),
        Check::RiseThenFall { turn, by, .. } => {
            format!("rising to {}, falling by ≥ {by} in {turn}", turn - 1)
        }
        Check::Peak {
            after,
            value,
            within,
            ..
        } => format!("after {after} peaking at {value} ± {within}, then declining"),
    }
}

/// One check on one indicator's medians.
fn run_check(e: &Evidence, name: &str, c: &Check) -> Outcome {
    let empty = Default::default();
    let m = e.medians.get(name).unwrap_or(&empty);
    let (a, b) = span_of(c);
    let years: Vec<i64> = m.keys().copied().filter(|y| (a..=b).contains(y)).collect();
    if years.is_empty() {
        return Outcome::Untestable(format!("no LA values in {a}-{b}"));
    }
    let whole =
        years.first() == Some(&a) && years.last() == Some(&b) && years.len() as i64 == b - a + 1;
    let s = Series {
        m,
        years,
        whole,
        a,
        b,
    };
    match c {
        Check::Dip { year, .. } => dip(&s, *year),
        Check::Rising { by, .. } => monotone(&s, *by, true),
        Check::Falling { by, .. } => monotone(&s, *by, false),
        Check::Level { value, within, .. } => level(&s, *value, *within),
        Check::RiseThenFall { turn, by, .. } => rise_then_fall(&s, *turn, *by),
        Check::Peak {
            after,
            value,
            within,
            ..
        } => peak(&s, *after, *value, *within),
    }
}

/// An indicator's yearly medians over a claim's span.
struct Series<'a> {
    m: &'a BTreeMap<i64, f64>,
    /// The span's years that have a median, in order (at least one).
    years: Vec<i64>,
    /// Whether every year of the span has one.
    whole: bool,
    a: i64,
    b: i64,
}

impl Series<'_> {
    fn at(&self, y: i64) -> Option<f64> {
        self.m.get(&y).copied()
    }
}

fn f1(v: f64) -> String {
    format!("{v:.1}")
}

/// A dip: the year's median below the years either side (or the one side published).
fn dip(s: &Series, year: i64) -> Outcome {
    let at = |y| s.at(y);
    let (before, mid, after) = (at(year - 1), at(year), at(year + 1));
    match (before, mid, after) {
        (_, None, _) | (None, _, None) => {
            Outcome::Untestable(format!("no median for {year} and a year beside it"))
        }
        (Some(p), Some(v), Some(n)) => {
            let said = format!("{} → {} → {}", f1(p), f1(v), f1(n));
            if v < p && v < n {
                Outcome::Holds { whole: true, said }
            } else {
                Outcome::Fails(said)
            }
        }
        (None, Some(v), Some(n)) => {
            let said = format!(
                "{year} {} → {} {}; no LA median for {} (not published by LA)",
                f1(v),
                year + 1,
                f1(n),
                year - 1
            );
            if v < n {
                Outcome::Holds { whole: false, said }
            } else {
                Outcome::Fails(said)
            }
        }
        (Some(p), Some(v), None) => {
            let said = format!(
                "{} {} → {year} {}; no median for {}",
                year - 1,
                f1(p),
                f1(v),
                year + 1
            );
            if v < p {
                Outcome::Holds { whole: false, said }
            } else {
                Outcome::Fails(said)
            }
        }
    }
}

/// A rise (or fall) of at least `by` from the span's first median to its last.
fn monotone(s: &Series, by: f64, rising: bool) -> Outcome {
    let (years, whole, a, b) = (&s.years, s.whole, s.a, s.b);
    let at = |y| s.at(y);
    if years.len() < 2 {
        return Outcome::Untestable(format!("one year ({}) of {a}-{b}", years[0]));
    }
    let (y0, y1) = (years[0], *years.last().expect("two years"));
    let change = at(y1).unwrap_or_default() - at(y0).unwrap_or_default();
    let said = format!(
        "{y0} {} → {y1} {} (change {change:+.1})",
        f1(at(y0).unwrap_or_default()),
        f1(at(y1).unwrap_or_default())
    );
    let holds = if rising { change >= by } else { change <= -by };
    if holds {
        Outcome::Holds { whole, said }
    } else {
        Outcome::Fails(said)
    }
}

/// Every median of the span within `within` of `value`.
fn level(s: &Series, value: f64, within: f64) -> Outcome {
    let (years, whole) = (&s.years, s.whole);
    let at = |y| s.at(y);
    let vals: Vec<f64> = years.iter().filter_map(|y| at(*y)).collect();
    let (lo, hi) = vals
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(l, h), v| {
            (l.min(*v), h.max(*v))
        });
    let said = format!(
        "medians {}-{} over {}-{}",
        f1(lo),
        f1(hi),
        years[0],
        years[years.len() - 1]
    );
    if (lo - value).abs() <= within && (hi - value).abs() <= within {
        Outcome::Holds { whole, said }
    } else {
        Outcome::Fails(said)
    }
}

/// A rise before `turn`, then a fall of at least `by` in it.
fn rise_then_fall(s: &Series, turn: i64, by: f64) -> Outcome {
    let (years, whole) = (&s.years, s.whole);
    let at = |y| s.at(y);
    let before: Vec<i64> = years.iter().copied().filter(|y| *y < turn).collect();
    let (Some(peak), Some(fall)) = (at(turn - 1), at(turn)) else {
        return Outcome::Untestable(format!("no medians for {} and {turn}", turn - 1));
    };
    let start = before.first().and_then(|y| at(*y)).unwrap_or(peak);
    let said = format!(
        "{} {} → {} {} → {turn} {}",
        before.first().copied().unwrap_or(turn - 1),
        f1(start),
        turn - 1,
        f1(peak),
        f1(fall)
    );
    let rose = before.len() >= 2 && peak > start;
    if rose && fall <= peak - by {
        Outcome::Holds { whole, said }
    } else {
        Outcome::Fails(said)
    }
}

/// The highest median after `after` within `within` of `value`, and the last one below it.
fn peak(s: &Series, after: i64, value: f64, within: f64) -> Outcome {
    let (years, whole) = (&s.years, s.whole);
    let at = |y| s.at(y);
    let later: Vec<(i64, f64)> = years
        .iter()
        .filter(|y| **y > after)
        .filter_map(|y| at(*y).map(|v| (*y, v)))
        .collect();
    let Some(&(py, pv)) = later.iter().max_by(|x, y| x.1.total_cmp(&y.1)) else {
        return Outcome::Untestable(format!("no medians after {after}"));
    };
    let last = later.last().expect("non-empty");
    let said = format!(
        "highest {} in {py}, last {} in {}",
        f1(pv),
        f1(last.1),
        last.0
    );
    if (pv - value).abs() <= within && last.1 < pv {
        Outcome::Holds { whole, said }
    } else {
        Outcome::Fails(said)
    }
}

/// The paper's sign for a term, from Table 2.
fn paper_sign(p: &Published, term: &str) -> Option<f64> {
    p.model
        .coefficients
        .iter()
        .find(|c| c.id == term)
        .map(|c| c.coefficient.signum())
}

/// One of Table 2's headline terms.
fn term(e: &Evidence, p: &Published, t: &str) -> (Verdict, String, String) {
    let m = &e.model;
    let rule = format!(
        "reproduced when the cross-validated model (lambda.min) selects the term with the paper's sign; partly when it does not but the direct test (unpenalised logistic regression on the same rows) gives the paper's sign at p < {DIRECT_P}, or the sweep selects it with that sign in at least {:.0}% of its cells; not reproduced otherwise; cannot be tested when the term is not among the model's predictors (not published by LA for the predictor year)",
        SWEEP_SUPPORT * 100.0
    );
    let year = m
        .predictor_year
        .map(|y| format!(" for {y}"))
        .unwrap_or_default();
    if !m.predictors.iter().any(|x| x == t) {
        return (Verdict::CannotBeTested, format!("{t} is not among the model's predictors: the published files hold no LA values of it{year}"), rule);
    }
    let sign = paper_sign(p, t).unwrap_or(0.0);
    let cv = m.selected.get(t).copied();
    let (pos, neg) = m.sweep_selected.get(t).copied().unwrap_or((0, 0));
    let with_sign = if sign > 0.0 { pos } else { neg };
    let share = if m.sweep_cells > 0 {
        with_sign as f64 / m.sweep_cells as f64
    } else {
        0.0
    };
    let direct = m.direct.get(t).copied();
    let mut ev = vec![match cv {
        Some(c) => format!("cross-validated model: coefficient {c:.4}"),
        None => "cross-validated model: not selected".to_string(),
    }];
    if m.sweep_cells > 0 {
        ev.push(format!(
            "sweep: selected with the paper's sign in {with_sign} of {} cells ({:.0}%)",
            m.sweep_cells,
            share * 100.0
        ));
    }
    if let Some((est, pv)) = direct {
        ev.push(format!("direct test: estimate {est:.4}, p = {pv:.3}"));
    }
    let v = if cv.is_some_and(|c| c.signum() == sign) {
        Verdict::Reproduced
    } else if direct.is_some_and(|(est, pv)| est.signum() == sign && pv < DIRECT_P)
        || share >= SWEEP_SUPPORT
    {
        Verdict::Partly
    } else {
        Verdict::NotReproduced
    };
    (v, ev.join("; "), rule)
}

/// The Summary's prediction claim: a few indicators predict an inadequate rating.
fn prediction(e: &Evidence, p: &Published, c: &PredictionClaim) -> (Verdict, String, String) {
    let m = &e.model;
    let rule = format!(
        "reproduced when the cross-validated model selects every named term the data hold, with the paper's signs, and reaches the paper's sensitivity ({:.0}%) in sample; partly when some named term is supported as Table 2's terms are judged; not reproduced otherwise; cannot be tested when the data hold none of the terms",
        c.sensitivity * 100.0
    );
    let available: Vec<&String> = c
        .terms
        .iter()
        .filter(|t| m.predictors.contains(t))
        .collect();
    let absent: Vec<&String> = c
        .terms
        .iter()
        .filter(|t| !m.predictors.contains(t))
        .collect();
    if available.is_empty() {
        return (
            Verdict::CannotBeTested,
            format!(
                "none of {} is among the model's predictors",
                c.terms.join(", ")
            ),
            rule,
        );
    }
    let all_selected = available.iter().all(|t| {
        m.selected
            .get(*t)
            .is_some_and(|b| Some(b.signum()) == paper_sign(p, t))
    });
    let sens_ok = m.sensitivity.is_some_and(|s| s >= c.sensitivity);
    let terms: Vec<Verdict> = available.iter().map(|t| term(e, p, t).0).collect();
    let mut ev = vec![format!(
        "cross-validated model: {} (sensitivity {}, cross-validated {}, deviance explained {})",
        if m.selected.is_empty() {
            "the intercept alone".to_string()
        } else {
            format!(
                "selects {}",
                m.selected.keys().cloned().collect::<Vec<_>>().join(", ")
            )
        },
        fmt(m.sensitivity, 2),
        fmt(m.cv_sensitivity, 2),
        fmt(m.dev_ratio, 3)
    )];
    for (t, v) in available.iter().zip(&terms) {
        ev.push(format!("{t}: {v}"));
    }
    if !absent.is_empty() {
        ev.push(format!(
            "not in the data: {}",
            absent
                .iter()
                .map(|s| s.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    if m.sweep_cells > 0 {
        ev.push(format!(
            "the intercept alone in {} of {} sweep cells",
            m.sweep_intercept_only, m.sweep_cells
        ));
    }
    let v = if all_selected && sens_ok && absent.is_empty() {
        Verdict::Reproduced
    } else if all_selected && sens_ok
        || terms
            .iter()
            .any(|v| matches!(v, Verdict::Reproduced | Verdict::Partly))
    {
        Verdict::Partly
    } else {
        Verdict::NotReproduced
    };
    (v, ev.join("; "), rule)
}

/// The version of Table 3 the verdicts use: the study's when both groups have members, else
/// the stated fallback (whose verdicts go no further than "partly reproduced").
fn cohorts_used(e: &Evidence) -> Option<(&CohortEvidence, bool)> {
    let full = |c: &CohortEvidence| c.a_members > 0 && c.b_members > 0;
    if full(&e.cohorts) {
        Some((&e.cohorts, true))
    } else if full(&e.fallback) {
        Some((&e.fallback, false))
    } else {
        None
    }
}

fn cohort_gap(e: &Evidence) -> String {
    format!(
        "the study's rule ({}) gives groups of {} (A) and {} (B); the fallback ({}) gives {} and {}",
        e.cohorts.rule, e.cohorts.a_members, e.cohorts.b_members, e.fallback.rule, e.fallback.a_members, e.fallback.b_members
    )
}

/// The Summary's claim about the year after an inadequate rating.
fn protective(e: &Evidence, c: &CohortClaim) -> (Verdict, String, String) {
    let rule = format!(
        "for each protective intervention named, whether group B's median change the year after exceeds group A's: all of them → reproduced, some → partly, none → not reproduced; an indicator without changes in both groups is not testable; when the study's rule predicts no LA the stated fallback's groups are used and the verdict is at most partly reproduced; {COMBINE}"
    );
    let Some((cohorts, own)) = cohorts_used(e) else {
        return (
            Verdict::CannotBeTested,
            format!("a group is empty: {}", cohort_gap(e)),
            rule,
        );
    };
    let mut parts = Vec::new();
    let mut ev = vec![format!(
        "groups by {}: A {} LAs, B {} LAs",
        cohorts.rule, cohorts.a_members, cohorts.b_members
    )];
    for ind in &c.indicators {
        match cohorts.changes.get(ind) {
            Some((Some(a), Some(b))) => {
                parts.push(if b > a {
                    Verdict::Reproduced
                } else {
                    Verdict::NotReproduced
                });
                ev.push(format!("{ind}: B {b:+.2} vs A {a:+.2}"));
            }
            _ => {
                parts.push(Verdict::CannotBeTested);
                ev.push(format!("{ind}: no change in both groups"));
            }
        }
    }
    let v = Verdict::combine(&parts);
    (
        if own { v } else { v.at_most_partly() },
        ev.join("; "),
        rule,
    )
}

/// Table 3's pattern, row by row against the paper.
fn pattern(e: &Evidence, p: &Published) -> (Verdict, String, String) {
    let rule = format!(
        "the share of Table 3's rows, among those with changes in both groups here, whose difference B − A has the paper's sign: at least {:.0}% → reproduced, at least {:.0}% → partly reproduced, less → not reproduced; the stated fallback's groups when the study's rule predicts no LA, and then at most partly reproduced",
        PATTERN_REPRODUCED * 100.0,
        PATTERN_PARTLY * 100.0
    );
    let Some((cohorts, own)) = cohorts_used(e) else {
        return (
            Verdict::CannotBeTested,
            format!("a group is empty: {}", cohort_gap(e)),
            rule,
        );
    };
    let mut agree = Vec::new();
    let mut differ = Vec::new();
    for r in &p.cohorts.rows {
        let Some((Some(a), Some(b))) = cohorts.changes.get(&r.id) else {
            continue;
        };
        let ours = (b - a).signum();
        let paper = (r.b_median_change - r.a_median_change).signum();
        if ours == paper {
            agree.push(r.id.clone())
        } else {
            differ.push(r.id.clone())
        }
    }
    let n = agree.len() + differ.len();
    if n == 0 {
        return (
            Verdict::CannotBeTested,
            "no row of Table 3 has changes in both groups".into(),
            rule,
        );
    }
    let share = agree.len() as f64 / n as f64;
    let v = if share >= PATTERN_REPRODUCED {
        Verdict::Reproduced
    } else if share >= PATTERN_PARTLY {
        Verdict::Partly
    } else {
        Verdict::NotReproduced
    };
    let ev = format!(
        "groups by {}: {} of {n} rows have the paper's sign ({:.0}%); differ: {}",
        cohorts.rule,
        agree.len(),
        share * 100.0,
        if differ.is_empty() {
            "none".into()
        } else {
            differ.join(", ")
        }
    );
    (if own { v } else { v.at_most_partly() }, ev, rule)
}

#[cfg(test)]
mod tests;
