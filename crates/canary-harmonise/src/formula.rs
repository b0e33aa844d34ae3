//! The small expression language of `indicators.yaml` formulas, so that a change of
//! definition is an edit to data, not to Rust.
//!
//! Grammar: `expr := term (('+'|'-') term)*`, `term := unary (('*'|'/') unary)*`,
//! `unary := '-' unary | atom`, `atom := number | ref | name '(' args ')' | '(' expr ')'`.
//! A `ref` is a measure name, either in backticks (any characters: EES names such as
//! `` `rereferral_percent[category=Referrals and Re-referrals]` ``) or bare (letters, digits,
//! `_`, `{placeholder}`); `source::` before the name reads another source than the
//! definition's. `population_0_17` is the LA's 0-17 population. Functions: `rate(x)` =
//! x / population_0_17 × 10,000; `pct(a, b)` = 100 a / b; `sum(a, …)`; `zna(x)` = 0 when x is
//! "not applicable" (2013-14 LAs on the other assessment framework publish `.`).
//!
//! Placeholders keep one formula valid across the CIN census years, whose column names carry
//! the year: for reporting year 2010 (2009-10) `{yy}` = `0910`, `{ys}` = `09`, `{ye}` = `10`,
//! `{year}` = `2010`, `{mid}` = `2009` (the mid-year of the population estimate).

use super::error::HarmoniseError;
use super::status::ValueStatus;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Add,
    Sub,
    Mul,
    Div,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Func {
    Rate,
    Pct,
    Sum,
    Zna,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct MeasureRef {
    /// None = the definition's own source.
    pub source: Option<String>,
    /// The name with placeholders unexpanded.
    pub template: String,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    Num(f64),
    Measure(MeasureRef),
    Population,
    Neg(Box<Expr>),
    Bin(Op, Box<Expr>, Box<Expr>),
    Call(Func, Vec<Expr>),
}

pub const PLACEHOLDERS: &[&str] = &["yy", "ys", "ye", "year", "mid"];

/// Expands the year placeholders of a measure template for a reporting year.
pub fn expand(template: &str, year: i32) -> String {
    let yy = |y: i32| format!("{:02}", y.rem_euclid(100));
    template
        .replace("{yy}", &format!("{}{}", yy(year - 1), yy(year)))
        .replace("{ys}", &yy(year - 1))
        .replace("{ye}", &yy(year))
        .replace("{year}", &year.to_string())
        .replace("{mid}", &(year - 1).to_string())
}

/// Placeholders in a template that are not known, so a typo fails at load time.
pub fn unknown_placeholders(template: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = template;
    while let Some(i) = rest.find('{') {
        let Some(j) = rest[i..].find('}') else {
            out.push(rest[i..].to_string());
            break;
        };
        let name = &rest[i + 1..i + j];
        if !PLACEHOLDERS.contains(&name) {
            out.push(format!("{{{name}}}"));
        }
        rest = &rest[i + j + 1..];
    }
    out
}

impl Expr {
    /// Every measure the expression reads, in order of appearance.
    pub fn measures(&self) -> Vec<&MeasureRef> {
        let mut v = Vec::new();
        self.walk(&mut |e| {
            if let Expr::Measure(m) = e {
                v.push(m)
            }
        });
        v
    }

    /// Whether the expression needs the population (a rate).
    pub fn uses_population(&self) -> bool {
        let mut found = false;
        self.walk(&mut |e| {
            if matches!(e, Expr::Population | Expr::Call(Func::Rate, _)) {
                found = true
            }
        });
        found
    }

    fn walk<'a>(&'a self, f: &mut dyn FnMut(&'a Expr)) {
        f(self);
        match self {
            Expr::Neg(a) => a.walk(f),
            Expr::Bin(_, a, b) => {
                a.walk(f);
                b.walk(f);
            }
            Expr::Call(_, args) => args.iter().for_each(|a| a.walk(f)),
            _ => {}
        }
    }
}

/// A value with the reason it is (or is not) there.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Val {
    pub value: Option<f64>,
    pub status: ValueStatus,
}

impl Val {
    pub fn ok(v: f64) -> Val {
        Val {
            value: Some(v),
            status: ValueStatus::Ok,
        }
    }
    pub fn missing(status: ValueStatus) -> Val {
        Val {
            value: None,
            status,
        }
    }
}

