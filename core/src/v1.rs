//! S1 — V1 notifications: `authToken` over the query string (GET), and S1b,
//! the older licence "Kit" POST with the token in a header and the fields in
//! the JSON body (docs/SCHEMES.md §S1, §S1b; "item N" below is §S1's
//! numbered item N).

use crate::encoding::{b64_32, form_encode, Cursor, FixedText, Sink};
use crate::error::{Error, Result};
use crate::field::{decrypt_field, DecryptMode};
use crate::form::{parse_form, FormPairs, MAX_PARAMS};
use crate::mac::{check_keys, finish, hmac_two_part_key, match_keys, Keyed};
use crate::merchant::Replay;
use crate::time::{parse_v1_timestamp, Freshness, V1_DEFAULT_WINDOW_MS};

/// The prefix under which a V1 `authToken` is recorded in a replay store.
pub(crate) const V1_NONCE_TAG: &[u8] = b"v1:";

/// Name of the token parameter.
pub const AUTH_TOKEN: &str = "authToken";
/// Name of the V1 timestamp parameter (`yyyyMMddHHmmssSSS`, UTC).
pub const TIME_STAMP: &str = "timeStamp";

#[cfg(feature = "alloc")]
pub use crate::owned::build_v1_query_owned;

/// Bytes of scratch [`verify_v1_query`] and [`V1Params::parse`] need for a
/// query of `query_len` bytes (decoding never lengthens the text).
pub const fn query_scratch_len(query_len: usize) -> usize {
    query_len
}

/// Bytes of scratch [`verify_v1_json`] needs for a body of `body_len` bytes
/// and an `authToken` header of `auth_token_len` bytes (the token is stored
/// as the pair `authToken`, 9 bytes of name, beside the decoded members).
pub const fn json_scratch_len(body_len: usize, auth_token_len: usize) -> usize {
    body_len.saturating_add(auth_token_len).saturating_add(AUTH_TOKEN.len())
}

/// docs/SCHEMES.md §S1 item 10 (decision), the ambiguity refusal for a name: a
/// decoded `&` or `=` in a name could move a parameter boundary of the
/// canonical string.
pub(crate) fn check_name(name: &str) -> Result<()> {
    if name.bytes().any(|b| b == b'&' || b == b'=') {
        return Err(Error::Ambiguous("V1 parameter name contains `&` or `=`"));
    }
    Ok(())
}

/// docs/SCHEMES.md §S1 item 10 (decision), the ambiguity refusal for a value: a
/// decoded `&`, then zero or more bytes free of `&` and `=`, then `=` (the
/// text `&x=`, `x` possibly empty) would read as a parameter boundary.
/// Equivalently: an `=` anywhere after an `&` (the last `&` before that `=`
/// starts such a run), so one scan for the first `&` and one for a later `=`
/// decide it. `a+b c&d 客户` (no `=` after the `&`) and `a=b&c` are valid.
pub(crate) fn check_value(value: &str) -> Result<()> {
    let v = value.as_bytes();
    if let Some(amp) = v.iter().position(|&b| b == b'&') {
        if v[amp..].contains(&b'=') {
            return Err(Error::Ambiguous("V1 parameter value contains `&` followed by a name and `=`"));
        }
    }
    Ok(())
}

/// S1 item 10 over every decoded pair but `authToken` (its value is never
/// part of the canonical string, and a changed token is the MAC's to refuse
/// as `SignatureMismatch`). Repeated names are checked too.
fn check_unambiguous(pairs: &[(&str, &str)]) -> Result<()> {
    for &(n, v) in pairs {
        if n != AUTH_TOKEN {
            check_name(n)?;
            check_value(v)?;
        }
    }
    Ok(())
}

/// Java's `String.compareTo`: UTF-16 code units (byte order for ASCII).
pub(crate) fn java_cmp(a: &str, b: &str) -> core::cmp::Ordering {
    if a.is_ascii() && b.is_ascii() {
        a.as_bytes().cmp(b.as_bytes())
    } else {
        a.encode_utf16().cmp(b.encode_utf16())
    }
}

type Sorted<'a> = heapless::Vec<(&'a str, &'a str), MAX_PARAMS>;

