"""Merchant.verify_async with an asynchronous store: the core verifies all
but the replay check (Replay::Deferred), the store's coroutine is awaited;
a replay is ReplayedNonce (000001), a store that raises is StoreUnavailable
(000005, the store's exception as __cause__), and an async store handed to
the synchronous verify is refused, never accepted unchecked."""

from __future__ import annotations

import asyncio
from typing import Dict

import pytest
from webcases import KEY, NOW_MS, v2

import koosign


class AsyncStore:
    def __init__(self) -> None:
        self.held: Dict[str, int] = {}
        self.down = False

    async def check_and_insert(self, nonce: str, now_ms: int, expires_at_ms: int) -> bool:
        await asyncio.sleep(0)
        if self.down:
            raise ConnectionError("down")
        if nonce in self.held and self.held[nonce] >= now_ms:
            return False
        self.held[nonce] = expires_at_ms
        return True


def test_verify_async() -> None:
    store = AsyncStore()
    m = koosign.Merchant(KEY, store=store, clock=lambda: NOW_MS)
    req = v2("a1")

    async def go() -> None:
        v = await m.verify_async(req.method, req.query, req.headers, req.body)
        assert v.activity == "newInstance" and store.held == {"a1": v.replay_expires_ms}
        with pytest.raises(koosign.ReplayedNonce) as e:
            await m.verify_async(req.method, req.query, req.headers, req.body)
        assert e.value.result_code == "000001" and e.value.refusal == m.refusal("000001")  # type: ignore[attr-defined]
        store.down = True
        r2 = v2("a2")
        with pytest.raises(koosign.StoreUnavailable) as d:
            await m.verify_async(r2.method, r2.query, r2.headers, r2.body)
        assert d.value.result_code == "000005" and isinstance(d.value.__cause__, ConnectionError)  # type: ignore[attr-defined]
        store.down = False
        assert (await m.verify_async(r2.method, r2.query, r2.headers, r2.body)).replay_key == "a2"
        # a forged request never reaches the store
        forged = v2("a3", key="not the key")
        with pytest.raises(koosign.SignatureMismatch):
            await m.verify_async(forged.method, forged.query, forged.headers, forged.body)
        assert "a3" not in store.held

    asyncio.run(go())


def test_an_async_store_in_the_sync_verify_fails_closed() -> None:
    m = koosign.Merchant(KEY, store=AsyncStore(), clock=lambda: NOW_MS)
    req = v2("s1")
    with pytest.raises(koosign.StoreUnavailable) as e:
        m.verify(req.method, req.query, req.headers, req.body)
    assert e.value.result_code == "000005"  # type: ignore[attr-defined]


def test_the_in_memory_store_through_verify_async() -> None:
    m = koosign.Merchant(KEY, clock=lambda: NOW_MS)
    req = v2("m1")
    assert asyncio.run(m.verify_async(req.method, req.query, req.headers, req.body)).replay_key == "m1"
    with pytest.raises(koosign.ReplayedNonce):
        m.verify(req.method, req.query, req.headers, req.body)
