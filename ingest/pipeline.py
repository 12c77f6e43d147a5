"""One ingest run: scan the knowledge base, load every file, embed, publish a new index.

Embeddings are reused by chunk id (a hash of the chunk's text) from the published
index, so only new or changed text is sent through the encoder. The document chunks'
headers are embedded too, once per distinct header, as views the retriever ranks by.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import os
import re
import stat
import time
import unicodedata
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
from charset_normalizer import from_bytes
from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection
from pydantic import BaseModel, Field
from tqdm import tqdm

from cobbler.embeddings import Embedder
from cobbler.profile import (
    PROFILE_NAME,
    ProfileError,
    Shop,
    ShopProfile,
    count_currencies,
    load_profile,
)
from cobbler.records import Chunk, View
from cobbler.settings import Settings
from cobbler.store import Store
from cobbler.vocabulary import ProductWords, learn
from ingest.catalog import read_catalog
from ingest.documents import DocumentSplitter
from ingest.problems import Problem, SkipFile
from ingest.suspect import screen

CATALOG_SUFFIXES = {".json", ".jsonl", ".csv"}
README_NAMES = {"readme.md", "readme.txt", "readme"}  # notes about the folder, not shop content
DOCUMENT_SUFFIXES = {".md", ".markdown", ".txt", ".html", ".htm", ".pdf"}


# Bump when parsing or chunking changes, so every store built before is re-ingested.
PIPELINE_VERSION = 14
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
    # Lines that read like orders to the model, kept or quarantined (COBBLER_SUSPECT_TEXT).
    suspect: list[Problem] = Field(default_factory=list)
    # Catalog file → role → the column read for it ("selling_price (content)": how found).
    catalogs: dict[str, dict[str, str]] = Field(default_factory=dict)

    def summary(self) -> str:
        return (
            f"{self.files} files: {len(self.added)} added, {len(self.updated)} updated, "
            f"{len(self.removed)} removed, {len(self.unchanged)} unchanged; "
            f"{self.products} products and {self.document_chunks} document chunks "
            f"({self.embedded} embedded, {self.reused} reused) in {self.seconds:.1f} s"
        )


LINK_REASON = "symbolic link: not followed"


def scan(kb_dir: Path) -> Iterator[Path]:
    """Every entry under the knowledge base except hidden ones and README files.

    Symbolic links (to files or folders) and special files are yielded but never followed
    or opened: `load_file` reports them, so a link cannot bring a file from outside the
    knowledge base into the index, and the report shows what was left out.
    """
    found = []
    # followlinks=False: a linked folder is listed, never walked into.
    for root, dirs, files in os.walk(kb_dir, followlinks=False):
        base = Path(root)
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        linked = [d for d in dirs if (base / d).is_symlink()]
        for name in files + linked:
            if not name.startswith(".") and name.lower() not in README_NAMES:
                found.append(base / name)
    yield from sorted(found)


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
        line = data.count(b"\n", 0, exc.start) + 1
        damaged = f"invalid UTF-8 at line {line} (byte {exc.start})"
    # Japanese and Korean first: their byte pairs form valid UTF-8 here and there by chance,
    # and a clean reading in that language is unmistakable.
    if (text := _east_asian(data)) is not None:
        return text
    # Mostly valid multi-byte UTF-8 beside the broken bytes: damaged UTF-8, not a legacy
    # encoding, and reading it as one (cp932, cp1006, ...) would garble every accent.
    utf8 = len(_UTF8_MULTIBYTE.findall(data))
    if utf8 and utf8 >= data.decode("utf-8", "replace").count("\ufffd"):
        raise SkipFile(damaged)
    western = _strict(data, "cp1252")
    if _western(western) and not (utf8 and _MOJIBAKE.search(western or "")):
        return western  # type: ignore[return-value]
    # Some UTF-8-looking bytes: of the detector's guesses, only multi-byte ones (Chinese).
    return _detected(data, multi_byte_only=utf8 > 0)


UNDECIDED = "text encoding could not be decided: save the file as UTF-8"
_WORD = re.compile(r"[^\W\d_]+")
_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f]+")
# Western punctuation and signs that sit next to letters: quotes open or close a word.
_OPEN, _CLOSE = "“‘«¿¡„‚", "”’»…"
# Multi-byte legacy encodings: two of them reading the same bytes differently is a coin toss.
_MULTI_BYTE = {"cp932", "shift_jis", "euc_jp", "euc_jis_2004", "gb2312", "gbk", "gb18030"}
_MULTI_BYTE |= {"big5", "big5hkscs", "cp950", "cp949", "euc_kr", "johab", "hz"}
# UTF-8 read as cp1252: "Â£", "Ã©", "â€“".
_MOJIBAKE = re.compile("[ÂÃ][\u00a0-\u00bf€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ]|â€")


@functools.lru_cache(maxsize=65536)
def _script(char: str) -> str:
    """The writing system of a character, from its Unicode name ("LATIN", "HAN", ...)."""
    name = unicodedata.name(char, "")
    if name.startswith(("CJK UNIFIED", "CJK COMPATIBILITY IDEOGRAPH")):
        return "HAN"
    if name.startswith(("HIRAGANA", "KATAKANA")):
        return "KANA"
    if name.startswith("HALFWIDTH KATAKANA"):
        return "HALFKANA"
    return name.split(" ")[0]


def _plausible(text: str) -> bool:
    """Could a person have written this? A wrong guess at an encoding typically yields
    control or private-use characters, rare supplementary ones, or words that mix scripts."""
    for char in set(text):
        if (unicodedata.category(char)[0] == "C" and char not in "\t\n\r\f") or ord(char) > 0xFFFF:
            return False
    for word in set(_WORD.findall(text)):
        if word.isascii():
            continue
        scripts = {_script(c) for c in word}
        if scripts == {"HAN", "KANA"}:  # Japanese words mix kanji and kana
            continue
        if len(scripts) > 1 or scripts == {"HALFKANA"}:
            return False
        if scripts == {"HANGUL"} and len(word) > 12:  # Korean puts spaces between words
            return False
    return True


def _strict(data: bytes, encoding: str) -> str | None:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        return None


def _japanese(text: str | None) -> bool:
    # Western or Chinese bytes read as cp932 give half-width katakana or words mixing
    # scripts; Japanese gives clean kanji and kana.
    return (
        text is not None
        and _plausible(text)
        and any(_script(c) in ("HAN", "KANA") for c in set(text))
    )


def _korean(text: str | None) -> bool:
    if text is None or not _plausible(text):
        return False
    words = [w for w in _WORD.findall(text) if _script(w[0]) == "HANGUL"]
    # Chinese read as cp949 also gives Hangul, but in long runs without spaces.
    return len(words) >= 2 and sum(map(len, words)) <= 5 * len(words)


def _sign(char: str) -> bool:
    """Punctuation, a symbol (currency signs among them), a space or a fraction (Unicode's
    P, S, Z and No classes): what sits next to letters without being one."""
    kind = unicodedata.category(char)
    return kind[0] in "PSZ" or kind == "No"


def _usual_run(run: str) -> bool:
    """Non-ASCII characters side by side as Western text has them: letters in their quotes."""
    core = run.lstrip(_OPEN)
    while core and (core[-1] in _CLOSE or _sign(core[-1])):
        core = core[:-1]
    return all(c.isalpha() for c in core) or all(_sign(c) for c in run)


def _western(text: str | None) -> bool:
    """Windows-1252 text in a Western language: accented letters inside mostly-ASCII words.
    Greek, Cyrillic or East Asian bytes read as cp1252 give words of accents only, or
    accents glued to signs ("•Ô•i")."""
    if text is None:
        return False
    letters = [c for c in text if c.isalpha()]
    foreign = sum(not c.isascii() for c in letters)
    words = [w for w in _WORD.findall(text) if not w.isascii()]
    alien = sum(len(w) >= 3 and not any(c.isascii() for c in w) for w in words)
    runs = _NON_ASCII_RUN.findall(text)
    odd = sum(not _usual_run(r) for r in runs)
    return (
        (len(letters) < 8 or foreign <= 0.5 * len(letters))
        and alien <= 0.25 * len(words)
        and odd <= 0.05 * len(runs)
        and _plausible(text)
    )


def _east_asian(data: bytes) -> str | None:
    """Shift-JIS (cp932) or EUC-KR (cp949) text when it reads cleanly as that language."""
    for encoding, fits in (("cp932", _japanese), ("cp949", _korean)):
        text = _strict(data, encoding)
        if fits(text):
            return text
    return None


def _detected(data: bytes, multi_byte_only: bool = False) -> str:
    """The charset detector's first plausible guess. It alone guesses wrong on short text
    (cp1252's "naïve" read as cp1257 "naļve"), hence the common cases tried before it."""
    guesses: dict[str, str] = {}
    for match in from_bytes(data):
        if match.encoding.startswith(("utf_16", "utf_32")):  # without a BOM: never plausible
            continue
        if multi_byte_only and match.encoding not in _MULTI_BYTE:
            continue
        text = str(match)
        if _plausible(text):
            guesses.setdefault(match.encoding, text)
    if not guesses:
        raise SkipFile(UNDECIDED)
    first, text = next(iter(guesses.items()))
    if first in _MULTI_BYTE and len(set(guesses.values())) > 1:
        raise SkipFile(f"{UNDECIDED} (it could be {' or '.join(list(guesses)[:3])})")
    return text


def _read_no_follow(path: Path) -> bytes:
    # O_NOFOLLOW: a file swapped for a link after the check above is refused, not read.
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError as exc:
        if path.is_symlink():
            raise SkipFile(LINK_REASON) from exc
        raise
    with os.fdopen(fd, "rb") as f:
        return f.read()


def load_file(
    path: Path,
    source: str,
    splitter: DocumentSplitter,
    max_bytes: int,
    columns: dict[str, str] | None = None,
    currency: str | None = None,
) -> tuple[list[Chunk], list[Problem], dict[str, str] | None]:
    """Chunks of one file, the rows of it that were skipped and, for a catalog, the column
    read for each role (`currency`: the shop's, for bare prices). Raises SkipFile."""
    info = path.lstat()  # the entry itself, not what a link points to
    if stat.S_ISLNK(info.st_mode):
        raise SkipFile(LINK_REASON)
    if not stat.S_ISREG(info.st_mode):
        raise SkipFile("not a regular file")
    suffix = path.suffix.lower()
    if suffix not in CATALOG_SUFFIXES | DOCUMENT_SUFFIXES:
        raise SkipFile(f"unsupported file type '{suffix or path.name}'")
    size = info.st_size
    if size == 0:
        raise SkipFile("empty file")
    if size > max_bytes:
        raise SkipFile(f"larger than the {max_bytes / 1e6:g} MB limit (COBBLER_MAX_FILE_MB)")
    data = _read_no_follow(path)
    if suffix == ".pdf":
        return splitter.pdf(data, source), [], None
    text = decode(data)
    if not text.strip():
        raise SkipFile("file has no text")
    if suffix in CATALOG_SUFFIXES:
        catalog = read_catalog(text, suffix, source, columns, currency)
        return [p.to_chunk() for p in catalog.products], catalog.problems, catalog.mapping.report()
    if suffix in {".html", ".htm"}:
        chunks = splitter.html(text, source)
    elif suffix in {".md", ".markdown"}:
        chunks = splitter.markdown(text, source)
    else:
        chunks = splitter.plain(text, source)
    if not chunks:
        raise SkipFile("no readable text once markup is removed")
    return chunks, [], None


def _place(path: Path, chunk: Chunk, line: str) -> str | None:
    """Where a line of a chunk is in its file: the product's row, else the file's line that
    holds it (a PDF's page, or the chunk's section, when its text was converted)."""
    if chunk.row:
        return chunk.row
    if chunk.page:
        return f"page {chunk.page}"
    probe = line.strip()[:40]
    with contextlib.suppress(OSError, UnicodeError):
        for number, text in enumerate(decode(_read_no_follow(path)).splitlines(), 1):
            if probe and probe in text:
                return f"line {number}"
    return chunk.section


def load_knowledge_base(
    settings: Settings,
    catalogs: dict[str, dict[str, str]] | None = None,
    profile: ShopProfile | None = None,
    suspects: list[Problem] | None = None,
) -> tuple[int, list[Chunk], list[Problem]]:
    """Files read, their chunks and what was skipped; `catalogs`, when given, is filled with
    each catalog file's column mapping, and `suspects` with the lines that read like orders
    to the model (cut from the chunks when COBBLER_SUSPECT_TEXT is quarantine)."""
    embed_headers = settings.context_headers in ("vectors", "both")
    splitter = DocumentSplitter(settings.chunk_size, settings.chunk_overlap, embed_headers)
    max_bytes = int(settings.max_file_mb * 1e6)
    # Bare prices ("1620") are in the shop's currency when its profile names one.
    currency = (profile or load_profile(settings.kb_dir)).currency
    files, chunks, problems = 0, {}, []
    for path in scan(settings.kb_dir):
        source = path.relative_to(settings.kb_dir).as_posix()
        try:
            source.encode()
        except UnicodeEncodeError:  # a name Chroma cannot store as a chunk's source
            shown = source.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
            problems.append(Problem(file=shown, reason="file name is not valid UTF-8"))
            continue
        if source == PROFILE_NAME:  # the shop's profile: read by `learn_shop`, not a document
            continue
        try:
            found, row_problems, mapping = load_file(
                path, source, splitter, max_bytes, settings.catalog_columns, currency
            )
        except SkipFile as exc:
            problems.append(Problem(file=source, reason=str(exc)))
            continue
        files += 1
        problems.extend(row_problems)
        found, flagged = screen(
            found,
            settings.suspect_text == "quarantine",
            lambda chunk, line, path=path: _place(path, chunk, line),
        )
        if suspects is not None:
            suspects.extend(flagged)
        if mapping is not None and catalogs is not None:
            catalogs[source] = mapping
        for chunk in found:
            chunks.setdefault(chunk.id, chunk)  # identical text is stored once
    return files, list(chunks.values()), problems


def learn_shop(chunks: list[Chunk], profile: ShopProfile) -> Shop:
    """Learn the shop's words from its products and tag each product with them."""
    products = [c for c in chunks if c.kind == "product"]
    vocabulary = learn(
        (
            ProductWords(
                title=c.title, category_path=c.category_path, brand=c.brand, details=c.details
            )
            for c in products
        ),
        synonyms=profile.synonyms,
    )
    for chunk in products:
        chunk.tags = vocabulary.tags(chunk.title, chunk.category_path, chunk.brand)
    return Shop(
        profile=profile,
        vocabulary=vocabulary,
        currencies=count_currencies([c.currency for c in products]),
    )


def file_manifest(kb_dir: Path) -> dict[str, str]:
    """Content hash of every entry `scan` yields, by relative path. A link is hashed by its
    target's name and a special file by its kind, never opened: adding, changing or removing
    one still counts as a change, so the report lists it."""
    manifest = {}
    for path in scan(kb_dir):
        digest = hashlib.sha256()
        mode = path.lstat().st_mode
        if stat.S_ISLNK(mode):
            digest.update(b"link:" + os.fsencode(os.readlink(path)))
        elif not stat.S_ISREG(mode):
            digest.update(b"special:%o" % stat.S_IFMT(mode))
        else:
            with path.open("rb") as f:  # in blocks: an oversized file must not fill the memory
                while block := f.read(1 << 20):
                    digest.update(block)
        manifest[path.relative_to(kb_dir).as_posix()] = digest.hexdigest()
    return manifest


def _fingerprint(settings: Settings, embedder: Embedder) -> str:
    """What else decides the index's content: a change re-ingests everything."""
    return (
        f"v{PIPELINE_VERSION}|{embedder.name}|{settings.chunk_size}|{settings.chunk_overlap}"
        f"|{settings.context_headers}"
        f"|{settings.max_file_mb}|{sorted(settings.catalog_columns.items())}"
        f"|{settings.suspect_text}"
    )


def _embed_batch(
    part: list[Chunk],
    store: Store,
    previous: Collection | None,
    reusable: set[str],
    embedder: Embedder,
    headers: bool = False,
) -> np.ndarray:
    vectors: dict[str, Any] = {}
    if previous is not None and any(c.id in reusable for c in part):
        vectors.update(store.embeddings(previous, [c.id for c in part if c.id in reusable]))
    fresh = [c for c in part if c.id not in vectors]
    if fresh:
        texts = [c.indexed_text if headers else c.text for c in fresh]
        vectors.update(zip((c.id for c in fresh), embedder.embed(texts)))
    return np.asarray([vectors[c.id] for c in part], dtype=np.float32)


def header_views(chunks: list[Chunk]) -> list[View]:
    """Each distinct header of the document chunks, once."""
    views = {v.id: v for v in (View.header(c.context) for c in chunks if c.context)}
    return list(views.values())


def _write_views(
    views: list[View],
    store: Store,
    generation: Collection,
    previous: Collection | None,
    embedder: Embedder,
) -> None:
    vectors = store.view_embeddings(previous, [v.id for v in views])
    fresh = [v for v in views if v.id not in vectors]
    if fresh:
        vectors.update(zip((v.id for v in fresh), embedder.embed([v.text for v in fresh])))
    store.write_views(generation, views, np.asarray([vectors[v.id] for v in views], np.float32))


LOCK_NAME = ".ingest.lock"
LOCK_WAIT_S = 10.0


@contextlib.contextmanager
def ingest_lock(
    db_dir: Path, wait: float = LOCK_WAIT_S, say: Callable[[str], None] = lambda message: None
) -> Iterator[None]:
    """One ingest at a time into a store: a second one waits up to `wait` seconds, then
    stops with an IngestError naming the running one. An flock on `<db_dir>/.ingest.lock`,
    released by the kernel when the holder exits, however it exits. It guards one machine:
    ingests from several hosts into one Chroma server (COBBLER_CHROMA_URL) are not locked."""
    try:
        import fcntl
    except ImportError:  # not a POSIX system: no lock
        yield
        return
    db_dir.mkdir(parents=True, exist_ok=True)
    path = db_dir / LOCK_NAME
    with path.open("a+") as lock:
        deadline, told = time.monotonic() + wait, False
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                lock.seek(0)
                holder = lock.read().strip() or "another process"
                if time.monotonic() >= deadline:
                    raise IngestError(
                        f"another ingest into {db_dir} is still running ({holder}); "
                        "run this one again when it has finished"
                    ) from None
                if not told:
                    say(f"ingest: waiting up to {wait:g} s for another ingest ({holder})")
                    told = True
                time.sleep(0.2)
        lock.seek(0)
        lock.truncate()
        lock.write(f"pid {os.getpid()}, started {time.strftime('%Y-%m-%d %H:%M:%S')}")
        lock.flush()
        try:
            yield
        finally:
            lock.truncate(0)
            fcntl.flock(lock, fcntl.LOCK_UN)


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
            suspect=[Problem(**p) for p in json.loads(before.get("suspect", "[]"))],
            catalogs=json.loads(before.get("catalogs", "{}")),
            **changes,
        )

    try:
        profile = load_profile(settings.kb_dir)
    except ProfileError as exc:
        raise IngestError(str(exc)) from exc
    catalogs: dict[str, dict[str, str]] = {}
    suspects: list[Problem] = []
    files, chunks, problems = load_knowledge_base(settings, catalogs, profile, suspects)
    if strict and problems:
        raise IngestError(f"{len(problems)} problem(s): " + "; ".join(map(str, problems)))
    shop = learn_shop(chunks, profile)
    batch = min(store.batch_size, WRITE_BATCH)
    # Vectors are reusable only if the same encoder made them.
    if previous is not None and before.get("embedding_model") != embedder.name:
        previous = None
    reusable = store.existing(previous, [c.id for c in chunks])
    to_embed = sum(c.id not in reusable for c in chunks)
    products = sum(c.kind == "product" for c in chunks)
    generation = store.new_generation(
        {
            "embedding_model": embedder.name,
            "config": config,
            "manifest": json.dumps(manifest),
            "skipped": json.dumps([p.model_dump() for p in problems]),
            "suspect": json.dumps([p.model_dump() for p in suspects]),
            "catalogs": json.dumps(catalogs),
            "shop": shop.model_dump_json(),
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
        embedder.load()  # now, so the figure below is the encoder's own
        encoder_load = time.perf_counter() - load_started
    bar = tqdm(total=to_embed, unit="chunk", desc="Embedding", disable=not progress)
    # One writer thread: Chroma stores batch n while the encoder works on batch n + 1.
    writer = ThreadPoolExecutor(max_workers=1)
    pending: Future | None = None
    try:
        for start in range(0, len(chunks), batch):
            part = chunks[start : start + batch]
            vectors = _embed_batch(
                part,
                store,
                previous,
                reusable,
                embedder,
                settings.context_headers in ("vectors", "both"),
            )
            if pending is not None:
                pending.result()
            pending = writer.submit(store.write, generation, part, vectors)
            bar.update(sum(c.id not in reusable for c in part))
        if pending is not None:
            pending.result()
        if views := header_views(chunks):
            _write_views(views, store, generation, previous, embedder)
    except BaseException:
        writer.shutdown(wait=True)
        store.discard(generation)  # never leave a half-built generation behind
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
        suspect=suspects,
        catalogs=catalogs,
        **changes,
    )
