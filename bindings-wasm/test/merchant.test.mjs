// The keyed merchant context in JavaScript (koosign Merchant): named
// 'unchecked' policies, the notification object built from the core's
// parse, asynchronous stores, respond / answerCode / checkResponse.
import test from 'node:test';
import assert from 'node:assert/strict';
import * as k from 'koosign';
import * as ref from './reference.mjs';

const KEY = 'merchant-test-key';
const OLD = 'merchant-test-key-retired';
const NOW = 1_764_590_400_000;

function v2(body, { key = KEY, ts = NOW, nonce = `n-${Math.random()}` } = {}) {
  const b = Buffer.from(body);
  return { method: 'POST', query: `signature=${ref.v2Signature(b, key, nonce, String(ts))}&timestamp=${ts}&nonce=${nonce}`, headers: [['Content-Type', 'application/json']], body: b };
}

test('checks are left out only by name: no store is a TypeError, null/undefined never mean "no check"', () => {
  const m = new k.Merchant(KEY);
  const r = v2('{"activity":"releaseInstance","instanceId":"i-1"}');
  assert.throws(() => m.verify(r, { nowMs: NOW }), TypeError);
  assert.throws(() => m.verify(r, { nowMs: NOW, store: null }), TypeError);
  assert.equal(m.verify(r, { nowMs: NOW, store: k.UNCHECKED }).activity, 'releaseInstance');
  for (const bad of [null, -1, Number.NaN, '60000', false, Infinity]) {
    assert.throws(() => new k.Merchant(KEY, { v2Window: bad }), TypeError, String(bad));
  }
  // The default window is checked (±60 s)…
  const stale = v2('{"activity":"releaseInstance","instanceId":"i-1"}', { ts: NOW - 61_000 });
  assert.throws(() => m.verify(stale, { nowMs: NOW, store: k.UNCHECKED }), (e) => e instanceof k.StaleTimestampError && e.resultCode === '000001');
  // …and is left out only as 'unchecked'.
  const u = new k.Merchant(KEY, { v2Window: k.Merchant.UNCHECKED });
  assert.equal(u.verify(stale, { nowMs: NOW, store: k.UNCHECKED }).timestampMs, NOW - 61_000);
});

test('the notification is the natural object built from the core’s parse (no JSON.parse)', () => {
  const m = new k.Merchant([OLD, KEY]);
  const body = '{"activity":"newInstance","orderId":"o\\u00e9\\ud83d\\ude00","orderLineId":"l","n":-12.5e1,"big":12345678901234567890,"t":true,"f":false,"z":null,"a":[1,[2,{"x":"y"}],[]],"o":{},"__proto__":{"polluted":1}}';
  const v = m.verify(v2(body), { nowMs: NOW, store: new k.NonceStore(4) });
  assert.equal(v.keyIndex, 1);
  assert.equal(v.protocol, 'v2');
  const n = v.notification;
  // The reference for a valid body: JSON.parse in the test (never in the library).
  assert.deepEqual(n, JSON.parse(body));
  assert.equal(Object.getPrototypeOf(n), Object.prototype);
  assert.equal({}.polluted, undefined);
  assert.ok(Object.prototype.hasOwnProperty.call(n, '__proto__'));
  assert.equal(v.notification, n, 'built once');
});

test('hostile bodies are the core’s refusals (000002 after authentication), carrying the signed refusal', () => {
  const m = new k.Merchant(KEY);
  const cases = [
    ['duplicate name, nested', '{"activity":"newInstance","orderId":"o","orderLineId":"l","x":{"a":1,"a":2}}'],
    ['not an object', '["activity"]'],
    ['too deep', `{"activity":"newInstance","orderId":"o","orderLineId":"l","x":${'['.repeat(70)}${']'.repeat(70)}}`],
    ['unknown activity', '{"activity":"stealInstance","instanceId":"i"}'],
    ['missing field', '{"activity":"newInstance","orderId":"o"}'],
  ];
  for (const [what, body] of cases) {
    assert.throws(
      () => m.verify(v2(body), { nowMs: NOW, store: k.UNCHECKED }),
      (e) => e instanceof k.MalformedRequestError && e.resultCode === '000002' && e.authenticated === true && k.checkResponse(e.refusal, KEY).resultCode === '000002',
      what,
    );
  }
  const notUtf8 = v2(Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d]));
  assert.throws(() => m.verify(notUtf8, { nowMs: NOW, store: k.UNCHECKED }), (e) => e instanceof k.MalformedEncodingError && e.resultCode === '000002');
});

