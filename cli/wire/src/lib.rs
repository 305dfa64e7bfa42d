//! `koosign-wire`: the HTTP/1.x *response* parser of `koosign simulate`.
//!
//! `simulate` plays the marketplace against a merchant URL that may be
//! broken or hostile, and must report every answer as a check, never crash.
//! It also has to see header names exactly as sent (the marketplace matches
//! `Body-Sign` case-sensitively), which HTTP client libraries hide. So it
//! speaks HTTP/1.1 itself over a socket and parses the answer here:
//!
//! * heads (status line and headers) by [`httparse`], which keeps the case of
//!   names; chunk-size lines by [`httparse::parse_chunk_size`];
//! * incrementally ([`ResponseParser::feed`] as bytes arrive,
//!   [`ResponseParser::finish`] at end of stream), as a loop over a small
//!   state machine: no recursion, whatever the input (60 000 `100 Continue`
//!   heads are a loop, then [`WireError::TooManyInterim`]);
//! * within [`Limits`]: the whole response, one head, the number of headers,
//!   the length of any line (head, chunk size, trailer) and the number of
//!   interim `1xx` heads. Each limit has its own [`WireError`] variant;
//! * with checked arithmetic only: a chunk size of `fffffffffffffffe` is
//!   [`WireError::TooLarge`], not an overflow.
//!
//! The result does not depend on how the bytes were split between calls to
//! `feed` (the `http_response` fuzz target checks this), and a parsed body is
//! never longer than [`Limits::max_total`].

#![forbid(unsafe_code)]
#![deny(missing_docs)]

use std::fmt;

/// The bounds a response must stay within. All are counts of bytes except
/// `max_headers` and `max_interim`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// The whole response as received: interim heads, the final head, chunk
    /// framing, body and trailers. Bytes after the end of the response are
    /// not counted (they are ignored). Default 2 MiB.
    pub max_total: usize,
    /// One head: status line, headers and the empty line. Default 64 KiB.
    pub max_head: usize,
    /// Headers in one head, and trailer fields after a chunked body. Default 64.
    pub max_headers: usize,
    /// One line, its line ending excluded: the status line, a header line, a
    /// chunk-size line (extensions included), a trailer line. Default 8 KiB.
    pub max_line: usize,
    /// Interim `1xx` heads before the final one. Default 16.
    pub max_interim: usize,
}

impl Limits {
    /// The defaults: 2 MiB in all, 64 KiB per head, 64 headers, 8 KiB per
    /// line, 16 interim heads.
    pub const DEFAULT: Limits =
        Limits { max_total: 2 << 20, max_head: 64 << 10, max_headers: 64, max_line: 8 << 10, max_interim: 16 };
}

impl Default for Limits {
    fn default() -> Self {
        Limits::DEFAULT
    }
}

/// Why a response was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum WireError {
    /// The response (interim heads, head, framing, body, trailers) exceeds
    /// [`Limits::max_total`], or announces a `Content-Length` or a chunk
    /// that would (including sizes that do not fit in 64 bits).
    TooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// One head exceeds [`Limits::max_head`].
    HeadTooLarge {
        /// The limit, in bytes.
        limit: usize,
    },
    /// More headers (or trailer fields) than [`Limits::max_headers`].
    TooManyHeaders {
        /// The limit, in headers.
        limit: usize,
    },
    /// A line longer than [`Limits::max_line`].
    LineTooLong {
        /// The limit, in bytes.
        limit: usize,
    },
    /// More interim `1xx` heads than [`Limits::max_interim`].
    TooManyInterim {
        /// The limit, in heads.
        limit: usize,
    },
    /// The head is not HTTP/1.x (httparse's reason).
    MalformedHead(&'static str),
    /// `101 Switching Protocols`, which was not asked for.
    UnexpectedUpgrade,
    /// A `Content-Length` that is not digits, or several that differ.
    BadContentLength,
    /// Chunked framing is broken (which part).
    BadChunk(&'static str),
    /// The stream ended before any byte of a response.
    NoResponse,
    /// The stream ended in the middle of the response.
    Incomplete,
    /// `feed` or `finish` was called after the parser had already returned
    /// a response or an error.
    Finished,
}

impl fmt::Display for WireError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WireError::TooLarge { limit } => write!(f, "the response exceeds {limit} bytes"),
            WireError::HeadTooLarge { limit } => write!(f, "the response head exceeds {limit} bytes"),
            WireError::TooManyHeaders { limit } => write!(f, "more than {limit} header fields"),
            WireError::LineTooLong { limit } => write!(f, "a line of the response exceeds {limit} bytes"),
            WireError::TooManyInterim { limit } => write!(f, "more than {limit} interim 1xx responses"),
            WireError::MalformedHead(why) => write!(f, "not an HTTP/1.x response: {why}"),
            WireError::UnexpectedUpgrade => f.write_str("unexpected 101 Switching Protocols"),
            WireError::BadContentLength => f.write_str("bad Content-Length"),
            WireError::BadChunk(why) => write!(f, "bad chunked encoding: {why}"),
            WireError::NoResponse => f.write_str("the connection was closed without an answer"),
            WireError::Incomplete => f.write_str("the connection was closed in the middle of the answer"),
            WireError::Finished => f.write_str("the parser has already finished"),
        }
    }
}

