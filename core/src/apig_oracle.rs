//! The APIG signer as it was before the single-pass rewrite (issue 14),
//! kept verbatim as a test oracle: `sign_apig` must give the same bytes and
//! the same errors on every input (see the equivalence tests in apig.rs).
#![allow(dead_code)]

use super::{AddedHeaders, ApigRequest, ApigSigned, ALGORITHM, EMPTY_BODY_SHA256, MAX_HEADERS, MAX_PATH, MAX_QUERY};
use crate::encoding::{hex32_lower, path_decode_into, Cursor, FixedText, Sink};
use crate::error::{Error, Result};
use sha2::{Digest, Sha256};

/// `uri_encode` as it was (encoding.rs), frozen here.
fn uri_encode(src: &[u8], sink: &mut impl Sink) {
    const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";
    let keep = |b: u8| matches!(b, b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~');
    let mut rest = src;
    while !rest.is_empty() {
        let run = rest.iter().position(|&b| !keep(b)).unwrap_or(rest.len());
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

const X_SDK_DATE: &str = "X-Sdk-Date";
/// 10000-01-01T00:00:00Z: `X-Sdk-Date` has four year digits.
const MAX_SDK_DATE_MS: u64 = 253_402_300_800_000;
const X_SDK_CONTENT: &str = "X-Sdk-Content-Sha256";
const UNSIGNED: &str = "UNSIGNED-PAYLOAD";

fn find<'a>(headers: &[(&'a str, &'a str)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| *v)
}

fn check_sdk_date(d: &str) -> Result<()> {
    let b = d.as_bytes();
    // `strptime` matches the literal `T` and `Z` case-insensitively.
    let ok = b.len() == 16
        && b[8].eq_ignore_ascii_case(&b'T')
        && b[15].eq_ignore_ascii_case(&b'Z')
        && b[..8].iter().chain(&b[9..15]).all(u8::is_ascii_digit);
    if ok {
        Ok(())
    } else {
        Err(Error::BadTimestamp)
    }
}

/// The date as the SDK re-formats it: `T` and `Z` upper case.
fn upper_date(d: &str) -> [u8; 16] {
    let mut out = [0u8; 16];
    let b = d.as_bytes();
    let n = b.len().min(16);
    out[..n].copy_from_slice(&b[..n]);
    out.make_ascii_uppercase();
    out
}

/// Python's `str.strip()`: Unicode whitespace plus U+001C..U+001F.
fn py_strip(v: &str) -> &str {
    v.trim_matches(|c: char| c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c))
}

/// Sets a header the way the SDK's dict does: an entry with exactly this
/// name is replaced in place, otherwise it is appended.
fn dict_set<'a>(eff: &mut Headers<'a>, name: &'a str, value: &'a str) -> Result<()> {
    match eff.iter_mut().find(|(n, _)| *n == name) {
        Some(e) => e.1 = value,
        None => eff.push((name, value)).map_err(|_| Error::InputTooLarge { limit: MAX_HEADERS })?,
    }
    Ok(())
}

fn write_lower(sink: &mut impl Sink, s: &str) {
    sink.put_ascii_lower(s.as_bytes());
}

fn lower_cmp(a: &str, b: &str) -> core::cmp::Ordering {
    a.bytes().map(|c| c.to_ascii_lowercase()).cmp(b.bytes().map(|c| c.to_ascii_lowercase()))
}

type Headers<'a> = heapless::Vec<(&'a str, &'a str), { MAX_HEADERS + 3 }>;

/// Canonical URI: percent-decode, split on `/`, encode each segment,
/// always end with `/`.
fn write_canonical_uri(path: &str, sink: &mut impl Sink) -> Result<()> {
    if path.len() > MAX_PATH {
        return Err(Error::InputTooLarge { limit: MAX_PATH });
    }
    // A path of unreserved bytes and `/` only is its own canonical form
    // (nothing to decode, every segment encodes to itself).
    let plain = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/');
    if path.bytes().all(plain) {
        sink.put(path.as_bytes());
        if !path.ends_with('/') {
            sink.put(b"/");
        }
        return Ok(());
    }
    // Without a `%` the decoded path is the path (no 2 KiB buffer to clear).
    let mut buf;
    let decoded: &[u8] = if path.as_bytes().contains(&b'%') {
        buf = [0u8; MAX_PATH];
        let n = path_decode_into(path.as_bytes(), &mut buf)?;
        &buf[..n]
    } else {
        path.as_bytes()
    };
    // Python's `unquote` decodes with errors='replace': each invalid
    // sequence becomes U+FFFD before encoding.
    for chunk in decoded.utf8_chunks() {
        for (i, seg) in chunk.valid().as_bytes().split(|&b| b == b'/').enumerate() {
            if i > 0 {
                sink.put(b"/");
            }
            uri_encode(seg, sink);
        }
        if !chunk.invalid().is_empty() {
            uri_encode("\u{FFFD}".as_bytes(), sink);
        }
    }
    if decoded.last() != Some(&b'/') {
        sink.put(b"/");
    }
    Ok(())
}

