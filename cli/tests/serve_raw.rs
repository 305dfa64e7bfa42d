//! `koosign serve` against raw HTTP requests written by hand, including the
//! documented example bodies and vectors of SCHEMES.md.

mod common;

use common::*;
use koosign::{EncryptType, FieldCipher, FieldKey};
use serde_json::Value;

/// SCHEMES.md S2's example body (V2 newInstance).
const V2_BODY: &str = r#"{"activity":"newInstance","businessId":"87b94795-0603-4e24-8ae5-69420d60e3c8","orderId":"CS2211181819B4LVS","orderLineId":"CS2211181819B4LVS-000001","testFlag":"1"}"#;
const V2_NONCE: &str = "50D83FDECAED6CCD8EF597F2A577950527928BA287D04E6036E92B2806FD17DA";
/// SCHEMES.md S1's vector as the marketplace sends it (values URL-encoded, token last).
const V1_QUERY: &str = "activity=newInstance&businessId=61e834ba-7b97-4418-b8f7-e5345137278c&customerId=68cbc86abc2018ab880d92f36422fa0e&expireTime=20200727153156&orderId=CS1906666666ABCDE&productId=00301-666666-0--0&testFlag=1&timeStamp=20200727073711903&authToken=IzyXxySagieGHt354yIOhnCrv0vphQN0e9NuWT2MKNY%3D";

fn fresh(body: &[u8]) -> String {
    v2_query(body, KEY, &fresh_nonce(), now_ms())
}

fn check_app_info(v: &Value) {
    let key = FieldKey::derive(KEY, EncryptType::Aes256);
    for f in ["userName", "password"] {
        let w = v[f].as_str().unwrap();
        assert!(w.len() <= 128, "{f} {}", w.len());
        let mut out = vec![0u8; w.len()];
        key.decrypt(w, &mut out).unwrap_or_else(|_| panic!("{f} decrypts with AES-256"));
    }
    assert!(v["frontEndUrl"].as_str().unwrap().starts_with("http://"));
    assert!(v["adminUrl"].as_str().is_some() && v["memo"].as_str().is_some());
}

