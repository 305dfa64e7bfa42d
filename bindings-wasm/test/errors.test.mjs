// Every error code of the core, as a KoosignError subclass with a stable
// code, reached through the public API where the API can reach it; no
// message holds a secret.
import test from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import * as k from 'koosign';
import * as ref from './reference.mjs';
import { REPO } from './paths.mjs';

const require = createRequire(import.meta.url);
const KEY = 'SECRET-key-0f9e8d7c';
const BODY = '{"activity":"newInstance","orderId":"o1","orderLineId":"l1","testFlag":"1"}';
const NOW = 1_700_000_000_000;

function v2Query(body, { key = KEY, nonce = 'n-' + Math.random().toString(36).slice(2), ts = String(NOW) } = {}) {
  return `signature=${ref.v2Signature(body, key, nonce, ts)}&timestamp=${ts}&nonce=${encodeURIComponent(nonce)}`;
}

function v1Query(extra = {}, key = KEY) {
  return ref.buildV1Query([['activity', 'newInstance'], ['orderId', 'o1'], ['timeStamp', '20231114221320000'], ...Object.entries(extra)], key);
}

/** Runs fn, expects the error class and code, and that the message holds no secret. */
function expectCode(fn, Cls, code) {
  let err;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  assert.ok(err, `expected ${code}`);
  assert.ok(err instanceof Cls, `${err && err.name}: ${err && err.message}`);
  assert.ok(err instanceof k.KoosignError);
  assert.ok(err instanceof Error);
  assert.equal(err.code, code);
  assert.equal(err.name, Cls.name);
  assert.ok(!err.message.includes(KEY) && !err.message.includes('SECRET'), err.message);
  assert.ok(!JSON.stringify(err).includes('SECRET'));
  return err;
}

test('one KoosignError subclass per core error code, in the right group', () => {
  // The codes of the core's Error::code(), read from its source.
  const src = readFileSync(join(REPO, 'core/src/error.rs'), 'utf8');
  const coreCodes = [...src.matchAll(/=> "([A-Z_]+)",/g)].map((m) => m[1]);
  // 13 since issue 11 added Error::Ambiguous.
  assert.equal(coreCodes.length, 14);
  assert.deepEqual(Object.keys(k.errorClasses).sort(), [...coreCodes].sort());
  const format = new Set(['MISSING_PARAMETER', 'MALFORMED_ENCODING', 'INPUT_TOO_LARGE']);
  for (const code of coreCodes) {
    const C = k.errorClasses[code];
    assert.equal(C.code, code);
    const e = new C();
    assert.equal(e.code, code);
    assert.ok(e instanceof k.KoosignError);
    assert.equal(e instanceof k.MalformedRequestError, format.has(code), code);
    assert.ok(e.message.length > 0);
  }
});

test('MISSING_PARAMETER', () => {
  const e = expectCode(() => k.verifyV2(`signature=${'0'.repeat(64)}&timestamp=${NOW}`, BODY, KEY, { now: NOW }), k.MissingParameterError, 'MISSING_PARAMETER');
  assert.equal(e.parameter, 'nonce');
  assert.equal(expectCode(() => k.verifyKit({ 'x-sign': 'a', 'x-nonce': 'n' }, BODY, KEY), k.MissingParameterError, 'MISSING_PARAMETER').parameter, 'x-timestamp');
  assert.equal(expectCode(() => k.verifyV1('timeStamp=20231114221320000&a=b', KEY), k.MissingParameterError, 'MISSING_PARAMETER').parameter, 'authToken');
  const v = k.verifyV1(v1Query(), KEY);
  expectCode(() => v.decryptParam('email'), k.MissingParameterError, 'MISSING_PARAMETER');
});

