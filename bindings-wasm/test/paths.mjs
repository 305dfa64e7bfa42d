// Paths the tests share.
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));
export const BINDINGS = resolve(here, '..');
export const REPO = resolve(here, '../..');
export const VECTORS = resolve(REPO, '../shared/vectors');
export const EXAMPLES = resolve(REPO, 'examples/node');
