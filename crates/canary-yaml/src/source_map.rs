//! Where keys and list items are in a YAML text, so that a validation error found after
//! deserialising (serde keeps no spans) can point at the user's line.
//!
//! The places come from saphyr-parser's events, which carry the span of every node: a key is
//! found as a YAML reader sees it, whatever its style (block or flow, quoted or plain), and a
//! commented-out line is never taken for a key.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle};

/// A place in the text: 1-based line and column, and how many characters to underline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub line: usize,
    pub column: usize,
    pub width: usize,
}

/// One step of a path into a document, for [`SourceMap::node`] and [`SourceMap::key_at`].
#[derive(Debug, Clone, Copy)]
pub enum Step<'s> {
    /// The value of a mapping's key.
    Key(&'s str),
    /// The item of a sequence at this index (0-based).
    Index(usize),
    /// The item of a sequence that is a mapping whose key (the first) holds the scalar (the
    /// second): `ItemWith("id", "referrals_rate")`.
    ItemWith(&'s str, &'s str),
}

/// How a scalar is written, which decides how its parsed text maps back onto the lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    /// `|`: the node starts where its text does, on a line after the indicator's.
    Literal,
    /// `>`: as `Literal`.
    Folded,
}

/// Where a node starts (1-based line and column in characters: at the opening quote or
/// bracket, a block scalar at its text), and for a scalar how it is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NodeAt {
    pub line: usize,
    pub column: usize,
    pub style: Option<Style>,
}

/// Where an error points in the text: 1-based line and column (in characters), and the line,
/// for a caret under it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    pub line: usize,
    pub column: usize,
    pub text: String,
}

/// The keys of a YAML file by their path of nested mapping keys.
///
/// A text that does not parse keeps what was read before the error: its keys are found, the
/// rest are not (key and item answer `None`). Guessing from indentation past a syntax error
/// would point with confidence at the wrong line, and the syntax error is already located.
pub struct SourceMap<'a> {
    text: &'a str,
    lines: Vec<&'a str>,
    /// Byte offset of each line's start, to turn a node's offset into a line and column that
    /// agree with [`SourceMap::line`] (which splits on `\n`, as `str::lines` does).
    line_starts: Vec<usize>,
    nodes: Vec<Node>,
    /// Mapping node → its keys → the first (key, value) nodes of each: a look-up costs the same
    /// in a pipeline of 10,000 stages as in one of ten.
    keys: HashMap<usize, HashMap<String, (usize, usize)>>,
}

/// One node of the text in document order. A collection is its opening node, then its
/// children, then a closing node: the flat form needs no recursion however deep the text nests.
struct Node {
    kind: Kind,
    /// Byte range in the text (the parser counts characters; the text is sliced in bytes).
    start: usize,
    end: usize,
    /// For a collection, the index of its closing node (the end of `nodes` when the text broke
    /// off before it).
    close: usize,
}

enum Kind {
    Scalar { value: String, style: Style },
    Mapping,
    Sequence,
    Close,
    Alias,
}

