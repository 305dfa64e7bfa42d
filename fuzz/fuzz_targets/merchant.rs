#![no_main]
//! The keyed merchant context against its steps. See `koosign_fuzz::merchant::check`.
use libfuzzer_sys::fuzz_target;

fuzz_target!(|case: koosign_fuzz::merchant::Case<'_>| {
    let _ = koosign_fuzz::merchant::check(&case);
});
