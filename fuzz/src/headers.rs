//! S3 `Body-Sign` header parsing and verification, and S5 licence
//! `ts`/`nonce`/`signature` verification.

use crate::assert_error_in;
use crate::input::{self, Opts};
use crate::util;
use arbitrary::{Arbitrary, Unstructured};
use koosign::{body_sign, body_signature, licence_sign, parse_body_sign, parse_unix_ms, verify_body_sign, verify_licence, Error};

/// Layout: `Opts` (bit 2: decoy key first), `text` decoy, `text` key,
/// `text` header value, `rest` body.
#[derive(Debug)]
pub struct BodySignCase<'a> {
    pub opts: Opts,
    pub decoy: &'a str,
    pub key: &'a str,
    pub value: &'a str,
    pub body: &'a [u8],
}

impl<'a> Arbitrary<'a> for BodySignCase<'a> {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(BodySignCase {
            opts: Opts::read(u),
            decoy: input::text(u),
            key: input::text(u),
            value: input::text(u),
            body: input::rest(u),
        })
    }
}

fn within(outer: &str, inner: &str) -> bool {
    let (o, i) = (outer.as_ptr() as usize, inner.as_ptr() as usize);
    i >= o && i + inner.len() <= o + outer.len()
}

/// The strict S3 grammar (SCHEMES.md decision), written independently of
/// the core's scanner: after trimming ASCII whitespace, exactly
/// `A=*SP"x",*SP B=*SP"y"` with {A, B} = {sign_type, signature}, no `"`
/// inside a value, and `sign_type` exactly `HMAC-SHA256`. Returns
/// (sign_type, signature).
pub fn strict_body_sign(value: &str) -> Option<(&str, &str)> {
    fn attr<'v>(s: &'v str, name: &str) -> Option<(&'v str, &'v str)> {
        let s = s.strip_prefix(name)?.strip_prefix('=')?.trim_start_matches(' ').strip_prefix('"')?;
        let end = s.find('"')?;
        Some((&s[..end], &s[end + 1..]))
    }
    let v = value.trim_ascii();
    for (first, second) in [("sign_type", "signature"), ("signature", "sign_type")] {
        let Some((a, rest)) = attr(v, first) else { continue };
        let Some(rest) = rest.strip_prefix(',') else { continue };
        let Some((b, end)) = attr(rest.trim_start_matches(' '), second) else { continue };
        if !end.is_empty() {
            continue;
        }
        let (sign_type, signature) = if first == "sign_type" { (a, b) } else { (b, a) };
        return (sign_type == "HMAC-SHA256").then_some((sign_type, signature));
    }
    None
}

