//! The JSON bodies of notifications, read without allocating
//! (`serde-json-core`). Only after verification: see
//! [`crate::VerifiedV2::notification`].

use crate::error::{Error, Result};
use crate::form::{FormPairs, MAX_PARAMS};
use core::fmt;
use serde::de::{self, DeserializeSeed, Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize;

/// Longest JSON string value kept when it had to be unescaped.
pub const MAX_UNESCAPED: usize = 256;

/// The largest notification body an endpoint reads, in bytes: 1 MiB
/// (docs/SCHEMES.md §Answers, decision). A larger body is refused unread
/// (`InputTooLarge { limit: MAX_NOTIFICATION_BODY }`, answered `000002`) by
/// `koosign serve` and by every binding's endpoint helper; the marketplace's
/// notifications are a few hundred bytes.
pub const MAX_NOTIFICATION_BODY: usize = 1 << 20;

/// A JSON string value: borrowed from the body when it has no escapes,
/// otherwise unescaped into a fixed buffer. Only JSON strings are read:
/// a number or boolean in a known field is a wrong type (`MalformedEncoding`).
#[derive(Clone, PartialEq, Eq)]
pub enum JsonText<'a> {
    /// Borrowed from the body.
    Borrowed(&'a str),
    /// Unescaped (or a number/boolean rendered as text).
    Owned(heapless::String<MAX_UNESCAPED>),
}

impl<'a> JsonText<'a> {
    /// The text.
    pub fn as_str(&self) -> &str {
        match self {
            JsonText::Borrowed(s) => s,
            JsonText::Owned(s) => s.as_str(),
        }
    }
}

impl fmt::Debug for JsonText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for JsonText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

struct TextVisitor;

fn owned<E: de::Error>(s: &str) -> core::result::Result<heapless::String<MAX_UNESCAPED>, E> {
    heapless::String::try_from(s).map_err(|_| E::custom("string too long"))
}

fn render<E: de::Error>(args: fmt::Arguments<'_>) -> core::result::Result<heapless::String<MAX_UNESCAPED>, E> {
    let mut s = heapless::String::new();
    fmt::write(&mut s, args).map_err(|_| E::custom("value too long"))?;
    Ok(s)
}

impl<'de> Visitor<'de> for TextVisitor {
    type Value = JsonText<'de>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string")
    }
    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> core::result::Result<Self::Value, E> {
        Ok(JsonText::Borrowed(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> core::result::Result<Self::Value, E> {
        Ok(JsonText::Owned(owned(v)?))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> core::result::Result<Self::Value, E> {
        Ok(JsonText::Owned(render(format_args!("{v}"))?))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> core::result::Result<Self::Value, E> {
        Ok(JsonText::Owned(render(format_args!("{v}"))?))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> core::result::Result<Self::Value, E> {
        Ok(JsonText::Owned(render(format_args!("{v}"))?))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> core::result::Result<Self::Value, E> {
        Ok(JsonText::Borrowed(if v { "true" } else { "false" }))
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for JsonText<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> core::result::Result<Self, D::Error> {
        d.deserialize_str(TextVisitor)
    }
}

/// The fields of a V2 basic-interface notification (docs/SCHEMES.md
/// §Notifications). Absent fields are `None`; unknown fields are ignored.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
#[non_exhaustive]
pub struct Notification<'a> {
    /// `newInstance`, `queryInstance`, `refreshInstance`, `updateInstanceStatus`, `releaseInstance`, `upgradeInstance`.
    #[serde(borrow)]
    pub activity: Option<JsonText<'a>>,
    /// Order ID.
    #[serde(borrow)]
    pub order_id: Option<JsonText<'a>>,
    /// Order line ID.
    #[serde(borrow)]
    pub order_line_id: Option<JsonText<'a>>,
    /// Business ID (idempotency of a request).
    #[serde(borrow)]
    pub business_id: Option<JsonText<'a>>,
    /// `"1"` for the marketplace's dial tests.
    #[serde(borrow)]
    pub test_flag: Option<JsonText<'a>>,
    /// Instance ID(s); comma-separated in `queryInstance`.
    #[serde(borrow)]
    pub instance_id: Option<JsonText<'a>>,
    /// `refreshInstance` scene: `TRIAL_TO_FORMAL`, `RENEWAL`, …
    #[serde(borrow)]
    pub scene: Option<JsonText<'a>>,
    /// `updateInstanceStatus` status: `FREEZE`, `UNFREEZE`.
    #[serde(borrow)]
    pub status: Option<JsonText<'a>>,
    /// Product ID.
    #[serde(borrow)]
    pub product_id: Option<JsonText<'a>>,
    /// Expiry, `yyyyMMddHHmmss`.
    #[serde(borrow)]
    pub expire_time: Option<JsonText<'a>>,
    /// Trial flag.
    #[serde(borrow)]
    pub trial_flag: Option<JsonText<'a>>,
    /// Customer ID.
    #[serde(borrow)]
    pub customer_id: Option<JsonText<'a>>,
    /// Customer name.
    #[serde(borrow)]
    pub customer_name: Option<JsonText<'a>>,
    /// Charging mode.
    #[serde(borrow)]
    pub charging_mode: Option<JsonText<'a>>,
    /// SKU code.
    #[serde(borrow)]
    pub sku_code: Option<JsonText<'a>>,
}

impl<'a> Notification<'a> {
    /// Parses a notification body (a JSON object).
    ///
    /// Errors: `MalformedEncoding` when the body is not a JSON object
    /// (strict RFC 8259: no trailing data, no raw control characters in
    /// strings, no lone surrogates; nested at most 64 deep), or a known
    /// field is given twice, is of the wrong type or, once unescaped, longer
    /// than [`MAX_UNESCAPED`] bytes. Escapes are decoded, surrogate pairs
    /// included; unknown fields are skipped whatever their length.
    pub fn parse(body: &'a [u8]) -> Result<Self> {
        const BAD: Error = Error::MalformedEncoding("body is not a valid notification JSON object");
        // Strict, iterative syntax check first: nesting is bounded before
        // the recursive reader sees the body. Strings are then read raw and
        // unescaped here (serde-json-core refuses surrogate pairs).
        validate_json(body).map_err(|_| BAD)?;
        let mut de = serde_json_core::de::Deserializer::new(body, None);
        let n = NotificationSeed.deserialize(&mut de).map_err(|_| BAD)?;
        de.end().map_err(|_| BAD)?;
        Ok(n)
    }

    /// A field as `&str` (`Notification::text(&n.order_id)`).
    pub fn text<'b>(field: &'b Option<JsonText<'_>>) -> Option<&'b str> {
        field.as_ref().map(JsonText::as_str)
    }
}

/// S1b: the members of a flat JSON object of strings as name/value pairs,
/// written into `scratch` (escapes decoded there, so no length limit beyond
/// the scratch); the header's token is added first as `authToken`. Members
/// with a blank value are left out of the pairs (docs/SCHEMES.md §S1b: blank
/// values are not signed) but their names still count for the duplicate
/// check and the S1 item 10 name rule.
///
/// The body is checked whole first by the strict, iterative
/// [`validate_json`] (nesting at most [`MAX_DEPTH`]: this runs before the
/// token is verified), then its top level is read here, without recursion:
/// one object, each member a string (docs/SCHEMES.md §S1b, decision).
///
/// Errors: `MalformedEncoding` (not strict JSON, not an object, a member
/// that is not a string, a repeated name), `Ambiguous` (a member named
/// `authToken`, a name with `&` or `=`), `InputTooLarge { limit: 64 }`
/// (more than 63 members), `BufferTooSmall` (scratch under
/// `body.len() + auth_token.len() + 9`).
pub(crate) fn top_level_fields<'s>(body: &[u8], auth_token: &str, scratch: &'s mut [u8]) -> Result<FormPairs<'s>> {
    // (name start, name end = value start, value end, blank)
    let mut ranges: heapless::Vec<(usize, usize, usize, bool), MAX_PARAMS> = heapless::Vec::new();
    let mut pos = 0;
    {
        let mut w = Writer { buf: scratch, pos: &mut pos };
        let (a, m) = (w.start(), w.write(crate::v1::AUTH_TOKEN.as_bytes())?);
        let b = w.write(auth_token.as_bytes())?;
        let _ = ranges.push((a, m, b, false));
        validate_json(body).map_err(|_| Error::MalformedEncoding("S1b body is not strict JSON"))?;
        let b = body;
        let mut i = 0;
        ws(b, &mut i);
        if b.get(i) != Some(&b'{') {
            return Err(Error::MalformedEncoding("S1b body is not a JSON object"));
        }
        i += 1;
        ws(b, &mut i);
        if b.get(i) == Some(&b'}') {
            i = b.len();
        }
        // Valid JSON (checked above): each step below finds what it expects.
        while i < b.len() {
            let name_start = w.start();
            let (ks, ke) = string_span(b, &mut i)?;
            let name_end = unescape_into(&b[ks..ke], &mut w)?;
            ws(b, &mut i);
            i += 1; // ':'
            ws(b, &mut i);
            let (vs, ve) = match b.get(i) {
                Some(b'"') => string_span(b, &mut i)?,
                Some(b'{') => return Err(Error::MalformedEncoding("S1b body member is an object, not a string")),
                Some(b'[') => return Err(Error::MalformedEncoding("S1b body member is an array, not a string")),
                Some(b't' | b'f') => return Err(Error::MalformedEncoding("S1b body member is a boolean, not a string")),
                Some(b'n') => return Err(Error::MalformedEncoding("S1b body member is null, not a string")),
                _ => return Err(Error::MalformedEncoding("S1b body member is a number, not a string")),
            };
            {
                let text: &[u8] = w.buf;
                let name = &text[name_start..name_end];
                if name == crate::v1::AUTH_TOKEN.as_bytes() {
                    return Err(Error::Ambiguous("S1b body has an `authToken` member (outside the signed set)"));
                }
                // Index 0 is the header's token, named `authToken`: never equal here.
                if ranges.iter().skip(1).any(|&(a, m, _, _)| &text[a..m] == name) {
                    return Err(Error::MalformedEncoding("S1b body repeats a member name"));
                }
            }
            let value_end = unescape_into(&b[vs..ve], &mut w)?;
            let blank = {
                let text: &[u8] = w.buf;
                let (name, value) = (utf8(&text[name_start..name_end])?, utf8(&text[name_end..value_end])?);
                let blank = value.trim().is_empty();
                if blank {
                    // Not a parameter, but its name is still read by any
                    // application that parses the body: S1 item 10 for it.
                    crate::v1::check_name(name)?;
                    // The value is not kept.
                    *w.pos = name_end;
                }
                blank
            };
            ranges
                .push((name_start, name_end, if blank { name_end } else { value_end }, blank))
                .map_err(|_| Error::InputTooLarge { limit: MAX_PARAMS })?;
            ws(b, &mut i);
            // ',' then the next member, or the closing '}' (then only whitespace).
            if b.get(i) == Some(&b',') {
                i += 1;
                ws(b, &mut i);
            } else {
                i = b.len();
            }
        }
    }
    let text: &'s [u8] = scratch;
    let mut pairs: heapless::Vec<(&'s str, &'s str), MAX_PARAMS> = heapless::Vec::new();
    for &(a, m, b, blank) in &ranges {
        if blank {
            continue;
        }
        // Cannot overflow: at most one pair per range.
        let _ = pairs.push((utf8(&text[a..m])?, utf8(&text[m..b])?));
    }
    Ok(FormPairs::from_vec(pairs))
}

/// Decoded JSON text is UTF-8 (the body was checked, and escapes decode to
/// whole characters): a failure here is only defensive.
fn utf8(r: &[u8]) -> Result<&str> {
    core::str::from_utf8(r).map_err(|_| Error::MalformedEncoding("not UTF-8"))
}

/// The raw text of the string starting at `b[*i] == '"'` (between the
/// quotes, escapes intact); `*i` moves past the closing quote. The body
/// was validated: an unterminated string is only a defensive error.
fn string_span(b: &[u8], i: &mut usize) -> Result<(usize, usize)> {
    const BAD: Error = Error::MalformedEncoding("S1b body is not strict JSON");
    if b.get(*i) != Some(&b'"') {
        return Err(BAD);
    }
    let start = *i + 1;
    string(b, i).map_err(|_| BAD)?;
    Ok((start, *i - 1))
}

/// Decodes a JSON string's raw text into `w`, surrogate pairs included;
/// returns the end position. The decoded text is never longer than the
/// raw text (`\uXXXX`: 6 bytes for at most 3, a pair: 12 for 4).
fn unescape_into(raw: &[u8], w: &mut Writer<'_>) -> Result<usize> {
    const BAD: Error = Error::MalformedEncoding("invalid escape");
    let mut i = 0;
    let mut end = w.start();
    while i < raw.len() {
        let j = raw[i..].iter().position(|&c| c == b'\\').map_or(raw.len(), |p| i + p);
        end = w.write(&raw[i..j])?;
        if j == raw.len() {
            break;
        }
        let (c, used) = escape_at(raw, j).ok_or(BAD)?;
        let mut utf8 = [0u8; 4];
        end = w.write(c.encode_utf8(&mut utf8).as_bytes())?;
        i = j + used;
    }
    Ok(end)
}

struct Writer<'w> {
    buf: &'w mut [u8],
    pos: &'w mut usize,
}

impl Writer<'_> {
    fn start(&self) -> usize {
        *self.pos
    }
    fn write(&mut self, b: &[u8]) -> Result<usize> {
        let end = *self.pos + b.len();
        let dst = self.buf.get_mut(*self.pos..end).ok_or(Error::BufferTooSmall { needed: end })?;
        dst.copy_from_slice(b);
        *self.pos = end;
        Ok(end)
    }
}

/// A JSON string exactly as written between its quotes (escapes intact):
/// what serde-json-core hands over when it has no unescape buffer.
struct Raw<'a>(&'a str);

impl<'de> Deserialize<'de> for Raw<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> core::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Raw<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> core::result::Result<Self::Value, E> {
                Ok(Raw(v))
            }
        }
        d.deserialize_str(V)
    }
}

