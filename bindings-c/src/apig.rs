//! S6 — merchant → marketplace open APIs: `SDK-HMAC-SHA256` (AK/SK).

use crate::ffi::{boundary, bytes, freshness_of, pairs, text, FlagOut, IndexOut, OutBuf, Res};
use crate::ffi::{koosign_freshness, koosign_pair, koosign_str};
use crate::status::koosign_status;
use core::ffi::{c_char, c_int};

/// An HTTP request to sign or verify (S6). Every string is UTF-8 text as
/// sent, except the query, given as decoded (name, value) pairs.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct koosign_apig_request {
    /// HTTP method, e.g. "GET" (upper-cased for signing).
    pub method: koosign_str,
    /// Host, with the port when not the default, e.g.
    /// "mkt.myhuaweicloud.com"; used when no Host header is given.
    pub host: koosign_str,
    /// Path as sent (percent escapes allowed), e.g.
    /// "/api/mkp-openapi-public/global/v1/order/query"; at most 2048 bytes.
    pub path: koosign_str,
    /// Decoded query pairs in any order, repeated names allowed (at most
    /// 64); NULL only with `query_len` 0.
    pub query: *const koosign_pair,
    /// Number of query pairs.
    pub query_len: usize,
    /// Headers as given, names in any case, ASCII names (at most 32); NULL
    /// only with `headers_len` 0. For verification, include Authorization
    /// and X-Sdk-Date.
    pub headers: *const koosign_pair,
    /// Number of headers.
    pub headers_len: usize,
    /// Exact body bytes; NULL only with `body_len` 0.
    pub body: *const u8,
    /// Body length in bytes.
    pub body_len: usize,
}

/// The result of koosign_sign_apig. Every string points into the buffer
/// given to that call (valid while it is), UTF-8, not NUL-terminated.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct koosign_apig_signed {
    /// The Authorization header value:
    /// `SDK-HMAC-SHA256 Access=<ak>, SignedHeaders=<a;b>, Signature=<hex>`.
    pub authorization: koosign_str,
    /// The signature, 64 lower-case hex digits.
    pub signature: koosign_str,
    /// SignedHeaders: lower-case names joined by `;`.
    pub signed_headers: koosign_str,
    /// The canonical query string (part of the canonical request).
    pub canonical_query: koosign_str,
    /// CanonicalRequest (for debugging a mismatch).
    pub canonical_request: koosign_str,
    /// StringToSign (for debugging a mismatch).
    pub string_to_sign: koosign_str,
    /// Headers the caller must add to the request, in order: X-Sdk-Date
    /// (when not given), X-Sdk-Content-Sha256 (for a Content-Type other
    /// than JSON/BSON), Host (when not given), Authorization (always,
    /// last). An added header replaces a given one of the same name.
    pub headers_to_add: [koosign_pair; 4],
    /// Number of entries used in `headers_to_add` (1 to 4); the rest are
    /// empty.
    pub headers_to_add_len: usize,
}

const EMPTY: koosign_str = koosign_str {
    data: core::ptr::null(),
    len: 0,
};
const EMPTY_PAIR: koosign_pair = koosign_pair {
    name: EMPTY,
    value: EMPTY,
};

struct Owned<'a> {
    method: &'a str,
    host: &'a str,
    path: &'a str,
    query: Vec<(&'a str, &'a str)>,
    headers: Vec<(&'a str, &'a str)>,
    body: &'a [u8],
}

impl<'a> Owned<'a> {
    /// # Safety
    /// Every pointer of `r` NULL (only with a zero length) or valid.
    unsafe fn from_c(r: &koosign_apig_request) -> Res<Self> {
        // SAFETY: forwarded contract, for each pointer of `r`.
        unsafe {
            Ok(Owned {
                method: r.method.as_str()?,
                host: r.host.as_str()?,
                path: r.path.as_str()?,
                query: pairs(r.query, r.query_len)?,
                headers: pairs(r.headers, r.headers_len)?,
                body: bytes(r.body, r.body_len)?,
            })
        }
    }

