//! Injectivity (issue 11): the `injectivity` target. A genuine request of
//! S1, S1b, S2, S2b, S5 or S6, signed by the core, is rewritten every way
//! an attacker can without the key; a rewritten request that verifies must
//! have the original's view. The requests, rewrites and views are in
//! [`model`] (shared with `core/tests/injectivity.rs`); here the bytes
//! choose the scheme, the request and the rewrites' details. A finding
//! panics (a crash for libFuzzer) with both requests and both views.

pub mod model;

use crate::input;
use arbitrary::{Arbitrary, Unstructured};
use model::{ApigCase, S1Case, S1bCase, S5Case, V2Case};

/// Layout: `byte` scheme (`% 6`: S1, S1b, S2, S2b, S5, S6), then
/// - S1: `text` key, `list(text, text; 8)` parameters, `u64` timeStamp ms,
///   `byte` timeStamp position, `u64` seed, `text` extra;
/// - S1b: as S1, with a `byte` style before the seed (the parameters are
///   the body's string members);
/// - S2, S2b: `text` key, `text` nonce, `u64` timestamp ms (`% 10^13`),
///   `u64` seed, `bytes` other body, `rest` body;
/// - S5: `text` key, `u64` ts ms (`% 10^13`), `text` nonce, `bytes` other
///   body, `rest` body;
/// - S6: `text` method, `text` path, `list(text, text; 6)` query,
///   `list(text, text; 6)` headers, `byte` content mode, `u64` X-Sdk-Date
///   ms, `text` SK, `u64` seed, `text` extra header value, `bytes` other
///   body, `rest` body.
#[derive(Debug)]
pub struct Case(pub model::Case);

/// Years 1970–9999: every V1 `timeStamp` and `X-Sdk-Date` the core formats.
const MAX_DATE_MS: u64 = 253_402_300_800_000;
const TEN_13: u64 = 10_000_000_000_000;

fn owned_pairs(p: Vec<(&str, &str)>) -> Vec<(String, String)> {
    p.into_iter().map(|(n, v)| (n.to_string(), v.to_string())).collect()
}

impl<'a> Arbitrary<'a> for Case {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        let s = |t: &str| t.to_string();
        let scheme = input::byte(u) % 6;
        Ok(Case(match scheme {
            0 | 1 => {
                let key = s(input::text(u));
                let params = owned_pairs(input::pairs(u, 8));
                let ts_ms = input::u64(u) % MAX_DATE_MS;
                let ts_at = usize::from(input::byte(u));
                if scheme == 0 {
                    let seed = input::u64(u);
                    model::Case::S1(S1Case { key, params, ts_ms, ts_at, seed, extra: s(input::text(u)) })
                } else {
                    let style = input::byte(u);
                    let seed = input::u64(u);
                    let extra = s(input::text(u));
                    model::Case::S1b(S1bCase { key, members: params, ts_ms, ts_at, style, seed, extra })
                }
            }
            2 | 3 => {
                let key = s(input::text(u));
                let nonce = s(input::text(u));
                let ts_ms = input::u64(u) % TEN_13;
                let seed = input::u64(u);
                let extra = input::bytes(u).to_vec();
                let body = input::rest(u).to_vec();
                model::Case::V2(V2Case { kit: scheme == 3, key, nonce, ts_ms, body, seed, extra })
            }
            4 => {
                let key = s(input::text(u));
                let ts_ms = input::u64(u) % TEN_13;
                let nonce = s(input::text(u));
                let extra = input::bytes(u).to_vec();
                let body = input::rest(u).to_vec();
                model::Case::S5(S5Case { key, ts_ms, nonce, body, extra })
            }
            _ => {
                let method = s(input::text(u));
                let path = s(input::text(u));
                let query = owned_pairs(input::pairs(u, 6));
                let headers = owned_pairs(input::pairs(u, 6));
                let content = input::byte(u);
                let ms = input::u64(u) % MAX_DATE_MS;
                let sk = s(input::text(u));
                let seed = input::u64(u);
                let extra = s(input::text(u));
                let extra_body = input::bytes(u).to_vec();
                let body = input::rest(u).to_vec();
                model::Case::S6(Box::new(ApigCase {
                    method,
                    path,
                    query,
                    headers,
                    content,
                    body,
                    ms,
                    sk,
                    seed,
                    extra,
                    extra_body,
                }))
            }
        }))
    }
}

/// The `injectivity` target: panics on the first forgery. `Ok` when the
/// genuine request verified (so its rewrites were tried).
pub fn check(c: &Case) -> Result<(), &'static str> {
    let t = model::check(&c.0, &mut |f| panic!("injectivity: one signature, two meanings\n{f}"));
    if t.original_verified {
        Ok(())
    } else {
        Err("the genuine request was refused")
    }
}
