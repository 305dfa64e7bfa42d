//! The checks of the vector kinds in `vectors/stages.jsonl`,
//! `vectors/invalid.jsonl` and `vectors/published.jsonl`, through the public
//! API of the core. Shared by `core/tests/vectors.rs` (so that
//! `cargo test -p koosign` runs them) and by `koosign conformance`
//! (`cli/src/conformance.rs` includes this file with `#[path]`).
//!
//! Every check returns `Err(why)`; a stage golden's `why` names the stage
//! that differs (`stage canonical: got …, expected …`), an invalid case's the
//! error expected and the one given.

use koosign::{
    body_signature, canonical_query, derive_key, sign_apig, sign_v2, v1_auth_token, v2_inner, verify_apig,
    verify_body_sign, verify_licence, verify_v1_query, verify_v1_json, verify_v2, ApigRequest, DecryptMode, EncryptType,
    Error, FieldKey, Freshness, NonceCache, Replay, V1Params, V2Auth, V2Scheme,
};
use serde_json::Value;

/// Checks one case; `None` for a kind this module does not know. A failure
/// starts with the case's `id` (invalid cases) or `source` (published ones).
pub fn check(kind: &str, c: &Value) -> Option<Result<(), String>> {
    let r = check_kind(kind, c)?;
    let label = c.get("id").or_else(|| c.get("source")).and_then(Value::as_str);
    Some(match label {
        Some(l) => r.map_err(|why| format!("{l}: {why}")),
        None => r,
    })
}

fn check_kind(kind: &str, c: &Value) -> Option<Result<(), String>> {
    Some(match kind {
        "v1_stages" | "v1_query" => v1_stages(c),
        "v2_stages" => v2_stages(c),
        "apig_stages" | "apig" => apig_stages(c, kind == "apig_stages"),
        "s4_key" => s4_key(c),
        "v1_invalid" => invalid(c, v1_invalid),
        "v1_json_invalid" => invalid(c, v1_json_invalid),
        "v2_invalid" => invalid(c, v2_invalid),
        "licence_invalid" => invalid(c, licence_invalid),
        "body_sign_invalid" => invalid(c, body_sign_invalid),
        "apig_invalid" => invalid(c, apig_invalid),
        "aes_invalid" => invalid(c, aes_invalid),
        "apig_canonical_query" => apig_canonical_query(c),
        "apig_host_unsigned" => apig_host_unsigned(c),
        "hmac_sha256" => hmac_sha256(c),
        "aes_cbc_raw" => aes_cbc_raw(c),
        _ => return None,
    })
}

// ---- helpers -----------------------------------------------------------------

/// The string field `field` of a case (shared with cli/src/conformance.rs).
pub fn s<'a>(c: &'a Value, field: &str) -> Result<&'a str, String> {
    c.get(field).and_then(Value::as_str).ok_or_else(|| format!("field `{field}` missing or not a string"))
}

fn stage(name: &str, got: &str, want: &str) -> Result<(), String> {
    if got == want {
        Ok(())
    } else {
        Err(format!("stage {name}: got {got:?}, expected {want:?}"))
    }
}

fn run<T>(name: &str, r: koosign::Result<T>) -> Result<T, String> {
    r.map_err(|e| format!("stage {name}: {} ({e})", e.code()))
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn unhex(h: &str) -> Result<Vec<u8>, String> {
    if h.len() % 2 != 0 {
        return Err(format!("odd-length hex {h:?}"));
    }
    (0..h.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&h[i..i + 2], 16).map_err(|_| format!("bad hex {h:?}")))
        .collect()
}

/// Standard Base64 (with padding) to bytes; the core's MAC outputs are Base64.
fn b64(text: &str) -> Result<Vec<u8>, String> {
    let val = |c: u8| -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    };
    let t = text.trim_end_matches('=').as_bytes();
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0);
    for &c in t {
        acc = (acc << 6) | val(c).ok_or_else(|| format!("not Base64: {text:?}"))?;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Ok(out)
}

/// hex(HMAC-SHA256(key, msg)) through the core's MAC path: `body_signature`
/// is b64(HMAC(key, body)).
fn mac_hex(msg: &[u8], key: &str) -> Result<String, String> {
    Ok(hex(&b64(body_signature(msg, key).as_str())?))
}

