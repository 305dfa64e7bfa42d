#!/usr/bin/env python3
"""apig_ref: Huawei's own Python SDK signer as the reference for docs/SCHEMES.md S6
(SDK-HMAC-SHA256, the merchant -> marketplace open-API AK/SK signature).

The signature is computed by ``huaweicloudsdkcore.signer.signer.Signer`` itself
(installed from PyPI; see scripts/setup-ref-venv.sh), never re-implemented here.

Usage (with the venv's python):
  apig_ref.py gen SEED COUNT [--quirks]
      prints COUNT ``apig`` cases as JSON Lines, same fields as
      vectors/apig.jsonl. Deterministic for a given SEED (and SDK version).
      Without --quirks every case verifies under docs/SCHEMES.md S6 (host and
      x-sdk-date signed, no signed header given twice, a signed
      X-Sdk-Content-Sha256 is UNSIGNED-PAYLOAD or the body's real hash).
      --quirks also generates inputs whose result is an artefact of the SDK
      rather than of the scheme (see QUIRKS below); off by default.
  apig_ref.py check FILE...      (FILE may be - for stdin)
      re-signs every ``apig`` case with the SDK, prints "N passed, M failed",
      exits 1 on any failure. ``apig_stages`` lines are checked stage by stage.
      Lines of other kinds are skipped and counted.
  apig_ref.py stages SEED COUNT
      prints COUNT ``apig_stages`` per-stage goldens (vectors/stages.jsonl):
      the inputs, then the SDK's own intermediates, each taken from its Signer
      methods: canonical query, canonical request, string to sign, signature,
      Authorization. Only requests a verifier must accept under SCHEMES.md S6
      (no X-Sdk-Content-Sha256 other than UNSIGNED-PAYLOAD). Deterministic.
  apig_ref.py sign FILE          (FILE may be - for stdin)
      one JSON request per line (method, host, path, query, headers, body, ak,
      sk, id; optional ``signed_headers``: sign only these lower-case names,
      as the Go SDK's tests do, instead of every header) -> one JSON line with
      the SDK's intermediates and the headers it added (vectors/gen_invalid.py).

  apig_ref.py urls SEED COUNT
      prints COUNT ``apig_url`` cases: a random whole URL (dot segments,
      default ports, fragments, percent escapes, raw non-ASCII, repeated and
      empty parameters), split here as an HTTP client puts it on the wire
      (stdlib ``urllib.parse`` + RFC 3986 5.2.4 dot-segment removal +
      ``parse_qsl``; docs/SCHEMES.md S6 "Signing a whole URL") and signed by
      the SDK from those parts: fields method, url, headers, body, ak, sk,
      host, path, query, authorization. Every skin's URL signer must give
      the same Authorization for ``url``.

The ``headers`` field records the headers handed to the SDK, not the ones the
SDK adds (Host, X-Sdk-Content-Sha256, Authorization).
"""

import hashlib
import json
import random
import sys

from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.sdk_request import SdkRequest
from huaweicloudsdkcore.signer.signer import Signer
from huaweicloudsdkcore.utils import six_utils as six

EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

FIELDS = ("kind", "method", "host", "path", "query", "headers", "body", "ak", "sk",
          "authorization", "canonical_query")


def sdk_sign(method, host, path, query, headers, body, ak, sk):
    """Returns (Authorization header, canonical query) as produced by the SDK."""
    request = SdkRequest(
        method=method,
        schema="https",
        host=host,
        resource_path=path,
        query_params=[(name, value) for name, value in query],
        header_params=dict(headers),  # the SDK mutates it: hand it a copy
        body=body,
    )
    canonical_query = Signer.process_canonical_query_string(request)
    Signer(BasicCredentials(ak, sk)).sign(request)
    return request.header_params["Authorization"], canonical_query


# ---------------------------------------------------------------------------
# gen
# ---------------------------------------------------------------------------

ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

HOSTS = [
    "mkt.myhuaweicloud.com", "mkt-intl.myhuaweicloud.com", "mkt.myhuaweicloud.com:443",
    "127.0.0.1:8443", "localhost:8080", "[::1]:8443", "MKT.MyHuaweiCloud.com",
    "service.endpoint.myhuaweicloud.com", "example.huaweicloud.com:80",
]

