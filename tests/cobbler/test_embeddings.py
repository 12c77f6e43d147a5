"""Both encoder backends, with the real packaged MiniLM."""

from __future__ import annotations

import numpy as np
import pytest

from cobbler.embeddings import Embedder
from cobbler.models import embedding_model_dir
from cobbler.settings import Settings

TEXTS = [
    "Northfell Men's Ridge Waterproof Walking Boots, £79.99",
    "You have 30 days from delivery to return unworn shoes.",
    "Girls' glitter sandals with a hook and loop strap",
]


@pytest.fixture(scope="module")
def reference() -> Embedder:
    """sentence-transformers with torch, as the model was published."""
    return Embedder(embedding_model_dir(Settings()), 32, "torch")


def test_torch_vectors_are_normalised(reference):
    vectors = reference.embed(TEXTS)
    assert vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_onnx_int8_backend_agrees_with_torch_and_ranks_alike(tmp_path, reference):
    onnx = Embedder(embedding_model_dir(Settings()), 32, "onnx-int8", tmp_path)
    fast = onnx.embed(TEXTS)
    assert (fast * reference.embed(TEXTS)).sum(axis=1).min() > 0.85
    query = onnx.embed_query("boots for wet hikes")
    assert int(np.argmax(fast @ np.asarray(query))) == 0
    assert (tmp_path / "all-MiniLM-L6-v2-onnx-int8.onnx").is_file()  # exported once, cached
    assert onnx.name != reference.name  # a switch of backend re-embeds the store


def test_onnx_float_backend_gives_torch_s_vectors(tmp_path, reference):
    exact = Embedder(embedding_model_dir(Settings()), 32, "onnx", tmp_path)
    assert (exact.embed(TEXTS) * reference.embed(TEXTS)).sum(axis=1).min() > 0.9999
    assert exact.name != reference.name  # a switch of backend re-embeds the store


def test_serving_with_the_onnx_encoder_never_imports_torch(tmp_path):
    """torch is the biggest library in the process; the ONNX encoder must do without it."""
    import subprocess
    import sys

    from tests.conftest import ROOT

    # Exporting needs torch (once, at ingest); do it here so the child process only serves.
    Embedder(embedding_model_dir(Settings()), 32, "onnx", tmp_path).load()
    code = (
        "import sys, cobbler\n"
        "from cobbler.embeddings import Embedder\n"
        "from cobbler.models import embedding_model_dir\n"
        "from cobbler.settings import Settings\n"
        "from pathlib import Path\n"
        "e = Embedder(embedding_model_dir(Settings()), 32, 'onnx', Path(sys.argv[1]), 1)\n"
        "print(e.embed(['a question']).shape, 'torch' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.split()[-1] == "False", out.stdout
