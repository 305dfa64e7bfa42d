//! S3 — the merchant's response header
//! `Body-Sign: sign_type="HMAC-SHA256", signature="<b64(HMAC(access_key, body))>"`
//! (docs/SCHEMES.md §S3).

use crate::encoding::{b64_32, b64_32_public, FixedText};
use crate::error::{Error, Result};
use crate::mac::{finish, match_any, match_keys, Keyed, RawKey};
use hmac::Mac;

/// The header name, exactly (the marketplace's check is case-sensitive).
pub const BODY_SIGN_HEADER: &str = "Body-Sign";
/// Length of the header value [`body_sign`] produces.
pub const BODY_SIGN_VALUE_LEN: usize = 81;

const PREFIX: &[u8] = b"sign_type=\"HMAC-SHA256\", signature=\"";

/// `b64(HMAC(access_key, body))`: the signature alone (44 characters).
/// The key is the access key alone, never `key + timeStamp`.
pub fn body_signature(body: &[u8], access_key: &str) -> FixedText<44> {
    FixedText::from_array(signature_keyed(&RawKey(access_key), body))
}

/// `HMAC(key, body)` under one keyed access key.
#[inline]
fn mac_keyed(key: &impl Keyed, body: &[u8]) -> [u8; 32] {
    let mut m = key.mac();
    m.update(body);
    finish(m)
}

/// `b64(HMAC(key, body))` under one keyed access key, encoded in constant
/// time (verification compares it with the received signature).
pub(crate) fn signature_keyed(key: &impl Keyed, body: &[u8]) -> [u8; 44] {
    b64_32(&mac_keyed(key, body))
}

/// The header value under one keyed access key, written in one buffer. The
/// signature is published in the header: encoded with the table-driven
/// encoder, not the constant-time one (verification keeps that).
pub(crate) fn body_sign_keyed(key: &impl Keyed, body: &[u8]) -> FixedText<BODY_SIGN_VALUE_LEN> {
    let sig = b64_32_public(&mac_keyed(key, body));
    let mut v = [0u8; BODY_SIGN_VALUE_LEN];
    v[..PREFIX.len()].copy_from_slice(PREFIX);
    v[PREFIX.len()..BODY_SIGN_VALUE_LEN - 1].copy_from_slice(&sig);
    v[BODY_SIGN_VALUE_LEN - 1] = b'"';
    FixedText::from_array(v)
}

/// The `Body-Sign` header value for the exact response bytes `body`:
/// `sign_type="HMAC-SHA256", signature="…"` (81 ASCII characters).
/// Errors: `NoAccessKey` for an empty key.
pub fn body_sign(body: &[u8], access_key: &str) -> Result<FixedText<BODY_SIGN_VALUE_LEN>> {
    if access_key.is_empty() {
        return Err(Error::NoAccessKey);
    }
    Ok(body_sign_keyed(&RawKey(access_key), body))
}

/// A parsed `Body-Sign` value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BodySignValue<'a> {
    /// `sign_type`: always exactly `HMAC-SHA256` (anything else is refused).
    pub sign_type: &'a str,
    /// The Base64 signature, as it stood between the quotes.
    pub signature: &'a str,
}

/// The only `sign_type` value (docs/SCHEMES.md §S3: exactly, case-sensitive).
const SIGN_TYPE: &str = "HMAC-SHA256";

// The deviations from the strict grammar, one text each (`koosign simulate`
// prints them, so each names what is wrong).
const E_EMPTY: Error = Error::MalformedEncoding("Body-Sign: empty attribute (stray comma)");
const E_NO_EQ: Error = Error::MalformedEncoding("Body-Sign: attribute without `=`");
const E_SPACE_EQ: Error = Error::MalformedEncoding("Body-Sign: space before `=`");
const E_WHITESPACE: Error = Error::MalformedEncoding("Body-Sign: whitespace other than spaces after `,` or `=`");
const E_UNKNOWN: Error = Error::MalformedEncoding("Body-Sign: unknown attribute");
const E_DUPLICATE: Error = Error::MalformedEncoding("Body-Sign: duplicate attribute");
const E_UNQUOTED: Error = Error::MalformedEncoding("Body-Sign: value not quoted");
const E_UNTERMINATED: Error = Error::MalformedEncoding("Body-Sign: quoted value not closed");
const E_AFTER_VALUE: Error = Error::MalformedEncoding("Body-Sign: text after a quoted value (only `,` may follow)");
const E_SIGN_TYPE: Error = Error::MalformedEncoding("Body-Sign: sign_type must be exactly HMAC-SHA256");

