//! The differential / round-trip target: whatever a koosign signer or
//! encrypter produces, the matching verifier or decrypter accepts (no error
//! at all), and any one-byte change of the token, signature, body or
//! ciphertext is refused (AES-CBC has no MAC: a changed ciphertext must at
//! least not decrypt to the same plaintext).
//!
//! Inputs are kept to what the marketplace and a merchant actually send
//! (documented per scheme below); within that, nothing is excluded.

use crate::apig::{check_sign, MAX_DATE_MS};
use crate::input;
use crate::util;
use arbitrary::{Arbitrary, Unstructured};
use koosign::{
    body_sign, build_v1_query, decrypt_field, encrypt_field, format_sdk_date, format_unix_ms, format_v1_timestamp,
    licence_sign, parse_form, random_iv, sign_v2, v1_auth_token, verify_body_sign, verify_licence, verify_v1_query, verify_v2,
    ApigRequest, DecryptMode, EncryptType, Error, FieldCipher, FieldKey, Freshness, NonceCache, V1Params, V2Auth,
    V2Scheme,
};
use koosign::Replay;
use koosign::apig::MAX_PATH;
use koosign::field::{IV_LEN, MAX_PLAINTEXT_LEN};
use koosign::v2::MAX_NONCE_LEN;

/// Layout: `text` key, `u64` time (ms), `list(text, text; 70)` V1
/// params, `byte` where `timeStamp` goes, `text` nonce, `bytes` body,
/// `text` plaintext, 16 × `byte` IV, `byte` flags, `u16` mutation position,
/// `byte` mutation value, `text` method, `text` host, `text` path,
/// `list(text, text; 20)` query, `list(text, text; 12)` headers, `text` AK,
/// `text` SK, `rest` random bytes.
#[derive(Debug, Clone)]
pub struct Case<'a> {
    pub key: &'a str,
    pub time: u64,
    pub params: Vec<(&'a str, &'a str)>,
    pub ts_pos: u8,
    pub nonce: &'a str,
    pub body: &'a [u8],
    pub plaintext: &'a str,
    pub iv: [u8; 16],
    pub flags: u8,
    pub mut_pos: u16,
    pub mut_byte: u8,
    pub method: &'a str,
    pub host: &'a str,
    pub path: &'a str,
    pub query: Vec<(&'a str, &'a str)>,
    pub headers: Vec<(&'a str, &'a str)>,
    pub ak: &'a str,
    pub sk: &'a str,
    pub random: &'a [u8],
}

impl<'a> Arbitrary<'a> for Case<'a> {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        let key = input::text(u);
        let time = input::u64(u);
        let params = input::pairs(u, 70);
        let ts_pos = input::byte(u);
        let nonce = input::text(u);
        let body = input::bytes(u);
        let plaintext = input::text(u);
        let mut iv = [0u8; 16];
        for b in &mut iv {
            *b = input::byte(u);
        }
        Ok(Case {
            key,
            time,
            params,
            ts_pos,
            nonce,
            body,
            plaintext,
            iv,
            flags: input::byte(u),
            mut_pos: input::u16(u),
            mut_byte: input::byte(u),
            method: input::text(u),
            host: input::text(u),
            path: input::text(u),
            query: input::pairs(u, 20),
            headers: input::pairs(u, 12),
            ak: input::text(u),
            sk: input::text(u),
            random: input::rest(u),
        })
    }
}

/// A random source that hands out the fuzzer's bytes, then fails.
pub struct FuzzRng<'a>(pub &'a [u8]);

impl rand_core::TryRng for FuzzRng<'_> {
    type Error = core::fmt::Error;
    fn try_next_u32(&mut self) -> Result<u32, Self::Error> {
        let mut b = [0u8; 4];
        self.try_fill_bytes(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }
    fn try_next_u64(&mut self) -> Result<u64, Self::Error> {
        let mut b = [0u8; 8];
        self.try_fill_bytes(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }
    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
        if self.0.len() < dst.len() {
            return Err(core::fmt::Error);
        }
        let (now, later) = self.0.split_at(dst.len());
        dst.copy_from_slice(now);
        self.0 = later;
        Ok(())
    }
}
impl rand_core::TryCryptoRng for FuzzRng<'_> {}

const ALNUM: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/// 9999-12-31T23:59:59.999Z: the last instant the 17-digit V1 timestamp holds.
const MAX_V1_MS: u64 = crate::time::MAX_V1_MS;

