//! Issue 11, findings 3, 4 and 5 (S1 / S1b): each attack performed through
//! the public API, from a genuine request built by koosign's own signer,
//! and refused with its specific error.
//!
//! * S1 item 10 (decision): the merged-parameter attack and other
//!   ambiguous names and values -> `Ambiguous`, before the MAC.
//! * S1 item 8 (decision): V1 of any age -> `StaleTimestamp` with the
//!   default window; every replay of a token -> `ReplayedNonce`.
//! * S1b (decision): duplicate names and non-string members ->
//!   `MalformedEncoding`; an `authToken` member -> `Ambiguous`.

use koosign::*;
use koosign::{Freshness, Replay};

const KEY: &str = "testAccessKey123";
const TS: &str = "20200727073711903";

fn ts_ms() -> u64 {
    parse_v1_timestamp(TS).unwrap()
}

fn build(params: &[(&str, &str)]) -> String {
    let mut out = vec![0u8; 4096];
    build_v1_query(params, KEY, &mut out).expect("build_v1_query").to_owned()
}

/// `verify_v1_query` with the documented scratch size, no window, no store.
fn v1_with(q: &str, keys: &[&str]) -> Result<Vec<(String, String)>> {
    let mut s = vec![0u8; q.len()];
    verify_v1_query(q, keys, Freshness::Unchecked, Replay::Unchecked, &mut s).map(|v| v.params().iter().map(|(n, v)| (n.to_string(), v.to_string())).collect())
}

fn v1(q: &str) -> Result<Vec<(String, String)>> {
    v1_with(q, &[KEY])
}

fn token_of(q: &str) -> String {
    let mut s = vec![0u8; q.len()];
    let t = parse_form(q, &mut s).unwrap().get(AUTH_TOKEN).unwrap().to_owned();
    t
}

const NAME_RULE: Error = Error::Ambiguous("V1 parameter name contains `&` or `=`");
const VALUE_RULE: Error = Error::Ambiguous("V1 parameter value contains `&` followed by a name and `=`");

// ------------------------------------------------------- (a) S1 item 10

/// Issue 11 finding 3: `orderLineId=L1%26testFlag%3D1` has the same canonical
/// string as `orderLineId=L1&testFlag=1`, so a captured dial test
/// (`testFlag=1`) became a request without `testFlag`, same token.
#[test]
fn merged_parameters_are_refused_as_ambiguous() {
    let genuine_params =
        [("activity", "newInstance"), ("orderId", "CS1906666666ABCDE"), ("orderLineId", "L1"), ("testFlag", "1"), ("timeStamp", TS)];
    let genuine = build(&genuine_params);
    assert!(genuine.contains("orderLineId=L1&testFlag=1&"), "{genuine}");
    let view = v1(&genuine).expect("the genuine request verifies");
    assert!(view.contains(&("testFlag".into(), "1".into())));

    let forged = genuine.replace("orderLineId=L1&testFlag=1&", "orderLineId=L1%26testFlag%3D1&");
    assert_ne!(forged, genuine);
    // The attack would work without the rule: the forged pairs carry the
    // genuine token, and the signer computes that very token for them.
    let mut s = vec![0u8; forged.len()];
    let pairs = parse_form(&forged, &mut s).unwrap();
    assert_eq!(pairs.get("orderLineId"), Some("L1&testFlag=1"));
    assert_eq!(pairs.get("testFlag"), None);
    let forged_params: Vec<(&str, &str)> = pairs.as_slice().iter().copied().filter(|(n, _)| *n != AUTH_TOKEN).collect();
    assert_eq!(v1_auth_token(&forged_params, KEY).unwrap().as_str(), token_of(&genuine));
    assert_eq!(token_of(&forged), token_of(&genuine));

    // Refused, and before the MAC: the same answer under a wrong key.
    assert_eq!(v1(&forged), Err(VALUE_RULE));
    assert_eq!(v1_with(&forged, &["wrong-key"]), Err(VALUE_RULE));
    let mut s = vec![0u8; forged.len()];
    assert_eq!(V1Params::parse(&forged, &mut s).err(), Some(VALUE_RULE));
    assert!(!VALUE_RULE.is_format_error());
    assert_eq!(VALUE_RULE.code(), "AMBIGUOUS");

    // The same merge the other way round (a value holding the next pair).
    let forged2 = genuine.replace("orderId=CS1906666666ABCDE&orderLineId=L1&", "orderId=CS1906666666ABCDE%26orderLineId%3DL1&");
    assert_eq!(v1(&forged2), Err(VALUE_RULE));
    // And through the store-carrying entry point: nothing is recorded.
    let mut cache = NonceCache::<4>::new();
    let mut s = vec![0u8; forged.len()];
    let r = verify_v1_query(&forged, &[KEY], Freshness::with_window(ts_ms(), V1_DEFAULT_WINDOW_MS), Replay::Store(&mut cache), &mut s);
    assert_eq!(r.err(), Some(VALUE_RULE));
    assert!(cache.is_empty());
}

