"""Issue 11: the forgery and replay attacks, performed through this binding's
own API (the attacker has captured genuine requests, not the key), each
refused with the specific Python exception and `code`.

Each attack first shows that it is real (the forged request carries bytes
the genuine signature covers), then that koosign refuses it."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any, Callable, List, Tuple

import pytest

import koosign
from koosign import (
    AmbiguousRequest,
    InMemoryNonceStore,
    KoosignError,
    MalformedRequest,
    ReplayedNonce,
    SignatureMismatch,
    StaleTimestamp,
)

KEY = "attack-test-key"
BODY = b'{"activity":"newInstance","orderId":"CS1","orderLineId":"CS1-000001","testFlag":"0"}'
TS = "1680508066618"
NOW = 1680508070.0


def refused(exc: type, code: str, call: Callable[[], Any]) -> KoosignError:
    with pytest.raises(exc) as info:
        call()
    e = info.value
    assert type(e) is exc, type(e)
    assert e.code == code, (e.code, str(e))
    assert KEY not in str(e)
    return e


class RecordingStore(InMemoryNonceStore):
    """An in-memory store that also lists what the core gave it."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: List[Tuple[str, int, int]] = []

    def check_and_insert(self, nonce: str, now_ms: int, expires_at_ms: int) -> bool:
        self.seen.append((nonce, now_ms, expires_at_ms))
        return super().check_and_insert(nonce, now_ms, expires_at_ms)


def test_the_exception_classes() -> None:
    assert issubclass(AmbiguousRequest, KoosignError)
    assert not issubclass(AmbiguousRequest, MalformedRequest)
    assert AmbiguousRequest.__module__ == "koosign" and "AmbiguousRequest" in koosign.__all__
    assert koosign.result_code(AmbiguousRequest("x")) == "000001"


# --- S2 / S2b: a digit moved between nonce and timestamp ---------------------


def _mac(key: str, msg: bytes) -> str:
    return hmac.new(key.encode(), msg, hashlib.sha256).hexdigest().upper()


@pytest.mark.parametrize("kit", [False, True], ids=["s2", "s2b"])
def test_s2_digit_shift_replay(kit: bool) -> None:
    nonce, shifted_nonce, shifted_ts = "A1B2C3170", "A1B2C317", "0" + TS
    sig = koosign.sign_v2(BODY, KEY, nonce, TS, kit=kit)
    # the attack is real: the undelimited signed string is the same bytes
    tail = BODY if kit else hmac.new(KEY.encode(), BODY, hashlib.sha256).hexdigest().encode()
    k = KEY.encode()
    assert _mac(KEY, k + shifted_nonce.encode() + shifted_ts.encode() + tail) == sig
    assert k + nonce.encode() + TS.encode() == k + shifted_nonce.encode() + shifted_ts.encode()

    def send(n: str, ts: str, store: InMemoryNonceStore) -> koosign.VerifiedV2:
        if kit:
            return koosign.verify_kit({"x-sign": sig, "x-timestamp": ts, "x-nonce": n}, BODY, KEY, now=NOW, nonce_store=store)
        return koosign.verify_v2(f"signature={sig}&timestamp={ts}&nonce={n}", BODY, KEY, now=NOW, nonce_store=store)

    store = RecordingStore()
    # before the genuine one: refused, and the store is not touched
    refused(MalformedRequest, "BAD_TIMESTAMP", lambda: send(shifted_nonce, shifted_ts, store))
    assert store.seen == [] and len(store) == 0
    # so the genuine request still verifies, once
    assert send(nonce, TS, store).nonce == nonce
    refused(ReplayedNonce, "REPLAYED_NONCE", lambda: send(nonce, TS, store))
    # after it: refused as a bad timestamp, never seen as a new nonce
    refused(MalformedRequest, "BAD_TIMESTAMP", lambda: send(shifted_nonce, shifted_ts, store))
    assert [n for n, _, _ in store.seen] == [nonce, nonce] and len(store) == 1
    # a 14th digit at the other end, or a 12-digit one, is refused the same way
    for n, ts in ((nonce + "1", TS[:-1]), (nonce[:-1], "7" + TS)):
        refused(MalformedRequest, "BAD_TIMESTAMP", lambda: send(n, ts, store))


