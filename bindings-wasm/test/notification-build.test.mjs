// `.notification` is built in JavaScript from the core walker's event tape
// (never JSON.parse on a notification). Here JSON.parse is only the test's
// oracle: on random valid documents (nesting, arrays, escapes, non-ASCII,
// surrogate pairs, numbers, `__proto__`), Merchant#verify, verifyV2 and
// verifyKit give the same object as JSON.parse of the same bytes.
import test from 'node:test';
import assert from 'node:assert/strict';
import * as k from 'koosign';
import * as ref from './reference.mjs';

const KEY = 'notification-build-key';
const NOW = 1_700_000_000_000;
const TS = String(NOW);

let seed = 0x5eed;
const rand = (n) => ((seed = (seed * 1103515245 + 12345) >>> 0) >>> 8) % n;

const PIECES = ['a', 'Z', ' ', 'é', '张', '😀', '\\"', '\\\\', '\\/', '\\n', '\\t', '\\u0041', '\\u00e9', '\\ud83d\\ude00', '__proto__', ':', ','];
function str() {
  let s = '';
  for (let i = rand(6); i > 0; i--) s += PIECES[rand(PIECES.length)];
  return `"${s}"`;
}
const NUMBERS = ['0', '-0', '1', '-12.5e1', '3.25', '1E+2', '12345678901234567890', '1e-7'];
function value(depth) {
  switch (depth > 3 ? rand(4) : rand(6)) {
    case 0: return str();
    case 1: return NUMBERS[rand(NUMBERS.length)];
    case 2: return ['true', 'false', 'null'][rand(3)];
    case 3: return str();
    case 4: {
      const items = [];
      for (let i = rand(4); i > 0; i--) items.push(value(depth + 1));
      return `[${items.join(',')}]`;
    }
    default: return object(depth + 1, false);
  }
}
function object(depth, top) {
  const names = new Set();
  const members = top ? ['"activity":"newInstance"', '"orderId":"o"', '"orderLineId":"l"', '"businessId":"b"'] : [];
  if (top) ['activity', 'orderId', 'orderLineId', 'businessId'].forEach((n) => names.add(n));
  for (let i = rand(5); i > 0; i--) {
    const name = str();
    const decoded = JSON.parse(name);
    if (names.has(decoded)) continue; // the core refuses repeated names
    names.add(decoded);
    members.push(`${name}:${value(depth)}`);
  }
  return `{${members.join(',')}}`;
}

test('the tape-built notification equals JSON.parse on 300 random documents, through Merchant#verify, verifyV2 and verifyKit', () => {
  const m = new k.Merchant(KEY);
  for (let n = 0; n < 300; n++) {
    const body = Buffer.from(object(0, true), 'utf8');
    const expected = JSON.parse(body.toString('utf8'));
    const nonce = `nonce-${n}`;
    const query = `signature=${ref.v2Signature(body, KEY, nonce, TS)}&timestamp=${TS}&nonce=${nonce}`;
    const kitHeaders = { 'x-sign': ref.kitSignature(body, KEY, nonce, TS), 'x-timestamp': TS, 'x-nonce': nonce };
    const v = m.verify({ method: 'POST', query, headers: {}, body }, { nowMs: NOW, store: k.UNCHECKED });
    assert.equal(v.protocol, 'v2');
    assert.deepStrictEqual(v.notification, expected, body.toString('utf8'));
    const kit = m.verify({ method: 'POST', query: '', headers: kitHeaders, body }, { nowMs: NOW, store: k.UNCHECKED });
    assert.equal(kit.protocol, 'kit');
    assert.deepStrictEqual(kit.notification, expected);
    assert.deepStrictEqual(k.verifyV2(query, body, KEY, { now: NOW }).notification, expected);
    const vk = k.verifyKit(kitHeaders, body, KEY, { now: NOW });
    assert.equal(vk.keyIndex, 0);
    assert.equal(vk.timestampMs, NOW);
    assert.deepStrictEqual(vk.notification, expected);
  }
});

test('verifyV2 and verifyKit report the matching key and the timestamp (one number across the boundary)', () => {
  const body = Buffer.from('{"activity":"newInstance","orderId":"o","orderLineId":"l","businessId":"b"}');
  const keys = ['k0', 'k1', 'k2', KEY];
  for (const ts of ['1000000000000', TS, '9999999999999']) {
    const q = `signature=${ref.v2Signature(body, KEY, 'n', ts)}&timestamp=${ts}&nonce=n`;
    const v = k.verifyV2(q, body, keys, { window: null });
    assert.equal(v.keyIndex, 3);
    assert.equal(v.timestampMs, Number(ts));
    const h = { 'x-sign': ref.kitSignature(body, 'k1', 'n', ts), 'x-timestamp': ts, 'x-nonce': 'n' };
    const kv = k.verifyKit(h, body, keys, { window: null });
    assert.equal(kv.keyIndex, 1);
    assert.equal(kv.timestampMs, Number(ts));
  }
});

test('arguments with non-ASCII text (and a lone surrogate) beside ASCII ones keep their boundaries', () => {
  const body = Buffer.from('{"activity":"newInstance","orderId":"o","orderLineId":"l","businessId":"b"}');
  const m = new k.Merchant(KEY);
  for (const odd of ['é', '张三 & Co', '😀', '\ud800', 'a\udc00b', '']) {
    const headers = { 'x-note': odd, 'x-sign': ref.kitSignature(body, KEY, 'n', TS), 'x-timestamp': TS, 'x-nonce': 'n', [`x-${odd}`]: odd };
    assert.equal(k.verifyKit(headers, body, KEY, { now: NOW }).keyIndex, 0, JSON.stringify(odd));
    const v = m.verify({ method: 'POST', query: '', headers, body }, { nowMs: NOW, store: k.UNCHECKED });
    assert.equal(v.protocol, 'kit');
    assert.equal(v.replayKey, 'n');
    // A wrong signature is still refused with the same error.
    assert.throws(() => k.verifyKit({ ...headers, 'x-sign': '0'.repeat(64) }, body, KEY, { now: NOW }), k.SignatureMismatchError);
  }
});
