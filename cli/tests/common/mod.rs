//! Shared helpers for the end-to-end tests: run the real `koosign` binary,
//! start `koosign serve` as a child on a free loopback port, speak raw HTTP,
//! and put a mutating raw-TCP proxy in front of a correct endpoint to make
//! deliberately broken merchants.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::process::{Child, Command, Output, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

pub const KEY: &str = "testAccessKey123";

pub fn bin() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_koosign"));
    c.env_remove("KOOSIGN_ACCESS_KEY").env_remove("KOOSIGN_APIG_SK").env_remove("KOOSIGN_APIG_AK");
    c
}

/// Output of a finished command, as text.
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    pub fn all(&self) -> String {
        format!("{}\n{}", self.stdout, self.stderr)
    }
}

pub fn run(mut c: Command) -> Run {
    let Output { status, stdout, stderr } = c.output().expect("run koosign");
    Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

pub fn run_stdin(mut c: Command, input: &[u8]) -> Run {
    c.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = c.spawn().expect("spawn koosign");
    child.stdin.take().unwrap().write_all(input).unwrap();
    let Output { status, stdout, stderr } = child.wait_with_output().unwrap();
    Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

/// Asserts that no output of a run contains `secret`.
pub fn assert_no_secret(r: &Run, secret: &str) {
    assert!(!r.stdout.contains(secret), "secret printed on stdout:\n{}", r.stdout);
    assert!(!r.stderr.contains(secret), "secret printed on stderr:\n{}", r.stderr);
}

/// A `koosign serve` child process; killed on drop.
pub struct Serve {
    pub child: Child,
    pub addr: SocketAddr,
    pub log: Arc<Mutex<Vec<String>>>,
    /// The store directory when the test gave none (the child is killed, so
    /// it could not remove a temporary store itself).
    _data: Option<tempfile::TempDir>,
}

impl Serve {
    pub fn url(&self) -> String {
        format!("http://{}/produce", self.addr)
    }
    pub fn log_text(&self) -> String {
        self.log.lock().unwrap().join("\n")
    }
    /// Waits until the log has at least `n` lines, the "listening on" line
    /// included (request logs are written after the answer).
    pub fn wait_log_lines(&self, n: usize) {
        let t = Instant::now();
        while self.log.lock().unwrap().len() < n && t.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(10));
        }
    }
    /// Waits (up to 5 s) until `pat` occurs at least `n` times in the log
    /// and returns the log's text: for assertions about what a request
    /// logged, which is written after its answer is sent.
    pub fn wait_log_count(&self, pat: &str, n: usize) -> String {
        let t = Instant::now();
        loop {
            let text = self.log_text();
            if text.matches(pat).count() >= n || t.elapsed() >= Duration::from_secs(5) {
                return text;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `koosign serve --addr 127.0.0.1:0` with `extra` arguments (the
/// key among them) and waits for its "listening on" line.
pub fn serve(extra: &[&str], env_key: Option<&str>) -> Serve {
    let mut c = bin();
    c.args(["serve", "--addr", "127.0.0.1:0"]).args(extra);
    let data = if extra.contains(&"--data") {
        None
    } else {
        let d = tempfile::tempdir().unwrap();
        c.arg("--data").arg(d.path());
        Some(d)
    };
    if let Some(k) = env_key {
        c.env("KOOSIGN_ACCESS_KEY", k);
    }
    c.stdout(Stdio::null()).stderr(Stdio::piped()).stdin(Stdio::null());
    let mut child = c.spawn().expect("spawn serve");
    let stderr = child.stderr.take().unwrap();
    let log = Arc::new(Mutex::new(Vec::new()));
    let (tx, rx) = mpsc::channel();
    let log2 = log.clone();
    std::thread::spawn(move || {
        let mut sent = false;
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { break };
            if !sent {
                if let Some(rest) = line.split("listening on http://").nth(1) {
                    let addr = rest.split('/').next().unwrap().to_string();
                    let _ = tx.send(addr);
                    sent = true;
                }
            }
            log2.lock().unwrap().push(line);
        }
    });
    let addr = rx.recv_timeout(Duration::from_secs(20)).expect("serve did not start");
    Serve { child, addr: addr.parse().unwrap(), log, _data: data }
}

/// A raw HTTP/1.1 exchange: writes `request` as is, reads to EOF.
pub struct RawResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl RawResponse {
    pub fn header(&self, exact: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == exact).map(|(_, v)| v.as_str())
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("JSON body")
    }
    pub fn code(&self) -> String {
        self.json()["resultCode"].as_str().unwrap_or("").to_string()
    }
    /// Asserts the Body-Sign header (exact name) verifies over the exact bytes.
    pub fn assert_signed(&self, key: &str) {
        let v = self.header("Body-Sign").expect("a header named exactly Body-Sign");
        koosign::verify_body_sign(v, &self.body, &[key]).expect("Body-Sign verifies");
    }
}

pub fn parse_response(raw: &[u8]) -> RawResponse {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("end of head");
    let head = std::str::from_utf8(&raw[..split]).unwrap();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap();
    let status: u16 = status_line.split(' ').nth(1).unwrap().parse().unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':').map(|(n, v)| (n.to_string(), v.trim().to_string())))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    if let Some((_, cl)) = headers.iter().find(|(n, _)| n.eq_ignore_ascii_case("content-length")) {
        body.truncate(cl.parse().unwrap());
    }
    RawResponse { status, headers, body }
}

pub fn raw_exchange(addr: SocketAddr, request: &[u8]) -> RawResponse {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(request).unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).unwrap();
    parse_response(&out)
}

