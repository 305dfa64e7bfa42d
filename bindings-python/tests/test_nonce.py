"""Nonce stores: the core's replay semantics (a nonce is kept until
timestamp + window, only verified requests reach the store), the bounded
in-memory store, and RedisNonceStore against a real redis-server."""

from __future__ import annotations

import threading
import time
from typing import List, Tuple

import pytest
from conftest import ACCESS_KEY, V2_BODY, V2_NONCE, V2_NOW, V2_QUERY

import koosign

TS_MS = 1680508066618


class Recorder:
    """A store that records what the core asks of it."""

    def __init__(self) -> None:
        self.calls: List[Tuple[str, int, int]] = []
        self.inner = koosign.InMemoryNonceStore()

    def check_and_insert(self, nonce: str, now_ms: int, expires_at_ms: int) -> bool:
        self.calls.append((nonce, now_ms, expires_at_ms))
        return self.inner.check_and_insert(nonce, now_ms, expires_at_ms)


def signed(nonce: str, ts_ms: int = TS_MS, body: bytes = V2_BODY) -> str:
    sig = koosign.sign_v2(body, ACCESS_KEY, nonce, str(ts_ms))
    return f"signature={sig}&timestamp={ts_ms}&nonce={nonce}"


def test_the_core_decides_lifetime_and_order() -> None:
    rec = Recorder()
    koosign.verify_v2(V2_QUERY, V2_BODY, ACCESS_KEY, now=V2_NOW, window=60, nonce_store=rec)
    assert rec.calls == [(V2_NONCE, int(V2_NOW * 1000), TS_MS + 60_000)]
    # other windows: expiry = timestamp + window
    koosign.verify_v2(signed("n2"), V2_BODY, ACCESS_KEY, now=V2_NOW, window=300, nonce_store=rec)
    assert rec.calls[-1] == ("n2", int(V2_NOW * 1000), TS_MS + 300_000)
    # no window: the core's default lifetime from the timestamp
    koosign.verify_v2(signed("n3"), V2_BODY, ACCESS_KEY, window=None, nonce_store=rec)
    assert rec.calls[-1] == ("n3", TS_MS, TS_MS + 60_000)
    # forged, stale or malformed requests never reach the store
    n = len(rec.calls)
    for call in (
        lambda: koosign.verify_v2(V2_QUERY, V2_BODY + b" ", ACCESS_KEY, now=V2_NOW, nonce_store=rec),
        lambda: koosign.verify_v2(V2_QUERY, V2_BODY, ACCESS_KEY, now=V2_NOW + 120, nonce_store=rec),
        lambda: koosign.verify_v2("signature=x&timestamp=1&nonce=", V2_BODY, ACCESS_KEY, nonce_store=rec),
    ):
        with pytest.raises(koosign.KoosignError):
            call()
    assert len(rec.calls) == n


def test_kit_uses_the_store_too() -> None:
    store = koosign.InMemoryNonceStore()
    sig = koosign.sign_v2(V2_BODY, ACCESS_KEY, "kn", str(TS_MS), kit=True)
    h = {"x-sign": sig, "x-timestamp": str(TS_MS), "x-nonce": "kn"}
    koosign.verify_kit(h, V2_BODY, ACCESS_KEY, now=V2_NOW, nonce_store=store)
    with pytest.raises(koosign.ReplayedNonce):
        koosign.verify_kit(h, V2_BODY, ACCESS_KEY, now=V2_NOW, nonce_store=store)


def test_replay_until_timestamp_plus_window() -> None:
    store = koosign.InMemoryNonceStore()
    q = signed("n")
    koosign.verify_v2(q, V2_BODY, ACCESS_KEY, now=TS_MS / 1000, nonce_store=store)
    # replayed anywhere inside the window: refused
    for dt in (0.001, 30, 59.999, 60):
        with pytest.raises(koosign.ReplayedNonce):
            koosign.verify_v2(q, V2_BODY, ACCESS_KEY, now=TS_MS / 1000 + dt, nonce_store=store)
    # after it the timestamp itself is stale, so the nonce can be forgotten
    with pytest.raises(koosign.StaleTimestamp):
        koosign.verify_v2(q, V2_BODY, ACCESS_KEY, now=TS_MS / 1000 + 60.001, nonce_store=store)
    # the store forgets it past the expiry (the same nonce with a new timestamp is a new request)
    q2 = signed("n", TS_MS + 61_000)
    koosign.verify_v2(q2, V2_BODY, ACCESS_KEY, now=(TS_MS + 61_000) / 1000, nonce_store=store)


