"""Flask helper: a view decorator that hands the raw request to a
:class:`koosign.Merchant` and sends what it returns, ``Body-Sign`` over the
exact bytes.

    import koosign
    from koosign.flask import koosign_required

    merchant = koosign.Merchant(ACCESS_KEY)     # windows ±60 s / ±5 min, an in-memory replay store

    @app.route("/produce", methods=["GET", "POST"])
    @koosign_required(merchant)
    def produce(n: koosign.Verified) -> koosign.SignedAnswer:
        ...   # n.activity, n.json(): validated by the core
        return merchant.respond("000000", instance_id=..., app_info={...})

The view receives the verified notification first (also ``flask.g.koosign``),
then Flask's URL arguments. It returns a :class:`koosign.SignedAnswer`
(``merchant.respond`` / ``merchant.refusal``), a dict or list (sent as compact
UTF-8 JSON) or anything Flask accepts; the exact bytes sent are signed. A
refused request is answered with the core's signed refusal (HTTP 200,
``resultCode`` 000001 / 000002 / 000005 by SCHEMES.md "Which code a refusal
gets").
"""

from __future__ import annotations

import functools
from typing import Any, Callable, Sequence, Union

from flask import Response, current_app, g, request

from . import Merchant
from ._koosign import BODY_SIGN_HEADER, SignedAnswer
from ._web import answer_of, merchant_of, verify, wsgi_bytes

__all__ = ["koosign_required", "sign_response"]


def _send(answer: SignedAnswer) -> Response:
    resp = Response(answer.body, status=200, mimetype="application/json")
    resp.headers[BODY_SIGN_HEADER] = answer.body_sign
    return resp


def sign_response(rv: Any, merchant: Merchant) -> Response:
    """A Flask response of a view's return value with ``Body-Sign`` over its
    exact bytes (see the module's doc)."""
    answer = answer_of(merchant, rv)
    if answer is not None:
        return _send(answer)
    resp: Response = current_app.make_response(rv)
    resp.headers[BODY_SIGN_HEADER] = merchant.body_sign(resp.get_data())
    return resp


def koosign_required(
    merchant: Union[Merchant, str, Sequence[str]], **options: Any
) -> Callable[[Callable[..., Any]], Callable[..., Response]]:
    """The decorator: ``merchant`` is a :class:`koosign.Merchant` (or access
    keys and ``Merchant`` options, for a merchant of this view alone)."""
    m = merchant_of(merchant, **options)

    def decorate(view: Callable[..., Any]) -> Callable[..., Response]:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Response:
            body = request.get_data(cache=True)  # the raw bytes, never re-parsed
            headers = [(k, wsgi_bytes(v)) for k, v in request.headers.items()]
            verified = verify(m, request.method, request.query_string, headers, body)
            if isinstance(verified, SignedAnswer):
                return _send(verified)
            g.koosign = verified
            return sign_response(view(verified, *args, **kwargs), m)

        wrapper.koosign_merchant = m  # type: ignore[attr-defined]
        return wrapper

    return decorate
