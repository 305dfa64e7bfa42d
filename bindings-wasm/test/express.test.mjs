// The Express middleware with a real Express app listening on loopback:
// requests signed by the node:crypto reference, responses' Body-Sign checked
// by the reference over the exact bytes received.
import test from 'node:test';
import assert from 'node:assert/strict';
import express from 'express';
import { koosignMiddleware } from 'koosign/express';
import { NonceStore, MAX_NOTIFICATION_BODY } from 'koosign';
import * as ref from './reference.mjs';

const KEY = 'merchant-access-key-1';
const OLD = 'merchant-access-key-0';

let seq = 0;
function v2Request(body, { key = KEY, ts = String(Date.now()), nonce = `nonce-${++seq}-${Math.random()}` } = {}) {
  return { query: `signature=${ref.v2Signature(body, key, nonce, ts)}&timestamp=${ts}&nonce=${encodeURIComponent(nonce)}`, body };
}

async function listen(app) {
  const server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  return { base: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((r) => server.close(r)) };
}

/** fetch + the checks the marketplace makes on every answer. */
async function call(url, init, signingKey = KEY) {
  const res = await fetch(url, init);
  const bytes = Buffer.from(await res.arrayBuffer());
  const header = res.headers.get('Body-Sign');
  assert.equal(res.status, 200, bytes.toString());
  assert.equal(header, ref.bodySign(bytes, signingKey), 'Body-Sign over the exact bytes received');
  return { res, json: JSON.parse(bytes.toString('utf8')), bytes };
}

function app(options = {}, before = []) {
  const a = express();
  const seen = [];
  a.all('/produce', ...before, koosignMiddleware({ accessKeys: [OLD, KEY], ...options }), (req, res) => {
    seen.push({ koosign: req.koosign, body: req.body, raw: req.rawBody });
    res.json({ resultCode: '000000', resultMsg: '成功', instanceId: 'i-1', echo: req.koosign.activity ?? null });
  });
  a.post('/stream', koosignMiddleware({ accessKeys: KEY }), (req, res) => {
    res.setHeader('Content-Type', 'application/json');
    res.write('{"resultCode":');
    res.write(Buffer.from('"000000",'));
    res.end('"resultMsg":"streamed"}');
  });
  return { app: a, seen };
}

