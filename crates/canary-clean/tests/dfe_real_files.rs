//! Integration tests over real published files: the ones the study reads, committed whole
//! under `raw/`, and excerpts of others it does not read (CIN census metadata, the rest of
//! the 2021-22 CIN release, the workforce headline file, nomis population), copied byte for
//! byte into `tests/fixtures/published/` (see the README there).

use canary_clean::cin_census::{parse_cin_census, parse_cin_metadata};
use canary_clean::ees::{parse_ees, EesOptions, STANDARD_COLUMNS};
use canary_clean::nomis::parse_nomis_popest;
use canary_clean::tidy::{GeographyLevel, Status, TidyRow};
use canary_clean::{NoteKind, Parsed};
use std::path::{Path, PathBuf};

use crate::common;
use crate::common::raw_dir;

/// The folder of the excerpts, laid out as the mirror is.
fn excerpts_dir() -> PathBuf {
    common::fixture("published")
}

fn read(dir: &Path, rel: &str) -> Vec<u8> {
    std::fs::read(dir.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

/// Data lines (non-blank records after the header) and header width, counted independently
/// of the parsers.
fn csv_shape(bytes: &[u8], skip_preamble_to: Option<&str>) -> (usize, Vec<String>) {
    let text = String::from_utf8_lossy(bytes)
        .trim_start_matches('\u{feff}')
        .to_string();
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let recs: Vec<Vec<String>> = rdr
        .records()
        .map(|r| r.unwrap().iter().map(|s| s.trim().to_string()).collect())
        .collect();
    let start = match skip_preamble_to {
        Some(key) => recs
            .iter()
            .position(|r| r.get(1).map(String::as_str) == Some(key))
            .unwrap(),
        None => 0,
    };
    let header = recs[start].clone();
    let lines = recs[start + 1..]
        .iter()
        .filter(|r| r.iter().any(|f| !f.is_empty()))
        .count();
    (lines, header)
}

fn find<'a>(rows: &'a [TidyRow], name: &str, measure: &str) -> &'a TidyRow {
    rows.iter()
        .find(|r| r.la_name == name && r.measure == measure)
        .unwrap_or_else(|| panic!("no row {name} / {measure}"))
}

fn find_y<'a>(rows: &'a [TidyRow], year: i32, code: &str, measure: &str) -> &'a TidyRow {
    rows.iter()
        .find(|r| r.year == year && r.la_code.as_deref() == Some(code) && r.measure == measure)
        .unwrap_or_else(|| panic!("no row {year} {code} {measure}"))
}

const CIN_FILES: &[(&str, i32)] = &[
    ("cin_census/2009-10/osr28-2010ud.csv", 2010),
    ("cin_census/2010-11/osr26-2011ud.csv", 2011),
    ("cin_census/2011-12/SFR27-2012ud.csv", 2012),
    ("cin_census/2012-13/SFR45-2013ud.csv", 2013),
    ("cin_census/2013-14/SFR43-2014.csv", 2014),
    ("cin_census/2014-15/SFR41-2015_Underlying_data.csv", 2015),
    ("cin_census/2015-16/SFR52_2016_UD.csv", 2016),
    ("cin_census/2016-17/SFR61-2017_UD.CSV", 2017),
];

