//! The answer policy, protocol detection and the activity table
//! (docs/SCHEMES.md §Answers, §Notifications), through the public API.
//! Body-Sign values are from Python's hmac (independent of koosign).

use koosign::activity::{validate_v1, validate_v2, Activity, Family};
use koosign::answer::{refusal, result_code, sign_answer, ResultCode, Stage, REFUSAL_MAX_LEN};
use koosign::{detect_protocol, Error, Notification, Protocol};

const KEY: &str = "testAccessKey123";

#[test]
fn refusals_are_signed_over_their_exact_bytes() {
    // python3: base64(hmac.new(b"testAccessKey123", body, sha256).digest())
    let cases = [
        (
            ResultCode::Unauthenticated,
            r#"{"resultCode":"000001","resultMsg":"authentication failed"}"#,
            "1ilaOdCbRulHBwsEj9mFb1dn0rqQxEkzZWv5N9TvdhU=",
        ),
        (
            ResultCode::BadRequest,
            r#"{"resultCode":"000002","resultMsg":"bad parameters"}"#,
            "+zues3fe9pOuX+a1IpF+7zj54CySFvlLe337UIHlfbE=",
        ),
        (
            ResultCode::MerchantFailure,
            r#"{"resultCode":"000005","resultMsg":"internal error"}"#,
            "0l5NVbIO1JeLbbpHDgAzCseJcSqyNhEabBYuBlV6Wew=",
        ),
    ];
    for (code, body, sig) in cases {
        let mut out = [0u8; REFUSAL_MAX_LEN];
        let a = refusal(code, KEY, &mut out).unwrap();
        assert_eq!(a.body(), body);
        assert_eq!(a.body_sign(), format!("sign_type=\"HMAC-SHA256\", signature=\"{sig}\""));
        let again = sign_answer(body.as_bytes(), KEY).unwrap();
        assert_eq!(again.body_sign(), a.body_sign());
        // The value verifies with the S3 verifier.
        assert_eq!(koosign::verify_body_sign(a.body_sign(), body.as_bytes(), &[KEY]).map(|v| v.key_index()), Ok(0));
    }
}

#[test]
fn the_table_of_schemes_md_answers() {
    use Stage::*;
    // Row 1: before authentication, 000001.
    for e in [
        Error::MissingParameter("nonce"),
        Error::MissingParameter("signature"),
        Error::MalformedEncoding("x"),
        Error::BadTimestamp,
        Error::StaleTimestamp,
        Error::ReplayedNonce,
        Error::SignatureMismatch,
        Error::Ambiguous("x"),
        Error::InputTooLarge { limit: 256 },
    ] {
        assert_eq!(result_code(&e, BeforeAuthentication), ResultCode::Unauthenticated, "{e:?}");
    }
    // Row 2: authenticated, unusable content, 000002.
    for e in [
        Error::MalformedEncoding("body is not a valid notification JSON object"),
        Error::MissingParameter("orderId"),
        Error::InputTooLarge { limit: koosign::MAX_NOTIFICATION_BODY },
        Error::Decrypt,
    ] {
        assert_eq!(result_code(&e, Authenticated), ResultCode::BadRequest, "{e:?}");
    }
    // Row 4: the merchant's side, 000005 at either stage.
    for e in [
        Error::NonceStoreFull,
        Error::StoreUnavailable,
        Error::NoAccessKey,
        Error::RandomSource,
        Error::BufferTooSmall { needed: 9 },
    ] {
        for s in [BeforeAuthentication, Authenticated] {
            assert_eq!(result_code(&e, s), ResultCode::MerchantFailure, "{e:?}");
        }
    }
    assert_eq!(Error::StoreUnavailable.code(), "STORE_UNAVAILABLE");
}

const SIG: &str = "signature=AB&timestamp=1680508066618&nonce=N";

