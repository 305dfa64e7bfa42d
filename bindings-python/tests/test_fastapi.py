"""koosign.fastapi with FastAPI's / Starlette's own TestClient."""

from __future__ import annotations

from typing import Any

import pytest
from webcases import KEY, OLD_KEY, DownStore, check_answer, check_payload, clock, scenario, v2

import koosign

fastapi = pytest.importorskip("fastapi")
from fastapi import Depends, FastAPI  # noqa: E402
from fastapi.testclient import TestClient  # noqa: E402
from starlette.applications import Starlette  # noqa: E402
from starlette.requests import Request  # noqa: E402
from starlette.responses import Response  # noqa: E402
from starlette.routing import Route  # noqa: E402

from koosign.fastapi import BodySignedResponse, KoosignVerifier  # noqa: E402


def make_app() -> FastAPI:
    dep_v2 = KoosignVerifier(koosign.Merchant([KEY, OLD_KEY], clock=clock))
    dep_kit = KoosignVerifier(KEY, clock=clock)
    dep_v1 = KoosignVerifier(KEY, clock=clock)
    dep_full = KoosignVerifier(KEY, clock=clock, store=koosign.InMemoryNonceStore(1))
    dep_down = KoosignVerifier(KEY, clock=clock, store=DownStore())
    app = FastAPI()
    dep_v2.install(app)

    @app.post("/v2full")
    async def produce_full(n: koosign.Verified = Depends(dep_full)) -> Response:
        p: Any = n.json()
        return dep_full.send({"resultCode": "000000", "resultMsg": "success.", "orderId": p["orderId"], "note": p["note"]})

    @app.post("/v2down")
    async def produce_down(n: koosign.Verified = Depends(dep_down)) -> Response:
        raise AssertionError("not reached")

    @app.post("/v2")
    async def produce_v2(n: koosign.Verified = Depends(dep_v2)) -> Response:
        p: Any = n.json()
        return dep_v2.send({"resultCode": "000000", "resultMsg": "success.", "orderId": p["orderId"], "note": p["note"]})

    @app.post("/kit")
    def produce_kit(n: koosign.Verified = Depends(dep_kit)) -> Response:  # a sync endpoint works too
        p: Any = n.json()
        return dep_kit.send({"resultCode": "000000", "resultMsg": "success.", "orderId": p["orderId"], "note": p["note"]})

    @app.get("/v1")
    async def produce_v1(n: koosign.Verified = Depends(dep_v1)) -> Response:
        body = {"resultCode": "000000", "resultMsg": "success.", "activity": n.activity, "email": n["email"]}
        return dep_v1.send(body)

    return app


def test_scenario() -> None:
    client = TestClient(make_app())
    for what, req, code, key in scenario():
        url = req.path + ("?" + req.query if req.query else "")
        r = client.request(req.method, url, content=req.body, headers={k: v.encode() for k, v in req.headers.items()})
        payload = check_answer(r.status_code, r.headers.raw, r.content, code, key)
        check_payload(what, code, payload)


def test_plain_starlette() -> None:
    verifier = KoosignVerifier(KEY, clock=clock)

    async def produce(request: Request) -> Response:
        await verifier.verify_request(request)
        return BodySignedResponse(verifier.merchant.sign_answer(b'{"resultCode":"000000"}'))

    app = Starlette(routes=[Route("/v2", produce, methods=["POST"])])
    verifier.install(app)
    client = TestClient(app)
    req = v2("s1")
    r = client.post("/v2?" + req.query, content=req.body)
    check_answer(r.status_code, r.headers.raw, r.content, "000000")
    r = client.post("/v2?" + req.query, content=req.body)
    check_answer(r.status_code, r.headers.raw, r.content, "000001")


def test_body_signed_response_signs_exact_bytes() -> None:
    r = KoosignVerifier(KEY).send({"resultMsg": "中文", "resultCode": "000000"})
    assert r.body == '{"resultMsg":"中文","resultCode":"000000"}'.encode()
    # the exact name, not lower-cased (Starlette lower-cases the names it sets itself)
    (value,) = [v for n, v in r.raw_headers if n == b"Body-Sign"]
    assert koosign.verify_body_sign(value, r.body, KEY) == 0
    assert r.headers["content-length"] == str(len(r.body))
