//! The JSON bodies of notifications, read without allocating by one strict,
//! iterative walker (checker and reader in one pass). Only after verification: see
//! [`crate::VerifiedV2::notification`].

use crate::error::{Error, Result};
use crate::form::{FormPairs, MAX_PARAMS};
use core::fmt;
use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

/// Longest JSON string value kept when it had to be unescaped.
pub const MAX_UNESCAPED: usize = 256;

/// The largest notification body an endpoint reads, in bytes: 1 MiB
/// (docs/SCHEMES.md §Answers, decision). A larger body is refused unread
/// (`InputTooLarge { limit: MAX_NOTIFICATION_BODY }`, answered `000002`) by
/// `koosign serve` and by every binding's endpoint helper; the marketplace's
/// notifications are a few hundred bytes.
pub const MAX_NOTIFICATION_BODY: usize = 1 << 20;

/// A JSON string value of a known notification field: borrowed from the
/// body when it has no escapes, otherwise unescaped into a fixed buffer of
/// [`MAX_UNESCAPED`] bytes held inside the value (no allocation). Opaque:
/// read it with [`JsonText::as_str`].
#[derive(Clone, PartialEq, Eq)]
pub struct JsonText<'a>(Text<'a>);

#[derive(Clone, PartialEq, Eq)]
enum Text<'a> {
    Borrowed(&'a str),
    Owned(heapless::String<MAX_UNESCAPED>),
}

impl<'a> JsonText<'a> {
    /// The text (escapes decoded).
    pub fn as_str(&self) -> &str {
        match &self.0 {
            Text::Borrowed(s) => s,
            Text::Owned(s) => s.as_str(),
        }
    }

