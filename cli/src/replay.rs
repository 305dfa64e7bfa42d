//! `koosign serve`'s replay stores behind the core's [`NonceStore`] (issue 15).
//!
//! What is recorded, under which key and until when is the core's rule
//! (`verify_v2` records the V2 nonce, `verify_v1` records `v1:` + the
//! repaired `authToken`, each until its timestamp + window, and only for a
//! verified, fresh request). A store here only keeps those keys:
//!
//! * [`Memory`]: in this process, bounded (`--replay-capacity`); forgotten on
//!   restart; one process only.
//! * [`Sqlite`]: a table of the instance database (`serve`'s default):
//!   survives restarts and SIGKILL (the entry is committed before the answer
//!   is sent), shared by processes on one machine that use the same `--data`.
//!   Expired entries are purged in bounded batches.
//! * [`Redis`]: `SET key 1 NX PX ttl` on a Redis server, for several
//!   processes and machines ([`redis_key`]: the Python binding's key).
//!
//! Every store fails closed: a store that cannot answer (a lock held past the
//! request's deadline, a full disk, Redis gone) refuses the request with
//! [`UNAVAILABLE`], which `serve` answers `000005` (signed), never an
//! unchecked accept. The next request tries again, so the store recovers
//! without a restart.

use koosign::{Error, NonceStore, NonceTable};
use parking_lot::Mutex;
use rusqlite::{params, Connection};
use std::path::Path;
use std::time::{Duration, Instant};

/// The core error a store that cannot answer gives (answers `000005`).
pub const UNAVAILABLE: Error = Error::StoreUnavailable;

/// The longest a Redis connection attempt may take.
const REDIS_CONNECT_TIMEOUT: Duration = Duration::from_millis(500);
/// Expired entries deleted per purge batch (SQLite).
const PURGE_BATCH: i64 = 512;
/// A purge batch runs every this many inserts (SQLite): at most one batch
/// of work per insert burst, and purging outpaces inserting.
const PURGE_EVERY: u64 = 128;

/// Which replay store `serve` uses (`--replay-store`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Choice {
    Sqlite,
    Memory,
    /// A `redis://` URL.
    Redis(String),
}

impl std::str::FromStr for Choice {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "sqlite" => Ok(Choice::Sqlite),
            "memory" => Ok(Choice::Memory),
            u if u.starts_with("redis://") || u.starts_with("redis+unix://") || u.starts_with("unix://") => {
                Ok(Choice::Redis(u.to_string()))
            }
            _ => Err("expected sqlite, memory or a redis://HOST:PORT[/DB] URL".into()),
        }
    }
}

/// A replay store shared by the request handlers (each locks what it needs
/// internally, for a bounded time).
pub trait Backend: Send + Sync {
    /// Records `key` until `expires_at_ms`; [`Error::ReplayedNonce`] when it
    /// is recorded and unexpired at `now_ms`; [`UNAVAILABLE`] (with the
    /// reason, never a secret) when the store cannot answer by `deadline`.
    fn check_and_insert(&self, key: &[u8], now_ms: u64, expires_at_ms: u64, deadline: Instant) -> Result<(), Failure>;
    /// Whether the store answers now (for `/healthz`).
    fn health(&self, deadline: Instant) -> Result<(), String>;
    /// What it is, for the startup line and `/healthz` (no password).
    fn describe(&self) -> String;
    /// The kind: `sqlite`, `memory` or `redis`.
    fn kind(&self) -> &'static str;
    /// Writes out what is pending before the process exits.
    fn flush(&self) {}
    /// For tests that reach into a store.
    #[cfg_attr(not(test), allow(dead_code))]
    fn as_any(&self) -> &dyn std::any::Any;
}

/// Why a store refused.
#[derive(Debug, PartialEq, Eq)]
pub enum Failure {
    Replayed,
    /// The memory store holds `capacity` unexpired entries.
    Full,
    /// The store did not answer (the reason, no secret).
    Unavailable(String),
}

impl Failure {
    pub fn error(&self) -> Error {
        match self {
            Failure::Replayed => Error::ReplayedNonce,
            Failure::Full => Error::NonceStoreFull,
            Failure::Unavailable(_) => UNAVAILABLE,
        }
    }
}

/// One request's view of a [`Backend`] as the core's [`NonceStore`]: it
/// carries the request's deadline and keeps the reason of a failure for
/// the log line.
pub struct Shared<'a> {
    backend: &'a dyn Backend,
    deadline: Instant,
    /// Set when the store could not answer.
    pub failure: Option<String>,
}

