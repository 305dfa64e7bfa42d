"""``python -m koosign.conformance [FILE...]``: runs JSON Lines vectors (the
format of the repository's ``vectors/``) through this package's public API,
with the contract of ``koosign conformance``:

without files it reads ``notifications.jsonl`` and ``apig.jsonl`` of
``$KOOSIGN_VECTORS``, else of ``vectors/`` in the current directory (the
repository root); a missing folder or file is a failure (exit 1), never a
skip;

for each case it recomputes or verifies the expected value and checks that a
one-character change of the token, signature or ciphertext is rejected; it
prints a count per kind and, last, ``N passed, M failed``; the exit status
is 1 on any failure or unknown kind. ``--verbose`` prints every failure
(otherwise the first five per kind, on stderr).

A ``v1_query`` case that is ambiguous by SCHEMES.md S1 item 10 (a decoded
name with ``&`` or ``=``, or a decoded value with ``&``, then characters
free of ``&`` and ``=``, then ``=``), as this runner judges it on its own
decoding, must be refused as :class:`koosign.AmbiguousRequest` by the
verifier (and by ``v1_canonical``), exactly those cases; its canonical
string and token are still checked (the canonical string as this runner
builds it, the token as ``v1_auth_token`` computes it). In the same way the
runner judges, on its own, the other issue-11 rules and then expects the
specific refusal while the signature is still recomputed: a V2/kit
``timestamp`` or licence ``ts`` that is not 13 digits without a leading zero
(``BAD_TIMESTAMP``), a V2 nonce that is not 1-256 printable ASCII characters,
a kit body not starting with ``{`` or a kit nonce holding ``{``, and a licence nonce with ``&``
(:class:`koosign.AmbiguousRequest`), and a signed ``X-Sdk-Content-Sha256``
that is neither ``UNSIGNED-PAYLOAD`` nor the body's SHA-256 (the SDK signs
whatever it is given; the verifier answers :class:`koosign.SignatureMismatch`).
It also runs the kinds of the repository's ``vectors/stages.jsonl`` (per-stage
goldens: a failure names the stage that differs), ``vectors/invalid.jsonl``
(each request must be refused with the exception of its ``expect_error``
code) and ``vectors/published.jsonl`` (vectors written by others), with the
same meaning as ``koosign conformance``.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import sys
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Type

import koosign
from koosign import (
    AmbiguousRequest,
    DecryptError,
    MalformedRequest,
    ReplayedNonce,
    SignatureMismatch,
    StaleTimestamp,
)

__all__ = ["CONFORMANCE_FILES", "alter", "check_case", "default_files", "main", "run"]

#: The conformance files of a vectors folder (the kinds this runner reads).
CONFORMANCE_FILES = ("notifications.jsonl", "apig.jsonl", "stages.jsonl", "invalid.jsonl", "published.jsonl")

_ALNUM = frozenset(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")


class CaseFailure(Exception):
    pass


def alter(s: str, at: int) -> str:
    """Changes one character of ``s`` (the first ASCII alphanumeric at or after
    ``at``, wrapping) to another alphanumeric, as the CLI's runner does."""
    b = bytearray(s.encode("utf-8"))
    n = len(b)
    for k in range(n):
        i = (at + k) % max(n, 1)
        c = b[i]
        if c in _ALNUM:
            if c in (ord("A"), ord("a")):
                new = c + 1
            elif c == ord("0"):
                new = ord("1")
            elif ord("0") <= c <= ord("9"):
                new = ord("0")
            else:
                new = ord("A")
            if new == c:
                new = ord("z")
            b[i] = new
            break
    return b.decode("utf-8")


def _s(case: Dict[str, Any], field: str) -> str:
    v = case.get(field)
    if not isinstance(v, str):
        raise CaseFailure(f"field `{field}` missing or not a string")
    return v


def _eq(what: str, got: str, want: str) -> None:
    if got != want:
        raise CaseFailure(f"{what}: got {got!r}, expected {want!r}")


