//! The keyed merchant context (`koosign::merchant::Merchant::verify`): for
//! any request, one call must give what the steps it stands for give —
//! `detect_protocol`, the 1 MiB limit, the one-shot verifier of the
//! protocol with the same keys, window and store, the strict notification
//! parser and the activity table — with the refusal's `resultCode` from
//! `answer::result_code` at the stage the step ran (docs/SCHEMES.md
//! §Answers). A verified request's V2 signature is the spec's, recomputed
//! here; the signed refusal's `Body-Sign` is the independent HMAC's.

use crate::input::{self, Opts};
use crate::util;
use arbitrary::{Arbitrary, Unstructured};
use koosign::merchant::{scratch_len, Merchant, Policy, Replay, Request, Window};
use koosign::{
    detect_protocol, result_code, validate_v1, validate_v2, verify_v1_json, verify_v1_query, verify_v2, Error,
    NonceCache, Protocol, Stage, V2Auth, V2Scheme, MAX_NOTIFICATION_BODY, REFUSAL_MAX_LEN,
};

/// Layout: `Opts`, `text` decoy, `text` key, `byte` method (`% 3`: GET,
/// POST, PUT), `text` query, `list(text name, text value; 8)` headers,
/// `rest` body.
#[derive(Debug)]
pub struct Case<'a> {
    pub opts: Opts,
    pub decoy: &'a str,
    pub key: &'a str,
    pub method: &'static str,
    pub query: &'a str,
    pub headers: Vec<(&'a str, &'a str)>,
    pub body: &'a [u8],
}

impl<'a> Arbitrary<'a> for Case<'a> {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        let opts = Opts::read(u);
        let decoy = input::text(u);
        let key = input::text(u);
        let method = ["GET", "POST", "PUT"][usize::from(input::byte(u) % 3)];
        let query = input::text(u);
        let headers = input::pairs(u, 8);
        Ok(Case { opts, decoy, key, method, query, headers, body: input::rest(u) })
    }
}

/// (error code, resultCode) of a refusal, or (protocol, key index) of a verified request.
type Outcome = Result<(&'static str, usize), (&'static str, &'static str)>;

fn steps(c: &Case<'_>, keys: &[&str], window: Option<u64>, store: Option<&mut NonceCache<4>>) -> Outcome {
    let refuse = |e: Error, s: Stage| (e.code(), result_code(&e, s).as_str());
    let before = |e| refuse(e, Stage::BeforeAuthentication);
    let after = |e| refuse(e, Stage::Authenticated);
    let store = match store {
        Some(s) => koosign::Replay::Store(s),
        None => koosign::Replay::Unchecked,
    };
    if c.body.len() > MAX_NOTIFICATION_BODY {
        return Err(after(Error::InputTooLarge { limit: MAX_NOTIFICATION_BODY }));
    }
    let p = detect_protocol(c.method, &c.headers, c.query).map_err(before)?;
    let (v2w, v1w) = match window {
        Some(w) => (koosign::Freshness::with_window(c.opts.now, w), koosign::Freshness::with_window(c.opts.now, w)),
        None => (koosign::Freshness::Unchecked, koosign::Freshness::Unchecked),
    };
    match p {
        Protocol::V2Query | Protocol::V2Headers => {
            let mut scratch = vec![0u8; c.query.len()];
            let (scheme, auth) = if p == Protocol::V2Query {
                (V2Scheme::Query, V2Auth::from_query(c.query, &mut scratch))
            } else {
                (V2Scheme::Headers, V2Auth::from_headers(&c.headers))
            };
            let auth = auth.map_err(before)?;
            let v = verify_v2(scheme, &auth, c.body, keys, v2w, store).map_err(before)?;
            let n = v.notification().map_err(after)?;
            validate_v2(&n).map_err(after)?;
            let spec = crate::v2::spec_signature(scheme == V2Scheme::Headers, c.body, keys[v.key_index()], auth.nonce, auth.timestamp);
            assert!(spec.eq_ignore_ascii_case(auth.signature), "verified a signature that is not the spec's");
            Ok((p.as_str(), v.key_index()))
        }
        Protocol::V1Query | Protocol::V1Json => {
            let mut scratch = vec![0u8; c.query.len() + c.body.len() + 64 * 1024];
            let v = if p == Protocol::V1Query {
                verify_v1_query(c.query, keys, v1w, store, &mut scratch)
            } else {
                let t = c.headers.iter().find(|(n, _)| n.trim().eq_ignore_ascii_case("authToken")).map_or("", |(_, v)| v.trim());
                verify_v1_json(t, c.body, keys, v1w, store, &mut scratch)
            }
            .map_err(before)?;
            validate_v1(v.params()).map_err(after)?;
            Ok((p.as_str(), v.key_index()))
        }
    }
}

/// The `merchant` target. `Ok` when the request verified.
pub fn check(c: &Case<'_>) -> Result<(), &'static str> {
    let keys = c.opts.keys(c.decoy, c.key);
    let window = (c.opts.flags & 1 != 0).then_some(if c.opts.flags & 2 != 0 { c.opts.window } else { 60_000 });
    let w = window.map_or(Window::Unchecked, Window::checked);
    let policy = Policy { v2_window: w, v1_window: w, licence_window: w };
    let m = match Merchant::<2>::new(&keys, policy) {
        Ok(m) => m,
        Err(e) => {
            // Only the key list can be refused: none, an empty or an over-long key.
            assert!(matches!(e, Error::NoAccessKey | Error::InputTooLarge { limit: 256 }), "{e:?}");
            assert!(keys.iter().any(|k| k.is_empty() || k.len() > 256));
            return Err("keys refused");
        }
    };
    let use_store = c.opts.use_nonce_store();
    let (mut s1, mut s2) = (NonceCache::<4>::new(), NonceCache::<4>::new());
    let want = steps(c, &keys, window, use_store.then_some(&mut s1));
    let req = Request { method: c.method, query: c.query, headers: &c.headers, body: c.body };
    let mut scratch = vec![0u8; scratch_len(&req)];
    let replay = if use_store { Replay::Store(&mut s2) } else { Replay::Unchecked };
    let got: Outcome = match m.verify(&req, c.opts.now, replay, &mut scratch) {
        Ok(v) => Ok((v.protocol().as_str(), v.key_index())),
        Err(r) => {
            let mut out = [0u8; REFUSAL_MAX_LEN];
            let a = m.refusal(&r, &mut out).expect("a refusal always fits REFUSAL_MAX_LEN");
            let sig = util::b64(&util::hmac_sha256(keys[0].as_bytes(), a.body().as_bytes()));
            assert_eq!(a.body_sign(), format!("sign_type=\"HMAC-SHA256\", signature=\"{sig}\""));
            Err((r.error().code(), r.result_code().as_str()))
        }
    };
    assert_eq!(got, want, "Merchant::verify differs from its steps");
    if use_store {
        assert_eq!(s1.len(), s2.len(), "the context and the steps recorded different nonces");
    }
    got.map(|_| ()).map_err(|_| "refused")
}
