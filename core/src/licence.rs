//! S5 (docs/SCHEMES.md §S5) — older licence APIs: `ts`, `nonce`, `signature` headers,
//! `signature = b64(HMAC(access_key, "ts=" + ts + "&nonce=" + nonce + "&body=" + body))`.

use crate::encoding::{b64_32, FixedText};
use crate::error::{Error, Result};
use crate::mac::{finish, mac_new, match_any};
use crate::time::{parse_unix_ms, Freshness};
use hmac::Mac;

fn licence_mac(ts: &str, nonce: &str, body: &[u8], access_key: &str) -> [u8; 44] {
    let mut m = mac_new(access_key.as_bytes());
    m.update(b"ts=");
    m.update(ts.as_bytes());
    m.update(b"&nonce=");
    m.update(nonce.as_bytes());
    m.update(b"&body=");
    m.update(body);
    b64_32(&finish(m))
}

/// Computes the S5 signature (44 Base64 characters). The body is signed as
/// given (docs/SCHEMES.md §S5 decision). Errors: `NoAccessKey`.
pub fn licence_sign(ts: &str, nonce: &str, body: &[u8], access_key: &str) -> Result<FixedText<44>> {
    if access_key.is_empty() {
        return Err(Error::NoAccessKey);
    }
    Ok(FixedText::from_parts(&[&licence_mac(ts, nonce, body, access_key)]))
}

/// Verifies an S5 signature (a space in it is read as `+`); returns the
/// index of the matching key.
///
/// The signed string `ts=<ts>&nonce=<nonce>&body=<body>` is not
/// delimited, so (docs/SCHEMES.md §S5 decision) before the MAC:
/// * `ts` must be Unix milliseconds in exactly 13 digits without a leading
///   zero ([`parse_unix_ms`], the S2 rule);
/// * `nonce` must be non-empty and free of `&`: otherwise nonce `n1` with
///   body `&body=X` and nonce `n1&body=` with body `X` sign the same bytes.
///
/// The body is signed as received (decision). Order: `ts`, nonce, MAC
/// (constant time), freshness (when given).
///
/// Errors: `BadTimestamp`, `MissingParameter("nonce")`,
/// `Ambiguous("licence nonce contains `&`")`, `NoAccessKey`,
/// `SignatureMismatch`, `StaleTimestamp`.
pub fn verify_licence(
    ts: &str,
    nonce: &str,
    body: &[u8],
    signature: &str,
    access_keys: &[&str],
    freshness: Option<Freshness>,
) -> Result<usize> {
    let ts_ms = parse_unix_ms(ts)?;
    if nonce.is_empty() {
        return Err(Error::MissingParameter("nonce"));
    }
    if nonce.contains('&') {
        return Err(Error::Ambiguous("licence nonce contains `&`"));
    }
    let mut received = [0u8; 44];
    let sig = signature.as_bytes();
    if sig.len() != received.len() {
        crate::mac::check_keys(access_keys)?;
        return Err(Error::SignatureMismatch);
    }
    for (r, &b) in received.iter_mut().zip(sig) {
        *r = if b == b' ' { b'+' } else { b };
    }
    let i = match_any(access_keys, &received, |k| licence_mac(ts, nonce, body, k))?;
    if let Some(f) = freshness {
        f.check(ts_ms)?;
    }
    Ok(i)
}
