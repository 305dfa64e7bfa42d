//! The keyed merchant context (`koosign::merchant::Merchant`) as an opaque
//! handle: `koosign_merchant` (keys and policy, built once, shared by every
//! thread) and `koosign_verified` (one request's outcome: the verified
//! notification or the refusal). Every rule is the core's; this file only
//! translates.

use crate::ffi::{boundary, bytes, text, OutBuf, Res};
use crate::ffi::{koosign_pair, koosign_str};
use crate::field::{koosign_encrypt_type, mode_of, type_of};
use crate::nonce::{koosign_nonce_store, CallbackStore};
use crate::status::koosign_status;
use core::ffi::c_char;
use ks::answer::{ResultCode, Stage};
use ks::merchant::{Merchant, Policy, Rejection, Replay, Request, Verified, Window};

/// A freshness window (koosign_policy, koosign_freshness) of this value is
/// not checked: the check left out by
/// name (tests over captured traffic). Every other value, 0 included, is a
/// window in milliseconds.
pub const KOOSIGN_WINDOW_UNCHECKED: u64 = u64::MAX;

/// The most access keys a koosign_merchant holds (rotation: every key
/// verifies, key 0 signs answers).
pub const KOOSIGN_MERCHANT_MAX_KEYS: usize = 4;

/// The longest access key a koosign_merchant holds, in bytes.
pub const KOOSIGN_MAX_ACCESS_KEY_LEN: usize = 256;

/// The longest refusal body koosign_merchant_refusal and
/// koosign_merchant_answer_code write, in bytes: a buffer of this size
/// always suffices.
pub const KOOSIGN_REFUSAL_MAX_LEN: usize = 59;

const _: () = {
    assert!(KOOSIGN_REFUSAL_MAX_LEN == ks::REFUSAL_MAX_LEN);
    assert!(KOOSIGN_MAX_ACCESS_KEY_LEN == ks::merchant::MAX_ACCESS_KEY_LEN);
};

/// The freshness windows of a koosign_merchant (SCHEMES.md §Answers,
/// "Clocks"), each in milliseconds (|now − timestamp| ≤ window, inclusive)
/// or KOOSIGN_WINDOW_UNCHECKED. Start from koosign_policy_default.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct koosign_policy {
    /// S2 and S2b (default ±60 s).
    pub v2_window_ms: u64,
    /// S1 and S1b (default ±5 min).
    pub v1_window_ms: u64,
    /// S5 `ts` (default ±60 s).
    pub licence_window_ms: u64,
}

fn window_of(ms: u64) -> Window {
    if ms == KOOSIGN_WINDOW_UNCHECKED {
        Window::Unchecked
    } else {
        Window::checked(ms)
    }
}

fn ms_of(w: Window) -> u64 {
    match w {
        Window::Checked { window_ms } => window_ms,
        Window::Unchecked => KOOSIGN_WINDOW_UNCHECKED,
    }
}

/// The core's default policy: V2 / kit ±60 s, V1 ±5 min, licence ±60 s.
#[no_mangle]
pub extern "C" fn koosign_policy_default() -> koosign_policy {
    let p = std::panic::catch_unwind(Policy::default).unwrap_or(Policy::UNCHECKED);
    koosign_policy {
        v2_window_ms: ms_of(p.v2_window),
        v1_window_ms: ms_of(p.v1_window),
        licence_window_ms: ms_of(p.licence_window),
    }
}

/// A keyed merchant context: 1 to KOOSIGN_MERCHANT_MAX_KEYS access keys
/// with their HMAC states and AES key schedules precomputed (zeroized when
/// freed) and a policy. Opaque; created by koosign_merchant_new, freed by
/// koosign_merchant_free. Immutable after creation: one handle may be used
/// by every thread at once.
pub struct koosign_merchant {
    inner: Merchant<KOOSIGN_MERCHANT_MAX_KEYS>,
}

/// Builds a merchant context.
///
/// - `keys`, `key_lens`, `n_keys`: the access keys (UTF-8, each 1 to 256
///   bytes, not NUL-terminated), 1 to KOOSIGN_MERCHANT_MAX_KEYS of them;
///   key 0 signs answers and encrypts `appInfo`.
/// - `policy`: the windows (not NULL: start from koosign_policy_default).
/// - `out`: receives the handle (NULL on error); free it with
///   koosign_merchant_free.
///
/// Returns KOOSIGN_OK, KOOSIGN_NULL_PARAMETER, KOOSIGN_INVALID_UTF8,
/// KOOSIGN_NO_ACCESS_KEY (no key, or an empty one), KOOSIGN_INPUT_TOO_LARGE
/// (more than 4 keys, or a key over 256 bytes), KOOSIGN_PANIC.
///
/// # Safety
/// `keys` and `key_lens` NULL (only with `n_keys` 0) or valid for `n_keys`
/// elements, each key valid for its length; `policy` NULL or valid; `out`
/// NULL or valid for writing a pointer.
#[no_mangle]
pub unsafe extern "C" fn koosign_merchant_new(
    keys: *const *const c_char,
    key_lens: *const usize,
    n_keys: usize,
    policy: *const koosign_policy,
    out: *mut *mut koosign_merchant,
) -> koosign_status {
    boundary(|| {
        if out.is_null() {
            return Err(koosign_status::KOOSIGN_NULL_PARAMETER);
        }
        // SAFETY: non-NULL and writable per the contract.
        unsafe { out.write(core::ptr::null_mut()) };
        // SAFETY: the pointers meet this function's `# Safety` contract.
        let (ptrs, lens, policy) = unsafe {
            (
                crate::ffi::array(keys, n_keys)?,
                crate::ffi::array(key_lens, n_keys)?,
                policy
                    .as_ref()
                    .ok_or(koosign_status::KOOSIGN_NULL_PARAMETER)?,
            )
        };
        let mut strs: Vec<&str> = Vec::with_capacity(n_keys);
        for (&p, &n) in ptrs.iter().zip(lens) {
            // SAFETY: each key is valid for its length (the contract).
            strs.push(unsafe { text(p, n) }?);
        }
        let policy = Policy {
            v2_window: window_of(policy.v2_window_ms),
            v1_window: window_of(policy.v1_window_ms),
            licence_window: window_of(policy.licence_window_ms),
        };
        let m = Box::new(koosign_merchant {
            inner: Merchant::new(&strs, policy)?,
        });
        // SAFETY: as above; ownership passes to the caller
        // (koosign_merchant_free).
        unsafe { out.write(Box::into_raw(m)) };
        Ok(())
    })
}

