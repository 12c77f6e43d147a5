"""What the chat page exposes: a login or a deliberate choice before it leaves this machine,
only the published documents through its file route, no uploads, and start-up refusals
that say what to fix."""

from __future__ import annotations

import http.client
import json
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import pytest

from app.ui import Links, place
from bench.servers import app_server
from cobbler.records import Source
from cobbler.store import open_client
from ingest.pipeline import ingest
from tests.conftest import ROOT, app_env, make_settings

SECRET = "The safe code is 4711"


def _app(*args: str, env: dict[str, str], cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "app", *args],
        cwd=cwd,
        env={**env, "PYTHONPATH": str(ROOT)},
        capture_output=True,
        text=True,
        timeout=600,
    )


def _one_line_error(out: subprocess.CompletedProcess, alone: bool = True) -> str:
    """The error line (the only line on stderr, unless start-up logged before it)."""
    assert out.returncode == 2, out.stdout + out.stderr
    assert "Traceback" not in out.stderr
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 or not alone, lines
    return lines[-1]


# Refused before anything heavy loads: no store or model is needed for these.


def test_serving_beyond_this_machine_without_a_login_is_refused(tmp_path):
    env = app_env(tmp_path, tmp_path / "kb", host="0.0.0.0")
    assert _one_line_error(_app(env=env)) == (
        "cobbler: host '0.0.0.0' (COBBLER_HOST or --host) serves the chat beyond this "
        "machine without a login: set COBBLER_AUTH=user:password, or COBBLER_ALLOW_OPEN=true "
        "to serve it openly on purpose"
    )
    out = _app("serve", "--host", "192.0.2.10", env=app_env(tmp_path, tmp_path))
    assert _one_line_error(out).startswith("cobbler: host '192.0.2.10' (COBBLER_HOST or --host)")


def test_a_login_without_a_colon_stops_start_up(tmp_path):
    env = app_env(tmp_path, tmp_path / "kb", host="0.0.0.0", auth="adminsecret")
    line = _one_line_error(_app(env=env))
    assert line == (
        "cobbler: COBBLER_AUTH (value not shown): must be user:password with both parts "
        "non-empty, or unset"
    )
    assert "adminsecret" not in line


def test_a_broken_dot_env_line_stops_start_up(tmp_path):
    (tmp_path / ".env").write_text("COBBLER_HOST=0.0.0.0\nCOBBLER_AUTH admin:secret\n")
    line = _one_line_error(_app(env=app_env(tmp_path, tmp_path / "kb"), cwd=tmp_path))
    assert line == (
        "cobbler: .env, line 2: 'COBBLER_AUTH admin:secret' is not KEY=VALUE or a # comment"
    )


def test_a_bad_setting_is_one_line_naming_the_variable(tmp_path):
    line = _one_line_error(_app("retrieve", "boots", env=app_env(tmp_path, tmp_path, k="abc")))
    assert line == "cobbler: COBBLER_K='abc': must be a whole number between 1 and 50"


@pytest.mark.parametrize("command", ["ask", "retrieve"])
def test_the_command_line_applies_the_question_length_limit(tmp_path, command):
    env = app_env(tmp_path, tmp_path, max_question_chars="50")
    line = _one_line_error(_app(command, "boots " * 20, env=env))
    assert line == (
        "cobbler: the question is 119 characters long; the limit is 50 (COBBLER_MAX_QUESTION_CHARS)"
    )


def test_citations_link_only_published_documents(tmp_path):
    (tmp_path / "docs").mkdir()
    for name in ("ingested.md", "skipped.md"):
        (tmp_path / "docs" / name).write_text("# Text\n")
    links = Links(tmp_path, lambda: frozenset({"docs/ingested.md"}))

    def document(source: str) -> Source:
        return Source(
            id=source, kind="document", n=1, score=1.0, title=source, source=source, text=""
        )

    assert links.href(document("docs/ingested.md")) == (
        f"/gradio_api/file={quote(str((tmp_path / 'docs' / 'ingested.md').resolve()))}"
    )
    assert links.href(document("docs/skipped.md")) is None  # on disk, but not published
    assert Links(tmp_path).href(document("docs/ingested.md")) is None  # nothing by default


def test_a_document_link_opens_at_its_page_or_section():
    def document(**where: object) -> Source:
        return Source(
            id="d", kind="document", n=1, score=1.0, title="t", source="d", text="", **where
        )

    assert place(document(page=3, section="Warranty")) == "#page=3"
    # A text fragment: the browser scrolls to the heading; "-" and "&" are escaped in it.
    assert place(document(section="Returns › Non-returnable & made-to-order")) == (
        "#:~:text=Non%2Dreturnable%20%26%20made%2Dto%2Dorder"
    )
    assert place(document()) == ""


# A running app.


