"""A complete KooGallery production interface with Flask (V2, kit and V1 notifications).

    KOOSIGN_ACCESS_KEY=... python merchant_flask.py [PORT]     # several keys: KEY1,KEY2 (rotation)
    KOOSIGN_REDIS_URL=redis://127.0.0.1:6379/0                  # optional: a replay store shared by processes
    koosign simulate --url http://127.0.0.1:PORT/produce --protocol v2

koosign.Merchant does every check on the raw bytes (protocol, signature, ±60 s /
±5 min, replay, strict JSON, the activity and its required fields) and writes
every answer, refusals included, with Body-Sign over the exact bytes sent.
The business logic and the instances: instances.py.
"""

from __future__ import annotations

import os
import sys

from flask import Flask

import koosign
from instances import handle
from koosign.flask import koosign_required


def create_app(merchant: koosign.Merchant) -> Flask:
    app = Flask(__name__)

    @app.route("/produce", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])  # the core refuses other methods, signed
    @koosign_required(merchant)
    def produce(n: koosign.Verified) -> koosign.SignedAnswer:
        return handle(merchant, n)

    return app


redis_url = os.environ.get("KOOSIGN_REDIS_URL")  # optional: a replay store shared by processes and machines
store = koosign.RedisNonceStore.from_url(redis_url, socket_timeout=2) if redis_url else None
app = create_app(koosign.Merchant(os.environ["KOOSIGN_ACCESS_KEY"].split(","), store=store))

if __name__ == "__main__":
    app.run("127.0.0.1", int(sys.argv[1]) if len(sys.argv) > 1 else 8080, threaded=True)