/// Frees a merchant context (its key material is zeroized). NULL is a
/// no-op. Free every koosign_verified that refers to it first.
///
/// # Safety
/// `merchant` NULL or a handle from koosign_merchant_new not yet freed and
/// not in use by another thread.
#[no_mangle]
pub unsafe extern "C" fn koosign_merchant_free(merchant: *mut koosign_merchant) {
    let _ = boundary(|| {
        if !merchant.is_null() {
            // SAFETY: from Box::into_raw in koosign_merchant_new, freed once.
            drop(unsafe { Box::from_raw(merchant) });
        }
        Ok(())
    });
}

/// How koosign_merchant_verify and the one-shot verifiers
/// (koosign_verify_v1, koosign_verify_v1_json, koosign_verify_v2,
/// koosign_verify_v2_query) check replays.
pub type koosign_replay = u32;
/// Record the nonce / token in the given koosign_nonce_store (a replay is
/// refused, a full or unreachable store too: fail closed).
pub const KOOSIGN_REPLAY_STORE: koosign_replay = 1;
/// Everything but the replay check, which the caller then makes itself
/// (an asynchronous store) with koosign_verified_replay_key and
/// koosign_verified_replay_expires_ms; `store` must be NULL. Merchant
/// only: a one-shot verifier returns no replay key, so it refuses this
/// (KOOSIGN_INVALID_ARGUMENT).
pub const KOOSIGN_REPLAY_DEFERRED: koosign_replay = 2;
/// No replay check, by name (tests over captured traffic); `store` (the
/// one-shots' `nonce_cache`) must be NULL. Only the replay check is
/// skipped: the freshness window is named on its own.
pub const KOOSIGN_REPLAY_UNCHECKED: koosign_replay = 3;

#[allow(clippy::large_enum_variant)] // a `Verified` is ~4 KiB; the handle is reused, so it is not boxed per request
enum Outcome {
    /// Nothing verified yet, or the call itself failed.
    Empty,
    /// Verified: the value is the handle's `verified` slot.
    Verified,
    Refused {
        error: ks::Error,
        stage: Stage,
        /// The core's rejection (None: refused by this binding before the
        /// core saw the request); its key signs the refusal.
        rejection: Option<Rejection>,
    },
}

/// One request's outcome, reused from request to request: opaque, created
/// by koosign_verified_new, filled by koosign_merchant_verify, freed by
/// koosign_verified_free. After a KOOSIGN_OK verification it refers to the
/// merchant, the request's bytes and the scratch buffer given to
/// koosign_merchant_verify: keep them alive and unchanged while reading it.
/// One per thread (not to be shared while it is being filled).
pub struct koosign_verified {
    // Declared first: dropped before the headers they may point into.
    outcome: Outcome,
    /// The verified request, built here in place by the core
    /// (`Merchant::verify_into`: its ~4 KiB are never moved); `Some` exactly
    /// when `outcome` is `Verified`.
    verified: Option<Verified<'static>>,
    /// The request's headers as the core takes them; reused.
    headers: Vec<(&'static str, &'static str)>,
}

impl koosign_verified {
    /// Forgets the previous outcome (which may point into `headers`).
    fn clear(&mut self) {
        self.outcome = Outcome::Empty;
        self.verified = None;
    }
}

impl Drop for koosign_verified {
    fn drop(&mut self) {
        self.clear();
    }
}

/// Creates an empty koosign_verified into `*out` (free it with
/// koosign_verified_free).
///
/// Returns KOOSIGN_OK, KOOSIGN_NULL_PARAMETER, KOOSIGN_PANIC.
///
/// # Safety
/// `out` NULL or valid for writing a pointer.
#[no_mangle]
pub unsafe extern "C" fn koosign_verified_new(out: *mut *mut koosign_verified) -> koosign_status {
    boundary(|| {
        if out.is_null() {
            return Err(koosign_status::KOOSIGN_NULL_PARAMETER);
        }
        let v = Box::new(koosign_verified {
            outcome: Outcome::Empty,
            verified: None,
            headers: Vec::new(),
        });
        // SAFETY: non-NULL and writable; ownership passes to the caller.
        unsafe { out.write(Box::into_raw(v)) };
        Ok(())
    })
}

/// Frees a koosign_verified. NULL is a no-op.
///
/// # Safety
/// `verified` NULL or from koosign_verified_new, not yet freed.
#[no_mangle]
pub unsafe extern "C" fn koosign_verified_free(verified: *mut koosign_verified) {
    let _ = boundary(|| {
        if !verified.is_null() {
            // SAFETY: from Box::into_raw in koosign_verified_new, freed once.
            drop(unsafe { Box::from_raw(verified) });
        }
        Ok(())
    });
}

/// Bytes of scratch koosign_merchant_verify needs for this request: the
/// core's `koosign::merchant::scratch_len` (the query's length, or the S1b
/// body's plus the longest header value plus 9). The arguments are those
/// of koosign_merchant_verify (only their lengths matter). 0 when an
/// argument is unusable (NULL with a non-zero length; text that is not
/// UTF-8, which koosign_merchant_verify refuses before using scratch).
///
/// # Safety
/// As koosign_merchant_verify.
#[no_mangle]
pub unsafe extern "C" fn koosign_merchant_scratch_len(
    query: *const c_char,
    query_len: usize,
    headers: *const koosign_pair,
    n_headers: usize,
    body: *const u8,
    body_len: usize,
) -> usize {
    std::panic::catch_unwind(|| {
        // SAFETY: per the contract.
        let (query, hs, body) = unsafe {
            (
                text(query, query_len),
                crate::ffi::pairs(headers, n_headers),
                bytes(body, body_len),
            )
        };
        match (query, hs, body) {
            (Ok(query), Ok(headers), Ok(body)) => ks::merchant::scratch_len(&Request {
                method: "",
                query,
                headers: &headers,
                body,
            }),
            _ => 0,
        }
    })
    .unwrap_or(0)
}

