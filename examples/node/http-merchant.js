'use strict';
// The same production interface on plain node:http, calling koosign's
// functions directly (no framework, no middleware):
//
//   KOOSIGN_ACCESS_KEY=… node http-merchant.js [--port 8080] [--host 127.0.0.1]

const http = require('node:http');
const koosign = require('koosign');
const { createMerchant } = require('./merchant');

function createServer({ accessKey, merchant = createMerchant(), nonceStore = new koosign.NonceStore() }) {
  // The endpoint defaults (SCHEMES.md S1 item 8, S2): V2/kit ±60 s (the
  // verifiers' default), V1 ±5 min; V2 nonces and V1 authTokens in one
  // replay store.
  const v1 = { window: koosign.V1_DEFAULT_WINDOW_MS, nonceStore };
  return http.createServer((req, res) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size <= koosign.MAX_NOTIFICATION_BODY) chunks.push(c); // a larger body is refused unread
    });
    req.on('end', () => {
      const body = Buffer.concat(chunks); // the exact bytes: never re-serialise
      if (!req.url.startsWith('/produce')) {
        res.writeHead(404).end();
        return;
      }
      let answer;
      let authenticated = false;
      try {
        if (size > koosign.MAX_NOTIFICATION_BODY) {
          // Answered as `koosign serve` answers it: 000002, unverified.
          authenticated = true;
          throw new koosign.InputTooLargeError(`input exceeds the limit of ${koosign.MAX_NOTIFICATION_BODY}`, { limit: koosign.MAX_NOTIFICATION_BODY });
        }
        const v =
          req.method === 'GET'
            ? koosign.verifyV1(req.url, accessKey, v1) // V1: authToken in the query
            : ['x-sign', 'x-timestamp', 'x-nonce'].some((h) => req.headers[h] !== undefined)
              ? koosign.verifyKit(req.rawHeaders, body, accessKey, { nonceStore })
              : koosign.verifyV2(req.url, body, accessKey, { nonceStore }); // ±60 s, replay
        authenticated = true;
        answer = merchant.handle(v.notification, accessKey);
      } catch (e) {
        // SCHEMES.md "Which code a refusal gets", as `koosign serve`: 000001
        // before authentication, 000002 for an unusable verified body,
        // 000005 for the merchant's side (replay store full, …).
        answer = {
          resultCode: koosign.resultCodeFor(e, { authenticated }),
          resultMsg: e instanceof koosign.KoosignError ? e.message : 'internal error', // never holds a secret
        };
      }
      const out = Buffer.from(JSON.stringify(answer), 'utf8');
      res.writeHead(200, {
        'Content-Type': 'application/json;charset=UTF-8',
        'Content-Length': out.length,
        [koosign.BODY_SIGN_HEADER]: koosign.bodySign(out, accessKey), // over the bytes sent
      });
      res.end(out);
    });
  });
}

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
}

if (require.main === module) {
  const accessKey = process.env.KOOSIGN_ACCESS_KEY;
  if (!accessKey) {
    console.error('set KOOSIGN_ACCESS_KEY to the access key of the seller console');
    process.exit(2);
  }
  const host = arg('host', '127.0.0.1');
  const server = createServer({ accessKey }).listen(Number(arg('port', process.env.PORT || 8080)), host, () => {
    console.log(`listening on http://${host}:${server.address().port}/produce`);
  });
}

module.exports = { createServer };
