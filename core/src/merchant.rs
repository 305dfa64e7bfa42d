//! The keyed merchant context: everything a merchant endpoint does, with its
//! keys precomputed once and one fail-closed policy.
//!
//! A [`Merchant`] is built once, at start-up, from one or several access
//! keys (rotation: every key verifies; key 0 signs what is not an answer to
//! a verified request, and the `_for` variants sign with the key that
//! verified it: [`Merchant::sign_answer_for`], [`Merchant::respond_for`],
//! [`Merchant::refusal_for`]) and a
//! [`Policy`] (the freshness windows). It holds, for each key, the HMAC-SHA256
//! states with the key already absorbed (and, for S2/S2b, with the key's own
//! bytes absorbed as the start of the message), and both AES field keys with
//! their expanded schedules (docs/SCHEMES.md §S4), all zeroized on drop: no
//! operation re-derives a key. The one-shot functions of the scheme modules
//! run the same scheme code with keys made per call.
//!
//! ```
//! use koosign::merchant::{Merchant, Policy, Replay, Request};
//! use koosign::{NonceCache, Protocol, Activity};
//!
//! let merchant = Merchant::<4>::new(&["testAccessKey123"], Policy::default())?;
//! let mut nonces = NonceCache::<1024>::new();
//! let body = br#"{"activity":"newInstance","businessId":"87b94795-0603-4e24-8ae5-69420d60e3c8","orderId":"CS2211181819B4LVS","orderLineId":"CS2211181819B4LVS-000001","testFlag":"1"}"#;
//! let req = Request {
//!     method: "POST",
//!     query: "signature=CD8D59BB7FCF7574752B5EB0ED04B3ACF4A759DA53F24D30A79ABE45C5D1BA25\
//!             &timestamp=1680508066618&nonce=50D83FDECAED6CCD8EF597F2A577950527928BA287D04E6036E92B2806FD17DA",
//!     headers: &[],
//!     body,
//! };
//! let mut scratch = [0u8; 256];
//! let now_ms = 1_680_508_070_000; // your clock, Unix ms
//! match merchant.verify(&req, now_ms, Replay::Store(&mut nonces), &mut scratch) {
//!     Ok(v) => {
//!         assert_eq!((v.protocol(), v.activity()), (Protocol::V2Query, Activity::NewInstance));
//!         // ... act on it, then answer with the key that verified it:
//!         // merchant.respond_for(v.key_index(), ...) or merchant.sign_answer_for(v.key_index(), ...)
//!     }
//!     Err(rejection) => {
//!         let mut out = [0u8; koosign::REFUSAL_MAX_LEN];
//!         // Signed with the verifying key once authenticated, else key 0.
//!         let answer = merchant.refusal_for(&rejection, &mut out)?; // send answer.body() with Body-Sign: answer.body_sign()
//!         # let _ = answer;
//!         unreachable!("{rejection:?}");
//!     }
//! }
//! # Ok::<(), koosign::Error>(())
//! ```

use crate::activity::{validate_v1, validate_v2, Activity};
use crate::answer::{result_code, write_refusal, ResultCode, SignedAnswer, Stage};
use crate::body_sign::{body_sign_keyed, verify_body_sign_keyed, BodySignVerified, BODY_SIGN_VALUE_LEN};
use crate::detect::{detect_protocol, Protocol};
use crate::encoding::FixedText;
use crate::error::{Error, Result};
use crate::field::{DecryptMode, EncryptType, FieldCipher, MAX_WIRE_LEN};
use crate::licence::{verify_licence_keyed, LicenceVerified};
use crate::mac::{mac_new, HmacSha256, Keyed};
use crate::nonce::NonceStore;
use crate::notification::{Notification, MAX_NOTIFICATION_BODY};
use crate::response::MAX_INSTANCE_ID;
use crate::time::{Freshness, DEFAULT_WINDOW_MS, V1_DEFAULT_WINDOW_MS};
use crate::v1::{VerifiedV1, AUTH_TOKEN};
use crate::v2::{sign_v2_keyed, verify_v2_keyed, V2Auth, V2Scheme, VerifiedV2};
use hmac::Mac;
use zeroize::Zeroize;

/// The longest access key a [`Merchant`] holds, in bytes.
pub const MAX_ACCESS_KEY_LEN: usize = 256;

/// A freshness policy: a window checked around the caller's clock, or the
/// check left out **by name** (there is no `None` that silently skips it).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Window {
    /// |now − timestamp| ≤ `window_ms` (milliseconds), else `StaleTimestamp`.
    Checked {
        /// The accepted distance, in milliseconds.
        window_ms: u64,
    },
    /// No freshness check: only for replaying captured traffic in tests.
    Unchecked,
}

impl Window {
    /// A checked window of `window_ms` milliseconds.
    pub const fn checked(window_ms: u64) -> Self {
        Window::Checked { window_ms }
    }

    /// This window around the caller's clock `now_ms` (Unix ms): the
    /// [`Freshness`] a one-shot verifier takes.
    pub const fn at(self, now_ms: u64) -> Freshness {
        match self {
            Window::Checked { window_ms } => Freshness::with_window(now_ms, window_ms),
            Window::Unchecked => Freshness::Unchecked,
        }
    }
}

/// Where a verified request's nonce (V2, S2b) or token (V1, S1b) is
/// recorded, or the replay check left out **by name** (there is no `None`
/// that silently skips it). Taken by [`Merchant::verify`], [`Merchant::verify_into`] and by the
/// one-shot verifiers ([`crate::verify_v1_query`], [`crate::verify_v1_json`],
/// [`crate::V1Params::verify`], [`crate::verify_v2`]).
pub enum Replay<'s> {
    /// Record it there; a replay is `ReplayedNonce`, a full store
    /// `NonceStoreFull`, an unreachable one `StoreUnavailable` (all refused).
    Store(&'s mut dyn NonceStore),
    /// Everything but the replay check, which the caller then makes (an
    /// asynchronous store: Redis, a database), refusing a replay as
    /// `ReplayedNonce` (`000001`) and a store that is down as
    /// `StoreUnavailable` (`000005`). The key and its expiry:
    /// [`Verified::replay_key`] / [`Verified::replay_expires_ms`] (the
    /// context), [`crate::VerifiedV1::replay_key`] /
    /// [`crate::VerifiedV1::replay_expires_ms`] (S1, S1b one-shots),
    /// [`crate::V2Auth::replay_key`] / [`crate::VerifiedV2::replay_expires_ms`]
    /// (S2, S2b one-shots). Nothing is recorded by the verifier.
    Deferred,
    /// No replay check: only for tests and captured traffic.
    Unchecked,
}

