// Type declarations of the `koosign` npm package (CommonJS and ESM entry
// points share them). Times are Unix milliseconds; windows are milliseconds.

/// <reference types="node" />

// ---------------------------------------------------------------------------
// Input shapes

/** A body: exact bytes (Uint8Array, Buffer, ArrayBuffer, any view) or a string sent as UTF-8. */
export type BodyInput = Uint8Array | ArrayBuffer | ArrayBufferView | string;

/** One access key, or several during a key rotation (the result says which matched). */
export type AccessKeys = string | readonly string[];

/** A query: raw query text (a leading URL up to `?` is ignored), a URL, URLSearchParams, or decoded values. */
export type QueryInput = string | URL | URLSearchParams | Readonly<Record<string, string | readonly string[] | undefined>>;

/** Name/value pairs: an object, a Headers or Map, [name, value][] or Node's flat rawHeaders. */
export type PairsInput =
  | Readonly<Record<string, string | number | readonly string[] | undefined>>
  | { entries(): IterableIterator<[string, string]>; get(name: string): unknown }
  | ReadonlyArray<readonly [string, string]>
  | readonly string[];

/** `encryptType` of the response JSON: "1" = AES-256 (default), "2" = AES-128. */
export type EncryptType = '1' | '2' | 1 | 2 | 256 | 128;

/** Options of the verifiers. */
export interface VerifyOptions {
  /** The clock: Unix milliseconds or a Date. Default `Date.now()`. */
  now?: number | Date;
  /**
   * Accepted |now − timestamp| in milliseconds. Default: 60000 for V2 and
   * kit (the guide's ±60 s); no check for V1, licence and S6 (none
   * documented; the endpoint helpers, e.g. `koosign/express`, apply
   * V1_DEFAULT_WINDOW_MS, ±5 min, to V1, and S6 callers should pass
   * APIG_DEFAULT_WINDOW_MS). `null` (or `Infinity`) disables the check.
   */
  window?: number | null;
  /**
   * Replay protection: a NonceStore. Default: none. V2/kit record the nonce,
   * V1/V1-JSON the received authToken (tagged `v1:`, `+`/space variants one
   * nonce), each until its timestamp + window (V1 without a window:
   * V1_DEFAULT_WINDOW_MS), and only once the signature and window passed.
   * One store may serve every scheme.
   */
  nonceStore?: NonceStore | null;
}

// ---------------------------------------------------------------------------
// Results

/** A verified V1 notification (S1 query, or S1b token header + JSON body). */
export declare class VerifiedV1 {
  private constructor();
  readonly protocol: 'v1' | 'v1json';
  /** Index into the access keys given of the one that matched. */
  readonly keyIndex: number;
  /** `timeStamp` as Unix milliseconds. */
  readonly timestampMs: number;
  /** The signed parameters, decoded, in canonical order (first value of each name; authToken excluded). */
  readonly pairs: Array<[string, string]>;
  /** The same parameters as an object (lookup by name; integer-like names come first in its key order). */
  readonly params: Record<string, string>;
  /** `params.activity`. */
  readonly activity: string | undefined;
  /** The same as `params`. */
  readonly notification: Record<string, string>;
  /** Decrypts parameter `name` (mobilePhone, email) with the matched key. Throws MissingParameterError, DecryptError. */
  decryptParam(name: string, encryptType?: EncryptType | 'auto'): string;
}

/** A verified V2 (S2) or kit (S2b) notification. */
export declare class VerifiedV2 {
  private constructor();
  readonly protocol: 'v2' | 'kit';
  /** Index into the access keys given of the one that matched. */
  readonly keyIndex: number;
  /** The request's timestamp, Unix milliseconds. */
  readonly timestampMs: number;
  /** The exact body bytes that were verified. */
  readonly body: Uint8Array;
  /** The body as UTF-8 text. */
  readonly text: string;
  /**
   * The body parsed as a JSON object (parsed once, on first access), after the core's
   * notification parser accepted it (as `koosign serve` reads it: strict JSON, nesting at most
   * 64, each known field once and a string). Throws MalformedEncodingError.
   */
  readonly notification: Notification;
  /** `notification.activity`. */
  readonly activity: string | undefined;
  /** Decrypts a field value from this verified body with the matched key. Throws DecryptError. */
  decryptField(wire: string, encryptType?: EncryptType | 'auto'): string;
}

