#!/usr/bin/env bash
# Builds the npm package `koosign` (WebAssembly) into bindings-wasm/pkg/.
#
# Toolchain (no rustup target download): Debian's
# rustc-web / cargo-web / rust-web-src (std sources for -Zbuild-std) and
# lld-22 (wasm-ld-22), installed with apt-get when missing; wasm-bindgen-cli
# at the exact version of bindings-wasm/Cargo.lock, installed with cargo into
# ~/.cache/koosign-tools (KOOSIGN_TOOLS_DIR). Idempotent: when everything is there, it only rebuilds what
# changed (seconds).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"

log() { printf '[build-wasm] %s\n' "$*" >&2; }

. scripts/lib.sh

# --- 1. Debian packages (apt-get update only when something is missing) ----
ensure_apt rustc-web cargo-web rust-web-src lld-22
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 || ensure_apt nodejs npm

export PATH="/usr/bin:$PATH"
export RUSTC=/usr/bin/rustc
export RUSTC_BOOTSTRAP=1
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER=wasm-ld-22
# SHA-256 through sha2's wasm32 simd128 backend (Node ≥ 16.4 has SIMD);
# panics abort at once, without formatting machinery (std is rebuilt with
# it by -Zbuild-std), which saves ~15 KB. AES (field encryption, not a hot
# path) uses the aes crate's compact fixsliced backend (still constant-time):
# -2 KB.
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-C target-feature=+simd128 -Zunstable-options -Cpanic=immediate-abort --cfg aes_backend_soft=\"compact\""
CARGO=/usr/bin/cargo

