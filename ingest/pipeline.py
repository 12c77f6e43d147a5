"""One ingest run: scan the knowledge base, load every file, embed, publish a new index.

Embeddings are reused by chunk id (a hash of the chunk's text) from the published
index, so only new or changed text is sent through the encoder.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from charset_normalizer import from_bytes
from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection
from pydantic import BaseModel
from tqdm import tqdm

from cobbler.embeddings import Embedder
from cobbler.records import Chunk
from cobbler.settings import Settings
from cobbler.store import Store
from ingest.catalog import load_catalog
from ingest.documents import DocumentSplitter
from ingest.problems import Problem, SkipFile

CATALOG_SUFFIXES = {".json", ".jsonl", ".csv"}
README_NAMES = {"readme.md", "readme.txt", "readme"}  # notes about the folder, not shop content
DOCUMENT_SUFFIXES = {".md", ".markdown", ".txt", ".html", ".htm", ".pdf"}


# Bump when parsing or chunking changes, so every store built before is re-ingested.
PIPELINE_VERSION = 4
WRITE_BATCH = 512  # chunks embedded and written per step: bounds memory on big catalogs
# One well-formed multi-byte UTF-8 character (2, 3 or 4 bytes).
_UTF8_MULTIBYTE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)


class IngestError(RuntimeError):
    """The run stopped before publishing anything; the previous index is still served."""


class IngestReport(BaseModel):
    files: int
    products: int
    document_chunks: int
    embedded: int
    reused: int
    seconds: float
    encoder_load_seconds: float = 0.0  # part of `seconds`: loading the embedding model
    collection: str
    added: list[str]
    updated: list[str]
    removed: list[str]
    unchanged: list[str]
    skipped: list[Problem]

    def summary(self) -> str:
        return (
            f"{self.files} files: {len(self.added)} added, {len(self.updated)} updated, "
            f"{len(self.removed)} removed, {len(self.unchanged)} unchanged; "
            f"{self.products} products and {self.document_chunks} document chunks "
            f"({self.embedded} embedded, {self.reused} reused) in {self.seconds:.1f} s"
        )


def scan(kb_dir: Path) -> Iterator[Path]:
    """Every file under the knowledge base except hidden ones and README files."""
    for path in sorted(kb_dir.rglob("*")):
        rel = path.relative_to(kb_dir)
        hidden = any(p.startswith(".") for p in rel.parts)
        if path.is_file() and not hidden and path.name.lower() not in README_NAMES:
            yield path


def decode(data: bytes) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 with its byte-order mark
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as exc:
            raise SkipFile(f"invalid UTF-16 at byte {exc.start}") from exc
    if (nul := data.find(b"\x00")) >= 0:
        raise SkipFile(f"binary content in a text file (a NUL byte at byte {nul})")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        # Valid multi-byte UTF-8 beside the broken bytes: damaged UTF-8, not a legacy
        # encoding, and reading it as one (cp932, cp1006, ...) would garble every accent.
        if _UTF8_MULTIBYTE.search(data):
            line = data.count(b"\n", 0, exc.start) + 1
            raise SkipFile(f"invalid UTF-8 at line {line} (byte {exc.start})") from exc
    best = from_bytes(data).best()
    if best is None:
        raise SkipFile("text is neither UTF-8 nor any encoding that could be detected")
    return str(best)


def load_file(
    path: Path,
    source: str,
    splitter: DocumentSplitter,
    max_bytes: int,
    columns: dict[str, str] | None = None,
) -> tuple[list[Chunk], list[Problem]]:
    """Chunks of one file and the rows of it that were skipped. Raises SkipFile."""
    suffix = path.suffix.lower()
    if suffix not in CATALOG_SUFFIXES | DOCUMENT_SUFFIXES:
        raise SkipFile(f"unsupported file type '{suffix or path.name}'")
    size = path.stat().st_size
    if size == 0:
        raise SkipFile("empty file")
    if size > max_bytes:
        raise SkipFile(f"larger than the {max_bytes / 1e6:g} MB limit (COBBLER_MAX_FILE_MB)")
    data = path.read_bytes()
    if suffix == ".pdf":
        return splitter.pdf(data, source), []
    text = decode(data)
    if not text.strip():
        raise SkipFile("file has no text")
    if suffix in CATALOG_SUFFIXES:
        products, problems = load_catalog(text, suffix, source, columns)
        return [p.to_chunk() for p in products], problems
    if suffix in {".html", ".htm"}:
        chunks = splitter.html(text, source)
    elif suffix in {".md", ".markdown"}:
        chunks = splitter.markdown(text, source)
    else:
        chunks = splitter.plain(text, source)
    if not chunks:
        raise SkipFile("no readable text once markup is removed")
    return chunks, []


def load_knowledge_base(settings: Settings) -> tuple[int, list[Chunk], list[Problem]]:
    splitter = DocumentSplitter(settings.chunk_size, settings.chunk_overlap)
    max_bytes = int(settings.max_file_mb * 1e6)
    files, chunks, problems = 0, {}, []
    for path in scan(settings.kb_dir):
        source = path.relative_to(settings.kb_dir).as_posix()
        try:
            source.encode()
        except UnicodeEncodeError:  # a name Chroma cannot store as a chunk's source
            shown = source.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
            problems.append(Problem(file=shown, reason="file name is not valid UTF-8"))
            continue
        try:
            found, row_problems = load_file(
                path, source, splitter, max_bytes, settings.catalog_columns
            )
        except SkipFile as exc:
            problems.append(Problem(file=source, reason=str(exc)))
            continue
        files += 1
        problems.extend(row_problems)
        for chunk in found:
            chunks.setdefault(chunk.id, chunk)  # identical text is stored once
    return files, list(chunks.values()), problems


def file_manifest(kb_dir: Path) -> dict[str, str]:
    """Content hash of every file the knowledge base holds, by relative path."""
    manifest = {}
    for path in scan(kb_dir):
        digest = hashlib.sha256()
        with path.open("rb") as f:  # in blocks: an oversized file must not fill the memory
            while block := f.read(1 << 20):
                digest.update(block)
        manifest[path.relative_to(kb_dir).as_posix()] = digest.hexdigest()
    return manifest


def _fingerprint(settings: Settings, embedder: Embedder) -> str:
    """What else decides the index's content: a change re-ingests everything."""
    return (
        f"v{PIPELINE_VERSION}|{embedder.name}|{settings.chunk_size}|{settings.chunk_overlap}"
        f"|{settings.max_file_mb}|{sorted(settings.catalog_columns.items())}"
    )