#[test]
fn cin_every_year_parses_and_nothing_is_dropped() {
    let dir = raw_dir();
    for &(rel, year) in CIN_FILES {
        let bytes = read(&dir, rel);
        let p = parse_cin_census("cin_census", rel, &bytes, year).unwrap_or_else(|e| panic!("{e}"));
        let (lines, header) = csv_shape(&bytes, None);
        let id_cols = if header.iter().any(|h| h == "new_la_code") {
            4
        } else {
            3
        };
        assert_eq!(lines, 153, "{rel}");
        assert_eq!(
            p.rows.len(),
            lines * (header.len() - id_cols),
            "{rel}: rows dropped or added"
        );
        let per_row = header.len() - id_cols;
        let nat = p
            .rows
            .iter()
            .filter(|r| r.geography_level == GeographyLevel::National)
            .count();
        let la = p
            .rows
            .iter()
            .filter(|r| r.geography_level == GeographyLevel::LocalAuthority)
            .count();
        assert_eq!((nat, la), (per_row, 152 * per_row), "{rel}");
        // England always ends up E92000001 with no old code.
        for r in p
            .rows
            .iter()
            .filter(|r| r.geography_level == GeographyLevel::National)
        {
            assert_eq!(r.la_code.as_deref(), Some("E92000001"), "{rel}");
            assert_eq!(r.la_code_old, None, "{rel}");
            assert_eq!(r.la_name, "England");
        }
        assert!(p.rows.iter().all(|r| r.year == year));
        assert!(p
            .rows
            .iter()
            .all(|r| (r.status == Status::Ok) == r.value.is_some()));
        // The last column is the 0-17 population, numeric for England.
        let pop = header.last().unwrap();
        assert!(
            pop.starts_with(&format!("Mid{}Pop", year - 1)),
            "{rel}: {pop}"
        );
        assert!(find(&p.rows, "England", pop).value.unwrap() > 1.0e7);
    }
}

#[test]
fn cin_2012_13_england_correction_and_hand_read_values() {
    let dir = raw_dir();
    let rel = "cin_census/2012-13/SFR45-2013ud.csv";
    let p = parse_cin_census("cin_census", rel, &read(&dir, rel), 2013).unwrap();
    let england: Vec<_> = p
        .rows
        .iter()
        .filter(|r| r.geography_level == GeographyLevel::National)
        .collect();
    let las: std::collections::BTreeSet<_> = p
        .rows
        .iter()
        .filter(|r| r.geography_level == GeographyLevel::LocalAuthority)
        .map(|r| r.la_code.clone().unwrap())
        .collect();
    assert_eq!(england.len(), 202); // 1 England row × 202 measures
    assert_eq!(las.len(), 152); // E06000046 stays with Isle of Wight only
    assert!(las.contains("E06000046"));
    assert!(england
        .iter()
        .all(|r| r.la_code.as_deref() == Some("E92000001")));
    let corr: Vec<_> = p.corrections().collect();
    assert_eq!(corr.len(), 1, "{corr:?}");
    assert_eq!(corr[0].line, Some(2));
    assert!(corr[0].message.contains("E06000046") && corr[0].message.contains("Isle of Wight"));

    // SFR45-2013ud.csv line 2: England, Referrals1213 "593,500", %ReferralsWithin12mths1213
    // 24.9, Mid2012Pop0-17 "11,397,500", Referrals1213DCI empty.
    assert_eq!(
        find(&p.rows, "England", "Referrals1213").value,
        Some(593_500.0)
    );
    assert_eq!(
        find(&p.rows, "England", "%ReferralsWithin12mths1213").value,
        Some(24.9)
    );
    assert_eq!(
        find(&p.rows, "England", "Mid2012Pop0-17").value,
        Some(11_397_500.0)
    );
    assert_eq!(
        find(&p.rows, "England", "Referrals1213DCI").status,
        Status::Blank
    );
    // line 10: Lambeth (208, E09000022), Referrals1213 "4,252", IAs1213DCI 3.
    let r = find(&p.rows, "Lambeth", "Referrals1213");
    assert_eq!(
        (r.value, r.la_code_old.as_deref(), r.la_code.as_deref()),
        (Some(4252.0), Some("208"), Some("E09000022"))
    );
    assert_eq!(find(&p.rows, "Lambeth", "IAs1213DCI").value, Some(3.0));
    // line 7: Hammersmith and Fulham CINThro1213 "3,020" (thousands separator in an LA row).
    assert_eq!(
        find(&p.rows, "Hammersmith and Fulham", "CINThro1213").value,
        Some(3020.0)
    );
    // line 6: Hackney IAs1213 `..`, IAs1213DCI `P`; line 3: City of London CINAt310313NoDisabled `x`.
    assert_eq!(
        find(&p.rows, "Hackney", "IAs1213").status,
        Status::NotAvailable
    );
    let dci = find(&p.rows, "Hackney", "IAs1213DCI");
    assert_eq!((dci.value, dci.status), (None, Status::NotAvailable));
    assert!(p.notes.iter().any(|n| n.kind == NoteKind::CodeMapped
        && n.line == Some(6)
        && n.column.as_deref() == Some("IAs1213DCI")
        && n.message.contains("`P`")));
    assert_eq!(
        find(&p.rows, "City of London", "CINAt310313NoDisabled").status,
        Status::Suppressed
    );
}

