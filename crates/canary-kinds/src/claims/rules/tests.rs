//! Each rule on hand-made evidence that gives each of its verdicts.

use std::collections::BTreeMap;

use super::super::published::*;
use super::super::{CohortEvidence, Evidence, ModelEvidence, Pair, Verdict};
use super::*;

fn pair(tested: i64, significant: i64, sign: Option<&str>, correlated: bool) -> Pair {
    Pair {
        years_tested: tested,
        years_significant: significant,
        sign: sign.map(str::to_string),
        median_rho: Some(0.3),
        min_years: 3,
        correlated,
    }
}

fn evidence() -> Evidence {
    let mut e = Evidence {
        correlation_years: (2010, 2014),
        ..Default::default()
    };
    for name in ["a", "b", "c", "d", "w"] {
        e.indicators.insert(name.into());
    }
    for (name, values) in [
        ("a", [20.0, 21.0, 22.0, 23.0, 24.0]),
        ("b", [50.0, 51.0, 49.0, 50.0, 52.0]),
        ("c", [30.0, 28.0, 27.0, 26.0, 25.0]),
    ] {
        e.medians
            .insert(name.into(), (2010..=2014).zip(values).collect());
    }
    // `w` (a workforce rate) has values only from 2016.
    e.medians
        .insert("w".into(), [(2016, 10.0), (2017, 11.0)].into());
    e.pairs
        .insert(("a".into(), "b".into()), pair(5, 4, Some("+"), true));
    e.pairs
        .insert(("a".into(), "c".into()), pair(5, 1, Some("-"), false));
    e.pairs
        .insert(("b".into(), "c".into()), pair(5, 0, None, false));
    e
}

fn claim(x: &str, y: &str, sign: &str) -> PairClaim {
    PairClaim {
        x: x.into(),
        y: y.into(),
        sign: sign.into(),
        paper_name: None,
    }
}

#[test]
fn parts_combine() {
    use Verdict::*;
    assert_eq!(Verdict::combine(&[Reproduced, Reproduced]), Reproduced);
    assert_eq!(Verdict::combine(&[Reproduced, CannotBeTested]), Partly);
    assert_eq!(Verdict::combine(&[NotReproduced, Reproduced]), Partly);
    assert_eq!(
        Verdict::combine(&[NotReproduced, CannotBeTested]),
        NotReproduced
    );
    assert_eq!(Verdict::combine(&[CannotBeTested]), CannotBeTested);
    assert_eq!(Reproduced.at_most_partly(), Partly);
    assert_eq!(Partly.to_string(), "partly reproduced");
}

#[test]
fn found_pairs_get_every_verdict() {
    let e = evidence();
    assert_eq!(
        found(&e, &claim("b", "a", "+")).0,
        Verdict::Reproduced,
        "either order"
    );
    assert_eq!(found(&e, &claim("a", "c", "-")).0, Verdict::Partly);
    assert_eq!(found(&e, &claim("a", "b", "-")).0, Verdict::NotReproduced);
    assert_eq!(found(&e, &claim("b", "c", "+")).0, Verdict::NotReproduced);
    let (v, ev, _) = found(&e, &claim("a", "w", "+"));
    assert_eq!(v, Verdict::CannotBeTested);
    assert!(ev.contains("w has no LA values in 2010-2014"), "{ev}");
}

#[test]
fn pairs_not_found_get_every_verdict() {
    let e = evidence();
    let set = |x: &[&str], y: Others| PairSet {
        x: x.iter().map(|s| s.to_string()).collect(),
        y,
    };
    let list = |y: &[&str]| Others::List(y.iter().map(|s| s.to_string()).collect());
    assert_eq!(
        not_correlated(&e, &set(&["c"], list(&["a", "b"]))).0,
        Verdict::Reproduced
    );
    // a × b correlated, a × c and b × c not: 1 of 3.
    let (v, ev, _) = not_correlated(&e, &set(&["a", "b", "c"], Others::All(AllWord::All)));
    assert_eq!(v, Verdict::Partly, "{ev}");
    assert!(
        ev.starts_with("1 of 3 pairs tested are correlated: a × b"),
        "{ev}"
    );
    assert_eq!(
        not_correlated(&e, &set(&["a"], list(&["b"]))).0,
        Verdict::NotReproduced
    );
    assert_eq!(
        not_correlated(&e, &set(&["w"], list(&["a"]))).0,
        Verdict::CannotBeTested
    );
}

fn statement(name: &str, checks: Vec<Check>) -> TrendStatement {
    TrendStatement {
        indicator: Some(name.into()),
        indicators: vec![],
        statement: None,
        checks,
    }
}

