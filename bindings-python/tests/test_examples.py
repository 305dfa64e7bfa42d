"""examples/python: mypy --strict, the lifecycle through each framework's
test client, the issue-11 attacks and `koosign simulate --protocol v2`
against each example served on loopback (werkzeug / uvicorn in a
subprocess)."""

from __future__ import annotations

import importlib.util
import json
import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from types import ModuleType
from typing import Any, Callable, Dict, Iterator, Tuple

import pytest
from conftest import EXAMPLES, REPO, free_port

import koosign

KEY = "example-access-key-测试"
EXAMPLE_FILES = ["merchant_flask.py", "merchant_fastapi.py"]
TYPED_FILES = EXAMPLE_FILES + ["merchant_django.py", "instances.py"]


def test_mypy_strict_on_the_examples() -> None:
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--strict",
            "--cache-dir",
            str(REPO / "target" / "python" / "mypy-cache"),
            *[str(EXAMPLES / f) for f in TYPED_FILES],
        ],
        capture_output=True,
        text=True,
        cwd=str(EXAMPLES),
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert f"Success: no issues found in {len(TYPED_FILES)} source files" in r.stdout


def test_examples_are_about_50_lines() -> None:
    for f in TYPED_FILES:
        code = [line for line in (EXAMPLES / f).read_text(encoding="utf-8").splitlines() if line.strip()]
        assert len(code) <= 75, (f, len(code))


# --- the lifecycle through the frameworks' test clients ----------------------


