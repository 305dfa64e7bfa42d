//! S4 — encrypted fields: the SHA1PRNG key, AES-CBC-PKCS#7, wire form
//! `iv + b64(ciphertext)` (docs/SCHEMES.md §S4).

use crate::error::{Error, Result};
use aes::cipher::{block_padding::Pkcs7, BlockModeDecrypt, BlockModeEncrypt, InnerIvInit, Key, KeyInit};
use base64ct::{Base64, Encoding};
use sha1::{Digest, Sha1};
use zeroize::{Zeroize, ZeroizeOnDrop, Zeroizing};

/// Longest wire string (`iv` + Base64) allowed for `userName`/`password`.
pub const MAX_WIRE_LEN: usize = 128;
/// Longest plaintext that fits in [`MAX_WIRE_LEN`]: 79 bytes (80 padded →
/// 108 Base64 characters + 16 of IV = 124).
pub const MAX_PLAINTEXT_LEN: usize = 79;
/// IV length in characters (and bytes).
pub const IV_LEN: usize = 16;

#[cfg(feature = "alloc")]
pub use crate::owned::{decrypt_field_owned, encrypt_field_owned};

/// Bytes of `out` [`encrypt_field`] and [`FieldKey::encrypt_with_iv`] need
/// for a plaintext of `plaintext_len` bytes: the IV and the Base64 of the
/// PKCS#7-padded ciphertext (at most [`MAX_WIRE_LEN`] for a plaintext
/// within [`MAX_PLAINTEXT_LEN`]).
pub const fn encrypt_out_len(plaintext_len: usize) -> usize {
    IV_LEN + ((plaintext_len / 16 + 1) * 16).div_ceil(3) * 4
}

/// Bytes of `out` [`decrypt_field`] and [`FieldKey::decrypt`] need for a
/// wire string of `wire_len` bytes (the Base64 is decoded in place there).
pub const fn decrypt_out_len(wire_len: usize) -> usize {
    wire_len
}

/// Key size of a field, as the response's `encryptType` says it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EncryptType {
    /// `encryptType` `"1"`: AES-256 (the default).
    Aes256,
    /// `encryptType` `"2"`: AES-128.
    Aes128,
}

impl EncryptType {
    /// The `encryptType` string of the response JSON.
    pub const fn as_str(self) -> &'static str {
        match self {
            EncryptType::Aes256 => "1",
            EncryptType::Aes128 => "2",
        }
    }

    /// Reads `"1"` or `"2"`. Errors: `MalformedEncoding`.
    pub fn parse(s: &str) -> Result<Self> {
        match s {
            "1" => Ok(EncryptType::Aes256),
            "2" => Ok(EncryptType::Aes128),
            _ => Err(Error::MalformedEncoding("encryptType must be \"1\" or \"2\"")),
        }
    }

    /// Key length in bytes.
    pub const fn key_len(self) -> usize {
        match self {
            EncryptType::Aes256 => 32,
            EncryptType::Aes128 => 16,
        }
    }
}

/// How to decrypt an inbound field.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DecryptMode {
    /// One key size.
    Only(EncryptType),
    /// Try AES-256, then AES-128; accept only valid padding and UTF-8
    /// (docs/SCHEMES.md §S4 decision).
    Auto,
}

/// The AES key derived from an access key the JDK's way, zeroized on drop.
/// `Debug` shows only its size.
#[derive(Clone, Zeroize, ZeroizeOnDrop)]
pub struct FieldKey {
    bytes: [u8; 32],
    #[zeroize(skip)]
    ty: EncryptType,
    /// Derived from an empty access key: usable for nothing.
    #[zeroize(skip)]
    empty: bool,
    /// The expanded AES key schedule, made once (zeroized by `aes` on drop).
    #[zeroize(skip)]
    aes: Schedule,
}

#[derive(Clone)]
enum Schedule {
    Aes256(aes::Aes256),
    Aes128(aes::Aes128),
}

impl Schedule {
    /// Expands `bytes` (all 32 for AES-256, the first 16 for AES-128),
    /// reading the key through a reference: `bytes.into()` would first copy
    /// the key into a temporary array on the stack that nobody zeroizes.
    fn new(ty: EncryptType, bytes: &[u8; 32]) -> Self {
        match ty {
            EncryptType::Aes256 => Schedule::Aes256(aes::Aes256::new(<&Key<aes::Aes256>>::from(bytes))),
            EncryptType::Aes128 => {
                let [k16 @ .., _, _, _, _, _, _, _, _, _, _, _, _, _, _, _, _] = bytes;
                Schedule::Aes128(aes::Aes128::new(<&Key<aes::Aes128>>::from(k16)))
            }
        }
    }
}

