//! The `koosign` command-line tool.
//!
//! Every signature, canonical string, key derivation and cipher is the core
//! crate's (`koosign`); this crate only reads input, translates types and
//! errors, and talks HTTP. Exit codes: 0 success / valid, 1 a check failed,
//! 2 bad usage or bad input.

mod api;
mod audit;
mod client;
mod conformance;
mod contract;
mod diagnose;
mod marketplace;
mod replay;
mod serve;
mod simulate;
mod store;
mod tools;
mod util;

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use util::{read_body, resolve_secret, CliError, CliResult, KeyArgs, Secret};

#[derive(Parser)]
#[command(name = "koosign", version, about = "KooGallery merchant-interface signing, verification and testing")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run JSON Lines conformance vectors (the format of vectors/) through the core.
    Conformance {
        /// Vector files [default: notifications.jsonl and apig.jsonl of
        /// $KOOSIGN_VECTORS, else of the repository's vectors/].
        files: Vec<PathBuf>,
        /// Print every failure, not just the first five per kind.
        #[arg(long)]
        verbose: bool,
    },
    /// Verify a notification or a response (exit 0 valid, 1 invalid, 2 bad input).
    Verify {
        #[command(subcommand)]
        which: VerifyCmd,
    },
    /// Print the `Body-Sign` header line for a response body (S3).
    SignBody {
        #[command(flatten)]
        key: KeyArgs,
        /// The exact response body: a file, or - for standard input.
        #[arg(allow_hyphen_values = true)]
        body: String,
        /// Print each intermediate to stderr.
        #[arg(long)]
        explain: bool,
    },
    /// Encrypt a field (appInfo userName/password) as `iv + b64(AES-CBC)` (S4).
    Encrypt {
        #[command(flatten)]
        key: KeyArgs,
        /// encryptType: 1 = AES-256, 2 = AES-128.
        #[arg(long = "type", value_name = "1|2", value_parser = ["1", "2"])]
        ty: String,
        /// A fixed IV (16 ASCII letters or digits) instead of a random one, for reproducible output.
        #[arg(long)]
        iv: Option<String>,
        /// Print each intermediate to stderr.
        #[arg(long)]
        explain: bool,
        /// The text to encrypt (- reads standard input, one trailing newline removed).
        #[arg(allow_hyphen_values = true)]
        text: String,
    },
    /// Decrypt a field (S4).
    Decrypt {
        #[command(flatten)]
        key: KeyArgs,
        /// 1 = AES-256, 2 = AES-128, auto = try 256 then 128.
        #[arg(long = "type", value_name = "1|2|auto", value_parser = ["1", "2", "auto"])]
        ty: String,
        /// Print each intermediate to stderr.
        #[arg(long)]
        explain: bool,
        /// The wire string `iv + base64`.
        #[arg(allow_hyphen_values = true)]
        wire: String,
    },
    /// Huawei Cloud open-API signing (SDK-HMAC-SHA256, S6).
    Apig {
        #[command(subcommand)]
        which: ApigCmd,
    },
    /// Call the marketplace's open APIs (query order, upload), signed S6.
    Api {
        #[command(subcommand)]
        which: ApiCmd,
    },
    /// Serve the marketplace's open APIs on loopback (query order, upload), verifying S6 as the gateway does.
    Marketplace {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8443", value_name = "HOST:PORT")]
        addr: String,
        #[command(flatten)]
        creds: ApigCreds,
        /// Directory shared with `koosign simulate --data`: its orders are served, uploads recorded here.
        #[arg(long, value_name = "DIR")]
        data: Option<PathBuf>,
        /// No per-request log lines.
        #[arg(long)]
        quiet: bool,
    },
    /// Run a reference production interface at /produce (V2 POST, kit POST, V1 GET).
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8080", value_name = "HOST:PORT")]
        addr: String,
        #[command(flatten)]
        key: KeyArgs,
        /// Directory of the SQLite store (a temporary one when omitted).
        #[arg(long, value_name = "DIR")]
        data: Option<PathBuf>,
        /// Refuse V1 requests whose timeStamp is further than this from now, in
        /// seconds (default ±5 min, SCHEMES.md S1.8); 0 turns the window off.
        /// Each V1 authToken is recorded in the replay store either way.
        #[arg(long, value_name = "SECS", default_value_t = koosign::V1_DEFAULT_WINDOW_MS / 1000)]
        v1_window: u64,
        /// No per-request log lines.
        #[arg(long)]
        quiet: bool,
        /// Log lines as text or as one JSON object per line (no secret either way).
        #[arg(long, value_enum, default_value = "text")]
        log_format: serve::LogFormat,
        /// Where nonces and V1 authTokens are remembered until they expire:
        /// `sqlite` (a table of the --data database; survives restarts; one
        /// machine), `memory` (this process only; forgotten on restart) or
        /// `redis://HOST:PORT[/DB]` (several processes or machines). A store
        /// that cannot answer refuses the request with a signed 000005.
        #[arg(long, value_name = "sqlite|memory|redis://…", default_value = "sqlite")]
        replay_store: replay::Choice,
        /// Entries the memory replay store holds (each until its timestamp +
        /// window); when all are unexpired, requests get 000005.
        #[arg(long, value_name = "N", default_value_t = serve::DEFAULT_REPLAY_CAPACITY)]
        replay_capacity: usize,
        /// Also accept requests signed with the access key in this file (repeat
        /// for several), for a key rotation with no downtime: each answer is
        /// signed, and new credentials encrypted, with the key that verified
        /// its request; refusals before authentication with --key.
        #[arg(long, value_name = "PATH")]
        accept_key_file: Vec<PathBuf>,
        /// Connections served at once; more wait in the listen backlog.
        #[arg(long, value_name = "N", default_value_t = serve::DEFAULT_MAX_CONNECTIONS)]
        max_connections: usize,
        /// Rehearsals only: check timestamps against this fixed instant (Unix
        /// ms) instead of the system clock, to replay captured or generated
        /// traffic (vectors/answers.jsonl). Never in production: every
        /// request is judged at the same instant.
        #[arg(long, value_name = "MS")]
        now_ms: Option<u64>,
        /// On newInstance, query the order from the marketplace's query-order
        /// API at this base URL (e.g. http://127.0.0.1:8443 for `koosign
        /// marketplace`), as a periodic product must, and check it against the
        /// notification; no answer within 1.5 s, a refusal or a mismatch is a
        /// signed 000005 (a test order the marketplace does not know is
        /// accepted and logged). Off unless given; needs --marketplace-ak and
        /// --marketplace-sk-file.
        #[arg(long, value_name = "URL", requires_all = ["marketplace_ak", "marketplace_sk_file"])]
        marketplace_endpoint: Option<String>,
        /// The open-API access key ID for --marketplace-endpoint.
        #[arg(long, value_name = "AK", requires = "marketplace_endpoint", allow_hyphen_values = true)]
        marketplace_ak: Option<String>,
        /// The file holding the open-API secret key for --marketplace-endpoint (never printed).
        #[arg(long, value_name = "PATH", requires = "marketplace_endpoint")]
        marketplace_sk_file: Option<PathBuf>,
    },
    /// Act as the marketplace against a merchant URL and check every answer.
    Simulate {
        /// The merchant's production interface URL, e.g. http://127.0.0.1:8080/produce.
        #[arg(long)]
        url: String,
        #[command(flatten)]
        key: KeyArgs,
        /// Which protocol(s) to run.
        #[arg(long, default_value = "all", value_parser = ["v2", "v1", "kit", "all"])]
        protocol: String,
        /// Print the report as JSON (schema: cli/audit-report.schema.json).
        #[arg(long)]
        json: bool,
        /// Send the audit's hostile requests instead of the lifecycle (with
        /// --lifecycle: after it). Each probe is reported pass, warn or fail;
        /// see cli/README.md.
        #[arg(long)]
        audit: bool,
        /// With --audit: run the lifecycle too, first.
        #[arg(long, requires = "audit")]
        lifecycle: bool,
        /// With --audit: a warning fails the run (exit 1).
        #[arg(long, requires = "audit")]
        strict: bool,
        /// V1 also sends instanceStatus, getLicense and releaseLicense (every
        /// V1 activity; `koosign serve` answers them all).
        #[arg(long)]
        every_activity: bool,
        /// Record the orders sent in DIR/orders.jsonl, for `koosign marketplace --data DIR`.
        #[arg(long, value_name = "DIR")]
        data: Option<PathBuf>,
    },
    /// Start `serve` on a free loopback port and run `simulate --protocol all` against it.
    Demo {
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
        /// Also print the endpoint's per-request log lines.
        #[arg(long)]
        verbose: bool,
    },
}

