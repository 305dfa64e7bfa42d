//! Paired, interleaved timing of two operations: the ratios of
//! BENCHMARKS.md. On a shared, noisy machine two criterion runs seconds
//! apart can see different loads; here A and B alternate in batches of
//! about half a millisecond (order ABBA, so that a linear drift cancels),
//! and each round gives one ratio. The median round ratio is reported,
//! with its quartiles and the ratio of the fastest batches.

use std::time::{Duration, Instant};

/// The time per pair of the paired benches (`ratios`, `context`): 0.1 s
/// with `--quick` among the arguments, else `KOOSIGN_PAIR_SECONDS`
/// (default 3 s).
pub fn pair_budget() -> Duration {
    let secs: f64 = if std::env::args().any(|a| a == "--quick") {
        0.1
    } else {
        std::env::var("KOOSIGN_PAIR_SECONDS").ok().and_then(|s| s.parse().ok()).unwrap_or(3.0)
    };
    Duration::from_secs_f64(secs)
}

/// The result of [`paired`].
#[derive(Clone, Debug)]
pub struct Paired {
    /// Median over rounds of (A ns/op) / (B ns/op).
    pub ratio: f64,
    /// 25th and 75th percentiles of the round ratios.
    pub p25: f64,
    pub p75: f64,
    /// (fastest A batch, ns/op) / (fastest B batch, ns/op).
    pub ratio_of_min: f64,
    /// Median ns/op of A and B over the rounds.
    pub a_ns: f64,
    pub b_ns: f64,
    /// Fastest batch ns/op of A and B.
    pub a_min_ns: f64,
    pub b_min_ns: f64,
    pub rounds: usize,
}

fn time_batch(f: &mut dyn FnMut(), n: u64) -> f64 {
    let t = Instant::now();
    for _ in 0..n {
        f();
    }
    t.elapsed().as_nanos() as f64 / n as f64
}

/// Iterations of `f` that take about `target`.
fn calibrate(f: &mut dyn FnMut(), target: Duration) -> u64 {
    let mut n = 1u64;
    loop {
        let t = Instant::now();
        for _ in 0..n {
            f();
        }
        let e = t.elapsed();
        if e >= target / 4 || n >= 1 << 30 {
            let per = e.as_nanos() as f64 / n as f64;
            return ((target.as_nanos() as f64 / per.max(0.1)) as u64).max(1);
        }
        n *= 2;
    }
}

fn quantile(sorted: &[f64], q: f64) -> f64 {
    let i = ((sorted.len() - 1) as f64 * q).round() as usize;
    sorted[i]
}

/// Times `f` alone in batches of about half a millisecond for `budget`;
/// returns (median, fastest) ns per call over the batches. The peers
/// (`KooBench.java`, `openssl_peer.c`) time themselves the same way.
pub fn solo(f: &mut dyn FnMut(), budget: Duration) -> (f64, f64) {
    let warm = Instant::now();
    while warm.elapsed() < budget / 10 {
        f();
    }
    let n = calibrate(f, Duration::from_micros(500));
    let mut t = Vec::new();
    let start = Instant::now();
    while start.elapsed() < budget || t.len() < 5 {
        t.push(time_batch(f, n));
    }
    t.sort_by(|p, q| p.partial_cmp(q).unwrap());
    (quantile(&t, 0.5), t[0])
}

/// Times `a` against `b`, interleaved, for about `budget` in all.
pub fn paired(a: &mut dyn FnMut(), b: &mut dyn FnMut(), budget: Duration) -> Paired {
    let batch = Duration::from_micros(500);
    // Warm-up (caches, branch predictors, CPU frequency).
    let warm = Instant::now();
    while warm.elapsed() < budget / 10 {
        a();
        b();
    }
    let na = calibrate(a, batch);
    let nb = calibrate(b, batch);
    let (mut ratios, mut ta, mut tb) = (Vec::new(), Vec::new(), Vec::new());
    let start = Instant::now();
    let mut round = 0usize;
    while start.elapsed() < budget || ratios.len() < 5 {
        let (x, y) = if round & 1 == 0 {
            let x = time_batch(a, na);
            (x, time_batch(b, nb))
        } else {
            let y = time_batch(b, nb);
            (time_batch(a, na), y)
        };
        ratios.push(x / y);
        ta.push(x);
        tb.push(y);
        round += 1;
    }
    let sort = |v: &mut Vec<f64>| v.sort_by(|p, q| p.partial_cmp(q).unwrap());
    sort(&mut ratios);
    sort(&mut ta);
    sort(&mut tb);
    Paired {
        ratio: quantile(&ratios, 0.5),
        p25: quantile(&ratios, 0.25),
        p75: quantile(&ratios, 0.75),
        ratio_of_min: ta[0] / tb[0],
        a_ns: quantile(&ta, 0.5),
        b_ns: quantile(&tb, 0.5),
        a_min_ns: ta[0],
        b_min_ns: tb[0],
        rounds: ratios.len(),
    }
}

impl Paired {
    /// One JSON object (no dependencies): the pair's name, A's and B's.
    pub fn json(&self, group: &str, a: &str, b: &str) -> String {
        format!(
            "{{\"group\":\"{group}\",\"a\":\"{a}\",\"b\":\"{b}\",\"ratio\":{:.4},\"p25\":{:.4},\"p75\":{:.4},\"ratio_of_min\":{:.4},\"a_ns\":{:.2},\"b_ns\":{:.2},\"a_min_ns\":{:.2},\"b_min_ns\":{:.2},\"rounds\":{}}}",
            self.ratio, self.p25, self.p75, self.ratio_of_min, self.a_ns, self.b_ns, self.a_min_ns, self.b_min_ns, self.rounds
        )
    }
}