/// docs/SCHEMES.md §S1 items 2–4: drop `authToken`, keep the first value of a repeated name,
/// sort by name in UTF-16 code-unit order (Java's `TreeMap<String, …>`).
fn canonical_order<'a>(pairs: &[(&'a str, &'a str)], skip_blank: bool) -> Result<Sorted<'a>> {
    let mut idx: heapless::Vec<(&'a str, &'a str, usize), MAX_PARAMS> = heapless::Vec::new();
    let mut all_ascii = true;
    for (i, &(n, v)) in pairs.iter().enumerate() {
        if n == AUTH_TOKEN || (skip_blank && v.trim().is_empty()) {
            continue;
        }
        all_ascii &= n.is_ascii();
        idx.push((n, v, i)).map_err(|_| Error::InputTooLarge { limit: MAX_PARAMS })?;
    }
    if all_ascii {
        // UTF-16 order is byte order for ASCII: checked once, not per comparison.
        idx.sort_unstable_by(|x, y| x.0.as_bytes().cmp(y.0.as_bytes()).then(x.2.cmp(&y.2)));
    } else {
        idx.sort_unstable_by(|x, y| java_cmp(x.0, y.0).then(x.2.cmp(&y.2)));
    }
    let mut out: Sorted<'a> = heapless::Vec::new();
    for (n, v, _) in idx {
        if out.last().map(|l| l.0) != Some(n) {
            // Cannot overflow: at most as many entries as `idx`.
            let _ = out.push((n, v));
        }
    }
    Ok(out)
}

/// docs/SCHEMES.md §S1 item 5: `name=value` joined with `&`.
fn write_canonical(sorted: &[(&str, &str)], sink: &mut impl Sink) {
    for (i, (n, v)) in sorted.iter().enumerate() {
        if i > 0 {
            sink.put(b"&");
        }
        sink.put(n.as_bytes());
        sink.put(b"=");
        sink.put(v.as_bytes());
    }
}

/// docs/SCHEMES.md §S1 items 6–7: b64(HMAC(access_key + timeStamp, canonical)).
fn token_for(sorted: &[(&str, &str)], access_key: &str, time_stamp: &str) -> [u8; 44] {
    let mut mac = hmac_two_part_key(access_key.as_bytes(), time_stamp.as_bytes());
    write_canonical(sorted, &mut mac);
    b64_32(&finish(mac))
}

fn first<'a>(pairs: &[(&'a str, &'a str)], name: &str) -> Option<&'a str> {
    pairs.iter().find(|(n, _)| *n == name).map(|(_, v)| *v)
}

/// Computes the `authToken` for a V1 notification (the marketplace's side).
///
/// `params` are the decoded parameters, `timeStamp` included (an
/// `authToken` among them is ignored); repeated names: the first wins.
/// Returns the 44-character Base64 token.
///
/// Errors: `MissingParameter("timeStamp")`, `NoAccessKey`,
/// `InputTooLarge` (more than 64 parameters).
pub fn v1_auth_token(params: &[(&str, &str)], access_key: &str) -> Result<FixedText<44>> {
    if access_key.is_empty() {
        return Err(Error::NoAccessKey);
    }
    let ts = first(params, TIME_STAMP).ok_or(Error::MissingParameter(TIME_STAMP))?;
    let sorted = canonical_order(params, false)?;
    Ok(FixedText::from_parts(&[&token_for(&sorted, access_key, ts)]))
}

/// Builds the query string the marketplace sends: `params` in the given
/// order, each name and value encoded as Java's `URLEncoder` does (space as
/// `+`), then `&authToken=…`. Written into `out`; returns the text.
///
/// Errors: those of [`v1_auth_token`], `InputTooLarge { limit: 64 }` when
/// the query would carry more than [`MAX_PARAMS`] pairs (`authToken`
/// included: more than [`verify_v1_query`] reads), and `BufferTooSmall { needed }`.
pub fn build_v1_query<'o>(params: &[(&str, &str)], access_key: &str, out: &'o mut [u8]) -> Result<&'o str> {
    let token = v1_auth_token(params, access_key)?;
    if params.iter().filter(|(n, _)| *n != AUTH_TOKEN).count() + 1 > MAX_PARAMS {
        return Err(Error::InputTooLarge { limit: MAX_PARAMS });
    }
    let mut c = Cursor::new(out);
    for (n, v) in params.iter().filter(|(n, _)| *n != AUTH_TOKEN) {
        form_encode(n.as_bytes(), &mut c);
        c.put(b"=");
        form_encode(v.as_bytes(), &mut c);
        c.put(b"&");
    }
    c.put(AUTH_TOKEN.as_bytes());
    c.put(b"=");
    form_encode(token.as_bytes(), &mut c);
    c.finish_str()
}

/// A V1 request taken apart, before or after verification: the decoded
/// parameters, the canonical order and the received token.
#[derive(Clone)]
pub struct V1Params<'s> {
    // Only the canonical pairs are kept (a pair list is 2 KiB: every copy
    // of this struct costs as much as the HMAC of a short query).
    sorted: Sorted<'s>,
    auth_token: &'s str,
    time_stamp: &'s str,
}

