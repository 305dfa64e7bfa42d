//! Every measured operation, named `group/name`, as boxed closures: the
//! criterion suites, the paired-ratio harness and the allocation check all
//! run exactly these. Inputs go through `black_box`; so do the results.

use crate::*;
use koosign::merchant::{Merchant, Policy, Replay};
use koosign::{
    body_sign, decrypt_field, derive_key, encrypt_field, licence_sign, sign_apig, sign_v2, verify_licence, verify_v1_query,
    verify_v2, DecryptMode, EncryptType, FieldCipher, Freshness, V2Auth, V2Scheme,
};
use std::hint::black_box;

/// One operation.
pub struct Op {
    /// Criterion group, e.g. `v1_verify`.
    pub group: String,
    /// Name within the group: `koosign`, `floor`, `cached`, …
    pub name: String,
    /// Criterion throughput (bytes), for the scale groups.
    pub bytes: Option<u64>,
    /// True for koosign's own calls (checked for allocations).
    pub koosign: bool,
    /// One call.
    pub run: Box<dyn FnMut()>,
}

impl Op {
    pub fn id(&self) -> String {
        format!("{}/{}", self.group, self.name)
    }
}

fn op(group: &str, name: &str, koosign: bool, run: impl FnMut() + 'static) -> Op {
    Op { group: group.to_owned(), name: name.to_owned(), bytes: None, koosign, run: Box::new(run) }
}

fn leak<T>(v: T) -> &'static T {
    Box::leak(Box::new(v))
}

const V2_NOW: u64 = 1_680_508_070_000;

/// The ratio pairs judged in BENCHMARKS.md: (group, koosign op, floor op, goal).
/// `floor_prekeyed` is the keyed floor (the HMAC key's inner and outer
/// states precomputed, as a keyed merchant context holds them; issue 14's
/// goal for the context is ≤ 1.1× of it). V1 has none: its HMAC key is
/// `access key + timeStamp`, new with every request.
///
/// `context` is the keyed merchant context ([`Merchant`], keys precomputed,
/// its default windows checked, no replay store), judged against the keyed
/// floor (goal ≤ 1.1×).
///
/// `floor_checked` / `floor_prekeyed_checked` add to the floors the work a
/// verifier or signer must do beyond hashing (S2's inner hex; decoding the
/// received signature and the constant-time comparison; S3's Base64), with
/// the libraries (see `koosign_benches::v2_floor_checked`): reported beside
/// the plain floors, goal None. None of these pairs parses the body: the
/// one-shot verifiers and the context's `verify_v2` / `verify_licence`
/// never do (`Merchant::verify`, which also parses and validates the
/// notification, is not a goal pair).
pub const GOALS: [(&str, &str, &str, Option<f64>); 32] = [
    ("v1_verify", "koosign", "floor", Some(1.2)),
    ("v2_verify", "koosign", "floor", Some(1.1)),
    ("body_sign_200B", "koosign", "floor", None),
    ("apig_sign_query_order", "koosign", "floor", None),
    ("field_encrypt_aes128", "cached", "floor", Some(1.5)),
    ("field_encrypt_aes256", "cached", "floor", Some(1.5)),
    ("field_decrypt_aes128", "cached", "floor", None),
    ("field_decrypt_aes256", "cached", "floor", None),
    ("field_encrypt_aes128", "floor_keyed", "floor", None),
    ("field_encrypt_aes256", "floor_keyed", "floor", None),
    ("v2_verify", "koosign", "floor_prekeyed", None),
    ("body_sign_200B", "koosign", "floor_prekeyed", None),
    ("apig_sign_query_order", "koosign", "floor_prekeyed", None),
    ("v2_verify", "floor_prekeyed", "floor", None),
    ("body_sign_200B", "floor_prekeyed", "floor", None),
    ("apig_sign_query_order", "floor_prekeyed", "floor", None),
    ("v2_verify", "context", "floor_prekeyed", Some(1.1)),
    ("body_sign_200B", "context", "floor_prekeyed", Some(1.1)),
    ("kit_verify", "context", "floor_prekeyed", Some(1.1)),
    ("licence_verify", "context", "floor_prekeyed", Some(1.1)),
    ("kit_verify", "koosign", "floor", Some(1.1)),
    ("licence_verify", "koosign", "floor", Some(1.1)),
    ("kit_verify", "floor_prekeyed", "floor", None),
    ("licence_verify", "floor_prekeyed", "floor", None),
    ("v2_verify", "koosign", "floor_checked", None),
    ("v2_verify", "context", "floor_prekeyed_checked", None),
    ("kit_verify", "koosign", "floor_checked", None),
    ("kit_verify", "context", "floor_prekeyed_checked", None),
    ("licence_verify", "koosign", "floor_checked", None),
    ("licence_verify", "context", "floor_prekeyed_checked", None),
    ("body_sign_200B", "koosign", "floor_checked", None),
    ("body_sign_200B", "context", "floor_prekeyed_checked", None),
];