/// Verifies a notification end to end with the context (the core's
/// `Merchant::verify`): detects the protocol (S1 GET, S1b, S2, S2b),
/// verifies it with the precomputed keys, checks the policy's window and
/// the replay store, parses the notification strictly and validates its
/// activity and required fields.
///
/// - `merchant`: the context.
/// - `method`, `query`: the HTTP method exactly (`GET`, `POST`) and the raw
///   query string (after `?`).
/// - `headers`, `n_headers`: the request headers (names any case).
/// - `body`, `body_len`: the exact body bytes (over 1 MiB is refused
///   unread, KOOSIGN_INPUT_TOO_LARGE after authentication, `000002`).
/// - `now_ms`: the caller's clock, Unix ms.
/// - `replay`, `store`: KOOSIGN_REPLAY_STORE with a store (e.g.
///   koosign_nonce_cache_store's, or the caller's over Redis),
///   KOOSIGN_REPLAY_DEFERRED or KOOSIGN_REPLAY_UNCHECKED with NULL.
/// - `scratch`, `scratch_cap`: at least koosign_merchant_scratch_len bytes;
///   decoded parameters live there.
/// - `out`: a koosign_verified, overwritten with the outcome.
///
/// Returns KOOSIGN_OK (read the notification from `out`), or the refusal's
/// status with `out` holding the refusal (koosign_verified_result_code,
/// koosign_merchant_refusal). Request text (method, query, headers) that
/// is not UTF-8 is refused as KOOSIGN_MALFORMED_ENCODING (`000001`). The
/// caller's mistakes — KOOSIGN_NULL_PARAMETER, KOOSIGN_INVALID_ARGUMENT
/// (`replay`), KOOSIGN_BUFFER_TOO_SMALL (scratch), KOOSIGN_PANIC — leave a
/// refusal answering `000005`.
///
/// # Safety
/// `merchant` a live handle; every input pointer NULL (only with a zero
/// length) or valid for its length, and, after KOOSIGN_OK, kept alive and
/// unchanged while `out` is read; `store` NULL or valid; `scratch` NULL
/// (only with `scratch_cap` 0) or valid for `scratch_cap` bytes, not
/// overlapping the inputs, kept while `out` is read; `out` a live
/// koosign_verified.
#[no_mangle]
pub unsafe extern "C" fn koosign_merchant_verify(
    merchant: *const koosign_merchant,
    method: *const c_char,
    method_len: usize,
    query: *const c_char,
    query_len: usize,
    headers: *const koosign_pair,
    n_headers: usize,
    body: *const u8,
    body_len: usize,
    now_ms: u64,
    replay: koosign_replay,
    store: *const koosign_nonce_store,
    scratch: *mut u8,
    scratch_cap: usize,
    out: *mut koosign_verified,
) -> koosign_status {
    boundary(|| {
        // SAFETY: NULL or a live koosign_verified (the contract).
        let v = unsafe { out.as_mut() }.ok_or(koosign_status::KOOSIGN_NULL_PARAMETER)?;
        // The previous outcome may point into `headers`: drop it first.
        v.clear();
        // SAFETY: the pointers meet this function's `# Safety` contract;
        // the caller keeps the inputs, the merchant and the scratch alive
        // while `out` refers to them, which is what 'static stands for here.
        let (m, body, hs, store, scratch) = unsafe {
            (
                merchant
                    .as_ref()
                    .ok_or(koosign_status::KOOSIGN_NULL_PARAMETER)?,
                bytes(body, body_len)?,
                crate::ffi::array(headers, n_headers)?,
                store.as_ref().copied(),
                out_bytes(scratch, scratch_cap)?,
            )
        };
        let mut cb;
        let replay = match (replay, store) {
            (KOOSIGN_REPLAY_STORE, Some(s)) if s.check_and_insert.is_some() => {
                cb = CallbackStore(s);
                Replay::Store(&mut cb)
            }
            (KOOSIGN_REPLAY_STORE, _) => return Err(koosign_status::KOOSIGN_NULL_PARAMETER),
            (KOOSIGN_REPLAY_DEFERRED, None) => Replay::Deferred,
            (KOOSIGN_REPLAY_UNCHECKED, None) => Replay::Unchecked,
            _ => return Err(koosign_status::KOOSIGN_INVALID_ARGUMENT),
        };
        // Received text that is not UTF-8 is a malformed request.
        enum Bad {
            Status(koosign_status),
            Refuse(ks::Error),
        }
        let received = |r: Res<&'static str>| {
            r.map_err(|s| match s {
                koosign_status::KOOSIGN_INVALID_UTF8 => {
                    Bad::Refuse(ks::Error::MalformedEncoding("request text is not UTF-8"))
                }
                other => Bad::Status(other),
            })
        };
        let texts = (|| -> Result<_, Bad> {
            v.headers.clear();
            for h in hs {
                // SAFETY: each header is valid for its lengths (the contract).
                let (n, val) = unsafe { (h.name.as_str(), h.value.as_str()) };
                v.headers.push((received(n)?, received(val)?));
            }
            // SAFETY: as above.
            let (method, query) = unsafe { (text(method, method_len), text(query, query_len)) };
            Ok((received(method)?, received(query)?))
        })();
        let (method, query) = match texts {
            Ok(t) => t,
            Err(Bad::Status(status)) => return Err(status),
            Err(Bad::Refuse(error)) => {
                v.outcome = Outcome::Refused {
                    error,
                    stage: Stage::BeforeAuthentication,
                    rejection: None,
                };
                return Err(error.into());
            }
        };
        // SAFETY: the vector's buffer is not touched again until `outcome`
        // is reset (start of the next call, or drop).
        let headers: &'static [(&'static str, &'static str)] =
            unsafe { &*(v.headers.as_slice() as *const _) };
        let req = Request {
            method,
            query,
            headers,
            body,
        };
        // SAFETY: the merchant outlives `out`'s use (the contract).
        let m: &'static koosign_merchant = unsafe { &*(m as *const koosign_merchant) };
        match m.inner.verify_into(&req, now_ms, replay, scratch, &mut v.verified) {
            Ok(_) => {
                v.outcome = Outcome::Verified;
                Ok(())
            }
            Err(r) => {
                v.outcome = Outcome::Refused {
                    error: r.error(),
                    stage: r.stage(),
                    rejection: Some(r),
                };
                Err(r.error().into())
            }
        }
    })
}

/// `cap` writable bytes at `ptr` as a mutable slice (NULL only with 0).
///
/// # Safety
/// `ptr` NULL or valid for `cap` bytes of reads and writes for `'a`.
unsafe fn out_bytes<'a>(ptr: *mut u8, cap: usize) -> Res<&'a mut [u8]> {
    if ptr.is_null() {
        return if cap == 0 {
            Ok(&mut [])
        } else {
            Err(koosign_status::KOOSIGN_NULL_PARAMETER)
        };
    }
    if cap > isize::MAX as usize {
        return Err(koosign_status::KOOSIGN_INPUT_TOO_LARGE);
    }
    // SAFETY: per the contract.
    Ok(unsafe { core::slice::from_raw_parts_mut(ptr, cap) })
}

/// A `resultCode` (SCHEMES.md §Answers): the enumerator's value is the
/// code's number (`printf("%06u", code)` gives its wire text, as does
/// koosign_result_code_text).
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum koosign_result {
    /// `000000`: success.
    KOOSIGN_RESULT_SUCCESS = 0,
    /// `000001`: authentication failed.
    KOOSIGN_RESULT_UNAUTHENTICATED = 1,
    /// `000002`: bad parameters (an authenticated request's content).
    KOOSIGN_RESULT_BAD_REQUEST = 2,
    /// `000003`: unknown instance (the handler's own answer).
    KOOSIGN_RESULT_UNKNOWN_INSTANCE = 3,
    /// `000005`: the merchant's side failed.
    KOOSIGN_RESULT_MERCHANT_FAILURE = 5,
}

