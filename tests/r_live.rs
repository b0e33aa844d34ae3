//! Live differential test: canary's `fit` stage against R's cv.glmnet on the same rows and
//! folds (`model_design`). It needs R with glmnet and jsonlite, so it is ignored by a plain
//! `cargo test`; `cargo test -- --include-ignored` (as CI runs) runs it, and fails when R or
//! glmnet is missing.

use crate::common;

use std::process::Command;

use common::Project;

const NEEDS_R: &str = "needs Rscript with glmnet and jsonlite (apt-get install r-base-core r-cran-glmnet r-cran-jsonlite)";

/// Fails the test, saying what to install, when Rscript, glmnet or jsonlite is missing.
fn require_r_with_glmnet() {
    let out = Command::new("Rscript")
        .args([
            "-e",
            "suppressMessages({library(glmnet); library(jsonlite)})",
        ])
        .output();
    match out {
        Ok(o) if o.status.success() => {}
        Ok(o) => panic!("{NEEDS_R}: {}", String::from_utf8_lossy(&o.stderr)),
        Err(e) => panic!("{NEEDS_R}: cannot run Rscript: {e}"),
    }
}

/// A study-shaped data set: 150 LAs, 5 indicators on different scales, ~15% positives.
fn study_like_csv() -> String {
    let mut s = String::from("la_code,outcome,a,b,c,d,e\n");
    let mut state: u64 = 2016;
    let mut next = || {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((state >> 11) as f64) / ((1u64 << 53) as f64)
    };
    for i in 0..150 {
        let a = 40.0 + 40.0 * next();
        let b = 300.0 + 500.0 * next();
        let c = 10.0 + 20.0 * next();
        let d = next();
        let e = 5.0 * next();
        let eta = -2.2 - 0.06 * (a - 60.0) + 0.003 * (b - 550.0) + 0.1 * (c - 20.0);
        let y = if next() < 1.0 / (1.0 + (-eta).exp()) {
            1
        } else {
            0
        };
        s.push_str(&format!("E{i:08},{y},{a},{b},{c},{d},{e}\n"));
    }
    s
}

fn parse_line(out: &str, key: &str) -> Vec<f64> {
    let line = out
        .lines()
        .find(|l| l.starts_with(&format!("{key} ")))
        .unwrap_or_else(|| panic!("no `{key}` in R output:\n{out}"));
    line.split_whitespace()
        .skip(1)
        .map(|v| v.parse().unwrap())
        .collect()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-9_f64.max(1e-6 * b.abs())
}

#[test]
#[ignore = "needs Rscript with glmnet and jsonlite (apt-get install r-base-core r-cran-glmnet r-cran-jsonlite)"]
fn fit_agrees_with_r_cv_glmnet() {
    require_r_with_glmnet();
    for alpha in ["1", "0.5"] {
        let csv = study_like_csv();
        let sha = canary::hash::sha256_bytes(csv.as_bytes());
        let p = Project {
            dir: tempfile::tempdir().unwrap(),
        };
        p.write("data.csv", &csv);
        p.write(
            "pipeline.yaml",
            &format!(
                "name: r_live\nsources:\n  data:\n    path: data.csv\n    sha256: {sha}\nstages:\n  rows:\n    kind: sql\n    inputs: [data]\n    sql: SELECT * FROM data\n  model:\n    kind: fit\n    inputs: [rows]\n    params:\n      outcome: outcome\n      predictors: [a, b, c, d, e]\n      alpha: {alpha}\n      seed: 7\n"
            ),
        );
        p.canary(&["run"]).ok();
        let design = p
            .canary(&[
                "sql",
                "select la_code, fold, outcome, a, b, c, d, e from model_design order by la_code",
                "--format",
                "csv",
            ])
            .ok()
            .stdout;
        p.write("design.csv", &design);
        let script = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("crates/canary-stats/tests/r/check_fit.R");
        let out = Command::new("Rscript")
            .arg(script)
            .arg(p.path("design.csv"))
            .arg(alpha)
            .arg("a,b,c,d,e")
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let r = String::from_utf8_lossy(&out.stdout).to_string();

        let summary = p
            .canary(&[
                "sql",
                "select lambda_min, lambda_1se, dev_ratio from model_summary",
                "--format",
                "csv",
            ])
            .ok()
            .stdout;
        let ours: Vec<f64> = summary
            .lines()
            .nth(1)
            .unwrap()
            .split(',')
            .map(|v| v.parse().unwrap())
            .collect();
        for (i, key) in ["lambda_min", "lambda_1se", "dev_ratio"].iter().enumerate() {
            let theirs = parse_line(&r, key)[0];
            assert!(
                close(ours[i], theirs),
                "alpha {alpha}: {key} canary {} vs R {theirs}",
                ours[i]
            );
        }
        for (choice, key) in [("lambda.min", "coef_min"), ("lambda.1se", "coef_1se")] {
            let q = format!("select coefficient from model_coefficients where choice = '{choice}' order by case when term = '(Intercept)' then '' else term end");
            let c = p.canary(&["sql", &q, "--format", "csv"]).ok().stdout;
            let ours: Vec<f64> = c.lines().skip(1).map(|v| v.parse().unwrap()).collect();
            let theirs = parse_line(&r, key);
            assert_eq!(ours.len(), theirs.len());
            for (o, t) in ours.iter().zip(&theirs) {
                assert!(
                    close(*o, *t),
                    "alpha {alpha} {choice}: canary {ours:?} vs R {theirs:?}"
                );
            }
        }
    }
}
