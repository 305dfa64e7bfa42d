//! Replay stores: the caller's own (`koosign_nonce_store`, two C fields: a
//! context and a `check_and_insert` callback, e.g. over Redis) and the
//! in-process `koosign_nonce_cache` (the core's `NonceSlots` over memory
//! allocated once, capacity chosen at run time, behind a mutex).

use crate::ffi::boundary;
use crate::merchant::{koosign_replay, KOOSIGN_REPLAY_STORE, KOOSIGN_REPLAY_UNCHECKED};
use crate::status::koosign_status;
use core::ffi::{c_int, c_void};
use ks::{NonceSlot, NonceSlots, NonceStore};
use std::sync::Mutex;

/// What a koosign_nonce_store's `check_and_insert` returns: the key was
/// not recorded and now is (fresh).
pub const KOOSIGN_STORE_FRESH: c_int = 0;
/// The key is already recorded and not expired: a replay (the request is
/// refused, KOOSIGN_REPLAYED_NONCE, answer `000001`).
pub const KOOSIGN_STORE_REPLAYED: c_int = 1;
/// The key cannot be recorded without forgetting an unexpired one
/// (KOOSIGN_NONCE_STORE_FULL, answer `000005`).
pub const KOOSIGN_STORE_FULL: c_int = 2;
/// The store cannot be reached, or did not answer in time
/// (KOOSIGN_STORE_UNAVAILABLE, answer `000005`). Any value other than the
/// four KOOSIGN_STORE_* is read as this one (fail closed).
pub const KOOSIGN_STORE_DOWN: c_int = 3;

/// A replay store the caller implements (Redis, a database, shared
/// memory): the core calls `check_and_insert` once per verified, fresh
/// request, after its signature and window have passed, and refuses the
/// request on anything but KOOSIGN_STORE_FRESH (fail closed).
///
/// - `ctx`: passed back as the callback's first argument (the caller's
///   connection or table); koosign never reads it.
/// - `check_and_insert(ctx, key, key_len, now_ms, expires_ms)`: record
///   `key` (`key_len` bytes, binary-safe: a V2 / kit nonce as sent, or
///   `v1:` + a V1 token; at most 256 bytes) unless it is recorded and
///   unexpired at `now_ms`; keep it until `expires_ms` (Unix ms; a TTL of
///   `expires_ms - now_ms` ms, e.g. Redis `SET key 1 NX PX ttl`). Return
///   KOOSIGN_STORE_FRESH, KOOSIGN_STORE_REPLAYED, KOOSIGN_STORE_FULL or
///   KOOSIGN_STORE_DOWN. It may be called from any thread that verifies
///   (serialise inside it if the context is not thread-safe) and must not
///   call back into koosign. A NULL callback is KOOSIGN_NULL_PARAMETER.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct koosign_nonce_store {
    /// The caller's context, passed to `check_and_insert`.
    pub ctx: *mut c_void,
    /// The check-and-record callback (see the type's documentation).
    pub check_and_insert: Option<
        unsafe extern "C" fn(
            ctx: *mut c_void,
            key: *const u8,
            key_len: usize,
            now_ms: u64,
            expires_ms: u64,
        ) -> c_int,
    >,
}

/// The core's view of a caller's store.
pub(crate) struct CallbackStore(pub(crate) koosign_nonce_store);

impl NonceStore for CallbackStore {
    fn check_and_insert(
        &mut self,
        nonce: &[u8],
        now_ms: u64,
        expires_at_ms: u64,
    ) -> ks::Result<()> {
        let Some(f) = self.0.check_and_insert else {
            return Err(ks::Error::StoreUnavailable);
        };
        // SAFETY: the caller gave this callback and context for this
        // purpose (koosign_nonce_store's contract); `nonce` is valid for
        // `len` bytes during the call.
        let answer = unsafe {
            f(
                self.0.ctx,
                nonce.as_ptr(),
                nonce.len(),
                now_ms,
                expires_at_ms,
            )
        };
        match answer {
            KOOSIGN_STORE_FRESH => Ok(()),
            KOOSIGN_STORE_REPLAYED => Err(ks::Error::ReplayedNonce),
            KOOSIGN_STORE_FULL => Err(ks::Error::NonceStoreFull),
            _ => Err(ks::Error::StoreUnavailable),
        }
    }
}

/// An in-process replay store for koosign_merchant_verify (through
/// koosign_nonce_cache_store) and the one-shot verifiers
/// koosign_verify_v2, koosign_verify_v2_query, koosign_verify_v1 and
/// koosign_verify_v1_json: opaque, created by koosign_nonce_cache_new,
/// freed by koosign_nonce_cache_free. One cache may serve every scheme
/// (a V1 token is recorded as `v1:` + token). Thread-safe: an internal
/// mutex, taken only to record an entry, after the signature and the
/// window have been checked without it. It holds a SHA-256 of each nonce
/// (40 bytes per entry) until the request's timestamp leaves the window
/// and never forgets an unexpired nonce (when full: KOOSIGN_NONCE_STORE_FULL,
/// answer `000005`). Processes that do not share memory (PHP-FPM workers,
/// several servers) need a shared store: a koosign_nonce_store of their own
/// (README: Redis).
pub struct koosign_nonce_cache {
    inner: Mutex<Slots>,
}

