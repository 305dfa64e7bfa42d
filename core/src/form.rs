//! Query strings: `application/x-www-form-urlencoded` parsing into a
//! caller's scratch buffer, no allocation.

use crate::error::{Error, Result};

/// The most parameters a query may carry (more is `InputTooLarge`).
pub const MAX_PARAMS: usize = 64;

/// Decoded `name=value` pairs of a query string, in the order received.
/// Names and values borrow the scratch buffer given to [`parse_form`].
#[derive(Clone, Default)]
pub struct FormPairs<'s> {
    pairs: heapless::Vec<(&'s str, &'s str), MAX_PARAMS>,
}

impl<'s> FormPairs<'s> {
    pub(crate) fn from_vec(pairs: heapless::Vec<(&'s str, &'s str), MAX_PARAMS>) -> Self {
        FormPairs { pairs }
    }

    /// All pairs, in order received, repeated names included.
    pub fn as_slice(&self) -> &[(&'s str, &'s str)] {
        &self.pairs
    }

    /// The first value of `name` (the rule of every KooGallery scheme).
    pub fn get(&self, name: &str) -> Option<&'s str> {
        self.pairs.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
    }

    /// Number of pairs.
    pub fn len(&self) -> usize {
        self.pairs.len()
    }

    /// True when the query had no pairs.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }
}

/// Where one decoded pair lies in the decoded text: name `start..mid`,
/// value `value..end` (the separators stay in the text between them).
#[derive(Clone, Copy)]
pub(crate) struct PairRange {
    pub(crate) start: usize,
    pub(crate) mid: usize,
    pub(crate) value: usize,
    pub(crate) end: usize,
    /// An escape in this pair decoded to `&` or `=` (the only way its
    /// decoded name can hold either, or its decoded value an `&`: §S1
    /// item 10 can only refuse such a pair).
    pub(crate) escaped_separator: bool,
}

/// The layout of a decoded query: one range per pair, in order received.
pub(crate) type Layout = heapless::Vec<PairRange, MAX_PARAMS>;

const E_UTF8: Error = Error::MalformedEncoding("decoded query is not UTF-8");

/// The name and value of `r` in `text`. The text is the decoded names
/// and values with the ASCII separators `&` and `=` kept between them, so
/// it is UTF-8 exactly when each name and value is, and every range falls
/// on character boundaries (`None` here cannot happen; it is an error all
/// the same).
#[inline]
pub(crate) fn pair_at(text: &str, r: PairRange) -> Result<(&str, &str)> {
    match (text.get(r.start..r.mid), text.get(r.value..r.end)) {
        (Some(n), Some(v)) => Ok((n, v)),
        _ => Err(E_UTF8),
    }
}

/// The range of a pair decoded at `start..end` whose first `=` (if any)
/// was written at `mid`.
#[inline]
fn range(start: usize, mid: Option<usize>, end: usize, escaped_separator: bool) -> PairRange {
    match mid {
        Some(m) => PairRange { start, mid: m, value: m + 1, end, escaped_separator },
        None => PairRange { start, mid: end, value: end, end, escaped_separator },
    }
}

/// `0x01` in every byte lane of a `u64`.
const LO: u64 = 0x0101_0101_0101_0101;
/// The top bit of every byte lane.
const HI: u64 = 0x8080_8080_8080_8080;

/// The bytes of `x` equal to `c`, as the high bit of each byte: the
/// zero-byte test of `x ^ c…c`. Only the lowest set bit is exact (a borrow
/// may flag a byte above a match): for finding the first match, word at a
/// time (here and in the JSON string scanner).
#[inline(always)]
pub(crate) fn first_eq_mask(x: u64, c: u8) -> u64 {
    let t = x ^ (LO * u64::from(c));
    t.wrapping_sub(LO) & !t & HI
}

