//! What a merchant endpoint answers (docs/SCHEMES.md §Answers): the result
//! codes, the one table that gives a refusal its code, and the complete
//! signed refusal (JSON bytes plus the S3 `Body-Sign` value).
//!
//! ```
//! use koosign::answer::{refusal, result_code, ResultCode, Stage, REFUSAL_MAX_LEN};
//! use koosign::Error;
//!
//! let code = result_code(&Error::SignatureMismatch, Stage::BeforeAuthentication);
//! assert_eq!(code, ResultCode::Unauthenticated);
//! let mut out = [0u8; REFUSAL_MAX_LEN];
//! let answer = refusal(code, "testAccessKey123", &mut out)?;
//! assert_eq!(answer.body(), r#"{"resultCode":"000001","resultMsg":"authentication failed"}"#);
//! assert!(answer.body_sign().starts_with("sign_type=\"HMAC-SHA256\", signature="));
//! # Ok::<(), koosign::Error>(())
//! ```

use crate::body_sign::{body_sign, BODY_SIGN_VALUE_LEN};
use crate::encoding::FixedText;
use crate::error::{Error, Result};

pub use crate::notification::MAX_NOTIFICATION_BODY;

/// A marketplace `resultCode` that koosign answers (docs/SCHEMES.md
/// §Answers). `000004` (in progress) and the business refusals
/// `000100`–`000107` are the merchant's own to send.
#[non_exhaustive]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ResultCode {
    /// `000000`: success.
    Success,
    /// `000001`: authentication failed (anything wrong before the request
    /// is authenticated).
    Unauthenticated,
    /// `000002`: bad parameters (an authenticated request whose body or
    /// parameters are unusable).
    BadRequest,
    /// `000003`: the instance is unknown.
    UnknownInstance,
    /// `000005`: the merchant's side failed.
    MerchantFailure,
}

impl ResultCode {
    /// Every code, in wire order.
    pub const ALL: [Self; 5] =
        [Self::Success, Self::Unauthenticated, Self::BadRequest, Self::UnknownInstance, Self::MerchantFailure];

    /// The six-digit wire text, e.g. `"000001"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Success => "000000",
            Self::Unauthenticated => "000001",
            Self::BadRequest => "000002",
            Self::UnknownInstance => "000003",
            Self::MerchantFailure => "000005",
        }
    }

    /// The fixed `resultMsg` koosign sends with the code. It carries no
    /// detail of the refusal (no oracle, no secret; the reason belongs in
    /// the merchant's log, via [`Error::code`]).
    pub const fn message(self) -> &'static str {
        match self {
            Self::Success => "success.",
            Self::Unauthenticated => "authentication failed",
            Self::BadRequest => "bad parameters",
            Self::UnknownInstance => "instance not found",
            Self::MerchantFailure => "internal error",
        }
    }

    /// Reads a wire code. Errors: `MalformedEncoding` for anything but one
    /// of the five codes of [`ResultCode::ALL`] (exact text: no spaces, no
    /// other digits).
    pub fn parse(s: &str) -> Result<Self> {
        Self::ALL
            .iter()
            .copied()
            .find(|c| c.as_str() == s)
            .ok_or(Error::MalformedEncoding("resultCode is not one of 000000, 000001, 000002, 000003, 000005"))
    }
}

/// When a problem was found: what decides the code (docs/SCHEMES.md
/// §Answers, "What decides is *when* the problem is found").
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Stage {
    /// While verifying: the signature, token, timestamp or nonce (and an
    /// S1b body, read before its token is checked).
    BeforeAuthentication,
    /// On a verified request's content: parsing the notification, its
    /// activity and fields, decrypting an inbound field.
    Authenticated,
}

/// The `resultCode` a refusal gets: docs/SCHEMES.md §Answers, "Which code a
/// refusal gets", the one table of every language and endpoint.
///
/// * The merchant's own failures answer `000005` at any stage:
///   `NonceStoreFull`, `StoreUnavailable`, `NoAccessKey`, `RandomSource`,
///   `BufferTooSmall`.
/// * Any other error found [`Stage::BeforeAuthentication`] answers `000001`
///   (missing, malformed, ambiguous, not matching, stale, replayed).
/// * Any other error found on an [`Stage::Authenticated`] request answers
///   `000002` (not UTF-8, not JSON, not an object, a repeated name, too deep,
///   too large, a missing field, an unknown activity, a bad value, a field
///   that does not decrypt).
///
/// `000003` (unknown instance) is never an error of the core: the
/// merchant's handler sends it.
pub const fn result_code(err: &Error, stage: Stage) -> ResultCode {
    match err {
        Error::NonceStoreFull
        | Error::StoreUnavailable
        | Error::NoAccessKey
        | Error::RandomSource
        | Error::BufferTooSmall { .. } => ResultCode::MerchantFailure,
        Error::MissingParameter(_)
        | Error::MalformedEncoding(_)
        | Error::BadTimestamp
        | Error::StaleTimestamp
        | Error::ReplayedNonce
        | Error::InputTooLarge { .. }
        | Error::SignatureMismatch
        | Error::Decrypt
        | Error::Ambiguous(_) => match stage {
            Stage::BeforeAuthentication => ResultCode::Unauthenticated,
            Stage::Authenticated => ResultCode::BadRequest,
        },
    }
}

const fn refusal_len(code: ResultCode) -> usize {
    // {"resultCode":"000001","resultMsg":"…"}
    r#"{"resultCode":"","resultMsg":""}"#.len() + code.as_str().len() + code.message().len()
}

