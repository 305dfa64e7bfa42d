// vectors/answers.jsonl over real loopback HTTP against the two examples of
// examples/node (Express and node:http, both over the core's Merchant):
// each answer is checked with the core's checkResponse (HTTP 200, Body-Sign
// once, strict, over the exact bytes, under key 0; a known resultCode), and
// has the case's resultCode; a verified case reaches the application with
// the activity and fields the core verified.
import test from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import * as k from 'koosign';
import { EXAMPLES } from './paths.mjs';
import { CASES, priorsOf, bodyOf, fieldsOf, DOWN } from './answers-cases.mjs';

const require = createRequire(join(EXAMPLES, 'package.json'));

/** Sends a case's request as it stands (any method, a body on GET too); resolves { status, rawHeaders, body }. */
function send(base, c) {
  const body = bodyOf(c);
  const url = new URL(`${c.path}${c.query ? `?${c.query}` : ''}`, base);
  return new Promise((resolve, reject) => {
    const headers = {};
    for (const [n, v] of c.headers) headers[n] = v;
    if (body.length > 0 || c.method !== 'GET') headers['Content-Length'] = String(body.length);
    const req = http.request(url, { method: c.method, headers }, (res) => {
      const chunks = [];
      res.on('data', (d) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode, rawHeaders: res.rawHeaders, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The application of the examples, recording what reached it. */
function recorder() {
  const seen = [];
  return { seen, handle: (activity, notification) => (seen.push({ activity, notification }), { resultCode: '000000' }) };
}

const SERVERS = {
  'examples/node/express-merchant.js': (c, app, nonceStore) =>
    require('./express-merchant.js').createApp({ accessKeys: c.access_keys, app, nonceStore, now: () => c.now_ms }),
  'examples/node/http-merchant.js': (c, app, nonceStore) =>
    require('./http-merchant.js').createServer({ accessKey: c.access_keys, app, nonceStore, now: () => c.now_ms }),
};

async function listen(handler) {
  const server = handler.listen ? await new Promise((r) => { const s = handler.listen(0, '127.0.0.1', () => r(s)); }) : null;
  return { base: `http://127.0.0.1:${server.address().port}`, close: () => new Promise((r) => server.close(r)) };
}

for (const [name, make] of Object.entries(SERVERS)) {
  test(`vectors/answers.jsonl over loopback HTTP against ${name}`, async () => {
    let n = 0;
    for (const c of CASES) {
      if (c.access_keys.length === 0) continue; // an endpoint without a key cannot start (NoAccessKeyError: answers.test.mjs)
      const app = recorder();
      const store = c.store.unavailable ? DOWN : new k.NonceStore(c.store.capacity);
      const srv = await listen(make(c, app, store));
      try {
        for (const p of priorsOf(c)) {
          const r = await send(srv.base, p);
          assert.equal(k.checkResponse({ status: r.status, headers: r.rawHeaders, body: r.body }, c.access_keys[0]).resultCode, '000000', `${c.id}: prior`);
        }
        const before = app.seen.length;
        const r = await send(srv.base, c);
        const checked = k.checkResponse({ status: r.status, headers: r.rawHeaders, body: r.body }, c.access_keys[0]);
        const e = c.expect;
        if (e.error !== undefined) {
          assert.equal(checked.resultCode, e.result_code, c.id);
          assert.equal(app.seen.length, before, `${c.id}: a refusal never reaches the application`);
        } else {
          assert.equal(checked.resultCode, '000000', c.id);
          const got = app.seen.at(-1);
          assert.equal(got.activity, e.activity, c.id);
          assert.deepEqual(fieldsOf(e.protocol, got.notification), e.fields, c.id);
        }
        n++;
      } finally {
        await srv.close();
      }
    }
    assert.ok(n >= 100, String(n));
  });
}
