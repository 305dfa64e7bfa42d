// Differential test: the WebAssembly package against the node:crypto
// reference of test/reference.mjs, on random cases (2000 per scheme by
// default; KOOSIGN_DIFF_CASES to change, KOOSIGN_SEED to replay a run).
import test from 'node:test';
import assert from 'node:assert/strict';
import * as k from 'koosign';
import * as ref from './reference.mjs';

const CASES = Number(process.env.KOOSIGN_DIFF_CASES || 2000);
const SEED = Number(process.env.KOOSIGN_SEED || Date.now() % 2 ** 31);
console.log(`# differential: ${CASES} cases per scheme, KOOSIGN_SEED=${SEED}`);

/** mulberry32: a small seeded PRNG, uniform in [0, 1). */
function rng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function gen(seed) {
  const r = rng(seed);
  const int = (n) => Math.floor(r() * n);
  const pick = (xs) => xs[int(xs.length)];
  // Characters chosen for the pitfalls: +, %, &, =, space, non-ASCII,
  // astral (surrogate pairs, which sort differently in UTF-16), U+FF61
  // (above the surrogates), controls.
  const NASTY = ['+', '%', '&', '=', ' ', '?', '#', '/', '~', '*', '"', '\\', 'é', '中', '文', '😀', '\uff61', '\n', '\t'];
  const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  const text = (max, nasty = 0.2) => {
    let s = '';
    const n = int(max + 1);
    for (let i = 0; i < n; i++) s += r() < nasty ? pick(NASTY) : ALNUM[int(62)];
    return s;
  };
  const alnum = (n) => Array.from({ length: n }, () => ALNUM[int(62)]).join('');
  const bytes = (max) => Buffer.from(Array.from({ length: int(max + 1) }, () => int(256)));
  const key = () => (r() < 0.8 ? `${alnum(8)}-${alnum(4)}-${alnum(4)}-${alnum(12)}` : text(24, 0.4) || 'k');
  const v1Stamp = () => {
    const t = Date.UTC(1971 + int(80), int(12), 1 + int(28), int(24), int(60), int(60), int(1000));
    return new Date(t).toISOString().replace(/[-:TZ.]/g, '');
  };
  return { r, int, pick, text, alnum, bytes, key, v1Stamp };
}

/** What a call did: 'OK', or the error code it threw (the package's, or the reference's RefError). */
function outcome(fn) {
  try {
    fn();
    return 'OK';
  } catch (e) {
    if (e instanceof k.KoosignError || e instanceof ref.RefError) return e.code;
    throw e;
  }
}

/**
 * Timestamps around the S2 rule (13 digits, no leading zero): mostly valid,
 * sometimes with a leading zero (the digit-shift replay), a digit short or
 * over, or not digits.
 */
function v2Timestamp(g) {
  const ts = String(1_600_000_000_000 + g.int(2 ** 40));
  const r = g.r();
  if (r < 0.8) return ts;
  if (r < 0.86) return `0${ts}`;
  if (r < 0.9) return ts.slice(0, 12);
  if (r < 0.94) return `${ts}${g.int(10)}`;
  if (r < 0.97) return ts.replace(/\d$/, 'x');
  return g.pick(['', ' ', `+${ts.slice(1)}`, `${ts} `]);
}

/** Nonces around the S2 rule (1–256 printable ASCII): mostly alphanumeric, sometimes not. */
function v2Nonce(g) {
  const r = g.r();
  if (r < 0.8) return g.alnum(g.pick([16, 32, 64]));
  if (r < 0.85) return '';
  if (r < 0.9) return g.alnum(g.pick([256, 257, 300]));
  return g.text(20, 0.5);
}

function forCases(name, body) {
  test(`${name}: ${CASES} random cases agree with the node:crypto reference`, () => {
    for (let i = 0; i < CASES; i++) {
      const g = gen(SEED * 7919 + i * 104729 + name.length);
      try {
        body(g, i);
      } catch (e) {
        e.message = `[${name} case ${i}, KOOSIGN_SEED=${SEED}] ${e.message}`;
        throw e;
      }
    }
  });
}