/// The core's `NonceSlots` over a leaked slice that `Drop` gives back.
struct Slots {
    store: Option<NonceSlots<'static>>,
    memory: *mut [NonceSlot],
}

// SAFETY: `memory` is owned by this value alone (only `store` refers to
// it); the mutex around `Slots` serialises every access.
unsafe impl Send for Slots {}

impl Drop for Slots {
    fn drop(&mut self) {
        // The only reference into `memory` goes first.
        self.store = None;
        // SAFETY: `memory` came from Box::into_raw in `new_cache`, is freed
        // once, and nothing refers to it any more.
        drop(unsafe { Box::from_raw(self.memory) });
    }
}

fn new_cache(capacity: usize) -> Option<Box<koosign_nonce_cache>> {
    if capacity == 0 {
        return None;
    }
    // try_reserve: an impossible capacity is an error, never an abort
    // across the FFI boundary.
    let mut v: Vec<NonceSlot> = Vec::new();
    v.try_reserve_exact(capacity).ok()?;
    v.resize(capacity, NonceSlot::EMPTY);
    let memory = Box::into_raw(v.into_boxed_slice());
    // SAFETY: just allocated, uniquely owned by the `Slots` built here,
    // which drops this reference before freeing it.
    let slice: &'static mut [NonceSlot] = unsafe { &mut *memory };
    Some(Box::new(koosign_nonce_cache {
        inner: Mutex::new(Slots {
            store: Some(NonceSlots::new(slice)),
            memory,
        }),
    }))
}

/// Creates a nonce cache holding `capacity` nonces (40 bytes each,
/// allocated now, never again). Size it for the notifications received in
/// two windows: 2 minutes at the V2 ±60 s, 10 minutes at the V1 ±5 min
/// when V1 tokens are recorded in it too.
///
/// - `capacity`: at least 1.
/// - `out`: receives the new cache (NULL on error). The caller owns it and
///   frees it with koosign_nonce_cache_free.
///
/// Returns KOOSIGN_OK, KOOSIGN_NULL_PARAMETER (`out`),
/// KOOSIGN_INVALID_ARGUMENT (capacity 0, or more than the memory the
/// system gives), KOOSIGN_PANIC.
///
/// # Safety
/// `out` NULL or valid for writing a pointer.
#[no_mangle]
pub unsafe extern "C" fn koosign_nonce_cache_new(
    capacity: usize,
    out: *mut *mut koosign_nonce_cache,
) -> koosign_status {
    boundary(|| {
        if out.is_null() {
            return Err(koosign_status::KOOSIGN_NULL_PARAMETER);
        }
        // SAFETY: non-NULL and writable per the contract.
        unsafe { out.write(core::ptr::null_mut()) };
        let cache = new_cache(capacity).ok_or(koosign_status::KOOSIGN_INVALID_ARGUMENT)?;
        // SAFETY: as above. Ownership of the box passes to the caller, who
        // returns it through koosign_nonce_cache_free.
        unsafe { out.write(Box::into_raw(cache)) };
        Ok(())
    })
}

/// Frees a cache from koosign_nonce_cache_new. NULL is a no-op.
///
/// # Safety
/// `cache` NULL or a cache from koosign_nonce_cache_new not yet freed, and
/// not in use by another thread.
#[no_mangle]
pub unsafe extern "C" fn koosign_nonce_cache_free(cache: *mut koosign_nonce_cache) {
    let _ = boundary(|| {
        if !cache.is_null() {
            // SAFETY: the pointer came from Box::into_raw in
            // koosign_nonce_cache_new and is freed once (the contract).
            drop(unsafe { Box::from_raw(cache) });
        }
        Ok(())
    });
}

/// The number of nonces `cache` can hold (the capacity it was created
/// with); 0 for NULL.
///
/// # Safety
/// `cache` NULL or a live cache.
#[no_mangle]
pub unsafe extern "C" fn koosign_nonce_cache_capacity(cache: *const koosign_nonce_cache) -> usize {
    // SAFETY: NULL or live per the contract.
    unsafe { read(cache, NonceSlots::capacity) }
}

/// The number of nonces `cache` holds now (expired ones included until they
/// are evicted to make room); 0 for NULL.
///
/// # Safety
/// `cache` NULL or a live cache.
#[no_mangle]
pub unsafe extern "C" fn koosign_nonce_cache_len(cache: *const koosign_nonce_cache) -> usize {
    // SAFETY: NULL or live per the contract.
    unsafe { read(cache, NonceSlots::len) }
}