/// The `body_sign` target. `Ok` when the value verified.
pub fn check_body_sign(c: &BodySignCase<'_>) -> Result<(), &'static str> {
    let keys = c.opts.keys(c.decoy, c.key);
    match parse_body_sign(c.value) {
        Ok(p) => {
            assert!(within(c.value, p.sign_type) && within(c.value, p.signature), "parsed values must borrow the input");
            assert_eq!(strict_body_sign(c.value), Some((p.sign_type, p.signature)), "parsed outside the strict grammar: {:?}", c.value);
        }
        Err(e) => {
            assert!(
                matches!(e, Error::MissingParameter("sign_type" | "signature") | Error::MalformedEncoding(_)),
                "parse_body_sign: {e:?}"
            );
            assert_eq!(strict_body_sign(c.value), None, "refused a strictly valid value {:?}: {e:?}", c.value);
            if let Error::MalformedEncoding(t) = e {
                assert!(t.starts_with("Body-Sign: "), "the text names the deviation: {t:?}");
            }
        }
    }
    // What the signer produces always parses and verifies.
    if !c.key.is_empty() {
        let h = body_sign(c.body, c.key).expect("non-empty key");
        assert_eq!(h.as_str().len(), koosign::BODY_SIGN_VALUE_LEN);
        let p = parse_body_sign(h.as_str()).expect("own header parses");
        assert_eq!(p.signature, util::b64(&util::hmac_sha256(c.key.as_bytes(), c.body)));
        assert_eq!(p.signature, body_signature(c.body, c.key).as_str());
        let own = util::b64(&util::hmac_sha256(c.key.as_bytes(), c.body));
        let expected = if keys.iter().any(|k| k.is_empty()) {
            Err(Error::NoAccessKey)
        } else {
            // The first key with the same MAC (HMAC keys padded with zero bytes are equal).
            Ok(keys.iter().position(|k| util::b64(&util::hmac_sha256(k.as_bytes(), c.body)) == own).expect("own key"))
        };
        assert_eq!(verify_body_sign(h.as_str(), c.body, &keys).map(|v| v.key_index()), expected);
    }
    match verify_body_sign(c.value, c.body, &keys).map(|v| v.key_index()) {
        Ok(i) => {
            assert!(i < keys.len());
            let p = parse_body_sign(c.value).expect("verified but does not parse");
            assert_eq!(p.sign_type, "HMAC-SHA256");
            assert_eq!(p.signature, util::b64(&util::hmac_sha256(keys[i].as_bytes(), c.body)));
            Ok(())
        }
        Err(e) => {
            assert_error_in(&e, &["MISSING_PARAMETER", "MALFORMED_ENCODING", "NO_ACCESS_KEY", "SIGNATURE_MISMATCH"], "verify_body_sign");
            Err(e.code())
        }
    }
}

/// Layout: `Opts`, `text` decoy, `text` key, `text` ts, `text` nonce,
/// `text` signature, `rest` body.
#[derive(Debug)]
pub struct LicenceCase<'a> {
    pub opts: Opts,
    pub decoy: &'a str,
    pub key: &'a str,
    pub ts: &'a str,
    pub nonce: &'a str,
    pub signature: &'a str,
    pub body: &'a [u8],
}

impl<'a> Arbitrary<'a> for LicenceCase<'a> {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(LicenceCase {
            opts: Opts::read(u),
            decoy: input::text(u),
            key: input::text(u),
            ts: input::text(u),
            nonce: input::text(u),
            signature: input::text(u),
            body: input::rest(u),
        })
    }
}

/// The spec's S5 signature.
pub fn spec_licence(ts: &str, nonce: &str, body: &[u8], key: &str) -> String {
    let mut msg = format!("ts={ts}&nonce={nonce}&body=").into_bytes();
    msg.extend_from_slice(body);
    util::b64(&util::hmac_sha256(key.as_bytes(), &msg))
}

/// The `licence` target. `Ok` when the signature verified.
pub fn check_licence(c: &LicenceCase<'_>) -> Result<(), &'static str> {
    let keys = c.opts.keys(c.decoy, c.key);
    let fresh = c.opts.freshness();
    if !c.key.is_empty() {
        let s = licence_sign(c.ts, c.nonce, c.body, c.key).expect("non-empty key");
        assert_eq!(s.as_str(), spec_licence(c.ts, c.nonce, c.body, c.key));
    }
    match verify_licence(c.ts, c.nonce, c.body, c.signature, &keys, fresh).map(|v| v.key_index()) {
        Ok(i) => {
            assert!(i < keys.len());
            assert_eq!(spec_licence(c.ts, c.nonce, c.body, keys[i]), c.signature.replace(' ', "+"));
            let ts = parse_unix_ms(c.ts).expect("verified a bad ts");
            assert!(c.ts.len() == 13 && !c.ts.starts_with('0'), "verified ts {:?}", c.ts);
            // SCHEMES.md S5 decision: a non-empty nonce without `&`.
            assert!(!c.nonce.is_empty() && !c.nonce.contains('&'), "verified nonce {:?}", c.nonce);
            assert!(fresh.check(ts).is_ok());
            Ok(())
        }
        Err(e) => {
            assert_error_in(
                &e,
                &["BAD_TIMESTAMP", "MISSING_PARAMETER", "AMBIGUOUS", "NO_ACCESS_KEY", "SIGNATURE_MISMATCH", "STALE_TIMESTAMP"],
                "verify_licence",
            );
            match e {
                Error::MissingParameter(n) => assert!(n == "nonce" && c.nonce.is_empty()),
                Error::Ambiguous(_) => assert!(c.nonce.contains('&')),
                _ => {}
            }
            Err(e.code())
        }
    }
}
