#!/usr/bin/env python3
"""Generates vectors/answers.jsonl: whole notification requests and what a
merchant endpoint must answer (docs/SCHEMES.md §Answers, "Which code a
refusal gets", and §Notifications), one language-neutral file that every
suite (Rust, Python, Node, C) and every example endpoint runs.

Independent of koosign: the requests are signed here with Python's own
``hmac``, ``hashlib`` and ``base64`` by the formulas of docs/SCHEMES.md
(§S1, §S1b, §S2, §S2b), and each expectation is written from the answers
table, never computed by koosign. Inputs are fixed: running it twice gives
the same bytes.

    python3 vectors/gen_answers.py            # writes vectors/answers.jsonl
    python3 vectors/gen_answers.py --check    # exit 1 unless the file is what this writes

A line (JSON, UTF-8):

* ``kind``: ``"answer"``; ``id``: unique, ``row/what``, ``row`` one of
  ``verified``, ``before-auth`` (000001), ``authenticated`` (000002),
  ``merchant`` (000005);
* the request: ``method``, ``path``, ``query`` (the raw query string, no
  ``?``), ``headers`` (ordered ``[name, value]`` pairs; names may repeat),
  and the body as exactly one of ``body`` (UTF-8 text), ``body_b64`` (any
  bytes, Base64) or ``body_gen`` (a long body described rather than stored:
  ``[[text, count], ...]``, the body is each text repeated count times, in
  order; e.g. 1 MiB + 1 of padding);
* the merchant: ``access_keys`` (the first signs answers; may be empty),
  ``now_ms`` (the clock, Unix ms), ``policy``: ``v2_window_ms`` (S2/S2b) and
  ``v1_window_ms`` (S1/S1b), ``store``: ``{"capacity": N}`` (an in-memory
  replay store of N nonces) or ``{"unavailable": true}`` (a store that
  cannot be reached: every use fails);
* optional ``prior``: requests (the same fields as the request) sent first,
  with the same store and clock; each must be verified;
* ``expect``: either ``{"protocol", "activity", "fields", "key_index"}`` —
  ``protocol`` one of ``v1`` (S1), ``v1json`` (S1b), ``v2`` (S2), ``kit``
  (S2b); ``fields`` the request fields the verified notification must give
  (V2: the known notification fields; V1: the parameters) — or
  ``{"error", "result_code"}``: the core's ``Error::code()`` and the
  ``resultCode`` of the answers table.

The rule of the runners: detect the protocol (``detect_protocol``); a body
over 1 MiB (``MAX_NOTIFICATION_BODY``) is refused unread, ``000002``; verify
(signature, window, replay store); then parse the notification strictly and
validate its activity. An error met before the request is authenticated
answers ``000001`` (``000005`` for the merchant's own failures), after it
``000002``.
"""

import base64
import hashlib
import hmac
import json
import sys
import time
from pathlib import Path
from urllib.parse import quote

OUT = Path(__file__).resolve().parent / "answers.jsonl"

KEY = "testAccessKey123"
OLD_KEY = "retiredAccessKey"
NOW_MS = 1764590400000  # 2025-12-01T12:00:00Z
TS = NOW_MS - 1500  # sent 1.5 s ago
POLICY = {"v2_window_ms": 60000, "v1_window_ms": 300000}
STORE = {"capacity": 64}
MAX_BODY = 1 << 20
PATH = "/produce"


def h(key, data):
    return hmac.new(key.encode("utf-8"), data, hashlib.sha256)


# ---------------------------------------------------------------------------
# The schemes, from docs/SCHEMES.md
# ---------------------------------------------------------------------------

def v2_signature(body, nonce, ts, key=KEY):
    """§S2: HEX(HMAC(k, k + nonce + timestamp + hex(HMAC(k, body))))."""
    inner = h(key, body).hexdigest()
    return h(key, (key + nonce + str(ts) + inner).encode("utf-8")).hexdigest().upper()


def kit_signature(body, nonce, ts, key=KEY):
    """§S2b: HEX(HMAC(k, k + nonce + timestamp + body))."""
    return h(key, (key + nonce + str(ts)).encode("utf-8") + body).hexdigest().upper()


