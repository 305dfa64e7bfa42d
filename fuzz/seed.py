#!/usr/bin/env python3
"""Writes the seed corpora of koosign's fuzz targets from the repository's
conformance vectors.

    python3 fuzz/seed.py [VECTORS [CORPUS]]

VECTORS defaults to $KOOSIGN_VECTORS, else the repository's vectors/;
CORPUS to fuzz/corpus. A missing vector file is an error (exit 1).

Each seed is written in the byte layout of its target's case type (see
fuzz/src/input.rs: byte, u16/u64 little-endian, length-prefixed bytes and
text, counted lists, the rest). Seeds whose name starts with `seed-ok-` are
requests that must verify (or wire strings that must decrypt); the fuzz
crate's `tests/corpus.rs` checks that they do, so the seeds really reach the
code behind the signature check. Standard library only.
"""
import base64
import datetime
import hashlib
import hmac
import json
import os
import re
import struct
import sys
import urllib.parse

# ---- the layout (fuzz/src/input.rs) ----


def u8(x):
    return bytes([x & 0xFF])


def u16(x):
    return struct.pack("<H", x)


def u64(x):
    return struct.pack("<Q", x)


def bts(b):
    assert len(b) <= 0xFFFF
    return u16(len(b)) + b


def txt(s):
    return bts(s.encode("utf-8"))


def pairs(ps, maximum):
    assert len(ps) <= maximum
    return u8(len(ps)) + b"".join(txt(n) + txt(v) for n, v in ps)


def opts(flags=0, now=0, window=0):
    return u8(flags) + u64(now) + u64(window)


FRESH, DECOY, STORE = 1, 4, 8
DECOY_KEY = "decoy-key-not-used"

# ---- the schemes, from docs/SCHEMES.md ----


def hmac256(key, msg):
    return hmac.new(key, msg, hashlib.sha256).digest()


def v1_ms(ts):
    d = datetime.datetime.strptime(ts[:14], "%Y%m%d%H%M%S").replace(tzinfo=datetime.timezone.utc)
    return int(d.timestamp()) * 1000 + int(ts[14:17])


def blank(v):
    return all(c.isspace() for c in v)


def v1_token(params, key, skip_blank=False):
    kept = {}
    for n, v in params:
        if n == "authToken" or (skip_blank and blank(v)) or n in kept:
            continue
        kept[n] = v
    ts = next(v for n, v in params if n == "timeStamp")
    canon = "&".join(f"{n}={kept[n]}" for n in sorted(kept, key=lambda s: s.encode("utf-16-be")))
    return base64.b64encode(hmac256((key + ts).encode(), canon.encode())).decode()


def ambiguous(params):
    """SCHEMES.md S1 item 10: a name with `&` or `=`, or a value with `&x=`
    (`x` free of `&` and `=`), in any pair but authToken."""
    return any(
        n != "authToken" and ("&" in n or "=" in n or re.search(r"&[^&=]*=", v))
        for n, v in params
    )


def form_encode(s):
    return urllib.parse.quote_plus(s, safe="*-._")


def v1_query(params, key):
    q = "&".join(form_encode(n) + "=" + form_encode(v) for n, v in params)
    return q + "&authToken=" + form_encode(v1_token(params, key))


def v2_sig(kit, body, key, nonce, ts):
    k = key.encode()
    inner = body if kit else hmac256(k, body).hex().encode()
    return hmac256(k, k + nonce.encode() + ts.encode() + inner).hex().upper()


def licence_sig(ts, nonce, body, key):
    msg = f"ts={ts}&nonce={nonce}&body=".encode() + body
    return base64.b64encode(hmac256(key.encode(), msg)).decode()


def body_sign_value(body, key, variant=0):
    sig = base64.b64encode(hmac256(key.encode(), body)).decode()
    return [
        f'sign_type="HMAC-SHA256", signature="{sig}"',
        f'sign_type="HMAC-SHA256",signature="{sig}"',
        f'signature= "{sig}", sign_type="HMAC-SHA256"',
    ][variant % 3]


def v1_ambiguous(n, v):
    """SCHEMES.md S1 item 10: `&` or `=` in a name, `&x=` in a value."""
    if "&" in n or "=" in n:
        return True
    for i, ch in enumerate(v):
        if ch == "&":
            rest = v[i + 1:]
            cut = min([j for j in (rest.find("&"), rest.find("=")) if j >= 0], default=-1)
            if cut >= 0 and rest[cut] == "=":
                return True
    return False


