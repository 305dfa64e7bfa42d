// The repository's conformance vectors and the worked examples of docs/SCHEMES.md,
// through the public API of the package.
import test from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k from 'koosign';
import { run } from '../conformance.mjs';
import { BINDINGS, CONFORMANCE_FILES, REPO, VECTORS } from './paths.mjs';

const KEY = 'testAccessKey123';
const V2_BODY =
  '{"activity":"newInstance","businessId":"87b94795-0603-4e24-8ae5-69420d60e3c8","orderId":"CS2211181819B4LVS","orderLineId":"CS2211181819B4LVS-000001","testFlag":"1"}';
const V2_NONCE = '50D83FDECAED6CCD8EF597F2A577950527928BA287D04E6036E92B2806FD17DA';

test('every case of vectors/ passes the conformance contract', () => {
  const files = CONFORMANCE_FILES.map((f) => join(VECTORS, f));
  for (const f of files) assert.ok(existsSync(f), `conformance vectors missing: ${f} (the repository's vectors/ or $KOOSIGN_VECTORS)`);
  const lines = [];
  const errors = [];
  const status = run(files, { out: (l) => lines.push(l), err: (l) => errors.push(l) });
  assert.deepEqual(errors, []);
  assert.equal(status, 0);
  assert.match(lines.at(-1), /^(\d+) passed, 0 failed$/);
  const total = Number(lines.at(-1).split(' ')[0]);
  assert.ok(total >= 190, `${total} cases`);
  for (const kind of ['aes_cbc', 'apig', 'body_sign', 'v1_query', 'v2_basic', 'v2_kit']) {
    assert.ok(lines.some((l) => l.startsWith(`${kind}: `) && !l.startsWith(`${kind}: 0 passed`)), kind);
  }
});

test('conformance.mjs without files reads vectors/, and fails when they are absent', () => {
  const script = join(BINDINGS, 'conformance.mjs');
  const ok = spawnSync(process.execPath, [script], { encoding: 'utf8', env: { ...process.env, KOOSIGN_VECTORS: VECTORS } });
  assert.equal(ok.status, 0, ok.stderr);
  assert.match(ok.stdout.trim().split('\n').at(-1), /^\d+ passed, 0 failed$/);
  const empty = mkdtempSync(join(tmpdir(), 'koosign-vectors-'));
  for (const absent of [empty, join(empty, 'nope')]) {
    const r = spawnSync(process.execPath, [script], { encoding: 'utf8', env: { ...process.env, KOOSIGN_VECTORS: absent } });
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /not found/);
    assert.equal(r.stdout.trim().split('\n').at(-1), '0 passed, 1 failed');
  }
  rmSync(empty, { recursive: true });
});

test('S1: the V1 example', () => {
  const canonical =
    'activity=newInstance&businessId=61e834ba-7b97-4418-b8f7-e5345137278c&customerId=68cbc86abc2018ab880d92f36422fa0e&expireTime=20200727153156&orderId=CS1906666666ABCDE&productId=00301-666666-0--0&testFlag=1&timeStamp=20200727073711903';
  const params = Object.fromEntries(canonical.split('&').map((p) => p.split('=')));
  assert.equal(k.v1AuthToken(params, KEY), 'IzyXxySagieGHt354yIOhnCrv0vphQN0e9NuWT2MKNY=');
  const query = k.buildV1Query(params, KEY);
  assert.equal(k.v1Canonical(query), canonical);
  const v = k.verifyV1(`https://merchant.example.com/produce?${query}`, ['old', KEY]);
  assert.equal(v.keyIndex, 1);
  assert.equal(v.activity, 'newInstance');
  assert.equal(v.timestampMs, Date.UTC(2020, 6, 27, 7, 37, 11, 903));
  assert.deepEqual(Object.keys(v.params), Object.keys(params));
  // A '+' of the token that arrived as a space is repaired (docs/SCHEMES.md §S1 item 9).
  const spaced = query.replace(/authToken=.*$/, `authToken=${encodeURIComponent('IzyXxySagieGHt354yIOhnCrv0vphQN0e9NuWT2MKNY=').replace('%2B', '+')}`);
  assert.equal(k.verifyV1(spaced, KEY).keyIndex, 0);
});

