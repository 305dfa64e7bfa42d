//! Cost against size (issue 8), with criterion: V2 verify and Body-Sign
//! against the body size (64 B … 64 KiB), V1 verify against the number of
//! signed parameters (1 … 63: with `authToken` the query then holds 64
//! pairs, koosign's `MAX_PARAMS`). Each point beside its floor.

use criterion::Criterion;
use koosign_benches::ops::{alloc_check, run_criterion, scale_ops};
use std::time::Duration;

fn main() {
    let mut ops = scale_ops();
    alloc_check(&mut ops);
    // 58 points: shorter windows than criterion's defaults; the command
    // line (--quick, --warm-up-time, --measurement-time) still overrides.
    let mut c = Criterion::default()
        .warm_up_time(Duration::from_millis(1000))
        .measurement_time(Duration::from_millis(2000))
        .sample_size(50)
        .configure_from_args();
    run_criterion(&mut c, &mut ops);
    c.final_summary();
}