impl core::fmt::Debug for FieldKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("FieldKey").field("type", &self.ty).finish_non_exhaustive()
    }
}

impl FieldKey {
    /// Derives the key: Java's `KeyGenerator("AES")` fed by
    /// `SecureRandom("SHA1PRNG")` seeded with the access key's UTF-8 bytes.
    ///
    /// The key bytes are written straight into the returned value and the
    /// AES schedule is built from a reference to them: no temporary copy of
    /// the key is left on the stack (the SHA1PRNG state and output blocks
    /// are zeroized after use).
    pub fn derive(access_key: &str, ty: EncryptType) -> Self {
        // A schedule of the all-zero key first (no secret), replaced below.
        let mut key = FieldKey { bytes: [0u8; 32], ty, empty: access_key.is_empty(), aes: Schedule::new(ty, &[0u8; 32]) };
        sha1prng(access_key.as_bytes(), &mut key.bytes[..ty.key_len()]);
        key.aes = Schedule::new(ty, &key.bytes);
        key
    }

    /// The raw key (16 or 32 bytes).
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.ty.key_len()]
    }

    /// The key size.
    pub fn encrypt_type(&self) -> EncryptType {
        self.ty
    }

    /// Encrypts `plaintext` with the given 16-character IV into `out`,
    /// returning the wire string `iv + b64(AES-CBC-PKCS#7)`.
    ///
    /// Errors: `MalformedEncoding` (IV not 16 ASCII alphanumerics),
    /// `InputTooLarge { limit: 128 }` (wire string over 128 characters,
    /// i.e. a plaintext over 79 bytes), `BufferTooSmall { needed }`,
    /// `NoAccessKey` (the key was derived from an empty access key).
    pub fn encrypt_with_iv<'o>(&self, plaintext: &str, iv: &[u8; IV_LEN], out: &'o mut [u8]) -> Result<&'o str> {
        if self.empty {
            return Err(Error::NoAccessKey);
        }
        // Every byte is tested (no early exit), which the compiler turns
        // into a few vector compares over the 16 bytes.
        if !iv.iter().fold(true, |ok, b| ok & b.is_ascii_alphanumeric()) {
            return Err(Error::MalformedEncoding("IV must be 16 ASCII letters or digits"));
        }
        let padded = (plaintext.len() / 16 + 1) * 16;
        let needed = IV_LEN + padded.div_ceil(3) * 4;
        if needed > MAX_WIRE_LEN {
            return Err(Error::InputTooLarge { limit: MAX_WIRE_LEN });
        }
        if out.len() < needed {
            return Err(Error::BufferTooSmall { needed });
        }
        // The plaintext is encrypted in place, so after encryption the
        // block holds only ciphertext (public: it is the output); it is
        // zeroized only on the (unreachable) error path. The key schedule
        // is borrowed, not copied (cipher's `BlockCipherEncrypt for &C`).
        let mut block = [0u8; 80];
        let block = &mut block[..padded];
        block[..plaintext.len()].copy_from_slice(plaintext.as_bytes());
        let ct = match &self.aes {
            Schedule::Aes256(c) => cbc::Encryptor::<&aes::Aes256>::inner_iv_init(c, &(*iv).into())
                .encrypt_padded::<Pkcs7>(block, plaintext.len()),
            Schedule::Aes128(c) => cbc::Encryptor::<&aes::Aes128>::inner_iv_init(c, &(*iv).into())
                .encrypt_padded::<Pkcs7>(block, plaintext.len()),
        };
        let Ok(ct) = ct else {
            block.zeroize();
            return Err(Error::InputTooLarge { limit: MAX_WIRE_LEN });
        };
        out[..IV_LEN].copy_from_slice(iv);
        let b64_len = Base64::encode(ct, &mut out[IV_LEN..needed])
            .map_err(|_| Error::BufferTooSmall { needed })?
            .len();
        core::str::from_utf8(&out[..IV_LEN + b64_len]).map_err(|_| Error::MalformedEncoding("not ASCII"))
    }

    /// Encrypts with a fresh IV of 16 alphanumerics drawn from `rng`.
    /// Errors: as [`FieldKey::encrypt_with_iv`], and `RandomSource`.
    pub fn encrypt<'o, R: rand_core::TryCryptoRng + ?Sized>(
        &self,
        plaintext: &str,
        rng: &mut R,
        out: &'o mut [u8],
    ) -> Result<&'o str> {
        let iv = random_iv(rng)?;
        self.encrypt_with_iv(plaintext, &iv, out)
    }

    /// Decrypts a wire string with this key only (a space is read as `+`).
    /// Every failure is `Decrypt`, except `BufferTooSmall` when `out` is
    /// shorter than the wire string and `NoAccessKey` for a key derived
    /// from an empty access key.
    pub fn decrypt<'o>(&self, wire: &str, out: &'o mut [u8]) -> Result<&'o str> {
        if self.empty {
            return Err(Error::NoAccessKey);
        }
        let w = wire.as_bytes();
        if w.len() < IV_LEN + 24 || !w.is_ascii() || !canonical_b64_tail(&w[IV_LEN..]) {
            return Err(Error::Decrypt);
        }
        if out.len() < w.len() {
            return Err(Error::BufferTooSmall { needed: w.len() });
        }
        let mut iv = [0u8; IV_LEN];
        iv.copy_from_slice(&w[..IV_LEN]);
        // Space-as-plus repair, into `out`, then Base64-decode in place.
        let b64 = &mut out[..w.len() - IV_LEN];
        for (o, &b) in b64.iter_mut().zip(&w[IV_LEN..]) {
            *o = if b == b' ' { b'+' } else { b };
        }
        let ct_len = Base64::decode_in_place(b64).map_err(|_| Error::Decrypt)?.len();
        let ct = &mut out[..ct_len];
        let pt_len = match &self.aes {
            Schedule::Aes256(c) => cbc::Decryptor::<&aes::Aes256>::inner_iv_init(c, &iv.into())
                .decrypt_padded::<Pkcs7>(ct)
                .map(<[u8]>::len),
            Schedule::Aes128(c) => cbc::Decryptor::<&aes::Aes128>::inner_iv_init(c, &iv.into())
                .decrypt_padded::<Pkcs7>(ct)
                .map(<[u8]>::len),
        };
        match pt_len {
            Ok(n) if core::str::from_utf8(&out[..n]).is_ok() => {
                core::str::from_utf8(&out[..n]).map_err(|_| Error::Decrypt)
            }
            _ => {
                out[..w.len()].zeroize();
                Err(Error::Decrypt)
            }
        }
    }
}

