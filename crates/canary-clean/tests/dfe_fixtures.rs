//! Tests on small fixtures written by hand in the real formats (`tests/fixtures/`).

use canary_clean::cin_census::{parse_cin_census, parse_cin_metadata};
use canary_clean::ees::{parse_ees, EesOptions};
use canary_clean::nomis::parse_nomis_popest;
use canary_clean::tidy::{GeographyLevel, Status, TidyRow};
use canary_clean::NoteKind;

fn fixture(name: &str) -> (String, Vec<u8>) {
    let path = format!("{}/tests/fixtures/clean/{name}", env!("CARGO_MANIFEST_DIR"));
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    (format!("tests/fixtures/clean/{name}"), bytes)
}

fn get<'a>(rows: &'a [TidyRow], name: &str, measure: &str) -> &'a TidyRow {
    rows.iter()
        .find(|r| r.la_name == name && r.measure == measure)
        .unwrap_or_else(|| panic!("no row {name} / {measure}"))
}

fn vs(r: &TidyRow) -> (Option<f64>, Status) {
    (r.value, r.status)
}

// ---------------------------------------------------------------- CIN census

#[test]
fn cin_small_every_code_separators_spaces_and_correction() {
    let (label, bytes) = fixture("cin_2012-13_small.csv");
    let p = parse_cin_census("cin", &label, &bytes, 2013).unwrap();
    assert_eq!(
        p.rows.len(),
        4 * 7,
        "4 data rows × 7 measures, nothing dropped"
    );
    // England: thousands separators, blank DCI, corrected code
    let e = get(&p.rows, "England", "Referrals1213");
    assert_eq!(
        (e.value, e.la_code.as_deref(), e.la_code_old.as_deref()),
        (Some(593_500.0), Some("E92000001"), None)
    );
    assert_eq!(e.geography_level, GeographyLevel::National);
    assert_eq!(
        vs(get(&p.rows, "England", "IAs1213DCI")),
        (None, Status::Blank)
    );
    assert_eq!(
        get(&p.rows, "England", "Mid2012Pop0-17").value,
        Some(11_397_500.0)
    );
    let corr: Vec<_> = p.corrections().collect();
    assert_eq!(corr.len(), 1);
    assert_eq!(
        (corr[0].line, corr[0].column.as_deref()),
        (Some(2), Some("new_la_code"))
    );
    assert!(corr[0].message.contains("E06000046") && corr[0].message.contains("Isle of Wight"));
    // every CIN code
    assert_eq!(
        vs(get(&p.rows, "City of London", "%ReferralsWithin12mths1213")),
        (None, Status::Suppressed)
    );
    assert_eq!(
        vs(get(&p.rows, "City of London", "IAs1213")),
        (None, Status::NotAvailable)
    );
    assert_eq!(
        vs(get(&p.rows, "Lambeth", "IAs1213")),
        (None, Status::NotApplicable)
    );
    assert_eq!(
        vs(get(&p.rows, "Lambeth", "CPPStart1213")),
        (None, Status::Blank)
    );
    assert_eq!(
        vs(get(&p.rows, "Isle of Wight", "CINAt310313")),
        (None, Status::NotApplicable)
    );
    // DCI: numbers, and the DCI-only codes P / A (trimmed) with a note each
    assert_eq!(
        vs(get(&p.rows, "Lambeth", "IAs1213DCI")),
        (Some(3.0), Status::Ok)
    );
    assert_eq!(
        vs(get(&p.rows, "City of London", "IAs1213DCI")),
        (None, Status::NotAvailable)
    );
    assert_eq!(
        vs(get(&p.rows, "Isle of Wight", "IAs1213DCI")),
        (None, Status::NotAvailable)
    );
    let mapped: Vec<_> = p
        .notes
        .iter()
        .filter(|n| n.kind == NoteKind::CodeMapped)
        .collect();
    assert_eq!(mapped.len(), 2);
    assert!(mapped[0].message.contains("`P`") && mapped[0].line == Some(3));
    assert!(mapped[1].message.contains("`A`") && mapped[1].line == Some(5));
    // LA row: trimmed name and values, separators in LA rows
    let l = get(&p.rows, "Lambeth", "Referrals1213");
    assert_eq!(
        (l.value, l.la_code_old.as_deref(), l.la_code.as_deref()),
        (Some(1961.0), Some("208"), Some("E09000022"))
    );
    assert_eq!(
        get(&p.rows, "Lambeth", "%ReferralsWithin12mths1213").value,
        Some(17.6)
    );
    assert_eq!(
        get(&p.rows, "Lambeth", "Mid2012Pop0-17").value,
        Some(60_600.0)
    );
    // Isle of Wight keeps its own code
    assert_eq!(
        get(&p.rows, "Isle of Wight", "Referrals1213")
            .la_code
            .as_deref(),
        Some("E06000046")
    );
    assert!(p.rows.iter().all(|r| r.year == 2013 && r.source == "cin"));
}

