//! S1 / S1b: V1 query parsing and verification (`V1Params::parse`,
//! `verify_v1`, `verify_v1_json`, `parse_form`, `query_of`).

use crate::input::{self, Opts};
use crate::util;
use crate::assert_error_in;
use arbitrary::{Arbitrary, Unstructured};
use koosign::{
    parse_form, parse_v1_timestamp, query_of, verify_v1, verify_v1_json, DecryptMode, EncryptType, Error, V1Params,
    VerifiedV1, MAX_PARAMS,
};

/// Layout: `Opts`, `text` decoy key, `text` key, `rest` query (UTF-8 prefix).
#[derive(Debug)]
pub struct QueryCase<'a> {
    pub opts: Opts,
    pub decoy: &'a str,
    pub key: &'a str,
    pub query: &'a str,
}

impl<'a> Arbitrary<'a> for QueryCase<'a> {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(QueryCase {
            opts: Opts::read(u),
            decoy: input::text(u),
            key: input::text(u),
            query: input::utf8_prefix(input::rest(u)),
        })
    }
}

/// Layout: `Opts`, `text` decoy key, `text` key, `text` authToken header,
/// `rest` JSON body.
#[derive(Debug)]
pub struct JsonCase<'a> {
    pub opts: Opts,
    pub decoy: &'a str,
    pub key: &'a str,
    pub token: &'a str,
    pub body: &'a [u8],
}

impl<'a> Arbitrary<'a> for JsonCase<'a> {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(JsonCase {
            opts: Opts::read(u),
            decoy: input::text(u),
            key: input::text(u),
            token: input::text(u),
            body: input::rest(u),
        })
    }
}

const VERIFY_ERRORS: &[&str] = &["BAD_TIMESTAMP", "NO_ACCESS_KEY", "SIGNATURE_MISMATCH", "STALE_TIMESTAMP"];

/// `parse_form` agrees with the spec's rule written independently.
fn check_parse_form(q: &str) {
    let mut scratch = vec![0u8; q.len()];
    let core = parse_form(q, &mut scratch);
    let spec = util::form_parse(q);
    match (&core, &spec) {
        (Ok(p), Ok(s)) => {
            assert!(s.len() <= MAX_PARAMS);
            let got: Vec<(String, String)> = p.as_slice().iter().map(|(n, v)| (n.to_string(), v.to_string())).collect();
            assert_eq!(&got, s, "parse_form disagrees with the spec on {q:?}");
            for (n, v) in s {
                assert_eq!(p.get(n), s.iter().find(|(m, _)| m == n).map(|(_, w)| w.as_str()), "first value wins: {v:?}");
            }
        }
        (Err(e), Ok(s)) => {
            assert_eq!(*e, Error::InputTooLarge { limit: MAX_PARAMS }, "parse_form refused a valid query {q:?}");
            assert!(s.len() > MAX_PARAMS);
        }
        (Ok(_), Err(why)) => panic!("parse_form accepted {q:?}, which the spec refuses ({why})"),
        (Err(e), Err(_)) => assert_error_in(e, &["MALFORMED_ENCODING", "INPUT_TOO_LARGE"], "parse_form"),
    }
    // One byte short of the documented scratch size.
    let need = q.strip_prefix('?').unwrap_or(q).len();
    if need > 0 {
        let mut small = vec![0u8; need - 1];
        assert_eq!(parse_form(q, &mut small).err(), Some(Error::BufferTooSmall { needed: need }));
    }
}

/// Checks of a verified V1 request, common to S1 and S1b.
fn check_verified(v: &VerifiedV1<'_, '_>, keys: &[&str], opts: &Opts, skip_blank: bool) {
    assert!(v.key_index() < keys.len());
    let key = keys[v.key_index()];
    let params = v.params();
    for w in params.windows(2) {
        assert_eq!(util::java_cmp(w[0].0, w[1].0), std::cmp::Ordering::Less, "canonical order broken: {params:?}");
    }
    assert!(params.iter().all(|(n, _)| *n != "authToken"));
    if skip_blank {
        assert!(params.iter().all(|(_, v)| !v.trim().is_empty()));
    }
    let ts = v.get("timeStamp").expect("verified without timeStamp");
    assert_eq!(parse_v1_timestamp(ts), Ok(v.time_stamp_ms()));
    if let Some(f) = opts.freshness() {
        assert!(f.check(v.time_stamp_ms()).is_ok(), "stale request verified");
    }
    // The token that verified is the spec's token, computed from scratch.
    let canonical = params.iter().map(|(n, v)| format!("{n}={v}")).collect::<Vec<_>>().join("&");
    let expected = util::b64(&util::hmac_sha256(format!("{key}{ts}").as_bytes(), canonical.as_bytes()));
    let received = v.get("authToken").expect("verified without authToken").replace(' ', "+");
    assert_eq!(expected, received, "verified a token that is not the spec's");
    // Field decryption is offered only now; it never panics and fails only as Decrypt.
    for name in ["mobilePhone", "email"] {
        let Some(wire) = v.get(name) else { continue };
        for mode in [DecryptMode::Auto, DecryptMode::Only(EncryptType::Aes128), DecryptMode::Only(EncryptType::Aes256)] {
            let mut out = vec![0u8; wire.len()];
            if let Err(e) = v.decrypt_param(name, mode, &mut out) {
                assert_eq!(e, Error::Decrypt);
            }
        }
    }
}

