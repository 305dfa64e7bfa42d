//! S1 / S1b — V1 notifications (`authToken`).

use crate::ffi::{
    boundary, bytes, freshness_opt, pairs, produce, strs, text, with_scratch, IndexOut, OutBuf,
};
use crate::ffi::{koosign_freshness, koosign_pair, koosign_str};
use crate::status::koosign_status;
use core::ffi::c_char;

/// Verifies a V1 notification's query string (SCHEMES.md S1): form-decodes
/// it, drops `authToken`, sorts, and checks `authToken` =
/// b64(HMAC(access_key + timeStamp, canonical)) in constant time against
/// each access key (a space in the token is read as `+`).
///
/// - `query`, `query_len`: the raw query string, bytes, with or without a
///   leading `?` (not a whole URL). UTF-8.
/// - `keys`, `keys_len`: the access keys to try (several during a key
///   rotation), `keys_len` ≥ 1.
/// - `freshness`: NULL checks no window (the V1 guide documents none); else
///   |now_ms − timeStamp| ≤ window_ms is required (both Unix milliseconds).
/// - `out_key_index`: NULL, or receives on success the index in `keys` of
///   the key that matched.
///
/// Returns KOOSIGN_OK, KOOSIGN_NULL_PARAMETER, KOOSIGN_INVALID_UTF8,
/// KOOSIGN_MALFORMED_ENCODING (invalid percent escape, decoded text not
/// UTF-8), KOOSIGN_INPUT_TOO_LARGE (more than 64 parameters),
/// KOOSIGN_MISSING_PARAMETER (no `authToken` or `timeStamp`),
/// KOOSIGN_BAD_TIMESTAMP (`timeStamp` not `yyyyMMddHHmmssSSS`),
/// KOOSIGN_NO_ACCESS_KEY (no key, or an empty one),
/// KOOSIGN_SIGNATURE_MISMATCH, KOOSIGN_STALE_TIMESTAMP, KOOSIGN_PANIC.
///
/// # Safety
/// Every pointer is NULL (allowed only with a zero length, or where said)
/// or valid for its length for the duration of the call.
#[no_mangle]
pub unsafe extern "C" fn koosign_verify_v1(
    query: *const c_char,
    query_len: usize,
    keys: *const koosign_str,
    keys_len: usize,
    freshness: *const koosign_freshness,
    out_key_index: *mut usize,
) -> koosign_status {
    boundary(|| {
        // SAFETY: the pointers meet this function's `# Safety` contract; the
        // conversions check NULL, lengths and UTF-8.
        let (query, keys, fresh, index) = unsafe {
            (
                text(query, query_len)?,
                strs(keys, keys_len)?,
                freshness_opt(freshness),
                IndexOut::new(out_key_index),
            )
        };
        let i = with_scratch(query.len(), |scratch| {
            ks::verify_v1(query, &keys, fresh, None, scratch).map(|v| v.key_index())
        })?;
        index.set(i);
        Ok(())
    })
}

/// S1b: verifies an older licence "Kit" POST, whose `authToken` arrives as
/// a header and whose parameters are the top-level string fields of the
/// JSON body (blank values and non-string fields skipped, `timeStamp` read
/// from the body). Same formula as S1.
///
/// - `auth_token`, `auth_token_len`: the `authToken` header value (UTF-8).
/// - `body`, `body_len`: the exact body bytes received.
/// - `keys`, `keys_len`, `freshness`, `out_key_index`: as koosign_verify_v1.
///
/// Returns the statuses of koosign_verify_v1; KOOSIGN_MALFORMED_ENCODING
/// also for a body that is not a JSON object.
///
/// # Safety
/// As koosign_verify_v1.
#[no_mangle]
pub unsafe extern "C" fn koosign_verify_v1_json(
    auth_token: *const c_char,
    auth_token_len: usize,
    body: *const u8,
    body_len: usize,
    keys: *const koosign_str,
    keys_len: usize,
    freshness: *const koosign_freshness,
    out_key_index: *mut usize,
) -> koosign_status {
    boundary(|| {
        // SAFETY: the pointers meet this function's `# Safety` contract; the
        // conversions check NULL, lengths and UTF-8.
        let (token, body, keys, fresh, index) = unsafe {
            (
                text(auth_token, auth_token_len)?,
                bytes(body, body_len)?,
                strs(keys, keys_len)?,
                freshness_opt(freshness),
                IndexOut::new(out_key_index),
            )
        };
        let scratch_len = body.len().saturating_add(token.len()).saturating_add(9);
        let i = with_scratch(scratch_len, |scratch| {
            ks::verify_v1_json(token, body, &keys, fresh, None, scratch).map(|v| v.key_index())
        })?;
        index.set(i);
        Ok(())
    })
}