fn write_canonical_query(query: &[(&str, &str)], sink: &mut impl Sink) -> Result<()> {
    let mut idx: heapless::Vec<(&str, &str), MAX_QUERY> = heapless::Vec::new();
    for p in query {
        idx.push(*p).map_err(|_| Error::InputTooLarge { limit: MAX_QUERY })?;
    }
    idx.sort_unstable();
    for (i, (n, v)) in idx.iter().enumerate() {
        if i > 0 {
            sink.put(b"&");
        }
        uri_encode(n.as_bytes(), sink);
        sink.put(b"=");
        uri_encode(v.as_bytes(), sink);
    }
    Ok(())
}

struct Parts {
    canonical: (usize, usize),
    query: (usize, usize),
    signed: (usize, usize),
    /// Where the (first) `host` header line's value was written.
    host: Option<(usize, usize)>,
}

fn body_hash_hex<'a>(body: &[u8], content_header: Option<&'a str>, tmp: &'a mut [u8; 64]) -> &'a str {
    if body.is_empty() {
        return EMPTY_BODY_SHA256;
    }
    if let Some(h) = content_header.map(py_strip).filter(|h| !h.is_empty()) {
        return h;
    }
    *tmp = hex32_lower(&Sha256::digest(body).into());
    core::str::from_utf8(&tmp[..]).unwrap_or(EMPTY_BODY_SHA256)
}

