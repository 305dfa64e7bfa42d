//! Runs vectors/answers.jsonl (written by vectors/gen_answers.py with
//! Python's hmac, never by koosign): each request goes through
//! `detect_protocol`, the 1 MiB body limit, the verifier of its protocol
//! (signature, window, replay store), the strict notification parser and
//! the activity table; a refusal's resultCode is `answer::result_code` at
//! the stage where it was met (docs/SCHEMES.md §Answers).

use koosign::answer::{result_code, Stage};
use koosign::Freshness;
use koosign::*;
use serde_json::Value;
use std::collections::BTreeMap;

const FILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../vectors/answers.jsonl");

/// A replay store that cannot be reached.
struct Down;
impl NonceStore for Down {
    fn check_and_insert(&mut self, _: &[u8], _: u64, _: u64) -> Result<()> {
        Err(Error::StoreUnavailable)
    }
}

enum Store {
    One(NonceCache<1>),
    Many(Box<NonceCache<64>>),
    Down(Down),
}

impl Store {
    fn of(c: &Value) -> Store {
        if c["store"]["unavailable"] == Value::Bool(true) {
            return Store::Down(Down);
        }
        match c["store"]["capacity"].as_u64() {
            Some(1) => Store::One(NonceCache::new()),
            Some(64) => Store::Many(Box::default()),
            other => panic!("store capacity {other:?} not supported by this runner"),
        }
    }
    fn get(&mut self) -> &mut dyn NonceStore {
        match self {
            Store::One(s) => s,
            Store::Many(s) => &mut **s,
            Store::Down(s) => s,
        }
    }
}

#[derive(Debug, PartialEq)]
enum Outcome {
    Verified { protocol: &'static str, activity: &'static str, fields: BTreeMap<String, String>, key_index: usize },
    Refused { error: &'static str, result_code: &'static str },
}

fn body_of(c: &Value) -> Vec<u8> {
    if let Some(b) = c.get("body").and_then(Value::as_str) {
        return b.as_bytes().to_vec();
    }
    if let Some(b) = c.get("body_b64").and_then(Value::as_str) {
        use base64ct::Encoding;
        let mut out = vec![0u8; b.len()];
        let n = base64ct::Base64::decode(b, &mut out).expect("body_b64").len();
        out.truncate(n);
        return out;
    }
    if let Some(parts) = c.get("body_gen").and_then(Value::as_array) {
        let mut out = Vec::new();
        for p in parts {
            let (t, n) = (p[0].as_str().unwrap(), p[1].as_u64().unwrap() as usize);
            out.extend(t.as_bytes().repeat(n));
        }
        return out;
    }
    Vec::new()
}

const V2_FIELDS: [&str; 15] = [
    "activity",
    "orderId",
    "orderLineId",
    "businessId",
    "testFlag",
    "instanceId",
    "scene",
    "status",
    "productId",
    "expireTime",
    "trialFlag",
    "customerId",
    "customerName",
    "chargingMode",
    "skuCode",
];

fn v2_field<'n>(n: &'n Notification<'_>, name: &str) -> &'n Option<JsonText<'n>> {
    match name {
        "activity" => &n.activity,
        "orderId" => &n.order_id,
        "orderLineId" => &n.order_line_id,
        "businessId" => &n.business_id,
        "testFlag" => &n.test_flag,
        "instanceId" => &n.instance_id,
        "scene" => &n.scene,
        "status" => &n.status,
        "productId" => &n.product_id,
        "expireTime" => &n.expire_time,
        "trialFlag" => &n.trial_flag,
        "customerId" => &n.customer_id,
        "customerName" => &n.customer_name,
        "chargingMode" => &n.charging_mode,
        "skuCode" => &n.sku_code,
        _ => unreachable!(),
    }
}

