//! S2 — V2 notifications (`signature`, `timestamp`, `nonce` query
//! parameters over the raw body) and S2b — kit `x-sign` headers
//! (docs/SCHEMES.md §S2, §S2b).

use crate::encoding::{hex32_lower, hex32_upper, hex_decode_32_public, FixedText};
use crate::error::{Error, Result};
use crate::field::{decrypt_field, DecryptMode};
use crate::form::parse_form;
use crate::mac::{check_keys, finish, hmac, match_keys, update_joined, Keyed, OneShotKey, BLOCK};
use crate::merchant::Replay;
use crate::notification::Notification;
use crate::time::{parse_unix_ms, Freshness, DEFAULT_WINDOW_MS};
use hmac::Mac;

/// Longest `nonce` accepted, in bytes.
pub const MAX_NONCE_LEN: usize = 256;

/// Bytes of scratch [`V2Auth::from_query`] needs for a query of
/// `query_len` bytes (decoding never lengthens the text).
pub const fn query_scratch_len(query_len: usize) -> usize {
    query_len
}

/// Which V2 formula, named by the wire shape that carries it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum V2Scheme {
    /// S2: `HEX(HMAC(k, k + nonce + timestamp + hex(HMAC(k, body))))`,
    /// in the query parameters `signature`, `timestamp`, `nonce`.
    /// (Called `Basic` before 0.2.)
    Query,
    /// S2b: `HEX(HMAC(k, k + nonce + timestamp + body))`, in the headers
    /// `x-sign`, `x-timestamp`, `x-nonce`. (Called `Kit` before 0.2.)
    Headers,
}

/// The authentication values of a V2 request.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct V2Auth<'a> {
    /// `signature` / `x-sign`: 64 hex digits, either case.
    pub signature: &'a str,
    /// `timestamp` / `x-timestamp`: Unix milliseconds, exactly 13 digits
    /// without a leading zero ([`parse_unix_ms`]).
    pub timestamp: &'a str,
    /// `nonce` / `x-nonce`: 1 to 256 printable ASCII characters without
    /// space (`!` to `~`).
    pub nonce: &'a str,
}

impl core::fmt::Debug for V2Auth<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("V2Auth").field("timestamp", &self.timestamp).field("nonce", &self.nonce).finish_non_exhaustive()
    }
}

impl<'a> V2Auth<'a> {
    /// The key this request is (with [`Replay::Store`]) or is to be (with
    /// [`Replay::Deferred`]) recorded under in a replay store: the nonce's
    /// raw bytes (docs/SCHEMES.md §S2). The same key as
    /// [`crate::merchant::Verified::replay_key`].
    pub fn replay_key(&self) -> &'a [u8] {
        self.nonce.as_bytes()
    }

    /// Takes `signature`, `timestamp` and `nonce` (first values) from a
    /// query string, decoded into `scratch` (at least `query.len()` bytes).
    /// Errors: those of [`parse_form`], `MissingParameter`.
    pub fn from_query(query: &str, scratch: &'a mut [u8]) -> Result<Self> {
        let p = parse_form(query, scratch)?;
        Ok(V2Auth {
            signature: p.get("signature").ok_or(Error::MissingParameter("signature"))?,
            timestamp: p.get("timestamp").ok_or(Error::MissingParameter("timestamp"))?,
            nonce: p.get("nonce").ok_or(Error::MissingParameter("nonce"))?,
        })
    }

    /// Takes `x-sign`, `x-timestamp`, `x-nonce` from headers (names
    /// compared case-insensitively; the first of a repeated name wins).
    /// Errors: `MissingParameter`.
    pub fn from_headers(headers: &[(&'a str, &'a str)]) -> Result<Self> {
        let h = |name: &'static str| {
            headers
                .iter()
                .find(|(n, _)| header_is(n, name))
                .map(|(_, v)| v.trim())
                .ok_or(Error::MissingParameter(name))
        };
        Ok(V2Auth { signature: h("x-sign")?, timestamp: h("x-timestamp")?, nonce: h("x-nonce")? })
    }
}

