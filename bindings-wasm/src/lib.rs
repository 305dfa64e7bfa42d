//! The WebAssembly face of `koosign` for Node: translation only.
//!
//! Every function here converts JavaScript values into the core's
//! arguments, calls the core, and converts the result back. No scheme is
//! computed here (and none in the JavaScript wrapper either): parsing,
//! canonicalisation, MACs, freshness, replay and encryption are all the
//! core's. The JavaScript wrapper in `js/` gives the public camelCase API,
//! the `KoosignError` classes and the defaults.
//!
//! Conventions of this ABI (private to the package):
//! - Errors are thrown as a string `CODE \x1f detail \x1f message`, where
//!   `CODE` is [`koosign::Error::code`], `detail` the variant's data (a
//!   parameter name, a limit, a byte count, or empty) and `message` the
//!   core's `Display` text, which never holds a secret. The wrapper turns it
//!   into the right `KoosignError` subclass.
//! - Bodies and lists of strings (access keys, headers, parameters) arrive
//!   through the argument arena (see [`args_bytes`]): JavaScript writes each
//!   argument's bytes once, natively (`Buffer#write`,
//!   `Uint8Array.set`), straight into linear memory, with their lengths in a
//!   second region, and the call passes only their count: no allocation per
//!   argument, no per-character copy loop, one crossing per call.
//! - Freshness arrives as `now_ms` and `window_ms` (f64): `window_ms < 0`
//!   means "no window" ([`WINDOW_NONE`]) or "the scheme's default"
//!   ([`WINDOW_DEFAULT`]: ±60 s for V2, none for V1, S5 and S6; the
//!   JavaScript endpoint helpers pass V1's ±5 min themselves).
//! - Replay stores arrive as a [`NonceCacheHandle`] (the "no store" sentinel
//!   when the caller gave none); V2 nonces and V1 `authToken`s share one
//!   store, the core tagging the latter `v1:`.
//! - Structured results are returned as one string: JSON text for the rare
//!   ones (APIG, form pairs); the verified V1 parameters (the hot path) as
//!   length-prefixed pieces left in a result arena that JavaScript decodes
//!   in place (see [`v1_result`]).

use koosign::{DecryptMode, EncryptType, Error, Freshness, V2Auth, V2Scheme};
use wasm_bindgen::prelude::*;

/// `window_ms` value meaning: no freshness check.
const WINDOW_NONE: f64 = -2.0;
/// `window_ms` value meaning: the scheme's default.
const WINDOW_DEFAULT: f64 = -1.0;
/// Set in [`verify_apig`]'s result when `unsigned_payload`.
const UNSIGNED_PAYLOAD_BIT: u32 = 0x8000_0000;

// ---------------------------------------------------------------------------
// Errors

fn js_err(e: Error) -> JsValue {
    use core::fmt::Write;
    let mut s = String::with_capacity(96);
    s.push_str(e.code());
    s.push('\x1f');
    let _ = match e {
        Error::MissingParameter(name) => s.write_str(name),
        Error::MalformedEncoding(what) | Error::Ambiguous(what) => s.write_str(what),
        Error::BufferTooSmall { needed } => write!(s, "{needed}"),
        Error::InputTooLarge { limit } => write!(s, "{limit}"),
        _ => Ok(()),
    };
    s.push('\x1f');
    let _ = write!(s, "{e}");
    JsValue::from_str(&s)
}

type R<T> = Result<T, JsValue>;

// ---------------------------------------------------------------------------
// Argument translation

thread_local! {
    /// The argument arena: bytes, and the length of each argument.
    static ARGS: core::cell::RefCell<(Vec<u8>, Vec<u32>)> = const { core::cell::RefCell::new((Vec::new(), Vec::new())) };
    /// The result arena: the hot verifiers leave their text here and return
    /// its length; JavaScript decodes it in place (see [`out_ptr`]).
    static OUT: core::cell::RefCell<String> = const { core::cell::RefCell::new(String::new()) };
}

/// Leaves `s` in the result arena; returns its length in bytes.
fn out(s: &str) -> u32 {
    OUT.with(|o| {
        let o = &mut *o.borrow_mut();
        o.clear();
        o.push_str(s);
        o.len() as u32
    })
}

/// Address of the result arena's text (valid until the next call).
#[wasm_bindgen]
pub fn out_ptr() -> *const u8 {
    OUT.with(|o| o.borrow().as_ptr())
}

