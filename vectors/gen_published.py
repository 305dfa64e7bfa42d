#!/usr/bin/env python3
"""Generates vectors/published.jsonl: test vectors written by others, each
line with a ``source`` naming where its values come from (repository, path
and commit, or document). The expected values are transcribed from those
sources, never computed by koosign; the script re-derives each with a
reference implementation and stops if it disagrees, so a typo cannot slip
in:

* the KooGallery access guide's V1 example -> the JDK (reference/java/KooRef.java);
* the signer tests of Huawei's Python, Java and Go SDKs -> Huawei's Python
  SDK signer (``huaweicloudsdkcore``, reference/python/apig_ref.py);
* RFC 4231 -> Python's ``hmac``, and the JDK (``KooRef.java check``);
* Wycheproof ``aes_cbc_pkcs5_test.json`` -> the JDK's ``AES/CBC/PKCS5Padding``
  (``KooRef.java check``).

Run with the reference venv's python, giving the Wycheproof file (a checkout
of https://github.com/C2SP/wycheproof at the commit below):

    PY="$(scripts/setup-ref-venv.sh | tail -n 1)"
    "$PY" vectors/gen_published.py WYCHEPROOF/testvectors_v1/aes_cbc_pkcs5_test.json > vectors/published.jsonl

Kinds (the runners of every language know them):

* ``v1_query``: as in the conformance vectors (``query``, ``canonical``, ``auth_token``).
* ``apig``: as in the conformance vectors (``authorization``, ``canonical_query``);
  ``headers`` are the headers handed to the signer.
* ``apig_canonical_query``: ``query`` (decoded pairs; the SDK tests' lists
  and booleans already flattened to text) -> ``canonical_query``.
* ``apig_host_unsigned``: the Go SDK's tests sign ``x-sdk-date`` only. The
  runner checks the last stage through the core's MAC path
  (``signature`` = hex(HMAC(sk, string_to_sign))) and that verifying the
  request is refused with ``verify_error`` (SCHEMES.md S6: SignedHeaders must
  include host). ``canonical_request`` and ``string_to_sign`` are the SDK's.
* ``hmac_sha256``: RFC 4231 through the core's MAC path: ``key`` is text
  (UTF-8), ``data_hex`` the message, ``mac_hex`` the expected HMAC-SHA256
  (a prefix, when the RFC truncates it). Body-Sign's b64(HMAC(key, body)) is
  that path; test cases 3, 6 and 7 are left out because their keys (0xaa
  bytes) are not UTF-8 and every koosign key is text.
* ``aes_cbc_raw``: Wycheproof, through ``FieldKey::from_raw`` +
  ``decrypt_raw``: ``key_hex``, ``iv_hex``, ``ct_hex``; ``result`` ``valid``
  (must decrypt to ``msg_hex``) or ``invalid`` (must fail with ``DECRYPT``).
  The 128- and 256-bit groups; the 192-bit group is left out (the field
  cipher has no AES-192; ``from_raw`` refuses 24-byte keys).
"""

import hashlib
import hmac
import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "reference" / "python"))

import apig_ref  # noqa: E402

WYCHEPROOF_COMMIT = "061657f12eed26eeab9b6548ce03f45219d0e7fe"
PY_SDK = "huaweicloud/huaweicloud-sdk-python-v3 huaweicloud-sdk-core/tests/test_signer.py @ 18d6485ce9f20ebe629a48e66277aef32f06ca3c"
GO_SDK = "huaweicloud/huaweicloud-sdk-go-v3 core/auth/signer/signer_test.go @ 54c11bc944dfd3d849239f7fcde65a383884688c"
JAVA_SDK = ("huaweicloud/huaweicloud-sdk-java-v3 core/src/test/java/com/huaweicloud/sdk/core/TestAKSKSigner.java"
            " @ 6578cc12cb6bb4a00a2f11f6211d8c7bf95d9481")
GUIDE = ("KooGallery SaaS access guide (support.huaweicloud.com, accessg-marketplace), V1.0 notification "
         "example: key xxxxxxx, authToken Gzbfjf9LHRBcI3bFVi++sLinCNOBF6qa7is1fvjEgYQ=")
RFC4231 = "RFC 4231 (HMAC-SHA256 test vectors), section 4"

OUT = []


def emit(c):
    OUT.append(c)


def auth(sig, signed="host;x-sdk-date"):
    return "SDK-HMAC-SHA256 Access=AccessKey, SignedHeaders=%s, Signature=%s" % (signed, sig)


def sdk_apig(case):
    """The published Authorization, re-derived with Huawei's Python SDK signer."""
    got, cq = apig_ref.sdk_sign(case["method"], case["host"], case["path"], case["query"], case["headers"],
                                case["body"], case["ak"], case["sk"])
    if got != case["authorization"]:
        raise SystemExit("%s: the SDK gives %s" % (case["source"], got))
    case["canonical_query"] = cq
    return case


