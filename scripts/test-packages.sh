#!/usr/bin/env bash
# Packages that install (issue 12): each package is built as it would be
# published and installed into a fresh environment (a new temporary folder,
# venv or npm project), then used there. Part `packages` of scripts/test.sh.
#
#   bash scripts/test-packages.sh [rust] [python] [node] [c]     (default: all four)
#
# rust    cargo package -p koosign (its file list checked; cargo builds the
#         crate from the package); cargo doc -p koosign --no-deps with
#         RUSTDOCFLAGS="-D warnings" (default and all features); the MSRV:
#         the packaged crate's dependencies resolved by cargo's MSRV-aware
#         resolver each declare a rust-version <= the crate's, clippy's
#         incompatible_msrv finds no newer std API in the crate, and Debian's
#         rustc (rustc-web) builds that resolution; the README's Rust block
#         (a fresh cargo project with a path dependency on core/).
# python  maturin sdist (its file list checked) installed with pip into a
#         fresh venv; the README's Python block (`pip install
#         ./bindings-python` into a fresh venv); a wheel with a manylinux tag
#         checked by maturin's auditwheel step (`--auditwheel check`);
#         twine check --strict on wheel and sdist; the wheel installed with
#         --no-index into a fresh venv. In every venv, scripts/packages/use.py.
# node    scripts/build-wasm.sh (quick when built); npm pack, its file list
#         asserted to be exactly what runs; the README's Node block (the
#         tarball in a fresh npm project, used through `import`); there
#         scripts/packages/use.cjs (require), use.mjs (import), and
#         `tsc --strict` on use.ts; npm publish --dry-run clean.
# c       the README's C block: make install PREFIX=<fresh>, a consumer
#         outside the repository built with `pkg-config --cflags --libs
#         koosign` and run; bindings-c/tests/install_smoke.c copied out and
#         built the same way, shared and static.
#
# Build caches are shared with the other scripts (target/python for maturin,
# target/release for libkoosign, target/packages for the README's Rust
# project, target/msrv for Debian's rustc), so when scripts/test-python.sh,
# test-wasm.sh and test-c.sh have run this takes a few minutes; every
# install goes into a fresh environment all the same. Tools: a venv with
# the pinned maturin and twine (scripts/requirements-packages.txt) in
# target/packages-venv; typescript and @types/node from npm into the fresh
# project, at the versions of bindings-wasm/package.json.
#
# Each step prints one line (its log on failure); the last line is
# `N passed, M failed`; exit status 1 if a step failed. KOOSIGN_KEEP=1 keeps
# the temporary folder and the steps' logs.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$PWD"
. scripts/lib.sh