impl From<ResultCode> for koosign_result {
    fn from(c: ResultCode) -> Self {
        use koosign_result::*;
        match c {
            ResultCode::Success => KOOSIGN_RESULT_SUCCESS,
            ResultCode::Unauthenticated => KOOSIGN_RESULT_UNAUTHENTICATED,
            ResultCode::BadRequest => KOOSIGN_RESULT_BAD_REQUEST,
            ResultCode::UnknownInstance => KOOSIGN_RESULT_UNKNOWN_INSTANCE,
            _ => KOOSIGN_RESULT_MERCHANT_FAILURE,
        }
    }
}

fn result_of(code: u32) -> Res<ResultCode> {
    ResultCode::ALL
        .into_iter()
        .find(|c| koosign_result::from(*c) as u32 == code)
        .ok_or(koosign_status::KOOSIGN_INVALID_ARGUMENT)
}

/// The `resultCode` of `status` found before (`authenticated` 0) or after
/// (non-zero) the request was authenticated: the core's
/// `answer::result_code` for the core's statuses (docs/ERRORS.md);
/// KOOSIGN_RESULT_SUCCESS for KOOSIGN_OK; KOOSIGN_RESULT_MERCHANT_FAILURE
/// for the C layer's own statuses (the caller's or the library's fault)
/// and unknown values.
#[no_mangle]
pub extern "C" fn koosign_result_code(
    status: u32,
    authenticated: core::ffi::c_int,
) -> koosign_result {
    std::panic::catch_unwind(|| {
        if status == koosign_status::KOOSIGN_OK as u32 {
            return koosign_result::KOOSIGN_RESULT_SUCCESS;
        }
        let stage = if authenticated != 0 {
            Stage::Authenticated
        } else {
            Stage::BeforeAuthentication
        };
        ks::Error::ALL
            .iter()
            .find(|e| koosign_status::from(**e) as u32 == status)
            .map_or(koosign_result::KOOSIGN_RESULT_MERCHANT_FAILURE, |e| {
                ks::result_code(e, stage).into()
            })
    })
    .unwrap_or(koosign_result::KOOSIGN_RESULT_MERCHANT_FAILURE)
}

/// The six-digit wire text of `code` (e.g. `"000001"`): static,
/// NUL-terminated, never NULL; `""` for a value that is not a
/// koosign_result.
#[no_mangle]
pub extern "C" fn koosign_result_code_text(code: u32) -> *const c_char {
    std::panic::catch_unwind(|| match result_of(code).map(koosign_result::from) {
        Ok(koosign_result::KOOSIGN_RESULT_SUCCESS) => c"000000",
        Ok(koosign_result::KOOSIGN_RESULT_UNAUTHENTICATED) => c"000001",
        Ok(koosign_result::KOOSIGN_RESULT_BAD_REQUEST) => c"000002",
        Ok(koosign_result::KOOSIGN_RESULT_UNKNOWN_INSTANCE) => c"000003",
        Ok(koosign_result::KOOSIGN_RESULT_MERCHANT_FAILURE) => c"000005",
        Err(_) => c"",
    })
    .unwrap_or(c"")
    .as_ptr()
}

/// # Safety
/// `v` NULL or a live koosign_verified.
unsafe fn outcome<'a>(v: *const koosign_verified) -> Option<&'a Outcome> {
    // SAFETY: per the contract.
    unsafe { v.as_ref() }.map(|v| &v.outcome)
}

/// # Safety
/// As [`outcome`].
unsafe fn verified<'a>(v: *const koosign_verified) -> Res<&'a Verified<'static>> {
    // SAFETY: forwarded.
    match unsafe { v.as_ref() } {
        Some(h) => match (&h.outcome, &h.verified) {
            (Outcome::Verified, Some(v)) => Ok(v),
            _ => Err(koosign_status::KOOSIGN_INVALID_ARGUMENT),
        },
        None => Err(koosign_status::KOOSIGN_NULL_PARAMETER),
    }
}

/// The `resultCode` of `verified`'s outcome: KOOSIGN_RESULT_SUCCESS after a
/// KOOSIGN_OK verification, else the refusal's code (the core's table with
/// the stage the refusal was found at); KOOSIGN_RESULT_MERCHANT_FAILURE for
/// NULL or a koosign_verified never filled.
///
/// # Safety
/// `verified` NULL or a live koosign_verified.
#[no_mangle]
pub unsafe extern "C" fn koosign_verified_result_code(
    verified: *const koosign_verified,
) -> koosign_result {
    std::panic::catch_unwind(|| {
        // SAFETY: per the contract.
        match unsafe { outcome(verified) } {
            Some(Outcome::Verified) => koosign_result::KOOSIGN_RESULT_SUCCESS,
            Some(Outcome::Refused { error, stage, .. }) => ks::result_code(error, *stage).into(),
            _ => koosign_result::KOOSIGN_RESULT_MERCHANT_FAILURE,
        }
    })
    .unwrap_or(koosign_result::KOOSIGN_RESULT_MERCHANT_FAILURE)
}

/// 1 when `verified` holds a refusal found after authentication (the
/// notification's content: `000002`), else 0.
///
/// # Safety
/// `verified` NULL or a live koosign_verified.
#[no_mangle]
pub unsafe extern "C" fn koosign_verified_authenticated(
    verified: *const koosign_verified,
) -> core::ffi::c_int {
    std::panic::catch_unwind(|| {
        // SAFETY: per the contract.
        match unsafe { outcome(verified) } {
            Some(Outcome::Verified) => 1,
            Some(Outcome::Refused {
                stage: Stage::Authenticated,
                ..
            }) => 1,
            _ => 0,
        }
    })
    .unwrap_or(0)
}

/// Writes a static string (protocol, activity name) into `*out`/`*out_len`.
fn static_str(s: &'static str, out: *mut *const c_char, out_len: *mut usize) -> Res<()> {
    if out.is_null() || out_len.is_null() {
        return Err(koosign_status::KOOSIGN_NULL_PARAMETER);
    }
    // SAFETY: non-NULL and writable per the callers' contracts.
    unsafe {
        out.write(s.as_ptr().cast());
        out_len.write(s.len());
    }
    Ok(())
}

