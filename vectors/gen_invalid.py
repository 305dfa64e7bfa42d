#!/usr/bin/env python3
"""Generates vectors/invalid.jsonl: requests every verifier must refuse, each
with the error code the core gives (``koosign::Error::code()``), Wycheproof
style.

Every case starts from a genuine request signed by a reference
implementation, never by koosign: the JDK reference (``reference/java/
KooRef.java sign``) for S1, S1b, S2, S2b, S3, S4 and S5, Huawei's Python SDK
signer (``reference/python/apig_ref.py``, the ``huaweicloudsdkcore`` version
pinned in ``scripts/setup-ref-venv.sh``) for S6. The script then damages the
request (truncates, alters, merges, replays, re-dates, re-encodes ...), so
the signature in each case is the reference's own. Inputs are fixed (no
randomness): running it twice gives the same file.

Run with the reference venv's python (it imports the SDK):

    PY="$(scripts/setup-ref-venv.sh | tail -n 1)"
    "$PY" vectors/gen_invalid.py > vectors/invalid.jsonl

The format of a line (all strings UTF-8 text):

* ``kind``: ``v1_invalid`` | ``v1_json_invalid`` | ``v2_invalid`` |
  ``licence_invalid`` | ``body_sign_invalid`` | ``apig_invalid`` |
  ``aes_invalid``;
* ``id``: unique, ``scheme/category/what``; ``category`` one of
  ``truncated``, ``altered``, ``ambiguous``, ``stale``, ``replayed``,
  ``malformed``, ``rules`` (S6: X-Sdk-Content-Sha256 and SignedHeaders),
  ``body-sign-grammar``;
* ``expect_error``: the core's code, e.g. ``SIGNATURE_MISMATCH``; ``why``: the
  rule (SCHEMES.md section) that refuses it;
* the request, by kind:
  - ``v1_invalid``: ``access_key``, ``query`` (the wire query);
  - ``v1_json_invalid``: ``access_key``, ``auth_token`` (header), ``body``;
  - ``v2_invalid``: ``scheme`` (``basic`` | ``kit``), ``access_key``,
    ``body``, and either ``query`` (basic only: the raw query string) or
    ``signature``, ``timestamp``, ``nonce``;
  - ``licence_invalid``: ``access_key``, ``ts``, ``nonce``, ``body``,
    ``signature``;
  - ``body_sign_invalid``: ``access_key``, ``body``, ``value`` (the
    Body-Sign header value);
  - ``apig_invalid``: ``method``, ``host``, ``path``, ``query`` (decoded
    pairs), ``headers`` (the headers as sent, an ordered list of pairs:
    names may repeat), ``body``, ``credentials`` (``[[ak, sk], ...]``);
  - ``aes_invalid``: ``access_key``, ``encrypt_type`` (1 = AES-256,
    2 = AES-128), ``ciphertext`` (the wire string);
* optional ``now_ms`` and ``window_ms``: verify with this clock and window
  (absent: no window);
* optional ``prior``: a replay. The runner creates an empty nonce store,
  verifies ``prior`` (the same fields as the request; it must pass), then
  the request with the same store and clock.
"""

import base64
import calendar
import hashlib
import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "reference" / "python"))

import apig_ref  # noqa: E402  (the SDK reference; needs the venv)


# ---------------------------------------------------------------------------
# The references
# ---------------------------------------------------------------------------

def jdk_sign(requests):
    """Runs ``KooRef.java sign`` on the requests; returns {id: outputs}."""
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in requests)
    out = subprocess.run(["java", str(REPO / "reference" / "java" / "KooRef.java"), "sign", "-"],
                         input=text.encode("utf-8"), stdout=subprocess.PIPE, check=True)
    res = {}
    for line in out.stdout.decode("utf-8").splitlines():
        o = json.loads(line)
        res[o["id"]] = o
    missing = {r["id"] for r in requests} - set(res)
    if missing:
        raise SystemExit("JDK did not sign: %s" % sorted(missing))
    return res


def sdk_sign(req, signed_headers=None):
    """Huawei's SDK signer on a request dict; returns its intermediates and
    the headers as sent (given ones + those the SDK added), as pairs."""
    st = apig_ref.sdk_stages(req["method"], req["host"], req["path"], req["query"], req["headers"],
                             req["body"], req["ak"], req["sk"], signed_headers)
    sent = list(req["headers"].items())
    sent += [(k, v) for k, v in st["added_headers"].items()]
    st["sent"] = [[k, v] for k, v in sent]
    return st


def sha256_hex(b):
    return hashlib.sha256(b.encode("utf-8") if isinstance(b, str) else b).hexdigest()


def v1_ms(ts):
    dt = datetime.strptime(ts[:14], "%Y%m%d%H%M%S")
    return calendar.timegm(dt.timetuple()) * 1000 + int(ts[14:])


def sdk_date_ms(d):
    return calendar.timegm(datetime.strptime(d, "%Y%m%dT%H%M%SZ").timetuple()) * 1000


def alter_char(s, i):
    """s with the character at i replaced by another of the same class."""
    c = s[i]
    if c.isdigit():
        r = "0" if c != "0" else "1"
    elif c.isalpha():
        r = "A" if c != "A" else "B"
    else:
        r = "A"
    return s[:i] + r + s[i + 1:]


# ---------------------------------------------------------------------------
# Inputs (fixed)
# ---------------------------------------------------------------------------

