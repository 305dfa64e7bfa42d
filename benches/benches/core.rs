//! The core operations of koosign beside their physical floors (issue 8),
//! with criterion. The operations and floors are defined once, in
//! `koosign_benches::ops`; each criterion group holds koosign's calls and
//! the floors they are judged against (the ratios themselves come from the
//! interleaved `ratios` bench).
//!
//! Before timing anything, every koosign operation runs under the counting
//! allocator of `koosign_benches`: the bench fails if any allocates.

use criterion::Criterion;
use koosign_benches::ops::{alloc_check, core_ops, run_criterion};

fn main() {
    let mut ops = core_ops();
    alloc_check(&mut ops);
    let mut c = Criterion::default().configure_from_args();
    run_criterion(&mut c, &mut ops);
    c.final_summary();
}
