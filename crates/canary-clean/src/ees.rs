//! DfE "explore education statistics" (EES) tidy CSVs: `dfe_tidy/*.csv`,
//! `dfe_tidy/cin_release_2021-22/*.csv`, `workforce/*.csv` and the DfE's republication of the
//! ONS 0-17 population (`dfe_tidy/ons_mid-year_population_estimates_2012_to_2024.csv`).
//!
//! # Layout
//! Long files, one row per period × geography × filter combination. Standard columns
//! `time_period, time_identifier, geographic_level, country_code, country_name, region_code,
//! region_name, old_la_code, new_la_code, la_name` — found by name, not position (the
//! children-looked-after file puts `la_name` before `new_la_code`; the national-only `a1`…`a7`
//! files stop at `country_name`). The other columns are either **filters** (text: `category`
//! / `Category`, `category_type`, `characteristic`, `characteristic_type`, `age_group`,
//! `population_type`, …) or **indicators** (numbers or missing-value codes). Each indicator
//! cell becomes one [`TidyRow`] with `measure` = `indicator` when the file has no filters,
//! else `indicator[filter1=value1,filter2=value2]`, filters in column order, names and values
//! as published (trimmed). Even a filter that is constant across the file (b1's `category =
//! Children in Need`) is kept in the name, so names do not depend on which rows a file holds.
//!
//! Filter detection (when [`EesOptions::filters`] is None): a column is a filter if its name
//! is a known EES filter name ([`KNOWN_FILTERS`], case-insensitive) or if most of its non-empty
//! cells are neither numbers nor missing-value codes. A mostly-numeric column with a stray
//! unknown value is therefore an indicator and fails loudly on that value. The filters chosen
//! are reported in a [`NoteKind::Structure`] note. Two rows with the same period, geography
//! and filter values are an error (a filter was probably missed: pass `filters` explicitly).
//!
//! # Geography
//! `geographic_level` `National` → [`GeographyLevel::National`] (code `country_code`, name
//! `country_name`); `Regional` → Regional (`region_code`, `region_name`; includes Inner and
//! Outer London, `E13…`); `Local authority` → LocalAuthority (`new_la_code`, `old_la_code`,
//! `la_name`); anything else (e.g. `Local authority district`) → Other, named from the most
//! specific name column present, with a note. Workforce files hold combined LAs
//! (`940 / 941` North / West Northamptonshire, `314 / 318` Kingston / Richmond): kept
//! verbatim as LA rows, codes and all, with a note per row.
//!
//! # Time
//! `time_period` `2013` or `201213` (→ 2013, the year the reporting year ends), also
//! `2012-13` / `2012/13`; plus [`EesOptions::year_offset`]. All files here say
//! `time_identifier = Reporting year`; workforce `time_period` is already the year after the
//! September census (Sept 2016 → 2017), and the ONS population file's `time_period` is the
//! mid-year of the estimate (2012 … 2024) — the caller decides any offset.
//!
//! # Missing values
//! `c` suppressed, `x` not available, `:` not available, `z` not applicable, `low` low,
//! `u` low (low reliability), empty → blank, and `..` not available (found in the 2021-22
//! release's `c1` referrals file, an old-style code). Thousands separators (`"389,260"` in
//! `headline_figures.csv`) are parsed. Anything else non-numeric is an error.

use super::common::{
    blank_rows_note, classify, decode_text, err, field_count_error, non_empty, note, read_records,
    unknown_code_error, Cell, Note, NoteKind, Parsed, Record,
};
use super::tidy::{CleanError, GeographyLevel, Status, TidyRow};
use std::collections::{BTreeMap, HashMap};

/// Missing-value codes of EES tidy files.
pub const EES_CODES: &[(&str, Status)] = &[
    ("c", Status::Suppressed),
    ("x", Status::NotAvailable),
    (":", Status::NotAvailable),
    ("z", Status::NotApplicable),
    ("low", Status::Low),
    ("u", Status::Low),
    ("..", Status::NotAvailable),
];

/// Column names (case-insensitive) always treated as filters by automatic detection.
pub const KNOWN_FILTERS: &[&str] = &[
    "category",
    "category_type",
    "characteristic",
    "characteristic_type",
    "characteristic_group",
    "breakdown",
    "breakdown_topic",
    "age_group",
    "population_type",
];

