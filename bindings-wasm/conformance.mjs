#!/usr/bin/env node
// node bindings-wasm/conformance.mjs [--verbose] [FILE...]
//
// The contract of `koosign conformance` (cli/src/conformance.rs), through the
// npm package: JSON Lines in the format of the repository's vectors/ (without
// files: notifications.jsonl and apig.jsonl of $KOOSIGN_VECTORS, else of the
// repository's vectors/; a missing folder or file fails, exit 1); per case the
// expected value is recomputed or verified, and a one-character change of the
// token, signature or ciphertext must be rejected. Prints a count per kind
// and, last, `N passed, M failed`; exit status 1 on any failure or unknown kind.
//
// It also runs the kinds of the repository's vectors/stages.jsonl (per-stage
// goldens: a failure names the stage that differs), vectors/invalid.jsonl
// (each request must be refused with the error class of its `expect_error`
// code) and vectors/published.jsonl (vectors written by others), with the
// meaning of `koosign conformance`.

import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as k from './pkg/index.mjs';

/** Changes one character of `s` (the first ASCII alphanumeric at or after `at`) to another alphanumeric. */
function alter(s, at) {
  const b = Buffer.from(s, 'utf8');
  const n = b.length;
  for (let j = 0; j < n; j++) {
    const i = (at + j) % Math.max(n, 1);
    const c = b[i];
    const isDigit = c >= 0x30 && c <= 0x39;
    const isAlnum = isDigit || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
    if (isAlnum) {
      b[i] = c === 0x41 || c === 0x61 ? c + 1 : c === 0x30 ? 0x31 : isDigit ? 0x30 : 0x41;
      if (b[i] === c) b[i] = 0x7a;
      break;
    }
  }
  return b.toString('utf8');
}

class CaseFailure extends Error {}

function s(c, field) {
  const v = c[field];
  if (typeof v !== 'string') throw new CaseFailure(`field \`${field}\` missing or not a string`);
  return v;
}