#[test]
fn documented_v2_vector_is_refused_as_stale_then_accepted_fresh() {
    let s = serve(&["--key", KEY], None);
    // The documented request verbatim: a valid signature, but its timestamp is years old.
    let q = format!("signature=CD8D59BB7FCF7574752B5EB0ED04B3ACF4A759DA53F24D30A79ABE45C5D1BA25&timestamp=1680508066618&nonce={V2_NONCE}");
    let r = post(s.addr, &q, &[], V2_BODY.as_bytes());
    assert_eq!(r.status, 200);
    r.assert_signed(KEY);
    assert_eq!(r.code(), "000001");

    // The same body, freshly signed.
    let q = fresh(V2_BODY.as_bytes());
    let r = post(s.addr, &q, &[], V2_BODY.as_bytes());
    r.assert_signed(KEY);
    let v = r.json();
    assert_eq!(v["resultCode"], "000000", "{v}");
    let id = v["instanceId"].as_str().unwrap().to_string();
    assert!(!id.is_empty() && id.len() <= 64);
    assert_eq!(v["encryptType"], "1");
    check_app_info(&v["appInfo"]);

    // The very same request again: a replayed nonce.
    let r = post(s.addr, &q, &[], V2_BODY.as_bytes());
    r.assert_signed(KEY);
    assert_eq!(r.code(), "000001");

    // A retry of the order (fresh nonce): the same instance, the same appInfo.
    let r = post(s.addr, &fresh(V2_BODY.as_bytes()), &[], V2_BODY.as_bytes());
    let v2 = r.json();
    assert_eq!(v2["instanceId"], id.as_str());
    assert_eq!(v2["appInfo"], v["appInfo"]);

    // Lower-case hex (as licences send it) is accepted too.
    let body = format!(r#"{{"activity":"queryInstance","instanceId":"{id}","testFlag":"1"}}"#);
    let q = fresh(body.as_bytes());
    let (sig, rest) = q.split_once('&').unwrap();
    let r = post(s.addr, &format!("{}&{rest}", sig.to_ascii_lowercase()), &[], body.as_bytes());
    let v = r.json();
    assert_eq!(v["resultCode"], "000000", "{v}");
    assert_eq!(v["info"][0]["instanceId"], id.as_str());
    assert_eq!(v["encryptType"], "1");
    check_app_info(&v["info"][0]["appInfo"]);

    s.wait_log_lines(6);
    let log = s.log_text();
    assert!(!log.contains(KEY));
    assert!(!log.contains("CD8D59BB7FCF"), "signature in the log");
    assert!(log.contains("STALE_TIMESTAMP") && log.contains("REPLAYED_NONCE"), "{log}");
}

#[test]
fn v2_lifecycle_by_hand() {
    let s = serve(&["--key", KEY], None);
    let send = |body: &str| {
        let r = post(s.addr, &fresh(body.as_bytes()), &[], body.as_bytes());
        r.assert_signed(KEY);
        r.json()
    };
    let v = send(r#"{"activity":"newInstance","orderId":"CS1","orderLineId":"CS1-000001","businessId":"b1","testFlag":"1"}"#);
    let id = v["instanceId"].as_str().unwrap().to_string();
    for (body, code) in [
        (format!(r#"{{"activity":"refreshInstance","instanceId":"{id}","scene":"RENEWAL","expireTime":"20991231000000"}}"#), "000000"),
        (format!(r#"{{"activity":"refreshInstance","instanceId":"{id}","scene":"NOPE"}}"#), "000002"),
        (format!(r#"{{"activity":"updateInstanceStatus","instanceId":"{id}","status":"FREEZE"}}"#), "000000"),
        (format!(r#"{{"activity":"updateInstanceStatus","instanceId":"{id}","status":"MELT"}}"#), "000002"),
        (format!(r#"{{"activity":"updateInstanceStatus","instanceId":"{id}"}}"#), "000002"),
        (format!(r#"{{"activity":"upgradeInstance","instanceId":"{id}","productId":"p2"}}"#), "000000"),
        (r#"{"activity":"queryInstance","instanceId":"ins-unknown"}"#.to_string(), "000003"),
        (r#"{"activity":"releaseInstance","instanceId":"ins-unknown"}"#.to_string(), "000003"),
        (r#"{"activity":"releaseInstance"}"#.to_string(), "000002"),
        (format!(r#"{{"activity":"releaseInstance","instanceId":"{id}"}}"#), "000000"),
        (format!(r#"{{"activity":"releaseInstance","instanceId":"{id}"}}"#), "000000"),
        (format!(r#"{{"activity":"upgradeInstance","instanceId":"{id}"}}"#), "000003"),
        (r#"{"activity":"newInstance","orderId":"CS2"}"#.to_string(), "000002"),
        (r#"{"activity":"newInstance","orderLineId":"x"}"#.to_string(), "000002"),
        (r#"{"activity":"somethingElse"}"#.to_string(), "000002"),
        (r#"{"orderId":"CS3"}"#.to_string(), "000002"),
        (r#"{"activity":"queryInstance","instanceId":"#.to_string(), "000002"),
        ("[1,2,3]".to_string(), "000002"),
        (format!(r#"{{"activity":"queryInstance","instanceId":"{}"}}"#, vec!["x"; 101].join(",")), "000002"),
    ] {
        let v = send(&body);
        assert_eq!(v["resultCode"], code, "{body} -> {v}");
    }
    // Released instances are still listed by queryInstance (with the same appInfo).
    let v = send(&format!(r#"{{"activity":"queryInstance","instanceId":"{id},ins-unknown"}}"#));
    assert_eq!(v["resultCode"], "000000");
    assert_eq!(v["info"].as_array().unwrap().len(), 1);
}

#[test]
fn v2_bad_authentication_and_parameters() {
    let s = serve(&["--key", KEY], None);
    let body = br#"{"activity":"queryInstance","instanceId":"x"}"#;
    let ts = now_ms();
    let good = v2_query(body, KEY, &fresh_nonce(), ts);
    let cases: Vec<(String, &str)> = vec![
        // A signature one character off.
        (format!("signature={}{}", if &good[10..11] == "A" { "B" } else { "A" }, &good[11..]), "000001"),
        (v2_query(body, "wrong-key", &fresh_nonce(), ts), "000001"),
        (v2_query(body, KEY, &fresh_nonce(), ts + 120_000), "000001"),
        (format!("signature=zz&timestamp={ts}&nonce=abc"), "000001"),
        // A signature, timestamp or nonce missing or malformed is refused
        // before authentication: 000001 (SCHEMES.md "Which code a refusal gets").
        (format!("timestamp={ts}&nonce=abc"), "000001"),
        ("signature=AB&nonce=abc".to_string(), "000001"),
        (format!("signature=AB&timestamp={ts}"), "000001"),
        ("signature=AB&timestamp=not-a-number&nonce=abc".to_string(), "000001"),
        ("signature=%zz".to_string(), "000001"),
        (String::new(), "000001"),
    ];
    for (q, code) in cases {
        let r = post(s.addr, &q, &[], body);
        assert_eq!(r.status, 200);
        r.assert_signed(KEY);
        assert_eq!(r.code(), code, "query {q}");
    }
    // A body changed after signing.
    let q = v2_query(body, KEY, &fresh_nonce(), now_ms());
    let r = post(s.addr, &q, &[], br#"{"activity":"queryInstance","instanceId":"y"}"#);
    assert_eq!(r.code(), "000001");
    // Re-serialised (pretty) body, same signature.
    let q = v2_query(body, KEY, &fresh_nonce(), now_ms());
    let pretty = serde_json::to_vec_pretty(&serde_json::from_slice::<Value>(body).unwrap()).unwrap();
    assert_eq!(post(s.addr, &q, &[], &pretty).code(), "000001");
}

#[test]
fn kit_headers() {
    let s = serve(&["--key", KEY], None);
    // The documented kit vector: right x-sign, stale timestamp.
    let kit_old = [
        ("x-sign", "ABB44B4C7A867A9F5EB8D9B7D9DF42E804FF66BC084EE412C49CFAFBFD5D8BE6"),
        ("x-timestamp", "1680508066618"),
        ("x-nonce", V2_NONCE),
    ];
    let r = post(s.addr, "", &kit_old, V2_BODY.as_bytes());
    r.assert_signed(KEY);
    assert_eq!(r.code(), "000001");
    // Fresh kit signature (lower-case hex, header names in any case).
    let ts = now_ms().to_string();
    let nonce = fresh_nonce();
    let sig = koosign::sign_v2(koosign::V2Scheme::Headers, V2_BODY.as_bytes(), KEY, &nonce, &ts).unwrap().as_str().to_ascii_lowercase();
    let hs = [("X-Sign", sig.as_str()), ("X-Timestamp", ts.as_str()), ("X-Nonce", nonce.as_str())];
    let r = post(s.addr, "", &hs, V2_BODY.as_bytes());
    r.assert_signed(KEY);
    let v = r.json();
    assert_eq!(v["resultCode"], "000000", "{v}");
    check_app_info(&v["appInfo"]);
    // Replay.
    assert_eq!(post(s.addr, "", &hs, V2_BODY.as_bytes()).code(), "000001");
    // The basic formula in kit headers does not verify.
    let nonce = fresh_nonce();
    let basic = koosign::sign_v2(koosign::V2Scheme::Query, V2_BODY.as_bytes(), KEY, &nonce, &ts).unwrap();
    let hs = [("x-sign", basic.as_str()), ("x-timestamp", ts.as_str()), ("x-nonce", nonce.as_str())];
    assert_eq!(post(s.addr, "", &hs, V2_BODY.as_bytes()).code(), "000001");
    // Missing x-nonce: refused before authentication.
    let hs = [("x-sign", basic.as_str()), ("x-timestamp", ts.as_str())];
    assert_eq!(post(s.addr, "", &hs, V2_BODY.as_bytes()).code(), "000001");
}

#[test]
fn v1_documented_vector_and_activities() {
    // The documented S1 vector is from 2020: accepted only with the V1
    // window off (it is on by default, SCHEMES.md S1.8).
    let s = serve(&["--key", KEY, "--v1-window", "0"], None);
    let r = get(s.addr, &format!("/produce?{V1_QUERY}"));
    r.assert_signed(KEY);
    let v = r.json();
    assert_eq!(v["resultCode"], "000000", "{v}");
    let id = v["instanceId"].as_str().unwrap().to_string();
    assert_eq!(v["encryptType"], "1");
    check_app_info(&v["appInfo"]);
    // The very same query again is a replayed authToken (S1.8), window or not.
    let r = get(s.addr, &format!("/produce?{V1_QUERY}"));
    r.assert_signed(KEY);
    assert_eq!(r.code(), "000001");
    // Idempotent: the same orderId again, freshly signed.
    let again = v1_signed(&[("activity", "newInstance"), ("orderId", "CS1906666666ABCDE")], KEY);
    assert_eq!(get(s.addr, &format!("/produce?{again}")).json()["instanceId"], id.as_str());
    // One character of the token changed.
    let bad = V1_QUERY.replace("authToken=Izy", "authToken=Jzy");
    assert_eq!(get(s.addr, &format!("/produce?{bad}")).code(), "000001");
    // A parameter changed after signing.
    let bad = V1_QUERY.replace("testFlag=1", "testFlag=0");
    assert_eq!(get(s.addr, &format!("/produce?{bad}")).code(), "000001");
    // Missing timeStamp / authToken / everything: refused before authentication.
    let bad = V1_QUERY.replace("&timeStamp=20200727073711903", "");
    assert_eq!(get(s.addr, &format!("/produce?{bad}")).code(), "000001");
    let bad = V1_QUERY.split("&authToken").next().unwrap().to_string();
    assert_eq!(get(s.addr, &format!("/produce?{bad}")).code(), "000001");
    let r = get(s.addr, "/produce");
    r.assert_signed(KEY);
    assert_eq!(r.code(), "000001");

    // Activities, signed fresh with the core.
    let q = |params: &[(&str, &str)]| {
        let query = v1_signed(params, KEY);
        let r = get(s.addr, &format!("/produce?{query}"));
        r.assert_signed(KEY);
        r.code()
    };
    // Encrypted inbound fields (AES-128 as field captures show).
    let cipher = FieldCipher::new(KEY);
    let mut w = [0u8; 128];
    let phone = cipher.key(EncryptType::Aes128).encrypt("13800000000", &mut getrandom::SysRng, &mut w).unwrap().to_string();
    assert_eq!(q(&[("activity", "newInstance"), ("orderId", "CSV1X"), ("mobilePhone", &phone)]), "000000");
    assert_eq!(q(&[("activity", "newInstance"), ("orderId", "CSV1Y"), ("email", "abcdefgh12345678notbase64!!")]), "000002");
    assert_eq!(q(&[("activity", "newInstance")]), "000002");
    assert_eq!(q(&[("activity", "refreshInstance"), ("instanceId", &id), ("expireTime", "20991231000000")]), "000000");
    assert_eq!(q(&[("activity", "upgrade"), ("instanceId", &id), ("productId", "p2")]), "000000");
    assert_eq!(q(&[("activity", "expireInstance"), ("instanceId", &id)]), "000000");
    assert_eq!(q(&[("activity", "expireInstance")]), "000002");
    assert_eq!(q(&[("activity", "releaseInstance"), ("instanceId", &id)]), "000000");
    assert_eq!(q(&[("activity", "releaseInstance"), ("instanceId", &id)]), "000000");
    assert_eq!(q(&[("activity", "refreshInstance"), ("instanceId", &id)]), "000003");
    assert_eq!(q(&[("activity", "getLicense"), ("instanceId", &id)]), "000002");
    assert_eq!(q(&[("activity", "upgrade"), ("instanceId", "nope")]), "000003");
}

#[test]
fn v1_window_option_refuses_the_old_vector() {
    let s = serve(&["--key", KEY, "--v1-window", "60"], None);
    let r = get(s.addr, &format!("/produce?{V1_QUERY}"));
    r.assert_signed(KEY);
    assert_eq!(r.code(), "000001");
}

#[test]
fn other_paths_and_methods_are_signed_too() {
    let s = serve(&["--key", KEY], None);
    let r = get(s.addr, "/somewhere");
    assert_eq!(r.status, 404);
    r.assert_signed(KEY);
    assert_eq!(r.code(), "000002");
    let r = raw_exchange(s.addr, format!("PUT /produce HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", s.addr).as_bytes());
    assert_eq!(r.status, 200);
    r.assert_signed(KEY);
    // Wrong before authentication: 000001 (docs/SCHEMES.md §Answers).
    assert_eq!(r.code(), "000001");
    // A body over 1 MiB is refused unread with 000002 (§Answers, decision);
    // a broken chunked body cannot be read at all: 000001.
    let big = "x".repeat(koosign::MAX_NOTIFICATION_BODY + 1);
    let r = raw_exchange(
        s.addr,
        format!("POST /produce?a=1 HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{big}", s.addr, big.len()).as_bytes(),
    );
    r.assert_signed(KEY);
    assert_eq!(r.code(), "000002");
    let r = raw_exchange(
        s.addr,
        format!("POST /produce?a=1 HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", s.addr).as_bytes(),
    );
    r.assert_signed(KEY);
    assert_eq!(r.code(), "000001");
    // The header is sent with its exact name and the content type is JSON.
    assert!(r.headers.iter().any(|(n, _)| n == "Body-Sign"));
    assert!(r.header("Content-Type").unwrap().starts_with("application/json"));
}

#[test]
fn store_persists_across_restarts_and_keys_from_file_and_env() {
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("key");
    std::fs::write(&key_file, format!("{KEY}\n")).unwrap();
    let data = dir.path().join("data");
    let data_s = data.to_str().unwrap();
    let id = {
        let s = serve(&["--key-file", key_file.to_str().unwrap(), "--data", data_s], None);
        let r = post(s.addr, &fresh(V2_BODY.as_bytes()), &[], V2_BODY.as_bytes());
        r.assert_signed(KEY);
        r.json()["instanceId"].as_str().unwrap().to_string()
    };
    assert!(data.join("koosign.sqlite3").exists());
    let s = serve(&["--data", data_s], Some(KEY));
    let r = post(s.addr, &fresh(V2_BODY.as_bytes()), &[], V2_BODY.as_bytes());
    r.assert_signed(KEY);
    assert_eq!(r.json()["instanceId"], id.as_str());
    s.wait_log_lines(2);
    assert!(!s.log_text().contains(KEY));
}

#[test]
fn serve_bad_input() {
    // No key.
    let mut c = bin();
    c.args(["serve", "--addr", "127.0.0.1:0"]);
    let r = run(c);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("no access key"), "{}", r.stderr);
    // An address in use.
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let mut c = bin();
    c.args(["serve", "--addr", &busy.local_addr().unwrap().to_string(), "--key", KEY]);
    let r = run(c);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("cannot listen"), "{}", r.stderr);
    assert_no_secret(&r, KEY);
    // Not an address.
    let mut c = bin();
    c.args(["serve", "--addr", "nowhere", "--key", KEY]);
    let r = run(c);
    assert_eq!(r.code, 1);
    assert_no_secret(&r, KEY);
    // An empty key file.
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("empty");
    std::fs::write(&f, "").unwrap();
    let mut c = bin();
    c.args(["serve", "--addr", "127.0.0.1:0", "--key-file", f.to_str().unwrap()]);
    let r = run(c);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("empty"), "{}", r.stderr);
}
