"""A complete KooGallery production interface with FastAPI (V2, kit and V1 notifications).

    KOOSIGN_ACCESS_KEY=... python merchant_fastapi.py [PORT]   # several keys: KEY1,KEY2 (rotation)
    KOOSIGN_REDIS_URL=redis://127.0.0.1:6379/0                  # optional: a replay store shared by processes
    koosign simulate --url http://127.0.0.1:PORT/produce --protocol v2

koosign.Merchant does every check on the raw bytes (protocol, signature, ±60 s /
±5 min, replay, strict JSON, the activity and its required fields) and writes
every answer, refusals included, with Body-Sign over the exact bytes sent. With
Redis, the replay check is awaited (redis.asyncio): the event loop never blocks.
The business logic and the instances: instances.py.
"""

from __future__ import annotations

import os
import sys
from typing import Optional

import uvicorn
from fastapi import Depends, FastAPI
from starlette.responses import Response

import koosign
from instances import handle
from koosign.fastapi import KoosignVerifier


def create_app(merchant: koosign.Merchant) -> FastAPI:
    verified = KoosignVerifier(merchant)
    app = FastAPI()
    verified.install(app)  # refused requests: the core's signed refusal

    @app.api_route("/produce", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])  # the core refuses other methods, signed
    async def produce(n: koosign.Verified = Depends(verified)) -> Response:
        return verified.send(handle(merchant, n))

    return app


def merchant_from_env() -> koosign.Merchant:
    redis_url: Optional[str] = os.environ.get("KOOSIGN_REDIS_URL")
    store = koosign.AsyncRedisNonceStore.from_url(redis_url, socket_timeout=2) if redis_url else None
    return koosign.Merchant(os.environ["KOOSIGN_ACCESS_KEY"].split(","), store=store)


app = create_app(merchant_from_env())

if __name__ == "__main__":
    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]) if len(sys.argv) > 1 else 8080)