/** A notification body (SCHEMES.md, "The notifications"); unknown fields kept. */
export interface Notification {
  activity?: string;
  orderId?: string;
  orderLineId?: string;
  businessId?: string;
  testFlag?: string;
  instanceId?: string;
  scene?: string;
  status?: string;
  productId?: string;
  expireTime?: string;
  trialFlag?: string;
  customerId?: string;
  customerName?: string;
  chargingMode?: string;
  skuCode?: string;
  [field: string]: unknown;
}

/** Either kind of verified notification. */
export type Verified = VerifiedV1 | VerifiedV2;

// ---------------------------------------------------------------------------
// Verification

/**
 * S1: verifies a V1 GET notification's query. Throws a KoosignError subclass:
 * AmbiguousError for a decoded name with `&`/`=` or a value with `&…=`
 * (SCHEMES.md S1 item 10), BadTimestampError, SignatureMismatchError,
 * StaleTimestampError (opts.window), ReplayedNonceError (opts.nonceStore), ….
 */
export declare function verifyV1(query: QueryInput, accessKeys: AccessKeys, opts?: VerifyOptions): VerifiedV1;
/**
 * S1b: verifies an old licence "Kit" POST: `authToken` header, fields from the JSON body,
 * which must be a flat object of string members, each name once (else MalformedEncodingError;
 * a member named `authToken`: AmbiguousError). Blank members are not signed (tolerated).
 */
export declare function verifyV1Json(authToken: string, body: BodyInput, accessKeys: AccessKeys, opts?: VerifyOptions): VerifiedV1;
/**
 * S2: verifies a V2 notification: `signature`, `timestamp`, `nonce` from the query (or an object of them) over the exact body.
 * `timestamp`: exactly 13 digits, no leading zero (else BadTimestampError); `nonce`: 1–256 printable ASCII characters.
 */
export declare function verifyV2(queryOrParams: QueryInput, body: BodyInput, accessKeys: AccessKeys, opts?: VerifyOptions): VerifiedV2;
/**
 * S2b: verifies a kit notification: `x-sign`, `x-timestamp`, `x-nonce` headers (names in any case) over the exact body.
 * Timestamp and nonce as verifyV2; a body not starting with `{`, or a nonce holding `{`, is refused (AmbiguousError).
 */
export declare function verifyKit(headers: PairsInput, body: BodyInput, accessKeys: AccessKeys, opts?: VerifyOptions): VerifiedV2;
/** S3: verifies a received Body-Sign value (parsed as parseBodySign) against the exact body; returns the matching key's index. */
export declare function verifyBodySign(value: string, body: BodyInput, accessKeys: AccessKeys): number;
/** S5: verifies a licence signature; returns the matching key's index. `ts`: Unix ms, 13 digits; a nonce with `&` is AmbiguousError. */
export declare function verifyLicence(
  ts: string | number,
  nonce: string,
  body: BodyInput,
  signature: string,
  accessKeys: AccessKeys,
  opts?: Omit<VerifyOptions, 'nonceStore'>,
): number;
/** What verifyApig accepted. */
export interface ApigVerified {
  /** Index into the credentials given of the one that matched. */
  readonly credentialIndex: number;
  /**
   * True when a signed `X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD` left the (non-empty)
   * body unauthenticated: only the method, URL and signed headers are.
   */
  readonly unsignedPayload: boolean;
}
/**
 * S6 server side: verifies an SDK-HMAC-SHA256 request. SignedHeaders must include host and
 * x-sdk-date (MalformedEncodingError); a signed X-Sdk-Content-Sha256 must be UNSIGNED-PAYLOAD
 * or the body's real hash, an unsigned one is ignored (else SignatureMismatchError); a repeated
 * Authorization, X-Sdk-Date or signed header is AmbiguousError.
 */
