"""Django helper: a view decorator that hands the raw request
(``request.body``, ``QUERY_STRING``) to a :class:`koosign.Merchant` and sends
what it returns, ``Body-Sign`` over the exact bytes.

    merchant = koosign.Merchant(settings.KOOGALLERY_ACCESS_KEY)

    @koosign_view(merchant)
    def produce(request, n):
        ...   # n.activity, n.json(): validated by the core
        return merchant.respond("000000", instance_id=..., app_info={...})

The view receives the request, then the verified notification (also
``request.koosign``), then the URL arguments. It returns a
:class:`koosign.SignedAnswer`, a dict or list (compact UTF-8 JSON) or an
``HttpResponse`` (not a streaming one). The view is CSRF-exempt: the
marketplace's signature authenticates it. A refused request is answered with
the core's signed refusal (HTTP 200).
"""

from __future__ import annotations

import functools
from typing import Any, Callable, Sequence, Union

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse  # type: ignore[import-untyped]
from django.views.decorators.csrf import csrf_exempt  # type: ignore[import-untyped]

from . import Merchant
from ._koosign import BODY_SIGN_HEADER, SignedAnswer
from ._web import answer_of, merchant_of, verify, wsgi_bytes

__all__ = ["koosign_view", "sign_response"]


def _send(answer: SignedAnswer) -> Any:
    resp = HttpResponse(answer.body, status=200, content_type="application/json")
    resp[BODY_SIGN_HEADER] = answer.body_sign
    return resp


def sign_response(rv: Any, merchant: Merchant) -> Any:
    """An ``HttpResponse`` of a view's return value with ``Body-Sign`` over its exact bytes."""
    answer = answer_of(merchant, rv)
    if answer is not None:
        return _send(answer)
    if isinstance(rv, StreamingHttpResponse) or not isinstance(rv, HttpResponse):
        raise TypeError("a koosign view must return a SignedAnswer, a dict, a list or a (non-streaming) HttpResponse")
    rv[BODY_SIGN_HEADER] = merchant.body_sign(rv.content)
    return rv


def koosign_view(
    merchant: Union[Merchant, str, Sequence[str]], **options: Any
) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """The decorator: ``merchant`` is a :class:`koosign.Merchant` (or access
    keys and ``Merchant`` options)."""
    m = merchant_of(merchant, **options)

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            body = request.body  # the raw bytes, never re-parsed
            query = wsgi_bytes(request.META.get("QUERY_STRING", ""))
            headers = [(k, wsgi_bytes(v)) for k, v in request.headers.items()]
            verified = verify(m, request.method, query, headers, body)
            if isinstance(verified, SignedAnswer):
                return _send(verified)
            request.koosign = verified
            return sign_response(view(request, verified, *args, **kwargs), m)

        wrapper.koosign_merchant = m  # type: ignore[attr-defined]
        exempt: Callable[..., Any] = csrf_exempt(wrapper)
        return exempt

    return decorate
