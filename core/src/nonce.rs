//! Replay protection: a small trait for nonce stores and three in-process
//! stores that share one eviction rule: [`NonceCache`] (capacity fixed at
//! compile time), [`NonceSlots`] (over a caller-given slice, capacity chosen
//! at run time, no allocator) and, under the `alloc` feature, `NonceTable`
//! (`NonceTable::with_capacity(n)`).
//!
//! Every store keeps a nonce as its SHA-256 with its expiry, 40 bytes per
//! entry ([`NonceSlot`]), evicts expired entries when room is needed and
//! never forgets an unexpired one: a full store refuses with
//! [`Error::NonceStoreFull`] (fail closed).

use crate::error::{Error, Result};
use sha2::{Digest, Sha256};

/// A place that remembers nonces until they expire.
///
/// Implement it over Redis, a database or a shared map when several servers
/// receive notifications; [`NonceCache`], [`NonceSlots`] and `NonceTable`
/// are the in-process ones.
///
/// The verifiers call [`NonceStore::check_and_insert`] only for a request
/// whose signature and window passed, and refuse the request on any error
/// the store returns (fail closed): [`Error::ReplayedNonce`],
/// [`Error::NonceStoreFull`] and [`Error::StoreUnavailable`] are passed on
/// as they are; any other error a store returns is read as
/// `StoreUnavailable`.
pub trait NonceStore {
    /// Records `nonce` as used until `expires_at_ms` (Unix ms).
    ///
    /// Returns [`Error::ReplayedNonce`] if the nonce is already recorded and
    /// not expired at `now_ms`, [`Error::NonceStoreFull`] if it cannot be
    /// recorded without forgetting an unexpired nonce, and
    /// [`Error::StoreUnavailable`] if the store cannot be reached (a
    /// database that is down): never `Ok` for a nonce it could not check.
    fn check_and_insert(&mut self, nonce: &[u8], now_ms: u64, expires_at_ms: u64) -> Result<()>;
}

impl<S: NonceStore + ?Sized> NonceStore for &mut S {
    fn check_and_insert(&mut self, nonce: &[u8], now_ms: u64, expires_at_ms: u64) -> Result<()> {
        (**self).check_and_insert(nonce, now_ms, expires_at_ms)
    }
}

/// Records a verified request's nonce: the store's answer, with any error
/// other than the three a store may give read as `StoreUnavailable` (a
/// store never makes a verifier accept, nor answer something else).
pub(crate) fn record(store: &mut dyn NonceStore, nonce: &[u8], now_ms: u64, expires_at_ms: u64) -> Result<()> {
    match store.check_and_insert(nonce, now_ms, expires_at_ms) {
        Ok(()) => Ok(()),
        Err(e @ (Error::ReplayedNonce | Error::NonceStoreFull | Error::StoreUnavailable)) => Err(e),
        Err(_) => Err(Error::StoreUnavailable),
    }
}

/// The default capacity of a merchant's in-process replay store, in
/// entries (40 bytes each in `NonceTable` (feature `alloc`), about 10 MiB): about 4,000
/// S2 requests a second sustained over their ±60 s window. `koosign serve`
/// and every binding's default in-memory store use it, so none invents its
/// own; a full store refuses with `NonceStoreFull` (`000005`).
pub const DEFAULT_CAPACITY: usize = 262_144;

/// One entry of an in-process nonce store: a nonce's SHA-256 and its
/// expiry (40 bytes). Give [`NonceSlots::new`] a slice of them,
/// e.g. `[NonceSlot::EMPTY; 4096]`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct NonceSlot {
    digest: [u8; 32],
    expires_at_ms: u64,
}

impl NonceSlot {
    /// An unused slot.
    pub const EMPTY: NonceSlot = NonceSlot { digest: [0; 32], expires_at_ms: 0 };
}

impl Default for NonceSlot {
    fn default() -> Self {
        Self::EMPTY
    }
}

impl core::fmt::Debug for NonceSlot {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("NonceSlot").field("expires_at_ms", &self.expires_at_ms).finish_non_exhaustive()
    }
}

fn digest(nonce: &[u8]) -> [u8; 32] {
    Sha256::digest(nonce).into()
}

