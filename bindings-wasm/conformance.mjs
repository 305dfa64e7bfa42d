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

const KINDS = {
  v1_query: v1Query,
  body_sign: bodySignCase,
  aes_cbc: aesCbc,
  v2_basic: (c) => v2(c, false),
  v2_kit: (c) => v2(c, true),
  apig,
  licence,
};

function checkCase(kind, c) {
  const f = KINDS[kind];
  if (!f) throw new CaseFailure(`unknown kind \`${kind}\``);
  f(c);
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
export const CONFORMANCE_FILES = ['notifications.jsonl', 'apig.jsonl'];

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
