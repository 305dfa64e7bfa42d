//! `koosign apig sign URL` (docs/SCHEMES.md §S6 "Signing a whole URL"):
//! * agrees with Huawei's Python SDK on random URLs (reference/python/
//!   apig_ref.py `urls`, the SDK signing the parts a client sends);
//! * round trip through `curl`: the headers `koosign apig sign` prints,
//!   given to curl with the same URL, are accepted by a loopback server
//!   that verifies with the core (`koosign::verify_apig` over what it
//!   received).

mod common;

use common::*;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::Command;
use std::sync::mpsc;
use std::time::Duration;

fn ref_python() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("KOOSIGN_REF_PY") {
        // Set by scripts/test-cli.sh: then the reference must be there.
        return Some(PathBuf::from(p));
    }
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/ref-venv/bin/python");
    p.exists().then_some(p)
}

fn sign_args(c: &serde_json::Value) -> (Vec<String>, Option<tempfile::NamedTempFile>) {
    let s = |k: &str| c[k].as_str().unwrap().to_string();
    let mut args = vec!["apig".into(), "sign".into(), "--ak".into(), s("ak"), "--sk".into(), s("sk"), "-X".into(), s("method")];
    let mut body_file = None;
    for (k, v) in c["headers"].as_object().unwrap() {
        if k == "X-Sdk-Date" {
            args.extend(["--date".to_string(), v.as_str().unwrap().to_string()]);
        } else {
            args.extend(["-H".to_string(), format!("{k}: {}", v.as_str().unwrap())]);
        }
    }
    if !s("body").is_empty() {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(s("body").as_bytes()).unwrap();
        args.extend(["--body".to_string(), f.path().to_str().unwrap().to_string()]);
        body_file = Some(f);
    }
    args.push(s("url"));
    (args, body_file)
}

#[test]
fn agrees_with_the_huawei_sdk_on_random_urls() {
    let Some(py) = ref_python() else {
        eprintln!("SKIP: no Huawei SDK reference venv (scripts/setup-ref-venv.sh creates target/ref-venv)");
        return;
    };
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../reference/python/apig_ref.py");
    let seed = std::process::id().to_string();
    let out = Command::new(&py).arg(&script).args(["urls", &seed, "150"]).output().expect("run the SDK reference");
    assert!(out.status.success(), "apig_ref.py urls: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).unwrap();
    let mut n = 0;
    for line in text.lines() {
        let c: serde_json::Value = serde_json::from_str(line).unwrap();
        let (args, _body) = sign_args(&c);
        let mut cmd = bin();
        cmd.args(&args);
        let r = run(cmd);
        assert_eq!(r.code, 0, "seed {seed}, {}: {}", c["url"], r.all());
        let want = format!("Authorization: {}", c["authorization"].as_str().unwrap());
        assert!(r.stdout.lines().any(|l| l == want), "seed {seed}, {}:\n{}\nwant {want}", c["url"], r.stdout);
        n += 1;
    }
    assert_eq!(n, 150);
}

/// A loopback server that verifies each request with the core, as it
/// received it; answers 200 `ok` or 401 with the error, and reports the
/// request target and verdict.
type Seen = (String, Result<usize, koosign::Error>);

fn verifying_server(ak: &'static str, sk: &'static str) -> (u16, mpsc::Receiver<Seen>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(s) = s else { continue };
            let tx = tx.clone();
            std::thread::spawn(move || handle(s, ak, sk, tx));
        }
    });
    (port, rx)
}

fn handle(s: TcpStream, ak: &str, sk: &str, tx: mpsc::Sender<Seen>) {
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let mut r = BufReader::new(s.try_clone().unwrap());
    let mut line = String::new();
    r.read_line(&mut line).unwrap();
    let mut parts = line.split_whitespace();
    let (method, target) = (parts.next().unwrap().to_string(), parts.next().unwrap().to_string());
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        r.read_line(&mut h).unwrap();
        let h = h.trim_end_matches(['\r', '\n']);
        if h.is_empty() {
            break;
        }
        let (n, v) = h.split_once(':').unwrap();
        headers.push((n.to_string(), v.trim().to_string()));
    }
    let len: usize = headers.iter().find(|(n, _)| n.eq_ignore_ascii_case("content-length")).map_or(0, |(_, v)| v.parse().unwrap());
    let mut body = vec![0u8; len];
    r.read_exact(&mut body).unwrap();
    let host = headers.iter().find(|(n, _)| n.eq_ignore_ascii_case("host")).map(|(_, v)| v.clone()).unwrap_or_default();
    let url = format!("http://{host}{target}");
    let mut scratch = vec![0u8; koosign::apig::url_scratch_len(url.len())];
    let hs: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    let verdict = koosign::split_received_url(&url, &mut scratch)
        .and_then(|u| koosign::verify_apig(&u.request(&method, &hs, &body), &[(ak, sk)], koosign::Freshness::Unchecked).map(|v| v.key_index()));
    let answer = match &verdict {
        Ok(_) => "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok".to_string(),
        Err(e) => format!("HTTP/1.1 401 Unauthorized\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}", e.code().len(), e.code()),
    };
    let mut w = s;
    let _ = w.write_all(answer.as_bytes());
    let _ = tx.send((target, verdict));
}