K1 = "koosign-invalid-v1-key"
TS1 = "20240315093000123"
V1_BASE = [
    ("activity", "newInstance"),
    ("businessId", "7c8e2a4f-5b1d-4e3a-9f60-2d7c8b1a0e54"),
    ("customerId", "68cbc86abc2018ab880d92f36422fa0e"),
    ("orderId", "CS2403150930ABCDE"),
    ("orderLineId", "L1"),
    ("testFlag", "1"),
    ("timeStamp", TS1),
]

K2 = "koosign-invalid-v2-key"
TS2 = "1710495000123"
NONCE2 = "5F0E3C9A2B7D41E8A6C3F09B1D2E4A7C8B5D6E9F0A1B2C3D4E5F60718293A170"  # ends in "0"
V2_BODY = ('{"activity":"newInstance","businessId":"87b94795-0603-4e24-8ae5-69420d60e3c8",'
           '"orderId":"CS2403150930XYZ","orderLineId":"CS2403150930XYZ-000001","testFlag":"1"}')

K5 = "koosign-invalid-licence-key"
TS5 = "1710495000456"

K3 = "koosign-invalid-body-sign-key"
BS_BODY = '{"resultCode":"000000","resultMsg":"success.","instanceId":"i-0123456789"}'

K4 = "koosign-invalid-aes-key"

AK6, SK6 = "KOOSIGNINVALIDAK0001", "koosign-invalid-secret-key-0001"
DATE6 = "20240315T093000Z"
APIG_GET = {
    "method": "GET",
    "host": "mkt.myhuaweicloud.com",
    "path": "/api/mkp-openapi-public/global/v1/order/query",
    "query": [["orderId", "CS2403150930ABCDE"], ["orderLineId", "CS2403150930ABCDE-000001"]],
    "headers": {"X-Sdk-Date": DATE6},
    "body": "",
    "ak": AK6,
    "sk": SK6,
}
APIG_POST_BODY = '{"eventId":"ev-0001","content":"hello"}'
APIG_POST = {
    "method": "POST",
    "host": "mkt.myhuaweicloud.com",
    "path": "/api/mkp-openapi-public/global/v1/market-event/ev-0001/string",
    "query": [],
    "headers": {"X-Sdk-Date": DATE6, "Content-Type": "application/json"},
    "body": APIG_POST_BODY,
    "ak": AK6,
    "sk": SK6,
}


def jdk_requests():
    r = []

    def v1(i, pairs, key=K1):
        r.append({"id": i, "kind": "v1_pairs", "access_key": key, "pairs": [list(p) for p in pairs]})

    v1("v1.base", V1_BASE)
    v1("v1.memo_amp_eq", V1_BASE + [("memo", "x&=y")])
    v1("v1.memo_amp_name_eq", V1_BASE + [("memo", "note&testFlag=0")])
    v1("v1.name_eq", V1_BASE + [("a=b", "c")])
    v1("v1.name_amp", V1_BASE + [("a&b", "c")])
    v1("v1.ts16", [(n, v if n != "timeStamp" else TS1[:16]) for n, v in V1_BASE])
    v1("v1.ts_month13", [(n, v if n != "timeStamp" else "20241315093000123") for n, v in V1_BASE])
    v1("v1.no_ts", [(n, v) for n, v in V1_BASE if n != "timeStamp"])
    # S1b: the signed fields (non-blank strings), the body is built from them below.
    v1("v1json.base", [("activity", "getLicense"), ("orderId", "CS2403150930ABCDE"),
                       ("orderLineId", "L1"), ("testFlag", "1"), ("timeStamp", TS1)])
    v1("v1json.no_ts", [("activity", "getLicense"), ("orderId", "CS2403150930ABCDE")])

    def v2(i, scheme, nonce=NONCE2, ts=TS2, body=V2_BODY):
        r.append({"id": i, "kind": "v2_" + scheme, "access_key": K2, "nonce": nonce, "timestamp": ts,
                  "body": body})

    v2("v2.base", "basic")
    v2("v2.ts_lead0", "basic", ts="0" + TS2[1:])
    v2("v2.ts12", "basic", ts=TS2[:12])
    v2("v2.ts14", "basic", ts=TS2 + "0")
    v2("v2.ts_alpha", "basic", ts=TS2[:12] + "a")
    v2("v2.nonce_space", "basic", nonce="nonce with space")
    v2("v2.nonce_utf8", "basic", nonce="nonce\u4e2d\u6587")
    v2("v2.nonce_empty", "basic", nonce="")
    v2("v2.nonce_long", "basic", nonce="N" * 257)
    v2("kit.base", "kit")
    v2("kit.digit_body", "kit", body="7" + V2_BODY)
    v2("kit.digit_body2", "kit", body="12345")

    def lic(i, nonce, body, ts=TS5):
        r.append({"id": i, "kind": "licence", "access_key": K5, "ts": ts, "nonce": nonce, "body": body})

    lic("lic.base", "n1", '{"licenseId":"LIC-0001","status":"active"}')
    lic("lic.amp_body", "n1", "&body=X")
    lic("lic.amp_nonce", "a&b", '{"licenseId":"LIC-0001"}')
    lic("lic.ts_lead0", "n1", '{"licenseId":"LIC-0001"}', ts="0" + TS5)
    lic("lic.ts12", "n1", '{"licenseId":"LIC-0001"}', ts=TS5[:12])
    lic("lic.nonce_empty", "", '{"licenseId":"LIC-0001"}')

    r.append({"id": "bs.base", "kind": "body_sign", "access_key": K3, "body": BS_BODY})

    r.append({"id": "aes.base128", "kind": "aes_cbc", "access_key": K4, "encrypt_type": 2,
              "iv": "abcdefgh12345678", "plaintext": "13800000000"})
    r.append({"id": "aes.base256", "kind": "aes_cbc", "access_key": K4, "encrypt_type": 1,
              "iv": "ABCDEFGHijklmn01", "plaintext": "user@example.com-\u4e2d\u6587-2024"})
    return r


