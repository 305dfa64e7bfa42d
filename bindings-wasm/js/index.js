'use strict';
// koosign for Node: the public API over the WebAssembly build of the Rust
// core. This file only translates (argument shapes, defaults, errors); every
// scheme is computed by the core.

const nodeCrypto = require('node:crypto');
const wasm = require('./wasm/koosign_wasm.js');

// ---------------------------------------------------------------------------
// Errors: one subclass per koosign::Error variant, with the core's code.

class KoosignError extends Error {
  constructor(message, options) {
    super(message === undefined ? new.target.defaultMessage : message);
    this.name = new.target.name;
    this.code = new.target.code;
    if (options && options.cause !== undefined) this.cause = options.cause;
  }
}
KoosignError.code = 'KOOSIGN';
KoosignError.defaultMessage = 'koosign error';

/** The request's format is wrong (the core's `is_format_error`): answer `000002`. */
class MalformedRequestError extends KoosignError {}
MalformedRequestError.code = 'MALFORMED_REQUEST';
MalformedRequestError.defaultMessage = 'malformed request';

function define(name, code, base, defaultMessage, detailField) {
  const C = {
    [name]: class extends base {
      constructor(message, options) {
        super(message, options);
        if (detailField) this[detailField] = options ? options[detailField] : undefined;
      }
    },
  }[name];
  C.code = code;
  C.defaultMessage = defaultMessage;
  C.detailField = detailField;
  return C;
}

const MissingParameterError = define('MissingParameterError', 'MISSING_PARAMETER', MalformedRequestError, 'missing parameter', 'parameter');
const MalformedEncodingError = define('MalformedEncodingError', 'MALFORMED_ENCODING', MalformedRequestError, 'malformed input', 'what');
const InputTooLargeError = define('InputTooLargeError', 'INPUT_TOO_LARGE', MalformedRequestError, 'input too large', 'limit');
const BadTimestampError = define('BadTimestampError', 'BAD_TIMESTAMP', KoosignError, 'timestamp is not in the documented format');
const StaleTimestampError = define('StaleTimestampError', 'STALE_TIMESTAMP', KoosignError, 'timestamp is outside the accepted window');
const ReplayedNonceError = define('ReplayedNonceError', 'REPLAYED_NONCE', KoosignError, 'nonce was already used (replay)');
const NonceStoreFullError = define('NonceStoreFullError', 'NONCE_STORE_FULL', KoosignError, 'nonce store is full of unexpired nonces');
const BufferTooSmallError = define('BufferTooSmallError', 'BUFFER_TOO_SMALL', KoosignError, 'output buffer too small', 'needed');
const NoAccessKeyError = define('NoAccessKeyError', 'NO_ACCESS_KEY', KoosignError, 'no access key given (or an empty one)');
const SignatureMismatchError = define('SignatureMismatchError', 'SIGNATURE_MISMATCH', KoosignError, 'signature does not match');
const DecryptError = define('DecryptError', 'DECRYPT', KoosignError, 'field could not be decrypted');
const RandomSourceError = define('RandomSourceError', 'RANDOM_SOURCE', KoosignError, 'the random source failed');
/**
 * The request could be read two ways (a signed boundary could move), so it
 * is refused before authentication: answer `000001`. Not a malformed
 * request. `what` names the rule (e.g. "kit body starts with a digit").
 */
const AmbiguousError = define('AmbiguousError', 'AMBIGUOUS', KoosignError, 'ambiguous request refused', 'what');
/** A replay store could not be reached: refused, fail closed (answer `000005`). */
const StoreUnavailableError = define('StoreUnavailableError', 'STORE_UNAVAILABLE', KoosignError, 'the replay store is unavailable');

const errorClasses = Object.freeze({
  MISSING_PARAMETER: MissingParameterError,
  MALFORMED_ENCODING: MalformedEncodingError,
  BAD_TIMESTAMP: BadTimestampError,
  STALE_TIMESTAMP: StaleTimestampError,
  REPLAYED_NONCE: ReplayedNonceError,
  NONCE_STORE_FULL: NonceStoreFullError,
  BUFFER_TOO_SMALL: BufferTooSmallError,
  INPUT_TOO_LARGE: InputTooLargeError,
  NO_ACCESS_KEY: NoAccessKeyError,
  SIGNATURE_MISMATCH: SignatureMismatchError,
  DECRYPT: DecryptError,
  RANDOM_SOURCE: RandomSourceError,
  AMBIGUOUS: AmbiguousError,
  STORE_UNAVAILABLE: StoreUnavailableError,
});

// The core's codes, `+` marking format errors; checked against the classes
// once, so a core variant without a class cannot go unnoticed.
const coreCodes = wasm.error_codes().split('|');
for (const c of coreCodes) {
  const code = c.replace(/\+$/, '');
  const C = errorClasses[code];
  if (!C || (c.endsWith('+') !== (C.prototype instanceof MalformedRequestError))) {
    throw new Error(`koosign: the binding has no (or a misplaced) error class for core code ${code}`);
  }
}

/** Turns what the WebAssembly side threw into a KoosignError (or rethrows). */
function translate(e) {
  if (typeof e !== 'string') return e;
  const a = e.indexOf('\x1f');
  const b = e.indexOf('\x1f', a + 1);
  if (a < 0 || b < 0) return new KoosignError(e);
  const code = e.slice(0, a);
  const detail = e.slice(a + 1, b);
  const rest = e.slice(b + 1).split('\x1f');
  const C = errorClasses[code] || KoosignError;
  const f = C.detailField;
  const err = new C(rest[0], f ? { [f]: f === 'limit' || f === 'needed' ? Number(detail) : detail } : undefined);
  if (rest.length >= 3) {
    // A refusal of Merchant#verify: the core's resultCode, the stage that
    // decided it, and the signed refusal to send (see src/lib.rs).
    err.resultCode = rest[1];
    err.authenticated = rest[2] === '1';
    if (rest.length >= 5) err.refusal = signedAnswer(rest[1], rest[3], rest[4]);
  }
  return err;
}

/** A signed answer: the exact bytes to send and their Body-Sign. */
function signedAnswer(resultCode, bodySign, text) {
  const body = Buffer.from(text, 'utf8');
  return Object.freeze({
    resultCode,
    body,
    bodySign,
    /** The headers to send with `body` (HTTP 200). */
    headers: Object.freeze({
      'Content-Type': 'application/json;charset=UTF-8',
      'Content-Length': String(body.length),
      [BODY_SIGN_HEADER]: bodySign,
    }),
  });
}

/** A signed answer the wasm side left in the result arena: `resultCode \n Body-Sign \n body`. */
function answerOut(len) {
  const t = outText(len);
  const a = t.indexOf('\n');
  const b = t.indexOf('\n', a + 1);
  return signedAnswer(t.slice(0, a), t.slice(a + 1, b), t.slice(b + 1));
}

// ---------------------------------------------------------------------------
// Argument translation

const [DEFAULT_WINDOW_MS, MAX_WIRE_LEN, MAX_PLAINTEXT_LEN, IV_LEN, MAX_NONCE_LEN, MAX_PARAMS, V1_DEFAULT_WINDOW_MS, APIG_DEFAULT_WINDOW_MS, MAX_NOTIFICATION_BODY, DEFAULT_NONCE_CAPACITY, MAX_KEYS] =
  wasm.constants();
const WINDOW_DEFAULT = -1;
const WINDOW_NONE = -2;
// The context's window arguments (src/lib.rs POLICY_DEFAULT, POLICY_UNCHECKED).
const POLICY_DEFAULT = -1;
const POLICY_UNCHECKED = -2;
const BODY_SIGN_HEADER = 'Body-Sign';
const EMPTY = new Uint8Array(0);

function typeError(what) {
  return new TypeError(`koosign: ${what}`);
}

// The argument arena (see src/lib.rs): a call's strings and bytes are
// written once, natively, straight into WebAssembly memory, with their
// lengths; the call itself passes only their count.
const memory = wasm.wasm_memory();
let argCap = 0;
let argCountCap = 0;
let argBytesPtr = 0;
let argLensPtr = 0;
let argMem = null;
let argBuf = null; // Buffer over the bytes region
let argLens = null; // Uint32Array over the lengths region

