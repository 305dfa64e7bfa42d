//! Issue 11: the forgery and replay attacks of the review, performed through
//! the public API against captured genuine requests (no key), each refused
//! with its specific error. One section per finding:
//!
//! * S2/S2b replay by moving a digit between nonce and timestamp (finding 2);
//!   the S2b digit between `x-timestamp` and body; the nonce shape.
//! * S5 nonce/body boundary (finding 6).
//! * S6 body swap through `X-Sdk-Content-Sha256`, unsigned host/date,
//!   repeated headers and attributes (finding 1).
//! * S3 Body-Sign junk accepted by the parser (finding 11).
//!
//! The rules are SCHEMES.md's (decision) marks in S2, S3, S5 and S6.

use koosign::*;
use koosign::{Freshness, Replay};

const KEY: &str = "testAccessKey123";
const BODY: &[u8] = br#"{"activity":"newInstance","businessId":"87b94795-0603-4e24-8ae5-69420d60e3c8","orderId":"CS2211181819B4LVS","orderLineId":"CS2211181819B4LVS-000001","testFlag":"1"}"#;
const TS: &str = "1680508066618";
const TS_MS: u64 = 1_680_508_066_618;

// ---------------------------------------------------------------- S2 / S2b

/// Finding 2: the signed string `key + nonce + timestamp + …` has no
/// separator, so nonce `…170` with timestamp `1680508066618` and nonce
/// `…17` with `01680508066618` carry the same signature. The shifted copy
/// is a "new" nonce to the store; it must be refused as a bad timestamp
/// before the store is consulted (the store does not change).
#[test]
fn s2_digit_shift_replay_is_a_bad_timestamp() {
    let nonce = "50D83FDECAED6CCD8EF597F2A577950527928BA287D04E6036E92B2806FD170";
    let shifted_nonce = &nonce[..nonce.len() - 1]; // "…17"
    let shifted_ts = "01680508066618";
    for scheme in [V2Scheme::Query, V2Scheme::Headers] {
        let sig = sign_v2(scheme, BODY, KEY, nonce, TS).unwrap();
        // The attack is real: the shifted request carries the same signature.
        assert_eq!(sign_v2(scheme, BODY, KEY, shifted_nonce, shifted_ts).unwrap(), sig);

        let mut store = NonceCache::<8>::new();
        let f = Freshness::new(TS_MS + 1_000);
        let genuine = V2Auth { signature: sig.as_str(), timestamp: TS, nonce };
        verify_v2(scheme, &genuine, BODY, &[KEY], f, Replay::Store(&mut store)).unwrap();
        assert_eq!(store.len(), 1);
        // A byte-for-byte replay is a replay …
        assert_eq!(verify_v2(scheme, &genuine, BODY, &[KEY], f, Replay::Store(&mut store)).unwrap_err(), Error::ReplayedNonce);
        // … and the digit-shifted one is a bad timestamp, store untouched.
        let replay = V2Auth { signature: sig.as_str(), timestamp: shifted_ts, nonce: shifted_nonce };
        assert_eq!(verify_v2(scheme, &replay, BODY, &[KEY], f, Replay::Store(&mut store)).unwrap_err(), Error::BadTimestamp);
        assert_eq!(store.len(), 1);
        assert!(!store.contains(shifted_nonce.as_bytes(), TS_MS));
        // Also into an empty store: it stays empty.
        let mut empty = NonceCache::<8>::new();
        assert_eq!(verify_v2(scheme, &replay, BODY, &[KEY], f, Replay::Store(&mut empty)).unwrap_err(), Error::BadTimestamp);
        assert!(empty.is_empty());
    }
}

/// Every timestamp shape other than 13 digits without a leading zero is
/// refused, genuinely signed or not: leading zeros, 12 and 14 digits, the
/// 19 digits the old parser allowed.
#[test]
fn s2_timestamp_shapes() {
    let nonce = "n0nce";
    for ts in ["0680508066618", "01680508066618", "168050806661", "16805080666180", "0001680508066618", "1680508066618000000", "0"] {
        for scheme in [V2Scheme::Query, V2Scheme::Headers] {
            let sig = sign_v2(scheme, BODY, KEY, nonce, ts).unwrap();
            let auth = V2Auth { signature: sig.as_str(), timestamp: ts, nonce };
            let mut store = NonceCache::<2>::new();
            assert_eq!(verify_v2(scheme, &auth, BODY, &[KEY], Freshness::Unchecked, Replay::Store(&mut store)).unwrap_err(), Error::BadTimestamp, "{ts}");
            assert!(store.is_empty());
        }
    }
}

