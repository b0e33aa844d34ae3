//! The DfE "Characteristics of children in need" underlying-data CSVs, 2009-10 … 2016-17
//! (`cin_census/<year>/*.csv`), and their Annex A metadata text files.
//!
//! # Layout
//! One wide CSV per year: a header row, then one row for England (`geog_l = National`) and one
//! per LA (`geog_l = LA`, 152 of them); no regional rows in the published files, but a
//! `Region`/`Regional`/`GOR` level would be kept as [`GeographyLevel::Regional`]. Columns
//! begin `geog_l, geog_c, [new_la_code from 2012-13], geog_n`; every other column is a measure
//! and becomes one [`TidyRow`] per data row, `measure` = the column name as published (trimmed),
//! including the `…DCI` data-confidence companions (values 3/2/1 as numbers).
//!
//! # Missing values
//! `x` suppressed, `..` not available, `.` not applicable, empty → blank. In `…DCI` columns
//! only, two further codes occur and are mapped to `not_available` with a
//! [`NoteKind::CodeMapped`] note per cell keeping the original code: `A` (2009-10, 2010-11:
//! the LA supplied aggregate figures) and `P` (2011-12 … 2014-15: the LA was piloting new
//! assessment arrangements). Any other non-numeric value is an error.
//!
//! # Publisher errors corrected (each reported as a [`NoteKind::Correction`] note)
//! * The England row's `new_la_code` is `E06000046` (Isle of Wight's code) in 2012-13, and
//!   also in 2013-14, 2014-15 and 2016-17: it is set to `E92000001`. Files without
//!   `new_la_code` (2009-10 … 2011-12) get `E92000001` for England without a note.
//! * The England row's `geog_c` is `921` (again Isle of Wight's old code) in 2009-10 …
//!   2011-12: England has no old LA code, so `la_code_old` is set to none.
//!
//! # Year
//! The caller passes the reporting year (`year` = the calendar year it ends: 2013 for
//! 2012-13). Column names carry year suffixes (`Referrals1213`, `CINAt310313`,
//! `S47in0910`); [`detect_year_suffix`] reads them, and the year most columns carry must equal
//! `year`, or parsing fails. Stray columns whose suffix disagrees (the published
//! `CINAt310314RatePer10K` in 2014-15, `CINAt310316` in 2016-17) are kept as published, with a
//! [`NoteKind::YearSuffix`] note. The last column is the mid-year 0-17 population
//! (`Mid2009Pop0-17`, `Mid2013Pop017`): mid-year of `year - 1`.

use super::common::{
    blank_rows_note, classify, decode_text, err, field_count_error, non_empty, note, read_records,
    unknown_code_error, Cell, Note, NoteKind, Parsed, Record,
};
use super::tidy::{CleanError, GeographyLevel, Status, TidyRow};
use std::collections::BTreeMap;

/// Missing-value codes of the CIN census underlying data.
pub const CIN_CODES: &[(&str, Status)] = &[
    ("x", Status::Suppressed),
    ("..", Status::NotAvailable),
    (".", Status::NotApplicable),
];

/// Codes allowed only in `…DCI` (data confidence indicator) columns, with their meaning.
pub const DCI_EXTRA_CODES: &[(&str, Status, &str)] = &[
    (
        "A",
        Status::NotAvailable,
        "aggregate figures were supplied by the LA",
    ),
    (
        "P",
        Status::NotAvailable,
        "the LA was piloting new assessment arrangements",
    ),
];

const ENGLAND_CODE: &str = "E92000001";

/// One variable of a CIN census metadata file's Annex A.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VariableDefinition {
    /// The variable (column) name as written in the metadata, trimmed.
    pub variable: String,
    /// Its description, whitespace runs collapsed to single spaces.
    pub description: String,
    /// 1-based line of the metadata file where the definition starts.
    pub line: usize,
}

