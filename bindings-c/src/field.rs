//! S4 — encrypted fields: SHA1PRNG key, AES-CBC-PKCS#7, `iv + b64(ct)`.

use crate::ffi::{boundary, bytes, text, with_secret_scratch, OutBuf, Res};
use crate::status::koosign_status;
use core::ffi::c_char;

/// A field's key size, as the response's `encryptType` says it: the values
/// are the `encryptType` digits, KOOSIGN_AES256 (1) or KOOSIGN_AES128 (2),
/// plus KOOSIGN_DECRYPT_AUTO (0) for decryption (any other value gives
/// KOOSIGN_INVALID_ARGUMENT).
pub type koosign_encrypt_type = u32;
/// `encryptType` "1": AES-256 (the default for userName / password).
pub const KOOSIGN_AES256: koosign_encrypt_type = 1;
/// `encryptType` "2": AES-128 (what inbound mobilePhone / email use).
pub const KOOSIGN_AES128: koosign_encrypt_type = 2;
/// Decryption only: try AES-256, then AES-128, accepting only valid
/// padding and UTF-8 (SCHEMES.md S4 decision for undocumented inbound fields).
pub const KOOSIGN_DECRYPT_AUTO: koosign_encrypt_type = 0;

/// A decryption mode: KOOSIGN_DECRYPT_AUTO or one key size.
pub(crate) fn mode_of(mode: koosign_encrypt_type) -> Res<ks::DecryptMode> {
    Ok(match mode {
        KOOSIGN_DECRYPT_AUTO => ks::DecryptMode::Auto,
        t => ks::DecryptMode::Only(type_of(t)?),
    })
}

pub(crate) fn type_of(t: koosign_encrypt_type) -> Res<ks::EncryptType> {
    match t {
        KOOSIGN_AES256 => Ok(ks::EncryptType::Aes256),
        KOOSIGN_AES128 => Ok(ks::EncryptType::Aes128),
        _ => Err(koosign_status::KOOSIGN_INVALID_ARGUMENT),
    }
}

