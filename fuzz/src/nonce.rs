//! The nonce cache under arbitrary operation sequences, against a model:
//! it never exceeds its capacity, never forgets an unexpired nonce it had
//! room for, always detects a replay of an unexpired nonce, and refuses
//! (fails closed) only when it is full of unexpired nonces. The indexed
//! `NonceTable` (alloc) runs beside it and must answer exactly as it does.

use arbitrary::Arbitrary;
use koosign::{Error, NonceCache, NonceStore, NonceTable};
use std::collections::HashMap;

/// Capacity under test (small, so that it fills).
pub const CAP: usize = 8;

/// One operation; the clock only moves forward (by `advance` ms).
#[derive(Arbitrary, Debug, Clone, Copy)]
pub enum Op {
    /// `check_and_insert(nonce, now, now + ttl - 100)` (a `ttl` under 100
    /// inserts an already expired nonce).
    Insert { nonce: u8, long: bool, advance: u16, ttl: u16 },
    /// The same through `&mut dyn NonceStore` (and the `&mut S` impl).
    InsertDyn { nonce: u8, advance: u16, ttl: u16 },
    /// `contains(nonce, now)`.
    Contains { nonce: u8, long: bool, advance: u16 },
    /// `evict_expired(now)`.
    Evict { advance: u16 },
}

/// A start time and the operations.
#[derive(Arbitrary, Debug)]
pub struct Case {
    pub start: u64,
    pub ops: Vec<Op>,
}

fn nonce_bytes(id: u8, long: bool) -> Vec<u8> {
    let id = id % 16;
    if long {
        vec![id; 300]
    } else {
        vec![b'n', id]
    }
}

/// The `nonce_cache` target.
pub fn check(c: &Case) {
    let mut cache = NonceCache::<CAP>::new();
    assert_eq!(cache.capacity(), CAP);
    let mut table = NonceTable::with_capacity(CAP);
    // The model: every unexpired nonce the cache must still hold.
    let mut model: HashMap<Vec<u8>, u64> = HashMap::new();
    let mut now = c.start;
    for op in &c.ops {
        let (advance, nonce) = match *op {
            Op::Insert { advance, nonce, long, .. } | Op::Contains { advance, nonce, long } => {
                (advance, Some(nonce_bytes(nonce, long)))
            }
            Op::InsertDyn { advance, nonce, .. } => (advance, Some(nonce_bytes(nonce, false))),
            Op::Evict { advance } => (advance, None),
        };
        now = now.saturating_add(u64::from(advance));
        model.retain(|_, exp| *exp >= now);
        match (*op, nonce) {
            (Op::Insert { ttl, .. } | Op::InsertDyn { ttl, .. }, Some(n)) => {
                let exp = now.saturating_add(u64::from(ttl)).saturating_sub(100);
                let expected = if model.contains_key(&n) {
                    Err(Error::ReplayedNonce)
                } else if model.len() < CAP {
                    Ok(())
                } else {
                    Err(Error::NonceStoreFull)
                };
                let got = if matches!(op, Op::InsertDyn { .. }) {
                    let mut by_ref = &mut cache;
                    let store: &mut dyn NonceStore = &mut by_ref;
                    store.check_and_insert(&n, now, exp)
                } else {
                    cache.check_and_insert(&n, now, exp)
                };
                assert_eq!(got, expected, "{op:?} at {now}: model has {} unexpired", model.len());
                assert_eq!(table.check_and_insert(&n, now, exp), got, "the table disagrees with the cache");
                if got.is_ok() && exp >= now {
                    model.insert(n, exp);
                }
            }
            (Op::Contains { .. }, Some(n)) => {
                assert_eq!(cache.contains(&n, now), model.contains_key(&n), "contains disagrees at {now}");
                assert_eq!(table.contains(&n, now), model.contains_key(&n), "table contains disagrees at {now}");
            }
            (Op::Evict { .. }, _) => {
                cache.evict_expired(now);
                table.evict_expired(now);
                assert_eq!(cache.len(), model.len(), "evict_expired kept an expired or dropped a live nonce");
            }
            _ => unreachable!(),
        }
        assert!(cache.len() <= CAP, "capacity exceeded");
        assert_eq!(table.len(), cache.len(), "the table holds another count");
        assert!(cache.len() >= model.len());
        for n in model.keys() {
            assert!(cache.contains(n, now), "an unexpired nonce was forgotten");
        }
    }
    let _ = format!("{cache:?}");
}
