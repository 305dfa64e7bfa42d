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

/// A JSON string value: borrowed from the body when it has no escapes,
/// otherwise unescaped into a fixed buffer. Numbers and booleans are kept
/// as their text.
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

/// The fields of a V2 basic-interface notification (SCHEMES.md, "The
/// notifications"). Absent fields are `None`; unknown fields are ignored.
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
    /// Errors: `MalformedEncoding` when the body is not a JSON object, or a
    /// known field is of the wrong type or, once unescaped, longer than
    /// [`MAX_UNESCAPED`] bytes.
    pub fn parse(body: &'a [u8]) -> Result<Self> {
        let mut buf = [0u8; MAX_UNESCAPED];
        match serde_json_core::from_slice_escaped::<Notification<'a>>(body, &mut buf) {
            Ok((n, _)) => Ok(n),
            Err(_) => Err(Error::MalformedEncoding("body is not a valid notification JSON object")),
        }
    }

    /// A field as `&str`.
    pub fn text(field: &'a Option<JsonText<'a>>) -> Option<&'a str> {
        field.as_ref().map(JsonText::as_str)
    }
}

/// S1b: top-level fields of a JSON object as name/value pairs, written into
/// `scratch` (so escaped strings can be unescaped); the header's token is
/// added first as `authToken`. Blank and `null` values are skipped.
pub(crate) fn top_level_fields<'s>(body: &[u8], auth_token: &str, scratch: &'s mut [u8]) -> Result<FormPairs<'s>> {
    let mut ranges: heapless::Vec<(usize, usize, usize), MAX_PARAMS> = heapless::Vec::new();
    let mut pos = 0;
    {
        let mut w = Writer { buf: scratch, pos: &mut pos };
        let (a, m) = (w.start(), w.write(crate::v1::AUTH_TOKEN.as_bytes())?);
        let b = w.write(auth_token.as_bytes())?;
        let _ = ranges.push((a, m, b));
        let seed = FieldsSeed { w: &mut w, ranges: &mut ranges };
        let mut unescape = [0u8; 1024];
        let mut de = serde_json_core::de::Deserializer::new(body, Some(&mut unescape));
        seed.deserialize(&mut de).map_err(|_| Error::MalformedEncoding("body is not a JSON object of scalars"))?;
        de.end().map_err(|_| Error::MalformedEncoding("trailing data after JSON body"))?;
    }
    let text: &'s [u8] = scratch;
    let mut pairs: heapless::Vec<(&'s str, &'s str), MAX_PARAMS> = heapless::Vec::new();
    for &(a, m, b) in &ranges {
        let s = |r: &'s [u8]| core::str::from_utf8(r).map_err(|_| Error::MalformedEncoding("not UTF-8"));
        let _ = pairs.push((s(&text[a..m])?, s(&text[m..b])?));
    }
    Ok(FormPairs::from_vec(pairs))
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

struct FieldsSeed<'x, 'w> {
    w: &'x mut Writer<'w>,
    ranges: &'x mut heapless::Vec<(usize, usize, usize), MAX_PARAMS>,
}

impl<'de> DeserializeSeed<'de> for FieldsSeed<'_, '_> {
    type Value = ();
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> core::result::Result<(), D::Error> {
        d.deserialize_map(self)
    }
}

enum Scalar<'a> {
    Text(JsonText<'a>),
    Skip,
}

impl<'de> Deserialize<'de> for Scalar<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> core::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Scalar<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> core::result::Result<Self::Value, E> {
                TextVisitor.visit_borrowed_str(v).map(Scalar::Text)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> core::result::Result<Self::Value, E> {
                TextVisitor.visit_str(v).map(Scalar::Text)
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> core::result::Result<Self::Value, E> {
                TextVisitor.visit_u64(v).map(Scalar::Text)
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> core::result::Result<Self::Value, E> {
                TextVisitor.visit_i64(v).map(Scalar::Text)
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> core::result::Result<Self::Value, E> {
                TextVisitor.visit_f64(v).map(Scalar::Text)
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> core::result::Result<Self::Value, E> {
                TextVisitor.visit_bool(v).map(Scalar::Text)
            }
            fn visit_unit<E: de::Error>(self) -> core::result::Result<Self::Value, E> {
                Ok(Scalar::Skip)
            }
            fn visit_none<E: de::Error>(self) -> core::result::Result<Self::Value, E> {
                Ok(Scalar::Skip)
            }
            fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> core::result::Result<Self::Value, D2::Error> {
                Scalar::deserialize(d)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> core::result::Result<Self::Value, A::Error> {
                while m.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Scalar::Skip)
            }
            fn visit_seq<A: de::SeqAccess<'de>>(self, mut s: A) -> core::result::Result<Self::Value, A::Error> {
                while s.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Scalar::Skip)
            }
        }
        // serde-json-core has no `deserialize_any`; `ignored_any` hands over
        // strings, objects and arrays, and reports other scalars as unit.
        d.deserialize_ignored_any(V)
    }
}

impl<'de> Visitor<'de> for FieldsSeed<'_, '_> {
    type Value = ();
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> core::result::Result<(), A::Error> {
        while let Some(k) = m.next_key::<JsonText<'de>>()? {
            let v = m.next_value::<Scalar<'de>>()?;
            let Scalar::Text(v) = v else { continue };
            if v.as_str().trim().is_empty() || k.as_str() == crate::v1::AUTH_TOKEN {
                continue;
            }
            let a = self.w.start();
            let m2 = self.w.write(k.as_str().as_bytes()).map_err(|_| de::Error::custom("scratch too small"))?;
            let b = self.w.write(v.as_str().as_bytes()).map_err(|_| de::Error::custom("scratch too small"))?;
            self.ranges.push((a, m2, b)).map_err(|_| de::Error::custom("too many fields"))?;
        }
        Ok(())
    }
}
