#!/usr/bin/env bash
# Creates (idempotently) the Python venv that runs reference/python/apig_ref.py:
# $REPO/target/ref-venv with Huawei's SDK core (the S6 reference signer) pinned.
# Does nothing when the venv already has exactly that version.
# The last line printed is the venv's python, so callers can do:
#   PY="$(scripts/setup-ref-venv.sh | tail -n 1)"
#   "$PY" reference/python/apig_ref.py gen 1 2000
# Env: PYTHON = interpreter to build the venv with (default: python3).
set -euo pipefail

# The version on PyPI when the reference vectors were last regenerated.
# Bump deliberately, then run scripts/gen-vectors.sh --check (vectors/apig.jsonl
# must come out byte for byte the same; if not, regenerate and say why in the commit).
HUAWEICLOUDSDKCORE_VERSION="3.1.219"

REPO="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$REPO/target/ref-venv"
PY="$VENV/bin/python"

installed_version() {
    "$PY" -c 'import importlib.metadata as m; print(m.version("huaweicloudsdkcore"))' 2>/dev/null || true
}

if [ -x "$PY" ] && [ "$(installed_version)" = "$HUAWEICLOUDSDKCORE_VERSION" ] \
    && "$PY" -c 'import huaweicloudsdkcore.signer.signer' 2>/dev/null; then
    echo "ref-venv: huaweicloudsdkcore $HUAWEICLOUDSDKCORE_VERSION already installed" >&2
    echo "$PY"
    exit 0
fi

BASE_PYTHON="${PYTHON:-python3}"
if [ ! -x "$PY" ]; then
    echo "ref-venv: creating $VENV with $BASE_PYTHON" >&2
    rm -rf "$VENV"
    mkdir -p "$REPO/target"
    "$BASE_PYTHON" -m venv "$VENV" >&2
fi
echo "ref-venv: installing huaweicloudsdkcore==$HUAWEICLOUDSDKCORE_VERSION" >&2
"$PY" -m pip install --quiet --disable-pip-version-check \
    "huaweicloudsdkcore==$HUAWEICLOUDSDKCORE_VERSION" >&2

got="$(installed_version)"
if [ "$got" != "$HUAWEICLOUDSDKCORE_VERSION" ]; then
    echo "ref-venv: expected huaweicloudsdkcore $HUAWEICLOUDSDKCORE_VERSION, found '${got}'" >&2
    exit 1
fi
echo "$PY"
