'use strict';
// The same production interface on plain node:http, over the core's keyed
// context (koosign Merchant) directly, no framework, no middleware:
//
//   KOOSIGN_ACCESS_KEY=… node http-merchant.js [--port 8080] [--host 127.0.0.1]
//
// The core decides everything about the protocol (detection, signature,
// window, replay, the notification and its activity, the resultCode of a
// refusal and its signature); this file reads the request and sends what
// the core returns.

const http = require('node:http');
const koosign = require('koosign');
const { createMerchant } = require('./merchant');

function createServer({ accessKey, app = createMerchant(), nonceStore = new koosign.NonceStore(), encryptType = '1', now = Date.now }) {
  // accessKey: one key or several (rotation); now: a clock () => Unix ms (tests replaying recorded requests).
  const merchant = new koosign.Merchant(accessKey); // key setup once: ±60 s V2/kit, ±5 min V1
  const send = (res, answer) => res.writeHead(200, answer.headers).end(answer.body);
  return http.createServer((req, res) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      // One byte past the core's limit is enough for it to refuse the body unread.
      if (size <= koosign.MAX_NOTIFICATION_BODY) chunks.push(c.subarray(0, koosign.MAX_NOTIFICATION_BODY + 1 - size));
      size += c.length;
    });
    req.on('end', () => {
      if (!req.url.startsWith('/produce')) {
        res.writeHead(404).end();
        return;
      }
      const request = { method: req.method, url: req.url, headers: req.rawHeaders, body: Buffer.concat(chunks) };
      merchant.verifyAsync(request, { store: nonceStore, nowMs: now() }).then(
        (v) => {
          let answer;
          try {
            answer = merchant.respond(app.handle(v.activity, v.notification), { encryptType });
          } catch (e) {
            answer = merchant.refusal(e, { authenticated: true }); // the handler failed: the core's table
          }
          send(res, answer);
        },
        (e) => send(res, merchant.refusal(e)), // the signed refusal the core wrote
      );
    });
  });
}

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
}

async function main() {
  const accessKey = process.env.KOOSIGN_ACCESS_KEY;
  if (!accessKey) {
    console.error('set KOOSIGN_ACCESS_KEY to the access key of the seller console');
    process.exit(2);
  }
  // KOOSIGN_REDIS_URL: a replay store shared by every process (issue 15).
  const nonceStore = process.env.KOOSIGN_REDIS_URL ? await koosign.RedisNonceStore.fromUrl(process.env.KOOSIGN_REDIS_URL) : undefined;
  const host = arg('host', '127.0.0.1');
  const server = createServer({ accessKey, nonceStore }).listen(Number(arg('port', process.env.PORT || 8080)), host, () => {
    console.log(`listening on http://${host}:${server.address().port}/produce`);
  });
}

if (require.main === module) main();

module.exports = { createServer };