/// Reads a [`Notification`] from raw strings (see [`Notification::parse`]):
/// keys and values are unescaped here, surrogate pairs included; a known
/// field given twice is an error, as with the derived `Deserialize`.
struct NotificationSeed;

impl<'de> DeserializeSeed<'de> for NotificationSeed {
    type Value = Notification<'de>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> core::result::Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for NotificationSeed {
    type Value = Notification<'de>;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a notification JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> core::result::Result<Self::Value, A::Error> {
        let mut n = Notification::default();
        let mut seen = 0u32;
        while let Some(Raw(k)) = m.next_key::<Raw<'de>>()? {
            // A key too long to unescape is no known name.
            let name = unescape(k).ok();
            let (bit, slot) = match name.as_ref().map(JsonText::as_str) {
                Some("activity") => (0, &mut n.activity),
                Some("orderId") => (1, &mut n.order_id),
                Some("orderLineId") => (2, &mut n.order_line_id),
                Some("businessId") => (3, &mut n.business_id),
                Some("testFlag") => (4, &mut n.test_flag),
                Some("instanceId") => (5, &mut n.instance_id),
                Some("scene") => (6, &mut n.scene),
                Some("status") => (7, &mut n.status),
                Some("productId") => (8, &mut n.product_id),
                Some("expireTime") => (9, &mut n.expire_time),
                Some("trialFlag") => (10, &mut n.trial_flag),
                Some("customerId") => (11, &mut n.customer_id),
                Some("customerName") => (12, &mut n.customer_name),
                Some("chargingMode") => (13, &mut n.charging_mode),
                Some("skuCode") => (14, &mut n.sku_code),
                _ => {
                    m.next_value::<IgnoredAny>()?;
                    continue;
                }
            };
            if seen & (1 << bit) != 0 {
                return Err(de::Error::custom("duplicate field"));
            }
            seen |= 1 << bit;
            *slot = match m.next_value::<Option<Raw<'de>>>()? {
                Some(Raw(v)) => Some(unescape(v).map_err(de::Error::custom)?),
                None => None,
            };
        }
        Ok(n)
    }
}