/// Every ambiguous shape, each correctly signed by `build_v1_query` (the
/// signer does not judge), each refused by the verifier.
#[test]
fn ambiguous_names_and_values_are_refused_even_when_signed() {
    let cases: &[(&str, &str, Error)] = &[
        ("a=b", "c", NAME_RULE),
        ("a&b", "c", NAME_RULE),
        ("=", "", NAME_RULE),
        ("&", "x", NAME_RULE),
        ("orderLineId", "L1&testFlag=1", VALUE_RULE),
        // `&=`: the pair `=y` has an empty name.
        ("orderLineId", "L1&=y", VALUE_RULE),
        ("v", "&=", VALUE_RULE),
        ("v", "x&y&z=1", VALUE_RULE),
        ("v", "a&b&=", VALUE_RULE),
        ("v", "a=b&c=d", VALUE_RULE),
        ("v", "客户&名=值", VALUE_RULE),
    ];
    for &(n, v, ref want) in cases {
        let q = build(&[("activity", "newInstance"), (n, v), ("timeStamp", TS)]);
        assert_eq!(v1(&q).as_ref().err(), Some(want), "{n:?}={v:?}: {q}");
        assert_eq!(v1_with(&q, &["other"]).as_ref().err(), Some(want), "{n:?}={v:?}: refused before the MAC");
        // In S1b the same rule holds for names and values.
        let body = serde_like_body(&[("activity", "newInstance"), (n, v), ("timeStamp", TS)]);
        let token = v1_auth_token(&[("activity", "newInstance"), (n, v), ("timeStamp", TS)], KEY).unwrap();
        assert_eq!(s1b(token.as_str(), body.as_bytes()).err(), Some(*want), "S1b {n:?}={v:?}");
    }
    // A repeated name's later (unsigned) value obeys the rule as well.
    let q = format!("{}&orderLineId=L1%26testFlag%3D1", build(&[("orderLineId", "L1"), ("timeStamp", TS)]));
    assert_eq!(v1(&q), Err(VALUE_RULE));
}

/// The rule refuses only `=` after `&`: everyday text with `&`, `=`, `+`,
/// spaces and non-ASCII verifies and reads back unchanged.
#[test]
fn unambiguous_text_with_delimiters_still_verifies() {
    for value in ["a+b c&d 客户", "a=b&c", "x&y&z", "=&", "a==b", "&&&", "tom&jerry", "1+1=2", "%26%3D"] {
        let params = [("activity", "newInstance"), ("customerName", value), ("timeStamp", TS)];
        let q = build(&params);
        let view = v1(&q).unwrap_or_else(|e| panic!("{value:?}: {e:?}"));
        assert!(view.contains(&("customerName".into(), value.into())), "{value:?}");
        let token = v1_auth_token(&params, KEY).unwrap();
        let body = serde_like_body(&params);
        assert_eq!(s1b(token.as_str(), body.as_bytes()).map(|v| v.len()), Ok(3), "S1b {value:?}");
    }
    // A token is never judged by the rule (it is not in the canonical
    // string): a changed token is the MAC's to refuse.
    let q = build(&[("activity", "x"), ("timeStamp", TS)]);
    let t = token_of(&q);
    let forged = format!("activity=x&timeStamp={TS}&authToken={}%26{}", &t[..20], form(&t[21..]));
    assert!(token_of(&forged).contains('&') && token_of(&forged).ends_with('='));
    assert_eq!(v1(&forged), Err(Error::SignatureMismatch));
}

