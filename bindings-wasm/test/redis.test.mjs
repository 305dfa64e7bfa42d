// Issue 15: a replay store shared by processes, in Redis (RedisNonceStore
// over node-redis, `SET key 1 NX PX ttl`), with a real redis-server on a free
// loopback port (scripts/test-wasm.sh installs it): two Node processes (the
// node:http and Express examples) on one Redis refuse each other's replays;
// Redis killed: signed 000005, never an unchecked accept; Redis back: the
// same processes recover by themselves.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k from 'koosign';
import * as ref from './reference.mjs';
import { EXAMPLES } from './paths.mjs';

const KEY = 'redis-test-access-key';

function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

async function startRedis(port, dir) {
  assert.equal(spawnSync('redis-server', ['--version']).status, 0, 'redis-server is needed (scripts/test-wasm.sh installs it)');
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  for (let i = 0; i < 100; i++) {
    const up = await new Promise((r) => {
      const c = net.connect(port, '127.0.0.1', () => (c.end(), r(true)));
      c.on('error', () => r(false));
    });
    if (up) return child;
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  throw new Error('redis-server did not start');
}

function stop(child) {
  return new Promise((r) => {
    if (child.exitCode !== null || child.signalCode !== null) return r();
    child.once('exit', r);
    child.kill('SIGKILL');
  });
}

/** Starts an example with KOOSIGN_REDIS_URL; resolves to { url, child }. */
function example(file, redisUrl) {
  const child = spawn(process.execPath, [join(EXAMPLES, file), '--port', '0'], {
    env: { ...process.env, KOOSIGN_ACCESS_KEY: KEY, KOOSIGN_REDIS_URL: redisUrl },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${file} did not start: ${out}`)), 15_000);
    child.on('exit', (code) => reject(new Error(`${file} exited with ${code}: ${out}`)));
    child.stdout.on('data', (d) => {
      out += d;
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ url: m[1], child });
      }
    });
  });
}

let seq = 0;
function v2Request() {
  const body = JSON.stringify({ activity: 'newInstance', orderId: `CS-redis-${++seq}`, orderLineId: `L-${seq}`, testFlag: '1' });
  const ts = String(Date.now());
  const nonce = `redis-nonce-${process.pid}-${seq}-${Math.random()}`;
  return { query: `signature=${ref.v2Signature(body, KEY, nonce, ts)}&timestamp=${ts}&nonce=${encodeURIComponent(nonce)}`, body, nonce };
}

/** POSTs a notification; returns the answer's resultCode after the core's checkResponse (signed, exact bytes). */
async function post(url, r) {
  // node:http, for the response's raw header names (fetch lower-cases them; the contract checks `Body-Sign` exactly).
  const res = await new Promise((resolve, reject) => {
    const req = http.request(`${url}?${r.query}`, { method: 'POST', headers: { 'content-type': 'application/json' } }, (res) => {
      const chunks = [];
      res.on('data', (d) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.rawHeaders, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(r.body);
  });
  return k.checkResponse(res, KEY).resultCode;
}

test('RedisNonceStore: SET NX PX on the core replay key; two Node processes refuse each other\'s replays; Redis down is 000005, then it recovers', { timeout: 60_000 }, async () => {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'koosign-redis-'));
  const redisUrl = `redis://127.0.0.1:${port}/0`;
  let redis = await startRedis(port, dir);
  const procs = [];
  try {
    // The store on its own: the key is prefix + sha256(replay key), as Python's; a replay is false; the TTL is set.
    const store = await k.RedisNonceStore.fromUrl(redisUrl);
    try {
      const now = Date.now();
      assert.equal(store.key('n-1'), `koosign:nonce:${createHash('sha256').update('n-1').digest('hex')}`);
      assert.equal(await store.checkAndInsert('n-1', now + 60_000, now), true);
      assert.equal(await store.checkAndInsert('n-1', now + 60_000, now), false);
      const ttl = await store.client.pTTL(store.key('n-1'));
      assert.ok(ttl > 59_000 && ttl <= 60_000, String(ttl));
    } finally {
      await store.close();
    }

    const a = await example('http-merchant.js', redisUrl);
    const b = await example('express-merchant.js', redisUrl);
    procs.push(a.child, b.child);
    // Accepted by one process, a replay to the other (both ways).
    const r1 = v2Request();
    assert.equal(await post(`${a.url}`, r1), '000000');
    assert.equal(await post(`${b.url}`, r1), '000001', 'replay across processes (A then B)');
    assert.equal(await post(`${a.url}`, r1), '000001');
    const r2 = v2Request();
    assert.equal(await post(`${b.url}`, r2), '000000');
    assert.equal(await post(`${a.url}`, r2), '000001', 'replay across processes (B then A)');

    // Redis killed: fresh, genuine requests are refused 000005 (signed), never accepted unchecked.
    await stop(redis);
    const down = [v2Request(), v2Request()];
    assert.equal(await post(a.url, down[0]), '000005');
    assert.equal(await post(b.url, down[1]), '000005');

    // Redis back on the same port: both processes recover by themselves.
    redis = await startRedis(port, dir);
    for (const [name, url] of [['http', a.url], ['express', b.url]]) {
      let code;
      for (let i = 0; i < 60; i++) {
        code = await post(url, v2Request());
        if (code === '000000') break;
        assert.equal(code, '000005', `${name}: while reconnecting only 000005`);
        await new Promise((r) => setTimeout(r, 100));
      }
      assert.equal(code, '000000', `${name} recovered`);
    }
    // The requests refused while Redis was down were never recorded: they pass once now, then are replays.
    assert.equal(await post(a.url, down[0]), '000000');
    assert.equal(await post(b.url, down[0]), '000001');
  } finally {
    for (const p of procs) await stop(p);
    await stop(redis);
  }
});
