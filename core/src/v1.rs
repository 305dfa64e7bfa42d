//! S1 — V1 notifications: `authToken` over the query string (GET), and S1b,
//! the older licence "Kit" POST with the token in a header and the fields in
//! the JSON body (docs/SCHEMES.md §S1, §S1b; "item N" below is §S1's
//! numbered item N).

use crate::encoding::{b64_32, b64_decode_32_public, form_encode, Cursor, FixedText, Sink};
use crate::error::{Error, Result};
use crate::field::{decrypt_field, DecryptMode};
use crate::form::{PairRange, MAX_PARAMS};
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
/// Written into `out` (cleared first), so the pair list is never moved.
fn canonical_order_into<'a>(pairs: &[(&'a str, &'a str)], skip_blank: bool, out: &mut Sorted<'a>) -> Result<()> {
    out.clear();
    // The kept pairs in order received, and their order as indices (a
    // stable sort: equal names keep their order, the first one wins).
    let mut kept: Sorted<'a> = heapless::Vec::new();
    let mut all_ascii = true;
    for &(n, v) in pairs {
        if n == AUTH_TOKEN || (skip_blank && v.trim().is_empty()) {
            continue;
        }
        all_ascii &= n.is_ascii();
        kept.push((n, v)).map_err(|_| Error::InputTooLarge { limit: MAX_PARAMS })?;
    }
    sort_dedup(&kept, None, all_ascii, out);
    Ok(())
}

/// The first 7 bytes of `name`, big-endian, zero-padded, shifted left by
/// 8 bits: a ≤ b (bytes) implies key(a) ≤ key(b), so unequal keys order
/// two names alone; the low byte is left for the index.
#[inline]
fn sort_key(name: &str) -> u64 {
    let b = name.as_bytes();
    let word = |i: usize| b.get(i..i + 4).and_then(|p| <[u8; 4]>::try_from(p).ok()).map_or(0, u32::from_be_bytes);
    match b.get(..8).and_then(|p| <[u8; 8]>::try_from(p).ok()) {
        // One load (a copy into a buffer then a load stalls the store forwarding).
        Some(k) => u64::from_be_bytes(k) & !0xff,
        // 4 to 7 bytes: two overlapping loads (the bytes they share are the
        // same), the last one shifted to its place.
        None if b.len() >= 4 => (u64::from(word(0)) << 32) | (u64::from(word(b.len() - 4)) << (8 * (8 - b.len()))),
        None => b.iter().enumerate().fold(0u64, |k, (i, &c)| k | (u64::from(c) << (56 - 8 * i))),
    }
}

/// True when the (ASCII) names of `pairs` are in strictly ascending byte
/// order: sorted, and no name twice. Keys decide most comparisons.
fn strictly_ascending(pairs: &[(&str, &str)]) -> bool {
    let mut prev: Option<(u64, &str)> = None;
    for &(n, _) in pairs {
        let k = sort_key(n);
        if let Some((pk, pn)) = prev {
            if pk > k || (pk == k && pn.as_bytes() >= n.as_bytes()) {
                return false;
            }
        }
        prev = Some((k, n));
    }
    true
}

/// The span of the decoded text covering `ranges` in order, if each pair
/// has its `=` and each next one starts one byte (its `&`) after the
/// previous value: then the span's bytes are `n1=v1&n2=v2…` exactly.
fn adjacent_span(ranges: &[PairRange]) -> Option<(usize, usize)> {
    let mut span: Option<(usize, usize)> = None;
    for r in ranges {
        if r.value != r.mid + 1 {
            return None;
        }
        span = match span {
            None => Some((r.start, r.end)),
            Some((a, b)) if r.start == b + 1 => Some((a, r.end)),
            Some(_) => return None,
        };
    }
    span
}

