//! `canary fetch`: from a mirror folder, and by download from a local HTTP server on 127.0.0.1
//! (the test's own, serving a bounded number of requests, then stopping).

use crate::common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;

use common::Project;

/// Serve `body` at any path for `requests` requests; returns the base URL.
fn serve(body: Vec<u8>, requests: usize) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(requests) {
            let Ok(mut s) = stream else { continue };
            let mut reader = BufReader::new(s.try_clone().unwrap());
            let mut line = String::new();
            // Read the request head up to the blank line.
            while reader.read_line(&mut line).is_ok_and(|n| n > 0) && line != "\r\n" {
                line.clear();
            }
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                body.len()
            );
            let _ = s.write_all(head.as_bytes());
            let _ = s.write_all(&body);
        }
    });
    format!("http://{addr}")
}

fn pipeline(sha: &str, url: Option<&str>) -> String {
    let url = url
        .map(|u| format!("    url: {u}/published/data.csv\n"))
        .unwrap_or_default();
    format!("name: fetch_test\nsources:\n  data:\n    path: raw/published/data.csv\n    sha256: {sha}\n{url}stages:\n  rows:\n    kind: sql\n    inputs: [data]\n    sql: SELECT count(*) AS n FROM data\n")
}

/// A mirror folder holding `body` at the source's path.
fn mirror_holding(body: &[u8]) -> tempfile::TempDir {
    let mirror = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(mirror.path().join("published")).unwrap();
    std::fs::write(mirror.path().join("published/data.csv"), body).unwrap();
    mirror
}

const BODY: &[u8] = b"la,value\nE06000001,1\nE06000002,2\n";

#[test]
fn downloads_from_the_url_and_verifies_the_checksum() {
    let sha = canary::hash::sha256_bytes(BODY);
    let url = serve(BODY.to_vec(), 1);
    let p = Project {
        dir: tempfile::tempdir().unwrap(),
    };
    p.write("pipeline.yaml", &pipeline(&sha, Some(&url)));
    let out = p.canary(&["fetch"]).ok();
    assert!(
        out.stdout.contains("fetched   data ← http://127.0.0.1:"),
        "{}",
        out.stdout
    );
    assert_eq!(p.bytes("raw/published/data.csv"), BODY);
    assert!(std::fs::metadata(p.path("raw/published/data.csv"))
        .unwrap()
        .permissions()
        .readonly());
    // Verified files are not fetched again (the server has stopped serving).
    let again = p.canary(&["fetch"]).ok();
    assert!(again.stdout.contains("verified  data"), "{}", again.stdout);
    p.canary(&["run"]).ok();
}

#[test]
fn a_download_with_the_wrong_checksum_never_lands() {
    let url = serve(b"tampered".to_vec(), 1);
    let sha = canary::hash::sha256_bytes(BODY);
    let p = Project {
        dir: tempfile::tempdir().unwrap(),
    };
    p.write("pipeline.yaml", &pipeline(&sha, Some(&url)));
    let r = p.canary(&["fetch"]).fails(1);
    assert!(
        r.stderr.contains(&sha) && r.stderr.contains(&canary::hash::sha256_bytes(b"tampered")),
        "{}",
        r.stderr
    );
    assert!(!p.path("raw/published/data.csv").exists());
}

#[test]
fn copies_from_a_mirror_and_run_never_writes_raw() {
    let sha = canary::hash::sha256_bytes(BODY);
    let mirror = mirror_holding(BODY);
    let p = Project {
        dir: tempfile::tempdir().unwrap(),
    };
    p.write("pipeline.yaml", &pipeline(&sha, None));
    // `run` does not fetch, even with a mirror named: it says what is missing and what to do.
    let out = p
        .command(&["run"])
        .env("CANARY_MIRROR", mirror.path())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("source `data` is missing") && stderr.contains("canary fetch"),
        "{stderr}"
    );
    assert!(!p.path("raw/published/data.csv").exists());
    // `fetch` copies it from the mirror CANARY_MIRROR names; then `run` runs.
    let out = p
        .command(&["fetch"])
        .env("CANARY_MIRROR", mirror.path())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("fetched   data"));
    p.canary(&["run"]).ok();
    assert_eq!(
        p.canary(&["sql", "select n from rows", "--format", "csv"])
            .ok()
            .stdout,
        "n\n2\n"
    );
}

#[test]
fn a_present_file_that_differs_is_never_overwritten() {
    let sha = canary::hash::sha256_bytes(BODY);
    let mirror = mirror_holding(BODY);
    let p = Project {
        dir: tempfile::tempdir().unwrap(),
    };
    p.write("pipeline.yaml", &pipeline(&sha, None));
    p.write("raw/published/data.csv", "edited by hand\n");
    let m = mirror.path().to_string_lossy().to_string();
    let r = p.canary(&["fetch", "--mirror", &m]).fails(1);
    assert!(
        r.stderr.contains("source `data`") && r.stderr.contains(&sha),
        "{}",
        r.stderr
    );
    assert_eq!(p.read("raw/published/data.csv"), "edited by hand\n");
}
