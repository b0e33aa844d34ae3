//! `${param}` in SQL, substituted by where it stands, so that a value can never change what
//! the statement is:
//!
//! - outside quotes, as a typed SQL literal: a string `'quoted, '' escaped'`, a number as
//!   written, `TRUE`/`FALSE`, `NULL` (a nullable param);
//! - inside a quoted SQL string (`'${outcome_window}'`), as the value's text with `'` doubled;
//! - inside a quoted identifier (`"${column}"`), as its text with `"` doubled;
//! - inside a comment, as its text on one line (a newline or `*/` cannot end the comment).
//!
//! A list or a mapping has no SQL literal: it is an error that names the param, its value
//! and the line, except in a comment. `$${` writes `${`.

use std::collections::BTreeMap;

use serde_json::Value as J;

/// Why a placeholder could not be substituted.
#[derive(Debug, Clone, PartialEq)]
pub enum SubstError {
    /// The name is not a param.
    Missing(String),
    /// The value has no SQL form where it stands. `line`/`column` are 1-based, in the text.
    Unrenderable {
        name: String,
        value: String,
        line: usize,
        column: usize,
        why: String,
    },
}

#[derive(Clone, Copy, PartialEq)]
enum Ctx {
    Code,
    Str,
    Ident,
    LineComment,
    BlockComment,
}

/// At most this many characters of a value are quoted in a message.
const QUOTE: usize = 80;

fn shorten(s: &str) -> String {
    if s.chars().count() <= QUOTE {
        s.to_string()
    } else {
        format!(
            "{}… ({} bytes)",
            s.chars().take(QUOTE).collect::<String>(),
            s.len()
        )
    }
}

fn lookup<'a>(name: &str, scope: &'a BTreeMap<String, J>) -> Option<&'a J> {
    let mut parts = name.split('.');
    let mut v = scope.get(parts.next()?)?;
    for p in parts {
        v = v.get(p)?;
    }
    Some(v)
}

