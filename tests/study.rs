//! The study pipeline end to end on the published files committed under `raw/`: clean,
//! harmonise, statistics, report — then the numbers a reviewer would check by hand. No mirror
//! is given: the project's own `raw/` holds every source.

use crate::common;

use std::path::Path;

use common::{copy_dir, Project};

/// A copy of the project's own pipeline, published files (`raw/`), stages and dictionaries in
/// a temp dir.
fn study_project() -> Project {
    let dir = tempfile::tempdir().unwrap();
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::copy(root.join("pipeline.yaml"), dir.path().join("pipeline.yaml")).unwrap();
    copy_dir(&root.join("raw"), &dir.path().join("raw"));
    copy_dir(&root.join("stages"), &dir.path().join("stages"));
    copy_dir(
        &root.join("reports/templates"),
        &dir.path().join("reports/templates"),
    );
    std::fs::copy(
        root.join("reports/published_results.yaml"),
        dir.path().join("reports/published_results.yaml"),
    )
    .unwrap();
    Project { dir }
}

/// The study as published, with its robustness sweep cut to two fold seeds (20 fits instead
/// of 1,000): the debug build the tests use fits far slower than the release build.
const SMALL_SWEEP: [&str; 2] = ["--set", "sweep.seeds=1..2"];

fn canary_run(p: &Project, args: &[&str]) -> common::Run {
    let mut all: Vec<&str> = args.to_vec();
    all.extend(SMALL_SWEEP);
    p.canary(&all)
}

fn csv(p: &Project, query: &str) -> String {
    p.canary(&["sql", query, "--format", "csv"]).ok().stdout
}

#[test]
fn the_study_runs_on_the_published_files() {
    let p = study_project();
    let before = p.tree("raw");
    let run = canary_run(&p, &["run"]).ok();
    assert!(
        !run.stdout.contains("fetched"),
        "nothing is fetched: raw/ holds every source\n{}",
        run.stdout
    );
    assert!(
        run.stdout.contains("ran       panel (harmonise)"),
        "{}",
        run.stdout
    );
    // The published files are read, never written.
    assert!(
        p.tree("raw") == before,
        "canary run changed a file under raw/"
    );
    // Before any run below changes a param.
    the_outputs_are_those_the_committed_lock_records(&p);

    the_panel_is_the_studys(&p);
    the_statistics_are_where_sql_expects_them(&p);
    each_claim_has_a_verdict(&p);
    // Nothing changed: nothing runs.
    let again = canary_run(&p, &["run"]).ok();
    assert!(again.stdout.contains("done: 0 ran, "), "{}", again.stdout);

    the_report_is_whole_and_offline(&p);
    the_new_years_are_evaluated_and_scored(&p);
    // A reviewer's re-derivation from the published files agrees byte for byte (issue 6).
    let v = canary_run(&p, &["verify"]).ok();
    assert!(v.stdout.contains("byte for byte"), "{}", v.stdout);
    assert!(!v.stdout.contains("DIFFERS"), "{}", v.stdout);

    on_2024_boundaries_las_are_merged_or_set_aside(&p);
    assert!(p.tree("raw") == before, "a run changed a file under raw/");
}

/// 150 LAs, the excluded two absent, every reconciliation holding, and values a reader can
/// recompute from the published rows.
fn the_panel_is_the_studys(p: &Project) {
    // 150 LAs in 2013 after excluding City of London and the Isles of Scilly.
    assert_eq!(
        csv(
            p,
            "select count(distinct la_code) n from panel where year = 2013"
        ),
        "n\n150\n"
    );
    assert_eq!(
        csv(
            p,
            "select count(*) n from panel where la_code in ('E09000001', 'E06000053')"
        ),
        "n\n0\n"
    );
    // Every reconciliation of LA sums with England rows holds, England's referrals among them.
    assert_eq!(
        csv(
            p,
            "select count(*) n from panel_reconciliation where not ok"
        ),
        "n\n0\n"
    );
    assert_eq!(
        csv(p, "select england, la_sum from panel_reconciliation where file = 'cin_census' and year = 2010 and measure = 'Referrals0910'"),
        "england,la_sum\n603700.0,603713.0\n"
    );
    // % of initial assessments within 10 working days, 2011-12, from the duration bands:
    // SFR27-2012ud.csv line 4, Camden: (same day + 1-5 + 6-10 days) = 1597 of 1782.
    let camden = csv(p, "select value from panel where year = 2012 and la_code = 'E09000007' and indicator = 'ia_within_10_days_pct'");
    let v: f64 = camden.lines().nth(1).unwrap().parse().unwrap();
    assert!((v - 100.0 * 1597.0 / 1782.0).abs() < 1e-9, "{camden}");
    // The wide panel has one row per LA-year and a column per indicator.
    assert_eq!(
        csv(p, "select count(*) n from panel_wide where year = 2012"),
        "n\n150\n"
    );
    assert!(
        csv(p, "select re_referrals_pct from panel_wide limit 1").starts_with("re_referrals_pct\n")
    );
    // Ofsted: Birmingham's CPI of 2012 was inadequate.
    let bham = csv(p, "select count(*) n from ofsted where la_code_old = '330' and grade = 4 and published like '2012-%'");
    assert_ne!(bham, "n\n0\n", "{bham}");
}

