//! `koosign marketplace`: the marketplace's two open APIs on loopback, as
//! the real gateway serves them (issue 16), verifying S6 under the
//! decisions of docs/SCHEMES.md §S6 with the core (`koosign::verify_apig`).
//!
//! * Query order — `GET /api/mkp-openapi-public/global/v1/order/query?orderId=…[&orderLineId=…]`.
//!   Fields from the access guide's query-order page
//!   (<https://support.huaweicloud.com/accessg-marketplace/zh-cn_topic_0070649350.html>,
//!   its success example and error table mirrored at
//!   <https://huaweicloud.com/guide/productsdesc-bms_0dff4d8a9ede975f6674698a8064dbbesupport0>):
//!   `resultCode`, `resultMsg`, `orderInfo { orderId, orderType (NEW, TRIAL,
//!   TRIAL_TO_FORMAL, UNSUBSCRIBE, RENEW, CHANGE), createTime (yyyyMMddHHmmss),
//!   orderLine [ { orderLineId, chargingMode (ON_DEMAND, ONE_TIME, PERIOD,
//!   ON_DEMAND_PKG), periodType, periodNumber, expireTime, … } ] }`; success is
//!   `MKT.0000` "Success", a bad parameter `MKT.0101` (HTTP 400) or `MKT.0100`
//!   (HTTP 500). The rest of an order line (`productInfo`, with the
//!   `productId` and `skuCode`) was not in the part of the page we could read:
//!   it is given here as `productInfo: [{productId, skuCode}]` and clients pass
//!   the JSON through untouched.
//! * Upload — `POST /api/mkp-openapi-public/global/v1/market-event/{event_id}/file`,
//!   multipart (<https://support.huaweicloud.com/accessg-marketplace/zh-cn_topic_0070649351.html>):
//!   a part `isvUpdateFileReq` (JSON: `type` `FILE` or `CHARACTERS`, `sha256`
//!   and `file_name` for a file, `characters` at most 1024 for a string) and,
//!   for a file, a part `file`. Answer `{error_code, error_msg}`.
//! * Gateway refusals as APIG writes them (`{error_code, error_msg,
//!   request_id}`, <https://support.huaweicloud.com/intl/en-us/devg-apisign/api-sign-errorcode.html>):
//!   `APIGW.0301` (401, "Incorrect IAM authentication information: …") for a
//!   missing, garbled, stale or wrong signature; `APIGW.0101` (404) for an
//!   unknown API; `APIGW.0201` (413 "Request entity too large", 400 "API
//!   request error.").
//!
//! The documented debugging orders (MOCKPERIODYEARNEW … MOCKMONTYCHANGE, any
//! case) are always there; with `--data DIR`, the orders `koosign simulate
//! --data DIR` sent (`DIR/orders.jsonl`) too, with the same orderId,
//! orderLineId, productId and expireTime. Uploads are recorded under
//! `DIR/uploads/`.

use crate::util::{now_ms, random_text, CliError, CliResult, Secret};
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The query-order path.
pub const ORDER_QUERY_PATH: &str = "/api/mkp-openapi-public/global/v1/order/query";
/// The upload path, before `{event_id}/file`.
pub const EVENT_PREFIX: &str = "/api/mkp-openapi-public/global/v1/market-event/";
/// Largest request body read (APIG refuses above 12 MB: "Request entity too large").
pub const MAX_BODY: usize = 12 * 1024 * 1024;
/// Longest a connection may stay open, slow clients included.
const CONNECTION_LIMIT: Duration = Duration::from_secs(30);

/// A documented debugging order: (orderId, orderType, chargingMode, periodType, periodNumber, days to expiry).
type Mock = (&'static str, &'static str, &'static str, Option<&'static str>, Option<u32>, Option<u64>);

