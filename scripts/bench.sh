#!/usr/bin/env bash
# The one command that reproduces BENCHMARKS.md and docs/bench.svg (issue 8).
#
# One run, in order: the criterion suites (core operations and floors, cost
# against size), the paired koosign/floor ratios, the JDK peer, the OpenSSL
# peer, the C-API overhead (when bindings-c builds), the Python and Node
# binding benches (when they exist), the dudect timing test; then
# benches/report.py writes the tables and the plot. Takes about 15 minutes
# on the 2-core machine. Nothing here asserts a time.
#
#   scripts/bench.sh            full run, rewrites BENCHMARKS.md (generated part) and docs/bench.svg
#   KOOSIGN_BENCH_QUICK=1 scripts/bench.sh   the same pipeline in quick mode (numbers not meaningful;
#                                            writes to target/bench-quick/, leaves BENCHMARKS.md alone)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
ensure_apt libssl-dev openjdk-17-jdk-headless gcc

QUICK=${KOOSIGN_BENCH_QUICK:-}
if [ -n "$QUICK" ]; then
    OUT=target/bench-quick
    CRIT_ARGS=(--quick --noplot)
    PAIR_ARGS=(--quick)
    JAVA_ARGS=(--quick)
    OSSL_ARGS=(--quick)
    CAPI_SECONDS=0.2
    export KOOSIGN_CT_SAMPLES=${KOOSIGN_CT_SAMPLES:-20000}
else
    OUT=target/bench-results
    CRIT_ARGS=(--noplot)
    PAIR_ARGS=()
    JAVA_ARGS=()
    OSSL_ARGS=()
    CAPI_SECONDS=3
    export KOOSIGN_CT_SAMPLES=${KOOSIGN_CT_SAMPLES:-1000000}
fi
rm -rf "$OUT"
mkdir -p "$OUT"
start=$(date +%s)

# What the run was made on.
python3 - "$OUT/meta.json" <<'PY'
import json, os, platform, subprocess, sys, datetime
def sh(*a):
    try:
        return subprocess.run(a, capture_output=True, text=True).stdout + subprocess.run(a, capture_output=True, text=True).stderr
    except OSError:
        return ""
lscpu = sh("lscpu")
get = lambda k: next((l.split(":", 1)[1].strip() for l in lscpu.splitlines() if l.startswith(k + ":")), "?")
flags = get("Flags").split()
meta = {
    "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
    "command": "scripts/bench.sh",
    "commit": sh("git", "rev-parse", "--short", "HEAD").strip().splitlines()[0] + (" + uncommitted changes" if sh("git", "status", "--porcelain").strip() else ""),
    "cpu": get("Model name"),
    "cpu_detail": f"family {get('CPU family')} model {get('Model')}, {get('Hypervisor vendor')} guest; "
                  + " ".join(f for f in ("sha_ni", "aes", "vaes", "avx2", "avx512f") if f in flags),
    "cores": get("CPU(s)"),
    "kernel": platform.system() + " " + platform.release(),
    "load": open("/proc/loadavg").read().split()[0],
    "rustc": sh("rustc", "--version").strip(),
    "java": sh("java", "-version").strip().splitlines()[0],
    "openssl": sh("openssl", "version").strip(),
}
json.dump(meta, open(sys.argv[1], "w"), indent=1)
PY

echo "== bench: build"
cargo bench -p koosign-benches --no-run
cargo build --release -p koosign-benches

if [ -z "$QUICK" ]; then rm -rf target/criterion; fi
echo "== bench: criterion, core operations and floors (+ allocation check)"
cargo bench -q -p koosign-benches --bench core -- "${CRIT_ARGS[@]}" | tee "$OUT/core.log"
echo "== bench: criterion, cost against size"
cargo bench -q -p koosign-benches --bench scale -- "${CRIT_ARGS[@]}" | tee "$OUT/scale.log"
echo "== bench: paired ratios koosign / floor"
cargo bench -q -p koosign-benches --bench ratios -- "${PAIR_ARGS[@]}" | tee "$OUT/ratios.log"

echo "== bench: JDK peer"
java benches/java/KooBench.java "${JAVA_ARGS[@]}" | tee "$OUT/jdk.jsonl"

echo "== bench: OpenSSL peer"
gcc -std=c11 -O2 -Wall -Wextra -Werror -o "$OUT/openssl_peer" benches/c/openssl_peer.c -lcrypto
"$OUT/openssl_peer" "${OSSL_ARGS[@]}" | tee "$OUT/openssl.jsonl"

echo "== bench: C API overhead"
if [ -f bindings-c/include/koosign.h ] && cargo build --release -q -p koosign-c 2>"$OUT/capi-build.log" \
    && [ -f target/release/libkoosign.a ]; then
    gcc -std=c11 -O2 -Wall -Wextra -Werror -Ibindings-c/include benches/c/capi_overhead.c target/release/libkoosign.a \
        -Ltarget/release -lkoosign_benches -Wl,-rpath,"$PWD/target/release" -lpthread -ldl -lm -o "$OUT/capi_overhead"
    "$OUT/capi_overhead" "$CAPI_SECONDS" | tee "$OUT/capi.jsonl"
else
    echo "bindings-c not available: skipped (see $OUT/capi-build.log)"
fi

# The bindings' own benches may rewrite their BENCH.md (theirs to publish):
# this run keeps their output in $OUT and leaves their folders as it found them.
keep() { if [ -f "$1" ]; then cp -p "$1" "$OUT/$(echo "$1" | tr / _).orig"; fi; }
restore() {
    local saved="$OUT/$(echo "$1" | tr / _).orig"
    if [ -f "$saved" ]; then cp -p "$saved" "$1"; else rm -f "$1"; fi
}
keep bindings-python/BENCH.md; keep bindings-wasm/BENCH.md

echo "== bench: Python binding"
if [ -f bindings-python/bench/bench.py ]; then
    PY=python3
    [ -x .venv/bin/python ] && PY=.venv/bin/python
    "$PY" bindings-python/bench/bench.py ${QUICK:+--quick} 2>&1 | tee "$OUT/python.txt" || echo "python bench failed" | tee -a "$OUT/python.txt"
else
    echo "bindings-python/bench/bench.py does not exist: skipped"
fi
echo "== bench: Node binding"
if [ -f bindings-wasm/bench.mjs ]; then
    node bindings-wasm/bench.mjs ${QUICK:+--quick} 2>&1 | tee "$OUT/node.txt" || echo "node bench failed" | tee -a "$OUT/node.txt"
else
    echo "bindings-wasm/bench.mjs does not exist: skipped"
fi

restore bindings-python/BENCH.md; restore bindings-wasm/BENCH.md

echo "== bench: dudect (constant-time comparison, $KOOSIGN_CT_SAMPLES samples per test)"
cargo bench -q -p koosign-benches --bench ct_compare | tee "$OUT/ct.log"

secs=$(( $(date +%s) - start ))
python3 - "$OUT/meta.json" "$secs" <<'PY'
import json, sys
m = json.load(open(sys.argv[1])); m["duration"] = f"{int(sys.argv[2]) // 60} min {int(sys.argv[2]) % 60} s"
json.dump(m, open(sys.argv[1], "w"), indent=1)
PY
if [ -z "$QUICK" ]; then
    python3 benches/report.py "$OUT"
else
    echo "quick mode: results in $OUT (BENCHMARKS.md not rewritten)"
fi
echo "bench: done in ${secs} s"
