//! `koosign conformance FILE...`: runs JSON Lines vectors (the format of
//! `shared/vectors/`) through the public API of the core.
//!
//! For each case it recomputes or verifies the expected value and checks
//! that a one-character change of the token, signature or ciphertext is
//! rejected. It prints a count per kind and, last, `N passed, M failed`;
//! the exit status is 1 on any failure or unknown kind.
//!
//! Besides the conformance kinds it knows the kinds of the repository's
//! `vectors/stages.jsonl` (per-stage goldens), `vectors/invalid.jsonl`
//! (requests to refuse with a given error code) and `vectors/published.jsonl`
//! (vectors written by others), checked by the same code as the core's
//! `core/tests/vectors.rs`.

use koosign::{
    body_sign, body_signature, derive_key, licence_sign, sign_apig, sign_v2, v1_auth_token, verify_apig,
    verify_body_sign, verify_licence, verify_v1, verify_v2, ApigRequest, DecryptMode, EncryptType, Error, FieldKey,
    V1Params, V2Auth, V2Scheme,
};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

/// The checks of the stage, invalid and published kinds, shared with the
/// core's integration test.
#[path = "../../core/tests/vector_kinds/mod.rs"]
mod vector_kinds;

#[derive(Default)]
struct Tally {
    passed: usize,
    failed: usize,
}

/// Runs every file; returns the process exit status.
pub fn run(files: &[impl AsRef<Path>], verbose: bool) -> i32 {
    let mut per_kind: BTreeMap<String, Tally> = BTreeMap::new();
    let (mut passed, mut failed) = (0usize, 0usize);
    for file in files {
        let file = file.as_ref();
        let text = match std::fs::read_to_string(file) {
            Ok(t) => t,
            Err(e) => {
                eprintln!("{}: cannot read: {e}", file.display());
                failed += 1;
                continue;
            }
        };
        for (lineno, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let (kind, outcome) = match serde_json::from_str::<Value>(line) {
                Ok(case) => {
                    let kind = case.get("kind").and_then(Value::as_str).unwrap_or("<none>").to_string();
                    let outcome = check_case(&kind, &case);
                    (kind, outcome)
                }
                Err(e) => ("<invalid json>".to_string(), Err(format!("not JSON: {e}"))),
            };
            let t = per_kind.entry(kind.clone()).or_default();
            match outcome {
                Ok(()) => {
                    t.passed += 1;
                    passed += 1;
                }
                Err(why) => {
                    t.failed += 1;
                    failed += 1;
                    if verbose || t.failed <= 5 {
                        eprintln!("FAIL {}:{} [{kind}] {why}", file.display(), lineno + 1);
                    }
                }
            }
        }
    }
    for (kind, t) in &per_kind {
        println!("{kind}: {} passed, {} failed", t.passed, t.failed);
    }
    println!("{passed} passed, {failed} failed");
    i32::from(failed > 0)
}

fn s<'a>(case: &'a Value, field: &str) -> Result<&'a str, String> {
    case.get(field).and_then(Value::as_str).ok_or_else(|| format!("field `{field}` missing or not a string"))
}

fn expect_eq(what: &str, got: &str, want: &str) -> Result<(), String> {
    if got == want {
        Ok(())
    } else {
        Err(format!("{what}: got {got:?}, expected {want:?}"))
    }
}

fn expect_err<T>(what: &str, r: Result<T, Error>, want: Error) -> Result<(), String> {
    match r {
        Err(e) if e == want => Ok(()),
        Err(e) => Err(format!("{what}: expected {want:?}, got {e:?}")),
        Ok(_) => Err(format!("{what}: a one-character change was accepted")),
    }
}

/// Changes one character of `s` (the first ASCII alphanumeric at or after
/// `at`) to another alphanumeric.
fn alter(s: &str, at: usize) -> String {
    let mut b = s.as_bytes().to_vec();
    let n = b.len();
    for k in 0..n {
        let i = (at + k) % n.max(1);
        let c = b[i];
        if c.is_ascii_alphanumeric() {
            b[i] = if c == b'A' || c == b'a' { c + 1 } else if c == b'0' { b'1' } else if c.is_ascii_digit() { b'0' } else { b'A' };
            if b[i] == c {
                b[i] = b'z';
            }
            break;
        }
    }
    String::from_utf8(b).unwrap_or_default()
}