/// The statistics' tables, each with the shape the study's Method gives it.
fn the_statistics_are_where_sql_expects_them(p: &Project) {
    let t = csv(
        p,
        "select n from trends where indicator = 'referrals_rate' and year = 2010",
    );
    assert_eq!(t, "n\n150\n");
    let pairs = csv(p, "select sign from correlations_summary where x = 're_referrals_pct' and y = 'referrals_rate'");
    assert_eq!(pairs, "sign\n+\n");
    let coefs = csv(p, "select count(*) n from model_coefficients");
    assert_eq!(
        coefs, "n\n60\n",
        "every predictor listed at both lambdas and the paper's sparsity, with the intercept"
    );
    // The robustness sweep: one summary row per cell, the swept params first.
    assert_eq!(csv(p, "select count(*) n, count(distinct seed) s, count(distinct alpha) a from model_sweep_summary"), "n,s,a\n20,2,5\n");
    // The paper's terms tested directly, on the model's 150 LAs.
    assert_eq!(csv(p, "select n from model_direct_summary"), "n\n150\n");
    assert_eq!(
        csv(p, "select term from model_direct order by term"),
        "term\n(Intercept)\nia_within_10_days_pct\nre_referrals_pct\ns47_rate\n"
    );
    assert_eq!(csv(p, "select count(*) n from model_design"), "n\n150\n");
    the_tables_are_as_canary_kinds_says(p);
    assert!(csv(p, "select count(*) n from cohorts").starts_with("n\n"));
}

fn each_claim_has_a_verdict(p: &Project) {
    // The claims ledger: a verdict from the fixed vocabulary for each of the paper's 29 claims.
    assert_eq!(
        csv(p, "select count(*) n, count(distinct id) ids from claims where verdict in ('reproduced', 'partly reproduced', 'not reproduced', 'cannot be tested with the published data')"),
        "n,ids\n29,29\n"
    );
    // The agency-worker rate is not published by LA before 2015: its claims cannot be tested.
    assert_eq!(
        csv(
            p,
            "select verdict from claims where id = 'table2.agency_rate_pct'"
        ),
        "verdict\ncannot be tested with the published data\n"
    );
    assert_eq!(csv(p, "select verdict from claims where id = 'figure3.ia_within_10_days_pct.ca_within_35_days_pct'"), "verdict\nreproduced\n");
}

/// The report: both forms, the study's sections, nothing fetched from the network.
fn the_report_is_whole_and_offline(p: &Project) {
    let html = p.read("reports/report.html");
    for section in [
        "id=\"figure-2\"",
        "id=\"figure-3\"",
        "id=\"table-2\"",
        "id=\"table-3\"",
        "id=\"stage-model\"",
        "<svg",
    ] {
        assert!(html.contains(section), "report.html lacks {section}");
    }
    for attr in ["src=\"http", "href=\"http", "url(http"] {
        assert!(
            !html.contains(attr),
            "report.html refers to the network: {attr}"
        );
    }
    let md = p.read("reports/report.md");
    assert!(md.contains("![Figure 3](figures/figure3.svg)"), "{md}");
    assert!(p.path("reports/figures/figure3.svg").is_file());
    assert!(p
        .read("reports/ro-crate-metadata.json")
        .contains("https://w3id.org/ro/wfrun/workflow/0.5"));
}