forCases('S1 V1 query', (g) => {
  const key = g.key();
  const pairs = [];
  const n = g.int(12);
  for (let j = 0; j < n; j++) {
    const name = g.r() < 0.2 && pairs.length ? g.pick(pairs)[0] : g.text(10, 0.3) || 'p';
    if (name === 'authToken' || name === 'timeStamp') continue;
    pairs.push([name, g.r() < 0.15 ? '' : g.text(20)]);
  }
  pairs.splice(g.int(pairs.length + 1), 0, ['timeStamp', g.v1Stamp()]);
  const query = ref.buildV1Query(pairs, key);
  // Signing never refuses: the token and the wire query agree for every case.
  assert.equal(k.v1AuthToken(pairs, key), ref.v1Token(pairs, key));
  assert.equal(k.buildV1Query(pairs, key), query);
  // Verifying: the same outcome as the reference, which applies S1 item 10
  // (the ambiguity refusal) on its own.
  const want = outcome(() => ref.verifyV1(query, key));
  assert.equal(outcome(() => k.verifyV1(query, [`${key}-other`, key])), want);
  assert.equal(want === 'AMBIGUOUS', ref.v1Ambiguous(pairs));
  if (want === 'AMBIGUOUS') {
    // No canonical string exists for an ambiguous request; a changed token is refused as ambiguous too.
    assert.throws(() => k.v1Canonical(query), k.AmbiguousError);
    assert.throws(() => k.verifyV1(query.replace(/authToken=(.)/, 'authToken=A'), key), k.AmbiguousError);
    return;
  }
  assert.equal(want, 'OK');
  assert.equal(k.v1Canonical(query), ref.v1Canonical(pairs));
  const v = k.verifyV1(query, [`${key}-other`, key]);
  assert.equal(v.keyIndex, 1);
  assert.deepEqual(v.pairs, ref.v1CanonicalPairs(pairs));
  assert.deepEqual(v.params, ref.verifyV1(query, key).params);
  // Any change of the token is refused.
  const tampered = query.replace(/authToken=(.)/, (m, c) => `authToken=${c === 'A' ? 'B' : 'A'}`);
  assert.throws(() => k.verifyV1(tampered, key), k.SignatureMismatchError);
  // With a store the token is the replay nonce (S1 item 8): the same query twice is a replay.
  const store = new k.NonceStore(256);
  k.verifyV1(query, key, { nonceStore: store, now: v.timestampMs, window: 300_000 });
  assert.ok(store.has(ref.verifyV1(query, key).nonce, v.timestampMs));
  assert.throws(() => k.verifyV1(query, key, { nonceStore: store, now: v.timestampMs + 1, window: 300_000 }), k.ReplayedNonceError);
});

