#!/usr/bin/env bash
# The one command that reproduces BENCHMARKS.md and docs/bench.svg (issues 8, 14, 15).
#
# One run, in order: the builds (bench targets, CLI, C library, the Python
# wheel twice: abi3 and version-specific, the WebAssembly package and the
# Node examples' dependencies); then the criterion suites (core operations and
# floors, cost against size), the paired koosign/floor ratios (keyed floors
# and the keyed context included), the keyed context against the one-shots, the JDK peer, the OpenSSL peer, the C-API overhead, the Python
# binding bench (both wheels), the Node binding bench, the server load bench
# (`koosign serve`, the Flask and Express examples under wrk, 30 s at most),
# the soak of `koosign serve` (60 s), the dudect timing test; then
# benches/report.py writes the tables and the plot. Nothing here asserts a time.
#
# Time budget: at most 12 minutes on the 2-core machine, builds up to date
# (about 9 minutes of measurement; the builds' time is reported apart). To fit
# it, the samples are smaller than the tools' defaults — criterion: 0.3 s
# warm-up + 0.7 s per core benchmark, 0.2 s + 0.3 s per scale point;
# ratios: KOOSIGN_PAIR_SECONDS=1.5; JDK: 1.5 s warm-up + 1.5 s per op;
# dudect: 300,000 samples per test. Each can be raised by its variable
# (KOOSIGN_CRIT_CORE, KOOSIGN_CRIT_SCALE, KOOSIGN_PAIR_SECONDS,
# KOOSIGN_JDK_SECONDS, KOOSIGN_CT_SAMPLES) for a longer run.
#
#   scripts/bench.sh            full run, rewrites BENCHMARKS.md (generated part) and docs/bench.svg
#   KOOSIGN_BENCH_QUICK=1 scripts/bench.sh   the same pipeline in quick mode (numbers not meaningful;
#                                            writes to target/bench-quick/, leaves BENCHMARKS.md alone)
#   KOOSIGN_BENCH_BUILD_ONLY=1 scripts/bench.sh   only the builds (then the full run spends its
#                                            12 minutes measuring)
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/lib.sh
ensure_apt libssl-dev openjdk-17-jdk-headless gcc wrk

QUICK=${KOOSIGN_BENCH_QUICK:-}
if [ -n "$QUICK" ]; then
    OUT=target/bench-quick
    read -r -a CORE_ARGS <<<"--quick --noplot"
    read -r -a SCALE_ARGS <<<"--quick --noplot"
    PAIR_ARGS=(--quick)
    JAVA_ARGS=(--quick)
    OSSL_ARGS=(--quick)
    CAPI_SECONDS=0.2
    LOAD_ARGS=(--quick)
    SOAK_SECS=3
    export KOOSIGN_CT_SAMPLES=${KOOSIGN_CT_SAMPLES:-20000}
else
    OUT=target/bench-results
    read -r -a CORE_ARGS <<<"--noplot ${KOOSIGN_CRIT_CORE:---warm-up-time 0.3 --measurement-time 0.7}"
    read -r -a SCALE_ARGS <<<"--noplot ${KOOSIGN_CRIT_SCALE:---warm-up-time 0.2 --measurement-time 0.3}"
    export KOOSIGN_PAIR_SECONDS=${KOOSIGN_PAIR_SECONDS:-1.5}
    PAIR_ARGS=()
    read -r -a JAVA_ARGS <<<"--seconds ${KOOSIGN_JDK_SECONDS:-1.5 1.5}"
    OSSL_ARGS=()
    CAPI_SECONDS=3
    LOAD_ARGS=()
    SOAK_SECS=60
    export KOOSIGN_CT_SAMPLES=${KOOSIGN_CT_SAMPLES:-300000}
fi
SOAK_RATE=${KOOSIGN_SOAK_RATE:-200}
rm -rf "$OUT"
mkdir -p "$OUT"
start=$(date +%s)
# stage NAME: the time of each part, into $OUT/stages.tsv (BENCHMARKS.md shows it).
stage_name=""; stage_t0=$start
stage() {
    local now; now=$(date +%s)
    [ -n "$stage_name" ] && printf '%s\t%s\n' "$stage_name" $(( now - stage_t0 )) >>"$OUT/stages.tsv"
    stage_name=$1; stage_t0=$now
    [ -n "$1" ] && echo "== bench: $1"
    return 0
}

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

