//! Hex and Base64 of exactly 32 bytes (one HMAC-SHA256). The hex codecs
//! and the constant-time Base64 encoder work eight characters at a time in
//! the byte lanes of a `u64` (SWAR: no table, no branch on the data); the
//! public Base64 encoder and the decoder of received Base64 are
//! table-driven (the values they handle are sent or received as they are).
//! The encoders of MACs are constant-time; the decoders read a *received*
//! text (public) and fold its validity without branches. Each agrees byte
//! for byte, verdict for verdict, with the library it replaces on the hot
//! paths (`base16ct`, `base64ct`, `base64`: the oracles of the tests below
//! and of `encoding.rs`'s): issue 14. The WebAssembly build keeps the
//! library codecs, which it links anyway, for its size budget (all but the
//! hex decoder and the public Base64 encoder: +776 bytes for a 7–15%
//! faster Body-Sign there).

/// `0x01` in every lane.
const ONES: u64 = 0x0101_0101_0101_0101;
/// The top bit of every lane.
const HIGH: u64 = 0x8080_8080_8080_8080;

/// Lanes (each < 0x80) that are ≥ `lo` (≤ 0x80): `0x80` there, else 0.
/// The sum stays below 0x100 in every lane, so nothing carries.
#[inline(always)]
const fn ge(x: u64, lo: u8) -> u64 {
    x.wrapping_add(ONES * (0x80 - lo as u64)) & HIGH
}

/// Lanes (each < 0x80) in `lo..=hi`: `0x80` there, else 0.
#[inline(always)]
const fn within(x: u64, lo: u8, hi: u8) -> u64 {
    ge(x, lo) & !ge(x, hi + 1)
}

/// `0x80` lane flags as `0x01` lane flags.
#[inline(always)]
const fn ones(flags: u64) -> u64 {
    flags >> 7
}

#[inline(always)]
fn load8(s: &[u8]) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&s[..8]);
    u64::from_le_bytes(w)
}

/// Eight hex digits (either case) as four bytes, and the lanes that are
/// not a hex digit (non-zero when any).
#[inline(always)]
fn hex8_decode(w: u64) -> (u32, u64) {
    let x = w & !HIGH;
    let digit = within(x, b'0', b'9');
    let alpha = within(x | (ONES * 0x20), b'a', b'f');
    let bad = (w & HIGH) | (!(digit | alpha) & HIGH);
    // '0'..'9' → low nibble; 'A'..'F' / 'a'..'f' → low nibble + 9.
    let nib = (x & (ONES * 0x0F)) + ones(alpha) * 9;
    // Lane 2k holds the high nibble of byte k, lane 2k+1 the low one.
    let t = ((nib << 4) | (nib >> 8)) & 0x00FF_00FF_00FF_00FF;
    let t = (t | (t >> 8)) & 0x0000_FFFF_0000_FFFF;
    let t = (t | (t >> 16)) & 0xFFFF_FFFF;
    (t as u32, bad)
}

/// The 32 bytes a received (public) hex text encodes: exactly 64 digits,
/// either case, else `None` (the verdict of `base16ct::mixed::decode`).
pub(crate) fn hex_decode_32(s: &[u8]) -> Option<[u8; 32]> {
    if s.len() != 64 {
        return None;
    }
    let mut out = [0u8; 32];
    let mut bad = 0u64;
    for (o, c) in out.chunks_exact_mut(4).zip(s.chunks_exact(8)) {
        let (v, b) = hex8_decode(load8(c));
        o.copy_from_slice(&v.to_le_bytes());
        bad |= b;
    }
    (bad == 0).then_some(out)
}

/// Four bytes as eight lower-case hex digits, constant-time.
#[inline(always)]
fn hex8_lower(b: &[u8]) -> u64 {
    let mut w = [0u8; 4];
    w.copy_from_slice(&b[..4]);
    let x = u64::from(u32::from_le_bytes(w));
    let x = (x | (x << 16)) & 0x0000_FFFF_0000_FFFF;
    let x = (x | (x << 8)) & 0x00FF_00FF_00FF_00FF;
    // Lane 2k: the high nibble of byte k; lane 2k+1: its low nibble.
    let nib = ((x >> 4) & 0x000F_000F_000F_000F) | ((x & 0x000F_000F_000F_000F) << 8);
    // '0' + n, and 'a' − '0' − 10 = 39 more from 10 on.
    nib + ONES * u64::from(b'0') + ones(ge(nib, 10)) * 39
}