/// The reporting year (calendar year it ends) a CIN census column name's suffix refers to:
/// `Referrals0910` → 2010, `CINAt310313` → 2013, `S47in0910` → 2010,
/// `%ReferralsWithin12mths1213` → 2013, `SAs41-45days1314` → 2014. None when the name has no
/// recognisable suffix (`geog_c`, `CINRatePer10K`, `ReferralsNFA112`) and for the population
/// column (`Mid2012Pop0-17`; see [`population_mid_year`]).
pub fn detect_year_suffix(column: &str) -> Option<i32> {
    if population_mid_year(column).is_some() {
        return None;
    }
    let mut found = None;
    for run in digit_runs(column) {
        let b = run.as_bytes();
        let yy = |i: usize| -> i32 { ((b[i] - b'0') * 10 + (b[i + 1] - b'0')) as i32 };
        let century = |y: i32| if y < 50 { 2000 + y } else { 1900 + y };
        if b.len() == 6 && run.starts_with("3103") {
            // "at 31 March YY"
            found = Some(century(yy(4)));
        } else if b.len() >= 4 {
            let n = b.len();
            let (first, second) = (yy(n - 4), yy(n - 2));
            if second == (first + 1) % 100 {
                found = Some(century(second));
            }
        }
    }
    found
}

/// The mid-year of a population column (`Mid2012Pop0-17` → 2012), else None.
pub fn population_mid_year(column: &str) -> Option<i32> {
    let rest = column.strip_prefix("Mid")?;
    let digits = rest.get(..4)?;
    if !digits.bytes().all(|b| b.is_ascii_digit()) || !rest[4..].starts_with("Pop") {
        return None;
    }
    digits.parse().ok()
}

fn digit_runs(s: &str) -> impl Iterator<Item = &str> {
    s.split(|c: char| !c.is_ascii_digit())
        .filter(|r| !r.is_empty())
}

fn is_dci(column: &str) -> bool {
    column.len() >= 3 && column[column.len() - 3..].eq_ignore_ascii_case("DCI")
}

fn level_of(geog_l: &str) -> Option<GeographyLevel> {
    match geog_l.to_ascii_lowercase().as_str() {
        "national" | "england" | "country" => Some(GeographyLevel::National),
        "la" | "local authority" | "local_authority" => Some(GeographyLevel::LocalAuthority),
        "region" | "regional" | "gor" => Some(GeographyLevel::Regional),
        _ => None,
    }
}

fn format_year(year: i32) -> String {
    format!("{}-{:02}", year - 1, year.rem_euclid(100))
}

/// Parses one CIN census underlying-data CSV for the reporting year ending in `year`
/// (2013 = 2012-13). See the module docs for the layout, codes and corrections.
pub fn parse_cin_census(
    source: &str,
    file_label: &str,
    bytes: &[u8],
    year: i32,
) -> Result<Parsed, CleanError> {
    let mut out = Parsed::default();
    let (text, enc_note) = decode_text(file_label, bytes);
    out.notes.extend(enc_note);
    let records = read_records(file_label, &text)?;
    let mut iter = records.into_iter().skip_while(Record::is_blank);
    let header = iter.next().ok_or_else(|| {
        err(
            file_label,
            None,
            None,
            "the file is empty (no header row)",
            "check that the right file was given; re-download it if it is damaged",
        )
    })?;
    let data: Vec<Record> = iter.collect();
    let ids = IdColumns::resolve(file_label, &header)?;
    if ids.new_la_code.is_none() && year >= 2013 {
        out.notes.push(note(
            NoteKind::Structure,
            file_label,
            Some(header.line),
            Some("new_la_code"),
            "no new_la_code column (present in the published files from 2012-13); LA rows get no ONS code",
        ));
    }
    let measures = measure_columns(file_label, &header, &data, &ids, &mut out.notes)?;
    check_year_suffixes(file_label, header.line, &measures, year, &mut out)?;
    let reader = RowReader {
        source,
        file_label,
        year,
        header: &header,
        las: LaIndex::of(&header, &data, &ids),
        ids,
        measures,
    };
    let (blank_lines, other_levels) = reader.read_rows(&data, &mut out)?;
    out.notes.extend(blank_rows_note(file_label, &blank_lines));
    for (value, line) in other_levels {
        out.notes.push(note(
            NoteKind::Structure,
            file_label,
            Some(line),
            Some(&header.fields[ids.geog_l]),
            format!(
                "geog_l `{value}` is not National/LA/Region; rows kept with geography level other"
            ),
        ));
    }
    Ok(out)
}

/// Positions of the identifying columns `geog_l, geog_c, [new_la_code,] geog_n`.
#[derive(Clone, Copy)]
struct IdColumns {
    geog_l: usize,
    geog_c: usize,
    geog_n: usize,
    new_la_code: Option<usize>,
}

