//! Integration tests over the real s251 outturn CSVs the study reads (`raw/spending/`).
use canary_clean::s251::*;
use canary_clean::tidy::Status;

use crate::common::raw;

const FILES: [&str; 6] = ["0809", "0910", "1011", "1112", "1213", "1314"];

#[test]
fn all_years_parse_and_crosswalk() {
    let cw = load_crosswalk(
        "stages/s251_crosswalk.yaml",
        &std::fs::read_to_string(crate::common::project_root().join("stages/s251_crosswalk.yaml"))
            .unwrap(),
    )
    .unwrap();
    for f in FILES {
        let rel = format!("spending/s251_outturn_{f}.csv");
        let (label, bytes) = raw(&rel);
        let year = year_from_file_name(&rel).unwrap();
        let cells = parse_s251("s251", &label, &bytes, year).unwrap();
        let las: std::collections::BTreeSet<_> =
            cells.iter().map(|c| c.la_code_old.clone()).collect();
        let blanks = cells.iter().filter(|c| c.status == Status::Blank).count();
        let rows = cw_rows(&cw, &label, &cells);
        let n = |m: &str| {
            rows.iter()
                .filter(|r| r.measure == m && r.status == Status::Ok)
                .count()
        };
        eprintln!("{f}: year {year}, {} cells, {} LAs, {blanks} blank; crosswalk rows {}, child_protection {} LAs", cells.len(), las.len(), rows.len(), n("child_protection[column=net_current_expenditure]"));
        assert_eq!(las.len(), if f == "0809" { 150 } else { 152 });
        assert_eq!(
            n("total_childrens_social_care[column=net_current_expenditure]"),
            las.len()
        );
    }
}

fn cw_rows(cw: &Crosswalk, label: &str, cells: &[S251Cell]) -> Vec<canary_clean::tidy::TidyRow> {
    apply_crosswalk("s251", label, cw, cells).unwrap()
}

#[test]
fn hand_checked_values() {
    let (label, bytes) = raw("spending/s251_outturn_0809.csv");
    let c = parse_s251("s251", &label, &bytes, 2009).unwrap();
    // Birmingham (330) 2008-09 line 47 total incl. CERA, net: 158,191,559.1 (£)
    let b = c
        .iter()
        .find(|x| {
            x.la_code_old == "330" && x.line_no == 47 && x.column == "NET Current Expenditure (m)"
        })
        .unwrap();
    assert_eq!(b.value, Some(158191559.1));
    // pre-2009 counties are present: Bedfordshire 820, Cheshire 875
    assert!(c.iter().any(|x| x.la_code_old == "820") && c.iter().any(|x| x.la_code_old == "875"));
    let (label, bytes) = raw("spending/s251_outturn_1314.csv");
    let c = parse_s251("s251", &label, &bytes, 2014).unwrap();
    let b = c
        .iter()
        .find(|x| x.la_code_old == "330" && x.line_no == 18 && x.column == "NetCurrentExpenditure")
        .unwrap();
    assert_eq!(
        (b.value, b.description.as_str()),
        (
            Some(38714967.0),
            "Social work (includes LA functions in relation to child protection)"
        )
    );
    let s = c.iter().find(|x| x.line_no == 11).unwrap();
    assert_eq!(
        s.description,
        "Short breaks (respite) for looked after disabled children"
    ); // published "11Short breaks"
}

/// A crosswalk entry at fault is placed at its key's line of the file the user edits.
#[test]
fn a_crosswalk_error_is_placed_at_its_line() {
    let p = crate::common::project_root().join("stages/s251_crosswalk.yaml");
    let text = std::fs::read_to_string(p).unwrap();
    let edited = text.replacen("unit: GBP", "unit: EUR", 1);
    assert_ne!(
        edited, text,
        "the real crosswalk has no `unit: GBP` line: update the test"
    );
    let e = canary_clean::s251::load_crosswalk("stages/s251_crosswalk.yaml", &edited).unwrap_err();
    let want = text
        .lines()
        .position(|l| l.starts_with("unit: GBP"))
        .unwrap()
        + 1;
    let place = e.place.as_deref().expect("a place");
    assert_eq!(
        (e.line, place.line, place.column),
        (Some(want), want, 1),
        "{e}"
    );
}
