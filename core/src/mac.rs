//! HMAC-SHA256 helpers: keys made of two parts (V1's `key + timeStamp`),
//! constant-time comparison, and matching against several access keys.

use crate::error::{Error, Result};
use hmac::{KeyInit, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::{Zeroize, Zeroizing};

pub(crate) type HmacSha256 = hmac::Hmac<Sha256>;

/// SHA-256's block size; HMAC hashes longer keys first.
pub(crate) const BLOCK: usize = 64;

/// HMAC keyed with `a || b` without allocating: a key up to one block is
/// copied into a zeroized stack buffer; a longer one is replaced by its
/// SHA-256 digest, exactly as HMAC itself does (RFC 2104 §2).
#[inline]
pub(crate) fn hmac_two_part_key(a: &[u8], b: &[u8]) -> HmacSha256 {
    let total = a.len() + b.len();
    if total <= BLOCK {
        let mut key = Zeroizing::new([0u8; BLOCK]);
        key[..a.len()].copy_from_slice(a);
        key[a.len()..total].copy_from_slice(b);
        mac_new(&key[..total])
    } else {
        let mut h = Sha256::new();
        Digest::update(&mut h, a);
        Digest::update(&mut h, b);
        let digest = Zeroizing::new(<[u8; 32]>::from(h.finalize()));
        mac_new(&digest[..])
    }
}

#[inline]
pub(crate) fn mac_new(key: &[u8]) -> HmacSha256 {
    match HmacSha256::new_from_slice(key) {
        Ok(m) => m,
        // HMAC accepts keys of every length; this arm is unreachable.
        Err(_) => unreachable_hmac(),
    }
}

#[cold]
fn unreachable_hmac() -> HmacSha256 {
    // An empty key is valid for HMAC, so this never runs; avoid panicking.
    <HmacSha256 as KeyInit>::new(&Default::default())
}

#[inline]
pub(crate) fn finish(mac: HmacSha256) -> [u8; 32] {
    mac.finalize().into_bytes().into()
}

/// HMAC-SHA256 of `msg` under `key`.
#[inline]
pub(crate) fn hmac(key: &[u8], msg: &[u8]) -> [u8; 32] {
    let mut m = mac_new(key);
    m.update(msg);
    finish(m)
}

/// Bytes staged by [`update_joined`] before one `update` (four SHA-256 blocks).
const STAGE: usize = 4 * BLOCK;

/// Absorbs `secret ‖ parts… ‖ tail` into `mac`, exactly as one `update`
/// of their concatenation would (HMAC is a stream: how a message is cut into
/// `update` calls never changes the MAC), in as few calls as possible.
/// Every `update` that does not end on a block boundary costs the hash an
/// extra partial-block copy and compression call: `secret` and `parts` (the
/// short pieces: a key, a nonce, a timestamp, a separator) are copied into a
/// stack stage together with as much of the head of `tail` (the body) as
/// brings the total to a block boundary, then the rest of `tail` goes to the
/// hash in one call, straight from the caller's slice.
///
/// `offset` is the number of bytes `mac` has absorbed before (only its
/// position in a block matters, and only for speed). `secret` (an access
/// key, or empty) is wiped from the stage before it is dropped; `parts` and
/// `tail` must be public bytes.
#[inline]
pub(crate) fn update_joined(mac: &mut HmacSha256, offset: usize, secret: &[u8], parts: &[&[u8]], tail: &[u8]) {
    let mut stage = [0u8; STAGE];
    let mut at = 0;
    for p in core::iter::once(secret).chain(parts.iter().copied()) {
        let mut p = p;
        while !p.is_empty() {
            if at == STAGE {
                // A full stage is a whole number of blocks: alignment kept.
                mac.update(&stage);
                at = 0;
            }
            let n = p.len().min(STAGE - at);
            stage[at..at + n].copy_from_slice(&p[..n]);
            at += n;
            p = &p[n..];
        }
    }
    // The head of `tail` that ends the staged bytes on a block boundary.
    let head = (BLOCK - (offset + at) % BLOCK) % BLOCK;
    let head = head.min(tail.len()).min(STAGE - at);
    stage[at..at + head].copy_from_slice(&tail[..head]);
    at += head;
    mac.update(&stage[..at]);
    if head < tail.len() {
        mac.update(&tail[head..]);
    }
    if !secret.is_empty() {
        // A key longer than the stage has filled all of it.
        let wipe = secret.len().min(STAGE);
        stage[..wipe].zeroize();
    }
}

/// Checks the key list: at least one key, none empty.
pub(crate) fn check_keys(keys: &[&str]) -> Result<()> {
    if keys.is_empty() || keys.iter().any(|k| k.is_empty()) {
        return Err(Error::NoAccessKey);
    }
    Ok(())
}

/// One access key as a scheme's code needs it: its bytes (V1 keys its HMAC
/// with `key + timeStamp`, S2 signs the key itself), and HMAC states keyed
/// with it. The one-shot functions build these per call ([`RawKey`],
/// [`OneShotKey`]); the merchant context holds them precomputed
/// ([`crate::merchant::Merchant`]), so both run the same scheme code.
pub(crate) trait Keyed {
    /// The access key.
    fn key(&self) -> &str;
    /// The access key's UTF-8 bytes.
    fn key_bytes(&self) -> &[u8] {
        self.key().as_bytes()
    }
    /// A fresh HMAC-SHA256 state keyed with the access key.
    fn mac(&self) -> HmacSha256;
    /// The keyed state with the access key itself already absorbed as the
    /// first message bytes (S2 and S2b sign `key + nonce + …`).
    fn mac_after_key(&self) -> HmacSha256 {
        let mut m = self.mac();
        m.update(self.key_bytes());
        m
    }
}

impl Keyed for str {
    fn key(&self) -> &str {
        self
    }
    fn mac(&self) -> HmacSha256 {
        mac_new(self.as_bytes())
    }
}

/// An access key keyed on demand: each `mac()` runs the HMAC key setup (for
/// a one-shot operation that needs one keyed state, or none, as V1).
#[derive(Clone, Copy)]
pub(crate) struct RawKey<'a>(pub(crate) &'a str);