# Path segments. '/' inside an item makes extra (possibly empty) segments.
PATH_PIECES = [
    "中文", "😀", "𝄞", "é", "a b", "a  b", " ", "a+b", "!'()", "*", "~-._", "-", "_", ".", "..",
    "&=?", "#", ":@", ";,", "$", "[]", "{}", "|", "^", "`", "\"", "<>", "\\",
    "/tmp/x", "//", "api/mkp-openapi-public/global/v1/order/query",
    # percent escapes already present: the SDK decodes them first
    "%41", "%2F", "%2f", "%20", "%25", "%2B", "%7E", "%E4%B8%AD", "%c3%a9", "%F0%9F%98%80", "100%25",
]
PATH_QUIRKS = ["%zz", "%", "%E4", "%C3x", "%%41", "%FF"]  # invalid escapes / bad UTF-8

QUERY_NAMES = [
    "limit", "offset", "marker", "orderId", "orderLineId", "eventId", "a", "A", "B", "b", "_", "~",
    "a b", "a+b", "%41", "x=y", "&", "中文", "😀", "é",
    # raw vs percent-encoded order differ for these
    "k.", "k/", "k0", "k:", "kZ", "k[", "k_", "k`", "kz", "k{", "k~", "k中", "k😀", "k\uFFFD", "k",
    "K", "k-", "k!", "k ",
]
QUERY_VALUES = [
    "", "", "/tmp/x", "a b", "a+b", "&=?", "!'()", "*", "~-._", "%41", "%", "100%", "中文", "😀",
    "é", "1", "true", "x/y?z#f", "a=b&c=d", " lead", "trail ", "\t", "\n", "[1,2]", "{}",
    "k.", "k/", "k~", "k中", "k\uFFFD", "k😀",
]

CONTENT_TYPES = [
    "application/json", "application/json", "application/json;charset=UTF-8",
    "application/json; charset=utf-8", "application/json-patch+json", "application/bson",
    "text/plain", "text/plain; charset=utf-8", "multipart/form-data; boundary=----koosign1234",
    "application/x-www-form-urlencoded", "application/octet-stream", "Application/JSON",
    " application/json",
]

EXTRA_HEADER_NAMES = [
    "X-Request-Id", "x-request-id", "X-REQUEST-ID", "Accept", "accept-language", "User-Agent",
    "X-Language", "X-Domain-Id", "x-Custom-Header", "X-Trace", "Content-MD5", "If-Match", "X-A",
    "a", "Z-Last",
]
UNDERSCORE_HEADER_NAMES = ["X_Custom_Header", "x_sdk_thing", "X-Under_Score", "_"]

HEADER_VALUES = [
    "", "  ", "value", "a  b", " spaced ", "\tTabbed\t", "application/json", "*/*", "zh-cn",
    "UPPER lower", "a,b;c=d", "\"quoted\"", "中文", "é", "😀",
]
UNICODE_WS = ["\u3000", "\u00a0", "\u001f", "\u0085", "\u2003", "\u000b", "\u000c"]


def alnum(r, n):
    return "".join(r.choice(ALNUM) for _ in range(n))


def sdk_date(r):
    year = r.randint(2000, 2030)
    return "%04d%02d%02dT%02d%02d%02dZ" % (
        year, r.randint(1, 12), r.randint(1, 28), r.randint(0, 23), r.randint(0, 59), r.randint(0, 59))


def gen_path(r, quirks):
    if r.random() < 0.08:
        return "/"
    segs = []
    for _ in range(r.randint(1, 5)):
        x = r.random()
        if x < 0.4:
            segs.append(alnum(r, r.randint(1, 8)))
        elif quirks and x < 0.5:
            segs.append(r.choice(PATH_QUIRKS) + r.choice(["", alnum(r, 2)]))
        else:
            segs.append(r.choice(PATH_PIECES))
    path = "/" + "/".join(segs)
    y = r.random()
    if y < 0.15:
        path += "/"
    elif y < 0.2:
        path = "/" + path
    elif quirks and y < 0.25:
        path = path[1:] or "x"  # no leading slash
    return path


def gen_query(r, quirks):
    if r.random() < 0.15:
        return []
    pairs = []
    for _ in range(r.randint(1, 7)):
        name = alnum(r, r.randint(1, 6)) if r.random() < 0.3 else r.choice(QUERY_NAMES)
        if quirks and r.random() < 0.05:
            name = ""
        value = alnum(r, r.randint(1, 10)) if r.random() < 0.3 else r.choice(QUERY_VALUES)
        pairs.append([name, value])
    if r.random() < 0.35:  # repeated names, sometimes with identical values
        for _ in range(r.randint(1, 3)):
            name, value = r.choice(pairs)
            if r.random() < 0.7:
                value = r.choice(QUERY_VALUES)
            pairs.insert(r.randint(0, len(pairs)), [name, value])
    return pairs


