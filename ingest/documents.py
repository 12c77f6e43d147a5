"""Store documents (Markdown, text, HTML, PDF) → Chunks that keep their file and section.

Markdown is split along its headings first, so each chunk knows the heading path it
sits under; HTML is turned into the same heading-marked text (its tables into Markdown
tables, written out row by row with their headers like Markdown's); PDF pages keep their
page number. Long sections are then cut to `chunk_size` characters, and a heading with
nothing under it leads the next chunk.
"""

from __future__ import annotations

import io
import re
from pathlib import PurePosixPath

from bs4 import BeautifulSoup, ParserRejectedMarkup, Tag
from langchain_text_splitters import MarkdownHeaderTextSplitter, RecursiveCharacterTextSplitter
from pypdf import PdfReader

from cobbler.records import Chunk, chunk_id
from ingest.problems import SkipFile

_HEADINGS = [("#", "h1"), ("##", "h2"), ("###", "h3")]
# Page furniture that is never an answer to a shopper's question.
_HTML_NOISE = ["script", "style", "nav", "noscript", "template", "iframe", "svg", "form", "header"]


class DocumentSplitter:
    def __init__(self, chunk_size: int, chunk_overlap: int, embed_headers: bool = False) -> None:
        self.embed_headers = embed_headers
        self.by_heading = MarkdownHeaderTextSplitter(_HEADINGS, strip_headers=False)
        self.by_size = RecursiveCharacterTextSplitter(
            chunk_size=chunk_size, chunk_overlap=min(chunk_overlap, chunk_size // 2)
        )

    def markdown(self, text: str, source: str) -> list[Chunk]:
        title = _title_from(text) or _title_from_name(source)
        pieces: list[tuple[str | None, str]] = []
        for section in self.by_heading.split_text(text):
            path = [section.metadata[h] for _, h in _HEADINGS if h in section.metadata]
            heading = " › ".join(path) or None
            content = table_rows(section.page_content, path[-1] if path else title)
            pieces += [(heading, piece) for piece in self.by_size.split_text(content)]
        chunks = [
            self._chunk(piece, title, source, section=heading)
            for heading, piece in _headings_lead(pieces)
        ]
        return _numbered(chunks)

    def plain(self, text: str, source: str, page: int | None = None) -> list[Chunk]:
        title = _title_from_name(source)
        pieces = self.by_size.split_text(text)
        return _numbered([self._chunk(p, title, source, page=page) for p in pieces])

    def html(self, raw: str, source: str) -> list[Chunk]:
        try:
            text = html_to_markdown(raw)
        except ParserRejectedMarkup as exc:  # e.g. a stray "<![" the parser cannot place
            raise SkipFile("unreadable HTML (the parser rejected the markup)") from exc
        return self.markdown(text, source)

    def pdf(self, data: bytes, source: str) -> list[Chunk]:
        try:
            reader = PdfReader(io.BytesIO(data))
            pages = [page.extract_text() or "" for page in reader.pages]
        except Exception as exc:  # a damaged PDF fails inside pypdf in many ways
            raise SkipFile(f"unreadable PDF ({type(exc).__name__}: {exc})") from exc
        if not any(p.strip() for p in pages):
            raise SkipFile("PDF has no text layer (scanned images need OCR first)")
        title = _title_from_name(source)
        chunks: list[Chunk] = []
        for number, text in enumerate(pages, 1):
            for piece in self.by_size.split_text(text):
                chunks.append(self._chunk(piece, title, source, page=number))
        return _numbered(chunks)

    def _chunk(
        self,
        text: str,
        title: str,
        source: str,
        section: str | None = None,
        page: int | None = None,
    ) -> Chunk:
        chunk = Chunk(
            id="",
            kind="document",
            text=text.strip(),
            title=title,
            source=source,
            section=section,
            page=page,
        )
        # The id follows what is embedded: with headers embedded, a renamed file or heading
        # re-embeds its chunks, and the same text under two headings is two chunks.
        chunk.id = chunk_id("document", chunk.indexed_text if self.embed_headers else chunk.text)
        return chunk


_TABLE = re.compile(
    r"(?m)^[ \t]*\|.*\|[ \t]*\n[ \t]*\|[ :\-|]+\|[ \t]*\n(?:[ \t]*\|.*\|[ \t]*(?:\n|$))*"
)


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def table_rows(text: str, label: str) -> str:
    """Markdown tables with each row written out with its headers, under the table's
    label: "Kettles: Litres 1.7, Watts 3000, Weight (kg) 1.2." ("; " between the cells when
    a cell holds a comma). A row keeps its own meaning wherever a chunk boundary falls, and
    a figure can be read from its own row."""

    def rows(match: re.Match[str]) -> str:
        lines = [line for line in match.group().splitlines() if line.strip()]
        headers = _cells(lines[0])
        table = [_cells(line) for line in lines[2:]]
        # Cells that hold commas ("4.95, free over 50") need a separator they lack.
        sep = "; " if any("," in cell for row in table for cell in row) else ", "
        written = []
        for cells in table:
            pairs = [f"{h} {v}".strip() for h, v in zip(headers, cells) if v]
            if pairs:
                written.append(f"{label}: {sep.join(pairs)}.")
        return "\n".join(written) + "\n"

    return _TABLE.sub(rows, text)


def html_to_markdown(raw: str) -> str:
    soup = BeautifulSoup(raw, "html.parser")
    for tag in soup(_HTML_NOISE):
        tag.decompose()
    for table in reversed(soup.find_all("table")):  # a table inside a cell first
        table.replace_with(_table_markdown(table))
    for level in (1, 2, 3):
        for heading in soup.find_all(f"h{level}"):
            heading.replace_with(f"\n\n{'#' * level} {heading.get_text(' ', strip=True)}\n\n")
    body = soup.body or soup
    text = body.get_text("\n")
    return re.sub(r"\n\s*\n\s*", "\n\n", text).strip()


def _table_markdown(table: Tag) -> str:
    """An HTML table as a Markdown table, so that `table_rows` writes each row with its
    headers as it does for Markdown. The headers are a first row of <th> cells or the
    <thead>; a table without them (a column of labels, say) keeps each row on one line."""
    rows: list[list[str]] = []
    header = False
    for tr in table.find_all("tr"):
        cells = tr.find_all(["th", "td"])
        text = [" ".join(c.get_text(" ", strip=True).replace("|", "/").split()) for c in cells]
        if not any(text):
            continue
        if not rows:
            header = tr.find_parent("thead") is not None or all(c.name == "th" for c in cells)
        rows.append(text)
    caption = table.find("caption")
    lines = [caption.get_text(" ", strip=True), ""] if caption else []
    if header and len(rows) > 1:
        width = max(len(row) for row in rows)
        rows = [row + [""] * (width - len(row)) for row in rows]
        rows.insert(1, ["---"] * width)
        lines += ["| " + " | ".join(row) + " |" for row in rows]
    else:
        lines += [", ".join(cell for cell in row if cell) for row in rows]
    return "\n\n" + "\n".join(lines) + "\n\n"


_HEADING_LINE = re.compile(r"#{1,6}(\s|$)")
_RULE = frozenset("-*_ ")  # a line of only these is a Markdown rule (or blank)


def _only_headings(text: str) -> bool:
    """Whether every line of a piece is a heading, a rule or blank."""
    lines = (line.strip() for line in text.splitlines())
    return not any(set(ln) - _RULE and not _HEADING_LINE.match(ln) for ln in lines)


def _headings_lead(pieces: list[tuple[str | None, str]]) -> list[tuple[str | None, str]]:
    """A piece that is only headings (a title with a rule under it; a heading the size
    splitter parted from a first paragraph too long to share a chunk with it) leads the
    piece after it, under that piece's heading path: alone it is a chunk with nothing to
    read that still matches every question naming its heading."""
    out: list[tuple[str | None, str]] = []
    lead = ""
    for heading, text in pieces:
        if _only_headings(text):
            lead = f"{lead}\n\n{text}".strip()
            continue
        out.append((heading, f"{lead}\n\n{text}" if lead else text))
        lead = ""
    if lead:  # headings that end the file: kept, though there is nothing under them
        out.append((pieces[-1][0], lead))
    return out


def _numbered(chunks: list[Chunk]) -> list[Chunk]:
    for part, chunk in enumerate(chunks):
        chunk.part = part
    return chunks


def _title_from(markdown: str) -> str | None:
    match = re.search(r"^#\s+(.+)$", markdown, re.MULTILINE)
    return match.group(1).strip() if match else None


def _title_from_name(source: str) -> str:
    return PurePosixPath(source).stem.replace("-", " ").replace("_", " ").strip().capitalize()
