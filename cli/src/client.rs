//! The marketplace's HTTP client for `simulate`.
//!
//! The marketplace matches the response header name `Body-Sign`
//! case-sensitively, but HTTP libraries (ureq, hyper, the `http` crate)
//! lower-case header names as they parse them. So for `http://` URLs the
//! simulator speaks HTTP/1.1 itself over a `TcpStream` and parses the answer
//! with `koosign-wire` (httparse underneath, which keeps names exactly as
//! received), within its limits (2 MiB, 64 headers, 8 KiB lines, 16 interim
//! `1xx` heads): a hostile answer is a failed check, never a crash. For
//! `https://` it uses ureq (rustls), where name case cannot be observed and
//! is reported so.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use koosign_wire::{Limits, ResponseParser, WireError};
use std::time::{Duration, Instant};

/// A parsed merchant URL.
#[derive(Clone, Debug)]
pub struct Target {
    pub url: String,
    pub https: bool,
    pub host: String,
    pub port: u16,
    /// `Host` header value.
    pub authority: String,
    /// Path and query (at least `/`).
    pub path_and_query: String,
}

impl Target {
    pub fn parse(url: &str) -> Result<Self, String> {
        let uri: http::Uri = url.parse().map_err(|e| format!("`{url}` is not a valid URL: {e}"))?;
        let https = match uri.scheme_str() {
            Some("http") => false,
            Some("https") => true,
            _ => return Err(format!("`{url}`: the URL must start with http:// or https://")),
        };
        let auth = uri.authority().ok_or_else(|| format!("`{url}` has no host"))?;
        if auth.as_str().contains('@') {
            return Err(format!("`{url}`: credentials in the URL are not supported"));
        }
        let host = auth.host().trim_start_matches('[').trim_end_matches(']').to_string();
        let port = auth.port_u16().unwrap_or(if https { 443 } else { 80 });
        let path_and_query = uri.path_and_query().map(|p| p.as_str().to_string()).unwrap_or_else(|| "/".into());
        let path_and_query = if path_and_query.is_empty() { "/".into() } else { path_and_query };
        Ok(Target { url: url.to_string(), https, host, port, authority: auth.as_str().to_string(), path_and_query })
    }

    /// The request target with extra query parameters appended.
    pub fn with_query(&self, extra: Option<&str>) -> String {
        match extra {
            None | Some("") => self.path_and_query.clone(),
            Some(q) if self.path_and_query.contains('?') => format!("{}&{q}", self.path_and_query),
            Some(q) => format!("{}?{q}", self.path_and_query),
        }
    }
}

/// A response as received.
#[derive(Clone, Debug)]
pub struct Response {
    pub status: u16,
    /// Header names exactly as received (when `names_exact`).
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// False over https, where the client library lower-cases names.
    pub names_exact: bool,
}

impl Response {
    /// Values of the header named exactly `name`.
    pub fn exact<'a>(&'a self, name: &str) -> Vec<&'a str> {
        self.headers.iter().filter(|(n, _)| n == name).map(|(_, v)| v.as_str()).collect()
    }
    /// Headers whose name equals `name` ignoring case: (name as received, value).
    pub fn any_case<'a>(&'a self, name: &str) -> Vec<(&'a str, &'a str)> {
        self.headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(n, v)| (n.as_str(), v.as_str())).collect()
    }
}

/// One request and what came back.
#[derive(Debug)]
pub struct Exchange {
    pub response: Result<Response, String>,
    pub elapsed: Duration,
}

/// A request to send.
pub struct Request<'a> {
    pub method: &'a str,
    /// Extra query appended to the target's.
    pub query: Option<&'a str>,
    pub headers: &'a [(String, String)],
    pub body: Option<&'a [u8]>,
}

/// Sends one request with a hard deadline `limit` (connect + write + read).
pub fn send(target: &Target, req: &Request<'_>, limit: Duration) -> Exchange {
    let start = Instant::now();
    let response = if target.https { send_ureq(target, req, limit) } else { send_raw(target, req, start + limit, limit) };
    Exchange { response, elapsed: start.elapsed() }
}

fn remaining(deadline: Instant) -> Result<Duration, String> {
    let now = Instant::now();
    if now >= deadline {
        Err("timeout".into())
    } else {
        Ok(deadline - now)
    }
}