def test_s2b_kit_body_starting_with_a_digit() -> None:
    # kit signs `… + timestamp + body`: a body digit could move into the timestamp
    body = b"12345"
    sig = koosign.sign_v2(body, KEY, "n1", TS, kit=True)
    refused(
        AmbiguousRequest,
        "AMBIGUOUS",
        lambda: koosign.verify_kit({"x-sign": sig, "x-timestamp": TS, "x-nonce": "n1"}, body, KEY, now=NOW),
    )


@pytest.mark.parametrize(
    ("nonce", "code"),
    [("", "MISSING_PARAMETER"), ("n" * 257, "INPUT_TOO_LARGE"), ("a b", "MALFORMED_ENCODING"), ("é", "MALFORMED_ENCODING"), ("a\tb", "MALFORMED_ENCODING")],
)
def test_v2_nonce_must_be_printable_ascii(nonce: str, code: str) -> None:
    params = {"signature": "A" * 64, "timestamp": TS, "nonce": nonce}
    refused(MalformedRequest, code, lambda: koosign.verify_v2(params, BODY, KEY, now=NOW))
    assert koosign.verify_v2(
        {"signature": koosign.sign_v2(BODY, KEY, "n" * 256, TS), "timestamp": TS, "nonce": "n" * 256}, BODY, KEY, now=NOW
    ).nonce == "n" * 256


# --- S1: parameters merged into one value ------------------------------------

V1_TS = "20230403071426618"


def test_s1_merged_parameters() -> None:
    genuine = [("activity", "newInstance"), ("orderId", "CS1"), ("orderLineId", "L1"), ("testFlag", "1"), ("timeStamp", V1_TS)]
    query = koosign.build_v1_query(genuine, KEY)
    token = query.rsplit("authToken=", 1)[1]
    forged = f"activity=newInstance&orderId=CS1&orderLineId=L1%26testFlag%3D1&timeStamp={V1_TS}&authToken={token}"
    # the attack is real: the forged parameters have the genuine canonical string
    merged = [("activity", "newInstance"), ("orderId", "CS1"), ("orderLineId", "L1&testFlag=1"), ("timeStamp", V1_TS)]
    assert koosign.v1_auth_token(merged, KEY) == koosign.v1_auth_token(genuine, KEY)
    assert koosign.verify_v1(query, KEY)["testFlag"] == "1"
    e = refused(AmbiguousRequest, "AMBIGUOUS", lambda: koosign.verify_v1(forged, KEY))
    assert not isinstance(e, MalformedRequest)
    refused(AmbiguousRequest, "AMBIGUOUS", lambda: koosign.v1_canonical(forged))
    # a name with `&` or `=`, a value `x&=`, and a forgery with another key: ambiguity first
    for q in (
        f"a%3Db=c&timeStamp={V1_TS}&authToken={token}",
        f"a%26b=c&timeStamp={V1_TS}&authToken={token}",
        f"a=x%26%3D&timeStamp={V1_TS}&authToken={token}",
    ):
        refused(AmbiguousRequest, "AMBIGUOUS", lambda: koosign.verify_v1(q, "another key"))
    # values that cannot move a boundary stay valid
    for value in ("a+b c&d 客户", "a=b&c", "x=", "&&"):
        ok = [("note", value), ("timeStamp", V1_TS)]
        assert koosign.verify_v1(koosign.build_v1_query(ok, KEY), KEY)["note"] == value