def test_in_memory_store_bounded_and_evicting() -> None:
    s = koosign.InMemoryNonceStore(max_entries=2)
    assert s.check_and_insert("a", 0, 100)
    assert not s.check_and_insert("a", 50, 150)
    assert s.check_and_insert("b", 50, 150)
    with pytest.raises(koosign.KoosignError) as e:
        s.check_and_insert("c", 60, 160)
    assert e.value.code == "NONCE_STORE_FULL"
    # "a" expires after 100: room again, and "a" may be reused
    assert s.check_and_insert("c", 101, 200)
    assert s.check_and_insert("a", 151, 250)
    assert len(s) == 2
    assert not s.check_and_insert("a", 250, 300)  # expiry is inclusive, as in the core
    with pytest.raises(ValueError):
        koosign.InMemoryNonceStore(max_entries=0)


def test_in_memory_store_memory_stays_bounded() -> None:
    s = koosign.InMemoryNonceStore(max_entries=100)
    for i in range(10_000):
        assert s.check_and_insert(f"n{i}", i * 10, i * 10 + 50)
    assert len(s) <= 100 and s.max_entries == 100  # the core's table: allocated once, never grows


def test_in_memory_store_threads() -> None:
    s = koosign.InMemoryNonceStore()
    results: List[bool] = []
    lock = threading.Lock()

    def worker(k: int) -> None:
        for i in range(2000):
            r = s.check_and_insert(f"n{i}", 0, 10**12)
            with lock:
                results.append(r)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results.count(True) == 2000 and len(s) == 2000


# --- Redis ------------------------------------------------------------------


@pytest.fixture()
def redis_client(redis_url: str):  # type: ignore[no-untyped-def]
    import redis

    client = redis.Redis.from_url(redis_url)
    client.flushdb()
    yield client
    client.flushdb()
    client.close()


def test_redis_store_set_nx_px(redis_client) -> None:  # type: ignore[no-untyped-def]
    store = koosign.RedisNonceStore(redis_client)
    koosign.verify_v2(V2_QUERY, V2_BODY, ACCESS_KEY, now=V2_NOW, nonce_store=store)
    key = store.key(V2_NONCE)
    assert redis_client.get(key) == b"1"
    ttl = redis_client.pttl(key)
    assert 0 < ttl <= TS_MS + 60_000 - int(V2_NOW * 1000)  # kept until timestamp + window
    with pytest.raises(koosign.ReplayedNonce):
        koosign.verify_v2(V2_QUERY, V2_BODY, ACCESS_KEY, now=V2_NOW, nonce_store=store)


def test_redis_store_shared_between_machines(redis_url: str, redis_client) -> None:  # type: ignore[no-untyped-def]
    a = koosign.RedisNonceStore.from_url(redis_url)
    b = koosign.RedisNonceStore.from_url(redis_url)
    q = signed("shared")
    koosign.verify_v2(q, V2_BODY, ACCESS_KEY, now=V2_NOW, nonce_store=a)
    with pytest.raises(koosign.ReplayedNonce):
        koosign.verify_v2(q, V2_BODY, ACCESS_KEY, now=V2_NOW, nonce_store=b)
    # a different prefix is a different namespace
    c = koosign.RedisNonceStore.from_url(redis_url, prefix="other:")
    koosign.verify_v2(q, V2_BODY, ACCESS_KEY, now=V2_NOW, nonce_store=c)


def test_redis_store_expires(redis_client) -> None:  # type: ignore[no-untyped-def]
    store = koosign.RedisNonceStore(redis_client)
    now_ms = int(time.time() * 1000)
    assert store.check_and_insert("short", now_ms, now_ms + 150)
    assert not store.check_and_insert("short", now_ms, now_ms + 150)
    time.sleep(0.3)
    assert store.check_and_insert("short", now_ms + 300, now_ms + 450)
    # an expiry already reached still records the nonce for at least 1 ms
    assert store.check_and_insert("past", now_ms, now_ms - 5)


def test_redis_store_concurrent_replays(redis_url: str, redis_client) -> None:  # type: ignore[no-untyped-def]
    stores = [koosign.RedisNonceStore.from_url(redis_url) for _ in range(8)]
    q = signed("race")
    barrier = threading.Barrier(len(stores))
    outcomes: List[str] = []
    lock = threading.Lock()

    def attempt(store: koosign.RedisNonceStore) -> None:
        barrier.wait()
        try:
            koosign.verify_v2(q, V2_BODY, ACCESS_KEY, now=V2_NOW, nonce_store=store)
            r = "ok"
        except koosign.ReplayedNonce:
            r = "replay"
        with lock:
            outcomes.append(r)

    threads = [threading.Thread(target=attempt, args=(s,)) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["ok"] + ["replay"] * 7


def test_redis_down_refuses(redis_url: str) -> None:
    import redis

    from conftest import free_port

    dead = koosign.RedisNonceStore(redis.Redis(port=free_port(), socket_connect_timeout=0.5))
    with pytest.raises(redis.exceptions.ConnectionError):
        koosign.verify_v2(V2_QUERY, V2_BODY, ACCESS_KEY, now=V2_NOW, nonce_store=dead)
