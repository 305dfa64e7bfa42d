//! Issue 13 item 9 (fail-closed defaults), through the public API: no
//! one-shot verifier can be called without naming what it skips, and each
//! named skip (`Freshness::Unchecked`, `Replay::Unchecked`,
//! `Replay::Deferred`) leaves out exactly its own check and nothing else.
//!
//! The compile-level half: the signatures below are pinned (a verifier
//! taking an `Option` again would not compile here), and
//! `core/src/lib.rs`'s `FailClosedDoctests` holds `compile_fail` examples:
//! `None` in place of a freshness or a replay policy does not compile.

use koosign::{
    build_v1_query, licence_sign, sign_apig, verify_apig, verify_licence, verify_v1_json, verify_v1_query, verify_v2,
    ApigRequest, ApigVerified, Error, Freshness, LicenceVerified, NonceCache, NonceStore, Replay, Result, V1Params,
    V2Auth, V2Scheme, VerifiedV1, VerifiedV2, DEFAULT_WINDOW_MS, V1_DEFAULT_WINDOW_MS,
};
use koosign::merchant::{Merchant, Policy, Request};

const KEY: &str = "testAccessKey123";
// docs/SCHEMES.md §S2 worked example (the guide's values).
const BODY: &[u8] = br#"{"activity":"newInstance","businessId":"87b94795-0603-4e24-8ae5-69420d60e3c8","orderId":"CS2211181819B4LVS","orderLineId":"CS2211181819B4LVS-000001","testFlag":"1"}"#;
const NONCE: &str = "50D83FDECAED6CCD8EF597F2A577950527928BA287D04E6036E92B2806FD17DA";
const TS: &str = "1680508066618";
const TS_MS: u64 = 1_680_508_066_618;
const SIG: &str = "CD8D59BB7FCF7574752B5EB0ED04B3ACF4A759DA53F24D30A79ABE45C5D1BA25";
const KIT_SIG: &str = "ABB44B4C7A867A9F5EB8D9B7D9DF42E804FF66BC084EE412C49CFAFBFD5D8BE6";
/// A day after the request: stale under every default window.
const LATE: u64 = TS_MS + 86_400_000;