/// Grows the arena's byte region to at least `cap` bytes; returns its
/// address in linear memory (stable until the next call of this function).
#[wasm_bindgen]
pub fn args_bytes(cap: usize) -> *mut u8 {
    ARGS.with(|a| {
        let v = &mut a.borrow_mut().0;
        if v.len() < cap {
            v.resize(cap, 0);
        }
        v.as_mut_ptr()
    })
}

/// Grows the arena's length region to at least `cap` entries; returns its
/// address (4-aligned).
#[wasm_bindgen]
pub fn args_lens(cap: usize) -> *mut u32 {
    ARGS.with(|a| {
        let v = &mut a.borrow_mut().1;
        if v.len() < cap {
            v.resize(cap, 0);
        }
        v.as_mut_ptr()
    })
}

/// The WebAssembly memory, for the arena's views.
#[wasm_bindgen]
pub fn wasm_memory() -> JsValue {
    wasm_bindgen::memory()
}

/// Runs `f` over the first `n` arguments of the arena, which must be at
/// least `min` (so that `f` may index `args[..min]`).
fn with_args<T>(n: u32, min: usize, f: impl FnOnce(&[&[u8]]) -> R<T>) -> R<T> {
    ARGS.with(|a| {
        let a = a.borrow();
        let (bytes, lens) = (&a.0, &a.1);
        let lens = lens
            .get(..n as usize)
            .filter(|l| l.len() >= min)
            .ok_or_else(|| js_err(Error::MalformedEncoding("argument count")))?;
        let mut args = Vec::with_capacity(lens.len());
        let mut at = 0usize;
        for &l in lens {
            let end = at + l as usize;
            args.push(bytes.get(at..end).ok_or_else(|| js_err(Error::MalformedEncoding("argument lengths")))?);
            at = end;
        }
        f(&args)
    })
}

/// An argument as text (JavaScript wrote it with `Buffer#write`: valid UTF-8).
fn text(b: &[u8]) -> R<&str> {
    core::str::from_utf8(b).map_err(|_| js_err(Error::MalformedEncoding("not UTF-8")))
}

fn texts<'a>(bs: &[&'a [u8]]) -> R<Vec<&'a str>> {
    bs.iter().map(|b| text(b)).collect()
}

/// Pairs from a flat list `[n0, v0, n1, v1, …]`.
fn pairs<'a>(flat: &[&'a str]) -> Vec<(&'a str, &'a str)> {
    flat.chunks_exact(2).map(|c| (c[0], c[1])).collect()
}

/// `args[at..at + n]`, or a format error.
fn slice<'s, 'a>(args: &'s [&'a [u8]], at: usize, n: usize) -> R<&'s [&'a [u8]]> {
    args.get(at..at + n).ok_or_else(|| js_err(Error::MalformedEncoding("argument count")))
}

fn freshness(now_ms: f64, window_ms: f64, default: Option<u64>) -> Freshness {
    let now = now_ms as u64; // saturating; NaN → 0
    if window_ms == WINDOW_NONE {
        Freshness::Unchecked
    } else if window_ms == WINDOW_DEFAULT {
        default.map_or(Freshness::Unchecked, |w| Freshness::with_window(now, w))
    } else {
        Freshness::with_window(now, window_ms as u64)
    }
}

fn encrypt_type(code: u32) -> R<EncryptType> {
    match code {
        1 => Ok(EncryptType::Aes256),
        2 => Ok(EncryptType::Aes128),
        _ => Err(js_err(Error::MalformedEncoding("encryptType must be \"1\" or \"2\""))),
    }
}

/// 0 = auto, 1 = AES-256, 2 = AES-128.
fn decrypt_mode(code: u32) -> R<DecryptMode> {
    if code == 0 {
        Ok(DecryptMode::Auto)
    } else {
        encrypt_type(code).map(DecryptMode::Only)
    }
}

// ---------------------------------------------------------------------------
// JSON output

struct Json(String);

