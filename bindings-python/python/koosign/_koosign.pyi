"""Type stubs of the native module `koosign._koosign` (Rust, pyo3, abi3).

Every function only translates types and errors around the Rust core; the
schemes (canonical strings, HMACs, comparisons, windows, nonce lifetimes)
are the core's. Times are Unix seconds (float) in, milliseconds (int) out.
"""

from typing import Any, Iterable, Mapping, Optional, Protocol, Sequence, Tuple, Union

__version__: str
BODY_SIGN_HEADER: str
DETACH_THRESHOLD: int

# str, or UTF-8 bytes (text that is not UTF-8 raises MalformedRequest).
Text = Union[str, bytes, bytearray]
# The exact bytes received or sent; a str is taken as its UTF-8 bytes.
Body = Union[bytes, bytearray, memoryview, str]
# One access key, or several during a key rotation (index = key_index).
AccessKeys = Union[str, Sequence[str]]
Pairs = Union[Mapping[str, str], Mapping[bytes, bytes], Iterable[Tuple[Text, Text]]]
EncryptTypeArg = Union[str, int]

class NonceStoreLike(Protocol):
    def check_and_insert(self, nonce: str, now_ms: int, expires_at_ms: int) -> bool: ...

class KoosignError(Exception):
    code: str

class SignatureMismatch(KoosignError): ...
class StaleTimestamp(KoosignError): ...
class ReplayedNonce(KoosignError): ...
class MalformedRequest(KoosignError): ...
class DecryptError(KoosignError): ...

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

def verify_v1(
    query: Text, access_keys: AccessKeys, *, now: Optional[float] = None, max_age: Optional[float] = None
) -> VerifiedV1: ...
def verify_v1_json(
    auth_token: Text,
    body: Body,
    access_keys: AccessKeys,
    *,
    now: Optional[float] = None,
    max_age: Optional[float] = None,
) -> VerifiedV1: ...
def v1_canonical(query: Text) -> str: ...
def v1_auth_token(params: Pairs, access_key: str) -> str: ...
def build_v1_query(params: Pairs, access_key: str) -> str: ...
def parse_query(query: Text) -> list[tuple[str, str]]: ...
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
def verify_body_sign(value: Text, body: Body, access_keys: AccessKeys) -> int: ...
def encrypt_field(
    plaintext: Text, access_key: str, encrypt_type: Optional[EncryptTypeArg] = None, *, iv: Optional[Text] = None
) -> str: ...
def decrypt_field(wire: Text, access_key: str, encrypt_type: Optional[EncryptTypeArg] = None) -> str: ...
def derive_key(access_key: str, bits: int) -> bytes: ...
def licence_sign(ts: Text, nonce: Text, body: Body, access_key: str) -> str: ...
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
    def _sign(
        self,
        method: Text,
        url: Text,
        headers: Optional[Pairs] = None,
        body: Optional[Body] = None,
        *,
        now: Optional[float] = None,
        params: Optional[Pairs] = None,
    ) -> tuple[dict[str, str], dict[str, str]]: ...

def verify_apig(
    method: Text,
    url: Text,
    headers: Pairs,
    body: Body,
    credentials: Union[Mapping[str, str], Iterable[Tuple[str, str]]],
    *,
    now: Optional[float] = None,
    max_age: Optional[float] = None,
) -> int: ...
