'use strict';
// A KooGallery production interface on Express, secured by koosign:
//
//   KOOSIGN_ACCESS_KEY=… node express-merchant.js [--port 8080] [--host 127.0.0.1]
//
// POST /produce answers the V2 basic interfaces (and kit x-sign requests),
// GET /produce the V1 ones. The middleware is a thin skin over the core's
// keyed context (koosign Merchant): the core detects the protocol, verifies
// the signature, the window (±60 s for V2/kit, ±5 min for V1) and the replay
// store, parses and validates the notification, and signs the refusal the
// middleware sends. The handler answers with `merchant.respond`: the core
// writes the answer, encrypts appInfo and signs the exact bytes.

const express = require('express');
const { Merchant } = require('koosign');
const { koosignMiddleware, sendAnswer } = require('koosign/express');
const { createMerchant } = require('./merchant');

function createApp({ accessKeys, app: business = createMerchant(), nonceStore, encryptType = '1', now }) {
  // now: a clock () => Unix ms, for tests replaying recorded requests (default Date.now).
  const merchant = new Merchant(accessKeys);
  const app = express();
  app.all('/produce', koosignMiddleware({ merchant, nonceStore, now, signResponses: false }), (req, res) => {
    // req.koosign: the Verified view (protocol, activity, keyIndex, …);
    // req.body: the notification, built from the core's parse.
    const v = req.koosign;
    sendAnswer(res, merchant.respond(business.handle(v.activity, req.body), { encryptType }));
  });
  return app;
}

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
}

async function main() {
  const key = process.env.KOOSIGN_ACCESS_KEY;
  if (!key) {
    console.error('set KOOSIGN_ACCESS_KEY to the access key of the seller console');
    process.exit(2);
  }
  // KOOSIGN_REDIS_URL: a replay store shared by every process (issue 15).
  const nonceStore = process.env.KOOSIGN_REDIS_URL ? await RedisNonceStore.fromUrl(process.env.KOOSIGN_REDIS_URL) : undefined;
  const host = arg('host', '127.0.0.1');
  const server = createApp({ accessKeys: [key], nonceStore }).listen(Number(arg('port', process.env.PORT || 8080)), host, () => {
    const { port } = server.address();
    console.log(`listening on http://${host}:${port}/produce`);
  });
}

const { RedisNonceStore } = require('koosign');

if (require.main === module) main();

module.exports = { createApp };
