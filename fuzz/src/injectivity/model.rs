//! Injectivity of the signed inputs, tested rather than assumed (issue 11).
//!
//! Shared by the property test `core/tests/injectivity.rs` and the
//! `injectivity` fuzz target (`fuzz/src/injectivity.rs`): both build the
//! case types below (the proptest from strategies, the fuzzer from bytes)
//! and call the `check_*` functions. Dependencies: `koosign`, `serde_json`,
//! `sha2` and `std` only, so both crates can compile this file.
//!
//! For each scheme a check
//! 1. signs a genuine request with the core's own signer (`build_v1_query`,
//!    `v1_auth_token`, `sign_v2`, `licence_sign`, `sign_apig`) and verifies
//!    it (a case whose original is refused is skipped: [`Tally`] says so);
//! 2. applies every rewrite an attacker can make without the key: moving
//!    bytes between adjacent signed fields, merging and splitting
//!    parameters, re-encoding, reordering, repeating names and headers,
//!    adding unsigned members or headers, swapping the body;
//! 3. verifies each rewritten request under the same key. Whenever one
//!    verifies, its VIEW must equal the original's. A difference is a
//!    [`Finding`]: one signature, two meanings, which is a forgery.
//!
//! Some rewrites are *equivalent spellings* of the original (percent-escape
//! spelling, JSON escapes and whitespace, member order, signature case, the
//! space-as-plus token repair). Those must also verify: a finding
//! "… (must verify)" means the verifier refused an equivalent request,
//! which would show the rewrites or the views are wrong.
//!
//! # The views
//!
//! What an application acts on once a request verified, per scheme:
//!
//! | scheme | view ([`V1View`], [`V1bView`], [`V2View`], [`LicenceView`], [`ApigView`]) |
//! |---|---|
//! | S1 | `VerifiedV1::params()` (the signed parameters, canonical order, first value of each name) and `time_stamp_ms()` |
//! | S1b | the S1 view, and the body as a standard JSON parser reads it (`serde_json`: the last of a repeated name wins), members whose value is a blank string left out |
//! | S2, S2b | `(nonce, timestamp as Unix ms, body bytes)`: what the replay store records and what the application parses |
//! | S5 | `(ts as Unix ms, nonce, body bytes)` |
//! | S6 | the method (upper case), the canonical URI and query, for every `SignedHeaders` name each value the request carries for it (trimmed; the connection's host when there is no `Host` header), the body when the payload is authenticated (`None` when `verify_apig` reports `unsigned_payload`), and that flag |
//!
//! Deliberately NOT in the views (tolerated by SCHEMES.md): the spelling of
//! percent-escapes and of the V1 token (S1 item 9, the space-as-plus
//! repair), parameter and member order, S1 repeated names after the first
//! (S1 step 3), S1b blank members (S1b: blank values are not signed), the
//! S2/S5 signature's hex case and `+`/space, unsigned S6 headers, S6 header
//! name case, and the S6 path spellings that the SDK's canonical URI merges
//! (escaped unreserved bytes, `%2F` for `/`, a trailing `/`).

use koosign::{
    build_v1_query, canonical_query, canonical_uri, format_unix_ms, format_v1_timestamp, licence_sign,
    parse_authorization, parse_unix_ms, sign_apig, sign_v2, v1_auth_token, verify_apig, verify_licence, verify_v1_query,
    verify_v1_json, verify_v2, ApigRequest, Error, V2Auth, V2Scheme, VerifiedV1, AUTH_TOKEN, TIME_STAMP,
};
use koosign::{Freshness, Replay};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fmt;

// ---------------------------------------------------------------------------
// Findings and bookkeeping

/// Two different requests, one signature, two views.
#[derive(Clone, Debug)]
pub struct Finding {
    /// `S1`, `S1b`, `S2`, `S2b`, `S5` or `S6`.
    pub scheme: &'static str,
    /// Which rewrite produced the forged request.
    pub rewrite: &'static str,
    /// The genuine request.
    pub original: String,
    /// The rewritten request.
    pub forged: String,
    /// Both views (or why an equivalent request was refused).
    pub detail: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} / {}: {}\n  original: {}\n  forged:   {}",
            self.scheme, self.rewrite, self.detail, self.original, self.forged
        )
    }
}

/// What a check did.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    /// The genuine request verified (otherwise nothing was tried).
    pub original_verified: bool,
    /// Rewritten requests tried.
    pub tried: usize,
    /// Rewritten requests that verified.
    pub verified: usize,
}

/// A small deterministic generator (SplitMix64) for the rewrites' details.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// Seeded.
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }
    /// The next 64 bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (0 when `n` is 0).
    pub fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next_u64() % n as u64) as usize
        }
    }
    /// True with probability 1/2.
    pub fn coin(&mut self) -> bool {
        self.next_u64() & 1 == 1
    }
    /// Shuffles `v` (Fisher–Yates).
    pub fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.below(i + 1);
            v.swap(i, j);
        }
    }
}

/// One original, its view, and the rewrites tried against it.
struct Trial<'f, V> {
    scheme: &'static str,
    original: String,
    view: V,
    tally: Tally,
    found: &'f mut dyn FnMut(Finding),
}

impl<'f, V: PartialEq + fmt::Debug> Trial<'f, V> {
    fn new(scheme: &'static str, original: String, view: V, found: &'f mut dyn FnMut(Finding)) -> Self {
        Trial { scheme, original, view, tally: Tally { original_verified: true, ..Tally::default() }, found }
    }

    /// A rewrite: if the forged request verifies, its view must be the
    /// original's. The same request spelled the same way is no rewrite.
    fn rewrite(&mut self, rewrite: &'static str, forged: String, result: Result<V, Error>) {
        if forged == self.original {
            return;
        }
        self.tally.tried += 1;
        if let Ok(v) = result {
            self.tally.verified += 1;
            if v != self.view {
                let detail = format!(
                    "verified with a different view\n  original view: {:?}\n  forged view:   {:?}",
                    self.view, v
                );
                (self.found)(Finding { scheme: self.scheme, rewrite, original: self.original.clone(), forged, detail });
            }
        }
    }

