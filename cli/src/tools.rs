//! The one-shot tools: `verify v1|v2|kit|response`, `sign-body`, `encrypt`,
//! `decrypt`, `apig sign`, each with `--explain`.
//!
//! Verifiers print their verdict and explanation on stdout (exit 0 valid,
//! 1 invalid, 2 bad input); producers print their result alone on stdout
//! and the explanation on stderr, so their output can be piped.

use crate::diagnose::{self, size_name};
use crate::util::{describe, now_ms, parse_header_arg, CliError, CliResult, Secret, EXIT_FAIL, EXIT_OK};
use koosign::{
    body_sign, body_signature, parse_authorization, parse_body_sign, parse_unix_ms, query_of, sign_apig_url,
    sign_v2, v2_inner, verify_body_sign, verify_v2, DecryptMode, EncryptType, Error, FieldCipher,
    FieldKey, Freshness, V1Params, V2Auth, V2Scheme,
};
use koosign::Replay;
use serde_json::Value;

/// Prints one explanation line (label, value) to stdout or stderr.
struct Explain {
    on: bool,
    stderr: bool,
}

impl Explain {
    fn title(&self, t: &str) {
        self.emit(&format!("explain: {t}"));
    }
    fn line(&self, label: &str, value: impl AsRef<str>) {
        let v = value.as_ref();
        let mut lines = v.lines();
        let first = lines.next().unwrap_or("");
        self.emit(&format!("  {label:<22} {first}"));
        for l in lines {
            self.emit(&format!("  {:<22} {l}", ""));
        }
    }
    fn emit(&self, s: &str) {
        if self.on {
            if self.stderr {
                eprintln!("{s}");
            } else {
                println!("{s}");
            }
        }
    }
}

fn core_err(what: &str, e: Error) -> CliError {
    CliError::usage(format!("{what}: {}", describe(&e)))
}

fn body_note(body: &[u8]) -> String {
    let nl = if body.ends_with(b"\n") {
        "; ends with a newline, which is signed like any byte (editors and `echo` add one)"
    } else {
        "; no trailing newline"
    };
    format!("{} bytes, used exactly as given{nl}", body.len())
}

/// `--window` is an opt-in check of an offline diagnosis: without it the
/// window is left out, by name.
fn freshness(window_secs: Option<u64>, now: Option<u64>) -> Freshness {
    match window_secs {
        Some(w) => Freshness::with_window(now.unwrap_or_else(now_ms), w * 1000),
        None => Freshness::Unchecked,
    }
}

fn age_note(ts_ms: u64, now: Option<u64>) -> String {
    let now = now.unwrap_or_else(now_ms);
    let d = now as i64 - ts_ms as i64;
    let secs = d.abs() / 1000;
    let (n, unit) = if secs >= 86_400 * 2 {
        (secs / 86_400, "days")
    } else if secs >= 7200 {
        (secs / 3600, "hours")
    } else {
        (secs, "s")
    };
    format!("{n} {unit} {}", if d >= 0 { "ago" } else { "in the future" })
}

// ------------------------------------------------------------------ verify v1