#[test]
fn trend_checks_get_every_verdict() {
    use Verdict::*;
    let e = evidence();
    let rising = |by, span| Check::Rising { by, span };
    let falling = |by, span| Check::Falling { by, span };
    let level = |value, within, span| Check::Level {
        value,
        within,
        span,
    };
    let dip = |year, span| Check::Dip { year, span };
    let peak = |after, value, within, span| Check::Peak {
        after,
        value,
        within,
        span,
    };
    let turn = |turn, by, span| Check::RiseThenFall { turn, by, span };
    let all = (2010, 2014);
    // (indicator, check, verdict, why). Indicator `a` has LA medians from 2010 only; `b` dips
    // in 2012 (51 → 49 → 50); `c` never rises.
    let cases = [
        ("a", rising(2.0, all), Reproduced, "a rise of 2"),
        (
            "a",
            rising(2.0, (2005, 2014)),
            Partly,
            "the span starts before the LA tables",
        ),
        ("a", falling(1.0, all), NotReproduced, "it rose"),
        (
            "a",
            rising(1.0, (2001, 2007)),
            CannotBeTested,
            "no LA values then",
        ),
        ("b", level(50.0, 2.5, all), Reproduced, "level"),
        ("b", level(40.0, 5.0, all), NotReproduced, "another level"),
        ("b", dip(2012, (2011, 2013)), Reproduced, "the dip"),
        ("c", dip(2010, (2009, 2011)), NotReproduced, "no dip"),
        (
            "a",
            dip(2010, (2009, 2011)),
            Partly,
            "a first-year dip is seen only after",
        ),
        (
            "a",
            peak(2010, 24.0, 1.0, all),
            NotReproduced,
            "no decline after the highest",
        ),
        (
            "b",
            peak(2010, 51.5, 1.0, all),
            NotReproduced,
            "the last is the highest",
        ),
        ("a", turn(2014, 0.5, all), NotReproduced, "no fall"),
        ("c", turn(2014, 0.5, all), NotReproduced, "never rose"),
    ];
    for (name, check, want, why) in cases {
        let got = trend(&e, &statement(name, vec![check.clone()])).0;
        assert_eq!(got, want, "{name} {check:?}: {why}");
    }
    // Two checks, one untestable: at most partly.
    let two = statement("a", vec![level(23.0, 1.0, (2002, 2009)), rising(2.0, all)]);
    assert_eq!(trend(&e, &two).0, Partly);
}

fn published() -> Published {
    let mut p = Published::default();
    p.model.coefficients = vec![
        PaperTerm {
            term: "A".into(),
            id: "a".into(),
            coefficient: -0.05,
        },
        PaperTerm {
            term: "B".into(),
            id: "b".into(),
            coefficient: 0.03,
        },
        PaperTerm {
            term: "W".into(),
            id: "w".into(),
            coefficient: 0.07,
        },
    ];
    p
}

fn model() -> ModelEvidence {
    ModelEvidence {
        predictors: vec!["a".into(), "b".into(), "c".into()],
        predictor_year: Some(2012),
        sweep_cells: 10,
        ..Default::default()
    }
}

#[test]
fn table2_terms_get_every_verdict() {
    let p = published();
    let mut e = evidence();
    e.model = model();
    assert_eq!(term(&e, &p, "w").0, Verdict::CannotBeTested);
    assert_eq!(term(&e, &p, "a").0, Verdict::NotReproduced);
    e.model.direct.insert("a".into(), (-0.02, 0.2));
    assert_eq!(term(&e, &p, "a").0, Verdict::NotReproduced, "p too large");
    e.model.direct.insert("a".into(), (-0.02, 0.01));
    assert_eq!(term(&e, &p, "a").0, Verdict::Partly);
    e.model.direct.clear();
    e.model.sweep_selected.insert("a".into(), (0, 6));
    assert_eq!(
        term(&e, &p, "a").0,
        Verdict::Partly,
        "the sweep selects it with the paper's sign in 6 of 10 cells"
    );
    e.model.selected.insert("a".into(), 0.01);
    assert_eq!(
        term(&e, &p, "a").0,
        Verdict::Partly,
        "selected with the wrong sign: only the sweep supports it"
    );
    e.model.selected.insert("a".into(), -0.01);
    assert_eq!(term(&e, &p, "a").0, Verdict::Reproduced);
}

#[test]
fn the_prediction_claim() {
    let p = published();
    let mut e = evidence();
    e.model = model();
    let c = PredictionClaim {
        terms: vec!["a".into(), "b".into(), "w".into()],
        sensitivity: 0.68,
    };
    let (v, ev, _) = prediction(&e, &p, &c);
    assert_eq!(v, Verdict::NotReproduced, "{ev}");
    assert!(
        ev.contains("the intercept alone") && ev.contains("not in the data: w"),
        "{ev}"
    );
    e.model.selected = BTreeMap::from([("a".into(), -0.02), ("b".into(), 0.01)]);
    e.model.sensitivity = Some(0.7);
    assert_eq!(
        prediction(&e, &p, &c).0,
        Verdict::Partly,
        "w cannot be tested"
    );
    let c2 = PredictionClaim {
        terms: vec!["a".into(), "b".into()],
        sensitivity: 0.68,
    };
    assert_eq!(prediction(&e, &p, &c2).0, Verdict::Reproduced);
    let c3 = PredictionClaim {
        terms: vec!["w".into()],
        sensitivity: 0.68,
    };
    assert_eq!(prediction(&e, &p, &c3).0, Verdict::CannotBeTested);
}

