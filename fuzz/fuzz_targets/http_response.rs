#![no_main]
//! `koosign simulate`'s HTTP response parser (koosign-wire), fed in arbitrary
//! splits. See `koosign_fuzz::http::check`.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|case: koosign_fuzz::http::Case<'_>| {
    let _ = koosign_fuzz::http::check(&case);
});
