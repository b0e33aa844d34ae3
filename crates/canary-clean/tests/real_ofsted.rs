//! Integration tests over the real Ofsted files the study reads (`raw/ofsted/`).
use canary_clean::ofsted::*;

use crate::common::raw;

fn find<'a>(
    js: &'a [Judgement],
    name: &str,
    fw: Framework,
    aspect: &str,
    published: &str,
) -> &'a Judgement {
    js.iter()
        .find(|j| {
            la_key(&j.la_name) == la_key(name)
                && j.framework == fw
                && j.aspect == aspect
                && j.published == published
        })
        .unwrap_or_else(|| panic!("no judgement {name} {fw:?} {aspect} {published}"))
}

fn all() -> (Parsed, Parsed, Parsed) {
    let (f23, b23) = raw("ofsted/Childrens_social_care_in_England_2023_underlying_data.ods");
    let (f25, b25) = raw("ofsted/LA_Inspection_Outcomes_as_at_31_March_2025.ods");
    let (fc, bc) = raw("ofsted/ofsted_csc_ilacs_history.csv");
    (
        parse_underlying_2023("ofsted_2023", &f23, &b23).unwrap(),
        parse_outcomes_2025("ofsted_2025", &f25, &b25).unwrap(),
        parse_ilacs_csv("ofsted_csv", &fc, &bc).unwrap(),
    )
}