export declare function verifyApig(
  target: ApigTarget,
  init: ApigRequestInit,
  credentials: ApigCredential | readonly ApigCredential[],
  opts?: Omit<VerifyOptions, 'nonceStore'>,
): ApigVerified;

/**
 * SCHEMES.md "Which code a refusal gets" (the table of `koosign serve` and `koosign/express`):
 * "000005" for NonceStoreFullError, NoAccessKeyError, RandomSourceError, BufferTooSmallError or
 * a non-koosign error; otherwise "000002" when `opts.authenticated` (the error came after the
 * request verified: unusable body or parameters), else "000001" (refused before authentication).
 */
export declare function resultCodeFor(err: unknown, opts?: { authenticated?: boolean }): '000001' | '000002' | '000005';

// ---------------------------------------------------------------------------
// The keyed merchant context (koosign::merchant)

/** The name that leaves a check out (a window, the replay store). Never `undefined` or `null`. */
export declare const UNCHECKED: 'unchecked';

/** A window: milliseconds, or 'unchecked' by name; left out = the core's default. */
export type PolicyWindow = number | 'unchecked';

export interface MerchantOptions {
  /** S2, S2b: default ±60 s. */
  v2Window?: PolicyWindow;
  /** S1, S1b: default ±5 min. */
  v1Window?: PolicyWindow;
  /** S5: default ±60 s. */
  licenceWindow?: PolicyWindow;
}

/** A notification as the endpoint received it. */
export interface MerchantRequest {
  /** 'GET' or 'POST' exactly (default 'POST'). */
  method?: string;
  /** The raw query, or a URL / request target ('/produce?…'). */
  query?: string | URL | URLSearchParams;
  /** Alias of query for a request target. */
  url?: string;
  /** The request headers (names any case; Node's rawHeaders keep repeated ones). */
  headers?: PairsInput;
  /** The exact body bytes. */
  body?: BodyInput;
}

/** An asynchronous replay store (Redis, a database): true = first seen and recorded, false = a replay; a throw = unavailable. */
export interface AsyncReplayStore {
  checkAndInsert(replayKey: string, expiresAtMs: number, nowMs: number): Promise<boolean>;
}

export interface MerchantVerifyOptions {
  /** The clock, Unix ms (default now). */
  nowMs?: number;
  /** Required: the replay store, or 'unchecked' by name. */
  store: NonceStore | 'unchecked';
}

export interface MerchantVerifyAsyncOptions {
  nowMs?: number;
  store: NonceStore | AsyncReplayStore | 'unchecked';
}

/** A signed answer: send `body` with `headers` (HTTP 200). */
export interface SignedAnswer {
  readonly resultCode: string | undefined;
  readonly body: Buffer;
  readonly bodySign: string;
  readonly headers: Readonly<{ 'Content-Type': string; 'Content-Length': string; 'Body-Sign': string }>;
}

/** A verified, fresh, first-seen notification with a known activity and its required fields. */
export declare class MerchantVerified {
  private constructor();
  readonly protocol: 'v1' | 'v1json' | 'v2' | 'kit';
  readonly activity: string;
  readonly keyIndex: number;
  readonly timestampMs: number;
  /** The key a replay store records (the core's: the V2 nonce, or `v1:` + token). */
  readonly replayKey: string;
  readonly replayExpiresMs: number;
  /** The exact body bytes (empty for an S1 GET). */
  readonly body: Uint8Array;
  /** The notification object, built from the core's strict parse (never JSON.parse). */
  readonly notification: Record<string, unknown>;
  /** The V1 parameters, or undefined for V2. */
  readonly params: Readonly<Record<string, string>> | undefined;
  /** Decrypts an inbound field with the key that matched. */
  decrypt(wire: string, encryptType?: EncryptType | 'auto'): string;
}

