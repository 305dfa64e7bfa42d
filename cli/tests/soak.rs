//! A bounded soak of `koosign serve` (issue 15; run by scripts/soak.sh):
//! a sustained rate of freshly signed requests (unique nonces) for at most
//! 60 s, one connection per request, as the marketplace sends them. Reports
//! requests/s, latency p50/p99/p99.9 (from each request's scheduled start, so
//! a server that falls behind is charged for it), errors, and the server's
//! resident memory at the start, the end and its peak.
//!
//! Environment: KOOSIGN_SOAK_SECS (default 30, at most 60), KOOSIGN_SOAK_RATE
//! (requests/s, default 200), KOOSIGN_SOAK_STORE (`sqlite`, `memory`,
//! `redis` for a redis-server started here, or a redis:// URL; default
//! sqlite). The mix: 50% V2 queryInstance, 40% V2
//! newInstance (a new order each), 10% V1 refreshInstance.

mod common;
mod opsutil;

use common::*;
use opsutil::*;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn env_u64(name: &str, default: u64) -> u64 {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64) * p).ceil() as usize;
    sorted[i.clamp(1, sorted.len()) - 1]
}

#[test]
#[ignore = "soak: scripts/soak.sh"]
fn soak() {
    let secs = env_u64("KOOSIGN_SOAK_SECS", 30).clamp(1, 60);
    let rate = env_u64("KOOSIGN_SOAK_RATE", 200).max(1);
    let mut store = std::env::var("KOOSIGN_SOAK_STORE").unwrap_or_else(|_| "sqlite".into());
    // `redis`: a redis-server of our own on loopback.
    let _redis = (store == "redis").then(RedisServer::start);
    if let Some(r) = &_redis {
        store = r.url();
    }
    let s = serve(&["--key", KEY, "--quiet", "--replay-store", &store], None);
    let id = create(s.addr, "SOAK-0");
    let pid = s.child.id();
    std::thread::sleep(Duration::from_millis(200));
    let rss_start = rss_kib(pid).unwrap_or(0);
    let total = secs * rate;
    let next = Arc::new(AtomicU64::new(0));
    let lat: Arc<Mutex<Vec<Duration>>> = Arc::default();
    let errors: Arc<Mutex<Vec<String>>> = Arc::default();
    let peak = Arc::new(AtomicU64::new(rss_start));
    let t0 = Instant::now() + Duration::from_millis(100);
    let workers = 32.min(total as usize).max(1);
    let hs: Vec<_> = (0..workers)
        .map(|_| {
            let (next, lat, errors, id) = (next.clone(), lat.clone(), errors.clone(), id.clone());
            let addr = s.addr;
            std::thread::spawn(move || loop {
                let i = next.fetch_add(1, Ordering::SeqCst);
                if i >= total {
                    break;
                }
                let due = t0 + Duration::from_nanos(i * 1_000_000_000 / rate);
                if let Some(w) = due.checked_duration_since(Instant::now()) {
                    std::thread::sleep(w);
                }
                let r = match i % 10 {
                    0 => {
                        let q = v1_signed(&[("activity", "refreshInstance"), ("instanceId", &id), ("testFlag", "1")], KEY);
                        try_exchange(addr, &get_bytes(addr, &format!("/produce?{q}")), Duration::from_secs(10))
                    }
                    1..=4 => try_v2(addr, &new_instance_body(&format!("SOAK-{i}")), Duration::from_secs(10)),
                    _ => try_v2(addr, &query_body(&id), Duration::from_secs(10)),
                };
                let took = due.elapsed();
                match r {
                    Ok(r) if r.code() == "000000" => lat.lock().unwrap().push(took),
                    Ok(r) => errors.lock().unwrap().push(r.code()),
                    Err(e) => errors.lock().unwrap().push(e),
                }
            })
        })
        .collect();
    // The peak, and the memory after a quarter of the run (warmed up: page
    // caches, threads), to tell growth from warm-up.
    let warm = Arc::new(AtomicU64::new(0));
    let sampler = {
        let (peak, next, warm) = (peak.clone(), next.clone(), warm.clone());
        std::thread::spawn(move || {
            while next.load(Ordering::SeqCst) < total {
                if let Some(r) = rss_kib(pid) {
                    peak.fetch_max(r, Ordering::SeqCst);
                    if warm.load(Ordering::SeqCst) == 0 && next.load(Ordering::SeqCst) >= total / 4 {
                        warm.store(r, Ordering::SeqCst);
                    }
                }
                std::thread::sleep(Duration::from_millis(250));
            }
        })
    };
    for h in hs {
        h.join().unwrap();
    }
    let elapsed = t0.elapsed();
    sampler.join().unwrap();
    let rss_end = rss_kib(pid).unwrap_or(0);
    let mut lat = lat.lock().unwrap().clone();
    lat.sort();
    let errors = errors.lock().unwrap().clone();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let done = lat.len() + errors.len();
    println!(
        "\nsoak: store={store} target={rate}/s for {secs} s: {done} requests in {:.1} s = {:.1} req/s; \
         latency p50 {:.2} ms, p99 {:.2} ms, p99.9 {:.2} ms, max {:.2} ms; errors {}; \
         RSS start {} KiB, at 1/4 {} KiB, end {} KiB, peak {} KiB",
        elapsed.as_secs_f64(),
        done as f64 / elapsed.as_secs_f64(),
        ms(pct(&lat, 0.50)),
        ms(pct(&lat, 0.99)),
        ms(pct(&lat, 0.999)),
        ms(lat.last().copied().unwrap_or_default()),
        errors.len(),
        rss_start,
        warm.load(Ordering::SeqCst),
        rss_end,
        peak.load(Ordering::SeqCst),
    );
    if !errors.is_empty() {
        println!("soak: first errors: {:?}", &errors[..errors.len().min(10)]);
    }
    assert!(errors.is_empty(), "{} errors", errors.len());
}
