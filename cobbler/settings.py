"""The one Settings object: every path, model choice and knob has one name and one default.

Override any field with a `COBBLER_<FIELD>` environment variable or a line in `.env`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="COBBLER_", env_file=".env", extra="ignore")

    # Where things live.
    kb_dir: Path = Field(Path("knowledge_base"), description="Store files to ingest.")
    db_dir: Path = Field(Path("vector_db"), description="Persisted Chroma store.")
    models_dir: Path = Field(Path("models"), description="Assembled GGUF files (git-ignored).")
    collection: str = Field("cobbler", description="Chroma collection name.")
    chroma_url: str = Field(
        "", description="A Chroma server (http://host:port) instead of the store in db_dir."
    )

    # Embeddings.
    embedding_model: str = Field(
        "", description="Folder of a sentence-transformers model; empty = packaged MiniLM."
    )
    embed_batch_size: int = Field(32, ge=1)
    embedding_backend: Literal["torch", "onnx-int8"] = Field(
        "torch", description="onnx-int8: about 2x faster on CPU, slightly different vectors."
    )

    catalog_columns: dict[str, str] = Field(
        default_factory=dict,
        description='Column names of another catalog shape, e.g. {"title": "name"}.',
    )

    # Documents.
    max_file_mb: float = Field(50.0, gt=0, description="Larger files are skipped, not ingested.")
    chunk_size: int = Field(700, ge=100, description="Characters per document chunk.")
    chunk_overlap: int = Field(100, ge=0)

    # Retrieval.
    k: int = Field(5, ge=1, le=50, description="Sources given to the model.")
    candidates: int = Field(40, ge=1, description="Depth of each ranking before fusion.")
    bm25_weight: float = Field(1.0, ge=0.0, description="Weight of keyword ranking in fusion.")
    dense_weight: float = Field(1.0, ge=0.0, description="Weight of vector ranking in fusion.")
    rrf_k: int = Field(60, ge=1, description="Reciprocal rank fusion constant.")
    min_relevance: float = Field(
        0.35, description="Below this vector similarity a policy question counts as unanswered."
    )

    # Chat model.
    model: str = Field("default", description="Preset (small, default) or a path to a .gguf.")
    n_ctx: int = Field(4096, ge=512)
    n_threads: int = Field(default_factory=lambda: os.cpu_count() or 2, ge=1)
    n_gpu_layers: int = Field(0, description="Layers offloaded to the GPU; -1 = all.")
    temperature: float = Field(0.2, ge=0.0, le=2.0)
    max_tokens: int = Field(400, ge=16)
    repeat_penalty: float = Field(1.1, ge=1.0, description="Discourages a small model's loops.")

    # A model server instead of the in-process model (see "Running for a whole shop").
    llm_base_url: str = Field(
        "", description="OpenAI-compatible API, e.g. http://127.0.0.1:8080/v1; empty = in-process."
    )
    llm_model: str = Field("", description="Model name at that server; empty = the first served.")
    llm_api_key: SecretStr = Field(
        SecretStr(""), description="Bearer key, if the server wants one."
    )
    llm_timeout: float = Field(120.0, gt=0, description="Seconds to wait for the model server.")

    # Chat UI.
    host: str = Field("127.0.0.1", description="Interface the UI binds to.")
    port: int = Field(7860, ge=1, le=65535)
    auth: str = Field("", description="user:password to require a login (when exposed).")
    feedback_db: Path = Field(Path("data/feedback.sqlite3"), description="Thumbs up/down store.")
    max_question_chars: int = Field(1000, ge=10, description="Longer questions are refused.")
    concurrency: int = Field(1, ge=1, description="Answers generated at once; others queue.")
