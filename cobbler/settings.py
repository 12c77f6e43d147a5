"""The one Settings object: every path, model choice and knob has one name and one default.

Override any field with a `COBBLER_<FIELD>` environment variable or a line in `.env`.
"""

from __future__ import annotations

import os
import re
import typing
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Literal

import annotated_types
from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from pydantic_settings import SettingsError as SourceError


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
    encoder_threads: int = Field(
        1,
        ge=1,
        description="Threads that embed a question while the app serves (ingest uses all cores).",
    )
    # onnx by default: torch's vectors (cosine > 0.9999) without torch's memory in the app.
    embedding_backend: Literal["torch", "onnx", "onnx-int8"] = Field(
        "onnx",
        description="torch: MiniLM as published; onnx: the same as ONNX, served without torch; "
        "onnx-int8: that with int8 weights (faster, ranks a little worse).",
    )

    catalog_columns: dict[str, str] = Field(
        default_factory=dict,
        description='Column names of another catalog shape, e.g. {"title": "name"}.',
    )

    # Documents.
    max_file_mb: float = Field(50.0, gt=0, description="Larger files are skipped, not ingested.")
    chunk_size: int = Field(800, ge=100, description="Characters per document chunk.")
    chunk_overlap: int = Field(100, ge=0)
    context_headers: Literal["none", "keywords", "vectors", "both"] = Field(
        "keywords",
        description="Where a document chunk's header (folders, file, title, headings) is indexed "
        "with its text: for BM25, for the embedding, both or neither (measured in the README).",
    )
    # Quarantine by default: a false alarm costs one line of text and is reported, while a
    # kept order reaches the model on every question that retrieves it.
    suspect_text: Literal["keep", "quarantine"] = Field(
        "quarantine",
        description="Lines that read like orders to the model: index them anyway, or cut them.",
    )

    # Retrieval.
    k: int = Field(5, ge=1, le=50, description="Sources given to the model.")
    candidates: int = Field(40, ge=1, description="Depth of each ranking before fusion.")
    bm25_weight: float = Field(1.0, ge=0.0, description="Weight of keyword ranking in fusion.")
    dense_weight: float = Field(1.0, ge=0.0, description="Weight of vector ranking in fusion.")
    rrf_k: int = Field(60, ge=1, description="Reciprocal rank fusion constant.")
    fusion: Literal["ranks", "scores"] = Field(
        "scores",
        description="How the keyword and vector rankings are fused: by reciprocal rank, or by "
        "their scores (BM25 over its best, similarity from the depth-th best to the best), "
        "weighted by COBBLER_BM25_WEIGHT and COBBLER_DENSE_WEIGHT.",
    )
    header_weight: float = Field(
        0.0,
        ge=0.0,
        description="A document chunk's vector score: its text's similarity to the question "
        "plus this much of its header's (folders, file, title, headings), over 1 + this.",
    )
    join_neighbours: bool = Field(
        True, description="Show a document's adjacent chunks, both retrieved, as one source."
    )
    # Off: it won on both tuning splits but cost the statutes' report split 0.044 MRR.
    neighbour_lift: float = Field(
        0.0,
        ge=0.0,
        description="A document chunk's fused score is raised by this much of the better of "
        "its two neighbours' in its file (the chunks before and after it), when they are "
        "candidates too: a passage that runs across a chunk boundary rises as one (fusion by "
        "scores only).",
    )
    keyword_pairs: bool = Field(
        False,
        description='BM25 also reads pairs of adjacent words ("late fee" as late_fee) in the '
        "chunks and the question.",
    )
    min_relevance: float = Field(
        0.35, description="Below this vector similarity a policy question counts as unanswered."
    )

    # Chat model.
    model: str = Field("default", description="Preset (small, default) or a path to a .gguf.")
    n_ctx: int = Field(4096, ge=512)
    n_threads: int = Field(
        default_factory=lambda: os.cpu_count() or 2,
        ge=1,
        description="llama.cpp threads, for the prompt and the answer alike.",
    )
    n_gpu_layers: int = Field(0, description="Layers offloaded to the GPU; -1 = all.")
    use_mmap: bool = Field(
        False,
        description="Map the weights file rather than load it: llama.cpp re-lays most weights "
        "out for the CPU anyway, so mapped, both copies stay in memory (about 600 MB more).",
    )
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
    host: str = Field("127.0.0.1", min_length=1, description="Interface the UI binds to.")
    port: int = Field(7860, ge=1, le=65535)
    auth: str = Field("", description="user:password to require a login (when exposed).")
    allow_open: bool = Field(
        False, description="Serve beyond this machine without a login (refused otherwise)."
    )
    feedback_db: Path = Field(Path("data/feedback.sqlite3"), description="Thumbs up/down store.")
    max_question_chars: int = Field(1000, ge=10, description="Longer questions are refused.")
    concurrency: int = Field(
        1,
        ge=1,
        description="Answers a model server (COBBLER_LLM_BASE_URL) writes at once; others wait "
        "their turn. The in-process model writes one at a time.",
    )

    @field_validator("auth")
    @classmethod
    def _user_and_password(cls, value: str) -> str:
        # A value without a colon used to turn the login off silently.
        user, colon, password = value.partition(":")
        if value and not (colon and user and password):
            raise ValueError("must be user:password with both parts non-empty, or unset")
        return value