/// A POST to /produce with a query and a body, written by hand.
pub fn post(addr: SocketAddr, query: &str, headers: &[(&str, &str)], body: &[u8]) -> RawResponse {
    let mut req = format!("POST /produce?{query} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n", body.len());
    for (n, v) in headers {
        req.push_str(&format!("{n}: {v}\r\n"));
    }
    req.push_str("\r\n");
    let mut bytes = req.into_bytes();
    bytes.extend_from_slice(body);
    raw_exchange(addr, &bytes)
}

pub fn get(addr: SocketAddr, path_and_query: &str) -> RawResponse {
    let req = format!("GET {path_and_query} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n");
    raw_exchange(addr, req.as_bytes())
}

pub fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64
}

/// Signed V2 basic query for `body` at `ts` with `nonce`.
pub fn v2_query(body: &[u8], key: &str, nonce: &str, ts: u64) -> String {
    let ts = ts.to_string();
    let sig = koosign::sign_v2(koosign::V2Scheme::Query, body, key, nonce, &ts).unwrap();
    format!("signature={}&timestamp={ts}&nonce={nonce}", sig.as_str())
}

/// A V1 query (S1) for `params` signed now with `key`. The timeStamp is
/// strictly later than any returned before in this process, so two calls
/// never give byte-for-byte the same query (which `serve` would refuse as a
/// replayed authToken).
pub fn v1_signed(params: &[(&str, &str)], key: &str) -> String {
    use std::sync::atomic::{AtomicU64, Ordering};
    static LAST: AtomicU64 = AtomicU64::new(0);
    let mut ms = now_ms();
    let mut last = LAST.load(Ordering::SeqCst);
    loop {
        ms = ms.max(last + 1);
        match LAST.compare_exchange(last, ms, Ordering::SeqCst, Ordering::SeqCst) {
            Ok(_) => break,
            Err(l) => last = l,
        }
    }
    v1_signed_at(params, key, ms)
}

/// A V1 query for `params` signed with `key` at `unix_ms`.
pub fn v1_signed_at(params: &[(&str, &str)], key: &str, unix_ms: u64) -> String {
    let ts = koosign::format_v1_timestamp(unix_ms);
    let mut all = params.to_vec();
    all.push(("timeStamp", ts.as_str()));
    let mut out = vec![0u8; 8192];
    koosign::build_v1_query(&all, key, &mut out).unwrap().to_string()
}

pub fn fresh_nonce() -> String {
    let mut b = [0u8; 16];
    getrandom::fill(&mut b).unwrap();
    b.iter().map(|x| format!("{x:02X}")).collect()
}

// ---------------------------------------------------------------- broken merchants

/// A request as the proxy saw it.
pub struct SeenRequest {
    pub head: String,
    pub body: Vec<u8>,
}

