//! S2 / S2b — V2 notifications (`signature`, `timestamp`, `nonce`) and kit
//! `x-sign` headers.

use crate::ffi::{boundary, bytes, freshness_of, strs, text, with_scratch, IndexOut, OutBuf, Res};
use crate::ffi::{koosign_freshness, koosign_str};
use crate::merchant::koosign_replay;
use crate::nonce::{koosign_nonce_cache, store_of};
use crate::status::koosign_status;
use core::ffi::c_char;

/// Which V2 formula: KOOSIGN_V2_BASIC or KOOSIGN_V2_KIT (any other value
/// gives KOOSIGN_INVALID_ARGUMENT).
pub type koosign_v2_scheme = u32;
/// S2: `HEX(HMAC(k, k + nonce + timestamp + hex(HMAC(k, body))))`, carried in
/// the query parameters `signature`, `timestamp`, `nonce` (SaaS V2 basic
/// interfaces, order notifications, licence 2.0).
pub const KOOSIGN_V2_BASIC: koosign_v2_scheme = 1;
/// S2b: `HEX(HMAC(k, k + nonce + timestamp + body))`, carried in the headers
/// `x-sign`, `x-timestamp`, `x-nonce` (joint-operation Kit interfaces).
pub const KOOSIGN_V2_KIT: koosign_v2_scheme = 2;

fn scheme_of(s: koosign_v2_scheme) -> Res<ks::V2Scheme> {
    match s {
        KOOSIGN_V2_BASIC => Ok(ks::V2Scheme::Query),
        KOOSIGN_V2_KIT => Ok(ks::V2Scheme::Headers),
        _ => Err(koosign_status::KOOSIGN_INVALID_ARGUMENT),
    }
}

