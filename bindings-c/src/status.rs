//! Status codes: one per `koosign::Error` variant plus the C layer's own.

use crate::ffi::boundary;
use core::ffi::c_char;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// What every fallible koosign_* function returns. `KOOSIGN_OK` is 0;
/// codes 1–14 are the core's errors (same meaning as `koosign::Error`;
/// KOOSIGN_AMBIGUOUS, 13, and KOOSIGN_STORE_UNAVAILABLE, 14, were added
/// later and are declared last); codes
/// from 100 are the C layer's own. Values are stable.
///
/// The `resultCode` a merchant endpoint answers for a status is the core's
/// table, not restated here: koosign_result_code(status, authenticated)
/// (`koosign::answer::result_code`; the list is docs/ERRORS.md), or
/// koosign_verified_result_code after koosign_merchant_verify, which knows
/// the stage.
///
/// Every answer, refusals included, is HTTP 200 with a JSON body and a
/// `Body-Sign` header over the exact bytes sent (koosign_body_sign).
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum koosign_status {
    /// Success.
    KOOSIGN_OK = 0,
    /// A required parameter, header or field is absent (e.g. no `timeStamp`
    /// in a V1 query, an empty V2 nonce, no X-Sdk-Date to sign with).
    KOOSIGN_MISSING_PARAMETER = 1,
    /// Input is not well formed: an invalid percent escape, a decoded query
    /// that is not UTF-8, a malformed header value, an IV that is not 16
    /// ASCII letters or digits.
    KOOSIGN_MALFORMED_ENCODING = 2,
    /// A timestamp is not in its documented format (V1 `timeStamp`: 17 digits
    /// `yyyyMMddHHmmssSSS`; V2 / licence: Unix milliseconds, digits only;
    /// APIG: `yyyyMMddTHHmmssZ`).
    KOOSIGN_BAD_TIMESTAMP = 3,
    /// A timestamp is outside the freshness window around the caller's clock.
    KOOSIGN_STALE_TIMESTAMP = 4,
    /// The nonce was already seen within its lifetime (replay).
    KOOSIGN_REPLAYED_NONCE = 5,
    /// The nonce cache is full of unexpired nonces; the request is refused
    /// rather than forgetting one (fail closed).
    KOOSIGN_NONCE_STORE_FULL = 6,
    /// An output buffer is too small: nothing was written, and the function's
    /// out-length holds the number of bytes needed.
    KOOSIGN_BUFFER_TOO_SMALL = 7,
    /// An input exceeds a documented limit (plaintext over 79 bytes, more
    /// than 64 parameters, a nonce over 256 bytes, a length over SIZE_MAX/2).
    KOOSIGN_INPUT_TOO_LARGE = 8,
    /// No access key was given to a verifier, or an empty one (or an empty
    /// AK / SK for APIG).
    KOOSIGN_NO_ACCESS_KEY = 9,
    /// The signature, token or MAC does not match any of the access keys.
    KOOSIGN_SIGNATURE_MISMATCH = 10,
    /// A field could not be decrypted (any cause: bad Base64, bad padding,
    /// wrong key, not UTF-8).
    KOOSIGN_DECRYPT = 11,
    /// The operating system's random source failed (koosign_encrypt_field).
    KOOSIGN_RANDOM_SOURCE = 12,
    /// A pointer argument is NULL where it may not be (an input pointer with
    /// a non-zero length, an out-length, an output buffer with a non-zero
    /// capacity, a required struct).
    KOOSIGN_NULL_PARAMETER = 100,
    /// A text input (key, query, nonce, plaintext, header…) is not UTF-8.
    KOOSIGN_INVALID_UTF8 = 101,
    /// An enumerated argument has a value outside its documented set
    /// (scheme, encrypt type, decrypt mode, nonce cache capacity).
    KOOSIGN_INVALID_ARGUMENT = 102,
    /// A panic was caught at the boundary (a bug in koosign: please report).
    /// Output buffers may have been partly written.
    KOOSIGN_PANIC = 103,
    /// The core reported an error this version of the C layer does not
    /// know. Not returned by this version (the core and the binding are
    /// built together); reserved so a newer core cannot be mis-reported.
    KOOSIGN_UNKNOWN_ERROR = 199,
    /// The signed bytes could be read as more than one request (SCHEMES.md
    /// ambiguity decisions: a decoded `&` or `=` that would move an S1/S1b
    /// parameter boundary, an S2b body not starting with `{` or nonce holding `{`, a `&` in an
    /// S5 nonce, a repeated S6 signed header or Authorization). Refused
    /// before authentication: answer `000001`. A core error (value 13),
    /// declared after the C layer's codes because it was added later.
    KOOSIGN_AMBIGUOUS = 13,
    /// A replay store could not be reached (a database or cache that is
    /// down): refused rather than accepted unchecked (fail closed). The
    /// merchant's side: answer `000005`. A core error (value 14), declared
    /// last because it was added later.
    KOOSIGN_STORE_UNAVAILABLE = 14,
}

