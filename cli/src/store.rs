//! The reference endpoint's instance store: one SQLite file.
//!
//! Credentials are stored only as the ciphertexts that were sent (so a
//! repeated `newInstance` returns the very same `appInfo`), never in clear.
//!
//! The database and its `-wal` and `-shm` files are readable by their owner
//! only (0600, whatever the umask): the file is created 0600 before SQLite
//! opens it, and SQLite gives the WAL and shared-memory files the database
//! file's mode; all three are set to 0600 again once they exist.
//!
//! The same database holds the replay store's table `replay_nonces`
//! (`crate::replay::Sqlite`, on its own connection). Every wait for a lock
//! is bounded ([`Store::set_wait`]): another process holding the write lock
//! makes an operation fail with `SQLITE_BUSY`, which `serve` answers
//! `000005`, never a hang past the marketplace's 5 s.

use rusqlite::{params, Connection, OptionalExtension};
use std::path::Path;

/// An instance as stored.
#[derive(Clone, Debug)]
pub struct Instance {
    pub instance_id: String,
    pub status: String,
    pub encrypt_type: String,
    pub user_name: String,
    pub password: String,
    pub front_end_url: String,
    pub admin_url: String,
}

/// A new instance to insert.
pub struct NewInstance<'a> {
    pub instance_id: &'a str,
    pub order_id: &'a str,
    pub order_line_id: &'a str,
    pub business_id: &'a str,
    pub product_id: &'a str,
    pub protocol: &'a str,
    pub test_flag: &'a str,
    pub encrypt_type: &'a str,
    pub user_name: &'a str,
    pub password: &'a str,
    pub front_end_url: &'a str,
    pub admin_url: &'a str,
}

pub struct Store {
    conn: Connection,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS instances (
    instance_id    TEXT PRIMARY KEY,
    order_id       TEXT NOT NULL,
    order_line_id  TEXT NOT NULL DEFAULT '',
    business_id    TEXT NOT NULL DEFAULT '',
    product_id     TEXT NOT NULL DEFAULT '',
    protocol       TEXT NOT NULL,
    test_flag      TEXT NOT NULL DEFAULT '',
    status         TEXT NOT NULL,
    expire_time    TEXT NOT NULL DEFAULT '',
    encrypt_type   TEXT NOT NULL,
    user_name      TEXT NOT NULL,
    password       TEXT NOT NULL,
    front_end_url  TEXT NOT NULL,
    admin_url      TEXT NOT NULL,
    created_ms     INTEGER NOT NULL,
    updated_ms     INTEGER NOT NULL,
    UNIQUE (order_id, order_line_id)
);
CREATE TABLE IF NOT EXISTS events (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    instance_id  TEXT NOT NULL,
    activity     TEXT NOT NULL,
    detail       TEXT NOT NULL DEFAULT '',
    at_ms        INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS replay_nonces (
    key         BLOB PRIMARY KEY,
    expires_ms  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS replay_nonces_expiry ON replay_nonces (expires_ms);
";

/// The default bound on a wait for another connection's lock.
pub const DEFAULT_WAIT: std::time::Duration = std::time::Duration::from_millis(1500);

/// Opens (creating if needed) the database at `path`, private, in WAL mode,
/// with the schema: the connection behind [`Store`] and the replay store.
pub fn open_connection(path: &Path) -> Result<Connection, Box<dyn std::error::Error + Send + Sync>> {
    create_private_file(path)?;
    let conn = Connection::open(path)?;
    conn.busy_timeout(DEFAULT_WAIT)?;
    // WAL with synchronous=NORMAL: a commit is in the WAL file (the OS's
    // page cache) before it returns, so it survives the process being
    // killed; only a power loss may take the last commits.
    conn.execute_batch("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;")?;
    conn.execute_batch(SCHEMA)?;
    // The WAL and shared-memory files exist now (journal_mode=WAL and the
    // schema wrote): make sure they, too, are the owner's only.
    for suffix in ["-wal", "-shm"] {
        let mut p = path.as_os_str().to_owned();
        p.push(suffix);
        restrict(Path::new(&p))?;
    }
    Ok(conn)
}

/// Creates `path` if absent, mode 0600, and sets 0600 (also on an existing
/// file, whatever the umask).
fn create_private_file(path: &Path) -> std::io::Result<()> {
    let mut o = std::fs::OpenOptions::new();
    o.create(true).append(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    o.open(path)?;
    restrict(path)
}

/// Sets mode 0600 on `path` if it exists.
fn restrict(path: &Path) -> std::io::Result<()> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        match std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            r => r,
        }
    }
    #[cfg(not(unix))]
    {
        let _ = path;
        Ok(())
    }
}

fn now() -> i64 {
    crate::util::now_ms() as i64
}

impl Store {
    /// Opens (creating if needed) the store at `path`. Errors: the file
    /// cannot be created or made private, or SQLite fails.
    pub fn open(path: &Path) -> Result<Self, Box<dyn std::error::Error + Send + Sync>> {
        Ok(Store { conn: open_connection(path)? })
    }

    /// Bounds the next operations' wait for another connection's lock to
    /// `wait` (at least 1 ms).
    pub fn set_wait(&self, wait: std::time::Duration) -> rusqlite::Result<()> {
        self.conn.busy_timeout(wait.max(std::time::Duration::from_millis(1)))
    }

    /// Whether the database answers a read (for `/healthz`).
    pub fn health(&self) -> rusqlite::Result<()> {
        self.conn.query_row("SELECT COUNT(*) FROM (SELECT 1 FROM instances LIMIT 1)", [], |r| r.get::<_, i64>(0)).map(|_| ())
    }

    /// Checkpoints the WAL into the database file (at shutdown).
    pub fn flush(&self) {
        let _ = self.conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);");
    }

    fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Instance> {
        Ok(Instance {
            instance_id: r.get(0)?,
            status: r.get(1)?,
            encrypt_type: r.get(2)?,
            user_name: r.get(3)?,
            password: r.get(4)?,
            front_end_url: r.get(5)?,
            admin_url: r.get(6)?,
        })
    }

    const COLS: &'static str = "instance_id, status, encrypt_type, user_name, password, front_end_url, admin_url";

    pub fn by_order(&self, order_id: &str, order_line_id: &str) -> rusqlite::Result<Option<Instance>> {
        self.conn
            .query_row(
                &format!("SELECT {} FROM instances WHERE order_id = ?1 AND order_line_id = ?2", Self::COLS),
                params![order_id, order_line_id],
                Self::row,
            )
            .optional()
    }

    /// The first instance created for `order_id` (any order line): V1
    /// `getLicense` and `releaseLicense` name the order only.
    pub fn by_order_id(&self, order_id: &str) -> rusqlite::Result<Option<Instance>> {
        self.conn
            .query_row(
                &format!("SELECT {} FROM instances WHERE order_id = ?1 ORDER BY created_ms, instance_id LIMIT 1", Self::COLS),
                params![order_id],
                Self::row,
            )
            .optional()
    }

    pub fn get(&self, instance_id: &str) -> rusqlite::Result<Option<Instance>> {
        self.conn
            .query_row(&format!("SELECT {} FROM instances WHERE instance_id = ?1", Self::COLS), params![instance_id], Self::row)
            .optional()
    }

    /// Inserts the instance and its event in one transaction (both or
    /// neither: a full disk leaves no half-created instance).
    pub fn insert(&self, n: &NewInstance<'_>) -> rusqlite::Result<()> {
        let t = now();
        // IMMEDIATE: the write lock is taken (or waited for, bounded) first.
        let tx = rusqlite::Transaction::new_unchecked(&self.conn, rusqlite::TransactionBehavior::Immediate)?;
        tx.execute(
            "INSERT INTO instances (instance_id, order_id, order_line_id, business_id, product_id, protocol, test_flag,
                status, encrypt_type, user_name, password, front_end_url, admin_url, created_ms, updated_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, 'ACTIVE', ?8, ?9, ?10, ?11, ?12, ?13, ?13)",
            params![
                n.instance_id,
                n.order_id,
                n.order_line_id,
                n.business_id,
                n.product_id,
                n.protocol,
                n.test_flag,
                n.encrypt_type,
                n.user_name,
                n.password,
                n.front_end_url,
                n.admin_url,
                t
            ],
        )?;
        self.event(n.instance_id, "newInstance", n.protocol)?;
        tx.commit()
    }

    /// Sets the status (and optionally the expiry) and records the event.
    pub fn update(&self, instance_id: &str, activity: &str, status: Option<&str>, expire_time: Option<&str>, detail: &str) -> rusqlite::Result<()> {
        let t = now();
        let tx = rusqlite::Transaction::new_unchecked(&self.conn, rusqlite::TransactionBehavior::Immediate)?;
        if let Some(s) = status {
            tx.execute("UPDATE instances SET status = ?2, updated_ms = ?3 WHERE instance_id = ?1", params![instance_id, s, t])?;
        }
        if let Some(e) = expire_time {
            tx.execute("UPDATE instances SET expire_time = ?2, updated_ms = ?3 WHERE instance_id = ?1", params![instance_id, e, t])?;
        }
        self.event(instance_id, activity, detail)?;
        tx.commit()
    }

    fn event(&self, instance_id: &str, activity: &str, detail: &str) -> rusqlite::Result<()> {
        self.conn.execute(
            "INSERT INTO events (instance_id, activity, detail, at_ms) VALUES (?1, ?2, ?3, ?4)",
            params![instance_id, activity, detail, now()],
        )?;
        Ok(())
    }

    /// Number of events recorded for an instance (tests, diagnostics).
    #[allow(dead_code)]
    pub fn event_count(&self, instance_id: &str) -> rusqlite::Result<i64> {
        self.conn.query_row("SELECT COUNT(*) FROM events WHERE instance_id = ?1", params![instance_id], |r| r.get(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idempotent_by_order() {
        let dir = tempfile::tempdir().unwrap();
        let s = Store::open(&dir.path().join("t.sqlite3")).unwrap();
        let n = NewInstance {
            instance_id: "i1",
            order_id: "o",
            order_line_id: "l",
            business_id: "b",
            product_id: "p",
            protocol: "v2",
            test_flag: "1",
            encrypt_type: "1",
            user_name: "u",
            password: "w",
            front_end_url: "f",
            admin_url: "a",
        };
        s.insert(&n).unwrap();
        assert!(s.insert(&NewInstance { instance_id: "i2", ..n }).is_err());
        assert_eq!(s.by_order("o", "l").unwrap().unwrap().instance_id, "i1");
        s.update("i1", "releaseInstance", Some("RELEASED"), None, "").unwrap();
        assert_eq!(s.get("i1").unwrap().unwrap().status, "RELEASED");
        assert_eq!(s.event_count("i1").unwrap(), 2);
        assert!(s.get("nope").unwrap().is_none());
    }

    /// Issue 11 finding 10: the store files are 0600 even when they existed
    /// world-readable before.
    #[cfg(unix)]
    #[test]
    fn files_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.sqlite3");
        std::fs::write(&path, b"").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let s = Store::open(&path).unwrap();
        s.update("i", "x", None, None, "").unwrap();
        for f in ["t.sqlite3", "t.sqlite3-wal", "t.sqlite3-shm"] {
            let mode = std::fs::metadata(dir.path().join(f)).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "{f}");
        }
    }
}