def sdk_requests():
    s = {}
    s["get"] = sdk_sign(APIG_GET)
    s["post"] = sdk_sign(APIG_POST)
    # A signed X-Sdk-Content-Sha256 that is not the body's hash (the SDK signs what it is given).
    s["post_other_hash"] = sdk_sign(dict(APIG_POST, headers=dict(
        APIG_POST["headers"], **{"X-Sdk-Content-Sha256": sha256_hex('{"eventId":"ev-0001","content":"EVIL"}')})))
    s["post_empty_hash"] = sdk_sign(dict(APIG_POST, headers=dict(
        APIG_POST["headers"], **{"X-Sdk-Content-Sha256": apig_ref.Signer._EMPTY_HASH})))
    s["post_lower_unsigned"] = sdk_sign(dict(APIG_POST, headers=dict(
        APIG_POST["headers"], **{"X-Sdk-Content-Sha256": "unsigned-payload"})))
    # Host / x-sdk-date left out of SignedHeaders (the SDK's methods with an explicit list).
    s["get_no_host"] = sdk_sign(APIG_GET, ["x-sdk-date"])
    s["get_no_date"] = sdk_sign(dict(APIG_GET, headers={"X-Sdk-Date": DATE6, "Host": APIG_GET["host"]}), ["host"])
    s["get_custom"] = sdk_sign(dict(APIG_GET, headers={"X-Sdk-Date": DATE6, "X-Request-Id": "req-0001"}))
    return s


# ---------------------------------------------------------------------------
# The cases
# ---------------------------------------------------------------------------

CASES = []


def case(kind, cid, expect, why, **fields):
    assert not any(c["id"] == cid for c in CASES), cid
    c = {"kind": kind, "id": cid, "expect_error": expect, "why": why}
    c.update(fields)
    CASES.append(c)


def v1_cases(j):
    base = j["v1.base"]
    q = base["query"]
    tok_at = q.index("&authToken=")
    enc_tok = q[tok_at + len("&authToken="):]

    def c(cid, expect, why, query, **kw):
        case("v1_invalid", "v1/" + cid, expect, why, access_key=K1, query=query, **kw)

    # truncated
    c("truncated/token-last-char", "SIGNATURE_MISMATCH", "authToken cut by its last character (%3D): 43 characters",
      q[:-3])
    c("truncated/before-authToken", "MISSING_PARAMETER", "query cut before `&authToken=`: S1 needs authToken",
      q[:tok_at])
    c("truncated/inside-escape", "MALFORMED_ENCODING", "query cut inside a percent escape (`%3`)", q[:-1])
    c("truncated/parameter-dropped", "SIGNATURE_MISMATCH", "a signed parameter (customerId) removed",
      q.replace("customerId=68cbc86abc2018ab880d92f36422fa0e&", ""))
    # altered
    ti = q.index("authToken=") + len("authToken=") + 5
    c("altered/token-char", "SIGNATURE_MISMATCH", "one character of authToken changed", alter_char(q, ti))
    c("altered/testFlag", "SIGNATURE_MISMATCH", "testFlag=1 changed to 0 (a live order from a test one)",
      q.replace("testFlag=1", "testFlag=0"))
    c("altered/timeStamp", "SIGNATURE_MISMATCH", "timeStamp moved by 1 ms: it is part of the HMAC key",
      q.replace(TS1, TS1[:-1] + "4"))
    c("altered/parameter-added", "SIGNATURE_MISMATCH", "an unsigned parameter added: every parameter is signed",
      q[:tok_at] + "&instanceId=EVIL" + q[tok_at:])
    c("altered/other-key", "SIGNATURE_MISMATCH", "verified under another access key", q)
    CASES[-1]["access_key"] = "another-access-key"
    # ambiguous (S1.10)
    merged = q.replace("orderLineId=L1&testFlag=1", "orderLineId=L1%26testFlag%3D1")
    assert merged != q
    c("ambiguous/merged-parameters", "AMBIGUOUS",
      "S1.10: orderLineId=L1 and testFlag=1 merged into one value `L1&testFlag=1`: the canonical string, so the "
      "genuine token, is unchanged; refused before the MAC", merged)
    c("ambiguous/value-amp-eq", "AMBIGUOUS",
      "S1.10: a decoded value with `&=` reads as a parameter with an empty name (genuine token)",
      j["v1.memo_amp_eq"]["query"])
    c("ambiguous/value-amp-name-eq", "AMBIGUOUS",
      "S1.10: a decoded value with `&testFlag=` (genuine token)", j["v1.memo_amp_name_eq"]["query"])
    c("ambiguous/name-with-eq", "AMBIGUOUS", "S1.10: a decoded name containing `=` (genuine token)",
      j["v1.name_eq"]["query"])
    c("ambiguous/name-with-amp", "AMBIGUOUS", "S1.10: a decoded name containing `&` (genuine token)",
      j["v1.name_amp"]["query"])
    # stale (S1.8 window)
    ms = v1_ms(TS1)
    c("stale/past", "STALE_TIMESTAMP", "now is timeStamp + 5 min + 1 ms (window 5 min, S1.8)", q,
      now_ms=ms + 300_001, window_ms=300_000)
    c("stale/future", "STALE_TIMESTAMP", "now is timeStamp - 5 min - 1 ms (window 5 min, S1.8)", q,
      now_ms=ms - 300_001, window_ms=300_000)
    # malformed
    c("malformed/bad-escape", "MALFORMED_ENCODING", "an invalid percent escape `%zz` in a value",
      q.replace("orderId=CS2403150930ABCDE", "orderId=CS%zz2403150930ABCDE"))
    c("malformed/escape-not-utf8", "MALFORMED_ENCODING", "a percent escape that decodes to invalid UTF-8 (%FF)",
      q.replace("orderId=CS2403150930ABCDE", "orderId=CS%FF"))
    c("malformed/timeStamp-16-digits", "BAD_TIMESTAMP", "timeStamp of 16 digits (S1.8: 17), genuine token",
      j["v1.ts16"]["query"])
    c("malformed/timeStamp-month-13", "BAD_TIMESTAMP", "timeStamp with month 13, genuine token",
      j["v1.ts_month13"]["query"])
    c("malformed/no-timeStamp", "MISSING_PARAMETER", "no timeStamp (it is the second half of the HMAC key)",
      j["v1.no_ts"]["query"])
    del enc_tok


