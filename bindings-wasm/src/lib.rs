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
//! - Structured results are returned as length-prefixed pieces (see
//!   [`push_piece`]; no JSON): in a result arena that JavaScript decodes in
//!   place for the hot ones (the verified V1 parameters: [`v1_result`]; a
//!   signed APIG call: [`apig_out`]), as a returned string for the rare
//!   ones (form pairs, a split URL).

use koosign::answer::{ResultCode, Stage};
use koosign::merchant::{Merchant, Policy, Rejection, Replay, Request, Window};
use koosign::{DecryptMode, EncryptType, Error, Freshness, JsonStr, V2Auth, V2Scheme};
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
    JsValue::from_str(&err_text(e))
}

/// `CODE \x1f detail \x1f message` (see the conventions above).
fn err_text(e: Error) -> String {
    use core::fmt::Write;
    let mut s = String::with_capacity(96);
    s.push_str(e.code());
    s.push('\x1f');
    let _ = match e {
        Error::MissingParameter(name) => s.write_str(name),
        Error::MalformedEncoding(what) | Error::Ambiguous(what) => s.write_str(what),
        Error::BufferTooSmall { needed: n } | Error::InputTooLarge { limit: n } => {
            push_u64(&mut s, n as u64);
            Ok(())
        }
        _ => Ok(()),
    };
    s.push('\x1f');
    let _ = write!(s, "{e}");
    s
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

/// Arguments of a call that [`with_args`] cuts without allocating.
const STACK_ARGS: usize = 24;

/// Runs `f` over the first `n` arguments of the arena, which must be at
/// least `min` (so that `f` may index `args[..min]`). Up to
/// [`STACK_ARGS`] arguments are cut into a stack array (no allocation on
/// the hot paths), more into a `Vec`.
fn with_args<T>(n: u32, min: usize, f: impl FnOnce(&[&[u8]]) -> R<T>) -> R<T> {
    ARGS.with(|a| {
        let a = a.borrow();
        let mut stack: [&[u8]; STACK_ARGS] = [&[]; STACK_ARGS];
        let mut heap = Vec::new();
        f(cut_args(&a.0, &a.1, n, min, &mut stack, &mut heap)?)
    })
}

/// The arena's bytes cut by its lengths (see [`with_args`]).
#[inline(never)]
fn cut_args<'a, 's>(
    bytes: &'a [u8],
    lens: &[u32],
    n: u32,
    min: usize,
    stack: &'s mut [&'a [u8]; STACK_ARGS],
    heap: &'s mut Vec<&'a [u8]>,
) -> R<&'s [&'a [u8]]> {
    let lens = lens
        .get(..n as usize)
        .filter(|l| l.len() >= min)
        .ok_or_else(|| js_err(Error::MalformedEncoding("argument count")))?;
    let args: &mut [&[u8]] = if lens.len() <= STACK_ARGS {
        &mut stack[..lens.len()]
    } else {
        heap.resize(lens.len(), &[]);
        heap
    };
    let mut at = 0usize;
    for (slot, &l) in args.iter_mut().zip(lens) {
        let end = at + l as usize;
        *slot = bytes.get(at..end).ok_or_else(|| js_err(Error::MalformedEncoding("argument lengths")))?;
        at = end;
    }
    Ok(args)
}

/// Header pairs that [`with_pairs`] holds without allocating.
const STACK_PAIRS: usize = 16;

/// Runs `f` over the pairs of a flat list `[n0, v0, n1, v1, …]` of texts
/// (what [`texts`] then [`pairs`] give), on the stack for up to
/// [`STACK_PAIRS`] pairs.
fn with_pairs<T>(flat: &[&[u8]], f: impl FnOnce(&[(&str, &str)]) -> R<T>) -> R<T> {
    let mut stack = [("", ""); STACK_PAIRS];
    let mut heap = Vec::new();
    let n = flat.len() / 2;
    let p: &mut [(&str, &str)] = if n <= STACK_PAIRS {
        &mut stack[..n]
    } else {
        heap.resize(n, ("", ""));
        &mut heap
    };
    // Every text checked in order, as texts() does (a trailing odd one included).
    for (i, b) in flat.iter().enumerate() {
        let t = text(b)?;
        if let Some(slot) = p.get_mut(i / 2) {
            if i % 2 == 0 {
                slot.0 = t;
            } else {
                slot.1 = t;
            }
        }
    }
    f(p)
}

