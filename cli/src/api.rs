//! `koosign api query-order` and `koosign api upload`: a client of the
//! marketplace's two open APIs (issue 16; fields and sources in
//! cli/src/marketplace.rs), signed with the core's S6 URL signer
//! (`koosign::sign_apig_url`, docs/SCHEMES.md §S6).
//!
//! A timeout per attempt; bounded retries with exponential backoff on a
//! timeout, a connection failure or a 5xx answer, never on a 4xx; typed
//! errors with the gateway's code and message (never the SK); `explain`
//! prints the canonical request and the string to sign when the gateway
//! says the signature does not match (`APIGW.0301`).

use crate::marketplace::{EVENT_PREFIX, ORDER_QUERY_PATH};
use crate::util::{now_ms, random_text, Secret};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::fmt;
use std::time::Duration;

/// The production endpoint.
pub const DEFAULT_ENDPOINT: &str = "https://mkt.myhuaweicloud.com";

/// How to reach the marketplace.
pub struct Client {
    pub ak: Secret,
    pub sk: Secret,
    /// Base URL, e.g. `https://mkt.myhuaweicloud.com` or `http://127.0.0.1:8443`.
    pub endpoint: String,
    /// Per attempt.
    pub timeout: Duration,
    /// Retries after the first attempt (timeouts, connection failures, 5xx).
    pub retries: u32,
    /// First backoff; doubled each retry.
    pub backoff: Duration,
    /// Print the canonical request and string to sign on APIGW.0301.
    pub explain: bool,
}

/// Why a call failed. No variant carries the SK.
#[derive(Debug)]
pub enum ApiError {
    /// The gateway or the marketplace refused: HTTP status, code, message.
    Refused { status: u16, code: String, message: String },
    /// No answer within the timeout, after every retry.
    Timeout { attempts: u32 },
    /// Could not connect or send, after every retry.
    Transport { attempts: u32, detail: String },
    /// An answer that is not the JSON the API documents.
    BadAnswer { status: u16, detail: String },
    /// The request could not be signed (the core's error).
    Sign(koosign::Error),
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::Refused { status, code, message } => write!(f, "refused (HTTP {status}): {code}: {message}"),
            ApiError::Timeout { attempts } => write!(f, "no answer in time ({attempts} attempts)"),
            ApiError::Transport { attempts, detail } => write!(f, "cannot reach the marketplace ({attempts} attempts): {detail}"),
            ApiError::BadAnswer { status, detail } => write!(f, "unexpected answer (HTTP {status}): {detail}"),
            ApiError::Sign(e) => write!(f, "cannot sign: {}", crate::util::describe(e)),
        }
    }
}

struct Answer {
    status: u16,
    body: Vec<u8>,
}

impl Client {
    fn url(&self, path_and_query: &str) -> String {
        format!("{}{path_and_query}", self.endpoint.trim_end_matches('/'))
    }

