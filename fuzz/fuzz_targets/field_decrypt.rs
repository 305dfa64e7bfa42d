#![no_main]
//! Field decryption of arbitrary wire strings, every mode (S4). See `koosign_fuzz::field::check`.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|case: koosign_fuzz::field::Case<'_>| {
    let _ = koosign_fuzz::field::check(&case);
});
