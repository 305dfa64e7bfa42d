// The compact encodings across the JavaScript ↔ WebAssembly boundary
// (issue 14): ApigSigner#sign(url) in one crossing (the core's split and
// signer, the result as length-prefixed pieces, no JSON) against the
// two-crossing path it replaced (the core's split, then the signer on the
// { host, path, query } it gave), on hostile inputs: non-ASCII text, empty
// strings, lone surrogates, long values, invalid URLs and bad argument
// types (the same result or the same error, in the same order). parseForm
// and the URL split read the same pieces: checked against URLSearchParams.
import test from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import * as k from 'koosign';
import * as ref from './reference.mjs';

const require = createRequire(import.meta.url);
// The package's own module (its internal split, for the oracle).
const wasm = require(require.resolve('koosign').replace(/index\.js$/, 'wasm/koosign_wasm.js'));

function pieces(t) {
  const p = [];
  for (let i = 0; i < t.length; ) {
    const n = (t.charCodeAt(i) << 15) | t.charCodeAt(i + 1);
    p.push(t.slice(i + 2, i + 2 + n));
    i += 2 + n;
  }
  return p;
}

function errOf(e) {
  const detail = e.what ?? e.parameter ?? e.limit ?? e.needed;
  return { err: { type: e.constructor.name, code: e.code, message: e.message, detail: detail === undefined ? '' : String(detail) } };
}

function outcome(fn) {
  try {
    return { ok: fn() };
  } catch (e) {
    return errOf(e);
  }
}

/**
 * The path ApigSigner#sign(url) took before: split by the core (one
 * crossing; its error thrown as the core's `CODE \x1f detail \x1f message`),
 * then the signer on the parts (another crossing).
 */
function oldSign(signer, url, init) {
  let u;
  try {
    u = pieces(wasm.split_apig_url(url instanceof URL ? url.href : url, false));
  } catch (e) {
    const [code, detail, message] = String(e).split('\x1f');
    return { err: { type: k.errorClasses[code].name, code, message, detail } };
  }
  return outcome(() => signer.sign({ host: u[0], path: u[1], query: u.slice(2) }, init));
}

const LONE = '\ud800';
const LONG = 'é'.repeat(3000) + 'x'.repeat(5000);
const URLS = [
  'https://mkt.myhuaweicloud.com/api/mkp-openapi-public/global/v1/order/query?orderId=CS2211181819B4LVS&orderLineId=CS2211181819B4LVS-000001',
  'https://Host.Example.COM:443/a/./b/../c?z=1&a=2&a=1&empty=&bare&&x=%2B+%20',
  'http://h.example.com:8080/中文/é/%41?q=é x&r=😀&k=中',
  `https://h.example.com/p?lone=${LONE}&v=${LONE}x`,
  `https://h.example.com/${LONE}/x`,
  `https://h.example.com/long?v=${LONG}&${'k'.repeat(2000)}=${'v'.repeat(2000)}`,
  `https://h.example.com/${'seg/'.repeat(500)}`,
  'https://h.example.com',
  'https://h.example.com?',
  'https://h.example.com/#frag',
  'HTTPS://H.EXAMPLE.COM/X?Y=Z#F',
  'http://[::1]:80/x',
  // refused by the split
  '',
  'ftp://h.example.com/x',
  'https://user:pw@h.example.com/x',
  'https:///x',
  'https://h.example.com/%2e%2e/x',
  'https://h.example.com/a\\b',
  'https://h.example.com/x?%zz=1',
  'https://h.example.com/x?a=%FF',
  'https://0x7f.1/x',
  'https://h.example.com:99999/x',
  ' https://h.example.com/x',
  'https://h.example.com/x\n',
  `https://h.example.com/x?${Array.from({ length: 300 }, (_, i) => `p${i}=${i}`).join('&')}`,
  `https://h.example.com/${'a'.repeat(70000)}`,
  'https://hé.example.com/x',
  'relative/path',
];
const INITS = [
  undefined,
  {},
  { headers: { 'X-Sdk-Date': '20230403T075426Z' } },
  { headers: { 'x-sdk-date': '20230403t075426z', Host: 'other.example.com' } },
  { headers: { 'X-Sdk-Date': 'bad' } },
  { now: 1_700_000_000_000 },
  { now: new Date(0) },
  { method: 'POST', body: '{"é":"😀"}', headers: { 'Content-Type': 'application/json', 'X-Sdk-Date': '20230403T075426Z' } },
  { method: 'PUT', body: Buffer.from([0, 1, 2, 255]), headers: { 'Content-Type': 'text/plain', 'X-Sdk-Date': '20230403T075426Z' } },
  { method: 'post', headers: [['X-Custom', 'é 中 😀'], ['x-custom', ''], ['X_Under', 'v'], ['Empty', ''], ['X-Sdk-Date', '20230403T075426Z']] },
  { headers: { 'X-Lone': LONE, 'X-Sdk-Date': '20230403T075426Z', 'X-Long': LONG } },
  { headers: { 'Ü-x': 'v', 'X-Sdk-Date': '20230403T075426Z' } },
  { headers: { '': '', 'X-Sdk-Date': '20230403T075426Z' } },
  { headers: new Map([['X-Sdk-Date', '20230403T075426Z'], ['A', ['1', '2']]]) },
  { headers: Object.fromEntries(Array.from({ length: 80 }, (_, i) => [`h${i}`, String(i)])) },
  { method: '', headers: { 'X-Sdk-Date': '20230403T075426Z' } },
  { method: 'G T', headers: { 'X-Sdk-Date': '20230403T075426Z' } },
  // bad argument types: after the URL's own error, as before
  { method: 5 },
  { headers: 5 },
  { body: 5 },
  { now: -1 },
  { now: 'yesterday' },
];
const SIGNERS = [
  ['QTWAOYTTINDUT2QVKYUC', 'MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc'],
  ['', 'sk'],
  ['ak', ''],
  ['a k', 'sk'],
  ['a,k', 'sk'],
  ['ak', `é😀${LONE}`],
  ['ak', LONG],
  [`ak${LONE}`, 'sk'],
];

