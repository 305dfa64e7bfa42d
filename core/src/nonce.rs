//! Replay protection: a small trait for nonce stores and a fixed-capacity,
//! allocation-free cache that evicts by expiry.

use crate::error::{Error, Result};
use sha2::{Digest, Sha256};

/// A place that remembers nonces until they expire.
///
/// Implement it over Redis, a database or a shared map when several servers
/// receive notifications; [`NonceCache`] is the in-process one.
pub trait NonceStore {
    /// Records `nonce` as used until `expires_at_ms` (Unix ms).
    ///
    /// Returns [`Error::ReplayedNonce`] if the nonce is already recorded and
    /// not expired at `now_ms`, and [`Error::NonceStoreFull`] if it cannot be
    /// recorded without forgetting an unexpired nonce.
    fn check_and_insert(&mut self, nonce: &[u8], now_ms: u64, expires_at_ms: u64) -> Result<()>;
}

impl<S: NonceStore + ?Sized> NonceStore for &mut S {
    fn check_and_insert(&mut self, nonce: &[u8], now_ms: u64, expires_at_ms: u64) -> Result<()> {
        (**self).check_and_insert(nonce, now_ms, expires_at_ms)
    }
}

/// A fixed-capacity nonce cache holding up to `N` nonces (each kept as its
/// SHA-256, 40 bytes per entry). Expired entries are evicted when room is
/// needed; an unexpired one is never forgotten: a full cache refuses with
/// [`Error::NonceStoreFull`].
#[derive(Clone)]
pub struct NonceCache<const N: usize> {
    entries: heapless::Vec<([u8; 32], u64), N>,
}

impl<const N: usize> Default for NonceCache<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> core::fmt::Debug for NonceCache<N> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("NonceCache").field("len", &self.entries.len()).field("capacity", &N).finish()
    }
}

impl<const N: usize> NonceCache<N> {
    /// An empty cache.
    pub const fn new() -> Self {
        NonceCache { entries: heapless::Vec::new() }
    }

    /// Entries currently held (expired ones included until evicted).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// True when nothing is held.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The fixed capacity `N`.
    pub const fn capacity(&self) -> usize {
        N
    }

    /// True if `nonce` is held and unexpired at `now_ms`.
    pub fn contains(&self, nonce: &[u8], now_ms: u64) -> bool {
        let h = digest(nonce);
        self.entries.iter().any(|(d, exp)| *d == h && *exp >= now_ms)
    }

    /// Drops every entry expired at `now_ms`.
    pub fn evict_expired(&mut self, now_ms: u64) {
        self.entries.retain(|(_, exp)| *exp >= now_ms);
    }
}

fn digest(nonce: &[u8]) -> [u8; 32] {
    Sha256::digest(nonce).into()
}

impl<const N: usize> NonceStore for NonceCache<N> {
    fn check_and_insert(&mut self, nonce: &[u8], now_ms: u64, expires_at_ms: u64) -> Result<()> {
        let h = digest(nonce);
        if let Some(pos) = self.entries.iter().position(|(d, _)| *d == h) {
            if self.entries[pos].1 >= now_ms {
                return Err(Error::ReplayedNonce);
            }
            self.entries.swap_remove(pos);
        }
        if self.entries.is_full() {
            self.evict_expired(now_ms);
        }
        self.entries.push((h, expires_at_ms)).map_err(|_| Error::NonceStoreFull)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replay_and_expiry() {
        let mut c = NonceCache::<2>::new();
        c.check_and_insert(b"a", 0, 100).unwrap();
        assert_eq!(c.check_and_insert(b"a", 50, 150), Err(Error::ReplayedNonce));
        c.check_and_insert(b"b", 50, 150).unwrap();
        assert_eq!(c.check_and_insert(b"c", 60, 160), Err(Error::NonceStoreFull));
        // "a" expires after 100: room again, and "a" may be reused.
        c.check_and_insert(b"c", 101, 200).unwrap();
        c.check_and_insert(b"a", 151, 250).unwrap();
        assert!(c.contains(b"a", 151));
        assert_eq!(c.len(), 2);
    }
}