    fn request(&self) -> ks::ApigRequest<'_> {
        ks::ApigRequest {
            method: self.method,
            host: self.host,
            path: self.path,
            query: &self.query,
            headers: &self.headers,
            body: self.body,
        }
    }
}

/// Signs an open-API call the way Huawei's Python SDK core does (SCHEMES.md
/// S6): `Authorization: SDK-HMAC-SHA256 Access=…, SignedHeaders=…,
/// Signature=hex(HMAC(SK, StringToSign))`. X-Sdk-Date is taken from the
/// request's headers when present (`yyyyMMddTHHmmssZ`, UTC), else made
/// from `*now_ms`. Host is added when absent. Every header whose name has
/// no `_` is signed.
///
/// - `request`: the request (see koosign_apig_request).
/// - `ak`, `ak_len`; `sk`, `sk_len`: access key ID and secret key (UTF-8,
///   not empty).
/// - `now_ms`: NULL, or the caller's clock in Unix milliseconds, used only
///   when the request has no X-Sdk-Date header.
/// - `buf`, `buf_cap`: the caller's buffer for all the text of the result
///   (canonical request, string to sign, authorization, headers); 4096
///   bytes are enough for ordinary calls.
/// - `buf_len`: receives the bytes used; with KOOSIGN_BUFFER_TOO_SMALL,
///   the bytes needed (and `buf` and `out` are untouched); 0 on other
///   errors.
/// - `out`: receives the result on KOOSIGN_OK; its strings point into `buf`.
///
/// Returns KOOSIGN_OK, KOOSIGN_NULL_PARAMETER, KOOSIGN_INVALID_UTF8,
/// KOOSIGN_MISSING_PARAMETER (no X-Sdk-Date and `now_ms` NULL),
/// KOOSIGN_BAD_TIMESTAMP (X-Sdk-Date malformed), KOOSIGN_NO_ACCESS_KEY
/// (empty AK or SK), KOOSIGN_MALFORMED_ENCODING (non-ASCII header name),
/// KOOSIGN_INPUT_TOO_LARGE (over 64 query pairs, 32 headers or a 2048-byte
/// path), KOOSIGN_BUFFER_TOO_SMALL, KOOSIGN_PANIC.
///
/// # Safety
/// `request` and `out` NULL or valid; every pointer inside `request` and
/// every input pointer NULL (only with a zero length) or valid for its
/// length; `buf` NULL (only with `buf_cap` 0) or valid for `buf_cap` bytes
/// of writes, not overlapping the inputs; `buf_len` valid for a write.
#[no_mangle]
pub unsafe extern "C" fn koosign_sign_apig(
    request: *const koosign_apig_request,
    ak: *const c_char,
    ak_len: usize,
    sk: *const c_char,
    sk_len: usize,
    now_ms: *const u64,
    buf: *mut u8,
    buf_cap: usize,
    buf_len: *mut usize,
    out: *mut koosign_apig_signed,
) -> koosign_status {
    boundary(|| {
        // SAFETY: the pointers meet this function's `# Safety` contract; the
        // conversions check NULL, lengths and UTF-8.
        let (buf, req, ak, sk, now) = unsafe {
            (
                OutBuf::new(buf, buf_cap, buf_len)?,
                request
                    .as_ref()
                    .ok_or(koosign_status::KOOSIGN_NULL_PARAMETER)?,
                text(ak, ak_len)?,
                text(sk, sk_len)?,
                now_ms.as_ref().copied(),
            )
        };
        if out.is_null() {
            return Err(koosign_status::KOOSIGN_NULL_PARAMETER);
        }
        // SAFETY: the pointers inside `request` meet the same contract.
        let owned = unsafe { Owned::from_c(req) }?;
        let r = owned.request();

        let mut stack = [0u8; 4096];
        let mut heap;
        let signed = match ks::sign_apig(&r, ak, sk, now, &mut stack) {
            Ok(s) => s,
            Err(ks::Error::BufferTooSmall { needed }) => {
                heap = vec![0u8; needed];
                ks::sign_apig(&r, ak, sk, now, &mut heap)?
            }
            Err(e) => return Err(e.into()),
        };

        // SAFETY: `out` is non-NULL (checked) and valid for a write (the contract).
        unsafe { write_signed(&signed, &buf, out) }
    })
}