impl std::error::Error for WireError {}

/// One header field, as received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Header {
    /// The name with its case exactly as sent (a token: ASCII).
    pub name: String,
    /// The value's bytes, surrounding whitespace removed (by httparse).
    pub value: Vec<u8>,
}

/// A complete final response.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    /// `1` for HTTP/1.1, `0` for HTTP/1.0.
    pub version: u8,
    /// The status code, 200..=999 (1xx heads are interim and skipped).
    pub status: u16,
    /// The reason phrase (possibly empty).
    pub reason: String,
    /// The headers in the order received.
    pub headers: Vec<Header>,
    /// The body, de-chunked; at most [`Limits::max_total`] bytes.
    pub body: Vec<u8>,
    /// How many interim `1xx` heads preceded this one.
    pub interim: usize,
}

impl Response {
    /// Values of the headers whose name equals `name` ignoring ASCII case.
    pub fn values<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a [u8]> + 'a {
        self.headers.iter().filter(move |h| h.name.eq_ignore_ascii_case(name)).map(|h| h.value.as_slice())
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    Head,
    /// `Content-Length`: this many body bytes still to come.
    Length(usize),
    /// No length: the body runs to the end of the stream.
    UntilEof,
    ChunkSize,
    /// Chunk data still to come.
    ChunkData(usize),
    /// The CRLF after a chunk's data.
    ChunkEnd,
    /// Trailer fields after the last chunk; the count seen so far.
    Trailers(usize),
    Done,
}

struct Head {
    version: u8,
    status: u16,
    reason: String,
    headers: Vec<Header>,
}

/// An incremental response parser: [`feed`](Self::feed) it the bytes as
/// they arrive, [`finish`](Self::finish) it at end of stream.
pub struct ResponseParser {
    limits: Limits,
    head_only: bool,
    /// Received bytes not yet consumed.
    buf: Vec<u8>,
    /// Bytes consumed as part of the response so far (≤ `limits.max_total`).
    consumed: usize,
    interim: usize,
    state: State,
    head: Option<Head>,
    body: Vec<u8>,
    finished: bool,
}

/// Whether the status code's response has no body (RFC 9112 §6.3).
fn bodyless(status: u16) -> bool {
    status == 204 || status == 304 || (100..200).contains(&status)
}

/// The longest line in `b`, counting a final unterminated line; line
/// endings (`\n`, `\r\n`) excluded.
fn longest_line(b: &[u8]) -> usize {
    let mut longest = 0;
    for line in b.split(|&c| c == b'\n') {
        let n = line.strip_suffix(b"\r").unwrap_or(line).len();
        longest = longest.max(n);
    }
    longest
}