/// True unless the last Base64 character before `=` padding has non-zero
/// unused bits. base64ct's in-place decoder accepts them (`QUJ=` reads as
/// `QUI=`), which gave one ciphertext several wire strings; only the
/// canonical one decrypts. (A space stands for `+`, whose unused bits are
/// not zero either way.)
fn canonical_b64_tail(b64: &[u8]) -> bool {
    let value = |c: u8| match c {
        b'A'..=b'Z' => c - b'A',
        b'a'..=b'z' => c - b'a' + 26,
        b'0'..=b'9' => c - b'0' + 52,
        b'+' | b' ' => 62,
        _ => 63,
    };
    match b64 {
        [.., c, b'=', b'='] => value(*c) & 0x0f == 0,
        [.., c, b'='] => value(*c) & 0x03 == 0,
        _ => true,
    }
}

/// Both field keys of an access key, derived once (cache it per key).
#[derive(Clone, Debug)]
pub struct FieldCipher {
    aes256: FieldKey,
    aes128: FieldKey,
}

impl FieldCipher {
    /// Derives both keys from `access_key`.
    pub fn new(access_key: &str) -> Self {
        FieldCipher {
            aes256: FieldKey::derive(access_key, EncryptType::Aes256),
            aes128: FieldKey::derive(access_key, EncryptType::Aes128),
        }
    }

    /// The key of one size.
    pub fn key(&self, ty: EncryptType) -> &FieldKey {
        match ty {
            EncryptType::Aes256 => &self.aes256,
            EncryptType::Aes128 => &self.aes128,
        }
    }

