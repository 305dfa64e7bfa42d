// vectors/answers.jsonl (written by vectors/gen_answers.py with Python's
// hmac alone, never by koosign): reading the cases, shared by the direct
// runner (answers.test.mjs) and the HTTP runner (answers-http.test.mjs).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { VECTORS } from './paths.mjs';

export const CASES = readFileSync(join(VECTORS, 'answers.jsonl'), 'utf8')
  .split('\n')
  .filter((l) => l.trim() !== '')
  .map((l) => JSON.parse(l));

/** The exact body bytes of a case (or of a prior request). */
export function bodyOf(c) {
  if (typeof c.body === 'string') return Buffer.from(c.body, 'utf8');
  if (typeof c.body_b64 === 'string') return Buffer.from(c.body_b64, 'base64');
  if (Array.isArray(c.body_gen)) return Buffer.concat(c.body_gen.map(([t, n]) => Buffer.from(t.repeat(n), 'utf8')));
  return Buffer.alloc(0);
}

/** The prior requests of a case, with its keys, clock and policy. */
export const priorsOf = (c) => (c.prior || []).map((p) => ({ ...c, ...p, prior: undefined, expect: undefined }));

/** The request as Merchant#verify takes it. */
export const requestOf = (c) => ({ method: c.method, query: c.query, headers: c.headers, body: bodyOf(c) });

/** Merchant options of a case's policy. */
export const policyOf = (c) => ({ v2Window: c.policy.v2_window_ms, v1Window: c.policy.v1_window_ms });

/** The fields the core read, as the runner of core/tests/answers.rs compares them. */
export const V2_FIELDS = ['activity', 'orderId', 'orderLineId', 'businessId', 'testFlag', 'instanceId', 'scene', 'status', 'productId', 'expireTime', 'trialFlag', 'customerId', 'customerName', 'chargingMode', 'skuCode'];

/** What a verified notification object shows of the expected fields: { name: value } for comparison. */
export function fieldsOf(protocol, notification) {
  const out = {};
  if (protocol === 'v1' || protocol === 'v1json') {
    for (const [n, v] of Object.entries(notification)) if (n !== 'authToken' && n !== 'timeStamp') out[n] = v;
  } else {
    for (const n of V2_FIELDS) if (typeof notification[n] === 'string') out[n] = notification[n];
  }
  return out;
}

/** An asynchronous replay store in a Map (Redis-like: a key until it expires). */
export class MapStore {
  constructor() {
    this.keys = new Map();
  }
  async checkAndInsert(key, expiresAtMs, nowMs) {
    const e = this.keys.get(key);
    if (e !== undefined && e >= nowMs) return false;
    this.keys.set(key, expiresAtMs);
    return true;
  }
}

/** An asynchronous store that cannot be reached. */
export const DOWN = { checkAndInsert: async () => Promise.reject(new Error('ECONNREFUSED (test)')) };
