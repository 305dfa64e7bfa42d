"""koosign.django with Django's own test client (CSRF middleware on)."""

from __future__ import annotations

from typing import Any

import pytest
from webcases import KEY, OLD_KEY, DownStore, check_answer, check_payload, clock, scenario

import koosign

django = pytest.importorskip("django")
from django.conf import settings  # noqa: E402

if not settings.configured:
    settings.configure(
        DEBUG=False,
        SECRET_KEY="test-only",
        ALLOWED_HOSTS=["testserver"],
        ROOT_URLCONF=__name__,
        MIDDLEWARE=[
            "django.middleware.common.CommonMiddleware",
            "django.middleware.csrf.CsrfViewMiddleware",
        ],
        INSTALLED_APPS=[],
        USE_TZ=True,
    )
    django.setup()

from django.http import HttpResponse, JsonResponse  # noqa: E402
from django.test import Client  # noqa: E402
from django.urls import path  # noqa: E402

from koosign.django import koosign_view  # noqa: E402



@koosign_view(koosign.Merchant([KEY, OLD_KEY], clock=clock))
def produce_v2(request: Any, n: koosign.Verified) -> Any:
    assert request.koosign is n
    p: Any = n.json()
    return {"resultCode": "000000", "resultMsg": "success.", "orderId": p["orderId"], "note": p["note"]}


@koosign_view(KEY, clock=clock)
def produce_kit(request: Any, n: koosign.Verified) -> Any:
    p: Any = n.json()
    return JsonResponse({"resultCode": "000000", "resultMsg": "success.", "orderId": p["orderId"], "note": p["note"]})


def _v2_view(request: Any, n: koosign.Verified) -> Any:
    p: Any = n.json()
    return {"resultCode": "000000", "resultMsg": "success.", "orderId": p["orderId"], "note": p["note"]}


produce_full = koosign_view(KEY, clock=clock, store=koosign.InMemoryNonceStore(1))(_v2_view)
produce_down = koosign_view(KEY, clock=clock, store=DownStore())(_v2_view)


@koosign_view(KEY, clock=clock)
def produce_v1(request: Any, n: koosign.Verified) -> Any:
    return {"resultCode": "000000", "resultMsg": "success.", "activity": n.activity, "email": n["email"]}


@koosign_view(KEY, clock=clock)
def produce_tenant(request: Any, n: koosign.Verified, tenant: str) -> Any:
    return HttpResponse(f'{{"resultCode":"000000","tenant":"{tenant}"}}', content_type="application/json")


urlpatterns = [
    path("v2", produce_v2),
    path("kit", produce_kit),
    path("v1", produce_v1),
    path("v2full", produce_full),
    path("v2down", produce_down),
    path("v2/<str:tenant>", produce_tenant),
]


def _send(client: Client, method: str, url: str, body: bytes, headers: dict[str, str]) -> Any:
    extra = {f"HTTP_{k.upper().replace('-', '_')}": v.encode("utf-8").decode("latin-1") for k, v in headers.items() if k.lower() != "content-type"}
    if method == "GET":
        return client.get(url, **extra)
    return client.generic(method, url, body, content_type=headers.get("Content-Type", "application/json"), **extra)


def test_scenario() -> None:
    client = Client(enforce_csrf_checks=True)
    for what, req, code, key in scenario():
        url = req.path + ("?" + req.query if req.query else "")
        r = _send(client, req.method, url, req.body, req.headers)
        payload = check_answer(r.status_code, r.items(), r.content, code, key)
        check_payload(what, code, payload)


def test_url_arguments() -> None:
    from webcases import v2

    req = v2("t1")
    r = _send(Client(enforce_csrf_checks=True), "POST", "/v2/acme?" + req.query, req.body, {})
    assert check_answer(r.status_code, r.items(), r.content, "000000")["tenant"] == "acme"


def test_streaming_responses_are_refused() -> None:
    from django.http import StreamingHttpResponse

    from koosign.django import sign_response

    with pytest.raises(TypeError):
        sign_response(StreamingHttpResponse(iter([b"{}"])), koosign.Merchant(KEY))