/// Evaluates with `lookup` resolving measures and the population. A missing operand makes
/// the result missing, with the worst status among the operands, so the panel says why.
pub fn eval<E>(
    e: &Expr,
    lookup: &mut dyn FnMut(&MeasureRef) -> Result<Val, E>,
    population: &mut dyn FnMut() -> Result<Val, E>,
) -> Result<Val, E> {
    Ok(match e {
        Expr::Num(x) => Val::ok(*x),
        Expr::Measure(m) => lookup(m)?,
        Expr::Population => population()?,
        Expr::Neg(a) => {
            let a = eval(a, lookup, population)?;
            Val {
                value: a.value.map(|x| -x),
                ..a
            }
        }
        Expr::Bin(op, a, b) => {
            let a = eval(a, lookup, population)?;
            let b = eval(b, lookup, population)?;
            binary(*op, a, b)
        }
        Expr::Call(Func::Rate, args) => {
            let x = eval(&args[0], lookup, population)?;
            let p = population()?;
            binary(Op::Mul, binary(Op::Div, x, p), Val::ok(10_000.0))
        }
        Expr::Call(Func::Pct, args) => {
            let a = eval(&args[0], lookup, population)?;
            let b = eval(&args[1], lookup, population)?;
            binary(Op::Mul, binary(Op::Div, a, b), Val::ok(100.0))
        }
        Expr::Call(Func::Sum, args) => {
            let mut acc = Val::ok(0.0);
            for a in args {
                let v = eval(a, lookup, population)?;
                acc = binary(Op::Add, acc, v);
            }
            acc
        }
        Expr::Call(Func::Zna, args) => {
            let x = eval(&args[0], lookup, population)?;
            if x.status == ValueStatus::NotApplicable {
                Val::ok(0.0)
            } else {
                x
            }
        }
    })
}

fn binary(op: Op, a: Val, b: Val) -> Val {
    match (a.value, b.value) {
        (Some(x), Some(y)) => match op {
            Op::Add => Val::ok(x + y),
            Op::Sub => Val::ok(x - y),
            Op::Mul => Val::ok(x * y),
            Op::Div if y == 0.0 => Val::missing(ValueStatus::ZeroDenominator),
            Op::Div => Val::ok(x / y),
        },
        _ => Val::missing(a.status.max(b.status)),
    }
}

/// Parses a formula; `entry` names the dictionary entry for the error message.
pub fn parse(entry: &str, text: &str) -> Result<Expr, HarmoniseError> {
    let mut p = Parser {
        s: text.as_bytes(),
        i: 0,
        entry,
        text,
    };
    let e = p.expr()?;
    p.ws();
    if p.i < p.s.len() {
        return Err(p.err("unexpected text after the end of the expression"));
    }
    Ok(e)
}

struct Parser<'a> {
    s: &'a [u8],
    i: usize,
    entry: &'a str,
    text: &'a str,
}

fn is_name_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'{' || c == b'}'
}

