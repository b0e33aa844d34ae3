#!/usr/bin/env python3
"""Print `sources:` entries for pipeline.yaml, one per NAME=PATH.

usage: tools/sources_from_manifest.py [--mirror DIR] NAME=PATH [NAME=PATH ...]

PATH is a published file's path under raw/ (the same as under the mirror; a leading `raw/` is
optional). Each is looked up first in raw/README.md (the files committed under raw/: its files
table and its section per file), then in the mirror's MANIFEST.tsv (sha256) and SOURCES.csv
(publisher, landing page, licence, publication). Each entry gives the path under raw/, the
sha256, and the publisher, landing page, licence and description found; paste it under
`sources:` in pipeline.yaml and review it by hand. Where the file itself is on disk (under raw/
or the mirror) its sha256 is computed and compared with the recorded one.

The mirror defaults to ../shared/data beside the project. What could not be found (a PATH in
neither place, a missing mirror that was needed or named, an argument that is not NAME=PATH)
and every checksum that differs is said on stderr; the exit status is then 1, after printing
every entry that could be made. No arguments: this message, exit status 2.
"""
import argparse
import csv
import hashlib
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
RAW = ROOT / "raw"


def q(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def sha256_file(p):
    h = hashlib.sha256()
    with open(p, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def read_raw_readme(path):
    """{path under raw/: {sha256, publisher, licence, landing_page, description}} from the
    files table and the `### `name`: `raw/path`` sections of raw/README.md."""
    entries = {}
    if not path.is_file():
        return entries
    lines = path.read_text(encoding="utf-8").splitlines()
    header = None
    for line in lines:
        if not line.startswith("|"):
            header = None if not line.strip() else header
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if header is None:
            header = [c.lower() for c in cells]
            continue
        if all(set(c) <= set("-: ") for c in cells) or "path" not in header:
            continue
        row = dict(zip(header, cells))
        rel = row.get("path", "").strip("`")
        if not rel.startswith("raw/"):
            continue
        entries[rel[len("raw/"):]] = {
            "sha256": row.get("sha256", "").strip("`"),
            "publisher": row.get("publisher", ""),
            "licence": row.get("licence", ""),
        }
    section = None
    for line in lines:
        m = re.match(r"^### `[^`]+`: `raw/([^`]+)`\s*$", line)
        if m:
            section = entries.setdefault(m.group(1), {})
            continue
        if line.startswith("#"):
            section = None
            continue
        m = re.match(r"^- ([a-zA-Z ]+): (.*)$", line)
        if section is None or not m:
            continue
        key, value = m.group(1).strip(), m.group(2).strip()
        if key == "publication":
            section["description"] = value
        elif key == "landing page" and value != "not known":
            section["landing_page"] = value
        elif key == "publisher":
            section.setdefault("publisher", value)
        elif key == "licence":
            section.setdefault("licence", value)
        elif key == "sha256":
            s = re.match(r"`?([0-9a-f]{64})`?", value)
            if s:
                section.setdefault("sha256", s.group(1))
    return entries


def read_mirror(mirror):
    """{path: {sha256, publisher, licence, landing_page, description}} from MANIFEST.tsv and
    SOURCES.csv of the mirror, and the problems met reading them."""
    entries, problems = {}, []
    manifest = mirror / "MANIFEST.tsv"
    if not manifest.is_file():
        problems.append(f"{manifest} not found")
        return entries, problems
    with open(manifest, newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f, delimiter="\t"):
            entries[r["path"]] = {"sha256": r["sha256"]}
    sources = mirror / "SOURCES.csv"
    if not sources.is_file():
        problems.append(f"{sources} not found: publisher, landing page and licence unknown")
        return entries, problems
    with open(sources, newline="", encoding="utf-8") as f:
        for r in csv.DictReader(f):
            e = entries.get(r["path"])
            if e is None:
                continue
            for key, col in [("publisher", "publisher"), ("landing_page", "landing_page"),
                             ("licence", "licence"), ("description", "publication_title")]:
                if r.get(col):
                    e[key] = r[col]
    return entries, problems


def main(argv):
    ap = argparse.ArgumentParser(
        prog="tools/sources_from_manifest.py",
        description="Print `sources:` entries for pipeline.yaml, looking each PATH up in "
                    "raw/README.md, then in the mirror's MANIFEST.tsv and SOURCES.csv.")
    ap.add_argument("--mirror", metavar="DIR",
                    help="the mirror folder (default: ../shared/data beside the project)")
    ap.add_argument("pairs", nargs="*", metavar="NAME=PATH",
                    help="a source name for pipeline.yaml and the file's path under raw/")
    if not argv:
        ap.print_usage(sys.stderr)
        print(f"{ap.prog}: error: give at least one NAME=PATH, e.g. "
              "c1_referrals=dfe_tidy/c1_children_in_need_referrals_and_rereferrals_2013_to_2025.csv",
              file=sys.stderr)
        return 2
    a = ap.parse_args(argv)
    if not a.pairs:
        ap.print_usage(sys.stderr)
        print(f"{ap.prog}: error: no NAME=PATH given", file=sys.stderr)
        return 2
    mirror = pathlib.Path(a.mirror) if a.mirror else (ROOT / ".." / "shared" / "data")
    problems = []

    pairs = []
    for arg in a.pairs:
        name, sep, rel = arg.partition("=")
        if not sep or not name or not rel or not re.fullmatch(r"[A-Za-z0-9_]+", name):
            problems.append(f"`{arg}` is not NAME=PATH (NAME of letters, digits and _)")
            continue
        pairs.append((name, rel[len("raw/"):] if rel.startswith("raw/") else rel))

    committed = read_raw_readme(RAW / "README.md")
    mirrored, mirror_problems = {}, []
    mirror_needed = a.mirror is not None or any(rel not in committed for _, rel in pairs)
    if mirror.is_dir():
        mirrored, mirror_problems = read_mirror(mirror)
    else:
        mirror_problems = [f"mirror {mirror} not found"]
    if mirror_needed:
        problems += mirror_problems
    else:
        for p in mirror_problems:
            print(f"note: {p} (every PATH was found in raw/README.md)", file=sys.stderr)

    out = []
    for name, rel in pairs:
        e = committed.get(rel) or mirrored.get(rel)
        where = "raw/README.md" if rel in committed else "the mirror's MANIFEST.tsv"
        if e is None or not e.get("sha256"):
            on_disk = [p for p in (RAW / rel, mirror / rel) if p.is_file()]
            hint = f" (the file is at {on_disk[0]}: add it to the manifest)" if on_disk else ""
            problems.append(f"{name}={rel}: not found in raw/README.md nor in {mirror / 'MANIFEST.tsv'}{hint}")
            continue
        for p in (RAW / rel, mirror / rel):
            if p.is_file():
                actual = sha256_file(p)
                if actual != e["sha256"]:
                    problems.append(f"warning: {name}={rel}: {p} has sha256 {actual}, "
                                    f"but {where} records {e['sha256']}")
        out.append(f"  {name}:")
        out.append(f"    path: raw/{rel}")
        out.append(f"    sha256: {e['sha256']}")
        for key in ("publisher", "landing_page", "licence", "description"):
            if e.get(key):
                out.append(f"    {key}: {q(e[key])}")
    if out:
        print("\n".join(out))
    for p in problems:
        print(p if p.startswith("warning: ") else f"error: {p}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
