//! The `out` size of [`crate::sign_apig`], as a `const fn` (kept beside
//! `apig.rs` so that file's owner can move it in: it is re-exported as
//! `koosign::apig_sign_out_len`).

use crate::apig::ApigRequest;

/// Bytes of `out` that [`crate::sign_apig`] never exceeds for `req` signed
/// with an AK of `ak_len` bytes: an upper bound of the canonical request,
/// the string to sign and the `Authorization` value it writes there
/// (docs/SCHEMES.md §S6). Each path byte counts 3 (a decoded byte is
/// encoded in at most 3; an invalid UTF-8 byte, `%EF%BF%BD`, came from a
/// 3-byte `%XX`), each query byte 3 (percent-encoded), header
/// names three times (canonical headers, `SignedHeaders` in the canonical
/// request and in `Authorization`) and values twice (a value may be the
/// body hash), with room for the `Host`, `X-Sdk-Date` and
/// `X-Sdk-Content-Sha256` headers the signer may add.
pub const fn apig_sign_out_len(req: &ApigRequest<'_>, ak_len: usize) -> usize {
    // Added headers: `x-sdk-date:…\n`, `host:…\n`, `x-sdk-content-sha256:UNSIGNED-PAYLOAD\n`, their names again.
    let added = (10 + 1 + 16 + 1) + (4 + 1 + req.host.len() + 1) + (20 + 1 + 16 + 1) + 2 * (10 + 4 + 20 + 3);
    let mut n = req.method.len() + 1 + 3 * req.path.len() + 2 + 1 + 1 + 64 + added;
    let mut i = 0;
    while i < req.query.len() {
        n += 3 * (req.query[i].0.len() + req.query[i].1.len()) + 2;
        i += 1;
    }
    let mut j = 0;
    while j < req.headers.len() {
        n += 3 * (req.headers[j].0.len() + 1) + 2 * req.headers[j].1.len() + 2;
        j += 1;
    }
    // String to sign: algorithm, date, hash; Authorization: its fixed text, the AK, the signature.
    n + (15 + 1 + 16 + 1 + 64) + (15 + 8 + ak_len + 16 + 12 + 64)
}
