"""The framework-neutral half of the Flask, FastAPI/Starlette and Django
helpers: build the :class:`~koosign.Merchant`, hand it the raw request, send
what it returns. No rule lives here: the protocol, the body limit, the
checks, the strict JSON, the answer codes and their signed bodies are all the
core's (``Merchant.verify`` raises with ``exc.refusal``)."""

from __future__ import annotations

import json
import logging
from typing import Any, Callable, Iterable, Optional, Sequence, Tuple, Union

from . import Merchant
from ._koosign import BODY_SIGN_HEADER, KoosignError, SignedAnswer, StoreUnavailable, Verified

__all__ = ["BODY_SIGN_HEADER", "Verified", "encode_json", "merchant_of", "answer_of", "wsgi_bytes"]

log = logging.getLogger("koosign")

RawText = Union[str, bytes]


def encode_json(obj: Any) -> bytes:
    """Compact UTF-8 JSON: the bytes a helper sends (and signs) for a dict."""
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def wsgi_bytes(value: str) -> RawText:
    """A WSGI text value (PEP 3333: the raw bytes decoded as latin-1) back to
    the bytes that were on the wire, so the core sees exactly them."""
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        return value


def merchant_of(merchant: Union[Merchant, str, Sequence[str]], **options: Any) -> Merchant:
    """``merchant`` itself, or a new :class:`~koosign.Merchant` of these
    access keys and ``options`` (``v2_window``, ``v1_window``, ``store``,
    ``clock``: as ``Merchant``)."""
    if isinstance(merchant, Merchant):
        if options:
            raise TypeError("give either a Merchant or access keys with options, not both")
        return merchant
    return Merchant(merchant, **options)


def refused(exc: KoosignError) -> SignedAnswer:
    """The signed refusal a :meth:`Merchant.verify` exception carries; a
    store failure is logged (with the store's exception) on ``koosign``."""
    if isinstance(exc, StoreUnavailable):
        log.error("koosign: the replay store failed (answered 000005)", exc_info=exc.__cause__ or exc)
    refusal: SignedAnswer = exc.refusal  # type: ignore[attr-defined]
    return refusal


def verify(
    merchant: Merchant, method: str, query: RawText, headers: Iterable[Tuple[RawText, RawText]], body: bytes
) -> Union[Verified, SignedAnswer]:
    """The verified notification, or the signed refusal to send."""
    try:
        return merchant.verify(method, query, list(headers), body)
    except KoosignError as exc:
        if not hasattr(exc, "refusal"):
            raise
        return refused(exc)


async def verify_async(
    merchant: Merchant, method: str, query: RawText, headers: Iterable[Tuple[RawText, RawText]], body: bytes
) -> Union[Verified, SignedAnswer]:
    """:func:`verify` through ``await merchant.verify_async`` (an async store)."""
    try:
        return await merchant.verify_async(method, query, list(headers), body)
    except KoosignError as exc:
        if not hasattr(exc, "refusal"):
            raise
        return refused(exc)


def answer_of(merchant: Merchant, rv: Any) -> Optional[SignedAnswer]:
    """A view's return value as a signed answer: a :class:`SignedAnswer`
    (``merchant.respond(...)``, ``merchant.refusal(code)``) as it is; a dict
    or list as compact UTF-8 JSON, signed; ``None`` for anything else (a
    framework response: the helper signs its bytes)."""
    if isinstance(rv, SignedAnswer):
        return rv
    if isinstance(rv, (dict, list)):
        return merchant.sign_answer(encode_json(rv))
    return None


Clock = Callable[[], int]
