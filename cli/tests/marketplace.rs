//! `koosign marketplace` and `koosign api` over real loopback HTTP (issue 16):
//! the documented debugging orders, uploads, hostile requests (each a
//! gateway refusal, no crash, no hang), retries and timeouts against slow
//! and 5xx servers, and Huawei's own SDK signer as a client.

mod common;

use common::*;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const AK: &str = "mktTestAK";
const SK: &str = "mktTestSecretKey-never-printed";

struct Market {
    child: Child,
    addr: SocketAddr,
}

impl Drop for Market {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn market(extra: &[&str]) -> Market {
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let addr: SocketAddr = format!("127.0.0.1:{port}").parse().unwrap();
    let mut c = bin();
    c.args(["marketplace", "--addr", &addr.to_string(), "--ak", AK, "--sk", SK, "--quiet"]).args(extra);
    c.stdout(Stdio::null()).stderr(Stdio::null());
    let child = c.spawn().unwrap();
    let t = Instant::now();
    while TcpStream::connect(addr).is_err() {
        assert!(t.elapsed() < Duration::from_secs(10), "marketplace did not start");
        std::thread::sleep(Duration::from_millis(20));
    }
    Market { child, addr }
}

fn api(args: &[&str]) -> Run {
    let mut c = bin();
    c.arg("api").args(args);
    let r = run(c);
    assert_no_secret(&r, SK);
    assert!(!r.stderr.contains("panicked"), "{}", r.stderr);
    r
}

fn endpoint(m: &Market) -> String {
    format!("http://{}", m.addr)
}

#[test]
fn documented_debugging_orders() {
    let m = market(&[]);
    let ep = endpoint(&m);
    for (id, ty) in [
        ("mockperiodyearnew", "NEW"),
        ("MOCKONETIMENEW", "NEW"),
        ("MOCKONDEMAND", "NEW"),
        ("MOCKONDEMANDPKG", "NEW"),
        ("MOCKPERIODDAYTRIAL", "TRIAL"),
        ("MOCKMONTYTRIALTOFORMAL", "TRIAL_TO_FORMAL"),
        ("MOCKMONTYUNSUBSCRIBE", "UNSUBSCRIBE"),
        ("MOCKMONTYRENEW", "RENEW"),
        ("MOCKMONTYCHANGE", "CHANGE"),
    ] {
        let r = api(&["query-order", "--ak", AK, "--sk", SK, "--endpoint", &ep, "--order-id", id, "--json"]);
        assert_eq!(r.code, 0, "{id}: {}", r.all());
        let v: serde_json::Value = serde_json::from_str(r.stdout.trim()).unwrap();
        assert_eq!(v["resultCode"], "MKT.0000");
        assert_eq!(v["orderInfo"]["orderId"].as_str().unwrap(), id.to_ascii_uppercase());
        assert_eq!(v["orderInfo"]["orderType"], ty);
        assert_eq!(v["orderInfo"]["orderLine"][0]["orderLineId"].as_str().unwrap(), format!("{}-000001", id.to_ascii_uppercase()));
    }
    let line = "MOCKPERIODYEARNEW-000001";
    let r = api(&["query-order", "--ak", AK, "--sk", SK, "--endpoint", &ep, "--order-id", "MOCKPERIODYEARNEW", "--order-line-id", line, "--json"]);
    assert_eq!(r.code, 0, "{}", r.all());
    // Unknown order and a wrong SK: typed refusals, exit 1, no retry needed for 4xx.
    let r = api(&["query-order", "--ak", AK, "--sk", SK, "--endpoint", &ep, "--order-id", "MOCKPERIODYEARNEW", "--order-line-id", "X-1", "--json", "--retries", "0"]);
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains("MKT.0100"), "{}", r.all());
    let r = api(&["query-order", "--ak", AK, "--sk", "wrong", "--endpoint", &ep, "--order-id", "MOCKONDEMAND", "--explain"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("APIGW.0301") && r.stderr.contains("verify aksk signature fail"), "{}", r.stderr);
    assert!(r.stderr.contains("--- canonical request ---") && r.stderr.contains("orderId=MOCKONDEMAND"), "{}", r.stderr);
}

#[test]
fn uploads_are_verified_and_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let m = market(&["--data", dir.path().to_str().unwrap()]);
    let ep = endpoint(&m);
    let f = dir.path().join("report.bin");
    std::fs::write(&f, b"\x00\x01binary \xff report").unwrap();
    let r = api(&["upload", "--ak", AK, "--sk", SK, "--endpoint", &ep, "--event-id", "87b94795-0603", "--file", f.to_str().unwrap(), "--json"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert!(r.stdout.contains("MKT.0000"));
    let r = api(&["upload", "--ak", AK, "--sk", SK, "--endpoint", &ep, "--event-id", "E2", "--text", "delivered: 中文", "--json"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let rec = std::fs::read_to_string(dir.path().join("uploads/000001.json")).unwrap();
    assert!(rec.contains("\"fileName\":\"report.bin\"") && rec.contains("87b94795-0603"), "{rec}");
    assert_eq!(std::fs::read(dir.path().join("uploads/000001.bin")).unwrap(), b"\x00\x01binary \xff report");
    let rec = std::fs::read_to_string(dir.path().join("uploads/000002.json")).unwrap();
    assert!(rec.contains("delivered: 中文"), "{rec}");
    // Too long a string: refused by the marketplace (MKT.0101), not retried.
    let long = "x".repeat(1025);
    let r = api(&["upload", "--ak", AK, "--sk", SK, "--endpoint", &ep, "--event-id", "E3", "--text", &long, "--json"]);
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains("MKT.0101"), "{}", r.all());
}

/// A signed request as raw HTTP (signed by the core, as a client would).
fn signed_raw(addr: SocketAddr, method: &str, target: &str, headers: &[(&str, &str)], body: &[u8], now: u64, sk: &str) -> (String, Vec<(String, String)>) {
    let url = format!("http://{addr}{target}");
    let mut out = vec![0u8; 65536];
    let s = koosign::sign_apig_url(method, &url, headers, body, AK, sk, Some(now), &mut out).unwrap();
    let mut hs: Vec<(String, String)> = headers.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect();
    hs.extend(s.headers_to_add.iter().map(|(n, v)| (n.to_string(), v.to_string())));
    (url, hs)
}

fn raw(addr: SocketAddr, method: &str, target: &str, headers: &[(String, String)], body: &[u8]) -> RawResponse {
    let mut req = format!("{method} {target} HTTP/1.1\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    if !headers.iter().any(|(n, _)| n.eq_ignore_ascii_case("host")) {
        req.push_str(&format!("Host: {addr}\r\n"));
    }
    for (n, v) in headers {
        req.push_str(&format!("{n}: {v}\r\n"));
    }
    req.push_str("\r\n");
    let mut bytes = req.into_bytes();
    bytes.extend_from_slice(body);
    raw_exchange(addr, &bytes)
}

fn gateway_code(r: &RawResponse) -> String {
    r.json()["error_code"].as_str().unwrap_or("").to_string()
}

#[test]
fn hostile_requests_get_gateway_refusals() {
    let m = market(&[]);
    let a = m.addr;
    let q = "/api/mkp-openapi-public/global/v1/order/query?orderId=MOCKONDEMAND";
    let now = now_ms();
    // Accepted as signed.
    let (_, hs) = signed_raw(a, "GET", q, &[], b"", now, SK);
    assert_eq!(raw(a, "GET", q, &hs, b"").status, 200);
    // Missing Authorization.
    let no_auth: Vec<_> = hs.iter().filter(|(n, _)| n != "Authorization").cloned().collect();
    let r = raw(a, "GET", q, &no_auth, b"");
    assert_eq!((r.status, gateway_code(&r)), (401, "APIGW.0301".into()));
    // Garbled Authorization.
    for bad in ["Bearer abc", "SDK-HMAC-SHA256 Access", "SDK-HMAC-SHA256 Access=a, Access=b, SignedHeaders=host;x-sdk-date, Signature=00", "SDK-HMAC-SHA256 \u{0}"] {
        let mut g: Vec<_> = no_auth.clone();
        g.push(("Authorization".into(), bad.replace('\u{0}', "%00")));
        let r = raw(a, "GET", q, &g, b"");
        assert_eq!((r.status, gateway_code(&r)), (401, "APIGW.0301".into()), "{bad}");
    }
    // Stale date (20 min ago): refused, and says so.
    let (_, old) = signed_raw(a, "GET", q, &[], b"", now - 20 * 60_000, SK);
    let r = raw(a, "GET", q, &old, b"");
    assert_eq!((r.status, gateway_code(&r)), (401, "APIGW.0301".into()));
    assert!(r.json()["error_msg"].as_str().unwrap().contains("expired"));
    // Unsigned host: SignedHeaders without host is refused before any MAC
    // (so no valid signature is needed to show it; the core's tests use the
    // SDK's published vector 3, which signs x-sdk-date only).
    let date = koosign::format_sdk_date(now);
    let auth = format!("SDK-HMAC-SHA256 Access={AK}, SignedHeaders=x-sdk-date, Signature={}", "ab".repeat(32));
    let hs2 = vec![("X-Sdk-Date".to_string(), date.as_str().to_string()), ("Authorization".to_string(), auth)];
    let r = raw(a, "GET", q, &hs2, b"");
    assert_eq!((r.status, gateway_code(&r)), (401, "APIGW.0301".into()));
    assert!(r.json()["error_msg"].as_str().unwrap().contains("host and x-sdk-date"), "{:?}", r.json());
    // Body swap on a JSON upload (body hashed): refused.
    let up = "/api/mkp-openapi-public/global/v1/market-event/E1/file";
    let ct = [("Content-Type", "application/json")];
    let (_, hs3) = signed_raw(a, "POST", up, &ct, br#"{"a":1}"#, now, SK);
    let r = raw(a, "POST", up, &hs3, br#"{"a":2}"#);
    assert_eq!((r.status, gateway_code(&r)), (401, "APIGW.0301".into()));
    // UNSIGNED-PAYLOAD for a body that is not multipart: refused.
    let tp = [("Content-Type", "text/plain")];
    let (_, hs4) = signed_raw(a, "POST", up, &tp, b"text", now, SK);
    assert!(hs4.iter().any(|(_, v)| v == "UNSIGNED-PAYLOAD"));
    let r = raw(a, "POST", up, &hs4, b"text");
    assert_eq!((r.status, gateway_code(&r)), (401, "APIGW.0301".into()));
    assert!(r.json()["error_msg"].as_str().unwrap().contains("multipart"));
    // Unknown API, wrong method.
    let r = raw(a, "GET", "/api/nothing", &[], b"");
    assert_eq!((r.status, gateway_code(&r)), (404, "APIGW.0101".into()));
    let r = raw(a, "POST", q, &[], b"");
    assert_eq!((r.status, gateway_code(&r)), (404, "APIGW.0101".into()));
    // Huge body: 413 without reading it all.
    let mut s = TcpStream::connect(a).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let n = 13 * 1024 * 1024;
    s.write_all(format!("POST {up} HTTP/1.1\r\nHost: {a}\r\nContent-Length: {n}\r\nConnection: close\r\n\r\n").as_bytes()).unwrap();
    let chunk = vec![b'x'; 1 << 20];
    for _ in 0..13 {
        if s.write_all(&chunk).is_err() {
            break;
        }
    }
    let mut got = Vec::new();
    let _ = s.read_to_end(&mut got);
    assert!(String::from_utf8_lossy(&got).starts_with("HTTP/1.1 413"), "{}", String::from_utf8_lossy(&got[..got.len().min(200)]));
    // Slow client: a head never finished is cut (no hang), the server still answers others.
    let t = Instant::now();
    let mut slow = TcpStream::connect(a).unwrap();
    slow.write_all(b"GET /api/mkp-openapi-public/global/v1/order/query?orderId=X HTTP/1.1\r\nHost: x\r\n").unwrap();
    let (_, hs) = signed_raw(a, "GET", q, &[], b"", now_ms(), SK);
    assert_eq!(raw(a, "GET", q, &hs, b"").status, 200);
    slow.set_read_timeout(Some(Duration::from_secs(40))).unwrap();
    let mut buf = Vec::new();
    let _ = slow.read_to_end(&mut buf);
    assert!(t.elapsed() < Duration::from_secs(35), "the slow connection was not cut");
}

/// A loopback server answering each request with the next of `answers`
/// (status, delay), counting requests.
fn scripted(answers: Vec<(u16, Duration)>) -> (SocketAddr, Arc<AtomicUsize>) {
    let l = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = l.local_addr().unwrap();
    let count = Arc::new(AtomicUsize::new(0));
    let c = count.clone();
    std::thread::spawn(move || {
        for s in l.incoming() {
            let Ok(mut s) = s else { continue };
            let i = c.fetch_add(1, Ordering::SeqCst);
            let (status, delay) = answers.get(i).copied().unwrap_or((200, Duration::ZERO));
            std::thread::spawn(move || {
                let mut buf = [0u8; 65536];
                let _ = s.read(&mut buf);
                std::thread::sleep(delay);
                let body = if status == 200 {
                    r#"{"resultCode":"MKT.0000","resultMsg":"Success","orderInfo":{"orderId":"A"}}"#.to_string()
                } else {
                    format!(r#"{{"error_code":"X.{status}","error_msg":"scripted {status}"}}"#)
                };
                let _ = s.write_all(format!("HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len()).as_bytes());
            });
        }
    });
    (addr, count)
}

#[test]
fn retries_on_5xx_and_timeouts_never_on_4xx() {
    let q = |ep: &str, extra: &[&str]| {
        let mut a = vec!["query-order", "--ak", AK, "--sk", SK, "--endpoint", ep, "--order-id", "A", "--json"];
        a.extend_from_slice(extra);
        api(&a)
    };
    // Two 503s, then success: 3 attempts.
    let (a, n) = scripted(vec![(503, Duration::ZERO), (502, Duration::ZERO)]);
    let r = q(&format!("http://{a}"), &["--retries", "2"]);
    assert_eq!(r.code, 0, "{}", r.all());
    assert_eq!(n.load(Ordering::SeqCst), 3);
    // 5xx every time: bounded, the last refusal reported with its code.
    let (a, n) = scripted(vec![(500, Duration::ZERO); 10]);
    let r = q(&format!("http://{a}"), &["--retries", "2"]);
    assert_eq!(r.code, 1);
    assert!(r.stdout.contains("X.500"), "{}", r.all());
    assert_eq!(n.load(Ordering::SeqCst), 3);
    // 4xx: no retry.
    let (a, n) = scripted(vec![(401, Duration::ZERO); 10]);
    let r = q(&format!("http://{a}"), &["--retries", "3"]);
    assert_eq!(r.code, 1);
    assert_eq!(n.load(Ordering::SeqCst), 1);
    // Slow: each attempt times out after 1 s; 2 attempts.
    let (a, n) = scripted(vec![(200, Duration::from_secs(5)); 10]);
    let t = Instant::now();
    let r = q(&format!("http://{a}"), &["--retries", "1", "--timeout", "1"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("no answer in time (2 attempts)"), "{}", r.stderr);
    assert_eq!(n.load(Ordering::SeqCst), 2);
    assert!(t.elapsed() < Duration::from_secs(5));
    // Nothing listening: transport error after the retries.
    let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let r = q(&format!("http://127.0.0.1:{port}"), &["--retries", "1"]);
    assert_eq!(r.code, 1);
    assert!(r.stderr.contains("cannot reach the marketplace (2 attempts)"), "{}", r.stderr);
}

fn ref_python() -> Option<std::path::PathBuf> {
    if let Ok(p) = std::env::var("KOOSIGN_REF_PY") {
        return Some(p.into());
    }
    let p = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/ref-venv/bin/python");
    p.exists().then_some(p)
}

/// Huawei's SDK signer (huaweicloudsdkcore) on a real HTTP request sent
/// with `requests`: accepted; one byte changed: refused.
#[test]
fn huawei_sdk_client_is_accepted() {
    let Some(py) = ref_python() else {
        eprintln!("SKIP: no Huawei SDK reference venv (scripts/setup-ref-venv.sh)");
        return;
    };
    let m = market(&[]);
    let script = r#"
import sys, requests
from huaweicloudsdkcore.auth.credentials import BasicCredentials
from huaweicloudsdkcore.sdk_request import SdkRequest
from huaweicloudsdkcore.signer.signer import Signer
host, ak, sk, tamper = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4] == "1"
path = "/api/mkp-openapi-public/global/v1/order/query"
q = [("orderId", "MOCKPERIODYEARNEW"), ("orderLineId", "MOCKPERIODYEARNEW-000001")]
req = SdkRequest(method="GET", schema="http", host=host, resource_path=path, query_params=q,
                 header_params={"Content-Type": "application/json"}, body="")
Signer(BasicCredentials(ak, sk)).sign(req)
if tamper:
    q = [("orderId", "MOCKPERIODYEARNEX"), q[1]]
r = requests.get("http://" + host + path, params=q, headers=req.header_params, timeout=10)
print(r.status_code, r.text)
"#;
    for (tamper, want) in [("0", "200"), ("1", "401")] {
        let out = Command::new(&py).args(["-c", script, &m.addr.to_string(), AK, SK, tamper]).output().unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        assert!(text.starts_with(want), "tamper={tamper}: {text}");
        if want == "200" {
            assert!(text.contains("MKT.0000"), "{text}");
        } else {
            assert!(text.contains("APIGW.0301"), "{text}");
        }
    }
}

/// Orders `koosign simulate --data DIR` sent are served by `koosign
/// marketplace --data DIR` with the same orderId, orderLineId, productId
/// and expireTime.
#[test]
fn orders_shared_with_simulate() {
    let dir = tempfile::tempdir().unwrap();
    let s = serve(&[], Some(KEY));
    let mut c = bin();
    c.args(["simulate", "--url", &s.url(), "--protocol", "v2", "--data", dir.path().to_str().unwrap()]).env("KOOSIGN_ACCESS_KEY", KEY);
    let r = run(c);
    assert_eq!(r.code, 0, "{}", r.all());
    let text = std::fs::read_to_string(dir.path().join("orders.jsonl")).unwrap();
    let first: serde_json::Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    let m = market(&["--data", dir.path().to_str().unwrap()]);
    let id = first["orderId"].as_str().unwrap();
    let r = api(&["query-order", "--ak", AK, "--sk", SK, "--endpoint", &endpoint(&m), "--order-id", id, "--json"]);
    assert_eq!(r.code, 0, "{}", r.all());
    let v: serde_json::Value = serde_json::from_str(r.stdout.trim()).unwrap();
    let line = &v["orderInfo"]["orderLine"][0];
    assert_eq!(v["orderInfo"]["orderId"], first["orderId"]);
    assert_eq!(line["orderLineId"], first["orderLineId"]);
    assert_eq!(line["expireTime"], first["expireTime"]);
    assert_eq!(line["productInfo"][0]["productId"], first["productId"]);
}

/// `serve --marketplace-*` against a real `koosign marketplace` sharing
/// `simulate --data`: serve, PATH of the SK file's tempdir kept alive.
fn serve_with_market(m_url: &str, extra: &[&str]) -> (Serve, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let sk_file = dir.path().join("sk");
    std::fs::write(&sk_file, SK).unwrap();
    let mut args = vec!["--key", KEY, "--log-format", "json", "--marketplace-endpoint", m_url, "--marketplace-ak", AK, "--marketplace-sk-file"];
    let sk_path = sk_file.to_str().unwrap().to_string();
    args.push(&sk_path);
    args.extend_from_slice(extra);
    (serve(&args, None), dir)
}

/// The JSON request-log lines of serve that carry `marketplaceOrder`.
fn order_lines(s: &Serve) -> Vec<serde_json::Value> {
    s.log_text()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v.get("marketplaceOrder").is_some())
        .collect()
}

fn new_instance(s: &Serve, fields: serde_json::Value) -> RawResponse {
    let body = serde_json::to_vec(&fields).unwrap();
    let q = v2_query(&body, KEY, &fresh_nonce(), now_ms());
    let r = post(s.addr, &q, &[], &body);
    r.assert_signed(KEY);
    r
}

/// Issue 16: during newInstance serve queries the order from the local
/// marketplace over real loopback HTTP (S6-signed by the CLI's open-API
/// client), and the marketplace's answer agrees with what simulate sent
/// (orderId, orderLineId, productId, expireTime of DIR/orders.jsonl).
#[test]
fn serve_queries_each_new_order_from_the_marketplace_and_it_agrees() {
    let data = tempfile::tempdir().unwrap();
    let m = market(&["--data", data.path().to_str().unwrap()]);
    let (s, _keep) = serve_with_market(&endpoint(&m), &[]);
    let mut c = bin();
    c.args(["simulate", "--url", &s.url(), "--protocol", "all", "--json", "--data", data.path().to_str().unwrap()]).env("KOOSIGN_ACCESS_KEY", KEY);
    let r = run(c);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    s.wait_log_lines(60);
    std::thread::sleep(Duration::from_millis(200));
    assert!(!s.log_text().contains(SK), "SK in serve's log");
    let sent: Vec<serde_json::Value> =
        std::fs::read_to_string(data.path().join("orders.jsonl")).unwrap().lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    let lines = order_lines(&s);
    let found: Vec<&serde_json::Value> = lines.iter().map(|l| &l["marketplaceOrder"]).filter(|o| o["found"] == true).collect();
    // V2 and kit: newInstance and its repeat each queried the order.
    assert_eq!(found.len(), 4, "{lines:#?}");
    for o in &found {
        // The first record of that order is the newInstance simulate sent.
        let n = sent.iter().find(|x| x["orderId"] == o["orderId"]).unwrap_or_else(|| panic!("{o} not sent"));
        for k in ["orderId", "orderLineId", "productId", "expireTime"] {
            assert_eq!(o[k], n[k], "{k}: marketplace {o} vs notification {n}");
            assert!(!o[k].as_str().unwrap().is_empty(), "{k} empty in {o}");
        }
    }
    for l in &lines {
        assert_eq!((l["activity"].as_str(), l["resultCode"].as_str()), (Some("newInstance"), Some("000000")), "{l}");
    }
    // V1's newInstance (no orderLineId, not recorded): a test order the
    // marketplace does not know, accepted and logged.
    assert_eq!(lines.iter().filter(|l| l["marketplaceOrder"]["found"] == false).count(), 2, "{lines:#?}");
}

/// Fail closed: an order the marketplace does not know (not a test
/// notification) or one that differs from the notification is a signed
/// 000005 and creates nothing; a documented debugging order that agrees is
/// accepted; a marketplace that is down or silent is a signed 000005 within
/// the marketplace's 5 s.
#[test]
fn serve_fails_closed_when_the_order_query_fails() {
    let m = market(&[]);
    let (s, _keep) = serve_with_market(&endpoint(&m), &[]);
    let r = new_instance(&s, serde_json::json!({"activity": "newInstance", "businessId": "b1", "orderId": "CSNOSUCHORDER", "orderLineId": "CSNOSUCHORDER-000001"}));
    assert_eq!(r.code(), "000005", "{}", String::from_utf8_lossy(&r.body));
    // Retried, still 000005: nothing was created.
    let r = new_instance(&s, serde_json::json!({"activity": "newInstance", "businessId": "b1", "orderId": "CSNOSUCHORDER", "orderLineId": "CSNOSUCHORDER-000001"}));
    assert_eq!(r.code(), "000005");
    // The same as a test notification: accepted.
    let r = new_instance(&s, serde_json::json!({"activity": "newInstance", "businessId": "b1", "orderId": "CSNOSUCHORDER", "orderLineId": "CSNOSUCHORDER-000001", "testFlag": "1"}));
    assert_eq!(r.code(), "000000");
    // A debugging order with another productId: a mismatch.
    let mock = |product: &str| serde_json::json!({"activity": "newInstance", "businessId": "b2", "orderId": "mockperiodyearnew", "orderLineId": "mockperiodyearnew-000001", "productId": product});
    let r = new_instance(&s, mock("00301-other-0--0"));
    assert_eq!(r.code(), "000005");
    // Its own productId: accepted.
    let r = new_instance(&s, mock("00301-PERIOD-0--0"));
    assert_eq!(r.code(), "000000", "{}", String::from_utf8_lossy(&r.body));
    s.wait_log_lines(6);
    std::thread::sleep(Duration::from_millis(100));
    let lines = order_lines(&s);
    let notes: Vec<&str> = lines.iter().map(|l| l["note"].as_str().unwrap_or("")).collect();
    assert!(notes.iter().any(|n| n.contains("MKT.0100")), "{notes:?}");
    assert!(notes.iter().any(|n| n.contains("differs in productId")), "{notes:?}");
    drop(m);

    // Down: nothing listens.
    let closed = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    let (s, _keep) = serve_with_market(&format!("http://{closed}"), &[]);
    let t = Instant::now();
    let r = new_instance(&s, serde_json::json!({"activity": "newInstance", "businessId": "b", "orderId": "CSDOWN", "orderLineId": "CSDOWN-1", "testFlag": "1"}));
    assert_eq!(r.code(), "000005");
    assert!(t.elapsed() < Duration::from_secs(5));
    // Silent: accepts and never answers.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let silent_addr = silent.local_addr().unwrap();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for c in silent.incoming().flatten() {
            held.push(c);
        }
    });
    let (s, _keep) = serve_with_market(&format!("http://{silent_addr}"), &[]);
    let t = Instant::now();
    let r = new_instance(&s, serde_json::json!({"activity": "newInstance", "businessId": "b", "orderId": "CSSLOW", "orderLineId": "CSSLOW-1", "testFlag": "1"}));
    assert_eq!(r.code(), "000005");
    assert!(t.elapsed() < Duration::from_secs(4), "{:?}", t.elapsed());
}

/// The flags come together: an endpoint without credentials is a usage error.
#[test]
fn serve_marketplace_flags_need_each_other() {
    let mut c = bin();
    c.args(["serve", "--addr", "127.0.0.1:0", "--key", KEY, "--marketplace-endpoint", "http://127.0.0.1:1"]);
    let r = run(c);
    assert_eq!(r.code, 2, "{}", r.all());
    let mut c = bin();
    c.args(["serve", "--addr", "127.0.0.1:0", "--key", KEY, "--marketplace-ak", AK]);
    assert_eq!(run(c).code, 2);
}