    /// The text when it is borrowed from the body unchanged (it had no
    /// escapes), `None` when it was unescaped into the value.
    pub fn borrowed(&self) -> Option<&'a str> {
        match self.0 {
            Text::Borrowed(s) => Some(s),
            Text::Owned(_) => None,
        }
    }

    fn owned(s: heapless::String<MAX_UNESCAPED>) -> Self {
        JsonText(Text::Owned(s))
    }
    fn from_body(s: &'a str) -> Self {
        JsonText(Text::Borrowed(s))
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
        Ok(JsonText::from_body(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> core::result::Result<Self::Value, E> {
        Ok(JsonText::owned(owned(v)?))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> core::result::Result<Self::Value, E> {
        Ok(JsonText::owned(render(format_args!("{v}"))?))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> core::result::Result<Self::Value, E> {
        Ok(JsonText::owned(render(format_args!("{v}"))?))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> core::result::Result<Self::Value, E> {
        Ok(JsonText::owned(render(format_args!("{v}"))?))
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> core::result::Result<Self::Value, E> {
        Ok(JsonText::from_body(if v { "true" } else { "false" }))
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
    /// The body is first checked whole by the strict walker of
    /// [`walk_json`] (docs/SCHEMES.md §Notifications and §Answers): UTF-8,
    /// strict RFC 8259 (no trailing data, no raw control characters in
    /// strings, no lone surrogates), an object, no member name twice in any
    /// object at any depth (escapes decoded before comparing), nested at
    /// most [`MAX_DEPTH`] deep, at most [`MAX_OPEN_MEMBERS`] names open.
    ///
    /// Errors: `InputTooLarge { limit: MAX_NOTIFICATION_BODY }` for a body
    /// over 1 MiB, `InputTooLarge { limit: MAX_OPEN_MEMBERS }` for too many
    /// open names; `MalformedEncoding("body is not a valid notification
    /// JSON object")` for any other breach of the rules above, or a known field
    /// of the wrong type or, once unescaped, longer than [`MAX_UNESCAPED`]
    /// bytes. Escapes are decoded, surrogate pairs included; unknown fields
    /// are skipped whatever their length.
    pub fn parse(body: &'a [u8]) -> Result<Self> {
        // One strict, iterative walk (docs/SCHEMES.md §Answers) that also
        // fills the known top-level fields: the checker and the reader are
        // one parser, so they cannot disagree on what the body says.
        let mut n = Notification::default();
        n.fill(body)?;
        Ok(n)
    }

    /// [`Notification::parse`] into `self` (all fields `None`), so that a
    /// caller holding the value inside a larger one (the merchant context's
    /// `Verified`) builds it in place instead of moving ~4 KiB. On an error
    /// `self` is half filled: the caller drops it.
    #[inline]
    pub(crate) fn fill(&mut self, body: &'a [u8]) -> Result<()> {
        const BAD: Error = Error::MalformedEncoding("body is not a valid notification JSON object");
        if body.len() > MAX_NOTIFICATION_BODY {
            return Err(Error::InputTooLarge { limit: MAX_NOTIFICATION_BODY });
        }
        let mut fill = Fill { n: self, depth: 0, slot: None, bad: false };
        walk(body, &mut fill, STRICT).map_err(|e| match e {
            Error::InputTooLarge { .. } => e,
            _ => BAD,
        })?;
        // A known field of the wrong type or too long: reported only after
        // the whole body passed, as when the fields were read in a second pass.
        if fill.bad {
            return Err(BAD);
        }
        Ok(())
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

/// The visitor of [`Notification::parse`]: fills the known fields from the
/// members of the top-level object only (depth 1), during the strict walk.
/// A known field that is not a string (or `null`: absent), or longer than
/// [`MAX_UNESCAPED`] once unescaped, sets `bad` and the walk goes on, so
/// that the walker's own errors come first, as before; the caller drops the
/// half-filled value on any error.
struct Fill<'a, 'n> {
    n: &'n mut Notification<'a>,
    /// Containers open (1 inside the top-level object).
    depth: usize,
    /// The known field whose value comes next.
    slot: Option<u8>,
    bad: bool,
}

impl<'a> Fill<'a, '_> {
    /// A value that is not a string: an error for a known field.
    #[inline]
    fn other(&mut self) {
        if self.slot.take().is_some() {
            self.bad = true;
        }
    }

    /// A field whose text has escapes, decoded (the walker checked them:
    /// only the length can fail). Out of line: the move of its ~270-byte
    /// value stays off the path of plain fields.
    #[cold]
    #[inline(never)]
    fn set_unescaped(&mut self, slot: u8, raw: &'a str) {
        match unescape(raw) {
            Ok(t) => *self.field(slot) = Some(t),
            Err(_) => self.bad = true,
        }
    }

    fn field(&mut self, slot: u8) -> &mut Option<JsonText<'a>> {
        let n = &mut *self.n;
        match slot {
            0 => &mut n.activity,
            1 => &mut n.order_id,
            2 => &mut n.order_line_id,
            3 => &mut n.business_id,
            4 => &mut n.test_flag,
            5 => &mut n.instance_id,
            6 => &mut n.scene,
            7 => &mut n.status,
            8 => &mut n.product_id,
            9 => &mut n.expire_time,
            10 => &mut n.trial_flag,
            11 => &mut n.customer_id,
            12 => &mut n.customer_name,
            13 => &mut n.charging_mode,
            _ => &mut n.sku_code,
        }
    }
}

/// `*field = Some(text)` for text borrowed from the body, kept apart so
/// that it compiles to the few stores of its variant, not a copy of the
/// whole (mostly unused) value.
#[inline(never)]
fn set_borrowed<'a>(field: &mut Option<JsonText<'a>>, text: &'a str) {
    *field = Some(JsonText::from_body(text));
}

/// The slot of a known field name (decoded), as [`Fill::field`] numbers them.
fn known(name: &str) -> Option<u8> {
    Some(match name {
        "activity" => 0,
        "orderId" => 1,
        "orderLineId" => 2,
        "businessId" => 3,
        "testFlag" => 4,
        "instanceId" => 5,
        "scene" => 6,
        "status" => 7,
        "productId" => 8,
        "expireTime" => 9,
        "trialFlag" => 10,
        "customerId" => 11,
        "customerName" => 12,
        "chargingMode" => 13,
        "skuCode" => 14,
        _ => return None,
    })
}

impl<'a> JsonVisitor<'a> for Fill<'a, '_> {
    fn begin_object(&mut self) -> Result<()> {
        self.other();
        self.depth += 1;
        Ok(())
    }
    fn end_object(&mut self) -> Result<()> {
        self.depth -= 1;
        Ok(())
    }
    fn begin_array(&mut self) -> Result<()> {
        self.other();
        self.depth += 1;
        Ok(())
    }
    fn end_array(&mut self) -> Result<()> {
        self.depth -= 1;
        Ok(())
    }
    fn key(&mut self, key: JsonStr<'a>) -> Result<()> {
        if self.depth == 1 {
            // Known names are short and ASCII: a key too long to unescape
            // is no known name.
            self.slot = match key.borrowed() {
                Some(k) => known(k),
                None => unescape(key.raw()).ok().and_then(|k| known(k.as_str())),
            };
        }
        Ok(())
    }
    fn string(&mut self, value: JsonStr<'a>) -> Result<()> {
        if let Some(slot) = self.slot.take() {
            match value.borrowed() {
                // No escape (the usual field): the body's text, stored as
                // it is, in place (no ~270-byte `JsonText` built and moved).
                Some(t) => set_borrowed(self.field(slot), t),
                None => self.set_unescaped(slot, value.raw()),
            }
        }
        Ok(())
    }
    fn number(&mut self, _raw: &'a str) -> Result<()> {
        self.other();
        Ok(())
    }
    fn bool(&mut self, _value: bool) -> Result<()> {
        self.other();
        Ok(())
    }
    fn null(&mut self) -> Result<()> {
        // `null`: the field is absent (None).
        self.slot = None;
        Ok(())
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
        return Ok(JsonText::from_body(raw));
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
    Ok(JsonText::owned(out))
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

/// Deepest nesting of arrays and objects accepted in a JSON body
/// (docs/SCHEMES.md §Answers, decision): a 5,000-deep body is refused at
/// depth 65 without recursion.
pub const MAX_DEPTH: usize = 64;

/// Most member names held at once for the duplicate check of
/// [`walk_json`]: the members of the objects still open (the object being
/// read and its ancestors). A notification has a few dozen; more is refused
/// (`InputTooLarge { limit: 256 }`) so that the check needs no allocation.
pub const MAX_OPEN_MEMBERS: usize = 256;

/// A JSON string as it stands in the body, between its quotes, escapes
/// intact; already checked (valid escapes, no lone surrogate, no raw
/// control character). Read it decoded with [`JsonStr::chars`],
/// [`JsonStr::decode_into`] or, when it has no escapes,
/// [`JsonStr::borrowed`].
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct JsonStr<'b> {
    raw: &'b str,
    /// A `\` occurs in `raw` (the scanner saw it: no second search).
    escaped: bool,
}

impl<'b> JsonStr<'b> {
    /// The raw text between the quotes (escapes not decoded).
    pub fn raw(&self) -> &'b str {
        self.raw
    }

    /// The text itself when it has no escapes (then raw and decoded are
    /// the same), else `None`.
    pub fn borrowed(&self) -> Option<&'b str> {
        (!self.escaped).then_some(self.raw)
    }

    /// The decoded characters (escapes and surrogate pairs decoded).
    pub fn chars(&self) -> JsonChars<'b> {
        JsonChars { rest: self.raw }
    }

    /// Length of the decoded text in UTF-8 bytes (never more than
    /// `raw().len()`).
    pub fn decoded_len(&self) -> usize {
        self.chars().map(char::len_utf8).sum()
    }

    /// Writes the decoded text into `out`. Errors: `BufferTooSmall` when
    /// `out` is shorter than [`JsonStr::decoded_len`] (`raw().len()` bytes
    /// always suffice).
    pub fn decode_into<'o>(&self, out: &'o mut [u8]) -> Result<&'o str> {
        let needed = self.decoded_len();
        let dst = out.get_mut(..needed).ok_or(Error::BufferTooSmall { needed })?;
        let mut at = 0;
        for c in self.chars() {
            at += c.encode_utf8(&mut dst[at..]).len();
        }
        utf8(dst)
    }
}

impl fmt::Debug for JsonStr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"")?;
        f.write_str(self.raw)?;
        f.write_str("\"")
    }
}