/// The standard EES time and geography columns (never filters or indicators).
pub const STANDARD_COLUMNS: &[&str] = &[
    "time_period",
    "time_identifier",
    "geographic_level",
    "country_code",
    "country_name",
    "region_code",
    "region_name",
    "old_la_code",
    "new_la_code",
    "la_name",
];

/// Other EES geography columns that may accompany non-standard levels (used for names of
/// `Other` rows; never filters or indicators).
const OTHER_GEOGRAPHY_COLUMNS: &[&str] = &[
    "lad_code",
    "lad_name",
    "pcon_code",
    "pcon_name",
    "english_devolved_area_code",
    "english_devolved_area_name",
    "opportunity_area_code",
    "opportunity_area_name",
    "ward_code",
    "ward_name",
];

/// How to read an EES file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EesOptions {
    /// The filter columns, by name (trimmed, case-insensitive). None → automatic detection
    /// (see the module docs). `Some(vec![])` → no filters: every non-standard column is an
    /// indicator. Measure names list filters in column order whatever the order here.
    pub filters: Option<Vec<String>>,
    /// Columns to leave out entirely (neither filter nor indicator), e.g. a free-text notes
    /// column; each is reported in a note.
    pub ignore: Vec<String>,
    /// Added to the year read from `time_period`.
    pub year_offset: i32,
}

/// Period, geography and filter values: what must be unique per data row.
type RowKey<'a> = (i32, GeographyLevel, Option<String>, String, Vec<&'a str>);

#[derive(Clone, Copy, PartialEq, Eq)]
enum Role {
    Standard,
    Filter,
    Indicator,
    Ignored,
}

/// Parses one EES tidy CSV. See the module docs.
pub fn parse_ees(
    source: &str,
    file_label: &str,
    bytes: &[u8],
    options: &EesOptions,
) -> Result<Parsed, CleanError> {
    let mut out = Parsed::default();
    let (text, enc_note) = decode_text(file_label, bytes);
    out.notes.extend(enc_note);
    let table = EesTable::read(file_label, read_records(file_label, &text)?)?;
    let columns = StandardColumns::resolve(file_label, &table)?;
    let roles = column_roles(file_label, &table, options)?;
    let measures = MeasureColumns::from_roles(file_label, &table, &roles)?;
    out.notes
        .push(measures.layout_note(file_label, &table, options.filters.is_some()));
    for (i, r) in roles.iter().enumerate() {
        if *r == Role::Ignored {
            out.notes.push(note(
                NoteKind::Structure,
                file_label,
                Some(table.header_line),
                Some(&table.header[i]),
                "column ignored as asked (EesOptions.ignore)",
            ));
        }
    }
    let reader = RowReader {
        source,
        file_label,
        table: &table,
        columns,
        measures,
        year_offset: options.year_offset,
    };
    let other_levels = reader.read_rows(&mut out)?;
    out.notes
        .extend(blank_rows_note(file_label, &table.blank_lines));
    for (value, line) in other_levels {
        out.notes.push(note(
            NoteKind::Structure,
            file_label,
            Some(line),
            Some("geographic_level"),
            format!("geographic_level `{value}` kept as geography level other"),
        ));
    }
    Ok(out)
}

/// The header row (the first non-blank line) and the data rows under it.
struct EesTable {
    header: Vec<String>,
    header_line: usize,
    data: Vec<Record>,
    /// Lines whose every field is empty, skipped (and reported in one note).
    blank_lines: Vec<usize>,
}

impl EesTable {
    /// Splits the records into the header row and data rows, each as wide as the header.
    fn read(file_label: &str, records: Vec<Record>) -> Result<EesTable, CleanError> {
        let mut iter = records.into_iter().skip_while(Record::is_blank);
        let header_rec = iter.next().ok_or_else(|| {
            err(
                file_label,
                None,
                None,
                "the file is empty (no header row)",
                "check that the right file was given; re-download it if it is damaged",
            )
        })?;
        let header = header_rec.fields;
        let mut data = Vec::new();
        let mut blank_lines = Vec::new();
        for r in iter {
            if r.is_blank() {
                blank_lines.push(r.line);
            } else if r.fields.len() != header.len() {
                return Err(field_count_error(
                    file_label,
                    r.line,
                    r.fields.len(),
                    header.len(),
                ));
            } else {
                data.push(r);
            }
        }
        Ok(EesTable {
            header,
            header_line: header_rec.line,
            data,
            blank_lines,
        })
    }

