//! A small merchant endpoint for the audit's tests, over real loopback
//! HTTP: correct by default (every rule from the core, as `koosign serve`
//! applies them, and S1b as well when asked), or with exactly one
//! [`Weakness`]. Each weak variant differs from the correct one in one
//! place only, so the audit must report exactly that weakness.
#![allow(dead_code)]

use koosign::{
    body_sign, constant_time_eq, v1_auth_token, verify_v1_query, verify_v1_json, verify_v2, EncryptType, Error, FieldCipher,
    Freshness, NonceCache, NonceStore, V2Auth, V2Scheme, V1_DEFAULT_WINDOW_MS,
};
use koosign::Replay;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The one thing a weak merchant gets wrong.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Weakness {
    /// None: the reference behaviour.
    None,
    /// No replay store: V2, kit and V1 replays are accepted.
    AcceptsReplays,
    /// No V1 window: a V1 notification of any age is accepted.
    StaleV1,
    /// Reads V1 parameters by their last occurrence in the raw query (the
    /// token is still verified by the core, which signs the first).
    LastValue,
    /// Answers an authenticated but unusable body (not UTF-8, a duplicate
    /// name, too deep, too large) with a plain, unsigned HTTP 500.
    Unsigned500,
    /// Serialises requests that overlap (counted from the accept), 300 ms each.
    SlowUnderConcurrency,
    /// Takes S1b but checks the token over the string members only, and
    /// reads the body with a last-wins JSON parser.
    LooseS1b,
    /// Not a weakness: a body announced over 1 MiB is refused (signed
    /// 000002) as soon as the head is read, and the connection closed with
    /// the body unread, as servers with a body limit do.
    EarlyRefusal,
}

pub struct Merchant {
    pub addr: SocketAddr,
}

impl Merchant {
    pub fn url(&self) -> String {
        format!("http://{}/produce", self.addr)
    }
}

const MAX_BODY: usize = 1 << 20;

struct State {
    key: &'static str,
    weakness: Weakness,
    s1b: bool,
    cipher: FieldCipher,
    nonces: Mutex<Box<NonceCache<8192>>>,
    instances: Mutex<HashMap<String, String>>,
    by_order: Mutex<HashMap<String, String>>,
    next: AtomicUsize,
    in_flight: AtomicUsize,
    serial: Mutex<()>,
}

struct Locked<'a>(&'a Mutex<Box<NonceCache<8192>>>);

impl NonceStore for Locked<'_> {
    fn check_and_insert(&mut self, nonce: &[u8], now_ms: u64, expires_at_ms: u64) -> koosign::Result<()> {
        self.0.lock().unwrap().check_and_insert(nonce, now_ms, expires_at_ms)
    }
}

/// Starts a merchant on a free loopback port (it runs until the test
/// process ends). `s1b`: also take S1b POSTs (an `authToken` header).
pub fn start(key: &'static str, weakness: Weakness, s1b: bool) -> Merchant {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let st = Arc::new(State {
        key,
        weakness,
        s1b: s1b || weakness == Weakness::LooseS1b,
        cipher: FieldCipher::new(key),
        nonces: Mutex::new(Box::new(NonceCache::new())),
        instances: Mutex::new(HashMap::new()),
        by_order: Mutex::new(HashMap::new()),
        next: AtomicUsize::new(1),
        in_flight: AtomicUsize::new(0),
        serial: Mutex::new(()),
    });
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(conn) = conn else { continue };
            let st = st.clone();
            // Counted from the accept: a burst overlaps from the start.
            st.in_flight.fetch_add(1, Ordering::SeqCst);
            std::thread::spawn(move || serve_one(&st, conn));
        }
    });
    Merchant { addr }
}

struct Req {
    method: String,
    query: String,
    headers: Vec<(String, String)>,
    /// `None`: the body was over 1 MiB (read and dropped).
    body: Option<Vec<u8>>,
}

impl Req {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

fn read_req(s: &mut TcpStream, drain: bool) -> Option<Req> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 16384];
    let head_end = loop {
        if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break p;
        }
        if buf.len() > 65536 {
            return None;
        }
        let n = s.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    let mut first = lines.next()?.split(' ');
    let method = first.next()?.to_string();
    let target = first.next()?.to_string();
    let headers: Vec<(String, String)> =
        lines.filter_map(|l| l.split_once(':').map(|(n, v)| (n.trim().to_string(), v.trim().to_string()))).collect();
    let len: usize = headers
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.parse().ok())
        .unwrap_or(0);
    // Read the whole body (dropping what is over the limit), so that the
    // answer is not lost to a reset.
    let mut body = buf[head_end + 4..].to_vec();
    let mut total = body.len();
    while total < len.min(4 << 20) && (drain || len <= MAX_BODY) {
        let n = s.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        total += n;
        if body.len() <= MAX_BODY {
            body.extend_from_slice(&chunk[..n]);
        }
    }
    let body = if len > MAX_BODY { None } else { Some(body[..len.min(body.len())].to_vec()) };
    let query = target.split_once('?').map(|(_, q)| q.to_string()).unwrap_or_default();
    Some(Req { method, query, headers, body })
}