impl Keyed for RawKey<'_> {
    fn key(&self) -> &str {
        self.0
    }
    fn mac(&self) -> HmacSha256 {
        mac_new(self.0.as_bytes())
    }
}

/// An access key keyed once, its state cloned for each use (a one-shot
/// operation that needs the keyed state twice: S2).
pub(crate) struct OneShotKey<'a> {
    key: &'a str,
    keyed: HmacSha256,
}

impl<'a> OneShotKey<'a> {
    pub(crate) fn new(key: &'a str) -> Self {
        OneShotKey { key, keyed: mac_new(key.as_bytes()) }
    }
}

impl Keyed for OneShotKey<'_> {
    fn key(&self) -> &str {
        self.key
    }
    fn mac(&self) -> HmacSha256 {
        self.keyed.clone()
    }
}

impl<T: Keyed + ?Sized> Keyed for &T {
    fn key(&self) -> &str {
        (**self).key()
    }
    fn mac(&self) -> HmacSha256 {
        (**self).mac()
    }
    fn key_bytes(&self) -> &[u8] {
        (**self).key_bytes()
    }
    fn mac_after_key(&self) -> HmacSha256 {
        (**self).mac_after_key()
    }
}

/// Runs `expected(key)` for every key and compares it in constant time with
/// `received`; returns the index of the first key that matched. Every key is
/// tried whatever matches, so timing does not tell which key matched.
/// `NoAccessKey` when `keys` yields none.
pub(crate) fn match_keys<const N: usize, K: Keyed>(
    keys: impl Iterator<Item = K>,
    received: &[u8],
    mut expected: impl FnMut(&K) -> [u8; N],
) -> Result<usize> {
    let mut found: Option<usize> = None;
    let mut count = 0;
    for (i, k) in keys.enumerate() {
        count += 1;
        let exp = Zeroizing::new(expected(&k));
        let ok: bool = ct_eq(&exp[..], received);
        if ok && found.is_none() {
            found = Some(i);
        }
    }
    if count == 0 {
        return Err(Error::NoAccessKey);
    }
    found.ok_or(Error::SignatureMismatch)
}

