"""Two (or more) builds of the koosign wheel against each other, properly:
in one run, alternating, several repeats (issue 14: "measure whether abi3
costs anything against a version-specific build, and choose on the
figures").

    python bindings-python/bench/builds.py ROUNDS LABEL=SITE_DIR LABEL=SITE_DIR ...

Each SITE_DIR holds an installed koosign (`pip install --target SITE_DIR
wheel`); an empty SITE_DIR means the interpreter's own. Each round starts
one process per build (the order reversed every other round, so a change of
the machine's load falls on both), which times every row of bench.py
(koosign and the pure-Python reference, APIG signing left out) as best of
four ~8 ms batches. Printed per row: each build's median over the rounds,
its speed-up against the reference (the reference's median over every
process), and each build ÷ the first. One `PYBUILDS {json}` line at the end.
Nothing is asserted.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

CHILD = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
sys.argv = ["bench"]
import bench as B
rows = [("one-shot",) + r for r in B.one_shot_rows()] + [("context",) + r for r in B.check_same_results(B.context_rows())]

def batch(f, n):
    t = time.perf_counter_ns()
    for _ in range(n):
        f()
    return (time.perf_counter_ns() - t) / n

def per_batch(f):
    t = time.perf_counter_ns(); f(); f()
    return max(20, int(8e6 / max((time.perf_counter_ns() - t) / 2, 100)))

out = {}
for path, name, mine, ref, why in rows:
    if mine is None or name == "apig_sign":
        continue
    n, nr = per_batch(mine), per_batch(ref)
    k = r = float("inf")
    for _ in range(4):
        k = min(k, batch(mine, n))
        r = min(r, batch(ref, nr))
    out[path + " " + name] = (k, r)
print(json.dumps(out))
"""


def main() -> int:
    if len(sys.argv) < 3:
        print(__doc__)
        return 2
    rounds = int(sys.argv[1])
    builds = [a.split("=", 1) for a in sys.argv[2:]]
    res = {label: [] for label, _ in builds}
    for i in range(rounds):
        for label, site in builds if i % 2 == 0 else builds[::-1]:
            env = dict(os.environ)
            if site:
                env["PYTHONPATH"] = site
            p = subprocess.run([sys.executable, "-c", CHILD, str(HERE)], env=env, capture_output=True, text=True)
            if p.returncode:
                sys.stderr.write(p.stderr)
                return 1
            res[label].append(json.loads(p.stdout))
    labels = [label for label, _ in builds]
    first = labels[0]
    print(f"{rounds} rounds; ns/call, median over rounds (speed-up against pure Python)")
    print("| row | " + " | ".join(labels) + " | pure Python | " + " | ".join(f"{x} ÷ {first}" for x in labels[1:]) + " |")
    print("|---|" + "---:|" * (2 * len(labels)) )
    summary = []
    for op in res[first][0]:
        ref = statistics.median(r[op][1] for label in labels for r in res[label])
        med = {label: statistics.median(r[op][0] for r in res[label]) for label in labels}
        cells = [f"{med[x]:,.0f} ({ref / med[x]:.1f}×)" for x in labels]
        ratios = [f"{med[x] / med[first]:.3f}" for x in labels[1:]]
        print(f"| {op} | " + " | ".join(cells) + f" | {ref:,.0f} | " + " | ".join(ratios) + " |")
        summary.append({"row": op, "ref_ns": ref, **{f"{x}_ns": med[x] for x in labels}})
    print("PYBUILDS " + json.dumps({"rounds": rounds, "rows": summary}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
