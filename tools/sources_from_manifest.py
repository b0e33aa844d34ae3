#!/usr/bin/env python3
"""Print `sources:` entries for pipeline.yaml from the mirror's MANIFEST.tsv and SOURCES.csv.

Usage: tools/sources_from_manifest.py ../shared/data NAME=relative/path ...

The published files are referred to, never copied: each entry gives the path under raw/ (the
same as under the mirror), the sha256 the mirror's manifest states, and the publisher,
landing page and licence from SOURCES.csv. Used when adding a source; the output is pasted
into pipeline.yaml and reviewed by hand.
"""
import csv, sys, pathlib

mirror = pathlib.Path(sys.argv[1])
manifest = {r["path"]: r for r in csv.DictReader(open(mirror / "MANIFEST.tsv"), delimiter="\t")}
sources = {r["path"]: r for r in csv.DictReader(open(mirror / "SOURCES.csv"))}

def q(s):
    return '"' + s.replace('\\', '\\\\').replace('"', '\\"') + '"'

for arg in sys.argv[2:]:
    name, rel = arg.split("=", 1)
    m, s = manifest[rel], sources.get(rel, {})
    print(f"  {name}:")
    print(f"    path: raw/{rel}")
    print(f"    sha256: {m['sha256']}")
    if s.get("publisher"): print(f"    publisher: {q(s['publisher'])}")
    if s.get("landing_page"): print(f"    landing_page: {q(s['landing_page'])}")
    if s.get("licence"): print(f"    licence: {q(s['licence'])}")
    if s.get("publication_title"): print(f"    description: {q(s['publication_title'])}")