export interface AnswerAppInfo {
  frontEndUrl?: string;
  adminUrl?: string;
  /** Plain text: encrypted by respond. */
  userName?: string;
  /** Plain text: encrypted by respond. */
  password?: string;
  memo?: string;
}

export interface Answer {
  /** Default '000000'. */
  resultCode?: '000000' | '000001' | '000002' | '000003' | '000005';
  instanceId?: string;
  appInfo?: AnswerAppInfo;
  info?: ReadonlyArray<{ instanceId: string; appInfo?: AnswerAppInfo }>;
}

/**
 * The keyed merchant context: built once from one or several access keys (key 0 signs refusals
 * and respond's answers). Refusals are the core's typed errors with `resultCode`,
 * `authenticated` and `refusal` (the signed answer to send).
 */
/** Which key signs an answer: the verified request's (`verified.keyIndex`) or an index. */
export interface KeyChoice {
  keyIndex?: number;
  verified?: { readonly keyIndex: number };
}

export declare class Merchant {
  static readonly UNCHECKED: 'unchecked';
  constructor(accessKeys: AccessKeys, options?: MerchantOptions);
  readonly keyCount: number;
  verify(req: MerchantRequest, options: MerchantVerifyOptions): MerchantVerified;
  verifyAsync(req: MerchantRequest, options: MerchantVerifyAsyncOptions): Promise<MerchantVerified>;
  // keyIndex / verified: the key that verified the request signs its answer (SCHEMES.md §S3
  // "(decision) Key rotation"); default key 0.
  refusal(err: unknown, opts?: { authenticated?: boolean } & KeyChoice): SignedAnswer;
  answerCode(resultCode: '000000' | '000001' | '000002' | '000003' | '000005', opts?: KeyChoice): SignedAnswer;
  respond(answer: Answer, opts?: { encryptType?: EncryptType } & KeyChoice): SignedAnswer;
  signAnswer(body: BodyInput, opts?: number | KeyChoice): SignedAnswer;
  bodySign(body: BodyInput, keyIndex?: number): string;
  verifyBodySign(value: string, body: BodyInput): number;
  verifyLicence(ts: string | number, nonce: string, body: BodyInput, signature: string, opts?: { nowMs?: number }): number;
  encrypt(plaintext: string, encryptType?: EncryptType): string;
  decrypt(wire: string, encryptType?: EncryptType | 'auto', keyIndex?: number): string;
  free(): void;
}

/** A replay store in Redis shared by processes: `SET prefix+sha256(key) 1 NX PX ttl`. */
export declare class RedisNonceStore implements AsyncReplayStore {
  constructor(client: { set(key: string, value: string, opts: { NX: true; PX: number }): Promise<unknown> }, opts?: { prefix?: string; timeoutMs?: number });
  static fromUrl(url: string, opts?: { prefix?: string; timeoutMs?: number; onError?: (e: unknown) => void }): Promise<RedisNonceStore>;
  readonly prefix: string;
  readonly timeoutMs: number;
  key(replayKey: string): string;
  checkAndInsert(replayKey: string, expiresAtMs: number, nowMs: number): Promise<boolean>;
  close(): Promise<void>;
}

/** What checkResponse read from an answer that met the contract. */
export interface ResponseChecked {
  readonly resultCode: string;
  readonly known: boolean;
  readonly resultMsg: string | undefined;
  readonly instanceId: string | undefined;
  readonly encryptType: '1' | '2' | undefined;
  readonly ciphertexts: number;
  readonly keyIndex: number;
}

/** The core's response contract (as the marketplace checks an answer); throws the core's typed error. */
export declare function checkResponse(
  response: { status?: number; headers?: PairsInput; body?: BodyInput },
  accessKey: string,
  opts?: { expect?: 'any' | 'newInstance' | 'queryInstance' },
): ResponseChecked;

/**
 * The core's in-memory nonce store (NonceTable, its capacity chosen at run time): bounded; each nonce is kept until its
 * timestamp + window; full of unexpired nonces, it refuses with
 * NonceStoreFullError rather than forget one. One process only.
 */