/// The S1 canonical string of a V1 query (for debugging a mismatch):
/// `name=value` pairs, decoded, `authToken` dropped, first of a repeated
/// name kept, sorted by name, joined with `&`.
///
/// - `query`, `query_len`: as koosign_verify_v1 (must hold `authToken` and
///   `timeStamp`).
/// - `out`, `out_cap`: the caller's buffer; the text is UTF-8, not
///   NUL-terminated, at most `query_len` bytes long.
/// - `out_len`: receives the bytes written; with KOOSIGN_BUFFER_TOO_SMALL,
///   the bytes needed (and `out` is untouched); 0 on other errors.
///
/// Returns KOOSIGN_OK, KOOSIGN_NULL_PARAMETER, KOOSIGN_INVALID_UTF8,
/// KOOSIGN_MALFORMED_ENCODING, KOOSIGN_INPUT_TOO_LARGE,
/// KOOSIGN_MISSING_PARAMETER, KOOSIGN_BUFFER_TOO_SMALL, KOOSIGN_PANIC.
///
/// # Safety
/// Input pointers as koosign_verify_v1; `out` NULL (only with `out_cap` 0)
/// or valid for `out_cap` bytes of writes, not overlapping the inputs;
/// `out_len` valid for a write.
#[no_mangle]
pub unsafe extern "C" fn koosign_v1_canonical(
    query: *const c_char,
    query_len: usize,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> koosign_status {
    boundary(|| {
        // SAFETY: the pointers meet this function's `# Safety` contract; the
        // conversions check NULL, lengths and UTF-8.
        let (out, query) =
            unsafe { (OutBuf::new(out, out_cap, out_len)?, text(query, query_len)?) };
        with_scratch(query.len(), |scratch| {
            let params = ks::V1Params::parse(query, scratch)?;
            produce(&out, |buf| params.canonical(buf))
        })
    })
}

/// Computes the V1 `authToken` (the marketplace's side of S1) for the
/// parameters of `query` under `key`: any `authToken` in the query is
/// ignored, `timeStamp` must be present. Writes 44 Base64 characters
/// (KOOSIGN_AUTH_TOKEN_LEN), not NUL-terminated.
///
/// - `query`, `query_len`: a V1 query string (UTF-8), e.g. the one received.
/// - `key`, `key_len`: the access key (UTF-8, not empty).
/// - `out`, `out_cap`, `out_len`: as koosign_v1_canonical; 44 bytes suffice.
///
/// Returns KOOSIGN_OK, KOOSIGN_NULL_PARAMETER, KOOSIGN_INVALID_UTF8,
/// KOOSIGN_MALFORMED_ENCODING, KOOSIGN_INPUT_TOO_LARGE,
/// KOOSIGN_MISSING_PARAMETER (no `timeStamp`), KOOSIGN_NO_ACCESS_KEY,
/// KOOSIGN_BUFFER_TOO_SMALL, KOOSIGN_PANIC.
///
/// # Safety
/// As koosign_v1_canonical, and `key` NULL (only with length 0) or valid.
#[no_mangle]
pub unsafe extern "C" fn koosign_v1_auth_token(
    query: *const c_char,
    query_len: usize,
    key: *const c_char,
    key_len: usize,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> koosign_status {
    boundary(|| {
        // SAFETY: the pointers meet this function's `# Safety` contract; the
        // conversions check NULL, lengths and UTF-8.
        let (out, query, key) = unsafe {
            (
                OutBuf::new(out, out_cap, out_len)?,
                text(query, query_len)?,
                text(key, key_len)?,
            )
        };
        let token = with_scratch(query.len(), |scratch| {
            let pairs = ks::parse_form(query, scratch)?;
            ks::v1_auth_token(pairs.as_slice(), key)
        })?;
        out.write(token.as_bytes())
    })
}

/// Builds the query string the marketplace sends for a V1 notification
/// (to simulate the marketplace in tests): `params` in the given order,
/// each name and value form-encoded as Java's URLEncoder does (space as
/// `+`), then `&authToken=…`. `params` must include `timeStamp`
/// (`yyyyMMddHHmmssSSS`); an `authToken` among them is ignored.
///
/// - `params`, `params_len`: the decoded parameters (UTF-8), at most 64.
/// - `key`, `key_len`: the access key (not empty).
/// - `out`, `out_cap`, `out_len`: as koosign_v1_canonical (ASCII output).
///
/// Returns KOOSIGN_OK, KOOSIGN_NULL_PARAMETER, KOOSIGN_INVALID_UTF8,
/// KOOSIGN_MISSING_PARAMETER, KOOSIGN_NO_ACCESS_KEY,
/// KOOSIGN_INPUT_TOO_LARGE, KOOSIGN_BUFFER_TOO_SMALL, KOOSIGN_PANIC.
///
/// # Safety
/// As koosign_v1_auth_token; `params` NULL (only with length 0) or valid
/// for `params_len` elements whose strings are valid.
#[no_mangle]
pub unsafe extern "C" fn koosign_build_v1_query(
    params: *const koosign_pair,
    params_len: usize,
    key: *const c_char,
    key_len: usize,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> koosign_status {
    boundary(|| {
        // SAFETY: the pointers meet this function's `# Safety` contract; the
        // conversions check NULL, lengths and UTF-8.
        let (out, params, key) = unsafe {
            (
                OutBuf::new(out, out_cap, out_len)?,
                pairs(params, params_len)?,
                text(key, key_len)?,
            )
        };
        produce(&out, |buf| ks::build_v1_query(&params, key, buf))
    })
}