impl PartialEq<str> for JsonStr<'_> {
    /// Compares the decoded text.
    fn eq(&self, other: &str) -> bool {
        self.chars().eq(other.chars())
    }
}

/// The decoded characters of a [`JsonStr`].
#[derive(Clone, Debug)]
pub struct JsonChars<'b> {
    rest: &'b str,
}

impl Iterator for JsonChars<'_> {
    type Item = char;
    fn next(&mut self) -> Option<char> {
        let b = self.rest.as_bytes();
        if b.first() == Some(&b'\\') {
            // Checked by the walker: a bad escape cannot reach here (it
            // would end the text, defensively).
            let (c, used) = escape_at(b, 0)?;
            // Everything consumed is ASCII: `used` is a char boundary.
            self.rest = &self.rest[used..];
            Some(c)
        } else {
            let c = self.rest.chars().next()?;
            self.rest = &self.rest[c.len_utf8()..];
            Some(c)
        }
    }
}

/// What [`walk_json`] reports, in document order. Every method has a
/// default that accepts and ignores the event; an error returned by a
/// method stops the walk and is returned by [`walk_json`] unchanged.
pub trait JsonVisitor<'b> {
    /// `{`.
    fn begin_object(&mut self) -> Result<()> {
        Ok(())
    }
    /// `}`.
    fn end_object(&mut self) -> Result<()> {
        Ok(())
    }
    /// `[`.
    fn begin_array(&mut self) -> Result<()> {
        Ok(())
    }
    /// `]`.
    fn end_array(&mut self) -> Result<()> {
        Ok(())
    }
    /// A member name (the member's value follows).
    fn key(&mut self, _key: JsonStr<'b>) -> Result<()> {
        Ok(())
    }
    /// A string value.
    fn string(&mut self, _value: JsonStr<'b>) -> Result<()> {
        Ok(())
    }
    /// A number, as its RFC 8259 text (`-12.5e3`): the caller chooses the
    /// type it becomes.
    fn number(&mut self, _raw: &'b str) -> Result<()> {
        Ok(())
    }
    /// `true` or `false`.
    fn bool(&mut self, _value: bool) -> Result<()> {
        Ok(())
    }
    /// `null`.
    fn null(&mut self) -> Result<()> {
        Ok(())
    }
}

