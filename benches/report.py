#!/usr/bin/env python3
"""Turns one run of scripts/bench.sh into BENCHMARKS.md and docs/bench.svg.

Reads target/bench-results/ (the logs and JSON lines of the run) and
target/criterion/*/…/new/estimates.json. Standard library only.

BENCHMARKS.md: the text between `<!-- BEGIN GENERATED -->` and
`<!-- END GENERATED -->` is replaced; the rest of the file (the prose) is
kept. A file without the markers gets a fresh skeleton.

Usage: python3 benches/report.py [RESULTS_DIR]
(KOOSIGN_REPORT_MD / KOOSIGN_REPORT_SVG redirect the two outputs.)
"""

import json
import math
import os
import re
import sys

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
RES = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "target", "bench-results")
CRIT = os.environ.get("KOOSIGN_REPORT_CRITERION", os.path.join(ROOT, "target", "criterion"))
# Output paths (overridable, for the test run that must not touch the repository).
MD = os.environ.get("KOOSIGN_REPORT_MD", os.path.join(ROOT, "BENCHMARKS.md"))
SVG = os.environ.get("KOOSIGN_REPORT_SVG", os.path.join(ROOT, "docs", "bench.svg"))
BEGIN, END = "<!-- BEGIN GENERATED -->", "<!-- END GENERATED -->"

SIZES = [64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32768, 65536]
PARAMS = [1, 2, 4, 8, 16, 32, 63]


def read(name, default=""):
    p = os.path.join(RES, name)
    if not os.path.exists(p):
        return default
    with open(p, encoding="utf-8") as f:
        return f.read()


def jsonl(name, prefix=""):
    out = []
    for line in read(name).splitlines():
        line = line.strip()
        if prefix:
            if not line.startswith(prefix):
                continue
            line = line[len(prefix):].strip()
        if line.startswith("{"):
            out.append(json.loads(line))
    return out


def crit(path):
    """Criterion median (ns) of group/function[/param], or None."""
    p = os.path.join(CRIT, *path.split("/"), "new", "estimates.json")
    if not os.path.exists(p):
        return None
    with open(p) as f:
        return json.load(f)["median"]["point_estimate"]


def ns(x):
    if x is None:
        return "—"
    if x >= 1e6:
        return f"{x / 1e6:.2f} ms"
    if x >= 1e4:
        return f"{x / 1e3:.1f} µs"
    if x >= 1e3:
        return f"{x / 1e3:.2f} µs"
    return f"{x:.0f} ns"


def rx(x, digits=2):
    return "—" if x is None else f"{x:.{digits}f}×"


def size(n):
    return f"{n // 1024} KiB" if n >= 1024 else f"{n} B"


# ---------------------------------------------------------------- data

meta = json.loads(read("meta.json", "{}") or "{}")
ratios = {(r["group"], r["a"], r["b"]): r for r in jsonl("context.log", "RATIO") + jsonl("ratios.log", "RATIO")}
solo_ = {r["id"]: r for r in jsonl("ratios.log", "SOLO")}
growth = next(iter(jsonl("ratios.log", "GROWTH")), None)


def solo(op_id):
    """Median of half-millisecond batches (the `ratios` bench), else criterion."""
    r = solo_.get(op_id)
    return r["ns"] if r else crit(op_id)


def paired_ns(group, x, side):
    r = ratios.get((group, f"koosign/{x}", f"floor/{x}"))
    return (r["a_ns"] if side == "koosign" else r["b_ns"]) if r else None
jdk = {r["op"]: r for r in jsonl("jdk.jsonl")}
ossl = {r["op"]: r for r in jsonl("openssl.jsonl")}
capi = {r["op"]: r for r in jsonl("capi.jsonl")}
allocs = []
for log in ("core.log", "scale.log", "context.log"):
    for line in read(log).splitlines():
        m = re.match(r"^ALLOC (\S+) (\S+)$", line.strip())
        if m:
            allocs.append((m.group(1), float(m.group(2))))
dudect = []
for line in read("ct.log").splitlines():
    m = re.match(r"^bench (\S+)\s+\.\.\. : n == ([+-][\d.]+)M, max t = ([+-][\d.]+), max tau = ([+-][\d.]+)", line)
    if m:
        dudect.append((m.group(1), float(m.group(2)), float(m.group(3)), float(m.group(4))))

