//! Injectivity, tested rather than assumed (issue 11): no two different
//! requests verify under one key with one signature but mean different
//! things, for S1, S1b, S2, S2b, S5 and S6.
//!
//! The model (the genuine requests, the attacker's rewrites and the VIEW
//! each scheme's verified request is compared by) lives in
//! `fuzz/src/injectivity/model.rs`, shared with the `injectivity` fuzz
//! target; its module documentation defines every view. Here: the issue's
//! own attacks and the spec vectors as fixed cases, then a modest number of
//! random cases per scheme (the fuzz target explores the same space for
//! much longer). Any finding is a forgery.
//!
//! `cargo test -p koosign --test injectivity -- --ignored --nocapture census`
//! prints how many forgeries each rewrite finds over many random cases
//! (a diagnostic, for when a rule changes).

#[path = "../../fuzz/src/injectivity/model.rs"]
#[allow(dead_code)]
mod model;

use model::*;
use proptest::prelude::*;
use proptest::sample::select;
use proptest::test_runner::{Config, TestRunner};
use std::collections::BTreeMap;

/// Fails with the first finding, shown in full.
fn assert_injective(c: Case) -> Tally {
    let (t, f) = findings(&c);
    if let Some(first) = f.first() {
        panic!("{} forgeries; the first:\n{first}", f.len());
    }
    t
}

/// A fixed case must reach the rewrites: its original verifies.
fn assert_injective_verified(c: Case) {
    let t = assert_injective(c.clone());
    assert!(t.original_verified, "the genuine request was refused: {c:?}");
    assert!(t.tried > 0);
}

fn prop_injective(c: Case) -> Result<(), TestCaseError> {
    let (_, f) = findings(&c);
    if let Some(first) = f.first() {
        return Err(TestCaseError::fail(format!("{} forgeries; the first:\n{first}", f.len())));
    }
    Ok(())
}

fn s(v: &str) -> String {
    v.to_string()
}

fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter().map(|(n, v)| (s(n), s(v))).collect()
}

const KEY: &str = "testAccessKey123";
/// 2023-04-03T07:47:46.618Z, the S2 vector's timestamp.
const TS: u64 = 1_680_508_066_618;
const V2_NONCE: &str = "50D83FDECAED6CCD8EF597F2A577950527928BA287D04E6036E92B2806FD17DA";
const V2_BODY: &str = r#"{"activity":"newInstance","businessId":"87b94795-0603-4e24-8ae5-69420d60e3c8","orderId":"CS2211181819B4LVS","orderLineId":"CS2211181819B4LVS-000001","testFlag":"1"}"#;

// ---- fixed cases: the issue's attacks and the spec vectors ----

fn s1(params: &[(&str, &str)], seed: u64) -> Case {
    Case::S1(S1Case { key: s(KEY), params: pairs(params), ts_ms: TS, ts_at: 1, seed, extra: s("EVIL") })
}

/// Issue 11 attack 3 (`orderLineId=L1` and `testFlag=1` merged), the
/// SCHEMES.md S1 vector's parameters, and values with `&`, `=`, `+`.
#[test]
fn s1_fixed_cases() {
    for seed in 0..4 {
        assert_injective_verified(s1(&[("activity", "newInstance"), ("orderLineId", "L1"), ("testFlag", "1")], seed));
        assert_injective_verified(s1(
            &[
                ("activity", "newInstance"),
                ("businessId", "61e834ba-7b97-4418-b8f7-e5345137278c"),
                ("customerId", "68cbc86abc2018ab880d92f36422fa0e"),
                ("expireTime", "20200727153156"),
                ("orderId", "CS1906666666ABCDE"),
                ("productId", "00301-666666-0--0"),
                ("testFlag", "1"),
            ],
            seed,
        ));
        assert_injective_verified(s1(&[("a", "a+b c&d 客户"), ("b", "x=y"), ("c", "")], seed));
    }
}

fn s1b(members: &[(&str, &str)], style: u8, seed: u64) -> Case {
    Case::S1b(S1bCase { key: s(KEY), members: pairs(members), ts_ms: TS, ts_at: 0, style, seed, extra: s("EVIL") })
}

