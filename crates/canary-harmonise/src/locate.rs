//! Where a definition's formula, or an entry of the dictionary, is in the text of
//! `indicators.yaml`: serde keeps no spans, so an error found after deserialising is placed
//! through `canary_yaml::SourceMap`, which reads the text as a YAML parser does (saphyr's
//! spans), whatever the style — block or flow, quoted, plain or folded. Only the mapping of a
//! parsed formula's characters back onto its written lines (quotes doubled, escapes, folded
//! line breaks) is done here.

pub(crate) use canary_yaml::Place;
use canary_yaml::{SourceMap, Step, Style};

/// One definition of the dictionary: `{id}.{kind}[index]`.
pub(crate) struct DefinitionAt<'a> {
    pub id: &'a str,
    /// `definitions` or `crosschecks`.
    pub kind: &'a str,
    pub index: usize,
}

/// The place in `text` of byte `position` of the formula of definition `at` (`formula` as
/// parsed from the YAML), or None when the definition is not in the text.
pub(crate) fn formula_place(
    text: &str,
    at: &DefinitionAt,
    formula: &str,
    position: usize,
) -> Option<Place> {
    let map = SourceMap::new(text);
    let lines: Vec<&str> = (1..).map_while(|n| map.line(n)).collect();
    let node = map.node(&[
        Step::Key("indicators"),
        Step::ItemWith("id", at.id),
        Step::Key(at.kind),
        Step::Index(at.index),
        Step::Key("formula"),
    ])?;
    let style = node.style?;
    // Inside the quotes: the text's first character.
    let quote = usize::from(matches!(style, Style::SingleQuoted | Style::DoubleQuoted));
    let start = (node.line - 1, node.column - 1 + quote);
    let chars_before = formula
        .char_indices()
        .take_while(|(b, _)| *b < position)
        .count();
    let (line, column) = align(&lines, start, style, formula, chars_before)
        .unwrap_or((start.0, start.1 + chars_before));
    Some(Place {
        line: line + 1,
        column: column + 1,
        text: lines.get(line)?.to_string(),
    })
}

/// The place of an entry of the dictionary as its errors name it: `version`,
/// `populations.{name}[i]`, `reconcile[i]`, an indicator `{id}` (its `id:` line), or one of
/// its definitions or crosschecks `{id}.{kind}[i]` (that item's first line, else the
/// indicator's). None when the entry is not in the text.
pub(crate) fn entry_place(text: &str, entry: &str) -> Option<Place> {
    let map = SourceMap::new(text);
    let indexed = |s: &str| -> Option<(String, usize)> {
        let (name, index) = s.strip_suffix(']')?.split_once('[')?;
        Some((name.to_string(), index.parse().ok()?))
    };
    if entry == "version" {
        return map.place(&[Step::Key("version")]);
    }
    if let Some((name, i)) = entry.strip_prefix("populations.").and_then(indexed) {
        return map.place(&[Step::Key("populations"), Step::Key(&name), Step::Index(i)]);
    }
    if let Some(("reconcile", i)) = indexed(entry).as_ref().map(|(n, i)| (n.as_str(), *i)) {
        return map.place(&[Step::Key("reconcile"), Step::Index(i)]);
    }
    let (id, rest) = match entry.split_once('.') {
        Some((id, rest)) => (id, Some(rest)),
        None => (entry, None),
    };
    let item = [Step::Key("indicators"), Step::ItemWith("id", id)];
    rest.and_then(indexed)
        .and_then(|(kind, i)| map.place(&[item[0], item[1], Step::Key(&kind), Step::Index(i)]))
        .or_else(|| map.place(&[item[0], item[1], Step::Key("id")]))
}