/// A visitor that ignores everything (the check pass).
struct NoVisit;
impl JsonVisitor<'_> for NoVisit {}

#[derive(Clone, Copy)]
struct Mode {
    /// No member name twice in one object (any depth).
    unique: bool,
    /// The top-level value must be an object.
    object: bool,
}

/// The notification rules (docs/SCHEMES.md §Answers).
const STRICT: Mode = Mode { unique: true, object: true };

const E_SYNTAX: Error = Error::MalformedEncoding("JSON body is not strict JSON");
const E_NOT_OBJECT: Error = Error::MalformedEncoding("JSON body is not an object");
const E_DEEP: Error = Error::MalformedEncoding("JSON body is nested deeper than 64");
const E_DUPLICATE: Error = Error::MalformedEncoding("JSON body repeats a member name");
const E_UTF8: Error = Error::MalformedEncoding("JSON body is not UTF-8");

/// Reads a notification body by the strict rules and reports it to
/// `visitor`, so that a binding builds its language's natural dict or
/// object from the core's parse (docs/SCHEMES.md §Answers, the "authenticated"
/// row: not UTF-8, not JSON, not an object, a repeated name, nested past
/// the limit, too large).
///
/// The whole body is checked first; the visitor sees events only for a
/// body that passed, so it never builds half a document. Iterative (no
/// recursion, whatever the nesting) and without allocation.
///
/// Errors, before any event: `InputTooLarge { limit: MAX_NOTIFICATION_BODY }`
/// (over 1 MiB); `MalformedEncoding` saying which of: not UTF-8, not strict
/// RFC 8259 JSON (trailing data, raw control characters, bad escapes or lone
/// surrogates, bad numbers or literals), not an object, nested deeper than
/// [`MAX_DEPTH`], a member name twice in one object (compared decoded:
/// `"a"` and `"\u0061"` are one name); `InputTooLarge { limit: 256 }`
/// (more than [`MAX_OPEN_MEMBERS`] names open at once). Then any error
/// the visitor returns.
pub fn walk_json<'b, V: JsonVisitor<'b> + ?Sized>(body: &'b [u8], visitor: &mut V) -> Result<()> {
    if body.len() > MAX_NOTIFICATION_BODY {
        return Err(Error::InputTooLarge { limit: MAX_NOTIFICATION_BODY });
    }
    walk(body, &mut NoVisit, STRICT)?;
    walk(body, visitor, STRICT)
}

/// Strict RFC 8259 syntax check of a whole JSON text, iterative, without
/// the notification rules (the S1b reader checks its top level itself).
/// Refuses: invalid UTF-8, raw control characters in strings, invalid or
/// lone-surrogate escapes, malformed numbers and literals, trailing data,
/// and nesting deeper than [`MAX_DEPTH`].
pub(crate) fn validate_json(b: &[u8]) -> core::result::Result<(), ()> {
    walk(b, &mut NoVisit, Mode { unique: false, object: false }).map_err(|_| ())
}

/// The member names of the open objects, for the duplicate check.
struct Names {
    /// Where each open object's names start in `names`, by depth.
    frames: [u16; MAX_DEPTH],
    /// (start, end) of each raw name in the body, and its hash: not
    /// initialised beyond its length (a zeroed 4 KiB array cost a memset per
    /// walk, as much as walking a short body; issue 14).
    names: heapless::Vec<(u32, u32, u64), MAX_OPEN_MEMBERS>,
}

/// FNV-1a over the decoded name: a quick filter before the exact compare.
fn name_hash(s: JsonStr<'_>) -> u64 {
    /// FNV-1a's step over `bytes`.
    fn fnv(h: u64, bytes: &[u8]) -> u64 {
        bytes.iter().fold(h, |h, &x| (h ^ u64::from(x)).wrapping_mul(0x0100_0000_01b3))
    }
    const BASIS: u64 = 0xcbf2_9ce4_8422_2325;
    match s.borrowed() {
        // No escape: the decoded characters' UTF-8 is the raw text.
        Some(t) => fnv(BASIS, t.as_bytes()),
        None => s.chars().fold(BASIS, |h, c| fnv(h, c.encode_utf8(&mut [0u8; 4]).as_bytes())),
    }
}