/// Lower-case hex of 32 bytes (a MAC), constant-time: the bytes of
/// `base16ct::lower::encode`.
pub(crate) fn hex_lower_32(bytes: &[u8; 32]) -> [u8; 64] {
    let mut out = [0u8; 64];
    for (o, b) in out.chunks_exact_mut(8).zip(bytes.chunks_exact(4)) {
        o.copy_from_slice(&hex8_lower(b).to_le_bytes());
    }
    out
}

/// Upper-case hex of 32 bytes, constant-time: the bytes of
/// `base16ct::upper::encode`.
pub(crate) fn hex_upper_32(bytes: &[u8; 32]) -> [u8; 64] {
    let mut out = [0u8; 64];
    for (o, b) in out.chunks_exact_mut(8).zip(bytes.chunks_exact(4)) {
        let w = hex8_lower(b);
        // Letters ('a'..'f', the lanes ≥ 0x61) lose 0x20; digits keep it.
        let up = w - ones(ge(w, b'a')) * 0x20;
        o.copy_from_slice(&up.to_le_bytes());
    }
    out
}

/// Eight sextets (lanes, each < 64) as Standard Base64 characters,
/// constant-time: `A`–`Z` 0–25, `a`–`z` 26–51, `0`–`9` 52–61, `+`, `/`.
/// Every step stays within 0..=255 in every lane (no carry, no borrow).
#[inline(always)]
fn b64_chars(v: u64) -> u64 {
    let mut c = v + ONES * 65 + ones(ge(v, 26)) * 6;
    c -= ones(ge(v, 52)) * 75;
    c -= ones(ge(v, 62)) * 15;
    c + ones(ge(v, 63)) * 3
}

/// Six bytes (two 3-byte groups) as eight sextets in lanes.
#[inline(always)]
fn sextets(b: &[u8]) -> u64 {
    let g = |b: &[u8]| -> u64 {
        let n = (u64::from(b[0]) << 16) | (u64::from(b[1]) << 8) | u64::from(b[2]);
        (n >> 18) | (((n >> 12) & 63) << 8) | (((n >> 6) & 63) << 16) | ((n & 63) << 24)
    };
    g(&b[..3]) | (g(&b[3..6]) << 32)
}

/// Standard Base64 of 32 bytes (44 characters, one `=`), constant-time:
/// the bytes of `base64ct::Base64::encode` (and of `base64`'s `STANDARD`).
pub(crate) fn b64_encode_32(bytes: &[u8; 32]) -> [u8; 44] {
    // 36 bytes (32 and four zeros) are 12 groups, 48 characters; the
    // encoding of 32 bytes is the first 43 and `=`.
    let mut src = [0u8; 36];
    src[..32].copy_from_slice(bytes);
    let mut chars = [0u8; 48];
    for (o, b) in chars.chunks_exact_mut(8).zip(src.chunks_exact(6)) {
        o.copy_from_slice(&b64_chars(sextets(b)).to_le_bytes());
    }
    let mut out = [0u8; 44];
    out[..43].copy_from_slice(&chars[..43]);
    out[43] = b'=';
    out
}

/// The Standard Base64 alphabet.
const B64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Each byte's sextet in the Standard alphabet, `0xFF` for the others.
const B64_VALUE: [u8; 256] = {
    let mut t = [0xFFu8; 256];
    let mut i = 0;
    while i < 64 {
        t[B64[i] as usize] = i as u8;
        i += 1;
    }
    t
};

