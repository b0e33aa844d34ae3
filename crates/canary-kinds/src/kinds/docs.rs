//! What `canary kinds` prints and the README's kind table: each kind's description, its params
//! as its struct declares them (`params.rs`), the tables it writes with their columns, and an
//! example stage — the study's own stage of that kind, so the example is a stage that runs.

use crate::error::{did_you_mean, Error, Result};
use crate::stage::{Registry, StageKind};

/// The study's pipeline, for its stages as examples.
const STUDY: &str = include_str!("../../../../pipeline.yaml");

/// One line per kind.
pub fn list(registry: &Registry) -> String {
    let width = registry.names().map(str::len).max().unwrap_or(0);
    let mut out = String::new();
    for name in registry.names() {
        let kind = registry.get(name).expect("a listed kind");
        out.push_str(&format!("{name:width$}  {}\n", kind.describe()));
    }
    out.push_str("\n`canary kinds NAME` shows a kind's params, tables and an example stage.\n");
    out
}

/// Everything about one kind.
pub fn kind(registry: &Registry, name: &str) -> Result<String> {
    let kind = registry.get(name).ok_or_else(|| {
        let hint = did_you_mean(name, registry.names())
            .unwrap_or_else(|| "`canary kinds` lists them".to_string());
        Error::usage(format!("there is no stage kind `{name}`")).with_hint(hint)
    })?;
    let mut out = format!("{name}: {}\n", kind.describe());
    out.push_str("\nparams:\n");
    out.push_str(&params_text(kind.as_ref()));
    out.push_str("\ntables:\n");
    out.push_str(&tables_text(kind.as_ref()));
    out.push('\n');
    match example(name) {
        Some((stage, text)) => {
            out.push_str(&format!(
                "example (stage `{stage}` of the study's pipeline.yaml):\n"
            ));
            out.push_str(&text);
        }
        None => match kind.example() {
            Some(text) => {
                out.push_str("example:\n");
                out.push_str(text);
            }
            None => out.push_str("no example: the engine makes these stages itself\n"),
        },
    }
    Ok(out)
}

fn params_text(kind: &dyn StageKind) -> String {
    let params = kind.params();
    if params.is_empty() {
        return if kind.open_params() {
            "  any scalar param, substituted into the stage's text as `${name}`\n".into()
        } else {
            "  none\n".into()
        };
    }
    let rows: Vec<[String; 4]> = params
        .iter()
        .map(|p| {
            [
                p.name.clone(),
                p.type_text(),
                p.default_text(),
                p.help.clone(),
            ]
        })
        .collect();
    let w: Vec<usize> = (0..3)
        .map(|i| rows.iter().map(|r| r[i].chars().count()).max().unwrap_or(0))
        .collect();
    let mut out = String::new();
    for r in &rows {
        out.push_str(&format!(
            "  {:w0$}  {:w1$}  {:w2$}  {}\n",
            r[0],
            r[1],
            r[2],
            r[3],
            w0 = w[0],
            w1 = w[1],
            w2 = w[2]
        ));
    }
    out
}

fn tables_text(kind: &dyn StageKind) -> String {
    let tables = kind.outputs();
    if tables.is_empty() {
        return "  one table, whose columns the stage decides\n".into();
    }
    let mut out = String::new();
    for t in tables {
        let name = if t.name.is_empty() {
            "<stage>".to_string()
        } else {
            format!("<stage>_{}", t.name)
        };
        let columns = if t.columns.is_empty() {
            "columns decided by the stage".to_string()
        } else {
            t.columns.join(", ")
        };
        out.push_str(&format!("  {name}: {columns}\n"));
    }
    out
}

/// The first stage of the study's pipeline of kind `kind`: its name and its YAML text.
pub fn example(kind: &str) -> Option<(String, String)> {
    let stages = STUDY.split_once("\nstages:\n")?.1;
    let lines: Vec<&str> = stages.lines().collect();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let is_stage = line.starts_with("  ")
            && !line.starts_with("   ")
            && line.trim_end().ends_with(':')
            && !line.trim_start().starts_with('#');
        if !is_stage {
            if !line.is_empty() && !line.starts_with(' ') && !line.starts_with('#') {
                break; // the next top-level key
            }
            i += 1;
            continue;
        }
        let end = (i + 1..lines.len())
            .find(|&j| {
                let l = lines[j];
                !l.trim().is_empty() && !l.starts_with("   ")
            })
            .unwrap_or(lines.len());
        let block = &lines[i..end];
        let of_kind = block.iter().any(|l| l.trim() == format!("kind: {kind}"));
        if of_kind {
            let name = line.trim().trim_end_matches(':').to_string();
            let mut text: String = block
                .iter()
                .map(|l| format!("{}\n", l.strip_prefix("  ").unwrap_or(l)))
                .collect();
            while text.ends_with("\n\n") {
                text.pop();
            }
            return Some((name, text));
        }
        i = end;
    }
    None
}

/// The README's table of kinds, between `<!-- kinds -->` and `<!-- /kinds -->`.
pub fn readme_table(registry: &Registry) -> String {
    let mut out = String::from("| kind | what it does | params |\n| --- | --- | --- |\n");
    for name in registry.names() {
        let kind = registry.get(name).expect("a listed kind");
        let params: Vec<String> = kind
            .params()
            .iter()
            .map(|p| {
                if p.required {
                    format!("`{}`", p.name)
                } else {
                    format!("`{}` = {}", p.name, p.default_text().replace('`', ""))
                }
            })
            .collect();
        let params = if params.is_empty() {
            if kind.open_params() {
                "any scalar, as `${name}`".to_string()
            } else {
                "—".to_string()
            }
        } else {
            params.join(", ")
        };
        out.push_str(&format!(
            "| `{name}` | {} | {} |\n",
            kind.describe().replace('|', "\\|"),
            params.replace('|', "\\|")
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_an_example_that_is_a_stage_of_the_study_or_its_own() {
        let r = crate::kinds::builtin();
        for name in r.names() {
            let kind = r.get(name).unwrap();
            let found = example(name).is_some() || kind.example().is_some();
            assert!(found || name == "stack", "kind `{name}` has no example");
        }
        let (stage, text) = example("fit").unwrap();
        assert_eq!(stage, "model");
        assert!(text.starts_with("model:\n  kind: fit\n"), "{text}");
    }

    #[test]
    fn a_kind_page_lists_every_param_with_its_default() {
        let r = crate::kinds::builtin();
        let page = kind(&r, "fit").unwrap();
        for p in r.get("fit").unwrap().params().iter() {
            assert!(
                page.contains(&format!("  {}", p.name)),
                "{} missing:\n{page}",
                p.name
            );
        }
        assert!(page.contains("integer, at least 3"), "{page}");
        assert!(page.contains("`10`"), "{page}");
        let e = kind(&r, "fitt").unwrap_err().to_string();
        assert!(e.contains("did you mean `fit`"), "{e}");
    }
}
