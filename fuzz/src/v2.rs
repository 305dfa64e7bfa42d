//! S2 / S2b: V2 and kit verification (`V2Auth::from_query`,
//! `V2Auth::from_headers`, `verify_v2` with a `NonceCache`).

use crate::assert_error_in;
use crate::input::{self, Opts};
use crate::util;
use arbitrary::{Arbitrary, Unstructured};
use koosign::{
    parse_form, parse_unix_ms, verify_v2, DecryptMode, Error, Freshness, NonceCache, Notification, V2Auth, V2Scheme,
};
use koosign::Replay;
use koosign::v2::MAX_NONCE_LEN;

/// Where the authentication values come from.
#[derive(Debug)]
pub enum Source<'a> {
    /// `text` signature, `text` timestamp, `text` nonce.
    Direct(&'a str, &'a str, &'a str),
    /// `text` query string.
    Query(&'a str),
    /// `list(text name, text value; 8)` headers.
    Headers(Vec<(&'a str, &'a str)>),
}

/// Layout: `Opts`, `text` decoy, `text` key, `byte` scheme (bit 0: kit),
/// `byte` source (`% 3`: direct, query, headers) and its fields, `rest` body.
#[derive(Debug)]
pub struct Case<'a> {
    pub opts: Opts,
    pub decoy: &'a str,
    pub key: &'a str,
    pub kit: bool,
    pub source: Source<'a>,
    pub body: &'a [u8],
}

impl<'a> Arbitrary<'a> for Case<'a> {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        let opts = Opts::read(u);
        let decoy = input::text(u);
        let key = input::text(u);
        let kit = input::byte(u) & 1 == 1;
        let source = match input::byte(u) % 3 {
            0 => Source::Direct(input::text(u), input::text(u), input::text(u)),
            1 => Source::Query(input::text(u)),
            _ => Source::Headers(input::pairs(u, 8)),
        };
        Ok(Case { opts, decoy, key, kit, source, body: input::rest(u) })
    }
}

/// The spec's signature, computed from scratch (upper-case hex).
pub fn spec_signature(kit: bool, body: &[u8], key: &str, nonce: &str, ts: &str) -> String {
    let mut canonical = format!("{key}{nonce}{ts}").into_bytes();
    if kit {
        canonical.extend_from_slice(body);
    } else {
        canonical.extend_from_slice(util::hex(&util::hmac_sha256(key.as_bytes(), body)).as_bytes());
    }
    util::hex(&util::hmac_sha256(key.as_bytes(), &canonical)).to_uppercase()
}

