//! S1 / S1b — V1 notifications (`authToken`).

use crate::ffi::{
    boundary, bytes, freshness_of, pairs, produce, strs, text, with_scratch, IndexOut, OutBuf,
};
use crate::ffi::{koosign_freshness, koosign_pair, koosign_str};
use crate::merchant::koosign_replay;
use crate::nonce::{koosign_nonce_cache, store_of};
use crate::status::koosign_status;
use core::ffi::c_char;

/// Verifies a V1 notification's query string (SCHEMES.md S1): form-decodes
/// it, drops `authToken`, sorts, and checks `authToken` =
/// b64(HMAC(access_key + timeStamp, canonical)) in constant time against
/// each access key (a space in the token is read as `+`). Order: parsing,
/// the ambiguity refusal, the token, the window, the replay store.
///
/// Ambiguity (S1 item 10, decision): the canonical string joins decoded
/// names and values with `&` and `=` undelimited, so
/// `orderLineId=L1%26testFlag%3D1` would carry the token of
/// `orderLineId=L1&testFlag=1`. A decoded name containing `&` or `=`, or a
/// decoded value containing `&` followed later by `=`, is refused as
/// KOOSIGN_AMBIGUOUS before the token is checked (`a+b c&d` and `a=b&c`
/// stay valid).
///
/// - `query`, `query_len`: the raw query string, bytes, with or without a
///   leading `?` (not a whole URL). UTF-8.
/// - `keys`, `keys_len`: the access keys to try (several during a key
///   rotation), `keys_len` ≥ 1.
/// - `freshness`: required (NULL is KOOSIGN_NULL_PARAMETER):
///   |now_ms − timeStamp| ≤ window_ms (both Unix milliseconds); an endpoint
///   passes {now, KOOSIGN_V1_DEFAULT_WINDOW_MS}. The window is left out
///   only by name: koosign_freshness_unchecked(), or `window_ms` =
///   KOOSIGN_WINDOW_UNCHECKED (the V1 guide documents none).
/// - `replay`, `nonce_cache`: KOOSIGN_REPLAY_STORE with a cache (NULL is
///   KOOSIGN_NULL_PARAMETER), or KOOSIGN_REPLAY_UNCHECKED with NULL (no
///   replay check, by name); any other pairing, KOOSIGN_REPLAY_DEFERRED
///   included (a one-shot returns no replay key: use
///   koosign_merchant_verify), is KOOSIGN_INVALID_ARGUMENT. With a store the received
///   `authToken` (after the space-as-plus repair) is recorded as the
///   replay nonce (S1 item 8, decision) once the token and the window
///   have passed, until timeStamp + window (`freshness->window_ms`, or
///   KOOSIGN_V1_DEFAULT_WINDOW_MS with the window unchecked), and the same token
///   again is KOOSIGN_REPLAYED_NONCE — also with its `+` sent raw or as
///   `%2B`, or the parameters reordered. A refused request leaves the
///   cache unchanged. The cache may be the one given to
///   koosign_verify_v2. With the window unchecked the core has no clock
///   and uses the request's own timeStamp as "now": check both.
/// - `out_key_index`: NULL, or receives on success the index in `keys` of
///   the key that matched.
///
/// Returns KOOSIGN_OK, KOOSIGN_NULL_PARAMETER, KOOSIGN_INVALID_UTF8,
/// KOOSIGN_MALFORMED_ENCODING (invalid percent escape, decoded text not
/// UTF-8), KOOSIGN_INPUT_TOO_LARGE (more than 64 parameters),
/// KOOSIGN_MISSING_PARAMETER (no `authToken` or `timeStamp`),
/// KOOSIGN_AMBIGUOUS (the S1 item 10 rule),
/// KOOSIGN_BAD_TIMESTAMP (`timeStamp` not `yyyyMMddHHmmssSSS`),
/// KOOSIGN_NO_ACCESS_KEY (no key, or an empty one),
/// KOOSIGN_SIGNATURE_MISMATCH, KOOSIGN_STALE_TIMESTAMP,
/// KOOSIGN_REPLAYED_NONCE, KOOSIGN_NONCE_STORE_FULL, KOOSIGN_PANIC.
/// resultCode: `000001` for all but KOOSIGN_NONCE_STORE_FULL and the
/// caller's mistakes (`000005`), see koosign_status.
///
/// # Safety
/// Every pointer is NULL (allowed only with a zero length, or where said)
/// or valid for its length for the duration of the call; `freshness` NULL
/// or valid; `nonce_cache` NULL or a live cache from
/// koosign_nonce_cache_new.
#[no_mangle]
pub unsafe extern "C" fn koosign_verify_v1(
    query: *const c_char,
    query_len: usize,
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
        let (query, keys, fresh, cache, index) = unsafe {
            (
                text(query, query_len)?,
                strs(keys, keys_len)?,
                freshness_of(freshness)?,
                nonce_cache.cast_const().as_ref(),
                IndexOut::new(out_key_index),
            )
        };
        let mut store = store_of(replay, cache)?;
        let i = with_scratch(query.len(), |scratch| {
            let store = match store.as_mut() {
                Some(s) => ks::Replay::Store(s),
                None => ks::Replay::Unchecked,
            };
            ks::verify_v1_query(query, &keys, fresh, store, scratch).map(|v| v.key_index())
        })?;
        index.set(i);
        Ok(())
    })
}