#[test]
fn cin_wrong_field_count_names_the_line() {
    let (label, bytes) = fixture("cin_2012-13_bad_row.csv");
    let e = parse_cin_census("cin", &label, &bytes, 2013).unwrap_err();
    assert_eq!((e.file.as_str(), e.line), (label.as_str(), Some(4)));
    assert!(
        e.message.contains("7 fields") && e.message.contains("header has 6"),
        "{e}"
    );
    assert!(e.hint.contains("unquoted comma"), "{e}");
}

#[test]
fn cin_missing_column_is_named() {
    let (label, bytes) = fixture("cin_2012-13_missing_col.csv");
    let e = parse_cin_census("cin", &label, &bytes, 2013).unwrap_err();
    assert_eq!((e.line, e.column.as_deref()), (Some(1), Some("geog_n")));
    assert!(e.to_string().contains("hint:"));
}

#[test]
fn cin_unknown_code_and_bad_number() {
    // `A` is only allowed in DCI columns
    let (label, bytes) = fixture("cin_2012-13_unknown_code.csv");
    let e = parse_cin_census("cin", &label, &bytes, 2013).unwrap_err();
    assert_eq!(
        (e.line, e.column.as_deref()),
        (Some(3), Some("CINAt310313"))
    );
    assert!(
        e.message.contains("`A`") && e.hint.contains("`x` suppressed"),
        "{e}"
    );
    let (label, bytes) = fixture("cin_2012-13_bad_number.csv");
    let e = parse_cin_census("cin", &label, &bytes, 2013).unwrap_err();
    assert_eq!(
        (e.line, e.column.as_deref()),
        (Some(2), Some("Referrals1213"))
    );
    assert!(e.message.contains("cannot parse `6,22`"), "{e}");
}

#[test]
fn cin_year_suffix_must_agree() {
    let (label, bytes) = fixture("cin_2012-13_small.csv");
    let e = parse_cin_census("cin", &label, &bytes, 2012).unwrap_err();
    assert!(
        e.message.contains("for 2012-13") && e.message.contains("given as 2011-12"),
        "{e}"
    );
    assert!(e.hint.contains("year 2013"), "{e}");
}

#[test]
fn cin_region_level_pre_2013_layout_and_england_old_code() {
    let (label, bytes) = fixture("cin_2009-10_region.csv");
    let p = parse_cin_census("cin", &label, &bytes, 2010).unwrap();
    assert_eq!(p.rows.len(), 3 * 5);
    let r = get(&p.rows, "North East", "Referrals0910");
    assert_eq!(
        (r.geography_level, r.value, r.la_code.as_deref()),
        (GeographyLevel::Regional, Some(31_000.0), None)
    );
    let e = get(&p.rows, "England", "CINRatePer10K");
    assert_eq!(
        (e.la_code.as_deref(), e.la_code_old.as_deref(), e.value),
        (Some("E92000001"), None, Some(341.0))
    );
    let corr: Vec<_> = p.corrections().collect();
    assert_eq!(corr.len(), 1);
    assert!(
        corr[0].message.contains("`921`") && corr[0].message.contains("Isle of Wight (line 4)")
    );
    assert_eq!(
        get(&p.rows, "Isle of Wight", "S47in0910").status,
        Status::Suppressed
    );
}

#[test]
fn cin_bom_crlf_and_latin1() {
    let (label, bytes) = fixture("cin_2013-14_bom_crlf.csv");
    let p = parse_cin_census("cin", &label, &bytes, 2014).unwrap();
    assert_eq!(get(&p.rows, "Bolton", "Referrals1314").value, Some(3001.0));
    assert!(p.notes.iter().all(|n| n.kind != NoteKind::Encoding));
    let (label, bytes) = fixture("cin_2013-14_latin1.csv");
    let p = parse_cin_census("cin", &label, &bytes, 2014).unwrap();
    assert_eq!(p.rows[0].la_name, "Cumbria é\u{2013} test");
    assert_eq!(p.rows[0].value, Some(1234.0));
    assert!(p.notes.iter().any(|n| n.kind == NoteKind::Encoding));
}

