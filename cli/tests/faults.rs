//! Fault tests of `koosign serve` (issue 15): real processes (the `koosign`
//! binary, Debian's redis-server), loopback only, each bounded in time.
//!
//! They need redis-server and, for the full disk, root (a tmpfs is
//! mounted): run them with `scripts/test.sh faults`, which installs what
//! they need and runs `cargo test --test faults -- --ignored`. A plain
//! `cargo test` lists them as ignored.

mod common;
mod opsutil;

use common::*;
use opsutil::*;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const T: Duration = Duration::from_secs(10);
/// The marketplace gives up after 5 s.
const MARKETPLACE: Duration = Duration::from_secs(5);

fn data_arg(d: &std::path::Path) -> String {
    d.to_str().unwrap().to_string()
}

/// Fault 1: SIGKILL during concurrent newInstance load, then a restart on the same
/// --data: every acknowledged instance is there with the same instanceId; a
/// request answered before the kill and replayed after the restart, inside
/// its window, is refused; the server answers normally.
#[test]
#[ignore = "fault test: scripts/test.sh faults"]
fn sigkill_under_load_loses_no_acknowledged_write_and_remembers_nonces() {
    let dir = tempfile::tempdir().unwrap();
    let d = data_arg(dir.path());
    let mut s = serve(&["--key", KEY, "--data", &d, "--quiet"], None);
    let id = create(s.addr, "KILL-FREEZE");
    // The request to be replayed: updateInstanceStatus FREEZE, answered 000000.
    let freeze = format!(r#"{{"activity":"updateInstanceStatus","instanceId":"{id}","status":"FREEZE","testFlag":"1"}}"#);
    let (fq, fb) = v2_request(&freeze);
    let captured = post_bytes(s.addr, &fq, &fb);
    let r = try_exchange(s.addr, &captured, T).unwrap();
    assert_eq!(r.code(), "000000");

    let acked: Arc<Mutex<HashMap<String, String>>> = Arc::default();
    let stop = Arc::new(AtomicBool::new(false));
    let sent = Arc::new(AtomicUsize::new(0));
    let addr = s.addr;
    let workers: Vec<_> = (0..4)
        .map(|w| {
            let (acked, stop, sent) = (acked.clone(), stop.clone(), sent.clone());
            std::thread::spawn(move || {
                let mut i = 0;
                while !stop.load(Ordering::SeqCst) {
                    let order = format!("KILL-{w}-{i}");
                    i += 1;
                    sent.fetch_add(1, Ordering::SeqCst);
                    match try_v2(addr, &new_instance_body(&order), Duration::from_secs(3)) {
                        Ok(r) if r.code() == "000000" => {
                            r.assert_signed(KEY);
                            acked.lock().unwrap().insert(order, r.json()["instanceId"].as_str().unwrap().to_string());
                        }
                        Ok(r) => panic!("under load: {}", String::from_utf8_lossy(&r.body)),
                        Err(_) => break, // killed
                    }
                }
            })
        })
        .collect();
    let t = Instant::now();
    while acked.lock().unwrap().len() < 100 && t.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(5));
    }
    s.child.kill().unwrap(); // SIGKILL
    s.child.wait().unwrap();
    stop.store(true, Ordering::SeqCst);
    for w in workers {
        w.join().unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    eprintln!("sigkill: {} sent, {} acknowledged before the kill", sent.load(Ordering::SeqCst), acked.len());
    assert!(acked.len() >= 20, "too little load before the kill: {}", acked.len());

    let s = serve(&["--key", KEY, "--data", &d], None);
    // The captured request, byte for byte (to the new port), inside its window.
    let replay = post_bytes(s.addr, &fq, &fb);
    let r = try_exchange(s.addr, &replay, T).unwrap();
    r.assert_signed(KEY);
    assert_eq!(r.code(), "000001", "a pre-kill request replayed after the restart: {}", String::from_utf8_lossy(&r.body));
    let log = s.wait_log_count("REPLAYED_NONCE", 1);
    assert!(log.contains("REPLAYED_NONCE"), "{log}");
    // Every acknowledged instance survived with its instanceId.
    for (order, id) in &acked {
        let r = try_v2(s.addr, &new_instance_body(order), T).unwrap();
        let v = r.json();
        assert_eq!(v["resultCode"], "000000", "{v}");
        assert_eq!(v["instanceId"].as_str(), Some(id.as_str()), "order {order}");
    }
    // And it serves normally.
    let r = try_v2(s.addr, &query_body(&id), T).unwrap();
    assert_eq!(r.code(), "000000");
}

