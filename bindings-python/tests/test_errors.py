"""Every exception: its class, its `code` (the core's), its message (the
core's Display, never a secret), and no TypeError for hostile input."""

from __future__ import annotations

import pickle
from typing import Any, Callable

import pytest
from conftest import ACCESS_KEY, V2_BODY, V2_NONCE, V2_NOW, V2_QUERY, V2_SIG, V2_TS

import koosign
from koosign import (
    AmbiguousRequest,
    DecryptError,
    KoosignError,
    MalformedRequest,
    ReplayedNonce,
    SignatureMismatch,
    StaleTimestamp,
)

SECRET = "s3cr3t-Access-Key-Do-Not-Print"
V1_PARAMS = [("activity", "newInstance"), ("orderId", "CS1"), ("timeStamp", "20200727073711903")]
V1_NOW = 1595835431.903


def v1_query(key: str = SECRET) -> str:
    return koosign.build_v1_query(V1_PARAMS, key)


def raises(exc: type, code: str, call: Callable[[], Any], message: str | None = None) -> KoosignError:
    with pytest.raises(exc) as info:
        call()
    e = info.value
    assert isinstance(e, KoosignError)
    assert e.code == code
    if message is not None:
        assert str(e) == message
    for text in (str(e), repr(e)):
        assert SECRET not in text and ACCESS_KEY not in text
    return e


def test_hierarchy() -> None:
    for cls in (SignatureMismatch, StaleTimestamp, ReplayedNonce, MalformedRequest, AmbiguousRequest, DecryptError):
        assert issubclass(cls, KoosignError) and cls.__module__ == "koosign"
    # an ambiguous request is refused before authentication, not a format error
    assert not issubclass(AmbiguousRequest, MalformedRequest)
    assert issubclass(KoosignError, Exception) and not issubclass(KoosignError, TypeError)
    e = SignatureMismatch("x")
    assert pickle.loads(pickle.dumps(e)).args == ("x",)


def test_signature_mismatch_everywhere() -> None:
    msg = "signature does not match"
    raises(SignatureMismatch, "SIGNATURE_MISMATCH", lambda: koosign.verify_v1(v1_query(), "other"), msg)
    raises(SignatureMismatch, "SIGNATURE_MISMATCH", lambda: koosign.verify_v2(V2_QUERY, V2_BODY + b" ", ACCESS_KEY, window=None), msg)
    raises(
        SignatureMismatch,
        "SIGNATURE_MISMATCH",
        lambda: koosign.verify_kit({"x-sign": V2_SIG, "x-timestamp": V2_TS, "x-nonce": V2_NONCE}, V2_BODY, ACCESS_KEY, window=None),
    )
    value = koosign.body_sign(b"{}", SECRET)
    raises(SignatureMismatch, "SIGNATURE_MISMATCH", lambda: koosign.verify_body_sign(value, b"{ }", SECRET), msg)
    sig = koosign.licence_sign("1680508066618", "n", b"{}", SECRET)
    raises(SignatureMismatch, "SIGNATURE_MISMATCH", lambda: koosign.verify_licence("1680508066618", "n", b"{}", sig, "k"))
    h = koosign.ApigSigner("AK", SECRET).sign("GET", "https://h/x", {"X-Sdk-Date": "20200608T023900Z"})
    raises(SignatureMismatch, "SIGNATURE_MISMATCH", lambda: koosign.verify_apig("GET", "https://h/y", dict(h, **{"X-Sdk-Date": "20200608T023900Z"}), b"", [("AK", SECRET)]))