test('ApigSigner#sign(url) in one crossing: the same result or the same error as split-then-sign', () => {
  let n = 0;
  let signed = 0;
  for (const [ak, sk] of SIGNERS) {
    const s = new k.ApigSigner(ak, sk);
    for (const url of URLS) {
      for (const init of INITS) {
        const a = outcome(() => s.sign(url, init));
        const b = oldSign(s, url, init);
        assert.deepEqual(a, b, `${ak}/${sk.slice(0, 8)} ${url.slice(0, 80)} ${JSON.stringify(init)?.slice(0, 80)}`);
        n++;
        if (a.ok) signed++;
      }
    }
  }
  assert.ok(signed > 100, `only ${signed} of ${n} signed`);
});

test('ApigSigner#sign(URL object) is sign(url.href)', () => {
  const s = new k.ApigSigner('ak', 'sk');
  const init = { headers: { 'X-Sdk-Date': '20230403T075426Z' } };
  for (const u of ['https://h.example.com/a/../b?q=é&r=%2B', 'http://H.example.com:80/中文?x']) {
    assert.deepEqual(s.sign(new URL(u), init), s.sign(new URL(u).href, init));
    assert.deepEqual({ ok: s.sign(new URL(u), init) }, oldSign(s, new URL(u), init));
  }
});

test('ApigSigner#sign(url) against the node:crypto reference (WHATWG URL) on non-ASCII and long values', () => {
  const ak = 'QTWAOYTTINDUT2QVKYUC';
  const sk = 'MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc';
  const s = new k.ApigSigner(ak, sk);
  for (const url of [
    URLS[0],
    'https://h.example.com/v1/x?q=%C3%A9%20x&r=%F0%9F%98%80&k=%E4%B8%AD&e=&b',
    `https://h.example.com/long?v=${'x'.repeat(6000)}&w=${'%C3%A9'.repeat(500)}`,
  ]) {
    for (const headers of [{ 'X-Sdk-Date': '20230403T075426Z' }, { 'X-Sdk-Date': '20230403T075426Z', 'X-Custom': 'é 中 😀', 'X-Empty': '' }]) {
      const u = new URL(url);
      const req = { method: 'GET', host: u.host, path: u.pathname, query: [...u.searchParams], headers: Object.entries(headers), body: Buffer.alloc(0) };
      const got = s.sign(url, { headers });
      const want = ref.apigSign(req, ak, sk);
      assert.equal(got.authorization, want.authorization, url.slice(0, 80));
      assert.equal(got.headers.Authorization, want.authorization);
      assert.equal(got.headers.Host, u.host);
    }
  }
});

