#![no_main]
//! V2 and kit verification with a nonce cache (S2, S2b). See `koosign_fuzz::v2::check`.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|case: koosign_fuzz::v2::Case<'_>| {
    let _ = koosign_fuzz::v2::check(&case);
});
