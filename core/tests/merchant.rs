//! The keyed merchant context (`koosign::merchant`): the repository's JDK
//! vectors through the context agree with the vectors and with the one-shot
//! functions; rotation; windows and replay left out only by name; replay
//! refused; a full or unreachable store fails closed; refusals and answers
//! signed over their exact bytes (checked with an independent HMAC).

use base64ct::{Base64, Encoding};
use hmac::{KeyInit, Mac};
use koosign::merchant::{scratch_len, Answer, AppInfo, Merchant, Policy, Rejection, Replay, Request, Window};
use koosign::Freshness;
use koosign::*;
use serde_json::Value;

const KEY: &str = "testAccessKey123";
const V2_BODY: &[u8] = br#"{"activity":"newInstance","businessId":"87b94795-0603-4e24-8ae5-69420d60e3c8","orderId":"CS2211181819B4LVS","orderLineId":"CS2211181819B4LVS-000001","testFlag":"1"}"#;
const V2_QUERY: &str = "signature=CD8D59BB7FCF7574752B5EB0ED04B3ACF4A759DA53F24D30A79ABE45C5D1BA25&timestamp=1680508066618&nonce=50D83FDECAED6CCD8EF597F2A577950527928BA287D04E6036E92B2806FD17DA";
const V2_NOW: u64 = 1_680_508_070_000;
const NONCE: &str = "50D83FDECAED6CCD8EF597F2A577950527928BA287D04E6036E92B2806FD17DA";
const TS: &str = "1680508066618";

/// b64(HMAC-SHA256(key, msg)), written here with the `hmac` crate
/// directly (not through koosign).
fn ref_b64_hmac(key: &str, msg: &[u8]) -> String {
    let mut m = <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(key.as_bytes()).unwrap();
    m.update(msg);
    let mut out = [0u8; 44];
    Base64::encode(&m.finalize().into_bytes(), &mut out).unwrap().to_owned()
}

fn ref_body_sign(key: &str, body: &[u8]) -> String {
    format!("sign_type=\"HMAC-SHA256\", signature=\"{}\"", ref_b64_hmac(key, body))
}

fn v2_request<'a>(query: &'a str, body: &'a [u8]) -> Request<'a> {
    Request { method: "POST", query, headers: &[], body }
}

fn cases() -> Vec<Value> {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../vectors/notifications.jsonl");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines().filter(|l| !l.trim().is_empty()).map(|l| serde_json::from_str(l).unwrap()).collect()
}

fn s<'a>(c: &'a Value, k: &str) -> &'a str {
    c[k].as_str().unwrap_or_else(|| panic!("{k} missing in {c}"))
}

#[test]
fn jdk_vectors_through_the_context_agree_with_the_vectors_and_the_one_shots() {
    let mut counts = std::collections::BTreeMap::<String, usize>::new();
    for c in cases() {
        let kind = s(&c, "kind");
        let key = s(&c, "access_key");
        let m = Merchant::<2>::new(&["another key", key], Policy::UNCHECKED).unwrap();
        match kind {
            "v1_query" => {
                let q = s(&c, "query");
                let mut scratch = vec![0u8; koosign::v1::query_scratch_len(q.len())];
                let v = m.verify_v1_query(q, 0, Replay::Unchecked, &mut scratch).unwrap();
                assert_eq!(v.key_index(), 1, "{c}");
                assert_eq!(v.get("authToken").map(|t| t.replace(' ', "+")), Some(s(&c, "auth_token").to_string()));
                let mut s2 = vec![0u8; q.len()];
                let one = verify_v1_query(q, &["another key", key], Freshness::Unchecked, Replay::Unchecked, &mut s2).unwrap();
                assert_eq!((one.key_index(), one.params()), (v.key_index(), v.params()));
                // The whole request through `verify`: the signature passes; only the
                // activity table may refuse it (after authentication).
                let req = Request { method: "GET", query: q, headers: &[], body: b"" };
                let mut scratch = vec![0u8; scratch_len(&req)];
                match m.verify(&req, 0, Replay::Unchecked, &mut scratch) {
                    Ok(v) => assert_eq!((v.protocol(), v.key_index()), (Protocol::V1Query, 1)),
                    Err(r) => assert_eq!((r.stage(), r.result_code()), (Stage::Authenticated, ResultCode::BadRequest), "{r:?} {c}"),
                };
            }
            "v2_basic" | "v2_kit" => {
                let scheme = if kind == "v2_basic" { V2Scheme::Query } else { V2Scheme::Headers };
                let (body, nonce, ts, sig) = (s(&c, "body").as_bytes(), s(&c, "nonce"), s(&c, "timestamp"), s(&c, "signature"));
                let signer = Merchant::<1>::new(&[key], Policy::UNCHECKED).unwrap();
                // The vectors give the signature in either case; koosign signs upper case.
                assert!(signer.sign_v2(scheme, body, nonce, ts).as_str().eq_ignore_ascii_case(sig), "{c}");
                assert_eq!(sign_v2(scheme, body, key, nonce, ts).unwrap(), signer.sign_v2(scheme, body, nonce, ts));
                let auth = V2Auth { signature: sig, timestamp: ts, nonce };
                let v = m.verify_v2(scheme, &auth, body, 0, Replay::Unchecked).unwrap();
                assert_eq!((v.key_index(), v.body()), (1, body));
                let one = verify_v2(scheme, &auth, body, &["another key", key], Freshness::Unchecked, Replay::Unchecked).unwrap();
                assert_eq!((one.key_index(), one.timestamp_ms()), (v.key_index(), v.timestamp_ms()));
                let query;
                let headers;
                let req = if scheme == V2Scheme::Query {
                    query = format!("signature={sig}&timestamp={ts}&nonce={nonce}");
                    Request { method: "POST", query: &query, headers: &[], body }
                } else {
                    headers = [("X-Sign", sig), ("x-timestamp", ts), ("X-NONCE", nonce)];
                    Request { method: "POST", query: "", headers: &headers, body }
                };
                let mut scratch = vec![0u8; scratch_len(&req)];
                match m.verify(&req, 0, Replay::Unchecked, &mut scratch) {
                    Ok(v) => assert_eq!(v.key_index(), 1),
                    Err(r) => assert_eq!(r.stage(), Stage::Authenticated, "{r:?} {c}"),
                };
            }
            "body_sign" => {
                let body = s(&c, "body").as_bytes();
                let signer = Merchant::<1>::new(&[key], Policy::default()).unwrap();
                let h = signer.body_sign(body);
                assert_eq!(h.as_str(), format!("sign_type=\"HMAC-SHA256\", signature=\"{}\"", s(&c, "signature")));
                assert_eq!(h.as_str(), body_sign(body, key).unwrap().as_str());
                assert_eq!(h.as_str(), ref_body_sign(key, body));
                assert_eq!(m.verify_body_sign(h.as_str(), body).unwrap().key_index(), 1);
            }
            "aes_cbc" => {
                let ty = if c["encrypt_type"].as_u64() == Some(2) { EncryptType::Aes128 } else { EncryptType::Aes256 };
                let signer = Merchant::<1>::new(&[key], Policy::default()).unwrap();
                let wire = s(&c, "ciphertext");
                let mut out = vec![0u8; koosign::field::decrypt_out_len(wire.len())];
                assert_eq!(signer.decrypt(wire, DecryptMode::Only(ty), &mut out).unwrap(), s(&c, "plaintext"));
                let mut out2 = vec![0u8; wire.len()];
                assert_eq!(decrypt_field(wire, key, DecryptMode::Only(ty), &mut out2).unwrap(), s(&c, "plaintext"));
            }
            other => panic!("unknown kind {other}"),
        }
        *counts.entry(kind.to_string()).or_default() += 1;
    }
    for k in ["v1_query", "v2_basic", "v2_kit", "body_sign", "aes_cbc"] {
        assert!(counts.get(k).copied().unwrap_or(0) >= 30, "{k}: {counts:?}");
    }
}

