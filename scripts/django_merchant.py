"""A Django production interface, for `koosign simulate --audit` (scripts/audit-examples.sh).

koosign.django's view decorator around the business logic of
examples/python/merchant_flask.py (its ``handle``), served by Django's own
threaded development server on loopback:

    KOOSIGN_ACCESS_KEY=... python scripts/django_merchant.py PORT
"""

from __future__ import annotations

import importlib.util
import os
import secrets
import sys
from pathlib import Path
from typing import Any, Dict

from django.conf import settings

settings.configure(
    DEBUG=False,
    SECRET_KEY=secrets.token_hex(16),
    ALLOWED_HOSTS=["127.0.0.1", "localhost"],
    ROOT_URLCONF=__name__,
    MIDDLEWARE=["django.middleware.common.CommonMiddleware", "django.middleware.csrf.CsrfViewMiddleware"],
    INSTALLED_APPS=[],
    USE_TZ=True,
)

import django  # noqa: E402

django.setup()

from django.urls import path  # noqa: E402

import koosign  # noqa: E402
from koosign.django import koosign_view  # noqa: E402

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "python" / "merchant_flask.py"
_spec = importlib.util.spec_from_file_location("merchant_flask", EXAMPLE)
assert _spec is not None and _spec.loader is not None
flask_example = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(flask_example)

ACCESS_KEY = os.environ["KOOSIGN_ACCESS_KEY"]


@koosign_view(ACCESS_KEY)  # v2: signature/timestamp/nonce; an in-memory nonce store
def produce(request: Any, n: koosign.VerifiedV2) -> Dict[str, Any]:
    try:
        return {"resultCode": "000000", "resultMsg": "success.", **flask_example.handle(n.json())}
    except (koosign.MalformedRequest, ValueError, KeyError, TypeError):  # not a strict notification, missing field, unknown activity
        return {"resultCode": "000002", "resultMsg": "bad parameters"}


urlpatterns = [path("produce", produce)]

if __name__ == "__main__":
    from django.core.servers.basehttp import run
    from django.core.wsgi import get_wsgi_application

    run("127.0.0.1", int(sys.argv[1]) if len(sys.argv) > 1 else 8080, get_wsgi_application(), threading=True)