/// The nonce is 1–256 printable ASCII characters without space: a space,
/// a control character or non-ASCII text is malformed (a nonce with a
/// trailing space and one without would be different store entries with
/// different signatures, but HTTP layers strip such spaces).
#[test]
fn s2_nonce_shapes() {
    for bad in ["n nce", "nonce ", " nonce", "n\tnce", "n\u{7f}", "nonce\n", "nönce", "随机"] {
        let sig = sign_v2(V2Scheme::Query, BODY, KEY, bad, TS).unwrap();
        let auth = V2Auth { signature: sig.as_str(), timestamp: TS, nonce: bad };
        assert_eq!(
            verify_v2(V2Scheme::Query, &auth, BODY, &[KEY], Freshness::Unchecked, Replay::Unchecked).unwrap_err(),
            Error::MalformedEncoding("nonce must be printable ASCII"),
            "{bad:?}"
        );
    }
    let auth = V2Auth { signature: "00", timestamp: TS, nonce: "" };
    assert_eq!(verify_v2(V2Scheme::Query, &auth, BODY, &[KEY], Freshness::Unchecked, Replay::Unchecked).unwrap_err(), Error::MissingParameter("nonce"));
    assert_eq!(verify_v2(V2Scheme::Headers, &auth, BODY, &[KEY], Freshness::Unchecked, Replay::Unchecked).unwrap_err(), Error::MissingParameter("x-nonce"));
    let long = "~".repeat(koosign::v2::MAX_NONCE_LEN + 1);
    let auth = V2Auth { signature: "00", timestamp: TS, nonce: &long };
    assert_eq!(verify_v2(V2Scheme::Query, &auth, BODY, &[KEY], Freshness::Unchecked, Replay::Unchecked).unwrap_err(), Error::InputTooLarge { limit: 256 });
    // The whole printable range, at the maximum length, verifies.
    let all: String = (0x21u8..=0x7e).map(char::from).cycle().take(koosign::v2::MAX_NONCE_LEN).collect();
    let sig = sign_v2(V2Scheme::Query, BODY, KEY, &all, TS).unwrap();
    let auth = V2Auth { signature: sig.as_str(), timestamp: TS, nonce: &all };
    assert!(verify_v2(V2Scheme::Query, &auth, BODY, &[KEY], Freshness::Unchecked, Replay::Unchecked).is_ok());
}

/// S2b signs `key + nonce + x-timestamp + body`: with a body starting with
/// a digit, that digit and the timestamp's can slide (nonce `n`, ts
/// `1680508066618`, body `5…` signs the same bytes as nonce `n1`, ts
/// `6805080666185`, body `…`). Such a body is refused as ambiguous before
/// the MAC and the store.
#[test]
fn s2b_kit_body_starting_with_a_digit_is_ambiguous() {
    let body = b"5{\"a\":\"b\"}";
    let sig = sign_v2(V2Scheme::Headers, body, KEY, "n", TS).unwrap();
    // The slide is real: the same signature for the shifted split.
    assert_eq!(sign_v2(V2Scheme::Headers, &body[1..], KEY, "n1", "6805080666185").unwrap(), sig);
    let auth = V2Auth { signature: sig.as_str(), timestamp: TS, nonce: "n" };
    let mut store = NonceCache::<2>::new();
    assert_eq!(
        verify_v2(V2Scheme::Headers, &auth, body, &[KEY], Freshness::Unchecked, Replay::Store(&mut store)).unwrap_err(),
        Error::Ambiguous("kit body starts with a digit")
    );
    assert!(store.is_empty());
    // The other direction: from a genuine `n1` / `6805080666185` / `{…`
    // request, a shift that hands the digit to the body is refused too.
    let genuine = sign_v2(V2Scheme::Headers, &body[1..], KEY, "n1", "6805080666185").unwrap();
    let moved = V2Auth { signature: genuine.as_str(), timestamp: TS, nonce: "n" };
    assert_eq!(
        verify_v2(V2Scheme::Headers, &moved, body, &[KEY], Freshness::Unchecked, Replay::Unchecked).unwrap_err(),
        Error::Ambiguous("kit body starts with a digit")
    );
    // S2 (basic) signs the inner hex MAC, not the body: a digit there is fine.
    let sig = sign_v2(V2Scheme::Query, body, KEY, "n", TS).unwrap();
    let auth = V2Auth { signature: sig.as_str(), timestamp: TS, nonce: "n" };
    assert!(verify_v2(V2Scheme::Query, &auth, body, &[KEY], Freshness::Unchecked, Replay::Unchecked).is_ok());
    // Kit bodies that start with `{` verify.
    for ok in [&b"{}"[..], b"{\"a\":\"b\"}", b"{\"activity\":\"newInstance\"}"] {
        let sig = sign_v2(V2Scheme::Headers, ok, KEY, "n", TS).unwrap();
        let auth = V2Auth { signature: sig.as_str(), timestamp: TS, nonce: "n" };
        assert!(verify_v2(V2Scheme::Headers, &auth, ok, &[KEY], Freshness::Unchecked, Replay::Unchecked).is_ok());
    }
}

