//! `koosign serve`: a reference production interface at `/produce`.
//!
//! POST = V2 basic interfaces (S2, query `signature`/`timestamp`/`nonce`) or,
//! when `x-sign` headers are present, the kit variant (S2b); GET = V1
//! activities (S1). Every answer is HTTP 200 with a JSON body and a
//! `Body-Sign` header (S3) over the exact bytes sent, errors included.
//! `GET /healthz` (for load balancers, unauthenticated, no secret) says
//! whether the instance store and the replay store answer: HTTP 200 when
//! both do, 503 otherwise.
//!
//! hyper writes header names in lower case unless told otherwise; the
//! marketplace matches `Body-Sign` case-sensitively, so connections are
//! served with `title_case_headers(true)`.
//!
//! Refusals follow SCHEMES.md "Which code a refusal gets": anything wrong
//! before the request is authenticated (a signature, token, timestamp or
//! nonce missing, malformed, ambiguous, not matching, stale or replayed) is
//! `000001`; a full or unreachable replay store, a busy or full database or
//! a failed random source is `000005`; an authenticated request with
//! unusable content is `000002`.
//!
//! Replay: V2 nonces and V1 `authToken`s go into one replay store (the core
//! tells them apart; `crate::replay`): by default a table of the SQLite
//! database (survives restarts), or in memory, or Redis (several
//! processes or machines). The store is asked only after the core has
//! checked the MAC and the timestamp. V1 has a ±5 min window by default
//! (`--v1-window`).
//!
//! Bounds (issue 15): every wait for a store is bounded by the request's
//! deadline ([`STORE_DEADLINE`], under the marketplace's 5 s); at most
//! `--max-connections` connections are served at once (more wait in the
//! listen backlog); headers must arrive within [`HEADER_TIMEOUT`] and a body
//! within [`BODY_TIMEOUT`]; bodies over [`SMALL_BODY`] draw on a shared
//! budget of [`LARGE_BODY_BUDGET`] bytes, so stalled large bodies cannot
//! hold more memory than that. SIGTERM or SIGINT stops accepting, lets the
//! requests in flight finish (at most [`DRAIN_TIMEOUT`]), checkpoints the
//! database and exits 0.

use crate::diagnose::size_name;
use crate::replay::{self, Backend};
use crate::store::{Instance, NewInstance, Store};
use crate::util::{iso_now, now_ms, os_random, random_text_with, CliError, CliResult, FillRandom, Secret, ALNUM, HEX_LOWER};
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::Router;
use koosign::{
    body_sign, verify_v1_query, verify_v2, DecryptMode, EncryptType, Error, FieldCipher, Freshness, Notification,
    V2Auth, V2Scheme, BODY_SIGN_HEADER,
};
use koosign::Replay;
use serde_json::{json, Value};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The default capacity of the memory replay store (`--replay-capacity`):
/// about 4,000 V2 requests a second sustained over their 60 s window.
pub const DEFAULT_REPLAY_CAPACITY: usize = 262_144;
/// The default `--max-connections`.
pub const DEFAULT_MAX_CONNECTIONS: usize = 512;
/// Largest request body accepted.
const MAX_BODY: usize = koosign::MAX_NOTIFICATION_BODY;
/// Longest comma-separated list in queryInstance.
const MAX_QUERY_IDS: usize = 100;
/// How long a request may wait for its stores in all (locks, another
/// process's write lock, Redis): then `000005`. Under the marketplace's 5 s.
pub const STORE_DEADLINE: Duration = Duration::from_millis(3000);
/// The request head must arrive within this.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(5);
/// The body must arrive within this once the head has.
pub const BODY_TIMEOUT: Duration = Duration::from_secs(10);
/// Bodies up to this size (declared by Content-Length) need no budget:
/// `--max-connections` × this bounds them.
pub const SMALL_BODY: usize = 64 * 1024;
/// Bytes that larger (or chunked) bodies may hold at once, all connections
/// together.
pub const LARGE_BODY_BUDGET: usize = 64 * 1024 * 1024;
/// How long a large body waits for budget before a signed `000005`.
const BUDGET_WAIT: Duration = Duration::from_secs(1);
/// At shutdown, the longest the requests in flight are waited for.
pub const DRAIN_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest a connection may stay open (keep-alive included).
const CONNECTION_LIMIT: Duration = Duration::from_secs(30);
/// Budget units (KiB).
const KIB: usize = 1024;

const OK: &str = "000000";
const AUTH_FAILED: &str = "000001";
const BAD_PARAMS: &str = "000002";
const NOT_FOUND: &str = "000003";
const INTERNAL: &str = "000005";

/// `--log-format`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// One human-readable line per request.
    Text,
    /// One JSON object per line (for log collectors).
    Json,
}

/// What `serve` needs.
pub struct ServeOptions {
    /// The access key: verifies requests and signs answers.
    pub key: Secret,
    /// More access keys accepted while a rotation is under way
    /// (`--accept-key-file`); an answer is signed with the key that verified
    /// its request.
    pub accept_keys: Vec<Secret>,
    pub data: Option<PathBuf>,
    /// Log one line per request to stderr.
    pub log: bool,
    pub log_format: LogFormat,
    /// The V1 freshness window in ms (`None`: off). SCHEMES.md S1.8: on by
    /// default, ±5 min (`koosign::V1_DEFAULT_WINDOW_MS`).
    pub v1_window_ms: Option<u64>,
    /// `--replay-store`.
    pub replay: replay::Choice,
    /// `--replay-capacity` (the memory store's).
    pub replay_capacity: usize,
    /// `--max-connections`.
    pub max_connections: usize,
}

