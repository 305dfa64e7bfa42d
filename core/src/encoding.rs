//! Byte-level encodings shared by the schemes: form decoding (Java
//! `URLDecoder`), form encoding (Java `URLEncoder`), RFC 3986 percent
//! encoding (the APIG signer's `quote(s, safe='~')`), and an output cursor
//! that reports the exact length needed when a buffer is too small.

use crate::error::{Error, Result};
use hmac::Mac;
use sha2::Digest;

/// Something canonical bytes can be streamed into: a MAC, a hash, a buffer.
pub(crate) trait Sink {
    fn put(&mut self, bytes: &[u8]);

    /// `bytes` with ASCII upper case letters lowered (in pieces of 64).
    fn put_ascii_lower(&mut self, bytes: &[u8]) {
        for chunk in bytes.chunks(64) {
            let mut low = [0u8; 64];
            let low = &mut low[..chunk.len()];
            low.copy_from_slice(chunk);
            low.make_ascii_lowercase();
            self.put(low);
        }
    }
}

impl Sink for crate::mac::HmacSha256 {
    fn put(&mut self, bytes: &[u8]) {
        self.update(bytes);
    }
}

impl Sink for sha2::Sha256 {
    fn put(&mut self, bytes: &[u8]) {
        Digest::update(self, bytes);
    }
}

/// Writes into a caller's buffer; never writes past it, and counts how many
/// bytes the whole output needs so a `BufferTooSmall` can say so.
pub(crate) struct Cursor<'a> {
    buf: &'a mut [u8],
    needed: usize,
}

impl<'a> Cursor<'a> {
    pub(crate) fn new(buf: &'a mut [u8]) -> Self {
        Cursor { buf, needed: 0 }
    }

    /// The number of bytes written (or that would have been).
    pub(crate) fn len(&self) -> usize {
        self.needed
    }

    /// The bytes already written in `range`, if they fit in the buffer.
    pub(crate) fn written(&self, range: core::ops::Range<usize>) -> Option<&[u8]> {
        self.buf.get(range)
    }

    /// Leaves `n` bytes as they are (room the caller fills later), counted
    /// as written.
    pub(crate) fn skip(&mut self, n: usize) {
        self.needed += n;
    }

    /// The whole buffer back, for callers that lay out several parts.
    pub(crate) fn into_inner(self) -> &'a mut [u8] {
        self.buf
    }

    /// Ends the output: the written prefix as `&str`, or `BufferTooSmall`.
    /// Callers only write UTF-8.
    pub(crate) fn finish_str(self) -> Result<&'a str> {
        if self.needed > self.buf.len() {
            return Err(Error::BufferTooSmall { needed: self.needed });
        }
        let out = &self.buf[..self.needed];
        core::str::from_utf8(out).map_err(|_| Error::MalformedEncoding("output is not UTF-8"))
    }
}

impl Sink for Cursor<'_> {
    fn put(&mut self, bytes: &[u8]) {
        let end = self.needed + bytes.len();
        if end <= self.buf.len() {
            self.buf[self.needed..end].copy_from_slice(bytes);
        }
        self.needed = end;
    }

    /// Copied, then lowered where it lies (one copy).
    fn put_ascii_lower(&mut self, bytes: &[u8]) {
        let start = self.needed;
        self.put(bytes);
        if let Some(dst) = self.buf.get_mut(start..self.needed) {
            dst.make_ascii_lowercase();
        }
    }
}

/// Counts bytes only.
pub(crate) struct Counter(pub(crate) usize);

impl Sink for Counter {
    fn put(&mut self, bytes: &[u8]) {
        self.0 += bytes.len();
    }
}

const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";

const fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// The 32 bytes a *received* (public) hex text encodes (64 digits, either
/// case), else `None`. Not constant-time (the input is the sender's): the
/// verdict of comparing its bytes with an expected MAC is that of decoding
/// it with `base16ct::mixed` and comparing, without encoding the MAC.
/// Eight digits at a time ([`crate::codec::hex_decode_32`]).
pub(crate) fn hex_decode_32_public(s: &[u8]) -> Option<[u8; 32]> {
    crate::codec::hex_decode_32(s)
}

