"""koosign.marketplace.MarketplaceClient (over requests) against `koosign
marketplace` over real loopback HTTP, and against loopback servers that are
slow or answer 5xx (issue 16)."""

from __future__ import annotations

import os
import socket
import subprocess
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator, List, Tuple

import pytest

from koosign.marketplace import MarketplaceClient, MarketplaceError, MarketplaceTimeout, MarketplaceUnavailable

REPO = Path(__file__).resolve().parent.parent.parent
AK, SK = "pyMktAK", "pyMktSecretKey-never-shown"


def _binary() -> Path | None:
    path = Path(os.environ.get("KOOSIGN_BIN", REPO / "target" / "release" / "koosign"))
    return path if path.exists() else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture()
def market(tmp_path: Path) -> Iterator[Tuple[str, Path]]:
    binary = _binary()
    if binary is None:
        pytest.skip("no koosign binary (scripts/test-python.sh builds target/release/koosign)")
    port = _free_port()
    p = subprocess.Popen(
        [str(binary), "marketplace", "--addr", f"127.0.0.1:{port}", "--ak", AK, "--sk", SK, "--quiet", "--data", str(tmp_path)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.time() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert time.time() < deadline, "koosign marketplace did not start"
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}", tmp_path
    finally:
        p.kill()
        p.wait()


@pytest.mark.parametrize("order_id,order_type", [
    ("MOCKPERIODYEARNEW", "NEW"), ("mockonetimenew", "NEW"), ("MOCKONDEMAND", "NEW"), ("MOCKONDEMANDPKG", "NEW"),
    ("MOCKPERIODDAYTRIAL", "TRIAL"), ("MOCKMONTYTRIALTOFORMAL", "TRIAL_TO_FORMAL"),
    ("MOCKMONTYUNSUBSCRIBE", "UNSUBSCRIBE"), ("MOCKMONTYRENEW", "RENEW"), ("MOCKMONTYCHANGE", "CHANGE"),
])
def test_query_order(market: Tuple[str, Path], order_id: str, order_type: str) -> None:
    client = MarketplaceClient(AK, SK, endpoint=market[0])
    r = client.query_order(order_id, f"{order_id.upper()}-000001")
    assert r.result_code == "MKT.0000"
    assert r.order_info["orderId"] == order_id.upper()
    assert r.order_info["orderType"] == order_type
    assert r.order_info["orderLine"][0]["orderLineId"] == f"{order_id.upper()}-000001"


def test_uploads(market: Tuple[str, Path]) -> None:
    client = MarketplaceClient(AK, SK, endpoint=market[0])
    assert client.upload_file("E-1", "report.bin", b"\x00\xffdata")["error_code"] == "MKT.0000"
    assert client.upload_text("E-2", "delivered 中文")["error_code"] == "MKT.0000"
    assert (market[1] / "uploads" / "000001.bin").read_bytes() == b"\x00\xffdata"
    assert "delivered 中文" in (market[1] / "uploads" / "000002.json").read_text(encoding="utf-8")
    with pytest.raises(MarketplaceError) as e:
        client.upload_text("E-3", "x" * 1025)
    assert (e.value.status, e.value.code) == (400, "MKT.0101")


def test_refusals_are_typed_and_explained(market: Tuple[str, Path]) -> None:
    with pytest.raises(MarketplaceError) as e:
        MarketplaceClient(AK, "wrong", endpoint=market[0], explain=True).query_order("MOCKONDEMAND")
    assert (e.value.status, e.value.code) == (401, "APIGW.0301")
    assert "verify aksk signature fail" in e.value.message
    assert e.value.canonical_request is not None and "orderId=MOCKONDEMAND" in e.value.canonical_request
    assert e.value.string_to_sign is not None and e.value.string_to_sign.startswith("SDK-HMAC-SHA256\n")
    with pytest.raises(MarketplaceError) as e:
        MarketplaceClient(AK, SK, endpoint=market[0], retries=0).query_order("NO-SUCH-ORDER")
    assert e.value.code == "MKT.0100"
    client = MarketplaceClient(AK, SK, endpoint=market[0])
    assert SK not in repr(client) and SK not in str(e.value)


class _Scripted(BaseHTTPRequestHandler):
    answers: List[Tuple[int, float]] = []
    count = 0

    def do_GET(self) -> None:
        i = _Scripted.count
        _Scripted.count += 1
        status, delay = _Scripted.answers[i] if i < len(_Scripted.answers) else (200, 0.0)
        time.sleep(delay)
        body = (b'{"resultCode":"MKT.0000","resultMsg":"Success","orderInfo":{"orderId":"A"}}' if status == 200
                else b'{"error_code":"X.%d","error_msg":"scripted"}' % status)
        try:
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except OSError:
            pass

    def log_message(self, *args: object) -> None:
        pass


def _scripted(answers: List[Tuple[int, float]]) -> Tuple[ThreadingHTTPServer, str]:
    _Scripted.answers, _Scripted.count = answers, 0
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Scripted)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv, f"http://127.0.0.1:{srv.server_address[1]}"


def test_retries_on_5xx_not_4xx() -> None:
    srv, ep = _scripted([(503, 0.0), (502, 0.0)])
    try:
        assert MarketplaceClient(AK, SK, endpoint=ep, retries=2, backoff=0.01).query_order("A").order_info == {"orderId": "A"}
        assert _Scripted.count == 3
    finally:
        srv.shutdown()
    srv, ep = _scripted([(500, 0.0)] * 10)
    try:
        with pytest.raises(MarketplaceError) as e:
            MarketplaceClient(AK, SK, endpoint=ep, retries=2, backoff=0.01).query_order("A")
        assert (e.value.status, e.value.code, _Scripted.count) == (500, "X.500", 3)
    finally:
        srv.shutdown()
    srv, ep = _scripted([(403, 0.0)] * 10)
    try:
        with pytest.raises(MarketplaceError) as e:
            MarketplaceClient(AK, SK, endpoint=ep, retries=3, backoff=0.01).query_order("A")
        assert (e.value.status, _Scripted.count) == (403, 1)
    finally:
        srv.shutdown()


def test_timeouts_and_unreachable() -> None:
    srv, ep = _scripted([(200, 3.0)] * 10)
    try:
        t = time.time()
        with pytest.raises(MarketplaceTimeout):
            MarketplaceClient(AK, SK, endpoint=ep, timeout=0.5, retries=1, backoff=0.01).query_order("A")
        assert time.time() - t < 3.0
        assert _Scripted.count == 2
    finally:
        srv.shutdown()
    with pytest.raises(MarketplaceUnavailable):
        MarketplaceClient(AK, SK, endpoint=f"http://127.0.0.1:{_free_port()}", retries=1, backoff=0.01).query_order("A")