impl ServeOptions {
    /// The defaults of `koosign serve` with `key`: a temporary store, the
    /// SQLite replay store, no log.
    pub fn new(key: Secret) -> Self {
        ServeOptions {
            key,
            accept_keys: Vec::new(),
            data: None,
            log: false,
            log_format: LogFormat::Text,
            v1_window_ms: Some(koosign::V1_DEFAULT_WINDOW_MS),
            replay: replay::Choice::Sqlite,
            replay_capacity: DEFAULT_REPLAY_CAPACITY,
            max_connections: DEFAULT_MAX_CONNECTIONS,
        }
    }
}

/// The endpoint's state.
pub struct App {
    /// `--key` first, then the `--accept-key-file` keys.
    keys: Vec<Secret>,
    ciphers: Vec<FieldCipher>,
    replay: Box<dyn Backend>,
    store: parking_lot::Mutex<Store>,
    base_url: String,
    log: bool,
    log_format: LogFormat,
    v1_window_ms: Option<u64>,
    /// The random source of instance ids and credentials (the OS's; tests
    /// inject a failing one).
    fill: FillRandom,
    /// Large bodies' shared budget, in KiB.
    budget: tokio::sync::Semaphore,
    max_connections: usize,
    /// Keeps a temporary store alive as long as the server.
    _tmp: Option<tempfile::TempDir>,
}

/// A bound, ready server.
pub struct Server {
    pub listener: std::net::TcpListener,
    pub app: Arc<App>,
    pub addr: std::net::SocketAddr,
    pub store_path: PathBuf,
}

/// Creates the data directory (and missing parents) readable by its owner
/// only: mode 0700 whatever the umask. An existing directory is left as is
/// (the store files in it are 0600 anyway).
fn create_private_dir(d: &Path) -> std::io::Result<()> {
    if d.is_dir() {
        return Ok(());
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
        std::fs::DirBuilder::new().recursive(true).mode(0o700).create(d)?;
        std::fs::set_permissions(d, std::fs::Permissions::from_mode(0o700))
    }
    #[cfg(not(unix))]
    {
        std::fs::create_dir_all(d)
    }
}

/// Binds `addr` and opens the stores. Errors are reported before serving.
pub fn prepare(addr: &str, opts: ServeOptions) -> CliResult<Server> {
    if opts.replay_capacity == 0 {
        return Err(CliError::usage("--replay-capacity must be at least 1"));
    }
    if opts.max_connections == 0 {
        return Err(CliError::usage("--max-connections must be at least 1"));
    }
    let listener =
        std::net::TcpListener::bind(addr).map_err(|e| CliError::fail(format!("cannot listen on {addr}: {e}")))?;
    listener.set_nonblocking(true).map_err(|e| CliError::fail(e.to_string()))?;
    let local = listener.local_addr().map_err(|e| CliError::fail(e.to_string()))?;
    let (dir, tmp) = match &opts.data {
        Some(d) => {
            create_private_dir(d)
                .map_err(|e| CliError::fail(format!("cannot create data directory {}: {e}", d.display())))?;
            (d.clone(), None)
        }
        None => {
            let t = tempfile::Builder::new()
                .prefix("koosign-serve-")
                .tempdir()
                .map_err(|e| CliError::fail(format!("cannot create a temporary store: {e}")))?;
            (t.path().to_path_buf(), Some(t))
        }
    };
    let store_path = dir.join("koosign.sqlite3");
    let store = Store::open(&store_path)
        .map_err(|e| CliError::fail(format!("cannot open the store {}: {e}", store_path.display())))?;
    let replay: Box<dyn Backend> = match &opts.replay {
        replay::Choice::Memory => Box::new(replay::Memory::new(opts.replay_capacity)),
        replay::Choice::Sqlite => Box::new(
            replay::Sqlite::open(&store_path)
                .map_err(|e| CliError::fail(format!("cannot open the replay store in {}: {e}", store_path.display())))?,
        ),
        replay::Choice::Redis(url) => Box::new(replay::Redis::open(url).map_err(CliError::usage)?),
    };
    let mut keys = vec![opts.key];
    keys.extend(opts.accept_keys);
    let ciphers = keys.iter().map(|k| FieldCipher::new(k.expose())).collect();
    let app = App {
        keys,
        ciphers,
        replay,
        store: parking_lot::Mutex::new(store),
        base_url: format!("http://{local}"),
        log: opts.log,
        log_format: opts.log_format,
        v1_window_ms: opts.v1_window_ms,
        fill: os_random,
        budget: tokio::sync::Semaphore::new(LARGE_BODY_BUDGET / KIB),
        max_connections: opts.max_connections,
        _tmp: tmp,
    };
    Ok(Server { listener, app: Arc::new(app), addr: local, store_path })
}

/// Serves until `shutdown` completes, then stops accepting, waits for the
/// connections in flight (at most [`DRAIN_TIMEOUT`]) and flushes the stores.
pub async fn run(server: Server, shutdown: impl Future<Output = ()>) -> CliResult<()> {
    let listener = tokio::net::TcpListener::from_std(server.listener).map_err(|e| CliError::fail(e.to_string()))?;
    let app = server.app;
    let router = Router::new()
        .route("/produce", any(produce))
        .route("/healthz", any(healthz))
        .fallback(fallback)
        .with_state(app.clone());
    let slots = Arc::new(tokio::sync::Semaphore::new(app.max_connections));
    let graceful = hyper_util::server::graceful::GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        // A free slot first, then a connection: past --max-connections,
        // connections wait in the listen backlog.
        let permit = tokio::select! {
            _ = &mut shutdown => break,
            p = slots.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => break },
        };
        let accepted = tokio::select! {
            _ = &mut shutdown => break,
            a = listener.accept() => a,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(_) => {
                // Out of file descriptors or the like: no busy loop.
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
        };
        let svc = hyper_util::service::TowerToHyperService::new(router.clone());
        let conn = hyper::server::conn::http1::Builder::new()
            .title_case_headers(true)
            .timer(hyper_util::rt::TokioTimer::new())
            .header_read_timeout(HEADER_TIMEOUT)
            .serve_connection(hyper_util::rt::TokioIo::new(stream), svc);
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            // A connection that trickles is cut: the marketplace itself
            // gives up after 5 s.
            let _ = tokio::time::timeout(CONNECTION_LIMIT, conn).await;
            drop(permit);
        });
    }
    drop(listener);
    if app.log {
        app.event("stopping", "koosign serve: stopping: no new connections; finishing the requests in flight");
    }
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(DRAIN_TIMEOUT) => {
            app.event("drain_timeout", "koosign serve: requests still in flight after the drain timeout are cut");
        }
    }
    let flushing = app.clone();
    let _ = tokio::task::spawn_blocking(move || flushing.flush()).await;
    Ok(())
}

