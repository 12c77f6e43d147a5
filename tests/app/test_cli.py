"""The command-line contract that scripts rely on."""

from __future__ import annotations

import json
import subprocess
import sys

from tests.conftest import ROOT


def _app(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "app", *args], cwd=ROOT, capture_output=True, text=True, timeout=300
    )


def test_retrieve_json(bundled_store, bundled_settings):
    db = str(bundled_settings.db_dir)
    out = _app("retrieve", "slippers", "--db", db, "--k", "3", "--json")
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert [s["n"] for s in result["sources"]] == [1, 2, 3]
    assert result["retrieve_ms"] > 0


def test_empty_store_gives_one_clear_message(tmp_path):
    out = _app("retrieve", "boots", "--db", str(tmp_path / "nothing"))
    assert out.returncode == 2
    assert "run `make ingest`" in out.stderr
    assert "Traceback" not in out.stderr


def test_every_command_line_is_parsed():
    # Each subcommand's options are declared once: a duplicate would stop every command.
    from app.__main__ import _parser

    args = _parser().parse_args(["eval", "attacks", "--tests", "a.jsonl", "--split", "report"])
    assert (args.what, args.split) == ("attacks", "report")
    assert _parser().parse_args(["eval", "retrieval", "--tests", "q.jsonl"]).split == "all"


def test_answer_evaluations_give_the_model_as_many_sources_as_the_app_does():
    from app.__main__ import FLAGS, _parser
    from cobbler.settings import load_settings

    # The retrieval evaluation judges 10 sources; answers were once judged with 10 given to
    # the model while the app gives COBBLER_K (5), so quality and speed measured two setups.
    args = _parser().parse_args(["eval", "answers", "--tests", "a.jsonl"])
    assert load_settings({"k": args.k}, FLAGS).k == load_settings({}, FLAGS).k