#[derive(Args)]
struct Common {
    #[command(flatten)]
    key: KeyArgs,
    /// Print each intermediate and, on a mismatch, the likely cause.
    #[arg(long)]
    explain: bool,
    /// Also check the timestamp against this window in seconds (V2 requires 60).
    #[arg(long, value_name = "SECS")]
    window: Option<u64>,
    /// "Now" in Unix milliseconds for the window (default: the clock).
    #[arg(long, value_name = "UNIX_MS")]
    now: Option<u64>,
}

#[derive(Subcommand)]
enum VerifyCmd {
    /// V1 GET notification: authToken over the query (S1).
    V1 {
        #[command(flatten)]
        common: Common,
        /// The full URL or its query string.
        url_or_query: String,
    },
    /// V2 POST notification: signature/timestamp/nonce in the URL over the raw body (S2).
    V2 {
        #[command(flatten)]
        common: Common,
        /// The URL (or query) with signature, timestamp and nonce.
        #[arg(long)]
        url: String,
        /// The exact body: a file, or - for standard input.
        #[arg(long, allow_hyphen_values = true)]
        body: String,
    },
    /// Kit POST notification: x-sign/x-timestamp/x-nonce headers over the raw body (S2b).
    Kit {
        #[command(flatten)]
        common: Common,
        /// A header, `Name: value` (x-sign, x-timestamp, x-nonce); repeat.
        #[arg(short = 'H', long = "header", value_name = "NAME: VALUE")]
        headers: Vec<String>,
        /// The exact body: a file, or - for standard input.
        #[arg(long, allow_hyphen_values = true)]
        body: String,
    },
    /// A merchant's response: the Body-Sign header over the exact bytes (S3) and encryptType vs the ciphertexts (S4).
    Response {
        #[command(flatten)]
        key: KeyArgs,
        /// The Body-Sign header as received, `Body-Sign: sign_type="HMAC-SHA256", signature="…"`.
        #[arg(short = 'H', long = "header", value_name = "NAME: VALUE", required = true)]
        headers: Vec<String>,
        /// The exact response body: a file, or - for standard input.
        #[arg(long, allow_hyphen_values = true)]
        body: String,
        /// The request's timeStamp/timestamp, to recognise a signature made with key + timeStamp.
        #[arg(long, value_name = "TS")]
        timestamp: Vec<String>,
        /// Print each intermediate and, on a mismatch, the likely cause.
        #[arg(long)]
        explain: bool,
    },
}

