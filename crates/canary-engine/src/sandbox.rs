//! SQL runs in a sandbox. Stage SQL and `canary sql` are queries: a statement that writes
//! (`COPY … TO`, `INSERT`), defines or drops tables (`CREATE`, `CREATE EXTERNAL TABLE … LOCATION`,
//! `DROP`), changes the session (`SET`) or reads a file (a table function other than
//! `range`/`generate_series`/`unnest`, a `LOCATION`) is refused before anything runs, with the
//! line and column of the statement or the table; and a query sees only the tables it was
//! given — a stage its declared inputs, `canary sql` the outputs.
//!
//! The check reads DataFusion's own parse of the text (its `DFParser`, on the sqlparser AST
//! DataFusion re-exports), never the text by search. A second fence stands behind it:
//! [`options`], DataFusion's `SQLOptions` with DDL, DML and statements disallowed, for every
//! query canary executes from a user's text.

use std::collections::BTreeSet;
use std::ops::ControlFlow;

use datafusion::execution::context::SQLOptions;
use datafusion::sql::parser::{DFParserBuilder, Statement as DfStatement};
use datafusion::sql::sqlparser::ast::{
    ObjectName, Query, Spanned, Statement, TableFactor, Visit, Visitor,
};
use datafusion::sql::sqlparser::dialect::GenericDialect;
use datafusion::sql::sqlparser::tokenizer::{Token, Tokenizer};

/// Table functions that read no file.
pub const TABLE_FUNCTIONS: [&str; 3] = ["range", "generate_series", "unnest"];

/// Whose SQL is checked: a stage's (one query) or `canary sql`'s (a query, `SHOW TABLES`,
/// `SHOW COLUMNS`, `DESCRIBE`, `EXPLAIN` of a query; `information_schema` visible).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Stage,
    Adhoc,
}

/// Why a text was refused, and where (1-based, in the text checked).
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    pub message: String,
    pub line: usize,
    pub column: usize,
    /// How many characters the message is about, for the `^^^` pointer.
    pub width: usize,
    pub hint: String,
}

/// DataFusion's own guard, for every execution of a user's SQL.
pub fn options() -> SQLOptions {
    SQLOptions::new()
        .with_allow_ddl(false)
        .with_allow_dml(false)
        .with_allow_statements(false)
}

struct Start {
    line: usize,
    column: usize,
    /// The statement's first words, upper-cased: what it is called in a message.
    words: Vec<String>,
}

/// Check `sql`. `tables` holds the names a query may read (lower-case unless they were
/// registered quoted). Text that does not parse passes: DataFusion reports the syntax error
/// itself, with its own words, when the query runs.
pub fn check(sql: &str, mode: Mode, tables: &BTreeSet<String>) -> Result<(), Refusal> {
    let dialect = GenericDialect {};
    let Ok(tokens) = Tokenizer::new(&dialect, sql).tokenize_with_location() else {
        return Ok(());
    };
    let mut starts: Vec<Start> = Vec::new();
    let mut at_start = true;
    for t in &tokens {
        match &t.token {
            Token::Whitespace(_) => {}
            Token::SemiColon => at_start = true,
            tok => {
                if at_start {
                    starts.push(Start {
                        line: t.span.start.line as usize,
                        column: t.span.start.column as usize,
                        words: Vec::new(),
                    });
                    at_start = false;
                }
                if let (Some(s), Token::Word(w)) = (starts.last_mut(), tok) {
                    if s.words.len() < 3 {
                        s.words.push(w.value.to_ascii_uppercase());
                    }
                }
            }
        }
    }
    let Ok(mut parser) = DFParserBuilder::new(sql).with_dialect(&dialect).build() else {
        return Ok(());
    };
    let Ok(statements) = parser.parse_statements() else {
        return Ok(());
    };
    let hint = match mode {
        Mode::Stage => "a stage's SQL is one query over its inputs (SELECT, WITH … SELECT, VALUES); canary writes its result. A file the SQL needs is declared as a source under `sources:` and listed in the stage's `inputs`",
        Mode::Adhoc => "`canary sql` only reads: a query, SHOW TABLES, SHOW COLUMNS or DESCRIBE; it writes nothing",
    };
    let refuse = |start: &Start, message: String| Refusal {
        message,
        line: start.line,
        column: start.column,
        width: start.words.first().map(|w| w.len()).unwrap_or(1),
        hint: hint.to_string(),
    };
    let nowhere = Start {
        line: 1,
        column: 1,
        words: Vec::new(),
    };
    if statements.len() > 1 && mode == Mode::Stage {
        let second = starts.get(1).or(starts.first()).unwrap_or(&nowhere);
        return Err(refuse(
            second,
            format!(
                "the SQL holds {} statements, a stage's one query",
                statements.len()
            ),
        ));
    }
    for (i, st) in statements.iter().enumerate() {
        let start = starts.get(i).unwrap_or(&nowhere);
        check_statement(st, mode, tables, start).map_err(|e| match e {
            Found::Statement(msg) => refuse(start, msg),
            Found::At(mut r) => {
                r.hint = hint.to_string();
                if r.line == 0 {
                    r.line = start.line;
                    r.column = start.column;
                }
                r
            }
        })?;
    }
    Ok(())
}

