//! The `early_warning` kind end to end on generated LA-years: no test year, and no outcome
//! unknown at an origin, ever reaches the fit — scrambling them leaves that origin's model and
//! predictions unchanged to the bit — and the evaluation table has the columns issue 7 names.

use crate::common;

use common::Project;

/// 40 LAs × 2016-2024, two predictors, an outcome that depends on the first; `flip` inverts
/// the outcomes of the years >= `flip_from`.
fn project(flip_from: Option<i64>) -> Project {
    let dir = tempfile::tempdir().unwrap();
    let mut csv = String::from("la_code,year,x1,x2,inadequate,last_grade\n");
    for la in 0..40 {
        for year in 2016..=2024i64 {
            let i = la * 9 + (year - 2016) as usize;
            let x1 = ((i * 37) % 101) as f64;
            let x2 = ((i * 13) % 17) as f64;
            let mut y = u8::from(x1 > 70.0 || i.is_multiple_of(11));
            if flip_from.is_some_and(|f| year >= f) {
                y = 1 - y;
            }
            // Outcomes of 2023-24 are not known yet (their window is open).
            let outcome = if year + 2 <= 2024 {
                y.to_string()
            } else {
                String::new()
            };
            csv.push_str(&format!(
                "L{la:02},{year},{x1},{x2},{outcome},{}\n",
                1 + (i % 4)
            ));
        }
    }
    std::fs::write(dir.path().join("rows.csv"), &csv).unwrap();
    let sha = canary::hash::sha256_bytes(csv.as_bytes());
    let yaml = format!(
        "name: ew_fixture
sources:
  rows_csv: {{path: rows.csv, sha256: {sha}}}
stages:
  rows:
    kind: sql
    inputs: [rows_csv]
    sql: SELECT la_code, CAST(year AS INT) AS year, CAST(x1 AS DOUBLE) AS x1, CAST(x2 AS DOUBLE) AS x2, CAST(inadequate AS INT) AS inadequate, CAST(last_grade AS INT) AS last_grade FROM rows_csv
  early_warning:
    kind: early_warning
    inputs: [rows]
    params:
      predictors: [x1, x2]
      outcome: inadequate
      baseline: last_grade
      origins: \"2019..2022\"
      horizon: 2
      forecast_year: 2024
      alpha: 1
      nfolds: 5
      seed: 11
      bootstrap: 200
      forecast_bootstrap: 20
      threshold: prevalence
"
    );
    std::fs::write(dir.path().join("pipeline.yaml"), yaml).unwrap();
    Project { dir }
}

fn csv(p: &Project, q: &str) -> String {
    p.canary(&["sql", q, "--format", "csv"]).ok().stdout
}

#[test]
fn no_test_year_leaks_into_the_fit() {
    let a = project(None);
    a.canary(&["run", "-q"]).ok();
    // At origin 2021 an outcome is known only if its window (s+1 ..= s+2) closed by then, so
    // s <= 2019: flip every outcome from 2020 on, which the 2021 model must never see.
    let b = project(Some(2020));
    b.canary(&["run", "-q"]).ok();
    let q = "select term, coefficient from early_warning_coefficients where origin_year = 2021 order by term";
    assert_eq!(
        csv(&a, q),
        csv(&b, q),
        "the origin-2021 model saw outcomes it could not have known"
    );
    let q = "select la_code, probability from early_warning_predictions where origin_year = 2021 order by la_code";
    assert_eq!(csv(&a, q), csv(&b, q));
    // The later origin 2022 does see 2020's outcomes: its model differs.
    let q = "select term, coefficient from early_warning_coefficients where origin_year = 2022 order by term";
    assert_ne!(
        csv(&a, q),
        csv(&b, q),
        "the test cannot tell a leak from no change"
    );
}

#[test]
fn the_evaluation_table_and_the_forecast() {
    let p = project(None);
    p.canary(&["run", "-q"]).ok();
    let head = csv(&p, "select * from early_warning_evaluation limit 1");
    let cols = head.lines().next().unwrap();
    for c in [
        "origin_year",
        "outcome_window",
        "model",
        "n_test",
        "flagged",
        "sensitivity",
        "specificity",
        "ppv",
        "auc",
        "auc_lo",
        "auc_hi",
    ] {
        assert!(cols.split(',').any(|h| h == c), "no column {c} in {cols}");
    }
    // Four origins, two models each; training rows at origin t are the years t-2 and before.
    assert_eq!(
        csv(&p, "select count(*) n from early_warning_evaluation"),
        "n\n8\n"
    );
    assert_eq!(
        csv(&p, "select origin_year, n_train, outcome_window from early_warning_evaluation where model = 'canary' order by origin_year"),
        "origin_year,n_train,outcome_window\n2019,80,2020..2021\n2020,120,2021..2022\n2021,160,2022..2023\n2022,200,2023..2024\n"
    );
    // The forecast year has no outcome, a probability and its interval for every LA.
    assert_eq!(
        csv(&p, "select count(*) n, count(observed) o, count(probability_lo) lo from early_warning_predictions where origin_year = 2024"),
        "n,o,lo\n40,0,40\n"
    );
    let ok = csv(&p, "select count(*) n from early_warning_predictions where origin_year = 2024 and not (probability_lo <= probability + 0.05 and probability - 0.05 <= probability_hi)");
    assert_eq!(ok, "n\n0\n");
    // AUC intervals bracket the AUC.
    assert_eq!(
        csv(
            &p,
            "select count(*) n from early_warning_evaluation where auc < auc_lo or auc > auc_hi"
        ),
        "n\n0\n"
    );
}

#[test]
fn bad_origins_are_refused_at_load() {
    let p = project(None);
    p.edit(
        "pipeline.yaml",
        "origins: \"2019..2022\"",
        "origins: \"2019-2022\"",
    );
    let run = p.canary(&["run"]).fails(2);
    assert!(
        run.stderr.contains("2019-2022") && run.stderr.contains("2018..2023"),
        "{}",
        run.stderr
    );
}