impl Json {
    fn new() -> Self {
        Json(String::with_capacity(256))
    }
    fn raw(&mut self, s: &str) -> &mut Self {
        self.0.push_str(s);
        self
    }
    fn str(&mut self, s: &str) -> &mut Self {
        self.0.push('"');
        let mut start = 0;
        for (i, b) in s.bytes().enumerate() {
            let esc: Option<&str> = match b {
                b'"' => Some("\\\""),
                b'\\' => Some("\\\\"),
                b'\n' => Some("\\n"),
                b'\r' => Some("\\r"),
                b'\t' => Some("\\t"),
                0..=0x1f => None,
                _ => continue,
            };
            self.0.push_str(&s[start..i]);
            match esc {
                Some(e) => self.0.push_str(e),
                None => {
                    const HEX: &[u8; 16] = b"0123456789abcdef";
                    self.0.push_str("\\u00");
                    self.0.push(HEX[usize::from(b >> 4)] as char);
                    self.0.push(HEX[usize::from(b & 15)] as char);
                }
            }
            start = i + 1;
        }
        self.0.push_str(&s[start..]);
        self.0.push('"');
        self
    }
    fn pairs_array(&mut self, pairs: &[(&str, &str)]) -> &mut Self {
        self.0.push('[');
        for (i, (n, v)) in pairs.iter().enumerate() {
            if i > 0 {
                self.0.push(',');
            }
            self.raw("[").str(n).raw(",").str(v).raw("]");
        }
        self.0.push(']');
        self
    }
}

// ---------------------------------------------------------------------------
// Constants

/// `[DEFAULT_WINDOW_MS, MAX_WIRE_LEN, MAX_PLAINTEXT_LEN, IV_LEN, MAX_NONCE_LEN, MAX_PARAMS,
/// V1_DEFAULT_WINDOW_MS, APIG_DEFAULT_WINDOW_MS, MAX_NOTIFICATION_BODY]`.
#[wasm_bindgen]
pub fn constants() -> Vec<f64> {
    [
        koosign::DEFAULT_WINDOW_MS as usize,
        koosign::field::MAX_WIRE_LEN,
        koosign::field::MAX_PLAINTEXT_LEN,
        koosign::field::IV_LEN,
        koosign::v2::MAX_NONCE_LEN,
        koosign::form::MAX_PARAMS,
        koosign::V1_DEFAULT_WINDOW_MS as usize,
        koosign::APIG_DEFAULT_WINDOW_MS as usize,
        koosign::MAX_NOTIFICATION_BODY,
    ]
    .iter()
    .map(|&n| n as f64)
    .collect()
}

/// Every error code of the core, `|`-joined (for the wrapper's classes and
/// the tests).
#[wasm_bindgen]
pub fn error_codes() -> String {
    [
        Error::MissingParameter(""),
        Error::MalformedEncoding(""),
        Error::BadTimestamp,
        Error::StaleTimestamp,
        Error::ReplayedNonce,
        Error::NonceStoreFull,
        Error::BufferTooSmall { needed: 0 },
        Error::InputTooLarge { limit: 0 },
        Error::NoAccessKey,
        Error::SignatureMismatch,
        Error::Decrypt,
        Error::RandomSource,
        Error::Ambiguous(""),
        Error::StoreUnavailable,
    ]
    .iter()
    .map(|e| if e.is_format_error() { format!("{}+", e.code()) } else { e.code().to_string() })
    .collect::<Vec<_>>()
    .join("|")
}

// ---------------------------------------------------------------------------
// Nonce store

trait Store: koosign::NonceStore {
    fn len(&self) -> usize;
    fn capacity(&self) -> usize;
    fn contains(&self, nonce: &[u8], now_ms: u64) -> bool;
}

impl<const N: usize> Store for koosign::NonceCache<N> {
    fn len(&self) -> usize {
        koosign::NonceCache::len(self)
    }
    fn capacity(&self) -> usize {
        N
    }
    fn contains(&self, nonce: &[u8], now_ms: u64) -> bool {
        koosign::NonceCache::contains(self, nonce, now_ms)
    }
}

/// The core's fixed-capacity [`koosign::NonceCache`], in one of a few
/// capacity classes (the core's capacity is a compile-time constant).
/// A store created with `capacity == 0` is the "no store" sentinel: the
/// verifiers then check no replay.
#[wasm_bindgen]
pub struct NonceCacheHandle {
    inner: Option<Box<dyn Store>>,
}

/// The capacity classes offered.
const CAPACITIES: [usize; 5] = [256, 1024, 4096, 16384, 65536];

