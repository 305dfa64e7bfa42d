//! The caller-owned nonce cache for V1 and V2 replay protection: the
//! core's fixed-capacity `NonceCache` behind a mutex.

use crate::ffi::boundary;
use crate::status::koosign_status;
use ks::{NonceCache, NonceStore};
use std::sync::Mutex;

/// Largest capacity koosign_nonce_cache_new accepts.
pub const KOOSIGN_NONCE_CACHE_MAX_CAPACITY: usize = 16384;

enum Tier {
    Small(Box<NonceCache<64>>),
    Medium(Box<NonceCache<1024>>),
    Large(Box<NonceCache<KOOSIGN_NONCE_CACHE_MAX_CAPACITY>>),
}

impl Tier {
    fn store(&mut self) -> &mut dyn NonceStore {
        match self {
            Tier::Small(c) => &mut **c,
            Tier::Medium(c) => &mut **c,
            Tier::Large(c) => &mut **c,
        }
    }
    fn capacity(&self) -> usize {
        match self {
            Tier::Small(c) => c.capacity(),
            Tier::Medium(c) => c.capacity(),
            Tier::Large(c) => c.capacity(),
        }
    }
    fn len(&self) -> usize {
        match self {
            Tier::Small(c) => c.len(),
            Tier::Medium(c) => c.len(),
            Tier::Large(c) => c.len(),
        }
    }
}

/// An in-process replay store for koosign_verify_v2, koosign_verify_v2_query
/// (the V2 `nonce`), koosign_verify_v1 and koosign_verify_v1_json (the V1
/// `authToken`, SCHEMES.md S1 item 8): opaque, created by
/// koosign_nonce_cache_new, freed by koosign_nonce_cache_free. One cache
/// may serve both schemes: the core records a V1 token as `v1:` + token,
/// so it never collides with a V2 nonce. Thread-safe (an internal mutex,
/// taken only to record an entry, after the signature and the window have
/// been checked without it): one cache may be shared by every thread of a
/// process. It holds a SHA-256 of each nonce (40 bytes per entry) until
/// the request's timestamp leaves the window; it never forgets an
/// unexpired nonce (when full, verification fails with
/// KOOSIGN_NONCE_STORE_FULL, answer `000005`). Processes that do not share
/// memory (PHP-FPM workers, several servers) need a shared store instead,
/// e.g. a Redis SET NX with expiry, checked after a successful
/// verification.
pub struct koosign_nonce_cache {
    inner: Mutex<Tier>,
}

// Built outside any caller's frame so the large variant goes straight to
// the heap in optimised builds.
#[inline(never)]
fn new_cache(capacity: usize) -> Option<Box<koosign_nonce_cache>> {
    let tier = match capacity {
        1..=64 => Tier::Small(Box::default()),
        65..=1024 => Tier::Medium(Box::default()),
        1025..=KOOSIGN_NONCE_CACHE_MAX_CAPACITY => Tier::Large(Box::default()),
        _ => return None,
    };
    Some(Box::new(koosign_nonce_cache {
        inner: Mutex::new(tier),
    }))
}

/// Creates a nonce cache holding at least `capacity` nonces (rounded up to
/// 64, 1024 or 16384; koosign_nonce_cache_capacity tells which). Size it
/// for the notifications received in two windows: 2 minutes at the V2
/// ±60 s, 10 minutes at the V1 ±5 min (KOOSIGN_V1_DEFAULT_WINDOW_MS) when
/// V1 tokens are recorded in it too.
///
/// - `capacity`: 1 to KOOSIGN_NONCE_CACHE_MAX_CAPACITY (16384).
/// - `out`: receives the new cache (NULL on error). The caller owns it and
///   frees it with koosign_nonce_cache_free.
///
/// Returns KOOSIGN_OK, KOOSIGN_NULL_PARAMETER (`out`),
/// KOOSIGN_INVALID_ARGUMENT (capacity 0 or over 16384), KOOSIGN_PANIC.
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

/// The number of nonces `cache` can hold (64, 1024 or 16384); 0 for NULL.
///
/// # Safety
/// `cache` NULL or a live cache.
#[no_mangle]
pub unsafe extern "C" fn koosign_nonce_cache_capacity(cache: *const koosign_nonce_cache) -> usize {
    // SAFETY: NULL or live per the contract.
    unsafe { read(cache, Tier::capacity) }
}

/// The number of nonces `cache` holds now (expired ones included until they
/// are evicted to make room); 0 for NULL.
///
/// # Safety
/// `cache` NULL or a live cache.
#[no_mangle]
pub unsafe extern "C" fn koosign_nonce_cache_len(cache: *const koosign_nonce_cache) -> usize {
    // SAFETY: NULL or live per the contract.
    unsafe { read(cache, Tier::len) }
}

/// # Safety
/// `cache` NULL or live.
unsafe fn read(cache: *const koosign_nonce_cache, f: fn(&Tier) -> usize) -> usize {
    std::panic::catch_unwind(|| {
        // SAFETY: NULL or live per the contract.
        unsafe { cache.as_ref() }
            .map_or(0, |c| f(&c.inner.lock().unwrap_or_else(|p| p.into_inner())))
    })
    .unwrap_or(0)
}

/// The replay store the core is given for `cache` (or `None` without a
/// cache). The cache's mutex is taken only inside `check_and_insert`, which
/// the core calls after the MAC and the window have passed: verifying
/// (HMAC over a body of any size) never holds the lock, so threads sharing
/// one cache are serialised only while an entry is recorded.
pub(crate) fn store_of(cache: Option<&koosign_nonce_cache>) -> Option<LockedStore<'_>> {
    cache.map(LockedStore)
}

/// A [`NonceStore`] over a shared cache that locks per call.
pub(crate) struct LockedStore<'a>(&'a koosign_nonce_cache);

impl NonceStore for LockedStore<'_> {
    fn check_and_insert(&mut self, nonce: &[u8], now_ms: u64, expires_at_ms: u64) -> ks::Result<()> {
        // A poisoned lock means a panic happened while the cache was held;
        // the core's cache is a plain vector whose every state is valid, so
        // keep using it.
        let mut guard = self.0.inner.lock().unwrap_or_else(|p| p.into_inner());
        guard.store().check_and_insert(nonce, now_ms, expires_at_ms)
    }
}