/// The verified request's protocol: `"v1"` (S1 GET), `"v1json"` (S1b),
/// `"v2"` (S2) or `"kit"` (S2b), as a static string (not NUL-terminated)
/// at `*out`, `*out_len` bytes.
///
/// Returns KOOSIGN_OK, KOOSIGN_NULL_PARAMETER, KOOSIGN_INVALID_ARGUMENT
/// (`verified` holds no verified request), KOOSIGN_PANIC.
///
/// # Safety
/// `verified` NULL or live; `out`, `out_len` NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn koosign_verified_protocol(
    verified: *const koosign_verified,
    out: *mut *const c_char,
    out_len: *mut usize,
) -> koosign_status {
    // SAFETY: per the contract.
    boundary(|| {
        static_str(
            unsafe { self::verified(verified) }?.protocol().as_str(),
            out,
            out_len,
        )
    })
}

/// The validated activity's wire name (`"newInstance"`,
/// `"updateInstanceStatus"`, `"instanceStatus"`, ...), static, not
/// NUL-terminated. Statuses as koosign_verified_protocol.
///
/// # Safety
/// As koosign_verified_protocol.
#[no_mangle]
pub unsafe extern "C" fn koosign_verified_activity(
    verified: *const koosign_verified,
    out: *mut *const c_char,
    out_len: *mut usize,
) -> koosign_status {
    // SAFETY: per the contract.
    boundary(|| {
        static_str(
            unsafe { self::verified(verified) }?.activity().as_str(),
            out,
            out_len,
        )
    })
}

/// Index of the access key that matched (0 to n_keys − 1): of the
/// verified request, or of a request refused after authentication (the
/// core's `Rejection::key_index`); 0 otherwise (refused before
/// authentication, empty). The key that signs the answer to it
/// (koosign_merchant_respond_for, koosign_merchant_answer_code_for:
/// docs/SCHEMES.md §S3 "(decision) Key rotation").
///
/// # Safety
/// `verified` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn koosign_verified_key_index(verified: *const koosign_verified) -> usize {
    std::panic::catch_unwind(|| {
        // SAFETY (both calls): per the contract.
        if let Ok(v) = unsafe { self::verified(verified) } {
            return v.key_index();
        }
        match unsafe { outcome(verified) } {
            Some(Outcome::Refused { rejection: Some(r), .. }) => r.key_index().unwrap_or(0),
            _ => 0,
        }
    })
    .unwrap_or(0)
}

/// The request's timestamp, Unix ms; 0 when `verified` holds no verified
/// request.
///
/// # Safety
/// `verified` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn koosign_verified_timestamp_ms(verified: *const koosign_verified) -> u64 {
    // SAFETY: per the contract.
    std::panic::catch_unwind(|| unsafe { self::verified(verified) }.map_or(0, |v| v.timestamp_ms()))
        .unwrap_or(0)
}

/// Until when (Unix ms) the request's replay key must be remembered
/// (with KOOSIGN_REPLAY_DEFERRED); 0 when `verified` holds no verified
/// request.
///
/// # Safety
/// `verified` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn koosign_verified_replay_expires_ms(
    verified: *const koosign_verified,
) -> u64 {
    // SAFETY: per the contract.
    std::panic::catch_unwind(|| {
        unsafe { self::verified(verified) }.map_or(0, |v| v.replay_expires_ms())
    })
    .unwrap_or(0)
}

/// The key a replay store records the request under (what a shared store
/// keys on; with KOOSIGN_REPLAY_DEFERRED, check it yourself): a V2 / kit
/// nonce as sent, or `v1:` + the V1 token. `*out` points into the request
/// or `verified`; `*out_len` bytes.
///
/// Returns KOOSIGN_OK, KOOSIGN_NULL_PARAMETER, KOOSIGN_INVALID_ARGUMENT
/// (no verified request), KOOSIGN_PANIC.
///
/// # Safety
/// `verified` NULL or live; `out`, `out_len` NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn koosign_verified_replay_key(
    verified: *const koosign_verified,
    out: *mut *const u8,
    out_len: *mut usize,
) -> koosign_status {
    boundary(|| {
        // SAFETY: per the contract.
        let v = unsafe { self::verified(verified) }?;
        write_view(v.replay_key(), out, out_len)
    })
}

fn write_view(s: &[u8], out: *mut *const u8, out_len: *mut usize) -> Res<()> {
    if out.is_null() || out_len.is_null() {
        return Err(koosign_status::KOOSIGN_NULL_PARAMETER);
    }
    // SAFETY: non-NULL and writable per the callers' contracts.
    unsafe {
        out.write(s.as_ptr());
        out_len.write(s.len());
    }
    Ok(())
}

/// The exact verified body (empty for an S1 GET): `*out` points into the
/// request's body.
///
/// Statuses as koosign_verified_replay_key.
///
/// # Safety
/// As koosign_verified_replay_key.
#[no_mangle]
pub unsafe extern "C" fn koosign_verified_body(
    verified: *const koosign_verified,
    out: *mut *const u8,
    out_len: *mut usize,
) -> koosign_status {
    boundary(|| {
        // SAFETY: per the contract.
        let v = unsafe { self::verified(verified) }?;
        write_view(v.body(), out, out_len)
    })
}

/// A field of the verified notification by its wire name: a V1 parameter
/// (first value, decoded), or a string field of the V2 / kit notification
/// that the core reads (`activity`, `orderId`, `orderLineId`,
/// `businessId`, `testFlag`, `instanceId`, `scene`, `status`, `productId`,
/// `expireTime`, `trialFlag`, `customerId`, `customerName`,
/// `chargingMode`, `skuCode`; JSON escapes decoded). `*value` points into
/// the request, the scratch or `verified` (not NUL-terminated).
///
/// Returns KOOSIGN_OK, KOOSIGN_MISSING_PARAMETER (absent), KOOSIGN_NULL_PARAMETER,
/// KOOSIGN_INVALID_UTF8 (`name`), KOOSIGN_INVALID_ARGUMENT (no verified
/// request), KOOSIGN_PANIC.
///
/// # Safety
/// `verified` NULL or live; `name` valid for `name_len` bytes; `value`,
/// `value_len` NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn koosign_verified_get(
    verified: *const koosign_verified,
    name: *const c_char,
    name_len: usize,
    value: *mut *const c_char,
    value_len: *mut usize,
) -> koosign_status {
    boundary(|| {
        // SAFETY: per the contract.
        let (v, name) = unsafe { (self::verified(verified)?, text(name, name_len)?) };
        let s = v
            .get(name)
            .ok_or(koosign_status::KOOSIGN_MISSING_PARAMETER)?;
        write_view(s.as_bytes(), value.cast(), value_len)
    })
}