enum Reply {
    Json(Value),
    Unsigned500,
}

fn serve_one(st: &State, mut conn: TcpStream) {
    conn.set_read_timeout(Some(Duration::from_secs(10))).ok();
    let Some(req) = read_req(&mut conn, st.weakness != Weakness::EarlyRefusal) else {
        st.in_flight.fetch_sub(1, Ordering::SeqCst);
        return;
    };
    let n = st.in_flight.load(Ordering::SeqCst);
    let reply = if st.weakness == Weakness::SlowUnderConcurrency && n > 1 {
        let _g = st.serial.lock().unwrap();
        std::thread::sleep(Duration::from_millis(300));
        handle(st, &req)
    } else {
        handle(st, &req)
    };
    st.in_flight.fetch_sub(1, Ordering::SeqCst);
    let bytes = match reply {
        Reply::Unsigned500 => {
            b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/plain\r\nContent-Length: 21\r\nConnection: close\r\n\r\nInternal Server Error".to_vec()
        }
        Reply::Json(v) => {
            let body = serde_json::to_vec(&v).unwrap();
            let sign = body_sign(&body, st.key).unwrap();
            let mut out = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: application/json;charset=UTF-8\r\nBody-Sign: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                sign.as_str(),
                body.len()
            )
            .into_bytes();
            out.extend_from_slice(&body);
            out
        }
    };
    let _ = conn.write_all(&bytes);
}

fn result(code: &str, msg: &str) -> Reply {
    Reply::Json(json!({ "resultCode": code, "resultMsg": msg }))
}

/// SCHEMES.md "Which code a refusal gets", before authentication.
fn refused(e: Error) -> Reply {
    match e {
        Error::NonceStoreFull => result("000005", "busy"),
        _ => result("000001", "authentication failed"),
    }
}

fn unusable(st: &State) -> Reply {
    if st.weakness == Weakness::Unsigned500 {
        Reply::Unsigned500
    } else {
        result("000002", "bad parameters")
    }
}

fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64
}

fn handle(st: &State, req: &Req) -> Reply {
    let replays = st.weakness != Weakness::AcceptsReplays;
    let mut locked = Locked(&st.nonces);
    match req.method.as_str() {
        "POST" => {
            let Some(body) = &req.body else { return unusable(st) };
            let kit = ["x-sign", "x-timestamp", "x-nonce"].iter().any(|h| req.header(h).is_some());
            if !kit && st.s1b {
                if let Some(token) = req.header("authToken") {
                    return s1b(st, token, body);
                }
            }
            let hs: Vec<(&str, &str)> = req.headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
            let mut scratch = vec![0u8; req.query.len()];
            let auth = if kit { V2Auth::from_headers(&hs) } else { V2Auth::from_query(&req.query, &mut scratch) };
            let auth = match auth {
                Ok(a) => a,
                Err(e) => return refused(e),
            };
            let scheme = if kit { V2Scheme::Headers } else { V2Scheme::Query };
            let store = if replays { Replay::Store(&mut locked) } else { Replay::Unchecked };
            let v = match verify_v2(scheme, &auth, body, &[st.key], Freshness::new(now_ms()), store) {
                Ok(v) => v,
                Err(e) => return refused(e),
            };
            let n = match v.notification() {
                Ok(n) => n,
                Err(_) => return unusable(st),
            };
            let t = |f: &Option<koosign::JsonText<'_>>| f.as_ref().map(|t| t.as_str().trim().to_string()).filter(|s| !s.is_empty());
            let fields: HashMap<&str, Option<String>> = [
                ("activity", t(&n.activity)),
                ("instanceId", t(&n.instance_id)),
                ("orderId", t(&n.order_id)),
                ("orderLineId", t(&n.order_line_id)),
                ("status", t(&n.status)),
            ]
            .into_iter()
            .collect();
            business(st, &|name| fields.get(name).cloned().flatten())
        }
        "GET" => {
            if req.query.is_empty() {
                return result("000001", "authentication failed");
            }
            let fresh = if st.weakness == Weakness::StaleV1 { Freshness::Unchecked } else { Freshness::with_window(now_ms(), V1_DEFAULT_WINDOW_MS) };
            let store = if replays { Replay::Store(&mut locked) } else { Replay::Unchecked };
            let mut scratch = vec![0u8; req.query.len()];
            let v = match verify_v1_query(&req.query, &[st.key], fresh, store, &mut scratch) {
                Ok(v) => v,
                Err(e) => return refused(e),
            };
            if st.weakness == Weakness::LastValue {
                let q = req.query.clone();
                business(st, &|name| last_value(&q, name))
            } else {
                business(st, &|name| v.get(name).map(str::trim).filter(|s| !s.is_empty()).map(String::from))
            }
        }
        _ => result("000002", "use POST or GET"),
    }
}