/// [`with_args`] for a call of one argument (no list of arguments built).
fn with_arg<T>(n: u32, f: impl FnOnce(&[u8]) -> R<T>) -> R<T> {
    ARGS.with(|a| {
        let a = a.borrow();
        let first = match a.1.get(..n as usize) {
            Some(&[l, ..]) => l as usize,
            _ => return Err(js_err(Error::MalformedEncoding("argument count"))),
        };
        f(a.0.get(..first).ok_or_else(|| js_err(Error::MalformedEncoding("argument lengths")))?)
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
// Constants

/// `[DEFAULT_WINDOW_MS, MAX_WIRE_LEN, MAX_PLAINTEXT_LEN, IV_LEN, MAX_NONCE_LEN, MAX_PARAMS,
/// V1_DEFAULT_WINDOW_MS, APIG_DEFAULT_WINDOW_MS, MAX_NOTIFICATION_BODY, DEFAULT_CAPACITY, MAX_KEYS]`.
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
        koosign::nonce::DEFAULT_CAPACITY,
        MAX_KEYS,
    ]
    .iter()
    .map(|&n| n as f64)
    .collect()
}

/// Every error code of the core ([`Error::ALL`]), `|`-joined, `+` marking
/// format errors (for the wrapper's classes and the tests).
#[wasm_bindgen]
pub fn error_codes() -> String {
    let mut s = String::with_capacity(256);
    for e in Error::ALL {
        if !s.is_empty() {
            s.push('|');
        }
        s.push_str(e.code());
        if e.is_format_error() {
            s.push('+');
        }
    }
    s
}

/// The core's error of code `code` (placeholder payload), for the answer table.
fn error_of(code: &str) -> R<Error> {
    Error::ALL.iter().copied().find(|e| e.code() == code).ok_or_else(|| js_err(Error::MalformedEncoding("unknown error code")))
}

fn stage(authenticated: bool) -> Stage {
    if authenticated {
        Stage::Authenticated
    } else {
        Stage::BeforeAuthentication
    }
}

/// The `resultCode` the core's table ([`koosign::answer::result_code`],
/// docs/SCHEMES.md §Answers) gives the error of code `code`, met before or
/// after authentication.
#[wasm_bindgen]
pub fn result_code_for(code: &str, authenticated: bool) -> R<String> {
    Ok(koosign::answer::result_code(&error_of(code)?, stage(authenticated)).as_str().to_owned())
}

// ---------------------------------------------------------------------------
// Nonce store

/// The core's in-memory replay store of a capacity chosen at run time
/// ([`koosign::NonceTable::with_capacity`]). A store created with
/// `capacity == 0` is the "no store" sentinel of the one-shot verifiers
/// (which then check no replay).
#[wasm_bindgen]
pub struct NonceCacheHandle {
    inner: Option<koosign::NonceTable>,
}

#[wasm_bindgen]
impl NonceCacheHandle {
    /// A store of exactly `capacity` nonces (40 bytes each, allocated now);
    /// 0 makes the "no store" sentinel.
    #[wasm_bindgen(constructor)]
    pub fn new(capacity: u32) -> NonceCacheHandle {
        NonceCacheHandle { inner: (capacity > 0).then(|| koosign::NonceTable::with_capacity(capacity as usize)) }
    }

    /// Entries held (expired ones included until evicted).
    pub fn len(&self) -> u32 {
        self.inner.as_ref().map_or(0, |s| s.len() as u32)
    }

    /// The capacity.
    pub fn capacity(&self) -> u32 {
        self.inner.as_ref().map_or(0, |s| s.capacity() as u32)
    }

    /// True if `nonce` is held and unexpired at `now_ms`.
    pub fn contains(&self, nonce: &str, now_ms: f64) -> bool {
        self.inner.as_ref().is_some_and(|s| s.contains(nonce.as_bytes(), now_ms as u64))
    }

    /// The core's `check_and_insert`, for stores used outside the verifiers.
    pub fn check_and_insert(&mut self, nonce: &str, now_ms: f64, expires_at_ms: f64) -> R<()> {
        use koosign::NonceStore;
        match self.inner.as_mut() {
            Some(s) => s.check_and_insert(nonce.as_bytes(), now_ms as u64, expires_at_ms as u64).map_err(js_err),
            None => Ok(()),
        }
    }
}

impl NonceCacheHandle {
    fn store(&mut self) -> Option<&mut dyn koosign::NonceStore> {
        self.inner.as_mut().map(|s| s as &mut dyn koosign::NonceStore)
    }
}

// ---------------------------------------------------------------------------
// S1 / S1b

/// Appends `n` in decimal (what `write!(out, "{n}")` gives, without the
/// formatting machinery on the hot path).
fn push_u64(out: &mut String, mut n: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &d in &digits[i..] {
        out.push(char::from(d));
    }
}

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
    OUT.with(|o| {
        let out = &mut *o.borrow_mut();
        out.clear();
        push_u64(out, v.key_index() as u64);
        out.push(':');
        push_u64(out, v.time_stamp_ms());
        out.push(':');
        for (n, val) in v.params() {
            push_piece(out, n);
            push_piece(out, val);
        }
        out.len() as u32
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
        koosign::build_v1_query_owned(&pairs(&all[1..]), all[0]).map_err(js_err)
    })
}