/// The bytes of `x` below `n` (≤ 0x80), as the high bit of each byte;
/// bytes ≥ 0x80 are never flagged. As [`first_eq_mask`], only the lowest
/// set bit is exact.
#[inline(always)]
pub(crate) fn first_below_mask(x: u64, n: u8) -> u64 {
    x.wrapping_sub(LO * u64::from(n)) & !x & HI
}

/// The bytes of `x` that are `&`, `=`, `%` or `+` (only the lowest set bit
/// exact, which is all [`next_special`] reads).
#[inline]
fn special_mask(x: u64) -> u64 {
    first_eq_mask(x, b'&') | first_eq_mask(x, b'=') | first_eq_mask(x, b'%') | first_eq_mask(x, b'+')
}

/// The bytes of `x` equal to `c`, as the high bit of each byte, exactly
/// (no borrow between bytes).
#[inline]
fn exact_mask(x: u64, c: u8) -> u64 {
    const LO7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    let y = x ^ (LO * u64::from(c));
    !(((y & LO7) + LO7) | y | LO7)
}

/// Bytes the decoding loop must stop at.
const SPECIAL: [bool; 256] = {
    let mut t = [false; 256];
    t[b'&' as usize] = true;
    t[b'=' as usize] = true;
    t[b'%' as usize] = true;
    t[b'+' as usize] = true;
    t
};

/// The position of the first `&`, `=`, `%` or `+` in `s` at or after `r`,
/// or `s.len()`: eight bytes at a time, then byte by byte.
#[inline]
fn next_special(s: &[u8], mut r: usize) -> usize {
    while let Some(word) = s.get(r..r + 8) {
        let mut b = [0u8; 8];
        b.copy_from_slice(word);
        let m = special_mask(u64::from_le_bytes(b));
        if m != 0 {
            return r + (m.trailing_zeros() / 8) as usize;
        }
        r += 8;
    }
    while r < s.len() && !SPECIAL[s[r] as usize] {
        r += 1;
    }
    r
}