/// Compile-level: every one-shot verifier's freshness and replay
/// parameters are the named types, not `Option`s.
#[test]
fn verifier_signatures_take_named_policies() {
    let _: for<'s, 'k> fn(&str, &[&'k str], Freshness, Replay<'_>, &'s mut [u8]) -> Result<VerifiedV1<'s, 'k>> =
        verify_v1_query;
    let _: for<'s, 'k> fn(&str, &[u8], &[&'k str], Freshness, Replay<'_>, &'s mut [u8]) -> Result<VerifiedV1<'s, 'k>> =
        verify_v1_json;
    // (a method with an impl lifetime: pinned through a typed closure)
    let _ = |p: V1Params<'_>, keys: &[&str], f: Freshness, r: Replay<'_>| p.verify(keys, f, r).map(|v| v.key_index());
    let _: for<'a, 'k> fn(V2Scheme, &V2Auth<'_>, &'a [u8], &[&'k str], Freshness, Replay<'_>) -> Result<VerifiedV2<'a, 'k>> =
        verify_v2;
    let _: for<'b> fn(&str, &str, &'b [u8], &str, &[&str], Freshness) -> Result<LicenceVerified<'b>> = verify_licence;
    let _: fn(&ApigRequest<'_>, &[(&str, &str)], Freshness) -> Result<ApigVerified> = verify_apig;
}

fn auth() -> V2Auth<'static> {
    V2Auth { signature: SIG, timestamp: TS, nonce: NONCE }
}

fn kit_auth() -> V2Auth<'static> {
    V2Auth { signature: KIT_SIG, timestamp: TS, nonce: NONCE }
}

#[test]
fn v2_unchecked_freshness_skips_only_the_window() {
    for (scheme, a) in [(V2Scheme::Query, auth()), (V2Scheme::Headers, kit_auth())] {
        // Checked: a day late is stale.
        assert_eq!(
            verify_v2(scheme, &a, BODY, &[KEY], Freshness::new(LATE), Replay::Unchecked).err(),
            Some(Error::StaleTimestamp)
        );
        // Unchecked window: accepted, but the replay store still works.
        let mut cache = NonceCache::<4>::new();
        let v = verify_v2(scheme, &a, BODY, &[KEY], Freshness::Unchecked, Replay::Store(&mut cache)).unwrap();
        assert_eq!(v.replay_expires_ms(), TS_MS + DEFAULT_WINDOW_MS);
        assert_eq!(
            verify_v2(scheme, &a, BODY, &[KEY], Freshness::Unchecked, Replay::Store(&mut cache)).err(),
            Some(Error::ReplayedNonce)
        );
        // ... and so do the signature and the format.
        let forged = V2Auth { signature: KIT_SIG, ..auth() };
        let wrong = if scheme == V2Scheme::Query { forged } else { auth() };
        assert_eq!(
            verify_v2(scheme, &wrong, BODY, &[KEY], Freshness::Unchecked, Replay::Unchecked).err(),
            Some(Error::SignatureMismatch)
        );
        let bad_ts = V2Auth { timestamp: "01680508066618", ..a };
        assert_eq!(
            verify_v2(scheme, &bad_ts, BODY, &[KEY], Freshness::Unchecked, Replay::Unchecked).err(),
            Some(Error::BadTimestamp)
        );
    }
}

/// A store that refuses everything: a verifier that consults it fails.
struct Refusing(usize);

impl NonceStore for Refusing {
    fn check_and_insert(&mut self, _: &[u8], _: u64, _: u64) -> Result<()> {
        self.0 += 1;
        Err(Error::StoreUnavailable)
    }
}

#[test]
fn v2_unchecked_replay_skips_only_the_store() {
    let fresh = Freshness::new(TS_MS + 1_000);
    // Replay::Unchecked: the same request twice is accepted ...
    for _ in 0..2 {
        verify_v2(V2Scheme::Query, &auth(), BODY, &[KEY], fresh, Replay::Unchecked).unwrap();
    }
    // ... but the window is still checked.
    assert_eq!(
        verify_v2(V2Scheme::Query, &auth(), BODY, &[KEY], Freshness::new(LATE), Replay::Unchecked).err(),
        Some(Error::StaleTimestamp)
    );
    // A store is consulted only when named, and then fails closed.
    let mut down = Refusing(0);
    assert_eq!(
        verify_v2(V2Scheme::Query, &auth(), BODY, &[KEY], fresh, Replay::Store(&mut down)).err(),
        Some(Error::StoreUnavailable)
    );
    assert_eq!(down.0, 1);
}

#[test]
fn v2_deferred_records_nothing_and_names_the_key() {
    let fresh = Freshness::with_window(TS_MS + 1_000, 30_000);
    let a = auth();
    let v = verify_v2(V2Scheme::Query, &a, BODY, &[KEY], fresh, Replay::Deferred).unwrap();
    assert_eq!(a.replay_key(), NONCE.as_bytes());
    assert_eq!(v.replay_expires_ms(), TS_MS + 30_000);
    // Deferred still checks the window and the signature.
    assert_eq!(
        verify_v2(V2Scheme::Query, &a, BODY, &[KEY], Freshness::new(LATE), Replay::Deferred).err(),
        Some(Error::StaleTimestamp)
    );
    // Nothing was recorded: the caller records the key it was given, and
    // the core's own store step then sees that very key as a replay.
    let mut cache = NonceCache::<4>::new();
    cache.check_and_insert(a.replay_key(), TS_MS + 1_000, v.replay_expires_ms()).unwrap();
    assert_eq!(
        verify_v2(V2Scheme::Query, &a, BODY, &[KEY], fresh, Replay::Store(&mut cache)).err(),
        Some(Error::ReplayedNonce)
    );
}

const V1_TS: &str = "20200727073711903";

fn v1_query() -> (String, u64) {
    let params = [("activity", "newInstance"), ("orderId", "CS1"), ("timeStamp", V1_TS)];
    let mut out = vec![0u8; 1024];
    let q = build_v1_query(&params, KEY, &mut out).unwrap().to_owned();
    (q, koosign::parse_v1_timestamp(V1_TS).unwrap())
}

#[test]
fn v1_named_skips_skip_exactly_their_check() {
    let (q, ts) = v1_query();
    let mut s = vec![0u8; q.len()];
    assert_eq!(
        verify_v1_query(&q, &[KEY], Freshness::with_window(ts + 86_400_000, V1_DEFAULT_WINDOW_MS), Replay::Unchecked, &mut s)
            .err(),
        Some(Error::StaleTimestamp)
    );
    // Unchecked window, a store: accepted once, then a replay.
    let mut cache = NonceCache::<4>::new();
    let v = verify_v1_query(&q, &[KEY], Freshness::Unchecked, Replay::Store(&mut cache), &mut s).unwrap();
    assert_eq!(v.replay_expires_ms(), ts + V1_DEFAULT_WINDOW_MS);
    let mut s = vec![0u8; q.len()];
    assert_eq!(
        verify_v1_query(&q, &[KEY], Freshness::Unchecked, Replay::Store(&mut cache), &mut s).err(),
        Some(Error::ReplayedNonce)
    );
    // Both skipped: the token is still checked.
    let tampered = q.replace("CS1", "CS2");
    let mut s = vec![0u8; tampered.len()];
    assert_eq!(
        verify_v1_query(&tampered, &[KEY], Freshness::Unchecked, Replay::Unchecked, &mut s).err(),
        Some(Error::SignatureMismatch)
    );
    // Replay::Unchecked: twice accepted; the store is never consulted.
    let mut down = Refusing(0);
    for _ in 0..2 {
        let mut s = vec![0u8; q.len()];
        verify_v1_query(&q, &[KEY], Freshness::Unchecked, Replay::Unchecked, &mut s).unwrap();
    }
    let mut s = vec![0u8; q.len()];
    assert_eq!(
        verify_v1_query(&q, &[KEY], Freshness::Unchecked, Replay::Store(&mut down), &mut s).err(),
        Some(Error::StoreUnavailable)
    );
    assert_eq!(down.0, 1);
}

#[test]
fn v1_deferred_key_is_the_stores_key_and_the_contexts() {
    let (q, ts) = v1_query();
    let now = ts + 1_000;
    let fresh = Freshness::with_window(now, V1_DEFAULT_WINDOW_MS);
    // The key is `v1:` + the token, a space read as `+` (SCHEMES.md §S1 item 8).
    let mut s = vec![0u8; q.len()];
    let v = verify_v1_query(&q, &[KEY], fresh, Replay::Deferred, &mut s).unwrap();
    let key = v.replay_key();
    assert_eq!(&key[..3], b"v1:");
    assert_eq!(&key[3..], v.get("authToken").unwrap().replace(' ', "+").as_bytes());
    assert_eq!(v.replay_expires_ms(), ts + V1_DEFAULT_WINDOW_MS);
    let mut cache = NonceCache::<4>::new();
    cache.check_and_insert(&key, now, v.replay_expires_ms()).unwrap();
    let mut s = vec![0u8; q.len()];
    assert_eq!(
        verify_v1_query(&q, &[KEY], fresh, Replay::Store(&mut cache), &mut s).err(),
        Some(Error::ReplayedNonce)
    );
    // The merchant context's Deferred gives the same key and expiry.
    let m = Merchant::<1>::new(&[KEY], Policy::default()).unwrap();
    let req = Request { method: "GET", query: &q, headers: &[], body: b"" };
    let mut scratch = vec![0u8; koosign::merchant::scratch_len(&req)];
    let mv = m.verify(&req, now, Replay::Deferred, &mut scratch).unwrap();
    assert_eq!(mv.replay_key(), &key[..]);
    assert_eq!(mv.replay_expires_ms(), v.replay_expires_ms());
}

#[test]
fn v1_json_named_skips() {
    let params = [("activity", "getLicense"), ("orderId", "CS1"), ("timeStamp", V1_TS)];
    let token = koosign::v1_auth_token(&params, KEY).unwrap();
    let body = format!(r#"{{"activity":"getLicense","orderId":"CS1","timeStamp":"{V1_TS}"}}"#);
    let ts = koosign::parse_v1_timestamp(V1_TS).unwrap();
    let n = koosign::v1::json_scratch_len(body.len(), token.as_str().len());
    let mut s = vec![0u8; n];
    assert_eq!(
        verify_v1_json(token.as_str(), body.as_bytes(), &[KEY], Freshness::new(ts + 86_400_000), Replay::Unchecked, &mut s)
            .err(),
        Some(Error::StaleTimestamp)
    );
    let mut cache = NonceCache::<4>::new();
    let mut s = vec![0u8; n];
    verify_v1_json(token.as_str(), body.as_bytes(), &[KEY], Freshness::Unchecked, Replay::Store(&mut cache), &mut s).unwrap();
    let mut s = vec![0u8; n];
    assert_eq!(
        verify_v1_json(token.as_str(), body.as_bytes(), &[KEY], Freshness::Unchecked, Replay::Store(&mut cache), &mut s)
            .err(),
        Some(Error::ReplayedNonce)
    );
    let mut s = vec![0u8; n];
    verify_v1_json(token.as_str(), body.as_bytes(), &[KEY], Freshness::Unchecked, Replay::Deferred, &mut s).unwrap();
}

#[test]
fn licence_and_apig_unchecked_skip_only_the_window() {
    let body = b"{}";
    let sig = licence_sign(TS, "n1", body, KEY).unwrap();
    assert_eq!(
        verify_licence(TS, "n1", body, sig.as_str(), &[KEY], Freshness::new(LATE)).err(),
        Some(Error::StaleTimestamp)
    );
    assert_eq!(verify_licence(TS, "n1", body, sig.as_str(), &[KEY], Freshness::Unchecked).map(|v| v.key_index()), Ok(0));
    assert_eq!(
        verify_licence(TS, "n2", body, sig.as_str(), &[KEY], Freshness::Unchecked).err(),
        Some(Error::SignatureMismatch)
    );

    let req = ApigRequest { method: "GET", host: "example.com", path: "/v1/x", query: &[], headers: &[], body: b"" };
    let mut out = vec![0u8; 4096];
    let signed = sign_apig(&req, "AK", "SK", Some(TS_MS), &mut out).unwrap();
    let sent: Vec<(&str, &str)> = signed.headers_to_add.iter().map(|(n, v)| (*n, *v)).collect();
    let req = ApigRequest { headers: &sent, ..req };
    assert_eq!(
        verify_apig(&req, &[("AK", "SK")], Freshness::with_window(LATE, koosign::APIG_DEFAULT_WINDOW_MS)).err(),
        Some(Error::StaleTimestamp)
    );
    assert_eq!(verify_apig(&req, &[("AK", "SK")], Freshness::Unchecked).map(|v| v.credential_index), Ok(0));
    assert_eq!(verify_apig(&req, &[("AK", "SK2")], Freshness::Unchecked).err(), Some(Error::SignatureMismatch));
}

#[test]
fn freshness_unchecked_is_only_ever_named() {
    // The constructors are always checked; only the named variant skips.
    assert_eq!(Freshness::new(5), Freshness::Checked { now_ms: 5, window_ms: DEFAULT_WINDOW_MS });
    assert_eq!(Freshness::with_window(5, 0).check(6), Err(Error::StaleTimestamp));
    assert_eq!(Freshness::with_window(5, 0).check(5), Ok(()));
    assert_eq!(Freshness::Unchecked.check(u64::MAX), Ok(()));
    assert_eq!(koosign::Window::Unchecked.at(5), Freshness::Unchecked);
    assert_eq!(koosign::Window::checked(7).at(5), Freshness::with_window(5, 7));
}