/// Form-decodes a query string into pieces (see [`push_piece`]): name,
/// value, name, value, … (order kept).
#[wasm_bindgen]
pub fn parse_form(query: &str) -> R<String> {
    let query = koosign::query_of(query);
    let mut scratch = vec![0u8; query.len()];
    let p = koosign::parse_form(query, &mut scratch).map_err(js_err)?;
    let mut out = String::with_capacity(2 * query.len() + 8);
    push_pairs(&mut out, p.as_slice());
    Ok(out)
}

/// Each pair as two pieces (name, value).
fn push_pairs(out: &mut String, pairs: &[(&str, &str)]) {
    for (n, v) in pairs {
        push_piece(out, n);
        push_piece(out, v);
    }
}

// ---------------------------------------------------------------------------
// S2 / S2b

/// The body's JSON as the core reads it ([`koosign::Notification::parse`],
/// then the strict walker [`koosign::walk_json`]: UTF-8, RFC 8259, an object, no duplicate
/// member name at any depth, nesting at most [`koosign::MAX_DEPTH`]), left
/// in the result arena as an event tape (see [`Tape`]) from which
/// JavaScript builds its object: no `JSON.parse` reads a notification.
/// Argument: body. Returns the tape's length in bytes.
/// (`verified`: a body [`Merchant::verify`] accepted, whose parse is not repeated.)
#[wasm_bindgen]
pub fn walk_notification(n: u32, verified: bool) -> R<u32> {
    with_arg(n, |body| {
        // The notification rules first (its one MalformedEncoding, or
        // InputTooLarge over 1 MiB), then the events; `verified`: the body
        // passed Merchant::verify, which parsed it already.
        if !verified {
            koosign::Notification::parse(body).map_err(js_err)?;
        }
        OUT.with(|o| {
            let out = &mut *o.borrow_mut();
            out.clear();
            koosign::walk_json(body, &mut Tape(out)).map_err(js_err)?;
            Ok(out.len() as u32)
        })
    })
}

/// S2's inner hash, lower-case hex. Arguments: body, key.
#[wasm_bindgen]
pub fn v2_inner(n: u32) -> R<String> {
    with_args(n, 2, |a| Ok(koosign::v2_inner(a[0], text(a[1])?).as_str().to_owned()))
}

// ---------------------------------------------------------------------------
// S3

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

// ---------------------------------------------------------------------------
// JSON events (the core's strict walker) as a tape for JavaScript

/// Pushes a piece's length (UTF-16 code units) as two 15-bit chars.
fn push_len(out: &mut String, n: usize) {
    // Both halves are below U+8000: never a surrogate.
    out.push(char::from_u32((n >> 15) as u32 & 0x7fff).unwrap_or('\0'));
    out.push(char::from_u32(n as u32 & 0x7fff).unwrap_or('\0'));
}

/// A decoded JSON string as a piece (escapes decoded by the core).
fn push_json_str(out: &mut String, s: JsonStr<'_>) {
    match s.borrowed() {
        Some(t) => push_piece(out, t),
        None => {
            push_len(out, s.chars().map(char::len_utf16).sum());
            out.extend(s.chars());
        }
    }
}

/// The walker's events, one tag character each: `{` `}` `[` `]`, `k` and
/// `s` followed by the decoded string as a piece, `n` followed by the
/// number's RFC 8259 text as a piece, `t` `f` `z` (true, false, null).
struct Tape<'o>(&'o mut String);

impl<'b> koosign::JsonVisitor<'b> for Tape<'_> {
    fn begin_object(&mut self) -> koosign::Result<()> {
        self.0.push('{');
        Ok(())
    }
    fn end_object(&mut self) -> koosign::Result<()> {
        self.0.push('}');
        Ok(())
    }
    fn begin_array(&mut self) -> koosign::Result<()> {
        self.0.push('[');
        Ok(())
    }
    fn end_array(&mut self) -> koosign::Result<()> {
        self.0.push(']');
        Ok(())
    }
    fn key(&mut self, key: JsonStr<'b>) -> koosign::Result<()> {
        self.0.push('k');
        push_json_str(self.0, key);
        Ok(())
    }
    fn string(&mut self, value: JsonStr<'b>) -> koosign::Result<()> {
        self.0.push('s');
        push_json_str(self.0, value);
        Ok(())
    }
    fn number(&mut self, raw: &'b str) -> koosign::Result<()> {
        self.0.push('n');
        push_piece(self.0, raw);
        Ok(())
    }
    fn bool(&mut self, value: bool) -> koosign::Result<()> {
        self.0.push(if value { 't' } else { 'f' });
        Ok(())
    }
    fn null(&mut self) -> koosign::Result<()> {
        self.0.push('z');
        Ok(())
    }
}