#[test]
fn the_guide_vector_end_to_end() {
    let m = Merchant::<4>::new(&[KEY], Policy::default()).unwrap();
    let mut nonces = NonceCache::<16>::new();
    let req = v2_request(V2_QUERY, V2_BODY);
    let mut scratch = [0u8; 256];
    let v = m.verify(&req, V2_NOW, Replay::Store(&mut nonces), &mut scratch).unwrap();
    assert_eq!((v.protocol(), v.activity(), v.key_index(), v.timestamp_ms()), (Protocol::V2Query, Activity::NewInstance, 0, 1_680_508_066_618));
    assert_eq!(v.get("orderId"), Some("CS2211181819B4LVS"));
    assert_eq!(v.body(), V2_BODY);
    assert!(v.notification().is_some() && v.v1().is_none());
    // The same request again: a replay, refused before authentication completes (000001).
    let mut scratch = [0u8; 256];
    let r = m.verify(&req, V2_NOW, Replay::Store(&mut nonces), &mut scratch).unwrap_err();
    assert_eq!((r.error(), r.stage(), r.result_code()), (Error::ReplayedNonce, Stage::BeforeAuthentication, ResultCode::Unauthenticated));
    assert_eq!(r.protocol(), Some(Protocol::V2Query));
}

#[test]
fn rotation_every_key_verifies_key_zero_signs() {
    let m = Merchant::<3>::new(&["newKey-2026", KEY], Policy::default()).unwrap();
    let mut scratch = [0u8; 256];
    let v = m.verify(&v2_request(V2_QUERY, V2_BODY), V2_NOW, Replay::Unchecked, &mut scratch).unwrap();
    assert_eq!(v.key_index(), 1);
    // Answers are signed with key 0.
    let body = br#"{"resultCode":"000000","resultMsg":"success."}"#;
    assert_eq!(m.body_sign(body).as_str(), ref_body_sign("newKey-2026", body));
    let a = m.sign_answer(body).unwrap();
    assert_eq!((a.body().as_bytes(), a.body_sign()), (&body[..], ref_body_sign("newKey-2026", body).as_str()));
    // A Body-Sign under the second key verifies, with its index.
    let h = body_sign(body, KEY).unwrap();
    assert_eq!(m.verify_body_sign(h.as_str(), body).unwrap().key_index(), 1);
    assert_eq!(m.verify_body_sign(h.as_str(), b"{}"), Err(Error::SignatureMismatch));
    // S5 under the second key.
    let sig = licence_sign(TS, "n1", b"{}", KEY).unwrap();
    let l = m.verify_licence(TS, "n1", b"{}", sig.as_str(), V2_NOW).unwrap();
    assert_eq!((l.key_index(), l.timestamp_ms(), l.body()), (1, 1_680_508_066_618, &b"{}"[..]));
    assert_eq!(verify_licence(TS, "n1", b"{}", sig.as_str(), &["x", KEY], Freshness::Unchecked).unwrap().key_index(), 1);
    // A V1 query under the second key; the one-shot agrees.
    let q = build_v1_query(&[("activity", "newInstance"), ("orderId", "o1"), ("businessId", "b"), ("customerId", "c"), ("productId", "p"), ("timeStamp", "20230403073426618")], KEY, &mut [0u8; 512]).unwrap().to_owned();
    let mut s1 = [0u8; 512];
    let v = m.verify_v1_query(&q, 1_680_507_266_618, Replay::Unchecked, &mut s1).unwrap();
    assert_eq!(v.key_index(), 1);
    // A key the context does not hold is refused.
    let other = Merchant::<1>::new(&["newKey-2026"], Policy::default()).unwrap();
    let mut scratch = [0u8; 256];
    let r = other.verify(&v2_request(V2_QUERY, V2_BODY), V2_NOW, Replay::Unchecked, &mut scratch).unwrap_err();
    assert_eq!((r.error(), r.result_code()), (Error::SignatureMismatch, ResultCode::Unauthenticated));
}

#[test]
fn freshness_is_left_out_only_by_name() {
    let late = V2_NOW + 3_600_000;
    let mut scratch = [0u8; 256];
    let strict = Merchant::<1>::new(&[KEY], Policy::default()).unwrap();
    assert_eq!(strict.policy().v2_window, Window::Checked { window_ms: 60_000 });
    assert_eq!(strict.policy().v1_window, Window::checked(300_000));
    let r = strict.verify(&v2_request(V2_QUERY, V2_BODY), late, Replay::Unchecked, &mut scratch).unwrap_err();
    assert_eq!((r.error(), r.result_code()), (Error::StaleTimestamp, ResultCode::Unauthenticated));
    let unchecked = Merchant::<1>::new(&[KEY], Policy { v2_window: Window::Unchecked, ..Policy::default() }).unwrap();
    let mut scratch = [0u8; 256];
    assert!(unchecked.verify(&v2_request(V2_QUERY, V2_BODY), late, Replay::Unchecked, &mut scratch).is_ok());
    // The V1 window is the V1 one: ±5 min by default.
    let q = build_v1_query(&[("activity", "newInstance"), ("orderId", "o1"), ("businessId", "b"), ("customerId", "c"), ("productId", "p"), ("timeStamp", "20230403073426618")], KEY, &mut [0u8; 512]).unwrap().to_owned();
    let ts = parse_v1_timestamp("20230403073426618").unwrap();
    for (now, ok) in [(ts + 299_000, true), (ts + 301_000, false)] {
        let mut s1 = [0u8; 512];
        assert_eq!(strict.verify_v1_query(&q, now, Replay::Unchecked, &mut s1).err(), if ok { None } else { Some(Error::StaleTimestamp) });
    }
}