    /// The position of a header column, by name (case-insensitive).
    fn find(&self, name: &str) -> Option<usize> {
        self.header
            .iter()
            .position(|h| h.eq_ignore_ascii_case(name))
    }
}

/// Positions of the standard time and geography columns (only the first two are required).
struct StandardColumns {
    time_period: usize,
    geographic_level: usize,
    country_code: Option<usize>,
    country_name: Option<usize>,
    region_code: Option<usize>,
    region_name: Option<usize>,
    old_la_code: Option<usize>,
    new_la_code: Option<usize>,
    la_name: Option<usize>,
}

impl StandardColumns {
    /// Finds the standard columns by name; `time_period` and `geographic_level` must be there.
    fn resolve(file_label: &str, table: &EesTable) -> Result<StandardColumns, CleanError> {
        let need = |name: &str| {
            table.find(name).ok_or_else(|| {
                err(
                    file_label,
                    Some(table.header_line),
                    Some(name),
                    format!("expected column `{name}` is missing from the header"),
                    format!(
                        "an EES tidy file has the standard columns {}; check that this is such a \
                         file and that its header is the first line (header found: {})",
                        STANDARD_COLUMNS.join(", "),
                        table.header.join(", ")
                    ),
                )
            })
        };
        Ok(StandardColumns {
            time_period: need("time_period")?,
            geographic_level: need("geographic_level")?,
            country_code: table.find("country_code"),
            country_name: table.find("country_name"),
            region_code: table.find("region_code"),
            region_name: table.find("region_name"),
            old_la_code: table.find("old_la_code"),
            new_la_code: table.find("new_la_code"),
            la_name: table.find("la_name"),
        })
    }
}

/// Gives every column its role: standard, ignored, filter (as given or detected) or indicator.
fn column_roles(
    file_label: &str,
    table: &EesTable,
    options: &EesOptions,
) -> Result<Vec<Role>, CleanError> {
    let (header, hl) = (&table.header, table.header_line);
    let mut roles = vec![Role::Indicator; header.len()];
    for (i, h) in header.iter().enumerate() {
        let lower = h.to_ascii_lowercase();
        if STANDARD_COLUMNS.contains(&lower.as_str())
            || OTHER_GEOGRAPHY_COLUMNS.contains(&lower.as_str())
        {
            roles[i] = Role::Standard;
        } else if options
            .ignore
            .iter()
            .any(|g| g.trim().eq_ignore_ascii_case(h))
        {
            roles[i] = Role::Ignored;
        }
    }
    for g in &options.ignore {
        if !header.iter().any(|h| h.eq_ignore_ascii_case(g.trim())) {
            return Err(missing_option_column(file_label, hl, g, "ignore", header));
        }
    }
    match &options.filters {
        Some(filters) => mark_given_filters(file_label, table, filters, &mut roles)?,
        None => {
            for (i, role) in roles.iter_mut().enumerate() {
                if *role == Role::Indicator && looks_like_filter(table, i) {
                    *role = Role::Filter;
                }
            }
        }
    }
    for (i, h) in header.iter().enumerate() {
        if roles[i] != Role::Standard && h.is_empty() {
            return Err(err(
                file_label,
                Some(hl),
                Some(&format!("#{}", i + 1)),
                format!("column {} has no name", i + 1),
                "every filter and indicator column needs a name; check the header for a stray comma",
            ));
        }
    }
    Ok(roles)
}

/// Marks the filters named in `EesOptions.filters`, each of which must be a non-standard,
/// non-ignored column of the file.
fn mark_given_filters(
    file_label: &str,
    table: &EesTable,
    filters: &[String],
    roles: &mut [Role],
) -> Result<(), CleanError> {
    let (header, hl) = (&table.header, table.header_line);
    for f in filters {
        match header.iter().position(|h| h.eq_ignore_ascii_case(f.trim())) {
            Some(i) if roles[i] == Role::Indicator => roles[i] = Role::Filter,
            Some(i) => {
                return Err(err(
                    file_label,
                    Some(hl),
                    Some(&header[i]),
                    format!(
                        "`{}` is given as a filter but is a standard or ignored column",
                        header[i]
                    ),
                    "list only the file's filter columns in EesOptions.filters",
                ))
            }
            None => return Err(missing_option_column(file_label, hl, f, "filters", header)),
        }
    }
    Ok(())
}