/// Sorts the indices into `kept` by name, equal names by index (a stable
/// sort: the first of a repeated name comes first), and pushes the first
/// pair of each name into `out`.
///
/// ASCII names are sorted as one integer each (7-byte key, index); only
/// the runs of equal keys (a shared 7-byte prefix, or zero bytes) are then
/// sorted again comparing the names in full.
///
/// With `ranges` (where each pair of `kept` lies in the decoded query,
/// separators kept): returns the span of the decoded text that *is* the
/// canonical string, if there is one — every pair of `out` written with
/// its `=`, each next one starting one byte (its `&`) after the previous
/// value, so the span's bytes are `n1=v1&n2=v2…` exactly.
fn sort_dedup<'a>(
    kept: &[(&'a str, &'a str)],
    ranges: Option<&[PairRange]>,
    all_ascii: bool,
    out: &mut Sorted<'a>,
) -> Option<(usize, usize)> {
    if all_ascii && strictly_ascending(kept) {
        // Already in canonical order, no name twice (the marketplace sends
        // its parameters sorted): kept as they are.
        let _ = out.extend_from_slice(kept);
        return ranges.and_then(adjacent_span);
    }
    let name = |i: u8| kept.get(i as usize).map_or("", |p| p.0);
    let mut idx: heapless::Vec<u64, MAX_PARAMS> = heapless::Vec::new();
    for (i, &(n, _)) in kept.iter().enumerate() {
        // Cannot overflow: `kept` holds at most MAX_PARAMS pairs.
        let _ = idx.push(if all_ascii { sort_key(n) } else { 0 } | i as u64);
    }
    let at = |x: u64| (x & 0xff) as u8;
    if all_ascii {
        // UTF-16 order is byte order for ASCII: checked once, not per
        // comparison.
        idx.sort_unstable();
        let mut run = 0;
        while run < idx.len() {
            let key = idx[run] >> 8;
            let end = idx[run..].iter().position(|&x| x >> 8 != key).map_or(idx.len(), |p| run + p);
            if end - run > 1 {
                idx[run..end]
                    .sort_unstable_by(|&x, &y| name(at(x)).as_bytes().cmp(name(at(y)).as_bytes()).then(x.cmp(&y)));
            }
            run = end;
        }
    } else {
        idx.sort_unstable_by(|&x, &y| java_cmp(name(at(x)), name(at(y))).then(x.cmp(&y)));
    }
    // (start of the span, end of the last value) while still adjacent.
    let mut span: Option<(usize, usize)> = None;
    let mut adjacent = ranges.is_some();
    let mut last_key = None;
    for &x in idx.iter() {
        let (key, i) = (x >> 8, at(x));
        if let Some(&(n, v)) = kept.get(i as usize) {
            // Equal names have equal keys: the names are compared only then.
            let repeated = last_key == Some(key) && out.last().map(|l| l.0) == Some(n);
            last_key = Some(key);
            if !repeated {
                // Cannot overflow: at most as many entries as `kept`.
                let _ = out.push((n, v));
                if adjacent {
                    match ranges.and_then(|r| r.get(i as usize)) {
                        Some(r) if r.value == r.mid + 1 => {
                            span = match span {
                                None => Some((r.start, r.end)),
                                Some((a, b)) if r.start == b + 1 => Some((a, r.end)),
                                Some(_) => None,
                            };
                            adjacent = span.is_some();
                        }
                        _ => {
                            span = None;
                            adjacent = false;
                        }
                    }
                }
            }
        }
    }
    span
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

/// docs/SCHEMES.md §S1 item 5 for pairs that borrow `text` (the decoded
/// query, separators kept): the same bytes as [`write_canonical`], in
/// fewer pieces. A pair whose value starts one byte after its name, that
/// byte being `=`, is the slice `name=value` of the text; a run of such
/// pairs each starting one byte after the previous one ends, that byte
/// being `&`, is one slice `n1=v1&n2=v2…` of the text. Anything else is
/// passed as `&`, name, `=`, value.
fn write_canonical_in(text: &str, sorted: &[(&str, &str)], sink: &mut impl Sink) {
    let t = text.as_bytes();
    let base = t.as_ptr() as usize;
    let off = |s: &str| (s.as_ptr() as usize).wrapping_sub(base);
    // The run `a..b` of the text not yet passed on.
    let mut run: Option<(usize, usize)> = None;
    for (i, &(n, v)) in sorted.iter().enumerate() {
        let (a, m, c) = (off(n), off(n).wrapping_add(n.len()), off(v));
        let b = c.wrapping_add(v.len());
        let joined = c == m.wrapping_add(1) && t.get(m) == Some(&b'=') && t.get(a..b).is_some();
        if joined {
            match run {
                Some((ra, rb)) if i > 0 && a == rb + 1 && t.get(rb) == Some(&b'&') => {
                    run = Some((ra, b));
                    continue;
                }
                _ => {}
            }
        }
        if let Some(r) = run.take().and_then(|(ra, rb)| t.get(ra..rb)) {
            sink.put(r);
        }
        if i > 0 {
            sink.put(b"&");
        }
        if joined {
            run = Some((a, b));
        } else {
            sink.put(n.as_bytes());
            sink.put(b"=");
            sink.put(v.as_bytes());
        }
    }
    if let Some(r) = run.and_then(|(ra, rb)| t.get(ra..rb)) {
        sink.put(r);
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
    let mut sorted = Sorted::new();
    canonical_order_into(params, false, &mut sorted)?;
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
    /// The canonical string as one slice of the decoded query, when the
    /// signed pairs arrived sorted and adjacent (then it is hashed in one
    /// piece); `None`: built from `sorted`.
    canonical: Option<&'s str>,
    /// The decoded query the pairs borrow ("" for S1b): pieces of the
    /// canonical string adjacent in it are hashed together.
    text: &'s str,
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
    /// Errors: as [`crate::parse_form`], then `MissingParameter` for `authToken` or
    /// `timeStamp`, then `Ambiguous`.
    pub fn parse(query: &str, scratch: &'s mut [u8]) -> Result<Self> {
        let mut p = Self::empty();
        p.fill_from_query(query, scratch)?;
        Ok(p)
    }

    #[inline]
    fn empty() -> Self {
        // Built at run time: a constant with an uninitialised 2 KiB buffer
        // is written out as 2 KiB of zeros on every call.
        let sorted: Sorted<'s> = core::iter::empty().collect();
        V1Params { sorted, canonical: None, text: "", auth_token: "", time_stamp: "" }
    }

    /// [`Self::parse`] into `self` (the pair list is built where it stays:
    /// a move of it costs as much as parsing a short query). The query is
    /// decoded in one pass (crate::form::decode_form); then the same steps
    /// as [`Self::fill_from_pairs`], in the same order of errors.
    fn fill_from_query(&mut self, query: &str, scratch: &'s mut [u8]) -> Result<()> {
        let mut layout = crate::form::Layout::new();
        let text = crate::form::decode_form(query, scratch, &mut layout)?;
        let mut kept: Sorted<'s> = heapless::Vec::new();
        let mut ranges: heapless::Vec<PairRange, MAX_PARAMS> = heapless::Vec::new();
        let (mut auth_token, mut time_stamp) = (None, None);
        let mut ambiguous = Ok(());
        for &r in &layout {
            let (n, v) = crate::form::pair_at(text, r)?;
            if n == AUTH_TOKEN {
                auth_token = auth_token.or(Some(v));
                continue;
            }
            if time_stamp.is_none() && n == TIME_STAMP {
                time_stamp = Some(v);
            }
            if r.escaped_separator && ambiguous.is_ok() {
                // Only an escape can put `&` or `=` into a name or `&`
                // into a value (raw ones separate the pairs): the S1 item
                // 10 check can refuse only such a pair. The first refusal
                // in order received is kept, reported after the missing
                // parameters as `check_unambiguous` does.
                ambiguous = check_name(n).and_then(|()| check_value(v));
            }
            // Cannot overflow: one entry per range.
            let _ = kept.push((n, v));
            let _ = ranges.push(r);
        }
        self.auth_token = auth_token.ok_or(Error::MissingParameter(AUTH_TOKEN))?;
        self.time_stamp = time_stamp.ok_or(Error::MissingParameter(TIME_STAMP))?;
        ambiguous?;
        let all_ascii = kept.iter().all(|(n, _)| n.is_ascii());
        self.sorted.clear();
        let span = sort_dedup(&kept, Some(&ranges), all_ascii, &mut self.sorted);
        self.canonical = span.and_then(|(a, b)| text.get(a..b));
        self.text = text;
        Ok(())
    }

    fn fill_from_pairs(&mut self, pairs: &[(&'s str, &'s str)], skip_blank: bool) -> Result<()> {
        self.canonical = None;
        self.text = "";
        self.auth_token = first(pairs, AUTH_TOKEN).ok_or(Error::MissingParameter(AUTH_TOKEN))?;
        self.time_stamp = first(pairs, TIME_STAMP).ok_or(Error::MissingParameter(TIME_STAMP))?;
        check_unambiguous(pairs)?;
        canonical_order_into(pairs, skip_blank, &mut self.sorted)
    }

    /// The canonical string (docs/SCHEMES.md §S1 item 5) into `out`.
    pub fn canonical<'o>(&self, out: &'o mut [u8]) -> Result<&'o str> {
        let mut c = Cursor::new(out);
        self.write_canonical(&mut c);
        c.finish_str()
    }

    /// Length in bytes of the canonical string.
    pub fn canonical_len(&self) -> usize {
        let mut c = crate::encoding::Counter(0);
        self.write_canonical(&mut c);
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
        FixedText::from_parts(&[&self.token(access_key)])
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
        let (key_index, time_stamp_ms, replay_expires_ms) =
            self.check_keyed(access_keys.iter().copied(), freshness, replay)?;
        Ok(VerifiedV1 { params: self, key_index, access_key: access_keys[key_index], time_stamp_ms, replay_expires_ms })
    }

    /// docs/SCHEMES.md §S1 item 5, into `sink`.
    fn write_canonical(&self, sink: &mut impl Sink) {
        match self.canonical {
            Some(c) => sink.put(c.as_bytes()),
            None if !self.text.is_empty() => write_canonical_in(self.text, &self.sorted, sink),
            None => write_canonical(&self.sorted, sink),
        }
    }

    /// docs/SCHEMES.md §S1 item 6 under `access_key`: the raw HMAC.
    #[inline]
    fn mac(&self, access_key: &[u8]) -> [u8; 32] {
        let mut mac = hmac_two_part_key(access_key, self.time_stamp.as_bytes());
        self.write_canonical(&mut mac);
        finish(mac)
    }

    /// docs/SCHEMES.md §S1 items 6–7 under `access_key`.
    fn token(&self, access_key: &str) -> [u8; 44] {
        b64_32(&self.mac(access_key.as_bytes()))
    }

    /// [`Self::verify`] over any key set, without moving `self`: (key
    /// index, timeStamp ms). The keys are not checked here (the one-shots
    /// check their list first; the context's keys are never empty).
    fn check_keyed<'k, K: Keyed + ?Sized + 'k>(
        &self,
        access_keys: impl Iterator<Item = &'k K>,
        freshness: Freshness,
        replay: Replay<'_>,
    ) -> Result<(usize, u64, u64)> {
        let ts_ms = parse_v1_timestamp(self.time_stamp)?;
        let mut received = [0u8; 44];
        let tok = self.auth_token.as_bytes();
        let raw = if tok.len() == received.len() {
            for (r, &b) in received.iter_mut().zip(tok) {
                *r = if b == b' ' { b'+' } else { b };
            }
            // The received token is public: decoded (strictly, the one
            // canonical encoding of 32 bytes), then the raw MACs compared
            // in constant time: the same verdict as comparing it with
            // b64(expected), without encoding a secret value.
            b64_decode_32_public(&received)
        } else {
            None
        };
        let key_index = match raw {
            Some(raw) => match_keys(access_keys, &raw, |k| self.mac(k.key_bytes()))?,
            None => return Err(Error::SignatureMismatch),
        };
        freshness.check(ts_ms)?;
        let (now, replay_expires_ms) = freshness.replay_times(ts_ms, V1_DEFAULT_WINDOW_MS);
        replay.record(&replay_key(self.auth_token), now, replay_expires_ms)?;
        Ok((key_index, ts_ms, replay_expires_ms))
    }
}

