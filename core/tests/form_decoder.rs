//! The one-pass query decoder (issue 14) against a plain reference written
//! from docs/SCHEMES.md §S1 item 1: split on `&`, skip empty segments, split
//! on the first `=`, `+` → space, `%XY` → byte (an incomplete or non-hex
//! escape is an error), each name and value UTF-8 on its own; more than 64
//! pairs is `InputTooLarge` (after that pair's escapes are checked).

use koosign::{parse_form, verify_v1_query, Error, Freshness, Replay};
use proptest::prelude::*;

fn reference(q: &str) -> Result<Vec<(String, String)>, Error> {
    let q = q.strip_prefix('?').unwrap_or(q);
    let decode = |s: &str| -> Result<Vec<u8>, Error> {
        let b = s.as_bytes();
        let mut out = Vec::new();
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                b'+' => {
                    out.push(b' ');
                    i += 1;
                }
                b'%' => {
                    let h = |j: usize| b.get(j).and_then(|c| (*c as char).to_digit(16));
                    match (h(i + 1), h(i + 2)) {
                        (Some(x), Some(y)) => out.push((x * 16 + y) as u8),
                        _ => return Err(Error::MalformedEncoding("invalid percent escape")),
                    }
                    i += 3;
                }
                c => {
                    out.push(c);
                    i += 1;
                }
            }
        }
        Ok(out)
    };
    let mut raw = Vec::new();
    for seg in q.split('&').filter(|s| !s.is_empty()) {
        let (n, v) = seg.split_once('=').unwrap_or((seg, ""));
        let pair = (decode(n)?, decode(v)?);
        if raw.len() == 64 {
            return Err(Error::InputTooLarge { limit: 64 });
        }
        raw.push(pair);
    }
    let utf8 = |b: Vec<u8>| String::from_utf8(b).map_err(|_| Error::MalformedEncoding("decoded query is not UTF-8"));
    raw.into_iter().map(|(n, v)| Ok((utf8(n)?, utf8(v)?))).collect()
}

fn check(q: &str) -> Result<(), TestCaseError> {
    let mut s = vec![0u8; q.len()];
    let got = parse_form(q, &mut s)
        .map(|p| p.as_slice().iter().map(|(a, b)| (a.to_string(), b.to_string())).collect::<Vec<_>>());
    prop_assert_eq!(got, reference(q), "query {:?}", q);
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]
    #[test]
    fn parse_form_matches_the_reference(parts in prop::collection::vec(
        prop::sample::select(vec!["a", "b", "=", "&", "&&", "%", "%2", "%26", "%3D", "%3d", "%2B", "+", "%E4", "%B8%AD", "%E4%B8%AD", "é", "中", "%zz", "?", "authToken", "timeStamp"]), 0..40)) {
        check(&parts.concat())?;
    }

    #[test]
    fn many_pairs(n in 60usize..70, bad_last in any::<bool>()) {
        let mut q = (0..n).map(|i| format!("p{i}=v")).collect::<Vec<_>>().join("&");
        if bad_last { q.push_str("%z"); }
        check(&q)?;
    }
}

#[test]
fn v1_errors_keep_their_order() {
    let mut s = [0u8; 256];
    // A percent error after a UTF-8 error: the percent error wins (decoding first).
    assert_eq!(
        verify_v1_query("a=%E4&b=%zz", &["k"], Freshness::Unchecked, Replay::Unchecked, &mut s).err(),
        Some(Error::MalformedEncoding("invalid percent escape"))
    );
    assert_eq!(
        verify_v1_query("a=%E4&b=1", &["k"], Freshness::Unchecked, Replay::Unchecked, &mut s).err(),
        Some(Error::MalformedEncoding("decoded query is not UTF-8"))
    );
    // A piece cut inside a UTF-8 sequence: the name alone is not UTF-8.
    assert_eq!(
        verify_v1_query("%E4%B8=%AD", &["k"], Freshness::Unchecked, Replay::Unchecked, &mut s).err(),
        Some(Error::MalformedEncoding("decoded query is not UTF-8"))
    );
    // Missing authToken before missing timeStamp before ambiguity.
    assert_eq!(verify_v1_query("a=x%26y%3D", &["k"], Freshness::Unchecked, Replay::Unchecked, &mut s).err(), Some(Error::MissingParameter("authToken")));
    assert_eq!(
        verify_v1_query("a=x%26y%3D&authToken=t", &["k"], Freshness::Unchecked, Replay::Unchecked, &mut s).err(),
        Some(Error::MissingParameter("timeStamp"))
    );
    assert!(matches!(
        verify_v1_query("a=x%26y%3D&authToken=t&timeStamp=20200727073711903", &["k"], Freshness::Unchecked, Replay::Unchecked, &mut s).err(),
        Some(Error::Ambiguous(_))
    ));
    // A raw second `=` after a decoded `&` in a value is ambiguous too.
    assert!(matches!(
        verify_v1_query("a=x%26y=&authToken=t&timeStamp=20200727073711903", &["k"], Freshness::Unchecked, Replay::Unchecked, &mut s).err(),
        Some(Error::Ambiguous(_))
    ));
    // ... and a name holding a decoded `=`.
    assert!(matches!(
        verify_v1_query("a%3Db=1&authToken=t&timeStamp=20200727073711903", &["k"], Freshness::Unchecked, Replay::Unchecked, &mut s).err(),
        Some(Error::Ambiguous(_))
    ));
    // An escaped `&` in the authToken value is not the ambiguity rule's.
    assert_eq!(
        verify_v1_query("a=1&authToken=t%26x%3D&timeStamp=20200727073711903", &["k"], Freshness::Unchecked, Replay::Unchecked, &mut s).err(),
        Some(Error::SignatureMismatch)
    );
}

/// §S1 items 2–5 from the reference pairs: drop `authToken`, first value
/// of a name, UTF-16 order, `n=v` joined with `&`.
fn reference_canonical(pairs: &[(String, String)]) -> String {
    let mut kept: Vec<&(String, String)> = Vec::new();
    for p in pairs.iter().filter(|p| p.0 != "authToken") {
        if !kept.iter().any(|k| k.0 == p.0) {
            kept.push(p);
        }
    }
    kept.sort_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
    kept.iter().map(|(n, v)| format!("{n}={v}")).collect::<Vec<_>>().join("&")
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(3000))]
    // The canonical string (one slice of the decoded query when the pairs
    // came sorted and adjacent, else built pair by pair) and the token.
    #[test]
    fn v1_canonical_matches_the_reference(parts in prop::collection::vec(
        prop::sample::select(vec!["a=1", "a=2", "b=x", "b", "B=y", "c=", "=v", "é=1", "中=2", "timeStamp=20200727073711903", "authToken=t", "%61=3", "a+b=c+d", "",
            "a%00=z", "abcdefghijklmnopq=1", "abcdefghijklmnopr=2", "abcdefghijklmnop=3", "abcdefghijklmnop%00=4"]), 0..12),
        key in "[a-z]{1,8}") {
        let q = parts.join("&");
        let mut s = vec![0u8; q.len()];
        let Ok(p) = koosign::V1Params::parse(&q, &mut s) else { return Ok(()); };
        let pairs = reference(&q).expect("parsed");
        let mut c = vec![0u8; p.canonical_len()];
        prop_assert_eq!(p.canonical(&mut c).unwrap(), reference_canonical(&pairs));
        let refs: Vec<(&str, &str)> = pairs.iter().map(|(a, b)| (a.as_str(), b.as_str())).collect();
        prop_assert_eq!(p.expected_auth_token(&key), koosign::v1_auth_token(&refs, &key).unwrap());
    }
}
