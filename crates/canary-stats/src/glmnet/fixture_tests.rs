//! Agreement with R on the golden files made by `tests/r/make_glmnet_golden.R`
//! (`Rscript tests/r/make_glmnet_golden.R` from the crate root rewrites them).
//!
//! Tolerance: a value agrees when `|ours - R| <= 1e-6 |R|` or
//! `|ours - R| <= 1e-9` (the latter for values near zero).

use super::*;
use serde_json::Value;
use std::path::PathBuf;

const REL: f64 = 1e-6;
const ABS: f64 = 1e-9;

/// The golden files, each made by `tests/r/make_glmnet_golden.R`. The test fails when one
/// is missing, or when the folder holds a file not listed here.
const GOLDEN: &[&str] = &[
    "assess_n100_p30.json",
    "constant_column_n200_p20.json",
    "correlated_n150_p30.json",
    "imbalanced_n200_p15.json",
    "limits.json",
    "n200_p20_cv8.json",
    "n200_p20_paths.json",
    "no_intercept.json",
    "no_intercept_nostd_w.json",
    "p_gt_n_n80_p150.json",
    "scales_nostd.json",
    "scales_std.json",
    "study_alpha050.json",
    "study_alpha100.json",
    "tiny_n10_p6.json",
    "weights_pf.json",
];

fn golden_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden/glmnet")
}

fn load(p: PathBuf) -> Value {
    let s = std::fs::read_to_string(&p).unwrap_or_else(|e| {
        panic!(
            "golden file {}: {e}; regenerate it with `Rscript tests/r/make_glmnet_golden.R` from the crate root",
            p.display()
        )
    });
    serde_json::from_str(&s).unwrap()
}

fn num(v: &Value) -> f64 {
    match v {
        Value::Number(x) => x.as_f64().unwrap(),
        Value::String(s) if s == "Inf" => f64::INFINITY,
        Value::String(s) if s == "-Inf" => f64::NEG_INFINITY,
        _ => panic!("not a number: {v}"),
    }
}

fn nums(v: &Value) -> Vec<f64> {
    match v {
        Value::Array(a) => a.iter().map(num).collect(),
        Value::Number(_) => vec![num(v)],
        _ => panic!("not an array: {v}"),
    }
}

/// Largest error and whether all values agree.
#[derive(Default, Debug)]
struct Cmp {
    max_abs: f64,
    max_rel: f64,
    bad: usize,
    first_bad: Option<String>,
}

impl Cmp {
    fn add(&mut self, what: &str, ours: f64, r: f64) {
        let d = (ours - r).abs();
        let rel = if r != 0.0 { d / r.abs() } else { d };
        self.max_abs = self.max_abs.max(d);
        if r.abs() >= 1e-6 {
            self.max_rel = self.max_rel.max(rel);
        }
        if !(d <= ABS || d <= REL * r.abs()) {
            self.bad += 1;
            if self.first_bad.is_none() {
                self.first_bad = Some(format!("{what}: ours {ours:e} R {r:e}"));
            }
        }
    }
    fn vec(&mut self, what: &str, ours: &[f64], r: &[f64]) {
        assert_eq!(ours.len(), r.len(), "{what}: length");
        for (i, (&a, &b)) in ours.iter().zip(r).enumerate() {
            self.add(&format!("{what}[{i}]"), a, b);
        }
    }
}

fn matrix_from(v: &Value, n: usize, p: usize) -> Matrix {
    Matrix::from_col_major(n, p, nums(v)).unwrap()
}

/// `BinomialParams` from R argument names (absent -> R default).
fn params_from_args(a: &Value) -> BinomialParams {
    let mut p = BinomialParams::default();
    let get = |k: &str| a.get(k).filter(|v| !v.is_null());
    if let Some(v) = get("alpha") {
        p.alpha = num(v);
    }
    if let Some(v) = get("nlambda") {
        p.nlambda = num(v) as usize;
    }
    if let Some(v) = get("lambda.min.ratio") {
        p.lambda_min_ratio = Some(num(v));
    }
    if let Some(v) = get("lambda") {
        p.lambda = Some(nums(v));
    }
    if let Some(v) = get("standardize") {
        p.standardize = v.as_bool().unwrap();
    }
    if let Some(v) = get("intercept") {
        p.intercept = v.as_bool().unwrap();
    }
    if let Some(v) = get("penalty.factor") {
        p.penalty_factor = Some(nums(v));
    }
    if let Some(v) = get("weights") {
        p.weights = Some(nums(v));
    }
    if let Some(v) = get("thresh") {
        p.thresh = num(v);
    }
    if let Some(v) = get("maxit") {
        p.maxit = num(v) as usize;
    }
    if let Some(v) = get("dfmax") {
        p.dfmax = Some(num(v) as usize);
    }
    if let Some(v) = get("pmax") {
        p.pmax = Some(num(v) as usize);
    }
    p
}

