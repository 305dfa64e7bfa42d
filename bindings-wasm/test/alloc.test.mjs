// The module's allocator (lol_alloc's FreeListAllocator, src/lib.rs) frees
// and reuses memory: a merchant process runs for months, so a long run of
// calls of every size, and contexts and stores created and dropped, must
// leave the WebAssembly memory bounded (a leaking allocator grows it by
// hundreds of MB here).
import test from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import * as k from 'koosign';
import * as ref from './reference.mjs';

const require = createRequire(import.meta.url);
const wasm = require('../pkg/wasm/koosign_wasm.js');
const memoryBytes = () => wasm.wasm_memory().buffer.byteLength;

test('memory is freed and reused: 5,000 calls of mixed sizes, 200 contexts and 40 stores of 4 MB', () => {
  const KEY = 'alloc-test-key';
  const m = new k.Merchant(KEY);
  // Warm up: the arenas reach their largest size (256 KiB bodies).
  const big = Buffer.alloc(256 * 1024, 'x');
  assert.equal(m.bodySign(big), ref.bodySign(big, KEY));
  const start = memoryBytes();
  let seed = 12345;
  const rand = (n) => ((seed = (seed * 1103515245 + 12345) >>> 0) % n);
  for (let i = 0; i < 5000; i++) {
    const body = Buffer.alloc(rand(64 * 1024), 'a');
    if (i % 500 === 0) assert.equal(m.bodySign(body), ref.bodySign(body, KEY));
    else m.bodySign(body);
    // Results returned as fresh strings (allocated and freed on the wasm side).
    if (i % 10 === 0) k.encryptField('secret', KEY, '1');
  }
  for (let i = 0; i < 200; i++) {
    const c = new k.Merchant([`${KEY}-${i}`, `${KEY}-${i}-b`]);
    assert.equal(c.bodySign('{}'), ref.bodySign('{}', `${KEY}-${i}`));
    c.free();
  }
  for (let i = 0; i < 40; i++) {
    // 100,000 entries × 40 bytes, allocated at once; dropped with the last reference.
    const s = new k.NonceStore(100_000);
    assert.equal(s.capacity, 100_000);
    // The handle's finalizer frees it; an explicit GC run is not guaranteed,
    // so the store is also dropped through the wasm-bindgen free() below.
    Object.getOwnPropertySymbols(s).forEach((sym) => s[sym].free());
  }
  const grown = memoryBytes() - start;
  assert.ok(grown < 16 * 1024 * 1024, `memory grew by ${grown} bytes`);
});

test('calls after the memory grew (old views detached) read and write the new memory', () => {
  const KEY = 'grow-key';
  const m = new k.Merchant(KEY);
  const body = Buffer.from('{"activity":"newInstance","orderId":"o","orderLineId":"l","businessId":"b","x":"é"}');
  const ts = '1700000000000';
  const headers = { 'x-sign': ref.kitSignature(body, KEY, 'n', ts), 'x-timestamp': ts, 'x-nonce': 'n' };
  for (let round = 0; round < 3; round++) {
    const before = memoryBytes();
    // 40 MB at once: the memory must grow.
    const store = new k.NonceStore(1_000_000);
    assert.ok(memoryBytes() > before || round > 0);
    assert.equal(m.bodySign(body), ref.bodySign(body, KEY));
    const v = k.verifyKit(headers, body, KEY, { now: Number(ts) });
    assert.deepStrictEqual(v.notification, JSON.parse(body.toString('utf8')));
    const mv = m.verify({ method: 'POST', headers, body }, { nowMs: Number(ts), store });
    assert.equal(mv.notification.x, 'é');
    assert.equal(store.size, 1);
  }
});