/// The number of parameters of a verified V1 request (S1 query or S1b
/// body, `authToken` and `timeStamp` included); 0 for V2 / kit or when
/// `verified` holds no verified request.
///
/// # Safety
/// `verified` NULL or live.
#[no_mangle]
pub unsafe extern "C" fn koosign_verified_param_count(verified: *const koosign_verified) -> usize {
    std::panic::catch_unwind(|| {
        // SAFETY: per the contract.
        unsafe { self::verified(verified) }
            .ok()
            .and_then(|v| v.v1())
            .map_or(0, |p| p.params().len())
    })
    .unwrap_or(0)
}

/// Parameter `index` (in received order, decoded) of a verified V1
/// request: its name and value, pointing into the scratch (not
/// NUL-terminated).
///
/// Returns KOOSIGN_OK, KOOSIGN_NULL_PARAMETER, KOOSIGN_INVALID_ARGUMENT
/// (no verified V1 request, or `index` ≥ koosign_verified_param_count),
/// KOOSIGN_PANIC.
///
/// # Safety
/// `verified` NULL or live; the out-pointers NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn koosign_verified_param(
    verified: *const koosign_verified,
    index: usize,
    name: *mut *const c_char,
    name_len: *mut usize,
    value: *mut *const c_char,
    value_len: *mut usize,
) -> koosign_status {
    boundary(|| {
        // SAFETY: per the contract.
        let v = unsafe { self::verified(verified) }?;
        let &(n, val) = v
            .v1()
            .and_then(|p| p.params().get(index))
            .ok_or(koosign_status::KOOSIGN_INVALID_ARGUMENT)?;
        write_view(n.as_bytes(), name.cast(), name_len)?;
        write_view(val.as_bytes(), value.cast(), value_len)
    })
}

/// Bytes of `out` a decryption of a `wire_len`-byte wire string needs
/// (the core's `field::decrypt_out_len`).
#[no_mangle]
pub extern "C" fn koosign_decrypt_out_len(wire_len: usize) -> usize {
    std::panic::catch_unwind(|| ks::field::decrypt_out_len(wire_len)).unwrap_or(wire_len)
}

/// Bytes an encrypted field of a `plaintext_len`-byte plaintext takes
/// (the core's `field::encrypt_out_len`; KOOSIGN_MAX_WIRE_LEN at most).
#[no_mangle]
pub extern "C" fn koosign_encrypt_out_len(plaintext_len: usize) -> usize {
    std::panic::catch_unwind(|| ks::field::encrypt_out_len(plaintext_len)).unwrap_or(usize::MAX)
}