GOALS = [
    ("V1 verify, documented notification (9 query parameters)", "v1_verify", "koosign", "floor", 1.5,
     "1 HMAC-SHA256 (key + timeStamp) over the canonical string"),
    ("V2 verify, documented newInstance body", "v2_verify", "koosign", "floor", 1.1,
     "2 HMAC-SHA256: inner over the body, outer over key+nonce+timestamp+inner"),
    ("Body-Sign, 200-byte response", "body_sign_200B", "koosign", "floor", 1.1, "1 HMAC-SHA256 over the body"),
    ("APIG signing, query-order call", "apig_sign_query_order", "koosign", "floor", 1.5,
     "SHA-256(body) + SHA-256(canonical request) + HMAC(string to sign)"),
    ("Field encrypt AES-128, cached key (`FieldKey`)", "field_encrypt_aes128", "cached", "floor", 1.5,
     "1 AES-CBC block (key schedule done once) + Base64"),
    ("Field encrypt AES-256, cached key (`FieldKey`)", "field_encrypt_aes256", "cached", "floor", 1.5,
     "1 AES-CBC block (key schedule done once) + Base64"),
    ("Field decrypt AES-128, cached key (`FieldCipher`)", "field_decrypt_aes128", "cached", "floor", None,
     "Base64 decode + 1 AES-CBC block + unpad"),
    ("Field decrypt AES-256, cached key (`FieldCipher`)", "field_decrypt_aes256", "cached", "floor", None,
     "Base64 decode + 1 AES-CBC block + unpad"),
    ("(floor re-keying the AES cipher on every call, `floor_keyed`) AES-128", "field_encrypt_aes128", "floor_keyed", "floor", None,
     "what keying the cipher on every call costs"),
    ("(floor re-keying the AES cipher on every call, `floor_keyed`) AES-256", "field_encrypt_aes256", "floor_keyed", "floor", None,
     "what keying the cipher on every call costs"),
    ("V2 verify against the keyed floor", "v2_verify", "koosign", "floor_prekeyed", None,
     "the same 2 HMAC-SHA256 from the key's precomputed inner/outer states (a keyed context's floor)"),
    ("Body-Sign, 200 B, against the keyed floor", "body_sign_200B", "koosign", "floor_prekeyed", None,
     "the same HMAC-SHA256 from the key's precomputed inner/outer states"),
    ("APIG signing against the keyed floor", "apig_sign_query_order", "koosign", "floor_prekeyed", None,
     "the same hashes, the HMAC from the SK's precomputed inner/outer states"),
    ("(keyed floor ÷ floor) V2 verify", "v2_verify", "floor_prekeyed", "floor", None, ""),
    ("(keyed floor ÷ floor) Body-Sign 200 B", "body_sign_200B", "floor_prekeyed", "floor", None, ""),
    ("(keyed floor ÷ floor) APIG signing", "apig_sign_query_order", "floor_prekeyed", "floor", None, ""),
    ("Keyed context: V2 verify against the keyed floor", "v2_verify", "context", "floor_prekeyed", 1.1,
     "`Merchant::verify_v2`: the 2 HMAC-SHA256 from precomputed states"),
    ("Keyed context: Body-Sign, 200 B, against the keyed floor", "body_sign_200B", "context", "floor_prekeyed", 1.1,
     "`Merchant::body_sign`: 1 HMAC-SHA256 from precomputed states"),
    ("Keyed context: kit (S2b) verify against the keyed floor", "kit_verify", "context", "floor_prekeyed", 1.1,
     "`Merchant::verify_v2` (headers): 1 HMAC-SHA256 over key+nonce+timestamp+body"),
    ("Keyed context: licence (S5) verify against the keyed floor", "licence_verify", "context", "floor_prekeyed", 1.1,
     "`Merchant::verify_licence`: 1 HMAC-SHA256 over ts=…&nonce=…&body=…"),
    ("Kit (S2b) verify, documented body", "kit_verify", "koosign", "floor", None,
     "1 HMAC-SHA256 over key+nonce+timestamp+body"),
    ("Licence (S5) verify, documented body", "licence_verify", "koosign", "floor", None,
     "1 HMAC-SHA256 over ts=…&nonce=…&body=…"),
    ("(keyed floor ÷ floor) kit verify", "kit_verify", "floor_prekeyed", "floor", None, ""),
    ("(keyed floor ÷ floor) licence verify", "licence_verify", "floor_prekeyed", "floor", None, ""),
    # The checked floors (benches/src/ops.rs): the floors plus the work a verifier or signer must do
    # beyond hashing (decode the received signature, compare in constant time; S2's inner hex; S3's
    # Base64), with the library codecs. Information only: the goals stay on the plain floors above.
    ("(checked floor) V2 verify", "v2_verify", "koosign", "floor_checked", None,
     "the plain floor + S2's inner hex + the received signature decoded and compared in constant time"),
    ("(checked floor) keyed context: V2 verify", "v2_verify", "context", "floor_prekeyed_checked", None,
     "the keyed floor + the same checks"),
    ("(checked floor) kit verify", "kit_verify", "koosign", "floor_checked", None,
     "the plain floor + the received signature decoded and compared in constant time"),
    ("(checked floor) keyed context: kit verify", "kit_verify", "context", "floor_prekeyed_checked", None,
     "the keyed floor + the same checks"),
    ("(checked floor) licence verify", "licence_verify", "koosign", "floor_checked", None,
     "the plain floor + the received signature decoded and compared in constant time"),
    ("(checked floor) keyed context: licence verify", "licence_verify", "context", "floor_prekeyed_checked", None,
     "the keyed floor + the same checks"),
    ("(checked floor) Body-Sign 200 B", "body_sign_200B", "koosign", "floor_checked", None,
     "the plain floor + the MAC's Base64"),
    ("(checked floor) keyed context: Body-Sign 200 B", "body_sign_200B", "context", "floor_prekeyed_checked", None,
     "the keyed floor + the MAC's Base64"),
]
# The keyed merchant context against its keyed floor (issue 14: ≤ 1.1×), when
# the bench has context ops (`GROUP/context`).
CONTEXT_GROUPS = [("V2 verify", "v2_verify"), ("kit verify", "kit_verify"), ("Body-Sign", "body_sign_200B"),
                  ("licence verify", "licence_verify")]


def goal_rows():
    rows = ["| operation | koosign | floor | ratio (median, IQR) | ratio of fastest | goal | |",
            "|---|---:|---:|---:|---:|---:|---|"]
    for label, g, a, b, goal, _ in GOALS:
        r = ratios.get((g, a, b))
        if not r:
            rows.append(f"| {label} | — | — | not measured | | {rx(goal, 1) if goal else ''} | |")
            continue
        verdict = ""
        if goal:
            verdict = "met" if r["ratio"] <= goal else "**not met**"
            if g == "v1_verify" and r["ratio"] <= goal:
                verdict += " (aim 1.2×: " + ("met)" if r["ratio"] <= 1.2 else "not met)")
        rows.append(
            f"| {label} | {ns(r['a_ns'])} | {ns(r['b_ns'])} | **{r['ratio']:.2f}×** ({r['p25']:.2f}–{r['p75']:.2f}) "
            f"| {r['ratio_of_min']:.2f}× | {('≤ ' + rx(goal, 1)) if goal else ''} | {verdict} |")
    return rows


def floor_rows():
    rows = ["| floor | what it is |", "|---|---|"]
    seen = set()
    for label, g, a, b, goal, what in GOALS:
        if (g, b) in seen or a in ("floor_keyed", "floor_prekeyed"):
            continue
        seen.add((g, b))
        rows.append(f"| `{g}/{b}` | {what} |")
    return rows


