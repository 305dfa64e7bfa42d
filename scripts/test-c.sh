#!/usr/bin/env bash
# Builds and tests the C binding (bindings-c/) and the PHP FFI example
# (examples/php/). Idempotent; installs what it needs with apt-get (and
# cbindgen with cargo) only when missing.
#
#   scripts/test-c.sh
#
# Steps: release build of libkoosign; cargo tests of the binding; header
# regenerated with the pinned cbindgen and diffed against the checked-in one;
# the C programs compiled with gcc -std=c11 -Wall -Wextra -Werror (plus a
# C++ translation unit with g++); the C tests run plain, under valgrind
# (errors and leaks fail) and built with -fsanitize=address,undefined;
# bindings-c/build/koosign-conformance on the repository's vectors, the
# conformance files and vectors/stages.jsonl, invalid.jsonl, published.jsonl,
# answers.jsonl (whole requests through koosign_merchant_verify)
# ($KOOSIGN_VECTORS overrides the folder; a missing file fails) (plain,
# valgrind, sanitizers); a Redis replay store (hiredis, redis-server on
# loopback) shared by two processes; the PHP checks through FFI; `make install` into a
# temporary prefix and a program built from it through pkg-config.
#
# Each step prints one line; a failing step prints its log. The last line is
# `N passed, M failed`, the sum of the checks reported by every program
# (a step that reports no count counts as one check). Exit status 1 if
# anything failed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$PWD"

CBINDGEN_VERSION="0.29.4"
# The repository's vectors (KOOSIGN_VECTORS points elsewhere); missing files fail.
VECTORS="${KOOSIGN_VECTORS:-$ROOT/vectors}"
LOGDIR="$ROOT/bindings-c/build/logs"
BUILD="$ROOT/bindings-c/build"

# ---- prerequisites --------------------------------------------------------------

need_apt=()
for pkg in gcc g++ make pkg-config valgrind libcjson-dev php-cli libhiredis-dev redis-server; do
    if [ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)" != "install ok installed" ]; then
        need_apt+=("$pkg")
    fi
done
if [ "${#need_apt[@]}" -gt 0 ]; then
    echo "installing with apt-get: ${need_apt[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi
# (no `grep -q` after a pipe: with pipefail, php's SIGPIPE would fail the test)
if ! php -d ffi.enable=1 -m 2>/dev/null | grep -i '^ffi$' >/dev/null; then
    echo "PHP has no FFI extension (Debian ships it in php-common)" >&2
    exit 1
fi
if [ "$(cbindgen --version 2>/dev/null || true)" != "cbindgen $CBINDGEN_VERSION" ]; then
    echo "installing cbindgen $CBINDGEN_VERSION with cargo"
    cargo install cbindgen --version "$CBINDGEN_VERSION" --locked --quiet
fi
for f in notifications.jsonl apig.jsonl; do
    if [ ! -f "$VECTORS/$f" ]; then
        echo "conformance vectors missing: $VECTORS/$f" >&2
        exit 1
    fi
done
VECTORS="$(cd "$VECTORS" && pwd)"
VECTOR_FILES=("$VECTORS/notifications.jsonl" "$VECTORS/apig.jsonl" "$ROOT/bindings-c/tests/vectors/spec.jsonl")

# The repository's vectors of the new kinds: per-stage goldens, invalid cases
# with their expected status, vectors written by others.
REPO_VECTORS="${KOOSIGN_VECTORS:-$ROOT/vectors}"
NEW_VECTOR_FILES=("$REPO_VECTORS/stages.jsonl" "$REPO_VECTORS/invalid.jsonl" "$REPO_VECTORS/published.jsonl")
# Whole requests and their answers, through koosign_merchant_verify.
ANSWER_FILES=("$REPO_VECTORS/answers.jsonl")
for f in "${NEW_VECTOR_FILES[@]}" "${ANSWER_FILES[@]}"; do
    if [ ! -f "$f" ]; then
        echo "vectors file not found: $f (set KOOSIGN_VECTORS)" >&2
        exit 1
    fi