/// The value of each byte as a hex digit (either case), 0xFF for others
/// (the table of the former decoder, kept as the tests' oracle).
#[cfg(test)]
const HEX_DIGIT: [u8; 256] = {
    let mut t = [0xFFu8; 256];
    let mut b = 0;
    while b < 256 {
        if let Some(v) = hex_val(b as u8) {
            t[b] = v;
        }
        b += 1;
    }
    t
};

/// Form-decodes `src` (`+` → space, `%XY` → byte) into `out`, returning the
/// number of bytes written. `out` must be at least `src.len()` long (the
/// decoded form is never longer). An incomplete or non-hex escape is an
/// error, as in Java's `URLDecoder`. (Protocol detection decodes a query
/// name with it; the query decoder of crate::form is its own.)
pub(crate) fn form_decode_into(src: &[u8], out: &mut [u8]) -> Result<usize> {
    percent_decode_impl(src, out, true, true)
}

/// Percent-decodes without touching `+`; invalid escapes are kept as they
/// are (Python's `unquote`). Used for the APIG path.
pub(crate) fn path_decode_into(src: &[u8], out: &mut [u8]) -> Result<usize> {
    percent_decode_impl(src, out, false, false)
}

fn percent_decode_impl(src: &[u8], out: &mut [u8], plus: bool, strict: bool) -> Result<usize> {
    if out.len() < src.len() {
        return Err(Error::BufferTooSmall { needed: src.len() });
    }
    let mut i = 0;
    let mut o = 0;
    while i < src.len() {
        // Fast path: copy a run without `%` or `+` at once.
        let run = src[i..].iter().position(|&b| b == b'%' || (plus && b == b'+')).unwrap_or(src.len() - i);
        if run > 0 {
            out[o..o + run].copy_from_slice(&src[i..i + run]);
            i += run;
            o += run;
            continue;
        }
        let b = src[i];
        if b == b'%' {
            let hi = src.get(i + 1).copied().and_then(hex_val);
            let lo = src.get(i + 2).copied().and_then(hex_val);
            match (hi, lo) {
                (Some(h), Some(l)) => {
                    out[o] = (h << 4) | l;
                    i += 3;
                }
                _ if strict => return Err(Error::MalformedEncoding("invalid percent escape")),
                _ => {
                    out[o] = b;
                    i += 1;
                }
            }
        } else {
            out[o] = if plus && b == b'+' { b' ' } else { b };
            i += 1;
        }
        o += 1;
    }
    Ok(o)
}

/// Java `URLEncoder.encode(s, UTF_8)`: `a-z A-Z 0-9 . - * _` kept, space as
/// `+`, everything else `%XY` (upper case) per UTF-8 byte.
pub(crate) fn form_encode(src: &[u8], sink: &mut impl Sink) {
    for &b in src {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'.' | b'-' | b'*' | b'_' => sink.put(&[b]),
            b' ' => sink.put(b"+"),
            _ => sink.put(&[b'%', HEX_UPPER[(b >> 4) as usize], HEX_UPPER[(b & 15) as usize]]),
        }
    }
}

/// The length of the leading run of RFC 3986 unreserved bytes in `s`
/// (with `/` too when `slash`): eight bytes at a time, each byte's class
/// found with carry-free byte-wise additions in one `u64`; the last bytes
/// one by one.
pub(crate) fn unreserved_run(s: &[u8], slash: bool) -> usize {
    const L: u64 = 0x0101_0101_0101_0101;
    const H: u64 = 0x8080_8080_8080_8080;
    // High bit of each byte of `y` (7-bit bytes) set when lo <= byte <= hi.
    let range = |y: u64, lo: u8, hi: u8| (y + L * u64::from(128 - lo)) & !(y + L * u64::from(127 - hi)) & H;
    let mut run = 0;
    for chunk in s.chunks_exact(8) {
        let Ok(bytes) = <[u8; 8]>::try_from(chunk) else { break };
        let x = u64::from_le_bytes(bytes);
        let y = x & !H;
        // `-` `.` `/` and the digits are 0x2D..=0x39; letters in either
        // case fold onto `a`..=`z` with 0x20 set (and nothing else does).
        let mut good = range(y, b'-', b'9') | range(y | (L * 0x20), b'a', b'z') | range(y, b'_', b'_') | range(y, b'~', b'~');
        if !slash {
            good &= !range(y, b'/', b'/');
        }
        let bad = (!good & H) | (x & H);
        if bad != 0 {
            return run + (bad.trailing_zeros() / 8) as usize;
        }
        run += 8;
    }
    let keep = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') || (slash && b == b'/');
    run + s[run..].iter().position(|&b| !keep(b)).unwrap_or(s.len() - run)
}

