//! Timestamps: the three parsers on arbitrary text, and format/parse round
//! trips (`parse_v1_timestamp`, `parse_unix_ms`, `parse_sdk_date`,
//! `format_*`, `Freshness`).

use crate::input;
use arbitrary::{Arbitrary, Unstructured};
use koosign::{
    format_sdk_date, format_unix_ms, format_v1_timestamp, parse_sdk_date, parse_unix_ms, parse_v1_timestamp, Error,
    Freshness,
};

/// Layout: `u64` ms, `u64` window, `rest` text.
#[derive(Debug)]
pub struct Case<'a> {
    pub ms: u64,
    pub window: u64,
    pub text: &'a str,
}

impl<'a> Arbitrary<'a> for Case<'a> {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        Ok(Case { ms: input::u64(u), window: input::u64(u), text: input::utf8_prefix(input::rest(u)) })
    }
}

/// 9999-12-31T23:59:59.999Z.
pub const MAX_V1_MS: u64 = 253_402_300_799_999;

/// The `timestamps` target.
pub fn check(c: &Case<'_>) {
    let t = c.text;
    match parse_v1_timestamp(t) {
        Ok(ms) => {
            assert!(ms <= MAX_V1_MS);
            assert_eq!(format_v1_timestamp(ms).as_str(), t, "V1 parse/format round trip");
        }
        Err(e) => assert_eq!(e, Error::BadTimestamp),
    }
    // S2/S2b/S5 (decision): exactly 13 ASCII digits, no leading zero.
    let shape = t.len() == 13 && t.bytes().all(|b| b.is_ascii_digit()) && !t.starts_with('0');
    match parse_unix_ms(t) {
        Ok(ms) => {
            assert!(shape, "parse_unix_ms accepted {t:?}");
            assert_eq!(t.parse::<u64>().ok(), Some(ms));
            assert!((1_000_000_000_000..10_000_000_000_000).contains(&ms));
        }
        Err(e) => {
            assert!(!shape, "parse_unix_ms refused {t:?}");
            assert_eq!(e, Error::BadTimestamp);
        }
    }
    match parse_sdk_date(t) {
        Ok(ms) => {
            assert_eq!(ms % 1000, 0);
            assert_eq!(format_sdk_date(ms).as_str(), t.to_ascii_uppercase(), "X-Sdk-Date round trip");
        }
        Err(e) => assert_eq!(e, Error::BadTimestamp),
    }
    // Formatting then parsing gives the instant back.
    let ms = c.ms % (MAX_V1_MS + 1);
    assert_eq!(parse_v1_timestamp(format_v1_timestamp(ms).as_str()), Ok(ms));
    assert_eq!(parse_sdk_date(format_sdk_date(ms).as_str()), Ok(ms - ms % 1000));
    // `parse_unix_ms` reads back what `format_unix_ms` writes for the
    // 13-digit instants (2001-09-09 to 2286-11-20), and refuses the rest.
    let unix = 1_000_000_000_000 + c.ms % 9_000_000_000_000;
    assert_eq!(parse_unix_ms(format_unix_ms(unix).as_str()), Ok(unix));
    let expected = if (1_000_000_000_000..10_000_000_000_000).contains(&c.ms) { Ok(c.ms) } else { Err(Error::BadTimestamp) };
    assert_eq!(parse_unix_ms(format_unix_ms(c.ms).as_str()), expected);
    // Freshness is symmetric and never overflows.
    let f = Freshness::with_window(c.ms, c.window);
    let g = Freshness::with_window(ms, c.window);
    assert_eq!(f.check(ms).is_ok(), g.check(c.ms).is_ok());
    assert_eq!(f.check(ms).is_ok(), c.ms.abs_diff(ms) <= c.window);
}