impl<'a> Shared<'a> {
    pub fn new(backend: &'a dyn Backend, deadline: Instant) -> Self {
        Shared { backend, deadline, failure: None }
    }
}

impl NonceStore for Shared<'_> {
    fn check_and_insert(&mut self, nonce: &[u8], now_ms: u64, expires_at_ms: u64) -> koosign::Result<()> {
        self.backend.check_and_insert(nonce, now_ms, expires_at_ms, self.deadline).map_err(|f| {
            if let Failure::Unavailable(why) = &f {
                self.failure = Some(why.clone());
            }
            f.error()
        })
    }
}

/// Time left until `deadline` (zero when past).
fn left(deadline: Instant) -> Duration {
    deadline.saturating_duration_since(Instant::now())
}

// ---------------------------------------------------------------- memory

/// In this process: the core's [`NonceTable`] of `capacity` entries (40
/// bytes each, allocated at start), behind a lock. Its rule: when full,
/// expired entries are dropped; if none is, the request is refused
/// ([`Failure::Full`]), never an unexpired entry forgotten.
pub struct Memory {
    pub(crate) table: Mutex<NonceTable>,
}

impl Memory {
    pub fn new(capacity: usize) -> Self {
        Memory { table: Mutex::new(NonceTable::with_capacity(capacity)) }
    }
}

impl Backend for Memory {
    fn check_and_insert(&self, key: &[u8], now_ms: u64, expires_at_ms: u64, deadline: Instant) -> Result<(), Failure> {
        let Some(mut t) = self.table.try_lock_for(left(deadline)) else {
            return Err(Failure::Unavailable("memory store busy".into()));
        };
        match t.check_and_insert(key, now_ms, expires_at_ms) {
            Ok(()) => Ok(()),
            Err(Error::ReplayedNonce) => Err(Failure::Replayed),
            Err(Error::NonceStoreFull) => Err(Failure::Full),
            Err(e) => Err(Failure::Unavailable(format!("memory store: {}", e.code()))),
        }
    }
    fn health(&self, deadline: Instant) -> Result<(), String> {
        match self.table.try_lock_for(left(deadline)) {
            Some(mut t) => {
                if t.len() == t.capacity() {
                    t.evict_expired(crate::util::now_ms());
                }
                if t.len() < t.capacity() {
                    Ok(())
                } else {
                    Err("memory store full".into())
                }
            }
            None => Err("memory store busy".into()),
        }
    }
    fn describe(&self) -> String {
        format!("memory, capacity {}", self.table.lock().capacity())
    }
    fn kind(&self) -> &'static str {
        "memory"
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

// ---------------------------------------------------------------- SQLite

/// A table `replay_nonces` of the instance database, on its own connection.
pub struct Sqlite {
    conn: Mutex<SqliteConn>,
    path: String,
}

struct SqliteConn {
    conn: Connection,
    inserts: u64,
}

/// A short reason for the log (SQLite's messages hold no secret: the
/// statements are parameterised and the keys are not in them).
pub fn sqlite_reason(e: &rusqlite::Error) -> String {
    match e.sqlite_error_code() {
        Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) => "sqlite busy".into(),
        Some(rusqlite::ErrorCode::DiskFull) => "sqlite disk full".into(),
        Some(c) => format!("sqlite {c:?}"),
        None => "sqlite error".into(),
    }
}

impl Sqlite {
    /// Opens the table in the database at `path` (created with the
    /// instance store's schema and file modes) and purges what expired.
    pub fn open(path: &Path) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        let conn = crate::store::open_connection(path)?;
        let s = Sqlite { conn: Mutex::new(SqliteConn { conn, inserts: 0 }), path: path.display().to_string() };
        {
            let c = s.conn.lock();
            // Bounded at start too: at most 64 batches, the rest by inserts.
            for _ in 0..64 {
                if purge(&c.conn, crate::util::now_ms())? < PURGE_BATCH as usize {
                    break;
                }
            }
        }
        Ok(s)
    }
}

/// Deletes up to [`PURGE_BATCH`] entries expired at `now_ms`; the count.
fn purge(conn: &Connection, now_ms: u64) -> rusqlite::Result<usize> {
    conn.execute(
        "DELETE FROM replay_nonces WHERE key IN
             (SELECT key FROM replay_nonces WHERE expires_ms < ?1 ORDER BY expires_ms LIMIT ?2)",
        params![now_ms as i64, PURGE_BATCH],
    )
}