/// The last value of `name` in a raw query, form-decoded (the weakness).
fn last_value(query: &str, name: &str) -> Option<String> {
    let seg = query.split('&').rfind(|s| s.split('=').next() == Some(name))?;
    let mut scratch = vec![0u8; seg.len()];
    koosign::parse_form(seg, &mut scratch).ok().and_then(|p| p.get(name).map(String::from))
}

fn s1b(st: &State, token: &str, body: &[u8]) -> Reply {
    if st.weakness == Weakness::LooseS1b {
        // Only the string members count; the parser keeps the last duplicate.
        let Ok(Value::Object(obj)) = serde_json::from_slice::<Value>(body) else { return result("000001", "authentication failed") };
        let params: Vec<(&str, &str)> =
            obj.iter().filter_map(|(k, v)| v.as_str().filter(|s| !s.trim().is_empty()).map(|s| (k.as_str(), s))).collect();
        let ok = v1_auth_token(&params, st.key).is_ok_and(|t| constant_time_eq(t.as_str().as_bytes(), token.replace(' ', "+").as_bytes()));
        if !ok {
            return result("000001", "authentication failed");
        }
        let obj2 = obj.clone();
        return business(st, &|name| obj2.get(name).and_then(Value::as_str).map(String::from));
    }
    let mut locked = Locked(&st.nonces);
    let mut scratch = vec![0u8; body.len() + token.len() + 9];
    let fresh = Freshness::with_window(now_ms(), V1_DEFAULT_WINDOW_MS);
    let v = match verify_v1_json(token, body, &[st.key], fresh, Replay::Store(&mut locked), &mut scratch) {
        Ok(v) => v,
        Err(e) => return refused(e),
    };
    business(st, &|name| v.get(name).map(str::trim).filter(|s| !s.is_empty()).map(String::from))
}

fn app_info(st: &State, id: &str) -> Value {
    let enc = |s: &str| {
        let mut out = [0u8; 128];
        st.cipher.key(EncryptType::Aes256).encrypt(s, &mut getrandom::SysRng, &mut out).unwrap().to_string()
    };
    json!({
        "frontEndUrl": format!("https://saas.example.com/{id}"),
        "adminUrl": "https://saas.example.com/admin",
        "userName": enc(&format!("user-{id}")),
        "password": enc("s3cret-Passw0rd"),
        "memo": "",
    })
}

fn business(st: &State, get: &dyn Fn(&str) -> Option<String>) -> Reply {
    let activity = get("activity").unwrap_or_default();
    match activity.as_str() {
        "newInstance" => {
            let Some(order) = get("orderId") else { return result("000002", "missing orderId") };
            let key = format!("{order}/{}", get("orderLineId").unwrap_or_default());
            let id = st
                .by_order
                .lock()
                .unwrap()
                .entry(key)
                .or_insert_with(|| format!("ins-{}", st.next.fetch_add(1, Ordering::SeqCst)))
                .clone();
            st.instances.lock().unwrap().entry(id.clone()).or_insert_with(|| "ACTIVE".into());
            Reply::Json(json!({
                "resultCode": "000000",
                "resultMsg": "success.",
                "instanceId": id,
                "encryptType": "1",
                "appInfo": app_info(st, &id),
            }))
        }
        "queryInstance" => {
            let Some(ids) = get("instanceId") else { return result("000002", "missing instanceId") };
            let known = st.instances.lock().unwrap();
            let info: Vec<Value> = ids
                .split(',')
                .filter(|i| known.contains_key(*i))
                .map(|i| json!({ "instanceId": i, "appInfo": app_info(st, i) }))
                .collect();
            if info.is_empty() {
                return result("000003", "instance not found");
            }
            Reply::Json(json!({ "resultCode": "000000", "resultMsg": "success.", "encryptType": "1", "info": info }))
        }
        "refreshInstance" | "updateInstanceStatus" | "upgradeInstance" | "releaseInstance" | "expireInstance" | "upgrade" => {
            let Some(id) = get("instanceId") else { return result("000002", "missing instanceId") };
            let mut known = st.instances.lock().unwrap();
            match known.get_mut(&id) {
                None => result("000003", "instance not found"),
                Some(s) => {
                    if activity == "releaseInstance" {
                        *s = "RELEASED".into();
                    }
                    result("000000", "success.")
                }
            }
        }
        "" => result("000002", "missing activity"),
        _ => result("000002", "unknown activity"),
    }
}