const fn max_refusal_len() -> usize {
    let mut i = 0;
    let mut max = 0;
    while i < ResultCode::ALL.len() {
        let n = refusal_len(ResultCode::ALL[i]);
        if n > max {
            max = n;
        }
        i += 1;
    }
    max
}

/// The longest body [`refusal`] writes, in bytes: an `out` buffer of this
/// size always suffices, so no caller guesses.
pub const REFUSAL_MAX_LEN: usize = max_refusal_len();

/// An answer ready to send: the exact body bytes and the `Body-Sign`
/// header value (docs/SCHEMES.md §S3) computed over them. Sent as HTTP 200
/// with `Content-Type: application/json;charset=UTF-8`.
#[derive(Clone, Debug)]
pub struct SignedAnswer<'o> {
    body: &'o str,
    body_sign: FixedText<BODY_SIGN_VALUE_LEN>,
}

impl<'o> SignedAnswer<'o> {
    /// The body, byte for byte what was signed.
    pub fn body(&self) -> &'o str {
        self.body
    }

    /// The `Body-Sign` header value (81 bytes), sent under the header name
    /// [`crate::BODY_SIGN_HEADER`].
    pub fn body_sign(&self) -> &str {
        self.body_sign.as_str()
    }
}

/// The complete signed refusal with `code`: the body
/// `{"resultCode":"…","resultMsg":"…"}` (the fixed
/// [`ResultCode::message`], no detail) written into `out`, and its
/// `Body-Sign` under `access_key` (docs/SCHEMES.md §Answers, §S3).
///
/// Errors: `BufferTooSmall` when `out` is shorter than the body (at most
/// [`REFUSAL_MAX_LEN`]), `NoAccessKey` for an empty key.
pub fn refusal<'o>(code: ResultCode, access_key: &str, out: &'o mut [u8]) -> Result<SignedAnswer<'o>> {
    if access_key.is_empty() {
        return Err(Error::NoAccessKey);
    }
    sign_answer(write_refusal(code, out)?, access_key)
}

/// The refusal body of `code` written into `out` (the one writer of
/// [`refusal`] and the merchant context's keyed refusal).
pub(crate) fn write_refusal(code: ResultCode, out: &mut [u8]) -> Result<&[u8]> {
    let len = refusal_len(code);
    let dst = out.get_mut(..len).ok_or(Error::BufferTooSmall { needed: len })?;
    let mut at = 0;
    for part in [r#"{"resultCode":""#, code.as_str(), r#"","resultMsg":""#, code.message(), r#""}"#] {
        dst[at..at + part.len()].copy_from_slice(part.as_bytes());
        at += part.len();
    }
    Ok(dst)
}

impl<'o> SignedAnswer<'o> {
    /// An answer whose `Body-Sign` was computed over `body` by the caller
    /// (the merchant context's keyed signer).
    pub(crate) fn from_parts(body: &'o str, body_sign: FixedText<BODY_SIGN_VALUE_LEN>) -> Self {
        SignedAnswer { body, body_sign }
    }
}

/// Signs an answer the merchant wrote: the `Body-Sign` (docs/SCHEMES.md §S3)
/// over exactly `body`'s bytes, which must then be sent unchanged.
///
/// Errors: `MalformedEncoding` when `body` is not UTF-8 (an answer is JSON
/// text), `NoAccessKey` for an empty key.
pub fn sign_answer<'o>(body: &'o [u8], access_key: &str) -> Result<SignedAnswer<'o>> {
    if access_key.is_empty() {
        return Err(Error::NoAccessKey);
    }
    let text = core::str::from_utf8(body).map_err(|_| Error::MalformedEncoding("answer body is not UTF-8"))?;
    Ok(SignedAnswer { body: text, body_sign: body_sign(body, access_key)? })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_variant_has_its_row() {
        for e in Error::ALL {
            let (before, after) = (result_code(&e, Stage::BeforeAuthentication), result_code(&e, Stage::Authenticated));
            let merchant = matches!(
                e,
                Error::NonceStoreFull
                    | Error::StoreUnavailable
                    | Error::NoAccessKey
                    | Error::RandomSource
                    | Error::BufferTooSmall { .. }
            );
            if merchant {
                assert_eq!((before, after), (ResultCode::MerchantFailure, ResultCode::MerchantFailure), "{e:?}");
            } else {
                assert_eq!((before, after), (ResultCode::Unauthenticated, ResultCode::BadRequest), "{e:?}");
            }
        }
    }

    #[test]
    fn codes_round_trip() {
        for c in ResultCode::ALL {
            assert_eq!(ResultCode::parse(c.as_str()), Ok(c));
        }
        for bad in ["", "000004", "00001", " 000001", "000001 ", "1"] {
            assert!(matches!(ResultCode::parse(bad), Err(Error::MalformedEncoding(_))), "{bad:?}");
        }
    }

    #[test]
    fn refusal_fits_and_short_buffer_is_refused() {
        for c in ResultCode::ALL {
            let mut out = [0u8; REFUSAL_MAX_LEN];
            let a = refusal(c, "k", &mut out).unwrap();
            assert!(a.body().len() <= REFUSAL_MAX_LEN);
            let mut short = [0u8; 10];
            assert_eq!(refusal(c, "k", &mut short).err(), Some(Error::BufferTooSmall { needed: a.body().len() }));
        }
        let mut out = [0u8; REFUSAL_MAX_LEN];
        assert_eq!(refusal(ResultCode::Success, "", &mut out).err(), Some(Error::NoAccessKey));
        assert_eq!(sign_answer(b"\xff", "k").err(), Some(Error::MalformedEncoding("answer body is not UTF-8")));
    }
}
