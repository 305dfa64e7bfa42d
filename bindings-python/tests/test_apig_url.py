"""S6 from a whole URL (docs/SCHEMES.md S6 "(decision) Signing a whole URL"):
``ApigSigner.sign(method, url, ...)`` splits the URL with the core's
``split_url``.

* It agrees with Huawei's Python SDK on random URLs
  (reference/python/apig_ref.py ``urls``: the SDK signs the parts a client
  sends, split with the standard library).
* Round trip through ``requests``: the request ``requests`` sends for the
  same URL, with the signed headers, is accepted by a loopback server that
  verifies with the core (``koosign.verify_apig`` over what it received).
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Iterator, List, Tuple

import pytest
import requests

import koosign

REPO = Path(__file__).resolve().parent.parent.parent


def _ref_python() -> str | None:
    py = os.environ.get("KOOSIGN_REF_PY") or str(REPO / "target" / "ref-venv" / "bin" / "python")
    return py if Path(py).exists() else None


@pytest.mark.skipif(
    _ref_python() is None, reason="Huawei SDK reference venv absent (scripts/setup-ref-venv.sh creates it)"
)
def test_agrees_with_the_huawei_sdk_on_random_urls() -> None:
    seed = os.environ.get("KOOSIGN_REF_SEED", str(os.getpid()))
    out = subprocess.run(
        [str(_ref_python()), str(REPO / "reference" / "python" / "apig_ref.py"), "urls", seed, "400"],
        capture_output=True, check=True, text=True, encoding="utf-8",
    )
    cases = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(cases) == 400
    for c in cases:
        signed = koosign.ApigSigner(c["ak"], c["sk"]).sign(
            c["method"], c["url"], list(c["headers"].items()), c["body"].encode("utf-8")
        )
        assert signed.authorization == c["authorization"], f"seed {seed}: {c['url']}"
        assert signed["Host"] == c["host"], f"seed {seed}: {c['url']}"


class _Verifier(BaseHTTPRequestHandler):
    """Verifies every request with the core, as received; records it."""

    seen: List[Tuple[str, str, object]] = []
    credentials = [("reqAK", "reqSecretKey")]

    def _any(self) -> None:
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n)
        # A proxy request carries the absolute URL; an origin request the path.
        url = self.path if self.path.startswith("http") else f"http://{self.headers['Host']}{self.path}"
        try:
            verdict: object = koosign.verify_apig(self.command, url, list(self.headers.items()), body, self.credentials)
            status, text = 200, b"ok"
        except koosign.KoosignError as e:
            verdict, status, text = e, 401, e.code.encode()
        _Verifier.seen.append((self.command, self.path, verdict))
        self.send_response(status)
        self.send_header("Content-Length", str(len(text)))
        self.end_headers()
        self.wfile.write(text)

    do_GET = do_POST = do_PUT = do_DELETE = _any

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def server() -> Iterator[int]:
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _Verifier)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    _Verifier.seen = []
    try:
        yield srv.server_address[1]
    finally:
        srv.shutdown()
        srv.server_close()


# (method, URL, the path+query requests must send). {P}: the server's port.
# Default ports and other hosts go through the server as an HTTP proxy
# (requests then sends the absolute URL; the Host header is the signed one).
ROUND_TRIPS = [
    ("GET", "http://127.0.0.1:{P}/a/./b/../api/order/query?orderId=X&orderLineId=X-1#frag",
     "/a/api/order/query?orderId=X&orderLineId=X-1"),
    ("GET", "http://LocalHost:{P}/../../x/..?a=&a=&b#f", "/?a=&a=&b"),
    ("GET", "http://MKT.Example.COM:80/v1/./中文/%41?q=é x&r=%2B&&e", "http://mkt.example.com:80/v1/%E4%B8%AD%E6%96%87/A?q=%C3%A9%20x&r=%2B&&e"),  # requests unquotes %41
    ("GET", "http://mkt.example.com:080/x/y/../z?o=1", "http://mkt.example.com:80/x/z?o=1"),
    ("POST", "http://127.0.0.1:{P}/market-event/E1/../E2/file?x=%20", "/market-event/E2/file?x=%20"),
    ("PUT", "http://127.0.0.1:{P}/p a/é/./?k=a+b&k=&k", "/p%20a/%C3%A9/?k=a+b&k=&k"),
]


@pytest.mark.parametrize("method,url,wire", ROUND_TRIPS)
def test_round_trip_through_requests(server: int, method: str, url: str, wire: str) -> None:
    url = url.replace("{P}", str(server))
    body = b'{"orderId":"CS1"}' if method in ("POST", "PUT") else b""
    headers = {"Content-Type": "application/json"} if body else {}
    signed = koosign.ApigSigner("reqAK", "reqSecretKey").sign(method, url, headers, body)
    proxies = {"http": f"http://127.0.0.1:{server}"} if f":{server}" not in url else {}
    r = requests.request(method, url, headers={**headers, **signed}, data=body, proxies=proxies, timeout=10)
    assert r.status_code == 200, r.text
    [(m, target, verdict)] = _Verifier.seen
    assert (m, target) == (method, wire)
    assert verdict == 0


def test_one_byte_changed_is_refused(server: int) -> None:
    url = f"http://127.0.0.1:{server}/a/../order?orderId=A"
    signed = koosign.ApigSigner("reqAK", "reqSecretKey").sign("GET", url)
    r = requests.get(url.replace("orderId=A", "orderId=B"), headers=dict(signed), timeout=10)
    assert r.status_code == 401
    [(_, _, verdict)] = _Verifier.seen
    assert isinstance(verdict, koosign.SignatureMismatch)


@pytest.mark.parametrize(
    "url,exc",
    [
        ("http://h/a/%2e%2e/b", koosign.AmbiguousRequest),
        ("http://u:p@h/", koosign.MalformedRequest),
        ("http://0x7f.1/", koosign.MalformedRequest),
        ("http://h/a\\b", koosign.MalformedRequest),
        ("http://h/x%zz", koosign.MalformedRequest),
    ],
)
def test_urls_the_clients_disagree_on_are_refused(url: str, exc: type) -> None:
    with pytest.raises(exc):
        koosign.ApigSigner("AK", "SK").sign("GET", url)


def test_path_as_is_keeps_the_path() -> None:
    h = {"X-Sdk-Date": "20200608T023900Z"}
    a = koosign.ApigSigner("AK", "SK").sign("GET", "http://h/a/../b", h, path_as_is=True)
    assert a.canonical_request.split("\n")[1] == "/a/../b/"
    b = koosign.ApigSigner("AK", "SK").sign("GET", "http://h/a/../b", h)
    assert b.canonical_request.split("\n")[1] == "/b/"


def test_the_signature_object_is_as_before() -> None:
    """``sign`` is native and builds the ApigSignature itself (issue 14): the
    same type, items in order (``Authorization`` last), the intermediates as
    instance attributes, picklable, and the constructor still works."""
    import pickle

    s = koosign.ApigSigner("AccessKey", "SecretKey").sign(
        "POST", "https://Example.COM:443/a/./b?x=1", {"Content-Type": "text/plain"}, b"body", now=1680508066.0
    )
    assert type(s) is koosign.ApigSignature and isinstance(s, dict)
    assert list(s) == ["X-Sdk-Date", "X-Sdk-Content-Sha256", "Host", "Authorization"]
    assert s == {
        "X-Sdk-Date": "20230403T074746Z",
        "X-Sdk-Content-Sha256": "UNSIGNED-PAYLOAD",
        "Host": "example.com",
        "Authorization": s.authorization,
    }
    names = ["canonical_request", "string_to_sign", "signature", "signed_headers", "canonical_query", "authorization"]
    assert sorted(vars(s)) == sorted(names)
    assert all(type(getattr(s, n)) is str for n in names)
    assert s.canonical_request.startswith("POST\n/a/b/\nx=1\n")
    assert s.authorization.endswith("Signature=" + s.signature)
    back = pickle.loads(pickle.dumps(s))
    assert type(back) is koosign.ApigSignature and back == s and vars(back) == vars(s)
    again = koosign.ApigSignature(dict(s), {n: getattr(s, n) for n in names})
    assert again == s and vars(again) == vars(s)


@pytest.mark.parametrize(
    "headers",
    [
        {"X-Sdk-Date": "20230403T074746Z", "x-b": " v ", "A_c": "1", "HOST": "h.example"},
        {"x-sdk-date": "20230403t074746z", "Content-Type": "application/json", "b": b"bytes"},
        {},
    ],
)
def test_headers_as_a_dict_or_as_pairs_sign_the_same(headers: dict) -> None:
    """An exact dict is read in place; pairs, a Mapping and a dict subclass
    through ``items()``: the same request either way."""
    import collections

    class Sub(dict):  # a dict subclass whose items() is what counts
        def items(self):  # type: ignore[override]
            return list(super().items())

    signer = koosign.ApigSigner("AccessKey", "SecretKey")
    url = "https://mkt.myhuaweicloud.com/api/x?b=2&a=1"
    forms = [headers, list(headers.items()), collections.OrderedDict(headers), Sub(headers)]
    got = [signer.sign("GET", url, h, b"", now=1680508066.0) for h in forms]
    for g in got[1:]:
        assert g == got[0] and vars(g) == vars(got[0])


def test_bad_header_types_are_refused_as_before() -> None:
    signer = koosign.ApigSigner("AccessKey", "SecretKey")
    with pytest.raises(TypeError, match="headers must be str or bytes, not int"):
        signer.sign("GET", "https://h/", {"a": 1})
    with pytest.raises(TypeError, match="headers must be str or bytes, not int"):
        signer.sign("GET", "https://h/", [("a", 1)])
    with pytest.raises(koosign.MalformedRequest):
        signer.sign("GET", "https://h/", {"a": "\ud800"})