/// The one eviction rule, over `slots[..*len]` (the used entries, packed).
fn check_and_insert_in(slots: &mut [NonceSlot], len: &mut usize, nonce: &[u8], now_ms: u64, expires_at_ms: u64) -> Result<()> {
    let h = digest(nonce);
    if let Some(pos) = slots[..*len].iter().position(|s| s.digest == h) {
        if slots[pos].expires_at_ms >= now_ms {
            return Err(Error::ReplayedNonce);
        }
        // Expired: forget it (swap-remove) and record it again below.
        *len -= 1;
        slots.swap(pos, *len);
    }
    if *len == slots.len() {
        evict_in(slots, len, now_ms);
    }
    if *len == slots.len() {
        return Err(Error::NonceStoreFull);
    }
    slots[*len] = NonceSlot { digest: h, expires_at_ms };
    *len += 1;
    Ok(())
}

fn evict_in(slots: &mut [NonceSlot], len: &mut usize, now_ms: u64) {
    let mut keep = 0;
    for i in 0..*len {
        if slots[i].expires_at_ms >= now_ms {
            slots[keep] = slots[i];
            keep += 1;
        }
    }
    for s in &mut slots[keep..*len] {
        *s = NonceSlot::EMPTY;
    }
    *len = keep;
}

fn contains_in(slots: &[NonceSlot], nonce: &[u8], now_ms: u64) -> bool {
    let h = digest(nonce);
    slots.iter().any(|s| s.digest == h && s.expires_at_ms >= now_ms)
}

/// A fixed-capacity nonce cache holding up to `N` nonces (each kept as its
/// SHA-256, 40 bytes per entry). Expired entries are evicted when room is
/// needed; an unexpired one is never forgotten: a full cache refuses with
/// [`Error::NonceStoreFull`]. For a capacity chosen at run time, see
/// [`NonceSlots`] (no allocator) or `NonceTable` (`alloc` feature).
#[derive(Clone)]
pub struct NonceCache<const N: usize> {
    slots: [NonceSlot; N],
    len: usize,
}

impl<const N: usize> Default for NonceCache<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> core::fmt::Debug for NonceCache<N> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("NonceCache").field("len", &self.len).field("capacity", &N).finish()
    }
}

impl<const N: usize> NonceCache<N> {
    /// An empty cache.
    pub const fn new() -> Self {
        NonceCache { slots: [NonceSlot::EMPTY; N], len: 0 }
    }

    /// Entries currently held (expired ones included until evicted).
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when nothing is held.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The fixed capacity `N`.
    pub const fn capacity(&self) -> usize {
        N
    }

    /// True if `nonce` is held and unexpired at `now_ms`.
    pub fn contains(&self, nonce: &[u8], now_ms: u64) -> bool {
        contains_in(&self.slots[..self.len], nonce, now_ms)
    }

    /// Drops every entry expired at `now_ms`.
    pub fn evict_expired(&mut self, now_ms: u64) {
        evict_in(&mut self.slots, &mut self.len, now_ms);
    }
}

impl<const N: usize> NonceStore for NonceCache<N> {
    fn check_and_insert(&mut self, nonce: &[u8], now_ms: u64, expires_at_ms: u64) -> Result<()> {
        check_and_insert_in(&mut self.slots, &mut self.len, nonce, now_ms, expires_at_ms)
    }
}

/// A nonce store over a caller-given slice of [`NonceSlot`]s: the capacity
/// is the slice's length, chosen at run time, and nothing is allocated.
/// Same rule as [`NonceCache`] (expired entries evicted when room is
/// needed; a store full of unexpired nonces refuses with
/// [`Error::NonceStoreFull`]).
///
/// ```
/// use koosign::nonce::{NonceSlot, NonceSlots, NonceStore};
/// let mut memory = [NonceSlot::EMPTY; 64];
/// let mut store = NonceSlots::new(&mut memory);
/// store.check_and_insert(b"n1", 0, 60_000)?;
/// assert_eq!(store.check_and_insert(b"n1", 1, 60_001), Err(koosign::Error::ReplayedNonce));
/// # Ok::<(), koosign::Error>(())
/// ```
pub struct NonceSlots<'a> {
    slots: &'a mut [NonceSlot],
    len: usize,
}

