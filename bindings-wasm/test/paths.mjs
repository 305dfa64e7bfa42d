// Paths the tests share.
import { fileURLToPath } from 'node:url';
import { dirname, resolve } from 'node:path';

const here = dirname(fileURLToPath(import.meta.url));
export const BINDINGS = resolve(here, '..');
export const REPO = resolve(here, '../..');
// The repository's vectors (KOOSIGN_VECTORS points elsewhere). Absent files
// fail the tests that read them; they are never skipped.
export const VECTORS = process.env.KOOSIGN_VECTORS ? resolve(process.env.KOOSIGN_VECTORS) : resolve(REPO, 'vectors');
export const CONFORMANCE_FILES = ['notifications.jsonl', 'apig.jsonl'];
export const EXAMPLES = resolve(REPO, 'examples/node');