pub fn verify_v1(key: &Secret, input: &str, explain: bool, window: Option<u64>, now: Option<u64>) -> CliResult<i32> {
    let ex = Explain { on: explain, stderr: false };
    let query = query_of(input.trim());
    let mut scratch = vec![0u8; query.len()];
    let params = V1Params::parse(query, &mut scratch).map_err(|e| core_err("cannot read the V1 query", e))?;
    let k = key.expose();
    let expected = params.expected_auth_token(k);
    let received = params.received_auth_token();
    ex.title("SCHEMES.md S1, V1 authToken over the query");
    let mut out = vec![0u8; params.canonical_len()];
    let canonical = params.canonical(&mut out).map_err(|e| core_err("canonical string", e))?.to_string();
    ex.line("1. decode + sort", "form-decoded (+ is a space), authToken removed, first of a repeated name, sorted by name");
    ex.line("2. canonical string", &canonical);
    ex.line("3. HMAC key", format!("{} + \"{}\" (the access key followed by timeStamp)", key.masked(), params.time_stamp()));
    ex.line("4. expected authToken", format!("b64(HMAC(key, canonical)) = {}", expected.as_str()));
    let repair = if received.contains(' ') { " (spaces are read as `+`: a `+` sent unencoded arrives as a space)" } else { "" };
    ex.line("5. received authToken", format!("{received}{repair}"));
    if let Ok(ts) = koosign::parse_v1_timestamp(params.time_stamp()) {
        let w = window.map_or("no window checked (none is documented; --window SECS to check one)".to_string(), |w| format!("window ±{w} s"));
        ex.line("timeStamp", format!("{} = {}, {}; {w}", params.time_stamp(), crate::util::iso(ts), age_note(ts, now)));
    }
    let verdict = params.verify(&[k], freshness(window, now), Replay::Unchecked).map(|v| v.activity().unwrap_or("-").to_string());
    let code = match verdict {
        Ok(activity) => {
            println!("valid: the V1 authToken matches (activity={activity})");
            Ok(EXIT_OK)
        }
        Err(Error::SignatureMismatch) => {
            println!("INVALID: the authToken does not match");
            if explain {
                let mut scratch2 = vec![0u8; query.len()];
                let d = V1Params::parse(query, &mut scratch2).map(|p2| diagnose::v1(query, &p2, k).to_string());
                if let Ok(d) = d {
                    println!("  {d}");
                }
            } else {
                println!("  run again with --explain for the intermediates and the likely cause");
            }
            Ok(EXIT_FAIL)
        }
        Err(Error::StaleTimestamp) => {
            println!("INVALID: the authToken matches but timeStamp is outside the window");
            Ok(EXIT_FAIL)
        }
        Err(e) => Err(core_err("cannot verify", e)),
    };
    code
}

// ------------------------------------------------------------------ verify v2 / kit

pub struct V2Input {
    pub scheme: V2Scheme,
    /// URL or query (basic).
    pub url: Option<String>,
    /// `Name: value` headers (kit).
    pub headers: Vec<String>,
    pub body: Vec<u8>,
}

pub fn verify_v2_cmd(key: &Secret, input: &V2Input, explain: bool, window: Option<u64>, now: Option<u64>) -> CliResult<i32> {
    let ex = Explain { on: explain, stderr: false };
    let k = key.expose();
    let query = input.url.as_deref().map(|u| query_of(u.trim()).to_string()).unwrap_or_default();
    let mut scratch = vec![0u8; query.len()];
    let parsed: Vec<(String, String)> = input.headers.iter().map(|h| parse_header_arg(h)).collect::<CliResult<_>>()?;
    let hs: Vec<(&str, &str)> = parsed.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    let auth = match input.scheme {
        V2Scheme::Query => V2Auth::from_query(&query, &mut scratch).map_err(|e| core_err("cannot read signature, timestamp and nonce from the URL", e))?,
        V2Scheme::Headers => V2Auth::from_headers(&hs).map_err(|e| core_err("cannot read the x-sign, x-timestamp and x-nonce headers", e))?,
    };
    let body = &input.body;
    let (title, sig_name) = match input.scheme {
        V2Scheme::Query => ("SCHEMES.md S2, V2 signature over the raw body", "signature"),
        V2Scheme::Headers => ("SCHEMES.md S2b, kit x-sign over the raw body", "x-sign"),
    };
    ex.title(title);
    ex.line("1. body", body_note(body));
    let canonical_desc = match input.scheme {
        V2Scheme::Query => {
            let inner = v2_inner(body, k);
            ex.line("2. inner hash", format!("hex(HMAC({}, body)) = {}", key.masked(), inner.as_str()));
            format!("{} + nonce \"{}\" + timestamp \"{}\" + inner \"{}\"", key.masked(), auth.nonce, auth.timestamp, inner.as_str())
        }
        V2Scheme::Headers => {
            ex.line("2. inner hash", "none in the kit formula: the body itself is appended");
            format!("{} + nonce \"{}\" + timestamp \"{}\" + body", key.masked(), auth.nonce, auth.timestamp)
        }
    };
    ex.line("3. canonical string", canonical_desc);
    ex.line("4. HMAC key", format!("{} (the access key alone)", key.masked()));
    if let Ok(expected) = sign_v2(input.scheme, body, k, auth.nonce, auth.timestamp) {
        ex.line("5. expected", format!("HEX(HMAC(key, canonical)) = {}", expected.as_str()));
    }
    ex.line("6. received", format!("{} (compared case-insensitively)", auth.signature));
    if let Ok(ts) = parse_unix_ms(auth.timestamp) {
        let w = window.map_or("not checked here (the merchant must refuse beyond ±60 s; --window 60 to check)".to_string(), |w| format!("window ±{w} s"));
        ex.line("timestamp", format!("{} = {}, {}; {w}", auth.timestamp, crate::util::iso(ts), age_note(ts, now)));
    }
    match verify_v2(input.scheme, &auth, body, &[k], freshness(window, now), Replay::Unchecked) {
        Ok(v) => {
            let activity = v.notification().ok().and_then(|n| n.activity.map(|a| a.as_str().to_string()));
            println!("valid: the {sig_name} matches (activity={})", activity.as_deref().unwrap_or("-"));
            Ok(EXIT_OK)
        }
        Err(Error::SignatureMismatch) => {
            println!("INVALID: the {sig_name} does not match");
            if explain {
                println!("  {}", diagnose::v2(input.scheme, &auth, body, k));
            } else {
                println!("  run again with --explain for the intermediates and the likely cause");
            }
            Ok(EXIT_FAIL)
        }
        Err(Error::StaleTimestamp) => {
            println!("INVALID: the {sig_name} matches but the timestamp is outside the window");
            Ok(EXIT_FAIL)
        }
        Err(e) => Err(core_err("cannot verify", e)),
    }
}

