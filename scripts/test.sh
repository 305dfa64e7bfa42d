#!/usr/bin/env bash
# The one test command (README, .ci/run): every part's tests, in order.
# Each part installs what it needs on a fresh machine of this kind.
# First, always: scripts/check-tree.sh (no build output tracked by git).
set -euo pipefail
cd "$(dirname "$0")/.."
parts=(core cli faults python wasm c packages fuzz benches)
if [ $# -gt 0 ]; then parts=("$@"); fi
start=$(date +%s)
passed=0; failed=0; results=()
for p in tree "${parts[@]}"; do
    t0=$(date +%s)
    echo "=================== $p ==================="
    script="scripts/test-$p.sh"
    [ "$p" = tree ] && script=scripts/check-tree.sh
    if bash "$script"; then
        passed=$((passed + 1)); results+=("PASS $p ($(( $(date +%s) - t0 )) s)")
    else
        failed=$((failed + 1)); results+=("FAIL $p ($(( $(date +%s) - t0 )) s)")
    fi
done
echo "=================== summary ($(( $(date +%s) - start )) s) ==================="
printf '%s\n' "${results[@]}"
echo "suites: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