    /// An equivalent spelling: it must verify, with the original's view.
    fn equivalent(&mut self, rewrite: &'static str, forged: String, result: Result<V, Error>) {
        if forged == self.original {
            return;
        }
        if let Err(e) = &result {
            self.tally.tried += 1;
            let detail = format!("an equivalent spelling was refused: {e:?} (must verify)");
            (self.found)(Finding { scheme: self.scheme, rewrite, original: self.original.clone(), forged, detail });
            return;
        }
        self.rewrite(rewrite, forged, result);
    }
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

fn sha256_hex(b: &[u8]) -> String {
    hex(&Sha256::digest(b))
}

fn owned(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect()
}

fn refs(pairs: &[(String, String)]) -> Vec<(&str, &str)> {
    pairs.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect()
}

// ---------------------------------------------------------------------------
// Form encoding (S1)

/// Java's `URLEncoder.encode`: `a-z A-Z 0-9 . - * _` kept, space as `+`,
/// the rest `%XY` upper case.
pub fn form_encode(s: &str) -> String {
    let mut out = String::new();
    for &b in s.as_bytes() {
        match b {
            b'a'..=b'z' | b'A'..=b'Z' | b'0'..=b'9' | b'.' | b'-' | b'*' | b'_' => out.push(b as char),
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

fn pct(b: u8, rng: &mut Rng) -> String {
    if rng.coin() {
        format!("%{b:02X}")
    } else {
        format!("%{b:02x}")
    }
}

/// Another spelling that form-decodes to the same text: escapes in either
/// case, unreserved characters escaped, space as `+`, `%20` or raw, other
/// characters raw where the query syntax allows (`in_name`: no raw `=`).
fn form_encode_variant(s: &str, in_name: bool, rng: &mut Rng) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if !c.is_ascii() {
            if rng.coin() {
                out.push(c);
            } else {
                let mut buf = [0u8; 4];
                for &b in c.encode_utf8(&mut buf).as_bytes() {
                    out.push_str(&pct(b, rng));
                }
            }
            continue;
        }
        let b = c as u8;
        let raw_ok = !matches!(b, b'&' | b'%' | b'+' | b'?' | b'#') && !(in_name && b == b'=') && !b.is_ascii_control();
        match (b, rng.below(4)) {
            (b' ', 0) => out.push_str("%20"),
            (b' ', 1) => out.push(' '),
            (b' ', _) => out.push('+'),
            (_, 0) => out.push_str(&pct(b, rng)),
            _ if raw_ok => out.push(c),
            _ => out.push_str(&pct(b, rng)),
        }
    }
    out
}

/// The token (Base64) spelled another way: `+` as `%2B`, `%2b`, or raw
/// (which arrives as a space: the S1 item 9 repair reads it back as `+`).
fn token_variant(token: &str, rng: &mut Rng) -> String {
    let mut out = String::new();
    for c in token.chars() {
        match (c, rng.below(3)) {
            ('+', 0) => out.push('+'),
            ('+', 1) => out.push_str("%2b"),
            ('+', _) => out.push_str("%2B"),
            ('/' | '=', 0) => out.push(c),
            ('/' | '=', _) => out.push_str(&pct(c as u8, rng)),
            _ => out.push(c),
        }
    }
    out
}

// ---------------------------------------------------------------------------
// Re-splitting a V1 canonical string (S1, S1b)

fn canonical_text(pairs: &[(String, String)]) -> String {
    pairs.iter().map(|(n, v)| format!("{n}={v}")).collect::<Vec<_>>().join("&")
}

/// Pair lists whose canonical string (S1 step 5) may equal that of
/// `pairs` (already in canonical order): the S1 item 10 ambiguity.
fn resplits(pairs: &[(String, String)], rng: &mut Rng) -> Vec<(&'static str, Vec<(String, String)>)> {
    let mut out = Vec::new();
    // Two neighbours merged into one value: `a=x`,`b=y` -> `a=x&b=y`.
    for i in 0..pairs.len().saturating_sub(1) {
        let mut p = pairs.to_vec();
        let (n2, v2) = p.remove(i + 1);
        p[i].1 = format!("{}&{n2}={v2}", p[i].1);
        out.push(("merge two parameters (percent-encoded `&`/`=`)", p));
    }
    for (i, (n, v)) in pairs.iter().enumerate() {
        // A value split at an `&`: `a=x&b=y` -> `a=x`,`b=y`.
        for (at, _) in v.match_indices('&') {
            let rest = &v[at + 1..];
            if let Some(eq) = rest.find('=') {
                let mut p = pairs.to_vec();
                p[i].1 = v[..at].to_string();
                p.insert(i + 1, (rest[..eq].to_string(), rest[eq + 1..].to_string()));
                out.push(("split a value at `&`", p));
            }
        }
        // The name/value boundary moved to another `=`.
        for (at, _) in v.match_indices('=') {
            let mut p = pairs.to_vec();
            p[i] = (format!("{n}={}", &v[..at]), v[at + 1..].to_string());
            out.push(("move `=` from the value into the name", p));
        }
        for (at, _) in n.match_indices('=') {
            let mut p = pairs.to_vec();
            p[i] = (n[..at].to_string(), format!("{}={v}", &n[at + 1..]));
            out.push(("move `=` from the name into the value", p));
        }
    }
    // Random re-splits of the whole canonical string: each `&` kept as a
    // delimiter or not, each piece cut at one of its `=`.
    let text = canonical_text(pairs);
    for round in 0..8 {
        let keep = |rng: &mut Rng| if round % 2 == 0 { rng.coin() } else { rng.below(8) != 0 };
        let mut pieces = Vec::new();
        let mut start = 0;
        for (i, _) in text.match_indices('&') {
            if keep(rng) {
                pieces.push(&text[start..i]);
                start = i + 1;
            }
        }
        pieces.push(&text[start..]);
        let p = pieces
            .iter()
            .map(|s| {
                let eqs: Vec<usize> = s.match_indices('=').map(|(i, _)| i).collect();
                match eqs.len() {
                    0 => (s.to_string(), String::new()),
                    n => {
                        let k = if rng.coin() { eqs[0] } else { eqs[rng.below(n)] };
                        (s[..k].to_string(), s[k + 1..].to_string())
                    }
                }
            })
            .collect();
        out.push(("re-split the canonical string", p));
    }
    out
}

// ---------------------------------------------------------------------------
// S1 — V1 query

/// A genuine S1 request: `params` (any `timeStamp`/`authToken` among them
/// dropped) with `timeStamp` inserted at `ts_at`, signed under `key`.
#[derive(Clone, Debug)]
pub struct S1Case {
    /// Access key.
    pub key: String,
    /// Parameters, as the marketplace sends them.
    pub params: Vec<(String, String)>,
    /// `timeStamp`, Unix ms (formatted `yyyyMMddHHmmssSSS`).
    pub ts_ms: u64,
    /// Where `timeStamp` goes among the parameters.
    pub ts_at: usize,
    /// Chooses the rewrites' details.
    pub seed: u64,
    /// Attacker-chosen text (values of added or repeated parameters).
    pub extra: String,
}

/// The S1 view: the signed parameters as the verifier reports them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct V1View {
    /// `VerifiedV1::params()`: canonical order, first value of each name.
    pub params: Vec<(String, String)>,
    /// `VerifiedV1::time_stamp_ms()`.
    pub time_stamp_ms: u64,
}

impl V1View {
    fn of(v: &VerifiedV1<'_, '_>) -> Self {
        V1View { params: owned(v.params()), time_stamp_ms: v.time_stamp_ms() }
    }
}

/// `verify_v1_query` (no window, no replay store: injectivity alone).
pub fn verify_s1(query: &str, key: &str) -> Result<V1View, Error> {
    let mut scratch = vec![0u8; query.len()];
    verify_v1_query(query, &[key], Freshness::Unchecked, Replay::Unchecked, &mut scratch).map(|v| V1View::of(&v))
}

fn with_timestamp(params: &[(String, String)], ts: &str, at: usize) -> Vec<(String, String)> {
    let mut p: Vec<(String, String)> =
        params.iter().filter(|(n, _)| n != TIME_STAMP && n != AUTH_TOKEN).cloned().collect();
    let at = at % (p.len() + 1);
    p.insert(at, (TIME_STAMP.to_string(), ts.to_string()));
    p
}

fn s1_query(pairs: &[(String, String)], token: &str) -> String {
    let mut q: Vec<String> = pairs.iter().map(|(n, v)| format!("{}={}", form_encode(n), form_encode(v))).collect();
    q.push(format!("{AUTH_TOKEN}={}", form_encode(token)));
    q.join("&")
}

/// S1: rewrites of a genuine V1 query. Calls `found` for each forgery.
pub fn check_s1(c: &S1Case, found: &mut dyn FnMut(Finding)) -> Tally {
    let ts = format_v1_timestamp(c.ts_ms);
    let pairs = with_timestamp(&c.params, ts.as_str(), c.ts_at);
    let mut out = vec![0u8; 1 << 16];
    let Ok(query) = build_v1_query(&refs(&pairs), &c.key, &mut out) else { return Tally::default() };
    let query = query.to_owned();
    let Ok(view) = verify_s1(&query, &c.key) else { return Tally::default() };
    let token = v1_auth_token(&refs(&pairs), &c.key).map(|t| t.as_str().to_owned()).unwrap_or_default();
    let mut rng = Rng::new(c.seed);
    let key = c.key.as_str();
    let mut t = Trial::new("S1", query.clone(), view.clone(), found);
    let attempt = |t: &mut Trial<'_, V1View>, rewrite: &'static str, q: String| {
        let r = verify_s1(&q, key);
        t.rewrite(rewrite, q, r);
    };

    // Merge / split / re-split: the canonical string kept, the parameters changed.
    for (rewrite, p) in resplits(&view.params, &mut rng) {
        attempt(&mut t, rewrite, s1_query(&p, &token));
    }

    // Equivalent spellings: escapes, `+`/`%20`/raw space, `k` for `k=`,
    // empty segments, the token anywhere and re-spelled, names reordered
    // (each name's values kept in order: the first still wins).
    for _ in 0..4 {
        let mut names: Vec<&str> = Vec::new();
        for (n, _) in &pairs {
            if !names.contains(&n.as_str()) {
                names.push(n);
            }
        }
        if rng.coin() {
            rng.shuffle(&mut names);
        }
        let mut segs: Vec<String> = Vec::new();
        for name in &names {
            for (n, v) in pairs.iter().filter(|(n, _)| n == name) {
                let n2 = form_encode_variant(n, true, &mut rng);
                if v.is_empty() && !n.is_empty() && rng.coin() {
                    segs.push(n2);
                } else {
                    segs.push(format!("{n2}={}", form_encode_variant(v, false, &mut rng)));
                }
            }
        }
        let at = rng.below(segs.len() + 1);
        segs.insert(at, format!("{AUTH_TOKEN}={}", token_variant(&token, &mut rng)));
        if rng.coin() {
            let at = rng.below(segs.len() + 1);
            segs.insert(at, String::new());
        }
        let q = segs.join("&");
        let r = verify_s1(&q, key);
        t.equivalent("re-encode (escapes, `+`/`%20`, token spelling, order)", q, r);
    }

    // Raw substitutions between the characters that form-decoding treats
    // specially: may change what a parameter decodes to.
    const SPECIAL: [&str; 10] = ["+", "%20", " ", "%2B", "%2b", "%26", "&", "%3D", "=", "%25"];
    for _ in 0..8 {
        let from = SPECIAL[rng.below(SPECIAL.len())];
        let hits: Vec<usize> = query.match_indices(from).map(|(i, _)| i).collect();
        if hits.is_empty() {
            continue;
        }
        let at = hits[rng.below(hits.len())];
        let to = SPECIAL[rng.below(SPECIAL.len())];
        let q = format!("{}{to}{}", &query[..at], &query[at + from.len()..]);
        attempt(&mut t, "swap `+`, `%20`, `%2B`, `&`, `=` spellings", q);
    }

    // Segments shuffled freely (a repeated name's values may swap).
    {
        let mut segs: Vec<&str> = query.split('&').collect();
        rng.shuffle(&mut segs);
        attempt(&mut t, "reorder the query's segments", segs.join("&"));
    }

    // Repeated names, before (first wins: must fail) and after (ignored).
    let mut names: Vec<String> = pairs.iter().map(|(n, _)| n.clone()).collect();
    names.push(AUTH_TOKEN.to_string());
    names.sort();
    names.dedup();
    let other_ts = format_v1_timestamp(c.ts_ms.wrapping_add(1) % 253_402_300_800_000);
    for n in &names {
        let v = if n == TIME_STAMP && rng.coin() { other_ts.as_str() } else { c.extra.as_str() };
        let seg = format!("{}={}", form_encode(n), form_encode(v));
        attempt(&mut t, "repeat a parameter (before the original)", format!("{seg}&{query}"));
        attempt(&mut t, "repeat a parameter (after the original)", format!("{query}&{seg}"));
    }
    // A new, unsigned parameter.
    for (n, v) in [("orderId", c.extra.as_str()), (c.extra.as_str(), "1")] {
        attempt(&mut t, "add an unsigned parameter", format!("{query}&{}={}", form_encode(n), form_encode(v)));
    }
    t.tally
}

// ---------------------------------------------------------------------------
// S1b — V1 token header + JSON body

/// A genuine S1b request: `members` (names made unique, `timeStamp` and
/// `authToken` dropped) with `timeStamp` at `ts_at`, as a JSON object.
#[derive(Clone, Debug)]
pub struct S1bCase {
    /// Access key.
    pub key: String,
    /// String members, in order.
    pub members: Vec<(String, String)>,
    /// `timeStamp`, Unix ms.
    pub ts_ms: u64,
    /// Where `timeStamp` goes.
    pub ts_at: usize,
    /// How the original body is written (escapes, whitespace).
    pub style: u8,
    /// Chooses the rewrites' details.
    pub seed: u64,
    /// Attacker-chosen text.
    pub extra: String,
}

/// The S1b view: the signed parameters, and the body as an application's
/// JSON parser reads it (blank string members left out: not signed).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct V1bView {
    /// As for S1.
    pub signed: V1View,
    /// `serde_json`'s reading of the body (last repeated name wins), blank
    /// strings left out; `None` when it is not a JSON object.
    pub body: Option<BTreeMap<String, serde_json::Value>>,
}