/**
 * Writes `s` as UTF-8 into `buf` at `off` (in bounds: pack made the room);
 * returns the bytes written. Buffer#write's own native step
 * (`utf8Write`, which write(s, off) calls once it has checked its
 * arguments), without the checks; Buffer#write where it is missing.
 */
const utf8Write =
  typeof Buffer.prototype.utf8Write === 'function' ? (buf, s, off) => buf.utf8Write(s, off, buf.length - off) : (buf, s, off) => buf.write(s, off);

/** Writes one Uint8Array into the arena (what pack([bytes]) does); returns 1. */
function packBytes(b) {
  // Anything to set up first (room, the lengths region, views after growth): pack does it.
  if (argMem === null || argBuf.length === 0 || b.byteLength + 1 > argCap || argCountCap === 0) return pack([b]);
  argBuf.set(b, 0);
  argLens[0] = b.byteLength;
  return 1;
}

/** Writes `items` (strings as UTF-8, Uint8Arrays as they are) into the arena; returns their count. */
function pack(items) {
  let max = 1;
  for (let i = 0; i < items.length; i++) {
    const x = items[i];
    max += typeof x === 'string' ? x.length * 3 : x.byteLength;
  }
  if (max > argCap) {
    argCap = Math.max(max, 2 * argCap, 4096);
    argBytesPtr = wasm.args_bytes(argCap);
    argMem = null;
  }
  if (items.length > argCountCap) {
    argCountCap = Math.max(items.length, 2 * argCountCap, 64);
    argLensPtr = wasm.args_lens(argCountCap);
    argMem = null;
  }
  // A grown memory has a new buffer and detaches the old one, whose views
  // then have length 0 (cheaper to test than reading memory.buffer).
  if (argMem === null || argBuf.length === 0) {
    argMem = memory.buffer;
    argBuf = Buffer.from(argMem, argBytesPtr, argCap);
    argLens = new Uint32Array(argMem, argLensPtr, argCountCap);
  }
  let off = 0;
  for (let i = 0; i < items.length; i++) {
    const x = items[i];
    if (typeof x !== 'string') {
      argBuf.set(x, off);
      argLens[i] = x.byteLength;
      off += x.byteLength;
      continue;
    }
    // A run of strings is written with one native call: when the UTF-8
    // bytes written equal the UTF-16 units given, every string was ASCII
    // (any other character takes more bytes than units), so each one's
    // length is its byte count. Otherwise the run is written again one by one.
    let j = i;
    let run = '';
    let units = 0;
    for (; j < items.length && typeof items[j] === 'string'; j++) {
      run += items[j];
      units += items[j].length;
    }
    const n = utf8Write(argBuf, run, off);
    if (n === units) {
      for (let q = i; q < j; q++) argLens[q] = items[q].length;
      off += n;
    } else {
      for (let q = i; q < j; q++) {
        const m = utf8Write(argBuf, items[q], off);
        argLens[q] = m;
        off += m;
      }
    }
    i = j - 1;
  }
  return items.length;
}

/** Access keys as a list of strings. */
function keyList(keys) {
  if (typeof keys === 'string') return [keys];
  if (!Array.isArray(keys) || !keys.every((k) => typeof k === 'string')) {
    throw typeError('accessKeys must be a string or an array of strings');
  }
  return keys;
}

/** Body as bytes: Uint8Array/Buffer as is, strings as UTF-8. */
function bytes(body, what = 'body') {
  if (body instanceof Uint8Array) return body;
  if (typeof body === 'string') return Buffer.from(body, 'utf8');
  if (body === undefined || body === null) return EMPTY;
  if (body instanceof ArrayBuffer) return new Uint8Array(body);
  if (ArrayBuffer.isView(body)) return new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  throw typeError(`${what} must be a Uint8Array, Buffer, ArrayBuffer or string`);
}

function nowMs(now) {
  if (now === undefined || now === null) return Date.now();
  const t = now instanceof Date ? now.getTime() : now;
  if (typeof t !== 'number' || !Number.isFinite(t) || t < 0) throw typeError('opts.now must be Unix milliseconds or a Date');
  return t;
}

function windowMs(window) {
  if (window === undefined) return WINDOW_DEFAULT;
  if (window === null || window === false || window === Infinity) return WINDOW_NONE;
  if (typeof window !== 'number' || !Number.isFinite(window) || window < 0) {
    throw typeError('opts.window must be milliseconds (≥ 0), or null for no window');
  }
  return window;
}

/**
 * The key index an answer is signed with: `opts` itself (a number), or
 * `opts.keyIndex`, or `opts.verified.keyIndex` (a Verified); 0 without
 * them. SCHEMES.md §S3 "(decision) Key rotation": the key that verified the
 * request signs its answer (the core's `_for` functions; an index the
 * merchant does not hold is its NoAccessKey).
 */
function keyIndexOf(opts) {
  let k = 0;
  if (typeof opts === 'number') k = opts;
  else if (opts !== undefined && opts !== null) {
    if (opts.keyIndex !== undefined) k = opts.keyIndex;
    else if (opts.verified !== undefined && opts.verified !== null) k = opts.verified.keyIndex;
  }
  if (!Number.isInteger(k) || k < 0 || k > 0xffffffff) throw typeError('keyIndex must be a non-negative integer');
  return k;
}
function options(opts) {
  if (opts === undefined || opts === null) return {};
  if (typeof opts !== 'object') throw typeError('opts must be an object');
  return opts;
}

/** A query given as a string, URL, URLSearchParams or object, as query text. */
function queryText(q, what) {
  if (typeof q === 'string') return q;
  if (q instanceof URL) return q.search;
  if (q instanceof URLSearchParams) return q.toString();
  if (q && typeof q === 'object') {
    const p = new URLSearchParams();
    for (const [n, v] of Object.entries(q)) {
      if (v === undefined || v === null) continue;
      for (const x of Array.isArray(v) ? v : [v]) p.append(n, String(x));
    }
    return p.toString();
  }
  throw typeError(`${what} must be a query string, URL, URLSearchParams or object`);
}

/** Appends name, value (each value of a list) to `flat` as strings; skips undefined/null values. */
function addPair(flat, n, v) {
  if (v === undefined || v === null) return;
  if (Array.isArray(v)) for (const x of v) flat.push(String(n), String(x));
  else flat.push(String(n), String(v));
}

/**
 * Pairs from an object, Headers, Map, [name, value][] or a flat raw list,
 * appended to `flat` (a new list by default) as name, value, …
 */
function pairList(src, what, flat = []) {
  if (src === undefined || src === null) return flat;
  if (Array.isArray(src)) {
    if (src.length > 0 && typeof src[0] === 'string') {
      // Node's rawHeaders: [name, value, name, value, …]
      for (let i = 0; i + 1 < src.length; i += 2) addPair(flat, src[i], src[i + 1]);
    } else {
      for (const p of src) addPair(flat, p[0], p[1]);
    }
  } else if (typeof src.entries === 'function' && typeof src.get === 'function') {
    for (const [n, v] of src.entries()) addPair(flat, n, v);
  } else if (typeof src === 'object') {
    const names = Object.keys(src);
    for (let i = 0; i < names.length; i++) {
      const n = names[i];
      const v = src[n];
      // A string value (the usual case) as it is: what addPair would push.
      if (typeof v === 'string') flat.push(n, v);
      else addPair(flat, n, v);
    }
  } else {
    throw typeError(`${what} must be an object, Headers, Map or a list of pairs`);
  }
  return flat;
}

/** `'1'`/1 → 1 (AES-256), `'2'`/2 → 2 (AES-128). */
function encryptTypeCode(t, allowAuto) {
  if (t === undefined) return allowAuto ? 0 : 1;
  if (allowAuto && t === 'auto') return 0;
  if (t === '1' || t === 1 || t === 256) return 1;
  if (t === '2' || t === 2 || t === 128) return 2;
  throw typeError(`encryptType must be "1" (AES-256) or "2" (AES-128)${allowAuto ? ' or "auto"' : ''}`);
}

function str(s, what) {
  if (typeof s !== 'string') throw typeError(`${what} must be a string`);
  return s;
}

// ---------------------------------------------------------------------------
// Nonce store

const HANDLE = Symbol('koosign.handle');

