'use strict';
// Express (and Connect / plain node:http) middleware: reads the raw body,
// verifies the notification with the core, exposes it on `req`, and signs
// the response with Body-Sign over the exact bytes sent.

const koosign = require('./index.js');

const { KoosignError, InputTooLargeError, NonceStore, BODY_SIGN_HEADER, V1_DEFAULT_WINDOW_MS, resultCodeFor } = koosign;

const PROTOCOLS = ['auto', 'v1', 'v1json', 'v2', 'kit'];

function toBuffer(chunk, encoding) {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  return Buffer.from(String(chunk), typeof encoding === 'string' ? encoding : 'utf8');
}

/**
 * From now on, every body sent on `res` carries `Body-Sign` computed over
 * the exact bytes: `res.write` chunks are held until `res.end` so that the
 * header can still be set.
 */
function signResponses(res, accessKey) {
  const write = res.write;
  const end = res.end;
  let held = null;
  res.write = function koosignWrite(chunk, encoding, cb) {
    if (res.headersSent) return write.apply(this, arguments);
    (held || (held = [])).push(toBuffer(chunk, encoding));
    const done = typeof encoding === 'function' ? encoding : cb;
    if (typeof done === 'function') process.nextTick(done);
    return true;
  };
  res.end = function koosignEnd(chunk, encoding, cb) {
    res.write = write;
    res.end = end;
    if (typeof chunk === 'function') {
      cb = chunk;
      chunk = undefined;
    } else if (typeof encoding === 'function') {
      cb = encoding;
      encoding = undefined;
    }
    if (res.headersSent) return end.call(this, chunk, encoding, cb);
    let body = chunk === undefined || chunk === null ? null : toBuffer(chunk, encoding);
    if (held) {
      body = Buffer.concat(body ? [...held, body] : held);
      if (!res.hasHeader('Content-Length') && !res.hasHeader('Transfer-Encoding')) {
        res.setHeader('Content-Length', body.length);
      }
    }
    if (body === null) return end.call(this, cb);
    res.setHeader(BODY_SIGN_HEADER, koosign.bodySign(body, accessKey));
    return end.call(this, body, cb);
  };
}

/** The raw body: a Buffer left by express.raw(), or read from the stream. */
function readRawBody(req, limit, cb) {
  if (Buffer.isBuffer(req.body)) return cb(null, req.body);
  if (req._body === true || req.readableEnded) {
    return cb(
      new Error(
        'koosign: the request body was already consumed by another parser; mount the koosign middleware ' +
          'before express.json()/express.text(), or use express.raw({ type: "*/*" }) in front of it',
      ),
    );
  }
  const chunks = [];
  let size = 0;
  let finished = false;
  const finish = (err, body) => {
    if (finished) return;
    finished = true;
    req.removeListener('data', onData);
    req.removeListener('end', onEnd);
    req.removeListener('error', onError);
    if (err) req.resume(); // drain what is left
    cb(err, body);
  };
  const onData = (c) => {
    size += c.length;
    if (size > limit) {
      finish(new InputTooLargeError(`input exceeds the limit of ${limit}`, { limit }));
      return;
    }
    chunks.push(c);
  };
  const onEnd = () => finish(null, Buffer.concat(chunks, size));
  const onError = (e) => finish(e);
  req.on('data', onData);
  req.on('end', onEnd);
  req.on('error', onError);
}