/// Decodes the escapes of a JSON string's raw text, surrogate pairs
/// included (`\ud83d\ude00` is one character); text without escapes is
/// borrowed. Errors: a bad or lone-surrogate escape, or more than
/// [`MAX_UNESCAPED`] bytes once unescaped.
fn unescape(raw: &str) -> core::result::Result<JsonText<'_>, &'static str> {
    const LONG: &str = "string too long";
    const BAD: &str = "invalid escape";
    if !raw.contains('\\') {
        return Ok(JsonText::Borrowed(raw));
    }
    let mut out: heapless::String<MAX_UNESCAPED> = heapless::String::new();
    let mut rest = raw;
    while let Some(i) = rest.find('\\') {
        out.push_str(&rest[..i]).map_err(|_| LONG)?;
        let b = rest.as_bytes();
        let (c, used) = escape_at(b, i).ok_or(BAD)?;
        out.push(c).map_err(|_| LONG)?;
        // Everything consumed is ASCII: `i + used` is a char boundary.
        rest = &rest[i + used..];
    }
    out.push_str(rest).map_err(|_| LONG)?;
    Ok(JsonText::Owned(out))
}

/// The JSON escape whose backslash is at `j` (surrogate pairs included:
/// `\ud83d\ude00` is one character): the character and the bytes it took,
/// or `None` for a bad or lone-surrogate escape. The one escape rule of both
/// the S1b reader and [`Notification::parse`].
fn escape_at(b: &[u8], j: usize) -> Option<(char, usize)> {
    Some(match b.get(j + 1)? {
        b'"' => ('"', 2),
        b'\\' => ('\\', 2),
        b'/' => ('/', 2),
        b'b' => ('\u{8}', 2),
        b'f' => ('\u{c}', 2),
        b'n' => ('\n', 2),
        b'r' => ('\r', 2),
        b't' => ('\t', 2),
        b'u' => {
            let hi = hex4(b, j + 2)?;
            if (0xD800..0xDC00).contains(&hi) {
                if b.get(j + 6) != Some(&b'\\') || b.get(j + 7) != Some(&b'u') {
                    return None;
                }
                let lo = hex4(b, j + 8)?;
                if !(0xDC00..0xE000).contains(&lo) {
                    return None;
                }
                (char::from_u32(0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00))?, 12)
            } else {
                (char::from_u32(hi)?, 6)
            }
        }
        _ => return None,
    })
}

