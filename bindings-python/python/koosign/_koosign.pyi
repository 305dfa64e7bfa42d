"""Type stubs of the native module `koosign._koosign` (Rust, pyo3, abi3).

Every function only translates types and errors around the Rust core; the
schemes (canonical strings, HMACs, comparisons, windows, nonce lifetimes)
are the core's. Times are Unix seconds (float) in, milliseconds (int) out.
"""

from typing import Any, Iterable, Mapping, Optional, Protocol, Sequence, Tuple, Union

__version__: str
BODY_SIGN_HEADER: str
DETACH_THRESHOLD: int
# Windows in milliseconds: V2/kit ±60 s (S2), the V1 default of endpoints
# ±5 min (S1 item 8), the S6 verifier default ±15 min.
DEFAULT_WINDOW_MS: int
V1_DEFAULT_WINDOW_MS: int
# The largest notification body an endpoint reads (1 MiB): helpers refuse a larger one unread (000002).
MAX_NOTIFICATION_BODY: int
APIG_DEFAULT_WINDOW_MS: int

# str, or UTF-8 bytes (text that is not UTF-8 raises MalformedRequest).
Text = Union[str, bytes, bytearray]
# The exact bytes received or sent; a str is taken as its UTF-8 bytes.
Body = Union[bytes, bytearray, memoryview, str]
# One access key, or several during a key rotation (index = key_index).
AccessKeys = Union[str, Sequence[str]]
Pairs = Union[Mapping[str, str], Mapping[bytes, bytes], Iterable[Tuple[Text, Text]]]
EncryptTypeArg = Union[str, int]

# V2/kit nonces are given as received; a V1 authToken (after the space-as-plus
# repair) as "v1:" + token, so one store serves both without collisions.
class NonceStoreLike(Protocol):
    def check_and_insert(self, nonce: str, now_ms: int, expires_at_ms: int) -> bool: ...

class KoosignError(Exception):
    code: str

# Before authentication (an error of verify_*), every one of these but
# DecryptError answers 000001; see koosign.result_code.
class SignatureMismatch(KoosignError): ...  # SIGNATURE_MISMATCH
class StaleTimestamp(KoosignError): ...  # STALE_TIMESTAMP
class ReplayedNonce(KoosignError): ...  # REPLAYED_NONCE
# MISSING_PARAMETER, MALFORMED_ENCODING, BAD_TIMESTAMP, INPUT_TOO_LARGE
class MalformedRequest(KoosignError): ...
# AMBIGUOUS: the request reads more than one way under one signature (V1
# name/value with `&`...`=`, S1b member `authToken`, kit body starting with a
# digit, licence nonce with `&`, repeated S6 header/attribute). Not a
# MalformedRequest.
class AmbiguousRequest(KoosignError): ...
class DecryptError(KoosignError): ...  # DECRYPT
# STORE_UNAVAILABLE: the replay store is down (answer 000005); its own exception is __cause__.
class StoreUnavailable(KoosignError): ...

# Raised by Merchant.verify / verify_async (any KoosignError subclass) carry:
#   exc.result_code: str            the core's code at the stage the error was met
#   exc.refusal: SignedAnswer       the signed answer to send (HTTP 200)

REFUSAL_MAX_LEN: int
MAX_DEPTH: int

class Unchecked:
    """koosign.UNCHECKED: a window or the replay check left out, by name."""
    def __init__(self) -> None: ...

class SignedAnswer:
    """The exact body bytes and their Body-Sign value; unpacks as (body, body_sign)."""
    @property
    def body(self) -> bytes: ...
    @property
    def body_sign(self) -> str: ...
    def __iter__(self) -> Any: ...
    def __len__(self) -> int: ...
    def __getitem__(self, i: int) -> Union[bytes, str]: ...

class InMemoryNonceStore:
    """The core's replay table (NonceTable::with_capacity), thread-safe, one process."""
    def __init__(self, max_entries: int = 262144) -> None: ...
    @property
    def max_entries(self) -> int: ...
    def check_and_insert(self, nonce: Union[str, bytes], now_ms: int, expires_at_ms: int) -> bool: ...
    def __len__(self) -> int: ...

class Verified:
    """A verified, fresh, first-seen notification, its activity validated (merchant::Verified)."""
    @property
    def protocol(self) -> str: ...  # "v1" | "v1json" | "v2" | "kit"
    @property
    def activity(self) -> str: ...
    @property
    def key_index(self) -> int: ...
    @property
    def timestamp_ms(self) -> int: ...
    @property
    def replay_key(self) -> str: ...
    @property
    def replay_expires_ms(self) -> int: ...
    @property
    def body(self) -> bytes: ...
    def json(self) -> dict[str, Any]: ...
    def get(self, name: str, default: Any = None) -> Any: ...
    def __getitem__(self, name: str) -> Any: ...
    def __contains__(self, name: str) -> bool: ...
    def decrypt(self, wire: Text, encrypt_type: Optional[Union[EncryptTypeArg, str]] = None) -> str: ...