function header(req, name) {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function protocolOf(req, configured) {
  if (configured !== 'auto') return configured;
  // Any kit header makes it a kit request (as `koosign serve` decides): one
  // missing is then refused, not read as V2.
  if (['x-sign', 'x-timestamp', 'x-nonce'].some((h) => header(req, h) !== undefined)) return 'kit';
  if (req.method === 'GET' || req.method === 'HEAD') return 'v1';
  if (header(req, 'authtoken') !== undefined) return 'v1json';
  return 'v2';
}

/** The V1 window option: ms > 0, or exactly 0 for none (never by accident). */
function v1WindowOf(w) {
  if (w === undefined) return V1_DEFAULT_WINDOW_MS;
  if (w === 0) return null;
  if (typeof w !== 'number' || !Number.isFinite(w) || w < 0) {
    throw new TypeError('koosign: v1Window must be milliseconds (> 0), or 0 to switch the V1 window off');
  }
  return w;
}

/**
 * Creates the middleware. Options:
 * - accessKeys: string or string[] (several during a key rotation); required.
 * - protocol: 'auto' (default: an x-sign, x-timestamp or x-nonce header →
 *   kit, GET → v1, authToken header → v1json, otherwise v2), or one of 'v1',
 *   'v1json', 'v2', 'kit'.
 * - window: the V2/kit freshness window in ms (default 60000); null for none.
 * - v1Window: the V1/v1json window in ms (default V1_DEFAULT_WINDOW_MS,
 *   ±5 min, SCHEMES.md S1 item 8); 0 switches it off (null is refused).
 * - nonceStore: a NonceStore (default: a new one of capacity 4096), shared
 *   by V2/kit nonces and V1 authTokens; null disables the replay check.
 * - now: clock, () => Unix ms or Date (default Date.now).
 * - limit: largest body accepted, in bytes (default MAX_NOTIFICATION_BODY, 1 MiB).
 * - signResponses: sign every response with Body-Sign (default true).
 * - onError(err, req, res, next, { resultCode }): handles a failed
 *   verification (resultCode: what the table below answers); by default
 *   the middleware answers HTTP 200 (signed like every response) with the
 *   resultCode of SCHEMES.md "Which code a refusal gets", as `koosign serve`:
 *   "000001" for anything refused before authentication (a signature, token,
 *   timestamp or nonce missing, malformed, ambiguous, not matching, stale
 *   or replayed), "000005" for the merchant's side (replay store full),
 *   "000002" for an authenticated body that is unusable or too large.
 */
function koosignMiddleware(options) {
  const o = options || {};
  const keys = typeof o.accessKeys === 'string' ? [o.accessKeys] : o.accessKeys;
  if (!Array.isArray(keys) || keys.length === 0 || keys.some((k) => typeof k !== 'string' || k === '')) {
    throw new TypeError('koosign: accessKeys must be a non-empty string or array of non-empty strings');
  }
  const protocol = o.protocol === undefined ? 'auto' : o.protocol;
  if (!PROTOCOLS.includes(protocol)) throw new TypeError(`koosign: protocol must be one of ${PROTOCOLS.join(', ')}`);
  const nonceStore = o.nonceStore === undefined ? new NonceStore() : o.nonceStore;
  const clock = typeof o.now === 'function' ? o.now : Date.now;
  const limit = o.limit === undefined ? koosign.MAX_NOTIFICATION_BODY : o.limit;
  const sign = o.signResponses !== false;
  const v1Window = v1WindowOf(o.v1Window);

  function verify(req, raw, proto) {
    const now = clock();
    const opts = { now, window: o.window, nonceStore };
    const v1 = { now, window: v1Window, nonceStore };
    const url = req.originalUrl || req.url || '';
    switch (proto) {
      case 'v1':
        return koosign.verifyV1(url, keys, v1);
      case 'v1json':
        return koosign.verifyV1Json(header(req, 'authtoken') || '', raw, keys, v1);
      case 'kit':
        // rawHeaders: a repeated header arrives as two pairs (the core takes
        // the first), not joined into one value.
        return koosign.verifyKit(req.rawHeaders || req.headers, raw, keys, opts);
      default:
        return koosign.verifyV2(url, raw, keys, opts);
    }
  }

  return function koosignVerify(req, res, next) {
    readRawBody(req, limit, (err, raw) => {
      let verified;
      // 000002 (the "authenticated" row) for a body over the limit, as in
      // `koosign serve`, and for a verified body that is unusable.
      let authenticated = err instanceof InputTooLargeError;
      const proto = protocolOf(req, protocol);
      try {
        if (err) throw err;
        verified = verify(req, raw, proto);
        authenticated = true;
        // Parse the verified body now, so a signed but malformed body is a
        // malformed request (000002) rather than a crash in the handler.
        void verified.notification;
      } catch (e) {
        if (!(e instanceof KoosignError)) return next(e);
        if (sign) signResponses(res, keys[0]);
        const resultCode = resultCodeFor(e, { authenticated });
        if (o.onError) return o.onError(e, req, res, next, { resultCode });
        const text = JSON.stringify({ resultCode, resultMsg: e.message });
        res.statusCode = 200;
        res.setHeader('Content-Type', 'application/json;charset=UTF-8');
        res.end(text);
        return undefined;
      }
      req.koosign = verified;
      req.rawBody = raw;
      if (proto !== 'v1') req.body = verified.notification;
      if (sign) signResponses(res, keys[verified.keyIndex]);
      return next();
    });
  };
}

module.exports = { koosignMiddleware, signResponses, readRawBody };