/// The S2b residual found while writing docs/SECURITY.md: a genuine kit body
/// holding a 13-digit run lets the old nonce, timestamp and body prefix
/// become a "new" nonce, the run the timestamp, and the rest the body — the
/// same signed bytes. A kit body must start with `{` and a kit nonce must not
/// contain one, so it is refused as ambiguous before the MAC and the store
/// (docs/SCHEMES.md §S2b). The same run inside a genuine nonce cannot move
/// into the timestamp either: the body would then start inside the nonce.
#[test]
fn s2b_kit_body_with_a_timestamp_run_cannot_be_resplit() {
    let body = br#"{"activity":"newInstance","sentAt":"1680508066619","orderId":"CS1"}"#;
    let sig = sign_v2(V2Scheme::Headers, body, KEY, "n", TS).unwrap();
    let at = body.windows(13).position(|w| w == b"1680508066619").unwrap();
    let mut nonce = String::from("n");
    nonce.push_str(TS);
    nonce.push_str(core::str::from_utf8(&body[..at]).unwrap());
    let rest = &body[at + 13..];
    // The attack is real: the same signature for the re-split request.
    assert_eq!(sign_v2(V2Scheme::Headers, rest, KEY, &nonce, "1680508066619").unwrap(), sig);
    let genuine = V2Auth { signature: sig.as_str(), timestamp: TS, nonce: "n" };
    let resplit = V2Auth { signature: sig.as_str(), timestamp: "1680508066619", nonce: &nonce };
    let mut store = NonceCache::<4>::new();
    let now = Freshness::new(1_680_508_066_620);
    assert!(verify_v2(V2Scheme::Headers, &genuine, body, &[KEY], now, Replay::Store(&mut store)).is_ok());
    assert_eq!(
        verify_v2(V2Scheme::Headers, &resplit, rest, &[KEY], now, Replay::Store(&mut store)).unwrap_err(),
        Error::Ambiguous("kit body must start with `{`")
    );
    // Had the rest started with `{`, the nonce (holding the old body's `{`)
    // would be refused.
    let resplit = V2Auth { signature: sig.as_str(), timestamp: "1680508066619", nonce: &nonce };
    assert_eq!(
        verify_v2(V2Scheme::Headers, &resplit, b"{}", &[KEY], now, Replay::Store(&mut store)).unwrap_err(),
        Error::Ambiguous("kit nonce contains `{`")
    );
    assert_eq!(store.len(), 1, "the re-split request never reached the store");
    // From the nonce: `ab1680508066618Z` + `1700000000000` + `{…}` signs as
    // `ab` + `1680508066618` + `Z1700000000000{…}`.
    let body = br#"{"a":"b"}"#;
    let sig = sign_v2(V2Scheme::Headers, body, KEY, "ab1680508066618Z", "1700000000000").unwrap();
    let shifted = b"Z1700000000000{\"a\":\"b\"}";
    assert_eq!(sign_v2(V2Scheme::Headers, shifted, KEY, "ab", "1680508066618").unwrap(), sig, "the attack is real");
    let auth = V2Auth { signature: sig.as_str(), timestamp: "1680508066618", nonce: "ab" };
    assert_eq!(
        verify_v2(V2Scheme::Headers, &auth, shifted, &[KEY], Freshness::Unchecked, Replay::Unchecked).unwrap_err(),
        Error::Ambiguous("kit body must start with `{`")
    );
    // Bodies that do not start with `{` are refused the same way.
    for bad in [&b""[..], b"[]", b"\"x\"", b" {}", b"null"] {
        let sig = sign_v2(V2Scheme::Headers, bad, KEY, "n", TS).unwrap();
        let auth = V2Auth { signature: sig.as_str(), timestamp: TS, nonce: "n" };
        assert_eq!(
            verify_v2(V2Scheme::Headers, &auth, bad, &[KEY], Freshness::Unchecked, Replay::Unchecked).unwrap_err(),
            Error::Ambiguous("kit body must start with `{`"),
            "{:?}",
            core::str::from_utf8(bad)
        );
    }
}

// -------------------------------------------------------------------- S5