/// `n.trim().eq_ignore_ascii_case(name)` for a `name` of ASCII letters and
/// `-` (no whitespace), without trimming (Unicode whitespace, char by char)
/// every header name: one of the same length compares at once (trimming
/// could only shorten it, and then it cannot match), a shorter one never
/// matches; a longer one can match only once trimmed, so only one that
/// starts or ends with a byte that may be whitespace (ASCII whitespace as
/// `char::is_whitespace` has it, or any non-ASCII byte) is trimmed.
fn header_is(n: &str, name: &str) -> bool {
    let may_be_space = |c: u8| matches!(c, 0x09..=0x0d | b' ') || !c.is_ascii();
    let b = n.as_bytes();
    match n.len().cmp(&name.len()) {
        core::cmp::Ordering::Equal => n.eq_ignore_ascii_case(name),
        core::cmp::Ordering::Less => false,
        core::cmp::Ordering::Greater => {
            (may_be_space(b[0]) || may_be_space(b[b.len() - 1])) && n.trim().eq_ignore_ascii_case(name)
        }
    }
}

/// `hex(HMAC(access_key, body))`, lower case: S2's inner hash.
pub fn v2_inner(body: &[u8], access_key: &str) -> FixedText<64> {
    FixedText::from_parts(&[&hex32_lower(&hmac(access_key.as_bytes(), body))])
}

/// The S2 / S2b MAC under one keyed access key (the one-shot functions key
/// it per call, the merchant context holds it precomputed): the message
/// `key ‖ nonce ‖ timestamp ‖ tail` (tail: S2 the inner hex, S2b the body)
/// absorbed in as few updates as possible ([`update_joined`]). A key of a
/// block or more starts from the state that has absorbed it
/// ([`Keyed::mac_after_key`], a compression saved in the context); a
/// shorter one is staged with the nonce and the timestamp.
pub(crate) fn v2_mac(scheme: V2Scheme, key: &impl Keyed, body: &[u8], nonce: &str, timestamp: &str) -> [u8; 32] {
    let inner_hex;
    let tail: &[u8] = match scheme {
        V2Scheme::Query => {
            let mut inner = key.mac();
            inner.update(body);
            inner_hex = hex32_lower(&finish(inner));
            &inner_hex
        }
        V2Scheme::Headers => body,
    };
    let parts = [nonce.as_bytes(), timestamp.as_bytes()];
    let k = key.key_bytes();
    let mac = if k.len() >= BLOCK {
        let mut mac = key.mac_after_key();
        update_joined(&mut mac, k.len(), &[], &parts, tail);
        mac
    } else {
        let mut mac = key.mac();
        update_joined(&mut mac, 0, k, &parts, tail);
        mac
    };
    finish(mac)
}

pub(crate) fn sign_v2_keyed(scheme: V2Scheme, key: &impl Keyed, body: &[u8], nonce: &str, timestamp: &str) -> FixedText<64> {
    FixedText::from_parts(&[&hex32_upper(&v2_mac(scheme, key, body, nonce, timestamp))])
}

/// Computes a V2 signature (the marketplace's side), upper-case hex, as the
/// SaaS notifications send it. Errors: `NoAccessKey`.
pub fn sign_v2(scheme: V2Scheme, body: &[u8], access_key: &str, nonce: &str, timestamp: &str) -> Result<FixedText<64>> {
    if access_key.is_empty() {
        return Err(Error::NoAccessKey);
    }
    Ok(sign_v2_keyed(scheme, &OneShotKey::new(access_key), body, nonce, timestamp))
}

