// An independent reference of the KooGallery schemes (SCHEMES.md), written
// from the spec with node:crypto only: the differential tests compare the
// WebAssembly package against it, and bench.mjs measures against it.
// It shares no code with the package or the Rust core.

import { createHash, createHmac, createCipheriv, createDecipheriv, timingSafeEqual } from 'node:crypto';

const utf8 = (s) => Buffer.from(s, 'utf8');
const buf = (b) => (typeof b === 'string' ? utf8(b) : Buffer.from(b.buffer, b.byteOffset, b.byteLength));

export function hmac(key, msg) {
  return createHmac('sha256', key).update(msg).digest();
}

/** A refusal of the reference, named by the core's error code (for the differential tests). */
export class RefError extends Error {
  constructor(code, detail) {
    super(detail === undefined ? code : `${code}: ${detail}`);
    this.code = code;
    this.detail = detail;
  }
}
const refuse = (code, detail) => {
  throw new RefError(code, detail);
};

/** SCHEMES.md S2 (decision): Unix ms in exactly 13 ASCII digits, the first not `0`. */
export const isUnixMs13 = (ts) => /^[1-9][0-9]{12}$/.test(ts);

// --- Java URLEncoder / URLDecoder (UTF-8) -----------------------------------

const URLENC_SAFE = /[A-Za-z0-9.\-*_]/;