/// Compares a fitted path with a golden `path` object.
fn compare_path(what: &str, fit: &Path, r: &Value, p: usize) -> (String, bool) {
    let lam = nums(&r["lambda"]);
    if fit.lambda.len() != lam.len() {
        return (
            format!(
                "{what}: path length ours {} R {}",
                fit.lambda.len(),
                lam.len()
            ),
            false,
        );
    }
    let mut c = Cmp::default();
    c.vec("lambda", &fit.lambda, &lam);
    c.vec("a0", &fit.a0, &nums(&r["a0"]));
    let beta = nums(&r["beta"]);
    for l in 0..lam.len() {
        c.vec(
            &format!("beta[{l}]"),
            &fit.beta[l],
            &beta[l * p..(l + 1) * p],
        );
    }
    c.vec("dev_ratio", &fit.dev_ratio, &nums(&r["dev_ratio"]));
    c.add("nulldev", fit.nulldev, num(&r["nulldev"]));
    let df: Vec<f64> = fit.df.iter().map(|&v| v as f64).collect();
    c.vec("df", &df, &nums(&r["df"]));
    let np = num(&r["npasses"]) as usize;
    let jerr = num(&r["jerr"]) as i64;
    let warn_ok = match (jerr, fit.warning) {
        (0, None) => true,
        (j, Some(PathWarning::PmaxExceeded { lambda_index })) => {
            j == -10000 - lambda_index as i64 - 1
        }
        (j, Some(PathWarning::MaxitReached { lambda_index })) => j == -(lambda_index as i64) - 1,
        _ => false,
    };
    let ok = c.bad == 0 && np == fit.npasses && warn_ok;
    (
        format!(
            "{what}: L={} max_abs={:.2e} max_rel={:.2e} bad={} npasses ours {} R {} jerr {} ours {:?} {}",
            lam.len(),
            c.max_abs,
            c.max_rel,
            c.bad,
            fit.npasses,
            np,
            jerr,
            fit.warning,
            c.first_bad.unwrap_or_default()
        ),
        ok,
    )
}

fn measure_from(s: &str) -> CvMeasure {
    match s {
        "deviance" => CvMeasure::Deviance,
        "class" => CvMeasure::Class,
        "mse" => CvMeasure::Mse,
        "mae" => CvMeasure::Mae,
        "auc" => CvMeasure::Auc,
        m => panic!("measure {m}"),
    }
}

/// Compares `cv_binomial` with a golden `cv` object, including the
/// out-of-fold predictions at lambda.min.
fn compare_cv(
    what: &str,
    x: &Matrix,
    y: &[f64],
    foldid: &[usize],
    params: &BinomialParams,
    r: &Value,
) -> (String, bool) {
    let m = measure_from(r["measure"].as_str().unwrap());
    let cv = match cv_binomial(x, y, foldid, params, m) {
        Ok(c) => c,
        Err(e) => return (format!("{what}: error {e}"), false),
    };
    let lam = nums(&r["lambda"]);
    if cv.lambda.len() != lam.len() {
        return (
            format!("{what}: length ours {} R {}", cv.lambda.len(), lam.len()),
            false,
        );
    }
    let mut c = Cmp::default();
    c.vec("lambda", &cv.lambda, &lam);
    c.vec("cvm", &cv.cvm, &nums(&r["cvm"]));
    c.vec("cvsd", &cv.cvsd, &nums(&r["cvsd"]));
    let nz: Vec<f64> = cv.nzero.iter().map(|&v| v as f64).collect();
    c.vec("nzero", &nz, &nums(&r["nzero"]));
    c.add("lambda_min", cv.lambda_min, num(&r["lambda_min"]));
    c.add("lambda_1se", cv.lambda_1se, num(&r["lambda_1se"]));
    let pre: Vec<f64> = nums(&r["preval_at_min"])
        .iter()
        .map(|&e| 1.0 / (1.0 + (-e).exp()))
        .collect();
    let n = x.nrows();
    let ours = &cv.oof_prob.as_slice()[cv.index_min * n..(cv.index_min + 1) * n];
    c.vec("oof_prob_at_min", ours, &pre);
    (
        format!(
            "{what}: L={} max_abs={:.2e} max_rel={:.2e} bad={} {}",
            lam.len(),
            c.max_abs,
            c.max_rel,
            c.bad,
            c.first_bad.unwrap_or_default()
        ),
        c.bad == 0,
    )
}

/// Rows `from..to` of a column-major n x p matrix.
fn rows_of(x: &Matrix, from: usize, to: usize) -> Matrix {
    let (n, p) = (x.nrows(), x.ncols());
    let v = x.as_slice();
    let rows: Vec<Vec<f64>> = (from..to)
        .map(|i| (0..p).map(|j| v[j * n + i]).collect())
        .collect();
    Matrix::from_rows(&rows).unwrap()
}