/// The open-API credentials (AK/SK).
#[derive(Args)]
struct ApigCreds {
    /// The access key ID. Env: KOOSIGN_APIG_AK.
    #[arg(long, allow_hyphen_values = true)]
    ak: Option<String>,
    /// The secret key. Prefer --sk-file or env KOOSIGN_APIG_SK. Never printed.
    #[arg(long, allow_hyphen_values = true, conflicts_with = "sk_file")]
    sk: Option<String>,
    /// Read the secret key from a file.
    #[arg(long, value_name = "PATH")]
    sk_file: Option<PathBuf>,
}

impl ApigCreds {
    fn resolve(&self) -> CliResult<(Secret, Secret)> {
        let ak = resolve_secret("access key ID", self.ak.as_deref(), None, "KOOSIGN_APIG_AK", "--ak", "--ak (no file)")?;
        let sk = resolve_secret("secret key", self.sk.as_deref(), self.sk_file.as_deref(), "KOOSIGN_APIG_SK", "--sk", "--sk-file")?;
        Ok((ak, sk))
    }
}

/// Options every `koosign api` call takes.
#[derive(Args)]
struct ApiCommon {
    #[command(flatten)]
    creds: ApigCreds,
    /// Base URL of the marketplace (e.g. http://127.0.0.1:8443 for `koosign marketplace`).
    #[arg(long, default_value = api::DEFAULT_ENDPOINT, value_name = "URL")]
    endpoint: String,
    /// Timeout of each attempt, in seconds.
    #[arg(long, default_value_t = 10, value_name = "SECS")]
    timeout: u64,
    /// Retries on a timeout, a connection failure or a 5xx answer (never on a 4xx).
    #[arg(long, default_value_t = 2)]
    retries: u32,
    /// Print the answer as JSON (as received).
    #[arg(long)]
    json: bool,
    /// On a signature refusal, print the canonical request and the string to sign.
    #[arg(long)]
    explain: bool,
}