def _rejects(what: str, call: Callable[[], object], want: Type[BaseException], code: Optional[str] = None) -> None:
    try:
        call()
    except want as e:
        if code is not None and getattr(e, "code", None) != code:
            raise CaseFailure(f"{what}: expected {want.__name__} {code}, got {getattr(e, 'code', None)}: {e}") from None
        return
    except koosign.KoosignError as e:
        raise CaseFailure(f"{what}: expected {want.__name__}, got {type(e).__name__}: {e}") from None
    raise CaseFailure(f"{what}: accepted, expected {want.__name__}")


def _call(what: str, call: Callable[[], Any]) -> Any:
    try:
        return call()
    except koosign.KoosignError as e:
        raise CaseFailure(f"{what}: {type(e).__name__}: {e}") from None


_AMBIGUOUS_NAME = re.compile(r"[&=]")
_AMBIGUOUS_VALUE = re.compile(r"&[^&=]*=")


def _decode_form(query: str) -> List[Tuple[str, str]]:
    """The runner's own decoding of a query: split on ``&``, then on the first
    ``=``, ``+`` as space, ``%XY`` as a byte, UTF-8."""
    from urllib.parse import unquote_plus

    out = []
    for seg in query.split("&"):
        if seg:
            name, _, value = seg.partition("=")
            out.append((unquote_plus(name, errors="strict"), unquote_plus(value, errors="strict")))
    return out


def v1_is_ambiguous(pairs: Sequence[Tuple[str, str]]) -> bool:
    """SCHEMES.md S1 item 10, judged by regular expressions on the decoded
    pairs (``authToken`` is not a canonical pair and is not judged)."""
    return any(
        n != "authToken" and (_AMBIGUOUS_NAME.search(n) is not None or _AMBIGUOUS_VALUE.search(v) is not None)
        for n, v in pairs
    )


def _v1_canonical_of(pairs: Sequence[Tuple[str, str]]) -> str:
    """S1 steps 2-5 by the runner: no ``authToken``, the first value of a
    repeated name, names in UTF-16 code-unit order, ``name=value`` by ``&``."""
    first: Dict[str, str] = {}
    for n, v in pairs:
        if n != "authToken":
            first.setdefault(n, v)
    names = sorted(first, key=lambda n: n.encode("utf-16-be", "surrogatepass"))
    return "&".join(f"{n}={first[n]}" for n in names)


def _v1_query(c: Dict[str, Any]) -> None:
    key, query = _s(c, "access_key"), _s(c, "query")
    try:
        mine = _decode_form(query)
    except UnicodeDecodeError:
        raise CaseFailure("query does not decode as UTF-8") from None
    ambiguous = v1_is_ambiguous(mine)
    _eq("canonical (runner)", _v1_canonical_of(mine), _s(c, "canonical"))
    pairs = _call("parse", lambda: koosign.parse_query(query))
    if [tuple(p) for p in pairs] != mine:
        raise CaseFailure("parse_query differs from the runner's decoding")
    _eq("v1_auth_token", _call("token", lambda: koosign.v1_auth_token(pairs, key)), _s(c, "auth_token"))
    at = query.find("authToken=")
    if at < 0:
        raise CaseFailure("no authToken in query")
    start = at + len("authToken=")
    altered = query[:start] + alter(query[start:], 0)
    if ambiguous:
        _rejects("ambiguous (S1 item 10): canonical", lambda: koosign.v1_canonical(query), AmbiguousRequest)
        _rejects("ambiguous (S1 item 10): verify", lambda: koosign.verify_v1(query, key), AmbiguousRequest)
        _rejects("ambiguous, altered authToken", lambda: koosign.verify_v1(altered, key), AmbiguousRequest)
        return
    _eq("canonical", _call("parse", lambda: koosign.v1_canonical(query)), _s(c, "canonical"))
    _call("verify", lambda: koosign.verify_v1(query, key))
    _rejects("altered authToken", lambda: koosign.verify_v1(altered, key), SignatureMismatch)