/// The S2 nonce rule (docs/SCHEMES.md §S2 decision): 1 to [`MAX_NONCE_LEN`]
/// bytes, each printable ASCII without space (0x21..=0x7E).
///
/// Returns whether the nonce holds a `{` (the kit rule, [`check_kit`]),
/// found in the same pass.
fn check_nonce(scheme: V2Scheme, nonce: &str) -> Result<bool> {
    if nonce.is_empty() {
        return Err(Error::MissingParameter(if scheme == V2Scheme::Headers { "x-nonce" } else { "nonce" }));
    }
    if nonce.len() > MAX_NONCE_LEN {
        return Err(Error::InputTooLarge { limit: MAX_NONCE_LEN });
    }
    // A fold without early exit (vectorised): the same verdict as `all`
    // (and `contains('{')` for the second flag).
    let (graphic, brace) = nonce.bytes().fold((true, false), |(ok, br), b| (ok & b.is_ascii_graphic(), br | (b == b'{')));
    if !graphic {
        return Err(Error::MalformedEncoding("nonce must be printable ASCII"));
    }
    Ok(brace)
}

/// S2b: the body must start with `{` and the nonce must not contain `{`
/// (`nonce_has_brace`, from [`check_nonce`]), so that the undelimited kit
/// string splits one way only (see [`verify_v2`]).
fn check_kit(nonce_has_brace: bool, body: &[u8]) -> Result<()> {
    match body.first() {
        Some(b'{') => {}
        Some(b) if b.is_ascii_digit() => return Err(Error::Ambiguous("kit body starts with a digit")),
        _ => return Err(Error::Ambiguous("kit body must start with `{`")),
    }
    if nonce_has_brace {
        return Err(Error::Ambiguous("kit nonce contains `{`"));
    }
    Ok(())
}