    /// Decrypts with one size or `Auto` (256, then 128).
    /// Errors: `Decrypt`, `BufferTooSmall`.
    pub fn decrypt<'o>(&self, wire: &str, mode: DecryptMode, out: &'o mut [u8]) -> Result<&'o str> {
        if self.aes256.empty {
            return Err(Error::NoAccessKey);
        }
        match mode {
            DecryptMode::Only(ty) => self.key(ty).decrypt(wire, out),
            DecryptMode::Auto => {
                // Decide first which size works, then decrypt again into the
                // caller's buffer (borrowck: one live borrow of `out`).
                let ok256 = self.aes256.decrypt(wire, &mut *out).is_ok();
                if ok256 {
                    self.aes256.decrypt(wire, out)
                } else {
                    match self.aes128.decrypt(wire, out) {
                        Err(Error::BufferTooSmall { needed }) => Err(Error::BufferTooSmall { needed }),
                        r => r,
                    }
                }
            }
        }
    }

    /// Which key size decrypts `wire` (for diagnostics: "AES-128 ciphertext
    /// labelled encryptType 1"). `None` if neither does.
    pub fn detect(&self, wire: &str) -> Option<EncryptType> {
        let mut buf = [0u8; 2 * MAX_WIRE_LEN];
        if wire.len() > buf.len() {
            return None;
        }
        if self.aes256.decrypt(wire, &mut buf).is_ok() {
            Some(EncryptType::Aes256)
        } else if self.aes128.decrypt(wire, &mut buf).is_ok() {
            Some(EncryptType::Aes128)
        } else {
            None
        }
    }
}

/// Derives the AES-256 or AES-128 field key of an access key (docs/SCHEMES.md §S4),
/// bit-identical to the JDK's `KeyGenerator("AES")` over `SHA1PRNG`.
pub fn derive_key(access_key: &str, ty: EncryptType) -> FieldKey {
    FieldKey::derive(access_key, ty)
}

/// Encrypts one field: derives the key, draws the IV from `rng`, writes the
/// wire string into `out` (at least 128 bytes is always enough).
/// Errors: as [`FieldKey::encrypt_with_iv`].
pub fn encrypt_field<'o, R: rand_core::TryCryptoRng + ?Sized>(
    plaintext: &str,
    access_key: &str,
    ty: EncryptType,
    rng: &mut R,
    out: &'o mut [u8],
) -> Result<&'o str> {
    FieldKey::derive(access_key, ty).encrypt(plaintext, rng, out)
}

/// Decrypts one field (docs/SCHEMES.md §S4): a space in `wire` is read as `+`; `mode` picks
/// the key size or tries both. `out` must be at least `wire.len()` bytes.
/// Errors: `Decrypt` (every cause), `BufferTooSmall`.
pub fn decrypt_field<'o>(wire: &str, access_key: &str, mode: DecryptMode, out: &'o mut [u8]) -> Result<&'o str> {
    match mode {
        DecryptMode::Only(ty) => FieldKey::derive(access_key, ty).decrypt(wire, out),
        DecryptMode::Auto => FieldCipher::new(access_key).decrypt(wire, DecryptMode::Auto, out),
    }
}

/// 16 ASCII alphanumerics from `rng`, uniformly (rejection sampling).
/// Any `CryptoRng` works; a fallible source (e.g. `getrandom::SysRng`)
/// that fails gives `Error::RandomSource`.
pub fn random_iv<R: rand_core::TryCryptoRng + ?Sized>(rng: &mut R) -> Result<[u8; IV_LEN]> {
    const ALPHABET: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut iv = [0u8; IV_LEN];
    let mut filled = 0;
    let mut pool = [0u8; 32];
    while filled < IV_LEN {
        rng.try_fill_bytes(&mut pool).map_err(|_| Error::RandomSource)?;
        for &b in &pool {
            // 248 = 4 × 62: keep the distribution uniform.
            if b < 248 && filled < IV_LEN {
                iv[filled] = ALPHABET[(b % 62) as usize];
                filled += 1;
            }
        }
    }
    Ok(iv)
}

/// The SUN provider's SHA1PRNG output stream for `seed`, as
/// `KeyGenerator("AES")` consumes it (docs/SCHEMES.md §S4).
fn sha1prng(seed: &[u8], out: &mut [u8]) {
    // Digests are written into zeroized buffers through references
    // (`finalize_into`), never returned by value as temporaries.
    let mut state: Zeroizing<[u8; 20]> = Zeroizing::new([0u8; 20]);
    Sha1::new().chain_update(seed).finalize_into(<&mut sha1::digest::Output<Sha1>>::from(&mut *state));
    let mut block: Zeroizing<[u8; 20]> = Zeroizing::new([0u8; 20]);
    let mut filled = 0;
    while filled < out.len() {
        Sha1::new().chain_update(&state[..]).finalize_into(<&mut sha1::digest::Output<Sha1>>::from(&mut *block));
        let n = (out.len() - filled).min(20);
        out[filled..filled + n].copy_from_slice(&block[..n]);
        filled += n;
        update_state(&mut state, &block);
    }
}