impl core::fmt::Debug for NonceSlots<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("NonceSlots").field("len", &self.len).field("capacity", &self.slots.len()).finish()
    }
}

impl<'a> NonceSlots<'a> {
    /// An empty store over `slots` (every slot is cleared). A zero-length
    /// slice gives a store that refuses every nonce (`NonceStoreFull`).
    pub fn new(slots: &'a mut [NonceSlot]) -> Self {
        for s in slots.iter_mut() {
            *s = NonceSlot::EMPTY;
        }
        NonceSlots { slots, len: 0 }
    }

    /// Entries currently held (expired ones included until evicted).
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when nothing is held.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The capacity: the slice's length.
    pub fn capacity(&self) -> usize {
        self.slots.len()
    }

    /// True if `nonce` is held and unexpired at `now_ms`.
    pub fn contains(&self, nonce: &[u8], now_ms: u64) -> bool {
        contains_in(&self.slots[..self.len], nonce, now_ms)
    }

    /// Drops every entry expired at `now_ms`.
    pub fn evict_expired(&mut self, now_ms: u64) {
        evict_in(self.slots, &mut self.len, now_ms);
    }
}

impl NonceStore for NonceSlots<'_> {
    fn check_and_insert(&mut self, nonce: &[u8], now_ms: u64, expires_at_ms: u64) -> Result<()> {
        check_and_insert_in(self.slots, &mut self.len, nonce, now_ms, expires_at_ms)
    }
}

#[cfg(feature = "alloc")]
pub use table::{NonceTable, MAX_TABLE_CAPACITY};

#[cfg(feature = "alloc")]
mod table {
    use super::*;
    use alloc::boxed::Box;
    use alloc::vec;

    /// No heap position: an empty index cell.
    const FREE: u32 = u32::MAX;

    /// The most entries a [`NonceTable`] holds (positions are `u32`).
    pub const MAX_TABLE_CAPACITY: usize = (u32::MAX - 1) as usize;

    /// One held nonce: its slot and the index cell that points at it.
    #[derive(Clone, Copy)]
    struct Entry {
        slot: NonceSlot,
        cell: u32,
    }

    /// A nonce store of a capacity chosen at run time, allocated once
    /// (`alloc` feature): [`NonceTable::with_capacity`]. No operation
    /// allocates after that. Same rule as [`NonceCache`] (the same answers
    /// for the same calls), in O(1) expected time per operation instead of
    /// a scan: the entries form a binary min-heap on their expiry (eviction
    /// pops the expired ones from its top, O(log n) each), and an open-
    /// addressing index (linear probing, at most half full) maps a nonce's
    /// digest to its heap position. The index hashes with the digest's
    /// first 8 bytes: the digest is SHA-256 of a nonce that passed its MAC,
    /// so nobody without the key chooses where it lands.
    #[derive(Clone)]
    pub struct NonceTable {
        heap: Box<[Entry]>,
        index: Box<[u32]>,
        len: usize,
    }