/// Builds a [`VerifiedV1`] in place: `fill` fills its parameters, then
/// they are checked against `access_keys`. The result is built where it is
/// returned (the 2 KiB pair list is written once, never moved).
fn verified_in_place<'s, 'k, K: Keyed + ?Sized + 'k>(
    access_keys: impl Iterator<Item = &'k K> + Clone,
    freshness: Freshness,
    replay: Replay<'_>,
    fill: impl FnOnce(&mut V1Params<'s>) -> Result<()>,
) -> Result<VerifiedV1<'s, 'k>> {
    in_place(|v| verified_into(access_keys, freshness, replay, v, fill))
}

/// A [`VerifiedV1`] that `fill` builds where it is returned (one of the
/// `_into` verifiers below, which the merchant context calls with a value
/// of its own).
fn in_place<'s, 'k>(fill: impl FnOnce(&mut VerifiedV1<'s, 'k>) -> Result<()>) -> Result<VerifiedV1<'s, 'k>> {
    let mut out = Ok(VerifiedV1::empty());
    if let Ok(v) = &mut out {
        if let Err(e) = fill(v) {
            out = Err(e);
        }
    }
    out
}

impl VerifiedV1<'_, '_> {
    #[inline]
    pub(crate) fn empty() -> Self {
        VerifiedV1 { params: V1Params::empty(), key_index: 0, access_key: "", time_stamp_ms: 0, replay_expires_ms: 0 }
    }
}

