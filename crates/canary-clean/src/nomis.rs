//! ONS mid-year population estimates by upper-tier LA (April 2021 boundaries), as downloaded
//! from Nomis: `population/nomis_2009-2021/popest-<age>.csv`.
//!
//! **Ages 0-16 only**: the five files are ages 0-4, 5-9, 10-14, 15 and 16; there is no age 17,
//! so these files cannot give the 0-17 population the CIN rates use. For 0-17 use the
//! population column of each CIN census file (`Mid2012Pop0-17`, …) or the DfE's
//! `dfe_tidy/ons_mid-year_population_estimates_2012_to_2024.csv` (see [`super::ees`]).
//!
//! # Layout
//! A preamble (a blank line, the title, the copyright line, `"Gender     :","Total"`,
//! `"Age        :","Age 0 - 4"`, a blank line), then the header
//! `"local authority: county / unitary (as of April 2021)","mnemonic","2009",…,"2021"`, then
//! one row per area: name, 9-character ONS code, one estimate per year. Trailing blank lines.
//! The header is found as the first row whose second field is `mnemonic`, so a longer or
//! shorter preamble is fine; short text rows after the data (Nomis footnotes) are skipped with
//! a note.
//!
//! # Output
//! One [`TidyRow`] per area × year: `measure` = `population_age_0_4`, `population_age_10_14`,
//! `population_age_15`, … from the preamble's `Age` line (with `_male` / `_female` appended if
//! the `Gender` line is not `Total`); `year` = the **mid-year of the estimate** (the column
//! header; mid-2012 is 2012 — map it to a reporting year in the harmonise stage);
//! `la_code` = the ONS code, `la_code_old` none. Geography level from the code prefix: `E92`
//! national, `E12`/`E13` regional, `E06`/`E08`/`E09`/`E10` (unitary, metropolitan district,
//! London borough, county) local authority, anything else — including the Welsh (`W06`),
//! Scottish (`S12`) and Northern Irish (`N09`) areas these files also hold, and English
//! lower-tier districts (`E07`) — other. No missing-value codes occur in these files; an empty
//! cell is blank and any other non-number an error.

use super::common::{
    classify, decode_text, err, field_count_error, note, read_records, unknown_code_error, Cell,
    NoteKind, Parsed, Record,
};
use super::tidy::{CleanError, GeographyLevel, Status, TidyRow};

/// Missing-value codes of Nomis extracts (none occur in the files used).
pub const NOMIS_CODES: &[(&str, Status)] = &[];

/// Geography level of an ONS 9-character code, by prefix (see the module docs).
pub fn level_from_code(code: &str) -> GeographyLevel {
    match code.get(..3) {
        Some("E92") => GeographyLevel::National,
        Some("E12") | Some("E13") => GeographyLevel::Regional,
        Some("E06") | Some("E08") | Some("E09") | Some("E10") => GeographyLevel::LocalAuthority,
        _ => GeographyLevel::Other,
    }
}

/// The measure name for a Nomis `Age` preamble value: `Age 0 - 4` → `population_age_0_4`,
/// `Aged 10-14` → `population_age_10_14`, `Age 15` → `population_age_15`, `All Ages` →
/// `population_age_all_ages`.
pub fn age_measure(age: &str) -> String {
    let nums: Vec<&str> = age
        .split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .collect();
    let tail = if nums.is_empty() {
        age.trim()
            .trim_start_matches("Aged")
            .trim_start_matches("Age")
            .split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|s| !s.is_empty())
            .map(str::to_ascii_lowercase)
            .collect::<Vec<_>>()
            .join("_")
    } else {
        let mut t = nums.join("_");
        if age.contains('+') {
            t.push_str("_plus");
        }
        t
    };
    format!(
        "population_age_{}",
        if tail.is_empty() {
            "all".to_string()
        } else {
            tail
        }
    )
}

/// Parses one Nomis `popest-*.csv` extract. See the module docs.
pub fn parse_nomis_popest(
    source: &str,
    file_label: &str,
    bytes: &[u8],
) -> Result<Parsed, CleanError> {
    let mut out = Parsed::default();
    let (text, enc_note) = decode_text(file_label, bytes);
    out.notes.extend(enc_note);
    let records = read_records(file_label, &text)?;
    let hpos = records
        .iter()
        .position(|r| {
            r.fields
                .get(1)
                .is_some_and(|f| f.eq_ignore_ascii_case("mnemonic"))
        })
        .ok_or_else(|| {
            err(
                file_label,
                None,
                Some("mnemonic"),
                "no header row (a row whose second field is `mnemonic`) found",
                "this parser reads Nomis population extracts: preamble, then a header \
                 `<area>,mnemonic,<year>,<year>,…`; check that the right file was given",
            )
        })?;
    let measure = preamble_measure(file_label, &records[..hpos])?;
    let header = &records[hpos];
    let reader = AreaReader {
        source,
        file_label,
        header,
        years: year_columns(file_label, header)?,
        measure,
    };
    for rec in &records[hpos + 1..] {
        if rec.is_blank() {
            continue;
        }
        if rec.fields.len() != header.fields.len() {
            if rec.fields.len() <= 2 {
                out.notes.push(note(
                    NoteKind::Structure,
                    file_label,
                    Some(rec.line),
                    None,
                    format!("footnote row skipped: {:?}", rec.fields.join(" ")),
                ));
                continue;
            }
            return Err(field_count_error(
                file_label,
                rec.line,
                rec.fields.len(),
                header.fields.len(),
            ));
        }
        reader.read_area(rec, &mut out.rows)?;
    }
    Ok(out)
}

