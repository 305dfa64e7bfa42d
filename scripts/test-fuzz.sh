#!/usr/bin/env bash
# Fuzzing and properties (issue 7): the core's property tests and crash
# regressions, the seed corpora (from the repository's vectors/), a replay of the
# seeds and saved crashes through the targets' checks, then every cargo-fuzz
# target for a bounded time. Fails on any crash; prints the executions per
# target.
#
#   FUZZ_SECONDS  seconds per target (default 30)
#   FUZZ_JOBS     targets fuzzed at once, one libFuzzer process each
#                 (default: the number of CPUs; at most 4 in any case)
#   FUZZ_BUDGET   wall-clock seconds for all targets together (default 540;
#                 the per-target time shrinks to fit)
#   FUZZ_TARGETS  space-separated subset of targets (default: all)
#   FUZZ_SANITIZER  cargo fuzz's --sanitizer (default: none). The core is
#                 `#![forbid(unsafe_code)]` and the C ABI runs under ASan,
#                 UBSan and valgrind in scripts/test-c.sh; without ASan the
#                 targets run 5-9x more inputs in the same time (measured on
#                 v1_query, notification, roundtrip) and build in two thirds
#                 of the time. FUZZ_SANITIZER=address for an ASan run.
set -euo pipefail
cd "$(dirname "$0")/.."
VECTORS=${KOOSIGN_VECTORS:-vectors}
FUZZ_SECONDS=${FUZZ_SECONDS:-30}
FUZZ_BUDGET=${FUZZ_BUDGET:-540}
FUZZ_SANITIZER=${FUZZ_SANITIZER:-none}
CARGO_FUZZ_VERSION=0.13.2

echo "== fuzz: core property tests (injectivity included) and crash regressions"
cargo test -p koosign --test properties --test injectivity --test regressions

echo "== fuzz: toolchain"
if ! rustup toolchain list | grep -q '^nightly'; then
    echo "the nightly toolchain is needed for cargo-fuzz (rustup toolchain install nightly)" >&2
    exit 1
fi
if ! cargo fuzz --version >/dev/null 2>&1; then
    cargo install cargo-fuzz --locked --version "$CARGO_FUZZ_VERSION"
fi
cargo fuzz --version

echo "== fuzz: seed corpora from $VECTORS"
python3 fuzz/seed.py "$VECTORS" fuzz/corpus

echo "== fuzz: replay seeds and saved crashes (no libFuzzer)"
cargo test --manifest-path fuzz/Cargo.toml --release

echo "== fuzz: build"
cargo +nightly fuzz build --sanitizer "$FUZZ_SANITIZER"
if [ -n "${FUZZ_TARGETS:-}" ]; then
    read -r -a targets <<< "$FUZZ_TARGETS"
else
    mapfile -t targets < <(cargo +nightly fuzz list)
fi
# Each target once: its log and exit status are files named after it.
mapfile -t targets < <(printf '%s\n' "${targets[@]}" | awk 'NF && !seen[$0]++')
n=${#targets[@]}
jobs=${FUZZ_JOBS:-$(nproc 2>/dev/null || echo 1)}
[ "$jobs" -le 4 ] || jobs=4
[ "$jobs" -ge 1 ] || jobs=1
secs=$FUZZ_SECONDS
# Each of the ceil(n / jobs) rounds takes secs seconds of wall-clock time.
rounds=$(((n + jobs - 1) / jobs))
if [ $((secs * rounds)) -gt "$FUZZ_BUDGET" ]; then
    secs=$((FUZZ_BUDGET / rounds))
fi
[ "$secs" -ge 1 ] || secs=1
echo "== fuzz: ${n} targets, ${secs} s each, ${jobs} at a time, sanitizer: $FUZZ_SANITIZER"
logs=fuzz/target/fuzz-logs
mkdir -p "$logs"
# fuzz_one TARGET: one libFuzzer process (a single job, a single worker) on
# TARGET's corpus; its log in $logs/TARGET.log, its exit status in .rc.
fuzz_one() {
    local t=$1 rc=0
    mkdir -p "fuzz/corpus/$t"
    cargo +nightly fuzz run --sanitizer "$FUZZ_SANITIZER" "$t" "fuzz/corpus/$t" -- \
        -max_total_time="$secs" -timeout=10 -print_final_stats=1 >"$logs/$t.log" 2>&1 || rc=$?
    echo "$rc" >"$logs/$t.rc"
}
# The binaries are built above, so the runs only fuzz; at most $jobs at once.
running=0
for t in "${targets[@]}"; do
    rm -f "$logs/$t.rc" "$logs/$t.log"
    if [ "$running" -ge "$jobs" ]; then
        wait -n || true
        running=$((running - 1))
    fi
    fuzz_one "$t" &
    running=$((running + 1))
done
wait
summary=()
passed=0; failed=0; total=0
for t in "${targets[@]}"; do
    log="$logs/$t.log"
    rc=$(cat "$logs/$t.rc" 2>/dev/null || echo "no status")
    execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | tail -n 1 | grep -o '[0-9]*$' || true)
    execs=${execs:-0}
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | grep -o '[0-9]*$' || true)
    files=$(find "fuzz/corpus/$t" -type f | wc -l)
    total=$((total + execs))
    if [ "$rc" = 0 ]; then
        passed=$((passed + 1)); status=ok
    else
        failed=$((failed + 1)); status="CRASH (exit $rc)"
        echo "---- $t failed; the end of its log ($log):" >&2
        tail -n 40 "$log" >&2
        ls -1 "fuzz/artifacts/$t" 2>/dev/null | sed "s|^|     artifact: fuzz/artifacts/$t/|" >&2 || true
    fi
    line=$(printf '%-14s %4s s  %12s execs  cov %6s  corpus %5s  %s' "$t" "$secs" "$execs" "${cov:-?}" "$files" "$status")
    echo "$line"
    summary+=("$line")
done
echo "== fuzz summary ($(date -u +%Y-%m-%dT%H:%MZ))"
printf '%s\n' "${summary[@]}"
echo "total executions: $total"
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