impl<'a> SourceMap<'a> {
    pub fn new(text: &'a str) -> Self {
        // The parser leaves a leading byte-order mark out of the first node's position, and an
        // editor shows none: dropping it keeps line 1's columns as the user sees them.
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let line_starts = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i + 1))
            .collect();
        let mut map = SourceMap {
            text,
            lines: text.lines().collect(),
            line_starts,
            nodes: parse(text),
            keys: HashMap::new(),
        };
        let mut keys: HashMap<usize, HashMap<String, (usize, usize)>> = HashMap::new();
        for (n, node) in map.nodes.iter().enumerate() {
            if matches!(node.kind, Kind::Mapping) {
                let of = keys.entry(n).or_default();
                for (k, v) in map.entries(n) {
                    if let Kind::Scalar { value, .. } = &map.nodes[k].kind {
                        of.entry(value.clone()).or_insert((k, v));
                    }
                }
            }
        }
        map.keys = keys;
        map
    }

    /// The span of the key at the end of `keys` (e.g. `["stages", "trends", "inputs"]`). Each
    /// key names an entry of a mapping: the path does not step into lists. In a text of several
    /// documents, the first document holding the path answers.
    pub fn key(&self, keys: &[&str]) -> Option<Span> {
        let (key, _) = self.find(keys)?;
        Some(self.scalar_span(key, keys.last()?.chars().count()))
    }

    /// The span of `word` inside the value of the key path (an inline list `[a, b]`, a block
    /// list, a mapping or a scalar); falls back to the key itself. A scalar equal to `word` is
    /// preferred; failing one, the first scalar holding `word` as a whole word (`refs` in
    /// `select * from refs`, not in `refs_old` or `refs.csv`).
    pub fn item(&self, keys: &[&str], word: &str) -> Option<Span> {
        let (key, value) = self.find(keys)?;
        let key_span = self.scalar_span(key, keys.last()?.chars().count());
        // An empty word would match every null value.
        if word.is_empty() {
            return Some(key_span);
        }
        let width = word.chars().count();
        let within = value..self.after(value);
        let equal = within
            .clone()
            .find(|&n| matches!(&self.nodes[n].kind, Kind::Scalar { value, .. } if value == word));
        if let Some(n) = equal {
            return Some(self.scalar_span(n, width));
        }
        let holding = within.into_iter().find_map(|n| {
            let node = &self.nodes[n];
            let Kind::Scalar { .. } = node.kind else {
                return None;
            };
            let source = self.text.get(node.start..node.end)?;
            find_word(source, word).map(|at| node.start + at)
        });
        Some(holding.map_or(key_span, |at| self.span_at(at, width)))
    }

    /// Where the node at the end of `path` starts: a path that steps into lists as well as
    /// mappings (`[Key("indicators"), ItemWith("id", "x"), Key("definitions"), Index(1)]`).
    pub fn node(&self, path: &[Step]) -> Option<NodeAt> {
        let (_, node) = self.resolve(path)?;
        let n = &self.nodes[node];
        let span = self.span_at(n.start, 1);
        Some(NodeAt {
            line: span.line,
            column: span.column,
            style: match n.kind {
                Kind::Scalar { style, .. } => Some(style),
                _ => None,
            },
        })
    }

    /// The span of the key that ends `path` (its last step a [`Step::Key`]).
    pub fn key_at(&self, path: &[Step]) -> Option<Span> {
        let Some(Step::Key(last)) = path.last() else {
            return None;
        };
        let (key, _) = self.resolve(path)?;
        Some(self.scalar_span(key?, last.chars().count()))
    }

    /// The place of what ends `path`: its key when the path ends on one, else the node.
    pub fn place(&self, path: &[Step]) -> Option<Place> {
        let (line, column) = match self.key_at(path) {
            Some(k) => (k.line, k.column),
            None => self.node(path).map(|n| (n.line, n.column))?,
        };
        Some(Place {
            line,
            column,
            text: self.line(line)?.to_string(),
        })
    }

    /// The (key, value) nodes at the end of `path` (no key when it ends on a list item), in the
    /// first document that has it.
    fn resolve(&self, path: &[Step]) -> Option<(Option<usize>, usize)> {
        if path.is_empty() {
            return None;
        }
        self.roots().find_map(|root| {
            let mut at = (None, root);
            for step in path {
                at = match *step {
                    Step::Key(k) => {
                        let (key, value) = self.entry(at.1, k)?;
                        (Some(key), value)
                    }
                    Step::Index(i) => (None, self.items(at.1).nth(i)?),
                    Step::ItemWith(k, v) => (
                        None,
                        self.items(at.1).find(|&item| {
                            self.entry(item, k).is_some_and(|(_, value)| {
                                matches!(&self.nodes[value].kind, Kind::Scalar { value: s, .. } if s == v)
                            })
                        })?,
                    ),
                };
            }
            Some(at)
        })
    }

    /// The (key, value) of `key` in a mapping node.
    fn entry(&self, map: usize, key: &str) -> Option<(usize, usize)> {
        self.keys.get(&map)?.get(key).copied()
    }

    /// The items of a sequence node; none for any other node.
    fn items(&self, seq: usize) -> impl Iterator<Item = usize> + '_ {
        let (mut at, close) = match self.nodes.get(seq) {
            Some(Node {
                kind: Kind::Sequence,
                close,
                ..
            }) => (seq + 1, *close),
            _ => (0, 0),
        };
        std::iter::from_fn(move || {
            (at < close).then(|| {
                let item = at;
                at = self.after(at);
                item
            })
        })
    }

    /// The text of a line (1-based).
    pub fn line(&self, line: usize) -> Option<&'a str> {
        self.lines.get(line.checked_sub(1)?).copied()
    }

    /// The (key, value) nodes of the key path, in the first document that has it.
    fn find(&self, keys: &[&str]) -> Option<(usize, usize)> {
        self.roots().find_map(|root| {
            let mut found = None;
            let mut node = root;
            for key in keys {
                let hit = self.entry(node, key)?;
                found = Some(hit);
                node = hit.1;
            }
            found
        })
    }

    /// The top-level node of each document.
    fn roots(&self) -> impl Iterator<Item = usize> + '_ {
        let mut at = 0;
        std::iter::from_fn(move || {
            while self
                .nodes
                .get(at)
                .is_some_and(|n| matches!(n.kind, Kind::Close))
            {
                at += 1;
            }
            let root = (at < self.nodes.len()).then_some(at)?;
            at = self.after(root);
            Some(root)
        })
    }

    /// The (key, value) pairs of a mapping node; none for any other node.
    fn entries(&self, map: usize) -> impl Iterator<Item = (usize, usize)> + '_ {
        let (mut at, close) = match self.nodes.get(map) {
            Some(Node {
                kind: Kind::Mapping,
                close,
                ..
            }) => (map + 1, *close),
            _ => (0, 0),
        };
        std::iter::from_fn(move || {
            let value = self.after(at);
            // A mapping cut short by a syntax error may end on a key without its value.
            if at >= close || value >= close {
                return None;
            }
            let entry = (at, value);
            at = self.after(value);
            Some(entry)
        })
    }

    /// The index just past a node and, for a collection, all it holds.
    fn after(&self, node: usize) -> usize {
        match self.nodes.get(node) {
            Some(Node {
                kind: Kind::Mapping | Kind::Sequence,
                close,
                ..
            }) => (close + 1).min(self.nodes.len()),
            _ => node + 1,
        }
    }

    /// Where a scalar's text starts: inside its quotes, so the underline is under the word.
    fn scalar_span(&self, node: usize, width: usize) -> Span {
        let n = &self.nodes[node];
        let quoted = matches!(
            n.kind,
            Kind::Scalar {
                style: Style::SingleQuoted | Style::DoubleQuoted,
                ..
            }
        );
        self.span_at(n.start + usize::from(quoted), width)
    }

    /// The span at a byte offset. A span underlines one line, so a width running past the
    /// line's end (a word equal to a whole block scalar) stops there.
    fn span_at(&self, byte: usize, width: usize) -> Span {
        let line0 = self.line_starts.partition_point(|&s| s <= byte).max(1) - 1;
        let start = self.line_starts[line0];
        let column = self.text.get(start..byte).map_or(0, |t| t.chars().count());
        let rest = self
            .line(line0 + 1)
            .map_or(0, |l| l.chars().count().saturating_sub(column));
        Span {
            line: line0 + 1,
            column: column + 1,
            width: width.min(rest.max(1)),
        }
    }
}

