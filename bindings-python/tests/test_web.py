"""The framework-neutral half of the helpers (koosign._web.Verifier): the
endpoint defaults of issue 11 (V1 window ±5 min unless explicitly off, V1
tokens in the replay store) and the refusal codes."""

from __future__ import annotations

import json
from typing import Any, List, Tuple

import pytest
from webcases import KEY, NOW, DownStore, v1, v2

import koosign
from koosign._web import V1_MAX_AGE, Verifier


def _verify(verifier: Verifier, req: Any) -> Any:
    return verifier.verify(query=req.query, headers=list(req.headers.items()), body=req.body)


def test_v1_window_is_five_minutes_by_default() -> None:
    assert V1_MAX_AGE == koosign.V1_DEFAULT_WINDOW_MS / 1000 == 300.0
    verifier = Verifier(KEY, protocol="v1", clock=lambda: NOW + 301)
    assert verifier.max_age == 300.0
    with pytest.raises(koosign.StaleTimestamp):
        _verify(verifier, v1())
    assert _verify(Verifier(KEY, protocol="v1", clock=lambda: NOW + 299), v1()).timestamp_ms == int(NOW * 1000)


def test_switching_the_v1_window_off_is_explicit() -> None:
    for bad in (None, -1, float("nan"), "300", True):
        with pytest.raises(ValueError, match="max_age=0"):
            Verifier(KEY, protocol="v1", max_age=bad)  # type: ignore[arg-type]
    old = Verifier(KEY, protocol="v1", max_age=0, clock=lambda: NOW + 86_400 * 365)
    assert _verify(old, v1()).activity == "newInstance"
    # off means no window, not no replay protection
    with pytest.raises(koosign.ReplayedNonce):
        _verify(old, v1())


def test_v1_tokens_go_into_the_helpers_store() -> None:
    seen: List[Tuple[str, int, int]] = []

    class Store(koosign.InMemoryNonceStore):
        def check_and_insert(self, nonce: str, now_ms: int, expires_at_ms: int) -> bool:
            seen.append((nonce, now_ms, expires_at_ms))
            return super().check_and_insert(nonce, now_ms, expires_at_ms)

    store = Store()
    v1_verifier = Verifier(KEY, protocol="v1", nonce_store=store, clock=lambda: NOW)
    v2_verifier = Verifier(KEY, nonce_store=store, clock=lambda: NOW)
    assert v1_verifier.nonce_store is store
    _verify(v1_verifier, v1())
    _verify(v2_verifier, v2("shared-1"))
    token = koosign.parse_query(v1().query)[-1][1]
    assert seen[0] == ("v1:" + token.replace(" ", "+"), int(NOW * 1000), int(NOW * 1000) + 300_000)
    assert seen[1][0] == "shared-1" and len(store) == 2
    # every protocol gets an in-memory store by default
    for protocol in ("v1", "v2", "kit"):
        assert isinstance(Verifier(KEY, protocol=protocol).nonce_store, koosign.InMemoryNonceStore)


def test_refusal_codes() -> None:
    verifier = Verifier(KEY)

    def code(exc: BaseException) -> str:
        body, signature = verifier.refusal(exc)
        assert koosign.verify_body_sign(signature, body, KEY) == 0
        payload: Any = json.loads(body)
        return str(payload["resultCode"])

    for name in ("SignatureMismatch", "StaleTimestamp", "ReplayedNonce", "AmbiguousRequest", "MalformedRequest"):
        assert code(getattr(koosign, name)("x")) == "000001", name
    full = koosign.KoosignError("nonce store is full of unexpired nonces")
    full.code = "NONCE_STORE_FULL"
    assert code(full) == "000005"
    assert code(ConnectionError("down")) == "000005"


def test_a_failing_store_is_a_signed_000005(caplog: pytest.LogCaptureFixture) -> None:
    # through the decorators, a store's exception never escapes as an HTTP 500
    flask = pytest.importorskip("flask")
    from koosign.flask import koosign_required

    app = flask.Flask(__name__)

    @app.post("/v2")
    @koosign_required(KEY, clock=lambda: NOW, nonce_store=DownStore())
    def produce(n: koosign.VerifiedV2) -> Any:
        raise AssertionError("not reached")

    req = v2("x1")
    with caplog.at_level("ERROR", logger="koosign"):
        r = app.test_client().post("/v2", query_string=req.query, data=req.body)
    assert r.status_code == 200 and json.loads(r.get_data()) == {"resultCode": "000005", "resultMsg": "internal error"}
    assert koosign.verify_body_sign(r.headers["Body-Sign"], r.get_data(), KEY) == 0
    assert any(rec.exc_info and isinstance(rec.exc_info[1], ConnectionError) for rec in caplog.records)
    assert "hunter2" not in r.get_data().decode()
