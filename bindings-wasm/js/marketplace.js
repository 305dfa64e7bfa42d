'use strict';
// A client of the marketplace's two open APIs over `fetch` (issue 16):
// query order (GET …/global/v1/order/query) and upload (POST
// …/global/v1/market-event/{event_id}/file, multipart). Field lists: the
// access guide's query-order and upload pages (sources cited in
// cli/src/marketplace.rs); the answer's JSON is passed through untouched.
// Every call is signed by the core's S6 URL signer (ApigSigner with a URL,
// SCHEMES.md S6 "Signing a whole URL"); a multipart body is signed
// UNSIGNED-PAYLOAD, as Huawei's SDK signs it.

const { ApigSigner } = require('./index.js');
const { createHash } = require('node:crypto');

const DEFAULT_ENDPOINT = 'https://mkt.myhuaweicloud.com';
const ORDER_QUERY_PATH = '/api/mkp-openapi-public/global/v1/order/query';
const EVENT_PREFIX = '/api/mkp-openapi-public/global/v1/market-event/';

/**
 * The gateway or the marketplace refused: `status` (HTTP; 0 when nothing
 * answered), `code` (APIGW.0301, MKT.0101 …), `message`. With `explain`, a
 * signature refusal also carries `canonicalRequest` and `stringToSign`.
 * Never the SK.
 */
class MarketplaceError extends Error {
  constructor(status, code, message) {
    super(code ? `HTTP ${status}: ${code}: ${message}` : `HTTP ${status}: ${message}`);
    this.name = 'MarketplaceError';
    this.status = status;
    this.code = code;
    this.gatewayMessage = message;
  }
}
/** No answer within the timeout, after every retry. */
class MarketplaceTimeoutError extends MarketplaceError {
  constructor(message) {
    super(0, '', message);
    this.name = 'MarketplaceTimeoutError';
  }
}
/** Could not connect or send, after every retry. */
class MarketplaceUnavailableError extends MarketplaceError {
  constructor(message) {
    super(0, '', message);
    this.name = 'MarketplaceUnavailableError';
  }
}

function codes(v, code, msg) {
  if (!v || typeof v !== 'object') return ['', ''];
  return [String(v[code] ?? v.error_code ?? v.resultCode ?? ''), String(v[msg] ?? v.error_msg ?? v.resultMsg ?? '')];
}

const enc = (s) => encodeURIComponent(String(s));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/**
 * Calls the open APIs. Options: endpoint (default the production one),
 * timeoutMs per attempt (10000), retries (2) with exponential backoffMs
 * (200) on a timeout, a connection failure or a 5xx answer (never a 4xx),
 * explain (false), fetch (default globalThis.fetch).
 */
class MarketplaceClient {
  #signer;
  constructor(ak, sk, opts = {}) {
    this.#signer = new ApigSigner(ak, sk);
    this.endpoint = String(opts.endpoint ?? DEFAULT_ENDPOINT).replace(/\/+$/, '');
    this.timeoutMs = opts.timeoutMs ?? 10_000;
    this.retries = Math.max(0, opts.retries ?? 2);
    this.backoffMs = opts.backoffMs ?? 200;
    this.explain = Boolean(opts.explain);
    this.fetch = opts.fetch ?? globalThis.fetch;
  }

  async #call(method, url, contentType, body, code, msg) {
    for (let attempt = 1; ; attempt++) {
      // Signed afresh each attempt (X-Sdk-Date within ±15 min), over the URL as fetch sends it.
      const signed = this.#signer.sign(url, { method, headers: { 'Content-Type': contentType }, body: body ?? '' });
      // fetch sets Host itself (the signer's is the same: lower-case, no default port).
      const { Host, ...added } = signed.headers;
      let resp;
      let failure;
      try {
        resp = await this.fetch(url, {
          method,
          headers: { 'Content-Type': contentType, ...added },
          body,
          redirect: 'manual',
          signal: AbortSignal.timeout(this.timeoutMs),
        });
      } catch (e) {
        failure = e && (e.name === 'TimeoutError' || e.name === 'AbortError')
          ? new MarketplaceTimeoutError(`no answer within ${this.timeoutMs} ms (${attempt} attempts)`)
          : new MarketplaceUnavailableError(`cannot reach the marketplace (${attempt} attempts): ${e && e.cause ? e.cause.code || e.cause.message : e}`);
      }
      let text;
      if (!failure) {
        try {
          text = await resp.text();
        } catch (e) {
          failure = new MarketplaceTimeoutError(`the answer did not arrive within ${this.timeoutMs} ms (${attempt} attempts)`);
        }
      }
      const retry = failure !== undefined || resp.status >= 500;
      if (retry && attempt <= this.retries) {
        await sleep(this.backoffMs * 2 ** (attempt - 1));
        continue;
      }
      if (failure) throw failure;
      let v;
      try {
        v = JSON.parse(text);
      } catch {
        throw new MarketplaceError(resp.status, '', 'the answer is not JSON');
      }
      const [c, m] = codes(v, code, msg);
      if (resp.status === 200 && c === 'MKT.0000') return v;
      const err = new MarketplaceError(resp.status, c, m);
      if (this.explain && c === 'APIGW.0301') {
        err.canonicalRequest = signed.canonicalRequest;
        err.stringToSign = signed.stringToSign;
      }
      throw err;
    }
  }

  /** Query order: { resultCode, resultMsg, orderInfo, raw } (orderInfo as received). */
  async queryOrder(orderId, orderLineId) {
    let q = `?orderId=${enc(orderId)}`;
    if (orderLineId !== undefined && orderLineId !== null) q += `&orderLineId=${enc(orderLineId)}`;
    const v = await this.#call('GET', this.endpoint + ORDER_QUERY_PATH + q, 'application/json;charset=UTF-8', undefined, 'resultCode', 'resultMsg');
    return Object.freeze({ resultCode: v.resultCode, resultMsg: v.resultMsg, orderInfo: v.orderInfo ?? {}, raw: v });
  }

  async #upload(eventId, meta, file) {
    const form = new FormData();
    if (file) form.append('file', new Blob([file.data], { type: 'application/octet-stream' }), file.name);
    form.append('isvUpdateFileReq', new Blob([JSON.stringify(meta)], { type: 'application/json' }));
    // The exact bytes and boundary fetch would send, so they are what is signed and sent.
    const r = new Request('http://localhost/', { method: 'POST', body: form });
    const contentType = r.headers.get('content-type');
    const body = new Uint8Array(await r.arrayBuffer());
    return this.#call('POST', `${this.endpoint}${EVENT_PREFIX}${enc(eventId)}/file`, contentType, body, 'error_code', 'error_msg');
  }

  /** Uploads a string (type CHARACTERS, at most 1024 characters): { error_code, error_msg }. */
  uploadText(eventId, text) {
    return this.#upload(eventId, { type: 'CHARACTERS', characters: String(text) });
  }

  /** Uploads a file (type FILE, with its SHA-256): { error_code, error_msg }. */
  uploadFile(eventId, name, data) {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    return this.#upload(eventId, { type: 'FILE', sha256, file_name: String(name) }, { name: String(name), data: bytes });
  }

  toString() {
    return `MarketplaceClient(endpoint=${this.endpoint}, sk=<hidden>)`;
  }
}

module.exports = {
  MarketplaceClient,
  MarketplaceError,
  MarketplaceTimeoutError,
  MarketplaceUnavailableError,
  DEFAULT_ENDPOINT,
};
