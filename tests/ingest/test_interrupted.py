"""A real ingest process killed mid-write must leave the previous index served."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from bench.ingest import synthetic_catalog
from tests.conftest import ROOT

PROBE = """
import sys, cobbler
from cobbler.settings import Settings
from cobbler.store import Store, open_client
store = Store(open_client(Settings(db_dir=sys.argv[1])), "cobbler")
names = sorted(c.name for c in store.client.list_collections())
print(store.active_name(), store.require_active().count(), ",".join(names))
"""


def _ingest(kb, db, *extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "ingest", "--kb", str(kb), "--db", str(db), *extra],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _probe(db) -> tuple[str, int, list[str]]:
    out = subprocess.run(
        [sys.executable, "-c", PROBE, str(db)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return out[0], int(out[1]), out[2].split(",")


def test_kill_9_during_write_keeps_the_last_complete_index(tmp_path, kb_copy):
    db = tmp_path / "db"
    first = _ingest(kb_copy, db, "--json")
    out, err = first.communicate(timeout=600)
    assert first.returncode == 0, err
    count = json.loads(out)["products"] + json.loads(out)["document_chunks"]
    active, served, _ = _probe(db)
    assert served == count

    synthetic_catalog(kb_copy / "more.jsonl", 1500)
    doomed = _ingest(kb_copy, db)
    for line in doomed.stderr:  # wait until it is writing the new generation
        if line.startswith("writing"):
            break
    time.sleep(2)
    assert doomed.poll() is None, "ingest finished before it could be killed"
    os.kill(doomed.pid, signal.SIGKILL)
    doomed.wait()

    after, served_after, _ = _probe(db)
    assert (after, served_after) == (active, count)
    # The app, started now, serves that index: none of the 1500 half-written products.
    app = subprocess.run(
        [sys.executable, "-m", "app", "retrieve", "returns policy", "--db", str(db), "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert app.returncode == 0, app.stderr
    assert json.loads(app.stdout)["sources"]

    again = _ingest(kb_copy, db, "--json")
    out, err = again.communicate(timeout=900)
    assert again.returncode == 0, err
    final, served_final, names = _probe(db)
    assert final != active and served_final == count + 1500
    assert [n for n in names if n.startswith("cobbler-g")] == [final]  # the wreck is gone