/// The core suite: koosign's operations and their floors.
pub fn core_ops() -> Vec<Op> {
    let mut ops = Vec::new();

    // S1 — the documented notification (8 signed parameters + authToken).
    let q: &'static str = leak(v1_query()).as_str();
    let now = koosign::parse_v1_timestamp(V1_PARAMS[7].1).unwrap() + 1_000;
    let mut scratch = vec![0u8; 1024];
    ops.push(op("v1_verify", "koosign", true, move || {
        let v = verify_v1_query(black_box(q), black_box(&[KEY]), Freshness::new(now), Replay::Unchecked, &mut scratch);
        black_box(v.map(|v| v.key_index()).unwrap());
    }));
    ops.push(op("v1_verify", "floor", false, || {
        black_box(hmac_sha256(black_box(V1_HMAC_KEY.as_bytes()), black_box(V1_CANONICAL.as_bytes())));
    }));

    // S2 — the documented newInstance body; the framework hands over the
    // three query parameters (V2Auth), the freshness window is checked.
    let canonical: &'static [u8] = leak(v2_canonical(V2_BODY)).as_slice();
    ops.push(op("v2_verify", "koosign", true, || {
        let auth = V2Auth { signature: V2_SIGNATURE, timestamp: V2_TIMESTAMP, nonce: V2_NONCE };
        let v = verify_v2(V2Scheme::Query, black_box(&auth), black_box(V2_BODY), &[KEY], Freshness::new(V2_NOW), Replay::Unchecked);
        black_box(v.map(|v| v.key_index()).unwrap());
    }));
    ops.push(op("v2_verify", "floor", false, move || {
        black_box(v2_floor(black_box(KEY.as_bytes()), black_box(V2_BODY), black_box(canonical)));
    }));
    let keyed: &'static HmacSha256 = leak(keyed_hmac(KEY.as_bytes()));
    ops.push(op("v2_verify", "floor_prekeyed", false, move || {
        black_box(v2_floor_prekeyed(black_box(keyed), black_box(V2_BODY), black_box(canonical)));
    }));
    let v2_prefix: &'static [u8] = leak([KEY.as_bytes(), V2_NONCE.as_bytes(), V2_TIMESTAMP.as_bytes()].concat()).as_slice();
    ops.push(op("v2_verify", "floor_checked", false, move || {
        let ok = v2_floor_checked(None, black_box(KEY.as_bytes()), black_box(V2_BODY), black_box(v2_prefix), black_box(V2_SIGNATURE.as_bytes()));
        assert!(black_box(ok));
    }));
    ops.push(op("v2_verify", "floor_prekeyed_checked", false, move || {
        let ok = v2_floor_checked(Some(black_box(keyed)), KEY.as_bytes(), black_box(V2_BODY), black_box(v2_prefix), black_box(V2_SIGNATURE.as_bytes()));
        assert!(black_box(ok));
    }));

    // S3 — a 200-byte response.
    let resp: &'static [u8] = leak(body_of_len(200)).as_slice();
    ops.push(op("body_sign_200B", "koosign", true, move || {
        black_box(body_sign(black_box(resp), black_box(KEY)).unwrap());
    }));
    ops.push(op("body_sign_200B", "floor", false, move || {
        black_box(hmac_sha256(black_box(KEY.as_bytes()), black_box(resp)));
    }));
    ops.push(op("body_sign_200B", "floor_prekeyed", false, move || {
        black_box(hmac_sha256_prekeyed(black_box(keyed), black_box(resp)));
    }));
    ops.push(op("body_sign_200B", "floor_checked", false, move || {
        black_box(body_sign_floor_checked(None, black_box(KEY.as_bytes()), black_box(resp)));
    }));
    ops.push(op("body_sign_200B", "floor_prekeyed_checked", false, move || {
        black_box(body_sign_floor_checked(Some(black_box(keyed)), KEY.as_bytes(), black_box(resp)));
    }));

    // S6 — the query-order call.
    let (cr, sts) = apig_texts();
    let (cr, sts): (&'static str, &'static str) = (leak(cr), leak(sts));
    let mut out = vec![0u8; 2048];
    ops.push(op("apig_sign_query_order", "koosign", true, move || {
        let s = sign_apig(black_box(&apig_request()), APIG_AK, APIG_SK, None, &mut out).unwrap();
        black_box(s.signature);
    }));
    ops.push(op("apig_sign_query_order", "floor", false, move || {
        black_box(apig_floor(black_box(APIG_SK.as_bytes()), black_box(cr.as_bytes()), black_box(sts.as_bytes())));
    }));
    let sk: &'static HmacSha256 = leak(keyed_hmac(APIG_SK.as_bytes()));
    ops.push(op("apig_sign_query_order", "floor_prekeyed", false, move || {
        black_box(apig_floor_prekeyed(black_box(sk), black_box(cr.as_bytes()), black_box(sts.as_bytes())));
    }));

    // The keyed merchant context: the same requests, keys precomputed.
    let ctx: &'static Merchant = leak(Merchant::new(&[KEY], Policy::default()).unwrap());
    ops.push(op("v2_verify", "context", true, move || {
        let auth = V2Auth { signature: V2_SIGNATURE, timestamp: V2_TIMESTAMP, nonce: V2_NONCE };
        let v = ctx.verify_v2(V2Scheme::Query, black_box(&auth), black_box(V2_BODY), V2_NOW, Replay::Unchecked);
        black_box(v.map(|v| v.key_index()).unwrap());
    }));
    ops.push(op("body_sign_200B", "context", true, move || {
        black_box(ctx.body_sign(black_box(resp)));
    }));

    // S2b — the kit headers over the documented body.
    let kit_sig: &'static str =
        leak(sign_v2(V2Scheme::Headers, V2_BODY, KEY, V2_NONCE, V2_TIMESTAMP).unwrap().as_str().to_owned()).as_str();
    let kit_canonical: &'static [u8] =
        leak([KEY.as_bytes(), V2_NONCE.as_bytes(), V2_TIMESTAMP.as_bytes(), V2_BODY].concat()).as_slice();
    ops.push(op("kit_verify", "koosign", true, move || {
        let auth = V2Auth { signature: kit_sig, timestamp: V2_TIMESTAMP, nonce: V2_NONCE };
        let v = verify_v2(V2Scheme::Headers, black_box(&auth), black_box(V2_BODY), &[KEY], Freshness::new(V2_NOW), Replay::Unchecked);
        black_box(v.map(|v| v.key_index()).unwrap());
    }));
    ops.push(op("kit_verify", "context", true, move || {
        let auth = V2Auth { signature: kit_sig, timestamp: V2_TIMESTAMP, nonce: V2_NONCE };
        let v = ctx.verify_v2(V2Scheme::Headers, black_box(&auth), black_box(V2_BODY), V2_NOW, Replay::Unchecked);
        black_box(v.map(|v| v.key_index()).unwrap());
    }));
    ops.push(op("kit_verify", "floor", false, move || {
        black_box(hmac_sha256(black_box(KEY.as_bytes()), black_box(kit_canonical)));
    }));
    ops.push(op("kit_verify", "floor_prekeyed", false, move || {
        black_box(hmac_sha256_prekeyed(black_box(keyed), black_box(kit_canonical)));
    }));
    for (name, pre) in [("floor_checked", None), ("floor_prekeyed_checked", Some(keyed))] {
        ops.push(op("kit_verify", name, false, move || {
            let ok = hmac_floor_checked(pre.map(black_box), black_box(KEY.as_bytes()), black_box(kit_canonical), black_box(kit_sig.as_bytes()), true);
            assert!(black_box(ok));
        }));
    }

    // S5 — a licence request over the documented body.
    let lic_sig: &'static str =
        leak(licence_sign(V2_TIMESTAMP, V2_NONCE, V2_BODY, KEY).unwrap().as_str().to_owned()).as_str();
    let lic_canonical: &'static [u8] =
        leak([b"ts=", V2_TIMESTAMP.as_bytes(), b"&nonce=", V2_NONCE.as_bytes(), b"&body=", V2_BODY].concat()).as_slice();
    ops.push(op("licence_verify", "koosign", true, move || {
        let v = verify_licence(V2_TIMESTAMP, V2_NONCE, black_box(V2_BODY), black_box(lic_sig), &[KEY], Freshness::new(V2_NOW));
        black_box(v.map(|v| v.key_index()).unwrap());
    }));
    ops.push(op("licence_verify", "context", true, move || {
        let v = ctx.verify_licence(V2_TIMESTAMP, V2_NONCE, black_box(V2_BODY), black_box(lic_sig), V2_NOW);
        black_box(v.map(|v| v.key_index()).unwrap());
    }));
    ops.push(op("licence_verify", "floor", false, move || {
        black_box(hmac_sha256(black_box(KEY.as_bytes()), black_box(lic_canonical)));
    }));
    ops.push(op("licence_verify", "floor_prekeyed", false, move || {
        black_box(hmac_sha256_prekeyed(black_box(keyed), black_box(lic_canonical)));
    }));
    for (name, pre) in [("floor_checked", None), ("floor_prekeyed_checked", Some(keyed))] {
        ops.push(op("licence_verify", name, false, move || {
            let ok = hmac_floor_checked(pre.map(black_box), black_box(KEY.as_bytes()), black_box(lic_canonical), black_box(lic_sig.as_bytes()), false);
            assert!(black_box(ok));
        }));
    }

    // S4 — an 11-digit phone number, AES-128 and AES-256.
    let cipher: &'static FieldCipher = leak(FieldCipher::new(KEY));
    for (ty, bits) in [(EncryptType::Aes128, "aes128"), (EncryptType::Aes256, "aes256")] {
        let key = cipher.key(ty);
        let aes: &'static Aes = leak(Aes::new(key.as_bytes()));
        let raw: &'static [u8] = leak(key.as_bytes().to_vec()).as_slice();
        let mut o = [0u8; 128];
        let wire: &'static str = leak(key.encrypt_with_iv(PHONE, IV, &mut o).unwrap().to_owned()).as_str();
        let g = format!("field_encrypt_{bits}");
        ops.push(op(&g, "cached", true, move || {
            let mut out = [0u8; 64];
            black_box(key.encrypt_with_iv(black_box(PHONE), black_box(IV), &mut out).map(str::len).unwrap());
        }));
        let mut rng = BenchRng(7);
        ops.push(op(&g, "cached_rng_iv", true, move || {
            let mut out = [0u8; 64];
            black_box(key.encrypt(black_box(PHONE), &mut rng, &mut out).map(str::len).unwrap());
        }));
        let mut rng = BenchRng(7);
        ops.push(op(&g, "uncached", true, move || {
            let mut out = [0u8; 64];
            black_box(encrypt_field(black_box(PHONE), black_box(KEY), ty, &mut rng, &mut out).map(str::len).unwrap());
        }));
        ops.push(op(&g, "floor", false, move || {
            let mut out = [0u8; 40];
            field_encrypt_floor(black_box(aes), black_box(IV), black_box(PHONE.as_bytes()), &mut out);
            black_box(out);
        }));
        ops.push(op(&g, "floor_keyed", false, move || {
            let mut out = [0u8; 40];
            field_encrypt_floor_keyed(black_box(raw), black_box(IV), black_box(PHONE.as_bytes()), &mut out);
            black_box(out);
        }));
        ops.push(op(&g, "aes_cbc_block", false, move || {
            black_box(aes_cbc_block(black_box(aes), black_box(IV), black_box(PHONE.as_bytes())));
        }));

        let g = format!("field_decrypt_{bits}");
        ops.push(op(&g, "cached", true, move || {
            let mut out = [0u8; 64];
            black_box(cipher.decrypt(black_box(wire), DecryptMode::Only(ty), &mut out).map(str::len).unwrap());
        }));
        ops.push(op(&g, "uncached", true, move || {
            let mut out = [0u8; 64];
            black_box(decrypt_field(black_box(wire), black_box(KEY), DecryptMode::Only(ty), &mut out).map(str::len).unwrap());
        }));
        ops.push(op(&g, "auto_uncached", true, move || {
            let mut out = [0u8; 64];
            black_box(decrypt_field(black_box(wire), black_box(KEY), DecryptMode::Auto, &mut out).map(str::len).unwrap());
        }));
        ops.push(op(&g, "floor", false, move || {
            let mut out = [0u8; 16];
            black_box(field_decrypt_floor(black_box(aes), black_box(wire.as_bytes()), &mut out));
        }));
    }
    for (ty, bits) in [(EncryptType::Aes128, "aes128"), (EncryptType::Aes256, "aes256")] {
        ops.push(op("derive_key", bits, true, move || {
            black_box(derive_key(black_box(KEY), ty));
        }));
    }

    // SHA-256 throughput (64 KiB).
    let big: &'static [u8] = leak(body_of_len(65536)).as_slice();
    let mut o = op("sha256", "sha256_64KiB", false, move || {
        black_box(sha256(black_box(big)));
    });
    o.bytes = Some(65536);
    ops.push(o);
    let mut o = op("sha256", "hmac_sha256_64KiB", false, move || {
        black_box(hmac_sha256(black_box(KEY.as_bytes()), black_box(big)));
    });
    o.bytes = Some(65536);
    ops.push(o);
    let mut o = op("sha256", "body_sign_64KiB", true, move || {
        black_box(body_sign(black_box(big), black_box(KEY)).unwrap());
    });
    o.bytes = Some(65536);
    ops.push(o);
    ops
}