fn blank(s: &str) -> bool {
    s.trim().is_empty()
}

fn app_json(body: &[u8]) -> Option<BTreeMap<String, serde_json::Value>> {
    match serde_json::from_slice::<serde_json::Value>(body).ok()? {
        serde_json::Value::Object(m) => {
            Some(m.into_iter().filter(|(_, v)| !matches!(v, serde_json::Value::String(s) if blank(s))).collect())
        }
        _ => None,
    }
}

/// `verify_v1_json` (no window, no replay store).
pub fn verify_s1b(token: &str, body: &[u8], key: &str) -> Result<V1bView, Error> {
    let mut scratch = vec![0u8; body.len() + token.len() + 64];
    let v = verify_v1_json(token, body, &[key], Freshness::Unchecked, Replay::Unchecked, &mut scratch)?;
    Ok(V1bView { signed: V1View::of(&v), body: app_json(body) })
}

/// A JSON string literal. `style` bit 0: non-ASCII as `\u` escapes
/// (surrogate pairs); bit 1: `/` as `\/`; bit 2: some letters as `\u00XX`.
pub fn json_str(s: &str, style: u8, rng: &mut Rng) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '/' if style & 2 != 0 => out.push_str("\\/"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c if !c.is_ascii() && style & 1 != 0 => {
                let mut buf = [0u16; 2];
                for u in c.encode_utf16(&mut buf) {
                    out.push_str(&format!("\\u{:04X}", u));
                }
            }
            c if c.is_ascii_alphanumeric() && style & 4 != 0 && rng.below(4) == 0 => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// A JSON object of already-written members. `style` bit 3: spaces and
/// newlines between tokens.
fn json_object(members: &[(String, String)], style: u8) -> String {
    let (sep, colon, pad) = if style & 8 != 0 { (",\n  ", " : ", " ") } else { (",", ":", "") };
    let body: Vec<String> = members.iter().map(|(n, v)| format!("{n}{colon}{v}")).collect();
    format!("{{{pad}{}{pad}}}", body.join(sep))
}

fn json_members(pairs: &[(String, String)], style: u8, rng: &mut Rng) -> Vec<(String, String)> {
    pairs.iter().map(|(n, v)| (json_str(n, style, rng), json_str(v, style, rng))).collect()
}

fn text_of(body: &[u8]) -> String {
    body.escape_ascii().to_string()
}

/// S1b: rewrites of a genuine token header + JSON body.
pub fn check_s1b(c: &S1bCase, found: &mut dyn FnMut(Finding)) -> Tally {
    let ts = format_v1_timestamp(c.ts_ms);
    let mut unique: Vec<(String, String)> = Vec::new();
    for (n, v) in &c.members {
        if !unique.iter().any(|(m, _)| m == n) {
            unique.push((n.clone(), v.clone()));
        }
    }
    let members = with_timestamp(&unique, ts.as_str(), c.ts_at);
    let signed: Vec<(String, String)> = members.iter().filter(|(_, v)| !blank(v)).cloned().collect();
    let Ok(token) = v1_auth_token(&refs(&signed), &c.key) else { return Tally::default() };
    let token = token.as_str().to_owned();
    let mut rng = Rng::new(c.seed);
    let body = json_object(&json_members(&members, c.style, &mut rng), c.style).into_bytes();
    let Ok(view) = verify_s1b(&token, &body, &c.key) else { return Tally::default() };
    let key = c.key.as_str();
    let show = |tok: &str, b: &[u8]| format!("authToken={tok:?} body={}", text_of(b));
    let mut t = Trial::new("S1b", show(&token, &body), view.clone(), found);
    let attempt = |t: &mut Trial<'_, V1bView>, rewrite: &'static str, tok: &str, b: Vec<u8>| {
        let r = verify_s1b(tok, &b, key);
        t.rewrite(rewrite, show(tok, &b), r);
    };

    // Members added next to the signed ones: unsigned scalars, objects,
    // arrays, a repeated name, `authToken`, blank strings.
    let inner = &body[1..body.len() - 1];
    let with_member = |m: &str, first: bool| -> Vec<u8> {
        let inner = std::str::from_utf8(inner).unwrap_or("");
        let out = if inner.trim().is_empty() {
            format!("{{{m}}}")
        } else if first {
            format!("{{{m},{inner}}}")
        } else {
            format!("{{{inner},{m}}}")
        };
        out.into_bytes()
    };
    let extra = json_str(&c.extra, 0, &mut rng);
    let kinds: [&str; 10] =
        [extra.as_str(), "\"EVIL\"", "\"\"", "\" \"", "1", "-2.5e3", "true", "null", "{\"a\":\"b\"}", "[\"x\",1]"];
    let mut names: Vec<String> = members.iter().map(|(n, _)| n.clone()).collect();
    names.push(AUTH_TOKEN.to_string());
    names.push(c.extra.clone());
    for kind in kinds {
        for _ in 0..2 {
            let name = &names[rng.below(names.len())];
            let m = format!("{}:{kind}", json_str(name, 0, &mut rng));
            attempt(&mut t, "add an unsigned member", &token, with_member(&m, rng.coin()));
        }
    }
    for name in &names {
        let m = format!("{}:\"EVIL\"", json_str(name, 0, &mut rng));
        attempt(&mut t, "repeat a member (before the original)", &token, with_member(&m, true));
        attempt(&mut t, "repeat a member (after the original)", &token, with_member(&m, false));
    }

    // Merge / split / re-split of the signed parameters.
    for (rewrite, p) in resplits(&view.signed.params, &mut rng) {
        let b = json_object(&json_members(&p, 0, &mut rng), 0).into_bytes();
        attempt(&mut t, rewrite, &token, b);
    }

    // Equivalent spellings: member order, escapes, whitespace, blank
    // members dropped or changed, the token's `+` sent as a space.
    for _ in 0..4 {
        let mut m = members.clone();
        rng.shuffle(&mut m);
        if rng.coin() {
            m.retain(|(_, v)| !blank(v) || rng.coin());
            for (_, v) in m.iter_mut().filter(|(_, v)| blank(v)) {
                *v = [" ", "", "\t "][rng.below(3)].to_string();
            }
        }
        // Optional escapes only where the unescaped text fits (S1b values
        // with an escape are limited to MAX_UNESCAPED bytes).
        let short = m.iter().all(|(n, v)| n.len() <= koosign::MAX_UNESCAPED && v.len() <= koosign::MAX_UNESCAPED);
        let style = (rng.next_u64() & if short { 15 } else { 8 }) as u8;
        let b = json_object(&json_members(&m, style, &mut rng), style).into_bytes();
        let tok = if rng.coin() { token.replace('+', " ") } else { token.clone() };
        let r = verify_s1b(&tok, &b, key);
        t.equivalent("re-encode (member order, escapes, whitespace, blanks, token `+`)", show(&tok, &b), r);
    }
    t.tally
}

// ---------------------------------------------------------------------------
// S2 / S2b — V2 and kit

/// A genuine S2 (or S2b, `kit`) request signed with `sign_v2`.
#[derive(Clone, Debug)]
pub struct V2Case {
    /// S2b instead of S2.
    pub kit: bool,
    /// Access key.
    pub key: String,
    /// Nonce.
    pub nonce: String,
    /// Timestamp, Unix ms (formatted as decimal digits).
    pub ts_ms: u64,
    /// Body bytes.
    pub body: Vec<u8>,
    /// Chooses the rewrites' details.
    pub seed: u64,
    /// Attacker-chosen body.
    pub extra: Vec<u8>,
}

/// The S2/S2b view.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct V2View {
    /// The nonce (what the replay store records).
    pub nonce: String,
    /// `VerifiedV2::timestamp_ms()`.
    pub timestamp_ms: u64,
    /// `VerifiedV2::body()`.
    pub body: Vec<u8>,
}