export declare class NonceStore {
  /** `capacity`: a positive integer (default 262144, the core's nonce::DEFAULT_CAPACITY), exactly; 40 bytes per entry, allocated at once. */
  constructor(options?: number | { capacity?: number });
  /** Nonces held (expired ones included until evicted). */
  readonly size: number;
  /** The capacity class. */
  readonly capacity: number;
  /** True if `nonce` is held and unexpired at `now` (default now). */
  has(nonce: string, now?: number | Date): boolean;
  /** Records `nonce` until `expiresAt`. Throws ReplayedNonceError, NonceStoreFullError. */
  checkAndInsert(nonce: string, now: number | Date, expiresAt: number | Date): void;
}

// ---------------------------------------------------------------------------
// Producing (the merchant's responses, and the marketplace's side for simulators)

/** "Body-Sign": the response header's exact name (case-sensitive at the marketplace). */
export declare const BODY_SIGN_HEADER: 'Body-Sign';
/** S3: the Body-Sign header value for the exact response bytes: `sign_type="HMAC-SHA256", signature="…"`. */
export declare function bodySign(body: BodyInput, accessKey: string): string;
/** S3: b64(HMAC(accessKey, body)) alone (44 characters). */
export declare function bodySignature(body: BodyInput, accessKey: string): string;
/**
 * S3: parses a Body-Sign value strictly: exactly `sign_type` and `signature`, each once, quoted,
 * `sign_type` exactly `HMAC-SHA256` (only `signature= "…"` and no space after the comma are
 * tolerated). Each deviation: MalformedEncodingError whose `what` names it ("Body-Sign: …");
 * a missing attribute: MissingParameterError.
 */
export declare function parseBodySign(value: string): { signType: string; signature: string };
/** S2, marketplace side: the upper-case hex `signature`. `timestamp` is Unix ms. */
export declare function signV2(body: BodyInput, accessKey: string, nonce: string, timestamp: string | number | Date): string;
/** S2b, marketplace side: the upper-case hex `x-sign`. */
export declare function signKit(body: BodyInput, accessKey: string, nonce: string, timestamp: string | number | Date): string;
/** S2's inner hash: lower-case hex HMAC(accessKey, body). */
export declare function v2Inner(body: BodyInput, accessKey: string): string;
/** S1, marketplace side: the authToken for decoded parameters (timeStamp included). */
export declare function v1AuthToken(params: PairsInput, accessKey: string): string;
/** S1, marketplace side: the query string sent (URLEncoder-encoded, `&authToken=…` last). */
export declare function buildV1Query(params: PairsInput, accessKey: string): string;
/** S1 steps 1–5: the canonical string of a V1 query (diagnostics). */
export declare function v1Canonical(query: QueryInput): string;
/** Form-decodes a query string (`+` → space, `%XY` → byte) into pairs, in order. */
export declare function parseForm(query: QueryInput): Array<[string, string]>;
/** S5: the licence signature (Base64). `ts` is Unix ms. */
export declare function licenceSign(ts: string | number, nonce: string, body: BodyInput, accessKey: string): string;
/** Unix ms (or a Date) as a V1 `timeStamp`, `yyyyMMddHHmmssSSS` UTC. */
export declare function formatV1Timestamp(t: number | Date): string;

// ---------------------------------------------------------------------------
// S4 fields

/**
 * Encrypts a field (appInfo.userName / password): wire = iv + b64(AES-CBC-PKCS#7).
 * The 16-character IV comes from `crypto.getRandomValues`, unless `opts.iv`.
 * Throws InputTooLargeError (wire over 128 characters), MalformedEncodingError (bad IV).
 */
