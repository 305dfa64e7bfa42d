"""Django helper: a view decorator that verifies the raw request
(``request.body``, ``QUERY_STRING``) and signs the response with
``Body-Sign`` over the exact bytes sent.

    from koosign.django import koosign_view

    @koosign_view(settings.KOOGALLERY_ACCESS_KEY)   # protocol="v2" by default
    def produce(request, n):
        payload = n.json()
        ...
        return {"resultCode": "000000", "resultMsg": "success."}

The view receives the request, then the verified notification
(``VerifiedV2`` for ``v2``/``kit``, ``VerifiedV1`` for ``v1``, also set as
``request.koosign``), then the URL arguments. It returns a dict or list
(sent as compact UTF-8 JSON) or an ``HttpResponse`` (not a streaming one).
The view is CSRF-exempt: the marketplace's signature authenticates it. A
refused request is answered HTTP 200 with ``resultCode`` 000001 (anything
wrong before authentication) or 000005 (the replay store full or failing),
signed too (SCHEMES.md "Which code a refusal gets"). V1: ±5 min window by
default (``max_age``; ``0`` turns it off), each ``authToken`` recorded in the
nonce store.
"""

from __future__ import annotations

import functools
from typing import Any, Callable, Optional, Sequence, Union

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse  # type: ignore[import-untyped]
from django.views.decorators.csrf import csrf_exempt  # type: ignore[import-untyped]

from ._koosign import BODY_SIGN_HEADER, body_sign
from ._web import V1_MAX_AGE, Verifier, encode_json, wsgi_bytes
from .nonce import NonceStore

__all__ = ["koosign_view", "sign_response"]


def sign_response(rv: Any, access_key: str) -> Any:
    """An ``HttpResponse`` of a view's return value (a dict or list as compact
    UTF-8 JSON), with ``Body-Sign`` over its exact bytes."""
    if isinstance(rv, (dict, list)):
        rv = HttpResponse(encode_json(rv), content_type="application/json")
    if isinstance(rv, StreamingHttpResponse) or not isinstance(rv, HttpResponse):
        raise TypeError("a koosign view must return a dict, a list or a (non-streaming) HttpResponse")
    rv[BODY_SIGN_HEADER] = body_sign(rv.content, access_key)
    return rv


def koosign_view(
    access_keys: Union[str, Sequence[str]],
    *,
    protocol: str = "v2",
    nonce_store: Optional[NonceStore] = None,
    window: Optional[float] = 60.0,
    max_age: float = V1_MAX_AGE,
    clock: Optional[Callable[[], float]] = None,
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The decorator; arguments as :class:`koosign._web.Verifier`. An
    in-memory nonce store (V2/kit nonces, V1 tokens) is used unless one is
    given; ``max_age`` is the V1 window (±300 s by default, ``0``: off)."""
    verifier = Verifier(
        access_keys, protocol=protocol, nonce_store=nonce_store, window=window, max_age=max_age, clock=clock
    )

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            body = request.body  # the raw bytes, never re-parsed
            query = wsgi_bytes(request.META.get("QUERY_STRING", ""))
            headers = [(k, wsgi_bytes(v)) for k, v in request.headers.items()]
            try:
                verified = verifier.verify(query=query, headers=headers, body=body)
            except Exception as exc:  # noqa: BLE001 (a store error is answered 000005, signed)
                data, signature = verifier.refusal(exc)
                resp = HttpResponse(data, status=200, content_type="application/json")
                resp[BODY_SIGN_HEADER] = signature
                return resp
            request.koosign = verified
            return sign_response(view(request, verified, *args, **kwargs), verifier.key_for(verified))

        wrapper.koosign_verifier = verifier  # type: ignore[attr-defined]
        exempt: Callable[..., Any] = csrf_exempt(wrapper)
        return exempt

    return decorate