test('verifyAsync: the store is awaited after verification; a replay is 000001, a failing store 000005, both signed', async () => {
  const m = new k.Merchant(KEY);
  const keys = [];
  const store = { async checkAndInsert(key, expiresAtMs, nowMs) { keys.push([key, expiresAtMs, nowMs]); return keys.filter((x) => x[0] === key).length === 1; } };
  const r = v2('{"activity":"releaseInstance","instanceId":"i-1"}', { nonce: 'async-n-1' });
  const v = await m.verifyAsync(r, { nowMs: NOW, store });
  assert.deepEqual(keys, [['async-n-1', NOW + 60_000, NOW]]);
  assert.equal(v.replayKey, 'async-n-1');
  await assert.rejects(m.verifyAsync(r, { nowMs: NOW, store }), (e) => e instanceof k.ReplayedNonceError && e.resultCode === '000001' && k.checkResponse(e.refusal, KEY).resultCode === '000001');
  // A forged request never reaches the store.
  const forged = v2('{"activity":"releaseInstance","instanceId":"i-1"}', { key: 'wrong', nonce: 'async-n-2' });
  await assert.rejects(m.verifyAsync(forged, { nowMs: NOW, store }), k.SignatureMismatchError);
  assert.equal(keys.length, 2);
  const down = { checkAndInsert: async () => { throw new Error('down'); } };
  await assert.rejects(m.verifyAsync(v2('{"activity":"releaseInstance","instanceId":"i-1"}'), { nowMs: NOW, store: down }), (e) => e instanceof k.StoreUnavailableError && e.resultCode === '000005' && e.cause.message === 'down');
  const weird = { checkAndInsert: async () => 'yes' }; // anything but true is a replay: fail closed
  await assert.rejects(m.verifyAsync(v2('{"activity":"releaseInstance","instanceId":"i-1"}'), { nowMs: NOW, store: weird }), k.ReplayedNonceError);
});

test('respond writes, encrypts and signs; checkResponse is the marketplace’s contract', () => {
  const m = new k.Merchant(KEY);
  const a = m.respond({ resultCode: '000000', instanceId: 'i-1', appInfo: { frontEndUrl: 'https://x/"q"', userName: 'admin', password: 'pw' } }, { encryptType: '2' });
  const c = k.checkResponse(a, KEY, { expect: 'newInstance' });
  assert.deepEqual([c.resultCode, c.instanceId, c.encryptType, c.ciphertexts], ['000000', 'i-1', '2', 2]);
  assert.equal(a.bodySign, ref.bodySign(a.body, KEY));
  const q = m.respond({ info: [{ instanceId: 'a', appInfo: { userName: 'u', password: 'p' } }, { instanceId: 'b', appInfo: { memo: 'm' } }] });
  assert.equal(k.checkResponse(q, KEY, { expect: 'queryInstance' }).ciphertexts, 2);
  assert.equal(m.answerCode('000003').body.toString(), '{"resultCode":"000003","resultMsg":"instance not found"}');
  assert.throws(() => m.answerCode('000004'), k.MalformedEncodingError);
  assert.throws(() => m.respond({ instanceId: 'x'.repeat(65) }), (e) => e instanceof k.InputTooLargeError && e.limit === 64);
  // The contract refuses a tampered body, another spelling of Body-Sign, and a second Body-Sign.
  assert.throws(() => k.checkResponse({ headers: a.headers, body: Buffer.concat([a.body, Buffer.from(' ')]) }, KEY), k.SignatureMismatchError);
  assert.throws(() => k.checkResponse({ headers: { 'body-sign': a.bodySign }, body: a.body }, KEY), k.MalformedEncodingError);
  assert.throws(() => k.checkResponse({ headers: [['Body-Sign', a.bodySign], ['Body-Sign', a.bodySign]], body: a.body }, KEY), k.KoosignError);
  assert.throws(() => k.checkResponse({ status: 500, headers: a.headers, body: a.body }, KEY), k.MalformedEncodingError);
});

test('resultCodeFor is the core’s table', () => {
  assert.equal(k.resultCodeFor(new k.SignatureMismatchError()), '000001');
  assert.equal(k.resultCodeFor(new k.DecryptError(), { authenticated: true }), '000002');
  assert.equal(k.resultCodeFor(new k.StoreUnavailableError()), '000005');
  assert.equal(k.resultCodeFor(new k.NonceStoreFullError(), { authenticated: true }), '000005');
  assert.equal(k.resultCodeFor(new TypeError('x')), '000005');
});
