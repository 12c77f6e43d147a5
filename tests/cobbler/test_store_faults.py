"""A damaged or incompatible vector_db/ gives one clear message, and ingest recovers it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import BUNDLED_KB, ROOT


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", *args],
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture
def small_store(tmp_path: Path) -> tuple[Path, Path]:
    """One document ingested: enough to damage, quick to rebuild."""
    kb = tmp_path / "kb"
    kb.mkdir()
    shutil.copy(BUNDLED_KB / "docs" / "delivery.md", kb)
    db = tmp_path / "db"
    done = _run("ingest", "--kb", str(kb), "--db", str(db))
    assert done.returncode == 0, done.stderr
    return kb, db


def _clear_failure(out: subprocess.CompletedProcess, hint: str) -> None:
    assert out.returncode == 2, out.stderr
    assert hint in out.stderr and "Traceback" not in out.stderr, out.stderr


def test_a_corrupted_store_is_reported_and_rebuild_recovers_it(small_store):
    kb, db = small_store
    with (db / "chroma.sqlite3").open("r+b") as f:
        f.write(b"not a database" * 400)

    _clear_failure(_run("app", "retrieve", "delivery", "--db", str(db)), "--rebuild")
    _clear_failure(_run("ingest", "--kb", str(kb), "--db", str(db)), "--rebuild")

    rebuilt = _run("ingest", "--kb", str(kb), "--db", str(db), "--rebuild")
    assert rebuilt.returncode == 0, rebuilt.stderr
    kept = [p for p in db.iterdir() if p.name.startswith("damaged-")]
    assert len(kept) == 1 and (kept[0] / "chroma.sqlite3").exists()  # set aside, not deleted
    found = _run("app", "retrieve", "next-day delivery", "--db", str(db), "--k", "1")
    assert found.returncode == 0 and "delivery.md" in found.stdout


def test_a_store_built_by_another_encoder_is_refused_until_reingested(small_store):
    kb, db = small_store
    other = {"COBBLER_EMBEDDING_BACKEND": "onnx-int8"}
    _clear_failure(_run("app", "retrieve", "delivery", "--db", str(db), env=other), "ingest")
    again = _run("ingest", "--kb", str(kb), "--db", str(db), env=other)
    assert again.returncode == 0, again.stderr
    found = _run("app", "retrieve", "delivery", "--db", str(db), "--k", "1", env=other)
    assert found.returncode == 0 and "delivery.md" in found.stdout