#[test]
fn cin_other_years_hand_read_values_and_quirks() {
    let dir = raw_dir();
    // osr28-2010ud.csv line 2: England, geog_c 921 (Isle of Wight's), CINThro0910 "694,000";
    // line 3: City of London Referrals0910 43, IAsWithin7wd0910 x; line 6 Hackney
    // IAs%OfReferrals0910DCI `A`.
    let rel = "cin_census/2009-10/osr28-2010ud.csv";
    let p = parse_cin_census("cin_census", rel, &read(&dir, rel), 2010).unwrap();
    assert_eq!(
        find(&p.rows, "England", "CINThro0910").value,
        Some(694_000.0)
    );
    assert_eq!(
        find(&p.rows, "City of London", "Referrals0910").value,
        Some(43.0)
    );
    assert_eq!(
        find(&p.rows, "City of London", "IAsWithin7wd0910").status,
        Status::Suppressed
    );
    assert_eq!(
        find(&p.rows, "Hackney", "IAs%OfReferrals0910DCI").status,
        Status::NotAvailable
    );
    let corr: Vec<_> = p.corrections().collect();
    assert_eq!(corr.len(), 1);
    assert!(corr[0].message.contains("921") && corr[0].message.contains("Isle of Wight"));
    assert_eq!(
        find(&p.rows, "Isle of Wight", "Referrals0910")
            .la_code_old
            .as_deref(),
        Some("921")
    );

    // SFR43-2014.csv line 3: City of London IAs1314 `.` (not applicable), SAs41-45days1314 x.
    let rel = "cin_census/2013-14/SFR43-2014.csv";
    let p = parse_cin_census("cin_census", rel, &read(&dir, rel), 2014).unwrap();
    assert_eq!(
        find(&p.rows, "City of London", "IAs1314").status,
        Status::NotApplicable
    );
    assert_eq!(
        find(&p.rows, "City of London", "SAs41-45days1314").status,
        Status::Suppressed
    );
    assert_eq!(p.corrections().count(), 1); // E06000046 on England here too

    // SFR61-2017_UD.CSV line 3: City of London CINAt310316 55 (mislabelled: 2016-17 file),
    // Referrals1617 93, Mid2016Pop017 1200.
    let rel = "cin_census/2016-17/SFR61-2017_UD.CSV";
    let p = parse_cin_census("cin_census", rel, &read(&dir, rel), 2017).unwrap();
    assert_eq!(
        find(&p.rows, "City of London", "CINAt310316").value,
        Some(55.0)
    );
    assert_eq!(
        find(&p.rows, "City of London", "Referrals1617").value,
        Some(93.0)
    );
    assert_eq!(
        find(&p.rows, "City of London", "Mid2016Pop017").value,
        Some(1200.0)
    );
    let stray: Vec<_> = p
        .notes
        .iter()
        .filter(|n| n.kind == NoteKind::YearSuffix)
        .filter_map(|n| n.column.as_deref())
        .collect();
    assert_eq!(stray, ["CINAt310316", "CINAt310316RatePer10K"]);
    // 2015-16 England row already carries E92000001: no correction.
    let rel = "cin_census/2015-16/SFR52_2016_UD.csv";
    let p = parse_cin_census("cin_census", rel, &read(&dir, rel), 2016).unwrap();
    assert_eq!(p.corrections().count(), 0);
}

#[test]
fn cin_wrong_year_is_refused() {
    let dir = raw_dir();
    let rel = "cin_census/2012-13/SFR45-2013ud.csv";
    let e = parse_cin_census("cin_census", rel, &read(&dir, rel), 2014).unwrap_err();
    assert!(
        e.message.contains("2012-13") && e.message.contains("2013-14"),
        "{e}"
    );
}