def header_value(r, quirks):
    v = r.choice(HEADER_VALUES) if r.random() < 0.6 else alnum(r, r.randint(1, 24))
    if quirks and r.random() < 0.3:
        v = r.choice(UNICODE_WS) + v + r.choice(UNICODE_WS)
    return v


def gen_body(r, method, content_type):
    if method in ("GET", "DELETE") and r.random() < 0.8:
        return ""
    if r.random() < 0.12:
        return r.choice(["", " ", "\n", "{}"])
    if content_type and content_type.startswith("multipart/"):
        return ("------koosign1234\r\nContent-Disposition: form-data; name=\"file\"; "
                "filename=\"报告.txt\"\r\n\r\n" + alnum(r, r.randint(0, 30)) + " 中文\r\n------koosign1234--\r\n")
    if content_type and content_type.startswith("text/"):
        return r.choice(["hello", "中文 text", "a=b&c=d", "line1\nline2\n", "😀"]) + alnum(r, r.randint(0, 10))
    note = r.choice(["中文", "😀", "é", "a b", "!'()", "%41", "\\\"quoted\\\"", "\\u4e2d", "line\\nbreak", "", "~"])
    body = '{"orderId":"%s","note":"%s"}' % (alnum(r, r.randint(5, 20)), note)
    if r.random() < 0.3:
        body = '{\n  "orderId": "%s",\n  "items": [1, 2, 3],\n  "note": "%s"\n}\n' % (alnum(r, 10), note)
    return body


def add_header(headers, name, value, quirks):
    """Adds a header; without --quirks never two names that differ only in case
    (the SDK would sign the lower-cased name twice)."""
    if not quirks and any(k.lower() == name.lower() for k in headers):
        return
    headers[name] = value


def sdk_adds_unsigned_payload(headers):
    ct = headers.get("Content-Type")  # exact key, as the SDK does
    return bool(ct) and not ct.startswith("application/json") and not ct.startswith("application/bson")


def gen_case(r, quirks):
    method = r.choice(["GET", "POST", "PUT", "DELETE", "PATCH"])
    if quirks and r.random() < 0.05:
        method = method.lower()
    host = r.choice(HOSTS)
    path = gen_path(r, quirks)
    query = gen_query(r, quirks)

    headers = {}
    date_key = "X-Sdk-Date" if r.random() < 0.93 else r.choice(["x-sdk-date", "X-SDK-DATE"])
    headers[date_key] = sdk_date(r)
    content_type = None
    if r.random() < (0.7 if method in ("POST", "PUT", "PATCH") else 0.2):
        content_type = r.choice(CONTENT_TYPES)
        ct_key = "Content-Type"
        if quirks and r.random() < 0.3:
            ct_key = "content-type"  # the SDK only looks at the exact key "Content-Type"
        headers[ct_key] = content_type
    if r.random() < 0.3:
        headers["X-Project-Id"] = r.choice(["  ", " ", "\t", ""]) + alnum(r, 32) + r.choice([" ", "  ", "\t", ""])
    for _ in range(r.choice([0, 0, 1, 1, 2, 3])):
        add_header(headers, r.choice(EXTRA_HEADER_NAMES), header_value(r, quirks), quirks)
    if r.random() < 0.15:
        add_header(headers, r.choice(UNDERSCORE_HEADER_NAMES), header_value(r, quirks), quirks)
    if r.random() < 0.05:
        add_header(headers, r.choice(["Host", "host"]),
                   r.choice([host, "api.other.example:9443", " " + host + " "]), quirks)
    content_hash_key = None
    if r.random() < 0.05 and (quirks or not sdk_adds_unsigned_payload(headers)):
        # a caller-supplied payload hash replaces SHA-256(body) (only for a non-empty body);
        # its value is set once the body is known (below)
        content_hash_key = r.choice(["X-Sdk-Content-Sha256", "x-sdk-content-sha256"])
        add_header(headers, content_hash_key, r.choice(["UNSIGNED-PAYLOAD", "<real>"]), quirks)
    if quirks and r.random() < 0.1:
        # two keys differing only in case: the SDK signs the lower-cased name twice
        name = r.choice(["X-Dup", "X-Request-Id"])
        headers[name] = header_value(r, quirks)
        headers[name.lower()] = header_value(r, quirks)

    body = gen_body(r, method.upper(), content_type)
    if content_hash_key is not None and headers.get(content_hash_key) == "<real>":
        # docs/SCHEMES.md S6 (decision): a verifier accepts a signed
        # X-Sdk-Content-Sha256 only when it is UNSIGNED-PAYLOAD or the body's
        # real SHA-256; --quirks also sends the hash of the empty body.
        real = hashlib.sha256(body.encode("utf-8")).hexdigest()
        headers[content_hash_key] = EMPTY_SHA256 if quirks and r.random() < 0.5 else real

    ak = alnum(r, 20)
    sk = alnum(r, 40) if r.random() < 0.7 else "".join(
        r.choice(ALNUM + "+/=-_!中") for _ in range(r.randint(1, 100)))

    authorization, canonical_query = sdk_sign(method, host, path, query, headers, body, ak, sk)
    if not quirks:
        check_positive(authorization, headers)
    values = ("apig", method, host, path, query, headers, body, ak, sk, authorization, canonical_query)
    return dict(zip(FIELDS, values))


