//! Filling `raw/` with the published files: copied from a mirror folder (the same relative path
//! under the mirror as under `raw/`) or downloaded from the publisher's URL, always checked
//! against the sha256 in pipeline.yaml before it lands. This is the only code that writes
//! into `raw/`, and only where a file is missing: a present file is never overwritten, whether
//! it is verified or differs (then the error says so). Files land read-only.

use std::path::PathBuf;

use crate::error::{Error, Result};
use crate::pipeline::{Pipeline, Source};

/// Mirror folders in the order they are tried: `--mirror`, `CANARY_MIRROR`, then `mirrors:`.
pub fn mirrors(p: &Pipeline, cli: Option<&PathBuf>) -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Some(m) = cli {
        out.push(m.clone());
    }
    if let Some(m) = std::env::var_os("CANARY_MIRROR") {
        if !m.is_empty() {
            out.push(PathBuf::from(m));
        }
    }
    out.extend(p.mirrors.iter().cloned());
    out
}

/// The source's path inside a mirror: its path below `raw/`, or as written when not under it.
fn mirror_relative(src: &Source) -> &str {
    src.rel_path.strip_prefix("raw/").unwrap_or(&src.rel_path)
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fetched {
    AlreadyVerified,
    Copied(PathBuf),
    Downloaded(String),
}

impl std::fmt::Display for Fetched {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Fetched::AlreadyVerified => write!(f, "already present and verified"),
            Fetched::Copied(p) => write!(f, "{}", p.display()),
            Fetched::Downloaded(u) => write!(f, "{u}"),
        }
    }
}

/// The bytes of a source's file in the project, if it is there and passes its checksum.
pub fn verified_copy(src: &Source) -> Option<Vec<u8>> {
    let bytes = std::fs::read(&src.path).ok()?;
    (crate::hash::sha256_bytes(&bytes) == src.sha256).then_some(bytes)
}

/// Make one source present and verified.
pub fn fetch_one(src: &Source, mirrors: &[PathBuf]) -> Result<Fetched> {
    if src.path.exists() {
        let actual = crate::hash::sha256_file(&src.path)?;
        if actual == src.sha256 {
            return Ok(Fetched::AlreadyVerified);
        }
        return Err(Error::Checksum {
            source_name: src.name.clone(),
            path: src.path.clone(),
            expected: src.sha256.clone(),
            actual,
        });
    }
    if src.external {
        return Err(Error::data(&src.path, format!("source `{}` is external (`external: true`) and missing", src.name))
            .with_hint("canary writes nothing outside the project: put the file there yourself, or move it under `raw/` and drop `external: true`"));
    }
    let mut tried = Vec::new();
    for m in mirrors {
        let candidate = m.join(mirror_relative(src));
        if !candidate.is_file() {
            tried.push(format!("{} (not there)", candidate.display()));
            continue;
        }
        let bytes = std::fs::read(&candidate)
            .map_err(|e| Error::io("read the mirror copy", &candidate, e))?;
        let actual = crate::hash::sha256_bytes(&bytes);
        if actual != src.sha256 {
            return Err(Error::Checksum {
                source_name: src.name.clone(),
                path: candidate,
                expected: src.sha256.clone(),
                actual,
            });
        }
        land(src, &bytes)?;
        return Ok(Fetched::Copied(candidate));
    }
    if let Some(url) = &src.url {
        let bytes = download(url).map_err(|e| {
            Error::data(&src.path, format!("source `{}`: download from {url} failed: {e}", src.name))
                .with_hint("check the URL in pipeline.yaml, or point `--mirror DIR` / CANARY_MIRROR at a folder holding the file")
        })?;
        let actual = crate::hash::sha256_bytes(&bytes);
        if actual != src.sha256 {
            return Err(Error::Checksum {
                source_name: src.name.clone(),
                path: PathBuf::from(url),
                expected: src.sha256.clone(),
                actual,
            });
        }
        land(src, &bytes)?;
        return Ok(Fetched::Downloaded(url.clone()));
    }
    Err(Error::data(
        &src.path,
        format!(
            "source `{}` is missing and no mirror holds it{}",
            src.name,
            if tried.is_empty() { String::new() } else { format!(" (looked in: {})", tried.join(", ")) }
        ),
    )
    .with_hint("put the published file there, give `--mirror DIR` or set CANARY_MIRROR to a folder holding it, or add its `url` to pipeline.yaml"))
}

/// Write the verified bytes into place atomically, read-only.
fn land(src: &Source, bytes: &[u8]) -> Result<()> {
    crate::fsio::write_atomic(&src.path, bytes)?;
    let mut perms = std::fs::metadata(&src.path)
        .map_err(|e| Error::io("read", &src.path, e))?
        .permissions();
    perms.set_readonly(true);
    std::fs::set_permissions(&src.path, perms)
        .map_err(|e| Error::io("make read-only", &src.path, e))?;
    Ok(())
}

/// A plain HTTP/1.1 GET. The publishers' files are served over http(s); HTTPS goes through
/// `ureq`'s rustls, plain http (a local test server, an institutional mirror) the same way.
fn download(url: &str) -> std::result::Result<Vec<u8>, String> {
    let config = ureq::Agent::config_builder()
        .timeout_global(Some(std::time::Duration::from_secs(300)))
        .build();
    let agent: ureq::Agent = config.into();
    let mut resp = agent.get(url).call().map_err(|e| e.to_string())?;
    resp.body_mut()
        .with_config()
        .limit(2 << 30)
        .read_to_vec()
        .map_err(|e| e.to_string())
}

/// `canary fetch`: every source, reporting each. Returns the number fetched.
pub fn fetch_all(p: &Pipeline, cli_mirror: Option<&PathBuf>, quiet: bool) -> Result<usize> {
    let mirrors = mirrors(p, cli_mirror);
    let mut errors = Vec::new();
    let mut fetched = 0;
    for src in p.sources.values() {
        match fetch_one(src, &mirrors) {
            Ok(Fetched::AlreadyVerified) => {
                if !quiet {
                    crate::console::outln(&format!("  verified  {} ({})", src.name, src.rel_path))?;
                }
            }
            Ok(how) => {
                fetched += 1;
                if !quiet {
                    crate::console::outln(&format!("  fetched   {} ← {how}", src.name))?;
                }
            }
            Err(e) => errors.push(e),
        }
    }
    match errors.len() {
        0 => Ok(fetched),
        1 => Err(errors.remove(0)),
        _ => Err(Error::Many(errors)),
    }
}