/// Excerpts of each year's metadata text (latin-1): its preamble, `Annex A` and the first
/// definitions, and its last lines (the population column), beside the year's CSV in raw/.
#[test]
fn cin_metadata_every_year() {
    let metas = [
        (
            "cin_census/2009-10/osr28-2010ud-metadata.txt",
            "cin_census/2009-10/osr28-2010ud.csv",
        ),
        (
            "cin_census/2010-11/osr26-2011ud-metadata.txt",
            "cin_census/2010-11/osr26-2011ud.csv",
        ),
        (
            "cin_census/2011-12/SFR27-2012_Meta_Data_Document.txt",
            "cin_census/2011-12/SFR27-2012ud.csv",
        ),
        (
            "cin_census/2012-13/SFR45-2013_Meta_Data_Document.txt",
            "cin_census/2012-13/SFR45-2013ud.csv",
        ),
        (
            "cin_census/2013-14/SFR43-2014_Meta_Data_Document.txt",
            "cin_census/2013-14/SFR43-2014.csv",
        ),
        (
            "cin_census/2014-15/SFR41-2015_Meta_Data_Document.txt",
            "cin_census/2014-15/SFR41-2015_Underlying_data.csv",
        ),
        (
            "cin_census/2015-16/SFR52_2016_UD_metadata.txt",
            "cin_census/2015-16/SFR52_2016_UD.csv",
        ),
        (
            "cin_census/2016-17/SFR61-2017_UD_metadata.txt",
            "cin_census/2016-17/SFR61-2017_UD.CSV",
        ),
    ];
    let covered_per_year: Vec<_> = metas
        .iter()
        .map(|(meta, csvf)| cin_metadata_year(meta, csvf))
        .collect();
    // Definitions in each excerpt, and how many name a column of the year's CSV verbatim;
    // the rest differ in spelling between the two files: in 2011-12 and 2012-13 the metadata
    // writes `CINStartingRatePer10K` and `Mid2011Pop017`, the CSV `CINStartingRatePer10k` and
    // `Mid2011Pop0-17`.
    assert_eq!(
        covered_per_year,
        [
            (13, 13),
            (14, 14),
            (15, 10),
            (13, 10),
            (12, 12),
            (12, 12),
            (10, 10),
            (10, 10)
        ]
    );
    cin_metadata_hand_read();
}

/// One year's metadata excerpt against its CSV's header: returns (definitions, definitions
/// naming a CSV column verbatim).
fn cin_metadata_year(meta: &str, csvf: &str) -> (usize, usize) {
    let bytes = read(&excerpts_dir(), meta);
    // latin-1, not UTF-8: the excerpts keep the publisher's curly quotes as single bytes
    assert!(
        std::str::from_utf8(&bytes).is_err(),
        "{meta} is expected to be latin-1"
    );
    let defs = parse_cin_metadata(meta, &bytes).unwrap_or_else(|e| panic!("{e}"));
    let (_, header) = csv_shape(&read(&raw_dir(), csvf), None);
    assert_eq!(defs[0].variable, "geog_l", "{meta}");
    assert!(
        defs.iter().all(|d| !d.description.is_empty()),
        "{meta}: {defs:?}"
    );
    // the identifying columns are defined under the CSV's own names
    for id in ["geog_l", "geog_c", "geog_n"] {
        assert!(
            defs.iter().any(|d| d.variable == id) && header.iter().any(|h| h == id),
            "{meta}: {id}"
        );
    }
    // the last definition is the population column (the CSV's last), under its
    // metadata spelling `Mid{year}Pop…`
    let last = defs.last().unwrap();
    assert!(
        last.variable.starts_with("Mid20") && last.description.contains("population estimates"),
        "{meta}: {last:?}"
    );
    let covered = defs.iter().filter(|d| header.contains(&d.variable)).count();
    (defs.len(), covered)
}

