//! docs/ERRORS.md (written by scripts/gen-errors.py from the sources) agrees
//! with the real `Error::ALL`, `Error::code` and `answer::result_code`.

use koosign::answer::{result_code, Stage};
use koosign::Error;

#[test]
fn errors_md_rows_are_the_core_table() {
    let doc = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/ERRORS.md")).unwrap();
    let rows: Vec<Vec<&str>> = doc
        .lines()
        .filter(|l| l.starts_with("| `"))
        .map(|l| l.trim_matches('|').split(" | ").map(|c| c.trim().trim_matches('`')).collect())
        .collect();
    assert_eq!(rows.len(), Error::ALL.len(), "one row per variant");
    for (e, row) in Error::ALL.iter().zip(&rows) {
        assert_eq!(row[1], e.code(), "{row:?}");
        assert_eq!(row[5], result_code(e, Stage::BeforeAuthentication).as_str(), "{row:?}");
        assert_eq!(row[6], result_code(e, Stage::Authenticated).as_str(), "{row:?}");
        assert!(row[4].starts_with(&format!("KOOSIGN_{}", e.code())), "{row:?}");
    }
}