/// The text's nodes, as far as it parses.
fn parse(text: &str) -> Vec<Node> {
    // Marker indices count characters; `byte_at[i]` is where character i starts.
    let byte_at: Vec<usize> = text
        .char_indices()
        .map(|(b, _)| b)
        .chain(std::iter::once(text.len()))
        .collect();
    let byte = |chars: usize| byte_at.get(chars).copied().unwrap_or(text.len());
    let mut nodes: Vec<Node> = Vec::new();
    let mut open = Vec::new();
    for event in Parser::new_from_str(text) {
        let Ok((event, span)) = event else { break };
        let kind = match event {
            Event::Scalar(value, style, ..) => Kind::Scalar {
                value: value.into_owned(),
                style: match style {
                    ScalarStyle::SingleQuoted => Style::SingleQuoted,
                    ScalarStyle::DoubleQuoted => Style::DoubleQuoted,
                    ScalarStyle::Literal => Style::Literal,
                    ScalarStyle::Folded => Style::Folded,
                    _ => Style::Plain,
                },
            },
            Event::MappingStart(..) => Kind::Mapping,
            Event::SequenceStart(..) => Kind::Sequence,
            Event::MappingEnd | Event::SequenceEnd => Kind::Close,
            Event::Alias(_) => Kind::Alias,
            _ => continue,
        };
        match kind {
            Kind::Mapping | Kind::Sequence => open.push(nodes.len()),
            Kind::Close => {
                if let Some(o) = open.pop() {
                    nodes[o].close = nodes.len();
                }
            }
            _ => {}
        }
        nodes.push(Node {
            kind,
            start: byte(span.start.index()),
            end: byte(span.end.index()),
            close: 0,
        });
    }
    for o in open {
        nodes[o].close = nodes.len();
    }
    nodes
}