// ------------------------------------------------------- (b) S1 item 8

/// Issue 11 finding 4: a notification with `timeStamp` in 2020 was accepted.
#[test]
fn v1_of_any_age_is_stale_under_the_default_window() {
    let q = build(&[("activity", "newInstance"), ("testFlag", "0"), ("timeStamp", TS)]);
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64;
    let mut cache = NonceCache::<4>::new();
    let mut s = vec![0u8; q.len()];
    let r = verify_v1_query(&q, &[KEY], Freshness::with_window(now, V1_DEFAULT_WINDOW_MS), Replay::Store(&mut cache), &mut s);
    assert_eq!(r.err(), Some(Error::StaleTimestamp));
    assert!(cache.is_empty(), "a stale request is not recorded");
    assert_eq!(V1_DEFAULT_WINDOW_MS, 300_000);
    // The window's edges, both sides.
    let ts = ts_ms();
    for (now, ok) in [(ts + 300_000, true), (ts - 300_000, true), (ts + 300_001, false), (ts - 300_001, false)] {
        let mut s = vec![0u8; q.len()];
        let r = verify_v1_query(&q, &[KEY], Freshness::with_window(now, V1_DEFAULT_WINDOW_MS), Replay::Unchecked, &mut s);
        assert_eq!(r.map(|v| v.key_index()), if ok { Ok(0) } else { Err(Error::StaleTimestamp) }, "now = ts {:+}", now as i64 - ts as i64);
    }
    // S1b alike.
    let params = [("activity", "newInstance"), ("timeStamp", TS)];
    let token = v1_auth_token(&params, KEY).unwrap();
    let body = serde_like_body(&params);
    let mut s = vec![0u8; body.len() + 64];
    let r = verify_v1_json(token.as_str(), body.as_bytes(), &[KEY], Freshness::with_window(now, V1_DEFAULT_WINDOW_MS), Replay::Unchecked, &mut s);
    assert_eq!(r.err(), Some(Error::StaleTimestamp));
}

// ------------------------------------------------------- (c) V1 replay

