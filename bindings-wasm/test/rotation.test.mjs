// Key rotation (SCHEMES.md §S3 "(decision) Key rotation"): the answer to a
// request is signed with the key that verified it, as `koosign serve` does.
// Two keys, requests signed with key 1; every Body-Sign is checked with
// node:crypto's HMAC (test/reference.mjs), never with the package.
import test from 'node:test';
import assert from 'node:assert/strict';
import * as k from 'koosign';
import * as ref from './reference.mjs';

const KEY0 = 'rotation-current-key-0';
const KEY1 = 'rotation-previous-key-1';
const NOW = 1_764_590_400_000;

function v2(body, { key = KEY1, nonce = `n-${Math.random()}`, sig } = {}) {
  const b = Buffer.from(body);
  const s = sig ?? ref.v2Signature(b, key, nonce, String(NOW));
  return { method: 'POST', query: `signature=${s}&timestamp=${NOW}&nonce=${nonce}`, headers: [['Content-Type', 'application/json']], body: b };
}
const GOOD = '{"activity":"newInstance","orderId":"CS1","orderLineId":"CS1-1","businessId":"b","testFlag":"1"}';
const opts = { nowMs: NOW, store: k.UNCHECKED };

test('answers to a request verified with key 1 are signed (and encrypted) with key 1', () => {
  const m = new k.Merchant([KEY0, KEY1]);
  const v = m.verify(v2(GOOD), opts);
  assert.equal(v.keyIndex, 1);
  for (const choice of [{ verified: v }, { keyIndex: 1 }]) {
    const a = m.respond({ instanceId: 'i1', appInfo: { userName: 'u', password: 'p' } }, choice);
    assert.equal(a.bodySign, ref.bodySign(a.body, KEY1));
    assert.notEqual(a.bodySign, ref.bodySign(a.body, KEY0));
    const app = JSON.parse(a.body.toString('utf8')).appInfo;
    assert.equal(ref.decryptField(app.userName, KEY1, '1'), 'u');
    assert.equal(ref.decryptField(app.password, KEY1, '1'), 'p');
    const c = m.answerCode('000003', choice);
    assert.equal(c.bodySign, ref.bodySign(c.body, KEY1));
    const s = m.signAnswer('{"resultCode":"000000","resultMsg":"success."}', choice);
    assert.equal(s.bodySign, ref.bodySign(s.body, KEY1));
  }
  // without a choice: key 0, as before
  const d = m.respond({});
  assert.equal(d.bodySign, ref.bodySign(d.body, KEY0));
  assert.equal(m.answerCode('000003').bodySign, ref.bodySign(m.answerCode('000003').body, KEY0));
  // an index the merchant does not hold is the core's NoAccessKey
  assert.throws(() => m.answerCode('000003', { keyIndex: 2 }), (e) => e instanceof k.KoosignError && e.code === 'NO_ACCESS_KEY');
  assert.throws(() => m.respond({}, { keyIndex: 2 }), (e) => e instanceof k.KoosignError && e.code === 'NO_ACCESS_KEY');
  assert.throws(() => m.respond({}, { keyIndex: -1 }), TypeError);
});

test('a refusal after authentication is signed with the verifying key, one before with key 0', () => {
  const m = new k.Merchant([KEY0, KEY1]);
  assert.throws(
    () => m.verify(v2('{"activity":"noSuchActivity","orderId":"CS1"}'), opts),
    (e) => e.authenticated === true && e.resultCode === '000002' && e.refusal.bodySign === ref.bodySign(e.refusal.body, KEY1),
  );
  assert.throws(
    () => m.verify(v2(GOOD, { sig: '0'.repeat(64) }), opts),
    (e) =>
      e instanceof k.SignatureMismatchError && e.authenticated === false && e.resultCode === '000001' && e.refusal.bodySign === ref.bodySign(e.refusal.body, KEY0),
  );
});