/// Finding 6: `ts=…&nonce=n1&body=&body=X` is both (nonce `n1`, body
/// `&body=X`) and (nonce `n1&body=`, body `X`). A nonce containing `&` is
/// refused as ambiguous.
#[test]
fn s5_nonce_body_boundary() {
    let sig = licence_sign(TS, "n1", b"&body=X", KEY).unwrap();
    assert_eq!(licence_sign(TS, "n1&body=", b"X", KEY).unwrap(), sig, "the attack is real");
    assert_eq!(verify_licence(TS, "n1", b"&body=X", sig.as_str(), &[KEY], Freshness::Unchecked).map(|v| v.key_index()), Ok(0));
    assert_eq!(
        verify_licence(TS, "n1&body=", b"X", sig.as_str(), &[KEY], Freshness::Unchecked),
        Err(Error::Ambiguous("licence nonce contains `&`"))
    );
    assert_eq!(verify_licence(TS, "&", b"", sig.as_str(), &[KEY], Freshness::Unchecked), Err(Error::Ambiguous("licence nonce contains `&`")));
    // Empty nonce; the S2 timestamp rule (a digit could move between
    // `ts` and `&nonce=` no more, but one shape for all schemes).
    assert_eq!(verify_licence(TS, "", b"", sig.as_str(), &[KEY], Freshness::Unchecked), Err(Error::MissingParameter("nonce")));
    for ts in ["01680508066618", "168050806661", "1680508066618000000", "", "1680508066618 "] {
        let s = licence_sign(ts, "n1", b"{}", KEY).unwrap();
        assert_eq!(verify_licence(ts, "n1", b"{}", s.as_str(), &[KEY], Freshness::Unchecked), Err(Error::BadTimestamp), "{ts:?}");
    }
}

// -------------------------------------------------------------------- S6

const AK: &str = "AccessKey";
const SK: &str = "SecretKey";
const HOST: &str = "mkt.myhuaweicloud.com";
const DATE: &str = "20240101T000000Z";
const DATE_MS: u64 = 1_704_067_200_000;
const CREDS: &[(&str, &str)] = &[(AK, SK)];

/// Signs with `sign_apig` and returns the headers as sent (given + added).
fn signed_headers<'a>(req: &ApigRequest<'a>, out: &'a mut [u8]) -> Vec<(&'a str, &'a str)> {
    let signed = sign_apig(req, AK, SK, None, out).unwrap();
    let mut h = req.headers.to_vec();
    h.extend(signed.headers_to_add.iter().map(|(n, v)| (*n, *v)));
    h
}

/// The body's hex SHA-256 as the signer puts it in the canonical request.
fn body_hash(body: &[u8]) -> String {
    let req = ApigRequest { method: "POST", host: HOST, path: "/", query: &[], headers: &[("X-Sdk-Date", DATE)], body };
    let mut out = [0u8; 1024];
    let s = sign_apig(&req, AK, SK, None, &mut out).unwrap();
    s.canonical_request.rsplit('\n').next().unwrap().to_owned()
}

const B1: &[u8] = br#"{"orderId":"CS1","amount":"1"}"#;
const B2: &[u8] = br#"{"orderId":"CS1","amount":"1000"}"#;

/// Finding 1a: sign a POST, swap the body, and add the original body's hash
/// as an *unsigned* `X-Sdk-Content-Sha256`. The header does not count
/// (it is not signed): the real hash of the new body is used.
#[test]
fn s6_body_swap_with_unsigned_content_sha256() {
    let h1 = body_hash(B1);
    assert_eq!(h1, "d170492d7d18fe87fe71c78770e41f7bb7f4e708446060e3303dea6f6746fb56");
    let given = [("X-Sdk-Date", DATE), ("Content-Type", "application/json")];
    let req = ApigRequest { method: "POST", host: HOST, path: "/api/x", query: &[], headers: &given, body: B1 };
    let mut out = [0u8; 2048];
    let mut sent = signed_headers(&req, &mut out);
    assert!(!sent.iter().any(|(n, _)| n.eq_ignore_ascii_case("x-sdk-content-sha256")));
    assert_eq!(verify_apig(&ApigRequest { headers: &sent, ..req }, CREDS, Freshness::Unchecked), Ok(ApigVerified { credential_index: 0, unsigned_payload: false }));
    // The attack.
    sent.push(("X-Sdk-Content-Sha256", &h1));
    let swapped = ApigRequest { headers: &sent, body: B2, ..req };
    assert_eq!(verify_apig(&swapped, CREDS, Freshness::Unchecked), Err(Error::SignatureMismatch));
    // Nor does an unsigned UNSIGNED-PAYLOAD switch the body check off.
    let last = sent.len() - 1;
    sent[last].1 = "UNSIGNED-PAYLOAD";
    assert_eq!(verify_apig(&ApigRequest { headers: &sent, body: B2, ..req }, CREDS, Freshness::Unchecked), Err(Error::SignatureMismatch));
    // With the original body the unsigned header is ignored: it verifies.
    assert_eq!(verify_apig(&ApigRequest { headers: &sent, body: B1, ..req }, CREDS, Freshness::Unchecked).map(|v| v.unsigned_payload), Ok(false));
}

