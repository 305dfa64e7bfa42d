"""Thread safety under concurrent calls, and the GIL released for big bodies."""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

import pyref
from conftest import ACCESS_KEY, V2_BODY, V2_NOW, V2_QUERY

import koosign

THREADS = 8


def _work(i: int) -> None:
    key = f"key-{i % 5}-密钥"
    # half the bodies below the 2 KiB threshold, half above (GIL released)
    body = (f'{{"i":{i},"pad":"' + "x" * (i % 2) * 5000 + '"}').encode()
    nonce, ts = f"nonce-{i}", str(1680508066618 + i)
    sig = koosign.sign_v2(body, key, nonce, ts)
    assert sig == pyref.sign_v2(body, key, nonce, ts)
    q = f"signature={sig}&timestamp={ts}&nonce={nonce}"
    v = koosign.verify_v2(q, body, ["old", key], window=None)
    assert v.key_index == 1 and v.body == body
    assert koosign.body_sign(body, key) == pyref.body_sign(body, key)
    wire = koosign.encrypt_field(f"user{i}", key, "2")
    assert koosign.decrypt_field(wire, key) == f"user{i}"
    assert koosign.verify_v1(koosign.build_v1_query([("timeStamp", "20200727073711903"), ("i", str(i))], key), key)
    h = koosign.ApigSigner("ak", key).sign("POST", "https://h/p?i=1", {"X-Sdk-Date": "20200608T023900Z"}, body)
    assert koosign.verify_apig("POST", "https://h/p?i=1", {"X-Sdk-Date": "20200608T023900Z", **h}, body, [("ak", key)]) == 0


def test_concurrent_calls_agree_with_the_reference() -> None:
    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(_work, range(800)))


def test_shared_signer_and_results_across_threads() -> None:
    signer = koosign.ApigSigner("ak", "sk")
    verified = koosign.verify_v2(V2_QUERY, V2_BODY, ACCESS_KEY, window=None)
    expected = signer.sign("GET", "https://h/x", {"X-Sdk-Date": "20200608T023900Z"})

    def use(_: int) -> None:
        assert signer.sign("GET", "https://h/x", {"X-Sdk-Date": "20200608T023900Z"}) == expected
        assert verified.json()["orderId"] == "CS2211181819B4LVS"

    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(use, range(500)))


def test_one_nonce_many_threads_exactly_one_wins() -> None:
    for big in (False, True):
        store = koosign.InMemoryNonceStore()
        body = V2_BODY if not big else V2_BODY[:-1] + b"," + b'"pad":"' + b"y" * 4096 + b'"}'
        sig = koosign.sign_v2(body, ACCESS_KEY, "the-nonce", "1680508066618")
        q = f"signature={sig}&timestamp=1680508066618&nonce=the-nonce"
        barrier = threading.Barrier(THREADS)
        outcomes: list[str] = []
        lock = threading.Lock()

        def attempt() -> None:
            barrier.wait()
            try:
                koosign.verify_v2(q, body, ACCESS_KEY, now=V2_NOW, nonce_store=store)
                r = "ok"
            except koosign.ReplayedNonce:
                r = "replay"
            with lock:
                outcomes.append(r)

        threads = [threading.Thread(target=attempt) for _ in range(THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert sorted(outcomes) == ["ok"] + ["replay"] * (THREADS - 1)


def _progress_during(call: Callable[[], object]) -> int:
    """How many times this thread ran while `call` ran in another thread
    (between the two clock readings that bracket the call)."""
    done = threading.Event()
    span: list[float] = []

    def target() -> None:
        try:
            span.append(time.perf_counter())
            call()
            span.append(time.perf_counter())
        finally:
            done.set()

    t = threading.Thread(target=target)
    stamps: list[float] = []
    t.start()
    while not done.is_set():
        stamps.append(time.perf_counter())
    t.join()
    assert len(span) == 2, "the call failed"
    return sum(1 for s in stamps if span[0] < s < span[1])


def test_gil_released_for_big_bodies() -> None:
    """With a long switch interval, a thread that keeps the GIL in C code
    stops every other thread (0 ticks); one that releases it does not."""
    import sys

    # a kit body must not start with an ASCII digit (S2b), so the MAC is computed
    big = b"{" + os.urandom(32 * 1024 * 1024 - 1)
    ts = "1680508066618"
    key = ACCESS_KEY
    sig = koosign.sign_v2(big, key, "n", ts)
    kit_sig = koosign.sign_v2(big, key, "n", ts, kit=True)
    q = f"signature={sig}&timestamp={ts}&nonce=n"
    below = b"x" * (koosign.DETACH_THRESHOLD - 1)
    old = sys.getswitchinterval()
    sys.setswitchinterval(0.25)
    try:
        assert _progress_during(lambda: big.count(b"ab")) == 0  # the control: C code holding the GIL
        for i, call in enumerate((
            lambda: koosign.verify_v2(q, big, key, window=None),
            lambda: koosign.verify_kit({"x-sign": kit_sig, "x-timestamp": ts, "x-nonce": "n"}, big, key, window=None),
            lambda: koosign.body_sign(big, key),
            lambda: koosign.sign_v2(big, key, "n", ts, kit=True),
            lambda: koosign.licence_sign(ts, "n", big, key),
            lambda: koosign.ApigSigner("ak", "sk").sign("POST", "https://h/", {"X-Sdk-Date": "20200608T023900Z"}, big),
        )):
            assert _progress_during(call) > 1000, f"call #{i} kept the GIL"
        # Below 2 KiB the call is too short to be worth releasing: the GIL is kept.
        # (A single call just above the threshold releases it too, but for about a
        # microsecond: whether another thread wakes up in time is a race, not a test.)
        assert _progress_during(lambda: [koosign.body_sign(below, key) for _ in range(20000)]) == 0
    finally:
        sys.setswitchinterval(old)