def load(name: str, monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    monkeypatch.setenv("KOOSIGN_ACCESS_KEY", KEY)
    spec = importlib.util.spec_from_file_location(f"example_{name}_{uuid.uuid4().hex}", EXAMPLES / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


Send = Callable[[str, bytes], Tuple[int, Any, bytes]]


def flask_sender(monkeypatch: pytest.MonkeyPatch) -> Send:
    client = load("merchant_flask", monkeypatch).app.test_client()

    def send(query: str, body: bytes) -> Tuple[int, Any, bytes]:
        r = client.post("/produce", query_string=query, data=body, content_type="application/json")
        return r.status_code, list(r.headers.items()), r.get_data()

    return send


def fastapi_sender(monkeypatch: pytest.MonkeyPatch) -> Send:
    from fastapi.testclient import TestClient

    client = TestClient(load("merchant_fastapi", monkeypatch).app)

    def send(query: str, body: bytes) -> Tuple[int, Any, bytes]:
        r = client.post("/produce?" + query, content=body, headers={"Content-Type": "application/json"})
        return r.status_code, r.headers.raw, r.content

    return send


def call(send: Send, payload: Any, *, nonce: str | None = None, ts: int | None = None, raw: bytes | None = None) -> Dict[str, Any]:
    body = raw if raw is not None else json.dumps(payload, ensure_ascii=False).encode()
    nonce = nonce or uuid.uuid4().hex.upper()
    ts_s = str(ts if ts is not None else int(time.time() * 1000))
    sig = koosign.sign_v2(body, KEY, nonce, ts_s)
    status, headers, content = send(f"signature={sig}&timestamp={ts_s}&nonce={nonce}", body)
    assert status == 200
    (value,) = [v.decode() if isinstance(v, bytes) else v for n, v in headers if (n.decode() if isinstance(n, bytes) else n) == "Body-Sign"]
    assert koosign.verify_body_sign(value, content, KEY) == 0
    answer: Dict[str, Any] = json.loads(content)
    return answer


@pytest.mark.parametrize("make_sender", [flask_sender, fastapi_sender], ids=["flask", "fastapi"])
def test_lifecycle(make_sender: Callable[[pytest.MonkeyPatch], Send], monkeypatch: pytest.MonkeyPatch) -> None:
    send = make_sender(monkeypatch)
    new = {"activity": "newInstance", "orderId": "CS1", "orderLineId": "CS1-000001", "businessId": "b", "testFlag": "1"}
    first = call(send, new)
    assert first["resultCode"] == "000000" and first["encryptType"] == "1"
    iid = first["instanceId"]
    assert 0 < len(iid) <= 64 and call(send, new)["instanceId"] == iid
    for field in ("userName", "password"):
        wire = first["appInfo"][field]
        assert len(wire) <= 128 and koosign.decrypt_field(wire, KEY, "1")
    q = call(send, {"activity": "queryInstance", "instanceId": iid, "testFlag": "1"})
    assert [i["instanceId"] for i in q["info"]] == [iid]
    for body in (
        {"activity": "refreshInstance", "instanceId": iid, "scene": "RENEWAL", "orderId": "o", "orderLineId": "l"},
        {"activity": "updateInstanceStatus", "instanceId": iid, "status": "FREEZE"},
        {"activity": "updateInstanceStatus", "instanceId": iid, "status": "UNFREEZE"},
        {"activity": "upgradeInstance", "instanceId": iid, "orderId": "o", "orderLineId": "l"},
        {"activity": "releaseInstance", "instanceId": iid, "orderId": "CS1", "orderLineId": "CS1-000001"},
        {"activity": "releaseInstance", "instanceId": iid, "orderId": "CS1", "orderLineId": "CS1-000001"},
    ):
        assert call(send, body)["resultCode"] == "000000", body
    assert call(send, {"activity": "updateInstanceStatus", "instanceId": iid, "status": "FREEZE"})["resultCode"] == "000003"
    assert call(send, {"activity": "queryInstance", "testFlag": "1"})["resultCode"] == "000002"
    assert call(send, {"activity": "nope", "instanceId": iid})["resultCode"] == "000002"
    assert call(send, None, raw=b'{"activity":"queryInstance","instanceId":')["resultCode"] == "000002"
    assert call(send, {"activity": "queryInstance"}, ts=int(time.time() * 1000) - 600_000)["resultCode"] == "000001"
    call(send, {"activity": "queryInstance", "instanceId": iid}, nonce="N1")
    assert call(send, {"activity": "queryInstance", "instanceId": iid}, nonce="N1")["resultCode"] == "000001"


# --- koosign simulate against the examples over real HTTP --------------------


def koosign_binary() -> Path | None:
    path = Path(os.environ.get("KOOSIGN_BIN", REPO / "target" / "release" / "koosign"))
    return path if path.exists() else None


def simulate_reason() -> str | None:
    binary = koosign_binary()
    if binary is None:
        return "target/release/koosign not built (cargo build --release -p koosign-cli; scripts/test-python.sh does)"
    r = subprocess.run([str(binary), "simulate", "--help"], capture_output=True, text=True)
    if r.returncode != 0:
        return "this koosign binary has no `simulate` subcommand yet"
    return None


@pytest.fixture()
def served(request: pytest.FixtureRequest) -> Iterator[str]:
    example = request.param
    port = free_port()
    env = dict(os.environ, KOOSIGN_ACCESS_KEY=KEY, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [sys.executable, str(EXAMPLES / example), str(port)],
        env=env,
        cwd=str(EXAMPLES),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    out = proc.stdout.read().decode() if proc.stdout else ""
                    pytest.fail(f"{example} did not start listening on {port}:\n{out}")
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/produce"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _post(url: str, query: str, body: bytes) -> Dict[str, Any]:
    """One POST over real HTTP; the answer must be 200, JSON, with a header
    named exactly Body-Sign that matches the exact bytes received."""
    import urllib.request

    req = urllib.request.Request(f"{url}?{query}", data=body, method="POST", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        status, headers, content = r.status, r.getheaders(), r.read()
    assert status == 200
    (value,) = [v for n, v in headers if n == "Body-Sign"]
    assert koosign.verify_body_sign(value, content, KEY) == 0
    answer: Dict[str, Any] = json.loads(content)
    return answer


@pytest.mark.parametrize("served", EXAMPLE_FILES, indirect=True)
def test_issue_11_attacks_over_http(served: str) -> None:
    """The S2 digit-shift replay against each example on loopback: refused
    000001 (signed) before and after the genuine request, which is accepted
    once; a nonce that is not printable ASCII is refused too."""
    body = json.dumps({"activity": "queryInstance", "instanceId": "none", "testFlag": "1"}).encode()
    ts = str(int(time.time() * 1000))
    nonce = uuid.uuid4().hex.upper() + "170"
    sig = koosign.sign_v2(body, KEY, nonce, ts)
    genuine = f"signature={sig}&timestamp={ts}&nonce={nonce}"
    shifted = f"signature={sig}&timestamp=0{ts}&nonce={nonce[:-1]}"
    assert koosign.sign_v2(body, KEY, nonce[:-1], "0" + ts) == sig  # the same signed bytes
    assert _post(served, shifted, body)["resultCode"] == "000001"
    assert _post(served, genuine, body)["resultCode"] == "000000"
    assert _post(served, shifted, body)["resultCode"] == "000001"
    assert _post(served, genuine, body)["resultCode"] == "000001"  # the replay
    other = "n%C3%A9"  # nonce "né": not printable ASCII
    assert _post(served, f"signature={koosign.sign_v2(body, KEY, 'né', ts)}&timestamp={ts}&nonce={other}", body)["resultCode"] == "000001"


@pytest.mark.skipif(simulate_reason() is not None, reason=str(simulate_reason()))
@pytest.mark.parametrize("served", EXAMPLE_FILES, indirect=True)
def test_koosign_simulate_passes(served: str) -> None:
    binary = koosign_binary()
    r = subprocess.run(
        [str(binary), "simulate", "--url", served, "--key", KEY, "--protocol", "v2"], capture_output=True, text=True, timeout=120
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert KEY not in r.stdout + r.stderr
    # the same run through the environment variable, as JSON
    env = dict(os.environ, KOOSIGN_ACCESS_KEY=KEY)
    rj = subprocess.run(
        [str(binary), "simulate", "--url", served, "--protocol", "v2", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert rj.returncode == 0, rj.stdout + rj.stderr
    assert json.loads(rj.stdout)
