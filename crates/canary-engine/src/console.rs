//! Writing to the terminal without ever panicking. `println!` panics when stdout is full
//! (`> /dev/full`) or gone (a closed pipe); every line canary prints goes through here instead,
//! and a failed write becomes an error with a non-zero exit, never a backtrace.

use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::error::{Error, Result};

/// Set when a line could not be written to stderr: the process then exits non-zero even if
/// the command itself succeeded (nothing else can tell the user).
static STDERR_FAILED: AtomicBool = AtomicBool::new(false);

/// The path an error about standard output names.
pub const STDOUT: &str = "standard output";

/// Write `text` to stdout as it is, and flush it.
pub fn out(text: &str) -> Result<()> {
    let mut o = std::io::stdout().lock();
    o.write_all(text.as_bytes())
        .and_then(|()| o.flush())
        .map_err(stdout_error)
}

/// Write one line to stdout.
pub fn outln(line: &str) -> Result<()> {
    out(&format!("{line}\n"))
}

/// Write one line to stderr. A failure is remembered (see [`stderr_failed`]), not raised: the
/// error being reported may be this very one.
pub fn errln(line: &str) {
    let mut e = std::io::stderr().lock();
    if writeln!(e, "{line}").and_then(|()| e.flush()).is_err() {
        STDERR_FAILED.store(true, Ordering::Relaxed);
    }
}

/// Whether any write to stderr failed in this process.
pub fn stderr_failed() -> bool {
    STDERR_FAILED.load(Ordering::Relaxed)
}

fn stdout_error(e: std::io::Error) -> Error {
    Error::io("write to", STDOUT, e).with_hint("the output went to a full disk or a closed pipe; nothing else was changed by the failed write")
}

/// Whether the error is stdout's reader having gone away (`canary sql … | head -1`): the
/// process then ends quietly, as other command-line tools do.
pub fn is_broken_pipe(e: &Error) -> bool {
    matches!(e, Error::Io { path, source, .. } if source.kind() == std::io::ErrorKind::BrokenPipe && path.as_os_str() == STDOUT)
}

/// A panic is a bug, never a way to report bad input: say so in one line, without the
/// backtrace note, and without panicking again if stderr itself is full.
pub fn install_panic_hook() {
    std::panic::set_hook(Box::new(|info| {
        let payload = info.payload();
        let msg = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or("unknown panic");
        let at = info
            .location()
            .map(|l| format!(" ({}:{})", l.file(), l.line()))
            .unwrap_or_default();
        errln(&format!(
            "canary: internal error: {msg}{at}; this is a bug in canary, please report it"
        ));
    }));
}