/// httparse's reason, as static text.
fn head_error(e: httparse::Error) -> &'static str {
    match e {
        httparse::Error::HeaderName => "invalid header name",
        httparse::Error::HeaderValue => "invalid header value",
        httparse::Error::NewLine => "invalid line ending",
        httparse::Error::Status => "invalid status",
        httparse::Error::Token => "invalid token",
        httparse::Error::TooManyHeaders => "too many headers",
        httparse::Error::Version => "invalid HTTP version",
    }
}

/// Parses `1*DIGIT` with checked arithmetic; `None` on overflow, `Err` when
/// not digits.
fn parse_digits(v: &[u8]) -> Result<Option<u64>, ()> {
    if v.is_empty() || !v.iter().all(u8::is_ascii_digit) {
        return Err(());
    }
    let mut n: u64 = 0;
    for &d in v {
        match n.checked_mul(10).and_then(|x| x.checked_add(u64::from(d - b'0'))) {
            Some(x) => n = x,
            None => return Ok(None),
        }
    }
    Ok(Some(n))
}

impl ResponseParser {
    /// A parser for the answer to a request; `head_only` for a `HEAD`
    /// request (the answer has no body whatever its headers say).
    pub fn new(limits: Limits, head_only: bool) -> Self {
        ResponseParser {
            limits,
            head_only,
            buf: Vec::new(),
            consumed: 0,
            interim: 0,
            state: State::Head,
            head: None,
            body: Vec::new(),
            finished: false,
        }
    }

    /// Adds `data` (the next bytes of the stream) and parses as far as it
    /// can. Returns `Ok(Some(response))` once the response is complete
    /// (bytes after its end are ignored), `Ok(None)` when more bytes are
    /// needed, or the first limit or format violation. After `Some` or an
    /// error the parser is finished: further calls return
    /// [`WireError::Finished`].
    pub fn feed(&mut self, data: &[u8]) -> Result<Option<Response>, WireError> {
        if self.finished {
            return Err(WireError::Finished);
        }
        self.buf.extend_from_slice(data);
        let r = self.step();
        if !matches!(r, Ok(None)) {
            self.finished = true;
            self.buf = Vec::new();
        }
        r
    }

    /// The stream has ended: returns the response if it is complete (a body
    /// without length runs to here), [`WireError::NoResponse`] if nothing
    /// was received, [`WireError::Incomplete`] otherwise.
    pub fn finish(&mut self) -> Result<Response, WireError> {
        if self.finished {
            return Err(WireError::Finished);
        }
        self.finished = true;
        match self.state {
            State::UntilEof => Ok(self.take_response()),
            State::Head if self.consumed == 0 && self.buf.is_empty() => Err(WireError::NoResponse),
            _ => Err(WireError::Incomplete),
        }
    }

    fn take_response(&mut self) -> Response {
        self.state = State::Done;
        let head =
            self.head.take().unwrap_or(Head { version: 1, status: 0, reason: String::new(), headers: Vec::new() });
        Response {
            version: head.version,
            status: head.status,
            reason: head.reason,
            headers: head.headers,
            body: std::mem::take(&mut self.body),
            interim: self.interim,
        }
    }

    /// Marks `n` buffered bytes consumed (removing them), within the total limit.
    fn consume(&mut self, n: usize) -> Result<(), WireError> {
        let total = self.consumed.checked_add(n).ok_or(WireError::TooLarge { limit: self.limits.max_total })?;
        if total > self.limits.max_total {
            return Err(WireError::TooLarge { limit: self.limits.max_total });
        }
        self.consumed = total;
        self.buf.drain(..n);
        Ok(())
    }

    /// Bytes the rest of the response may still take.
    fn budget(&self) -> usize {
        self.limits.max_total.saturating_sub(self.consumed)
    }

    /// Moves up to `want` buffered bytes into the body; returns how many.
    fn take_body(&mut self, want: usize) -> Result<usize, WireError> {
        let n = want.min(self.buf.len());
        if n > self.budget() {
            return Err(WireError::TooLarge { limit: self.limits.max_total });
        }
        self.body.extend_from_slice(&self.buf[..n]);
        self.consume(n)?;
        Ok(n)
    }