impl SeenRequest {
    /// The value of a query parameter or header carrying the request's timestamp.
    pub fn timestamp(&self) -> Option<String> {
        let first = self.head.lines().next().unwrap_or("");
        let target = first.split(' ').nth(1).unwrap_or("");
        let query = target.split_once('?').map(|(_, q)| q).unwrap_or("");
        for pair in query.split('&') {
            if let Some(v) = pair.strip_prefix("timeStamp=").or_else(|| pair.strip_prefix("timestamp=")) {
                return Some(v.to_string());
            }
        }
        self.head
            .lines()
            .find_map(|l| l.split_once(':').filter(|(n, _)| n.eq_ignore_ascii_case("x-timestamp")).map(|(_, v)| v.trim().to_string()))
    }
}

/// A response the proxy may change: header names as they will be written.
pub struct Outgoing {
    pub status_line: String,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub delay: Duration,
}

pub type Mutation = Arc<dyn Fn(&SeenRequest, &mut Outgoing) + Send + Sync>;

/// A raw-TCP proxy in front of `upstream` that applies `mutate` to every
/// answer. Returns its address; it runs until the test process ends.
pub fn broken_proxy(upstream: SocketAddr, mutate: Mutation) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(conn) = conn else { continue };
            let m = mutate.clone();
            std::thread::spawn(move || proxy_one(conn, upstream, m));
        }
    });
    addr
}

fn read_request(s: &mut TcpStream) -> Option<(String, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..p]).into_owned();
            let len: usize = head
                .lines()
                .find_map(|l| l.split_once(':').filter(|(n, _)| n.eq_ignore_ascii_case("content-length")).map(|(_, v)| v.trim().parse().unwrap_or(0)))
                .unwrap_or(0);
            while buf.len() < p + 4 + len {
                let n = s.read(&mut chunk).ok()?;
                if n == 0 {
                    return None;
                }
                buf.extend_from_slice(&chunk[..n]);
            }
            return Some((head, buf[p + 4..p + 4 + len].to_vec()));
        }
        let n = s.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn proxy_one(mut conn: TcpStream, upstream: SocketAddr, mutate: Mutation) {
    conn.set_read_timeout(Some(Duration::from_secs(10))).ok();
    let Some((head, body)) = read_request(&mut conn) else { return };
    let mut up = TcpStream::connect(upstream).unwrap();
    up.write_all(head.as_bytes()).unwrap();
    up.write_all(b"\r\n\r\n").unwrap();
    up.write_all(&body).unwrap();
    let mut raw = Vec::new();
    up.read_to_end(&mut raw).unwrap();
    let resp = parse_response(&raw);
    let status_line = String::from_utf8_lossy(&raw[..raw.windows(2).position(|w| w == b"\r\n").unwrap()]).into_owned();
    let mut out = Outgoing {
        status_line,
        headers: resp
            .headers
            .into_iter()
            .filter(|(n, _)| !n.eq_ignore_ascii_case("content-length") && !n.eq_ignore_ascii_case("connection"))
            .collect(),
        body: resp.body,
        delay: Duration::ZERO,
    };
    let seen = SeenRequest { head, body };
    mutate(&seen, &mut out);
    std::thread::sleep(out.delay);
    let mut w = format!("{}\r\n", out.status_line);
    for (n, v) in &out.headers {
        w.push_str(&format!("{n}: {v}\r\n"));
    }
    w.push_str(&format!("Content-Length: {}\r\nConnection: close\r\n\r\n", out.body.len()));
    let mut bytes = w.into_bytes();
    bytes.extend_from_slice(&out.body);
    let _ = conn.write_all(&bytes);
}

/// Runs `koosign simulate --json` and returns (exit code, report, run).
pub fn simulate(url: &str, protocol: &str) -> (i32, serde_json::Value, Run) {
    let mut c = bin();
    c.args(["simulate", "--url", url, "--protocol", protocol, "--json"]).env("KOOSIGN_ACCESS_KEY", KEY);
    let r = run(c);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("simulate --json output: {e}\n{}\n{}", r.stdout, r.stderr));
    (r.code, v, r)
}

/// The (protocol, step, check, detail) of every failed check.
pub fn failures(report: &serde_json::Value) -> Vec<(String, String, String, String)> {
    report["checks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["result"] != "pass")
        .map(|c| {
            (
                c["protocol"].as_str().unwrap().to_string(),
                c["step"].as_str().unwrap().to_string(),
                c["check"].as_str().unwrap().to_string(),
                c["detail"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}
