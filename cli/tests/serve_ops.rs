//! `koosign serve` operations (issue 15) that need no root and no Redis:
//! /healthz, --log-format json, graceful shutdown, the memory store's
//! runtime capacity, the flags' errors.

mod common;
mod opsutil;

use common::*;
use opsutil::*;
use serde_json::Value;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

const T: Duration = Duration::from_secs(10);

#[test]
fn healthz_says_both_stores_answer_and_holds_no_secret() {
    for store in ["sqlite", "memory"] {
        let s = serve(&["--key", KEY, "--replay-store", store], None);
        let r = try_exchange(s.addr, &get_bytes(s.addr, "/healthz"), T).unwrap();
        assert_eq!(r.status, 200);
        let v = r.json();
        assert_eq!(v, serde_json::json!({"status":"ok","instanceStore":"ok","replayStore":{"kind":store,"status":"ok"}}));
        assert!(!String::from_utf8_lossy(&r.body).contains(KEY));
        // Not the production interface: a POST is refused.
        let r = try_exchange(s.addr, &post_bytes(s.addr, "", b"{}"), T).unwrap();
        assert_eq!(r.status, 200, "POST /produce still answers");
        let r = try_exchange(s.addr, b"POST /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 0\r\n\r\n", T).unwrap();
        assert_eq!(r.status, 405);
    }
}

#[test]
fn healthz_reports_an_unreachable_redis_and_requests_fail_closed() {
    let url = format!("redis://:s3cretpw@127.0.0.1:{}/0", free_port());
    let s = serve(&["--key", KEY, "--replay-store", &url], None);
    let r = try_exchange(s.addr, &get_bytes(s.addr, "/healthz"), T).unwrap();
    assert_eq!(r.status, 503);
    let v = r.json();
    assert_eq!(v["status"], "unavailable");
    assert_eq!(v["instanceStore"], "ok");
    assert_eq!(v["replayStore"]["kind"], "redis");
    assert!(v["replayStore"]["status"].as_str().unwrap().contains("unreachable"), "{v}");
    // A verified request: refused 000005, signed, never accepted unchecked.
    let r = try_v2(s.addr, &query_body("ins-none"), T).unwrap();
    r.assert_signed(KEY);
    assert_eq!(r.code(), "000005", "{}", String::from_utf8_lossy(&r.body));
    // A badly signed one is still 000001 (the store is asked only after the MAC).
    let (q, _) = v2_request("{}");
    let r = try_exchange(s.addr, &post_bytes(s.addr, &q, b"{\"x\":1}"), T).unwrap();
    assert_eq!(r.code(), "000001");
    let log = s.wait_log_count("redis unreachable", 1);
    assert!(!log.contains("s3cretpw"), "the Redis password in the log:\n{log}");
    assert!(log.contains("redis unreachable"), "{log}");
}

#[test]
fn json_log_lines_parse_and_hold_no_secret() {
    let s = serve(&["--key", KEY, "--log-format", "json"], None);
    let id = create(s.addr, "JSONLOG");
    let (q, b) = v2_request(&query_body(&id));
    let req = post_bytes(s.addr, &q, &b);
    assert_eq!(try_exchange(s.addr, &req, T).unwrap().code(), "000000");
    assert_eq!(try_exchange(s.addr, &req, T).unwrap().code(), "000001");
    try_exchange(s.addr, &get_bytes(s.addr, "/healthz"), T).unwrap();
    s.wait_log_lines(5);
    let log = s.log_text();
    let sig = q.split('&').next().unwrap().trim_start_matches("signature=");
    assert!(!log.contains(KEY) && !log.contains(sig), "{log}");
    let lines: Vec<Value> = log.lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}"))).collect();
    assert_eq!(lines[0]["event"], "listening");
    assert!(lines[0]["replayStore"].as_str().unwrap().starts_with("sqlite"));
    let reqs: Vec<&Value> = lines.iter().filter(|l| l["event"] == "request").collect();
    assert_eq!(reqs.len(), 4, "{log}");
    assert_eq!(reqs[0]["activity"], "newInstance");
    assert_eq!(reqs[2]["resultCode"], "000001");
    assert_eq!(reqs[2]["note"], "REPLAYED_NONCE");
    assert_eq!(reqs[3]["path"], "/healthz");
    for r in reqs {
        assert!(r["ms"].is_u64() && r["time"].is_string() && r["method"].is_string());
    }
}

/// SIGTERM with a request in flight: no new connection is accepted, the
/// request in flight is answered, the process exits 0; the same on SIGINT.
#[test]
fn sigterm_and_sigint_drain_in_flight_requests_and_exit_0() {
    for sig in ["TERM", "INT"] {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_str().unwrap().to_string();
        let mut s = serve(&["--key", KEY, "--data", &d], None);
        let (q, body) = v2_request(&new_instance_body(&format!("DRAIN-{sig}")));
        let req = post_bytes(s.addr, &q, &body);
        let cut = req.len() - 10;
        let mut c = TcpStream::connect(s.addr).unwrap();
        c.write_all(&req[..cut]).unwrap();
        std::thread::sleep(Duration::from_millis(200));
        signal(s.child.id(), sig);
        std::thread::sleep(Duration::from_millis(300));
        assert!(s.child.try_wait().unwrap().is_none(), "exited with a request in flight");
        // No new connection is served.
        let refused = try_exchange(s.addr, &get_bytes(s.addr, "/healthz"), Duration::from_secs(1));
        assert!(refused.is_err(), "a new connection was served while stopping");
        // The rest of the body: answered in full.
        c.write_all(&req[cut..]).unwrap();
        c.set_read_timeout(Some(T)).unwrap();
        let mut out = Vec::new();
        c.read_to_end(&mut out).unwrap();
        let r = parse_response(&out);
        r.assert_signed(KEY);
        assert_eq!(r.code(), "000000");
        assert_eq!(wait_exit(&mut s.child, T), Some(Some(0)), "SIG{sig}: exit 0");
        let log = s.wait_log_count("koosign serve: stopped", 1);
        assert!(log.contains("koosign serve: stopped"), "{log}");
        // Flushed: the WAL was checkpointed into the database.
        let wal = std::fs::metadata(dir.path().join("koosign.sqlite3-wal")).map(|m| m.len()).unwrap_or(0);
        assert_eq!(wal, 0, "WAL not checkpointed");
        let db = rusqlite::Connection::open(dir.path().join("koosign.sqlite3")).unwrap();
        let n: i64 = db.query_row("SELECT COUNT(*) FROM instances", [], |r| r.get(0)).unwrap();
        assert_eq!(n, 1);
    }
}

