//! Timestamps and freshness. koosign never reads a clock: the caller passes
//! "now" in Unix milliseconds.

use crate::encoding::FixedText;
use crate::error::{Error, Result};

/// The V2 default window: ±60 s, as the SaaS access guide requires
/// (docs/SCHEMES.md §S2).
pub const DEFAULT_WINDOW_MS: u64 = 60_000;
/// The V1 default window: ±5 min (docs/SCHEMES.md §S1 item 8, decision).
pub const V1_DEFAULT_WINDOW_MS: u64 = 300_000;
/// The S6 `X-Sdk-Date` default window: ±15 min (docs/SCHEMES.md §S6, decision).
pub const APIG_DEFAULT_WINDOW_MS: u64 = 900_000;

/// A one-shot verifier's freshness check: the caller's clock and the
/// accepted distance from it, or the check left out **by name**
/// (docs/SCHEMES.md §Answers, "Clocks" decision). There is no `Option`: a
/// verifier cannot be called without saying which.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Freshness {
    /// |now − timestamp| ≤ `window_ms`, else `StaleTimestamp`.
    Checked {
        /// The caller's clock, Unix time in milliseconds.
        now_ms: u64,
        /// Accepted |now − timestamp|, in milliseconds.
        window_ms: u64,
    },
    /// No freshness check: only for tests and captured traffic. A replay
    /// store given beside it is handed the request's own timestamp as
    /// "now" and the scheme's default window for the expiry.
    Unchecked,
}

impl Freshness {
    /// `now_ms` with the default ±60 s window ([`DEFAULT_WINDOW_MS`]).
    pub const fn new(now_ms: u64) -> Self {
        Freshness::Checked { now_ms, window_ms: DEFAULT_WINDOW_MS }
    }

    /// `now_ms` with a window of `window_ms` milliseconds.
    pub const fn with_window(now_ms: u64, window_ms: u64) -> Self {
        Freshness::Checked { now_ms, window_ms }
    }

    /// `Err(StaleTimestamp)` unless |now − ts| ≤ window; always `Ok` for
    /// [`Freshness::Unchecked`].
    pub fn check(&self, ts_ms: u64) -> Result<()> {
        match *self {
            Freshness::Checked { now_ms, window_ms } if now_ms.abs_diff(ts_ms) > window_ms => Err(Error::StaleTimestamp),
            _ => Ok(()),
        }
    }

    /// `(now, expiry)` for recording a nonce with timestamp `ts_ms`: the
    /// caller's clock and `ts + window`, or without a window the request's
    /// own timestamp and `ts + default_window_ms`.
    pub(crate) fn replay_times(&self, ts_ms: u64, default_window_ms: u64) -> (u64, u64) {
        match *self {
            Freshness::Checked { now_ms, window_ms } => (now_ms, ts_ms.saturating_add(window_ms)),
            Freshness::Unchecked => (ts_ms, ts_ms.saturating_add(default_window_ms)),
        }
    }
}

fn digits(s: &[u8]) -> Option<u64> {
    if s.is_empty() || s.len() > 19 {
        return None;
    }
    let mut v: u64 = 0;
    for &b in s {
        if !b.is_ascii_digit() {
            return None;
        }
        v = v * 10 + u64::from(b - b'0');
    }
    Some(v)
}

/// Length of a V2 / kit / licence timestamp: Unix milliseconds in 13 digits
/// (2001-09-09T01:46:40Z to 2286-11-20T17:46:39.999Z).
const UNIX_MS_DIGITS: usize = 13;

/// Parses an S2 `timestamp`, S2b `x-timestamp` or S5 `ts`: Unix time in
/// milliseconds, **exactly 13 ASCII digits, the first not `0`**
/// (docs/SCHEMES.md §S2 decision). The signed strings of S2/S2b/S5 put the
/// timestamp next to the nonce or body without a delimiter, so a leading
/// zero or a 14th digit would let a digit move across the boundary (nonce
/// `…170` + `1680508066618` signs the same bytes as nonce `…17` +
/// `01680508066618`); with a fixed width no digit can move.
///
/// Returns the value in Unix ms (10^12 ≤ value < 10^13).
/// Errors: `BadTimestamp` for anything else (empty, shorter or longer, a
/// leading `0`, a sign, spaces, non-ASCII digits).
pub fn parse_unix_ms(ts: &str) -> Result<u64> {
    let b = ts.as_bytes();
    if b.len() != UNIX_MS_DIGITS || b[0] == b'0' {
        return Err(Error::BadTimestamp);
    }
    // Two overlapping 8-digit words (digits 0–7 and 5–12), each checked and
    // read in a few word operations: the verdict and value of `digits`.
    let word = |at: usize| {
        let mut w = [0u8; 8];
        w.copy_from_slice(&b[at..at + 8]);
        u64::from_le_bytes(w)
    };
    let (hi, lo) = (word(0), word(5));
    if !(all_digits(hi) && all_digits(lo)) {
        return Err(Error::BadTimestamp);
    }
    // digits 0–4 · 10^8 + digits 5–12.
    Ok(eight_digits(hi) / 1000 * 100_000_000 + eight_digits(lo))
}