impl core::fmt::Debug for Replay<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(match self {
            Replay::Store(_) => "Replay::Store",
            Replay::Deferred => "Replay::Deferred",
            Replay::Unchecked => "Replay::Unchecked",
        })
    }
}

impl Replay<'_> {
    /// The replay step of every verifier, after the MAC and the window
    /// passed: with a store, records `key` at `now` until `expires_ms`
    /// ([`crate::nonce`]'s fail-closed rule); `Deferred` and `Unchecked`
    /// record nothing.
    pub(crate) fn record(self, key: &[u8], now_ms: u64, expires_ms: u64) -> Result<()> {
        match self {
            Replay::Store(store) => crate::nonce::record(store, key, now_ms, expires_ms),
            Replay::Deferred | Replay::Unchecked => Ok(()),
        }
    }
}

/// The windows a [`Merchant`] checks (docs/SCHEMES.md §Answers, "Clocks").
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Policy {
    /// S2 and S2b: ±60 s by default (the guide's).
    pub v2_window: Window,
    /// S1 and S1b: ±5 min by default (docs/SCHEMES.md §S1 item 8).
    pub v1_window: Window,
    /// S5 `ts`: ±60 s by default (its `ts` is the S2 timestamp).
    pub licence_window: Window,
}

impl Default for Policy {
    fn default() -> Self {
        Policy {
            v2_window: Window::checked(DEFAULT_WINDOW_MS),
            v1_window: Window::checked(V1_DEFAULT_WINDOW_MS),
            licence_window: Window::checked(DEFAULT_WINDOW_MS),
        }
    }
}

impl Policy {
    /// Both windows left out, by name (tests over captured traffic).
    pub const UNCHECKED: Policy =
        Policy { v2_window: Window::Unchecked, v1_window: Window::Unchecked, licence_window: Window::Unchecked };
}

/// One access key, precomputed (zeroized on drop).
struct KeyedKey {
    /// The access key (its `&str` needs no UTF-8 check per request).
    key: heapless::String<MAX_ACCESS_KEY_LEN>,
    /// HMAC-SHA256 keyed with the access key.
    mac: HmacSha256,
    /// The same, with the key's own bytes absorbed (S2/S2b start their
    /// message with the key).
    mac_after_key: HmacSha256,
    /// Both AES field keys with their schedules (S4).
    cipher: FieldCipher,
}

impl KeyedKey {
    fn new(access_key: &str) -> Result<Self> {
        if access_key.is_empty() {
            return Err(Error::NoAccessKey);
        }
        // The string's capacity is the bound: a longer key does not fit.
        let mut key = heapless::String::<MAX_ACCESS_KEY_LEN>::new();
        key.push_str(access_key).map_err(|_| Error::InputTooLarge { limit: MAX_ACCESS_KEY_LEN })?;
        let mac = mac_new(access_key.as_bytes());
        let mut mac_after_key = mac.clone();
        mac_after_key.update(access_key.as_bytes());
        Ok(KeyedKey { key, mac, mac_after_key, cipher: FieldCipher::new(access_key) })
    }
}

impl Drop for KeyedKey {
    fn drop(&mut self) {
        // The HMAC states and the field keys zeroize themselves.
        self.key.as_mut_str().zeroize();
    }
}

impl Keyed for KeyedKey {
    fn key(&self) -> &str {
        self.key.as_str()
    }
    fn mac(&self) -> HmacSha256 {
        self.mac.clone()
    }
    fn mac_after_key(&self) -> HmacSha256 {
        self.mac_after_key.clone()
    }
}

/// A notification as the endpoint received it. `headers` are the request
/// headers in order (names any case); `body` the exact bytes.
#[derive(Clone, Copy, Debug)]
pub struct Request<'r> {
    /// The HTTP method, exactly (`GET`, `POST`).
    pub method: &'r str,
    /// The raw query string (after `?`, which may be included).
    pub query: &'r str,
    /// The request headers.
    pub headers: &'r [(&'r str, &'r str)],
    /// The exact body bytes.
    pub body: &'r [u8],
}

/// Bytes of scratch [`Merchant::verify`] needs for `req`, whatever its
/// protocol: the query's length (S1, S2), or the body's plus the longest
/// header value plus 9 (S1b, [`crate::v1::json_scratch_len`]).
pub const fn scratch_len(req: &Request<'_>) -> usize {
    let mut longest = 0;
    let mut i = 0;
    while i < req.headers.len() {
        if req.headers[i].1.len() > longest {
            longest = req.headers[i].1.len();
        }
        i += 1;
    }
    let json = crate::v1::json_scratch_len(req.body.len(), longest);
    let query = crate::v1::query_scratch_len(req.query.len());
    if json > query {
        json
    } else {
        query
    }
}

/// A refused request: the error and when it was found, which decide the
/// `resultCode` ([`crate::answer::result_code`]); [`Merchant::refusal`]
/// gives the signed answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rejection {
    error: Error,
    stage: Stage,
    protocol: Option<Protocol>,
    key_index: Option<usize>,
}

impl Rejection {
    /// The error (log its [`Error::code`]; never send its text).
    pub const fn error(&self) -> Error {
        self.error
    }

    /// When it was found.
    pub const fn stage(&self) -> Stage {
        self.stage
    }

    /// The protocol, once detected.
    pub const fn protocol(&self) -> Option<Protocol> {
        self.protocol
    }

    /// Index into the context's access keys of the one that verified the
    /// request, when it was refused after its signature verified (a bad
    /// notification, an unknown activity, a missing field); `None` when it
    /// was refused before (no key matched yet) or unread (a body over
    /// [`MAX_NOTIFICATION_BODY`]). [`Merchant::refusal_for`] signs with it.
    pub const fn key_index(&self) -> Option<usize> {
        self.key_index
    }