// ---------------------------------------------------------------------------
// The keyed merchant context (koosign::merchant)

/// The most access keys a context holds (a rotation needs two; the core's default).
const MAX_KEYS: usize = 4;
/// `window_ms` of [`MerchantHandle::new`]: the core's default window.
const POLICY_DEFAULT: f64 = -1.0;
/// `window_ms` of [`MerchantHandle::new`]: [`Window::Unchecked`], by name
/// in JavaScript (`'unchecked'`).
const POLICY_UNCHECKED: f64 = -2.0;

fn window(ms: f64, default: Window) -> Window {
    if ms == POLICY_DEFAULT {
        default
    } else if ms == POLICY_UNCHECKED {
        Window::Unchecked
    } else {
        Window::checked(ms as u64)
    }
}

/// A verified V2 request as one number (no array to allocate and copy):
/// `timestampMs * MAX_KEYS + keyIndex`. Exact: a V2 timestamp has 13
/// digits (below 2^44), so the sum stays below 2^46 < 2^53.
fn v2_result(v: &koosign::VerifiedV2<'_, '_>) -> f64 {
    (v.timestamp_ms() * MAX_KEYS as u64 + v.key_index() as u64) as f64
}

thread_local! {
    /// [`Merchant::verify`]'s scratch, grown to [`koosign::merchant::scratch_len`].
    static SCRATCH: core::cell::RefCell<Vec<u8>> = const { core::cell::RefCell::new(Vec::new()) };
}

/// Leaves `resultCode \n Body-Sign \n body` of a signed answer in the
/// result arena; returns its length.
fn answer_out(a: &koosign::SignedAnswer<'_>, code: &str) -> u32 {
    OUT.with(|o| {
        let out = &mut *o.borrow_mut();
        out.clear();
        out.push_str(code);
        out.push('\n');
        out.push_str(a.body_sign());
        out.push('\n');
        out.push_str(a.body());
        out.len() as u32
    })
}

/// The keyed merchant context ([`Merchant`]): the keys' HMAC states and
/// AES schedules computed once, in the constructor.
#[wasm_bindgen]
pub struct MerchantHandle {
    m: Box<Merchant<MAX_KEYS>>,
}

#[wasm_bindgen]
impl MerchantHandle {
    /// Arguments: the access keys (key 0 signs answers). Windows in ms, or
    /// [`POLICY_DEFAULT`] / [`POLICY_UNCHECKED`].
    #[wasm_bindgen(constructor)]
    pub fn new(n: u32, v2_window: f64, v1_window: f64, licence_window: f64) -> R<MerchantHandle> {
        with_args(n, 0, |a| {
            let keys = texts(a)?;
            let d = Policy::default();
            let policy = Policy {
                v2_window: window(v2_window, d.v2_window),
                v1_window: window(v1_window, d.v1_window),
                licence_window: window(licence_window, d.licence_window),
            };
            let m = Merchant::<MAX_KEYS>::new(&keys, policy).map_err(js_err)?;
            Ok(MerchantHandle { m: Box::new(m) })
        })
    }

    /// [`Merchant::verify`]. Arguments: method, query (or URL, or request
    /// target such as `/produce?…`), `n_headers` header
    /// pairs flat, body. `replay`: 0 = `store`, 1 = [`Replay::Deferred`],
    /// 2 = [`Replay::Unchecked`]. Leaves `protocol:activity:keyIndex:
    /// timestampMs:replayExpiresMs:` + the replay key as a piece + `P` and
    /// the V1 parameters as pieces (name, value, …) or `J` (V2: the body is
    /// read by [`walk_notification`]) in the result arena; returns its
    /// length. A refusal throws the error with its resultCode, stage and
    /// signed refusal (see [`rejection`]).
    pub fn verify(&self, n: u32, n_headers: u32, now_ms: f64, replay: u32, store: &mut NonceCacheHandle) -> R<u32> {
        with_args(n, 3, |a| {
            let nh = 2 * n_headers as usize;
            let s = texts(slice(a, 0, 2 + nh)?)?;
            let body = *a.get(2 + nh).ok_or_else(|| js_err(Error::MalformedEncoding("argument count")))?;
            let headers = pairs(&s[2..]);
            // The query part of a URL or request target (`/produce?…`), or the query itself.
            let query = if s[1].starts_with('/') && !s[1].contains('?') { "" } else { koosign::query_of(s[1]) };
            let req = Request { method: s[0], query, headers: &headers, body };
            let replay = match replay {
                0 => match store.store() {
                    Some(st) => Replay::Store(st),
                    None => return Err(js_err(Error::MalformedEncoding("no replay store"))),
                },
                1 => Replay::Deferred,
                _ => Replay::Unchecked,
            };
            SCRATCH.with(|sc| {
                let sc = &mut *sc.borrow_mut();
                let need = koosign::merchant::scratch_len(&req);
                if sc.len() < need {
                    sc.resize(need, 0);
                }
                // Built in place (`verify_into`): the ~4 KiB value is never moved.
                let mut slot = None;
                let v = match self.m.verify_into(&req, now_ms as u64, replay, &mut sc[..need], &mut slot) {
                    Ok(v) => v,
                    Err(r) => return Err(self.rejection(&r)),
                };
                Ok(OUT.with(|o| {
                    let out = &mut *o.borrow_mut();
                    out.clear();
                    out.push_str(v.protocol().as_str());
                    out.push(':');
                    out.push_str(v.activity().as_str());
                    out.push(':');
                    for n in [v.key_index() as u64, v.timestamp_ms(), v.replay_expires_ms()] {
                        push_u64(out, n);
                        out.push(':');
                    }
                    push_piece(out, core::str::from_utf8(v.replay_key()).unwrap_or(""));
                    match v.v1() {
                        Some(v1) => {
                            out.push('P');
                            for (n, val) in v1.params() {
                                push_piece(out, n);
                                push_piece(out, val);
                            }
                        }
                        None => out.push('J'),
                    }
                    out.len() as u32
                }))
            })
        })
    }