test('S1b: token header and JSON body fields', () => {
  const fields = [['activity', 'getLicense'], ['timeStamp', '20200727073711903'], ['note', 'a "quoted" é'], ['blank', ' ']];
  const token = k.v1AuthToken(fields.filter(([, v]) => v.trim() !== ''), KEY);
  const body = JSON.stringify({ activity: 'getLicense', timeStamp: '20200727073711903', note: 'a "quoted" é', blank: ' ' });
  const v = k.verifyV1Json(token, body, KEY);
  assert.equal(v.protocol, 'v1json');
  // The blank member is not signed, and tolerated (SCHEMES.md S1b).
  assert.deepEqual(v.params, { activity: 'getLicense', note: 'a "quoted" é', timeStamp: '20200727073711903' });
  assert.throws(() => k.verifyV1Json(token, body.replace('getLicense', 'getLicensf'), KEY), k.SignatureMismatchError);
  // SCHEMES.md S1b (decision, issue 11): members that are not strings were
  // accepted unsigned before; now the body must be a flat object of strings.
  for (const extra of [',"n":5', ',"o":{"x":1}', ',"a":["x"]', ',"t":true', ',"z":null', ',"note":"other"']) {
    assert.throws(() => k.verifyV1Json(token, body.replace(/}$/, `${extra}}`), KEY), k.MalformedEncodingError, extra);
  }
});

test('S2 / S2b: the V2 and kit examples', () => {
  assert.equal(k.v2Inner(V2_BODY, KEY), '9d7fe05c22e8bc1d70841bace6c549b523dcb77a8aa61dc0118708bf14269c0e');
  const sig = 'CD8D59BB7FCF7574752B5EB0ED04B3ACF4A759DA53F24D30A79ABE45C5D1BA25';
  assert.equal(k.signV2(V2_BODY, KEY, V2_NONCE, '1680508066618'), sig);
  const kit = 'ABB44B4C7A867A9F5EB8D9B7D9DF42E804FF66BC084EE412C49CFAFBFD5D8BE6';
  assert.equal(k.signKit(Buffer.from(V2_BODY), KEY, V2_NONCE, 1680508066618), kit);
  const now = 1680508066618 + 30_000;
  const q = `signature=${sig.toLowerCase()}&timestamp=1680508066618&nonce=${V2_NONCE}`;
  for (const body of [V2_BODY, Buffer.from(V2_BODY), new TextEncoder().encode(V2_BODY), new TextEncoder().encode(V2_BODY).buffer]) {
    const v = k.verifyV2(q, body, KEY, { now });
    assert.equal(v.protocol, 'v2');
    assert.equal(v.keyIndex, 0);
    assert.equal(v.timestampMs, 1680508066618);
    assert.equal(v.notification.orderId, 'CS2211181819B4LVS');
    assert.equal(v.text, V2_BODY);
  }
  assert.equal(k.verifyV2(new URLSearchParams(q), V2_BODY, KEY, { now: new Date(now) }).activity, 'newInstance');
  assert.equal(k.verifyV2({ signature: sig, timestamp: '1680508066618', nonce: V2_NONCE }, V2_BODY, KEY, { now }).keyIndex, 0);
  const headers = { 'X-Sign': kit.toLowerCase(), 'x-TIMESTAMP': '1680508066618', 'x-nonce': V2_NONCE, 'content-type': 'application/json' };
  assert.equal(k.verifyKit(headers, V2_BODY, ['a', 'b', KEY], { now }).keyIndex, 2);
  assert.equal(k.verifyKit(new Headers(headers), V2_BODY, KEY, { now }).protocol, 'kit');
  assert.equal(k.verifyKit(Object.entries(headers), V2_BODY, KEY, { now }).keyIndex, 0);
  assert.equal(k.verifyKit(Object.entries(headers).flat(), V2_BODY, KEY, { now }).keyIndex, 0);
});

