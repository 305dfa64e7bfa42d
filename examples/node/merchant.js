'use strict';
// The business side of a KooGallery production interface, shared by the
// two servers of this folder: an in-memory instance store and one handler
// per activity. Everything about the protocol is the core's (koosign
// Merchant): the request arrives verified, fresh, first-seen, with a known
// activity and its required fields; the answer is written, encrypted and
// signed by `merchant.respond`. This file only decides what to answer.

const { randomUUID } = require('node:crypto');

const OK = { resultCode: '000000' };
const NOT_FOUND = { resultCode: '000003' };

/** The application: `handle(activity, notification)` returns the answer for Merchant#respond. */
function createMerchant() {
  const instances = new Map(); // instanceId → { orderId, orderLineId, status, expireTime }
  const byOrder = new Map(); // orderId/orderLineId → instanceId (idempotent newInstance)

  // Credentials in plain text: Merchant#respond encrypts userName and password (S4).
  const appInfo = (id) => ({
    frontEndUrl: `https://saas.example.com/app/${id}`,
    adminUrl: `https://saas.example.com/admin/${id}`,
    userName: `admin-${id.slice(0, 8)}`,
    password: randomUUID().slice(0, 18),
    memo: 'demo instance',
  });

  /** Runs `f` on the instance the notification names, or answers 000003. */
  const withInstance = (f) => (n) => {
    const inst = instances.get(n.instanceId);
    if (!inst) return NOT_FOUND;
    f(inst, n);
    return OK;
  };

  const handlers = {
    newInstance(n) {
      const order = `${n.orderId}/${n.orderLineId || ''}`;
      let id = byOrder.get(order);
      if (!id) {
        id = randomUUID();
        byOrder.set(order, id);
        instances.set(id, { orderId: n.orderId, orderLineId: n.orderLineId, status: 'NORMAL', expireTime: n.expireTime });
      }
      return { ...OK, instanceId: id, appInfo: appInfo(id) };
    },
    queryInstance(n) {
      const ids = n.instanceId.split(',');
      const info = ids.filter((id) => instances.has(id)).map((id) => ({ instanceId: id, appInfo: appInfo(id) }));
      return info.length ? { ...OK, info } : NOT_FOUND;
    },
    refreshInstance: withInstance((inst, n) => {
      inst.expireTime = n.expireTime || inst.expireTime;
    }),
    updateInstanceStatus: withInstance((inst, n) => {
      inst.status = n.status === 'FREEZE' ? 'FROZEN' : 'NORMAL';
    }),
    upgradeInstance: withInstance(() => {}),
    releaseInstance: withInstance((inst) => {
      inst.status = 'RELEASED'; // kept, so that a second release succeeds too
    }),
    // V1 (GET) activity names.
    expireInstance: withInstance((inst) => {
      inst.status = 'EXPIRED';
    }),
    upgrade: withInstance(() => {}),
    instanceStatus: withInstance(() => {}),
    getLicense: () => OK,
    releaseLicense: () => OK,
  };

  return {
    instances,
    handle(activity, notification) {
      return handlers[activity](notification);
    },
  };
}

module.exports = { createMerchant };
