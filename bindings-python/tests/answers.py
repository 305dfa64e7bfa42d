"""vectors/answers.jsonl (written by vectors/gen_answers.py with Python's
hmac alone, never by koosign): reading its cases, the stores they name, and
the outcome they expect. Shared by test_answers.py (through
``Merchant.verify``) and test_http_answers.py (through the examples over
loopback HTTP)."""

from __future__ import annotations

import base64
import json
from typing import Any, Dict, Iterator, List, Tuple

from conftest import VECTORS

import koosign

FILE = VECTORS / "answers.jsonl"

# The V2 notification's string fields the expectations name (the core's
# `Notification` fields, as core/tests/answers.rs lists them).
V2_FIELDS = (
    "activity", "orderId", "orderLineId", "businessId", "testFlag", "instanceId", "scene", "status",
    "productId", "expireTime", "trialFlag", "customerId", "customerName", "chargingMode", "skuCode",
)


def cases() -> List[Dict[str, Any]]:
    with open(FILE, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def body_of(c: Dict[str, Any]) -> bytes:
    if "body" in c:
        return str(c["body"]).encode("utf-8")
    if "body_b64" in c:
        return base64.b64decode(c["body_b64"])
    if "body_gen" in c:
        return b"".join(str(t).encode("utf-8") * int(n) for t, n in c["body_gen"])
    return b""


def headers_of(c: Dict[str, Any]) -> List[Tuple[str, str]]:
    return [(str(n), str(v)) for n, v in c["headers"]]


class Down:
    """A replay store that cannot be reached."""

    def check_and_insert(self, nonce: str, now_ms: int, expires_at_ms: int) -> bool:
        raise ConnectionError("replay store unreachable")


def store_of(c: Dict[str, Any]) -> Any:
    if c["store"].get("unavailable"):
        return Down()
    return koosign.InMemoryNonceStore(int(c["store"]["capacity"]))


def merchant_of(c: Dict[str, Any], store: Any) -> koosign.Merchant:
    p = c["policy"]
    return koosign.Merchant(
        c["access_keys"], v2_window=p["v2_window_ms"] / 1000, v1_window=p["v1_window_ms"] / 1000, store=store,
        clock=lambda: int(c["now_ms"]),
    )


def priors(c: Dict[str, Any]) -> Iterator[Dict[str, Any]]:
    for p in c.get("prior") or []:
        yield dict(p, access_keys=c["access_keys"], now_ms=c["now_ms"], policy=c["policy"], store=c["store"])


def outcome(v: koosign.Verified) -> Dict[str, Any]:
    """What a verified case expects, read from the view."""
    d = v.json()
    if v.protocol in ("v2", "kit"):
        fields = {k: d[k] for k in V2_FIELDS if k in d}
    else:
        fields = {k: val for k, val in d.items() if k != "timeStamp"}
    return {"protocol": v.protocol, "activity": v.activity, "fields": fields, "key_index": v.key_index}