/// The scale suite: (group, x) points, each with `koosign` and `floor`.
/// Names are `koosign/<x>` and `floor/<x>`.
pub fn scale_ops() -> Vec<Op> {
    let mut ops = Vec::new();
    for n in SCALE_SIZES {
        let body: &'static [u8] = leak(body_of_len(n)).as_slice();
        let sig: &'static str = leak(v2_signature(body)).as_str();
        let canonical: &'static [u8] = leak(v2_canonical(body)).as_slice();
        let mut a = op("scale_v2_verify", &format!("koosign/{n}"), true, move || {
            let auth = V2Auth { signature: sig, timestamp: V2_TIMESTAMP, nonce: V2_NONCE };
            black_box(verify_v2(V2Scheme::Query, black_box(&auth), black_box(body), &[KEY], Freshness::Unchecked, Replay::Unchecked).unwrap().key_index());
        });
        a.bytes = Some(n as u64);
        let mut b = op("scale_v2_verify", &format!("floor/{n}"), false, move || {
            black_box(v2_floor(black_box(KEY.as_bytes()), black_box(body), black_box(canonical)));
        });
        b.bytes = Some(n as u64);
        ops.push(a);
        ops.push(b);
    }
    for n in SCALE_SIZES {
        let body: &'static [u8] = leak(body_of_len(n)).as_slice();
        let mut a = op("scale_body_sign", &format!("koosign/{n}"), true, move || {
            black_box(body_sign(black_box(body), black_box(KEY)).unwrap());
        });
        a.bytes = Some(n as u64);
        let mut b = op("scale_body_sign", &format!("floor/{n}"), false, move || {
            black_box(hmac_sha256(black_box(KEY.as_bytes()), black_box(body)));
        });
        b.bytes = Some(n as u64);
        ops.push(a);
        ops.push(b);
    }
    for n in SCALE_PARAMS {
        let (q, canonical, hkey) = v1_query_n(n);
        let (q, canonical, hkey): (&'static str, &'static str, &'static str) = (leak(q), leak(canonical), leak(hkey));
        let mut scratch = vec![0u8; q.len()];
        ops.push(op("scale_v1_verify", &format!("koosign/{n}"), true, move || {
            black_box(verify_v1_query(black_box(q), &[KEY], Freshness::Unchecked, Replay::Unchecked, &mut scratch).map(|v| v.key_index()).unwrap());
        }));
        ops.push(op("scale_v1_verify", &format!("floor/{n}"), false, move || {
            black_box(hmac_sha256(black_box(hkey.as_bytes()), black_box(canonical.as_bytes())));
        }));
    }
    ops
}

/// The V1 growth table: `v1_growth/koosign/<n>` and `v1_growth/floor/<n>`
/// for n in [`GROWTH_PARAMS`] signed parameters (the scale bench's query
/// shape: names in reverse order, so koosign sorts them).
pub fn growth_ops() -> Vec<Op> {
    let mut ops = Vec::new();
    for n in GROWTH_PARAMS {
        let (q, canonical, hkey) = v1_query_n(n);
        let (q, canonical, hkey): (&'static str, &'static str, &'static str) = (leak(q), leak(canonical), leak(hkey));
        let mut scratch = vec![0u8; q.len()];
        ops.push(op("v1_growth", &format!("koosign/{n}"), true, move || {
            black_box(verify_v1_query(black_box(q), &[KEY], Freshness::Unchecked, Replay::Unchecked, &mut scratch).map(|v| v.key_index()).unwrap());
        }));
        ops.push(op("v1_growth", &format!("floor/{n}"), false, move || {
            black_box(hmac_sha256(black_box(hkey.as_bytes()), black_box(canonical.as_bytes())));
        }));
    }
    ops
}

/// Fails (panics) if any koosign operation allocates; prints one line per
/// operation: `ALLOC <group/name> <allocations per call>`.
pub fn alloc_check(ops: &mut [Op]) {
    let mut bad = Vec::new();
    for o in ops.iter_mut().filter(|o| o.koosign) {
        let per_call = allocations_per_call(100, &mut *o.run);
        println!("ALLOC {} {}", o.id(), per_call);
        if per_call != 0.0 {
            bad.push(o.id());
        }
    }
    assert!(bad.is_empty(), "heap allocations in {bad:?}");
    println!("alloc-check: every koosign operation ran with 0 heap allocations per call");
}

/// Registers `ops` with criterion, one group per consecutive run of the
/// same group name; `name` `a/b` becomes `BenchmarkId::new(a, b)`.
pub fn run_criterion(c: &mut criterion::Criterion, ops: &mut [Op]) {
    let mut i = 0;
    while i < ops.len() {
        let group = ops[i].group.clone();
        let mut g = c.benchmark_group(&group);
        while i < ops.len() && ops[i].group == group {
            let o = &mut ops[i];
            if let Some(b) = o.bytes {
                g.throughput(criterion::Throughput::Bytes(b));
            }
            let id = match o.name.split_once('/') {
                Some((f, p)) => criterion::BenchmarkId::new(f, p),
                None => criterion::BenchmarkId::from_parameter(&o.name),
            };
            let run = &mut o.run;
            g.bench_function(id, |b| b.iter(&mut *run));
            i += 1;
        }
        g.finish();
    }
}
