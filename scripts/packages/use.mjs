// Run by scripts/test-packages.sh in a fresh npm project where the packed
// tarball is installed: the package through `import`, one instance with `require`.
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import * as esm from 'koosign';
import { koosignMiddleware } from 'koosign/express';

const require = createRequire(import.meta.url);
const { check } = require('./cases.cjs');
check(esm);
const cjs = require('koosign');
assert.equal(esm.verifyV2, cjs.verifyV2, 'one instance behind both entry points');
assert.equal(esm.default, cjs);
assert.equal(koosignMiddleware, require('koosign/express').koosignMiddleware);
assert.match(import.meta.resolve('koosign'), /node_modules\/koosign\/index\.mjs$/);
console.log("import 'koosign': verified, replay and tampering refused, response signed");