def _body_sign(c: Dict[str, Any]) -> None:
    key, body, want = _s(c, "access_key"), _s(c, "body").encode("utf-8"), _s(c, "signature")
    header = _call("sign", lambda: koosign.body_sign(body, key))
    _eq("Body-Sign", header, f'sign_type="HMAC-SHA256", signature="{want}"')
    _call("verify", lambda: koosign.verify_body_sign(header, body, key))
    altered = f'sign_type="HMAC-SHA256", signature="{alter(want, 3)}"'
    _rejects("altered signature", lambda: koosign.verify_body_sign(altered, body, key), SignatureMismatch)


def _aes_cbc(c: Dict[str, Any]) -> None:
    key = _s(c, "access_key")
    et = c.get("encrypt_type")
    if et not in (1, 2):
        raise CaseFailure("encrypt_type must be 1 or 2")
    bits = 256 if et == 1 else 128
    _eq("derived key", koosign.derive_key(key, bits).hex(), _s(c, "derived_key_hex"))
    plaintext, wire, iv = _s(c, "plaintext"), _s(c, "ciphertext"), _s(c, "iv")
    _eq("ciphertext", _call("encrypt", lambda: koosign.encrypt_field(plaintext, key, str(et), iv=iv)), wire)
    _eq("decrypt", _call("decrypt", lambda: koosign.decrypt_field(wire, key, str(et))), plaintext)
    # CBC has no MAC: the check is that the change never yields the original plaintext.
    altered = wire[:16] + alter(wire[16:], 0)
    try:
        if koosign.decrypt_field(altered, key, str(et)) == plaintext:
            raise CaseFailure("altered ciphertext decrypted to the original plaintext")
    except DecryptError:
        pass
    except koosign.KoosignError as e:
        raise CaseFailure(f"altered ciphertext: unexpected {type(e).__name__}: {e}") from None


_UNIX_MS = re.compile(r"[1-9][0-9]{12}")


def _refusal_of_v2(ts: str, nonce: str, body: bytes, kit: bool) -> Optional[Tuple[Type[BaseException], str]]:
    """The refusal the issue-11 rules call for, judged by the runner, in the
    core's order (timestamp, nonce, kit body), or ``None``."""
    if _UNIX_MS.fullmatch(ts) is None:
        return MalformedRequest, "BAD_TIMESTAMP"
    if not nonce:
        return MalformedRequest, "MISSING_PARAMETER"
    if len(nonce.encode("utf-8")) > 256:
        return MalformedRequest, "INPUT_TOO_LARGE"
    if not all(0x21 <= ord(ch) <= 0x7E for ch in nonce):
        return MalformedRequest, "MALFORMED_ENCODING"
    if kit and (body[:1] != b"{" or "{" in nonce):
        return AmbiguousRequest, "AMBIGUOUS"
    return None


def _v2(c: Dict[str, Any], kit: bool) -> None:
    key, body, sig = _s(c, "access_key"), _s(c, "body").encode("utf-8"), _s(c, "signature")
    ts, nonce = _s(c, "timestamp"), _s(c, "nonce")
    mine = _call("sign", lambda: koosign.sign_v2(body, key, nonce, ts, kit=kit))
    _eq("signature (case-insensitive)", mine.upper(), sig.upper())

    def verify(s: str) -> object:
        if kit:
            return koosign.verify_kit({"x-sign": s, "x-timestamp": ts, "x-nonce": nonce}, body, key, window=None)
        return koosign.verify_v2({"signature": s, "timestamp": ts, "nonce": nonce}, body, key, window=None)

    altered = alter(sig, 7)
    refusal = _refusal_of_v2(ts, nonce, body, kit)
    if refusal is not None:
        _rejects("issue-11 rule: verify", lambda: verify(sig), *refusal)
        _rejects("issue-11 rule: altered signature", lambda: verify(altered), *refusal)
        return
    _call("verify", lambda: verify(sig))
    _rejects("altered signature", lambda: verify(altered), SignatureMismatch)