def peer_rows():
    rows = [
        "| operation | koosign | JDK (marketplace sample) | JDK ÷ koosign | OpenSSL 3 (same primitive work) | OpenSSL ÷ koosign |",
        "|---|---:|---:|---:|---:|---:|"]

    def line(label, k, j, o, o_label=""):
        kj = (j / k) if (k and j) else None
        ko = (o / k) if (k and o) else None
        rows.append(f"| {label} | {ns(k)} | {ns(j)} | {rx(kj, 1)} | {ns(o)}{o_label} | {rx(ko, 2)} |")

    def best(*ops):
        v = [ossl[o]["ns_per_op"] for o in ops if o in ossl]
        return min(v) if v else None

    g = lambda op: jdk.get(op, {}).get("ns_per_op")
    crit_ = solo  # koosign's column: median of 0.5 ms batches, like the peers
    line("V1 verify (documented notification)", crit_("v1_verify/koosign"), g("v1_verify"),
         best("v1_hmac_evp_mac", "v1_hmac_oneshot"), " (1 HMAC)")
    line("V2 verify (documented body)", crit_("v2_verify/koosign"), g("v2_verify"),
         best("v2_two_hmac_evp_mac", "v2_two_hmac_oneshot"), " (2 HMAC)")
    line("Body-Sign, 200 B", crit_("body_sign_200B/koosign"), g("body_sign_200B"),
         best("body_sign_200B_evp_mac", "body_sign_200B_oneshot"), " (HMAC + Base64)")
    for bits in (128, 256):
        line(f"field encrypt AES-{bits}, cached key", crit_(f"field_encrypt_aes{bits}/cached"),
             g(f"field_encrypt_aes{bits}/cached"), best(f"aes{bits}_cbc_b64_cached"), " (CBC + Base64, keyed ctx)")
        line(f"field encrypt AES-{bits}, key derived per call", crit_(f"field_encrypt_aes{bits}/uncached"),
             g(f"field_encrypt_aes{bits}/uncached"), best(f"aes{bits}_cbc_b64_keyed"), " (key schedule per call, no SHA1PRNG)")
        line(f"field decrypt AES-{bits}, cached key", crit_(f"field_decrypt_aes{bits}/cached"),
             g(f"field_decrypt_aes{bits}/cached"), None)
        line(f"field decrypt AES-{bits}, key derived per call", crit_(f"field_decrypt_aes{bits}/uncached"),
             g(f"field_decrypt_aes{bits}/uncached"), None)
    line("SHA1PRNG key derivation (AES-256)", crit_("derive_key/aes256"), g("derive_key/aes256"), None)
    line("SHA-256 of 64 KiB (RustCrypto `sha2` vs OpenSSL)", crit_("sha256/sha256_64KiB"), None, best("sha256_64KiB"))
    return rows


def openssl_rows():
    rows = ["| OpenSSL call | OpenSSL | Rust floor | OpenSSL ÷ Rust floor |", "|---|---:|---:|---:|"]
    pairs = [
        ("v1_hmac_oneshot", "v1_verify/floor"), ("v1_hmac_evp_mac", "v1_verify/floor"),
        ("v2_two_hmac_oneshot", "v2_verify/floor"), ("v2_two_hmac_evp_mac", "v2_verify/floor"),
        ("body_sign_200B_oneshot", "body_sign_200B/floor"), ("body_sign_200B_evp_mac", "body_sign_200B/floor"),
        ("aes128_cbc_b64_cached", "field_encrypt_aes128/floor"), ("aes128_cbc_b64_keyed", "field_encrypt_aes128/floor_keyed"),
        ("aes256_cbc_b64_cached", "field_encrypt_aes256/floor"), ("aes256_cbc_b64_keyed", "field_encrypt_aes256/floor_keyed"),
        ("sha256_64KiB", "sha256/sha256_64KiB"),
    ]
    for o, f in pairs:
        if o not in ossl:
            continue
        v, fl = ossl[o]["ns_per_op"], solo(f)
        rows.append(f"| `{o}` | {ns(v)} | {ns(fl)} (`{f}`) | {rx(v / fl if fl else None)} |")
    return rows


def core_rows():
    rows = ["| id | median of 0.5 ms batches (`ratios`) | criterion median (`core`) |", "|---|---:|---:|"]
    if not os.path.isdir(CRIT):
        return rows
    for g in sorted(os.listdir(CRIT)):
        if g.startswith("scale_") or g == "report":
            continue
        for dirpath, dirnames, filenames in sorted(os.walk(os.path.join(CRIT, g))):
            if os.path.basename(dirpath) == "new" and "estimates.json" in filenames:
                rel = os.path.relpath(os.path.dirname(dirpath), CRIT)
                sid = rel if rel.count("/") == 1 else None
                rows.append(f"| `{rel}` | {ns(solo_[sid]['ns']) if sid in solo_ else '—'} | {ns(crit(rel))} |")
    return rows


def scale_rows(group, xs, fmt):
    v1 = group in ("scale_v1_verify", "v1_growth")
    rows = [f"| {'signed parameters' if v1 else 'body size'} | koosign | floor | ratio (paired median) | koosign throughput |",
            "|---:|---:|---:|---:|---:|"]
    for x in xs:
        k, f = paired_ns(group, x, "koosign"), paired_ns(group, x, "floor")
        r = ratios.get((group, f"koosign/{x}", f"floor/{x}"))
        if v1:
            tp = f"{k / x:.0f} ns/param" if k else "—"
        else:
            tp = f"{x / k * 1e9 / 2**20:.0f} MiB/s" if k else "—"
        rows.append(f"| {fmt(x)} | {ns(k)} | {ns(f)} | {rx(r['ratio'] if r else None)} | {tp} |")
    return rows


def capi_rows():
    if not capi:
        return None
    rows = ["| operation | C API (from C) | native Rust call | overhead (median, IQR) | goal |", "|---|---:|---:|---:|---|"]
    for op, label in (("v1_verify", "`koosign_verify_v1`, documented S1 query"), ("body_sign_200B", "`koosign_body_sign`, 200 B")):
        r = capi.get(op)
        if r:
            over = (r["ratio"] - 1) * 100
            verdict = "met" if r["ratio"] <= 1.05 else "**not met**"
            rows.append(f"| {label} | {ns(r['c_ns'])} | {ns(r['rust_ns'])} | **{over:+.1f} %** ({(r['p25'] - 1) * 100:+.1f} … {(r['p75'] - 1) * 100:+.1f} %) | ≤ 5 % — {verdict} |")
    return rows


def dudect_rows():
    rows = ["| test | samples kept | max t | max τ | reading |", "|---|---:|---:|---:|---|"]
    notes = {
        "ct_verify_body_sign": "koosign `verify_body_sign`: forged signature differing in the last vs the first byte",
        "ct_verify_v2": "koosign `verify_v2`: forged signature differing in the last vs the first hex digit",
        "constant_time_eq_32B": "koosign `constant_time_eq`, 32 bytes, last vs first byte differs",
        "constant_time_eq_4KiB": "the same on 4 KiB (more time for a leak to show)",
        "control_aa_verify_body_sign": "A/A control: both classes the same input — the noise floor of this machine",
        "control_naive_eq_4KiB": "positive control: `==` (early exit) on 4 KiB — a real leak",
    }
    for name, n, t, tau in dudect:
        rows.append(f"| `{name}` | {n:.3f} M | {t:+.1f} | {tau:+.5f} | {notes.get(name, '')} |")
    return rows


# ---------------------------------------------------------------- issue 14 and 15 figures

load = jsonl("load.log", "LOADRESULT")
pybench = {"abi3": jsonl("python.txt", "PYBENCH"), "version-specific": jsonl("python-vs.txt", "PYBENCH")}
NODE_RE = re.compile(r"^(.+?)\s+wasm\s+([\d.]+) ns/op\s+node:crypto\s+([\d.]+) ns/op\s+×([\d.]+)")
node_rows_ = []
wasm_bytes = None
for line in read("node.txt").splitlines():
    m = NODE_RE.match(line.strip())
    if m:
        node_rows_.append((m.group(1).strip(), float(m.group(2)), float(m.group(3)), float(m.group(4))))
    m = re.match(r"^wasm (\d+) bytes", line.strip())
    if m:
        wasm_bytes = int(m.group(1))
