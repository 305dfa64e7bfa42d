//! # koosign
//!
//! The KooGallery (Huawei Cloud marketplace) merchant-interface security
//! schemes, byte for byte as `docs/SCHEMES.md` (the project's contract, one
//! section per scheme, §S1–§S6) fixes them, with no allocator:
//!
//! | scheme | verify | produce |
//! |---|---|---|
//! | S1 V1 `authToken` (GET query) | [`verify_v1_query`] | [`v1_auth_token`], [`build_v1_query`] |
//! | S1b V1 token header + JSON body | [`verify_v1_json`] | [`v1_auth_token`] |
//! | S2 V2 `signature`/`timestamp`/`nonce` | [`verify_v2`] with [`V2Scheme::Query`] | [`sign_v2`] |
//! | S2b kit `x-sign` headers | [`verify_v2`] with [`V2Scheme::Headers`] | [`sign_v2`] |
//! | S3 `Body-Sign` response header | [`verify_body_sign`] | [`body_sign()`] |
//! | S4 AES-CBC fields, SHA1PRNG key | [`decrypt_field`], [`FieldCipher`] | [`encrypt_field`], [`FieldKey`] |
//! | S5 licence `ts`/`nonce` | [`verify_licence`] | [`licence_sign`] |
//! | S6 `SDK-HMAC-SHA256` open APIs | [`verify_apig`] | [`sign_apig_url`], [`sign_apig`] |
//!
//! Each scheme is a module (`koosign::v1`, `koosign::v2`, `koosign::body_sign`,
//! `koosign::field`, `koosign::licence`, `koosign::apig`) holding its limits
//! and the `const fn` sizes of its buffers (`koosign::v1::query_scratch_len`,
//! `koosign::field::encrypt_out_len`, ...); the root re-exports the functions
//! and types. A merchant endpoint builds one keyed [`Merchant`] context at
//! start-up (its keys precomputed, rotation, a fail-closed [`Policy`]) and
//! calls [`Merchant::verify`] on each request (protocol detection, signature,
//! window, replay, the notification and its activity) and
//! [`Merchant::respond`] / [`Merchant::refusal`] for the signed answer.
//!
//! Every operation writes into caller-provided buffers or returns fixed-size
//! values; the clock is passed in (Unix milliseconds); signatures are
//! compared in constant time; key material is zeroized on drop; no error
//! carries a secret.
//!
//! ```
//! use koosign::{verify_v2, body_sign, V2Auth, V2Scheme, Freshness, NonceCache, Replay, BODY_SIGN_HEADER};
//!
//! let body = br#"{"activity":"newInstance","businessId":"87b94795-0603-4e24-8ae5-69420d60e3c8","orderId":"CS2211181819B4LVS","orderLineId":"CS2211181819B4LVS-000001","testFlag":"1"}"#;
//! let query = "signature=CD8D59BB7FCF7574752B5EB0ED04B3ACF4A759DA53F24D30A79ABE45C5D1BA25\
//!              &timestamp=1680508066618&nonce=50D83FDECAED6CCD8EF597F2A577950527928BA287D04E6036E92B2806FD17DA";
//! let mut scratch = [0u8; 256];
//! let auth = V2Auth::from_query(query, &mut scratch)?;
//! let mut nonces = NonceCache::<1024>::new();
//! let now_ms = 1_680_508_070_000; // your clock, Unix ms
//! let verified = verify_v2(V2Scheme::Query, &auth, body, &["testAccessKey123"],
//!                          Freshness::new(now_ms), Replay::Store(&mut nonces))?;
//! assert_eq!(verified.notification()?.activity.unwrap().as_str(), "newInstance");
//!
//! let response = br#"{"resultCode":"000000","resultMsg":"success."}"#;
//! let header = body_sign(response, "testAccessKey123")?;
//! assert_eq!(BODY_SIGN_HEADER, "Body-Sign");
//! assert!(header.as_str().ends_with("signature=\"CPIAbI6A1/GrF70YmPEaCgm5WaxUkts5hjQRqqpZv3s=\""));
//! # Ok::<(), koosign::Error>(())
//! ```
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

#[cfg(feature = "alloc")]
extern crate alloc;

pub mod activity;
pub mod answer;
pub mod apig;
mod apig_size;
pub mod body_sign;
#[cfg_attr(target_arch = "wasm32", allow(dead_code))]
mod codec;
pub mod detect;
mod encoding;
mod error;
pub mod field;
pub mod form;
pub mod licence;
mod mac;
pub mod merchant;
pub mod nonce;
pub mod notification;
#[cfg(feature = "alloc")]
mod owned;
pub mod response;
pub mod time;
pub mod v1;
pub mod v2;

