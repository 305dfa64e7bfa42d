//! Native-Rust loops exported with the C ABI, for the C-API overhead bench
//! (`benches/c/capi_overhead.c`): the C program times `n` calls of
//! libkoosign's `koosign_verify_v1` / `koosign_body_sign` against one call
//! of these, which run the same koosign functions `n` times inside Rust
//! (the one C→Rust crossing per batch is amortised away), interleaved in
//! one process.

use std::hint::black_box;

/// Runs `koosign::verify_v1_query(query, &[key], koosign::Freshness::Unchecked, koosign::Replay::Unchecked, scratch)` `iters` times;
/// returns how many verified (so that nothing is optimised away).
///
/// # Safety
/// `query`/`key` valid for `query_len`/`key_len` bytes of UTF-8.
#[no_mangle]
pub unsafe extern "C" fn koosign_bench_native_verify_v1(
    query: *const u8,
    query_len: usize,
    key: *const u8,
    key_len: usize,
    iters: u64,
) -> u64 {
    let q = unsafe { std::str::from_utf8_unchecked(std::slice::from_raw_parts(query, query_len)) };
    let k = unsafe { std::str::from_utf8_unchecked(std::slice::from_raw_parts(key, key_len)) };
    let mut scratch = [0u8; 1024];
    let mut ok = 0;
    for _ in 0..iters {
        // The key is hidden from the optimiser as the query is: each C call
        // gets it afresh, so the reference must not hoist key-only work
        // (HMAC key setup) out of the loop either.
        let r = koosign::verify_v1_query(black_box(q), &[black_box(k)], koosign::Freshness::Unchecked, koosign::Replay::Unchecked, &mut scratch).map(|v| v.key_index());
        ok += u64::from(black_box(r).is_ok());
    }
    ok
}

/// Runs `koosign::body_sign(body, key)` `iters` times and copies the
/// 81-byte value into `out` each time (as the C API must).
///
/// # Safety
/// `body`/`key` valid for their lengths; `out` valid for 81 bytes.
#[no_mangle]
pub unsafe extern "C" fn koosign_bench_native_body_sign(
    body: *const u8,
    body_len: usize,
    key: *const u8,
    key_len: usize,
    out: *mut u8,
    iters: u64,
) -> u64 {
    let b = unsafe { std::slice::from_raw_parts(body, body_len) };
    let k = unsafe { std::str::from_utf8_unchecked(std::slice::from_raw_parts(key, key_len)) };
    let out = unsafe { std::slice::from_raw_parts_mut(out, koosign::BODY_SIGN_VALUE_LEN) };
    let mut ok = 0;
    for _ in 0..iters {
        // The key is hidden from the optimiser (see above).
        if let Ok(h) = koosign::body_sign(black_box(b), black_box(k)) {
            out.copy_from_slice(h.as_bytes());
            ok += 1;
        }
        black_box(&mut *out);
    }
    ok
}