@pytest.mark.parametrize(
    "forged",
    ["é" * 64, "中" * 22, "😀" * 16, "é" * 32, "\u0000" * 64, " " * 64, "ÿ" * 44, "", "+" * 44, "Z" * 64],
)
def test_forged_non_ascii_signatures_are_mismatches(forged: str) -> None:
    from urllib.parse import quote

    as_params = {"signature": forged, "timestamp": V2_TS, "nonce": V2_NONCE}
    as_query = f"signature={quote(forged)}&timestamp={V2_TS}&nonce={V2_NONCE}"
    for query in (as_params, as_query):
        raises(SignatureMismatch, "SIGNATURE_MISMATCH", lambda: koosign.verify_v2(query, V2_BODY, ACCESS_KEY, now=V2_NOW))
    raises(
        SignatureMismatch,
        "SIGNATURE_MISMATCH",
        lambda: koosign.verify_kit({"x-sign": forged, "x-timestamp": V2_TS, "x-nonce": V2_NONCE}, V2_BODY, ACCESS_KEY, now=V2_NOW),
    )
    v1 = v1_query()
    cut = v1.index("authToken=") + len("authToken=")
    raises(SignatureMismatch, "SIGNATURE_MISMATCH", lambda: koosign.verify_v1(v1[:cut] + quote(forged), SECRET))
    raises(
        SignatureMismatch,
        "SIGNATURE_MISMATCH",
        lambda: koosign.verify_body_sign(f'sign_type="HMAC-SHA256", signature="{forged}"', b"{}", SECRET),
    )
    raises(SignatureMismatch, "SIGNATURE_MISMATCH", lambda: koosign.verify_licence(V2_TS, "n", b"", forged, SECRET))
    auth = f"SDK-HMAC-SHA256 Access=AK, SignedHeaders=host;x-sdk-date, Signature={forged}"
    raises(
        SignatureMismatch,
        "SIGNATURE_MISMATCH",
        lambda: koosign.verify_apig("GET", "https://h/", {"X-Sdk-Date": "20200608T023900Z", "Authorization": auth}, b"", [("AK", SECRET)]),
    )


def test_forged_bytes_that_are_not_utf8_are_never_type_errors() -> None:
    # raw header bytes (Latin-1 on the wire): a forged x-sign is a mismatch
    headers = [(b"x-sign", b"\xff" * 64), (b"x-timestamp", V2_TS.encode()), (b"x-nonce", V2_NONCE.encode())]
    raises(SignatureMismatch, "SIGNATURE_MISMATCH", lambda: koosign.verify_kit(headers, V2_BODY, ACCESS_KEY, now=V2_NOW))
    headers = [(b"x-sign", V2_SIG.encode()), (b"x-timestamp", b"\xff"), (b"x-nonce", V2_NONCE.encode())]
    raises(MalformedRequest, "BAD_TIMESTAMP", lambda: koosign.verify_kit(headers, V2_BODY, ACCESS_KEY))
    # query strings follow the core: a decoded value must be UTF-8
    raises(MalformedRequest, "MALFORMED_ENCODING", lambda: koosign.verify_v2(b"signature=\xff&timestamp=1&nonce=n", b"", ACCESS_KEY))
    raises(MalformedRequest, "MALFORMED_ENCODING", lambda: koosign.verify_v2("signature=%FF&timestamp=1&nonce=n", b"", ACCESS_KEY))
    # a str with a lone surrogate (as WSGI's surrogateescape can produce)
    raises(MalformedRequest, "MALFORMED_ENCODING", lambda: koosign.verify_v1("authToken=\udcff&timeStamp=1", ACCESS_KEY))


