//! Agreement with R on the shared oracle fixtures and on the golden files
//! made by `tests/r/make_golden.R`.
//!
//! Tolerance: a value agrees when `|ours - R| <= 1e-6 |R|` or
//! `|ours - R| <= 1e-9` (the latter for values near zero).

use super::*;
use serde_json::Value;
use std::path::PathBuf;

const REL: f64 = 1e-6;
const ABS: f64 = 1e-9;

fn oracle_dir() -> Option<PathBuf> {
    let d = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/oracle");
    if d.is_dir() {
        Some(d)
    } else {
        eprintln!(
            "\n!!!!! SKIPPING glmnet oracle test: {} not found !!!!!\n",
            d.display()
        );
        None
    }
}

fn golden_dir() -> Option<PathBuf> {
    let d = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden/glmnet");
    if d.is_dir() {
        Some(d)
    } else {
        eprintln!(
            "\n!!!!! SKIPPING glmnet golden test: {} not found !!!!!\n",
            d.display()
        );
        None
    }
}

fn load(p: PathBuf) -> Value {
    let s = std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
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

fn opt_nums(v: Option<&Value>) -> Option<Vec<f64>> {
    match v {
        None | Some(Value::Null) => None,
        Some(v) => Some(nums(v)),
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

/// Runs one `bin_*` fixture; returns a one-line report and success.
fn check_bin(d: &Value) -> (String, bool) {
    let name = d["name"].as_str().unwrap().to_string();
    let n = d["n"].as_u64().unwrap() as usize;
    let p = d["p"].as_u64().unwrap() as usize;
    let x = matrix_from(&d["x"], n, p);
    let y = nums(&d["y"]);
    let params = BinomialParams {
        alpha: num(&d["alpha"]),
        nlambda: d["nlambda"].as_u64().unwrap() as usize,
        lambda_min_ratio: Some(num(&d["lambda_min_ratio"])),
        lambda: opt_nums(d.get("user_lambda")),
        standardize: d["standardize"].as_bool().unwrap(),
        intercept: d["intercept"].as_bool().unwrap(),
        penalty_factor: opt_nums(d.get("penalty_factor")),
        weights: opt_nums(d.get("weights")),
        thresh: num(&d["thresh"]),
        maxit: num(&d["maxit"]) as usize,
        dfmax: d.get("dfmax").map(|v| num(v) as usize),
        pmax: d.get("pmax").map(|v| num(v) as usize),
    };
    let fit = match fit_binomial(&x, &y, &params) {
        Ok(f) => f,
        Err(e) => return (format!("{name}: error {e}"), false),
    };
    let lam = nums(&d["lambda"]);
    if fit.lambda.len() != lam.len() {
        return (
            format!(
                "{name}: path length ours {} R {} (npasses ours {} R {})",
                fit.lambda.len(),
                lam.len(),
                fit.npasses,
                d["npasses"]
            ),
            false,
        );
    }
    let mut c = Cmp::default();
    c.vec("lambda", &fit.lambda, &lam);
    c.vec("a0", &fit.a0, &nums(&d["a0"]));
    let beta = nums(&d["beta"]);
    for l in 0..lam.len() {
        c.vec(&format!("beta[{l}]"), &fit.beta[l], &beta[l * p..(l + 1) * p]);
    }
    c.vec("dev_ratio", &fit.dev_ratio, &nums(&d["dev_ratio"]));
    c.add("nulldev", fit.nulldev, num(&d["nulldev"]));
    let np_r = d.get("npasses").map(|v| num(v) as usize);
    let ok = c.bad == 0;
    (
        format!(
            "{name}: L={} max_abs={:.2e} max_rel={:.2e} bad={} npasses ours {} R {:?} {}",
            lam.len(),
            c.max_abs,
            c.max_rel,
            c.bad,
            fit.npasses,
            np_r,
            c.first_bad.unwrap_or_default()
        ),
        ok,
    )
}

#[test]
fn oracle_bin_fixtures() {
    let Some(dir) = oracle_dir() else { return };
    let mut files: Vec<_> = std::fs::read_dir(dir.join("glmnet_rs_R_fixtures"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("bin_")
        })
        .collect();
    files.sort();
    let mut failures = Vec::new();
    for f in files {
        let (msg, ok) = check_bin(&load(f));
        eprintln!("{msg}");
        if !ok {
            failures.push(msg);
        }
    }
    assert!(failures.is_empty(), "failing cases:\n{}", failures.join("\n"));
}

fn check_cv(d: &Value, params: &BinomialParams) -> (String, bool) {
    let name = d["name"].as_str().unwrap().to_string();
    let n = d["n"].as_u64().unwrap() as usize;
    let p = d["p"].as_u64().unwrap() as usize;
    let x = matrix_from(&d["x"], n, p);
    let y = nums(&d["y"]);
    let foldid: Vec<usize> = nums(&d["foldid0"]).iter().map(|&v| v as usize).collect();
    let measure = match d["measure"].as_str().unwrap() {
        "deviance" => CvMeasure::Deviance,
        "class" => CvMeasure::Class,
        "mse" => CvMeasure::Mse,
        "mae" => CvMeasure::Mae,
        "auc" => CvMeasure::Auc,
        m => panic!("measure {m}"),
    };
    let cv = match cv_binomial(&x, &y, &foldid, params, measure) {
        Ok(c) => c,
        Err(e) => return (format!("{name}: error {e}"), false),
    };
    let lam = nums(&d["lambda"]);
    if cv.lambda.len() != lam.len() {
        return (
            format!("{name}: length ours {} R {}", cv.lambda.len(), lam.len()),
            false,
        );
    }
    let mut c = Cmp::default();
    c.vec("lambda", &cv.lambda, &lam);
    c.vec("cvm", &cv.cvm, &nums(&d["cvm"]));
    c.vec("cvsd", &cv.cvsd, &nums(&d["cvsd"]));
    let nz: Vec<f64> = cv.nzero.iter().map(|&v| v as f64).collect();
    c.vec("nzero", &nz, &nums(&d["nzero"]));
    c.add("lambda_min", cv.lambda_min, num(&d["lambda_min"]));
    c.add("lambda_1se", cv.lambda_1se, num(&d["lambda_1se"]));
    let ok = c.bad == 0;
    (
        format!(
            "{name}: L={} max_abs={:.2e} max_rel={:.2e} bad={} min {} 1se {} {}",
            lam.len(),
            c.max_abs,
            c.max_rel,
            c.bad,
            cv.lambda_min,
            cv.lambda_1se,
            c.first_bad.unwrap_or_default()
        ),
        ok,
    )
}

#[test]
fn oracle_cv_fixtures() {
    let Some(dir) = oracle_dir() else { return };
    let mut failures = Vec::new();
    for m in ["deviance", "class", "mse"] {
        let d = load(dir.join(format!("glmnet_rs_R_fixtures/cv_binomial_{m}.json")));
        let params = BinomialParams {
            alpha: num(&d["alpha"]),
            ..Default::default()
        };
        let (msg, ok) = check_cv(&d, &params);
        eprintln!("{msg}");
        if !ok {
            failures.push(msg);
        }
    }
    assert!(failures.is_empty(), "failing cases:\n{}", failures.join("\n"));
}

#[test]
fn oracle_glmnetjl_path() {
    let Some(dir) = oracle_dir() else { return };
    let d = load(dir.join("glmnetjl_binomial/glmnetjl_logistic.json"));
    let rows: Vec<Vec<f64>> = d["X"].as_array().unwrap().iter().map(nums).collect();
    let x = Matrix::from_rows(&rows).unwrap();
    let y = nums(&d["y_binary"]);
    let fit = fit_binomial(&x, &y, &BinomialParams::default()).unwrap();
    let r = &d["glmnet5_fortran_via_GLMNet.jl_HEAD_99739ec"];
    let lam = nums(&r["lambda_"]);
    assert_eq!(fit.lambda.len(), lam.len(), "path length");
    let mut c = Cmp::default();
    c.vec("lambda", &fit.lambda, &lam);
    c.vec("a0", &fit.a0, &nums(&r["a0"]));
    c.vec("dev_ratio", &fit.dev_ratio, &nums(&r["dev_ratio"]));
    let df: Vec<f64> = fit.df.iter().map(|&v| v as f64).collect();
    c.vec("df", &df, &nums(&r["df"]));
    c.add("nulldev", fit.nulldev, num(&r["nulldev"]));
    // betas: 6 rows (predictors) x 3 models (1-based 11, 46, 54).
    let models: Vec<usize> = nums(&r["betas_at_models_1based"])
        .iter()
        .map(|&v| v as usize - 1)
        .collect();
    let betas: Vec<Vec<f64>> = r["betas"].as_array().unwrap().iter().map(nums).collect();
    for (m, &l) in models.iter().enumerate() {
        for (j, row) in betas.iter().enumerate() {
            c.add(&format!("beta[{l}][{j}]"), fit.beta[l][j], row[m]);
        }
    }
    for (key, l) in [("link_pred_model16", 15), ("link_pred_model62", 61)] {
        let pred = fit.predict_link(&x, l).unwrap();
        c.vec(key, &pred, &nums(&r[key]));
    }
    eprintln!(
        "glmnetjl: L={} max_abs={:.2e} max_rel={:.2e} bad={} {}",
        lam.len(),
        c.max_abs,
        c.max_rel,
        c.bad,
        c.first_bad.clone().unwrap_or_default()
    );
    assert_eq!(c.bad, 0);
}

fn read_csv(p: PathBuf) -> (Vec<String>, Vec<Vec<f64>>) {
    let s = std::fs::read_to_string(p).unwrap();
    let mut lines = s.lines();
    let header = lines.next().unwrap().split(',').map(|s| s.trim_matches('"').to_string()).collect();
    let rows = lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.split(',').map(|v| v.parse::<f64>().unwrap()).collect())
        .collect();
    (header, rows)
}

/// Agreement to 7 significant digits: within half a unit of the 7th digit of
/// the printed R value (which may carry an 8th digit).
fn same_7_digits(ours: f64, r: f64) -> bool {
    if r == 0.0 {
        return ours.abs() < 1e-12;
    }
    let e = r.abs().log10().floor() as i32;
    (ours - r).abs() <= 0.5 * 10f64.powi(e - 6) * (1.0 + 1e-9)
}

#[test]
fn oracle_vignette_assess() {
    let Some(dir) = oracle_dir() else { return };
    let (_, rows) = read_csv(dir.join("r_vignette_binomial/BinomialExample.csv"));
    let p = rows[0].len() - 1;
    let xr: Vec<Vec<f64>> = rows.iter().map(|r| r[..p].to_vec()).collect();
    let y: Vec<f64> = rows.iter().map(|r| r[p]).collect();
    let train = Matrix::from_rows(&xr[..70]).unwrap();
    let test = Matrix::from_rows(&xr[70..]).unwrap();
    let fit = fit_binomial(
        &train,
        &y[..70],
        &BinomialParams {
            nlambda: 5,
            ..Default::default()
        },
    )
    .unwrap();
    let a = assess_binomial(&fit, &test, &y[70..], None).unwrap();
    let d = load(dir.join("r_vignette_binomial/assess_glmnet_nlambda5.json"));
    let e = &d["expected_7_significant_digits"];
    let mut bad = Vec::new();
    for (key, ours) in [
        ("deviance", &a.deviance),
        ("cls", &a.class),
        ("auc", &a.auc),
        ("mse", &a.mse),
        ("mae", &a.mae),
    ] {
        let r = nums(&e[key]);
        assert_eq!(ours.len(), r.len());
        for (i, (&o, &v)) in ours.iter().zip(&r).enumerate() {
            if !same_7_digits(o, v) {
                bad.push(format!("{key}[{i}] ours {o} R {v}"));
            }
        }
    }
    eprintln!("vignette assess: {} mismatches {:?}", bad.len(), bad);
    assert!(bad.is_empty());
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
            format!("{what}: path length ours {} R {}", fit.lambda.len(), lam.len()),
            false,
        );
    }
    let mut c = Cmp::default();
    c.vec("lambda", &fit.lambda, &lam);
    c.vec("a0", &fit.a0, &nums(&r["a0"]));
    let beta = nums(&r["beta"]);
    for l in 0..lam.len() {
        c.vec(&format!("beta[{l}]"), &fit.beta[l], &beta[l * p..(l + 1) * p]);
    }
    c.vec("dev_ratio", &fit.dev_ratio, &nums(&r["dev_ratio"]));
    c.add("nulldev", fit.nulldev, num(&r["nulldev"]));
    let df: Vec<f64> = fit.df.iter().map(|&v| v as f64).collect();
    c.vec("df", &df, &nums(&r["df"]));
    let np = num(&r["npasses"]) as usize;
    let jerr = num(&r["jerr"]) as i64;
    let warn_ok = match (jerr, fit.warning) {
        (0, None) => true,
        (j, Some(PathWarning::PmaxExceeded { lambda_index })) => j == -10000 - lambda_index as i64 - 1,
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
fn compare_cv(what: &str, x: &Matrix, y: &[f64], foldid: &[usize], params: &BinomialParams, r: &Value) -> (String, bool) {
    let m = measure_from(r["measure"].as_str().unwrap());
    let cv = match cv_binomial(x, y, foldid, params, m) {
        Ok(c) => c,
        Err(e) => return (format!("{what}: error {e}"), false),
    };
    let lam = nums(&r["lambda"]);
    if cv.lambda.len() != lam.len() {
        return (format!("{what}: length ours {} R {}", cv.lambda.len(), lam.len()), false);
    }
    let mut c = Cmp::default();
    c.vec("lambda", &cv.lambda, &lam);
    c.vec("cvm", &cv.cvm, &nums(&r["cvm"]));
    c.vec("cvsd", &cv.cvsd, &nums(&r["cvsd"]));
    let nz: Vec<f64> = cv.nzero.iter().map(|&v| v as f64).collect();
    c.vec("nzero", &nz, &nums(&r["nzero"]));
    c.add("lambda_min", cv.lambda_min, num(&r["lambda_min"]));
    c.add("lambda_1se", cv.lambda_1se, num(&r["lambda_1se"]));
    let pre: Vec<f64> = nums(&r["preval_at_min"]).iter().map(|&e| 1.0 / (1.0 + (-e).exp())).collect();
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

#[test]
fn golden_files() {
    let Some(dir) = golden_dir() else { return };
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no golden files in {}", dir.display());
    let mut failures = Vec::new();
    let mut report = |(msg, ok): (String, bool)| {
        eprintln!("{msg}");
        if !ok {
            failures.push(msg);
        }
    };
    for f in files {
        let d = load(f);
        let name = d["name"].as_str().unwrap().to_string();
        let n = num(&d["n"]) as usize;
        let p = num(&d["p"]) as usize;
        let x = matrix_from(&d["x"], n, p);
        let y = nums(&d["y"]);
        let top = params_from_args(&d);
        if let Some(r) = d.get("path") {
            let fit = fit_binomial(&x, &y, &top).unwrap();
            report(compare_path(&name, &fit, r, p));
        }
        if let Some(cases) = d.get("cases") {
            for c in cases.as_array().unwrap() {
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
                let what = format!("{name}/cv_{}", c["measure"].as_str().unwrap());
                report(compare_cv(&what, &x, &y, &foldid, &top, c));
            }
        }
    }
    assert!(failures.is_empty(), "failing cases:\n{}", failures.join("\n"));
}

