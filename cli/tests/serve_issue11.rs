//! Issue 11 over real loopback HTTP against `koosign serve`: the forgery
//! and replay attacks, performed from captured genuine requests without the
//! key, each answered `000001` with a valid `Body-Sign`; and the endpoint's
//! own fixes (private store files, V1 window by default, verification
//! outside the replay lock).

mod common;

use common::*;
use std::sync::Arc;

const QUERY_BODY: &[u8] = br#"{"activity":"queryInstance","instanceId":"ins-none","testFlag":"1"}"#;

/// Finding 2 (S2/S2b): a nonce ending in `0` hands that digit to the
/// timestamp; the signature is the same, the nonce "new". Refused as a bad
/// timestamp (13 digits, no leading zero) before the replay store.
/// Needs the core's strict timestamp rule (another helper's change).
#[test]
fn s2_digit_shift_replay_is_refused() {
    let s = serve(&["--key", KEY], None);
    let base = fresh_nonce();
    let ts = now_ms().to_string();
    let nonce = format!("{base}0");
    // The captured genuine request.
    let q = v2_query(QUERY_BODY, KEY, &nonce, ts.parse().unwrap());
    let r = post(s.addr, &q, &[], QUERY_BODY);
    r.assert_signed(KEY);
    assert_eq!(r.code(), "000003", "the genuine request is authenticated");
    // The replay: the same signature, the digit moved.
    let sig = q.split('&').next().unwrap();
    let shifted = format!("{sig}&timestamp=0{ts}&nonce={base}");
    let r = post(s.addr, &shifted, &[], QUERY_BODY);
    r.assert_signed(KEY);
    assert_eq!(r.code(), "000001", "digit-shift replay: {}", String::from_utf8_lossy(&r.body));

    // The kit variant (x-sign headers).
    let base = fresh_nonce();
    let ts = now_ms().to_string();
    let nonce = format!("{base}0");
    let x_sign = koosign::sign_v2(koosign::V2Scheme::Headers, QUERY_BODY, KEY, &nonce, &ts).unwrap();
    let genuine = [("x-sign", x_sign.as_str()), ("x-timestamp", ts.as_str()), ("x-nonce", nonce.as_str())];
    assert_eq!(post(s.addr, "", &genuine, QUERY_BODY).code(), "000003");
    let shifted_ts = format!("0{ts}");
    let replay = [("x-sign", x_sign.as_str()), ("x-timestamp", shifted_ts.as_str()), ("x-nonce", base.as_str())];
    let r = post(s.addr, "", &replay, QUERY_BODY);
    r.assert_signed(KEY);
    assert_eq!(r.code(), "000001");
    let log = s.wait_log_count("BAD_TIMESTAMP", 2);
    assert!(log.matches("BAD_TIMESTAMP").count() >= 2, "{log}");
}

/// Finding 3 (S1): `orderLineId=L1&testFlag=1` signed, `orderLineId=L1%26testFlag%3D1`
/// sent: the same canonical string, different parameters (it created a
/// non-test instance). Refused as ambiguous. Needs the core's S1.10 rule
/// (another helper's change).
#[test]
fn s1_merged_parameters_are_refused() {
    let s = serve(&["--key", KEY], None);
    let genuine = v1_signed(
        &[("activity", "newInstance"), ("orderId", "CSMERGE1"), ("orderLineId", "L1"), ("testFlag", "1")],
        KEY,
    );
    assert!(genuine.contains("orderLineId=L1&testFlag=1"), "{genuine}");
    let merged = genuine.replace("orderLineId=L1&testFlag=1", "orderLineId=L1%26testFlag%3D1");
    let r = get(s.addr, &format!("/produce?{merged}"));
    r.assert_signed(KEY);
    assert_eq!(r.code(), "000001", "merged parameters: {}", String::from_utf8_lossy(&r.body));
    let log = s.wait_log_count("AMBIGUOUS", 1);
    assert!(log.contains("AMBIGUOUS"), "{log}");
}

/// Finding 4: a genuine V1 notification from 2020 (the documented vector)
/// is stale under the default ±5 min window.
#[test]
fn v1_old_timestamp_is_refused_by_default() {
    let s = serve(&["--key", KEY], None);
    let old =
        v1_signed_at(&[("activity", "newInstance"), ("orderId", "CSOLD1"), ("testFlag", "1")], KEY, 1_595_835_431_903);
    assert!(old.contains("timeStamp=20200727"), "{old}");
    let r = get(s.addr, &format!("/produce?{old}"));
    r.assert_signed(KEY);
    assert_eq!(r.code(), "000001");
    // Six minutes old: outside ±5 min; four minutes: inside.
    let stale = v1_signed_at(&[("activity", "newInstance"), ("orderId", "CSOLD2")], KEY, now_ms() - 6 * 60_000);
    assert_eq!(get(s.addr, &format!("/produce?{stale}")).code(), "000001");
    let recent = v1_signed_at(&[("activity", "newInstance"), ("orderId", "CSOLD3")], KEY, now_ms() - 4 * 60_000);
    assert_eq!(get(s.addr, &format!("/produce?{recent}")).code(), "000000");
    let log = s.wait_log_count("STALE_TIMESTAMP", 2);
    assert!(log.matches("STALE_TIMESTAMP").count() >= 2, "{log}");

    // `--v1-window 0` turns the window off.
    let s = serve(&["--key", KEY, "--v1-window", "0"], None);
    assert_eq!(get(s.addr, &format!("/produce?{old}")).code(), "000000");
}

