//! S3 — the merchant's `Body-Sign` response header.

use crate::ffi::koosign_str;
use crate::ffi::{boundary, bytes, strs, text, IndexOut, OutBuf};
use crate::status::koosign_status;
use core::ffi::c_char;

/// The `Body-Sign` header value for the exact response bytes (SCHEMES.md
/// S3): `sign_type="HMAC-SHA256", signature="<b64(HMAC(key, body))>"`,
/// 81 ASCII characters (KOOSIGN_BODY_SIGN_VALUE_LEN), not NUL-terminated.
/// The header name is `Body-Sign`, exactly. The key is the access key
/// alone (not key + timeStamp).
///
/// - `body`, `body_len`: the exact response bytes that will be sent.
/// - `key`, `key_len`: the access key (UTF-8, not empty).
/// - `out`, `out_cap`: the caller's buffer; 81 bytes suffice.
/// - `out_len`: receives the bytes written (81); with
///   KOOSIGN_BUFFER_TOO_SMALL, the bytes needed (and `out` is untouched);
///   0 on other errors.
///
/// Returns KOOSIGN_OK, KOOSIGN_NULL_PARAMETER, KOOSIGN_INVALID_UTF8,
/// KOOSIGN_NO_ACCESS_KEY, KOOSIGN_BUFFER_TOO_SMALL, KOOSIGN_PANIC.
///
/// # Safety
/// Every input pointer is NULL (only with a zero length) or valid for its
/// length; `out` NULL (only with `out_cap` 0) or valid for `out_cap` bytes
/// of writes, not overlapping the inputs; `out_len` valid for a write.
#[no_mangle]
pub unsafe extern "C" fn koosign_body_sign(
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
        let (out, body, key) = unsafe {
            (
                OutBuf::new(out, out_cap, out_len)?,
                bytes(body, body_len)?,
                text(key, key_len)?,
            )
        };
        out.write(ks::body_sign(body, key)?.as_bytes())
    })
}

/// The signature alone, b64(HMAC(key, body)) (S3): 44 Base64 characters
/// (KOOSIGN_BODY_SIGNATURE_LEN), not NUL-terminated.
///
/// Parameters and statuses as koosign_body_sign (44 bytes suffice).
///
/// # Safety
/// As koosign_body_sign.
#[no_mangle]
pub unsafe extern "C" fn koosign_body_signature(
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
        let (out, body, key) = unsafe {
            (
                OutBuf::new(out, out_cap, out_len)?,
                bytes(body, body_len)?,
                text(key, key_len)?,
            )
        };
        if key.is_empty() {
            return Err(koosign_status::KOOSIGN_NO_ACCESS_KEY);
        }
        out.write(ks::body_signature(body, key).as_bytes())
    })
}

/// Verifies a received `Body-Sign` value (S3) against the exact body bytes
/// and one or several access keys. The parser is strict, as the
/// marketplace is (SCHEMES.md S3, decision): after trimming the whole
/// value, exactly the two attributes `sign_type` and `signature`, each
/// once, in either order, separated by one `,` and optional spaces; each
/// `name=` then optional spaces then a quoted value; `sign_type` exactly
/// `HMAC-SHA256` (case-sensitive). The spellings seen in the field pass:
/// no space after the comma, and `signature= "…"`. Anything else — a
/// lower-case sign_type, an unknown or repeated attribute, a leading,
/// trailing or doubled comma, a space before `=`, an unquoted value, a tab
/// — is KOOSIGN_MALFORMED_ENCODING (a merchant testing its header sees what
/// the marketplace would reject). The core names each deviation
/// (`koosign simulate` prints it); this status does not.
///
/// - `value`, `value_len`: the header value (UTF-8).
/// - `body`, `body_len`: the exact body bytes.
/// - `keys`, `keys_len`: the access keys to try, `keys_len` ≥ 1.
/// - `out_key_index`: NULL, or receives on success the index of the key
///   that matched.
///
/// Returns KOOSIGN_OK, KOOSIGN_NULL_PARAMETER, KOOSIGN_INVALID_UTF8,
/// KOOSIGN_MISSING_PARAMETER (no `sign_type` or `signature`),
/// KOOSIGN_MALFORMED_ENCODING (any deviation from the grammar above),
/// KOOSIGN_NO_ACCESS_KEY, KOOSIGN_SIGNATURE_MISMATCH, KOOSIGN_PANIC.
///
/// # Safety
/// Every input pointer is NULL (only with a zero length, or where said) or
/// valid for its length for the duration of the call.
#[no_mangle]
pub unsafe extern "C" fn koosign_verify_body_sign(
    value: *const c_char,
    value_len: usize,
    body: *const u8,
    body_len: usize,
    keys: *const koosign_str,
    keys_len: usize,
    out_key_index: *mut usize,
) -> koosign_status {
    boundary(|| {
        // SAFETY: the pointers meet this function's `# Safety` contract; the
        // conversions check NULL, lengths and UTF-8.
        let (value, body, keys, index) = unsafe {
            (
                text(value, value_len)?,
                bytes(body, body_len)?,
                strs(keys, keys_len)?,
                IndexOut::new(out_key_index),
            )
        };
        index.set(ks::verify_body_sign(value, body, &keys)?.key_index());
        Ok(())
    })
}