/// Definitions read by hand from the 2009-10 and 2016-17 metadata excerpts.
fn cin_metadata_hand_read() {
    let ex = excerpts_dir();
    // osr28-2010ud-metadata.txt line 46: `CINThro0910:     Number of Children in Need throughout 2009-10`
    let m = "cin_census/2009-10/osr28-2010ud-metadata.txt";
    let defs = parse_cin_metadata(m, &read(&ex, m)).unwrap();
    let d = defs.iter().find(|d| d.variable == "CINThro0910").unwrap();
    assert_eq!(
        d.description,
        "Number of Children in Need throughout 2009-10"
    );
    // 2016-17 line 42: colon-less `CINChildrenThro1617<tabs>Children with an episode of Need …`
    let m = "cin_census/2016-17/SFR61-2017_UD_metadata.txt";
    let defs = parse_cin_metadata(m, &read(&ex, m)).unwrap();
    let d = defs
        .iter()
        .find(|d| d.variable == "CINChildrenThro1617")
        .unwrap();
    assert_eq!(
        d.description,
        "Children with an episode of Need at any point during 2016-17"
    );
    // and `CINchildrenThroRatePer10K` followed by spaces, not tabs
    assert!(defs
        .iter()
        .any(|d| d.variable == "CINchildrenThroRatePer10K"
            && d.description.starts_with("Rate of children")));
}

/// Filter columns expected in the real EES files (independent of the parser's detection).
const EXPECTED_FILTERS: &[&str] = &[
    "category",
    "Category",
    "category_type",
    "characteristic",
    "characteristic_type",
    "age_group",
    "population_type",
];

fn ees_files(dir: &Path) -> Vec<String> {
    let mut v = Vec::new();
    for sub in ["dfe_tidy", "dfe_tidy/cin_release_2021-22", "workforce"] {
        let Ok(entries) = std::fs::read_dir(dir.join(sub)) else {
            continue;
        };
        for e in entries {
            let p = e.unwrap().path();
            if p.extension().is_some_and(|x| x == "csv") {
                v.push(format!(
                    "{sub}/{}",
                    p.file_name().unwrap().to_string_lossy()
                ));
            }
        }
    }
    v.sort();
    v
}

/// Parses each file and checks that every data line gives one row per indicator column.
fn ees_nothing_dropped(dir: &Path, files: &[String]) {
    for rel in files {
        let bytes = read(dir, rel);
        let p: Parsed =
            parse_ees("ees", rel, &bytes, &EesOptions::default()).unwrap_or_else(|e| panic!("{e}"));
        let (lines, header) = csv_shape(&bytes, None);
        let n_std = header
            .iter()
            .filter(|h| STANDARD_COLUMNS.contains(&h.as_str()))
            .count();
        let n_filters = header
            .iter()
            .filter(|h| EXPECTED_FILTERS.contains(&h.as_str()))
            .count();
        let n_ind = header.len() - n_std - n_filters;
        assert!(lines > 0, "{rel}");
        assert_eq!(p.rows.len(), lines * n_ind, "{rel}: rows dropped or added");
        let bases: std::collections::BTreeSet<_> = p
            .rows
            .iter()
            .map(|r| r.measure.split('[').next().unwrap().to_string())
            .collect();
        assert_eq!(bases.len(), n_ind, "{rel}");
        assert!(p
            .rows
            .iter()
            .all(|r| (r.status == Status::Ok) == r.value.is_some()));
        assert!(
            p.rows
                .iter()
                .all(|r| r.geography_level != GeographyLevel::Other),
            "{rel}"
        );
        assert!(
            p.rows.iter().all(|r| (2012..=2025).contains(&r.year)),
            "{rel}"
        );
    }
}

/// The study's eleven EES files, whole.
#[test]
fn ees_every_raw_file_parses_and_nothing_is_dropped() {
    let dir = raw_dir();
    let files = ees_files(&dir);
    assert_eq!(files.len(), 11, "{files:?}");
    ees_nothing_dropped(&dir, &files);
}

/// Every other published EES layout of the mirror (the 2021-22 CIN release, children looked
/// after, the workforce headline file), as excerpts: header, first lines, first regional and
/// LA lines, first line of the earliest year, the last line.
#[test]
fn ees_every_published_layout_parses_and_nothing_is_dropped() {
    let dir = excerpts_dir();
    let files = ees_files(&dir);
    assert_eq!(files.len(), 29, "{files:?}");
    // none of them is one of the study's files (those are tested whole above)
    let raw = ees_files(&raw_dir());
    assert!(files.iter().all(|f| !raw.contains(f)), "{files:?}");
    ees_nothing_dropped(&dir, &files);
}