    /// One signed call, with retries. `headers` excludes the signer's.
    fn call(&self, method: &str, url: &str, headers: &[(&str, &str)], body: &[u8]) -> Result<(Answer, Signed), ApiError> {
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            // Signed afresh each attempt: X-Sdk-Date must stay within ±15 min.
            let signed = sign(self, method, url, headers, body)?;
            let result = send(self, method, url, headers, &signed.headers, body);
            let retry = match &result {
                Ok(a) if a.status >= 500 => true,
                Ok(_) => false,
                Err(Failure::Timeout) | Err(Failure::Transport(_)) => true,
            };
            if !retry || attempt > self.retries {
                return match result {
                    Ok(a) => Ok((a, signed)),
                    Err(Failure::Timeout) => Err(ApiError::Timeout { attempts: attempt }),
                    Err(Failure::Transport(d)) => Err(ApiError::Transport { attempts: attempt, detail: d }),
                };
            }
            std::thread::sleep(self.backoff.saturating_mul(1 << (attempt - 1).min(16)));
        }
    }

    fn explain_mismatch(&self, code: &str, signed: &Signed) {
        if self.explain && code == "APIGW.0301" {
            eprintln!("koosign: the gateway refused the signature; what this side signed (SCHEMES.md S6):");
            eprintln!("--- canonical request ---\n{}\n--- string to sign ---\n{}\n---", signed.canonical_request, signed.string_to_sign);
            eprintln!("compare with the gateway's canonicalRequest; the usual causes: a wrong SK, a clock more than 15 minutes off, a proxy that rewrites the path, the query or Host");
        }
    }

    /// Query order: the whole answer (`resultCode`, `resultMsg`, `orderInfo`), JSON passed through.
    pub fn query_order(&self, order_id: &str, order_line_id: Option<&str>) -> Result<Value, ApiError> {
        let mut q = format!("?orderId={}", enc(order_id));
        if let Some(l) = order_line_id {
            q.push_str(&format!("&orderLineId={}", enc(l)));
        }
        let url = self.url(&format!("{ORDER_QUERY_PATH}{q}"));
        let (a, signed) = self.call("GET", &url, &[("Content-Type", "application/json;charset=UTF-8")], b"")?;
        let v: Value = serde_json::from_slice(&a.body)
            .map_err(|e| ApiError::BadAnswer { status: a.status, detail: format!("not JSON ({e})") })?;
        let (code, msg) = codes(&v, "resultCode", "resultMsg");
        if a.status == 200 && code == "MKT.0000" {
            return Ok(v);
        }
        self.explain_mismatch(&code, &signed);
        Err(ApiError::Refused { status: a.status, code, message: msg })
    }

    /// Upload a file (`name`, bytes) or a string: the answer (`error_code`, `error_msg`).
    pub fn upload(&self, event_id: &str, payload: Payload<'_>) -> Result<Value, ApiError> {
        let boundary = format!("koosign{}", random_text(24, b"0123456789abcdefghijklmnopqrstuvwxyz").unwrap_or_else(|_| "0".repeat(24)));
        let (meta, file) = match payload {
            Payload::Text(t) => (json!({ "type": "CHARACTERS", "characters": t }), None),
            Payload::File { name, data } => {
                let sha: String = Sha256::digest(data).iter().map(|b| format!("{b:02x}")).collect();
                (json!({ "type": "FILE", "sha256": sha, "file_name": name }), Some((name, data)))
            }
        };
        let mut body = Vec::new();
        if let Some((name, data)) = file {
            body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"{}\"\r\nContent-Type: application/octet-stream\r\n\r\n", name.replace(['"', '\r', '\n'], "_")).as_bytes());
            body.extend_from_slice(data);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}\r\nContent-Disposition: form-data; name=\"isvUpdateFileReq\"\r\nContent-Type: application/json\r\n\r\n{meta}\r\n--{boundary}--\r\n").as_bytes());
        let url = self.url(&format!("{EVENT_PREFIX}{}/file", enc(event_id)));
        let ct = format!("multipart/form-data; boundary={boundary}");
        // The SDK signs a non-JSON body as UNSIGNED-PAYLOAD (the core adds the header).
        let (a, signed) = self.call("POST", &url, &[("Content-Type", &ct)], &body)?;
        let v: Value = serde_json::from_slice(&a.body)
            .map_err(|e| ApiError::BadAnswer { status: a.status, detail: format!("not JSON ({e})") })?;
        let (code, msg) = codes(&v, "error_code", "error_msg");
        if a.status == 200 && code == "MKT.0000" {
            return Ok(v);
        }
        self.explain_mismatch(&code, &signed);
        Err(ApiError::Refused { status: a.status, code, message: msg })
    }
}

/// What to upload.
pub enum Payload<'a> {
    Text(&'a str),
    File { name: &'a str, data: &'a [u8] },
}

/// The code and message of an answer: the API's own names, else the gateway's.
fn codes(v: &Value, code: &str, msg: &str) -> (String, String) {
    let s = |k: &str| v.get(k).and_then(Value::as_str).map(str::to_string);
    (
        s(code).or_else(|| s("error_code")).or_else(|| s("resultCode")).unwrap_or_default(),
        s(msg).or_else(|| s("error_msg")).or_else(|| s("resultMsg")).unwrap_or_default(),
    )
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

struct Signed {
    headers: Vec<(String, String)>,
    canonical_request: String,
    string_to_sign: String,
}

fn sign(c: &Client, method: &str, url: &str, headers: &[(&str, &str)], body: &[u8]) -> Result<Signed, ApiError> {
    let hl = headers.iter().map(|(n, v)| n.len() + v.len()).sum();
    let mut out = vec![0u8; koosign::apig::sign_apig_url_len(method.len(), url.len(), hl, c.ak.expose().len())];
    let s = koosign::sign_apig_url(method, url, headers, body, c.ak.expose(), c.sk.expose(), Some(now_ms()), &mut out)
        .map_err(ApiError::Sign)?;
    Ok(Signed {
        headers: s.headers_to_add.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect(),
        canonical_request: s.canonical_request.to_string(),
        string_to_sign: s.string_to_sign.to_string(),
    })
}

enum Failure {
    Timeout,
    Transport(String),
}

fn send(c: &Client, method: &str, url: &str, headers: &[(&str, &str)], added: &[(String, String)], body: &[u8]) -> Result<Answer, Failure> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(c.timeout))
        .http_status_as_error(false)
        .max_redirects(0)
        .user_agent("koosign-api")
        .build()
        .into();
    let map = |e: ureq::Error| match e {
        ureq::Error::Timeout(_) => Failure::Timeout,
        ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::TimedOut || io.kind() == std::io::ErrorKind::WouldBlock => Failure::Timeout,
        other => Failure::Transport(other.to_string()),
    };
    let all = headers.iter().map(|(n, v)| (n.to_string(), v.to_string())).chain(added.iter().cloned());
    let resp = if method == "GET" {
        let mut rb = agent.get(url);
        for (n, v) in all {
            rb = rb.header(n.as_str(), v.as_str());
        }
        rb.call()
    } else {
        let mut rb = agent.post(url);
        for (n, v) in all {
            rb = rb.header(n.as_str(), v.as_str());
        }
        rb.send(body)
    }
    .map_err(map)?;
    let status = resp.status().as_u16();
    let body = resp.into_body().with_config().limit(16 * 1024 * 1024).read_to_vec().map_err(map)?;
    Ok(Answer { status, body })
}