/// RFC 3986 encoding as the APIG signer does it (Python
/// `quote(s, safe='~')`): `A-Z a-z 0-9 - _ . ~` kept, the rest `%XY`.
/// Runs of kept bytes go to the sink in one piece.
pub(crate) fn uri_encode(src: &[u8], sink: &mut impl Sink) {
    let mut rest = src;
    while !rest.is_empty() {
        let run = unreserved_run(rest, false);
        if run > 0 {
            sink.put(&rest[..run]);
        }
        if let Some(&b) = rest.get(run) {
            sink.put(&[b'%', HEX_UPPER[(b >> 4) as usize], HEX_UPPER[(b & 15) as usize]]);
            rest = &rest[run + 1..];
        } else {
            break;
        }
    }
}

/// Takes the query part of a URL (after the first `?`, before `#`), or the
/// input itself when it has no `?` (then a leading `?` is not expected).
pub fn query_of(url_or_query: &str) -> &str {
    let s = match url_or_query.find('?') {
        Some(i) => &url_or_query[i + 1..],
        None => url_or_query,
    };
    match s.find('#') {
        Some(i) => &s[..i],
        None => s,
    }
}

// The WebAssembly build keeps the library codecs (base16ct, base64ct),
// which it links anyway, for its size budget (bindings-wasm), all but the
// public Base64 encoder (b64_32_public: +776 bytes, Body-Sign 7-15% faster);
// elsewhere the core's own 32-byte codecs (crate::codec), faster, the same
// bytes and verdicts (the equivalence tests below).

/// Upper-case hex of 32 bytes, constant-time ([`crate::codec::hex_upper_32`]:
/// the bytes of `base16ct::upper`).
pub(crate) fn hex32_upper(bytes: &[u8; 32]) -> [u8; 64] {
    #[cfg(not(target_arch = "wasm32"))]
    return crate::codec::hex_upper_32(bytes);
    #[cfg(target_arch = "wasm32")]
    {
        let mut out = [0u8; 64];
        let _ = base16ct::upper::encode(bytes, &mut out);
        out
    }
}

/// Lower-case hex of 32 bytes, constant-time ([`crate::codec::hex_lower_32`]:
/// the bytes of `base16ct::lower`).
pub(crate) fn hex32_lower(bytes: &[u8; 32]) -> [u8; 64] {
    #[cfg(not(target_arch = "wasm32"))]
    return crate::codec::hex_lower_32(bytes);
    #[cfg(target_arch = "wasm32")]
    {
        let mut out = [0u8; 64];
        let _ = base16ct::lower::encode(bytes, &mut out);
        out
    }
}

/// Standard Base64 of 32 bytes (44 characters), constant-time
/// ([`crate::codec::b64_encode_32`]: the bytes of `base64ct`).
pub(crate) fn b64_32(bytes: &[u8; 32]) -> [u8; 44] {
    #[cfg(not(target_arch = "wasm32"))]
    return crate::codec::b64_encode_32(bytes);
    #[cfg(target_arch = "wasm32")]
    {
        use base64ct::Encoding;
        let mut out = [0u8; 44];
        let _ = base64ct::Base64::encode(bytes, &mut out);
        out
    }
}

/// Standard Base64 of 32 bytes that are published as they are (a
/// signature the caller sends out): table-driven, so *not* constant-time;
/// never for a value compared against a received one (use [`b64_32`])
/// ([`crate::codec::b64_encode_32_public`], in the WebAssembly build too:
/// its 64-byte table is smaller and faster than base64ct there).
pub(crate) fn b64_32_public(bytes: &[u8; 32]) -> [u8; 44] {
    crate::codec::b64_encode_32_public(bytes)
}

