#![no_main]
//! Sign -> verify and encrypt -> decrypt round trips; one-byte changes refused. See `koosign_fuzz::roundtrip::check`.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|case: koosign_fuzz::roundtrip::Case<'_>| {
    koosign_fuzz::roundtrip::check(&case);
});
