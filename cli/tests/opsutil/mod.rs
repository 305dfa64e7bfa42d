//! Helpers of the operations and fault tests (issue 15): requests that may
//! fail (a killed server), a Redis server of our own, signals, a tmpfs.
#![allow(dead_code)]

use crate::common::*;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A raw exchange that reports failure instead of panicking; `timeout`
/// bounds connecting, writing and each read.
pub fn try_exchange(addr: SocketAddr, request: &[u8], timeout: Duration) -> Result<RawResponse, String> {
    let mut s = TcpStream::connect_timeout(&addr, timeout).map_err(|e| format!("connect: {e}"))?;
    s.set_read_timeout(Some(timeout)).ok();
    s.set_write_timeout(Some(timeout)).ok();
    s.write_all(request).map_err(|e| format!("write: {e}"))?;
    let mut out = Vec::new();
    s.read_to_end(&mut out).map_err(|e| format!("read: {e}"))?;
    if !out.windows(4).any(|w| w == b"\r\n\r\n") {
        return Err(format!("no HTTP answer ({} bytes)", out.len()));
    }
    Ok(parse_response(&out))
}

/// A V2 POST request's bytes.
pub fn post_bytes(addr: SocketAddr, query: &str, body: &[u8]) -> Vec<u8> {
    let mut req = format!(
        "POST /produce?{query} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    req.extend_from_slice(body);
    req
}

pub fn get_bytes(addr: SocketAddr, path_and_query: &str) -> Vec<u8> {
    format!("GET {path_and_query} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n").into_bytes()
}

/// A freshly signed V2 request: (query, body).
pub fn v2_request(body: &str) -> (String, Vec<u8>) {
    (v2_query(body.as_bytes(), KEY, &fresh_nonce(), now_ms()), body.as_bytes().to_vec())
}

/// POSTs a freshly signed V2 `body`; the answer or why none came.
pub fn try_v2(addr: SocketAddr, body: &str, timeout: Duration) -> Result<RawResponse, String> {
    let (q, b) = v2_request(body);
    try_exchange(addr, &post_bytes(addr, &q, &b), timeout)
}

pub fn new_instance_body(order: &str) -> String {
    format!(r#"{{"activity":"newInstance","orderId":"{order}","orderLineId":"{order}-1","testFlag":"1"}}"#)
}

pub fn query_body(id: &str) -> String {
    format!(r#"{{"activity":"queryInstance","instanceId":"{id}","testFlag":"1"}}"#)
}

/// Creates an instance through `addr`; its id.
pub fn create(addr: SocketAddr, order: &str) -> String {
    let r = try_v2(addr, &new_instance_body(order), Duration::from_secs(10)).expect("answer");
    r.assert_signed(KEY);
    let v = r.json();
    assert_eq!(v["resultCode"], "000000", "{v}");
    v["instanceId"].as_str().unwrap().to_string()
}

/// Sends `signal` (e.g. "TERM") to `pid`.
pub fn signal(pid: u32, sig: &str) {
    let st = Command::new("kill").arg(format!("-{sig}")).arg(pid.to_string()).status().expect("kill");
    assert!(st.success(), "kill -{sig} {pid}");
}

/// Waits up to `limit` for `child` to exit; its exit code (None: still running).
pub fn wait_exit(child: &mut Child, limit: Duration) -> Option<Option<i32>> {
    let t = Instant::now();
    while t.elapsed() < limit {
        if let Ok(Some(st)) = child.try_wait() {
            return Some(st.code());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

/// A free loopback port (bound, then released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The path of redis-server, or a clear panic: the `faults` part of
/// scripts/test.sh installs it (Debian's redis-server).
pub fn redis_server_bin() -> String {
    for p in ["/usr/bin/redis-server", "/usr/local/bin/redis-server"] {
        if std::path::Path::new(p).exists() {
            return p.to_string();
        }
    }
    panic!("redis-server not found: run scripts/test.sh faults (it installs Debian's redis-server)");
}

/// A redis-server child on loopback with an append-only file fsynced on
/// every write (so a killed Redis keeps what it acknowledged); killed on drop.
pub struct RedisServer {
    pub port: u16,
    pub dir: tempfile::TempDir,
    /// `requirepass`, if any.
    pub password: Option<String>,
    child: Option<Child>,
}

impl RedisServer {
    pub fn start() -> Self {
        Self::start_with(None)
    }
    pub fn start_with(password: Option<&str>) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut r = RedisServer { port: free_port(), dir, password: password.map(String::from), child: None };
        r.restart();
        r
    }
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }
    /// Starts it (again, on the same port and data) and waits for PONG.
    pub fn restart(&mut self) {
        assert!(self.child.is_none(), "already running");
        let child = Command::new(redis_server_bin())
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1", "--save", ""])
            .args(["--appendonly", "yes", "--appendfsync", "always", "--protected-mode", "yes"])
            .arg("--dir")
            .arg(self.dir.path())
            .args(self.password.iter().flat_map(|p| ["--requirepass".to_string(), p.clone()]))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start redis-server");
        self.child = Some(child);
        let t = Instant::now();
        while !self.ping() {
            assert!(t.elapsed() < Duration::from_secs(10), "redis-server did not answer on port {}", self.port);
            std::thread::sleep(Duration::from_millis(20));
        }
    }
    /// SIGKILL, and wait until the port is closed.
    pub fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
    pub fn ping(&self) -> bool {
        let addr: SocketAddr = format!("127.0.0.1:{}", self.port).parse().unwrap();
        let Ok(mut s) = TcpStream::connect_timeout(&addr, Duration::from_millis(200)) else { return false };
        s.set_read_timeout(Some(Duration::from_millis(500))).ok();
        if s.write_all(b"PING\r\n").is_err() {
            return false;
        }
        // With a password, an unauthenticated PING is refused (-NOAUTH): the
        // server is up all the same.
        let mut b = [0u8; 7];
        s.read_exact(&mut b).is_ok() && (&b == b"+PONG\r\n" || b.starts_with(b"-NOAUTH"))
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Resident memory of `pid` in KiB (Linux /proc).
pub fn rss_kib(pid: u32) -> Option<u64> {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    s.lines().find(|l| l.starts_with("VmRSS:"))?.split_whitespace().nth(1)?.parse().ok()
}
