export * from './express.js';
import { koosignMiddleware } from './express.js';
export default koosignMiddleware;