def _licence(c: Dict[str, Any]) -> None:
    key, ts, nonce = _s(c, "access_key"), _s(c, "ts"), _s(c, "nonce")
    body, sig = _s(c, "body").encode("utf-8"), _s(c, "signature")
    _eq("signature", _call("sign", lambda: koosign.licence_sign(ts, nonce, body, key)), sig)
    altered = alter(sig, 5)
    refusal: Optional[Tuple[Type[BaseException], str]] = None
    if _UNIX_MS.fullmatch(ts) is None:
        refusal = MalformedRequest, "BAD_TIMESTAMP"
    elif not nonce:
        refusal = MalformedRequest, "MISSING_PARAMETER"
    elif "&" in nonce:
        refusal = AmbiguousRequest, "AMBIGUOUS"
    if refusal is not None:
        _rejects("issue-11 rule: verify", lambda: koosign.verify_licence(ts, nonce, body, sig, key), *refusal)
        _rejects("issue-11 rule: altered", lambda: koosign.verify_licence(ts, nonce, body, altered, key), *refusal)
        return
    _call("verify", lambda: koosign.verify_licence(ts, nonce, body, sig, key))
    _rejects("altered signature", lambda: koosign.verify_licence(ts, nonce, body, altered, key), SignatureMismatch)


def _apig(c: Dict[str, Any]) -> None:
    ak, sk = _s(c, "ak"), _s(c, "sk")
    query = c.get("query")
    headers = c.get("headers")
    if not isinstance(query, list):
        raise CaseFailure("query must be an array")
    if not isinstance(headers, dict):
        raise CaseFailure("headers must be an object")
    params: List[Tuple[str, str]] = [(str(p[0]), str(p[1])) for p in query]
    hdrs: List[Tuple[str, str]] = [(str(k), v if isinstance(v, str) else "") for k, v in headers.items()]
    method, body = _s(c, "method"), _s(c, "body").encode("utf-8")
    url = _url(c)
    hdrs = _with_host(hdrs, _s(c, "host"))
    signed = _call("sign", lambda: koosign.ApigSigner(ak, sk).sign(method, url, hdrs, body, params=params, path_as_is=True))
    _eq("canonical query", signed.canonical_query, _s(c, "canonical_query"))
    _eq("Authorization", signed.authorization, _s(c, "authorization"))
    # Server side: the request as sent (the added headers replace given ones of the same name).
    sent = [(n, v) for n, v in hdrs if n not in signed] + list(signed.items())
    creds = [(ak, sk)]
    full = url + ("?" + _form(params) if params else "")
    content_signed = "x-sdk-content-sha256" in signed.signed_headers.split(";")
    content = [v for n, v in sent if n.lower() == "x-sdk-content-sha256"]
    if content_signed and content:
        value = content[0].strip()  # Python whitespace, as the SDK (and the core) strip
        if value != "UNSIGNED-PAYLOAD" and value.lower() != hashlib.sha256(body).hexdigest():
            # the SDK signed a content hash that is not the body's: a body swap to the verifier
            _rejects("signed X-Sdk-Content-Sha256 not the body hash", lambda: koosign.verify_apig(method, full, sent, body, creds), SignatureMismatch)
            return
    verified = _call("verify", lambda: koosign.verify_apig(method, full, sent, body, creds))
    if verified.unsigned_payload and not (content_signed and body):
        raise CaseFailure("verify: unsigned_payload without a signed X-Sdk-Content-Sha256 over a body")
    auth = signed["Authorization"]
    cut = auth.rfind("Signature=") + len("Signature=")
    tampered = [(n, v) for n, v in sent if n != "Authorization"]
    tampered.append(("Authorization", auth[:cut] + alter(auth[cut:], 0)))
    _rejects("altered signature", lambda: koosign.verify_apig(method, full, tampered, body, creds), SignatureMismatch)