def v1_guide():
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
    token = "Gzbfjf9LHRBcI3bFVi++sLinCNOBF6qa7is1fvjEgYQ="
    req = {"id": "guide", "kind": "v1_pairs", "access_key": "xxxxxxx", "pairs": [list(p) for p in params]}
    out = subprocess.run(["java", str(REPO / "reference" / "java" / "KooRef.java"), "sign", "-"],
                         input=(json.dumps(req) + "\n").encode(), stdout=subprocess.PIPE, check=True)
    j = json.loads(out.stdout)
    if j["auth_token"] != token:
        raise SystemExit("guide example: the JDK gives %s" % j["auth_token"])
    emit({"kind": "v1_query", "source": GUIDE, "access_key": "xxxxxxx", "query": j["query"],
          "canonical": j["canonical"], "auth_token": token})


def sdk_tests():
    base = {"kind": "apig", "ak": "AccessKey", "sk": "SecretKey"}
    # Python SDK: test_signer.py (GET and POST of the same request; TEST_UNDERSCORE is not signed).
    for test, method, body, sig in (
        ("test_signer1", "GET", "", "cfb4171acec81de07d50e53d57eb77edd537414d66ddb1d7d780f128e12cd842"),
        ("test_signer2", "POST", '{"name":"test","id":1}', "436b1ac0a1ae03705934bb70ef2f2e09f7bfed2117d731a38235053199323a1f"),
    ):
        emit(sdk_apig(dict(base, source=PY_SDK + " (%s)" % test, method=method,
                           host="service.endpoint.myhuaweicloud.com", path="/resources", query=[["size", "1"]],
                           headers={"X-Sdk-Date": "20200608T023900Z", "TEST_UNDERSCORE": "TEST_VALUE"}, body=body,
                           authorization=auth(sig))))
    # Java SDK: TestAKSKSigner.java (the content type is not among the signed headers).
    host = "service.region.example.com"
    emit(sdk_apig(dict(base, source=JAVA_SDK + " (testAKSKSigner)", method="GET", host=host,
                       path="/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpcs",
                       query=[["limit", "2"], ["marker", "13551d6b-755d-4757-b956-536f674975c0"]],
                       headers={"X-Sdk-Date": "20191115T033655Z"}, body="",
                       authorization=auth("fd95e7da6f695cfb4cabbb9d6b0968aec155bc576b064835282473539ae9ea1d"))))
    emit(sdk_apig(dict(base, source=JAVA_SDK + " (testAKSKSigner2)", method="POST", host=host,
                       path="/v1/77b6a44cba5143ab91d13ab9a8ff44fd/vpc/123", query=[],
                       headers={"X-Sdk-Date": "20191115T033655Z"}, body='{"key":"value"}',
                       authorization=auth("b5649aa774f6cac7437631662f08815fc65c70e40e486df6db2436ce68902771"))))
    emit(sdk_apig(dict(base, source=JAVA_SDK + " (testAKSKSigner3: no path, Host header example.com)",
                       method="GET", host=host, path="/", query=[],
                       headers={"Host": "example.com", "X-Sdk-Date": "20191115T033655Z"}, body="",
                       authorization=auth("919ad8b75d4ad49da0d377e63ee21c4a7a54b752f6bf2878b4adbe9c19927da6"))))
    # Canonical query (the same case in the Python and Go SDKs' tests).
    query = [["limit", "1"], ["enable", "true"], ["test", "\u4e00 (&=?!#%.*)"], ["path", "/tmp/123"],
             ["multi", "1"], ["multi", "2"], ["multi", "3"]]
    want = "enable=true&limit=1&multi=1&multi=2&multi=3&path=%2Ftmp%2F123&test=%E4%B8%80%20%28%26%3D%3F%21%23%25.%2A%29"
    r = apig_ref.SdkRequest(method="GET", schema="https", host="h", resource_path="/",
                            query_params=[("limit", 1), ("enable", True), ("test", "\u4e00 (&=?!#%.*)"),
                                          ("path", "/tmp/123"), ("multi", [1, 2, 3])], header_params={}, body="")
    if apig_ref.Signer.process_canonical_query_string(r) != want:
        raise SystemExit("canonical query: the SDK disagrees")
    for src in (PY_SDK + " (test_process_canonical_query_string)", GO_SDK + " (TestSigner_canonicalQueryString)"):
        emit({"kind": "apig_canonical_query", "source": src + "; lists and booleans flattened to text pairs",
              "query": query, "canonical_query": want})
    # Go SDK: SignedHeaders=x-sdk-date only (the Go signer adds no Host). Body of test2: the Go
    # SDK's JSON encoding of TestBody{Name: "test", Id: 1}, which (json.Encoder) ends in a newline:
    # only that body reproduces the published signature.
    for name, method, query, headers, body, sig in (
        ("test1", "GET", [["limit", "1"]], {"X-Sdk-Date": "20060102T150405Z", "TEST_UNDERSCORE": "TEST_VALUE"}, "",
         "5a2ce64c865e0e6046321c6f3d5a77ba8413eeaf355c3166c03d58d02ac79624"),
        ("test2", "POST", [["key", "value"]], {"X-Sdk-Date": "20060102T150405Z", "TEST_UNDERSCORE": "TEST_VALUE",
                                               "Content-Type": "application/json"},
         '{"Name":"test","Id":1}\n', "cecc2af119b18ab70b4d094c0750f3b42c02f254903179a0fc2cc72fc9db4f59"),
    ):
        st = apig_ref.sdk_stages(method, "example.huaweicloud.com", "/path", query, headers, body, "AccessKey",
                                 "SecretKey", ["x-sdk-date"])
        if st["signature"] != sig:
            raise SystemExit("Go %s: the SDK's methods give %s" % (name, st["signature"]))
        a = auth(sig, "x-sdk-date")
        emit({"kind": "apig_host_unsigned", "source": GO_SDK + " (TestSigner_Sign/%s)" % name, "method": method,
              "host": "example.huaweicloud.com", "path": "/path", "query": query, "headers": headers, "body": body,
              "ak": "AccessKey", "sk": "SecretKey", "canonical_request": st["canonical_request"],
              "string_to_sign": st["string_to_sign"], "signature": sig, "authorization": a,
              "verify_error": "MALFORMED_ENCODING"})