enum Found {
    /// The statement itself is refused: the message, placed at its start.
    Statement(String),
    /// Something inside it, placed where it is.
    At(Refusal),
}

fn named(start: &Start) -> String {
    match start.words.as_slice() {
        [] => "this statement".to_string(),
        [a, b, c, ..] if a == "CREATE" && (b == "EXTERNAL" || b == "OR") => {
            format!("`{a} {b} {c}`")
        }
        [a, b, ..] if a == "CREATE" || a == "DROP" => format!("`{a} {b}`"),
        [a, ..] => format!("`{a}`"),
    }
}

fn check_statement(
    st: &DfStatement,
    mode: Mode,
    tables: &BTreeSet<String>,
    start: &Start,
) -> Result<(), Found> {
    match st {
        DfStatement::CopyTo(c) => Err(Found::Statement(format!(
            "`COPY … TO '{}'` writes a file",
            crate::error::excerpt(&c.target, 120)
        ))),
        DfStatement::CreateExternalTable(c) => Err(Found::Statement(format!(
            "`CREATE EXTERNAL TABLE {}` reads a file by its LOCATION ({})",
            c.name,
            crate::error::excerpt(
                &c.locations
                    .iter()
                    .map(|l| format!("'{l}'"))
                    .collect::<Vec<_>>()
                    .join(", "),
                120
            )
        ))),
        DfStatement::Reset(_) => Err(Found::Statement(
            "`RESET` changes the session's settings".into(),
        )),
        DfStatement::Explain(e) if mode == Mode::Adhoc => {
            check_statement(&e.statement, mode, tables, start)
        }
        DfStatement::Explain(_) => Err(Found::Statement(
            "`EXPLAIN` describes a plan; a stage's SQL is the query itself".into(),
        )),
        DfStatement::Statement(s) => match s.as_ref() {
            Statement::Query(q) => check_query(q, mode, tables),
            Statement::ShowTables { .. }
            | Statement::ShowColumns { .. }
            | Statement::ExplainTable { .. }
                if mode == Mode::Adhoc =>
            {
                Ok(())
            }
            Statement::Explain { statement, .. } if mode == Mode::Adhoc => match statement.as_ref()
            {
                Statement::Query(q) => check_query(q, mode, tables),
                _ => Err(Found::Statement(format!(
                    "{} explains a statement that is not a query",
                    named(start)
                ))),
            },
            Statement::Insert(_)
            | Statement::Update { .. }
            | Statement::Delete(_)
            | Statement::Merge { .. }
            | Statement::Truncate { .. } => Err(Found::Statement(format!(
                "{} changes a table",
                named(start)
            ))),
            Statement::Copy { .. } => Err(Found::Statement(format!(
                "{} reads or writes a file",
                named(start)
            ))),
            Statement::Set(_) => Err(Found::Statement(format!(
                "{} changes the session's settings",
                named(start)
            ))),
            Statement::CreateTable(_)
            | Statement::CreateView { .. }
            | Statement::CreateSchema { .. }
            | Statement::CreateDatabase { .. }
            | Statement::CreateFunction(_) => Err(Found::Statement(format!(
                "{} defines something new in the session",
                named(start)
            ))),
            Statement::Drop { .. } | Statement::DropFunction(_) => Err(Found::Statement(format!(
                "{} removes a table",
                named(start)
            ))),
            _ => Err(Found::Statement(format!("{} is not a query", named(start)))),
        },
    }
}

/// Every CTE name of a query, inner ones included (DataFusion resolves their scopes).
struct Ctes(BTreeSet<String>);

impl Visitor for Ctes {
    type Break = ();
    fn pre_visit_query(&mut self, q: &Query) -> ControlFlow<()> {
        if let Some(with) = &q.with {
            for cte in &with.cte_tables {
                self.0.insert(ident_name(&cte.alias.name));
            }
        }
        ControlFlow::Continue(())
    }
}