impl Backend for Sqlite {
    fn check_and_insert(&self, key: &[u8], now_ms: u64, expires_at_ms: u64, deadline: Instant) -> Result<(), Failure> {
        let Some(mut c) = self.conn.try_lock_for(left(deadline)) else {
            return Err(Failure::Unavailable("sqlite busy (in this process)".into()));
        };
        let wait = left(deadline);
        if wait.is_zero() {
            return Err(Failure::Unavailable("sqlite busy".into()));
        }
        let unavailable = |e: rusqlite::Error| Failure::Unavailable(sqlite_reason(&e));
        c.conn.busy_timeout(wait).map_err(unavailable)?;
        // One statement, atomic across processes: a new key is inserted, an
        // expired one renewed, an unexpired one left alone (no row changed).
        let changed = c
            .conn
            .execute(
                "INSERT INTO replay_nonces (key, expires_ms) VALUES (?1, ?2)
                 ON CONFLICT (key) DO UPDATE SET expires_ms = excluded.expires_ms
                 WHERE replay_nonces.expires_ms < ?3",
                params![key, expires_at_ms as i64, now_ms as i64],
            )
            .map_err(unavailable)?;
        if changed == 0 {
            return Err(Failure::Replayed);
        }
        c.inserts += 1;
        if c.inserts.is_multiple_of(PURGE_EVERY) {
            // Best effort: an entry left now is purged by a later batch.
            let _ = purge(&c.conn, now_ms);
        }
        Ok(())
    }
    fn health(&self, deadline: Instant) -> Result<(), String> {
        let Some(c) = self.conn.try_lock_for(left(deadline)) else {
            return Err("sqlite busy (in this process)".into());
        };
        c.conn.busy_timeout(left(deadline)).map_err(|e| sqlite_reason(&e))?;
        c.conn.query_row("SELECT COUNT(*) FROM (SELECT 1 FROM replay_nonces LIMIT 1)", [], |r| r.get::<_, i64>(0)).map_err(|e| sqlite_reason(&e))?;
        Ok(())
    }
    fn describe(&self) -> String {
        format!("sqlite, {}", self.path)
    }
    fn kind(&self) -> &'static str {
        "sqlite"
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
    fn flush(&self) {
        if let Some(c) = self.conn.try_lock_for(Duration::from_secs(2)) {
            let _ = c.conn.busy_timeout(Duration::from_secs(2));
            let _ = c.conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);");
        }
    }
}

// ---------------------------------------------------------------- Redis

/// `SET koosign:nonce:<sha256 hex of the key> 1 NX PX ttl` on a Redis server. One connection, made
/// again on the next request after any failure; each call bounded by the
/// request's deadline (connect, read and write timeouts).
pub struct Redis {
    client: redis::Client,
    conn: Mutex<Option<redis::Connection>>,
    shown: String,
}

/// The key prefix in Redis, the Python binding's `RedisNonceStore` default.
pub const REDIS_PREFIX: &str = "koosign:nonce:";

/// The Redis key of a store key: [`REDIS_PREFIX`] + the lower-case hex
/// SHA-256 of the core's store key (V2: the nonce; V1: `v1:` + the repaired
/// authToken) — the same key as the Python binding's
/// `RedisNonceStore.key`, so a Python endpoint and `koosign serve` on one
/// Redis are one endpoint for replay.
pub fn redis_key(key: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    let mut k = String::with_capacity(REDIS_PREFIX.len() + 64);
    k.push_str(REDIS_PREFIX);
    for b in Sha256::digest(key) {
        k.push_str(&format!("{b:02x}"));
    }
    k
}

/// `url` with any password replaced by `***`.
fn redact(url: &str) -> String {
    if let Some((scheme, rest)) = url.split_once("://") {
        if let Some((userinfo, host)) = rest.rsplit_once('@') {
            let user = userinfo.split(':').next().unwrap_or("");
            return format!("{scheme}://{user}{}@{host}", if userinfo.contains(':') { ":***" } else { "" });
        }
    }
    url.to_string()
}

impl Redis {
    /// Checks the URL; does not connect (a Redis that is down at start is
    /// a store that fails closed until it comes up).
    pub fn open(url: &str) -> Result<Self, String> {
        let client = redis::Client::open(url).map_err(|e| format!("bad Redis URL {}: {}", redact(url), e.kind_name()))?;
        Ok(Redis { client, conn: Mutex::new(None), shown: redact(url) })
    }

