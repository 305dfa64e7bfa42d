//! Runs every case of vectors/answers.jsonl (written by
//! vectors/gen_answers.py with Python's hmac alone, never by koosign; the
//! format is in vectors/README.md) against a real `koosign serve` on
//! loopback, one fresh server per case (its own instance store and replay
//! store, the case's clock through `--now-ms`, its keys through `--key` and
//! `--accept-key-file`, its store: the memory store of the case's capacity,
//! or a Redis URL nobody listens on for an unavailable one).
//!
//! Each answer must be HTTP 200 with exactly one `Body-Sign` over the exact
//! bytes (the core's `response::check_response`, with the key that verified
//! the request, or `--key` for a refusal), and carry the expected
//! `resultCode`: a refusal's from the case; a verified request's is what
//! the reference endpoint's fresh instance store answers (SCHEMES.md
//! "(decision) The reference endpoint"): `000000` for `newInstance`,
//! `000003` (instance not found) for every other activity.
//!
//! The one case serve cannot be given (`merchant/no-access-key`, no key at
//! all) is checked as what the CLI does instead: it refuses to start.

mod common;

use common::{bin, run, serve, KEY};
use koosign::response::{check_response, Expect};
use serde_json::Value;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

const FILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../vectors/answers.jsonl");

/// Standard base64 (RFC 4648 §4, padded): only for `body_b64` cases.
fn b64(s: &str) -> Vec<u8> {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0);
    for c in s.bytes().filter(|&c| c != b'=') {
        let v = A.iter().position(|&a| a == c).expect("base64") as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    out
}

fn body_of(c: &Value) -> Vec<u8> {
    if let Some(b) = c.get("body").and_then(Value::as_str) {
        return b.as_bytes().to_vec();
    }
    if let Some(b) = c.get("body_b64").and_then(Value::as_str) {
        return b64(b);
    }
    if let Some(parts) = c.get("body_gen").and_then(Value::as_array) {
        let mut out = Vec::new();
        for p in parts {
            out.extend(p[0].as_str().unwrap().as_bytes().repeat(p[1].as_u64().unwrap() as usize));
        }
        return out;
    }
    Vec::new()
}

struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

/// Sends a case's request as is (method, path, query, headers, body) and
/// reads the answer. The body is written while the answer may already be
/// coming (a body over 1 MiB is refused unread), so write errors are not
/// the test's concern; the answer is.
fn exchange(addr: std::net::SocketAddr, c: &Value) -> Answer {
    let body = body_of(c);
    let (method, path, query) = (c["method"].as_str().unwrap(), c["path"].as_str().unwrap(), c["query"].as_str().unwrap_or(""));
    let target = if query.is_empty() { path.to_string() } else { format!("{path}?{query}") };
    let mut head = format!("{method} {target} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n");
    for h in c["headers"].as_array().unwrap() {
        head.push_str(&format!("{}: {}\r\n", h[0].as_str().unwrap(), h[1].as_str().unwrap()));
    }
    if !body.is_empty() || method == "POST" {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    let mut reader = s.try_clone().unwrap();
    let writer = std::thread::spawn(move || {
        let _ = s.write_all(head.as_bytes()).and_then(|()| s.write_all(&body));
    });
    let mut raw = Vec::new();
    let _ = reader.read_to_end(&mut raw);
    let _ = writer.join();
    let r = common::parse_response(&raw);
    Answer { status: r.status, headers: r.headers, body: r.body }
}

/// The expected resultCode and the key that signs the answer.
fn expected(c: &Value) -> (String, usize, Expect) {
    let e = &c["expect"];
    if let Some(code) = e.get("result_code").and_then(Value::as_str) {
        return (code.to_string(), 0, Expect::Any);
    }
    let key = e["key_index"].as_u64().unwrap() as usize;
    match e["activity"].as_str().unwrap() {
        "newInstance" => ("000000".into(), key, Expect::NewInstance),
        _ => ("000003".into(), key, Expect::Any),
    }
}

#[test]
fn every_answer_case_through_a_real_serve() {
    let text = std::fs::read_to_string(FILE).unwrap();
    let cases: Vec<Value> = text.lines().filter(|l| !l.trim().is_empty()).map(|l| serde_json::from_str(l).unwrap()).collect();
    assert!(cases.len() >= 100, "{} cases", cases.len());
    let mut ran = 0;
    for c in &cases {
        let id = c["id"].as_str().unwrap();
        let keys: Vec<&str> = c["access_keys"].as_array().unwrap().iter().map(|k| k.as_str().unwrap()).collect();
        // serve's windows: V2 the core's ±60 s, V1 `--v1-window` seconds.
        assert_eq!(c["policy"]["v2_window_ms"], 60_000, "{id}: serve has the default V2 window only");
        let v1_window = (c["policy"]["v1_window_ms"].as_u64().unwrap() / 1000).to_string();
        let dir = tempfile::tempdir().unwrap();
        if keys.is_empty() {
            // No key: serve refuses to start (what 000005 for NoAccessKey
            // becomes for a CLI), and says which flag is missing.
            let mut cmd = bin();
            cmd.args(["serve", "--addr", "127.0.0.1:0"]).env_remove("KOOSIGN_ACCESS_KEY");
            let r = run(cmd);
            assert_eq!(r.code, 2, "{id}: {}", r.all());
            assert!(r.stderr.contains("--key"), "{id}: {}", r.stderr);
            ran += 1;
            continue;
        }
        let now = c["now_ms"].as_u64().unwrap().to_string();
        let mut args: Vec<String> = vec!["--key".into(), keys[0].into(), "--now-ms".into(), now, "--v1-window".into(), v1_window, "--quiet".into()];
        for (i, k) in keys.iter().enumerate().skip(1) {
            let f = dir.path().join(format!("key{i}"));
            std::fs::write(&f, k).unwrap();
            args.extend(["--accept-key-file".into(), f.display().to_string()]);
        }
        if c["store"]["unavailable"] == Value::Bool(true) {
            // Port 1 on loopback: nobody listens; the store is down.
            args.extend(["--replay-store".into(), "redis://127.0.0.1:1".into()]);
        } else {
            let cap = c["store"]["capacity"].as_u64().unwrap();
            args.extend(["--replay-store".into(), "memory".into(), "--replay-capacity".into(), cap.to_string()]);
        }
        let argv: Vec<&str> = args.iter().map(String::as_str).collect();
        let s = serve(&argv, None);
        for p in c.get("prior").and_then(Value::as_array).into_iter().flatten() {
            let a = exchange(s.addr, p);
            assert_eq!(a.status, 200, "{id}: prior");
        }
        let a = exchange(s.addr, c);
        let (want, key, expect) = expected(c);
        let hs: Vec<(&str, &str)> = a.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
        let checked = check_response(a.status, &hs, &a.body, keys[key], expect)
            .unwrap_or_else(|e| panic!("{id}: {e:?}: {}", String::from_utf8_lossy(&a.body)));
        assert_eq!(checked.result_code(), want, "{id}: {}", String::from_utf8_lossy(&a.body));
        assert!(a.headers.iter().any(|(n, _)| n == "Body-Sign"), "{id}: the header is named exactly Body-Sign");
        ran += 1;
    }
    assert_eq!(ran, cases.len());
    let _ = KEY;
}