/// The `koosign serve` command: runs until SIGTERM or SIGINT, then exits 0.
pub fn command(addr: &str, opts: ServeOptions) -> CliResult<i32> {
    let data_note = opts.data.is_none();
    let server = prepare(addr, opts)?;
    server.app.event_with(
        "listening",
        &format!(
            "koosign serve: listening on http://{}/produce (store: {}{}; replay store: {})",
            server.addr,
            server.store_path.display(),
            if data_note { ", temporary" } else { "" },
            server.app.replay.describe()
        ),
        json!({ "addr": server.addr.to_string(), "store": server.store_path.display().to_string(), "replayStore": server.app.replay.describe() }),
    );
    let app = server.app.clone();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| CliError::fail(format!("cannot start the runtime: {e}")))?;
    rt.block_on(run(server, shutdown_signal()))?;
    rt.shutdown_timeout(Duration::from_secs(1));
    app.event("stopped", "koosign serve: stopped");
    Ok(crate::util::EXIT_OK)
}

/// A server running on a background thread (for `demo`).
pub struct Handle {
    pub addr: std::net::SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Handle {
    /// Stops the server and waits for it (the temporary store is removed).
    pub fn stop(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

async fn shutdown_signal() {
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(t) => t,
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
                return;
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Starts a server on a background thread with its own runtime.
pub fn spawn(addr: &str, opts: ServeOptions) -> CliResult<Handle> {
    let server = prepare(addr, opts)?;
    let local = server.addr;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| CliError::fail(format!("cannot start the runtime: {e}")))?;
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::Builder::new()
        .name("koosign-serve".into())
        .spawn(move || {
            let _ = rt.block_on(run(server, async {
                let _ = rx.await;
            }));
            rt.shutdown_timeout(Duration::from_secs(1));
        })
        .map_err(|e| CliError::fail(format!("cannot start the server thread: {e}")))?;
    Ok(Handle { addr: local, stop: Some(tx), thread: Some(thread) })
}

/// What a request came to.
struct Outcome {
    /// The key that verified the request (index into `App::keys`; 0 before
    /// authentication): it signs the answer.
    key: usize,
    scheme: &'static str,
    activity: String,
    body: Value,
    /// For the log: why (an error code), never a secret.
    note: String,
}

fn result(code: &str, msg: &str) -> Value {
    json!({ "resultCode": code, "resultMsg": msg })
}

impl Outcome {
    fn new(scheme: &'static str, activity: &str, body: Value) -> Self {
        Outcome { key: 0, scheme, activity: activity.to_string(), body, note: String::new() }
    }
    fn err(scheme: &'static str, activity: &str, code: &str, msg: &str, note: impl Into<String>) -> Self {
        Outcome { key: 0, scheme, activity: activity.to_string(), body: result(code, msg), note: note.into() }
    }
    /// A core error before or during verification, i.e. before the request
    /// is authenticated (SCHEMES.md "Which code a refusal gets"): `000001`,
    /// except the merchant's own failures (a full replay store) `000005`.
    /// The reason is given for malformed or ambiguous input; a mismatch,
    /// a stale timestamp or a replay is only "authentication failed".
    fn refused(scheme: &'static str, e: Error) -> Self {
        // The code is the core's table (koosign::result_code); only the
        // message is serve's.
        let code = koosign::result_code(&e, koosign::Stage::BeforeAuthentication);
        let msg = match e {
            Error::NonceStoreFull => "busy: too many recent requests, retry later".to_string(),
            Error::StoreUnavailable => "replay store unavailable, retry later".to_string(),
            _ if code == koosign::ResultCode::MerchantFailure => "internal error".to_string(),
            e if e.is_format_error() || matches!(e, Error::Ambiguous(_) | Error::BadTimestamp) => {
                format!("authentication failed: {e}")
            }
            _ => "authentication failed".to_string(),
        };
        Outcome::err(scheme, "-", code.as_str(), &msg, e.code())
    }
    /// [`Outcome::refused`], saying so when the replay store did not answer
    /// (its reason goes to the log only).
    fn refused_by(scheme: &'static str, e: Error, store: &replay::Shared<'_>) -> Self {
        match &store.failure {
            Some(why) => {
                let code = koosign::result_code(&e, koosign::Stage::BeforeAuthentication);
                Outcome::err(scheme, "-", code.as_str(), "replay store unavailable, retry later", format!("{}: {why}", e.code()))
            }
            None => Outcome::refused(scheme, e),
        }
    }
}

async fn fallback(State(app): State<Arc<App>>, req: Request) -> Response {
    let start = Instant::now();
    let o = Outcome::err("-", "-", BAD_PARAMS, "unknown path: the production interface is /produce", "NOT_FOUND");
    app.respond(StatusCode::NOT_FOUND, req.method(), req.uri().path(), o, start)
}

/// `GET /healthz`: `{"status":"ok"|"unavailable","instanceStore":…,"replayStore":…}`,
/// HTTP 200 when both stores answer within a second, 503 otherwise. No
/// authentication, no secret (the reasons are kinds: "sqlite busy",
/// "redis unreachable (connection refused)").
async fn healthz(State(app): State<Arc<App>>, req: Request) -> Response {
    let start = Instant::now();
    let method = req.method().clone();
    if method != Method::GET && method != Method::HEAD {
        let o = Outcome::err("-", "-", BAD_PARAMS, "use GET /healthz", "METHOD");
        return app.respond(StatusCode::METHOD_NOT_ALLOWED, &method, "/healthz", o, start);
    }
    let a = app.clone();
    let (instances, replays) = tokio::task::spawn_blocking(move || {
        let deadline = Instant::now() + Duration::from_secs(1);
        let instances = match a.store_until(deadline) {
            Some(s) => s.set_wait(deadline.saturating_duration_since(Instant::now())).and_then(|()| s.health()).map_err(|e| replay::sqlite_reason(&e)),
            None => Err("sqlite busy (in this process)".to_string()),
        };
        (instances, a.replay.health(deadline))
    })
    .await
    .unwrap_or_else(|_| (Err("internal error".into()), Err("internal error".into())));
    let ok = instances.is_ok() && replays.is_ok();
    let show = |r: &Result<(), String>| match r {
        Ok(()) => "ok".to_string(),
        Err(e) => e.clone(),
    };
    let body = json!({
        "status": if ok { "ok" } else { "unavailable" },
        "instanceStore": show(&instances),
        "replayStore": { "kind": app.replay.kind(), "status": show(&replays) },
    });
    let note = if ok { String::new() } else { format!("instances: {}; replay: {}", show(&instances), show(&replays)) };
    let o = Outcome { key: 0, scheme: "-", activity: "healthz".into(), body, note };
    let status = if ok { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    app.respond(status, &method, "/healthz", o, start)
}

/// The bytes a body may hold, as declared (`None`: chunked, or unusable).
fn declared_len(headers: &HeaderMap) -> Option<usize> {
    headers.get(axum::http::header::CONTENT_LENGTH)?.to_str().ok()?.trim().parse().ok()
}

async fn produce(State(app): State<Arc<App>>, req: Request) -> Response {
    let start = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or("").to_string();
    let headers = req.headers().clone();
    let outcome = match method {
        Method::POST => {
            let declared = declared_len(&headers);
            // A large or chunked body draws on the shared budget first.
            let need = match declared {
                Some(n) if n <= SMALL_BODY => 0,
                Some(n) => n.min(MAX_BODY + 1).div_ceil(KIB),
                None => MAX_BODY.div_ceil(KIB) + 1,
            };
            let permit = if need == 0 {
                Ok(None)
            } else {
                match tokio::time::timeout(BUDGET_WAIT, app.budget.acquire_many(need as u32)).await {
                    Ok(Ok(p)) => Ok(Some(p)),
                    _ => Err(()),
                }
            };
            match permit {
                Err(()) => Outcome::err("v2", "-", INTERNAL, "busy: too many large requests at once, retry later", "BODY_BUDGET"),
                Ok(permit) => {
                    let read = tokio::time::timeout(BODY_TIMEOUT, axum::body::to_bytes(req.into_body(), MAX_BODY)).await;
                    let o = match read {
                        Ok(Ok(body)) => {
                            drop(permit);
                            let a = app.clone();
                            tokio::task::spawn_blocking(move || a.handle_post(&headers, &query, &body))
                                .await
                                .unwrap_or_else(|_| Outcome::err("v2", "-", INTERNAL, "internal error", "PANIC"))
                        }
                        // docs/SCHEMES.md §Answers: a body over MAX_NOTIFICATION_BODY is
                        // refused unread with 000002 (decision); a body that cannot be
                        // read (a broken chunked encoding, or not sent in time) is
                        // wrong before authentication: 000001.
                        Ok(Err(e)) if is_length_limit(&e) => {
                            Outcome::err("v2", "-", BAD_PARAMS, "body larger than 1 MiB", "INPUT_TOO_LARGE")
                        }
                        Ok(Err(_)) => Outcome::err("v2", "-", AUTH_FAILED, "body unreadable", "BODY"),
                        Err(_) => Outcome::err("v2", "-", AUTH_FAILED, "body not received in time", "BODY_TIMEOUT"),
                    };
                    o
                }
            }
        }
        Method::GET => {
            let a = app.clone();
            tokio::task::spawn_blocking(move || a.handle_v1(&query))
                .await
                .unwrap_or_else(|_| Outcome::err("v1", "-", INTERNAL, "internal error", "PANIC"))
        }
        // Found before authentication: 000001 (docs/SCHEMES.md §Answers).
        _ => Outcome::err("-", "-", AUTH_FAILED, "use POST (V2) or GET (V1)", "METHOD"),
    };
    app.respond(StatusCode::OK, &method, &path, outcome, start)
}

/// True when reading the body stopped at [`MAX_BODY`].
fn is_length_limit(e: &axum::Error) -> bool {
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = source {
        if s.is::<http_body_util::LengthLimitError>() {
            return true;
        }
        source = s.source();
    }
    false
}

/// A text field of a verified notification, trimmed, `None` when blank.
fn text(f: &Option<koosign::JsonText<'_>>) -> Option<String> {
    f.as_ref().map(|t| t.as_str().trim().to_string()).filter(|s| !s.is_empty())
}

impl App {
    fn respond(&self, status: StatusCode, method: &Method, path: &str, o: Outcome, start: Instant) -> Response {
        let bytes = serde_json::to_vec(&o.body).unwrap_or_else(|_| br#"{"resultCode":"000005","resultMsg":"internal error"}"#.to_vec());
        let mut resp = (status, Bytes::from(bytes.clone())).into_response();
        let h = resp.headers_mut();
        h.insert(axum::http::header::CONTENT_TYPE, HeaderValue::from_static("application/json;charset=UTF-8"));
        let key = self.keys.get(o.key).unwrap_or(&self.keys[0]);
        match body_sign(&bytes, key.expose()) {
            Ok(v) => {
                if let Ok(v) = HeaderValue::from_str(v.as_str()) {
                    h.insert(BODY_SIGN_HEADER, v);
                }
            }
            Err(e) => self.event("sign_failed", &format!("koosign serve: cannot sign a response: {}", e.code())),
        }
        if self.log {
            let code = o.body.get("resultCode").and_then(Value::as_str).unwrap_or("?");
            let ms = start.elapsed().as_millis();
            match self.log_format {
                LogFormat::Text => {
                    let note = if o.note.is_empty() { String::new() } else { format!(" ({})", o.note) };
                    // The activity comes from the request: control characters escaped.
                    eprintln!(
                        "{} {method} {path} scheme={} activity={} -> {code}{note} {ms}ms",
                        iso_now(),
                        o.scheme,
                        o.activity.escape_debug(),
                    );
                }
                LogFormat::Json => {
                    let line = json!({
                        "time": iso_now(),
                        "event": "request",
                        "method": method.as_str(),
                        "path": path,
                        "status": status.as_u16(),
                        "scheme": o.scheme,
                        "activity": o.activity,
                        "resultCode": code,
                        "note": o.note,
                        "ms": ms as u64,
                    });
                    eprintln!("{line}");
                }
            }
        }
        resp
    }

    /// A line about the server itself (not a request), in the log format.
    fn event(&self, event: &str, text: &str) {
        self.event_with(event, text, json!({}));
    }

    fn event_with(&self, event: &str, text: &str, extra: Value) {
        match self.log_format {
            LogFormat::Text => eprintln!("{text}"),
            LogFormat::Json => {
                let mut line = json!({ "time": iso_now(), "event": event, "msg": text });
                if let (Some(l), Value::Object(x)) = (line.as_object_mut(), extra) {
                    l.extend(x);
                }
                eprintln!("{line}");
            }
        }
    }

    /// Flushes the stores (at shutdown).
    fn flush(&self) {
        self.replay.flush();
        if let Some(s) = self.store.try_lock_for(Duration::from_secs(2)) {
            let _ = s.set_wait(Duration::from_secs(2));
            s.flush();
        }
    }

    /// The instance store, if its lock is free before `deadline`; its
    /// SQLite waits bounded by the same deadline.
    fn store_until(&self, deadline: Instant) -> Option<parking_lot::MutexGuard<'_, Store>> {
        let g = self.store.try_lock_for(deadline.saturating_duration_since(Instant::now()))?;
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() || g.set_wait(left).is_err() {
            return None;
        }
        Some(g)
    }

    fn handle_post(&self, headers: &HeaderMap, query: &str, body: &[u8]) -> Outcome {
        let deadline = Instant::now() + STORE_DEADLINE;
        let kit = ["x-sign", "x-timestamp", "x-nonce"].iter().any(|h| headers.contains_key(*h));
        let (scheme, label) = if kit { (V2Scheme::Headers, "kit") } else { (V2Scheme::Query, "v2") };
        let hs: Vec<(&str, &str)> =
            headers.iter().filter_map(|(n, v)| v.to_str().ok().map(|v| (n.as_str(), v))).collect();
        let mut scratch = vec![0u8; query.len()];
        let auth = if kit { V2Auth::from_headers(&hs) } else { V2Auth::from_query(query, &mut scratch) };
        let auth = match auth {
            Ok(a) => a,
            Err(e) => return Outcome::refused(label, e),
        };
        let mut store = replay::Shared::new(&*self.replay, deadline);
        let keys: Vec<&str> = self.keys.iter().map(Secret::expose).collect();
        let verified = verify_v2(scheme, &auth, body, &keys, Freshness::new(now_ms()), Replay::Store(&mut store));
        let verified = match verified {
            Ok(v) => v,
            Err(e) => return Outcome::refused_by(label, e, &store),
        };
        let key = verified.key_index();
        let mut o = match verified.notification() {
            Ok(n) => self.v2_activity(label, &n, key, deadline),
            Err(e) => Outcome::err(label, "-", BAD_PARAMS, "body is not a valid notification JSON object", e.code()),
        };
        o.key = key;
        o
    }

    fn v2_activity(&self, label: &'static str, n: &Notification<'_>, key: usize, deadline: Instant) -> Outcome {
        let activity = text(&n.activity).unwrap_or_default();
        let a = activity.as_str();
        let missing = |name: &str| Outcome::err(label, a, BAD_PARAMS, &format!("missing parameter {name}"), "MISSING_PARAMETER");
        let instance = || text(&n.instance_id);
        match a {
            "newInstance" => {
                let (Some(order), Some(line)) = (text(&n.order_id), text(&n.order_line_id)) else {
                    return missing(if text(&n.order_id).is_none() { "orderId" } else { "orderLineId" });
                };
                let o = NewOrder {
                    order_id: &order,
                    order_line_id: &line,
                    business_id: &text(&n.business_id).unwrap_or_default(),
                    product_id: &text(&n.product_id).unwrap_or_default(),
                    test_flag: &text(&n.test_flag).unwrap_or_default(),
                };
                self.new_instance(label, &o, key, deadline)
            }
            "queryInstance" => {
                let Some(ids) = instance() else { return missing("instanceId") };
                self.query_instances(label, &ids, deadline)
            }
            "refreshInstance" => {
                let Some(id) = instance() else { return missing("instanceId") };
                if let Some(scene) = text(&n.scene) {
                    if !["TRIAL_TO_FORMAL", "RENEWAL", "UNSUBSCRIBE_RENEWAL_PERIOD", "RENEWAL_CHANGE"].contains(&scene.as_str()) {
                        return Outcome::err(label, a, BAD_PARAMS, "unknown scene", "BAD_SCENE");
                    }
                }
                let expire = text(&n.expire_time);
                let detail = text(&n.scene).unwrap_or_default();
                self.update(label, a, &id, None, expire.as_deref(), &detail, false, deadline)
            }
            "updateInstanceStatus" => {
                let Some(id) = instance() else { return missing("instanceId") };
                let status = match text(&n.status).as_deref() {
                    Some("FREEZE") => "FROZEN",
                    Some("UNFREEZE") => "ACTIVE",
                    Some(_) => return Outcome::err(label, a, BAD_PARAMS, "status must be FREEZE or UNFREEZE", "BAD_STATUS"),
                    None => return missing("status"),
                };
                self.update(label, a, &id, Some(status), None, status, false, deadline)
            }
            "upgradeInstance" => {
                let Some(id) = instance() else { return missing("instanceId") };
                self.update(label, a, &id, None, None, &text(&n.product_id).unwrap_or_default(), false, deadline)
            }
            "releaseInstance" => {
                let Some(id) = instance() else { return missing("instanceId") };
                self.update(label, a, &id, Some("RELEASED"), None, "", true, deadline)
            }
            "" => missing("activity"),
            _ => Outcome::err(label, a, BAD_PARAMS, "unknown activity", "UNKNOWN_ACTIVITY"),
        }
    }

    fn handle_v1(&self, query: &str) -> Outcome {
        let deadline = Instant::now() + STORE_DEADLINE;
        if query.is_empty() {
            // No authToken, no timeStamp: refused before authentication.
            return Outcome::err(
                "v1",
                "-",
                AUTH_FAILED,
                "authentication failed: no query (V1 notifications are GET with a signed query)",
                "NO_QUERY",
            );
        }
        let mut scratch = vec![0u8; query.len()];
        let fresh = self.v1_window_ms.map_or(Freshness::Unchecked, |w| Freshness::with_window(now_ms(), w));
        let mut store = replay::Shared::new(&*self.replay, deadline);
        let keys: Vec<&str> = self.keys.iter().map(Secret::expose).collect();
        let v = match verify_v1_query(query, &keys, fresh, Replay::Store(&mut store), &mut scratch) {
            Ok(v) => v,
            Err(e) => return Outcome::refused_by("v1", e, &store),
        };
        let key = v.key_index();
        let mut o = self.v1_activity(&v, key, deadline);
        o.key = key;
        o
    }

    fn v1_activity(&self, v: &koosign::VerifiedV1<'_, '_>, key: usize, deadline: Instant) -> Outcome {
        let activity = v.activity().unwrap_or("").trim().to_string();
        let a = activity.as_str();
        let get = |name: &str| v.get(name).map(str::trim).filter(|s| !s.is_empty()).map(String::from);
        let missing = |name: &str| Outcome::err("v1", a, BAD_PARAMS, &format!("missing parameter {name}"), "MISSING_PARAMETER");
        match a {
            "newInstance" => {
                let Some(order) = get("orderId") else { return missing("orderId") };
                // Inbound encrypted fields (S4): their key size is not documented; try both.
                for field in ["mobilePhone", "email"] {
                    if get(field).is_some() {
                        let mut out = vec![0u8; v.get(field).map_or(0, str::len)];
                        if v.decrypt_param(field, DecryptMode::Auto, &mut out).is_err() {
                            return Outcome::err("v1", a, BAD_PARAMS, &format!("{field} cannot be decrypted"), "DECRYPT");
                        }
                    }
                }
                let o = NewOrder {
                    order_id: &order,
                    order_line_id: &get("orderLineId").unwrap_or_default(),
                    business_id: &get("businessId").unwrap_or_default(),
                    product_id: &get("productId").unwrap_or_default(),
                    test_flag: &get("testFlag").unwrap_or_default(),
                };
                self.new_instance("v1", &o, key, deadline)
            }
            "refreshInstance" => {
                let Some(id) = get("instanceId") else { return missing("instanceId") };
                self.update("v1", a, &id, None, get("expireTime").as_deref(), "", false, deadline)
            }
            "expireInstance" => {
                let Some(id) = get("instanceId") else { return missing("instanceId") };
                self.update("v1", a, &id, Some("EXPIRED"), None, "", false, deadline)
            }
            "releaseInstance" => {
                let Some(id) = get("instanceId") else { return missing("instanceId") };
                self.update("v1", a, &id, Some("RELEASED"), None, "", true, deadline)
            }
            "upgrade" => {
                let Some(id) = get("instanceId") else { return missing("instanceId") };
                self.update("v1", a, &id, None, None, &get("productId").unwrap_or_default(), false, deadline)
            }
            "" => missing("activity"),
            _ => Outcome::err("v1", a, BAD_PARAMS, "unknown activity", "UNKNOWN_ACTIVITY"),
        }
    }

    #[cfg(test)]
    fn lock_store(&self) -> parking_lot::MutexGuard<'_, Store> {
        self.store.lock()
    }

    fn app_info(i: &Instance) -> Value {
        json!({
            "frontEndUrl": i.front_end_url,
            "adminUrl": i.admin_url,
            "userName": i.user_name,
            "password": i.password,
            "memo": "koosign reference endpoint: test instance",
        })
    }

    fn encrypt(&self, key: usize, plaintext: &str) -> Result<String, Error> {
        let mut out = [0u8; koosign::field::MAX_WIRE_LEN];
        self.ciphers[key].key(EncryptType::Aes256).encrypt(plaintext, &mut getrandom::SysRng, &mut out).map(String::from)
    }

    /// `key`: the key that verified the request, which encrypts a new
    /// instance's credentials.
    fn new_instance(&self, label: &'static str, o: &NewOrder<'_>, key: usize, deadline: Instant) -> Outcome {
        let a = "newInstance";
        let internal = |note: String| Outcome::err(label, a, INTERNAL, "internal error", note);
        if o.order_id.len() > 128 || o.order_line_id.len() > 128 {
            return Outcome::err(label, a, BAD_PARAMS, "orderId or orderLineId too long", "TOO_LONG");
        }
        let Some(store) = self.store_until(deadline) else { return internal("STORE: sqlite busy (in this process)".into()) };
        let existing = match store.by_order(o.order_id, o.order_line_id) {
            Ok(e) => e,
            Err(e) => return internal(format!("STORE: {}", replay::sqlite_reason(&e))),
        };
        let inst = match existing {
            Some(i) => i,
            None => {
                // Identifiers and credentials come from the OS random source
                // or not at all (issue 11 finding 9): its failure is a signed 000005.
                let random = |n, alphabet| random_text_with(self.fill, n, alphabet);
                let (Ok(id), Ok(user), Ok(password)) = (random(32, HEX_LOWER), random(8, HEX_LOWER), random(16, ALNUM)) else {
                    return internal("RANDOM_SOURCE".into());
                };
                let id = format!("ins-{id}");
                let user = format!("user_{user}");
                let (Ok(user_w), Ok(pass_w)) = (self.encrypt(key, &user), self.encrypt(key, &password)) else {
                    return internal("ENCRYPT".into());
                };
                let front = format!("{}/app/{id}", self.base_url);
                let admin = format!("{}/admin/{id}", self.base_url);
                let n = NewInstance {
                    instance_id: &id,
                    order_id: o.order_id,
                    order_line_id: o.order_line_id,
                    business_id: o.business_id,
                    product_id: o.product_id,
                    protocol: label,
                    test_flag: o.test_flag,
                    encrypt_type: EncryptType::Aes256.as_str(),
                    user_name: &user_w,
                    password: &pass_w,
                    front_end_url: &front,
                    admin_url: &admin,
                };
                if let Err(e) = store.insert(&n) {
                    return internal(format!("STORE: {}", replay::sqlite_reason(&e)));
                }
                Instance {
                    instance_id: id.clone(),
                    status: "ACTIVE".into(),
                    encrypt_type: n.encrypt_type.into(),
                    user_name: user_w.clone(),
                    password: pass_w.clone(),
                    front_end_url: front.clone(),
                    admin_url: admin.clone(),
                }
            }
        };
        let mut o = Outcome::new(
            label,
            a,
            json!({
                "resultCode": OK,
                "resultMsg": "success.",
                "instanceId": inst.instance_id,
                "encryptType": inst.encrypt_type,
                "appInfo": Self::app_info(&inst),
            }),
        );
        o.note = format!("instance {} ({})", inst.instance_id, size_name(EncryptType::parse(&inst.encrypt_type).unwrap_or(EncryptType::Aes256)));
        o
    }

    fn query_instances(&self, label: &'static str, ids: &str, deadline: Instant) -> Outcome {
        let a = "queryInstance";
        let list: Vec<&str> = ids.split(',').map(str::trim).filter(|s| !s.is_empty()).collect();
        if list.is_empty() {
            return Outcome::err(label, a, BAD_PARAMS, "missing parameter instanceId", "MISSING_PARAMETER");
        }
        if list.len() > MAX_QUERY_IDS {
            return Outcome::err(label, a, BAD_PARAMS, "at most 100 instanceIds", "TOO_MANY");
        }
        let Some(store) = self.store_until(deadline) else {
            return Outcome::err(label, a, INTERNAL, "internal error", "STORE: sqlite busy (in this process)");
        };
        let mut info = Vec::new();
        for id in list {
            match store.get(id) {
                Ok(Some(i)) => info.push(json!({ "instanceId": i.instance_id, "appInfo": Self::app_info(&i) })),
                Ok(None) => {}
                Err(e) => return Outcome::err(label, a, INTERNAL, "internal error", format!("STORE: {}", replay::sqlite_reason(&e))),
            }
        }
        if info.is_empty() {
            return Outcome::err(label, a, NOT_FOUND, "instance not found", "NOT_FOUND");
        }
        Outcome::new(
            label,
            a,
            json!({ "resultCode": OK, "resultMsg": "success.", "encryptType": EncryptType::Aes256.as_str(), "info": info }),
        )
    }

    /// Updates an instance. `idempotent_release`: a released instance may be
    /// released again (success); other activities on a released instance
    /// answer "not found".
    #[allow(clippy::too_many_arguments)]
    fn update(
        &self,
        label: &'static str,
        activity: &str,
        id: &str,
        status: Option<&str>,
        expire: Option<&str>,
        detail: &str,
        idempotent_release: bool,
        deadline: Instant,
    ) -> Outcome {
        let Some(store) = self.store_until(deadline) else {
            return Outcome::err(label, activity, INTERNAL, "internal error", "STORE: sqlite busy (in this process)");
        };
        let inst = match store.get(id) {
            Ok(Some(i)) => i,
            Ok(None) => return Outcome::err(label, activity, NOT_FOUND, "instance not found", "NOT_FOUND"),
            Err(e) => return Outcome::err(label, activity, INTERNAL, "internal error", format!("STORE: {}", replay::sqlite_reason(&e))),
        };
        if inst.status == "RELEASED" && !idempotent_release {
            return Outcome::err(label, activity, NOT_FOUND, "instance released", "RELEASED");
        }
        if let Err(e) = store.update(id, activity, status, expire, detail) {
            return Outcome::err(label, activity, INTERNAL, "internal error", format!("STORE: {}", replay::sqlite_reason(&e)));
        }
        Outcome::new(label, activity, result(OK, "success."))
    }
}

struct NewOrder<'a> {
    order_id: &'a str,
    order_line_id: &'a str,
    business_id: &'a str,
    product_id: &'a str,
    test_flag: &'a str,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::util::NoRandomness;
    use std::sync::mpsc;

    const KEY: &str = "testAccessKey123";

    fn server() -> Server {
        server_with(replay::Choice::Sqlite)
    }

    fn server_with(replay: replay::Choice) -> Server {
        let key = Secret::new("access key", KEY.to_string()).unwrap();
        prepare("127.0.0.1:0", ServeOptions { replay, ..ServeOptions::new(key) }).unwrap()
    }

    fn signed_query(body: &[u8]) -> String {
        let ts = now_ms().to_string();
        let nonce = crate::util::random_text(32, HEX_LOWER).unwrap();
        let sig = koosign::sign_v2(V2Scheme::Query, body, KEY, &nonce, &ts).unwrap();
        format!("signature={}&timestamp={ts}&nonce={nonce}", sig.as_str())
    }

    fn no_randomness(_: &mut [u8]) -> Result<(), NoRandomness> {
        Err(NoRandomness)
    }

    /// Sends `o` through `respond` and returns (Body-Sign value, body bytes).
    fn wire(app: &App, o: Outcome) -> (String, Vec<u8>) {
        let resp = app.respond(StatusCode::OK, &Method::POST, "/produce", o, Instant::now());
        let sign = resp.headers().get(BODY_SIGN_HEADER).expect("Body-Sign").to_str().unwrap().to_string();
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let body = rt.block_on(axum::body::to_bytes(resp.into_body(), MAX_BODY)).unwrap().to_vec();
        (sign, body)
    }

    /// Issue 11 finding 9: without the OS random source, newInstance is a
    /// signed 000005 and creates nothing; no clock-derived credential.
    #[test]
    fn no_os_randomness_is_a_signed_000005() {
        let mut s = server();
        Arc::get_mut(&mut s.app).unwrap().fill = no_randomness;
        let body = br#"{"activity":"newInstance","orderId":"CSRNG","orderLineId":"CSRNG-000001","testFlag":"1"}"#;
        let o = s.app.handle_post(&HeaderMap::new(), &signed_query(body), body);
        assert_eq!(o.body["resultCode"], INTERNAL, "{}", o.body);
        assert_eq!(o.note, "RANDOM_SOURCE");
        assert!(o.body.get("appInfo").is_none() && o.body.get("instanceId").is_none());
        let (sign, bytes) = wire(&s.app, o);
        assert_eq!(koosign::verify_body_sign(&sign, &bytes, &[KEY]).map(|v| v.key_index()), Ok(0));
        assert_eq!(serde_json::from_slice::<Value>(&bytes).unwrap()["resultCode"], INTERNAL);
        assert!(s.app.lock_store().by_order("CSRNG", "CSRNG-000001").unwrap().is_none(), "nothing stored");
        // The source back: the same order is created now.
        Arc::get_mut(&mut s.app).unwrap().fill = os_random;
        let o = s.app.handle_post(&HeaderMap::new(), &signed_query(body), body);
        assert_eq!(o.body["resultCode"], OK, "{}", o.body);
    }

    /// Issue 11 finding 8: the MAC over a large unauthenticated body is
    /// computed with the replay store unlocked. With the store's lock held
    /// by the test, a wrongly signed 1 MiB POST is still verified and
    /// refused; a well-signed one is verified and waits only to record its
    /// nonce. (A liveness check, not a timing one: before the fix the first
    /// request could not finish while the lock was held.)
    #[test]
    fn verification_runs_outside_the_nonce_lock() {
        let s = server_with(replay::Choice::Memory);
        let pad = "x".repeat(MAX_BODY - 100);
        let body = format!(r#"{{"activity":"queryInstance","instanceId":"ins-none","pad":"{pad}"}}"#).into_bytes();
        assert!(body.len() <= MAX_BODY);
        let good = signed_query(&body);
        let bad = signed_query(b"another body");
        let body = Arc::new(body);

        let memory = s.app.replay.as_any().downcast_ref::<replay::Memory>().expect("the memory store");
        let held = memory.table.lock();
        let post = |query: String| {
            let (app, body) = (s.app.clone(), body.clone());
            let (tx, rx) = mpsc::channel();
            std::thread::spawn(move || {
                let o = app.handle_post(&HeaderMap::new(), &query, &body);
                let _ = tx.send((o.body["resultCode"].as_str().unwrap_or("").to_string(), o.note));
            });
            rx
        };
        let refused = post(bad);
        let (code, note) = refused.recv_timeout(Duration::from_secs(120)).expect("verification waited for the nonce lock");
        assert_eq!((code.as_str(), note.as_str()), (AUTH_FAILED, "SIGNATURE_MISMATCH"));
        let accepted = post(good);
        drop(held);
        let (code, _) = accepted.recv_timeout(Duration::from_secs(120)).expect("answered");
        assert_eq!(code, NOT_FOUND, "authenticated, instance unknown");
    }

    /// SCHEMES.md "Which code a refusal gets", for the errors `serve` can
    /// meet before authentication.
    #[test]
    fn refusal_codes() {
        for (e, code) in [
            (Error::MissingParameter("nonce"), AUTH_FAILED),
            (Error::MalformedEncoding("x"), AUTH_FAILED),
            (Error::InputTooLarge { limit: 256 }, AUTH_FAILED),
            (Error::BadTimestamp, AUTH_FAILED),
            (Error::StaleTimestamp, AUTH_FAILED),
            (Error::ReplayedNonce, AUTH_FAILED),
            (Error::SignatureMismatch, AUTH_FAILED),
            (Error::Ambiguous("x"), AUTH_FAILED),
            (Error::NonceStoreFull, INTERNAL),
            (Error::StoreUnavailable, INTERNAL),
            (Error::BufferTooSmall { needed: 1 }, INTERNAL),
        ] {
            let o = Outcome::refused("v2", e);
            assert_eq!(o.body["resultCode"], code, "{e:?}");
            assert_eq!(o.note, e.code());
        }
    }
}