#[wasm_bindgen]
impl NonceCacheHandle {
    /// A cache holding at least `capacity` nonces (rounded up to the next
    /// class; at most 65536); 0 makes the "no store" sentinel.
    #[wasm_bindgen(constructor)]
    pub fn new(capacity: u32) -> R<NonceCacheHandle> {
        let c = capacity as usize;
        let inner: Option<Box<dyn Store>> = match c {
            0 => None,
            _ if c <= CAPACITIES[0] => Some(Box::new(koosign::NonceCache::<256>::new())),
            _ if c <= CAPACITIES[1] => Some(Box::new(koosign::NonceCache::<1024>::new())),
            _ if c <= CAPACITIES[2] => Some(Box::new(koosign::NonceCache::<4096>::new())),
            _ if c <= CAPACITIES[3] => Some(Box::new(koosign::NonceCache::<16384>::new())),
            _ if c <= CAPACITIES[4] => Some(Box::new(koosign::NonceCache::<65536>::new())),
            _ => return Err(js_err(Error::InputTooLarge { limit: CAPACITIES[4] })),
        };
        Ok(NonceCacheHandle { inner })
    }

    /// Entries held (expired ones included until evicted).
    pub fn len(&self) -> u32 {
        self.inner.as_ref().map_or(0, |s| s.len() as u32)
    }

    /// The capacity class.
    pub fn capacity(&self) -> u32 {
        self.inner.as_ref().map_or(0, |s| s.capacity() as u32)
    }

    /// True if `nonce` is held and unexpired at `now_ms`.
    pub fn contains(&self, nonce: &str, now_ms: f64) -> bool {
        self.inner.as_ref().is_some_and(|s| s.contains(nonce.as_bytes(), now_ms as u64))
    }

    /// The core's `check_and_insert`, for stores used outside the verifiers.
    pub fn check_and_insert(&mut self, nonce: &str, now_ms: f64, expires_at_ms: f64) -> R<()> {
        match self.inner.as_mut() {
            Some(s) => s.check_and_insert(nonce.as_bytes(), now_ms as u64, expires_at_ms as u64).map_err(js_err),
            None => Ok(()),
        }
    }
}

impl NonceCacheHandle {
    fn store(&mut self) -> koosign::Replay<'_> {
        match self.inner.as_mut() {
            Some(b) => koosign::Replay::Store(b.as_mut() as &mut dyn koosign::NonceStore),
            None => koosign::Replay::Unchecked,
        }
    }
}

// ---------------------------------------------------------------------------
// S1 / S1b

/// Appends `s` preceded by its length in UTF-16 code units, as two chars
/// of 15 bits each (so that JavaScript can cut the pieces with `slice`).
fn push_piece(out: &mut String, s: &str) {
    let n = if s.is_ascii() { s.len() } else { s.encode_utf16().count() };
    // Both halves are below U+8000: never a surrogate.
    out.push(char::from_u32((n >> 15) as u32 & 0x7fff).unwrap_or('\0'));
    out.push(char::from_u32(n as u32 & 0x7fff).unwrap_or('\0'));
    out.push_str(s);
}

/// Leaves `keyIndex:timestampMs:` then the canonical pairs as
/// length-prefixed pieces (name, value, name, value, …) in the result
/// arena; returns its length in bytes. Cheaper to read in JavaScript than
/// JSON.
fn v1_result(v: &koosign::VerifiedV1<'_, '_>) -> u32 {
    use core::fmt::Write;
    OUT.with(|o| {
        let out = &mut *o.borrow_mut();
        out.clear();
        let _ = write!(out, "{}:{}:", v.key_index(), v.time_stamp_ms());
        for (n, val) in v.params() {
            push_piece(out, n);
            push_piece(out, val);
        }
        out.len() as u32
    })
}

/// S1: verifies a V1 query (or URL). Arguments: query, keys….
/// `store`: the replay store the `authToken` is recorded in (tagged `v1:`,
/// until `timeStamp` + window), or the "no store" sentinel.
/// Leaves [`v1_result`]'s text in the result arena; returns its length.
#[wasm_bindgen]
pub fn verify_v1(n: u32, now_ms: f64, window_ms: f64, store: &mut NonceCacheHandle) -> R<u32> {
    with_args(n, 1, |args| {
        let query = koosign::query_of(text(args[0])?);
        let keys = texts(&args[1..])?;
        let mut scratch = vec![0u8; query.len()];
        let fresh = freshness(now_ms, window_ms, None);
        let v = koosign::verify_v1_query(query, &keys, fresh, store.store(), &mut scratch).map_err(js_err)?;
        Ok(v1_result(&v))
    })
}