def test_s1b_merged_and_unsigned_members() -> None:
    genuine = b'{"orderLineId":"L1","testFlag":"1","timeStamp":"' + V1_TS.encode() + b'"}'
    token = koosign.v1_auth_token([("orderLineId", "L1"), ("testFlag", "1"), ("timeStamp", V1_TS)], KEY)
    assert koosign.verify_v1_json(token, genuine, KEY)["testFlag"] == "1"
    merged = b'{"orderLineId":"L1&testFlag=1","timeStamp":"' + V1_TS.encode() + b'"}'
    refused(AmbiguousRequest, "AMBIGUOUS", lambda: koosign.verify_v1_json(token, merged, KEY))
    with_token = genuine[:-1] + b',"authToken":"x"}'
    refused(AmbiguousRequest, "AMBIGUOUS", lambda: koosign.verify_v1_json(token, with_token, KEY))
    # members outside the signed set: a duplicate name, a number, a nested object
    for tail in (b',"orderLineId":"EVIL"}', b',"amount":100}', b',"extra":{"orderId":"EVIL"}}', b',"flag":true}'):
        e = refused(MalformedRequest, "MALFORMED_ENCODING", lambda: koosign.verify_v1_json(token, genuine[:-1] + tail, KEY))
        assert "malformed input:" in str(e)


# --- V1 replay through the store ---------------------------------------------


def test_v1_replay_through_the_store() -> None:
    params = [("activity", "newInstance"), ("orderId", "CS4"), ("timeStamp", V1_TS)]
    query = koosign.build_v1_query(params, KEY)
    token = koosign.v1_auth_token(params, KEY)
    v1_now = 1680506066.618 + 10  # V1_TS is 2023-04-03T07:14:26.618Z
    store = RecordingStore()
    # a forgery and a stale request never reach the store
    refused(SignatureMismatch, "SIGNATURE_MISMATCH", lambda: koosign.verify_v1(query, "wrong", now=v1_now, max_age=300, nonce_store=store))
    refused(StaleTimestamp, "STALE_TIMESTAMP", lambda: koosign.verify_v1(query, KEY, now=v1_now + 400, max_age=300, nonce_store=store))
    assert store.seen == []
    v = koosign.verify_v1(query, KEY, now=v1_now, max_age=300, nonce_store=store)
    assert v.timestamp_ms == 1680506066618
    # recorded as "v1:" + token until timeStamp + window
    assert store.seen == [("v1:" + token, round(v1_now * 1000), 1680506066618 + 300_000)]
    # byte for byte, the token's '+' sent raw (a space once decoded) or as %2B, other order
    assert "+" in token and "%2B" in query
    raw_plus = query.replace("%2B", "+")
    reordered = "&".join(reversed(query.split("&")))
    for replay in (query, raw_plus, reordered):
        refused(ReplayedNonce, "REPLAYED_NONCE", lambda: koosign.verify_v1(replay, KEY, now=v1_now, max_age=300, nonce_store=store))
    # without a window the token is still recorded (kept timeStamp + 300 s)
    other = koosign.build_v1_query([("activity", "x"), ("timeStamp", V1_TS)], KEY)
    koosign.verify_v1(other, KEY, nonce_store=store)
    assert store.seen[-1][2] == 1680506066618 + koosign.V1_DEFAULT_WINDOW_MS
    refused(ReplayedNonce, "REPLAYED_NONCE", lambda: koosign.verify_v1(other, KEY, nonce_store=store))
    # S1b replays the same way
    body = b'{"activity":"newInstance","orderId":"CS4","timeStamp":"' + V1_TS.encode() + b'"}'
    json_store = InMemoryNonceStore()
    koosign.verify_v1_json(token, body, KEY, now=v1_now, max_age=300, nonce_store=json_store)
    refused(ReplayedNonce, "REPLAYED_NONCE", lambda: koosign.verify_v1_json(token.replace("+", " "), body, KEY, now=v1_now, max_age=300, nonce_store=json_store))


def test_one_store_for_v1_and_v2() -> None:
    # a V2 nonce equal to a V1 token does not collide with it (the core tags V1 "v1:")
    params = [("activity", "newInstance"), ("timeStamp", V1_TS)]
    token = koosign.v1_auth_token(params, KEY)
    store = InMemoryNonceStore()
    nonce = token.replace("+", "-").replace("=", "_")
    sig = koosign.sign_v2(BODY, KEY, nonce, TS)
    koosign.verify_v2({"signature": sig, "timestamp": TS, "nonce": nonce}, BODY, KEY, now=NOW, nonce_store=store)
    koosign.verify_v1(koosign.build_v1_query(params, KEY), KEY, nonce_store=store)
    assert len(store) == 2


