//! Replays the seed corpora (`corpus/<target>/`, written by `seed.py`) and
//! the saved crash inputs (`regressions/<target>/`) through the targets'
//! checks without libFuzzer, and checks that every `seed-ok-*` seed really
//! verifies (or decrypts), so the fuzzers start behind the signature check.
//!
//! Run after seeding: `python3 seed.py && cargo test` (seed.py reads the
//! repository's `vectors/`, or `$KOOSIGN_VECTORS`). An empty or missing seed
//! corpus fails the test: it is never skipped.

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
        "merchant" => merchant::check(&case(data)),
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
    assert!(
        dir.is_dir(),
        "no seed corpus at {}: run `python3 fuzz/seed.py` (it reads the repository's vectors/)",
        dir.display()
    );
    let n = replay(&dir, true);
    assert!(n > 0, "the seed corpus at {} is empty: run `python3 fuzz/seed.py`", dir.display());
    let ok = count_ok_seeds(&dir);
    assert!(ok > 0, "no seed-ok-* seeds in {}: the vectors did not reach the verified paths", dir.display());
    eprintln!("replayed {n} corpus files ({ok} seed-ok-*)");
}

fn count_ok_seeds(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .flat_map(|t| std::fs::read_dir(t.path()).into_iter().flatten().flatten())
        .filter(|f| f.file_name().to_string_lossy().starts_with("seed-ok-"))
        .count()
}

#[test]
fn saved_crashes_stay_fixed() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("regressions");
    let n = replay(&dir, false);
    eprintln!("replayed {n} saved crash inputs");
}
