//! The one error type of koosign.

use core::fmt;

/// Everything that can go wrong in koosign.
///
/// Format and time problems are distinct variants; a failed cryptographic
/// check is always [`Error::SignatureMismatch`], and every failure to decrypt
/// a field (bad Base64, bad padding, not UTF-8, wrong key) is
/// [`Error::Decrypt`], so that no oracle distinguishes them. No variant
/// carries key material or the received signature.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
#[non_exhaustive]
pub enum Error {
    /// A required parameter, header or field is absent (its name is given).
    MissingParameter(&'static str),
    /// Input is not well formed: an invalid percent escape, invalid UTF-8,
    /// a malformed header value. The text says which.
    MalformedEncoding(&'static str),
    /// A timestamp is not in its documented format (V1: 17 digits
    /// `yyyyMMddHHmmssSSS`; V2: Unix milliseconds, 13 digits).
    BadTimestamp,
    /// A timestamp is outside the accepted window around the caller's clock.
    StaleTimestamp,
    /// The nonce was already seen within its lifetime.
    ReplayedNonce,
    /// The nonce store is full of unexpired nonces; the request is refused
    /// rather than forgetting one (fail closed).
    NonceStoreFull,
    /// An output buffer is too small; `needed` bytes would suffice.
    BufferTooSmall {
        /// Bytes needed.
        needed: usize,
    },
    /// An input exceeds a documented limit (`limit` is the limit in bytes,
    /// characters or parameters, as the operation documents).
    InputTooLarge {
        /// The limit that was exceeded.
        limit: usize,
    },
    /// No access key was given to a verifier, or an empty one.
    NoAccessKey,
    /// The signature, token or MAC did not match any of the access keys.
    SignatureMismatch,
    /// A field could not be decrypted (any cause).
    Decrypt,
    /// The random source given for an IV failed.
    RandomSource,
    /// The signed bytes could be read as more than one request (the
    /// ambiguity decisions of docs/SCHEMES.md: §S1 item 10 and §S1b, a
    /// decoded `&` or `=` that would move a parameter boundary; §S2b, a
    /// digit that could move between `x-timestamp` and body; §S5, a `&` in
    /// the nonce; §S6, a repeated signed header). Refused before
    /// authentication; the text says which rule.
    Ambiguous(&'static str),
    /// A replay store could not be reached (a database or cache that is
    /// down): the request is refused rather than accepted unchecked (fail
    /// closed). A merchant-side failure: answered `000005`
    /// (docs/SCHEMES.md §Answers).
    StoreUnavailable,
}

impl Error {
    /// Every variant once, in declaration order (placeholder payloads):
    /// the one list that docs/ERRORS.md and the bindings' tables are
    /// checked against.
    pub const ALL: [Error; 14] = [
        Error::MissingParameter(""),
        Error::MalformedEncoding(""),
        Error::BadTimestamp,
        Error::StaleTimestamp,
        Error::ReplayedNonce,
        Error::NonceStoreFull,
        Error::BufferTooSmall { needed: 0 },
        Error::InputTooLarge { limit: 0 },
        Error::NoAccessKey,
        Error::SignatureMismatch,
        Error::Decrypt,
        Error::RandomSource,
        Error::Ambiguous(""),
        Error::StoreUnavailable,
    ];

    /// A stable, machine-readable name for the variant, e.g. `SIGNATURE_MISMATCH`.
    pub const fn code(&self) -> &'static str {
        match self {
            Error::MissingParameter(_) => "MISSING_PARAMETER",
            Error::MalformedEncoding(_) => "MALFORMED_ENCODING",
            Error::BadTimestamp => "BAD_TIMESTAMP",
            Error::StaleTimestamp => "STALE_TIMESTAMP",
            Error::ReplayedNonce => "REPLAYED_NONCE",
            Error::NonceStoreFull => "NONCE_STORE_FULL",
            Error::BufferTooSmall { .. } => "BUFFER_TOO_SMALL",
            Error::InputTooLarge { .. } => "INPUT_TOO_LARGE",
            Error::NoAccessKey => "NO_ACCESS_KEY",
            Error::SignatureMismatch => "SIGNATURE_MISMATCH",
            Error::Decrypt => "DECRYPT",
            Error::RandomSource => "RANDOM_SOURCE",
            Error::Ambiguous(_) => "AMBIGUOUS",
            Error::StoreUnavailable => "STORE_UNAVAILABLE",
        }
    }

    /// True for errors caused by the request's format (as opposed to its
    /// authenticity or freshness). This does not decide the `resultCode`:
    /// returned by a verifier, before authentication, a format error answers
    /// `000001`; met on a verified request's content it answers `000002`
    /// (docs/SCHEMES.md §Answers).
    pub const fn is_format_error(&self) -> bool {
        matches!(
            self,
            Error::MissingParameter(_) | Error::MalformedEncoding(_) | Error::InputTooLarge { .. }
        )
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::MissingParameter(name) => write!(f, "missing parameter `{name}`"),
            Error::MalformedEncoding(what) => write!(f, "malformed input: {what}"),
            Error::BadTimestamp => f.write_str("timestamp is not in the documented format"),
            Error::StaleTimestamp => f.write_str("timestamp is outside the accepted window"),
            Error::ReplayedNonce => f.write_str("nonce was already used (replay)"),
            Error::NonceStoreFull => f.write_str("nonce store is full of unexpired nonces"),
            Error::BufferTooSmall { needed } => {
                write!(f, "output buffer too small: {needed} bytes needed")
            }
            Error::InputTooLarge { limit } => write!(f, "input exceeds the limit of {limit}"),
            Error::NoAccessKey => f.write_str("no access key given (or an empty one)"),
            Error::SignatureMismatch => f.write_str("signature does not match"),
            Error::Decrypt => f.write_str("field could not be decrypted"),
            Error::RandomSource => f.write_str("the random source failed"),
            Error::Ambiguous(what) => write!(f, "ambiguous request refused: {what}"),
            Error::StoreUnavailable => f.write_str("the replay store is unavailable"),
        }
    }
}

#[cfg(feature = "std")]
extern crate std;

#[cfg(feature = "std")]
impl std::error::Error for Error {}

/// Result alias.
pub type Result<T> = core::result::Result<T, Error>;
