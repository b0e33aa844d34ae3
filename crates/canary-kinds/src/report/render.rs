//! Rendering: the context through the tera templates (HTML autoescaped; the SVGs marked
//! `safe` in the template), the pages and figures written atomically, each hashed without its
//! run-specific blocks so the stage's table — and the lock — do not depend on the run.

use std::path::Path;

use crate::error::{Error, Result};
use crate::stage::StageContext;

/// Marks a block of a rendered report that depends on the run, not on the data: durations,
/// dates, host, commit, a verification verdict. Templates wrap such blocks in these HTML
/// comments (valid in Markdown).
pub const RUN_SPECIFIC_START: &str = "<!-- run-specific -->";
pub const RUN_SPECIFIC_END: &str = "<!-- /run-specific -->";

/// The templates, in the folder the stage's `templates` param names.
pub const TEMPLATES: [(&str, &str); 2] = [
    ("report.html.tera", "report.html"),
    ("report.md.tera", "report.md"),
];

/// The text with every run-specific block removed, markers and all: what the report's content
/// hash and its snapshot test are taken over, so that adding or changing such a block (a
/// verification section, another run's durations) leaves the content as it was.
pub fn without_run_specific(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find(RUN_SPECIFIC_START) {
        out.push_str(&rest[..start]);
        let after = start + RUN_SPECIFIC_START.len();
        match rest[after..].find(RUN_SPECIFIC_END) {
            Some(end) => rest = &rest[after + end + RUN_SPECIFIC_END.len()..],
            None => {
                rest = "";
                break;
            }
        }
    }
    out.push_str(rest);
    out
}

/// What was written: `(path relative to the project, content SHA-256, content bytes)`.
pub type Written = Vec<(String, String, u64)>;

/// Render both templates with `context` and write them, then `figures` (relative path, SVG)
/// beside them; returns what was written.
pub fn write_all(
    ctx: &StageContext,
    context: &tera::Context,
    figures: &[(String, String)],
) -> Result<Written> {
    let root = &ctx.pipeline.root;
    let params: super::ReportParams = ctx.params()?;
    let templates = root.join(&params.templates);
    let out_rel = params.out_dir().to_string();
    let out_dir = root.join(&out_rel);
    let mut written = Written::new();
    // Into the stage's staging folder: the engine moves the pages into place once the stage
    // has succeeded, and keeps them in its cache with the tables.
    let mut write = |rel: &str, bytes: &[u8]| -> Result<()> {
        let dest = out_dir.join(rel);
        let staged = ctx.side_path(&format!("{out_rel}/{rel}"));
        if let Some(dir) = staged.parent() {
            std::fs::create_dir_all(dir).map_err(|e| Error::io("create", dir, e))?;
        }
        std::fs::write(&staged, bytes).map_err(|e| Error::io("write", &staged, e))?;
        let content = without_run_specific(&String::from_utf8_lossy(bytes));
        written.push((
            ctx.pipeline.relative(&dest).to_string(),
            crate::hash::sha256_bytes(content.as_bytes()),
            content.len() as u64,
        ));
        Ok(())
    };
    for (name, file) in TEMPLATES {
        write(
            file,
            render(ctx, &templates.join(name), name, context)?.as_bytes(),
        )?;
    }
    for (rel, svg) in figures {
        write(rel, svg.as_bytes())?;
    }
    Ok(written)
}

fn render(ctx: &StageContext, path: &Path, name: &str, context: &tera::Context) -> Result<String> {
    let text =
        std::fs::read_to_string(path).map_err(|e| Error::io("read the template", path, e))?;
    let mut tera = tera::Tera::default();
    // Escape what the data says in the HTML; the SVGs are marked `safe` in the template.
    tera.autoescape_on(vec![".html.tera"]);
    tera.add_raw_template(name, &text)
        .map_err(|e| parse_error(ctx, path, &text, &e))?;
    tera.render(name, context)
        .map_err(|e| render_error(ctx, path, &text, &e))
}

