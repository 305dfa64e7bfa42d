// Issue 11: the forgery and replay attacks, performed through the package's
// own API (each refused with its typed error), then over loopback HTTP
// against the Express middleware (each answered 000001, signed). The
// examples of examples/node get the same HTTP attacks in examples.test.mjs.
import test from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import express from 'express';
import * as k from 'koosign';
import { koosignMiddleware } from 'koosign/express';
import * as ref from './reference.mjs';

const KEY = 'attack-test-access-key';
const BODY = '{"activity":"newInstance","orderId":"CS1","orderLineId":"CS1-000001","testFlag":"1"}';
const TS = '1680508066618';
const NOW = Number(TS) + 1_000;

/** Runs fn; expects exactly the class `Cls` (and its code). */
function refused(fn, Cls, what) {
  assert.throws(fn, (e) => {
    assert.ok(e instanceof Cls, `${what}: expected ${Cls.name}, got ${e && e.name}: ${e && e.message}`);
    assert.equal(e.code, Cls.code, what);
    return true;
  });
}

const v2Query = (sig, ts, nonce) => `signature=${sig}&timestamp=${ts}&nonce=${nonce}`;

// ---------------------------------------------------------------------------
// Through the API

test('S2 digit-shift replay: nonce …170 + ts 1680508066618 and nonce …17 + 01680508066618 share a signature; the shifted one is BadTimestampError and leaves the store unchanged', () => {
  const nonce = 'a7c3e9f1b2d4170';
  const shifted = nonce.slice(0, -1); // …17
  const sig = k.signV2(BODY, KEY, nonce, TS);
  // The attack's premise: the undelimited signed string is the same.
  assert.equal(k.signV2(BODY, KEY, shifted, `0${TS}`), sig);
  const store = new k.NonceStore();
  const opts = { now: NOW, nonceStore: store };
  refused(() => k.verifyV2(v2Query(sig, `0${TS}`, shifted), BODY, KEY, opts), k.BadTimestampError, 'shifted before the genuine one');
  assert.equal(store.size, 0);
  assert.ok(!store.has(shifted, NOW));
  // The genuine request still verifies, once.
  assert.equal(k.verifyV2(v2Query(sig, TS, nonce), BODY, KEY, opts).timestampMs, Number(TS));
  assert.equal(store.size, 1);
  refused(() => k.verifyV2(v2Query(sig, TS, nonce), BODY, KEY, opts), k.ReplayedNonceError, 'genuine again');
  refused(() => k.verifyV2(v2Query(sig, `0${TS}`, shifted), BODY, KEY, opts), k.BadTimestampError, 'shifted after the genuine one');
  assert.equal(store.size, 1);
});

test('S2b digit-shift replay (kit headers) and a kit body starting with a digit', () => {
  const nonce = 'kit-nonce-170';
  const sig = k.signKit(BODY, KEY, nonce, TS);
  assert.equal(k.signKit(BODY, KEY, nonce.slice(0, -1), `0${TS}`), sig);
  const store = new k.NonceStore();
  const opts = { now: NOW, nonceStore: store };
  const h = (n, ts) => ({ 'x-sign': sig, 'x-timestamp': ts, 'x-nonce': n });
  refused(() => k.verifyKit(h(nonce.slice(0, -1), `0${TS}`), BODY, KEY, opts), k.BadTimestampError, 'kit shifted');
  assert.equal(store.size, 0);
  assert.equal(k.verifyKit(h(nonce, TS), BODY, KEY, opts).keyIndex, 0);
  refused(() => k.verifyKit(h(nonce, TS), BODY, KEY, opts), k.ReplayedNonceError, 'kit replay');
  // S2b signs `… + timestamp + body`: the last digit of the timestamp can
  // move into the body (1680508066618 + {…} = 168050806661 + 8{…}).
  const json = '{"activity":"x"}';
  const digitBody = `${TS.slice(12)}${json}`;
  const s2 = k.signKit(json, KEY, 'n2', TS);
  assert.equal(k.signKit(digitBody, KEY, 'n2', TS.slice(0, 12)), s2);
  const moved = { 'x-sign': s2, 'x-timestamp': TS.slice(0, 12), 'x-nonce': 'n2' };
  refused(() => k.verifyKit(moved, digitBody, KEY, opts), k.BadTimestampError, 'kit digit moved out of the timestamp');
  // A body starting with a digit is refused whatever the timestamp.
  refused(() => k.verifyKit({ 'x-sign': k.signKit(digitBody, KEY, 'n3', TS), 'x-timestamp': TS, 'x-nonce': 'n3' }, digitBody, KEY, opts), k.AmbiguousError, 'kit digit body');
  assert.equal(store.size, 1);
});

