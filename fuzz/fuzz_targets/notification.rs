#![no_main]
//! Notification JSON parsing, differential against serde_json. See `koosign_fuzz::json::check`.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|body: &[u8]| {
    let _ = koosign_fuzz::json::check(body);
});
