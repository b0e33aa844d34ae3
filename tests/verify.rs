//! `canary verify` (issue 6): a clean run verifies; each kind of tampering — an output, a lock
//! entry, a source file, a SQL file, a param — gives a "differs" verdict naming its cause; the
//! project's folders are untouched; `--tolerance`, `--crate` and `--report` work.

use crate::common;

use common::Project;

fn verified() -> Project {
    let p = Project::from_fixture("engine");
    p.canary(&["run", "-q"]).ok();
    p
}

/// The verdict line of one output.
fn line<'a>(stdout: &'a str, stage: &str) -> &'a str {
    stdout
        .lines()
        .find(|l| l.split_whitespace().next() == Some(stage))
        .unwrap_or_else(|| panic!("no verdict for {stage}:\n{stdout}"))
}

#[test]
fn a_clean_run_verifies_byte_for_byte_and_the_project_is_untouched() {
    let p = verified();
    let before = (
        p.tree("out"),
        p.tree(".canary/cache"),
        p.read("pipeline.lock"),
        p.tree("data"),
    );
    let v = p.canary(&["verify", "--jobs", "2"]).ok();
    assert!(
        v.stdout.starts_with("stage"),
        "a table comes first:\n{}",
        v.stdout
    );
    for stage in ["la", "national", "recent", "summary", "counter"] {
        assert!(
            line(&v.stdout, stage).ends_with("identical"),
            "{}",
            v.stdout
        );
    }
    assert!(
        line(&v.stdout, "(source)").contains("referrals"),
        "{}",
        v.stdout
    );
    assert!(v.stdout.contains("verified: all 6 outputs re-derived from the published files match the lock `pipeline.lock` byte for byte"), "{}", v.stdout);
    let after = (
        p.tree("out"),
        p.tree(".canary/cache"),
        p.read("pipeline.lock"),
        p.tree("data"),
    );
    assert!(before == after, "verify changed the project's folders");
}

#[test]
fn a_tampered_output_differs() {
    let p = verified();
    // Another valid table in its place: the output of a different stage.
    let other = p.bytes("out/national.parquet");
    let path = p.path("out/la.parquet");
    std::fs::write(&path, other).unwrap();
    let v = p.canary(&["verify"]).fails(1);
    assert!(line(&v.stdout, "la").ends_with("DIFFERS"), "{}", v.stdout);
    assert!(
        v.stdout
            .contains("`out/la.parquet` on disk was modified after the run"),
        "{}",
        v.stdout
    );
    assert!(
        v.stdout.contains("schema differs"),
        "how it differs is said:\n{}",
        v.stdout
    );
    assert!(
        line(&v.stdout, "national").ends_with("identical"),
        "{}",
        v.stdout
    );
    assert!(
        v.stderr.contains("NOT verified: 1 of 6 outputs differ"),
        "{}",
        v.stderr
    );
}

#[test]
fn a_tampered_lock_entry_differs() {
    let p = verified();
    let lock = p.read("pipeline.lock");
    let sha = canary::hash::sha256_file(&p.path("out/summary.parquet")).unwrap();
    let forged = "0".repeat(64);
    p.write("pipeline.lock", &lock.replace(&sha, &forged));
    let v = p.canary(&["verify"]).fails(1);
    assert!(
        line(&v.stdout, "summary").ends_with("DIFFERS"),
        "{}",
        v.stdout
    );
    assert!(
        line(&v.stdout, "summary").contains("000000000000"),
        "{}",
        v.stdout
    );
    assert!(
        v.stdout.contains(
            "the record was edited: `out/summary.parquet` on disk and its re-derivation agree"
        ),
        "{}",
        v.stdout
    );
}

#[test]
fn a_changed_source_file_differs() {
    let p = verified();
    // The publisher re-issues the file with one number changed, and pipeline.yaml is updated.
    let old = canary::hash::sha256_file(&p.path("data/referrals.csv")).unwrap();
    let path = p.path("data/referrals.csv");
    let mut perms = std::fs::metadata(&path).unwrap().permissions();
    #[allow(clippy::permissions_set_readonly_false)]
    perms.set_readonly(false);
    std::fs::set_permissions(&path, perms).unwrap();
    p.edit("data/referrals.csv", "5102,940,18.4", "5102,940,19.4");
    let new = canary::hash::sha256_file(&p.path("data/referrals.csv")).unwrap();
    p.edit("pipeline.yaml", &old, &new);
    let v = p.canary(&["verify"]).fails(1);
    assert!(
        line(&v.stdout, "(source)").ends_with("DIFFERS"),
        "{}",
        v.stdout
    );
    assert!(
        v.stdout
            .contains("source `referrals` (data/referrals.csv) changed since the run"),
        "{}",
        v.stdout
    );
    assert!(
        v.stdout.contains("column `rereferral_pct`: 1 of"),
        "the cell that moved is counted:\n{}",
        v.stdout
    );
    assert!(
        line(&v.stdout, "counter").ends_with("identical"),
        "{}",
        v.stdout
    );
}