fn run(c: &Value, store: &mut Store) -> Outcome {
    let refuse =
        |e: Error, stage: Stage| Outcome::Refused { error: e.code(), result_code: result_code(&e, stage).as_str() };
    let before = |e| refuse(e, Stage::BeforeAuthentication);
    let after = |e| refuse(e, Stage::Authenticated);
    let method = c["method"].as_str().unwrap();
    let query = c["query"].as_str().unwrap();
    let headers: Vec<(String, String)> = c["headers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p[0].as_str().unwrap().to_string(), p[1].as_str().unwrap().to_string()))
        .collect();
    let hs: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    let body = body_of(c);
    let keys: Vec<&str> = c["access_keys"].as_array().unwrap().iter().map(|k| k.as_str().unwrap()).collect();
    let now = c["now_ms"].as_u64().unwrap();
    let v2_window = Freshness::with_window(now, c["policy"]["v2_window_ms"].as_u64().unwrap());
    let v1_window = Freshness::with_window(now, c["policy"]["v1_window_ms"].as_u64().unwrap());

    let protocol = match detect_protocol(method, &hs, query) {
        Ok(p) => p,
        Err(e) => return before(e),
    };
    // docs/SCHEMES.md §Answers: a larger body is refused unread, 000002.
    if body.len() > MAX_NOTIFICATION_BODY {
        return after(Error::InputTooLarge { limit: MAX_NOTIFICATION_BODY });
    }
    match protocol {
        Protocol::V2Query | Protocol::V2Headers => {
            let mut scratch = vec![0u8; query.len()];
            let (scheme, auth) = if protocol == Protocol::V2Headers {
                (V2Scheme::Headers, V2Auth::from_headers(&hs))
            } else {
                (V2Scheme::Query, V2Auth::from_query(query, &mut scratch))
            };
            let auth = match auth {
                Ok(a) => a,
                Err(e) => return before(e),
            };
            let v = match verify_v2(scheme, &auth, &body, &keys, v2_window, Replay::Store(store.get())) {
                Ok(v) => v,
                Err(e) => return before(e),
            };
            let n = match v.notification() {
                Ok(n) => n,
                Err(e) => return after(e),
            };
            let a = match validate_v2(&n) {
                Ok(a) => a,
                Err(e) => return after(e),
            };
            let fields = V2_FIELDS
                .iter()
                .filter_map(|f| v2_field(&n, f).as_ref().map(|t| (f.to_string(), t.as_str().to_string())))
                .collect();
            Outcome::Verified { protocol: protocol.as_str(), activity: a.as_str(), fields, key_index: v.key_index() }
        }
        Protocol::V1Query | Protocol::V1Json => {
            let mut scratch = vec![0u8; query.len() + body.len() + 64];
            let r = if protocol == Protocol::V1Query {
                verify_v1_query(query, &keys, v1_window, Replay::Store(store.get()), &mut scratch)
            } else {
                let token = hs.iter().find(|(n, _)| n.eq_ignore_ascii_case("authToken")).map_or("", |&(_, v)| v);
                verify_v1_json(token, &body, &keys, v1_window, Replay::Store(store.get()), &mut scratch)
            };
            let v = match r {
                Ok(v) => v,
                Err(e) => return before(e),
            };
            let a = match validate_v1(v.params()) {
                Ok(a) => a,
                Err(e) => return after(e),
            };
            let mut fields = BTreeMap::new();
            for &(n, val) in v.params() {
                if n != "authToken" && n != "timeStamp" {
                    fields.entry(n.to_string()).or_insert_with(|| val.to_string());
                }
            }
            Outcome::Verified { protocol: protocol.as_str(), activity: a.as_str(), fields, key_index: v.key_index() }
        }
    }
}

fn expected(c: &Value) -> Outcome {
    let e = &c["expect"];
    let s = |v: &Value| -> &'static str { Box::leak(v.as_str().unwrap().to_string().into_boxed_str()) };
    if let Some(code) = e.get("error") {
        return Outcome::Refused { error: s(code), result_code: s(&e["result_code"]) };
    }
    let fields =
        e["fields"].as_object().unwrap().iter().map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string())).collect();
    Outcome::Verified {
        protocol: s(&e["protocol"]),
        activity: s(&e["activity"]),
        fields,
        key_index: e["key_index"].as_u64().unwrap() as usize,
    }
}

/// Runs every case of `vectors/answers.jsonl` through `runner` (its
/// `prior` requests first, which must verify); returns the cases that
/// differ from their expectation, the number of cases and the count per
/// row of the answers table.
fn run_cases(runner: fn(&Value, &mut Store) -> Outcome) -> (Vec<String>, usize, BTreeMap<String, usize>) {
    let text = std::fs::read_to_string(FILE).expect("vectors/answers.jsonl");
    let mut rows = BTreeMap::<String, usize>::new();
    let mut failures = Vec::new();
    let mut n = 0;
    for line in text.lines() {
        let c: Value = serde_json::from_str(line).unwrap();
        let id = c["id"].as_str().unwrap().to_string();
        let mut store = Store::of(&c);
        for p in c.get("prior").and_then(Value::as_array).into_iter().flatten() {
            let mut prior = p.clone();
            for k in ["access_keys", "now_ms", "policy", "store"] {
                prior[k] = c[k].clone();
            }
            let got = runner(&prior, &mut store);
            assert!(matches!(got, Outcome::Verified { .. }), "{id}: prior request refused: {got:?}");
        }
        let (got, want) = (runner(&c, &mut store), expected(&c));
        if got != want {
            failures.push(format!("{id}:\n   got  {got:?}\n   want {want:?}"));
        }
        *rows.entry(id.split('/').next().unwrap().to_string()).or_default() += 1;
        n += 1;
    }
    (failures, n, rows)
}