// ------------------------------------------------------------------ verify response

pub fn verify_response(key: &Secret, headers: &[String], body: &[u8], timestamps: &[String], explain: bool) -> CliResult<i32> {
    let ex = Explain { on: explain, stderr: false };
    let k = key.expose();
    let parsed: Vec<(String, String)> = headers.iter().map(|h| parse_header_arg(h)).collect::<CliResult<_>>()?;
    let found = parsed.iter().find(|(n, _)| n.eq_ignore_ascii_case("Body-Sign"));
    let Some((name, value)) = found else {
        return Err(CliError::usage("no Body-Sign header given: pass -H 'Body-Sign: sign_type=\"HMAC-SHA256\", signature=\"…\"'"));
    };
    let mut failures = 0;
    ex.title("SCHEMES.md S3, Body-Sign over the exact response bytes");
    ex.line("1. body", body_note(body));
    ex.line("2. HMAC key", format!("{} alone (never key + timeStamp)", key.masked()));
    ex.line("3. expected", format!("b64(HMAC(key, body)) = {}", body_signature(body, k).as_str()));
    let received = parse_body_sign(value).map(|p| p.signature.to_string());
    ex.line("4. received", received.as_deref().unwrap_or("(value not parseable)"));
    if name != "Body-Sign" {
        println!("INVALID: the header is named `{name}`; the marketplace matches `Body-Sign` case-sensitively");
        failures += 1;
    }
    let ts: Vec<&str> = timestamps.iter().map(String::as_str).collect();
    match verify_body_sign(value, body, &[k]) {
        Ok(_) => println!("valid: the Body-Sign signature matches the {} bytes", body.len()),
        Err(Error::SignatureMismatch) => {
            failures += 1;
            println!("INVALID: the Body-Sign signature does not match the {} bytes", body.len());
            let sig = received.unwrap_or_default();
            println!("  {}", diagnose::body_sign(&sig, body, k, &ts, None));
        }
        Err(e) => {
            failures += 1;
            println!("INVALID: the Body-Sign value is malformed: {} (expected sign_type=\"HMAC-SHA256\", signature=\"…\")", describe(&e));
        }
    }
    // The encrypted appInfo fields, when the body has them.
    if let Ok(json) = serde_json::from_slice::<Value>(body) {
        let cipher = FieldCipher::new(k);
        let mut infos: Vec<&Value> = json.get("appInfo").into_iter().collect();
        if let Some(a) = json.get("info").and_then(Value::as_array) {
            infos.extend(a.iter().filter_map(|i| i.get("appInfo")));
        }
        let mut wires: Vec<(&str, &str)> = Vec::new();
        for info in &infos {
            for f in ["userName", "password"] {
                if let Some(w) = info.get(f).and_then(Value::as_str) {
                    if w.chars().count() > koosign::field::MAX_WIRE_LEN {
                        failures += 1;
                        println!("INVALID: appInfo.{f} is {} characters; at most 128", w.chars().count());
                    }
                    wires.push((f, w));
                }
            }
        }
        if !wires.is_empty() {
            for (f, w) in &wires {
                ex.line(&format!("appInfo.{f}"), match cipher.detect(w) {
                    Some(t) => format!("{} chars, decrypts with {}", w.len(), size_name(t)),
                    None => format!("{} chars, decrypts with neither key size", w.len()),
                });
            }
            match diagnose::encrypt_type(&cipher, json.get("encryptType").and_then(Value::as_str), &wires) {
                Ok(d) => println!("valid: encryptType {d}"),
                Err(d) => {
                    failures += 1;
                    println!("INVALID: {d}");
                }
            }
        }
    }
    Ok(if failures == 0 { EXIT_OK } else { EXIT_FAIL })
}