#[test]
fn cin_metadata_latin1_layouts() {
    let (label, bytes) = fixture("cin_metadata_latin1.txt");
    let d = parse_cin_metadata(&label, &bytes).unwrap();
    let pairs: Vec<(&str, &str)> = d
        .iter()
        .map(|d| (d.variable.as_str(), d.description.as_str()))
        .collect();
    assert_eq!(
        pairs,
        [
            ("geog_l", "Geography Level"),
            ("geog_c", "Geography Code"),
            (
                "%ReferralsWithin12mths1213",
                "Percentage of referrals within 12 months \u{2013} of a previous referral continued on the next line"
            ),
            ("% CINEnding1213DurationUnknown", "Percentage with unknown duration"),
            ("CINAt310313RatePer10K", "Rate per 10,000 children"),
            ("CINChildrenThro1617", "Children with an episode of Need at any point during 2016-17"),
            ("%CPPCeased6mthsDurationAnother LA1213", "Percentage transferred to another LA"),
        ]
    );
    assert_eq!(d[0].line, 10);
    let e = parse_cin_metadata("x.txt", b"nothing to see\nhere either\n").unwrap_err();
    assert!(e.message.contains("no variable definitions"));
}

// ---------------------------------------------------------------- EES

#[test]
fn ees_small_every_code_levels_filters_bom() {
    let (label, bytes) = fixture("ees_small.csv");
    let p = parse_ees("ees", &label, &bytes, &EesOptions::default()).unwrap();
    assert_eq!(p.rows.len(), 6 * 3, "6 data rows × 3 indicators");
    let m = |i: &str, d: &str| format!("{i}[category=Referrals,duration={d}]");
    let find = |name: &str, measure: &str| get(&p.rows, name, measure);
    // national, 201213-style period, separators
    let r = find("England", &m("referrals", "Total"));
    assert_eq!(
        (r.year, r.value, r.la_code.as_deref()),
        (2013, Some(593_500.0), Some("E92000001"))
    );
    assert_eq!(r.geography_level, GeographyLevel::National);
    assert_eq!(
        find("England", &m("rate", "Total")).status,
        Status::NotApplicable
    );
    assert_eq!(
        find("England", &m("referrals", "Under 1 month")).status,
        Status::Suppressed
    );
    assert_eq!(
        find("England", &m("referrals_percent", "Under 1 month")).status,
        Status::NotAvailable
    );
    assert_eq!(
        find("England", &m("rate", "Under 1 month")).status,
        Status::NotAvailable
    );
    // regional: low / u (trimmed)
    let r = find("Inner London", &m("referrals", "Total"));
    assert_eq!(
        (r.geography_level, r.la_code.as_deref(), r.value),
        (GeographyLevel::Regional, Some("E13000001"), Some(31_250.0))
    );
    assert_eq!(
        find("Inner London", &m("referrals_percent", "Total")).status,
        Status::Low
    );
    assert_eq!(
        find("Inner London", &m("rate", "Total")).status,
        Status::Low
    );
    // LA: trimmed name, `..`, blank
    let r = find("Lambeth", &m("referrals", "Total"));
    assert_eq!(
        (r.value, r.la_code_old.as_deref(), r.la_code.as_deref()),
        (Some(1961.0), Some("208"), Some("E09000022"))
    );
    assert_eq!(
        find("Lambeth", &m("referrals_percent", "Total")).status,
        Status::NotAvailable
    );
    assert_eq!(find("Lambeth", &m("rate", "Total")).status, Status::Blank);
    // other level
    let r = find("South West", &m("referrals", "Total"));
    assert_eq!(
        (r.geography_level, r.value),
        (GeographyLevel::Other, Some(12.0))
    );
    assert!(p
        .notes
        .iter()
        .any(|n| n.message.contains("`Local authority district`")));
    // combined LA
    let r = find(
        "North Northamptonshire / West Northamptonshire",
        &m("referrals", "Total"),
    );
    assert_eq!(r.la_code_old.as_deref(), Some("940 / 941"));
    assert!(p
        .notes
        .iter()
        .any(|n| n.line == Some(7) && n.message.contains("combined LA")));
    // detection reported
    assert!(p.notes.iter().any(|n| n
        .message
        .starts_with("filters (detected): `category`, `duration`")));
}

#[test]
fn ees_explicit_filters_and_year_offset() {
    let (label, bytes) = fixture("ees_small.csv");
    let opts = EesOptions {
        filters: Some(vec!["duration".into(), "category".into()]),
        year_offset: 1,
        ..Default::default()
    };
    let p = parse_ees("ees", &label, &bytes, &opts).unwrap();
    // filters in column order, whatever the option's order
    assert_eq!(
        p.rows[0].measure,
        "referrals[category=Referrals,duration=Total]"
    );
    assert_eq!(p.rows[0].year, 2014);
    let opts = EesOptions {
        ignore: vec!["category".into()],
        ..Default::default()
    };
    let p = parse_ees("ees", &label, &bytes, &opts).unwrap();
    assert_eq!(p.rows[0].measure, "referrals[duration=Total]");
    let opts = EesOptions {
        filters: Some(vec!["nope".into()]),
        ..Default::default()
    };
    let e = parse_ees("ees", &label, &bytes, &opts).unwrap_err();
    assert_eq!(e.column.as_deref(), Some("nope"));
}

