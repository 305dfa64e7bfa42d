export * from './marketplace.js';
import { MarketplaceClient } from './marketplace.js';
export default MarketplaceClient;
