//! The response contract (docs/SCHEMES.md §Answers, §S3, §S4) through the
//! public API. Ciphertexts are the JDK's of docs/SCHEMES.md §S4 (access key
//! `testAccessKey123`); Body-Sign values come from the S3 signer, whose own
//! vectors are checked elsewhere.

use koosign::response::{check_response, find_body_sign, is_documented_code, read_answer, Expect};
use koosign::{body_sign, EncryptType, Error, ResultCode};

const KEY: &str = "testAccessKey123";
const W256: &str = "abcdefgh12345678cEmxy4I8pTd8cQfzOXtUKw==";
const W256B: &str = "ABCDEFGHijklmn01MpvuA8sUFJisvKp+uf0qIg==";
const W128: &str = "abcdefgh123456787ffgxbG9iCNmPHfS/KXEkA==";

fn check(body: &str, expect: Expect) -> koosign::Result<(String, Option<EncryptType>, usize)> {
    let sign = body_sign(body.as_bytes(), KEY).unwrap();
    let headers = [("Content-Type", "application/json"), ("Body-Sign", sign.as_str())];
    check_response(200, &headers, body.as_bytes(), KEY, expect)
        .map(|c| (c.result_code().to_string(), c.encrypt_type(), c.ciphertexts()))
}

fn new_instance(id: &str, et: &str, user: &str, pass: &str) -> String {
    format!(
        r#"{{"resultCode":"000000","resultMsg":"success.","instanceId":"{id}","encryptType":"{et}","appInfo":{{"frontEndUrl":"https://x","userName":"{user}","password":"{pass}"}}}}"#
    )
}

#[test]
fn a_good_new_instance_answer_passes() {
    let b = new_instance("ins-1", "1", W256, W256B);
    assert_eq!(check(&b, Expect::NewInstance), Ok(("000000".into(), Some(EncryptType::Aes256), 2)));
    let b = new_instance(&"i".repeat(64), "2", W128, W128);
    assert_eq!(check(&b, Expect::NewInstance), Ok(("000000".into(), Some(EncryptType::Aes128), 2)));
    let r = r#"{"resultCode":"000001","resultMsg":"authentication failed"}"#;
    assert_eq!(check(r, Expect::NewInstance), Ok(("000001".into(), None, 0)));
}

#[test]
fn body_sign_header_rules() {
    let body = br#"{"resultCode":"000000","resultMsg":"success."}"#;
    let sign = body_sign(body, KEY).unwrap();
    let s = sign.as_str();
    assert_eq!(find_body_sign(&[("Body-Sign", s)]), Ok(s));
    assert_eq!(find_body_sign(&[("x", "y")]), Err(Error::MissingParameter("Body-Sign")));
    assert!(matches!(find_body_sign(&[("body-sign", s)]), Err(Error::MalformedEncoding(_))));
    assert!(matches!(find_body_sign(&[("Body-Sign", s), ("body-sign", s)]), Err(Error::Ambiguous(_))));
    assert!(matches!(find_body_sign(&[("Body-Sign", s), ("Body-Sign", s)]), Err(Error::Ambiguous(_))));
    // Over the exact bytes: one more space is a mismatch.
    let spaced = br#"{"resultCode":"000000", "resultMsg":"success."}"#;
    assert_eq!(
        check_response(200, &[("Body-Sign", s)], spaced, KEY, Expect::Any).err(),
        Some(Error::SignatureMismatch)
    );
    assert_eq!(
        check_response(200, &[("Body-Sign", s)], body, "another key", Expect::Any).err(),
        Some(Error::SignatureMismatch)
    );
    // Strict grammar.
    let loose = s.replace("\"HMAC-SHA256\"", "HMAC-SHA256");
    assert!(matches!(
        check_response(200, &[("Body-Sign", &loose)], body, KEY, Expect::Any),
        Err(Error::MalformedEncoding(_))
    ));
    // Not 200.
    assert!(matches!(
        check_response(500, &[("Body-Sign", s)], body, KEY, Expect::Any),
        Err(Error::MalformedEncoding(_))
    ));
}

