//! Small helpers shared by the spreadsheet parsers (ODS/XLSX via `calamine`): open a workbook
//! from bytes, find a sheet or header row by content, normalise header text, turn cells into
//! text, numbers and ISO dates, and build `CleanError`s that point at a cell.
//! Pure: no I/O beyond the bytes handed in.

use super::tidy::CleanError;
use calamine::{open_workbook_auto_from_rs, Data, Range, Reader, Sheets};
use std::io::Cursor;

/// Build a `CleanError`.
pub fn err(
    file: &str,
    line: Option<usize>,
    column: Option<String>,
    message: impl Into<String>,
    hint: impl Into<String>,
) -> CleanError {
    CleanError {
        file: file.to_string(),
        line,
        column,
        message: message.into(),
        hint: hint.into(),
        place: None,
    }
}

/// Spreadsheet column letter of a 0-based column index (0 → "A", 27 → "AB").
pub fn col_letter(mut idx: usize) -> String {
    let mut s = Vec::new();
    loop {
        s.push(b'A' + (idx % 26) as u8);
        if idx < 26 {
            break;
        }
        idx = idx / 26 - 1;
    }
    s.reverse();
    String::from_utf8(s).unwrap_or_default()
}

/// Collapse every run of whitespace (spaces, newlines, tabs, no-break spaces) to one space, trim.
pub fn norm_ws(s: &str) -> String {
    s.split(|c: char| c.is_whitespace() || c == '\u{a0}')
        .filter(|p| !p.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Header normalisation: whitespace collapsed, trimmed (case kept).
pub fn norm_header(s: &str) -> String {
    norm_ws(s)
}

/// Open an ODS/XLSX/XLS workbook held in memory.
pub fn open(file: &str, bytes: &[u8]) -> Result<Sheets<Cursor<Vec<u8>>>, CleanError> {
    open_workbook_auto_from_rs(Cursor::new(bytes.to_vec())).map_err(|e| {
        err(file, None, None, format!("cannot open as a spreadsheet: {e}"), "check the file is the published .ods/.xlsx (not an HTML error page or a truncated download); compare its sha256 with MANIFEST.tsv")
    })
}

/// Read one sheet's cells.
pub fn sheet(
    file: &str,
    wb: &mut Sheets<Cursor<Vec<u8>>>,
    name: &str,
) -> Result<Range<Data>, CleanError> {
    wb.worksheet_range(name).map_err(|e| {
        err(
            file,
            None,
            None,
            format!("cannot read sheet `{name}`: {e}"),
            "check the workbook is intact",
        )
    })
}

/// Text of a cell, whitespace-normalised ("" for empty). Numbers print without a trailing ".0".
pub fn text(c: &Data) -> String {
    match c {
        Data::Empty => String::new(),
        Data::String(s) => norm_ws(s),
        Data::Float(f) => {
            if f.fract() == 0.0 && f.abs() < 1e15 {
                format!("{}", *f as i64)
            } else {
                format!("{f}")
            }
        }
        Data::Int(i) => i.to_string(),
        Data::Bool(b) => b.to_string(),
        Data::DateTimeIso(s) | Data::DurationIso(s) => s.clone(),
        Data::DateTime(d) => format!("{}", d.as_f64()),
        Data::Error(e) => format!("#{e:?}"),
    }
}

/// A row's cells as normalised header strings.
pub fn row_headers(row: &[Data]) -> Vec<String> {
    row.iter().map(|c| norm_header(&text(c))).collect()
}

/// Index of the first row (0-based, relative to the range) whose cells contain every `needle`
/// (case-insensitive, after whitespace normalisation, as a whole cell or a cell prefix).
pub fn find_row(range: &Range<Data>, needles: &[&str], from: usize) -> Option<usize> {
    range.rows().enumerate().skip(from).find_map(|(i, row)| {
        let hs: Vec<String> = row_headers(row)
            .into_iter()
            .map(|h| h.to_lowercase())
            .collect();
        let all = needles.iter().all(|n| {
            let n = n.to_lowercase();
            hs.iter().any(|h| h == &n || h.starts_with(&n))
        });
        if all {
            Some(i)
        } else {
            None
        }
    })
}

/// Absolute 1-based spreadsheet row number of range row `i`.
pub fn abs_row(range: &Range<Data>, i: usize) -> usize {
    range.start().map(|(r, _)| r as usize).unwrap_or(0) + i + 1
}

/// Days since 1970-01-01 → (y, m, d) (proleptic Gregorian; H. Hinnant's algorithm).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// (y, m, d) → days since 1970-01-01.
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = if m > 2 { m - 3 } else { m + 9 } as i64;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Validate and format an ISO date.
pub fn iso(y: i64, m: u32, d: u32) -> Option<String> {
    if !(1900..=2100).contains(&y) || !(1..=12).contains(&m) || d == 0 || d > 31 {
        return None;
    }
    let (y2, m2, d2) = civil_from_days(days_from_civil(y, m, d));
    if (y2, m2, d2) != (y, m, d) {
        return None;
    }
    Some(format!("{y:04}-{m:02}-{d:02}"))
}

/// Days since 1970-01-01 of an ISO `yyyy-mm-dd` string.
pub fn iso_days(s: &str) -> Option<i64> {
    let b = s.get(0..10)?;
    let y: i64 = b.get(0..4)?.parse().ok()?;
    let m: u32 = b.get(5..7)?.parse().ok()?;
    let d: u32 = b.get(8..10)?.parse().ok()?;
    iso(y, m, d)?;
    Some(days_from_civil(y, m, d))
}

/// Excel/ODS serial day number (1900 date system, days since 1899-12-30) → ISO date.
pub fn serial_to_iso(serial: f64) -> Option<String> {
    if !(1.0..=80_000.0).contains(&serial) {
        return None;
    }
    let days = serial.floor() as i64 - 25_569; // 1899-12-30 → 1970-01-01
    let (y, m, d) = civil_from_days(days);
    iso(y, m, d)
}

/// Parse a date written as text: `yyyy-mm-dd[T…]`, `dd/mm/yyyy`, `dd/mm/yy` (yy → 20yy).
pub fn text_to_iso(s: &str) -> Option<String> {
    let s = s.trim();
    if s.len() >= 10 && s.as_bytes()[4] == b'-' {
        let y = s[0..4].parse().ok()?;
        let m = s[5..7].parse().ok()?;
        let d = s[8..10].parse().ok()?;
        return iso(y, m, d);
    }
    let parts: Vec<&str> = s.split('/').collect();
    if parts.len() == 3 {
        let d: u32 = parts[0].trim().parse().ok()?;
        let m: u32 = parts[1].trim().parse().ok()?;
        let yt = parts[2].trim();
        let mut y: i64 = yt.parse().ok()?;
        if yt.len() == 2 {
            y += 2000;
        } else if yt.len() != 4 {
            return None;
        }
        return iso(y, m, d);
    }
    None
}

/// A cell as an ISO date: `Ok(None)` when empty, `Err(text)` when it holds something that is
/// not a date.
pub fn cell_date(c: &Data) -> Result<Option<String>, String> {
    match c {
        Data::Empty => Ok(None),
        Data::DateTimeIso(s) => text_to_iso(s).map(Some).ok_or_else(|| s.clone()),
        Data::DateTime(d) => serial_to_iso(d.as_f64())
            .map(Some)
            .ok_or_else(|| format!("{}", d.as_f64())),
        Data::Float(f) => serial_to_iso(*f).map(Some).ok_or_else(|| f.to_string()),
        Data::Int(i) => serial_to_iso(*i as f64)
            .map(Some)
            .ok_or_else(|| i.to_string()),
        Data::String(s) if s.trim().is_empty() => Ok(None),
        Data::String(s) => text_to_iso(s).map(Some).ok_or_else(|| s.clone()),
        other => Err(text(other)),
    }
}

/// A cell as a number, `Ok(None)` when empty, `Err(text)` when not numeric.
pub fn cell_number(c: &Data) -> Result<Option<f64>, String> {
    match c {
        Data::Empty => Ok(None),
        Data::Float(f) => Ok(Some(*f)),
        Data::Int(i) => Ok(Some(*i as f64)),
        Data::String(s) => {
            let t = s.trim().replace(',', "");
            if t.is_empty() {
                return Ok(None);
            }
            t.parse::<f64>().map(Some).map_err(|_| s.clone())
        }
        other => Err(text(other)),
    }
}

/// snake_case: lowercase, every run of non-alphanumerics → one `_`, trimmed of `_`.
pub fn snake(s: &str) -> String {
    let mut out = String::new();
    let mut us = false;
    for ch in s.chars() {
        if ch.is_ascii_alphanumeric() {
            out.push(ch.to_ascii_lowercase());
            us = false;
        } else if !us && !out.is_empty() {
            out.push('_');
            us = true;
        }
    }
    while out.ends_with('_') {
        out.pop();
    }
    out
}

/// Decode CSV bytes: UTF-8 (BOM stripped) when valid, otherwise Windows-1252 (which the old DfE
/// files use: `\x92` apostrophes, `\xa0` spaces). Returns the text and the encoding used.
pub fn decode(bytes: &[u8]) -> (String, &'static str) {
    let b = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(b) {
        Ok(s) => (s.to_string(), "utf-8"),
        Err(_) => {
            let (cow, _, _) = encoding_rs::WINDOWS_1252.decode(b);
            (cow.into_owned(), "windows-1252")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letters() {
        assert_eq!(col_letter(0), "A");
        assert_eq!(col_letter(25), "Z");
        assert_eq!(col_letter(26), "AA");
        assert_eq!(col_letter(44), "AS");
    }

    #[test]
    fn dates() {
        assert_eq!(serial_to_iso(41117.0).as_deref(), Some("2012-07-27"));
        assert_eq!(serial_to_iso(25569.0).as_deref(), Some("1970-01-01"));
        assert_eq!(
            text_to_iso("2012-07-27T00:00:00").as_deref(),
            Some("2012-07-27")
        );
        assert_eq!(text_to_iso("09/05/25").as_deref(), Some("2025-05-09"));
        assert_eq!(text_to_iso("17/03/2025").as_deref(), Some("2025-03-17"));
        assert_eq!(text_to_iso("31/02/2025"), None);
        assert_eq!(iso_days("1970-01-02"), Some(1));
        assert_eq!(
            cell_date(&Data::DateTimeIso("2014-07-07T00:00:00".into())),
            Ok(Some("2014-07-07".into()))
        );
        assert!(cell_date(&Data::String("soon".into())).is_err());
    }

    #[test]
    fn headers() {
        assert_eq!(
            norm_header(" First SIF Overall Judgement\n(OE)"),
            "First SIF Overall Judgement (OE)"
        );
        assert_eq!(
            snake("IMD - Rank of average score "),
            "imd_rank_of_average_score"
        );
        assert_eq!(text(&Data::Float(301.0)), "301");
    }

    #[test]
    fn decoding() {
        assert_eq!(decode(b"\xEF\xBB\xBFa,b").0, "a,b");
        let (s, enc) = decode(b"Children\x92s");
        assert_eq!(s, "Children\u{2019}s");
        assert_eq!(enc, "windows-1252");
    }
}
