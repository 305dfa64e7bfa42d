// The checks that use.cjs (require) and use.mjs (import) run on the package.
'use strict';
const assert = require('node:assert/strict');

const KEY = 'testAccessKey123';
const BODY = '{"activity":"newInstance","businessId":"87b94795-0603-4e24-8ae5-69420d60e3c8","orderId":"CS2211181819B4LVS","orderLineId":"CS2211181819B4LVS-000001","testFlag":"1"}';
const QUERY = 'signature=CD8D59BB7FCF7574752B5EB0ED04B3ACF4A759DA53F24D30A79ABE45C5D1BA25&timestamp=1680508066618&nonce=50D83FDECAED6CCD8EF597F2A577950527928BA287D04E6036E92B2806FD17DA';
const NOW = 1680508070000; // ms: 4 s after the notification's timestamp
const SIGNED = 'sign_type="HMAC-SHA256", signature="CPIAbI6A1/GrF70YmPEaCgm5WaxUkts5hjQRqqpZv3s="';

function check(k) {
  const nonceStore = new k.NonceStore();
  const n = k.verifyV2(QUERY, BODY, KEY, { now: NOW, nonceStore });
  assert.equal(n.activity, 'newInstance');
  assert.equal(n.keyIndex, 0);
  assert.equal(n.timestampMs, 1680508066618);
  assert.throws(() => k.verifyV2(QUERY, BODY, KEY, { now: NOW + 1000, nonceStore }), k.ReplayedNonceError);
  assert.throws(() => k.verifyV2(QUERY, BODY.replace('"testFlag":"1"', '"testFlag":"0"'), KEY, { now: NOW }), k.SignatureMismatchError);
  assert.equal(k.bodySign('{"resultCode":"000000","resultMsg":"success."}', KEY), SIGNED);
  assert.equal(k.BODY_SIGN_HEADER, 'Body-Sign');
}

module.exports = { KEY, BODY, QUERY, NOW, SIGNED, check };