/// Which copy of a published file a hand-read value comes from.
#[derive(Clone, Copy)]
enum FileCopy {
    /// The study's own file, whole, under `raw/`.
    Raw,
    /// An excerpt under `tests/fixtures/published/`.
    Excerpt,
}

/// What a hand-read cell holds: a value, or a missing-value status.
#[derive(Clone, Copy)]
enum Holds {
    Value(f64),
    Status(Status),
}

/// One EES file read by hand: the cells read (year, ONS code, measure, what it holds) and
/// the checks that are not about one cell.
struct HandRead {
    copy: FileCopy,
    rel: &'static str,
    source: &'static str,
    cells: &'static [(i32, &'static str, &'static str, Holds)],
    other: fn(&Parsed),
}

const EES_HAND_READ: &[HandRead] = &[
    HandRead {
        copy: FileCopy::Raw,
        rel: "dfe_tidy/c1_children_in_need_referrals_and_rereferrals_2013_to_2025.csv",
        source: "c1",
        cells: &[
            // line 1944: 2014 Lambeth (208, E09000022) referral_count 3770, rereferral_percent 13.6
            (
                2014,
                "E09000022",
                "referral_count[category=Referrals and Re-referrals]",
                Holds::Value(3770.0),
            ),
            (
                2014,
                "E09000022",
                "rereferral_percent[category=Referrals and Re-referrals]",
                Holds::Value(13.6),
            ),
            // line 2: 2025 National referral_count 632830
            (
                2025,
                "E92000001",
                "referral_count[category=Referrals and Re-referrals]",
                Holds::Value(632830.0),
            ),
        ],
        other: c1_geography,
    },
    HandRead {
        copy: FileCopy::Raw,
        rel: "dfe_tidy/b1_children_in_need_2013_to_2025.csv",
        source: "b1",
        cells: &[
            // b1 line 269: 2024 Hampshire (850, E10000014) Anypoint_episodes `u` → low
            (
                2024,
                "E10000014",
                "Anypoint_episodes[category=Children in Need]",
                Holds::Status(Status::Low),
            ),
        ],
        other: |_| {},
    },
    HandRead {
        copy: FileCopy::Raw,
        rel: "workforce/csww_indicators_2017_to_2025.csv",
        source: "wf",
        cells: &[
            // workforce indicators line 25: 2025 Sunderland (E08000024) agency_fte `low`, agency_headcount 1
            (2025, "E08000024", "agency_fte", Holds::Status(Status::Low)),
            (2025, "E08000024", "agency_headcount", Holds::Value(1.0)),
        ],
        other: workforce_combined_la,
    },
    // Files the study does not read: excerpts (tests/fixtures/published/).
    HandRead {
        copy: FileCopy::Excerpt,
        rel: "workforce/csww_headline_measures_2017_to_2022.csv",
        source: "wfh",
        cells: &[],
        other: workforce_headline_bom,
    },
    HandRead {
        copy: FileCopy::Excerpt,
        rel: "dfe_tidy/cin_release_2021-22/c5_children_in_need_referrals_by_source_2014_to_2022.csv",
        source: "c5",
        cells: &[
            // 2021-22 release c5 line 1430 (line 7 of the excerpt): 2014 Cornwall (E06000052) Referrals `:` → not available
            (
                2014,
                "E06000052",
                "Referrals[category=Source of referral]",
                Holds::Status(Status::NotAvailable),
            ),
        ],
        other: |_| {},
    },
    HandRead {
        copy: FileCopy::Excerpt,
        rel: "dfe_tidy/cin_release_2021-22/c1_children_in_need_referrals_and_rereferrals_2013_to_2022.csv",
        source: "c1r",
        cells: &[
            // c1 of the 2021-22 release, line 1005 (line 6 of the excerpt): 2016 South Tyneside (E08000023) Re_referrals `..` → not available, Referrals 1937
            (
                2016,
                "E08000023",
                "Re_referrals[Category=Referrals and Re-referrals]",
                Holds::Status(Status::NotAvailable),
            ),
            (
                2016,
                "E08000023",
                "Referrals[Category=Referrals and Re-referrals]",
                Holds::Value(1937.0),
            ),
        ],
        other: |_| {},
    },
    HandRead {
        copy: FileCopy::Raw,
        rel: "dfe_tidy/cin_release_2021-22/c2_children_in_need_assessments_duration_2014_to_2022.csv",
        source: "c2",
        cells: &[
            // c2 line 103: 2022 Hampshire Same_day 358, 41-45_days 660, 46-50_days 308
            (
                2022,
                "E10000014",
                "41-45_days[category=Duration of assessment]",
                Holds::Value(660.0),
            ),
            (
                2022,
                "E10000014",
                "Same_day[category=Duration of assessment]",
                Holds::Value(358.0),
            ),
            (
                2022,
                "E10000014",
                "46-50_days[category=Duration of assessment]",
                Holds::Value(308.0),
            ),
        ],
        other: |_| {},
    },
    HandRead {
        copy: FileCopy::Excerpt,
        rel: "dfe_tidy/cin_release_2021-22/headline_figures.csv",
        source: "hf",
        cells: &[
            // headline_figures line 2: 2013 children_in_need "378,030"; completed_assessments `x`
            (
                2013,
                "E92000001",
                "children_in_need",
                Holds::Value(378_030.0),
            ),
            (
                2013,
                "E92000001",
                "completed_assessments",
                Holds::Status(Status::NotAvailable),
            ),
        ],
        other: |_| {},
    },
    HandRead {
        copy: FileCopy::Raw,
        rel: "dfe_tidy/ons_mid-year_population_estimates_2012_to_2024.csv",
        source: "pop",
        cells: &[
            // ONS 0-17 population line 1806: 2013 National 11473080
            (
                2013,
                "E92000001",
                "population_estimate[age_group=Children aged 0 to 17 years]",
                Holds::Value(11_473_080.0),
            ),
        ],
        other: |_| {},
    },
    HandRead {
        copy: FileCopy::Excerpt,
        rel: "dfe_tidy/cin_release_2021-22/a7_cin_by_age_gender_ethnicity_2015_to_2022.csv",
        source: "a7",
        cells: &[],
        other: a7_category_trimmed,
    },
];

