"""koosign: KooGallery (Huawei Cloud marketplace) merchant-interface security.

Verify the marketplace's notifications (V1 ``authToken``, V2 ``signature``,
kit ``x-sign``), sign your responses (``Body-Sign``), encrypt and decrypt
the ``appInfo`` / ``mobilePhone`` / ``email`` fields, and sign your calls to
the marketplace's open APIs (``SDK-HMAC-SHA256``). The work is done by the
Rust core; this package translates types and errors.

Times are Unix seconds (``float``); ``now=None`` reads the clock. Errors are
:class:`KoosignError` subclasses whose message never contains a secret.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Dict, Optional

from ._koosign import (
    BODY_SIGN_HEADER,
    DETACH_THRESHOLD,
    AmbiguousRequestError,
    DecryptError,
    KoosignError,
    MalformedRequest,
    ReplayedNonce,
    SignatureMismatch,
    StaleTimestamp,
    VerifiedV1,
    VerifiedV2,
    __version__,
    body_sign,
    build_v1_query,
    decrypt_field,
    decrypt_raw,
    derive_key,
    encrypt_field,
    licence_sign,
    parse_query,
    sign_v2,
    v1_auth_token,
    v1_canonical,
    verify_apig,
    verify_body_sign,
    verify_kit,
    verify_licence,
    verify_v1,
    verify_v1_json,
    verify_v2,
)
from ._koosign import ApigSigner as _NativeApigSigner
from .nonce import InMemoryNonceStore, NonceStore, RedisNonceStore

if TYPE_CHECKING:
    from ._koosign import Body, Pairs, Text

__all__ = [
    "BODY_SIGN_HEADER",
    "DETACH_THRESHOLD",
    "AmbiguousRequestError",
    "ApigSignature",
    "ApigSigner",
    "DecryptError",
    "InMemoryNonceStore",
    "KoosignError",
    "MalformedRequest",
    "NonceStore",
    "RedisNonceStore",
    "ReplayedNonce",
    "SignatureMismatch",
    "StaleTimestamp",
    "VerifiedV1",
    "VerifiedV2",
    "__version__",
    "body_sign",
    "build_v1_query",
    "decrypt_field",
    "decrypt_raw",
    "derive_key",
    "encrypt_field",
    "licence_sign",
    "parse_query",
    "result_code",
    "sign_v2",
    "v1_auth_token",
    "v1_canonical",
    "verify_apig",
    "verify_body_sign",
    "verify_kit",
    "verify_licence",
    "verify_v1",
    "verify_v1_json",
    "verify_v2",
]


class ApigSignature(Dict[str, str]):
    """The headers to add to an open-API request (``X-Sdk-Date`` and ``Host``
    when they were absent, ``Authorization`` last), plus the intermediates
    for debugging: ``canonical_request``, ``string_to_sign``, ``signature``,
    ``signed_headers``, ``canonical_query``, ``authorization``."""

    canonical_request: str
    string_to_sign: str
    signature: str
    signed_headers: str
    canonical_query: str
    authorization: str

    def __init__(self, headers: Dict[str, str], debug: Dict[str, str]) -> None:
        super().__init__(headers)
        for name, value in debug.items():
            setattr(self, name, value)


class ApigSigner(_NativeApigSigner):
    """Signs calls to the marketplace's open APIs (S6, ``SDK-HMAC-SHA256``),
    as Huawei's Python SDK core does.

    >>> signer = ApigSigner("AccessKey", "SecretKey")
    >>> h = signer.sign("GET", "https://mkt.myhuaweicloud.com/api/mkp-openapi-public/global/v1/order/query?orderId=X")
    >>> sorted(h)  # merge these into the request's headers
    ['Authorization', 'Host', 'X-Sdk-Date']
    """

    def sign(
        self,
        method: Text,
        url: Text,
        headers: Optional[Pairs] = None,
        body: Body = b"",
        *,
        now: Optional[float] = None,
        params: Optional[Pairs] = None,
    ) -> ApigSignature:
        """Signs ``method url`` with ``headers`` (as they will be sent; all
        are signed except names containing ``_``) and the exact ``body``.

        ``url`` is absolute (``https://host/path?query``); its query is
        form-decoded (write a literal ``+`` as ``%2B``); ``params`` are more
        decoded query pairs. ``X-Sdk-Date`` comes from ``headers`` or from
        ``now`` (Unix seconds; default: the clock). Returns the headers to
        add. Raises :class:`MalformedRequest` (bad URL, date, encoding) or
        :class:`KoosignError` (empty AK/SK)."""
        added, debug = self._sign(method, url, headers, body, now=now, params=params)
        return ApigSignature(added, debug)


def result_code(exc: BaseException) -> str:
    """The marketplace ``resultCode`` for a failed request: ``000002`` for a
    malformed one (missing or badly encoded parameter, bad timestamp format,
    undecryptable field), ``000001`` for an authentication failure
    (signature, window, replay, an ambiguous request refused before
    authentication), ``000005`` for anything else."""
    if isinstance(exc, (MalformedRequest, DecryptError)):
        return "000002"
    if isinstance(exc, (SignatureMismatch, StaleTimestamp, ReplayedNonce, AmbiguousRequestError)):
        return "000001"
    return "000005"
