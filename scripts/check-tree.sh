#!/usr/bin/env bash
# Fails when git tracks a build output (issue 12): run first by scripts/test.sh.
#
#   bash scripts/check-tree.sh
#
# A tracked file fails when
#   1. its path is a build output's: a folder target/, build/, pkg/, dist/,
#      node_modules/, .venv/, __pycache__/ anywhere, or a name ending in .so,
#      .so.N, .dylib, .dll, .pyd, .a, .o, .rlib, .wasm, .whl, .tgz, .tar.gz,
#      .crate, .class, .pyc;
#   2. its content is a compiled or packed artefact, whatever its name
#      (`file` says ELF, WebAssembly, Mach-O, PE, ar archive, gzip, zip,
#      compiled Java or Python, LLVM bitcode);
#   3. its content is binary (a NUL byte) and it is not under a folder of
#      binary test data: fuzz/regressions/ (fuzzer inputs). Text data such
#      as vectors/*.jsonl passes rule 3 as text.
# It also checks that .gitignore ignores each kind of build output, that
# no tracked file is ignored (`git ls-files -ci`), and that docs/ERRORS.md
# and vectors/answers.jsonl are what their generators write (--check).
# Last line: `N passed, M failed`.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

command -v file >/dev/null 2>&1 || { . scripts/lib.sh; ensure_apt file; }

binary_data_dirs='^fuzz/regressions/'
output_path='(^|/)(target|build|pkg|dist|node_modules|\.venv|__pycache__)/|\.(so(\.[0-9]+)*|dylib|dll|pyd|a|o|rlib|wasm|whl|tgz|tar\.gz|crate|class|pyc)$'
output_magic='ELF |WebAssembly|Mach-O|PE32|MS-DOS executable|current ar archive|gzip compressed|Zip archive|XZ compressed|Zstandard|compiled Java class|python .*byte-compiled|LLVM IR bitcode'

passed=0
failed=0
fail() { echo "FAIL: $*" >&2; failed=$((failed + 1)); }

# 1-3: every tracked file. Binary means git's own test on the staged blob (a
# NUL byte in its first 8000 bytes: `git ls-files --eol` says i/-text); the
# magic is `file`'s, run once over the work tree's copies.
bad=0
declare -A binary=()
while IFS= read -r -d '' line; do
    [[ "$line" == i/-text* ]] && binary["${line#*$'\t'}"]=1
done < <(git ls-files -z --eol)
mapfile -d '' files < <(git ls-files -z)
declare -A kind=()
present=()
for f in "${files[@]}"; do [ -f "$f" ] && ! [ -L "$f" ] && present+=("$f"); done
if [ "${#present[@]}" -gt 0 ]; then
    while IFS= read -r -d '' f && IFS= read -r k; do
        kind["$f"]="${k#: }"
    done < <(file -N -0 -- "${present[@]}")
fi
for f in "${files[@]}"; do
    k="${kind[$f]:-}"
    if [[ "$f" =~ $output_path ]]; then
        fail "$f: tracked build output (path)"; bad=1
    elif [[ "$k" =~ $output_magic ]]; then
        fail "$f: tracked build output ($k)"; bad=1
    elif [ -n "${binary[$f]:-}" ] && ! [[ "$f" =~ $binary_data_dirs ]]; then
        fail "$f: binary file outside $binary_data_dirs ($k)"; bad=1
    fi
done
[ "$bad" = 0 ] && { echo "no build output among ${#files[@]} tracked files"; passed=$((passed + 1)); }

# .gitignore covers each kind of build output, in any folder.
bad=0
for p in target/x core/target/x bindings-wasm/pkg/x a/b/build/x dist/x bindings-python/dist/x \
         .venv/x node_modules/x examples/node/node_modules/x x.so lib/libkoosign.so.0.1 x.wasm \
         x.whl x.tgz x.tar.gz x.crate x.a x.o x.pyc __pycache__/x fuzz/corpus/x fuzz/artifacts/x; do
    git check-ignore -q --no-index "$p" || { fail ".gitignore does not ignore $p"; bad=1; }
done
[ "$bad" = 0 ] && { echo ".gitignore ignores every kind of build output"; passed=$((passed + 1)); }

# No tracked file is ignored (it would be one that slipped in with `git add -f`).
ignored="$(git ls-files -ci --exclude-standard)"
if [ -n "$ignored" ]; then fail "tracked but ignored: $ignored"; else echo "no tracked file is ignored"; passed=$((passed + 1)); fi

# The generated files regenerate from their sources, byte for byte (Python's
# standard library only): docs/ERRORS.md from the core's and the bindings'
# error tables, vectors/answers.jsonl from its independent generator.
for gen in scripts/gen-errors.py vectors/gen_answers.py; do
    if out="$(python3 "$gen" --check 2>&1)"; then echo "$out"; passed=$((passed + 1)); else fail "$out"; fi
done

echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
