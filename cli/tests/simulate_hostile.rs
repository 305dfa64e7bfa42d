//! Issue 11 finding 7: `koosign simulate` against hostile endpoints (a tiny
//! raw-TCP server in the test). Each hostile answer is a failed check that
//! says which limit it broke, the process exits with the failure code, and
//! nothing panics.

mod common;

use common::*;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::Duration;

/// Reads one request (head and Content-Length body); false if the client went away.
fn read_request(s: &mut TcpStream) -> bool {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..p]).to_ascii_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:").map(|v| v.trim().parse().unwrap_or(0)))
                .unwrap_or(0);
            while buf.len() < p + 4 + len {
                match s.read(&mut chunk) {
                    Ok(0) | Err(_) => return false,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
            }
            return true;
        }
        match s.read(&mut chunk) {
            Ok(0) | Err(_) => return false,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

/// A server that answers every request by calling `answer` on the socket
/// (write errors, e.g. the simulator hanging up, end the answer).
fn hostile(answer: fn(&mut TcpStream)) -> SocketAddr {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut conn) = conn else { continue };
            std::thread::spawn(move || {
                conn.set_read_timeout(Some(Duration::from_secs(10))).ok();
                conn.set_write_timeout(Some(Duration::from_secs(10))).ok();
                if read_request(&mut conn) {
                    answer(&mut conn);
                }
            });
        }
    });
    addr
}

/// Runs `simulate --protocol v2` against `addr`; asserts the run failed
/// cleanly and every failure is the HTTP check with `detail`.
fn assert_refused(addr: SocketAddr, detail: &str) {
    let (code, report, r) = simulate(&format!("http://{addr}/produce"), "v2");
    assert_eq!(code, 1, "{}", r.all());
    assert!(!r.stderr.contains("panicked") && !r.stderr.contains("overflow"), "{}", r.stderr);
    let f = failures(&report);
    assert!(f.len() >= 10, "every step was tried: {f:#?}");
    for x in &f {
        assert_eq!(x.2, "HTTP 200 within 5 s", "{x:?}");
        assert!(x.3.contains(detail), "`{detail}` in {x:?}");
    }
    assert_eq!(report["passed"], 0);
    assert_no_secret(&r, KEY);
}

#[test]
fn huge_chunk_size() {
    let addr = hostile(|s| {
        let _ = s.write_all(
            b"HTTP/1.1 200 OK\r\nBody-Sign: x\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffe\r\nabcdef",
        );
    });
    assert_refused(addr, "answer refused: the response exceeds 2097152 bytes (the simulator's limit)");
}

#[test]
fn sixty_thousand_continue_heads() {
    let addr = hostile(|s| {
        let heads = b"HTTP/1.1 100 Continue\r\n\r\n".repeat(60_000);
        let _ = s.write_all(&heads);
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}");
    });
    assert_refused(addr, "answer refused: more than 16 interim 1xx responses (the simulator's limit)");
}

#[test]
fn endless_headers() {
    let addr = hostile(|s| {
        if s.write_all(b"HTTP/1.1 200 OK\r\n").is_err() {
            return;
        }
        // Until the simulator hangs up (at most 64 MiB).
        let line = b"X-Endless: and-on-and-on\r\n".repeat(1000);
        for _ in 0..2600 {
            if s.write_all(&line).is_err() {
                return;
            }
        }
    });
    assert_refused(addr, "answer refused: more than 64 header fields (the simulator's limit)");
}

#[test]
fn endless_header_line() {
    let addr = hostile(|s| {
        if s.write_all(b"HTTP/1.1 200 OK\r\nX-Long: ").is_err() {
            return;
        }
        let piece = [b'a'; 65536];
        for _ in 0..1024 {
            if s.write_all(&piece).is_err() {
                return;
            }
        }
    });
    assert_refused(addr, "answer refused: a line of the response exceeds 8192 bytes (the simulator's limit)");
}