impl core::fmt::Debug for V1Params<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("V1Params").field("params", &self.sorted.len()).finish_non_exhaustive()
    }
}

impl<'s> V1Params<'s> {
    /// Parses a V1 query string (docs/SCHEMES.md §S1 items 1–4) into `scratch`, which must be
    /// at least `query.len()` bytes. A leading URL up to `?` is not allowed
    /// here: pass [`crate::query_of`]'s result.
    ///
    /// The ambiguity refusal (docs/SCHEMES.md §S1 item 10) is applied here, so no
    /// `V1Params` (and no canonical string or expected token) exists for an
    /// ambiguous request: a decoded name containing `&` or `=`, or a decoded
    /// value containing `&` followed by zero or more characters free of `&`
    /// and `=` and then `=` (`L1&testFlag=1`, `x&=`), is refused. Every pair
    /// but `authToken` is checked, repeated names included.
    ///
    /// Errors: as [`parse_form`], then `MissingParameter` for `authToken` or
    /// `timeStamp`, then `Ambiguous`.
    pub fn parse(query: &str, scratch: &'s mut [u8]) -> Result<Self> {
        let pairs = parse_form(query, scratch)?;
        Self::from_pairs(pairs, false)
    }

    fn from_pairs(pairs: FormPairs<'s>, skip_blank: bool) -> Result<Self> {
        let auth_token = pairs.get(AUTH_TOKEN).ok_or(Error::MissingParameter(AUTH_TOKEN))?;
        let time_stamp = pairs.get(TIME_STAMP).ok_or(Error::MissingParameter(TIME_STAMP))?;
        check_unambiguous(pairs.as_slice())?;
        let sorted = canonical_order(pairs.as_slice(), skip_blank)?;
        Ok(V1Params { sorted, auth_token, time_stamp })
    }

    /// The canonical string (docs/SCHEMES.md §S1 item 5) into `out`.
    pub fn canonical<'o>(&self, out: &'o mut [u8]) -> Result<&'o str> {
        let mut c = Cursor::new(out);
        write_canonical(&self.sorted, &mut c);
        c.finish_str()
    }

    /// Length in bytes of the canonical string.
    pub fn canonical_len(&self) -> usize {
        let mut c = crate::encoding::Counter(0);
        write_canonical(&self.sorted, &mut c);
        c.0
    }

    /// The raw `timeStamp` value.
    pub fn time_stamp(&self) -> &'s str {
        self.time_stamp
    }

    /// The received token after form-decoding (before the space-as-plus
    /// repair). Not secret, but it is what an attacker controls.
    pub fn received_auth_token(&self) -> &'s str {
        self.auth_token
    }

    /// The token expected under `access_key` (for diagnostics).
    pub fn expected_auth_token(&self, access_key: &str) -> FixedText<44> {
        FixedText::from_parts(&[&token_for(&self.sorted, access_key, self.time_stamp)])
    }

    /// S1 steps 7–9: checks the token against each key (space read as `+`,
    /// constant-time compare), the freshness window (unless
    /// [`Freshness::Unchecked`]), then the replay step `replay`
    /// ([`Replay::Store`] records the token; [`Replay::Deferred`] leaves it to
    /// the caller: [`VerifiedV1::replay_key`] until
    /// [`VerifiedV1::replay_expires_ms`]; [`Replay::Unchecked`] skips it).
    ///
    /// Replay (docs/SCHEMES.md §S1 item 8, decision): the nonce is the received
    /// token *after* the space-as-plus repair, tagged `v1:` (the 47 bytes
    /// `b"v1:" + token`, so V1 tokens and V2 nonces never collide in a shared
    /// store), kept until `timeStamp` + window, the window being
    /// the freshness's `window_ms`, or [`V1_DEFAULT_WINDOW_MS`] with
    /// [`Freshness::Unchecked`].
    /// A byte-for-byte replay, one with the token's `+` sent raw (a space
    /// once decoded) or as `%2B`, and one with the parameters in another
    /// order are all one nonce: `ReplayedNonce`. The store is touched only
    /// after the MAC and the window pass, so a forgery never fills it.
    /// With [`Freshness::Unchecked`] the store is given the request's own
    /// `timeStamp` as "now" (the core has no clock): pass a checked
    /// [`Freshness`] with the store for replay protection that does not
    /// depend on the store's eviction.
    ///
    /// Errors: `BadTimestamp` (not 17 digits / not a date), `NoAccessKey`,
    /// `SignatureMismatch`, `StaleTimestamp`, `ReplayedNonce`, `NonceStoreFull`,
    /// `StoreUnavailable`.
    pub fn verify<'k>(
        self,
        access_keys: &[&'k str],
        freshness: Freshness,
        replay: Replay<'_>,
    ) -> Result<VerifiedV1<'s, 'k>> {
        check_keys(access_keys)?;
        self.verify_keyed(access_keys.iter().copied(), freshness, replay)
    }

    /// [`V1Params::verify`] over any key set (the merchant context's keys).
    pub(crate) fn verify_keyed<'k, K: Keyed + ?Sized + 'k>(
        self,
        access_keys: impl Iterator<Item = &'k K> + Clone,
        freshness: Freshness,
        replay: Replay<'_>,
    ) -> Result<VerifiedV1<'s, 'k>> {
        let ts_ms = parse_v1_timestamp(self.time_stamp)?;
        let mut received = [0u8; 44];
        let tok = self.auth_token.as_bytes();
        let matched = if tok.len() == received.len() {
            for (r, &b) in received.iter_mut().zip(tok) {
                *r = if b == b' ' { b'+' } else { b };
            }
            match_keys(access_keys.clone(), &received, |k| token_for(&self.sorted, k.key(), self.time_stamp))
        } else {
            Err(Error::SignatureMismatch)
        };
        let key_index = matched?;
        freshness.check(ts_ms)?;
        let (now, replay_expires_ms) = freshness.replay_times(ts_ms, V1_DEFAULT_WINDOW_MS);
        replay.record(&replay_key(self.auth_token), now, replay_expires_ms)?;
        let access_key = access_keys.clone().nth(key_index).map_or("", |k| k.key());
        Ok(VerifiedV1 { params: self, key_index, access_key, time_stamp_ms: ts_ms, replay_expires_ms })
    }
}