def v1_json_cases(j):
    fields = [("activity", "getLicense"), ("orderId", "CS2403150930ABCDE"), ("orderLineId", "L1"),
              ("testFlag", "1"), ("timeStamp", TS1)]
    tok = j["v1json.base"]["auth_token"]
    body = json.dumps(dict(fields), ensure_ascii=False, separators=(",", ":"))

    def c(cid, expect, why, b, token=tok, **kw):
        case("v1_json_invalid", "v1b/" + cid, expect, why, access_key=K1, auth_token=token, body=b, **kw)

    def plus(extra):
        return body[:-1] + "," + extra + "}"

    c("altered/member", "SIGNATURE_MISMATCH", "a signed member changed (testFlag 1 -> 0)",
      body.replace('"testFlag":"1"', '"testFlag":"0"'))
    c("truncated/token", "SIGNATURE_MISMATCH", "authToken header cut by one character", body, token=tok[:-1])
    c("malformed/duplicate-name", "MALFORMED_ENCODING",
      "S1b: a duplicate member `orderId` appended after the genuine one (the app would read EVIL)",
      plus('"orderId":"EVIL"'))
    c("malformed/number-member", "MALFORMED_ENCODING", "S1b: a number member appended (not signed)",
      plus('"amount":100'))
    c("malformed/object-member", "MALFORMED_ENCODING", "S1b: a nested object appended (not signed)",
      plus('"extra":{"orderId":"EVIL"}'))
    c("malformed/null-member", "MALFORMED_ENCODING", "S1b: a null member appended", plus('"memo":null'))
    c("malformed/array-member", "MALFORMED_ENCODING", "S1b: an array member appended", plus('"ids":["a","b"]'))
    c("malformed/not-an-object", "MALFORMED_ENCODING", "S1b: the body is a JSON array, not an object",
      "[" + body + "]")
    c("ambiguous/authToken-member", "AMBIGUOUS",
      "S1b: a body member named authToken would sit outside the signed set", plus('"authToken":"%s"' % tok))
    merged = body.replace('"orderLineId":"L1","testFlag":"1"', '"orderLineId":"L1&testFlag=1"')
    assert merged != body
    c("ambiguous/merged-members", "AMBIGUOUS",
      "S1.10 for S1b: orderLineId and testFlag merged into one value (same canonical string, genuine token)",
      merged)
    c("malformed/no-timeStamp", "MISSING_PARAMETER", "no timeStamp member",
      json.dumps({"activity": "getLicense", "orderId": "CS2403150930ABCDE"}, separators=(",", ":")),
      token=j["v1json.no_ts"]["auth_token"])


