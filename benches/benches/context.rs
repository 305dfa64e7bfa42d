//! The keyed merchant context (`koosign::Merchant`, issue 13) against the
//! keyed floors and against the one-shot functions (issue 14): each pair
//! interleaved in half-millisecond batches in one process
//! (`koosign_benches::paired`), one `RATIO {json}` line per pair, as the
//! `ratios` bench prints them. (The context against the keyed floor, goal
//! ≤ 1.1×, is in the `ratios` bench; `--with-floor` also pairs it here
//! against this file's own keyed floor, `hmac` cloned from a keyed state,
//! as `GROUP/context_own_floor`.)
//!
//! * `GROUP/context` ÷ `GROUP/koosign`: the context against the one-shot
//!   function on the same input (the one-shot keys HMAC per call: about two
//!   SHA-256 compressions per keying; the issue expects about two fewer).
//!
//! Groups: `v2_verify` (S2, the documented newInstance body), `kit_verify`
//! (S2b, the same body signed as a kit notification), `body_sign_200B`
//! (S3), `licence_verify` (S5); `merchant_verify_v2` / `merchant_verify_kit`:
//! `Merchant::verify` of the whole request (S2 query / S2b headers, body
//! parsed) against the keyed floor plus `Notification::parse`
//! (`GROUP/context` ÷ `GROUP/floor_prekeyed_parse`). Replay check left out by name
//! (`Replay::Unchecked`), windows checked, as in the `ratios` bench.
//!
//! Before timing, every context op runs under the counting allocator:
//! `ALLOC context/GROUP n` lines; the bench fails if one allocates.
//!
//! `KOOSIGN_PAIR_SECONDS` (default 3) per pair, `--quick`: 0.1 s.

use hmac::{KeyInit, Mac};
use koosign::{
    body_sign, licence_sign, sign_v2, verify_licence, verify_v2, Freshness, Merchant, Notification, Policy, Replay, V2Auth,
    V2Scheme,
};
use koosign::merchant::{scratch_len, Request};
use koosign_benches::paired::{pair_budget, paired};
use koosign_benches::{allocations_per_call, body_of_len, v2_canonical, KEY, V2_BODY, V2_NONCE, V2_SIGNATURE, V2_TIMESTAMP};
use std::hint::black_box;

type HmacSha256 = hmac::Hmac<sha2::Sha256>;
const V2_NOW: u64 = 1_680_508_070_000;
const LICENCE_NONCE: &str = "8b4f1c2d9e7a4b6c";

fn prekeyed(keyed: &HmacSha256, msg: &[u8]) -> [u8; 32] {
    let mut m = keyed.clone();
    m.update(msg);
    m.finalize().into_bytes().into()
}