/// Mounts a tmpfs of `size` at a new directory; unmounted on drop.
struct Tmpfs {
    dir: tempfile::TempDir,
}

impl Tmpfs {
    fn mount(size: &str) -> Result<Self, String> {
        let dir = tempfile::tempdir().unwrap();
        let out = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size},mode=0700"), "tmpfs"])
            .arg(dir.path())
            .output()
            .map_err(|e| format!("mount: {e}"))?;
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).trim().to_string());
        }
        Ok(Tmpfs { dir })
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg("-l").arg(self.dir.path()).status();
    }
}

/// Fills the file system of `path` until it is full; the filler's path.
fn fill_up(dir: &std::path::Path) -> std::path::PathBuf {
    use std::io::Write;
    let p = dir.join("filler");
    let mut f = std::fs::File::create(&p).unwrap();
    let chunk = vec![0u8; 64 * 1024];
    loop {
        match f.write(&chunk) {
            Ok(0) => break,
            Ok(_) => {}
            Err(_) => break,
        }
    }
    // Byte by byte to the last one.
    while f.write(&[0u8]).map(|n| n > 0).unwrap_or(false) {}
    let _ = f.sync_all();
    p
}

/// Fault 2: Disk full: answers are 000005 and signed, the database is not
/// corrupted, and service recovers when space returns.
#[test]
#[ignore = "fault test: scripts/test.sh faults"]
fn disk_full_answers_signed_000005_and_recovers() {
    let fs = match Tmpfs::mount("4m") {
        Ok(f) => f,
        Err(e) => {
            eprintln!("SKIPPED disk_full: mounting a tmpfs is not permitted here ({e}); CI runs as root and runs it");
            return;
        }
    };
    let data = fs.dir.path().join("data");
    let d = data_arg(&data);
    let mut s = serve(&["--key", KEY, "--data", &d], None);
    let before = create(s.addr, "FULL-BEFORE");
    let filler = fill_up(fs.dir.path());

    let mut refused = 0;
    for i in 0..20 {
        let t = Instant::now();
        let r = try_v2(s.addr, &new_instance_body(&format!("FULL-{i}")), T).expect("an answer while the disk is full");
        assert!(t.elapsed() < MARKETPLACE, "{:?}", t.elapsed());
        r.assert_signed(KEY);
        let code = r.code();
        assert_eq!(code, "000005", "disk full: {}", String::from_utf8_lossy(&r.body));
        refused += 1;
    }
    assert_eq!(refused, 20);
    s.wait_log_lines(22);
    assert!(s.log_text().contains("disk full"), "{}", s.log_text());

    // Space back: service recovers without a restart.
    std::fs::remove_file(&filler).unwrap();
    let t = Instant::now();
    let after = loop {
        let r = try_v2(s.addr, &new_instance_body("FULL-AFTER"), T).unwrap();
        if r.code() == "000000" {
            break r.json()["instanceId"].as_str().unwrap().to_string();
        }
        assert!(t.elapsed() < T, "no recovery: {}", String::from_utf8_lossy(&r.body));
        std::thread::sleep(Duration::from_millis(50));
    };
    for id in [&before, &after] {
        assert_eq!(try_v2(s.addr, &query_body(id), T).unwrap().code(), "000000");
    }
    signal(s.child.id(), "TERM");
    assert_eq!(wait_exit(&mut s.child, T), Some(Some(0)), "graceful exit after the disk was full");
    let db = rusqlite::Connection::open(data.join("koosign.sqlite3")).unwrap();
    let check: String = db.query_row("PRAGMA integrity_check", [], |r| r.get(0)).unwrap();
    assert_eq!(check, "ok");
    let n: i64 = db.query_row("SELECT COUNT(*) FROM instances", [], |r| r.get(0)).unwrap();
    assert_eq!(n, 2, "FULL-BEFORE and FULL-AFTER, nothing half-written");
}