def test_stale_timestamp() -> None:
    msg = "timestamp is outside the accepted window"
    raises(StaleTimestamp, "STALE_TIMESTAMP", lambda: koosign.verify_v2(V2_QUERY, V2_BODY, ACCESS_KEY), msg)
    raises(StaleTimestamp, "STALE_TIMESTAMP", lambda: koosign.verify_v2(V2_QUERY, V2_BODY, ACCESS_KEY, now=V2_NOW + 60, window=60))
    assert koosign.verify_v2(V2_QUERY, V2_BODY, ACCESS_KEY, now=V2_NOW + 60, window=70).key_index == 0
    # the window is ±: a timestamp ahead of the clock counts too
    raises(StaleTimestamp, "STALE_TIMESTAMP", lambda: koosign.verify_v2(V2_QUERY, V2_BODY, ACCESS_KEY, now=1680508066.618 - 60.001))
    assert koosign.verify_v2(V2_QUERY, V2_BODY, ACCESS_KEY, now=1680508066.618 - 60).key_index == 0
    raises(StaleTimestamp, "STALE_TIMESTAMP", lambda: koosign.verify_v1(v1_query(), SECRET, now=V1_NOW + 301, max_age=300))
    assert koosign.verify_v1(v1_query(), SECRET, now=V1_NOW + 299, max_age=300).key_index == 0
    assert koosign.verify_v1(v1_query(), SECRET).key_index == 0  # no window unless asked
    sig = koosign.licence_sign("1680508066618", "n", b"", SECRET)
    raises(StaleTimestamp, "STALE_TIMESTAMP", lambda: koosign.verify_licence("1680508066618", "n", b"", sig, SECRET, max_age=60))
    # a forged AND stale request is a mismatch: the signature is checked first
    raises(SignatureMismatch, "SIGNATURE_MISMATCH", lambda: koosign.verify_v2(V2_QUERY, V2_BODY, "wrong"))


def test_replayed_nonce() -> None:
    store = koosign.InMemoryNonceStore()
    koosign.verify_v2(V2_QUERY, V2_BODY, ACCESS_KEY, now=V2_NOW, nonce_store=store)
    raises(
        ReplayedNonce,
        "REPLAYED_NONCE",
        lambda: koosign.verify_v2(V2_QUERY, V2_BODY, ACCESS_KEY, now=V2_NOW, nonce_store=store),
        "nonce was already used (replay)",
    )