test('S3: the Body-Sign example and its field variants', () => {
  const body = '{"resultCode":"000000","resultMsg":"success."}';
  const h = k.bodySign(body, KEY);
  assert.equal(h, 'sign_type="HMAC-SHA256", signature="CPIAbI6A1/GrF70YmPEaCgm5WaxUkts5hjQRqqpZv3s="');
  assert.equal(k.BODY_SIGN_HEADER, 'Body-Sign');
  assert.equal(k.bodySignature(body, KEY), 'CPIAbI6A1/GrF70YmPEaCgm5WaxUkts5hjQRqqpZv3s=');
  for (const v of [h, h.replace(', ', ','), h.replace('signature="', 'signature= "')]) {
    assert.equal(k.verifyBodySign(v, body, ['x', KEY]), 1);
  }
  assert.deepEqual(k.parseBodySign(h), { signType: 'HMAC-SHA256', signature: 'CPIAbI6A1/GrF70YmPEaCgm5WaxUkts5hjQRqqpZv3s=' });
});

test('S4: key and cipher examples', () => {
  const keys = [
    ['testAccessKey123', '0413c5de84a4312c10f237cf102c14f9', '0413c5de84a4312c10f237cf102c14f909635c067f68c442f5d9aa865fb0d176'],
    ['a', '667f407de7c6ad07358fa38daed7828a', '667f407de7c6ad07358fa38daed7828a72014b4e621d7140210c8cf1565a8f02'],
    ['密钥Key', '56ac7bb1c7f3ab73359f4420bb77c050', '56ac7bb1c7f3ab73359f4420bb77c0504c336b5d39eb83d0440766aedf25d1a3'],
  ];
  for (const [seed, k128, k256] of keys) {
    assert.equal(Buffer.from(k.deriveKey(seed, 128)).toString('hex'), k128);
    assert.equal(Buffer.from(k.deriveKey(seed)).toString('hex'), k256);
  }
  assert.equal(k.encryptField('admin', KEY, '1', { iv: 'abcdefgh12345678' }), 'abcdefgh12345678cEmxy4I8pTd8cQfzOXtUKw==');
  assert.equal(k.encryptField('admin', KEY, '2', { iv: 'abcdefgh12345678' }), 'abcdefgh123456787ffgxbG9iCNmPHfS/KXEkA==');
  assert.equal(k.encryptField('中文用户', KEY, 1, { iv: 'ABCDEFGHijklmn01' }), 'ABCDEFGHijklmn01MpvuA8sUFJisvKp+uf0qIg==');
  assert.equal(k.decryptField('ABCDEFGHijklmn01MpvuA8sUFJisvKp uf0qIg==', KEY), '中文用户');
  assert.equal(k.decryptField('abcdefgh123456787ffgxbG9iCNmPHfS/KXEkA==', KEY, 'auto'), 'admin');
  assert.equal(k.detectEncryptType('abcdefgh123456787ffgxbG9iCNmPHfS/KXEkA==', KEY), '2');
  assert.equal(k.detectEncryptType('abcdefgh12345678cEmxy4I8pTd8cQfzOXtUKw==', KEY), '1');
});

test('S4: random IVs are 16 alphanumerics from crypto.getRandomValues and round-trip', () => {
  const seen = new Set();
  for (let i = 0; i < 200; i++) {
    const wire = k.encryptField(`user-${i}`, KEY, i % 2 ? '1' : '2');
    assert.match(wire.slice(0, 16), /^[A-Za-z0-9]{16}$/);
    assert.ok(wire.length <= k.MAX_WIRE_LEN);
    seen.add(wire.slice(0, 16));
    assert.equal(k.decryptField(wire, KEY, i % 2 ? '1' : '2'), `user-${i}`);
  }
  assert.equal(seen.size, 200);
});