#[inline]
fn hex_val(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// The decoding of [`parse_form`] in one pass: the query is copied into
/// `scratch` and decoded there in place (the decoded form is never
/// longer; separators are kept, so the text moves only after an escape),
/// recording each pair's range in `layout`. Errors in the order
/// [`parse_form`] documents: `BufferTooSmall`, then `MalformedEncoding`
/// (escape) or `InputTooLarge` as the pairs come, then UTF-8 (whole text;
/// each pair's boundaries are checked by [`pair_at`]).
pub(crate) fn decode_form<'s>(query: &str, scratch: &'s mut [u8], layout: &mut Layout) -> Result<&'s str> {
    let query = query.strip_prefix('?').unwrap_or(query).as_bytes();
    let n = query.len();
    if scratch.len() < n {
        return Err(Error::BufferTooSmall { needed: n });
    }
    let s = &mut scratch[..n];
    s.copy_from_slice(query);
    let mut seg_raw = 0usize; // raw start of the current segment
    let mut start = 0usize; // decoded start of the current pair
    let mut mid: Option<usize> = None; // decoded position of the pair's first `=`
    let mut escaped_separator = false;
    // First, while no `%` or `+` has come, the decoded text is the query
    // itself (w == r): only the separators are located, eight bytes at a
    // time, every `&` and `=` of a word handled from its exact mask.
    let mut base = 0usize;
    'fast: while let Some(word) = s.get(base..base + 8) {
        let mut b = [0u8; 8];
        b.copy_from_slice(word);
        let x = u64::from_le_bytes(b);
        let (amp, eq) = (exact_mask(x, b'&'), exact_mask(x, b'='));
        let slow = exact_mask(x, b'%') | exact_mask(x, b'+');
        let mut m = amp | eq | slow;
        while m != 0 {
            let bit = m & m.wrapping_neg();
            let pos = base + (bit.trailing_zeros() / 8) as usize;
            if slow & bit != 0 {
                // The general loop below takes over from here.
                base = pos;
                break 'fast;
            }
            if amp & bit != 0 {
                if pos > seg_raw {
                    layout
                        .push(range(start, mid, pos, escaped_separator))
                        .map_err(|_| Error::InputTooLarge { limit: MAX_PARAMS })?;
                }
                seg_raw = pos + 1;
                start = pos + 1;
                mid = None;
            } else if mid.is_none() {
                mid = Some(pos);
            }
            m &= m - 1;
        }
        base += 8;
    }
    let (mut r, mut w) = (base, base);
    loop {
        // The run up to the next special byte: moved down when escapes
        // have shortened the text, else already in place.
        let run_start = r;
        r = next_special(s, r);
        if w != run_start {
            s.copy_within(run_start..r, w);
        }
        w += r - run_start;
        if r == n {
            break;
        }
        match s[r] {
            b'&' => {
                if r > seg_raw {
                    layout
                        .push(range(start, mid, w, escaped_separator))
                        .map_err(|_| Error::InputTooLarge { limit: MAX_PARAMS })?;
                }
                s[w] = b'&';
                w += 1;
                r += 1;
                seg_raw = r;
                start = w;
                mid = None;
                escaped_separator = false;
            }
            b'=' if mid.is_none() => {
                mid = Some(w);
                s[w] = b'=';
                w += 1;
                r += 1;
            }
            b'%' => {
                let hi = s.get(r + 1).copied().and_then(hex_val);
                let lo = s.get(r + 2).copied().and_then(hex_val);
                let (Some(h), Some(l)) = (hi, lo) else {
                    return Err(Error::MalformedEncoding("invalid percent escape"));
                };
                let d = (h << 4) | l;
                escaped_separator |= d == b'&' || d == b'=';
                s[w] = d;
                w += 1;
                r += 3;
            }
            b'+' => {
                s[w] = b' ';
                w += 1;
                r += 1;
            }
            b => {
                // `=` inside a value: kept.
                s[w] = b;
                w += 1;
                r += 1;
            }
        }
    }
    if n > seg_raw {
        layout.push(range(start, mid, w, escaped_separator)).map_err(|_| Error::InputTooLarge { limit: MAX_PARAMS })?;
    }
    let text: &'s [u8] = &scratch[..w];
    core::str::from_utf8(text).map_err(|_| E_UTF8)
}

/// Parses a query string (docs/SCHEMES.md §S1 item 1): split on `&`, then
/// on the first `=`, form-decode names and values (`%XY` → byte, `+` →
/// space); a pair without `=` has an empty value; empty segments are
/// skipped. A leading `?` is ignored.
///
/// `scratch` must be at least `query.len()` bytes; the decoded text is
/// written there and the result borrows it.
///
/// Errors: `BufferTooSmall` (scratch shorter than the query),
/// `MalformedEncoding` (invalid `%` escape, or a name or value that is not
/// UTF-8 once decoded), `InputTooLarge` (more than [`MAX_PARAMS`] pairs).
pub fn parse_form<'s>(query: &str, scratch: &'s mut [u8]) -> Result<FormPairs<'s>> {
    let mut layout = Layout::new();
    let text = decode_form(query, scratch, &mut layout)?;
    let mut out = FormPairs::default();
    for &r in &layout {
        // Cannot overflow: one pair per range.
        let _ = out.pairs.push(pair_at(text, r)?);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes() {
        let mut buf = [0u8; 64];
        let p = parse_form("?a=1+2&b&c=%E4%B8%AD&&a=x", &mut buf).unwrap();
        assert_eq!(p.as_slice(), &[("a", "1 2"), ("b", ""), ("c", "中"), ("a", "x")]);
        assert_eq!(p.get("a"), Some("1 2"));
        let mut buf = [0u8; 8];
        assert_eq!(parse_form("a=%zz", &mut buf).err(), Some(Error::MalformedEncoding("invalid percent escape")));
        assert!(matches!(parse_form("a=%ff", &mut buf), Err(Error::MalformedEncoding(_))));
        assert!(matches!(parse_form("a=%f", &mut buf), Err(Error::MalformedEncoding(_))));
    }
}