#[test]
fn detection_picks_one_protocol() {
    assert_eq!(detect_protocol("POST", &[], SIG), Ok(Protocol::V2Query));
    assert_eq!(
        detect_protocol("POST", &[("X-Sign", "a"), ("x-timestamp", "1"), ("x-nonce", "n")], ""),
        Ok(Protocol::V2Headers)
    );
    // One kit header is enough: the verifier then refuses the missing ones.
    assert_eq!(detect_protocol("POST", &[("X-NONCE", "n")], ""), Ok(Protocol::V2Headers));
    assert_eq!(detect_protocol("POST", &[("AuthToken", "t")], ""), Ok(Protocol::V1Json));
    assert_eq!(detect_protocol("GET", &[], "activity=newInstance&authToken=x&timeStamp=1"), Ok(Protocol::V1Query));
    assert_eq!(detect_protocol("GET", &[], "?authToken=x"), Ok(Protocol::V1Query));
    // Unrelated headers and look-alike names are no signal.
    assert_eq!(detect_protocol("POST", &[("x-signature", "a"), ("content-type", "x")], SIG), Ok(Protocol::V2Query));
    assert_eq!(detect_protocol("POST", &[], "Signature=1"), Err(Error::MissingParameter("signature")));
    assert_eq!(detect_protocol("POST", &[], "a=signature"), Err(Error::MissingParameter("signature")));
}

#[test]
fn detection_attacks_mixed_signals_are_ambiguous() {
    let amb = |r: koosign::Result<Protocol>| assert!(matches!(r, Err(Error::Ambiguous(_))), "{r:?}");
    amb(detect_protocol("POST", &[("x-sign", "a")], SIG));
    amb(detect_protocol("POST", &[("authToken", "t")], SIG));
    amb(detect_protocol("POST", &[("authToken", "t"), ("x-nonce", "n")], ""));
    amb(detect_protocol("GET", &[("authtoken", "t")], "authToken=x"));
    amb(detect_protocol("GET", &[], "authToken=x&signature=y"));
    // Percent-encoded names are the same names to the verifiers.
    amb(detect_protocol("POST", &[("x-sign", "a")], "%73ignature=1"));
    amb(detect_protocol("GET", &[], "auth%54oken=x&sig%6eature=y"));
    amb(detect_protocol("POST", &[("x-timestamp", "1")], "?signature"));
}

#[test]
fn detection_method_rules() {
    let bad = |r: koosign::Result<Protocol>| assert!(matches!(r, Err(Error::MalformedEncoding(_))), "{r:?}");
    bad(detect_protocol("POST", &[], "authToken=x"));
    bad(detect_protocol("GET", &[], SIG));
    bad(detect_protocol("GET", &[("x-sign", "a")], ""));
    bad(detect_protocol("PUT", &[], SIG));
    bad(detect_protocol("post", &[], SIG));
    bad(detect_protocol("HEAD", &[], "authToken=x"));
    assert_eq!(detect_protocol("GET", &[], ""), Err(Error::MissingParameter("authToken")));
    assert_eq!(detect_protocol("POST", &[], ""), Err(Error::MissingParameter("signature")));
    // Every detection error answers 000001.
    let e = detect_protocol("PUT", &[], "").unwrap_err();
    assert_eq!(result_code(&e, Stage::BeforeAuthentication), ResultCode::Unauthenticated);
}

fn v2(body: &str) -> koosign::Result<Activity> {
    validate_v2(&Notification::parse(body.as_bytes()).unwrap())
}

