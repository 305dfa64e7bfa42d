'use strict';
// Express (and Connect / plain node:http) middleware: reads the raw body,
// verifies the notification with the core, exposes it on `req`, and signs
// the response with Body-Sign over the exact bytes sent.

const koosign = require('./index.js');

const { Merchant, NonceStore, UNCHECKED, MAX_NOTIFICATION_BODY, BODY_SIGN_HEADER } = koosign;

function toBuffer(chunk, encoding) {
  if (Buffer.isBuffer(chunk)) return chunk;
  if (chunk instanceof Uint8Array) return Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
  return Buffer.from(String(chunk), typeof encoding === 'string' ? encoding : 'utf8');
}

/**
 * From now on, every body sent on `res` carries `Body-Sign` computed over
 * the exact bytes: `res.write` chunks are held until `res.end` so that the
 * header can still be set. `signer`: an access key, or (body) => Body-Sign
 * value (a Merchant's bodySign).
 */
function signResponses(res, signer) {
  const bodySignOf = typeof signer === 'function' ? signer : (body) => koosign.bodySign(body, signer);
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
    res.setHeader(BODY_SIGN_HEADER, bodySignOf(body));
    return end.call(this, body, cb);
  };
}

/**
 * The raw body: a Buffer left by express.raw(), or read from the stream.
 * At most `keep` bytes are kept (the rest is drained unread): the core
 * refuses a body over MAX_NOTIFICATION_BODY unread, so the middleware
 * keeps one byte more than that for it to see.
 */
function readRawBody(req, keep, cb) {
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
    if (err || size >= keep) req.resume(); // drain what is left
    cb(err, body);
  };
  const onData = (c) => {
    const room = keep - size;
    if (c.length >= room) {
      chunks.push(c.subarray(0, room));
      size = keep;
      finish(null, Buffer.concat(chunks, size));
      return;
    }
    chunks.push(c);
    size += c.length;
  };
  const onEnd = () => finish(null, Buffer.concat(chunks, size));
  const onError = (e) => finish(e);
  req.on('data', onData);
  req.on('end', onEnd);
  req.on('error', onError);
}

/** A window option: milliseconds, or 'unchecked' by name; undefined is the core's default. */
function windowOf(w, what) {
  if (w === undefined || w === UNCHECKED) return w;
  if (typeof w !== 'number' || !Number.isFinite(w) || w <= 0) {
    throw new TypeError(`koosign: ${what} must be milliseconds (> 0), or '${UNCHECKED}' to switch the check off by name`);
  }
  return w;
}

/** Sends a signed answer ({ body, headers }) as HTTP 200. */
function sendAnswer(res, answer) {
  res.statusCode = 200;
  for (const [n, v] of Object.entries(answer.headers)) res.setHeader(n, v);
  res.end(answer.body);
}

/**
 * Creates the middleware: a thin skin over the core's keyed merchant
 * context (koosign Merchant): the core detects the protocol, verifies,
 * checks the window and the replay store, parses and validates the
 * notification, and gives the signed refusal; the middleware sends it.
 * Options:
 * - accessKeys: string or string[] (several during a key rotation; key 0
 *   signs refusals); required. Or `merchant`: a koosign Merchant.
 * - v2Window (alias window): the V2/kit window in ms (default ±60 s), or
 *   'unchecked' by name.
 * - v1Window: the V1/v1json window in ms (default ±5 min), or 'unchecked'.
 * - nonceStore: the replay store: a NonceStore (default: a new one of
 *   capacity: the core's nonce::DEFAULT_CAPACITY, 262,144), an asynchronous store such as RedisNonceStore (then
 *   `verifyAsync`), or 'unchecked' by name.
 * - now: clock, () => Unix ms or Date (default Date.now).
 * - signResponses: sign every response with Body-Sign over the exact bytes
 *   sent, with the key that verified the request (default true).
 * - onError(err, req, res, next, { resultCode, refusal }): handles a
 *   refusal; by default the core's signed refusal (`refusal`: HTTP 200,
 *   `{"resultCode","resultMsg"}`, Body-Sign) is sent.
 * On success: req.koosign (the Verified view), req.body (its notification:
 * the object built from the core's parse), req.rawBody (the exact bytes).
 */
function koosignMiddleware(options) {
  const o = options || {};
  for (const gone of ['protocol', 'limit']) {
    if (o[gone] !== undefined) {
      throw new TypeError(`koosign: the ${gone} option is gone: the core decides it (protocol detection, MAX_NOTIFICATION_BODY)`);
    }
  }
  let merchant = o.merchant;
  if (merchant === undefined) {
    const keys = typeof o.accessKeys === 'string' ? [o.accessKeys] : o.accessKeys;
    if (!Array.isArray(keys) || keys.length === 0 || keys.some((k) => typeof k !== 'string' || k === '')) {
      throw new TypeError('koosign: accessKeys must be a non-empty string or array of non-empty strings');
    }
    if (o.window !== undefined && o.v2Window !== undefined) throw new TypeError('koosign: give v2Window or window, not both');
    merchant = new Merchant(keys, {
      v2Window: windowOf(o.v2Window === undefined ? o.window : o.v2Window, 'v2Window'),
      v1Window: windowOf(o.v1Window, 'v1Window'),
    });
  } else if (!(merchant instanceof Merchant)) {
    throw new TypeError('koosign: merchant must be a koosign Merchant');
  }
  const store = o.nonceStore === undefined ? new NonceStore() : o.nonceStore;
  if (store !== UNCHECKED && !(store instanceof NonceStore) && !(store && typeof store.checkAndInsert === 'function')) {
    throw new TypeError(`koosign: nonceStore must be a NonceStore, an asynchronous store (checkAndInsert) or '${UNCHECKED}'`);
  }
  const sync = store === UNCHECKED || store instanceof NonceStore;
  const clock = typeof o.now === 'function' ? o.now : Date.now;
  const sign = o.signResponses !== false;

  return function koosignVerify(req, res, next) {
    readRawBody(req, MAX_NOTIFICATION_BODY + 1, (err, raw) => {
      if (err) return next(err);
      const request = { method: req.method, url: req.originalUrl || req.url || '', headers: req.rawHeaders || req.headers, body: raw };
      const opts = { nowMs: clock(), store };
      const accepted = (verified) => {
        req.koosign = verified;
        req.rawBody = raw;
        req.body = verified.notification;
        if (sign) signResponses(res, (body) => merchant.bodySign(body, verified.keyIndex));
        next();
      };
      const refused = (e) => {
        if (!(e instanceof koosign.KoosignError) || !e.refusal) return next(e);
        if (o.onError) {
          if (sign) signResponses(res, (body) => merchant.bodySign(body));
          return o.onError(e, req, res, next, { resultCode: e.resultCode, refusal: e.refusal });
        }
        return sendAnswer(res, e.refusal);
      };
      if (sync) {
        let v;
        try {
          v = merchant.verify(request, opts);
        } catch (e) {
          return refused(e);
        }
        return accepted(v);
      }
      // A throw past next() (a synchronous handler) goes to Express, not to an unhandled rejection.
      return merchant.verifyAsync(request, opts).then(accepted, refused).catch(next);
    });
  };
}

module.exports = { koosignMiddleware, signResponses, readRawBody, sendAnswer };