test('S6: the published APIG examples', () => {
  const s = new k.ApigSigner('AccessKey', 'SecretKey');
  const get = s.sign('https://service.endpoint.myhuaweicloud.com/resources?size=1', { headers: { 'X-Sdk-Date': '20200608T023900Z' } });
  assert.equal(get.signature, 'cfb4171acec81de07d50e53d57eb77edd537414d66ddb1d7d780f128e12cd842');
  assert.equal(get.signedHeaders, 'host;x-sdk-date');
  assert.equal(get.headers.Host, 'service.endpoint.myhuaweicloud.com');
  assert.match(get.headers.Authorization, /^SDK-HMAC-SHA256 Access=AccessKey, SignedHeaders=host;x-sdk-date, Signature=cfb4/);
  const post = s.sign(new URL('https://service.endpoint.myhuaweicloud.com/resources?size=1'), {
    method: 'POST',
    headers: { 'X-Sdk-Date': '20200608T023900Z' },
    body: '{"name":"test","id":1}',
  });
  assert.equal(post.signature, '436b1ac0a1ae03705934bb70ef2f2e09f7bfed2117d731a38235053199323a1f');
  const third = s.sign(
    { host: 'example.huaweicloud.com', path: '/path', query: [['limit', '1']] },
    { headers: { 'X-Sdk-Date': '20060102T150405Z', Host: 'example.huaweicloud.com' } },
  );
  assert.equal(third.signature.length, 64);
  const q = s.sign(
    { host: 'h', path: '/', query: [['limit', '1'], ['enable', 'true'], ['test', '一 (&=?!#%.*)'], ['path', '/tmp/123'], ['multi', '3'], ['multi', '1'], ['multi', '2']] },
    { headers: { 'X-Sdk-Date': '20060102T150405Z' } },
  );
  assert.equal(q.canonicalQuery, 'enable=true&limit=1&multi=1&multi=2&multi=3&path=%2Ftmp%2F123&test=%E4%B8%80%20%28%26%3D%3F%21%23%25.%2A%29');
  // Without X-Sdk-Date the clock makes one.
  const dated = s.sign('https://h.example.com/x', { now: Date.UTC(2020, 5, 8, 2, 39, 0) });
  assert.equal(dated.headers['X-Sdk-Date'], '20200608T023900Z');
  const sent = { 'X-Sdk-Date': '20200608T023900Z', ...get.headers };
  assert.deepEqual(k.verifyApig('https://service.endpoint.myhuaweicloud.com/resources?size=1', { headers: sent }, [['x', 'y'], ['AccessKey', 'SecretKey']]), {
    credentialIndex: 1,
    unsignedPayload: false,
  });
  // Published vector 3 signs x-sdk-date only: verification refuses it now
  // (SCHEMES.md S6 decision, issue 11: SignedHeaders must include host and
  // x-sdk-date). This signer always signs host.
  const only = s.sign(
    { host: 'example.huaweicloud.com', path: '/path', query: [['limit', '1']] },
    { headers: { 'X-Sdk-Date': '20060102T150405Z' } },
  );
  assert.equal(only.signedHeaders, 'host;x-sdk-date');
  const v3 = 'SDK-HMAC-SHA256 Access=AccessKey, SignedHeaders=x-sdk-date, Signature=5a2ce64c865e0e6046321c6f3d5a77ba8413eeaf355c3166c03d58d02ac79624';
  assert.throws(
    () => k.verifyApig({ host: 'example.huaweicloud.com', path: '/path', query: [['limit', '1']] }, { headers: { 'X-Sdk-Date': '20060102T150405Z', Authorization: v3 } }, [['AccessKey', 'SecretKey']]),
    (e) => e instanceof k.MalformedEncodingError && e.what === 'SignedHeaders must include host and x-sdk-date',
  );
});

test('S5: licence signatures round-trip and reject a change', () => {
  const sig = k.licenceSign('1680508066618', 'n0nce', '{"a":1}', KEY);
  assert.equal(k.verifyLicence(1680508066618, 'n0nce', '{"a":1}', sig, KEY), 0);
  assert.throws(() => k.verifyLicence('1680508066618', 'n0nce', '{"a":2}', sig, KEY), k.SignatureMismatchError);
});

// ---------------------------------------------------------------------------
// The repository's vectors of the new kinds (per-stage goldens, invalid cases
// with their error code, vectors written by others), read from <repo>/vectors
// or $KOOSIGN_VECTORS. A missing file fails; it is never skipped.

