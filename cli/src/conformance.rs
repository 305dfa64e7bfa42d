//! `koosign conformance [FILE...]`: runs JSON Lines vectors (the format of
//! the repository's `vectors/`, see `vectors/README.md`) through the public
//! API of the core.
//!
//! Without files it reads the conformance files of the vectors folder:
//! `$KOOSIGN_VECTORS` when set, else the repository's `vectors/` (the path
//! is fixed at build time). A missing folder or file is a failure, never a
//! skip.
//!
//! For each case it recomputes or verifies the expected value and checks
//! that a one-character change of the token, signature or ciphertext is
//! rejected. It prints a count per kind and, last, `N passed, M failed`;
//! the exit status is 1 on any failure or unknown kind.
//!
//! Cases that the rules of `docs/SCHEMES.md` refuse although their
//! signature is right (the brief's older vectors hold some) are recognised
//! here, by this runner's own reading of the rule, independently of the
//! core: the signing side is still checked, and verification must give the
//! specific refusal — `Ambiguous` for a V1 query that is ambiguous
//! (§S1 item 10) and for an S6 request that gives a signed header twice,
//! `SignatureMismatch` for a signed `X-Sdk-Content-Sha256` that is neither
//! `UNSIGNED-PAYLOAD` nor the body's SHA-256 (§S6).
//! Besides the conformance kinds it knows the kinds of the repository's
//! `vectors/stages.jsonl` (per-stage goldens), `vectors/invalid.jsonl`
//! (requests to refuse with a given error code) and `vectors/published.jsonl`
//! (vectors written by others), checked by the same code as the core's
//! `core/tests/vectors.rs`.

use koosign::{
    body_sign, body_signature, derive_key, licence_sign, sign_apig, sign_v2, v1_auth_token, verify_apig,
    verify_body_sign, verify_licence, verify_v1_query, verify_v2, ApigRequest, DecryptMode, EncryptType, Error, FieldKey,
    V1Params, V2Auth, V2Scheme,
};
use koosign::{Freshness, Replay};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The environment variable that points at another vectors folder.
pub const VECTORS_ENV: &str = "KOOSIGN_VECTORS";
/// The repository's vectors folder, as built.
pub const REPO_VECTORS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../vectors");
/// The files of a vectors folder (every kind this runner reads).
pub const CONFORMANCE_FILES: [&str; 5] = ["notifications.jsonl", "apig.jsonl", "stages.jsonl", "invalid.jsonl", "published.jsonl"];

/// The vectors folder: `$KOOSIGN_VECTORS`, else the repository's `vectors/`.
pub fn vectors_dir() -> PathBuf {
    match std::env::var_os(VECTORS_ENV) {
        Some(d) if !d.is_empty() => PathBuf::from(d),
        _ => PathBuf::from(REPO_VECTORS),
    }
}

/// The conformance files of [`vectors_dir`]; an error names what is absent.
pub fn default_files() -> Result<Vec<PathBuf>, String> {
    let dir = vectors_dir();
    if !dir.is_dir() {
        return Err(format!(
            "vectors folder {} not found (set {VECTORS_ENV} to the folder of notifications.jsonl and apig.jsonl)",
            dir.display()
        ));
    }
    let mut files = Vec::new();
    for name in CONFORMANCE_FILES {
        let f = dir.join(name);
        if !f.is_file() {
            return Err(format!("vector file {} not found", f.display()));
        }
        files.push(f);
    }
    Ok(files)
}

/// `koosign conformance` with no file: the default files, or exit 1.
pub fn run_default(verbose: bool) -> i32 {
    match default_files() {
        Ok(files) => run(&files, verbose),
        Err(why) => {
            eprintln!("{why}");
            println!("0 passed, 1 failed");
            1
        }
    }
}
/// The checks of the stage, invalid and published kinds, shared with the
/// core's integration test.
#[path = "../../core/tests/vector_kinds/mod.rs"]
mod vector_kinds;
use vector_kinds::s;

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
        "v2_basic" => v2(c, V2Scheme::Query),
        "v2_kit" => v2(c, V2Scheme::Headers),
        "apig" => apig(c),
        "licence" => licence(c),
        other => vector_kinds::check(other, c).unwrap_or_else(|| Err(format!("unknown kind `{other}`"))),
    }
}

