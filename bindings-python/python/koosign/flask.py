"""Flask helper: a view decorator that verifies the raw request and signs the
response with ``Body-Sign`` over the exact bytes sent.

    from koosign.flask import koosign_required

    @app.post("/produce")
    @koosign_required(ACCESS_KEY)              # protocol="v2" by default
    def produce(n: koosign.VerifiedV2) -> dict[str, object]:
        payload = n.json()
        ...
        return {"resultCode": "000000", "resultMsg": "success."}

The view receives the verified notification first (``VerifiedV2`` for
``v2``/``kit``, ``VerifiedV1`` for ``v1``), then Flask's URL arguments. It
may return a dict or list (sent as compact UTF-8 JSON), or anything Flask
accepts; the final response's bytes are signed. A refused request is
answered HTTP 200 with ``resultCode`` 000001 (anything wrong before
authentication: signature, window, replay, ambiguity, a missing or malformed
authentication parameter) or 000005 (the replay store full or failing),
signed too (SCHEMES.md "Which code a refusal gets"). The verified object is
also ``flask.g.koosign``. V1 (``protocol="v1"``): ±5 min window by default
(``max_age``; ``0`` turns it off), and each ``authToken`` is recorded in the
nonce store, so a replayed V1 notification is refused.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any, Callable, Optional, Sequence, Union, overload

from flask import Response, current_app, g, request

from ._koosign import BODY_SIGN_HEADER, VerifiedV1, VerifiedV2, body_sign
from ._web import V1_MAX_AGE, Verifier, encode_json, wsgi_bytes
from .nonce import NonceStore

if TYPE_CHECKING:
    from typing import Literal

    from typing_extensions import Concatenate, ParamSpec

    P = ParamSpec("P")
    V2View = Callable[Concatenate[VerifiedV2, P], Any]
    V1View = Callable[Concatenate[VerifiedV1, P], Any]

__all__ = ["koosign_required", "sign_response"]


def sign_response(rv: Any, access_key: str) -> Response:
    """Makes a Flask response of a view's return value (a dict or list is sent
    as compact UTF-8 JSON) and adds ``Body-Sign`` over its exact bytes."""
    if isinstance(rv, (dict, list)):
        rv = Response(encode_json(rv), mimetype="application/json")
    elif isinstance(rv, tuple) and rv and isinstance(rv[0], (dict, list)):
        rv = (Response(encode_json(rv[0]), mimetype="application/json"),) + rv[1:]
    resp: Response = current_app.make_response(rv)
    resp.headers[BODY_SIGN_HEADER] = body_sign(resp.get_data(), access_key)
    return resp


@overload
def koosign_required(
    access_keys: Union[str, Sequence[str]],
    *,
    protocol: Literal["v2", "kit"] = ...,
    nonce_store: Optional[NonceStore] = ...,
    window: Optional[float] = ...,
    max_age: float = ...,
    clock: Optional[Callable[[], float]] = ...,
) -> Callable[[V2View[P]], Callable[P, Response]]: ...


@overload
def koosign_required(
    access_keys: Union[str, Sequence[str]],
    *,
    protocol: Literal["v1"],
    nonce_store: Optional[NonceStore] = ...,
    window: Optional[float] = ...,
    max_age: float = ...,
    clock: Optional[Callable[[], float]] = ...,
) -> Callable[[V1View[P]], Callable[P, Response]]: ...


def koosign_required(
    access_keys: Union[str, Sequence[str]],
    *,
    protocol: str = "v2",
    nonce_store: Optional[NonceStore] = None,
    window: Optional[float] = 60.0,
    max_age: float = V1_MAX_AGE,
    clock: Optional[Callable[[], float]] = None,
) -> Callable[[Callable[..., Any]], Callable[..., Response]]:
    """The decorator; arguments as :class:`koosign._web.Verifier`. An
    in-memory nonce store (V2/kit nonces, V1 tokens) is used unless one is
    given; ``max_age`` is the V1 window (±300 s by default, ``0``: off)."""
    verifier = Verifier(
        access_keys, protocol=protocol, nonce_store=nonce_store, window=window, max_age=max_age, clock=clock
    )

    def decorate(view: Callable[..., Any]) -> Callable[..., Response]:
        @functools.wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Response:
            body = request.get_data(cache=True)  # the raw bytes, never re-parsed
            headers = [(k, wsgi_bytes(v)) for k, v in request.headers.items()]
            try:
                verified = verifier.verify(query=request.query_string, headers=headers, body=body)
            except Exception as exc:  # noqa: BLE001 (a store error is answered 000005, signed)
                data, signature = verifier.refusal(exc)
                resp = Response(data, status=200, mimetype="application/json")
                resp.headers[BODY_SIGN_HEADER] = signature
                return resp
            g.koosign = verified
            return sign_response(view(verified, *args, **kwargs), verifier.key_for(verified))

        wrapper.koosign_verifier = verifier  # type: ignore[attr-defined]
        return wrapper

    return decorate
