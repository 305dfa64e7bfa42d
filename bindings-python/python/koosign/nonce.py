"""Replay stores: where a verified request's replay key is recorded.

One contract, the core's ``NonceStore`` (SCHEMES.md §S1 item 8, §S2): a store
is any object with::

    check_and_insert(key: str, now_ms: int, expires_at_ms: int) -> bool

returning ``True`` when ``key`` was not held (it is now recorded until
``expires_at_ms``) and ``False`` when it is a replay. ``key`` is the core's
``Verified.replay_key``: a V2 / kit nonce as received, a V1 token as
``"v1:" + token`` (after the space-as-plus repair), so one store serves every
protocol. :meth:`koosign.Merchant.verify` calls it only for a request that is
verified, fresh and well formed. An exception it raises (a store that is down)
refuses the request as :class:`koosign.StoreUnavailable` (``000005``, signed),
never accepts it unchecked; the next request tries the store again.

* :class:`koosign.InMemoryNonceStore`: the core's table, capacity chosen at
  run time, one process;
* :class:`RedisNonceStore`: several processes or machines (redis-py);
* :class:`AsyncRedisNonceStore`: the same for ``await merchant.verify_async``
  (``redis.asyncio``), for FastAPI / Starlette.
"""

from __future__ import annotations

import hashlib
from typing import Any, Protocol

from ._koosign import InMemoryNonceStore

__all__ = ["AsyncRedisNonceStore", "InMemoryNonceStore", "NonceStore", "RedisNonceStore"]


class NonceStore(Protocol):
    """What :meth:`koosign.Merchant.verify` (and the one-shot ``verify_*``
    functions' ``nonce_store``) accept."""

    def check_and_insert(self, nonce: str, now_ms: int, expires_at_ms: int) -> bool: ...


class _RedisKeys:
    def __init__(self, client: Any, prefix: str) -> None:
        self._client = client
        self.prefix = prefix

    def key(self, nonce: str) -> str:
        """The Redis key of a replay key: ``prefix + sha256(key)``."""
        return self.prefix + hashlib.sha256(nonce.encode("utf-8", "surrogatepass")).hexdigest()

    def __repr__(self) -> str:
        return f"{type(self).__name__}(prefix={self.prefix!r})"


def _ttl(now_ms: int, expires_at_ms: int) -> int:
    return max(1, int(expires_at_ms) - int(now_ms))


class RedisNonceStore(_RedisKeys):
    """A replay store shared by several processes or machines, in Redis.

    Each key is one Redis key, ``prefix + sha256(replay_key)``, set with
    ``SET key 1 NX PX ttl`` where ``ttl = expires_at_ms - now_ms`` (at least
    1 ms): atomic, so two servers receiving the same replay cannot both
    accept it. A Redis error refuses the request (``StoreUnavailable``,
    ``000005``); redis-py reconnects on the next request.

    ``client`` is a ``redis.Redis`` (redis-py) or anything with a compatible
    ``set(name, value, nx=..., px=...)``.
    """

    def __init__(self, client: Any, *, prefix: str = "koosign:nonce:") -> None:
        super().__init__(client, prefix)

    @classmethod
    def from_url(cls, url: str, *, prefix: str = "koosign:nonce:", **kwargs: Any) -> RedisNonceStore:
        """A store on a new ``redis.Redis.from_url(url, **kwargs)`` client."""
        import redis  # an optional dependency: pip install koosign[redis]

        return cls(redis.Redis.from_url(url, **kwargs), prefix=prefix)

    def check_and_insert(self, nonce: str, now_ms: int, expires_at_ms: int) -> bool:
        return bool(self._client.set(self.key(nonce), b"1", nx=True, px=_ttl(now_ms, expires_at_ms)))


class AsyncRedisNonceStore(_RedisKeys):
    """:class:`RedisNonceStore` for ``await merchant.verify_async(...)``:
    ``client`` is a ``redis.asyncio.Redis``; ``check_and_insert`` is a
    coroutine, so the event loop is never blocked on Redis."""

    def __init__(self, client: Any, *, prefix: str = "koosign:nonce:") -> None:
        super().__init__(client, prefix)

    @classmethod
    def from_url(cls, url: str, *, prefix: str = "koosign:nonce:", **kwargs: Any) -> AsyncRedisNonceStore:
        """A store on a new ``redis.asyncio.Redis.from_url(url, **kwargs)`` client."""
        import redis.asyncio  # an optional dependency: pip install koosign[redis]

        return cls(redis.asyncio.Redis.from_url(url, **kwargs), prefix=prefix)

    async def check_and_insert(self, nonce: str, now_ms: int, expires_at_ms: int) -> bool:
        return bool(await self._client.set(self.key(nonce), b"1", nx=True, px=_ttl(now_ms, expires_at_ms)))
