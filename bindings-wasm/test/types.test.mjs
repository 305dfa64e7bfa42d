// The TypeScript declarations compile against small usage files (CommonJS
// and ESM, with Express) under `tsc --noEmit --strict`.
import test from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { BINDINGS } from './paths.mjs';

test('tsc --noEmit --strict accepts test/types/usage.ts and usage.mts', { timeout: 120_000 }, () => {
  const tsc = join(BINDINGS, 'node_modules/typescript/bin/tsc');
  let out = '';
  try {
    out = execFileSync(process.execPath, [tsc, '--noEmit', '--strict', '-p', join(BINDINGS, 'test/types/tsconfig.json')], { encoding: 'utf8' });
  } catch (e) {
    assert.fail(`tsc failed:\n${e.stdout}${e.stderr}`);
  }
  assert.equal(out.trim(), '');
});