forCases('S1b V1 JSON', (g) => {
  const key = g.key();
  // At most one structural defect per case, and then plain text elsewhere,
  // so that the reference's verdict does not depend on the core's scan order.
  const defect = g.r() < 0.3 ? g.pick(['nonString', 'duplicate', 'authToken']) : null;
  const members = [];
  const n = g.int(8);
  for (let j = 0; j < n; j++) {
    const name = (defect ? g.alnum(1 + g.int(8)) : g.text(8, 0.3)) || 'p';
    if (name === 'authToken' || name === 'timeStamp' || members.some(([m]) => m === name)) continue;
    members.push([name, g.r() < 0.15 ? g.pick(['', ' ', '\t']) : defect ? g.alnum(g.int(16)) : g.text(16)]);
  }
  members.splice(g.int(members.length + 1), 0, ['timeStamp', g.v1Stamp()]);
  // Blank members are not signed (S1b), but stay in the body.
  const token = ref.v1Token(members.filter(([, v]) => v.trim() !== ''), key);
  const texts = members.map(([m, v]) => `${JSON.stringify(m)}:${JSON.stringify(v)}`);
  let want;
  if (defect === 'nonString') {
    texts.splice(g.int(texts.length + 1), 0, `"x${g.alnum(4)}":${g.pick(['1', '-0.5', 'true', 'null', '{"a":"b"}', '["a"]'])}`);
    want = 'MALFORMED_ENCODING';
  } else if (defect === 'duplicate') {
    texts.push(`${JSON.stringify(g.pick(members)[0])}:"EVIL"`);
    want = 'MALFORMED_ENCODING';
  } else if (defect === 'authToken') {
    texts.splice(g.int(texts.length + 1), 0, `"authToken":${JSON.stringify(token)}`);
    want = 'AMBIGUOUS';
  } else {
    want = ref.v1Ambiguous(members) ? 'AMBIGUOUS' : 'OK';
  }
  const body = `{${texts.join(g.pick([',', ', ', ' ,\n']))}}`;
  assert.equal(outcome(() => k.verifyV1Json(token, body, [`${key}-other`, key])), want, body);
  if (want !== 'OK') return;
  const v = k.verifyV1Json(token, body, [`${key}-other`, key]);
  assert.equal(v.keyIndex, 1);
  assert.deepEqual(v.pairs, ref.v1CanonicalPairs(members.filter(([, x]) => x.trim() !== '')));
  const tampered = token.replace(/^./, (c) => (c === 'A' ? 'B' : 'A'));
  assert.throws(() => k.verifyV1Json(tampered, body, key), k.SignatureMismatchError);
});

forCases('S2 V2 basic', (g, i) => {
  const key = g.key();
  const body = g.r() < 0.5 ? Buffer.from(JSON.stringify({ activity: g.text(12), orderId: g.text(20), note: g.text(60, 0.4) })) : g.bytes(600);
  const nonce = v2Nonce(g);
  const ts = v2Timestamp(g);
  const sig = ref.v2Signature(body, key, nonce, ts);
  assert.equal(k.signV2(body, key, nonce, ts), sig);
  assert.equal(k.v2Inner(body, key), ref.hmac(Buffer.from(key), body).toString('hex'));
  const wire = i % 2 ? sig.toLowerCase() : sig;
  const q = `nonce=${encodeURIComponent(nonce)}&timestamp=${encodeURIComponent(ts)}&signature=${wire}&other=${encodeURIComponent(g.text(8))}`;
  const now = (ref.isUnixMs13(ts) ? Number(ts) : 1_700_000_000_000) + g.int(120_001) - 60_000;
  const want = outcome(() => ref.verifyV2(q, body, [key], now));
  assert.equal(outcome(() => k.verifyV2(q, body, [key], { now })), want);
  if (want !== 'OK') return;
  const v = k.verifyV2(q, body, [key], { now });
  assert.equal(v.keyIndex, ref.verifyV2(q, body, [key], now).keyIndex);
  assert.equal(v.timestampMs, Number(ts));
  const changed = Buffer.from(body.length ? body : Buffer.from('x'));
  changed[g.int(changed.length)] ^= 1 << g.int(8);
  assert.throws(() => k.verifyV2(q, changed, key, { now }), k.SignatureMismatchError);
});

forCases('S2b kit', (g) => {
  const key = g.key();
  // Random bytes (mostly after a `{`; a leading ASCII digit now and then), or JSON.
  const x = g.r();
  const body = x < 0.15 ? g.bytes(400) : x < 0.7 ? Buffer.concat([Buffer.from('{'), g.bytes(400)]) : Buffer.from(JSON.stringify({ activity: g.text(12) }));
  const nonce = v2Nonce(g);
  const ts = v2Timestamp(g);
  const sig = ref.kitSignature(body, key, nonce, ts);
  assert.equal(k.signKit(body, key, nonce, ts), sig);
  const up = (s) => (g.r() < 0.5 ? s.toUpperCase() : s);
  const headers = { [up('x-sign')]: g.r() < 0.5 ? sig.toLowerCase() : sig, [up('x-timestamp')]: ts, [up('x-nonce')]: nonce, host: 'h' };
  const want = outcome(() => ref.verifyKit(headers, body, key));
  assert.equal(outcome(() => k.verifyKit(headers, body, key, { window: null })), want);
  if (want === 'OK') assert.equal(k.verifyKit(headers, body, key, { window: null }).keyIndex, ref.verifyKit(headers, body, key));
});

