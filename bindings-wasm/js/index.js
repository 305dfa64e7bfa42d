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
  const message = e.slice(b + 1);
  const C = errorClasses[code] || KoosignError;
  const f = C.detailField;
  return new C(message, f ? { [f]: f === 'limit' || f === 'needed' ? Number(detail) : detail } : undefined);
}

// ---------------------------------------------------------------------------
// Argument translation

const [DEFAULT_WINDOW_MS, MAX_WIRE_LEN, MAX_PLAINTEXT_LEN, IV_LEN, MAX_NONCE_LEN, MAX_PARAMS, V1_DEFAULT_WINDOW_MS, APIG_DEFAULT_WINDOW_MS, MAX_NOTIFICATION_BODY] =
  wasm.constants();
const WINDOW_DEFAULT = -1;
const WINDOW_NONE = -2;
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
  if (argMem !== memory.buffer) {
    // A grown memory has a new buffer (the old views are detached).
    argMem = memory.buffer;
    argBuf = Buffer.from(argMem, argBytesPtr, argCap);
    argLens = new Uint32Array(argMem, argLensPtr, argCountCap);
  }
  let off = 0;
  for (let i = 0; i < items.length; i++) {
    const x = items[i];
    let n;
    if (typeof x === 'string') {
      n = argBuf.write(x, off);
    } else {
      argBuf.set(x, off);
      n = x.byteLength;
    }
    argLens[i] = n;
    off += n;
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

/** Pairs from an object, Headers, Map, [name, value][] or a flat raw list. */
function pairList(src, what) {
  const flat = [];
  const add = (n, v) => {
    if (v === undefined || v === null) return;
    if (Array.isArray(v)) for (const x of v) flat.push(String(n), String(x));
    else flat.push(String(n), String(v));
  };
  if (src === undefined || src === null) return flat;
  if (Array.isArray(src)) {
    if (src.length > 0 && typeof src[0] === 'string') {
      // Node's rawHeaders: [name, value, name, value, …]
      for (let i = 0; i + 1 < src.length; i += 2) add(src[i], src[i + 1]);
    } else {
      for (const p of src) add(p[0], p[1]);
    }
  } else if (typeof src.entries === 'function' && typeof src.get === 'function') {
    for (const [n, v] of src.entries()) add(n, v);
  } else if (typeof src === 'object') {
    for (const n of Object.keys(src)) add(n, src[n]);
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
 * The core's in-memory nonce cache: bounded, each nonce kept until its
 * timestamp + window (then evicted when room is needed); full of unexpired
 * nonces, it refuses (NONCE_STORE_FULL) rather than forget one.
 */
class NonceStore {
  constructor(options) {
    const capacity = typeof options === 'number' ? options : options && options.capacity !== undefined ? options.capacity : 4096;
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > 65536) {
      throw typeError('NonceStore capacity must be an integer from 1 to 65536');
    }
    Object.defineProperty(this, HANDLE, { value: new wasm.NonceCacheHandle(capacity) });
  }
  /** Nonces held (expired ones included until evicted). */
  get size() {
    return this[HANDLE].len();
  }
  /** The capacity (the requested one rounded up to 256, 1024, 4096, 16384 or 65536). */
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
// Verified results

let outMem = null;
let outBuf = null; // Buffer over the whole memory, for in-place decoding

/** The text a hot verifier left in the result arena (`len` UTF-8 bytes). */
function outText(len) {
  if (outMem !== memory.buffer) {
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
    this.keyIndex = r[0];
    /** The request's timestamp, Unix ms. */
    this.timestampMs = r[1];
    /** The exact body bytes that were verified. */
    this.body = body;
    this.#key = typeof accessKeys === 'string' ? accessKeys : accessKeys[r[0]];
  }
  /** The body as UTF-8 text. */
  get text() {
    return Buffer.from(this.body.buffer, this.body.byteOffset, this.body.byteLength).toString('utf8');
  }
  /**
   * The verified body parsed as JSON (an object, parsed once); MalformedEncodingError
   * otherwise. The core's notification parser reads it first, as `koosign serve` does:
   * strict JSON, nesting at most 64, each known field (activity, orderId, …) once and a
   * string, so that no copy of a field is read that the core would refuse.
   */
  get notification() {
    if (this.#notification !== undefined) return this.#notification;
    try {
      wasm.check_notification(pack([this.body]));
    } catch (e) {
      throw translate(e);
    }
    let n;
    try {
      n = JSON.parse(this.text);
    } catch (e) {
      n = undefined;
    }
    if (n === null || typeof n !== 'object' || Array.isArray(n)) {
      throw new MalformedEncodingError('malformed input: body is not a valid notification JSON object', {
        what: 'body is not a valid notification JSON object',
      });
    }
    this.#notification = n;
    return n;
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
  const args = [queryText(query, 'query'), ...keyList(accessKeys)];
  const store = storeHandle(o.nonceStore);
  const now = nowMs(o.now);
  const win = windowMs(o.window);
  let r;
  try {
    r = outText(wasm.verify_v1(pack(args), now, win, store));
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
  const args = [str(authToken, 'authToken'), bytes(body), ...keyList(accessKeys)];
  const store = storeHandle(o.nonceStore);
  const now = nowMs(o.now);
  const win = windowMs(o.window);
  let r;
  try {
    r = outText(wasm.verify_v1_json(pack(args), now, win, store));
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
    return JSON.parse(wasm.parse_form(queryText(query, 'query')));
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
  const args = [queryText(queryOrParams, 'queryOrParams'), b, ...keyList(accessKeys)];
  const store = storeHandle(o.nonceStore);
  const now = nowMs(o.now);
  const win = windowMs(o.window);
  let r;
  try {
    r = wasm.verify_v2_query(pack(args), now, win, store);
  } catch (e) {
    throw translate(e);
  }
  return new VerifiedV2(r, b, accessKeys, 'v2');
}

/** S2b: verifies a kit notification: x-sign, x-timestamp, x-nonce headers (any case) + raw body. */
function verifyKit(headers, body, accessKeys, opts) {
  const o = options(opts);
  const b = bytes(body);
  const h = pairList(headers, 'headers');
  const args = [b, ...h, ...keyList(accessKeys)];
  const store = storeHandle(o.nonceStore);
  const now = nowMs(o.now);
  const win = windowMs(o.window);
  let r;
  try {
    r = wasm.verify_kit_headers(pack(args), h.length / 2, now, win, store);
  } catch (e) {
    throw translate(e);
  }
  return new VerifiedV2(r, b, accessKeys, 'kit');
}

function signV2Impl(kit, body, accessKey, nonce, timestamp) {
  const ts = timestamp instanceof Date ? String(timestamp.getTime()) : String(timestamp);
  try {
    return wasm.sign_v2(pack([bytes(body), str(accessKey, 'accessKey'), str(nonce, 'nonce'), ts]), kit);
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
    return outText(wasm.body_sign(pack([bytes(body), str(accessKey, 'accessKey')])));
  } catch (e) {
    throw translate(e);
  }
}

/** b64(HMAC(accessKey, body)) alone. */
function bodySignature(body, accessKey) {
  return wasm.body_signature(pack([bytes(body), str(accessKey, 'accessKey')]));
}

/** Verifies a received Body-Sign value; returns the matching key's index. */
function verifyBodySign(value, body, accessKeys) {
  const args = [str(value, 'value'), bytes(body), ...keyList(accessKeys)];
  try {
    return wasm.verify_body_sign(pack(args));
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
    return wasm.encrypt_field(str(plaintext, 'plaintext'), str(accessKey, 'accessKey'), ty, random);
  } catch (e) {
    throw translate(e);
  }
}

/** Decrypts a field; encryptType "1", "2" or "auto" (256 then 128). */
function decryptField(wire, accessKey, encryptType = 'auto') {
  const mode = encryptTypeCode(encryptType, true);
  try {
    return wasm.decrypt_field(str(wire, 'wire'), str(accessKey, 'accessKey'), mode);
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
  const args = [String(ts), str(nonce, 'nonce'), bytes(body), str(signature, 'signature'), ...keyList(accessKeys)];
  const now = nowMs(o.now);
  const win = windowMs(o.window);
  try {
    return wasm.verify_licence(pack(args), now, win);
  } catch (e) {
    throw translate(e);
  }
}

// ---------------------------------------------------------------------------
// S6

/** host, path and decoded query pairs from a URL or an explicit target. */
function apigTarget(target) {
  if (typeof target === 'string' || target instanceof URL) {
    const u = target instanceof URL ? target : new URL(target);
    const q = [];
    for (const [n, v] of u.searchParams) q.push(n, v);
    return { host: u.host, path: u.pathname, query: q };
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
    const t = apigTarget(target);
    const headers = pairList(o.headers, 'headers');
    const method = o.method === undefined ? 'GET' : str(o.method, 'method');
    const args = [method, t.host, t.path, this.#ak, this.#sk, bytes(o.body), ...t.query, ...headers];
    const now = nowMs(o.now);
    let r;
    try {
      r = JSON.parse(wasm.sign_apig(pack(args), t.query.length / 2, now));
    } catch (e) {
      throw translate(e);
    }
    const add = {};
    for (const [n, v] of r.headersToAdd) add[n] = v;
    return {
      headers: add,
      authorization: r.authorization,
      signature: r.signature,
      signedHeaders: r.signedHeaders,
      canonicalRequest: r.canonicalRequest,
      canonicalQuery: r.canonicalQuery,
      stringToSign: r.stringToSign,
    };
  }
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
  const t = apigTarget(target);
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
// Result codes (SCHEMES.md "Which code a refusal gets"; the same table as
// `koosign serve`)

const MERCHANT_SIDE = new Set(['NONCE_STORE_FULL', 'NO_ACCESS_KEY', 'RANDOM_SOURCE', 'BUFFER_TOO_SMALL', 'STORE_UNAVAILABLE']);

/**
 * The resultCode to answer for `err`:
 * - "000005" for the merchant's own failures (NonceStoreFullError,
 *   NoAccessKeyError, RandomSourceError, BufferTooSmallError) and anything
 *   that is not a KoosignError;
 * - "000002" for any other KoosignError met after the request was
 *   authenticated (`opts.authenticated`: the verified body or parameters
 *   are unusable);
 * - "000001" for any other KoosignError met before (a verifier threw it:
 *   a signature, token, timestamp or nonce missing, malformed, ambiguous,
 *   not matching, stale or replayed).
 */
function resultCodeFor(err, opts) {
  const o = options(opts);
  if (!(err instanceof KoosignError) || MERCHANT_SIDE.has(err.code)) return '000005';
  return o.authenticated === true ? '000002' : '000001';
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