fn check_case(kind: &str, c: &Value) -> Result<(), String> {
    match kind {
        "v1_query" => v1_query(c),
        "body_sign" => body_sign_case(c),
        "aes_cbc" => aes_cbc(c),
        "v2_basic" => v2(c, V2Scheme::Basic),
        "v2_kit" => v2(c, V2Scheme::Kit),
        "apig" => apig(c),
        "licence" => licence(c),
        other => vector_kinds::check(other, c).unwrap_or_else(|| Err(format!("unknown kind `{other}`"))),
    }
}

fn v1_query(c: &Value) -> Result<(), String> {
    let key = s(c, "access_key")?;
    let query = s(c, "query")?;
    let mut scratch = vec![0u8; query.len()];
    let params = V1Params::parse(query, &mut scratch).map_err(|e| format!("parse: {e}"))?;
    let mut out = vec![0u8; params.canonical_len()];
    expect_eq("canonical", params.canonical(&mut out).map_err(|e| e.to_string())?, s(c, "canonical")?)?;
    expect_eq("authToken", params.expected_auth_token(key).as_str(), s(c, "auth_token")?)?;
    // Producing side: the token from the decoded pairs.
    let mut scratch2 = vec![0u8; query.len()];
    let pairs = koosign::parse_form(query, &mut scratch2).map_err(|e| e.to_string())?;
    let tok = v1_auth_token(pairs.as_slice(), key).map_err(|e| e.to_string())?;
    expect_eq("v1_auth_token", tok.as_str(), s(c, "auth_token")?)?;
    let mut scratch3 = vec![0u8; query.len()];
    verify_v1(query, &[key], None, None, &mut scratch3).map_err(|e| format!("verify: {e}"))?;
    // One character of the token changed (in the wire query).
    let start = query.find("authToken=").ok_or("no authToken in query")? + "authToken=".len();
    let altered = format!("{}{}", &query[..start], alter(&query[start..], 0));
    let mut scratch4 = vec![0u8; altered.len()];
    expect_err("altered authToken", verify_v1(&altered, &[key], None, None, &mut scratch4), Error::SignatureMismatch)
}

