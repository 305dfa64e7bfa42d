"""koosign.Merchant's endpoint defaults (issue 11, issue 13): the V1 window
±5 min unless left out by name (koosign.UNCHECKED, never None), V1 tokens in
the same replay store as V2 nonces (the core's replay key), the refusal
codes and bodies of the core, and a failing store answered 000005, signed,
through the helpers."""

from __future__ import annotations

import json
from typing import Any, List, Tuple

import pytest
from webcases import KEY, NOW, NOW_MS, DownStore, v1, v2

import koosign


def _verify(m: koosign.Merchant, req: Any, **kw: Any) -> koosign.Verified:
    return m.verify(req.method, req.query, list(req.headers.items()), req.body, **kw)


def test_default_windows_are_the_cores() -> None:
    m = koosign.Merchant(KEY)
    assert m.v1_window == koosign.V1_DEFAULT_WINDOW_MS / 1000 == 300.0
    assert m.v2_window == m.licence_window == koosign.DEFAULT_WINDOW_MS / 1000 == 60.0
    with pytest.raises(koosign.StaleTimestamp) as e:
        _verify(m, v1(), now_ms=NOW_MS + 301_000)
    assert e.value.result_code == "000001"  # type: ignore[attr-defined]
    assert _verify(m, v1(), now_ms=NOW_MS + 299_000).timestamp_ms == NOW_MS


def test_leaving_a_check_out_is_explicit() -> None:
    for bad in (-1, float("nan"), "300", True):
        with pytest.raises((TypeError, ValueError)):
            koosign.Merchant(KEY, v1_window=bad)
    old = koosign.Merchant(KEY, v1_window=koosign.UNCHECKED, clock=lambda: NOW_MS + 86_400_000 * 365)
    assert isinstance(old.v1_window, koosign.Unchecked)
    assert _verify(old, v1()).activity == "newInstance"
    # no window is not no replay protection
    with pytest.raises(koosign.ReplayedNonce):
        _verify(old, v1())
    # ... which is left out by name too
    assert _verify(old, v1(), store=koosign.UNCHECKED).activity == "newInstance"


def test_v1_tokens_and_v2_nonces_share_one_store() -> None:
    seen: List[Tuple[str, int, int]] = []

    class Store:
        inner = koosign.InMemoryNonceStore()

        def check_and_insert(self, nonce: str, now_ms: int, expires_at_ms: int) -> bool:
            seen.append((nonce, now_ms, expires_at_ms))
            return self.inner.check_and_insert(nonce, now_ms, expires_at_ms)

    store = Store()
    m = koosign.Merchant(KEY, store=store, clock=lambda: NOW_MS)
    assert m.store is store
    a = _verify(m, v1())
    b = _verify(m, v2("shared-1"))
    token = koosign.parse_query(v1().query)[-1][1]
    assert seen[0] == ("v1:" + token.replace(" ", "+"), NOW_MS, NOW_MS + 300_000) == (a.replay_key, NOW_MS, a.replay_expires_ms)
    assert seen[1][0] == "shared-1" == b.replay_key and len(store.inner) == 2
    with pytest.raises(koosign.ReplayedNonce):
        _verify(m, v2("shared-1"))
    # a merchant gets the core's in-memory store by default
    assert type(koosign.Merchant(KEY).store) is koosign.InMemoryNonceStore


def test_refusals_are_the_cores() -> None:
    m = koosign.Merchant(KEY, clock=lambda: NOW_MS)
    for code in ("000001", "000002", "000003", "000005"):
        body, sign = m.refusal(code)
        assert koosign.check_response(200, [("Body-Sign", sign)], body, KEY)["result_code"] == code
        assert set(json.loads(body)) == {"resultCode", "resultMsg"}
    with pytest.raises(koosign.SignatureMismatch) as e:
        _verify(m, v2("x", key="another key"))
    assert e.value.refusal == m.refusal("000001")  # type: ignore[attr-defined]
    for name in ("SignatureMismatch", "StaleTimestamp", "ReplayedNonce", "AmbiguousRequest", "MalformedRequest"):
        assert koosign.result_code(getattr(koosign, name)("x")) == "000001", name
    assert koosign.result_code(ConnectionError("down")) == "000005"


def test_a_failing_store_is_a_signed_000005(caplog: pytest.LogCaptureFixture) -> None:
    # through the decorators, a store's exception never escapes as an HTTP 500
    flask = pytest.importorskip("flask")
    from koosign.flask import koosign_required

    app = flask.Flask(__name__)

    @app.post("/v2")
    @koosign_required(KEY, clock=lambda: int(NOW * 1000), store=DownStore())
    def produce(n: koosign.Verified) -> Any:
        raise AssertionError("not reached")

    req = v2("x1")
    with caplog.at_level("ERROR", logger="koosign"):
        r = app.test_client().post("/v2", query_string=req.query, data=req.body)
    assert r.status_code == 200 and r.get_data() == koosign.Merchant(KEY).refusal("000005").body
    assert json.loads(r.get_data())["resultCode"] == "000005"
    assert koosign.verify_body_sign(r.headers["Body-Sign"], r.get_data(), KEY) == 0
    assert any(rec.exc_info and isinstance(rec.exc_info[1], ConnectionError) for rec in caplog.records)
    assert "hunter2" not in r.get_data().decode()