test('S1 merged parameters: orderLineId=L1%26testFlag%3D1 with the token of orderLineId=L1&testFlag=1 is AmbiguousError', () => {
  const ts = '20230403072746618';
  const genuine = [['activity', 'newInstance'], ['orderId', 'CS1'], ['orderLineId', 'L1'], ['testFlag', '1'], ['timeStamp', ts]];
  const token = k.v1AuthToken(genuine, KEY);
  const q = k.buildV1Query(genuine, KEY);
  const v = k.verifyV1(q, KEY);
  assert.equal(v.params.orderLineId, 'L1');
  assert.equal(v.params.testFlag, '1');
  // The forgery: the two parameters merged into one value; same canonical string, same token.
  const forged = `activity=newInstance&orderId=CS1&orderLineId=L1%26testFlag%3D1&timeStamp=${ts}&authToken=${encodeURIComponent(token)}`;
  assert.equal(k.v1AuthToken([['activity', 'newInstance'], ['orderId', 'CS1'], ['orderLineId', 'L1&testFlag=1'], ['timeStamp', ts]], KEY), token);
  refused(() => k.verifyV1(forged, KEY), k.AmbiguousError, 'merged');
  refused(() => k.v1Canonical(forged), k.AmbiguousError, 'no canonical string for it');
  refused(() => k.verifyV1(forged, KEY, { nonceStore: new k.NonceStore() }), k.AmbiguousError, 'with a store');
  // A name carrying the `=` (testFlag%3D1 as a name) is refused as well.
  refused(() => k.verifyV1(`activity=newInstance&orderId=CS1&orderLineId=L1&testFlag%3D1=&timeStamp=${ts}&authToken=${encodeURIComponent(token)}`, KEY), k.AmbiguousError, 'name with =');
  // A value with `&` but no `=` after it stays valid (SCHEMES.md S1 item 10).
  const fine = [['activity', 'newInstance'], ['customerName', 'a+b c&d 客户'], ['timeStamp', ts]];
  assert.equal(k.verifyV1(k.buildV1Query(fine, KEY), KEY).params.customerName, 'a+b c&d 客户');
});

test('S1b unsigned members: a duplicate orderId, a number or a nested object appended is MalformedEncodingError; an authToken member AmbiguousError', () => {
  const ts = '20230403072746618';
  const fields = [['activity', 'getLicense'], ['orderId', 'CS1'], ['timeStamp', ts]];
  const token = k.v1AuthToken(fields, KEY);
  const body = `{"activity":"getLicense","orderId":"CS1","timeStamp":"${ts}"}`;
  assert.equal(k.verifyV1Json(token, body, KEY).params.orderId, 'CS1');
  for (const [what, extra] of [
    ['duplicate orderId', ',"orderId":"EVIL"'],
    ['number', ',"quota":100'],
    ['nested object', ',"o":{"orderId":"EVIL"}'],
  ]) {
    refused(() => k.verifyV1Json(token, body.replace(/}$/, `${extra}}`), KEY), k.MalformedEncodingError, what);
  }
  refused(() => k.verifyV1Json(token, body.replace(/}$/, `,"authToken":"${token}"}`), KEY), k.AmbiguousError, 'authToken member');
});

test('S5 boundary: nonce n1 + body &body=X signs like nonce n1&body= + body X; the latter is AmbiguousError', () => {
  const sig = k.licenceSign(TS, 'n1', '&body=X', KEY);
  assert.equal(k.licenceSign(TS, 'n1&body=', 'X', KEY), sig);
  assert.equal(k.verifyLicence(TS, 'n1', '&body=X', sig, KEY), 0);
  refused(() => k.verifyLicence(TS, 'n1&body=', 'X', sig, KEY), k.AmbiguousError, 'S5 nonce with &');
  refused(() => k.verifyLicence(`0${TS}`, 'n1', '&body=X', k.licenceSign(`0${TS}`, 'n1', '&body=X', KEY), KEY), k.BadTimestampError, 'S5 ts rule');
});