def check_positive(authorization, headers):
    """Without --quirks every case must verify under docs/SCHEMES.md S6:
    SignedHeaders include host and x-sdk-date, and no signed header name is
    given twice (in any case)."""
    signed = authorization.split("SignedHeaders=", 1)[1].split(",", 1)[0].split(";")
    if "host" not in signed or "x-sdk-date" not in signed:
        raise AssertionError("SignedHeaders lack host or x-sdk-date: %r" % authorization)
    names = [n.lower() for n in headers if n.lower() in signed]
    if len(names) != len(set(names)):
        raise AssertionError("a signed header is given twice: %r" % sorted(headers))


def gen(seed, count, quirks):
    r = random.Random(seed)
    out = sys.stdout
    for _ in range(count):
        out.write(json.dumps(gen_case(r, quirks), ensure_ascii=False))
        out.write("\n")


def sdk_stages(method, host, path, query, headers, body, ak, sk, signed_headers=None):
    """The SDK's intermediates, taken from its own Signer methods in the order
    ``Signer.sign`` calls them. ``signed_headers`` (lower-case names) replaces
    the SDK's choice of signed headers (every header without ``_``); without
    it the result is checked against ``Signer.sign`` itself."""
    request = SdkRequest(method=method, schema="https", host=host, resource_path=path,
                         query_params=[(name, value) for name, value in query],
                         header_params=dict(headers), body=body)
    given = set(request.header_params)
    canonical_query = Signer.process_canonical_query_string(request)
    signer = Signer(BasicCredentials(ak, sk))
    signer._verify_required()
    if isinstance(request.body, str):
        request.body = six.ensure_binary(request.body)
    signer._process_content_header(request)
    t = signer._process_header_time(request)
    if signed_headers is None:
        signer._process_header_host(request)
        names = signer._process_signed_headers(request)
    else:
        names = list(signed_headers)
    canonical_request = signer._process_canonical_request(request, names)
    string_to_sign = signer._process_string_to_sign(canonical_request, t)
    signature = signer._sign_string_to_sign(string_to_sign, sk)
    authorization = signer._process_auth_header_value(signature, ak, names)
    added = {k: v for k, v in request.header_params.items() if k not in given}
    added["Authorization"] = authorization
    if signed_headers is None:
        auth, cq = sdk_sign(method, host, path, query, headers, body, ak, sk)
        if (auth, cq) != (authorization, canonical_query):
            raise AssertionError("the Signer methods disagree with Signer.sign: %r / %r" % (auth, authorization))
    return {
        "canonical_query": canonical_query,
        "canonical_request": canonical_request,
        "string_to_sign": string_to_sign,
        "signature": signature,
        "authorization": authorization,
        "added_headers": added,
    }


STAGE_FIELDS = ("canonical_query", "canonical_request", "string_to_sign", "signature", "authorization")


