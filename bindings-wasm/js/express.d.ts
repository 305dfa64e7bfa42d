// Types of `koosign/express`. Structural request/response types, so that
// using the middleware needs no @types/express; with @types/express, the
// global Express.Request gains `koosign`, `rawBody` and `notification`.

/// <reference types="node" />
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AccessKeys, KoosignError, NonceStore, Verified } from './index.js';

export type Protocol = 'auto' | 'v1' | 'v1json' | 'v2' | 'kit';

export interface KoosignMiddlewareOptions {
  /** One access key, or several during a key rotation. Required. */
  accessKeys: AccessKeys;
  /**
   * 'auto' (default): an x-sign, x-timestamp or x-nonce header → kit, GET → v1, an authToken
   * header → v1json, otherwise v2.
   */
  protocol?: Protocol;
  /** The v2/kit freshness window in ms (default 60000); null for none. */
  window?: number | null;
  /**
   * The v1/v1json window in ms (default V1_DEFAULT_WINDOW_MS, ±5 min); `0` switches it off
   * (explicitly: null and negative values are a TypeError).
   */
  v1Window?: number;
  /**
   * Replay protection for every protocol (V2/kit nonces and V1 authTokens in one store);
   * default a new NonceStore (capacity 4096); null disables it.
   */
  nonceStore?: NonceStore | null;
  /** The clock (default Date.now). */
  now?: () => number | Date;
  /** Largest body accepted, in bytes (default 1 MiB); larger is INPUT_TOO_LARGE (000002). */
  limit?: number;
  /** Sign every response with Body-Sign over the exact bytes sent (default true). */
  signResponses?: boolean;
  /**
   * Handles a failed verification; `info.resultCode` is what the default answers. Default: HTTP
   * 200, signed, with the resultCode of SCHEMES.md "Which code a refusal gets" (as `koosign serve`):
   * "000001" before authentication (missing, malformed, ambiguous, mismatching, stale, replayed),
   * "000005" for a full replay store, "000002" for an authenticated but unusable or too large body.
   */
  onError?: (
    err: KoosignError,
    req: IncomingMessage,
    res: ServerResponse,
    next: (err?: unknown) => void,
    info: { resultCode: '000001' | '000002' | '000005' },
  ) => void;
}

/** What the middleware adds to the request. */
export interface KoosignRequestFields {
  /** The verified notification (protocol, keyIndex, timestampMs, notification, decrypt helpers). */
  koosign?: Verified;
  /** The exact body bytes received. */
  rawBody?: Buffer;
}

export type KoosignMiddleware = (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void;

/** Reads the raw body, verifies, sets req.koosign / req.rawBody / req.body, signs the response. */
export declare function koosignMiddleware(options: KoosignMiddlewareOptions): KoosignMiddleware;

/** Signs every body later sent on `res` with Body-Sign (over the exact bytes). */
export declare function signResponses(res: ServerResponse, accessKey: string): void;

/** Reads the raw request body (or takes the Buffer express.raw() left). */
export declare function readRawBody(req: IncomingMessage, limit: number, cb: (err: Error | null, body?: Buffer) => void): void;

declare global {
  // Merged into Express's Request when @types/express is present.
  namespace Express {
    interface Request extends KoosignRequestFields {}
  }
}
