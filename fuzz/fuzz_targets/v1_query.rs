#![no_main]
//! V1 query parsing and verification (S1). See `koosign_fuzz::v1::check_query`.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|case: koosign_fuzz::v1::QueryCase<'_>| {
    let _ = koosign_fuzz::v1::check_query(&case);
});