#[derive(Subcommand)]
enum ApiCmd {
    /// GET …/order/query: the order's information.
    QueryOrder {
        #[command(flatten)]
        common: ApiCommon,
        #[arg(long)]
        order_id: String,
        #[arg(long)]
        order_line_id: Option<String>,
    },
    /// POST …/market-event/{event_id}/file: upload a file or a string.
    Upload {
        #[command(flatten)]
        common: ApiCommon,
        #[arg(long)]
        event_id: String,
        /// A file to upload.
        #[arg(long, conflicts_with = "text", required_unless_present = "text")]
        file: Option<PathBuf>,
        /// A string to upload (at most 1024 characters).
        #[arg(long)]
        text: Option<String>,
    },
}

#[derive(Subcommand)]
enum ApigCmd {
    /// Print the headers to add to a request (X-Sdk-Date, Host when absent, Authorization).
    Sign {
        #[command(flatten)]
        creds: ApigCreds,
        /// HTTP method.
        #[arg(short = 'X', long = "method", default_value = "GET")]
        method: String,
        /// A header to send and sign, `Name: value`; repeat.
        #[arg(short = 'H', long = "header", value_name = "NAME: VALUE")]
        headers: Vec<String>,
        /// The exact body: a file, or - for standard input.
        #[arg(long, allow_hyphen_values = true)]
        body: Option<String>,
        /// Use this X-Sdk-Date (yyyyMMddTHHmmssZ) instead of the clock.
        #[arg(long)]
        date: Option<String>,
        /// Compare with this signature (hex) or Authorization value; exit 1 on a difference.
        #[arg(long)]
        expect: Option<String>,
        /// Print each intermediate to stderr.
        #[arg(long)]
        explain: bool,
        /// The full URL.
        url: String,
    },
}

const DEMO_KEY: &str = "koosign-demo-access-key-7f3a";
/// The demo's open-API credentials (its local marketplace's AK/SK).
const DEMO_AK: &str = "koosign-demo-ak";
const DEMO_SK: &str = "koosign-demo-open-api-sk-51c9";