test('MALFORMED_ENCODING', () => {
  const e = expectCode(() => k.verifyV1(`${v1Query()}&bad=%zz`, KEY), k.MalformedEncodingError, 'MALFORMED_ENCODING');
  assert.equal(e.what, 'invalid percent escape');
  expectCode(() => k.verifyV1(`${v1Query()}&bad=%ff`, KEY), k.MalformedEncodingError, 'MALFORMED_ENCODING'); // not UTF-8
  expectCode(() => k.encryptField('x', KEY, '1', { iv: 'abc!efgh12345678' }), k.MalformedEncodingError, 'MALFORMED_ENCODING');
  expectCode(() => k.verifyBodySign('sign_type=HMAC-SHA256, signature="x"', BODY, KEY), k.MalformedEncodingError, 'MALFORMED_ENCODING');
  // A correctly signed V2 body that is not a JSON object.
  const notJson = '{"activity":';
  const v = k.verifyV2(v2Query(notJson), notJson, KEY, { now: NOW });
  expectCode(() => v.notification, k.MalformedEncodingError, 'MALFORMED_ENCODING');
});

test('AMBIGUOUS: not a malformed request; `what` names the rule', () => {
  const merged = ref.buildV1Query([['activity', 'newInstance'], ['orderLineId', 'L1&testFlag=1'], ['timeStamp', '20231114221320000']], KEY);
  let e = expectCode(() => k.verifyV1(merged, KEY), k.AmbiguousError, 'AMBIGUOUS');
  assert.ok(!(e instanceof k.MalformedRequestError));
  assert.equal(e.what, 'V1 parameter value contains `&` followed by a name and `=`');
  assert.match(e.message, /^ambiguous request refused: /);
  const ts = String(NOW);
  const kit = { 'x-sign': ref.kitSignature('1{}', KEY, 'n1', ts), 'x-timestamp': ts, 'x-nonce': 'n1' };
  e = expectCode(() => k.verifyKit(kit, '1{}', KEY, { now: NOW }), k.AmbiguousError, 'AMBIGUOUS');
  assert.equal(e.what, 'kit body starts with a digit');
  expectCode(() => k.verifyLicence(ts, 'n1&body=', 'X', k.licenceSign(ts, 'n1&body=', 'X', KEY), KEY), k.AmbiguousError, 'AMBIGUOUS');
  expectCode(() => k.verifyV1Json('x'.repeat(44), '{"authToken":"y","timeStamp":"20231114221320000"}', KEY), k.AmbiguousError, 'AMBIGUOUS');
  const s = new k.ApigSigner('ak', 'sk').sign('https://h.example.com/x', { headers: { 'X-Sdk-Date': '20240101T000000Z' } });
  const twice = [...Object.entries(s.headers), ['Authorization', s.headers.Authorization]];
  expectCode(() => k.verifyApig('https://h.example.com/x', { headers: twice }, [['ak', 'sk']]), k.AmbiguousError, 'AMBIGUOUS');
  assert.equal(k.resultCodeFor(e), '000001');
});

test('BAD_TIMESTAMP', () => {
  expectCode(() => k.verifyV2(v2Query(BODY, { ts: '16805080666x8' }), BODY, KEY, { now: NOW }), k.BadTimestampError, 'BAD_TIMESTAMP');
  // Exactly 13 digits, no leading zero (SCHEMES.md S2 decision).
  for (const ts of ['0' + NOW, String(NOW).slice(0, 12), `${NOW}0`, '']) {
    expectCode(() => k.verifyV2(v2Query(BODY, { ts }), BODY, KEY, { now: NOW, window: null }), k.BadTimestampError, 'BAD_TIMESTAMP');
  }
  const q = ref.buildV1Query([['activity', 'x'], ['timeStamp', '20200230000000000']], KEY);
  expectCode(() => k.verifyV1(q, KEY), k.BadTimestampError, 'BAD_TIMESTAMP');
});

test('STALE_TIMESTAMP', () => {
  expectCode(() => k.verifyV2(v2Query(BODY), BODY, KEY, { now: NOW + 60_001 }), k.StaleTimestampError, 'STALE_TIMESTAMP');
  expectCode(() => k.verifyV2(v2Query(BODY), BODY, KEY, { now: NOW - 5_001, window: 5_000 }), k.StaleTimestampError, 'STALE_TIMESTAMP');
  // V1 has no window unless one is given.
  assert.equal(k.verifyV1(v1Query(), KEY, { now: NOW + 86_400_000 }).keyIndex, 0);
  expectCode(() => k.verifyV1(v1Query(), KEY, { now: NOW + 86_400_000, window: 60_000 }), k.StaleTimestampError, 'STALE_TIMESTAMP');
  // window: null switches the V2 check off.
  assert.equal(k.verifyV2(v2Query(BODY), BODY, KEY, { now: 0, window: null }).keyIndex, 0);
});