/// Finding 1b: a *signed* `X-Sdk-Content-Sha256` whose value is not the
/// body's hash (after a body swap, or garbage from the start) is a mismatch.
#[test]
fn s6_signed_content_sha256_must_be_the_real_hash() {
    let h1 = body_hash(B1);
    let given = [("X-Sdk-Date", DATE), ("Content-Type", "application/json"), ("X-Sdk-Content-Sha256", h1.as_str())];
    let req = ApigRequest { method: "POST", host: HOST, path: "/api/x", query: &[], headers: &given, body: B1 };
    let mut out = [0u8; 2048];
    let sent = signed_headers(&req, &mut out);
    let ok = verify_apig(&ApigRequest { headers: &sent, ..req }, CREDS, Freshness::Unchecked);
    assert_eq!(ok, Ok(ApigVerified { credential_index: 0, unsigned_payload: false }));
    // Swap the body: the signed header no longer states its hash.
    assert_eq!(verify_apig(&ApigRequest { headers: &sent, body: B2, ..req }, CREDS, Freshness::Unchecked), Err(Error::SignatureMismatch));
    // A genuine signature over a signed header that was never the body's hash.
    for bogus in ["46a2c3ae644a60890076a1594591a266cfd6ad4203096319f0fecc185a6aeaee", "deadbeef", "unsigned-payload", "UNSIGNED-PAYLOAD."] {
        let given = [("X-Sdk-Date", DATE), ("Content-Type", "application/json"), ("X-Sdk-Content-Sha256", bogus)];
        let req = ApigRequest { headers: &given, ..req };
        let mut out = [0u8; 2048];
        let sent = signed_headers(&req, &mut out);
        assert_eq!(verify_apig(&ApigRequest { headers: &sent, ..req }, CREDS, Freshness::Unchecked), Err(Error::SignatureMismatch), "{bogus}");
    }
    // Huawei's SDK signer with an upper-case real hash in the header (it
    // signs the header's text): verifies.
    let b = br#"{"orderId":"CS1"}"#;
    let upper = body_hash(b).to_uppercase();
    assert_eq!(upper, "B5C9A2144B776908F99ECC9A9CBB827896DD84DD6BFE4FE7AA6C8CFE7DC5F26E");
    let sent = [
        ("X-Sdk-Date", DATE),
        ("Content-Type", "application/json"),
        ("X-Sdk-Content-Sha256", upper.as_str()),
        // huaweicloudsdkcore 3.1.219 for these headers and body.
        ("Authorization", "SDK-HMAC-SHA256 Access=AccessKey, SignedHeaders=content-type;host;x-sdk-content-sha256;x-sdk-date, Signature=62dd9952ec7ba4bbb78aa4f05c9f1c94b24cac36c14da0c203f40760bedb654c"),
    ];
    let req = ApigRequest { method: "POST", host: HOST, path: "/api/x", query: &[], headers: &sent, body: b };
    assert_eq!(verify_apig(&req, CREDS, Freshness::Unchecked), Ok(ApigVerified { credential_index: 0, unsigned_payload: false }));
}

const UPLOAD_PATH: &str = "/api/mkp-openapi-public/global/v1/market-event/EV1/file";
const MULTIPART_TYPE: &str = "multipart/form-data; boundary=XyZ";
const MULTIPART: &[u8] = b"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.txt\"\r\nContent-Type: text/plain\r\n\r\nhello\r\n--XyZ--\r\n";