impl From<ks::Error> for koosign_status {
    fn from(e: ks::Error) -> Self {
        use koosign_status::*;
        match e {
            ks::Error::MissingParameter(_) => KOOSIGN_MISSING_PARAMETER,
            ks::Error::MalformedEncoding(_) => KOOSIGN_MALFORMED_ENCODING,
            ks::Error::BadTimestamp => KOOSIGN_BAD_TIMESTAMP,
            ks::Error::StaleTimestamp => KOOSIGN_STALE_TIMESTAMP,
            ks::Error::ReplayedNonce => KOOSIGN_REPLAYED_NONCE,
            ks::Error::NonceStoreFull => KOOSIGN_NONCE_STORE_FULL,
            ks::Error::BufferTooSmall { .. } => KOOSIGN_BUFFER_TOO_SMALL,
            ks::Error::InputTooLarge { .. } => KOOSIGN_INPUT_TOO_LARGE,
            ks::Error::NoAccessKey => KOOSIGN_NO_ACCESS_KEY,
            ks::Error::SignatureMismatch => KOOSIGN_SIGNATURE_MISMATCH,
            ks::Error::Decrypt => KOOSIGN_DECRYPT,
            ks::Error::RandomSource => KOOSIGN_RANDOM_SOURCE,
            ks::Error::Ambiguous(_) => KOOSIGN_AMBIGUOUS,
            ks::Error::StoreUnavailable => KOOSIGN_STORE_UNAVAILABLE,
            _ => KOOSIGN_UNKNOWN_ERROR,
        }
    }
}

const ALL: [koosign_status; 20] = {
    use koosign_status::*;
    [
        KOOSIGN_OK,
        KOOSIGN_MISSING_PARAMETER,
        KOOSIGN_MALFORMED_ENCODING,
        KOOSIGN_BAD_TIMESTAMP,
        KOOSIGN_STALE_TIMESTAMP,
        KOOSIGN_REPLAYED_NONCE,
        KOOSIGN_NONCE_STORE_FULL,
        KOOSIGN_BUFFER_TOO_SMALL,
        KOOSIGN_INPUT_TOO_LARGE,
        KOOSIGN_NO_ACCESS_KEY,
        KOOSIGN_SIGNATURE_MISMATCH,
        KOOSIGN_DECRYPT,
        KOOSIGN_RANDOM_SOURCE,
        KOOSIGN_NULL_PARAMETER,
        KOOSIGN_INVALID_UTF8,
        KOOSIGN_INVALID_ARGUMENT,
        KOOSIGN_PANIC,
        KOOSIGN_UNKNOWN_ERROR,
        KOOSIGN_AMBIGUOUS,
        KOOSIGN_STORE_UNAVAILABLE,
    ]
};

impl koosign_status {
    fn from_u32(code: u32) -> Option<Self> {
        ALL.iter().copied().find(|s| *s as u32 == code)
    }

