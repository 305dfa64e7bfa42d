#!/usr/bin/env bash
# The core's doc comments cite the contract by path and section,
# `docs/SCHEMES.md §S1 item 10`. This script checks that they do, and that
# every section they cite exists in docs/SCHEMES.md (as an `<a id="…">`).
#
#   scripts/spec-refs.sh          check; exit 1 listing every bad citation
#   scripts/spec-refs.sh --fix    first rewrite `SCHEMES.md S1…` citations
#                                 without the path into `docs/SCHEMES.md §S1…`
#                                 (idempotent), then check
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

files=()
while IFS= read -r f; do files+=("$f"); done < <(find core/src -name '*.rs' | sort)

if [ "${1:-}" = "--fix" ]; then
    perl -pi -e '
        next unless m{^\s*//};
        s{(?<![/\w])SCHEMES\.md,?(\s+)S(\d)}{docs/SCHEMES.md$1§S$2}g;
        s{(?<![/\w])SCHEMES\.md}{docs/SCHEMES.md}g;
    ' "${files[@]}"
elif [ $# -gt 0 ]; then
    echo "usage: scripts/spec-refs.sh [--fix]" >&2
    exit 2
fi

status=0
# 1. No citation without the path.
if grep -nP '(?<![/\w])SCHEMES\.md' "${files[@]}"; then
    echo "^ cite the contract as docs/SCHEMES.md (scripts/spec-refs.sh --fix rewrites these)" >&2
    status=1
fi
# 2. Every cited section exists.
anchors="$(grep -oP '<a id="\K[^"]+' docs/SCHEMES.md | tr 'A-Z' 'a-z' | sort -u)"
while IFS= read -r cited; do
    id="$(printf '%s' "$cited" | tr 'A-Z' 'a-z')"
    if ! grep -qxF "$id" <<<"$anchors"; then
        echo "core/src cites docs/SCHEMES.md §$cited, which has no <a id=\"$cited\"> in docs/SCHEMES.md" >&2
        status=1
    fi
done < <(grep -ohP 'docs/SCHEMES\.md\s+§\K[A-Za-z0-9]+' "${files[@]}" | sort -u)
n="$(grep -ohP 'docs/SCHEMES\.md' "${files[@]}" | wc -l)"
[ "$status" = 0 ] && echo "core/src: $n citations of docs/SCHEMES.md, every cited section present"
exit "$status"