/// Standard Base64 of 32 bytes that are published as they are (a signature
/// sent out): table lookups, faster than the constant-time
/// [`b64_encode_32`] and *not* constant-time, so never for a value compared
/// against a received one. The same bytes. 64-bit targets look up two
/// characters per 12 bits in an 8 KiB table ([`b64_encode_32_pairs`]);
/// the others (the `.wasm`, whose size counts, and 32-bit embedded targets,
/// whose flash does) one character per 6 bits in the 64-byte alphabet
/// ([`b64_encode_32_chars`]). Both are tested on every host.
pub(crate) fn b64_encode_32_public(bytes: &[u8; 32]) -> [u8; 44] {
    #[cfg(target_pointer_width = "64")]
    return b64_encode_32_pairs(bytes);
    #[cfg(not(target_pointer_width = "64"))]
    return b64_encode_32_chars(bytes);
}

/// [`b64_encode_32_public`] from [`B64_PAIRS`]: six bytes (eight
/// characters) per step, read as the top of a big-endian word and written
/// as one word.
#[cfg(any(test, target_pointer_width = "64"))]
fn b64_encode_32_pairs(bytes: &[u8; 32]) -> [u8; 44] {
    let mut out = [0u8; 44];
    let pair = |n: u64| u64::from(B64_PAIRS[(n & 0xFFF) as usize]);
    // 24..32 is the last full read.
    for (i, o) in out[..40].chunks_exact_mut(8).enumerate() {
        let mut w = [0u8; 8];
        w.copy_from_slice(&bytes[6 * i..6 * i + 8]);
        let n = u64::from_be_bytes(w) >> 16;
        let v = pair(n >> 36) | (pair(n >> 24) << 16) | (pair(n >> 12) << 32) | (pair(n) << 48);
        o.copy_from_slice(&v.to_le_bytes());
    }
    b64_tail_32(bytes, &mut out);
    out
}

/// [`b64_encode_32_public`] one character per lookup in the alphabet.
#[cfg(any(test, not(target_pointer_width = "64")))]
fn b64_encode_32_chars(bytes: &[u8; 32]) -> [u8; 44] {
    let mut out = [0u8; 44];
    let char_of = |n: u32, shift: u32| B64[((n >> shift) & 63) as usize];
    for (o, b) in out[..40].chunks_exact_mut(4).zip(bytes.chunks_exact(3)) {
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        o.copy_from_slice(&[char_of(n, 18), char_of(n, 12), char_of(n, 6), char_of(n, 0)]);
    }
    b64_tail_32(bytes, &mut out);
    out
}

/// The last two bytes of 32 as three characters and `=`.
fn b64_tail_32(bytes: &[u8; 32], out: &mut [u8; 44]) {
    let n = (u32::from(bytes[30]) << 16) | (u32::from(bytes[31]) << 8);
    let char_of = |shift: u32| B64[((n >> shift) & 63) as usize];
    out[40] = char_of(18);
    out[41] = char_of(12);
    out[42] = char_of(6);
    out[43] = b'=';
}

/// The two Standard Base64 characters of each 12-bit value, first
/// character in the low byte (for [`b64_encode_32_pairs`]).
#[cfg(any(test, target_pointer_width = "64"))]
static B64_PAIRS: [u16; 4096] = {
    let mut t = [0u16; 4096];
    let mut i = 0;
    while i < 4096 {
        t[i] = (B64[i >> 6] as u16) | ((B64[i & 63] as u16) << 8);
        i += 1;
    }
    t
};