/// --replay-capacity N: the memory store holds N unexpired entries; the next
/// verified request is a signed 000005 (never an accept that forgets one).
#[test]
fn memory_store_capacity_is_chosen_at_run_time() {
    let s = serve(&["--key", KEY, "--replay-store", "memory", "--replay-capacity", "3"], None);
    let id = create(s.addr, "CAP");
    for _ in 0..2 {
        assert_eq!(try_v2(s.addr, &query_body(&id), T).unwrap().code(), "000000");
    }
    let r = try_v2(s.addr, &query_body(&id), T).unwrap();
    r.assert_signed(KEY);
    assert_eq!(r.code(), "000005");
    let log = s.wait_log_count("NONCE_STORE_FULL", 1);
    assert!(log.contains("NONCE_STORE_FULL"), "{log}");
}

#[test]
fn bad_flags_are_usage_errors() {
    for (args, want) in [
        (&["--replay-store", "postgres://x"][..], "redis://"),
        (&["--replay-capacity", "0"][..], "--replay-capacity"),
        (&["--max-connections", "0"][..], "--max-connections"),
        (&["--log-format", "xml"][..], "log-format"),
        (&["--replay-store", "redis://[bad"][..], "Redis URL"),
    ] {
        let mut c = bin();
        c.args(["serve", "--addr", "127.0.0.1:0", "--key", KEY]).args(args);
        let t = Instant::now();
        let r = run(c);
        assert_eq!(r.code, 2, "{args:?}: {}", r.all());
        assert!(r.stderr.contains(want), "{args:?}: {}", r.stderr);
        assert!(t.elapsed() < T);
    }
}

/// --accept-key-file: during a key rotation both keys verify; each answer
/// is signed (and new credentials encrypted) with the key that verified
/// its request; a refusal before authentication is signed with --key.
#[test]
fn key_rotation_accepts_both_keys_and_answers_with_the_matching_one() {
    const NEW: &str = "newAccessKey4567";
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("new.key");
    std::fs::write(&file, format!("{NEW}\n")).unwrap();
    let s = serve(&["--key", KEY, "--accept-key-file", file.to_str().unwrap()], None);
    let body = new_instance_body("ROTATE-1");
    for (key, order) in [(KEY, "ROTATE-OLD"), (NEW, "ROTATE-NEW")] {
        let body = new_instance_body(order);
        let q = v2_query(body.as_bytes(), key, &fresh_nonce(), now_ms());
        let r = try_exchange(s.addr, &post_bytes(s.addr, &q, body.as_bytes()), T).unwrap();
        r.assert_signed(key);
        let v = r.json();
        assert_eq!(v["resultCode"], "000000", "{v}");
        let other = if key == KEY { NEW } else { KEY };
        assert!(koosign::verify_body_sign(r.header("Body-Sign").unwrap(), &r.body, &[other]).is_err(), "signed with the other key");
        let w = v["appInfo"]["password"].as_str().unwrap();
        let mut out = vec![0u8; w.len()];
        koosign::FieldKey::derive(key, koosign::EncryptType::Aes256).decrypt(w, &mut out).expect("encrypted with the verifying key");
        // V1 too.
        let q = v1_signed(&[("activity", "refreshInstance"), ("instanceId", v["instanceId"].as_str().unwrap()), ("testFlag", "1")], key);
        let r = try_exchange(s.addr, &get_bytes(s.addr, &format!("/produce?{q}")), T).unwrap();
        r.assert_signed(key);
        assert_eq!(r.code(), "000000");
    }
    // A third key: refused, the refusal signed with --key.
    let q = v2_query(body.as_bytes(), "someOtherKey8901", &fresh_nonce(), now_ms());
    let r = try_exchange(s.addr, &post_bytes(s.addr, &q, body.as_bytes()), T).unwrap();
    r.assert_signed(KEY);
    assert_eq!(r.code(), "000001");
    // Refused after authentication (an unknown activity) under the new key:
    // the refusal is signed with the new key; an unknown instance too.
    for (bad, code) in [(r#"{"activity":"stealInstance","orderId":"o","orderLineId":"l"}"#, "000002"), (r#"{"activity":"queryInstance","instanceId":"ins-none"}"#, "000003")] {
        let q = v2_query(bad.as_bytes(), NEW, &fresh_nonce(), now_ms());
        let r = try_exchange(s.addr, &post_bytes(s.addr, &q, bad.as_bytes()), T).unwrap();
        r.assert_signed(NEW);
        assert_eq!(r.code(), code);
    }
    s.wait_log_lines(8);
    assert!(!s.log_text().contains(NEW));
}