    /// The replay argument of the keyed verifiers: the store, or none
    /// (the "no store" sentinel: [`Replay::Unchecked`], the one-shot API's
    /// explicit `nonceStore: null`).
    fn replay(store: &mut NonceCacheHandle) -> Replay<'_> {
        match store.store() {
            Some(s) => Replay::Store(s),
            None => Replay::Unchecked,
        }
    }

    /// S1 through the context ([`Merchant::verify_v1_query`]). Argument:
    /// query (or URL). Leaves [`v1_result`]'s text; returns its length.
    pub fn verify_v1_query(&self, n: u32, now_ms: f64, store: &mut NonceCacheHandle) -> R<u32> {
        with_arg(n, |q| {
            let query = koosign::query_of(text(q)?);
            let mut scratch = vec![0u8; koosign::v1::query_scratch_len(query.len())];
            let v = self.m.verify_v1_query(query, now_ms as u64, Self::replay(store), &mut scratch).map_err(js_err)?;
            Ok(v1_result(&v))
        })
    }

    /// S1b through the context ([`Merchant::verify_v1_json`]). Arguments: token, body.
    pub fn verify_v1_json(&self, n: u32, now_ms: f64, store: &mut NonceCacheHandle) -> R<u32> {
        with_args(n, 2, |a| {
            let (token, body) = (text(a[0])?, a[1]);
            let mut scratch = vec![0u8; koosign::v1::json_scratch_len(body.len(), token.len())];
            let v = self.m.verify_v1_json(token, body, now_ms as u64, Self::replay(store), &mut scratch).map_err(js_err)?;
            Ok(v1_result(&v))
        })
    }

    /// S2 through the context: `signature`, `timestamp`, `nonce` from a
    /// query (or URL). Arguments: query, body. Returns [`v2_result`].
    pub fn verify_v2_query(&self, n: u32, now_ms: f64, store: &mut NonceCacheHandle) -> R<f64> {
        with_args(n, 2, |a| {
            let query = koosign::query_of(text(a[0])?);
            let mut scratch = vec![0u8; koosign::v2::query_scratch_len(query.len())];
            let auth = V2Auth::from_query(query, &mut scratch).map_err(js_err)?;
            let v = self.m.verify_v2(V2Scheme::Query, &auth, a[1], now_ms as u64, Self::replay(store)).map_err(js_err)?;
            Ok(v2_result(&v))
        })
    }

    /// S2b through the context: `x-sign`, `x-timestamp`, `x-nonce` among the
    /// headers (names any case). Arguments: body, `n_headers` header pairs flat.
    /// Returns [`v2_result`].
    pub fn verify_v2_headers(&self, n: u32, n_headers: u32, now_ms: f64, store: &mut NonceCacheHandle) -> R<f64> {
        with_args(n, 1, |a| {
            with_pairs(slice(a, 1, 2 * n_headers as usize)?, |h| {
                let auth = V2Auth::from_headers(h).map_err(js_err)?;
                let v = self.m.verify_v2(V2Scheme::Headers, &auth, a[0], now_ms as u64, Self::replay(store)).map_err(js_err)?;
                Ok(v2_result(&v))
            })
        })
    }

    /// The V2 (`kit` false) or S2b signature under key 0 ([`Merchant::sign_v2`]).
    /// Arguments: body, nonce, timestamp.
    pub fn sign_v2(&self, n: u32, kit: bool) -> R<String> {
        with_args(n, 3, |a| {
            let scheme = if kit { V2Scheme::Headers } else { V2Scheme::Query };
            Ok(self.m.sign_v2(scheme, a[0], text(a[1])?, text(a[2])?).as_str().to_owned())
        })
    }

    /// A refusal as thrown: `CODE \x1f detail \x1f message \x1f resultCode
    /// \x1f stage (0 before authentication, 1 after) \x1f Body-Sign \x1f body`.
    fn rejection(&self, r: &Rejection) -> JsValue {
        let mut buf = [0u8; koosign::REFUSAL_MAX_LEN];
        let mut s = err_text(r.error());
        s.push('\x1f');
        s.push_str(r.result_code().as_str());
        s.push('\x1f');
        s.push(if r.stage() == Stage::Authenticated { '1' } else { '0' });
        if let Ok(a) = self.m.refusal_for(r, &mut buf) {
            s.push('\x1f');
            s.push_str(a.body_sign());
            s.push('\x1f');
            s.push_str(a.body());
        }
        JsValue::from_str(&s)
    }

    /// The signed refusal of the error of code `code` (an asynchronous
    /// store's `ReplayedNonce` or `StoreUnavailable`), with the core's
    /// table; see [`answer_out`].
    pub fn refusal_for(&self, code: &str, authenticated: bool) -> R<u32> {
        let rc = koosign::answer::result_code(&error_of(code)?, stage(authenticated));
        self.answer_code(rc.as_str(), 0)
    }

    /// [`Merchant::answer_code_for`]: the signed bare answer of `code`
    /// (`000003`, `000005`, …) under the key at `key_index` (the verified
    /// request's); see [`answer_out`].
    pub fn answer_code(&self, code: &str, key_index: u32) -> R<u32> {
        let rc = ResultCode::parse(code).map_err(js_err)?;
        let mut buf = [0u8; koosign::REFUSAL_MAX_LEN];
        let a = self.m.answer_code_for(key_index as usize, rc, &mut buf).map_err(js_err)?;
        Ok(answer_out(&a, rc.as_str()))
    }

    /// [`Merchant::sign_answer`] over the exact bytes. Argument: body.
    /// Leaves the `Body-Sign` value in the result arena.
    pub fn body_sign(&self, n: u32) -> R<u32> {
        with_arg(n, |body| Ok(out(self.m.body_sign(body).as_str())))
    }

    /// [`Merchant::respond_for`] with the key at `key_index` (the verified
    /// request's). Arguments: resultCode, then (when
    /// `shape[0]` bit 0) instanceId, then (bit 1) the `appInfo`'s present
    /// fields, then `shape[1]` info entries: instanceId and the present
    /// fields. `shape[2..]`: one field mask per appInfo (bit i: frontEndUrl,
    /// adminUrl, userName, password, memo). `random`: bytes from
    /// `crypto.getRandomValues` for the IVs. See [`answer_out`].
    pub fn respond(&self, n: u32, shape: &[u32], encrypt: u32, random: &[u8], key_index: u32) -> R<u32> {
        with_args(n, 1, |a| {
            let s = texts(a)?;
            let bad = || js_err(Error::MalformedEncoding("answer shape"));
            let (flags, n_info) = (*shape.first().ok_or_else(bad)?, *shape.get(1).ok_or_else(bad)? as usize);
            let mut masks = shape.get(2..).ok_or_else(bad)?.iter().copied();
            let mut it = s[1..].iter().copied();
            fn take<'a>(it: &mut impl Iterator<Item = &'a str>) -> R<&'a str> {
                it.next().ok_or_else(|| js_err(Error::MalformedEncoding("answer shape")))
            }
            fn read_app_info<'a>(mask: u32, it: &mut impl Iterator<Item = &'a str>) -> R<koosign::merchant::AppInfo<'a>> {
                let mut f: [Option<&str>; 5] = [None; 5];
                for (i, slot) in f.iter_mut().enumerate() {
                    if mask & (1 << i) != 0 {
                        *slot = Some(take(it)?);
                    }
                }
                Ok(koosign::merchant::AppInfo {
                    front_end_url: f[0],
                    admin_url: f[1],
                    user_name: f[2],
                    password: f[3],
                    memo: f[4],
                })
            }
            let rc = ResultCode::parse(s[0]).map_err(js_err)?;
            let instance_id = if flags & 1 != 0 { Some(take(&mut it)?) } else { None };
            let app_info =
                if flags & 2 != 0 { Some(read_app_info(masks.next().ok_or_else(bad)?, &mut it)?) } else { None };
            let mut info = Vec::with_capacity(n_info);
            for _ in 0..n_info {
                let id = take(&mut it)?;
                info.push((id, read_app_info(masks.next().ok_or_else(bad)?, &mut it)?));
            }
            let answer = koosign::merchant::Answer { result_code: rc, instance_id, app_info, info: &info };
            let mut rng = JsRandom { bytes: random };
            // A bound, not a guess: every text escaped at worst 6 bytes for 1
            // (`\u00XX`), each member name and punctuation under 64 bytes,
            // each secret written as a wire of at most MAX_WIRE_LEN.
            let len = 256
                + a.iter().map(|x| 6 * x.len() + 64).sum::<usize>()
                + (1 + n_info) * 2 * koosign::field::MAX_WIRE_LEN;
            let mut buf = vec![0u8; len];
            let signed = self.m.respond_for(key_index as usize, &answer, encrypt_type(encrypt)?, &mut rng, &mut buf).map_err(js_err)?;
            Ok(answer_out(&signed, rc.as_str()))
        })
    }

    /// [`Merchant::encrypt`]: a field under key 0's precomputed AES key.
    /// Leaves the wire string in the result arena; returns its length.
    pub fn encrypt(&self, plaintext: &str, ty: u32, random: &[u8]) -> R<u32> {
        let mut wire = [0u8; koosign::field::MAX_WIRE_LEN];
        let mut rng = JsRandom { bytes: random };
        self.m.encrypt(plaintext, encrypt_type(ty)?, &mut rng, &mut wire).map(out).map_err(js_err)
    }

    /// [`Merchant::decrypt`]: a field under key 0's precomputed AES keys;
    /// `mode` as [`decrypt_field`].
    pub fn decrypt(&self, wire: &str, mode: u32) -> R<String> {
        let mut out = vec![0u8; koosign::field::decrypt_out_len(wire.len())];
        self.m.decrypt(wire, decrypt_mode(mode)?, &mut out).map(str::to_owned).map_err(js_err)
    }

    /// [`Merchant::verify_body_sign`]: the matching key's index. Arguments: value, body.
    pub fn verify_body_sign(&self, n: u32) -> R<u32> {
        with_args(n, 2, |a| self.m.verify_body_sign(text(a[0])?, a[1]).map(|v| v.key_index() as u32).map_err(js_err))
    }

    /// [`Merchant::verify_licence`]: the matching key's index. Arguments: ts, nonce, body, signature.
    pub fn verify_licence(&self, n: u32, now_ms: f64) -> R<u32> {
        with_args(n, 4, |a| {
            self.m
                .verify_licence(text(a[0])?, text(a[1])?, a[2], text(a[3])?, now_ms as u64)
                .map(|v| v.key_index() as u32)
                .map_err(js_err)
        })
    }
}