/// The documented debugging orders.
const MOCKS: &[Mock] = &[
    ("MOCKPERIODYEARNEW", "NEW", "PERIOD", Some("year"), Some(1), Some(365)),
    ("MOCKONETIMENEW", "NEW", "ONE_TIME", None, None, None),
    ("MOCKONDEMAND", "NEW", "ON_DEMAND", None, None, None),
    ("MOCKONDEMANDPKG", "NEW", "ON_DEMAND_PKG", None, None, Some(30)),
    ("MOCKPERIODDAYTRIAL", "TRIAL", "PERIOD", Some("day"), Some(7), Some(7)),
    ("MOCKMONTYTRIALTOFORMAL", "TRIAL_TO_FORMAL", "PERIOD", Some("month"), Some(1), Some(30)),
    ("MOCKMONTYUNSUBSCRIBE", "UNSUBSCRIBE", "PERIOD", Some("month"), Some(1), Some(0)),
    ("MOCKMONTYRENEW", "RENEW", "PERIOD", Some("month"), Some(1), Some(60)),
    ("MOCKMONTYCHANGE", "CHANGE", "PERIOD", Some("month"), Some(1), Some(30)),
];

/// Options of `koosign marketplace`.
pub struct Options {
    pub ak: Secret,
    pub sk: Secret,
    pub data: Option<PathBuf>,
    pub log: bool,
}

struct App {
    ak: Secret,
    sk: Secret,
    data: Option<PathBuf>,
    log: bool,
    uploads: Mutex<u64>,
}

fn ts(unix_ms: u64) -> String {
    // yyyyMMddHHmmss: the V1 timestamp without its milliseconds.
    let t = koosign::format_v1_timestamp(unix_ms);
    t.as_str()[..14].to_string()
}

fn json_response(status: StatusCode, body: Value) -> Response {
    let mut r = (status, body.to_string()).into_response();
    r.headers_mut().insert(axum::http::header::CONTENT_TYPE, HeaderValue::from_static("application/json;charset=UTF-8"));
    r
}

/// A refusal as the gateway writes it.
fn gateway(status: StatusCode, code: &str, msg: &str) -> Response {
    let request_id = random_text(32, b"0123456789abcdef").unwrap_or_else(|_| "0".repeat(32));
    json_response(status, json!({ "error_code": code, "error_msg": msg, "request_id": request_id }))
}

fn iam(detail: &str) -> Response {
    gateway(StatusCode::UNAUTHORIZED, "APIGW.0301", &format!("Incorrect IAM authentication information: {detail}"))
}

/// The gateway's message for a core refusal (never the SK, never the expected signature).
fn refusal(e: &koosign::Error) -> Response {
    use koosign::Error as E;
    match e {
        E::MissingParameter(what) => iam(&format!("{what} not found")),
        E::StaleTimestamp => iam("X-Sdk-Date expired: more than 15 minutes from the gateway's clock"),
        E::BadTimestamp => iam("X-Sdk-Date is not yyyyMMddTHHmmssZ"),
        E::SignatureMismatch => iam("verify aksk signature fail"),
        E::Ambiguous(what) => iam(what),
        E::MalformedEncoding(what) => iam(what),
        E::InputTooLarge { .. } => gateway(StatusCode::BAD_REQUEST, "APIGW.0201", "API request error."),
        _ => gateway(StatusCode::INTERNAL_SERVER_ERROR, "APIGW.0999", "Internal error."),
    }
}

/// Verifies S6 over the request as received: host and x-sdk-date signed,
/// ±15 min, UNSIGNED-PAYLOAD only for a multipart body (docs/SCHEMES.md §S6).
fn verify(app: &App, method: &str, uri: &str, headers: &[(String, String)], body: &[u8]) -> Result<(), Box<Response>> {
    let host = headers.iter().find(|(n, _)| n.eq_ignore_ascii_case("host")).map(|(_, v)| v.as_str()).unwrap_or("");
    let url = format!("http://{}{uri}", if host.is_empty() { "localhost" } else { host });
    let mut scratch = vec![0u8; koosign::apig::url_scratch_len(url.len())];
    let split = koosign::split_received_url(&url, &mut scratch).map_err(|e| Box::new(refusal(&e)))?;
    let hs: Vec<(&str, &str)> = headers.iter().map(|(n, v)| (n.as_str(), v.as_str())).collect();
    let req = split.request(method, &hs, body);
    let fresh = koosign::Freshness::with_window(now_ms(), koosign::APIG_DEFAULT_WINDOW_MS);
    let v = koosign::verify_apig(&req, &[(app.ak.expose(), app.sk.expose())], fresh).map_err(|e| Box::new(refusal(&e)))?;
    let multipart = headers
        .iter()
        .any(|(n, v)| n.eq_ignore_ascii_case("content-type") && v.trim().to_ascii_lowercase().starts_with("multipart/form-data"));
    if v.unsigned_payload && !multipart {
        return Err(Box::new(iam("UNSIGNED-PAYLOAD is accepted only for multipart/form-data")));
    }
    Ok(())
}

