//! The engine's no-op re-run: synthetic pipelines of 20 and 200 SQL stages over one small CSV,
//! run once, then timed re-running with everything up to date — the whole `canary run`
//! process, start-up included, as a user sees it. Goal: 20 stages under 50 ms.
//!
//! `cargo bench --bench noop_rerun`

use std::process::Command;
use std::time::{Duration, Instant};

fn make_project(dir: &std::path::Path, stages: usize) {
    let mut csv = String::from("la,year,value\n");
    for la in 0..150 {
        for year in 2010..2025 {
            csv.push_str(&format!("E{la:08},{year},{}\n", (la * 31 + year * 7) % 97));
        }
    }
    std::fs::write(dir.join("data.csv"), &csv).unwrap();
    let sha = canary::hash::sha256_bytes(csv.as_bytes());
    let mut y = format!("name: bench{stages}\nsources:\n  data:\n    path: data.csv\n    sha256: {sha}\nstages:\n");
    // A layered graph: each stage reads the source or one or two earlier stages.
    for i in 0..stages {
        let inputs = match i {
            0 => "[data]".to_string(),
            1 => "[s0]".to_string(),
            _ if i / 2 == i - 1 => format!("[s{}]", i - 1),
            _ => format!("[s{}, s{}]", i - 1, i / 2),
        };
        let from = if i == 0 { "data".to_string() } else { format!("s{}", i - 1) };
        y.push_str(&format!(
            "  s{i}:\n    kind: sql\n    inputs: {inputs}\n    sql: SELECT la, year, value + {i} AS value FROM {from} WHERE year > 2009\n"
        ));
    }
    std::fs::write(dir.join("pipeline.yaml"), y).unwrap();
}

fn canary(dir: &std::path::Path) -> Duration {
    let t = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_canary"))
        .args(["run", "-q"])
        .current_dir(dir)
        .output()
        .unwrap();
    let d = t.elapsed();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    d
}

fn main() {
    for stages in [20, 200] {
        let dir = tempfile::tempdir().unwrap();
        make_project(dir.path(), stages);
        let cold = canary(dir.path());
        let mut times: Vec<Duration> = (0..15).map(|_| canary(dir.path())).collect();
        times.sort();
        let median = times[times.len() / 2];
        println!(
            "{stages:>4} stages: first run {:>8.1} ms; no-op re-run median {:>6.1} ms (min {:.1}, max {:.1}, 15 runs)",
            cold.as_secs_f64() * 1e3,
            median.as_secs_f64() * 1e3,
            times[0].as_secs_f64() * 1e3,
            times[times.len() - 1].as_secs_f64() * 1e3
        );
    }
}
