"""A complete KooGallery production interface with Flask (V2, kit and V1 notifications).

    KOOSIGN_ACCESS_KEY=... python merchant_flask.py [PORT]     # several keys: KEY1,KEY2 (rotation)
    koosign simulate --url http://127.0.0.1:PORT/produce --protocol v2

koosign.Merchant does every check on the raw bytes (protocol, signature, ±60 s /
±5 min, replay, strict JSON, the activity and its required fields) and writes
every answer, refusals included, with Body-Sign over the exact bytes sent.
The instances live in a dict: use your database.
"""

from __future__ import annotations

import os
import secrets
import sys
import threading
from typing import Dict

from flask import Flask

import koosign
from koosign.flask import koosign_required

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


def create_app(merchant: koosign.Merchant) -> Flask:
    app = Flask(__name__)

    @app.route("/produce", methods=["GET", "POST"])
    @koosign_required(merchant)
    def produce(n: koosign.Verified) -> koosign.SignedAnswer:
        return handle(merchant, n)

    return app


if __name__ == "__main__":
    create_app(koosign.Merchant(os.environ["KOOSIGN_ACCESS_KEY"].split(","))).run(
        "127.0.0.1", int(sys.argv[1]) if len(sys.argv) > 1 else 8080, threaded=True)
