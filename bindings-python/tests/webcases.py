"""Requests and checks shared by the Flask, FastAPI and Django tests: each
framework's own test client sends them; the answers are checked the way the
marketplace checks them (HTTP 200, JSON, Body-Sign over the exact bytes)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, List, Optional, Tuple
from urllib.parse import quote

import koosign

OLD_KEY = "old-access-key"
KEY = "merchant-access-key-密钥"
NOW = 1_700_000_000.0
TS = str(int(NOW * 1000) - 1500)
V1_TS = "20231114221320000"  # NOW - 0 s, yyyyMMddHHmmssSSS UTC
NOW_MS = int(NOW * 1000)


def clock() -> int:
    """The merchants' clock in these tests (Unix ms)."""
    return NOW_MS

# A body with insignificant whitespace and escapes: re-serialising it would break the signature.
BODY = '{ "activity" : "newInstance",\n  "orderId":"CS1", "orderLineId":"CS1-1", "businessId":"b\\u00e9", "testFlag":"1", "note":"a+b c" }'.encode()


@dataclass
class Req:
    method: str
    path: str
    query: str = ""
    body: bytes = b""
    headers: Dict[str, str] = field(default_factory=dict)


def v2(
    nonce: str, body: bytes = BODY, key: str = KEY, ts: str = TS, sig: Optional[str] = None, path: str = "/v2"
) -> Req:
    sig = sig if sig is not None else koosign.sign_v2(body, key, nonce, ts)
    return Req("POST", path, f"signature={sig}&timestamp={ts}&nonce={quote(nonce, safe='')}", body, {"Content-Type": "application/json"})


def v2_digit_shift(nonce: str) -> Req:
    """Issue 11: the signature of (nonce, TS) sent with the nonce's last digit
    moved into the timestamp (a leading zero): the same signed bytes."""
    assert nonce[-1] == "0"
    return v2(nonce[:-1], ts="0" + TS, sig=koosign.sign_v2(BODY, KEY, nonce, TS))


def kit(nonce: str, body: bytes = BODY, key: str = KEY, ts: str = TS, sig: Optional[str] = None) -> Req:
    sig = sig if sig is not None else koosign.sign_v2(body, key, nonce, ts, kit=True)
    return Req("POST", "/kit", "", body, {"x-sign": sig, "x-timestamp": ts, "x-nonce": nonce, "Content-Type": "application/json"})


def v1(key: str = KEY, ts: str = V1_TS) -> Req:
    params = [("activity", "newInstance"), ("orderId", "CS1"), ("email", "a+b@example.com"), ("timeStamp", ts)]
    return Req("GET", "/v1", koosign.build_v1_query(params, key))


def v1_merged() -> Req:
    """Issue 11: `orderLineId=L1%26testFlag%3D1` with the token of
    `orderLineId=L1&testFlag=1` (the same canonical string)."""
    genuine = [("activity", "newInstance"), ("orderId", "CS2"), ("orderLineId", "L1"), ("testFlag", "1"), ("timeStamp", V1_TS)]
    token = quote(koosign.v1_auth_token(genuine, KEY), safe="")
    return Req("GET", "/v1", f"activity=newInstance&orderId=CS2&orderLineId=L1%26testFlag%3D1&timeStamp={V1_TS}&authToken={token}")


class DownStore:
    """A nonce store that cannot be reached (as a Redis server that is down)."""

    def check_and_insert(self, nonce: str, now_ms: int, expires_at_ms: int) -> bool:
        raise ConnectionError("redis://:hunter2@10.0.0.1:6379 is down")


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
        # rotation: every key verifies, key 0 signs every answer (the core's rule)
        ("v2 rotation: old key", v2("n2", key=OLD_KEY), "000000", KEY),
        ("v2 forged", v2("n3", sig="A" * 64), "000001", KEY),
        ("v2 forged non-ASCII", v2("n4", sig="%C3%A9" * 64), "000001", KEY),
        ("v2 body re-serialised", v2("n5", body=json.dumps(json.loads(BODY)).encode(), sig=koosign.sign_v2(BODY, KEY, "n5", TS)), "000001", KEY),
        ("v2 stale", v2("n6", ts=str(int(NOW * 1000) - 61_000)), "000001", KEY),
        # SCHEMES.md "Which code a refusal gets": anything wrong before authentication
        # is 000001, a missing or malformed authentication parameter included (these
        # two were 000002 before issue 11)
        ("v2 missing nonce", Req("POST", "/v2", f"signature={'A' * 64}&timestamp={TS}", BODY), "000001", KEY),
        ("v2 bad timestamp", v2("n7", ts="yesterday"), "000001", KEY),
        ("v2 nonce not printable ASCII", v2("n 8"), "000001", KEY),
        # issue 11: the digit-shift replay, before and after the genuine request
        ("v2 digit shift, before", v2_digit_shift("D170"), "000001", KEY),
        ("v2 digit shift: the genuine one", v2("D170"), "000000", KEY),
        ("v2 digit shift, after", v2_digit_shift("D170"), "000001", KEY),
        ("v2 digit shift: the genuine replayed", v2("D170"), "000001", KEY),
        ("v2 replay store full: first", v2("f1", path="/v2full"), "000000", KEY),
        ("v2 replay store full", v2("f2", path="/v2full"), "000005", KEY),
        ("v2 replay store down", v2("d1", path="/v2down"), "000005", KEY),
        ("kit ok", kit("k1"), "000000", KEY),
        ("kit replay", kit("k1"), "000001", KEY),
        ("kit forged", Req("POST", "/kit", "", BODY, {"x-sign": "é" * 32, "x-timestamp": TS, "x-nonce": "k2"}), "000001", KEY),
        ("kit digit shift", kit("K17", ts="0" + TS, sig=koosign.sign_v2(BODY, KEY, "K170", TS, kit=True)), "000001", KEY),
        ("kit body starts with a digit", kit("k3", body=b"1" + BODY), "000001", KEY),
        ("v1 merged parameters", v1_merged(), "000001", KEY),
        ("v1 stale (default window 300 s)", v1(ts="20231114220819000"), "000001", KEY),
        ("v1 ok", v1(), "000000", KEY),
        ("v1 replay (authToken in the replay store)", v1(), "000001", KEY),
        ("v1 replay, + sent raw", Req("GET", "/v1", v1().query.replace("%2B", "+")), "000001", KEY),
        ("v1 forged", Req("GET", "/v1", v1().query.replace("authToken=", "authToken=A")), "000001", KEY),
        ("v1 inside the window", v1(ts="20231114221020000"), "000000", KEY),
    ]


def check_payload(what: str, code: str, payload: Dict[str, Any]) -> None:
    """The payload of an answer beyond its code: a success is the view's; a
    refusal is exactly the core's signed refusal of that code (its fixed
    resultMsg: no detail, so the store's error, which may carry a URL with
    a password, is logged, never sent)."""
    if code == "000000":
        assert payload == expected_ok_payload(what), what
    else:
        assert payload == json.loads(koosign.Merchant(KEY).refusal(code).body), (what, payload)
        assert "hunter2" not in json.dumps(payload)


def expected_ok_payload(what: str) -> Dict[str, Any]:
    if what.startswith("v1"):
        return {"resultCode": "000000", "resultMsg": "success.", "activity": "newInstance", "email": "a+b@example.com"}
    return {"resultCode": "000000", "resultMsg": "success.", "orderId": "CS1", "note": "a+b c"}