/// The measure name from the preamble's `Age :` line (and its `Gender :` line if not `Total`).
fn preamble_measure(file_label: &str, preamble: &[Record]) -> Result<String, CleanError> {
    let pre_value = |key: &str| {
        preamble.iter().find_map(|r| {
            let k = r.fields.first()?.trim_end_matches(':').trim();
            (k.eq_ignore_ascii_case(key)).then(|| r.fields.get(1).cloned().unwrap_or_default())
        })
    };
    let age = pre_value("Age").ok_or_else(|| {
        err(
            file_label,
            None,
            Some("Age"),
            "the preamble has no `Age :` line, so the age band is unknown",
            "download the extract with its preamble (Nomis 'csv' with headers), or check the file",
        )
    })?;
    let mut measure = age_measure(&age);
    if let Some(g) = pre_value("Gender") {
        if !g.is_empty() && !g.eq_ignore_ascii_case("total") {
            measure.push('_');
            measure.push_str(&g.to_ascii_lowercase().replace(' ', "_"));
        }
    }
    Ok(measure)
}

/// The header's year columns (every field after the area name and `mnemonic`), as
/// (position, year).
fn year_columns(file_label: &str, header: &Record) -> Result<Vec<(usize, i32)>, CleanError> {
    let mut years = Vec::new();
    for (i, h) in header.fields.iter().enumerate().skip(2) {
        let y: i32 = h
            .parse()
            .ok()
            .filter(|y| (1900..2100).contains(y))
            .ok_or_else(|| {
                err(
                    file_label,
                    Some(header.line),
                    Some(h),
                    format!("header column {} `{h}` is not a year", i + 1),
                    "after the area name and `mnemonic`, every header field must be a year (2009, …)",
                )
            })?;
        years.push((i, y));
    }
    if years.is_empty() {
        return Err(err(
            file_label,
            Some(header.line),
            None,
            "the header has no year columns",
            "check that the extract was downloaded with dates as columns",
        ));
    }
    Ok(years)
}

/// Reads the area rows of one extract once its header and measure are known.
struct AreaReader<'a> {
    source: &'a str,
    file_label: &'a str,
    header: &'a Record,
    years: Vec<(usize, i32)>,
    measure: String,
}

impl AreaReader<'_> {
    /// One tidy row per year of an area row (name, ONS code, one estimate per year).
    fn read_area(&self, rec: &Record, rows: &mut Vec<TidyRow>) -> Result<(), CleanError> {
        let name = rec.fields[0].clone();
        let code = rec.fields[1].clone();
        if code.is_empty() {
            return Err(err(
                self.file_label,
                Some(rec.line),
                Some(&self.header.fields[1]),
                format!("area `{name}` has no code"),
                "every data row needs its 9-character ONS code in the mnemonic column",
            ));
        }
        let level = level_from_code(&code);
        for &(i, year) in &self.years {
            let cell = rec.fields[i].as_str();
            let (value, status) = match classify(cell, NOMIS_CODES) {
                Cell::Value(v) => (Some(v), Status::Ok),
                Cell::Code(s) => (None, s),
                Cell::Unknown => {
                    return Err(unknown_code_error(
                        self.file_label,
                        rec.line,
                        &self.header.fields[i],
                        cell,
                        "Nomis population",
                        NOMIS_CODES,
                        "nomis.rs (NOMIS_CODES)",
                    ))
                }
            };
            rows.push(TidyRow {
                source: self.source.to_string(),
                year,
                la_code_old: None,
                la_code: Some(code.clone()),
                la_name: name.clone(),
                geography_level: level,
                measure: self.measure.clone(),
                value,
                status,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn measures_and_levels() {
        assert_eq!(age_measure("Age 0 - 4"), "population_age_0_4");
        assert_eq!(age_measure("Aged 10-14"), "population_age_10_14");
        assert_eq!(age_measure("Age 15"), "population_age_15");
        assert_eq!(age_measure("Aged 90+"), "population_age_90_plus");
        assert_eq!(age_measure("All Ages"), "population_age_all_ages");
        assert_eq!(level_from_code("E92000001"), GeographyLevel::National);
        assert_eq!(level_from_code("E13000002"), GeographyLevel::Regional);
        assert_eq!(level_from_code("E10000014"), GeographyLevel::LocalAuthority);
        assert_eq!(level_from_code("E07000008"), GeographyLevel::Other);
        assert_eq!(level_from_code("S12000033"), GeographyLevel::Other);
    }
}
