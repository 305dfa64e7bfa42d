"""A complete KooGallery production interface (V2 basic interfaces) with Flask.

    KOOSIGN_ACCESS_KEY=... python merchant_flask.py [PORT]
    koosign simulate --url http://127.0.0.1:PORT/produce --protocol v2

Every request is verified (signature, ±60 s, nonce replay) on its raw bytes and
every answer, refusals included, carries Body-Sign over the exact bytes sent.
The instances live in a dict: use your database.
"""

from __future__ import annotations

import os
import secrets
import sys
import threading
from typing import Any, Dict

from flask import Flask

import koosign
from koosign.flask import koosign_required

ACCESS_KEY = os.environ["KOOSIGN_ACCESS_KEY"]
app = Flask(__name__)
lock = threading.Lock()
instances: Dict[str, Dict[str, str]] = {}  # instanceId -> state
by_order: Dict[str, str] = {}  # orderId/orderLineId -> instanceId (newInstance is idempotent)


def app_info(iid: str) -> Dict[str, str]:
    user, password = instances[iid]["user"], instances[iid]["password"]
    return {"frontEndUrl": f"https://saas.example.com/{iid}", "adminUrl": "https://saas.example.com/admin",
            "userName": koosign.encrypt_field(user, ACCESS_KEY, "1"),  # AES-256 = encryptType "1"
            "password": koosign.encrypt_field(password, ACCESS_KEY, "1"), "memo": ""}


def handle(p: Dict[str, Any]) -> Dict[str, Any]:
    activity, iid = p["activity"], str(p.get("instanceId", ""))
    with lock:
        if activity == "newInstance":
            iid = by_order.setdefault(f"{p['orderId']}/{p['orderLineId']}", secrets.token_hex(16))
            instances.setdefault(iid, {"user": f"admin-{iid[:6]}", "password": secrets.token_urlsafe(12)})
            return {"instanceId": iid, "encryptType": "1", "appInfo": app_info(iid)}
        if not iid:
            raise KeyError("instanceId")
        if activity == "queryInstance":
            info = [{"instanceId": i, "appInfo": app_info(i)} for i in iid.split(",") if i in instances]
            return {"encryptType": "1", "info": info}
        if activity == "releaseInstance":
            instances.pop(iid, None)  # releasing twice succeeds
            return {}
        if activity not in ("refreshInstance", "updateInstanceStatus", "upgradeInstance"):
            raise KeyError("activity")
        if iid not in instances:
            return {"resultCode": "000003", "resultMsg": "instance not found"}
        instances[iid]["status"] = str(p.get("status") or p.get("scene") or "upgraded")
        return {}


@app.post("/produce")
@koosign_required(ACCESS_KEY)  # v2: signature/timestamp/nonce; an in-memory nonce store
def produce(n: koosign.VerifiedV2) -> Dict[str, Any]:
    try:
        return {"resultCode": "000000", "resultMsg": "success.", **handle(n.json())}
    except (koosign.MalformedRequest, ValueError, KeyError, TypeError):  # not a strict notification, missing field, unknown activity
        return {"resultCode": "000002", "resultMsg": "bad parameters"}


if __name__ == "__main__":
    app.run("127.0.0.1", int(sys.argv[1]) if len(sys.argv) > 1 else 8080)