def v2_cases(j):
    sig = j["v2.base"]["signature"]
    ms = int(TS2)

    def c(cid, expect, why, scheme="basic", sig_=sig, ts=TS2, nonce=NONCE2, body=V2_BODY, **kw):
        case("v2_invalid", ("v2/" if scheme == "basic" else "v2b/") + cid, expect, why, scheme=scheme,
             access_key=K2, body=body, signature=sig_, timestamp=ts, nonce=nonce, **kw)

    c("truncated/signature", "SIGNATURE_MISMATCH", "signature cut to 63 hex digits", sig_=sig[:-1])
    c("truncated/body", "SIGNATURE_MISMATCH", "body cut by its last byte", body=V2_BODY[:-1])
    c("altered/body", "SIGNATURE_MISMATCH", "one byte of the body changed (testFlag 1 -> 0)",
      body=V2_BODY.replace('"testFlag":"1"', '"testFlag":"0"'))
    c("altered/signature", "SIGNATURE_MISMATCH", "one hex digit of the signature changed", sig_=alter_char(sig, 10))
    c("altered/nonce", "SIGNATURE_MISMATCH", "the nonce changed (a fresh nonce for a replay)",
      nonce=NONCE2[:-2] + "FF")
    c("malformed/bad-hex", "SIGNATURE_MISMATCH",
      "64 characters that are not hex (`g`): not a signature of anything, so a mismatch",
      sig_=sig[:-1] + "G")
    c("malformed/digit-shift", "BAD_TIMESTAMP",
      "S2: the nonce's last digit `0` handed to the timestamp (`...170` + `1710...` = `...17` + `01710...`): "
      "the same signed string; a 14-digit timestamp with a leading zero is refused before the replay store",
      nonce=NONCE2[:-1], ts="0" + TS2)
    c("malformed/timestamp-leading-zero", "BAD_TIMESTAMP", "S2: 13 digits with a leading zero (genuine signature)",
      sig_=j["v2.ts_lead0"]["signature"], ts="0" + TS2[1:])
    c("malformed/timestamp-12-digits", "BAD_TIMESTAMP", "S2: 12 digits (genuine signature)",
      sig_=j["v2.ts12"]["signature"], ts=TS2[:12])
    c("malformed/timestamp-14-digits", "BAD_TIMESTAMP", "S2: 14 digits (genuine signature)",
      sig_=j["v2.ts14"]["signature"], ts=TS2 + "0")
    c("malformed/timestamp-not-digits", "BAD_TIMESTAMP", "S2: a letter in the timestamp (genuine signature)",
      sig_=j["v2.ts_alpha"]["signature"], ts=TS2[:12] + "a")
    c("malformed/nonce-space", "MALFORMED_ENCODING", "S2: a nonce is printable ASCII without space",
      sig_=j["v2.nonce_space"]["signature"], nonce="nonce with space")
    c("malformed/nonce-not-ascii", "MALFORMED_ENCODING", "S2: a nonce is printable ASCII (here CJK)",
      sig_=j["v2.nonce_utf8"]["signature"], nonce="nonce\u4e2d\u6587")
    c("malformed/nonce-empty", "MISSING_PARAMETER", "S2: an empty nonce",
      sig_=j["v2.nonce_empty"]["signature"], nonce="")
    c("malformed/nonce-257", "INPUT_TOO_LARGE", "S2: a nonce of 257 characters (1-256)",
      sig_=j["v2.nonce_long"]["signature"], nonce="N" * 257)
    c("stale/past", "STALE_TIMESTAMP", "now is timestamp + 60 s + 1 ms (the guide's window, S2)",
      now_ms=ms + 60_001, window_ms=60_000)
    c("stale/future", "STALE_TIMESTAMP", "now is timestamp - 60 s - 1 ms", now_ms=ms - 60_001, window_ms=60_000)
    c("replayed/same-request", "REPLAYED_NONCE",
      "the genuine request received twice within the window: the nonce is recorded after the first",
      now_ms=ms + 1_000, window_ms=60_000,
      prior={"signature": sig, "timestamp": TS2, "nonce": NONCE2, "body": V2_BODY})
    c("replayed/lower-case-signature", "REPLAYED_NONCE",
      "the same request again with the signature in lower case (still the same nonce)", sig_=sig.lower(),
      now_ms=ms + 2_000, window_ms=60_000,
      prior={"signature": sig, "timestamp": TS2, "nonce": NONCE2, "body": V2_BODY})

    # Query form (the raw query of S2): parse errors.
    q = "signature=%s&timestamp=%s&nonce=%s" % (sig, TS2, NONCE2)

    def cq(cid, expect, why, query):
        case("v2_invalid", "v2/" + cid, expect, why, scheme="basic", access_key=K2, body=V2_BODY, query=query)

    cq("truncated/query-no-nonce", "MISSING_PARAMETER", "query without its nonce parameter",
       q[:q.index("&nonce=")])
    cq("malformed/query-bad-escape", "MALFORMED_ENCODING", "an invalid percent escape in the query",
       q.replace("nonce=", "nonce=%zz"))
    cq("truncated/query-no-signature", "MISSING_PARAMETER", "query without its signature parameter",
       q[q.index("timestamp="):])

    # S2b kit
    ksig = j["kit.base"]["signature"]
    c("truncated/x-sign", "SIGNATURE_MISMATCH", "x-sign cut to 63 hex digits", scheme="kit", sig_=ksig[:-1])
    c("altered/body", "SIGNATURE_MISMATCH", "one byte of the body changed", scheme="kit", sig_=ksig,
      body=V2_BODY.replace("newInstance", "newInstancf"))
    c("ambiguous/body-starts-with-digit", "AMBIGUOUS",
      "S2b: x-timestamp and body are concatenated: a body starting with a digit could give it to the timestamp "
      "(genuine x-sign)", scheme="kit", sig_=j["kit.digit_body"]["signature"], body="7" + V2_BODY)
    c("ambiguous/digit-body", "AMBIGUOUS", "S2b: the body `12345` starts with a digit (genuine x-sign)",
      scheme="kit", sig_=j["kit.digit_body2"]["signature"], body="12345")
    c("malformed/digit-moved-to-timestamp", "BAD_TIMESTAMP",
      "S2b: the body's first digit moved onto x-timestamp (14 digits): the same signed string",
      scheme="kit", sig_=j["kit.digit_body"]["signature"], ts=TS2 + "7", body=V2_BODY)
    c("stale/past", "STALE_TIMESTAMP", "now is x-timestamp + 60 s + 1 ms", scheme="kit", sig_=ksig,
      now_ms=ms + 60_001, window_ms=60_000)
    c("replayed/same-request", "REPLAYED_NONCE", "the genuine kit request received twice", scheme="kit",
      sig_=ksig, now_ms=ms + 1_000, window_ms=60_000,
      prior={"signature": ksig, "timestamp": TS2, "nonce": NONCE2, "body": V2_BODY})