/// The byte offset of `word` in `text` where it stands as a whole word: not inside a longer
/// name, a dotted path (`refs.csv`) or a snake_case one (`refs_old`).
fn find_word(text: &str, word: &str) -> Option<usize> {
    let boundary =
        |c: Option<char>| c.is_none_or(|c| !(c.is_alphanumeric() || c == '_' || c == '.'));
    text.match_indices(word).map(|(at, _)| at).find(|&at| {
        boundary(text[..at].chars().next_back()) && boundary(text[at + word.len()..].chars().next())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "name: demo\nsources:\n  refs:\n    path: raw/r.csv\n    sha256: abc\nstages:\n  a:\n    kind: sql\n    inputs: [refs, nope]\n  b:\n    kind: sql\n    inputs:\n      - a\n      - other\n";

    fn at(s: Option<Span>) -> Option<(usize, usize, usize)> {
        s.map(|s| (s.line, s.column, s.width))
    }

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

    #[test]
    fn an_item_not_in_the_value_falls_back_to_the_key() {
        let map = SourceMap::new(TEXT);
        // `refs` is a key elsewhere in the file, not in b's inputs.
        let i = map.item(&["stages", "b", "inputs"], "refs");
        assert_eq!(at(i), Some((12, 5, 6)));
        assert_eq!(map.key(&["stages", "c"]), None);
        assert_eq!(map.item(&["stages", "c"], "a"), None);
        assert_eq!(map.key(&[]), None);
    }

    #[test]
    fn quoted_keys_and_values_point_inside_the_quotes() {
        let text = "\"stages\":\n  'a':\n    \"inputs\": ['x', \"y\"]\n    'kind': \"sql\"\n";
        let map = SourceMap::new(text);
        assert_eq!(at(map.key(&["stages", "a", "inputs"])), Some((3, 6, 6)));
        assert_eq!(
            at(map.item(&["stages", "a", "inputs"], "y")),
            Some((3, 22, 1))
        );
        assert_eq!(
            at(map.item(&["stages", "a", "kind"], "sql")),
            Some((4, 14, 3))
        );
    }

    #[test]
    fn columns_count_characters_not_bytes() {
        let text = "titre: «été»\nstages:\n  café:\n    inputs: [naïve, déjà]\n";
        let map = SourceMap::new(text);
        assert_eq!(at(map.key(&["stages", "café"])), Some((3, 3, 4)));
        assert_eq!(
            at(map.item(&["stages", "café", "inputs"], "déjà")),
            Some((4, 21, 4))
        );
        // A byte-order mark is not a column the user sees.
        let map = SourceMap::new("\u{feff}é: [x, y]\n");
        assert_eq!(at(map.item(&["é"], "y")), Some((1, 8, 1)));
    }

    #[test]
    fn comments_are_not_keys_or_items() {
        let text = "# kind: old\nstages:\n  a:\n    # inputs: [nope]\n    inputs: [x] # nope\n    kind: sql\n";
        let map = SourceMap::new(text);
        assert_eq!(at(map.key(&["stages", "a", "inputs"])), Some((5, 5, 6)));
        assert_eq!(
            at(map.item(&["stages", "a", "inputs"], "nope")),
            Some((5, 5, 6))
        );
        assert_eq!(map.key(&["kind"]), None);
    }

    #[test]
    fn flow_mappings_are_read_like_block_ones() {
        let text = "stages: {a: {kind: sql, inputs: [x, y]}, b: {params: {nope: 1}}}\n";
        let map = SourceMap::new(text);
        assert_eq!(at(map.key(&["stages", "a", "inputs"])), Some((1, 25, 6)));
        assert_eq!(
            at(map.item(&["stages", "a", "inputs"], "y")),
            Some((1, 37, 1))
        );
        assert_eq!(
            at(map.key(&["stages", "b", "params", "nope"])),
            Some((1, 55, 4))
        );
        assert_eq!(
            at(map.item(&["stages", "b", "params"], "nope")),
            Some((1, 55, 4))
        );
    }

    #[test]
    fn a_word_is_found_inside_a_scalar_as_a_whole_word() {
        let text = "a:\n  sql: |\n    select * from refs_old, refs.csv,\n      refs\n  p: \"${model.seed}\"\n  inputs: [foo-bar, foo]\n";
        let map = SourceMap::new(text);
        assert_eq!(at(map.item(&["a", "sql"], "refs")), Some((4, 7, 4)));
        assert_eq!(at(map.item(&["a", "p"], "model.seed")), Some((5, 9, 10)));
        // An equal item beats one that merely holds the word.
        assert_eq!(at(map.item(&["a", "inputs"], "foo")), Some((6, 21, 3)));
        // A scalar over several lines is underlined on its first.
        let sql = "select * from refs_old, refs.csv,\n  refs\n";
        assert_eq!(at(map.item(&["a", "sql"], sql)), Some((3, 5, 33)));
    }

    #[test]
    fn paths_do_not_step_into_lists() {
        let map = SourceMap::new("a:\n  - b: 1\n    c: 2\n");
        assert_eq!(map.key(&["a", "b"]), None);
        assert_eq!(map.key(&["a", "c"]), None);
        assert_eq!(at(map.item(&["a"], "c")), Some((3, 5, 1)));
    }

    #[test]
    fn later_documents_and_crlf_lines_are_located() {
        let map = SourceMap::new("a: 1\r\n---\r\nb:\r\n  c: [x, y]\r\n");
        assert_eq!(at(map.key(&["b", "c"])), Some((4, 3, 1)));
        assert_eq!(at(map.item(&["b", "c"], "y")), Some((4, 10, 1)));
        assert_eq!(map.line(4), Some("  c: [x, y]"));
        assert_eq!(at(map.key(&["a"])), Some((1, 1, 1)));
    }

    #[test]
    fn unparsable_text_keeps_what_came_before_the_error() {
        let map = SourceMap::new("a:\n  b: 1\n c: 2\nd: 3\n");
        assert_eq!(at(map.key(&["a", "b"])), Some((2, 3, 1)));
        assert_eq!(map.key(&["d"]), None);
        assert_eq!(map.line(3), Some(" c: 2"));
        let map = SourceMap::new("a: [x, y\nb: 1\n");
        assert_eq!(at(map.item(&["a"], "x")), Some((1, 5, 1)));
        // A list the error left open is searched to the end of what was read.
        assert_eq!(at(map.item(&["a"], "zzz")), Some((1, 1, 1)));
        assert_eq!(map.key(&["b"]), None);
        for broken in [
            "",
            "\t- : : [}{",
            "a:\n\t- b\n",
            "'open",
            "{a: [",
            "- a\nb: c",
            "&x a: *y *z",
        ] {
            let map = SourceMap::new(broken);
            let _ = map.key(&["a", "b"]);
            let _ = map.item(&["a", "b"], "x");
            let _ = map.item(&["a"], "");
        }
    }

    #[test]
    fn paths_step_into_lists_by_index_and_by_a_key_s_value() {
        let text = "indicators:\n  - id: a\n    defs: [{f: 'x'}]\n  - label: B\n    id: b\n    defs:\n      - f: y\n      - f: >-\n          z\n";
        let map = SourceMap::new(text);
        let b = [Step::Key("indicators"), Step::ItemWith("id", "b")];
        assert_eq!(map.node(&b).map(|n| (n.line, n.column)), Some((4, 5)));
        let id = map.key_at(&[b[0], b[1], Step::Key("id")]).unwrap();
        assert_eq!((id.line, id.column), (5, 5));
        let f = |id, i| {
            let path = [
                Step::Key("indicators"),
                Step::ItemWith("id", id),
                Step::Key("defs"),
                Step::Index(i),
                Step::Key("f"),
            ];
            map.node(&path).map(|n| (n.line, n.column, n.style))
        };
        assert_eq!(f("a", 0), Some((3, 16, Some(Style::SingleQuoted))));
        assert_eq!(f("b", 0), Some((7, 12, Some(Style::Plain))));
        // A block scalar starts where its text does, on the line after `>-`.
        assert_eq!(f("b", 1), Some((9, 11, Some(Style::Folded))));
        assert_eq!(f("b", 2), None);
        assert_eq!(f("c", 0), None);
        assert_eq!(map.node(&[]), None);
        assert_eq!(map.key_at(&[Step::Key("indicators"), Step::Index(0)]), None);
    }
}