#[test]
fn round_trip_through_curl() {
    if Command::new("curl").arg("--version").output().is_err() {
        panic!("curl is needed for this test (apt-get install curl)");
    }
    let (port, rx) = verifying_server("curlAK", "curlSecretKey");
    let dir = tempfile::tempdir().unwrap();
    let body_path = dir.path().join("body.json");
    std::fs::write(&body_path, br#"{"orderId":"CS1","n":1}"#).unwrap();
    // (URL, what curl must put on the wire as the request target). curl
    // keeps the host's case and refuses raw spaces and raw non-ASCII (exit
    // 3), so those are given escaped here (SCHEMES.md §S6 records it).
    let cases: &[(&str, &str, &str)] = &[
        ("GET", "http://127.0.0.1:{P}/a/./b/../api/order/query?orderId=X&orderLineId=X-1#frag", "/a/api/order/query?orderId=X&orderLineId=X-1"),
        ("GET", "http://LocalHost:{P}/../../x/..?a=&a=&b#f", "/?a=&a=&b"),
        ("GET", "http://MKT.Example.COM:80/v1/./%E4%B8%AD/%41?q=%E4%B8%AD+x&r=%2B&&e", "/v1/%E4%B8%AD/%41?q=%E4%B8%AD+x&r=%2B&&e"),
        ("GET", "HTTP://mkt.example.com:080/x/y/../z?o=1", "/x/z?o=1"),
        ("POST", "http://localhost:0{P}/market-event/E1/../E2/file?x=%20", "/market-event/E2/file?x=%20"),
        ("DELETE", "http://[::1]:{P}/a//b/.", "/a//b/"),
    ];
    for (method, url, want_target) in cases {
        let url = url.replace("{P}", &port.to_string());
        let mut c = bin();
        c.args(["apig", "sign", "--ak", "curlAK", "--sk", "curlSecretKey", "-X", method]);
        if *method == "POST" {
            c.args(["-H", "Content-Type: application/json", "--body", body_path.to_str().unwrap()]);
        }
        c.arg(&url);
        let r = run(c);
        assert_eq!(r.code, 0, "{url}: {}", r.all());
        assert!(!r.all().contains("curlSecretKey"));
        let mut curl = Command::new("curl");
        curl.args(["-sS", "-g", "--max-time", "10", "-X", method, "-o", "-", "-w", "\n%{http_code}"]);
        // Every host, on every port, goes to the loopback server.
        curl.args(["--connect-to", &format!("::127.0.0.1:{port}")]);
        if url.contains("[::1]") {
            curl.args(["--connect-to", &format!("[::1]:{port}:127.0.0.1:{port}")]);
        }
        for h in r.stdout.lines() {
            curl.args(["-H", h]);
        }
        if *method == "POST" {
            curl.args(["-H", "Content-Type: application/json", "--data-binary", &format!("@{}", body_path.display())]);
        }
        curl.arg(&url);
        let out = curl.output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.ends_with("\n200"), "{url}: curl got {text:?} {}", String::from_utf8_lossy(&out.stderr));
        let (target, verdict) = rx.recv_timeout(Duration::from_secs(10)).unwrap();
        assert_eq!(&target, want_target, "{url}");
        assert_eq!(verdict, Ok(0), "{url}");
    }
    // One byte changed on the wire (the query) is refused by the same server.
    let url = format!("http://127.0.0.1:{port}/a/../order?orderId=A");
    let mut c = bin();
    c.args(["apig", "sign", "--ak", "curlAK", "--sk", "curlSecretKey", &url]);
    let r = run(c);
    let mut curl = Command::new("curl");
    curl.args(["-sS", "--max-time", "10", "-o", "/dev/null", "-w", "%{http_code}"]);
    for h in r.stdout.lines() {
        curl.args(["-H", h]);
    }
    curl.arg(url.replace("orderId=A", "orderId=B"));
    let out = curl.output().unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout), "401");
    let (_, verdict) = rx.recv_timeout(Duration::from_secs(10)).unwrap();
    assert_eq!(verdict, Err(koosign::Error::SignatureMismatch));
}

#[test]
fn refusals_name_the_problem() {
    for (url, want) in [
        ("http://h/a/%2e%2e/b", "percent-encoded dot segment"),
        ("http://u:p@h/", "user:password@"),
        ("http://0x7f.1/", "dotted-decimal"),
        ("http://h/a\\b", "`\\`"),
    ] {
        let mut c = bin();
        c.args(["apig", "sign", "--ak", "AK", "--sk", "SK", url]);
        let r = run(c);
        assert_eq!(r.code, 2, "{url}: {}", r.all());
        assert!(r.stderr.contains(want), "{url}: {}", r.stderr);
    }
}