/// `assess.glmnet(glmnet(x[1:train_n, ], y[1:train_n], ...), x[-(1:train_n), ], ...)`.
fn compare_assess(
    what: &str,
    x: &Matrix,
    y: &[f64],
    train_n: usize,
    params: &BinomialParams,
    r: &Value,
) -> (String, bool) {
    let n = x.nrows();
    let fit = match fit_binomial(&rows_of(x, 0, train_n), &y[..train_n], params) {
        Ok(f) => f,
        Err(e) => return (format!("{what}: error {e}"), false),
    };
    let a = match assess_binomial(&fit, &rows_of(x, train_n, n), &y[train_n..], None) {
        Ok(a) => a,
        Err(e) => return (format!("{what}: error {e}"), false),
    };
    let mut c = Cmp::default();
    for (key, ours) in [
        ("deviance", &a.deviance),
        ("class", &a.class),
        ("auc", &a.auc),
        ("mse", &a.mse),
        ("mae", &a.mae),
    ] {
        c.vec(key, ours, &nums(&r[key]));
    }
    (
        format!(
            "{what}: L={} max_abs={:.2e} max_rel={:.2e} bad={} {}",
            fit.lambda.len(),
            c.max_abs,
            c.max_rel,
            c.bad,
            c.first_bad.unwrap_or_default()
        ),
        c.bad == 0,
    )
}

/// Link predictions `a0[l] + x beta[l]` at the path indices R recorded.
fn compare_link(what: &str, fit: &Path, x: &Matrix, r: &Value) -> (String, bool) {
    let mut c = Cmp::default();
    for at in r.as_array().unwrap() {
        let l = num(&at["lambda_index0"]) as usize;
        match fit.predict_link(x, l) {
            Ok(pred) => c.vec(&format!("link[{l}]"), &pred, &nums(&at["link"])),
            Err(e) => return (format!("{what}: error {e}"), false),
        }
    }
    (
        format!(
            "{what}: max_abs={:.2e} max_rel={:.2e} bad={} {}",
            c.max_abs,
            c.max_rel,
            c.bad,
            c.first_bad.unwrap_or_default()
        ),
        c.bad == 0,
    )
}

#[test]
fn golden_files_are_the_listed_ones() {
    let dir = golden_dir();
    let on_disk: std::collections::BTreeSet<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}; regenerate it with `Rscript tests/r/make_glmnet_golden.R` from the crate root", dir.display()))
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    let listed: std::collections::BTreeSet<String> = GOLDEN.iter().map(|s| s.to_string()).collect();
    let missing: Vec<_> = listed.difference(&on_disk).collect();
    let unlisted: Vec<_> = on_disk.difference(&listed).collect();
    assert!(
        missing.is_empty() && unlisted.is_empty(),
        "{}: missing {missing:?} (regenerate with `Rscript tests/r/make_glmnet_golden.R`), not listed in GOLDEN {unlisted:?}",
        dir.display()
    );
}

#[test]
fn golden_files() {
    let dir = golden_dir();
    let mut failures = Vec::new();
    let mut checked = 0;
    let mut report = |(msg, ok): (String, bool)| {
        eprintln!("{msg}");
        checked += 1;
        if !ok {
            failures.push(msg);
        }
    };
    for f in GOLDEN {
        let d = load(dir.join(f));
        let name = d["name"].as_str().unwrap().to_string();
        let n = num(&d["n"]) as usize;
        let p = num(&d["p"]) as usize;
        let x = matrix_from(&d["x"], n, p);
        let y = nums(&d["y"]);
        let top = params_from_args(&d);
        let mut parts = 0;
        if let Some(r) = d.get("path") {
            parts += 1;
            let fit = fit_binomial(&x, &y, &top).unwrap();
            report(compare_path(&name, &fit, r, p));
            if let Some(links) = d.get("predict_link") {
                parts += 1;
                report(compare_link(
                    &format!("{name}/predict_link"),
                    &fit,
                    &x,
                    links,
                ));
            }
        }
        if let Some(cases) = d.get("cases") {
            for c in cases.as_array().unwrap() {
                parts += 1;
                let what = format!("{name}/{}", c["case"].as_str().unwrap());
                let params = params_from_args(&c["args"]);
                match fit_binomial(&x, &y, &params) {
                    Ok(fit) => report(compare_path(&what, &fit, &c["path"], p)),
                    Err(e) => report((format!("{what}: error {e}"), false)),
                }
            }
        }
        if let Some(cvs) = d.get("cv") {
            let foldid: Vec<usize> = nums(&d["foldid0"]).iter().map(|&v| v as usize).collect();
            for c in cvs.as_array().unwrap() {
                parts += 1;
                let what = format!("{name}/cv_{}", c["measure"].as_str().unwrap());
                report(compare_cv(&what, &x, &y, &foldid, &top, c));
            }
        }
        if let Some(a) = d.get("assess") {
            parts += 1;
            let train_n = num(&d["train_n"]) as usize;
            report(compare_assess(
                &format!("{name}/assess"),
                &x,
                &y,
                train_n,
                &top,
                a,
            ));
        }
        assert!(parts > 0, "{f}: no path, cases, cv or assess to compare");
    }
    assert!(
        failures.is_empty(),
        "failing cases:\n{}",
        failures.join("\n")
    );
    // 12 paths (one with link predictions), 14 + 6 cases, 5 + 5 + 3 + 3 cv, 1 assess
    assert_eq!(checked, 50, "comparisons made");
}
