// CommonJS usage of the declarations (this folder's package is CommonJS):
// `tsc --noEmit --strict` must accept it.
import koosign = require('koosign');
import { koosignMiddleware } from 'koosign/express';
import express = require('express');

const {
  verifyV1, verifyV2, verifyKit, bodySign, encryptField, decryptField, deriveKey, ApigSigner, NonceStore,
  KoosignError, SignatureMismatchError, MalformedRequestError, MissingParameterError, BODY_SIGN_HEADER,
  AmbiguousError, verifyApig, resultCodeFor, V1_DEFAULT_WINDOW_MS, APIG_DEFAULT_WINDOW_MS,
  Merchant, RedisNonceStore, UNCHECKED, checkResponse,
} = koosign;

const keys: readonly string[] = ['old', 'new'];
const store = new NonceStore({ capacity: 10_000 });
const body: Buffer = Buffer.from('{"activity":"newInstance"}');

try {
  const v2 = verifyV2('signature=…&timestamp=…&nonce=…', body, keys, { now: new Date(), window: 60_000, nonceStore: store });
  const idx: number = v2.keyIndex;
  const ts: number = v2.timestampMs;
  const orderId: string | undefined = v2.notification.orderId;
  const extra: unknown = v2.notification['anything'];
  const proto: 'v2' | 'kit' = v2.protocol;
  const phone: string = v2.decryptField('wire', 'auto');
  void [idx, ts, orderId, extra, proto, phone];
  const kit = verifyKit({ 'x-sign': 'a', 'x-timestamp': '1', 'x-nonce': 'n' }, 'text body', 'key');
  const bytes: Uint8Array = kit.body;
  void bytes;
  const v1 = verifyV1(new URL('https://m.example.com/produce?a=b'), 'key', { window: V1_DEFAULT_WINDOW_MS, nonceStore: store });
  const s6 = verifyApig('https://h/x', { headers: {} }, [['ak', 'sk']], { window: APIG_DEFAULT_WINDOW_MS });
  const credential: number = s6.credentialIndex;
  const unauthenticatedBody: boolean = s6.unsignedPayload;
  void [credential, unauthenticatedBody];
  const p: Record<string, string> = v1.params;
  const pairs: Array<[string, string]> = v1.pairs;
  const mail: string = v1.decryptParam('email', '2');
  void [p, pairs, mail];
} catch (e) {
  const answer: '000001' | '000002' | '000005' = resultCodeFor(e, { authenticated: false });
  void answer;
  if (e instanceof AmbiguousError) {
    const code: 'AMBIGUOUS' = e.code;
    const what: string | undefined = e.what;
    void [code, what];
  } else if (e instanceof SignatureMismatchError) {
    const code: 'SIGNATURE_MISMATCH' = e.code;
    void code;
  } else if (e instanceof MissingParameterError) {
    const name: string | undefined = e.parameter;
    void name;
  } else if (e instanceof MalformedRequestError || e instanceof KoosignError) {
    const msg: string = e.message;
    void msg;
  }
}

const header: string = bodySign('{"resultCode":"000000"}', 'key');
const wire: string = encryptField('admin', 'key', '1');
const wire2: string = encryptField('admin', 'key', '2', { iv: 'abcdefgh12345678' });
const plain: string = decryptField(wire, 'key');
const key: Uint8Array = deriveKey('key', 128);
const signed = new ApigSigner('ak', 'sk').sign('https://mkt.myhuaweicloud.com/api/x?orderId=1', { method: 'GET', headers: { 'X-Project-Id': 'p' } });
const auth: string | undefined = signed.headers['Authorization'];
const name: 'Body-Sign' = BODY_SIGN_HEADER;
void [header, wire, wire2, plain, key, auth, name];

// The keyed merchant context.
const merchant = new Merchant(keys, { v2Window: 60_000, v1Window: UNCHECKED });
try {
  const v = merchant.verify({ method: 'POST', url: '/produce?signature=…', headers: { 'x-sign': '…' }, body }, { nowMs: Date.now(), store });
  const n: Record<string, unknown> = v.notification;
  const answer = merchant.respond({ resultCode: '000000', instanceId: 'i-1', appInfo: { userName: 'u', password: 'p' } }, { encryptType: '1' });
  const checked = checkResponse(answer, 'new', { expect: 'newInstance' });
  const code: string = checked.resultCode;
  void [n, code, answer.headers['Body-Sign'], v.replayKey];
} catch (e) {
  if (e instanceof KoosignError && e.refusal) void e.refusal.body;
}
void (async () => {
  const redis = await RedisNonceStore.fromUrl('redis://127.0.0.1:6379');
  const v = await merchant.verifyAsync({ method: 'GET', query: 'a=b' }, { store: redis });
  void v.protocol;
})();

const app = express();
app.post('/produce', koosignMiddleware({ accessKeys: keys, nonceStore: store, v1Window: 'unchecked', onError: (err, _req, res, _next, info) => res.end(`${err.code}:${info.resultCode}`) }), (req, res) => {
  const verified = req.koosign;
  const raw: Buffer | undefined = req.rawBody;
  void raw;
  res.json({ resultCode: '000000', resultMsg: 'success.', activity: verified?.activity });
});

// The declarations are real, not `any`: each line below must be an error.
// @ts-expect-error bodySign returns a string
const notANumber: number = bodySign('x', 'k');
// @ts-expect-error there is no option `windowMs`
verifyV2('q', body, 'k', { windowMs: 5 });
// @ts-expect-error encryptType "3" does not exist
encryptField('a', 'k', '3');
// @ts-expect-error the middleware needs accessKeys
koosignMiddleware({});
// @ts-expect-error v1Window is switched off by name ('unchecked'), not null
koosignMiddleware({ accessKeys: 'k', v1Window: null });
// @ts-expect-error Merchant#verify needs a store (or 'unchecked' by name)
new Merchant('k').verify({ method: 'GET', query: 'a=b' }, { nowMs: 1 });
// @ts-expect-error the protocol is the core's to detect
koosignMiddleware({ accessKeys: 'k', protocol: 'v2' });
// @ts-expect-error verifyApig returns an object, not the index
const index: number = verifyApig('https://h/x', {}, ['ak', 'sk']);
void index;
void notANumber;

// koosign/marketplace: the open-API client.
import { MarketplaceClient, MarketplaceError } from 'koosign/marketplace';
async function queryOrderUsage(): Promise<string> {
  const client = new MarketplaceClient('ak', 'sk', { endpoint: 'http://127.0.0.1:8443', retries: 1, explain: true });
  try {
    const order = await client.queryOrder('MOCKPERIODYEARNEW', 'MOCKPERIODYEARNEW-000001');
    await client.uploadText('event', 'delivered');
    return `${order.resultCode} ${String(order.orderInfo['orderType'])}`;
  } catch (e) {
    if (e instanceof MarketplaceError) return `${e.status} ${e.code} ${e.gatewayMessage} ${e.canonicalRequest ?? ''}`;
    throw e;
  }
}
void queryOrderUsage;
