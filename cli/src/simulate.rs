//! `koosign simulate`: the marketplace, against any merchant URL.
//!
//! Runs the instance lifecycle with `testFlag=1` and negative probes, and
//! checks every answer as the marketplace does (see [`check_response`]).
//! All signing is the core's: `sign_v2` (S2/S2b), `build_v1_query` (S1),
//! `verify_body_sign` (S3), `FieldCipher` (S4).

use crate::client::{self, Exchange, Request, Target};
use crate::contract::{self, meaning, C_HTTP, LIMIT};
use crate::util::{clip, now_ms, random_text, Secret, HEX_LOWER, HEX_UPPER};
use koosign::{build_v1_query, format_unix_ms, format_v1_timestamp, sign_v2, EncryptType, Error, FieldCipher, V2Scheme};
use serde::Serialize;
use serde_json::{json, Value};

pub const C_CODE: &str = "resultCode";
pub const C_ID: &str = "instanceId";
pub const C_STABLE: &str = "instanceId stable";
pub const C_INFO: &str = "info[]";
pub const C_REACH: &str = "endpoint reachable";
pub const C_RANDOM: &str = "random source";

/// Which notification protocol.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Proto {
    V2,
    V1,
    Kit,
}

impl Proto {
    pub fn name(self) -> &'static str {
        match self {
            Proto::V2 => "v2",
            Proto::V1 => "v1",
            Proto::Kit => "kit",
        }
    }
}

/// One check of one answer.
#[derive(Clone, Debug, Serialize)]
pub struct Row {
    pub protocol: &'static str,
    pub step: String,
    pub check: &'static str,
    pub result: &'static str,
    pub latency_ms: u64,
    pub detail: String,
}

impl Row {
    pub fn passed(&self) -> bool {
        self.result == "pass"
    }
}

/// The whole run.
#[derive(Debug, Serialize)]
pub struct Report {
    pub url: String,
    pub protocols: Vec<&'static str>,
    pub passed: usize,
    pub failed: usize,
    pub checks: Vec<Row>,
}

impl Report {
    pub fn exit_code(&self) -> i32 {
        if self.failed == 0 && self.passed > 0 {
            crate::util::EXIT_OK
        } else {
            crate::util::EXIT_FAIL
        }
    }

    pub fn print_table(&self) {
        // What the endpoint answered is shown, never interpreted by the terminal.
        crate::util::print_safe(|buf| self.write_table(buf));
    }

    fn write_table(&self, out: &mut impl std::io::Write) -> std::io::Result<()> {
        let w_step = self.checks.iter().map(|r| r.step.chars().count()).max().unwrap_or(4).max(4);
        let w_check = self.checks.iter().map(|r| r.check.len()).max().unwrap_or(5).max(5);
        writeln!(out, "koosign simulate: the marketplace against {}", self.url)?;
        writeln!(out, "{:<5} {:<w_step$} {:<w_check$} {:<6} {:>6}  DETAIL", "PROTO", "STEP", "CHECK", "RESULT", "MS")?;
        for r in &self.checks {
            writeln!(out, 
                "{:<5} {:<w_step$} {:<w_check$} {:<6} {:>6}  {}",
                r.protocol,
                r.step,
                r.check,
                if r.passed() { "pass" } else { "FAIL" },
                r.latency_ms,
                r.detail
            )?;
        }
        let failures: Vec<&Row> = self.checks.iter().filter(|r| !r.passed()).collect();
        if !failures.is_empty() {
            writeln!(out)?;
            writeln!(out, "failed checks:")?;
            for r in failures {
                writeln!(out, "  {} {} / {}: {}", r.protocol, r.step, r.check, r.detail)?;
            }
        }
        writeln!(out)?;
        let per: Vec<String> = self
            .protocols
            .iter()
            .map(|p| {
                let rows = self.checks.iter().filter(|r| r.protocol == *p);
                let (n, ok) = rows.fold((0, 0), |(n, ok), r| (n + 1, ok + usize::from(r.passed())));
                format!("{p} {ok}/{n}")
            })
            .collect();
        writeln!(out, "checks passed by protocol: {}", per.join(", "))?;
        writeln!(out, "simulate: {} passed, {} failed", self.passed, self.failed)?;
        Ok(())
    }
}