#[test]
fn result_codes() {
    for c in ["000000", "000001", "000002", "000003", "000004", "000005", "000100", "000107"] {
        assert!(is_documented_code(c), "{c}");
    }
    for c in ["000006", "000099", "000108", "00000", "0000000", "", "1", "00000a"] {
        assert!(!is_documented_code(c), "{c}");
    }
    assert!(matches!(check(r#"{"resultCode":"000009"}"#, Expect::Any), Err(Error::MalformedEncoding(_))));
    assert!(matches!(check(r#"{"resultCode":0}"#, Expect::Any), Err(Error::MalformedEncoding(_))));
    assert!(matches!(check(r#"{"resultCode":{"a":1}}"#, Expect::Any), Err(Error::MalformedEncoding(_))));
    assert_eq!(check(r#"{"resultMsg":"x"}"#, Expect::Any), Err(Error::MissingParameter("resultCode")));
    let body = br#"{"resultCode":"000100"}"#;
    let s = body_sign(body, KEY).unwrap();
    let c = read_answer(body, KEY, Expect::Any).unwrap();
    assert_eq!((c.result_code(), c.known_code()), ("000100", None));
    let c = check_response(200, &[("Body-Sign", s.as_str())], body, KEY, Expect::Any).unwrap();
    assert_eq!(c.key_index(), 0);
    assert_eq!(
        read_answer(br#"{"resultCode":"000003"}"#, KEY, Expect::Any).unwrap().known_code(),
        Some(ResultCode::UnknownInstance)
    );
}

#[test]
fn hostile_answers_are_refused() {
    let m = |r: koosign::Result<(String, Option<EncryptType>, usize)>| {
        assert!(matches!(r, Err(Error::MalformedEncoding(_))), "{r:?}")
    };
    // Strict JSON: a repeated name (two resultCodes), not an object, not UTF-8.
    m(check(r#"{"resultCode":"000001","resultCode":"000000"}"#, Expect::Any));
    m(check(r#"["000000"]"#, Expect::Any));
    m(check(r#"{"resultCode":"000000","appInfo":{"userName":"a","userName":"b"}}"#, Expect::Any));
    // instanceId at most 64 characters (characters, not bytes).
    let b = new_instance(&"i".repeat(65), "1", W256, W256);
    assert_eq!(check(&b, Expect::NewInstance), Err(Error::InputTooLarge { limit: 64 }));
    let b = new_instance(&"é".repeat(64), "1", W256, W256);
    assert!(check(&b, Expect::NewInstance).is_ok());
    assert_eq!(
        check(&new_instance("", "1", W256, W256), Expect::NewInstance),
        Err(Error::MissingParameter("instanceId"))
    );
    // encryptType consistent with the ciphertexts.
    m(check(&new_instance("i", "2", W256, W256), Expect::NewInstance));
    m(check(&new_instance("i", "1", W256, W128), Expect::NewInstance));
    m(check(&new_instance("i", "3", W256, W256), Expect::NewInstance));
    m(check(
        &new_instance("i", "1", W256, W256).replace(r#""encryptType":"1""#, r#""encryptType":1"#),
        Expect::NewInstance,
    ));
    let no_et = new_instance("i", "1", W256, W256).replace(r#""encryptType":"1","#, "");
    assert_eq!(check(&no_et, Expect::NewInstance), Err(Error::MissingParameter("encryptType")));
    assert_eq!(check(&no_et, Expect::Any), Err(Error::MissingParameter("encryptType")));
    // Wire strings at most 128 characters and decryptable.
    let long = format!("abcdefgh12345678{}", "A".repeat(116));
    assert_eq!(
        check(&new_instance("i", "1", &long, W256), Expect::NewInstance),
        Err(Error::InputTooLarge { limit: 128 })
    );
    assert_eq!(
        check(&new_instance("i", "1", "abcdefgh12345678AAAAAAAAAAAAAAAAAAAAAA==", W256), Expect::NewInstance),
        Err(Error::Decrypt)
    );
    assert_eq!(
        check(&new_instance("i", "1", "", W256), Expect::NewInstance),
        Err(Error::MissingParameter("appInfo userName/password"))
    );
    // Under another access key nothing decrypts.
    let b = new_instance("i", "1", W256, W256);
    let sign = body_sign(b.as_bytes(), "otherKey").unwrap();
    assert_eq!(
        check_response(200, &[("Body-Sign", sign.as_str())], b.as_bytes(), "otherKey", Expect::NewInstance).err(),
        Some(Error::Decrypt)
    );
    // newInstance success without appInfo.
    let bare = r#"{"resultCode":"000000","instanceId":"i","encryptType":"1"}"#;
    assert_eq!(check(bare, Expect::NewInstance), Err(Error::MissingParameter("appInfo")));
    assert!(check(bare, Expect::Any).is_ok());
}

#[test]
fn query_instance_answers() {
    let good = format!(
        r#"{{"resultCode":"000000","encryptType":"1","info":[{{"instanceId":"a","appInfo":{{"userName":"{W256}","password":"{W256B}"}}}},{{"instanceId":"b"}}]}}"#
    );
    assert_eq!(check(&good, Expect::QueryInstance), Ok(("000000".into(), Some(EncryptType::Aes256), 2)));
    let long_id = good.replace(r#""instanceId":"b""#, &format!(r#""instanceId":"{}""#, "b".repeat(65)));
    assert_eq!(check(&long_id, Expect::QueryInstance), Err(Error::InputTooLarge { limit: 64 }));
    let bad_wire = good.replace(W256B, W128);
    assert!(matches!(check(&bad_wire, Expect::QueryInstance), Err(Error::MalformedEncoding(_))));
    assert_eq!(
        check(r#"{"resultCode":"000000","encryptType":"1"}"#, Expect::QueryInstance),
        Err(Error::MissingParameter("info"))
    );
}
