//! One `canary run` at a time per project. The lock is an OS file lock (flock) on
//! `.canary/run.lock`: the kernel drops it when its holder dies, however it died, so a lock
//! left by a killed process is simply taken over — there is no `--unlock`. The file holds the
//! holder's pid so a waiting run can say whom it waits for.

use std::fs::File;
use std::io::{Read, Seek, SeekFrom, Write};
use std::path::Path;

use crate::error::{Error, Result};

pub struct RunGuard {
    file: File,
}

impl RunGuard {
    /// Take the lock, waiting for another run to finish if one holds it. `say` prints the
    /// waiting and takeover messages.
    pub fn acquire(state_dir: &Path, say: &dyn Fn(&str)) -> Result<RunGuard> {
        std::fs::create_dir_all(state_dir).map_err(|e| {
            Error::io("create the state folder", state_dir, e)
                .with_hint("check that the project folder is writable")
        })?;
        let path = state_dir.join("run.lock");
        let mut file = File::options()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .open(&path)
            .map_err(|e| Error::io("open the run lock", &path, e))?;
        match file.try_lock() {
            Ok(()) => {}
            Err(std::fs::TryLockError::WouldBlock) => {
                let holder = read_pid(&mut file);
                say(&format!(
                    "waiting for another canary run{} to finish…",
                    holder.map(|p| format!(" (pid {p})")).unwrap_or_default()
                ));
                file.lock()
                    .map_err(|e| Error::io("wait for the run lock", &path, e))?;
            }
            Err(std::fs::TryLockError::Error(e)) => {
                return Err(Error::io("take the run lock", &path, e))
            }
        }
        // We hold the lock, so whoever wrote a pid still in the file no longer does: the
        // kernel released it when that run ended without clearing it (killed, or crashed).
        if let Some(pid) = read_pid(&mut file) {
            if pid != std::process::id() {
                say(&format!(
                    "taking over the run lock left by pid {pid}, which is no longer running; its unfinished outputs are discarded"
                ));
            }
        }
        file.set_len(0)
            .map_err(|e| Error::io("write the run lock", &path, e))?;
        file.seek(SeekFrom::Start(0))
            .map_err(|e| Error::io("write the run lock", &path, e))?;
        write!(file, "{}", std::process::id())
            .map_err(|e| Error::io("write the run lock", &path, e))?;
        let _ = file.sync_all();
        Ok(RunGuard { file })
    }
}

impl Drop for RunGuard {
    fn drop(&mut self) {
        // A clean exit clears the pid, so the next run does not report a takeover.
        let _ = self.file.set_len(0);
        let _ = self.file.unlock();
    }
}

fn read_pid(file: &mut File) -> Option<u32> {
    let mut s = String::new();
    file.seek(SeekFrom::Start(0)).ok()?;
    file.read_to_string(&mut s).ok()?;
    s.trim().parse().ok()
}