stage "build"
cargo bench -p koosign-benches --no-run
cargo build --release -p koosign-benches -p koosign-cli
cargo test -p koosign-cli --release --test soak --no-run
CAPI_OK=
# One cargo invocation for the C library and the native loops it is measured
# against (benches/src/native.rs): both then link the same build of the core
# (the same features: none), so the C-API bench compares the wrappers, not two
# compilations of the core.
if [ -f bindings-c/include/koosign.h ] && cargo build --release -q -p koosign-c -p koosign-benches 2>"$OUT/capi-build.log" \
    && [ -f target/release/libkoosign.a ]; then
    CAPI_OK=1
fi
# The Python wheel, twice: abi3 (what is published) into .venv, and a
# version-specific build of the same code (--no-default-features: pyo3
# without abi3) into target/python-vs/site, which the second bench run puts
# first on PYTHONPATH. maturin gets its own target dirs (no wait on the
# workspace's lock; the two builds do not invalidate each other).
PY_OK=
if ensure_venv .venv bindings-python/requirements-test.txt >"$OUT/python-build.log" 2>&1 \
    && rm -rf target/python/wheels-bench target/python-vs/wheels target/python-vs/site \
    && CARGO_TARGET_DIR=target/python .venv/bin/maturin build --release --strip -m bindings-python/Cargo.toml \
        -i .venv/bin/python --out target/python/wheels-bench >>"$OUT/python-build.log" 2>&1 \
    && .venv/bin/python -m pip install --quiet --disable-pip-version-check --force-reinstall --no-deps \
        target/python/wheels-bench/koosign-*.whl >>"$OUT/python-build.log" 2>&1 \
    && CARGO_TARGET_DIR=target/python-vs .venv/bin/maturin build --release --strip --no-default-features \
        -m bindings-python/Cargo.toml -i .venv/bin/python --out target/python-vs/wheels >>"$OUT/python-build.log" 2>&1 \
    && .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps --target target/python-vs/site \
        target/python-vs/wheels/koosign-*.whl >>"$OUT/python-build.log" 2>&1; then
    PY_OK=1
    ls target/python/wheels-bench target/python-vs/wheels
else
    echo "Python wheels not built: the Python bench and the Flask example are skipped (see $OUT/python-build.log)"
fi
NODE_OK=
npm_install() { (cd "$1" && npm install --no-audit --no-fund --prefer-offline --loglevel=error); }
if bash scripts/build-wasm.sh >"$OUT/wasm-build.log" 2>&1 && npm_install bindings-wasm >>"$OUT/wasm-build.log" 2>&1 \
    && npm_install examples/node >>"$OUT/wasm-build.log" 2>&1; then
    NODE_OK=1
else
    echo "WebAssembly package not built: the Node bench and the Express example are skipped (see $OUT/wasm-build.log)"
fi

if [ -n "${KOOSIGN_BENCH_BUILD_ONLY:-}" ]; then
    stage ""
    echo "bench: builds done in $(( $(date +%s) - start )) s (KOOSIGN_BENCH_BUILD_ONLY: nothing measured)"
    exit 0
fi

if [ -z "$QUICK" ]; then rm -rf target/criterion; fi
stage "criterion, core operations and floors (+ allocation check)"
cargo bench -q -p koosign-benches --bench core -- "${CORE_ARGS[@]}" | tee "$OUT/core.log"
stage "criterion, cost against size"
cargo bench -q -p koosign-benches --bench scale -- "${SCALE_ARGS[@]}" | tee "$OUT/scale.log"
stage "paired ratios koosign / floor"
cargo bench -q -p koosign-benches --bench ratios -- "${PAIR_ARGS[@]}" | tee "$OUT/ratios.log"

stage "keyed merchant context against the one-shots"
cargo bench -q -p koosign-benches --bench context -- "${PAIR_ARGS[@]}" | tee "$OUT/context.log"

stage "JDK peer"
java benches/java/KooBench.java "${JAVA_ARGS[@]}" | tee "$OUT/jdk.jsonl"

stage "OpenSSL peer"
gcc -std=c11 -O2 -Wall -Wextra -Werror -o "$OUT/openssl_peer" benches/c/openssl_peer.c -lcrypto
"$OUT/openssl_peer" "${OSSL_ARGS[@]}" | tee "$OUT/openssl.jsonl"

