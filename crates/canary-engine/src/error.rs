//! The one error type. Every message is worded here, names the file, line or stage it is
//! about, and ends with what the user can do next.

use std::fmt;
use std::path::{Path, PathBuf};

/// A place in a file the user wrote, with the text of that line so the message can point at it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub file: PathBuf,
    /// 1-based.
    pub line: usize,
    /// 1-based.
    pub column: usize,
    /// The text of the line, for the `^^^` pointer.
    pub text: Option<String>,
    /// How many characters to underline.
    pub width: usize,
}

impl Location {
    pub fn new(file: impl Into<PathBuf>, line: usize, column: usize) -> Self {
        Location {
            file: file.into(),
            line,
            column,
            text: None,
            width: 1,
        }
    }
}

/// Everything that can go wrong, as data. `Display` writes the message; `exit_code` maps each
/// to the CLI contract (1: a stage or its data failed, 2: the pipeline or the command is wrong).
#[derive(Debug)]
pub enum Error {
    /// `pipeline.yaml` (or a YAML file it names) is invalid.
    Pipeline {
        message: String,
        location: Option<Box<Location>>,
        hint: Option<String>,
    },
    /// The command line is wrong.
    Usage {
        message: String,
        hint: Option<String>,
    },
    /// A stage failed while running; `location` when the failure is at a line the user wrote
    /// (a SQL stage's query, in its SQL file or in pipeline.yaml).
    Stage {
        stage: String,
        message: String,
        location: Option<Box<Location>>,
        hint: Option<String>,
    },
    /// A source file's content is not what `pipeline.yaml` promises.
    Checksum {
        source_name: String,
        path: PathBuf,
        expected: String,
        actual: String,
    },
    /// A file could not be read or written.
    Io {
        action: String,
        path: PathBuf,
        source: std::io::Error,
        hint: Option<String>,
    },
    /// Data read from a file is malformed; `location` when it is a file the user edits and
    /// the entry's place is known (the geography changes, the crosswalk).
    Data {
        file: PathBuf,
        line: Option<usize>,
        column: Option<String>,
        message: String,
        hint: Option<String>,
        location: Option<Box<Location>>,
    },
    /// Several stages failed; each is reported.
    Many(Vec<Error>),
    /// `canary verify` found outputs that differ from the record (the verdict says which).
    Unverified(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn pipeline(message: impl Into<String>) -> Self {
        Error::Pipeline {
            message: message.into(),
            location: None,
            hint: None,
        }
    }

    pub fn usage(message: impl Into<String>) -> Self {
        Error::Usage {
            message: message.into(),
            hint: None,
        }
    }

    pub fn stage(stage: impl Into<String>, message: impl Into<String>) -> Self {
        Error::Stage {
            stage: stage.into(),
            message: message.into(),
            location: None,
            hint: None,
        }
    }

    pub fn io(action: impl Into<String>, path: impl AsRef<Path>, source: std::io::Error) -> Self {
        Error::Io {
            action: action.into(),
            path: path.as_ref().to_path_buf(),
            source,
            hint: None,
        }
    }

    pub fn data(file: impl AsRef<Path>, message: impl Into<String>) -> Self {
        Error::Data {
            file: file.as_ref().to_path_buf(),
            line: None,
            column: None,
            message: message.into(),
            hint: None,
            location: None,
        }
    }

    /// Attach or replace the "what to do" line.
    pub fn with_hint(mut self, new: impl Into<String>) -> Self {
        let new = Some(new.into());
        match &mut self {
            Error::Pipeline { hint, .. }
            | Error::Usage { hint, .. }
            | Error::Stage { hint, .. }
            | Error::Io { hint, .. }
            | Error::Data { hint, .. } => *hint = new,
            Error::Checksum { .. } | Error::Many(_) | Error::Unverified(_) => {}
        }
        self
    }

    /// Point the error at a place in a file the user wrote (a pipeline, stage or data error).
    pub fn at(mut self, loc: Option<Location>) -> Self {
        if let Error::Pipeline { location, .. }
        | Error::Stage { location, .. }
        | Error::Data { location, .. } = &mut self
        {
            *location = loc.map(Box::new);
        }
        self
    }

    /// Re-label an error raised inside a stage's run as that stage's failure, keeping its words.
    pub fn in_stage(self, stage: &str) -> Self {
        match self {
            Error::Stage { .. } | Error::Many(_) => self,
            other => {
                let hint = other.hint().map(str::to_string);
                let message = other.headline();
                let location = match other {
                    Error::Data { location, .. } => location,
                    _ => None,
                };
                Error::Stage {
                    stage: stage.to_string(),
                    message,
                    location,
                    hint,
                }
            }
        }
    }

    fn hint(&self) -> Option<&str> {
        match self {
            Error::Pipeline { hint, .. }
            | Error::Usage { hint, .. }
            | Error::Stage { hint, .. }
            | Error::Io { hint, .. }
            | Error::Data { hint, .. } => hint.as_deref(),
            Error::Checksum { .. } => Some(
                "if the publisher re-issued the file on purpose, update `sha256` in pipeline.yaml; otherwise delete the file and run `canary fetch` again",
            ),
            Error::Many(_) => None,
            Error::Unverified(_) => Some("the verdict above names each difference and its cause; `canary run` brings the outputs up to date with today's definition"),
        }
    }

    /// The message without the hint or the location gutter.
    pub fn headline(&self) -> String {
        match self {
            Error::Pipeline { message, .. } | Error::Usage { message, .. } => message.clone(),
            Error::Stage { stage, message, .. } => format!("stage `{stage}` failed: {message}"),
            Error::Checksum {
                source_name,
                path,
                expected,
                actual,
            } => format!(
                "source `{source_name}` ({}) has sha256 {actual}, but pipeline.yaml expects {expected}",
                path.display()
            ),
            Error::Io {
                action,
                path,
                source,
                ..
            } => format!("could not {action} `{}`: {source}", path.display()),
            Error::Data {
                file,
                line,
                column,
                message,
                ..
            } => {
                let mut s = file.display().to_string();
                if let Some(l) = line {
                    s.push_str(&format!(":{l}"));
                }
                if let Some(c) = column {
                    s.push_str(&format!(" (column `{c}`)"));
                }
                format!("{s}: {message}")
            }
            Error::Many(errors) => format!("{} stages failed", errors.len()),
            Error::Unverified(summary) => summary.clone(),
        }
    }

    /// 1 when running failed (a stage, its data, the disk); 2 when what the user asked for is
    /// invalid (the pipeline, the command line).
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::Pipeline { .. } | Error::Usage { .. } => 2,
            Error::Many(errors) => errors.iter().map(Error::exit_code).max().unwrap_or(1),
            _ => 1,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Error::Many(errors) = self {
            for (i, e) in errors.iter().enumerate() {
                if i > 0 {
                    writeln!(f)?;
                }
                write!(f, "{e}")?;
            }
            return Ok(());
        }
        write!(f, "error: {}", excerpt(&self.headline(), MAX_MESSAGE))?;
        if let Error::Pipeline {
            location: Some(loc),
            ..
        }
        | Error::Stage {
            location: Some(loc),
            ..
        }
        | Error::Data {
            location: Some(loc),
            ..
        } = self
        {
            write!(
                f,
                "\n  ——▶ {}:{}:{}",
                loc.file.display(),
                loc.line,
                loc.column
            )?;
            if let Some(text) = &loc.text {
                let num = loc.line.to_string();
                let pad = " ".repeat(num.len());
                // A long line is shown as a window around the column, so a one-line 10 MB
                // document does not fill the terminal.
                let (shown, column) = window(text, loc.column.saturating_sub(1), 160);
                write!(f, "\n{pad} |\n{num} | {shown}\n{pad} | ")?;
                write!(
                    f,
                    "{}{}",
                    " ".repeat(column),
                    "^".repeat(loc.width.clamp(1, 160))
                )?;
            }
        }
        if let Some(h) = self.hint() {
            write!(f, "\n  = help: {h}")?;
        }
        Ok(())
    }
}