#[test]
fn replay_through_the_context_is_refused_for_every_protocol() {
    let m = Merchant::<1>::new(&[KEY], Policy::default()).unwrap();
    let mut slots = [NonceSlot::EMPTY; 8];
    let mut store = NonceSlots::new(&mut slots);
    // S2b.
    let sig = sign_v2(V2Scheme::Headers, V2_BODY, KEY, NONCE, TS).unwrap();
    let headers = [("x-sign", sig.as_str()), ("x-timestamp", TS), ("x-nonce", NONCE)];
    let req = Request { method: "POST", query: "", headers: &headers, body: V2_BODY };
    let mut scratch = [0u8; 8];
    assert_eq!(m.verify(&req, V2_NOW, Replay::Store(&mut store), &mut scratch).unwrap().protocol(), Protocol::V2Headers);
    let mut scratch = [0u8; 8];
    assert_eq!(m.verify(&req, V2_NOW, Replay::Store(&mut store), &mut scratch).unwrap_err().error(), Error::ReplayedNonce);
    // S1.
    let q = build_v1_query(&[("activity", "newInstance"), ("orderId", "o1"), ("businessId", "b"), ("customerId", "c"), ("productId", "p"), ("timeStamp", "20230403073426618")], KEY, &mut [0u8; 512]).unwrap().to_owned();
    let now = parse_v1_timestamp("20230403073426618").unwrap();
    let req = Request { method: "GET", query: &q, headers: &[], body: b"" };
    let mut scratch = vec![0u8; scratch_len(&req)];
    let v = m.verify(&req, now, Replay::Store(&mut store), &mut scratch).unwrap();
    assert_eq!((v.protocol(), v.activity()), (Protocol::V1Query, Activity::V1NewInstance));
    let mut scratch = vec![0u8; scratch_len(&req)];
    let r = m.verify(&req, now, Replay::Store(&mut store), &mut scratch).unwrap_err();
    assert_eq!((r.error(), r.result_code()), (Error::ReplayedNonce, ResultCode::Unauthenticated));
    assert_eq!(store.len(), 2);
}

struct Down;
impl NonceStore for Down {
    fn check_and_insert(&mut self, _: &[u8], _: u64, _: u64) -> Result<()> {
        Err(Error::StoreUnavailable)
    }
}

struct Confused;
impl NonceStore for Confused {
    fn check_and_insert(&mut self, _: &[u8], _: u64, _: u64) -> Result<()> {
        Err(Error::SignatureMismatch)
    }
}

