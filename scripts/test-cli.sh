#!/usr/bin/env bash
# Tests the `koosign` command-line tool (cli/) (needs curl and python3): its response parser
# (cli/wire, crate koosign-wire), its end-to-end test suite over real
# loopback HTTP, then the README's first command, `koosign demo`,
# which must print an all-pass report and exit 0.
#
# Both steps use the release profile so that the dependencies are built once.
# Usage: scripts/test-cli.sh   (from anywhere; it changes to the repo root)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

# Huawei's SDK (target/ref-venv) for cli/tests/apig_url.rs: `apig sign` must
# agree with it on random URLs.
echo "== Huawei SDK reference venv"
KOOSIGN_REF_PY="$(scripts/setup-ref-venv.sh | tail -n 1)"
export KOOSIGN_REF_PY

echo "== cargo test -p koosign-wire -p koosign-cli --release"
cargo test -p koosign-wire -p koosign-cli --release

echo "== cargo run --release --bin koosign -- demo"
status=0
cargo run --release --bin koosign -- demo > target/koosign-demo-report.txt || status=$?
tail -n 3 target/koosign-demo-report.txt
if [ "$status" -ne 0 ]; then
    echo "koosign demo failed (exit $status); report: target/koosign-demo-report.txt" >&2
    cat target/koosign-demo-report.txt >&2
    exit 1
fi
if ! tail -n 1 target/koosign-demo-report.txt | grep -Eq '^simulate: [0-9]+ passed, 0 failed$'; then
    echo "koosign demo: the report does not end with an all-pass summary" >&2
    exit 1
fi
echo "koosign demo: all checks passed"