#[test]
fn v2_activities_and_their_fields() {
    assert_eq!(
        v2(r#"{"activity":"newInstance","orderId":"O","orderLineId":"L","businessId":"b","testFlag":"1"}"#),
        Ok(Activity::NewInstance)
    );
    assert_eq!(v2(r#"{"activity":"newInstance","orderId":"O"}"#), Err(Error::MissingParameter("orderLineId")));
    assert_eq!(
        v2(r#"{"activity":"newInstance","orderId":"  ","orderLineId":"L"}"#),
        Err(Error::MissingParameter("orderId"))
    );
    assert_eq!(v2(r#"{"activity":"queryInstance","instanceId":"a,b"}"#), Ok(Activity::QueryInstance));
    assert_eq!(v2(r#"{"activity":"queryInstance","instanceId":" , "}"#), Err(Error::MissingParameter("instanceId")));
    let many = (0..101).map(|i| format!("i{i}")).collect::<Vec<_>>().join(",");
    assert_eq!(
        v2(&format!(r#"{{"activity":"queryInstance","instanceId":"{many}"}}"#)),
        Err(Error::InputTooLarge { limit: 100 })
    );
    for scene in ["TRIAL_TO_FORMAL", "RENEWAL", "UNSUBSCRIBE_RENEWAL_PERIOD", "RENEWAL_CHANGE"] {
        assert_eq!(
            v2(&format!(r#"{{"activity":"refreshInstance","instanceId":"i","scene":"{scene}"}}"#)),
            Ok(Activity::RefreshInstance)
        );
    }
    assert!(matches!(
        v2(r#"{"activity":"refreshInstance","instanceId":"i","scene":"renewal"}"#),
        Err(Error::MalformedEncoding(_))
    ));
    assert_eq!(v2(r#"{"activity":"refreshInstance","scene":"RENEWAL"}"#), Err(Error::MissingParameter("instanceId")));
    assert_eq!(
        v2(r#"{"activity":"updateInstanceStatus","instanceId":"i","status":"FREEZE"}"#),
        Ok(Activity::UpdateInstanceStatus)
    );
    assert_eq!(
        v2(r#"{"activity":"updateInstanceStatus","instanceId":"i","status":"UNFREEZE"}"#),
        Ok(Activity::UpdateInstanceStatus)
    );
    assert!(matches!(
        v2(r#"{"activity":"updateInstanceStatus","instanceId":"i","status":"FROZEN"}"#),
        Err(Error::MalformedEncoding(_))
    ));
    assert_eq!(v2(r#"{"activity":"updateInstanceStatus","instanceId":"i"}"#), Err(Error::MissingParameter("status")));
    assert_eq!(v2(r#"{"activity":"releaseInstance","instanceId":"i"}"#), Ok(Activity::ReleaseInstance));
    assert_eq!(v2(r#"{"activity":"upgradeInstance","instanceId":"i"}"#), Ok(Activity::UpgradeInstance));
    assert_eq!(v2(r#"{"orderId":"O"}"#), Err(Error::MissingParameter("activity")));
    assert_eq!(v2(r#"{"activity":"upgrade","instanceId":"i"}"#), Err(Error::MalformedEncoding("unknown activity")));
    assert_eq!(
        v2(r#"{"activity":"NewInstance","orderId":"O","orderLineId":"L"}"#),
        Err(Error::MalformedEncoding("unknown activity"))
    );
    assert_eq!(
        v2(r#"{"activity":" newInstance","orderId":"O","orderLineId":"L"}"#),
        Err(Error::MalformedEncoding("unknown activity"))
    );
    // An escaped name is the same activity.
    assert_eq!(v2(r#"{"activity":"release\u0049nstance","instanceId":"i"}"#), Ok(Activity::ReleaseInstance));
}

#[test]
fn v1_activities_and_their_fields() {
    let ok = [
        ("newInstance", "orderId", Activity::V1NewInstance),
        ("refreshInstance", "instanceId", Activity::V1RefreshInstance),
        ("expireInstance", "instanceId", Activity::V1ExpireInstance),
        ("releaseInstance", "instanceId", Activity::V1ReleaseInstance),
        ("upgrade", "instanceId", Activity::V1Upgrade),
        ("instanceStatus", "instanceId", Activity::V1InstanceStatus),
        ("getLicense", "orderId", Activity::V1GetLicense),
        ("releaseLicense", "orderId", Activity::V1ReleaseLicense),
    ];
    for (name, field, a) in ok {
        assert_eq!(validate_v1(&[("authToken", "t"), ("activity", name), (field, "x")]), Ok(a));
        assert_eq!(validate_v1(&[("activity", name), ("testFlag", "1")]), Err(Error::MissingParameter(field)));
        assert_eq!(validate_v1(&[("activity", name), (field, " ")]), Err(Error::MissingParameter(field)));
        assert_eq!(Activity::parse(name, Family::V1), Ok(a));
        assert_eq!(a.as_str(), name);
        assert_eq!(a.family(), Family::V1);
    }
    // The first occurrence counts (S1 item 3).
    assert_eq!(
        validate_v1(&[("activity", "upgrade"), ("activity", "bogus"), ("instanceId", "i")]),
        Ok(Activity::V1Upgrade)
    );
    assert_eq!(
        validate_v1(&[("activity", "upgradeInstance"), ("instanceId", "i")]),
        Err(Error::MalformedEncoding("unknown activity"))
    );
    assert_eq!(validate_v1(&[("instanceId", "i")]), Err(Error::MissingParameter("activity")));
    assert_eq!(Activity::ALL.iter().filter(|a| a.family() == Family::V2).count(), 6);
    assert_eq!(Activity::ALL.iter().filter(|a| a.family() == Family::V1).count(), 8);
}
