//! The caller-owned nonce cache for V2 replay protection: the core's
//! fixed-capacity `NonceCache` behind a mutex.

use crate::ffi::{boundary, Res};
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

/// An in-process nonce cache for koosign_verify_v2 (replay protection):
/// opaque, created by koosign_nonce_cache_new, freed by
/// koosign_nonce_cache_free. Thread-safe (an internal mutex): one cache may
/// be shared by every thread of a process. It holds a SHA-256 of each
/// nonce (40 bytes per entry) until the nonce's timestamp leaves the
/// window; it never forgets an unexpired nonce (when full, verification
/// fails with KOOSIGN_NONCE_STORE_FULL). Processes that do not share memory
/// (PHP-FPM workers, several servers) need a shared store instead, e.g. a
/// Redis SET NX with expiry, checked after a successful verification.
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
/// for the notifications received in two windows (2 minutes at ±60 s).
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

/// Calls `f` with the cache's store locked (or `None` without a cache).
pub(crate) fn with_store<R>(
    cache: Option<&koosign_nonce_cache>,
    f: impl FnOnce(Option<&mut dyn NonceStore>) -> Res<R>,
) -> Res<R> {
    match cache {
        None => f(None),
        Some(c) => {
            // A poisoned lock means a panic happened while the cache was
            // held; the core's cache is a plain vector whose every state is
            // valid, so keep using it.
            let mut guard = c.inner.lock().unwrap_or_else(|p| p.into_inner());
            f(Some(guard.store()))
        }
    }
}