/// Filter detection: a known EES filter name, or mostly text (neither numbers nor codes).
fn looks_like_filter(table: &EesTable, i: usize) -> bool {
    let known = KNOWN_FILTERS
        .iter()
        .any(|k| k.eq_ignore_ascii_case(&table.header[i]));
    let (mut text, mut nonempty) = (0usize, 0usize);
    for r in &table.data {
        let v = r.fields[i].as_str();
        if v.is_empty() {
            continue;
        }
        nonempty += 1;
        if matches!(classify(v, EES_CODES), Cell::Unknown) {
            text += 1;
        }
    }
    known || (nonempty > 0 && text * 2 > nonempty)
}

/// The filter and indicator columns, in column order.
struct MeasureColumns {
    filters: Vec<usize>,
    indicators: Vec<usize>,
}

impl MeasureColumns {
    /// Collects the filters and indicators; indicator names must be unique and present.
    fn from_roles(
        file_label: &str,
        table: &EesTable,
        roles: &[Role],
    ) -> Result<MeasureColumns, CleanError> {
        let (header, hl) = (&table.header, table.header_line);
        let with_role = |role: Role| -> Vec<usize> {
            (0..header.len()).filter(|&i| roles[i] == role).collect()
        };
        let (filters, indicators) = (with_role(Role::Filter), with_role(Role::Indicator));
        let mut seen = BTreeMap::new();
        for &i in &indicators {
            if let Some(prev) = seen.insert(header[i].to_ascii_lowercase(), i) {
                return Err(err(
                    file_label,
                    Some(hl),
                    Some(&header[i]),
                    format!(
                        "indicator `{}` appears twice (columns {} and {})",
                        header[i],
                        prev + 1,
                        i + 1
                    ),
                    "indicator names must be unique; check whether the file was edited or concatenated",
                ));
            }
        }
        if indicators.is_empty() {
            return Err(err(
                file_label,
                Some(hl),
                None,
                "no indicator columns found",
                "every non-standard column was taken as a filter or ignored; pass EesOptions.filters \
                 listing the real filter columns",
            ));
        }
        Ok(MeasureColumns {
            filters,
            indicators,
        })
    }

    /// The note naming the filters (as given or detected) and the indicator columns.
    fn layout_note(&self, file_label: &str, table: &EesTable, given: bool) -> Note {
        let names = |v: &[usize]| {
            v.iter()
                .map(|&i| format!("`{}`", table.header[i]))
                .collect::<Vec<_>>()
                .join(", ")
        };
        note(
            NoteKind::Structure,
            file_label,
            Some(table.header_line),
            None,
            format!(
                "filters ({}): {}; {} indicator column(s): {}",
                if given { "as given" } else { "detected" },
                if self.filters.is_empty() {
                    "none".to_string()
                } else {
                    names(&self.filters)
                },
                self.indicators.len(),
                names(&self.indicators)
            ),
        )
    }
}

/// Where a data row sits: its geography level, codes and name.
struct RowGeography {
    level: GeographyLevel,
    la_code_old: Option<String>,
    la_code: Option<String>,
    la_name: String,
}

/// Reads the data rows of one file once its columns are resolved.
struct RowReader<'a> {
    source: &'a str,
    file_label: &'a str,
    table: &'a EesTable,
    columns: StandardColumns,
    measures: MeasureColumns,
    year_offset: i32,
}

impl<'a> RowReader<'a> {
    /// Reads every data row into `out`; returns the non-standard geographic levels met, each
    /// with the first line it is on.
    fn read_rows(&self, out: &mut Parsed) -> Result<BTreeMap<String, usize>, CleanError> {
        let mut keys: HashMap<RowKey<'a>, usize> = HashMap::new();
        let mut other_levels: BTreeMap<String, usize> = BTreeMap::new();
        out.rows
            .reserve(self.table.data.len() * self.measures.indicators.len());
        for rec in &self.table.data {
            let year = self.year(rec)?;
            let geo = self.geography(rec, &mut out.notes, &mut other_levels)?;
            self.check_unique(rec, year, &geo, &mut keys)?;
            self.push_indicators(rec, year, &geo, out)?;
        }
        Ok(other_levels)
    }

    /// The row's `time_period` as a year, plus `EesOptions.year_offset`.
    fn year(&self, rec: &Record) -> Result<i32, CleanError> {
        let i_time = self.columns.time_period;
        let cell = &rec.fields[i_time];
        let year = parse_time_period(cell).ok_or_else(|| {
            err(
                self.file_label,
                Some(rec.line),
                Some(&self.table.header[i_time]),
                format!("cannot read time_period `{cell}`"),
                "time_period must be a year (2013) or a two-year span (201213, 2012-13), the \
                 second year being the one after the first",
            )
        })?;
        Ok(year + self.year_offset)
    }

