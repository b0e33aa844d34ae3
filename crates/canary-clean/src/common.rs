//! Helpers shared by the DfE / ONS parsers: text decoding, CSV record reading with line
//! numbers, number and missing-value-code parsing, and the [`Note`] / [`Parsed`] types through
//! which parsers report the corrections and non-obvious decisions they made.
//!
//! Nothing here does I/O: callers hand in the bytes of a file they have read.

use super::tidy::{CleanError, Status, TidyRow};

/// What kind of thing a [`Note`] records.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NoteKind {
    /// A known publisher error was corrected in the data (the message says from what to what).
    Correction,
    /// A cell held a code outside the contract's status vocabulary (e.g. a CIN census DCI `A`
    /// or `P`); it was mapped to a [`Status`] and the original code is kept here.
    CodeMapped,
    /// A column name's year suffix disagrees with the file's reporting year (kept as published).
    YearSuffix,
    /// The file was not valid UTF-8 and was decoded as Windows-1252 (latin-1).
    Encoding,
    /// Something about the file's layout worth knowing (blank lines skipped, filter columns
    /// detected, rows of an unusual geography level, combined LAs, …).
    Structure,
}

impl NoteKind {
    pub fn as_str(self) -> &'static str {
        match self {
            NoteKind::Correction => "correction",
            NoteKind::CodeMapped => "code_mapped",
            NoteKind::YearSuffix => "year_suffix",
            NoteKind::Encoding => "encoding",
            NoteKind::Structure => "structure",
        }
    }
}

/// A remark a parser makes about a file: a correction it applied, a code it mapped, a quirk
/// it worked around. The pipeline reports these; none of them is an error.
#[derive(Debug, Clone, PartialEq)]
pub struct Note {
    pub kind: NoteKind,
    pub file: String,
    /// 1-based line, if the note is about one line.
    pub line: Option<usize>,
    /// Column name, if the note is about one column.
    pub column: Option<String>,
    pub message: String,
}

impl std::fmt::Display for Note {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "[{}] {}", self.kind.as_str(), self.file)?;
        if let Some(l) = self.line {
            write!(f, ":{l}")?;
        }
        if let Some(c) = &self.column {
            write!(f, " (column `{c}`)")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// What every parser returns: the tidy rows plus the notes (corrections applied, codes
/// mapped, quirks met) that the pipeline should report alongside them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Parsed {
    pub rows: Vec<TidyRow>,
    pub notes: Vec<Note>,
}

impl Parsed {
    /// The notes that record a correction of a publisher error.
    pub fn corrections(&self) -> impl Iterator<Item = &Note> {
        self.notes.iter().filter(|n| n.kind == NoteKind::Correction)
    }
}

pub(super) fn note(
    kind: NoteKind,
    file: &str,
    line: Option<usize>,
    column: Option<&str>,
    message: impl Into<String>,
) -> Note {
    Note {
        kind,
        file: file.to_string(),
        line,
        column: column.map(str::to_string),
        message: message.into(),
    }
}

pub(super) fn err(
    file: &str,
    line: Option<usize>,
    column: Option<&str>,
    message: impl Into<String>,
    hint: impl Into<String>,
) -> CleanError {
    CleanError {
        file: file.to_string(),
        line,
        column: column.map(str::to_string),
        message: message.into(),
        hint: hint.into(),
        place: None,
    }
}

/// Decodes a file's bytes: UTF-8 when valid (a leading BOM is dropped), otherwise
/// Windows-1252 (the superset of latin-1 the DfE's older files are written in), in which case
/// a [`NoteKind::Encoding`] note is returned too.
pub fn decode_text(file_label: &str, bytes: &[u8]) -> (String, Option<Note>) {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(s) => (s.to_string(), None),
        Err(e) => {
            let (text, _, _) = encoding_rs::WINDOWS_1252.decode(bytes);
            let n = note(
                NoteKind::Encoding,
                file_label,
                None,
                None,
                format!(
                    "not valid UTF-8 (first bad byte at offset {}); decoded as Windows-1252/latin-1",
                    e.valid_up_to()
                ),
            );
            (text.into_owned(), Some(n))
        }
    }
}

/// One CSV record with its 1-based starting line and its fields trimmed of surrounding
/// whitespace.
#[derive(Debug, Clone)]
pub(super) struct Record {
    pub line: usize,
    pub fields: Vec<String>,
}

impl Record {
    pub fn is_blank(&self) -> bool {
        self.fields.iter().all(|f| f.is_empty())
    }
}

/// Reads every record of a CSV text (no header handling; ragged rows allowed — callers check
/// field counts so they can name the line). Blank lines are not records.
pub(super) fn read_records(file_label: &str, text: &str) -> Result<Vec<Record>, CleanError> {
    let mut rdr = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut out = Vec::new();
    for rec in rdr.records() {
        let rec = rec.map_err(|e| {
            let line = e.position().map(|p| p.line() as usize);
            err(
                file_label,
                line,
                None,
                format!("CSV syntax error: {e}"),
                "check the file for an unbalanced double quote; re-download it if it is damaged",
            )
        })?;
        let line = rec.position().map(|p| p.line() as usize).unwrap_or(0);
        let fields = rec.iter().map(|f| f.trim().to_string()).collect();
        out.push(Record { line, fields });
    }
    Ok(out)
}