/// A genuine multipart upload, as Huawei's Python SDK signs it (it adds a
/// signed `X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD` for a non-JSON content
/// type): it verifies, and says its body is not authenticated. For an empty
/// body the SDK hashes the empty body whatever the header says: that
/// verifies with `unsigned_payload == false`.
#[test]
fn s6_unsigned_payload_multipart_verifies_and_says_so() {
    // huaweicloudsdkcore 3.1.219, Signer(BasicCredentials("AccessKey", "SecretKey")).sign(...)
    let sdk_full = "SDK-HMAC-SHA256 Access=AccessKey, SignedHeaders=content-type;host;x-sdk-content-sha256;x-sdk-date, Signature=2e1d760ce9be8168529b96f9a6b723363264c20f4c00c8313d464de5cf67665d";
    let sdk_empty = "SDK-HMAC-SHA256 Access=AccessKey, SignedHeaders=content-type;host;x-sdk-content-sha256;x-sdk-date, Signature=ddf4a0a8c7298946c233cb461084d7a0a5aa32fc61c8f6090a079f92f2d46b2d";
    for (body, sdk_auth, unsigned) in [(MULTIPART, sdk_full, true), (&b""[..], sdk_empty, false)] {
        let given = [("X-Sdk-Date", DATE), ("Content-Type", MULTIPART_TYPE)];
        let req = ApigRequest { method: "POST", host: HOST, path: UPLOAD_PATH, query: &[], headers: &given, body };
        let mut out = [0u8; 2048];
        let signed = sign_apig(&req, AK, SK, None, &mut out).unwrap();
        assert_eq!(signed.authorization, sdk_auth, "sign_apig agrees with the SDK");
        let sent = [
            ("X-Sdk-Date", DATE),
            ("Content-Type", MULTIPART_TYPE),
            ("X-Sdk-Content-Sha256", "UNSIGNED-PAYLOAD"),
            ("Host", HOST),
            ("Authorization", sdk_auth),
        ];
        let v = verify_apig(&ApigRequest { headers: &sent, ..req }, CREDS, Freshness::with_window(DATE_MS, APIG_DEFAULT_WINDOW_MS));
        assert_eq!(v, Ok(ApigVerified { credential_index: 0, unsigned_payload: unsigned }));
        // The signed header's value cannot be changed to "the real hash".
        let real = body_hash(body);
        let mut changed = sent;
        changed[2].1 = &real;
        assert_eq!(verify_apig(&ApigRequest { headers: &changed, ..req }, CREDS, Freshness::Unchecked), Err(Error::SignatureMismatch));
    }
    // What UNSIGNED-PAYLOAD means: another body still verifies, and the
    // result says the body is not authenticated.
    let sent = [
        ("X-Sdk-Date", DATE),
        ("Content-Type", MULTIPART_TYPE),
        ("X-Sdk-Content-Sha256", "UNSIGNED-PAYLOAD"),
        ("Host", HOST),
        ("Authorization", sdk_full),
    ];
    let other = ApigRequest { method: "POST", host: HOST, path: UPLOAD_PATH, query: &[], headers: &sent, body: b"--XyZ--\r\n" };
    assert_eq!(verify_apig(&other, CREDS, Freshness::Unchecked), Ok(ApigVerified { credential_index: 0, unsigned_payload: true }));
    // An empty body under the signature of a non-empty one does not verify
    // (the empty body is hashed, not UNSIGNED-PAYLOAD).
    let emptied = ApigRequest { body: b"", ..other };
    assert_eq!(verify_apig(&emptied, CREDS, Freshness::Unchecked), Err(Error::SignatureMismatch));
}

/// The SDK's published vector 3 signs `x-sdk-date` only: the host is not
/// authenticated, so the request could be sent to another host. Refused.
#[test]
fn s6_host_and_date_must_be_signed() {
    let q = [("limit", "1")];
    let h = [
        ("X-Sdk-Date", "20060102T150405Z"),
        ("Authorization", "SDK-HMAC-SHA256 Access=AccessKey, SignedHeaders=x-sdk-date, Signature=5a2ce64c865e0e6046321c6f3d5a77ba8413eeaf355c3166c03d58d02ac79624"),
    ];
    let req = ApigRequest { method: "GET", host: "example.huaweicloud.com", path: "/path", query: &q, headers: &h, body: b"" };
    let want = Err(Error::MalformedEncoding("SignedHeaders must include host and x-sdk-date"));
    assert_eq!(verify_apig(&req, CREDS, Freshness::Unchecked), want);
    // Host without the date, and other such lists.
    for list in ["host", "content-type;host", "x-project-id;x-sdk-date"] {
        let auth = format!("SDK-HMAC-SHA256 Access=AccessKey, SignedHeaders={list}, Signature={}", "0".repeat(64));
        let h = [("X-Sdk-Date", "20060102T150405Z"), ("Content-Type", "a/b"), ("X-Project-Id", "p"), ("Authorization", auth.as_str())];
        assert_eq!(verify_apig(&ApigRequest { headers: &h, ..req }, CREDS, Freshness::Unchecked), want, "{list}");
    }
    // The published vector 1 (host;x-sdk-date) verifies.
    let h1 = [
        ("X-Sdk-Date", "20200608T023900Z"),
        ("Authorization", "SDK-HMAC-SHA256 Access=AccessKey, SignedHeaders=host;x-sdk-date, Signature=cfb4171acec81de07d50e53d57eb77edd537414d66ddb1d7d780f128e12cd842"),
    ];
    let v1 = ApigRequest { method: "GET", host: "service.endpoint.myhuaweicloud.com", path: "/resources", query: &[("size", "1")], headers: &h1, body: b"" };
    assert_eq!(verify_apig(&v1, CREDS, Freshness::Unchecked), Ok(ApigVerified { credential_index: 0, unsigned_payload: false }));
}