/// Sends `body` freshly signed every few ms from `threads` threads until
/// `stop`; records (time since `t0`, resultCode or "NO_ANSWER").
fn load(addr: SocketAddr, body: String, threads: usize, stop: Arc<AtomicBool>, t0: Instant) -> std::thread::JoinHandle<Vec<(Duration, String, Duration)>> {
    std::thread::spawn(move || {
        let hs: Vec<_> = (0..threads)
            .map(|_| {
                let (body, stop) = (body.clone(), stop.clone());
                std::thread::spawn(move || {
                    let mut seen = Vec::new();
                    while !stop.load(Ordering::SeqCst) {
                        let start = Instant::now();
                        let code = match try_v2(addr, &body, T) {
                            Ok(r) => {
                                r.assert_signed(KEY);
                                r.code()
                            }
                            Err(_) => "NO_ANSWER".into(),
                        };
                        seen.push((start - t0, code, start.elapsed()));
                        std::thread::sleep(Duration::from_millis(5));
                    }
                    seen
                })
            })
            .collect();
        let mut all: Vec<_> = hs.into_iter().flat_map(|h| h.join().unwrap()).collect();
        all.sort_by_key(|x| x.0);
        all
    })
}

/// Fault 3: Redis killed and restarted under load: 000005 while it is gone, never
/// an unchecked accept, recovery without restarting serve; and what Redis
/// acknowledged before the kill is still refused as a replay.
#[test]
#[ignore = "fault test: scripts/test.sh faults"]
fn redis_killed_and_restarted_under_load() {
    let mut redis = RedisServer::start();
    let url = redis.url();
    let s = serve(&["--key", KEY, "--replay-store", &url, "--quiet"], None);
    let id = create(s.addr, "REDIS-1");
    let (cq, cb) = v2_request(&query_body(&id));
    assert_eq!(try_exchange(s.addr, &post_bytes(s.addr, &cq, &cb), T).unwrap().code(), "000000");

    let stop = Arc::new(AtomicBool::new(false));
    let t0 = Instant::now();
    let loader = load(s.addr, query_body(&id), 3, stop.clone(), t0);
    std::thread::sleep(Duration::from_millis(700));
    redis.kill();
    let killed = t0.elapsed();
    std::thread::sleep(Duration::from_millis(1500));
    let h = try_exchange(s.addr, &get_bytes(s.addr, "/healthz"), T).unwrap();
    assert_eq!(h.status, 503, "{}", String::from_utf8_lossy(&h.body));
    assert!(String::from_utf8_lossy(&h.body).contains("redis"), "{}", String::from_utf8_lossy(&h.body));
    let restarting = t0.elapsed();
    redis.restart();
    std::thread::sleep(Duration::from_millis(1500));
    stop.store(true, Ordering::SeqCst);
    let seen = loader.join().unwrap();

    // Between the kill and the restart: only signed 000005 (no accept, no
    // silence), each answered in time.
    let gone: Vec<_> = seen.iter().filter(|(at, _, _)| *at > killed && *at + Duration::from_millis(5) < restarting).collect();
    assert!(gone.len() >= 5, "too few requests while Redis was gone: {}", gone.len());
    for (at, code, took) in &gone {
        assert_eq!(code, "000005", "at {at:?} while Redis was gone");
        assert!(*took < MARKETPLACE, "{took:?}");
    }
    assert!(seen.iter().all(|(_, c, _)| c == "000000" || c == "000005"), "{:?}", seen.iter().map(|x| &x.1).collect::<Vec<_>>());
    // Recovered, the same serve process.
    let last = &seen.last().unwrap().1;
    assert_eq!(last, "000000", "no recovery after Redis came back");
    let h = try_exchange(s.addr, &get_bytes(s.addr, "/healthz"), T).unwrap();
    assert_eq!(h.status, 200);
    // The request Redis acknowledged before it was killed is still a replay.
    let r = try_exchange(s.addr, &post_bytes(s.addr, &cq, &cb), T).unwrap();
    assert_eq!(r.code(), "000001");
    eprintln!("redis: {} requests, {} while Redis was gone", seen.len(), gone.len());
}