test('S6 body swap: an unsigned X-Sdk-Content-Sha256 carrying the original hash, or a signed one that is not the body hash, is SignatureMismatchError', () => {
  const [ak, sk] = ['AK-attack', 'SK-attack'];
  const url = 'https://mkt.myhuaweicloud.com/api/mkp-openapi-public/global/v1/order/query?orderId=CS1';
  const creds = [[ak, sk]];
  const date = '20230403T072746Z';
  const now = Date.UTC(2023, 3, 3, 7, 27, 46);
  const opts = { now, window: k.APIG_DEFAULT_WINDOW_MS };
  const original = '{"orderId":"CS1","amount":"1"}';
  const swapped = '{"orderId":"CS1","amount":"1000000"}';
  const sha = (b) => createHash('sha256').update(b).digest('hex');
  const sign = (headers, body = original) => new k.ApigSigner(ak, sk).sign(url, { method: 'POST', headers: { 'X-Sdk-Date': date, 'Content-Type': 'application/json', ...headers }, body });
  const sent = (s, extra = {}) => ({ 'X-Sdk-Date': date, 'Content-Type': 'application/json', ...s.headers, ...extra });

  const plain = sign({});
  assert.equal(plain.signedHeaders, 'content-type;host;x-sdk-date');
  assert.deepEqual(k.verifyApig(url, { method: 'POST', headers: sent(plain), body: original }, creds, opts), { credentialIndex: 0, unsignedPayload: false });
  refused(() => k.verifyApig(url, { method: 'POST', headers: sent(plain), body: swapped }, creds, opts), k.SignatureMismatchError, 'swapped body');
  // The attack: the original hash in an unsigned header.
  refused(
    () => k.verifyApig(url, { method: 'POST', headers: sent(plain, { 'X-Sdk-Content-Sha256': sha(original) }), body: swapped }, creds, opts),
    k.SignatureMismatchError,
    'unsigned X-Sdk-Content-Sha256 with the original hash',
  );
  // A signed X-Sdk-Content-Sha256 must be the real hash (or UNSIGNED-PAYLOAD).
  const withHash = sign({ 'X-Sdk-Content-Sha256': sha(original) });
  assert.match(withHash.signedHeaders, /x-sdk-content-sha256/);
  assert.equal(k.verifyApig(url, { method: 'POST', headers: sent(withHash, { 'X-Sdk-Content-Sha256': sha(original) }), body: original }, creds, opts).unsignedPayload, false);
  refused(
    () => k.verifyApig(url, { method: 'POST', headers: sent(withHash, { 'X-Sdk-Content-Sha256': sha(original) }), body: swapped }, creds, opts),
    k.SignatureMismatchError,
    'signed X-Sdk-Content-Sha256 that is not the body hash',
  );
  // UNSIGNED-PAYLOAD verifies, and says the body was not authenticated.
  const unsigned = sign({ 'X-Sdk-Content-Sha256': 'UNSIGNED-PAYLOAD' });
  assert.deepEqual(
    k.verifyApig(url, { method: 'POST', headers: sent(unsigned, { 'X-Sdk-Content-Sha256': 'UNSIGNED-PAYLOAD' }), body: swapped }, creds, opts),
    { credentialIndex: 0, unsignedPayload: true },
  );
  // A second copy of a signed header is ambiguous.
  const twice = [...Object.entries(sent(plain)), ['Content-Type', 'text/plain']];
  refused(() => k.verifyApig(url, { method: 'POST', headers: twice, body: original }, creds, opts), k.AmbiguousError, 'repeated signed header');
  // Stale past the ±15 min default.
  refused(() => k.verifyApig(url, { method: 'POST', headers: sent(plain), body: original }, creds, { now: now + k.APIG_DEFAULT_WINDOW_MS + 1, window: k.APIG_DEFAULT_WINDOW_MS }), k.StaleTimestampError, 'stale S6');
});