/// Verifies a V2 (S2) or kit (S2b) notification.
///
/// `body` is the exact bytes received. Order of checks: format, then the
/// signature against every key (case-insensitive hex, constant time), then
/// freshness (S2 requires ±60 s, [`Freshness::new`]; [`Freshness::Unchecked`]
/// skips it by name), then the replay step (only for a verified request, so
/// forgeries cannot fill a store; a nonce is kept until its timestamp leaves
/// the window): [`Replay::Store`] records [`V2Auth::replay_key`],
/// [`Replay::Deferred`] leaves that to the caller (until
/// [`VerifiedV2::replay_expires_ms`]), [`Replay::Unchecked`] skips it.
///
/// The format rules (docs/SCHEMES.md §S2 decisions) make the undelimited signed
/// string `key + nonce + timestamp + …` read one way only:
/// * `timestamp` is exactly 13 ASCII digits without a leading zero
///   ([`parse_unix_ms`]), so no digit can move between nonce and timestamp
///   (and a replay with a shifted digit is refused before the nonce store
///   is consulted);
/// * `nonce` is 1 to 256 printable ASCII characters without space;
/// * S2b only: the body must start with `{` and the nonce must not contain
///   `{`. The kit string `… + nonce + timestamp + body` has no delimiter: a
///   body starting with a digit would let that digit move into the
///   timestamp, and a 13-digit run inside the nonce or the body could become
///   the timestamp of another split (`"sentAt":"1680…"`). In any split the
///   body must start with `{`; a second split would start it inside the old
///   nonce (which has no `{`) or inside the timestamp (digits), so the split
///   is unique (docs/SCHEMES.md §S2b). (S2 signs the 64-hex inner MAC, never
///   the body, there.)
///
/// Errors: `BadTimestamp`, `MissingParameter("nonce" | "x-nonce")` (empty
/// nonce), `InputTooLarge { limit: 256 }` (nonce over 256 bytes),
/// `MalformedEncoding("nonce must be printable ASCII")`,
/// `Ambiguous("kit body starts with a digit" | "kit body must start with `{`"
/// | "kit nonce contains `{`")` (S2b), `NoAccessKey`,
/// `SignatureMismatch`, `StaleTimestamp`, `ReplayedNonce`, `NonceStoreFull`,
/// `StoreUnavailable`.
pub fn verify_v2<'a, 'k>(
    scheme: V2Scheme,
    auth: &V2Auth<'_>,
    body: &'a [u8],
    access_keys: &[&'k str],
    freshness: Freshness,
    replay: Replay<'_>,
) -> Result<VerifiedV2<'a, 'k>> {
    let (key_index, timestamp_ms, replay_expires_ms) = verify_v2_keyed(
        scheme,
        auth,
        body,
        || {
            check_keys(access_keys)?;
            Ok(access_keys.iter().map(|k| OneShotKey::new(k)))
        },
        freshness,
        replay,
    )?;
    Ok(VerifiedV2 { body, key_index, access_key: access_keys[key_index], timestamp_ms, replay_expires_ms })
}

/// The checks of [`verify_v2`] in their order, over any keyed key set
/// (`keys` is called once the format is checked); returns the matched
/// key's index, the timestamp and the replay key's expiry in Unix ms.
pub(crate) fn verify_v2_keyed<K: Keyed, I: Iterator<Item = K>>(
    scheme: V2Scheme,
    auth: &V2Auth<'_>,
    body: &[u8],
    keys: impl FnOnce() -> Result<I>,
    freshness: Freshness,
    replay: Replay<'_>,
) -> Result<(usize, u64, u64)> {
    let ts_ms = parse_unix_ms(auth.timestamp)?;
    let nonce_has_brace = check_nonce(scheme, auth.nonce)?;
    if scheme == V2Scheme::Headers {
        check_kit(nonce_has_brace, body)?;
    }
    let keys = keys()?;
    // The received signature is public: decoded (64 hex digits, either
    // case, as base16ct::mixed reads them), then the raw MACs compared in
    // constant time, without encoding the expected MAC.
    let Some(received) = hex_decode_32_public(auth.signature.as_bytes()) else {
        return Err(Error::SignatureMismatch);
    };
    let key_index = match_keys(keys, &received, |k| v2_mac(scheme, k, body, auth.nonce, auth.timestamp))?;
    freshness.check(ts_ms)?;
    let (now, expires_ms) = freshness.replay_times(ts_ms, DEFAULT_WINDOW_MS);
    replay.record(auth.replay_key(), now, expires_ms)?;
    Ok((key_index, ts_ms, expires_ms))
}

/// A verified V2 notification: the exact body, the matched key's index,
/// and what may be done only after verification (parse, decrypt).
#[derive(Clone)]
pub struct VerifiedV2<'a, 'k> {
    body: &'a [u8],
    key_index: usize,
    access_key: &'k str,
    timestamp_ms: u64,
    replay_expires_ms: u64,
}

impl core::fmt::Debug for VerifiedV2<'_, '_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("VerifiedV2")
            .field("body_len", &self.body.len())
            .field("key_index", &self.key_index)
            .field("timestamp_ms", &self.timestamp_ms)
            .finish_non_exhaustive()
    }
}

impl<'a, 'k> VerifiedV2<'a, 'k> {
    pub(crate) fn new(
        body: &'a [u8],
        key_index: usize,
        access_key: &'k str,
        timestamp_ms: u64,
        replay_expires_ms: u64,
    ) -> Self {
        VerifiedV2 { body, key_index, access_key, timestamp_ms, replay_expires_ms }
    }

    /// The exact body bytes that were verified.
    pub fn body(&self) -> &'a [u8] {
        self.body
    }

    /// Index into the access keys given of the one that matched.
    pub fn key_index(&self) -> usize {
        self.key_index
    }

    /// The request's timestamp, Unix ms.
    pub fn timestamp_ms(&self) -> u64 {
        self.timestamp_ms
    }

    /// Until when (Unix ms) the nonce ([`V2Auth::replay_key`]) must be
    /// remembered: the timestamp plus the freshness window, or plus
    /// [`DEFAULT_WINDOW_MS`] with [`Freshness::Unchecked`].
    pub fn replay_expires_ms(&self) -> u64 {
        self.replay_expires_ms
    }

    /// Parses the verified body as a notification. Errors: `MalformedEncoding`.
    pub fn notification(&self) -> Result<Notification<'a>> {
        Notification::parse(self.body)
    }

    /// Decrypts an inbound field value taken from this verified body, with
    /// the matched key. Errors: those of [`decrypt_field`].
    pub fn decrypt_field<'o>(&self, wire: &str, mode: DecryptMode, out: &'o mut [u8]) -> Result<&'o str> {
        decrypt_field(wire, self.access_key, mode, out)
    }
}

