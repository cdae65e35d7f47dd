"""A real inference server on loopback for the integration tests: llama.cpp's ``llama-server``
serving a tiny random-weight llama that the tests write themselves (``tinymodel.py``).

``make test`` builds ``llama-server`` from a pinned llama.cpp source into ``.venv/bin`` (see the
Makefile). The fixture looks for it, in order, at ``$TRUECOST_LLAMA_SERVER``, next to the running
Python, and on ``PATH``. When it is missing the tests are skipped with the reason, except under
CI (``CI`` set to anything but ``""``/``0``/``false``), where a missing server is a failure: CI
installs it, so a skip there would hide a broken build.

The server runs with 4 slots (continuous batching, so concurrency 4 is real concurrency), one
compute thread (two cores are shared with the client), a fixed seed and a free port chosen at
start; readiness is ``GET /health`` returning 200, within ``READY_TIMEOUT_S``.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from .tinymodel import write_tiny_llama_gguf

# Read at import: the autouse ``clean_environ`` fixture removes TRUECOST_* variables per test.
_EXPLICIT_BINARY = os.environ.get("TRUECOST_LLAMA_SERVER")
_IN_CI = os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")

REPO_SRC = Path(__file__).resolve().parents[2] / "src" / "truecost"
MODEL = "tiny-llama"
SLOTS = 4  # llama-server --parallel: requests decoded together in one batch
CTX_PER_SLOT = 4096  # tokens of prompt + reply per request (the CLI's default prompt is ~300)
READY_TIMEOUT_S = 60.0  # model load is < 1 s; the margin is for a loaded 2-core CI runner


def find_llama_server() -> str | None:
    candidates = [_EXPLICIT_BINARY, str(Path(sys.executable).parent / "llama-server"),
                  shutil.which("llama-server")]
    return next((c for c in candidates if c and os.access(c, os.X_OK)), None)


def missing(reason: str) -> None:
    """Skip locally, fail in CI."""
    if _IN_CI:
        pytest.fail(f"{reason} (CI is set, so this is a failure, not a skip)", pytrace=False)
    pytest.skip(reason)


@dataclass(frozen=True)
class RealServer:
    base_url: str  # http://127.0.0.1:PORT/v1
    model: str
    slots: int
    log: Path
    binary: str

    def log_tail(self, n: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _start(binary: str, gguf: Path, log: Path) -> tuple[subprocess.Popen[bytes], int]:
    port = _free_port()  # llama-server does not report a port-0 choice, so pick one and pass it
    cmd = [binary, "--model", str(gguf), "--alias", MODEL, "--host", "127.0.0.1",
           "--port", str(port), "--parallel", str(SLOTS), "--ctx-size", str(SLOTS * CTX_PER_SLOT),
           "--threads", "1", "--threads-http", "2", "--seed", "1", "--no-webui",
           "--cache-ram", "0", "--no-warmup"]
    with log.open("ab") as out:
        out.write(("$ " + " ".join(cmd) + "\n").encode())
        out.flush()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    return proc, port


def _wait_ready(proc: subprocess.Popen[bytes], port: int) -> bool:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1.0).status_code == 200:
                return True
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    return False


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


@pytest.fixture(scope="session")
def tiny_gguf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if importlib.util.find_spec("gguf") is None:
        missing("the tiny model is written with the 'gguf' package: pip install -e '.[test]'")
    return write_tiny_llama_gguf(tmp_path_factory.mktemp("model") / "tiny-llama.gguf", seed=0)


@pytest.fixture(scope="session")
def llama_server(tiny_gguf: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealServer]:
    """A running llama-server; stopped (SIGTERM, then SIGKILL after 10 s) at session end."""
    binary = find_llama_server()
    if binary is None:
        missing("llama-server not found: `make test` builds it into .venv/bin, or point "
                "TRUECOST_LLAMA_SERVER at a llama.cpp llama-server binary")
    log = tmp_path_factory.mktemp("llama-server") / "server.log"
    for _attempt in range(3):  # the chosen port can be taken between probe and bind
        proc, port = _start(binary, tiny_gguf, log)
        if _wait_ready(proc, port):
            break
        _stop(proc)
    else:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-30:])
        pytest.fail(f"llama-server did not become ready within {READY_TIMEOUT_S:.0f} s:\n{tail}",
                    pytrace=False)
    try:
        yield RealServer(f"http://127.0.0.1:{port}/v1", MODEL, SLOTS, log, binary)
    finally:
        _stop(proc)