/// A parser's error (canary-clean's) as canary's: the file, line and column it names, what to
/// do, and in a file the user edits the place for a caret, kept as data.
impl From<canary_clean::tidy::CleanError> for Error {
    fn from(e: canary_clean::tidy::CleanError) -> Self {
        let location = e.place.map(|p| {
            let mut loc = Location::new(&e.file, p.line, p.column);
            loc.text = Some(p.text);
            Box::new(loc)
        });
        Error::Data {
            file: e.file.into(),
            line: e.line,
            column: e.column,
            message: e.message,
            hint: Some(e.hint),
            location,
        }
    }
}

impl std::error::Error for Error {
    /// The underlying cause, for a caller that walks the chain: the OS error of a failed read
    /// or write. The message above already words it for the user.
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// The longest headline printed, in characters.
const MAX_MESSAGE: usize = 4000;

/// `text` cut to `width` characters around character `column`: (the window, the column in it).
fn window(text: &str, column: usize, width: usize) -> (String, usize) {
    let n = text.chars().count();
    if n <= width {
        return (text.to_string(), column);
    }
    let start = column
        .saturating_sub(width / 3)
        .min(n.saturating_sub(width));
    let mut shown: String = text.chars().skip(start).take(width).collect();
    let mut col = column - start;
    if start > 0 {
        shown.insert(0, '…');
        col += 1;
    }
    if start + width < n {
        shown.push('…');
    }
    (shown, col)
}

/// At most `max` characters of `s`, for quoting a value in a message: a longer one keeps its
/// start and says how long it was, so a 10 MB document never fills the terminal.
pub fn excerpt(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let head: String = s.chars().take(max).collect();
    format!("{head}… ({} bytes in all)", s.len())
}

/// "did you mean `x`?" — the closest candidate by edit distance, when it is close enough to be
/// a plausible typo.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<String> {
    let mut best: Option<(usize, &str)> = None;
    for c in candidates {
        let d = strsim::levenshtein(word, c);
        let limit = (word.len().max(c.len()) / 3).max(2);
        if d <= limit && best.is_none_or(|(bd, bc)| d < bd || (d == bd && c < bc)) {
            best = Some((d, c));
        }
    }
    best.map(|(_, c)| format!("did you mean `{c}`?"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_error_is_small_enough_to_return_by_value() {
        // Every function of the crate returns it: at 128 bytes clippy's `result_large_err`
        // fires, which is why a location is boxed.
        assert!(
            std::mem::size_of::<Error>() < 128,
            "{}",
            std::mem::size_of::<Error>()
        );
    }

    #[test]
    fn suggests_close_names_only() {
        assert_eq!(
            did_you_mean("refferals", ["referrals", "population"]).as_deref(),
            Some("did you mean `referrals`?")
        );
        assert_eq!(did_you_mean("xyz", ["referrals"]), None);
    }

    #[test]
    fn pipeline_error_points_at_the_column() {
        let mut loc = Location::new("pipeline.yaml", 3, 14);
        loc.text = Some("    inputs: [refs]".into());
        loc.width = 4;
        let e = Error::pipeline("unknown input `refs`")
            .at(Some(loc))
            .with_hint("did you mean `referrals`?");
        let s = e.to_string();
        assert!(s.contains("——▶ pipeline.yaml:3:14"), "{s}");
        assert!(s.contains("3 |     inputs: [refs]"), "{s}");
        assert!(s.contains("  |              ^^^^"), "{s}");
        assert_eq!(e.exit_code(), 2);
    }
}
