//! `canary kinds` and the params each kind declares: the pages, the README's table generated
//! from the same structs, and a value that fails its param pointed at its line.

use crate::common;

use common::Project;

/// The early-warning fixture's pipeline with one param line replaced.
fn project_with(param_line: &str, replacement: &str) -> Project {
    let p = Project::from_fixture("params");
    p.edit("pipeline.yaml", param_line, replacement);
    p
}

fn stderr_of_status(p: &Project) -> String {
    p.canary(&["status"]).fails(2).stderr
}

#[test]
fn kinds_lists_every_kind_and_one_kind_documents_every_param() {
    let p = Project::from_fixture("params");
    let list = p.canary(&["kinds"]).ok().stdout;
    for k in ["fit", "sql", "script", "early_warning", "clean.cin_census"] {
        assert!(list.contains(&format!("{k} ")), "{k} missing:\n{list}");
    }
    let fit = p.canary(&["kinds", "fit"]).ok().stdout;
    for param in [
        "outcome",
        "predictors",
        "id",
        "alpha",
        "nfolds",
        "seed",
        "nlambda",
        "lambda_min_ratio",
        "measure",
        "threshold",
        "missing",
        "paper_terms",
        "tables",
    ] {
        assert!(
            fit.contains(&format!("\n  {param} ")),
            "`{param}` missing:\n{fit}"
        );
    }
    assert!(fit.contains("integer, at least 3"), "{fit}");
    assert!(fit.contains("`drop` or `median`"), "{fit}");
    assert!(fit.contains("<stage>_summary: alpha, n,"), "{fit}");
    assert!(
        fit.contains("example (stage `model` of the study's pipeline.yaml):\nmodel:\n  kind: fit"),
        "{fit}"
    );
    let e = p.canary(&["kinds", "fitt"]).fails(2).stderr;
    assert!(
        e.contains("there is no stage kind `fitt`") && e.contains("did you mean `fit`?"),
        "{e}"
    );
}

#[test]
fn the_readme_kind_table_is_what_canary_kinds_prints() {
    let p = Project::from_fixture("params");
    let table = p.canary(&["kinds", "--markdown"]).ok().stdout;
    let readme =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/README.md")).unwrap();
    let (_, rest) = readme
        .split_once("<!-- kinds -->\n")
        .expect("README has <!-- kinds -->");
    let (block, _) = rest
        .split_once("<!-- /kinds -->")
        .expect("README has <!-- /kinds -->");
    assert_eq!(
        block, table,
        "README's kind table differs from `canary kinds --markdown`: paste its output between the markers"
    );
}

#[test]
fn nfolds_below_three_is_an_error_at_its_line() {
    let p = project_with("nfolds: 5", "nfolds: 2");
    let e = stderr_of_status(&p);
    assert!(
        e.contains("param `nfolds` must be at least 3, not 2"),
        "{e}"
    );
    let line = p
        .read("pipeline.yaml")
        .lines()
        .position(|l| l.contains("nfolds: 2"))
        .unwrap()
        + 1;
    assert!(e.contains(&format!("pipeline.yaml:{line}:7")), "{e}");
}

#[test]
fn a_value_outside_its_choices_or_of_the_wrong_shape_is_an_error_at_its_line() {
    let p = project_with("missing: median", "missing: mean");
    let e = stderr_of_status(&p);
    assert!(
        e.contains("param `missing` must be `drop` or `median`, not `mean`"),
        "{e}"
    );
    assert!(e.contains("pipeline.yaml:"), "{e}");

    let p = project_with("threshold: prevalence", "threshold: sometimes");
    let e = stderr_of_status(&p);
    assert!(
        e.contains("param `threshold`") && e.contains("a probability from 0 to 1, or `prevalence`"),
        "{e}"
    );
    assert!(e.contains("pipeline.yaml:"), "{e}");

    let p = project_with("seed: 11", "seed: -1");
    let e = stderr_of_status(&p);
    assert!(e.contains("param `seed` must be at least 0, not -1"), "{e}");

    let p = project_with("alpha: 1", "alpha: 1.5");
    let e = stderr_of_status(&p);
    assert!(
        e.contains("param `alpha` must be from 0 to 1, not 1.5"),
        "{e}"
    );
}

#[test]
fn a_misspelt_param_is_named_with_the_nearest() {
    let p = project_with("nfolds: 5", "nfold: 5");
    let e = stderr_of_status(&p);
    assert!(
        e.contains("kind `fit` has no param `nfold`") && e.contains("did you mean `nfolds`?"),
        "{e}"
    );
}

#[test]
fn defaults_come_from_the_struct() {
    // No `nfolds`: the struct's 10 folds, as the summary records.
    let p = project_with("      nfolds: 5\n", "");
    p.canary(&["run", "-q", "model"]).ok();
    let s = p
        .canary(&[
            "sql",
            "select nfolds, measure from model_summary",
            "--format",
            "csv",
        ])
        .ok()
        .stdout;
    assert_eq!(s, "nfolds,measure\n10,deviance\n");
}

#[test]
fn a_kind_check_about_one_param_points_at_that_param() {
    let p = project_with("origins: \"2019..2020\"", "origins: \"2020..2019\"");
    let e = stderr_of_status(&p);
    assert!(
        e.contains("param `origins`: `2020..2019` is not a year range"),
        "{e}"
    );
    let line = p
        .read("pipeline.yaml")
        .lines()
        .position(|l| l.contains("origins: \"2020..2019\""))
        .unwrap()
        + 1;
    assert!(e.contains(&format!("pipeline.yaml:{line}:7")), "{e}");
}