fn update_state(state: &mut [u8; 20], output: &[u8; 20]) {
    let mut carry: i32 = 1;
    let mut changed = false;
    for i in 0..20 {
        let s = i32::from(state[i] as i8);
        let o = i32::from(output[i] as i8);
        let v = s + o + carry;
        let new = (v & 0xff) as u8;
        changed |= new != state[i];
        state[i] = new;
        carry = v >> 8;
    }
    if !changed {
        state[0] = state[0].wrapping_add(1);
    }
}

// ---- Raw-key AES-CBC (test vectors written by others, e.g. Wycheproof) ----
// A self-contained block: the field cipher with a caller-given key instead of
// the SHA1PRNG derivation, and decryption of raw bytes instead of the wire
// string. It exists so that published AES-CBC-PKCS#5 vectors can be run
// through exactly the cipher and padding check that `FieldKey::decrypt` uses.

/// Longest raw AES key accepted by [`FieldKey::from_raw`], in bytes.
const RAW_KEY_MAX: usize = 32;

impl FieldKey {
    /// A field key from raw key bytes instead of an access key: 16 bytes
    /// give AES-128 ([`EncryptType::Aes128`]), 32 bytes AES-256. The bytes
    /// are copied into the key (zeroized on drop) and the AES schedule is
    /// built from a reference to that copy. For known-answer tests of the
    /// S4 cipher (docs/SCHEMES.md §S4: AES-CBC with PKCS#7 = PKCS#5 padding);
    /// production keys come from [`FieldKey::derive`].
    ///
    /// Errors: `InputTooLarge { limit: 32 }` for more than 32 bytes,
    /// `MalformedEncoding` for any other length than 16 or 32.
    pub fn from_raw(key: &[u8]) -> Result<FieldKey> {
        let ty = match key.len() {
            16 => EncryptType::Aes128,
            32 => EncryptType::Aes256,
            n if n > RAW_KEY_MAX => return Err(Error::InputTooLarge { limit: RAW_KEY_MAX }),
            _ => return Err(Error::MalformedEncoding("raw AES key must be 16 or 32 bytes")),
        };
        let mut bytes = [0u8; 32];
        bytes[..key.len()].copy_from_slice(key);
        let aes = match ty {
            EncryptType::Aes256 => <&aes::cipher::Key<aes::Aes256>>::try_from(&bytes[..32])
                .map(|k| Schedule::Aes256(aes::Aes256::new(k))),
            EncryptType::Aes128 => <&aes::cipher::Key<aes::Aes128>>::try_from(&bytes[..16])
                .map(|k| Schedule::Aes128(aes::Aes128::new(k))),
        };
        match aes {
            Ok(aes) => Ok(FieldKey { bytes, ty, empty: false, aes }),
            Err(_) => {
                bytes.zeroize();
                Err(Error::MalformedEncoding("raw AES key must be 16 or 32 bytes"))
            }
        }
    }

