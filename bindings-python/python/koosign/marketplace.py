"""A client of the marketplace's two open APIs, over ``requests`` (issue 16).

* Query order: ``GET {endpoint}/api/mkp-openapi-public/global/v1/order/query?orderId=…[&orderLineId=…]``.
* Upload: ``POST {endpoint}/api/mkp-openapi-public/global/v1/market-event/{event_id}/file``, multipart
  (a JSON part ``isvUpdateFileReq`` and, for a file, a part ``file``).

Field lists: the access guide's query-order and upload pages (sources cited in
``cli/src/marketplace.rs``); the answer's JSON is passed through untouched
(:attr:`OrderQuery.raw`). Every call is signed by the core's S6 URL signer
(:class:`koosign.ApigSigner`, SCHEMES.md S6 "Signing a whole URL") over the
URL ``requests`` prepared; a multipart body is signed ``UNSIGNED-PAYLOAD`` as
Huawei's SDK signs it. Needs ``pip install koosign[marketplace]`` (``requests``).

>>> from koosign.marketplace import MarketplaceClient
>>> client = MarketplaceClient(ak, sk, endpoint="http://127.0.0.1:8443")   # doctest: +SKIP
>>> client.query_order("MOCKPERIODYEARNEW").order_info["orderType"]          # doctest: +SKIP
'NEW'
"""

from __future__ import annotations

import hashlib
import json
import time
from typing import Any, Dict, Optional
from urllib.parse import quote

import requests

from . import ApigSigner

__all__ = [
    "DEFAULT_ENDPOINT",
    "MarketplaceClient",
    "MarketplaceError",
    "MarketplaceTimeout",
    "MarketplaceUnavailable",
    "OrderQuery",
]

#: The production endpoint.
DEFAULT_ENDPOINT = "https://mkt.myhuaweicloud.com"
ORDER_QUERY_PATH = "/api/mkp-openapi-public/global/v1/order/query"
EVENT_PREFIX = "/api/mkp-openapi-public/global/v1/market-event/"