/// The case's window, or (a case without `now_ms`) the check left out by name.
fn freshness(c: &Value) -> Freshness {
    let Some(now) = c.get("now_ms").and_then(Value::as_u64) else { return Freshness::Unchecked };
    let window = c.get("window_ms").and_then(Value::as_u64).unwrap_or(koosign::DEFAULT_WINDOW_MS);
    Freshness::with_window(now, window)
}

fn pairs(c: &Value, field: &str) -> Result<Vec<(String, String)>, String> {
    let v = c.get(field).ok_or_else(|| format!("field `{field}` missing"))?;
    if let Some(a) = v.as_array() {
        a.iter()
            .map(|p| {
                let n = p.get(0).and_then(Value::as_str).ok_or("pair without a name")?;
                let v = p.get(1).and_then(Value::as_str).ok_or("pair without a value")?;
                Ok((n.to_string(), v.to_string()))
            })
            .collect()
    } else if let Some(o) = v.as_object() {
        Ok(o.iter().map(|(k, v)| (k.clone(), v.as_str().unwrap_or_default().to_string())).collect())
    } else {
        Err(format!("field `{field}` must be pairs or an object"))
    }
}

fn refs(p: &[(String, String)]) -> Vec<(&str, &str)> {
    p.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect()
}

// ---- stages ------------------------------------------------------------------

fn v1_stages(c: &Value) -> Result<(), String> {
    let key = s(c, "access_key")?;
    let query = s(c, "query")?;
    let mut scratch = vec![0u8; query.len()];
    let params = run("parse", V1Params::parse(query, &mut scratch))?;
    let mut out = vec![0u8; params.canonical_len()];
    stage("canonical", run("canonical", params.canonical(&mut out))?, s(c, "canonical")?)?;
    stage("auth_token", params.expected_auth_token(key).as_str(), s(c, "auth_token")?)?;
    let mut scratch2 = vec![0u8; query.len()];
    let form = run("parse", koosign::parse_form(query, &mut scratch2))?;
    stage("auth_token (v1_auth_token)", run("auth_token", v1_auth_token(form.as_slice(), key))?.as_str(), s(c, "auth_token")?)?;
    let mut scratch3 = vec![0u8; query.len()];
    run("verify", verify_v1_query(query, &[key], Freshness::Unchecked, Replay::Unchecked, &mut scratch3)).map(|_| ())
}

fn v2_stages(c: &Value) -> Result<(), String> {
    let key = s(c, "access_key")?;
    let (nonce, ts, body) = (s(c, "nonce")?, s(c, "timestamp")?, s(c, "body")?.as_bytes());
    let inner = v2_inner(body, key);
    stage("inner", inner.as_str(), s(c, "inner_hex")?)?;
    let canonical = format!("{key}{nonce}{ts}{}", inner.as_str());
    stage("canonical", &canonical, s(c, "canonical")?)?;
    let want = s(c, "signature")?;
    stage("signature (HMAC of the canonical string)", &mac_hex(canonical.as_bytes(), key)?.to_ascii_uppercase(), want)?;
    stage("signature", run("signature", sign_v2(V2Scheme::Query, body, key, nonce, ts))?.as_str(), want)?;
    let auth = V2Auth { signature: want, timestamp: ts, nonce };
    run("verify", verify_v2(V2Scheme::Query, &auth, body, &[key], Freshness::Unchecked, Replay::Unchecked))?;
    let kit = s(c, "kit_signature")?;
    stage("kit_signature", run("kit_signature", sign_v2(V2Scheme::Headers, body, key, nonce, ts))?.as_str(), kit)?;
    let auth = V2Auth { signature: kit, timestamp: ts, nonce };
    run("kit verify", verify_v2(V2Scheme::Headers, &auth, body, &[key], Freshness::Unchecked, Replay::Unchecked)).map(|_| ())
}