    /// Runs `f` on the connection (connecting first if needed) within the
    /// deadline; drops the connection on any error.
    fn with_conn<T>(&self, deadline: Instant, f: impl FnOnce(&mut redis::Connection) -> redis::RedisResult<T>) -> Result<T, String> {
        let Some(mut slot) = self.conn.try_lock_for(left(deadline)) else {
            return Err("redis busy".into());
        };
        let wait = left(deadline);
        if wait.is_zero() {
            return Err("redis: deadline passed".into());
        }
        if slot.is_none() {
            let c = self
                .client
                .get_connection_with_timeout(wait.min(REDIS_CONNECT_TIMEOUT))
                .map_err(|e| format!("redis unreachable ({})", e.kind_name()))?;
            *slot = Some(c);
        }
        let conn = slot.as_mut().expect("just set");
        let wait = left(deadline).max(Duration::from_millis(1));
        let set = conn.set_read_timeout(Some(wait)).and_then(|()| conn.set_write_timeout(Some(wait)));
        let r = set.and_then(|()| f(conn));
        match r {
            Ok(v) => Ok(v),
            Err(e) => {
                *slot = None;
                Err(format!("redis error ({})", e.kind_name()))
            }
        }
    }
}

trait KindName {
    fn kind_name(&self) -> String;
}

impl KindName for redis::RedisError {
    /// The kind only: a Redis error's text can echo the URL.
    fn kind_name(&self) -> String {
        if self.is_timeout() {
            "timeout".into()
        } else if self.is_connection_refusal() {
            "connection refused".into()
        } else if self.is_io_error() || self.is_connection_dropped() {
            "connection lost".into()
        } else {
            format!("{:?}", self.kind())
        }
    }
}

