//! `koosign simulate`'s HTTP response parser (`koosign-wire`, issue 11
//! finding 7): arbitrary bytes, split arbitrarily between `feed` calls.
//!
//! Layout: `byte` flags (bit 0: the request was `HEAD`; bit 1: small limits,
//! to reach every limit; bit 2: the stream ends after the bytes), a
//! `list(u16, 8)` of cut offsets (each taken modulo the stream length + 1),
//! then the stream (`rest`).
//!
//! Invariants: no panic; the outcome (a response, "need more", an error) is
//! the same whether the stream is fed at once, at the cuts, or byte by byte
//! (short streams), and a response is the very same; a body never exceeds
//! `max_total`, nor the headers `max_headers`, nor the interim heads
//! `max_interim`; bytes after a complete response change nothing.

use crate::input::{byte, list, rest, u16};
use arbitrary::{Arbitrary, Unstructured};
use koosign_wire::{Limits, Response, ResponseParser, WireError};

/// One case.
#[derive(Debug)]
pub struct Case<'a> {
    pub flags: u8,
    pub cuts: Vec<u16>,
    pub stream: &'a [u8],
}

impl<'a> Arbitrary<'a> for Case<'a> {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        let flags = byte(u);
        let cuts = list(u, 8, u16);
        Ok(Case { flags, cuts, stream: rest(u) })
    }
}

/// Small limits, so that short inputs reach every limit.
pub const SMALL: Limits = Limits { max_total: 256, max_head: 128, max_headers: 4, max_line: 32, max_interim: 2 };

#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Complete(Response),
    NeedMore,
    Failed(WireError),
}

impl Outcome {
    fn class(&self) -> u8 {
        match self {
            Outcome::Complete(_) => 0,
            Outcome::NeedMore => 1,
            Outcome::Failed(_) => 2,
        }
    }
}

fn run<'p>(pieces: impl IntoIterator<Item = &'p [u8]>, eof: bool, head_only: bool, limits: Limits) -> Outcome {
    let mut p = ResponseParser::new(limits, head_only);
    for piece in pieces {
        match p.feed(piece) {
            Ok(Some(r)) => return Outcome::Complete(r),
            Ok(None) => {}
            Err(e) => return Outcome::Failed(e),
        }
    }
    if !eof {
        return Outcome::NeedMore;
    }
    match p.finish() {
        Ok(r) => Outcome::Complete(r),
        Err(e) => Outcome::Failed(e),
    }
}

fn check_response(r: &Response, limits: &Limits) {
    assert!(r.body.len() <= limits.max_total, "body of {} bytes over the limit {}", r.body.len(), limits.max_total);
    assert!(r.headers.len() <= limits.max_headers, "{} headers", r.headers.len());
    assert!(r.interim <= limits.max_interim, "{} interim heads", r.interim);
    assert!((200..=999).contains(&r.status), "status {}", r.status);
    assert!(r.version <= 1);
    for h in &r.headers {
        assert!(!h.name.is_empty() && h.name.bytes().all(|b| b.is_ascii_graphic() && b != b':'), "name {:?}", h.name);
    }
}

/// The `http_response` target. `Ok` when a response parsed.
pub fn check(case: &Case<'_>) -> Result<(), &'static str> {
    let head_only = case.flags & 1 != 0;
    let limits = if case.flags & 2 != 0 { SMALL } else { Limits::DEFAULT };
    let eof = case.flags & 4 != 0;
    let s = case.stream;

    let whole = run([s], eof, head_only, limits);
    if let Outcome::Complete(r) = &whole {
        check_response(r, &limits);
    }

    // At the cuts.
    let mut cuts: Vec<usize> = case.cuts.iter().map(|&c| usize::from(c) % (s.len() + 1)).collect();
    cuts.sort_unstable();
    let mut pieces = Vec::with_capacity(cuts.len() + 1);
    let mut at = 0;
    for c in cuts {
        pieces.push(&s[at..c]);
        at = c;
    }
    pieces.push(&s[at..]);
    let split = run(pieces, eof, head_only, limits);
    assert_eq!(whole.class(), split.class(), "fed at once: {whole:?}; at the cuts: {split:?}");
    if let Outcome::Complete(_) = &whole {
        assert_eq!(whole, split, "a different response when split");
    }

    // Byte by byte (short streams only: it is quadratic in the head).
    if s.len() <= 512 {
        let bytewise = run(s.chunks(1), eof, head_only, limits);
        assert_eq!(whole.class(), bytewise.class(), "fed at once: {whole:?}; byte by byte: {bytewise:?}");
        if let Outcome::Complete(_) = &whole {
            assert_eq!(whole, bytewise, "a different response byte by byte");
        }
    }

    match whole {
        Outcome::Complete(r) => {
            // Bytes after a response complete without EOF are ignored.
            let without_eof = run([s], false, head_only, limits);
            if let Outcome::Complete(r2) = without_eof {
                assert_eq!(r, r2);
                let mut longer = s.to_vec();
                longer.extend_from_slice(b"HTTP/1.1 500 Junk\r\nContent-Length: 99999999\r\n\r\n");
                assert_eq!(
                    run([&longer[..]], false, head_only, limits),
                    Outcome::Complete(r),
                    "bytes after the end changed it"
                );
            }
            Ok(())
        }
        Outcome::NeedMore => Err("incomplete"),
        Outcome::Failed(e) => {
            let shown = e.to_string();
            assert!(!shown.is_empty() && shown.len() < 120, "odd Display {shown:?}");
            Err("refused")
        }
    }
}