/// The `roundtrip` target.
pub fn check(c: &Case<'_>) {
    // (V2 and licence times are brought to 13 digits by `unix13`.)
    let c = &Case { time: c.time % 10_000_000_000_000_000_000, ..c.clone() };
    v1(c);
    v2(c);
    body_sign_rt(c);
    licence(c);
    aes(c);
    apig(c);
}

/// S1: `build_v1_query` → `verify_v1_query`, token changes refused. Parameters:
/// any names and values (any Unicode, repeated names, `authToken` among
/// them); one valid `timeStamp`. Ambiguous parameters (SCHEMES.md S1 item
/// 10) are built all the same and must be refused as `Ambiguous`.
pub fn v1(c: &Case<'_>) {
    let ms = c.time % (MAX_V1_MS + 1);
    let ts = format_v1_timestamp(ms);
    let mut params: Vec<(&str, &str)> = c.params.iter().copied().filter(|(n, _)| *n != "timeStamp").collect();
    let at = usize::from(c.ts_pos) % (params.len() + 1);
    params.insert(at, ("timeStamp", ts.as_str()));
    let needed = match build_v1_query(&params, c.key, &mut []) {
        Err(Error::BufferTooSmall { needed }) => needed,
        Err(Error::NoAccessKey) => return assert!(c.key.is_empty()),
        Err(Error::InputTooLarge { limit }) => {
            // The query carries the signed parameters and authToken.
            let signed = params.iter().filter(|(n, _)| *n != "authToken").count();
            assert!(signed + 1 > limit, "refused {signed} parameters");
            return;
        }
        r => panic!("build_v1_query into an empty buffer: {r:?}"),
    };
    let mut out = vec![0u8; needed];
    let q = build_v1_query(&params, c.key, &mut out).expect("exact buffer").to_owned();
    let token = v1_auth_token(&params, c.key).expect("token");
    // Parsing the query back gives the parameters (authToken last).
    let mut s = vec![0u8; q.len()];
    let pairs = parse_form(&q, &mut s).expect("own query parses");
    let mut expected: Vec<(&str, &str)> = params.iter().copied().filter(|(n, _)| *n != "authToken").collect();
    expected.push(("authToken", token.as_str()));
    assert_eq!(pairs.as_slice(), &expected[..], "parse_form(build_v1_query(p)) != p");
    // SCHEMES.md S1 item 10: the signer does not judge, the verifier
    // refuses an ambiguous request before the MAC, whatever the token.
    if util::v1_ambiguous(&params) {
        let mut s = vec![0u8; q.len()];
        let r = V1Params::parse(&q, &mut s).map(|_| ());
        assert!(matches!(r, Err(Error::Ambiguous(_))), "ambiguous query not refused: {r:?}\n{q}");
        let mut s = vec![0u8; q.len()];
        let r = verify_v1_query(&q, &[c.key], Freshness::new(ms), Replay::Unchecked, &mut s).map(|v| v.key_index());
        assert_eq!(r.err(), V1Params::parse(&q, &mut vec![0u8; q.len()]).err(), "verify_v1_query differs from V1Params::parse");
        return;
    }
    let mut s = vec![0u8; q.len()];
    let p = V1Params::parse(&q, &mut s).expect("own query parses");
    let mut cbuf = vec![0u8; p.canonical_len()];
    assert_eq!(p.canonical(&mut cbuf).expect("canonical"), util::v1_canonical(&params, false));
    let mut s = vec![0u8; q.len()];
    let v = verify_v1_query(&q, &[c.key], Freshness::new(ms), Replay::Unchecked, &mut s)
        .unwrap_or_else(|e| panic!("build_v1_query -> verify_v1_query failed: {e:?}\n{q}"));
    assert_eq!(v.key_index(), 0);
    assert_eq!(v.time_stamp_ms(), ms);
    // A one-byte change of the token fails ('+' read as space is the one
    // documented equivalence).
    let tok = token.as_str();
    let i = util::index(tok, c.mut_pos.into());
    if let Some(m) = util::mutate(tok, i, c.mut_byte) {
        if !(tok.as_bytes()[i] == b'+' && c.mut_byte == b' ') {
            let cut = q.rfind("authToken=").expect("token last");
            let forged = format!("{}authToken={}", &q[..cut], util::form_encode(m.as_bytes()));
            let mut s = vec![0u8; forged.len()];
            let r = verify_v1_query(&forged, &[c.key], Freshness::Unchecked, Replay::Unchecked, &mut s);
            assert!(r.is_err(), "changed token verified: {forged}");
        }
    }
}