fn ident_name(i: &datafusion::sql::sqlparser::ast::Ident) -> String {
    if i.quote_style.is_some() {
        i.value.clone()
    } else {
        i.value.to_lowercase()
    }
}

struct Relations<'a> {
    mode: Mode,
    tables: &'a BTreeSet<String>,
    ctes: BTreeSet<String>,
}

impl Relations<'_> {
    fn at(&self, name: &ObjectName, message: String) -> ControlFlow<Refusal> {
        let span = name.span();
        ControlFlow::Break(Refusal {
            message,
            line: span.start.line as usize,
            column: span.start.column as usize,
            width: name.to_string().chars().count().max(1),
            hint: String::new(),
        })
    }

    fn parts(name: &ObjectName) -> Option<Vec<String>> {
        name.0
            .iter()
            .map(|p| p.as_ident().map(ident_name))
            .collect()
    }

    fn allowed_table(&self, name: &ObjectName) -> bool {
        let Some(parts) = Self::parts(name) else {
            return false;
        };
        let known = |t: &str| self.tables.contains(t) || self.ctes.contains(t);
        let schema_ok =
            |s: &str| s == "public" || (s == "information_schema" && self.mode == Mode::Adhoc);
        match parts.as_slice() {
            [t] => known(t),
            [s, t] if s == "information_schema" => self.mode == Mode::Adhoc && !t.is_empty(),
            [s, t] => schema_ok(s) && known(t),
            [c, s, t] if c == "datafusion" => {
                (s == "information_schema" && self.mode == Mode::Adhoc)
                    || (schema_ok(s) && known(t))
            }
            _ => false,
        }
    }

    fn function(&self, name: &ObjectName) -> ControlFlow<Refusal> {
        let n = name.to_string().to_lowercase();
        if TABLE_FUNCTIONS.contains(&n.as_str()) {
            ControlFlow::Continue(())
        } else {
            self.at(
                name,
                format!(
                    "table function `{name}` is not allowed: only {} (which read no file) are",
                    TABLE_FUNCTIONS.map(|f| format!("`{f}`")).join(", ")
                ),
            )
        }
    }
}

impl Visitor for Relations<'_> {
    type Break = Refusal;
    fn pre_visit_table_factor(&mut self, f: &TableFactor) -> ControlFlow<Refusal> {
        match f {
            TableFactor::Table {
                name,
                args: Some(_),
                ..
            } => self.function(name),
            TableFactor::Table {
                name, args: None, ..
            } => {
                if self.allowed_table(name) {
                    return ControlFlow::Continue(());
                }
                let shown = name.to_string();
                let mut names: Vec<&str> = self.tables.iter().map(String::as_str).collect();
                names.sort();
                let what = match self.mode {
                    Mode::Stage => "one of the stage's inputs",
                    Mode::Adhoc => "an output table",
                };
                let suggestion =
                    crate::error::did_you_mean(&shown.to_lowercase(), names.iter().copied())
                        .map(|d| format!(" ({d})"))
                        .unwrap_or_default();
                let listed = if names.is_empty() {
                    "there are none".to_string()
                } else {
                    format!(
                        "they are: {}",
                        crate::error::excerpt(&names.join(", "), 300)
                    )
                };
                self.at(
                    name,
                    format!("`{shown}` is not {what}{suggestion}; {listed}"),
                )
            }
            TableFactor::Function { name, .. } => self.function(name),
            TableFactor::TableFunction { .. } => ControlFlow::Break(Refusal {
                message: "`TABLE(…)` is not allowed in canary's SQL".into(),
                line: 0,
                column: 0,
                width: 5,
                hint: String::new(),
            }),
            TableFactor::JsonTable { .. }
            | TableFactor::OpenJsonTable { .. }
            | TableFactor::XmlTable { .. }
            | TableFactor::SemanticView { .. } => ControlFlow::Break(Refusal {
                message: "this kind of table is not allowed in canary's SQL".into(),
                line: 0,
                column: 0,
                width: 1,
                hint: String::new(),
            }),
            _ => ControlFlow::Continue(()),
        }
    }
}