/// Issue 11 attack 5 (a repeated `orderId`, a number or an object added
/// to a signed S1b body), with blank members and escapes.
#[test]
fn s1b_fixed_cases() {
    for seed in 0..4 {
        assert_injective_verified(s1b(
            &[("activity", "newInstance"), ("orderId", "CS1"), ("orderLineId", "L1"), ("testFlag", "1")],
            0,
            seed,
        ));
        assert_injective_verified(s1b(&[("orderId", "CS1"), ("memo", ""), ("customerName", "客户 a/b")], 15, seed));
    }
}

fn v2(kit: bool, nonce: &str, ts_ms: u64, body: &str) -> Case {
    Case::V2(V2Case {
        kit,
        key: s(KEY),
        nonce: s(nonce),
        ts_ms,
        body: body.as_bytes().to_vec(),
        seed: 0,
        extra: b"{\"activity\":\"releaseInstance\"}".to_vec(),
    })
}

/// Issue 11 attack 2: nonce `…170` + `1680508066618` signs the same as
/// `…17` + `01680508066618`; the spec vectors.
#[test]
fn s2_fixed_cases() {
    assert_injective_verified(v2(false, V2_NONCE, TS, V2_BODY));
    assert_injective_verified(v2(false, "50D83FDECAED6CCD170", TS, V2_BODY));
    assert_injective_verified(v2(false, "nonce9", TS, ""));
}

/// S2b: the same digit shift, and a digit moved between the timestamp
/// and the body (`…7` + `1680508066618` + `{…}` = `…` + `7168050806661`
/// + `8{…}`). A genuine body that starts with a digit is refused once the
/// S2b rule holds; before, its rewrites are probed like the rest.
#[test]
fn s2b_fixed_cases() {
    assert_injective_verified(v2(true, V2_NONCE, TS, V2_BODY));
    assert_injective_verified(v2(true, "50D83FDECAED6CCD170", TS, V2_BODY));
    assert_injective_verified(v2(true, "50D83FDECAED6CCD7", TS, V2_BODY));
    assert_injective(v2(true, "abc", TS, "8{\"a\":\"b\"}"));
}

/// S2b beyond one digit: a nonce that contains 13 digits (first not `0`)
/// followed by a non-digit can give those digits to the timestamp and the
/// rest to the body (`ab1680508066618Z` + `1700000000000` + `{…}` =
/// `ab` + `1680508066618` + `Z1700000000000{…}`); a body that contains
/// such a run can take the other way (`{"ts":` moves into the nonce).
/// A 64-hex-digit nonce has such a run about once in 25.
#[test]
fn s2b_a_13_digit_run_in_the_nonce_or_body() {
    assert_injective_verified(v2(true, "ab1680508066618Z", 1_700_000_000_000, r#"{"a":"b"}"#));
    assert_injective_verified(v2(true, V2_NONCE, TS, r#"{"ts":1680508066618,"a":"b"}"#));
}

fn s5(nonce: &str, body: &str) -> Case {
    Case::S5(S5Case { key: s(KEY), ts_ms: TS, nonce: s(nonce), body: body.as_bytes().to_vec(), extra: b"X".to_vec() })
}

/// Issue 11 attack 6: nonce `n1`, body `&body=X` signs the same as nonce
/// `n1&body=`, body `X`.
/// The second original (a nonce with `&`) is refused once the S5 rule
/// holds; before, its rewrites are probed like the rest.
#[test]
fn s5_fixed_cases() {
    assert_injective_verified(s5("n1", "&body=X"));
    assert_injective(s5("n1&body=", "X"));
    assert_injective_verified(s5(V2_NONCE, V2_BODY));
}

fn s6(method: &str, content: u8, body: &str) -> Case {
    Case::S6(Box::new(ApigCase {
        method: s(method),
        path: s("/api/mkp-openapi-public/global/v1/order/query"),
        query: pairs(&[("orderId", "CS1"), ("orderLineId", "CS1-000001")]),
        headers: pairs(&[("X-Project-Id", "p1")]),
        content,
        body: body.as_bytes().to_vec(),
        ms: 1_591_583_940_000,
        sk: s("SecretKey"),
        seed: 1,
        extra: s("EVIL"),
        extra_body: b"{\"name\":\"evil\"}".to_vec(),
    }))
}

/// Issue 11 attack 1 (S6 body swap with an unsigned
/// `X-Sdk-Content-Sha256`; a signed one that is not the body's hash),
/// repeated signed headers, every content mode.
#[test]
fn s6_fixed_cases() {
    for content in 0..6 {
        let c = s6("POST", content, r#"{"name":"test","id":1}"#);
        if content == 5 {
            // A signed X-Sdk-Content-Sha256 that is not the body's hash:
            // refused once the S6 decision holds, else probed like the rest.
            assert_injective(c);
        } else {
            assert_injective_verified(c);
        }
    }
    assert_injective_verified(s6("GET", 0, ""));
}

// ---- random cases ----

fn key() -> impl Strategy<Value = String> {
    prop_oneof!["[A-Za-z0-9]{1,16}", ".{1,8}"]
}

fn v1_name() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => select(vec!["activity", "orderId", "orderLineId", "testFlag", "businessId", "a", "b", "B", "é", "中", ""])
            .prop_map(String::from),
        1 => "[a-zA-Z&=]{1,4}",
    ]
}

fn v1_value() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z0-9]{0,6}",
        "[a-zA-Z0-9 +%&=]{0,10}",
        select(vec!["L1", "1", "L1&testFlag=1", "x&y", "a=b", "", " ", "a+b c&d 客户", "&", "="])
            .prop_map(String::from),
        ".{0,6}",
    ]
}

