//! The study's robustness sweep (stage `model_sweep`: 1,000 fits of the Table 2 model over fold
//! seeds, alpha and the handling of missing values), on the published files in `raw/`: cold
//! (no cached cell) and the no-op re-run with every cell up to date — whole `canary run`
//! processes, start-up included. Goals on this 2-core machine: cold under 30 s, no-op under
//! 100 ms.
//!
//! `cargo bench --bench model_sweep`

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        } else {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

fn canary(dir: &Path, args: &[&str]) -> Duration {
    let t = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_canary"))
        .args(args)
        .current_dir(dir)
        .output()
        .unwrap();
    let d = t.elapsed();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    d
}

fn median(mut v: Vec<Duration>) -> (f64, f64, f64) {
    v.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    (ms(v[v.len() / 2]), ms(v[0]), ms(v[v.len() - 1]))
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    std::fs::copy(root.join("pipeline.yaml"), dir.path().join("pipeline.yaml")).unwrap();
    for d in ["stages", "raw", "reports"] {
        copy_dir(&root.join(d), &dir.path().join(d));
    }
    // The sweep's input first, so the timings are the sweep's own.
    canary(dir.path(), &["run", "model_data", "-q"]);
    // Each cold run sweeps seeds no run has seen (1-100, 101-200, 201-300): 1,000 new cells
    // every time, while the stages upstream stay cached.
    let mut cold = Vec::new();
    let mut seeds = String::new();
    for k in 0..3 {
        seeds = format!("sweep.seeds={}..{}", 100 * k + 1, 100 * k + 100);
        cold.push(canary(
            dir.path(),
            &["run", "model_sweep", "-q", "--set", &seeds],
        ));
    }
    let noop: Vec<Duration> = (0..15)
        .map(|_| canary(dir.path(), &["run", "model_sweep", "-q", "--set", &seeds]))
        .collect();
    let status: Vec<Duration> = (0..15)
        .map(|_| {
            canary(
                dir.path(),
                &["status", "model_sweep", "-q", "--set", &seeds],
            )
        })
        .collect();
    let (c, c0, c1) = median(cold);
    let (n, n0, n1) = median(noop);
    let (s, s0, s1) = median(status);
    println!("model_sweep, 1,000 cells, cold: median {:.2} s (min {:.2}, max {:.2}, 3 runs); {:.1} ms per cell", c / 1e3, c0 / 1e3, c1 / 1e3, c / 1000.0);
    println!(
        "model_sweep, no-op re-run:      median {n:.1} ms (min {n0:.1}, max {n1:.1}, 15 runs)"
    );
    println!(
        "status model_sweep:             median {s:.1} ms (min {s0:.1}, max {s1:.1}, 15 runs)"
    );
}