/// The `v2_verify` target. `Ok` when the request verified.
pub fn check(c: &Case<'_>) -> Result<(), &'static str> {
    let keys = c.opts.keys(c.decoy, c.key);
    let fresh = c.opts.freshness();
    let scheme = if c.kit { V2Scheme::Headers } else { V2Scheme::Query };
    let mut scratch;
    let auth = match &c.source {
        Source::Direct(s, t, n) => V2Auth { signature: s, timestamp: t, nonce: n },
        Source::Query(q) => {
            scratch = vec![0u8; q.len()];
            let mut s2 = vec![0u8; q.len()];
            let pairs = parse_form(q, &mut s2);
            match V2Auth::from_query(q, &mut scratch) {
                Ok(a) => {
                    let p = pairs.expect("from_query accepted what parse_form refuses");
                    assert_eq!(Some(a.signature), p.get("signature"));
                    assert_eq!(Some(a.timestamp), p.get("timestamp"));
                    assert_eq!(Some(a.nonce), p.get("nonce"));
                    a
                }
                Err(e) => {
                    assert_error_in(&e, &["MALFORMED_ENCODING", "INPUT_TOO_LARGE", "MISSING_PARAMETER"], "from_query");
                    return Err(e.code());
                }
            }
        }
        Source::Headers(h) => {
            let first = |name: &str| h.iter().find(|(n, _)| n.trim().eq_ignore_ascii_case(name)).map(|(_, v)| v.trim());
            match V2Auth::from_headers(h) {
                Ok(a) => {
                    assert_eq!(Some(a.signature), first("x-sign"));
                    assert_eq!(Some(a.timestamp), first("x-timestamp"));
                    assert_eq!(Some(a.nonce), first("x-nonce"));
                    a
                }
                Err(e) => {
                    assert!(matches!(e, Error::MissingParameter(_)), "from_headers: {e:?}");
                    return Err(e.code());
                }
            }
        }
    };
    let _ = format!("{auth:?}");

    let mut cache = NonceCache::<4>::new();
    let use_store = c.opts.use_nonce_store();
    let r = {
        let store = if use_store { Replay::Store(&mut cache) } else { Replay::Unchecked };
        verify_v2(scheme, &auth, c.body, &keys, fresh, store)
    };
    let v = match r {
        Ok(v) => v,
        Err(e) => {
            assert_error_in(
                &e,
                &[
                    "MISSING_PARAMETER",
                    "BAD_TIMESTAMP",
                    "INPUT_TOO_LARGE",
                    "MALFORMED_ENCODING",
                    "AMBIGUOUS",
                    "NO_ACCESS_KEY",
                    "SIGNATURE_MISMATCH",
                    "STALE_TIMESTAMP",
                ],
                "verify_v2",
            );
            match e {
                Error::MalformedEncoding(t) => assert_eq!(t, "nonce must be printable ASCII"),
                Error::Ambiguous(t) => {
                    assert!(c.kit, "a V2 basic request was refused as ambiguous");
                    assert!(!crate::util::kit_ok(auth.nonce, c.body), "a well-formed kit request was refused: {t}");
                    if t == "kit body starts with a digit" {
                        assert!(c.body.first().is_some_and(u8::is_ascii_digit));
                    }
                }
                _ => {}
            }
            assert!(cache.is_empty(), "a request that failed verification entered the nonce store");
            return Err(e.code());
        }
    };
    assert!(v.key_index() < keys.len());
    let key = keys[v.key_index()];
    let spec = spec_signature(c.kit, c.body, key, auth.nonce, auth.timestamp);
    assert!(spec.eq_ignore_ascii_case(auth.signature), "verified a signature that is not the spec's");
    assert_eq!(v.body(), c.body);
    assert_eq!(parse_unix_ms(auth.timestamp), Ok(v.timestamp_ms()));
    assert!(!auth.nonce.is_empty() && auth.nonce.len() <= MAX_NONCE_LEN);
    // SCHEMES.md S2 decisions: 13-digit timestamp without a leading zero,
    // printable ASCII nonce, no kit body starting with a digit.
    let ts = auth.timestamp.as_bytes();
    assert!(ts.len() == 13 && ts[0] != b'0' && ts.iter().all(u8::is_ascii_digit), "verified timestamp {ts:?}");
    assert!(auth.nonce.bytes().all(|b| b.is_ascii_graphic()), "verified nonce {:?}", auth.nonce);
    assert!(!(c.kit && c.body.first().is_some_and(u8::is_ascii_digit)), "verified a kit body starting with a digit");
    assert!(!c.kit || crate::util::kit_ok(auth.nonce, c.body), "verified a kit request whose body does not start with `{{` or whose nonce holds one");
    assert!(fresh.check(v.timestamp_ms()).is_ok(), "stale request verified");
    if use_store {
        let now = match fresh {
            Freshness::Checked { now_ms, .. } => now_ms,
            Freshness::Unchecked => v.timestamp_ms(),
        };
        assert_eq!(cache.len(), 1);
        assert!(cache.contains(auth.nonce.as_bytes(), now), "verified nonce not recorded");
        // The same request again is a replay.
        let again = verify_v2(scheme, &auth, c.body, &keys, fresh, Replay::Store(&mut cache));
        assert_eq!(again.err(), Some(Error::ReplayedNonce), "replay not detected");
        assert_eq!(cache.len(), 1);
    }
    let _ = format!("{v:?}");
    match v.notification() {
        Ok(n) => {
            for f in [&n.activity, &n.order_id, &n.instance_id, &n.business_id, &n.customer_name] {
                if let Some(t) = Notification::text(f) {
                    let mut out = vec![0u8; t.len()];
                    if let Err(e) = v.decrypt_field(t, DecryptMode::Auto, &mut out) {
                        assert_eq!(e, Error::Decrypt);
                    }
                }
            }
        }
        Err(e) => assert!(matches!(e, Error::MalformedEncoding(_))),
    }
    Ok(())
}