class MarketplaceError(Exception):
    """The gateway or the marketplace refused: ``status`` (HTTP), ``code``
    (``APIGW.0301``, ``MKT.0101`` …) and ``message`` as answered. On a
    signature refusal (``APIGW.0301``) with ``explain=True``,
    ``canonical_request`` and ``string_to_sign`` hold what this side signed.
    Never holds the SK."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"HTTP {status}: {code}: {message}" if code else f"HTTP {status}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.canonical_request: Optional[str] = None
        self.string_to_sign: Optional[str] = None


class MarketplaceTimeout(MarketplaceError):
    """No answer within the timeout, after every retry (``status`` 0)."""


class MarketplaceUnavailable(MarketplaceError):
    """Could not connect or send, after every retry (``status`` 0)."""


class OrderQuery:
    """The answer of query order: ``result_code`` (``MKT.0000``),
    ``result_msg``, ``order_info`` (the ``orderInfo`` object as received:
    ``orderId``, ``orderType``, ``createTime``, ``orderLine`` …) and ``raw``
    (the whole JSON answer)."""

    def __init__(self, raw: Dict[str, Any]) -> None:
        self.raw = raw
        self.result_code: str = str(raw.get("resultCode", ""))
        self.result_msg: str = str(raw.get("resultMsg", ""))
        info = raw.get("orderInfo")
        self.order_info: Dict[str, Any] = info if isinstance(info, dict) else {}

    def __repr__(self) -> str:
        return f"OrderQuery(result_code={self.result_code!r}, order_id={self.order_info.get('orderId')!r})"


def _codes(v: Any, code: str, msg: str) -> "tuple[str, str]":
    if not isinstance(v, dict):
        return "", ""
    c = v.get(code) or v.get("error_code") or v.get("resultCode") or ""
    m = v.get(msg) or v.get("error_msg") or v.get("resultMsg") or ""
    return str(c), str(m)


class MarketplaceClient:
    """Calls the open APIs. ``timeout`` (seconds) per attempt; ``retries``
    more attempts, with exponential ``backoff`` (seconds, doubled each time),
    on a timeout, a connection failure or a 5xx answer, never on a 4xx."""

    def __init__(
        self,
        ak: str,
        sk: str,
        *,
        endpoint: str = DEFAULT_ENDPOINT,
        timeout: float = 10.0,
        retries: int = 2,
        backoff: float = 0.2,
        explain: bool = False,
        session: Optional[requests.Session] = None,
    ) -> None:
        self._signer = ApigSigner(ak, sk)
        self.endpoint = endpoint.rstrip("/")
        self.timeout = timeout
        self.retries = max(0, int(retries))
        self.backoff = backoff
        self.explain = explain
        self._session = session or requests.Session()

    def __repr__(self) -> str:
        return f"MarketplaceClient(ak={self._signer.ak!r}, sk=<hidden>, endpoint={self.endpoint!r})"

    def _call(self, req: requests.Request, code: str, msg: str) -> Dict[str, Any]:
        attempt = 0
        while True:
            attempt += 1
            prepared = self._session.prepare_request(req)
            # Signed afresh each attempt (X-Sdk-Date within ±15 min), over the
            # URL and body requests will send; only Content-Type is signed
            # among requests' own headers.
            body = prepared.body
            raw = body if isinstance(body, bytes) else body.encode("utf-8") if isinstance(body, str) else b""
            content_type = str(prepared.headers.get("Content-Type", ""))
            signed = self._signer.sign(prepared.method or "GET", prepared.url or "", {"Content-Type": content_type}, raw)
            prepared.headers.update(dict(signed))
            failure: Optional[MarketplaceError] = None
            resp = None
            try:
                resp = self._session.send(prepared, timeout=self.timeout, allow_redirects=False)
            except requests.Timeout:
                failure = MarketplaceTimeout(0, "", f"no answer within {self.timeout} s ({attempt} attempts)")
            except requests.ConnectionError as e:
                failure = MarketplaceUnavailable(0, "", f"cannot reach the marketplace ({attempt} attempts): {type(e).__name__}")
            retry = failure is not None or (resp is not None and resp.status_code >= 500)
            if retry and attempt <= self.retries:
                time.sleep(self.backoff * (2 ** (attempt - 1)))
                continue
            if failure is not None:
                raise failure
            assert resp is not None
            try:
                v = resp.json()
            except ValueError:
                raise MarketplaceError(resp.status_code, "", "the answer is not JSON") from None
            c, m = _codes(v, code, msg)
            if resp.status_code == 200 and c == "MKT.0000" and isinstance(v, dict):
                return v
            err = MarketplaceError(resp.status_code, c, m)
            if self.explain and c == "APIGW.0301":
                err.canonical_request = signed.canonical_request
                err.string_to_sign = signed.string_to_sign
            raise err

    def query_order(self, order_id: str, order_line_id: Optional[str] = None) -> OrderQuery:
        """The order (``orderId`` at most 64 characters, ``orderLineId``
        optional). Raises :class:`MarketplaceError` (and its timeout and
        unavailable subclasses)."""
        params = [("orderId", order_id)]
        if order_line_id is not None:
            params.append(("orderLineId", order_line_id))
        req = requests.Request(
            "GET", self.endpoint + ORDER_QUERY_PATH, params=params,
            headers={"Content-Type": "application/json;charset=UTF-8"},
        )
        return OrderQuery(self._call(req, "resultCode", "resultMsg"))

    def _upload(self, event_id: str, meta: Dict[str, Any], file: Optional["tuple[str, bytes]"]) -> Dict[str, Any]:
        files: Dict[str, Any] = {}
        if file is not None:
            files["file"] = (file[0], file[1], "application/octet-stream")
        files["isvUpdateFileReq"] = (None, json.dumps(meta, ensure_ascii=False).encode("utf-8"), "application/json")
        url = self.endpoint + EVENT_PREFIX + quote(event_id, safe="") + "/file"
        return self._call(requests.Request("POST", url, files=files), "error_code", "error_msg")

    def upload_text(self, event_id: str, text: str) -> Dict[str, Any]:
        """Uploads a string (``type`` CHARACTERS, at most 1024 characters)."""
        return self._upload(event_id, {"type": "CHARACTERS", "characters": text}, None)

    def upload_file(self, event_id: str, name: str, data: bytes) -> Dict[str, Any]:
        """Uploads a file (``type`` FILE, with its SHA-256)."""
        meta = {"type": "FILE", "sha256": hashlib.sha256(data).hexdigest(), "file_name": name}
        return self._upload(event_id, meta, (name, data))