    /// The state machine: one loop, each turn consumes bytes or returns.
    fn step(&mut self) -> Result<Option<Response>, WireError> {
        loop {
            match self.state {
                State::Done => return Err(WireError::Finished),
                State::Head => {
                    if self.buf.is_empty() {
                        return Ok(None);
                    }
                    if !self.parse_head()? {
                        return Ok(None);
                    }
                }
                State::Length(rest) => {
                    let n = self.take_body(rest)?;
                    let rest = rest - n;
                    if rest == 0 {
                        return Ok(Some(self.take_response()));
                    }
                    self.state = State::Length(rest);
                    return Ok(None);
                }
                State::UntilEof => {
                    let n = self.buf.len();
                    self.take_body(n)?;
                    return Ok(None);
                }
                State::ChunkSize => {
                    let Some(&first) = self.buf.first() else { return Ok(None) };
                    if !first.is_ascii_hexdigit() {
                        return Err(WireError::BadChunk("a chunk size must start with a hex digit"));
                    }
                    match httparse::parse_chunk_size(&self.buf) {
                        Ok(httparse::Status::Partial) => {
                            if self.buf.len() > self.limits.max_line {
                                return Err(WireError::LineTooLong { limit: self.limits.max_line });
                            }
                            return Ok(None);
                        }
                        Ok(httparse::Status::Complete((used, size))) => {
                            // `used` includes the CRLF.
                            if used.saturating_sub(2) > self.limits.max_line {
                                return Err(WireError::LineTooLong { limit: self.limits.max_line });
                            }
                            self.consume(used)?;
                            let size = usize::try_from(size)
                                .map_err(|_| WireError::TooLarge { limit: self.limits.max_total })?;
                            if size > self.budget() {
                                return Err(WireError::TooLarge { limit: self.limits.max_total });
                            }
                            self.state = if size == 0 { State::Trailers(0) } else { State::ChunkData(size) };
                        }
                        Err(_) => return Err(WireError::BadChunk("invalid chunk size line")),
                    }
                }
                State::ChunkData(rest) => {
                    let n = self.take_body(rest)?;
                    let rest = rest - n;
                    if rest > 0 {
                        self.state = State::ChunkData(rest);
                        return Ok(None);
                    }
                    self.state = State::ChunkEnd;
                }
                State::ChunkEnd => match self.buf.as_slice() {
                    [] | [b'\r'] => return Ok(None),
                    [b'\r', b'\n', ..] => {
                        self.consume(2)?;
                        self.state = State::ChunkSize;
                    }
                    _ => return Err(WireError::BadChunk("chunk data not followed by CRLF")),
                },
                State::Trailers(seen) => {
                    let Some(nl) = self.buf.iter().position(|&c| c == b'\n') else {
                        if self.buf.len() > self.limits.max_line {
                            return Err(WireError::LineTooLong { limit: self.limits.max_line });
                        }
                        return Ok(None);
                    };
                    let line = &self.buf[..nl];
                    let line = line.strip_suffix(b"\r").unwrap_or(line);
                    if line.len() > self.limits.max_line {
                        return Err(WireError::LineTooLong { limit: self.limits.max_line });
                    }
                    let empty = line.is_empty();
                    self.consume(nl + 1)?;
                    if empty {
                        return Ok(Some(self.take_response()));
                    }
                    let seen = seen + 1;
                    if seen > self.limits.max_headers {
                        return Err(WireError::TooManyHeaders { limit: self.limits.max_headers });
                    }
                    self.state = State::Trailers(seen);
                }
            }
        }
    }

