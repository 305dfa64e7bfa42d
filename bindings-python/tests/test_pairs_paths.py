"""Issue 14: an exact `dict` of headers (or params, credentials) is read in
place (`PyDict_Next`) instead of through `items()`. The old path is kept as
the oracle: the same pairs in a list (what `items()` gives) and a `dict`
subclass (which still goes through its own `items()`) must give exactly the
same verdict, error class, code and message as the plain `dict`, on valid
and on hostile inputs."""

from __future__ import annotations

from typing import Any, Callable, Dict, List, Tuple

import pytest
from conftest import ACCESS_KEY, V2_BODY, V2_NONCE, V2_NOW

import koosign

KIT_SIG = koosign.sign_v2(V2_BODY, ACCESS_KEY, V2_NONCE, "1680508066618", kit=True)
V2_TS = "1680508066618"
NOW_MS = round(V2_NOW * 1000)


class SubDict(dict):  # type: ignore[type-arg]
    """A dict subclass: not exact, so read through `items()` as before."""


class Reordered(dict):  # type: ignore[type-arg]
    """A dict subclass whose `items()` says something else than its entries:
    `items()` is what counts for a subclass (unchanged behaviour)."""

    def items(self):  # type: ignore[override]
        return list(reversed(list(super().items())))


def outcome(call: Callable[[], Any]) -> Tuple[str, Any]:
    try:
        v = call()
    except Exception as e:  # noqa: BLE001 - compared as (class, code, message)
        return ("raise", (type(e).__name__, getattr(e, "code", None), str(e)))
    if isinstance(v, koosign.Verified):
        return ("ok", (v.protocol, v.activity, v.key_index, v.timestamp_ms, v.replay_key, v.replay_expires_ms))
    if isinstance(v, koosign.VerifiedV2):
        return ("ok", (v.scheme, v.key_index, v.timestamp_ms, v.nonce))
    return ("ok", v)


def header_cases() -> List[Dict[Any, Any]]:
    good = {"x-sign": KIT_SIG, "x-timestamp": V2_TS, "x-nonce": V2_NONCE}
    cases: List[Dict[Any, Any]] = [
        good,
        {k.upper(): v for k, v in good.items()},
        {k.encode(): v.encode() for k, v in good.items()},
        dict(good, **{"x-sign": KIT_SIG.lower()}),
        dict(good, **{"x-sign": "0" * 64}),
        dict(good, **{"x-timestamp": "1"}),
        dict(good, **{"x-timestamp": "nope"}),
        {"x-sign": KIT_SIG, "x-timestamp": V2_TS},
        {},
        {"x-sign": KIT_SIG, "X-Sign": KIT_SIG, "x-timestamp": V2_TS, "x-nonce": V2_NONCE},
        {b"x-sign": b"\xff" * 64, "x-timestamp": V2_TS, "x-nonce": V2_NONCE},
        {"x-sign": "\ud800", "x-timestamp": V2_TS, "x-nonce": V2_NONCE},
        {"x-sign": 1, "x-timestamp": V2_TS, "x-nonce": V2_NONCE},
        {"x-sign": None, "x-timestamp": V2_TS, "x-nonce": V2_NONCE},
        {1: KIT_SIG, "x-timestamp": V2_TS, "x-nonce": V2_NONCE},
        {("x-sign",): KIT_SIG},
        {"x-sign": bytearray(KIT_SIG.encode()), "x-timestamp": V2_TS, "x-nonce": V2_NONCE},
        {"x-nonce": "{" + V2_NONCE, "x-sign": KIT_SIG, "x-timestamp": V2_TS},
        dict(good, **{"content-type": "application/json", "x-other": "a" * 5000}),
    ]
    return cases


@pytest.mark.parametrize("headers", header_cases(), ids=lambda h: repr(h)[:60])
def test_dict_headers_as_items(headers: Dict[Any, Any]) -> None:
    m = koosign.Merchant(ACCESS_KEY, store=koosign.UNCHECKED)
    for call in (
        lambda h: koosign.verify_kit(h, V2_BODY, ACCESS_KEY, now=V2_NOW),
        lambda h: m.verify("POST", "", h, V2_BODY, now_ms=NOW_MS),
        lambda h: koosign.check_response(200, h, b"{}", ACCESS_KEY),
    ):
        want = outcome(lambda: call(list(headers.items())))
        assert outcome(lambda: call(headers)) == want
        assert outcome(lambda: call(SubDict(headers))) == want


def test_dict_subclass_items_still_counts() -> None:
    m = koosign.Merchant(ACCESS_KEY, store=koosign.UNCHECKED)
    h = Reordered({"x-sign": KIT_SIG, "x-timestamp": V2_TS, "x-nonce": V2_NONCE})
    assert outcome(lambda: m.verify("POST", "", h, V2_BODY, now_ms=NOW_MS)) == outcome(
        lambda: m.verify("POST", "", list(reversed(list(dict(h).items()))), V2_BODY, now_ms=NOW_MS)
    )


def test_dict_params_and_credentials_as_items() -> None:
    params = {"activity": "newInstance", "orderId": "CS1", "timeStamp": "20200727073711903"}
    assert koosign.build_v1_query(params, ACCESS_KEY) == koosign.build_v1_query(list(params.items()), ACCESS_KEY)
    assert koosign.v1_auth_token(params, ACCESS_KEY) == koosign.v1_auth_token(list(params.items()), ACCESS_KEY)
    bad = {"activity": 3, "timeStamp": "20200727073711903"}
    assert outcome(lambda: koosign.build_v1_query(bad, ACCESS_KEY)) == outcome(
        lambda: koosign.build_v1_query(list(bad.items()), ACCESS_KEY)
    )
    signer = koosign.ApigSigner("AK", "SK")
    url = "https://example.com/p?a=1"
    hdrs = {"X-Sdk-Date": "20230403T075426Z", "Content-Type": "application/json"}
    a = signer.sign("GET", url, hdrs, params={"b": "2"})
    b = signer.sign("GET", url, list(hdrs.items()), params=[("b", "2")])
    assert dict(a) == dict(b) and a.canonical_request == b.canonical_request
    signed = dict(hdrs, **a)
    creds = {"AK": "SK", "AK2": "SK2"}
    assert outcome(lambda: koosign.verify_apig("GET", url + "&b=2", signed, b"", creds)) == outcome(
        lambda: koosign.verify_apig("GET", url + "&b=2", list(signed.items()), b"", list(creds.items()))
    )