    impl core::fmt::Debug for NonceTable {
        fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
            f.debug_struct("NonceTable").field("len", &self.len).field("capacity", &self.heap.len()).finish()
        }
    }

    fn home(d: &[u8; 32], mask: usize) -> usize {
        let mut b = [0u8; 8];
        b.copy_from_slice(&d[..8]);
        (u64::from_le_bytes(b) as usize) & mask
    }

    impl NonceTable {
        /// An empty table of `capacity` entries (40 bytes each, plus an
        /// index of 8 to 16 bytes per entry), allocated now. A capacity of 0
        /// refuses every nonce (`NonceStoreFull`); one over
        /// [`MAX_TABLE_CAPACITY`] is that many.
        pub fn with_capacity(capacity: usize) -> Self {
            let capacity = capacity.min(MAX_TABLE_CAPACITY);
            let cells = capacity.saturating_mul(2).max(1).next_power_of_two();
            NonceTable {
                heap: vec![Entry { slot: NonceSlot::EMPTY, cell: FREE }; capacity].into_boxed_slice(),
                index: vec![FREE; cells].into_boxed_slice(),
                len: 0,
            }
        }

        /// Entries currently held (expired ones included until evicted).
        pub fn len(&self) -> usize {
            self.len
        }

        /// True when nothing is held.
        pub fn is_empty(&self) -> bool {
            self.len == 0
        }

        /// The capacity given to [`NonceTable::with_capacity`].
        pub fn capacity(&self) -> usize {
            self.heap.len()
        }

        /// True if `nonce` is held and unexpired at `now_ms`.
        pub fn contains(&self, nonce: &[u8], now_ms: u64) -> bool {
            self.find(&digest(nonce)).is_some_and(|p| self.heap[p].slot.expires_at_ms >= now_ms)
        }

        /// Drops every entry expired at `now_ms`.
        pub fn evict_expired(&mut self, now_ms: u64) {
            while self.len > 0 && self.heap[0].slot.expires_at_ms < now_ms {
                self.remove(0);
            }
        }

        fn mask(&self) -> usize {
            self.index.len() - 1
        }

        /// The heap position of `d`, if held.
        fn find(&self, d: &[u8; 32]) -> Option<usize> {
            let mask = self.mask();
            let mut i = home(d, mask);
            loop {
                let v = self.index[i];
                if v == FREE {
                    return None;
                }
                if self.heap[v as usize].slot.digest == *d {
                    return Some(v as usize);
                }
                i = (i + 1) & mask;
            }
        }

        fn swap(&mut self, a: usize, b: usize) {
            self.heap.swap(a, b);
            self.index[self.heap[a].cell as usize] = a as u32;
            self.index[self.heap[b].cell as usize] = b as u32;
        }

        fn sift_up(&mut self, mut p: usize) {
            while p > 0 {
                let parent = (p - 1) / 2;
                if self.heap[parent].slot.expires_at_ms <= self.heap[p].slot.expires_at_ms {
                    break;
                }
                self.swap(p, parent);
                p = parent;
            }
        }

        fn sift_down(&mut self, mut p: usize) {
            loop {
                let (l, r) = (2 * p + 1, 2 * p + 2);
                let mut m = p;
                if l < self.len && self.heap[l].slot.expires_at_ms < self.heap[m].slot.expires_at_ms {
                    m = l;
                }
                if r < self.len && self.heap[r].slot.expires_at_ms < self.heap[m].slot.expires_at_ms {
                    m = r;
                }
                if m == p {
                    return;
                }
                self.swap(p, m);
                p = m;
            }
        }

        /// Empties index cell `hole` (backward-shift deletion: the cells
        /// after it that probed past it move back, so no tombstones).
        fn unindex(&mut self, hole: usize) {
            let mask = self.mask();
            let (mut i, mut j) = (hole, hole);
            loop {
                j = (j + 1) & mask;
                let v = self.index[j];
                if v == FREE {
                    break;
                }
                let k = home(&self.heap[v as usize].slot.digest, mask);
                // `v` stays when its home lies cyclically in (i, j].
                let stays = if i <= j { i < k && k <= j } else { i < k || k <= j };
                if !stays {
                    self.index[i] = v;
                    self.heap[v as usize].cell = i as u32;
                    i = j;
                }
            }
            self.index[i] = FREE;
        }

        /// Forgets the entry at heap position `p`.
        fn remove(&mut self, p: usize) {
            self.unindex(self.heap[p].cell as usize);
            let last = self.len - 1;
            if p != last {
                self.heap[p] = self.heap[last];
                self.index[self.heap[p].cell as usize] = p as u32;
            }
            self.heap[last] = Entry { slot: NonceSlot::EMPTY, cell: FREE };
            self.len = last;
            if p < self.len {
                self.sift_down(p);
                self.sift_up(p);
            }
        }

        fn insert(&mut self, slot: NonceSlot) {
            let mask = self.mask();
            let mut i = home(&slot.digest, mask);
            while self.index[i] != FREE {
                i = (i + 1) & mask;
            }
            let p = self.len;
            self.index[i] = p as u32;
            self.heap[p] = Entry { slot, cell: i as u32 };
            self.len += 1;
            self.sift_up(p);
        }
    }

    impl NonceStore for NonceTable {
        fn check_and_insert(&mut self, nonce: &[u8], now_ms: u64, expires_at_ms: u64) -> Result<()> {
            let h = digest(nonce);
            if let Some(p) = self.find(&h) {
                if self.heap[p].slot.expires_at_ms >= now_ms {
                    return Err(Error::ReplayedNonce);
                }
                // Expired: forget it and record it again below.
                self.remove(p);
            }
            if self.len == self.heap.len() {
                self.evict_expired(now_ms);
            }
            if self.len == self.heap.len() {
                return Err(Error::NonceStoreFull);
            }
            self.insert(NonceSlot { digest: h, expires_at_ms });
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn replay_and_expiry(c: &mut dyn NonceStore) {
        c.check_and_insert(b"a", 0, 100).unwrap();
        assert_eq!(c.check_and_insert(b"a", 50, 150), Err(Error::ReplayedNonce));
        c.check_and_insert(b"b", 50, 150).unwrap();
        assert_eq!(c.check_and_insert(b"c", 60, 160), Err(Error::NonceStoreFull));
        // "a" expires after 100: room again, and "a" may be reused.
        c.check_and_insert(b"c", 101, 200).unwrap();
        c.check_and_insert(b"a", 151, 250).unwrap();
    }

    #[test]
    fn every_store_has_the_same_rule() {
        let mut c = NonceCache::<2>::new();
        replay_and_expiry(&mut c);
        assert!(c.contains(b"a", 151));
        assert_eq!(c.len(), 2);
        let mut mem = [NonceSlot::EMPTY; 2];
        let mut s = NonceSlots::new(&mut mem);
        replay_and_expiry(&mut s);
        assert!(s.contains(b"a", 151));
        assert_eq!((s.len(), s.capacity()), (2, 2));
        let mut none = NonceSlots::new(&mut []);
        assert_eq!(none.check_and_insert(b"a", 0, 1), Err(Error::NonceStoreFull));
        #[cfg(feature = "alloc")]
        {
            let mut t = NonceTable::with_capacity(2);
            replay_and_expiry(&mut t);
            assert!(t.contains(b"a", 151));
            assert_eq!((t.len(), t.capacity()), (2, 2));
            let mut none = NonceTable::with_capacity(0);
            assert_eq!(none.check_and_insert(b"a", 0, 1), Err(Error::NonceStoreFull));
        }
    }

    /// The indexed table gives the scanning cache's answers, call for call
    /// (a long pseudo-random run: replays, expiries, full stores, evictions).
    #[cfg(feature = "alloc")]
    #[test]
    fn the_table_answers_as_the_cache() {
        let mut cache = NonceCache::<16>::new();
        let mut table = NonceTable::with_capacity(16);
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut now = 1_000u64;
        let mut seen = [0u32; 3]; // Ok, ReplayedNonce, NonceStoreFull
        for step in 0..200_000u32 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            now += x % 7;
            let nonce = [(x >> 8) as u8 % 40];
            let exp = (now + (x >> 16) % 400).saturating_sub(20);
            match (x >> 32) % 8 {
                0 => {
                    cache.evict_expired(now);
                    table.evict_expired(now);
                }
                1 => assert_eq!(cache.contains(&nonce, now), table.contains(&nonce, now), "step {step}"),
                _ => {
                    let got = table.check_and_insert(&nonce, now, exp);
                    assert_eq!(cache.check_and_insert(&nonce, now, exp), got, "step {step}");
                    seen[match got {
                        Ok(()) => 0,
                        Err(Error::ReplayedNonce) => 1,
                        _ => 2,
                    }] += 1;
                }
            }
            assert_eq!(cache.len(), table.len(), "step {step}");
        }
        assert!(seen.iter().all(|&n| n > 1000), "every answer met often: {seen:?}");
    }

    struct Odd;
    impl NonceStore for Odd {
        fn check_and_insert(&mut self, _: &[u8], _: u64, _: u64) -> Result<()> {
            Err(Error::SignatureMismatch)
        }
    }

    #[test]
    fn a_store_error_is_never_anything_but_a_refusal() {
        assert_eq!(record(&mut Odd, b"n", 0, 1), Err(Error::StoreUnavailable));
    }
}
