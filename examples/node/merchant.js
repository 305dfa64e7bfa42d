'use strict';
// The business side of a KooGallery production interface, shared by the
// two servers of this folder: an in-memory instance store and one handler
// per activity. The security (verification, Body-Sign, field encryption)
// is koosign's; this file only decides what to answer.

const { randomUUID } = require('node:crypto');
const { encryptField } = require('koosign');

const OK = { resultCode: '000000', resultMsg: 'success.' };
const badParam = (what) => ({ resultCode: '000002', resultMsg: `bad parameter: ${what}` });
const notFound = { resultCode: '000003', resultMsg: 'instance not found' };

/** A merchant: `handle(notification, accessKey)` returns the response object. */
function createMerchant({ encryptType = '1' } = {}) {
  const instances = new Map(); // instanceId → { orderId, orderLineId, status, expireTime }
  const byOrder = new Map(); // orderId/orderLineId → instanceId (idempotent newInstance)

  const appInfo = (id, accessKey) => ({
    frontEndUrl: `https://saas.example.com/app/${id}`,
    adminUrl: `https://saas.example.com/admin/${id}`,
    // Credentials travel encrypted with the access key (S4), at most 128 characters each.
    userName: encryptField(`admin-${id.slice(0, 8)}`, accessKey, encryptType),
    password: encryptField(randomUUID().slice(0, 18), accessKey, encryptType),
    memo: 'demo instance',
  });

  function find(n) {
    if (typeof n.instanceId !== 'string' || n.instanceId === '') return [null, badParam('instanceId')];
    const inst = instances.get(n.instanceId);
    return inst ? [inst, null] : [null, notFound];
  }

  const handlers = {
    newInstance(n, key) {
      if (!n.orderId) return badParam('orderId');
      const order = `${n.orderId}/${n.orderLineId || ''}`;
      let id = byOrder.get(order);
      if (!id) {
        id = randomUUID();
        byOrder.set(order, id);
        instances.set(id, { orderId: n.orderId, orderLineId: n.orderLineId, status: 'NORMAL', expireTime: n.expireTime });
      }
      return { ...OK, instanceId: id, encryptType, appInfo: appInfo(id, key) };
    },
    queryInstance(n, key) {
      if (typeof n.instanceId !== 'string' || n.instanceId === '') return badParam('instanceId');
      const ids = n.instanceId.split(',').slice(0, 100);
      const info = ids.filter((id) => instances.has(id)).map((id) => ({ instanceId: id, appInfo: appInfo(id, key) }));
      return info.length ? { ...OK, encryptType, info } : notFound;
    },
    refreshInstance(n) {
      const [inst, err] = find(n);
      if (err) return err;
      inst.expireTime = n.expireTime || inst.expireTime;
      return OK;
    },
    updateInstanceStatus(n) {
      const [inst, err] = find(n);
      if (err) return err;
      if (n.status !== 'FREEZE' && n.status !== 'UNFREEZE') return badParam('status');
      inst.status = n.status === 'FREEZE' ? 'FROZEN' : 'NORMAL';
      return OK;
    },
    upgradeInstance(n) {
      const [, err] = find(n);
      return err || OK;
    },
    releaseInstance(n) {
      const [inst, err] = find(n);
      if (err) return err;
      inst.status = 'RELEASED'; // kept, so that a second release succeeds too
      return OK;
    },
  };
  // V1 (GET) activity names.
  handlers.expireInstance = (n) => {
    const [inst, err] = find(n);
    if (err) return err;
    inst.status = 'EXPIRED';
    return OK;
  };
  handlers.upgrade = handlers.upgradeInstance;

  return {
    instances,
    handle(notification, accessKey) {
      const h = Object.prototype.hasOwnProperty.call(handlers, notification.activity) ? handlers[notification.activity] : null;
      return h ? h(notification, accessKey) : badParam('activity');
    },
  };
}

module.exports = { createMerchant };
