// ESM entry point of the middleware (the same instance as the CommonJS one).
import express from './express.js';

export const { koosignMiddleware, signResponses, readRawBody } = express;
export default koosignMiddleware;