/// A second copy of a signed header (the application may read the other
/// one), a second `Authorization` or `X-Sdk-Date`, or an attribute given
/// twice inside `Authorization`: ambiguous.
#[test]
fn s6_repeated_headers_and_attributes_are_ambiguous() {
    let given = [("X-Sdk-Date", DATE), ("Content-Type", "application/json"), ("X-Project-Id", "p1")];
    let req = ApigRequest { method: "POST", host: HOST, path: "/api/x", query: &[], headers: &given, body: B1 };
    let mut out = [0u8; 2048];
    let sent = signed_headers(&req, &mut out);
    let auth = sent.last().unwrap().1;
    assert!(auth.contains("SignedHeaders=content-type;host;x-project-id;x-sdk-date,"), "{auth}");
    assert_eq!(verify_apig(&ApigRequest { headers: &sent, ..req }, CREDS, Freshness::Unchecked).map(|v| v.credential_index), Ok(0));
    let with = |extra: (&'static str, &'static str)| {
        let mut h = sent.clone();
        h.push(extra);
        verify_apig(&ApigRequest { headers: &h, ..req }, CREDS, Freshness::Unchecked)
    };
    let repeated = Err(Error::Ambiguous("a signed header is repeated"));
    assert_eq!(with(("x-project-id", "p2")), repeated);
    assert_eq!(with(("X-PROJECT-ID", "p1")), repeated, "even with the same value");
    assert_eq!(with(("content-type", "text/plain")), repeated);
    assert_eq!(with(("host", "evil.example.com")), repeated);
    assert_eq!(with(("X-Sdk-Date", "20240101T000001Z")), Err(Error::Ambiguous("X-Sdk-Date is repeated")));
    assert_eq!(
        with(("authorization", "SDK-HMAC-SHA256 Access=AccessKey, SignedHeaders=host;x-sdk-date, Signature=00")),
        Err(Error::Ambiguous("Authorization is repeated"))
    );
    // An unsigned header may repeat.
    assert_eq!(with(("X-Trace", "1")).map(|v| v.credential_index), Ok(0));
    let mut h = sent.clone();
    h.extend([("X-Trace", "1"), ("x-trace", "2")]);
    assert_eq!(verify_apig(&ApigRequest { headers: &h, ..req }, CREDS, Freshness::Unchecked).map(|v| v.credential_index), Ok(0));

    // Attributes inside Authorization.
    let sig = &auth[auth.len() - 64..];
    let dup_attr = [
        format!("SDK-HMAC-SHA256 Access=AccessKey, SignedHeaders=content-type;host;x-project-id;x-sdk-date, Signature={sig}, Signature={}", "0".repeat(64)),
        format!("SDK-HMAC-SHA256 Access=Other, Access=AccessKey, SignedHeaders=content-type;host;x-project-id;x-sdk-date, Signature={sig}"),
        format!("SDK-HMAC-SHA256 Access=AccessKey, SignedHeaders=host;x-sdk-date, SignedHeaders=content-type;host;x-project-id;x-sdk-date, Signature={sig}"),
    ];
    for a in &dup_attr {
        assert_eq!(parse_authorization(a), Err(Error::Ambiguous("Authorization attribute repeated")), "{a}");
        let mut h = sent.clone();
        let last = h.len() - 1;
        h[last].1 = a;
        assert_eq!(verify_apig(&ApigRequest { headers: &h, ..req }, CREDS, Freshness::Unchecked), Err(Error::Ambiguous("Authorization attribute repeated")));
    }
    // SignedHeaders itself: a name twice, an empty name, not as a signer writes it.
    let cases: [(&str, Error); 5] = [
        ("content-type;host;host;x-project-id;x-sdk-date", Error::Ambiguous("SignedHeaders lists a header twice")),
        ("content-type;host;x-project-id;x-sdk-date;", Error::MalformedEncoding("SignedHeaders has an empty name")),
        ("content-type;;host;x-project-id;x-sdk-date", Error::MalformedEncoding("SignedHeaders has an empty name")),
        ("host;content-type;x-project-id;x-sdk-date", Error::MalformedEncoding("SignedHeaders must be lower-case and sorted")),
        ("content-type;Host;x-project-id;x-sdk-date", Error::MalformedEncoding("SignedHeaders must be lower-case and sorted")),
    ];
    for (list, want) in cases {
        let a = format!("SDK-HMAC-SHA256 Access=AccessKey, SignedHeaders={list}, Signature={sig}");
        let mut h = sent.clone();
        let last = h.len() - 1;
        h[last].1 = &a;
        assert_eq!(verify_apig(&ApigRequest { headers: &h, ..req }, CREDS, Freshness::Unchecked), Err(want), "{list}");
    }
}

// -------------------------------------------------------------------- S3

const RESP: &[u8] = br#"{"resultCode":"000000","resultMsg":"success."}"#;
const RESP_SIG: &str = "CPIAbI6A1/GrF70YmPEaCgm5WaxUkts5hjQRqqpZv3s=";

