#!/usr/bin/env bash
# Fault tests of `koosign serve` (issue 15; cli/tests/faults.rs): real
# processes, loopback only, each stopping by itself (about 20 s in all):
#   SIGKILL under newInstance load then restart; a full disk (a 4 MiB tmpfs
#   mounted by the test: needs root, skipped with a message otherwise);
#   Redis killed and restarted under load; another process holding the
#   SQLite write lock; slow and many connections; two serve processes on
#   one Redis and on one SQLite database; a Redis password (right and wrong).
# Installs Debian's redis-server when missing (the tests start their own on
# free loopback ports; no service is started).
# Usage: scripts/test-faults.sh   (from anywhere; it changes to the repo root)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
. scripts/lib.sh

command -v redis-server >/dev/null || ensure_apt redis-server
# A Debian install may start a redis-server service: the tests do not use it.

echo "== cargo test -p koosign-cli --release --test faults -- --ignored"
cargo test -p koosign-cli --release --test faults -- --ignored --test-threads=1
