"""The knowledge base's edge: links are never followed, legacy text is read or honestly
refused, and one ingest runs at a time into a store."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cobbler.store import Store, open_client
from ingest.pipeline import (
    LINK_REASON,
    UNDECIDED,
    IngestError,
    decode,
    file_manifest,
    ingest,
    ingest_lock,
    load_knowledge_base,
)
from ingest.problems import SkipFile
from tests.conftest import ROOT, app_env, make_settings

SECRET = "Root password is hunter2"


def _kb_with_links(tmp_path: Path) -> Path:
    """A knowledge base with a good document, and links to a file and a folder outside it."""
    outside = tmp_path / "outside"
    (outside / "folder").mkdir(parents=True)
    (outside / "secret.md").write_text(f"# Secret\n\n{SECRET}.\n")
    (outside / "folder" / "also-secret.md").write_text(f"# Also secret\n\n{SECRET}.\n")
    kb = tmp_path / "kb"
    (kb / "docs").mkdir(parents=True)
    (kb / "docs" / "returns.md").write_text("# Returns\n\nReturns are free within 30 days.\n")
    (kb / "docs" / "policy.md").symlink_to(outside / "secret.md")
    (kb / "docs" / "more").symlink_to(outside / "folder", target_is_directory=True)
    (kb / "docs" / "gone.md").symlink_to(outside / "missing.md")  # a dangling link
    (kb / "docs" / "inside.md").symlink_to(kb / "docs" / "returns.md")  # even one inside
    return kb


def test_links_are_skipped_with_the_reason_and_nothing_outside_is_read(tmp_path):
    kb = _kb_with_links(tmp_path)
    settings = make_settings(tmp_path, kb_dir=kb)

    files, chunks, problems = load_knowledge_base(settings)

    assert files == 1
    assert all(SECRET not in c.text for c in chunks)
    assert {c.source for c in chunks} == {"docs/returns.md"}
    reasons = {p.file: p.reason for p in problems}
    links = ["docs/gone.md", "docs/inside.md", "docs/more", "docs/policy.md"]
    assert {name: reasons.get(name) for name in links} == dict.fromkeys(links, LINK_REASON)
    assert "docs/more/also-secret.md" not in reasons  # the linked folder is not walked


def test_the_manifest_lists_links_without_reading_them(tmp_path):
    kb = _kb_with_links(tmp_path)
    before = file_manifest(kb)
    assert set(before) == {
        "docs/returns.md",
        "docs/policy.md",
        "docs/more",
        "docs/gone.md",
        "docs/inside.md",
    }
    # The target's content is not hashed: changing it changes nothing...
    (tmp_path / "outside" / "secret.md").write_text("changed")
    assert file_manifest(kb) == before
    # ...but pointing the link elsewhere is a change, so the next ingest reports it again.
    (kb / "docs" / "policy.md").unlink()
    (kb / "docs" / "policy.md").symlink_to(tmp_path / "outside" / "folder")
    assert file_manifest(kb)["docs/policy.md"] != before["docs/policy.md"]


def test_an_ingest_reports_links_and_publishes_only_real_documents(tmp_path, embedder):
    kb = _kb_with_links(tmp_path)
    (kb / "docs" / ".env").write_text("SECRET_KEY=hunter2\n")  # hidden: never read
    (kb / "docs" / "empty.md").write_text("")  # skipped: not a published document
    settings = make_settings(tmp_path, kb_dir=kb)
    client = open_client(settings)

    report = ingest(settings, embedder, client)

    assert {p.file for p in report.skipped if p.reason == LINK_REASON} == {
        "docs/gone.md",
        "docs/inside.md",
        "docs/more",
        "docs/policy.md",
    }
    store = Store(client, settings.collection)
    texts = store.require_active().get(include=["documents"])["documents"]
    assert all(SECRET not in t and "hunter2" not in t for t in texts)
    name, documents = store.document_files()
    assert name == report.collection
    assert documents == {"docs/returns.md"}  # what the chat page may link and serve

    # A second run with nothing changed still reports the links (from the stored report).
    again = ingest(settings, embedder, client)
    assert {p.file for p in again.skipped if p.reason == LINK_REASON} == {
        p.file for p in report.skipped if p.reason == LINK_REASON
    }


def test_a_file_swapped_for_a_link_after_the_scan_is_not_read(tmp_path):
    from ingest.pipeline import _read_no_follow

    (tmp_path / "secret.md").write_text(SECRET)
    (tmp_path / "doc.md").symlink_to(tmp_path / "secret.md")
    with pytest.raises(SkipFile, match=LINK_REASON):
        _read_no_follow(tmp_path / "doc.md")  # what load_file reads with, after its check


# Text encodings: read correctly, or reported as undecided; never garbled.


@pytest.mark.parametrize(
    "text",
    [
        "naïve",
        "Größe 42, café crème, “hand-stitched” soles – £49.99, 5€.",
        "Où est la boîte à chaussures ? Déjà livrée. Þjóðhátíð í Reykjavík.",
    ],
)
def test_windows_1252_text_is_read_as_written(text):
    assert decode(text.encode("cp1252")) == text


@pytest.mark.parametrize(
    "text",
    [
        "こんにちは。靴の返品は30日以内です。",
        "返品",
        "Returns: 返品 within 30 days",
        "Returns: 返品は30日以内です。Delivery: 配送料は500円です。",
    ],
)
def test_shift_jis_text_is_read_as_written(text):
    assert decode(text.encode("shift_jis")) == text


@pytest.mark.parametrize(
    ("text", "encoding"),
    [
        ("Καλημέρα κόσμε, επιστροφές εντός 30 ημερών.", "cp1253"),
        ("Привет мир, возврат в течение 30 дней.", "cp1251"),
        ("안녕하세요, 반품은 30일 이내에 가능합니다.", "euc_kr"),
        ("你好世界，退货期限为三十天。", "gb2312"),
    ],
)
def test_other_legacy_encodings_are_read_as_written(text, encoding):
    assert decode(text.encode(encoding)) == text


def test_bytes_no_encoding_explains_are_reported_as_undecided_not_garbled():
    with pytest.raises(SkipFile) as caught:
        decode(b"# Returns\n\n" + bytes(range(0x80, 0x100)) * 3)
    assert str(caught.value).startswith(UNDECIDED)


def test_damaged_utf8_is_still_reported_as_such():
    data = "Returns within 30 days – gift cards from £10, “free” delivery.\n".encode() * 3
    with pytest.raises(SkipFile, match=r"invalid UTF-8 at line 4 \(byte \d+\)"):
        decode(data + b"\xff broken " + data)


# One ingest at a time.


def test_a_second_ingest_stops_with_a_clear_message_while_one_runs(tmp_path, kb_copy):
    env = app_env(tmp_path, kb_copy)
    db = tmp_path / "db"
    with ingest_lock(db):  # this test process is the ingest that is running
        started = time.monotonic()
        out = subprocess.run(
            [sys.executable, "-m", "ingest"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
    assert out.returncode == 2
    assert f"waiting up to 10 s for another ingest (pid {os.getpid()}, started " in out.stderr
    last = out.stderr.strip().splitlines()[-1]
    assert last.startswith(f"ingest: another ingest into {db} is still running (pid ")
    assert last.endswith("run this one again when it has finished")
    assert "Traceback" not in out.stderr
    assert time.monotonic() - started >= 10  # it waited before giving up
    assert not (db / "chroma.sqlite3").exists()  # and touched nothing


def test_the_lock_is_released_when_its_holder_dies(tmp_path):
    db = tmp_path / "db"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from pathlib import Path; from ingest.pipeline import ingest_lock\n"
            "with ingest_lock(Path(sys.argv[1])):\n    print('held', flush=True); time.sleep(60)",
            str(db),
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(IngestError, match="still running"), ingest_lock(db, wait=0.5):
            pass
        holder.kill()  # kill -9: no clean-up runs, the kernel drops the lock
        holder.wait()
        with ingest_lock(db, wait=5):
            assert f"pid {os.getpid()}" in (db / ".ingest.lock").read_text()
    finally:
        holder.kill()
        holder.wait()
