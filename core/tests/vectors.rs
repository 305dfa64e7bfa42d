//! The repository's own vectors of the new kinds, read directly:
//! `vectors/stages.jsonl` (per-stage goldens), `vectors/invalid.jsonl`
//! (requests to refuse, with the error code) and `vectors/published.jsonl`
//! (vectors written by others: the KooGallery guide, Huawei's SDK signer
//! tests, RFC 4231, Wycheproof). `KOOSIGN_VECTORS` points elsewhere; a
//! missing file fails the test, it is never skipped.

mod vector_kinds;

use serde_json::Value;
use std::collections::BTreeMap;
use std::path::PathBuf;

fn vectors_dir() -> PathBuf {
    match std::env::var_os("KOOSIGN_VECTORS") {
        Some(d) => PathBuf::from(d),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..").join("vectors"),
    }
}

/// Runs every case of `name`; returns the count per kind. Panics (listing
/// every failing case by line and id) on any failure, an unknown kind, or a
/// missing file.
fn run_file(name: &str) -> BTreeMap<String, usize> {
    let path = vectors_dir().join(name);
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: cannot read ({e}); set KOOSIGN_VECTORS to the vectors folder", path.display()));
    let mut counts = BTreeMap::new();
    let mut failures = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let case: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{name}:{}: not JSON: {e}", i + 1));
        let kind = case["kind"].as_str().unwrap_or("<none>").to_string();
        match vector_kinds::check(&kind, &case) {
            Some(Ok(())) => *counts.entry(kind).or_insert(0) += 1,
            Some(Err(why)) => failures.push(format!("{name}:{} [{kind}] {why}", i + 1)),
            None => failures.push(format!("{name}:{} unknown kind `{kind}`", i + 1)),
        }
    }
    assert!(failures.is_empty(), "{} failing case(s):\n{}", failures.len(), failures.join("\n"));
    counts
}

fn at_least(counts: &BTreeMap<String, usize>, kind: &str, n: usize) {
    let got = counts.get(kind).copied().unwrap_or(0);
    assert!(got >= n, "{kind}: {got} case(s), expected at least {n}");
}

#[test]
fn stage_goldens() {
    let c = run_file("stages.jsonl");
    for kind in ["v1_stages", "v2_stages", "apig_stages", "s4_key"] {
        at_least(&c, kind, 20);
    }
}

#[test]
fn invalid_cases_give_the_expected_error() {
    let c = run_file("invalid.jsonl");
    for kind in [
        "v1_invalid",
        "v1_json_invalid",
        "v2_invalid",
        "licence_invalid",
        "body_sign_invalid",
        "apig_invalid",
        "aes_invalid",
    ] {
        at_least(&c, kind, 5);
    }
}

#[test]
fn published_vectors() {
    let c = run_file("published.jsonl");
    at_least(&c, "v1_query", 1);
    at_least(&c, "apig", 5);
    at_least(&c, "apig_canonical_query", 1);
    at_least(&c, "apig_host_unsigned", 2);
    at_least(&c, "hmac_sha256", 4);
    at_least(&c, "aes_cbc_raw", 100);
}

#[test]
fn raw_key_lengths() {
    use koosign::{Error, FieldKey};
    assert_eq!(FieldKey::from_raw(&[7; 24]).unwrap_err(), Error::MalformedEncoding("raw AES key must be 16 or 32 bytes"));
    assert_eq!(FieldKey::from_raw(&[]).unwrap_err(), Error::MalformedEncoding("raw AES key must be 16 or 32 bytes"));
    assert_eq!(FieldKey::from_raw(&[7; 33]).unwrap_err(), Error::InputTooLarge { limit: 32 });
    let k = FieldKey::from_raw(&[7; 16]).unwrap();
    assert_eq!(k.encrypt_type(), koosign::EncryptType::Aes128);
    assert_eq!(FieldKey::from_raw(&[7; 32]).unwrap().encrypt_type(), koosign::EncryptType::Aes256);
    let mut out = [0u8; 15];
    assert_eq!(k.decrypt_raw(&[0; 16], &[0; 16], &mut out).unwrap_err(), Error::BufferTooSmall { needed: 16 });
    let mut out = [0u8; 32];
    assert_eq!(k.decrypt_raw(&[0; 16], &[0; 17], &mut out).unwrap_err(), Error::Decrypt);
    assert_eq!(k.decrypt_raw(&[0; 16], &[], &mut out).unwrap_err(), Error::Decrypt);
}

#[test]
fn missing_vectors_fail_rather_than_skip() {
    let r = std::panic::catch_unwind(|| run_file("no-such-file.jsonl"));
    assert!(r.is_err(), "a missing vectors file must fail the run");
}

/// A stage golden with one stage changed fails naming that stage.
#[test]
fn a_changed_stage_is_named() {
    let text = std::fs::read_to_string(vectors_dir().join("stages.jsonl")).expect("stages.jsonl");
    let first = |kind: &str| -> Value {
        text.lines()
            .map(|l| serde_json::from_str::<Value>(l).expect("JSON"))
            .find(|c| c["kind"] == kind)
            .unwrap_or_else(|| panic!("no {kind} case"))
    };
    for (kind, field, stage) in [
        ("v1_stages", "canonical", "stage canonical:"),
        ("v1_stages", "auth_token", "stage auth_token:"),
        ("v2_stages", "inner_hex", "stage inner:"),
        ("v2_stages", "canonical", "stage canonical:"),
        ("v2_stages", "signature", "stage signature (HMAC of the canonical string):"),
        ("v2_stages", "kit_signature", "stage kit_signature:"),
        ("apig_stages", "canonical_query", "stage canonical_query:"),
        ("apig_stages", "canonical_request", "stage canonical_request:"),
        ("apig_stages", "string_to_sign", "stage string_to_sign:"),
        ("apig_stages", "signature", "stage signature:"),
        ("apig_stages", "authorization", "stage authorization:"),
        ("s4_key", "aes128_hex", "stage aes128:"),
        ("s4_key", "aes256_hex", "stage aes256:"),
    ] {
        let mut c = first(kind);
        let v = c[field].as_str().unwrap().to_string();
        c[field] = Value::String(format!("{v}x"));
        match vector_kinds::check(kind, &c) {
            Some(Err(why)) => assert!(why.starts_with(stage), "{kind}.{field}: {why}"),
            other => panic!("{kind}.{field}: a changed stage was not reported ({other:?})"),
        }
    }
}
