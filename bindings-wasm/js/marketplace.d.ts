// Types of `koosign/marketplace`: a client of the marketplace's open APIs over fetch.

/** The production endpoint, https://mkt.myhuaweicloud.com. */
export declare const DEFAULT_ENDPOINT: string;

export interface MarketplaceClientOptions {
  /** Base URL (default DEFAULT_ENDPOINT; e.g. http://127.0.0.1:8443 for `koosign marketplace`). */
  endpoint?: string;
  /** Per attempt, ms (default 10000). */
  timeoutMs?: number;
  /** Retries on a timeout, a connection failure or a 5xx (default 2; never on a 4xx). */
  retries?: number;
  /** First backoff, ms, doubled each retry (default 200). */
  backoffMs?: number;
  /** Attach canonicalRequest and stringToSign to a signature refusal (APIGW.0301). */
  explain?: boolean;
  /** The fetch to use (default globalThis.fetch). */
  fetch?: typeof fetch;
}

/** The answer of query order; orderInfo as received (orderId, orderType, createTime, orderLine …). */
export interface OrderQuery {
  readonly resultCode: string;
  readonly resultMsg: string;
  readonly orderInfo: Record<string, unknown>;
  readonly raw: Record<string, unknown>;
}

/** A refusal: HTTP status (0: nothing answered), the gateway's code and message. Never the SK. */
export declare class MarketplaceError extends Error {
  readonly status: number;
  readonly code: string;
  readonly gatewayMessage: string;
  canonicalRequest?: string;
  stringToSign?: string;
}
export declare class MarketplaceTimeoutError extends MarketplaceError {}
export declare class MarketplaceUnavailableError extends MarketplaceError {}

export declare class MarketplaceClient {
  constructor(ak: string, sk: string, opts?: MarketplaceClientOptions);
  readonly endpoint: string;
  queryOrder(orderId: string, orderLineId?: string | null): Promise<OrderQuery>;
  uploadText(eventId: string, text: string): Promise<Record<string, unknown>>;
  uploadFile(eventId: string, name: string, data: Uint8Array | string): Promise<Record<string, unknown>>;
}