    /// The answer's `resultCode` (docs/SCHEMES.md §Answers).
    pub const fn result_code(&self) -> ResultCode {
        result_code(&self.error, self.stage)
    }
}

impl From<Rejection> for Error {
    fn from(r: Rejection) -> Error {
        r.error
    }
}

impl core::fmt::Display for Rejection {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{} (answers {})", self.error, self.result_code().as_str())
    }
}

#[allow(clippy::large_enum_variant)] // a `Notification` is ~4 KiB (fixed unescape buffers); no heap to box it
enum Content<'r> {
    V1(VerifiedV1<'r, 'r>),
    V2 { body: &'r [u8], notification: Notification<'r> },
}

/// Clears the slot it holds when dropped armed: during an unwind out of the
/// caller's replay store (`disarm` on the normal path).
struct ClearOnUnwind<'a, T>(Option<&'a mut Option<T>>);

impl<T> ClearOnUnwind<'_, T> {
    fn disarm(mut self) {
        self.0 = None;
    }
}

impl<T> Drop for ClearOnUnwind<'_, T> {
    fn drop(&mut self) {
        if let Some(slot) = self.0.take() {
            *slot = None;
        }
    }
}

/// What [`Merchant::verify_into`] answers if its value were missing after
/// every check passed (it cannot be): refused, never accepted (fail closed).
const UNREACHABLE: Rejection =
    Rejection { error: Error::SignatureMismatch, stage: Stage::BeforeAuthentication, protocol: None, key_index: None };

/// A verified, fresh, first-seen notification with a known activity and its
/// required fields (the output of [`Merchant::verify`]). Field decryption
/// uses the matched key's precomputed AES keys.
pub struct Verified<'r> {
    protocol: Protocol,
    activity: Activity,
    key_index: usize,
    timestamp_ms: u64,
    content: Content<'r>,
    cipher: &'r FieldCipher,
    replay_key: ReplayKey<'r>,
    replay_expires_ms: u64,
}

/// The key a request is recorded under in a replay store: a V2 / S2b nonce
/// as its raw bytes; a V1 token as `v1:` + the token after the
/// space-as-plus repair (docs/SCHEMES.md §S1 item 8, §S2).
enum ReplayKey<'r> {
    Nonce(&'r [u8]),
    V1([u8; 3 + 44]),
}

impl core::fmt::Debug for Verified<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Verified")
            .field("protocol", &self.protocol)
            .field("activity", &self.activity)
            .field("key_index", &self.key_index)
            .field("timestamp_ms", &self.timestamp_ms)
            .finish_non_exhaustive()
    }
}

impl<'r> Verified<'r> {
    /// Which scheme carried it.
    pub fn protocol(&self) -> Protocol {
        self.protocol
    }

    /// The validated activity.
    pub fn activity(&self) -> Activity {
        self.activity
    }

    /// Index into the context's access keys of the one that matched.
    pub fn key_index(&self) -> usize {
        self.key_index
    }

    /// The request's timestamp (`timestamp`, `x-timestamp` or `timeStamp`), Unix ms.
    pub fn timestamp_ms(&self) -> u64 {
        self.timestamp_ms
    }

    /// The exact verified body (empty for an S1 GET).
    pub fn body(&self) -> &'r [u8] {
        match &self.content {
            Content::V2 { body, .. } => body,
            Content::V1(_) => &[],
        }
    }

    /// The parsed V2 / S2b notification (strict, docs/SCHEMES.md
    /// §Notifications); `None` for V1.
    pub fn notification(&self) -> Option<&Notification<'r>> {
        match &self.content {
            Content::V2 { notification, .. } => Some(notification),
            Content::V1(_) => None,
        }
    }

    /// The V1 view (S1 query or S1b body parameters); `None` for V2.
    pub fn v1(&self) -> Option<&VerifiedV1<'r, 'r>> {
        match &self.content {
            Content::V1(v) => Some(v),
            Content::V2 { .. } => None,
        }
    }

    /// A field by its wire name: a V1 parameter (first value), or a
    /// string field of the V2 notification that [`Notification`] reads
    /// (`orderId`, `instanceId`, ...).
    pub fn get(&self, name: &str) -> Option<&str> {
        match &self.content {
            Content::V1(v) => v.get(name),
            Content::V2 { notification: n, .. } => {
                let f = match name {
                    "activity" => &n.activity,
                    "orderId" => &n.order_id,
                    "orderLineId" => &n.order_line_id,
                    "businessId" => &n.business_id,
                    "testFlag" => &n.test_flag,
                    "instanceId" => &n.instance_id,
                    "scene" => &n.scene,
                    "status" => &n.status,
                    "productId" => &n.product_id,
                    "expireTime" => &n.expire_time,
                    "trialFlag" => &n.trial_flag,
                    "customerId" => &n.customer_id,
                    "customerName" => &n.customer_name,
                    "chargingMode" => &n.charging_mode,
                    "skuCode" => &n.sku_code,
                    _ => return None,
                };
                Notification::text(f)
            }
        }
    }

    /// The key this request is (or, with [`Replay::Deferred`], is to be)
    /// recorded under in a replay store: a V2 / S2b nonce as its raw bytes,
    /// a V1 / S1b token as `v1:` + the token with a space read as `+`
    /// (docs/SCHEMES.md §S1 item 8, §S2). What a shared store keys on.
    pub fn replay_key(&self) -> &[u8] {
        match &self.replay_key {
            ReplayKey::Nonce(n) => n,
            ReplayKey::V1(k) => k,
        }
    }

    /// Until when (Unix ms) the replay key must be remembered: the request's
    /// timestamp plus its window (the policy's, or the default window when
    /// the policy's is [`Window::Unchecked`]).
    pub fn replay_expires_ms(&self) -> u64 {
        self.replay_expires_ms
    }

    /// Decrypts an inbound field (V1 `mobilePhone`, `email`) with the
    /// matched key's precomputed AES keys (docs/SCHEMES.md §S4). `out`:
    /// at least `wire.len()` bytes. Errors: `Decrypt`, `BufferTooSmall`;
    /// found on a verified request, a `Decrypt` answers `000002`.
    pub fn decrypt<'o>(&self, wire: &str, mode: DecryptMode, out: &'o mut [u8]) -> Result<&'o str> {
        self.cipher.decrypt(wire, mode, out)
    }
}

