// Run by scripts/test-packages.sh in a fresh npm project where the packed
// tarball is installed: the package through `require`.
'use strict';
const assert = require('node:assert/strict');
const k = require('koosign');
const { check } = require('./cases.cjs');

assert.match(require.resolve('koosign'), /node_modules[\\/]koosign[\\/]index\.js$/);
check(k);
assert.equal(typeof require('koosign/express').koosignMiddleware, 'function');
assert.equal(require('koosign/package.json').name, 'koosign');
console.log(`require('koosign') ${require('koosign/package.json').version}: verified, replay and tampering refused, response signed`);
