//! `koosign serve`: a reference production interface at `/produce`.
//!
//! POST = V2 basic interfaces (S2, query `signature`/`timestamp`/`nonce`),
//! the kit variant (S2b, `x-sign` headers) or V1 JSON (S1b, an `authToken`
//! header); GET = V1 activities (S1). Which one is the core's
//! `detect_protocol`. Every answer is HTTP 200 with a JSON body and a
//! `Body-Sign` header (S3) over the exact bytes sent, errors included.
//! `GET /healthz` (for load balancers, unauthenticated, no secret) says
//! whether the instance store and the replay store answer: HTTP 200 when
//! both do, 503 otherwise.
//!
//! hyper writes header names in lower case unless told otherwise; the
//! marketplace matches `Body-Sign` case-sensitively, so connections are
//! served with `title_case_headers(true)`.
//!
//! A thin skin over the core's keyed merchant context
//! ([`koosign::merchant::Merchant`], built once at start from `--key` and the
//! `--accept-key-file` keys): the core detects the protocol, verifies,
//! checks the window and the replay store, parses the notification and
//! validates its activity; its refusals are the core's signed refusals
//! (SCHEMES.md "Which code a refusal gets"). What is left here are the rules
//! of serve's own instance store (SCHEMES.md "(decision) The reference
//! endpoint"): an unknown or released instance answers `000003` (a second
//! release `000000`), a busy or failing database or random source `000005`.
//! Every activity of [`koosign::Activity`] is answered, V1 `instanceStatus`,
//! `getLicense` and `releaseLicense` included (the last two find the
//! instance by `orderId`).
//!
//! The marketplace's order (issue 16, off unless `--marketplace-endpoint`
//! is given): on `newInstance`, serve asks the marketplace's query-order
//! API for the notified `orderId` / `orderLineId` through the CLI's
//! open-API client ([`crate::api::Client`], S6-signed, one attempt of at
//! most [`MARKETPLACE_TIMEOUT`], well under the marketplace's 5 s), as the
//! access guide asks of a periodic product, and checks the answer against
//! the notification (`orderId`, `orderLineId`, and `productId` and
//! `expireTime` when both sides give them). Fail closed: no answer, a
//! refusal or a mismatch is a signed `000005` (the marketplace retries) and
//! nothing is created — except a test notification (`testFlag=1`) whose
//! order the marketplace does not know (`MKT.0100`): `koosign simulate`'s
//! orders are unknown to a marketplace that does not share its `--data`,
//! so those are accepted and logged as such. Each query is logged
//! (`marketplaceOrder` in the JSON log); [`App::order_queries`] counts them.
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
use koosign::merchant::{Merchant, Policy, Rejection, Replay, Verified, Window};
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::Router;
use koosign::{result_code, Activity, DecryptMode, EncryptType, Error, ResultCode, Stage, BODY_SIGN_HEADER};
use serde_json::{json, Value};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The default capacity of the memory replay store (`--replay-capacity`):
/// about 4,000 V2 requests a second sustained over their 60 s window.
pub const DEFAULT_REPLAY_CAPACITY: usize = koosign::nonce::DEFAULT_CAPACITY;
/// The default `--max-connections`.
pub const DEFAULT_MAX_CONNECTIONS: usize = 512;
/// Largest request body accepted.
const MAX_BODY: usize = koosign::MAX_NOTIFICATION_BODY;
/// Most access keys `serve` holds (`--key` and the `--accept-key-file` keys).
pub const MAX_KEYS: usize = 8;
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
/// The one attempt of a query-order call made during `newInstance`
/// (`--marketplace-endpoint`): the store deadline and this stay under the
/// marketplace's 5 s.
pub const MARKETPLACE_TIMEOUT: Duration = Duration::from_millis(1500);

/// Counts of the query-order calls serve made during `newInstance`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OrderQueries {
    /// Calls made.
    pub asked: u64,
    /// Answers consistent with the notification.
    pub confirmed: u64,
    /// Test notifications whose order the marketplace does not know (accepted).
    pub unknown_test_orders: u64,
    /// No answer, a refusal or a mismatch (answered `000005`).
    pub failed: u64,
}

