//! The ratios of BENCHMARKS.md (issue 8): each koosign operation against
//! its floor, interleaved in half-millisecond batches in one process
//! (`koosign_benches::paired`), so that the load of a shared machine hits
//! both sides alike. Prints one `RATIO {json}` line per pair.
//!
//! Then the V1 growth table (`v1_growth`, 1, 9 and 63 signed parameters,
//! each pair interleaved the same way): one `RATIO` line per point and one
//! `GROWTH {json}` line with the cost of each added parameter, koosign's
//! and the floor's, and their ratio (issue 14: koosign's cost must grow no
//! faster than the floor's).
//!
//! Then every core operation alone (`SOLO {json}`: median of
//! half-millisecond batches, as the JDK and OpenSSL peers time themselves),
//! for the peer comparison.
//!
//! `KOOSIGN_PAIR_SECONDS` (default 3) is the time per pair; the scale
//! points get half of it, the solo timings a third. Arguments (e.g. cargo's `--bench`) are ignored,
//! except `--quick` (0.1 s per pair). `KOOSIGN_RATIO_FILTER=TEXT` keeps
//! only the groups whose name contains TEXT.

use koosign_benches::ops::{core_ops, growth_ops, scale_ops, Op, GOALS};
use koosign_benches::paired::{pair_budget, paired, solo};
use koosign_benches::{GROWTH_PARAMS, SCALE_PARAMS, SCALE_SIZES};

fn take(ops: &mut Vec<Op>, id: &str) -> Op {
    let i = ops.iter().position(|o| o.id() == id).unwrap_or_else(|| panic!("no op {id}"));
    ops.remove(i)
}

fn main() {
    let budget = pair_budget();
    // KOOSIGN_RATIO_FILTER=TEXT: only the pairs whose group contains TEXT.
    let filter = std::env::var("KOOSIGN_RATIO_FILTER").unwrap_or_default();
    let mut core = core_ops();
    for (group, a, b, _) in GOALS.into_iter().filter(|g| g.0.contains(&filter)) {
        // Ops are taken out and put back: a floor may serve several pairs.
        let mut x = take(&mut core, &format!("{group}/{a}"));
        let mut y = take(&mut core, &format!("{group}/{b}"));
        let p = paired(&mut *x.run, &mut *y.run, budget);
        println!("RATIO {}", p.json(group, a, b));
        core.push(x);
        core.push(y);
    }
    let mut scale = scale_ops();
    let points: Vec<(&str, usize)> = SCALE_SIZES
        .iter()
        .map(|&n| ("scale_v2_verify", n))
        .chain(SCALE_SIZES.iter().map(|&n| ("scale_body_sign", n)))
        .chain(SCALE_PARAMS.iter().map(|&n| ("scale_v1_verify", n)))
        .filter(|(g, _)| g.contains(&filter))
        .collect();
    for (group, n) in points {
        let mut x = take(&mut scale, &format!("{group}/koosign/{n}"));
        let mut y = take(&mut scale, &format!("{group}/floor/{n}"));
        let p = paired(&mut *x.run, &mut *y.run, budget / 2);
        println!("RATIO {}", p.json(group, &format!("koosign/{n}"), &format!("floor/{n}")));
    }
    if "v1_growth".contains(filter.as_str()) {
        let mut growth = growth_ops();
        let mut points = Vec::new();
        for n in GROWTH_PARAMS {
            let mut x = take(&mut growth, &format!("v1_growth/koosign/{n}"));
            let mut y = take(&mut growth, &format!("v1_growth/floor/{n}"));
            let p = paired(&mut *x.run, &mut *y.run, budget);
            println!("RATIO {}", p.json("v1_growth", &format!("koosign/{n}"), &format!("floor/{n}")));
            points.push((n, p));
        }
        let (first, last) = (&points[0], &points[points.len() - 1]);
        let per = |a: f64, b: f64| (b - a) / (last.0 - first.0) as f64;
        let k = per(first.1.a_ns, last.1.a_ns);
        let f = per(first.1.b_ns, last.1.b_ns);
        println!(
            "GROWTH {{\"group\":\"v1_growth\",\"from\":{},\"to\":{},\"koosign_ns_per_param\":{:.2},\"floor_ns_per_param\":{:.2},\"growth_ratio\":{:.3}}}",
            first.0,
            last.0,
            k,
            f,
            k / f
        );
    }
    for o in core.iter_mut().filter(|o| o.group.contains(&filter)) {
        let (med, min) = solo(&mut *o.run, budget / 3);
        println!("SOLO {{\"id\":\"{}\",\"ns\":{:.2},\"min_ns\":{:.2}}}", o.id(), med, min);
    }
}