impl Parser<'_> {
    fn err(&self, message: &str) -> HarmoniseError {
        HarmoniseError::Formula {
            entry: self.entry.to_string(),
            formula: self.text.to_string(),
            position: self.i,
            message: message.to_string(),
            at: None,
        }
    }
    fn ws(&mut self) {
        while self.i < self.s.len() && self.s[self.i].is_ascii_whitespace() {
            self.i += 1;
        }
    }
    fn peek(&mut self) -> Option<u8> {
        self.ws();
        self.s.get(self.i).copied()
    }
    fn expect(&mut self, c: u8) -> Result<(), HarmoniseError> {
        if self.peek() == Some(c) {
            self.i += 1;
            Ok(())
        } else {
            Err(self.err(&format!("expected `{}`", c as char)))
        }
    }
    fn expr(&mut self) -> Result<Expr, HarmoniseError> {
        let mut a = self.term()?;
        while let Some(c @ (b'+' | b'-')) = self.peek() {
            self.i += 1;
            let b = self.term()?;
            let op = if c == b'+' { Op::Add } else { Op::Sub };
            a = Expr::Bin(op, Box::new(a), Box::new(b));
        }
        Ok(a)
    }
    fn term(&mut self) -> Result<Expr, HarmoniseError> {
        let mut a = self.unary()?;
        while let Some(c @ (b'*' | b'/')) = self.peek() {
            self.i += 1;
            let b = self.unary()?;
            let op = if c == b'*' { Op::Mul } else { Op::Div };
            a = Expr::Bin(op, Box::new(a), Box::new(b));
        }
        Ok(a)
    }
    fn unary(&mut self) -> Result<Expr, HarmoniseError> {
        if self.peek() == Some(b'-') {
            self.i += 1;
            return Ok(Expr::Neg(Box::new(self.unary()?)));
        }
        self.atom()
    }
    fn name(&mut self) -> String {
        let start = self.i;
        while self.i < self.s.len() && is_name_byte(self.s[self.i]) {
            self.i += 1;
        }
        self.text[start..self.i].to_string()
    }
    fn quoted(&mut self) -> Result<String, HarmoniseError> {
        let start = self.i;
        self.i += 1;
        match self.text[self.i..].find('`') {
            Some(j) => {
                let s = self.text[self.i..self.i + j].trim().to_string();
                self.i += j + 1;
                if s.is_empty() {
                    self.i = start;
                    return Err(self.err("empty measure name in backticks"));
                }
                Ok(s)
            }
            None => {
                self.i = start;
                Err(self.err("unclosed backtick"))
            }
        }
    }
    fn measure(&mut self, first: String, at: usize) -> Result<Expr, HarmoniseError> {
        // `source::measure`: the first name read was the source.
        if self.s[self.i..].starts_with(b"::") {
            self.i += 2;
            let name = match self.s.get(self.i) {
                Some(b'`') => self.quoted()?,
                Some(&c) if is_name_byte(c) => self.name(),
                _ => return Err(self.err("expected a measure name after `::`")),
            };
            return self.check_ref(Some(first), name, at);
        }
        self.check_ref(None, first, at)
    }
    fn check_ref(
        &mut self,
        source: Option<String>,
        template: String,
        at: usize,
    ) -> Result<Expr, HarmoniseError> {
        let bad = unknown_placeholders(&template);
        if !bad.is_empty() {
            self.i = at;
            return Err(self.err(&format!(
                "unknown placeholder {} (known: {{{}}})",
                bad.join(", "),
                PLACEHOLDERS.join("}, {")
            )));
        }
        Ok(Expr::Measure(MeasureRef { source, template }))
    }
    fn atom(&mut self) -> Result<Expr, HarmoniseError> {
        let at = {
            self.ws();
            self.i
        };
        match self.peek() {
            None => Err(self.err("unexpected end of formula")),
            Some(b'(') => {
                self.i += 1;
                let e = self.expr()?;
                self.expect(b')')?;
                Ok(e)
            }
            Some(b'`') => {
                let name = self.quoted()?;
                if self.s[self.i..].starts_with(b"::") {
                    return self.measure(name, at);
                }
                // `source::measure` inside the backticks too.
                if let Some((src, m)) = name.split_once("::") {
                    if !src.is_empty()
                        && src.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_')
                    {
                        return self.check_ref(Some(src.to_string()), m.trim().to_string(), at);
                    }
                }
                self.check_ref(None, name, at)
            }
            Some(c) if c.is_ascii_digit() || c == b'.' => {
                let start = self.i;
                while self.i < self.s.len()
                    && (self.s[self.i].is_ascii_digit() || self.s[self.i] == b'.')
                {
                    self.i += 1;
                }
                self.text[start..self.i]
                    .parse()
                    .map(Expr::Num)
                    .map_err(|_| {
                        self.i = start;
                        self.err("not a number")
                    })
            }
            Some(c) if is_name_byte(c) => {
                let name = self.name();
                if self.peek() == Some(b'(') {
                    let func = match name.as_str() {
                        "rate" => Func::Rate,
                        "pct" => Func::Pct,
                        "sum" => Func::Sum,
                        "zna" => Func::Zna,
                        _ => {
                            self.i = at;
                            return Err(self.err(&format!(
                                "unknown function `{name}` (known: rate, pct, sum, zna)"
                            )));
                        }
                    };
                    self.i += 1;
                    let mut args = Vec::new();
                    if self.peek() != Some(b')') {
                        loop {
                            args.push(self.expr()?);
                            if self.peek() == Some(b',') {
                                self.i += 1;
                            } else {
                                break;
                            }
                        }
                    }
                    self.expect(b')')?;
                    let arity_ok = match func {
                        Func::Rate | Func::Zna => args.len() == 1,
                        Func::Pct => args.len() == 2,
                        Func::Sum => !args.is_empty(),
                    };
                    if !arity_ok {
                        self.i = at;
                        return Err(self.err(&format!(
                            "`{name}` takes {}, got {}",
                            match func {
                                Func::Rate | Func::Zna => "one argument",
                                Func::Pct => "two arguments",
                                Func::Sum => "one or more arguments",
                            },
                            args.len()
                        )));
                    }
                    return Ok(Expr::Call(func, args));
                }
                if name == "population_0_17" {
                    return Ok(Expr::Population);
                }
                self.measure(name, at)
            }
            Some(c) => Err(self.err(&format!("unexpected `{}`", c as char))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn val(e: &Expr, f: &dyn Fn(&str) -> Val, pop: f64) -> Val {
        eval::<()>(e, &mut |m| Ok(f(&m.template)), &mut || Ok(Val::ok(pop))).unwrap()
    }

    #[test]
    fn precedence_functions_and_quoted_names() {
        let e = parse("t", "pct(sum(`IAs1-5days{yy}`, a) , b) + 2 * -3").unwrap();
        let v = val(
            &e,
            &|m| match m {
                "IAs1-5days{yy}" => Val::ok(3.0),
                "a" => Val::ok(1.0),
                "b" => Val::ok(8.0),
                _ => panic!("{m}"),
            },
            1.0,
        );
        assert_eq!(v.value, Some(50.0 - 6.0));
        let r = parse("t", "rate(x)").unwrap();
        assert_eq!(val(&r, &|_| Val::ok(5.0), 200.0).value, Some(250.0));
        let s = parse("t", "csww::inpost_fte + `b1::At31[c=d, e=f]`").unwrap();
        let ms = s.measures();
        assert_eq!(ms[0].source.as_deref(), Some("csww"));
        assert_eq!(
            ms[1],
            &MeasureRef {
                source: Some("b1".into()),
                template: "At31[c=d, e=f]".into()
            }
        );
    }

    #[test]
    fn worst_status_wins_and_zero_denominator() {
        let e = parse("t", "sum(a, b) / c").unwrap();
        let v = val(
            &e,
            &|m| match m {
                "a" => Val::missing(ValueStatus::Suppressed),
                "b" => Val::missing(ValueStatus::NotAvailable),
                _ => Val::ok(1.0),
            },
            1.0,
        );
        assert_eq!(v, Val::missing(ValueStatus::NotAvailable));
        let z = val(
            &e,
            &|m| if m == "c" { Val::ok(0.0) } else { Val::ok(1.0) },
            1.0,
        );
        assert_eq!(z.status, ValueStatus::ZeroDenominator);
        let n = parse("t", "zna(a) + b").unwrap();
        let v = val(
            &n,
            &|m| {
                if m == "a" {
                    Val::missing(ValueStatus::NotApplicable)
                } else {
                    Val::ok(2.0)
                }
            },
            1.0,
        );
        assert_eq!(v.value, Some(2.0));
    }

    #[test]
    fn placeholders() {
        assert_eq!(expand("IAsWithin10wd{yy}", 2010), "IAsWithin10wd0910");
        assert_eq!(expand("CINAt3103{ye}", 2013), "CINAt310313");
        assert_eq!(expand("Mid{mid}Pop0-17", 2013), "Mid2012Pop0-17");
        assert_eq!(unknown_placeholders("x{yy}{ddmm}"), vec!["{ddmm}"]);
    }

    #[test]
    fn errors_point_at_the_problem() {
        for (f, want) in [
            ("a +", "unexpected end"),
            ("foo(a)", "unknown function `foo`"),
            ("pct(a)", "two arguments"),
            ("(a", "expected `)`"),
            ("`a", "unclosed backtick"),
            ("a{zz}", "unknown placeholder {zz}"),
            ("a b", "unexpected text"),
        ] {
            let e = parse("ind", f).unwrap_err().to_string();
            assert!(e.contains(want), "{f}: {e}");
        }
    }
}
