from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Iterator

import pytest

TESTS = Path(__file__).resolve().parent
REPO = TESTS.parent.parent
# The repository's vectors (KOOSIGN_VECTORS points elsewhere); absent files
# fail the tests that read them, they are never skipped.
VECTORS = Path(os.environ.get("KOOSIGN_VECTORS") or REPO / "vectors")
CONFORMANCE_FILES = ("notifications.jsonl", "apig.jsonl")
EXAMPLES = REPO / "examples" / "python"

sys.path.insert(0, str(TESTS))  # pyref
sys.path.insert(0, str(REPO / "examples" / "python"))  # the examples import their instances.py

# The documented example of docs/SCHEMES.md §S2.
ACCESS_KEY = "testAccessKey123"
V2_BODY = (
    b'{"activity":"newInstance","businessId":"87b94795-0603-4e24-8ae5-69420d60e3c8",'
    b'"orderId":"CS2211181819B4LVS","orderLineId":"CS2211181819B4LVS-000001","testFlag":"1"}'
)
V2_NONCE = "50D83FDECAED6CCD8EF597F2A577950527928BA287D04E6036E92B2806FD17DA"
V2_TS = "1680508066618"
V2_SIG = "CD8D59BB7FCF7574752B5EB0ED04B3ACF4A759DA53F24D30A79ABE45C5D1BA25"
V2_KIT_SIG = "ABB44B4C7A867A9F5EB8D9B7D9DF42E804FF66BC084EE412C49CFAFBFD5D8BE6"
V2_QUERY = f"signature={V2_SIG}&timestamp={V2_TS}&nonce={V2_NONCE}"
V2_NOW = 1680508070.0


def vector_files() -> list[Path]:
    """The conformance files of the vectors folder; fails when one is absent."""
    files = [VECTORS / name for name in CONFORMANCE_FILES]
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        pytest.fail(f"conformance vectors missing: {', '.join(missing)} (the repository's vectors/ or $KOOSIGN_VECTORS)")
    return files


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    """A real redis-server: the one scripts/test-python.sh started
    (KOOSIGN_TEST_REDIS_URL), else one started here on a free loopback port."""
    url = os.environ.get("KOOSIGN_TEST_REDIS_URL")
    if url:
        yield url
        return
    server = shutil.which("redis-server")
    if server is None:
        pytest.skip("redis-server is not installed (scripts/test-python.sh installs it)")
    port = free_port()
    tmp = tempfile.mkdtemp(prefix="koosign-redis-")
    proc = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", tmp],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(tmp, ignore_errors=True)
