#!/usr/bin/env bash
# Regenerates the vectors of the new kinds in vectors/ with the reference
# implementations (never with koosign):
#
#   vectors/stages.jsonl     per-stage goldens: `java reference/java/KooRef.java stages`
#                            (v1_stages, v2_stages, s4_key) and
#                            `reference/python/apig_ref.py stages` (apig_stages)
#   vectors/invalid.jsonl    vectors/gen_invalid.py (genuine reference requests, damaged)
#   vectors/published.jsonl  vectors/gen_published.py (values written by others, re-derived)
#
# The references: the JDK (Java 17, `java -version` is printed below) and
# Huawei's Python SDK core `huaweicloudsdkcore`, the version pinned in
# scripts/setup-ref-venv.sh. The seed and the counts are fixed here, so the
# output is the same on every run with the same references.
#
#   WYCHEPROOF=/path/to/wycheproof vectors/gen-extra.sh
#
# WYCHEPROOF: a checkout of https://github.com/C2SP/wycheproof (any commit
# whose testvectors_v1/aes_cbc_pkcs5_test.json equals the one at
# 061657f12eed26eeab9b6548ce03f45219d0e7fe). Without it, published.jsonl is
# left as it is.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

SEED=20240315      # the seed of every stage generator
STAGE_COUNT=100    # cases per stage kind (v1_stages, v2_stages, apig_stages)
S4_COUNT=50        # s4_key cases

PY="$(scripts/setup-ref-venv.sh | tail -n 1)"
java -version 2>&1 | head -n 1 >&2
"$PY" -c 'import importlib.metadata as m; print("huaweicloudsdkcore", m.version("huaweicloudsdkcore"))' >&2

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

java reference/java/KooRef.java stages "$SEED" "$STAGE_COUNT" > "$tmp/jdk.jsonl"
# s4_key: the first S4_COUNT of its stream
{
    grep '"kind":"v1_stages"' "$tmp/jdk.jsonl"
    grep '"kind":"v2_stages"' "$tmp/jdk.jsonl"
    "$PY" reference/python/apig_ref.py stages "$SEED" "$STAGE_COUNT"
    grep '"kind":"s4_key"' "$tmp/jdk.jsonl" | head -n "$S4_COUNT"
} > "$tmp/stages.jsonl"
# Each reference re-checks what it generated.
java reference/java/KooRef.java check "$tmp/stages.jsonl" >&2
"$PY" reference/python/apig_ref.py check "$tmp/stages.jsonl" >&2
mv "$tmp/stages.jsonl" vectors/stages.jsonl

"$PY" vectors/gen_invalid.py > "$tmp/invalid.jsonl"
mv "$tmp/invalid.jsonl" vectors/invalid.jsonl

if [ -n "${WYCHEPROOF:-}" ]; then
    "$PY" vectors/gen_published.py "$WYCHEPROOF/testvectors_v1/aes_cbc_pkcs5_test.json" > "$tmp/published.jsonl"
    mv "$tmp/published.jsonl" vectors/published.jsonl
else
    echo "WYCHEPROOF not set: vectors/published.jsonl left as it is" >&2
fi
wc -l vectors/stages.jsonl vectors/invalid.jsonl vectors/published.jsonl >&2