/// Signs an open-API call the way Huawei's Python SDK core does
/// (docs/SCHEMES.md §S6).
///
/// The `X-Sdk-Date` header is taken from `req.headers` when present
/// (`yyyyMMddTHHmmssZ`), otherwise made from `now_ms` (Unix ms) and added.
/// `Host` is added when absent. As the SDK does, a `Content-Type` that is
/// neither `application/json` nor `application/bson` adds
/// `X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD`. Every header whose name has no
/// `_` is signed. Header names must be ASCII.
///
/// `out` receives all the text (canonical request, string to sign,
/// authorization); 2 KiB is enough for ordinary calls.
///
/// Errors: `MissingParameter("X-Sdk-Date")` (no header and no `now_ms`),
/// `BadTimestamp`, `NoAccessKey` (empty AK or SK), `MalformedEncoding`,
/// `InputTooLarge`, `BufferTooSmall { needed }`.
pub(super) fn sign_apig<'o>(req: &ApigRequest<'_>, ak: &str, sk: &str, now_ms: Option<u64>, out: &'o mut [u8]) -> Result<ApigSigned<'o>> {
    if ak.is_empty() || sk.is_empty() {
        return Err(Error::NoAccessKey);
    }
    // The AK goes into a header: visible ASCII without `,` (no CR/LF
    // header splitting, no forged attributes).
    if !ak.bytes().all(|b| b.is_ascii_graphic() && b != b',') {
        return Err(Error::MalformedEncoding("AK must be visible ASCII without `,`"));
    }
    if req.method.is_empty() || !req.method.bytes().all(|b| b.is_ascii_alphabetic()) {
        return Err(Error::MalformedEncoding("method must be ASCII letters"));
    }
    if now_ms.is_some_and(|n| n >= MAX_SDK_DATE_MS) {
        return Err(Error::BadTimestamp);
    }
    if req.headers.iter().any(|(n, _)| !n.is_ascii()) {
        return Err(Error::MalformedEncoding("header names must be ASCII"));
    }
    let date_text;
    let mut added: heapless::Vec<(&'static str, AddedValue), 4> = heapless::Vec::new();
    let date: &str = match find(req.headers, X_SDK_DATE) {
        Some(d) => d,
        None => {
            let now = now_ms.ok_or(Error::MissingParameter(X_SDK_DATE))?;
            date_text = crate::time::format_sdk_date(now);
            let _ = added.push((X_SDK_DATE, AddedValue::Date));
            date_text.as_str()
        }
    };
    check_sdk_date(date)?;
    let mut eff: Headers<'_> = heapless::Vec::new();
    for h in req.headers {
        eff.push(*h).map_err(|_| Error::InputTooLarge { limit: MAX_HEADERS })?;
    }
    // The SDK looks up exactly "Content-Type" (case-sensitive, as its dict).
    if let Some((_, ct)) = req.headers.iter().rev().find(|(n, _)| *n == "Content-Type") {
        if !ct.is_empty() && !ct.starts_with("application/json") && !ct.starts_with("application/bson") {
            dict_set(&mut eff, X_SDK_CONTENT, UNSIGNED)?;
            let _ = added.push((X_SDK_CONTENT, AddedValue::Unsigned));
        }
    }
    if find(req.headers, X_SDK_DATE).is_none() {
        dict_set(&mut eff, X_SDK_DATE, date)?;
    }
    if find(req.headers, "Host").is_none() {
        dict_set(&mut eff, "Host", req.host)?;
        let _ = added.push(("Host", AddedValue::Host));
    }
    let mut signed: Headers<'_> = eff.iter().copied().filter(|(n, _)| !n.contains('_')).collect();
    // Values come from all effective headers (the SDK's dict), names from the signed list.
    let mut tmp = [0u8; 64];
    // The SDK reads the first `X-Sdk-Content-Sha256` in any case.
    let body_hash = body_hash_hex(req.body, find(&eff, X_SDK_CONTENT), &mut tmp);
    let mut c = Cursor::new(out);
    let parts = write_canonical_request_with_values(req, &mut signed, &eff, body_hash, &mut c)?;
    // String to sign needs the canonical request's hash: hashed from the
    // buffer. When it did not fit, only lengths matter (BufferTooSmall is
    // returned below), and the hash is a placeholder of the same length.
    let sts0 = c.len();
    let sig;
    {
        let cr_hash = match c.written(parts.canonical.0..parts.canonical.1) {
            Some(cr) => hex32_lower(&Sha256::digest(cr).into()),
            None => [b'0'; 64],
        };
        let mut sts = Sha256Hmac::new(sk);
        let date_norm = upper_date(date);
        for part in [ALGORITHM.as_bytes(), b"\n", &date_norm[..], b"\n", &cr_hash[..]] {
            c.put(part);
            sts.put(part);
        }
        sig = hex32_lower(&sts.finish());
    }
    let sts1 = c.len();
    let auth0 = c.len();
    for part in [ALGORITHM.as_bytes(), b" Access=", ak.as_bytes(), b", SignedHeaders="] {
        c.put(part);
    }
    // SignedHeaders again, from the canonical request.
    let signed_len = parts.signed.1 - parts.signed.0;
    let sh_pos = c.len();
    for _ in 0..signed_len {
        c.put(b" ");
    }
    c.put(b", Signature=");
    c.put(&sig);
    let auth1 = c.len();
    let needed = c.len();
    let buf = c.into_inner();
    if needed > buf.len() {
        return Err(Error::BufferTooSmall { needed });
    }
    buf.copy_within(parts.signed.0..parts.signed.1, sh_pos);
    let text: &'o [u8] = buf;
    // One UTF-8 check of all the text, then each part a slice of it.
    let all = core::str::from_utf8(&text[..needed]).map_err(|_| Error::MalformedEncoding("not UTF-8"))?;
    let s = |r: (usize, usize)| all.get(r.0..r.1).ok_or(Error::MalformedEncoding("not UTF-8"));
    let mut headers_to_add = AddedHeaders::new();
    let date_in_sts = s((sts0 + ALGORITHM.len() + 1, sts0 + ALGORITHM.len() + 1 + 16))?;
    for (name, v) in &added {
        let value = match v {
            AddedValue::Date => date_in_sts,
            AddedValue::Unsigned => UNSIGNED,
            // The value written on the host line (found by search only if
            // that text is not the host).
            AddedValue::Host => match parts.host.and_then(|(a, b)| all.get(a..b)) {
                Some(h) if h == py_strip(req.host) => h,
                _ => host_static(req.host, text, parts.canonical),
            },
        };
        headers_to_add.push((name, value));
    }
    let authorization = s((auth0, auth1))?;
    headers_to_add.push(("Authorization", authorization));
    Ok(ApigSigned {
        canonical_request: s(parts.canonical)?,
        canonical_query: s(parts.query)?,
        signed_headers: s(parts.signed)?,
        string_to_sign: s((sts0, sts1))?,
        signature: FixedText::from_parts(&[&sig]),
        authorization,
        headers_to_add,
    })
}

enum AddedValue {
    Date,
    Unsigned,
    Host,
}

/// Finds the host value inside the canonical request (`host:<value>\n`),
/// so the added header borrows the output buffer like everything else.
fn host_static<'o>(host: &str, text: &'o [u8], canonical: (usize, usize)) -> &'o str {
    let cr = &text[canonical.0..canonical.1];
    // Stripped as the canonical request strips it (Python's `strip()`, which
    // also removes U+001C..U+001F: `trim()` here lost such a host).
    let host = py_strip(host);
    let needle_len = 5 + host.len();
    // The candidates are the line starts: 0 and each byte after a `\n`.
    let mut i = 0;
    while i + needle_len <= cr.len() {
        if cr[i..].starts_with(b"host:") && cr[i + 5..].starts_with(host.as_bytes()) {
            let v = &text[canonical.0 + i + 5..canonical.0 + i + needle_len];
            return core::str::from_utf8(v).unwrap_or("");
        }
        match cr[i..].iter().position(|&b| b == b'\n') {
            Some(p) => i += p + 1,
            None => break,
        }
    }
    ""
}

