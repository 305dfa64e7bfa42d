"""The framework-neutral half of the Flask, FastAPI/Starlette and Django
helpers: which verifier to call, with which raw inputs, how a refusal is
answered, and which key signs the response. No scheme logic: that is the
core's, behind :func:`koosign.verify_v2` and friends."""

from __future__ import annotations

import json
import logging
from typing import Any, Callable, Iterable, Optional, Sequence, Tuple, Union

from . import result_code
from ._koosign import (
    BODY_SIGN_HEADER,
    MAX_NOTIFICATION_BODY,
    V1_DEFAULT_WINDOW_MS,
    KoosignError,
    MalformedRequest,
    VerifiedV1,
    VerifiedV2,
    body_sign,
    verify_kit,
    verify_v1,
    verify_v2,
)
from .nonce import InMemoryNonceStore, NonceStore

__all__ = ["BODY_SIGN_HEADER", "PROTOCOLS", "V1_MAX_AGE", "Verified", "Verifier", "encode_json", "wsgi_bytes"]

log = logging.getLogger("koosign")

Verified = Union[VerifiedV1, VerifiedV2]
RawText = Union[str, bytes]

#: ``v2``: POST, ``signature``/``timestamp``/``nonce`` in the query (S2);
#: ``kit``: POST, ``x-sign``/``x-timestamp``/``x-nonce`` headers (S2b);
#: ``v1``: GET with ``authToken`` in the query (S1).
PROTOCOLS = ("v2", "kit", "v1")

#: The helpers' default V1 window, seconds: ±5 min (SCHEMES.md S1 item 8,
#: ``koosign serve --v1-window``). ``max_age=0`` turns it off.
V1_MAX_AGE = V1_DEFAULT_WINDOW_MS / 1000


def encode_json(obj: Any) -> bytes:
    """Compact UTF-8 JSON: the bytes a helper sends (and signs) for a dict."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def wsgi_bytes(value: str) -> RawText:
    """A WSGI text value (PEP 3333: the raw bytes decoded as latin-1) back to
    the bytes that were on the wire, so the core sees exactly them."""
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        return value


class Verifier:
    """Verifies one protocol's requests with a fixed set of access keys.

    ``access_keys``: one key or several (rotation: the response is signed with
    the key that matched). ``nonce_store``: the replay store of every
    protocol, a new :class:`~koosign.InMemoryNonceStore` unless given: V2/kit
    nonces and V1 ``authToken`` values (the core tags these ``v1:``, so one
    store can serve a V2 and a V1 endpoint). ``window``: the V2/kit freshness
    window in seconds (``None``: no check). ``max_age``: the V1 window in
    seconds, ±300 (:data:`V1_MAX_AGE`, SCHEMES.md S1 item 8) by default;
    ``0`` turns the check off (the token is still recorded in the store, kept
    300 s past its ``timeStamp``); ``None`` is refused, so that switching the
    window off is always explicit. ``clock``: Unix seconds, for tests
    (default: the system clock).
    """

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
        keys = (access_keys,) if isinstance(access_keys, str) else tuple(access_keys)
        if not keys or not all(isinstance(k, str) and k for k in keys):
            raise ValueError("give at least one access key, none of them empty")
        if protocol not in PROTOCOLS:
            raise ValueError(f"protocol must be one of {PROTOCOLS}, not {protocol!r}")
        if max_age is None or isinstance(max_age, bool) or not isinstance(max_age, (int, float)) or not max_age >= 0:
            raise ValueError(
                "max_age (the V1 window) must be a number of seconds >= 0; pass max_age=0 to turn the check off"
            )
        self.access_keys: Tuple[str, ...] = keys
        self.protocol = protocol
        self.nonce_store: NonceStore = nonce_store if nonce_store is not None else InMemoryNonceStore()
        self.window = window
        self.max_age = float(max_age)
        self.clock = clock

    def __repr__(self) -> str:
        return f"Verifier(protocol={self.protocol!r}, keys={len(self.access_keys)}, nonce_store={self.nonce_store!r})"

    def verify(self, *, query: RawText, headers: Iterable[Tuple[RawText, RawText]], body: bytes) -> Verified:
        """Verifies the raw request parts; raises a :class:`~koosign.KoosignError`.
        A body over :data:`koosign.MAX_NOTIFICATION_BODY` (1 MiB) is refused
        unverified with :class:`~koosign.MalformedRequest` (``INPUT_TOO_LARGE``,
        answered ``000002`` as ``koosign serve`` answers it)."""
        if len(body) > MAX_NOTIFICATION_BODY:
            exc = MalformedRequest(f"input exceeds the limit of {MAX_NOTIFICATION_BODY}")
            exc.code = "INPUT_TOO_LARGE"
            exc.body_too_large = True  # type: ignore[attr-defined]
            raise exc
        now = self.clock() if self.clock is not None else None
        if self.protocol == "v2":
            return verify_v2(
                query, body, self.access_keys, now=now, window=self.window, nonce_store=self.nonce_store
            )
        if self.protocol == "kit":
            return verify_kit(
                list(headers), body, self.access_keys, now=now, window=self.window, nonce_store=self.nonce_store
            )
        return verify_v1(
            query, self.access_keys, now=now, max_age=self.max_age or None, nonce_store=self.nonce_store
        )

    def key_for(self, verified: Optional[Verified]) -> str:
        """The key that signs the response: the one that matched, else the first."""
        return self.access_keys[verified.key_index] if verified is not None else self.access_keys[0]

    def refusal(self, exc: BaseException) -> Tuple[bytes, str]:
        """The body of the answer to a request refused by :meth:`verify` and
        its ``Body-Sign``: ``{"resultCode": …, "resultMsg": …}``, HTTP 200 as
        the marketplace expects. The code is :func:`koosign.result_code`'s
        for an error before authentication: ``000001`` for every
        :class:`~koosign.KoosignError` of the request (signature, window,
        replay, ambiguity, a missing or malformed authentication parameter),
        ``000005`` for the merchant's side (a full replay store, or any other
        exception, e.g. a nonce store that is unreachable: logged on the
        ``koosign`` logger, answered ``internal error``). The message of a
        :class:`~koosign.KoosignError` is the core's and never contains a secret."""
        if isinstance(exc, KoosignError):
            msg = str(exc)
        else:
            log.error("koosign: the request could not be verified (answered 000005)", exc_info=exc)
            msg = "internal error"
        # A body over the limit is answered as serve answers it: 000002.
        too_large = getattr(exc, "body_too_large", False) is True
        body = encode_json({"resultCode": result_code(exc, authenticated=too_large), "resultMsg": msg})
        return body, body_sign(body, self.access_keys[0])