fn check_query(q: &Query, mode: Mode, tables: &BTreeSet<String>) -> Result<(), Found> {
    let mut ctes = Ctes(BTreeSet::new());
    let _ = q.visit(&mut ctes);
    let mut rel = Relations {
        mode,
        tables,
        ctes: ctes.0,
    };
    match q.visit(&mut rel) {
        ControlFlow::Break(r) => Err(Found::At(r)),
        ControlFlow::Continue(()) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tables() -> BTreeSet<String> {
        ["la", "referrals", "model_summary"]
            .map(String::from)
            .into()
    }

    fn refused(sql: &str, mode: Mode) -> Refusal {
        check(sql, mode, &tables()).expect_err(sql)
    }

    #[test]
    fn queries_over_the_inputs_pass() {
        for sql in [
            "select * from la",
            "SELECT * FROM LA l JOIN referrals r ON true",
            "with x as (select 1 a) select * from x, la",
            "select count(*) from range(10)",
            "select * from generate_series(1, 3)",
            "select (select max(1) from referrals) from la where exists (select 1 from la)",
            "values (1), (2)",
            "select 1; ",
            "selec nonsense",
        ] {
            assert_eq!(check(sql, Mode::Stage, &tables()), Ok(()), "{sql}");
        }
        for sql in [
            "show tables",
            "describe la",
            "select * from information_schema.tables",
            "explain select * from la",
        ] {
            assert_eq!(check(sql, Mode::Adhoc, &tables()), Ok(()), "{sql}");
        }
    }

    #[test]
    fn writes_definitions_settings_and_files_are_refused_where_they_are() {
        let r = refused(
            "-- a comment\n  COPY (SELECT 'x') TO 'raw/referrals.csv' STORED AS CSV",
            Mode::Stage,
        );
        assert!(
            r.message
                .contains("`COPY … TO 'raw/referrals.csv'` writes a file"),
            "{}",
            r.message
        );
        assert_eq!((r.line, r.column), (2, 3));
        let r = refused(
            "CREATE EXTERNAL TABLE p STORED AS CSV LOCATION '/etc/passwd'",
            Mode::Adhoc,
        );
        assert!(
            r.message
                .contains("reads a file by its LOCATION ('/etc/passwd')"),
            "{}",
            r.message
        );
        assert!(refused("insert into la values (1)", Mode::Stage)
            .message
            .contains("`INSERT` changes a table"));
        assert!(refused("create table t as select 1", Mode::Stage)
            .message
            .contains("`CREATE TABLE`"));
        assert!(refused("create view v as select 1", Mode::Adhoc)
            .message
            .contains("`CREATE VIEW`"));
        assert!(refused("drop table la", Mode::Adhoc)
            .message
            .contains("`DROP TABLE` removes"));
        assert!(refused(
            "set datafusion.execution.target_partitions = 4",
            Mode::Stage
        )
        .message
        .contains("`SET`"));
        assert!(refused("select 1; select 2", Mode::Stage)
            .message
            .contains("2 statements"));
        assert!(refused("explain select 1", Mode::Stage)
            .message
            .contains("EXPLAIN"));
        let r = refused("select *\nfrom read_csv('/etc/passwd')", Mode::Stage);
        assert!(
            r.message.contains("table function `read_csv`"),
            "{}",
            r.message
        );
        assert_eq!((r.line, r.column), (2, 6));
        let r = refused("select * from '/etc/passwd'", Mode::Adhoc);
        assert!(
            r.message.contains("is not an output table"),
            "{}",
            r.message
        );
        let r = refused("select * from la join refferals on true", Mode::Stage);
        assert!(
            r.message.contains("did you mean `referrals`?"),
            "{}",
            r.message
        );
        assert!(
            refused("select * from information_schema.tables", Mode::Stage)
                .message
                .contains("not one of the stage's inputs")
        );
        assert!(
            refused("explain copy (select 1) to '/tmp/x.csv'", Mode::Adhoc)
                .message
                .contains("writes a file")
        );
        assert!(refused("update la set year = 1", Mode::Stage)
            .message
            .contains("`UPDATE` changes a table"));
        assert!(refused("delete from la", Mode::Stage)
            .message
            .contains("`DELETE` changes a table"));
        assert!(refused("truncate la", Mode::Adhoc)
            .message
            .contains("`TRUNCATE` changes a table"));
        assert!(
            refused("reset datafusion.execution.batch_size", Mode::Adhoc)
                .message
                .contains("`RESET`")
        );
        assert!(refused("select * from table(x)", Mode::Stage)
            .message
            .contains("TABLE("));
        // Quoted names are exact: `"LA"` is not `la`.
        assert!(refused("select * from \"LA\"", Mode::Stage)
            .message
            .contains("not one of the stage's inputs"));
    }
}