/// Copies every text of `signed` into the caller's buffer, one part after
/// the other, and writes the result, whose strings point at the copies.
///
/// # Safety
/// `out` non-NULL and valid for a write.
unsafe fn write_signed(
    signed: &ks::ApigSigned<'_>,
    buf: &OutBuf,
    out: *mut koosign_apig_signed,
) -> Res<()> {
    // Everything is copied into the caller's buffer, one part after the
    // other, and the result's strings point at the copies.
    let mut parts: Vec<&[u8]> = vec![
        signed.authorization.as_bytes(),
        signed.signature.as_bytes(),
        signed.signed_headers.as_bytes(),
        signed.canonical_query.as_bytes(),
        signed.canonical_request.as_bytes(),
        signed.string_to_sign.as_bytes(),
    ];
    for (name, value) in &signed.headers_to_add {
        parts.push(name.as_bytes());
        parts.push(value.as_bytes());
    }
    buf.write_parts(&parts)?;
    let mut at = 0usize;
    let mut next = |p: &[u8]| {
        // Offsets within what write_parts copied: inside the buffer.
        let s = koosign_str {
            data: buf.base().wrapping_add(at).cast(),
            len: p.len(),
        };
        at += p.len();
        s
    };
    let mut result = koosign_apig_signed {
        authorization: next(parts[0]),
        signature: next(parts[1]),
        signed_headers: next(parts[2]),
        canonical_query: next(parts[3]),
        canonical_request: next(parts[4]),
        string_to_sign: next(parts[5]),
        headers_to_add: [EMPTY_PAIR; 4],
        headers_to_add_len: signed.headers_to_add.len(),
    };
    for (i, slot) in result
        .headers_to_add
        .iter_mut()
        .take(signed.headers_to_add.len())
        .enumerate()
    {
        *slot = koosign_pair {
            name: next(parts[6 + 2 * i]),
            value: next(parts[7 + 2 * i]),
        };
    }
    // SAFETY: the caller's contract.
    unsafe { out.write(result) };
    Ok(())
}

/// A call to sign given as a whole URL (see koosign_sign_apig_url). Every
/// string is UTF-8.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct koosign_apig_url_request {
    /// HTTP method, e.g. "GET".
    pub method: koosign_str,
    /// The whole URL, `http(s)://host[:port]/path?query#fragment`, as it
    /// will be given to the HTTP client.
    pub url: koosign_str,
    /// Headers as they will be sent, names in any case, ASCII names (at
    /// most 32); NULL only with `headers_len` 0.
    pub headers: *const koosign_pair,
    /// Number of headers.
    pub headers_len: usize,
    /// Exact body bytes; NULL only with `body_len` 0.
    pub body: *const u8,
    /// Body length in bytes.
    pub body_len: usize,
}