/// `verify_v2` (no window, no replay store).
pub fn verify_s2(
    kit: bool,
    signature: &str,
    timestamp: &str,
    nonce: &str,
    body: &[u8],
    key: &str,
) -> Result<V2View, Error> {
    let scheme = if kit { V2Scheme::Headers } else { V2Scheme::Query };
    let auth = V2Auth { signature, timestamp, nonce };
    let v = verify_v2(scheme, &auth, body, &[key], Freshness::Unchecked, Replay::Unchecked)?;
    Ok(V2View { nonce: nonce.to_string(), timestamp_ms: v.timestamp_ms(), body: v.body().to_vec() })
}

fn show_v2(sig: &str, ts: &str, nonce: &str, body: &[u8]) -> String {
    format!("signature={sig} timestamp={ts:?} nonce={nonce:?} body={}", text_of(body))
}

/// S2/S2b: every split of the signed `nonce + timestamp (+ body)` text
/// into new fields, the signature's case, a swapped body.
pub fn check_v2(c: &V2Case, found: &mut dyn FnMut(Finding)) -> Tally {
    let scheme = if c.kit { V2Scheme::Headers } else { V2Scheme::Query };
    let ts = format_unix_ms(c.ts_ms);
    let ts = ts.as_str();
    let Ok(sig) = sign_v2(scheme, &c.body, &c.key, &c.nonce, ts) else { return Tally::default() };
    let sig = sig.as_str().to_owned();
    let Ok(view) = verify_s2(c.kit, &sig, ts, &c.nonce, &c.body, &c.key) else { return Tally::default() };
    let mut t = Trial::new(if c.kit { "S2b" } else { "S2" }, show_v2(&sig, ts, &c.nonce, &c.body), view, found);
    let attempt = |t: &mut Trial<'_, V2View>, rewrite: &'static str, n: &str, ts: &str, b: &[u8]| {
        let r = verify_s2(c.kit, &sig, ts, n, b, &c.key);
        t.rewrite(rewrite, show_v2(&sig, ts, n, b), r);
    };
    // The signed text after the key: nonce + timestamp (+ body for S2b;
    // S2 ends with the inner MAC, a fixed 64 hex digits).
    let mut signed = Vec::new();
    signed.extend_from_slice(c.nonce.as_bytes());
    signed.extend_from_slice(ts.as_bytes());
    let body_from = if c.kit {
        signed.extend_from_slice(&c.body);
        None
    } else {
        Some(&c.body[..])
    };
    let rewrite =
        if c.kit { "move bytes between nonce, timestamp and body" } else { "move bytes between nonce and timestamp" };
    // Every (nonce end, timestamp end) whose timestamp is 1–19 ASCII
    // digits: anything else is a bad timestamp under every rule.
    for i in 0..signed.len() {
        let Ok(nonce) = std::str::from_utf8(&signed[..i]) else { continue };
        let last = if c.kit { signed.len().min(i + 19) } else { signed.len() };
        let first = if c.kit { i + 1 } else { signed.len().max(i + 1) };
        for j in first..=last {
            let ts2 = &signed[i..j];
            if ts2.is_empty() || ts2.len() > 19 || !ts2.iter().all(u8::is_ascii_digit) {
                continue;
            }
            let ts2 = std::str::from_utf8(ts2).unwrap_or("");
            let body = body_from.unwrap_or(&signed[j..]);
            attempt(&mut t, rewrite, nonce, ts2, body);
        }
    }
    // Another body under the same signature.
    let mut other = c.extra.clone();
    if other == c.body {
        other.push(b'}');
    }
    attempt(&mut t, "swap the body", &c.nonce, ts, &other);
    // Equivalent: the signature in lower case (the marketplace sends both).
    let lower = sig.to_ascii_lowercase();
    let r = verify_s2(c.kit, &lower, ts, &c.nonce, &c.body, &c.key);
    t.equivalent("signature in lower case", show_v2(&lower, ts, &c.nonce, &c.body), r);
    t.tally
}

