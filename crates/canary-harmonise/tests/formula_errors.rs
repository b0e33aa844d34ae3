//! A formula that does not parse is reported at its line and column in the dictionary file,
//! with the line shown and a caret under the fault.

use canary_harmonise::{load_dictionary, HarmoniseError};

const FILE: &str = "stages/indicators.yaml";

fn error() -> HarmoniseError {
    let text = include_str!("fixtures/bad_formula.yaml");
    load_dictionary(FILE, text).unwrap_err()
}

#[test]
fn the_error_carries_the_file_line_and_column() {
    let HarmoniseError::Formula {
        entry,
        position,
        at,
        ..
    } = error()
    else {
        panic!("not a formula error: {}", error());
    };
    assert_eq!(entry, "repeat_pct.definitions[1]");
    // The end of the formula, where the `)` is missing.
    assert_eq!(position, 43);
    let at = at.expect("the formula's line is found");
    assert_eq!(at.file, FILE);
    assert_eq!(at.line, 26);
    // The opening quote is at column 18, so the formula's byte 43 is at column 19 + 43.
    assert_eq!(at.column, 62);
    assert_eq!(
        at.source_line,
        "        formula: 'pct(`repeat_count[category=All]`, referrals'"
    );
}

#[test]
fn the_message_shows_the_line_with_a_caret_and_what_to_do() {
    let shown = error().to_string();
    let lines: Vec<&str> = shown.lines().collect();
    assert_eq!(
        lines[0],
        "stages/indicators.yaml:26:62: `repeat_pct.definitions[1]`: formula does not parse: expected `)`"
    );
    assert_eq!(lines[1], "   |");
    assert_eq!(
        lines[2],
        "26 |         formula: 'pct(`repeat_count[category=All]`, referrals'"
    );
    // The caret sits under the closing quote, the first character after the formula.
    let caret = lines[3].find('^').unwrap();
    assert_eq!(&lines[2][caret..caret + 1], "'");
    assert_eq!(
        lines[3].trim_end(),
        format!("   | {}^", " ".repeat(caret - 5))
    );
    assert!(
        lines[4].starts_with(
            "  hint: fix the formula on line 26 of stages/indicators.yaml; formulas use"
        ),
        "{shown}"
    );
}
