#!/usr/bin/env node
// node bindings-wasm/bench.mjs [--quick]
//
// The WebAssembly package against the node:crypto reference of
// test/reference.mjs (what a careful hand-written Node port does), per
// operation, in one run: both sides are timed in alternating rounds on the
// same inputs and the median round is kept. Times are the process's CPU
// time, so that a busy machine (other builds on the same cores) skews them
// less than wall-clock time would. The full run writes BENCH.md;
// --quick (run by scripts/test-wasm.sh) only prints.

import { writeFileSync, statSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { randomBytes, createCipheriv, createDecipheriv } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import * as k from './pkg/index.mjs';
import * as ref from './test/reference.mjs';

const QUICK = process.argv.includes('--quick');
const ROUNDS = QUICK ? 3 : 15;
const TARGET_MS = QUICK ? 15 : 60; // per batch
const WARM_MS = QUICK ? 250 : 1000; // before timing: V8 tiers hot wasm and JS up to its optimising compiler
const here = dirname(fileURLToPath(import.meta.url));

// --- Inputs: realistic notifications -----------------------------------------

const KEY = '4dc00ef2-2cbb-3914-9089-5688cb79f376';
const now = Date.now();
const ts = String(now);
const nonce = '50D83FDECAED6CCD8EF597F2A577950527928BA287D04E6036E92B2806FD17DA';
const v2Body = Buffer.from(
  JSON.stringify({
    activity: 'newInstance',
    businessId: '87b94795-0603-4e24-8ae5-69420d60e3c8',
    orderId: 'CS2211181819B4LVS',
    orderLineId: 'CS2211181819B4LVS-000001',
    testFlag: '1',
  }),
);
const v2Query = `signature=${ref.v2Signature(v2Body, KEY, nonce, ts)}&timestamp=${ts}&nonce=${nonce}`;
const kitHeaders = {
  host: 'merchant.example.com',
  'content-type': 'application/json',
  'content-length': String(v2Body.length),
  'x-sign': ref.kitSignature(v2Body, KEY, nonce, ts),
  'x-timestamp': ts,
  'x-nonce': nonce,
};
const v1Pairs = [
  ['activity', 'newInstance'],
  ['businessId', '61e834ba-7b97-4418-b8f7-e5345137278c'],
  ['customerId', '68cbc86abc2018ab880d92f36422fa0e'],
  ['customerName', '张三 & Co'],
  ['expireTime', '20200727153156'],
  ['orderId', 'CS1906666666ABCDE'],
  ['productId', '00301-666666-0--0'],
  ['testFlag', '1'],
  ['timeStamp', '20200727073711903'],
  ['userId', '9f8e7d6c5b4a'],
  ['userName', 'buyer+1@example.com'],
];
const v1Query = ref.buildV1Query(v1Pairs, KEY);
const response = Buffer.from(
  JSON.stringify({
    resultCode: '000000',
    resultMsg: 'success.',
    instanceId: 'b99339c5-7c70-4032-b3fb-25bee59c8058',
    encryptType: '1',
    appInfo: {
      frontEndUrl: 'https://saas.example.com/app/b99339c5',
      adminUrl: 'https://saas.example.com/admin/b99339c5',
      userName: 'abcdefgh12345678cEmxy4I8pTd8cQfzOXtUKw==',
      password: 'ABCDEFGHijklmn01MpvuA8sUFJisvKp+uf0qIg==',
      memo: 'demo instance',
    },
  }),
);
const wire = ref.encryptField('admin-b99339c5', KEY, '1', 'abcdefgh12345678');

/** The reference's IV: 16 alphanumerics from randomBytes, uniformly (rejection sampling). */
function refIv() {
  const A = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
  let s = '';
  while (s.length < 16) for (const b of randomBytes(32)) if (b < 248 && s.length < 16) s += A[b % 62];
  return s;
}

const OPS = [
  ['verifyV1', 'S1 query, 11 parameters', () => k.verifyV1(v1Query, KEY), () => ref.verifyV1(v1Query, KEY)],
  ['verifyV2', `S2, ${v2Body.length}-byte body, ±60 s`, () => k.verifyV2(v2Query, v2Body, KEY, { now }), () => ref.verifyV2(v2Query, v2Body, KEY, now)],
  ['verifyKit', 'S2b, 6 headers', () => k.verifyKit(kitHeaders, v2Body, KEY, { now }), () => ref.verifyKit(kitHeaders, v2Body, KEY)],
  ['bodySign', `S3, ${response.length}-byte response`, () => k.bodySign(response, KEY), () => ref.bodySign(response, KEY)],
  ['encryptField', 'S4 AES-256, random IV (one-shot: cached context; the reference derives the key per call)', () => k.encryptField('admin-b99339c5', KEY, '1'), () => ref.encryptField('admin-b99339c5', KEY, '1', refIv())],
  ['decryptField', 'S4 AES-256 (one-shot: cached context; the reference derives the key per call)', () => k.decryptField(wire, KEY, '1'), () => ref.decryptField(wire, KEY, '1')],
];

// The keyed merchant context (built once: the keys' HMAC states and AES
// schedules computed here), against keyed node:crypto references (the AES
// key derived once too; the notification object from JSON.parse).
const merchant = new k.Merchant(KEY, { v1Window: k.UNCHECKED });
const v2Req = { method: 'POST', query: v2Query, headers: { 'content-type': 'application/json' }, body: v2Body };
const kitReq = { method: 'POST', query: '', headers: kitHeaders, body: v2Body };
const v1Req = { method: 'GET', query: v1Query, headers: {}, body: undefined };
const unchecked = { nowMs: now, store: k.UNCHECKED };
const aesKey = ref.deriveKey(KEY, 256);
const refEncryptKeyed = (plain, iv) => {
  const c = createCipheriv('aes-256-cbc', aesKey, Buffer.from(iv));
  return iv + Buffer.concat([c.update(plain, 'utf8'), c.final()]).toString('base64');
};
const refDecryptKeyed = (w) => {
  const d = createDecipheriv('aes-256-cbc', aesKey, Buffer.from(w.slice(0, 16)));
  return Buffer.concat([d.update(Buffer.from(w.slice(16), 'base64')), d.final()]).toString('utf8');
};
OPS.push(
  ['Merchant.verify v1', 'S1 (detect, verify, activity), the params object', () => merchant.verify(v1Req, unchecked).notification, () => ref.verifyV1(v1Query, KEY)],
  ['Merchant.verify v2', 'S2 (detect, verify, ±60 s, strict parse, activity) + .notification', () => merchant.verify(v2Req, unchecked).notification, () => (ref.verifyV2(v2Query, v2Body, KEY, now), JSON.parse(v2Body.toString('utf8')))],
  ['Merchant.verify kit', 'S2b, the same + .notification', () => merchant.verify(kitReq, unchecked).notification, () => (ref.verifyKit(kitHeaders, v2Body, KEY), JSON.parse(v2Body.toString('utf8')))],
  ['Merchant.bodySign', `S3, ${response.length}-byte response, keyed`, () => merchant.bodySign(response), () => ref.bodySign(response, KEY)],
  ['Merchant.encrypt', 'S4 AES-256, key derived once on both sides', () => merchant.encrypt('admin-b99339c5', '1'), () => refEncryptKeyed('admin-b99339c5', refIv())],
  ['Merchant.decrypt', 'S4 AES-256, key derived once on both sides', () => merchant.decrypt(wire, '1'), () => refDecryptKeyed(wire)],
);

// S6 — the order-query call of the Python bench: the URL split (the
// reference with WHATWG URL and its searchParams), X-Sdk-Date given, signed.
const APIG_AK = 'QTWAOYTTINDUT2QVKYUC';
const APIG_SK = 'MFyfvK41ba2giqM7Uio6PznpdUKGpownRZlmVmHc';
const APIG_URL = 'https://mkt.myhuaweicloud.com/api/mkp-openapi-public/global/v1/order/query?orderId=CS2211181819B4LVS&orderLineId=CS2211181819B4LVS-000001';
const apigHeaders = { 'X-Sdk-Date': '20230403T075426Z' };
const apigSigner = new k.ApigSigner(APIG_AK, APIG_SK);
const refApig = () => {
  const u = new URL(APIG_URL);
  const req = { method: 'GET', host: u.host, path: u.pathname, query: [...u.searchParams], headers: Object.entries(apigHeaders), body: Buffer.alloc(0) };
  return ref.apigSign(req, APIG_AK, APIG_SK).authorization;
};
if (apigSigner.sign(APIG_URL, { headers: apigHeaders }).headers.Authorization !== refApig()) throw new Error('APIG: wasm and reference disagree');
OPS.push(['ApigSigner.sign', 'S6 order query: URL split, X-Sdk-Date given', () => apigSigner.sign(APIG_URL, { headers: apigHeaders }).headers.Authorization, refApig]);

// --- Timing ------------------------------------------------------------------

/** ns of CPU time (user + system) per call: robust when other processes share the cores. */
function batch(fn, n) {
  const c0 = process.cpuUsage();
  for (let i = 0; i < n; i++) fn();
  const c = process.cpuUsage(c0);
  return ((c.user + c.system) * 1000) / n;
}

/** Runs fn for about `ms` milliseconds. */
function warm(fn, ms) {
  const end = process.hrtime.bigint() + BigInt(ms * 1e6);
  while (process.hrtime.bigint() < end) for (let i = 0; i < 100; i++) fn();
}

/** Iterations for a batch of about TARGET_MS. */
function calibrate(fn) {
  let n = 16;
  for (;;) {
    const t = batch(fn, n) * n;
    if (t > (TARGET_MS * 1e6) / 4 || n > 1e7) return Math.max(16, Math.round((n * TARGET_MS * 1e6) / Math.max(t, 1)));
    n *= 4;
  }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const rows = [];
for (const [name, what, wasmFn, refFn] of OPS) {
  warm(wasmFn, WARM_MS);
  warm(refFn, WARM_MS);
  const nw = calibrate(wasmFn);
  const nr = calibrate(refFn);
  const w = [];
  const r = [];
  for (let i = 0; i < ROUNDS; i++) {
    w.push(batch(wasmFn, nw));
    r.push(batch(refFn, nr));
  }
  const row = { name, what, wasm: median(w), ref: median(r) };
  row.ratio = row.ref / row.wasm;
  rows.push(row);
  console.log(`${name.padEnd(13)} wasm ${row.wasm.toFixed(0).padStart(7)} ns/op   node:crypto ${row.ref.toFixed(0).padStart(7)} ns/op   ×${row.ratio.toFixed(2)}`);
}

const wasmSize = statSync(join(here, 'pkg/wasm/koosign_wasm_bg.wasm')).size;
const below = rows.filter((r) => r.ratio < 1.5).map((r) => r.name);
const goal = below.length === 0;
console.log(`wasm ${wasmSize} bytes (limit 150000, scripts/test-wasm.sh); goal ≥1.5× on every operation (issue 14): ${goal ? 'met' : `NOT met (${below.join(', ')})`}${QUICK ? ' (quick run)' : ''}`);

if (!QUICK) {
  const cpu = cpus()[0];
  const lines = [
    '# koosign for Node: WebAssembly against node:crypto',
    '',
    `Measured ${new Date().toISOString().slice(0, 10)} with \`node bindings-wasm/bench.mjs\` (after \`scripts/test-wasm.sh\` built the package):`,
    `Node ${process.version}, ${cpus().length} × ${cpu ? cpu.model.trim() : 'unknown CPU'}, load average ${loadavg()[0].toFixed(2)} at the end of the run;`,
    `${WARM_MS} ms of warm-up, then ${ROUNDS} alternating rounds of ~${TARGET_MS} ms per side and operation, median kept; CPU time of the process (user + system). \`.wasm\`: ${wasmSize} bytes (${(wasmSize / 1024).toFixed(1)} KiB), sha2's simd128 backend.`,
    '',
    'The reference is `bindings-wasm/test/reference.mjs`: the schemes written from SCHEMES.md with `node:crypto`',
    "(OpenSSL's native HMAC-SHA256, AES, SHA-1) and `URLSearchParams`, as a careful hand-written Node port does them;",
    'the differential tests hold it to the same answers. Ratio = reference time ÷ WebAssembly time (higher is better for koosign).',
    '',
    '| operation | input | koosign (wasm) ns/op | node:crypto reference ns/op | ratio |',
    '|---|---|---:|---:|---:|',
    ...rows.map((r) => `| ${r.name} | ${r.what} | ${r.wasm.toFixed(0)} | ${r.ref.toFixed(0)} | ${r.ratio.toFixed(2)}× |`),
    '',
    `Goal ≥ 1.5× on every operation (issue 14): **${goal ? 'met' : `not met: ${below.join(', ')}`}**. The one-shot functions run on a cached keyed context (the last 8 key sets), so after the first call they pay no key setup either.`,
    '',
    '## Why the ratios are what they are',
    '',
    "- SHA-256 in WebAssembly (sha2's `simd128` backend, the module at opt-level \"z\") costs ~230 ns per 64-byte block",
    "  (measured 2026-12-01 on a shared machine); OpenSSL's native code behind node:crypto is several times faster. One",
    '  HMAC over a short input (bodySign, verifyKit) wins only on per-call overhead: Merchant.bodySign of 366 bytes is',
    '  7 compressions (~1.6 µs) of ~2.3 µs spent in WebAssembly; the Base64 of the published MAC (the table encoder',
    "  over the 64-byte alphabet) is a small part of it.",
    '- verifyV1 and verifyV2 win because the reference pays for URLSearchParams, strings, two `createHmac` objects',
    '  (V2) and hex/Base64 conversions, while the core parses and MACs in one pass over caller-owned memory.',
    '- The JavaScript ↔ WebAssembly crossing (2026-12-01): a run of ASCII strings is written with one `Buffer#write`',
    '  (was one per argument: ~0.7 µs on a 6-header kit request), a V2 result crosses as one number (no `Vec<f64>`),',
    '  memory growth is told by a detached view instead of reading `memory.buffer` on each call, and a one-shot call',
    '  with the same key string as the last one reuses its context without building the cache id. ApigSigner#sign(url)',
    '  is one crossing (the core splits the URL and signs; the result comes back as length-prefixed pieces, no JSON),',
    "  the arena's strings go through Buffer's native utf8Write, and the wasm side cuts the arguments and header pairs",
    "  on the stack; S2b's header lookup (the core) trims only a header name that may have whitespace at its ends.",
    '- Merchant.verify v2 / kit does more than the reference (one HMAC + `JSON.parse`, ~1 µs for the parse): the core',
    '  detects the protocol, verifies, then `Notification::parse` walks the body once with the strict walker, which',
    '  also fills the notification fields, and `.notification` calls `walk_json`, which checks the body once more',
    '  before visiting it (the second walk, and the event tape, are what the reference gets from V8\'s native',
    '  `JSON.parse`). The core\'s JSON walker at opt-level "z" sets these ratios; what would move them is in the core:',
    '  a `walk_json` for a body already checked, tighter per-byte loops. Opt-level 3 for the whole module gives ~25–50%',
    '  (247 KB: over budget).',
    '- Merchant.verify v1: the core\'s S1 verify of the 11 parameters (~9 µs here) plus detection and the activity table',
    '  (~3 µs), against the reference\'s URLSearchParams + one HMAC.',
    '',
  ];
  writeFileSync(join(here, 'BENCH.md'), lines.join('\n'));
  console.log('wrote bindings-wasm/BENCH.md');
}