/// The 32 bytes a received (public) Base64 text encodes, if it is the
/// canonical Standard Base64 of 32 bytes (44 characters: 43 of the
/// alphabet, the last of them with its two low bits zero, then `=`), else
/// `None`: the verdict of `base64`'s `STANDARD.decode_slice` (and of
/// decoding with `base64ct` and re-encoding). Every 32 bytes have exactly
/// one such encoding, so `b64_decode_32(s) == Some(m)` exactly when
/// `s == b64_encode_32(m)`. Table-driven, validity folded without
/// branches (the input is the sender's: not constant-time).
pub(crate) fn b64_decode_32(s: &[u8]) -> Option<[u8; 32]> {
    if s.len() != 44 || s[43] != b'=' {
        return None;
    }
    let v = |c: u8| u64::from(B64_VALUE[c as usize]);
    // Eight characters (two groups) at a time: 48 bits, written as eight
    // bytes of which the next chunk overwrites the last two.
    let mut buf = [0u8; 38];
    let mut bad = 0u64;
    for (o, c) in (0..30).step_by(6).zip(s[..40].chunks_exact(8)) {
        let mut n = 0u64;
        for &ch in c {
            let x = v(ch);
            bad |= x;
            n = (n << 6) | x;
        }
        buf[o..o + 8].copy_from_slice(&(n << 16).to_be_bytes());
    }
    let (a, b, c) = (v(s[40]), v(s[41]), v(s[42]));
    // 0xFF marks a character outside the alphabet; the last one's two low
    // bits would be a 33rd byte, zero in the canonical encoding.
    bad |= a | b | c | ((c & 3) << 6);
    let n = (a << 18) | (b << 12) | (c << 6);
    buf[30..33].copy_from_slice(&(n as u32).to_be_bytes()[1..]);
    let mut out = [0u8; 32];
    out.copy_from_slice(&buf[..32]);
    (bad < 64).then_some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rng(seed: u64) -> impl FnMut() -> u8 {
        let mut x = seed;
        move || {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (x >> 56) as u8
        }
    }

    #[test]
    fn encoders_agree_with_the_libraries() {
        let mut next = rng(1);
        for i in 0..4096 {
            let m: [u8; 32] = match i {
                0 => [0; 32],
                1 => [0xFF; 32],
                _ => core::array::from_fn(|_| next()),
            };
            let mut want = [0u8; 64];
            base16ct::lower::encode(&m, &mut want).unwrap();
            assert_eq!(hex_lower_32(&m), want);
            base16ct::upper::encode(&m, &mut want).unwrap();
            assert_eq!(hex_upper_32(&m), want);
            let mut b = [0u8; 44];
            let _ = <base64ct::Base64 as base64ct::Encoding>::encode(&m, &mut b).unwrap();
            assert_eq!(b64_encode_32(&m), b);
            assert_eq!(b64_encode_32_public(&m), b);
            assert_eq!(b64_encode_32_pairs(&m), b);
            assert_eq!(b64_encode_32_chars(&m), b);
        }
    }

    /// Each pair of output characters depends on 12 input bits: every
    /// 12-bit value in each of the 20 pair slots of the first 30 bytes (over
    /// two backgrounds), against base64ct, through both encoders.
    #[test]
    fn every_12_bit_value_in_every_pair_slot() {
        for background in [0x00u8, 0xA5] {
            for slot in 0..20 {
                for v in 0..4096u32 {
                    let mut m = [background; 32];
                    for bit in 0..12 {
                        let (at, b) = ((12 * slot + bit) / 8, 7 - (12 * slot + bit) % 8);
                        let one = (v >> (11 - bit)) & 1 == 1;
                        m[at] = (m[at] & !(1 << b)) | (u8::from(one) << b);
                    }
                    let mut want = [0u8; 44];
                    let _ = <base64ct::Base64 as base64ct::Encoding>::encode(&m, &mut want).unwrap();
                    assert_eq!(b64_encode_32_pairs(&m), want, "slot {slot} value {v}");
                    assert_eq!(b64_encode_32_chars(&m), want, "slot {slot} value {v}");
                }
            }
        }
    }

    #[test]
    fn every_byte_value_in_every_position() {
        for pos in 0..32 {
            for v in 0..=255u8 {
                let mut m = [0x5Au8; 32];
                m[pos] = v;
                let mut want = [0u8; 64];
                base16ct::lower::encode(&m, &mut want).unwrap();
                assert_eq!(hex_lower_32(&m), want);
                assert_eq!(hex_decode_32(&want), Some(m));
                let mut b = [0u8; 44];
                let _ = <base64ct::Base64 as base64ct::Encoding>::encode(&m, &mut b).unwrap();
                assert_eq!(b64_encode_32(&m), b);
                assert_eq!(b64_encode_32_public(&m), b);
                assert_eq!(b64_encode_32_pairs(&m), b);
                assert_eq!(b64_encode_32_chars(&m), b);
                assert_eq!(b64_decode_32(&b), Some(m));
            }
        }
    }
}