test('REPLAYED_NONCE', () => {
  const store = new k.NonceStore();
  const q = v2Query(BODY);
  k.verifyV2(q, BODY, KEY, { now: NOW, nonceStore: store });
  expectCode(() => k.verifyV2(q, BODY, KEY, { now: NOW + 1000, nonceStore: store }), k.ReplayedNonceError, 'REPLAYED_NONCE');
});

test('NONCE_STORE_FULL', () => {
  // The capacity is the one asked for (the core's NonceTable::with_capacity, no tiers).
  const store = new k.NonceStore({ capacity: 200 });
  assert.equal(store.capacity, 200);
  for (let i = 0; i < 200; i++) k.verifyV2(v2Query(BODY, { nonce: `n${i}` }), BODY, KEY, { now: NOW, nonceStore: store });
  assert.equal(store.size, 200);
  expectCode(() => k.verifyV2(v2Query(BODY, { nonce: 'one-more' }), BODY, KEY, { now: NOW, nonceStore: store }), k.NonceStoreFullError, 'NONCE_STORE_FULL');
});

test('BUFFER_TOO_SMALL: the binding sizes every buffer, so the class is only reachable by name', () => {
  // Every core call of the binding gets a buffer of the size the core
  // documents (or grows it as the core asks), so no API input reaches it.
  const e = new k.BufferTooSmallError('output buffer too small: 10 bytes needed', { needed: 10 });
  assert.equal(e.code, 'BUFFER_TOO_SMALL');
  assert.equal(e.needed, 10);
});

test('INPUT_TOO_LARGE', () => {
  const e = expectCode(() => k.encryptField('x'.repeat(80), KEY), k.InputTooLargeError, 'INPUT_TOO_LARGE');
  assert.equal(e.limit, 128);
  assert.ok(k.encryptField('x'.repeat(79), KEY).length <= 128);
  const many = Object.fromEntries(Array.from({ length: 70 }, (_, i) => [`p${i}`, 'v']));
  expectCode(() => k.verifyV1(v1Query(many), KEY), k.InputTooLargeError, 'INPUT_TOO_LARGE');
  expectCode(() => k.verifyV2(v2Query(BODY, { nonce: 'n'.repeat(257) }), BODY, KEY, { now: NOW }), k.InputTooLargeError, 'INPUT_TOO_LARGE');
});

test('NO_ACCESS_KEY', () => {
  expectCode(() => k.verifyV2(v2Query(BODY), BODY, [], { now: NOW }), k.NoAccessKeyError, 'NO_ACCESS_KEY');
  expectCode(() => k.verifyV1(v1Query(), [KEY, '']), k.NoAccessKeyError, 'NO_ACCESS_KEY');
  expectCode(() => k.bodySign(BODY, ''), k.NoAccessKeyError, 'NO_ACCESS_KEY');
  expectCode(() => new k.ApigSigner('', 'sk').sign('https://h/x'), k.NoAccessKeyError, 'NO_ACCESS_KEY');
});

test('SIGNATURE_MISMATCH: wrong key, changed body, truncated or non-hex or non-ASCII signature', () => {
  expectCode(() => k.verifyV2(v2Query(BODY), BODY, 'other', { now: NOW }), k.SignatureMismatchError, 'SIGNATURE_MISMATCH');
  expectCode(() => k.verifyV2(v2Query(BODY), BODY + ' ', KEY, { now: NOW }), k.SignatureMismatchError, 'SIGNATURE_MISMATCH');
  const q = v2Query(BODY);
  for (const bad of [q.replace(/signature=(\w+)/, (_, s) => `signature=${s.slice(0, 63)}`), q.replace(/signature=\w/, 'signature=g'), q.replace(/signature=\w/, 'signature=%C3%A9')]) {
    expectCode(() => k.verifyV2(bad, BODY, KEY, { now: NOW }), k.SignatureMismatchError, 'SIGNATURE_MISMATCH');
  }
  expectCode(() => k.verifyV1(v1Query({}, 'other'), KEY), k.SignatureMismatchError, 'SIGNATURE_MISMATCH');
  expectCode(() => k.verifyBodySign(k.bodySign(BODY, 'other'), BODY, KEY), k.SignatureMismatchError, 'SIGNATURE_MISMATCH');
});

