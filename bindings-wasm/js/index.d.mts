// ESM view of the declarations in index.d.ts (one package, one set of types).
export * from './index.js';
import * as koosign from './index.js';
export default koosign;