#[test]
fn ees_hand_read_values() {
    for f in EES_HAND_READ {
        let dir = match f.copy {
            FileCopy::Raw => raw_dir(),
            FileCopy::Excerpt => excerpts_dir(),
        };
        let p = parse_ees(f.source, f.rel, &read(&dir, f.rel), &EesOptions::default()).unwrap();
        for &(year, code, measure, holds) in f.cells {
            let r = find_y(&p.rows, year, code, measure);
            match holds {
                Holds::Value(v) => {
                    assert_eq!(r.value, Some(v), "{} {year} {code} {measure}", f.rel)
                }
                Holds::Status(s) => assert_eq!(r.status, s, "{} {year} {code} {measure}", f.rel),
            }
        }
        (f.other)(&p);
    }
}

/// c1: Lambeth's codes and name, England as national, and the regional rows.
fn c1_geography(p: &Parsed) {
    let r = find_y(
        &p.rows,
        2014,
        "E09000022",
        "referral_count[category=Referrals and Re-referrals]",
    );
    assert_eq!(
        (r.value, r.la_code_old.as_deref(), r.la_name.as_str()),
        (Some(3770.0), Some("208"), "Lambeth")
    );
    let r = find_y(
        &p.rows,
        2025,
        "E92000001",
        "referral_count[category=Referrals and Re-referrals]",
    );
    assert_eq!(
        (r.value, r.geography_level),
        (Some(632830.0), GeographyLevel::National)
    );
    let regions: std::collections::BTreeSet<_> = p
        .rows
        .iter()
        .filter(|r| r.geography_level == GeographyLevel::Regional)
        .map(|r| r.la_code.clone().unwrap())
        .collect();
    assert_eq!(regions.len(), 11); // 9 regions + Inner and Outer London
}

/// Workforce indicators line 70: the combined North / West Northamptonshire row is kept
/// verbatim, with a note.
fn workforce_combined_la(p: &Parsed) {
    let r = find_y(&p.rows, 2025, "E06000061 / E06000062", "inpost_fte");
    assert_eq!(
        (r.value, r.la_code_old.as_deref()),
        (Some(421.5), Some("940 / 941"))
    );
    assert!(p
        .notes
        .iter()
        .any(|n| n.line == Some(70) && n.message.contains("combined LA")));
}