/// The application's part of a success answer (docs/SCHEMES.md §S4,
/// §Answers): `userName` and `password` are given in plain text and
/// encrypted by [`Merchant::respond`]; the others are sent as they are.
#[derive(Clone, Copy, Debug, Default)]
pub struct AppInfo<'a> {
    /// `frontEndUrl`.
    pub front_end_url: Option<&'a str>,
    /// `adminUrl`.
    pub admin_url: Option<&'a str>,
    /// `userName`, plain text (at most 79 bytes).
    pub user_name: Option<&'a str>,
    /// `password`, plain text (at most 79 bytes).
    pub password: Option<&'a str>,
    /// `memo`.
    pub memo: Option<&'a str>,
}

/// An answer to write and sign: `resultCode` (with its fixed `resultMsg`),
/// and for `newInstance` the `instanceId` and `appInfo`, for
/// `queryInstance` the `info` list.
#[derive(Clone, Copy, Debug)]
pub struct Answer<'a> {
    /// The code.
    pub result_code: ResultCode,
    /// `instanceId` (at most [`crate::response::MAX_INSTANCE_ID`] characters).
    pub instance_id: Option<&'a str>,
    /// `appInfo` (its secrets encrypted, `encryptType` added).
    pub app_info: Option<AppInfo<'a>>,
    /// `info`: `queryInstance`'s `(instanceId, appInfo)` list (`encryptType` added).
    pub info: &'a [(&'a str, AppInfo<'a>)],
}

impl<'a> Answer<'a> {
    /// A bare answer: `{"resultCode":…,"resultMsg":…}`.
    pub const fn code(result_code: ResultCode) -> Self {
        Answer { result_code, instance_id: None, app_info: None, info: &[] }
    }
}

/// Writes JSON text into a buffer, counting what it would need.
struct JsonOut<'o> {
    buf: &'o mut [u8],
    at: usize,
}

impl JsonOut<'_> {
    fn raw(&mut self, s: &[u8]) {
        let end = self.at + s.len();
        if end <= self.buf.len() {
            self.buf[self.at..end].copy_from_slice(s);
        }
        self.at = end;
    }

    /// A JSON string: `"`, `\`, and control characters escaped.
    fn string(&mut self, s: &str) {
        self.raw(b"\"");
        let b = s.as_bytes();
        let mut start = 0;
        for (i, &c) in b.iter().enumerate() {
            if c == b'"' || c == b'\\' || c < 0x20 {
                self.raw(&b[start..i]);
                match c {
                    b'"' => self.raw(b"\\\""),
                    b'\\' => self.raw(b"\\\\"),
                    _ => {
                        const HEX: &[u8; 16] = b"0123456789abcdef";
                        self.raw(&[b'\\', b'u', b'0', b'0', HEX[(c >> 4) as usize], HEX[(c & 15) as usize]]);
                    }
                }
                start = i + 1;
            }
        }
        self.raw(&b[start..]);
        self.raw(b"\"");
    }

    fn member(&mut self, name: &str, value: &str) {
        self.raw(b",\"");
        self.raw(name.as_bytes());
        self.raw(b"\":");
        self.string(value);
    }
}

/// A keyed merchant context for up to `K` access keys (rotation: every
/// key verifies; [`Merchant::sign_answer`], [`Merchant::respond`],
/// [`Merchant::refusal`], [`Merchant::answer_code`] and
/// [`Merchant::encrypt`] sign and encrypt with key 0, their `_for`
/// variants with the key of a given index — the one that verified the
/// request, [`Verified::key_index`], since the marketplace checks an
/// answer's `Body-Sign` with the key it signed its request with).
pub struct Merchant<const K: usize = 4> {
    keys: heapless::Vec<KeyedKey, K>,
    policy: Policy,
}

impl<const K: usize> core::fmt::Debug for Merchant<K> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Merchant").field("keys", &self.keys.len()).field("policy", &self.policy).finish_non_exhaustive()
    }
}

impl<const K: usize> Merchant<K> {
    /// Builds the context: derives, for each access key, its keyed HMAC
    /// states and both AES field keys (docs/SCHEMES.md §S4), once.
    ///
    /// Errors: `NoAccessKey` (no key, or an empty one), `InputTooLarge {
    /// limit: K }` (more keys than `K`), `InputTooLarge { limit: 256 }` (a
    /// key over [`MAX_ACCESS_KEY_LEN`] bytes).
    pub fn new(access_keys: &[&str], policy: Policy) -> Result<Self> {
        if access_keys.is_empty() {
            return Err(Error::NoAccessKey);
        }
        if access_keys.len() > K {
            return Err(Error::InputTooLarge { limit: K });
        }
        let mut keys = heapless::Vec::new();
        for k in access_keys {
            if keys.push(KeyedKey::new(k)?).is_err() {
                return Err(Error::InputTooLarge { limit: K });
            }
        }
        Ok(Merchant { keys, policy })
    }

    /// The policy given to [`Merchant::new`].
    pub fn policy(&self) -> &Policy {
        &self.policy
    }

    /// How many access keys the context holds.
    pub fn key_count(&self) -> usize {
        self.keys.len()
    }

    fn signer(&self) -> &KeyedKey {
        // `new` refuses an empty key list.
        &self.keys[0]
    }

    /// The key at `key_index`, or `NoAccessKey` when the context holds no
    /// key there.
    fn signer_at(&self, key_index: usize) -> Result<&KeyedKey> {
        self.keys.get(key_index).ok_or(Error::NoAccessKey)
    }

    fn keys(&self) -> impl Iterator<Item = &KeyedKey> + Clone {
        self.keys.iter()
    }

