"""Proven offline: ingest, start the app and answer with every outbound connection refused.

Two witnesses: `tests/offline/sitecustomize.py` is loaded at start-up by each Python
process and refuses and records any connection or name lookup beyond loopback; where
strace exists it also records every connect()/sendto() made by native code (Chroma's
Rust core, llama.cpp), which no Python patch can see.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from bench.servers import app_server
from tests.conftest import BUNDLED_KB, ROOT, app_env

pytestmark = pytest.mark.llm

GUARD = Path(__file__).resolve().parent.parent / "offline"
STRACE = shutil.which("strace")
_ADDRESS = re.compile(r'inet_addr\("([^"]+)"\)|inet_pton\(AF_INET6, "([^"]+)"')


def _traced(args: list[str], log: Path) -> list[str]:
    if not STRACE:
        return args
    trace = [
        STRACE,
        "-f",
        "-qq",
        "--seccomp-bpf",
        "-e",
        "trace=connect,sendto,sendmsg",
        "-o",
        str(log),
    ]
    return [*trace, *args]


def _outbound(trace: Path) -> list[str]:
    """Connection attempts in an strace log that were aimed beyond loopback."""
    if not trace.exists():
        return []
    found = []
    for line in trace.read_text(errors="replace").splitlines():
        for v4, v6 in _ADDRESS.findall(line):
            address = v4 or v6
            if not (address.startswith("127.") or address in ("::1", "0.0.0.0", "::")):
                found.append(line)
    return found


@pytest.mark.parametrize("backend", ["torch", "onnx"])  # onnxruntime phones home unless told
def test_ingest_serve_and_answer_with_no_outbound_connection(tmp_path, backend):
    from gradio_client import Client

    kb = tmp_path / "kb"
    shutil.copytree(BUNDLED_KB, kb)
    refused = tmp_path / "refused.log"
    env = app_env(tmp_path, kb, max_tokens="120", temperature="0", embedding_backend=backend)
    env["PYTHONPATH"] = os.pathsep.join([str(GUARD), str(ROOT)])
    env["COBBLER_OFFLINE_LOG"] = str(refused)
    # The library switches are what we test, so none may come from this test's own process.
    switches = ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "ANONYMIZED_TELEMETRY")
    for name in (*switches, "ORT_DISABLE_TELEMETRY"):
        env.pop(name, None)
    env.pop("GRADIO_ANALYTICS_ENABLED", None)

    ingest = subprocess.run(
        _traced([sys.executable, "-m", "ingest"], tmp_path / "ingest.trace"),
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert ingest.returncode == 0, ingest.stderr

    args = _traced([sys.executable, "-m", "app"], tmp_path / "app.trace")
    with app_server(env, tmp_path / "app.log", args=args) as app:
        client = Client(app.url + "/", verbose=False)
        # The chat answers with two messages: the sources, then the answer that cites them.
        answer = "\n".join(client.predict("How long do I have to return shoes?", api_name="/chat"))
    assert "30 days" in answer and "returns-and-refunds.md" in answer, answer

    attempts = refused.read_text() if refused.exists() else ""
    assert attempts == "", f"outbound attempts were refused:\n{attempts}"
    native = _outbound(tmp_path / "ingest.trace") + _outbound(tmp_path / "app.trace")
    assert native == [], "outbound connects:\n" + "\n".join(native[:20])