/// A template that parses but fails as it renders (a name the context lacks, an unknown
/// filter): tera gives no place, only the name in backticks, so the place is that name's
/// first use inside a `{{ }}` or `{% %}` tag, when there is one.
fn render_error(ctx: &StageContext, path: &Path, text: &str, e: &tera::Error) -> Error {
    let words = tera_error(e);
    let rel = ctx.pipeline.relative(path).to_string();
    let err = ctx
        .fail(format!("template `{rel}`: {words}"))
        .with_hint("the names a template may use are the fields of the section structs in crates/canary-kinds/src/report/ (listed in its mod.rs)");
    let name = words.split('`').nth(1).filter(|n| !n.is_empty());
    match name.and_then(|n| first_use(text, n)) {
        Some((line, column)) => {
            let mut loc = crate::error::Location::new(&rel, line, column);
            loc.text = text.lines().nth(line - 1).map(str::to_string);
            err.at(Some(loc))
        }
        None => err,
    }
}

/// The 1-based line and column (in characters) of the first use of `name` as a whole word
/// inside a tera tag.
fn first_use(text: &str, name: &str) -> Option<(usize, usize)> {
    let word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '.');
    let mut from = 0;
    while let Some(open) = text[from..].find(['{']).map(|i| from + i) {
        let close = match text.get(open + 1..open + 2) {
            Some("{") => "}}",
            Some("%") => "%}",
            _ => {
                from = open + 1;
                continue;
            }
        };
        let end = text[open..].find(close).map_or(text.len(), |i| open + i);
        let tag = &text[open..end];
        let hit = tag.match_indices(name).map(|(i, _)| i).find(|&i| {
            !word(tag[..i].chars().next_back()) && !word(tag[i + name.len()..].chars().next())
        });
        if let Some(i) = hit {
            let at = open + i;
            let line_start = text[..at].rfind('\n').map_or(0, |n| n + 1);
            let line = text[..at].matches('\n').count() + 1;
            return Some((line, text[line_start..at].chars().count() + 1));
        }
        from = end.max(open + 1);
    }
    None
}

/// A template that does not parse, at its line and column with the line and a caret. tera
/// keeps the place only in its parser's message (` --> line:column`, then `= expected …`),
/// so it is read from there; without it the message is tera's as it is.
pub fn parse_error(ctx: &StageContext, path: &Path, text: &str, e: &tera::Error) -> Error {
    let words = tera_error(e);
    let place = words.split_once(" --> ").and_then(|(_, rest)| {
        let digits = |s: &str| {
            s.chars()
                .take_while(char::is_ascii_digit)
                .collect::<String>()
        };
        let line: usize = digits(rest).parse().ok()?;
        let column: usize = digits(rest.split_once(':')?.1).parse().ok()?;
        Some((line, column))
    });
    let rel = ctx.pipeline.relative(path).to_string();
    let Some((line, column)) = place.filter(|(l, c)| *l > 0 && *c > 0) else {
        return ctx.fail(format!("template `{rel}`: {words}"));
    };
    let expected = words
        .lines()
        .find_map(|l| l.trim_start().strip_prefix("= "))
        .unwrap_or("it does not parse");
    let mut loc = crate::error::Location::new(&rel, line, column);
    loc.text = text.lines().nth(line - 1).map(str::to_string);
    ctx.fail(format!("template `{rel}` does not parse: {expected}"))
        .at(Some(loc))
        .with_hint("tera's syntax: `{{ value }}`, `{% if … %}…{% endif %}`, `{% for x in list %}…{% endfor %}`")
}

fn tera_error(e: &tera::Error) -> String {
    let mut s = e.to_string();
    let mut src = std::error::Error::source(e);
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
    }
    s
}

#[cfg(test)]
mod tests {
    use super::first_use;

    #[test]
    fn a_name_is_found_at_its_first_use_in_a_tag() {
        let text = "title table2\n{{ table2.n }} and {{ table2_x }}\n{% for r in table2.rows %}{% endfor %}";
        // Not in the text outside tags, nor inside a longer name.
        assert_eq!(first_use(text, "table2.n"), Some((2, 4)));
        assert_eq!(first_use(text, "table2.rows"), Some((3, 13)));
        assert_eq!(first_use(text, "table2"), None);
        assert_eq!(first_use(text, "nope"), None);
        assert_eq!(first_use("{ {{ x", "x"), Some((1, 6)));
    }
}