fn timeout_msg(limit_ms: u128) -> String {
    format!("no complete answer within {limit_ms} ms")
}

fn send_raw(target: &Target, req: &Request<'_>, deadline: Instant, limit: Duration) -> Result<Response, String> {
    let limit_ms = limit.as_millis();
    let addrs: Vec<_> = (target.host.as_str(), target.port)
        .to_socket_addrs()
        .map_err(|e| format!("cannot resolve {}: {e}", target.host))?
        .collect();
    let mut stream = None;
    let mut last_err = String::from("no address");
    for a in addrs {
        let left = remaining(deadline).map_err(|_| timeout_msg(limit_ms))?;
        match TcpStream::connect_timeout(&a, left) {
            Ok(s) => {
                stream = Some(s);
                break;
            }
            Err(e) => last_err = format!("cannot connect to {a}: {e}"),
        }
    }
    let mut stream = stream.ok_or(last_err)?;
    let _ = stream.set_nodelay(true);
    let mut head = format!("{} {} HTTP/1.1\r\nHost: {}\r\n", req.method, target.with_query(req.query), target.authority);
    head.push_str("User-Agent: koosign-simulate\r\nAccept: application/json\r\nConnection: close\r\n");
    for (n, v) in req.headers {
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    if let Some(b) = req.body {
        head.push_str(&format!("Content-Length: {}\r\n", b.len()));
    }
    head.push_str("\r\n");
    let mut wire = head.into_bytes();
    if let Some(b) = req.body {
        wire.extend_from_slice(b);
    }
    stream.set_write_timeout(Some(remaining(deadline).map_err(|_| timeout_msg(limit_ms))?)).map_err(|e| e.to_string())?;
    // An endpoint may answer (a refusal of a large body, say) and close
    // before it has read the whole request: then the write fails, and the
    // answer it sent is still read. Without one, the write error is reported.
    let write_error = match stream.write_all(&wire) {
        Ok(()) => None,
        Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
            return Err(timeout_msg(limit_ms))
        }
        Err(e) => Some(format!("cannot send the request: {e}")),
    };

    let mut parser = ResponseParser::new(Limits::DEFAULT, req.method == "HEAD");
    let mut chunk = [0u8; 8192];
    loop {
        let left = remaining(deadline).map_err(|_| timeout_msg(limit_ms))?;
        stream.set_read_timeout(Some(left)).map_err(|e| e.to_string())?;
        let parsed = match stream.read(&mut chunk) {
            Ok(0) => parser.finish().map(Some),
            Ok(n) => parser.feed(&chunk[..n]),
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
                return Err(timeout_msg(limit_ms))
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(write_error.unwrap_or_else(|| format!("read error: {e}"))),
        };
        match parsed {
            Ok(Some(resp)) => return Ok(from_wire(resp)),
            Ok(None) => {}
            Err(WireError::NoResponse) if write_error.is_some() => return Err(write_error.unwrap_or_default()),
            Err(e) => return Err(wire_error(&e)),
        }
    }
}

/// The answer as `simulate` checks it: values as text, trimmed.
fn from_wire(r: koosign_wire::Response) -> Response {
    let headers = r
        .headers
        .into_iter()
        .map(|h| (h.name, String::from_utf8_lossy(&h.value).trim().to_string()))
        .collect();
    Response { status: r.status, headers, body: r.body, names_exact: true }
}

/// A refused answer, for a failed check: what was wrong and, for a limit,
/// that the limit is the simulator's.
fn wire_error(e: &WireError) -> String {
    match e {
        WireError::NoResponse | WireError::Incomplete => e.to_string(),
        WireError::TooLarge { .. }
        | WireError::HeadTooLarge { .. }
        | WireError::TooManyHeaders { .. }
        | WireError::LineTooLong { .. }
        | WireError::TooManyInterim { .. } => format!("answer refused: {e} (the simulator's limit)"),
        _ => format!("answer refused: {e}"),
    }
}