#[cfg(test)]
mod header_is_equivalence {
    extern crate std;
    use super::header_is;
    use proptest::prelude::*;
    use proptest::sample::select;

    const PIECES: &[&str] = &[
        "x-sign", "X-SIGN", "x-Sign", "x-timestamp", "X-Timestamp", "x-nonce", "X-NONCE", "x", "-", "s", "ſ", "K", "\u{212a}",
        " ", "\t", "\n", "\r", "\u{b}", "\u{c}", "\u{85}", "\u{a0}", "\u{1680}", "\u{2000}", "\u{2028}", "\u{3000}", "\u{feff}",
        "\u{200b}", "é", "\0", "x-sig", "n", "nonce", "",
    ];

    proptest! {
        #![proptest_config(ProptestConfig { cases: 4096, ..ProptestConfig::default() })]
        /// The former comparison is the oracle, on names built from the
        /// wanted ones, ASCII and Unicode whitespace (and look-alikes).
        #[test]
        fn same_as_trim_then_compare(parts in proptest::collection::vec(select(PIECES), 0..5), name in select(&["x-sign", "x-timestamp", "x-nonce"][..])) {
            let n: std::string::String = parts.concat();
            prop_assert_eq!(header_is(&n, name), n.trim().eq_ignore_ascii_case(name), "{:?}", n);
        }
    }

    #[test]
    fn hostile_names() {
        for n in ["x-sign", "X-SIGN", " x-sign", "x-sign ", "\u{b}x-sign", "x-sign\u{c}", "\u{85}x-sign", "x-sign\u{2029}", "x-signx-sign", "content-type", "\u{a0}x-sign\u{3000}", "\tX-Sign\n", " x-sig", "x-sig", "x-signs", "x-ſign", "x\u{200b}-sign", ""] {
            assert_eq!(header_is(n, "x-sign"), n.trim().eq_ignore_ascii_case("x-sign"), "{n:?}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &[u8] = br#"{"activity":"newInstance","businessId":"87b94795-0603-4e24-8ae5-69420d60e3c8","orderId":"CS2211181819B4LVS","orderLineId":"CS2211181819B4LVS-000001","testFlag":"1"}"#;
    const NONCE: &str = "50D83FDECAED6CCD8EF597F2A577950527928BA287D04E6036E92B2806FD17DA";

    #[test]
    fn spec_vectors() {
        assert_eq!(v2_inner(BODY, "testAccessKey123").as_str(), "9d7fe05c22e8bc1d70841bace6c549b523dcb77a8aa61dc0118708bf14269c0e");
        let s = sign_v2(V2Scheme::Query, BODY, "testAccessKey123", NONCE, "1680508066618").unwrap();
        assert_eq!(s.as_str(), "CD8D59BB7FCF7574752B5EB0ED04B3ACF4A759DA53F24D30A79ABE45C5D1BA25");
        let k = sign_v2(V2Scheme::Headers, BODY, "testAccessKey123", NONCE, "1680508066618").unwrap();
        assert_eq!(k.as_str(), "ABB44B4C7A867A9F5EB8D9B7D9DF42E804FF66BC084EE412C49CFAFBFD5D8BE6");
        let lower = "cd8d59bb7fcf7574752b5eb0ed04b3acf4a759da53f24d30a79abe45c5d1ba25";
        let auth = V2Auth { signature: lower, timestamp: "1680508066618", nonce: NONCE };
        let v = verify_v2(V2Scheme::Query, &auth, BODY, &["old", "testAccessKey123"], Freshness::Unchecked, Replay::Unchecked).unwrap();
        assert_eq!(v.key_index(), 1);
        assert_eq!(Notification::text(&v.notification().unwrap().order_id), Some("CS2211181819B4LVS"));
    }
}
