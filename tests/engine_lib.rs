//! The engine through the library: a kind registered by the embedding code (the extension
//! point later kinds use) that panics midway must fail its stage cleanly.

use std::sync::Arc;

use canary::engine::{Engine, RunOptions};
use canary::pipeline::KindSpec;
use canary::stage::{OutputTable, StageContext, StageKind};

struct Panics;

/// Declares nothing beyond the defaults: no params, one table.
impl KindSpec for Panics {}

impl StageKind for Panics {
    fn name(&self) -> &'static str {
        "test.panics"
    }
    fn version(&self) -> u32 {
        1
    }
    fn describe(&self) -> &'static str {
        "panics while running"
    }
    fn run(&self, _ctx: &StageContext) -> canary::Result<Vec<OutputTable>> {
        let v: Vec<u32> = Vec::new();
        // An out-of-bounds index: the kind of bug a stage could have.
        let _ = v[usize::from(v.is_empty())];
        unreachable!()
    }
}

#[test]
fn a_panicking_stage_fails_cleanly_and_keeps_other_outputs() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("pipeline.yaml"),
        "name: t\nstages:\n  ok:\n    kind: sql\n    sql: SELECT 1 AS one\n  boom:\n    kind: test.panics\n    inputs: [ok]\n",
    )
    .unwrap();
    let mut registry = canary::kinds::builtin();
    registry.register(Arc::new(Panics));
    let p = canary::pipeline::load(&dir.path().join("pipeline.yaml"), &registry, &[]).unwrap();
    let engine = Engine::new(&p, &registry).unwrap();
    let opts = RunOptions {
        jobs: 2,
        quiet: true,
        ..Default::default()
    };
    let err = engine.run(&opts).unwrap_err();
    let msg = err.to_string();
    assert!(msg.contains("stage `boom` failed: it panicked"), "{msg}");
    assert!(msg.contains("index out of bounds"), "{msg}");
    assert_eq!(err.exit_code(), 1);
    assert!(dir.path().join("out/ok.parquet").is_file());
    assert!(!dir.path().join("out/boom.parquet").exists());
    // The lock records the stage that succeeded, not the one that panicked.
    let lock = std::fs::read_to_string(dir.path().join("pipeline.lock")).unwrap();
    assert!(
        lock.contains("  ok:") && !lock.contains("  boom:"),
        "{lock}"
    );
    // Running again: `ok` is cached, `boom` fails again the same way.
    let engine = Engine::new(&p, &registry).unwrap();
    assert!(engine.run(&opts).is_err());
}
