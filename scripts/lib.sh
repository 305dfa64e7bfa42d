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