/// A time as S2/S2b/S5 send it: Unix ms in 13 digits without a leading
/// zero (SCHEMES.md S2 decision), i.e. 2001-09-09 to 2286-11-20.
fn unix13(time: u64) -> u64 {
    1_000_000_000_000 + time % 9_000_000_000_000
}

/// S2 / S2b: `sign_v2` → `verify_v2` (direct, from the query, from kit
/// headers), replay refused, signature and body changes refused. Nonces of
/// 1 to 256 printable ASCII characters without space, 13-digit timestamps
/// (SCHEMES.md S2 decisions; other nonces are refused as malformed, a kit
/// body starting with a digit as ambiguous).
pub fn v2(c: &Case<'_>) {
    if c.key.is_empty() {
        assert_eq!(sign_v2(V2Scheme::Query, c.body, c.key, c.nonce, "1").err(), Some(Error::NoAccessKey));
        return;
    }
    if c.nonce.is_empty() || c.nonce.len() > MAX_NONCE_LEN {
        return;
    }
    let time = unix13(c.time);
    let ts = format_unix_ms(time);
    let fresh = Freshness::new(time);
    // S2b: the body starts with `{`, the nonce has none.
    let kit_refused = |body: &[u8], scheme: V2Scheme| scheme == V2Scheme::Headers && !util::kit_ok(c.nonce, body);
    for scheme in [V2Scheme::Query, V2Scheme::Headers] {
        let kit = scheme == V2Scheme::Headers;
        let sig = sign_v2(scheme, c.body, c.key, c.nonce, ts.as_str()).expect("sign_v2");
        assert_eq!(sig.as_str(), crate::v2::spec_signature(kit, c.body, c.key, c.nonce, ts.as_str()));
        let auth = V2Auth { signature: sig.as_str(), timestamp: ts.as_str(), nonce: c.nonce };
        if !c.nonce.bytes().all(|b| b.is_ascii_graphic()) {
            let r = verify_v2(scheme, &auth, c.body, &[c.key], fresh, Replay::Unchecked);
            assert_eq!(r.err(), Some(Error::MalformedEncoding("nonce must be printable ASCII")));
            continue;
        }
        if kit_refused(c.body, scheme) {
            let r = verify_v2(scheme, &auth, c.body, &[c.key], fresh, Replay::Unchecked).err();
            assert!(matches!(r, Some(Error::Ambiguous(_))), "kit request not refused as ambiguous: {r:?}");
            continue;
        }
        let mut cache = NonceCache::<2>::new();
        let v = verify_v2(scheme, &auth, c.body, &[c.key], fresh, Replay::Store(&mut cache))
            .unwrap_or_else(|e| panic!("sign_v2 -> verify_v2 ({scheme:?}) failed: {e:?}"));
        assert_eq!((v.key_index(), v.timestamp_ms(), v.body()), (0, time, c.body));
        assert_eq!(
            verify_v2(scheme, &auth, c.body, &[c.key], fresh, Replay::Store(&mut cache)).err(),
            Some(Error::ReplayedNonce)
        );
        let lower = sig.as_str().to_ascii_lowercase();
        let auth_l = V2Auth { signature: &lower, ..auth };
        assert!(verify_v2(scheme, &auth_l, c.body, &[c.key], fresh, Replay::Unchecked).is_ok(), "lower-case hex refused");
        // Through the query string.
        let q = format!("signature={}&timestamp={}&nonce={}", sig.as_str(), ts.as_str(), util::form_encode(c.nonce.as_bytes()));
        let mut s = vec![0u8; q.len()];
        let from_q = V2Auth::from_query(&q, &mut s).expect("own query");
        assert_eq!(from_q, auth);
        // Through kit headers.
        if c.nonce == c.nonce.trim() {
            let h = [("X-Sign", sig.as_str()), ("x-timestamp", ts.as_str()), ("X-NONCE", c.nonce)];
            assert_eq!(V2Auth::from_headers(&h), Ok(auth));
        }
        // One-byte changes.
        let s = sig.as_str();
        if let Some(m) = util::mutate(s, c.mut_pos.into(), c.mut_byte) {
            if !m.eq_ignore_ascii_case(s) {
                let forged = V2Auth { signature: &m, ..auth };
                assert_eq!(verify_v2(scheme, &forged, c.body, &[c.key], fresh, Replay::Unchecked).err(), Some(Error::SignatureMismatch));
            }
        }
        if !c.body.is_empty() {
            let mut b = c.body.to_vec();
            let i = usize::from(c.mut_pos) % b.len();
            b[i] ^= c.mut_byte | 1;
            let r = verify_v2(scheme, &auth, &b, &[c.key], fresh, Replay::Unchecked).err();
            if kit_refused(&b, scheme) {
                assert!(matches!(r, Some(Error::Ambiguous(_))), "{r:?}");
            } else {
                assert_eq!(r, Some(Error::SignatureMismatch));
            }
        }
    }
}

