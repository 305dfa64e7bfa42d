//! The byte layout of the fuzz cases, read from an
//! [`arbitrary::Unstructured`]. Deliberately simple so that `seed.py` can
//! write it (and stable across `arbitrary` versions):
//!
//! | primitive | bytes |
//! |---|---|
//! | `byte` | 1 byte (0 when the input is exhausted) |
//! | `u16` / `u64` | 2 / 8 bytes little-endian (missing bytes are 0) |
//! | `bytes` | a `u16` length `L`, then `min(L, remaining)` bytes |
//! | `text` | `bytes`, cut to its longest valid UTF-8 prefix |
//! | `list(T, max)` | a `byte` count `n % (max + 1)`, then `n` × `T` |
//! | `rest` | every remaining byte |
//!
//! [`Opts`] is `byte` flags, `u64` now (Unix ms), `u64` window (ms).

use arbitrary::Unstructured;
use koosign::Freshness;

/// One byte, 0 when exhausted.
pub fn byte(u: &mut Unstructured<'_>) -> u8 {
    u.bytes(1).map(|b| b[0]).unwrap_or(0)
}

fn le(u: &mut Unstructured<'_>, n: usize) -> u64 {
    let n = n.min(u.len());
    let b = u.bytes(n).unwrap_or(&[]);
    b.iter().rev().fold(0u64, |acc, &x| (acc << 8) | u64::from(x))
}

/// Two bytes little-endian.
pub fn u16(u: &mut Unstructured<'_>) -> u16 {
    le(u, 2) as u16
}

/// Eight bytes little-endian.
pub fn u64(u: &mut Unstructured<'_>) -> u64 {
    le(u, 8)
}

/// Length-prefixed bytes.
pub fn bytes<'a>(u: &mut Unstructured<'a>) -> &'a [u8] {
    let n = usize::from(u16(u)).min(u.len());
    u.bytes(n).unwrap_or(&[])
}

/// The longest valid UTF-8 prefix of `b`.
pub fn utf8_prefix(b: &[u8]) -> &str {
    match core::str::from_utf8(b) {
        Ok(s) => s,
        Err(e) => core::str::from_utf8(&b[..e.valid_up_to()]).unwrap_or(""),
    }
}

/// Length-prefixed text.
pub fn text<'a>(u: &mut Unstructured<'a>) -> &'a str {
    utf8_prefix(bytes(u))
}

/// Every remaining byte.
pub fn rest<'a>(u: &mut Unstructured<'a>) -> &'a [u8] {
    let n = u.len();
    u.bytes(n).unwrap_or(&[])
}

/// A counted list.
pub fn list<'a, T>(u: &mut Unstructured<'a>, max: usize, mut f: impl FnMut(&mut Unstructured<'a>) -> T) -> Vec<T> {
    let n = usize::from(byte(u)) % (max + 1);
    (0..n).map(|_| f(u)).collect()
}

/// A list of text pairs.
pub fn pairs<'a>(u: &mut Unstructured<'a>, max: usize) -> Vec<(&'a str, &'a str)> {
    list(u, max, |u| (text(u), text(u)))
}

/// Common options: which keys, which freshness policy.
#[derive(Clone, Copy, Debug, Default)]
pub struct Opts {
    /// bit 0: check freshness; bit 1: custom window; bit 2: a second
    /// (non-matching) key is tried first; bit 3: use a nonce store.
    pub flags: u8,
    /// The caller's clock, Unix ms.
    pub now: u64,
    /// The window, ms (with bit 1).
    pub window: u64,
}

impl Opts {
    /// Reads `byte`, `u64`, `u64`.
    pub fn read(u: &mut Unstructured<'_>) -> Self {
        Opts { flags: byte(u), now: u64(u), window: u64(u) }
    }

    /// The freshness policy the flags ask for.
    pub fn freshness(&self) -> Freshness {
        match (self.flags & 1 != 0, self.flags & 2 != 0) {
            (false, _) => Freshness::Unchecked,
            (true, false) => Freshness::new(self.now),
            (true, true) => Freshness::with_window(self.now, self.window),
        }
    }

    /// The key list: `[key]`, or `[decoy, key]` with bit 2.
    pub fn keys<'a>(&self, decoy: &'a str, key: &'a str) -> Vec<&'a str> {
        if self.flags & 4 != 0 {
            vec![decoy, key]
        } else {
            vec![key]
        }
    }

    /// Bit 3.
    pub fn use_nonce_store(&self) -> bool {
        self.flags & 8 != 0
    }
}