impl IdColumns {
    /// Finds the identifying columns by name; all but `new_la_code` must be there.
    fn resolve(file_label: &str, header: &Record) -> Result<IdColumns, CleanError> {
        let find = |name: &str| {
            header
                .fields
                .iter()
                .position(|h| h.eq_ignore_ascii_case(name))
        };
        let need = |name: &str| {
            find(name).ok_or_else(|| {
                err(
                    file_label,
                    Some(header.line),
                    Some(name),
                    format!("expected column `{name}` is missing from the header"),
                    "a CIN census underlying-data file starts `geog_l, geog_c, [new_la_code,] \
                     geog_n`; check that this is such a file (not its metadata or another table) \
                     and that the header row is the first line",
                )
            })
        };
        Ok(IdColumns {
            geog_l: need("geog_l")?,
            geog_c: need("geog_c")?,
            geog_n: need("geog_n")?,
            new_la_code: find("new_la_code"),
        })
    }

    /// Whether column `i` is one of the identifying columns (not a measure).
    fn contains(&self, i: usize) -> bool {
        [self.geog_l, self.geog_c, self.geog_n].contains(&i) || self.new_la_code == Some(i)
    }
}

/// The measure columns (every column but the identifying ones), as (position, name): names
/// must be unique, and a nameless column must be empty (it is then ignored, with a note).
fn measure_columns<'h>(
    file_label: &str,
    header: &'h Record,
    data: &[Record],
    ids: &IdColumns,
    notes: &mut Vec<Note>,
) -> Result<Vec<(usize, &'h str)>, CleanError> {
    let mut measures: Vec<(usize, &str)> = Vec::new();
    let mut seen: BTreeMap<&str, usize> = BTreeMap::new();
    for (i, h) in header.fields.iter().enumerate() {
        if ids.contains(i) {
            continue;
        }
        if h.is_empty() {
            if data
                .iter()
                .all(|r| r.fields.get(i).is_none_or(|f| f.is_empty()))
            {
                notes.push(note(
                    NoteKind::Structure,
                    file_label,
                    Some(header.line),
                    None,
                    format!("column {} has no name and no values; ignored", i + 1),
                ));
                continue;
            }
            return Err(err(
                file_label,
                Some(header.line),
                Some(&format!("#{}", i + 1)),
                format!("column {} has no name but holds values", i + 1),
                "every measure column needs a name; check the header row for a stray comma",
            ));
        }
        if let Some(prev) = seen.insert(h.as_str(), i) {
            return Err(err(
                file_label,
                Some(header.line),
                Some(h),
                format!(
                    "column name `{h}` appears twice (columns {} and {})",
                    prev + 1,
                    i + 1
                ),
                "measure names must be unique; check whether the file was edited or concatenated",
            ));
        }
        measures.push((i, h.as_str()));
    }
    Ok(measures)
}

/// The LA rows by old (`geog_c`) and new (`new_la_code`) code, as (name, line): to say whose
/// code an England row wrongly carries.
struct LaIndex<'a> {
    by_old: BTreeMap<&'a str, (&'a str, usize)>,
    by_new: BTreeMap<&'a str, (&'a str, usize)>,
}

impl<'a> LaIndex<'a> {
    /// Indexes the LA rows that are as wide as the header (`geog_l` an LA level).
    fn of(header: &Record, data: &'a [Record], ids: &IdColumns) -> LaIndex<'a> {
        let la_rows = || {
            data.iter()
                .filter(|r| r.fields.len() == header.fields.len())
                .filter(|r| level_of(&r.fields[ids.geog_l]) == Some(GeographyLevel::LocalAuthority))
        };
        let by_code = |c: usize| {
            la_rows()
                .map(|r| {
                    (
                        r.fields[c].as_str(),
                        (r.fields[ids.geog_n].as_str(), r.line),
                    )
                })
                .collect()
        };
        LaIndex {
            by_old: by_code(ids.geog_c),
            by_new: ids.new_la_code.map(by_code).unwrap_or_default(),
        }
    }
}

/// Reads the data rows of one file once its columns are resolved.
struct RowReader<'a> {
    source: &'a str,
    file_label: &'a str,
    year: i32,
    header: &'a Record,
    ids: IdColumns,
    measures: Vec<(usize, &'a str)>,
    las: LaIndex<'a>,
}

impl RowReader<'_> {
    /// Reads every data row into `out`; returns the blank lines skipped and the unknown
    /// `geog_l` values met, each with the first line it is on.
    fn read_rows(
        &self,
        data: &[Record],
        out: &mut Parsed,
    ) -> Result<(Vec<usize>, BTreeMap<String, usize>), CleanError> {
        let width = self.header.fields.len();
        let mut blank_lines = Vec::new();
        let mut other_levels: BTreeMap<String, usize> = BTreeMap::new();
        out.rows.reserve(data.len() * self.measures.len());
        for rec in data {
            if rec.is_blank() {
                blank_lines.push(rec.line);
                continue;
            }
            if rec.fields.len() != width {
                return Err(field_count_error(
                    self.file_label,
                    rec.line,
                    rec.fields.len(),
                    width,
                ));
            }
            let level = self.level(rec, &mut other_levels)?;
            self.read_row(rec, level, out)?;
        }
        Ok((blank_lines, other_levels))
    }