fn the_new_years_are_evaluated_and_scored(p: &Project) {
    // New years (issue 7): the out-of-time evaluation, five origins, both models; a scorecard
    // per LA against its statistical neighbours, with the study's caution and no network.
    assert_eq!(
        csv(p, "select count(*) n from early_warning_evaluation"),
        "n\n10\n"
    );
    assert_eq!(
        csv(p, "select count(*) n from early_warning_evaluation where n_test < 150 or auc is null or auc_lo > auc or auc_hi < auc"),
        "n\n0\n"
    );
    let bham = p.read("reports/scorecards/E08000025.html");
    for want in [
        "Birmingham",
        "Sandwell",
        "Social worker vacancy rate",
        "only point to where to look",
        "<svg",
        "Ofsted judgements",
    ] {
        assert!(bham.contains(want), "Birmingham's scorecard lacks {want}");
    }
    let doc = scraper::Html::parse_document(&bham);
    assert!(doc.errors.is_empty(), "{:?}", doc.errors);
    assert!(!bham.contains("href=\"http") && !bham.contains("src=\"http"));
    assert!(p
        .read("reports/scorecards/index.html")
        .contains("href=\"E08000025.html\""));
    let html = p.read("reports/report.html");
    assert!(html.contains("id=\"early-warning\"") && html.contains("Beside the 2016 result"));
}

fn on_2024_boundaries_las_are_merged_or_set_aside(p: &Project) {
    // On 2024 boundaries: Bournemouth (837) and Poole (836) are summed into BCP (E06000058);
    // its 2012 referral rate is recomputed from the summed counts and populations of
    // SFR27-2012ud.csv (Referrals1112 4653, Mid2011Pop0-17 61000); a published percentage
    // cannot be summed and is marked; split LAs are set aside and listed.
    canary_run(p, &["run", "panel", "--set", "panel.geography=boundaries"]).ok();
    let bcp = csv(p, "select indicator, value, status from panel where year = 2012 and la_code = 'E06000058' and indicator in ('referrals_rate', 're_referrals_pct') order by indicator");
    let rows: Vec<&str> = bcp.lines().collect();
    assert!(
        rows[1].starts_with("re_referrals_pct,,not_harmonised"),
        "{bcp}"
    );
    let v: f64 = rows[2].split(',').nth(1).unwrap().parse().unwrap();
    assert!((v - 4653.0 / 61000.0 * 10000.0).abs() < 1e-9, "{bcp}");
    assert_eq!(
        csv(
            p,
            "select count(*) n from panel where la_code in ('E06000028', 'E06000029')"
        ),
        "n\n0\n"
    );
    let split = csv(p, "select count(*) n from panel_unmapped where reason like 'split later (northamptonshire_2021)%'");
    assert_ne!(split, "n\n0\n", "{split}");
    assert_eq!(
        csv(
            p,
            "select count(*) n from panel_reconciliation where not ok"
        ),
        "n\n0\n"
    );
}

/// Every stage the cut-down sweep does not reach writes the very bytes the committed
/// `pipeline.lock` records: a refactor that changes a number, a row order or a Parquet writer
/// setting fails here, and a change that means to must commit the new lock with it.
fn the_outputs_are_those_the_committed_lock_records(p: &Project) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let committed = canary::lockfile::Lock::read(&root.join("pipeline.lock"))
        .unwrap()
        .expect("the project commits its pipeline.lock");
    let now = canary::lockfile::Lock::read(&p.path("pipeline.lock"))
        .unwrap()
        .expect("the run wrote a lock");
    let registry = canary::kinds::builtin();
    let pipeline = canary::pipeline::load(&p.path("pipeline.yaml"), &registry, &[]).unwrap();
    // The sweep and everything downstream of it ran with fewer seeds than the committed run.
    let mut reached: std::collections::BTreeSet<String> = pipeline
        .stages
        .iter()
        .filter(|(_, s)| s.sweep.is_some() || s.parent().is_some())
        .map(|(n, _)| n.clone())
        .collect();
    for name in &pipeline.order {
        if pipeline.stages[name]
            .inputs
            .iter()
            .any(|i| reached.contains(i))
        {
            reached.insert(name.clone());
        }
    }
    let mut compared = 0;
    for (name, record) in &now.stages {
        // An optional stage whose tool is absent here (R) is skipped, not compared.
        if reached.contains(name)
            || pipeline
                .stages
                .get(name)
                .is_some_and(|s| s.script.as_ref().is_some_and(|x| x.optional))
        {
            continue;
        }
        let Some(then) = committed.stages.get(name) else {
            panic!("stage `{name}` is not in the committed pipeline.lock: run `canary run` and commit the lock");
        };
        let hashes = |r: &canary::lockfile::StageRecord| -> Vec<(String, String)> {
            r.outputs
                .iter()
                .map(|o| (o.path.clone(), o.sha256.clone()))
                .collect()
        };
        assert_eq!(
            hashes(record),
            hashes(then),
            "stage `{name}` wrote other bytes than the committed pipeline.lock records"
        );
        compared += 1;
    }
    assert!(
        compared >= 16,
        "only {compared} stages compared; reached by the sweep: {reached:?}"
    );
}

