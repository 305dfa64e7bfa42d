"""A pure-Python reference of the KooGallery schemes (SCHEMES.md), written
the way a careful merchant would port them by hand: ``urllib.parse``,
``hmac``, ``hashlib``, ``base64`` and ``cryptography`` for AES, plus a
Python SHA1PRNG. Used by the differential tests and by bench/bench.py.

Independent of koosign on purpose: nothing here imports it.
"""

from __future__ import annotations

import base64
import calendar
import hashlib
import hmac
import re
import time
from typing import Dict, Iterable, List, Optional, Sequence, Tuple
from urllib.parse import quote, unquote, unquote_plus

from cryptography.hazmat.primitives import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes


class RefError(Exception):
    """A refusal; its text names the rule: "missing", "ambiguous", "bad
    timestamp", "malformed", "too large", "mismatch", "stale", "replay"."""


def _hmac(key: bytes, msg: bytes) -> bytes:
    return hmac.new(key, msg, hashlib.sha256).digest()


# --- S1 -------------------------------------------------------------------


def parse_query(query: str) -> List[Tuple[str, str]]:
    if query.startswith("?"):
        query = query[1:]
    out = []
    for seg in query.split("&"):
        if not seg:
            continue
        name, _, value = seg.partition("=")
        out.append((unquote_plus(name, errors="strict"), unquote_plus(value, errors="strict")))
    return out


def _java_key(s: str) -> bytes:
    # Java's String.compareTo: UTF-16 code units; big-endian bytes sort the same.
    return s.encode("utf-16-be", "surrogatepass")


def v1_canonical_pairs(pairs: Iterable[Tuple[str, str]], skip_blank: bool = False) -> str:
    seen: Dict[str, str] = {}
    for n, v in pairs:
        if n == "authToken" or (skip_blank and not v.strip()):
            continue
        seen.setdefault(n, v)
    return "&".join(f"{n}={seen[n]}" for n in sorted(seen, key=_java_key))


def v1_token(pairs: Sequence[Tuple[str, str]], access_key: str) -> str:
    ts = next(v for n, v in pairs if n == "timeStamp")
    key = (access_key + ts).encode()
    return base64.b64encode(_hmac(key, v1_canonical_pairs(pairs).encode())).decode()


def parse_v1_timestamp(ts: str) -> int:
    if len(ts) != 17 or not ts.isdigit() or not ts.isascii():
        raise RefError("bad timestamp")
    t = time.strptime(ts[:14], "%Y%m%d%H%M%S")
    return calendar.timegm(t) * 1000 + int(ts[14:])


_AMBIGUOUS_NAME = re.compile(r"[&=]")
_AMBIGUOUS_VALUE = re.compile(r"&[^&=]*=")


def v1_is_ambiguous(pairs: Iterable[Tuple[str, str]]) -> bool:
    """SCHEMES.md S1 item 10: a decoded name with `&` or `=`, or a decoded
    value with `&`, then characters free of `&` and `=`, then `=` (every pair
    but authToken, repeated names included)."""
    return any(n != "authToken" and (_AMBIGUOUS_NAME.search(n) or _AMBIGUOUS_VALUE.search(v)) for n, v in pairs)


def verify_v1(
    query: str,
    access_keys: Sequence[str],
    now: Optional[float] = None,
    max_age: Optional[float] = None,
    seen: Optional[Dict[str, int]] = None,
) -> int:
    """S1; ``seen`` (token -> expiry ms) is the replay store (S1 item 8): the
    repaired token, kept until timeStamp + window (300 s without max_age)."""
    pairs = parse_query(query)
    names = [n for n, _ in pairs]
    if "authToken" not in names or "timeStamp" not in names:
        raise RefError("missing")
    if v1_is_ambiguous(pairs):
        raise RefError("ambiguous")
    received = next(v for n, v in pairs if n == "authToken").replace(" ", "+")
    ts_ms = parse_v1_timestamp(next(v for n, v in pairs if n == "timeStamp"))
    found = -1
    for i, k in enumerate(access_keys):
        if hmac.compare_digest(v1_token(pairs, k).encode(), received.encode()) and found < 0:
            found = i
    if found < 0:
        raise RefError("mismatch")
    now_ms = round((time.time() if now is None else now) * 1000) if max_age is not None else ts_ms
    if max_age is not None and abs(now_ms - ts_ms) > round(max_age * 1000):
        raise RefError("stale")
    if seen is not None:
        if seen.get(received, -1) >= now_ms:
            raise RefError("replay")
        seen[received] = ts_ms + (round(max_age * 1000) if max_age is not None else 300_000)
    return found


