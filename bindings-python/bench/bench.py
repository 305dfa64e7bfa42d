"""koosign (Rust core through the binding) against idiomatic pure Python
(bindings-python/tests/pyref.py: urllib.parse, hmac, hashlib, base64,
cryptography for AES, a Python SHA1PRNG) on every operation a merchant runs
— V1, V2, kit, Body-Sign, encrypt, decrypt, APIG — as one-shot functions and
through the keyed context (`koosign.Merchant`, `koosign.ApigSigner`), in one
run (issue 14: the goal is ≥ 5× on each).

    python bindings-python/bench/bench.py            # full run (~15 s)
    python bindings-python/bench/bench.py --quick    # a short smoke run (no timing claims)
    python bindings-python/bench/bench.py --markdown FILE   # also write the table
    python bindings-python/bench/bench.py --label abi3      # names the build in the output

Inputs are SCHEMES.md's: the documented V1 notification (8 parameters +
authToken), the documented V2 newInstance body (also signed as a kit
notification, x-sign headers), a 200-byte response for Body-Sign, an
11-digit phone number encrypted with AES-256 (encryptType 1) and decrypted
with "auto", the APIG order-query call with a fixed X-Sdk-Date. Both sides do
the whole job from the raw inputs (parse, recompute, compare in constant
time, check the window) and are checked to give the same results before
anything is timed.

One-shot rows: koosign's functions against pyref's, each deriving
everything from the access key per call (the AES key through SHA1PRNG
included). Context rows: a `Merchant` built once (replay check left out by
name, `store=UNCHECKED`, as the reference keeps no store either), against
the same pure Python with what a careful port would cache itself: the derived
AES keys (SHA1PRNG once); its HMAC calls stay as they are (`hmac.new` per
call is idiomatic; a copied pre-keyed `hmac` object is not faster in CPython).
The context rows need the `Merchant` of issue 13; without it they are
reported as not measured.

Each op: the two sides timed alternately in batches of about 20 ms (so that a
change of the machine's load hits both), best batch of each; ratio =
reference ÷ koosign. One `PYBENCH {json}` line per row is printed for
benches/report.py.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import secrets
import sys
import sysconfig
import time
from pathlib import Path
from typing import Callable, List, Optional, Tuple
from urllib.parse import parse_qsl, urlsplit

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

import pyref  # noqa: E402

import koosign  # noqa: E402

KEY = "testAccessKey123"
V1_PARAMS = [
    ("activity", "newInstance"),
    ("businessId", "61e834ba-7b97-4418-b8f7-e5345137278c"),
    ("customerId", "68cbc86abc2018ab880d92f36422fa0e"),
    ("expireTime", "20200727153156"),
    ("orderId", "CS1906666666ABCDE"),
    ("productId", "00301-666666-0--0"),
    ("testFlag", "1"),
    ("timeStamp", "20200727073711903"),
]
V1_QUERY = koosign.build_v1_query(V1_PARAMS, KEY)
V1_NOW = 1595835431.903
V2_BODY = (
    b'{"activity":"newInstance","businessId":"87b94795-0603-4e24-8ae5-69420d60e3c8",'
    b'"orderId":"CS2211181819B4LVS","orderLineId":"CS2211181819B4LVS-000001","testFlag":"1"}'
)
V2_SIG = "CD8D59BB7FCF7574752B5EB0ED04B3ACF4A759DA53F24D30A79ABE45C5D1BA25"
V2_TS = "1680508066618"
V2_NONCE = "50D83FDECAED6CCD8EF597F2A577950527928BA287D04E6036E92B2806FD17DA"
V2_QUERY = f"signature={V2_SIG}&timestamp={V2_TS}&nonce={V2_NONCE}"
V2_NOW = 1680508070.0
KIT_SIG = pyref.sign_v2(V2_BODY, KEY, V2_NONCE, V2_TS, kit=True)
KIT_HEADERS = {"x-sign": KIT_SIG, "x-timestamp": V2_TS, "x-nonce": V2_NONCE}
RESPONSE = b'{"resultCode":"000000","resultMsg":"success.","instanceId":"' + b"i" * 138 + b'"}'
PHONE = "13800138000"
IV = "abcdefgh12345678"
PHONE_WIRE = koosign.encrypt_field(PHONE, KEY, "1", iv=IV)
AK, SK = "QTWAOYTTINDUT2QVKYUC", "MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc"
APIG_URL = ("https://mkt.myhuaweicloud.com/api/mkp-openapi-public/global/v1/order/query"
            "?orderId=CS2211181819B4LVS&orderLineId=CS2211181819B4LVS-000001")
APIG_HEADERS = {"X-Sdk-Date": "20230403T075426Z"}


def ref_apig() -> str:
    """What a pure-Python client does per call: split the URL, sign."""
    u = urlsplit(APIG_URL)
    return pyref.apig_sign("GET", u.netloc, u.path, parse_qsl(u.query, keep_blank_values=True),
                           APIG_HEADERS, b"", AK, SK)[1]


class PyContext:
    """The pure-Python counterpart of the context: the derived AES keys cached."""

    def __init__(self, key: str) -> None:
        self.key = key
        self.k256 = pyref.derive_key(key, 256)
        self.k128 = pyref.derive_key(key, 128)

    def encrypt(self, plaintext: str) -> str:
        from cryptography.hazmat.primitives import padding
        from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
        import base64

        iv = secrets.token_hex(8)
        padder = padding.PKCS7(128).padder()
        data = padder.update(plaintext.encode()) + padder.finalize()
        enc = Cipher(algorithms.AES(self.k256), modes.CBC(iv.encode())).encryptor()
        return iv + base64.b64encode(enc.update(data) + enc.finalize()).decode()

    def decrypt(self, wire: str) -> str:
        for k in (self.k256, self.k128):  # "auto": AES-256 first, as pyref.decrypt_field
            try:
                return pyref._decrypt(wire, k)
            except (ValueError, UnicodeDecodeError):
                continue
        raise pyref.RefError("decrypt")


# (row, koosign callable or None (not available), reference callable, why not available)
Row = Tuple[str, Optional[Callable[[], object]], Callable[[], object], str]


def one_shot_rows() -> List[Row]:
    return [
        ("verify_v1", lambda: koosign.verify_v1(V1_QUERY, KEY, now=V1_NOW, max_age=300),
         lambda: pyref.verify_v1(V1_QUERY, [KEY], now=V1_NOW, max_age=300), ""),
        ("verify_v2", lambda: koosign.verify_v2(V2_QUERY, V2_BODY, KEY, now=V2_NOW),
         lambda: pyref.verify_v2_query(V2_QUERY, V2_BODY, [KEY], now=V2_NOW, window=60.0), ""),
        ("verify_kit", lambda: koosign.verify_kit(KIT_HEADERS, V2_BODY, KEY, now=V2_NOW),
         lambda: pyref.verify_v2({"signature": KIT_HEADERS["x-sign"], "timestamp": KIT_HEADERS["x-timestamp"],
                                  "nonce": KIT_HEADERS["x-nonce"]}, V2_BODY, [KEY], now=V2_NOW, kit=True), ""),
        ("body_sign", lambda: koosign.body_sign(RESPONSE, KEY), lambda: pyref.body_sign(RESPONSE, KEY), ""),
        ("encrypt_field", lambda: koosign.encrypt_field(PHONE, KEY, "1", iv=IV),
         lambda: pyref.encrypt_field(PHONE, KEY, "1", IV), ""),
        ("decrypt_field", lambda: koosign.decrypt_field(PHONE_WIRE, KEY), lambda: pyref.decrypt_field(PHONE_WIRE, KEY), ""),
        ("apig_sign", lambda: koosign.ApigSigner(AK, SK).sign("GET", APIG_URL, APIG_HEADERS)["Authorization"],
         ref_apig, ""),
    ]


def context_rows() -> List[Row]:
    py = PyContext(KEY)
    signer = koosign.ApigSigner(AK, SK)
    rows: List[Row] = []
    merchant = getattr(koosign, "Merchant", None)
    unchecked = getattr(koosign, "UNCHECKED", None)
    m = None
    why = ""
    if merchant is None or unchecked is None:
        why = "koosign.Merchant not in this build"
    else:
        try:
            m = merchant(KEY, store=unchecked)
        except Exception as e:  # noqa: BLE001 - reported in the table
            why = f"Merchant(...) failed: {type(e).__name__}: {e}"

    def ctx(f: Callable[[object], object]) -> Optional[Callable[[], object]]:
        return None if m is None else (lambda: f(m))

    v1_ms, v2_ms = round(V1_NOW * 1000), round(V2_NOW * 1000)
    rows.append(("verify_v1", ctx(lambda m: m.verify("GET", V1_QUERY, None, b"", now_ms=v1_ms)),
                 lambda: pyref.verify_v1(V1_QUERY, [KEY], now=V1_NOW, max_age=300), why))
    rows.append(("verify_v2", ctx(lambda m: m.verify("POST", V2_QUERY, None, V2_BODY, now_ms=v2_ms)),
                 lambda: pyref.verify_v2_query(V2_QUERY, V2_BODY, [KEY], now=V2_NOW, window=60.0), why))
    rows.append(("verify_kit", ctx(lambda m: m.verify("POST", "", KIT_HEADERS, V2_BODY, now_ms=v2_ms)),
                 lambda: pyref.verify_v2({"signature": KIT_SIG, "timestamp": V2_TS, "nonce": V2_NONCE}, V2_BODY, [KEY],
                                         now=V2_NOW, kit=True), why))
    rows.append(("body_sign", ctx(lambda m: m.body_sign(RESPONSE)), lambda: pyref.body_sign(RESPONSE, KEY), why))
    rows.append(("encrypt_field", ctx(lambda m: m.encrypt(PHONE, "1")), lambda: py.encrypt(PHONE), why))
    rows.append(("decrypt_field", ctx(lambda m: m.decrypt(PHONE_WIRE)), lambda: py.decrypt(PHONE_WIRE), why))
    rows.append(("apig_sign", lambda: signer.sign("GET", APIG_URL, APIG_HEADERS)["Authorization"], ref_apig, ""))
    return rows


def check_same_results(ctx_rows: List[Row]) -> List[Row]:
    """A benchmark of different work would mean nothing: both sides first
    give the same answer. A context row whose koosign side fails is kept,
    marked, not timed."""
    assert koosign.verify_v1(V1_QUERY, KEY).key_index == pyref.verify_v1(V1_QUERY, [KEY]) == 0
    assert koosign.verify_v2(V2_QUERY, V2_BODY, KEY, now=V2_NOW).key_index == 0
    assert pyref.verify_v2_query(V2_QUERY, V2_BODY, [KEY], now=V2_NOW) == 0
    assert koosign.verify_kit(KIT_HEADERS, V2_BODY, KEY, now=V2_NOW).key_index == 0
    assert koosign.body_sign(RESPONSE, KEY) == pyref.body_sign(RESPONSE, KEY) and len(RESPONSE) == 200
    assert koosign.encrypt_field(PHONE, KEY, "1", iv=IV) == pyref.encrypt_field(PHONE, KEY, "1", IV) == PHONE_WIRE
    assert koosign.decrypt_field(PHONE_WIRE, KEY) == pyref.decrypt_field(PHONE_WIRE, KEY) == PHONE
    assert koosign.ApigSigner(AK, SK).sign("GET", APIG_URL, APIG_HEADERS)["Authorization"] == ref_apig()
    py = PyContext(KEY)
    expect = {
        "verify_v1": lambda v: v.key_index == 0 and v.protocol == "v1",
        "verify_v2": lambda v: v.key_index == 0 and v.protocol == "v2",
        "verify_kit": lambda v: v.key_index == 0 and v.protocol == "kit",
        "body_sign": lambda v: v == pyref.body_sign(RESPONSE, KEY),
        "encrypt_field": lambda v: py.decrypt(v) == PHONE and koosign.decrypt_field(v, KEY) == PHONE,
        "decrypt_field": lambda v: v == PHONE,
        "apig_sign": lambda v: v == ref_apig(),
    }
    assert py.decrypt(py.encrypt(PHONE)) == PHONE == koosign.decrypt_field(py.encrypt(PHONE), KEY)
    out = []
    for name, mine, ref, why in ctx_rows:
        if mine is not None:
            try:
                ok = expect[name](mine())
                why = "" if ok else "different result from the reference"
            except Exception as e:  # noqa: BLE001
                why = f"{type(e).__name__}: {e}"
            if why:
                mine = None
        out.append((name, mine, ref, why))
    return out


def measure(mine: Callable[[], object], ref: Callable[[], object], rounds: int, batch_s: float) -> Tuple[float, float]:
    """Best ns/call of each side, the two timed alternately in batches of
    about batch_s seconds."""
    def calls_per_batch(f: Callable[[], object]) -> int:
        n = 1
        while True:
            t = time.perf_counter()
            for _ in range(n):
                f()
            dt = time.perf_counter() - t
            if dt > batch_s / 10 or n > 1 << 22:
                return max(1, int(n * batch_s / max(dt, 1e-9)))
            n *= 4

    fs = (mine, ref)
    ns = [calls_per_batch(f) for f in fs]
    best = [float("inf"), float("inf")]
    for _ in range(rounds):
        for i, (f, n) in enumerate(zip(fs, ns)):
            r = range(n)
            t = time.perf_counter_ns()
            for _ in r:
                f()
            best[i] = min(best[i], (time.perf_counter_ns() - t) / n)
    return best[0], best[1]


def build_kind() -> str:
    """abi3 or version-specific, from the extension module's file name."""
    name = Path(koosign._koosign.__file__).name  # type: ignore[attr-defined]
    return "abi3" if ".abi3." in name else ("version-specific" if sysconfig.get_config_var("EXT_SUFFIX") in name else name)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="one short round per op (a smoke run)")
    ap.add_argument("--markdown", type=Path, help="also write the table to this file")
    ap.add_argument("--label", help="the build's name in the output (default: abi3 / version-specific, from the module)")
    args = ap.parse_args()

    kind = args.label or build_kind()
    rows = [("one-shot",) + r for r in one_shot_rows()] + [("context",) + r for r in check_same_results(context_rows())]
    rounds, batch_s = (1, 0.002) if args.quick else (12, 0.02)
    results = []
    for path, name, mine, ref, why in rows:
        if mine is None:
            results.append({"path": path, "op": name, "not_measured": why})
            continue
        k, r = measure(mine, ref, rounds, batch_s)
        results.append({"path": path, "op": name, "koosign_ns": round(k, 1), "ref_ns": round(r, 1), "speedup": round(r / k, 3)})

    cpu = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "")
    except OSError:
        pass
    info = (
        f"{datetime.date.today().isoformat()}, {cpu or platform.processor()} ({os.cpu_count()} CPUs), "
        f"CPython {platform.python_version()}, koosign {koosign.__version__} ({kind} build, "
        f"{Path(koosign._koosign.__file__).name})"  # type: ignore[attr-defined]
        + (", QUICK (not a measurement)" if args.quick else "")
    )
    lines = ["| path | operation | koosign (ns/call) | pure Python (ns/call) | speed-up | goal ≥ 5× |",
             "|---|---|---:|---:|---:|:-:|"]
    for x in results:
        if "not_measured" in x:
            lines.append(f"| {x['path']} | {x['op']} | — | — | not measured: {x['not_measured']} | |")
        else:
            lines.append(f"| {x['path']} | {x['op']} | {x['koosign_ns']:,.0f} | {x['ref_ns']:,.0f} | {x['speedup']:.1f}× "
                         f"| {'met' if x['speedup'] >= 5 else '**not met**'} |")
    table = "\n".join(lines)
    print(info)
    print(table)
    for x in results:
        print("PYBENCH " + json.dumps(dict(x, build=kind, python=platform.python_version(), quick=args.quick)))
    if args.markdown:
        args.markdown.write_text(info + "\n\n" + table + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
