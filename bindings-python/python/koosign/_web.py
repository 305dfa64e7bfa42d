"""The framework-neutral half of the Flask, FastAPI/Starlette and Django
helpers: which verifier to call, with which raw inputs, how a refusal is
answered, and which key signs the response. No scheme logic: that is the
core's, behind :func:`koosign.verify_v2` and friends."""

from __future__ import annotations

import json
from typing import Any, Callable, Iterable, Optional, Sequence, Tuple, Union

from . import result_code
from ._koosign import (
    BODY_SIGN_HEADER,
    KoosignError,
    VerifiedV1,
    VerifiedV2,
    body_sign,
    verify_kit,
    verify_v1,
    verify_v2,
)
from .nonce import InMemoryNonceStore, NonceStore

__all__ = ["BODY_SIGN_HEADER", "PROTOCOLS", "Verified", "Verifier", "encode_json", "wsgi_bytes"]

Verified = Union[VerifiedV1, VerifiedV2]
RawText = Union[str, bytes]

#: ``v2``: POST, ``signature``/``timestamp``/``nonce`` in the query (S2);
#: ``kit``: POST, ``x-sign``/``x-timestamp``/``x-nonce`` headers (S2b);
#: ``v1``: GET with ``authToken`` in the query (S1).
PROTOCOLS = ("v2", "kit", "v1")


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
    the key that matched). ``nonce_store``: defaults to a new
    :class:`~koosign.InMemoryNonceStore` for ``v2``/``kit``. ``window``: the
    V2 freshness window in seconds (``None``: no check). ``max_age``: the V1
    window in seconds (``None``: no check, as the V1 guide documents none).
    ``clock``: Unix seconds, for tests (default: the system clock).
    """

    def __init__(
        self,
        access_keys: Union[str, Sequence[str]],
        *,
        protocol: str = "v2",
        nonce_store: Optional[NonceStore] = None,
        window: Optional[float] = 60.0,
        max_age: Optional[float] = None,
        clock: Optional[Callable[[], float]] = None,
    ) -> None:
        keys = (access_keys,) if isinstance(access_keys, str) else tuple(access_keys)
        if not keys or not all(isinstance(k, str) and k for k in keys):
            raise ValueError("give at least one access key, none of them empty")
        if protocol not in PROTOCOLS:
            raise ValueError(f"protocol must be one of {PROTOCOLS}, not {protocol!r}")
        self.access_keys: Tuple[str, ...] = keys
        self.protocol = protocol
        self.nonce_store: Optional[NonceStore] = (
            nonce_store if nonce_store is not None or protocol == "v1" else InMemoryNonceStore()
        )
        self.window = window
        self.max_age = max_age
        self.clock = clock

    def __repr__(self) -> str:
        return f"Verifier(protocol={self.protocol!r}, keys={len(self.access_keys)}, nonce_store={self.nonce_store!r})"

    def verify(self, *, query: RawText, headers: Iterable[Tuple[RawText, RawText]], body: bytes) -> Verified:
        """Verifies the raw request parts; raises a :class:`~koosign.KoosignError`."""
        now = self.clock() if self.clock is not None else None
        if self.protocol == "v2":
            return verify_v2(
                query, body, self.access_keys, now=now, window=self.window, nonce_store=self.nonce_store
            )
        if self.protocol == "kit":
            return verify_kit(
                list(headers), body, self.access_keys, now=now, window=self.window, nonce_store=self.nonce_store
            )
        return verify_v1(query, self.access_keys, now=now, max_age=self.max_age)

    def key_for(self, verified: Optional[Verified]) -> str:
        """The key that signs the response: the one that matched, else the first."""
        return self.access_keys[verified.key_index] if verified is not None else self.access_keys[0]

    def refusal(self, exc: KoosignError) -> Tuple[bytes, str]:
        """The body of the answer to a refused request and its ``Body-Sign``:
        ``{"resultCode": "000001" | "000002" | "000005", "resultMsg": <the error>}``
        (the message never contains a secret), HTTP 200 as the marketplace expects."""
        body = encode_json({"resultCode": result_code(exc), "resultMsg": str(exc)})
        return body, body_sign(body, self.access_keys[0])