/// The `v1_query` target. `Ok` when the request verified.
pub fn check_query(c: &QueryCase<'_>) -> Result<(), &'static str> {
    let q = c.query;
    let keys = c.opts.keys(c.decoy, c.key);
    let fresh = c.opts.freshness();

    let part = query_of(q);
    assert!(q.contains(part) && !part.contains('#'));
    check_parse_form(q);

    let mut scratch = vec![0u8; q.len()];
    let p = match V1Params::parse(q, &mut scratch) {
        Ok(p) => p,
        Err(e) => {
            assert_error_in(&e, &["MALFORMED_ENCODING", "INPUT_TOO_LARGE", "MISSING_PARAMETER"], "V1Params::parse");
            return Err(e.code());
        }
    };
    let n = p.canonical_len();
    let mut out = vec![0u8; n];
    let canonical = p.canonical(&mut out).expect("canonical into an exact buffer").to_owned();
    assert_eq!(canonical.len(), n);
    if n > 0 {
        let mut small = vec![0u8; n - 1];
        assert_eq!(p.canonical(&mut small).err(), Some(Error::BufferTooSmall { needed: n }));
    }
    let mut s2 = vec![0u8; q.len()];
    let pairs = parse_form(q, &mut s2).expect("parsed once");
    assert_eq!(canonical, util::v1_canonical(pairs.as_slice(), false), "canonical string differs from the spec's");
    assert_eq!(Some(p.time_stamp()), pairs.get("timeStamp"));
    assert_eq!(Some(p.received_auth_token()), pairs.get("authToken"));
    if !c.key.is_empty() {
        let exp = p.expected_auth_token(c.key);
        let spec = util::b64(&util::hmac_sha256(format!("{}{}", c.key, p.time_stamp()).as_bytes(), canonical.as_bytes()));
        assert_eq!(exp.as_str(), spec);
    }

    let r = p.clone().verify(&keys, fresh, None);
    let mut s3 = vec![0u8; q.len()];
    let r2 = verify_v1(q, &keys, fresh, None, &mut s3);
    assert_eq!(r.as_ref().map(|v| v.key_index()).map_err(|e| *e), r2.as_ref().map(|v| v.key_index()).map_err(|e| *e));
    let need = q.strip_prefix('?').unwrap_or(q).len();
    if need > 0 {
        let mut small = vec![0u8; need - 1];
        assert_eq!(verify_v1(q, &keys, fresh, None, &mut small).err(), Some(Error::BufferTooSmall { needed: need }));
    }
    match r {
        Ok(v) => {
            check_verified(&v, &keys, &c.opts, false);
            let _ = format!("{v:?}");
            Ok(())
        }
        Err(e) => {
            assert_error_in(&e, VERIFY_ERRORS, "V1Params::verify");
            Err(e.code())
        }
    }
}

/// The `v1_json` target. `Ok` when the request verified.
pub fn check_json(c: &JsonCase<'_>) -> Result<(), &'static str> {
    let keys = c.opts.keys(c.decoy, c.key);
    let fresh = c.opts.freshness();
    let mut scratch = vec![0u8; c.body.len() + c.token.len() + 9];
    let r = verify_v1_json(c.token, c.body, &keys, fresh, None, &mut scratch);
    match r {
        Ok(v) => {
            check_verified(&v, &keys, &c.opts, true);
            assert_eq!(v.get("authToken"), Some(c.token));
            let json: serde_json::Value = serde_json::from_slice(c.body).expect("verified a body that is not JSON");
            let obj = json.as_object().expect("verified a body that is not an object");
            for (n, val) in v.params() {
                // Every signed parameter is a top-level field of the body.
                assert!(obj.contains_key(*n), "parameter {n:?}={val:?} is not a field of the body");
            }
            Ok(())
        }
        Err(e) => {
            assert_error_in(
                &e,
                &["MALFORMED_ENCODING", "INPUT_TOO_LARGE", "MISSING_PARAMETER"]
                    .iter()
                    .chain(VERIFY_ERRORS)
                    .copied()
                    .collect::<Vec<_>>(),
                "verify_v1_json",
            );
            // The documented scratch size is enough: a larger one changes nothing.
            let mut big = vec![0u8; 8 * c.body.len() + c.token.len() + 4096];
            let again = verify_v1_json(c.token, c.body, &keys, fresh, None, &mut big).err();
            assert_eq!(again, Some(e), "verify_v1_json depends on the scratch size beyond its documented minimum");
            Err(e.code())
        }
    }
}