    /// Parses one head from the buffer. `Ok(false)`: incomplete. On an
    /// interim head, consumes it and stays in `Head`; on the final head,
    /// consumes it and chooses the body framing.
    fn parse_head(&mut self) -> Result<bool, WireError> {
        let lim = self.limits;
        let mut slots = vec![httparse::EMPTY_HEADER; lim.max_headers];
        let mut r = httparse::Response::new(&mut slots);
        let used = match r.parse(&self.buf) {
            Ok(httparse::Status::Partial) => {
                // Everything buffered belongs to this head.
                if longest_line(&self.buf) > lim.max_line {
                    return Err(WireError::LineTooLong { limit: lim.max_line });
                }
                if self.buf.len() > lim.max_head {
                    return Err(WireError::HeadTooLarge { limit: lim.max_head });
                }
                if self.buf.len() > self.budget() {
                    return Err(WireError::TooLarge { limit: lim.max_total });
                }
                return Ok(false);
            }
            Ok(httparse::Status::Complete(n)) => n,
            Err(httparse::Error::TooManyHeaders) => return Err(WireError::TooManyHeaders { limit: lim.max_headers }),
            Err(e) => return Err(WireError::MalformedHead(head_error(e))),
        };
        if longest_line(&self.buf[..used]) > lim.max_line {
            return Err(WireError::LineTooLong { limit: lim.max_line });
        }
        if used > lim.max_head {
            return Err(WireError::HeadTooLarge { limit: lim.max_head });
        }
        let status = r.code.ok_or(WireError::MalformedHead("no status code"))?;
        if status < 100 {
            // httparse reads any three digits; `050` is no HTTP status.
            return Err(WireError::MalformedHead("status code below 100"));
        }
        let version = r.version.unwrap_or(1);
        if (100..200).contains(&status) {
            if status == 101 {
                return Err(WireError::UnexpectedUpgrade);
            }
            self.consume(used)?;
            self.interim += 1;
            if self.interim > lim.max_interim {
                return Err(WireError::TooManyInterim { limit: lim.max_interim });
            }
            return Ok(true);
        }
        let reason = r.reason.unwrap_or("").to_string();
        let headers: Vec<Header> =
            r.headers.iter().map(|h| Header { name: h.name.to_string(), value: h.value.to_vec() }).collect();
        self.consume(used)?;
        let state = self.framing(status, &headers)?;
        self.head = Some(Head { version, status, reason, headers });
        self.state = state;
        Ok(true)
    }

    /// The body's framing (RFC 9112 §6.3, client side).
    fn framing(&self, status: u16, headers: &[Header]) -> Result<State, WireError> {
        if self.head_only || bodyless(status) {
            return Ok(State::Length(0));
        }
        let mut te: Option<String> = None;
        let mut cl: Option<u64> = None;
        let mut cl_overflow = false;
        for h in headers {
            if h.name.eq_ignore_ascii_case("transfer-encoding") {
                let v = String::from_utf8_lossy(&h.value).to_ascii_lowercase();
                te = Some(match te {
                    Some(prev) => format!("{prev},{v}"),
                    None => v,
                });
            } else if h.name.eq_ignore_ascii_case("content-length") {
                match parse_digits(&h.value) {
                    Err(()) => return Err(WireError::BadContentLength),
                    Ok(None) => cl_overflow = true,
                    Ok(Some(n)) => {
                        if cl.is_some_and(|c| c != n) {
                            return Err(WireError::BadContentLength);
                        }
                        cl = Some(n);
                    }
                }
            }
        }
        if let Some(te) = te {
            // Transfer-Encoding overrides Content-Length.
            let last = te.rsplit(',').next().unwrap_or("").trim();
            return Ok(if last == "chunked" { State::ChunkSize } else { State::UntilEof });
        }
        if cl_overflow && cl.is_some() {
            return Err(WireError::BadContentLength);
        }
        if cl_overflow {
            return Err(WireError::TooLarge { limit: self.limits.max_total });
        }
        match cl {
            None => Ok(State::UntilEof),
            Some(n) => {
                let n = usize::try_from(n).map_err(|_| WireError::TooLarge { limit: self.limits.max_total })?;
                if n > self.budget() {
                    return Err(WireError::TooLarge { limit: self.limits.max_total });
                }
                Ok(State::Length(n))
            }
        }
    }
}