Window = Union[float, int, Unchecked, None]
AppInfoArg = Mapping[str, Optional[str]]

class Merchant:
    """The keyed merchant context: access keys (index 0 signs answers), windows in
    seconds (None: the core's default, ±60 s V2/kit and licence, ±5 min V1;
    UNCHECKED: no check), the replay store (default: an InMemoryNonceStore),
    clock: a callable returning Unix ms (tests)."""
    def __init__(
        self,
        access_keys: AccessKeys,
        *,
        v2_window: Window = None,
        v1_window: Window = None,
        licence_window: Window = None,
        store: Optional[Any] = None,
        clock: Optional[Any] = None,
    ) -> None: ...
    @property
    def store(self) -> Any: ...
    @property
    def key_count(self) -> int: ...
    @property
    def v2_window(self) -> Union[float, Unchecked]: ...
    @property
    def v1_window(self) -> Union[float, Unchecked]: ...
    @property
    def licence_window(self) -> Union[float, Unchecked]: ...
    def verify(
        self, method: Text, query: Text, headers: Optional[Pairs], body: Body, *, now_ms: Optional[int] = None, store: Optional[Any] = None
    ) -> Verified: ...
    async def verify_async(
        self, method: Text, query: Text, headers: Optional[Pairs], body: Body, *, now_ms: Optional[int] = None, store: Optional[Any] = None
    ) -> Verified: ...
    def _verify_deferred(
        self, method: Text, query: Text, headers: Optional[Pairs], body: Body, *, now_ms: Optional[int] = None
    ) -> tuple[Verified, int]: ...
    def _store_refusal(self, outcome: object) -> Optional[KoosignError]: ...
    # key_index: the verified request's Verified.key_index (the key the marketplace
    # signed with signs the answer, SCHEMES.md §S3 "(decision) Key rotation"); default 0.
    def refusal(self, code: str, *, key_index: int = 0) -> SignedAnswer: ...
    def respond(
        self,
        result_code: str = "000000",
        *,
        instance_id: Optional[str] = None,
        app_info: Optional[AppInfoArg] = None,
        info: Optional[Iterable[Tuple[str, AppInfoArg]]] = None,
        encrypt_type: Optional[EncryptTypeArg] = None,
        key_index: int = 0,
    ) -> SignedAnswer: ...
    def sign_answer(self, body: Body, *, key_index: int = 0) -> SignedAnswer: ...
    def body_sign(self, body: Body, *, key_index: int = 0) -> str: ...
    def encrypt(self, plaintext: Text, encrypt_type: Optional[EncryptTypeArg] = None, *, key_index: int = 0) -> str: ...
    def decrypt(self, wire: Text, encrypt_type: Optional[Union[EncryptTypeArg, str]] = None) -> str: ...

def check_response(
    status: int, headers: Pairs, body: Body, access_key: str, expect: str = "any"
) -> dict[str, Any]: ...
def loads_strict(body: Body) -> Any: ...
def _result_code_of(code: str, *, authenticated: bool = False) -> Optional[str]: ...
def _merchant_failure_code() -> str: ...

class VerifiedV1:
    @property
    def params(self) -> dict[str, str]: ...
    @property
    def key_index(self) -> int: ...
    @property
    def timestamp_ms(self) -> int: ...
    @property
    def activity(self) -> Optional[str]: ...
    def get(self, name: str, default: Optional[str] = None) -> Optional[str]: ...
    def __getitem__(self, name: str) -> str: ...
    def __contains__(self, name: str) -> bool: ...
    def __len__(self) -> int: ...
    def decrypt(self, name: str, encrypt_type: Optional[EncryptTypeArg] = None) -> str: ...

class VerifiedV2:
    @property
    def body(self) -> bytes: ...
    @property
    def key_index(self) -> int: ...
    @property
    def timestamp_ms(self) -> int: ...
    @property
    def nonce(self) -> str: ...
    @property
    def scheme(self) -> str: ...
    def json(self) -> Any: ...
    def decrypt(self, wire: Text, encrypt_type: Optional[EncryptTypeArg] = None) -> str: ...