def stage_case(r):
    while True:
        case = gen_case(r, False)
        content = [v for k, v in case["headers"].items() if k.lower() == "x-sdk-content-sha256"]
        if any(v != "UNSIGNED-PAYLOAD" for v in content):
            continue  # a signed hash that is not the body's: refused under S6 (an invalid case)
        st = sdk_stages(case["method"], case["host"], case["path"], case["query"], case["headers"],
                        case["body"], case["ak"], case["sk"])
        out = {k: case[k] for k in ("method", "host", "path", "query", "headers", "body", "ak", "sk")}
        out = dict([("kind", "apig_stages")] + list(out.items()))
        for k in STAGE_FIELDS:
            out[k] = st[k]
        return out


def stages(seed, count):
    r = random.Random("apig_stages:%d" % seed)
    for _ in range(count):
        sys.stdout.write(json.dumps(stage_case(r), ensure_ascii=False))
        sys.stdout.write("\n")


def check_stages(case):
    st = sdk_stages(case["method"], case["host"], case["path"], case["query"], case["headers"],
                    case["body"], case["ak"], case["sk"])
    return ["%s: file %r / sdk %r" % (k, case[k], st[k]) for k in STAGE_FIELDS if st[k] != case[k]]


def sign(name):
    fh = sys.stdin if name == "-" else open(name, encoding="utf-8")
    with fh:
        for line in fh:
            if not line.strip():
                continue
            c = json.loads(line)
            st = sdk_stages(c["method"], c["host"], c["path"], c["query"], c["headers"], c["body"],
                            c["ak"], c["sk"], c.get("signed_headers"))
            st["id"] = c["id"]
            sys.stdout.write(json.dumps(st, ensure_ascii=False))
            sys.stdout.write("\n")


# ---------------------------------------------------------------------------
# check
# ---------------------------------------------------------------------------

def check(files):
    passed = failed = skipped = 0
    for name in files:
        fh = sys.stdin if name == "-" else open(name, encoding="utf-8")
        with fh:
            for line_no, line in enumerate(fh, 1):
                if not line.strip():
                    continue
                where = "%s:%d" % (name, line_no)
                try:
                    case = json.loads(line)
                except ValueError as e:
                    print("%s: bad JSON: %s" % (where, e), file=sys.stderr)
                    failed += 1
                    continue
                if case.get("kind") == "apig_stages":
                    try:
                        errs = check_stages(case)
                    except Exception as e:  # noqa: BLE001 - report and go on
                        errs = ["SDK raised %r" % (e,)]
                    if errs:
                        failed += 1
                        print("%s: %s" % (where, "; ".join(errs)), file=sys.stderr)
                    else:
                        passed += 1
                    continue
                if case.get("kind") != "apig":
                    skipped += 1
                    continue
                try:
                    auth, cq = sdk_sign(case["method"], case["host"], case["path"], case["query"],
                                        case["headers"], case["body"], case["ak"], case["sk"])
                except Exception as e:  # noqa: BLE001 - report and go on
                    print("%s: SDK raised %r" % (where, e), file=sys.stderr)
                    failed += 1
                    continue
                errs = []
                if auth != case["authorization"]:
                    errs.append("authorization: file %r / sdk %r" % (case["authorization"], auth))
                if cq != case["canonical_query"]:
                    errs.append("canonical_query: file %r / sdk %r" % (case["canonical_query"], cq))
                if errs:
                    failed += 1
                    print("%s: %s" % (where, "; ".join(errs)), file=sys.stderr)
                else:
                    passed += 1
    tail = ", %d skipped" % skipped if skipped else ""
    print("%d passed, %d failed%s" % (passed, failed, tail))
    return failed == 0


# ---------------------------------------------------------------------------
# urls: whole URLs, split as clients send them, signed by the SDK
# ---------------------------------------------------------------------------

URL_SCHEMES = ["https", "http", "HTTPS", "Http"]
URL_HOSTS = ["mkt.myhuaweicloud.com", "MKT.MyHuaweiCloud.com", "127.0.0.1", "localhost", "[::1]",
             "service.endpoint.myhuaweicloud.com"]
URL_PORTS = ["", "", ":443", ":80", ":8443", ":0443", ":080"]
URL_SEGMENTS = ["a", "b", "api", "mkp-openapi-public", "global", "v1", ".", "..", ".", "..", "%41", "%E4%B8%AD",
                "\u00e9", "\u4e2d\u6587", "a b", "~-._", "%2F", "%25", "!'()*", "a+b", "", "%20", "x.y", "...",
                "\U0001F600", ":@", "$&=;,"]