# --- S2 / S2b -------------------------------------------------------------


def sign_v2(body: bytes, access_key: str, nonce: str, timestamp: str, kit: bool = False) -> str:
    k = access_key.encode()
    tail = body if kit else hmac.new(k, body, hashlib.sha256).hexdigest().encode()
    return hmac.new(k, k + nonce.encode() + timestamp.encode() + tail, hashlib.sha256).hexdigest().upper()


def verify_v2(
    params: Dict[str, str],
    body: bytes,
    access_keys: Sequence[str],
    now: Optional[float] = None,
    window: Optional[float] = 60.0,
    kit: bool = False,
) -> int:
    sig, ts, nonce = params["signature"], params["timestamp"], params["nonce"]
    check_unix_ms(ts)
    if not nonce:
        raise RefError("missing")
    if len(nonce.encode()) > 256:
        raise RefError("too large")
    if not all(0x21 <= ord(c) <= 0x7E for c in nonce):
        raise RefError("malformed")
    # S2b: the body starts with `{`, the nonce holds none (SCHEMES.md S2b).
    if kit and (body[:1] != b"{" or "{" in nonce):
        raise RefError("ambiguous")
    found = -1
    for i, k in enumerate(access_keys):
        if hmac.compare_digest(sign_v2(body, k, nonce, ts, kit).encode(), sig.upper().encode()) and found < 0:
            found = i
    if found < 0:
        raise RefError("mismatch")
    if window is not None:
        now_ms = round((time.time() if now is None else now) * 1000)
        if abs(now_ms - int(ts)) > round(window * 1000):
            raise RefError("stale")
    return found


def check_unix_ms(ts: str) -> int:
    """S2 / S5 timestamps: exactly 13 ASCII digits, the first not 0."""
    if re.fullmatch(r"[1-9][0-9]{12}", ts) is None:
        raise RefError("bad timestamp")
    return int(ts)


def verify_v2_query(query: str, body: bytes, access_keys: Sequence[str], **kw: object) -> int:
    first: Dict[str, str] = {}
    for n, v in parse_query(query):
        first.setdefault(n, v)
    return verify_v2(first, body, access_keys, **kw)  # type: ignore[arg-type]


# --- S3 -------------------------------------------------------------------


def body_sign(body: bytes, access_key: str) -> str:
    sig = base64.b64encode(_hmac(access_key.encode(), body)).decode()
    return f'sign_type="HMAC-SHA256", signature="{sig}"'


# --- S4 -------------------------------------------------------------------


def _s8(b: int) -> int:
    return b - 256 if b > 127 else b


def sha1prng(seed: bytes, n: int) -> bytes:
    state = bytearray(hashlib.sha1(seed).digest())
    out = b""
    while len(out) < n:
        block = hashlib.sha1(bytes(state)).digest()
        out += block
        carry, changed = 1, False
        for i in range(20):
            v = _s8(state[i]) + _s8(block[i]) + carry
            new = v & 0xFF
            changed |= new != state[i]
            state[i] = new
            carry = v >> 8
        if not changed:
            state[0] = (state[0] + 1) & 0xFF
    return out[:n]