    /// The row's `geographic_level` and the codes and name that go with it.
    fn geography(
        &self,
        rec: &Record,
        notes: &mut Vec<Note>,
        other_levels: &mut BTreeMap<String, usize>,
    ) -> Result<RowGeography, CleanError> {
        let (f, c) = (&rec.fields, &self.columns);
        let get = |i: Option<usize>| i.map(|i| f[i].as_str()).unwrap_or("");
        let level_text = f[c.geographic_level].as_str();
        let missing = |name: &str| self.missing_geo_col(rec.line, level_text, name);
        Ok(match level_text.to_ascii_lowercase().as_str() {
            "national" => RowGeography {
                level: GeographyLevel::National,
                la_code_old: None,
                la_code: Some(
                    non_empty(get(c.country_code)).unwrap_or_else(|| "E92000001".to_string()),
                ),
                la_name: non_empty(get(c.country_name)).unwrap_or_else(|| "England".to_string()),
            },
            "regional" => {
                let name_i = c.region_name.ok_or_else(|| missing("region_name"))?;
                RowGeography {
                    level: GeographyLevel::Regional,
                    la_code_old: None,
                    la_code: non_empty(get(c.region_code)),
                    la_name: f[name_i].clone(),
                }
            }
            "local authority" => {
                let name_i = c.la_name.ok_or_else(|| missing("la_name"))?;
                if c.new_la_code.is_none() {
                    return Err(missing("new_la_code"));
                }
                let geo = RowGeography {
                    level: GeographyLevel::LocalAuthority,
                    la_code_old: non_empty(get(c.old_la_code)),
                    la_code: non_empty(get(c.new_la_code)),
                    la_name: f[name_i].clone(),
                };
                notes.extend(self.combined_la_note(rec.line, &geo, get(c.new_la_code)));
                geo
            }
            "" => {
                return Err(err(
                    self.file_label,
                    Some(rec.line),
                    Some(&self.table.header[c.geographic_level]),
                    "geographic_level is empty",
                    "each row must say National, Regional, Local authority (or another EES level)",
                ))
            }
            _ => {
                other_levels
                    .entry(level_text.to_string())
                    .or_insert(rec.line);
                self.other_geography(rec)
            }
        })
    }

    /// The note for a combined LA row (an `old_la_code` like `940 / 941`), if this is one.
    fn combined_la_note(&self, line: usize, geo: &RowGeography, new_code: &str) -> Option<Note> {
        let old = geo.la_code_old.as_deref()?;
        old.contains('/').then(|| {
            note(
                NoteKind::Structure,
                self.file_label,
                Some(line),
                Some("old_la_code"),
                format!(
                    "combined LA row (`{old}`, `{new_code}`, {}): codes kept verbatim; values \
                     are for the combined service",
                    geo.la_name
                ),
            )
        })
    }

    /// A row of a non-standard level, named from the most specific geography columns present.
    fn other_geography(&self, rec: &Record) -> RowGeography {
        let f = &rec.fields;
        let pick = |cands: &[&str]| {
            cands
                .iter()
                .find_map(|c| self.table.find(c).and_then(|i| non_empty(&f[i])))
        };
        let code = pick(&[
            "lad_code",
            "pcon_code",
            "ward_code",
            "english_devolved_area_code",
            "opportunity_area_code",
            "new_la_code",
            "region_code",
            "country_code",
        ]);
        let name = pick(&[
            "lad_name",
            "pcon_name",
            "ward_name",
            "english_devolved_area_name",
            "opportunity_area_name",
            "la_name",
            "region_name",
            "country_name",
        ]);
        RowGeography {
            level: GeographyLevel::Other,
            la_code_old: self.columns.old_la_code.and_then(|i| non_empty(&f[i])),
            la_code: code,
            la_name: name.unwrap_or_default(),
        }
    }

    /// The error for a row whose level needs a geography column the file lacks.
    fn missing_geo_col(&self, line: usize, level: &str, name: &str) -> CleanError {
        err(
            self.file_label,
            Some(line),
            Some(name),
            format!("a `{level}` row needs the column `{name}`, which the file lacks"),
            "check the header; EES files with sub-national rows carry region_code, region_name, \
             old_la_code, new_la_code and la_name",
        )
    }