def _form(pairs: Sequence[Tuple[str, str]]) -> str:
    from urllib.parse import quote

    return "&".join(f"{quote(n, safe='')}={quote(v, safe='')}" for n, v in pairs)


_KINDS: Dict[str, Callable[[Dict[str, Any]], None]] = {
    "v1_query": _v1_query,
    "body_sign": _body_sign,
    "aes_cbc": _aes_cbc,
    "v2_basic": lambda c: _v2(c, kit=False),
    "v2_kit": lambda c: _v2(c, kit=True),
    "apig": _apig,
    "licence": _licence,
}


# ---------------------------------------------------------------------------
# vectors/stages.jsonl, vectors/invalid.jsonl, vectors/published.jsonl


def _stage(name: str, got: str, want: str) -> None:
    if got != want:
        raise CaseFailure(f"stage {name}: got {got!r}, expected {want!r}")


def _run(name: str, call: Callable[[], Any]) -> Any:
    try:
        return call()
    except koosign.KoosignError as e:
        raise CaseFailure(f"stage {name}: {e.code} ({e})") from None


def _mac_hex(msg: bytes, key: str) -> str:
    """hex(HMAC-SHA256(key, msg)) through the core's MAC path (Body-Sign is
    b64(HMAC(key, body)))."""
    value = koosign.body_sign(msg, key)
    sig = value[value.index('signature="') + len('signature="') : -1]
    return base64.b64decode(sig).hex()


def _pairs(v: Any) -> List[Tuple[str, str]]:
    if isinstance(v, dict):
        return [(str(k), x if isinstance(x, str) else "") for k, x in v.items()]
    return [(str(p[0]), str(p[1])) for p in v]


def _url(c: Dict[str, Any]) -> str:
    # The case is a request (host and path as the SDK was given them), not a
    # URL: the path goes as it is (``path_as_is``), with `?`, `#` and spaces
    # percent-encoded so the URL keeps its shape (the canonical URI,
    # percent-decoded first, is the same); the host goes as a Host header
    # (`_with_host`), since a URL's host is lower-cased and loses a default port.
    path = _s(c, "path").replace("?", "%3F").replace("#", "%23").replace(" ", "%20")
    return f"https://{_s(c, 'host')}{path}"


def _with_host(hdrs: List[Tuple[str, str]], host: str) -> List[Tuple[str, str]]:
    if any(n.lower() == "host" for n, _ in hdrs):
        return hdrs
    return hdrs + [("Host", host)]


def _v1_stages(c: Dict[str, Any]) -> None:
    key, query = _s(c, "access_key"), _s(c, "query")
    _stage("canonical", _run("canonical", lambda: koosign.v1_canonical(query)), _s(c, "canonical"))
    pairs = _run("parse", lambda: koosign.parse_query(query))
    _stage("auth_token", _run("auth_token", lambda: koosign.v1_auth_token(pairs, key)), _s(c, "auth_token"))
    _run("verify", lambda: koosign.verify_v1(query, key, max_age=None))


def _v2_stages(c: Dict[str, Any]) -> None:
    key, nonce, ts = _s(c, "access_key"), _s(c, "nonce"), _s(c, "timestamp")
    body = _s(c, "body").encode("utf-8")
    inner = _mac_hex(body, key)
    _stage("inner", inner, _s(c, "inner_hex"))
    canonical = key + nonce + ts + inner
    _stage("canonical", canonical, _s(c, "canonical"))
    want = _s(c, "signature")
    _stage("signature (HMAC of the canonical string)", _mac_hex(canonical.encode("utf-8"), key).upper(), want)
    _stage("signature", _run("signature", lambda: koosign.sign_v2(body, key, nonce, ts)), want)
    params = {"signature": want, "timestamp": ts, "nonce": nonce}
    _run("verify", lambda: koosign.verify_v2(params, body, key, window=None))
    kit = _s(c, "kit_signature")
    _stage("kit_signature", _run("kit_signature", lambda: koosign.sign_v2(body, key, nonce, ts, kit=True)), kit)
    headers = {"x-sign": kit, "x-timestamp": ts, "x-nonce": nonce}
    _run("kit verify", lambda: koosign.verify_kit(headers, body, key, window=None))