const REPO_VECTORS = process.env.KOOSIGN_VECTORS || join(REPO, 'vectors');
const NEW_KINDS = {
  'stages.jsonl': ['apig_stages', 's4_key', 'v1_stages', 'v2_stages'],
  'invalid.jsonl': ['aes_invalid', 'apig_invalid', 'body_sign_invalid', 'licence_invalid', 'v1_invalid', 'v1_json_invalid', 'v2_invalid'],
  'published.jsonl': ['aes_cbc_raw', 'apig', 'apig_canonical_query', 'apig_host_unsigned', 'hmac_sha256', 'v1_query'],
};

for (const [name, kinds] of Object.entries(NEW_KINDS)) {
  test(`vectors/${name}: every case passes (stage goldens, expected errors, published values)`, () => {
    const file = join(REPO_VECTORS, name);
    assert.ok(existsSync(file), `${file} not found (the repository's vectors/, or set KOOSIGN_VECTORS)`);
    const lines = [];
    const errors = [];
    const status = run([file], { verbose: true, out: (l) => lines.push(l), err: (l) => errors.push(l) });
    assert.deepEqual(errors, []);
    assert.equal(status, 0);
    for (const kind of kinds) {
      assert.ok(lines.some((l) => l.startsWith(`${kind}: `) && !l.startsWith(`${kind}: 0 passed`)), kind);
    }
  });
}

test('a missing vectors file and an invalid case that verifies both fail the run', () => {
  const errors = [];
  assert.equal(run([join(REPO_VECTORS, 'absent.jsonl')], { out: () => {}, err: (l) => errors.push(l) }), 1);
  assert.match(errors[0], /cannot read/);
  const dir = mkdtempSync(join(tmpdir(), 'koosign-vectors-'));
  const bad = join(dir, 'bad.jsonl');
  const sig = 'CD8D59BB7FCF7574752B5EB0ED04B3ACF4A759DA53F24D30A79ABE45C5D1BA25';
  const c = { kind: 'v2_invalid', id: 'selftest/accepted', expect_error: 'SIGNATURE_MISMATCH', why: 'genuine', scheme: 'basic', access_key: KEY, body: V2_BODY, signature: sig, timestamp: '1680508066618', nonce: V2_NONCE };
  writeFileSync(bad, `${JSON.stringify(c)}\n`);
  const err2 = [];
  assert.equal(run([bad], { out: () => {}, err: (l) => err2.push(l) }), 1);
  assert.match(err2[0], /selftest\/accepted: expected SIGNATURE_MISMATCH, but the request was accepted/);
  rmSync(dir, { recursive: true });
});

test('AmbiguousError and decryptRaw', () => {
  assert.equal(k.errorClasses.AMBIGUOUS, k.AmbiguousError);
  assert.ok(new k.AmbiguousError() instanceof k.KoosignError);
  assert.equal(new k.AmbiguousError().code, 'AMBIGUOUS');
  // Wycheproof aes_cbc_pkcs5_test.json tcId 5 (valid) and 26 (zero padding: invalid).
  const h = (x) => Buffer.from(x, 'hex');
  assert.equal(Buffer.from(k.decryptRaw(h('e1e726677f4893890f8c027f9d8ef80d'), h('155fd397579b0b5d991d42607f2cc9ad'), h('599d77aca16910b42d8b4ac9560efe1b'))).toString('hex'), '3f');
  assert.throws(() => k.decryptRaw(h('db4f3e5e3795cc09a073fa6a81e5a6bc'), h('23468aa734f5f0f19827316ff168e94f'), h('aa62606a287476777b92d8e4c4e53028')), k.DecryptError);
  assert.throws(() => k.decryptRaw(new Uint8Array(24), new Uint8Array(16), new Uint8Array(16)), k.MalformedEncodingError);
  assert.throws(() => k.decryptRaw(new Uint8Array(16), new Uint8Array(15), new Uint8Array(16)), k.MalformedEncodingError);
});
