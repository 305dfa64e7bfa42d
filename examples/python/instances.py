"""The business logic shared by the Flask, FastAPI and Django examples: the
instances (in a dict: use your database) and the answer to each verified
notification, written and signed by ``koosign.Merchant.respond``."""

from __future__ import annotations

import secrets
import threading
from typing import Dict

import koosign

lock = threading.Lock()
instances: Dict[str, Dict[str, str]] = {}  # instanceId -> state
by_order: Dict[str, str] = {}  # orderId/orderLineId -> instanceId (newInstance is idempotent)
# Activities about an instance this endpoint must already hold (else 000003).
ABOUT_AN_INSTANCE = {"refreshInstance", "updateInstanceStatus", "upgradeInstance", "expireInstance", "upgrade", "instanceStatus"}


def app_info(iid: str) -> Dict[str, str]:  # userName and password are encrypted by merchant.respond
    return {"frontEndUrl": f"https://saas.example.com/{iid}", "adminUrl": "https://saas.example.com/admin",
            "userName": instances[iid]["user"], "password": instances[iid]["password"], "memo": ""}


def handle(merchant: koosign.Merchant, n: koosign.Verified) -> koosign.SignedAnswer:
    p = n.json()  # verified and validated by the core: the activity's required fields are there
    with lock:
        if n.activity == "newInstance":
            iid = by_order.setdefault(f"{p['orderId']}/{p.get('orderLineId', '')}", secrets.token_hex(16))
            instances.setdefault(iid, {"user": f"admin-{iid[:6]}", "password": secrets.token_urlsafe(12)})
            return merchant.respond("000000", instance_id=iid, app_info=app_info(iid), encrypt_type="1")
        if n.activity == "queryInstance":
            ids = [i for i in str(p["instanceId"]).split(",") if i in instances]
            return merchant.respond("000000", info=[(i, app_info(i)) for i in ids], encrypt_type="1")
        if n.activity == "releaseInstance":
            instances.pop(str(p["instanceId"]), None)  # releasing twice succeeds
        elif n.activity in ABOUT_AN_INSTANCE:
            if str(p["instanceId"]) not in instances:
                return merchant.refusal("000003")  # the instance is unknown
            instances[str(p["instanceId"])]["status"] = str(p.get("status") or p.get("scene") or n.activity)
        return merchant.respond("000000")  # getLicense / releaseLicense / the above: success