    /// The row's `geog_l` as a geography level (an unknown one is kept as other).
    fn level(
        &self,
        rec: &Record,
        other_levels: &mut BTreeMap<String, usize>,
    ) -> Result<GeographyLevel, CleanError> {
        let text = &rec.fields[self.ids.geog_l];
        match level_of(text) {
            Some(l) => Ok(l),
            None if text.is_empty() => Err(err(
                self.file_label,
                Some(rec.line),
                Some(&self.header.fields[self.ids.geog_l]),
                "geog_l (geography level) is empty",
                "each row must say National, LA (or a region level); fix the row",
            )),
            None => {
                other_levels.entry(text.clone()).or_insert(rec.line);
                Ok(GeographyLevel::Other)
            }
        }
    }

    /// One tidy row per measure cell of a data row.
    fn read_row(
        &self,
        rec: &Record,
        level: GeographyLevel,
        out: &mut Parsed,
    ) -> Result<(), CleanError> {
        let f = &rec.fields;
        let la_name = f[self.ids.geog_n].clone();
        let mut la_code_old = non_empty(&f[self.ids.geog_c]);
        let mut la_code = self.ids.new_la_code.and_then(|n| non_empty(&f[n]));
        if level == GeographyLevel::National {
            self.correct_england(rec, &mut la_code_old, &mut la_code, &mut out.notes);
        }
        for &(i, measure) in &self.measures {
            let (value, status) = self.cell(rec, i, measure, &la_name, &mut out.notes)?;
            out.rows.push(TidyRow {
                source: self.source.to_string(),
                year: self.year,
                la_code_old: la_code_old.clone(),
                la_code: la_code.clone(),
                la_name: la_name.clone(),
                geography_level: level,
                measure: measure.to_string(),
                value,
                status,
            });
        }
        Ok(())
    }

    /// The England row's codes: no old LA code, and `E92000001` whatever `new_la_code` says
    /// (the publisher's errors are corrected with a note).
    fn correct_england(
        &self,
        rec: &Record,
        la_code_old: &mut Option<String>,
        la_code: &mut Option<String>,
        notes: &mut Vec<Note>,
    ) {
        let correction = |column: &str, message: String| {
            note(
                NoteKind::Correction,
                self.file_label,
                Some(rec.line),
                Some(column),
                message,
            )
        };
        if let Some(old) = la_code_old.take() {
            let whose = self
                .las
                .by_old
                .get(old.as_str())
                .map(|(n, l)| format!(", the old code of {n} (line {l})"))
                .unwrap_or_default();
            notes.push(correction(
                &self.header.fields[self.ids.geog_c],
                format!(
                    "England row carries geog_c `{old}`{whose}; England has no old LA code, set to none"
                ),
            ));
        }
        match la_code.as_deref() {
            Some(ENGLAND_CODE) => {}
            Some(other) => {
                let whose = self
                    .las
                    .by_new
                    .get(other)
                    .map(|(n, l)| format!(", the code of {n} (line {l})"))
                    .unwrap_or_default();
                notes.push(correction(
                    "new_la_code",
                    format!(
                        "England row carries new_la_code `{other}`{whose}; set to {ENGLAND_CODE}"
                    ),
                ));
            }
            None if self.ids.new_la_code.is_some() => notes.push(correction(
                "new_la_code",
                format!("England row has an empty new_la_code; set to {ENGLAND_CODE}"),
            )),
            None => {}
        }
        *la_code = Some(ENGLAND_CODE.to_string());
    }

