// Types of `koosign/express`. Structural request/response types, so that
// using the middleware needs no @types/express; with @types/express, the
// global Express.Request gains `koosign`, `rawBody` and `notification`.

/// <reference types="node" />
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AccessKeys, AsyncReplayStore, KoosignError, Merchant, MerchantVerified, NonceStore, PolicyWindow, SignedAnswer } from './index.js';

interface CommonOptions {
  /** The v2/kit window in ms (default ±60 s), or 'unchecked' by name (alias: window). */
  v2Window?: PolicyWindow;
  window?: PolicyWindow;
  /** The v1/v1json window in ms (default ±5 min), or 'unchecked' by name. */
  v1Window?: PolicyWindow;
  /** The replay store (default a new NonceStore); an async store goes through verifyAsync; 'unchecked' by name. */
  nonceStore?: NonceStore | AsyncReplayStore | 'unchecked';
  /** The clock (default Date.now). */
  now?: () => number | Date;
  /** Sign every response with Body-Sign over the exact bytes sent, with the key that matched (default true). */
  signResponses?: boolean;
  /** Handles a refusal; by default `info.refusal` (the core's signed refusal) is sent. */
  onError?: (
    err: KoosignError,
    req: IncomingMessage,
    res: ServerResponse,
    next: (err?: unknown) => void,
    info: { resultCode: string; refusal: SignedAnswer },
  ) => void;
}

/** The middleware over a new Merchant of `accessKeys`, or over a given `merchant`. */
export type KoosignMiddlewareOptions = CommonOptions & ({ accessKeys: AccessKeys; merchant?: undefined } | { merchant: Merchant; accessKeys?: undefined });

/** What the middleware adds to the request. */
export interface KoosignRequestFields {
  /** The verified notification (protocol, keyIndex, timestampMs, notification, decrypt helpers). */
  koosign?: MerchantVerified;
  /** The exact body bytes received. */
  rawBody?: Buffer;
}

export type KoosignMiddleware = (req: IncomingMessage, res: ServerResponse, next: (err?: unknown) => void) => void;

/** Reads the raw body, verifies, sets req.koosign / req.rawBody / req.body, signs the response. */
export declare function koosignMiddleware(options: KoosignMiddlewareOptions): KoosignMiddleware;

/** Signs every body later sent on `res` with Body-Sign (over the exact bytes). */
export declare function signResponses(res: ServerResponse, signer: string | ((body: Buffer) => string)): void;

/** Sends a signed answer (HTTP 200 with its headers). */
export declare function sendAnswer(res: ServerResponse, answer: SignedAnswer): void;

/** Reads the raw request body (or takes the Buffer express.raw() left). */
export declare function readRawBody(req: IncomingMessage, keep: number, cb: (err: Error | null, body?: Buffer) => void): void;

declare global {
  // Merged into Express's Request when @types/express is present.
  namespace Express {
    interface Request extends KoosignRequestFields {}
  }
}