/**
 * The core's in-memory nonce store (NonceTable, capacity chosen at run
 * time; one process only: see RedisNonceStore): bounded, each nonce kept until its
 * timestamp + window (then evicted when room is needed); full of unexpired
 * nonces, it refuses (NONCE_STORE_FULL) rather than forget one.
 */
class NonceStore {
  constructor(options) {
    const capacity = typeof options === 'number' ? options : options && options.capacity !== undefined ? options.capacity : DEFAULT_NONCE_CAPACITY;
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > 0xffffffff) {
      throw typeError('NonceStore capacity must be a positive integer (40 bytes per entry, allocated at once)');
    }
    Object.defineProperty(this, HANDLE, { value: new wasm.NonceCacheHandle(capacity) });
  }
  /** Nonces held (expired ones included until evicted). */
  get size() {
    return this[HANDLE].len();
  }
  /** The capacity, as given (the core's NonceTable::with_capacity). */
  get capacity() {
    return this[HANDLE].capacity();
  }
  /** True if `nonce` is held and unexpired at `now`. */
  has(nonce, now) {
    return this[HANDLE].contains(str(nonce, 'nonce'), nowMs(now));
  }
  /** Records `nonce` until `expiresAt`; throws ReplayedNonceError / NonceStoreFullError. */
  checkAndInsert(nonce, now, expiresAt) {
    try {
      this[HANDLE].check_and_insert(str(nonce, 'nonce'), nowMs(now), nowMs(expiresAt));
    } catch (e) {
      throw translate(e);
    }
  }
}

const NO_STORE = new wasm.NonceCacheHandle(0);

function storeHandle(store) {
  if (store === undefined || store === null) return NO_STORE;
  if (!(store instanceof NonceStore)) throw typeError('opts.nonceStore must be a koosign NonceStore');
  return store[HANDLE];
}

// ---------------------------------------------------------------------------
// JSON from the core's walker (no JSON.parse on a notification)

/** The value the tape of src/lib.rs `Tape` describes, from offset `i`. */
function buildJson(t, i) {
  const stack = [];
  let cur; // the open object or array (undefined at the top)
  let isArray = false;
  let key;
  let root;
  while (i < t.length) {
    const c = t.charCodeAt(i++);
    let v;
    switch (c) {
      case 0x7b: // {
      case 0x5b: { // [
        const o = c === 0x7b ? {} : [];
        if (cur === undefined) root = o;
        else if (isArray) cur.push(o);
        else put(cur, key, o);
        stack.push(cur, key, isArray);
        cur = o;
        isArray = c === 0x5b;
        continue;
      }
      case 0x7d: // }
      case 0x5d: // ]
        isArray = stack.pop();
        key = stack.pop();
        cur = stack.pop();
        continue;
      case 0x6b: { // k: the member name as a piece
        const n = (t.charCodeAt(i) << 15) | t.charCodeAt(i + 1);
        key = t.slice(i + 2, i + 2 + n);
        i += 2 + n;
        continue;
      }
      case 0x73: // s: a string as a piece
      case 0x6e: { // n: RFC 8259 number text as a piece, read as a double (as JSON.parse would)
        const n = (t.charCodeAt(i) << 15) | t.charCodeAt(i + 1);
        v = t.slice(i + 2, i + 2 + n);
        i += 2 + n;
        if (c === 0x6e) v = Number(v);
        break;
      }
      case 0x74:
        v = true;
        break;
      case 0x66:
        v = false;
        break;
      default: // z
        v = null;
    }
    if (cur === undefined) root = v;
    else if (isArray) cur.push(v);
    else put(cur, key, v);
  }
  return root;
}

/** Sets member `key` of `o` as an own data property (`__proto__` included, as JSON.parse does). */
function put(o, key, v) {
  if (key === '__proto__') Object.defineProperty(o, key, { value: v, writable: true, enumerable: true, configurable: true });
  else o[key] = v;
}

/** A verified body as the natural object, from the core's parser and walker. */
function notificationOf(body, verified = false) {
  try {
    return buildJson(outText(wasm.walk_notification(packBytes(body), verified)), 0);
  } catch (e) {
    throw translate(e);
  }
}

// ---------------------------------------------------------------------------
// Keyed contexts behind the one-shot functions

// The one-shot functions are thin wrappers over the core's keyed context:
// the context of the last few key sets (and windows) is kept, so that a
// caller passing the same key on every call pays the key setup (HMAC
// states, SHA1PRNG-derived AES keys) once. Evicted contexts are freed
// (zeroized by the core).
const CONTEXTS = new Map();
const MAX_CONTEXTS = 8;

/** The last one-key context contextFor returned (`key` undefined: none). */
const last = { key: undefined, v2: 0, v1: 0, licence: 0, h: undefined };

function keysId(keys) {
  if (typeof keys === 'string') return `${keys.length}:${keys}`;
  let id = '';
  for (const k of keyList(keys)) id += `${str(k, 'access key').length}:${k}`;
  return id;
}

/** The context for `keys` with windows (ms, or POLICY_DEFAULT / POLICY_UNCHECKED). */
function contextFor(keys, v2 = POLICY_DEFAULT, v1 = POLICY_DEFAULT, licence = POLICY_DEFAULT) {
  // The last one-key context again (strings are immutable: the same key
  // and windows are the same context), without building its id.
  if (typeof keys === 'string' && keys === last.key && v2 === last.v2 && v1 === last.v1 && licence === last.licence) return last.h;
  const id = `${v2},${v1},${licence}|${keysId(keys)}`;
  let h = CONTEXTS.get(id);
  if (h !== undefined) return remember(keys, v2, v1, licence, h);
  try {
    h = new wasm.MerchantHandle(pack(keyList(keys)), v2, v1, licence);
  } catch (e) {
    throw translate(e);
  }
  if (CONTEXTS.size >= MAX_CONTEXTS) {
    const [oldId, old] = CONTEXTS.entries().next().value;
    CONTEXTS.delete(oldId);
    if (old === last.h) last.key = undefined;
    old.free();
  }
  CONTEXTS.set(id, h);
  return remember(keys, v2, v1, licence, h);
}

function remember(keys, v2, v1, licence, h) {
  if (typeof keys === 'string') {
    last.key = keys;
    last.v2 = v2;
    last.v1 = v1;
    last.licence = licence;
    last.h = h;
  }
  return h;
}

/** A one-shot window option as a context window: the scheme's default, none, or ms. */
function oneShotWindow(window, noneByDefault) {
  const w = windowMs(window);
  if (w === WINDOW_NONE || (w === WINDOW_DEFAULT && noneByDefault)) return POLICY_UNCHECKED;
  return w === WINDOW_DEFAULT ? POLICY_DEFAULT : w;
}

// ---------------------------------------------------------------------------
// Verified results

let outMem = null;
let outBuf = null; // Buffer over the whole memory, for in-place decoding

/** The text a hot verifier left in the result arena (`len` UTF-8 bytes). */
function outText(len) {
  if (outMem === null || outBuf.length === 0) {
    // First use, or the memory grew (the old buffer is detached: see pack).
    outMem = memory.buffer;
    outBuf = Buffer.from(outMem);
  }
  const ptr = wasm.out_ptr();
  return outBuf.toString('utf8', ptr, ptr + len);
}

/** The length of the piece at `i` of v1_result's text: two 15-bit chars. */
function pieceLen(text, i) {
  return (text.charCodeAt(i) << 15) | text.charCodeAt(i + 1);
}

/** All the length-prefixed pieces of `text` (src/lib.rs push_piece), as strings. */
function pieces(text) {
  const p = [];
  for (let i = 0; i < text.length; ) {
    const n = pieceLen(text, i);
    p.push(text.slice(i + 2, i + 2 + n));
    i += 2 + n;
  }
  return p;
}

/**
 * v1_result's text is `keyIndex:timestampMs:` then length-prefixed pieces
 * (name, value, name, value, …). Returns the offset of the first piece.
 */
function piecesStart(text) {
  return text.indexOf(':', text.indexOf(':') + 1) + 1;
}