/// Judgements read by hand whose grade is the whole check: (LA, framework, aspect,
/// publication date, grade).
type HandGrade = (&'static str, Framework, &'static str, &'static str, u8);

/// The 2023 ODS, sheet LA_inspections_2009-2023.
const HAND_GRADES_2023: &[HandGrade] = &[
    // Barking and Dagenham SLAC 2012-07-27: safeguarding Good, LAC "Requires improvement to be good" (= adequate → 3)
    (
        "Barking and Dagenham",
        Framework::Slac,
        ASPECT_SLAC_SAFEGUARDING,
        "2012-07-27",
        2,
    ),
    (
        "Barking and Dagenham",
        Framework::Slac,
        ASPECT_SLAC_LAC,
        "2012-07-27",
        3,
    ),
    // Barnet first SIF 2017-07-07 Inadequate; its adoption sub-judgement RI
    ("Barnet", Framework::Sif, ASPECT_OVERALL, "2017-07-07", 4),
    ("Barnet", Framework::Sif, ASPECT_ADOPTION, "2017-07-07", 3),
    // Medway TLAC 2013-08-23 Inadequate
    ("Medway", Framework::Tlac, ASPECT_OVERALL, "2013-08-23", 4),
    // Bexley second ILACS 2023-03-24: OE Outstanding, care leavers Outstanding
    ("Bexley", Framework::Ilacs, ASPECT_OVERALL, "2023-03-24", 1),
    (
        "Bexley",
        Framework::Ilacs,
        ASPECT_CARE_LEAVERS,
        "2023-03-24",
        1,
    ),
];

/// The 2025 ODS, sheet ILACS_inspection_history.
const HAND_GRADES_2025: &[HandGrade] = &[
    // pre-2023 in-care column = "in care and care leavers"
    (
        "Barking and Dagenham",
        Framework::Ilacs,
        ASPECT_IN_CARE_AND_LEAVERS,
        "2019-04-01",
        3,
    ),
];

/// Each hand-read judgement is found with its grade.
fn check_grades(js: &[Judgement], expected: &[HandGrade]) {
    for &(name, fw, aspect, published, grade) in expected {
        assert_eq!(
            find(js, name, fw, aspect, published).grade,
            Some(grade),
            "{name} {fw:?} {aspect} {published}"
        );
    }
}

#[test]
fn hand_checked_judgements() {
    let (p23, p25, pc) = all();
    eprintln!(
        "2023: {} judgements, skipped {:?}",
        p23.judgements.len(),
        p23.skip_counts()
    );
    eprintln!(
        "2025: {} judgements, skipped {:?}",
        p25.judgements.len(),
        p25.skip_counts()
    );
    eprintln!(
        "csv : {} judgements, skipped {:?}",
        pc.judgements.len(),
        pc.skip_counts()
    );
    hand_checked_2023(&p23);
    hand_checked_2025(&p25);
    hand_checked_csv(&pc);
}

/// The 2023 ODS: both tables, and a `-` cell skipped.
fn hand_checked_2023(p23: &Parsed) {
    let j = &p23.judgements;
    // Birmingham CPI published 2012-10-19: Inadequate (sheet LA_inspections_2009-2023, row 12)
    let b = find(
        j,
        "Birmingham",
        Framework::Cpi,
        ASPECT_OVERALL,
        "2012-10-19",
    );
    assert_eq!(
        (b.grade, b.row, b.judgement_label.as_str()),
        (Some(4), 12, "Inadequate")
    );
    check_grades(j, HAND_GRADES_2023);
    // predecessor table: Northamptonshire ILACS 2019-07-29 Inadequate, CPI 2013-03-20 Inadequate
    let n = find(
        j,
        "Northamptonshire",
        Framework::Ilacs,
        ASPECT_OVERALL,
        "2019-07-29",
    );
    assert!(n.predecessor);
    assert_eq!((n.grade, n.row), (Some(4), 165));
    // Dorset appears twice: the new unitary (table 1) and the old county (table 2)
    assert!(j
        .iter()
        .any(|x| x.la_name == "Dorset" && x.predecessor && x.published == "2016-05-23"));
    assert!(j
        .iter()
        .any(|x| x.la_name == "Dorset" && !x.predecessor && x.published == "2021-11-19"));
    // Isles of Scilly SLAC LAC " -" is skipped, not graded
    assert!(!j
        .iter()
        .any(|x| x.la_name == "Isles of Scilly" && x.aspect == ASPECT_SLAC_LAC));
    assert!(p23
        .skipped
        .iter()
        .any(|s| s.reason.starts_with("not applicable")));
}

/// The 2025 ODS: codes, inspection dates and the pre-2023 in-care judgement.
fn hand_checked_2025(p25: &Parsed) {
    let j = &p25.judgements;
    // 2025: Blackburn with Darwen standard ILACS published 2025-04-23, inspected 2025-03-03, care leavers RI
    let bw = find(
        j,
        "Blackburn with Darwen",
        Framework::Ilacs,
        ASPECT_CARE_LEAVERS,
        "2025-04-23",
    );
    assert_eq!(
        (
            bw.grade,
            bw.la_code.as_deref(),
            bw.inspection_start.as_deref()
        ),
        (Some(3), Some("E06000008"), Some("2025-03-03"))
    );
    check_grades(j, HAND_GRADES_2025);
}

/// The scraped CSV: dd/mm/yy dates and the URN.
fn hand_checked_csv(pc: &Parsed) {
    let j = &pc.judgements;
    // CSV: BCP standard ILACS 11/02/22 inadequate, inspection ended 17/12/2021
    let bcp = find(
        j,
        "bournemouth, christchurch & poole",
        Framework::Ilacs,
        ASPECT_OVERALL,
        "2022-02-11",
    );
    assert_eq!(
        (bcp.grade, bcp.inspection_end.as_deref(), bcp.urn.as_deref()),
        (Some(4), Some("2021-12-17"), Some("2532287"))
    );
}

#[test]
fn merged_and_outcome() {
    let (p23, p25, pc) = all();
    let (js, rep) = merge(vec![p25, p23, pc]);
    eprintln!(
        "merge: read {:?} kept {:?} merged {} conflicts {} date mismatches {}",
        rep.read,
        rep.kept,
        rep.merged,
        rep.conflicts.len(),
        rep.date_mismatches.len()
    );
    for c in rep.date_mismatches.iter().take(20) {
        eprintln!("  date: kept {} | dropped {}", c.0, c.1);
    }
    for c in rep.conflicts.iter().take(20) {
        eprintln!("  conflict: kept {} | dropped {}", c.0, c.1);
    }
    let w = Window::years(2012, 2013);
    let las = inadequate_las(&js, &w, Scope::AnyHeadline);
    eprintln!("inadequate 2012-13: {} LAs: {:?}", las.len(), las);
    assert!(inadequate_2012_13(&js, LaRef::Name("Birmingham")));
    assert!(inadequate_2012_13(&js, LaRef::Name("Doncaster"))); // CPI 2012-11-16 Inadequate
    assert!(!inadequate_2012_13(&js, LaRef::Name("Barnet")));
    // codes shared from the 2025 file onto 2009-2017 judgements
    assert_eq!(
        js.iter()
            .find(|j| j.la_name == "Birmingham" && j.framework == Framework::Cpi)
            .unwrap()
            .la_code
            .as_deref(),
        Some("E08000025")
    );
    // nothing lost: every headline ILACS OE of the CSV published after the 2025 file's cut-off survives
    assert!(js
        .iter()
        .any(|j| j.framework == Framework::Ilacs && j.published.as_str() > "2025-06-30"));
}

/// The scraped CSV only adds judgements the official files do not yet hold: every judgement
/// kept from it after the merge was published after the latest one of the 2025 ODS, and every
/// ILACS judgement of the 2023 ODS is in the 2025 ODS (so none is kept from the 2023 file).
#[test]
fn csv_only_judgements_are_recent() {
    let (p23, p25, pc) = all();
    let latest_2025 = p25
        .judgements
        .iter()
        .map(|j| j.published.clone())
        .max()
        .unwrap();
    let n_csv = pc.judgements.len();
    let (js, _) = merge(vec![p25, p23, pc]);
    let csv_only: Vec<&Judgement> = js
        .iter()
        .filter(|j| j.source_file.ends_with(".csv"))
        .collect();
    let early: Vec<String> = csv_only
        .iter()
        .filter(|j| j.published <= latest_2025)
        .map(|j| {
            format!(
                "{} {} {} {}",
                j.la_name, j.published, j.aspect, j.judgement_label
            )
        })
        .collect();
    eprintln!(
        "2025 ODS: latest published {latest_2025}; {} of the CSV's {n_csv} judgements kept from it",
        csv_only.len()
    );
    assert!(
        !csv_only.is_empty() && csv_only.len() < n_csv,
        "{} of {n_csv}",
        csv_only.len()
    );
    assert!(
        early.is_empty(),
        "CSV-only judgements published by {latest_2025}:\n{}",
        early.join("\n")
    );
    assert!(csv_only.iter().all(|j| j.framework == Framework::Ilacs));
    // Newcastle upon Tyne's ILACS published 2025-06-25 (overall effectiveness good) is one.
    let n = find(
        &js,
        "newcastle upon tyne",
        Framework::Ilacs,
        ASPECT_OVERALL,
        "2025-06-25",
    );
    assert!(
        n.source_file.ends_with(".csv") && n.grade == Some(2),
        "{n:?}"
    );
    let ilacs23: Vec<String> = js
        .iter()
        .filter(|j| j.source_file.contains("2023_underlying") && j.framework == Framework::Ilacs)
        .map(|j| {
            format!(
                "{} {} {} {}",
                j.la_name, j.published, j.aspect, j.judgement_label
            )
        })
        .collect();
    assert!(
        ilacs23.is_empty(),
        "2023-ODS ILACS judgements not in the 2025 file:\n{}",
        ilacs23.join("\n")
    );
}

#[test]
fn codes_from_geography() {
    use canary_clean::geography::*;
    let (p23, p25, pc) = all();
    let (f, b) = raw("geography/Provider_data_lookup.csv");
    let prov = parse_provider_lookup("prov", &f, &b).unwrap();
    let g = load_changes(
        "stages/geography.yaml",
        &std::fs::read_to_string(crate::common::project_root().join("stages/geography.yaml"))
            .unwrap(),
    )
    .unwrap();
    let (mut js, _) = merge(vec![p25, p23, pc]);
    let missing = fill_codes(&mut js, |ident, urn| {
        if let Some(p) = urn.and_then(|u| prov.iter().find(|p| p.urn == u)) {
            return Some((Some(p.la_code_old.clone()), Some(p.la_code.clone())));
        }
        // predecessors (by name; "dorset (predecessor)" is the old county) from geography.yaml
        for c in &g.changes {
            for p in &c.predecessors {
                let k = la_key(&p.name.replace(" (county)", ""));
                if (ident == "dorset (predecessor)" && p.old_code == "835")
                    || (ident != "dorset" && ident == k)
                {
                    return Some((Some(p.old_code.clone()), p.ons_code.clone()));
                }
            }
        }
        prov.iter()
            .find(|p| {
                la_key(&p.la_name) == ident || p.also_known_as.iter().any(|a| la_key(a) == ident)
            })
            .map(|p| (Some(p.la_code_old.clone()), Some(p.la_code.clone())))
    });
    let no_code: std::collections::BTreeSet<_> = js
        .iter()
        .filter(|j| j.la_code.is_none())
        .map(|j| j.la_name.clone())
        .collect();
    eprintln!("judgements without ONS code after fill: {missing} ({no_code:?})");
    assert_eq!(missing, 0);
    let d = js
        .iter()
        .find(|j| j.la_name == "Dorset" && j.predecessor)
        .unwrap();
    assert_eq!(
        (d.la_code.as_deref(), d.la_code_old.as_deref()),
        (Some("E10000009"), Some("835"))
    );
    assert!(inadequate_2012_13(&js, LaRef::OldCode("330"))); // Birmingham
}
