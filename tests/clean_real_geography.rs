//! Integration tests over the real geography files (skipped, loudly, when absent).
use canary::clean::geography::*;
use canary::clean::tidy::GeographyLevel;
use std::path::PathBuf;

fn data(rel: &str) -> Option<(String, Vec<u8>)> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/data").join(rel);
    match std::fs::read(&p) {
        Ok(b) => Some((p.display().to_string(), b)),
        Err(_) => { eprintln!("!!!!! SKIPPED: real data file {} not found — this test checked nothing", p.display()); None }
    }
}

fn yaml() -> GeographyChanges {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("stages/geography.yaml");
    load_changes("stages/geography.yaml", &std::fs::read_to_string(p).unwrap()).unwrap()
}

#[test]
fn code_list() {
    let Some((f, b)) = data("geography/la_code_list.xlsx") else { return };
    let rows = parse_la_code_list("la_codes", &f, &b).unwrap();
    let las: Vec<_> = rows.iter().filter(|r| r.geography_level == GeographyLevel::LocalAuthority).collect();
    eprintln!("la_code_list: {} rows, {} LAs", rows.len(), las.len());
    assert_eq!(rows.len(), 171);
    let bed = rows.iter().find(|r| r.la_code_old == "822").unwrap();
    assert_eq!((bed.la_name.as_str(), bed.la_type.as_deref(), bed.row), ("Bedford Borough", Some("UA"), 6));
    assert_eq!(rows.iter().find(|r| r.la_code_old == "970").unwrap().geography_level, GeographyLevel::National);
}

#[test]
fn lookups_neighbours_regions() {
    let Some((f, b)) = data("geography/ltla-utla-lookup.csv") else { return };
    let l21 = parse_ltla_utla("ltla21", &f, &b).unwrap();
    let (f, b) = data("geography/LTLA-UTLA_Apr23_Lookup_England-Wales.csv").unwrap();
    let l23 = parse_ltla_utla("ltla23", &f, &b).unwrap();
    eprintln!("ltla-utla 2021: {} rows, 2023: {} rows", l21.len(), l23.len());
    assert_eq!((l21[0].vintage, l23[0].vintage), (2021, 2023));
    assert!(l23.iter().any(|r| r.utla_code == "E06000063" && r.utla_name == "Cumberland"));
    assert!(l21.iter().any(|r| r.utla_code == "E10000006" && r.ltla_name == "Carlisle"));

    let (f, b) = data("geography/New_Statistical_Neighbour_Groupings_April_2021.csv").unwrap();
    let sn = parse_stat_neighbours("sn", &f, &b).unwrap();
    eprintln!("stat neighbours: {} current + {} old groupings", sn.iter().filter(|s| !s.old_grouping).count(), sn.iter().filter(|s| s.old_grouping).count());
    let camden = sn.iter().find(|s| s.la_code_old == "202").unwrap();
    assert_eq!(camden.neighbours[0], ("213".to_string(), "Very Close".to_string()));
    assert_eq!(camden.neighbours.len(), 10);
    assert!(sn.iter().any(|s| s.la_code_old == "835" && s.old_grouping && s.la_name == "Dorset (Pre LG)"));

    let (f, b) = data("geography/ofsted_region_mapping_corrections.csv").unwrap();
    let rc = parse_region_corrections("rc", &f, &b).unwrap();
    assert_eq!(rc.len(), 60);
    assert_eq!(rc[0].region, "Outer London");
}

#[test]
fn yaml_agrees_with_files_and_harmonises() {
    let Some((f, b)) = data("geography/Provider_data_lookup.csv") else { return };
    let prov = parse_provider_lookup("prov", &f, &b).unwrap();
    let g = yaml();
    // every successor that still exists is in the provider lookup with the same pair of codes
    let latest: std::collections::BTreeSet<&str> = g.changes.iter().flat_map(|c| c.predecessors.iter().filter_map(|p| p.ons_code.as_deref())).collect();
    for c in &g.changes {
        for s in &c.successors {
            let ons = s.ons_code.as_deref().unwrap();
            if latest.contains(ons) { continue; } // itself changed later
            let p = prov.iter().find(|p| p.la_code == ons).unwrap_or_else(|| panic!("{} {ons} not in Provider_data_lookup", s.name));
            assert_eq!(p.la_code_old, s.old_code, "{}", s.name);
        }
    }
    let h = Harmoniser::new(&g, prov.iter().map(|p| (p.la_code_old.clone(), p.la_code.clone())));
    assert!(matches!(h.harmonise("820", 2009).unwrap(), Harmonised::Split { .. }));
    assert!(matches!(h.harmonise("E10000006", 2015).unwrap(), Harmonised::Split { .. }));
    assert_eq!(h.harmonise("E08000016", 2015).unwrap(), Harmonised::One { ons_code: Some("E08000038".into()), old_code: Some("370".into()), via: vec!["barnsley_2024".into()] });
    assert_eq!(h.harmonise("E08000020", 2015).unwrap(), Harmonised::One { ons_code: Some("E08000037".into()), old_code: Some("390".into()), via: vec!["gateshead_2013".into()] });
    assert!(matches!(h.harmonise("836", 2015).unwrap(), Harmonised::PartOf { ref ons_code, .. } if ons_code == "E06000058"));
    assert_eq!(h.harmonise("835", 2015).unwrap(), Harmonised::One { ons_code: Some("E06000059".into()), old_code: Some("838".into()), via: vec!["dorset_2019".into()] });
    assert_eq!(h.harmonise("202", 2015).unwrap(), Harmonised::One { ons_code: Some("E09000007".into()), old_code: Some("202".into()), via: vec![] });
    let nots = h.not_one_to_one();
    eprintln!("not one-to-one: {nots:?}");
    assert_eq!(nots.len(), 4);
}
