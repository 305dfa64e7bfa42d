//! The marketplace's side of a merchant's answer: the response contract,
//! written once and used by both `simulate`'s lifecycle run and its audit
//! (`--audit`).
//!
//! * [`answer`]: HTTP 200 within 5 s, one header named exactly `Body-Sign`
//!   (SCHEMES.md S3), its value in the strict grammar (the core's
//!   [`parse_body_sign`]; a deviation is named), its signature over the exact
//!   bytes sent ([`verify_body_sign`]; a mismatch is diagnosed), and a JSON
//!   object body.
//! * [`app_info`]: the `appInfo` credentials decrypt under the access key,
//!   each ciphertext is at most 128 characters, and `encryptType` names the
//!   key size they were made with (S4).
//!
//! Each returns [`Finding`]s: the check's name (the `C_*` constants), pass
//! or fail, and what was seen. The rules are the core's
//! (`koosign::response`: [`find_body_sign`], `walk_json`, [`check_wire`],
//! `check_encrypt_type`); this module only reports them, one finding per
//! check, with what was seen. The callers only decide where a finding is
//! reported.

use crate::client::Exchange;
use crate::diagnose;
use crate::util::clip;
use koosign::response::{check_wire, find_body_sign};
use koosign::{parse_body_sign, verify_body_sign, walk_json, Error, FieldCipher, JsonVisitor, BODY_SIGN_HEADER};
use serde_json::Value;
use std::time::Duration;

/// The marketplace's patience.
pub const LIMIT: Duration = Duration::from_secs(5);

pub const C_HTTP: &str = "HTTP 200 within 5 s";
pub const C_HEADER: &str = "Body-Sign header";
pub const C_FORMAT: &str = "Body-Sign format";
pub const C_SIG: &str = "Body-Sign signature";
pub const C_JSON: &str = "JSON body";
pub const C_APPINFO: &str = "appInfo";
pub const C_CIPHERLEN: &str = "ciphertext length";
pub const C_ETYPE: &str = "encryptType";

/// One check of one answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    /// Which check (one of the `C_*` constants).
    pub check: &'static str,
    pub ok: bool,
    /// What was seen; never a key.
    pub detail: String,
}

impl Finding {
    fn new(check: &'static str, ok: bool, detail: impl Into<String>) -> Self {
        Finding { check, ok, detail: detail.into() }
    }
}

/// What the diagnosis of a wrong `Body-Sign` may use: the request's
/// timestamp(s), to recognise a signature made with `key + timeStamp`, and
/// the request body, to recognise a signature over the wrong message.
#[derive(Clone, Copy, Default)]
pub struct Context<'a> {
    pub timestamps: &'a [&'a str],
    pub request_body: Option<&'a [u8]>,
}