// ------------------------------------------------------------------ sign-body

pub fn sign_body(key: &Secret, body: &[u8], explain: bool) -> CliResult<i32> {
    let ex = Explain { on: explain, stderr: true };
    let h = body_sign(body, key.expose()).map_err(|e| core_err("cannot sign", e))?;
    ex.title("SCHEMES.md S3, Body-Sign response header");
    ex.line("1. body", body_note(body));
    ex.line("2. HMAC key", format!("{} alone (never key + timeStamp)", key.masked()));
    ex.line("3. signature", format!("b64(HMAC(key, body)) = {}", body_signature(body, key.expose()).as_str()));
    ex.line("4. header", "name exactly `Body-Sign` (case-sensitive), quotes mandatory; send exactly these body bytes");
    println!("{}: {}", koosign::BODY_SIGN_HEADER, h.as_str());
    Ok(EXIT_OK)
}

// ------------------------------------------------------------------ encrypt / decrypt

fn encrypt_type_arg(t: &str) -> CliResult<EncryptType> {
    EncryptType::parse(t).map_err(|_| CliError::usage(format!("--type must be 1 (AES-256) or 2 (AES-128), not {t:?}")))
}

pub fn encrypt(key: &Secret, ty: &str, text: &str, iv: Option<&str>, explain: bool) -> CliResult<i32> {
    let ex = Explain { on: explain, stderr: true };
    let ty = encrypt_type_arg(ty)?;
    let fk = FieldKey::derive(key.expose(), ty);
    let mut out = [0u8; 256];
    let wire = match iv {
        Some(iv) => {
            let ivb: [u8; 16] = iv
                .as_bytes()
                .try_into()
                .map_err(|_| CliError::usage(format!("--iv must be 16 ASCII letters or digits ({} given)", iv.len())))?;
            fk.encrypt_with_iv(text, &ivb, &mut out)
        }
        None => fk.encrypt(text, &mut getrandom::SysRng, &mut out),
    };
    let wire = wire.map_err(|e| match e {
        Error::InputTooLarge { .. } => CliError::usage(format!(
            "the text is {} bytes: the wire string would exceed 128 characters (at most {} bytes fit)",
            text.len(),
            koosign::field::MAX_PLAINTEXT_LEN
        )),
        other => core_err("cannot encrypt", other),
    })?;
    ex.title("SCHEMES.md S4, encrypted field");
    ex.line("1. key", format!("{}: first {} bytes of SHA1PRNG seeded with {} (JDK KeyGenerator; not shown)", size_name(ty), ty.key_len(), key.masked()));
    ex.line("2. iv", format!("{} (16 ASCII alphanumerics; their bytes are the CBC IV)", &wire[..16]));
    ex.line("3. wire", format!("iv + b64(AES-CBC-PKCS#7(key, iv, text)) = {} chars (at most 128)", wire.len()));
    ex.line("4. encryptType", format!("\"{}\" must label this ciphertext in the response JSON", ty.as_str()));
    println!("{wire}");
    Ok(EXIT_OK)
}

