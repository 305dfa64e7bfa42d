#![no_main]
//! Licence ts/nonce/signature verification (S5). See `koosign_fuzz::headers::check_licence`.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|case: koosign_fuzz::headers::LicenceCase<'_>| {
    let _ = koosign_fuzz::headers::check_licence(&case);
});
