//! S5 — older licence APIs: `ts`, `nonce`, `signature` headers.

use crate::ffi::{boundary, bytes, freshness_of, strs, text, IndexOut, OutBuf};
use crate::ffi::{koosign_freshness, koosign_str};
use crate::status::koosign_status;
use core::ffi::c_char;

/// Computes the S5 licence signature
/// `b64(HMAC(key, "ts=" + ts + "&nonce=" + nonce + "&body=" + body))`:
/// 44 Base64 characters (KOOSIGN_LICENCE_SIGNATURE_LEN), not
/// NUL-terminated. The body is signed as given (SCHEMES.md decision).
///
/// - `ts`, `ts_len`: the `ts` header text (Unix milliseconds; not checked
///   when signing).
/// - `nonce`, `nonce_len`: the `nonce` header text (not checked when
///   signing).
/// - `body`, `body_len`: the exact body bytes.
/// - `key`, `key_len`: the access key (UTF-8, not empty).
/// - `out`, `out_cap`: the caller's buffer; 44 bytes suffice.
/// - `out_len`: receives the bytes written; with KOOSIGN_BUFFER_TOO_SMALL,
///   the bytes needed (and `out` is untouched); 0 on other errors.
///
/// Returns KOOSIGN_OK, KOOSIGN_NULL_PARAMETER, KOOSIGN_INVALID_UTF8,
/// KOOSIGN_NO_ACCESS_KEY, KOOSIGN_BUFFER_TOO_SMALL, KOOSIGN_PANIC.
///
/// # Safety
/// Every input pointer is NULL (only with a zero length) or valid for its
/// length; `out` NULL (only with `out_cap` 0) or valid for `out_cap` bytes
/// of writes, not overlapping the inputs; `out_len` valid for a write.
#[no_mangle]
pub unsafe extern "C" fn koosign_licence_sign(
    ts: *const c_char,
    ts_len: usize,
    nonce: *const c_char,
    nonce_len: usize,
    body: *const u8,
    body_len: usize,
    key: *const c_char,
    key_len: usize,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> koosign_status {
    boundary(|| {
        // SAFETY: the pointers meet this function's `# Safety` contract; the
        // conversions check NULL, lengths and UTF-8.
        let (out, ts, nonce, body, key) = unsafe {
            (
                OutBuf::new(out, out_cap, out_len)?,
                text(ts, ts_len)?,
                text(nonce, nonce_len)?,
                bytes(body, body_len)?,
                text(key, key_len)?,
            )
        };
        out.write(ks::licence_sign(ts, nonce, body, key)?.as_bytes())
    })
}

/// Verifies an S5 licence signature (a space in it is read as `+`;
/// constant-time compare) against one or several access keys.
///
/// The signed string `ts=<ts>&nonce=<nonce>&body=<body>` is not delimited,
/// so (SCHEMES.md S5, decision) before the MAC: `ts` must be exactly 13
/// digits without a leading zero (the S2 rule), and the nonce non-empty
/// and free of `&` (nonce `n1` with body `&body=X` and nonce `n1&body=`
/// with body `X` sign the same bytes). Order: `ts`, nonce, signature,
/// freshness.
///
/// - `ts`, `ts_len`: the `ts` header, Unix milliseconds, 13 digits.
/// - `nonce`, `nonce_len`: the `nonce` header, not empty, no `&`.
/// - `body`, `body_len`: the exact body bytes received.
/// - `signature`, `signature_len`: the `signature` header.
/// - `keys`, `keys_len`: the access keys to try, `keys_len` ≥ 1.
/// - `freshness`: required (NULL is KOOSIGN_NULL_PARAMETER):
///   |now_ms − ts| ≤ window_ms (Unix ms); left out only by name,
///   koosign_freshness_unchecked() or `window_ms` = KOOSIGN_WINDOW_UNCHECKED.
/// - `out_key_index`: NULL, or receives on success the index of the key
///   that matched.
///
/// Returns KOOSIGN_OK, KOOSIGN_NULL_PARAMETER, KOOSIGN_INVALID_UTF8,
/// KOOSIGN_BAD_TIMESTAMP, KOOSIGN_MISSING_PARAMETER (empty nonce),
/// KOOSIGN_AMBIGUOUS (a `&` in the nonce), KOOSIGN_NO_ACCESS_KEY,
/// KOOSIGN_SIGNATURE_MISMATCH, KOOSIGN_STALE_TIMESTAMP, KOOSIGN_PANIC.
/// resultCode: `000001` for all but the caller's mistakes (`000005`), see
/// koosign_status.
///
/// # Safety
/// Every input pointer is NULL (only with a zero length, or where said) or
/// valid for its length for the duration of the call.
#[no_mangle]
pub unsafe extern "C" fn koosign_verify_licence(
    ts: *const c_char,
    ts_len: usize,
    nonce: *const c_char,
    nonce_len: usize,
    body: *const u8,
    body_len: usize,
    signature: *const c_char,
    signature_len: usize,
    keys: *const koosign_str,
    keys_len: usize,
    freshness: *const koosign_freshness,
    out_key_index: *mut usize,
) -> koosign_status {
    boundary(|| {
        // SAFETY: the pointers meet this function's `# Safety` contract; the
        // conversions check NULL, lengths and UTF-8.
        let (ts, nonce, body, sig, keys, fresh, index) = unsafe {
            (
                text(ts, ts_len)?,
                text(nonce, nonce_len)?,
                bytes(body, body_len)?,
                text(signature, signature_len)?,
                strs(keys, keys_len)?,
                freshness_of(freshness)?,
                IndexOut::new(out_key_index),
            )
        };
        index.set(ks::verify_licence(ts, nonce, body, sig, &keys, fresh)?.key_index());
        Ok(())
    })
}
