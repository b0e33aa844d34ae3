//! How numbers, years and lists are written in the report's words: plain text, never markup
//! (the templates own every tag and every `*`).

/// A number with `decimals` decimals; "—" when missing or not finite.
pub fn num(v: Option<f64>, decimals: usize) -> String {
    match v {
        Some(x) if x.is_finite() => {
            let s = format!("{x:.decimals$}");
            // -0.00 reads as a sign the number does not have.
            if s.starts_with('-') && s[1..].chars().all(|c| c == '0' || c == '.') {
                s[1..].to_string()
            } else {
                s
            }
        }
        _ => "—".into(),
    }
}

/// A share (0-1) as a whole percentage, "68%"; "—" when missing.
pub fn pct(v: Option<f64>) -> String {
    match v {
        Some(x) if x.is_finite() => format!("{:.0}%", 100.0 * x),
        _ => "—".into(),
    }
}

/// `count` of `of` as a whole percentage; "—" when `of` is 0. A share that is neither none nor
/// all never reads as 0% or 100%: it takes a decimal ("0.1%", "99.9%"), or "<0.1%" / ">99.9%".
pub fn share(count: usize, of: usize) -> String {
    if of == 0 {
        return "—".into();
    }
    let p = 100.0 * count as f64 / of as f64;
    let whole = format!("{p:.0}%");
    if count == 0 || count == of || (whole != "0%" && whole != "100%") {
        return whole;
    }
    let tenth = format!("{p:.1}%");
    match tenth.as_str() {
        "0.0%" => "<0.1%".into(),
        "100.0%" => ">99.9%".into(),
        _ => tenth,
    }
}

/// A signed difference, "+0.12"; "—" when either side is missing.
pub fn difference(ours: Option<f64>, theirs: Option<f64>, decimals: usize) -> String {
    match (ours, theirs) {
        (Some(a), Some(b)) if a.is_finite() && b.is_finite() => format!("{:+.decimals$}", a - b),
        _ => "—".into(),
    }
}

/// A span of calendar years as a sentence says it: "2012", "2012 or 2013", "2020–2022".
pub fn years_or(from: i64, to: i64) -> String {
    match to - from {
        0 => from.to_string(),
        1 => format!("{from} or {to}"),
        _ => format!("{from}–{to}"),
    }
}

/// A span of years as a range: "2012", "2010–2012".
pub fn years_range(from: i64, to: i64) -> String {
    if from == to {
        from.to_string()
    } else {
        format!("{from}–{to}")
    }
}

/// `2012..2013` (a param's window) as its two ends; a single year gives both ends equal.
pub fn parse_window(window: &str) -> Option<(i64, i64)> {
    match window.split_once("..") {
        Some((a, b)) => Some((a.trim().parse().ok()?, b.trim().parse().ok()?)),
        None => {
            let y = window.trim().parse().ok()?;
            Some((y, y))
        }
    }
}

/// Small counts in words, as a sentence writes them ("two calendar years"); larger ones as
/// digits.
pub fn count_words(n: i64) -> String {
    const WORDS: [&str; 11] = [
        "no", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    ];
    usize::try_from(n)
        .ok()
        .and_then(|i| WORDS.get(i))
        .map_or_else(|| n.to_string(), |w| w.to_string())
}

/// "a", "a and b", "a, b and c".
pub fn and_list<S: AsRef<str>>(items: &[S]) -> String {
    match items {
        [] => String::new(),
        [a] => a.as_ref().to_string(),
        [rest @ .., last] => format!(
            "{} and {}",
            rest.iter()
                .map(|s| s.as_ref())
                .collect::<Vec<_>>()
                .join(", "),
            last.as_ref()
        ),
    }
}

/// Integers as compact ranges: `1, 2, 3, 5` → "1..3, 5".
pub fn int_ranges(values: &[i64]) -> String {
    let mut v = values.to_vec();
    v.sort_unstable();
    v.dedup();
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < v.len() {
        let mut j = i;
        while j + 1 < v.len() && v[j + 1] == v[j] + 1 {
            j += 1;
        }
        parts.push(if j >= i + 2 {
            format!("{}..{}", v[i], v[j])
        } else {
            (i..=j)
                .map(|k| v[k].to_string())
                .collect::<Vec<_>>()
                .join(", ")
        });
        i = j + 1;
    }
    parts.join(", ")
}

/// An axis title for a dictionary unit.
pub fn unit_label(unit: &str) -> String {
    match unit {
        "pct" => "%".into(),
        "rateper10k" | "rate_per_10k" => "per 10,000 children aged 0-17".into(),
        "gbpperchild" | "gbp_per_child" => "£ per child".into(),
        "count" => "count".into(),
        "ratio" => "ratio".into(),
        "score" => "score".into(),
        other => other.to_string(),
    }
}

/// The first words of a break note, for a label on a chart.
pub fn short(note: &str) -> String {
    let words: Vec<&str> = note.split_whitespace().take(4).collect();
    let mut s = words.join(" ");
    if note.split_whitespace().count() > 4 {
        s.push('…');
    }
    s
}

/// The median of the finite values, None when there is none.
pub fn median(values: &[f64]) -> Option<f64> {
    let v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
    (!v.is_empty()).then(|| crate::stats::quantile::median(&v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_and_numbers() {
        assert_eq!(num(Some(-0.0001), 2), "0.00");
        assert_eq!(num(None, 2), "—");
        assert_eq!(pct(Some(0.675)), "68%");
        assert_eq!(share(1, 3), "33%");
        assert_eq!(share(0, 0), "—");
        assert_eq!(share(999, 1000), "99.9%");
        assert_eq!(share(1, 1000), "0.1%");
        assert_eq!(share(1, 20000), "<0.1%");
        assert_eq!(share(1000, 1000), "100%");
        assert_eq!(share(0, 1000), "0%");
        assert_eq!(difference(Some(0.5), Some(0.4), 2), "+0.10");
        assert_eq!(years_or(2012, 2013), "2012 or 2013");
        assert_eq!(years_or(2020, 2022), "2020–2022");
        assert_eq!(years_or(2019, 2019), "2019");
        assert_eq!(parse_window("2012..2013"), Some((2012, 2013)));
        assert_eq!(parse_window("2019"), Some((2019, 2019)));
        assert_eq!(parse_window("x"), None);
        assert_eq!(count_words(2), "two");
        assert_eq!(count_words(3), "three");
        assert_eq!(count_words(12), "12");
        assert_eq!(and_list(&["a", "b", "c"]), "a, b and c");
        assert_eq!(and_list(&["a"]), "a");
        assert_eq!(int_ranges(&[5, 1, 2, 3, 7, 8]), "1..3, 5, 7, 8");
        assert_eq!(short("one two three four five"), "one two three four…");
    }
}