# --- 2. wasm-bindgen-cli at the Cargo.lock version --------------------------
WB_VERSION="$(awk '$0 == "name = \"wasm-bindgen\"" { getline; gsub(/version = |"/, ""); print; exit }' bindings-wasm/Cargo.lock)"
[ -n "$WB_VERSION" ] || { log "no wasm-bindgen in bindings-wasm/Cargo.lock"; exit 1; }
# A per-machine tool cache (like ~/.cargo/bin for cargo-fuzz and cbindgen):
# a fresh clone on a machine that has it skips the install.
TOOLS="${KOOSIGN_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/koosign-tools}"
WASM_BINDGEN="$TOOLS/bin/wasm-bindgen"
# On a fresh machine this is the slow part: it runs in the background while
# the wasm module builds (step 3), and is waited for in step 4.
WB_PID=""
if [ ! -x "$WASM_BINDGEN" ] || [ "$("$WASM_BINDGEN" --version 2>/dev/null)" != "wasm-bindgen $WB_VERSION" ]; then
  log "cargo install wasm-bindgen-cli $WB_VERSION (once; a few minutes)"
  # Its own target dir, so that it does not fight the other builds. The
  # tool runs once per build on a ~150 KB module: optimising it hard is not
  # worth the compile time (opt-level 1, no LTO).
  CARGO_TARGET_DIR="$ROOT/target/tools-build" "$CARGO" install wasm-bindgen-cli --version "=$WB_VERSION" \
    --root "$TOOLS" --force \
    --config 'profile.release.opt-level=1' --config 'profile.release.lto=false' \
    --config 'profile.release.codegen-units=16' --config 'profile.release.debug=0' \
    --config 'profile.release.strip=true' &
  WB_PID=$!
fi

# --- 2b. wasm-opt: binaryen from npm, pinned ---------------------------------
BINARYEN_VERSION=132.0.0
BINARYEN_DIR="$TOOLS/binaryen"
WASM_OPT="$BINARYEN_DIR/node_modules/.bin/wasm-opt"
BN_PID=""
if [ ! -x "$WASM_OPT" ] || [ "$(cat "$BINARYEN_DIR/.version" 2>/dev/null)" != "$BINARYEN_VERSION" ]; then
  log "npm install binaryen@$BINARYEN_VERSION (wasm-opt) into $BINARYEN_DIR"
  mkdir -p "$BINARYEN_DIR"
  (npm install --prefix "$BINARYEN_DIR" --no-save --no-audit --no-fund --loglevel=error "binaryen@$BINARYEN_VERSION" \
    && echo "$BINARYEN_VERSION" > "$BINARYEN_DIR/.version") &
  BN_PID=$!
fi

# Background installs are not left running if the build below fails.
trap 'for p in $WB_PID $BN_PID; do kill "$p" 2>/dev/null || true; done' EXIT

# --- 3. The wasm module -----------------------------------------------------
export CARGO_TARGET_DIR="$ROOT/target/wasm"
log "cargo build (wasm32-unknown-unknown, -Zbuild-std)"
# std/core/alloc with `optimize_for_size` (smaller sort, fmt and string code;
# same behaviour): -16 KB.
"$CARGO" build --release --locked --manifest-path bindings-wasm/Cargo.toml \
  -Zbuild-std=std,panic_abort -Zbuild-std-features=optimize_for_size --target wasm32-unknown-unknown
WASM="$CARGO_TARGET_DIR/wasm32-unknown-unknown/release/koosign_wasm.wasm"

# --- 4. The package ---------------------------------------------------------
if [ -n "$WB_PID" ]; then
  wait "$WB_PID" || { WB_PID=""; log "cargo install wasm-bindgen-cli failed"; exit 1; }
  WB_PID=""
fi
if [ -n "$BN_PID" ]; then
  wait "$BN_PID" || { BN_PID=""; log "npm install binaryen failed"; exit 1; }
  BN_PID=""
fi
PKG="$ROOT/bindings-wasm/pkg"
rm -rf "$PKG.tmp"
mkdir -p "$PKG.tmp/wasm"
"$WASM_BINDGEN" --target nodejs --no-typescript --remove-name-section --remove-producers-section --out-dir "$PKG.tmp/wasm" --out-name koosign_wasm "$WASM"
rm -f "$PKG.tmp/wasm/package.json" "$PKG.tmp/wasm/.gitignore"
# wasm-opt -Oz --converge: ~10% smaller than the linker's output (-O3 is
# ~2% faster but ~6% larger, and the keyed merchant context put -O3 over
# the 150 KB budget). It takes ~10 s, so its result is kept per input hash
# and reused. --low-memory-unused (the stack comes first in memory, from
# address 0 up to 1 MB) and --zero-filled-memory (Node creates the memory,
# it is not imported) save ~0.5 KB.
BG="$PKG.tmp/wasm/koosign_wasm_bg.wasm"
OPT_FLAGS=(-Oz --converge --low-memory-unused --zero-filled-memory --enable-simd --enable-bulk-memory --enable-nontrapping-float-to-int --enable-sign-ext
  --enable-mutable-globals --enable-multivalue --enable-reference-types)
CACHE="$ROOT/target/wasm-opt-cache"
KEY="$( (sha256sum < "$BG"; echo "${OPT_FLAGS[*]} $BINARYEN_VERSION") | sha256sum | cut -c1-32)"
if [ ! -f "$CACHE/$KEY.wasm" ]; then
  log "wasm-opt ${OPT_FLAGS[0]} ${OPT_FLAGS[1]}"
  rm -rf "$CACHE" && mkdir -p "$CACHE"
  "$WASM_OPT" "${OPT_FLAGS[@]}" "$BG" -o "$CACHE/$KEY.tmp" && mv "$CACHE/$KEY.tmp" "$CACHE/$KEY.wasm"
fi
cp "$CACHE/$KEY.wasm" "$BG"
cp bindings-wasm/js/* "$PKG.tmp/"
cp bindings-wasm/README.md "$PKG.tmp/README.md"
cp LICENSE "$PKG.tmp/LICENSE"
rm -rf "$PKG"
mv "$PKG.tmp" "$PKG"
log "package: bindings-wasm/pkg ($(stat -c %s "$PKG/wasm/koosign_wasm_bg.wasm") bytes of wasm)"
