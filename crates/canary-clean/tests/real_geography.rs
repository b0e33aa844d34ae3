//! Integration tests over the real geography files: the statistical neighbours and the
//! provider lookup the study reads (committed under `raw/`), and excerpts of the LA code list
//! and the LTLA-UTLA lookups, which the study does not read (`tests/fixtures/published/`,
//! copied byte for byte from the published files; see the README there).
use crate::common::{excerpt, raw};

use canary_clean::geography::*;
use canary_clean::tidy::GeographyLevel;

fn yaml() -> GeographyChanges {
    let p = crate::common::project_root().join("stages/geography.yaml");
    load_changes(
        "stages/geography.yaml",
        &std::fs::read_to_string(p).unwrap(),
    )
    .unwrap()
}

/// Excerpt of `geography/la_code_list.xlsx` (LAIT's LA code list, 171 rows): its header,
/// rows 2-6, England (row 160), the first region (161) and `1000` (172), renumbered 1-9.
#[test]
fn code_list() {
    let (f, b) = excerpt("geography/la_code_list.xlsx");
    let rows = parse_la_code_list("la_codes", &f, &b).unwrap();
    let codes: Vec<&str> = rows.iter().map(|r| r.la_code_old.as_str()).collect();
    assert_eq!(
        codes,
        ["301", "302", "370", "800", "822", "970", "980", "1000"]
    );
    let bed = rows.iter().find(|r| r.la_code_old == "822").unwrap();
    assert_eq!(
        (bed.la_name.as_str(), bed.la_type.as_deref(), bed.row),
        ("Bedford Borough", Some("UA"), 6)
    );
    assert_eq!(bed.region.as_deref(), Some("East of England"));
    // England and the regions print `NA` for region and type.
    let eng = rows.iter().find(|r| r.la_code_old == "970").unwrap();
    assert_eq!(
        (
            eng.geography_level,
            eng.region.as_deref(),
            eng.la_type.as_deref()
        ),
        (GeographyLevel::National, None, None)
    );
    assert_eq!(
        rows.iter()
            .find(|r| r.la_code_old == "980")
            .unwrap()
            .geography_level,
        GeographyLevel::Regional
    );
    let gone = rows.iter().find(|r| r.la_code_old == "1000").unwrap();
    assert_eq!(
        (gone.la_name.as_str(), gone.geography_level),
        ("England (discontinued)", GeographyLevel::Other)
    );
    assert_eq!(
        rows.iter()
            .filter(|r| r.geography_level == GeographyLevel::LocalAuthority)
            .count(),
        5
    );
}

/// Excerpts of the ONS LTLA-UTLA lookups of April 2021 and April 2023 (UTF-8 with a BOM).
#[test]
fn ltla_utla_lookups() {
    let (f, b) = excerpt("geography/ltla-utla-lookup.csv");
    let l21 = parse_ltla_utla("ltla21", &f, &b).unwrap();
    let (f, b) = excerpt("geography/LTLA-UTLA_Apr23_Lookup_England-Wales.csv");
    let l23 = parse_ltla_utla("ltla23", &f, &b).unwrap();
    assert_eq!((l21.len(), l23.len()), (5, 6));
    assert!(l21.iter().all(|r| r.vintage == 2021) && l23.iter().all(|r| r.vintage == 2023));
    // the BOM is not part of the first column's name, so `FID` / `LTLA23CD` were found
    assert_eq!(
        (l21[0].ltla_code.as_str(), l23[0].ltla_code.as_str()),
        ("E06000001", "E06000001")
    );
    assert!(l21.iter().any(|r| r.utla_code == "E10000006"
        && r.utla_name == "Cumbria"
        && r.ltla_name == "Carlisle"));
    assert!(l23
        .iter()
        .any(|r| r.utla_code == "E06000063" && r.utla_name == "Cumberland"));
    // Welsh rows carry Welsh names in a column of their own; the English name is kept.
    let w = l23.iter().find(|r| r.ltla_code == "W06000001").unwrap();
    assert_eq!(
        (w.ltla_name.as_str(), w.utla_name.as_str()),
        ("Isle of Anglesey", "Isle of Anglesey")
    );
}

#[test]
fn statistical_neighbours() {
    let (f, b) = raw("geography/New_Statistical_Neighbour_Groupings_April_2021.csv");
    let sn = parse_stat_neighbours("sn", &f, &b).unwrap();
    let current = sn.iter().filter(|s| !s.old_grouping).count();
    let old = sn.iter().filter(|s| s.old_grouping).count();
    eprintln!("stat neighbours: {current} current + {old} old groupings");
    let camden = sn.iter().find(|s| s.la_code_old == "202").unwrap();
    assert_eq!(
        camden.neighbours[0],
        ("213".to_string(), "Very Close".to_string())
    );
    assert_eq!(camden.neighbours.len(), 10);
    assert!(sn
        .iter()
        .any(|s| s.la_code_old == "835" && s.old_grouping && s.la_name == "Dorset (Pre LG)"));
    assert!(
        sn.iter().all(|s| s.neighbours.len() == 10),
        "every LA has ten neighbours"
    );
}