/// Parameters whose token has a `+` (so the `+`/space/`%2B` variants exist).
fn params_with_plus_token() -> (Vec<(&'static str, String)>, String) {
    for n in 0..1000 {
        let p = vec![("activity", "newInstance".to_string()), ("orderId", format!("O{n}")), ("timeStamp", TS.to_string())];
        let refs: Vec<(&str, &str)> = p.iter().map(|(a, b)| (*a, b.as_str())).collect();
        let t = v1_auth_token(&refs, KEY).unwrap().as_str().to_owned();
        if t.contains('+') {
            return (p, t);
        }
    }
    panic!("no token with + in 1000 tries");
}

fn form(s: &str) -> String {
    s.replace('%', "%25").replace('+', "%2B").replace('/', "%2F").replace('=', "%3D").replace('&', "%26").replace(' ', "+")
}

fn verify_stored(q: &str, store: &mut dyn NonceStore) -> Result<usize> {
    let mut s = vec![0u8; q.len()];
    verify_v1_query(q, &[KEY], Freshness::with_window(ts_ms() + 1000, V1_DEFAULT_WINDOW_MS), Replay::Store(store), &mut s)
        .map(|v| v.key_index())
}

/// Issue 11 finding 4 (no replay protection): every form of one captured
/// request is one nonce.
#[test]
fn v1_replays_are_refused() {
    let (p, token) = params_with_plus_token();
    let refs: Vec<(&str, &str)> = p.iter().map(|(a, b)| (*a, b.as_str())).collect();
    let genuine = build(&refs);
    assert!(genuine.contains("%2B"), "{genuine}");
    let rest = genuine[..genuine.rfind("&authToken=").unwrap()].to_owned();
    let variants = [
        // byte for byte
        genuine.clone(),
        // `+` sent raw: a space once decoded, repaired to `+`
        genuine.replace("%2B", "+"),
        // `+` as an explicit `%20`, and mixed case escapes
        genuine.replace("%2B", "%20"),
        genuine.replace("%2B", "%2b").replace("%3D", "%3d"),
        // the token moved to the front, and to the middle
        format!("authToken={}&{rest}", form(&token)),
        {
            let (a, b) = rest.split_once('&').unwrap();
            format!("{a}&authToken={}&{b}", form(&token))
        },
        // the parameters in another order
        format!("timeStamp={TS}&{}&authToken={}", rest.replace(&format!("&timeStamp={TS}"), ""), form(&token)),
    ];
    for first in 0..variants.len() {
        let mut cache = NonceCache::<8>::new();
        assert_eq!(verify_stored(&variants[first], &mut cache), Ok(0), "{}", variants[first]);
        assert_eq!(cache.len(), 1);
        for (i, replay) in variants.iter().enumerate() {
            assert_eq!(verify_stored(replay, &mut cache), Err(Error::ReplayedNonce), "{first} then {i}: {replay}");
        }
        assert_eq!(cache.len(), 1);
    }
    // S1b: the token in a header, `+` or space, same nonce; and the same
    // signed parameters as S1 are the same nonce across the two forms.
    let body = serde_like_body(&refs);
    let mut cache = NonceCache::<8>::new();
    let f = Freshness::with_window(ts_ms(), V1_DEFAULT_WINDOW_MS);
    let mut s = vec![0u8; body.len() + 64];
    assert!(verify_v1_json(&token, body.as_bytes(), &[KEY], f, Replay::Store(&mut cache), &mut s).is_ok());
    for t in [token.clone(), token.replace('+', " ")] {
        let mut s = vec![0u8; body.len() + 64];
        let r = verify_v1_json(&t, body.as_bytes(), &[KEY], f, Replay::Store(&mut cache), &mut s);
        assert_eq!(r.err(), Some(Error::ReplayedNonce), "{t}");
    }
    assert_eq!(verify_stored(&genuine, &mut cache), Err(Error::ReplayedNonce));
    // Another genuine request is another nonce.
    let other = build(&[("activity", "newInstance"), ("orderId", "another"), ("timeStamp", TS)]);
    assert_eq!(verify_stored(&other, &mut cache), Ok(0));
}

/// What the store is given: `b"v1:"` + the repaired token, until
/// `timeStamp` + window; and never anything for a forgery.
#[test]
fn v1_replay_store_sees_the_tagged_repaired_token_only_after_the_mac() {
    #[derive(Default)]
    struct Log(Vec<(Vec<u8>, u64, u64)>);
    impl NonceStore for Log {
        fn check_and_insert(&mut self, nonce: &[u8], now_ms: u64, expires_at_ms: u64) -> Result<()> {
            self.0.push((nonce.to_vec(), now_ms, expires_at_ms));
            Ok(())
        }
    }
    let (p, token) = params_with_plus_token();
    let refs: Vec<(&str, &str)> = p.iter().map(|(a, b)| (*a, b.as_str())).collect();
    let q = build(&refs).replace("%2B", "+");
    let ts = ts_ms();
    let mut log = Log::default();
    let mut s = vec![0u8; q.len()];
    verify_v1_query(&q, &[KEY], Freshness::with_window(ts + 5, 1000), Replay::Store(&mut log), &mut s).unwrap();
    let mut s = vec![0u8; q.len()];
    verify_v1_query(&q, &[KEY], Freshness::Unchecked, Replay::Store(&mut log), &mut s).unwrap();
    let tagged = [b"v1:".as_slice(), token.as_bytes()].concat();
    assert_eq!(tagged.len(), 47);
    assert_eq!(log.0, vec![(tagged.clone(), ts + 5, ts + 1000), (tagged, ts, ts + V1_DEFAULT_WINDOW_MS)]);

    // Forgeries never reach the store: a changed token, a changed
    // parameter, a wrong key, a stale request, an ambiguous one.
    let mut log = Log::default();
    let fresh = Freshness::new(ts);
    let at = q.find("authToken=").unwrap() + "authToken=".len();
    let mut b = q.clone().into_bytes();
    b[at] = if b[at] == b'A' { b'B' } else { b'A' };
    let forged_token = String::from_utf8(b).unwrap();
    for (forged, keys, f, want) in [
        (forged_token.as_str(), [KEY], fresh, Error::SignatureMismatch),
        (&*q.replace("activity=newInstance", "activity=releaseInstance"), [KEY], fresh, Error::SignatureMismatch),
        (q.as_str(), ["wrong"], fresh, Error::SignatureMismatch),
        (q.as_str(), [KEY], Freshness::new(ts + 61_000), Error::StaleTimestamp),
        (&*q.replace("orderId=", "orderId=x%26y%3D"), [KEY], fresh, VALUE_RULE),
    ] {
        let mut s = vec![0u8; forged.len()];
        assert_eq!(verify_v1_query(forged, &keys, f, Replay::Store(&mut log), &mut s).err(), Some(want), "{forged}");
    }
    assert!(log.0.is_empty(), "a refused request reached the store: {:?}", log.0);
}

// ------------------------------------------------------- (d) S1b bodies

/// A JSON object of string members, in order (test-side writer).
fn serde_like_body(params: &[(&str, &str)]) -> String {
    let esc = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
    let members: Vec<String> = params.iter().map(|(n, v)| format!("\"{}\":\"{}\"", esc(n), esc(v))).collect();
    format!("{{{}}}", members.join(","))
}

/// `verify_v1_json` with the documented scratch size; the signed pairs.
fn s1b(token: &str, body: &[u8]) -> Result<Vec<(String, String)>> {
    let mut s = vec![0u8; body.len() + token.len() + 9];
    verify_v1_json(token, body, &[KEY], Freshness::Unchecked, Replay::Unchecked, &mut s)
        .map(|v| v.params().iter().map(|(n, v)| (n.to_string(), v.to_string())).collect())
}

/// Issue 11 finding 5: members outside the signed set reached an
/// application that parses the raw body.
#[test]
fn s1b_unsigned_members_are_refused() {
    let params = [("activity", "newInstance"), ("orderId", "CS1906666666ABCDE"), ("testFlag", "1"), ("timeStamp", TS)];
    let token = v1_auth_token(&params, KEY).unwrap();
    let token = token.as_str();
    let genuine = serde_like_body(&params);
    assert_eq!(s1b(token, genuine.as_bytes()).map(|v| v.len()), Ok(4));
    let with = |extra: &str| format!("{},{extra}}}", &genuine[..genuine.len() - 1]);

    let malformed = |t: &'static str| Error::MalformedEncoding(t);
    let cases: Vec<(String, Error)> = vec![
        (with(r#""orderId":"EVIL""#), malformed("S1b body repeats a member name")),
        // The same name spelt with an escape is the same name.
        (with(r#""order\u0049d":"EVIL""#), malformed("S1b body repeats a member name")),
        // A blank duplicate is still a duplicate (a last-wins reader sees "").
        (with(r#""orderId":"""#), malformed("S1b body repeats a member name")),
        (with(r#""amount":100"#), malformed("S1b body member is a number, not a string")),
        (with(r#""testFlag2":-0.5e3"#), malformed("S1b body member is a number, not a string")),
        (with(r#""extra":{"orderId":"EVIL"}"#), malformed("S1b body member is an object, not a string")),
        (with(r#""extra":{}"#), malformed("S1b body member is an object, not a string")),
        (with(r#""orders":["EVIL"]"#), malformed("S1b body member is an array, not a string")),
        (with(r#""paid":true"#), malformed("S1b body member is a boolean, not a string")),
        (with(r#""paid":false"#), malformed("S1b body member is a boolean, not a string")),
        (with(r#""memo":null"#), malformed("S1b body member is null, not a string")),
        (with(r#""authToken":"x""#), Error::Ambiguous("S1b body has an `authToken` member (outside the signed set)")),
        (with(r#""authToken":"""#), Error::Ambiguous("S1b body has an `authToken` member (outside the signed set)")),
        (with(r#""auth\u0054oken":"x""#), Error::Ambiguous("S1b body has an `authToken` member (outside the signed set)")),
        // A blank member's name obeys the S1 item 10 name rule too.
        (with(r#""a&b=c":"""#), NAME_RULE),
        (format!("[{genuine}]"), malformed("S1b body is not a JSON object")),
        (r#""text""#.to_string(), malformed("S1b body is not a JSON object")),
        (format!("{genuine} {{}}"), malformed("S1b body is not strict JSON")),
        (with(r#""x":1,"#), malformed("S1b body is not strict JSON")),
    ];
    for (body, want) in &cases {
        assert_eq!(s1b(token, body.as_bytes()).err(), Some(*want), "{body}");
        // Refused before the MAC: the same answer under a wrong key.
        let mut s = vec![0u8; body.len() + token.len() + 9];
        assert_eq!(verify_v1_json(token, body.as_bytes(), &["wrong"], Freshness::Unchecked, Replay::Unchecked, &mut s).err(), Some(*want), "{body}");
    }
    // The header's token is the token: with the body member gone the body verifies.
    assert_eq!(s1b(token, genuine.as_bytes()).map(|v| v.len()), Ok(4));
}

/// Blank members are left out of the canonical string (the spec): they are
/// tolerated outside the signed set, and never become parameters.
#[test]
fn s1b_blank_members_are_tolerated_and_not_parameters() {
    let params = [("activity", "newInstance"), ("timeStamp", TS)];
    let token = v1_auth_token(&params, KEY).unwrap();
    let genuine = serde_like_body(&params);
    let body = format!("{},\"memo\":\"  \",\"empty\":\"\",\"tab\":\"\\t\"}}", &genuine[..genuine.len() - 1]);
    let view = s1b(token.as_str(), body.as_bytes()).expect("blank members are tolerated");
    assert_eq!(view, vec![("activity".into(), "newInstance".into()), ("timeStamp".into(), TS.into())]);
    let mut s = vec![0u8; body.len() + 64];
    let v = verify_v1_json(token.as_str(), body.as_bytes(), &[KEY], Freshness::Unchecked, Replay::Unchecked, &mut s).unwrap();
    assert_eq!(v.get("memo"), None);
    // A blank timeStamp is no timeStamp.
    let body = r#"{"activity":"newInstance","timeStamp":" "}"#;
    assert_eq!(s1b(token.as_str(), body.as_bytes()).err(), Some(Error::MissingParameter("timeStamp")));
    // Long escaped strings are decoded into the scratch (no fixed limit).
    let long = "é\\n".repeat(300);
    let decoded = "é\n".repeat(300);
    let params = [("activity", "newInstance"), ("note", decoded.as_str()), ("timeStamp", TS)];
    let token = v1_auth_token(&params, KEY).unwrap();
    let body = format!(r#"{{"activity":"newInstance","note":"{long}","timeStamp":"{TS}"}}"#);
    assert_eq!(s1b(token.as_str(), body.as_bytes()).map(|v| v.len()), Ok(3));
    // 63 members plus the header's token are 64 pairs; 64 members are too many.
    let many = |n: usize| format!("{{\"timeStamp\":\"{TS}\"{}}}", (1..n).map(|i| format!(",\"p{i}\":\"\"")).collect::<String>());
    assert_eq!(s1b("t", many(63).as_bytes()).err(), Some(Error::SignatureMismatch));
    assert_eq!(s1b("t", many(64).as_bytes()).err(), Some(Error::InputTooLarge { limit: koosign::form::MAX_PARAMS }));
}