test('V1 replay through the store: the same query, its token with a space for `+`, another parameter order, and the V1-JSON token are ReplayedNonceError', () => {
  const ts = '20230403072746618';
  const tsMs = Date.UTC(2023, 3, 3, 7, 27, 46, 618);
  let params = [['activity', 'newInstance'], ['orderId', 'CS1'], ['timeStamp', ts]];
  // A token with a `+` in it, for the space-as-plus variant.
  for (let i = 0; !k.v1AuthToken(params, KEY).includes('+'); i++) params = [...params.slice(0, 2), ['n', String(i)], ['timeStamp', ts]];
  const token = k.v1AuthToken(params, KEY);
  const q = k.buildV1Query(params, KEY);
  const store = new k.NonceStore();
  const opts = { now: tsMs + 1_000, window: k.V1_DEFAULT_WINDOW_MS, nonceStore: store };
  assert.equal(k.verifyV1(q, KEY, opts).params.orderId, 'CS1');
  assert.ok(store.has(`v1:${token}`, tsMs + 1_000));
  refused(() => k.verifyV1(q, KEY, opts), k.ReplayedNonceError, 'byte-for-byte');
  const spaced = q.replace(/authToken=.*$/, `authToken=${token.replace(/=/g, '%3D').replace(/\//g, '%2F')}`); // raw `+`: a space once decoded
  assert.ok(spaced.includes('+'));
  refused(() => k.verifyV1(spaced, KEY, opts), k.ReplayedNonceError, 'space for +');
  const reordered = `authToken=${encodeURIComponent(token)}&${q.replace(/&authToken=.*$/, '').split('&').reverse().join('&')}`;
  refused(() => k.verifyV1(reordered, KEY, opts), k.ReplayedNonceError, 'reordered');
  // Without a freshness the store still records it (until timeStamp + V1_DEFAULT_WINDOW_MS).
  const bare = new k.NonceStore();
  k.verifyV1(q, KEY, { nonceStore: bare });
  refused(() => k.verifyV1(q, KEY, { nonceStore: bare }), k.ReplayedNonceError, 'no window given');
  // S1b: the header token is the nonce too.
  const body = `{${params.map(([n, v]) => `"${n}":"${v}"`).join(',')}}`;
  const jsonStore = new k.NonceStore();
  k.verifyV1Json(token, body, KEY, { now: tsMs, window: k.V1_DEFAULT_WINDOW_MS, nonceStore: jsonStore });
  refused(() => k.verifyV1Json(token, body, KEY, { now: tsMs, window: k.V1_DEFAULT_WINDOW_MS, nonceStore: jsonStore }), k.ReplayedNonceError, 'V1 JSON');
  // The window itself: a V1 request older than ±5 min is stale.
  refused(() => k.verifyV1(q, KEY, { now: tsMs + k.V1_DEFAULT_WINDOW_MS + 1, window: k.V1_DEFAULT_WINDOW_MS }), k.StaleTimestampError, 'V1 stale');
});

test('strict Body-Sign: each deviation is MalformedEncodingError naming it', () => {
  const body = '{"resultCode":"000000","resultMsg":"success."}';
  const sig = k.bodySignature(body, KEY);
  const good = k.bodySign(body, KEY);
  assert.equal(k.verifyBodySign(good, body, KEY), 0);
  for (const [value, what] of [
    [`sign_type="hmac-sha256", signature="${sig}"`, 'Body-Sign: sign_type must be exactly HMAC-SHA256'],
    [`sign_type="HMAC-SHA256", signature="${sig}", extra="1"`, 'Body-Sign: unknown attribute'],
    [`, sign_type="HMAC-SHA256", signature="${sig}"`, 'Body-Sign: empty attribute (stray comma)'],
    [`sign_type="HMAC-SHA256", signature="${sig}", signature="${'A'.repeat(43)}="`, 'Body-Sign: duplicate attribute'],
    [`sign_type="HMAC-SHA256", signature=${sig}`, 'Body-Sign: value not quoted'],
    [`sign_type ="HMAC-SHA256", signature="${sig}"`, 'Body-Sign: space before `=`'],
  ]) {
    for (const f of [() => k.verifyBodySign(value, body, KEY), () => k.parseBodySign(value)]) {
      assert.throws(f, (e) => e instanceof k.MalformedEncodingError && e.what === what, value);
    }
  }
  refused(() => k.verifyBodySign(`signature="${sig}"`, body, KEY), k.MissingParameterError, 'no sign_type');
});