/// Leading spaces of a line.
fn indent(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// The line and column of character `target` of the scalar that starts at `start`: walks
/// the text as YAML reads it (a line break folded to one space, `''` one quote in a
/// single-quoted scalar, a backslash escape in a double-quoted one). None when the text
/// does not match the parsed formula.
fn align(
    lines: &[&str],
    start: (usize, usize),
    style: Style,
    formula: &str,
    target: usize,
) -> Option<(usize, usize)> {
    let (mut l, mut c) = start;
    let mut raw: Vec<char> = lines.get(l)?.chars().collect();
    let next_line = |l: &mut usize, c: &mut usize, raw: &mut Vec<char>| -> Option<()> {
        *l += 1;
        let line = lines.get(*l)?;
        *raw = line.chars().collect();
        *c = line[..indent(line)].chars().count();
        Some(())
    };
    for ch in formula.chars().take(target) {
        if c >= raw.len() {
            // A line break (and any blank lines) folded into the parsed text.
            while c >= raw.len() {
                next_line(&mut l, &mut c, &mut raw)?;
            }
            if ch.is_whitespace() {
                continue;
            }
        }
        c += match (style, raw[c], raw.get(c + 1)) {
            (Style::SingleQuoted, '\'', Some('\'')) => 2,
            (Style::DoubleQuoted, '\\', Some(_)) => 2,
            _ => 1,
        };
    }
    match formula.chars().nth(target) {
        None => Some((l, c)),
        Some(ch) => {
            while c >= raw.len() {
                next_line(&mut l, &mut c, &mut raw)?;
            }
            (raw.get(c) == Some(&ch) || ch.is_whitespace()).then_some((l, c))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "version: 1
indicators:
  - id: first
    definitions:
      - {years: 2010, source: s, formula: 'a + b'}
  - label: Second
    id: second
    definitions:
      # a comment between items
      - {years: 2010, source: s, formula: 'it''s + (b'}
      - years: 2011..
        source: s
        formula: >-
          pct(sum(aaa, bbb),
          ccc, ))
    crosschecks:
      - {years: 2011, source: s, formula: plain * (}
      - {years: 2012, source: s, formula: \"x \\\\ y (\"}
reconcile: []
";

    fn place(id: &str, kind: &str, index: usize, formula: &str, pos: usize) -> (usize, usize) {
        let at = DefinitionAt { id, kind, index };
        let p = formula_place(TEXT, &at, formula, pos).unwrap();
        assert_eq!(Some(p.text.as_str()), TEXT.lines().nth(p.line - 1));
        (p.line, p.column)
    }

    #[test]
    fn finds_an_entry_by_indicator_and_definition() {
        let at = |entry: &str| entry_place(TEXT, entry).map(|p| (p.line, p.column, p.text));
        // The indicator: its `id:` line, even when `id` is not the item's first key.
        assert_eq!(at("second").map(|p| (p.0, p.1)), Some((7, 5)));
        assert_eq!(at("first").map(|p| (p.0, p.1)), Some((3, 5)));
        // One of its definitions or crosschecks: that item's first line.
        assert_eq!(at("second.definitions[1]").map(|p| p.0), Some(11));
        assert_eq!(at("second.crosschecks[0]").map(|p| p.0), Some(17));
        // A definition past the end falls back to the indicator.
        assert_eq!(at("second.definitions[9]").map(|p| p.0), Some(7));
        // Not an indicator's entry, or no such indicator: no place.
        assert_eq!(at("reconcile[0]"), None);
        assert_eq!(at("nope"), None);
    }

    #[test]
    fn finds_the_entries_that_are_not_an_indicator_s() {
        let text = "version: 2\npopulations:\n  children:\n    - {years: 2010, source: pop}\n    - years: 2011\n      source: pop\nreconcile:\n  - {source: s, measure: m}\nindicators: []\n";
        let at = |entry: &str| entry_place(text, entry).map(|p| (p.line, p.column));
        assert_eq!(at("version"), Some((1, 1)));
        assert_eq!(at("populations.children[0]"), Some((4, 7)));
        assert_eq!(at("populations.children[1]"), Some((5, 7)));
        assert_eq!(at("reconcile[0]"), Some((8, 5)));
        assert_eq!(at("populations.children[2]"), None);
        assert_eq!(at("populations.adults[0]"), None);
    }

    #[test]
    fn finds_flow_items_and_counts_quotes_doubled() {
        assert_eq!(place("first", "definitions", 0, "a + b", 4), (5, 48));
        // `it's + (b`: the quote is written twice, so the `(` at byte 7 is at column 52.
        assert_eq!(place("second", "definitions", 0, "it's + (b", 7), (10, 52));
        assert_eq!(place("second", "crosschecks", 0, "plain * (", 8), (17, 51));
        assert_eq!(place("second", "crosschecks", 1, "x \\ y (", 6), (18, 51));
    }

    #[test]
    fn follows_a_folded_formula_onto_its_next_line() {
        let f = "pct(sum(aaa, bbb), ccc, ))";
        assert_eq!(place("second", "definitions", 1, f, 0), (14, 11));
        assert_eq!(place("second", "definitions", 1, f, 19), (15, 11));
        assert_eq!(place("second", "definitions", 1, f, 24), (15, 16));
    }

    #[test]
    fn cut_or_garbled_text_never_panics() {
        let f = "pct(sum(aaa, bbb), ccc, ))";
        for cut in (0..TEXT.len()).filter(|&i| TEXT.is_char_boundary(i)) {
            for text in [&TEXT[..cut], &TEXT.replace('\n', "\n\n   \n")] {
                for (id, kind, index) in [("first", "definitions", 0), ("second", "definitions", 1)]
                {
                    for pos in [0, 5, 19, 26, 40] {
                        let _ = formula_place(text, &DefinitionAt { id, kind, index }, f, pos);
                    }
                }
            }
        }
    }

    #[test]
    fn no_place_for_what_is_not_there() {
        let none = |id, kind, index| {
            formula_place(TEXT, &DefinitionAt { id, kind, index }, "a", 0).is_none()
        };
        assert!(none("third", "definitions", 0));
        assert!(none("first", "definitions", 1));
        assert!(none("first", "crosschecks", 0));
    }
}