/// Whether each byte of `w` is an ASCII digit: its high nibble is 3, and
/// still 3 once 6 is added (so the low nibble is at most 9). A byte of
/// 0xFA or more, whose + 6 would carry into the next byte, already fails
/// the first test.
#[inline]
const fn all_digits(w: u64) -> bool {
    const NIBBLES: u64 = 0xF0F0_F0F0_F0F0_F0F0;
    const THREES: u64 = 0x3030_3030_3030_3030;
    (w & NIBBLES) == THREES && (w.wrapping_add(0x0606_0606_0606_0606) & NIBBLES) == THREES
}

/// The value of eight ASCII digits loaded little-endian (the first digit
/// the most significant): pairs, then quads, then the whole.
#[inline]
const fn eight_digits(w: u64) -> u64 {
    let v = w - 0x3030_3030_3030_3030;
    let v = (v * 10 + (v >> 8)) & 0x00FF_00FF_00FF_00FF;
    let v = (v * 100 + (v >> 16)) & 0x0000_FFFF_0000_FFFF;
    (v * 10_000 + (v >> 32)) & 0xFFFF_FFFF
}

// Days from 1970-01-01 to y-m-d (proleptic Gregorian), Howard Hinnant's
// civil-date algorithm.
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = i64::from((m + 9) % 12);
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = if z >= 0 { z } else { z - 146_096 } / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