/// The workforce headline file (UTF-8 BOM on `time_period`) parses: BOM stripped.
fn workforce_headline_bom(p: &Parsed) {
    assert!(p
        .rows
        .iter()
        .any(|r| r.year == 2017 && r.measure == "vacancy_rate_fte_%"));
}

/// a7: the trailing space in the category value is trimmed.
fn a7_category_trimmed(p: &Parsed) {
    assert!(
        p.rows[0]
            .measure
            .starts_with("number[category=Children in Need at 31 March,characteristic="),
        "{}",
        p.rows[0].measure
    );
}

/// Excerpts of the five nomis files (ONS mid-year estimates by upper-tier LA, April 2021
/// boundaries): five lines of preamble, the header, a blank line, then LAs of all four
/// nations; popest-0-4.csv keeps more of them than the others.
#[test]
fn nomis_every_file() {
    let dir = excerpts_dir();
    let files = [
        ("popest-0-4.csv", "population_age_0_4", 8),
        ("popest-5-9.csv", "population_age_5_9", 2),
        ("popest-10-14.csv", "population_age_10_14", 2),
        ("popest-15.csv", "population_age_15", 2),
        ("popest-16.csv", "population_age_16", 2),
    ];
    for (f, measure, n_lines) in files {
        let rel = format!("population/nomis_2009-2021/{f}");
        let bytes = read(&dir, &rel);
        let p = parse_nomis_popest("nomis", &rel, &bytes).unwrap_or_else(|e| panic!("{e}"));
        let (lines, header) = csv_shape(&bytes, Some("mnemonic"));
        assert_eq!((lines, header.len()), (n_lines, 2 + 13), "{rel}"); // 2009 .. 2021
        assert_eq!(p.rows.len(), lines * (header.len() - 2), "{rel}");
        assert!(
            p.rows
                .iter()
                .all(|r| r.measure == measure && r.status == Status::Ok),
            "{rel}"
        );
        // Darlington (E06000005) is the first LA of every file
        assert!(
            p.rows
                .iter()
                .any(|r| r.la_code.as_deref() == Some("E06000005") && r.year == 2021),
            "{rel}"
        );
    }
    let rel = "population/nomis_2009-2021/popest-0-4.csv";
    let p = parse_nomis_popest("nomis", rel, &read(&dir, rel)).unwrap();
    // five English LAs; the Welsh, Scottish and Northern Irish rows are kept but are not
    // English local authorities
    let las: std::collections::BTreeSet<_> = p
        .rows
        .iter()
        .filter(|r| r.geography_level == GeographyLevel::LocalAuthority && r.year == 2021)
        .map(|r| r.la_code.clone().unwrap())
        .collect();
    assert_eq!(
        las.into_iter().collect::<Vec<_>>(),
        [
            "E06000001",
            "E06000002",
            "E06000005",
            "E06000010",
            "E06000047"
        ]
    );
    for code in ["W06000001", "S12000033", "N09000001"] {
        let r = find_y(&p.rows, 2021, code, "population_age_0_4");
        assert_ne!(r.geography_level, GeographyLevel::LocalAuthority, "{code}");
    }
    // popest-0-4.csv line 9: "Darlington","E06000005",6440 (2009) … 5473 (2021)
    assert_eq!(
        find_y(&p.rows, 2009, "E06000005", "population_age_0_4").value,
        Some(6440.0)
    );
    assert_eq!(
        find_y(&p.rows, 2021, "E06000005", "population_age_0_4").value,
        Some(5473.0)
    );
    assert_eq!(
        find_y(&p.rows, 2021, "E06000005", "population_age_0_4").la_name,
        "Darlington"
    );
    // line 45: "Kingston upon Hull, City of" (quoted comma in a name)
    let hull = find_y(&p.rows, 2009, "E06000010", "population_age_0_4");
    assert_eq!(
        (hull.value, hull.la_name.as_str()),
        (Some(16483.0), "Kingston upon Hull, City of")
    );
}
