#!/usr/bin/env bash
# The Python binding's test command (issue 4):
#   1. .venv at the repository root with the pinned build/test dependencies
#      (bindings-python/requirements-test.txt; pip runs only when that file changed);
#   2. the `koosign` wheel built by maturin (release, abi3 for CPython >= 3.10),
#      installed into .venv;
#   3. target/release/koosign (the CLI, for the `koosign simulate` test of the
#      examples) and target/ref-venv (Huawei's SDK signer, for fresh S6 cases),
#      both quick no-ops when up to date;
#   4. a throwaway redis-server on a free loopback port (installed with apt-get
#      when missing), stopped on exit;
#   5. pytest bindings-python/tests, the benchmark in quick mode, and the wheel
#      installed into a second, clean venv that must import it;
#   6. `koosign simulate --audit --strict` against the Flask and FastAPI
#      examples and a Django endpoint (scripts/audit-examples.sh python), run
#      even when pytest failed; either failing fails the script.
# Idempotent; about a minute when already set up.
#
# Env: PYTHON            interpreter for the venvs (default python3)
#      KOOSIGN_BUILD_CLI=0  do not build target/release/koosign (its test then skips,
#                           and the audit of step 6 is not run)
#      KOOSIGN_REF=0        do not set up target/ref-venv (its test then skips)
#      PYTEST_ARGS          extra arguments for pytest
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
REPO="$PWD"
PYTHON="${PYTHON:-python3}"
VENV="$REPO/.venv"
REQ="bindings-python/requirements-test.txt"
# maturin gets its own target dir so it does not wait on the workspace's lock.
PY_TARGET="$REPO/target/python"
WHEELS="$PY_TARGET/wheels"
log() { printf '\n== %s\n' "$*" >&2; }

. scripts/lib.sh
log "venv $VENV"
ensure_venv "$VENV" "$REQ" "$PYTHON"

log "wheel (maturin, release)"
mkdir -p "$WHEELS"
rm -f "$WHEELS"/koosign-*.whl
CARGO_TARGET_DIR="$PY_TARGET" "$VENV/bin/maturin" build --release --strip \
    -m bindings-python/Cargo.toml -i "$VENV/bin/python" --out "$WHEELS"
WHEEL="$(ls "$WHEELS"/koosign-*.whl)"
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --force-reinstall --no-deps "$WHEEL"

if [ "${KOOSIGN_BUILD_CLI:-1}" != 0 ]; then
    log "koosign CLI (for the simulate test of the examples)"
    cargo build --release --quiet -p koosign-cli --bin koosign
    export KOOSIGN_BIN="$REPO/target/release/koosign"
fi
if [ "${KOOSIGN_REF:-1}" != 0 ]; then
    log "Huawei SDK reference venv (fresh S6 cases)"
    KOOSIGN_REF_PY="$(PYTHON="$PYTHON" scripts/setup-ref-venv.sh | tail -n 1)"
    export KOOSIGN_REF_PY
fi

log "redis-server on loopback"
if ! command -v redis-server >/dev/null 2>&1; then
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server >/dev/null
fi
RUNDIR="$(mktemp -d)"
REDIS_PID=""
cleanup() {
    if [ -n "$REDIS_PID" ]; then
        kill "$REDIS_PID" 2>/dev/null || true
        wait "$REDIS_PID" 2>/dev/null || true
    fi
    rm -rf "$RUNDIR"
}
trap cleanup EXIT
REDIS_PORT="$("$VENV/bin/python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$RUNDIR" \
    >"$RUNDIR/redis.log" 2>&1 &
REDIS_PID=$!
for _ in $(seq 100); do
    if "$VENV/bin/python" -c "import socket, sys; socket.create_connection(('127.0.0.1', $REDIS_PORT), 0.2)" 2>/dev/null; then
        break
    fi
    sleep 0.1
done
export KOOSIGN_TEST_REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
echo "redis-server pid $REDIS_PID on 127.0.0.1:$REDIS_PORT" >&2

log "benchmark, quick mode (no timing asserted)"
"$VENV/bin/python" bindings-python/bench/bench.py --quick

log "the wheel in a second, clean venv"
"$PYTHON" -m venv "$RUNDIR/venv2"
"$RUNDIR/venv2/bin/python" -m pip install --quiet --disable-pip-version-check --no-index "$WHEEL"
(cd "$RUNDIR" && "$RUNDIR/venv2/bin/python" - <<'EOF'
import koosign
body = b'{"resultCode":"000000","resultMsg":"success."}'
assert koosign.body_sign(body, "testAccessKey123").endswith('signature="CPIAbI6A1/GrF70YmPEaCgm5WaxUkts5hjQRqqpZv3s="')
assert koosign.__file__.startswith(__import__("sys").prefix), koosign.__file__
print(f"second venv: koosign {koosign.__version__} imports from {koosign.__file__}")
EOF
)

log "pytest bindings-python/tests"
status=0
# shellcheck disable=SC2086
"$VENV/bin/python" -m pytest -p no:cacheprovider bindings-python/tests ${PYTEST_ARGS:-} || status=$?

if [ "${KOOSIGN_BUILD_CLI:-1}" != 0 ]; then
    log "koosign simulate --audit --strict against the Flask, FastAPI and Django endpoints (scripts/audit-examples.sh)"
    PYTHON_BIN="$VENV/bin/python" scripts/audit-examples.sh python || status=1
fi
exit "$status"