/// Decrypts an inbound field of the verified request (V1 `mobilePhone`,
/// `email`; SCHEMES.md S4) with the key that matched. `mode`:
/// KOOSIGN_DECRYPT_AUTO, KOOSIGN_AES256 or KOOSIGN_AES128. `out`: at least
/// koosign_decrypt_out_len(wire_len) bytes (the plaintext is copied there
/// only whole). A KOOSIGN_DECRYPT here answers `000002`
/// (koosign_result_code(status, 1)).
///
/// Returns KOOSIGN_OK, KOOSIGN_DECRYPT, KOOSIGN_BUFFER_TOO_SMALL,
/// KOOSIGN_NULL_PARAMETER, KOOSIGN_INVALID_UTF8, KOOSIGN_INVALID_ARGUMENT,
/// KOOSIGN_PANIC.
///
/// # Safety
/// `verified` NULL or live; `wire` valid for `wire_len`; `out` NULL (only
/// with `out_cap` 0) or valid for `out_cap` bytes; `out_len` valid.
#[no_mangle]
pub unsafe extern "C" fn koosign_verified_decrypt(
    verified: *const koosign_verified,
    wire: *const c_char,
    wire_len: usize,
    mode: koosign_encrypt_type,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> koosign_status {
    boundary(|| {
        // SAFETY: per the contract.
        let (out, v, wire) = unsafe {
            (
                OutBuf::new(out, out_cap, out_len)?,
                self::verified(verified)?,
                text(wire, wire_len)?,
            )
        };
        let mode = mode_of(mode)?;
        crate::ffi::with_secret_scratch(ks::field::decrypt_out_len(wire.len()), |s| {
            out.write(v.decrypt(wire, mode, s)?.as_bytes())
        })
    })
}

/// Decrypts a field with key 0's precomputed AES keys (S4), as
/// koosign_decrypt_field without the key derivation. Parameters and
/// statuses as koosign_verified_decrypt (with `merchant` for `verified`).
///
/// # Safety
/// As koosign_verified_decrypt.
#[no_mangle]
pub unsafe extern "C" fn koosign_merchant_decrypt(
    merchant: *const koosign_merchant,
    wire: *const c_char,
    wire_len: usize,
    mode: koosign_encrypt_type,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> koosign_status {
    boundary(|| {
        // SAFETY: per the contract.
        let (out, m, wire) = unsafe {
            (
                OutBuf::new(out, out_cap, out_len)?,
                merchant
                    .as_ref()
                    .ok_or(koosign_status::KOOSIGN_NULL_PARAMETER)?,
                text(wire, wire_len)?,
            )
        };
        let mode = mode_of(mode)?;
        crate::ffi::with_secret_scratch(ks::field::decrypt_out_len(wire.len()), |s| {
            out.write(m.inner.decrypt(wire, mode, s)?.as_bytes())
        })
    })
}

/// The `Body-Sign` value (S3) of the exact bytes `body` under key 0,
/// precomputed: KOOSIGN_BODY_SIGN_VALUE_LEN (81) bytes into `out`.
///
/// Returns KOOSIGN_OK, KOOSIGN_NULL_PARAMETER, KOOSIGN_BUFFER_TOO_SMALL,
/// KOOSIGN_PANIC.
///
/// # Safety
/// `merchant` NULL or live; `body` valid for `body_len`; `out` NULL (only
/// with `out_cap` 0) or valid for `out_cap` bytes; `out_len` valid.
#[no_mangle]
pub unsafe extern "C" fn koosign_merchant_body_sign(
    merchant: *const koosign_merchant,
    body: *const u8,
    body_len: usize,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> koosign_status {
    // SAFETY: forwarded.
    unsafe { koosign_merchant_body_sign_for(merchant, 0, body, body_len, out, out_cap, out_len) }
}

/// koosign_merchant_body_sign under the key at `key_index` (the verified
/// request's, koosign_verified_key_index: docs/SCHEMES.md §S3 "(decision)
/// Key rotation"). Returns as koosign_merchant_body_sign, and
/// KOOSIGN_NO_ACCESS_KEY for an index the merchant does not hold.
///
/// # Safety
/// As koosign_merchant_body_sign.
#[no_mangle]
pub unsafe extern "C" fn koosign_merchant_body_sign_for(
    merchant: *const koosign_merchant,
    key_index: usize,
    body: *const u8,
    body_len: usize,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
) -> koosign_status {
    boundary(|| {
        // SAFETY: per the contract.
        let (out, m, body) = unsafe {
            (
                OutBuf::new(out, out_cap, out_len)?,
                merchant
                    .as_ref()
                    .ok_or(koosign_status::KOOSIGN_NULL_PARAMETER)?,
                bytes(body, body_len)?,
            )
        };
        out.write(m.inner.body_sign_for(key_index, body)?.as_bytes())
    })
}

/// Copies a signed answer into the caller's two buffers: both or neither.
fn write_answer(a: &ks::SignedAnswer<'_>, out: &OutBuf, sign: &OutBuf) -> Res<()> {
    let (b, s) = (a.body().as_bytes(), a.body_sign().as_bytes());
    if b.len() > out.cap() || s.len() > sign.cap() {
        let _ = sign.too_small(s.len());
        return Err(out.too_small(b.len()));
    }
    out.write(b)?;
    sign.write(s)
}

/// # Safety
/// The buffers as in koosign_merchant_refusal's contract.
unsafe fn two_bufs(
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
    sign: *mut u8,
    sign_cap: usize,
    sign_len: *mut usize,
) -> Res<(OutBuf, OutBuf)> {
    // SAFETY: forwarded.
    unsafe {
        Ok((
            OutBuf::new(out, out_cap, out_len)?,
            OutBuf::new(sign, sign_cap, sign_len)?,
        ))
    }
}

/// The signed refusal of `verified`'s outcome (docs/SCHEMES.md §Answers):
/// the body `{"resultCode":"…","resultMsg":"…"}` (the code of
/// koosign_verified_result_code, its fixed message, no detail) into `out`
/// and its `Body-Sign` value into `sign`, under the key that verified the
/// request when it was refused after authentication, key 0 before (the
/// core's `Merchant::refusal_for`, docs/SCHEMES.md §S3 "(decision) Key
/// rotation"). Send it as HTTP 200,
/// `Content-Type: application/json;charset=UTF-8`, header `Body-Sign`.
///
/// - `out`, `out_cap`, `out_len`: KOOSIGN_REFUSAL_MAX_LEN bytes suffice.
/// - `sign`, `sign_cap`, `sign_len`: KOOSIGN_BODY_SIGN_VALUE_LEN (81) bytes.
///
/// Both buffers are written, or neither (KOOSIGN_BUFFER_TOO_SMALL, each
/// out-length then holding what its buffer needs). Returns KOOSIGN_OK,
/// KOOSIGN_NULL_PARAMETER, KOOSIGN_INVALID_ARGUMENT (`verified` holds a
/// verified request), KOOSIGN_BUFFER_TOO_SMALL, KOOSIGN_PANIC.
///
/// # Safety
/// `merchant`, `verified` NULL or live; `out` / `sign` NULL (only with a
/// zero capacity) or valid for their capacity, not overlapping; the
/// out-lengths valid for a write.
#[no_mangle]
pub unsafe extern "C" fn koosign_merchant_refusal(
    merchant: *const koosign_merchant,
    verified: *const koosign_verified,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
    sign: *mut u8,
    sign_cap: usize,
    sign_len: *mut usize,
) -> koosign_status {
    boundary(|| {
        // SAFETY: per the contract.
        let ((out, sign), m, o) = unsafe {
            (
                two_bufs(out, out_cap, out_len, sign, sign_cap, sign_len)?,
                merchant
                    .as_ref()
                    .ok_or(koosign_status::KOOSIGN_NULL_PARAMETER)?,
                outcome(verified).ok_or(koosign_status::KOOSIGN_NULL_PARAMETER)?,
            )
        };
        let mut buf = [0u8; KOOSIGN_REFUSAL_MAX_LEN];
        let signed = match o {
            Outcome::Verified => return Err(koosign_status::KOOSIGN_INVALID_ARGUMENT),
            Outcome::Refused { rejection: Some(r), .. } => m.inner.refusal_for(r, &mut buf)?,
            Outcome::Refused { error, stage, rejection: None } => {
                m.inner.answer_code(ks::result_code(error, *stage), &mut buf)?
            }
            Outcome::Empty => m.inner.answer_code(ResultCode::MerchantFailure, &mut buf)?,
        };
        write_answer(&signed, &out, &sign)
    })
}

/// The signed bare answer `{"resultCode":"…","resultMsg":"…"}` of `code`
/// (a koosign_result: the handler's own KOOSIGN_RESULT_UNKNOWN_INSTANCE,
/// KOOSIGN_RESULT_MERCHANT_FAILURE, or KOOSIGN_RESULT_SUCCESS), signed
/// under key 0. Buffers and statuses as koosign_merchant_refusal
/// (KOOSIGN_INVALID_ARGUMENT: `code` is not a koosign_result).
///
/// # Safety
/// As koosign_merchant_refusal.
#[no_mangle]
pub unsafe extern "C" fn koosign_merchant_answer_code(
    merchant: *const koosign_merchant,
    code: u32,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
    sign: *mut u8,
    sign_cap: usize,
    sign_len: *mut usize,
) -> koosign_status {
    // SAFETY: forwarded.
    unsafe { koosign_merchant_answer_code_for(merchant, 0, code, out, out_cap, out_len, sign, sign_cap, sign_len) }
}

/// koosign_merchant_answer_code signed under the key at `key_index` (the
/// verified request's, koosign_verified_key_index: docs/SCHEMES.md §S3
/// "(decision) Key rotation"). Returns as koosign_merchant_answer_code, and
/// KOOSIGN_NO_ACCESS_KEY for an index the merchant does not hold.
///
/// # Safety
/// As koosign_merchant_refusal.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn koosign_merchant_answer_code_for(
    merchant: *const koosign_merchant,
    key_index: usize,
    code: u32,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
    sign: *mut u8,
    sign_cap: usize,
    sign_len: *mut usize,
) -> koosign_status {
    boundary(|| {
        // SAFETY: per the contract.
        let ((out, sign), m) = unsafe {
            (
                two_bufs(out, out_cap, out_len, sign, sign_cap, sign_len)?,
                merchant
                    .as_ref()
                    .ok_or(koosign_status::KOOSIGN_NULL_PARAMETER)?,
            )
        };
        let code = result_of(code)?;
        let mut buf = [0u8; KOOSIGN_REFUSAL_MAX_LEN];
        write_answer(&m.inner.answer_code_for(key_index, code, &mut buf)?, &out, &sign)
    })
}

/// The application's part of a success answer (SCHEMES.md S4, §Answers).
/// Each member is absent when its `data` is NULL (a non-NULL empty string
/// is sent as `""`); `user_name` and `password` are given in plain text
/// (at most 79 bytes) and encrypted by koosign_merchant_respond.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct koosign_app_info {
    /// `frontEndUrl`.
    pub front_end_url: koosign_str,
    /// `adminUrl`.
    pub admin_url: koosign_str,
    /// `userName`, plain text.
    pub user_name: koosign_str,
    /// `password`, plain text.
    pub password: koosign_str,
    /// `memo`.
    pub memo: koosign_str,
}

/// One entry of a `queryInstance` answer's `info` list.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct koosign_instance_info {
    /// `instanceId` (at most 64 characters).
    pub instance_id: koosign_str,
    /// Its `appInfo`.
    pub app_info: koosign_app_info,
}

