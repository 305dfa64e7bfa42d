"""Issue 15, Python: two processes on one real redis-server behave as one
endpoint. The Flask example (RedisNonceStore, redis-py) and the FastAPI
example (AsyncRedisNonceStore, redis.asyncio: the replay check awaited by
``Merchant.verify_async``) run as separate processes on loopback, both with
KOOSIGN_REDIS_URL: a request accepted by one is a replay to the other; with
Redis killed every request is refused 000005 (signed), never accepted
unchecked; once Redis is back, both recover without a restart."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from typing import Any, Dict, Iterator, List

import pytest
from conftest import EXAMPLES, free_port

import koosign

KEY = "redis-two-processes-key"
BODY = json.dumps({"activity": "queryInstance", "instanceId": "none", "testFlag": "1"}).encode()

pytest.importorskip("redis")
pytest.importorskip("flask")
pytest.importorskip("fastapi")


def wait_port(port: int, proc: "subprocess.Popen[bytes] | None" = None, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            if (proc is not None and proc.poll() is not None) or time.monotonic() > deadline:
                out = proc.stdout.read().decode() if proc is not None and proc.stdout else ""
                pytest.fail(f"nothing listens on {port}:\n{out}")
            time.sleep(0.05)


class Redis:
    """A redis-server of this test alone (it is killed and restarted)."""

    def __init__(self) -> None:
        server = shutil.which("redis-server")
        if server is None:
            pytest.skip("redis-server is not installed (scripts/test-python.sh installs it)")
        self.server, self.port, self.dir = server, free_port(), tempfile.mkdtemp(prefix="koosign-redis2-")
        self.proc: "subprocess.Popen[bytes] | None" = None
        self.start()

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [self.server, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", self.dir],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_port(self.port)

    def kill(self) -> None:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(10)
            self.proc = None

    def close(self) -> None:
        self.kill()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture()
def setup() -> Iterator[Dict[str, Any]]:
    redis = Redis()
    procs: List["subprocess.Popen[bytes]"] = []
    urls = {}
    try:
        for name in ("merchant_flask.py", "merchant_fastapi.py"):
            port = free_port()
            env = dict(os.environ, KOOSIGN_ACCESS_KEY=KEY, KOOSIGN_REDIS_URL=f"redis://127.0.0.1:{redis.port}/0", PYTHONUNBUFFERED="1")
            p = subprocess.Popen([sys.executable, str(EXAMPLES / name), str(port)], env=env, cwd=str(EXAMPLES),
                                 stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
            procs.append(p)
            wait_port(port, p)
            urls[name] = f"http://127.0.0.1:{port}/produce"
        yield {"redis": redis, "flask": urls["merchant_flask.py"], "fastapi": urls["merchant_fastapi.py"]}
    finally:
        for p in procs:
            p.terminate()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
        redis.close()


def signed(nonce: str) -> str:
    ts = str(int(time.time() * 1000))
    return f"signature={koosign.sign_v2(BODY, KEY, nonce, ts)}&timestamp={ts}&nonce={nonce}"


def post(url: str, query: str) -> str:
    req = urllib.request.Request(f"{url}?{query}", data=BODY, method="POST", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        status, headers, content = r.status, r.getheaders(), r.read()
    code: str = koosign.check_response(status, headers, content, KEY)["result_code"]
    return code


def test_two_processes_one_redis(setup: Dict[str, Any]) -> None:
    flask_url, fastapi_url, redis = setup["flask"], setup["fastapi"], setup["redis"]
    # accepted by one, a replay to the other (both ways)
    q1, q2 = signed(uuid.uuid4().hex.upper()), signed(uuid.uuid4().hex.upper())
    assert post(flask_url, q1) == "000000"
    assert post(fastapi_url, q1) == "000001"
    assert post(fastapi_url, q2) == "000000"
    assert post(flask_url, q2) == "000001"
    assert post(flask_url, q1) == "000001"

    # Redis gone: refused 000005, signed, never accepted unchecked
    redis.kill()
    for url in (flask_url, fastapi_url):
        for _ in range(3):
            assert post(url, signed(uuid.uuid4().hex.upper())) == "000005"

    # Redis back: both recover, no restart; replays across them are refused again
    redis.start()
    for url, other in ((flask_url, fastapi_url), (fastapi_url, flask_url)):
        codes = []
        for _ in range(5):  # a client may spend one request finding its old connection dead
            q = signed(uuid.uuid4().hex.upper())
            codes.append(post(url, q))
            if codes[-1] == "000000":
                break
        assert codes[-1] == "000000" and set(codes) <= {"000000", "000005"}, codes
        assert post(other, q) == "000001"