def licence_cases(j):
    base = j["lic.base"]
    body = '{"licenseId":"LIC-0001","status":"active"}'
    sig = base["signature"]

    def c(cid, expect, why, ts=TS5, nonce="n1", b=body, s=sig, **kw):
        case("licence_invalid", "s5/" + cid, expect, why, access_key=K5, ts=ts, nonce=nonce, body=b,
             signature=s, **kw)

    c("truncated/signature", "SIGNATURE_MISMATCH", "signature cut by one character", s=sig[:-1])
    c("altered/body", "SIGNATURE_MISMATCH", "body changed (active -> revoked)",
      b=body.replace("active", "revoked"))
    c("altered/signature", "SIGNATURE_MISMATCH", "one character of the signature changed", s=alter_char(sig, 3))
    c("ambiguous/amp-nonce", "AMBIGUOUS",
      "S5: nonce `n1` + body `&body=X` and nonce `n1&body=` + body `X` sign the same string; a nonce with `&` "
      "is refused (genuine signature of the first)", nonce="n1&body=", b="X", s=j["lic.amp_body"]["signature"])
    c("ambiguous/amp-in-nonce", "AMBIGUOUS", "S5: a nonce containing `&` (genuine signature)",
      nonce="a&b", b='{"licenseId":"LIC-0001"}', s=j["lic.amp_nonce"]["signature"])
    c("malformed/ts-leading-zero", "BAD_TIMESTAMP", "S5 uses the S2 rule: 14 digits with a leading zero",
      ts="0" + TS5, b='{"licenseId":"LIC-0001"}', s=j["lic.ts_lead0"]["signature"])
    c("malformed/ts-12-digits", "BAD_TIMESTAMP", "S5 uses the S2 rule: 12 digits",
      ts=TS5[:12], b='{"licenseId":"LIC-0001"}', s=j["lic.ts12"]["signature"])
    c("malformed/nonce-empty", "MISSING_PARAMETER", "S5: an empty nonce",
      nonce="", b='{"licenseId":"LIC-0001"}', s=j["lic.nonce_empty"]["signature"])
    c("stale/past", "STALE_TIMESTAMP", "now is ts + 60 s + 1 ms (window 60 s)",
      now_ms=int(TS5) + 60_001, window_ms=60_000)


def body_sign_cases(j):
    sig = j["bs.base"]["signature"]
    good = 'sign_type="HMAC-SHA256", signature="%s"' % sig

    def c(cid, expect, why, value, body=BS_BODY):
        cat = cid.split("/")[0]
        case("body_sign_invalid", "s3/" + cid, expect, why, access_key=K3, body=body, value=value)
        assert cat in ("altered", "truncated", "body-sign-grammar", "malformed"), cid

    c("altered/body", "SIGNATURE_MISMATCH", "the body changed after signing (resultCode 000000 -> 000001)", good,
      body=BS_BODY.replace("000000", "000001"))
    c("altered/body-whitespace", "SIGNATURE_MISMATCH", "a space added to the body: the exact bytes are signed",
      good, body=BS_BODY.replace(",", ", ", 1))
    c("truncated/signature", "SIGNATURE_MISMATCH", "signature cut by one character",
      'sign_type="HMAC-SHA256", signature="%s"' % sig[:-1])
    c("body-sign-grammar/lower-case-sign-type", "MALFORMED_ENCODING", "S3: sign_type must be exactly HMAC-SHA256",
      'sign_type="hmac-sha256", signature="%s"' % sig)
    c("body-sign-grammar/unknown-attribute", "MALFORMED_ENCODING", "S3: exactly two attributes; `foo` is unknown",
      good + ', foo="bar"')
    c("body-sign-grammar/leading-comma", "MALFORMED_ENCODING", "S3: a stray comma before the first attribute",
      ", " + good)
    c("body-sign-grammar/double-comma", "MALFORMED_ENCODING", "S3: an empty attribute between two commas",
      'sign_type="HMAC-SHA256",, signature="%s"' % sig)
    c("body-sign-grammar/trailing-comma", "MALFORMED_ENCODING", "S3: a stray comma after the last attribute",
      good + ",")
    c("body-sign-grammar/duplicate-signature", "MALFORMED_ENCODING",
      "S3: signature twice (genuine first, junk second): each attribute once",
      good + ', signature="%s"' % ("A" * 43 + "="))
    c("body-sign-grammar/duplicate-signature-same", "MALFORMED_ENCODING",
      "S3: signature twice with the same genuine value", good + ', signature="%s"' % sig)
    c("body-sign-grammar/duplicate-sign-type", "MALFORMED_ENCODING", "S3: sign_type twice",
      'sign_type="HMAC-SHA256", ' + good)
    c("body-sign-grammar/signature-not-quoted", "MALFORMED_ENCODING", "S3: quotes are mandatory (signature)",
      'sign_type="HMAC-SHA256", signature=%s' % sig)
    c("body-sign-grammar/sign-type-not-quoted", "MALFORMED_ENCODING", "S3: quotes are mandatory (sign_type)",
      'sign_type=HMAC-SHA256, signature="%s"' % sig)
    c("body-sign-grammar/space-before-equals", "MALFORMED_ENCODING",
      "S3: only `signature= \"...\"` (space after `=`) is tolerated, not a space before it",
      'sign_type="HMAC-SHA256", signature ="%s"' % sig)
    c("body-sign-grammar/tab-after-comma", "MALFORMED_ENCODING",
      "S3: after the comma only spaces are tolerated, not a tab", 'sign_type="HMAC-SHA256",\tsignature="%s"' % sig)
    c("body-sign-grammar/other-algorithm", "MALFORMED_ENCODING", "S3: sign_type HMAC-SHA1",
      'sign_type="HMAC-SHA1", signature="%s"' % sig)
    c("body-sign-grammar/missing-signature", "MISSING_PARAMETER", "S3: no signature attribute",
      'sign_type="HMAC-SHA256"')
    c("body-sign-grammar/missing-sign-type", "MISSING_PARAMETER", "S3: no sign_type attribute",
      'signature="%s"' % sig)


