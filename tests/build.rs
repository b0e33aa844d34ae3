//! The build itself: the release binary and the benches share DataFusion's artefacts.
//!
//! `cargo bench` compiles with the dev-dependencies, `cargo build --release` without; when a
//! dev-dependency turns on a feature of a crate DataFusion also uses, cargo builds that crate
//! twice and DataFusion with it (half an hour on two cores). `Cargo.toml` pins such features in
//! `[dependencies]`; this test fails when a new one appears, naming it.

use crate::common;
use std::collections::BTreeSet;

/// `name version features` for every crate of the graph, as `cargo tree` prints them.
fn features(edges: &str) -> BTreeSet<String> {
    common::cargo_tree(&["-e", edges, "-f", "{p} {f}"])
        .into_iter()
        .collect()
}

#[test]
fn dev_dependencies_change_no_feature_of_a_shared_crate() {
    let release = features("normal,build");
    let with_dev = features("normal,build,dev");
    let name_version = |l: &str| l.split(' ').take(2).collect::<Vec<_>>().join(" ");
    let shared: BTreeSet<String> = release.iter().map(|l| name_version(l)).collect();
    let changed: Vec<&String> = with_dev
        .iter()
        .filter(|l| shared.contains(&name_version(l)) && !release.contains(*l))
        .collect();
    assert!(
        changed.is_empty(),
        "dev-dependencies change the features of crates the release build shares, so `cargo bench` \
         would rebuild them (and DataFusion): {changed:?}; pin those features in Cargo.toml's [dependencies]"
    );
}