impl Backend for Redis {
    fn check_and_insert(&self, key: &[u8], now_ms: u64, expires_at_ms: u64, deadline: Instant) -> Result<(), Failure> {
        let ttl = expires_at_ms.saturating_sub(now_ms).max(1);
        let k = redis_key(key);
        let reply: Option<String> = self
            .with_conn(deadline, |c| redis::cmd("SET").arg(&k).arg(b"1").arg("NX").arg("PX").arg(ttl).query(c))
            .map_err(Failure::Unavailable)?;
        match reply.as_deref() {
            Some("OK") => Ok(()),
            None => Err(Failure::Replayed),
            Some(_) => Err(Failure::Unavailable("redis: unexpected reply".into())),
        }
    }
    fn health(&self, deadline: Instant) -> Result<(), String> {
        let pong: String = self.with_conn(deadline, |c| redis::cmd("PING").query(c))?;
        if pong == "PONG" {
            Ok(())
        } else {
            Err("redis: unexpected reply".into())
        }
    }
    fn describe(&self) -> String {
        format!("redis, {}", self.shown)
    }
    fn kind(&self) -> &'static str {
        "redis"
    }
    fn as_any(&self) -> &dyn std::any::Any {
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn soon() -> Instant {
        Instant::now() + Duration::from_secs(2)
    }

    /// The store contract at times `t0` + offsets in ms.
    fn contract(b: &dyn Backend, t0: u64) {
        let d = soon();
        assert_eq!(b.check_and_insert(b"a", t0 + 1000, t0 + 2000, d), Ok(()));
        assert_eq!(b.check_and_insert(b"a", t0 + 1500, t0 + 2500, d), Err(Failure::Replayed));
        assert_eq!(b.check_and_insert(b"a", t0 + 2000, t0 + 2600, d), Err(Failure::Replayed), "expiry is inclusive");
        assert_eq!(b.check_and_insert(b"b", t0 + 1500, t0 + 2500, d), Ok(()));
        // "a" expired after 2000: it may be used again, and is then recorded.
        assert_eq!(b.check_and_insert(b"a", t0 + 2001, t0 + 3000, d), Ok(()));
        assert_eq!(b.check_and_insert(b"a", t0 + 2400, t0 + 3000, d), Err(Failure::Replayed));
        assert_eq!(b.health(d), Ok(()));
    }

    #[test]
    fn memory_contract_and_capacity() {
        let m = Memory::new(3);
        // In the clock's future: health() evicts what expired by the clock.
        let t0 = crate::util::now_ms() + 60_000;
        contract(&m, t0);
        assert_eq!(m.check_and_insert(b"d", t0 + 2400, t0 + 5000, soon()), Ok(()));
        // Full of unexpired entries (a until 3000, b until 2500, d): refused,
        // nothing forgotten.
        assert_eq!(m.check_and_insert(b"c", t0 + 2400, t0 + 4000, soon()), Err(Failure::Full));
        assert_eq!(m.check_and_insert(b"a", t0 + 2400, t0 + 4000, soon()), Err(Failure::Replayed));
        assert_eq!(m.check_and_insert(b"b", t0 + 2400, t0 + 4000, soon()), Err(Failure::Replayed));
        assert_eq!(m.health(soon()), Err("memory store full".into()));
        // Once b expires there is room.
        assert_eq!(m.check_and_insert(b"c", t0 + 2501, t0 + 4000, soon()), Ok(()));
        assert_eq!(Failure::Full.error(), Error::NonceStoreFull);
        assert_eq!(Failure::Unavailable("x".into()).error(), Error::StoreUnavailable);
    }

    #[test]
    fn sqlite_contract_persists_and_purges() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.sqlite3");
        let s = Sqlite::open(&path).unwrap();
        // Entries in the future of the clock, so that opening (which purges
        // what expired by the clock) keeps them.
        let t0 = crate::util::now_ms() + 60_000;
        contract(&s, t0);
        drop(s);
        // Another connection (a restart, or a second process) sees the entries.
        let s = Sqlite::open(&path).unwrap();
        assert_eq!(s.check_and_insert(b"a", t0 + 2500, t0 + 3500, soon()), Err(Failure::Replayed));
        assert_eq!(s.check_and_insert(b"b", t0 + 2400, t0 + 3500, soon()), Err(Failure::Replayed));
        // Purging is bounded per batch and removes only expired entries.
        {
            let c = s.conn.lock();
            for i in 0..(PURGE_BATCH + 10) {
                c.conn.execute("INSERT INTO replay_nonces (key, expires_ms) VALUES (?1, 5)", params![format!("old{i}")]).unwrap();
            }
            assert_eq!(purge(&c.conn, 10).unwrap(), PURGE_BATCH as usize);
            assert_eq!(purge(&c.conn, 10).unwrap(), 10);
            assert_eq!(purge(&c.conn, 10).unwrap(), 0);
            let left: i64 = c.conn.query_row("SELECT COUNT(*) FROM replay_nonces", [], |r| r.get(0)).unwrap();
            assert_eq!(left, 2, "a and b remain");
        }
    }

    /// Another connection holds the write lock: a bounded wait, then
    /// Unavailable (never a hang, never an accept).
    #[test]
    fn sqlite_locked_by_another_connection_fails_closed_in_time() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.sqlite3");
        let s = Sqlite::open(&path).unwrap();
        let other = Connection::open(&path).unwrap();
        other.execute_batch("BEGIN IMMEDIATE; INSERT INTO replay_nonces (key, expires_ms) VALUES (x'00', 1);").unwrap();
        let t = Instant::now();
        let r = s.check_and_insert(b"k", 1, 2, Instant::now() + Duration::from_millis(300));
        assert!(matches!(r, Err(Failure::Unavailable(ref w)) if w == "sqlite busy"), "{r:?}");
        assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
        assert_eq!(r.unwrap_err().error(), UNAVAILABLE);
        other.execute_batch("ROLLBACK").unwrap();
        assert_eq!(s.check_and_insert(b"k", 1, 2, soon()), Ok(()));
    }

    #[test]
    fn redis_down_fails_closed() {
        // A port nothing listens on.
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let r = Redis::open(&format!("redis://:hunter2@127.0.0.1:{port}/0")).unwrap();
        assert!(!r.describe().contains("hunter2"), "{}", r.describe());
        let t = Instant::now();
        let e = r.check_and_insert(b"k", 1, 2, soon()).unwrap_err();
        assert!(matches!(e, Failure::Unavailable(ref w) if !w.contains("hunter2")), "{e:?}");
        assert_eq!(e.error(), UNAVAILABLE);
        assert!(t.elapsed() < Duration::from_secs(2));
        assert!(r.health(soon()).is_err());
    }

    #[test]
    fn redis_keys_are_the_python_bindings() {
        // hashlib.sha256(b"abc").hexdigest(), as RedisNonceStore.key("abc").
        assert_eq!(redis_key(b"abc"), "koosign:nonce:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    #[test]
    fn choices() {
        assert_eq!("sqlite".parse::<Choice>(), Ok(Choice::Sqlite));
        assert_eq!("memory".parse::<Choice>(), Ok(Choice::Memory));
        assert_eq!("redis://127.0.0.1:6379/0".parse::<Choice>(), Ok(Choice::Redis("redis://127.0.0.1:6379/0".into())));
        assert!("postgres://x".parse::<Choice>().is_err());
        assert_eq!(redact("redis://u:p@h:1/0"), "redis://u:***@h:1/0");
        assert_eq!(redact("redis://h:1"), "redis://h:1");
    }
}