/// Excerpt of `geography/ofsted_region_mapping_corrections.csv` (60 rows).
#[test]
fn region_corrections() {
    let (f, b) = excerpt("geography/ofsted_region_mapping_corrections.csv");
    let rc = parse_region_corrections("rc", &f, &b).unwrap();
    let got: Vec<(&str, &str, usize)> = rc
        .iter()
        .map(|r| (r.la_name.as_str(), r.region.as_str(), r.line))
        .collect();
    assert_eq!(
        got,
        [
            ("Barking and Dagenham", "Outer London", 2),
            ("Barnet", "Outer London", 3),
            ("Barnsley", "Yorkshire and The Humber", 4),
            ("York", "Yorkshire and The Humber", 5)
        ]
    );
}

#[test]
fn yaml_agrees_with_files_and_harmonises() {
    let (f, b) = raw("geography/Provider_data_lookup.csv");
    let prov = parse_provider_lookup("prov", &f, &b).unwrap();
    let g = yaml();
    // every successor that still exists is in the provider lookup with the same pair of codes
    let latest: std::collections::BTreeSet<&str> = g
        .changes
        .iter()
        .flat_map(|c| c.predecessors.iter().filter_map(|p| p.ons_code.as_deref()))
        .collect();
    for c in &g.changes {
        for s in &c.successors {
            let ons = s.ons_code.as_deref().unwrap();
            if latest.contains(ons) {
                continue;
            } // itself changed later
            let p = prov
                .iter()
                .find(|p| p.la_code == ons)
                .unwrap_or_else(|| panic!("{} {ons} not in Provider_data_lookup", s.name));
            assert_eq!(p.la_code_old, s.old_code, "{}", s.name);
        }
    }
    let h = Harmoniser::new(
        &g,
        prov.iter()
            .map(|p| (p.la_code_old.clone(), p.la_code.clone())),
    );
    assert!(matches!(
        h.harmonise("820", 2009).unwrap(),
        Harmonised::Split { .. }
    ));
    assert!(matches!(
        h.harmonise("E10000006", 2015).unwrap(),
        Harmonised::Split { .. }
    ));
    assert_eq!(
        h.harmonise("E08000016", 2015).unwrap(),
        Harmonised::One {
            ons_code: Some("E08000038".into()),
            old_code: Some("370".into()),
            via: vec!["barnsley_2024".into()]
        }
    );
    assert_eq!(
        h.harmonise("E08000020", 2015).unwrap(),
        Harmonised::One {
            ons_code: Some("E08000037".into()),
            old_code: Some("390".into()),
            via: vec!["gateshead_2013".into()]
        }
    );
    assert!(
        matches!(h.harmonise("836", 2015).unwrap(), Harmonised::PartOf { ref ons_code, .. } if ons_code == "E06000058")
    );
    assert_eq!(
        h.harmonise("835", 2015).unwrap(),
        Harmonised::One {
            ons_code: Some("E06000059".into()),
            old_code: Some("838".into()),
            via: vec!["dorset_2019".into()]
        }
    );
    assert_eq!(
        h.harmonise("202", 2015).unwrap(),
        Harmonised::One {
            ons_code: Some("E09000007".into()),
            old_code: Some("202".into()),
            via: vec![]
        }
    );
    let nots = h.not_one_to_one();
    eprintln!("not one-to-one: {nots:?}");
    assert_eq!(nots.len(), 4);
}

/// A change that says something impossible is placed at its `id:` line of the file the user
/// edits, with the line's text for a caret; here the real file with a change's kind edited.
#[test]
fn an_impossible_change_is_placed_at_its_line() {
    let p = crate::common::project_root().join("stages/geography.yaml");
    let text = std::fs::read_to_string(p).unwrap();
    let edited = text.replacen(
        "  - id: cheshire_2009\n    effective: 2009-04-01\n    kind: split",
        "  - id: cheshire_2009\n    effective: 2009-04-01\n    kind: recode",
        1,
    );
    assert_ne!(
        edited, text,
        "the real file's cheshire_2009 entry moved: update the test"
    );
    let e = load_changes("stages/geography.yaml", &edited).unwrap_err();
    let want = text
        .lines()
        .position(|l| l == "  - id: cheshire_2009")
        .unwrap()
        + 1;
    let place = e.place.as_deref().expect("a place");
    assert_eq!(
        (e.line, place.line, place.column),
        (Some(want), want, 5),
        "{e}"
    );
    assert_eq!(place.text, "  - id: cheshire_2009");
}