class SettingsError(ValueError):
    """A setting (environment variable, `.env` line or command-line option) is invalid; the
    message is one line naming it, its value and what is allowed."""


SECRET_FIELDS = {"auth", "llm_api_key"}  # their values are never echoed


def env_name(field: str) -> str:
    return f"{Settings.model_config.get('env_prefix', '')}{field}".upper()


def check_env_file(path: Path) -> None:
    """A `.env` line that is neither KEY=VALUE, a comment nor blank stops start-up: the
    library behind `.env` only warns and skips it, so a login line with a typo would
    silently leave the page open."""
    from dotenv.parser import parse_stream

    if not path.is_file():
        return
    with path.open(encoding="utf-8", errors="replace") as stream:
        for binding in parse_stream(stream):
            if binding.error or (binding.key is not None and binding.value is None):
                text = binding.original.string
                blank = text[: len(text) - len(text.lstrip())].count("\n")  # lines before it
                shown = text.strip().splitlines()[0][:60]
                raise SettingsError(
                    f"{path}, line {binding.original.line + blank}: '{shown}' is not "
                    "KEY=VALUE or a # comment"
                )


def _allowed(field: str) -> str:
    """What a field accepts, in words, from its type and bounds."""
    info = Settings.model_fields[field]
    kind = info.annotation
    if typing.get_origin(kind) is Literal:
        text = "one of " + ", ".join(repr(v) for v in typing.get_args(kind))
    elif kind is bool:
        text = "true or false"
    elif kind is int:
        text = "a whole number"
    elif kind is float:
        text = "a number"
    elif typing.get_origin(kind) is dict:
        text = 'a JSON object of names, e.g. {"title": "name"}'
    else:
        text = "text"
    low = high = None
    for bound in info.metadata:
        if isinstance(bound, annotated_types.Ge):
            low = f"at least {bound.ge}"
        elif isinstance(bound, annotated_types.Gt):
            low = f"greater than {bound.gt}"
        elif isinstance(bound, annotated_types.Le):
            high = f"at most {bound.le}"
        elif isinstance(bound, annotated_types.MinLen):
            low = "not empty"
    if low and high and low.startswith("at least"):
        return f"{text} between {low[9:]} and {high[8:]}"
    return ", ".join(x for x in (text, low, high) if x)


def _env_file_values() -> dict[str, str | None]:
    from dotenv import dotenv_values

    env_file = Settings.model_config.get("env_file")
    return dict(dotenv_values(env_file)) if isinstance(env_file, (str, Path)) else {}


def _describe(
    field: str, value: Any, reason: str, flags: Mapping[str, str], given: set[str]
) -> str:
    if field in given:  # a command-line option: "--k 0: must be ..."
        return f"{flags.get(field, field)} {value}: {reason}"
    name = env_name(field)
    value = os.environ.get(name, _env_file_values().get(name, value))
    shown = " (value not shown)" if field in SECRET_FIELDS else f"={str(value)!r}"
    return f"{name}{shown}: {reason}"


def load_settings(
    overrides: Mapping[str, Any] | None = None, flags: Mapping[str, str] | None = None
) -> Settings:
    """Settings from the environment, `.env` and `overrides` (None values ignored), or a
    SettingsError whose one-line message names the variable, its value and what is allowed.
    `flags` names the command-line option that set an override (db_dir → "--db")."""
    given = {k: v for k, v in (overrides or {}).items() if v is not None}
    flags = flags or {}
    env_file = Settings.model_config.get("env_file")
    if isinstance(env_file, (str, Path)):
        check_env_file(Path(env_file))
    try:
        return Settings(**given)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            field = str(error["loc"][0]) if error["loc"] else ""
            if field not in Settings.model_fields:
                problems.append(error["msg"])
                continue
            reason = f"must be {_allowed(field)}"
            if error["type"] == "value_error":  # our own validators say what is allowed
                reason = error["msg"].removeprefix("Value error, ")
            problems.append(_describe(field, error.get("input"), reason, flags, set(given)))
        raise SettingsError("; ".join(problems)) from None
    except SourceError as exc:  # a value the settings library could not even parse (JSON)
        found = re.search(r'field "(\w+)"', str(exc))
        if not found or found.group(1) not in Settings.model_fields:
            raise SettingsError(str(exc)) from None
        field = found.group(1)
        reason = f"must be {_allowed(field)}"
        raise SettingsError(_describe(field, "", reason, flags, set(given))) from None