/// Verifies a V1 notification's query string (docs/SCHEMES.md §S1) in one call.
///
/// `query` is the raw query (no `?` needed; use [`crate::query_of`] for a
/// URL). `scratch` must be at least `query.len()` bytes; the returned view
/// borrows it. `freshness`: a checked window |now − timeStamp| ≤ window
/// (endpoints: [`V1_DEFAULT_WINDOW_MS`], docs/SCHEMES.md §S1 item 8), or
/// [`Freshness::Unchecked`] by name (the guide documents none). `replay`:
/// [`Replay::Store`] records the token as the replay nonce,
/// [`Replay::Deferred`] leaves that to the caller, [`Replay::Unchecked`]
/// skips it (see [`V1Params::verify`]).
///
/// Order: parsing, the ambiguity refusal (docs/SCHEMES.md §S1 item 10, see
/// [`V1Params::parse`]), the MAC, the window, the replay store.
///
/// Errors: `BufferTooSmall`, `MalformedEncoding`, `InputTooLarge`,
/// `MissingParameter`, `Ambiguous`, `BadTimestamp`, `NoAccessKey`,
/// `SignatureMismatch`, `StaleTimestamp`, `ReplayedNonce`, `NonceStoreFull`,
/// `StoreUnavailable`.
pub fn verify_v1_query<'s, 'k>(
    query: &str,
    access_keys: &[&'k str],
    freshness: Freshness,
    replay: Replay<'_>,
    scratch: &'s mut [u8],
) -> Result<VerifiedV1<'s, 'k>> {
    V1Params::parse(query, scratch)?.verify(access_keys, freshness, replay)
}

/// S1b: verifies an old licence "Kit" POST: `auth_token` from its header,
/// the parameters are the top-level members of the JSON `body`,
/// `timeStamp` read from the body; same formula as S1.
///
/// The body must be a flat JSON object whose members are all strings, each
/// name once (docs/SCHEMES.md §S1b, decision), read strictly (RFC 8259, checked
/// iteratively first, nested at most 64 deep: this runs before the token is
/// checked, so it is bounded and never recurses). Members with a blank
/// string value (empty or whitespace only) are left out of the canonical
/// string as the spec says: such members are *tolerated* outside the
/// signed set (they carry no text). Names and values of the signed members
/// obey the S1 item 10 ambiguity refusal; names of blank members too.
///
/// `scratch` must be at least `body.len() + auth_token.len() + 9` bytes.
///
/// Errors: as [`verify_v1_query`], and
/// * `MalformedEncoding` for a body that is not strict JSON, not an object,
///   or has a member that is a number, boolean, `null`, object or array, or
///   a name given twice (escapes decoded before comparing) — each with its
///   own text;
/// * `Ambiguous` for a body member named `authToken` (it would sit outside
///   the signed set next to the header's token) and for the S1 item 10 rule;
/// * `InputTooLarge { limit: 64 }` for more than 63 members (the header's
///   token is the 64th pair).
pub fn verify_v1_json<'s, 'k>(
    auth_token: &str,
    body: &[u8],
    access_keys: &[&'k str],
    freshness: Freshness,
    replay: Replay<'_>,
    scratch: &'s mut [u8],
) -> Result<VerifiedV1<'s, 'k>> {
    let pairs = crate::notification::top_level_fields(body, auth_token, scratch)?;
    V1Params::from_pairs(pairs, true)?.verify(access_keys, freshness, replay)
}

/// [`verify_v1_json`] over any key set (the merchant context's keys).
pub(crate) fn verify_v1_json_keyed<'s, 'k, K: Keyed + ?Sized + 'k>(
    auth_token: &str,
    body: &[u8],
    access_keys: impl Iterator<Item = &'k K> + Clone,
    freshness: Freshness,
    replay: Replay<'_>,
    scratch: &'s mut [u8],
) -> Result<VerifiedV1<'s, 'k>> {
    let pairs = crate::notification::top_level_fields(body, auth_token, scratch)?;
    V1Params::from_pairs(pairs, true)?.verify_keyed(access_keys, freshness, replay)
}

/// A verified V1 notification: its decoded parameters, the index of the
/// access key that matched, and field decryption with that key.
#[derive(Clone)]
pub struct VerifiedV1<'s, 'k> {
    params: V1Params<'s>,
    key_index: usize,
    access_key: &'k str,
    time_stamp_ms: u64,
    replay_expires_ms: u64,
}

/// The replay-store key of a V1 / S1b token (docs/SCHEMES.md §S1 item 8):
/// `v1:` + the received token with a space read as `+` (47 bytes; a token
/// of another length is never verified).
pub(crate) fn replay_key(auth_token: &str) -> [u8; 3 + 44] {
    let mut key = [0u8; 3 + 44];
    key[..3].copy_from_slice(V1_NONCE_TAG);
    for (k, b) in key[3..].iter_mut().zip(auth_token.bytes()) {
        *k = if b == b' ' { b'+' } else { b };
    }
    key
}

impl core::fmt::Debug for VerifiedV1<'_, '_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("VerifiedV1")
            .field("activity", &self.get("activity"))
            .field("key_index", &self.key_index)
            .finish_non_exhaustive()
    }
}