    fn message(self) -> &'static core::ffi::CStr {
        use koosign_status::*;
        match self {
            KOOSIGN_OK => c"success",
            KOOSIGN_MISSING_PARAMETER => c"a required parameter, header or field is missing",
            KOOSIGN_MALFORMED_ENCODING => {
                c"malformed input (percent escape, UTF-8 after decoding, header value or IV)"
            }
            KOOSIGN_BAD_TIMESTAMP => c"timestamp is not in the documented format",
            KOOSIGN_STALE_TIMESTAMP => c"timestamp is outside the accepted window",
            KOOSIGN_REPLAYED_NONCE => c"nonce was already used (replay)",
            KOOSIGN_NONCE_STORE_FULL => c"nonce store is full of unexpired nonces",
            KOOSIGN_BUFFER_TOO_SMALL => {
                c"output buffer too small (the out-length holds the size needed)"
            }
            KOOSIGN_INPUT_TOO_LARGE => c"input exceeds a documented limit",
            KOOSIGN_NO_ACCESS_KEY => c"no access key given (or an empty one)",
            KOOSIGN_SIGNATURE_MISMATCH => c"signature does not match",
            KOOSIGN_DECRYPT => c"field could not be decrypted",
            KOOSIGN_RANDOM_SOURCE => c"the random source failed",
            KOOSIGN_NULL_PARAMETER => c"a required pointer argument is NULL",
            KOOSIGN_INVALID_UTF8 => c"a text argument is not valid UTF-8",
            KOOSIGN_INVALID_ARGUMENT => c"an argument is outside its documented set of values",
            KOOSIGN_PANIC => c"internal panic caught at the C boundary (a bug in koosign)",
            KOOSIGN_UNKNOWN_ERROR => c"unknown error from the core",
            KOOSIGN_AMBIGUOUS => c"ambiguous request refused (it could be read as more than one request)",
            KOOSIGN_STORE_UNAVAILABLE => c"the replay store is unavailable",
        }
    }

    fn name(self) -> &'static core::ffi::CStr {
        use koosign_status::*;
        match self {
            KOOSIGN_OK => c"KOOSIGN_OK",
            KOOSIGN_MISSING_PARAMETER => c"KOOSIGN_MISSING_PARAMETER",
            KOOSIGN_MALFORMED_ENCODING => c"KOOSIGN_MALFORMED_ENCODING",
            KOOSIGN_BAD_TIMESTAMP => c"KOOSIGN_BAD_TIMESTAMP",
            KOOSIGN_STALE_TIMESTAMP => c"KOOSIGN_STALE_TIMESTAMP",
            KOOSIGN_REPLAYED_NONCE => c"KOOSIGN_REPLAYED_NONCE",
            KOOSIGN_NONCE_STORE_FULL => c"KOOSIGN_NONCE_STORE_FULL",
            KOOSIGN_BUFFER_TOO_SMALL => c"KOOSIGN_BUFFER_TOO_SMALL",
            KOOSIGN_INPUT_TOO_LARGE => c"KOOSIGN_INPUT_TOO_LARGE",
            KOOSIGN_NO_ACCESS_KEY => c"KOOSIGN_NO_ACCESS_KEY",
            KOOSIGN_SIGNATURE_MISMATCH => c"KOOSIGN_SIGNATURE_MISMATCH",
            KOOSIGN_DECRYPT => c"KOOSIGN_DECRYPT",
            KOOSIGN_RANDOM_SOURCE => c"KOOSIGN_RANDOM_SOURCE",
            KOOSIGN_NULL_PARAMETER => c"KOOSIGN_NULL_PARAMETER",
            KOOSIGN_INVALID_UTF8 => c"KOOSIGN_INVALID_UTF8",
            KOOSIGN_INVALID_ARGUMENT => c"KOOSIGN_INVALID_ARGUMENT",
            KOOSIGN_PANIC => c"KOOSIGN_PANIC",
            KOOSIGN_UNKNOWN_ERROR => c"KOOSIGN_UNKNOWN_ERROR",
            KOOSIGN_AMBIGUOUS => c"KOOSIGN_AMBIGUOUS",
            KOOSIGN_STORE_UNAVAILABLE => c"KOOSIGN_STORE_UNAVAILABLE",
        }
    }
}

/// A static, NUL-terminated English description of `status` (a
/// koosign_status value). Never NULL, never to be freed; an unknown value
/// gives `"unknown status"`. It never contains key material or input.
#[no_mangle]
pub extern "C" fn koosign_status_message(status: u32) -> *const c_char {
    let r = catch_unwind(AssertUnwindSafe(|| {
        koosign_status::from_u32(status).map_or(c"unknown status", |s| s.message())
    }));
    r.unwrap_or(c"unknown status").as_ptr()
}

/// The enumerator's name of `status`, e.g. `"KOOSIGN_SIGNATURE_MISMATCH"`:
/// static, NUL-terminated, never NULL, never to be freed; an unknown value
/// gives `"KOOSIGN_UNKNOWN_STATUS"`. For logs.
#[no_mangle]
pub extern "C" fn koosign_status_name(status: u32) -> *const c_char {
    let r = catch_unwind(AssertUnwindSafe(|| {
        koosign_status::from_u32(status).map_or(c"KOOSIGN_UNKNOWN_STATUS", |s| s.name())
    }));
    r.unwrap_or(c"KOOSIGN_UNKNOWN_STATUS").as_ptr()
}

/// Panics on purpose inside the panic boundary and returns what the
/// boundary made of it: `KOOSIGN_PANIC` in this library as built (with
/// unwinding, Rust's default). A build with `panic = "abort"` would abort
/// the process here instead, and every real panic would too: call this
/// from a test of your build to check that the boundary works. It has no
/// other effect than the panic message Rust's default hook prints on
/// standard error.
///
/// Returns: KOOSIGN_PANIC.
#[no_mangle]
pub extern "C" fn koosign_panic_boundary_check() -> koosign_status {
    boundary(|| {
        // A panic the optimiser cannot remove.
        let v: Vec<u8> = Vec::new();
        let i = std::hint::black_box(1usize);
        let _ = v[i];
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_match_core_codes() {
        use ks::Error as E;
        for e in E::ALL {
            let s = koosign_status::from(e);
            assert_eq!(s.name().to_str().unwrap(), format!("KOOSIGN_{}", e.code()));
            assert!((1..=14).contains(&(s as u32)));
        }
        for s in ALL {
            assert_eq!(koosign_status::from_u32(s as u32), Some(s));
        }
    }
}