def apig_cases(s):
    get, post = s["get"], s["post"]
    date_ms = sdk_date_ms(DATE6)

    def c(cid, expect, why, base, sent, creds=((AK6, SK6),), **kw):
        req = dict(base)
        fields = {
            "method": kw.pop("method", req["method"]),
            "host": req["host"],
            "path": kw.pop("path", req["path"]),
            "query": kw.pop("query", req["query"]),
            "headers": sent,
            "body": kw.pop("body", req["body"]),
            "credentials": [list(x) for x in creds],
        }
        fields.update(kw)
        case("apig_invalid", "s6/" + cid, expect, why, **fields)

    def replace(sent, name, value):
        return [[n, value if n == name else v] for n, v in sent]

    def without(sent, name):
        return [[n, v] for n, v in sent if n.lower() != name.lower()]

    auth = get["authorization"]
    cut = auth.rindex("Signature=") + len("Signature=")
    c("altered/signature", "SIGNATURE_MISMATCH", "one hex digit of Signature changed", APIG_GET,
      replace(get["sent"], "Authorization", auth[:cut] + alter_char(auth[cut:], 0)))
    c("truncated/signature", "SIGNATURE_MISMATCH", "Signature cut to 63 hex digits", APIG_GET,
      replace(get["sent"], "Authorization", auth[:-1]))
    c("altered/query-value", "SIGNATURE_MISMATCH", "orderLineId changed", APIG_GET, get["sent"],
      query=[["orderId", "CS2403150930ABCDE"], ["orderLineId", "CS2403150930ABCDE-000002"]])
    c("altered/query-added", "SIGNATURE_MISMATCH", "a query parameter added", APIG_GET, get["sent"],
      query=APIG_GET["query"] + [["limit", "100"]])
    c("altered/path", "SIGNATURE_MISMATCH", "another path (order/delete)", APIG_GET, get["sent"],
      path="/api/mkp-openapi-public/global/v1/order/delete")
    c("altered/method", "SIGNATURE_MISMATCH", "GET replayed as DELETE", APIG_GET, get["sent"], method="DELETE")
    c("altered/body", "SIGNATURE_MISMATCH", "POST body changed", APIG_POST, post["sent"],
      body=APIG_POST_BODY.replace("hello", "EVIL!"))
    c("altered/unknown-ak", "SIGNATURE_MISMATCH", "no credential has this Access", APIG_GET, get["sent"],
      creds=(("OTHERAK0000000000000", SK6),))
    c("altered/host-header", "SIGNATURE_MISMATCH", "the signed Host header changed", APIG_GET,
      replace(get["sent"], "Host", "evil.example.com"))
    # S6 X-Sdk-Content-Sha256 rules
    c("rules/body-swap-unsigned-content-sha256", "SIGNATURE_MISMATCH",
      "S6: body replaced, and the original body's hash added as an X-Sdk-Content-Sha256 that is NOT among "
      "SignedHeaders: it is ignored and the real body hash is used", APIG_POST,
      post["sent"] + [["X-Sdk-Content-Sha256", sha256_hex(APIG_POST_BODY)]],
      body='{"eventId":"ev-0001","content":"EVIL"}')
    c("rules/body-swap-unsigned-unsigned-payload", "SIGNATURE_MISMATCH",
      "S6: body replaced, and an unsigned X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD added: ignored", APIG_POST,
      post["sent"] + [["X-Sdk-Content-Sha256", "UNSIGNED-PAYLOAD"]], body='{"eventId":"ev-0001","content":"EVIL"}')
    c("rules/signed-content-sha256-other-body", "SIGNATURE_MISMATCH",
      "S6: a signed X-Sdk-Content-Sha256 that is the hash of another body (SDK-signed): not the real hash",
      APIG_POST, s["post_other_hash"]["sent"])
    c("rules/signed-content-sha256-empty-hash", "SIGNATURE_MISMATCH",
      "S6: a signed X-Sdk-Content-Sha256 of the empty body with a non-empty body (SDK-signed)",
      APIG_POST, s["post_empty_hash"]["sent"])
    c("rules/signed-content-sha256-lower-case", "SIGNATURE_MISMATCH",
      "S6: a signed X-Sdk-Content-Sha256 `unsigned-payload`: only the exact UNSIGNED-PAYLOAD or the real hash",
      APIG_POST, s["post_lower_unsigned"]["sent"])
    c("rules/host-not-signed", "MALFORMED_ENCODING",
      "S6: SignedHeaders must include host (SDK signature over x-sdk-date only, as the Go SDK's tests)",
      APIG_GET, s["get_no_host"]["sent"])
    c("rules/x-sdk-date-not-signed", "MALFORMED_ENCODING", "S6: SignedHeaders must include x-sdk-date (SDK signature)",
      APIG_GET, s["get_no_date"]["sent"])
    c("ambiguous/repeated-host", "AMBIGUOUS", "S6: a second Host header before the genuine one (a signed header twice)",
      APIG_GET, [["Host", "evil.example.com"]] + get["sent"])
    c("ambiguous/repeated-x-sdk-date", "AMBIGUOUS", "S6: X-Sdk-Date twice", APIG_GET,
      [["X-Sdk-Date", "20240315T093500Z"]] + get["sent"])
    c("ambiguous/repeated-authorization", "AMBIGUOUS", "S6: Authorization twice (genuine first, junk second)",
      APIG_GET, get["sent"] + [["Authorization", auth[:cut] + "0" * 64]])
    c("ambiguous/repeated-signature-attribute", "AMBIGUOUS",
      "S6: the Signature attribute twice in Authorization (junk first, genuine last)", APIG_GET,
      replace(get["sent"], "Authorization", auth[:cut] + "0" * 64 + ", Signature=" + auth[cut:]))
    c("ambiguous/repeated-signed-header-case", "AMBIGUOUS",
      "S6: a signed header (x-request-id) given twice, names differing in case", APIG_GET,
      [["x-request-id", "req-EVIL"]] + s["get_custom"]["sent"])
    c("stale/past", "STALE_TIMESTAMP", "now is X-Sdk-Date + 15 min + 1 ms (S6 default window 15 min)", APIG_GET,
      get["sent"], now_ms=date_ms + 900_001, window_ms=900_000)
    c("stale/future", "STALE_TIMESTAMP", "now is X-Sdk-Date - 15 min - 1 ms", APIG_GET, get["sent"],
      now_ms=date_ms - 900_001, window_ms=900_000)
    c("malformed/x-sdk-date-iso", "BAD_TIMESTAMP", "X-Sdk-Date in ISO 8601 with separators", APIG_GET,
      replace(get["sent"], "X-Sdk-Date", "2024-03-15T09:30:00Z"))
    c("truncated/no-authorization", "MISSING_PARAMETER", "no Authorization header", APIG_GET,
      without(get["sent"], "Authorization"))
    c("truncated/no-x-sdk-date", "MISSING_PARAMETER", "no X-Sdk-Date header", APIG_GET,
      without(get["sent"], "X-Sdk-Date"))
    c("truncated/signed-header-absent", "MISSING_PARAMETER", "a header listed in SignedHeaders (x-request-id) removed",
      APIG_GET, without(s["get_custom"]["sent"], "X-Request-Id"))
    c("malformed/other-algorithm", "MALFORMED_ENCODING", "Authorization of another algorithm (SDK-HMAC-SM3)",
      APIG_GET, replace(get["sent"], "Authorization", auth.replace("SDK-HMAC-SHA256", "SDK-HMAC-SM3", 1)))


