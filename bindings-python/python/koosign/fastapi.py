"""FastAPI / Starlette helper: a dependency that verifies the raw request and
a response class that signs the exact bytes it sends.

    from typing import Annotated
    from fastapi import Depends, FastAPI
    from koosign.fastapi import KoosignVerifier

    koosign_dep = KoosignVerifier(ACCESS_KEY)       # protocol="v2" by default
    app = FastAPI()
    koosign_dep.install(app)                        # signed answers to refused requests

    @app.post("/produce")
    async def produce(n: Annotated[VerifiedV2, Depends(koosign_dep)]) -> Response:
        payload = n.json()
        ...
        return koosign_dep.respond({"resultCode": "000000", "resultMsg": "success."}, n)

Only Starlette is needed (``FastAPI`` is a Starlette app). With plain
Starlette, call ``await koosign_dep.verify_request(request)`` in the endpoint.

A refused request is answered HTTP 200 with ``resultCode`` 000001 (anything
wrong before authentication) or 000005 (the replay store full or failing),
signed (SCHEMES.md "Which code a refusal gets"). V1: ±5 min window by default
(``max_age``; ``0`` turns it off), each ``authToken`` recorded in the nonce
store.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping, Optional, Sequence, Union

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ._koosign import BODY_SIGN_HEADER, body_sign
from ._web import V1_MAX_AGE, Verified, Verifier
from .nonce import NonceStore

__all__ = ["BodySignedJSONResponse", "BodySignedResponse", "KoosignRejected", "KoosignVerifier"]


def _add_body_sign(response: Response, access_key: str) -> None:
    # Starlette lower-cases the names it sets; the marketplace reads the header
    # case-sensitively, so this one goes into the raw list as `Body-Sign`.
    value = body_sign(response.body, access_key)
    response.raw_headers = [(n, v) for n, v in response.raw_headers if n.lower() != b"body-sign"]
    response.raw_headers.append((BODY_SIGN_HEADER.encode("latin-1"), value.encode("latin-1")))


class BodySignedJSONResponse(JSONResponse):
    """A ``JSONResponse`` (compact UTF-8 JSON) with ``Body-Sign`` over the
    exact body bytes, signed with ``access_key``."""

    def __init__(
        self,
        content: Any,
        *,
        access_key: str,
        status_code: int = 200,
        headers: Optional[Mapping[str, str]] = None,
        media_type: Optional[str] = None,
        background: Optional[BackgroundTask] = None,
    ) -> None:
        super().__init__(content, status_code, headers, media_type, background)
        _add_body_sign(self, access_key)


class BodySignedResponse(Response):
    """A ``Response`` of given bytes or text with ``Body-Sign`` over them."""

    def __init__(
        self,
        content: Union[bytes, str],
        *,
        access_key: str,
        status_code: int = 200,
        headers: Optional[Mapping[str, str]] = None,
        media_type: Optional[str] = "application/json",
        background: Optional[BackgroundTask] = None,
    ) -> None:
        super().__init__(content, status_code, headers, media_type, background)
        _add_body_sign(self, access_key)


class KoosignRejected(Exception):
    """Raised by the dependency for a refused request; carries the signed
    answer (``response``) and the cause (``error``: a
    :class:`~koosign.KoosignError`, or the exception a nonce store raised).
    :meth:`KoosignVerifier.install` registers the handler that sends the
    response."""

    def __init__(self, error: Exception, response: Response) -> None:
        super().__init__(str(error))
        self.error = error
        self.response = response


async def _send_rejection(request: Request, exc: Exception) -> Response:
    if isinstance(exc, KoosignRejected):
        return exc.response
    raise exc


class KoosignVerifier:
    """A FastAPI dependency (``Depends(verifier)``) returning the verified
    notification: ``VerifiedV2`` for ``v2``/``kit``, ``VerifiedV1`` for
    ``v1``. Arguments as :class:`koosign._web.Verifier`; an in-memory nonce
    store (V2/kit nonces, V1 tokens) is used unless one is given; ``max_age``
    is the V1 window (±300 s by default, ``0``: off). The raw body (``await request.body()``)
    and the raw query string are what is verified."""

    def __init__(
        self,
        access_keys: Union[str, Sequence[str]],
        *,
        protocol: str = "v2",
        nonce_store: Optional[NonceStore] = None,
        window: Optional[float] = 60.0,
        max_age: float = V1_MAX_AGE,
        clock: Optional[Callable[[], float]] = None,
    ) -> None:
        self.verifier = Verifier(
            access_keys, protocol=protocol, nonce_store=nonce_store, window=window, max_age=max_age, clock=clock
        )

    async def verify_request(self, request: Request) -> Verified:
        """Verifies ``request``; raises :class:`KoosignRejected` when refused."""
        body = await request.body()
        try:
            return self.verifier.verify(
                query=request.scope.get("query_string", b""), headers=request.headers.raw, body=body
            )
        except Exception as exc:  # noqa: BLE001 (a store error is answered 000005, signed)
            data, _ = self.verifier.refusal(exc)
            response = BodySignedResponse(data, access_key=self.verifier.key_for(None))
            raise KoosignRejected(exc, response) from None

    async def __call__(self, request: Request) -> Verified:
        return await self.verify_request(request)

    def respond(
        self,
        content: Any,
        verified: Optional[Verified] = None,
        *,
        status_code: int = 200,
        headers: Optional[Mapping[str, str]] = None,
    ) -> BodySignedJSONResponse:
        """``content`` as compact JSON, signed with the key that verified
        ``verified`` (the first key when ``None``)."""
        return BodySignedJSONResponse(
            content, access_key=self.verifier.key_for(verified), status_code=status_code, headers=headers
        )

    def install(self, app: Any) -> None:
        """Registers the handler that answers :class:`KoosignRejected` with
        its signed response (HTTP 200, ``resultCode`` 000001/000005)."""
        app.add_exception_handler(KoosignRejected, _send_rejection)
