//! One test per bug found by fuzzing or by the property tests (issue 7),
//! with the input that found it. The fuzz crate also replays the raw crash
//! files kept in `fuzz/regressions/<target>/`.

use koosign::*;
use koosign::{Freshness, Replay};

struct Ignore;
impl JsonVisitor<'_> for Ignore {}

/// `{"a": [[[…]]]}` nested `depth` deep.
fn nested(depth: usize) -> Vec<u8> {
    let mut b = br#"{"timeStamp":"20200727073711903","a":"#.to_vec();
    b.extend(std::iter::repeat_n(b'[', depth));
    b.extend(std::iter::repeat_n(b']', depth));
    b.push(b'}');
    b
}

/// Found while triaging the surrogate-pair seed failure below (reading
/// serde-json-core), confirmed with this input. serde-json-core recurses
/// once per `[`/`{` of a value it skips, and S1b parses the body *before*
/// the token is checked: an unauthenticated 2 MB body nested a million
/// deep aborted the process (8 MiB main-thread stack, release build;
/// smaller thread stacks go sooner). Fix: a strict, iterative JSON syntax
/// check first, nesting at most 64 deep.
#[test]
fn deeply_nested_json_is_refused_without_recursing() {
    let body = nested(1_000_000);
    // A small stack: the check must not depend on the depth.
    let h = std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(move || {
            let mut scratch = vec![0u8; body.len() + 16];
            let v1 = verify_v1_json("token", &body, &["key"], Freshness::Unchecked, Replay::Unchecked, &mut scratch).map(|v| v.key_index());
            let n = Notification::parse(&body).map(|_| ());
            // Under the 1 MiB notification limit: the depth check refuses it.
            let under = nested(400_000);
            let n_under = Notification::parse(&under).map(|_| ());
            let w_under = walk_json(&under, &mut Ignore);
            (v1, n, n_under, w_under)
        })
        .expect("thread");
    let (v1, n, n_under, w_under) = h.join().expect("no stack overflow");
    // Refused by the depth-bounded syntax check, before anything else.
    assert_eq!(v1, Err(Error::MalformedEncoding("S1b body is not strict JSON")), "{v1:?}");
    // A notification body over MAX_NOTIFICATION_BODY (2 MB here) is refused
    // unread (docs/SCHEMES.md §Answers, issue 13), before the depth check.
    assert_eq!(n, Err(Error::InputTooLarge { limit: MAX_NOTIFICATION_BODY }), "{n:?}");
    assert_eq!(n_under, Err(Error::MalformedEncoding("body is not a valid notification JSON object")));
    assert_eq!(w_under, Err(Error::MalformedEncoding("JSON body is nested deeper than 64")));
    // 63 levels inside the object are fine (64 in all) as JSON. An S1b body
    // now refuses any nested member (SCHEMES.md S1b decision, issue 11), but
    // only after the syntax check passed: 64 levels fail that check first.
    let ok = nested(63);
    assert!(Notification::parse(&ok).is_ok());
    let mut scratch = vec![0u8; ok.len() + 16];
    assert_eq!(
        verify_v1_json("t", &ok, &["k"], Freshness::Unchecked, Replay::Unchecked, &mut scratch).err(),
        Some(Error::MalformedEncoding("S1b body member is an array, not a string"))
    );
    assert!(Notification::parse(&nested(64)).is_err());
    let deep = nested(64);
    let mut scratch = vec![0u8; deep.len() + 16];
    assert_eq!(
        verify_v1_json("t", &deep, &["k"], Freshness::Unchecked, Replay::Unchecked, &mut scratch).err(),
        Some(Error::MalformedEncoding("S1b body is not strict JSON"))
    );
}