PYTHON="${PYTHON:-python3}"
parts=(rust python node c)
if [ $# -gt 0 ]; then parts=("$@"); fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/koosign-packages.XXXXXX")"
if [ "${KOOSIGN_KEEP:-0}" = 1 ]; then
    echo "work folder (kept, with every step's log in logs/): $WORK"
else
    trap 'rm -rf "$WORK"' EXIT
fi
LOGS="$WORK/logs"
mkdir -p "$LOGS"
PASSED=0
FAILED=0

# step NAME FUNCTION...: runs it with its output in a log; one line per step.
step() {
    local name="$1"
    shift
    local log t0 rc=0
    log="$LOGS/$(echo "$name" | tr -c 'A-Za-z0-9_.-' '_').log"
    t0=$(date +%s)
    # In the background, so that `set -e` holds inside (it is off in a `||` list).
    ("$@") >"$log" 2>&1 &
    wait $! || rc=$?
    if [ "$rc" = 0 ]; then
        PASSED=$((PASSED + 1))
        printf '%-58s ok     (%s s)\n' "$name" "$(($(date +%s) - t0))"
    else
        FAILED=$((FAILED + 1))
        printf '%-58s FAILED (exit %s, %s s)\n' "$name" "$rc" "$(($(date +%s) - t0))"
        tail -n 80 "$log" | sed 's/^/    | /'
    fi
}

# readme_block NAME: the README's block for NAME, with /tmp/koosign-* in $WORK.
readme_block() {
    "$PYTHON" scripts/readme-block.py README.md "$1" | sed "s#/tmp/koosign-#$WORK/koosign-#g"
}

# expect FILE TEXT...: FILE contains every TEXT (fixed strings).
expect() {
    local file="$1"
    shift
    for t in "$@"; do
        grep -qF -- "$t" "$file" || { echo "missing from the output: $t"; cat "$file"; return 1; }
    done
}

SIGNED='Body-Sign: sign_type="HMAC-SHA256", signature="CPIAbI6A1/GrF70YmPEaCgm5WaxUkts5hjQRqqpZv3s="'
VERSION="$(sed -n '/^\[workspace.package\]/,/^\[/s/^version *= *"\(.*\)"/\1/p' Cargo.toml)"

# ---- Rust ---------------------------------------------------------------------------

CRATE="$ROOT/target/package/koosign-$VERSION.crate"

rust_package() {
    # --allow-dirty: the package is checked, not published (a clean clone is clean anyway).
    cargo package -p koosign --allow-dirty
    local list
    list="$(cargo package -p koosign --allow-dirty --list 2>/dev/null)"
    echo "$list"
    local bad
    bad="$(grep -vxE '\.cargo_vcs_info\.json|Cargo\.lock|Cargo\.toml|Cargo\.toml\.orig|LICENSE|README\.md|src/[a-z0-9_/]+\.rs' <<<"$list" || true)"
    [ -z "$bad" ] || { echo "unexpected files in the crate: $bad"; return 1; }
    for f in LICENSE README.md src/lib.rs; do grep -qx "$f" <<<"$list" || { echo "$f not in the crate"; return 1; }; done
    mkdir -p "$WORK/crate"
    tar -xzf "$CRATE" -C "$WORK/crate"
    cmp "$WORK/crate/koosign-$VERSION/LICENSE" LICENSE   # the text, not a symlink
}

rust_doc() {
    RUSTDOCFLAGS="-D warnings" cargo doc -p koosign --no-deps
    RUSTDOCFLAGS="-D warnings" cargo doc -p koosign --no-deps --all-features
}

rust_msrv() {
    local dir="$WORK/crate/koosign-$VERSION" msrv
    [ -d "$dir" ] || tar -xzf "$CRATE" -C "$WORK/crate"
    msrv="$(cargo metadata --no-deps --format-version 1 --manifest-path "$dir/Cargo.toml" |
        "$PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["packages"][0]["rust_version"])')"
    echo "declared rust-version: $msrv"
    # The versions a user on that Rust gets: cargo's MSRV-aware resolver.
    (cd "$dir" && rm -f Cargo.lock && CARGO_RESOLVER_INCOMPATIBLE_RUST_VERSIONS=fallback cargo generate-lockfile)
    cargo metadata --locked --format-version 1 --manifest-path "$dir/Cargo.toml" \
        --filter-platform "$(rustc -vV | sed -n 's/^host: //p')" >"$WORK/msrv-metadata.json"
    "$PYTHON" - "$WORK/msrv-metadata.json" "$msrv" <<'EOF'
import json, sys
meta, msrv = json.load(open(sys.argv[1])), sys.argv[2]
ver = lambda s: tuple(int(x) for x in (s.split(".") + ["0", "0"])[:3])
pkgs = {p["id"]: p for p in meta["packages"]}
nodes = {n["id"]: n for n in meta["resolve"]["nodes"]}
root = meta["resolve"]["root"]
seen, todo = set(), [root]
while todo:  # the library's normal and build dependencies, transitively
    for d in nodes[todo.pop()]["deps"]:
        if any(k["kind"] in (None, "build") for k in d["dep_kinds"]) and d["pkg"] not in seen:
            seen.add(d["pkg"]); todo.append(d["pkg"])
too_new = [f'{pkgs[i]["name"]} {pkgs[i]["version"]} needs {pkgs[i]["rust_version"]}'
           for i in sorted(seen) if pkgs[i].get("rust_version") and ver(pkgs[i]["rust_version"]) > ver(msrv)]
for i in sorted(seen, key=lambda i: pkgs[i]["name"]):
    print(f'  {pkgs[i]["name"]} {pkgs[i]["version"]} (rust-version {pkgs[i].get("rust_version") or "-"})')
if too_new:
    sys.exit("dependencies that need a newer Rust than " + msrv + ": " + ", ".join(too_new))
print(f"{len(seen)} dependencies, none declares more than {msrv}")
EOF
    # The crate's own code: no std API stabilised after the declared MSRV.
    (cd "$dir" && CARGO_TARGET_DIR="$ROOT/target/msrv-clippy" cargo clippy --locked --lib --all-features -- \
        -A clippy::all -D clippy::incompatible_msrv)
    # Debian's rustc builds that resolution (rustc-web: the one scripts/build-wasm.sh uses).
    ensure_apt rustc-web cargo-web
    /usr/bin/rustc --version
    (cd "$dir" && RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc CARGO_TARGET_DIR="$ROOT/target/msrv" \
        /usr/bin/cargo build --locked --lib && RUSTC=/usr/bin/rustc CARGO_TARGET_DIR="$ROOT/target/msrv" \
        /usr/bin/cargo build --locked --lib --all-features)
}

rust_readme() {
    readme_block rust >"$WORK/rust.sh"
    CARGO_TARGET_DIR="$ROOT/target/packages" bash -euo pipefail "$WORK/rust.sh" >"$WORK/rust.out"
    cat "$WORK/rust.out"
    expect "$WORK/rust.out" "activity newInstance" "$SIGNED"
}

# ---- Python -------------------------------------------------------------------------

TOOLS_VENV="$ROOT/target/packages-venv"
DIST="$WORK/dist"
# maturin shares its build cache with scripts/test-python.sh.
export CARGO_TARGET_DIR_PY="$ROOT/target/python"
pip_fresh() { # pip_fresh VENV ARGS...: a new venv, then pip install ARGS into it
    local venv="$1"
    shift
    "$PYTHON" -m venv "$venv"
    CARGO_TARGET_DIR="$CARGO_TARGET_DIR_PY" "$venv/bin/python" -m pip install --no-cache-dir \
        --disable-pip-version-check --quiet "$@"
}
use_py() { # use_py VENV: scripts/packages/use.py with that venv's python, from outside the repo
    (cd "$WORK" && "$1/bin/python" "$ROOT/scripts/packages/use.py")
}

py_tools() {
    local want have
    want="$(sed -n 's/^maturin==//p' bindings-python/requirements-test.txt)"
    have="$(sed -n 's/^maturin==//p' scripts/requirements-packages.txt)"
    [ "$want" = "$have" ] || { echo "maturin $have here, $want in bindings-python/requirements-test.txt"; return 1; }
    ensure_venv "$TOOLS_VENV" scripts/requirements-packages.txt "$PYTHON"
    "$TOOLS_VENV/bin/maturin" --version
    "$TOOLS_VENV/bin/twine" --version
}

py_sdist() {
    mkdir -p "$DIST"
    "$TOOLS_VENV/bin/maturin" sdist -m bindings-python/Cargo.toml --out "$DIST"
    local sdist="$DIST/koosign-$VERSION.tar.gz" list
    list="$(tar -tzf "$sdist" | sed "s#^koosign-$VERSION/##")"
    echo "$list"
    for f in PKG-INFO pyproject.toml LICENSE README.md Cargo.toml Cargo.lock core/src/lib.rs bindings-python/src/lib.rs \
             python/koosign/__init__.py python/koosign/_koosign.pyi python/koosign/py.typed; do
        grep -qx "$f" <<<"$list" || { echo "$f not in the sdist"; return 1; }
    done
    ! grep -E '\.(so|pyd|whl|wasm)$|(^|/)target/' <<<"$list" || { echo "build output in the sdist"; return 1; }
    pip_fresh "$WORK/venv-sdist" "$sdist"
    use_py "$WORK/venv-sdist"
}

py_readme() {
    readme_block python >"$WORK/python.sh"
    CARGO_TARGET_DIR="$CARGO_TARGET_DIR_PY" bash -euo pipefail "$WORK/python.sh" >"$WORK/python.out"
    cat "$WORK/python.out"
    expect "$WORK/python.out" "activity newInstance" "$SIGNED"
    use_py "$WORK/koosign-py"
}

# manylinux_2_34: what this toolchain's glibc (Debian 12: 2.36) allows; the
# linked symbols go up to GLIBC_2.34, so _2_28 fails maturin's check.
MANYLINUX="manylinux_2_34"
py_wheel() {
    mkdir -p "$DIST"
    CARGO_TARGET_DIR="$CARGO_TARGET_DIR_PY" "$TOOLS_VENV/bin/maturin" build --release --strip \
        -m bindings-python/Cargo.toml -i "$PYTHON" --compatibility "$MANYLINUX" --auditwheel check --out "$DIST"
    local wheel
    wheel="$(ls "$DIST"/koosign-*.whl)"
    echo "wheel: $(basename "$wheel")"
    [[ "$(basename "$wheel")" == "koosign-$VERSION-cp310-abi3-${MANYLINUX}_$(uname -m).whl" ]] ||
        { echo "unexpected wheel tag"; return 1; }
    "$PYTHON" -m zipfile -l "$wheel"
    "$TOOLS_VENV/bin/twine" check --strict "$wheel" "$DIST/koosign-$VERSION.tar.gz"
    "$PYTHON" -m venv "$WORK/venv-wheel"
    "$WORK/venv-wheel/bin/python" -m pip install --quiet --disable-pip-version-check --no-index "$wheel"
    use_py "$WORK/venv-wheel"
}

# ---- Node ---------------------------------------------------------------------------

NPM_OUT="$WORK/npm"
npm_versions() { # the devDependency ranges of bindings-wasm/package.json
    node -e 'const d = require("./bindings-wasm/package.json").devDependencies; console.log(`typescript@${d.typescript} @types/node@${d["@types/node"]}`)'
}

node_build() {
    bash scripts/build-wasm.sh
}

node_pack() {
    mkdir -p "$NPM_OUT"
    (cd bindings-wasm/pkg && npm pack --json --pack-destination "$NPM_OUT") >"$NPM_OUT/pack.json"
    node - "$NPM_OUT/pack.json" <<'EOF'
const [info] = JSON.parse(require('fs').readFileSync(process.argv[2], 'utf8'));
const files = info.files.map((f) => f.path).sort();
console.log(`${info.filename}: ${files.length} files, ${info.size} bytes packed`);
for (const f of info.files) console.log(`  ${String(f.size).padStart(7)}  ${f.path}`);
const want = ['LICENSE', 'README.md', 'express.d.mts', 'express.d.ts', 'express.js', 'express.mjs', 'index.d.mts',
  'index.d.ts', 'index.js', 'index.mjs', 'marketplace.d.mts', 'marketplace.d.ts', 'marketplace.js', 'marketplace.mjs',
  'package.json', 'wasm/koosign_wasm.js', 'wasm/koosign_wasm_bg.wasm'];
if (JSON.stringify(files) !== JSON.stringify(want)) {
  console.error(`the tarball holds ${JSON.stringify(files)}, want exactly ${JSON.stringify(want)}`);
  process.exit(1);
}
EOF
}

node_project() {
    readme_block node >"$WORK/node.sh"
    bash -euo pipefail "$WORK/node.sh" >"$WORK/node.out"
    cat "$WORK/node.out"
    expect "$WORK/node.out" "activity newInstance" "$SIGNED"
    local app="$WORK/koosign-js"
    cp scripts/packages/use.cjs scripts/packages/cases.cjs scripts/packages/use.mjs scripts/packages/use.ts \
        scripts/packages/tsconfig.json "$app/"
    # shellcheck disable=SC2046
    (cd "$app" && npm install --no-audit --no-fund --loglevel=error --save-dev $(cd "$ROOT" && npm_versions))
    (cd "$app" && node use.cjs && node use.mjs && node node_modules/typescript/bin/tsc --strict -p tsconfig.json &&
        echo "tsc --strict: use.ts compiles against the package's types")
}

node_publish() {
    (cd bindings-wasm/pkg && npm publish --dry-run) >"$NPM_OUT/publish.log" 2>&1 || { cat "$NPM_OUT/publish.log"; return 1; }
    cat "$NPM_OUT/publish.log"
    # Clean: no warning or error, except the one about not being logged in
    # (no registry account here; the dry run checks everything else).
    if grep -iE '(^| )(warn|err!|error)' "$NPM_OUT/publish.log" |
        grep -vE '^npm warn publish This command requires you to be logged in to [^ ]+ \(dry-run\)$'; then
        echo "npm publish --dry-run is not clean"
        return 1
    fi
}

# ---- C ------------------------------------------------------------------------------

c_readme() {
    ensure_apt gcc make pkg-config
    readme_block c >"$WORK/c.sh"
    bash -euo pipefail "$WORK/c.sh" >"$WORK/c.out"
    cat "$WORK/c.out"
    expect "$WORK/c.out" "verify KOOSIGN_OK" "$SIGNED"
}

c_consumer() {
    local prefix="$WORK/koosign-c" dir="$WORK/consumer"
    [ -f "$prefix/lib/pkgconfig/koosign.pc" ] || make -s -C bindings-c install PREFIX="$prefix"
    mkdir -p "$dir"
    cp bindings-c/tests/install_smoke.c "$dir/main.c"
    cd "$dir"
    export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
    # shellcheck disable=SC2046
    gcc -std=c11 -Wall -Wextra -Werror main.c -o smoke $(pkg-config --cflags --libs koosign)
    LD_LIBRARY_PATH="$prefix/lib" ./smoke
    # shellcheck disable=SC2046
    gcc -std=c11 -Wall -Wextra -Werror main.c -o smoke-static $(pkg-config --cflags koosign) \
        "$prefix/lib/libkoosign.a" $(pkg-config --static --libs-only-l koosign | sed 's/-lkoosign//')
    ! ldd ./smoke-static | grep libkoosign
    ./smoke-static
}

# ---- run ----------------------------------------------------------------------------

t_start=$(date +%s)
for part in "${parts[@]}"; do
    case "$part" in
        rust)
            step "rust: cargo package -p koosign (builds from the package)" rust_package
            step "rust: cargo doc -p koosign, no warnings" rust_doc
            step "rust: MSRV (resolver, clippy, Debian rustc)" rust_msrv
            step "rust: README block (fresh cargo project)" rust_readme
            ;;
        python)
            step "python: tools venv (maturin, twine)" py_tools
            step "python: maturin sdist, pip install into a fresh venv" py_sdist
            step "python: README block (pip install ./bindings-python)" py_readme
            step "python: $MANYLINUX wheel (auditwheel check), twine" py_wheel
            ;;
        node)
            step "node: build the package (scripts/build-wasm.sh)" node_build
            step "node: npm pack holds only what runs" node_pack
            step "node: README block, require, import, tsc --strict" node_project
            step "node: npm publish --dry-run is clean" node_publish
            ;;
        c)
            step "c: README block (make install, pkg-config consumer)" c_readme
            step "c: install_smoke.c outside the repo, shared and static" c_consumer
            ;;
        *)
            echo "unknown part: $part (rust, python, node, c)" >&2
            exit 2
            ;;
    esac
done
echo "packages: $(($(date +%s) - t_start)) s"
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
