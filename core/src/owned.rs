//! Owned-returning variants of the buffer-writing functions (`alloc`
//! feature): each sizes its buffer from the function's `const fn` size or
//! its `BufferTooSmall { needed }`, calls the buffer-writing function (the
//! one implementation) and returns an `alloc::string::String`.

use crate::error::{Error, Result};
use crate::field::{DecryptMode, EncryptType, FieldCipher, FieldKey, IV_LEN};
use alloc::string::String;
use alloc::vec;

/// Runs `f` over a buffer of `first` bytes, once more with the exact size
/// when `f` says it needs more; the text written is returned owned.
pub(crate) fn with_buffer(first: usize, mut f: impl FnMut(&mut [u8]) -> Result<&str>) -> Result<String> {
    let mut buf = vec![0u8; first];
    match f(&mut buf) {
        Ok(s) => return Ok(String::from(s)),
        Err(Error::BufferTooSmall { needed }) if needed > first => {}
        Err(e) => return Err(e),
    }
    let needed = match f(&mut []) {
        Err(Error::BufferTooSmall { needed }) => needed,
        Ok(s) => return Ok(String::from(s)),
        Err(e) => return Err(e),
    };
    let mut buf = vec![0u8; needed];
    f(&mut buf).map(String::from)
}

/// [`crate::build_v1_query`], returning the query as a `String`.
/// Errors: those of [`crate::build_v1_query`] but `BufferTooSmall`.
pub fn build_v1_query_owned(params: &[(&str, &str)], access_key: &str) -> Result<String> {
    let guess = params.iter().map(|(n, v)| 3 * (n.len() + v.len()) + 2).sum::<usize>() + 64;
    with_buffer(guess, |out| crate::build_v1_query(params, access_key, out))
}

impl crate::v1::V1Params<'_> {
    /// [`crate::V1Params::canonical`], returning the canonical string as a
    /// `String` (`alloc` feature).
    pub fn canonical_owned(&self) -> Result<String> {
        with_buffer(self.canonical_len(), |out| self.canonical(out))
    }
}

/// [`crate::encrypt_field`], returning the wire string as a `String`.
/// Errors: those of [`crate::encrypt_field`] but `BufferTooSmall`.
pub fn encrypt_field_owned<R: rand_core::TryCryptoRng + ?Sized>(
    plaintext: &str,
    access_key: &str,
    ty: EncryptType,
    rng: &mut R,
) -> Result<String> {
    FieldKey::derive(access_key, ty).encrypt_owned(plaintext, rng)
}

/// [`crate::decrypt_field`], returning the plaintext as a `String`.
/// Errors: those of [`crate::decrypt_field`] but `BufferTooSmall`.
pub fn decrypt_field_owned(wire: &str, access_key: &str, mode: DecryptMode) -> Result<String> {
    with_buffer(wire.len(), |out| crate::decrypt_field(wire, access_key, mode, out))
}

impl FieldKey {
    /// [`FieldKey::encrypt`], returning the wire string as a `String`
    /// (`alloc` feature). Errors: those of [`FieldKey::encrypt`] but
    /// `BufferTooSmall`.
    pub fn encrypt_owned<R: rand_core::TryCryptoRng + ?Sized>(&self, plaintext: &str, rng: &mut R) -> Result<String> {
        let iv = crate::field::random_iv(rng)?;
        self.encrypt_with_iv_owned(plaintext, &iv)
    }

    /// [`FieldKey::encrypt_with_iv`], returning the wire string as a `String`
    /// (`alloc` feature).
    pub fn encrypt_with_iv_owned(&self, plaintext: &str, iv: &[u8; IV_LEN]) -> Result<String> {
        with_buffer(crate::field::encrypt_out_len(plaintext.len()), |out| self.encrypt_with_iv(plaintext, iv, out))
    }

    /// [`FieldKey::decrypt`], returning the plaintext as a `String`
    /// (`alloc` feature).
    pub fn decrypt_owned(&self, wire: &str) -> Result<String> {
        with_buffer(wire.len(), |out| self.decrypt(wire, out))
    }
}

impl FieldCipher {
    /// [`FieldCipher::decrypt`], returning the plaintext as a `String`
    /// (`alloc` feature).
    pub fn decrypt_owned(&self, wire: &str, mode: DecryptMode) -> Result<String> {
        with_buffer(wire.len(), |out| self.decrypt(wire, mode, out))
    }
}

/// [`crate::canonical_query`], returning the text as a `String`.
pub fn canonical_query_owned(query: &[(&str, &str)]) -> Result<String> {
    let guess = query.iter().map(|(n, v)| 3 * (n.len() + v.len()) + 2).sum::<usize>();
    with_buffer(guess, |out| crate::canonical_query(query, out))
}

/// [`crate::canonical_uri`], returning the text as a `String`.
pub fn canonical_uri_owned(path: &str) -> Result<String> {
    with_buffer(3 * path.len() + 1, |out| crate::canonical_uri(path, out))
}