    /// Verifies a notification end to end: detects its protocol
    /// ([`crate::detect_protocol`]), verifies it with the keyed states
    /// (S1, S1b, S2 or S2b), checks its window ([`Policy`]) and records its
    /// nonce or token in `replay`, then parses the notification strictly
    /// and validates its activity and required fields
    /// ([`crate::activity`]).
    ///
    /// `scratch`: at least [`scratch_len`]`(req)` bytes (the query or S1b
    /// body is decoded there); the result borrows it, `req` and `self`. A
    /// body over [`MAX_NOTIFICATION_BODY`] is refused unread.
    ///
    /// Errors: a [`Rejection`] — the error of the step that refused and
    /// its stage: before authentication for detection and every verifier
    /// error; after it for the notification, the activity and its fields,
    /// and a body over 1 MiB (`InputTooLarge`, answered `000002`,
    /// docs/SCHEMES.md §Answers). [`Merchant::refusal`] gives its signed
    /// answer.
    ///
    /// The [`Verified`] is about 4 KiB (the parsed notification) and is
    /// moved once on its way out; [`Merchant::verify_into`] builds it
    /// where the caller keeps it instead.
    pub fn verify<'r>(
        &'r self,
        req: &Request<'r>,
        now_ms: u64,
        replay: Replay<'_>,
        scratch: &'r mut [u8],
    ) -> core::result::Result<Verified<'r>, Rejection> {
        let mut out = None;
        self.verify_into(req, now_ms, replay, scratch, &mut out)?;
        out.ok_or(UNREACHABLE)
    }

    /// [`Merchant::verify`] with the result written into `out` rather than
    /// returned: the same checks, errors, order and replay step.
    ///
    /// `out`: any value it held is dropped first. On success it holds the
    /// [`Verified`] and the `&mut` returned points to it; on any error it is
    /// `None` (nothing of a refused request is left in it), and so it is
    /// after a panic out of the caller's own [`NonceStore`]. The value (about
    /// 4 KiB: the parsed notification) is built there and never moved: use
    /// this one when the slot already sits where the value should live (a
    /// struct field, an FFI handle, as the Python, Node and C bindings do);
    /// elsewhere [`Merchant::verify`] is simpler and costs one 4 KiB copy.
    ///
    /// Lifetimes: the value borrows `self`, `req` and `scratch` (`'r`), so
    /// declare `out` after them, and use one slot per request (a slot
    /// reused across requests would tie every request's scratch to it).
    ///
    /// ```
    /// use koosign::merchant::{scratch_len, Merchant, Policy, Replay, Request};
    /// let m = Merchant::<4>::new(&["testAccessKey123"], Policy::default())?;
    /// let body: &[u8] = br#"{"activity":"newInstance","businessId":"87b94795-0603-4e24-8ae5-69420d60e3c8","orderId":"CS2211181819B4LVS","orderLineId":"CS2211181819B4LVS-000001","testFlag":"1"}"#;
    /// let query = "signature=CD8D59BB7FCF7574752B5EB0ED04B3ACF4A759DA53F24D30A79ABE45C5D1BA25\
    ///              &timestamp=1680508066618&nonce=50D83FDECAED6CCD8EF597F2A577950527928BA287D04E6036E92B2806FD17DA";
    /// let req = Request { method: "POST", query, headers: &[], body };
    /// let mut scratch = vec![0u8; scratch_len(&req)];
    /// let mut out = None; // after `m`, `req` and `scratch`
    /// let v = m.verify_into(&req, 1_680_508_067_618, Replay::Unchecked, &mut scratch, &mut out).map_err(|r| r.error())?;
    /// assert_eq!(v.activity().as_str(), "newInstance");
    /// assert!(out.is_some());
    ///
    /// // A tampered body is refused and leaves nothing in a slot.
    /// let forged = Request { body: br#"{"activity":"newInstance","orderId":"X"}"#, ..req };
    /// let mut scratch2 = vec![0u8; scratch_len(&forged)];
    /// let mut out2 = None;
    /// assert!(m.verify_into(&forged, 1_680_508_067_618, Replay::Unchecked, &mut scratch2, &mut out2).is_err());
    /// assert!(out2.is_none());
    /// # Ok::<(), koosign::Error>(())
    /// ```
    pub fn verify_into<'o, 'r>(
        &'r self,
        req: &Request<'r>,
        now_ms: u64,
        replay: Replay<'_>,
        scratch: &'r mut [u8],
        out: &'o mut Option<Verified<'r>>,
    ) -> core::result::Result<&'o mut Verified<'r>, Rejection> {
        *out = None;
        let before = |protocol: Option<Protocol>| {
            move |error| Rejection { error, stage: Stage::BeforeAuthentication, protocol, key_index: None }
        };
        if req.body.len() > MAX_NOTIFICATION_BODY {
            return Err(Rejection {
                error: Error::InputTooLarge { limit: MAX_NOTIFICATION_BODY },
                stage: Stage::Authenticated,
                protocol: None,
                key_index: None,
            });
        }
        let protocol = detect_protocol(req.method, req.headers, req.query).map_err(before(None))?;
        let p = Some(protocol);
        // The nonce is recorded last, once the request is authentic, fresh
        // and valid (docs/SCHEMES.md §Answers): a store given here and a
        // store the caller consults after `Replay::Deferred` then see the
        // same requests, so both answer every request alike.
        let (replay, store) = match replay {
            Replay::Store(s) => (Replay::Deferred, Some(s)),
            other => (other, None),
        };
        let checked = self.verify_unrecorded(req, protocol, now_ms, replay, scratch, out);
        if let Err(e) = checked {
            *out = None;
            return Err(e);
        }
        if let (Some(verified), Some(s)) = (out.as_ref(), store) {
            // "Now" for the store, as the scheme's own replay step has it
            // (`Freshness::replay_times`): the caller's clock under a checked
            // window, the request's own timestamp when the window is left out.
            let window = match protocol {
                Protocol::V1Query | Protocol::V1Json => &self.policy.v1_window,
                Protocol::V2Query | Protocol::V2Headers => &self.policy.v2_window,
            };
            let now = match window {
                Window::Checked { .. } => now_ms,
                Window::Unchecked => verified.timestamp_ms(),
            };
            let expires = verified.replay_expires_ms();
            // The key, held apart from `out` (a V2 nonce borrows the
            // request; a V1 token key is copied), so that `out` can be
            // guarded while the caller's store runs.
            let v1_key;
            let key: &[u8] = match &verified.replay_key {
                ReplayKey::Nonce(n) => n,
                ReplayKey::V1(k) => {
                    v1_key = *k;
                    &v1_key
                }
            };
            // A store that panics (caller code) leaves no value in `out` for
            // a caller that catches the panic: the request was not recorded.
            let guard = ClearOnUnwind(Some(&mut *out));
            let recorded = crate::nonce::record(s, key, now, expires);
            guard.disarm();
            if let Err(e) = recorded {
                *out = None;
                return Err(before(p)(e));
            }
        }
        out.as_mut().ok_or(UNREACHABLE)
    }

    /// [`Merchant::verify_into`] after detection, the replay step left to
    /// the caller unless `replay` says otherwise. On success `out` is
    /// `Some`; on an error the caller clears it.
    #[inline]
    fn verify_unrecorded<'r>(
        &'r self,
        req: &Request<'r>,
        protocol: Protocol,
        now_ms: u64,
        replay: Replay<'_>,
        scratch: &'r mut [u8],
        out: &mut Option<Verified<'r>>,
    ) -> core::result::Result<(), Rejection> {
        let before = |protocol: Option<Protocol>| {
            move |error| Rejection { error, stage: Stage::BeforeAuthentication, protocol, key_index: None }
        };
        let after = |protocol: Protocol, key_index: usize| {
            move |error| Rejection { error, stage: Stage::Authenticated, protocol: Some(protocol), key_index: Some(key_index) }
        };
        let p = Some(protocol);
        match protocol {
            Protocol::V1Query | Protocol::V1Json => {
                // Built in place, in the caller's `out` (the 2 KiB
                // parameter list is filled where it stays); the fields
                // other than the parameters are set once they are known.
                let verified = out.insert(Verified {
                    protocol,
                    activity: Activity::NewInstance,
                    key_index: 0,
                    timestamp_ms: 0,
                    content: Content::V1(VerifiedV1::empty()),
                    cipher: &self.signer().cipher,
                    replay_key: ReplayKey::V1([0; 3 + 44]),
                    replay_expires_ms: 0,
                });
                let Content::V1(v) = &mut verified.content else {
                    // Unreachable: built as V1 just above; refused all the same.
                    return Err(before(p)(Error::SignatureMismatch));
                };
                let window = self.policy.v1_window.at(now_ms);
                match protocol {
                    Protocol::V1Query => {
                        crate::v1::verify_v1_query_keyed_into(req.query, self.keys(), window, replay, scratch, v)
                    }
                    _ => header(req.headers, AUTH_TOKEN).ok_or(Error::MissingParameter(AUTH_TOKEN)).and_then(|t| {
                        crate::v1::verify_v1_json_keyed_into(t, req.body, self.keys(), window, replay, scratch, v)
                    }),
                }
                .map_err(before(p))?;
                let activity = validate_v1(v.params()).map_err(after(protocol, v.key_index()))?;
                let (key_index, timestamp_ms) = (v.key_index(), v.time_stamp_ms());
                let (key, replay_expires_ms) = (v.replay_key(), v.replay_expires_ms());
                verified.activity = activity;
                verified.key_index = key_index;
                verified.timestamp_ms = timestamp_ms;
                verified.cipher = &self.keys[key_index].cipher;
                verified.replay_key = ReplayKey::V1(key);
                verified.replay_expires_ms = replay_expires_ms;
                Ok(())
            }
            Protocol::V2Query | Protocol::V2Headers => {
                let (scheme, auth) = if protocol == Protocol::V2Query {
                    (V2Scheme::Query, V2Auth::from_query(req.query, scratch))
                } else {
                    (V2Scheme::Headers, V2Auth::from_headers(req.headers))
                };
                let auth = auth.map_err(before(p))?;
                let v = self.verify_v2(scheme, &auth, req.body, now_ms, replay);
                let v = v.map_err(before(p))?;
                let (key_index, timestamp_ms) = (v.key_index(), v.timestamp_ms());
                // Built in place, in the caller's `out`: the ~4 KiB
                // notification is parsed where it stays, never moved.
                let verified = out.insert(Verified {
                    protocol,
                    // Replaced below, once the fields are read.
                    activity: Activity::NewInstance,
                    key_index,
                    timestamp_ms,
                    content: Content::V2 { body: req.body, notification: Notification::default() },
                    cipher: &self.keys[key_index].cipher,
                    replay_key: ReplayKey::Nonce(auth.nonce.as_bytes()),
                    replay_expires_ms: v.replay_expires_ms(),
                });
                if let Content::V2 { notification, .. } = &mut verified.content {
                    let checked = notification.fill(req.body).and_then(|()| validate_v2(notification));
                    match checked {
                        Ok(activity) => verified.activity = activity,
                        Err(e) => return Err(after(protocol, key_index)(e)),
                    }
                }
                Ok(())
            }
        }
    }

    /// S1 with the keyed context: [`crate::verify_v1_query`] with the
    /// context's keys, its V1 window and `replay`. `scratch`: at least
    /// `query.len()` bytes. Errors: those of [`crate::verify_v1_query`].
    pub fn verify_v1_query<'s>(
        &'s self,
        query: &str,
        now_ms: u64,
        replay: Replay<'_>,
        scratch: &'s mut [u8],
    ) -> Result<VerifiedV1<'s, 's>> {
        crate::v1::verify_v1_query_keyed(query, self.keys(), self.policy.v1_window.at(now_ms), replay, scratch)
    }

    /// S1b with the keyed context: [`crate::verify_v1_json`] with the
    /// context's keys, its V1 window and `replay`. `scratch`: at least
    /// [`crate::v1::json_scratch_len`] bytes. Errors: those of
    /// [`crate::verify_v1_json`].
    pub fn verify_v1_json<'s>(
        &'s self,
        auth_token: &str,
        body: &[u8],
        now_ms: u64,
        replay: Replay<'_>,
        scratch: &'s mut [u8],
    ) -> Result<VerifiedV1<'s, 's>> {
        crate::v1::verify_v1_json_keyed(
            auth_token,
            body,
            self.keys(),
            self.policy.v1_window.at(now_ms),
            replay,
            scratch,
        )
    }

    /// S2 / S2b with the keyed context: [`crate::verify_v2`] with the
    /// context's keys, its V2 window and `replay` (the keyed fast path:
    /// no key setup per call). Errors: those of [`crate::verify_v2`].
    pub fn verify_v2<'a>(
        &'a self,
        scheme: V2Scheme,
        auth: &V2Auth<'_>,
        body: &'a [u8],
        now_ms: u64,
        replay: Replay<'_>,
    ) -> Result<VerifiedV2<'a, 'a>> {
        let (key_index, timestamp_ms, expires_ms) =
            verify_v2_keyed(scheme, auth, body, || Ok(self.keys()), self.policy.v2_window.at(now_ms), replay)?;
        Ok(VerifiedV2::new(body, key_index, self.keys[key_index].key(), timestamp_ms, expires_ms))
    }

    /// S3 with the keyed context: verifies a received `Body-Sign` value
    /// over `body` against every key ([`crate::verify_body_sign`]).
    pub fn verify_body_sign<'b>(&self, value: &str, body: &'b [u8]) -> Result<BodySignVerified<'b>> {
        verify_body_sign_keyed(value, body, self.keys())
    }

    /// S5 with the keyed context: [`crate::verify_licence`] with the
    /// context's keys and its licence window.
    pub fn verify_licence<'b>(
        &self,
        ts: &str,
        nonce: &str,
        body: &'b [u8],
        signature: &str,
        now_ms: u64,
    ) -> Result<LicenceVerified<'b>> {
        verify_licence_keyed(ts, nonce, body, signature, || Ok(self.keys()), self.policy.licence_window.at(now_ms))
    }

    /// S2 / S2b signature under key 0 (the marketplace's side, for tests
    /// and simulators): as [`crate::sign_v2`], keyed.
    pub fn sign_v2(&self, scheme: V2Scheme, body: &[u8], nonce: &str, timestamp: &str) -> FixedText<64> {
        sign_v2_keyed(scheme, self.signer(), body, nonce, timestamp)
    }

    /// The `Body-Sign` value (S3) of the exact bytes `body`, under key 0.
    pub fn body_sign(&self, body: &[u8]) -> FixedText<BODY_SIGN_VALUE_LEN> {
        body_sign_keyed(self.signer(), body)
    }

    /// The `Body-Sign` value (S3) of the exact bytes `body`, under the key
    /// at `key_index` (the one that verified the request:
    /// [`Verified::key_index`]). Errors: `NoAccessKey` when the context
    /// holds no key at `key_index`.
    pub fn body_sign_for(&self, key_index: usize, body: &[u8]) -> Result<FixedText<BODY_SIGN_VALUE_LEN>> {
        Ok(body_sign_keyed(self.signer_at(key_index)?, body))
    }

    /// Signs an answer the merchant wrote (S3, over exactly `body`), under
    /// key 0. An answer to a verified request: [`Merchant::sign_answer_for`].
    /// Errors: `MalformedEncoding` when `body` is not UTF-8.
    pub fn sign_answer<'o>(&self, body: &'o [u8]) -> Result<SignedAnswer<'o>> {
        self.sign_answer_for(0, body)
    }

    /// Signs an answer the merchant wrote (S3, over exactly `body`) under
    /// the key at `verified_key_index` — the one that verified the request
    /// ([`Verified::key_index`]): during a rotation the marketplace checks
    /// the answer's `Body-Sign` with the key it signed its request with
    /// (docs/SCHEMES.md §S3). Errors: `NoAccessKey` (no key at that index),
    /// `MalformedEncoding` when `body` is not UTF-8.
    pub fn sign_answer_for<'o>(&self, verified_key_index: usize, body: &'o [u8]) -> Result<SignedAnswer<'o>> {
        let key = self.signer_at(verified_key_index)?;
        let text = core::str::from_utf8(body).map_err(|_| Error::MalformedEncoding("answer body is not UTF-8"))?;
        Ok(SignedAnswer::from_parts(text, body_sign_keyed(key, body)))
    }

    /// The signed refusal of a rejected request: `{"resultCode":…,
    /// "resultMsg":…}` with the code of [`Rejection::result_code`] and its
    /// `Body-Sign` under key 0 (right for a refusal before authentication,
    /// when no key matched; one after it: [`Merchant::refusal_for`]).
    /// `out`: [`crate::REFUSAL_MAX_LEN`] bytes always suffice.
    /// Errors: `BufferTooSmall`.
    pub fn refusal<'o>(&self, rejection: &Rejection, out: &'o mut [u8]) -> Result<SignedAnswer<'o>> {
        self.answer_code(rejection.result_code(), out)
    }

    /// The signed refusal of a rejected request, as [`Merchant::refusal`],
    /// signed with the key that verified the request when it was refused
    /// after authentication ([`Rejection::key_index`]: a bad notification,
    /// an unknown activity, a missing field), and with key 0 when it was
    /// refused before (no key matched) or unread. `out`:
    /// [`crate::REFUSAL_MAX_LEN`] bytes always suffice. Errors:
    /// `BufferTooSmall`.
    pub fn refusal_for<'o>(&self, rejection: &Rejection, out: &'o mut [u8]) -> Result<SignedAnswer<'o>> {
        self.answer_code_for(rejection.key_index.unwrap_or(0), rejection.result_code(), out)
    }

    /// The signed bare answer of `code` (`000003` for an unknown instance,
    /// `000005` for a handler failure, ...), under key 0. An answer to a
    /// verified request: [`Merchant::answer_code_for`]. Errors:
    /// `BufferTooSmall`.
    pub fn answer_code<'o>(&self, code: ResultCode, out: &'o mut [u8]) -> Result<SignedAnswer<'o>> {
        self.answer_code_for(0, code, out)
    }

    /// The signed bare answer of `code`, under the key at
    /// `verified_key_index` (the one that verified the request,
    /// [`Verified::key_index`]). Errors: `NoAccessKey` (no key at that
    /// index), `BufferTooSmall`.
    pub fn answer_code_for<'o>(&self, verified_key_index: usize, code: ResultCode, out: &'o mut [u8]) -> Result<SignedAnswer<'o>> {
        let key = self.signer_at(verified_key_index)?;
        let body = write_refusal(code, out)?;
        let text = core::str::from_utf8(body).map_err(|_| Error::MalformedEncoding("answer body is not UTF-8"))?;
        Ok(SignedAnswer::from_parts(text, body_sign_keyed(key, body)))
    }

    /// Writes and signs an answer: `resultCode`, its `resultMsg`, then
    /// `instanceId`, `encryptType` (when `appInfo` or `info` is given) and
    /// `appInfo` / `info`, whose `userName` and `password` are encrypted
    /// with key 0's `encrypt_type` key and a fresh IV from `rng`
    /// (docs/SCHEMES.md §S4); the `Body-Sign` covers exactly the bytes
    /// written into `out`.
    ///
    /// Errors: `InputTooLarge { limit: 64 }` (an `instanceId` over 64
    /// characters), `InputTooLarge { limit: 128 }` (a secret over 79
    /// bytes), `RandomSource`, `BufferTooSmall { needed }`.
    pub fn respond<'o, R: rand_core::TryCryptoRng + ?Sized>(
        &self,
        answer: &Answer<'_>,
        encrypt_type: EncryptType,
        rng: &mut R,
        out: &'o mut [u8],
    ) -> Result<SignedAnswer<'o>> {
        self.respond_for(0, answer, encrypt_type, rng, out)
    }

    /// Writes and signs an answer as [`Merchant::respond`], with the key at
    /// `verified_key_index` — the one that verified the request
    /// ([`Verified::key_index`]) — for both the encryption of `userName`
    /// and `password` and the `Body-Sign`: during a rotation the
    /// marketplace decrypts and checks with the key it signed its request
    /// with (docs/SCHEMES.md §S3, §S4).
    ///
    /// Errors: `NoAccessKey` (no key at that index), then those of
    /// [`Merchant::respond`].
    pub fn respond_for<'o, R: rand_core::TryCryptoRng + ?Sized>(
        &self,
        verified_key_index: usize,
        answer: &Answer<'_>,
        encrypt_type: EncryptType,
        rng: &mut R,
        out: &'o mut [u8],
    ) -> Result<SignedAnswer<'o>> {
        let signer = self.signer_at(verified_key_index)?;
        let check_id = |id: &str| {
            if id.chars().count() > MAX_INSTANCE_ID {
                Err(Error::InputTooLarge { limit: MAX_INSTANCE_ID })
            } else {
                Ok(())
            }
        };
        let key = signer.cipher.key(encrypt_type);
        let mut w = JsonOut { buf: out, at: 0 };
        w.raw(b"{\"resultCode\":\"");
        w.raw(answer.result_code.as_str().as_bytes());
        w.raw(b"\"");
        w.member("resultMsg", answer.result_code.message());
        if let Some(id) = answer.instance_id {
            check_id(id)?;
            w.member("instanceId", id);
        }
        if answer.app_info.is_some() || !answer.info.is_empty() {
            w.member("encryptType", encrypt_type.as_str());
        }
        let mut app_info = |w: &mut JsonOut<'_>, a: &AppInfo<'_>| -> Result<()> {
            w.raw(b"{");
            let mut first = true;
            let mut put = |w: &mut JsonOut<'_>, name: &str, v: &str| {
                if !first {
                    w.raw(b",");
                }
                first = false;
                w.raw(b"\"");
                w.raw(name.as_bytes());
                w.raw(b"\":");
                w.string(v);
            };
            if let Some(v) = a.front_end_url {
                put(w, "frontEndUrl", v);
            }
            if let Some(v) = a.admin_url {
                put(w, "adminUrl", v);
            }
            for (name, secret) in [("userName", a.user_name), ("password", a.password)] {
                if let Some(plain) = secret {
                    let mut wire = [0u8; MAX_WIRE_LEN];
                    let text = key.encrypt(plain, rng, &mut wire)?;
                    put(w, name, text);
                }
            }
            if let Some(v) = a.memo {
                put(w, "memo", v);
            }
            w.raw(b"}");
            Ok(())
        };
        if let Some(a) = &answer.app_info {
            w.raw(b",\"appInfo\":");
            app_info(&mut w, a)?;
        }
        if !answer.info.is_empty() {
            w.raw(b",\"info\":[");
            for (i, (id, a)) in answer.info.iter().enumerate() {
                check_id(id)?;
                if i > 0 {
                    w.raw(b",");
                }
                w.raw(b"{\"instanceId\":");
                w.string(id);
                w.raw(b",\"appInfo\":");
                app_info(&mut w, a)?;
                w.raw(b"}");
            }
            w.raw(b"]");
        }
        w.raw(b"}");
        let needed = w.at;
        let out = w.buf;
        if needed > out.len() {
            return Err(Error::BufferTooSmall { needed });
        }
        let body: &'o [u8] = &out[..needed];
        self.sign_answer_for(verified_key_index, body)
    }

    /// Encrypts one field with key 0's `ty` key and a fresh IV from `rng`
    /// (docs/SCHEMES.md §S4), the precomputed schedule: as
    /// [`crate::encrypt_field`], keyed. `out`: at least
    /// [`crate::field::encrypt_out_len`] bytes (128 always suffice).
    pub fn encrypt<'o, R: rand_core::TryCryptoRng + ?Sized>(
        &self,
        plaintext: &str,
        ty: EncryptType,
        rng: &mut R,
        out: &'o mut [u8],
    ) -> Result<&'o str> {
        self.encrypt_for(0, plaintext, ty, rng, out)
    }

    /// Encrypts one field as [`Merchant::encrypt`], with the `ty` key of
    /// the access key at `verified_key_index` (the one that verified the
    /// request, [`Verified::key_index`]: the marketplace decrypts with the
    /// key it signed with). Errors: `NoAccessKey` (no key at that index),
    /// then those of [`Merchant::encrypt`].
    pub fn encrypt_for<'o, R: rand_core::TryCryptoRng + ?Sized>(
        &self,
        verified_key_index: usize,
        plaintext: &str,
        ty: EncryptType,
        rng: &mut R,
        out: &'o mut [u8],
    ) -> Result<&'o str> {
        self.signer_at(verified_key_index)?.cipher.key(ty).encrypt(plaintext, rng, out)
    }

    /// Decrypts an inbound field with key 0's precomputed AES keys (a
    /// verified request's fields: [`Verified::decrypt`], with the key that
    /// matched). As [`crate::decrypt_field`], keyed.
    pub fn decrypt<'o>(&self, wire: &str, mode: DecryptMode, out: &'o mut [u8]) -> Result<&'o str> {
        self.signer().cipher.decrypt(wire, mode, out)
    }
}

fn header<'a>(headers: &[(&'a str, &'a str)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(n, _)| n.trim().eq_ignore_ascii_case(name)).map(|(_, v)| v.trim())
}