def rfc4231():
    cases = [
        (1, b"\x0b" * 20, b"Hi There", "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
        (2, b"Jefe", b"what do ya want for nothing?",
         "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"),
        (4, bytes(range(1, 26)), b"\xcd" * 50, "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"),
        (5, b"\x0c" * 20, b"Test With Truncation", "a3b6167473100ee06e0c796c2955552b"),
    ]
    for n, key, data, mac in cases:
        full = hmac.new(key, data, hashlib.sha256).hexdigest()
        if not full.startswith(mac):
            raise SystemExit("RFC 4231 case %d: Python's hmac gives %s" % (n, full))
        emit({"kind": "hmac_sha256", "source": "%s, test case %d%s" % (RFC4231, n, " (truncated to 128 bits)"
                                                                         if len(mac) < 64 else ""),
              "key": key.decode("utf-8"), "data_hex": data.hex(), "mac_hex": mac})


def wycheproof(path):
    d = json.load(open(path, encoding="utf-8"))
    if d.get("algorithm") != "AES-CBC-PKCS5":
        raise SystemExit("%s is not aes_cbc_pkcs5_test.json" % path)
    src = "C2SP/wycheproof testvectors_v1/aes_cbc_pkcs5_test.json @ %s" % WYCHEPROOF_COMMIT
    for g in d["testGroups"]:
        if g["keySize"] not in (128, 256):
            continue
        for t in g["tests"]:
            emit({"kind": "aes_cbc_raw", "source": "%s, tcId %d (%s)" % (src, t["tcId"], t["comment"]),
                  "tc_id": t["tcId"], "key_hex": t["key"], "iv_hex": t["iv"], "ct_hex": t["ct"],
                  "msg_hex": t["msg"], "result": t["result"]})


def jdk_check():
    # Not the empty ciphertexts: the JDK's Cipher.doFinal of zero bytes returns an empty plaintext
    # instead of failing (Wycheproof and koosign refuse them).
    text = "".join(json.dumps(c, ensure_ascii=False) + "\n" for c in OUT
                   if c["kind"] == "hmac_sha256" or (c["kind"] == "aes_cbc_raw" and c["ct_hex"]))
    r = subprocess.run(["java", str(REPO / "reference" / "java" / "KooRef.java"), "check", "-"],
                       input=text.encode(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if r.returncode != 0:
        raise SystemExit("the JDK disagrees:\n" + r.stderr.decode() + r.stdout.decode())
    print(r.stdout.decode().strip().splitlines()[-1] + " (JDK check of hmac_sha256 and aes_cbc_raw)", file=sys.stderr)


def main(argv):
    if len(argv) != 1:
        print(__doc__, file=sys.stderr)
        return 2
    if sys.stdout.encoding.lower().replace("-", "") != "utf8":
        sys.stdout.reconfigure(encoding="utf-8")
    v1_guide()
    sdk_tests()
    rfc4231()
    wycheproof(argv[0])
    jdk_check()
    for c in OUT:
        sys.stdout.write(json.dumps(c, ensure_ascii=False) + "\n")
    counts = {}
    for c in OUT:
        counts[c["kind"]] = counts.get(c["kind"], 0) + 1
    print("published cases: %d %s" % (len(OUT), counts), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