fn run(cli: Cli) -> CliResult<i32> {
    match cli.command {
        Command::Conformance { files, verbose } if files.is_empty() => Ok(conformance::run_default(verbose)),
        Command::Conformance { files, verbose } => Ok(conformance::run(&files, verbose)),
        Command::Verify { which } => match which {
            VerifyCmd::V1 { common, url_or_query } => {
                let key = common.key.resolve()?;
                tools::verify_v1(&key, &url_or_query, common.explain, common.window, common.now)
            }
            VerifyCmd::V2 { common, url, body } => {
                let key = common.key.resolve()?;
                let input = tools::V2Input { scheme: koosign::V2Scheme::Query, url: Some(url), headers: vec![], body: read_body(&body)? };
                tools::verify_v2_cmd(&key, &input, common.explain, common.window, common.now)
            }
            VerifyCmd::Kit { common, headers, body } => {
                let key = common.key.resolve()?;
                let input = tools::V2Input { scheme: koosign::V2Scheme::Headers, url: None, headers, body: read_body(&body)? };
                tools::verify_v2_cmd(&key, &input, common.explain, common.window, common.now)
            }
            VerifyCmd::Response { key, headers, body, timestamp, explain } => {
                let key = key.resolve()?;
                tools::verify_response(&key, &headers, &read_body(&body)?, &timestamp, explain)
            }
        },
        Command::SignBody { key, body, explain } => {
            let key = key.resolve()?;
            tools::sign_body(&key, &read_body(&body)?, explain)
        }
        Command::Encrypt { key, ty, iv, explain, text } => {
            let key = key.resolve()?;
            let text = if text == "-" {
                let b = read_body("-")?;
                let s = String::from_utf8(b).map_err(|_| CliError::usage("standard input is not UTF-8"))?;
                s.strip_suffix('\n').map(|t| t.strip_suffix('\r').unwrap_or(t).to_string()).unwrap_or(s)
            } else {
                text
            };
            tools::encrypt(&key, &ty, &text, iv.as_deref(), explain)
        }
        Command::Decrypt { key, ty, explain, wire } => {
            let key = key.resolve()?;
            tools::decrypt(&key, &ty, wire.trim(), explain)
        }
        Command::Apig { which: ApigCmd::Sign { creds, method, headers, body, date, expect, explain, url } } => {
            let (ak, sk) = creds.resolve()?;
            let body = match body {
                Some(b) => read_body(&b)?,
                None => Vec::new(),
            };
            let input = tools::ApigInput { method: &method, url: &url, headers: &headers, body, date: date.as_deref(), expect: expect.as_deref() };
            tools::apig_sign(&ak, &sk, &input, explain)
        }
        Command::Serve {
            addr,
            key,
            data,
            v1_window,
            quiet,
            log_format,
            replay_store,
            replay_capacity,
            accept_key_file,
            max_connections,
            now_ms,
            marketplace_endpoint,
            marketplace_ak,
            marketplace_sk_file,
        } => {
            let key = key.resolve()?;
            let accept_keys = accept_key_file
                .iter()
                .map(|p| util::resolve_secret("access key", None, Some(p), util::KEY_ENV, "--key", "--accept-key-file"))
                .collect::<CliResult<Vec<_>>>()?;
            let v1_window = match v1_window {
                0 => koosign::merchant::Window::Unchecked,
                secs => koosign::merchant::Window::checked(
                    secs.checked_mul(1000).ok_or_else(|| CliError::usage("--v1-window is too large"))?,
                ),
            };
            let clock = now_ms.map_or(serve::Clock::System, serve::Clock::Fixed);
            let marketplace = match marketplace_endpoint {
                Some(endpoint) => {
                    let ak = util::resolve_secret("access key ID", marketplace_ak.as_deref(), None, "KOOSIGN_APIG_AK", "--marketplace-ak", "--marketplace-ak (no file)")?;
                    let sk = util::resolve_secret("secret key", None, marketplace_sk_file.as_deref(), "KOOSIGN_APIG_SK", "--marketplace-sk-file", "--marketplace-sk-file")?;
                    Some(serve::marketplace_client(&endpoint, ak, sk))
                }
                None => None,
            };
            let opts = serve::ServeOptions {
                marketplace,
                data,
                log: !quiet,
                log_format,
                v1_window,
                clock,
                replay: replay_store,
                replay_capacity,
                accept_keys,
                max_connections,
                ..serve::ServeOptions::new(key)
            };
            serve::command(&addr, opts)
        }
        Command::Simulate { url, key, protocol, json, audit, lifecycle, strict, data, every_activity } => {
            let key = key.resolve()?;
            let target = client::Target::parse(&url).map_err(CliError::usage)?;
            let protos = protocols(&protocol);
            if !audit {
                let report = simulate::run_with_data(&target, &key, &protos, data.as_deref(), every_activity);
                return print_report(&report, json);
            }
            let life = lifecycle.then(|| simulate::run_with_data(&target, &key, &protos, data.as_deref(), every_activity));
            let report = audit::run(&target, &key, &protos, strict);
            print_audit(life.as_ref(), &report, json)
        }
        Command::Demo { json, verbose } => demo(json, verbose),
        Command::Marketplace { addr, creds, data, quiet } => {
            let (ak, sk) = creds.resolve()?;
            marketplace::command(&addr, marketplace::Options { ak, sk, data, log: !quiet })
        }
        Command::Api { which } => api_command(which),
    }
}