pub use apig::{
    canonical_query, canonical_uri, parse_authorization, parse_sdk_date, sign_apig, sign_apig_url, split_received_url,
    split_url, verify_apig, AddedHeader, AddedHeaders, ApigAuthorization, ApigRequest, ApigSigned, ApigUrl, ApigVerified,
    ALGORITHM as APIG_ALGORITHM, EMPTY_BODY_SHA256,
};
pub use apig_size::apig_sign_out_len;
pub use body_sign::{
    body_sign, body_signature, parse_body_sign, verify_body_sign, BodySignValue, BodySignVerified, BODY_SIGN_HEADER,
    BODY_SIGN_VALUE_LEN,
};
pub use activity::{validate_v1, validate_v2, Activity, Family};
pub use answer::{refusal, result_code, sign_answer, ResultCode, SignedAnswer, Stage, REFUSAL_MAX_LEN};
pub use detect::{detect_protocol, Protocol};
pub use encoding::{query_of, FixedText};
pub use error::{Error, Result};
#[cfg(feature = "alloc")]
pub use owned::{
    build_v1_query_owned, canonical_query_owned, canonical_uri_owned, decrypt_field_owned, encrypt_field_owned,
};
pub use field::{decrypt_field, derive_key, encrypt_field, random_iv, DecryptMode, EncryptType, FieldCipher, FieldKey};
pub use form::{parse_form, FormPairs};
pub use licence::{licence_sign, verify_licence, LicenceVerified};
pub use mac::constant_time_eq;
pub use merchant::{Answer, AppInfo, Merchant, Policy, Rejection, Replay, Request, Verified, Window};
#[cfg(feature = "alloc")]
pub use nonce::NonceTable;
pub use nonce::{NonceCache, NonceSlot, NonceSlots, NonceStore};
pub use notification::{
    walk_json, JsonChars, JsonStr, JsonText, JsonVisitor, Notification, MAX_DEPTH, MAX_NOTIFICATION_BODY, MAX_OPEN_MEMBERS,
    MAX_UNESCAPED,
};
pub use time::{
    format_sdk_date, format_unix_ms, format_v1_timestamp, parse_unix_ms, parse_v1_timestamp, Freshness,
    APIG_DEFAULT_WINDOW_MS, DEFAULT_WINDOW_MS, V1_DEFAULT_WINDOW_MS,
};
pub use v1::{
    build_v1_query, v1_auth_token, verify_v1_json, verify_v1_query, V1Params, VerifiedV1, AUTH_TOKEN, TIME_STAMP,
};
pub use v2::{sign_v2, v2_inner, verify_v2, V2Auth, V2Scheme, VerifiedV2};

/// The crate README's Rust example (core/README.md, published with the
/// crate) is compiled as a doctest. The repository README's Rust example is
/// built and run in a fresh project by scripts/test-packages.sh.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

/// Fail-closed defaults (issue 13 item 9): a one-shot verifier cannot be
/// called with `None` for its freshness or its replay policy; the skip must
/// be named. Each `compile_fail` block below differs from the compiling
/// one only in the argument it names.
///
/// ```
/// # use koosign::*;
/// let auth = V2Auth { signature: "00", timestamp: "1680508066618", nonce: "n" };
/// let _ = verify_v2(V2Scheme::Query, &auth, b"{}", &["k"], Freshness::Unchecked, Replay::Unchecked);
/// let _ = verify_licence("1680508066618", "n", b"", "s", &["k"], Freshness::Unchecked);
/// let mut s = [0u8; 64];
/// let _ = verify_v1_query("a=b", &["k"], Freshness::Unchecked, Replay::Unchecked, &mut s);
/// ```
/// ```compile_fail
/// # use koosign::*;
/// let auth = V2Auth { signature: "00", timestamp: "1680508066618", nonce: "n" };
/// let _ = verify_v2(V2Scheme::Query, &auth, b"{}", &["k"], None, Replay::Unchecked);
/// ```
/// ```compile_fail
/// # use koosign::*;
/// let auth = V2Auth { signature: "00", timestamp: "1680508066618", nonce: "n" };
/// let _ = verify_v2(V2Scheme::Query, &auth, b"{}", &["k"], Freshness::Unchecked, None);
/// ```
/// ```compile_fail
/// # use koosign::*;
/// let mut nonces = NonceCache::<4>::new();
/// let auth = V2Auth { signature: "00", timestamp: "1680508066618", nonce: "n" };
/// let _ = verify_v2(V2Scheme::Query, &auth, b"{}", &["k"], Freshness::Unchecked, Some(&mut nonces));
/// ```
/// ```compile_fail
/// # use koosign::*;
/// let _ = verify_licence("1680508066618", "n", b"", "s", &["k"], None);
/// ```
/// ```compile_fail
/// # use koosign::*;
/// let mut s = [0u8; 64];
/// let _ = verify_v1_query("a=b", &["k"], None, Replay::Unchecked, &mut s);
/// ```
/// ```compile_fail
/// # use koosign::*;
/// let mut s = [0u8; 64];
/// let _ = verify_v1_query("a=b", &["k"], Freshness::Unchecked, None, &mut s);
/// ```
#[cfg(doctest)]
struct FailClosedDoctests;

/// A seeded xorshift64 generator for the unit tests' random inputs
/// (reproducible; not for anything secret).
#[cfg(test)]
pub(crate) struct TestRng(pub(crate) u64);

#[cfg(test)]
impl TestRng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}