def _apig_stages(c: Dict[str, Any]) -> None:
    ak, sk = _s(c, "ak"), _s(c, "sk")
    params = _pairs(c.get("query", []))
    hdrs = _pairs(c.get("headers", {}))
    method, body, url = _s(c, "method"), _s(c, "body").encode("utf-8"), _url(c)
    hdrs = _with_host(hdrs, _s(c, "host"))
    signed = _run("sign", lambda: koosign.ApigSigner(ak, sk).sign(method, url, hdrs, body, params=params, path_as_is=True))
    for name in ("canonical_query", "canonical_request", "string_to_sign", "signature", "authorization"):
        _stage(name, getattr(signed, name), _s(c, name))
    sent = [(n, v) for n, v in hdrs if n not in signed] + list(signed.items())
    full = url + ("?" + _form(params) if params else "")
    _run("verify", lambda: koosign.verify_apig(method, full, sent, body, [(ak, sk)], max_age=None))


def _s4_key(c: Dict[str, Any]) -> None:
    seed = _s(c, "seed")
    _stage("aes128", koosign.derive_key(seed, 128).hex(), _s(c, "aes128_hex"))
    _stage("aes256", koosign.derive_key(seed, 256).hex(), _s(c, "aes256_hex"))


#: The exception class each core code is raised as.
ERROR_CLASSES: Dict[str, Type[koosign.KoosignError]] = {
    "SIGNATURE_MISMATCH": SignatureMismatch,
    "STALE_TIMESTAMP": StaleTimestamp,
    "REPLAYED_NONCE": ReplayedNonce,
    "MISSING_PARAMETER": MalformedRequest,
    "MALFORMED_ENCODING": MalformedRequest,
    "BAD_TIMESTAMP": MalformedRequest,
    "INPUT_TOO_LARGE": MalformedRequest,
    "DECRYPT": DecryptError,
    "AMBIGUOUS": AmbiguousRequest,
}


def _expect_error(want: str, call: Callable[[], object], what: str = "") -> None:
    cls = ERROR_CLASSES.get(want, koosign.KoosignError)
    try:
        call()
    except koosign.KoosignError as e:
        code = getattr(e, "code", None)
        if isinstance(e, cls) and code == want:
            return
        raise CaseFailure(f"{what}expected {want} ({cls.__name__}), got {code} ({type(e).__name__}: {e})") from None
    raise CaseFailure(f"{what}expected {want}, but the request was accepted")


def _fresh(c: Dict[str, Any], window_name: str) -> Dict[str, Any]:
    """Keyword arguments for the clock and window of a case (no window when absent)."""
    if "now_ms" not in c:
        return {window_name: None}
    return {"now": c["now_ms"] / 1000.0, window_name: c.get("window_ms", 60_000) / 1000.0}


def _invalid(c: Dict[str, Any], verify: Callable[[Dict[str, Any], Any], object]) -> None:
    want = _s(c, "expect_error")
    store = None
    if "prior" in c:
        store = koosign.InMemoryNonceStore()
        first = {k: v for k, v in c.items() if k != "prior"}
        first.update(c["prior"])
        try:
            verify(first, store)
        except koosign.KoosignError as e:
            raise CaseFailure(f"the prior request was refused: {e.code}") from None
    _expect_error(want, lambda: verify(c, store))


def _v1_invalid(c: Dict[str, Any]) -> None:
    _invalid(c, lambda x, _: koosign.verify_v1(_s(x, "query"), _s(x, "access_key"), **_fresh(x, "max_age")))


def _v1_json_invalid(c: Dict[str, Any]) -> None:
    _invalid(
        c,
        lambda x, _: koosign.verify_v1_json(
            _s(x, "auth_token"), _s(x, "body").encode("utf-8"), _s(x, "access_key"), **_fresh(x, "max_age")
        ),
    )


