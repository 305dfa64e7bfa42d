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
   * 'auto' (default): an x-sign header → kit, GET → v1, an authToken header
   * → v1json, otherwise v2.
   */
  protocol?: Protocol;
  /** Freshness window in ms (default 60000 for v2/kit, none for v1); null for none. */
  window?: number | null;
  /** Replay protection; default a new NonceStore (capacity 4096); null disables it. */
  nonceStore?: NonceStore | null;
  /** The clock (default Date.now). */
  now?: () => number | Date;
  /** Largest body accepted, in bytes (default 1 MiB); larger is INPUT_TOO_LARGE (000002). */
  limit?: number;
  /** Sign every response with Body-Sign over the exact bytes sent (default true). */
  signResponses?: boolean;
  /**
   * Handles a failed verification. Default: HTTP 200 with
   * {"resultCode":"000002"} for a MalformedRequestError, "000001" otherwise.
   */
  onError?: (err: KoosignError, req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void;
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
