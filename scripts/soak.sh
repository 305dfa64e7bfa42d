#!/usr/bin/env bash
# A bounded soak of `koosign serve` (cli/tests/soak.rs): a sustained rate of
# freshly signed requests with unique nonces for at most 60 s, over loopback;
# prints requests/s, p50/p99/p99.9 latency, errors and the server's memory
# at the start and the end (figures for BENCHMARKS.md). Not part of
# scripts/test.sh (it is a measurement, and the machine may be shared).
# Usage: scripts/soak.sh [SECS [RATE [STORE]]]   defaults: 30 200 sqlite
#   STORE: sqlite | memory | redis (a redis-server started for the run) |
#          redis://HOST:PORT/DB (a running Redis)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export KOOSIGN_SOAK_SECS="${1:-30}" KOOSIGN_SOAK_RATE="${2:-200}" KOOSIGN_SOAK_STORE="${3:-sqlite}"
cargo test -p koosign-cli --release --test soak -- --ignored --nocapture --test-threads=1 2>&1 | grep -E 'soak:|test result|panicked'