done

# ---- bookkeeping ------------------------------------------------------------------

mkdir -p "$LOGDIR"
PASSED=0
FAILED=0

# count LOG: the last `N passed, M failed` of LOG as "N M", or nothing.
count() {
    grep -aoE '[0-9]+ passed, [0-9]+ failed' "$1" | tail -n 1 | sed -E 's/([0-9]+) passed, ([0-9]+) failed/\1 \2/' || true
}

# step NAME EXPECTED_STATUS CMD...: runs CMD, logs it, adds its counts.
step() {
    local name="$1" want="$2"
    shift 2
    local log="$LOGDIR/$(echo "$name" | tr -c 'A-Za-z0-9_.-' '_').log"
    local rc=0 t0=$SECONDS
    "$@" >"$log" 2>&1 || rc=$?
    local secs=$((SECONDS - t0))
    local counts p=0 f=0
    counts="$(count "$log")"
    if [ -n "$counts" ]; then
        read -r p f <<<"$counts"
    fi
    local ok=1
    if [ "$rc" != "$want" ]; then
        ok=0
    fi
    if [ "$want" = 0 ]; then
        if [ -z "$counts" ]; then
            # no count reported: the step is one check
            if [ "$ok" = 1 ]; then p=1; else f=1; fi
        elif [ "$ok" = 0 ] && [ "$f" = 0 ]; then
            f=1
        fi
    else
        # a step expected to fail (exit status $want) is one check
        if [ "$ok" = 1 ]; then p=1; f=0; else p=0; f=1; fi
    fi
    PASSED=$((PASSED + p))
    FAILED=$((FAILED + f))
    if [ "$ok" = 1 ] && [ "$f" = 0 ]; then
        printf '%-44s ok     (%s passed, %s s)\n' "$name" "$p" "$secs"
    else
        printf '%-44s FAILED (exit %s, wanted %s; %s passed, %s failed, %s s)\n' "$name" "$rc" "$want" "$p" "$f" "$secs"
        sed 's/^/    | /' "$log" | tail -n 60
    fi
}

# cargo test prints one `test result:` line per target; sum them.
cargo_tests() {
    local log rc=0
    log="$(mktemp)"
    # --release: reuses the dependencies of the release build above.
    cargo test --release --quiet -p koosign-c --lib >"$log" 2>&1 || rc=$?
    cat "$log"
    local p f
    p="$(grep -oE 'test result: [a-zA-Z]+\. [0-9]+ passed' "$log" | grep -oE '[0-9]+ passed' | awk '{s+=$1} END {print s+0}')"
    f="$(grep -oE '; [0-9]+ failed' "$log" | grep -oE '[0-9]+' | awk '{s+=$1} END {print s+0}')"
    rm -f "$log"
    echo "$p passed, $f failed"
    return "$rc"
}

VALGRIND=(valgrind --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect,possible
          --errors-for-leak-kinds=definite,indirect,possible --track-fds=no -q)
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:halt_on_error=1"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"

# ---- build ------------------------------------------------------------------------

echo "== build (release) =="
make -C bindings-c --no-print-directory lib >"$LOGDIR/build.log" 2>&1 || { cat "$LOGDIR/build.log"; exit 1; }
echo "libkoosign $(sed -n '/^\[workspace.package\]/,/^\[/s/^version *= *"\(.*\)"/\1/p' Cargo.toml) built"

echo "== tests =="
step "cargo test (koosign-c)" 0 cargo_tests
step "header matches cbindgen $CBINDGEN_VERSION" 0 make -C bindings-c --no-print-directory check-header
step "header alone, gcc -std=c99 -pedantic" 0 \
    gcc -std=c99 -pedantic -Wall -Wextra -Werror -fsyntax-only -x c bindings-c/include/koosign.h