def _v2_verify(x: Dict[str, Any], store: Any) -> object:
    body, key = _s(x, "body").encode("utf-8"), _s(x, "access_key")
    extra: Dict[str, Any] = dict(_fresh(x, "window"))
    if store is not None:
        extra["nonce_store"] = store
    if x.get("scheme") == "kit":
        headers = {"x-sign": _s(x, "signature"), "x-timestamp": _s(x, "timestamp"), "x-nonce": _s(x, "nonce")}
        return koosign.verify_kit(headers, body, key, **extra)
    if "query" in x:
        return koosign.verify_v2(_s(x, "query"), body, key, **extra)
    params = {"signature": _s(x, "signature"), "timestamp": _s(x, "timestamp"), "nonce": _s(x, "nonce")}
    return koosign.verify_v2(params, body, key, **extra)


def _licence_invalid(c: Dict[str, Any]) -> None:
    _invalid(
        c,
        lambda x, _: koosign.verify_licence(
            _s(x, "ts"),
            _s(x, "nonce"),
            _s(x, "body").encode("utf-8"),
            _s(x, "signature"),
            _s(x, "access_key"),
            **_fresh(x, "max_age"),
        ),
    )


def _body_sign_invalid(c: Dict[str, Any]) -> None:
    _invalid(
        c,
        lambda x, _: koosign.verify_body_sign(_s(x, "value"), _s(x, "body").encode("utf-8"), _s(x, "access_key")),
    )


def _apig_verify(x: Dict[str, Any], _: Any) -> object:
    params = _pairs(x.get("query", []))
    full = _url(x) + ("?" + _form(params) if params else "")
    creds = [(str(a), str(b)) for a, b in x.get("credentials", [])]
    return koosign.verify_apig(
        _s(x, "method"), full, _pairs(x.get("headers", [])), _s(x, "body").encode("utf-8"), creds,
        **_fresh(x, "max_age"),
    )


def _aes_invalid(c: Dict[str, Any]) -> None:
    _invalid(
        c,
        lambda x, _: koosign.decrypt_field(_s(x, "ciphertext"), _s(x, "access_key"), str(x.get("encrypt_type"))),
    )


def _apig_canonical_query(c: Dict[str, Any]) -> None:
    signed = _run(
        "sign",
        lambda: koosign.ApigSigner("AccessKey", "SecretKey").sign(
            "GET", "https://example.com/", {"X-Sdk-Date": "20200101T000000Z"}, params=_pairs(c["query"])
        ),
    )
    _stage("canonical_query", signed.canonical_query, _s(c, "canonical_query"))


def _apig_host_unsigned(c: Dict[str, Any]) -> None:
    sk = _s(c, "sk")
    _stage("signature (HMAC of the string to sign)", _mac_hex(_s(c, "string_to_sign").encode("utf-8"), sk),
           _s(c, "signature"))
    x = dict(c)
    x["headers"] = _pairs(c.get("headers", {})) + [("Authorization", _s(c, "authorization"))]
    x["credentials"] = [(_s(c, "ak"), sk)]
    _expect_error(_s(c, "verify_error"), lambda: _apig_verify(x, None), "stage verify: ")


def _hmac_sha256(c: Dict[str, Any]) -> None:
    want = _s(c, "mac_hex")
    got = _mac_hex(bytes.fromhex(_s(c, "data_hex")), _s(c, "key"))
    _stage("mac", got[: len(want)], want)


def _aes_cbc_raw(c: Dict[str, Any]) -> None:
    key, iv, ct = (bytes.fromhex(_s(c, f)) for f in ("key_hex", "iv_hex", "ct_hex"))
    if _s(c, "result") == "valid":
        pt = _run("decrypt", lambda: koosign.decrypt_raw(key, iv, ct))
        _stage("plaintext", pt.hex(), _s(c, "msg_hex"))
    else:
        _expect_error("DECRYPT", lambda: koosign.decrypt_raw(key, iv, ct))