pub fn decrypt(key: &Secret, ty: &str, wire: &str, explain: bool) -> CliResult<i32> {
    let ex = Explain { on: explain, stderr: true };
    let mode = if ty == "auto" { DecryptMode::Auto } else { DecryptMode::Only(encrypt_type_arg(ty)?) };
    let cipher = FieldCipher::new(key.expose());
    let detected = cipher.detect(wire);
    ex.title("SCHEMES.md S4, encrypted field");
    ex.line("1. wire", format!("{} chars{}", wire.len(), if wire.chars().count() > 128 { " (over the 128 allowed for userName/password)" } else { "" }));
    ex.line("2. iv", format!("{:?} (the first 16 characters)", wire.get(..16).unwrap_or(wire)));
    ex.line("3. key", format!("SHA1PRNG seeded with {} (not shown); {}", key.masked(), match mode {
        DecryptMode::Auto => "AES-256, then AES-128".to_string(),
        DecryptMode::Only(t) => format!("{} only", size_name(t)),
    }));
    ex.line("4. detected", match detected {
        Some(t) => format!("decrypts with {} (encryptType \"{}\")", size_name(t), t.as_str()),
        None => "decrypts with neither AES-256 nor AES-128 under this key".into(),
    });
    let mut out = vec![0u8; wire.len().max(64)];
    match cipher.decrypt(wire, mode, &mut out) {
        Ok(p) => {
            println!("{p}");
            Ok(EXIT_OK)
        }
        Err(Error::Decrypt) => {
            let msg = match (mode, detected) {
                (DecryptMode::Only(t), Some(d)) if d != t => format!(
                    "cannot decrypt as encryptType \"{}\" ({}): the ciphertext is {} (encryptType \"{}\"), so a response labelling it \"{}\" is wrong",
                    t.as_str(), size_name(t), size_name(d), d.as_str(), t.as_str()
                ),
                _ => "cannot decrypt: wrong access key, damaged Base64 or IV, or not an `iv + b64(ciphertext)` string".to_string(),
            };
            eprintln!("koosign: {msg}");
            Ok(EXIT_FAIL)
        }
        Err(e) => Err(core_err("cannot decrypt", e)),
    }
}

// ------------------------------------------------------------------ apig sign

pub struct ApigInput<'a> {
    pub method: &'a str,
    pub url: &'a str,
    pub headers: &'a [String],
    pub body: Vec<u8>,
    pub date: Option<&'a str>,
    pub expect: Option<&'a str>,
}

pub fn apig_sign(ak: &Secret, sk: &Secret, input: &ApigInput<'_>, explain: bool) -> CliResult<i32> {
    let ex = Explain { on: explain, stderr: true };
    let mut headers: Vec<(String, String)> = input.headers.iter().map(|h| parse_header_arg(h)).collect::<CliResult<_>>()?;
    if let Some(d) = input.date {
        headers.retain(|(n, _)| !n.eq_ignore_ascii_case("X-Sdk-Date"));
        headers.push(("X-Sdk-Date".into(), d.to_string()));
    }
    let hs: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    // The URL is split by the core (SCHEMES.md S6 "Signing a whole URL"),
    // as curl puts it on the wire.
    let hl = hs.iter().map(|(n, v)| n.len() + v.len()).sum();
    let mut out = vec![0u8; koosign::apig::sign_apig_url_len(input.method.len(), input.url.len(), hl, ak.expose().len())];
    let signed = sign_apig_url(input.method, input.url, &hs, &input.body, ak.expose(), sk.expose(), Some(now_ms()), &mut out)
        .map_err(|e| core_err(&format!("cannot sign `{}`", input.url), e))?;
    ex.title("SCHEMES.md S6, SDK-HMAC-SHA256 (AK/SK)");
    ex.line("1. canonical request", signed.canonical_request);
    ex.line("   canonical query", signed.canonical_query);
    ex.line("   signed headers", signed.signed_headers);
    ex.line("2. string to sign", signed.string_to_sign);
    ex.line("3. HMAC key", format!("{} (the secret key)", sk.masked()));
    ex.line("4. signature", format!("hex(HMAC(SK, string to sign)) = {}", signed.signature.as_str()));
    // A date given with --date is a header the request must carry too.
    if let Some(d) = input.date {
        println!("X-Sdk-Date: {d}");
    }
    for (n, v) in &signed.headers_to_add {
        println!("{n}: {v}");
    }
    if let Some(expect) = input.expect {
        let theirs = parse_authorization(expect).map(|a| a.signature.to_string()).unwrap_or_else(|_| expect.trim().to_string());
        if theirs.eq_ignore_ascii_case(signed.signature.as_str()) {
            eprintln!("valid: the expected signature matches");
        } else {
            eprintln!("INVALID: the expected signature {theirs} differs from {}", signed.signature.as_str());
            eprintln!(
                "  first step that differs: not knowable from a signature alone; compare the canonical request (--explain) with the other side's. \
                 Usual causes (S6): the URI must end with `/`; query names and values encoded with %20 and sorted; header names \
                 lower-cased and sorted, values trimmed; X-Sdk-Date is the one sent; the body hash is of the exact bytes \
                 (a non-JSON Content-Type signs UNSIGNED-PAYLOAD)"
            );
            return Ok(EXIT_FAIL);
        }
    }
    Ok(EXIT_OK)
}