/// The hint given for a row whose field count differs from the header's.
pub(super) fn field_count_error(
    file_label: &str,
    line: usize,
    got: usize,
    want: usize,
) -> CleanError {
    err(
        file_label,
        Some(line),
        None,
        format!("row has {got} fields but the header has {want}"),
        "the row may be truncated or hold an unquoted comma (e.g. a number written 1,961 \
         without quotes); compare the line with the header, then fix or re-download the file",
    )
}

/// Parses a published number: optional sign, digits with optional thousands separators in
/// groups of three (`"1,961"`), optional decimals, or plain scientific notation (`1.5E-05`).
/// Returns None for anything else. The input should already be trimmed.
pub fn parse_number(s: &str) -> Option<f64> {
    if s.is_empty() {
        return None;
    }
    let body = s.strip_prefix(['-', '+']).unwrap_or(s);
    if body.is_empty() {
        return None;
    }
    let v: f64 = if body.contains(',') {
        let (int, frac) = match body.split_once('.') {
            Some((i, f)) => (i, Some(f)),
            None => (body, None),
        };
        let mut groups = int.split(',');
        let first = groups.next()?;
        if first.is_empty() || first.len() > 3 || !first.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        for g in groups {
            if g.len() != 3 || !g.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
        }
        if let Some(f) = frac {
            if f.is_empty() || !f.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
        }
        s.replace(',', "").parse().ok()?
    } else {
        if !body
            .bytes()
            .all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'e' | b'E' | b'+' | b'-'))
            || !body.bytes().any(|b| b.is_ascii_digit())
        {
            return None;
        }
        s.parse().ok()?
    };
    v.is_finite().then_some(v)
}

/// The result of reading one cell against a format's code table.
pub enum Cell {
    Value(f64),
    Code(Status),
    Unknown,
}

/// Classifies a trimmed cell: empty → Blank, a code in `codes` → its status, a number → value.
pub fn classify(cell: &str, codes: &[(&str, Status)]) -> Cell {
    if cell.is_empty() {
        return Cell::Code(Status::Blank);
    }
    if let Some((_, st)) = codes.iter().find(|(c, _)| *c == cell) {
        return Cell::Code(*st);
    }
    match parse_number(cell) {
        Some(v) => Cell::Value(v),
        None => Cell::Unknown,
    }
}

/// Lists a code table for an error hint: `` `x` suppressed, `..` not_available ``.
pub(super) fn describe_codes(codes: &[(&str, Status)]) -> String {
    if codes.is_empty() {
        return "(no codes: this format has none)".to_string();
    }
    codes
        .iter()
        .map(|(c, s)| format!("`{c}` {}", s.as_str()))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(super) fn unknown_code_error(
    file_label: &str,
    line: usize,
    column: &str,
    value: &str,
    format_name: &str,
    codes: &[(&str, Status)],
    module: &str,
) -> CleanError {
    let looks_numeric = value.starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '.');
    let message = if looks_numeric {
        format!("cannot parse `{value}` as a number")
    } else {
        format!("`{value}` is neither a number nor a known missing-value code")
    };
    err(
        file_label,
        Some(line),
        Some(column),
        message,
        format!(
            "{format_name} cells must be numbers (thousands separators allowed) or one of: {}, \
             or empty. If `{value}` is a new publisher code, add it with the status it means to \
             the code table in {module}; if the cell is damaged, fix or re-download the file",
            describe_codes(codes)
        ),
    )
}

/// The note for rows with every field empty, skipped: one note listing their lines, if any.
pub(super) fn blank_rows_note(file_label: &str, blank_lines: &[usize]) -> Option<Note> {
    let first = *blank_lines.first()?;
    Some(note(
        NoteKind::Structure,
        file_label,
        Some(first),
        None,
        format!(
            "{} row(s) with every field empty skipped (lines {:?})",
            blank_lines.len(),
            blank_lines
        ),
    ))
}

/// `Some(s)` unless `s` is empty.
pub(super) fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(parse_number("1,961"), Some(1961.0));
        assert_eq!(parse_number("694,000"), Some(694000.0));
        assert_eq!(parse_number("1,234,567.5"), Some(1234567.5));
        assert_eq!(parse_number("-3.25"), Some(-3.25));
        assert_eq!(parse_number("341"), Some(341.0));
        assert_eq!(parse_number(".5"), Some(0.5));
        assert_eq!(parse_number("1.5E-05"), Some(1.5e-5));
        assert_eq!(parse_number("12,34"), None);
        assert_eq!(parse_number("1,2345"), None);
        assert_eq!(parse_number(",123"), None);
        assert_eq!(parse_number("x"), None);
        assert_eq!(parse_number(".."), None);
        assert_eq!(parse_number("."), None);
        assert_eq!(parse_number("-"), None);
        assert_eq!(parse_number("inf"), None);
        assert_eq!(parse_number("NaN"), None);
        assert_eq!(parse_number("12a"), None);
    }

    #[test]
    fn decoding() {
        let (t, n) = decode_text("f", b"\xEF\xBB\xBFa,b");
        assert_eq!(t, "a,b");
        assert!(n.is_none());
        let (t, n) = decode_text("f", b"caf\xe9 \x93q\x94");
        assert_eq!(t, "café \u{201c}q\u{201d}");
        assert_eq!(n.unwrap().kind, NoteKind::Encoding);
    }
}