test('parseForm reads the pieces as URLSearchParams decodes them (non-ASCII, empty, long, repeated)', () => {
  for (const q of [
    '',
    'a=1',
    'a=&b&&c=%20+x&a=2',
    'q=%C3%A9+%E4%B8%AD&r=%F0%9F%98%80&%E2%82%AC=euro',
    'é=中&😀=x',
    `long=${'%C3%A9'.repeat(2000)}${'y'.repeat(20000)}&${'k'.repeat(3000)}=`,
    '?x=1&y=2',
  ]) {
    const want = [...new URLSearchParams(q.replace(/^\?/, ''))];
    assert.deepEqual(k.parseForm(q), want, q.slice(0, 60));
  }
});

// verifyKit's arguments: the headers appended after the body into the
// arena (any count: the core cuts up to 24 arguments and 16 pairs on the
// stack, more on the heap), written as one ASCII run or one by one.
test('verifyKit: the headers as the core reads them, any count, non-ASCII, empty, lone surrogates, long values', () => {
  const KEY = 'SECRET-key-0f9e8d7c';
  const body = Buffer.from('{"activity":"newInstance","orderId":"é😀"}');
  const ts = String(Date.now());
  const nonce = 'n0nce-0123456789';
  const good = { 'x-sign': ref.kitSignature(body, KEY, nonce, ts), 'x-timestamp': ts, 'x-nonce': nonce };
  const fillers = (n, v) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`x-filler-${i}`, typeof v === 'function' ? v(i) : v]));
  const cases = [
    {},
    { Host: 'é.example.com', 'X-Empty': '' },
    { 'X-Lone': LONE, 'x-lone-2': `a${LONE}b\udc00` },
    { 'X-Long': LONG },
    fillers(7, 'v'), // 1 + 2 × 10 = 21 arguments: on the stack
    fillers(12, 'é'), // 31 arguments, 15 pairs
    fillers(13, ''), // 16 pairs
    fillers(14, (i) => `中${i}`), // 17 pairs: on the heap
    fillers(60, (i) => (i % 2 ? LONE : 'x'.repeat(i * 50))),
  ];
  for (const extra of cases) {
    for (const first of [true, false]) {
      const headers = first ? { ...good, ...extra } : { ...extra, ...good };
      const v = k.verifyKit(headers, body, KEY);
      assert.equal(v.keyIndex, 0);
      assert.equal(v.timestampMs, Number(ts));
      assert.equal(ref.verifyKit(headers, body, KEY), 0);
      // The same as a Map, a [name, value] list and Node's rawHeaders.
      assert.equal(k.verifyKit(new Map(Object.entries(headers)), body, KEY).keyIndex, 0);
      assert.equal(k.verifyKit(Object.entries(headers), body, KEY).keyIndex, 0);
      assert.equal(k.verifyKit(Object.entries(headers).flat(), body, KEY).keyIndex, 0);
      // A wrong signature, a missing header, a non-ASCII or empty nonce: the core's errors.
      assert.throws(() => k.verifyKit({ ...headers, 'x-sign': ref.kitSignature(body, 'other', nonce, ts) }, body, KEY), k.SignatureMismatchError);
      const { 'x-nonce': _n, ...noNonce } = headers;
      assert.throws(() => k.verifyKit(noNonce, body, KEY), (e) => e instanceof k.MissingParameterError && e.parameter === 'x-nonce');
      for (const [bad, Cls] of [['', k.MissingParameterError], ['é', k.MalformedEncodingError], [LONE, k.MalformedEncodingError], ['x'.repeat(5000), k.InputTooLargeError]]) {
        const h = { ...headers, 'x-nonce': bad, 'x-sign': ref.kitSignature(body, KEY, bad, ts) };
        assert.throws(() => ref.verifyKit(h, body, KEY), (e) => e.code === Cls.code);
        assert.throws(() => k.verifyKit(h, body, KEY), Cls, `nonce ${JSON.stringify(bad.slice(0, 8))}`);
      }
    }
  }
  // undefined and null header values are left out, a list gives one pair per value.
  assert.equal(k.verifyKit({ ...good, 'x-none': undefined, 'x-null': null, 'x-list': ['a', 'é', ''] }, body, KEY).keyIndex, 0);
  assert.throws(() => k.verifyKit(5, body, KEY), TypeError);
});
