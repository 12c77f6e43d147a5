"""The sentence encoder, shared by ingest and retrieval.

Two backends compute the same mean-pooled, normalised MiniLM vectors:
- `torch`: sentence-transformers as published (the reference);
- `onnx-int8`: the same weights exported once to ONNX and quantised to int8 with
  onnxruntime, about twice as fast on a laptop CPU. optimum, the usual route, pins an
  older transformers than ours, so the export is done here with torch.onnx directly.
The model loads on first use, so a no-change ingest never pays for it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from cobbler.models import embedding_model_dir
from cobbler.settings import Settings

BACKENDS = ("torch", "onnx-int8")
_INPUTS = ["input_ids", "attention_mask", "token_type_ids"]


class Embedder:
    def __init__(
        self,
        model_dir: Path,
        batch_size: int = 32,
        backend: str = "torch",
        cache_dir: Path | None = None,
    ) -> None:
        if backend not in BACKENDS:
            raise ValueError(f"unknown embedding backend {backend!r}; choose one of {BACKENDS}")
        self.model_dir = Path(model_dir)
        self.batch_size = batch_size
        self.backend = backend
        self.cache_dir = cache_dir or Path("models")
        # The packaged model sits in a folder called "model"; name it by what it is.
        base = self.model_dir.name if self.model_dir.name != "model" else "all-MiniLM-L6-v2"
        self.name = base if backend == "torch" else f"{base}+{backend}"

    @classmethod
    def from_settings(cls, settings: Settings) -> Embedder:
        return cls(
            embedding_model_dir(settings),
            settings.embed_batch_size,
            settings.embedding_backend,
            settings.models_dir,
        )

    @cached_property
    def model(self) -> Any:
        from sentence_transformers import SentenceTransformer  # slow import: only when used

        return SentenceTransformer(str(self.model_dir), local_files_only=True)

    @cached_property
    def _onnx(self) -> Any:
        import onnxruntime

        path = self.cache_dir / f"{self.name.replace('+', '-')}.onnx"
        if not path.is_file():
            export_int8(self.model, path)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = os.cpu_count() or 1
        return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def embed(self, texts: Sequence[str], progress: bool = False) -> np.ndarray:
        if self.backend == "torch":
            return self.model.encode(
                list(texts),
                batch_size=self.batch_size,
                normalize_embeddings=True,  # cosine similarity in Chroma
                show_progress_bar=progress,
                convert_to_numpy=True,
            )
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        # Like sentence-transformers: batch texts of similar length, so little is padding.
        order = np.argsort([-len(t) for t in texts], kind="stable")
        ordered = [texts[i] for i in order]
        vectors = np.vstack(
            [
                self._onnx_batch(ordered[i : i + self.batch_size])
                for i in range(0, len(ordered), self.batch_size)
            ]
        )
        return vectors[np.argsort(order)]

    def _onnx_batch(self, texts: Sequence[str]) -> np.ndarray:
        encoded = self.model.tokenizer(
            list(texts),
            padding=True,
            truncation=True,
            max_length=self.model.max_seq_length,
            return_tensors="np",
        )
        feed = {k: encoded[k].astype(np.int64) for k in _INPUTS}
        hidden = self._onnx.run(None, feed)[0]
        mask = encoded["attention_mask"][..., None]
        vectors = (hidden * mask).sum(1) / np.maximum(mask.sum(1), 1)
        return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)

    def embed_query(self, text: str) -> list[float]:
        return self.embed([text])[0].tolist()


def export_int8(model: Any, target: Path) -> None:
    """Export the transformer to ONNX, then quantise its weights to int8 (once, cached)."""
    import onnx
    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic

    class LastHiddenState(torch.nn.Module):
        def __init__(self, encoder: torch.nn.Module) -> None:
            super().__init__()
            self.encoder = encoder

        def forward(self, input_ids, attention_mask, token_type_ids):  # noqa: ANN001
            out = self.encoder(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            )
            return out.last_hidden_state

    import warnings

    target.parent.mkdir(parents=True, exist_ok=True)
    float_path = target.with_suffix(".float.onnx")
    sample = model.tokenizer(
        ["a product", "a longer sample text for tracing"], padding=True, return_tensors="pt"
    )
    axes = {name: {0: "batch", 1: "tokens"} for name in [*_INPUTS, "last_hidden_state"]}
    with warnings.catch_warnings():  # the tracer's notes on shapes it fixes: expected here
        warnings.simplefilter("ignore")
        torch.onnx.export(
            LastHiddenState(model[0].auto_model).eval(),
            tuple(sample[k] for k in _INPUTS),
            str(float_path),
            input_names=_INPUTS,
            output_names=["last_hidden_state"],
            dynamic_axes=axes,
            opset_version=17,
            dynamo=False,
        )
    partial = target.with_suffix(".partial.onnx")
    quantize_dynamic(
        str(float_path),
        str(partial),
        weight_type=QuantType.QInt8,
        extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
    )
    float_path.unlink()
    os.replace(partial, target)
