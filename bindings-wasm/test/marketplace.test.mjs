// koosign/marketplace (MarketplaceClient over fetch) against `koosign
// marketplace` over real loopback HTTP, and against loopback servers that
// are slow or answer 5xx (issue 16).
import test from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { MarketplaceClient, MarketplaceError, MarketplaceTimeoutError, MarketplaceUnavailableError } from 'koosign/marketplace';
import { REPO } from './paths.mjs';

const AK = 'nodeMktAK';
const SK = 'nodeMktSecretKey-never-shown';
const BIN = process.env.KOOSIGN_BIN || [resolve(REPO, 'target/release/koosign'), resolve(REPO, 'target/debug/koosign')].find(existsSync);

async function freePort() {
  const s = createServer();
  await new Promise((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address();
  await new Promise((r) => s.close(r));
  return port;
}

async function market() {
  const port = await freePort();
  const data = mkdtempSync(join(tmpdir(), 'koosign-mkt-'));
  const child = spawn(BIN, ['marketplace', '--addr', `127.0.0.1:${port}`, '--ak', AK, '--sk', SK, '--quiet', '--data', data], { stdio: 'ignore' });
  const t = Date.now();
  for (;;) {
    const ok = await new Promise((r) => {
      const c = connect(port, '127.0.0.1', () => { c.end(); r(true); });
      c.on('error', () => r(false));
    });
    if (ok) break;
    assert.ok(Date.now() - t < 10_000, 'koosign marketplace did not start');
    await new Promise((r) => setTimeout(r, 50));
  }
  return { endpoint: `http://127.0.0.1:${port}`, data, stop: () => child.kill() };
}

const MOCKS = [
  ['MOCKPERIODYEARNEW', 'NEW'], ['mockonetimenew', 'NEW'], ['MOCKONDEMAND', 'NEW'], ['MOCKONDEMANDPKG', 'NEW'],
  ['MOCKPERIODDAYTRIAL', 'TRIAL'], ['MOCKMONTYTRIALTOFORMAL', 'TRIAL_TO_FORMAL'], ['MOCKMONTYUNSUBSCRIBE', 'UNSUBSCRIBE'],
  ['MOCKMONTYRENEW', 'RENEW'], ['MOCKMONTYCHANGE', 'CHANGE'],
];

test('against koosign marketplace', { skip: !BIN && 'no koosign binary (cargo build -p koosign-cli)' }, async () => {
  const m = await market();
  try {
    const client = new MarketplaceClient(AK, SK, { endpoint: m.endpoint });
    for (const [id, type] of MOCKS) {
      const r = await client.queryOrder(id, `${id.toUpperCase()}-000001`);
      assert.equal(r.resultCode, 'MKT.0000');
      assert.equal(r.orderInfo.orderId, id.toUpperCase());
      assert.equal(r.orderInfo.orderType, type);
    }
    assert.equal((await client.uploadFile('E-1', 'report.bin', new Uint8Array([0, 255, 1]))).error_code, 'MKT.0000');
    assert.equal((await client.uploadText('E-2', 'delivered 中文')).error_code, 'MKT.0000');
    assert.deepEqual([...readFileSync(join(m.data, 'uploads/000001.bin'))], [0, 255, 1]);
    assert.match(readFileSync(join(m.data, 'uploads/000002.json'), 'utf8'), /delivered 中文/);
    await assert.rejects(client.uploadText('E-3', 'x'.repeat(1025)), (e) => e instanceof MarketplaceError && e.status === 400 && e.code === 'MKT.0101');
    const wrong = new MarketplaceClient(AK, 'wrong', { endpoint: m.endpoint, explain: true });
    await assert.rejects(wrong.queryOrder('MOCKONDEMAND'), (e) => {
      assert.ok(e instanceof MarketplaceError);
      assert.equal(e.status, 401);
      assert.equal(e.code, 'APIGW.0301');
      assert.match(e.gatewayMessage, /verify aksk signature fail/);
      assert.match(e.canonicalRequest, /orderId=MOCKONDEMAND/);
      assert.match(e.stringToSign, /^SDK-HMAC-SHA256\n/);
      assert.ok(!String(e).includes(SK) && !String(e).includes('wrong'));
      return true;
    });
    assert.ok(!String(client).includes(SK));
  } finally {
    m.stop();
  }
});

/** A server answering request i with answers[i] = [status, delayMs]. */
async function scripted(answers) {
  let count = 0;
  const server = createServer((req, res) => {
    const [status, delay] = answers[count++] ?? [200, 0];
    req.resume();
    setTimeout(() => {
      const body = status === 200 ? '{"resultCode":"MKT.0000","resultMsg":"Success","orderInfo":{"orderId":"A"}}' : `{"error_code":"X.${status}","error_msg":"scripted"}`;
      if (!res.destroyed) res.writeHead(status, { 'Content-Type': 'application/json' }).end(body);
    }, delay);
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { endpoint: `http://127.0.0.1:${server.address().port}`, count: () => count, close: () => { server.closeAllConnections(); server.close(); } };
}

test('retries on 5xx and timeouts, never on 4xx', async () => {
  let s = await scripted([[503, 0], [502, 0]]);
  try {
    const r = await new MarketplaceClient(AK, SK, { endpoint: s.endpoint, retries: 2, backoffMs: 5 }).queryOrder('A');
    assert.equal(r.orderInfo.orderId, 'A');
    assert.equal(s.count(), 3);
  } finally { s.close(); }
  s = await scripted(Array(10).fill([500, 0]));
  try {
    await assert.rejects(new MarketplaceClient(AK, SK, { endpoint: s.endpoint, retries: 2, backoffMs: 5 }).queryOrder('A'),
      (e) => e instanceof MarketplaceError && e.status === 500 && e.code === 'X.500');
    assert.equal(s.count(), 3);
  } finally { s.close(); }
  s = await scripted(Array(10).fill([403, 0]));
  try {
    await assert.rejects(new MarketplaceClient(AK, SK, { endpoint: s.endpoint, retries: 3, backoffMs: 5 }).queryOrder('A'),
      (e) => e instanceof MarketplaceError && e.status === 403);
    assert.equal(s.count(), 1);
  } finally { s.close(); }
  s = await scripted(Array(10).fill([200, 3000]));
  try {
    const t = Date.now();
    await assert.rejects(new MarketplaceClient(AK, SK, { endpoint: s.endpoint, retries: 1, timeoutMs: 400, backoffMs: 5 }).queryOrder('A'),
      (e) => e instanceof MarketplaceTimeoutError);
    assert.ok(Date.now() - t < 3000);
    assert.equal(s.count(), 2);
  } finally { s.close(); }
  const port = await freePort();
  await assert.rejects(new MarketplaceClient(AK, SK, { endpoint: `http://127.0.0.1:${port}`, retries: 1, backoffMs: 5 }).queryOrder('A'),
    (e) => e instanceof MarketplaceUnavailableError);
});