/// S1b: verifies a licence "Kit" POST. Arguments: token, body, keys….
/// `store` as in [`verify_v1`].
#[wasm_bindgen]
pub fn verify_v1_json(n: u32, now_ms: f64, window_ms: f64, store: &mut NonceCacheHandle) -> R<u32> {
    with_args(n, 2, |args| {
        let (token, body) = (text(args[0])?, args[1]);
        let keys = texts(&args[2..])?;
        let mut scratch = vec![0u8; body.len() + token.len() + 9];
        let fresh = freshness(now_ms, window_ms, None);
        let v = koosign::verify_v1_json(token, body, &keys, fresh, store.store(), &mut scratch).map_err(js_err)?;
        Ok(v1_result(&v))
    })
}

/// The canonical string of a V1 query (S1 steps 1–5), for diagnostics.
#[wasm_bindgen]
pub fn v1_canonical(query: &str) -> R<String> {
    let query = koosign::query_of(query);
    let mut scratch = vec![0u8; query.len()];
    let p = koosign::V1Params::parse(query, &mut scratch).map_err(js_err)?;
    let mut out = vec![0u8; p.canonical_len()];
    p.canonical(&mut out).map(str::to_owned).map_err(js_err)
}

/// The `authToken` for decoded parameters. Arguments: key, then the
/// parameters flat (name, value, …).
#[wasm_bindgen]
pub fn v1_auth_token(n: u32) -> R<String> {
    with_args(n, 1, |args| {
        let all = texts(args)?;
        koosign::v1_auth_token(&pairs(&all[1..]), all[0]).map(|t| t.as_str().to_owned()).map_err(js_err)
    })
}

/// The query string the marketplace sends. Arguments as [`v1_auth_token`].
#[wasm_bindgen]
pub fn build_v1_query(n: u32) -> R<String> {
    with_args(n, 1, |args| {
        let all = texts(args)?;
        let p = pairs(&all[1..]);
        let mut len = 3 * args.iter().map(|a| a.len() + 1).sum::<usize>() + 160;
        loop {
            let mut out = vec![0u8; len];
            match koosign::build_v1_query(&p, all[0], &mut out) {
                Ok(q) => return Ok(q.to_owned()),
                Err(Error::BufferTooSmall { needed }) if needed > len => len = needed,
                Err(e) => return Err(js_err(e)),
            };
        }
    })
}

/// Form-decodes a query string into JSON `[[name, value], …]` (order kept).
#[wasm_bindgen]
pub fn parse_form(query: &str) -> R<String> {
    let query = koosign::query_of(query);
    let mut scratch = vec![0u8; query.len()];
    let p = koosign::parse_form(query, &mut scratch).map_err(js_err)?;
    let mut j = Json::new();
    j.pairs_array(p.as_slice());
    Ok(j.0)
}

// ---------------------------------------------------------------------------
// S2 / S2b

fn scheme(kit: bool) -> V2Scheme {
    if kit {
        V2Scheme::Headers
    } else {
        V2Scheme::Query
    }
}

fn v2_verify(
    kit: bool,
    auth: &V2Auth<'_>,
    body: &[u8],
    keys: &[&[u8]],
    now_ms: f64,
    window_ms: f64,
    store: &mut NonceCacheHandle,
) -> R<Vec<f64>> {
    let keys = texts(keys)?;
    let fresh = freshness(now_ms, window_ms, Some(koosign::DEFAULT_WINDOW_MS));
    let v = koosign::verify_v2(scheme(kit), auth, body, &keys, fresh, store.store()).map_err(js_err)?;
    Ok(vec![v.key_index() as f64, v.timestamp_ms() as f64])
}

/// S2 with `signature`, `timestamp`, `nonce` read from a query string or
/// URL. Arguments: query, body, keys…. Returns `[keyIndex, timestampMs]`.
#[wasm_bindgen]
pub fn verify_v2_query(n: u32, now_ms: f64, window_ms: f64, store: &mut NonceCacheHandle) -> R<Vec<f64>> {
    with_args(n, 2, |args| {
        let query = koosign::query_of(text(args[0])?);
        let mut scratch = vec![0u8; query.len()];
        let auth = V2Auth::from_query(query, &mut scratch).map_err(js_err)?;
        v2_verify(false, &auth, args[1], &args[2..], now_ms, window_ms, store)
    })
}

/// S2b with `x-sign`, `x-timestamp`, `x-nonce` found among the headers
/// (names case-insensitive). Arguments: body, `n_headers` header pairs
/// flat, keys….
#[wasm_bindgen]
pub fn verify_kit_headers(
    n: u32,
    n_headers: u32,
    now_ms: f64,
    window_ms: f64,
    store: &mut NonceCacheHandle,
) -> R<Vec<f64>> {
    with_args(n, 1, |args| {
        let nh = 2 * n_headers as usize;
        let flat = texts(slice(args, 1, nh)?)?;
        let h = pairs(&flat);
        let auth = V2Auth::from_headers(&h).map_err(js_err)?;
        v2_verify(true, &auth, args[0], &args[1 + nh..], now_ms, window_ms, store)
    })
}