def test_v1_store_exceptions_propagate() -> None:
    class Down:
        def check_and_insert(self, nonce: str, now_ms: int, expires_at_ms: int) -> bool:
            raise ConnectionError("store is down")

    query = koosign.build_v1_query([("timeStamp", V1_TS)], KEY)
    with pytest.raises(ConnectionError, match="store is down"):
        koosign.verify_v1(query, KEY, nonce_store=Down())


# --- S5: nonce / body boundary -----------------------------------------------


def test_s5_nonce_body_boundary() -> None:
    sig = koosign.licence_sign(TS, "n1", b"&body=X", KEY)
    assert koosign.verify_licence(TS, "n1", b"&body=X", sig, KEY) == 0
    # the same signed bytes: ts=…&nonce=n1&body=&body=X
    assert koosign.licence_sign(TS, "n1&body=", b"X", KEY) == sig
    refused(AmbiguousRequest, "AMBIGUOUS", lambda: koosign.verify_licence(TS, "n1&body=", b"X", sig, KEY))
    refused(MalformedRequest, "MISSING_PARAMETER", lambda: koosign.verify_licence(TS, "", b"X", sig, KEY))
    refused(MalformedRequest, "BAD_TIMESTAMP", lambda: koosign.verify_licence("0" + TS, "n1", b"&body=X", sig, KEY))


# --- S6: body swap -----------------------------------------------------------

URL = "https://mkt.myhuaweicloud.com/api/mkp-openapi-public/global/v1/order/query"
DATE = "20230403T071426Z"
CREDS = [("AK", "SK-secret")]
B1 = b'{"orderId":"CS1","amount":"1"}'
B2 = b'{"orderId":"CS1","amount":"1000000"}'