/// Parses a V1 `timeStamp`, `yyyyMMddHHmmssSSS` in UTC (17 digits), into
/// Unix milliseconds. Years before 1970 are refused.
pub fn parse_v1_timestamp(ts: &str) -> Result<u64> {
    let b = ts.as_bytes();
    if b.len() != 17 || !b.iter().all(u8::is_ascii_digit) {
        return Err(Error::BadTimestamp);
    }
    let n = |r: core::ops::Range<usize>| digits(&b[r]).unwrap_or(0);
    let (y, mo, d) = (n(0..4) as i64, n(4..6) as u32, n(6..8) as u32);
    let (h, mi, s, ms) = (n(8..10), n(10..12), n(12..14), n(14..17));
    let mdays = [31, if is_leap(y) { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
    if y < 1970 || !(1..=12).contains(&mo) || d == 0 || d > mdays[(mo - 1) as usize] {
        return Err(Error::BadTimestamp);
    }
    if h > 23 || mi > 59 || s > 59 {
        return Err(Error::BadTimestamp);
    }
    let days = days_from_civil(y, mo, d) as u64;
    Ok(((days * 24 + h) * 60 + mi) * 60_000 + s * 1000 + ms)
}

/// Formats Unix milliseconds as a V1 `timeStamp` (`yyyyMMddHHmmssSSS`, UTC).
pub fn format_v1_timestamp(unix_ms: u64) -> FixedText<17> {
    let ms = unix_ms % 1000;
    let secs = unix_ms / 1000;
    let (y, m, d) = civil_from_days((secs / 86_400) as i64);
    let sod = secs % 86_400;
    let fields: [(u64, usize); 7] = [
        (y as u64 % 10_000, 4),
        (u64::from(m), 2),
        (u64::from(d), 2),
        (sod / 3600, 2),
        (sod % 3600 / 60, 2),
        (sod % 60, 2),
        (ms, 3),
    ];
    let mut out = [0u8; 17];
    let mut pos = 0;
    for (mut v, width) in fields {
        for i in (0..width).rev() {
            out[pos + i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
        pos += width;
    }
    FixedText::from_parts(&[&out])
}

/// Formats Unix milliseconds as decimal digits, without leading zeros (a V2
/// `timestamp`). Only instants from 2001-09-09T01:46:40Z to
/// 2286-11-20T17:46:39.999Z give the 13 digits that [`parse_unix_ms`]
/// accepts.
pub fn format_unix_ms(unix_ms: u64) -> FixedText<20> {
    let mut tmp = [0u8; 20];
    let mut v = unix_ms;
    let mut i = tmp.len();
    loop {
        i -= 1;
        tmp[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    FixedText::from_parts(&[&tmp[i..]])
}

/// Formats Unix milliseconds as an APIG `X-Sdk-Date` (`yyyyMMddTHHmmssZ`).
pub fn format_sdk_date(unix_ms: u64) -> FixedText<16> {
    let t = format_v1_timestamp(unix_ms);
    let b = t.as_bytes();
    FixedText::from_parts(&[&b[0..8], b"T", &b[8..14], b"Z"])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn v1_round_trip() {
        let ms = parse_v1_timestamp("20200727073711903").unwrap();
        assert_eq!(ms, 1_595_835_431_903);
        assert_eq!(format_v1_timestamp(ms).as_str(), "20200727073711903");
        assert_eq!(format_sdk_date(ms).as_str(), "20200727T073711Z");
        assert_eq!(parse_v1_timestamp("20200230000000000"), Err(Error::BadTimestamp));
        assert_eq!(parse_v1_timestamp("2020073"), Err(Error::BadTimestamp));
        assert_eq!(parse_v1_timestamp("2020072707371190x"), Err(Error::BadTimestamp));
        assert_eq!(format_unix_ms(1_680_508_066_618).as_str(), "1680508066618");
        assert_eq!(format_unix_ms(0).as_str(), "0");
    }

    /// The parser before its word-at-a-time rewrite (issue 14): the oracle.
    fn parse_unix_ms_oracle(ts: &str) -> Result<u64> {
        let b = ts.as_bytes();
        if b.len() != UNIX_MS_DIGITS || b[0] == b'0' {
            return Err(Error::BadTimestamp);
        }
        digits(b).ok_or(Error::BadTimestamp)
    }

    #[test]
    fn unix_ms_word_parser_equals_the_former_one() {
        let mut x = 0x5DEE_CE66_Du64;
        let mut next = || {
            x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (x >> 33) as u32
        };
        let hostile = b"0123456789/:;\x00 +-.\x7f\x80\xb0\xb9\xf0\xf9\xfa\xff";
        let check = |b: &[u8]| {
            // Bytes that are not UTF-8 are not a `&str`: read them lossily
            // (the parser sees only `&str`).
            if let Ok(s) = core::str::from_utf8(b) {
                assert_eq!(parse_unix_ms(s), parse_unix_ms_oracle(s), "{s:?}");
            }
        };
        // Every byte value at every position of valid timestamps.
        for base in [*b"1680508066618", *b"1000000000000", *b"9999999999999", *b"5090919293949"] {
            check(&base);
            for at in 0..13 {
                for v in 0..=255u8 {
                    let mut t = base;
                    t[at] = v;
                    check(&t);
                }
            }
        }
        // Random digit strings (every value accepted) and hostile ones.
        for _ in 0..200_000 {
            let len = [13, 13, 13, 12, 14, 0, 1, 19, 20][next() as usize % 9];
            let mut t = [0u8; 20];
            for c in t[..len].iter_mut() {
                *c = if next() % 4 == 0 { hostile[next() as usize % hostile.len()] } else { b'0' + (next() % 10) as u8 };
            }
            check(&t[..len]);
        }
        // Multi-byte UTF-8 digits and signs.
        for s in ["１680508066618", "168050806661٣", "16805080666١8", "-680508066618", "1680508066.18"] {
            check(s.as_bytes());
        }
    }

    #[test]
    fn unix_ms_is_exactly_13_digits_without_leading_zero() {
        assert_eq!(parse_unix_ms("1680508066618"), Ok(1_680_508_066_618));
        assert_eq!(parse_unix_ms("1000000000000"), Ok(1_000_000_000_000));
        assert_eq!(parse_unix_ms("9999999999999"), Ok(9_999_999_999_999));
        for bad in [
            "", "0", "1", "168050806661", "01680508066618", "0680508066618", "16805080666180", "0000000000000",
            "1680508066618 ", " 1680508066618", "+680508066618", "168050806661x", "１680508066618", "9999999999999999999",
        ] {
            assert_eq!(parse_unix_ms(bad), Err(Error::BadTimestamp), "{bad:?}");
        }
    }
}