/// # Safety
/// `cache` NULL or live.
unsafe fn read(cache: *const koosign_nonce_cache, f: fn(&NonceSlots<'static>) -> usize) -> usize {
    std::panic::catch_unwind(|| {
        // SAFETY: NULL or live per the contract.
        unsafe { cache.as_ref() }.map_or(0, |c| {
            let g = c.inner.lock().unwrap_or_else(|p| p.into_inner());
            g.store.as_ref().map_or(0, f)
        })
    })
    .unwrap_or(0)
}

/// The koosign_nonce_store of `cache`, for koosign_merchant_verify: its
/// `ctx` is `cache` and its callback records in it. Valid while `cache` is.
///
/// Returns KOOSIGN_OK, KOOSIGN_NULL_PARAMETER (`cache` or `out`),
/// KOOSIGN_PANIC.
///
/// # Safety
/// `cache` NULL or a live cache; `out` NULL or valid for a write.
#[no_mangle]
pub unsafe extern "C" fn koosign_nonce_cache_store(
    cache: *mut koosign_nonce_cache,
    out: *mut koosign_nonce_store,
) -> koosign_status {
    boundary(|| {
        if cache.is_null() || out.is_null() {
            return Err(koosign_status::KOOSIGN_NULL_PARAMETER);
        }
        // SAFETY: non-NULL and writable per the contract.
        unsafe {
            out.write(koosign_nonce_store {
                ctx: cache.cast(),
                check_and_insert: Some(cache_check_and_insert),
            })
        };
        Ok(())
    })
}

/// The callback of koosign_nonce_cache_store.
unsafe extern "C" fn cache_check_and_insert(
    ctx: *mut c_void,
    key: *const u8,
    key_len: usize,
    now_ms: u64,
    expires_ms: u64,
) -> c_int {
    std::panic::catch_unwind(|| {
        // SAFETY: `ctx` is the live cache koosign_nonce_cache_store put
        // there; `key` is valid for `key_len` bytes (the core's slice).
        let (cache, key) = unsafe {
            (
                ctx.cast_const().cast::<koosign_nonce_cache>().as_ref(),
                crate::ffi::bytes(key, key_len),
            )
        };
        let (Some(cache), Ok(key)) = (cache, key) else {
            return KOOSIGN_STORE_DOWN;
        };
        match LockedStore(cache).check_and_insert(key, now_ms, expires_ms) {
            Ok(()) => KOOSIGN_STORE_FRESH,
            Err(ks::Error::ReplayedNonce) => KOOSIGN_STORE_REPLAYED,
            Err(ks::Error::NonceStoreFull) => KOOSIGN_STORE_FULL,
            Err(_) => KOOSIGN_STORE_DOWN,
        }
    })
    .unwrap_or(KOOSIGN_STORE_DOWN)
}

/// The replay store the core is given for `cache` (or `None` without a
/// cache). The cache's mutex is taken only inside `check_and_insert`, which
/// the core calls after the MAC and the window have passed: verifying
/// (HMAC over a body of any size) never holds the lock, so threads sharing
/// one cache are serialised only while an entry is recorded.
///
/// `replay` names the policy of a one-shot verifier: KOOSIGN_REPLAY_STORE
/// with a cache (NULL is KOOSIGN_NULL_PARAMETER), KOOSIGN_REPLAY_UNCHECKED
/// with NULL (`None`: no replay check, by name); anything else (a cache
/// with UNCHECKED, KOOSIGN_REPLAY_DEFERRED — a one-shot returns no replay
/// key, use koosign_merchant_verify — or an unknown value) is
/// KOOSIGN_INVALID_ARGUMENT.
pub(crate) fn store_of(
    replay: koosign_replay,
    cache: Option<&koosign_nonce_cache>,
) -> Result<Option<LockedStore<'_>>, koosign_status> {
    match (replay, cache) {
        (KOOSIGN_REPLAY_STORE, Some(c)) => Ok(Some(LockedStore(c))),
        (KOOSIGN_REPLAY_STORE, None) => Err(koosign_status::KOOSIGN_NULL_PARAMETER),
        (KOOSIGN_REPLAY_UNCHECKED, None) => Ok(None),
        _ => Err(koosign_status::KOOSIGN_INVALID_ARGUMENT),
    }
}

/// A [`NonceStore`] over a shared cache that locks per call.
pub(crate) struct LockedStore<'a>(&'a koosign_nonce_cache);

impl NonceStore for LockedStore<'_> {
    fn check_and_insert(
        &mut self,
        nonce: &[u8],
        now_ms: u64,
        expires_at_ms: u64,
    ) -> ks::Result<()> {
        // A poisoned lock means a panic happened while the cache was held;
        // the core's store is a plain array whose every state is valid, so
        // keep using it.
        let mut guard = self.0.inner.lock().unwrap_or_else(|p| p.into_inner());
        match guard.store.as_mut() {
            Some(s) => s.check_and_insert(nonce, now_ms, expires_at_ms),
            None => Err(ks::Error::StoreUnavailable),
        }
    }
}
