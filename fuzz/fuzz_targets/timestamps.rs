#![no_main]
//! Timestamp parsers and format/parse round trips. See `koosign_fuzz::time::check`.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|case: koosign_fuzz::time::Case<'_>| {
    koosign_fuzz::time::check(&case);
});