/// An answer for koosign_merchant_respond.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct koosign_answer {
    /// The code (a koosign_result).
    pub result_code: u32,
    /// `instanceId` (NULL `data`: absent; at most 64 characters).
    pub instance_id: koosign_str,
    /// `appInfo` (NULL: absent).
    pub app_info: *const koosign_app_info,
    /// `info` (`queryInstance`), `n_info` entries (NULL only with 0).
    pub info: *const koosign_instance_info,
    /// Entries of `info`.
    pub n_info: usize,
}

/// # Safety
/// `s.data` NULL or valid for `s.len` bytes.
unsafe fn opt(s: &koosign_str) -> Res<Option<&'static str>> {
    if s.data.is_null() {
        return if s.len == 0 {
            Ok(None)
        } else {
            Err(koosign_status::KOOSIGN_NULL_PARAMETER)
        };
    }
    // SAFETY: forwarded.
    unsafe { s.as_str() }.map(Some)
}

/// # Safety
/// Every member as [`opt`].
unsafe fn app_info_of(a: &koosign_app_info) -> Res<ks::merchant::AppInfo<'static>> {
    // SAFETY: forwarded.
    unsafe {
        Ok(ks::merchant::AppInfo {
            front_end_url: opt(&a.front_end_url)?,
            admin_url: opt(&a.admin_url)?,
            user_name: opt(&a.user_name)?,
            password: opt(&a.password)?,
            memo: opt(&a.memo)?,
        })
    }
}

/// Writes and signs an answer (the core's `Merchant::respond`):
/// `resultCode` and its fixed `resultMsg`, then `instanceId`, `encryptType`
/// (when `appInfo` or `info` is given) and `appInfo` / `info`, whose
/// `userName` and `password` are encrypted under key 0 with `encrypt_type`
/// (KOOSIGN_AES256 or KOOSIGN_AES128) and a fresh IV from the operating
/// system; the `Body-Sign` into `sign` covers exactly the bytes written
/// into `out`. Both buffers are written, or neither: on
/// KOOSIGN_BUFFER_TOO_SMALL `*out_len` holds the body's length (the same
/// for every call with these inputs) and `*sign_len` 81.
///
/// Returns KOOSIGN_OK, KOOSIGN_NULL_PARAMETER, KOOSIGN_INVALID_UTF8,
/// KOOSIGN_INVALID_ARGUMENT (`result_code`, `encrypt_type`),
/// KOOSIGN_INPUT_TOO_LARGE (an `instanceId` over 64 characters, a secret
/// over 79 bytes), KOOSIGN_RANDOM_SOURCE, KOOSIGN_BUFFER_TOO_SMALL,
/// KOOSIGN_PANIC.
///
/// # Safety
/// `merchant` NULL or live; `answer` NULL or valid, with every string and
/// array valid for its length; the buffers as in koosign_merchant_refusal.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn koosign_merchant_respond(
    merchant: *const koosign_merchant,
    answer: *const koosign_answer,
    encrypt_type: koosign_encrypt_type,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
    sign: *mut u8,
    sign_cap: usize,
    sign_len: *mut usize,
) -> koosign_status {
    // SAFETY: forwarded.
    unsafe {
        koosign_merchant_respond_for(merchant, 0, answer, encrypt_type, out, out_cap, out_len, sign, sign_cap, sign_len)
    }
}

/// koosign_merchant_respond with the key at `key_index` (the verified
/// request's, koosign_verified_key_index) encrypting `userName` /
/// `password` and signing the body: during a key rotation the marketplace
/// decrypts and checks with the key it signed with (the core's
/// `Merchant::respond_for`, docs/SCHEMES.md §S3 "(decision) Key rotation").
/// Returns as koosign_merchant_respond, and KOOSIGN_NO_ACCESS_KEY for an
/// index the merchant does not hold.
///
/// # Safety
/// As koosign_merchant_respond.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn koosign_merchant_respond_for(
    merchant: *const koosign_merchant,
    key_index: usize,
    answer: *const koosign_answer,
    encrypt_type: koosign_encrypt_type,
    out: *mut u8,
    out_cap: usize,
    out_len: *mut usize,
    sign: *mut u8,
    sign_cap: usize,
    sign_len: *mut usize,
) -> koosign_status {
    boundary(|| {
        // SAFETY: per the contract.
        let ((out, sign), m, a) = unsafe {
            (
                two_bufs(out, out_cap, out_len, sign, sign_cap, sign_len)?,
                merchant
                    .as_ref()
                    .ok_or(koosign_status::KOOSIGN_NULL_PARAMETER)?,
                answer
                    .as_ref()
                    .ok_or(koosign_status::KOOSIGN_NULL_PARAMETER)?,
            )
        };
        // SAFETY: per the contract (every member valid for its length).
        let (instance_id, app_info, entries) = unsafe {
            (
                opt(&a.instance_id)?,
                match a.app_info.as_ref() {
                    Some(x) => Some(app_info_of(x)?),
                    None => None,
                },
                crate::ffi::array(a.info, a.n_info)?,
            )
        };
        let mut info = Vec::with_capacity(entries.len());
        for e in entries {
            // SAFETY: as above.
            let id = unsafe { e.instance_id.as_str() }?;
            // SAFETY: as above.
            info.push((id, unsafe { app_info_of(&e.app_info) }?));
        }
        let answer = ks::merchant::Answer {
            result_code: result_of(a.result_code)?,
            instance_id,
            app_info,
            info: &info,
        };
        let ty = type_of(encrypt_type)?;
        let mut buf = vec![0u8; out_cap.clamp(256, 1 << 16)];
        // The core reports the exact length needed; one more try with it.
        let needed = match m
            .inner
            .respond_for(key_index, &answer, ty, &mut getrandom::SysRng, &mut buf)
        {
            Ok(signed) => return write_answer(&signed, &out, &sign),
            Err(ks::Error::BufferTooSmall { needed }) => needed,
            Err(e) => return Err(e.into()),
        };
        let mut buf = vec![0u8; needed];
        write_answer(
            &m.inner
                .respond_for(key_index, &answer, ty, &mut getrandom::SysRng, &mut buf)?,
            &out,
            &sign,
        )
    })
}
