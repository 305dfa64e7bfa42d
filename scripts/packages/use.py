"""Run by scripts/test-packages.sh with the python of each fresh venv (sdist,
wheel, `pip install ./bindings-python`): the installed koosign verifies the
V2 example of the scheme description, refuses its replay and a tampered body,
and signs a response. Exit status 0 when all of it holds."""
import sys

import koosign

KEY = "testAccessKey123"
BODY = (b'{"activity":"newInstance","businessId":"87b94795-0603-4e24-8ae5-69420d60e3c8",'
        b'"orderId":"CS2211181819B4LVS","orderLineId":"CS2211181819B4LVS-000001","testFlag":"1"}')
QUERY = ("signature=CD8D59BB7FCF7574752B5EB0ED04B3ACF4A759DA53F24D30A79ABE45C5D1BA25&timestamp=1680508066618"
         "&nonce=50D83FDECAED6CCD8EF597F2A577950527928BA287D04E6036E92B2806FD17DA")
NOW = 1680508070.0  # seconds: 4 s after the notification's timestamp

assert koosign.__file__.startswith(sys.prefix), f"koosign imported from {koosign.__file__}, not from {sys.prefix}"

store = koosign.InMemoryNonceStore()
n = koosign.verify_v2(QUERY, BODY, KEY, now=NOW, nonce_store=store)
assert n.json()["activity"] == "newInstance"
assert (n.key_index, n.timestamp_ms, n.body) == (0, 1680508066618, BODY)
try:
    koosign.verify_v2(QUERY, BODY, KEY, now=NOW + 1, nonce_store=store)
    raise AssertionError("a replayed notification verified")
except koosign.ReplayedNonce:
    pass
try:
    koosign.verify_v2(QUERY, BODY.replace(b'"testFlag":"1"', b'"testFlag":"0"'), KEY, now=NOW)
    raise AssertionError("a tampered body verified")
except koosign.SignatureMismatch:
    pass
header = koosign.body_sign(b'{"resultCode":"000000","resultMsg":"success."}', KEY)
assert header == 'sign_type="HMAC-SHA256", signature="CPIAbI6A1/GrF70YmPEaCgm5WaxUkts5hjQRqqpZv3s="', header
print(f"koosign {koosign.__version__} from {koosign.__file__}: notification verified, replay and tampering refused, response signed")
