//! Every operation of the core runs without a single heap allocation:
//! a counting global allocator wraps the system one and the count must
//! not move across the calls.

use koosign::*;
use koosign::{Freshness, Replay};
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;
static ALLOCS: AtomicUsize = AtomicUsize::new(0);
thread_local! {
    // Only this test's thread is counted: the harness's other threads
    // (progress output, the runner) allocate at any moment.
    static ARMED: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

fn armed() -> bool {
    ARMED.try_with(|a| a.get()).unwrap_or(false)
}

// SAFETY: forwards to the system allocator unchanged; only counts.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: Layout) -> *mut u8 {
        if armed() {
            ALLOCS.fetch_add(1, Ordering::SeqCst);
        }
        unsafe { System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: Layout) {
        unsafe { System.dealloc(p, l) }
    }
    unsafe fn realloc(&self, p: *mut u8, l: Layout, n: usize) -> *mut u8 {
        if armed() {
            ALLOCS.fetch_add(1, Ordering::SeqCst);
        }
        unsafe { System.realloc(p, l, n) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

mod common;
use common::Fixed;

const KEY: &str = "testAccessKey123";
const V2_BODY: &[u8] = br#"{"activity":"newInstance","businessId":"87b94795-0603-4e24-8ae5-69420d60e3c8","orderId":"CS2211181819B4LVS","orderLineId":"CS2211181819B4LVS-000001","testFlag":"1"}"#;
const NONCE: &str = "50D83FDECAED6CCD8EF597F2A577950527928BA287D04E6036E92B2806FD17DA";

fn all_operations() -> usize {
    let mut checks = 0;
    // S1: produce and verify.
    let params = [
        ("activity", "newInstance"),
        ("businessId", "61e834ba-7b97-4418-b8f7-e5345137278c"),
        ("customerId", "68cbc86abc2018ab880d92f36422fa0e"),
        ("expireTime", "20200727153156"),
        ("orderId", "CS1906666666ABCDE"),
        ("productId", "00301-666666-0--0"),
        ("testFlag", "1"),
        ("timeStamp", "20200727073711903"),
        ("mobilePhone", "abcdefgh12345678cEmxy4I8pTd8cQfzOXtUKw=="),
    ];
    let tok = v1_auth_token(&params[..8], KEY).unwrap();
    assert_eq!(tok.as_str(), "IzyXxySagieGHt354yIOhnCrv0vphQN0e9NuWT2MKNY=");
    let mut qbuf = [0u8; 1024];
    let query = build_v1_query(&params, KEY, &mut qbuf).unwrap();
    let mut scratch = [0u8; 1024];
    let ts = parse_v1_timestamp("20200727073711903").unwrap();
    let v = verify_v1_query(query, &["other", KEY], Freshness::new(ts + 1000), Replay::Unchecked, &mut scratch).unwrap();
    assert_eq!(v.key_index(), 1);
    let mut out = [0u8; 256];
    assert_eq!(v.decrypt_param("mobilePhone", DecryptMode::Auto, &mut out).unwrap(), "admin");
    let mut scratch = [0u8; 1024];
    let p = V1Params::parse(query, &mut scratch).unwrap();
    let mut canon = [0u8; 1024];
    assert!(p.canonical(&mut canon).unwrap().starts_with("activity=newInstance"));
    checks += 1;
    // S1b (a flat object of strings since issue 11: no `"n":1` any more;
    // an escaped value is decoded into the scratch, a blank one skipped).
    let body = br#"{"activity":"newInstance","timeStamp":"20200727073711903","empty":"","note":"a\nb\u00e9"}"#;
    let t = v1_auth_token(&[("activity", "newInstance"), ("note", "a\nbé"), ("timeStamp", "20200727073711903")], KEY).unwrap();
    let mut scratch = [0u8; 512];
    verify_v1_json(t.as_str(), body, &[KEY], Freshness::Unchecked, Replay::Unchecked, &mut scratch).unwrap();
    checks += 1;
    // S2 / S2b with a nonce cache.
    let mut cache = NonceCache::<64>::new();
    for scheme in [V2Scheme::Query, V2Scheme::Headers] {
        let sig = sign_v2(scheme, V2_BODY, KEY, NONCE, "1680508066618").unwrap();
        let auth = V2Auth { signature: sig.as_str(), timestamp: "1680508066618", nonce: NONCE };
        let mut store = NonceCache::<8>::new();
        let v = verify_v2(scheme, &auth, V2_BODY, &[KEY], Freshness::new(1_680_508_066_000), Replay::Store(&mut store)).unwrap();
        let n = v.notification().unwrap();
        assert_eq!(n.order_id.as_ref().unwrap().as_str(), "CS2211181819B4LVS");
        checks += 1;
    }
    let q = "signature=CD8D59BB7FCF7574752B5EB0ED04B3ACF4A759DA53F24D30A79ABE45C5D1BA25&timestamp=1680508066618&nonce=50D83FDECAED6CCD8EF597F2A577950527928BA287D04E6036E92B2806FD17DA";
    let mut scratch = [0u8; 256];
    let auth = V2Auth::from_query(q, &mut scratch).unwrap();
    verify_v2(V2Scheme::Query, &auth, V2_BODY, &[KEY], Freshness::Unchecked, Replay::Store(&mut cache)).unwrap();
    assert_eq!(
        verify_v2(V2Scheme::Query, &auth, V2_BODY, &[KEY], Freshness::Unchecked, Replay::Store(&mut cache)).unwrap_err(),
        Error::ReplayedNonce
    );
    let headers = [("X-Sign", "x"), ("x-timestamp", "1"), ("x-nonce", "n")];
    V2Auth::from_headers(&headers).unwrap();
    assert_eq!(v2_inner(V2_BODY, KEY).as_str().len(), 64);
    checks += 1;
    // S3.
    let resp = br#"{"resultCode":"000000","resultMsg":"success."}"#;
    let h = body_sign(resp, KEY).unwrap();
    assert_eq!(verify_body_sign(h.as_str(), resp, &[KEY]).map(|v| v.key_index()), Ok(0));
    parse_body_sign(h.as_str()).unwrap();
    checks += 1;
    // S4.
    let fc = FieldCipher::new(KEY);
    let mut out = [0u8; 128];
    let w = fc.key(EncryptType::Aes256).encrypt("13800000000", &mut Fixed(1), &mut out).unwrap();
    let mut wire = [0u8; 128];
    let n = w.len();
    wire[..n].copy_from_slice(w.as_bytes());
    let w = core::str::from_utf8(&wire[..n]).unwrap();
    let mut dec = [0u8; 128];
    assert_eq!(fc.decrypt(w, DecryptMode::Auto, &mut dec).unwrap(), "13800000000");
    assert_eq!(decrypt_field(w, KEY, DecryptMode::Only(EncryptType::Aes256), &mut dec).unwrap(), "13800000000");
    let mut out = [0u8; 128];
    encrypt_field("admin", KEY, EncryptType::Aes128, &mut Fixed(2), &mut out).unwrap();
    assert_eq!(derive_key("a", EncryptType::Aes128).as_bytes().len(), 16);
    assert_eq!(fc.detect(w), Some(EncryptType::Aes256));
    // The raw-key cipher (Wycheproof aes_cbc_pkcs5_test.json tcId 5 and a bad padding).
    let raw = koosign::FieldKey::from_raw(&[0xe1, 0xe7, 0x26, 0x67, 0x7f, 0x48, 0x93, 0x89, 0x0f, 0x8c, 0x02, 0x7f, 0x9d, 0x8e, 0xf8, 0x0d]).unwrap();
    let iv = [0x15, 0x5f, 0xd3, 0x97, 0x57, 0x9b, 0x0b, 0x5d, 0x99, 0x1d, 0x42, 0x60, 0x7f, 0x2c, 0xc9, 0xad];
    let ct = [0x59, 0x9d, 0x77, 0xac, 0xa1, 0x69, 0x10, 0xb4, 0x2d, 0x8b, 0x4a, 0xc9, 0x56, 0x0e, 0xfe, 0x1b];
    let mut pt = [0u8; 16];
    assert_eq!(raw.decrypt_raw(&iv, &ct, &mut pt).unwrap(), &[0x3f]);
    assert_eq!(raw.decrypt_raw(&iv, &[0u8; 16], &mut pt).unwrap_err(), Error::Decrypt);
    checks += 1;
    // S5.
    let s = licence_sign("1680508066618", "n", b"{}", KEY).unwrap();
    verify_licence("1680508066618", "n", b"{}", s.as_str(), &[KEY], Freshness::Unchecked).unwrap();
    checks += 1;
    // S6: sign and verify.
    let headers = [("X-Sdk-Date", "20200608T023900Z")];
    let query = [("size", "1")];
    let req = ApigRequest { method: "GET", host: "service.endpoint.myhuaweicloud.com", path: "/resources", query: &query, headers: &headers, body: b"" };
    let mut out = [0u8; 2048];
    let signed = sign_apig(&req, "AccessKey", "SecretKey", None, &mut out).unwrap();
    assert_eq!(signed.signature.as_str(), "cfb4171acec81de07d50e53d57eb77edd537414d66ddb1d7d780f128e12cd842");
    let auth = signed.authorization;
    let sent = [("X-Sdk-Date", "20200608T023900Z"), ("Authorization", auth)];
    let req2 = ApigRequest { headers: &sent, ..req };
    assert_eq!(verify_apig(&req2, &[("AccessKey", "SecretKey")], Freshness::Unchecked).map(|v| v.credential_index), Ok(0));
    let mut out = [0u8; 256];
    canonical_query(&[("b", "2"), ("a", "x y")], &mut out).unwrap();
    let mut out = [0u8; 256];
    canonical_uri("/a b/%41", &mut out).unwrap();
    // S6 from a whole URL: split + sign into one buffer.
    let url = "HTTPS://Service.Endpoint.MyHuaweiCloud.com:443/x/../resources?size=1#f";
    let mut out = [0u8; 4096];
    let signed = koosign::sign_apig_url("GET", url, &headers, b"", "AccessKey", "SecretKey", None, &mut out).unwrap();
    assert_eq!(signed.signature.as_str(), "cfb4171acec81de07d50e53d57eb77edd537414d66ddb1d7d780f128e12cd842");
    let mut scratch = [0u8; 128];
    let u = koosign::split_url(url, &mut scratch).unwrap();
    assert_eq!(u.path(), "/resources");
    checks += 1;
    // Issue 13 policy: detection, strict walk, activity table, signed refusal.
    assert_eq!(detect_protocol("POST", &[("x-sign", "s")], ""), Ok(Protocol::V2Headers));
    assert!(matches!(detect_protocol("POST", &[("x-sign", "s")], "sig%6Eature=1"), Err(Error::Ambiguous(_))));
    struct Count(usize);
    impl JsonVisitor<'_> for Count {
        fn key(&mut self, k: JsonStr<'_>) -> Result<()> {
            self.0 += k.decoded_len();
            Ok(())
        }
    }
    let mut c = Count(0);
    walk_json(br#"{"a":{"b\u0063":[1,true,null,"x"]}}"#, &mut c).unwrap();
    assert_eq!(c.0, 3); // "a" and "bc"
    assert!(walk_json(br#"{"a":{"b":1,"b":2}}"#, &mut c).is_err());
    let n = Notification::parse(V2_BODY).unwrap();
    assert_eq!(validate_v2(&n), Ok(Activity::NewInstance));
    assert_eq!(validate_v1(&[("activity", "getLicense"), ("orderId", "o")]), Ok(Activity::V1GetLicense));
    let mut out = [0u8; REFUSAL_MAX_LEN];
    let code = result_code(&Error::StaleTimestamp, Stage::BeforeAuthentication);
    assert_eq!(refusal(code, KEY, &mut out).unwrap().body_sign().len(), BODY_SIGN_VALUE_LEN);
    checks += 1;
    // The response contract.
    let answer = br#"{"resultCode":"000000","instanceId":"i","encryptType":"1","appInfo":{"userName":"abcdefgh12345678cEmxy4I8pTd8cQfzOXtUKw==","password":"abcdefgh12345678cEmxy4I8pTd8cQfzOXtUKw=="}}"#;
    let sign = body_sign(answer, KEY).unwrap();
    let c = response::check_response(200, &[("Body-Sign", sign.as_str())], answer, KEY, response::Expect::NewInstance);
    assert_eq!(c.map(|c| c.ciphertexts()), Ok(2));
    checks += 1;
    // Issue 13: the keyed merchant context, built and used without the heap.
    let m = Merchant::<2>::new(&["rotated", KEY], Policy::default()).unwrap();
    let mut slots = [NonceSlot::EMPTY; 16];
    let mut store = NonceSlots::new(&mut slots);
    let req = Request { method: "POST", query: q, headers: &[], body: V2_BODY };
    let mut scratch = [0u8; 256];
    assert!(merchant::scratch_len(&req) <= scratch.len());
    let v = m.verify(&req, 1_680_508_070_000, Replay::Store(&mut store), &mut scratch).unwrap();
    assert_eq!((v.activity(), v.key_index(), v.get("orderId")), (Activity::NewInstance, 1, Some("CS2211181819B4LVS")));
    let mut scratch = [0u8; 256];
    let r = m.verify(&req, 1_680_508_070_000, Replay::Store(&mut store), &mut scratch).unwrap_err();
    assert_eq!(r.error(), Error::ReplayedNonce);
    let mut out = [0u8; REFUSAL_MAX_LEN];
    assert_eq!(m.refusal(&r, &mut out).unwrap().body_sign().len(), BODY_SIGN_VALUE_LEN);
    let mut out = [0u8; REFUSAL_MAX_LEN];
    m.answer_code(ResultCode::UnknownInstance, &mut out).unwrap();
    let sig = sign_v2(V2Scheme::Headers, V2_BODY, KEY, NONCE, "1680508066618").unwrap();
    let kit = [("x-sign", sig.as_str()), ("x-timestamp", "1680508066618"), ("x-nonce", NONCE)];
    let req = Request { method: "POST", query: "", headers: &kit, body: V2_BODY };
    let mut scratch = [0u8; 8];
    assert_eq!(m.verify(&req, 1_680_508_070_000, Replay::Unchecked, &mut scratch).unwrap().protocol(), Protocol::V2Headers);
    let mut qbuf = [0u8; 1024];
    let v1q = build_v1_query(&params, KEY, &mut qbuf).unwrap();
    let mut scratch = [0u8; 1024];
    let req = Request { method: "GET", query: v1q, headers: &[], body: b"" };
    let v = m.verify(&req, ts + 1000, Replay::Store(&mut store), &mut scratch).unwrap();
    let mut out = [0u8; 256];
    assert_eq!(v.v1().unwrap().decrypt_param("mobilePhone", DecryptMode::Auto, &mut out).unwrap(), "admin");
    let mut out = [0u8; 256];
    assert_eq!(v.decrypt(v.get("mobilePhone").unwrap(), DecryptMode::Auto, &mut out).unwrap(), "admin");
    let mut scratch = [0u8; 1024];
    m.verify_v1_query(v1q, ts, Replay::Unchecked, &mut scratch).unwrap();
    let mut scratch = [0u8; 512];
    m.verify_v1_json(t.as_str(), body, ts, Replay::Unchecked, &mut scratch).unwrap();
    let auth = V2Auth { signature: sig.as_str(), timestamp: "1680508066618", nonce: NONCE };
    m.verify_v2(V2Scheme::Headers, &auth, V2_BODY, 1_680_508_070_000, Replay::Unchecked).unwrap();
    let hb = body_sign(resp, KEY).unwrap();
    assert_eq!(m.verify_body_sign(hb.as_str(), resp).unwrap().key_index(), 1);
    let ls = licence_sign("1680508066618", "n", b"{}", KEY).unwrap();
    m.verify_licence("1680508066618", "n", b"{}", ls.as_str(), 1_680_508_070_000).unwrap();
    assert_eq!(m.body_sign(resp).as_str().len(), BODY_SIGN_VALUE_LEN);
    m.sign_answer(resp).unwrap();
    let _ = m.sign_v2(V2Scheme::Query, V2_BODY, NONCE, "1680508066618");
    let app = AppInfo { front_end_url: Some("https://x"), user_name: Some("u"), password: Some("p"), ..AppInfo::default() };
    let answer = Answer { instance_id: Some("i-1"), app_info: Some(app), ..Answer::code(ResultCode::Success) };
    let mut out = [0u8; 512];
    m.respond(&answer, EncryptType::Aes256, &mut Fixed(4), &mut out).unwrap();
    let mut out = [0u8; 512];
    m.respond_for(1, &answer, EncryptType::Aes256, &mut Fixed(4), &mut out).unwrap();
    m.sign_answer_for(1, resp).unwrap();
    m.body_sign_for(1, resp).unwrap();
    let mut out = [0u8; REFUSAL_MAX_LEN];
    m.answer_code_for(1, ResultCode::UnknownInstance, &mut out).unwrap();
    let mut out = [0u8; REFUSAL_MAX_LEN];
    m.refusal_for(&r, &mut out).unwrap();
    let mut out = [0u8; 128];
    m.encrypt_for(1, "admin", EncryptType::Aes128, &mut Fixed(5), &mut out).unwrap();
    let mut out = [0u8; 128];
    let w = m.encrypt("admin", EncryptType::Aes128, &mut Fixed(5), &mut out).unwrap();
    let mut wire = [0u8; 128];
    let n = w.len();
    wire[..n].copy_from_slice(w.as_bytes());
    let mut dec = [0u8; 128];
    assert_eq!(m.decrypt(core::str::from_utf8(&wire[..n]).unwrap(), DecryptMode::Auto, &mut dec).unwrap(), "admin");
    assert!(store.contains(NONCE.as_bytes(), 1_680_508_070_000));
    store.evict_expired(u64::MAX);
    checks += 1;
    // Time helpers and errors' Display (into a fixed buffer).
    let _ = format_v1_timestamp(1_595_835_431_903);
    let _ = format_sdk_date(1_595_835_431_903);
    let _ = format_unix_ms(1_595_835_431_903);
    let mut msg: heapless::String<128> = heapless::String::new();
    core::fmt::write(&mut msg, format_args!("{}", Error::BufferTooSmall { needed: 10 })).unwrap();
    checks
}

#[test]
fn no_operation_allocates() {
    // Warm-up: lazy statics of the test harness, stdout, etc.
    let expected = all_operations();
    ALLOCS.store(0, Ordering::SeqCst);
    ARMED.with(|a| a.set(true));
    let checks = all_operations();
    ARMED.with(|a| a.set(false));
    let n = ALLOCS.load(Ordering::SeqCst);
    assert_eq!(checks, expected);
    assert_eq!(n, 0, "{n} heap allocations during core operations");
}

#[cfg(feature = "alloc")]
/// `NonceTable` allocates once, in `with_capacity`; no operation after that
/// does (inserts, replays, a full table, evictions, re-recording an expired
/// nonce).
#[test]
fn the_nonce_table_allocates_only_when_built() {
    let mut t = NonceTable::with_capacity(32);
    ALLOCS.store(0, Ordering::SeqCst);
    ARMED.with(|a| a.set(true));
    let mut answers = [0usize; 3];
    for round in 0..50u64 {
        for i in 0..80u64 {
            let nonce = (i % 50 + round * 3).to_le_bytes();
            let now = round * 100 + i;
            let r = t.check_and_insert(&nonce, now, now + 150);
            answers[match r {
                Ok(()) => 0,
                Err(Error::ReplayedNonce) => 1,
                _ => 2,
            }] += 1;
            let _ = t.contains(&nonce, now);
        }
        t.evict_expired(round * 100);
    }
    ARMED.with(|a| a.set(false));
    let n = ALLOCS.load(Ordering::SeqCst);
    assert_eq!(n, 0, "{n} heap allocations in NonceTable operations");
    assert!(answers.iter().all(|&a| a > 0), "inserted, replayed and full: {answers:?}");
}