def aes_cases(j):
    w128 = j["aes.base128"]["ciphertext"]
    w256 = j["aes.base256"]["ciphertext"]
    checks = []

    def c(cid, why, ty, wire):
        case("aes_invalid", "s4/" + cid, "DECRYPT", why, access_key=K4, encrypt_type=ty, ciphertext=wire)
        checks.append({"id": "s4/" + cid, "kind": "aes_decrypt", "access_key": K4, "encrypt_type": ty,
                       "ciphertext": wire})

    ct = base64.b64decode(w256[16:])

    def wire(iv, b):
        return iv + base64.b64encode(b).decode()

    c("truncated/base64", "the last 4 Base64 characters removed", 2, w128[:-4])
    c("truncated/last-block", "the last ciphertext block removed: the padding is then wrong", 1,
      wire(w256[:16], ct[:-16]))
    c("truncated/iv-only", "only the 16-character IV, no ciphertext: koosign needs at least one block (the "
      "JDK's Cipher.doFinal of zero bytes returns an empty plaintext)", 2, w128[:16])
    c("truncated/not-block-multiple", "a ciphertext of 31 bytes (not a multiple of 16)", 1,
      wire(w256[:16], ct[:-1]))
    c("altered/last-block", "one bit of the last block flipped: bad padding", 1,
      wire(w256[:16], ct[:-1] + bytes([ct[-1] ^ 1])))
    c("altered/wrong-key-size", "an AES-128 ciphertext decrypted as encryptType 1 (AES-256)", 1, w128)
    c("altered/wrong-key-size-256", "an AES-256 ciphertext decrypted as encryptType 2 (AES-128)", 2, w256)
    c("malformed/base64-char", "a character outside Base64 (`*`)", 2, w128[:20] + "*" + w128[21:])
    tail = w128[-3]
    alph = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    assert w128.endswith("==")
    bad = alph[alph.index(tail) | 1]
    c("malformed/base64-unused-bits", "the last Base64 character before `==` with non-zero unused bits "
      "(`%s` for `%s`): koosign accepts only the canonical encoding of a ciphertext (the JDK's decoder "
      "would accept it)" % (bad, tail), 2, w128[:-3] + bad + "==")
    return checks


# Damaged ciphertexts the JDK still decrypts, refused by koosign by decision (the why says so).
JDK_LENIENT = {"s4/malformed/base64-unused-bits", "s4/truncated/iv-only"}


def main():
    if sys.stdout.encoding.lower().replace("-", "") != "utf8":
        sys.stdout.reconfigure(encoding="utf-8")
    j = jdk_sign(jdk_requests())
    s = sdk_requests()
    v1_cases(j)
    v1_json_cases(j)
    v2_cases(j)
    licence_cases(j)
    body_sign_cases(j)
    apig_cases(s)
    checks = aes_cases(j)
    # The JDK must refuse every damaged ciphertext too, except where koosign is stricter by decision.
    for cid, o in jdk_sign(checks).items():
        if o["jdk"].startswith("ok:") and cid not in JDK_LENIENT:
            raise SystemExit("%s: the JDK decrypts it (%s)" % (cid, o["jdk"]))
    for c in CASES:
        sys.stdout.write(json.dumps(c, ensure_ascii=False) + "\n")
    counts = {}
    for c in CASES:
        counts[c["kind"]] = counts.get(c["kind"], 0) + 1
    print("invalid cases: %d %s" % (len(CASES), counts), file=sys.stderr)


if __name__ == "__main__":
    main()
