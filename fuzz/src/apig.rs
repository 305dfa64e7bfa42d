//! S6: APIG canonicalisation of arbitrary method, path, query and headers
//! (`canonical_query`, `canonical_uri`, `parse_authorization`,
//! `sign_apig`, `verify_apig`).

use crate::assert_error_in;
use crate::input::{self, Opts};
use crate::util;
use arbitrary::{Arbitrary, Unstructured};
use koosign::{
    canonical_query, canonical_uri, parse_authorization, parse_sdk_date, sign_apig, verify_apig, ApigRequest,
    ApigVerified, Error, Freshness,
};
use koosign::apig::{MAX_PATH, MAX_QUERY};

/// Python's `str.strip()` (Unicode whitespace and U+001C..U+001F), as the
/// SDK strips header values.
fn py_strip(v: &str) -> &str {
    v.trim_matches(|c: char| c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c))
}

/// Layout: `Opts`, `text` method, `text` host, `text` path,
/// `list(text, text; 70)` query, `list(text, text; 36)` headers, `text` AK,
/// `text` SK, `rest` body.
#[derive(Debug)]
pub struct Case<'a> {
    pub opts: Opts,
    pub method: &'a str,
    pub host: &'a str,
    pub path: &'a str,
    pub query: Vec<(&'a str, &'a str)>,
    pub headers: Vec<(&'a str, &'a str)>,
    pub ak: &'a str,
    pub sk: &'a str,
    pub body: &'a [u8],
}

impl<'a> Arbitrary<'a> for Case<'a> {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(Case {
            opts: Opts::read(u),
            method: input::text(u),
            host: input::text(u),
            path: input::text(u),
            query: input::pairs(u, 70),
            headers: input::pairs(u, 36),
            ak: input::text(u),
            sk: input::text(u),
            body: input::rest(u),
        })
    }
}

/// The latest instant whose `X-Sdk-Date` has a four-digit year.
pub const MAX_DATE_MS: u64 = 253_402_300_799_999;

/// `canonical_query` sorts, encodes, and decoding gives the pairs back.
pub fn check_canonical_query(query: &[(&str, &str)]) {
    let probe = canonical_query(query, &mut []);
    let needed = match probe {
        Ok(s) => {
            assert!(s.is_empty() && query.is_empty());
            return;
        }
        Err(Error::InputTooLarge { limit }) => {
            assert_eq!(limit, MAX_QUERY);
            assert!(query.len() > MAX_QUERY);
            return;
        }
        Err(Error::BufferTooSmall { needed }) => needed,
        Err(e) => panic!("canonical_query: {e:?}"),
    };
    assert!(query.len() <= MAX_QUERY);
    let mut out = vec![0u8; needed];
    let s = canonical_query(query, &mut out).expect("exact buffer");
    assert_eq!(s.len(), needed);
    let mut decoded: Vec<(Vec<u8>, Vec<u8>)> = Vec::new();
    for pair in s.split('&') {
        let (n, v) = pair.split_once('=').expect("name=value");
        let n = util::apig_decode(n).unwrap_or_else(|| panic!("not an RFC 3986 encoding: {n:?}"));
        let v = util::apig_decode(v).unwrap_or_else(|| panic!("not an RFC 3986 encoding: {v:?}"));
        decoded.push((n, v));
    }
    let mut expected: Vec<(Vec<u8>, Vec<u8>)> =
        query.iter().map(|(n, v)| (n.as_bytes().to_vec(), v.as_bytes().to_vec())).collect();
    expected.sort();
    assert_eq!(decoded, expected, "decoding the canonical query does not give the pairs back (sorted)");
}

/// `canonical_uri` encodes each segment, ends with `/`, and decoding gives
/// the (percent-decoded) path back.
pub fn check_canonical_uri(path: &str) {
    let needed = match canonical_uri(path, &mut []) {
        Err(Error::InputTooLarge { limit }) => {
            assert_eq!(limit, MAX_PATH);
            assert!(path.len() > MAX_PATH);
            return;
        }
        Err(Error::BufferTooSmall { needed }) => needed,
        r => panic!("canonical_uri into an empty buffer: {r:?}"),
    };
    let mut out = vec![0u8; needed];
    let s = canonical_uri(path, &mut out).expect("exact buffer");
    assert_eq!(s.len(), needed);
    assert!(s.ends_with('/'));
    let segs: Vec<String> = s
        .split('/')
        .map(|seg| {
            let d = util::apig_decode(seg).unwrap_or_else(|| panic!("not an RFC 3986 encoding: {seg:?}"));
            String::from_utf8(d).expect("the canonical URI encodes UTF-8")
        })
        .collect();
    let back = segs.join("/");
    let mut expected = util::path_unquote(path);
    if !expected.ends_with('/') {
        expected.push('/');
    }
    assert_eq!(back, expected, "decoding the canonical URI does not give the path back");
}