/// The clock requests are checked against.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Clock {
    /// The system clock (the default, and the only one for production).
    System,
    /// A fixed instant, Unix ms (`--now-ms`): rehearsing captured or
    /// generated traffic such as `vectors/answers.jsonl`.
    Fixed(u64),
}

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
    /// The V1 freshness window (SCHEMES.md S1.8: ±5 min by default;
    /// `--v1-window 0` is the named `Window::Unchecked`). V2 and S2b keep
    /// the core's default ±60 s.
    pub v1_window: Window,
    /// `--now-ms` (default: the system clock).
    pub clock: Clock,
    /// `--replay-store`.
    pub replay: replay::Choice,
    /// `--replay-capacity` (the memory store's).
    pub replay_capacity: usize,
    /// `--max-connections`.
    pub max_connections: usize,
    /// `--marketplace-endpoint` with `--marketplace-ak` / `--marketplace-sk-file`:
    /// the open-API client that queries each new order (`None`: no query).
    pub marketplace: Option<crate::api::Client>,
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
            v1_window: Policy::default().v1_window,
            clock: Clock::System,
            replay: replay::Choice::Sqlite,
            replay_capacity: DEFAULT_REPLAY_CAPACITY,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            marketplace: None,
        }
    }
}

/// The query-order client of `serve --marketplace-endpoint`: one attempt
/// of [`MARKETPLACE_TIMEOUT`], no retry.
pub fn marketplace_client(endpoint: &str, ak: Secret, sk: Secret) -> crate::api::Client {
    crate::api::Client {
        ak,
        sk,
        endpoint: endpoint.to_string(),
        timeout: MARKETPLACE_TIMEOUT,
        retries: 0,
        backoff: Duration::from_millis(0),
        explain: false,
    }
}