@pytest.mark.parametrize(
    ("call", "code", "message"),
    [
        (lambda: koosign.verify_v2("timestamp=1&nonce=n", b"", ACCESS_KEY), "MISSING_PARAMETER", "missing parameter `signature`"),
        (lambda: koosign.verify_v2({"signature": "a", "nonce": "n"}, b"", ACCESS_KEY), "MISSING_PARAMETER", "missing parameter `timestamp`"),
        (lambda: koosign.verify_kit({"x-sign": "a", "x-timestamp": "1"}, b"", ACCESS_KEY), "MISSING_PARAMETER", "missing parameter `x-nonce`"),
        (lambda: koosign.verify_v2(f"signature=a&timestamp={V2_TS}&nonce=", b"", ACCESS_KEY), "MISSING_PARAMETER", "missing parameter `nonce`"),
        (lambda: koosign.verify_v1("timeStamp=20200727073711903", ACCESS_KEY), "MISSING_PARAMETER", "missing parameter `authToken`"),
        (lambda: koosign.verify_v1("a=%zz&authToken=x&timeStamp=1", ACCESS_KEY), "MALFORMED_ENCODING", "malformed input: invalid percent escape"),
        (lambda: koosign.verify_v2("signature=a&timestamp=16805x&nonce=n", b"", ACCESS_KEY), "BAD_TIMESTAMP", "timestamp is not in the documented format"),
        (lambda: koosign.verify_v1("authToken=x&timeStamp=20201301000000000", ACCESS_KEY), "BAD_TIMESTAMP", None),
        (lambda: koosign.verify_v1("&".join(f"p{i}=v" for i in range(70)), ACCESS_KEY), "INPUT_TOO_LARGE", "input exceeds the limit of 64"),
        (lambda: koosign.verify_v2({"signature": "a", "timestamp": V2_TS, "nonce": "n" * 300}, b"", ACCESS_KEY), "INPUT_TOO_LARGE", None),
        (lambda: koosign.verify_v2({"signature": "a", "timestamp": V2_TS, "nonce": "n n"}, b"", ACCESS_KEY), "MALFORMED_ENCODING", "malformed input: nonce must be printable ASCII"),
        # S2 timestamps: exactly 13 digits, no leading zero (the digit-shift rule)
        (lambda: koosign.verify_v2({"signature": "a", "timestamp": "0" + V2_TS, "nonce": "n"}, b"", ACCESS_KEY), "BAD_TIMESTAMP", None),
        (lambda: koosign.verify_v2({"signature": "a", "timestamp": V2_TS[:-1], "nonce": "n"}, b"", ACCESS_KEY), "BAD_TIMESTAMP", None),
        (lambda: koosign.verify_licence("1", "n", b"", "x", ACCESS_KEY), "BAD_TIMESTAMP", None),
        (lambda: koosign.verify_body_sign('sign_type="HMAC-SHA256", signature="x", x="y"', b"", ACCESS_KEY), "MALFORMED_ENCODING", "malformed input: Body-Sign: unknown attribute"),
        (lambda: koosign.verify_apig("GET", "https://h/", {"X-Sdk-Date": "20200608T023900Z", "Authorization": "SDK-HMAC-SHA256 Access=a, SignedHeaders=x-sdk-date, Signature=" + "0" * 64}, b"", [("a", "b")]), "MALFORMED_ENCODING", "malformed input: SignedHeaders must include host and x-sdk-date"),
        (lambda: koosign.encrypt_field("x" * 80, ACCESS_KEY), "INPUT_TOO_LARGE", "input exceeds the limit of 128"),
        (lambda: koosign.verify_body_sign('sign_type=HMAC-SHA256, signature="x"', b"", ACCESS_KEY), "MALFORMED_ENCODING", None),
        (lambda: koosign.verify_body_sign('sign_type="HMAC-SHA256"', b"", ACCESS_KEY), "MISSING_PARAMETER", None),
        (lambda: koosign.ApigSigner("a", "b").sign("GET", "no-scheme/x"), "MALFORMED_ENCODING", None),
        (lambda: koosign.ApigSigner("a", "b").sign("GET", "https://h/", {"X-Sdk-Date": "yesterday"}), "BAD_TIMESTAMP", None),
        (lambda: koosign.verify_apig("GET", "https://h/", {}, b"", [("a", "b")]), "MISSING_PARAMETER", None),
        (lambda: koosign.verify_v1_json("tok", b"[1]", ACCESS_KEY), "MALFORMED_ENCODING", None),
    ],
)
def test_malformed_request(call: Callable[[], Any], code: str, message: str | None) -> None:
    raises(MalformedRequest, code, call, message)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: koosign.verify_v1("a=L1%26b%3D1&authToken=x&timeStamp=20200727073711903", ACCESS_KEY), "ambiguous request refused: V1 parameter value contains `&` followed by a name and `=`"),
        (lambda: koosign.verify_v1("a%3D=1&authToken=x&timeStamp=20200727073711903", ACCESS_KEY), "ambiguous request refused: V1 parameter name contains `&` or `=`"),
        (lambda: koosign.verify_v1_json("x", b'{"timeStamp":"20200727073711903","authToken":"y"}', ACCESS_KEY), None),
        (lambda: koosign.verify_kit({"x-sign": "a", "x-timestamp": V2_TS, "x-nonce": "n"}, b"1", ACCESS_KEY), "ambiguous request refused: kit body starts with a digit"),
        (lambda: koosign.verify_licence(V2_TS, "n&body=", b"", "x", ACCESS_KEY), None),
        (lambda: koosign.verify_apig("GET", "https://h/", [("Authorization", "a"), ("authorization", "b")], b"", [("a", "b")]), None),
    ],
)
def test_ambiguous_request(call: Callable[[], Any], message: str | None) -> None:
    e = raises(AmbiguousRequest, "AMBIGUOUS", call, message)
    assert not isinstance(e, MalformedRequest)
    assert koosign.result_code(e) == "000001"