/// The 32 bytes a *received* (public) Base64 text encodes, if it is the
/// canonical Standard Base64 of 32 bytes (44 characters, one `=`, zero
/// trailing bits), else `None` ([`crate::codec::b64_decode_32`]; not
/// constant-time: the input is the sender's). Since every 32 bytes have
/// exactly one canonical encoding, `decode(s) == Some(m)` exactly when
/// `s == b64_32(m)`: a verifier may compare the raw MAC instead of
/// encoding it.
pub(crate) fn b64_decode_32_public(s: &[u8]) -> Option<[u8; 32]> {
    #[cfg(not(target_arch = "wasm32"))]
    return crate::codec::b64_decode_32(s);
    // The WebAssembly build keeps one Base64 implementation (its size).
    #[cfg(target_arch = "wasm32")]
    return b64_decode_32_base64ct(s);
}

/// The WebAssembly build's decoder of [`b64_decode_32_public`]: decoded
/// with base64ct, then accepted only if it is the canonical encoding
/// (re-encoded, compared): the same verdict as the native one (the unit
/// tests compare the two).
#[cfg(any(test, target_arch = "wasm32"))]
fn b64_decode_32_base64ct(s: &[u8]) -> Option<[u8; 32]> {
    use base64ct::Encoding;
    if s.len() != 44 {
        return None;
    }
    let mut out = [0u8; 32];
    let decoded = matches!(base64ct::Base64::decode(s, &mut out), Ok(d) if d.len() == 32);
    if decoded && b64_32(&out)[..] == *s {
        Some(out)
    } else {
        None
    }
}

/// A fixed-size ASCII text (a signature, a token, a header value) that
/// borrows nothing and needs no allocator.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct FixedText<const N: usize> {
    bytes: [u8; N],
    len: usize,
}

impl<const N: usize> FixedText<N> {
    /// All `N` bytes (ASCII).
    pub(crate) const fn from_array(bytes: [u8; N]) -> Self {
        FixedText { bytes, len: N }
    }

    pub(crate) fn from_parts(parts: &[&[u8]]) -> Self {
        let mut bytes = [0u8; N];
        let mut len = 0;
        for p in parts {
            bytes[len..len + p.len()].copy_from_slice(p);
            len += p.len();
        }
        FixedText { bytes, len }
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        // Only ASCII is ever stored.
        core::str::from_utf8(&self.bytes[..self.len]).unwrap_or("")
    }

    /// The text as bytes.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

impl<const N: usize> core::fmt::Display for FixedText<N> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl<const N: usize> core::fmt::Debug for FixedText<N> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        core::fmt::Debug::fmt(self.as_str(), f)
    }
}

impl<const N: usize> AsRef<str> for FixedText<N> {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

#[cfg(test)]
mod tests {
    use super::{b64_32, b64_decode_32_public, hex_decode_32_public};

    #[test]
    fn public_hex_decode_agrees_with_base16ct_mixed() {
        let mut x = 0x2545_F491_4F6C_DD1Du64;
        let mut next = || {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (x >> 56) as u8
        };
        for _ in 0..256 {
            let m: [u8; 32] = core::array::from_fn(|_| next());
            let mut s = [0u8; 64];
            base16ct::lower::encode(&m, &mut s).unwrap();
            // Mixed case, then one byte replaced by any value.
            for (i, c) in s.iter_mut().enumerate() {
                if next() & 1 == 0 || i % 7 == 0 {
                    c.make_ascii_uppercase();
                }
            }
            assert_eq!(hex_decode_32_public(&s), Some(m));
            let mut t = s;
            let at = next() as usize % 64;
            t[at] = next();
            let mut want = [0u8; 32];
            let decoded = base16ct::mixed::decode(&t, &mut want).is_ok();
            let reference = decoded.then_some(want);
            assert_eq!(hex_decode_32_public(&t), reference);
            assert_eq!(hex_decode_32_public(&s[..63]), None);
        }
    }

