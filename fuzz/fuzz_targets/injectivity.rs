#![no_main]
//! Two different requests, one key, one signature, two views: a forgery (issue 11). See `koosign_fuzz::injectivity::check`.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|case: koosign_fuzz::injectivity::Case| {
    let _ = koosign_fuzz::injectivity::check(&case);
});