URL_NAMES = ["orderId", "orderLineId", "x", "a b", "\u00e9", "%E4%B8%AD", "+", "%2B", "k", "K", "%41", "/?:@"]
URL_VALUES = ["", "", "1", "CS2211181819B4LVS", "a b", "a+b", "%2B", "\u00e9", "%E4%B8%AD", "/?:@", "x=y", "'", "~"]
URL_FRAGMENTS = ["", "", "#", "#frag", "#a?b=c&d", "#/x/../y"]


def remove_dot_segments(path):
    """RFC 3986 section 5.2.4, as the RFC writes it."""
    out = []
    inp = path
    while inp:
        if inp.startswith("../"):
            inp = inp[3:]
        elif inp.startswith("./"):
            inp = inp[2:]
        elif inp.startswith("/./"):
            inp = "/" + inp[3:]
        elif inp == "/.":
            inp = "/"
        elif inp.startswith("/../"):
            inp = "/" + inp[4:]
            if out:
                out.pop()
        elif inp == "/..":
            inp = "/"
            if out:
                out.pop()
        elif inp in (".", ".."):
            inp = ""
        else:
            i = inp.find("/", 1)
            seg = inp if i < 0 else inp[:i]
            out.append(seg)
            inp = "" if i < 0 else inp[i:]
    return "".join(out)


def client_split(url):
    """(host, path, query pairs) as an HTTP client sends ``url``."""
    from urllib.parse import parse_qsl, urlsplit
    u = urlsplit(url)
    scheme = u.scheme.lower()
    netloc = u.netloc.lower()
    host, port = netloc, None
    if netloc.startswith("["):
        end = netloc.index("]")
        host, rest = netloc[:end + 1], netloc[end + 1:]
        port = rest[1:] if rest.startswith(":") else None
    elif ":" in netloc:
        host, port = netloc.split(":", 1)
    if port:
        n = int(port)
        if n != {"https": 443, "http": 80}[scheme]:
            host = "%s:%d" % (host, n)
    path = remove_dot_segments(u.path) or "/"
    query = parse_qsl(u.query, keep_blank_values=True)
    return host, path, query


def gen_url(r):
    url = r.choice(URL_SCHEMES) + "://" + r.choice(URL_HOSTS) + r.choice(URL_PORTS)
    for _ in range(r.randint(0, 6)):
        url += "/" + r.choice(URL_SEGMENTS)
    if r.random() < 0.8:
        parts = []
        for _ in range(r.randint(0, 5)):
            name = r.choice(URL_NAMES)
            parts.append(name if r.random() < 0.15 else name + "=" + r.choice(URL_VALUES))
            if r.random() < 0.1:
                parts.append("")  # `&&`
        url += "?" + "&".join(parts)
    return url + r.choice(URL_FRAGMENTS)


def urls(seed, count):
    r = random.Random(seed)
    for i in range(count):
        url = gen_url(r)
        method = r.choice(["GET", "GET", "POST", "DELETE", "PUT"])
        body = "" if method in ("GET", "DELETE") else json.dumps({"orderId": alnum(r, 8), "n": i})
        headers = {"X-Sdk-Date": sdk_date(r)}
        if body:
            headers["Content-Type"] = "application/json"
        ak, sk = alnum(r, 20), alnum(r, 40)
        host, path, query = client_split(url)
        authorization, _ = sdk_sign(method, host, path, query, headers, body, ak, sk)
        case = {"kind": "apig_url", "method": method, "url": url, "headers": headers, "body": body, "ak": ak,
                "sk": sk, "host": host, "path": path, "query": query, "authorization": authorization}
        sys.stdout.write(json.dumps(case, ensure_ascii=False) + "\n")


def main(argv):
    if sys.stdout.encoding.lower().replace("-", "") != "utf8":
        sys.stdout.reconfigure(encoding="utf-8")
    if len(argv) >= 3 and argv[0] == "gen" and set(argv[3:]) <= {"--quirks"}:
        gen(int(argv[1]), int(argv[2]), "--quirks" in argv[3:])
        return 0
    if len(argv) >= 2 and argv[0] == "check":
        return 0 if check(argv[1:]) else 1
    if len(argv) == 3 and argv[0] == "stages":
        stages(int(argv[1]), int(argv[2]))
        return 0
    if len(argv) == 2 and argv[0] == "sign":
        sign(argv[1])
        return 0
    if len(argv) == 3 and argv[0] == "urls":
        urls(int(argv[1]), int(argv[2]))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