/// Reads a verified V2/kit body as `koosign serve` does, with the core's
/// strict notification parser ([`koosign::Notification::parse`]: strict
/// RFC 8259, a JSON object, nesting at most 64, each known field once and
/// of its type). Argument: body. The wrapper parses the JSON for the
/// application only once this passed, so that a duplicate `orderId` is
/// refused rather than read as whichever copy JavaScript's parser keeps.
#[wasm_bindgen]
pub fn check_notification(n: u32) -> R<()> {
    with_args(n, 1, |a| koosign::Notification::parse(a[0]).map(|_| ()).map_err(js_err))
}

/// The marketplace's side: the V2 signature (upper-case hex). Arguments:
/// body, key, nonce, timestamp.
#[wasm_bindgen]
pub fn sign_v2(n: u32, kit: bool) -> R<String> {
    with_args(n, 4, |a| {
        let (key, nonce, ts) = (text(a[1])?, text(a[2])?, text(a[3])?);
        koosign::sign_v2(scheme(kit), a[0], key, nonce, ts).map(|s| s.as_str().to_owned()).map_err(js_err)
    })
}

/// S2's inner hash, lower-case hex. Arguments: body, key.
#[wasm_bindgen]
pub fn v2_inner(n: u32) -> R<String> {
    with_args(n, 2, |a| Ok(koosign::v2_inner(a[0], text(a[1])?).as_str().to_owned()))
}

// ---------------------------------------------------------------------------
// S3

/// The `Body-Sign` header value, left in the result arena (every response
/// of a merchant is signed: a hot path). Arguments: body, key. Returns the
/// text's length.
#[wasm_bindgen]
pub fn body_sign(n: u32) -> R<u32> {
    with_args(n, 2, |a| {
        let v = koosign::body_sign(a[0], text(a[1])?).map_err(js_err)?;
        Ok(out(v.as_str()))
    })
}

/// The Base64 signature alone. Arguments: body, key.
#[wasm_bindgen]
pub fn body_signature(n: u32) -> R<String> {
    with_args(n, 2, |a| Ok(koosign::body_signature(a[0], text(a[1])?).as_str().to_owned()))
}

/// Verifies a received `Body-Sign` value; returns the matching key's
/// index. Arguments: value, body, keys….
#[wasm_bindgen]
pub fn verify_body_sign(n: u32) -> R<u32> {
    with_args(n, 2, |a| {
        let keys = texts(&a[2..])?;
        koosign::verify_body_sign(text(a[0])?, a[1], &keys).map(|v| v.key_index() as u32).map_err(js_err)
    })
}

/// Parses a `Body-Sign` value: `[sign_type, signature]`.
#[wasm_bindgen]
pub fn parse_body_sign(value: &str) -> R<Vec<String>> {
    let v = koosign::parse_body_sign(value).map_err(js_err)?;
    Ok(vec![v.sign_type.to_owned(), v.signature.to_owned()])
}

// ---------------------------------------------------------------------------
// S4

/// A `TryCryptoRng` over random bytes drawn by JavaScript from
/// `crypto.getRandomValues`; running out is a failure of the source.
struct JsRandom<'a> {
    bytes: &'a [u8],
}

#[derive(Debug)]
struct Exhausted;

impl core::fmt::Display for Exhausted {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str("random bytes exhausted")
    }
}

impl core::error::Error for Exhausted {}

