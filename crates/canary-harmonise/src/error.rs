//! The one error type of the harmonise step. Every message names the file or dictionary
//! entry at fault and ends with what to do, because the person reading it is usually an
//! analyst editing `indicators.yaml`, not the author of this code.

use std::fmt;

#[derive(Debug, Clone, PartialEq)]
pub enum HarmoniseError {
    /// `indicators.yaml` is not valid YAML or does not match the schema.
    Yaml {
        file: String,
        line: Option<usize>,
        message: String,
    },
    /// The dictionary parsed but says something impossible.
    Invalid {
        file: String,
        entry: String,
        message: String,
        hint: String,
        /// The entry's place in the file, when the entry is in its text.
        at: Option<Box<FileLocation>>,
    },
    /// A formula does not parse.
    Formula {
        entry: String,
        formula: String,
        /// Byte offset of the error in `formula`.
        position: usize,
        message: String,
        /// Where that is in the dictionary file, when the formula was read from one and its
        /// line could be found (boxed: it would make every error larger).
        at: Option<Box<FileLocation>>,
    },
    /// `strict` was asked for and an indicator has no definition for a year in range.
    NoDefinition {
        indicator: String,
        year: i32,
        covered: Vec<String>,
    },
    /// The source has rows that year but not this measure: the publisher renamed a column.
    MissingMeasure {
        indicator: String,
        definition: String,
        source: String,
        year: i32,
        measure: String,
        /// Boxed slice, not Vec: one word less keeps the whole error under clippy's 128-byte
        /// `result_large_err` threshold (it is returned by value everywhere).
        similar: Box<[String]>,
    },
    /// The population a rate needs is not in its source for that year.
    MissingPopulation {
        population: String,
        source: String,
        year: i32,
        measure: String,
    },
    /// Two LAs would be merged: one code maps to two LAs in one year.
    CodeConflict {
        year: i32,
        code: String,
        first: String,
        second: String,
        sources: String,
    },
    /// Options make no sense (empty year range, …).
    Options { message: String },
    /// LA sums and England rows disagree beyond the publisher's rounding.
    Reconciliation { failures: Vec<String> },
}

/// A place in a file the analyst edits: 1-based line and column (in characters), and the
/// text of that line, to show under the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileLocation {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub source_line: String,
}

/// The longest part of a source line shown, in characters (the dictionary's flow-style
/// definitions run past 200).
const SHOWN: usize = 100;

impl fmt::Display for FileLocation {
    /// The line under a gutter with its number, and a caret under the column; a long line
    /// is cut to a window around the column.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let chars: Vec<char> = self.source_line.chars().collect();
        let col = self.column.saturating_sub(1).min(chars.len());
        let from = col
            .saturating_sub(SHOWN / 2)
            .min(chars.len().saturating_sub(SHOWN));
        let to = (from + SHOWN).min(chars.len());
        let mut shown: String = chars[from..to].iter().collect();
        let mut caret = col - from;
        if from > 0 {
            shown.insert(0, '…');
            caret += 1;
        }
        if to < chars.len() {
            shown.push('…');
        }
        let num = self.line.to_string();
        let pad = " ".repeat(num.len());
        write!(
            f,
            "{pad} |\n{num} | {shown}\n{pad} | {}^",
            " ".repeat(caret)
        )
    }
}

impl fmt::Display for HarmoniseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use HarmoniseError::*;
        match self {
            Yaml { file, line, message } => {
                write!(f, "{file}")?;
                if let Some(l) = line {
                    write!(f, ":{l}")?;
                }
                write!(f, ": {message}\n  hint: fix the YAML; every indicator needs `id`, `label`, `unit`, `quadrant`, `role`, `definitions` and nothing else")
            }
            Invalid { file, entry, message, hint, at: None } => {
                write!(f, "{file}: `{entry}`: {message}\n  hint: {hint}")
            }
            Invalid { entry, message, hint, at: Some(at), .. } => write!(
                f,
                "{}:{}:{}: `{entry}`: {message}\n{at}\n  hint: {hint}",
                at.file, at.line, at.column
            ),
            Formula { entry, formula, position, message, at: None } => write!(
                f,
                "`{entry}`: formula does not parse: {message}\n    {formula}\n    {caret:>width$}\n  hint: {FORMULA_HINT}",
                caret = "^",
                width = position + 1
            ),
            Formula { entry, message, at: Some(at), .. } => write!(
                f,
                "{}:{}:{}: `{entry}`: formula does not parse: {message}\n{at}\n  hint: fix the formula on line {} of {}; {FORMULA_HINT}",
                at.file, at.line, at.column, at.line, at.file
            ),
            NoDefinition { indicator, year, covered } => write!(
                f,
                "indicator `{indicator}` has no definition for {year} (covered: {})\n  hint: add a definition with `years` covering {year} to `{indicator}` in indicators.yaml, narrow the `years` option, or run without `strict`",
                if covered.is_empty() { "none".to_string() } else { covered.join(", ") }
            ),
            MissingMeasure { indicator, definition, source, year, measure, similar } => {
                write!(
                    f,
                    "indicator `{indicator}` (definition `{definition}`): source `{source}` has rows for {year} but no measure `{measure}`"
                )?;
                if !similar.is_empty() {
                    write!(f, "; similar measures there: `{}`", similar.join("`, `"))?;
                }
                write!(f, "\n  hint: the publisher probably renamed the column; edit the formula of `{indicator}` for years `{definition}` in indicators.yaml (or split its `years` at {year})")
            }
            MissingPopulation { population, source, year, measure } => write!(
                f,
                "population `{population}`: source `{source}` has no measure `{measure}` for {year}\n  hint: edit `populations.{population}` in indicators.yaml"
            ),
            CodeConflict { year, code, first, second, sources } => write!(
                f,
                "LA code `{code}` maps to two LAs in {year}: {first} and {second} (sources: {sources})\n  hint: a boundary change or a publisher slip; add the mapping to the geography crosswalk rather than merging them here"
            ),
            Options { message } => write!(f, "harmonise options: {message}"),
            Reconciliation { failures } => write!(
                f,
                "{} reconciliation check(s) failed (LA sum vs England row):\n  {}\n  hint: a file is truncated or an LA row is duplicated; compare the file with the publisher's",
                failures.len(),
                failures.join("\n  ")
            ),
        }
    }
}

impl std::error::Error for HarmoniseError {}

/// What a formula may contain, for the hint of an error in one.
const FORMULA_HINT: &str = "formulas use + - * /, parentheses, numbers, `measure names` in backticks (or plain names of letters, digits, _ and {placeholders}), `source::measure` for another source, and rate(x), pct(a, b), sum(a, ...), zna(x)";

#[cfg(test)]
mod tests {
    use super::HarmoniseError;

    #[test]
    fn the_error_stays_small_enough_to_return_by_value() {
        // clippy's `result_large_err` fires at 128 bytes or more.
        assert!(std::mem::size_of::<HarmoniseError>() < 128);
    }
}
