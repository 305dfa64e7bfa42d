//! S4: decryption of arbitrary wire strings (`decrypt_field` in every mode,
//! `FieldCipher::decrypt`, `FieldCipher::detect`).

use crate::input;
use crate::util;
use arbitrary::{Arbitrary, Unstructured};
use koosign::field::{IV_LEN, MAX_PLAINTEXT_LEN};
use koosign::{decrypt_field, DecryptMode, EncryptType, Error, FieldCipher};

/// Layout: `text` access key, `u16` output buffer length, `rest` wire
/// string (UTF-8 prefix).
#[derive(Debug)]
pub struct Case<'a> {
    pub key: &'a str,
    pub out_len: u16,
    pub wire: &'a str,
}

impl<'a> Arbitrary<'a> for Case<'a> {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(Case { key: input::text(u), out_len: input::u16(u), wire: input::utf8_prefix(input::rest(u)) })
    }
}

const MODES: [DecryptMode; 3] =
    [DecryptMode::Only(EncryptType::Aes256), DecryptMode::Only(EncryptType::Aes128), DecryptMode::Auto];

/// The `field_decrypt` target. `Ok` when some mode decrypted.
pub fn check(c: &Case<'_>) -> Result<(), &'static str> {
    let wire = c.wire;
    let cipher = FieldCipher::new(c.key);
    if c.key.is_empty() {
        // A key derived from an empty access key decrypts nothing.
        for mode in MODES {
            let mut out = vec![0u8; wire.len()];
            assert_eq!(decrypt_field(wire, c.key, mode, &mut out), Err(Error::NoAccessKey));
            assert_eq!(cipher.decrypt(wire, mode, &mut out), Err(Error::NoAccessKey));
        }
        assert_eq!(cipher.detect(wire), None);
        return Err("NO_ACCESS_KEY");
    }
    let repaired = wire.replace(' ', "+");
    let b64_ok = wire.len() >= IV_LEN + 24 && wire.is_ascii() && util::b64_decode(&repaired.as_bytes()[IV_LEN..]).is_some();
    let mut results = Vec::new();
    for mode in MODES {
        let mut out = vec![0xA5u8; wire.len()];
        let r = decrypt_field(wire, c.key, mode, &mut out).map(str::to_owned);
        match &r {
            Ok(s) => {
                assert!(s.len() <= wire.len());
                // Only canonical Base64 decrypts (no two wire strings for one ciphertext).
                assert!(b64_ok, "decrypted a wire string whose Base64 is not canonical: {wire:?}");
            }
            Err(e) => {
                assert_eq!(*e, Error::Decrypt, "{mode:?}");
                if b64_ok {
                    // The bytes decrypted under the key never stay in the caller's buffer.
                    assert!(out.iter().all(|&b| b == 0), "{mode:?}: failed decryption left data in the buffer");
                }
            }
        }
        let mut out2 = vec![0u8; wire.len()];
        let r2 = cipher.decrypt(wire, mode, &mut out2).map(str::to_owned);
        assert_eq!(r, r2, "decrypt_field and FieldCipher::decrypt differ");
        // Any buffer size: enough gives the same answer, too small says so.
        let mut small = vec![0u8; usize::from(c.out_len)];
        let r3 = cipher.decrypt(wire, mode, &mut small).map(str::to_owned);
        if small.len() >= wire.len() {
            assert_eq!(r3, r);
        } else if b64_ok {
            assert_eq!(r3, Err(Error::BufferTooSmall { needed: wire.len() }));
        } else if wire.len() >= IV_LEN + 24 && wire.is_ascii() {
            // Base64 errors may be found before or after the size check.
            assert!(matches!(r3, Err(Error::Decrypt) | Err(Error::BufferTooSmall { .. })), "{r3:?}");
            if let Err(Error::BufferTooSmall { needed }) = r3 {
                assert_eq!(needed, wire.len());
            }
        } else {
            assert_eq!(r3, Err(Error::Decrypt));
        }
        results.push(r);
    }
    let (r256, r128, auto) = (&results[0], &results[1], &results[2]);
    let expect_auto = if r256.is_ok() { r256 } else { r128 };
    assert_eq!(auto, expect_auto, "Auto is not 256-then-128");
    let detected = cipher.detect(wire);
    if wire.len() <= 256 {
        let expect = if r256.is_ok() {
            Some(EncryptType::Aes256)
        } else if r128.is_ok() {
            Some(EncryptType::Aes128)
        } else {
            None
        };
        assert_eq!(detected, expect);
    }
    // A decryption is the inverse of encryption: re-encrypting with the same
    // IV gives the same wire string (space read as `+`).
    let iv: Option<[u8; IV_LEN]> = wire.as_bytes().get(..IV_LEN).and_then(|b| b.try_into().ok());
    for (ty, r) in [(EncryptType::Aes256, r256), (EncryptType::Aes128, r128)] {
        if let (Ok(pt), Some(iv)) = (r, iv) {
            if iv.iter().all(u8::is_ascii_alphanumeric) && pt.len() <= MAX_PLAINTEXT_LEN {
                let mut out = [0u8; 128];
                let again = cipher.key(ty).encrypt_with_iv(pt, &iv, &mut out).expect("re-encrypt");
                assert_eq!(again, repaired, "re-encryption differs");
            }
        }
    }
    let shown = format!("{cipher:?}");
    assert!(!shown.contains(&util::hex(cipher.key(EncryptType::Aes128).as_bytes())), "Debug shows the key");
    if results.iter().any(Result::is_ok) {
        Ok(())
    } else {
        Err("DECRYPT")
    }
}