/// Fault 4: Another process holds the SQLite write lock: a bounded wait, then a
/// signed 000005, never a hang past 5 s; then service resumes.
#[test]
#[ignore = "fault test: scripts/test.sh faults"]
fn sqlite_write_lock_held_elsewhere_is_a_bounded_000005() {
    let dir = tempfile::tempdir().unwrap();
    let d = data_arg(dir.path());
    let s = serve(&["--key", KEY, "--data", &d, "--quiet"], None);
    let id = create(s.addr, "LOCK-1");
    // This test process is the other process.
    let other = rusqlite::Connection::open(dir.path().join("koosign.sqlite3")).unwrap();
    other.execute_batch("BEGIN IMMEDIATE; INSERT INTO events (instance_id, activity, detail, at_ms) VALUES ('x', 'lock', '', 0);").unwrap();
    let hs: Vec<_> = (0..8)
        .map(|i| {
            let (addr, id) = (s.addr, id.clone());
            std::thread::spawn(move || {
                let body = if i % 2 == 0 { query_body(&id) } else { new_instance_body(&format!("LOCK-N{i}")) };
                let t = Instant::now();
                let r = try_v2(addr, &body, Duration::from_secs(8)).expect("answered");
                (t.elapsed(), r)
            })
        })
        .collect();
    for h in hs {
        let (took, r) = h.join().unwrap();
        r.assert_signed(KEY);
        assert_eq!(r.code(), "000005", "{}", String::from_utf8_lossy(&r.body));
        assert!(took < MARKETPLACE, "waited {took:?}");
        assert!(took >= Duration::from_millis(500), "no wait at all? {took:?}");
    }
    other.execute_batch("ROLLBACK").unwrap();
    assert_eq!(try_v2(s.addr, &query_body(&id), T).unwrap().code(), "000000");
    assert_eq!(try_v2(s.addr, &new_instance_body("LOCK-AFTER"), T).unwrap().code(), "000000");
}

/// Fault 5: Slow and many connections (bounded counts): stalled heads and stalled
/// 1 MiB bodies do not keep other requests from an answer within 5 s; the
/// stalled bodies are cut by the body timeout with a signed answer.
#[test]
#[ignore = "fault test: scripts/test.sh faults"]
fn slow_and_many_connections_do_not_starve_others() {
    use std::io::Write;
    use std::net::TcpStream;
    let s = serve(&["--key", KEY, "--quiet", "--max-connections", "200"], None);
    let id = create(s.addr, "SLOW-1");
    let pid = s.child.id();
    let rss0 = rss_kib(pid).unwrap_or(0);
    let mut held = Vec::new();
    // 60 heads that never finish.
    for _ in 0..60 {
        let mut c = TcpStream::connect(s.addr).unwrap();
        c.write_all(b"POST /produce?signature=").unwrap();
        held.push(c);
    }
    // 60 bodies declared 1 MiB, stalled one byte short (the budget takes 64).
    let big = vec![b'x'; (1 << 20) - 1];
    let mut bodies = Vec::new();
    for _ in 0..60 {
        let mut c = TcpStream::connect(s.addr).unwrap();
        c.write_all(format!("POST /produce?a=b HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n", 1 << 20).as_bytes()).unwrap();
        let _ = c.write_all(&big);
        bodies.push(c);
    }
    std::thread::sleep(Duration::from_millis(300));
    let rss1 = rss_kib(pid).unwrap_or(0);
    let mut worst = Duration::ZERO;
    for i in 0..20 {
        let t = Instant::now();
        let body = if i % 2 == 0 { query_body(&id) } else { new_instance_body(&format!("SLOW-N{i}")) };
        let r = try_v2(s.addr, &body, MARKETPLACE).expect("answered within 5 s");
        r.assert_signed(KEY);
        assert_eq!(r.code(), "000000");
        worst = worst.max(t.elapsed());
    }
    assert!(worst < MARKETPLACE, "{worst:?}");
    // The stalled bodies are answered (000001 not in time, or 000005 no
    // budget) and closed, within the body timeout and a margin.
    let t = Instant::now();
    let mut answered = 0;
    for mut c in bodies {
        use std::io::Read;
        c.set_read_timeout(Some(Duration::from_secs(15))).unwrap();
        let mut out = Vec::new();
        let _ = c.read_to_end(&mut out);
        if out.windows(4).any(|w| w == b"\r\n\r\n") {
            let r = parse_response(&out);
            r.assert_signed(KEY);
            assert!(["000001", "000005"].contains(&r.code().as_str()), "{}", r.code());
            answered += 1;
        }
    }
    assert_eq!(answered, 60);
    assert!(t.elapsed() < Duration::from_secs(15), "{:?}", t.elapsed());
    eprintln!("slow: worst genuine answer {worst:?}; RSS {rss0} KiB -> {rss1} KiB with 60 stalled 1 MiB bodies");
    // Bounded by the 64 MiB budget (plus what the process had).
    assert!(rss1 < rss0 + 100 * 1024, "RSS {rss0} -> {rss1} KiB");
    drop(held);
}