#[test]
fn ees_numeric_filter_needs_explicit_list() {
    let (label, bytes) = fixture("ees_numeric_filter.csv");
    let e = parse_ees("ees", &label, &bytes, &EesOptions::default()).unwrap_err();
    assert_eq!(e.line, Some(3));
    assert!(
        e.message.contains("repeats line 2") && e.hint.contains("EesOptions.filters"),
        "{e}"
    );
    let opts = EesOptions {
        filters: Some(vec!["age".into()]),
        ..Default::default()
    };
    let p = parse_ees("ees", &label, &bytes, &opts).unwrap();
    assert_eq!(p.rows[1].measure, "population[age=1]");
    assert_eq!(p.rows[1].value, Some(640_000.0));
}

#[test]
fn ees_errors_bad_row_missing_column_unknown_code() {
    let (label, bytes) = fixture("ees_bad_row.csv");
    let e = parse_ees("ees", &label, &bytes, &EesOptions::default()).unwrap_err();
    assert_eq!(e.line, Some(3));
    assert!(e.message.contains("7 fields"), "{e}");
    let (label, bytes) = fixture("ees_missing_col.csv");
    let e = parse_ees("ees", &label, &bytes, &EesOptions::default()).unwrap_err();
    assert_eq!(e.column.as_deref(), Some("geographic_level"));
    let (label, bytes) = fixture("ees_unknown_code.csv");
    let e = parse_ees("ees", &label, &bytes, &EesOptions::default()).unwrap_err();
    assert_eq!((e.line, e.column.as_deref()), (Some(4), Some("cases")));
    assert!(
        e.message.contains("`k`") && e.hint.contains("`c` suppressed"),
        "{e}"
    );
}

#[test]
fn ees_latin1() {
    let (label, bytes) = fixture("ees_latin1.csv");
    let p = parse_ees("ees", &label, &bytes, &EesOptions::default()).unwrap();
    assert_eq!(
        p.rows[0].measure,
        "number[characteristic=Café \u{2013} total]"
    );
    assert_eq!(p.rows[0].value, Some(1234.0));
    assert!(p.notes.iter().any(|n| n.kind == NoteKind::Encoding));
}

// ---------------------------------------------------------------- Nomis

#[test]
fn nomis_small() {
    let (label, bytes) = fixture("nomis_small.csv");
    let p = parse_nomis_popest("nomis", &label, &bytes).unwrap();
    assert_eq!(p.rows.len(), 6 * 3);
    assert!(p.rows.iter().all(|r| r.measure == "population_age_0_4"));
    let find = |code: &str, year: i32| {
        p.rows
            .iter()
            .find(|r| r.la_code.as_deref() == Some(code) && r.year == year)
            .unwrap()
    };
    assert_eq!(find("E06000005", 2019).value, Some(5790.0));
    let hull = find("E06000010", 2019);
    assert_eq!(
        (hull.la_name.as_str(), hull.value),
        ("Kingston upon Hull, City of", Some(16_883.0))
    );
    assert_eq!(vs(find("E10000014", 2019)), (None, Status::Blank));
    assert_eq!(
        find("E10000014", 2019).geography_level,
        GeographyLevel::LocalAuthority
    );
    assert_eq!(
        find("E92000001", 2021).geography_level,
        GeographyLevel::National
    );
    assert_eq!(find("E92000001", 2019).value, Some(3_299_637.0));
    assert_eq!(
        find("E12000001", 2020).geography_level,
        GeographyLevel::Regional
    );
    assert_eq!(
        find("W06000015", 2020).geography_level,
        GeographyLevel::Other
    );
    assert!(p.notes.iter().any(|n| n.message.contains("footnote")));
}

#[test]
fn nomis_errors() {
    let (label, bytes) = fixture("nomis_bad.csv");
    let e = parse_nomis_popest("nomis", &label, &bytes).unwrap_err();
    assert_eq!((e.line, e.column.as_deref()), (Some(4), Some("2020")));
    assert!(e.message.contains("`n/a`"));
    let (label, bytes) = fixture("nomis_no_header.csv");
    let e = parse_nomis_popest("nomis", &label, &bytes).unwrap_err();
    assert!(e.message.contains("mnemonic"));
}