#[test]
fn a_changed_sql_file_differs() {
    let p = verified();
    p.edit(
        "stages/la.sql",
        "TRY_CAST(referral_count AS DOUBLE) AS referrals",
        "TRY_CAST(referral_count AS DOUBLE) * 2 AS referrals",
    );
    let v = p.canary(&["verify"]).fails(1);
    assert!(
        v.stdout
            .contains("its SQL file `stages/la.sql` changed since the run"),
        "{}",
        v.stdout
    );
    assert!(
        v.stdout
            .contains("its input stage `la` now produces different output"),
        "downstream names its cause:\n{}",
        v.stdout
    );
}

#[test]
fn a_changed_param_differs() {
    let p = verified();
    p.edit("pipeline.yaml", "min_year: 2023", "min_year: 2024");
    let v = p.canary(&["verify"]).fails(1);
    assert!(
        line(&v.stdout, "recent").ends_with("DIFFERS"),
        "{}",
        v.stdout
    );
    assert!(
        v.stdout
            .contains("param `since` changed from 2023 to 2024 since the run"),
        "{}",
        v.stdout
    );
    assert!(
        v.stdout
            .contains("row count differs: recorded 6, re-derived 3"),
        "{}",
        v.stdout
    );
    assert!(line(&v.stdout, "la").ends_with("identical"), "{}", v.stdout);
    // A global param used in SQL changes the SQL text: the param is named.
    let p = verified();
    p.edit("pipeline.yaml", "size: 10", "size: 12");
    let v = p.canary(&["verify"]).fails(1);
    assert!(
        line(&v.stdout, "counter").ends_with("DIFFERS"),
        "{}",
        v.stdout
    );
    assert!(
        v.stdout
            .contains("param `size` changed from 10 to 12 since the run, changing its SQL"),
        "{}",
        v.stdout
    );
    assert!(
        v.stdout
            .contains("column `n`: 1 of 1 cells differ; largest difference 2e0 absolute"),
        "{}",
        v.stdout
    );
}

#[test]
fn a_tolerance_accepts_floating_point_noise_and_says_so() {
    let p = verified();
    // A change that moves re-referral percentages by about 1e-13.
    p.edit(
        "stages/la.sql",
        "TRY_CAST(rereferral_percent AS DOUBLE) AS rereferral_pct",
        "TRY_CAST(rereferral_percent AS DOUBLE) * (1 + 1e-15) AS rereferral_pct",
    );
    let strict = p.canary(&["verify"]).fails(1);
    assert!(
        line(&strict.stdout, "la").ends_with("DIFFERS"),
        "{}",
        strict.stdout
    );
    let loose = p.canary(&["verify", "--tolerance", "1e-9"]).ok();
    assert!(
        line(&loose.stdout, "la").ends_with("equal within 1e-9"),
        "{}",
        loose.stdout
    );
    assert!(
        loose.stdout.contains("equal within the tolerance"),
        "{}",
        loose.stdout
    );
    let bad = p.canary(&["verify", "--tolerance=-1"]).fails(2);
    assert!(bad.stderr.contains("--tolerance"), "{}", bad.stderr);
}

#[test]
fn verify_against_the_crate_and_beside_the_report() {
    let p = crate::report::report_project();
    p.canary(&["run", "-q"]).ok();
    let report_before = p.read("reports/report.html");
    let v = p
        .canary(&[
            "verify",
            "--crate",
            "reports/ro-crate-metadata.json",
            "--report",
        ])
        .ok();
    assert!(
        v.stdout
            .contains("match the RO-Crate `reports/ro-crate-metadata.json` byte for byte"),
        "{}",
        v.stdout
    );
    // The crate lists the report's pages, and they were compared.
    assert!(
        v.stdout.contains("reports/report.html") && v.stdout.contains("reports/report.md"),
        "{}",
        v.stdout
    );
    // The verdict is a page of its own beside the report, which is left as the stage wrote it.
    assert!(p
        .read("reports/verification.html")
        .contains("<h2 id=\"verification\">Verification</h2>"));
    assert!(p
        .read("reports/verification.md")
        .contains("## Verification"));
    assert_eq!(p.read("reports/report.html"), report_before);
    let status = p.canary(&["status"]).ok();
    assert!(
        status.stdout.contains("everything is up to date"),
        "{}",
        status.stdout
    );
    p.canary(&["verify", "--report", "-q"]).ok();
    assert_eq!(
        p.read("reports/verification.html")
            .matches("id=\"verification\"")
            .count(),
        1
    );
}