    /// AES-CBC decryption of raw `ciphertext` bytes with the 16-byte `iv`,
    /// then the PKCS#7 (PKCS#5) padding check, as the S4 field cipher does
    /// after Base64 (docs/SCHEMES.md §S4) — without the wire form, the space-as-`+`
    /// repair or the UTF-8 check. The plaintext is written into `out` (at
    /// least `ciphertext.len()` bytes) and returned as a slice of it. No
    /// allocation; on failure `out` is zeroized and nothing is returned.
    ///
    /// Errors: `Decrypt` for every cryptographic failure (empty ciphertext,
    /// a length that is not a multiple of 16, bad padding), so that no
    /// padding oracle tells them apart; `BufferTooSmall { needed }` when
    /// `out` is shorter than `ciphertext` (lengths are not secret);
    /// `NoAccessKey` for a key derived from an empty access key.
    pub fn decrypt_raw<'o>(&self, iv: &[u8; IV_LEN], ciphertext: &[u8], out: &'o mut [u8]) -> Result<&'o [u8]> {
        if self.empty {
            return Err(Error::NoAccessKey);
        }
        let n = ciphertext.len();
        if n == 0 || n % 16 != 0 {
            return Err(Error::Decrypt);
        }
        if out.len() < n {
            return Err(Error::BufferTooSmall { needed: n });
        }
        out[..n].copy_from_slice(ciphertext);
        let iv = <&aes::cipher::Iv<cbc::Decryptor<aes::Aes128>>>::from(iv);
        let pt_len = match &self.aes {
            Schedule::Aes256(c) => cbc::Decryptor::<aes::Aes256>::inner_iv_init(c.clone(), iv)
                .decrypt_padded::<Pkcs7>(&mut out[..n])
                .map(<[u8]>::len),
            Schedule::Aes128(c) => cbc::Decryptor::<aes::Aes128>::inner_iv_init(c.clone(), iv)
                .decrypt_padded::<Pkcs7>(&mut out[..n])
                .map(<[u8]>::len),
        };
        match pt_len {
            Ok(len) => Ok(&out[..len]),
            Err(_) => {
                out[..n].zeroize();
                Err(Error::Decrypt)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(b: &[u8]) -> heapless::String<64> {
        let mut s = heapless::String::new();
        for x in b {
            let _ = core::fmt::write(&mut s, format_args!("{x:02x}"));
        }
        s
    }

    /// The IV check tests all 16 bytes without an early exit: each byte
    /// value at each position is refused exactly when it is not an ASCII
    /// letter or digit, and nothing is written for a refused IV.
    #[test]
    fn iv_check_every_byte_at_every_position() {
        let key = FieldKey::derive("k", EncryptType::Aes128);
        let good = *b"0123456789abcdeZ";
        for pos in 0..IV_LEN {
            for b in 0..=255u8 {
                let mut iv = good;
                iv[pos] = b;
                let mut out = [0u8; 64];
                let r = key.encrypt_with_iv("13800000000", &iv, &mut out);
                if b.is_ascii_alphanumeric() {
                    assert_eq!(&r.expect("an alphanumeric IV").as_bytes()[..IV_LEN], &iv[..]);
                } else {
                    assert_eq!(r, Err(Error::MalformedEncoding("IV must be 16 ASCII letters or digits")), "byte {b} at {pos}");
                    assert_eq!(out, [0u8; 64], "nothing written for byte {b} at {pos}");
                }
            }
        }
    }

    #[test]
    fn spec_key_vectors() {
        for (seed, k128, k256) in [
            ("testAccessKey123", "0413c5de84a4312c10f237cf102c14f9", "0413c5de84a4312c10f237cf102c14f909635c067f68c442f5d9aa865fb0d176"),
            ("a", "667f407de7c6ad07358fa38daed7828a", "667f407de7c6ad07358fa38daed7828a72014b4e621d7140210c8cf1565a8f02"),
            ("密钥Key", "56ac7bb1c7f3ab73359f4420bb77c050", "56ac7bb1c7f3ab73359f4420bb77c0504c336b5d39eb83d0440766aedf25d1a3"),
        ] {
            assert_eq!(hex(FieldKey::derive(seed, EncryptType::Aes128).as_bytes()).as_str(), k128);
            assert_eq!(hex(FieldKey::derive(seed, EncryptType::Aes256).as_bytes()).as_str(), k256);
        }
    }

    #[test]
    fn spec_cipher_vectors() {
        let mut out = [0u8; 128];
        let c = FieldCipher::new("testAccessKey123");
        let w = c.key(EncryptType::Aes256).encrypt_with_iv("admin", b"abcdefgh12345678", &mut out).unwrap();
        assert_eq!(w, "abcdefgh12345678cEmxy4I8pTd8cQfzOXtUKw==");
        let w = c.key(EncryptType::Aes128).encrypt_with_iv("admin", b"abcdefgh12345678", &mut out).unwrap();
        assert_eq!(w, "abcdefgh123456787ffgxbG9iCNmPHfS/KXEkA==");
        let w = c.key(EncryptType::Aes256).encrypt_with_iv("中文用户", b"ABCDEFGHijklmn01", &mut out).unwrap();
        assert_eq!(w, "ABCDEFGHijklmn01MpvuA8sUFJisvKp+uf0qIg==");
        let mut out2 = [0u8; 128];
        assert_eq!(c.decrypt("ABCDEFGHijklmn01MpvuA8sUFJisvKp uf0qIg==", DecryptMode::Auto, &mut out2).unwrap(), "中文用户");
        assert_eq!(c.detect("abcdefgh123456787ffgxbG9iCNmPHfS/KXEkA=="), Some(EncryptType::Aes128));
    }
}