function expectEq(what, got, want) {
  if (got !== want) throw new CaseFailure(`${what}: got ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
}

function expectErr(what, fn, Want, accepted = 'a one-character change was accepted') {
  let r;
  try {
    r = fn();
  } catch (e) {
    if (e instanceof Want) return;
    throw new CaseFailure(`${what}: expected ${Want.code}, got ${e && e.code ? e.code : e}`);
  }
  throw new CaseFailure(`${what}: ${accepted} (${JSON.stringify(r && r.keyIndex !== undefined ? r.keyIndex : r)})`);
}

function step(what, fn) {
  try {
    return fn();
  } catch (e) {
    if (e instanceof CaseFailure) throw e;
    throw new CaseFailure(`${what}: ${e && e.message ? e.message : e}`);
  }
}

const hex = (b) => Buffer.from(b).toString('hex');

/**
 * SCHEMES.md S1 item 10, the runner's own reading of the rule (a regex on
 * the decoded pairs, not the core's code): a name with `&` or `=`, or a
 * value with `&`, a run free of `&` and `=`, then `=`.
 */
const ambiguousV1 = (pairs) => pairs.some(([n, v]) => n !== 'authToken' && (/[&=]/.test(n) || /&[^&=]*=/.test(v)));

/** S1 steps 2–5 on decoded pairs (for the vectors the core refuses to canonicalise). */
function canonicalOf(pairs) {
  const first = new Map();
  for (const [n, v] of pairs) if (n !== 'authToken' && !first.has(n)) first.set(n, v);
  // Java's String.compareTo: UTF-16 code units, which is JavaScript's `<`.
  return [...first.keys()]
    .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))
    .map((n) => `${n}=${first.get(n)}`)
    .join('&');
}

function v1Query(c) {
  const key = s(c, 'access_key');
  const query = s(c, 'query');
  const pairs = step('parse', () => k.parseForm(query));
  // The token of every case: the marketplace's side never refuses.
  expectEq('v1AuthToken', step('token', () => k.v1AuthToken(pairs, key)), s(c, 'auth_token'));
  if (ambiguousV1(pairs)) {
    // Issue 11: the core refuses these as ambiguous before the MAC, so it
    // gives no canonical string; the vector's is checked against the S1
    // join of the decoded pairs (the token above proves the core's agrees).
    expectEq('canonical', canonicalOf(pairs), s(c, 'canonical'));
    expectErr('v1Canonical of an ambiguous query', () => k.v1Canonical(query), k.AmbiguousError, 'not refused as ambiguous');
    expectErr('verify of an ambiguous query', () => k.verifyV1(query, [key]), k.AmbiguousError, 'not refused as ambiguous');
    return;
  }
  expectEq('canonical', step('parse', () => k.v1Canonical(query)), s(c, 'canonical'));
  step('verify', () => k.verifyV1(query, [key]));
  const at = query.indexOf('authToken=');
  if (at < 0) throw new CaseFailure('no authToken in query');
  const start = at + 'authToken='.length;
  const altered = query.slice(0, start) + alter(query.slice(start), 0);
  expectErr('altered authToken', () => k.verifyV1(altered, [key]), k.SignatureMismatchError);
}

function bodySignCase(c) {
  const key = s(c, 'access_key');
  const body = Buffer.from(s(c, 'body'), 'utf8');
  const want = s(c, 'signature');
  expectEq('signature', k.bodySignature(body, key), want);
  const header = step('sign', () => k.bodySign(body, key));
  step('verify', () => k.verifyBodySign(header, body, [key]));
  const altered = `sign_type="HMAC-SHA256", signature="${alter(want, 3)}"`;
  expectErr('altered signature', () => k.verifyBodySign(altered, body, [key]), k.SignatureMismatchError);
}

function aesCbc(c) {
  const key = s(c, 'access_key');
  const ty = c.encrypt_type === 1 ? '1' : c.encrypt_type === 2 ? '2' : null;
  if (!ty) throw new CaseFailure('encrypt_type must be 1 or 2');
  expectEq('derived key', hex(k.deriveKey(key, ty === '1' ? 256 : 128)), s(c, 'derived_key_hex'));
  const iv = s(c, 'iv');
  if (Buffer.byteLength(iv) !== 16) throw new CaseFailure('iv is not 16 bytes');
  const plaintext = s(c, 'plaintext');
  const wire = s(c, 'ciphertext');
  expectEq('ciphertext', step('encrypt', () => k.encryptField(plaintext, key, ty, { iv })), wire);
  expectEq('decrypt', step('decrypt', () => k.decryptField(wire, key, ty)), plaintext);
  // CBC has no MAC: a changed Base64 character must never give the original plaintext back.
  const altered = wire.slice(0, 16) + alter(wire.slice(16), 0);
  let p;
  try {
    p = k.decryptField(altered, key, ty);
  } catch (e) {
    if (e instanceof k.DecryptError) return;
    throw new CaseFailure(`altered ciphertext: unexpected ${e.code || e}`);
  }
  if (p === plaintext) throw new CaseFailure('altered ciphertext decrypted to the original plaintext');
}

function v2(c, kit) {
  const key = s(c, 'access_key');
  const body = Buffer.from(s(c, 'body'), 'utf8');
  const sig = s(c, 'signature');
  const timestamp = s(c, 'timestamp');
  const nonce = s(c, 'nonce');
  const mine = step('sign', () => (kit ? k.signKit : k.signV2)(body, key, nonce, timestamp));
  expectEq('signature (case-insensitive)', mine.toUpperCase(), sig.toUpperCase());
  const verify = (signature) =>
    kit
      ? k.verifyKit({ 'x-sign': signature, 'x-timestamp': timestamp, 'x-nonce': nonce }, body, [key], { window: null })
      : k.verifyV2({ signature, timestamp, nonce }, body, [key], { window: null });
  step('verify', () => verify(sig));
  expectErr('altered signature', () => verify(alter(sig, 7)), k.SignatureMismatchError);
}

function licence(c) {
  const key = s(c, 'access_key');
  const [ts, nonce, body, sig] = [s(c, 'ts'), s(c, 'nonce'), Buffer.from(s(c, 'body'), 'utf8'), s(c, 'signature')];
  expectEq('signature', step('sign', () => k.licenceSign(ts, nonce, body, key)), sig);
  step('verify', () => k.verifyLicence(ts, nonce, body, sig, [key]));
  expectErr('altered signature', () => k.verifyLicence(ts, nonce, body, alter(sig, 5), [key]), k.SignatureMismatchError);
}

function apig(c) {
  const [ak, sk] = [s(c, 'ak'), s(c, 'sk')];
  if (!Array.isArray(c.query)) throw new CaseFailure('query must be an array');
  if (!c.headers || typeof c.headers !== 'object') throw new CaseFailure('headers must be an object');
  const query = c.query.map((p) => [String(p[0] ?? ''), String(p[1] ?? '')]);
  const headers = Object.entries(c.headers).map(([n, v]) => [n, typeof v === 'string' ? v : '']);
  const target = { host: s(c, 'host'), path: s(c, 'path'), query };
  const init = { method: s(c, 'method'), headers, body: Buffer.from(s(c, 'body'), 'utf8') };
  const signed = step('sign', () => new k.ApigSigner(ak, sk).sign(target, init));
  expectEq('canonical query', signed.canonicalQuery, s(c, 'canonical_query'));
  expectEq('Authorization', signed.authorization, s(c, 'authorization'));
  // Server side: the request as sent (an added header replaces a given one of the same name).
  const added = Object.entries(signed.headers);
  const sent = headers.filter(([n]) => !added.some(([a]) => a === n)).concat(added);
  step('verify', () => k.verifyApig(target, { ...init, headers: sent }, [[ak, sk]]));
  const auth = signed.headers.Authorization;
  if (auth === undefined) throw new CaseFailure('no Authorization added');
  const cut = auth.lastIndexOf('Signature=') + 'Signature='.length;
  const alteredAuth = auth.slice(0, cut) + alter(auth.slice(cut), 0);
  const tampered = sent.filter(([n]) => n !== 'Authorization').concat([['Authorization', alteredAuth]]);
  expectErr('altered signature', () => k.verifyApig(target, { ...init, headers: tampered }, [[ak, sk]]), k.SignatureMismatchError);
}

// ---------------------------------------------------------------------------
// vectors/stages.jsonl, vectors/invalid.jsonl, vectors/published.jsonl

function stage(name, got, want) {
  if (got !== want) throw new CaseFailure(`stage ${name}: got ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
}

function stageRun(name, fn) {
  try {
    return fn();
  } catch (e) {
    if (e instanceof CaseFailure) throw e;
    throw new CaseFailure(`stage ${name}: ${e && e.code ? e.code : ''} (${e && e.message ? e.message : e})`);
  }
}

const utf8 = (t) => Buffer.from(t, 'utf8');

/** hex(HMAC-SHA256(key, msg)) through the core's MAC path: bodySignature is b64(HMAC(key, body)). */
const macHex = (msg, key) => Buffer.from(k.bodySignature(msg, key), 'base64').toString('hex');

function pairsOf(v) {
  if (Array.isArray(v)) return v.map((p) => [String(p[0] ?? ''), String(p[1] ?? '')]);
  if (v && typeof v === 'object') return Object.entries(v).map(([n, x]) => [n, typeof x === 'string' ? x : '']);
  return [];
}

function v1Stages(c) {
  const key = s(c, 'access_key');
  const query = s(c, 'query');
  stage('canonical', stageRun('canonical', () => k.v1Canonical(query)), s(c, 'canonical'));
  const pairs = stageRun('parse', () => k.parseForm(query));
  stage('auth_token', stageRun('auth_token', () => k.v1AuthToken(pairs, key)), s(c, 'auth_token'));
  stageRun('verify', () => k.verifyV1(query, [key], { window: null }));
}

function v2Stages(c) {
  const [key, nonce, ts] = [s(c, 'access_key'), s(c, 'nonce'), s(c, 'timestamp')];
  const body = utf8(s(c, 'body'));
  const inner = stageRun('inner', () => k.v2Inner(body, key));
  stage('inner', inner, s(c, 'inner_hex'));
  stage('inner (core MAC path)', macHex(body, key), s(c, 'inner_hex'));
  const canonical = key + nonce + ts + inner;
  stage('canonical', canonical, s(c, 'canonical'));
  const want = s(c, 'signature');
  stage('signature (HMAC of the canonical string)', macHex(utf8(canonical), key).toUpperCase(), want);
  stage('signature', stageRun('signature', () => k.signV2(body, key, nonce, ts)), want);
  stageRun('verify', () => k.verifyV2({ signature: want, timestamp: ts, nonce }, body, [key], { window: null }));
  const kit = s(c, 'kit_signature');
  stage('kit_signature', stageRun('kit_signature', () => k.signKit(body, key, nonce, ts)), kit);
  stageRun('kit verify', () => k.verifyKit({ 'x-sign': kit, 'x-timestamp': ts, 'x-nonce': nonce }, body, [key], { window: null }));
}

function apigStages(c) {
  const [ak, sk] = [s(c, 'ak'), s(c, 'sk')];
  const headers = pairsOf(c.headers);
  const target = { host: s(c, 'host'), path: s(c, 'path'), query: pairsOf(c.query) };
  const init = { method: s(c, 'method'), headers, body: utf8(s(c, 'body')) };
  const signed = stageRun('sign', () => new k.ApigSigner(ak, sk).sign(target, init));
  stage('canonical_query', signed.canonicalQuery, s(c, 'canonical_query'));
  stage('canonical_request', signed.canonicalRequest, s(c, 'canonical_request'));
  stage('string_to_sign', signed.stringToSign, s(c, 'string_to_sign'));
  stage('signature', signed.signature, s(c, 'signature'));
  stage('authorization', signed.authorization, s(c, 'authorization'));
  const added = Object.entries(signed.headers);
  const sent = headers.filter(([n]) => !added.some(([a]) => a === n)).concat(added);
  stageRun('verify', () => k.verifyApig(target, { ...init, headers: sent }, [[ak, sk]], { window: null }));
}

function s4Key(c) {
  const seed = s(c, 'seed');
  stage('aes128', hex(k.deriveKey(seed, 128)), s(c, 'aes128_hex'));
  stage('aes256', hex(k.deriveKey(seed, 256)), s(c, 'aes256_hex'));
}

/** The error class of a core code is errorClasses[code]; its instances carry `.code`. */
function expectCode(want, fn, what = '') {
  const C = k.errorClasses[want] || k.KoosignError;
  let r;
  try {
    r = fn();
  } catch (e) {
    if (e instanceof C && e.code === want) return;
    throw new CaseFailure(`${what}expected ${want} (${C.name}), got ${e && e.code ? e.code : ''} (${e && e.name ? e.name : ''}: ${e && e.message ? e.message : e})`);
  }
  throw new CaseFailure(`${what}expected ${want}, but the request was accepted (${JSON.stringify(r && r.keyIndex !== undefined ? r.keyIndex : r)})`);
}

/** Clock and window of a case: none when it has no now_ms. */
const fresh = (c) => (c.now_ms === undefined ? { window: null } : { now: c.now_ms, window: c.window_ms ?? 60000 });

function invalid(c, verify) {
  const want = s(c, 'expect_error');
  let store;
  if (c.prior !== undefined) {
    store = new k.NonceStore();
    const first = { ...c, ...c.prior };
    delete first.prior;
    try {
      verify(first, store);
    } catch (e) {
      throw new CaseFailure(`the prior request was refused: ${e && e.code ? e.code : e}`);
    }
  }
  expectCode(want, () => verify(c, store));
}

function v2Verify(x, store) {
  const body = utf8(s(x, 'body'));
  const key = s(x, 'access_key');
  const opts = { ...fresh(x), ...(store ? { nonceStore: store } : {}) };
  if (x.scheme === 'kit') {
    return k.verifyKit({ 'x-sign': s(x, 'signature'), 'x-timestamp': s(x, 'timestamp'), 'x-nonce': s(x, 'nonce') }, body, [key], opts);
  }
  if (typeof x.query === 'string') return k.verifyV2(x.query, body, [key], opts);
  return k.verifyV2({ signature: s(x, 'signature'), timestamp: s(x, 'timestamp'), nonce: s(x, 'nonce') }, body, [key], opts);
}

function apigVerify(x) {
  const target = { host: s(x, 'host'), path: s(x, 'path'), query: pairsOf(x.query) };
  const init = { method: s(x, 'method'), headers: pairsOf(x.headers), body: utf8(s(x, 'body')) };
  return k.verifyApig(target, init, pairsOf(x.credentials), fresh(x));
}

function apigCanonicalQuery(c) {
  const signed = stageRun('sign', () =>
    new k.ApigSigner('AccessKey', 'SecretKey').sign({ host: 'example.com', path: '/', query: pairsOf(c.query) }, { headers: [['X-Sdk-Date', '20200101T000000Z']] }),
  );
  stage('canonical_query', signed.canonicalQuery, s(c, 'canonical_query'));
}

function apigHostUnsigned(c) {
  const sk = s(c, 'sk');
  stage('signature (HMAC of the string to sign)', macHex(utf8(s(c, 'string_to_sign')), sk), s(c, 'signature'));
  const x = { ...c, headers: pairsOf(c.headers).concat([['Authorization', s(c, 'authorization')]]), credentials: [[s(c, 'ak'), sk]] };
  expectCode(s(c, 'verify_error'), () => apigVerify(x), 'stage verify: ');
}

function hmacSha256(c) {
  const want = s(c, 'mac_hex');
  stage('mac', macHex(Buffer.from(s(c, 'data_hex'), 'hex'), s(c, 'key')).slice(0, want.length), want);
}

function aesCbcRaw(c) {
  const [key, iv, ct] = ['key_hex', 'iv_hex', 'ct_hex'].map((f) => Buffer.from(s(c, f), 'hex'));
  if (s(c, 'result') === 'valid') {
    stage('plaintext', hex(stageRun('decrypt', () => k.decryptRaw(key, iv, ct))), s(c, 'msg_hex'));
  } else {
    expectCode('DECRYPT', () => k.decryptRaw(key, iv, ct));
  }
}

const NEW_KINDS = {
  v1_stages: v1Stages,
  v2_stages: v2Stages,
  apig_stages: apigStages,
  s4_key: s4Key,
  v1_invalid: (c) => invalid(c, (x) => k.verifyV1(s(x, 'query'), [s(x, 'access_key')], fresh(x))),
  v1_json_invalid: (c) => invalid(c, (x) => k.verifyV1Json(s(x, 'auth_token'), utf8(s(x, 'body')), [s(x, 'access_key')], fresh(x))),
  v2_invalid: (c) => invalid(c, v2Verify),
  licence_invalid: (c) =>
    invalid(c, (x) => k.verifyLicence(s(x, 'ts'), s(x, 'nonce'), utf8(s(x, 'body')), s(x, 'signature'), [s(x, 'access_key')], fresh(x))),
  body_sign_invalid: (c) => invalid(c, (x) => k.verifyBodySign(s(x, 'value'), utf8(s(x, 'body')), [s(x, 'access_key')])),
  apig_invalid: (c) => invalid(c, apigVerify),
  aes_invalid: (c) => invalid(c, (x) => k.decryptField(s(x, 'ciphertext'), s(x, 'access_key'), String(x.encrypt_type))),
  apig_canonical_query: apigCanonicalQuery,
  apig_host_unsigned: apigHostUnsigned,
  hmac_sha256: hmacSha256,
  aes_cbc_raw: aesCbcRaw,
};

const KINDS = {
  v1_query: v1Query,
  body_sign: bodySignCase,
  aes_cbc: aesCbc,
  v2_basic: (c) => v2(c, false),
  v2_kit: (c) => v2(c, true),
  apig,
  licence,
  ...NEW_KINDS,
};

function checkCase(kind, c) {
  const f = KINDS[kind];
  if (!f) throw new CaseFailure(`unknown kind \`${kind}\``);
  const label = typeof c.id === 'string' ? c.id : typeof c.source === 'string' ? c.source : null;
  try {
    f(c);
  } catch (e) {
    if (label !== null && e instanceof CaseFailure) throw new CaseFailure(`${label}: ${e.message}`);
    throw e;
  }
}

/** Runs the files; returns the exit status. `out`/`err` receive lines. */
export function run(files, { verbose = false, out = console.log, err = console.error } = {}) {
  const perKind = new Map();
  let passed = 0;
  let failed = 0;
  for (const file of files) {
    let text;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      err(`${file}: cannot read: ${e.message}`);
      failed++;
      continue;
    }
    text.split('\n').forEach((line, i) => {
      if (line.trim() === '') return;
      let kind;
      let why = null;
      try {
        const c = JSON.parse(line);
        kind = typeof c.kind === 'string' ? c.kind : '<none>';
        try {
          checkCase(kind, c);
        } catch (e) {
          why = e instanceof CaseFailure ? e.message : `unexpected ${e && e.stack ? e.stack : e}`;
        }
      } catch (e) {
        kind = '<invalid json>';
        why = `not JSON: ${e.message}`;
      }
      const t = perKind.get(kind) || { passed: 0, failed: 0 };
      perKind.set(kind, t);
      if (why === null) {
        t.passed++;
        passed++;
      } else {
        t.failed++;
        failed++;
        if (verbose || t.failed <= 5) err(`FAIL ${file}:${i + 1} [${kind}] ${why}`);
      }
    });
  }
  for (const kind of [...perKind.keys()].sort()) {
    const t = perKind.get(kind);
    out(`${kind}: ${t.passed} passed, ${t.failed} failed`);
  }
  out(`${passed} passed, ${failed} failed`);
  return failed > 0 ? 1 : 0;
}

