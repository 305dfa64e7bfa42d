//! Replays the seed corpora (`corpus/<target>/`, written by `seed.py`) and
//! the saved crash inputs (`regressions/<target>/`) through the targets'
//! checks without libFuzzer, and checks that every `seed-ok-*` seed really
//! verifies (or decrypts), so the fuzzers start behind the signature check.
//!
//! Run after seeding: `python3 seed.py ../../shared/vectors corpus && cargo test`.

use arbitrary::{Arbitrary, Unstructured};
use std::path::Path;

fn run(target: &str, data: &[u8]) -> Option<Result<(), &'static str>> {
    fn case<'a, T: Arbitrary<'a>>(data: &'a [u8]) -> T {
        T::arbitrary_take_rest(Unstructured::new(data)).expect("every input is a case")
    }
    use koosign_fuzz::*;
    Some(match target {
        "v1_query" => v1::check_query(&case(data)),
        "v1_json" => v1::check_json(&case(data)),
        "v2_verify" => v2::check(&case(data)),
        "body_sign" => headers::check_body_sign(&case(data)),
        "licence" => headers::check_licence(&case(data)),
        "field_decrypt" => field::check(&case(data)),
        "apig" => apig::check(&case(data)),
        "injectivity" => injectivity::check(&case(data)),
        "notification" => json::check(data),
        "http_response" => http::check(&case(data)),
        "nonce_cache" => {
            if let Ok(c) = nonce::Case::arbitrary_take_rest(Unstructured::new(data)) {
                nonce::check(&c);
            }
            Ok(())
        }
        "timestamps" => {
            time::check(&case(data));
            Ok(())
        }
        "roundtrip" => {
            roundtrip::check(&case(data));
            Ok(())
        }
        _ => return None,
    })
}

fn replay(dir: &Path, check_ok: bool) -> usize {
    let mut n = 0;
    let Ok(targets) = std::fs::read_dir(dir) else { return 0 };
    for t in targets.flatten() {
        let target = t.file_name().to_string_lossy().into_owned();
        let Ok(files) = std::fs::read_dir(t.path()) else { continue };
        for f in files.flatten() {
            let name = f.file_name().to_string_lossy().into_owned();
            let data = std::fs::read(f.path()).expect("read");
            let r = run(&target, &data).unwrap_or_else(|| panic!("unknown target folder {target}"));
            if check_ok && name.starts_with("seed-ok-") {
                assert_eq!(r, Ok(()), "{target}/{name} should verify");
            }
            n += 1;
        }
    }
    n
}

#[test]
fn seeds_reach_the_verified_paths() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let n = replay(&dir, true);
    eprintln!("replayed {n} corpus files");
}

#[test]
fn saved_crashes_stay_fixed() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("regressions");
    let n = replay(&dir, false);
    eprintln!("replayed {n} saved crash inputs");
}