struct HashCursor<'h>(&'h mut Sha256);
impl Sink for HashCursor<'_> {
    fn put(&mut self, b: &[u8]) {
        Digest::update(self.0, b);
    }
}

struct Sha256Hmac(crate::mac::HmacSha256);
impl Sha256Hmac {
    fn new(sk: &str) -> Self {
        Sha256Hmac(crate::mac::mac_new(sk.as_bytes()))
    }
    fn finish(self) -> [u8; 32] {
        crate::mac::finish(self.0)
    }
}
impl Sink for Sha256Hmac {
    fn put(&mut self, b: &[u8]) {
        hmac::Mac::update(&mut self.0, b);
    }
}

trait CursorLike: Sink {
    fn pos(&self) -> usize;
}
impl CursorLike for Cursor<'_> {
    fn pos(&self) -> usize {
        self.len()
    }
}
impl CursorLike for HashCursor<'_> {
    fn pos(&self) -> usize {
        0
    }
}

fn write_canonical_request_with_values<C: CursorLike>(
    req: &ApigRequest<'_>,
    signed: &mut Headers<'_>,
    values: &Headers<'_>,
    body_hash: &str,
    c: &mut C,
) -> Result<Parts> {
    let start = c.pos();
    for chunk in req.method.as_bytes().chunks(16) {
        let mut up = [0u8; 16];
        let up = &mut up[..chunk.len()];
        up.copy_from_slice(chunk);
        up.make_ascii_uppercase();
        c.put(up);
    }
    c.put(b"\n");
    write_canonical_uri(req.path, c)?;
    c.put(b"\n");
    let q0 = c.pos();
    write_canonical_query(req.query, c)?;
    let q1 = c.pos();
    c.put(b"\n");
    signed.sort_unstable_by(|a, b| lower_cmp(a.0, b.0));
    let mut host = None;
    for (n, _) in signed.iter() {
        let value = values.iter().rev().find(|(m, _)| m.eq_ignore_ascii_case(n)).map_or("", |(_, v)| *v);
        write_lower(c, n);
        c.put(b":");
        let at = c.pos();
        let value = py_strip(value);
        c.put(value.as_bytes());
        if host.is_none() && n.eq_ignore_ascii_case("host") {
            host = Some((at, at + value.len()));
        }
        c.put(b"\n");
    }
    c.put(b"\n");
    let s0 = c.pos();
    for (i, (n, _)) in signed.iter().enumerate() {
        if i > 0 {
            c.put(b";");
        }
        write_lower(c, n);
    }
    let s1 = c.pos();
    c.put(b"\n");
    c.put(body_hash.as_bytes());
    Ok(Parts { canonical: (start, c.pos()), query: (q0, q1), signed: (s0, s1), host })
}

