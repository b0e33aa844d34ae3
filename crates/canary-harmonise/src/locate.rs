//! Where a definition's formula, or an indicator's entry, is in the text of `indicators.yaml`. serde keeps no spans, so
//! a formula that fails to parse after deserialising is placed by reading the lines, as
//! `canary_yaml::SourceMap` does for keys: enough for the block style the dictionary is
//! written in (an indicator per list item, its definitions a block list of flow or block
//! mappings). A flow-style list of definitions gives no place, and the error says so by
//! having none.

use canary_yaml::SourceMap;
use std::ops::Range;

/// One definition of the dictionary: `{id}.{kind}[index]`.
pub(crate) struct DefinitionAt<'a> {
    pub id: &'a str,
    /// `definitions` or `crosschecks`.
    pub kind: &'a str,
    pub index: usize,
}

/// A place in the file: 1-based line and column (in characters), and the line's text.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Place {
    pub line: usize,
    pub column: usize,
    pub text: String,
}

/// The place in `text` of byte `position` of the formula of definition `at` (`formula` as
/// parsed from the YAML), or None when the definition cannot be found in the lines.
pub(crate) fn formula_place(
    text: &str,
    at: &DefinitionAt,
    formula: &str,
    position: usize,
) -> Option<Place> {
    let map = SourceMap::new(text);
    let lines: Vec<&str> = (1..).map_while(|n| map.line(n)).collect();
    let top = map.key(&["indicators"])?.line - 1;
    let indicator = indicator_item(&lines, top, at.id)?;
    let definition = sequence_items(&lines, &indicator, at.kind)?
        .into_iter()
        .nth(at.index)?;
    let (start, style) = formula_value(&lines, definition)?;
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

/// The place of an indicator's entry (`{id}`, or `{id}.{kind}[index]` for one of its
/// definitions or crosschecks): the definition's first line, else the indicator's `id:` line.
/// None for other entries (populations, reconcile) or when the lines cannot be read.
pub(crate) fn entry_place(text: &str, entry: &str) -> Option<Place> {
    let map = SourceMap::new(text);
    let lines: Vec<&str> = (1..).map_while(|n| map.line(n)).collect();
    let top = map.key(&["indicators"])?.line - 1;
    let (id, rest) = match entry.split_once('.') {
        Some((id, rest)) => (id, Some(rest)),
        None => (entry, None),
    };
    let indicator = indicator_item(&lines, top, id)?;
    let line = rest
        .and_then(|r| {
            let (kind, index) = r.strip_suffix(']')?.split_once('[')?;
            let items = sequence_items(&lines, &indicator, kind)?;
            Some(items.get(index.parse::<usize>().ok()?)?.start)
        })
        .or_else(|| {
            indicator
                .range
                .clone()
                .find(|&l| key_rest(lines[l], indicator.indent, "id").is_some())
        })?;
    let text = lines.get(line)?.to_string();
    Some(Place {
        line: line + 1,
        column: text.chars().take_while(|c| *c == ' ' || *c == '-').count() + 1,
        text,
    })
}

/// Lines `range` of a block whose keys start at column `indent`.
struct Block {
    range: Range<usize>,
    indent: usize,
}

/// How a scalar is written, which decides how its text maps onto the line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    /// `>` or `|`: the text starts on the next line.
    Block,
}

/// Leading spaces of a line.
fn indent(line: &str) -> usize {
    line.len() - line.trim_start().len()
}

/// A line YAML ignores between entries.
fn blank(line: &str) -> bool {
    let t = line.trim_start();
    t.is_empty() || t.starts_with('#')
}

/// The column where a line's content starts after its list dashes (`- - key` → `key`).
fn content_column(line: &str) -> usize {
    let mut col = indent(line);
    while let Some(rest) = line.get(col..).and_then(|r| r.strip_prefix('-')) {
        if !(rest.is_empty() || rest.starts_with(' ')) {
            break;
        }
        col = line.len() - rest.trim_start().len();
    }
    col
}

/// The text after `key:` when the line has that key at column `col`.
fn key_rest<'a>(line: &'a str, col: usize, key: &str) -> Option<&'a str> {
    if content_column(line) != col {
        return None;
    }
    let rest = line.get(col..)?.strip_prefix(key)?.strip_prefix(':')?;
    (rest.is_empty() || rest.starts_with(' ')).then_some(rest)
}