// ---------------------------------------------------------------------------
// S5 — licence ts / nonce / signature

/// A genuine S5 request signed with `licence_sign`.
#[derive(Clone, Debug)]
pub struct S5Case {
    /// Access key.
    pub key: String,
    /// `ts`, Unix ms.
    pub ts_ms: u64,
    /// Nonce.
    pub nonce: String,
    /// Body bytes.
    pub body: Vec<u8>,
    /// Attacker-chosen body.
    pub extra: Vec<u8>,
}

/// The S5 view.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LicenceView {
    /// `ts` as Unix ms.
    pub ts_ms: u64,
    /// Nonce.
    pub nonce: String,
    /// Body.
    pub body: Vec<u8>,
}

/// `verify_licence` (no window).
pub fn verify_s5(ts: &str, nonce: &str, body: &[u8], signature: &str, key: &str) -> Result<LicenceView, Error> {
    verify_licence(ts, nonce, body, signature, &[key], Freshness::Unchecked)?;
    Ok(LicenceView { ts_ms: parse_unix_ms(ts)?, nonce: nonce.to_string(), body: body.to_vec() })
}

fn show_s5(ts: &str, nonce: &str, body: &[u8], sig: &str) -> String {
    format!("ts={ts:?} nonce={nonce:?} signature={sig:?} body={}", text_of(body))
}