fn protocols(p: &str) -> Vec<simulate::Proto> {
    use simulate::Proto::*;
    match p {
        "v2" => vec![V2],
        "v1" => vec![V1],
        "kit" => vec![Kit],
        _ => vec![V2, V1, Kit],
    }
}

fn print_report(report: &simulate::Report, json: bool) -> CliResult<i32> {
    if json {
        let text = serde_json::to_string_pretty(report).map_err(|e| CliError::fail(e.to_string()))?;
        use std::io::Write;
        let _ = writeln!(std::io::stdout().lock(), "{text}");
    } else {
        report.print_table();
    }
    Ok(report.exit_code())
}

/// The audit's report, after the lifecycle's when it ran. As JSON: one
/// object, the lifecycle's members (when it ran) and `audit`.
fn print_audit(life: Option<&simulate::Report>, report: &audit::AuditReport, json: bool) -> CliResult<i32> {
    let life_code = life.map_or(util::EXIT_OK, simulate::Report::exit_code);
    if json {
        let mut v = match life {
            Some(l) => serde_json::to_value(l),
            None => Ok(serde_json::json!({ "url": report.url, "protocols": report.protocols })),
        }
        .map_err(|e| CliError::fail(e.to_string()))?;
        let a = serde_json::to_value(report).map_err(|e| CliError::fail(e.to_string()))?;
        if let Some(obj) = v.as_object_mut() {
            obj.insert("audit".into(), a);
        }
        let text = serde_json::to_string_pretty(&v).map_err(|e| CliError::fail(e.to_string()))?;
        use std::io::Write;
        let _ = writeln!(std::io::stdout().lock(), "{text}");
    } else {
        if let Some(l) = life {
            l.print_table();
            println!();
        }
        report.print_table();
    }
    Ok(life_code.max(report.exit_code()))
}

/// `koosign marketplace` on a background thread (for `demo`): its address
/// and what stops it.
fn spawn_marketplace(opts: marketplace::Options) -> CliResult<(std::net::SocketAddr, impl FnOnce())> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| CliError::fail(format!("cannot listen on loopback: {e}")))?;
    let addr = listener.local_addr().map_err(|e| CliError::fail(e.to_string()))?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(|e| CliError::fail(format!("cannot start the runtime: {e}")))?;
    let (tx, rx) = tokio::sync::oneshot::channel::<()>();
    let thread = std::thread::Builder::new()
        .name("koosign-marketplace".into())
        .spawn(move || {
            let _ = rt.block_on(marketplace::run(listener, opts, async {
                let _ = rx.await;
            }));
            rt.shutdown_timeout(std::time::Duration::from_secs(1));
        })
        .map_err(|e| CliError::fail(format!("cannot start the marketplace thread: {e}")))?;
    Ok((addr, move || {
        let _ = tx.send(());
        let _ = thread.join();
    }))
}