/// Derives the field key from an access key the JDK's way (S4):
/// `KeyGenerator("AES")` fed by `SecureRandom("SHA1PRNG")` seeded with the
/// key's UTF-8 bytes. Writes the raw key: 32 bytes for KOOSIGN_AES256, 16
/// for KOOSIGN_AES128 (binary, not text). The encrypt/decrypt functions
/// derive it themselves; this is for checks and diagnostics. Wipe it after
/// use.
///
/// - `key`, `key_len`: the access key (UTF-8; may be empty: the JDK accepts
///   an empty seed).
/// - `encrypt_type`: KOOSIGN_AES256 or KOOSIGN_AES128.
/// - `out`, `out_cap`: the caller's buffer; 32 bytes suffice.
/// - `out_len`: receives the bytes written (16 or 32); with
///   KOOSIGN_BUFFER_TOO_SMALL, the bytes needed (and `out` is untouched);
///   0 on other errors.
///
/// Returns KOOSIGN_OK, KOOSIGN_NULL_PARAMETER, KOOSIGN_INVALID_UTF8,
/// KOOSIGN_INVALID_ARGUMENT (encrypt_type), KOOSIGN_BUFFER_TOO_SMALL,
/// KOOSIGN_PANIC.
///
/// # Safety
/// Every input pointer is NULL (only with a zero length) or valid for its
/// length; `out` NULL (only with `out_cap` 0) or valid for `out_cap` bytes
/// of writes, not overlapping the inputs; `out_len` valid for a write.
#[no_mangle]
pub unsafe extern "C" fn koosign_derive_key(
    key: *const c_char,
    key_len: usize,
    encrypt_type: koosign_encrypt_type,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> koosign_status {
    boundary(|| {
        // SAFETY: the pointers meet this function's `# Safety` contract; the
        // conversions check NULL, lengths and UTF-8.
        let (out, key) = unsafe { (OutBuf::new(out, out_cap, out_len)?, text(key, key_len)?) };
        let ty = type_of(encrypt_type)?;
        // Zeroized when dropped (the core's FieldKey).
        let fk = ks::derive_key(key, ty);
        out.write(fk.as_bytes())
    })
}

/// Encrypts one field (S4) with an explicit IV: writes the wire string
/// `iv + b64(AES-CBC-PKCS#7(derived key, iv, plaintext))`, ASCII, not
/// NUL-terminated, at most 128 characters (KOOSIGN_MAX_WIRE_LEN):
/// 16 + 4·⌈(16·(⌊plaintext_len/16⌋+1))/3⌉ bytes. Use it for reproducible
/// output (tests, vectors); in production use koosign_encrypt_field.
///
/// - `plaintext`, `plaintext_len`: UTF-8, at most 79 bytes
///   (KOOSIGN_MAX_PLAINTEXT_LEN).
/// - `key`, `key_len`: the access key (UTF-8).
/// - `encrypt_type`: KOOSIGN_AES256 (`encryptType` "1") or KOOSIGN_AES128
///   ("2"); put the same digit in the response's `encryptType`.
/// - `iv`, `iv_len`: exactly 16 ASCII letters or digits (KOOSIGN_IV_LEN).
/// - `out`, `out_cap`: the caller's buffer; 128 bytes always suffice.
/// - `out_len`: receives the bytes written; with KOOSIGN_BUFFER_TOO_SMALL,
///   the bytes needed (and `out` is untouched); 0 on other errors.
///
/// Returns KOOSIGN_OK, KOOSIGN_NULL_PARAMETER, KOOSIGN_INVALID_UTF8,
/// KOOSIGN_INVALID_ARGUMENT (encrypt_type), KOOSIGN_MALFORMED_ENCODING
/// (IV not 16 ASCII alphanumerics), KOOSIGN_INPUT_TOO_LARGE (plaintext
/// over 79 bytes), KOOSIGN_BUFFER_TOO_SMALL, KOOSIGN_PANIC.
///
/// # Safety
/// As koosign_derive_key.
#[no_mangle]
pub unsafe extern "C" fn koosign_encrypt_field_with_iv(
    plaintext: *const c_char,
    plaintext_len: usize,
    key: *const c_char,
    key_len: usize,
    encrypt_type: koosign_encrypt_type,
    iv: *const c_char,
    iv_len: usize,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> koosign_status {
    boundary(|| {
        // SAFETY: the pointers meet this function's `# Safety` contract; the
        // conversions check NULL, lengths and UTF-8.
        let (out, plaintext, key, iv) = unsafe {
            (
                OutBuf::new(out, out_cap, out_len)?,
                text(plaintext, plaintext_len)?,
                text(key, key_len)?,
                text(iv, iv_len)?,
            )
        };
        let ty = type_of(encrypt_type)?;
        let iv: &[u8; ks::field::IV_LEN] = iv
            .as_bytes()
            .try_into()
            .map_err(|_| koosign_status::KOOSIGN_MALFORMED_ENCODING)?;
        let fk = ks::derive_key(key, ty);
        let mut buf = [0u8; ks::field::MAX_WIRE_LEN];
        let wire = fk.encrypt_with_iv(plaintext, iv, &mut buf)?;
        out.write(wire.as_bytes())
    })
}

/// Encrypts one field (S4) with a fresh IV of 16 letters and digits drawn
/// from the operating system's random source (getrandom(2) on Linux).
/// Output and parameters as koosign_encrypt_field_with_iv, without the IV.
///
/// Returns KOOSIGN_OK, KOOSIGN_NULL_PARAMETER, KOOSIGN_INVALID_UTF8,
/// KOOSIGN_INVALID_ARGUMENT (encrypt_type), KOOSIGN_INPUT_TOO_LARGE
/// (plaintext over 79 bytes), KOOSIGN_RANDOM_SOURCE (the OS refused random
/// bytes), KOOSIGN_BUFFER_TOO_SMALL, KOOSIGN_PANIC.
///
/// # Safety
/// As koosign_derive_key.
#[no_mangle]
pub unsafe extern "C" fn koosign_encrypt_field(
    plaintext: *const c_char,
    plaintext_len: usize,
    key: *const c_char,
    key_len: usize,
    encrypt_type: koosign_encrypt_type,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> koosign_status {
    boundary(|| {
        // SAFETY: the pointers meet this function's `# Safety` contract; the
        // conversions check NULL, lengths and UTF-8.
        let (out, plaintext, key) = unsafe {
            (
                OutBuf::new(out, out_cap, out_len)?,
                text(plaintext, plaintext_len)?,
                text(key, key_len)?,
            )
        };
        let ty = type_of(encrypt_type)?;
        let mut buf = [0u8; ks::field::MAX_WIRE_LEN];
        let wire = ks::encrypt_field(plaintext, key, ty, &mut getrandom::SysRng, &mut buf)?;
        out.write(wire.as_bytes())
    })
}

/// Decrypts one field (S4): `wire` = 16-character IV + Base64 ciphertext; a
/// space in it is read as `+` (form-decoding damage). Writes the UTF-8
/// plaintext, not NUL-terminated, shorter than `wire_len`. On any failure
/// nothing is written.
///
/// - `wire`, `wire_len`: the field as received (UTF-8).
/// - `key`, `key_len`: the access key (UTF-8).
/// - `mode`: KOOSIGN_AES256, KOOSIGN_AES128, or KOOSIGN_DECRYPT_AUTO (try
///   256 then 128).
/// - `out`, `out_cap`: the caller's buffer; `wire_len` bytes always suffice.
/// - `out_len`: receives the plaintext length; with
///   KOOSIGN_BUFFER_TOO_SMALL, the plaintext length needed (and `out` is
///   untouched); 0 on other errors.
///
/// Returns KOOSIGN_OK, KOOSIGN_NULL_PARAMETER, KOOSIGN_INVALID_UTF8,
/// KOOSIGN_INVALID_ARGUMENT (mode), KOOSIGN_DECRYPT (any cause: too short,
/// bad Base64, bad padding, wrong key, plaintext not UTF-8),
/// KOOSIGN_BUFFER_TOO_SMALL, KOOSIGN_PANIC.
///
/// # Safety
/// As koosign_derive_key.
#[no_mangle]
pub unsafe extern "C" fn koosign_decrypt_field(
    wire: *const c_char,
    wire_len: usize,
    key: *const c_char,
    key_len: usize,
    mode: koosign_encrypt_type,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> koosign_status {
    boundary(|| {
        // SAFETY: the pointers meet this function's `# Safety` contract; the
        // conversions check NULL, lengths and UTF-8.
        let (out, wire, key) = unsafe {
            (
                OutBuf::new(out, out_cap, out_len)?,
                text(wire, wire_len)?,
                text(key, key_len)?,
            )
        };
        let mode = mode_of(mode)?;
        // The core needs `wire_len` bytes of scratch; the plaintext is then
        // copied out (or its length reported) and the scratch wiped.
        with_secret_scratch(wire.len(), |scratch| {
            let plain = ks::decrypt_field(wire, key, mode, scratch)?;
            out.write(plain.as_bytes())
        })
    })
}

/// AES-CBC decryption with a raw key, then the PKCS#7 (PKCS#5) padding
/// check: the S4 field cipher without the SHA1PRNG key derivation, the
/// `iv + Base64` wire form or the UTF-8 check. For known-answer tests of
/// the cipher (e.g. Wycheproof's `aes_cbc_pkcs5_test.json`); production
/// fields use koosign_decrypt_field. On any failure nothing is written.
///
/// - `key`, `key_len`: the raw AES key, 16 bytes (AES-128) or 32 (AES-256).
/// - `iv`, `iv_len`: the IV, 16 bytes.
/// - `ciphertext`, `ciphertext_len`: raw bytes, a non-zero multiple of 16.
/// - `out`, `out_cap`: the caller's buffer; `ciphertext_len` bytes always
///   suffice (the plaintext is shorter).
/// - `out_len`: receives the plaintext length; with KOOSIGN_BUFFER_TOO_SMALL,
///   the plaintext length needed (and `out` is untouched); 0 on other
///   errors.
///
/// Returns KOOSIGN_OK, KOOSIGN_NULL_PARAMETER, KOOSIGN_MALFORMED_ENCODING
/// (key not 16 or 32 bytes, IV not 16 bytes), KOOSIGN_INPUT_TOO_LARGE (key
/// over 32 bytes), KOOSIGN_DECRYPT (every cryptographic failure: empty,
/// not a multiple of 16, bad padding), KOOSIGN_BUFFER_TOO_SMALL,
/// KOOSIGN_PANIC.
///
/// # Safety
/// Every input pointer is NULL (only with a zero length) or valid for its
/// length; `out` NULL (only with `out_cap` 0) or valid for `out_cap` bytes
/// of writes, not overlapping the inputs; `out_len` valid for a write.
#[no_mangle]
pub unsafe extern "C" fn koosign_decrypt_raw(
    key: *const u8,
    key_len: usize,
    iv: *const u8,
    iv_len: usize,
    ciphertext: *const u8,
    ciphertext_len: usize,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> koosign_status {
    boundary(|| {
        // SAFETY: the pointers meet this function's `# Safety` contract; the
        // conversions check NULL and lengths.
        let (out, key, iv, ct) = unsafe {
            (
                OutBuf::new(out, out_cap, out_len)?,
                bytes(key, key_len)?,
                bytes(iv, iv_len)?,
                bytes(ciphertext, ciphertext_len)?,
            )
        };
        let fk = ks::FieldKey::from_raw(key)?;
        let iv: &[u8; 16] = iv
            .try_into()
            .map_err(|_| koosign_status::from(ks::Error::MalformedEncoding("iv must be 16 bytes")))?;
        with_secret_scratch(ct.len(), |scratch| {
            let plain = fk.decrypt_raw(iv, ct, scratch)?;
            out.write(plain)
        })
    })
}