/// S5: every re-split of `ts=… &nonce=… &body=…` at other `&nonce=` /
/// `&body=` occurrences, the signature's `+` as a space, a swapped body.
pub fn check_s5(c: &S5Case, found: &mut dyn FnMut(Finding)) -> Tally {
    let ts = format_unix_ms(c.ts_ms);
    let ts = ts.as_str();
    let Ok(sig) = licence_sign(ts, &c.nonce, &c.body, &c.key) else { return Tally::default() };
    let sig = sig.as_str().to_owned();
    let Ok(view) = verify_s5(ts, &c.nonce, &c.body, &sig, &c.key) else { return Tally::default() };
    let mut t = Trial::new("S5", show_s5(ts, &c.nonce, &c.body, &sig), view, found);
    let attempt = |t: &mut Trial<'_, LicenceView>, rewrite: &'static str, ts: &str, n: &str, b: &[u8], s: &str| {
        let r = verify_s5(ts, n, b, s, &c.key);
        t.rewrite(rewrite, show_s5(ts, n, b, s), r);
    };
    // The signed text after `ts=`.
    let mut signed = Vec::new();
    signed.extend_from_slice(ts.as_bytes());
    signed.extend_from_slice(b"&nonce=");
    signed.extend_from_slice(c.nonce.as_bytes());
    signed.extend_from_slice(b"&body=");
    signed.extend_from_slice(&c.body);
    let find_all = |pat: &[u8]| -> Vec<usize> { (0..signed.len()).filter(|&i| signed[i..].starts_with(pat)).collect() };
    let nonces = find_all(b"&nonce=");
    let bodies = find_all(b"&body=");
    for &p in &nonces {
        for &q in bodies.iter().filter(|&&q| q >= p + 7) {
            let (Ok(ts2), Ok(n2)) = (std::str::from_utf8(&signed[..p]), std::str::from_utf8(&signed[p + 7..q])) else {
                continue;
            };
            attempt(&mut t, "move bytes between ts, nonce and body", ts2, n2, &signed[q + 6..], &sig);
        }
    }
    let mut other = c.extra.clone();
    if other == c.body {
        other.push(b'}');
    }
    attempt(&mut t, "swap the body", ts, &c.nonce, &other, &sig);
    if sig.contains('+') {
        let spaced = sig.replace('+', " ");
        let r = verify_s5(ts, &c.nonce, &c.body, &spaced, &c.key);
        t.equivalent("signature `+` sent as a space", show_s5(ts, &c.nonce, &c.body, &spaced), r);
    }
    t.tally
}

// ---------------------------------------------------------------------------
// S6 — SDK-HMAC-SHA256

/// The host the S6 cases are sent to (the connection's host).
pub const APIG_HOST: &str = "mkt.myhuaweicloud.com";
/// The AK of the S6 cases.
pub const APIG_AK: &str = "AK";

