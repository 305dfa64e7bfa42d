//! Diagnoses for a mismatch: which step of a scheme differs, and the likely
//! cause from the pitfalls of SCHEMES.md. Every candidate is recomputed by
//! the core (`sign_v2`, `body_signature`, `V1Params`, `FieldCipher`); this
//! module only builds the mistaken inputs a sender commonly uses.

use koosign::{body_signature, sign_v2, EncryptType, FieldCipher, V1Params, V2Auth, V2Scheme};
use serde_json::Value;

/// A diagnosis: the first step that differs and the likely cause.
#[derive(Debug, Clone)]
pub struct Diagnosis {
    pub step: &'static str,
    pub cause: String,
}

impl std::fmt::Display for Diagnosis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "first step that differs: {}; likely cause: {}", self.step, self.cause)
    }
}

fn sorted(v: &Value) -> Value {
    match v {
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            let mut out = serde_json::Map::new();
            for k in keys {
                out.insert(k.clone(), sorted(&m[k]));
            }
            Value::Object(out)
        }
        Value::Array(a) => Value::Array(a.iter().map(sorted).collect()),
        other => other.clone(),
    }
}

/// Bodies a sender may have signed instead of the exact bytes: without or
/// with a trailing newline, and the JSON re-serialised (compact, pretty,
/// sorted keys). Only variants that differ from `body` are returned.
pub fn body_variants(body: &[u8]) -> Vec<(&'static str, Vec<u8>)> {
    let mut out: Vec<(&'static str, Vec<u8>)> = Vec::new();
    let mut push = |label: &'static str, v: Vec<u8>| {
        if v != body && !out.iter().any(|(_, o)| *o == v) {
            out.push((label, v));
        }
    };
    if let Some(stripped) = body.strip_suffix(b"\n") {
        push("without its trailing newline", stripped.strip_suffix(b"\r").unwrap_or(stripped).to_vec());
    } else {
        let mut v = body.to_vec();
        v.push(b'\n');
        push("with a trailing newline added", v);
    }
    if let Ok(v) = serde_json::from_slice::<Value>(body) {
        if let Ok(c) = serde_json::to_vec(&v) {
            push("re-serialised as compact JSON", c);
        }
        if let Ok(p) = serde_json::to_vec_pretty(&v) {
            push("re-serialised as pretty-printed JSON", p);
        }
        if let Ok(s) = serde_json::to_vec(&sorted(&v)) {
            push("re-serialised with sorted keys", s);
        }
    }
    let trimmed = body.trim_ascii();
    push("with surrounding whitespace trimmed", trimmed.to_vec());
    out
}

/// Why a received Body-Sign signature does not match `body`.
/// `timestamps`: the request's timeStamp/timestamp values, to detect
/// `key + timeStamp`; `request_body`: the body of the request, to detect a
/// signature over the wrong message.
pub fn body_sign(received: &str, body: &[u8], key: &str, timestamps: &[&str], request_body: Option<&[u8]>) -> Diagnosis {
    for ts in timestamps.iter().filter(|t| !t.is_empty()) {
        let k = format!("{key}{ts}");
        if body_signature(body, &k).as_str() == received {
            return Diagnosis {
                step: "HMAC key",
                cause: format!(
                    "the signature was made with the access key + timeStamp (\"{ts}\" appended), the V1 request's HMAC key; \
                     Body-Sign uses the access key alone (SCHEMES.md S3)"
                ),
            };
        }
    }
    for (label, v) in body_variants(body) {
        if body_signature(&v, key).as_str() == received {
            return Diagnosis {
                step: "body bytes",
                cause: format!(
                    "the signature matches the body {label}, not the exact bytes that were sent: \
                     sign the final bytes after serialising, and send exactly those (S3)"
                ),
            };
        }
    }
    if let Some(rb) = request_body {
        if body_signature(rb, key).as_str() == received {
            return Diagnosis { step: "body bytes", cause: "the signature is over the request body, not the response body".into() };
        }
    }
    if body_signature(b"", key).as_str() == received {
        return Diagnosis { step: "body bytes", cause: "the signature is over an empty body (signed before the body was written?)".into() };
    }
    if received.len() != 44 {
        return Diagnosis {
            step: "encoding",
            cause: format!(
                "the signature is {} characters; b64(HMAC-SHA256) is 44 (standard Base64 with `+ / =`, not hex, not URL-safe)",
                received.len()
            ),
        };
    }
    Diagnosis {
        step: "signature",
        cause: "no known mistake reproduces it: most likely a different access key (keys are never shown), \
                or a body changed after signing in a way not guessed (compression, charset conversion)"
            .into(),
    }
}