def _sha(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


def _sent(headers: dict[str, str], signed: dict[str, str]) -> List[Tuple[str, str]]:
    return [(n, v) for n, v in headers.items() if n not in signed] + list(signed.items())


def test_s6_body_swap_with_an_unsigned_content_hash() -> None:
    given = {"X-Sdk-Date": DATE, "Content-Type": "application/json"}
    signed = koosign.ApigSigner(*CREDS[0]).sign("POST", URL, given, B1)
    sent = _sent(given, signed)
    ok = koosign.verify_apig("POST", URL, sent, B1, CREDS)
    assert ok == 0 and ok.credential_index == 0 and ok.unsigned_payload is False
    # body replaced; the original body's hash added as an unsigned header
    swapped = sent + [("X-Sdk-Content-Sha256", _sha(B1))]
    refused(SignatureMismatch, "SIGNATURE_MISMATCH", lambda: koosign.verify_apig("POST", URL, swapped, B2, CREDS))
    # an unsigned one is ignored: the genuine request with it still verifies on its real hash
    assert koosign.verify_apig("POST", URL, sent + [("X-Sdk-Content-Sha256", "UNSIGNED-PAYLOAD")], B1, CREDS) == 0


def test_s6_signed_content_hash_must_be_the_body_hash() -> None:
    signer = koosign.ApigSigner(*CREDS[0])
    given = {"X-Sdk-Date": DATE, "Content-Type": "application/json", "X-Sdk-Content-Sha256": _sha(B1)}
    sent = _sent(given, signer.sign("POST", URL, given, B1))
    assert "x-sdk-content-sha256" in dict(sent)["Authorization"]
    assert koosign.verify_apig("POST", URL, sent, B1, CREDS).unsigned_payload is False
    # the signed hash names B1; the body sent is B2
    refused(SignatureMismatch, "SIGNATURE_MISMATCH", lambda: koosign.verify_apig("POST", URL, sent, B2, CREDS))
    # a signer that signed a hash which is not its body's: refused as well
    wrong = dict(given, **{"X-Sdk-Content-Sha256": _sha(B2)})
    sent_wrong = _sent(wrong, signer.sign("POST", URL, wrong, B1))
    refused(SignatureMismatch, "SIGNATURE_MISMATCH", lambda: koosign.verify_apig("POST", URL, sent_wrong, B1, CREDS))


def test_s6_unsigned_payload_is_reported() -> None:
    # the SDK signs multipart uploads with X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD
    given = {"X-Sdk-Date": DATE, "Content-Type": "multipart/form-data; boundary=XyZ"}
    body = b"--XyZ\r\n\r\nfile\r\n--XyZ--\r\n"
    signed = koosign.ApigSigner(*CREDS[0]).sign("POST", URL, given, body)
    assert signed["X-Sdk-Content-Sha256"] == "UNSIGNED-PAYLOAD"
    v = koosign.verify_apig("POST", URL, _sent(given, signed), body, CREDS)
    assert v == 0 and v.unsigned_payload is True
    assert repr(v) == "ApigVerified(credential_index=0, unsigned_payload=True)"
    # so another body verifies too: the caller is told the body was not authenticated
    assert koosign.verify_apig("POST", URL, _sent(given, signed), b"--XyZ--\r\n", CREDS).unsigned_payload is True


def test_s6_repeated_headers_are_ambiguous() -> None:
    given = {"X-Sdk-Date": DATE, "X-Project-Id": "p1"}
    sent = _sent(given, koosign.ApigSigner(*CREDS[0]).sign("GET", URL, given))
    auth = dict(sent)["Authorization"]
    for extra in (("x-project-id", "p2"), ("Authorization", auth), ("x-sdk-date", DATE)):
        refused(AmbiguousRequest, "AMBIGUOUS", lambda: koosign.verify_apig("GET", URL, sent + [extra], b"", CREDS))
    twice = auth.replace("Access=AK,", "Access=AK, Access=AK,")
    refused(
        AmbiguousRequest,
        "AMBIGUOUS",
        lambda: koosign.verify_apig("GET", URL, [(n, twice if n == "Authorization" else v) for n, v in sent], b"", CREDS),
    )


def test_s6_host_and_date_must_be_signed() -> None:
    given = {"X-Sdk-Date": DATE, "Content-Type": "application/json"}
    sent = dict(_sent(given, koosign.ApigSigner(*CREDS[0]).sign("GET", URL, given)))
    assert koosign.verify_apig("GET", URL, sent, b"", CREDS) == 0
    for listed in ("x-sdk-date", "host", "content-type;x-sdk-date", "content-type;host"):
        auth = sent["Authorization"].replace("SignedHeaders=content-type;host;x-sdk-date", f"SignedHeaders={listed}")
        assert auth != sent["Authorization"]
        e = refused(MalformedRequest, "MALFORMED_ENCODING", lambda: koosign.verify_apig("GET", URL, dict(sent, Authorization=auth), b"", CREDS))
        assert str(e) == "malformed input: SignedHeaders must include host and x-sdk-date"


# --- S3: the strict Body-Sign parser -------------------------------------------


@pytest.mark.parametrize(
    ("value", "deviation"),
    [
        ('sign_type="hmac-sha256", signature="{s}"', "sign_type must be exactly HMAC-SHA256"),
        ('sign_type="HMAC-SHA256", signature="{s}", extra="1"', "unknown attribute"),
        (', sign_type="HMAC-SHA256", signature="{s}"', "empty attribute (stray comma)"),
        ('sign_type="HMAC-SHA256", signature="{s}",', "empty attribute (stray comma)"),
        ('sign_type="HMAC-SHA256", signature="{s}", signature="AAAA"', "duplicate attribute"),
        ('sign_type ="HMAC-SHA256", signature="{s}"', "space before `=`"),
        ('sign_type=HMAC-SHA256, signature="{s}"', "value not quoted"),
        ('sign_type="HMAC-SHA256",\tsignature="{s}"', "whitespace other than spaces after `,` or `=`"),
    ],
)
def test_body_sign_deviations_are_malformed(value: str, deviation: str) -> None:
    body = b'{"resultCode":"000000"}'
    good = koosign.body_sign(body, KEY)
    s = good.split('signature="')[1][:-1]
    assert koosign.verify_body_sign(good, body, KEY) == 0
    e = refused(MalformedRequest, "MALFORMED_ENCODING", lambda: koosign.verify_body_sign(value.format(s=s), body, KEY))
    assert str(e) == f"malformed input: Body-Sign: {deviation}"
