#![no_main]
//! V1 licence-kit POST: token header + JSON body (S1b). See `koosign_fuzz::v1::check_json`.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|case: koosign_fuzz::v1::JsonCase<'_>| {
    let _ = koosign_fuzz::v1::check_json(&case);
});
