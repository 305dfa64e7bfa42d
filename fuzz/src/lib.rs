//! The logic of koosign's fuzz targets, kept in a library so that
//! `cargo test` (in this folder) can replay the seed corpora and every
//! regression input without libFuzzer.
//!
//! Each target's input is a case type implementing [`arbitrary::Arbitrary`]
//! over a simple, documented byte layout (see [`input`]), so that
//! `seed.py` can write seeds from the repository's `vectors/` that reach the deep
//! paths (a *verified* request, a successful decryption) that random bytes
//! never reach. Every `check_*` function panics when an invariant breaks;
//! libFuzzer reports the panic as a crash.

pub mod input;
pub mod util;

pub mod apig;
pub mod field;
pub mod headers;
pub mod http;
pub mod injectivity;
pub mod json;
pub mod merchant;
pub mod nonce;
pub mod roundtrip;
pub mod time;
pub mod v1;
pub mod v2;

use koosign::Error;

/// Asserts that `e` is one of the variants named by `codes`
/// (`Error::code()` names).
#[track_caller]
pub fn assert_error_in(e: &Error, codes: &[&str], what: &str) {
    assert!(codes.contains(&e.code()), "{what}: unexpected error {e:?} (allowed: {codes:?})");
    // Display never fails and never gets long (no secret or input is echoed).
    let shown = e.to_string();
    assert!(!shown.is_empty() && shown.len() < 120, "{what}: odd Display {shown:?}");
}
