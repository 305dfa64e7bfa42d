# shellcheck shell=bash
# Shared helpers for the scripts in this folder. Source it: `. scripts/lib.sh`.
# ensure_apt PKG...: installs the Debian packages that are missing (one
# `apt-get update` per run at most).
ensure_apt() {
    local missing=()
    for p in "$@"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "apt: installing ${missing[*]}" >&2
    if [ -z "${KOOSIGN_APT_UPDATED:-}" ]; then
        apt-get update -qq >&2
        export KOOSIGN_APT_UPDATED=1
    fi
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
}

# ensure_venv VENV REQUIREMENTS [PYTHON]: a venv at VENV with the pinned
# packages of REQUIREMENTS; pip runs only when that file changed since the
# last install (its sha256 is kept in VENV/.koosign-requirements.sha256).
ensure_venv() {
    local venv="$1" req="$2" python="${3:-${PYTHON:-python3}}"
    if [ ! -x "$venv/bin/python" ]; then
        "$python" -m venv "$venv"
    fi
    local stamp="$venv/.koosign-requirements.sha256" want
    want="$(sha256sum "$req" | cut -d' ' -f1)"
    if [ "$(cat "$stamp" 2>/dev/null || true)" != "$want" ]; then
        "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$req"
        echo "$want" >"$stamp"
    else
        echo "$req unchanged: pip skipped" >&2
    fi
}