/// Parses a whole stream at once: `bytes` are all that was received and
/// `eof` says whether the stream has ended. `Ok(None)`: incomplete and not
/// at the end.
pub fn parse_response(bytes: &[u8], eof: bool, head_only: bool, limits: Limits) -> Result<Option<Response>, WireError> {
    let mut p = ResponseParser::new(limits, head_only);
    match p.feed(bytes)? {
        Some(r) => Ok(Some(r)),
        None if eof => p.finish().map(Some),
        None => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn whole(b: &[u8]) -> Result<Option<Response>, WireError> {
        parse_response(b, true, false, Limits::DEFAULT)
    }

    #[test]
    fn content_length_and_exact_names() {
        let r = whole(b"HTTP/1.1 200 OK\r\nBody-sign: x\r\nContent-Length: 2\r\n\r\n{}trailing").unwrap().unwrap();
        assert_eq!((r.status, r.body.as_slice(), r.reason.as_str()), (200, &b"{}"[..], "OK"));
        assert_eq!(r.headers[0].name, "Body-sign");
        assert_eq!(r.values("body-sign").collect::<Vec<_>>(), vec![&b"x"[..]]);
    }

    #[test]
    fn chunked_with_extensions_and_trailers() {
        let raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n2\r\nde\r\n0\r\nT: 1\r\n\r\n";
        let r = whole(raw).unwrap().unwrap();
        assert_eq!(r.body, b"abcde");
        // Incomplete without EOF, incomplete with.
        assert_eq!(parse_response(&raw[..40], false, false, Limits::DEFAULT), Ok(None));
        assert_eq!(parse_response(&raw[..40], true, false, Limits::DEFAULT), Err(WireError::Incomplete));
    }

    #[test]
    fn until_eof_and_bodyless() {
        let r = whole(b"HTTP/1.0 200 OK\r\n\r\nhello").unwrap().unwrap();
        assert_eq!((r.version, r.body.as_slice()), (0, &b"hello"[..]));
        assert_eq!(parse_response(b"HTTP/1.0 200 OK\r\n\r\nhello", false, false, Limits::DEFAULT), Ok(None));
        let r = whole(b"HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n").unwrap().unwrap();
        assert!(r.body.is_empty());
        let r = parse_response(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n", false, true, Limits::DEFAULT)
            .unwrap()
            .unwrap();
        assert!(r.body.is_empty());
    }

    /// The crash input of issue 11 (finding 7): a chunk size near `u64::MAX`.
    #[test]
    fn huge_chunk_size_is_too_large_not_an_overflow() {
        let raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffe\r\nab\r\n0\r\n\r\n";
        assert_eq!(whole(raw), Err(WireError::TooLarge { limit: Limits::DEFAULT.max_total }));
        // 17 digits do not fit in 64 bits.
        let raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1ffffffffffffffff\r\n";
        assert_eq!(whole(raw), Err(WireError::BadChunk("invalid chunk size line")));
        // A chunk just over the budget.
        let lim = Limits { max_total: 100, ..Limits::DEFAULT };
        let raw = b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n40\r\n";
        assert_eq!(parse_response(raw, false, false, lim), Err(WireError::TooLarge { limit: 100 }));
    }

    /// The other crash input of issue 11 (finding 7): 60 000 `100 Continue`
    /// heads overflowed the stack of the old recursive parser.
    #[test]
    fn sixty_thousand_continue_heads_are_a_typed_error() {
        let mut raw = Vec::new();
        for _ in 0..60_000 {
            raw.extend_from_slice(b"HTTP/1.1 100 Continue\r\n\r\n");
        }
        raw.extend_from_slice(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        assert_eq!(whole(&raw), Err(WireError::TooManyInterim { limit: 16 }));
        // Fed piece by piece, the same.
        let mut p = ResponseParser::new(Limits::DEFAULT, false);
        let mut result = Ok(None);
        for piece in raw.chunks(7) {
            result = p.feed(piece);
            if !matches!(result, Ok(None)) {
                break;
            }
        }
        assert_eq!(result, Err(WireError::TooManyInterim { limit: 16 }));
        // A few interim heads are skipped.
        let r = whole(b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: x\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\nz")
            .unwrap()
            .unwrap();
        assert_eq!((r.status, r.interim, r.body.as_slice()), (200, 2, &b"z"[..]));
    }

    #[test]
    fn header_limits() {
        let mut raw = b"HTTP/1.1 200 OK\r\n".to_vec();
        for i in 0..65 {
            raw.extend_from_slice(format!("X-{i}: y\r\n").as_bytes());
        }
        assert_eq!(parse_response(&raw, false, false, Limits::DEFAULT), Err(WireError::TooManyHeaders { limit: 64 }));
        let mut raw = b"HTTP/1.1 200 OK\r\nX: ".to_vec();
        raw.extend(std::iter::repeat_n(b'a', 9000));
        assert_eq!(parse_response(&raw, false, false, Limits::DEFAULT), Err(WireError::LineTooLong { limit: 8192 }));
        raw.extend_from_slice(b"\r\n\r\n");
        assert_eq!(whole(&raw), Err(WireError::LineTooLong { limit: 8192 }));
        let lim = Limits { max_head: 64, ..Limits::DEFAULT };
        let raw = b"HTTP/1.1 200 OK\r\nA: 0123456789\r\nB: 0123456789\r\nC: 0123456789\r\nD: 0123456789\r\n";
        assert_eq!(parse_response(raw, false, false, lim), Err(WireError::HeadTooLarge { limit: 64 }));
    }

    #[test]
    fn content_length_rules() {
        assert_eq!(whole(b"HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n"), Err(WireError::BadContentLength));
        assert_eq!(
            whole(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab"),
            Err(WireError::BadContentLength)
        );
        assert_eq!(
            whole(b"HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999999\r\n\r\n"),
            Err(WireError::TooLarge { limit: Limits::DEFAULT.max_total })
        );
        assert_eq!(
            whole(b"HTTP/1.1 200 OK\r\nContent-Length: 3000000\r\n\r\n"),
            Err(WireError::TooLarge { limit: Limits::DEFAULT.max_total })
        );
        let lim = Limits { max_total: 10, ..Limits::DEFAULT };
        assert_eq!(
            parse_response(b"HTTP/1.0 200 OK\r\n\r\n", false, false, lim),
            Err(WireError::TooLarge { limit: 10 })
        );
        // Identical repeats are fine.
        let r = whole(b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\ncontent-length: 1\r\n\r\nab").unwrap().unwrap();
        assert_eq!(r.body, b"a");
    }

    #[test]
    fn malformed_and_eof() {
        assert_eq!(whole(b""), Err(WireError::NoResponse));
        assert_eq!(whole(b"HTTP/1.1 200"), Err(WireError::Incomplete));
        assert!(matches!(whole(b"SMTP ready\r\n\r\n"), Err(WireError::MalformedHead(_))));
        assert_eq!(whole(b"HTTP/1.1 101 Switching Protocols\r\n\r\n"), Err(WireError::UnexpectedUpgrade));
        // Found by the http_response fuzz target: httparse reads `050` as 50.
        assert_eq!(whole(b"HTTP/1.1 050 X\r\n\r\n"), Err(WireError::MalformedHead("status code below 100")));
        assert_eq!(
            whole(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabX"),
            Err(WireError::BadChunk("chunk data not followed by CRLF"))
        );
        assert_eq!(
            whole(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n\r\n"),
            Err(WireError::BadChunk("a chunk size must start with a hex digit"))
        );
        let mut p = ResponseParser::new(Limits::DEFAULT, false);
        assert!(p.feed(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n").unwrap().is_some());
        assert_eq!(p.feed(b"x"), Err(WireError::Finished));
        assert_eq!(p.finish(), Err(WireError::Finished));
    }

    #[test]
    fn split_anywhere_gives_the_same_response() {
        let raw: &[u8] =
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nBody-Sign: v\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n10\r\n0123456789abcdef\r\n0\r\n\r\n";
        let expect = whole(raw).unwrap().unwrap();
        for i in 0..=raw.len() {
            for j in i..=raw.len() {
                let mut p = ResponseParser::new(Limits::DEFAULT, false);
                let mut got = None;
                for piece in [&raw[..i], &raw[i..j], &raw[j..]] {
                    if let Some(r) = p.feed(piece).unwrap() {
                        got = Some(r);
                        break;
                    }
                }
                assert_eq!(got.as_ref(), Some(&expect), "split at {i}, {j}");
            }
        }
    }
}
