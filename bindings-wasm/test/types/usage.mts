// ESM usage of the declarations: `tsc --noEmit --strict` must accept it.
import koosign, { verifyV2, bodySign, NonceStore, StaleTimestampError, type VerifyOptions, type KoosignErrorCode } from 'koosign';
import middleware, { koosignMiddleware, type KoosignMiddlewareOptions } from 'koosign/express';

const opts: VerifyOptions = { now: Date.now(), window: null, nonceStore: new NonceStore(4096) };
try {
  const v = verifyV2({ signature: 'x', timestamp: '1', nonce: 'n' }, new Uint8Array(0), 'key', opts);
  const activity: string | undefined = v.activity;
  void activity;
} catch (e) {
  if (e instanceof StaleTimestampError) {
    const code: KoosignErrorCode = e.code;
    void code;
  }
}
const h: string = koosign.bodySign('x', 'k') + bodySign(new Uint8Array([1, 2]), 'k');
const o: KoosignMiddlewareOptions = { accessKeys: 'k', v2Window: 'unchecked' };
const same: typeof koosignMiddleware = middleware;
void [h, o, same];

import MarketplaceClient, { MarketplaceTimeoutError } from 'koosign/marketplace';
const mc = new MarketplaceClient('ak', 'sk');
void mc.queryOrder('MOCKONDEMAND').catch((e: unknown) => e instanceof MarketplaceTimeoutError);