    /// A measure cell's value and status; a DCI column's `A` / `P` is mapped with a note.
    fn cell(
        &self,
        rec: &Record,
        i: usize,
        measure: &str,
        la_name: &str,
        notes: &mut Vec<Note>,
    ) -> Result<(Option<f64>, Status), CleanError> {
        let cell = rec.fields[i].as_str();
        match classify(cell, CIN_CODES) {
            Cell::Value(v) => Ok((Some(v), Status::Ok)),
            Cell::Code(s) => Ok((None, s)),
            Cell::Unknown => {
                let extra = if is_dci(measure) {
                    DCI_EXTRA_CODES.iter().find(|(c, _, _)| *c == cell)
                } else {
                    None
                };
                let Some((code, st, meaning)) = extra else {
                    return Err(unknown_code_error(
                        self.file_label,
                        rec.line,
                        measure,
                        cell,
                        "CIN census",
                        CIN_CODES,
                        "cin_census.rs (CIN_CODES, or DCI_EXTRA_CODES for DCI columns)",
                    ));
                };
                notes.push(note(
                    NoteKind::CodeMapped,
                    self.file_label,
                    Some(rec.line),
                    Some(measure),
                    format!(
                        "DCI `{code}` ({meaning}) for {} {la_name}: kept as status {}",
                        rec.fields[self.ids.geog_c],
                        st.as_str()
                    ),
                ));
                Ok((None, *st))
            }
        }
    }
}

/// Checks the column-name year suffixes against `year` (see the module docs).
fn check_year_suffixes(
    file_label: &str,
    header_line: usize,
    measures: &[(usize, &str)],
    year: i32,
    out: &mut Parsed,
) -> Result<(), CleanError> {
    let mut by_year: BTreeMap<i32, Vec<&str>> = BTreeMap::new();
    for &(_, m) in measures {
        if let Some(y) = detect_year_suffix(m) {
            by_year.entry(y).or_default().push(m);
        }
        if let Some(mid) = population_mid_year(m) {
            if mid != year - 1 {
                out.notes.push(note(
                    NoteKind::YearSuffix,
                    file_label,
                    Some(header_line),
                    Some(m),
                    format!(
                        "population column is for mid-{mid}, expected mid-{} for {}",
                        year - 1,
                        format_year(year)
                    ),
                ));
            }
        }
    }
    let total: usize = by_year.values().map(Vec::len).sum();
    if total == 0 {
        out.notes.push(note(
            NoteKind::YearSuffix,
            file_label,
            Some(header_line),
            None,
            format!(
                "no column carries a year suffix; could not check the file is for {}",
                format_year(year)
            ),
        ));
        return Ok(());
    }
    let (&dominant, cols) = by_year
        .iter()
        .max_by_key(|(y, v)| (v.len(), **y))
        .expect("non-empty");
    if dominant != year {
        return Err(err(
            file_label,
            Some(header_line),
            Some(cols[0]),
            format!(
                "the column names are for {} ({} of {} year-suffixed columns, e.g. `{}`), but the \
                 file was given as {}",
                format_year(dominant),
                cols.len(),
                total,
                cols.iter()
                    .take(3)
                    .copied()
                    .collect::<Vec<_>>()
                    .join("`, `"),
                format_year(year)
            ),
            format!(
                "check the year this file is registered under (a {} file is year {dominant}) or \
                 whether the wrong file sits in this year's folder",
                format_year(dominant)
            ),
        ));
    }
    for (&y, cols) in &by_year {
        if y == year {
            continue;
        }
        for c in cols {
            out.notes.push(note(
                NoteKind::YearSuffix,
                file_label,
                Some(header_line),
                Some(c),
                format!(
                    "column name suffix says {} but the file is {}; kept as published (likely a \
                     publisher labelling slip)",
                    format_year(y),
                    format_year(year)
                ),
            ));
        }
    }
    Ok(())
}