fn v1_ms() -> impl Strategy<Value = u64> {
    1_500_000_000_000u64..1_800_000_000_000
}

fn s1_case() -> impl Strategy<Value = Case> {
    (key(), prop::collection::vec((v1_name(), v1_value()), 0..7), v1_ms(), any::<usize>(), any::<u64>(), v1_value())
        .prop_map(|(key, params, ts_ms, ts_at, seed, extra)| {
            Case::S1(S1Case { key, params, ts_ms, ts_at, seed, extra })
        })
}

fn s1b_case() -> impl Strategy<Value = Case> {
    (
        key(),
        prop::collection::vec((v1_name(), v1_value()), 0..7),
        v1_ms(),
        any::<usize>(),
        any::<u8>(),
        any::<u64>(),
        v1_value(),
    )
        .prop_map(|(key, members, ts_ms, ts_at, style, seed, extra)| {
            Case::S1b(S1bCase { key, members, ts_ms, ts_at, style, seed, extra })
        })
}

fn nonce() -> impl Strategy<Value = String> {
    prop_oneof![
        "[0-9A-F]{16}|[0-9a-f]{32}|[0-9A-F]{64}",
        // Ending in digits: they could move into the timestamp.
        "[0-9A-Fa-f]{0,8}[0-9]{1,3}",
        // A 13-digit run inside: could become the timestamp (S2b).
        "[a-f]{1,3}[1-9][0-9]{12}[A-Z][0-9A-F]{0,3}",
        "[!-~]{1,20}",
        ".{1,6}",
    ]
}

fn v2_ts() -> impl Strategy<Value = u64> {
    prop_oneof![4 => 1_000_000_000_000u64..10_000_000_000_000, 1 => 0u64..1_000_000_000_000]
}

fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        "\\{\"a\":\"[a-z0-9]{0,8}\"\\}".prop_map(String::into_bytes),
        // Starting with a digit: a timestamp digit could move into it (S2b).
        "[0-9][ -~]{0,10}".prop_map(String::into_bytes),
        "\\{\"ts\":[1-9][0-9]{12},\"a\":\"b\"\\}".prop_map(String::into_bytes),
        prop::collection::vec(any::<u8>(), 0..40),
    ]
}

fn v2_case(kit: bool) -> impl Strategy<Value = Case> {
    (key(), nonce(), v2_ts(), body(), any::<u64>(), body()).prop_map(move |(key, nonce, ts_ms, body, seed, extra)| {
        Case::V2(V2Case { kit, key, nonce, ts_ms, body, seed, extra })
    })
}