/// S1b: verifies an older licence "Kit" POST, whose `authToken` arrives as
/// a header and whose parameters are the members of the JSON body
/// (`timeStamp` read from the body). Same formula, ambiguity rule, window
/// and replay store as S1.
///
/// The body must be a flat JSON object whose members are all strings, each
/// name once (SCHEMES.md S1b, decision): otherwise bytes outside the
/// signed set would reach an application that parses the body itself.
/// Members with a blank value (empty or whitespace) are left out of the
/// canonical string, as the spec says, and tolerated.
///
/// - `auth_token`, `auth_token_len`: the `authToken` header value (UTF-8).
/// - `body`, `body_len`: the exact body bytes received.
/// - `keys`, `keys_len`, `freshness`, `replay`, `nonce_cache`, `out_key_index`: as
///   koosign_verify_v1.
///
/// Returns the statuses of koosign_verify_v1, and
/// KOOSIGN_MALFORMED_ENCODING for a body that is not strict JSON, not an
/// object, has a member that is a number, boolean, null, object or array,
/// or a name given twice; KOOSIGN_AMBIGUOUS for a member named `authToken`
/// (it would sit outside the signed set) and for the S1 item 10 rule;
/// KOOSIGN_INPUT_TOO_LARGE for more than 63 members. All are found before
/// the token is checked: resultCode `000001`.
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
    replay: koosign_replay,
    nonce_cache: *mut koosign_nonce_cache,
    out_key_index: *mut usize,
) -> koosign_status {
    boundary(|| {
        // SAFETY: the pointers meet this function's `# Safety` contract; the
        // conversions check NULL, lengths and UTF-8.
        // `nonce_cache`: as in koosign_verify_v1.
        let (token, body, keys, fresh, cache, index) = unsafe {
            (
                text(auth_token, auth_token_len)?,
                bytes(body, body_len)?,
                strs(keys, keys_len)?,
                freshness_of(freshness)?,
                nonce_cache.cast_const().as_ref(),
                IndexOut::new(out_key_index),
            )
        };
        let mut store = store_of(replay, cache)?;
        let scratch_len = body.len().saturating_add(token.len()).saturating_add(9);
        let i = with_scratch(scratch_len, |scratch| {
            let store = match store.as_mut() {
                Some(s) => ks::Replay::Store(s),
                None => ks::Replay::Unchecked,
            };
            ks::verify_v1_json(token, body, &keys, fresh, store, scratch).map(|v| v.key_index())
        })?;
        index.set(i);
        Ok(())
    })
}

/// The S1 canonical string of a V1 query (for debugging a mismatch):
/// `name=value` pairs, decoded, `authToken` dropped, first of a repeated
/// name kept, sorted by name, joined with `&`. An ambiguous query (S1
/// item 10, see koosign_verify_v1) has no canonical string:
/// KOOSIGN_AMBIGUOUS.
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
/// KOOSIGN_MISSING_PARAMETER, KOOSIGN_AMBIGUOUS, KOOSIGN_BUFFER_TOO_SMALL,
/// KOOSIGN_PANIC.
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
/// (KOOSIGN_AUTH_TOKEN_LEN), not NUL-terminated. The signing side does not
/// apply the ambiguity refusal (a test can compute the token an ambiguous
/// query carries; koosign_verify_v1 refuses it).
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
/// (`yyyyMMddHHmmssSSS`); an `authToken` among them is ignored. Values the
/// verifier refuses as ambiguous (S1 item 10) are not refused here.
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
