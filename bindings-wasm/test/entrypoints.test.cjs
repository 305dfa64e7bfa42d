// Both entry points load and work: CommonJS require and ESM import, through
// the package's `exports` map, one instance behind both; and the packed
// tarball installs into a clean project (no runtime dependencies) and loads.
const test = require('node:test');
const assert = require('node:assert/strict');
const { execFileSync } = require('node:child_process');
const { mkdtempSync, rmSync, writeFileSync, readFileSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join, dirname } = require('node:path');

const KEY = 'testAccessKey123';
const BODY = '{"resultCode":"000000","resultMsg":"success."}';
const SIGNED = 'sign_type="HMAC-SHA256", signature="CPIAbI6A1/GrF70YmPEaCgm5WaxUkts5hjQRqqpZv3s="';
const API = ['verifyV1', 'verifyV1Json', 'verifyV2', 'verifyKit', 'bodySign', 'encryptField', 'decryptField', 'deriveKey', 'ApigSigner', 'NonceStore', 'KoosignError'];

test('require("koosign") resolves to the CommonJS build and works', () => {
  assert.match(require.resolve('koosign'), /pkg[\\/]index\.js$/);
  const k = require('koosign');
  for (const name of API) assert.equal(typeof k[name], 'function', name);
  assert.equal(k.bodySign(BODY, KEY), SIGNED);
  assert.equal(typeof require('koosign/express').koosignMiddleware, 'function');
  assert.equal(require('koosign/package.json').name, 'koosign');
});

test('import("koosign") resolves to the ESM build, shares the instance and works', async () => {
  const esm = await import('koosign');
  const cjs = require('koosign');
  for (const name of API) assert.equal(esm[name], cjs[name], name);
  assert.equal(esm.default, cjs);
  assert.equal(esm.bodySign(Buffer.from(BODY), KEY), SIGNED);
  const ex = await import('koosign/express');
  assert.equal(ex.koosignMiddleware, require('koosign/express').koosignMiddleware);
  assert.equal(ex.default, ex.koosignMiddleware);
  // An error thrown through one entry point is an instance of the other's class.
  assert.throws(() => esm.verifyBodySign('sign_type="HMAC-SHA256", signature="x"', BODY, KEY), cjs.SignatureMismatchError);
});

test('the packed package installs into a clean project and both entry points load', { timeout: 120_000 }, () => {
  const pkgDir = dirname(require.resolve('koosign/package.json'));
  const manifest = JSON.parse(readFileSync(join(pkgDir, 'package.json'), 'utf8'));
  assert.equal(manifest.dependencies, undefined, 'no runtime dependencies');
  assert.equal(manifest.peerDependenciesMeta.express.optional, true);
  const dir = mkdtempSync(join(tmpdir(), 'koosign-pack-'));
  try {
    const out = execFileSync('npm', ['pack', '--json', '--pack-destination', dir], { cwd: pkgDir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    const [info] = JSON.parse(out);
    const files = info.files.map((f) => f.path);
    for (const f of ['index.js', 'index.mjs', 'index.d.ts', 'index.d.mts', 'express.js', 'express.d.ts', 'wasm/koosign_wasm_bg.wasm', 'wasm/koosign_wasm.js', 'README.md']) {
      assert.ok(files.includes(f), `${f} in the tarball`);
    }
    const app = join(dir, 'app');
    execFileSync('mkdir', ['-p', app]);
    writeFileSync(join(app, 'package.json'), '{"name":"app","private":true}');
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--offline', join(dir, info.filename)], { cwd: app, stdio: 'ignore' });
    const cjs = execFileSync(process.execPath, ['-e', `process.stdout.write(require('koosign').bodySign(${JSON.stringify(BODY)}, ${JSON.stringify(KEY)}))`], { cwd: app, encoding: 'utf8' });
    assert.equal(cjs, SIGNED);
    const esm = execFileSync(process.execPath, ['--input-type=module', '-e', `import { bodySign } from 'koosign'; process.stdout.write(bodySign(${JSON.stringify(BODY)}, ${JSON.stringify(KEY)}))`], { cwd: app, encoding: 'utf8' });
    assert.equal(esm, SIGNED);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