/// Reads the Annex A (variable definitions) of a CIN census metadata text file into
/// `(variable, description)` pairs, in file order. The files are Windows-1252/latin-1 (UTF-8
/// is accepted too).
///
/// Layouts met: `name:<spaces or tabs>description` (2009-10 … 2015-16), with stray spaces in
/// some names (`% CINEnding1011DurationUnknown`, `%CPPCeased6mthsDurationAnother LA1112`), no
/// space after the colon (2014-15), and in 2016-17 some lines with no colon at all
/// (`name<tabs>description`). Lines that fit neither form are taken as the continuation of the
/// previous description. If the file has no `Annex A` heading the whole file is scanned. Best
/// effort: a garbled source line (2016-17's `CINEpisodesEnding<tabs>RatePer10KRate of …`) is
/// read as written. Errors only when no definition at all is found.
pub fn parse_cin_metadata(
    file_label: &str,
    bytes: &[u8],
) -> Result<Vec<VariableDefinition>, CleanError> {
    let (text, _) = decode_text(file_label, bytes);
    let lines: Vec<&str> = text.lines().collect();
    let start = lines
        .iter()
        .position(|l| {
            l.trim()
                .trim_end_matches(':')
                .eq_ignore_ascii_case("annex a")
        })
        .map(|i| i + 1)
        .unwrap_or(0);
    let mut defs: Vec<VariableDefinition> = Vec::new();
    let mut last_was_def = false;
    for (i, raw) in lines.iter().enumerate().skip(start) {
        let line = raw.trim();
        if line.is_empty() {
            last_was_def = false;
            continue;
        }
        match split_definition(line) {
            Some((var, desc)) => {
                defs.push(VariableDefinition {
                    variable: var.to_string(),
                    description: collapse_ws(desc),
                    line: i + 1,
                });
                last_was_def = true;
            }
            None if last_was_def && start > 0 => {
                let d = defs.last_mut().expect("last_was_def");
                if !d.description.is_empty() {
                    d.description.push(' ');
                }
                d.description.push_str(&collapse_ws(line));
            }
            None => last_was_def = false,
        }
    }
    if defs.is_empty() {
        return Err(err(
            file_label,
            None,
            None,
            "no variable definitions (`name: description` lines) found",
            "give the metadata .txt file that accompanies a CIN census CSV; its Annex A lists \
             the variables",
        ));
    }
    Ok(defs)
}

/// Splits a metadata line into (variable, description) if it looks like a definition.
fn split_definition(line: &str) -> Option<(&str, &str)> {
    let looks_like_name = |s: &str| {
        !s.is_empty()
            && s.len() <= 80
            && (!s.contains(' ')
                || (s.matches(' ').count() == 1
                    && s.contains(|c: char| c.is_ascii_digit() || c == '%')))
            && !s.contains('\t')
            && !s.contains("http")
            && s.chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphanumeric() || c == '%' || c == '_')
    };
    if let Some((name, desc)) = line.split_once(':') {
        let name = name.trim();
        if looks_like_name(name) && !name.contains("  ") {
            return Some((name, desc.trim()));
        }
    }
    // `name<tab(s) or 2+ spaces>description`
    let cut = line.find('\t').or_else(|| line.find("  "))?;
    let name = line[..cut].trim();
    if looks_like_name(name) && !name.contains(' ') {
        return Some((name, line[cut..].trim()));
    }
    None
}

fn collapse_ws(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn year_suffixes() {
        let cases = [
            ("Referrals0910", Some(2010)),
            ("CINAt310313", Some(2013)),
            ("CINAt310310Male10-15yrs", Some(2010)),
            ("%ReferralsWithin12mths1213", Some(2013)),
            ("S47in0910", Some(2010)),
            ("%ICPC15daysofS470910", Some(2010)),
            ("IAs1-5days1213", Some(2013)),
            ("SAs41-45days1314", Some(2014)),
            ("CPPduring201314", Some(2014)),
            ("CINAt310314RatePer10K", Some(2014)),
            ("CPPCeased6mthsDuration36mths1314", Some(2014)),
            ("ReferralsNFA112", None),
            ("CPPat31031AbuseDCI", None),
            ("CINRatePer10K", None),
            ("ICPC75thPercentile", None),
            ("Mid2009Pop0-17", None),
            ("geog_c", None),
        ];
        for (c, y) in cases {
            assert_eq!(detect_year_suffix(c), y, "{c}");
        }
        assert_eq!(population_mid_year("Mid2013Pop017"), Some(2013));
        assert_eq!(population_mid_year("Referrals1213"), None);
    }

    #[test]
    fn definitions() {
        assert_eq!(
            split_definition("geog_l:     Geography Level"),
            Some(("geog_l", "Geography Level"))
        );
        assert_eq!(
            split_definition("CINAt310317\t\t\tNumber of children"),
            Some(("CINAt310317", "Number of children"))
        );
        assert_eq!(
            split_definition("Data quality: this is prose, not a name"),
            None
        );
        assert_eq!(
            split_definition("% CINEnding1011DurationUnknown:  Pct"),
            Some(("% CINEnding1011DurationUnknown", "Pct"))
        );
        assert_eq!(split_definition("continued text"), None);
    }

    #[test]
    fn dci_columns() {
        assert!(
            is_dci("IAs1213DCI")
                && is_dci("CPPReviewedinTimescalesDCI")
                && !is_dci("Referrals1213")
        );
    }
}
