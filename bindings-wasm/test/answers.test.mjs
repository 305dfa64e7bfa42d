// vectors/answers.jsonl through Merchant#verify (and verifyAsync): every
// request → answer case of issue 13, the core's answer in JavaScript: the
// protocol, activity, fields and key the core verified, or the refusal's
// error class (code) and resultCode, and its signed answer, checked by the
// core's checkResponse and by node:crypto.
import test from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import * as k from 'koosign';
import { CASES, priorsOf, requestOf, policyOf, fieldsOf, MapStore, DOWN } from './answers-cases.mjs';

/** The sync store of a case: a NonceStore of its capacity, or an unreachable async one. */
function storeOf(c, async) {
  if (c.store.unavailable) return DOWN;
  return async ? new MapStore() : new k.NonceStore(c.store.capacity);
}

function outcome(merchant, c, store, async) {
  const opts = { nowMs: c.now_ms, store };
  const seen = (v) => ({ protocol: v.protocol, activity: v.activity, fields: fieldsOf(v.protocol, v.notification), key_index: v.keyIndex });
  const refused = (e) => {
    assert.ok(e instanceof k.KoosignError, `${c.id}: ${e && e.stack}`);
    assert.equal(e.constructor, k.errorClasses[e.code], `${c.id}: the class of its code`);
    // The signed refusal: the core's bytes, Body-Sign under key 0 (node:crypto), accepted by checkResponse.
    const key = c.access_keys[0];
    const sig = createHmac('sha256', key).update(e.refusal.body).digest('base64');
    assert.equal(e.refusal.bodySign, `sign_type="HMAC-SHA256", signature="${sig}"`, c.id);
    const checked = k.checkResponse({ status: 200, headers: e.refusal.headers, body: e.refusal.body }, key);
    assert.equal(checked.resultCode, e.resultCode, c.id);
    assert.equal(k.resultCodeFor(e), e.resultCode, c.id);
    return { error: e.code, result_code: e.resultCode };
  };
  if (!async) {
    try {
      return seen(merchant.verify(requestOf(c), opts));
    } catch (e) {
      return refused(e);
    }
  }
  return merchant.verifyAsync(requestOf(c), opts).then(seen, refused);
}

/** The expected outcome, as the runner of core/tests/answers.rs reads it. */
function expected(c) {
  const e = c.expect;
  return e.error !== undefined ? { error: e.error, result_code: e.result_code } : { protocol: e.protocol, activity: e.activity, fields: e.fields, key_index: e.key_index };
}

test('vectors/answers.jsonl: every row of the answers table and every hostile body class is covered', () => {
  const rows = new Map();
  for (const c of CASES) rows.set(c.id.split('/')[0], (rows.get(c.id.split('/')[0]) || 0) + 1);
  for (const r of ['verified', 'before-auth', 'authenticated', 'merchant']) assert.ok((rows.get(r) || 0) >= 3, `${r}: ${[...rows]}`);
  assert.ok(CASES.length >= 100, String(CASES.length));
});

for (const async of [false, true]) {
  test(`vectors/answers.jsonl through Merchant#${async ? 'verifyAsync (an async store: Replay::Deferred)' : 'verify (a NonceStore)'}`, async () => {
    let n = 0;
    for (const c of CASES) {
      // A full store is a property of the bounded NonceStore; an async Map store never fills.
      if (async && c.expect.error === 'NONCE_STORE_FULL') continue;
      if (c.access_keys.length === 0) {
        assert.throws(() => new k.Merchant(c.access_keys, policyOf(c)), (e) => e instanceof k.NoAccessKeyError && k.resultCodeFor(e) === c.expect.result_code, c.id);
        n++;
        continue;
      }
      const merchant = new k.Merchant(c.access_keys, policyOf(c));
      const store = storeOf(c, async);
      // An unreachable store is an asynchronous one (a NonceStore is always there).
      const viaAsync = async || store === DOWN;
      for (const p of priorsOf(c)) {
        const got = await outcome(merchant, p, store, viaAsync);
        assert.equal(got.error, undefined, `${c.id}: prior request refused: ${JSON.stringify(got)}`);
      }
      assert.deepEqual(await outcome(merchant, c, store, viaAsync), expected(c), c.id);
      merchant.free();
      n++;
    }
    assert.ok(n >= 100, String(n));
  });
}