/// The walker: one value, then closing containers or a comma and the next;
/// containers tracked in a bit stack (bit d set: an object at depth d).
fn walk<'b, V: JsonVisitor<'b> + ?Sized>(b: &'b [u8], v: &mut V, mode: Mode) -> Result<()> {
    let text = core::str::from_utf8(b).map_err(|_| E_UTF8)?;
    let mut i = 0usize;
    let mut stack: u64 = 0;
    let mut depth: usize = 0;
    let mut names = Names { frames: [0; MAX_DEPTH], names: heapless::Vec::new() };
    ws(b, &mut i);
    if mode.object && b.get(i) != Some(&b'{') {
        return Err(if i < b.len() && validate_json(b).is_ok() { E_NOT_OBJECT } else { E_SYNTAX });
    }
    loop {
        // One value.
        ws(b, &mut i);
        match b.get(i).copied() {
            Some(c @ (b'{' | b'[')) => {
                if depth == MAX_DEPTH {
                    return Err(E_DEEP);
                }
                let object = c == b'{';
                if object {
                    stack |= 1 << depth;
                    // Cannot truncate: at most MAX_OPEN_MEMBERS (256) names.
                    names.frames[depth] = names.names.len() as u16;
                    v.begin_object()?;
                } else {
                    stack &= !(1 << depth);
                    v.begin_array()?;
                }
                depth += 1;
                i += 1;
                ws(b, &mut i);
                let close = if object { b'}' } else { b']' };
                if b.get(i) == Some(&close) {
                    i += 1;
                    depth -= 1;
                    if object {
                        v.end_object()?;
                    } else {
                        v.end_array()?;
                    }
                } else {
                    if object {
                        member(b, text, &mut i, v, mode, &mut names, depth)?;
                    }
                    continue;
                }
            }
            Some(b'"') => v.string(string_at(b, text, &mut i)?)?,
            Some(b't') => {
                literal(b, &mut i, b"true").map_err(|_| E_SYNTAX)?;
                v.bool(true)?;
            }
            Some(b'f') => {
                literal(b, &mut i, b"false").map_err(|_| E_SYNTAX)?;
                v.bool(false)?;
            }
            Some(b'n') => {
                literal(b, &mut i, b"null").map_err(|_| E_SYNTAX)?;
                v.null()?;
            }
            Some(b'-' | b'0'..=b'9') => {
                let start = i;
                number(b, &mut i).map_err(|_| E_SYNTAX)?;
                v.number(&text[start..i])?;
            }
            _ => return Err(E_SYNTAX),
        }
        // After a value: close containers, or a comma and the next value.
        loop {
            ws(b, &mut i);
            if depth == 0 {
                return if i == b.len() { Ok(()) } else { Err(E_SYNTAX) };
            }
            let object = (stack >> (depth - 1)) & 1 == 1;
            match b.get(i).copied() {
                Some(b',') => {
                    i += 1;
                    if object {
                        ws(b, &mut i);
                        member(b, text, &mut i, v, mode, &mut names, depth)?;
                    }
                    break;
                }
                Some(b'}') if object => {
                    i += 1;
                    depth -= 1;
                    names.names.truncate(usize::from(names.frames[depth]));
                    v.end_object()?;
                }
                Some(b']') if !object => {
                    i += 1;
                    depth -= 1;
                    v.end_array()?;
                }
                _ => return Err(E_SYNTAX),
            }
        }
    }
}

/// A member name and its `:`, checked against the other names of the
/// object at `depth` (1-based) when `mode.unique`.
fn member<'b, V: JsonVisitor<'b> + ?Sized>(
    b: &'b [u8],
    text: &'b str,
    i: &mut usize,
    v: &mut V,
    mode: Mode,
    names: &mut Names,
    depth: usize,
) -> Result<()> {
    if b.get(*i) != Some(&b'"') {
        return Err(E_SYNTAX);
    }
    let start = *i + 1;
    let name = string_at(b, text, i)?;
    let end = *i - 1;
    ws(b, i);
    if b.get(*i) != Some(&b':') {
        return Err(E_SYNTAX);
    }
    *i += 1;
    if mode.unique {
        let h = name_hash(name);
        let first = usize::from(names.frames[depth - 1]);
        for &(a, e, hash) in names.names.get(first..).unwrap_or(&[]) {
            if hash == h && (JsonStr { raw: &text[a as usize..e as usize], escaped: true }).chars().eq(name.chars()) {
                return Err(E_DUPLICATE);
            }
        }
        // Cannot truncate: bodies are at most 1 MiB here.
        names.names.push((start as u32, end as u32, h)).map_err(|_| Error::InputTooLarge { limit: MAX_OPEN_MEMBERS })?;
    }
    v.key(name)
}

/// The string starting at `b[*i] == '"'`, checked; `*i` moves past it.
fn string_at<'b>(b: &'b [u8], text: &'b str, i: &mut usize) -> Result<JsonStr<'b>> {
    let start = *i + 1;
    let escaped = string(b, i).map_err(|_| E_SYNTAX)?;
    // Quotes are ASCII: both ends are char boundaries of the UTF-8 text.
    Ok(JsonStr { raw: &text[start..*i - 1], escaped })
}

fn ws(b: &[u8], i: &mut usize) {
    while matches!(b.get(*i), Some(b' ' | b'\t' | b'\n' | b'\r')) {
        *i += 1;
    }
}