SOAK_RE = re.compile(
    r"soak: store=(?P<store>\S+) target=(?P<rate>\d+)/s for (?P<secs>\d+) s: (?P<n>\d+) requests in (?P<el>[\d.]+) s = "
    r"(?P<rps>[\d.]+) req/s; latency p50 (?P<p50>[\d.]+) ms, p99 (?P<p99>[\d.]+) ms, p99.9 (?P<p999>[\d.]+) ms, "
    r"max (?P<max>[\d.]+) ms; errors (?P<err>\d+); RSS start (?P<r0>\d+) KiB, at 1/4 (?P<rq>\d+) KiB, end (?P<r1>\d+) KiB, "
    r"peak (?P<rp>\d+) KiB")
soak = next((m.groupdict() for m in map(SOAK_RE.search, read("soak.log").splitlines()) if m), None)
# Memory counts as flat when the end is within 10 % (and 4 MiB) of the warmed-up
# figure at a quarter of the run.
SOAK_FLAT = 1.10


def mark(ok):
    return "—" if ok is None else ("met" if ok else "**not met**")


def context_pairs():
    """(label, ratio record) of GROUP/context (or /merchant) against GROUP/floor_prekeyed."""
    out = []
    for label, g in CONTEXT_GROUPS:
        for a in ("context", "merchant"):
            r = ratios.get((g, a, "floor_prekeyed"))
            if r:
                out.append((label, g, r))
                break
    return out


def sha256_block_ns():
    """One SHA-256 compression, from the 64 KiB SHA-256 of this run (1024 blocks)."""
    t = solo("sha256/sha256_64KiB")
    return t / 1024 if t else None


def py_speedups(build):
    return {(x["path"], x["op"]): x for x in pybench.get(build, [])}