/// Runs the protocols against `target`, recording each V2 order it sends (newInstance, refreshInstance)
/// in `data`/orders.jsonl for `koosign marketplace --data` (issue 16).
/// `every_activity` (`--every-activity`): V1 also sends `instanceStatus`,
/// `getLicense` and `releaseLicense` (every V1 activity of
/// `koosign::Activity`; `koosign serve` answers them all).
pub fn run_with_data(
    target: &Target,
    key: &Secret,
    protocols: &[Proto],
    data: Option<&std::path::Path>,
    every_activity: bool,
) -> Report {
    let mut sim = Sim {
        every_activity,
        data,
        target,
        key,
        cipher: FieldCipher::new(key.expose()),
        rows: Vec::new(),
        rng_failed: std::cell::Cell::new(false),
        last_v1_ms: std::cell::Cell::new(0),
    };
    if random_text(1, HEX_LOWER).is_err() {
        sim.rng_failed.set(true);
    } else {
        for &p in protocols {
            match p {
                Proto::V2 | Proto::Kit => sim.run_v2(p),
                Proto::V1 => sim.run_v1(),
            }
        }
    }
    if sim.rng_failed.get() {
        let proto = protocols.first().copied().unwrap_or(Proto::V2);
        sim.push(proto, "(setup)", C_RANDOM, false, 0, "the operating system's random source failed: nonces and ids would repeat");
    }
    let passed = sim.rows.iter().filter(|r| r.passed()).count();
    Report {
        url: target.url.clone(),
        protocols: protocols.iter().map(|p| p.name()).collect(),
        passed,
        failed: sim.rows.len() - passed,
        checks: sim.rows,
    }
}

/// What an answer must be.
struct Expect<'a> {
    code: &'static str,
    kind: Kind<'a>,
    /// The request's timestamp(s), to recognise `key + timeStamp` signatures.
    timestamp: &'a str,
    request_body: Option<&'a [u8]>,
}

enum Kind<'a> {
    Plain,
    NewInstance { first: Option<&'a str> },
    Query { instance_id: &'a str },
}

/// A request as sent, for replay.
struct Sent {
    query: Option<String>,
    headers: Vec<(String, String)>,
    body: Option<Vec<u8>>,
    timestamp: String,
}

struct Sim<'a> {
    /// `--every-activity`.
    every_activity: bool,
    /// Where the orders sent are recorded (`--data`), for `koosign marketplace`.
    data: Option<&'a std::path::Path>,
    target: &'a Target,
    key: &'a Secret,
    cipher: FieldCipher,
    rows: Vec<Row>,
    /// The OS random source failed at some point.
    rng_failed: std::cell::Cell<bool>,
    /// The last V1 timeStamp sent (Unix ms): each request gets a later one,
    /// so that two V1 requests are never byte-for-byte equal (an endpoint
    /// that records `authToken`s would rightly refuse the second).
    last_v1_ms: std::cell::Cell<u64>,
}

/// `yyyyMMddHHmmss` `days` from now (V2 expireTime).
pub(crate) fn expire_time(days: u64) -> String {
    format_v1_timestamp(now_ms() + days * 86_400_000).as_str()[..14].to_string()
}

