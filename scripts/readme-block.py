#!/usr/bin/env python3
"""Prints the fenced code block that follows `<!-- test-packages: NAME -->`.

    python3 scripts/readme-block.py README.md NAME

Used by scripts/test-packages.sh to run the README's per-language blocks as
they are written. Exit status 1 (and a message) when the marker or its
block is missing, or when the marker occurs twice.
"""
import re
import sys


def block(text: str, name: str) -> str:
    marker = f"<!-- test-packages: {name} -->"
    if text.count(marker) != 1:
        raise SystemExit(f"readme-block: {marker!r} occurs {text.count(marker)} times (want 1)")
    rest = text.split(marker, 1)[1]
    m = re.match(r"\s*\n(`{3,})[^\n]*\n(.*?)\n\1[ \t]*(\n|$)", rest, re.S)
    if not m:
        raise SystemExit(f"readme-block: no fenced block right after {marker!r}")
    return m.group(2) + "\n"


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    with open(sys.argv[1], encoding="utf-8") as f:
        sys.stdout.write(block(f.read(), sys.argv[2]))