def summary_rows():
    """Every goal of issue 14 (and the soak of issue 15), goal beside figure."""
    rows = ["| area | goal | measured in this run | |", "|---|---|---|---|"]
    add = lambda area, goal, measured, ok: rows.append(f"| {area} | {goal} | {measured} | {mark(ok)} |")
    for label, g, a, b, goal, _ in GOALS:
        if not goal or a == "context":
            continue
        r = ratios.get((g, a, b))
        short = label.split(",")[0] if "Field" not in label else label.replace(" (`FieldKey`)", "")
        extra = " (aim 1.2×)" if g == "v1_verify" else ""
        add("core", f"{short} ≤ {goal:g}× its floor{extra}", f"{r['ratio']:.2f}×" if r else "not measured",
            (r["ratio"] <= goal) if r else None)
    gr = growth
    r1 = ratios.get(("v1_growth", "koosign/1", "floor/1"))
    if gr and r1:
        add("core", f"V1 cost grows no faster than the floor's ({gr['from']} → {gr['to']} parameters)",
            f"each added parameter: koosign {gr['koosign_ns_per_param']:.1f} ns, floor {gr['floor_ns_per_param']:.1f} ns, "
            f"growth ratio {gr['growth_ratio']:.2f}× against the {r1['ratio']:.2f}× ratio at 1 parameter (goal: not above it)",
            gr["growth_ratio"] <= r1["ratio"])
    else:
        add("core", "V1 cost grows no faster than the floor's (up to 63 parameters)", "not measured", None)
    cps = context_pairs()
    if cps:
        for label, g, r in cps:
            add("context", f"{label} through the keyed context ≤ 1.1× the keyed floor", f"{r['ratio']:.2f}×", r["ratio"] <= 1.1)
    else:
        for label, g, b in (("V2 verify", "v2_verify", "floor_prekeyed"), ("Body-Sign", "body_sign_200B", "floor_prekeyed"),
                            ("APIG signing", "apig_sign_query_order", "floor_prekeyed")):
            r = ratios.get((g, "koosign", b))
            seen = f"; the one-shot is {r['ratio']:.2f}× the keyed floor" if r else ""
            add("context", f"{label} through the keyed context ≤ 1.1× the keyed floor",
                f"not measured: the Rust bench has no context op ({g}/context){seen}", None)
    blk = sha256_block_ns()
    saved = []
    for label, g, r in cps:
        c1 = ratios.get((g, "context", "koosign"))
        if c1 and blk:
            saved.append(f"{label} {(c1['b_ns'] - c1['a_ns']) / blk:.1f}")
    add("context", "V2, kit, Body-Sign, licence ≈ 2 SHA-256 compressions cheaper than the one-shot",
        ("saved, in compressions of this run (" + (f"{blk:.0f} ns" if blk else "?") + " each): " + ", ".join(saved))
        if saved else "not measured (no context op in the Rust bench)", None)
    add("context", "APIG signing through a keyed context", "not applicable: the core's `Merchant` does not sign APIG calls "
        "(the one-shot's ratio to the keyed floor is in the goals table)", None)
    for build in ("abi3", "version-specific"):
        xs = pybench.get(build, [])
        if not xs:
            add("Python", f"≥ 5× pure Python, every op, one-shot and context ({build})", "not measured", None)
            continue
        got = [x for x in xs if "speedup" in x]
        miss = [x for x in xs if "not_measured" in x]
        low = [f"{x['path']} {x['op']} {x['speedup']:.1f}×" for x in got if x["speedup"] < 5]
        lo = min(got, key=lambda x: x["speedup"]) if got else None
        text = (f"{len(got) - len(low)} of {len(xs)} rows ≥ 5×" + (f"; below: {', '.join(low)}" if low else "")
                + (f"; not measured: {', '.join(x['path'] + ' ' + x['op'] for x in miss)}" if miss else "")
                + (f"; lowest {lo['path']} {lo['op']} {lo['speedup']:.1f}×" if lo and not low else ""))
        add("Python", f"≥ 5× pure Python on every op, one-shot and context ({build} wheel)", text, not low and not miss)
    ab, vs = py_speedups("abi3"), py_speedups("version-specific")
    both = [(k, ab[k]["koosign_ns"] / vs[k]["koosign_ns"]) for k in ab if k in vs and "koosign_ns" in ab[k] and "koosign_ns" in vs[k]]
    if both:
        med = sorted(r for _, r in both)[len(both) // 2]
        add("Python", "abi3 against a version-specific build: measure, choose on the figures",
            f"abi3 ÷ version-specific, median over {len(both)} ops: {med:.3f}× (range "
            f"{min(r for _, r in both):.2f}–{max(r for _, r in both):.2f}×)", None)
    if node_rows_:
        low = [f"{n} {r:.2f}×" for n, _, _, r in node_rows_ if r < 1.5]
        add("Node", "≥ 1.5× node:crypto on every op (verifyKit and bodySign included)",
            f"{len(node_rows_) - len(low)} of {len(node_rows_)} ops ≥ 1.5×" + (f"; below: {', '.join(low)}" if low else ""),
            not low)
    else:
        add("Node", "≥ 1.5× node:crypto on every op", "not measured", None)
    add("Node", "`.wasm` under 150 KB", f"{wasm_bytes:,} bytes" if wasm_bytes else "not measured",
        (wasm_bytes < 150_000) if wasm_bytes else None)
    for op, label in (("v1_verify", "V1 verify"), ("body_sign_200B", "Body-Sign")):
        r = capi.get(op)
        add("C", f"C API within 5 % of the Rust call ({label})",
            f"{(r['ratio'] - 1) * 100:+.1f} %" if r else "not measured", (r["ratio"] <= 1.05) if r else None)
    n0 = sum(1 for _, v in allocs if v == 0.0)
    add("core", "zero heap allocations per operation", f"{n0} of {len(allocs)} operations" if allocs else "not measured",
        (n0 == len(allocs)) if allocs else None)
    ran = [x for x in load if "rps" in x]
    if ran:
        add("server", "`koosign serve` under bounded load, against Flask and Express: report req/s, p50/p99",
            "; ".join(f"{x['name']}: {x['rps']:,.0f} req/s, p50 {x['p50_us'] / 1000:.2f} ms, p99 {x['p99_us'] / 1000:.2f} ms"
                      + (f", {x['bad_answers']} bad answers" if x['bad_answers'] else "") for x in ran)
            + "".join(f"; {x['name']}: not run ({x.get('not_run') or x.get('failed')})" for x in load if "rps" not in x),
            None)
    else:
        add("server", "`koosign serve` under bounded load", "not measured", None)
    if soak:
        flat = int(soak["r1"]) <= max(int(soak["rq"]) * SOAK_FLAT, int(soak["rq"]) + 4096)
        add("soak (issue 15)", f"{soak['secs']} s at {soak['rate']}/s: errors 0, memory flat",
            f"{int(soak['n']):,} requests, {soak['rps']} req/s, p50 {soak['p50']} / p99 {soak['p99']} / p99.9 {soak['p999']} ms, "
            f"errors {soak['err']}, RSS {int(soak['r0']) // 1024} → {int(soak['rq']) // 1024} (¼) → {int(soak['r1']) // 1024} MiB (end)",
            soak["err"] == "0" and flat)
    else:
        add("soak (issue 15)", "errors 0, memory flat", "not measured", None)
    return rows


def context_rows():
    blk = sha256_block_ns()
    rows = ["| operation | context | keyed floor | context ÷ keyed floor (IQR) | goal ≤ 1.1× | one-shot | context ÷ one-shot | saved per call |",
            "|---|---:|---:|---:|---|---:|---:|---:|"]
    for label, g, r in context_pairs():
        c1 = ratios.get((g, "context", "koosign"))
        saved = (f"{c1['b_ns'] - c1['a_ns']:.0f} ns" + (f" ≈ {(c1['b_ns'] - c1['a_ns']) / blk:.1f} compressions" if blk else "")) if c1 else "—"
        rows.append(f"| {label} | {ns(r['a_ns'])} | {ns(r['b_ns'])} | **{r['ratio']:.2f}×** ({r['p25']:.2f}–{r['p75']:.2f}) | "
                    f"{mark(r['ratio'] <= 1.1)} | {ns(c1['b_ns']) if c1 else '—'} | {rx(c1['ratio']) if c1 else '—'} | {saved} |")
    return rows


def load_rows():
    rows = ["| server | what | requests/s | p50 | p90 | p99 | p99.9 | max | bad answers / errors | RSS start → end |",
            "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    ms = lambda us: f"{us / 1000:.2f} ms"
    for x in load:
        if "rps" not in x:
            rows.append(f"| {x['name']} | {x['what']} | not run: {x.get('not_run') or x.get('failed')} | | | | | | | |")
            continue
        errs = x["connect_errors"] + x["read_errors"] + x["write_errors"] + x["timeouts"]
        rows.append(f"| {x['name']} | {x['what']} | **{x['rps']:,.0f}** | {ms(x['p50_us'])} | {ms(x['p90_us'])} | "
                    f"{ms(x['p99_us'])} | {ms(x['p999_us'])} | {ms(x['max_us'])} | {x['bad_answers']} / {errs} | "
                    f"{x.get('rss_start_kib', 0) // 1024} → {x.get('rss_end_kib', 0) // 1024} MiB |")
    return rows


def python_rows():
    ab, vs = py_speedups("abi3"), py_speedups("version-specific")
    keys = [(x["path"], x["op"]) for x in pybench.get("abi3", []) or pybench.get("version-specific", [])]
    rows = ["| path | operation | koosign, abi3 | koosign, version-specific | abi3 ÷ specific | pure Python | speed-up (abi3) | goal ≥ 5× |",
            "|---|---|---:|---:|---:|---:|---:|---|"]
    f = lambda v: f"{v:,.0f} ns" if v else "—"
    for k in keys:
        a, v = ab.get(k, {}), vs.get(k, {})
        if "koosign_ns" not in a:
            rows.append(f"| {k[0]} | {k[1]} | not measured: {a.get('not_measured', '')} | | | | | |")
            continue
        rel = f"{a['koosign_ns'] / v['koosign_ns']:.3f}×" if v.get("koosign_ns") else "—"
        rows.append(f"| {k[0]} | {k[1]} | {f(a['koosign_ns'])} | {f(v.get('koosign_ns'))} | {rel} | {f(a['ref_ns'])} | "
                    f"**{a['speedup']:.1f}×** | {mark(a['speedup'] >= 5)} |")
    return rows


def node_table():
    rows = ["| operation | koosign (WASM) | node:crypto reference | speed-up | goal ≥ 1.5× |", "|---|---:|---:|---:|---|"]
    for n, w, r, x in node_rows_:
        rows.append(f"| {n} | {w:,.0f} ns | {r:,.0f} ns | **{x:.2f}×** | {mark(x >= 1.5)} |")
    return rows


# ---------------------------------------------------------------- SVG

def tick(y):
    if y >= 1e6:
        return f"{y / 1e6:g} ms"
    if y >= 1e3:
        return f"{y / 1e3:g} µs"
    return f"{y:g} ns"


def svg_plot():
    """Top row: time per call against body size (V2 verify, Body-Sign and
    their floors) and against signed-parameter count (V1 verify and its
    floor), log-log. Bottom row: koosign ÷ floor at each point (paired)."""
    W, H = 1000, 820
    panels = [
        ("Cost against body size", "body size (bytes)", SIZES, [
            ("V2 verify (koosign)", "scale_v2_verify", "koosign", "#1f77b4", ""),
            ("V2 floor: 2 × HMAC-SHA256", "scale_v2_verify", "floor", "#1f77b4", "6,4"),
            ("Body-Sign (koosign)", "scale_body_sign", "koosign", "#d62728", ""),
            ("Body-Sign floor: HMAC-SHA256", "scale_body_sign", "floor", "#d62728", "6,4"),
        ]),
        ("V1 verify against parameter count", "signed parameters (+ authToken)", PARAMS, [
            ("V1 verify (koosign)", "scale_v1_verify", "koosign", "#2ca02c", ""),
            ("V1 floor: HMAC-SHA256 of the canonical string", "scale_v1_verify", "floor", "#2ca02c", "6,4"),
        ]),
    ]
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" '
           'font-family="DejaVu Sans, Arial, sans-serif" font-size="12">',
           f'<rect width="{W}" height="{H}" fill="white"/>']
    pw, ph, left0 = 380, 270, 80

    def axes_x(left, top, xs, fx, xlabel):
        for x in xs:
            out.append(f'<line x1="{fx(x):.1f}" x2="{fx(x):.1f}" y1="{top}" y2="{top + ph}" stroke="#eee"/>')
            lab = size(x) if xs is SIZES else str(x)
            out.append(f'<text x="{fx(x):.1f}" y="{top + ph + 16}" text-anchor="middle" font-size="10">{lab}</text>')
        out.append(f'<text x="{left + pw / 2}" y="{top + ph + 34}" text-anchor="middle">{xlabel}</text>')

    def ylabel(left, top, text):
        out.append(f'<text x="{left - 62}" y="{top + ph / 2}" text-anchor="middle" '
                   f'transform="rotate(-90 {left - 62} {top + ph / 2})">{text}</text>')

    for i, (title, xlabel, xs, series) in enumerate(panels):
        left = left0 + i * (W // 2)
        xlo, xhi = math.log10(xs[0]), math.log10(xs[-1])
        fx = lambda x: left + (math.log10(x) - xlo) / (xhi - xlo) * pw
        # Top: absolute times, log-log.
        top = 50
        data = [(label, [(x, paired_ns(g, x, side)) for x in xs], color, dash) for label, g, side, color, dash in series]
        data = [(l, [(x, y) for x, y in pts if y], c, d) for l, pts, c, d in data]
        ys = [y for _, pts, _, _ in data for _, y in pts]
        if not ys:
            continue
        ylo = 10 ** math.floor(math.log10(min(ys)))
        yhi = 10 ** math.ceil(math.log10(max(ys)))
        fy = lambda y: top + ph - (math.log10(y) - math.log10(ylo)) / (math.log10(yhi) - math.log10(ylo)) * ph
        out.append(f'<text x="{left + pw / 2}" y="{top - 22}" text-anchor="middle" font-size="15" font-weight="bold">{title}</text>')
        out.append(f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#444"/>')
        e = math.log10(ylo)
        while e <= math.log10(yhi) + 1e-9:
            y = 10 ** e
            out.append(f'<line x1="{left}" x2="{left + pw}" y1="{fy(y):.1f}" y2="{fy(y):.1f}" stroke="#ddd"/>')
            out.append(f'<text x="{left - 6}" y="{fy(y) + 4:.1f}" text-anchor="end">{tick(y)}</text>')
            e += 1
        axes_x(left, top, xs, fx, xlabel)
        ylabel(left, top, "time per call (log scale)")
        for j, (label, pts, color, dash) in enumerate(data):
            da = f' stroke-dasharray="{dash}"' if dash else ""
            d = " ".join(f"{fx(x):.1f},{fy(y):.1f}" for x, y in pts)
            out.append(f'<polyline points="{d}" fill="none" stroke="{color}" stroke-width="2"{da}/>')
            for x, y in pts:
                out.append(f'<circle cx="{fx(x):.1f}" cy="{fy(y):.1f}" r="2.5" fill="{color}"/>')
            ly = top + ph + 54 + j * 16
            out.append(f'<line x1="{left}" x2="{left + 28}" y1="{ly - 4}" y2="{ly - 4}" stroke="{color}" stroke-width="2"{da}/>')
            out.append(f'<text x="{left + 34}" y="{ly}">{label}</text>')
        # Bottom: koosign ÷ floor, linear.
        top = 480
        groups = sorted({(g, c) for _, g, side, c, _ in series if side == "koosign"})
        rdata = []
        for g, color in groups:
            pts = [(x, ratios[(g, f"koosign/{x}", f"floor/{x}")]["ratio"]) for x in xs if (g, f"koosign/{x}", f"floor/{x}") in ratios]
            rdata.append((g, pts, color))
        rs = [r for _, pts, _ in rdata for _, r in pts] + [1.0]
        rhi = max(2.0, math.ceil(max(rs) * 2) / 2)
        fr = lambda r: top + ph - (r - 1.0) / (rhi - 1.0) * ph if r >= 1.0 else top + ph
        out.append(f'<text x="{left + pw / 2}" y="{top - 14}" text-anchor="middle" font-size="14" font-weight="bold">koosign ÷ floor (same process, interleaved)</text>')
        out.append(f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#444"/>')
        step = 0.25 if rhi <= 2.5 else (0.5 if rhi <= 5 else 1.0)
        r = 1.0
        while r <= rhi + 1e-9:
            out.append(f'<line x1="{left}" x2="{left + pw}" y1="{fr(r):.1f}" y2="{fr(r):.1f}" stroke="#ddd"/>')
            out.append(f'<text x="{left - 6}" y="{fr(r) + 4:.1f}" text-anchor="end">{r:g}×</text>')
            r += step
        axes_x(left, top, xs, fx, xlabel)
        ylabel(left, top, "ratio")
        names = {"scale_v2_verify": "V2 verify", "scale_body_sign": "Body-Sign", "scale_v1_verify": "V1 verify"}
        for j, (g, pts, color) in enumerate(rdata):
            if not pts:
                continue
            d = " ".join(f"{fx(x):.1f},{fr(r):.1f}" for x, r in pts)
            out.append(f'<polyline points="{d}" fill="none" stroke="{color}" stroke-width="2"/>')
            for x, r in pts:
                out.append(f'<circle cx="{fx(x):.1f}" cy="{fr(r):.1f}" r="2.5" fill="{color}"/>')
            out.append(f'<text x="{left + 8}" y="{top + 16 + j * 15}" fill="{color}">{names.get(g, g)}</text>')
        goal = {"scale_v2_verify": (1.1, "V2 verify goal 1.1×"), "scale_v1_verify": (1.5, "V1 verify goal 1.5× (at 9 parameters)")}
        for g, _ in groups:
            if g in goal:
                gv, gl = goal[g]
                out.append(f'<line x1="{left}" x2="{left + pw}" y1="{fr(gv):.1f}" y2="{fr(gv):.1f}" stroke="#888" stroke-dasharray="2,3"/>')
                out.append(f'<text x="{left + pw - 6}" y="{fr(gv) - 4:.1f}" text-anchor="end" font-size="10" fill="#666">{gl}</text>')
    stamp = f"koosign benches — {meta.get('date', '')} — {meta.get('cpu', '')} — scripts/bench.sh — medians of 0.5 ms batches"
    out.append(f'<text x="{W - 8}" y="{H - 6}" text-anchor="end" font-size="10" fill="#666">{stamp}</text>')
    out.append("</svg>")
    os.makedirs(os.path.dirname(SVG), exist_ok=True)
    with open(SVG, "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")


# ---------------------------------------------------------------- Markdown

def generated():
    L = []
    L.append(f"Run: **{meta.get('date', '?')}**, commit `{meta.get('commit', '?')}`, command `{meta.get('command', 'scripts/bench.sh')}` "
             f"({meta.get('duration', '?')}).")
    L.append("")
    L.append(f"Machine: {meta.get('cpu', '?')} ({meta.get('cpu_detail', '')}), {meta.get('cores', '?')} cores, "
             f"{meta.get('kernel', '')}; shared and noisy (load average at start: {meta.get('load', '?')}). "
             f"Toolchain: {meta.get('rustc', '?')}; {meta.get('java', '?')}; {meta.get('openssl', '?')}.")
    L.append("")
    st = meta.get("stages") or []
    if st:
        L.append(f"Time: {meta.get('duration', '?')} in all — builds {meta.get('build_duration', '?')}, measurement "
                 f"{meta.get('measure_duration', '?')} (" + "; ".join(f"{n} {s} s" for n, s in st) + ").")
        L.append("")
    L.append("### Issue 14: every goal beside its figure")
    L.append("")
    L.extend(summary_rows())
    L.append("")
    L.append("Each line is this run's figure (the tables below give the detail); \"—\" marks a figure that is "
             "reported, with no pass mark in the issue. A goal with no figure says \"not measured\" and why.")
    L.append("")
    L.append("### Goals: koosign against its floor, same process, interleaved")
    L.append("")
    L.extend(goal_rows())
    L.append("")
    L.append("Ratio = koosign's time ÷ the floor's, median over the paired rounds of the `ratios` bench "
             "(half-millisecond batches of each, alternating); IQR in brackets; \"ratio of fastest\" divides the fastest "
             "batch of each side. The ns columns are the median batch of that run.")
    L.append("")
    L.extend(floor_rows())
    L.append("")
    L.append("### The keyed merchant context against the keyed floor")
    L.append("")
    if context_pairs():
        L.extend(context_rows())
        L.append("")
        blk = sha256_block_ns()
        L.append("Context ÷ keyed floor: the `ratios` bench (`GROUP/context` against `GROUP/floor_prekeyed`: the same HMACs "
                 "from the key's precomputed inner/outer states; V2 = inner + outer, kit = 1 HMAC over key+nonce+timestamp+body, "
                 "Body-Sign = 1 HMAC over the 200-byte body, licence = 1 HMAC over `ts=…&nonce=…&body=…`). Context ÷ one-shot "
                 "and the saving: `benches/benches/context.rs` (`koosign::Merchant` built once against the one-shot function "
                 "on the same input). Each pair interleaved in half-millisecond batches; windows checked, replay check left "
                 "out by name (`Replay::Unchecked`)."
                 + (f" One SHA-256 compression in this run: {blk:.0f} ns (SHA-256 of 64 KiB ÷ 1024)." if blk else ""))
    else:
        L.append("Not measured in this run.")
    L.append("")
    n0 = sum(1 for _, v in allocs if v == 0.0)
    L.append("### Zero heap allocations")
    L.append("")
    if allocs:
        bad = [f"`{k}` ({v})" for k, v in allocs if v != 0.0]
        L.append(f"{n0} of {len(allocs)} koosign operations measured made **0 heap allocations per call** under the "
                 "counting global allocator of the bench harness (100 calls each, armed after one warm-up call; "
                 "`benches/src/lib.rs`)." + (f" Allocating: {', '.join(bad)}." if bad else ""))
    else:
        L.append("Not measured in this run.")
    L.append("")
    L.append("### Peers (same run, separate processes)")
    L.append("")
    L.extend(peer_rows())
    L.append("")
    L.append("All three columns are the median of half-millisecond batches (koosign: the `SOLO` timings of the `ratios` "
             "bench). JDK = `benches/java/KooBench.java`, what the marketplace's Java "
             "sample does (`Mac.getInstance` per call, `TreeMap`, `URLDecoder`, `Cipher` + `SHA1PRNG` `KeyGenerator`), "
             "warmed up for at least 3 s and 200,000 calls before timing. OpenSSL = `benches/c/openssl_peer.c` against libcrypto, the best of "
             "one-shot `HMAC()` and a pre-fetched `EVP_MAC`; it does only the primitive work (no parsing, no comparison), "
             "so it is a floor-type peer, not a full implementation.")
    L.append("")
    rows = openssl_rows()
    if len(rows) > 2:
        L.append("OpenSSL against the Rust floors (the primitives koosign is built on):")
        L.append("")
        L.extend(rows)
        L.append("")
    L.append("### C API overhead (libkoosign, issue 6)")
    L.append("")
    rows = capi_rows()
    if rows:
        L.extend(rows)
        L.append("")
        L.append("`benches/c/capi_overhead.c`: in one process, batches of n C-API calls from C alternate with one call of a "
                 "Rust function that makes the same n koosign calls natively (`benches/src/native.rs`); median of the round ratios.")
    else:
        L.append("TODO: `bindings-c/include/koosign.h` or the library was not available in this run; "
                 "`scripts/bench.sh` runs `benches/c/capi_overhead.c` once they build.")
    L.append("")
    L.append("### Python binding: one-shot and through the context, abi3 and version-specific")
    L.append("")
    if pybench.get("abi3") or pybench.get("version-specific"):
        L.extend(python_rows())
        L.append("")
        L.append("`bindings-python/bench/bench.py`, run twice in this run: with the abi3 wheel (`cp310-abi3`, what is "
                 "published) and with a version-specific build of the same code (`maturin build --no-default-features`: "
                 "pyo3 without `abi3-py310`), the same interpreter. Each row: koosign and the pure-Python reference timed "
                 "alternately in ~20 ms batches, best batch of each; both sides checked to give the same result first. "
                 "One-shot = the module functions (everything derived from the access key per call, on both sides); "
                 "context = `koosign.Merchant` (replay check left out by name, `store=UNCHECKED`) and a held "
                 "`ApigSigner`, against pure Python with its derived AES keys cached.")
    else:
        body = read("python.txt").strip()
        L.append("Not measured in this run." + (f" Output:\n\n```\n{body}\n```" if body else ""))
    L.append("")
    L.append("### Node binding (WebAssembly)")
    L.append("")
    if node_rows_:
        L.extend(node_table())
        L.append("")
        L.append(f"`bindings-wasm/bench.mjs` (median of alternating rounds, process CPU time). "
                 f"`.wasm`: {wasm_bytes:,} bytes." if wasm_bytes else "`bindings-wasm/bench.mjs`.")
    else:
        body = read("node.txt").strip()
        L.append("Not measured in this run." + (f" Output:\n\n```\n{body}\n```" if body else ""))
    L.append("")
    L.append("### Server under load (loopback, same run)")
    L.append("")
    if load:
        L.extend(load_rows())
        L.append("")
        L.append("`benches/load/serve_load.py`: each server in turn on a free loopback port; one instance created, then "
                 "`wrk` (1 thread, keep-alive connections; their number, the warm-up and the duration are on the Run line below) sends V2 queryInstance "
                 "notifications for it, each signed afresh with a nonce of its own (`benches/load/v2.lua`, HMAC by "
                 "OpenSSL through LuaJIT's FFI), after a warm-up. Every answer is checked (HTTP 200 and resultCode "
                 "000000). The load generator and the server share the 2 cores, so these are the figures of a "
                 "2-core box doing both, not of a server alone.")
        hdr = next((l for l in read("load.log").splitlines() if l.startswith("load: ")), "")
        if hdr:
            L.append("")
            L.append(f"Run: {hdr[6:]}.")
    else:
        L.append("Not run.")
    L.append("")
    L.append("### Soak of `koosign serve` (issue 15)")
    L.append("")
    if soak:
        L.append("| store | target rate | duration | requests | requests/s | p50 | p99 | p99.9 | max | errors | RSS start | RSS at ¼ | RSS end | RSS peak |")
        L.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
        kib = lambda k: f"{int(k) / 1024:.1f} MiB"
        L.append(f"| {soak['store']} | {soak['rate']}/s | {soak['el']} s | {int(soak['n']):,} | {soak['rps']} | {soak['p50']} ms | "
                 f"{soak['p99']} ms | {soak['p999']} ms | {soak['max']} ms | **{soak['err']}** | {kib(soak['r0'])} | "
                 f"{kib(soak['rq'])} | {kib(soak['r1'])} | {kib(soak['rp'])} |")
        L.append("")
        L.append("`scripts/soak.sh` (`cli/tests/soak.rs`): a sustained rate of freshly signed requests, one connection "
                 "each as the marketplace sends them (50 % V2 queryInstance, 40 % V2 newInstance with a new order each, "
                 "10 % V1 refreshInstance), latency from each request's scheduled start; the default SQLite replay and "
                 "instance store. Memory is flat when the end is within 10 % (or 4 MiB) of the figure at a quarter of the run.")
    else:
        body = read("soak.log").strip()
        L.append("Not measured in this run." + (f" Output:\n\n```\n{body}\n```" if body else ""))
    L.append("")
    L.append("### Cost against size")
    L.append("")
    L.append("![cost against body size and parameter count](docs/bench.svg)")
    L.append("")
    L.append("V2 verify (S2) against the body size:")
    L.append("")
    L.extend(scale_rows("scale_v2_verify", SIZES, size))
    L.append("")
    L.append("Body-Sign (S3) against the body size:")
    L.append("")
    L.extend(scale_rows("scale_body_sign", SIZES, size))
    L.append("")
    L.append("V1 verify (S1) against the number of signed parameters (each `paramNN=value-NN-abcdefghijklmnop`, "
             "plus `timeStamp`; the query also carries `authToken`, so 63 is the most koosign accepts: `MAX_PARAMS` = 64 pairs):")
    L.append("")
    L.extend(scale_rows("scale_v1_verify", PARAMS, str))
    L.append("")
    if growth:
        L.append("V1 growth (`v1_growth` pairs of the `ratios` bench, 1, 9 and 63 signed parameters, same query shape): "
                 f"each added parameter costs koosign {growth['koosign_ns_per_param']:.0f} ns and the floor "
                 f"{growth['floor_ns_per_param']:.0f} ns, a growth ratio of **{growth['growth_ratio']:.2f}×** "
                 "(goal: ≤ the ratio at 1 parameter, i.e. no faster growth than the floor's).")
        L.append("")
        L.extend(scale_rows("v1_growth", [1, 9, 63], str))
        L.append("")
    L.append("Times and ratio from the paired, interleaved measurement (`ratios` bench: median half-millisecond batch of "
             "each side); criterion's own estimates of the same points are in `target/criterion/scale_*` after a run "
             "(`scale` bench), noisier on this machine.")
    L.append("")
    L.append("### Constant-time comparison (dudect)")
    L.append("")
    if dudect:
        L.extend(dudect_rows())
        L.append("")
        L.append("`ct_compare` bench (`dudect-bencher`): Left = a forged signature equal to the right one but for the last "
                 "byte, Right = differing in the first byte, classes drawn at random, each input copied into the same "
                 "64-byte-aligned buffer before the timed call. |t| > 5 would suggest a leak *if* the A/A control stayed "
                 "below it. Reported, never asserted.")
    else:
        L.append("Not run.")
    L.append("")
    L.append("### All criterion medians of the core suite")
    L.append("")
    L.append("<details><summary>table</summary>")
    L.append("")
    L.extend(core_rows())
    L.append("")
    L.append("</details>")
    return "\n".join(L)


SKELETON = f"""# Benchmarks

{BEGIN}
{END}
"""


def main():
    svg_plot()
    text = open(MD, encoding="utf-8").read() if os.path.exists(MD) else SKELETON
    if BEGIN not in text or END not in text:
        text = SKELETON
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    with open(MD, "w", encoding="utf-8") as f:
        f.write(head + BEGIN + "\n" + generated() + "\n" + END + tail)
    print(f"wrote {MD} and {SVG}")


if __name__ == "__main__":
    main()