/// The checks of `sign_apig`'s outputs against each other and the spec, and
/// the round trip into `verify_apig` when the request is one an HTTP
/// client could send. Returns whether the round trip ran.
pub fn check_sign(req: &ApigRequest<'_>, ak: &str, sk: &str, now: Option<u64>) -> bool {
    // An empty buffer: the signer says how much it needs.
    let needed = match sign_apig(req, ak, sk, now, &mut []) {
        Err(Error::BufferTooSmall { needed }) => needed,
        Ok(s) => panic!("signed into an empty buffer: {s:?}"),
        Err(e) => {
            assert_error_in(
                &e,
                &["MISSING_PARAMETER", "BAD_TIMESTAMP", "NO_ACCESS_KEY", "MALFORMED_ENCODING", "INPUT_TOO_LARGE"],
                "sign_apig",
            );
            return false;
        }
    };
    let mut out = vec![0u8; needed];
    let signed = sign_apig(req, ak, sk, now, &mut out).expect("the size it asked for");
    let mut cq = vec![0u8; signed.canonical_query.len()];
    assert_eq!(signed.canonical_query, canonical_query(req.query, &mut cq).expect("signed"));
    let date = signed.string_to_sign.split('\n').nth(1).expect("date line").to_owned();
    let sts = format!("SDK-HMAC-SHA256\n{date}\n{}", util::hex(&util::sha256(signed.canonical_request.as_bytes())));
    assert_eq!(signed.string_to_sign, sts);
    let sig = util::hex(&util::hmac_sha256(sk.as_bytes(), sts.as_bytes()));
    assert_eq!(signed.signature.as_str(), sig);
    assert_eq!(
        signed.authorization,
        format!("SDK-HMAC-SHA256 Access={ak}, SignedHeaders={}, Signature={sig}", signed.signed_headers)
    );
    // (Header names are not checked for `\n` by the signer: search, not split.)
    assert!(signed.canonical_request.contains(&format!("\n{}\n", signed.signed_headers)));
    assert_eq!(signed.headers_to_add.last().map(|h| h.0), Some("Authorization"));
    assert_eq!(signed.headers_to_add.last().map(|h| h.1), Some(signed.authorization));
    // The size asked for is exact; one byte less is still too small.
    assert_eq!(needed, signed.authorization.len() + signed.string_to_sign.len() + signed.canonical_request.len());
    let mut small = vec![0u8; needed - 1];
    assert_eq!(sign_apig(req, ak, sk, now, &mut small).err(), Some(Error::BufferTooSmall { needed }));

    // Round trip, for requests an HTTP client could send: header names are
    // tokens, no Authorization yet, an AK that fits the header syntax, a
    // date the verifier can read.
    let sendable = req.headers.iter().all(|(n, _)| util::is_token(n) && !n.eq_ignore_ascii_case("authorization"))
        && !ak.contains(',')
        && ak == ak.trim()
        && parse_sdk_date(&date).is_ok();
    if !sendable {
        return false;
    }
    let date_ms = parse_sdk_date(&date).expect("checked");
    let mut headers: Vec<(&str, &str)> = req.headers.to_vec();
    headers.extend(signed.headers_to_add.iter().map(|(n, v)| (*n, *v)));
    let sent = ApigRequest { headers: &headers, ..*req };
    let creds = [("decoy-ak", "decoy-sk"), (ak, sk)];
    let got = verify_apig(&sent, &creds, Freshness::new(date_ms));
    // What the verifier must say (SCHEMES.md S6 decisions): a header the
    // signer signed (no `_` in its name) given twice is ambiguous; a signed
    // X-Sdk-Content-Sha256 must be UNSIGNED-PAYLOAD or the body's hash.
    let signed_names: Vec<String> =
        headers.iter().filter(|(n, _)| !n.contains('_')).map(|(n, _)| n.to_ascii_lowercase()).collect();
    let repeated = (1..signed_names.len()).any(|i| signed_names[..i].contains(&signed_names[i]));
    if repeated {
        assert!(matches!(got, Err(Error::Ambiguous(_))), "repeated signed header: {got:?}; headers {headers:?}");
        return true;
    }
    let real = util::hex(&util::sha256(req.body));
    let content = headers.iter().find(|(n, _)| n.eq_ignore_ascii_case("x-sdk-content-sha256")).map(|(_, v)| py_strip(v));
    let unsigned_payload = match content {
        None => false,
        Some("UNSIGNED-PAYLOAD") => !req.body.is_empty(),
        Some(v) if v.eq_ignore_ascii_case(&real) => false,
        Some(_) => {
            assert_eq!(got, Err(Error::SignatureMismatch), "bogus signed X-Sdk-Content-Sha256; headers {headers:?}");
            return true;
        }
    };
    assert_eq!(
        got,
        Ok(ApigVerified { credential_index: 1, unsigned_payload }),
        "sign_apig -> verify_apig failed; headers {headers:?}"
    );
    if unsigned_payload {
        // Documented: the body is not authenticated.
        let other = ApigRequest { body: b"x", ..sent };
        assert_eq!(verify_apig(&other, &creds, Freshness::Unchecked).map(|v| v.unsigned_payload), Ok(true));
    } else {
        // The body is: a body swap (with the old hash as an unsigned
        // header, if none was signed) fails.
        let mut h = headers.clone();
        if content.is_none() {
            h.push(("X-Sdk-Content-Sha256", &real));
        }
        let mut other_body = req.body.to_vec();
        other_body.push(b'x');
        let swapped = ApigRequest { headers: &h, body: &other_body, ..*req };
        assert_eq!(verify_apig(&swapped, &creds, Freshness::Unchecked).map(|v| v.credential_index), Err(Error::SignatureMismatch), "body swap verified");
    }
    // A one-character change of the signature fails (hex case aside).
    let auth = signed.authorization;
    let at = auth.len() - 64;
    let i = usize::from(sig.as_bytes()[0]) % 64;
    {
        let c = sig.as_bytes()[i];
        let flipped = if c == b'0' { '1' } else { '0' };
        let forged = format!("{}{}{}{}", &auth[..at], &sig[..i], flipped, &sig[i + 1..]);
        let mut h = headers.clone();
        let last = h.len() - 1;
        h[last].1 = &forged;
        let r = verify_apig(&ApigRequest { headers: &h, ..*req }, &creds, Freshness::Unchecked);
        assert_eq!(r.map(|v| v.credential_index), Err(Error::SignatureMismatch));
    }
    true
}