/// The contract of every answer (SCHEMES.md S3 and "Which code a refusal
/// gets": HTTP 200, a JSON body and a `Body-Sign` over the exact bytes,
/// refusals included), checked as the marketplace checks it. Returns the
/// findings in order and the body when it is a JSON object. When there is
/// no answer at all, the only finding is a failed [`C_HTTP`].
pub fn answer(ex: &Exchange, key: &str, ctx: Context<'_>) -> (Vec<Finding>, Option<Value>) {
    let mut out = Vec::new();
    let ms = ex.elapsed.as_millis();
    let resp = match &ex.response {
        Ok(r) => r,
        Err(msg) => {
            out.push(Finding::new(C_HTTP, false, format!("{msg} (other checks not run)")));
            return (out, None);
        }
    };
    if resp.status != 200 {
        out.push(Finding::new(C_HTTP, false, format!("HTTP {}: the marketplace needs 200, whatever the resultCode", resp.status)));
    } else if ex.elapsed > LIMIT {
        out.push(Finding::new(C_HTTP, false, format!("answered in {ms} ms: over the marketplace's 5000 ms")));
    } else {
        out.push(Finding::new(C_HTTP, true, format!("200 in {ms} ms")));
    }

    // Body-Sign: sent once under exactly that name (the core's
    // find_body_sign), then its value in the strict grammar (SCHEMES.md
    // S3), then the signature over the exact bytes.
    let any = resp.any_case(BODY_SIGN_HEADER);
    // Over https the client library lower-cases names: the exact name is
    // not observable, so it is not held against the endpoint.
    let pairs: Vec<(&str, &str)> = resp
        .headers
        .iter()
        .map(|(n, v)| {
            let n = if !resp.names_exact && n.eq_ignore_ascii_case(BODY_SIGN_HEADER) { BODY_SIGN_HEADER } else { n.as_str() };
            (n, v.as_str())
        })
        .collect();
    let value: Option<&str> = match find_body_sign(&pairs) {
        Ok(v) => {
            let detail = if resp.names_exact { "present, name exact" } else { "present (over https the name's case is not observable)" };
            out.push(Finding::new(C_HEADER, true, detail));
            Some(v)
        }
        Err(Error::Ambiguous(_)) => {
            let names: Vec<String> = any.iter().map(|(n, _)| format!("`{n}`")).collect();
            out.push(Finding::new(
                C_HEADER,
                false,
                format!("sent {} times ({}): the marketplace needs exactly one Body-Sign header", any.len(), names.join(", ")),
            ));
            let exact = resp.exact(BODY_SIGN_HEADER);
            Some(exact.first().copied().unwrap_or(any[0].1))
        }
        Err(Error::MalformedEncoding(_)) => {
            let (name, v) = any[0];
            out.push(Finding::new(
                C_HEADER,
                false,
                format!("sent as `{name}`: the marketplace matches the name `Body-Sign` case-sensitively (HTTP libraries often lower-case it)"),
            ));
            Some(v)
        }
        Err(_) => {
            out.push(Finding::new(C_HEADER, false, "no Body-Sign header: every answer, errors included, must carry it"));
            None
        }
    };
    if let Some(v) = value {
        match parse_body_sign(v) {
            Err(err) => out.push(Finding::new(
                C_FORMAT,
                false,
                format!("{}; received `{}`, expected sign_type=\"HMAC-SHA256\", signature=\"…\"", deviation(&err), clip(v, 60)),
            )),
            Ok(parsed) => {
                out.push(Finding::new(C_FORMAT, true, "sign_type=\"HMAC-SHA256\", signature=\"…\""));
                match verify_body_sign(v, &resp.body, &[key]) {
                    Ok(_) => out.push(Finding::new(C_SIG, true, format!("b64(HMAC(key, body)) over the {} bytes sent", resp.body.len()))),
                    Err(Error::SignatureMismatch) => {
                        let d = diagnose::body_sign(parsed.signature, &resp.body, key, ctx.timestamps, ctx.request_body);
                        out.push(Finding::new(C_SIG, false, format!("does not match the {} bytes sent: {d}", resp.body.len())));
                    }
                    Err(err) => out.push(Finding::new(C_SIG, false, deviation(&err))),
                }
            }
        }
    }

    // The core's strict reading (UTF-8, an object, no repeated name at any
    // depth, nesting, size); serde_json then only builds the value shown.
    struct Check;
    impl JsonVisitor<'_> for Check {}
    let strict = walk_json(&resp.body, &mut Check);
    match (strict, serde_json::from_slice::<Value>(&resp.body)) {
        (Ok(()), Ok(v @ Value::Object(_))) => {
            out.push(Finding::new(C_JSON, true, format!("{} bytes", resp.body.len())));
            (out, Some(v))
        }
        (Err(Error::MalformedEncoding("JSON body is not an object")), _) => {
            out.push(Finding::new(C_JSON, false, "JSON but not an object"));
            (out, None)
        }
        (Err(err), _) => {
            let head = String::from_utf8_lossy(&resp.body[..resp.body.len().min(40)]).to_string();
            out.push(Finding::new(C_JSON, false, format!("not strict JSON ({}); starts with {head:?}", deviation(&err))));
            (out, None)
        }
        (Ok(()), _) => {
            // The strict reader accepted what serde_json refused: report it
            // rather than guess.
            out.push(Finding::new(C_JSON, false, "JSON that serde_json cannot represent"));
            (out, None)
        }
    }
}