def test_result_codes() -> None:
    """SCHEMES.md "Which code a refusal gets", the table `koosign serve` uses:
    before authentication 000001, the merchant's failures 000005, an
    authenticated request's unusable content 000002."""
    def err(cls: type, code: str) -> BaseException:
        e = cls("x")
        e.code = code
        return e

    before = [
        err(SignatureMismatch, "SIGNATURE_MISMATCH"),
        err(StaleTimestamp, "STALE_TIMESTAMP"),
        err(ReplayedNonce, "REPLAYED_NONCE"),
        err(AmbiguousRequest, "AMBIGUOUS"),
        err(MalformedRequest, "BAD_TIMESTAMP"),
        err(MalformedRequest, "MISSING_PARAMETER"),
        err(MalformedRequest, "MALFORMED_ENCODING"),
        err(MalformedRequest, "INPUT_TOO_LARGE"),
    ]
    for e in before:
        assert koosign.result_code(e) == "000001", e.code  # type: ignore[attr-defined]
    for e in (err(KoosignError, "NONCE_STORE_FULL"), err(KoosignError, "NO_ACCESS_KEY"), ConnectionError("down"), RuntimeError()):
        assert koosign.result_code(e) == "000005" == koosign.result_code(e, authenticated=True)
    # the core's table (answer::result_code): a decrypt failure of an authenticated request's field is 000002
    assert koosign.result_code(err(DecryptError, "DECRYPT"), authenticated=True) == "000002"
    assert koosign.result_code(err(MalformedRequest, "MISSING_PARAMETER"), authenticated=True) == "000002"
    # the real errors, as raised
    store = koosign.InMemoryNonceStore(max_entries=1)
    store.check_and_insert("other", int(V2_NOW * 1000), int(V2_NOW * 1000) + 60_000)
    with pytest.raises(KoosignError) as full:
        koosign.verify_v2(V2_QUERY, V2_BODY, ACCESS_KEY, now=V2_NOW, nonce_store=store)
    assert koosign.result_code(full.value) == "000005"
    with pytest.raises(MalformedRequest) as bad_ts:
        koosign.verify_v2({"signature": V2_SIG, "timestamp": "0" + V2_TS, "nonce": V2_NONCE}, V2_BODY, ACCESS_KEY)
    assert bad_ts.value.code == "BAD_TIMESTAMP" and koosign.result_code(bad_ts.value) == "000001"


def test_decrypt_error() -> None:
    good = koosign.encrypt_field("13800138000", SECRET, "2")
    for wire, key, et in [
        (good, "other key", "2"),
        (good, SECRET, "1"),
        ("short", SECRET, "auto"),
        ("abcdefgh12345678!!!!" + "A" * 24, SECRET, "auto"),
        ("abcdefgh12345678" + "é" * 24, SECRET, "auto"),
        ("abcdefgh12345678" + "AAAAAAAAAAAAAAAAAAAAAA==", SECRET, "auto"),
    ]:
        raises(DecryptError, "DECRYPT", lambda: koosign.decrypt_field(wire, key, et), "field could not be decrypted")
    assert koosign.decrypt_field(good, SECRET, "auto") == "13800138000"


def test_base_class_errors() -> None:
    no_key = "no access key given (or an empty one)"
    raises(KoosignError, "NO_ACCESS_KEY", lambda: koosign.verify_v2(V2_QUERY, V2_BODY, [], window=None), no_key)
    raises(KoosignError, "NO_ACCESS_KEY", lambda: koosign.verify_v2(V2_QUERY, V2_BODY, ["", ACCESS_KEY], window=None))
    raises(KoosignError, "NO_ACCESS_KEY", lambda: koosign.body_sign(b"", ""))
    raises(KoosignError, "NO_ACCESS_KEY", lambda: koosign.ApigSigner("", "sk"))
    store = koosign.InMemoryNonceStore(max_entries=1)
    store.check_and_insert("other", int(V2_NOW * 1000), int(V2_NOW * 1000) + 60_000)
    e = raises(KoosignError, "NONCE_STORE_FULL", lambda: koosign.verify_v2(V2_QUERY, V2_BODY, ACCESS_KEY, now=V2_NOW, nonce_store=store))
    assert type(e) is KoosignError


