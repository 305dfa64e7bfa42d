//! Test-side encoders, decoders and MACs, written independently of the
//! core for the differential checks.

use hmac::{KeyInit, Mac};
use sha2::{Digest, Sha256};

/// Java `URLEncoder.encode(s, UTF-8)`.
pub fn form_encode(s: &[u8]) -> String {
    let mut out = String::new();
    for &b in s {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'.' | b'-' | b'*' | b'_' => out.push(b as char),
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// RFC 3986 unreserved characters (what the APIG encoder keeps).
pub fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~')
}

/// Strict percent-decoding of an APIG-encoded string: only unreserved
/// bytes and `%XY` with upper-case hex may appear. `None` otherwise.
pub fn apig_decode(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let h = |c: u8| match c {
                b'0'..=b'9' => Some(c - b'0'),
                b'A'..=b'F' => Some(c - b'A' + 10),
                _ => None,
            };
            let hi = h(*b.get(i + 1)?)?;
            let lo = h(*b.get(i + 2)?)?;
            let v = hi << 4 | lo;
            // The encoder never escapes an unreserved byte.
            if is_unreserved(v) {
                return None;
            }
            out.push(v);
            i += 3;
        } else if is_unreserved(b[i]) {
            out.push(b[i]);
            i += 1;
        } else {
            return None;
        }
    }
    Some(out)
}

/// Python's `unquote(s, errors='replace')` as the APIG signer applies it to
/// the path: `%XY` (either case) decoded, invalid escapes kept, then the
/// bytes read as UTF-8 with U+FFFD for each invalid sequence.
pub fn path_unquote(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' && i + 2 < b.len() {
            let hx = |c: u8| (c as char).to_digit(16);
            if let (Some(h), Some(l)) = (hx(b[i + 1]), hx(b[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Lower-case hex.
pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// HMAC-SHA256.
pub fn hmac_sha256(key: &[u8], msg: &[u8]) -> Vec<u8> {
    let mut m = <hmac::Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("HMAC takes any key");
    m.update(msg);
    m.finalize().into_bytes().to_vec()
}

/// SHA-256.
pub fn sha256(msg: &[u8]) -> Vec<u8> {
    Sha256::digest(msg).to_vec()
}

/// Standard Base64 (independent implementation: the `base64` crate).
pub fn b64(b: &[u8]) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(b)
}

/// Standard Base64 decoding, strict (canonical padding and trailing bits).
pub fn b64_decode(s: &[u8]) -> Option<Vec<u8>> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(s).ok()
}

/// Java `String.compareTo` (UTF-16 code units).
pub fn java_cmp(a: &str, b: &str) -> std::cmp::Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}

/// S1 canonical string computed from scratch: drop `authToken`, first
/// value of each name wins, sort by UTF-16, join.
pub fn v1_canonical(params: &[(&str, &str)], skip_blank: bool) -> String {
    let mut kept: Vec<(&str, &str)> = Vec::new();
    for &(n, v) in params {
        if n == "authToken" || (skip_blank && v.trim().is_empty()) || kept.iter().any(|(k, _)| *k == n) {
            continue;
        }
        kept.push((n, v));
    }
    kept.sort_by(|a, b| java_cmp(a.0, b.0));
    kept.iter().map(|(n, v)| format!("{n}={v}")).collect::<Vec<_>>().join("&")
}

/// SCHEMES.md S1 item 10, written from the spec: a request is ambiguous
/// when a pair other than `authToken` has a name containing `&` or `=`, or
/// a value in which some `&` is followed by zero or more characters free of
/// `&` and `=` and then `=` (the text `&x=`, `x` possibly empty).
pub fn v1_ambiguous<N: AsRef<str>, V: AsRef<str>>(pairs: &[(N, V)]) -> bool {
    pairs.iter().filter(|(n, _)| n.as_ref() != "authToken").any(|(n, v)| {
        let (n, v) = (n.as_ref(), v.as_ref());
        n.contains('&')
            || n.contains('=')
            || v.match_indices('&').any(|(i, _)| {
                let after = &v[i + 1..];
                let run = after.find(|c| c == '&' || c == '=').map_or(after, |j| &after[..j]);
                after[run.len()..].starts_with('=')
            })
    })
}

/// The members of a JSON object in order, duplicates kept (serde_json's
/// `Value` keeps only the last of a repeated name). `None` when the text
/// is not JSON or not an object.
pub fn json_members(body: &[u8]) -> Option<Vec<(String, serde_json::Value)>> {
    struct Members(Vec<(String, serde_json::Value)>);
    impl<'de> serde::Deserialize<'de> for Members {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl<'de> serde::de::Visitor<'de> for V {
                type Value = Members;
                fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str("a JSON object")
                }
                fn visit_map<A: serde::de::MapAccess<'de>>(self, mut m: A) -> Result<Members, A::Error> {
                    let mut out = Vec::new();
                    while let Some(kv) = m.next_entry::<String, serde_json::Value>()? {
                        out.push(kv);
                    }
                    Ok(Members(out))
                }
            }
            d.deserialize_map(V)
        }
    }
    serde_json::from_slice::<Members>(body).ok().map(|m| m.0)
}

/// An HTTP header name (RFC 9110 `token`).
pub fn is_token(s: &str) -> bool {
    !s.is_empty()
        && s.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

/// Replaces byte `pos % len` of `s` by `b`; `None` when that changes
/// nothing or the result is not UTF-8.
pub fn mutate(s: &str, pos: usize, b: u8) -> Option<String> {
    if s.is_empty() {
        return None;
    }
    let mut v = s.as_bytes().to_vec();
    let i = pos % v.len();
    if v[i] == b {
        return None;
    }
    v[i] = b;
    String::from_utf8(v).ok()
}

/// Byte index `pos % len` of `s`.
pub fn index(s: &str, pos: usize) -> usize {
    pos % s.len().max(1)
}

/// `application/x-www-form-urlencoded` parsing as S1 step 1 describes it,
/// written from the spec: split on `&` (empty segments skipped), then on
/// the first `=`; `+` is a space, `%XY` a byte (an invalid escape is an
/// error); names and values must be UTF-8.
pub fn form_parse(q: &str) -> Result<Vec<(String, String)>, &'static str> {
    fn dec(s: &str) -> Result<String, &'static str> {
        let b = s.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                b'+' => {
                    out.push(b' ');
                    i += 1;
                }
                b'%' => {
                    let hx = |j: usize| b.get(j).and_then(|&c| (c as char).to_digit(16));
                    match (hx(i + 1), hx(i + 2)) {
                        (Some(h), Some(l)) => out.push((h * 16 + l) as u8),
                        _ => return Err("escape"),
                    }
                    i += 3;
                }
                c => {
                    out.push(c);
                    i += 1;
                }
            }
        }
        String::from_utf8(out).map_err(|_| "utf8")
    }
    let q = q.strip_prefix('?').unwrap_or(q);
    let mut out = Vec::new();
    for seg in q.split('&').filter(|s| !s.is_empty()) {
        let (n, v) = seg.split_once('=').unwrap_or((seg, ""));
        out.push((dec(n)?, dec(v)?));
    }
    Ok(out)
}

/// An independent reading of the S2b rule (SCHEMES.md S2b decision): the
/// kit body must start with `{` and the kit nonce must not contain `{`.
pub fn kit_ok(nonce: &str, body: &[u8]) -> bool {
    body.first() == Some(&b'{') && !nonce.contains('{')
}