/// Four hex digits at `at`.
fn hex4(b: &[u8], at: usize) -> Option<u32> {
    let s = b.get(at..at + 4)?;
    s.iter().try_fold(0u32, |v, &c| Some(v * 16 + (c as char).to_digit(16)?))
}

/// Deepest nesting of arrays and objects accepted in a body.
pub(crate) const MAX_DEPTH: u32 = 64;

/// Strict RFC 8259 syntax check of a whole JSON text, iterative (no
/// recursion, so a hostile body nested a million deep cannot exhaust the
/// stack), run before serde-json-core (which recurses, and is lenient with
/// values it skips). Refuses: invalid UTF-8, raw control characters in
/// strings, invalid or lone-surrogate escapes, malformed numbers and
/// literals, trailing data, and nesting deeper than [`MAX_DEPTH`].
pub(crate) fn validate_json(b: &[u8]) -> core::result::Result<(), ()> {
    core::str::from_utf8(b).map_err(|_| ())?;
    let mut i = 0usize;
    // Bit d set: the container at depth d is an object (else an array).
    let mut stack: u64 = 0;
    let mut depth: u32 = 0;
    loop {
        // One value.
        ws(b, &mut i);
        match b.get(i).copied() {
            Some(c @ (b'{' | b'[')) => {
                if depth == MAX_DEPTH {
                    return Err(());
                }
                if c == b'{' {
                    stack |= 1 << depth;
                } else {
                    stack &= !(1 << depth);
                }
                depth += 1;
                i += 1;
                ws(b, &mut i);
                let close = if c == b'{' { b'}' } else { b']' };
                if b.get(i) == Some(&close) {
                    i += 1;
                    depth -= 1;
                } else {
                    if c == b'{' {
                        key(b, &mut i)?;
                    }
                    continue;
                }
            }
            Some(b'"') => string(b, &mut i)?,
            Some(b't') => literal(b, &mut i, b"true")?,
            Some(b'f') => literal(b, &mut i, b"false")?,
            Some(b'n') => literal(b, &mut i, b"null")?,
            Some(b'-' | b'0'..=b'9') => number(b, &mut i)?,
            _ => return Err(()),
        }
        // After a value: close containers, or a comma and the next value.
        loop {
            ws(b, &mut i);
            if depth == 0 {
                return if i == b.len() { Ok(()) } else { Err(()) };
            }
            let object = (stack >> (depth - 1)) & 1 == 1;
            match b.get(i).copied() {
                Some(b',') => {
                    i += 1;
                    if object {
                        ws(b, &mut i);
                        key(b, &mut i)?;
                    }
                    break;
                }
                Some(b'}') if object => {
                    i += 1;
                    depth -= 1;
                }
                Some(b']') if !object => {
                    i += 1;
                    depth -= 1;
                }
                _ => return Err(()),
            }
        }
    }
}

