'use strict';
// A KooGallery production interface on Express, secured by koosign:
//
//   KOOSIGN_ACCESS_KEY=… node express-merchant.js [--port 8080] [--host 127.0.0.1]
//
// POST /produce answers the V2 basic interfaces (and kit x-sign requests),
// GET /produce the V1 ones. The middleware reads the raw body, verifies the
// signature, the window (±60 s for V2/kit, ±5 min for V1) and the replay
// store (the V2 nonce, the V1 authToken), answers a refusal itself (000001
// before authentication, 000002 for an unusable verified body, 000005 for a
// full replay store), and signs every response with Body-Sign over the exact
// bytes sent.

const express = require('express');
const { koosignMiddleware } = require('koosign/express');
const { createMerchant } = require('./merchant');

function createApp({ accessKeys, merchant = createMerchant() }) {
  const app = express();
  app.all('/produce', koosignMiddleware({ accessKeys }), (req, res) => {
    // req.koosign: the verified notification (protocol, keyIndex, timestampMs);
    // req.body: its JSON (V2) — or req.koosign.params for V1.
    const v = req.koosign;
    const key = [].concat(accessKeys)[v.keyIndex];
    res.json(merchant.handle(v.notification, key));
  });
  return app;
}

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
}

if (require.main === module) {
  const key = process.env.KOOSIGN_ACCESS_KEY;
  if (!key) {
    console.error('set KOOSIGN_ACCESS_KEY to the access key of the seller console');
    process.exit(2);
  }
  const host = arg('host', '127.0.0.1');
  const server = createApp({ accessKeys: [key] }).listen(Number(arg('port', process.env.PORT || 8080)), host, () => {
    const { port } = server.address();
    console.log(`listening on http://${host}:${port}/produce`);
  });
}

module.exports = { createApp };