/// Signs an open-API call given as a whole URL (SCHEMES.md S6, "(decision)
/// Signing a whole URL"): the URL is split as HTTP clients put it on the
/// wire (WHATWG: host lower-cased, default port dropped, dot segments
/// removed, fragment dropped, query cut at `&` and the first `=`,
/// percent-decoded, `+` a space), then signed as koosign_sign_apig does.
/// Send the request to the same URL with the given headers plus
/// `headers_to_add` (Host among them when not given: pass it to clients
/// that keep the host's case, like curl).
///
/// Arguments and outputs as koosign_sign_apig, with `request` a
/// koosign_apig_url_request.
///
/// Returns KOOSIGN_OK, KOOSIGN_NULL_PARAMETER, KOOSIGN_INVALID_UTF8,
/// KOOSIGN_MALFORMED_ENCODING (a URL the clients send differently or that
/// is not one: another scheme, `user:password@`, a non-ASCII or
/// non-canonical numeric host, `\` before the query, an invalid `%`
/// escape, control characters; also a non-ASCII header name),
/// KOOSIGN_AMBIGUOUS (a percent-encoded dot segment such as `%2e%2e`),
/// KOOSIGN_MISSING_PARAMETER (no X-Sdk-Date and `now_ms` NULL),
/// KOOSIGN_BAD_TIMESTAMP, KOOSIGN_NO_ACCESS_KEY, KOOSIGN_INPUT_TOO_LARGE
/// (over 64 query pairs, 32 headers or a 2048-byte path),
/// KOOSIGN_BUFFER_TOO_SMALL, KOOSIGN_PANIC.
///
/// # Safety
/// As koosign_sign_apig: `request` and `out` NULL or valid; every pointer
/// inside `request` and every input pointer NULL (only with a zero length)
/// or valid for its length; `buf` NULL (only with `buf_cap` 0) or valid
/// for `buf_cap` bytes of writes, not overlapping the inputs; `buf_len`
/// valid for a write.
#[no_mangle]
pub unsafe extern "C" fn koosign_sign_apig_url(
    request: *const koosign_apig_url_request,
    ak: *const c_char,
    ak_len: usize,
    sk: *const c_char,
    sk_len: usize,
    now_ms: *const u64,
    buf: *mut u8,
    buf_cap: usize,
    buf_len: *mut usize,
    out: *mut koosign_apig_signed,
) -> koosign_status {
    boundary(|| {
        // SAFETY: the pointers meet this function's `# Safety` contract; the
        // conversions check NULL, lengths and UTF-8.
        let (buf, req, ak, sk, now) = unsafe {
            (
                OutBuf::new(buf, buf_cap, buf_len)?,
                request
                    .as_ref()
                    .ok_or(koosign_status::KOOSIGN_NULL_PARAMETER)?,
                text(ak, ak_len)?,
                text(sk, sk_len)?,
                now_ms.as_ref().copied(),
            )
        };
        if out.is_null() {
            return Err(koosign_status::KOOSIGN_NULL_PARAMETER);
        }
        // SAFETY: the pointers inside `request` meet the same contract.
        let (method, url, headers, body) = unsafe {
            (
                req.method.as_str()?,
                req.url.as_str()?,
                pairs(req.headers, req.headers_len)?,
                bytes(req.body, req.body_len)?,
            )
        };
        let hl = headers.iter().map(|(n, v)| n.len() + v.len()).sum();
        let mut scratch =
            vec![0u8; ks::apig::sign_apig_url_len(method.len(), url.len(), hl, ak.len())];
        let signed = ks::sign_apig_url(method, url, &headers, body, ak, sk, now, &mut scratch)?;
        // SAFETY: `out` is non-NULL (checked) and valid for a write (the contract).
        unsafe { write_signed(&signed, &buf, out) }
    })
}