// ---------------------------------------------------------------------------
// The response contract (koosign::response)

/// [`koosign::response::check_response`]. Arguments: body, `n_headers`
/// header pairs flat, access key. `expect`: 0 any, 1 newInstance, 2
/// queryInstance. Returns pieces: resultCode, known (`1`/`0`), resultMsg
/// (decoded; `\0` when absent), instanceId (decoded; `\0` when absent),
/// encryptType (`1`, `2` or empty), then `ciphertexts:keyIndex` (no piece).
#[wasm_bindgen]
pub fn check_response(n: u32, n_headers: u32, status: u32, expect: u32) -> R<String> {
    use koosign::response::Expect;
    with_args(n, 2, |a| {
        let nh = 2 * n_headers as usize;
        let flat = texts(slice(a, 1, nh)?)?;
        let key = text(a.get(1 + nh).ok_or_else(|| js_err(Error::MalformedEncoding("argument count")))?)?;
        let expect = match expect {
            1 => Expect::NewInstance,
            2 => Expect::QueryInstance,
            _ => Expect::Any,
        };
        let status = u16::try_from(status).unwrap_or(0);
        let c = koosign::response::check_response(status, &pairs(&flat), a[0], key, expect).map_err(js_err)?;
        let mut out = String::with_capacity(128);
        push_piece(&mut out, c.result_code());
        push_piece(&mut out, if c.known_code().is_some() { "1" } else { "0" });
        let opt = |out: &mut String, s: Option<JsonStr<'_>>| match s {
            Some(s) => push_json_str(out, s),
            None => push_piece(out, "\0"),
        };
        opt(&mut out, c.result_msg());
        opt(&mut out, c.instance_id());
        push_piece(&mut out, c.encrypt_type().map_or("", |t| t.as_str()));
        push_u64(&mut out, c.ciphertexts() as u64);
        out.push(':');
        push_u64(&mut out, c.key_index() as u64);
        Ok(out)
    })
}