fn ws(b: &[u8], i: &mut usize) {
    while matches!(b.get(*i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        *i += 1;
    }
}

/// A key string and its `:`.
fn key(b: &[u8], i: &mut usize) -> core::result::Result<(), ()> {
    if b.get(*i) != Some(&b'"') {
        return Err(());
    }
    string(b, i)?;
    ws(b, i);
    if b.get(*i) != Some(&b':') {
        return Err(());
    }
    *i += 1;
    Ok(())
}

/// A string from its opening quote.
fn string(b: &[u8], i: &mut usize) -> core::result::Result<(), ()> {
    *i += 1;
    loop {
        match b.get(*i).copied() {
            None => return Err(()),
            Some(b'"') => {
                *i += 1;
                return Ok(());
            }
            Some(b'\\') => match b.get(*i + 1).copied() {
                Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => *i += 2,
                Some(b'u') => {
                    let hi = hex4(b, *i + 2).ok_or(())?;
                    *i += 6;
                    if (0xD800..0xDC00).contains(&hi) {
                        if b.get(*i) != Some(&b'\\') || b.get(*i + 1) != Some(&b'u') {
                            return Err(());
                        }
                        let lo = hex4(b, *i + 2).ok_or(())?;
                        if !(0xDC00..0xE000).contains(&lo) {
                            return Err(());
                        }
                        *i += 6;
                    } else if (0xDC00..0xE000).contains(&hi) {
                        return Err(());
                    }
                }
                _ => return Err(()),
            },
            Some(c) if c < 0x20 => return Err(()),
            Some(_) => *i += 1,
        }
    }
}

fn literal(b: &[u8], i: &mut usize, lit: &[u8]) -> core::result::Result<(), ()> {
    if b.get(*i..*i + lit.len()) == Some(lit) {
        *i += lit.len();
        Ok(())
    } else {
        Err(())
    }
}

fn digits(b: &[u8], i: &mut usize) -> core::result::Result<(), ()> {
    if !matches!(b.get(*i), Some(b'0'..=b'9')) {
        return Err(());
    }
    while matches!(b.get(*i), Some(b'0'..=b'9')) {
        *i += 1;
    }
    Ok(())
}

/// `-? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)?`
fn number(b: &[u8], i: &mut usize) -> core::result::Result<(), ()> {
    if b.get(*i) == Some(&b'-') {
        *i += 1;
    }
    match b.get(*i) {
        Some(b'0') => *i += 1,
        Some(b'1'..=b'9') => digits(b, i)?,
        _ => return Err(()),
    }
    if b.get(*i) == Some(&b'.') {
        *i += 1;
        digits(b, i)?;
    }
    if matches!(b.get(*i), Some(b'e' | b'E')) {
        *i += 1;
        if matches!(b.get(*i), Some(b'+' | b'-')) {
            *i += 1;
        }
        digits(b, i)?;
    }
    Ok(())
}
