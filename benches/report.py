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
ratios = {(r["group"], r["a"], r["b"]): r for r in jsonl("ratios.log", "RATIO")}
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
for log in ("core.log", "scale.log"):
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
    ("V1 verify, documented notification (9 query parameters)", "v1_verify", "koosign", "floor", 1.2,
     "1 HMAC-SHA256 (key + timeStamp) over the canonical string"),
    ("V2 verify, documented newInstance body", "v2_verify", "koosign", "floor", 1.1,
     "2 HMAC-SHA256: inner over the body, outer over key+nonce+timestamp+inner"),
    ("Body-Sign, 200-byte response", "body_sign_200B", "koosign", "floor", None, "1 HMAC-SHA256 over the body"),
    ("APIG signing, query-order call", "apig_sign_query_order", "koosign", "floor", None,
     "SHA-256(body) + SHA-256(canonical request) + HMAC(string to sign)"),
    ("Field encrypt AES-128, cached key (`FieldKey`)", "field_encrypt_aes128", "cached", "floor", 1.5,
     "1 AES-CBC block (key schedule done once) + Base64"),
    ("Field encrypt AES-256, cached key (`FieldKey`)", "field_encrypt_aes256", "cached", "floor", 1.5,
     "1 AES-CBC block (key schedule done once) + Base64"),
    ("Field decrypt AES-128, cached key (`FieldCipher`)", "field_decrypt_aes128", "cached", "floor", None,
     "Base64 decode + 1 AES-CBC block + unpad"),
    ("Field decrypt AES-256, cached key (`FieldCipher`)", "field_decrypt_aes256", "cached", "floor", None,
     "Base64 decode + 1 AES-CBC block + unpad"),
    ("(floor with the AES key schedule run per call) AES-128", "field_encrypt_aes128", "floor_keyed", "floor", None,
     "what keying the cipher on every call costs"),
    ("(floor with the AES key schedule run per call) AES-256", "field_encrypt_aes256", "floor_keyed", "floor", None,
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
    ("Kit (S2b) verify, documented body", "kit_verify", "koosign", "floor", 1.1,
     "1 HMAC-SHA256 over key+nonce+timestamp+body"),
    ("Licence (S5) verify, documented body", "licence_verify", "koosign", "floor", 1.1,
     "1 HMAC-SHA256 over ts=…&nonce=…&body=…"),
    ("(keyed floor ÷ floor) kit verify", "kit_verify", "floor_prekeyed", "floor", None, ""),
    ("(keyed floor ÷ floor) licence verify", "licence_verify", "floor_prekeyed", "floor", None, ""),
]


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
        rows.append(
            f"| {label} | {ns(r['a_ns'])} | {ns(r['b_ns'])} | **{r['ratio']:.2f}×** ({r['p25']:.2f}–{r['p75']:.2f}) "
            f"| {r['ratio_of_min']:.2f}× | {('≤ ' + rx(goal, 1)) if goal else ''} | {verdict} |")
    return rows


def floor_rows():
    rows = ["| floor | what it is |", "|---|---|"]
    seen = set()
    for label, g, a, b, goal, what in GOALS:
        if (g, b) in seen or a == "floor_keyed":
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
        goal = {"scale_v2_verify": (1.1, "V2 verify goal 1.1×"), "scale_v1_verify": (1.2, "V1 verify goal 1.2×")}
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
    L.append("### Python and Node bindings")
    L.append("")
    for name, path, txt in (("Python", "bindings-python/bench/bench.py", "python.txt"), ("Node (WASM)", "bindings-wasm/bench.mjs", "node.txt")):
        body = read(txt).strip()
        if body:
            L.append(f"{name} (`{path}`, output of this run):")
            L.append("")
            L.append("```")
            L.extend(body.splitlines())
            L.append("```")
        else:
            L.append(f"{name}: `{path}` did not exist when this run was made; see the binding's own BENCH.md.")
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