/// [`match_keys`] over a list of access key strings (checked first:
/// `NoAccessKey` for none or an empty one).
pub(crate) fn match_any<const N: usize>(
    keys: &[&str],
    received: &[u8],
    mut expected: impl FnMut(&str) -> [u8; N],
) -> Result<usize> {
    check_keys(keys)?;
    match_keys(keys.iter().copied(), received, |k| expected(k))
}

/// Constant-time equality (length is not secret): the differences of all
/// bytes folded eight at a time into one word without a branch, then one
/// `subtle` comparison of that word with zero.
pub(crate) fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let (wa, wb) = (a.chunks_exact(8), b.chunks_exact(8));
    let mut diff = 0u64;
    for (x, y) in wa.remainder().iter().zip(wb.remainder()) {
        diff |= u64::from(x ^ y);
    }
    for (x, y) in wa.zip(wb) {
        let word = |c: &[u8]| {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            u64::from_le_bytes(w)
        };
        diff |= word(x) ^ word(y);
    }
    bool::from(diff.ct_eq(&0))
}

/// Public constant-time comparison of two signatures or tokens, for code
/// that compares values computed elsewhere. Lengths are not secret.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    ct_eq(a, b)
}

#[cfg(test)]
mod tests {
    use super::ct_eq;

    /// `update_joined` is one `update` of the concatenation, whatever the
    /// lengths (around the stage and block sizes), the offset and the
    /// number of parts: against HMAC over the joined bytes.
    #[test]
    fn update_joined_is_the_concatenation() {
        use super::{hmac, mac_new, update_joined, BLOCK, STAGE};
        use hmac::Mac;
        let mut x = 0x0123_4567_89AB_CDEFu64;
        let mut next = |n: usize| {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (x >> 33) as usize % n
        };
        let data: [u8; 1200] = core::array::from_fn(|i| (i * 7 + i / 13) as u8);
        let lens = [0, 1, 2, 13, 31, 63, 64, 65, 127, 128, 129, STAGE - 1, STAGE, STAGE + 1, 2 * STAGE + 3, 700];
        for round in 0..3000 {
            let mut len = || if round % 2 == 0 { lens[next(lens.len())] } else { next(400) };
            let (key_len, secret_len, tail_len) = (len(), len(), len());
            let part_lens: [usize; 4] = core::array::from_fn(|_| len() % 300);
            let nparts = next(5);
            let pre = next(2 * BLOCK + 1);
            let key = &data[..key_len];
            // The expected MAC over pre ‖ secret ‖ parts ‖ tail, at once.
            let mut joined = [0u8; 4000];
            let mut at = 0;
            let mut push = |b: &[u8]| {
                joined[at..at + b.len()].copy_from_slice(b);
                at += b.len();
            };
            let pre_bytes = &data[100..100 + pre];
            let secret = &data[200..200 + secret_len];
            push(pre_bytes);
            push(secret);
            let parts: [&[u8]; 4] = core::array::from_fn(|i| &data[i * 50..i * 50 + part_lens[i]]);
            for p in &parts[..nparts] {
                push(p);
            }
            let tail = &data[300..300 + tail_len];
            push(tail);
            let want = hmac(key, &joined[..at]);
            let mut m = mac_new(key);
            m.update(pre_bytes);
            update_joined(&mut m, pre, secret, &parts[..nparts], tail);
            assert_eq!(<[u8; 32]>::from(m.finalize().into_bytes()), want, "round {round}");
        }
    }

    #[test]
    fn ct_eq_every_length_and_position() {
        for n in 0..=72usize {
            let a: [u8; 72] = core::array::from_fn(|i| i as u8 ^ 0x5a);
            assert!(ct_eq(&a[..n], &a[..n]));
            for i in 0..n {
                for bit in [1u8, 0x80] {
                    let mut b = a;
                    b[i] ^= bit;
                    assert!(!ct_eq(&a[..n], &b[..n]), "n={n} i={i}");
                }
            }
            if n > 0 {
                assert!(!ct_eq(&a[..n], &a[..n - 1]));
            }
        }
    }
}