/// Finding 4: a byte-for-byte replay of a V1 notification is refused (its
/// authToken is recorded, SCHEMES.md S1.8), and so is the same token with
/// its `+` sent raw (read as a space, repaired to `+`: one token).
#[test]
fn v1_replay_is_refused() {
    let s = serve(&["--key", KEY], None);
    let q = v1_signed(&[("activity", "newInstance"), ("orderId", "CSREPLAY1"), ("testFlag", "1")], KEY);
    let r = get(s.addr, &format!("/produce?{q}"));
    r.assert_signed(KEY);
    assert_eq!(r.code(), "000000");
    let r = get(s.addr, &format!("/produce?{q}"));
    r.assert_signed(KEY);
    assert_eq!(r.code(), "000001", "byte-for-byte replay");

    // A token with a `+` in it (about half are).
    let q = (0..400)
        .map(|i| v1_signed(&[("activity", "newInstance"), ("orderId", &format!("CSPLUS{i}")), ("testFlag", "1")], KEY))
        .find(|q| q.split("authToken=").nth(1).is_some_and(|t| t.contains("%2B")))
        .expect("a token with a +");
    assert_eq!(get(s.addr, &format!("/produce?{q}")).code(), "000000");
    let raw_plus = q.replace("%2B", "+");
    let r = get(s.addr, &format!("/produce?{raw_plus}"));
    r.assert_signed(KEY);
    assert_eq!(r.code(), "000001", "the same token with a raw +");
    let log = s.wait_log_count("REPLAYED_NONCE", 2);
    assert!(log.matches("REPLAYED_NONCE").count() >= 2, "{log}");
}

/// Finding 10: the data directory is created 0700 and the database, `-wal`
/// and `-shm` files are 0600, whatever the umask (the test process's is
/// usually 022).
#[cfg(unix)]
#[test]
fn store_files_are_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("new").join("data");
    let s = serve(&["--key", KEY, "--data", data.to_str().unwrap()], None);
    let body = br#"{"activity":"newInstance","orderId":"CSPERM","orderLineId":"CSPERM-000001","testFlag":"1"}"#;
    let r = post(s.addr, &v2_query(body, KEY, &fresh_nonce(), now_ms()), &[], body);
    r.assert_signed(KEY);
    assert_eq!(r.code(), "000000");
    let mode = |p: &std::path::Path| {
        std::fs::metadata(p).unwrap_or_else(|e| panic!("{}: {e}", p.display())).permissions().mode() & 0o777
    };
    assert_eq!(mode(&data), 0o700, "data directory");
    for f in ["koosign.sqlite3", "koosign.sqlite3-wal", "koosign.sqlite3-shm"] {
        assert_eq!(mode(&data.join(f)), 0o600, "{f}");
    }
}

/// Finding 8: concurrent POSTs with large bodies are all verified and
/// answered (the HMAC runs outside the replay store's lock; see also the
/// unit test `serve::tests::verification_runs_outside_the_nonce_lock`).
/// Functional, no timing assertion.
#[test]
fn concurrent_large_posts_are_all_answered() {
    let s = Arc::new(serve(&["--key", KEY, "--quiet"], None));
    let pad = "p".repeat(600 * 1024);
    let threads: Vec<_> = (0..6)
        .map(|i| {
            let s = s.clone();
            let body =
                format!(r#"{{"activity":"queryInstance","instanceId":"ins-none-{i}","pad":"{pad}"}}"#).into_bytes();
            std::thread::spawn(move || {
                let q = v2_query(&body, KEY, &fresh_nonce(), now_ms());
                let first = post(s.addr, &q, &[], &body);
                first.assert_signed(KEY);
                let replay = post(s.addr, &q, &[], &body);
                replay.assert_signed(KEY);
                let mut tampered = body.clone();
                tampered[30] ^= 1;
                let forged = post(s.addr, &q, &[], &tampered);
                (first.code(), replay.code(), forged.code())
            })
        })
        .collect();
    for t in threads {
        assert_eq!(t.join().unwrap(), ("000003".to_string(), "000001".to_string(), "000001".to_string()));
    }
}

/// `--v1-window` is documented in `--help` with its default and `0`.
#[test]
fn v1_window_help() {
    let mut c = bin();
    c.args(["serve", "--help"]);
    let r = run(c);
    assert_eq!(r.code, 0);
    let text = r.stdout.replace('\n', " ");
    assert!(text.contains("--v1-window <SECS>"), "{}", r.stdout);
    assert!(text.contains("[default: 300]") && text.contains("0 turns the window off"), "{}", r.stdout);
}
