#!/usr/bin/env bash
# The Node binding's test command (bindings-wasm/, examples/node/):
# toolchain + build (scripts/build-wasm.sh), npm install, node --test,
# conformance on the repository's vectors, a quick benchmark, the .wasm size.
# node --test includes vectors/answers.jsonl through Merchant (directly and
# over loopback HTTP against both examples) and the Redis store test, which
# starts its own redis-server on a free loopback port (installed here with
# apt-get when missing) and kills and restarts it.
#
#   bash scripts/test-wasm.sh
#
# Idempotent; on a machine that has run it once it takes well under a
# minute. The vectors are read from vectors/ (KOOSIGN_VECTORS points
# elsewhere; missing files fail). `koosign simulate` is run against the Express example when
# target/release/koosign exists (build it first to include that test).
# Last, target/release/koosign is built and `koosign simulate --audit
# --strict` is run against the Express and node:http examples
# (scripts/audit-examples.sh node; KOOSIGN_BUILD_CLI=0 skips it); a failure
# of node --test or of the audit fails the script after all steps ran.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }

step "build (toolchain, wasm, package)"
bash scripts/build-wasm.sh

step "redis-server (the shared replay store test, issue 15; apt-get when missing)"
. scripts/lib.sh
command -v redis-server >/dev/null 2>&1 || ensure_apt redis-server

step "npm install (bindings-wasm dev dependencies incl. redis, examples/node)"
npm_install() { (cd "$1" && npm install --no-audit --no-fund --prefer-offline --loglevel=error); }
npm_install bindings-wasm
npm_install examples/node

step "Huawei SDK reference venv (test/apig_url.test.mjs: URL signing agrees with the SDK)"
KOOSIGN_REF_PY="$(scripts/setup-ref-venv.sh | tail -n 1)"
export KOOSIGN_REF_PY

if [ "${KOOSIGN_BUILD_CLI:-1}" != 0 ]; then
  step "koosign CLI (test/marketplace.test.mjs runs koosign marketplace)"
  cargo build --release --quiet -p koosign-cli --bin koosign
  export KOOSIGN_BIN="$PWD/target/release/koosign"
fi

step "node --test"
status=0
(cd bindings-wasm && node --test test/*.test.mjs test/*.test.cjs) || status=$?

step "conformance (node bindings-wasm/conformance.mjs)"
VECTORS="${KOOSIGN_VECTORS:-vectors}"
node bindings-wasm/conformance.mjs "$VECTORS/notifications.jsonl" "$VECTORS/apig.jsonl"

step "benchmark (quick; the full run writes bindings-wasm/BENCH.md)"
node bindings-wasm/bench.mjs --quick

step ".wasm size"
WASM=bindings-wasm/pkg/wasm/koosign_wasm_bg.wasm
SIZE=$(stat -c %s "$WASM")
# Issue 14: "keep it under 150 KB", read as 150,000 bytes (the module is
# 146,888 bytes since the allocator became lol_alloc's free list).
LIMIT=150000
echo "$WASM: $SIZE bytes ($((SIZE / 1024)) KiB; limit $LIMIT bytes)"
if [ "$SIZE" -ge "$LIMIT" ]; then
  echo "the .wasm is over its size budget" >&2
  exit 1
fi

if [ "${KOOSIGN_BUILD_CLI:-1}" != 0 ]; then
  step "koosign simulate --audit --strict against the Express and node:http examples (scripts/audit-examples.sh)"
  cargo build --release --quiet -p koosign-cli --bin koosign
  KOOSIGN_BIN="$PWD/target/release/koosign" scripts/audit-examples.sh node || status=1
fi
exit "$status"
