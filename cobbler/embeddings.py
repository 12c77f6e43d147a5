"""The sentence encoder, shared by ingest and retrieval.

Three backends compute the same mean-pooled, normalised MiniLM vectors:
- `torch`: sentence-transformers as published (the reference);
- `onnx`: the same weights exported once to ONNX (float32, the same vectors to rounding);
- `onnx-int8`: that export with its weights quantised to int8 by onnxruntime, about twice
  as fast on a laptop CPU, at some cost in ranking.
optimum, the usual route, pins an older transformers than ours, so the export is done here
with torch.onnx directly. Once exported, an ONNX backend runs on onnxruntime and the
`tokenizers` package alone: a process that serves with it never imports torch.
The model loads on first use, so a no-change ingest never pays for it.

`threads` bounds the encoder's share of the CPU: a question is embedded while llama.cpp
may be answering another shopper on every core, and an encoder that also takes every core
makes both crawl. None (ingest) lets it use them all.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from cobbler.models import embedding_model_dir
from cobbler.settings import Settings

BACKENDS = ("torch", "onnx", "onnx-int8")
_INPUTS = ["input_ids", "attention_mask", "token_type_ids"]


class Embedder:
    def __init__(
        self,
        model_dir: Path,
        batch_size: int = 32,
        backend: str = "torch",
        cache_dir: Path | None = None,
        threads: int | None = None,
    ) -> None:
        if backend not in BACKENDS:
            raise ValueError(f"unknown embedding backend {backend!r}; choose one of {BACKENDS}")
        self.model_dir = Path(model_dir)
        self.batch_size = batch_size
        self.backend = backend
        self.cache_dir = cache_dir or Path("models")
        self.threads = threads
        # The packaged model sits in a folder called "model"; name it by what it is.
        base = self.model_dir.name if self.model_dir.name != "model" else "all-MiniLM-L6-v2"
        self.name = base if backend == "torch" else f"{base}+{backend}"

    @classmethod
    def from_settings(cls, settings: Settings, threads: int | None = None) -> Embedder:
        return cls(
            embedding_model_dir(settings),
            settings.embed_batch_size,
            settings.embedding_backend,
            settings.models_dir,
            threads,
        )

    def load(self) -> None:
        """Load the encoder now rather than on the first text."""
        if self.backend == "torch":
            self.model  # noqa: B018
        else:
            self._onnx  # noqa: B018

    @cached_property
    def model(self) -> Any:
        from sentence_transformers import SentenceTransformer  # slow import: only when used

        if self.threads and self.backend == "torch":
            import torch

            torch.set_num_threads(self.threads)  # the whole process's: it serves, not ingests
        return SentenceTransformer(str(self.model_dir), local_files_only=True)

    @cached_property
    def onnx_path(self) -> Path:
        return self.cache_dir / f"{self.name.replace('+', '-')}.onnx"

    @cached_property
    def _onnx(self) -> Any:
        import onnxruntime

        if not self.onnx_path.is_file():  # once; only this step needs torch
            export_onnx(self.model, self.onnx_path, int8=self.backend == "onnx-int8")
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = self.threads or os.cpu_count() or 1
        options.inter_op_num_threads = 1
        # Idle pool threads would otherwise spin, taking CPU from llama.cpp between questions.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        return onnxruntime.InferenceSession(
            str(self.onnx_path), options, providers=["CPUExecutionProvider"]
        )

    @cached_property
    def _tokenizer(self) -> Any:
        """The model's own fast tokenizer, as sentence-transformers configures it."""
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(self.model_dir / "tokenizer.json"))
        tokenizer.enable_truncation(max_length=self.max_seq_length)
        pad = tokenizer.token_to_id("[PAD]") or 0
        tokenizer.enable_padding(pad_id=pad, pad_token=tokenizer.id_to_token(pad) or "[PAD]")
        return tokenizer

    @cached_property
    def max_seq_length(self) -> int:
        """sentence-transformers' limit for this model, within the tokenizer's own."""

        def read(name: str) -> dict[str, Any]:
            path = self.model_dir / name
            return json.loads(path.read_text()) if path.is_file() else {}

        limit = read("sentence_bert_config.json").get("max_seq_length") or 512
        return min(int(limit), int(read("tokenizer_config.json").get("model_max_length", 512)))

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
        encoded = self._tokenizer.encode_batch(list(texts))
        feed = {
            "input_ids": np.array([e.ids for e in encoded], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encoded], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encoded], dtype=np.int64),
        }
        hidden = self._onnx.run(None, feed)[0]
        mask = feed["attention_mask"][..., None]
        vectors = (hidden * mask).sum(1) / np.maximum(mask.sum(1), 1)
        return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)

    def embed_query(self, text: str) -> list[float]:
        return self.embed([text])[0].tolist()


def export_onnx(model: Any, target: Path, int8: bool) -> None:
    """Export the transformer to ONNX, and with `int8` quantise its weights (once, cached)."""
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
    if not int8:
        os.replace(float_path, target)
        return
    partial = target.with_suffix(".partial.onnx")
    quantize_dynamic(
        str(float_path),
        str(partial),
        weight_type=QuantType.QInt8,
        extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
    )
    float_path.unlink()
    os.replace(partial, target)