/// The `apig` target. `Ok` when the request as given verified.
pub fn check(c: &Case<'_>) -> Result<(), &'static str> {
    check_canonical_query(&c.query);
    check_canonical_uri(c.path);
    let req = ApigRequest { method: c.method, host: c.host, path: c.path, query: &c.query, headers: &c.headers, body: c.body };
    for (n, v) in &c.headers {
        if n.eq_ignore_ascii_case("authorization") {
            if let Ok(a) = parse_authorization(v) {
                for part in [a.access, a.signed_headers, a.signature] {
                    assert_eq!(part, part.trim());
                    assert!(v.contains(part));
                }
            }
        }
    }
    let creds: Vec<(&str, &str)> =
        if c.opts.flags & 4 != 0 { vec![("decoy-ak", "decoy-sk"), (c.ak, c.sk)] } else { vec![(c.ak, c.sk)] };
    let fresh = c.opts.freshness();
    let verified = verify_apig(&req, &creds, fresh);
    match verified {
        Ok(v) => {
            assert!(v.credential_index < creds.len());
            // SCHEMES.md S6 decisions: one Authorization, signing host and
            // x-sdk-date; each signed header once; UNSIGNED-PAYLOAD only
            // when signed, and only reported for a non-empty body.
            let auths: Vec<&str> =
                c.headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case("authorization")).map(|(_, v)| *v).collect();
            assert_eq!(auths.len(), 1);
            let a = parse_authorization(auths[0]).expect("verified");
            let names: Vec<&str> = a.signed_headers.split(';').collect();
            assert!(names.contains(&"host") && names.contains(&"x-sdk-date"), "verified without host/x-sdk-date signed");
            assert!(names.windows(2).all(|w| w[0] < w[1]), "SignedHeaders not sorted: {names:?}");
            for n in &names {
                assert!(c.headers.iter().filter(|(m, _)| m.eq_ignore_ascii_case(n)).count() <= 1, "repeated signed header {n}");
            }
            let content = c.headers.iter().find(|(m, _)| m.eq_ignore_ascii_case("x-sdk-content-sha256")).map(|(_, v)| py_strip(v));
            let signed_unsigned = names.contains(&"x-sdk-content-sha256") && content == Some("UNSIGNED-PAYLOAD");
            assert_eq!(v.unsigned_payload, signed_unsigned && !c.body.is_empty());
        }
        Err(e) => assert_error_in(
            &e,
            &[
                "MISSING_PARAMETER",
                "MALFORMED_ENCODING",
                "AMBIGUOUS",
                "BAD_TIMESTAMP",
                "NO_ACCESS_KEY",
                "SIGNATURE_MISMATCH",
                "STALE_TIMESTAMP",
                "INPUT_TOO_LARGE",
            ],
            "verify_apig",
        ),
    }
    // Sign the same request (without any Authorization header).
    let headers: Vec<(&str, &str)> =
        c.headers.iter().copied().filter(|(n, _)| !n.eq_ignore_ascii_case("authorization")).collect();
    let unsigned = ApigRequest { headers: &headers, ..req };
    let now = (c.opts.flags & 16 == 0).then_some(c.opts.now % (MAX_DATE_MS + 1));
    check_sign(&unsigned, c.ak, c.sk, now);
    verified.map(|_| ()).map_err(|e| e.code())
}