fn s5_case() -> impl Strategy<Value = Case> {
    let nonce = prop_oneof!["[0-9A-Za-z]{1,16}", "[a-z0-9&=]{1,12}", Just(s("n1&body=")), ".{0,6}"];
    let body = prop_oneof![
        "&body=[a-zA-Z]{0,5}".prop_map(String::into_bytes),
        "[a-z&=]{0,12}".prop_map(String::into_bytes),
        body(),
    ];
    (key(), v2_ts(), nonce, body, body_extra())
        .prop_map(|(key, ts_ms, nonce, body, extra)| Case::S5(S5Case { key, ts_ms, nonce, body, extra }))
}

fn body_extra() -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..20)
}

fn s6_case() -> impl Strategy<Value = Case> {
    (
        select(vec!["GET", "POST", "PUT", "get"]),
        "(/[a-zA-Z0-9._~-]{0,6}){1,3}/?",
        prop::collection::vec(("[a-z]{1,4}", "[a-zA-Z0-9 &=+]{0,6}"), 0..4),
        prop::collection::vec(("X-[A-Za-z]{1,8}|[a-z]{1,6}_[a-z]{1,3}", "[ -~]{0,12}"), 0..3),
        0u8..6,
        prop::collection::vec(any::<u8>(), 0..30),
        1_500_000_000_000u64..1_800_000_000_000,
        "[A-Za-z0-9]{1,16}",
        (any::<u64>(), "[ -~]{0,10}", body_extra()),
    )
        .prop_map(|(method, path, query, headers, content, body, ms, sk, (seed, extra, extra_body))| {
            Case::S6(Box::new(ApigCase {
                method: s(method),
                path,
                query,
                headers,
                content,
                body,
                ms,
                sk,
                seed,
                extra,
                extra_body,
            }))
        })
}

fn config() -> ProptestConfig {
    // Each case tries tens to hundreds of rewrites; the fuzz target runs longer.
    ProptestConfig { cases: 32, failure_persistence: None, ..ProptestConfig::default() }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn s1_injective(c in s1_case()) { prop_injective(c)?; }

    #[test]
    fn s1b_injective(c in s1b_case()) { prop_injective(c)?; }

    #[test]
    fn s2_injective(c in v2_case(false)) { prop_injective(c)?; }

    #[test]
    fn s2b_injective(c in v2_case(true)) { prop_injective(c)?; }

    #[test]
    fn s5_injective(c in s5_case()) { prop_injective(c)?; }

    #[test]
    fn s6_injective(c in s6_case()) { prop_injective(c)?; }
}

/// Which rewrite finds forgeries, over many random cases per scheme. A
/// diagnostic: `-- --ignored --nocapture census`.
#[test]
#[ignore]
fn census() {
    let n: u32 = std::env::var("CENSUS_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(300);
    let schemes: Vec<(&str, BoxedStrategy<Case>)> = vec![
        ("S1", s1_case().boxed()),
        ("S1b", s1b_case().boxed()),
        ("S2", v2_case(false).boxed()),
        ("S2b", v2_case(true).boxed()),
        ("S5", s5_case().boxed()),
        ("S6", s6_case().boxed()),
    ];
    for (name, strategy) in schemes {
        let mut runner = TestRunner::new(Config { cases: n, ..Config::default() });
        let mut by_rewrite: BTreeMap<String, (usize, String)> = BTreeMap::new();
        let mut total = Tally::default();
        let mut verified_originals = 0;
        for _ in 0..n {
            let c = strategy.new_tree(&mut runner).expect("case").current();
            let (t, f) = findings(&c);
            verified_originals += usize::from(t.original_verified);
            total.tried += t.tried;
            total.verified += t.verified;
            for x in f {
                let e = by_rewrite.entry(x.rewrite.to_string()).or_insert((0, x.to_string()));
                e.0 += 1;
            }
        }
        println!(
            "== {name}: {n} cases, {verified_originals} originals verified, {} rewrites tried, {} verified",
            total.tried, total.verified
        );
        for (rewrite, (count, example)) in &by_rewrite {
            println!(
                "  {count:6}  {rewrite}\n{}",
                example.lines().map(|l| format!("          {l}\n")).collect::<String>()
            );
        }
    }
}