_KINDS.update(
    {
        "v1_stages": _v1_stages,
        "v2_stages": _v2_stages,
        "apig_stages": _apig_stages,
        "s4_key": _s4_key,
        "v1_invalid": _v1_invalid,
        "v1_json_invalid": _v1_json_invalid,
        "v2_invalid": lambda c: _invalid(c, _v2_verify),
        "licence_invalid": _licence_invalid,
        "body_sign_invalid": _body_sign_invalid,
        "apig_invalid": lambda c: _invalid(c, _apig_verify),
        "aes_invalid": _aes_invalid,
        "apig_canonical_query": _apig_canonical_query,
        "apig_host_unsigned": _apig_host_unsigned,
        "hmac_sha256": _hmac_sha256,
        "aes_cbc_raw": _aes_cbc_raw,
    }
)


def check_case(kind: str, case: Dict[str, Any]) -> Optional[str]:
    """``None`` when the case passes, else why it failed."""
    check = _KINDS.get(kind)
    if check is None:
        return f"unknown kind `{kind}`"
    label = case.get("id") or case.get("source")
    prefix = f"{label}: " if isinstance(label, str) else ""
    try:
        check(case)
    except CaseFailure as e:
        return prefix + str(e)
    except Exception as e:  # a crash is a failure of that case, not of the run
        return f"{prefix}{type(e).__name__}: {e}"
    return None


def run(files: Sequence[str], verbose: bool = False) -> int:
    """Runs every file; prints the report; returns the exit status."""
    per_kind: Dict[str, List[int]] = {}
    passed = failed = 0
    for path in files:
        try:
            with open(path, encoding="utf-8", newline="") as f:
                # Lines end at "\n" only (as Rust's `lines()`): U+2028 and friends
                # are data inside JSON strings.
                lines = [line[:-1] if line.endswith("\r") else line for line in f.read().split("\n")]
        except OSError as e:
            print(f"{path}: cannot read: {e}", file=sys.stderr)
            failed += 1
            continue
        for lineno, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                case = json.loads(line)
                if not isinstance(case, dict):
                    raise ValueError("not a JSON object")
                kind = case.get("kind") if isinstance(case.get("kind"), str) else "<none>"
                why = check_case(str(kind), case)
            except ValueError as e:
                kind, why = "<invalid json>", f"not JSON: {e}"
            tally = per_kind.setdefault(str(kind), [0, 0])
            if why is None:
                tally[0] += 1
                passed += 1
            else:
                tally[1] += 1
                failed += 1
                if verbose or tally[1] <= 5:
                    print(f"FAIL {path}:{lineno} [{kind}] {why}", file=sys.stderr)
    for kind in sorted(per_kind):
        p, f_ = per_kind[kind]
        print(f"{kind}: {p} passed, {f_} failed")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


def default_files() -> List[str]:
    """``notifications.jsonl`` and ``apig.jsonl`` of ``$KOOSIGN_VECTORS``, else
    of ``./vectors``. Raises ``FileNotFoundError`` naming what is absent."""
    folder = os.environ.get("KOOSIGN_VECTORS") or "vectors"
    if not os.path.isdir(folder):
        raise FileNotFoundError(
            f"vectors folder {folder} not found (run from the repository root, or set KOOSIGN_VECTORS)"
        )
    files = [os.path.join(folder, name) for name in CONFORMANCE_FILES]
    for f in files:
        if not os.path.isfile(f):
            raise FileNotFoundError(f"vector file {f} not found")
    return files


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    verbose = "--verbose" in args
    files = [a for a in args if a != "--verbose"]
    if any(a in ("-h", "--help") for a in files):
        print("usage: python -m koosign.conformance [--verbose] [FILE...]", file=sys.stderr)
        return 2
    if not files:
        try:
            files = default_files()
        except FileNotFoundError as e:
            print(e, file=sys.stderr)
            print("0 passed, 1 failed")
            return 1
    return run(files, verbose)


if __name__ == "__main__":
    raise SystemExit(main())
