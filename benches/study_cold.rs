//! The study's data stages on the published files, cold: a fresh project folder holding the
//! checkout's raw/ and no cache, `canary run panel ofsted` (verify checksums → clean →
//! harmonise), then the no-op re-run. Goal: cold under 5 s on this 2-core machine.
//!
//! `cargo bench --bench study_cold`

use std::path::Path;
use std::process::Command;
use std::time::Instant;

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

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut cold = Vec::new();
    let mut noop = Vec::new();
    for _ in 0..3 {
        let dir = tempfile::tempdir().unwrap();
        std::fs::copy(root.join("pipeline.yaml"), dir.path().join("pipeline.yaml")).unwrap();
        copy_dir(&root.join("stages"), &dir.path().join("stages"));
        copy_dir(&root.join("raw"), &dir.path().join("raw"));
        let run = || {
            let t = Instant::now();
            let out = Command::new(env!("CARGO_BIN_EXE_canary"))
                .args(["run", "panel", "ofsted", "-q"])
                .current_dir(dir.path())
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{}",
                String::from_utf8_lossy(&out.stderr)
            );
            t.elapsed().as_secs_f64()
        };
        cold.push(run());
        noop.push(run());
    }
    cold.sort_by(f64::total_cmp);
    noop.sort_by(f64::total_cmp);
    println!(
        "checksums + clean + harmonise, cold: median {:.2} s (min {:.2}, max {:.2}, 3 runs); no-op re-run: median {:.1} ms",
        cold[1], cold[0], cold[2], noop[1] * 1e3
    );
}