async fn handle(State(app): State<Arc<App>>, req: Request) -> Response {
    let method = req.method().as_str().to_string();
    let uri = req.uri().path_and_query().map(|p| p.as_str().to_string()).unwrap_or_else(|| "/".into());
    let headers: Vec<(String, String)> = req
        .headers()
        .iter()
        .map(|(n, v)| (n.as_str().to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
        .collect();
    let body = match axum::body::to_bytes(req.into_body(), MAX_BODY).await {
        Ok(b) => b,
        Err(_) => return gateway(StatusCode::PAYLOAD_TOO_LARGE, "APIGW.0201", "Request entity too large."),
    };
    let resp = route(&app, &method, &uri, &headers, body).await;
    if app.log {
        eprintln!("koosign marketplace: {method} {} -> {}", crate::util::terminal_safe(&uri, 200), resp.status().as_u16());
    }
    resp
}

async fn route(app: &App, method: &str, uri: &str, headers: &[(String, String)], body: Bytes) -> Response {
    let path = uri.split('?').next().unwrap_or("");
    let known = path == ORDER_QUERY_PATH || event_id(path).is_some();
    if !known {
        return gateway(StatusCode::NOT_FOUND, "APIGW.0101", "The API does not exist or has not been published in the environment.");
    }
    let wanted = if path == ORDER_QUERY_PATH { "GET" } else { "POST" };
    if method != wanted {
        return gateway(StatusCode::NOT_FOUND, "APIGW.0101", "The API does not exist.");
    }
    if let Err(r) = verify(app, method, uri, headers, &body) {
        return *r;
    }
    if path == ORDER_QUERY_PATH {
        query_order(app, uri.split_once('?').map_or("", |(_, q)| q))
    } else {
        let ct = headers.iter().find(|(n, _)| n.eq_ignore_ascii_case("content-type")).map(|(_, v)| v.clone()).unwrap_or_default();
        upload(app, event_id(path).unwrap_or(""), &ct, body).await
    }
}

fn event_id(path: &str) -> Option<&str> {
    let id = path.strip_prefix(EVENT_PREFIX)?.strip_suffix("/file")?;
    (!id.is_empty() && id.len() <= 64 && !id.contains('/')).then_some(id)
}

fn mkt(status: StatusCode, code: &str, msg: &str) -> Response {
    json_response(status, json!({ "resultCode": code, "resultMsg": msg }))
}

fn query_order(app: &App, raw_query: &str) -> Response {
    let mut scratch = vec![0u8; raw_query.len()];
    let Ok(q) = koosign::parse_form(raw_query, &mut scratch) else {
        return mkt(StatusCode::BAD_REQUEST, "MKT.0101", "Invalid parameter");
    };
    let order_id = match q.get("orderId") {
        Some(o) if !o.is_empty() && o.len() <= 64 => o,
        _ => return mkt(StatusCode::BAD_REQUEST, "MKT.0101", "Invalid parameter: orderId is mandatory, at most 64 characters"),
    };
    let line = q.get("orderLineId").filter(|l| !l.is_empty());
    if line.is_some_and(|l| l.len() > 64) {
        return mkt(StatusCode::BAD_REQUEST, "MKT.0101", "Invalid parameter: orderLineId is at most 64 characters");
    }
    let Some(mut info) = find_order(app, order_id) else {
        return mkt(StatusCode::INTERNAL_SERVER_ERROR, "MKT.0100", "Failure of input parameter: order not found");
    };
    if let Some(l) = line {
        let lines = info["orderLine"].as_array().cloned().unwrap_or_default();
        let kept: Vec<Value> = lines.into_iter().filter(|x| x["orderLineId"].as_str().is_some_and(|id| id.eq_ignore_ascii_case(l))).collect();
        if kept.is_empty() {
            return mkt(StatusCode::INTERNAL_SERVER_ERROR, "MKT.0100", "Failure of input parameter: order line not found");
        }
        info["orderLine"] = Value::Array(kept);
    }
    json_response(StatusCode::OK, json!({ "resultCode": "MKT.0000", "resultMsg": "Success", "orderInfo": info }))
}

fn find_order(app: &App, order_id: &str) -> Option<Value> {
    let now = now_ms();
    if let Some((id, ty, mode, period, n, days)) = MOCKS.iter().find(|m| m.0.eq_ignore_ascii_case(order_id)) {
        let mut line = json!({
            "orderLineId": format!("{id}-000001"),
            "chargingMode": mode,
            "productInfo": [{ "productId": format!("00301-{}-0--0", &id[4..id.len().min(10)]), "skuCode": format!("sku-{}", id.to_ascii_lowercase()) }],
        });
        if let Some(p) = period {
            line["periodType"] = json!(p);
        }
        if let Some(n) = n {
            line["periodNumber"] = json!(n);
        }
        if let Some(d) = days {
            line["expireTime"] = json!(ts(now + d * 86_400_000));
        }
        return Some(json!({ "orderId": id, "orderType": ty, "createTime": ts(now - 3_600_000), "orderLine": [line] }));
    }
    // Orders `koosign simulate --data DIR` sent: the last record of that orderId wins.
    let dir = app.data.as_ref()?;
    let text = std::fs::read_to_string(dir.join(ORDERS_FILE)).ok()?;
    let rec: Value = text.lines().rev().filter_map(|l| serde_json::from_str::<Value>(l).ok()).find(|v| v["orderId"] == order_id)?;
    let s = |k: &str| rec[k].as_str().unwrap_or("").to_string();
    let mut line = json!({
        "orderLineId": s("orderLineId"),
        "chargingMode": "PERIOD",
        "productInfo": [{ "productId": s("productId"), "skuCode": s("skuCode") }],
    });
    if !s("expireTime").is_empty() {
        line["expireTime"] = json!(s("expireTime"));
    }
    Some(json!({ "orderId": s("orderId"), "orderType": if s("trialFlag") == "1" { "TRIAL" } else { "NEW" }, "createTime": s("createTime"), "orderLine": [line] }))
}

/// The file `simulate --data DIR` appends the orders it sends to.
pub const ORDERS_FILE: &str = "orders.jsonl";

/// Records an order `simulate` sent in a newInstance (for `marketplace --data`).
pub fn record_order(dir: &Path, notification: &Value) -> std::io::Result<()> {
    use std::io::Write;
    std::fs::create_dir_all(dir)?;
    let mut rec = json!({});
    for k in ["orderId", "orderLineId", "productId", "expireTime", "skuCode", "trialFlag"] {
        if let Some(v) = notification.get(k) {
            rec[k] = v.clone();
        }
    }
    rec["createTime"] = json!(ts(now_ms()));
    let mut f = std::fs::OpenOptions::new().create(true).append(true).open(dir.join(ORDERS_FILE))?;
    writeln!(f, "{rec}")
}

fn upload_err(msg: &str) -> Response {
    json_response(StatusCode::BAD_REQUEST, json!({ "error_code": "MKT.0101", "error_msg": format!("Invalid parameter: {msg}") }))
}

async fn upload(app: &App, event_id: &str, content_type: &str, body: Bytes) -> Response {
    let Ok(boundary) = multer::parse_boundary(content_type) else {
        return upload_err("the body must be multipart/form-data with a boundary");
    };
    let stream = futures_util::stream::once(async move { Ok::<Bytes, std::convert::Infallible>(body) });
    let mut mp = multer::Multipart::new(stream, boundary);
    let (mut meta, mut file, mut file_name): (Option<Value>, Option<Vec<u8>>, Option<String>) = (None, None, None);
    loop {
        let field = match mp.next_field().await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => return upload_err(&format!("malformed multipart body ({e})")),
        };
        let name = field.name().unwrap_or("").to_string();
        let fname = field.file_name().map(str::to_string);
        let data = match field.bytes().await {
            Ok(d) => d,
            Err(e) => return upload_err(&format!("malformed multipart body ({e})")),
        };
        match name.as_str() {
            "isvUpdateFileReq" if meta.is_none() => match serde_json::from_slice::<Value>(&data) {
                Ok(v) if v.is_object() => meta = Some(v),
                _ => return upload_err("isvUpdateFileReq must be a JSON object"),
            },
            "file" if file.is_none() => {
                file = Some(data.to_vec());
                file_name = fname;
            }
            "isvUpdateFileReq" | "file" => return upload_err(&format!("the part {name} is given twice")),
            _ => {}
        }
    }
    let Some(meta) = meta else { return upload_err("the part isvUpdateFileReq is missing") };
    let ty = meta["type"].as_str().unwrap_or("");
    let record = match ty {
        "CHARACTERS" => {
            let Some(c) = meta["characters"].as_str() else { return upload_err("characters is mandatory when type=CHARACTERS") };
            if c.chars().count() > 1024 {
                return upload_err("characters is at most 1024 characters");
            }
            json!({ "eventId": event_id, "type": ty, "characters": c })
        }
        "FILE" => {
            let Some(data) = file.as_ref() else { return upload_err("the part file is mandatory when type=FILE") };
            let name = meta["file_name"].as_str().map(str::to_string).or(file_name.clone()).unwrap_or_default();
            if name.is_empty() {
                return upload_err("file_name is mandatory when type=FILE");
            }
            let want = meta["sha256"].as_str().unwrap_or("");
            let got: String = Sha256::digest(data).iter().map(|b| format!("{b:02x}")).collect();
            if !want.eq_ignore_ascii_case(&got) {
                return upload_err("sha256 is not the SHA-256 of the file");
            }
            json!({ "eventId": event_id, "type": ty, "fileName": name, "sha256": got, "size": data.len() })
        }
        _ => return upload_err("type must be CHARACTERS or FILE"),
    };
    let n = {
        let mut g = app.uploads.lock().unwrap_or_else(|p| p.into_inner());
        *g += 1;
        *g
    };
    if let Some(dir) = &app.data {
        let d = dir.join("uploads");
        let ok = std::fs::create_dir_all(&d).is_ok()
            && std::fs::write(d.join(format!("{n:06}.json")), record.to_string()).is_ok()
            && file.as_ref().is_none_or(|f| std::fs::write(d.join(format!("{n:06}.bin")), f).is_ok());
        if !ok {
            return json_response(StatusCode::INTERNAL_SERVER_ERROR, json!({ "error_code": "MKT.0999", "error_msg": "System internal error." }));
        }
    }
    json_response(StatusCode::OK, json!({ "error_code": "MKT.0000", "error_msg": "Success" }))
}

/// Serves until `shutdown` completes, on `listener`.
pub async fn run(listener: std::net::TcpListener, opts: Options, shutdown: impl std::future::Future<Output = ()>) -> CliResult<()> {
    let app = Arc::new(App { ak: opts.ak, sk: opts.sk, data: opts.data, log: opts.log, uploads: Mutex::new(0) });
    listener.set_nonblocking(true).map_err(|e| CliError::fail(e.to_string()))?;
    let listener = tokio::net::TcpListener::from_std(listener).map_err(|e| CliError::fail(e.to_string()))?;
    let router = Router::new().fallback(handle).with_state(app);
    tokio::pin!(shutdown);
    loop {
        tokio::select! {
            _ = &mut shutdown => return Ok(()),
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                let svc = hyper_util::service::TowerToHyperService::new(router.clone());
                tokio::spawn(async move {
                    let conn = hyper::server::conn::http1::Builder::new()
                        .timer(hyper_util::rt::TokioTimer::new())
                        .header_read_timeout(Duration::from_secs(10))
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), svc);
                    // A client that trickles its request is cut.
                    let _ = tokio::time::timeout(CONNECTION_LIMIT, conn).await;
                });
            }
        }
    }
}

/// The `koosign marketplace` command: runs until Ctrl-C.
pub fn command(addr: &str, opts: Options) -> CliResult<i32> {
    let listener = std::net::TcpListener::bind(addr).map_err(|e| CliError::usage(format!("cannot listen on {addr}: {e}")))?;
    let local = listener.local_addr().map_err(|e| CliError::fail(e.to_string()))?;
    eprintln!("koosign marketplace: listening on http://{local} (query order {ORDER_QUERY_PATH}, upload {EVENT_PREFIX}{{event_id}}/file)");
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| CliError::fail(format!("cannot start the runtime: {e}")))?;
    rt.block_on(run(listener, opts, async {
        let _ = tokio::signal::ctrl_c().await;
    }))?;
    Ok(crate::util::EXIT_OK)
}
