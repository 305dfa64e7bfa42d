//! Query strings: `application/x-www-form-urlencoded` parsing into a
//! caller's scratch buffer, no allocation.

use crate::encoding::form_decode_into;
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
    let query = query.strip_prefix('?').unwrap_or(query);
    if scratch.len() < query.len() {
        return Err(Error::BufferTooSmall { needed: query.len() });
    }
    let mut ranges: heapless::Vec<(usize, usize, usize), MAX_PARAMS> = heapless::Vec::new();
    let mut pos = 0usize;
    for seg in query.split('&').filter(|s| !s.is_empty()) {
        let (name, value) = match seg.find('=') {
            Some(i) => (&seg[..i], &seg[i + 1..]),
            None => (seg, ""),
        };
        let start = pos;
        pos += form_decode_into(name.as_bytes(), &mut scratch[pos..])?;
        let mid = pos;
        pos += form_decode_into(value.as_bytes(), &mut scratch[pos..])?;
        ranges
            .push((start, mid, pos))
            .map_err(|_| Error::InputTooLarge { limit: MAX_PARAMS })?;
    }
    let text: &'s [u8] = scratch;
    let mut pairs = heapless::Vec::new();
    for &(a, m, b) in &ranges {
        let utf8 = |r: &'s [u8]| {
            core::str::from_utf8(r).map_err(|_| Error::MalformedEncoding("decoded query is not UTF-8"))
        };
        // Cannot overflow: one pair per range.
        let _ = pairs.push((utf8(&text[a..m])?, utf8(&text[m..b])?));
    }
    Ok(FormPairs { pairs })
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