/// Form-decodes one half of a query pair (`+` is a space, `%XY` a byte),
/// written here independently of the core; `None` for a bad escape or bytes
/// that are not UTF-8.
fn form_decode(s: &str) -> Option<String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = s.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 2;
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// docs/SCHEMES.md §S1 item 10, this runner's own reading: a query is
/// ambiguous when one of its decoded pairs has a name containing `&` or `=`,
/// or a value containing `&`, then characters free of `&` and `=`, then `=`.
pub fn v1_query_is_ambiguous(query: &str) -> bool {
    query.split('&').filter(|seg| !seg.is_empty()).any(|seg| {
        let (n, v) = seg.split_once('=').unwrap_or((seg, ""));
        let (Some(n), Some(v)) = (form_decode(n), form_decode(v)) else { return false };
        n.contains(['&', '=']) || value_is_ambiguous(&v)
    })
}

fn value_is_ambiguous(v: &str) -> bool {
    v.match_indices('&').any(|(at, _)| {
        let rest = &v[at + 1..];
        rest.find(['&', '=']).is_some_and(|end| rest.as_bytes()[end] == b'=')
    })
}

fn v1_query(c: &Value) -> Result<(), String> {
    let key = s(c, "access_key")?;
    let query = s(c, "query")?;
    let ambiguous = v1_query_is_ambiguous(query);
    // Producing side, for every case: the token from the decoded pairs.
    let mut scratch2 = vec![0u8; query.len()];
    let pairs = koosign::parse_form(query, &mut scratch2).map_err(|e| e.to_string())?;
    let tok = v1_auth_token(pairs.as_slice(), key).map_err(|e| e.to_string())?;
    expect_eq("v1_auth_token", tok.as_str(), s(c, "auth_token")?)?;
    // The canonical string and expected token of the parsed request (a core
    // that refuses an ambiguous query already while parsing says so here).
    let mut scratch = vec![0u8; query.len()];
    match V1Params::parse(query, &mut scratch) {
        Ok(params) => {
            let mut out = vec![0u8; params.canonical_len()];
            expect_eq("canonical", params.canonical(&mut out).map_err(|e| e.to_string())?, s(c, "canonical")?)?;
            expect_eq("authToken", params.expected_auth_token(key).as_str(), s(c, "auth_token")?)?;
        }
        Err(Error::Ambiguous(_)) if ambiguous => {}
        Err(e) => return Err(format!("parse: {e}")),
    }
    let mut scratch3 = vec![0u8; query.len()];
    let verified = verify_v1_query(query, &[key], Freshness::Unchecked, Replay::Unchecked, &mut scratch3);
    if ambiguous {
        // Correctly signed, but refused before authentication (§S1 item 10).
        return match verified {
            Err(Error::Ambiguous(_)) => Ok(()),
            Err(e) => Err(format!("ambiguous query: expected Ambiguous, got {e:?}")),
            Ok(_) => Err("ambiguous query: accepted, expected Ambiguous (docs/SCHEMES.md §S1 item 10)".into()),
        };
    }
    verified.map_err(|e| format!("verify: {e}"))?;
    // One character of the token changed (in the wire query).
    let start = query.find("authToken=").ok_or("no authToken in query")? + "authToken=".len();
    let altered = format!("{}{}", &query[..start], alter(&query[start..], 0));
    let mut scratch4 = vec![0u8; altered.len()];
    expect_err("altered authToken", verify_v1_query(&altered, &[key], Freshness::Unchecked, Replay::Unchecked, &mut scratch4), Error::SignatureMismatch)
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
    verify_v2(scheme, &auth, body, &[key], Freshness::Unchecked, Replay::Unchecked).map_err(|e| format!("verify: {e}"))?;
    let altered = alter(sig, 7);
    let bad = V2Auth { signature: &altered, ..auth };
    expect_err("altered signature", verify_v2(scheme, &bad, body, &[key], Freshness::Unchecked, Replay::Unchecked), Error::SignatureMismatch)
}

