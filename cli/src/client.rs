//! The marketplace's HTTP client for `simulate`.
//!
//! The marketplace matches the response header name `Body-Sign`
//! case-sensitively, but HTTP libraries (ureq, hyper, the `http` crate)
//! lower-case header names as they parse them. So for `http://` URLs the
//! simulator speaks HTTP/1.1 itself over a `TcpStream` and parses the head
//! with `httparse`, which keeps names exactly as received; for `https://` it
//! uses ureq (rustls), where name case cannot be observed and is reported so.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
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
    stream.write_all(&wire).map_err(|e| format!("cannot send the request: {e}"))?;

    let mut buf: Vec<u8> = Vec::with_capacity(4096);
    let mut chunk = [0u8; 8192];
    let mut eof = false;
    loop {
        if let Some(resp) = try_parse(&buf, eof, req.method == "HEAD")? {
            return Ok(resp);
        }
        if eof {
            return Err(if buf.is_empty() {
                "the connection was closed without an answer".into()
            } else {
                "the connection was closed in the middle of the answer".into()
            });
        }
        let left = remaining(deadline).map_err(|_| timeout_msg(limit_ms))?;
        stream.set_read_timeout(Some(left)).map_err(|e| e.to_string())?;
        match stream.read(&mut chunk) {
            Ok(0) => eof = true,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
                return Err(timeout_msg(limit_ms))
            }
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(format!("read error: {e}")),
        }
    }
}

/// Parses a complete response from `buf`, or `Ok(None)` if more is needed.
fn try_parse(buf: &[u8], eof: bool, head_only: bool) -> Result<Option<Response>, String> {
    let mut headers = [httparse::EMPTY_HEADER; 128];
    let mut r = httparse::Response::new(&mut headers);
    let head_len = match r.parse(buf) {
        Ok(httparse::Status::Complete(n)) => n,
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(e) => return Err(format!("not an HTTP/1.x response: {e}")),
    };
    let status = r.code.unwrap_or(0);
    let hs: Vec<(String, String)> = r
        .headers
        .iter()
        .map(|h| (h.name.to_string(), String::from_utf8_lossy(h.value).trim().to_string()))
        .collect();
    // 1xx interim responses: skip them.
    if (100..200).contains(&status) {
        return try_parse(&buf[head_len..], eof, head_only);
    }
    let rest = &buf[head_len..];
    let find = |n: &str| hs.iter().find(|(k, _)| k.eq_ignore_ascii_case(n)).map(|(_, v)| v.as_str());
    let body = if head_only || status == 204 || status == 304 {
        Some(Vec::new())
    } else if find("transfer-encoding").is_some_and(|v| v.to_ascii_lowercase().contains("chunked")) {
        dechunk(rest)?
    } else if let Some(cl) = find("content-length") {
        let n: usize = cl.parse().map_err(|_| format!("bad Content-Length `{cl}`"))?;
        (rest.len() >= n).then(|| rest[..n].to_vec())
    } else if eof {
        Some(rest.to_vec())
    } else {
        None
    };
    Ok(body.map(|body| Response { status, headers: hs, body, names_exact: true }))
}

/// Decodes a chunked body; `Ok(None)` while incomplete.
fn dechunk(mut b: &[u8]) -> Result<Option<Vec<u8>>, String> {
    let mut out = Vec::new();
    loop {
        let Some(eol) = b.windows(2).position(|w| w == b"\r\n") else { return Ok(None) };
        let line = std::str::from_utf8(&b[..eol]).map_err(|_| "bad chunk size line")?;
        let size_text = line.split(';').next().unwrap_or("").trim();
        let size = usize::from_str_radix(size_text, 16).map_err(|_| format!("bad chunk size `{size_text}`"))?;
        b = &b[eol + 2..];
        if size == 0 {
            return Ok(Some(out));
        }
        if b.len() < size + 2 {
            return Ok(None);
        }
        out.extend_from_slice(&b[..size]);
        b = &b[size + 2..];
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

    #[test]
    fn parses_exact_names_and_chunked() {
        let raw = b"HTTP/1.1 200 OK\r\nBody-sign: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
        let r = try_parse(raw, false, false).unwrap().unwrap();
        assert_eq!(r.body, b"abcde");
        assert!(r.exact("Body-Sign").is_empty());
        assert_eq!(r.any_case("Body-Sign"), vec![("Body-sign", "x")]);
        assert!(try_parse(&raw[..40], false, false).unwrap().is_none());
        let cl = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}";
        assert_eq!(try_parse(cl, false, false).unwrap().unwrap().body, b"{}");
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
