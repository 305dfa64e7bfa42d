"""koosign: KooGallery (Huawei Cloud marketplace) merchant-interface security.

Verify the marketplace's notifications (V1 ``authToken``, V2 ``signature``,
kit ``x-sign``), sign your responses (``Body-Sign``), encrypt and decrypt
the ``appInfo`` / ``mobilePhone`` / ``email`` fields, and sign your calls to
the marketplace's open APIs (``SDK-HMAC-SHA256``). The work is done by the
Rust core; this package translates types and errors.

Times are Unix seconds (``float``); ``now=None`` reads the clock. Errors are
:class:`KoosignError` subclasses whose message never contains a secret;
:func:`result_code` gives the ``resultCode`` to answer (SCHEMES.md "Which code
a refusal gets").

A merchant endpoint builds one :class:`Merchant` (its keys, windows and replay
store) and calls :meth:`Merchant.verify` per request: the core detects the
protocol, verifies, checks freshness and replay, parses the notification
strictly and validates its activity; a refusal is raised with its signed
answer (``exc.refusal``). Leaving a check out is said by name:
:data:`UNCHECKED`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Dict, Iterable, Mapping, Optional, Tuple, Union

import inspect

from ._koosign import (
    APIG_DEFAULT_WINDOW_MS,
    MAX_DEPTH,
    REFUSAL_MAX_LEN,
    InMemoryNonceStore,
    SignedAnswer,
    StoreUnavailable,
    Unchecked,
    Verified,
    check_response,
    loads_strict,
    BODY_SIGN_HEADER,
    DEFAULT_WINDOW_MS,
    DETACH_THRESHOLD,
    V1_DEFAULT_WINDOW_MS,
    MAX_NOTIFICATION_BODY,
    AmbiguousRequest,
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
    verify_body_sign,
    verify_kit,
    verify_licence,
    verify_v1,
    verify_v1_json,
    verify_v2,
)
from ._koosign import ApigSigner as _NativeApigSigner
from ._koosign import Merchant as _NativeMerchant
from ._koosign import _class_codes, _merchant_failure_code, _result_code_of, _verify_apig
from .nonce import AsyncRedisNonceStore, NonceStore, RedisNonceStore

#: The one value that leaves a window or the replay check out
#: (``Merchant(v2_window=UNCHECKED)``, ``merchant.verify(..., store=UNCHECKED)``).
UNCHECKED = Unchecked()

_class_codes()  # each exception class's default `code`, from the core

if TYPE_CHECKING:
    from ._koosign import Body, Pairs, Text

__all__ = [
    "APIG_DEFAULT_WINDOW_MS",
    "AsyncRedisNonceStore",
    "MAX_DEPTH",
    "Merchant",
    "REFUSAL_MAX_LEN",
    "SignedAnswer",
    "StoreUnavailable",
    "UNCHECKED",
    "Unchecked",
    "Verified",
    "check_response",
    "loads_strict",
    "BODY_SIGN_HEADER",
    "DEFAULT_WINDOW_MS",
    "DETACH_THRESHOLD",
    "V1_DEFAULT_WINDOW_MS",
    "MAX_NOTIFICATION_BODY",
    "AmbiguousRequest",
    "ApigSignature",
    "ApigSigner",
    "ApigVerified",
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

    if TYPE_CHECKING:
        # The method is native (koosign._koosign.ApigSigner.sign, which
        # builds the ApigSignature itself); this is its signature.
        def sign(
            self,
            method: Text,
            url: Text,
            headers: Optional[Pairs] = None,
            body: Optional[Body] = None,
            *,
            now: Optional[float] = None,
            params: Optional[Pairs] = None,
            path_as_is: bool = False,
        ) -> ApigSignature:
            """Signs ``method url`` with ``headers`` (as they will be sent; all
            are signed except names containing ``_``) and the exact ``body``.

            ``url`` is absolute (``https://host/path?query``) and is read as
            ``requests`` sends it (the core's ``split_url``, SCHEMES.md S6
            "Signing a whole URL"): host lower-cased, default port dropped, dot
            segments removed, fragment dropped; its query is form-decoded
            (write a literal ``+`` as ``%2B``); ``params`` are more decoded query
            pairs. ``path_as_is=True`` keeps the path exactly as written (for a
            client that sends it so, like ``curl --path-as-is``). ``X-Sdk-Date``
            comes from ``headers`` or from ``now`` (Unix seconds; default: the
            clock). Returns the headers to add. Raises :class:`MalformedRequest`
            (bad URL, date, encoding), :class:`AmbiguousRequest` (a URL the HTTP
            clients send differently, e.g. a ``%2e`` dot segment) or
            :class:`KoosignError` (empty AK/SK)."""
            ...


class ApigVerified(int):
    """The result of :func:`verify_apig`: an ``int``, the index of the
    credential that matched (so ``verify_apig(...) == 0`` reads as before),
    with ``credential_index`` (the same number) and ``unsigned_payload``.

    ``unsigned_payload`` is ``True`` when the request signed
    ``X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD`` over a non-empty body: then
    **the body is not authenticated**, only the method, URL and signed
    headers are (SCHEMES.md S6 decision). Refuse such a request where the
    body matters."""

    unsigned_payload: bool

    def __new__(cls, credential_index: int, unsigned_payload: bool) -> ApigVerified:
        obj = super().__new__(cls, credential_index)
        obj.unsigned_payload = bool(unsigned_payload)
        return obj

    @property
    def credential_index(self) -> int:
        """Index into the credentials given of the one that matched."""
        return int(self)

    def __repr__(self) -> str:
        return f"ApigVerified(credential_index={int(self)}, unsigned_payload={self.unsigned_payload})"

    def __reduce__(self) -> Tuple[type, Tuple[int, bool]]:
        return (ApigVerified, (int(self), self.unsigned_payload))


def verify_apig(
    method: Text,
    url: Text,
    headers: Pairs,
    body: Body,
    credentials: Union[Mapping[str, str], Iterable[Tuple[str, str]]],
    *,
    now: Optional[float] = None,
    max_age: Optional[float] = None,
) -> ApigVerified:
    """Server side of S6 (``SDK-HMAC-SHA256``): verifies ``method url`` with
    the request's ``headers`` and exact ``body`` against ``(ak, sk)``
    ``credentials``. ``max_age``: the ``X-Sdk-Date`` window in seconds
    (``None``: no check; ``APIG_DEFAULT_WINDOW_MS / 1000``, ±15 min, is the
    documented default of a verifier).

    The core's rules (SCHEMES.md S6 decisions): SignedHeaders must be
    lower-case, sorted and include ``host`` and ``x-sdk-date``;
    ``X-Sdk-Content-Sha256`` counts only when signed, and then must be
    ``UNSIGNED-PAYLOAD`` or the body's real SHA-256 (else
    :class:`SignatureMismatch`); an unsigned one is ignored (the real body
    hash is used); a repeated ``Authorization``, ``X-Sdk-Date``, signed
    header or ``Authorization`` attribute is :class:`AmbiguousRequest`.

    Returns :class:`ApigVerified` (an ``int``: the credential's index, and
    ``.unsigned_payload``). Raises :class:`SignatureMismatch`,
    :class:`StaleTimestamp`, :class:`AmbiguousRequest`,
    :class:`MalformedRequest`, :class:`KoosignError` (``NO_ACCESS_KEY``)."""
    index, unsigned = _verify_apig(method, url, headers, body, credentials, now=now, max_age=max_age)
    return ApigVerified(index, unsigned)


class Merchant(_NativeMerchant):
    """The keyed merchant context (the core's ``koosign::merchant::Merchant``),
    built once: see the stubs (``_koosign.pyi``) and the README."""

    async def verify_async(
        self,
        method: Text,
        query: Text,
        headers: Pairs,
        body: Body,
        *,
        now_ms: Optional[int] = None,
        store: Optional[object] = None,
    ) -> Verified:
        """:meth:`verify` with an asynchronous replay store (e.g.
        :class:`AsyncRedisNonceStore`), not blocking the event loop: the core
        verifies everything but the replay check (``Replay::Deferred``), then
        the store's ``check_and_insert(verified.replay_key, now_ms,
        verified.replay_expires_ms)`` is awaited. ``store``: default the
        merchant's own; a synchronous store is called as is. Raises as
        :meth:`verify` (a replay: :class:`ReplayedNonce`, ``000001``; a store
        that fails: :class:`StoreUnavailable`, ``000005``)."""
        store = self.store if store is None else store
        if isinstance(store, Unchecked) or type(store) is InMemoryNonceStore:
            return self.verify(method, query, headers, body, now_ms=now_ms, store=store)
        verified, now = self._verify_deferred(method, query, headers, body, now_ms=now_ms)
        outcome: object
        try:
            outcome = store.check_and_insert(verified.replay_key, now, verified.replay_expires_ms)  # type: ignore[attr-defined]
            if inspect.isawaitable(outcome):
                outcome = await outcome
        except Exception as exc:  # noqa: BLE001 (the core reads it: StoreUnavailable, 000005)
            outcome = exc
        refusal = self._store_refusal(outcome)
        if refusal is not None:
            raise refusal
        return verified


def result_code(exc: BaseException, *, authenticated: bool = False) -> str:
    """The marketplace ``resultCode`` for a refused request: the core's table
    (``koosign::answer::result_code``, SCHEMES.md "Which code a refusal
    gets"). An exception raised by :meth:`Merchant.verify` carries its own
    (``exc.result_code``, decided at the stage the error was met); otherwise
    the error's ``code`` is looked up *before* authentication, or *after* it
    with ``authenticated=True``. An exception that is no koosign error is the
    merchant's failure (``000005``)."""
    own = getattr(exc, "result_code", None)
    if isinstance(own, str):
        return own
    code = getattr(exc, "code", None) if isinstance(exc, KoosignError) else None
    found = _result_code_of(code, authenticated=authenticated) if isinstance(code, str) else None
    return found if found is not None else _merchant_failure_code()