#[test]
fn every_answer_case() {
    let (failures, n, rows) = run_cases(run);
    assert!(failures.is_empty(), "{} of {n} cases differ:\n{}", failures.len(), failures.join("\n"));
    // Every row of the answers table is covered.
    for row in ["verified", "before-auth", "authenticated", "merchant"] {
        assert!(rows.get(row).copied().unwrap_or(0) >= 3, "row {row}: {rows:?}");
    }
}

/// The same request through the keyed merchant context: one call,
/// `Merchant::verify`, must give the same outcome as the steps above.
fn run_context(c: &Value, store: &mut Store) -> Outcome {
    run_context_with(c, store, false)
}

/// As [`run_context`] through `Merchant::verify_into` (what the bindings
/// call): the same outcome, and a refusal leaves no value in the slot.
fn run_context_into(c: &Value, store: &mut Store) -> Outcome {
    run_context_with(c, store, true)
}

fn run_context_with(c: &Value, store: &mut Store, into: bool) -> Outcome {
    use koosign::merchant::{scratch_len, Merchant, Policy, Replay, Request, Window};
    let method = c["method"].as_str().unwrap();
    let query = c["query"].as_str().unwrap();
    let headers: Vec<(String, String)> = c["headers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p[0].as_str().unwrap().to_string(), p[1].as_str().unwrap().to_string()))
        .collect();
    let hs: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    let body = body_of(c);
    let keys: Vec<&str> = c["access_keys"].as_array().unwrap().iter().map(|k| k.as_str().unwrap()).collect();
    let policy = Policy {
        v2_window: Window::checked(c["policy"]["v2_window_ms"].as_u64().unwrap()),
        v1_window: Window::checked(c["policy"]["v1_window_ms"].as_u64().unwrap()),
        ..Policy::default()
    };
    let m = match Merchant::<4>::new(&keys, policy) {
        Ok(m) => m,
        Err(e) => return Outcome::Refused { error: e.code(), result_code: result_code(&e, Stage::BeforeAuthentication).as_str() },
    };
    let req = Request { method, query, headers: &hs, body: &body };
    let mut scratch = vec![0u8; scratch_len(&req)];
    let now_ms = c["now_ms"].as_u64().unwrap();
    // A stale value in the slot must be replaced or cleared, never kept.
    // (A genuine kit request verified first, so the slot holds a value.)
    let old_body = br#"{"activity":"queryInstance","instanceId":"ins-stale","testFlag":"1"}"#;
    let old_ts = now_ms.to_string();
    let old_sig = koosign::sign_v2(V2Scheme::Headers, old_body, keys[0], "STALE0NONCE", &old_ts).unwrap();
    let old_headers = [("x-sign", old_sig.as_str()), ("x-timestamp", old_ts.as_str()), ("x-nonce", "STALE0NONCE")];
    let mut stale = vec![0u8; 64];
    let mut slot = None;
    if into {
        let old = Request { method: "POST", query: "", headers: &old_headers, body: old_body };
        assert!(m.verify_into(&old, now_ms, Replay::Unchecked, &mut stale, &mut slot).is_ok());
        assert!(slot.is_some());
    }
    let r = if into {
        m.verify_into(&req, now_ms, Replay::Store(store.get()), &mut scratch, &mut slot).map(|v| &*v)
    } else {
        m.verify(&req, now_ms, Replay::Store(store.get()), &mut scratch).map(|v| &*slot.insert(v))
    };
    let out = match r {
        Err(r) => {
            assert!(!into || slot.is_none(), "verify_into left a value after refusing: {c}");
            Outcome::Refused { error: r.error().code(), result_code: r.result_code().as_str() }
        }
        Ok(v) => {
            let mut fields = BTreeMap::new();
            match v.v1() {
                Some(v1) => {
                    for &(n, val) in v1.params() {
                        if n != "authToken" && n != "timeStamp" {
                            fields.entry(n.to_string()).or_insert_with(|| val.to_string());
                        }
                    }
                }
                None => {
                    for f in V2_FIELDS {
                        if let Some(t) = v.get(f) {
                            fields.insert(f.to_string(), t.to_string());
                        }
                    }
                }
            }
            Outcome::Verified {
                protocol: v.protocol().as_str(),
                activity: v.activity().as_str(),
                fields,
                key_index: v.key_index(),
            }
        }
    };
    out
}

#[test]
fn every_answer_case_through_the_merchant_context() {
    let (failures, n, _) = run_cases(run_context);
    assert!(n >= 100, "{n} cases");
    assert!(failures.is_empty(), "{} of {n} cases differ through the context:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn every_answer_case_through_verify_into() {
    let (failures, n, _) = run_cases(run_context_into);
    assert!(n >= 100, "{n} cases");
    assert!(failures.is_empty(), "{} of {n} cases differ through verify_into:\n{}", failures.len(), failures.join("\n"));
}