fn cohorts(a: i64, b: i64, changes: &[(&str, f64, f64)]) -> CohortEvidence {
    CohortEvidence {
        rule: "rule".into(),
        a_members: a,
        b_members: b,
        changes: changes
            .iter()
            .map(|(k, a, b)| (k.to_string(), (Some(*a), Some(*b))))
            .collect(),
    }
}

#[test]
fn cohort_claims_use_the_fallback_at_most_partly() {
    let mut e = evidence();
    let c = CohortClaim {
        indicators: vec!["s47".into(), "icpc".into()],
    };
    assert_eq!(
        protective(&e, &c).0,
        Verdict::CannotBeTested,
        "both versions empty"
    );
    e.fallback = cohorts(10, 5, &[("s47", 1.0, 3.0), ("icpc", 1.0, 2.0)]);
    assert_eq!(
        protective(&e, &c).0,
        Verdict::Partly,
        "fallback: at most partly"
    );
    e.cohorts = cohorts(8, 4, &[("s47", 1.0, 3.0), ("icpc", 1.0, 2.0)]);
    assert_eq!(protective(&e, &c).0, Verdict::Reproduced);
    e.cohorts = cohorts(8, 4, &[("s47", 1.0, 3.0), ("icpc", 3.0, 2.0)]);
    assert_eq!(protective(&e, &c).0, Verdict::Partly);
    e.cohorts = cohorts(8, 4, &[("s47", 4.0, 3.0), ("icpc", 3.0, 2.0)]);
    assert_eq!(protective(&e, &c).0, Verdict::NotReproduced);
}

#[test]
fn table3_pattern_thresholds() {
    let mut p = published();
    p.cohorts.rows = ["x", "y", "z"]
        .iter()
        .map(|id| CohortRow {
            indicator: id.to_string(),
            id: id.to_string(),
            a_median_change: 1.0,
            b_median_change: 2.0,
        })
        .collect();
    let mut e = evidence();
    assert_eq!(pattern(&e, &p).0, Verdict::CannotBeTested);
    e.cohorts = cohorts(5, 5, &[("x", 1.0, 2.0), ("y", 1.0, 2.0), ("z", 2.0, 1.0)]);
    assert_eq!(pattern(&e, &p).0, Verdict::Reproduced, "2 of 3");
    e.cohorts = cohorts(5, 5, &[("x", 1.0, 2.0), ("y", 2.0, 1.0), ("z", 2.0, 1.0)]);
    assert_eq!(pattern(&e, &p).0, Verdict::Partly, "1 of 3");
    e.cohorts = cohorts(5, 5, &[("x", 2.0, 1.0), ("y", 2.0, 1.0), ("z", 2.0, 1.0)]);
    assert_eq!(pattern(&e, &p).0, Verdict::NotReproduced);
}

#[test]
fn the_published_file_parses_and_every_claim_gets_a_row() {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../reports/published_results.yaml"
    ))
    .unwrap();
    let p: Published = crate::pipeline::spec::from_yaml(&text).unwrap();
    assert_eq!(p.findings.len(), 5);
    assert_eq!(p.trends.len(), 9);
    assert_eq!(p.correlations.found.len(), 8);
    assert_eq!(p.correlations.not_found.len(), 3);
    assert_eq!(p.model.dominant_terms.len(), 3);
    let claims = assess(&p, &evidence());
    assert_eq!(claims.len(), 5 + 9 + 8 + 3 + 3 + 1);
    let ids: std::collections::BTreeSet<&str> = claims.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(ids.len(), claims.len(), "ids are unique");
}

#[test]
fn a_misnamed_published_item_is_named_with_the_nearest_name() {
    let text = "trends:\n  - {indicator: re_referals_pct, statement: x, checks: []}\ncorrelations:\n  found:\n    - {x: re_referrals_pct, y: agency_worker_rate_pct, sign: \"+\"}\n";
    let p: Published = crate::pipeline::spec::from_yaml(text).unwrap();
    let indicators = ["re_referrals_pct", "agency_rate_pct"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let bad = crate::claims::unknown_names(&p, &indicators);
    assert_eq!(bad.len(), 2, "{bad:?}");
    assert_eq!(bad[0], "trends[0] names `re_referals_pct`, which is not an indicator of the panel (did you mean `re_referrals_pct`?)");
    assert!(
        bad[1].starts_with("correlations.found[0].y names `agency_worker_rate_pct`"),
        "{bad:?}"
    );
}