/// Parses a received `Body-Sign` value by the strict grammar of docs/SCHEMES.md
/// S3 (decision), as the marketplace checks it:
///
/// ```text
/// value     = attribute "," *" " attribute      ; after trimming the whole value
/// attribute = name "=" *" " DQUOTE *(any char but DQUOTE) DQUOTE
/// name      = "sign_type" / "signature"         ; each exactly once, any order
/// ```
///
/// and the `sign_type` value exactly `HMAC-SHA256`. Accepted spellings:
/// `sign_type="HMAC-SHA256", signature="…"`, the same without the space after
/// the comma, `signature= "…"`, and either order. ASCII whitespace
/// around the whole value is trimmed; no other whitespace is allowed. The returned strings borrow `value`.
///
/// Errors: `MissingParameter("sign_type" | "signature")` (an attribute
/// absent), otherwise `MalformedEncoding` with one text per deviation:
/// `Body-Sign: empty attribute (stray comma)` (a leading, trailing or
/// doubled comma), `Body-Sign: attribute without `=``, `Body-Sign: space
/// before `=``, `Body-Sign: whitespace other than spaces after `,` or `=``,
/// `Body-Sign: unknown attribute`, `Body-Sign: duplicate attribute`,
/// `Body-Sign: value not quoted`, `Body-Sign: quoted value not closed`,
/// `Body-Sign: text after a quoted value (only `,` may follow)`,
/// `Body-Sign: sign_type must be exactly HMAC-SHA256`.
pub fn parse_body_sign(value: &str) -> Result<BodySignValue<'_>> {
    let mut rest = value.trim_ascii();
    let mut sign_type = None;
    let mut signature = None;
    if !rest.is_empty() {
        loop {
            // One attribute: name `=` *SP `"` value `"`.
            if rest.is_empty() || rest.starts_with(',') {
                return Err(E_EMPTY);
            }
            let (name, after) = rest.split_once('=').ok_or(E_NO_EQ)?;
            if name.contains(',') {
                return Err(E_NO_EQ);
            }
            if name.ends_with([' ', '\t']) {
                return Err(E_SPACE_EQ);
            }
            if name.contains(|c: char| c.is_whitespace()) {
                return Err(E_WHITESPACE);
            }
            let slot = match name {
                "sign_type" => &mut sign_type,
                "signature" => &mut signature,
                _ => return Err(E_UNKNOWN),
            };
            if slot.is_some() {
                return Err(E_DUPLICATE);
            }
            let quoted = after.trim_start_matches(' ');
            let inner = quoted.strip_prefix('"').ok_or(if quoted.starts_with(char::is_whitespace) {
                E_WHITESPACE
            } else {
                E_UNQUOTED
            })?;
            let (v, tail) = inner.split_once('"').ok_or(E_UNTERMINATED)?;
            *slot = Some(v);
            if tail.is_empty() {
                break;
            }
            // Only `,` *SP may follow a value.
            let next = tail.strip_prefix(',').ok_or(E_AFTER_VALUE)?;
            rest = next.trim_start_matches(' ');
            if rest.starts_with(char::is_whitespace) {
                return Err(E_WHITESPACE);
            }
        }
    }
    let sign_type = sign_type.ok_or(Error::MissingParameter("sign_type"))?;
    let signature = signature.ok_or(Error::MissingParameter("signature"))?;
    if sign_type != SIGN_TYPE {
        return Err(E_SIGN_TYPE);
    }
    Ok(BodySignValue { sign_type, signature })
}

/// A verified `Body-Sign` (S3): the exact body it covers and the index of
/// the access key that matched. Made only by [`verify_body_sign`] and the
/// merchant context's `verify_body_sign`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BodySignVerified<'b> {
    body: &'b [u8],
    key_index: usize,
}

impl<'b> BodySignVerified<'b> {
    /// The exact body bytes the signature covers.
    pub fn body(&self) -> &'b [u8] {
        self.body
    }

    /// Index into the access keys given of the one that matched.
    pub fn key_index(&self) -> usize {
        self.key_index
    }
}

/// Verifies a received `Body-Sign` value against the exact body bytes and
/// one or several access keys (docs/SCHEMES.md §S3). The value is read by
/// [`parse_body_sign`] (strict), then the signature is compared in constant
/// time with `b64(HMAC(key, body))` for every key.
/// Errors: those of [`parse_body_sign`], `NoAccessKey`, `SignatureMismatch`.
pub fn verify_body_sign<'b>(value: &str, body: &'b [u8], access_keys: &[&str]) -> Result<BodySignVerified<'b>> {
    let v = parse_body_sign(value)?;
    let key_index = match_any(access_keys, v.signature.as_bytes(), |k| signature_keyed(&RawKey(k), body))?;
    Ok(BodySignVerified { body, key_index })
}

/// [`verify_body_sign`] over any keyed key set.
pub(crate) fn verify_body_sign_keyed<'b, K: Keyed>(
    value: &str,
    body: &'b [u8],
    keys: impl Iterator<Item = K>,
) -> Result<BodySignVerified<'b>> {
    let v = parse_body_sign(value)?;
    let key_index = match_keys(keys, v.signature.as_bytes(), |k| signature_keyed(k, body))?;
    Ok(BodySignVerified { body, key_index })
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
            assert_eq!(verify_body_sign(v, body, &["testAccessKey123"]).map(|v| v.key_index()), Ok(0));
        }
        assert_eq!(verify_body_sign(h.as_str(), b"{}", &["testAccessKey123"]), Err(Error::SignatureMismatch));
    }
}
