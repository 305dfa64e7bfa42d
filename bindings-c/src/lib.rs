//! C ABI for koosign (see bindings-c/README.md).
//!
//! This crate only translates: C pointers and lengths in, the core's
//! functions called, results copied into the caller's buffers, core errors
//! mapped to [`koosign_status`]. No scheme logic lives here.
//!
//! Conventions (modelled on rustls-ffi):
//! - every export is `koosign_*`, returns a [`koosign_status`] (or a static
//!   value) and runs inside a panic boundary ([`std::panic::catch_unwind`]);
//! - inputs are pointer + length; a NULL pointer is accepted only with
//!   length 0 (an empty input), otherwise `KOOSIGN_NULL_PARAMETER`;
//! - text inputs must be UTF-8 (`KOOSIGN_INVALID_UTF8`);
//! - outputs go into caller buffers with an out-length: a too-small buffer
//!   is left untouched and the needed length is written to the out-length;
//! - nothing allocated is handed to the caller except the opaque handles
//!   `koosign_merchant`, `koosign_verified` and `koosign_nonce_cache`,
//!   which the caller creates and frees;
//! - a status's resultCode is the core's (`koosign_result_code`, which
//!   calls `koosign::answer::result_code`; docs/ERRORS.md).
//!
//! Unsafe code: `ffi.rs` turns C pointers into Rust references and copies
//! into caller buffers, each block saying why it is sound under the
//! documented C contract; each export then has one `unsafe` block, at its
//! top, that converts all its pointer arguments at once (NULL, lengths and
//! UTF-8 checked), and works on safe values after it.
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(missing_docs)]
#![allow(non_camel_case_types)]

// Declaration order is the header's order (cbindgen sort_by = "None"):
// the schemes in SCHEMES.md order (one group each, so rustfmt keeps it).
mod ffi;
mod status;

// S1, S1b.
mod v1;

// S2, S2b and replay protection.
mod nonce;
mod v2;

// S3.
mod body;

// S4.
mod field;

// S5.
mod licence;

// S6.
mod apig;

// The keyed merchant context (every scheme behind one handle).
mod merchant;

pub use apig::*;
pub use body::*;
pub use ffi::{koosign_freshness, koosign_pair, koosign_str};
pub use field::*;
pub use licence::*;
pub use merchant::*;
pub use nonce::*;
pub use status::*;
pub use v1::*;
pub use v2::*;