def ts13(ts):
    """SCHEMES.md S2: exactly 13 digits, no leading zero."""
    return len(ts) == 13 and ts.isdigit() and ts[0] != "0"


def v2_nonce_ok(n):
    """SCHEMES.md S2: 1-256 printable ASCII characters, no space."""
    return 1 <= len(n.encode()) <= 256 and all("!" <= ch <= "~" for ch in n)


def sdk_ms(date):
    d = datetime.datetime.strptime(date.upper(), "%Y%m%dT%H%M%SZ").replace(tzinfo=datetime.timezone.utc)
    return int(d.timestamp()) * 1000


# ---- the corpora ----


class Corpus:
    def __init__(self, root):
        self.root = root
        self.count = {}

    def add(self, target, data, ok=False):
        d = os.path.join(self.root, target)
        os.makedirs(d, exist_ok=True)
        name = ("seed-ok-" if ok else "seed-") + hashlib.sha1(data).hexdigest()[:16]
        with open(os.path.join(d, name), "wb") as f:
            f.write(data)
        self.count[target] = self.count.get(target, 0) + 1


HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    repo = os.path.dirname(HERE)
    vectors = sys.argv[1] if len(sys.argv) > 1 else (os.environ.get("KOOSIGN_VECTORS") or os.path.join(repo, "vectors"))
    out = sys.argv[2] if len(sys.argv) > 2 else os.path.join(HERE, "corpus")
    cases = []
    for name in ("notifications.jsonl", "apig.jsonl"):
        path = os.path.join(vectors, name)
        if not os.path.isfile(path):
            sys.exit("seed.py: conformance vectors missing: %s (the repository's vectors/ or $KOOSIGN_VECTORS)" % path)
        with open(path, encoding="utf-8") as f:
            cases += [json.loads(line) for line in f if line.strip()]
    by = {}
    for c in cases:
        by.setdefault(c["kind"], []).append(c)
    C = Corpus(out)
    for t in ("nonce_cache",):
        os.makedirs(os.path.join(out, t), exist_ok=True)
        C.count.setdefault(t, 0)
    aes_by_key = {}
    for a in by.get("aes_cbc", []):
        aes_by_key.setdefault(a["access_key"], a)

    # V1 queries: as given, with a decoy key first, with freshness, and
    # re-signed with an encrypted mobilePhone (reaches decrypt_param).
    for i, c in enumerate(by.get("v1_query", [])):
        key, q = c["access_key"], c["query"]
        params = urllib.parse.parse_qsl(q, keep_blank_values=True, errors="strict")
        ts = next(v for n, v in params if n == "timeStamp")
        # A JDK vector whose decoded values hold `&x=` verifies under the
        # JDK but is refused by the S1 item 10 decision (AMBIGUOUS).
        ok = not ambiguous(params)
        C.add("v1_query", opts() + txt(DECOY_KEY) + txt(key) + q.encode(), ok=ok)
        C.add("v1_query", opts(FRESH | DECOY, v1_ms(ts) + 1000) + txt(DECOY_KEY) + txt(key) + q.encode(), ok=ok)
        signed = [(n, v) for n, v in params if n != "authToken"]
        a = aes_by_key.get(key)
        if a is not None:
            with_field = signed + [("mobilePhone", a["ciphertext"])]
            C.add("v1_query", opts() + txt(DECOY_KEY) + txt(key) + v1_query(with_field, key).encode(), ok=ok)
        # S1b: the same parameters as a JSON body, token in a header.
        obj = {}
        for n, v in signed:
            if not blank(v) and n not in obj:
                obj[n] = v
        body = json.dumps(obj, ensure_ascii=(i % 2 == 0)).encode()
        token = v1_token(list(obj.items()), key, skip_blank=True)
        C.add("v1_json", opts(DECOY if i % 2 else 0) + txt(DECOY_KEY) + txt(key) + txt(token) + body,
              ok=not ambiguous(list(obj.items())))
        C.add("timestamps", u64(v1_ms(ts)) + u64(60000) + ts.encode())

    # V2 basic and kit: the three sources.
    for i, c in enumerate(by.get("v2_basic", []) + by.get("v2_kit", [])):
        kit = c["kind"] == "v2_kit"
        key, nonce, ts, body, sig = c["access_key"], c["nonce"], c["timestamp"], c["body"].encode(), c["signature"]
        head = opts(FRESH | STORE | (DECOY if i % 2 else 0), int(ts)) + txt(DECOY_KEY) + txt(key) + u8(1 if kit else 0)
        C.add("v2_verify", head + u8(0) + txt(sig) + txt(ts) + txt(nonce) + body, ok=True)
        q = f"signature={sig.lower()}&timestamp={ts}&nonce={form_encode(nonce)}"
        C.add("v2_verify", head + u8(1) + txt(q) + body, ok=True)
        h = [("x-sign", sig), ("X-Timestamp", ts), ("x-nonce", nonce), ("Content-Type", "application/json")]
        C.add("v2_verify", head + u8(2) + pairs(h, 8) + body, ok=True)
        # A body carrying an encrypted field (reaches VerifiedV2::decrypt_field).
        a = aes_by_key.get(key)
        if a is not None and not kit:
            b2 = json.dumps({"activity": "newInstance", "customerName": a["ciphertext"], "orderId": "CS1"}).encode()
            s2 = v2_sig(False, b2, key, nonce, ts)
            C.add("v2_verify", head + u8(0) + txt(s2) + txt(ts) + txt(nonce) + b2, ok=True)
        # The merchant context: a whole request (method, query, headers,
        # body) whose notification is valid, so the seed gets past the
        # activity table too.
        mb = json.dumps({"activity": "newInstance", "orderId": "CS%d" % i, "orderLineId": "CS%d-1" % i, "testFlag": "0"}).encode()
        ms = v2_sig(kit, mb, key, nonce, ts)
        mhead = opts(FRESH | STORE | (DECOY if i % 2 else 0), int(ts)) + txt(DECOY_KEY) + txt(key) + u8(1)
        if kit:
            mh = [("X-Sign", ms), ("x-timestamp", ts), ("x-nonce", nonce)]
            C.add("merchant", mhead + txt("") + pairs(mh, 8) + mb, ok=True)
        else:
            mq = f"signature={ms}&timestamp={ts}&nonce={form_encode(nonce)}"
            C.add("merchant", mhead + txt(mq) + pairs([], 8) + mb, ok=True)
        C.add("notification", body)
        C.add("timestamps", u64(int(ts)) + u64(60000) + ts.encode())
        # S5 over the same material.
        ls = licence_sig(ts, nonce, body, key)
        C.add("licence", opts(FRESH, int(ts)) + txt(DECOY_KEY) + txt(key) + txt(ts) + txt(nonce) + txt(ls) + body, ok=True)

    for i, c in enumerate(by.get("body_sign", [])):
        key, body = c["access_key"], c["body"].encode()
        value = body_sign_value(body, key, i)
        assert f'"{c["signature"]}"' in value
        C.add("body_sign", opts(DECOY if i % 2 else 0) + txt(DECOY_KEY) + txt(key) + txt(value) + body, ok=True)
        C.add("notification", body)

    for i, c in enumerate(by.get("aes_cbc", [])):
        key, wire = c["access_key"], c["ciphertext"]
        C.add("field_decrypt", txt(key) + u16(len(wire) - (i % 2)) + wire.encode(), ok=True)
        C.add("field_decrypt", txt(key) + u16(200) + wire.replace("+", " ").encode(), ok=True)

    for i, c in enumerate(by.get("apig", [])):
        given = dict(c["headers"])
        # The headers the SDK added before signing (the case records only the
        # ones handed to it): X-Sdk-Content-Sha256 for a non-JSON Content-Type
        # (exact key, as the SDK looks it up); Host falls back to `host`.
        ct = given.get("Content-Type")
        if ct and not ct.startswith(("application/json", "application/bson")):
            given["X-Sdk-Content-Sha256"] = "UNSIGNED-PAYLOAD"
        headers = list(given.items()) + [("Authorization", c["authorization"])]
        data = (
            opts(DECOY if i % 2 else 0)
            + txt(c["method"])
            + txt(c["host"])
            + txt(c["path"])
            + pairs([tuple(p) for p in c["query"]], 70)
            + pairs(headers, 36)
            + txt(c["ak"])
            + txt(c["sk"])
            + c["body"].encode()
        )
        C.add("apig", data, ok=True)
        date = c["headers"].get("X-Sdk-Date")
        if date:
            C.add("timestamps", u64(0) + u64(0) + date.encode())
        if c["body"]:
            C.add("notification", c["body"].encode())

    # Round trips: the vectors' material, recombined.
    v1s, v2s, aess, apigs = by.get("v1_query", []), by.get("v2_basic", []), by.get("aes_cbc", []), by.get("apig", [])
    n = max(len(v1s), len(v2s), len(aess), len(apigs))
    for i in range(n):
        v1 = v1s[i % len(v1s)]
        v2 = v2s[i % len(v2s)]
        a = aess[i % len(aess)]
        ap = apigs[i % len(apigs)]
        params = [(k, v) for k, v in urllib.parse.parse_qsl(v1["query"], keep_blank_values=True) if k != "authToken"]
        data = (
            txt(v1["access_key"])
            + u64(int(v2["timestamp"]))
            + pairs(params[:70], 70)
            + u8(i)
            + txt(v2["nonce"])
            + bts(v2["body"].encode())
            + txt(a["plaintext"])
            + a["iv"].encode()
            + u8((0 if a["encrypt_type"] == 1 else 1) | ((i % 3) << 1))
            + u16(i * 7)
            + u8(i * 13 + 1)
            + txt(ap["method"])
            + txt(ap["host"])
            + txt(ap["path"])
            + pairs([tuple(p) for p in ap["query"]][:20], 20)
            + pairs([h for h in ap["headers"].items() if h[0].lower() != "x-sdk-date"][:12], 12)
            + txt(ap["ak"])
            + txt(ap["sk"])
            + hashlib.sha256(bytes([i])).digest()
        )
        C.add("roundtrip", data)

    # Injectivity (fuzz/src/injectivity.rs): genuine requests of every
    # scheme from the vectors' material, and the issue-11 attacks' originals.
    # `seed-ok-` only where the original satisfies the issue-11 rules (it
    # must verify; its rewrites must find no forgery).
    def inj_s1(key, params, ts_ms, kit=False, seed=0, style=0, ok=True):
        params = [(n, v) for n, v in params if n not in ("authToken", "timeStamp")][:8]
        ok = ok and not any(v1_ambiguous(n, v) for n, v in params)
        if kit:
            ok = ok and len({n for n, _ in params}) == len(params)
            data = u8(1) + txt(key) + pairs(params, 8) + u64(ts_ms) + u8(1) + u8(style) + u64(seed) + txt("EVIL")
        else:
            data = u8(0) + txt(key) + pairs(params, 8) + u64(ts_ms) + u8(1) + u64(seed) + txt("EVIL")
        C.add("injectivity", data, ok=ok)

    def inj_v2(kit, key, nonce, ts, body, seed=0, ok=True):
        ok = ok and v2_nonce_ok(nonce) and ts13(ts) and not (kit and body[:1].isdigit())
        data = u8(3 if kit else 2) + txt(key) + txt(nonce) + u64(int(ts)) + u64(seed) + bts(b'{"activity":"x"}') + body
        C.add("injectivity", data, ok=ok)

    def inj_s5(key, ts, nonce, body, ok=True):
        ok = ok and ts13(ts) and nonce != "" and "&" not in nonce
        C.add("injectivity", u8(4) + txt(key) + u64(int(ts)) + txt(nonce) + bts(b"X") + body, ok=ok)

    def inj_s6(method, path, query, headers, content, ms, sk, body, seed=1, ok=True):
        data = (
            u8(5) + txt(method) + txt(path) + pairs(query[:6], 6) + pairs(headers[:6], 6) + u8(content) + u64(ms)
            + txt(sk) + u64(seed) + txt("EVIL") + bts(b'{"name":"evil"}') + body
        )
        C.add("injectivity", data, ok=ok)

    for i, c in enumerate(by.get("v1_query", [])):
        params = urllib.parse.parse_qsl(c["query"], keep_blank_values=True)
        ts = next(v for n, v in params if n == "timeStamp")
        inj_s1(c["access_key"], params, v1_ms(ts), seed=i)
        members = [(n, v) for n, v in params if not blank(v)]
        inj_s1(c["access_key"], members, v1_ms(ts), kit=True, seed=i, style=i % 16)
    for i, c in enumerate(by.get("v2_basic", []) + by.get("v2_kit", [])):
        kit = c["kind"] == "v2_kit"
        inj_v2(kit, c["access_key"], c["nonce"], c["timestamp"], c["body"].encode(), seed=i)
        inj_s5(c["access_key"], c["timestamp"], c["nonce"], c["body"].encode())
    for i, c in enumerate(by.get("apig", [])):
        date = c["headers"].get("X-Sdk-Date")
        ms = sdk_ms(date) if date else 1591583940000
        headers = [(n, v) for n, v in c["headers"].items()]
        inj_s6(c["method"], c["path"], [tuple(p) for p in c["query"]], headers, i % 5, ms, c["sk"], c["body"].encode(), seed=i)
    # The attacks: S1 merge, S1b unsigned members, S2/S2b digit
    # shift, S5 boundary, S6 body swap (every content mode).
    k = "testAccessKey123"
    ts = "1680508066618"
    v2_body = b'{"activity":"newInstance","orderId":"CS1","orderLineId":"L1","testFlag":"1"}'
    inj_s1(k, [("activity", "newInstance"), ("orderLineId", "L1"), ("testFlag", "1")], int(ts))
    inj_s1(k, [("activity", "newInstance"), ("orderId", "CS1"), ("testFlag", "1")], int(ts), kit=True, style=8)
    for kit in (False, True):
        inj_v2(kit, k, "50D83FDECAED6CCD170", ts, v2_body)
    inj_s5(k, ts, "n1", b"&body=X")
    for content in range(6):
        inj_s6("POST", "/api/mkp-openapi-public/global/v1/order/query", [("orderId", "CS1")],
               [("X-Project-Id", "p1")], content, 1591583940000, "SecretKey", b'{"name":"test","id":1}', ok=content != 5)

    # simulate's HTTP response parser (koosign-wire): answers as `koosign
    # serve` sends them (signed bodies from the vectors), framed every way,
    # fed whole or at cuts. Layout (fuzz/src/http.rs): flags, cuts, stream.
    HEAD_ONLY, SMALL, EOF = 1, 2, 4

    def http_case(flags, cuts, stream):
        return u8(flags) + u8(len(cuts)) + b"".join(u16(c) for c in cuts) + stream

    for i, c in enumerate(by.get("body_sign", [])):
        key, body = c["access_key"], c["body"].encode()
        value = body_sign_value(body, key, i).encode()
        head = b"HTTP/1.1 200 OK\r\nContent-Type: application/json;charset=UTF-8\r\nBody-Sign: " + value + b"\r\n"
        cl = head + b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body
        C.add("http_response", http_case(0, [], cl), ok=True)
        C.add("http_response", http_case(0, [17, 40, len(cl) - 1], b"HTTP/1.1 100 Continue\r\n\r\n" + cl), ok=True)
        half = len(body) // 2
        chunked = (
            head
            + b"Transfer-Encoding: chunked\r\n\r\n"
            + b"%x\r\n" % half + body[:half] + b"\r\n"
            + b"%x;ext=1\r\n" % (len(body) - half) + body[half:] + b"\r\n"
            + b"0\r\nX-Trailer: t\r\n\r\n"
        )
        C.add("http_response", http_case(0, [i, 3 * i + 5], chunked), ok=True)
        C.add("http_response", http_case(EOF, [], head.replace(b"HTTP/1.1", b"HTTP/1.0") + b"\r\n" + body), ok=True)
        C.add("http_response", http_case(HEAD_ONLY, [], cl[: len(cl) - len(body)]), ok=True)
    small = b"HTTP/1.1 200 OK\r\nBody-Sign: x\r\nContent-Length: 2\r\n\r\n{}"
    C.add("http_response", http_case(SMALL, [5], small), ok=True)
    # The two crash inputs of issue 11 (finding 7), and an endless header list.
    C.add("http_response", http_case(0, [], b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffe\r\nab\r\n"))
    C.add("http_response", http_case(SMALL, [30], b"HTTP/1.1 100 Continue\r\n\r\n" * 100))
    C.add("http_response", http_case(SMALL, [], b"HTTP/1.1 200 OK\r\n" + b"X-A: b\r\n" * 10))

    for t in sorted(C.count):
        print(f"seeded {t}: {C.count[t]} files")


if __name__ == "__main__":
    main()