step "header alone, gcc -std=c17 -Wundef" 0 \
    gcc -std=c17 -Wall -Wextra -Werror -Wundef -fsyntax-only -x c bindings-c/include/koosign.h
step "compile C tests, conformance, C++ TU" 0 \
    make -C bindings-c --no-print-directory conformance tests

step "C tests" 0 "$BUILD/test_koosign"
step "C tests, asan+ubsan" 0 "$BUILD/test_koosign_asan"
step "C tests, valgrind" 0 "${VALGRIND[@]}" "$BUILD/test_koosign"
step "C++ translation unit" 0 "$BUILD/test_cpp"

step "conformance, vectors/" 0 "$BUILD/koosign-conformance" "${VECTOR_FILES[@]}"
step "conformance, valgrind" 0 "${VALGRIND[@]}" "$BUILD/koosign-conformance" "${VECTOR_FILES[@]}"
step "conformance, asan+ubsan" 0 "$BUILD/koosign-conformance-asan" "${VECTOR_FILES[@]}"
step "conformance, vectors/ stages+invalid+published" 0 "$BUILD/koosign-conformance" "${NEW_VECTOR_FILES[@]}"
step "conformance, vectors/, valgrind" 0 "${VALGRIND[@]}" "$BUILD/koosign-conformance" "${NEW_VECTOR_FILES[@]}"
step "conformance, vectors/, asan+ubsan" 0 "$BUILD/koosign-conformance-asan" "${NEW_VECTOR_FILES[@]}"
# S6 whole URLs signed by Huawei's SDK (reference/python/apig_ref.py urls,
# fresh with a new seed each run): koosign_sign_apig_url must agree.
REF_PY="$(scripts/setup-ref-venv.sh 2>/dev/null | tail -n 1)"
URL_SEED="${KOOSIGN_REF_SEED:-$$}"
"$REF_PY" reference/python/apig_ref.py urls "$URL_SEED" 400 > "$BUILD/apig_url.jsonl"
step "conformance, SDK-signed URLs (seed $URL_SEED)" 0 "$BUILD/koosign-conformance" "$BUILD/apig_url.jsonl"
step "conformance, SDK-signed URLs, asan+ubsan" 0 "$BUILD/koosign-conformance-asan" "$BUILD/apig_url.jsonl"
step "answers.jsonl through koosign_merchant_verify" 0 "$BUILD/koosign-conformance" "${ANSWER_FILES[@]}"
step "answers.jsonl, valgrind" 0 "${VALGRIND[@]}" "$BUILD/koosign-conformance" "${ANSWER_FILES[@]}"
step "answers.jsonl, asan+ubsan" 0 "$BUILD/koosign-conformance-asan" "${ANSWER_FILES[@]}"
step "conformance rejects bad cases (exit 1)" 1 \
    "$BUILD/koosign-conformance" "$ROOT/bindings-c/tests/vectors/must-fail.jsonl"

# A replay store over Redis (hiredis), the caller's koosign_nonce_store: two
# processes, and two handles on two connections, on one redis-server refuse
# each other's replays; with Redis gone, 000005 (never an unchecked accept),
# and service again when it is back.
redis_replay() {
    local port rc=0 p=0 f=0 pid out
    make -C bindings-c --no-print-directory redis >/dev/null || return 1
    for _ in 1 2 3 4 5; do
        port=$((20000 + RANDOM % 20000))
        redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --daemonize no >/dev/null 2>&1 &
        pid=$!
        for _ in $(seq 50); do
            redis-cli -p "$port" ping 2>/dev/null | grep -q PONG && break
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -0 "$pid" 2>/dev/null && break
    done
    for mode in first again pair; do
        out="$("$BUILD/redis_replay" "$port" "$mode" 2>&1)" || rc=1
        echo "$mode: $out"
    done
    kill "$pid"
    wait "$pid" 2>/dev/null || true
    out="$("$BUILD/redis_replay" "$port" down 2>&1)" || rc=1
    echo "down: $out"
    # Redis stopped and started again under the same process: 000005 while
    # it is gone, then the same store reconnects.
    out="$("$BUILD/redis_replay" "$port" recover 2>&1)" || rc=1
    echo "recover: $out"
    return "$rc"
}
redis_count() {
    local log rc=0
    log="$(redis_replay)" || rc=$?
    echo "$log"
    echo "$log" | grep -oE '[0-9]+ passed, [0-9]+ failed' |
        awk '{p+=$1; f+=$3} END {printf "%d passed, %d failed\n", p, f}'
    return "$rc"
}
step "Redis replay store (hiredis callback)" 0 redis_count