/// S3: `body_sign` → `verify_body_sign`; signature and body changes refused.
pub fn body_sign_rt(c: &Case<'_>) {
    let Ok(h) = body_sign(c.body, c.key) else {
        return assert!(c.key.is_empty());
    };
    assert_eq!(verify_body_sign(h.as_str(), c.body, &[c.key]).map(|v| v.key_index()), Ok(0), "body_sign -> verify_body_sign failed");
    let value = h.as_str();
    // Only the signature's characters (between the quotes).
    let start = value.len() - 45;
    let i = start + usize::from(c.mut_pos) % 44;
    if let Some(m) = util::mutate(value, i, c.mut_byte) {
        assert!(verify_body_sign(&m, c.body, &[c.key]).is_err(), "changed Body-Sign verified: {m}");
    }
    if !c.body.is_empty() {
        let mut b = c.body.to_vec();
        let i = usize::from(c.mut_pos) % b.len();
        b[i] ^= c.mut_byte | 1;
        assert_eq!(verify_body_sign(value, &b, &[c.key]), Err(Error::SignatureMismatch));
    }
}

/// S5: `licence_sign` → `verify_licence`; changes refused. 13-digit `ts`;
/// a nonce that is empty or contains `&` is refused (SCHEMES.md S5 decision).
pub fn licence(c: &Case<'_>) {
    let time = unix13(c.time);
    let ts = format_unix_ms(time);
    let Ok(sig) = licence_sign(ts.as_str(), c.nonce, c.body, c.key) else {
        return assert!(c.key.is_empty());
    };
    let got = verify_licence(ts.as_str(), c.nonce, c.body, sig.as_str(), &[c.key], Freshness::new(time)).map(|v| v.key_index());
    if c.nonce.is_empty() {
        return assert_eq!(got, Err(Error::MissingParameter("nonce")));
    }
    if c.nonce.contains('&') {
        return assert_eq!(got, Err(Error::Ambiguous("licence nonce contains `&`")));
    }
    assert_eq!(got, Ok(0), "licence_sign -> verify_licence failed");
    let s = sig.as_str();
    let i = util::index(s, c.mut_pos.into());
    if let Some(m) = util::mutate(s, i, c.mut_byte) {
        if !(s.as_bytes()[i] == b'+' && c.mut_byte == b' ') {
            assert!(verify_licence(ts.as_str(), c.nonce, c.body, &m, &[c.key], Freshness::Unchecked).is_err(), "changed signature verified");
        }
    }
}