export declare function encryptField(plaintext: string, accessKey: string, encryptType?: EncryptType, opts?: { iv?: string | Uint8Array }): string;
/** Decrypts a field; "auto" (default) tries AES-256 then AES-128. A space is read as `+`. Throws DecryptError. */
export declare function decryptField(wire: string, accessKey: string, encryptType?: EncryptType | 'auto'): string;
/** The JDK SHA1PRNG field key: 16 bytes (bits 128) or 32 bytes (bits 256, default). */
export declare function deriveKey(accessKey: string, bits?: 128 | 256): Uint8Array;
/**
 * AES-CBC + PKCS#7 with a raw 16- or 32-byte key (known-answer tests such as Wycheproof's).
 * Throws DecryptError, MalformedEncodingError (key or IV length), InputTooLargeError (key over 32 bytes).
 */
export declare function decryptRaw(key: Uint8Array, iv: Uint8Array, ciphertext: Uint8Array): Uint8Array;
/** Which encryptType decrypts `wire`: "1", "2", or null. */
export declare function detectEncryptType(wire: string, accessKey: string): '1' | '2' | null;

// ---------------------------------------------------------------------------
// S6 open APIs

/**
 * A URL, or its parts: `query` as decoded pairs (repeated names allowed).
 * A URL is split by the core (SCHEMES.md S6 "Signing a whole URL"): for
 * `sign`, as `fetch` sends it (host lower-cased, default port dropped, dot
 * segments removed, fragment dropped; a URL the HTTP clients send
 * differently, e.g. with a `%2e` dot segment, `user:pass@` or `\`, throws
 * AmbiguousError or MalformedEncodingError); for `verifyApig`, as received
 * (the path as it is).
 */
export type ApigTarget = string | URL | { host: string; path?: string; query?: PairsInput };

export interface ApigRequestInit {
  /** Default "GET". */
  method?: string;
  headers?: PairsInput;
  body?: BodyInput;
  /** Used for X-Sdk-Date when the headers have none. Default `Date.now()`. */
  now?: number | Date;
}

export type ApigCredential = readonly [ak: string, sk: string] | { ak: string; sk: string };

export interface ApigSignature {
  /** Headers to add to the request (X-Sdk-Date and Host when absent, …, Authorization last). */
  headers: Record<string, string>;
  authorization: string;
  /** Lower-case hex. */
  signature: string;
  signedHeaders: string;
  canonicalRequest: string;
  canonicalQuery: string;
  stringToSign: string;
}

/** Signs calls to the marketplace's open APIs (SDK-HMAC-SHA256, as Huawei's SDK). */
export declare class ApigSigner {
  constructor(ak: string, sk: string);
  sign(target: ApigTarget, init?: ApigRequestInit): ApigSignature;
}

// ---------------------------------------------------------------------------
// Constants

/** ±60 s, in ms: the V2/kit default window. */
export declare const DEFAULT_WINDOW_MS: number;
/** ±5 min, in ms: the V1 window of the endpoint helpers (SCHEMES.md S1 item 8). */
export declare const V1_DEFAULT_WINDOW_MS: number;
/** The largest notification body an endpoint reads, bytes (1 MiB, SCHEMES.md §Answers): the middleware and the examples refuse a larger one unread (000002). */
export declare const MAX_NOTIFICATION_BODY: number;
/** ±15 min, in ms: the documented S6 X-Sdk-Date window. */
export declare const APIG_DEFAULT_WINDOW_MS: number;
/** Longest userName/password wire string: 128. */
export declare const MAX_WIRE_LEN: number;
/** Longest plaintext that fits: 79 bytes. */
export declare const MAX_PLAINTEXT_LEN: number;
/** 16. */
export declare const IV_LEN: number;
/** Longest nonce accepted: 256 bytes. */
export declare const MAX_NONCE_LEN: number;
/** Most query parameters: 64. */
export declare const MAX_PARAMS: number;

// ---------------------------------------------------------------------------
// Errors