fn main() {
    let budget = pair_budget();
    let m: Merchant = Merchant::new(&[KEY], Policy::default()).expect("context");
    let keyed = HmacSha256::new_from_slice(KEY.as_bytes()).expect("key");

    // S2: the documented vector.
    let v2 = V2Auth { signature: V2_SIGNATURE, timestamp: V2_TIMESTAMP, nonce: V2_NONCE };
    let v2_canon = v2_canonical(V2_BODY);
    // S2b: the same body as a kit notification (one HMAC over key+nonce+timestamp+body).
    let kit_sig = sign_v2(V2Scheme::Headers, V2_BODY, KEY, V2_NONCE, V2_TIMESTAMP).expect("kit");
    let kit_sig: String = AsRef::<str>::as_ref(&kit_sig).to_owned();
    let kit = V2Auth { signature: &kit_sig, timestamp: V2_TIMESTAMP, nonce: V2_NONCE };
    let kit_canon: Vec<u8> = [KEY.as_bytes(), V2_NONCE.as_bytes(), V2_TIMESTAMP.as_bytes(), V2_BODY].concat();
    // S3: a 200-byte response.
    let resp = body_of_len(200);
    // S5: ts=…&nonce=…&body=…
    let lic_sig = licence_sign(V2_TIMESTAMP, LICENCE_NONCE, V2_BODY, KEY).expect("licence");
    let lic_sig: String = AsRef::<str>::as_ref(&lic_sig).to_owned();
    let lic_msg: Vec<u8> =
        [b"ts=".as_slice(), V2_TIMESTAMP.as_bytes(), b"&nonce=", LICENCE_NONCE.as_bytes(), b"&body=", V2_BODY].concat();

    // Each: (group, context, one-shot, keyed floor).
    type F<'a> = Box<dyn FnMut() + 'a>;
    let mut groups: Vec<(&str, F, F, F)> = vec![
        (
            "v2_verify",
            Box::new(|| {
                let v = m.verify_v2(V2Scheme::Query, black_box(&v2), black_box(V2_BODY), V2_NOW, Replay::Unchecked);
                black_box(v.map(|v| v.key_index()).unwrap());
            }),
            Box::new(|| {
                let v = verify_v2(V2Scheme::Query, black_box(&v2), black_box(V2_BODY), &[KEY], Freshness::new(V2_NOW), Replay::Unchecked);
                black_box(v.map(|v| v.key_index()).unwrap());
            }),
            Box::new(|| {
                black_box(prekeyed(&keyed, black_box(V2_BODY)));
                black_box(prekeyed(&keyed, black_box(&v2_canon)));
            }),
        ),
        (
            "kit_verify",
            Box::new(|| {
                let v = m.verify_v2(V2Scheme::Headers, black_box(&kit), black_box(V2_BODY), V2_NOW, Replay::Unchecked);
                black_box(v.map(|v| v.key_index()).unwrap());
            }),
            Box::new(|| {
                let v = verify_v2(V2Scheme::Headers, black_box(&kit), black_box(V2_BODY), &[KEY], Freshness::new(V2_NOW), Replay::Unchecked);
                black_box(v.map(|v| v.key_index()).unwrap());
            }),
            Box::new(|| {
                black_box(prekeyed(&keyed, black_box(&kit_canon)));
            }),
        ),
        (
            "body_sign_200B",
            Box::new(|| {
                black_box(m.body_sign(black_box(&resp)));
            }),
            Box::new(|| {
                black_box(body_sign(black_box(&resp), KEY).unwrap());
            }),
            Box::new(|| {
                black_box(prekeyed(&keyed, black_box(&resp)));
            }),
        ),
        (
            "licence_verify",
            Box::new(|| {
                let v = m.verify_licence(V2_TIMESTAMP, LICENCE_NONCE, black_box(V2_BODY), black_box(&lic_sig), V2_NOW);
                black_box(v.unwrap());
            }),
            Box::new(|| {
                let v = verify_licence(V2_TIMESTAMP, LICENCE_NONCE, black_box(V2_BODY), black_box(&lic_sig), &[KEY], Freshness::new(V2_NOW));
                black_box(v.unwrap());
            }),
            Box::new(|| {
                black_box(prekeyed(&keyed, black_box(&lic_msg)));
            }),
        ),
    ];

    // `Merchant::verify` end to end (detection, the keyed MAC, the strict
    // body parse, the activity check) against the keyed floor plus
    // `Notification::parse` (one strict walk of the body filling the
    // fields): what is left is the context's own plumbing.
    let mv_query = format!("signature={V2_SIGNATURE}&timestamp={V2_TIMESTAMP}&nonce={V2_NONCE}");
    let mv_v2 = Request { method: "POST", query: &mv_query, headers: &[], body: V2_BODY };
    let kit_headers = [("x-sign", kit_sig.as_str()), ("x-timestamp", V2_TIMESTAMP), ("x-nonce", V2_NONCE)];
    let mv_kit = Request { method: "POST", query: "", headers: &kit_headers, body: V2_BODY };
    let mut mv_scratch = vec![0u8; scratch_len(&mv_v2).max(scratch_len(&mv_kit))];
    let mv_scratch = std::cell::RefCell::new(&mut mv_scratch[..]);
    let mut merchant: Vec<(&str, F, F)> = vec![
        (
            "merchant_verify_v2",
            Box::new(|| {
                let mut s = mv_scratch.borrow_mut();
                let v = m.verify(black_box(&mv_v2), V2_NOW, Replay::Unchecked, &mut s);
                black_box(v.map(|v| v.key_index()).unwrap());
            }),
            Box::new(|| {
                black_box(prekeyed(&keyed, black_box(V2_BODY)));
                black_box(prekeyed(&keyed, black_box(&v2_canon)));
                black_box(Notification::parse(black_box(V2_BODY)).map(|n| n.activity.is_some()).unwrap());
            }),
        ),
        (
            "merchant_verify_kit",
            Box::new(|| {
                let mut s = mv_scratch.borrow_mut();
                let v = m.verify(black_box(&mv_kit), V2_NOW, Replay::Unchecked, &mut s);
                black_box(v.map(|v| v.key_index()).unwrap());
            }),
            Box::new(|| {
                black_box(prekeyed(&keyed, black_box(&kit_canon)));
                black_box(Notification::parse(black_box(V2_BODY)).map(|n| n.activity.is_some()).unwrap());
            }),
        ),
    ];

    let mut bad = Vec::new();
    for (g, ctx, _) in merchant.iter_mut() {
        let n = allocations_per_call(100, &mut **ctx);
        println!("ALLOC {g}/context {n}");
        if n != 0.0 {
            bad.push(format!("{g}/context"));
        }
    }
    for (g, ctx, one, _) in groups.iter_mut() {
        for (side, f) in [("context", ctx), ("koosign", one)] {
            let n = allocations_per_call(100, &mut **f);
            println!("ALLOC {g}/{side} {n}");
            if n != 0.0 {
                bad.push(format!("{g}/{side}"));
            }
        }
    }
    assert!(bad.is_empty(), "heap allocations in {bad:?}");
    println!("alloc-check: every context operation ran with 0 heap allocations per call");

    // The context against the keyed floor is the `ratios` bench's
    // (`GROUP/context` ÷ `GROUP/floor_prekeyed`); with `--with-floor` it is
    // also paired here, against this file's own keyed floor.
    let with_floor = std::env::args().any(|a| a == "--with-floor");
    for (g, ctx, one, floor) in groups.iter_mut() {
        if with_floor {
            let p = paired(&mut **ctx, &mut **floor, budget);
            println!("RATIO {}", p.json(g, "context_own_floor", "floor_prekeyed"));
        }
        let p = paired(&mut **ctx, &mut **one, budget);
        println!("RATIO {}", p.json(g, "context", "koosign"));
    }
    for (g, ctx, floor) in merchant.iter_mut() {
        let p = paired(&mut **ctx, &mut **floor, budget);
        println!("RATIO {}", p.json(g, "context", "floor_prekeyed_parse"));
    }
}
