//! S1 / S1b: V1 query parsing and verification (`V1Params::parse`,
//! `verify_v1_query`, `verify_v1_json`, `parse_form`, `query_of`).

use crate::input::{self, Opts};
use crate::util;
use crate::assert_error_in;
use arbitrary::{Arbitrary, Unstructured};
use koosign::{
    parse_form, parse_v1_timestamp, query_of, verify_v1_query, verify_v1_json, DecryptMode, EncryptType, Error, V1Params,
    VerifiedV1,
};
use koosign::Replay;
use koosign::form::MAX_PARAMS;

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
    // S1 item 10: no verified request is ambiguous.
    assert!(!util::v1_ambiguous(params), "verified an ambiguous request: {params:?}");
    if skip_blank {
        assert!(params.iter().all(|(_, v)| !v.trim().is_empty()));
    }
    let ts = v.get("timeStamp").expect("verified without timeStamp");
    assert_eq!(parse_v1_timestamp(ts), Ok(v.time_stamp_ms()));
    assert!(opts.freshness().check(v.time_stamp_ms()).is_ok(), "stale request verified");
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
    // SCHEMES.md S1 item 10, from the spec: refused as ambiguous exactly
    // when the query parses, carries authToken and timeStamp, and some
    // decoded name or value is ambiguous.
    let spec_pairs = util::form_parse(q).ok().filter(|s| s.len() <= MAX_PARAMS);
    let has = |name: &str| spec_pairs.as_ref().is_some_and(|s| s.iter().any(|(n, _)| n == name));
    let ambiguous = has("authToken") && has("timeStamp") && spec_pairs.as_ref().is_some_and(|s| util::v1_ambiguous(s));
    let p = match V1Params::parse(q, &mut scratch) {
        Ok(p) => {
            assert!(!ambiguous, "V1Params::parse accepted an ambiguous query {q:?}");
            p
        }
        Err(e) => {
            assert_error_in(&e, &["MALFORMED_ENCODING", "INPUT_TOO_LARGE", "MISSING_PARAMETER", "AMBIGUOUS"], "V1Params::parse");
            assert_eq!(matches!(e, Error::Ambiguous(_)), ambiguous, "S1 item 10 disagrees with the spec on {q:?}: {e:?}");
            let mut s3 = vec![0u8; q.len()];
            assert_eq!(verify_v1_query(q, &keys, fresh, Replay::Unchecked, &mut s3).err(), Some(e), "verify_v1_query differs from V1Params::parse");
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

    let r = p.clone().verify(&keys, fresh, Replay::Unchecked);
    let mut s3 = vec![0u8; q.len()];
    let r2 = verify_v1_query(q, &keys, fresh, Replay::Unchecked, &mut s3);
    assert_eq!(r.as_ref().map(|v| v.key_index()).map_err(|e| *e), r2.as_ref().map(|v| v.key_index()).map_err(|e| *e));
    let need = q.strip_prefix('?').unwrap_or(q).len();
    if need > 0 {
        let mut small = vec![0u8; need - 1];
        assert_eq!(verify_v1_query(q, &keys, fresh, Replay::Unchecked, &mut small).err(), Some(Error::BufferTooSmall { needed: need }));
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
    let r = verify_v1_json(c.token, c.body, &keys, fresh, Replay::Unchecked, &mut scratch);
    let spec = s1b_spec(c.body);
    match r {
        Ok(v) => {
            check_verified(&v, &keys, &c.opts, true);
            assert_eq!(v.get("authToken"), Some(c.token));
            let Ok(signed) = spec else { panic!("verified an S1b body the spec refuses ({spec:?}): {:?}", c.body) };
            // The verified view is exactly the body's non-blank members
            // (SCHEMES.md S1b decision: nothing else can be in the body but
            // blank strings, which are tolerated).
            let mut got: Vec<(String, String)> = v.params().iter().map(|(n, v)| (n.to_string(), v.to_string())).collect();
            let mut want = signed;
            got.sort();
            want.sort();
            assert_eq!(got, want, "the verified view differs from the body's members");
            Ok(())
        }
        Err(e) => {
            assert_error_in(
                &e,
                &["MALFORMED_ENCODING", "INPUT_TOO_LARGE", "MISSING_PARAMETER", "AMBIGUOUS"]
                    .iter()
                    .chain(VERIFY_ERRORS)
                    .copied()
                    .collect::<Vec<_>>(),
                "verify_v1_json",
            );
            match &spec {
                // A refusal the spec names: koosign gives one of its codes.
                Err(codes) => assert!(codes.contains(&e.code()), "S1b: {e:?}, the spec expects one of {codes:?}"),
                // A well-formed body: refused only as verification refuses.
                Ok(signed) => {
                    let allowed: &[&str] = if !signed.iter().any(|(n, _)| n == "timeStamp") {
                        &["MISSING_PARAMETER"]
                    } else if util::v1_ambiguous(signed) {
                        &["AMBIGUOUS"]
                    } else {
                        VERIFY_ERRORS
                    };
                    assert_error_in(&e, allowed, "verify_v1_json on a well-formed body");
                }
            }
            // The documented scratch size is enough: a larger one changes nothing.
            let mut big = vec![0u8; 8 * c.body.len() + c.token.len() + 4096];
            let again = verify_v1_json(c.token, c.body, &keys, fresh, Replay::Unchecked, &mut big).err();
            assert_eq!(again, Some(e), "verify_v1_json depends on the scratch size beyond its documented minimum");
            Err(e.code())
        }
    }
}

/// SCHEMES.md S1b (decision), from the spec with serde_json as the JSON
/// reader: `Ok(non-blank members)` for a flat object of strings, each name
/// once, no `authToken` member, at most 63 members (the header's token is
/// the 64th pair), no `&`/`=` in a blank member's name (S1 item 10);
/// otherwise `Err(the error codes its violations call for)`.
fn s1b_spec(body: &[u8]) -> Result<Vec<(String, String)>, Vec<&'static str>> {
    let Some(members) = util::json_members(body) else {
        return Err(vec!["MALFORMED_ENCODING"]);
    };
    let mut codes = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut signed = Vec::new();
    for (n, v) in &members {
        if n == "authToken" {
            codes.push("AMBIGUOUS");
        }
        if !seen.insert(n.as_str()) {
            codes.push("MALFORMED_ENCODING");
        }
        match v {
            serde_json::Value::String(s) if s.trim().is_empty() => {
                if n.contains('&') || n.contains('=') {
                    codes.push("AMBIGUOUS");
                }
            }
            serde_json::Value::String(s) => signed.push((n.clone(), s.clone())),
            _ => codes.push("MALFORMED_ENCODING"),
        }
    }
    if members.len() > MAX_PARAMS - 1 {
        codes.push("INPUT_TOO_LARGE");
    }
    if codes.is_empty() {
        Ok(signed)
    } else {
        Err(codes)
    }
}