stage "C API overhead"
if [ -n "$CAPI_OK" ]; then
    gcc -std=c11 -O2 -Wall -Wextra -Werror -Ibindings-c/include benches/c/capi_overhead.c target/release/libkoosign.a \
        -Ltarget/release -lkoosign_benches -Wl,-rpath,"$PWD/target/release" -lpthread -ldl -lm -o "$OUT/capi_overhead"
    "$OUT/capi_overhead" "$CAPI_SECONDS" | tee "$OUT/capi.jsonl"
else
    echo "bindings-c not available: skipped (see $OUT/capi-build.log)"
fi

# The bindings' own benches may rewrite their BENCH.md (theirs to publish).
# A full run leaves bindings-wasm/BENCH.md as bench.mjs rewrote it, so that
# its table comes from the same run as BENCHMARKS.md (issue 14); a quick run
# keeps their output in $OUT and leaves their folders as it found them.
keep() { if [ -f "$1" ]; then cp -p "$1" "$OUT/$(echo "$1" | tr / _).orig"; fi; }
restore() {
    local saved="$OUT/$(echo "$1" | tr / _).orig"
    if [ -f "$saved" ]; then cp -p "$saved" "$1"; else rm -f "$1"; fi
}
keep bindings-python/BENCH.md; keep bindings-wasm/BENCH.md

stage "Python binding (abi3 wheel, then the version-specific build)"
if [ -n "$PY_OK" ]; then
    .venv/bin/python bindings-python/bench/bench.py ${QUICK:+--quick} 2>&1 | tee "$OUT/python.txt" \
        || echo "python bench failed" | tee -a "$OUT/python.txt"
    PYTHONPATH="$PWD/target/python-vs/site" .venv/bin/python bindings-python/bench/bench.py ${QUICK:+--quick} 2>&1 \
        | tee "$OUT/python-vs.txt" || echo "python bench (version-specific) failed" | tee -a "$OUT/python-vs.txt"
    # The two builds against each other properly: alternating processes,
    # several rounds (bindings-python/bench/builds.py; about 40 s).
    .venv/bin/python bindings-python/bench/builds.py "$([ -n "$QUICK" ] && echo 1 || echo 6)" abi3= \
        "version-specific=$PWD/target/python-vs/site" 2>&1 | tee "$OUT/python-builds.txt" \
        || echo "python builds comparison failed" | tee -a "$OUT/python-builds.txt"
else
    echo "Python wheels not built: skipped" | tee "$OUT/python.txt"
fi
stage "Node binding"
if [ -n "$NODE_OK" ] && [ -f bindings-wasm/bench.mjs ]; then
    node bindings-wasm/bench.mjs ${QUICK:+--quick} 2>&1 | tee "$OUT/node.txt" || echo "node bench failed" | tee -a "$OUT/node.txt"
else
    echo "WebAssembly package or bindings-wasm/bench.mjs not available: skipped" | tee "$OUT/node.txt"
fi

restore bindings-python/BENCH.md
if [ -n "$QUICK" ]; then restore bindings-wasm/BENCH.md; fi

stage "server load: koosign serve, Flask and Express examples under wrk (30 s at most)"
python3 benches/load/serve_load.py "${LOAD_ARGS[@]}" 2>&1 | tee "$OUT/load.log" || echo "load bench: some server failed (see above)"

stage "soak: koosign serve, ${SOAK_SECS} s at ${SOAK_RATE}/s"
scripts/soak.sh "$SOAK_SECS" "$SOAK_RATE" sqlite 2>&1 | tee "$OUT/soak.log" || echo "soak failed (see above)"

stage "dudect (constant-time comparison, $KOOSIGN_CT_SAMPLES samples per test)"
cargo bench -q -p koosign-benches --bench ct_compare | tee "$OUT/ct.log"
stage ""

secs=$(( $(date +%s) - start ))
python3 - "$OUT/meta.json" "$secs" "$OUT/stages.tsv" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
fmt = lambda s: f"{s // 60} min {s % 60} s"
stages = [l.rstrip("\n").split("\t") for l in open(sys.argv[3]) if l.strip()]
build = sum(int(s) for n, s in stages if n == "build")
total = int(sys.argv[2])
m["duration"] = fmt(total)
m["build_duration"] = fmt(build)
m["measure_duration"] = fmt(total - build)
m["stages"] = [[n, int(s)] for n, s in stages]
json.dump(m, open(sys.argv[1], "w"), indent=1)
PY
if [ -z "$QUICK" ]; then
    python3 benches/report.py "$OUT"
else
    echo "quick mode: results in $OUT (BENCHMARKS.md not rewritten)"
fi
echo "bench: done in ${secs} s"
