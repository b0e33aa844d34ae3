//! Parameter sweeps: a stage's `matrix:` (param → list of values, or an integer range `a..b`)
//! expanded into cells, one stage instance per combination, each named by its values.
//!
//! Names and keys are functions of the values alone, so the same matrix always gives the same
//! cells, and adding a value adds cells without renaming the others: their cache entries and
//! lock records stay valid, and only the new cells run.

use serde_json::Value as J;

/// One swept param and its values, in the order written.
#[derive(Debug, Clone, PartialEq)]
pub struct Axis {
    pub param: String,
    pub values: Vec<J>,
}

/// Why a matrix entry is not a list of values.
#[derive(Debug, Clone, PartialEq)]
pub enum AxisError {
    Empty,
    /// A range whose ends are not integers, or whose start is after its end.
    BadRange(String),
    /// A value that is a list or a mapping.
    NotScalar(usize),
    /// The same value twice: two cells would have one name.
    Repeated(String),
    NotAList,
}

impl std::fmt::Display for AxisError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AxisError::Empty => write!(f, "its list of values is empty"),
            AxisError::BadRange(r) => write!(f, "`{r}` is not a range of integers `a..b` with a ≤ b"),
            AxisError::NotScalar(i) => write!(f, "value {} is a list or a mapping; a matrix value is a single number, string or boolean", i + 1),
            AxisError::Repeated(v) => write!(f, "value {v} appears twice"),
            AxisError::NotAList => write!(f, "it must be a list of values (`[0.5, 1]`) or an integer range (`1..100`)"),
        }
    }
}

/// Parse one matrix entry (as canonical JSON, `${param}` references already resolved).
pub fn axis(param: &str, v: &J) -> Result<Axis, AxisError> {
    let values: Vec<J> = match v {
        J::Array(items) => {
            if let Some(i) = items
                .iter()
                .position(|item| item.is_array() || item.is_object())
            {
                return Err(AxisError::NotScalar(i));
            }
            items.clone()
        }
        J::String(s) if s.contains("..") => range(s)?,
        _ => return Err(AxisError::NotAList),
    };
    if values.is_empty() {
        return Err(AxisError::Empty);
    }
    let mut seen = std::collections::BTreeSet::new();
    for v in &values {
        if !seen.insert(render(v)) {
            return Err(AxisError::Repeated(render(v)));
        }
    }
    Ok(Axis {
        param: param.to_string(),
        values,
    })
}

fn range(s: &str) -> Result<Vec<J>, AxisError> {
    let bad = || AxisError::BadRange(s.to_string());
    let (a, b) = s.split_once("..").ok_or_else(bad)?;
    let (a, b): (i64, i64) = (
        a.trim().parse().map_err(|_| bad())?,
        b.trim().parse().map_err(|_| bad())?,
    );
    if a > b {
        return Err(bad());
    }
    Ok((a..=b).map(J::from).collect())
}

/// The number of cells, or None when it overflows.
pub fn size(axes: &[Axis]) -> Option<usize> {
    axes.iter()
        .try_fold(1usize, |n, a| n.checked_mul(a.values.len()))
}

/// Every combination, the last axis varying fastest.
pub fn cells(axes: &[Axis]) -> Vec<Vec<(String, J)>> {
    let mut out: Vec<Vec<(String, J)>> = vec![Vec::new()];
    for a in axes {
        out = out
            .into_iter()
            .flat_map(|prefix| {
                a.values.iter().map(move |v| {
                    let mut c = prefix.clone();
                    c.push((a.param.clone(), v.clone()));
                    c
                })
            })
            .collect();
    }
    out
}

/// A value as it appears in a cell's name: numbers and booleans as written, strings bare
/// unless they hold a character of the name's syntax, then quoted.
pub fn render(v: &J) -> String {
    match v {
        J::String(s) if !s.is_empty() && !s.contains([',', '=', '[', ']', '"']) => s.clone(),
        other => other.to_string(),
    }
}

/// `alpha=0.5,missing=drop,seed=7`
pub fn label(values: &[(String, J)]) -> String {
    values
        .iter()
        .map(|(k, v)| format!("{k}={}", render(v)))
        .collect::<Vec<_>>()
        .join(",")
}

/// The cell's stage name: `model_sweep[alpha=0.5,missing=drop,seed=7]`.
pub fn cell_name(stage: &str, values: &[(String, J)]) -> String {
    format!("{stage}[{}]", label(values))
}

/// The cell's file name under `out/<stage>.cells/`: its label when that is a short, plain file
/// name, otherwise a hash of it (a string value with `/` or a long list of params).
pub fn cell_key(values: &[(String, J)]) -> String {
    let l = label(values);
    let plain = l
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"._=,+-".contains(&b));
    if plain && l.len() <= 200 && !l.starts_with('.') {
        l
    } else {
        format!("cell-{}", &crate::hash::sha256_bytes(l.as_bytes())[..16])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn yaml(s: &str) -> J {
        super::super::spec::to_json(&super::super::spec::parse_value(s).unwrap())
    }

    #[test]
    fn lists_and_ranges() {
        assert_eq!(
            axis("a", &yaml("[0.1, 1]")).unwrap().values,
            vec![J::from(0.1), J::from(1)]
        );
        assert_eq!(
            axis("s", &yaml("1..3")).unwrap().values,
            vec![J::from(1), J::from(2), J::from(3)]
        );
        assert_eq!(axis("s", &yaml("[]")).unwrap_err(), AxisError::Empty);
        assert_eq!(
            axis("s", &yaml("3..1")).unwrap_err(),
            AxisError::BadRange("3..1".into())
        );
        assert_eq!(
            axis("s", &yaml("a..b")).unwrap_err(),
            AxisError::BadRange("a..b".into())
        );
        assert_eq!(
            axis("s", &yaml("[1, 1]")).unwrap_err(),
            AxisError::Repeated("1".into())
        );
        assert_eq!(
            axis("s", &yaml("[[1]]")).unwrap_err(),
            AxisError::NotScalar(0)
        );
        assert_eq!(axis("s", &yaml("7")).unwrap_err(), AxisError::NotAList);
    }

    #[test]
    fn cells_are_named_by_their_values() {
        let axes = vec![
            axis("alpha", &yaml("[0.5, 1]")).unwrap(),
            axis("missing", &yaml("[median, drop]")).unwrap(),
        ];
        assert_eq!(size(&axes), Some(4));
        let c = cells(&axes);
        assert_eq!(c.len(), 4);
        assert_eq!(cell_name("m", &c[1]), "m[alpha=0.5,missing=drop]");
        assert_eq!(cell_key(&c[1]), "alpha=0.5,missing=drop");
        let odd = vec![("path".to_string(), J::from("a/b"))];
        assert!(cell_key(&odd).starts_with("cell-"));
        assert_eq!(render(&J::from("x,y")), "\"x,y\"");
    }
}
