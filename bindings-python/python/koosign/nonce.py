"""Nonce stores for replay protection: V2 / kit nonces and V1 ``authToken`` values.

A nonce store is any object with::

    check_and_insert(nonce: str, now_ms: int, expires_at_ms: int) -> bool

returning ``True`` when the nonce was not held (it is now recorded until
``expires_at_ms``) and ``False`` when it is a replay. The Rust core calls it
through :func:`koosign.verify_v2` / :func:`koosign.verify_kit` /
:func:`koosign.verify_v1` / :func:`koosign.verify_v1_json` only after the
signature and the window passed (so forgeries cannot fill it), with
``expires_at_ms = timestamp + window`` and ``now_ms`` = the verifier's
clock (the request's own timestamp when no window was given): the same rule
as the core's own cache. A V2 nonce is given as received; a V1 token as
``"v1:" + token`` (after the space-as-plus repair, so ``+``, ``%2B`` and
space variants of one token are one nonce), so one store serves both. An
exception raised by the store propagates unchanged and the request is
refused (fail closed).
"""

from __future__ import annotations

import hashlib
import heapq
import threading
from typing import Any, Dict, List, Protocol, Tuple

from ._koosign import KoosignError

__all__ = ["InMemoryNonceStore", "NonceStore", "RedisNonceStore"]


class NonceStore(Protocol):
    """What :func:`koosign.verify_v2`, :func:`koosign.verify_kit`, :func:`koosign.verify_v1` and
    :func:`koosign.verify_v1_json` accept as ``nonce_store``."""

    def check_and_insert(self, nonce: str, now_ms: int, expires_at_ms: int) -> bool: ...


def _store_full() -> KoosignError:
    err = KoosignError("nonce store is full of unexpired nonces")
    err.code = "NONCE_STORE_FULL"
    return err


class InMemoryNonceStore:
    """An in-process, thread-safe, bounded nonce store.

    Holds at most ``max_entries`` unexpired nonces; expired ones are dropped
    as time passes. When full of unexpired nonces it refuses the request
    (:class:`koosign.KoosignError`, ``code == "NONCE_STORE_FULL"``) rather
    than forget one. One process only: use :class:`RedisNonceStore` when
    several processes or machines receive notifications.
    """

    def __init__(self, max_entries: int = 100_000) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self.max_entries = max_entries
        self._lock = threading.Lock()
        self._expiry: Dict[str, int] = {}
        self._heap: List[Tuple[int, str]] = []

    def __len__(self) -> int:
        with self._lock:
            return len(self._expiry)

    def _evict(self, now_ms: int) -> None:
        heap, expiry = self._heap, self._expiry
        while heap and heap[0][0] < now_ms:
            exp, nonce = heapq.heappop(heap)
            if expiry.get(nonce) == exp:
                del expiry[nonce]

    def check_and_insert(self, nonce: str, now_ms: int, expires_at_ms: int) -> bool:
        with self._lock:
            self._evict(now_ms)
            held = self._expiry.get(nonce)
            if held is not None and held >= now_ms:
                return False
            if held is None and len(self._expiry) >= self.max_entries:
                raise _store_full()
            self._expiry[nonce] = expires_at_ms
            heapq.heappush(self._heap, (expires_at_ms, nonce))
            return True

    def __repr__(self) -> str:
        return f"InMemoryNonceStore(len={len(self)}, max_entries={self.max_entries})"


class RedisNonceStore:
    """A nonce store shared by several processes or machines, in Redis.

    Each nonce is one key, ``prefix + sha256(nonce)``, set with
    ``SET key 1 NX PX ttl`` where ``ttl = expires_at_ms - now_ms`` (at least
    1 ms): atomic, so two servers receiving the same replay cannot both
    accept it. Redis errors propagate (the request is refused).

    ``client`` is a ``redis.Redis`` (redis-py) or anything with a compatible
    ``set(name, value, nx=..., px=...)``.
    """

    def __init__(self, client: Any, *, prefix: str = "koosign:nonce:") -> None:
        self._client = client
        self.prefix = prefix

    @classmethod
    def from_url(cls, url: str, *, prefix: str = "koosign:nonce:", **kwargs: Any) -> RedisNonceStore:
        """A store on a new ``redis.Redis.from_url(url, **kwargs)`` client."""
        import redis  # an optional dependency: pip install koosign[redis]

        return cls(redis.Redis.from_url(url, **kwargs), prefix=prefix)

    def key(self, nonce: str) -> str:
        """The Redis key for ``nonce``."""
        return self.prefix + hashlib.sha256(nonce.encode("utf-8", "surrogatepass")).hexdigest()

    def check_and_insert(self, nonce: str, now_ms: int, expires_at_ms: int) -> bool:
        ttl = max(1, int(expires_at_ms) - int(now_ms))
        return bool(self._client.set(self.key(nonce), b"1", nx=True, px=ttl))

    def __repr__(self) -> str:
        return f"RedisNonceStore(prefix={self.prefix!r})"