def _stored_ids(collection: Collection | None, ids: list[str], batch: int) -> set[str]:
    if collection is None:
        return set()
    found: set[str] = set()
    for start in range(0, len(ids), batch):
        found.update(collection.get(ids=ids[start : start + batch], include=[])["ids"])
    return found


def _embed_batch(
    part: list[Chunk], previous: Collection | None, reusable: set[str], embedder: Embedder
) -> np.ndarray:
    vectors: dict[str, Any] = {}
    if previous is not None and any(c.id in reusable for c in part):
        got = previous.get(ids=[c.id for c in part if c.id in reusable], include=["embeddings"])
        vectors.update(zip(got["ids"], got["embeddings"]))
    fresh = [c for c in part if c.id not in vectors]
    if fresh:
        vectors.update(zip((c.id for c in fresh), embedder.embed([c.text for c in fresh])))
    return np.asarray([vectors[c.id] for c in part], dtype=np.float32)


def _write(generation: Collection, part: list[Chunk], vectors: np.ndarray) -> None:
    generation.add(
        ids=[c.id for c in part],
        embeddings=vectors,
        documents=[c.text for c in part],
        metadatas=[c.metadata() for c in part],
    )


def ingest(
    settings: Settings,
    embedder: Embedder,
    client: ClientAPI,
    rebuild: bool = False,
    strict: bool = False,
    progress: bool = False,
    log: Callable[[str], None] = lambda message: None,
) -> IngestReport:
    started = time.perf_counter()
    if not settings.kb_dir.is_dir():
        raise IngestError(f"knowledge base folder {settings.kb_dir} does not exist")
    store = Store(client, settings.collection)
    store.drop_unpublished()  # leftovers of an interrupted run
    previous = None if rebuild else store.active()
    before = previous.metadata or {} if previous else {}
    config = _fingerprint(settings, embedder)
    manifest = file_manifest(settings.kb_dir)
    old_manifest = (
        json.loads(before.get("manifest", "{}")) if before.get("config") == config else {}
    )
    changes = {
        "added": sorted(manifest.keys() - old_manifest.keys()),
        "updated": sorted(
            p for p in manifest.keys() & old_manifest.keys() if manifest[p] != old_manifest[p]
        ),
        "removed": sorted(old_manifest.keys() - manifest.keys()),
        "unchanged": sorted(p for p in manifest if old_manifest.get(p) == manifest[p]),
    }
    if previous is not None and manifest == old_manifest:
        skipped = [Problem(**p) for p in json.loads(before.get("skipped", "[]"))]
        if strict and skipped:
            raise IngestError(f"{len(skipped)} problem(s): " + "; ".join(map(str, skipped)))
        return IngestReport(
            files=before.get("files", 0),
            products=before.get("products", 0),
            document_chunks=before.get("document_chunks", 0),
            embedded=0,
            reused=0,
            seconds=round(time.perf_counter() - started, 2),
            collection=previous.name,
            skipped=skipped,
            **changes,
        )

    files, chunks, problems = load_knowledge_base(settings)
    if strict and problems:
        raise IngestError(f"{len(problems)} problem(s): " + "; ".join(map(str, problems)))
    batch = min(client.get_max_batch_size(), WRITE_BATCH)
    # Vectors are reusable only if the same encoder made them.
    if previous is not None and before.get("embedding_model") != embedder.name:
        previous = None
    reusable = _stored_ids(previous, [c.id for c in chunks], batch)
    to_embed = sum(c.id not in reusable for c in chunks)
    products = sum(c.kind == "product" for c in chunks)
    generation = store.new_generation(
        {
            "embedding_model": embedder.name,
            "config": config,
            "manifest": json.dumps(manifest),
            "skipped": json.dumps([p.model_dump() for p in problems]),
            "files": files,
            "products": products,
            "document_chunks": len(chunks) - products,
        }
    )
    # Similar lengths batch together, so the encoder pads little (as one big encode call would).
    chunks.sort(key=lambda c: len(c.text))
    log(f"writing {len(chunks)} chunks ({to_embed} to embed) into {generation.name}")
    encoder_load = 0.0
    if to_embed:
        load_started = time.perf_counter()
        embedder.model  # noqa: B018  (load now, so the figure below is the encoder's own)
        encoder_load = time.perf_counter() - load_started
    bar = tqdm(total=to_embed, unit="chunk", desc="Embedding", disable=not progress)
    # One writer thread: Chroma stores batch n while the encoder works on batch n + 1.
    writer = ThreadPoolExecutor(max_workers=1)
    pending: Future | None = None
    try:
        for start in range(0, len(chunks), batch):
            part = chunks[start : start + batch]
            vectors = _embed_batch(part, previous, reusable, embedder)
            if pending is not None:
                pending.result()
            pending = writer.submit(_write, generation, part, vectors)
            bar.update(sum(c.id not in reusable for c in part))
        if pending is not None:
            pending.result()
    except BaseException:
        writer.shutdown(wait=True)
        client.delete_collection(generation.name)  # never leave a half-built generation behind
        raise
    finally:
        writer.shutdown(wait=True)
        bar.close()
    store.publish(generation)
    return IngestReport(
        files=files,
        products=products,
        document_chunks=len(chunks) - products,
        embedded=to_embed,
        reused=len(chunks) - to_embed,
        seconds=round(time.perf_counter() - started, 2),
        encoder_load_seconds=round(encoder_load, 2),
        collection=generation.name,
        skipped=problems,
        **changes,
    )
