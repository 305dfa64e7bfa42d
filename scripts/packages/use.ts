// Compiled by scripts/test-packages.sh with `tsc --strict` in a fresh npm
// project where the packed tarball is installed (types from the package).
import { verifyV2, bodySign, NonceStore, KoosignError, SignatureMismatchError, BODY_SIGN_HEADER } from 'koosign';
import type { VerifiedV2 } from 'koosign';

export function answer(query: string, body: Uint8Array, key: string, store: NonceStore): [string, string] {
  let code = '000000';
  try {
    const n: VerifiedV2 = verifyV2(query, body, key, { now: Date.now(), nonceStore: store });
    const activity: string | undefined = n.activity;
    void activity;
  } catch (e) {
    if (!(e instanceof KoosignError)) throw e;
    code = e instanceof SignatureMismatchError ? '000001' : '000002';
  }
  const response = JSON.stringify({ resultCode: code, resultMsg: 'success.' });
  return [BODY_SIGN_HEADER, bodySign(response, key)];
}