fn apig_stages(c: &Value, all_stages: bool) -> Result<(), String> {
    let (ak, sk) = (s(c, "ak")?, s(c, "sk")?);
    let query = pairs(c, "query")?;
    let headers = pairs(c, "headers")?;
    let (q, h) = (refs(&query), refs(&headers));
    let req = ApigRequest {
        method: s(c, "method")?,
        host: s(c, "host")?,
        path: s(c, "path")?,
        query: &q,
        headers: &h,
        body: s(c, "body")?.as_bytes(),
    };
    let mut out = vec![0u8; 16 * 1024];
    let signed = run("sign", sign_apig(&req, ak, sk, None, &mut out))?;
    stage("canonical_query", signed.canonical_query, s(c, "canonical_query")?)?;
    if all_stages {
        stage("canonical_request", signed.canonical_request, s(c, "canonical_request")?)?;
        stage("string_to_sign", signed.string_to_sign, s(c, "string_to_sign")?)?;
        stage("signature", signed.signature.as_str(), s(c, "signature")?)?;
    }
    stage("authorization", signed.authorization, s(c, "authorization")?)?;
    let added: Vec<(String, String)> = signed.headers_to_add.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect();
    let mut sent: Vec<(&str, &str)> = h.iter().filter(|(n, _)| !added.iter().any(|(a, _)| a == n)).copied().collect();
    sent.extend(added.iter().map(|(a, b)| (a.as_str(), b.as_str())));
    let sent_req = ApigRequest { headers: &sent, ..req };
    run("verify", verify_apig(&sent_req, &[(ak, sk)], Freshness::Unchecked)).map(|_| ())
}

fn s4_key(c: &Value) -> Result<(), String> {
    let seed = s(c, "seed")?;
    stage("aes128", &hex(derive_key(seed, EncryptType::Aes128).as_bytes()), s(c, "aes128_hex")?)?;
    stage("aes256", &hex(derive_key(seed, EncryptType::Aes256).as_bytes()), s(c, "aes256_hex")?)
}

// ---- invalid -----------------------------------------------------------------