/// S4: `encrypt_with_iv` / `encrypt_field` → `decrypt`; a one-byte change
/// never decrypts to the same plaintext. Any plaintext up to 79 bytes.
pub fn aes(c: &Case<'_>) {
    let ty = if c.flags & 1 == 0 { EncryptType::Aes256 } else { EncryptType::Aes128 };
    let key = FieldKey::derive(c.key, ty);
    let iv: [u8; IV_LEN] = c.iv.map(|b| ALNUM[usize::from(b) % 62]);
    let mut out = [0u8; 128];
    let wire = match key.encrypt_with_iv(c.plaintext, &iv, &mut out) {
        Ok(w) => w.to_owned(),
        Err(Error::NoAccessKey) => return assert!(c.key.is_empty()),
        Err(e) => {
            assert!(c.plaintext.len() > MAX_PLAINTEXT_LEN, "encrypt_with_iv refused a short plaintext: {e:?}");
            assert_eq!(e, Error::InputTooLarge { limit: 128 });
            return;
        }
    };
    assert!(wire.len() <= 128 && wire.as_bytes()[..IV_LEN] == iv);
    let mut buf = vec![0u8; wire.len()];
    assert_eq!(key.decrypt(&wire, &mut buf).map(str::to_owned), Ok(c.plaintext.to_owned()), "encrypt -> decrypt");
    let mut buf = vec![0u8; wire.len()];
    assert_eq!(decrypt_field(&wire, c.key, DecryptMode::Only(ty), &mut buf), Ok(c.plaintext));
    // Auto: the plaintext, unless (AES-128 only) the AES-256 key happens
    // to decrypt it too (valid padding and UTF-8), the documented ambiguity.
    let cipher = FieldCipher::new(c.key);
    let mut buf = vec![0u8; wire.len()];
    let auto = cipher.decrypt(&wire, DecryptMode::Auto, &mut buf).map(str::to_owned).expect("Auto decrypts");
    if auto != c.plaintext {
        assert_eq!(ty, EncryptType::Aes128);
        assert_eq!(cipher.detect(&wire), Some(EncryptType::Aes256));
    }
    // Space-as-plus repair.
    let spaced = wire.replace('+', " ");
    let mut buf = vec![0u8; wire.len()];
    assert_eq!(key.decrypt(&spaced, &mut buf), Ok(c.plaintext));
    // One-byte change.
    let i = util::index(&wire, c.mut_pos.into());
    if let Some(m) = util::mutate(&wire, i, c.mut_byte) {
        if !(wire.as_bytes()[i] == b'+' && c.mut_byte == b' ') {
            let mut buf = vec![0u8; m.len()];
            let r = key.decrypt(&m, &mut buf);
            assert_ne!(r, Ok(c.plaintext), "a changed ciphertext decrypted to the same plaintext: {m}");
        }
    }
    // Random IVs from the fuzzer's bytes.
    match random_iv(&mut FuzzRng(c.random)) {
        Ok(iv) => assert!(iv.iter().all(u8::is_ascii_alphanumeric)),
        Err(e) => assert_eq!(e, Error::RandomSource),
    }
    let mut out = [0u8; 128];
    match encrypt_field(c.plaintext, c.key, ty, &mut FuzzRng(c.random), &mut out) {
        Ok(w) => {
            assert!(w.as_bytes()[..IV_LEN].iter().all(u8::is_ascii_alphanumeric));
            let w = w.to_owned();
            let mut buf = vec![0u8; w.len()];
            assert_eq!(decrypt_field(&w, c.key, DecryptMode::Only(ty), &mut buf), Ok(c.plaintext));
        }
        Err(e) => assert_eq!(e, Error::RandomSource),
    }
}

/// S6: `sign_apig` → `verify_apig` for requests an HTTP client sends:
/// header names are tokens (no `Authorization` yet), a method of letters,
/// an AK of visible ASCII without `,`, a non-empty SK, a date with a
/// four-digit year (given as `X-Sdk-Date`, in either case, or made from the
/// clock); anything for host, path, query, header values and body.
pub fn apig(c: &Case<'_>) {
    let headers: Vec<(&str, &str)> = c
        .headers
        .iter()
        .copied()
        .filter(|(n, _)| util::is_token(n) && !n.eq_ignore_ascii_case("authorization") && !n.eq_ignore_ascii_case("x-sdk-date"))
        .collect();
    // An AK is visible ASCII without `,` and a method is letters (the signer
    // refuses anything else).
    let ak_ok = !c.ak.is_empty() && c.ak.bytes().all(|b| b.is_ascii_graphic() && b != b',');
    let ak = if ak_ok { c.ak } else { "AccessKey" };
    let sk = if c.sk.is_empty() { "SecretKey" } else { c.sk };
    let method_ok = !c.method.is_empty() && c.method.bytes().all(|b| b.is_ascii_alphabetic());
    let method = if method_ok { c.method } else { "GET" };
    let now = c.time % (MAX_DATE_MS + 1);
    let date = format_sdk_date(now);
    let lower_date = date.as_str().to_ascii_lowercase();
    let mut with_date = headers.clone();
    let clock = match (c.flags >> 1) % 3 {
        0 => Some(now),
        1 => {
            with_date.insert(0, ("X-Sdk-Date", date.as_str()));
            None
        }
        _ => {
            with_date.push(("x-sdk-date", &lower_date));
            None
        }
    };
    let req = ApigRequest { method, host: c.host, path: c.path, query: &c.query, headers: &with_date, body: c.body };
    let ran = check_sign(&req, ak, sk, clock);
    assert!(ran || c.path.len() > MAX_PATH, "sign_apig refused or did not round-trip a sendable request: {req:?}");
}
