//! Which scheme a notification uses, decided once from its method, headers
//! and query (docs/SCHEMES.md §Answers, "Protocol detection"), before any
//! verifier runs.

use crate::encoding::form_decode_into;
use crate::error::{Error, Result};

/// The wire shape of a notification, i.e. which verifier reads it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// S1: a GET whose query carries `authToken` (`verify_v1`).
    V1Query,
    /// S1b: a POST with an `authToken` header and a flat JSON body
    /// (`verify_v1_json`).
    V1Json,
    /// S2: a POST whose query carries `signature`, `timestamp`, `nonce`
    /// (`verify_v2` with the query scheme).
    V2Query,
    /// S2b: a POST with the `x-sign`, `x-timestamp`, `x-nonce` headers
    /// (`verify_v2` with the headers scheme).
    V2Headers,
}

impl Protocol {
    /// A short stable name: `v1`, `v1json`, `v2`, `kit` (the names the
    /// bindings' options and `koosign serve`'s log use).
    pub const fn as_str(self) -> &'static str {
        match self {
            Protocol::V1Query => "v1",
            Protocol::V1Json => "v1json",
            Protocol::V2Query => "v2",
            Protocol::V2Headers => "kit",
        }
    }
}

/// The S2b headers: any one of them makes a request an S2b request.
const KIT_HEADERS: [&str; 3] = ["x-sign", "x-timestamp", "x-nonce"];

/// True when the query has a parameter whose form-decoded name is exactly
/// `name` (case-sensitive, as the verifiers read names). A name with a bad
/// escape is skipped here: the verifier refuses it.
fn query_has(query: &str, name: &str) -> bool {
    let query = query.strip_prefix('?').unwrap_or(query);
    // A name decodes to at most its raw length, and each decoded byte takes
    // at most 3 raw bytes: longer raw names cannot decode to `name`.
    let mut buf = [0u8; 27];
    debug_assert!(name.len() * 3 <= buf.len());
    query.split('&').any(|seg| {
        let raw = seg.split('=').next().unwrap_or("").as_bytes();
        if raw.len() < name.len() || raw.len() > name.len() * 3 {
            return false;
        }
        matches!(form_decode_into(raw, &mut buf), Ok(n) if &buf[..n] == name.as_bytes())
    })
}

fn header_has(headers: &[(&str, &str)], name: &str) -> bool {
    headers.iter().any(|(n, _)| n.eq_ignore_ascii_case(name))
}

/// Decides the protocol of a notification (docs/SCHEMES.md §Answers,
/// "Protocol detection", decision). Four signals are looked for; header
/// names are compared case-insensitively, query names after form-decoding,
/// case-sensitively:
///
/// | signal | protocol | method |
/// |---|---|---|
/// | a header `x-sign`, `x-timestamp` or `x-nonce` | [`Protocol::V2Headers`] | POST |
/// | a header `authToken` | [`Protocol::V1Json`] | POST |
/// | a query parameter `signature` | [`Protocol::V2Query`] | POST |
/// | a query parameter `authToken` | [`Protocol::V1Query`] | GET |
///
/// Errors (all found before authentication: `000001`):
/// * `Ambiguous` when signals of two protocols are present (e.g. both a
///   `signature` query parameter and an `x-sign` header, or an `authToken`
///   in the query and in the headers): each verifier would read a different
///   request;
/// * `MalformedEncoding` when the method does not fit the protocol (V1
///   query notifications are `GET`, the others `POST`; methods are
///   case-sensitive), or is neither `GET` nor `POST`;
/// * `MissingParameter("authToken")` for a `GET` and
///   `MissingParameter("signature")` for a `POST` with no signal at all.
pub fn detect_protocol(method: &str, headers: &[(&str, &str)], query: &str) -> Result<Protocol> {
    let found = [
        (KIT_HEADERS.iter().any(|h| header_has(headers, h)), Protocol::V2Headers),
        (header_has(headers, crate::v1::AUTH_TOKEN), Protocol::V1Json),
        (query_has(query, "signature"), Protocol::V2Query),
        (query_has(query, crate::v1::AUTH_TOKEN), Protocol::V1Query),
    ];
    let mut chosen = None;
    for (present, p) in found {
        if present {
            if chosen.is_some() {
                return Err(Error::Ambiguous("signals of two notification protocols (query and headers disagree)"));
            }
            chosen = Some(p);
        }
    }
    let get = match method {
        "GET" => true,
        "POST" => false,
        _ => return Err(Error::MalformedEncoding("method is neither GET nor POST")),
    };
    match chosen {
        None if get => Err(Error::MissingParameter(crate::v1::AUTH_TOKEN)),
        None => Err(Error::MissingParameter("signature")),
        Some(Protocol::V1Query) if !get => Err(Error::MalformedEncoding("a V1 query notification must be a GET")),
        Some(p) if get && p != Protocol::V1Query => Err(Error::MalformedEncoding("this notification must be a POST")),
        Some(p) => Ok(p),
    }
}
