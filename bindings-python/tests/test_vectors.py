"""The published vectors: docs/SCHEMES.md's examples one by one, the
repository's vectors/ through `python -m koosign.conformance`, and fresh cases from the JDK and
Huawei SDK reference generators when they are on the machine."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pyref
import pytest
from conftest import (
    ACCESS_KEY,
    REPO,
    V2_BODY,
    V2_KIT_SIG,
    V2_NONCE,
    V2_NOW,
    V2_QUERY,
    V2_SIG,
    V2_TS,
    vector_files,
)

import koosign
from koosign import conformance


def test_s1_v1_example() -> None:
    params = [
        ("activity", "newInstance"),
        ("businessId", "61e834ba-7b97-4418-b8f7-e5345137278c"),
        ("customerId", "68cbc86abc2018ab880d92f36422fa0e"),
        ("expireTime", "20200727153156"),
        ("orderId", "CS1906666666ABCDE"),
        ("productId", "00301-666666-0--0"),
        ("testFlag", "1"),
        ("timeStamp", "20200727073711903"),
    ]
    token = "IzyXxySagieGHt354yIOhnCrv0vphQN0e9NuWT2MKNY="
    assert koosign.v1_auth_token(params, ACCESS_KEY) == token
    query = koosign.build_v1_query(params, ACCESS_KEY)
    assert koosign.v1_canonical(query) == "&".join(f"{n}={v}" for n, v in params)
    v = koosign.verify_v1(query, ACCESS_KEY)
    assert v.activity == "newInstance" and v.key_index == 0
    assert v.params == dict(params) and list(v.params) == [n for n, _ in params]
    assert v.timestamp_ms == 1595835431903
    # the token's '+' turned into a space in transit is repaired
    assert "+" not in token or koosign.verify_v1(query.replace("%2B", "+"), ACCESS_KEY)


def test_s2_v2_example() -> None:
    v = koosign.verify_v2(V2_QUERY, V2_BODY, ["old", ACCESS_KEY], now=V2_NOW)
    assert v.key_index == 1 and v.body == V2_BODY and v.nonce == V2_NONCE and v.scheme == "basic"
    assert v.timestamp_ms == int(V2_TS)
    assert v.json()["orderId"] == "CS2211181819B4LVS"
    assert koosign.sign_v2(V2_BODY, ACCESS_KEY, V2_NONCE, V2_TS) == V2_SIG
    assert koosign.sign_v2(V2_BODY, ACCESS_KEY, V2_NONCE, int(V2_TS)) == V2_SIG
    # lower-case hex (licences) and a mapping of query parameters
    params = {"signature": V2_SIG.lower(), "timestamp": V2_TS, "nonce": V2_NONCE}
    assert koosign.verify_v2(params, bytearray(V2_BODY), ACCESS_KEY, now=V2_NOW).body == V2_BODY
    assert koosign.verify_v2(list(params.items()), memoryview(V2_BODY), ACCESS_KEY, window=None).key_index == 0


def test_s2b_kit_example() -> None:
    assert koosign.sign_v2(V2_BODY, ACCESS_KEY, V2_NONCE, V2_TS, kit=True) == V2_KIT_SIG
    headers = {"X-Sign": V2_KIT_SIG, "x-TIMESTAMP": V2_TS, "x-nonce": V2_NONCE, "Content-Type": "application/json"}
    v = koosign.verify_kit(headers, V2_BODY, ACCESS_KEY, now=V2_NOW)
    assert v.scheme == "kit" and v.key_index == 0
    raw = [(k.encode(), v.encode()) for k, v in headers.items()]
    assert koosign.verify_kit(raw, V2_BODY, ACCESS_KEY, now=V2_NOW).nonce == V2_NONCE


def test_s3_body_sign_example() -> None:
    body = b'{"resultCode":"000000","resultMsg":"success."}'
    value = koosign.body_sign(body, ACCESS_KEY)
    assert value == 'sign_type="HMAC-SHA256", signature="CPIAbI6A1/GrF70YmPEaCgm5WaxUkts5hjQRqqpZv3s="'
    assert koosign.BODY_SIGN_HEADER == "Body-Sign"
    for variant in (
        value,
        value.replace(", ", ","),
        value.replace('signature="', 'signature= "'),
    ):
        assert koosign.verify_body_sign(variant, body, ["other", ACCESS_KEY]) == 1
    assert koosign.body_sign(body.decode(), ACCESS_KEY) == value


@pytest.mark.parametrize(
    ("seed", "k128", "k256"),
    [
        (
            "testAccessKey123",
            "0413c5de84a4312c10f237cf102c14f9",
            "0413c5de84a4312c10f237cf102c14f909635c067f68c442f5d9aa865fb0d176",
        ),
        ("a", "667f407de7c6ad07358fa38daed7828a", "667f407de7c6ad07358fa38daed7828a72014b4e621d7140210c8cf1565a8f02"),
        (
            "密钥Key",
            "56ac7bb1c7f3ab73359f4420bb77c050",
            "56ac7bb1c7f3ab73359f4420bb77c0504c336b5d39eb83d0440766aedf25d1a3",
        ),
    ],
)
def test_s4_key_examples(seed: str, k128: str, k256: str) -> None:
    assert koosign.derive_key(seed, 128).hex() == k128
    assert koosign.derive_key(seed, 256).hex() == k256


def test_s4_cipher_examples() -> None:
    k = ACCESS_KEY
    assert koosign.encrypt_field("admin", k, "1", iv="abcdefgh12345678") == "abcdefgh12345678cEmxy4I8pTd8cQfzOXtUKw=="
    assert koosign.encrypt_field("admin", k, 2, iv="abcdefgh12345678") == "abcdefgh123456787ffgxbG9iCNmPHfS/KXEkA=="
    wire = "ABCDEFGHijklmn01MpvuA8sUFJisvKp+uf0qIg=="
    assert koosign.encrypt_field("中文用户", k, iv="ABCDEFGHijklmn01") == wire
    assert koosign.decrypt_field(wire, k) == "中文用户"
    assert koosign.decrypt_field(wire.replace("+", " "), k, "auto") == "中文用户"
    assert koosign.decrypt_field("abcdefgh123456787ffgxbG9iCNmPHfS/KXEkA==", k, "2") == "admin"
    assert koosign.decrypt_field("abcdefgh123456787ffgxbG9iCNmPHfS/KXEkA==", k) == "admin"
    # a fresh random IV every time, 16 alphanumerics, and it round-trips
    a, b = koosign.encrypt_field("admin", k), koosign.encrypt_field("admin", k)
    assert a != b and a[:16].isalnum() and len(a) <= 128
    assert koosign.decrypt_field(a, k, "1") == "admin"


@pytest.mark.parametrize(
    ("method", "url", "headers", "body", "signature"),
    [
        (
            "GET",
            "https://service.endpoint.myhuaweicloud.com/resources?size=1",
            {"X-Sdk-Date": "20200608T023900Z"},
            b"",
            "cfb4171acec81de07d50e53d57eb77edd537414d66ddb1d7d780f128e12cd842",
        ),
        (
            "POST",
            "https://service.endpoint.myhuaweicloud.com/resources?size=1",
            {"X-Sdk-Date": "20200608T023900Z"},
            b'{"name":"test","id":1}',
            "436b1ac0a1ae03705934bb70ef2f2e09f7bfed2117d731a38235053199323a1f",
        ),
        (
            "GET",
            "https://example.huaweicloud.com/path?limit=1",
            {"X-Sdk-Date": "20060102T150405Z", "Host": "example.huaweicloud.com"},
            b"",
            None,
        ),
    ],
)
def test_s6_apig_examples(method: str, url: str, headers: dict[str, str], body: bytes, signature: str) -> None:
    signed = koosign.ApigSigner("AccessKey", "SecretKey").sign(method, url, headers, body)
    if signature is not None:
        assert signed.signature == signature
        assert signed["Authorization"].endswith(f"Signature={signature}")
        assert signed["Host"] == url.split("/")[2]
        assert signed.signed_headers == "host;x-sdk-date"
        assert signed.string_to_sign.startswith("SDK-HMAC-SHA256\n20200608T023900Z\n")
        assert signed.canonical_request.startswith(f"{method}\n/resources/\nsize=1\n")
    assert list(signed)[-1] == "Authorization"
    sent = {**headers, **signed}
    assert koosign.verify_apig(method, url, sent, body, [("AccessKey", "SecretKey")]) == 0


def test_s6_apig_vector_3_is_refused_by_the_verifier() -> None:
    # Published vector 3 signs x-sdk-date only (Host not signed). Its signature is
    # genuine (the reference reproduces it), but SCHEMES.md S6 (decision) requires
    # host and x-sdk-date among SignedHeaders: a request that does not sign its
    # host could be replayed to another host. (Until issue 11 this test asserted
    # that the verifier accepted it.)
    sig = "5a2ce64c865e0e6046321c6f3d5a77ba8413eeaf355c3166c03d58d02ac79624"
    cr = "\n".join(["GET", "/path/", "limit=1", "x-sdk-date:20060102T150405Z\n", "x-sdk-date", hashlib.sha256(b"").hexdigest()])
    assert pyref.apig_signature("20060102T150405Z", cr, "SecretKey") == sig
    auth = f"SDK-HMAC-SHA256 Access=AccessKey, SignedHeaders=x-sdk-date, Signature={sig}"
    headers = {"X-Sdk-Date": "20060102T150405Z", "Authorization": auth}
    url = "https://example.huaweicloud.com/path?limit=1"
    with pytest.raises(koosign.MalformedRequest) as e:
        koosign.verify_apig("GET", url, headers, b"", [("AccessKey", "SecretKey")])
    assert e.value.code == "MALFORMED_ENCODING"
    assert str(e.value) == "malformed input: SignedHeaders must include host and x-sdk-date"
    # koosign's signer always signs host: the same request signed by it verifies
    signed = koosign.ApigSigner("AccessKey", "SecretKey").sign("GET", url, {"X-Sdk-Date": "20060102T150405Z"})
    assert signed.signed_headers == "host;x-sdk-date"
    ok = koosign.verify_apig("GET", url, {"X-Sdk-Date": "20060102T150405Z", **signed}, b"", [("AccessKey", "SecretKey")])
    assert ok == 0 and ok.unsigned_payload is False
    with pytest.raises(koosign.SignatureMismatch):
        koosign.verify_apig("GET", url + "0", {"X-Sdk-Date": "20060102T150405Z", **signed}, b"", [("AccessKey", "SecretKey")])


def test_s6_apig_canonical_query_vector_4() -> None:
    signed = koosign.ApigSigner("AccessKey", "SecretKey").sign(
        "GET",
        "https://example.huaweicloud.com/path",
        {"X-Sdk-Date": "20060102T150405Z"},
        params=[
            ("limit", "1"),
            ("enable", "true"),
            ("test", "一 (&=?!#%.*)"),
            ("path", "/tmp/123"),
            ("multi", "3"),
            ("multi", "1"),
            ("multi", "2"),
        ],
    )
    assert signed.canonical_query == (
        "enable=true&limit=1&multi=1&multi=2&multi=3&path=%2Ftmp%2F123&test=%E4%B8%80%20%28%26%3D%3F%21%23%25.%2A%29"
    )
    assert "X-Sdk-Date" not in signed  # given, so not added


def test_repository_vectors_in_process() -> None:
    files = [str(p) for p in vector_files()]
    assert len(files) == 2
    assert conformance.run(files) == 0


def test_conformance_cli_contract(tmp_path: Path) -> None:
    files = [str(p) for p in vector_files()]
    ok = subprocess.run([sys.executable, "-m", "koosign.conformance", *files], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    lines = ok.stdout.strip().splitlines()
    total = sum(1 for f in files for line in open(f, encoding="utf-8") if line.strip())
    assert lines[-1] == f"{total} passed, 0 failed"
    kinds = {line.split(":")[0] for line in lines[:-1]}
    assert {"v1_query", "body_sign", "aes_cbc", "v2_basic", "v2_kit", "apig"} <= kinds

    # one broken case, one unknown kind, one line that is not JSON: exit 1
    case = json.loads(open(files[0], encoding="utf-8").readline())
    for field in ("auth_token", "signature", "ciphertext", "authorization"):
        if field in case:
            case[field] = conformance.alter(case[field], 2)
            break
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps(case) + "\n" + '{"kind":"nope"}\n' + "not json\n", encoding="utf-8")
    r = subprocess.run([sys.executable, "-m", "koosign.conformance", str(bad)], capture_output=True, text=True)
    assert r.returncode == 1
    assert r.stdout.strip().splitlines()[-1] == "0 passed, 3 failed"
    assert "unknown kind `nope`" in r.stderr
    unknown = tmp_path / "unknown.jsonl"
    unknown.write_text('{"kind":"v9"}\n', encoding="utf-8")
    r = subprocess.run([sys.executable, "-m", "koosign.conformance", str(unknown)], capture_output=True, text=True)
    assert r.returncode == 1 and r.stdout.strip().endswith("0 passed, 1 failed")


def test_conformance_defaults_to_the_vectors_folder(tmp_path: Path) -> None:
    from koosign.conformance import CONFORMANCE_FILES

    folder = str(Path(vector_files()[0]).parent)
    # Without files the runner reads every file of the folder, the new kinds included.
    files = [str(Path(folder) / name) for name in CONFORMANCE_FILES]
    total = sum(1 for f in files for line in open(f, encoding="utf-8") if line.strip())
    env = dict(os.environ, KOOSIGN_VECTORS=folder)
    ok = subprocess.run([sys.executable, "-m", "koosign.conformance"], capture_output=True, text=True, env=env)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.strip().splitlines()[-1] == f"{total} passed, 0 failed"
    # Run from the repository root without KOOSIGN_VECTORS: ./vectors.
    env.pop("KOOSIGN_VECTORS")
    if Path(folder).resolve() == (REPO / "vectors").resolve():
        ok = subprocess.run(
            [sys.executable, "-m", "koosign.conformance"], capture_output=True, text=True, env=env, cwd=REPO
        )
        assert ok.returncode == 0, ok.stderr
    # Absent files fail (exit 1), they are not skipped.
    for absent in (tmp_path, tmp_path / "nope"):
        env["KOOSIGN_VECTORS"] = str(absent)
        r = subprocess.run([sys.executable, "-m", "koosign.conformance"], capture_output=True, text=True, env=env)
        assert r.returncode == 1, r.stderr
        assert "not found" in r.stderr
        assert r.stdout.strip().splitlines()[-1] == "0 passed, 1 failed"


def test_alter_matches_the_cli() -> None:
    assert conformance.alter("abc", 0) == "bbc"
    assert conformance.alter("A0", 1) == "A1"
    assert conformance.alter("+/9", 0) == "+/0"
    assert conformance.alter("z", 0) == "A"
    assert conformance.alter("=+", 0) == "=+"


@pytest.mark.skipif(shutil.which("java") is None, reason="no JDK on this machine (the JDK reference needs java 17)")
def test_fresh_jdk_reference_cases(tmp_path: Path) -> None:
    seed = os.environ.get("KOOSIGN_REF_SEED", str(os.getpid()))
    out = tmp_path / "jdk.jsonl"
    with open(out, "w", encoding="utf-8") as f:
        subprocess.run(
            ["java", str(REPO / "reference" / "java" / "KooRef.java"), "gen", seed, "300"], stdout=f, check=True
        )
    kinds = {json.loads(line)["kind"] for line in open(out, encoding="utf-8")}
    assert "licence" in kinds
    assert conformance.run([str(out)], verbose=True) == 0, f"seed {seed}"


def _ref_python() -> str | None:
    py = os.environ.get("KOOSIGN_REF_PY") or str(REPO / "target" / "ref-venv" / "bin" / "python")
    return py if Path(py).exists() else None


@pytest.mark.skipif(
    _ref_python() is None, reason="Huawei SDK reference venv absent (scripts/setup-ref-venv.sh creates it)"
)
def test_fresh_huawei_sdk_cases(tmp_path: Path) -> None:
    seed = os.environ.get("KOOSIGN_REF_SEED", str(os.getpid()))
    out = tmp_path / "apig.jsonl"
    with open(out, "w", encoding="utf-8") as f:
        subprocess.run(
            [str(_ref_python()), str(REPO / "reference" / "python" / "apig_ref.py"), "gen", seed, "300"],
            stdout=f,
            check=True,
        )
    assert conformance.run([str(out)], verbose=True) == 0, f"seed {seed}"


# ---------------------------------------------------------------------------
# The repository's vectors of the new kinds: per-stage goldens, invalid cases
# with their error code, vectors written by others. Read from <repo>/vectors
# (or $KOOSIGN_VECTORS); a missing file fails, it is never skipped.


def repo_vectors_dir() -> Path:
    d = os.environ.get("KOOSIGN_VECTORS")
    return Path(d) if d else REPO / "vectors"


NEW_KINDS = {
    "stages.jsonl": {"v1_stages", "v2_stages", "apig_stages", "s4_key"},
    "invalid.jsonl": {
        "v1_invalid",
        "v1_json_invalid",
        "v2_invalid",
        "licence_invalid",
        "body_sign_invalid",
        "apig_invalid",
        "aes_invalid",
    },
    "published.jsonl": {"v1_query", "apig", "apig_canonical_query", "apig_host_unsigned", "hmac_sha256", "aes_cbc_raw"},
}


@pytest.mark.parametrize("name", sorted(NEW_KINDS))
def test_repository_vectors(name: str, capsys: pytest.CaptureFixture[str]) -> None:
    path = repo_vectors_dir() / name
    assert path.is_file(), f"{path} not found (the repository's vectors/, or set KOOSIGN_VECTORS)"
    status = conformance.run([str(path)], verbose=True)
    out, err = capsys.readouterr()
    assert status == 0, err
    kinds = {line.split(":")[0] for line in out.strip().splitlines()[:-1]}
    assert NEW_KINDS[name] <= kinds, kinds


def test_repository_vectors_through_the_module(tmp_path: Path) -> None:
    files = [str(repo_vectors_dir() / n) for n in sorted(NEW_KINDS)]
    r = subprocess.run([sys.executable, "-m", "koosign.conformance", *files], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip().splitlines()[-1].endswith(" passed, 0 failed")
    # An absent file is a failure, not a skip.
    r = subprocess.run(
        [sys.executable, "-m", "koosign.conformance", str(tmp_path / "absent.jsonl")], capture_output=True, text=True
    )
    assert r.returncode == 1 and "cannot read" in r.stderr


def test_an_invalid_case_that_verifies_fails_the_run(tmp_path: Path) -> None:
    # A genuine request labelled as one to refuse: the runner must report it.
    case = {
        "kind": "v2_invalid",
        "id": "selftest/accepted",
        "expect_error": "SIGNATURE_MISMATCH",
        "why": "a genuine request",
        "scheme": "basic",
        "access_key": ACCESS_KEY,
        "body": V2_BODY.decode(),
        "signature": V2_SIG,
        "timestamp": V2_TS,
        "nonce": V2_NONCE,
    }
    f = tmp_path / "bad.jsonl"
    f.write_text(json.dumps(case) + "\n", encoding="utf-8")
    assert conformance.run([str(f)]) == 1


def test_ambiguous_error_class_and_raw_decrypt() -> None:
    assert issubclass(koosign.AmbiguousRequest, koosign.KoosignError)
    assert koosign.result_code(koosign.AmbiguousRequest("x")) == "000001"
    # Wycheproof aes_cbc_pkcs5_test.json tcId 5 (AES-128) and a bad padding (tcId 26).
    key, iv = bytes.fromhex("e1e726677f4893890f8c027f9d8ef80d"), bytes.fromhex("155fd397579b0b5d991d42607f2cc9ad")
    assert koosign.decrypt_raw(key, iv, bytes.fromhex("599d77aca16910b42d8b4ac9560efe1b")) == bytes.fromhex("3f")
    with pytest.raises(koosign.DecryptError) as e:
        koosign.decrypt_raw(
            bytes.fromhex("db4f3e5e3795cc09a073fa6a81e5a6bc"),
            bytes.fromhex("23468aa734f5f0f19827316ff168e94f"),
            bytes.fromhex("aa62606a287476777b92d8e4c4e53028"),
        )
    assert e.value.code == "DECRYPT"
    with pytest.raises(koosign.MalformedRequest) as m:
        koosign.decrypt_raw(b"\0" * 24, iv, b"\0" * 16)
    assert m.value.code == "MALFORMED_ENCODING"
    with pytest.raises(koosign.MalformedRequest):
        koosign.decrypt_raw(key, iv[:15], b"\0" * 16)