/// A genuine S6 request signed with `sign_apig`.
#[derive(Clone, Debug)]
pub struct ApigCase {
    /// Method.
    pub method: String,
    /// Path.
    pub path: String,
    /// Decoded query pairs.
    pub query: Vec<(String, String)>,
    /// Extra headers (reserved names dropped, names made unique).
    pub headers: Vec<(String, String)>,
    /// 0 none; 1 `Content-Type: application/json`; 2 a multipart
    /// `Content-Type` (the signer adds a signed `X-Sdk-Content-Sha256:
    /// UNSIGNED-PAYLOAD`); 3 a signed `X-Sdk-Content-Sha256` with the body's
    /// real hash; 4 a signed `UNSIGNED-PAYLOAD`; 5 a signed wrong hash.
    pub content: u8,
    /// Body.
    pub body: Vec<u8>,
    /// `X-Sdk-Date`, Unix ms.
    pub ms: u64,
    /// Secret key.
    pub sk: String,
    /// Chooses the rewrites' details.
    pub seed: u64,
    /// Attacker-chosen header value.
    pub extra: String,
    /// Attacker-chosen body.
    pub extra_body: Vec<u8>,
}

/// The S6 view: the structured signed canonical request, and whether the
/// payload is authenticated.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApigView {
    /// Upper-case method.
    pub method: String,
    /// `canonical_uri(path)`.
    pub uri: String,
    /// `canonical_query(query)`.
    pub query: String,
    /// Each `SignedHeaders` name, with every value the request carries for it.
    pub signed: Vec<(String, Vec<String>)>,
    /// The body, when the payload is authenticated.
    pub payload: Option<Vec<u8>>,
    /// `ApigVerified::unsigned_payload`.
    pub unsigned_payload: bool,
}

/// An owned S6 request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApigReq {
    /// Method.
    pub method: String,
    /// Connection host.
    pub host: String,
    /// Path.
    pub path: String,
    /// Decoded query pairs.
    pub query: Vec<(String, String)>,
    /// Headers as sent, `Authorization` included.
    pub headers: Vec<(String, String)>,
    /// Body.
    pub body: Vec<u8>,
}

impl ApigReq {
    fn show(&self) -> String {
        format!(
            "{} host={:?} path={:?} query={:?} headers={:?} body={}",
            self.method,
            self.host,
            self.path,
            self.query,
            self.headers,
            text_of(&self.body)
        )
    }
}

fn py_strip(v: &str) -> &str {
    v.trim_matches(|c: char| c.is_whitespace() || ('\u{1c}'..='\u{1f}').contains(&c))
}

/// `verify_apig` (no window) and the view of a verified request.
pub fn verify_s6(r: &ApigReq, sk: &str) -> Result<ApigView, Error> {
    let q = refs(&r.query);
    let h = refs(&r.headers);
    let req = ApigRequest { method: &r.method, host: &r.host, path: &r.path, query: &q, headers: &h, body: &r.body };
    let v = verify_apig(&req, &[(APIG_AK, sk)], Freshness::Unchecked)?;
    let first = |name: &str| h.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| *v);
    let auth = parse_authorization(first("Authorization").unwrap_or(""))?;
    let signed = auth
        .signed_headers
        .split(';')
        .map(|name| {
            let mut values: Vec<String> =
                h.iter().filter(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| py_strip(v).to_string()).collect();
            if values.is_empty() && name.eq_ignore_ascii_case("host") {
                values.push(py_strip(&r.host).to_string());
            }
            (name.to_ascii_lowercase(), values)
        })
        .collect();
    let mut out = vec![0u8; 1 << 15];
    let uri = canonical_uri(&r.path, &mut out)?.to_owned();
    let query = canonical_query(&q, &mut out)?.to_owned();
    Ok(ApigView {
        method: r.method.to_ascii_uppercase(),
        uri,
        query,
        signed,
        payload: (!v.unsigned_payload).then(|| r.body.clone()),
        unsigned_payload: v.unsigned_payload,
    })
}

const RESERVED: [&str; 5] = ["authorization", "x-sdk-date", "host", "x-sdk-content-sha256", "content-type"];