/// Computes a V2 (S2) or kit (S2b) signature, the marketplace's side:
/// 64 upper-case hex digits (KOOSIGN_V2_SIGNATURE_LEN), not NUL-terminated.
///
/// - `scheme`: KOOSIGN_V2_BASIC or KOOSIGN_V2_KIT.
/// - `body`, `body_len`: the exact body bytes.
/// - `key`, `key_len`: the access key (UTF-8, not empty).
/// - `nonce`, `nonce_len`; `timestamp`, `timestamp_len`: the texts as sent
///   (timestamp = Unix milliseconds, 13 digits; neither is checked when
///   signing, so a test can produce what a verifier must refuse).
/// - `out`, `out_cap`: the caller's buffer; 64 bytes suffice.
/// - `out_len`: receives the bytes written; with KOOSIGN_BUFFER_TOO_SMALL,
///   the bytes needed (and `out` is untouched); 0 on other errors.
///
/// Returns KOOSIGN_OK, KOOSIGN_NULL_PARAMETER, KOOSIGN_INVALID_UTF8,
/// KOOSIGN_INVALID_ARGUMENT (scheme), KOOSIGN_NO_ACCESS_KEY,
/// KOOSIGN_BUFFER_TOO_SMALL, KOOSIGN_PANIC.
///
/// # Safety
/// Every input pointer is NULL (only with a zero length) or valid for its
/// length; `out` NULL (only with `out_cap` 0) or valid for `out_cap` bytes
/// of writes, not overlapping the inputs; `out_len` valid for a write.
#[no_mangle]
pub unsafe extern "C" fn koosign_sign_v2(
    scheme: koosign_v2_scheme,
    body: *const u8,
    body_len: usize,
    key: *const c_char,
    key_len: usize,
    nonce: *const c_char,
    nonce_len: usize,
    timestamp: *const c_char,
    timestamp_len: usize,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> koosign_status {
    boundary(|| {
        // SAFETY: the pointers meet this function's `# Safety` contract; the
        // conversions check NULL, lengths and UTF-8.
        let (out, body, key, nonce, ts) = unsafe {
            (
                OutBuf::new(out, out_cap, out_len)?,
                bytes(body, body_len)?,
                text(key, key_len)?,
                text(nonce, nonce_len)?,
                text(timestamp, timestamp_len)?,
            )
        };
        let scheme = scheme_of(scheme)?;
        out.write(ks::sign_v2(scheme, body, key, nonce, ts)?.as_bytes())
    })
}

/// Verifies a V2 (S2) or kit (S2b) notification. Order of checks: format
/// (timestamp, nonce, and for S2b the body's first byte), the signature
/// against every key (hex compared case-insensitively, in constant time),
/// freshness, then the nonce cache (only a verified request is recorded, so
/// forgeries cannot fill it; a refused one leaves it unchanged).
///
/// The signed string `key + nonce + timestamp + …` has no separator, so
/// SCHEMES.md S2 (decision) fixes both ends: a timestamp of exactly 13
/// digits without a leading zero (nonce `…170` + `1680508066618` and nonce
/// `…17` + `01680508066618` share a signature; the second is
/// KOOSIGN_BAD_TIMESTAMP before the cache is consulted), and a nonce of
/// printable ASCII; an S2b body may not start with a digit (it could trade
/// places with the timestamp's last one).
///
/// - `scheme`: KOOSIGN_V2_BASIC or KOOSIGN_V2_KIT.
/// - `signature`, `signature_len`: `signature` / `x-sign` as received (64
///   hex digits, either case; anything else is a mismatch).
/// - `timestamp`, `timestamp_len`: `timestamp` / `x-timestamp`, Unix
///   milliseconds: exactly 13 ASCII digits, the first not `0`.
/// - `nonce`, `nonce_len`: `nonce` / `x-nonce`, 1 to 256 printable ASCII
///   characters (0x21–0x7E, no space).
/// - `body`, `body_len`: the exact body bytes received (never re-serialised);
///   for KOOSIGN_V2_KIT, starting with `{` (and the nonce holds no `{`).
/// - `keys`, `keys_len`: the access keys to try, `keys_len` ≥ 1.
/// - `freshness`: required (NULL is KOOSIGN_NULL_PARAMETER):
///   |now_ms − timestamp| ≤ window_ms (Unix milliseconds; the guide
///   requires KOOSIGN_DEFAULT_WINDOW_MS, ±60 s). Left out only by name
///   (tests over captured traffic): koosign_freshness_unchecked(), or
///   `window_ms` = KOOSIGN_WINDOW_UNCHECKED.
/// - `replay`, `nonce_cache`: KOOSIGN_REPLAY_STORE with a cache (NULL is
///   KOOSIGN_NULL_PARAMETER), or KOOSIGN_REPLAY_UNCHECKED with NULL (no
///   replay check, by name); any other pairing, KOOSIGN_REPLAY_DEFERRED
///   included (use koosign_merchant_verify), is KOOSIGN_INVALID_ARGUMENT.
///   With a store the nonce is recorded until timestamp + window (window =
///   `freshness->window_ms`, or 60 000 with the window unchecked) and a
///   second use within that time is refused.
///   The same cache may also hold V1 tokens (koosign_verify_v1).
/// - `out_key_index`: NULL, or receives on success the index in `keys` of
///   the key that matched.
///
/// Returns KOOSIGN_OK, KOOSIGN_NULL_PARAMETER, KOOSIGN_INVALID_UTF8,
/// KOOSIGN_INVALID_ARGUMENT (scheme, `replay`), KOOSIGN_BAD_TIMESTAMP (not 13 digits,
/// or a leading zero), KOOSIGN_MISSING_PARAMETER (empty nonce),
/// KOOSIGN_INPUT_TOO_LARGE (nonce over 256 bytes),
/// KOOSIGN_MALFORMED_ENCODING (nonce not printable ASCII),
/// KOOSIGN_AMBIGUOUS (KOOSIGN_V2_KIT body not starting with `{`, or nonce holding `{`),
/// KOOSIGN_NO_ACCESS_KEY, KOOSIGN_SIGNATURE_MISMATCH,
/// KOOSIGN_STALE_TIMESTAMP, KOOSIGN_REPLAYED_NONCE,
/// KOOSIGN_NONCE_STORE_FULL, KOOSIGN_PANIC. resultCode: `000001` for all
/// but KOOSIGN_NONCE_STORE_FULL and the caller's mistakes (`000005`), see
/// koosign_status.
///
/// # Safety
/// Every input pointer is NULL (only with a zero length, or where said) or
/// valid for its length for the duration of the call; `freshness` NULL or
/// valid; `nonce_cache` NULL or a live cache from koosign_nonce_cache_new.
#[no_mangle]
pub unsafe extern "C" fn koosign_verify_v2(
    scheme: koosign_v2_scheme,
    signature: *const c_char,
    signature_len: usize,
    timestamp: *const c_char,
    timestamp_len: usize,
    nonce: *const c_char,
    nonce_len: usize,
    body: *const u8,
    body_len: usize,
    keys: *const koosign_str,
    keys_len: usize,
    freshness: *const koosign_freshness,
    replay: koosign_replay,
    nonce_cache: *mut koosign_nonce_cache,
    out_key_index: *mut usize,
) -> koosign_status {
    boundary(|| {
        // SAFETY: the pointers meet this function's `# Safety` contract; the
        // conversions check NULL, lengths and UTF-8.
        // `nonce_cache` is NULL or live (koosign_nonce_cache_new, not freed):
        // a shared reference, the cache's mutex serialises its mutation.
        let (signature, timestamp, nonce, body, keys, fresh, cache, index) = unsafe {
            (
                text(signature, signature_len)?,
                text(timestamp, timestamp_len)?,
                text(nonce, nonce_len)?,
                bytes(body, body_len)?,
                strs(keys, keys_len)?,
                freshness_of(freshness)?,
                nonce_cache.cast_const().as_ref(),
                IndexOut::new(out_key_index),
            )
        };
        let scheme = scheme_of(scheme)?;
        let auth = ks::V2Auth {
            signature,
            timestamp,
            nonce,
        };
        index.set(verify(scheme, &auth, body, &keys, fresh, replay, cache)?);
        Ok(())
    })
}

/// Verifies an S2 notification whose `signature`, `timestamp` and `nonce`
/// are still in the raw query string of the POST URL (first value of each;
/// form-decoded). Otherwise exactly koosign_verify_v2 with
/// KOOSIGN_V2_BASIC.
///
/// - `query`, `query_len`: the raw query string (with or without `?`).
/// - the rest: as koosign_verify_v2.
///
/// Returns the statuses of koosign_verify_v2, plus
/// KOOSIGN_MALFORMED_ENCODING (invalid percent escape) and
/// KOOSIGN_MISSING_PARAMETER (`signature`, `timestamp` or `nonce` absent).
///
/// # Safety
/// As koosign_verify_v2.
#[no_mangle]
pub unsafe extern "C" fn koosign_verify_v2_query(
    query: *const c_char,
    query_len: usize,
    body: *const u8,
    body_len: usize,
    keys: *const koosign_str,
    keys_len: usize,
    freshness: *const koosign_freshness,
    replay: koosign_replay,
    nonce_cache: *mut koosign_nonce_cache,
    out_key_index: *mut usize,
) -> koosign_status {
    boundary(|| {
        // SAFETY: the pointers meet this function's `# Safety` contract; the
        // conversions check NULL, lengths and UTF-8.
        // `nonce_cache`: as in koosign_verify_v2.
        let (query, body, keys, fresh, cache, index) = unsafe {
            (
                text(query, query_len)?,
                bytes(body, body_len)?,
                strs(keys, keys_len)?,
                freshness_of(freshness)?,
                nonce_cache.cast_const().as_ref(),
                IndexOut::new(out_key_index),
            )
        };
        let i = with_scratch(query.len(), |scratch| {
            let auth = ks::V2Auth::from_query(query, scratch)?;
            verify(
                ks::V2Scheme::Query,
                &auth,
                body,
                &keys,
                fresh,
                replay,
                cache,
            )
        })?;
        index.set(i);
        Ok(())
    })
}

fn verify(
    scheme: ks::V2Scheme,
    auth: &ks::V2Auth<'_>,
    body: &[u8],
    keys: &[&str],
    fresh: ks::Freshness,
    replay: koosign_replay,
    cache: Option<&koosign_nonce_cache>,
) -> Res<usize> {
    let mut store = store_of(replay, cache)?;
    let store = match store.as_mut() {
        Some(s) => ks::Replay::Store(s),
        None => ks::Replay::Unchecked,
    };
    Ok(ks::verify_v2(scheme, auth, body, keys, fresh, store)?.key_index())
}