/// [`verified_in_place`] into `v` (a [`VerifiedV1::empty`] the caller
/// holds, inside a larger value: the merchant context's `Verified`). On an
/// error `v` is half filled: the caller drops it.
fn verified_into<'s, 'k, K: Keyed + ?Sized + 'k>(
    access_keys: impl Iterator<Item = &'k K> + Clone,
    freshness: Freshness,
    replay: Replay<'_>,
    v: &mut VerifiedV1<'s, 'k>,
    fill: impl FnOnce(&mut V1Params<'s>) -> Result<()>,
) -> Result<()> {
    fill(&mut v.params)?;
    let (key_index, time_stamp_ms, replay_expires_ms) = v.params.check_keyed(access_keys.clone(), freshness, replay)?;
    v.key_index = key_index;
    v.access_key = access_keys.clone().nth(key_index).map_or("", |k| k.key());
    v.time_stamp_ms = time_stamp_ms;
    v.replay_expires_ms = replay_expires_ms;
    Ok(())
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
    verified_in_place(access_keys.iter().copied(), freshness, replay, |p| {
        p.fill_from_query(query, scratch)?;
        check_keys(access_keys)
    })
}

/// [`verify_v1_query`] over any key set (the merchant context's keys).
pub(crate) fn verify_v1_query_keyed<'s, 'k, K: Keyed + ?Sized + 'k>(
    query: &str,
    access_keys: impl Iterator<Item = &'k K> + Clone,
    freshness: Freshness,
    replay: Replay<'_>,
    scratch: &'s mut [u8],
) -> Result<VerifiedV1<'s, 'k>> {
    in_place(|v| verify_v1_query_keyed_into(query, access_keys, freshness, replay, scratch, v))
}

