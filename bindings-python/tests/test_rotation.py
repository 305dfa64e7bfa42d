"""Key rotation (SCHEMES.md §S3 "(decision) Key rotation"): the answer to a
request is signed with the key that verified it, as `koosign serve` does. Two
keys, a request signed with key 1: every answer and an after-authentication
refusal verify under key 1 (checked with Python's hmac: pyref.body_sign);
a refusal before authentication (no key matched) is signed with key 0."""

from __future__ import annotations

import json
from typing import Tuple

import pytest
from pyref import body_sign as ref_body_sign
from pyref import decrypt_field as ref_decrypt

import koosign

KEY0 = "current-access-key-0"
KEY1 = "previous-access-key-1"
NOW_MS = 1_700_000_000_000
TS = str(NOW_MS - 1500)


def request(nonce: str, body: bytes, key: str, sig: str = "") -> Tuple[str, str, list, bytes]:
    sig = sig or koosign.sign_v2(body, key, nonce, TS)
    return "POST", f"signature={sig}&timestamp={TS}&nonce={nonce}", [("Content-Type", "application/json")], body


def merchant() -> koosign.Merchant:
    return koosign.Merchant([KEY0, KEY1], clock=lambda: NOW_MS)


GOOD = b'{"activity":"newInstance","orderId":"CS1","orderLineId":"CS1-1","businessId":"b","testFlag":"1"}'


def test_answers_are_signed_with_the_verifying_key() -> None:
    m = merchant()
    n = m.verify(*request("r1", GOOD, KEY1))
    assert n.key_index == 1
    body, sign = m.respond("000000", instance_id="i1", app_info={"userName": "u", "password": "p"}, key_index=n.key_index)
    assert sign == ref_body_sign(body, KEY1) != ref_body_sign(body, KEY0)
    app = json.loads(body)["appInfo"]
    assert ref_decrypt(app["userName"], KEY1) == "u" and ref_decrypt(app["password"], KEY1) == "p"
    written = b'{"resultCode":"000000","resultMsg":"success."}'
    assert m.sign_answer(written, key_index=1).body_sign == ref_body_sign(written, KEY1)
    assert m.body_sign(written, key_index=1) == ref_body_sign(written, KEY1)
    code_body, code_sign = m.refusal("000003", key_index=1)
    assert code_sign == ref_body_sign(code_body, KEY1)
    assert ref_decrypt(m.encrypt("secret", key_index=1), KEY1) == "secret"
    # the defaults are key 0, as before
    assert m.sign_answer(written).body_sign == ref_body_sign(written, KEY0)
    assert m.respond().body_sign == ref_body_sign(m.respond().body, KEY0)


def test_an_index_the_merchant_does_not_hold_is_no_access_key() -> None:
    m = merchant()
    for call in (
        lambda: m.respond(key_index=2),
        lambda: m.sign_answer(b"{}", key_index=2),
        lambda: m.refusal("000003", key_index=2),
        lambda: m.body_sign(b"{}", key_index=2),
        lambda: m.encrypt("x", key_index=2),
    ):
        with pytest.raises(koosign.KoosignError) as e:
            call()
        assert e.value.code == "NO_ACCESS_KEY"


def test_refusal_after_authentication_is_signed_with_the_verifying_key() -> None:
    m = merchant()
    body = b'{"activity":"noSuchActivity","orderId":"CS1"}'
    with pytest.raises(koosign.KoosignError) as e:
        m.verify(*request("r2", body, KEY1))
    refusal, sign = e.value.refusal  # type: ignore[attr-defined]
    assert e.value.result_code == "000002"  # type: ignore[attr-defined]
    assert sign == ref_body_sign(refusal, KEY1) != ref_body_sign(refusal, KEY0)


def test_refusal_before_authentication_is_signed_with_key_0() -> None:
    m = merchant()
    with pytest.raises(koosign.SignatureMismatch) as e:
        m.verify(*request("r3", GOOD, KEY1, sig="A" * 64))
    refusal, sign = e.value.refusal  # type: ignore[attr-defined]
    assert e.value.result_code == "000001"  # type: ignore[attr-defined]
    assert sign == ref_body_sign(refusal, KEY0)


def test_async_verify_refusal_after_authentication() -> None:
    import asyncio

    m = merchant()
    body = b'{"activity":"noSuchActivity","orderId":"CS1"}'
    with pytest.raises(koosign.KoosignError) as e:
        asyncio.run(m.verify_async(*request("r4", body, KEY1)))
    refusal, sign = e.value.refusal  # type: ignore[attr-defined]
    assert sign == ref_body_sign(refusal, KEY1)