/// The `appInfo` of a newInstance or queryInstance answer (SCHEMES.md S4):
/// [`C_APPINFO`] (`userName` and `password` present and decrypting under
/// the access key), [`C_CIPHERLEN`] (each ciphertext, IV included, at most
/// 128 characters; a longer one is not decrypted) and [`C_ETYPE`]
/// (`encryptType` is `"1"` or `"2"` and names the key size every
/// decryptable ciphertext was made with).
pub fn app_info(cipher: &FieldCipher, encrypt_type: Option<&str>, app_info: Option<&Value>) -> Vec<Finding> {
    let mut wires: Vec<(&str, &str)> = Vec::new();
    let mut problems: Vec<String> = Vec::new();
    let mut too_long: Vec<String> = Vec::new();
    match app_info.and_then(Value::as_object) {
        None => problems.push("no appInfo object".into()),
        Some(obj) => {
            for field in ["userName", "password"] {
                match obj.get(field).and_then(Value::as_str) {
                    None | Some("") => problems.push(format!("no {field}")),
                    Some(w) => match check_wire(cipher, w) {
                        Err(Error::InputTooLarge { .. }) => too_long.push(format!("{field} is {} chars", w.chars().count())),
                        Err(_) => {
                            problems.push(format!("{field} decrypts with neither AES-256 nor AES-128 under this access key"));
                            wires.push((field, w));
                        }
                        Ok(_) => wires.push((field, w)),
                    },
                }
            }
        }
    }
    let mut out = Vec::new();
    if problems.is_empty() {
        let lens: Vec<String> = wires.iter().map(|(f, w)| format!("{f} {} chars", w.len())).collect();
        let what = if lens.is_empty() { "nothing else to decrypt".to_string() } else { format!("{}; decrypt", lens.join(", ")) };
        out.push(Finding::new(C_APPINFO, true, what));
    } else {
        out.push(Finding::new(C_APPINFO, false, problems.join("; ")));
    }
    if app_info.and_then(Value::as_object).is_some() {
        if too_long.is_empty() {
            out.push(Finding::new(C_CIPHERLEN, true, format!("each at most {} chars", koosign::field::MAX_WIRE_LEN)));
        } else {
            out.push(Finding::new(
                C_CIPHERLEN,
                false,
                format!("{}: at most {} (IV included)", too_long.join(", "), koosign::field::MAX_WIRE_LEN),
            ));
        }
    }
    let decryptable: Vec<(&str, &str)> = wires.into_iter().filter(|(_, w)| check_wire(cipher, w).is_ok()).collect();
    match diagnose::encrypt_type(cipher, encrypt_type, &decryptable) {
        Ok(d) => out.push(Finding::new(C_ETYPE, true, d)),
        Err(d) => out.push(Finding::new(C_ETYPE, false, d)),
    }
    out
}

/// What is wrong with a `Body-Sign` value, as the core's strict parser
/// names it (`MalformedEncoding("Body-Sign: …")`, `MissingParameter`).
pub fn deviation(e: &Error) -> String {
    match e {
        Error::MalformedEncoding(what) => (*what).to_string(),
        Error::MissingParameter(name) => format!("Body-Sign: no `{name}` attribute"),
        other => other.to_string(),
    }
}

/// The codes a refusal may carry (SCHEMES.md "Which code a refusal gets"):
/// before authentication, authenticated but unusable, the merchant's own
/// failure. Any other code means the request was acted on.
pub const REFUSAL_CODES: [&str; 3] = ["000001", "000002", "000005"];

/// The meaning of a resultCode (SCHEMES.md "The notifications").
pub fn meaning(code: &str) -> &'static str {
    match code {
        "000000" => "success",
        "000001" => "authentication failed",
        "000002" => "bad parameters",
        "000003" => "instance not found",
        "000004" => "in progress",
        "000005" => "internal error",
        _ => "business refusal or unknown",
    }
}