/** The stable codes, one per koosign::Error variant. */
export type KoosignErrorCode =
  | 'MISSING_PARAMETER'
  | 'MALFORMED_ENCODING'
  | 'BAD_TIMESTAMP'
  | 'STALE_TIMESTAMP'
  | 'REPLAYED_NONCE'
  | 'NONCE_STORE_FULL'
  | 'BUFFER_TOO_SMALL'
  | 'INPUT_TOO_LARGE'
  | 'NO_ACCESS_KEY'
  | 'SIGNATURE_MISMATCH'
  | 'DECRYPT'
  | 'RANDOM_SOURCE'
  | 'AMBIGUOUS'
  | 'STORE_UNAVAILABLE';

/** Every error koosign throws (argument type errors are TypeError). No message holds a secret. */
export declare class KoosignError extends Error {
  constructor(message?: string, options?: { cause?: unknown });
  /** Set when Merchant#verify refused: the core's resultCode. */
  resultCode?: string;
  /** Set when Merchant#verify refused: met after authentication. */
  authenticated?: boolean;
  /** Set when Merchant#verify refused: the signed refusal to send. */
  refusal?: SignedAnswer;
  /** A stable machine-readable code. */
  readonly code: KoosignErrorCode | 'MALFORMED_REQUEST' | 'KOOSIGN';
  static readonly code: string;
}
/**
 * The request's format is wrong (missing parameter, malformed encoding, input too large). Before
 * authentication (a verifier threw it) that answers "000001"; after, "000002" (see resultCodeFor).
 */
export declare class MalformedRequestError extends KoosignError {}
export declare class MissingParameterError extends MalformedRequestError {
  constructor(message?: string, options?: { parameter?: string });
  readonly code: 'MISSING_PARAMETER';
  /** The missing parameter's name. */
  readonly parameter: string | undefined;
}
export declare class MalformedEncodingError extends MalformedRequestError {
  constructor(message?: string, options?: { what?: string });
  readonly code: 'MALFORMED_ENCODING';
  /** What is malformed. */
  readonly what: string | undefined;
}
export declare class InputTooLargeError extends MalformedRequestError {
  constructor(message?: string, options?: { limit?: number });
  readonly code: 'INPUT_TOO_LARGE';
  /** The limit exceeded. */
  readonly limit: number | undefined;
}
export declare class BadTimestampError extends KoosignError {
  readonly code: 'BAD_TIMESTAMP';
}
export declare class StaleTimestampError extends KoosignError {
  readonly code: 'STALE_TIMESTAMP';
}
export declare class ReplayedNonceError extends KoosignError {
  readonly code: 'REPLAYED_NONCE';
}
export declare class NonceStoreFullError extends KoosignError {
  readonly code: 'NONCE_STORE_FULL';
}
export declare class BufferTooSmallError extends KoosignError {
  constructor(message?: string, options?: { needed?: number });
  readonly code: 'BUFFER_TOO_SMALL';
  readonly needed: number | undefined;
}
export declare class NoAccessKeyError extends KoosignError {
  readonly code: 'NO_ACCESS_KEY';
}
export declare class SignatureMismatchError extends KoosignError {
  readonly code: 'SIGNATURE_MISMATCH';
}
export declare class DecryptError extends KoosignError {
  readonly code: 'DECRYPT';
}
export declare class RandomSourceError extends KoosignError {
  readonly code: 'RANDOM_SOURCE';
}
/**
 * The request could be read two ways (a signed boundary could move: a V1 `&…=` in a value, a kit
 * body not starting with `{`, a licence nonce with `&`, a repeated S6 header), so it is refused
 * before authentication: answer "000001". Not a MalformedRequestError.
 */
export declare class AmbiguousError extends KoosignError {
  constructor(message?: string, options?: { what?: string });
  readonly code: 'AMBIGUOUS';
  /** Which rule refused it. */
  readonly what: string | undefined;
}
/** A replay store could not be reached: refused, fail closed (answer "000005"). */
export declare class StoreUnavailableError extends KoosignError {
  readonly code: 'STORE_UNAVAILABLE';
}

/** The error class of each code. */
export declare const errorClasses: Readonly<Record<KoosignErrorCode, typeof KoosignError>>;
