//! The engine's overhead per `script` stage: a pipeline of 100 script stages, each a minimal
//! shell command that writes a one-row table, over one small CSV, run with `--jobs 1`; the
//! same command started directly 100 times measures the process's own start-up, and the
//! difference per stage is canary's (scratch folder, input copy, environment, snapshot of the
//! project, reading and rewriting the output, hashing, cache, lock). Then the no-op re-run of
//! the 100-stage pipeline. Goals: overhead under 5 ms per stage beyond the command's start-up;
//! the no-op re-run under 50 ms.
//!
//! `cargo bench --bench script_stages`

use std::process::Command;
use std::time::{Duration, Instant};

const STAGES: usize = 100;
const SCRIPT: &str = r#"printf 'n\n1\n' > "$CANARY_OUT_T""#;

fn make_project(dir: &std::path::Path) {
    let mut csv = String::from("la,year,value\n");
    for la in 0..150 {
        csv.push_str(&format!("E{la:08},2024,{}\n", la % 97));
    }
    std::fs::write(dir.join("data.csv"), &csv).unwrap();
    let sha = canary::hash::sha256_bytes(csv.as_bytes());
    let mut y = format!(
        "name: scripts\nsources:\n  data:\n    path: data.csv\n    sha256: {sha}\nstages:\n"
    );
    for i in 0..STAGES {
        y.push_str(&format!("  s{i}:\n    kind: script\n    inputs: [data]\n    command: sh -c '{}'\n    outputs: [t]\n    params: {{i: {i}}}\n", SCRIPT.replace('\'', "'\\''")));
    }
    std::fs::write(dir.join("pipeline.yaml"), y).unwrap();
}

fn run(dir: &std::path::Path, args: &[&str]) -> Duration {
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

fn main() {
    let dir = tempfile::tempdir().unwrap();
    make_project(dir.path());
    let out = dir.path().join("direct.csv");
    let direct: Duration = {
        let t = Instant::now();
        for _ in 0..STAGES {
            let s = Command::new("sh")
                .arg("-c")
                .arg(SCRIPT)
                .env("CANARY_OUT_T", &out)
                .status()
                .unwrap();
            assert!(s.success());
        }
        t.elapsed()
    };
    let mut cold = Vec::new();
    for _ in 0..3 {
        cold.push(run(dir.path(), &["run", "-q", "--force", "--jobs", "1"]));
    }
    cold.sort();
    let mut noop: Vec<Duration> = (0..15).map(|_| run(dir.path(), &["run", "-q"])).collect();
    noop.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let per_stage = ms(cold[1]) / STAGES as f64;
    let start_up = ms(direct) / STAGES as f64;
    println!("{STAGES} script stages, --jobs 1: median {:.0} ms ({per_stage:.2} ms per stage); the command alone {start_up:.2} ms; canary's overhead {:.2} ms per stage", ms(cold[1]), per_stage - start_up);
    println!(
        "{STAGES} script stages, no-op re-run: median {:.1} ms (min {:.1}, max {:.1}, 15 runs)",
        ms(noop[7]),
        ms(noop[0]),
        ms(noop[14])
    );
}