impl<'s, 'k> VerifiedV1<'s, 'k> {
    /// The first value of parameter `name` (authToken included; in S1b,
    /// blank fields are not parameters).
    pub fn get(&self, name: &str) -> Option<&'s str> {
        if name == AUTH_TOKEN {
            return Some(self.params.auth_token);
        }
        first(&self.params.sorted, name)
    }

    /// The signed parameters in canonical order (first value of each name,
    /// `authToken` excluded).
    pub fn params(&self) -> &[(&'s str, &'s str)] {
        &self.params.sorted
    }

    /// `activity`, if present.
    pub fn activity(&self) -> Option<&'s str> {
        self.get("activity")
    }

    /// Index into the access keys given of the one that matched.
    pub fn key_index(&self) -> usize {
        self.key_index
    }

    /// `timeStamp` as Unix milliseconds.
    pub fn time_stamp_ms(&self) -> u64 {
        self.time_stamp_ms
    }

    /// The key this request is (with [`Replay::Store`]) or is to be (with
    /// [`Replay::Deferred`]) recorded under in a replay store: the 47 bytes
    /// `v1:` + the token with a space read as `+` (docs/SCHEMES.md §S1
    /// item 8). The same key as [`crate::merchant::Verified::replay_key`].
    pub fn replay_key(&self) -> [u8; 3 + 44] {
        replay_key(self.params.auth_token)
    }

    /// Until when (Unix ms) the replay key must be remembered: `timeStamp`
    /// plus the freshness window, or plus [`V1_DEFAULT_WINDOW_MS`] with
    /// [`Freshness::Unchecked`].
    pub fn replay_expires_ms(&self) -> u64 {
        self.replay_expires_ms
    }

    /// Decrypts parameter `name` (e.g. `mobilePhone`, `email`) with the
    /// matched access key (docs/SCHEMES.md §S4). Errors: `MissingParameter` if absent, then
    /// those of [`decrypt_field`].
    pub fn decrypt_param<'o>(&self, name: &'static str, mode: DecryptMode, out: &'o mut [u8]) -> Result<&'o str> {
        let wire = self.get(name).ok_or(Error::MissingParameter(name))?;
        decrypt_field(wire, self.access_key, mode, out)
    }
}
