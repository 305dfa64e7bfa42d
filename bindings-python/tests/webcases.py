"""Requests and checks shared by the Flask, FastAPI and Django tests: each
framework's own test client sends them; the answers are checked the way the
marketplace checks them (HTTP 200, JSON, Body-Sign over the exact bytes)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional, Tuple

import koosign

OLD_KEY = "old-access-key"
KEY = "merchant-access-key-密钥"
NOW = 1_700_000_000.0
TS = str(int(NOW * 1000) - 1500)

# A body with insignificant whitespace and escapes: re-serialising it would break the signature.
BODY = '{ "activity" : "newInstance",\n  "orderId":"CS1", "orderLineId":"CS1-1", "businessId":"b\\u00e9", "testFlag":"1", "note":"a+b c" }'.encode()


@dataclass
class Req:
    method: str
    path: str
    query: str = ""
    body: bytes = b""
    headers: Dict[str, str] = field(default_factory=dict)


def v2(nonce: str, body: bytes = BODY, key: str = KEY, ts: str = TS, sig: Optional[str] = None) -> Req:
    sig = sig if sig is not None else koosign.sign_v2(body, key, nonce, ts)
    return Req("POST", "/v2", f"signature={sig}&timestamp={ts}&nonce={nonce}", body, {"Content-Type": "application/json"})


def kit(nonce: str, body: bytes = BODY, key: str = KEY) -> Req:
    sig = koosign.sign_v2(body, key, nonce, TS, kit=True)
    return Req("POST", "/kit", "", body, {"x-sign": sig, "x-timestamp": TS, "x-nonce": nonce, "Content-Type": "application/json"})


def v1(key: str = KEY) -> Req:
    params = [("activity", "newInstance"), ("orderId", "CS1"), ("email", "a+b@example.com"), ("timeStamp", "20231114221320000")]
    return Req("GET", "/v1", koosign.build_v1_query(params, key))


def check_answer(
    status: int, headers: Iterable[Tuple[Any, Any]], content: bytes, code: str, key: str = KEY
) -> Dict[str, Any]:
    """HTTP 200, JSON, a header named exactly Body-Sign (as sent, case
    included) whose signature matches the exact bytes."""
    assert status == 200, (status, content)
    pairs = [(n.decode("latin-1") if isinstance(n, bytes) else n, v.decode("latin-1") if isinstance(v, bytes) else v) for n, v in headers]
    found = [(n, v) for n, v in pairs if n.lower() == "body-sign"]
    assert [n for n, _ in found] == ["Body-Sign"], found
    assert koosign.verify_body_sign(found[0][1], content, key) == 0
    payload: Dict[str, Any] = json.loads(content)
    assert payload["resultCode"] == code, payload
    return payload


def scenario() -> List[Tuple[str, Req, str, str]]:
    """(what, request, expected resultCode, key that signs the answer)."""
    return [
        ("v2 ok", v2("n1"), "000000", KEY),
        ("v2 replay", v2("n1"), "000001", KEY),
        ("v2 rotation: old key", v2("n2", key=OLD_KEY), "000000", OLD_KEY),
        ("v2 forged", v2("n3", sig="A" * 64), "000001", KEY),
        ("v2 forged non-ASCII", v2("n4", sig="%C3%A9" * 64), "000001", KEY),
        ("v2 body re-serialised", v2("n5", body=json.dumps(json.loads(BODY)).encode(), sig=koosign.sign_v2(BODY, KEY, "n5", TS)), "000001", KEY),
        ("v2 stale", v2("n6", ts=str(int(NOW * 1000) - 61_000)), "000001", KEY),
        ("v2 missing nonce", Req("POST", "/v2", f"signature={'A' * 64}&timestamp={TS}", BODY), "000002", KEY),
        ("v2 bad timestamp", v2("n7", ts="yesterday"), "000002", KEY),
        ("kit ok", kit("k1"), "000000", KEY),
        ("kit replay", kit("k1"), "000001", KEY),
        ("kit forged", Req("POST", "/kit", "", BODY, {"x-sign": "é" * 32, "x-timestamp": TS, "x-nonce": "k2"}), "000001", KEY),
        ("v1 ok", v1(), "000000", KEY),
        ("v1 forged", Req("GET", "/v1", v1().query.replace("authToken=", "authToken=A")), "000001", KEY),
    ]


def expected_ok_payload(what: str) -> Dict[str, Any]:
    if what.startswith("v1"):
        return {"resultCode": "000000", "resultMsg": "success.", "activity": "newInstance", "email": "a+b@example.com"}
    return {"resultCode": "000000", "resultMsg": "success.", "orderId": "CS1", "note": "a+b c"}
