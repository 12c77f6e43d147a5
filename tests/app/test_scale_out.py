"""Scale-out on existing engines: a real `chroma run` server and llama.cpp's real
OpenAI-compatible server (`python -m llama_cpp.server`), both on loopback."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from app.generation import RemoteChatModel
from app.retrieval import Retriever
from app.service import Assistant
from bench.servers import chroma_server, free_port, model_server
from cobbler.models import ModelError, resolve_chat_model
from cobbler.store import Store, open_client
from ingest.pipeline import ingest
from tests.conftest import ROOT, make_settings

pytestmark = pytest.mark.llm


def _ask(question: str, env: dict[str, str]) -> dict:
    out = subprocess.run(
        [sys.executable, "-m", "app", "ask", question, "--json"],
        cwd=ROOT,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def test_ingest_and_answers_through_a_chroma_server(tmp_path, embedder, kb_copy):
    with chroma_server(tmp_path / "chroma", tmp_path / "chroma.log") as chroma:
        settings = make_settings(tmp_path, kb_dir=kb_copy, chroma_url=chroma.url)
        first = ingest(settings, embedder, open_client(settings))
        assert first.products >= 300 and first.document_chunks > 0
        again = ingest(settings, embedder, open_client(settings))
        assert again.embedded == 0 and not again.added and not again.updated  # incremental

        (kb_copy / "docs" / "delivery.md").unlink()
        removed = ingest(settings, embedder, open_client(settings))
        assert removed.removed == ["docs/delivery.md"] and removed.embedded == 0

        # Filters and the keyword side work on the remote store, in process...
        store = Store(open_client(settings), settings.collection)
        assistant = Assistant(Retriever(embedder, store, settings), None, settings)
        found, constraints = assistant.search("Any Trailmaster boots under £100?")
        assert constraints.brands == ["Trailmaster"] and found.matched
        assert all(s.brand == "Trailmaster" and s.price_min < 100 for s in found.sources)
        exact = assistant.retriever.search("Trailmaster", constraints=None)
        assert exact.sources[0].brand == "Trailmaster"

        # ...and the app's own command answers through the server with the real model.
        env = {
            "COBBLER_CHROMA_URL": chroma.url,
            "COBBLER_MODEL": "small",
            "COBBLER_MODELS_DIR": str(ROOT / "models"),
            "COBBLER_TEMPERATURE": "0",
        }
        result = _ask("How long do I have to return shoes?", env)
        assert "30" in result["answer"]
        assert any("returns" in s["source"] for s in result["sources"])


def test_answers_stream_from_llama_cpp_server(tmp_path, embedder, bundled_store, bundled_settings):
    model, _ = resolve_chat_model(bundled_settings)
    with model_server(model, tmp_path / "llm.log", alias="cobbler-small") as llm:
        settings = bundled_settings.model_copy(update={"llm_base_url": llm.url + "/v1"})
        remote = RemoteChatModel(settings)
        assert remote.model == "cobbler-small"

        store, _ = bundled_store
        assistant = Assistant(Retriever(embedder, store, settings), remote, settings)
        steps = list(assistant.stream("How long do I have to return shoes?"))
        texts = [s.answer for s in steps if s.answer]
        assert len(texts) > 3, "the answer did not stream"
        final = steps[-1]
        assert "30" in final.answer and final.timings.first_token_ms
        assert not final.checks.removed_citations

        env = {
            "COBBLER_LLM_BASE_URL": llm.url + "/v1",
            "COBBLER_DB_DIR": str(bundled_settings.db_dir),
            "COBBLER_MODEL": "no-such-preset",  # unused: the server has the model
        }
        result = _ask("Do you have waterproof walking boots under £90?", env)
        assert result["sources"] and result["answer"]
        assert all(s["price_min"] < 90 for s in result["sources"] if s["kind"] == "product")


def test_an_unreachable_model_server_is_one_clear_message(bundled_settings):
    url = f"http://127.0.0.1:{free_port()}/v1"
    with pytest.raises(ModelError, match="Cannot reach the model server"):
        RemoteChatModel(bundled_settings.model_copy(update={"llm_base_url": url}))