/// Runs `f` (the case's verification, given a nonce store when the case has
/// a `prior`) and compares the error code with `expect_error`.
fn invalid(c: &Value, f: fn(&Value, &Value, Replay<'_>) -> koosign::Result<()>) -> Result<(), String> {
    let want = s(c, "expect_error")?;
    let got = if let Some(prior) = c.get("prior") {
        let mut store = NonceCache::<64>::new();
        // The prior request: the case's fields overridden by `prior`'s.
        let mut first = c.clone();
        if let (Some(o), Some(p)) = (first.as_object_mut(), prior.as_object()) {
            o.remove("prior");
            for (k, v) in p {
                o.insert(k.clone(), v.clone());
            }
        }
        f(&first, c, Replay::Store(&mut store)).map_err(|e| format!("the prior request was refused: {}", e.code()))?;
        f(c, c, Replay::Store(&mut store))
    } else {
        f(c, c, Replay::Unchecked)
    };
    match got {
        Err(e) if e.code() == want => Ok(()),
        Err(e) => Err(format!("expected {want}, got {} ({e})", e.code())),
        Ok(()) => Err(format!("expected {want}, but the request was accepted")),
    }
}

fn v1_invalid(c: &Value, _: &Value, store: Replay<'_>) -> koosign::Result<()> {
    let (key, query) = (c["access_key"].as_str().unwrap_or(""), c["query"].as_str().unwrap_or(""));
    let mut scratch = vec![0u8; query.len()];
    verify_v1_query(query, &[key], freshness(c), store, &mut scratch).map(|_| ())
}

fn v1_json_invalid(c: &Value, _: &Value, store: Replay<'_>) -> koosign::Result<()> {
    let key = c["access_key"].as_str().unwrap_or("");
    let (tok, body) = (c["auth_token"].as_str().unwrap_or(""), c["body"].as_str().unwrap_or("").as_bytes());
    let mut scratch = vec![0u8; body.len() + tok.len() + 9];
    verify_v1_json(tok, body, &[key], freshness(c), store, &mut scratch).map(|_| ())
}

fn v2_invalid(c: &Value, case: &Value, store: Replay<'_>) -> koosign::Result<()> {
    let key = c["access_key"].as_str().unwrap_or("");
    let body = c["body"].as_str().unwrap_or("").as_bytes();
    let scheme = if c["scheme"].as_str() == Some("kit") { V2Scheme::Headers } else { V2Scheme::Query };
    let fresh = freshness(case);
    if let Some(query) = c.get("query").and_then(Value::as_str) {
        let mut scratch = vec![0u8; query.len()];
        let auth = V2Auth::from_query(query, &mut scratch)?;
        return verify_v2(scheme, &auth, body, &[key], fresh, store).map(|_| ());
    }
    let auth = V2Auth {
        signature: c["signature"].as_str().unwrap_or(""),
        timestamp: c["timestamp"].as_str().unwrap_or(""),
        nonce: c["nonce"].as_str().unwrap_or(""),
    };
    verify_v2(scheme, &auth, body, &[key], fresh, store).map(|_| ())
}

fn licence_invalid(c: &Value, _: &Value, _: Replay<'_>) -> koosign::Result<()> {
    let g = |f: &str| c[f].as_str().unwrap_or("");
    verify_licence(g("ts"), g("nonce"), g("body").as_bytes(), g("signature"), &[g("access_key")], freshness(c)).map(|_| ())
}

fn body_sign_invalid(c: &Value, _: &Value, _: Replay<'_>) -> koosign::Result<()> {
    let g = |f: &str| c[f].as_str().unwrap_or("");
    verify_body_sign(g("value"), g("body").as_bytes(), &[g("access_key")]).map(|_| ())
}

fn apig_invalid(c: &Value, _: &Value, _: Replay<'_>) -> koosign::Result<()> {
    let g = |f: &str| c[f].as_str().unwrap_or("");
    let query = pairs(c, "query").unwrap_or_default();
    let headers = pairs(c, "headers").unwrap_or_default();
    let creds = pairs(c, "credentials").unwrap_or_default();
    let (q, h, cr) = (refs(&query), refs(&headers), refs(&creds));
    let req = ApigRequest { method: g("method"), host: g("host"), path: g("path"), query: &q, headers: &h, body: g("body").as_bytes() };
    verify_apig(&req, &cr, freshness(c)).map(|_| ())
}

fn aes_invalid(c: &Value, _: &Value, _: Replay<'_>) -> koosign::Result<()> {
    let wire = c["ciphertext"].as_str().unwrap_or("");
    let ty = if c["encrypt_type"].as_u64() == Some(2) { EncryptType::Aes128 } else { EncryptType::Aes256 };
    let mut out = vec![0u8; wire.len().max(1)];
    koosign::decrypt_field(wire, c["access_key"].as_str().unwrap_or(""), DecryptMode::Only(ty), &mut out).map(|_| ())
}

// ---- published ---------------------------------------------------------------

fn apig_canonical_query(c: &Value) -> Result<(), String> {
    let query = pairs(c, "query")?;
    let mut out = vec![0u8; 4096];
    stage("canonical_query", run("canonical_query", canonical_query(&refs(&query), &mut out))?, s(c, "canonical_query")?)
}

fn apig_host_unsigned(c: &Value) -> Result<(), String> {
    let sk = s(c, "sk")?;
    stage("signature (HMAC of the string to sign)", &mac_hex(s(c, "string_to_sign")?.as_bytes(), sk)?, s(c, "signature")?)?;
    let query = pairs(c, "query")?;
    let mut headers = pairs(c, "headers")?;
    headers.push(("Authorization".into(), s(c, "authorization")?.into()));
    let (q, h) = (refs(&query), refs(&headers));
    let req = ApigRequest { method: s(c, "method")?, host: s(c, "host")?, path: s(c, "path")?, query: &q, headers: &h, body: s(c, "body")?.as_bytes() };
    let want = s(c, "verify_error")?;
    match verify_apig(&req, &[(s(c, "ak")?, sk)], Freshness::Unchecked) {
        Err(e) if e.code() == want => Ok(()),
        Err(e) => Err(format!("stage verify: expected {want}, got {} ({e})", e.code())),
        Ok(_) => Err(format!("stage verify: expected {want} (host is not signed), but the request was accepted")),
    }
}

fn hmac_sha256(c: &Value) -> Result<(), String> {
    let got = mac_hex(&unhex(s(c, "data_hex")?)?, s(c, "key")?)?;
    let want = s(c, "mac_hex")?;
    stage("mac", &got[..want.len().min(got.len())], want)
}

fn aes_cbc_raw(c: &Value) -> Result<(), String> {
    let key = FieldKey::from_raw(&unhex(s(c, "key_hex")?)?).map_err(|e| format!("from_raw: {}", e.code()))?;
    let iv: [u8; 16] = unhex(s(c, "iv_hex")?)?.try_into().map_err(|_| "iv is not 16 bytes")?;
    let ct = unhex(s(c, "ct_hex")?)?;
    let mut out = vec![0u8; ct.len()];
    let r = key.decrypt_raw(&iv, &ct, &mut out);
    match (s(c, "result")?, r) {
        ("valid", Ok(pt)) => stage("plaintext", &hex(pt), s(c, "msg_hex")?),
        ("valid", Err(e)) => Err(format!("valid case refused: {}", e.code())),
        (_, Err(Error::Decrypt)) => Ok(()),
        (_, Err(e)) => Err(format!("expected DECRYPT, got {}", e.code())),
        (_, Ok(_)) => Err("an invalid ciphertext was decrypted".into()),
    }
}