test('a verified V2 body with a known field twice is MalformedEncodingError (the core reads it as serve does), not the last copy', () => {
  const dup = '{"activity":"newInstance","orderId":"CS1","orderId":"EVIL","testFlag":"1"}';
  const v = k.verifyV2(v2Query(k.signV2(dup, KEY, 'dup-1', TS), TS, 'dup-1'), dup, KEY, { now: NOW });
  assert.throws(() => v.notification, (e) => e instanceof k.MalformedEncodingError && e.what === 'body is not a valid notification JSON object');
  // Unknown fields are the application's; known ones must be strings.
  const ok = '{"activity":"newInstance","orderId":"CS1","extra":{"n":1}}';
  assert.equal(k.verifyV2(v2Query(k.signV2(ok, KEY, 'dup-2', TS), TS, 'dup-2'), ok, KEY, { now: NOW }).notification.extra.n, 1);
});

// ---------------------------------------------------------------------------
// Over HTTP: the Express middleware

async function listen(app) {
  const server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return { base: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((r) => server.close(r)) };
}

/** fetch + the marketplace's checks: HTTP 200, Body-Sign over the exact bytes. */
async function call(url, init = {}) {
  const res = await fetch(url, { ...init, signal: AbortSignal.timeout(5000) });
  const bytes = Buffer.from(await res.arrayBuffer());
  assert.equal(res.status, 200, bytes.toString());
  assert.equal(res.headers.get('Body-Sign'), ref.bodySign(bytes, KEY), 'Body-Sign over the exact bytes received');
  return JSON.parse(bytes.toString('utf8'));
}

function merchantApp(options = {}) {
  const app = express();
  const seen = [];
  app.all('/produce', koosignMiddleware({ accessKeys: KEY, ...options }), (req, res) => {
    seen.push(req.koosign);
    res.json({ resultCode: '000000', resultMsg: 'success.' });
  });
  return { app, seen };
}

const v1Stamp = (ms) => new Date(ms).toISOString().replace(/[-:TZ.]/g, '');

test('Express middleware over HTTP: each attack is answered 000001, signed, and never reaches the handler', async () => {
  const { app, seen } = merchantApp();
  const srv = await listen(app);
  try {
    const post = (query, body, headers = {}) => call(`${srv.base}/produce?${query}`, { method: 'POST', body, headers: { 'Content-Type': 'application/json', ...headers } });
    // S2 digit shift: refused, and the genuine request still goes through once.
    const ts = String(Date.now());
    const nonce = `n${Date.now()}170`;
    const sig = ref.v2Signature(BODY, KEY, nonce, ts);
    assert.equal((await post(v2Query(sig, `0${ts}`, nonce.slice(0, -1)), BODY)).resultCode, '000001');
    assert.equal((await post(v2Query(sig, ts, nonce), BODY)).resultCode, '000000');
    assert.equal((await post(v2Query(sig, ts, nonce), BODY)).resultCode, '000001');
    assert.equal(seen.length, 1);
    // Kit: shifted digit, digit body.
    const kn = `k${Date.now()}170`;
    const ks = ref.kitSignature(BODY, KEY, kn, ts);
    assert.equal((await post('', BODY, { 'X-Sign': ks, 'X-Timestamp': `0${ts}`, 'X-Nonce': kn.slice(0, -1) })).resultCode, '000001');
    const digit = '7{"activity":"x"}';
    assert.equal((await post('', digit, { 'X-Sign': ref.kitSignature(digit, KEY, 'kd', ts), 'X-Timestamp': ts, 'X-Nonce': 'kd' })).resultCode, '000001');
    // A kit header alone makes it kit (as serve): the missing ones are 000001, not a V2 read.
    assert.equal((await post(v2Query(sig, ts, `${nonce}x`), BODY, { 'X-Nonce': 'only-this' })).resultCode, '000001');
    // Missing or malformed authentication parameters, before authentication: 000001.
    assert.equal((await post(`signature=${sig}&timestamp=${ts}`, BODY)).resultCode, '000001');
    assert.equal((await post(`${v2Query(sig, ts, 'n-esc')}&x=%zz`, BODY)).resultCode, '000001');
    assert.equal((await post(v2Query(sig, ts, 'n%C3%A9'), BODY)).resultCode, '000001'); // non-ASCII nonce
    // S1 merge.
    const stamp = v1Stamp(Date.now());
    const genuine = [['activity', 'newInstance'], ['orderId', 'CS1'], ['orderLineId', 'L1'], ['testFlag', '1'], ['timeStamp', stamp]];
    const token = ref.v1Token(genuine, KEY);
    const forged = `activity=newInstance&orderId=CS1&orderLineId=L1%26testFlag%3D1&timeStamp=${stamp}&authToken=${encodeURIComponent(token)}`;
    assert.equal((await call(`${srv.base}/produce?${forged}`)).resultCode, '000001');
    // V1 replay through the middleware's store, the genuine one once.
    const q = ref.buildV1Query(genuine, KEY);
    assert.equal((await call(`${srv.base}/produce?${q}`)).resultCode, '000000');
    assert.equal((await call(`${srv.base}/produce?${q}`)).resultCode, '000001');
    // V1 of any age: the ±5 min default window.
    const old = ref.buildV1Query([['activity', 'newInstance'], ['orderId', 'CS2'], ['timeStamp', '20200727073711903']], KEY);
    assert.equal((await call(`${srv.base}/produce?${old}`)).resultCode, '000001');
    const sixMin = ref.buildV1Query([['activity', 'newInstance'], ['orderId', 'CS3'], ['timeStamp', v1Stamp(Date.now() - 6 * 60_000)]], KEY);
    assert.equal((await call(`${srv.base}/produce?${sixMin}`)).resultCode, '000001');
    const fourMin = ref.buildV1Query([['activity', 'newInstance'], ['orderId', 'CS4'], ['timeStamp', v1Stamp(Date.now() - 4 * 60_000)]], KEY);
    assert.equal((await call(`${srv.base}/produce?${fourMin}`)).resultCode, '000000');
    // S1b (authToken header): an unsigned member appended, refused before authentication.
    const fields = [['activity', 'getLicense'], ['orderId', 'CS5'], ['timeStamp', v1Stamp(Date.now())]];
    const t5 = ref.v1Token(fields, KEY);
    const b5 = JSON.stringify(Object.fromEntries(fields));
    assert.equal((await post('', b5.replace(/}$/, ',"orderId":"EVIL"}'), { authToken: t5 })).resultCode, '000001');
    assert.equal((await post('', b5, { authToken: t5 })).resultCode, '000000');
    assert.equal((await post('', b5, { authToken: t5 })).resultCode, '000001', 'S1b replay');
    // After authentication: a V2 body with orderId twice is 000002 (as serve), never reaching the handler.
    const dup = '{"activity":"newInstance","orderId":"CS6","orderId":"EVIL","testFlag":"1"}';
    assert.equal((await post(v2Query(ref.v2Signature(dup, KEY, 'dup-n', ts), ts, 'dup-n'), dup)).resultCode, '000002');
    assert.deepEqual(
      seen.map((v) => v.protocol),
      ['v2', 'v1', 'v1', 'v1json'],
    );
  } finally {
    await srv.close();
  }
});