fn licence(c: &Value) -> Result<(), String> {
    let key = s(c, "access_key")?;
    let (ts, nonce, body, sig) = (s(c, "ts")?, s(c, "nonce")?, s(c, "body")?.as_bytes(), s(c, "signature")?);
    expect_eq("signature", licence_sign(ts, nonce, body, key).map_err(|e| e.to_string())?.as_str(), sig)?;
    verify_licence(ts, nonce, body, sig, &[key], Freshness::Unchecked).map_err(|e| format!("verify: {e}"))?;
    expect_err("altered signature", verify_licence(ts, nonce, body, &alter(sig, 5), &[key], Freshness::Unchecked), Error::SignatureMismatch)
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
    let verified = verify_apig(&sent_req, &[(ak, sk)], Freshness::Unchecked);
    if let Some(want) = apig_refusal(signed.signed_headers, &sent, req.body) {
        // Signed as the SDK signs it, refused by the rules of docs/SCHEMES.md §S6.
        return match (verified, want) {
            (Err(Error::Ambiguous(_)), Error::Ambiguous(_)) => Ok(()),
            (Err(e), w) if e == w => Ok(()),
            (Err(e), w) => Err(format!("verify: expected {w:?}, got {e:?}")),
            (Ok(_), w) => Err(format!("verify: accepted, expected {w:?} (docs/SCHEMES.md §S6)")),
        };
    }
    verified.map_err(|e| format!("verify: {e}"))?;
    let sig_at = added.iter().position(|(n, _)| n == "Authorization").ok_or("no Authorization added")?;
    let auth = &added[sig_at].1;
    let cut = auth.rfind("Signature=").ok_or("no Signature=")? + "Signature=".len();
    let altered = format!("{}{}", &auth[..cut], alter(&auth[cut..], 0));
    let mut tampered: Vec<(&str, &str)> = sent.iter().filter(|(n, _)| *n != "Authorization").copied().collect();
    tampered.push(("Authorization", &altered));
    let bad_req = ApigRequest { headers: &tampered, ..req };
    expect_err("altered signature", verify_apig(&bad_req, &[(ak, sk)], Freshness::Unchecked), Error::SignatureMismatch)
}

/// docs/SCHEMES.md §S6, this runner's own reading: the refusal a verifier
/// owes a request the SDK signed, if any. A signed header name given twice
/// (in any case) is ambiguous; a signed `X-Sdk-Content-Sha256` must be
/// `UNSIGNED-PAYLOAD` or the body's SHA-256 (hex, any case).
fn apig_refusal(signed_headers: &str, sent: &[(&str, &str)], body: &[u8]) -> Option<Error> {
    let signed: Vec<&str> = signed_headers.split(';').collect();
    for name in &signed {
        if sent.iter().filter(|(n, _)| n.eq_ignore_ascii_case(name)).count() > 1 {
            return Some(Error::Ambiguous("a signed header is repeated"));
        }
    }
    if signed.contains(&"x-sdk-content-sha256") {
        let v = sent.iter().find(|(n, _)| n.eq_ignore_ascii_case("x-sdk-content-sha256")).map_or("", |(_, v)| *v);
        let real = hex(&Sha256::digest(body));
        if v != "UNSIGNED-PAYLOAD" && !v.eq_ignore_ascii_case(&real) {
            return Some(Error::SignatureMismatch);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v1_ambiguity_rule() {
        for q in ["a=x%26b%3Dc", "a=%26%3D", "a=1%26%3D", "a%3Db=1", "a%26b=1", "a=x%26y+z%3D", "a=ok&b=%26c%3D"] {
            assert!(v1_query_is_ambiguous(q), "{q}");
        }
        for q in ["a=a%2Bb+c%26d+%E5%AE%A2", "a=%3D%26", "a=x%3Dy%26z", "a=%26%26", "a=%26", "a=b%3Dc", "a=&b", "a=%zz"] {
            assert!(!v1_query_is_ambiguous(q), "{q}");
        }
    }
}