/// Finding 11: a lower-case `sign_type`, unknown attributes, stray commas,
/// a duplicate `signature` (the first won), missing quotes and a space
/// before `=` were accepted. Each is refused with a text naming it; the
/// three spellings of SCHEMES.md S3 verify.
#[test]
fn s3_body_sign_junk_is_refused_with_its_deviation() {
    let good = [
        format!("sign_type=\"HMAC-SHA256\", signature=\"{RESP_SIG}\""),
        format!("sign_type=\"HMAC-SHA256\",signature=\"{RESP_SIG}\""),
        format!("sign_type=\"HMAC-SHA256\", signature= \"{RESP_SIG}\""),
        format!("signature=\"{RESP_SIG}\", sign_type=\"HMAC-SHA256\""),
        format!("  sign_type=\"HMAC-SHA256\",   signature=\"{RESP_SIG}\"\r\n"),
    ];
    for v in &good {
        assert_eq!(verify_body_sign(v, RESP, &[KEY]).map(|v| v.key_index()), Ok(0), "{v}");
        assert_eq!(parse_body_sign(v).map(|p| (p.sign_type, p.signature)), Ok(("HMAC-SHA256", RESP_SIG)));
    }
    let m = Error::MalformedEncoding;
    let bad: Vec<(String, Error)> = vec![
        (format!("sign_type=\"hmac-sha256\", signature=\"{RESP_SIG}\""), m("Body-Sign: sign_type must be exactly HMAC-SHA256")),
        (format!("sign_type=\"HMAC-SHA1\", signature=\"{RESP_SIG}\""), m("Body-Sign: sign_type must be exactly HMAC-SHA256")),
        (format!("sign_type=\"HMAC-SHA256\", signature=\"{RESP_SIG}\", extra=\"1\""), m("Body-Sign: unknown attribute")),
        (format!("Sign_Type=\"HMAC-SHA256\", signature=\"{RESP_SIG}\""), m("Body-Sign: unknown attribute")),
        (format!(", sign_type=\"HMAC-SHA256\", signature=\"{RESP_SIG}\""), m("Body-Sign: empty attribute (stray comma)")),
        (format!("sign_type=\"HMAC-SHA256\", signature=\"{RESP_SIG}\","), m("Body-Sign: empty attribute (stray comma)")),
        (format!("sign_type=\"HMAC-SHA256\",, signature=\"{RESP_SIG}\""), m("Body-Sign: empty attribute (stray comma)")),
        (format!("sign_type=\"HMAC-SHA256\", signature=\"{RESP_SIG}\", signature=\"AAAA\""), m("Body-Sign: duplicate attribute")),
        (format!("signature=\"AAAA\", sign_type=\"HMAC-SHA256\", signature=\"{RESP_SIG}\""), m("Body-Sign: duplicate attribute")),
        (format!("sign_type=HMAC-SHA256, signature={RESP_SIG}"), m("Body-Sign: value not quoted")),
        (format!("sign_type=\"HMAC-SHA256\", signature={RESP_SIG}"), m("Body-Sign: value not quoted")),
        (format!("sign_type=\"HMAC-SHA256\", signature=\"{RESP_SIG}"), m("Body-Sign: quoted value not closed")),
        (format!("sign_type =\"HMAC-SHA256\", signature=\"{RESP_SIG}\""), m("Body-Sign: space before `=`")),
        (format!("sign_type=\"HMAC-SHA256\", signature =\"{RESP_SIG}\""), m("Body-Sign: space before `=`")),
        (format!("sign_type=\"HMAC-SHA256\" , signature=\"{RESP_SIG}\""), m("Body-Sign: text after a quoted value (only `,` may follow)")),
        (format!("sign_type=\"HMAC-SHA256\"; signature=\"{RESP_SIG}\""), m("Body-Sign: text after a quoted value (only `,` may follow)")),
        (format!("sign_type=\"HMAC-SHA256\",\tsignature=\"{RESP_SIG}\""), m("Body-Sign: whitespace other than spaces after `,` or `=`")),
        (format!("sign_type=\"HMAC-SHA256\", signature=\t\"{RESP_SIG}\""), m("Body-Sign: whitespace other than spaces after `,` or `=`")),
        (format!("sign_type, signature=\"{RESP_SIG}\""), m("Body-Sign: attribute without `=`")),
        ("garbage".to_owned(), m("Body-Sign: attribute without `=`")),
        (format!("signature=\"{RESP_SIG}\""), Error::MissingParameter("sign_type")),
        ("sign_type=\"HMAC-SHA256\"".to_owned(), Error::MissingParameter("signature")),
        ("".to_owned(), Error::MissingParameter("sign_type")),
    ];
    let mut texts = std::collections::HashSet::new();
    for (v, want) in &bad {
        assert_eq!(parse_body_sign(v), Err(*want), "{v:?}");
        assert_eq!(verify_body_sign(v, RESP, &[KEY]), Err(*want), "{v:?}");
        if let Error::MalformedEncoding(t) = want {
            texts.insert(*t);
            // The text names the deviation and is printable as is.
            assert!(t.starts_with("Body-Sign: ") && want.to_string().contains(t));
        }
    }
    assert_eq!(texts.len(), 10, "one distinct text per deviation");
}