/// The bytes of `x` that are `"`, `\\` or a control character (< 0x20),
/// as the high bit of each byte. Only the lowest set bit is exact (a
/// borrow may flag a byte above a match), which is all [`string`] reads.
#[inline]
fn string_stop_mask(x: u64) -> u64 {
    use crate::form::{first_below_mask, first_eq_mask};
    // Bytes ≥ 0x80 (UTF-8) are never flagged as control characters.
    first_eq_mask(x, b'"') | first_eq_mask(x, b'\\') | first_below_mask(x, 0x20)
}

/// A string from its opening quote; `*i` moves past the closing one.
/// Returns whether it holds an escape. Runs free of `"`, `\\` and control
/// characters are skipped eight bytes at a time.
fn string(b: &[u8], i: &mut usize) -> core::result::Result<bool, ()> {
    *i += 1;
    let mut escaped = false;
    loop {
        while let Some(w) = b.get(*i..*i + 8) {
            let mut x = [0u8; 8];
            x.copy_from_slice(w);
            let m = string_stop_mask(u64::from_le_bytes(x));
            if m != 0 {
                *i += (m.trailing_zeros() / 8) as usize;
                break;
            }
            *i += 8;
        }
        match b.get(*i).copied() {
            None => return Err(()),
            Some(b'"') => {
                *i += 1;
                return Ok(escaped);
            }
            Some(b'\\') => {
                escaped = true;
                match b.get(*i + 1).copied() {
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
                }
            }
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

/// The reader [`Notification::parse`] used before issue 14 (strict walk,
/// then serde-json-core over the same body), kept as the oracle of the
/// one-walk reader's equivalence tests.
#[cfg(test)]
mod oracle {
    use super::*;
    use serde::de::{DeserializeSeed, IgnoredAny, MapAccess};

    pub(super) fn parse(body: &[u8]) -> Result<Notification<'_>> {
        const BAD: Error = Error::MalformedEncoding("body is not a valid notification JSON object");
        if body.len() > MAX_NOTIFICATION_BODY {
            return Err(Error::InputTooLarge { limit: MAX_NOTIFICATION_BODY });
        }
        walk(body, &mut NoVisit, STRICT).map_err(|e| match e {
            Error::InputTooLarge { .. } => e,
            _ => BAD,
        })?;
        let mut de = serde_json_core::de::Deserializer::new(body, None);
        let n = NotificationSeed.deserialize(&mut de).map_err(|_| BAD)?;
        de.end().map_err(|_| BAD)?;
        Ok(n)
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

    /// Reads a [`Notification`] from raw strings (the reader before issue 14):
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
}

/// One walk against the old two-parser reader, on hostile and random bodies.
#[cfg(test)]
mod one_walk_equivalence {
    extern crate std;
    use super::*;
    use std::format;
    use std::string::String;
    use std::vec::Vec;

    fn fields<'n, 'a>(n: &'n Notification<'a>) -> [&'n Option<JsonText<'a>>; 15] {
        [
            &n.activity,
            &n.order_id,
            &n.order_line_id,
            &n.business_id,
            &n.test_flag,
            &n.instance_id,
            &n.scene,
            &n.status,
            &n.product_id,
            &n.expire_time,
            &n.trial_flag,
            &n.customer_id,
            &n.customer_name,
            &n.charging_mode,
            &n.sku_code,
        ]
    }

    /// Same verdict, same error, same fields (borrowed or owned alike).
    fn same(body: &[u8]) -> bool {
        let (new, old) = (Notification::parse(body), oracle::parse(body));
        match (&new, &old) {
            (Ok(a), Ok(b)) => assert_eq!(fields(a), fields(b), "{}", String::from_utf8_lossy(body)),
            (Err(a), Err(b)) => assert_eq!(a, b, "{}", String::from_utf8_lossy(body)),
            _ => panic!("verdicts differ on {}: {:?} vs {:?}", String::from_utf8_lossy(body), new.err(), old.err()),
        }
        new.is_ok()
    }

    const NAMES: &[&str] = &[
        "activity", "orderId", "orderLineId", "businessId", "testFlag", "instanceId", "scene", "status",
        "productId", "expireTime", "trialFlag", "customerId", "customerName", "chargingMode", "skuCode",
        "order\\u0049d", "\\u0061ctivity", "sku\\u0043ode", "orderid", "orderId ", "x", "", "\\ud83d\\ude00",
        "\\u00e9", "é", "activity\\u0000",
    ];

    use crate::TestRng as Rng;

    /// A string value of about `len` decoded bytes, with escapes or not.
    fn text(r: &mut Rng, len: usize) -> String {
        let mut s = String::new();
        let mut n = 0;
        while n < len {
            let (piece, bytes) = match r.below(10) {
                0 => ("\\n", 1),
                1 => ("\\u00e9", 2),
                2 => ("\\ud83d\\ude00", 4),
                3 => ("é", 2),
                4 => ("\\\"", 1),
                5 => ("\\/", 1),
                6 => ("\\u20ac", 3),
                _ => ("a", 1),
            };
            s.push_str(piece);
            n += bytes;
        }
        s
    }

    fn value(r: &mut Rng, depth: usize, out: &mut String) {
        let pick = if depth > 6 { r.below(8) } else { r.below(12) };
        match pick {
            0 | 1 | 2 => {
                let len = r.below(12);
                out.push_str(&format!("\"{}\"", text(r, len)));
            }
            3 => {
                // Around the unescape limit.
                let len = MAX_UNESCAPED - 3 + r.below(7);
                out.push_str(&format!("\"{}\"", text(r, len)));
            }
            4 => out.push_str(["1", "-0", "1.5e3", "99999999999999999999999", "1e999", "0.0"][r.below(6)]),
            5 => out.push_str(["true", "false", "null", "null"][r.below(4)]),
            6 => {
                let len = MAX_UNESCAPED - 2 + r.below(5);
                out.push_str(&format!("\"{}\"", "b".repeat(len)));
            }
            7 => out.push_str(["\"\"", "\"\\ud800\"", "\"\\udc00\"", "\"\\x\"", "[]", "{}"][r.below(6)]),
            8 | 9 => object(r, depth + 1, out),
            _ => {
                out.push('[');
                for k in 0..r.below(4) {
                    if k > 0 {
                        out.push(',');
                    }
                    value(r, depth + 1, out);
                }
                out.push(']');
            }
        }
    }

    fn object(r: &mut Rng, depth: usize, out: &mut String) {
        out.push('{');
        for k in 0..r.below(7) {
            if k > 0 {
                out.push_str([",", ", ", ",\n"][r.below(3)]);
            }
            out.push_str(&format!("\"{}\":", NAMES[r.below(NAMES.len())]));
            value(r, depth, out);
        }
        out.push('}');
    }

    #[test]
    fn hostile_bodies() {
        let long = |n: usize| format!("{{\"orderId\":\"{}\"}}", "\\u00e9".repeat(n / 2) + &"a".repeat(n % 2));
        let mut bodies: Vec<String> = [
            r#"{"orderId":"a","orderId":"b"}"#,
            r#"{"orderId":"a","order\u0049d":"b"}"#,
            r#"{"x":{"orderId":"nested"},"orderId":"top"}"#,
            r#"{"x":{"orderId":"nested"}}"#,
            r#"{"x":[{"activity":1}],"activity":"a"}"#,
            r#"{"x":{"activity":{"activity":[]}}}"#,
            r#"{"orderId":1}"#,
            r#"{"orderId":true}"#,
            r#"{"orderId":null}"#,
            r#"{"orderId":[]}"#,
            r#"{"orderId":{}}"#,
            r#"{"orderId":["a"]}"#,
            r#"{"orderId":{"a":"b"}}"#,
            r#"{"orderId":"\ud83d\ude00\u00e9\n\/"}"#,
            r#"{"orderId":"\ud83d"}"#,
            r#"{"orderId":"é€😀"}"#,
            r#"{"\u006frderId":"x"}"#,
            r#"{"orderId":"a"} "#,
            r#"{"orderId":"a"}x"#,
            r#"["orderId","a"]"#,
            r#""orderId""#,
            "{}",
            " { } ",
            "",
            "{",
            r#"{"orderId":1,"x":{"y":{"z":"#,
        ]
        .iter()
        .map(|s| String::from(*s))
        .collect();
        for n in [MAX_UNESCAPED - 1, MAX_UNESCAPED, MAX_UNESCAPED + 1, MAX_UNESCAPED + 2] {
            bodies.push(long(n));
            bodies.push(format!("{{\"customerName\":\"{}\"}}", "z".repeat(n)));
            bodies.push(format!("{{\"customerName\":\"{}\\n\"}}", "z".repeat(n - 1)));
            bodies.push(format!("{{\"unknown\":\"{}\\n\"}}", "z".repeat(n * 4)));
            bodies.push(format!("{{\"x\":{{\"orderId\":\"{}\\n\"}}}}", "z".repeat(n)));
        }
        for d in [1, 62, 63, 64, 65, 200] {
            bodies.push(format!("{{\"orderId\":\"o\",\"x\":{}{}}}", "[".repeat(d), "]".repeat(d)));
            bodies.push(format!("{{\"orderId\":{}1{}}}", "[".repeat(d), "]".repeat(d)));
        }
        // Too many open names, with a wrong-typed known field first: the
        // walker's InputTooLarge still wins.
        let mut many = String::from("{\"orderId\":1");
        for k in 0..300 {
            many.push_str(&format!(",\"k{k}\":0"));
        }
        many.push('}');
        bodies.push(many);
        let mut ok = 0;
        for b in &bodies {
            ok += usize::from(same(b.as_bytes()));
        }
        assert!(ok > 10, "{ok}");
        assert!(!same(&[b'{', b'"', 0xff, b'"', b':', b'1', b'}']));
    }

    #[test]
    fn random_bodies() {
        let mut r = Rng(0x9e37_79b9_7f4a_7c15);
        let (mut ok, mut err) = (0, 0);
        for _ in 0..20_000 {
            let mut s = String::new();
            object(&mut r, 1, &mut s);
            let mut b = s.into_bytes();
            // Some mutated: a byte changed, dropped or a duplicate member added.
            match r.below(6) {
                0 if !b.is_empty() => {
                    let i = r.below(b.len());
                    b[i] = b"\"{}[],:\\u0 1e-"[r.below(14)];
                }
                1 if b.len() > 1 => {
                    let i = r.below(b.len());
                    b.remove(i);
                }
                _ => {}
            }
            if same(&b) {
                ok += 1;
            } else {
                err += 1;
            }
        }
        assert!(ok > 2000 && err > 2000, "ok {ok}, err {err}");
    }
}

#[cfg(test)]
mod string_scan {
    use super::*;

    /// The first byte the byte-at-a-time scanner would stop at: `"`, `\`
    /// or a control character.
    fn first_stop(w: &[u8; 8]) -> Option<usize> {
        w.iter().position(|&c| c == b'"' || c == b'\\' || c < 0x20)
    }

    fn lowest(m: u64) -> Option<usize> {
        (m != 0).then(|| (m.trailing_zeros() / 8) as usize)
    }

    /// The SWAR mask's lowest flag is exactly the first stop byte, for
    /// every byte value at every position over backgrounds that include
    /// UTF-8 lead and continuation bytes, and for random words.
    #[test]
    fn stop_mask_finds_the_first_stop_byte() {
        for bg in [b'a', 0x7f, 0x80, 0xbf, 0xe4, 0xff, b' ', b'!', b'#'] {
            for p in 0..8 {
                for c in 0..=255u8 {
                    let mut w = [bg; 8];
                    w[p] = c;
                    assert_eq!(lowest(string_stop_mask(u64::from_le_bytes(w))), first_stop(&w), "{w:?}");
                    // A second stop byte above the first changes nothing.
                    if p < 7 {
                        w[7] = b'"';
                        assert_eq!(lowest(string_stop_mask(u64::from_le_bytes(w))), first_stop(&w), "{w:?}");
                    }
                }
            }
        }
        let mut rng = crate::TestRng(0x5eed_cafe);
        for _ in 0..200_000 {
            let w = rng.next().to_le_bytes();
            assert_eq!(lowest(string_stop_mask(u64::from_le_bytes(w))), first_stop(&w), "{w:?}");
        }
    }

    /// Whole strings: the scanner's end and escape flag against a plain
    /// loop, for strings of every length around the 8-byte steps.
    #[test]
    fn string_matches_the_byte_loop() {
        let mut rng = crate::TestRng(0x0bad_f00d);
        let alphabet: &[u8] = b"ab\"\\\x01\x1f\x7f\xc3\xa9 n/u0";
        for _ in 0..50_000 {
            let len = rng.below(24);
            let mut b = [0u8; 32];
            b[0] = b'"';
            for x in b[1..=len].iter_mut() {
                *x = alphabet[rng.below(alphabet.len())];
            }
            b[len + 1] = b'"';
            let body = &b[..len + 2];
            let mut i = 0;
            let got = string(body, &mut i).map(|e| (e, i));
            assert_eq!(got, reference(body), "{body:?}");
        }
    }

    /// The scanner before issue 14's SWAR skip, byte by byte.
    fn reference(b: &[u8]) -> core::result::Result<(bool, usize), ()> {
        let mut i = 1;
        let mut escaped = false;
        loop {
            match b.get(i).copied() {
                None => return Err(()),
                Some(b'"') => return Ok((escaped, i + 1)),
                Some(b'\\') => {
                    escaped = true;
                    match b.get(i + 1).copied() {
                        Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => i += 2,
                        Some(b'u') => {
                            let hi = hex4(b, i + 2).ok_or(())?;
                            i += 6;
                            if (0xD800..0xDC00).contains(&hi) {
                                if b.get(i) != Some(&b'\\') || b.get(i + 1) != Some(&b'u') {
                                    return Err(());
                                }
                                let lo = hex4(b, i + 2).ok_or(())?;
                                if !(0xDC00..0xE000).contains(&lo) {
                                    return Err(());
                                }
                                i += 6;
                            } else if (0xDC00..0xE000).contains(&hi) {
                                return Err(());
                            }
                        }
                        _ => return Err(()),
                    }
                }
                Some(c) if c < 0x20 => return Err(()),
                Some(_) => i += 1,
            }
        }
    }
}
