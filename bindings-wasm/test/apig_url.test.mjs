// S6 from a whole URL (docs/SCHEMES.md S6 "(decision) Signing a whole URL"):
// ApigSigner.sign(url) splits the URL with the core (no WHATWG URL in JS).
// * It agrees with Huawei's Python SDK on random URLs (reference/python/
//   apig_ref.py `urls`: the SDK signs the parts a client sends).
// * Round trip through `fetch`: the request fetch sends for the same URL,
//   with the signed headers, is accepted by a loopback server that verifies
//   with the core (verifyApig over what it received).
import test from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import * as k from 'koosign';
import { REPO } from './paths.mjs';

const refPy = process.env.KOOSIGN_REF_PY || resolve(REPO, 'target/ref-venv/bin/python');

test('agrees with the Huawei SDK on random URLs', { skip: !existsSync(refPy) && 'no Huawei SDK reference venv (scripts/setup-ref-venv.sh)' }, () => {
  const seed = process.env.KOOSIGN_REF_SEED || String(process.pid);
  const out = execFileSync(refPy, [resolve(REPO, 'reference/python/apig_ref.py'), 'urls', seed, '400'], { encoding: 'utf8' });
  const cases = out.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(cases.length, 400);
  for (const c of cases) {
    const s = new k.ApigSigner(c.ak, c.sk).sign(c.url, { method: c.method, headers: c.headers, body: c.body });
    assert.equal(s.authorization, c.authorization, `seed ${seed}: ${c.url}`);
    assert.equal(s.headers.Host, c.host, `seed ${seed}: ${c.url}`);
  }
});

/** A loopback server verifying each request with the core, as received. */
async function verifier(port = 0) {
  const seen = [];
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const headers = [];
      for (let i = 0; i < req.rawHeaders.length; i += 2) headers.push([req.rawHeaders[i], req.rawHeaders[i + 1]]);
      let verdict;
      try {
        verdict = k.verifyApig(`http://${req.headers.host}${req.url}`, { method: req.method, headers, body }, [['fetchAK', 'fetchSecretKey']]);
      } catch (e) {
        verdict = e;
      }
      seen.push({ method: req.method, target: req.url, verdict });
      const ok = !(verdict instanceof Error);
      res.writeHead(ok ? 200 : 401).end(ok ? 'ok' : verdict.code);
    });
  });
  await new Promise((r, j) => server.once('error', j).listen(port, '127.0.0.1', r));
  return { server, seen, port: server.address().port };
}

// (method, URL, the path+query fetch must send). {P}: the server's port.
const ROUND_TRIPS = [
  ['GET', 'http://127.0.0.1:{P}/a/./b/../api/order/query?orderId=X&orderLineId=X-1#frag', '/a/api/order/query?orderId=X&orderLineId=X-1'],
  ['GET', 'http://LocalHost:{P}/../../x/..?a=&a=&b#f', '/?a=&a=&b'],
  ['GET', 'http://localhost:{P}/v1/./中文/%41?q=é x&r=%2B&&e', '/v1/%E4%B8%AD%E6%96%87/%41?q=%C3%A9%20x&r=%2B&&e'],
  ['GET', 'http://localhost:0{P}/x/y/../z?o=1', '/x/z?o=1'],
  ['POST', 'http://127.0.0.1:{P}/market-event/E1/../E2/file?x=%20', '/market-event/E2/file?x=%20'],
  ['PUT', "http://127.0.0.1:{P}/p a/é/./?k=a+b&k=&k&q='", "/p%20a/%C3%A9/?k=a+b&k=&k&q=%27"],
];

test('round trip through fetch', async () => {
  const v = await verifier();
  try {
    for (const [method, tmpl, wire] of ROUND_TRIPS) {
      const url = tmpl.replace('{P}', String(v.port));
      const body = method === 'POST' || method === 'PUT' ? '{"orderId":"CS1"}' : undefined;
      const headers = body ? { 'Content-Type': 'application/json' } : {};
      const s = new k.ApigSigner('fetchAK', 'fetchSecretKey').sign(url, { method, headers, body });
      // fetch sets Host itself (a forbidden header name); the signer's is the same.
      const { Host, ...rest } = s.headers;
      const r = await fetch(url, { method, headers: { ...headers, ...rest }, body });
      assert.equal(r.status, 200, `${url}: ${await r.text()}`);
      const last = v.seen.pop();
      assert.equal(last.target, wire, url);
      assert.equal(last.verdict.credentialIndex, 0, url);
      assert.equal(Host.toLowerCase(), Host);
    }
    // One byte changed on the wire is refused by the same server.
    const url = `http://127.0.0.1:${v.port}/a/../order?orderId=A`;
    const { Host, ...h } = new k.ApigSigner('fetchAK', 'fetchSecretKey').sign(url).headers;
    const r = await fetch(url.replace('orderId=A', 'orderId=B'), { headers: h });
    assert.equal(r.status, 401);
    assert.ok(v.seen.pop().verdict instanceof k.SignatureMismatchError);
  } finally {
    v.server.close();
  }
});

test('round trip through fetch with a default port (:80)', async (t) => {
  let v;
  try {
    v = await verifier(80);
  } catch (e) {
    t.skip(`cannot listen on port 80 here (${e.code})`);
    return;
  }
  try {
    for (const url of ['http://LOCALHOST:80/a/../b?x=1', 'http://127.0.0.1:080/c/./d#f']) {
      const { Host, ...h } = new k.ApigSigner('fetchAK', 'fetchSecretKey').sign(url).headers;
      assert.ok(!Host.includes(':'), Host);
      const r = await fetch(url, { headers: h });
      assert.equal(r.status, 200, `${url}: ${await r.text()}`);
      assert.equal(v.seen.pop().verdict.credentialIndex, 0);
    }
  } finally {
    v.server.close();
  }
});

test('URLs the clients disagree on are refused', () => {
  const s = new k.ApigSigner('AK', 'SK');
  assert.throws(() => s.sign('http://h/a/%2e%2e/b'), k.AmbiguousError);
  for (const u of ['http://u:p@h/', 'http://0x7f.1/', 'http://h/a\\b', 'http://h/x%zz', 'ftp://h/']) {
    assert.throws(() => s.sign(u), k.MalformedEncodingError, u);
  }
});