/// S6: body swaps (with unsigned `X-Sdk-Content-Sha256`), repeated signed
/// headers and `Authorization`, header spelling, query merges, path
/// spellings.
pub fn check_s6(c: &ApigCase, found: &mut dyn FnMut(Finding)) -> Tally {
    let mut headers: Vec<(String, String)> = Vec::new();
    for (n, v) in &c.headers {
        let lower = n.to_ascii_lowercase();
        if n.is_empty() || RESERVED.contains(&lower.as_str()) || headers.iter().any(|(m, _)| m.eq_ignore_ascii_case(n))
        {
            continue;
        }
        headers.push((n.clone(), v.clone()));
    }
    let content = match c.content % 6 {
        0 => None,
        1 => Some(("Content-Type", "application/json;charset=UTF-8".to_string())),
        2 => Some(("Content-Type", "multipart/form-data; boundary=koosign".to_string())),
        3 => Some(("X-Sdk-Content-Sha256", sha256_hex(&c.body))),
        4 => Some(("X-Sdk-Content-Sha256", "UNSIGNED-PAYLOAD".to_string())),
        _ => Some(("X-Sdk-Content-Sha256", sha256_hex(&c.extra_body))),
    };
    if let Some((n, v)) = content {
        let at = (c.seed as usize) % (headers.len() + 1);
        headers.insert(at, (n.to_string(), v));
    }
    let q = refs(&c.query);
    let h = refs(&headers);
    let req = ApigRequest { method: &c.method, host: APIG_HOST, path: &c.path, query: &q, headers: &h, body: &c.body };
    let mut out = vec![0u8; 1 << 16];
    let Ok(signed) = sign_apig(&req, APIG_AK, &c.sk, Some(c.ms), &mut out) else { return Tally::default() };
    let mut sent = headers.clone();
    sent.extend(signed.headers_to_add.iter().map(|(n, v)| (n.to_string(), v.to_string())));
    let original = ApigReq {
        method: c.method.clone(),
        host: APIG_HOST.to_string(),
        path: c.path.clone(),
        query: c.query.clone(),
        headers: sent,
        body: c.body.clone(),
    };
    let Ok(view) = verify_s6(&original, &c.sk) else { return Tally::default() };
    let sk = c.sk.as_str();
    let mut rng = Rng::new(c.seed);
    let mut t = Trial::new("S6", original.show(), view.clone(), found);
    let attempt = |t: &mut Trial<'_, ApigView>, rewrite: &'static str, r: &ApigReq| {
        let res = verify_s6(r, sk);
        t.rewrite(rewrite, r.show(), res);
    };
    let mut other_body = c.extra_body.clone();
    if other_body == c.body {
        other_body.push(b'!');
    }
    let swapped = ApigReq { body: other_body.clone(), ..original.clone() };

    // The body swapped, alone and with an unsigned X-Sdk-Content-Sha256.
    attempt(&mut t, "swap the body", &swapped);
    for (value, rewrite) in [
        (sha256_hex(&c.body), "swap the body, add an unsigned X-Sdk-Content-Sha256 (the original body's hash)"),
        ("UNSIGNED-PAYLOAD".to_string(), "swap the body, add an unsigned X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD"),
    ] {
        for first in [true, false] {
            let mut r = swapped.clone();
            let at = if first { 0 } else { r.headers.len() };
            r.headers.insert(at, ("X-Sdk-Content-Sha256".to_string(), value.clone()));
            attempt(&mut t, rewrite, &r);
        }
    }

    // Repeated signed headers (and a second Host), before and after.
    for (name, _) in &view.signed {
        for first in [true, false] {
            let mut r = original.clone();
            let at = if first { 0 } else { r.headers.len() };
            r.headers.insert(at, (name.clone(), c.extra.clone()));
            attempt(&mut t, "repeat a signed header", &r);
        }
    }
    // A repeated Authorization (junk), before and after.
    for first in [true, false] {
        let mut r = original.clone();
        let at = if first { 0 } else { r.headers.len() };
        let junk = format!("SDK-HMAC-SHA256 Access={APIG_AK}, SignedHeaders=host, Signature={}", "0".repeat(64));
        r.headers.insert(at, ("Authorization".to_string(), junk));
        attempt(&mut t, "repeat Authorization", &r);
    }

    // Equivalent: a header name's case, the headers' order, the query's order.
    {
        let mut r = original.clone();
        let i = rng.below(r.headers.len());
        let n = &mut r.headers[i].0;
        *n = if rng.coin() { n.to_ascii_uppercase() } else { n.to_ascii_lowercase() };
        let res = verify_s6(&r, sk);
        t.equivalent("change a header name's case", r.show(), res);
        let mut r = original.clone();
        rng.shuffle(&mut r.headers);
        rng.shuffle(&mut r.query);
        let res = verify_s6(&r, sk);
        t.equivalent("reorder headers and query pairs", r.show(), res);
    }
    // Spaces around a header value; the Host header dropped (the
    // connection's host is the same).
    {
        let mut r = original.clone();
        let i = rng.below(r.headers.len());
        r.headers[i].1 = format!("  {}\t", r.headers[i].1);
        attempt(&mut t, "pad a header value with spaces", &r);
        let mut r = original.clone();
        r.headers.retain(|(n, _)| !n.eq_ignore_ascii_case("host"));
        attempt(&mut t, "drop the Host header", &r);
    }
    // Query pairs merged through an encoded `&`/`=`, `+` for space.
    for i in 0..c.query.len().saturating_sub(1) {
        let mut r = original.clone();
        let (n2, v2) = r.query.remove(i + 1);
        r.query[i].1 = format!("{}&{n2}={v2}", r.query[i].1);
        attempt(&mut t, "merge two query pairs", &r);
    }
    for i in 0..c.query.len() {
        if c.query[i].1.contains(' ') {
            let mut r = original.clone();
            r.query[i].1 = r.query[i].1.replace(' ', "+");
            attempt(&mut t, "query `+` for space", &r);
        }
    }
    // Path spellings.
    {
        let mut r = original.clone();
        r.path.push('/');
        attempt(&mut t, "path: add a trailing `/`", &r);
        let slashes: Vec<usize> = c.path.match_indices('/').map(|(i, _)| i).filter(|&i| i > 0).collect();
        if !slashes.is_empty() {
            let at = slashes[rng.below(slashes.len())];
            let mut r = original.clone();
            r.path = format!("{}%2F{}", &c.path[..at], &c.path[at + 1..]);
            attempt(&mut t, "path: `/` as `%2F`", &r);
        }
        let letters: Vec<usize> =
            c.path.char_indices().filter(|(_, ch)| ch.is_ascii_alphanumeric()).map(|(i, _)| i).collect();
        if !letters.is_empty() {
            let at = letters[rng.below(letters.len())];
            let mut r = original.clone();
            r.path = format!("{}%{:02X}{}", &c.path[..at], c.path.as_bytes()[at], &c.path[at + 1..]);
            attempt(&mut t, "path: escape an unreserved character", &r);
        }
    }
    t.tally
}

// ---------------------------------------------------------------------------
// All schemes

/// One case of any scheme.
#[derive(Clone, Debug)]
pub enum Case {
    /// S1.
    S1(S1Case),
    /// S1b.
    S1b(S1bCase),
    /// S2 / S2b.
    V2(V2Case),
    /// S5.
    S5(S5Case),
    /// S6.
    S6(Box<ApigCase>),
}

/// Runs the case's check.
pub fn check(c: &Case, found: &mut dyn FnMut(Finding)) -> Tally {
    match c {
        Case::S1(c) => check_s1(c, found),
        Case::S1b(c) => check_s1b(c, found),
        Case::V2(c) => check_v2(c, found),
        Case::S5(c) => check_s5(c, found),
        Case::S6(c) => check_s6(c, found),
    }
}

/// Runs the case's check and returns its findings.
pub fn findings(c: &Case) -> (Tally, Vec<Finding>) {
    let mut all = Vec::new();
    let t = check(c, &mut |f| all.push(f));
    (t, all)
}
