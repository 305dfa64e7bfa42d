"""A KooGallery production interface with Django (V2, kit and V1 notifications):
koosign.django's view decorator around the business logic of instances.py
(its ``handle``), served by Django's threaded development server on loopback.

    KOOSIGN_ACCESS_KEY=... python merchant_django.py [PORT]    # several keys: KEY1,KEY2 (rotation)

``make_view(merchant)`` is the view; ``urlpatterns`` routes ``/produce`` to it.
"""

from __future__ import annotations

import os
import secrets
import sys
from typing import Any, Callable

from django.conf import settings  # type: ignore[import-untyped]

if not settings.configured:
    settings.configure(
        DEBUG=False,
        SECRET_KEY=secrets.token_hex(16),
        ALLOWED_HOSTS=["127.0.0.1", "localhost"],
        ROOT_URLCONF=__name__,
        MIDDLEWARE=["django.middleware.common.CommonMiddleware", "django.middleware.csrf.CsrfViewMiddleware"],
        INSTALLED_APPS=[],
        USE_TZ=True,
    )

import django  # type: ignore[import-untyped]  # noqa: E402

django.setup()

from django.urls import path  # type: ignore[import-untyped]  # noqa: E402

import koosign  # noqa: E402
from instances import handle  # noqa: E402
from koosign.django import koosign_view  # noqa: E402


def make_view(merchant: koosign.Merchant) -> Callable[..., Any]:
    @koosign_view(merchant)
    def produce(request: Any, n: koosign.Verified) -> koosign.SignedAnswer:
        return handle(merchant, n)

    return produce


urlpatterns: list[Any] = []

if __name__ == "__main__":
    from django.core.servers.basehttp import run  # type: ignore[import-untyped]
    from django.core.wsgi import get_wsgi_application  # type: ignore[import-untyped]

    urlpatterns.append(path("produce", make_view(koosign.Merchant(os.environ["KOOSIGN_ACCESS_KEY"].split(",")))))
    run("127.0.0.1", int(sys.argv[1]) if len(sys.argv) > 1 else 8080, get_wsgi_application(), threading=True)