def test_store_exceptions_propagate_unchanged() -> None:
    class Down:
        def check_and_insert(self, nonce: str, now_ms: int, expires_at_ms: int) -> bool:
            raise ConnectionError("redis is down")

    with pytest.raises(ConnectionError, match="redis is down"):
        koosign.verify_v2(V2_QUERY, V2_BODY, ACCESS_KEY, now=V2_NOW, nonce_store=Down())

    class NoMethod:
        pass

    with pytest.raises(AttributeError):
        koosign.verify_v2(V2_QUERY, V2_BODY, ACCESS_KEY, now=V2_NOW, nonce_store=NoMethod())  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "call",
    [
        lambda: koosign.verify_v2(V2_QUERY, 123, ACCESS_KEY),
        lambda: koosign.verify_v2(V2_QUERY, V2_BODY, b"key"),
        lambda: koosign.verify_v2(V2_QUERY, V2_BODY, [ACCESS_KEY, 1]),
        lambda: koosign.verify_v2(42, V2_BODY, ACCESS_KEY),
        lambda: koosign.verify_kit([("x-sign",)], V2_BODY, ACCESS_KEY),
        lambda: koosign.body_sign(None, ACCESS_KEY),
        lambda: koosign.derive_key(123, 128),
    ],
)
def test_wrong_argument_types_are_type_errors(call: Callable[[], Any]) -> None:
    with pytest.raises(TypeError):
        call()


@pytest.mark.parametrize(
    "call",
    [
        lambda: koosign.derive_key(ACCESS_KEY, 192),
        lambda: koosign.encrypt_field("x", ACCESS_KEY, "3"),
        lambda: koosign.decrypt_field("x" * 40, ACCESS_KEY, "aes"),
        lambda: koosign.encrypt_field("x", ACCESS_KEY, iv="short"),
        lambda: koosign.verify_v2(V2_QUERY, V2_BODY, ACCESS_KEY, now=float("nan")),
        lambda: koosign.verify_v2(V2_QUERY, V2_BODY, ACCESS_KEY, window=-1),
    ],
)
def test_wrong_argument_values_are_value_errors(call: Callable[[], Any]) -> None:
    with pytest.raises(ValueError):
        call()


def test_iv_must_be_alphanumeric() -> None:
    raises(MalformedRequest, "MALFORMED_ENCODING", lambda: koosign.encrypt_field("x", ACCESS_KEY, iv="abcdefgh1234567!"))


def test_reprs_hide_secrets() -> None:
    v = koosign.verify_v1(v1_query(), SECRET)
    signer = koosign.ApigSigner("AK", SECRET)
    w = koosign.verify_v2(V2_QUERY, V2_BODY, ACCESS_KEY, window=None)
    for obj in (v, signer, w):
        assert SECRET not in repr(obj) and ACCESS_KEY not in repr(obj)
    assert "newInstance" in repr(v)
    with pytest.raises(MalformedRequest, match="missing parameter `mobilePhone`"):
        v.decrypt("mobilePhone")
    with pytest.raises(DecryptError):
        v.decrypt("orderId")
    phone = koosign.encrypt_field("13800138000", SECRET, "2")
    v = koosign.verify_v1(koosign.build_v1_query(V1_PARAMS + [("mobilePhone", phone)], SECRET), ["old", SECRET])
    assert v.key_index == 1 and v.decrypt("mobilePhone") == "13800138000" and v["mobilePhone"] == phone
    assert "mobilePhone" in v and v.get("nope") is None and v.get("nope", "d") == "d" and len(v) == 4
