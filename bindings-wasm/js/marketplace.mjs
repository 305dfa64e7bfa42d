// ESM entry point of the open-API client (the same instance as the CommonJS one).
import marketplace from './marketplace.js';

export const { MarketplaceClient, MarketplaceError, MarketplaceTimeoutError, MarketplaceUnavailableError, DEFAULT_ENDPOINT } = marketplace;
export default MarketplaceClient;