/** The conformance files of a vectors folder (the kinds this runner reads). */
export const CONFORMANCE_FILES = ['notifications.jsonl', 'apig.jsonl', 'stages.jsonl', 'invalid.jsonl', 'published.jsonl'];

/** `$KOOSIGN_VECTORS`, else the repository's vectors/ (beside bindings-wasm/). */
export function vectorsDir() {
  return process.env.KOOSIGN_VECTORS
    ? resolve(process.env.KOOSIGN_VECTORS)
    : resolve(dirname(fileURLToPath(import.meta.url)), '..', 'vectors');
}

/** The conformance files of vectorsDir(); throws naming what is absent. */
export function defaultFiles() {
  const dir = vectorsDir();
  if (!existsSync(dir)) throw new Error(`vectors folder ${dir} not found (set KOOSIGN_VECTORS)`);
  const files = CONFORMANCE_FILES.map((f) => join(dir, f));
  for (const f of files) if (!existsSync(f)) throw new Error(`vector file ${f} not found`);
  return files;
}

const isMain = process.argv[1] !== undefined && import.meta.url === pathToFileURL(realpathSync(process.argv[1])).href;
if (isMain) {
  const args = process.argv.slice(2);
  const verbose = args.includes('--verbose');
  let files = args.filter((a) => a !== '--verbose');
  if (files.includes('-h') || files.includes('--help')) {
    console.error('usage: node conformance.mjs [--verbose] [FILE...]');
    process.exit(2);
  }
  if (files.length === 0) {
    try {
      files = defaultFiles();
    } catch (e) {
      console.error(e.message);
      console.log('0 passed, 1 failed');
      process.exit(1);
    }
  }
  process.exitCode = run(files, { verbose });
}