/** java.net.URLEncoder.encode(s, UTF-8): space → '+', unreserved `.-*_` kept. */
export function javaUrlEncode(s) {
  let out = '';
  for (const b of utf8(s)) {
    const c = String.fromCharCode(b);
    if (b < 0x80 && URLENC_SAFE.test(c)) out += c;
    else if (b === 0x20) out += '+';
    else out += '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

/**
 * Pairs of a query string, decoded as application/x-www-form-urlencoded
 * (`+` → space, `%XY` → UTF-8 bytes), in order, the way a Node port would:
 * with URLSearchParams. (For valid input this is Java's URLDecoder.)
 */
export function parseQuery(query) {
  const qi = query.indexOf('?');
  return [...new URLSearchParams(qi >= 0 ? query.slice(qi + 1) : query)];
}

// --- S1 V1 authToken ---------------------------------------------------------

/** Java String.compareTo: UTF-16 code units (what JS's default comparison does). */
const javaCmp = (a, b) => (a < b ? -1 : a > b ? 1 : 0);

/** S1 steps 2–4: authToken dropped, the first value of a name wins, sorted by name. */
export function v1CanonicalPairs(pairs) {
  const first = new Map();
  for (const [n, v] of pairs) if (n !== 'authToken' && !first.has(n)) first.set(n, v);
  return [...first.keys()].sort(javaCmp).map((n) => [n, first.get(n)]);
}

export function v1Canonical(pairs) {
  return v1CanonicalPairs(pairs)
    .map(([n, v]) => `${n}=${v}`)
    .join('&');
}

export function v1Token(pairs, accessKey) {
  const ts = pairs.find(([n]) => n === 'timeStamp');
  if (!ts) throw new Error('no timeStamp');
  return hmac(utf8(accessKey + ts[1]), utf8(v1Canonical(pairs))).toString('base64');
}

/**
 * SCHEMES.md S1 item 10 (decision), as the spec words it: a decoded name
 * containing `&` or `=`, or a decoded value containing `&`, a run free of
 * `&` and `=`, then `=`. `authToken` is not part of the canonical string.
 */
export function v1Ambiguous(pairs) {
  return pairs.some(([n, v]) => n !== 'authToken' && (/[&=]/.test(n) || /&[^&=]*=/.test(v)));
}

/** Verifies a V1 query the way a careful hand-written port would; returns the matched key's index and the parameters. */
export function verifyV1(query, accessKeys) {
  const pairs = parseQuery(query);
  const tokenPair = pairs.find(([n]) => n === 'authToken');
  const ts = pairs.find(([n]) => n === 'timeStamp');
  if (!tokenPair || !ts) refuse('MISSING_PARAMETER');
  if (v1Ambiguous(pairs)) refuse('AMBIGUOUS');
  if (!/^\d{17}$/.test(ts[1])) refuse('BAD_TIMESTAMP');
  const received = utf8(tokenPair[1].replace(/ /g, '+'));
  const sorted = v1CanonicalPairs(pairs);
  const canonical = utf8(sorted.map(([n, v]) => `${n}=${v}`).join('&'));
  const keys = typeof accessKeys === 'string' ? [accessKeys] : accessKeys;
  let found = -1;
  for (let i = 0; i < keys.length; i++) {
    const expected = utf8(hmac(utf8(keys[i] + ts[1]), canonical).toString('base64'));
    if (expected.length === received.length && timingSafeEqual(expected, received) && found < 0) found = i;
  }
  if (found < 0) refuse('SIGNATURE_MISMATCH');
  // The replay nonce the spec records (S1 item 8): the token after the repair.
  return { keyIndex: found, params: Object.fromEntries(sorted), nonce: `v1:${received.toString('utf8')}` };
}

/** The wire query the marketplace sends: URLEncoder-encoded pairs, authToken last. */
export function buildV1Query(pairs, accessKey) {
  const token = v1Token(pairs, accessKey);
  return [...pairs, ['authToken', token]].map(([n, v]) => `${javaUrlEncode(n)}=${javaUrlEncode(v)}`).join('&');
}

// --- S2 / S2b ---------------------------------------------------------------

export function v2Signature(body, accessKey, nonce, timestamp) {
  const inner = hmac(utf8(accessKey), buf(body)).toString('hex');
  return hmac(utf8(accessKey), utf8(accessKey + nonce + timestamp + inner)).toString('hex').toUpperCase();
}

export function kitSignature(body, accessKey, nonce, timestamp) {
  const h = createHmac('sha256', utf8(accessKey));
  h.update(utf8(accessKey + nonce + timestamp));
  h.update(buf(body));
  return h.digest('hex').toUpperCase();
}

function verifyHex(expectedFor, signature, accessKeys) {
  const received = Buffer.from(signature, 'hex');
  if (received.length !== 32 || !/^[0-9a-fA-F]{64}$/.test(signature)) refuse('SIGNATURE_MISMATCH');
  const keys = typeof accessKeys === 'string' ? [accessKeys] : accessKeys;
  let found = -1;
  for (let i = 0; i < keys.length; i++) {
    if (timingSafeEqual(Buffer.from(expectedFor(keys[i]), 'hex'), received) && found < 0) found = i;
  }
  if (found < 0) refuse('SIGNATURE_MISMATCH');
  return found;
}

/**
 * The S2 format rules (decision), before any MAC: the timestamp, then the
 * nonce (1–256 bytes of printable ASCII, `!` to `~`; `nonceName` is the
 * parameter reported missing).
 */
function v2Format(ts, nonce, nonceName) {
  if (!isUnixMs13(ts)) refuse('BAD_TIMESTAMP');
  if (nonce === '') refuse('MISSING_PARAMETER', nonceName);
  if (Buffer.byteLength(nonce) > 256) refuse('INPUT_TOO_LARGE');
  if (!/^[\x21-\x7e]+$/.test(nonce)) refuse('MALFORMED_ENCODING');
}

/** Verifies a V2 notification from its query string and raw body; window ±60 s when `now` is given. */
export function verifyV2(query, body, accessKeys, now) {
  const p = new Map();
  for (const [n, v] of parseQuery(query)) if (!p.has(n)) p.set(n, v);
  const sig = p.get('signature');
  const ts = p.get('timestamp');
  const nonce = p.get('nonce');
  if (sig === undefined || ts === undefined || nonce === undefined) refuse('MISSING_PARAMETER');
  v2Format(ts, nonce, 'nonce');
  const keyIndex = verifyHex((k) => v2Signature(body, k, nonce, ts), sig, accessKeys);
  if (now !== undefined && Math.abs(now - Number(ts)) > 60000) refuse('STALE_TIMESTAMP');
  return { keyIndex, timestampMs: Number(ts) };
}

/** Verifies a kit notification (no window); returns the matched key's index. */
export function verifyKit(headers, body, accessKeys) {
  const h = {};
  for (const [n, v] of Object.entries(headers)) if (!(n.trim().toLowerCase() in h)) h[n.trim().toLowerCase()] = v.trim();
  if (h['x-sign'] === undefined || h['x-timestamp'] === undefined || h['x-nonce'] === undefined) refuse('MISSING_PARAMETER');
  v2Format(h['x-timestamp'], h['x-nonce'], 'x-nonce');
  // S2b signs `… + nonce + timestamp + body` with no delimiter: the body must
  // start with `{` and the nonce must hold none (SCHEMES.md S2b), so bytes
  // cannot move between nonce, timestamp and body.
  const b = buf(body);
  if (b.length === 0 || b[0] !== 0x7b || h['x-nonce'].includes('{')) refuse('AMBIGUOUS');
  return verifyHex((k) => kitSignature(b, k, h['x-nonce'], h['x-timestamp']), h['x-sign'], accessKeys);
}

// --- S3 Body-Sign -----------------------------------------------------------

export function bodySignature(body, accessKey) {
  return hmac(utf8(accessKey), buf(body)).toString('base64');
}

export function bodySign(body, accessKey) {
  return `sign_type="HMAC-SHA256", signature="${bodySignature(body, accessKey)}"`;
}

// --- S4 SHA1PRNG + AES-CBC --------------------------------------------------

const sha1 = (b) => createHash('sha1').update(b).digest();

/** The SUN provider's SHA1PRNG stream seeded with `seed` (SCHEMES.md S4). */
export function sha1prng(seed, n) {
  let state = sha1(seed);
  const out = [];
  while (out.length < n) {
    const block = sha1(state);
    out.push(...block);
    // update: carry = 1; v = s8(state[i]) + s8(out[i]) + carry; …
    const next = Buffer.alloc(20);
    let carry = 1;
    let changed = false;
    for (let i = 0; i < 20; i++) {
      const s = (state[i] << 24) >> 24;
      const o = (block[i] << 24) >> 24;
      const v = s + o + carry;
      next[i] = v & 0xff;
      changed ||= next[i] !== state[i];
      carry = v >> 8;
    }
    if (!changed) next[0] = (next[0] + 1) & 0xff;
    state = next;
  }
  return Buffer.from(out.slice(0, n));
}

export function deriveKey(accessKey, bits) {
  return sha1prng(utf8(accessKey), bits / 8);
}

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

export function encryptField(plaintext, accessKey, encryptType, iv) {
  const bits = encryptType === '2' ? 128 : 256;
  const c = createCipheriv(`aes-${bits}-cbc`, deriveKey(accessKey, bits), utf8(iv));
  return iv + Buffer.concat([c.update(utf8(plaintext)), c.final()]).toString('base64');
}

export function decryptField(wire, accessKey, encryptType) {
  const bits = encryptType === '2' ? 128 : 256;
  const iv = utf8(wire.slice(0, 16));
  const d = createDecipheriv(`aes-${bits}-cbc`, deriveKey(accessKey, bits), iv);
  const pt = Buffer.concat([d.update(Buffer.from(wire.slice(16).replace(/ /g, '+'), 'base64')), d.final()]);
  return new TextDecoder('utf-8', { fatal: true }).decode(pt);
}

export function randomIv(rand) {
  let s = '';
  for (let i = 0; i < 16; i++) s += ALNUM[Math.floor(rand() * ALNUM.length)];
  return s;
}

// --- S5 licence -------------------------------------------------------------

export function licenceSignature(ts, nonce, body, accessKey) {
  const h = createHmac('sha256', utf8(accessKey));
  h.update(utf8(`ts=${ts}&nonce=${nonce}&body=`));
  h.update(buf(body));
  return h.digest('base64');
}

/** Verifies a licence signature (no window); returns the matched key's index. */
export function verifyLicence(ts, nonce, body, signature, accessKeys) {
  if (!isUnixMs13(ts)) refuse('BAD_TIMESTAMP');
  if (nonce === '') refuse('MISSING_PARAMETER');
  // `ts=…&nonce=n1&body=&body=X` reads two ways when the nonce may hold `&`.
  if (nonce.includes('&')) refuse('AMBIGUOUS');
  const received = utf8(signature.replace(/ /g, '+'));
  const keys = typeof accessKeys === 'string' ? [accessKeys] : accessKeys;
  let found = -1;
  for (let i = 0; i < keys.length; i++) {
    const expected = utf8(licenceSignature(ts, nonce, body, keys[i]));
    if (expected.length === received.length && timingSafeEqual(expected, received) && found < 0) found = i;
  }
  if (found < 0) refuse('SIGNATURE_MISMATCH');
  return found;
}

// --- S6 SDK-HMAC-SHA256 (plain inputs: ASCII header names, no SDK quirks) ---

/** RFC 3986 encoding as the SDK's quote(s, safe='~'): unreserved kept, the rest %XY upper-case. */
export function rfc3986(s) {
  let out = '';
  for (const b of utf8(s)) {
    const c = String.fromCharCode(b);
    out += /[A-Za-z0-9\-_.~]/.test(c) ? c : '%' + b.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

/**
 * Signs { method, host, path, query: [[n, v]], headers: [[n, v]] (X-Sdk-Date
 * included), body } the way SCHEMES.md S6 describes; returns the
 * Authorization value and the canonical query.
 */
export function apigSign(req, ak, sk) {
  const segments = decodeURIComponent(req.path).split('/').map(rfc3986);
  let uri = segments.join('/');
  if (!uri.endsWith('/')) uri += '/';
  // Python's sorted() on str: code point order (= UTF-8 byte order, not UTF-16's).
  const cp = (a, b) => Buffer.compare(utf8(a), utf8(b));
  const query = [...req.query]
    .sort((a, b) => cp(a[0], b[0]) || cp(a[1], b[1]))
    .map(([n, v]) => `${rfc3986(n)}=${rfc3986(v)}`)
    .join('&');
  const headers = new Map();
  for (const [n, v] of req.headers) headers.set(n.toLowerCase(), v.trim());
  if (!headers.has('host')) headers.set('host', req.host);
  const names = [...headers.keys()].sort();
  const canonicalHeaders = names.map((n) => `${n}:${headers.get(n)}\n`).join('');
  const signed = names.join(';');
  const body = buf(req.body);
  const bodyHash = createHash('sha256').update(body).digest('hex');
  const canonical = [req.method.toUpperCase(), uri, query, canonicalHeaders, signed, bodyHash].join('\n');
  const date = headers.get('x-sdk-date');
  const sts = `SDK-HMAC-SHA256\n${date}\n${createHash('sha256').update(canonical).digest('hex')}`;
  const sig = createHmac('sha256', utf8(sk)).update(sts).digest('hex');
  return { authorization: `SDK-HMAC-SHA256 Access=${ak}, SignedHeaders=${signed}, Signature=${sig}`, canonicalQuery: query };
}