test('DECRYPT: bad Base64, bad padding, wrong key, all alike', () => {
  const wire = k.encryptField('secret-user', KEY);
  for (const bad of ['short', wire.slice(0, 16) + '!!!!' + wire.slice(20), wire.slice(0, -6) + 'AAAA==']) {
    const e = expectCode(() => k.decryptField(bad, KEY, '1'), k.DecryptError, 'DECRYPT');
    assert.equal(e.message, 'field could not be decrypted');
  }
  expectCode(() => k.decryptField(wire, 'other-key'), k.DecryptError, 'DECRYPT');
});

test('RANDOM_SOURCE: a random source that yields nothing usable', (t) => {
  const { webcrypto } = require('node:crypto');
  // Bytes ≥ 248 are all rejected by the core's uniform sampling.
  webcrypto.getRandomValues = (a) => a.fill(0xff);
  t.after(() => {
    delete webcrypto.getRandomValues;
  });
  expectCode(() => k.encryptField('x', KEY), k.RandomSourceError, 'RANDOM_SOURCE');
});

test('argument mistakes are TypeErrors, not KoosignErrors', () => {
  assert.throws(() => k.verifyV2(42, BODY, KEY), TypeError);
  assert.throws(() => k.verifyV2('a=b', 42, KEY), TypeError);
  assert.throws(() => k.verifyV2('a=b', BODY, 42), TypeError);
  assert.throws(() => k.verifyV2('a=b', BODY, KEY, { now: 'yesterday' }), TypeError);
  assert.throws(() => k.verifyV2('a=b', BODY, KEY, { window: -1 }), TypeError);
  assert.throws(() => k.verifyV2('a=b', BODY, KEY, { nonceStore: {} }), TypeError);
  assert.throws(() => k.decryptField('x', KEY, '3'), TypeError);
  assert.throws(() => k.deriveKey(KEY, 192), TypeError);
  assert.throws(() => new k.NonceStore(0), TypeError);
});

test('resultCodeFor: SCHEMES.md "Which code a refusal gets", the table of koosign serve', () => {
  // Before authentication (a verifier threw it): 000001 — as serve's refusal_codes test.
  const before = [
    new k.MissingParameterError(undefined, { parameter: 'nonce' }),
    new k.MalformedEncodingError(undefined, { what: 'x' }),
    new k.InputTooLargeError(undefined, { limit: 256 }),
    new k.BadTimestampError(),
    new k.StaleTimestampError(),
    new k.ReplayedNonceError(),
    new k.SignatureMismatchError(),
    new k.AmbiguousError(undefined, { what: 'x' }),
  ];
  for (const e of before) assert.equal(k.resultCodeFor(e), '000001', e.code);
  // After authentication (the verified body or parameters are unusable): 000002.
  for (const e of [...before, new k.DecryptError()]) assert.equal(k.resultCodeFor(e, { authenticated: true }), '000002', e.code);
  // The merchant's side, whenever: 000005.
  for (const e of [new k.NonceStoreFullError(), new k.BufferTooSmallError(), new k.NoAccessKeyError(), new k.RandomSourceError(), new Error('store down')]) {
    assert.equal(k.resultCodeFor(e), '000005', e.name);
    assert.equal(k.resultCodeFor(e, { authenticated: true }), '000005', e.name);
  }
  // Only `authenticated: true` moves a refusal to 000002 (fail closed).
  assert.equal(k.resultCodeFor(new k.SignatureMismatchError(), { authenticated: 'yes' }), '000001');
});