/// [`verify_v1_query_keyed`] into `out` (see [`verified_into`]).
pub(crate) fn verify_v1_query_keyed_into<'s, 'k, K: Keyed + ?Sized + 'k>(
    query: &str,
    access_keys: impl Iterator<Item = &'k K> + Clone,
    freshness: Freshness,
    replay: Replay<'_>,
    scratch: &'s mut [u8],
    out: &mut VerifiedV1<'s, 'k>,
) -> Result<()> {
    verified_into(access_keys, freshness, replay, out, |p| p.fill_from_query(query, scratch))
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
    verified_in_place(access_keys.iter().copied(), freshness, replay, |p| {
        p.fill_from_pairs(pairs.as_slice(), true)?;
        check_keys(access_keys)
    })
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
    in_place(|v| verify_v1_json_keyed_into(auth_token, body, access_keys, freshness, replay, scratch, v))
}

/// [`verify_v1_json_keyed`] into `out` (see [`verified_into`]).
pub(crate) fn verify_v1_json_keyed_into<'s, 'k, K: Keyed + ?Sized + 'k>(
    auth_token: &str,
    body: &[u8],
    access_keys: impl Iterator<Item = &'k K> + Clone,
    freshness: Freshness,
    replay: Replay<'_>,
    scratch: &'s mut [u8],
    out: &mut VerifiedV1<'s, 'k>,
) -> Result<()> {
    let pairs = crate::notification::top_level_fields(body, auth_token, scratch)?;
    verified_into(access_keys, freshness, replay, out, |p| p.fill_from_pairs(pairs.as_slice(), true))
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

#[cfg(test)]
mod canonical_tests {
    //! The faster canonical writers against the plain definitions they
    //! replace: the sort key against its byte-by-byte definition, and the
    //! canonical string written from runs of the decoded query against the
    //! plain join of the pairs (docs/SCHEMES.md §S1 item 5), on random and
    //! hostile queries (unsorted, repeated, escaped, empty values, no `=`).
    extern crate std;
    use super::*;
    use std::{string::String, vec, vec::Vec};

    use crate::TestRng as Rng;

    /// The key as first defined: the first 7 bytes, big-endian, zero-padded.
    fn key_reference(name: &str) -> u64 {
        name.bytes().take(7).enumerate().fold(0u64, |k, (i, c)| k | (u64::from(c) << (56 - 8 * i)))
    }

    #[test]
    fn sort_key_is_the_first_seven_bytes() {
        let mut r = Rng(0x2545_F491_4F6C_DD1D);
        for _ in 0..20_000 {
            let len = r.below(17);
            let name: String = (0..len).map(|_| char::from(b'!' + r.below(94) as u8)).collect();
            assert_eq!(sort_key(&name), key_reference(&name), "{name:?}");
        }
        for name in ["", "a", "ab", "abc", "abcd", "abcde", "abcdef", "abcdefg", "abcdefgh", "客", "客户", "𝄞𝄞"] {
            assert_eq!(sort_key(name), key_reference(name), "{name:?}");
        }
    }

    const PIECES: &[&str] = &[
        "a=1", "b=2", "B=", "a", "ab=%26", "x=%3D", "c=a+b", "c=%E5%AE%A2", "d==", "e=x=y", "timeStamp=20200727073711903",
        "authToken=x", "param01=value-01-abcdefghijklmnop", "param02=v", "z", "=v", "%41=1", "客户=1", "𝄞=2",
    ];

    #[test]
    fn canonical_from_runs_is_the_plain_join() {
        let mut r = Rng(0x9E37_79B9_7F4A_7C15);
        let mut checked = 0;
        for _ in 0..20_000 {
            let n = r.below(12);
            let mut q = String::new();
            for i in 0..n {
                if i > 0 {
                    q.push_str(if r.below(8) == 0 { "&&" } else { "&" });
                }
                q.push_str(PIECES[r.below(PIECES.len())]);
            }
            q.push_str("&timeStamp=20200727073711903&authToken=x");
            let mut scratch = vec![0u8; q.len()];
            let Ok(p) = V1Params::parse(&q, &mut scratch) else { continue };
            let mut plain = Vec::new();
            for (i, (n, v)) in p.sorted.iter().enumerate() {
                if i > 0 {
                    plain.push(b'&');
                }
                plain.extend_from_slice(n.as_bytes());
                plain.push(b'=');
                plain.extend_from_slice(v.as_bytes());
            }
            let mut out = vec![0u8; p.canonical_len()];
            assert_eq!(p.canonical(&mut out).unwrap().as_bytes(), &plain[..], "{q:?}");
            let mut runs = vec![0u8; plain.len()];
            let mut c = Cursor::new(&mut runs);
            write_canonical_in(p.text, &p.sorted, &mut c);
            assert_eq!(c.finish_str().unwrap().as_bytes(), &plain[..], "{q:?}");
            checked += 1;
        }
        assert!(checked > 5_000, "{checked}");
    }
}
