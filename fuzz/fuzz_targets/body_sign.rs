#![no_main]
//! Body-Sign header parsing and verification (S3). See `koosign_fuzz::headers::check_body_sign`.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|case: koosign_fuzz::headers::BodySignCase<'_>| {
    let _ = koosign_fuzz::headers::check_body_sign(&case);
});