@pytest.fixture(scope="module")
def shop(tmp_path_factory, embedder) -> dict:
    """A small shop with files the page must never serve beside the one it may."""
    tmp = tmp_path_factory.mktemp("exposure")
    kb = tmp / "kb"
    (kb / "docs").mkdir(parents=True)
    (kb / "catalog").mkdir()
    (kb / "docs" / "returns.md").write_text("# Returns\n\nReturns are free within 30 days.\n")
    (kb / "docs" / "empty.md").write_text("")  # skipped by ingest
    (kb / ".env").write_text(f"SECRET={SECRET}\n")  # hidden: never ingested
    (tmp / "outside.md").write_text(f"# Outside\n\n{SECRET}.\n")
    (kb / "docs" / "link.md").symlink_to(tmp / "outside.md")  # skipped: a link
    (kb / "catalog" / "items.json").write_text(
        json.dumps([{"title": "Trail Runner", "price": "$80.00", "brand": "Acme"}])
    )
    settings = make_settings(tmp, kb_dir=kb)
    ingest(settings, embedder, open_client(settings))
    return {"tmp": tmp, "kb": kb, "settings": settings}


@pytest.fixture(scope="module")
def open_app(shop) -> Iterator:
    env = app_env(shop["tmp"], shop["kb"], host="0.0.0.0", allow_open="true")
    with app_server(env, shop["tmp"] / "app.log") as server:
        yield server


def _get(server, path: Path | str) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    connection.request("GET", f"/gradio_api/file={quote(str(path))}")
    response = connection.getresponse()
    return response.status, response.read()


def test_an_open_app_starts_only_on_purpose_and_says_so_loudly(open_app):
    log = open_app.output()
    assert "!" * 60 in log
    assert (
        f"WARNING: the chat page is open to anyone who can reach 0.0.0.0:{open_app.port}, "
        "with no login (COBBLER_ALLOW_OPEN=true). Set COBBLER_AUTH=user:password to require "
        "one." in log
    )


def test_the_file_route_serves_published_documents_and_nothing_else(open_app, shop):
    kb: Path = shop["kb"].resolve()
    status, body = _get(open_app, kb / "docs" / "returns.md")
    assert status == 200 and b"Returns are free" in body
    for path in [
        kb / ".env",  # hidden
        kb / "docs" / "empty.md",  # skipped
        kb / "docs" / "link.md",  # a link out of the knowledge base
        shop["tmp"] / "outside.md",  # outside it
        kb / "catalog" / "items.json",  # a catalog is not a document
        ROOT / "pyproject.toml",  # the working directory
    ]:
        status, body = _get(open_app, path)
        assert status == 403, path
        assert SECRET.encode() not in body


def test_the_file_route_follows_a_new_ingest_without_a_restart(open_app, shop, embedder):
    kb: Path = shop["kb"]
    (kb / "docs" / "delivery.md").write_text("# Delivery\n\nDelivery takes two days.\n")
    assert _get(open_app, kb.resolve() / "docs" / "delivery.md")[0] == 403
    (kb / "docs" / "returns.md").write_text("")  # now skipped: no longer published
    ingest(shop["settings"], embedder, open_client(shop["settings"]))
    deadline = time.monotonic() + 15
    while _get(open_app, kb.resolve() / "docs" / "delivery.md")[0] != 200:
        assert time.monotonic() < deadline, "the new document was never served"
        time.sleep(0.5)
    assert _get(open_app, kb.resolve() / "docs" / "returns.md")[0] == 403


def test_uploads_are_refused(open_app):
    boundary = uuid.uuid4().hex
    body = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="files"; filename="big.txt"\r\n'
        f"Content-Type: text/plain\r\n\r\n{'x' * 10_000}\r\n--{boundary}--\r\n"
    ).encode()
    connection = http.client.HTTPConnection("127.0.0.1", open_app.port, timeout=30)
    connection.request(
        "POST",
        "/gradio_api/upload",
        body,
        {"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    response = connection.getresponse()
    assert response.status == 413, response.read()


def test_the_page_has_a_text_box_not_an_upload_box(open_app):
    connection = http.client.HTTPConnection("127.0.0.1", open_app.port, timeout=30)
    connection.request("GET", "/config")
    config = json.loads(connection.getresponse().read())
    types = {c.get("type") for c in config["components"]}
    assert "textbox" in types
    assert not types & {"multimodaltextbox", "file", "uploadbutton", "image"}


def test_an_open_app_has_no_owner_page(open_app):
    """Shoppers' questions and comments are never served without a login beyond this
    machine: the owner's page is not built at all then."""
    connection = http.client.HTTPConnection("127.0.0.1", open_app.port, timeout=30)
    connection.request("GET", "/config")
    config = json.loads(connection.getresponse().read())
    assert [page[0] for page in config.get("pages", [])] in ([], [""])


def test_a_context_window_too_small_for_one_source_is_refused(shop):
    env = app_env(shop["tmp"], shop["kb"], n_ctx="512")
    out = _app("ask", "How long do I have to return things?", env=env)
    line = _one_line_error(out, alone=False)  # the model's start-up lines come first
    assert line.startswith("cobbler: COBBLER_N_CTX=512 is too small: the rules, a question and ")
    assert "plus COBBLER_MAX_TOKENS=400 for the answer; set COBBLER_N_CTX to at least " in line