test("Express middleware: a full replay store is 000005; v1Window 'unchecked' switches the V1 window off by name, null and 0 are refused", async () => {
  const store = new k.NonceStore(256);
  const now = Date.now();
  for (let i = 0; i < 256; i++) store.checkAndInsert(`filler-${i}`, now, now + 600_000);
  const { app } = merchantApp({ nonceStore: store, v1Window: 'unchecked' });
  const srv = await listen(app);
  try {
    const ts = String(Date.now());
    const r = await call(`${srv.base}/produce?${v2Query(ref.v2Signature(BODY, KEY, 'one-more', ts), ts, 'one-more')}`, { method: 'POST', body: BODY });
    assert.equal(r.resultCode, '000005');
    // The V1 window off (the store is still consulted, and is full: 000005 again, not a stale 000001).
    const old = ref.buildV1Query([['activity', 'newInstance'], ['orderId', 'CS2'], ['timeStamp', '20200727073711903']], KEY);
    assert.equal((await call(`${srv.base}/produce?${old}`)).resultCode, '000005');
  } finally {
    await srv.close();
  }
  const { app: noStore } = merchantApp({ nonceStore: 'unchecked', v1Window: 'unchecked' });
  const s2 = await listen(noStore);
  try {
    const old = ref.buildV1Query([['activity', 'newInstance'], ['orderId', 'CS2'], ['timeStamp', '20200727073711903']], KEY);
    assert.equal((await call(`${s2.base}/produce?${old}`)).resultCode, '000000');
  } finally {
    await s2.close();
  }
  for (const bad of [null, 0, -1, Number.NaN, '300000', false]) {
    assert.throws(() => koosignMiddleware({ accessKeys: KEY, v1Window: bad }), TypeError, String(bad));
  }
});