/// Server-side check of an `SDK-HMAC-SHA256` request (S6): reads
/// Authorization from the request's headers, finds the secret of its
/// `Access` among `credentials`, recomputes over the headers it lists and
/// compares in constant time; checks X-Sdk-Date against `freshness`
/// unless it names the window unchecked.
///
/// The rules of SCHEMES.md S6 (decisions), checked before the MAC:
/// - Authorization and X-Sdk-Date occur once each, and so does every
///   header named in SignedHeaders (case-insensitively); each
///   Authorization attribute once. A repeat is KOOSIGN_AMBIGUOUS (the
///   application might read the unsigned copy).
/// - SignedHeaders is lower-case, sorted, and includes `host` and
///   `x-sdk-date`; else KOOSIGN_MALFORMED_ENCODING. (The SDK's published
///   vector 3, which signs `x-sdk-date` alone, is refused.)
/// - `X-Sdk-Content-Sha256` counts only when signed, and then must be
///   `UNSIGNED-PAYLOAD` or the body's real hex SHA-256, else
///   KOOSIGN_SIGNATURE_MISMATCH; an unsigned one is ignored (the real body
///   hash is used), so a swapped body with the original hash in an
///   unsigned header is KOOSIGN_SIGNATURE_MISMATCH.
///
/// - `request`: the request as received, headers including Authorization
///   and X-Sdk-Date.
/// - `credentials`, `credentials_len`: (name = AK, value = SK) pairs, at
///   least one, none empty.
/// - `freshness`: required (NULL is KOOSIGN_NULL_PARAMETER):
///   |now_ms − X-Sdk-Date| ≤ window_ms (Unix milliseconds);
///   KOOSIGN_APIG_DEFAULT_WINDOW_MS (±15 min) is the default a server
///   should use. Left out only by name: koosign_freshness_unchecked(), or
///   `window_ms` = KOOSIGN_WINDOW_UNCHECKED.
/// - `out_index`: NULL, or receives on success the index of the matching
///   credential.
/// - `out_unsigned_payload`: NULL, or receives on success 1 when the
///   request was verified with a signed `X-Sdk-Content-Sha256:
///   UNSIGNED-PAYLOAD` and a non-empty body — **the body is then not
///   authenticated**, only the method, URL and signed headers — else 0. A
///   caller that relies on the body must pass it and refuse 1.
///
/// Returns KOOSIGN_OK, KOOSIGN_NULL_PARAMETER, KOOSIGN_INVALID_UTF8,
/// KOOSIGN_MISSING_PARAMETER (Authorization, X-Sdk-Date, an Authorization
/// attribute or a signed header absent), KOOSIGN_AMBIGUOUS (a repeat, see
/// above), KOOSIGN_MALFORMED_ENCODING (Authorization not SDK-HMAC-SHA256
/// or malformed, SignedHeaders not as above), KOOSIGN_BAD_TIMESTAMP,
/// KOOSIGN_NO_ACCESS_KEY, KOOSIGN_SIGNATURE_MISMATCH (unknown AK and a bad
/// signed X-Sdk-Content-Sha256 included), KOOSIGN_STALE_TIMESTAMP,
/// KOOSIGN_INPUT_TOO_LARGE, KOOSIGN_PANIC. On any error the outputs are
/// untouched.
///
/// # Safety
/// `request` NULL or valid, with every pointer inside it NULL (only with a
/// zero length) or valid; `credentials` NULL (only with length 0) or valid
/// for `credentials_len` pairs; `out_index` and `out_unsigned_payload`
/// NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn koosign_verify_apig(
    request: *const koosign_apig_request,
    credentials: *const koosign_pair,
    credentials_len: usize,
    freshness: *const koosign_freshness,
    out_index: *mut usize,
    out_unsigned_payload: *mut c_int,
) -> koosign_status {
    boundary(|| {
        // SAFETY: the pointers meet this function's `# Safety` contract; the
        // conversions check NULL, lengths and UTF-8.
        let (req, creds, fresh, index, unsigned) = unsafe {
            (
                request
                    .as_ref()
                    .ok_or(koosign_status::KOOSIGN_NULL_PARAMETER)?,
                pairs(credentials, credentials_len)?,
                freshness_of(freshness)?,
                IndexOut::new(out_index),
                FlagOut::new(out_unsigned_payload),
            )
        };
        // SAFETY: the pointers inside `request` meet the same contract.
        let owned = unsafe { Owned::from_c(req) }?;
        let v = ks::verify_apig(&owned.request(), &creds, fresh)?;
        index.set(v.credential_index);
        unsigned.set(v.unsigned_payload);
        Ok(())
    })
}
