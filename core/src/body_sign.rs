//! S3 — the merchant's response header
//! `Body-Sign: sign_type="HMAC-SHA256", signature="<b64(HMAC(access_key, body))>"`
//! (docs/SCHEMES.md §S3).

use crate::encoding::{b64_32, FixedText};
use crate::error::{Error, Result};
use crate::mac::{hmac, match_any};

/// The header name, exactly (the marketplace's check is case-sensitive).
pub const BODY_SIGN_HEADER: &str = "Body-Sign";
/// Length of the header value [`body_sign`] produces.
pub const BODY_SIGN_VALUE_LEN: usize = 81;

const PREFIX: &[u8] = b"sign_type=\"HMAC-SHA256\", signature=\"";

/// `b64(HMAC(access_key, body))`: the signature alone (44 characters).
/// The key is the access key alone, never `key + timeStamp`.
pub fn body_signature(body: &[u8], access_key: &str) -> FixedText<44> {
    FixedText::from_parts(&[&b64_32(&hmac(access_key.as_bytes(), body))])
}

/// The `Body-Sign` header value for the exact response bytes `body`:
/// `sign_type="HMAC-SHA256", signature="…"` (81 ASCII characters).
/// Errors: `NoAccessKey` for an empty key.
pub fn body_sign(body: &[u8], access_key: &str) -> Result<FixedText<BODY_SIGN_VALUE_LEN>> {
    if access_key.is_empty() {
        return Err(Error::NoAccessKey);
    }
    let sig = b64_32(&hmac(access_key.as_bytes(), body));
    Ok(FixedText::from_parts(&[PREFIX, &sig, b"\""]))
}

/// A parsed `Body-Sign` value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BodySignValue<'a> {
    /// `sign_type`, e.g. `HMAC-SHA256`.
    pub sign_type: &'a str,
    /// The Base64 signature.
    pub signature: &'a str,
}

fn unquote(v: &str) -> Result<&str> {
    let v = v.trim();
    v.strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .ok_or(Error::MalformedEncoding("Body-Sign values must be quoted"))
}

/// Parses a received `Body-Sign` value tolerantly: attributes in any order,
/// spaces around `,` and `=` allowed (`signature= "…"`, no space after the
/// comma), quotes required.
/// Errors: `MissingParameter("sign_type" | "signature")`, `MalformedEncoding`.
pub fn parse_body_sign(value: &str) -> Result<BodySignValue<'_>> {
    let mut sign_type = None;
    let mut signature = None;
    for part in value.split(',') {
        let part = part.trim();
        if part.is_empty() {
            continue;
        }
        let (name, v) = part.split_once('=').ok_or(Error::MalformedEncoding("Body-Sign attribute without `=`"))?;
        match name.trim() {
            "sign_type" if sign_type.is_none() => sign_type = Some(unquote(v)?),
            "signature" if signature.is_none() => signature = Some(unquote(v)?),
            _ => {}
        }
    }
    Ok(BodySignValue {
        sign_type: sign_type.ok_or(Error::MissingParameter("sign_type"))?,
        signature: signature.ok_or(Error::MissingParameter("signature"))?,
    })
}

/// Verifies a received `Body-Sign` value against the exact body bytes and
/// one or several access keys; returns the index of the key that matched.
/// Errors: those of [`parse_body_sign`], `MalformedEncoding` (sign_type not
/// `HMAC-SHA256`), `NoAccessKey`, `SignatureMismatch`.
pub fn verify_body_sign(value: &str, body: &[u8], access_keys: &[&str]) -> Result<usize> {
    let v = parse_body_sign(value)?;
    if !v.sign_type.eq_ignore_ascii_case("HMAC-SHA256") {
        return Err(Error::MalformedEncoding("sign_type must be HMAC-SHA256"));
    }
    match_any(access_keys, v.signature.as_bytes(), |k| b64_32(&hmac(k.as_bytes(), body)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_vector_and_variants() {
        let body = br#"{"resultCode":"000000","resultMsg":"success."}"#;
        let h = body_sign(body, "testAccessKey123").unwrap();
        assert_eq!(h.as_str(), "sign_type=\"HMAC-SHA256\", signature=\"CPIAbI6A1/GrF70YmPEaCgm5WaxUkts5hjQRqqpZv3s=\"");
        assert_eq!(h.as_str().len(), BODY_SIGN_VALUE_LEN);
        for v in [
            h.as_str(),
            "sign_type=\"HMAC-SHA256\",signature=\"CPIAbI6A1/GrF70YmPEaCgm5WaxUkts5hjQRqqpZv3s=\"",
            "sign_type=\"HMAC-SHA256\", signature= \"CPIAbI6A1/GrF70YmPEaCgm5WaxUkts5hjQRqqpZv3s=\"",
        ] {
            assert_eq!(verify_body_sign(v, body, &["testAccessKey123"]), Ok(0));
        }
        assert_eq!(verify_body_sign(h.as_str(), b"{}", &["testAccessKey123"]), Err(Error::SignatureMismatch));
    }
}
