//! S5 (docs/SCHEMES.md §S5) — older licence APIs: `ts`, `nonce`, `signature` headers,
//! `signature = b64(HMAC(access_key, "ts=" + ts + "&nonce=" + nonce + "&body=" + body))`.

use crate::encoding::{b64_32_public, b64_decode_32_public, FixedText};
use crate::error::{Error, Result};
use crate::mac::{check_keys, finish, match_keys, update_joined, Keyed, RawKey};
use crate::time::{parse_unix_ms, Freshness};

/// The raw S5 MAC under one keyed access key.
#[inline]
pub(crate) fn licence_mac(key: &impl Keyed, ts: &str, nonce: &str, body: &[u8]) -> [u8; 32] {
    let mut m = key.mac();
    // One stream, staged into as few updates as possible.
    update_joined(&mut m, 0, &[], &[b"ts=", ts.as_bytes(), b"&nonce=", nonce.as_bytes(), b"&body="], body);
    finish(m)
}

/// Computes the S5 signature (44 Base64 characters). The body is signed as
/// given (docs/SCHEMES.md §S5 decision). Errors: `NoAccessKey`.
pub fn licence_sign(ts: &str, nonce: &str, body: &[u8], access_key: &str) -> Result<FixedText<44>> {
    if access_key.is_empty() {
        return Err(Error::NoAccessKey);
    }
    // The signature is sent out: encoded with the table-driven encoder.
    Ok(FixedText::from_array(b64_32_public(&licence_mac(&RawKey(access_key), ts, nonce, body))))
}

/// Verifies an S5 signature (a space in it is read as `+`); returns the
/// verified view ([`LicenceVerified`]: the body and the matching key's index).
///
/// The signed string `ts=<ts>&nonce=<nonce>&body=<body>` is not
/// delimited, so (docs/SCHEMES.md §S5 decision) before the MAC:
/// * `ts` must be Unix milliseconds in exactly 13 digits without a leading
///   zero ([`parse_unix_ms`], the S2 rule);
/// * `nonce` must be non-empty and free of `&`: otherwise nonce `n1` with
///   body `&body=X` and nonce `n1&body=` with body `X` sign the same bytes.
///
/// The body is signed as received (decision). Order: `ts`, nonce, MAC
/// (constant time), freshness (unless [`Freshness::Unchecked`], by name).
///
/// Errors: `BadTimestamp`, `MissingParameter("nonce")`,
/// `Ambiguous("licence nonce contains `&`")`, `NoAccessKey`,
/// `SignatureMismatch`, `StaleTimestamp`.
pub fn verify_licence<'b>(
    ts: &str,
    nonce: &str,
    body: &'b [u8],
    signature: &str,
    access_keys: &[&str],
    freshness: Freshness,
) -> Result<LicenceVerified<'b>> {
    verify_licence_keyed(
        ts,
        nonce,
        body,
        signature,
        || {
            check_keys(access_keys)?;
            Ok(access_keys.iter().map(|k| RawKey(k)))
        },
        freshness,
    )
}

/// [`verify_licence`] over any keyed key set (`keys` is called once the
/// format is checked).
pub(crate) fn verify_licence_keyed<'b, K: Keyed, I: Iterator<Item = K>>(
    ts: &str,
    nonce: &str,
    body: &'b [u8],
    signature: &str,
    keys: impl FnOnce() -> Result<I>,
    freshness: Freshness,
) -> Result<LicenceVerified<'b>> {
    let ts_ms = parse_unix_ms(ts)?;
    if nonce.is_empty() {
        return Err(Error::MissingParameter("nonce"));
    }
    if nonce.contains('&') {
        return Err(Error::Ambiguous("licence nonce contains `&`"));
    }
    let keys = keys()?;
    let mut received = [0u8; 44];
    let sig = signature.as_bytes();
    if sig.len() != received.len() {
        return Err(Error::SignatureMismatch);
    }
    for (r, &b) in received.iter_mut().zip(sig) {
        *r = if b == b' ' { b'+' } else { b };
    }
    // The received signature is public: decoded (strictly, the one
    // canonical encoding of 32 bytes), then the raw MACs compared in
    // constant time: the same verdict as comparing it with b64(expected),
    // without encoding a secret value.
    let Some(raw) = b64_decode_32_public(&received) else {
        return Err(Error::SignatureMismatch);
    };
    let key_index = match_keys(keys, &raw, |k| licence_mac(k, ts, nonce, body))?;
    freshness.check(ts_ms)?;
    Ok(LicenceVerified { body, key_index, ts_ms })
}

/// A verified S5 licence request: the exact body, the index of the access
/// key that matched and `ts` in Unix ms. Made only by [`verify_licence`] and
/// the merchant context's `verify_licence`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LicenceVerified<'b> {
    body: &'b [u8],
    key_index: usize,
    ts_ms: u64,
}

impl<'b> LicenceVerified<'b> {
    /// The exact body bytes that were verified.
    pub fn body(&self) -> &'b [u8] {
        self.body
    }

    /// Index into the access keys given of the one that matched.
    pub fn key_index(&self) -> usize {
        self.key_index
    }

    /// The request's `ts`, Unix ms.
    pub fn timestamp_ms(&self) -> u64 {
        self.ts_ms
    }
}
