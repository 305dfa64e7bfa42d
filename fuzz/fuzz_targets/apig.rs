#![no_main]
//! APIG canonicalisation, signing and verification of arbitrary requests (S6). See `koosign_fuzz::apig::check`.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|case: koosign_fuzz::apig::Case<'_>| {
    let _ = koosign_fuzz::apig::check(&case);
});
