"""koosign (Rust core through the binding) against the pure-Python reference
(bindings-python/tests/pyref.py: hmac, hashlib, urllib.parse, cryptography)
for the operations a merchant runs per notification, measured in one run.

    python bindings-python/bench/bench.py            # full run (~20 s)
    python bindings-python/bench/bench.py --quick    # a short smoke run (no timing claims)
    python bindings-python/bench/bench.py --markdown FILE   # also write the table

Inputs are SCHEMES.md's: the documented V1 notification (8 parameters +
authToken), the documented V2 newInstance body, a 200-byte response for
Body-Sign, an 11-digit phone number encrypted with AES-256 (encryptType 1)
and decrypted with "auto" (derivation included in both, as each call does).
Both sides do the whole job from the raw inputs (parse, recompute, compare
in constant time, check the ±60 s window) and return the result.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import timeit
from pathlib import Path
from typing import Callable, List, Tuple

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
V2_QUERY = (
    "signature=CD8D59BB7FCF7574752B5EB0ED04B3ACF4A759DA53F24D30A79ABE45C5D1BA25"
    "&timestamp=1680508066618&nonce=50D83FDECAED6CCD8EF597F2A577950527928BA287D04E6036E92B2806FD17DA"
)
V2_NOW = 1680508070.0
RESPONSE = b'{"resultCode":"000000","resultMsg":"success.","instanceId":"' + b"i" * 138 + b'"}'
PHONE = "13800138000"
IV = "abcdefgh12345678"
PHONE_WIRE = koosign.encrypt_field(PHONE, KEY, "1", iv=IV)

Op = Tuple[str, Callable[[], object], Callable[[], object]]

OPS: List[Op] = [
    (
        "verify_v1",
        lambda: koosign.verify_v1(V1_QUERY, KEY, now=V1_NOW, max_age=300),
        lambda: pyref.verify_v1(V1_QUERY, [KEY], now=V1_NOW, max_age=300),
    ),
    (
        "verify_v2",
        lambda: koosign.verify_v2(V2_QUERY, V2_BODY, KEY, now=V2_NOW),
        lambda: pyref.verify_v2_query(V2_QUERY, V2_BODY, [KEY], now=V2_NOW, window=60.0),
    ),
    ("body_sign", lambda: koosign.body_sign(RESPONSE, KEY), lambda: pyref.body_sign(RESPONSE, KEY)),
    (
        "encrypt_field",
        lambda: koosign.encrypt_field(PHONE, KEY, "1", iv=IV),
        lambda: pyref.encrypt_field(PHONE, KEY, "1", IV),
    ),
    ("decrypt_field", lambda: koosign.decrypt_field(PHONE_WIRE, KEY), lambda: pyref.decrypt_field(PHONE_WIRE, KEY)),
]


def measure(mine: Callable[[], object], ref: Callable[[], object], repeat: int, min_time: float) -> Tuple[float, float]:
    """Best ns/call of each, the two timed alternately so that a change in
    the machine's load hits both alike."""
    timers = [timeit.Timer(mine), timeit.Timer(ref)]
    counts = [max(1, int(t.autorange()[0] * min_time / 0.2)) for t in timers]
    best = [float("inf"), float("inf")]
    for _ in range(repeat):
        for i, (t, n) in enumerate(zip(timers, counts)):
            best[i] = min(best[i], t.timeit(n) / n * 1e9)
    return best[0], best[1]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="one short repetition per op (a smoke run)")
    ap.add_argument("--markdown", type=Path, help="also write the table to this file")
    args = ap.parse_args()

    # Same results first: a benchmark of different work would mean nothing.
    assert koosign.verify_v1(V1_QUERY, KEY).key_index == pyref.verify_v1(V1_QUERY, [KEY]) == 0
    assert koosign.verify_v2(V2_QUERY, V2_BODY, KEY, now=V2_NOW).key_index == 0
    assert pyref.verify_v2_query(V2_QUERY, V2_BODY, [KEY], now=V2_NOW) == 0
    assert koosign.body_sign(RESPONSE, KEY) == pyref.body_sign(RESPONSE, KEY) and len(RESPONSE) == 200
    assert koosign.encrypt_field(PHONE, KEY, "1", iv=IV) == pyref.encrypt_field(PHONE, KEY, "1", IV) == PHONE_WIRE
    assert koosign.decrypt_field(PHONE_WIRE, KEY) == pyref.decrypt_field(PHONE_WIRE, KEY) == PHONE

    repeat, min_time = (1, 0.02) if args.quick else (7, 0.4)
    rows = []
    for name, mine, ref in OPS:
        k, r = measure(mine, ref, repeat, min_time)
        rows.append((name, k, r, r / k))

    head = "| operation | koosign (ns/call) | pure-Python reference (ns/call) | speed-up | goal ≥ 5× |\n|---|---:|---:|---:|:-:|"
    lines = [head] + [
        f"| {n} | {k:,.0f} | {r:,.0f} | {x:.1f}× | {'yes' if x >= 5 else 'no'} |" for n, k, r, x in rows
    ]
    cpu = ""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "")
    except OSError:
        pass
    info = (
        f"{datetime.date.today().isoformat()}, {cpu or platform.processor()} ({os.cpu_count()} CPUs), "
        f"CPython {platform.python_version()}, koosign {koosign.__version__}"
        + (", QUICK (not a measurement)" if args.quick else "")
    )
    table = "\n".join(lines)
    print(info)
    print(table)
    if args.markdown:
        args.markdown.write_text(info + "\n\n" + table + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