// ---------------------------------------------------------------------------
// S6

/// Splits a whole URL as the core does (SCHEMES.md S6 "Signing a whole
/// URL"): `split_url` for a call about to be sent, `split_received_url`
/// (the path as it came) when `received`. Returns pieces (see
/// [`push_piece`]): host, path, then the query pairs (name, value, …).
#[wasm_bindgen]
pub fn split_apig_url(url: &str, received: bool) -> R<String> {
    let mut scratch = vec![0u8; koosign::apig::url_scratch_len(url.len())];
    let u = if received { koosign::split_received_url(url, &mut scratch) } else { koosign::split_url(url, &mut scratch) }
        .map_err(js_err)?;
    let mut out = String::with_capacity(2 * url.len() + 8);
    push_piece(&mut out, u.host());
    push_piece(&mut out, u.path());
    push_pairs(&mut out, u.query());
    Ok(out)
}

/// Leaves a signed open-API request in the result arena as pieces (see
/// [`push_piece`]): canonical request, canonical query, SignedHeaders,
/// StringToSign, signature, Authorization, then `headersToAdd` as name,
/// value, …; returns its length in bytes.
fn apig_out(signed: &koosign::ApigSigned<'_>) -> u32 {
    OUT.with(|o| {
        let out = &mut *o.borrow_mut();
        out.clear();
        for s in [
            signed.canonical_request,
            signed.canonical_query,
            signed.signed_headers,
            signed.string_to_sign,
            signed.signature.as_str(),
            signed.authorization,
        ] {
            push_piece(out, s);
        }
        push_pairs(out, &signed.headers_to_add);
        out.len() as u32
    })
}