fn send_ureq(target: &Target, req: &Request<'_>, limit: Duration) -> Result<Response, String> {
    let config = ureq::Agent::config_builder()
        .timeout_global(Some(limit))
        .http_status_as_error(false)
        .max_redirects(0)
        .user_agent("koosign-simulate")
        .build();
    let agent: ureq::Agent = config.into();
    let url = format!("https://{}{}", target.authority, target.with_query(req.query));
    let result = match req.body {
        Some(body) => {
            let mut rb = agent.post(&url);
            for (n, v) in req.headers {
                rb = rb.header(n.as_str(), v.as_str());
            }
            rb.send(body)
        }
        None => {
            let mut rb = agent.get(&url);
            for (n, v) in req.headers {
                rb = rb.header(n.as_str(), v.as_str());
            }
            rb.call()
        }
    };
    let resp = result.map_err(|e| match e {
        ureq::Error::Timeout(_) => timeout_msg(limit.as_millis()),
        other => format!("request failed: {other}"),
    })?;
    let status = resp.status().as_u16();
    let headers: Vec<(String, String)> = resp
        .headers()
        .iter()
        .map(|(n, v)| (n.as_str().to_string(), String::from_utf8_lossy(v.as_bytes()).trim().to_string()))
        .collect();
    let body = resp.into_body().read_to_vec().map_err(|e| match e {
        ureq::Error::Timeout(_) => timeout_msg(limit.as_millis()),
        other => format!("cannot read the body: {other}"),
    })?;
    Ok(Response { status, headers, body, names_exact: false })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An endpoint that answers as soon as it has the head and closes with
    /// the body unread (a body limit): the write of a body larger than the
    /// socket buffers fails, and the answer is still read.
    #[test]
    fn an_answer_before_the_body_is_read_is_still_read() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let server = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let mut head = Vec::new();
            let mut b = [0u8; 1];
            while !head.ends_with(b"\r\n\r\n") && s.read(&mut b).unwrap() == 1 {
                head.push(b[0]);
            }
            s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}").unwrap();
            // Dropped with the body unread: the kernel resets the connection.
        });
        let target = Target::parse(&format!("http://{addr}/produce")).unwrap();
        let body = vec![b'x'; 64 << 20];
        let req = Request { method: "POST", query: None, headers: &[], body: Some(&body) };
        let ex = send(&target, &req, Duration::from_secs(10));
        server.join().unwrap();
        let r = ex.response.expect("the answer sent before the body was read");
        assert_eq!((r.status, r.body.as_slice()), (200, &b"{}"[..]));
    }

    fn parse(raw: &[u8]) -> Result<Response, String> {
        let mut p = ResponseParser::new(Limits::DEFAULT, false);
        match p.feed(raw) {
            Ok(Some(r)) => Ok(from_wire(r)),
            Ok(None) => p.finish().map(from_wire).map_err(|e| wire_error(&e)),
            Err(e) => Err(wire_error(&e)),
        }
    }

    #[test]
    fn parses_exact_names_and_chunked() {
        let raw = b"HTTP/1.1 200 OK\r\nBody-sign: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
        let r = parse(raw).unwrap();
        assert_eq!(r.body, b"abcde");
        assert!(r.exact("Body-Sign").is_empty());
        assert_eq!(r.any_case("Body-Sign"), vec![("Body-sign", "x")]);
        assert_eq!(parse(&raw[..40]).unwrap_err(), "the connection was closed in the middle of the answer");
        let cl = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}";
        assert_eq!(parse(cl).unwrap().body, b"{}");
    }

    /// Issue 11 finding 7: the two answers that crashed the old parser.
    #[test]
    fn crash_inputs_are_refused_answers() {
        let raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffe\r\nab\r\n0\r\n\r\n";
        assert_eq!(parse(raw).unwrap_err(), "answer refused: the response exceeds 2097152 bytes (the simulator's limit)");
        let raw = b"HTTP/1.1 100 Continue\r\n\r\n".repeat(60_000);
        assert_eq!(parse(&raw).unwrap_err(), "answer refused: more than 16 interim 1xx responses (the simulator's limit)");
    }

    #[test]
    fn targets() {
        let t = Target::parse("http://127.0.0.1:8080/produce").unwrap();
        assert_eq!((t.port, t.path_and_query.as_str()), (8080, "/produce"));
        assert_eq!(t.with_query(Some("a=1")), "/produce?a=1");
        let t = Target::parse("https://example.com/p?x=1").unwrap();
        assert_eq!((t.port, t.with_query(Some("a=1")).as_str()), (443, "/p?x=1&a=1"));
        assert!(Target::parse("ftp://x").is_err());
        assert!(Target::parse("not a url").is_err());
    }
}