fn v2_matches(scheme: V2Scheme, body: &[u8], key: &str, nonce: &str, ts: &str, received: &str) -> bool {
    sign_v2(scheme, body, key, nonce, ts).map(|s| s.as_str().eq_ignore_ascii_case(received.trim())).unwrap_or(false)
}

/// Why a V2 / kit signature does not verify.
pub fn v2(scheme: V2Scheme, auth: &V2Auth<'_>, body: &[u8], key: &str) -> Diagnosis {
    let sig = auth.signature.trim();
    let other = if scheme == V2Scheme::Query { V2Scheme::Headers } else { V2Scheme::Query };
    if !(sig.len() == 64 && sig.bytes().all(|b| b.is_ascii_hexdigit())) {
        return Diagnosis {
            step: "encoding",
            cause: format!("the signature is not 64 hex digits ({} characters): truncated, or Base64 instead of hex", sig.len()),
        };
    }
    if v2_matches(other, body, key, auth.nonce, auth.timestamp, sig) {
        let cause = if scheme == V2Scheme::Query {
            "the sender used the kit formula (S2b: no inner HMAC of the body); verify it with `koosign verify kit`"
        } else {
            "the sender used the basic formula (S2: inner hex HMAC of the body); verify it with `koosign verify v2`"
        };
        return Diagnosis { step: "inner hash", cause: cause.into() };
    }
    for (label, v) in body_variants(body) {
        if v2_matches(scheme, &v, key, auth.nonce, auth.timestamp, sig) {
            return Diagnosis {
                step: "body bytes",
                cause: format!(
                    "the signature matches the body {label}: the bytes checked are not the bytes signed. \
                     Verify the exact received bytes (never re-serialise the JSON; `echo` adds a newline)"
                ),
            };
        }
    }
    if v2_matches(scheme, body, key, auth.timestamp, auth.nonce, sig) {
        return Diagnosis { step: "canonical string", cause: "nonce and timestamp are swapped (canonical = key + nonce + timestamp + …)".into() };
    }
    if key != key.trim() && v2_matches(scheme, body, key.trim(), auth.nonce, auth.timestamp, sig) {
        return Diagnosis { step: "HMAC key", cause: "the key given here has surrounding whitespace; the sender's has none".into() };
    }
    if scheme == V2Scheme::Query && koosign::v2_inner(body, key).as_str().eq_ignore_ascii_case(sig) {
        return Diagnosis { step: "string to sign", cause: "the received signature is the inner hash hex(HMAC(key, body)) alone".into() };
    }
    if auth.timestamp.len() == 10 {
        return Diagnosis {
            step: "canonical string",
            cause: "the timestamp has 10 digits (seconds); V2 uses Unix milliseconds (13 digits), and it is signed as sent".into(),
        };
    }
    Diagnosis {
        step: "signature",
        cause: "no known mistake reproduces it: most likely a different access key (keys are never shown), \
                or a body changed in transit"
            .into(),
    }
}