/// Fault 6: Two serve processes on one Redis (and one data directory) behave as
/// one endpoint: a request accepted by one is a replay to the other, V2
/// and V1 alike. And the same with the default SQLite store on one --data.
#[test]
#[ignore = "fault test: scripts/test.sh faults"]
fn two_serve_processes_share_the_replay_store() {
    let redis = RedisServer::start();
    let url = redis.url();
    let dir = tempfile::tempdir().unwrap();
    let d = data_arg(dir.path());
    for store in [url.as_str(), "sqlite"] {
        let a = serve(&["--key", KEY, "--data", &d, "--replay-store", store, "--quiet"], None);
        let b = serve(&["--key", KEY, "--data", &d, "--replay-store", store, "--quiet"], None);
        let id = create(a.addr, &format!("TWO-{store}"));
        // Accepted by A, replayed to B.
        let (q, body) = v2_request(&query_body(&id));
        assert_eq!(try_exchange(a.addr, &post_bytes(a.addr, &q, &body), T).unwrap().code(), "000000");
        let r = try_exchange(b.addr, &post_bytes(b.addr, &q, &body), T).unwrap();
        r.assert_signed(KEY);
        assert_eq!(r.code(), "000001", "{store}: a replay across processes");
        // V1: accepted by B, replayed to A.
        let q = v1_signed(&[("activity", "refreshInstance"), ("instanceId", &id), ("testFlag", "1")], KEY);
        assert_eq!(try_exchange(b.addr, &get_bytes(b.addr, &format!("/produce?{q}")), T).unwrap().code(), "000000");
        assert_eq!(try_exchange(a.addr, &get_bytes(a.addr, &format!("/produce?{q}")), T).unwrap().code(), "000001", "{store}: V1");
        // A fresh request to B is fine (the instance from A is shared).
        assert_eq!(try_v2(b.addr, &query_body(&id), T).unwrap().code(), "000000");
    }
}

/// A Redis with a password: the right one in the URL works; a wrong one is
/// a store that cannot answer (signed 000005, never an accept), and neither
/// password reaches the log or /healthz.
#[test]
#[ignore = "fault test: scripts/test.sh faults"]
fn redis_password_in_the_url_and_a_wrong_one_fails_closed() {
    let redis = RedisServer::start_with(Some("red1sPassw0rd"));
    let good = format!("redis://:red1sPassw0rd@127.0.0.1:{}/0", redis.port);
    let s = serve(&["--key", KEY, "--replay-store", &good], None);
    let id = create(s.addr, "REDIS-PW");
    let (q, b) = v2_request(&query_body(&id));
    assert_eq!(try_exchange(s.addr, &post_bytes(s.addr, &q, &b), T).unwrap().code(), "000000");
    assert_eq!(try_exchange(s.addr, &post_bytes(s.addr, &q, &b), T).unwrap().code(), "000001");
    let bad = format!("redis://:wrongPassw0rd@127.0.0.1:{}/0", redis.port);
    let s2 = serve(&["--key", KEY, "--replay-store", &bad], None);
    let r = try_v2(s2.addr, &query_body("ins-none"), T).unwrap();
    r.assert_signed(KEY);
    assert_eq!(r.code(), "000005");
    let h = try_exchange(s2.addr, &get_bytes(s2.addr, "/healthz"), T).unwrap();
    assert_eq!(h.status, 503);
    s.wait_log_lines(4);
    s2.wait_log_lines(3);
    for text in [s.log_text(), s2.log_text(), String::from_utf8_lossy(&h.body).into_owned()] {
        assert!(!text.contains("red1sPassw0rd") && !text.contains("wrongPassw0rd"), "{text}");
    }
}