fn body_sign_case(c: &Value) -> Result<(), String> {
    let key = s(c, "access_key")?;
    let body = s(c, "body")?.as_bytes();
    let want = s(c, "signature")?;
    expect_eq("signature", body_signature(body, key).as_str(), want)?;
    let header = body_sign(body, key).map_err(|e| e.to_string())?;
    verify_body_sign(header.as_str(), body, &[key]).map_err(|e| format!("verify: {e}"))?;
    let altered = format!("sign_type=\"HMAC-SHA256\", signature=\"{}\"", alter(want, 3));
    expect_err("altered signature", verify_body_sign(&altered, body, &[key]), Error::SignatureMismatch)
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn aes_cbc(c: &Value) -> Result<(), String> {
    let key = s(c, "access_key")?;
    let ty = match c.get("encrypt_type").and_then(Value::as_u64) {
        Some(1) => EncryptType::Aes256,
        Some(2) => EncryptType::Aes128,
        _ => return Err("encrypt_type must be 1 or 2".into()),
    };
    let fk: FieldKey = derive_key(key, ty);
    expect_eq("derived key", &hex(fk.as_bytes()), s(c, "derived_key_hex")?)?;
    let iv: [u8; 16] = s(c, "iv")?.as_bytes().try_into().map_err(|_| "iv is not 16 bytes")?;
    let plaintext = s(c, "plaintext")?;
    let wire = s(c, "ciphertext")?;
    let mut out = [0u8; 256];
    expect_eq("ciphertext", fk.encrypt_with_iv(plaintext, &iv, &mut out).map_err(|e| e.to_string())?, wire)?;
    let mut out = vec![0u8; wire.len()];
    expect_eq(
        "decrypt",
        koosign::decrypt_field(wire, key, DecryptMode::Only(ty), &mut out).map_err(|e| e.to_string())?,
        plaintext,
    )?;
    // One Base64 character of the ciphertext changed: CBC has no MAC, so
    // the check is that the change never yields the original plaintext.
    let altered = format!("{}{}", &wire[..16], alter(&wire[16..], 0));
    let mut out = vec![0u8; altered.len()];
    match koosign::decrypt_field(&altered, key, DecryptMode::Only(ty), &mut out) {
        Ok(p) if p == plaintext => Err("altered ciphertext decrypted to the original plaintext".into()),
        Ok(_) | Err(Error::Decrypt) => Ok(()),
        Err(e) => Err(format!("altered ciphertext: unexpected {e:?}")),
    }
}

fn v2(c: &Value, scheme: V2Scheme) -> Result<(), String> {
    let key = s(c, "access_key")?;
    let body = s(c, "body")?.as_bytes();
    let sig = s(c, "signature")?;
    let auth = V2Auth { signature: sig, timestamp: s(c, "timestamp")?, nonce: s(c, "nonce")? };
    let mine = sign_v2(scheme, body, key, auth.nonce, auth.timestamp).map_err(|e| e.to_string())?;
    expect_eq("signature (case-insensitive)", &mine.as_str().to_ascii_uppercase(), &sig.to_ascii_uppercase())?;
    verify_v2(scheme, &auth, body, &[key], None, None).map_err(|e| format!("verify: {e}"))?;
    let altered = alter(sig, 7);
    let bad = V2Auth { signature: &altered, ..auth };
    expect_err("altered signature", verify_v2(scheme, &bad, body, &[key], None, None), Error::SignatureMismatch)
}

fn licence(c: &Value) -> Result<(), String> {
    let key = s(c, "access_key")?;
    let (ts, nonce, body, sig) = (s(c, "ts")?, s(c, "nonce")?, s(c, "body")?.as_bytes(), s(c, "signature")?);
    expect_eq("signature", licence_sign(ts, nonce, body, key).map_err(|e| e.to_string())?.as_str(), sig)?;
    verify_licence(ts, nonce, body, sig, &[key], None).map_err(|e| format!("verify: {e}"))?;
    expect_err("altered signature", verify_licence(ts, nonce, body, &alter(sig, 5), &[key], None), Error::SignatureMismatch)
}

fn apig(c: &Value) -> Result<(), String> {
    let (ak, sk) = (s(c, "ak")?, s(c, "sk")?);
    let query: Vec<(String, String)> = c
        .get("query")
        .and_then(Value::as_array)
        .ok_or("query must be an array")?
        .iter()
        .map(|p| {
            let n = p.get(0).and_then(Value::as_str).unwrap_or_default().to_string();
            let v = p.get(1).and_then(Value::as_str).unwrap_or_default().to_string();
            (n, v)
        })
        .collect();
    let headers: Vec<(String, String)> = c
        .get("headers")
        .and_then(Value::as_object)
        .ok_or("headers must be an object")?
        .iter()
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string()))
        .collect();
    let q: Vec<(&str, &str)> = query.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let h: Vec<(&str, &str)> = headers.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
    let req = ApigRequest {
        method: s(c, "method")?,
        host: s(c, "host")?,
        path: s(c, "path")?,
        query: &q,
        headers: &h,
        body: s(c, "body")?.as_bytes(),
    };
    let mut out = vec![0u8; 16 * 1024];
    let signed = sign_apig(&req, ak, sk, None, &mut out).map_err(|e| format!("sign: {e}"))?;
    expect_eq("canonical query", signed.canonical_query, s(c, "canonical_query")?)?;
    expect_eq("Authorization", signed.authorization, s(c, "authorization")?)?;
    // Server side: the request as sent (with the added headers) verifies.
    let added: Vec<(String, String)> =
        signed.headers_to_add.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect();
    // An added header replaces a given one of the same name, as in a real request.
    let mut sent: Vec<(&str, &str)> = h.iter().filter(|(n, _)| !added.iter().any(|(a, _)| a == n)).copied().collect();
    sent.extend(added.iter().map(|(a, b)| (a.as_str(), b.as_str())));
    let sent_req = ApigRequest { headers: &sent, ..req };
    verify_apig(&sent_req, &[(ak, sk)], None).map_err(|e| format!("verify: {e}"))?;
    let sig_at = added.iter().position(|(n, _)| n == "Authorization").ok_or("no Authorization added")?;
    let auth = &added[sig_at].1;
    let cut = auth.rfind("Signature=").ok_or("no Signature=")? + "Signature=".len();
    let altered = format!("{}{}", &auth[..cut], alter(&auth[cut..], 0));
    let mut tampered: Vec<(&str, &str)> = sent.iter().filter(|(n, _)| *n != "Authorization").copied().collect();
    tampered.push(("Authorization", &altered));
    let bad_req = ApigRequest { headers: &tampered, ..req };
    expect_err("altered signature", verify_apig(&bad_req, &[(ak, sk)], None), Error::SignatureMismatch)
}