/// `canary kinds` lists each kind's tables and columns; every stage of the study writes
/// exactly those (`<…>` stands for columns the stage's params decide, `[…]` for one it may
/// leave out).
fn the_tables_are_as_canary_kinds_says(p: &Project) {
    let registry = canary::kinds::builtin();
    let pipeline = canary::pipeline::load(&p.path("pipeline.yaml"), &registry, &[]).unwrap();
    let mut checked = 0;
    for (name, stage) in &pipeline.stages {
        let kind = registry.get(&stage.kind).unwrap();
        if kind.outputs().is_empty() || stage.sweep.is_some() {
            continue;
        }
        for t in kind.outputs() {
            if !stage.tables.is_empty() && !stage.tables.iter().any(|x| x == t.name) {
                continue;
            }
            let file = if t.name.is_empty() {
                p.path(&format!("out/{name}.parquet"))
            } else {
                p.path(&format!("out/{name}/{}.parquet", t.name))
            };
            let (schema, _) = canary::table::read_parquet(&file).unwrap();
            let actual: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
            assert!(
                columns_match(t.columns, &actual),
                "stage `{name}` (kind `{}`) table `{}`: `canary kinds` says {:?}, the stage wrote {actual:?}",
                stage.kind,
                t.name,
                t.columns
            );
            checked += 1;
        }
    }
    assert!(checked >= 30, "only {checked} tables checked");
}

fn columns_match(declared: &[&str], actual: &[&str]) -> bool {
    let required: Vec<&str> = declared
        .iter()
        .copied()
        .filter(|c| !c.starts_with('['))
        .collect();
    match required.iter().position(|c| c.starts_with('<')) {
        None => {
            actual == required.as_slice()
                || (required.len() < declared.len()
                    && actual.starts_with(&required)
                    && actual.len() <= declared.len())
        }
        Some(w) => {
            let (head, tail) = (&required[..w], &required[w + 1..]);
            actual.len() > head.len() + tail.len()
                && actual.starts_with(head)
                && actual.ends_with(tail)
        }
    }
}

/// A formula in the indicator dictionary that does not parse stops the panel with the file,
/// line and column, the line itself and a caret — not a message about an entry somewhere.
#[test]
fn a_formula_that_does_not_parse_is_shown_at_its_line() {
    let p = study_project();
    p.edit(
        "stages/indicators.yaml",
        "formula: '`%ChildrenReferredIn{yy}MoreThanOnce`'",
        "formula: 'pct(`%ChildrenReferredIn{yy}MoreThanOnce`'",
    );
    let r = p.canary(&["run", "panel"]).fails(1);
    for want in [
        "stages/indicators.yaml:86:",
        "formula does not parse",
        "86 |         formula: 'pct(",
        "^",
        "fix the formula on line 86 of stages/indicators.yaml",
    ] {
        assert!(r.stderr.contains(want), "lacks `{want}`:\n{}", r.stderr);
    }
    // An entry that parses but says something impossible is shown at its line too: here a
    // definition whose years overlap the next one's.
    p.edit(
        "stages/indicators.yaml",
        "'pct(`%ChildrenReferredIn{yy}MoreThanOnce`'",
        "'`%ChildrenReferredIn{yy}MoreThanOnce`'",
    );
    p.edit(
        "stages/indicators.yaml",
        "      - years: 2010\n        source: cin_census\n        formula: '`%ChildrenReferredIn",
        "      - years: 2010..2011\n        source: cin_census\n        formula: '`%ChildrenReferredIn",
    );
    let r = p.canary(&["run", "panel"]).fails(1);
    for want in [
        "stages/indicators.yaml:90:",
        "`re_referrals_pct.definitions[1]`: years",
        "90 |       - {years: 2011..2012",
        "each year must have exactly one definition",
    ] {
        assert!(r.stderr.contains(want), "lacks `{want}`:\n{}", r.stderr);
    }
}
