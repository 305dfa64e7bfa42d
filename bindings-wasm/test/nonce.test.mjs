// The NonceStore: the core's bounded cache, with the core's replay
// semantics (a nonce is kept until its timestamp + window).
import test from 'node:test';
import assert from 'node:assert/strict';
import * as k from 'koosign';
import * as ref from './reference.mjs';

const KEY = 'k';
const BODY = '{"activity":"newInstance"}';
const T = 1_700_000_000_000;

const q = (nonce, ts = T) => `signature=${ref.v2Signature(BODY, KEY, nonce, String(ts))}&timestamp=${ts}&nonce=${nonce}`;

test('a nonce is refused until its timestamp + window, then accepted again', () => {
  const store = new k.NonceStore();
  assert.equal(store.capacity, 262144); // the core's nonce::DEFAULT_CAPACITY
  k.verifyV2(q('n1'), BODY, KEY, { now: T, nonceStore: store });
  assert.ok(store.has('n1', T + 60_000));
  assert.throws(() => k.verifyV2(q('n1'), BODY, KEY, { now: T + 60_000, nonceStore: store }), k.ReplayedNonceError);
  // Past timestamp + window the request itself is stale, whatever the store says…
  assert.throws(() => k.verifyV2(q('n1'), BODY, KEY, { now: T + 60_001, nonceStore: store }), k.StaleTimestampError);
  // …and the store forgets the nonce: a new request with it (a new timestamp) passes.
  assert.ok(!store.has('n1', T + 60_001));
  k.verifyV2(q('n1', T + 61_000), BODY, KEY, { now: T + 61_000, nonceStore: store });
});

test('a forged request never fills the store; a custom window sets the lifetime', () => {
  const store = new k.NonceStore(300);
  assert.equal(store.capacity, 300);
  assert.throws(() => k.verifyV2(q('n2').replace(/signature=./, 'signature=0'), BODY, KEY, { now: T, nonceStore: store }));
  assert.equal(store.size, 0);
  k.verifyV2(q('n3'), BODY, KEY, { now: T, window: 1_000, nonceStore: store });
  assert.ok(store.has('n3', T + 1_000));
  assert.ok(!store.has('n3', T + 1_001));
});

test('checkAndInsert directly, and capacities chosen at run time (no tiers)', () => {
  const s = new k.NonceStore({ capacity: 256 });
  s.checkAndInsert('a', T, T + 10);
  assert.throws(() => s.checkAndInsert('a', T + 10, T + 20), k.ReplayedNonceError);
  s.checkAndInsert('a', T + 11, T + 20);
  assert.deepEqual([1, 256, 257, 5000, 65537, 100000].map((c) => new k.NonceStore(c).capacity), [1, 256, 257, 5000, 65537, 100000]);
  for (const bad of [0, -1, 1.5, 2 ** 32]) assert.throws(() => new k.NonceStore(bad), TypeError, String(bad));
  // Exactly full at its capacity: the next unexpired nonce is refused, never an old one forgotten.
  const one = new k.NonceStore(1);
  one.checkAndInsert('x', T, T + 1000);
  assert.throws(() => one.checkAndInsert('y', T, T + 1000), k.NonceStoreFullError);
});