PHP=(php -d ffi.enable=1)
step "PHP FFI, vectors/" 0 "${PHP[@]}" examples/php/check_vectors.php "${VECTOR_FILES[@]}"
step "PHP FFI, no FILE: vectors/ by default" 0 "${PHP[@]}" examples/php/check_vectors.php
step "PHP FFI, notification demo" 0 "${PHP[@]}" examples/php/notification_demo.php
step "PHP FFI rejects bad cases (exit 1)" 1 \
    "${PHP[@]}" examples/php/check_vectors.php "$ROOT/bindings-c/tests/vectors/must-fail.jsonl"

# make install into a temporary prefix; a program built from it with pkg-config.
PREFIX="$(mktemp -d)"
trap 'rm -rf "$PREFIX"' EXIT
install_smoke() {
    local lib="$PREFIX/lib" p=0 f=0
    chk() { # chk DESCRIPTION CMD...
        local what="$1"
        shift
        if "$@"; then p=$((p + 1)); else f=$((f + 1)); echo "FAIL: $what" >&2; fi
    }
    chk "make install" make -C bindings-c --no-print-directory install PREFIX="$PREFIX"
    chk "header installed" test -f "$PREFIX/include/koosign.h"
    chk "static library installed" test -f "$lib/libkoosign.a"
    chk "libkoosign.so -> SONAME" test "$(readlink "$lib/libkoosign.so")" = \
        "$(readelf -d "$lib/libkoosign.so" | sed -n 's/.*SONAME.*\[\(.*\)\]/\1/p')"
    chk "pkg-config finds koosign" env PKG_CONFIG_PATH="$lib/pkgconfig" pkg-config --exists koosign
    local cflags libs static_libs
    cflags="$(PKG_CONFIG_PATH="$lib/pkgconfig" pkg-config --cflags koosign)"
    libs="$(PKG_CONFIG_PATH="$lib/pkgconfig" pkg-config --libs koosign)"
    static_libs="$(PKG_CONFIG_PATH="$lib/pkgconfig" pkg-config --static --libs-only-l koosign | sed 's/-lkoosign//')"
    # shellcheck disable=SC2086
    chk "build with pkg-config (shared)" gcc -std=c11 -Wall -Wextra -Werror bindings-c/tests/install_smoke.c \
        -o "$PREFIX/smoke" $cflags $libs
    chk "run (shared)" env LD_LIBRARY_PATH="$lib" "$PREFIX/smoke"
    # shellcheck disable=SC2086
    chk "build with pkg-config --static" gcc -std=c11 -Wall -Wextra -Werror bindings-c/tests/install_smoke.c \
        -o "$PREFIX/smoke-static" $cflags "$lib/libkoosign.a" $static_libs
    chk "static build does not need libkoosign.so" bash -c "! ldd '$PREFIX/smoke-static' | grep -q libkoosign"
    chk "run (static)" "$PREFIX/smoke-static"
    chk "make uninstall" make -C bindings-c --no-print-directory uninstall PREFIX="$PREFIX"
    chk "uninstalled" test ! -e "$lib/libkoosign.a" -a ! -e "$PREFIX/include/koosign.h" -a ! -e "$lib/libkoosign.so"
    echo "$p passed, $f failed"
    [ "$f" = 0 ]
}
step "make install + pkg-config (shared, static)" 0 install_smoke

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