def v1_timestamp(ms):
    """§S1 item 8: yyyyMMddHHmmssSSS, UTC."""
    t = time.gmtime(ms // 1000)
    return time.strftime("%Y%m%d%H%M%S", t) + "%03d" % (ms % 1000)


def utf16_key(name):
    return name.encode("utf-16-be")


def v1_token(pairs, ts, key=KEY):
    """§S1 items 2-7: the first occurrence of each name, sorted by UTF-16
    code unit, name=value joined with &, HMAC keyed by key + timeStamp."""
    seen = {}
    for n, v in pairs:
        if n != "authToken" and n not in seen:
            seen[n] = v
    canonical = "&".join(f"{n}={seen[n]}" for n in sorted(seen, key=utf16_key))
    return base64.b64encode(h(key + ts, canonical.encode("utf-8")).digest()).decode("ascii")


def enc(s):
    return quote(s, safe="")


def form(pairs):
    return "&".join(f"{enc(n)}={enc(v)}" for n, v in pairs)


def compact(obj):
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


# ---------------------------------------------------------------------------
# Requests
# ---------------------------------------------------------------------------

def body_bytes(req):
    if "body" in req:
        return req["body"].encode("utf-8")
    if "body_b64" in req:
        return base64.b64decode(req["body_b64"])
    if "body_gen" in req:
        return b"".join(t.encode("utf-8") * n for t, n in req["body_gen"])
    return b""


def with_body(req, body):
    """Stores `body` (bytes) as text when it is UTF-8, else as Base64."""
    req.pop("body", None)
    req.pop("body_b64", None)
    try:
        req["body"] = body.decode("utf-8")
    except UnicodeDecodeError:
        req["body_b64"] = base64.b64encode(body).decode("ascii")
    return req


def v2_request(body, nonce, ts=TS, key=KEY, signature=None, query=None, gen=None):
    """An S2 POST. `body`: bytes, or None with `gen` (a body_gen)."""
    raw = body if gen is None else b"".join(t.encode("utf-8") * n for t, n in gen)
    sig = signature if signature is not None else v2_signature(raw, nonce, ts, key)
    q = query if query is not None else f"signature={sig}&timestamp={ts}&nonce={nonce}"
    req = {"method": "POST", "path": PATH, "query": q,
           "headers": [["Content-Type", "application/json;charset=UTF-8"]]}
    if gen is not None:
        req["body_gen"] = gen
        return req
    return with_body(req, body)


def kit_request(body, nonce, ts=TS, key=KEY, headers=None):
    sig = kit_signature(body, nonce, ts, key)
    hs = headers if headers is not None else [["x-sign", sig], ["x-timestamp", str(ts)], ["x-nonce", nonce]]
    req = {"method": "POST", "path": PATH, "query": "",
           "headers": [["Content-Type", "application/json"]] + hs}
    return with_body(req, body)


def v1_request(pairs, ms=TS, key=KEY, token=None, extra=None):
    """An S1 GET: the pairs plus timeStamp, then authToken."""
    ts = v1_timestamp(ms)
    full = list(pairs) + [("timeStamp", ts)]
    tok = token if token is not None else v1_token(full, ts, key)
    q = form(full + [("authToken", tok)] + (extra or []))
    return {"method": "GET", "path": PATH, "query": q, "headers": [], "body": ""}


def v1json_request(members, ms=TS, key=KEY, token=None, body=None):
    """An S1b POST: a flat JSON object of strings (timeStamp among them),
    the token in the authToken header; blank members are not signed."""
    ts = v1_timestamp(ms)
    full = list(members) + [("timeStamp", ts)]
    signed = [(n, v) for n, v in full if v.strip()]
    tok = token if token is not None else v1_token(signed, ts, key)
    b = body if body is not None else compact(dict(full))
    return {"method": "POST", "path": PATH, "query": "",
            "headers": [["Content-Type", "application/json"], ["authToken", tok]], "body": b}


# ---------------------------------------------------------------------------
# The cases
# ---------------------------------------------------------------------------

CASES = []


def case(id_, req, expect, keys=None, now=NOW_MS, store=None, prior=None, policy=None):
    c = {"kind": "answer", "id": id_}
    c.update(req)
    c["access_keys"] = [KEY] if keys is None else keys
    c["now_ms"] = now
    c["policy"] = policy or POLICY
    c["store"] = store or STORE
    if prior:
        c["prior"] = prior
    c["expect"] = expect
    assert id_ not in {x["id"] for x in CASES}, id_
    CASES.append(c)


def ok(protocol, activity, fields, key_index=0):
    return {"protocol": protocol, "activity": activity, "fields": fields, "key_index": key_index}


def err(code, result_code):
    return {"error": code, "result_code": result_code}


def before(code):
    return err(code, "000001")


def after(code):
    return err(code, "000002")


def merchant(code):
    return err(code, "000005")


NEW = {"activity": "newInstance", "businessId": "87b94795-0603-4e24-8ae5-69420d60e3c8",
       "orderId": "CS2211181819B4LVS", "orderLineId": "CS2211181819B4LVS-000001", "testFlag": "1"}
V2_BODIES = {
    "newInstance": NEW,
    "queryInstance": {"activity": "queryInstance", "instanceId": "ins-1,ins-2", "testFlag": "1"},
    "refreshInstance": {"activity": "refreshInstance", "scene": "RENEWAL", "orderId": "CS1", "orderLineId": "CS1-000001",
                        "instanceId": "ins-1", "productId": "00301-666666-0--0", "expireTime": "20261231235959"},
    "updateInstanceStatus": {"activity": "updateInstanceStatus", "instanceId": "ins-1", "status": "FREEZE", "testFlag": "1"},
    "releaseInstance": {"activity": "releaseInstance", "instanceId": "ins-1", "orderId": "CS1", "orderLineId": "CS1-000001"},
    "upgradeInstance": {"activity": "upgradeInstance", "instanceId": "ins-1", "orderId": "CS1", "orderLineId": "CS1-000002"},
}
V1_PARAMS = {
    "newInstance": [("activity", "newInstance"), ("businessId", "61e834ba-7b97-4418-b8f7-e5345137278c"),
                    ("customerId", "68cbc86abc2018ab880d92f36422fa0e"), ("expireTime", "20200727153156"),
                    ("orderId", "CS1906666666ABCDE"), ("productId", "00301-666666-0--0"), ("testFlag", "1")],
    "refreshInstance": [("activity", "refreshInstance"), ("instanceId", "ins-1"), ("expireTime", "20261231235959")],
    "expireInstance": [("activity", "expireInstance"), ("instanceId", "ins-1"), ("testFlag", "1")],
    "releaseInstance": [("activity", "releaseInstance"), ("instanceId", "ins-1")],
    "upgrade": [("activity", "upgrade"), ("instanceId", "ins-1"), ("productId", "00301-666666-0--1")],
    "instanceStatus": [("activity", "instanceStatus"), ("instanceId", "ins-1")],
    "getLicense": [("activity", "getLicense"), ("orderId", "CS2403150930ABCDE"), ("orderLineId", "L1")],
    "releaseLicense": [("activity", "releaseLicense"), ("orderId", "CS2403150930ABCDE")],
}


def nonce(i):
    return hashlib.sha256(f"answers nonce {i}".encode()).hexdigest().upper()


def gen_cases():
    n = iter(range(1000))

    # --- verified: every activity of every protocol ---
    for name, b in V2_BODIES.items():
        case(f"verified/v2-{name}", v2_request(compact(b).encode(), nonce(next(n))), ok("v2", name, b))
    for name in ["newInstance", "releaseInstance"]:
        b = V2_BODIES[name]
        case(f"verified/kit-{name}", kit_request(compact(b).encode(), nonce(next(n))), ok("kit", name, b))
    for name, p in V1_PARAMS.items():
        case(f"verified/v1-{name}", v1_request(p), ok("v1", name, dict(p)))
    for name in ["getLicense", "newInstance"]:
        p = V1_PARAMS[name]
        case(f"verified/v1json-{name}", v1json_request(p), ok("v1json", name, dict(p)))
    # Key rotation: the second configured key matches.
    case("verified/v2-second-key", v2_request(compact(NEW).encode(), nonce(next(n))),
         ok("v2", "newInstance", NEW, key_index=1), keys=[OLD_KEY, KEY])
    # Header names in any case; the window's edge.
    r = kit_request(compact(NEW).encode(), nonce(next(n)), ts=NOW_MS - 60000)
    r["headers"] = [[k.upper(), v] for k, v in r["headers"]]
    case("verified/kit-upper-case-headers-window-edge", r, ok("kit", "newInstance", NEW))
    # Exactly MAX_NOTIFICATION_BODY bytes is read.
    head = '{"activity":"newInstance","orderId":"CS1","orderLineId":"CS1-000001","pad":"'
    gen = [[head, 1], ["x", MAX_BODY - len(head) - 2], ['"}', 1]]
    case("verified/v2-body-exactly-1MiB", v2_request(None, nonce(next(n)), gen=gen),
         ok("v2", "newInstance", {"activity": "newInstance", "orderId": "CS1", "orderLineId": "CS1-000001"}))
    # Escapes decode: the activity is the same name.
    b = '{"activity":"release\\u0049nstance","instanceId":"ins-\\u00e9"}'
    case("verified/v2-escaped-names-and-values", v2_request(b.encode(), nonce(next(n))),
         ok("v2", "releaseInstance", {"activity": "releaseInstance", "instanceId": "ins-é"}))

    # --- before authentication: 000001 ---
    body = compact(NEW).encode()
    nn = nonce(next(n))
    case("before-auth/v2-wrong-key", v2_request(body, nn, key="anotherKey"), before("SIGNATURE_MISMATCH"))
    r = v2_request(body, nonce(next(n)))
    r["body"] = r["body"].replace("CS2211181819B4LVS-000001", "CS2211181819B4LVS-000002")
    case("before-auth/v2-body-altered", r, before("SIGNATURE_MISMATCH"))
    nn = nonce(next(n))
    case("before-auth/v2-signature-short",
         v2_request(body, nn, query=f"signature=ABCDEF&timestamp={TS}&nonce={nn}"), before("SIGNATURE_MISMATCH"))
    nn = nonce(next(n))
    case("before-auth/v2-missing-signature",
         v2_request(body, nn, query=f"timestamp={TS}&nonce={nn}"), before("MISSING_PARAMETER"))
    nn = nonce(next(n))
    sig = v2_signature(body, nn, TS)
    case("before-auth/v2-missing-nonce",
         v2_request(body, nn, query=f"signature={sig}&timestamp={TS}"), before("MISSING_PARAMETER"))
    case("before-auth/v2-missing-timestamp",
         v2_request(body, nn, query=f"signature={sig}&nonce={nn}"), before("MISSING_PARAMETER"))
    case("before-auth/v2-empty-nonce",
         v2_request(body, "", query=f"signature={sig}&timestamp={TS}&nonce="), before("MISSING_PARAMETER"))
    nn = nonce(next(n))
    case("before-auth/v2-timestamp-not-a-number",
         v2_request(body, nn, query=f"signature={v2_signature(body, nn, 'abc')}&timestamp=abc&nonce={nn}"),
         before("BAD_TIMESTAMP"))
    nn = nonce(next(n))
    case("before-auth/v2-timestamp-seconds",
         v2_request(body, nn, ts=TS // 1000), before("BAD_TIMESTAMP"))
    nn = nonce(next(n))
    case("before-auth/v2-timestamp-leading-zero",
         v2_request(body, nn, query=f"signature={v2_signature(body, nn, '0' + str(TS))}&timestamp=0{TS}&nonce={nn}"),
         before("BAD_TIMESTAMP"))
    case("before-auth/v2-stale", v2_request(body, nonce(next(n)), ts=NOW_MS - 60001), before("STALE_TIMESTAMP"))
    case("before-auth/v2-future", v2_request(body, nonce(next(n)), ts=NOW_MS + 60001), before("STALE_TIMESTAMP"))
    r = v2_request(body, nonce(next(n)))
    case("before-auth/v2-replayed", r, before("REPLAYED_NONCE"), prior=[dict(r)])
    nn = "nonce with space"
    case("before-auth/v2-nonce-not-printable",
         v2_request(body, nn, query=f"signature={v2_signature(body, nn, TS)}&timestamp={TS}&nonce=nonce+with+space"),
         before("MALFORMED_ENCODING"))
    nn = nonce(next(n))
    case("before-auth/v2-bad-percent-escape",
         v2_request(body, nn, query=f"signature={v2_signature(body, nn, TS)}&timestamp={TS}&nonce={nn}&x=%zz"),
         before("MALFORMED_ENCODING"))
    nn = nonce(next(n))
    ks = kit_signature(body, nn, TS)
    case("before-auth/kit-missing-x-nonce",
         kit_request(body, nn, headers=[["x-sign", ks], ["x-timestamp", str(TS)]]), before("MISSING_PARAMETER"))
    case("before-auth/kit-wrong-key", kit_request(body, nonce(next(n)), key="anotherKey"), before("SIGNATURE_MISMATCH"))
    case("before-auth/kit-body-not-an-object", kit_request(b"[1]", nonce(next(n))), before("AMBIGUOUS"))
    case("before-auth/kit-stale", kit_request(body, nonce(next(n)), ts=NOW_MS - 60001), before("STALE_TIMESTAMP"))
    p = V1_PARAMS["expireInstance"]
    case("before-auth/v1-wrong-key", v1_request(p, key="anotherKey"), before("SIGNATURE_MISMATCH"))
    case("before-auth/v1-token-short", v1_request(p, token="abc"), before("SIGNATURE_MISMATCH"))
    r = v1_request(p)
    r["query"] = "&".join(x for x in r["query"].split("&") if not x.startswith("timeStamp="))
    case("before-auth/v1-missing-timestamp", r, before("MISSING_PARAMETER"))
    r = v1_request(p)
    r["query"] = r["query"].replace("timeStamp=", "timeStamp=2025")
    case("before-auth/v1-bad-timestamp", r, before("BAD_TIMESTAMP"))
    case("before-auth/v1-stale", v1_request(p, ms=NOW_MS - 300001), before("STALE_TIMESTAMP"))
    r = v1_request(V1_PARAMS["releaseInstance"])
    case("before-auth/v1-replayed", r, before("REPLAYED_NONCE"), prior=[dict(r)])
    case("before-auth/v1-ambiguous-value",
         v1_request([("activity", "releaseInstance"), ("instanceId", "ins-1&testFlag=1")]), before("AMBIGUOUS"))
    case("before-auth/v1-no-authtoken",
         {"method": "GET", "path": PATH, "query": "activity=newInstance&orderId=CS1", "headers": [], "body": ""},
         before("MISSING_PARAMETER"))
    case("before-auth/v1json-wrong-key", v1json_request(V1_PARAMS["getLicense"], key="anotherKey"),
         before("SIGNATURE_MISMATCH"))
    # S1b bodies are read before the token: their malformed bodies are 000001.
    p = V1_PARAMS["getLicense"]
    ts = v1_timestamp(TS)
    tok = v1_token(p + [("timeStamp", ts)], ts)
    case("before-auth/v1json-nested-member",
         v1json_request(p, token=tok, body=compact(dict(p + [("timeStamp", ts)]))[:-1] + ',"x":{"y":"1"}}'),
         before("MALFORMED_ENCODING"))
    case("before-auth/v1json-repeated-member",
         v1json_request(p, token=tok, body=compact(dict(p + [("timeStamp", ts)]))[:-1] + ',"orderId":"EVIL"}'),
         before("MALFORMED_ENCODING"))
    case("before-auth/v1json-not-utf8",
         with_body(v1json_request(p, token=tok, body=""), b'{"activity":"getLicense","orderId":"\xff"}'),
         before("MALFORMED_ENCODING"))
    # Protocol detection: signals of two protocols, wrong methods.
    nn = nonce(next(n))
    r = v2_request(body, nn)
    r["headers"].append(["x-sign", kit_signature(body, nn, TS)])
    case("before-auth/detect-signature-and-x-sign", r, before("AMBIGUOUS"))
    r = v1_request(V1_PARAMS["expireInstance"])
    r["headers"] = [["authToken", "x"]]
    case("before-auth/detect-authtoken-query-and-header", r, before("AMBIGUOUS"))
    r = v2_request(body, nonce(next(n)))
    r["query"] += "&authToken=x"
    case("before-auth/detect-signature-and-authtoken", r, before("AMBIGUOUS"))
    r = v2_request(body, nonce(next(n)))
    r["method"] = "PUT"
    case("before-auth/detect-method-put", r, before("MALFORMED_ENCODING"))
    r = v2_request(body, nonce(next(n)))
    r["method"] = "GET"
    case("before-auth/detect-v2-as-get", r, before("MALFORMED_ENCODING"))
    r = v1_request(V1_PARAMS["expireInstance"])
    r["method"] = "POST"
    case("before-auth/detect-v1-as-post", r, before("MALFORMED_ENCODING"))
    case("before-auth/detect-nothing",
         {"method": "POST", "path": PATH, "query": "", "headers": [], "body": compact(NEW)},
         before("MISSING_PARAMETER"))

    # --- authenticated, body or parameters unusable: 000002 ---
    def signed(id_, raw, code, **kw):
        case(id_, v2_request(raw, nonce(next(n))), after(code), **kw)

    signed("authenticated/body-not-utf8", b'{"activity":"newInstance","orderId":"CS\xff"}', "MALFORMED_ENCODING")
    signed("authenticated/body-not-json", b'{"activity":"newInstance",', "MALFORMED_ENCODING")
    signed("authenticated/body-empty", b"", "MALFORMED_ENCODING")
    signed("authenticated/body-not-an-object", b'["newInstance"]', "MALFORMED_ENCODING")
    signed("authenticated/body-trailing-data", compact(NEW).encode() + b" {}", "MALFORMED_ENCODING")
    signed("authenticated/duplicate-activity",
           b'{"activity":"newInstance","orderId":"CS1","orderLineId":"L1","activity":"releaseInstance","instanceId":"i"}',
           "MALFORMED_ENCODING")
    signed("authenticated/duplicate-escaped-name",
           b'{"activity":"newInstance","orderId":"CS1","orderLineId":"L1","\\u006frderId":"EVIL"}', "MALFORMED_ENCODING")
    signed("authenticated/duplicate-unknown-member",
           b'{"activity":"newInstance","orderId":"CS1","orderLineId":"L1","x":1,"x":2}', "MALFORMED_ENCODING")
    signed("authenticated/duplicate-nested-name",
           b'{"activity":"newInstance","orderId":"CS1","orderLineId":"L1","ext":{"a":[{"k":1,"k":2}]}}',
           "MALFORMED_ENCODING")
    signed("authenticated/lone-surrogate",
           b'{"activity":"newInstance","orderId":"\\ud800","orderLineId":"L1"}', "MALFORMED_ENCODING")
    signed("authenticated/known-field-not-a-string",
           b'{"activity":"newInstance","orderId":123,"orderLineId":"L1"}', "MALFORMED_ENCODING")
    deep = [['{"activity":"newInstance","orderId":"CS1","orderLineId":"L1","x":', 1], ["[", 5000], ["]", 5000], ["}", 1]]
    case("authenticated/nested-5000-deep", v2_request(None, nonce(next(n)), gen=deep), after("MALFORMED_ENCODING"))
    deep65 = [['{"x":', 1], ["[", 64], ["]", 64], [',"activity":"newInstance","orderId":"CS1","orderLineId":"L1"}', 1]]
    case("authenticated/nested-65-deep", v2_request(None, nonce(next(n)), gen=deep65), after("MALFORMED_ENCODING"))
    deep64 = [['{"x":', 1], ["[", 63], ["]", 63], [',"activity":"newInstance","orderId":"CS1","orderLineId":"L1"}', 1]]
    case("verified/v2-nested-64-deep", v2_request(None, nonce(next(n)), gen=deep64),
         ok("v2", "newInstance", {"activity": "newInstance", "orderId": "CS1", "orderLineId": "L1"}))
    big = [[head, 1], ["x", MAX_BODY - len(head) - 1], ['"}', 1]]
    case("authenticated/body-1MiB-plus-1", v2_request(None, nonce(next(n)), gen=big), after("INPUT_TOO_LARGE"))
    members = ",".join(f'"k{i}":{i}' for i in range(257))
    signed("authenticated/257-open-members",
           ('{"activity":"newInstance","orderId":"CS1","orderLineId":"L1",' + members + "}").encode(), "INPUT_TOO_LARGE")

    def fields(id_, obj, code):
        signed(id_, compact(obj).encode(), code)

    fields("authenticated/missing-activity", {"orderId": "CS1", "orderLineId": "L1"}, "MISSING_PARAMETER")
    fields("authenticated/blank-activity", {"activity": " ", "orderId": "CS1"}, "MISSING_PARAMETER")
    fields("authenticated/unknown-activity", {"activity": "koosignUnknownActivity", "instanceId": "i"}, "MALFORMED_ENCODING")
    fields("authenticated/activity-wrong-case", {"activity": "NewInstance", "orderId": "CS1", "orderLineId": "L1"},
           "MALFORMED_ENCODING")
    fields("authenticated/v1-activity-in-v2", {"activity": "upgrade", "instanceId": "i"}, "MALFORMED_ENCODING")
    fields("authenticated/newInstance-missing-orderLineId", {"activity": "newInstance", "orderId": "CS1"}, "MISSING_PARAMETER")
    fields("authenticated/newInstance-blank-orderId", {"activity": "newInstance", "orderId": "", "orderLineId": "L1"},
           "MISSING_PARAMETER")
    fields("authenticated/queryInstance-missing-instanceId", {"activity": "queryInstance", "testFlag": "1"},
           "MISSING_PARAMETER")
    fields("authenticated/queryInstance-101-ids",
           {"activity": "queryInstance", "instanceId": ",".join(f"i{k}" for k in range(101))}, "INPUT_TOO_LARGE")
    fields("authenticated/refreshInstance-bad-scene", {"activity": "refreshInstance", "instanceId": "i", "scene": "renewal"},
           "MALFORMED_ENCODING")
    fields("authenticated/refreshInstance-missing-instanceId", {"activity": "refreshInstance", "scene": "RENEWAL"},
           "MISSING_PARAMETER")
    fields("authenticated/updateInstanceStatus-bad-status",
           {"activity": "updateInstanceStatus", "instanceId": "i", "status": "FROZEN"}, "MALFORMED_ENCODING")
    fields("authenticated/updateInstanceStatus-missing-status", {"activity": "updateInstanceStatus", "instanceId": "i"},
           "MISSING_PARAMETER")
    fields("authenticated/releaseInstance-missing-instanceId", {"activity": "releaseInstance", "orderId": "CS1"},
           "MISSING_PARAMETER")
    fields("authenticated/upgradeInstance-missing-instanceId", {"activity": "upgradeInstance", "orderId": "CS1"},
           "MISSING_PARAMETER")
    case("authenticated/kit-duplicate-name",
         kit_request(b'{"activity":"releaseInstance","instanceId":"a","instanceId":"b"}', nonce(next(n))),
         after("MALFORMED_ENCODING"))
    case("authenticated/v1-unknown-activity", v1_request([("activity", "koosignUnknownActivity"), ("instanceId", "i")]),
         after("MALFORMED_ENCODING"))
    case("authenticated/v1-v2-activity-name", v1_request([("activity", "upgradeInstance"), ("instanceId", "i")]),
         after("MALFORMED_ENCODING"))
    case("authenticated/v1-missing-activity", v1_request([("instanceId", "i")]), after("MISSING_PARAMETER"))
    for name, field in [("refreshInstance", "instanceId"), ("instanceStatus", "instanceId"), ("newInstance", "orderId"),
                        ("releaseLicense", "orderId")]:
        case(f"authenticated/v1-{name}-missing-{field}", v1_request([("activity", name), ("testFlag", "1")]),
             after("MISSING_PARAMETER"))
    case("authenticated/v1json-getLicense-missing-orderId", v1json_request([("activity", "getLicense"), ("orderLineId", "L1")]),
         after("MISSING_PARAMETER"))

    # --- the merchant's side: 000005 ---
    first = v2_request(body, nonce(next(n)))
    case("merchant/replay-store-full", v2_request(body, nonce(next(n))), merchant("NONCE_STORE_FULL"),
         store={"capacity": 1}, prior=[first])
    case("merchant/replay-store-unavailable", v2_request(body, nonce(next(n))), merchant("STORE_UNAVAILABLE"),
         store={"unavailable": True})
    case("merchant/v1-replay-store-unavailable", v1_request(V1_PARAMS["releaseInstance"]), merchant("STORE_UNAVAILABLE"),
         store={"unavailable": True})
    case("merchant/no-access-key", v2_request(body, nonce(next(n))), merchant("NO_ACCESS_KEY"), keys=[])


def render():
    CASES.clear()
    gen_cases()
    return "".join(json.dumps(c, ensure_ascii=False, sort_keys=False) + "\n" for c in CASES).encode("utf-8")


def main(argv):
    data = render()
    if argv[1:] == ["--check"]:
        if OUT.exists() and OUT.read_bytes() == data:
            print(f"vectors/answers.jsonl: regenerated byte for byte ({len(CASES)} cases)")
            return 0
        print("vectors/answers.jsonl differs from what vectors/gen_answers.py writes "
              "(run: python3 vectors/gen_answers.py)", file=sys.stderr)
        return 1
    if argv[1:]:
        print("usage: vectors/gen_answers.py [--check]", file=sys.stderr)
        return 2
    OUT.write_bytes(data)
    print(f"wrote vectors/answers.jsonl ({len(CASES)} cases)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