fn text_of(v: &J) -> Option<String> {
    match v {
        J::String(s) => Some(s.clone()),
        J::Number(n) => Some(n.to_string()),
        J::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn render(v: &J, ctx: Ctx) -> Result<String, String> {
    let kind = |v: &J| match v {
        J::Array(_) => "a list",
        J::Object(_) => "a mapping",
        J::Null => "null",
        _ => "a value",
    };
    match ctx {
        Ctx::Code => match v {
            J::String(s) => Ok(format!("'{}'", s.replace('\'', "''"))),
            J::Number(n) => Ok(n.to_string()),
            J::Bool(true) => Ok("TRUE".into()),
            J::Bool(false) => Ok("FALSE".into()),
            J::Null => Ok("NULL".into()),
            other => Err(format!(
                "it is {}, which SQL has no literal for",
                kind(other)
            )),
        },
        Ctx::Str => match text_of(v) {
            Some(t) => Ok(t.replace('\'', "''")),
            None => Err(format!(
                "it is {} and stands inside a quoted SQL string, which takes text{}",
                kind(v),
                if v.is_null() {
                    " (outside the quotes it would be NULL)"
                } else {
                    ""
                }
            )),
        },
        Ctx::Ident => match text_of(v) {
            Some(t) => Ok(t.replace('"', "\"\"")),
            None => Err(format!(
                "it is {} and stands inside a quoted identifier, which takes text",
                kind(v)
            )),
        },
        Ctx::LineComment | Ctx::BlockComment => {
            let t = text_of(v).unwrap_or_else(|| v.to_string());
            Ok(t.replace(['\n', '\r'], " ").replace("*/", "* /"))
        }
    }
}

/// Substitute every `${name}` of `sql` from `scope` by the rule above.
pub fn substitute(sql: &str, scope: &BTreeMap<String, J>) -> Result<String, SubstError> {
    let mut out = String::with_capacity(sql.len());
    let bytes = sql.as_bytes();
    let mut ctx = Ctx::Code;
    let (mut line, mut col) = (1usize, 1usize);
    let mut i = 0;
    while i < bytes.len() {
        let rest = &sql[i..];
        if rest.starts_with("$${") {
            out.push_str("${");
            i += 3;
            col += 3;
            continue;
        }
        if let Some(body) = rest.strip_prefix("${") {
            if let Some(end) = body.find('}') {
                let name = body[..end].trim();
                let value =
                    lookup(name, scope).ok_or_else(|| SubstError::Missing(name.to_string()))?;
                let rendered = render(value, ctx).map_err(|why| SubstError::Unrenderable {
                    name: name.to_string(),
                    value: shorten(&value.to_string()),
                    line,
                    column: col,
                    why,
                })?;
                out.push_str(&rendered);
                let len = end + 3;
                col += rest[..len].chars().count();
                i += len;
                continue;
            }
        }
        let c = rest.chars().next().unwrap_or_default();
        let next = rest[c.len_utf8()..].chars().next();
        ctx = match (ctx, c, next) {
            (Ctx::Code, '\'', _) => Ctx::Str,
            (Ctx::Code, '"', _) => Ctx::Ident,
            (Ctx::Code, '-', Some('-')) => Ctx::LineComment,
            (Ctx::Code, '/', Some('*')) => {
                // Both characters at once, so `/*/` does not also close the comment.
                out.push_str("/*");
                i += 2;
                col += 2;
                ctx = Ctx::BlockComment;
                continue;
            }
            // A doubled quote inside a string or identifier is part of it: the state flips
            // out and straight back in at the next character.
            (Ctx::Str, '\'', _) => Ctx::Code,
            (Ctx::Ident, '"', _) => Ctx::Code,
            (Ctx::LineComment, '\n', _) => Ctx::Code,
            (Ctx::BlockComment, '*', Some('/')) => {
                out.push_str("*/");
                i += 2;
                col += 2;
                ctx = Ctx::Code;
                continue;
            }
            (same, _, _) => same,
        };
        out.push(c);
        i += c.len_utf8();
        if c == '\n' {
            line += 1;
            col = 1;
        } else {
            col += 1;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn scope() -> BTreeMap<String, J> {
        [
            ("n".to_string(), json!(10)),
            ("x".to_string(), json!(0.5)),
            ("s".to_string(), json!("O'Brien")),
            ("w".to_string(), json!("2012..2013")),
            ("b".to_string(), json!(true)),
            ("z".to_string(), J::Null),
            ("l".to_string(), json!([1, 2])),
            ("m".to_string(), json!({"a": 1, "t": "x\ny"})),
        ]
        .into()
    }

    #[test]
    fn literals_by_where_they_stand() {
        let s = scope();
        assert_eq!(
            substitute("select ${n}, ${x}, ${b}, ${z}", &s).unwrap(),
            "select 10, 0.5, TRUE, NULL"
        );
        assert_eq!(substitute("select ${s}", &s).unwrap(), "select 'O''Brien'");
        assert_eq!(
            substitute("where w = '${w}' and n = '${n}'", &s).unwrap(),
            "where w = '2012..2013' and n = '10'"
        );
        assert_eq!(
            substitute("select 'it''s ${s}'", &s).unwrap(),
            "select 'it''s O''Brien'"
        );
        assert_eq!(
            substitute("select \"${s}\"", &s).unwrap(),
            "select \"O'Brien\""
        );
        assert_eq!(
            substitute("-- t+${n} ${m.t}\nselect ${m.a}", &s).unwrap(),
            "-- t+10 x y\nselect 1"
        );
        assert_eq!(
            substitute("/* ${l} */ select 1", &s).unwrap(),
            "/* [1,2] */ select 1"
        );
        assert_eq!(substitute("select '$${n}'", &s).unwrap(), "select '${n}'");
    }

    #[test]
    fn injection_stays_a_string() {
        let mut s = scope();
        s.insert("evil".into(), json!("x'; COPY (SELECT 1) TO '/tmp/x' --"));
        assert_eq!(
            substitute("select '${evil}'", &s).unwrap(),
            "select 'x''; COPY (SELECT 1) TO ''/tmp/x'' --'"
        );
        assert_eq!(
            substitute("select ${evil}", &s).unwrap(),
            "select 'x''; COPY (SELECT 1) TO ''/tmp/x'' --'"
        );
        s.insert("nl".into(), json!("a\nselect 2"));
        assert_eq!(
            substitute("-- ${nl}\nselect 1", &s).unwrap(),
            "-- a select 2\nselect 1"
        );
    }

    #[test]
    fn lists_maps_and_missing_names_are_refused_with_the_line() {
        let s = scope();
        match substitute("select 1\nwhere x in (${l})", &s).unwrap_err() {
            SubstError::Unrenderable {
                name,
                value,
                line,
                column,
                why,
            } => {
                assert_eq!(
                    (name.as_str(), value.as_str(), line, column),
                    ("l", "[1,2]", 2, 13)
                );
                assert!(why.contains("a list"), "{why}");
            }
            e => panic!("{e:?}"),
        }
        assert!(matches!(
            substitute("select ${m}", &s),
            Err(SubstError::Unrenderable { .. })
        ));
        assert!(matches!(
            substitute("select '${z}'", &s),
            Err(SubstError::Unrenderable { .. })
        ));
        assert_eq!(
            substitute("select ${nope}", &s),
            Err(SubstError::Missing("nope".into()))
        );
    }
}
