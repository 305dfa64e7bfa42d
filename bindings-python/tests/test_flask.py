"""koosign.flask with Flask's own test client."""

from __future__ import annotations

from typing import Any, Dict

import pytest
from webcases import KEY, OLD_KEY, DownStore, check_answer, check_payload, clock, scenario, v2

import koosign
from koosign.flask import koosign_required

flask = pytest.importorskip("flask")


def make_app() -> Any:
    app = flask.Flask(__name__)

    @app.post("/v2")
    @koosign_required(koosign.Merchant([KEY, OLD_KEY], clock=clock))
    def produce_v2(n: koosign.Verified) -> Dict[str, Any]:
        p = n.json()
        assert flask.g.koosign is n
        return {"resultCode": "000000", "resultMsg": "success.", "orderId": p["orderId"], "note": p["note"]}

    @app.post("/kit")
    @koosign_required(KEY, clock=clock)
    def produce_kit(n: koosign.Verified) -> Any:
        p = n.json()
        return {"resultCode": "000000", "resultMsg": "success.", "orderId": p["orderId"], "note": p["note"]}, 200

    def v2_view(n: koosign.Verified) -> Dict[str, Any]:
        p = n.json()
        return {"resultCode": "000000", "resultMsg": "success.", "orderId": p["orderId"], "note": p["note"]}

    app.post("/v2full", endpoint="v2full")(koosign_required(KEY, clock=clock, store=koosign.InMemoryNonceStore(1))(v2_view))
    app.post("/v2down", endpoint="v2down")(koosign_required(KEY, clock=clock, store=DownStore())(v2_view))

    @app.get("/v1")
    @koosign_required(KEY, clock=clock)
    def produce_v1(n: koosign.Verified) -> Any:
        return flask.jsonify(resultCode="000000", resultMsg="success.", activity=n.activity, email=n["email"])

    @app.post("/v2/<tenant>")
    @koosign_required(KEY, clock=clock)
    def produce_tenant(n: koosign.Verified, tenant: str) -> str:
        return '{"resultCode":"000000","tenant":"%s"}' % tenant

    return app


def test_scenario() -> None:
    client = make_app().test_client()
    for what, req, code, key in scenario():
        r = client.open(req.path, method=req.method, query_string=req.query or None, data=req.body, headers=req.headers)
        payload = check_answer(r.status_code, r.headers.items(), r.get_data(), code, key)
        check_payload(what, code, payload)


def test_url_arguments_and_text_responses() -> None:
    client = make_app().test_client()
    req = v2("t1")
    r = client.post("/v2/acme", query_string=req.query, data=req.body)
    assert check_answer(r.status_code, r.headers.items(), r.get_data(), "000000")["tenant"] == "acme"


def test_the_raw_body_is_verified_even_after_form_parsing() -> None:
    # a form content type makes Flask parse the body; the decorator still checks the raw bytes
    client = make_app().test_client()
    req = v2("f1")  # a notification sent with a form content type
    r = client.post("/v2/x", query_string=req.query, data=req.body, content_type="application/x-www-form-urlencoded")
    check_answer(r.status_code, r.headers.items(), r.get_data(), "000000")