/// [`koosign::sign_apig`] into the context scratch (grown to
/// [`koosign::apig_sign_out_len`], or to what the signer says it needs);
/// leaves [`apig_out`]'s pieces. `now_ms < 0` means "take `X-Sdk-Date`
/// from the headers". One copy of the signer for both entry points.
#[inline(never)]
fn apig_sign(req: &koosign::ApigRequest<'_>, ak: &str, sk: &str, now_ms: f64) -> R<u32> {
    let now = if now_ms < 0.0 { None } else { Some(now_ms as u64) };
    SCRATCH.with(|sc| {
        let sc = &mut *sc.borrow_mut();
        let mut len = koosign::apig_sign_out_len(req, ak.len());
        loop {
            if sc.len() < len {
                sc.resize(len, 0);
            }
            match koosign::sign_apig(req, ak, sk, now, &mut sc[..len]) {
                Ok(signed) => return Ok(apig_out(&signed)),
                Err(Error::BufferTooSmall { needed }) if needed > len => len = needed,
                Err(e) => return Err(js_err(e)),
            }
        }
    })
}

/// Signs an open-API request (S6). Arguments: method, host, path, ak, sk,
/// body, then `n_query` query pairs and the header pairs, flat.
/// `now_ms` as [`apig_sign`]. Leaves [`apig_out`]'s pieces; returns their length.
#[wasm_bindgen]
pub fn sign_apig(n: u32, n_query: u32, now_ms: f64) -> R<u32> {
    with_args(n, 6, |a| {
        let s = texts(slice(a, 0, 5)?)?;
        let nq = 2 * n_query as usize;
        let q = texts(slice(a, 6, nq)?)?;
        let h = texts(&a[6 + nq..])?;
        let (query, headers) = (pairs(&q), pairs(&h));
        let req =
            koosign::ApigRequest { method: s[0], host: s[1], path: s[2], query: &query, headers: &headers, body: a[5] };
        apig_sign(&req, s[3], s[4], now_ms)
    })
}

/// Signs an open-API call given as a whole URL in one crossing (S6
/// "Signing a whole URL", what [`koosign::sign_apig_url`] does): the URL
/// split by the core's [`koosign::split_url`] (as `fetch` sends it), then
/// signed. Arguments: method, url, ak, sk, body, then the header pairs,
/// flat. `now_ms` as [`apig_sign`]. Leaves [`apig_out`]'s pieces; returns
/// their length.
#[wasm_bindgen]
pub fn sign_apig_url(n: u32, now_ms: f64) -> R<u32> {
    with_args(n, 5, |a| {
        let s = texts(slice(a, 0, 4)?)?;
        let mut scratch = vec![0u8; koosign::apig::url_scratch_len(s[1].len())];
        let u = koosign::split_url(s[1], &mut scratch).map_err(js_err)?;
        let h = texts(&a[5..])?;
        let headers = pairs(&h);
        apig_sign(&u.request(s[0], &headers, a[4]), s[2], s[3], now_ms)
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

/// The module's allocator: lol_alloc's free list (sorted by address,
/// neighbours merged on free, so memory is reused over a process that runs
/// for months; test/alloc.test.mjs), ~4.7 KB smaller than std's dlmalloc.
/// The module is single-threaded (no `atomics` target feature).
#[cfg(all(target_arch = "wasm32", not(target_feature = "atomics")))]
#[global_allocator]
// SAFETY: wasm32-unknown-unknown without the atomics feature has one thread.
static ALLOCATOR: lol_alloc::AssumeSingleThreaded<lol_alloc::FreeListAllocator> =
    unsafe { lol_alloc::AssumeSingleThreaded::new(lol_alloc::FreeListAllocator::new()) };