def derive_key(access_key: str, bits: int) -> bytes:
    return sha1prng(access_key.encode(), bits // 8)


def encrypt_field(plaintext: str, access_key: str, encrypt_type: str, iv: str) -> str:
    key = derive_key(access_key, 256 if encrypt_type == "1" else 128)
    padder = padding.PKCS7(128).padder()
    data = padder.update(plaintext.encode()) + padder.finalize()
    enc = Cipher(algorithms.AES(key), modes.CBC(iv.encode())).encryptor()
    return iv + base64.b64encode(enc.update(data) + enc.finalize()).decode()


def _decrypt(wire: str, key: bytes) -> str:
    iv, b64 = wire[:16].encode(), wire[16:].replace(" ", "+")
    ct = base64.b64decode(b64, validate=True)
    dec = Cipher(algorithms.AES(key), modes.CBC(iv)).decryptor()
    unpadder = padding.PKCS7(128).unpadder()
    data = unpadder.update(dec.update(ct) + dec.finalize()) + unpadder.finalize()
    return data.decode("utf-8")


def decrypt_field(wire: str, access_key: str, encrypt_type: str = "auto") -> str:
    if not wire.isascii() or len(wire) < 40:
        raise RefError("decrypt")
    sizes = [256, 128] if encrypt_type == "auto" else [256 if encrypt_type == "1" else 128]
    for bits in sizes:
        try:
            return _decrypt(wire, derive_key(access_key, bits))
        except (ValueError, UnicodeDecodeError):
            continue
    raise RefError("decrypt")


# --- S5 -------------------------------------------------------------------


def licence_sign(ts: str, nonce: str, body: bytes, access_key: str) -> str:
    msg = b"ts=" + ts.encode() + b"&nonce=" + nonce.encode() + b"&body=" + body
    return base64.b64encode(_hmac(access_key.encode(), msg)).decode()


def verify_licence(ts: str, nonce: str, body: bytes, signature: str, access_keys: Sequence[str]) -> int:
    """S5: ts as S2's; a nonce non-empty and without `&` (the signed string
    `ts=…&nonce=…&body=…` would read two ways); a space in the signature is `+`."""
    check_unix_ms(ts)
    if not nonce:
        raise RefError("missing")
    if "&" in nonce:
        raise RefError("ambiguous")
    received = signature.replace(" ", "+").encode()
    found = -1
    for i, k in enumerate(access_keys):
        if hmac.compare_digest(licence_sign(ts, nonce, body, k).encode(), received) and found < 0:
            found = i
    if found < 0:
        raise RefError("mismatch")
    return found


# --- S6 (ordinary inputs only; the SDK's quirks are not modelled) ----------


def apig_sign(
    method: str,
    host: str,
    path: str,
    query: Sequence[Tuple[str, str]],
    headers: Dict[str, str],
    body: bytes,
    ak: str,
    sk: str,
) -> Tuple[str, str]:
    hdrs = dict(headers)
    if not any(n.lower() == "host" for n in hdrs):
        hdrs["Host"] = host
    segs = unquote(path).split("/")
    uri = "/".join(quote(s, safe="~") for s in segs)
    if not uri.endswith("/"):
        uri += "/"
    cq = "&".join(f"{quote(n, safe='~')}={quote(v, safe='~')}" for n, v in sorted(query))
    signed = sorted(n.lower() for n in hdrs if "_" not in n)
    values = {n.lower(): v.strip() for n, v in hdrs.items()}
    canonical_headers = "".join(f"{n}:{values[n]}\n" for n in signed)
    body_hash = hashlib.sha256(body).hexdigest()
    cr = "\n".join([method.upper(), uri, cq, canonical_headers, ";".join(signed), body_hash])
    date = next(v for n, v in hdrs.items() if n.lower() == "x-sdk-date")
    sig = apig_signature(date, cr, sk)
    return cr, f"SDK-HMAC-SHA256 Access={ak}, SignedHeaders={';'.join(signed)}, Signature={sig}"


def apig_signature(date: str, canonical_request: str, sk: str) -> str:
    """hex(HMAC(SK, "SDK-HMAC-SHA256" \\n date \\n hex(SHA256(canonical request))))."""
    sts = "\n".join(["SDK-HMAC-SHA256", date, hashlib.sha256(canonical_request.encode()).hexdigest()])
    return hmac.new(sk.encode(), sts.encode(), hashlib.sha256).hexdigest()
