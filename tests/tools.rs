//! `tools/sources_from_manifest.py`, run as README's "Adding a year" says, against the real
//! `raw/README.md` and a small mirror in `tests/fixtures/tools/mirror/`.

use crate::common;

use std::path::Path;
use std::process::Command;

const NEEDS_PYTHON: &str = "needs python3";

struct Out {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs the tool from the crate root with `args`, the fixture mirror unless `--mirror` is
/// among them.
fn tool(args: &[&str]) -> Out {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let o = Command::new("python3")
        .arg("tools/sources_from_manifest.py")
        .args(args)
        .current_dir(root)
        .output()
        .unwrap_or_else(|e| panic!("{NEEDS_PYTHON}: cannot run python3: {e}"));
    Out {
        code: o.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&o.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&o.stderr).into_owned(),
    }
}

fn mirror() -> String {
    common::fixture("tools/mirror").display().to_string()
}

/// The `sources:` entries of pipeline.yaml, as (name, path, sha256).
fn pipeline_sources() -> Vec<(String, String, String)> {
    let text = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("pipeline.yaml"))
        .unwrap();
    let doc: canary_yaml::Value = canary_yaml::from_str(&text).unwrap();
    doc["sources"]
        .as_mapping()
        .unwrap()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().unwrap().to_string(),
                v["path"].as_str().unwrap().to_string(),
                v["sha256"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// (name, path, sha256) of each entry the tool printed.
fn entries(stdout: &str) -> Vec<(String, String, String)> {
    let doc: canary_yaml::Value = canary_yaml::from_str(&format!("sources:\n{stdout}"))
        .unwrap_or_else(|e| panic!("not YAML: {e}\n{stdout}"));
    doc["sources"]
        .as_mapping()
        .unwrap()
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().unwrap().to_string(),
                v["path"].as_str().unwrap().to_string(),
                v["sha256"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
#[ignore = "needs python3"]
fn no_arguments_prints_the_usage() {
    let o = tool(&[]);
    assert_eq!(o.code, 2, "{}", o.stderr);
    assert!(o.stdout.is_empty(), "{}", o.stdout);
    assert!(
        o.stderr
            .starts_with("usage: tools/sources_from_manifest.py")
            && o.stderr.contains("NAME=PATH"),
        "{}",
        o.stderr
    );
    // --mirror alone gives no NAME=PATH either
    let o = tool(&["--mirror", &mirror()]);
    assert_eq!(o.code, 2, "{}", o.stderr);
}

/// Every source of pipeline.yaml, looked up in raw/README.md, comes back with its path and
/// sha256 as pipeline.yaml has them; nothing is said on stderr.
#[test]
#[ignore = "needs python3"]
fn every_committed_source_from_raw_readme() {
    let want = pipeline_sources();
    assert_eq!(want.len(), 33);
    let args: Vec<String> = want
        .iter()
        .map(|(n, p, _)| format!("{n}={}", p.strip_prefix("raw/").unwrap()))
        .collect();
    let mut argv = vec!["--mirror".to_string(), mirror()];
    argv.extend(args);
    let argv: Vec<&str> = argv.iter().map(String::as_str).collect();
    let o = tool(&argv);
    assert_eq!(o.code, 0, "stderr:\n{}", o.stderr);
    assert_eq!(o.stderr, "");
    assert_eq!(entries(&o.stdout), want);
    // One entry in full: the fields pipeline.yaml takes, in its order, quoted.
    let start = o.stdout.find("  cin_2012:\n").unwrap();
    let block: Vec<&str> = o.stdout[start..].lines().take(7).collect();
    assert_eq!(
        block,
        [
            "  cin_2012:",
            "    path: raw/cin_census/2011-12/SFR27-2012ud.csv",
            "    sha256: 638c30aa9b38b6744db8aea8d2372cebddc4167ac60302eb62a58aff7421630a",
            "    publisher: \"Department for Education\"",
            "    landing_page: \"https://www.gov.uk/government/statistics/characteristics-of-children-in-need-in-england-year-ending-march-2012\"",
            "    licence: \"OGL v3\"",
            "    description: \"Characteristics of children in need in England, 2011-12 (SFR27/2012)\"",
        ]
    );
    // A leading raw/ is accepted too; a source without a known landing page has none.
    let o = tool(&[
        "--mirror",
        &mirror(),
        "x=raw/cin_census/2009-10/osr28-2010ud.csv",
    ]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert!(
        o.stdout
            .starts_with("  x:\n    path: raw/cin_census/2009-10/osr28-2010ud.csv\n"),
        "{}",
        o.stdout
    );
    assert!(!o.stdout.contains("landing_page"), "{}", o.stdout);
}

/// A file only in the mirror: sha256 from MANIFEST.tsv, the rest from SOURCES.csv; a file in
/// MANIFEST.tsv but not SOURCES.csv: path and sha256 only.
#[test]
#[ignore = "needs python3"]
fn mirror_only_files_from_the_manifest() {
    let o = tool(&[
        "--mirror",
        &mirror(),
        "a1_cin=dfe_tidy/cin_release_2021-22/a1_cin_assessments_episodes_referrals_2013_to_2022.csv",
        "headline_boxes=dfe_tidy/cin_release_2021-22/headline_boxes.csv",
        "guidance=dfe_tidy/cin_release_2021-22/data-guidance.txt",
    ]);
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(o.stderr, "");
    let want = "  a1_cin:
    path: raw/dfe_tidy/cin_release_2021-22/a1_cin_assessments_episodes_referrals_2013_to_2022.csv
    sha256: 6c1c0a0f071383c0900d5d212e23da1d5b83ff4ec71cf7906d24f253d9685e34
    publisher: \"Department for Education\"
    landing_page: \"https://explore-education-statistics.service.gov.uk/find-statistics/characteristics-of-children-in-need/2021\"
    licence: \"OGL v3\"
    description: \"Characteristics of children in need (EES release; files cover 2013 to 2022)\"
  headline_boxes:
    path: raw/dfe_tidy/cin_release_2021-22/headline_boxes.csv
    sha256: 902bf459d12d5556a1ed6a2ca06c0740bd508e154e99908caea1a17ae3a85fa9
    publisher: \"Department for Education\"
    landing_page: \"https://explore-education-statistics.service.gov.uk/find-statistics/characteristics-of-children-in-need/2021\"
    licence: \"OGL v3\"
    description: \"Characteristics of children in need (EES release; files cover 2013 to 2022)\"
  guidance:
    path: raw/dfe_tidy/cin_release_2021-22/data-guidance.txt
    sha256: 1fb2fdfacfd72009868fb439ddae9f175558d1f284d686dd621366016c2d3736
";
    assert_eq!(o.stdout, want);
}

/// The file on disk differs from its manifest checksum (the fixture mirror holds five lines
/// of it): a warning naming both checksums, exit 1, the entry still printed.
#[test]
#[ignore = "needs python3"]
fn a_checksum_that_differs_is_reported() {
    let o = tool(&[
        "--mirror",
        &mirror(),
        "corrections=geography/ofsted_region_mapping_corrections.csv",
    ]);
    assert_eq!(o.code, 1, "{}", o.stderr);
    let on_disk = canary::hash::sha256_file(&common::fixture(
        "tools/mirror/geography/ofsted_region_mapping_corrections.csv",
    ))
    .unwrap();
    assert!(
        o.stderr
            .starts_with("warning: corrections=geography/ofsted_region_mapping_corrections.csv"),
        "{}",
        o.stderr
    );
    assert!(o.stderr.contains(&on_disk), "{}", o.stderr);
    assert!(
        o.stderr
            .contains("2dcdf0e8a94bdd31863c4041bdb6a36c9296efc444800ca2de2fa02dcd1a2157"),
        "{}",
        o.stderr
    );
    assert_eq!(o.stderr.lines().count(), 1, "{}", o.stderr);
    assert_eq!(
        entries(&o.stdout),
        [(
            "corrections".to_string(),
            "raw/geography/ofsted_region_mapping_corrections.csv".to_string(),
            "2dcdf0e8a94bdd31863c4041bdb6a36c9296efc444800ca2de2fa02dcd1a2157".to_string()
        )]
    );
}

/// A path in neither place and an argument that is not NAME=PATH are each named on stderr;
/// the entries that could be made are printed; exit 1.
#[test]
#[ignore = "needs python3"]
fn what_cannot_be_found_is_said_and_fails() {
    let o = tool(&[
        "--mirror",
        &mirror(),
        "cin_2010=cin_census/2009-10/osr28-2010ud.csv",
        "c1_2026=dfe_tidy/c1_children_in_need_referrals_and_rereferrals_2013_to_2026.csv",
        "dfe_tidy/b1_children_in_need_2013_to_2025.csv",
        "b1=raw/dfe_tidy/b1_children_in_need_2013_to_2025.csv",
    ]);
    assert_eq!(o.code, 1, "{}", o.stderr);
    let names: Vec<String> = entries(&o.stdout).into_iter().map(|e| e.0).collect();
    assert_eq!(names, ["cin_2010", "b1"]);
    let err: Vec<&str> = o.stderr.lines().collect();
    assert_eq!(err.len(), 2, "{}", o.stderr);
    assert!(
        err[0]
            .starts_with("error: `dfe_tidy/b1_children_in_need_2013_to_2025.csv` is not NAME=PATH"),
        "{}",
        o.stderr
    );
    assert!(
        err[1].starts_with("error: c1_2026=dfe_tidy/c1_children_in_need_referrals_and_rereferrals_2013_to_2026.csv: not found in raw/README.md nor in ")
            && err[1].ends_with("MANIFEST.tsv"),
        "{}",
        o.stderr
    );
}

/// A mirror that is not there: an error when it is named or needed; when every PATH is
/// committed under raw/ and no mirror was named, only a note.
#[test]
#[ignore = "needs python3"]
fn a_missing_mirror() {
    let gone = tempfile::tempdir().unwrap().path().join("no-such-mirror");
    let gone = gone.display().to_string();
    let o = tool(&[
        "--mirror",
        &gone,
        "cin_2010=cin_census/2009-10/osr28-2010ud.csv",
    ]);
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert_eq!(
        o.stderr.trim_end(),
        format!("error: mirror {gone} not found")
    );
    assert_eq!(
        entries(&o.stdout).len(),
        1,
        "the committed file's entry is still printed"
    );

    let o = tool(&[
        "--mirror",
        &gone,
        "a1=dfe_tidy/cin_release_2021-22/a1_cin_assessments_episodes_referrals_2013_to_2022.csv",
    ]);
    assert_eq!(o.code, 1, "{}", o.stderr);
    assert!(o.stdout.is_empty(), "{}", o.stdout);
    assert!(
        o.stderr
            .contains(&format!("error: mirror {gone} not found"))
            && o.stderr.contains("error: a1="),
        "{}",
        o.stderr
    );
}