fn demo(json: bool, verbose: bool) -> CliResult<i32> {
    let key = Secret::new("access key", DEMO_KEY.to_string())?;
    let server_key = Secret::new("access key", DEMO_KEY.to_string())?;
    // The local marketplace shares its data with simulate: the orders
    // simulate sends are the ones it answers.
    let data = tempfile::Builder::new()
        .prefix("koosign-demo-")
        .tempdir()
        .map_err(|e| CliError::fail(format!("cannot create a temporary directory: {e}")))?;
    let secret = |what, v: &str| Secret::new(what, v.to_string());
    let market_opts = marketplace::Options {
        ak: secret("access key ID", DEMO_AK)?,
        sk: secret("secret key", DEMO_SK)?,
        data: Some(data.path().to_path_buf()),
        log: verbose,
    };
    let (market, stop_market) = spawn_marketplace(market_opts)?;
    let market_url = format!("http://{market}");
    let client = serve::marketplace_client(&market_url, secret("access key ID", DEMO_AK)?, secret("secret key", DEMO_SK)?);
    let opts = serve::ServeOptions { log: verbose, marketplace: Some(client), ..serve::ServeOptions::new(server_key) };
    let handle = serve::spawn("127.0.0.1:0", opts)?;
    let url = format!("http://{}/produce", handle.addr);
    eprintln!("koosign demo: local marketplace `koosign marketplace` at {market_url} (demo AK/SK, shared data {})", data.path().display());
    eprintln!("koosign demo: reference endpoint `koosign serve` at {url} (temporary store, demo access key; queries each new order from the local marketplace)");
    eprintln!("koosign demo: running `koosign simulate --protocol all --data …` against it");
    let target = client::Target::parse(&url).map_err(CliError::fail)?;
    // The demo's endpoint is `koosign serve`: every activity.
    let report = simulate::run_with_data(&target, &key, &protocols("all"), Some(data.path()), true);
    let code = print_report(&report, json);
    let q = handle.app.order_queries();
    eprintln!(
        "koosign demo: the endpoint queried {} orders from the local marketplace during newInstance: {} confirmed (orderId, orderLineId, productId, expireTime), {} test orders unknown to it (accepted), {} failed",
        q.asked, q.confirmed, q.unknown_test_orders, q.failed
    );
    handle.stop();
    stop_market();
    let code = code?;
    // The marketplace part must have happened, consistently.
    if q.confirmed == 0 || q.failed > 0 {
        eprintln!("koosign demo: the marketplace queries did not all succeed");
        return Ok(code.max(util::EXIT_FAIL));
    }
    Ok(code)
}

fn main() {
    let cli = Cli::parse();
    let code = match run(cli) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("koosign: {e}");
            e.code
        }
    };
    std::process::exit(code);
}

fn api_command(which: ApiCmd) -> CliResult<i32> {
    let common = match &which {
        ApiCmd::QueryOrder { common, .. } | ApiCmd::Upload { common, .. } => common,
    };
    let (ak, sk) = common.creds.resolve()?;
    let client = api::Client {
        ak,
        sk,
        endpoint: common.endpoint.clone(),
        timeout: std::time::Duration::from_secs(common.timeout.max(1)),
        retries: common.retries,
        backoff: std::time::Duration::from_millis(200),
        explain: common.explain,
    };
    let result = match &which {
        ApiCmd::QueryOrder { order_id, order_line_id, .. } => client.query_order(order_id, order_line_id.as_deref()),
        ApiCmd::Upload { event_id, file, text, .. } => match (file, text) {
            (Some(path), _) => {
                let data = std::fs::read(path).map_err(|e| CliError::usage(format!("cannot read {}: {e}", path.display())))?;
                let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("file").to_string();
                client.upload(event_id, api::Payload::File { name: &name, data: &data })
            }
            (None, Some(t)) => client.upload(event_id, api::Payload::Text(t)),
            (None, None) => return Err(CliError::usage("give --file or --text")),
        },
    };
    match result {
        Ok(v) => {
            if common.json {
                println!("{v}");
            } else if let Some(info) = v.get("orderInfo") {
                println!("{}", serde_json::to_string_pretty(info).unwrap_or_default());
            } else {
                println!("{}", v.get("error_msg").and_then(|m| m.as_str()).unwrap_or("Success"));
            }
            Ok(util::EXIT_OK)
        }
        Err(e) => {
            if common.json {
                let (status, code, message) = match &e {
                    api::ApiError::Refused { status, code, message } => (*status, code.clone(), message.clone()),
                    other => (0, String::new(), other.to_string()),
                };
                println!("{}", serde_json::json!({ "error": { "status": status, "code": code, "message": message } }));
            }
            eprintln!("koosign: {e}");
            Ok(util::EXIT_FAIL)
        }
    }
}
