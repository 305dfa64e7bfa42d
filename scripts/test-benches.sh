#!/usr/bin/env bash
# Tests of the benchmarks (issue 8): build every bench target and run each
# briefly, so that they cannot rot. Asserts no time. It does check what is
# not a time: the fixtures agree with the SCHEMES.md vectors (unit test),
# every koosign operation makes 0 heap allocations (core and scale benches
# fail otherwise), the peers' self-checks pass (JDK, OpenSSL, C API).
# About 2–3 minutes; the full run is scripts/bench.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
ensure_apt libssl-dev openjdk-17-jdk-headless gcc wrk

tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
# Criterion's quick results go to the temp dir, not over the full run's in target/criterion.
export CRITERION_HOME="$tmp/criterion"
# 1,000 bootstrap resamples instead of criterion's 100,000: the quick run
# asserts no time, and the resampling was most of its minute per suite.
quick=(--warm-up-time 0.05 --measurement-time 0.1 --noplot --nresamples 1000)
# run LOG CMD...: output to LOG (criterion's progress included); on failure, its tail.
run() {
    local log=$1; shift
    "$@" > "$log" 2>&1 || { tail -n 40 "$log" >&2; echo "failed: $*" >&2; return 1; }
}

echo "== benches: fixtures against the documented vectors"
# --release: the same dependency builds as the `cargo bench` runs below.
cargo test --release -p koosign-benches --lib

echo "== benches: criterion suites, quick (allocation check included)"
run "$tmp/core.log" cargo bench -q -p koosign-benches --bench core -- "${quick[@]}"
grep -q "every koosign operation ran with 0 heap allocations" "$tmp/core.log"
grep -c "time:" "$tmp/core.log" | sed 's/^/core: criterion results: /'
run "$tmp/scale.log" cargo bench -q -p koosign-benches --bench scale -- "${quick[@]}"
grep -q "every koosign operation ran with 0 heap allocations" "$tmp/scale.log"
grep -c "time:" "$tmp/scale.log" | sed 's/^/scale: criterion results: /'

echo "== benches: paired ratios, quick"
KOOSIGN_PAIR_SECONDS=0.05 run "$tmp/ratios.log" cargo bench -q -p koosign-benches --bench ratios
n=$(grep -c '^RATIO {' "$tmp/ratios.log"); echo "ratios: $n pairs"; [ "$n" -eq 64 ]  # 32 GOALS pairs + 29 scale points + 3 growth points
n=$(grep -c '^SOLO {' "$tmp/ratios.log"); echo "solo timings: $n"; [ "$n" -ge 30 ]

echo "== benches: keyed context against the one-shots, quick"
run "$tmp/context.log" cargo bench -q -p koosign-benches --bench context -- --quick
grep -q "every context operation ran with 0 heap allocations" "$tmp/context.log"
n=$(grep -c '^RATIO {' "$tmp/context.log"); echo "context: $n pairs"; [ "$n" -eq 6 ]  # 4 one-shot pairs + Merchant::verify end to end (V2 query, kit headers)

echo "== benches: dudect, short"
KOOSIGN_CT_SAMPLES=20000 run "$tmp/ct.log" cargo bench -q -p koosign-benches --bench ct_compare
n=$(grep -c 'max t = ' "$tmp/ct.log"); echo "dudect: $n tests"; [ "$n" -eq 6 ]

echo "== benches: JDK peer, quick"
run "$tmp/jdk.jsonl" java benches/java/KooBench.java --quick
n=$(grep -c '"peer":"jdk"' "$tmp/jdk.jsonl"); echo "jdk: $n ops"; [ "$n" -eq 12 ]

echo "== benches: OpenSSL peer, quick"
gcc -std=c11 -O2 -Wall -Wextra -Werror -o "$tmp/openssl_peer" benches/c/openssl_peer.c -lcrypto
run "$tmp/openssl.jsonl" "$tmp/openssl_peer" --quick
n=$(grep -c '"peer":"openssl"' "$tmp/openssl.jsonl"); echo "openssl: $n ops"; [ "$n" -eq 11 ]

echo "== benches: C API overhead, quick"
if [ -f bindings-c/include/koosign.h ] && cargo build --release -q -p koosign-c -p koosign-benches; then
    gcc -std=c11 -O2 -Wall -Wextra -Werror -Ibindings-c/include benches/c/capi_overhead.c target/release/libkoosign.a \
        -Ltarget/release -lkoosign_benches -Wl,-rpath,"$PWD/target/release" -lpthread -ldl -lm -o "$tmp/capi_overhead"
    run "$tmp/capi.jsonl" "$tmp/capi_overhead" 0.05
    n=$(grep -c '"peer":"c_api"' "$tmp/capi.jsonl"); echo "c api: $n ops"; [ "$n" -eq 2 ]
else
    echo "c api: bindings-c not available, skipped"
fi

echo "== benches: server load bench, quick (koosign serve only; every answer checked)"
cargo build --release -q -p koosign-cli --bin koosign
python3 benches/load/serve_load.py --quick --only serve > "$tmp/load.log"
n=$(grep -c '"rps"' "$tmp/load.log"); echo "load: $n servers"; [ "$n" -eq 2 ]

echo "== benches: report generator and plot (on the quick results, written into a temp dir)"
mkdir -p "$tmp/res"
cp "$tmp"/*.log "$tmp"/*.jsonl "$tmp/res/"
KOOSIGN_REPORT_CRITERION="$CRITERION_HOME" KOOSIGN_REPORT_MD="$tmp/BENCHMARKS.md" KOOSIGN_REPORT_SVG="$tmp/bench.svg" python3 benches/report.py "$tmp/res"
grep -q "### Goals" "$tmp/BENCHMARKS.md"
grep -q "<polyline" "$tmp/bench.svg"
grep -q "### Issue 14: every goal beside its figure" "$tmp/BENCHMARKS.md"
grep -q "koosign serve --replay-store sqlite" "$tmp/BENCHMARKS.md"
echo "benches: all checks passed"