    #[test]
    fn public_decode_is_the_inverse_of_the_encoder() {
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/= -_.";
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        for _ in 0..64 {
            let m: [u8; 32] = core::array::from_fn(|_| {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                (x >> 56) as u8
            });
            let s = b64_32(&m);
            assert_eq!(b64_decode_32_public(&s), Some(m));
            // Every one-character change: accepted exactly when it is the
            // canonical encoding of what it decodes to.
            for i in 0..44 {
                for &c in alphabet {
                    let mut t = s;
                    t[i] = c;
                    match b64_decode_32_public(&t) {
                        Some(d) => assert_eq!(b64_32(&d), t),
                        None => assert_ne!(t, s),
                    }
                }
            }
            // And every encoding is accepted (no false refusal).
            for bit in 0..256 {
                let mut d = m;
                d[bit / 8] ^= 1 << (bit % 8);
                assert_eq!(b64_decode_32_public(&b64_32(&d)), Some(d));
            }
            assert_eq!(b64_decode_32_public(&s[..43]), None);
        }
    }

    /// The codecs before issue 14's SWAR rewrite (crate::codec), kept as
    /// the oracles of the equivalence tests below.
    mod oracle {
        use super::super::HEX_DIGIT;

        pub(super) fn hex_decode_32_public(s: &[u8]) -> Option<[u8; 32]> {
            if s.len() != 64 {
                return None;
            }
            let mut out = [0u8; 32];
            let mut bad = 0u8;
            for (o, pair) in out.iter_mut().zip(s.chunks_exact(2)) {
                let (hi, lo) = (HEX_DIGIT[pair[0] as usize], HEX_DIGIT[pair[1] as usize]);
                bad |= hi | lo;
                *o = (hi << 4) | (lo & 15);
            }
            (bad < 16).then_some(out)
        }

        pub(super) fn hex32_upper(bytes: &[u8; 32]) -> [u8; 64] {
            let mut out = [0u8; 64];
            let _ = base16ct::upper::encode(bytes, &mut out);
            out
        }

        pub(super) fn hex32_lower(bytes: &[u8; 32]) -> [u8; 64] {
            let mut out = [0u8; 64];
            let _ = base16ct::lower::encode(bytes, &mut out);
            out
        }

        pub(super) fn b64_32(bytes: &[u8; 32]) -> [u8; 44] {
            use base64ct::Encoding;
            let mut out = [0u8; 44];
            let _ = base64ct::Base64::encode(bytes, &mut out);
            out
        }

        pub(super) fn b64_32_public(bytes: &[u8; 32]) -> [u8; 44] {
            use base64::Engine;
            let mut out = [0u8; 44];
            let _ = base64::engine::general_purpose::STANDARD.encode_slice(bytes, &mut out);
            out
        }

        /// The former non-WebAssembly decoder (`base64`'s STANDARD).
        pub(super) fn b64_decode_32_public(s: &[u8]) -> Option<[u8; 32]> {
            use base64::Engine;
            if s.len() != 44 {
                return None;
            }
            let mut out = [0u8; 33];
            match base64::engine::general_purpose::STANDARD.decode_slice(s, &mut out) {
                Ok(32) => {
                    let mut m = [0u8; 32];
                    m.copy_from_slice(&out[..32]);
                    Some(m)
                }
                _ => None,
            }
        }

    }

    struct Rng(u64);
    impl Rng {
        fn byte(&mut self) -> u8 {
            self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (self.0 >> 56) as u8
        }
        fn below(&mut self, n: usize) -> usize {
            (u32::from_le_bytes([self.byte(), self.byte(), self.byte(), self.byte()]) as usize) % n
        }
    }

    /// Bytes at and around every boundary the decoders test, and others.
    const HOSTILE: &[u8] = b"/09:@AFGZ[`afgz{+=-_. \t\n\0\x7f\x80\xb0\xc1\xe6\xff";

    fn hostile_text(r: &mut Rng, len: usize, alphabet: &[u8]) -> [u8; 72] {
        let mut t = [0u8; 72];
        for c in t[..len].iter_mut() {
            *c = match r.below(4) {
                0 => HOSTILE[r.below(HOSTILE.len())],
                1 => r.byte(),
                _ => alphabet[r.below(alphabet.len())],
            };
        }
        t
    }

    #[test]
    fn swar_encoders_equal_the_former_ones() {
        let mut r = Rng(7);
        for i in 0..20_000 {
            let m: [u8; 32] = match i {
                0 => [0; 32],
                1 => [0xFF; 32],
                2 => core::array::from_fn(|j| j as u8 * 8),
                _ => core::array::from_fn(|_| r.byte()),
            };
            assert_eq!(super::hex32_lower(&m), oracle::hex32_lower(&m));
            assert_eq!(super::hex32_upper(&m), oracle::hex32_upper(&m));
            assert_eq!(b64_32(&m), oracle::b64_32(&m));
            assert_eq!(super::b64_32_public(&m), oracle::b64_32_public(&m));
        }
    }

