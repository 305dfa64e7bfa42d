#!/usr/bin/env python3
"""Server load bench (issue 14 "The server"): `koosign serve` and the Flask
and Express examples under the same bounded loopback load, in one run.

For each server: start it on a free loopback port, create one instance with
a signed newInstance, then `wrk` (1 thread, C connections, keep-alive) sends
V2 queryInstance notifications for that instance, each signed afresh with a
nonce of its own (benches/load/v2.lua) — warm-up W s, then D s measured.
Every answer is checked (HTTP 200, resultCode 000000). The server is stopped
at the end of its turn. The whole load lasts at most 30 s and stops by
itself (wrk's -d; each server is killed after its turn).

Prints one `LOADRESULT {json}` line per server (requests/s, latency
percentiles in µs, bad answers, errors, server RSS), read by
benches/report.py.

    python3 benches/load/serve_load.py [--quick] [--seconds D] [--warmup W] [--connections C] [--only TEXT]

Needs: wrk (Debian), target/release/koosign; the Flask example needs a
Python with koosign and Flask (--python, default .venv/bin/python), the
Express one node and examples/node/node_modules. A server whose
prerequisites are missing is reported as not run, with the reason.
Standard library only.
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LUA = Path(__file__).resolve().parent / "v2.lua"
KEY = "loadBenchAccessKey0123456789"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def v2_query(body: bytes, nonce: str, ts: str) -> str:
    k = KEY.encode()
    inner = hmac.new(k, body, hashlib.sha256).hexdigest().encode()
    sig = hmac.new(k, k + nonce.encode() + ts.encode() + inner, hashlib.sha256).hexdigest().upper()
    return f"signature={sig}&timestamp={ts}&nonce={nonce}"


def post_v2(port: int, body: bytes, timeout: float = 5.0) -> dict:
    q = v2_query(body, secrets.token_hex(32), str(int(time.time() * 1000)))
    req = urllib.request.Request(f"http://127.0.0.1:{port}/produce?{q}", data=body, method="POST",
                                 headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read())


def wait_port(port: int, proc: subprocess.Popen, limit: float = 20.0) -> None:
    end = time.time() + limit
    while time.time() < end:
        if proc.poll() is not None:
            raise RuntimeError(f"exited with {proc.returncode} before listening")
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"not listening on {port} after {limit} s")


def rss_kib(pid: int) -> int:
    try:
        for line in open(f"/proc/{pid}/status", encoding="ascii"):
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def targets(args: argparse.Namespace, tmp: str):
    """(name, description, argv, env, why-not-run or None)."""
    koosign = ROOT / "target" / "release" / "koosign"
    env = dict(os.environ, KOOSIGN_ACCESS_KEY=KEY)
    miss = lambda p, what: None if Path(p).exists() else f"{what} ({p}) missing"
    py = args.python
    node_modules = ROOT / "examples" / "node" / "node_modules"
    out = []
    for store in ("sqlite", "memory"):
        out.append((f"koosign serve --replay-store {store}",
                    f"Rust, axum; instances in SQLite, replay store {store}",
                    lambda port, store=store: [str(koosign), "serve", "--addr", f"127.0.0.1:{port}", "--quiet",
                                               "--replay-store", store, "--data", os.path.join(tmp, f"serve-{store}-{port}")],
                    env, miss(koosign, "the CLI")))
    flask_why = miss(py, "the Python") or (
        None if subprocess.run([py, "-c", "import koosign, flask"], capture_output=True).returncode == 0
        else f"{py} cannot import koosign and flask")
    out.append(("Flask example", "examples/python/merchant_flask.py as it runs itself (Werkzeug's threaded server)",
                lambda port: [py, str(ROOT / "examples" / "python" / "merchant_flask.py"), str(port)], env, flask_why))
    node_why = miss(node_modules, "examples/node/node_modules (npm install)")
    out.append(("Express example", "examples/node/express-merchant.js (Express 5, koosign WASM)",
                lambda port: ["node", str(ROOT / "examples" / "node" / "express-merchant.js"), "--port", str(port)],
                env, node_why))
    return out


def wrk(port: int, body: bytes, secs: float, conns: int) -> dict:
    env = dict(os.environ, LOAD_KEY=KEY, LOAD_BODY=body.decode(), LOAD_RUN=secrets.token_hex(8))
    cmd = ["wrk", "-t1", f"-c{conns}", f"-d{max(1, round(secs))}s", "--timeout", "5s", "-s", str(LUA),
           f"http://127.0.0.1:{port}/produce"]
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=secs + 30)
    for line in p.stdout.splitlines():
        if line.startswith("LOAD {"):
            return json.loads(line[5:])
    raise RuntimeError(f"wrk printed no result (exit {p.returncode}): {p.stdout[-400:]} {p.stderr[-400:]}")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="1 s per server, no warm-up (a smoke run)")
    ap.add_argument("--seconds", type=float, default=5.0, help="measured seconds per server (default 5)")
    ap.add_argument("--warmup", type=float, default=1.0, help="warm-up seconds per server (default 1)")
    ap.add_argument("--connections", type=int, default=8, help="wrk connections (default 8)")
    ap.add_argument("--python", default=str(ROOT / ".venv" / "bin" / "python"))
    ap.add_argument("--only", help="only the servers whose name contains this text (e.g. serve)")
    args = ap.parse_args()
    if args.quick:
        args.seconds, args.warmup = 1.0, 0.0
    ts = [t for t in targets(args, tempfile.mkdtemp(prefix="koosign-load-")) if not args.only or args.only in t[0]]
    runnable = sum(1 for t in ts if t[4] is None)
    if runnable * (args.seconds + args.warmup) > 30:
        ap.error(f"{runnable} servers × {args.seconds + args.warmup} s is more than the 30 s allowed")
    print(f"load: wrk -t1 -c{args.connections}, {args.warmup:g} s warm-up + {args.seconds:g} s per server, "
          f"V2 queryInstance, fresh signature and nonce per request", flush=True)
    status = 0
    for name, what, argv, env, why in ts:
        res = {"name": name, "what": what, "connections": args.connections, "seconds_planned": args.seconds}
        if why:
            res["not_run"] = why
            print("LOADRESULT " + json.dumps(res), flush=True)
            continue
        port = free_port()
        # The server's log goes to a file: a pipe left unread fills (64 KiB) and
        # stalls a server that logs each request (Werkzeug does).
        errlog = tempfile.TemporaryFile(mode="w+")
        proc = subprocess.Popen(argv(port), env=env, stdout=subprocess.DEVNULL, stderr=errlog, text=True)
        try:
            wait_port(port, proc)
            order = f"LOAD-{secrets.token_hex(4)}"
            created = post_v2(port, json.dumps({"activity": "newInstance", "orderId": order, "orderLineId": order + "-1",
                                                 "testFlag": "1"}, separators=(",", ":")).encode())
            assert created.get("resultCode") == "000000", created
            body = json.dumps({"activity": "queryInstance", "instanceId": created["instanceId"], "testFlag": "1"},
                              separators=(",", ":")).encode()
            check = post_v2(port, body)
            assert check.get("resultCode") == "000000" and check.get("info"), check
            res["rss_start_kib"] = rss_kib(proc.pid)
            if args.warmup > 0:
                wrk(port, body, args.warmup, args.connections)
            res.update(wrk(port, body, args.seconds, args.connections))
            res["rss_end_kib"] = rss_kib(proc.pid)
            if res["bad_answers"] or res["connect_errors"] or res["read_errors"] or res["timeouts"]:
                status = 1
        except Exception as e:  # noqa: BLE001 - reported, the other servers still run
            res["failed"] = str(e)[:300]
            status = 1
        finally:
            proc.terminate()
            try:
                proc.wait(10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            if "failed" in res:
                errlog.seek(0)
                res["stderr"] = errlog.read()[-300:]
            errlog.close()
        print("LOADRESULT " + json.dumps(res), flush=True)
    return status


if __name__ == "__main__":
    sys.exit(main())
