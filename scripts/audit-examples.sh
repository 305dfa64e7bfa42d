#!/usr/bin/env bash
# `koosign simulate --audit --strict` against the project's example
# endpoints, each started on a free loopback port as its tests start it,
# then stopped (issue 17):
#
#   scripts/audit-examples.sh python   # Flask, FastAPI (examples/python/), Django (examples/python/merchant_django.py): --protocol v2
#   scripts/audit-examples.sh node     # Express, node:http (examples/node/): --protocol all
#
# Called by scripts/test-python.sh and scripts/test-wasm.sh, which set up
# what it needs: the koosign CLI ($KOOSIGN_BIN, default target/release/koosign),
# for python the interpreter with the koosign wheel and the frameworks
# ($PYTHON_BIN, default .venv/bin/python), for node examples/node/node_modules.
# Every example is audited; each report is printed; exit 1 when any audit
# failed (a warning fails too: --strict), 0 when all passed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
REPO="$PWD"
WHICH="${1:?usage: scripts/audit-examples.sh python|node}"
KOOSIGN="${KOOSIGN_BIN:-$REPO/target/release/koosign}"
PYTHON_BIN="${PYTHON_BIN:-$REPO/.venv/bin/python}"
KEY="koosign-audit-example-key-5Tq"

if ! "$KOOSIGN" simulate --help 2>/dev/null | grep -q -- '--audit'; then
    echo "audit-examples: $KOOSIGN has no \`simulate --audit\` (cargo build --release -p koosign-cli --bin koosign)" >&2
    exit 1
fi

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

LOGDIR="$(mktemp -d)"
PID=""
cleanup() {
    if [ -n "$PID" ]; then
        kill "$PID" 2>/dev/null || true
        wait "$PID" 2>/dev/null || true
    fi
    rm -rf "$LOGDIR"
}
trap cleanup EXIT
RESULTS=()
FAILED=0

# audit NAME PROTOCOL PORT DIR COMMAND...: starts COMMAND in DIR (with the
# access key in KOOSIGN_ACCESS_KEY), waits for PORT, audits
# http://127.0.0.1:PORT/produce, stops COMMAND.
audit() {
    local name="$1" protocol="$2" port="$3" dir="$4"
    shift 4
    local log="$LOGDIR/$name.log"
    printf '\n== koosign simulate --audit --strict --protocol %s: %s\n' "$protocol" "$name"
    (cd "$dir" && KOOSIGN_ACCESS_KEY="$KEY" PYTHONUNBUFFERED=1 exec "$@") >"$log" 2>&1 &
    PID=$!
    local up=0
    for _ in $(seq 200); do
        if python3 -c "import socket; socket.create_connection(('127.0.0.1', $port), 0.2)" 2>/dev/null; then
            up=1
            break
        fi
        kill -0 "$PID" 2>/dev/null || break
        sleep 0.1
    done
    local rc=0
    if [ "$up" = 1 ]; then
        KOOSIGN_ACCESS_KEY="$KEY" "$KOOSIGN" simulate --audit --strict --protocol "$protocol" \
            --url "http://127.0.0.1:$port/produce" || rc=$?
    else
        echo "$name did not start listening on $port:" >&2
        cat "$log" >&2
        rc=1
    fi
    kill "$PID" 2>/dev/null || true
    wait "$PID" 2>/dev/null || true
    PID=""
    if [ "$rc" = 0 ]; then
        RESULTS+=("$name: audit passed")
    else
        RESULTS+=("$name: audit FAILED (exit $rc)")
        FAILED=1
    fi
}

case "$WHICH" in
python)
    p="$(free_port)"; audit flask v2 "$p" examples/python "$PYTHON_BIN" merchant_flask.py "$p"
    p="$(free_port)"; audit fastapi v2 "$p" examples/python "$PYTHON_BIN" merchant_fastapi.py "$p"
    p="$(free_port)"; audit django v2 "$p" "$REPO" "$PYTHON_BIN" examples/python/merchant_django.py "$p"
    ;;
node)
    p="$(free_port)"; audit express all "$p" examples/node node express-merchant.js --port "$p"
    p="$(free_port)"; audit node-http all "$p" examples/node node http-merchant.js --port "$p"
    ;;
*)
    echo "usage: scripts/audit-examples.sh python|node" >&2
    exit 2
    ;;
esac

printf '\n== audit of the %s examples\n' "$WHICH"
printf '%s\n' "${RESULTS[@]}"
exit "$FAILED"