    #[test]
    fn swar_hex_decoder_equals_the_former_one_on_hostile_input() {
        let digits = b"0123456789abcdefABCDEF";
        let mut r = Rng(11);
        // Every byte value at every position of a valid text.
        let m: [u8; 32] = core::array::from_fn(|_| r.byte());
        let good = oracle::hex32_lower(&m);
        for at in 0..64 {
            for v in 0..=255u8 {
                let mut t = good;
                t[at] = v;
                assert_eq!(hex_decode_32_public(&t), oracle::hex_decode_32_public(&t), "{at} {v}");
            }
        }
        // Random texts of every length around 64, mostly digits.
        for _ in 0..200_000 {
            let len = [64, 64, 64, 63, 65, 0, 1, 32, 72][r.below(9)];
            let t = hostile_text(&mut r, len, digits);
            let t = &t[..len];
            assert_eq!(hex_decode_32_public(t), oracle::hex_decode_32_public(t), "{t:?}");
        }
        // Texts with every digit valid: mixed case.
        for _ in 0..20_000 {
            let t: [u8; 64] = core::array::from_fn(|_| digits[r.below(digits.len())]);
            let d = hex_decode_32_public(&t);
            assert!(d.is_some());
            assert_eq!(d, oracle::hex_decode_32_public(&t));
        }
    }

    #[test]
    fn swar_b64_decoder_equals_the_former_ones_on_hostile_input() {
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut r = Rng(13);
        let check = |t: &[u8]| {
            let got = b64_decode_32_public(t);
            assert_eq!(got, oracle::b64_decode_32_public(t), "{t:?}");
            assert_eq!(got, crate::encoding::b64_decode_32_base64ct(t), "{t:?}");
        };
        for _ in 0..8 {
            let m: [u8; 32] = core::array::from_fn(|_| r.byte());
            let good = b64_32(&m);
            // Every byte value at every position, and every pair of
            // positions with a few values (the `=` and the last character).
            for at in 0..44 {
                for v in 0..=255u8 {
                    let mut t = good;
                    t[at] = v;
                    check(&t);
                }
            }
            for a in 40..44 {
                for b in 40..44 {
                    for (x, y) in [(b'=', b'='), (b'A', b'='), (b'=', b'A'), (b'B', b'B'), (b'/', b'+')] {
                        let mut t = good;
                        t[a] = x;
                        t[b] = y;
                        check(&t);
                    }
                }
            }
        }
        // Every value of the 43rd character (the one with trailing bits).
        for v in 0..=255u8 {
            let mut t = b64_32(&[0x33; 32]);
            t[42] = v;
            check(&t);
        }
        for _ in 0..200_000 {
            let len = [44, 44, 44, 43, 45, 0, 4, 72][r.below(8)];
            let mut t = hostile_text(&mut r, len, alphabet);
            if len == 44 && r.below(2) == 0 {
                t[43] = b'=';
            }
            check(&t[..len]);
        }
        // Random canonical encodings are accepted.
        for _ in 0..20_000 {
            let m: [u8; 32] = core::array::from_fn(|_| r.byte());
            assert_eq!(b64_decode_32_public(&b64_32(&m)), Some(m));
        }
    }
}

#[cfg(test)]
mod unreserved_tests {
    use super::*;

    /// The eight-at-a-time run against the byte-by-byte definition: every
    /// byte value at every position of strings of 1 to 19 bytes.
    #[test]
    fn the_run_is_the_scalar_run() {
        for slash in [false, true] {
            let keep = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') || (slash && b == b'/');
            for len in 1..20 {
                for pos in 0..len {
                    for b in 0..=255u8 {
                        let mut s = [b'a'; 20];
                        s[pos] = b;
                        let s = &s[..len];
                        let want = s.iter().position(|&c| !keep(c)).unwrap_or(len);
                        assert_eq!(unreserved_run(s, slash), want, "{s:?} {slash}");
                    }
                }
            }
        }
    }
}
