"""The Chroma store and how an index is published.

Each ingest writes a complete new collection (a "generation") and only then moves a
one-record pointer to it, so a reader always sees the last complete index: an ingest
that dies half-way leaves an unpublished generation that the next ingest deletes.

A generation may have a sibling collection of *views*: other texts embedded for ranking
its chunks (a document chunk's header), kept apart so that a nearest-neighbour search of
the generation only ever finds chunks. It is written before the pointer moves and deleted
with its generation.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import chromadb
from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection
from chromadb.config import Settings as ChromaSettings
from pydantic import BaseModel, Field

from cobbler.profile import Shop
from cobbler.records import Chunk, View
from cobbler.settings import Settings


class StoreError(RuntimeError):
    """The vector store is missing or unreadable; the message says what to do."""


REBUILD_HINT = "Rebuild it with: python -m ingest --rebuild"
KEEP = {"README.md", ".ingest.lock"}  # files of a store folder that are not Chroma's


def set_aside(db_dir: Path) -> Path:
    """Move an unreadable store's files into `db_dir/damaged-<time>/`: kept, not deleted, so a
    rebuild can start in an empty folder and nothing is lost that someone may want back."""
    import chromadb.api.client

    chromadb.api.client.SharedSystemClient.clear_system_cache()  # forget the broken client
    kept = db_dir / time.strftime("damaged-%Y%m%d-%H%M%S")
    kept.mkdir(parents=True)
    for entry in db_dir.iterdir():
        # The ingest lock stays: moving it would let a second ingest take a new one.
        if entry != kept and not entry.name.startswith("damaged-") and entry.name not in KEEP:
            entry.rename(kept / entry.name)
    return kept


def open_client(settings: Settings) -> ClientAPI:
    """The embedded store in `db_dir`, or a Chroma server when `chroma_url` is set."""
    chroma = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma_url:
        url = urlparse(settings.chroma_url)
        try:
            return chromadb.HttpClient(
                host=url.hostname or "127.0.0.1",
                port=url.port or (443 if url.scheme == "https" else 8000),
                ssl=url.scheme == "https",
                settings=chroma,
            )
        except Exception as exc:
            raise StoreError(
                f"Cannot reach the Chroma server at {settings.chroma_url}: {exc}"
            ) from exc
    settings.db_dir.mkdir(parents=True, exist_ok=True)
    try:
        return chromadb.PersistentClient(path=str(settings.db_dir), settings=chroma)
    except Exception as exc:  # chromadb raises several types for a damaged folder
        raise StoreError(
            f"Cannot open the vector store in {settings.db_dir}: {exc}. {REBUILD_HINT}"
        ) from exc


class IndexSummary(BaseModel):
    """What the published index was built from, as its ingest recorded it."""

    collection: str
    built: float | None = None  # Unix time the index was written
    files: int = 0
    products: int = 0
    document_chunks: int = 0
    chunks: int = 0
    skipped: list[dict[str, str | None]] = Field(default_factory=list)  # file, where, reason
    catalogs: dict[str, dict[str, str]] = Field(default_factory=dict)  # file → role → column


class Store:
    """The published index of one collection name, and its unpublished generations."""

    def __init__(self, client: ClientAPI, name: str) -> None:
        self.client = client
        self.name = name
        self.pointer_name = f"{name}-active"

    def _pointer(self) -> Collection:
        return self.client.get_or_create_collection(self.pointer_name, embedding_function=None)

    def active_name(self) -> str | None:
        try:
            got = self._pointer().get(ids=["active"], include=["metadatas"])
        except Exception as exc:  # a damaged store fails in many chromadb-specific ways
            raise StoreError(f"The vector store cannot be read: {exc}. {REBUILD_HINT}") from exc
        return got["metadatas"][0]["collection"] if got["ids"] else None

    def active(self) -> Collection | None:
        name = self.active_name()
        if not name:
            return None
        try:
            return self.client.get_collection(name, embedding_function=None)
        except Exception as exc:
            raise StoreError(
                f"The published index {name} cannot be read: {exc}. {REBUILD_HINT}"
            ) from exc

    def require_active(self) -> Collection:
        collection = self.active()
        if collection is None:
            raise StoreError("The store is empty: run `make ingest` (python -m ingest) first.")
        return collection

    def contents(self, collection: Collection, page: int = 5000) -> Iterator[dict[str, Any]]:
        """Everything in a collection, a page at a time: ids, documents, metadatas, embeddings."""
        for offset in range(0, collection.count(), page):
            yield collection.get(
                include=["documents", "metadatas", "embeddings"], limit=page, offset=offset
            )

    def shop(self, collection: Collection) -> Shop:
        """The shop profile and vocabulary stored with an index (empty for an older one)."""
        stored = (collection.metadata or {}).get("shop")
        return Shop.model_validate_json(stored) if stored else Shop()

    def summary(self) -> IndexSummary | None:
        """The published index's ingest record (kept in its collection metadata), or None."""
        collection = self.active()
        if collection is None:
            return None
        meta = collection.metadata or {}
        stamp = collection.name.rpartition("-g")[2]  # generations are named by their time
        return IndexSummary(
            collection=collection.name,
            built=int(stamp) / 1e9 if stamp.isdigit() else None,
            files=meta.get("files", 0),
            products=meta.get("products", 0),
            document_chunks=meta.get("document_chunks", 0),
            chunks=collection.count(),
            skipped=json.loads(meta.get("skipped", "[]")),
            catalogs=json.loads(meta.get("catalogs", "{}")),
        )

    def document_files(self, page: int = 5000) -> tuple[str | None, frozenset[str]]:
        """The published index's name and the files its document chunks come from (paths
        relative to the knowledge base): the only files a citation may link to."""
        collection = self.active()
        if collection is None:
            return None, frozenset()
        sources: set[str] = set()
        for offset in range(0, collection.count(), page):
            got = collection.get(
                where={"kind": "document"}, include=["metadatas"], limit=page, offset=offset
            )
            sources.update(str(m["source"]) for m in got["metadatas"] if m.get("source"))
            if len(got["ids"]) < page:
                break
        return collection.name, frozenset(sources)

    @property
    def batch_size(self) -> int:
        """The most records one write may carry (the Chroma backend's own limit)."""
        return self.client.get_max_batch_size()

    def existing(self, collection: Collection | None, ids: list[str]) -> set[str]:
        """Which of `ids` a collection holds."""
        if collection is None:
            return set()
        found: set[str] = set()
        for start in range(0, len(ids), self.batch_size):
            found.update(
                collection.get(ids=ids[start : start + self.batch_size], include=[])["ids"]
            )
        return found

    def embeddings(self, collection: Collection, ids: list[str]) -> dict[str, Any]:
        """The stored vectors of `ids`, by id."""
        got = collection.get(ids=ids, include=["embeddings"])
        return dict(zip(got["ids"], got["embeddings"]))

    def write(self, collection: Collection, chunks: list[Chunk], vectors: Any) -> None:
        collection.add(
            ids=[c.id for c in chunks],
            embeddings=vectors,
            documents=[c.text for c in chunks],
            metadatas=[c.metadata() for c in chunks],
        )

    def _views_name(self, generation: str) -> str:
        return generation.replace(f"{self.name}-g", f"{self.name}-views-g", 1)

    def _views_of(self, collection: Collection) -> Collection | None:
        """A generation's views, or None for a generation built without them."""
        try:
            return self.client.get_collection(
                self._views_name(collection.name), embedding_function=None
            )
        except Exception:  # chromadb raises several types for a missing collection
            return None

    def views(self, collection: Collection, page: int = 5000) -> Iterator[dict[str, Any]]:
        """The views of a generation, a page at a time: ids, documents, metadatas,
        embeddings (nothing for a generation built without them)."""
        views = self._views_of(collection)
        if views is None:
            return
        for offset in range(0, views.count(), page):
            yield views.get(
                include=["documents", "metadatas", "embeddings"], limit=page, offset=offset
            )

    def view_embeddings(self, collection: Collection | None, ids: list[str]) -> dict[str, Any]:
        """The stored vectors of those of `ids` a generation's views hold, by id."""
        if collection is None or not ids:
            return {}
        views = self._views_of(collection)
        if views is None:
            return {}
        found: dict[str, Any] = {}
        for start in range(0, len(ids), self.batch_size):
            got = views.get(ids=ids[start : start + self.batch_size], include=["embeddings"])
            found.update(zip(got["ids"], got["embeddings"]))
        return found

    def write_views(self, collection: Collection, views: list[View], vectors: Any) -> None:
        """Add views to an unpublished generation."""
        sibling = self.client.get_or_create_collection(
            self._views_name(collection.name),
            embedding_function=None,
            configuration={"hnsw": {"space": "cosine"}},
        )
        for start in range(0, len(views), self.batch_size):
            part = views[start : start + self.batch_size]
            sibling.add(
                ids=[v.id for v in part],
                embeddings=vectors[start : start + self.batch_size],
                documents=[v.text for v in part],
                metadatas=[v.metadata() for v in part],
            )

    def _names(self) -> list[str]:
        return [c.name if hasattr(c, "name") else str(c) for c in self.client.list_collections()]

    def discard(self, collection: Collection) -> None:
        """Delete an unpublished generation (an ingest that failed half-way) and its views."""
        self.client.delete_collection(collection.name)
        views = self._views_name(collection.name)
        if views in self._names():
            self.client.delete_collection(views)

    def new_generation(self, metadata: dict[str, Any]) -> Collection:
        name = f"{self.name}-g{time.time_ns()}"
        return self.client.create_collection(
            name,
            embedding_function=None,
            configuration={"hnsw": {"space": "cosine"}},
            metadata=metadata,
        )

    def publish(self, collection: Collection) -> None:
        self._pointer().upsert(
            ids=["active"], embeddings=[[0.0]], metadatas=[{"collection": collection.name}]
        )
        self.drop_unpublished()

    def drop_unpublished(self) -> None:
        """Delete generations that are not the published one (old, or from a failed run)."""
        active = self.active_name()
        keep = {active, self._views_name(active)} if active else set()
        for name in self._names():
            if name.startswith((f"{self.name}-g", f"{self.name}-views-g")) and name not in keep:
                self.client.delete_collection(name)
