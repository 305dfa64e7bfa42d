#![no_main]
//! The nonce cache under arbitrary operation sequences. See `koosign_fuzz::nonce::check`.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|case: koosign_fuzz::nonce::Case| {
    koosign_fuzz::nonce::check(&case);
});
