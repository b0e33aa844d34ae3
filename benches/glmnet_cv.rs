//! Timing of `cv_binomial` on n = 100,000, p = 100, 10 folds, nlambda = 100.
//!
//! `cargo bench --bench glmnet_cv` prints wall times.
//! `cargo bench --bench glmnet_cv -- --write-csv DIR` also writes `DIR/cv_large_x.csv`
//! (with `y` and the 1-based `foldid` as the last columns) so that
//! `crates/canary-stats/tests/r/bench_glmnet_cv.R DIR` times R's `cv.glmnet` on the same data and folds.
use canary::stats::glmnet::{
    assign_folds, cv_binomial, fit_binomial, BinomialParams, CvMeasure, Matrix,
};
use std::io::Write;
use std::time::Instant;

struct Gen(u64);
impl Gen {
    fn u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn unif(&mut self) -> f64 {
        ((self.u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }
    fn normal(&mut self) -> f64 {
        let (u, v) = (self.unif(), self.unif());
        (-2.0 * u.ln()).sqrt() * (2.0 * std::f64::consts::PI * v).cos()
    }
}

fn main() {
    let (n, p, k) = (100_000usize, 100usize, 10usize);
    let mut g = Gen(2024);
    let mut cols = vec![vec![0.0; n]; p];
    let mut y = vec![0.0; n];
    for i in 0..n {
        let z = g.normal();
        for c in cols.iter_mut() {
            // Rounded to 6 decimals so that the CSV carries the exact values.
            c[i] = ((0.3 * z + g.normal()) * 1e6).round() / 1e6;
        }
        let mut eta = -2.2;
        for (j, c) in cols.iter().take(10).enumerate() {
            eta += if j % 2 == 0 { 0.4 } else { -0.3 } * c[i];
        }
        y[i] = (g.unif() < 1.0 / (1.0 + (-eta).exp())) as u8 as f64;
    }
    let foldid = assign_folds(n, k, 7);
    let args: Vec<String> = std::env::args().collect();
    if let Some(pos) = args.iter().position(|a| a == "--write-csv") {
        let dir = args.get(pos + 1).expect("--write-csv DIR");
        let path = std::path::Path::new(dir).join("cv_large_x.csv");
        let mut f = std::io::BufWriter::new(std::fs::File::create(&path).unwrap());
        let header: Vec<String> = (1..=p).map(|j| format!("x{j}")).collect();
        writeln!(f, "{},y,foldid", header.join(",")).unwrap();
        for i in 0..n {
            for c in &cols {
                write!(f, "{},", c[i]).unwrap();
            }
            writeln!(f, "{},{}", y[i], foldid[i] + 1).unwrap();
        }
        eprintln!("wrote {}", path.display());
    }
    let x = Matrix::from_columns(&cols).unwrap();
    let params = BinomialParams::default();
    let positives = y.iter().sum::<f64>();
    println!("n = {n}, p = {p}, positives = {positives}, folds = {k}, nlambda = 100");

    let t = Instant::now();
    let fit = fit_binomial(&x, &y, &params).unwrap();
    println!(
        "single fit_binomial: {:.3} s ({} lambdas, {} passes)",
        t.elapsed().as_secs_f64(),
        fit.len(),
        fit.npasses
    );

    if args.iter().any(|a| a == "--sequential") {
        // The fold fits one after another, for comparison with R's sequential loop.
        let t = Instant::now();
        for f in 0..k {
            let train: Vec<usize> = (0..n).filter(|&i| foldid[i] != f).collect();
            let xt = x.select_rows(&train);
            let yt: Vec<f64> = train.iter().map(|&i| y[i]).collect();
            fit_binomial(&xt, &yt, &params).unwrap();
        }
        println!(
            "10 fold fits, sequential: {:.3} s",
            t.elapsed().as_secs_f64()
        );
    }

    let t = Instant::now();
    let cv = cv_binomial(&x, &y, &foldid, &params, CvMeasure::Deviance).unwrap();
    println!(
        "cv_binomial (10 folds, {} threads): {:.3} s; lambda.min = {:.6e}, lambda.1se = {:.6e}",
        std::thread::available_parallelism().map_or(1, |v| v.get()),
        t.elapsed().as_secs_f64(),
        cv.lambda_min,
        cv.lambda_1se
    );
}