/** A verified V1 notification (S1, S1b). */
class VerifiedV1 {
  #key;
  #text;
  #pairs;
  constructor(text, accessKeys, protocol) {
    const a = text.indexOf(':');
    const start = piecesStart(text);
    const params = {};
    for (let i = start; i < text.length; ) {
      const nl = pieceLen(text, i);
      const name = text.slice(i + 2, i + 2 + nl);
      i += 2 + nl;
      const vl = pieceLen(text, i);
      params[name] = text.slice(i + 2, i + 2 + vl);
      i += 2 + vl;
    }
    this.protocol = protocol;
    /** Index into the access keys given of the one that matched. */
    this.keyIndex = Number(text.slice(0, a));
    /** timeStamp as Unix ms. */
    this.timestampMs = Number(text.slice(a + 1, start - 1));
    /** The signed parameters (an own property per name; first value of each name, authToken excluded). */
    this.params = params;
    this.#key = typeof accessKeys === 'string' ? accessKeys : accessKeys[this.keyIndex];
    this.#text = text;
  }
  /** The signed parameters as [name, value] pairs in canonical order (read on first use). */
  get pairs() {
    if (this.#pairs === undefined) {
      const text = this.#text;
      const pairs = [];
      for (let i = piecesStart(text); i < text.length; ) {
        const nl = pieceLen(text, i);
        const name = text.slice(i + 2, i + 2 + nl);
        i += 2 + nl;
        const vl = pieceLen(text, i);
        pairs.push([name, text.slice(i + 2, i + 2 + vl)]);
        i += 2 + vl;
      }
      this.#pairs = pairs;
    }
    return this.#pairs;
  }
  get activity() {
    return this.params.activity;
  }
  /** The verified parameters (V1's notification is its parameters). */
  get notification() {
    return this.params;
  }
  /** Decrypts parameter `name` (e.g. mobilePhone, email) with the matched key. */
  decryptParam(name, encryptType = 'auto') {
    const wire = Object.prototype.hasOwnProperty.call(this.params, name) ? this.params[name] : undefined;
    if (wire === undefined) throw new MissingParameterError(`missing parameter \`${name}\``, { parameter: name });
    return decryptField(wire, this.#key, encryptType);
  }
}

/** A verified V2 (S2) or kit (S2b) notification. */
class VerifiedV2 {
  #key;
  #notification;
  constructor(r, body, accessKeys, protocol) {
    this.protocol = protocol;
    /** Index into the access keys given of the one that matched. */
    // r = timestampMs * MAX_KEYS + keyIndex (src/lib.rs v2_result).
    this.keyIndex = r % MAX_KEYS;
    /** The request's timestamp, Unix ms. */
    this.timestampMs = (r - this.keyIndex) / MAX_KEYS;
    /** The exact body bytes that were verified. */
    this.body = body;
    this.#key = typeof accessKeys === 'string' ? accessKeys : accessKeys[this.keyIndex];
  }
  /** The body as UTF-8 text. */
  get text() {
    return Buffer.from(this.body.buffer, this.body.byteOffset, this.body.byteLength).toString('utf8');
  }
  /**
   * The verified body as a JavaScript object, built once from the events of the
   * core's strict parser (never JSON.parse): UTF-8, an object, no duplicate member
   * name at any depth, nesting at most 64; MalformedEncodingError otherwise.
   */
  get notification() {
    if (this.#notification === undefined) this.#notification = notificationOf(this.body);
    return this.#notification;
  }
  get activity() {
    return this.notification.activity;
  }
  /** Decrypts an inbound field value from this verified body with the matched key. */
  decryptField(wire, encryptType = 'auto') {
    return decryptField(wire, this.#key, encryptType);
  }
}


// ---------------------------------------------------------------------------
// S1 / S1b

/**
 * S1: verifies a V1 GET notification's query (string, URL, URLSearchParams
 * or object). No window unless opts.window (the endpoint helpers apply
 * V1_DEFAULT_WINDOW_MS); with opts.nonceStore the authToken is recorded as
 * the replay nonce until timeStamp + window (V1_DEFAULT_WINDOW_MS without one).
 */
function verifyV1(query, accessKeys, opts) {
  const o = options(opts);
  const args = [queryText(query, 'query')];
  const store = storeHandle(o.nonceStore);
  const now = nowMs(o.now);
  const m = contextFor(accessKeys, POLICY_DEFAULT, oneShotWindow(o.window, true));
  let r;
  try {
    r = outText(m.verify_v1_query(pack(args), now, store));
  } catch (e) {
    throw translate(e);
  }
  return new VerifiedV1(r, accessKeys, 'v1');
}

/**
 * S1b: verifies an old licence "Kit" POST (authToken header, fields in the
 * JSON body: a flat object of string members, each name once). Window and
 * replay store as verifyV1.
 */
function verifyV1Json(authToken, body, accessKeys, opts) {
  const o = options(opts);
  const args = [str(authToken, 'authToken'), bytes(body)];
  const store = storeHandle(o.nonceStore);
  const now = nowMs(o.now);
  const m = contextFor(accessKeys, POLICY_DEFAULT, oneShotWindow(o.window, true));
  let r;
  try {
    r = outText(m.verify_v1_json(pack(args), now, store));
  } catch (e) {
    throw translate(e);
  }
  return new VerifiedV1(r, accessKeys, 'v1json');
}

/** The canonical string of a V1 query (diagnostics). */
function v1Canonical(query) {
  try {
    return wasm.v1_canonical(queryText(query, 'query'));
  } catch (e) {
    throw translate(e);
  }
}

/** The authToken for decoded parameters (object, Map or [name, value][]). */
function v1AuthToken(params, accessKey) {
  const args = [str(accessKey, 'accessKey'), ...pairList(params, 'params')];
  try {
    return wasm.v1_auth_token(pack(args));
  } catch (e) {
    throw translate(e);
  }
}

/** The query string the marketplace sends (URLEncoder-encoded, authToken last). */
function buildV1Query(params, accessKey) {
  const args = [str(accessKey, 'accessKey'), ...pairList(params, 'params')];
  try {
    return wasm.build_v1_query(pack(args));
  } catch (e) {
    throw translate(e);
  }
}

/** Form-decodes a query string: [name, value][] in order received. */
function parseForm(query) {
  try {
    const p = pieces(wasm.parse_form(queryText(query, 'query')));
    const pairs = [];
    for (let i = 0; i + 1 < p.length; i += 2) pairs.push([p[i], p[i + 1]]);
    return pairs;
  } catch (e) {
    throw translate(e);
  }
}

// ---------------------------------------------------------------------------
// S2 / S2b

/** S2: verifies a V2 notification: query (string/URL/URLSearchParams/object) + raw body. */
function verifyV2(queryOrParams, body, accessKeys, opts) {
  const o = options(opts);
  const b = bytes(body);
  const args = [queryText(queryOrParams, 'queryOrParams'), b];
  const store = storeHandle(o.nonceStore);
  const now = nowMs(o.now);
  const m = contextFor(accessKeys, oneShotWindow(o.window, false));
  let r;
  try {
    r = m.verify_v2_query(pack(args), now, store);
  } catch (e) {
    throw translate(e);
  }
  return new VerifiedV2(r, b, accessKeys, 'v2');
}

/** S2b: verifies a kit notification: x-sign, x-timestamp, x-nonce headers (any case) + raw body. */
function verifyKit(headers, body, accessKeys, opts) {
  const o = options(opts);
  const b = bytes(body);
  const args = pairList(headers, 'headers', [b]);
  const store = storeHandle(o.nonceStore);
  const now = nowMs(o.now);
  const m = contextFor(accessKeys, oneShotWindow(o.window, false));
  let r;
  try {
    r = m.verify_v2_headers(pack(args), (args.length - 1) / 2, now, store);
  } catch (e) {
    throw translate(e);
  }
  return new VerifiedV2(r, b, accessKeys, 'kit');
}

function signV2Impl(kit, body, accessKey, nonce, timestamp) {
  const ts = timestamp instanceof Date ? String(timestamp.getTime()) : String(timestamp);
  try {
    return contextFor(str(accessKey, 'accessKey')).sign_v2(pack([bytes(body), str(nonce, 'nonce'), ts]), kit);
  } catch (e) {
    throw translate(e);
  }
}

/** The marketplace's side of S2: upper-case hex signature. */
function signV2(body, accessKey, nonce, timestamp) {
  return signV2Impl(false, body, accessKey, nonce, timestamp);
}

/** The marketplace's side of S2b: upper-case hex x-sign. */
function signKit(body, accessKey, nonce, timestamp) {
  return signV2Impl(true, body, accessKey, nonce, timestamp);
}

/** S2's inner hash: lower-case hex HMAC(accessKey, body). */
function v2Inner(body, accessKey) {
  return wasm.v2_inner(pack([bytes(body), str(accessKey, 'accessKey')]));
}

// ---------------------------------------------------------------------------
// S3

/** The Body-Sign header value for the exact response bytes. */
function bodySign(body, accessKey) {
  try {
    return outText(contextFor(str(accessKey, 'accessKey')).body_sign(packBytes(bytes(body))));
  } catch (e) {
    throw translate(e);
  }
}

/** b64(HMAC(accessKey, body)) alone. */
function bodySignature(body, accessKey) {
  // The signature part of the core's Body-Sign value, read by the core's parser.
  return parseBodySign(bodySign(body, accessKey)).signature;
}

/** Verifies a received Body-Sign value; returns the matching key's index. */
function verifyBodySign(value, body, accessKeys) {
  const args = [str(value, 'value'), bytes(body)];
  try {
    return contextFor(accessKeys).verify_body_sign(pack(args));
  } catch (e) {
    throw translate(e);
  }
}

/**
 * Parses a Body-Sign value strictly (SCHEMES.md S3): exactly `sign_type` and
 * `signature`, each once, quoted, `sign_type` exactly HMAC-SHA256; only the
 * spacing `signature= "…"` and no space after the comma are tolerated.
 * Each deviation is a MalformedEncodingError whose `what` names it.
 */
function parseBodySign(value) {
  try {
    const [signType, signature] = wasm.parse_body_sign(str(value, 'value'));
    return { signType, signature };
  } catch (e) {
    throw translate(e);
  }
}

// ---------------------------------------------------------------------------
// S4

/**
 * Encrypts a field (appInfo.userName/password): wire = iv + b64(AES-CBC).
 * The IV is drawn by the core from crypto.getRandomValues bytes, unless
 * opts.iv (16 ASCII alphanumerics) is given.
 */
function encryptField(plaintext, accessKey, encryptType = '1', opts) {
  const o = options(opts);
  const ty = encryptTypeCode(encryptType, false);
  try {
    if (o.iv !== undefined) {
      return wasm.encrypt_field_with_iv(str(plaintext, 'plaintext'), str(accessKey, 'accessKey'), ty, bytes(o.iv, 'opts.iv'));
    }
    // Web Crypto's getRandomValues (globalThis.crypto on Node ≥ 19, the same object).
    const random = nodeCrypto.webcrypto.getRandomValues(new Uint8Array(64));
    return outText(contextFor(str(accessKey, 'accessKey')).encrypt(str(plaintext, 'plaintext'), ty, random));
  } catch (e) {
    throw translate(e);
  }
}

/** Decrypts a field; encryptType "1", "2" or "auto" (256 then 128). */
function decryptField(wire, accessKey, encryptType = 'auto') {
  const mode = encryptTypeCode(encryptType, true);
  try {
    return contextFor(str(accessKey, 'accessKey')).decrypt(str(wire, 'wire'), mode);
  } catch (e) {
    throw translate(e);
  }
}

/** The SHA1PRNG field key: 16 bytes (bits 128) or 32 bytes (bits 256). */
function deriveKey(accessKey, bits = 256) {
  if (bits !== 128 && bits !== 256) throw typeError('bits must be 128 or 256');
  try {
    return wasm.derive_key(str(accessKey, 'accessKey'), bits === 256 ? 1 : 2);
  } catch (e) {
    throw translate(e);
  }
}

/**
 * AES-CBC + PKCS#7 decryption with a raw 16- or 32-byte key (the S4 cipher
 * without the key derivation or the wire form), for known-answer tests such
 * as Wycheproof's. Throws DecryptError (any cryptographic failure),
 * MalformedEncodingError (key not 16 or 32 bytes, IV not 16 bytes),
 * InputTooLargeError (key over 32 bytes).
 */
function decryptRaw(key, iv, ciphertext) {
  try {
    return wasm.decrypt_raw(bytes(key, 'key'), bytes(iv, 'iv'), bytes(ciphertext, 'ciphertext'));
  } catch (e) {
    throw translate(e);
  }
}

/** Which encryptType decrypts `wire`: "1", "2", or null. */
function detectEncryptType(wire, accessKey) {
  const t = wasm.detect_encrypt_type(str(wire, 'wire'), str(accessKey, 'accessKey'));
  return t === 1 ? '1' : t === 2 ? '2' : null;
}

// ---------------------------------------------------------------------------
// S5

/** The licence signature b64(HMAC(k, "ts=…&nonce=…&body=…")). */
function licenceSign(ts, nonce, body, accessKey) {
  try {
    return wasm.licence_sign(pack([String(ts), str(nonce, 'nonce'), bytes(body), str(accessKey, 'accessKey')]));
  } catch (e) {
    throw translate(e);
  }
}

/** Verifies a licence signature; returns the matching key's index. No window unless opts.window. */
function verifyLicence(ts, nonce, body, signature, accessKeys, opts) {
  const o = options(opts);
  const args = [String(ts), str(nonce, 'nonce'), bytes(body), str(signature, 'signature')];
  const now = nowMs(o.now);
  const m = contextFor(accessKeys, POLICY_DEFAULT, POLICY_DEFAULT, oneShotWindow(o.window, true));
  try {
    return m.verify_licence(pack(args), now);
  } catch (e) {
    throw translate(e);
  }
}

// ---------------------------------------------------------------------------
// S6

/**
 * host, path and decoded query pairs from a URL (split by the core,
 * SCHEMES.md S6 "Signing a whole URL": as `fetch` sends it, or as received
 * when `received`) or an explicit { host, path, query } target.
 */
function apigTarget(target, received) {
  if (typeof target === 'string' || target instanceof URL) {
    let u;
    try {
      u = pieces(wasm.split_apig_url(target instanceof URL ? target.href : target, received));
    } catch (e) {
      throw translate(e);
    }
    return { host: u[0], path: u[1], query: u.slice(2) };
  }
  if (target && typeof target === 'object') {
    return { host: str(target.host, 'host'), path: str(target.path === undefined ? '/' : target.path, 'path'), query: pairList(target.query, 'query') };
  }
  throw typeError('the request target must be a URL or { host, path, query }');
}

/** Signs calls to the marketplace's open APIs (SDK-HMAC-SHA256, S6). */
class ApigSigner {
  #ak;
  #sk;
  constructor(ak, sk) {
    if (typeof ak !== 'string' || typeof sk !== 'string') throw typeError('ApigSigner needs ak and sk strings');
    this.#ak = ak;
    this.#sk = sk;
  }
  /**
   * Signs a request; `target` is a URL or { host, path, query }. Returns the
   * headers to add (X-Sdk-Date, Host, … and Authorization) and every intermediate.
   */
  sign(target, init) {
    const o = options(init);
    let len;
    if (typeof target === 'string' || target instanceof URL) {
      // One crossing: the core splits the URL and signs (sign_apig_url).
      let headers, method, body, now;
      try {
        headers = pairList(o.headers, 'headers');
        method = o.method === undefined ? 'GET' : str(o.method, 'method');
        body = bytes(o.body);
        now = nowMs(o.now);
      } catch (e) {
        apigTarget(target, false); // the URL's own error first, as when it was split first
        throw e;
      }
      const args = [method, target instanceof URL ? target.href : target, this.#ak, this.#sk, body];
      for (let i = 0; i < headers.length; i++) args.push(headers[i]);
      try {
        len = wasm.sign_apig_url(pack(args), now);
      } catch (e) {
        throw translate(e);
      }
    } else {
      const t = apigTarget(target, false);
      const headers = pairList(o.headers, 'headers');
      const method = o.method === undefined ? 'GET' : str(o.method, 'method');
      const args = [method, t.host, t.path, this.#ak, this.#sk, bytes(o.body), ...t.query, ...headers];
      const now = nowMs(o.now);
      try {
        len = wasm.sign_apig(pack(args), t.query.length / 2, now);
      } catch (e) {
        throw translate(e);
      }
    }
    return apigSigned(outText(len));
  }
}

/** sign_apig's pieces (src/lib.rs apig_out) as ApigSigner#sign's result. */
function apigSigned(t) {
  const p = pieces(t);
  const add = {};
  for (let j = 6; j + 1 < p.length; j += 2) add[p[j]] = p[j + 1];
  return {
    headers: add,
    authorization: p[5],
    signature: p[4],
    signedHeaders: p[2],
    canonicalRequest: p[0],
    canonicalQuery: p[1],
    stringToSign: p[3],
  };
}

/**
 * Server side of S6: verifies a request against [ak, sk] credentials;
 * returns { credentialIndex, unsignedPayload } (unsignedPayload: a signed
 * `X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD`, the body is NOT authenticated).
 * No window unless opts.window (APIG_DEFAULT_WINDOW_MS is the documented one).
 */
function verifyApig(target, init, credentials, opts) {
  const o = options(opts);
  const i = options(init);
  const t = apigTarget(target, true);
  const headers = pairList(i.headers, 'headers');
  const creds = [];
  for (const c of Array.isArray(credentials) ? credentials : [credentials]) {
    if (Array.isArray(c)) creds.push(str(c[0], 'ak'), str(c[1], 'sk'));
    else if (c && typeof c === 'object') creds.push(str(c.ak, 'ak'), str(c.sk, 'sk'));
    else throw typeError('credentials must be [ak, sk] pairs or { ak, sk } objects');
  }
  const method = i.method === undefined ? 'GET' : str(i.method, 'method');
  const args = [method, t.host, t.path, bytes(i.body), ...t.query, ...headers, ...creds];
  const now = nowMs(o.now);
  const win = windowMs(o.window);
  let r;
  try {
    r = wasm.verify_apig(pack(args), t.query.length / 2, headers.length / 2, now, win);
  } catch (e) {
    throw translate(e);
  }
  // The top bit says unsignedPayload (see src/lib.rs); u32 arrives as a Number.
  return Object.freeze({ credentialIndex: r % 0x80000000, unsignedPayload: r >= 0x80000000 });
}

// ---------------------------------------------------------------------------
// Result codes (the core's table: koosign::answer::result_code)

/**
 * The resultCode to answer for `err` (SCHEMES.md "Which code a refusal
 * gets", the core's table): an error thrown by Merchant#verify carries its
 * own (`err.resultCode`); any other KoosignError is looked up in the core's
 * table, met after authentication when `opts.authenticated === true`, else
 * before; anything that is not a KoosignError is the merchant's own failure
 * ("000005").
 */
function resultCodeFor(err, opts) {
  if (!(err instanceof KoosignError)) return '000005';
  if (typeof err.resultCode === 'string') return err.resultCode;
  try {
    return wasm.result_code_for(err.code, options(opts).authenticated === true);
  } catch (e) {
    return '000005'; // KoosignError itself (no core code): the merchant's side
  }
}

// ---------------------------------------------------------------------------
// The response contract (koosign::response::check_response)

const EXPECT = { any: 0, newInstance: 1, queryInstance: 2 };

/**
 * Checks an answer as the marketplace does (SCHEMES.md §Answers, S3, S4):
 * HTTP 200, `Body-Sign` once under its exact name, strict, over the exact
 * bytes under `accessKey`; a known resultCode; instanceId ≤ 64 characters;
 * encryptType consistent with the ciphertexts, each ≤ 128 characters and
 * decryptable. `response`: { status, headers, body } (a fetch Response's
 * parts, or what a test server captured). `opts.expect`: 'any' (default),
 * 'newInstance' or 'queryInstance'. Returns { resultCode, known, resultMsg,
 * instanceId, encryptType, ciphertexts, keyIndex }; throws the core's typed
 * error (SignatureMismatchError, MissingParameterError, …) otherwise.
 */
function checkResponse(response, accessKey, opts) {
  const r = options(response);
  const o = options(opts);
  const expect = EXPECT[o.expect === undefined ? 'any' : o.expect];
  if (expect === undefined) throw typeError("opts.expect must be 'any', 'newInstance' or 'queryInstance'");
  const status = r.status === undefined ? 200 : r.status;
  if (!Number.isInteger(status) || status < 0) throw typeError('response.status must be an integer');
  const h = pairList(r.headers, 'response.headers');
  let t;
  try {
    t = wasm.check_response(pack([bytes(r.body), ...h, str(accessKey, 'accessKey')]), h.length / 2, status, expect);
  } catch (e) {
    throw translate(e);
  }
  const p = [];
  let i = 0;
  for (; p.length < 5; ) {
    const n = pieceLen(t, i);
    p.push(t.slice(i + 2, i + 2 + n));
    i += 2 + n;
  }
  const [ciphertexts, keyIndex] = t.slice(i).split(':').map(Number);
  return Object.freeze({
    resultCode: p[0],
    known: p[1] === '1',
    resultMsg: p[2] === '\0' ? undefined : p[2],
    instanceId: p[3] === '\0' ? undefined : p[3],
    encryptType: p[4] === '' ? undefined : p[4],
    ciphertexts,
    keyIndex,
  });
}

// ---------------------------------------------------------------------------
// The keyed merchant context (koosign::merchant::Merchant)

/** The name that leaves a check out (a window, the replay store): never `undefined`. */
const UNCHECKED = 'unchecked';

function policyWindow(w, what) {
  if (w === undefined) return POLICY_DEFAULT;
  if (w === UNCHECKED) return POLICY_UNCHECKED;
  if (typeof w !== 'number' || !Number.isFinite(w) || w < 0) {
    throw typeError(`${what} must be milliseconds (≥ 0) or '${UNCHECKED}' (by name; leaving it out means the default window)`);
  }
  return w;
}

const REPLAY_STORE = 0;
const REPLAY_DEFERRED = 1;
const REPLAY_UNCHECKED = 2;

/** A verified, fresh, first-seen notification (Merchant#verify). */
class MerchantVerified {
  #merchant;
  #notification;
  constructor(t, req, body, merchant) {
    // `protocol:activity:keyIndex:timestampMs:replayExpiresMs:` (src/lib.rs MerchantHandle::verify).
    const c0 = t.indexOf(':');
    const c1 = t.indexOf(':', c0 + 1);
    const c2 = t.indexOf(':', c1 + 1);
    const c3 = t.indexOf(':', c2 + 1);
    const c4 = t.indexOf(':', c3 + 1);
    /** 'v1' (S1), 'v1json' (S1b), 'v2' (S2) or 'kit' (S2b): the core's detection. */
    this.protocol = t.slice(0, c0);
    /** The activity, validated by the core with its required fields. */
    this.activity = t.slice(c0 + 1, c1);
    /** Index into the context's access keys of the one that matched. */
    this.keyIndex = Number(t.slice(c1 + 1, c2));
    /** The request's timestamp, Unix ms. */
    this.timestampMs = Number(t.slice(c2 + 1, c3));
    /** Until when (Unix ms) the replay key must be remembered. */
    this.replayExpiresMs = Number(t.slice(c3 + 1, c4));
    let i = c4 + 1;
    let n = pieceLen(t, i);
    /** The key a replay store records (`v1:` + token for V1, the nonce for V2), the core's. */
    this.replayKey = t.slice(i + 2, i + 2 + n);
    i += 2 + n;
    /** The exact body bytes (empty for an S1 GET). */
    this.body = body;
    if (t.charCodeAt(i) === 0x50) {
      // 'P': the V1 parameters as pieces (name, value, …).
      const params = {};
      for (i++; i < t.length; ) {
        n = pieceLen(t, i);
        const name = t.slice(i + 2, i + 2 + n);
        i += 2 + n;
        n = pieceLen(t, i);
        const value = t.slice(i + 2, i + 2 + n);
        i += 2 + n;
        if (!Object.prototype.hasOwnProperty.call(params, name)) {
          if (name === '__proto__') Object.defineProperty(params, name, { value, writable: true, enumerable: true, configurable: true });
          else params[name] = value;
        }
      }
      this.#notification = params;
    }
    this.#merchant = merchant;
  }
  /**
   * The notification as a JavaScript object: the V1 parameters (first value
   * of each name), or the V2/kit body built from the events of the core's
   * strict parser (never JSON.parse).
   */
  get notification() {
    if (this.#notification === undefined) this.#notification = notificationOf(this.body, true);
    return this.#notification;
  }
  /** The V1 parameters (S1, S1b: first value of each name), or undefined for V2. */
  get params() {
    return this.protocol === 'v1' || this.protocol === 'v1json' ? this.notification : undefined;
  }
  /** Decrypts an inbound field (V1 mobilePhone, email) with the key that matched. */
  decrypt(wire, encryptType = 'auto') {
    return this.#merchant.decrypt(wire, encryptType, this.keyIndex);
  }
}

/** The request parts Merchant#verify reads, as the wasm side takes them. */
function requestArgs(req) {
  const r = options(req);
  const method = str(r.method === undefined ? 'POST' : r.method, 'req.method');
  const query = r.query === undefined ? r.url === undefined ? '' : r.url : r.query;
  const q = typeof query === 'string' ? query : queryText(query, 'req.query');
  const h = pairList(r.headers, 'req.headers');
  const body = bytes(r.body);
  return { args: [method, q, ...h, body], nHeaders: h.length / 2, body };
}

/**
 * The keyed merchant context: built once from one or several access keys
 * (rotation: every key verifies; key 0 signs refusals and `respond`'s
 * answers and encrypts appInfo), with its windows. Each key's HMAC states
 * and AES key schedules are computed here, once, and zeroized by `free()`.
 *
 * Options: v2Window (S2, S2b; default ±60 s), v1Window (S1, S1b; default
 * ±5 min), licenceWindow (S5; default ±60 s): milliseconds, or
 * Merchant.UNCHECKED ('unchecked') to leave the check out by name.
 */
class Merchant {
  #h;
  #keys;
  constructor(accessKeys, opts) {
    const o = options(opts);
    this.#keys = keyList(accessKeys).slice();
    const w = [policyWindow(o.v2Window, 'v2Window'), policyWindow(o.v1Window, 'v1Window'), policyWindow(o.licenceWindow, 'licenceWindow')];
    try {
      this.#h = new wasm.MerchantHandle(pack(this.#keys), w[0], w[1], w[2]);
    } catch (e) {
      throw translate(e);
    }
  }
  /** How many access keys it holds. */
  get keyCount() {
    return this.#keys.length;
  }
  #verify(req, opts, mode, storeHandle) {
    const o = options(opts);
    const { args, nHeaders, body } = requestArgs(req);
    const now = nowMs(o.nowMs === undefined ? o.now : o.nowMs);
    let t;
    try {
      t = outText(this.#h.verify(pack(args), nHeaders, now, mode, storeHandle));
    } catch (e) {
      throw translate(e);
    }
    return new MerchantVerified(t, req, body, this);
  }
  /**
   * Verifies a notification end to end, as the core does: detects the
   * protocol, verifies it (S1, S1b, S2, S2b), checks the window and the
   * replay store, parses the notification strictly and validates its
   * activity and required fields. A body over MAX_NOTIFICATION_BODY is
   * refused unread. `req`: { method, query (or url: '/produce?…'), headers,
   * body }. `opts.store`: a NonceStore, or Merchant.UNCHECKED by name
   * (required: no replay check is ever left out by omission); asynchronous
   * stores go through verifyAsync. `opts.nowMs`: the clock (default now).
   *
   * Returns a Verified view; throws the core's typed error carrying
   * `resultCode`, `authenticated` and `refusal` (the signed answer to send:
   * { resultCode, body, bodySign, headers }).
   */
  verify(req, opts) {
    const store = options(opts).store;
    if (store === UNCHECKED) return this.#verify(req, opts, REPLAY_UNCHECKED, NO_STORE);
    if (!(store instanceof NonceStore)) {
      throw typeError(`opts.store must be a NonceStore or '${UNCHECKED}' (verifyAsync takes asynchronous stores)`);
    }
    return this.#verify(req, opts, REPLAY_STORE, store[HANDLE]);
  }
  /**
   * verify, with a replay store that answers asynchronously (Redis, a
   * database): everything but the replay check runs synchronously (the
   * core's Replay::Deferred); then `await store.checkAndInsert(replayKey,
   * expiresAtMs, nowMs)`, which resolves true (first seen, now recorded) or
   * false (a replay: ReplayedNonceError, 000001). A store that throws or
   * rejects is unavailable: StoreUnavailableError (000005), fail closed. A
   * NonceStore is used synchronously. The refusals carry their signed answer.
   */
  async verifyAsync(req, opts) {
    const o = options(opts);
    const store = o.store;
    if (store === UNCHECKED || store instanceof NonceStore) return this.verify(req, opts);
    if (!store || typeof store.checkAndInsert !== 'function') {
      throw typeError(`opts.store must have checkAndInsert(key, expiresAtMs, nowMs), or be a NonceStore or '${UNCHECKED}'`);
    }
    const now = nowMs(o.nowMs === undefined ? o.now : o.nowMs);
    const v = this.#verify(req, { ...o, nowMs: now }, REPLAY_DEFERRED, NO_STORE);
    let fresh;
    try {
      fresh = await store.checkAndInsert(v.replayKey, v.replayExpiresMs, now);
    } catch (e) {
      throw this.#refused(StoreUnavailableError, { cause: e });
    }
    if (fresh !== true) throw this.#refused(ReplayedNonceError);
    return v;
  }
  /** A typed error of class C with the core's resultCode and signed refusal (before authentication). */
  #refused(C, options) {
    const err = new C(undefined, options);
    err.resultCode = resultCodeFor(err);
    err.authenticated = false;
    try {
      err.refusal = answerOut(this.#h.refusal_for(C.code, false));
    } catch (e) {
      throw translate(e);
    }
    return err;
  }
  /**
   * The signed answer for `err`: its own refusal when Merchant#verify threw
   * it, else the core's table (KoosignError met before authentication, or
   * after with opts.authenticated) or 000005 for anything else.
   */
  refusal(err, opts) {
    if (err instanceof KoosignError && err.refusal) return err.refusal;
    return this.answerCode(resultCodeFor(err, opts), opts);
  }
  /**
   * The signed bare answer of `resultCode` ('000003' unknown instance, '000005', …), with the core's resultMsg,
   * signed with the key of `opts.keyIndex` or `opts.verified.keyIndex` (the verified request's; default 0).
   */
  answerCode(resultCode, opts) {
    try {
      return answerOut(this.#h.answer_code(str(resultCode, 'resultCode'), keyIndexOf(opts)));
    } catch (e) {
      throw translate(e);
    }
  }
  /**
   * Writes and signs an answer (the core's Merchant::respond): { resultCode,
   * instanceId, appInfo: { frontEndUrl, adminUrl, userName, password, memo },
   * info: [{ instanceId, appInfo }] }, userName and password in plain text
   * (encrypted here, `opts.encryptType` '1' AES-256 (default) or '2'
   * AES-128, a fresh IV each), encrypted and signed with the key of
   * `opts.keyIndex` or `opts.verified.keyIndex` (the verified request's: the
   * marketplace checks with the key it signed with; default 0). Returns
   * { resultCode, body, bodySign, headers }.
   */
  respond(answer, opts) {
    const a = options(answer);
    const ty = encryptTypeCode(options(opts).encryptType, false);
    const args = [str(a.resultCode === undefined ? '000000' : a.resultCode, 'answer.resultCode')];
    const info = a.info === undefined ? [] : a.info;
    if (!Array.isArray(info)) throw typeError('answer.info must be an array');
    const shape = [0, info.length];
    let secrets = 0;
    const appInfo = (x, what) => {
      const ai = options(x);
      let mask = 0;
      ['frontEndUrl', 'adminUrl', 'userName', 'password', 'memo'].forEach((f, i) => {
        if (ai[f] === undefined || ai[f] === null) return;
        mask |= 1 << i;
        args.push(str(ai[f], `${what}.${f}`));
        if (i === 2 || i === 3) secrets++;
      });
      shape.push(mask);
    };
    if (a.instanceId !== undefined) {
      shape[0] |= 1;
      args.push(str(a.instanceId, 'answer.instanceId'));
    }
    if (a.appInfo !== undefined) {
      shape[0] |= 2;
      appInfo(a.appInfo, 'answer.appInfo');
    }
    info.forEach((e, i) => {
      args.push(str(options(e).instanceId, `answer.info[${i}].instanceId`));
      appInfo(e.appInfo, `answer.info[${i}].appInfo`);
    });
    const random = nodeCrypto.webcrypto.getRandomValues(new Uint8Array(Math.min(65536, 64 * Math.max(1, secrets))));
    try {
      return answerOut(this.#h.respond(pack(args), Uint32Array.from(shape), ty, random, keyIndexOf(opts)));
    } catch (e) {
      throw translate(e);
    }
  }
  /** Signs an answer the application wrote: { body, bodySign, headers } over exactly these bytes, under the key of `opts` (a keyIndex, or { keyIndex } / { verified }; default 0). */
  signAnswer(body, opts) {
    const b = Buffer.from(bytes(body));
    return signedAnswer(undefined, this.bodySign(b, keyIndexOf(opts)), b.toString('utf8'));
  }
  /** The Body-Sign value (S3) of the exact bytes `body`, under key `keyIndex` (default 0). */
  bodySign(body, keyIndex = 0) {
    if (keyIndex !== 0) return bodySign(body, this.#key(keyIndex));
    try {
      return outText(this.#h.body_sign(packBytes(bytes(body))));
    } catch (e) {
      throw translate(e);
    }
  }
  /** Verifies a received Body-Sign value over `body`; returns the matching key's index. */
  verifyBodySign(value, body) {
    try {
      return this.#h.verify_body_sign(pack([str(value, 'value'), bytes(body)]));
    } catch (e) {
      throw translate(e);
    }
  }
  /** S5 with the context's licence window; returns the matching key's index. */
  verifyLicence(ts, nonce, body, signature, opts) {
    const now = nowMs(options(opts).nowMs);
    try {
      return this.#h.verify_licence(pack([String(ts), str(nonce, 'nonce'), bytes(body), str(signature, 'signature')]), now);
    } catch (e) {
      throw translate(e);
    }
  }
  /** Encrypts a field with key 0 ('1' AES-256 default, '2' AES-128), a fresh IV. */
  encrypt(plaintext, encryptType = '1') {
    const ty = encryptTypeCode(encryptType, false);
    try {
      return outText(this.#h.encrypt(str(plaintext, 'plaintext'), ty, nodeCrypto.webcrypto.getRandomValues(new Uint8Array(64))));
    } catch (e) {
      throw translate(e);
    }
  }
  /** Decrypts a field with key `keyIndex` (default 0); encryptType '1', '2' or 'auto'. */
  decrypt(wire, encryptType = 'auto', keyIndex = 0) {
    if (keyIndex !== 0) return decryptField(wire, this.#key(keyIndex), encryptType);
    const mode = encryptTypeCode(encryptType, true);
    try {
      return this.#h.decrypt(str(wire, 'wire'), mode);
    } catch (e) {
      throw translate(e);
    }
  }
  #key(i) {
    const k = this.#keys[i];
    if (k === undefined) throw typeError('keyIndex out of range');
    return k;
  }
  /** Frees the context now (the core zeroizes the keys); it is unusable afterwards. */
  free() {
    this.#h.free();
    this.#keys = [];
  }
}
Merchant.UNCHECKED = UNCHECKED;

// ---------------------------------------------------------------------------
// A replay store shared by processes and machines: Redis

/**
 * A replay store in Redis, for several processes or machines (issue 15):
 * each replay key (Verified#replayKey, the core's) is one Redis key,
 * `prefix + sha256hex(key)` (as Python's RedisNonceStore), set with
 * `SET key 1 NX PX ttl` (ttl = expiresAtMs − nowMs, at least 1 ms): atomic,
 * so two processes receiving the same replay cannot both accept it. Use
 * with `await merchant.verifyAsync(req, { store })`. A Redis that does not
 * answer within `timeoutMs` (default 1000), or fails, makes the request
 * refused with StoreUnavailableError (000005); it recovers by itself when
 * Redis is back.
 *
 * `client`: a node-redis client (`redis` on npm, an optional peer
 * dependency), connected, created with `disableOfflineQueue: true` so that
 * a command fails at once while Redis is down instead of queueing; or
 * anything with `set(key, value, { NX, PX })` resolving 'OK' or null.
 */
class RedisNonceStore {
  #client;
  constructor(client, opts) {
    const o = options(opts);
    if (!client || typeof client.set !== 'function') throw typeError('RedisNonceStore needs a redis client');
    this.#client = client;
    this.prefix = o.prefix === undefined ? 'koosign:nonce:' : str(o.prefix, 'prefix');
    this.timeoutMs = o.timeoutMs === undefined ? 1000 : o.timeoutMs;
  }
  /**
   * A store on a new node-redis client for `url` (connected; reconnecting
   * by itself, every connection error reported to `opts.onError`, default
   * ignored: the requests meanwhile are refused with 000005).
   */
  static async fromUrl(url, opts) {
    const o = options(opts);
    const { createClient } = require('redis'); // optional peer dependency: npm install redis
    const client = createClient({
      url,
      disableOfflineQueue: true,
      socket: { connectTimeout: 1000, reconnectStrategy: (n) => Math.min(50 * (n + 1), 500) },
    });
    client.on('error', typeof o.onError === 'function' ? o.onError : () => {});
    await client.connect();
    const store = new RedisNonceStore(client, o);
    store.client = client;
    return store;
  }
  /** The Redis key for a replay key. */
  key(replayKey) {
    return this.prefix + nodeCrypto.createHash('sha256').update(replayKey, 'utf8').digest('hex');
  }
  /** Records `replayKey` until `expiresAtMs`: true if it was new, false for a replay; throws if Redis fails. */
  async checkAndInsert(replayKey, expiresAtMs, nowMs) {
    const ttl = Math.max(1, Math.floor(expiresAtMs - nowMs));
    let timer;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new StoreUnavailableError('the replay store did not answer in time')), this.timeoutMs);
    });
    try {
      const r = await Promise.race([this.#client.set(this.key(replayKey), '1', { NX: true, PX: ttl }), timeout]);
      return r === 'OK';
    } finally {
      clearTimeout(timer);
    }
  }
  /** Closes the client made by fromUrl. */
  async close() {
    if (this.client) await this.client.quit().catch(() => this.client.disconnect());
  }
}

/** Unix ms (or a Date) as a V1 timeStamp, yyyyMMddHHmmssSSS UTC. */
function formatV1Timestamp(t) {
  return wasm.format_v1_timestamp(nowMs(t));
}

module.exports = {
  // verification
  verifyV1,
  verifyV1Json,
  verifyV2,
  verifyKit,
  verifyBodySign,
  verifyLicence,
  verifyApig,
  VerifiedV1,
  VerifiedV2,
  NonceStore,
  // the keyed merchant context
  Merchant,
  MerchantVerified,
  RedisNonceStore,
  UNCHECKED,
  checkResponse,
  // producing
  bodySign,
  bodySignature,
  parseBodySign,
  signV2,
  signKit,
  v2Inner,
  v1AuthToken,
  buildV1Query,
  v1Canonical,
  parseForm,
  licenceSign,
  formatV1Timestamp,
  ApigSigner,
  resultCodeFor,
  // fields
  encryptField,
  decryptField,
  deriveKey,
  detectEncryptType,
  decryptRaw,
  // constants
  BODY_SIGN_HEADER,
  DEFAULT_WINDOW_MS,
  V1_DEFAULT_WINDOW_MS,
  MAX_NOTIFICATION_BODY,
  APIG_DEFAULT_WINDOW_MS,
  MAX_WIRE_LEN,
  MAX_PLAINTEXT_LEN,
  IV_LEN,
  MAX_NONCE_LEN,
  MAX_PARAMS,
  // errors
  KoosignError,
  MalformedRequestError,
  MissingParameterError,
  MalformedEncodingError,
  InputTooLargeError,
  BadTimestampError,
  StaleTimestampError,
  ReplayedNonceError,
  NonceStoreFullError,
  BufferTooSmallError,
  NoAccessKeyError,
  SignatureMismatchError,
  DecryptError,
  RandomSourceError,
  AmbiguousError,
  StoreUnavailableError,
  errorClasses,
};