/// The endpoint's state.
pub struct App {
    /// The keyed context over `--key` first, then the `--accept-key-file`
    /// keys: verifies every request, and answers it with the key that
    /// verified it (`Merchant::{answer_code_for, sign_answer_for,
    /// encrypt_for, refusal_for}`; SCHEMES.md §S3 "Key rotation").
    merchant: Merchant<MAX_KEYS>,
    replay: Box<dyn Backend>,
    store: parking_lot::Mutex<Store>,
    base_url: String,
    log: bool,
    log_format: LogFormat,
    clock: Clock,
    /// The random source of instance ids and credentials (the OS's; tests
    /// inject a failing one).
    fill: FillRandom,
    /// Large bodies' shared budget, in KiB.
    budget: tokio::sync::Semaphore,
    max_connections: usize,
    /// The query-order client (`--marketplace-endpoint`).
    marketplace: Option<crate::api::Client>,
    queries: parking_lot::Mutex<OrderQueries>,
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
    if keys.len() > MAX_KEYS {
        return Err(CliError::usage(format!("at most {MAX_KEYS} access keys (--key and --accept-key-file)")));
    }
    let exposed: Vec<&str> = keys.iter().map(Secret::expose).collect();
    let bad_key = |e: Error| CliError::usage(format!("unusable access key: {e}"));
    let policy = Policy { v1_window: opts.v1_window, ..Policy::default() };
    let merchant = Merchant::new(&exposed, policy).map_err(bad_key)?;
    let app = App {
        merchant,
        replay,
        store: parking_lot::Mutex::new(store),
        base_url: format!("http://{local}"),
        log: opts.log,
        log_format: opts.log_format,
        clock: opts.clock,
        fill: os_random,
        budget: tokio::sync::Semaphore::new(LARGE_BODY_BUDGET / KIB),
        max_connections: opts.max_connections,
        marketplace: opts.marketplace,
        queries: parking_lot::Mutex::new(OrderQueries::default()),
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
    pub app: Arc<App>,
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
    let app = server.app.clone();
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
    Ok(Handle { addr: local, app, stop: Some(tx), thread: Some(thread) })
}

/// What an answer carries: a bare code (the core writes it, with its fixed
/// `resultMsg`), the core's refusal of a request, or a JSON body (success
/// answers with data, `/healthz`).
enum Reply {
    Code(ResultCode),
    /// Signed by `Merchant::refusal_for`: with the verifying key when the
    /// request was refused after authentication, else key 0.
    Refusal(Rejection),
    Json(Value),
}

/// What a request came to.
struct Outcome {
    /// The key that verified the request (index into the keys; 0 before
    /// authentication): it signs the answer.
    key: usize,
    scheme: &'static str,
    activity: &'static str,
    reply: Reply,
    /// For the log: why (an error code), never a secret.
    note: String,
    /// For the log: what the marketplace said of the order (`marketplaceOrder`).
    order: Option<Value>,
}

impl Outcome {
    fn json(activity: &'static str, body: Value) -> Self {
        Outcome { key: 0, scheme: "-", activity, reply: Reply::Json(body), note: String::new(), order: None }
    }
    fn code(activity: &'static str, code: ResultCode, note: impl Into<String>) -> Self {
        Outcome { key: 0, scheme: "-", activity, reply: Reply::Code(code), note: note.into(), order: None }
    }
    /// A handler's own failure (its instance store, its random source): `000005`.
    fn internal(activity: &'static str, note: impl Into<String>) -> Self {
        Outcome::code(activity, ResultCode::MerchantFailure, note)
    }
    /// A request the core refused, with its code (SCHEMES.md "Which code a
    /// refusal gets"); the replay store's reason, if it failed, goes to the
    /// log only.
    fn rejected(r: &Rejection, store: &replay::Shared<'_>) -> Self {
        let e = r.error();
        let note = match &store.failure {
            Some(why) => format!("{}: {why}", e.code()),
            None => e.code().to_string(),
        };
        Outcome {
            key: r.key_index().unwrap_or(0),
            scheme: r.protocol().map_or("-", |p| p.as_str()),
            activity: "-",
            reply: Reply::Refusal(*r),
            note,
            order: None,
        }
    }
    /// The answer's `resultCode` (for the log and the tests).
    fn result_code(&self) -> &str {
        match &self.reply {
            Reply::Code(c) => c.as_str(),
            Reply::Refusal(r) => r.result_code().as_str(),
            Reply::Json(v) => v.get("resultCode").and_then(Value::as_str).unwrap_or("?"),
        }
    }
}

/// A success answer with data: `resultCode` and `resultMsg` from the core.
fn success(extra: Value) -> Value {
    let mut v = json!({ "resultCode": ResultCode::Success.as_str(), "resultMsg": ResultCode::Success.message() });
    if let (Some(m), Value::Object(x)) = (v.as_object_mut(), extra) {
        m.extend(x);
    }
    v
}

async fn fallback(State(app): State<Arc<App>>, req: Request) -> Response {
    let start = Instant::now();
    let o = Outcome::code("-", ResultCode::BadRequest, "UNKNOWN_PATH");
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
        let o = Outcome::code("healthz", ResultCode::BadRequest, "METHOD");
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
    let mut o = Outcome::json("healthz", body);
    if !ok {
        o.note = format!("instances: {}; replay: {}", show(&instances), show(&replays));
    }
    let status = if ok { StatusCode::OK } else { StatusCode::SERVICE_UNAVAILABLE };
    app.respond(status, &method, "/healthz", o, start)
}

/// The bytes a body may hold, as declared (`None`: chunked, or unusable).
fn declared_len(headers: &HeaderMap) -> Option<usize> {
    headers.get(axum::http::header::CONTENT_LENGTH)?.to_str().ok()?.trim().parse().ok()
}

/// `/produce`, every method: the body is read (bounded), then everything
/// is the core's ([`App::handle`]).
async fn produce(State(app): State<Arc<App>>, req: Request) -> Response {
    let start = Instant::now();
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or("").to_string();
    let headers = req.headers().clone();
    let declared = declared_len(&headers);
    // A large or chunked body draws on the shared budget first (a GET
    // without a body needs none).
    let chunked = headers.contains_key(axum::http::header::TRANSFER_ENCODING);
    let need = match declared {
        Some(n) if n <= SMALL_BODY => 0,
        Some(n) => n.min(MAX_BODY + 1).div_ceil(KIB),
        None if !chunked => 0,
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
    let outcome = match permit {
        Err(()) => Outcome::internal("-", "BODY_BUDGET"),
        Ok(permit) => {
            let read = tokio::time::timeout(BODY_TIMEOUT, axum::body::to_bytes(req.into_body(), MAX_BODY)).await;
            match read {
                Ok(Ok(body)) => {
                    drop(permit);
                    let a = app.clone();
                    let m = method.clone();
                    tokio::task::spawn_blocking(move || a.handle(m.as_str(), &headers, &query, &body))
                        .await
                        .unwrap_or_else(|_| Outcome::internal("-", "PANIC"))
                }
                // A body over MAX_NOTIFICATION_BODY is refused unread, as the
                // core refuses it (SCHEMES.md §Answers: 000002); a body that
                // cannot be read (a broken chunked encoding, or not sent in
                // time) is wrong before authentication: 000001.
                Ok(Err(e)) if is_length_limit(&e) => {
                    let e = Error::InputTooLarge { limit: MAX_BODY };
                    Outcome::code("-", result_code(&e, Stage::Authenticated), e.code())
                }
                Ok(Err(_)) => {
                    let e = Error::MalformedEncoding("body unreadable");
                    Outcome::code("-", result_code(&e, Stage::BeforeAuthentication), "BODY")
                }
                Err(_) => {
                    let e = Error::MalformedEncoding("body not received in time");
                    Outcome::code("-", result_code(&e, Stage::BeforeAuthentication), "BODY_TIMEOUT")
                }
            }
        }
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

/// A field of a verified request, trimmed, `None` when blank.
fn field(v: &Verified<'_>, name: &str) -> Option<String> {
    v.get(name).map(str::trim).filter(|s| !s.is_empty()).map(String::from)
}

impl App {
    fn now(&self) -> u64 {
        match self.clock {
            Clock::System => now_ms(),
            Clock::Fixed(ms) => ms,
        }
    }

    fn respond(&self, status: StatusCode, method: &Method, path: &str, o: Outcome, start: Instant) -> Response {
        // Signed with the key that verified the request (`o.key`; 0 before
        // authentication).
        let m = &self.merchant;
        let mut buf = [0u8; koosign::REFUSAL_MAX_LEN];
        let json;
        let signed = match &o.reply {
            Reply::Code(code) => m.answer_code_for(o.key, *code, &mut buf),
            Reply::Refusal(r) => m.refusal_for(r, &mut buf),
            Reply::Json(v) => {
                json = serde_json::to_vec(v).unwrap_or_default();
                m.sign_answer_for(o.key, &json)
            }
        };
        let (bytes, sign) = match signed {
            Ok(a) => (a.body().as_bytes().to_vec(), Some(a.body_sign().to_string())),
            Err(e) => {
                self.event("sign_failed", &format!("koosign serve: cannot sign a response: {}", e.code()));
                (Vec::new(), None)
            }
        };
        let mut resp = (status, Bytes::from(bytes)).into_response();
        let h = resp.headers_mut();
        h.insert(axum::http::header::CONTENT_TYPE, HeaderValue::from_static("application/json;charset=UTF-8"));
        if let Some(v) = sign.and_then(|v| HeaderValue::from_str(&v).ok()) {
            h.insert(BODY_SIGN_HEADER, v);
        }
        if self.log {
            let code = o.result_code();
            let ms = start.elapsed().as_millis();
            match self.log_format {
                LogFormat::Text => {
                    let note = if o.note.is_empty() { String::new() } else { format!(" ({})", o.note) };
                    let order = o.order.as_ref().map_or(String::new(), |v| format!(" marketplaceOrder={v}"));
                    eprintln!("{} {method} {path} scheme={} activity={} -> {code}{note}{order} {ms}ms", iso_now(), o.scheme, o.activity);
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
                    let mut line = line;
                    if let (Some(l), Some(order)) = (line.as_object_mut(), &o.order) {
                        l.insert("marketplaceOrder".into(), order.clone());
                    }
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

    /// One request to `/produce`: verified by the core's context
    /// (detection, signature, window, replay, notification, activity), then
    /// acted on in the instance store.
    fn handle(&self, method: &str, headers: &HeaderMap, query: &str, body: &[u8]) -> Outcome {
        let deadline = Instant::now() + STORE_DEADLINE;
        let hs: Vec<(&str, &str)> = headers.iter().filter_map(|(n, v)| v.to_str().ok().map(|v| (n.as_str(), v))).collect();
        let req = koosign::merchant::Request { method, query, headers: &hs, body };
        let mut scratch = vec![0u8; koosign::merchant::scratch_len(&req)];
        let mut store = replay::Shared::new(&*self.replay, deadline);
        let verified = self.merchant.verify(&req, self.now(), Replay::Store(&mut store), &mut scratch);
        let v = match verified {
            Ok(v) => v,
            Err(r) => return Outcome::rejected(&r, &store),
        };
        let mut o = self.act(&v, deadline);
        o.key = v.key_index();
        o.scheme = v.protocol().as_str();
        o.activity = v.activity().as_str();
        o
    }

    /// The instance store's part of each activity (the request verified and
    /// its fields validated by the core).
    fn act(&self, v: &Verified<'_>, deadline: Instant) -> Outcome {
        let a = v.activity().as_str();
        let label = v.protocol().as_str();
        let id = field(v, "instanceId").unwrap_or_default();
        let key = v.key_index();
        match v.activity() {
            Activity::NewInstance | Activity::V1NewInstance => {
                // Inbound encrypted fields (S4, V1): their key size is not
                // documented; the core tries both.
                for name in ["mobilePhone", "email"] {
                    if let Some(wire) = v.get(name) {
                        let mut out = vec![0u8; wire.len()];
                        if let Err(e) = v.decrypt(wire, DecryptMode::Auto, &mut out) {
                            return Outcome::code(a, result_code(&e, Stage::Authenticated), format!("{}: {name}", e.code()));
                        }
                    }
                }
                let order = match &self.marketplace {
                    Some(client) => match self.check_order(client, v) {
                        Ok(order) => Some(order),
                        Err(refused) => return *refused,
                    },
                    None => None,
                };
                let o = NewOrder {
                    order_id: &field(v, "orderId").unwrap_or_default(),
                    order_line_id: &field(v, "orderLineId").unwrap_or_default(),
                    business_id: &field(v, "businessId").unwrap_or_default(),
                    product_id: &field(v, "productId").unwrap_or_default(),
                    test_flag: &field(v, "testFlag").unwrap_or_default(),
                };
                let mut out = self.new_instance(label, &o, key, deadline);
                out.order = order;
                out
            }
            Activity::QueryInstance => self.query_instances(&id, deadline),
            Activity::RefreshInstance | Activity::V1RefreshInstance => {
                let detail = field(v, "scene").unwrap_or_default();
                self.update(a, &id, None, field(v, "expireTime").as_deref(), &detail, false, deadline)
            }
            Activity::UpdateInstanceStatus => {
                // The core checked status is FREEZE or UNFREEZE.
                let status = if v.get("status") == Some("FREEZE") { "FROZEN" } else { "ACTIVE" };
                self.update(a, &id, Some(status), None, status, false, deadline)
            }
            Activity::UpgradeInstance | Activity::V1Upgrade => {
                self.update(a, &id, None, None, &field(v, "productId").unwrap_or_default(), false, deadline)
            }
            Activity::ReleaseInstance | Activity::V1ReleaseInstance => {
                self.update(a, &id, Some("RELEASED"), None, "", true, deadline)
            }
            Activity::V1ExpireInstance => self.update(a, &id, Some("EXPIRED"), None, "", false, deadline),
            Activity::V1InstanceStatus => self.update(a, &id, None, None, "", false, deadline),
            Activity::V1GetLicense | Activity::V1ReleaseLicense => {
                let order = field(v, "orderId").unwrap_or_default();
                let Some(store) = self.store_until(deadline) else { return Outcome::internal(a, "STORE: sqlite busy (in this process)") };
                let found = store.by_order_id(&order);
                drop(store);
                match found {
                    Ok(Some(i)) => self.update(a, &i.instance_id, None, None, "", v.activity() == Activity::V1ReleaseLicense, deadline),
                    Ok(None) => Outcome::code(a, ResultCode::UnknownInstance, "NOT_FOUND"),
                    Err(e) => Outcome::internal(a, format!("STORE: {}", replay::sqlite_reason(&e))),
                }
            }
            // An activity the core learns later: not acted on.
            _ => Outcome::code(a, ResultCode::BadRequest, "UNHANDLED_ACTIVITY"),
        }
    }

    /// The query-order calls made so far (`--marketplace-endpoint`).
    pub fn order_queries(&self) -> OrderQueries {
        *self.queries.lock()
    }

    /// Asks the marketplace for the notified order and checks its answer
    /// against the notification (module doc): `Ok` with what to log, or
    /// the signed `000005` (nothing created).
    fn check_order(&self, client: &crate::api::Client, v: &Verified<'_>) -> Result<Value, Box<Outcome>> {
        let a = "newInstance";
        let order_id = field(v, "orderId").unwrap_or_default();
        let line_id = field(v, "orderLineId");
        let test = v.get("testFlag").map(str::trim) == Some("1");
        let answer = client.query_order(&order_id, line_id.as_deref());
        let mut q = self.queries.lock();
        q.asked += 1;
        let answer = match answer {
            Ok(answer) => answer,
            Err(crate::api::ApiError::Refused { code, .. }) if test && code == "MKT.0100" => {
                q.unknown_test_orders += 1;
                return Ok(json!({ "orderId": order_id, "found": false, "note": "test order unknown to the marketplace (MKT.0100): accepted" }));
            }
            Err(e) => {
                q.failed += 1;
                let mut o = Outcome::internal(a, format!("MARKETPLACE: {e}"));
                o.order = Some(json!({ "orderId": order_id, "found": false }));
                return Err(Box::new(o));
            }
        };
        let info = &answer["orderInfo"];
        let lines = info["orderLine"].as_array().map(Vec::as_slice).unwrap_or(&[]);
        let line = lines.iter().find(|l| line_id.as_deref().is_none_or(|want| l["orderLineId"].as_str().is_some_and(|x| x.eq_ignore_ascii_case(want))));
        let text = |x: Option<&Value>| x.and_then(Value::as_str).unwrap_or("").to_string();
        let got = json!({
            "orderId": text(info.get("orderId")),
            "orderLineId": text(line.and_then(|l| l.get("orderLineId"))),
            "productId": text(line.and_then(|l| l.pointer("/productInfo/0/productId"))),
            "expireTime": text(line.and_then(|l| l.get("expireTime"))),
            "found": true,
        });
        // The notification's fields against the marketplace's: orderId and
        // the line always; productId and expireTime when both give them.
        let mut mismatch = Vec::new();
        if !got["orderId"].as_str().unwrap_or("").eq_ignore_ascii_case(&order_id) {
            mismatch.push("orderId");
        }
        if line.is_none() {
            mismatch.push("orderLineId");
        }
        for name in ["productId", "expireTime"] {
            let theirs = got[name].as_str().unwrap_or("");
            if let Some(ours) = field(v, name) {
                if !theirs.is_empty() && theirs != ours {
                    mismatch.push(name);
                }
            }
        }
        if !mismatch.is_empty() {
            q.failed += 1;
            let mut o = Outcome::internal(a, format!("MARKETPLACE: the order differs in {}", mismatch.join(", ")));
            o.order = Some(got);
            return Err(Box::new(o));
        }
        q.confirmed += 1;
        Ok(got)
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
        self.merchant.encrypt_for(key, plaintext, EncryptType::Aes256, &mut getrandom::SysRng, &mut out).map(String::from)
    }

    /// `key`: the key that verified the request, which encrypts a new
    /// instance's credentials. The same orderId + orderLineId gives the
    /// same instance (SCHEMES.md §Notifications).
    fn new_instance(&self, label: &'static str, o: &NewOrder<'_>, key: usize, deadline: Instant) -> Outcome {
        let a = "newInstance";
        // The instance store's columns.
        if o.order_id.len() > 128 || o.order_line_id.len() > 128 {
            return Outcome::code(a, ResultCode::BadRequest, "TOO_LONG");
        }
        let Some(store) = self.store_until(deadline) else { return Outcome::internal(a, "STORE: sqlite busy (in this process)") };
        let existing = match store.by_order(o.order_id, o.order_line_id) {
            Ok(e) => e,
            Err(e) => return Outcome::internal(a, format!("STORE: {}", replay::sqlite_reason(&e))),
        };
        let inst = match existing {
            Some(i) => i,
            None => {
                // Identifiers and credentials come from the OS random source
                // or not at all (issue 11 finding 9): its failure is a signed 000005.
                let random = |n, alphabet| random_text_with(self.fill, n, alphabet);
                let (Ok(id), Ok(user), Ok(password)) = (random(32, HEX_LOWER), random(8, HEX_LOWER), random(16, ALNUM)) else {
                    return Outcome::internal(a, Error::RandomSource.code());
                };
                let id = format!("ins-{id}");
                let user = format!("user_{user}");
                let (user_w, pass_w) = match (self.encrypt(key, &user), self.encrypt(key, &password)) {
                    (Ok(u), Ok(p)) => (u, p),
                    (Err(e), _) | (_, Err(e)) => return Outcome::code(a, result_code(&e, Stage::Authenticated), e.code()),
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
                    return Outcome::internal(a, format!("STORE: {}", replay::sqlite_reason(&e)));
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
        let mut out = Outcome::json(
            a,
            success(json!({
                "instanceId": inst.instance_id,
                "encryptType": inst.encrypt_type,
                "appInfo": Self::app_info(&inst),
            })),
        );
        let size = size_name(EncryptType::parse(&inst.encrypt_type).unwrap_or(EncryptType::Aes256));
        out.note = format!("instance {} ({size})", inst.instance_id);
        out
    }

    /// queryInstance: the known instances among `ids` (the core checked
    /// there are 1 to 100); none known is `000003`.
    fn query_instances(&self, ids: &str, deadline: Instant) -> Outcome {
        let a = "queryInstance";
        let Some(store) = self.store_until(deadline) else { return Outcome::internal(a, "STORE: sqlite busy (in this process)") };
        let mut info = Vec::new();
        for id in ids.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            match store.get(id) {
                Ok(Some(i)) => info.push(json!({ "instanceId": i.instance_id, "appInfo": Self::app_info(&i) })),
                Ok(None) => {}
                Err(e) => return Outcome::internal(a, format!("STORE: {}", replay::sqlite_reason(&e))),
            }
        }
        if info.is_empty() {
            return Outcome::code(a, ResultCode::UnknownInstance, "NOT_FOUND");
        }
        Outcome::json(a, success(json!({ "encryptType": EncryptType::Aes256.as_str(), "info": info })))
    }

    /// Updates an instance (or, with no status and no expiry, records the
    /// event only). `idempotent_release`: a released instance may be
    /// released again (success); other activities on a released instance
    /// answer "not found".
    #[allow(clippy::too_many_arguments)]
    fn update(
        &self,
        activity: &'static str,
        id: &str,
        status: Option<&str>,
        expire: Option<&str>,
        detail: &str,
        idempotent_release: bool,
        deadline: Instant,
    ) -> Outcome {
        let Some(store) = self.store_until(deadline) else {
            return Outcome::internal(activity, "STORE: sqlite busy (in this process)");
        };
        let inst = match store.get(id) {
            Ok(Some(i)) => i,
            Ok(None) => return Outcome::code(activity, ResultCode::UnknownInstance, "NOT_FOUND"),
            Err(e) => return Outcome::internal(activity, format!("STORE: {}", replay::sqlite_reason(&e))),
        };
        if inst.status == "RELEASED" && !idempotent_release {
            return Outcome::code(activity, ResultCode::UnknownInstance, "RELEASED");
        }
        if let Err(e) = store.update(id, activity, status, expire, detail) {
            return Outcome::internal(activity, format!("STORE: {}", replay::sqlite_reason(&e)));
        }
        Outcome::code(activity, ResultCode::Success, "")
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
        let sig = koosign::sign_v2(koosign::V2Scheme::Query, body, KEY, &nonce, &ts).unwrap();
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
        let o = s.app.handle("POST", &HeaderMap::new(), &signed_query(body), body);
        assert_eq!(o.result_code(), "000005");
        assert_eq!(o.note, "RANDOM_SOURCE");
        assert!(matches!(o.reply, Reply::Code(_)), "no appInfo, no instanceId");
        let (sign, bytes) = wire(&s.app, o);
        assert_eq!(koosign::verify_body_sign(&sign, &bytes, &[KEY]).map(|v| v.key_index()), Ok(0));
        assert_eq!(serde_json::from_slice::<Value>(&bytes).unwrap()["resultCode"], "000005");
        assert!(s.app.lock_store().by_order("CSRNG", "CSRNG-000001").unwrap().is_none(), "nothing stored");
        // The source back: the same order is created now.
        Arc::get_mut(&mut s.app).unwrap().fill = os_random;
        let o = s.app.handle("POST", &HeaderMap::new(), &signed_query(body), body);
        assert_eq!(o.result_code(), "000000");
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
                let o = app.handle("POST", &HeaderMap::new(), &query, &body);
                let _ = tx.send((o.result_code().to_string(), o.note));
            });
            rx
        };
        let refused = post(bad);
        let (code, note) = refused.recv_timeout(Duration::from_secs(120)).expect("verification waited for the nonce lock");
        assert_eq!((code.as_str(), note.as_str()), ("000001", "SIGNATURE_MISMATCH"));
        let accepted = post(good);
        drop(held);
        let (code, _) = accepted.recv_timeout(Duration::from_secs(120)).expect("answered");
        assert_eq!(code, "000003", "authenticated, instance unknown");
    }
}
