'use strict';
// The same production interface on plain node:http, calling koosign's
// functions directly (no framework, no middleware):
//
//   KOOSIGN_ACCESS_KEY=… node http-merchant.js [--port 8080] [--host 127.0.0.1]

const http = require('node:http');
const koosign = require('koosign');
const { createMerchant } = require('./merchant');

function createServer({ accessKey, merchant = createMerchant(), nonceStore = new koosign.NonceStore() }) {
  return http.createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks); // the exact bytes: never re-serialise
      let answer;
      try {
        if (!req.url.startsWith('/produce')) {
          res.writeHead(404).end();
          return;
        }
        const v =
          req.method === 'GET'
            ? koosign.verifyV1(req.url, accessKey) // V1: authToken in the query
            : req.headers['x-sign'] !== undefined
              ? koosign.verifyKit(req.headers, body, accessKey, { nonceStore })
              : koosign.verifyV2(req.url, body, accessKey, { nonceStore }); // ±60 s, replay
        answer = merchant.handle(v.notification, accessKey);
      } catch (e) {
        if (!(e instanceof koosign.KoosignError)) {
          res.writeHead(500).end();
          return;
        }
        answer = {
          resultCode: e instanceof koosign.MalformedRequestError ? '000002' : '000001',
          resultMsg: e.message, // never holds a secret
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