impl rand_core::TryRng for JsRandom<'_> {
    type Error = Exhausted;
    fn try_next_u32(&mut self) -> Result<u32, Exhausted> {
        let mut b = [0u8; 4];
        self.try_fill_bytes(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }
    fn try_next_u64(&mut self) -> Result<u64, Exhausted> {
        let mut b = [0u8; 8];
        self.try_fill_bytes(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Exhausted> {
        if self.bytes.len() < dst.len() {
            return Err(Exhausted);
        }
        let (head, rest) = self.bytes.split_at(dst.len());
        dst.copy_from_slice(head);
        self.bytes = rest;
        Ok(())
    }
}

impl rand_core::TryCryptoRng for JsRandom<'_> {}

/// Encrypts a field with an IV drawn by the core from `random` (bytes
/// from `crypto.getRandomValues`).
#[wasm_bindgen]
pub fn encrypt_field(plaintext: &str, access_key: &str, ty: u32, random: &[u8]) -> R<String> {
    let mut out = [0u8; koosign::field::MAX_WIRE_LEN];
    let mut rng = JsRandom { bytes: random };
    koosign::encrypt_field(plaintext, access_key, encrypt_type(ty)?, &mut rng, &mut out)
        .map(str::to_owned)
        .map_err(js_err)
}

/// Encrypts a field with a given 16-character IV (tests, reproducible vectors).
#[wasm_bindgen]
pub fn encrypt_field_with_iv(plaintext: &str, access_key: &str, ty: u32, iv: &[u8]) -> R<String> {
    let iv: &[u8; koosign::field::IV_LEN] =
        iv.try_into().map_err(|_| js_err(Error::MalformedEncoding("IV must be 16 ASCII letters or digits")))?;
    let mut out = [0u8; koosign::field::MAX_WIRE_LEN];
    koosign::derive_key(access_key, encrypt_type(ty)?)
        .encrypt_with_iv(plaintext, iv, &mut out)
        .map(str::to_owned)
        .map_err(js_err)
}

/// Decrypts a field; `mode` 0 = auto, 1 = AES-256, 2 = AES-128.
#[wasm_bindgen]
pub fn decrypt_field(wire: &str, access_key: &str, mode: u32) -> R<String> {
    let mut out = vec![0u8; wire.len()];
    koosign::decrypt_field(wire, access_key, decrypt_mode(mode)?, &mut out).map(str::to_owned).map_err(js_err)
}

/// AES-CBC + PKCS#7 with a raw 16- or 32-byte key (`FieldKey::from_raw` +
/// `decrypt_raw`): the S4 cipher for known-answer tests (Wycheproof).
#[wasm_bindgen]
pub fn decrypt_raw(key: &[u8], iv: &[u8], ciphertext: &[u8]) -> R<Vec<u8>> {
    let fk = koosign::FieldKey::from_raw(key).map_err(js_err)?;
    let iv: &[u8; 16] = iv.try_into().map_err(|_| js_err(Error::MalformedEncoding("iv must be 16 bytes")))?;
    let mut out = vec![0u8; ciphertext.len()];
    fk.decrypt_raw(iv, ciphertext, &mut out).map(<[u8]>::to_vec).map_err(js_err)
}

/// The SHA1PRNG field key (16 or 32 bytes).
#[wasm_bindgen]
pub fn derive_key(access_key: &str, ty: u32) -> R<Vec<u8>> {
    Ok(koosign::derive_key(access_key, encrypt_type(ty)?).as_bytes().to_vec())
}

/// Which key size decrypts `wire`: 1 (AES-256), 2 (AES-128) or 0 (neither).
#[wasm_bindgen]
pub fn detect_encrypt_type(wire: &str, access_key: &str) -> u32 {
    match koosign::FieldCipher::new(access_key).detect(wire) {
        Some(EncryptType::Aes256) => 1,
        Some(EncryptType::Aes128) => 2,
        None => 0,
    }
}

// ---------------------------------------------------------------------------
// S5

/// The licence `signature` (Base64). Arguments: ts, nonce, body, key.
#[wasm_bindgen]
pub fn licence_sign(n: u32) -> R<String> {
    with_args(n, 4, |a| {
        koosign::licence_sign(text(a[0])?, text(a[1])?, a[2], text(a[3])?)
            .map(|s| s.as_str().to_owned())
            .map_err(js_err)
    })
}

/// Verifies a licence signature; returns the matching key's index.
/// Arguments: ts, nonce, body, signature, keys….
#[wasm_bindgen]
pub fn verify_licence(n: u32, now_ms: f64, window_ms: f64) -> R<u32> {
    with_args(n, 4, |a| {
        let keys = texts(&a[4..])?;
        koosign::verify_licence(text(a[0])?, text(a[1])?, a[2], text(a[3])?, &keys, freshness(now_ms, window_ms, None))
            .map(|v| v.key_index() as u32)
            .map_err(js_err)
    })
}

// ---------------------------------------------------------------------------
// S6

/// Splits a whole URL as the core does (SCHEMES.md S6 "Signing a whole
/// URL"): `split_url` for a call about to be sent, `split_received_url`
/// (the path as it came) when `received`. Returns JSON
/// `{"host":…,"path":…,"query":[[name, value], …]}`.
#[wasm_bindgen]
pub fn split_apig_url(url: &str, received: bool) -> R<String> {
    let mut scratch = vec![0u8; koosign::apig::url_scratch_len(url.len())];
    let u = if received { koosign::split_received_url(url, &mut scratch) } else { koosign::split_url(url, &mut scratch) }
        .map_err(js_err)?;
    let mut j = Json::new();
    j.raw("{\"host\":").str(u.host()).raw(",\"path\":").str(u.path()).raw(",\"query\":").pairs_array(u.query()).raw("}");
    Ok(j.0)
}

/// Signs an open-API request (S6). Arguments: method, host, path, ak, sk,
/// body, then `n_query` query pairs and the header pairs, flat.
/// `now_ms < 0` means "take `X-Sdk-Date` from the headers". Returns JSON
/// with every intermediate and `headersToAdd` as `[[name, value], …]`.
#[wasm_bindgen]
pub fn sign_apig(n: u32, n_query: u32, now_ms: f64) -> R<String> {
    with_args(n, 6, |a| {
        let s = texts(slice(a, 0, 5)?)?;
        let nq = 2 * n_query as usize;
        let q = texts(slice(a, 6, nq)?)?;
        let h = texts(&a[6 + nq..])?;
        let (query, headers) = (pairs(&q), pairs(&h));
        let req =
            koosign::ApigRequest { method: s[0], host: s[1], path: s[2], query: &query, headers: &headers, body: a[5] };
        let now = if now_ms < 0.0 { None } else { Some(now_ms as u64) };
        let mut len = 2048 + a.iter().map(|x| x.len()).sum::<usize>() * 4;
        loop {
            let mut out = vec![0u8; len];
            match koosign::sign_apig(&req, s[3], s[4], now, &mut out) {
                Ok(signed) => {
                    let mut j = Json::new();
                    j.raw("{\"canonicalRequest\":")
                        .str(signed.canonical_request)
                        .raw(",\"canonicalQuery\":")
                        .str(signed.canonical_query)
                        .raw(",\"signedHeaders\":")
                        .str(signed.signed_headers)
                        .raw(",\"stringToSign\":")
                        .str(signed.string_to_sign)
                        .raw(",\"signature\":")
                        .str(signed.signature.as_str())
                        .raw(",\"authorization\":")
                        .str(signed.authorization)
                        .raw(",\"headersToAdd\":")
                        .pairs_array(&signed.headers_to_add)
                        .raw("}");
                    return Ok(j.0);
                }
                Err(Error::BufferTooSmall { needed }) if needed > len => len = needed,
                Err(e) => return Err(js_err(e)),
            };
        }
    })
}

/// Verifies an open-API request (S6). Arguments: method, host, path,
/// body, then `n_query` query pairs, `n_headers` header pairs and the
/// credential pairs (ak, sk), flat. Returns the matching credential's
/// index, plus `0x8000_0000` when the body went unauthenticated (a signed
/// `X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD`; `unsigned_payload`).
#[wasm_bindgen]
pub fn verify_apig(n: u32, n_query: u32, n_headers: u32, now_ms: f64, window_ms: f64) -> R<u32> {
    with_args(n, 4, |a| {
        let s = texts(slice(a, 0, 3)?)?;
        let (nq, nh) = (2 * n_query as usize, 2 * n_headers as usize);
        let q = texts(slice(a, 4, nq)?)?;
        let h = texts(slice(a, 4 + nq, nh)?)?;
        let c = texts(&a[4 + nq + nh..])?;
        let (query, headers, creds) = (pairs(&q), pairs(&h), pairs(&c));
        let req =
            koosign::ApigRequest { method: s[0], host: s[1], path: s[2], query: &query, headers: &headers, body: a[3] };
        let v = koosign::verify_apig(&req, &creds, freshness(now_ms, window_ms, None)).map_err(js_err)?;
        // Fewer than 2^31 credentials fit in a 4 GiB memory: the bit is free.
        Ok(v.credential_index as u32 | if v.unsigned_payload { UNSIGNED_PAYLOAD_BIT } else { 0 })
    })
}

/// Formats Unix ms as a V1 `timeStamp` (`yyyyMMddHHmmssSSS`, UTC).
#[wasm_bindgen]
pub fn format_v1_timestamp(unix_ms: f64) -> String {
    koosign::format_v1_timestamp(unix_ms as u64).as_str().to_owned()
}
