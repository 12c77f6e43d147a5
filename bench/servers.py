"""Real servers on loopback for the tests and benchmarks: the app, Chroma, llama.cpp's API.

Each is a child process on a free port, waited for until it answers and stopped at the
end; its output goes to a log file that the caller can show when something fails.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.common import ROOT

BIN = Path(sys.executable).parent


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    process: subprocess.Popen
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def _wait(server: Server, probe: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if server.process.poll() is not None:
            raise RuntimeError(f"{server.url} exited at start:\n{server.output()[-3000:]}")
        try:  # loopback only: these servers are bound to 127.0.0.1
            probe_connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
            probe_connection.request("GET", probe)
            probe_connection.getresponse().read()
            probe_connection.close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{server.url} did not answer in {timeout:.0f} s") from None
            time.sleep(0.5)


@contextmanager
def serve(
    args: list[str],
    port: int,
    log: Path,
    probe: str,
    env: Mapping[str, str] | None = None,
    timeout: float = 180,
) -> Iterator[Server]:
    """Run `args` until the block ends; `probe` is a GET path that answers once it is up."""
    with log.open("w") as out:
        process = subprocess.Popen(
            args,
            cwd=ROOT,
            env={**os.environ, **(env or {})},
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, so helpers and tracers stop too
        )
    server = Server(process, port, log)
    try:
        _wait(server, probe, timeout)
        yield server
    finally:
        stop(process)


def stop(process: subprocess.Popen, timeout: float = 30) -> None:
    """SIGTERM the process group, then SIGKILL what is left after `timeout`."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=timeout)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()


def app_server(
    env: Mapping[str, str], log: Path, timeout: float = 180, args: list[str] | None = None
):
    """`python -m app` (the chat UI), or `args` that start it; settings come from `env`."""
    port = free_port()
    command = args or [sys.executable, "-m", "app"]
    return serve(command, port, log, "/", {**env, "COBBLER_PORT": str(port)}, timeout)


def chroma_server(path: Path, log: Path):
    """`chroma run`, the server shipped with the chromadb package, storing in `path`."""
    port = free_port()
    args = [str(BIN / "chroma"), "run", "--path", str(path), "--host", "127.0.0.1"]
    return serve(
        [*args, "--port", str(port)],
        port,
        log,
        "/api/v2/heartbeat",
        {"ANONYMIZED_TELEMETRY": "False"},
        60,
    )


def model_server(model: Path, log: Path, n_ctx: int = 4096, alias: str = "cobbler"):
    """llama-cpp-python's OpenAI-compatible server (`python -m llama_cpp.server`)."""
    port = free_port()
    args = [sys.executable, "-m", "llama_cpp.server", "--model", str(model)]
    args += ["--host", "127.0.0.1", "--port", str(port), "--n_ctx", str(n_ctx)]
    args += ["--n_threads", str(os.cpu_count() or 2), "--model_alias", alias]
    return serve(args, port, log, "/v1/models", timeout=120)