    /// Period, geography and filter values must not repeat an earlier row's.
    fn check_unique(
        &self,
        rec: &'a Record,
        year: i32,
        geo: &RowGeography,
        keys: &mut HashMap<RowKey<'a>, usize>,
    ) -> Result<(), CleanError> {
        let filter_vals: Vec<&str> = self
            .measures
            .filters
            .iter()
            .map(|&i| rec.fields[i].as_str())
            .collect();
        let key = (
            year,
            geo.level,
            geo.la_code.clone(),
            geo.la_name.clone(),
            filter_vals,
        );
        match keys.insert(key, rec.line) {
            None => Ok(()),
            Some(prev) => Err(err(
                self.file_label,
                Some(rec.line),
                None,
                format!(
                    "this row repeats line {prev}: same time_period, geography ({}) and \
                     filter values, so its measures would collide",
                    geo.la_name
                ),
                "a filter column was probably not recognised; pass EesOptions.filters listing \
                 every filter column of this file",
            )),
        }
    }

    /// One tidy row per indicator cell, the measure named `indicator[filter=value,…]`.
    fn push_indicators(
        &self,
        rec: &Record,
        year: i32,
        geo: &RowGeography,
        out: &mut Parsed,
    ) -> Result<(), CleanError> {
        let (f, header) = (&rec.fields, &self.table.header);
        let suffix = if self.measures.filters.is_empty() {
            String::new()
        } else {
            let parts: Vec<String> = self
                .measures
                .filters
                .iter()
                .map(|&i| format!("{}={}", header[i], f[i]))
                .collect();
            format!("[{}]", parts.join(","))
        };
        for &i in &self.measures.indicators {
            let cell = f[i].as_str();
            let (value, status) = match classify(cell, EES_CODES) {
                Cell::Value(v) => (Some(v), Status::Ok),
                Cell::Code(s) => (None, s),
                Cell::Unknown => {
                    return Err(unknown_code_error(
                        self.file_label,
                        rec.line,
                        &header[i],
                        cell,
                        "EES",
                        EES_CODES,
                        "ees.rs (EES_CODES); or, if this column is a filter, list it in EesOptions.filters",
                    ))
                }
            };
            out.rows.push(TidyRow {
                source: self.source.to_string(),
                year,
                la_code_old: geo.la_code_old.clone(),
                la_code: geo.la_code.clone(),
                la_name: geo.la_name.clone(),
                geography_level: geo.level,
                measure: format!("{}{}", header[i], suffix),
                value,
                status,
            });
        }
        Ok(())
    }
}

fn missing_option_column(
    file_label: &str,
    line: usize,
    name: &str,
    option: &str,
    header: &[String],
) -> CleanError {
    err(
        file_label,
        Some(line),
        Some(name),
        format!("EesOptions.{option} names `{name}`, which is not a column of this file"),
        format!("use the file's own column names: {}", header.join(", ")),
    )
}

/// Reads an EES `time_period`: `2013` → 2013; `201213`, `2012-13`, `2012/13` → 2013 (the
/// year the period ends). None if it is neither.
pub fn parse_time_period(s: &str) -> Option<i32> {
    let s = s.trim();
    let digits: String = s.chars().filter(|c| !matches!(c, '-' | '/')).collect();
    if !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let sep = digits.len() != s.len();
    match digits.len() {
        4 if !sep => digits.parse().ok(),
        6 => {
            if sep && !(s.len() == 7 && matches!(s.as_bytes()[4], b'-' | b'/')) {
                return None;
            }
            let first: i32 = digits[..4].parse().ok()?;
            let yy: i32 = digits[4..].parse().ok()?;
            (yy == (first + 1) % 100).then_some(first + 1)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_periods() {
        assert_eq!(parse_time_period("2013"), Some(2013));
        assert_eq!(parse_time_period(" 201213 "), Some(2013));
        assert_eq!(parse_time_period("201920"), Some(2020));
        assert_eq!(parse_time_period("199900"), Some(2000));
        assert_eq!(parse_time_period("2012-13"), Some(2013));
        assert_eq!(parse_time_period("2012/13"), Some(2013));
        assert_eq!(parse_time_period("201214"), None);
        assert_eq!(parse_time_period("2013-"), None);
        assert_eq!(parse_time_period("13"), None);
        assert_eq!(parse_time_period("2013Q1"), None);
    }
}