#[test]
fn a_full_or_unreachable_store_fails_closed_with_000005() {
    let m = Merchant::<1>::new(&[KEY], Policy::default()).unwrap();
    let req = v2_request(V2_QUERY, V2_BODY);
    let check = |store: &mut dyn NonceStore, want: Error| {
        let mut scratch = [0u8; 256];
        let r: Rejection = m.verify(&req, V2_NOW, Replay::Store(store), &mut scratch).unwrap_err();
        assert_eq!((r.error(), r.result_code()), (want, ResultCode::MerchantFailure));
        let mut out = [0u8; REFUSAL_MAX_LEN];
        let a = m.refusal(&r, &mut out).unwrap();
        assert_eq!(a.body(), r#"{"resultCode":"000005","resultMsg":"internal error"}"#);
        assert_eq!(a.body_sign(), ref_body_sign(KEY, a.body().as_bytes()));
    };
    check(&mut Down, Error::StoreUnavailable);
    check(&mut Confused, Error::StoreUnavailable);
    check(&mut NonceSlots::new(&mut []), Error::NonceStoreFull);
    #[cfg(feature = "alloc")]
    check(&mut NonceTable::with_capacity(0), Error::NonceStoreFull);
    // The one-shot verifiers fail closed the same way.
    let mut qs = [0u8; 256];
    let auth = V2Auth::from_query(V2_QUERY, &mut qs).unwrap();
    assert_eq!(verify_v2(V2Scheme::Query, &auth, V2_BODY, &[KEY], Freshness::Unchecked, Replay::Store(&mut Confused)).err(), Some(Error::StoreUnavailable));
    let mut mem = [NonceSlot::EMPTY; 1];
    let mut t = NonceSlots::new(&mut mem);
    assert!(verify_v2(V2Scheme::Query, &auth, V2_BODY, &[KEY], Freshness::Unchecked, Replay::Store(&mut t)).is_ok());
    assert_eq!(verify_v2(V2Scheme::Query, &auth, V2_BODY, &[KEY], Freshness::Unchecked, Replay::Store(&mut t)).err(), Some(Error::ReplayedNonce));
}

#[test]
fn refusals_follow_the_answers_table_and_are_signed() {
    let m = Merchant::<1>::new(&[KEY], Policy::default()).unwrap();
    let cases: [(Request<'_>, Error, ResultCode); 5] = [
        (Request { method: "GET", query: "", headers: &[], body: b"" }, Error::MissingParameter("authToken"), ResultCode::Unauthenticated),
        (Request { method: "POST", query: "", headers: &[], body: b"{}" }, Error::MissingParameter("signature"), ResultCode::Unauthenticated),
        (
            Request { method: "POST", query: V2_QUERY, headers: &[("x-sign", "00")], body: V2_BODY },
            Error::Ambiguous("signals of two notification protocols (query and headers disagree)"),
            ResultCode::Unauthenticated,
        ),
        (Request { method: "POST", query: &V2_QUERY[..V2_QUERY.len() - 1], headers: &[], body: V2_BODY }, Error::SignatureMismatch, ResultCode::Unauthenticated),
        (Request { method: "PUT", query: V2_QUERY, headers: &[], body: V2_BODY }, Error::MalformedEncoding("method is neither GET nor POST"), ResultCode::Unauthenticated),
    ];
    for (req, err, code) in cases {
        let mut scratch = [0u8; 512];
        let r = m.verify(&req, V2_NOW, Replay::Unchecked, &mut scratch).unwrap_err();
        assert_eq!((r.error(), r.result_code()), (err, code), "{req:?}");
        let mut out = [0u8; REFUSAL_MAX_LEN];
        let a = m.refusal(&r, &mut out).unwrap();
        let json: Value = serde_json::from_str(a.body()).unwrap();
        assert_eq!(json["resultCode"], code.as_str());
        assert_eq!(a.body_sign(), ref_body_sign(KEY, a.body().as_bytes()));
        // The context's refusal is byte for byte the one-shot's.
        let mut out2 = [0u8; REFUSAL_MAX_LEN];
        let one = refusal(code, KEY, &mut out2).unwrap();
        assert_eq!((one.body(), one.body_sign()), (a.body(), a.body_sign()));
    }
    // A verified body that is no valid notification: 000002, after authentication.
    let body = br#"{"activity":"newInstance","activity":"releaseInstance","orderId":"o","orderLineId":"l"}"#;
    let sig = sign_v2(V2Scheme::Query, body, KEY, NONCE, TS).unwrap();
    let q = format!("signature={}&timestamp={TS}&nonce={NONCE}", sig.as_str());
    let mut scratch = [0u8; 512];
    let r = m.verify(&v2_request(&q, body), V2_NOW, Replay::Unchecked, &mut scratch).unwrap_err();
    assert_eq!((r.stage(), r.result_code()), (Stage::Authenticated, ResultCode::BadRequest));
    // An unknown activity, signed: 000002.
    let body = br#"{"activity":"stealInstance","orderId":"o","orderLineId":"l"}"#;
    let sig = sign_v2(V2Scheme::Query, body, KEY, NONCE, TS).unwrap();
    let q = format!("signature={}&timestamp={TS}&nonce={NONCE}", sig.as_str());
    let mut scratch = [0u8; 512];
    let r = m.verify(&v2_request(&q, body), V2_NOW, Replay::Unchecked, &mut scratch).unwrap_err();
    assert_eq!((r.error(), r.result_code()), (Error::MalformedEncoding("unknown activity"), ResultCode::BadRequest));
    // A body over 1 MiB is refused unread: 000002.
    let big = vec![b' '; MAX_NOTIFICATION_BODY + 1];
    let mut scratch = [0u8; 512];
    let r = m.verify(&v2_request(V2_QUERY, &big), V2_NOW, Replay::Unchecked, &mut scratch).unwrap_err();
    assert_eq!((r.error(), r.result_code()), (Error::InputTooLarge { limit: MAX_NOTIFICATION_BODY }, ResultCode::BadRequest));
    // Codes the handler chooses.
    let mut out = [0u8; REFUSAL_MAX_LEN];
    let a = m.answer_code(ResultCode::UnknownInstance, &mut out).unwrap();
    assert_eq!(a.body(), r#"{"resultCode":"000003","resultMsg":"instance not found"}"#);
    assert_eq!(a.body_sign(), ref_body_sign(KEY, a.body().as_bytes()));
}

mod common;
use common::Fixed;

#[test]
fn respond_encrypts_app_info_and_signs_the_exact_bytes() {
    let m = Merchant::<2>::new(&[KEY, "older"], Policy::default()).unwrap();
    let app = AppInfo {
        front_end_url: Some("https://example.com/app/\"x\""),
        admin_url: Some("https://example.com/admin"),
        user_name: Some("user_1"),
        password: Some("p@ss\u{7}word中"),
        memo: Some("line\nbreak"),
    };
    for ty in [EncryptType::Aes256, EncryptType::Aes128] {
        let answer = Answer { instance_id: Some("ins-1"), app_info: Some(app), ..Answer::code(ResultCode::Success) };
        let mut out = [0u8; 1024];
        let a = m.respond(&answer, ty, &mut Fixed(1), &mut out).unwrap();
        assert_eq!(a.body_sign(), ref_body_sign(KEY, a.body().as_bytes()));
        let json: Value = serde_json::from_str(a.body()).unwrap();
        assert_eq!((json["resultCode"].as_str(), json["resultMsg"].as_str()), (Some("000000"), Some("success.")));
        assert_eq!((json["instanceId"].as_str(), json["encryptType"].as_str()), (Some("ins-1"), Some(ty.as_str())));
        let info = &json["appInfo"];
        assert_eq!(info["frontEndUrl"], "https://example.com/app/\"x\"");
        assert_eq!(info["memo"], "line\nbreak");
        for (field, plain) in [("userName", "user_1"), ("password", "p@ss\u{7}word中")] {
            let wire = info[field].as_str().unwrap();
            assert!(wire.len() <= 128);
            let mut o = [0u8; 256];
            assert_eq!(decrypt_field(wire, KEY, DecryptMode::Only(ty), &mut o).unwrap(), plain);
        }
        // The response contract of the core accepts it.
        let headers = [("Body-Sign", a.body_sign())];
        let checked = koosign::response::check_response(200, &headers, a.body().as_bytes(), KEY, koosign::response::Expect::NewInstance);
        assert!(checked.is_ok(), "{checked:?}");
        // Too small a buffer says how much is needed, and writes no partial answer.
        let need = a.body().len();
        let mut small = vec![0u8; need - 1];
        assert_eq!(m.respond(&answer, ty, &mut Fixed(1), &mut small).err(), Some(Error::BufferTooSmall { needed: need }));
    }
    // queryInstance's info list.
    let list = [("ins-1", app), ("ins-2", AppInfo { user_name: Some("u2"), ..AppInfo::default() })];
    let mut out = [0u8; 2048];
    let a = m.respond(&Answer { info: &list, ..Answer::code(ResultCode::Success) }, EncryptType::Aes256, &mut Fixed(3), &mut out).unwrap();
    let json: Value = serde_json::from_str(a.body()).unwrap();
    assert_eq!(json["info"][1]["instanceId"], "ins-2");
    let headers = [("Body-Sign", a.body_sign())];
    let checked = koosign::response::check_response(200, &headers, a.body().as_bytes(), KEY, koosign::response::Expect::QueryInstance);
    assert!(checked.is_ok(), "{checked:?}");
    // Limits of the response contract.
    let long_id = "i".repeat(65);
    let mut out = [0u8; 1024];
    assert_eq!(
        m.respond(&Answer { instance_id: Some(&long_id), ..Answer::code(ResultCode::Success) }, EncryptType::Aes256, &mut Fixed(1), &mut out).err(),
        Some(Error::InputTooLarge { limit: 64 })
    );
    let long = "x".repeat(80);
    let app = AppInfo { password: Some(&long), ..AppInfo::default() };
    assert_eq!(
        m.respond(&Answer { app_info: Some(app), ..Answer::code(ResultCode::Success) }, EncryptType::Aes256, &mut Fixed(1), &mut out).err(),
        Some(Error::InputTooLarge { limit: 128 })
    );
}

#[test]
fn keyed_field_cipher_agrees_with_the_one_shot() {
    let m = Merchant::<1>::new(&[KEY], Policy::default()).unwrap();
    let mut out = [0u8; 128];
    let w = m.encrypt("admin", EncryptType::Aes256, &mut Fixed(9), &mut out).unwrap().to_owned();
    let mut o = [0u8; 128];
    assert_eq!(decrypt_field(&w, KEY, DecryptMode::Auto, &mut o).unwrap(), "admin");
    let mut o = [0u8; 128];
    assert_eq!(m.decrypt("abcdefgh12345678cEmxy4I8pTd8cQfzOXtUKw==", DecryptMode::Auto, &mut o).unwrap(), "admin");
    let mut o = [0u8; 128];
    assert_eq!(m.decrypt("abcdefgh123456787ffgxbG9iCNmPHfS/KXEkA==", DecryptMode::Only(EncryptType::Aes128), &mut o).unwrap(), "admin");
    let mut o = [0u8; 128];
    assert_eq!(m.decrypt("abcdefgh123456787ffgxbG9iCNmPHfS/KXEkA==", DecryptMode::Only(EncryptType::Aes256), &mut o), Err(Error::Decrypt));
    assert_eq!(koosign::field::encrypt_out_len(5), 40);
    assert_eq!(koosign::field::encrypt_out_len(koosign::field::MAX_PLAINTEXT_LEN), 124);
}

#[test]
fn construction_errors() {
    assert_eq!(Merchant::<4>::new(&[], Policy::default()).unwrap_err(), Error::NoAccessKey);
    assert_eq!(Merchant::<4>::new(&[KEY, ""], Policy::default()).unwrap_err(), Error::NoAccessKey);
    assert_eq!(Merchant::<1>::new(&[KEY, KEY], Policy::default()).unwrap_err(), Error::InputTooLarge { limit: 1 });
    let long = "k".repeat(257);
    assert_eq!(Merchant::<1>::new(&[&long], Policy::default()).unwrap_err(), Error::InputTooLarge { limit: 256 });
    assert!(Merchant::<1>::new(&[&long[..256]], Policy::default()).is_ok());
    // Debug shows no key.
    let m = Merchant::<1>::new(&[KEY], Policy::default()).unwrap();
    assert!(!format!("{m:?}").contains(KEY));
}

#[test]
fn scratch_sizes_are_enough() {
    let req = v2_request(V2_QUERY, V2_BODY);
    assert_eq!(scratch_len(&req), koosign::v1::json_scratch_len(V2_BODY.len(), 0).max(V2_QUERY.len()));
    let m = Merchant::<1>::new(&[KEY], Policy::default()).unwrap();
    let mut scratch = vec![0u8; koosign::v2::query_scratch_len(V2_QUERY.len())];
    assert!(m.verify(&req, V2_NOW, Replay::Unchecked, &mut scratch).is_ok());
    let mut short = vec![0u8; V2_QUERY.len() - 1];
    let r = m.verify(&req, V2_NOW, Replay::Unchecked, &mut short).unwrap_err();
    assert_eq!((r.error(), r.result_code()), (Error::BufferTooSmall { needed: V2_QUERY.len() }, ResultCode::MerchantFailure));
    // S1b: body + token + 9.
    let params = [("activity", "getLicense"), ("businessId", "b"), ("timeStamp", "20230403073426618")];
    let token = v1_auth_token(&params, KEY).unwrap();
    let body = br#"{"activity":"getLicense","businessId":"b","timeStamp":"20230403073426618"}"#;
    let headers = [("authToken", token.as_str())];
    let req = Request { method: "POST", query: "", headers: &headers, body };
    assert_eq!(scratch_len(&req), koosign::v1::json_scratch_len(body.len(), 44));
    let mut scratch = vec![0u8; scratch_len(&req)];
    let now = parse_v1_timestamp("20230403073426618").unwrap();
    match m.verify(&req, now, Replay::Unchecked, &mut scratch) {
        Ok(v) => assert_eq!((v.protocol(), v.key_index()), (Protocol::V1Json, 0)),
        Err(r) => assert_eq!(r.stage(), Stage::Authenticated, "{r:?}"),
    };
    let mut one = vec![0u8; koosign::v1::json_scratch_len(body.len(), 44)];
    assert!(verify_v1_json(token.as_str(), body, &[KEY], Freshness::Unchecked, Replay::Unchecked, &mut one).is_ok());
}

#[test]
fn deferred_replay_gives_the_key_the_store_records() {
    let m = Merchant::<1>::new(&[KEY], Policy::default()).unwrap();
    // V2: the raw nonce, until timestamp + 60 s.
    let req = v2_request(V2_QUERY, V2_BODY);
    let mut mem = [NonceSlot::EMPTY; 4];
    let mut store = NonceSlots::new(&mut mem);
    let mut scratch = [0u8; 256];
    let v = m.verify(&req, V2_NOW, Replay::Deferred, &mut scratch).unwrap();
    assert_eq!((v.replay_key(), v.replay_expires_ms()), (NONCE.as_bytes(), 1_680_508_066_618 + 60_000));
    store.check_and_insert(v.replay_key(), V2_NOW, v.replay_expires_ms()).unwrap();
    // Deferred twice verifies twice; the caller's store refuses the second.
    let mut scratch = [0u8; 256];
    let v = m.verify(&req, V2_NOW, Replay::Deferred, &mut scratch).unwrap();
    assert_eq!(store.check_and_insert(v.replay_key(), V2_NOW, v.replay_expires_ms()), Err(Error::ReplayedNonce));
    // ... and so does `Replay::Store`: the same key.
    let mut scratch = [0u8; 256];
    assert_eq!(m.verify(&req, V2_NOW, Replay::Store(&mut store), &mut scratch).unwrap_err().error(), Error::ReplayedNonce);
    // V1: `v1:` + the repaired token, until timeStamp + 5 min; the token sent with a
    // space for `+` is the same key.
    let q = build_v1_query(&[("activity", "newInstance"), ("orderId", "o1"), ("businessId", "b"), ("customerId", "c"), ("productId", "p"), ("timeStamp", "20230403073426618")], KEY, &mut [0u8; 512]).unwrap().to_owned();
    let ts = parse_v1_timestamp("20230403073426618").unwrap();
    let token = v1_auth_token(&[("activity", "newInstance"), ("orderId", "o1"), ("businessId", "b"), ("customerId", "c"), ("productId", "p"), ("timeStamp", "20230403073426618")], KEY).unwrap();
    let req = Request { method: "GET", query: &q, headers: &[], body: b"" };
    let mut scratch = [0u8; 512];
    let v = m.verify(&req, ts, Replay::Store(&mut store), &mut scratch).unwrap();
    assert_eq!(v.replay_key(), format!("v1:{}", token.as_str()).as_bytes());
    assert_eq!(v.replay_expires_ms(), ts + 300_000);
    assert!(store.contains(v.replay_key(), ts));
    let unchecked = Merchant::<1>::new(&[KEY], Policy::UNCHECKED).unwrap();
    let mut scratch = [0u8; 512];
    let v = unchecked.verify(&req, 0, Replay::Deferred, &mut scratch).unwrap();
    assert_eq!(v.replay_expires_ms(), ts + 300_000, "an unchecked window keeps the default lifetime");
}

/// Rotation: an answer is signed (and its credentials encrypted) with the
/// key that verified the request; the `_for` variants at index 0 are the
/// key-0 functions byte for byte; an index the context does not hold is
/// `NoAccessKey`. Body-Sign checked with an independent HMAC.
#[test]
fn rotation_answers_with_the_verifying_key() {
    const NEW: &str = "newKey-2026";
    let m = Merchant::<3>::new(&[NEW, KEY], Policy::default()).unwrap();
    let mut scratch = [0u8; 256];
    let v = m.verify(&v2_request(V2_QUERY, V2_BODY), V2_NOW, Replay::Unchecked, &mut scratch).unwrap();
    let k = v.key_index();
    assert_eq!(k, 1);
    let body = br#"{"resultCode":"000000","resultMsg":"success."}"#;
    // sign_answer_for / body_sign_for: under the verifying key; 0 is sign_answer's key.
    let a = m.sign_answer_for(k, body).unwrap();
    assert_eq!((a.body().as_bytes(), a.body_sign()), (&body[..], ref_body_sign(KEY, body).as_str()));
    assert_eq!(m.body_sign_for(k, body).unwrap().as_str(), ref_body_sign(KEY, body));
    assert_eq!(m.sign_answer_for(0, body).unwrap().body_sign(), m.sign_answer(body).unwrap().body_sign());
    assert_eq!(m.sign_answer_for(0, body).unwrap().body_sign(), ref_body_sign(NEW, body));
    // The guide's S3 vector under index 1.
    let sig = m.body_sign_for(1, body).unwrap();
    assert!(sig.as_str().ends_with("signature=\"CPIAbI6A1/GrF70YmPEaCgm5WaxUkts5hjQRqqpZv3s=\""), "{}", sig.as_str());
    // No key at that index (K = 3, two keys held).
    for bad in [2, 3, usize::MAX] {
        assert_eq!(m.sign_answer_for(bad, body).err(), Some(Error::NoAccessKey));
        assert_eq!(m.body_sign_for(bad, body).err(), Some(Error::NoAccessKey));
        assert_eq!(m.answer_code_for(bad, ResultCode::Success, &mut [0u8; REFUSAL_MAX_LEN]).err(), Some(Error::NoAccessKey));
        let mut out = [0u8; 1024];
        assert_eq!(
            m.respond_for(bad, &Answer::code(ResultCode::Success), EncryptType::Aes256, &mut Fixed(1), &mut out).err(),
            Some(Error::NoAccessKey)
        );
        assert_eq!(m.encrypt_for(bad, "admin", EncryptType::Aes256, &mut Fixed(1), &mut [0u8; 128]).err(), Some(Error::NoAccessKey));
    }
    assert_eq!(m.sign_answer_for(k, &[0xff, 0xfe]).err(), Some(Error::MalformedEncoding("answer body is not UTF-8")));
    // answer_code_for.
    let mut out = [0u8; REFUSAL_MAX_LEN];
    let a = m.answer_code_for(k, ResultCode::UnknownInstance, &mut out).unwrap();
    assert_eq!(a.body(), r#"{"resultCode":"000003","resultMsg":"instance not found"}"#);
    assert_eq!(a.body_sign(), ref_body_sign(KEY, a.body().as_bytes()));
    // respond_for: encrypted and signed with the verifying key; the marketplace's
    // response contract under that key accepts it.
    let app = AppInfo { front_end_url: Some("https://example.com"), user_name: Some("user_1"), password: Some("pw-1"), ..AppInfo::default() };
    let answer = Answer { instance_id: Some("ins-1"), app_info: Some(app), ..Answer::code(ResultCode::Success) };
    for ty in [EncryptType::Aes256, EncryptType::Aes128] {
        let mut out = [0u8; 1024];
        let a = m.respond_for(k, &answer, ty, &mut Fixed(1), &mut out).unwrap();
        assert_eq!(a.body_sign(), ref_body_sign(KEY, a.body().as_bytes()));
        let json: Value = serde_json::from_str(a.body()).unwrap();
        for (field, plain) in [("userName", "user_1"), ("password", "pw-1")] {
            let wire = json["appInfo"][field].as_str().unwrap();
            let mut o = [0u8; 256];
            assert_eq!(decrypt_field(wire, KEY, DecryptMode::Only(ty), &mut o).unwrap(), plain);
            let mut o = [0u8; 256];
            assert_ne!(decrypt_field(wire, NEW, DecryptMode::Only(ty), &mut o).ok(), Some(plain));
        }
        let headers = [("Body-Sign", a.body_sign())];
        let checked = koosign::response::check_response(200, &headers, a.body().as_bytes(), KEY, koosign::response::Expect::NewInstance);
        assert!(checked.is_ok(), "{checked:?}");
        // Index 0 is respond, byte for byte (same IVs).
        let mut o1 = [0u8; 1024];
        let mut o2 = [0u8; 1024];
        let r0 = m.respond_for(0, &answer, ty, &mut Fixed(5), &mut o1).unwrap();
        let r = m.respond(&answer, ty, &mut Fixed(5), &mut o2).unwrap();
        assert_eq!((r0.body(), r0.body_sign()), (r.body(), r.body_sign()));
        assert_eq!(r.body_sign(), ref_body_sign(NEW, r.body().as_bytes()));
    }
    // encrypt_for.
    let mut out = [0u8; 128];
    let w = m.encrypt_for(k, "admin", EncryptType::Aes256, &mut Fixed(9), &mut out).unwrap().to_owned();
    let mut o = [0u8; 128];
    assert_eq!(decrypt_field(&w, KEY, DecryptMode::Auto, &mut o).unwrap(), "admin");
    let mut o = [0u8; 128];
    assert_eq!(v.decrypt(&w, DecryptMode::Auto, &mut o).unwrap(), "admin");
}

/// Refusals: before authentication no key matched, so `refusal_for` is
/// `refusal` (key 0); after it (a bad notification, an unknown activity,
/// V2 and V1) the rejection carries the verifying key's index and
/// `refusal_for` signs with it.
#[test]
fn refusal_for_signs_with_the_verifying_key_after_authentication() {
    const NEW: &str = "newKey-2026";
    let m = Merchant::<2>::new(&[NEW, KEY], Policy::UNCHECKED).unwrap();
    // Before authentication: a bad signature.
    let bad = &V2_QUERY[..V2_QUERY.len() - 1];
    let mut scratch = [0u8; 256];
    let r = m.verify(&v2_request(bad, V2_BODY), V2_NOW, Replay::Unchecked, &mut scratch).unwrap_err();
    assert_eq!((r.error(), r.stage(), r.key_index()), (Error::SignatureMismatch, Stage::BeforeAuthentication, None));
    let (mut o1, mut o2) = ([0u8; REFUSAL_MAX_LEN], [0u8; REFUSAL_MAX_LEN]);
    let (a, b) = (m.refusal_for(&r, &mut o1).unwrap(), m.refusal(&r, &mut o2).unwrap());
    assert_eq!((a.body(), a.body_sign()), (b.body(), b.body_sign()));
    assert_eq!(a.body_sign(), ref_body_sign(NEW, a.body().as_bytes()));
    // A body over 1 MiB, refused unread: no key.
    let big = vec![b' '; MAX_NOTIFICATION_BODY + 1];
    let mut scratch = [0u8; 256];
    let r = m.verify(&v2_request(V2_QUERY, &big), V2_NOW, Replay::Unchecked, &mut scratch).unwrap_err();
    assert_eq!(r.key_index(), None);
    // After authentication, V2: an unknown activity signed with the second key.
    let body = br#"{"activity":"stealInstance","orderId":"o","orderLineId":"l"}"#;
    let sig = sign_v2(V2Scheme::Query, body, KEY, NONCE, TS).unwrap();
    let q = format!("signature={}&timestamp={TS}&nonce={NONCE}", sig.as_str());
    let mut scratch = [0u8; 512];
    let r = m.verify(&v2_request(&q, body), V2_NOW, Replay::Unchecked, &mut scratch).unwrap_err();
    assert_eq!((r.stage(), r.result_code(), r.key_index()), (Stage::Authenticated, ResultCode::BadRequest, Some(1)));
    let mut out = [0u8; REFUSAL_MAX_LEN];
    let a = m.refusal_for(&r, &mut out).unwrap();
    assert_eq!(a.body(), r#"{"resultCode":"000002","resultMsg":"bad parameters"}"#);
    assert_eq!(a.body_sign(), ref_body_sign(KEY, a.body().as_bytes()));
    let mut out = [0u8; REFUSAL_MAX_LEN];
    assert_eq!(m.refusal(&r, &mut out).unwrap().body_sign(), ref_body_sign(NEW, a.body().as_bytes()));
    // A duplicate name (not a valid notification), under the first key: index 0.
    let body = br#"{"activity":"newInstance","activity":"releaseInstance","orderId":"o","orderLineId":"l"}"#;
    let sig = sign_v2(V2Scheme::Query, body, NEW, NONCE, TS).unwrap();
    let q = format!("signature={}&timestamp={TS}&nonce={NONCE}", sig.as_str());
    let mut scratch = [0u8; 512];
    let r = m.verify(&v2_request(&q, body), V2_NOW, Replay::Unchecked, &mut scratch).unwrap_err();
    assert_eq!((r.stage(), r.key_index()), (Stage::Authenticated, Some(0)));
    // After authentication, V1: an unknown activity in a query signed with the second key.
    let q = build_v1_query(&[("activity", "stealInstance"), ("businessId", "b"), ("timeStamp", "20230403073426618")], KEY, &mut [0u8; 512]).unwrap().to_owned();
    let mut scratch = vec![0u8; scratch_len(&Request { method: "GET", query: &q, headers: &[], body: b"" })];
    let r = m.verify(&Request { method: "GET", query: &q, headers: &[], body: b"" }, 0, Replay::Unchecked, &mut scratch).unwrap_err();
    assert_eq!((r.protocol(), r.stage(), r.key_index()), (Some(Protocol::V1Query), Stage::Authenticated, Some(1)));
    let mut out = [0u8; REFUSAL_MAX_LEN];
    let a = m.refusal_for(&r, &mut out).unwrap();
    assert_eq!(a.body_sign(), ref_body_sign(KEY, a.body().as_bytes()));
}

/// An authentic, fresh request whose body is unusable (here: an unknown
/// activity) is refused `000002` and its nonce is not recorded, whether the
/// context holds the store (`Replay::Store`) or the caller consults one after
/// `Replay::Deferred`: both kinds of store see the same requests, so a
/// replay of it is answered alike in every language (`000002` again), and a
/// valid request is still refused as a replay the second time.
#[test]
fn store_and_deferred_record_the_same_requests() {
    let m = Merchant::<1>::new(&[KEY], Policy::default()).unwrap();
    let body = br#"{"activity":"noSuchActivity","orderId":"o"}"#;
    let ts = "1680508066618";
    let nonce = "A".repeat(64);
    let sig = sign_v2(V2Scheme::Query, body, KEY, &nonce, ts).unwrap();
    // The signature is checked against an independent HMAC (S2:
    // HEX(HMAC(key, key + nonce + ts + hex(HMAC(key, body))))), so this is the marketplace's request.
    let inner = {
        let mut mm = <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(KEY.as_bytes()).unwrap();
        mm.update(body);
        mm.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect::<String>()
    };
    let outer = {
        let mut mm = <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(KEY.as_bytes()).unwrap();
        mm.update(format!("{KEY}{nonce}{ts}{inner}").as_bytes());
        mm.finalize().into_bytes().iter().map(|b| format!("{b:02X}")).collect::<String>()
    };
    assert_eq!(sig.as_str().to_ascii_uppercase(), outer);
    let query = format!("signature={}&timestamp={ts}&nonce={nonce}", sig.as_str());
    let req = v2_request(&query, body);
    let mut mem = [NonceSlot::EMPTY; 4];
    let mut store = NonceSlots::new(&mut mem);
    for _ in 0..2 {
        let mut scratch = [0u8; 256];
        let r = m.verify(&req, V2_NOW, Replay::Store(&mut store), &mut scratch).unwrap_err();
        assert_eq!(r.result_code(), ResultCode::BadRequest, "{:?}", r.error());
        assert!(matches!(r.error(), Error::MalformedEncoding(_)));
        let mut scratch = [0u8; 256];
        let r = m.verify(&req, V2_NOW, Replay::Deferred, &mut scratch).unwrap_err();
        assert_eq!(r.result_code(), ResultCode::BadRequest);
    }
    assert!(store.is_empty(), "an unusable request is not recorded");
    // A valid request: recorded once, then a replay (000001).
    let mut scratch = [0u8; 256];
    let req = v2_request(V2_QUERY, V2_BODY);
    m.verify(&req, V2_NOW, Replay::Store(&mut store), &mut scratch).unwrap();
    let mut scratch = [0u8; 256];
    let r = m.verify(&req, V2_NOW, Replay::Store(&mut store), &mut scratch).unwrap_err();
    assert_eq!((r.error(), r.result_code()), (Error::ReplayedNonce, ResultCode::Unauthenticated));
}

/// With a window left out by name, the context's store is given the
/// request's own timestamp as "now" (as the one-shots' replay step does), so
/// a replay is refused whatever the caller's clock says: a clock a year ahead
/// must not make the nonce expire the moment it is recorded.
#[test]
fn an_unchecked_window_still_refuses_replays_with_any_clock() {
    let params = [("activity", "newInstance"), ("orderId", "o1"), ("businessId", "b"), ("customerId", "c"), ("productId", "p"), ("timeStamp", "20230403073426618")];
    let q = build_v1_query(&params, KEY, &mut [0u8; 512]).unwrap().to_owned();
    let ts = parse_v1_timestamp("20230403073426618").unwrap();
    let year_later = ts + 365 * 24 * 3600 * 1000;
    let policy = Policy { v1_window: Window::Unchecked, v2_window: Window::Unchecked, ..Policy::default() };
    let m = Merchant::<1>::new(&[KEY], policy).unwrap();
    let mut mem = [NonceSlot::EMPTY; 4];
    let mut store = NonceSlots::new(&mut mem);
    let req = Request { method: "GET", query: &q, headers: &[], body: b"" };
    let mut scratch = [0u8; 512];
    m.verify(&req, year_later, Replay::Store(&mut store), &mut scratch).unwrap();
    let mut scratch = [0u8; 512];
    let r = m.verify(&req, year_later, Replay::Store(&mut store), &mut scratch).unwrap_err();
    assert_eq!(r.error(), Error::ReplayedNonce);
    // V2 alike.
    let req = v2_request(V2_QUERY, V2_BODY);
    let mut scratch = [0u8; 256];
    m.verify(&req, V2_NOW + 365 * 24 * 3600 * 1000, Replay::Store(&mut store), &mut scratch).unwrap();
    let mut scratch = [0u8; 256];
    let r = m.verify(&req, V2_NOW + 365 * 24 * 3600 * 1000, Replay::Store(&mut store), &mut scratch).unwrap_err();
    assert_eq!(r.error(), Error::ReplayedNonce);
}

/// A replay store that panics (caller code) while `verify_into` records
/// the nonce: the slot holds no value while the panic unwinds through the
/// caller (the request was never recorded), as after a refusal.
#[test]
fn verify_into_leaves_no_value_when_the_store_panics() {
    use koosign::merchant::{scratch_len, Merchant, Policy, Replay, Request, Verified};
    use koosign::NonceStore;
    use std::cell::Cell;
    struct Panicking;
    impl NonceStore for Panicking {
        fn check_and_insert(&mut self, _: &[u8], _: u64, _: u64) -> koosign::Result<()> {
            panic!("the caller's store failed");
        }
    }
    /// The caller's slot; reports, when dropped by the unwind, whether it
    /// still held a value.
    struct Slot<'a, 'r>(Option<Verified<'r>>, &'a Cell<Option<bool>>);
    impl Drop for Slot<'_, '_> {
        fn drop(&mut self) {
            self.1.set(Some(self.0.is_some()));
        }
    }
    const NOW: u64 = 1_680_508_067_618;
    let m = Merchant::<4>::new(&["testAccessKey123"], Policy::default()).unwrap();
    let body: &[u8] = br#"{"activity":"newInstance","businessId":"87b94795-0603-4e24-8ae5-69420d60e3c8","orderId":"CS2211181819B4LVS","orderLineId":"CS2211181819B4LVS-000001","testFlag":"1"}"#;
    let query = "signature=CD8D59BB7FCF7574752B5EB0ED04B3ACF4A759DA53F24D30A79ABE45C5D1BA25&timestamp=1680508066618&nonce=50D83FDECAED6CCD8EF597F2A577950527928BA287D04E6036E92B2806FD17DA";
    let req = Request { method: "POST", query, headers: &[], body };
    let held_at_unwind = Cell::new(None);
    let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let (mut scratch, mut scratch2) = (vec![0u8; scratch_len(&req)], vec![0u8; scratch_len(&req)]);
        let mut slot = Slot(None, &held_at_unwind);
        // Unchecked first: the slot holds a value before the panicking call.
        assert!(m.verify_into(&req, NOW, Replay::Unchecked, &mut scratch, &mut slot.0).is_ok());
        assert!(slot.0.is_some());
        let mut store = Panicking;
        let _ = m.verify_into(&req, NOW, Replay::Store(&mut store), &mut scratch2, &mut slot.0);
    }));
    assert!(caught.is_err(), "the store's panic reaches the caller");
    assert_eq!(held_at_unwind.get(), Some(false), "a value was left for an unrecorded request");
}