/// Found by: the `v1_json` seeds (a JDK vector re-encoded by Python's
/// `json.dumps`, which escapes non-ASCII): `"j9NksoqNNJ6XIbemoji\ud83d\ude00"`.
/// serde-json-core decodes `\uXXXX` one unit at a time and refuses a
/// surrogate pair, so a correctly signed S1b request (and any notification
/// body) carrying an escaped emoji failed as `MalformedEncoding`. Fix:
/// strings are read raw and unescaped by koosign, surrogate pairs included.
#[test]
fn json_surrogate_pair_escapes_are_decoded() {
    let n = Notification::parse(br#"{"activity":"newInstance","customerName":"emoji\ud83d\ude00 \u00e9\n\/"}"#)
        .expect("valid JSON");
    assert_eq!(Notification::text(&n.customer_name), Some("emoji😀 é\n/"));
    // S1b: the token is over the unescaped value.
    let ts = "20200727073711903";
    let token = v1_auth_token(&[("timeStamp", ts), ("x", "emoji😀")], "key").unwrap();
    let body = br#"{"timeStamp":"20200727073711903","x":"emoji\ud83d\ude00"}"#;
    let mut scratch = vec![0u8; body.len() + token.as_str().len() + 9];
    let v = verify_v1_json(token.as_str(), body, &["key"], Freshness::Unchecked, Replay::Unchecked, &mut scratch).expect("verifies");
    assert_eq!(v.get("x"), Some("emoji😀"));
    // Lone surrogates are not text.
    for bad in [&br#"{"activity":"\ud83d"}"#[..], br#"{"activity":"\ude00x"}"#, br#"{"activity":"\ud83d\u0041"}"#] {
        assert!(Notification::parse(bad).is_err(), "{}", String::from_utf8_lossy(bad));
    }
}

/// Found with the two above (reading serde-json-core; the `notification`
/// target's differential check against serde_json now guards it). An
/// unknown field was unescaped into the 256-byte buffer all
/// the same, so a notification with a long escaped field it does not even
/// read (a memo, an extension object) was refused.
#[test]
fn long_escaped_unknown_fields_are_skipped() {
    let memo = "line\\n".repeat(100);
    let body = format!(r#"{{"memo":"{memo}","activity":"newInstance","extra":{{"k":"{memo}"}}}}"#);
    let n = Notification::parse(body.as_bytes()).expect("unknown fields are skipped");
    assert_eq!(Notification::text(&n.activity), Some("newInstance"));
    // A known field still has its documented limit.
    let body = format!(r#"{{"activity":"{memo}"}}"#);
    assert!(Notification::parse(body.as_bytes()).is_err());
}

/// Found with the three above (the `notification` target's differential
/// check against serde_json now guards it): serde-json-core skips an
/// unknown scalar by eating bytes up to
/// the next `,`/`}`/`]`, and keeps raw control characters in strings, so
/// texts that are not JSON parsed as notifications. Fix: the strict syntax
/// check (RFC 8259) before parsing.
#[test]
fn invalid_json_is_refused() {
    for bad in [
        &br#"{"x":garbage,"activity":"a"}"#[..],
        br#"{"x":tru,"activity":"a"}"#,
        br#"{"x":01,"activity":"a"}"#,
        br#"{"x":1.,"activity":"a"}"#,
        br#"{"x":-,"activity":"a"}"#,
        b"{\"activity\":\"a\x01b\"}",
        br#"{"activity":"a\q"}"#,
        br#"{"activity":"a"} x"#,
        br#"{"activity":"a",}"#,
        br#"{"activity" "a"}"#,
        b"{\"activity\":\"\xff\"}",
    ] {
        assert!(Notification::parse(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        let mut scratch = vec![0u8; bad.len() + 16];
        assert!(
            matches!(verify_v1_json("t", bad, &["k"], Freshness::Unchecked, Replay::Unchecked, &mut scratch), Err(Error::MalformedEncoding(_))),
            "{}",
            String::from_utf8_lossy(bad)
        );
    }
    // Valid JSON of every kind still parses.
    let good = br#" { "x" : [1, -0.5e+3, 2E-2, true, false, null, {"y": []}, "\"\\\/\b\f\n\r\t\u0041"], "activity" : "a" } "#;
    assert_eq!(Notification::text(&Notification::parse(good).expect("valid").activity), Some("a"));
}

/// Found by the `roundtrip` target (`fuzz/regressions/roundtrip/v1-64-params`):
/// 63 parameters `("", "")` plus `timeStamp`, key `"kkRp6DOP密钥\u{12}\0Os"`.
/// `build_v1_query` signed 64 parameters and appended `authToken`, a query
/// of 65 pairs that `verify_v1_query` refuses (`InputTooLarge`, 64 at most): a
/// query koosign itself built did not verify. Fix: `build_v1_query`
/// refuses what would exceed `MAX_PARAMS` pairs.
#[test]
fn build_v1_query_never_builds_what_verify_v1_refuses() {
    let ts = "20200727073711903";
    let mut params: Vec<(&str, &str)> = vec![("", ""); 63];
    params.push(("timeStamp", ts));
    let mut out = vec![0u8; 4096];
    assert_eq!(build_v1_query(&params, "key", &mut out).err(), Some(Error::InputTooLarge { limit: koosign::form::MAX_PARAMS }));
    // One fewer: 63 parameters + authToken = 64 pairs, built and verified.
    params.remove(0);
    let q = build_v1_query(&params, "key", &mut out).expect("64 pairs").to_owned();
    let mut scratch = vec![0u8; q.len()];
    assert_eq!(verify_v1_query(&q, &["key"], Freshness::Unchecked, Replay::Unchecked, &mut scratch).map(|v| v.key_index()), Ok(0));
    // authToken among the parameters is not sent twice, so it does not count.
    let mut with_token = params.clone();
    with_token.push(("authToken", "x"));
    assert!(build_v1_query(&with_token, "key", &mut out).is_ok());
}

/// Found by the `field_decrypt` target
/// (`fuzz/regressions/field_decrypt/noncanonical-base64-tail`): a seed's
/// wire string with the character before `=` changed so that only its
/// unused low bits differ (`…Gy1=` for `…Gy0=`) still decrypted to the same
/// plaintext. base64ct's `decode_in_place` (1.8.3) ignores the unused bits
/// that its `decode` refuses, so one ciphertext had up to 16 wire strings.
/// Fix: `FieldKey::decrypt` refuses non-zero unused bits (as `Decrypt`).
#[test]
fn only_canonical_base64_decrypts() {
    let b64 = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let value = |c: u8| b64.iter().position(|&x| x == c).expect("base64 char");
    let cipher = FieldCipher::new("testAccessKey123");
    let key = cipher.key(EncryptType::Aes256);
    let mut out = [0u8; 128];
    // "==" (16-byte ciphertext) and "=" (32-byte ciphertext) endings.
    for pt in ["admin", "0123456789abcdefXYZ"] {
        let wire = key.encrypt_with_iv(pt, b"abcdefgh12345678", &mut out).unwrap().to_owned();
        let pad = wire.bytes().rev().take_while(|&c| c == b'=').count();
        let at = wire.len() - pad - 1;
        let mut buf = vec![0u8; wire.len()];
        assert_eq!(key.decrypt(&wire, &mut buf), Ok(pt));
        let unused = if pad == 2 { 16 } else { 4 };
        for extra in 1..unused {
            let mut forged = wire.clone().into_bytes();
            forged[at] = b64[value(wire.as_bytes()[at]) + extra];
            let forged = String::from_utf8(forged).unwrap();
            let mut buf = vec![0u8; forged.len()];
            assert_eq!(key.decrypt(&forged, &mut buf), Err(Error::Decrypt), "{forged}");
            assert_eq!(cipher.decrypt(&forged, DecryptMode::Auto, &mut buf), Err(Error::Decrypt));
        }
    }
    // The spec vector with the space-for-plus repair still decrypts.
    let mut buf = [0u8; 64];
    assert_eq!(cipher.decrypt("ABCDEFGHijklmn01MpvuA8sUFJisvKp uf0qIg==", DecryptMode::Auto, &mut buf), Ok("中文用户"));
}

/// Found by the `apig` target (`fuzz/regressions/apig/host-with-trailing-u001d`):
/// host `"mkt-intl.myhuaweicloud.co\u{1d}"`, no `Host` header. The canonical
/// request strips the host as Python's `str.strip()` does (U+001C..U+001F
/// included) but the `Host` header returned in `headers_to_add` was looked
/// up with Rust's `trim()`, missed, and came back empty: the request sent
/// with the headers `sign_apig` handed out did not verify.
#[test]
fn sign_apig_added_host_matches_the_signed_one() {
    let req = ApigRequest {
        method: "GET",
        host: "mkt-intl.myhuaweicloud.co\u{1d}",
        path: "/%41/a+b/q0",
        query: &[("S9amVO", "%41")],
        headers: &[],
        body: b"",
    };
    let mut out = [0u8; 2048];
    let signed = sign_apig(&req, "AK", "SK", Some(0), &mut out).unwrap();
    let host = signed.headers_to_add.iter().find(|(n, _)| *n == "Host").map(|(_, v)| *v);
    assert_eq!(host, Some("mkt-intl.myhuaweicloud.co"));
    let mut headers: Vec<(&str, &str)> = Vec::new();
    headers.extend(signed.headers_to_add.iter().map(|(n, v)| (*n, *v)));
    let sent = ApigRequest { headers: &headers, ..req };
    assert_eq!(verify_apig(&sent, &[("AK", "SK")], Freshness::Unchecked).map(|v| v.credential_index), Ok(0));
}