/// Why a V1 authToken does not verify. `query` is the raw query.
pub fn v1(query: &str, params: &V1Params<'_>, key: &str) -> Diagnosis {
    let received = params.received_auth_token();
    let expected = params.expected_auth_token(key);
    let repaired = received.replace(' ', "+");
    if received.contains('%') {
        let mut scratch = vec![0u8; received.len()];
        let q = format!("t={received}");
        let twice = koosign::parse_form(&q, &mut scratch).map(|p| p.get("t") == Some(expected.as_str())).unwrap_or(false);
        if twice {
            return Diagnosis { step: "encoding", cause: "the authToken was URL-encoded twice".into() };
        }
    }
    if repaired.len() != 44 {
        return Diagnosis {
            step: "encoding",
            cause: format!("the authToken is {} characters after decoding; b64(HMAC-SHA256) is 44 (truncated?)", received.len()),
        };
    }
    let mut out = vec![0u8; params.canonical_len()];
    if let Ok(canonical) = params.canonical(&mut out) {
        if body_signature(canonical.as_bytes(), key).as_str() == repaired {
            return Diagnosis {
                step: "HMAC key",
                cause: "the token was made with the access key alone; the V1 HMAC key is the access key + timeStamp (S1 step 6)".into(),
            };
        }
    }
    // Values signed still URL-encoded: make the parser see the raw text.
    let raw_query = query.replace('%', "%25").replace('+', "%2B");
    let raw_query = restore_token(&raw_query, query);
    if token_of(&raw_query, key).as_deref() == Some(repaired.as_str()) {
        return Diagnosis {
            step: "canonical string",
            cause: "the sender signed the URL-encoded values; the canonical string uses the decoded values (S1 steps 1, 5)".into(),
        };
    }
    // A literal `+` in a value, sent unencoded, arrives as a space.
    if query.contains('+') {
        let plus_query = restore_token(&query.replace('+', "%2B"), query);
        if token_of(&plus_query, key).as_deref() == Some(repaired.as_str()) {
            return Diagnosis {
                step: "canonical string",
                cause: "a `+` inside a value was sent unencoded and decoded here as a space: the sender must URL-encode values".into(),
            };
        }
    }
    let q = without_param(query, "activity");
    if q != query && token_of(&q, key).as_deref() == Some(repaired.as_str()) {
        return Diagnosis {
            step: "canonical string",
            cause: "the sender left `activity` out of the signed parameters; S1 signs everything but authToken".into(),
        };
    }
    Diagnosis {
        step: "authToken",
        cause: "no known mistake reproduces it: most likely a different access key (keys are never shown), a parameter \
                added or changed after signing, or a different timeStamp"
            .into(),
    }
}

/// Puts the original authToken segment back into a rewritten query.
fn restore_token(rewritten: &str, original: &str) -> String {
    let orig_tok: Vec<&str> = original.split('&').filter(|s| s.starts_with("authToken=")).collect();
    let mut segs: Vec<String> = rewritten.split('&').filter(|s| !s.starts_with("authToken=")).map(String::from).collect();
    segs.extend(orig_tok.iter().map(|s| s.to_string()));
    segs.join("&")
}

fn without_param(query: &str, name: &str) -> String {
    query.split('&').filter(|s| s.split('=').next() != Some(name)).collect::<Vec<_>>().join("&")
}

fn token_of(query: &str, key: &str) -> Option<String> {
    let mut scratch = vec![0u8; query.len()];
    let p = V1Params::parse(query, &mut scratch).ok()?;
    Some(p.expected_auth_token(key).as_str().to_string())
}

/// Checks `encryptType` against the ciphertexts: each must decrypt with the
/// key size the label says. Returns the detail on success, the diagnosis on
/// failure.
pub fn encrypt_type(cipher: &FieldCipher, label: Option<&str>, wires: &[(&str, &str)]) -> Result<String, String> {
    use koosign::response::{check_encrypt_type, check_wire};
    // The decisions are the core's (koosign::response); this only says what was seen.
    let ty = match check_encrypt_type(label, None) {
        Ok(ty) => ty,
        Err(_) => {
            return Err(match label {
                None => "encryptType is missing (must be \"1\" for AES-256 or \"2\" for AES-128)".to_string(),
                Some(l) => format!("encryptType is {l:?}; it must be the string \"1\" or \"2\""),
            })
        }
    };
    for (name, wire) in wires {
        match check_wire(cipher, wire) {
            Ok(found) if check_encrypt_type(label, Some(found)).is_ok() => {}
            Ok(found) => {
                return Err(format!(
                    "{name} is {} ciphertext but encryptType is \"{}\" ({}): label it \"{}\" or encrypt with {} (S4)",
                    size_name(found),
                    ty.as_str(),
                    size_name(ty),
                    found.as_str(),
                    size_name(ty)
                ))
            }
            Err(_) => return Err(format!("{name} decrypts with neither AES-256 nor AES-128 under this access key")),
        }
    }
    Ok(format!("\"{}\" ({}), consistent with {} ciphertext(s)", ty.as_str(), size_name(ty), wires.len()))
}

pub fn size_name(t: EncryptType) -> &'static str {
    match t {
        EncryptType::Aes256 => "AES-256",
        EncryptType::Aes128 => "AES-128",
    }
}