/// Length of a V1 `authToken` (S1): 44 Base64 characters.
pub const KOOSIGN_AUTH_TOKEN_LEN: usize = 44;
/// Length of a `Body-Sign` header value (S3):
/// `sign_type="HMAC-SHA256", signature="<44 Base64>"`, 81 ASCII characters.
pub const KOOSIGN_BODY_SIGN_VALUE_LEN: usize = 81;
/// Length of the Base64 signature inside `Body-Sign` (S3): 44 characters.
pub const KOOSIGN_BODY_SIGNATURE_LEN: usize = 44;
/// Length of a V2 / kit signature (S2, S2b): 64 hex digits.
pub const KOOSIGN_V2_SIGNATURE_LEN: usize = 64;
/// Length of a licence signature (S5): 44 Base64 characters.
pub const KOOSIGN_LICENCE_SIGNATURE_LEN: usize = 44;
/// Length of an APIG signature (S6): 64 lower-case hex digits.
pub const KOOSIGN_APIG_SIGNATURE_LEN: usize = 64;
/// Length of a field IV (S4): 16 ASCII letters or digits.
pub const KOOSIGN_IV_LEN: usize = 16;
/// Longest encrypted `userName` / `password` wire string (S4), IV included:
/// 128 characters. A buffer of this size always holds koosign_encrypt_field's output.
pub const KOOSIGN_MAX_WIRE_LEN: usize = 128;
/// Longest plaintext koosign_encrypt_field accepts (S4): 79 bytes of UTF-8.
pub const KOOSIGN_MAX_PLAINTEXT_LEN: usize = 79;
/// Length of an AES-256 field key in bytes (`encryptType` "1").
pub const KOOSIGN_AES256_KEY_LEN: usize = 32;
/// Length of an AES-128 field key in bytes (`encryptType` "2").
pub const KOOSIGN_AES128_KEY_LEN: usize = 16;
/// The V2 freshness window the SaaS guide requires: 60 000 ms (±60 s).
pub const KOOSIGN_DEFAULT_WINDOW_MS: u64 = 60_000;
/// The V1 freshness window every endpoint applies by default (SCHEMES.md S1
/// item 8, decision): 300 000 ms (±5 min). Pass it in a koosign_freshness
/// to koosign_verify_v1 / koosign_verify_v1_json; no window is checked
/// only by name (koosign_freshness_unchecked()), never by default.
pub const KOOSIGN_V1_DEFAULT_WINDOW_MS: u64 = 300_000;
/// The X-Sdk-Date window of koosign_verify_apig by default (SCHEMES.md S6,
/// the gateway's observed tolerance): 900 000 ms (±15 min).
pub const KOOSIGN_APIG_DEFAULT_WINDOW_MS: u64 = 900_000;
/// The largest notification body an endpoint reads, in bytes (1 MiB,
/// SCHEMES.md §Answers, decision): refuse a larger one unread, answering
/// `000002`, as `koosign serve` does.
pub const KOOSIGN_MAX_NOTIFICATION_BODY: usize = 1_048_576;
/// Longest V2 nonce accepted, in bytes.
pub const KOOSIGN_MAX_NONCE_LEN: usize = 256;
/// Most parameters a V1 query (or S1b body) may carry.
pub const KOOSIGN_MAX_PARAMS: usize = 64;
/// Most query pairs of an APIG request.
pub const KOOSIGN_APIG_MAX_QUERY: usize = 64;
/// Most headers of an APIG request.
pub const KOOSIGN_APIG_MAX_HEADERS: usize = 32;
/// Most headers koosign_sign_apig asks the caller to add
/// (X-Sdk-Date, X-Sdk-Content-Sha256, Host, Authorization).
pub const KOOSIGN_APIG_MAX_ADDED_HEADERS: usize = 4;

// The literals above are what cbindgen can read; these checks keep them
// equal to the core's constants.
const _: () = {
    assert!(KOOSIGN_BODY_SIGN_VALUE_LEN == ks::BODY_SIGN_VALUE_LEN);
    assert!(KOOSIGN_IV_LEN == ks::field::IV_LEN);
    assert!(KOOSIGN_MAX_WIRE_LEN == ks::field::MAX_WIRE_LEN);
    assert!(KOOSIGN_MAX_PLAINTEXT_LEN == ks::field::MAX_PLAINTEXT_LEN);
    assert!(KOOSIGN_DEFAULT_WINDOW_MS == ks::DEFAULT_WINDOW_MS);
    assert!(KOOSIGN_V1_DEFAULT_WINDOW_MS == ks::V1_DEFAULT_WINDOW_MS);
    assert!(KOOSIGN_APIG_DEFAULT_WINDOW_MS == ks::APIG_DEFAULT_WINDOW_MS);
    assert!(KOOSIGN_MAX_NONCE_LEN == ks::v2::MAX_NONCE_LEN);
    assert!(KOOSIGN_MAX_NOTIFICATION_BODY == ks::MAX_NOTIFICATION_BODY);
    assert!(KOOSIGN_MAX_PARAMS == ks::form::MAX_PARAMS);
    assert!(KOOSIGN_APIG_MAX_QUERY == ks::apig::MAX_QUERY);
    assert!(KOOSIGN_APIG_MAX_HEADERS == ks::apig::MAX_HEADERS);
};

/// The library version, e.g. `"0.1.0"`: a static NUL-terminated string,
/// never NULL, never to be freed.
#[no_mangle]
pub extern "C" fn koosign_version() -> *const core::ffi::c_char {
    const V: &core::ffi::CStr = match core::ffi::CStr::from_bytes_with_nul(
        concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes(),
    ) {
        Ok(v) => v,
        Err(_) => panic!("version contains a NUL"),
    };
    // Inside the boundary like every export, though nothing here can panic.
    std::panic::catch_unwind(|| V.as_ptr()).unwrap_or(c"".as_ptr())
}