/// A scalar as written, without quotes or a trailing comment.
fn scalar(rest: &str) -> &str {
    let v = rest.trim();
    let v = v.split(" #").next().unwrap_or(v).trim_end();
    v.trim_matches(|c| c == '\'' || c == '"')
}

/// The lines of the `indicators` list item whose `id` is `id`.
fn indicator_item(lines: &[&str], top: usize, id: &str) -> Option<Block> {
    let top_indent = indent(lines.get(top)?);
    let ends = |l: &str| {
        !blank(l)
            && (indent(l) < top_indent
                || (indent(l) == top_indent && !l.trim_start().starts_with('-')))
    };
    let end = (top + 1..lines.len())
        .find(|&l| ends(lines[l]))
        .unwrap_or(lines.len());
    let (id_line, col) = (top + 1..end).find_map(|l| {
        let col = content_column(lines[l]);
        key_rest(lines[l], col, "id")
            .filter(|rest| scalar(rest) == id)
            .map(|_| (l, col))
    })?;
    // The item starts at its dash, which may be above the `id` key.
    let start = (top + 1..=id_line)
        .rev()
        .find(|&l| content_column(lines[l]) == col && indent(lines[l]) < col)?;
    let item_end = (start + 1..end)
        .find(|&l| !blank(lines[l]) && indent(lines[l]) < col)
        .unwrap_or(end);
    Some(Block {
        range: start..item_end,
        indent: col,
    })
}

/// The line ranges of the items of the block list under key `key` of `block`.
fn sequence_items(lines: &[&str], block: &Block, key: &str) -> Option<Vec<Range<usize>>> {
    let key_line = block
        .range
        .clone()
        .find(|&l| key_rest(lines[l], block.indent, key).is_some())?;
    if !blank(key_rest(lines[key_line], block.indent, key)?) {
        return None;
    }
    let first = (key_line + 1..block.range.end).find(|&l| !blank(lines[l]))?;
    let dash = indent(lines[first]);
    if !lines[first].trim_start().starts_with('-') || dash < block.indent {
        return None;
    }
    let is_item = |l: &str| indent(l) == dash && l.trim_start().starts_with('-');
    let end = (first..block.range.end)
        .find(|&l| {
            !blank(lines[l])
                && (indent(lines[l]) < dash || (indent(lines[l]) == dash && !is_item(lines[l])))
        })
        .unwrap_or(block.range.end);
    let starts: Vec<usize> = (first..end).filter(|&l| is_item(lines[l])).collect();
    Some(
        starts
            .iter()
            .enumerate()
            .map(|(i, &s)| s..starts.get(i + 1).copied().unwrap_or(end))
            .collect(),
    )
}

/// Where the formula's text starts (0-based line and column) in a definition's lines, and
/// how it is written.
fn formula_value(lines: &[&str], item: Range<usize>) -> Option<((usize, usize), Style)> {
    for l in item.clone() {
        let line = lines[l];
        let Some(at) = formula_key(line) else {
            continue;
        };
        let value = at + "formula:".len();
        let col = value + (line.len() - value - line[value..].trim_start().len());
        let start = line[..col].chars().count();
        return match line[col..].chars().next() {
            Some('\'') => Some(((l, start + 1), Style::SingleQuoted)),
            Some('"') => Some(((l, start + 1), Style::DoubleQuoted)),
            Some('>' | '|') => {
                let next = (l + 1..item.end).find(|&n| !blank(lines[n]))?;
                Some(((next, indent(lines[next])), Style::Block))
            }
            Some(_) => Some(((l, start), Style::Plain)),
            None => None,
        };
    }
    None
}

/// The byte offset of a `formula:` key in a line: at the line's content or after `{`, `,`.
fn formula_key(line: &str) -> Option<usize> {
    let content = content_column(line);
    line.match_indices("formula:").map(|(i, _)| i).find(|&i| {
        let before = line[..i].trim_end();
        let after = line[i + "formula:".len()..].chars().next();
        (i == content || before.ends_with('{') || before.ends_with(','))
            && after.is_none_or(|c| c == ' ')
    })
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