forCases('S3 Body-Sign', (g) => {
  const key = g.key();
  const body = g.r() < 0.5 ? g.bytes(800) : Buffer.from(g.text(200, 0.5));
  assert.equal(k.bodySign(body, key), ref.bodySign(body, key));
  assert.equal(k.verifyBodySign(ref.bodySign(body, key), body, key), 0);
});

forCases('S4 fields', (g) => {
  const key = g.key();
  const type = g.pick(['1', '2']);
  let plaintext = g.text(40, 0.3);
  while (Buffer.byteLength(plaintext) > k.MAX_PLAINTEXT_LEN) plaintext = plaintext.slice(0, -1);
  const iv = g.alnum(16);
  assert.deepEqual(Buffer.from(k.deriveKey(key, type === '1' ? 256 : 128)), ref.deriveKey(key, type === '1' ? 256 : 128));
  const wire = ref.encryptField(plaintext, key, type, iv);
  assert.equal(k.encryptField(plaintext, key, type, { iv }), wire);
  assert.equal(k.decryptField(wire, key, type), plaintext);
  assert.equal(k.decryptField(wire.replace(/\+/g, ' '), key, 'auto'), plaintext);
  // A random IV from the package, decrypted by the reference.
  const fresh = k.encryptField(plaintext, key, type);
  assert.equal(ref.decryptField(fresh, key, type), plaintext);
});

forCases('S5 licence', (g) => {
  const key = g.key();
  const ts = v2Timestamp(g);
  const nonce = g.text(20, 0.3);
  const body = g.bytes(300);
  const sig = ref.licenceSignature(ts, nonce, body, key);
  assert.equal(k.licenceSign(ts, nonce, body, key), sig);
  const keys = [`${key}-other`, key];
  const want = outcome(() => ref.verifyLicence(ts, nonce, body, sig, keys));
  assert.equal(outcome(() => k.verifyLicence(ts, nonce, body, sig, keys)), want);
  if (want === 'OK') assert.equal(k.verifyLicence(ts, nonce, body, sig, keys), 1);
});

forCases('S6 APIG', (g) => {
  const ak = g.alnum(20);
  const sk = g.alnum(40);
  const segs = Array.from({ length: 1 + g.int(4) }, () => g.text(8, 0.3).replace(/[%/?#\\]/g, '') || 'x');
  const path = '/' + segs.map(encodeURIComponent).join('/') + (g.r() < 0.3 ? '/' : '');
  const query = Array.from({ length: g.int(5) }, () => [g.text(6, 0.2) || 'q', g.text(10, 0.3)]);
  const headers = [['X-Sdk-Date', '2024' + String(1 + g.int(9)).padStart(2, '0') + '15T1' + g.int(10) + '3000Z']];
  if (g.r() < 0.5) headers.push(['Content-Type', 'application/json']);
  if (g.r() < 0.5) headers.push(['X-Project-Id', ` ${g.alnum(10)} `]);
  const body = g.r() < 0.5 ? '' : JSON.stringify({ orderId: g.text(10) });
  const method = g.pick(['GET', 'POST', 'PUT', 'DELETE']);
  const req = { method, host: 'mkt.myhuaweicloud.com', path, query, headers, body };
  const want = ref.apigSign(req, ak, sk);
  const got = new k.ApigSigner(ak, sk).sign({ host: req.host, path, query }, { method, headers, body });
  assert.equal(got.canonicalQuery, want.canonicalQuery);
  assert.equal(got.authorization, want.authorization);
});
