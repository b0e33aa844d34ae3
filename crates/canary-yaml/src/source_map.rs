//! Where keys and list items are in a YAML text, so that a validation error found after
//! deserialising (serde keeps no spans) can point at the user's line.

/// A place in the text: 1-based line and column, and how many characters to underline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub line: usize,
    pub column: usize,
    pub width: usize,
}

/// The keys of a YAML file by their path of nested mapping keys, found by reading its lines:
/// enough for the block style canary's files are written in.
pub struct SourceMap<'a> {
    lines: Vec<&'a str>,
}

impl<'a> SourceMap<'a> {
    pub fn new(text: &'a str) -> Self {
        SourceMap {
            lines: text.lines().collect(),
        }
    }

    /// The span of the key at the end of `keys` (e.g. `["stages", "trends", "inputs"]`).
    pub fn key(&self, keys: &[&str]) -> Option<Span> {
        let (line, indent) = self.find_key(keys)?;
        let key = keys.last()?;
        Some(span(line, indent, key.chars().count()))
    }

    /// The span of `word` inside the value of the key path (an inline list `[a, b]` or a
    /// block list below it); falls back to the key itself.
    pub fn item(&self, keys: &[&str], word: &str) -> Option<Span> {
        let (line, indent) = self.find_key(keys)?;
        let end = self.block_end(line, indent);
        for l in line..end {
            let text = self.lines[l];
            let start = if l == line {
                indent + keys.last()?.len()
            } else {
                0
            };
            if let Some(col) = find_word(text, word, start) {
                return Some(span(l, col, word.chars().count()));
            }
        }
        self.key(keys)
    }

    /// The text of a line (1-based).
    pub fn line(&self, line: usize) -> Option<&'a str> {
        self.lines.get(line.checked_sub(1)?).copied()
    }

    fn find_key(&self, keys: &[&str]) -> Option<(usize, usize)> {
        let mut from = 0;
        let mut to = self.lines.len();
        let mut parent_indent: Option<usize> = None;
        let mut found = None;
        for key in keys {
            let mut hit = None;
            for l in from..to {
                let text = self.lines[l];
                let indent = text.len() - text.trim_start().len();
                let body = text.trim_start();
                if body.is_empty() || body.starts_with('#') {
                    continue;
                }
                if parent_indent.is_some_and(|p| indent <= p) {
                    continue;
                }
                let unquoted = body.trim_start_matches(['"', '\'']);
                if let Some(rest) = unquoted.strip_prefix(key) {
                    let rest = rest.trim_start_matches(['"', '\'']);
                    if rest.starts_with(':') {
                        hit = Some((l, indent + (body.len() - unquoted.len())));
                        break;
                    }
                }
            }
            let (l, indent) = hit?;
            found = Some((l, indent));
            parent_indent = Some(indent);
            from = l + 1;
            to = self.block_end(l, indent);
        }
        found
    }

    fn block_end(&self, line: usize, indent: usize) -> usize {
        for l in line + 1..self.lines.len() {
            let text = self.lines[l];
            let body = text.trim_start();
            if body.is_empty() || body.starts_with('#') {
                continue;
            }
            if text.len() - body.len() <= indent && !body.starts_with("- ") {
                return l;
            }
            if text.len() - body.len() < indent {
                return l;
            }
        }
        self.lines.len()
    }
}

fn span(line0: usize, col0: usize, width: usize) -> Span {
    Span {
        line: line0 + 1,
        column: col0 + 1,
        width,
    }
}

fn find_word(text: &str, word: &str, start: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut from = start.min(text.len());
    while let Some(i) = text.get(from..).and_then(|t| t.find(word)) {
        let at = from + i;
        let before = at.checked_sub(1).map(|j| bytes[j] as char);
        let after = bytes.get(at + word.len()).map(|b| *b as char);
        let boundary =
            |c: Option<char>| c.is_none_or(|c| !(c.is_alphanumeric() || c == '_' || c == '.'));
        if boundary(before) && boundary(after) {
            return Some(at);
        }
        from = at + word.len();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "name: demo\nsources:\n  refs:\n    path: raw/r.csv\n    sha256: abc\nstages:\n  a:\n    kind: sql\n    inputs: [refs, nope]\n  b:\n    kind: sql\n    inputs:\n      - a\n      - other\n";

    #[test]
    fn locates_keys_and_items() {
        let map = SourceMap::new(TEXT);
        let k = map.key(&["stages", "b", "kind"]).unwrap();
        assert_eq!((k.line, k.column), (11, 5));
        let i = map.item(&["stages", "a", "inputs"], "nope").unwrap();
        assert_eq!((i.line, i.column, i.width), (9, 20, 4));
        let j = map.item(&["stages", "b", "inputs"], "other").unwrap();
        assert_eq!((j.line, j.column), (14, 9));
    }
}