impl Sim<'_> {
    /// Random text from the OS source. If it fails, the run goes on with
    /// zeros (nothing the simulator sends is a secret) and ends with a failed
    /// check, since repeated nonces and order ids make its results meaningless.
    fn rand(&self, n: usize, alphabet: &[u8]) -> String {
        random_text(n, alphabet).unwrap_or_else(|_| {
            self.rng_failed.set(true);
            "0".repeat(n)
        })
    }

    fn uuid(&self) -> String {
        let h = self.rand(32, HEX_LOWER);
        format!("{}-{}-{}-{}-{}", &h[0..8], &h[8..12], &h[12..16], &h[16..20], &h[20..32])
    }

    fn record_order(&mut self, notification: &Value) {
        if let Some(dir) = self.data {
            if let Err(e) = crate::marketplace::record_order(dir, notification) {
                self.push(Proto::V2, "record order (--data)", C_REACH, false, 0, format!("cannot write {}: {e}", dir.display()));
            }
        }
    }

    fn order_id(&self) -> String {
        format!("CS{}", self.rand(15, b"ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"))
    }

    fn push(&mut self, proto: Proto, step: &str, check: &'static str, ok: bool, ms: u64, detail: impl Into<String>) {
        self.rows.push(Row {
            protocol: proto.name(),
            step: step.to_string(),
            check,
            result: if ok { "pass" } else { "fail" },
            latency_ms: ms,
            detail: detail.into(),
        });
    }

    fn send(&self, sent: &Sent) -> Exchange {
        let req = Request {
            method: if sent.body.is_some() { "POST" } else { "GET" },
            query: sent.query.as_deref(),
            headers: &sent.headers,
            body: sent.body.as_deref(),
        };
        client::send(self.target, &req, LIMIT)
    }

    // ---------------------------------------------------------------- V2 / kit

    fn v2_request(&self, proto: Proto, body: &[u8], ts_ms: u64, tamper: bool) -> Sent {
        let scheme = if proto == Proto::Kit { V2Scheme::Headers } else { V2Scheme::Query };
        let ts = format_unix_ms(ts_ms).as_str().to_string();
        let nonce = if proto == Proto::Kit { self.rand(32, HEX_LOWER) } else { self.rand(64, HEX_UPPER) };
        let mut sig = match sign_v2(scheme, body, self.key.expose(), &nonce, &ts) {
            Ok(s) => s.as_str().to_string(),
            Err(_) => String::new(),
        };
        if tamper {
            let first = if sig.starts_with('A') { "B" } else { "A" };
            sig.replace_range(0..1, first);
        }
        let mut headers = vec![("Content-Type".to_string(), "application/json;charset=UTF-8".to_string())];
        let query = if proto == Proto::Kit {
            headers.push(("x-sign".into(), sig));
            headers.push(("x-timestamp".into(), ts.clone()));
            headers.push(("x-nonce".into(), nonce));
            None
        } else {
            Some(format!("signature={sig}&timestamp={ts}&nonce={nonce}"))
        };
        Sent { query, headers, body: Some(body.to_vec()), timestamp: ts }
    }

    fn v2_step(&mut self, proto: Proto, step: &str, body: &Value, expect_code: &'static str, kind: Kind<'_>) -> (Option<Value>, Sent) {
        let bytes = serde_json::to_vec(body).unwrap_or_default();
        self.v2_raw_step(proto, step, &bytes, now_ms(), false, expect_code, kind)
    }

    #[allow(clippy::too_many_arguments)]
    fn v2_raw_step(
        &mut self,
        proto: Proto,
        step: &str,
        bytes: &[u8],
        ts_ms: u64,
        tamper: bool,
        expect_code: &'static str,
        kind: Kind<'_>,
    ) -> (Option<Value>, Sent) {
        let sent = self.v2_request(proto, bytes, ts_ms, tamper);
        let ex = self.send(&sent);
        let e = Expect { code: expect_code, kind, timestamp: &sent.timestamp, request_body: sent.body.as_deref() };
        let v = self.check_response(proto, step, &ex, &e);
        (v, sent)
    }

    fn unreachable(&mut self, proto: Proto, ex_failed: bool) -> bool {
        if !ex_failed {
            return false;
        }
        let Some(last) = self.rows.iter().rev().find(|r| r.protocol == proto.name() && r.check == C_HTTP) else {
            return false;
        };
        if last.detail.starts_with("cannot connect") || last.detail.starts_with("cannot resolve") {
            let ms = last.latency_ms;
            self.push(proto, "(remaining steps)", C_REACH, false, ms, "endpoint unreachable: remaining steps not run");
            return true;
        }
        false
    }

    fn run_v2(&mut self, proto: Proto) {
        let order = self.order_id();
        let line = format!("{order}-000001");
        let business = self.uuid();
        let new_body = json!({
            "activity": "newInstance",
            "businessId": business,
            "customerId": self.rand(32, HEX_LOWER),
            "customerName": "测试用户 test+user",
            "expireTime": expire_time(30),
            "orderId": order,
            "orderLineId": line,
            "productId": "00301-666666-0--0",
            "skuCode": "sku-koosign-simulate",
            "testFlag": "1",
            "trialFlag": "1",
        });
        self.record_order(&new_body);
        let (first, _) = self.v2_step(proto, "newInstance", &new_body, "000000", Kind::NewInstance { first: None });
        if self.unreachable(proto, first.is_none()) {
            return;
        }
        let id = first
            .as_ref()
            .and_then(|v| v.get("instanceId"))
            .and_then(Value::as_str)
            .unwrap_or("koosign-no-instance-id")
            .to_string();
        self.v2_step(proto, "newInstance (repeat)", &new_body, "000000", Kind::NewInstance { first: Some(&id) });
        let query_body = json!({ "activity": "queryInstance", "instanceId": id, "testFlag": "1" });
        let (_, query_sent) = self.v2_step(proto, "queryInstance", &query_body, "000000", Kind::Query { instance_id: &id });
        for scene in ["RENEWAL", "TRIAL_TO_FORMAL"] {
            let o = self.order_id();
            let body = json!({
                "activity": "refreshInstance",
                "instanceId": id,
                "orderId": o,
                "orderLineId": format!("{o}-000001"),
                "productId": "00301-666666-0--0",
                "expireTime": expire_time(365),
                "scene": scene,
                "testFlag": "1",
            });
            self.record_order(&body);
            self.v2_step(proto, &format!("refreshInstance {scene}"), &body, "000000", Kind::Plain);
        }
        for status in ["FREEZE", "UNFREEZE"] {
            let body = json!({ "activity": "updateInstanceStatus", "instanceId": id, "status": status, "testFlag": "1" });
            self.v2_step(proto, &format!("updateInstanceStatus {status}"), &body, "000000", Kind::Plain);
        }
        let o = self.order_id();
        let body = json!({
            "activity": "upgradeInstance",
            "instanceId": id,
            "orderId": o,
            "orderLineId": format!("{o}-000001"),
            "productId": "00301-666666-0--1",
            "skuCode": "sku-koosign-simulate-pro",
            "testFlag": "1",
        });
        self.v2_step(proto, "upgradeInstance", &body, "000000", Kind::Plain);
        let release = json!({ "activity": "releaseInstance", "instanceId": id, "orderId": order, "orderLineId": line, "testFlag": "1" });
        self.v2_step(proto, "releaseInstance", &release, "000000", Kind::Plain);
        self.v2_step(proto, "releaseInstance (repeat)", &release, "000000", Kind::Plain);

        // Negative probes.
        let q = serde_json::to_vec(&query_body).unwrap_or_default();
        self.v2_raw_step(proto, "probe: wrong signature", &q, now_ms(), true, "000001", Kind::Plain);
        self.v2_raw_step(proto, "probe: stale timestamp", &q, now_ms() - 10 * 60_000, false, "000001", Kind::Plain);
        let ex = self.send(&query_sent);
        let e = Expect { code: "000001", kind: Kind::Plain, timestamp: &query_sent.timestamp, request_body: query_sent.body.as_deref() };
        self.check_response(proto, "probe: replayed nonce", &ex, &e);
        let malformed = format!(r#"{{"activity":"queryInstance","instanceId":"{id}","testFlag":"#);
        self.v2_raw_step(proto, "probe: malformed JSON", malformed.as_bytes(), now_ms(), false, "000002", Kind::Plain);
        let body = json!({ "activity": "queryInstance", "testFlag": "1" });
        self.v2_step(proto, "probe: missing instanceId", &body, "000002", Kind::Plain);
        let body = json!({ "activity": "koosignUnknownActivity", "instanceId": id, "testFlag": "1" });
        self.v2_step(proto, "probe: unknown activity", &body, "000002", Kind::Plain);
    }

    // ---------------------------------------------------------------- V1

    fn v1_request(&self, params: &[(&str, &str)], tamper: bool) -> Sent {
        let ms = now_ms().max(self.last_v1_ms.get().saturating_add(1));
        self.last_v1_ms.set(ms);
        let ts = format_v1_timestamp(ms).as_str().to_string();
        let mut all: Vec<(&str, &str)> = params.to_vec();
        all.push(("timeStamp", &ts));
        let mut out = vec![0u8; 4096];
        let query = match build_v1_query(&all, self.key.expose(), &mut out) {
            Ok(q) => q.to_string(),
            Err(Error::BufferTooSmall { needed }) => {
                let mut big = vec![0u8; needed];
                build_v1_query(&all, self.key.expose(), &mut big).map(String::from).unwrap_or_default()
            }
            Err(_) => String::new(),
        };
        let query = if tamper { tamper_token(&query) } else { query };
        Sent { query: Some(query), headers: Vec::new(), body: None, timestamp: ts }
    }

    fn v1_step(&mut self, step: &str, params: &[(&str, &str)], tamper: bool, expect_code: &'static str, kind: Kind<'_>) -> Option<Value> {
        let sent = self.v1_request(params, tamper);
        let ex = self.send(&sent);
        let e = Expect { code: expect_code, kind, timestamp: &sent.timestamp, request_body: None };
        self.check_response(Proto::V1, step, &ex, &e)
    }

    fn encrypt_inbound(&self, plaintext: &str) -> String {
        let mut out = [0u8; koosign::field::MAX_WIRE_LEN];
        // Field captures of V1 inbound fields decrypt with AES-128 (SCHEMES.md S4).
        self.cipher
            .key(EncryptType::Aes128)
            .encrypt(plaintext, &mut getrandom::SysRng, &mut out)
            .map(String::from)
            .unwrap_or_default()
    }

    fn run_v1(&mut self) {
        let order = self.order_id();
        let business = self.uuid();
        let customer = self.rand(32, HEX_LOWER);
        let email = self.encrypt_inbound("buyer+test@example.com");
        let phone = self.encrypt_inbound("13800000000");
        let expire = expire_time(30);
        let new_params: Vec<(&str, &str)> = vec![
            ("activity", "newInstance"),
            ("businessId", &business),
            ("customerId", &customer),
            ("customerName", "测试用户 test+user"),
            ("email", &email),
            ("expireTime", &expire),
            ("mobilePhone", &phone),
            ("orderId", &order),
            ("productId", "00301-666666-0--0"),
            ("testFlag", "1"),
        ];
        let first = self.v1_step("newInstance", &new_params, false, "000000", Kind::NewInstance { first: None });
        if self.unreachable(Proto::V1, first.is_none()) {
            return;
        }
        let id = first
            .as_ref()
            .and_then(|v| v.get("instanceId"))
            .and_then(Value::as_str)
            .unwrap_or("koosign-no-instance-id")
            .to_string();
        self.v1_step("newInstance (repeat)", &new_params, false, "000000", Kind::NewInstance { first: Some(&id) });
        let expire2 = expire_time(365);
        self.v1_step(
            "refreshInstance",
            &[("activity", "refreshInstance"), ("instanceId", &id), ("orderId", &self.order_id()), ("productId", "00301-666666-0--0"), ("expireTime", &expire2), ("testFlag", "1")],
            false,
            "000000",
            Kind::Plain,
        );
        self.v1_step(
            "upgrade",
            &[("activity", "upgrade"), ("instanceId", &id), ("orderId", &self.order_id()), ("productId", "00301-666666-0--1"), ("testFlag", "1")],
            false,
            "000000",
            Kind::Plain,
        );
        if self.every_activity {
            let status = [("activity", "instanceStatus"), ("instanceId", id.as_str()), ("testFlag", "1")];
            self.v1_step("instanceStatus", &status, false, "000000", Kind::Plain);
            let licence = |a| [("activity", a), ("orderId", order.as_str()), ("testFlag", "1")];
            self.v1_step("getLicense", &licence("getLicense"), false, "000000", Kind::Plain);
            self.v1_step("releaseLicense", &licence("releaseLicense"), false, "000000", Kind::Plain);
            self.v1_step("releaseLicense (repeat)", &licence("releaseLicense"), false, "000000", Kind::Plain);
            let unknown = [("activity", "instanceStatus"), ("instanceId", "koosign-unknown-instance"), ("testFlag", "1")];
            self.v1_step("probe: instanceStatus of an unknown instance", &unknown, false, "000003", Kind::Plain);
            self.v1_step("probe: getLicense without orderId", &[("activity", "getLicense"), ("testFlag", "1")], false, "000002", Kind::Plain);
        }
        self.v1_step("expireInstance", &[("activity", "expireInstance"), ("instanceId", &id), ("testFlag", "1")], false, "000000", Kind::Plain);
        let release = [("activity", "releaseInstance"), ("instanceId", id.as_str()), ("testFlag", "1")];
        self.v1_step("releaseInstance", &release, false, "000000", Kind::Plain);
        self.v1_step("releaseInstance (repeat)", &release, false, "000000", Kind::Plain);
        self.v1_step("probe: wrong signature", &[("activity", "expireInstance"), ("instanceId", &id), ("testFlag", "1")], true, "000001", Kind::Plain);
        self.v1_step("probe: missing instanceId", &[("activity", "refreshInstance"), ("testFlag", "1")], false, "000002", Kind::Plain);
        self.v1_step("probe: unknown activity", &[("activity", "koosignUnknownActivity"), ("instanceId", &id), ("testFlag", "1")], false, "000002", Kind::Plain);
    }

    // ---------------------------------------------------------------- checks

    /// Checks one answer as the marketplace does: HTTP 200 within 5 s, one
    /// header named exactly `Body-Sign` (SCHEMES.md S3), its value in the
    /// strict grammar (the core's `parse_body_sign`; a deviation is named),
    /// its signature over the exact bytes, a JSON body, the expected
    /// resultCode, and for newInstance / queryInstance the instanceId,
    /// encryptType and appInfo.
    fn check_response(&mut self, proto: Proto, step: &str, ex: &Exchange, e: &Expect<'_>) -> Option<Value> {
        let ms = ex.elapsed.as_millis() as u64;
        let ts = [e.timestamp];
        let ctx = contract::Context { timestamps: &ts, request_body: e.request_body };
        let (findings, json) = contract::answer(ex, self.key.expose(), ctx);
        for f in findings {
            self.push(proto, step, f.check, f.ok, ms, f.detail);
        }
        let json = json?;

        let code = json.get("resultCode").and_then(Value::as_str);
        let msg = json.get("resultMsg").and_then(Value::as_str).unwrap_or("");
        match code {
            Some(c) if c == e.code => self.push(proto, step, C_CODE, true, ms, format!("{c} {}", clip(msg, 50))),
            Some(c) => self.push(
                proto,
                step,
                C_CODE,
                false,
                ms,
                format!("got {c} ({}: {}), expected {} ({})", meaning(c), clip(msg, 50), e.code, meaning(e.code)),
            ),
            None => self.push(
                proto,
                step,
                C_CODE,
                false,
                ms,
                format!("no resultCode string, expected {} ({})", e.code, meaning(e.code)),
            ),
        }
        if code != Some("000000") || e.code != "000000" {
            return Some(json);
        }

        match e.kind {
            Kind::Plain => {}
            Kind::NewInstance { first } => {
                let id = json.get("instanceId").and_then(Value::as_str);
                // The rule is the core's (koosign::response::check_instance_id).
                match id.map(|i| (i, koosign::response::check_instance_id(i))) {
                    Some((i, Ok(()))) => self.push(proto, step, C_ID, true, ms, format!("{i} ({} chars)", i.chars().count())),
                    Some((_, Err(Error::MissingParameter(_)))) | None => {
                        self.push(proto, step, C_ID, false, ms, "no instanceId string in the answer")
                    }
                    Some((i, Err(_))) => self.push(
                        proto,
                        step,
                        C_ID,
                        false,
                        ms,
                        format!("{} chars: at most {}", i.chars().count(), koosign::response::MAX_INSTANCE_ID),
                    ),
                }
                if let Some(f) = first {
                    if id == Some(f) {
                        self.push(proto, step, C_STABLE, true, ms, "same instanceId for the same orderId+orderLineId");
                    } else {
                        self.push(
                            proto,
                            step,
                            C_STABLE,
                            false,
                            ms,
                            format!("first {f}, now {}: newInstance must be idempotent per orderId+orderLineId", id.unwrap_or("none")),
                        );
                    }
                }
                let et = json.get("encryptType").and_then(Value::as_str);
                self.check_app_info(proto, step, ms, et, json.get("appInfo"));
            }
            Kind::Query { instance_id } => {
                let item = json
                    .get("info")
                    .and_then(Value::as_array)
                    .and_then(|a| a.iter().find(|i| i.get("instanceId").and_then(Value::as_str) == Some(instance_id)));
                match item {
                    Some(_) => self.push(proto, step, C_INFO, true, ms, "lists the instance"),
                    None => self.push(proto, step, C_INFO, false, ms, format!("info[] has no entry with instanceId {instance_id}")),
                }
                let et = json.get("encryptType").and_then(Value::as_str);
                self.check_app_info(proto, step, ms, et, item.and_then(|i| i.get("appInfo")));
            }
        }
        Some(json)
    }

    fn check_app_info(&mut self, proto: Proto, step: &str, ms: u64, encrypt_type: Option<&str>, app_info: Option<&Value>) {
        for f in contract::app_info(&self.cipher, encrypt_type, app_info) {
            self.push(proto, step, f.check, f.ok, ms, f.detail);
        }
    }
}

/// Changes one character of the authToken in a built V1 query.
fn tamper_token(query: &str) -> String {
    let Some(pos) = query.find("authToken=") else { return query.to_string() };
    let start = pos + "authToken=".len();
    let mut b = query.as_bytes().to_vec();
    // Skip `%XY` escapes: changing one of their digits would make the query
    // malformed (000002) instead of wrongly signed.
    let mut i = start;
    while i < b.len() {
        if b[i] == b'%' {
            i += 3;
        } else if b[i].is_ascii_alphanumeric() {
            b[i] = if b[i] == b'A' { b'B' } else { b'A' };
            break;
        } else {
            i += 1;
        }
    }
    String::from_utf8(b).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::tamper_token;

    #[test]
    fn tamper_skips_escapes() {
        assert_eq!(tamper_token("a=1&authToken=%2BabC%3D"), "a=1&authToken=%2BAbC%3D");
        assert_eq!(tamper_token("authToken=Abc"), "authToken=Bbc");
        assert_eq!(tamper_token("x=1"), "x=1");
    }
}