test('V2: verified notification on req, response signed with the matching key, replay refused', async () => {
  const { app: a, seen } = app();
  const srv = await listen(a);
  try {
    const body = '{"activity":"newInstance","orderId":"o-1","orderLineId":"l-1","testFlag":"1","note":"中文 +&="}';
    const r = v2Request(body);
    const { json } = await call(`${srv.base}/produce?${r.query}`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    assert.equal(json.resultCode, '000000');
    assert.equal(json.echo, 'newInstance');
    assert.equal(seen.length, 1);
    assert.equal(seen[0].koosign.protocol, 'v2');
    assert.equal(seen[0].koosign.keyIndex, 1);
    assert.equal(seen[0].body.note, '中文 +&=');
    assert.equal(seen[0].raw.toString('utf8'), body);
    // The same request again: replay.
    const again = await call(`${srv.base}/produce?${r.query}`, { method: 'POST', body }, OLD);
    assert.equal(again.json.resultCode, '000001');
    // The core's refusal: a fixed resultMsg per code, no detail (issue 13; SCHEMES.md §Answers).
    assert.equal(again.json.resultMsg, 'authentication failed');
    assert.deepEqual(Object.keys(again.json), ['resultCode', 'resultMsg']);
    assert.equal(seen.length, 1);
  } finally {
    await srv.close();
  }
});

test('failures answer 000001 / 000002, signed, and never reach the handler', async () => {
  const { app: a, seen } = app();
  const srv = await listen(a);
  try {
    const body = '{"activity":"releaseInstance","instanceId":"i-1"}';
    const cases = [
      ['wrong key', v2Request(body, { key: 'not-the-key' }).query, body, '000001'],
      ['stale', v2Request(body, { ts: String(Date.now() - 61_000) }).query, body, '000001'],
      ['changed body', v2Request(body).query, body.replace('i-1', 'i-2'), '000001'],
      // SCHEMES.md "Which code a refusal gets" (decision, issue 11): a
      // missing or malformed authentication parameter is refused before
      // authentication, 000001 (as `koosign serve`); these were 000002.
      ['missing nonce', v2Request(body).query.replace(/&nonce=[^&]*/, ''), body, '000001'],
      ['bad escape', `${v2Request(body).query}&x=%zz`, body, '000001'],
      ['leading-zero timestamp', v2Request(body, { ts: `0${Date.now()}` }).query, body, '000001'],
      // Authenticated, but the body is unusable: 000002.
      ['not JSON, signed', v2Request('{"activity":').query, '{"activity":', '000002'],
    ];
    for (const [what, query, sent, code] of cases) {
      const { json } = await call(`${srv.base}/produce?${query}`, { method: 'POST', body: sent }, OLD);
      assert.equal(json.resultCode, code, what);
    }
    assert.equal(seen.length, 0);
  } finally {
    await srv.close();
  }
});

test('kit (x-sign headers) and V1 (GET authToken) through the same route', async () => {
  const { app: a, seen } = app();
  const srv = await listen(a);
  try {
    const body = '{"activity":"newInstance","orderId":"k-1","orderLineId":"k-1-1"}';
    const ts = String(Date.now());
    const nonce = 'kit-nonce-1';
    const { json } = await call(`${srv.base}/produce`, {
      method: 'POST',
      body,
      headers: { 'X-Sign': ref.kitSignature(body, KEY, nonce, ts), 'X-Timestamp': ts, 'X-Nonce': nonce },
    });
    assert.equal(json.resultCode, '000000');
    assert.equal(seen.at(-1).koosign.protocol, 'kit');
    const stamp = new Date().toISOString().replace(/[-:TZ.]/g, '');
    const q = ref.buildV1Query([['activity', 'newInstance'], ['orderId', 'v1-1'], ['customerName', '张 三'], ['timeStamp', stamp]], OLD);
    const v1 = await call(`${srv.base}/produce?${q}`, { method: 'GET' }, OLD);
    assert.equal(v1.json.echo, 'newInstance');
    assert.equal(seen.at(-1).koosign.protocol, 'v1');
    assert.equal(seen.at(-1).koosign.params.customerName, '张 三');
    assert.equal(seen.at(-1).koosign.keyIndex, 0);
  } finally {
    await srv.close();
  }
});

test('after express.raw() the Buffer body is used; after express.json() the request is refused with a clear error', async () => {
  const raw = app({}, [express.raw({ type: '*/*' })]);
  const parsed = app({}, [express.json()]);
  const s1 = await listen(raw.app);
  const s2 = await listen(parsed.app);
  try {
    const body = '{"activity":"upgradeInstance", "instanceId":"i-1"}';
    assert.equal((await call(`${s1.base}/produce?${v2Request(body).query}`, { method: 'POST', body, headers: { 'content-type': 'application/json' } })).json.resultCode, '000000');
    assert.equal(raw.seen[0].raw.toString(), body);
    const res = await fetch(`${s2.base}/produce?${v2Request(body).query}`, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    assert.equal(res.status, 500);
    assert.equal(parsed.seen.length, 0);
  } finally {
    await s1.close();
    await s2.close();
  }
});

test('streamed responses are signed over the concatenated bytes; bodies over the core\'s 1 MiB are 000002', async () => {
  const { app: a, seen } = app();
  const srv = await listen(a);
  try {
    const body = '{"activity":"refreshInstance","instanceId":"i-1"}';
    const { json, res } = await call(`${srv.base}/stream?${v2Request(body).query}`, { method: 'POST', body });
    assert.equal(json.resultMsg, 'streamed');
    assert.equal(res.headers.get('content-length'), String(Buffer.byteLength('{"resultCode":"000000","resultMsg":"streamed"}')));
    // MAX_NOTIFICATION_BODY + 1 bytes, validly signed: refused unread by the core (000002), signed with key 0.
    const big = JSON.stringify({ activity: 'newInstance', orderId: 'o', orderLineId: 'l', pad: 'x'.repeat(MAX_NOTIFICATION_BODY) }).slice(0, MAX_NOTIFICATION_BODY + 1);
    assert.equal(Buffer.byteLength(big), MAX_NOTIFICATION_BODY + 1);
    const r = await call(`${srv.base}/produce?${v2Request(big).query}`, { method: 'POST', body: big }, OLD);
    assert.equal(r.json.resultCode, '000002');
    assert.equal(r.json.resultMsg, 'bad parameters');
    assert.equal(seen.length, 0);
  } finally {
    await srv.close();
  }
});

test('options: a shared NonceStore, a custom clock and window, onError, no signing', async () => {
  const store = new NonceStore({ capacity: 1000 });
  const fixed = 1_700_000_000_000;
  const a = express();
  a.post('/p', koosignMiddleware({ accessKeys: KEY, nonceStore: store, now: () => fixed, window: 5_000, signResponses: false, onError: (e, req, res) => res.end(`custom:${e.code}`) }), (req, res) => res.end('ok'));
  const srv = await listen(a);
  try {
    const body = '{"activity":"releaseInstance","instanceId":"i-9"}';
    const ok = v2Request(body, { ts: String(fixed + 4_000) });
    let res = await fetch(`${srv.base}/p?${ok.query}`, { method: 'POST', body });
    assert.equal(await res.text(), 'ok');
    assert.equal(res.headers.get('Body-Sign'), null);
    assert.equal(store.size, 1);
    res = await fetch(`${srv.base}/p?${v2Request(body, { ts: String(fixed + 6_000) }).query}`, { method: 'POST', body });
    assert.equal(await res.text(), 'custom:STALE_TIMESTAMP');
  } finally {
    await srv.close();
  }
  assert.throws(() => koosignMiddleware({}), TypeError);
  // Detection and the body limit are the core's: the old options are refused, not ignored.
  assert.throws(() => koosignMiddleware({ accessKeys: KEY, protocol: 'v3' }), TypeError);
  assert.throws(() => koosignMiddleware({ accessKeys: KEY, protocol: 'auto' }), TypeError);
  assert.throws(() => koosignMiddleware({ accessKeys: KEY, limit: 64 }), TypeError);
  // Switching a check off is named: null is no longer "none".
  assert.throws(() => koosignMiddleware({ accessKeys: KEY, window: null }), TypeError);
  assert.throws(() => koosignMiddleware({ accessKeys: KEY, nonceStore: null }), TypeError);
});