# S1. Order: parse, MissingParameter, AmbiguousRequest (S1 item 10), timeStamp
# (BAD_TIMESTAMP), the token (SignatureMismatch), the window when max_age is
# given (StaleTimestamp; None = no check, endpoints should pass
# V1_DEFAULT_WINDOW_MS / 1000), then nonce_store (ReplayedNonce): the repaired
# token, tagged "v1:", kept until timeStamp + max_age (300 s without max_age).
def verify_v1(
    query: Text,
    access_keys: AccessKeys,
    *,
    now: Optional[float] = None,
    max_age: Optional[float] = None,
    nonce_store: Optional[NonceStoreLike] = None,
) -> VerifiedV1: ...
# S1b: the body must be a flat JSON object of string members, each name once
# (else MalformedRequest); a member named authToken is AmbiguousRequest.
def verify_v1_json(
    auth_token: Text,
    body: Body,
    access_keys: AccessKeys,
    *,
    now: Optional[float] = None,
    max_age: Optional[float] = None,
    nonce_store: Optional[NonceStoreLike] = None,
) -> VerifiedV1: ...
def v1_canonical(query: Text) -> str: ...
def v1_auth_token(params: Pairs, access_key: str) -> str: ...
def build_v1_query(params: Pairs, access_key: str) -> str: ...
def parse_query(query: Text) -> list[tuple[str, str]]: ...
# S2 / S2b: timestamp exactly 13 digits without a leading zero (else
# BAD_TIMESTAMP); nonce 1-256 printable ASCII, no space (else
# MISSING_PARAMETER / INPUT_TOO_LARGE / MALFORMED_ENCODING); a kit body
# not starting with `{`, or a kit nonce holding `{`, is AmbiguousRequest.
def verify_v2(
    query_or_params: Union[Text, Pairs],
    body: Body,
    access_keys: AccessKeys,
    *,
    now: Optional[float] = None,
    window: Optional[float] = 60.0,
    nonce_store: Optional[NonceStoreLike] = None,
) -> VerifiedV2: ...
def verify_kit(
    headers: Pairs,
    body: Body,
    access_keys: AccessKeys,
    *,
    now: Optional[float] = None,
    window: Optional[float] = 60.0,
    nonce_store: Optional[NonceStoreLike] = None,
) -> VerifiedV2: ...
def sign_v2(body: Body, access_key: str, nonce: Text, timestamp: Union[Text, int], *, kit: bool = False) -> str: ...
def body_sign(body: Body, access_key: str) -> str: ...
# Strict parser (SCHEMES.md S3): exactly sign_type="HMAC-SHA256" and
# signature="...", each once, any order, `,` + optional spaces between; each
# deviation is a MalformedRequest whose message names it ("Body-Sign: ...").
def verify_body_sign(value: Text, body: Body, access_keys: AccessKeys) -> int: ...
def encrypt_field(
    plaintext: Text, access_key: str, encrypt_type: Optional[EncryptTypeArg] = None, *, iv: Optional[Text] = None
) -> str: ...
def decrypt_field(wire: Text, access_key: str, encrypt_type: Optional[EncryptTypeArg] = None) -> str: ...
def derive_key(access_key: str, bits: int) -> bytes: ...
def decrypt_raw(key: bytes, iv: bytes, ciphertext: bytes) -> bytes: ...
def licence_sign(ts: Text, nonce: Text, body: Body, access_key: str) -> str: ...

# S5: ts as S2's timestamp (13 digits); an empty nonce is MISSING_PARAMETER, a
# nonce with `&` AmbiguousRequest.
def verify_licence(
    ts: Text,
    nonce: Text,
    body: Body,
    signature: Text,
    access_keys: AccessKeys,
    *,
    now: Optional[float] = None,
    max_age: Optional[float] = None,
) -> int: ...

class ApigSigner:
    def __init__(self, ak: str, sk: str) -> None: ...
    @property
    def ak(self) -> str: ...
    # Returns a koosign.ApigSignature (a dict of the headers to add, the
    # intermediates as attributes), built natively.
    def sign(
        self,
        method: Text,
        url: Text,
        headers: Optional[Pairs] = None,
        body: Optional[Body] = None,
        *,
        now: Optional[float] = None,
        params: Optional[Pairs] = None,
        path_as_is: bool = False,
    ) -> dict[str, str]: ...

# The native half of koosign.verify_apig: (credential_index, unsigned_payload).
def _verify_apig(
    method: Text,
    url: Text,
    headers: Pairs,
    body: Body,
    credentials: Union[Mapping[str, str], Iterable[Tuple[str, str]]],
    *,
    now: Optional[float] = None,
    max_age: Optional[float] = None,
) -> tuple[int, bool]: ...
