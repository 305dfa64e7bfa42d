"""FastAPI / Starlette helper: a dependency that hands the raw request to a
:class:`koosign.Merchant` (``await merchant.verify_async``: an async replay
store such as :class:`koosign.AsyncRedisNonceStore` never blocks the event
loop) and responses that send the exact signed bytes.

    merchant = koosign.Merchant(ACCESS_KEY)
    koosign_dep = KoosignVerifier(merchant)
    app = FastAPI()
    koosign_dep.install(app)                        # the signed refusals

    @app.api_route("/produce", methods=["GET", "POST"])
    async def produce(n: Annotated[koosign.Verified, Depends(koosign_dep)]) -> Response:
        ...   # n.activity, n.json(): validated by the core
        return koosign_dep.send(merchant.respond("000000", instance_id=..., app_info={...}))

Only Starlette is needed (``FastAPI`` is a Starlette app). With plain
Starlette, call ``await koosign_dep.verify_request(request)`` in the endpoint.
A refused request is answered with the core's signed refusal (HTTP 200).
"""

from __future__ import annotations

from typing import Any, Mapping, Optional, Sequence, Union

from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import Response

from . import Merchant
from ._koosign import BODY_SIGN_HEADER, SignedAnswer, Verified
from ._web import answer_of, merchant_of, verify_async

__all__ = ["BodySignedResponse", "KoosignRejected", "KoosignVerifier"]


class BodySignedResponse(Response):
    """A ``Response`` of a :class:`koosign.SignedAnswer`: its exact bytes with
    its ``Body-Sign`` (the exact header name: Starlette would lower-case a
    header it sets, the marketplace reads it case-sensitively)."""

    def __init__(
        self,
        answer: SignedAnswer,
        *,
        status_code: int = 200,
        headers: Optional[Mapping[str, str]] = None,
        background: Optional[BackgroundTask] = None,
    ) -> None:
        super().__init__(answer.body, status_code, headers, "application/json", background)
        self.raw_headers = [(n, v) for n, v in self.raw_headers if n.lower() != b"body-sign"]
        self.raw_headers.append((BODY_SIGN_HEADER.encode("latin-1"), answer.body_sign.encode("latin-1")))


class KoosignRejected(Exception):
    """Raised by the dependency for a refused request; carries the signed
    refusal's ``response``. :meth:`KoosignVerifier.install` registers the
    handler that sends it."""

    def __init__(self, response: Response) -> None:
        super().__init__("refused")
        self.response = response


async def _send_rejection(request: Request, exc: Exception) -> Response:
    if isinstance(exc, KoosignRejected):
        return exc.response
    raise exc


class KoosignVerifier:
    """A FastAPI dependency (``Depends(verifier)``) returning the
    :class:`koosign.Verified` notification of the raw request
    (``await request.body()``, the raw query string and headers)."""

    def __init__(self, merchant: Union[Merchant, str, Sequence[str]], **options: Any) -> None:
        self.merchant = merchant_of(merchant, **options)

    async def verify_request(self, request: Request) -> Verified:
        """Verifies ``request``; raises :class:`KoosignRejected` when refused."""
        body = await request.body()
        v = await verify_async(
            self.merchant, request.method, request.scope.get("query_string", b""), request.headers.raw, body
        )
        if isinstance(v, SignedAnswer):
            raise KoosignRejected(BodySignedResponse(v)) from None
        return v

    async def __call__(self, request: Request) -> Verified:
        return await self.verify_request(request)

    def send(self, answer: Any, *, headers: Optional[Mapping[str, str]] = None) -> BodySignedResponse:
        """A response of a :class:`koosign.SignedAnswer`, or of a dict or list
        (compact JSON, signed by the merchant)."""
        signed = answer_of(self.merchant, answer)
        if signed is None:
            raise TypeError("send a SignedAnswer, a dict or a list")
        return BodySignedResponse(signed, headers=headers)

    respond = send

    def install(self, app: Any) -> None:
        """Registers the handler that answers :class:`KoosignRejected` with
        its signed response."""
        app.add_exception_handler(KoosignRejected, _send_rejection)
