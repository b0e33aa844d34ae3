//! The statistics' stage kinds on small panels: `trend` against R's quantile type 7,
//! `correlate` against R's cor.test outputs (two published examples, as two indicators in two
//! years; R 4.2.2 gives the same numbers, and the ties case is also in
//! `crates/canary-stats/tests/golden/stats_spearman.json`), `compare` against its own definition recomputed in SQL.

use crate::common;

use common::Project;

fn csv(p: &Project, q: &str) -> Vec<Vec<String>> {
    let out = p.canary(&["sql", q, "--format", "csv"]).ok().stdout;
    out.lines()
        .skip(1)
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect()
}

fn num(s: &str) -> f64 {
    s.parse().unwrap_or_else(|_| panic!("not a number: {s}"))
}

#[test]
fn trend_is_r_quantile_type_7() {
    let p = Project::from_fixture("stats");
    p.canary(&["run", "trends"]).ok();
    // aa in 2010 is 1..10: R gives median 5.5, quantile(.25) 3.25, quantile(.75) 7.75.
    let r = csv(
        &p,
        "select n, median, q1, q3 from trends where indicator = 'aa' and year = 2010",
    );
    assert_eq!(r, vec![vec!["10", "5.5", "3.25", "7.75"]]);
    // aa in 2011: 100 102 103 101 105 100 99 105 → R: median 101.5, q1 100, q3 103.5.
    let r = csv(
        &p,
        "select n, median, q1, q3 from trends where indicator = 'aa' and year = 2011",
    );
    assert_eq!(r, vec![vec!["8", "101.5", "100.0", "103.5"]]);
}

#[test]
fn correlate_matches_r_cor_test() {
    let p = Project::from_fixture("stats");
    p.canary(&["run", "correlations"]).ok();
    let r = csv(
        &p,
        "select year, n, rho, p from correlations where x = 'aa' and y = 'bb' order by year",
    );
    // 2010: no ties, n = 10 → AS 89 Edgeworth; R: p = 0.05444507 (pspearman docs).
    assert_eq!(r[0][1], "10");
    assert!((num(&r[0][3]) - 0.05444507).abs() < 5e-9, "{r:?}");
    // 2011: ties, n = 8 → t approximation; R: rho = 0.9277782, p = 0.0008915.
    assert_eq!(r[1][1], "8");
    assert!((num(&r[1][2]) - 0.9277782).abs() < 5e-8, "{r:?}");
    assert!((num(&r[1][3]) - 0.0008915).abs() < 5e-8, "{r:?}");
    // Significant (p < 0.05) only in 2011: one year, fewer than min_years = 2.
    let s = csv(
        &p,
        "select years_tested, years_significant, sign, correlated from correlations_summary",
    );
    assert_eq!(s, vec![vec!["2", "1", "+", "false"]]);
}

#[test]
fn compare_follows_its_definition() {
    let p = Project::from_fixture("stats");
    p.canary(&["run"]).ok();
    let members = csv(
        &p,
        "select cohort, count(*) from cohort_members group by cohort order by cohort",
    );
    assert!(
        !members.is_empty(),
        "the model predicts some LAs inadequate"
    );
    // Group B holds exactly the members judged inadequate (grade 4) in the window.
    let wrong = csv(
        &p,
        "select count(*) from cohort_members m left join (select distinct la_code from cofsted where grade = 4) o \
         on o.la_code = m.la_code where (m.cohort = 'B') <> (o.la_code is not null)",
    );
    assert_eq!(wrong, vec![vec!["0"]]);
    // Each group's median change and % rising, recomputed in SQL from the members and panel.
    for (group, prefix) in [("A", "a"), ("B", "b")] {
        let expected = csv(
            &p,
            &format!(
                "select count(*), median(v1.value - v0.value), 100.0 * avg(case when v1.value > v0.value then 1.0 else 0.0 end) \
                 from cohort_members m \
                 join cpanel v0 on v0.la_code = m.la_code and v0.year = m.first_predicted_year and v0.indicator = 'cases' \
                 join cpanel v1 on v1.la_code = m.la_code and v1.year = m.first_predicted_year + 1 and v1.indicator = 'cases' \
                 where m.cohort = '{group}'"
            ),
        );
        let got = csv(
            &p,
            &format!("select {prefix}_n, {prefix}_median_change, {prefix}_pct_rise from cohorts where indicator = 'cases'"),
        );
        assert_eq!(expected[0][0], got[0][0], "{group}");
        if expected[0][0] != "0" {
            assert!(
                (num(&expected[0][1]) - num(&got[0][1])).abs() < 1e-9,
                "{group}: {expected:?} vs {got:?}"
            );
            assert!(
                (num(&expected[0][2]) - num(&got[0][2])).abs() < 1e-9,
                "{group}: {expected:?} vs {got:?}"
            );
        }
    }
    // Both names reach the members' table.
    assert_eq!(
        csv(&p, "select count(*) from cohorts_members"),
        csv(&p, "select count(*) from cohort_members")
    );
}
