"""Fuzzing ingestion: over 200 generated bad files beside a handful of good ones.

Proves, with one real ingest run (real encoder, real Chroma store), that
- nothing crashes: truncated and deeply nested JSON, wrong types, huge lines and files,
  invalid UTF-8 and UTF-16, binary files with text extensions, NUL bytes, ragged CSV and
  unterminated quotes, fake and damaged PDFs, markup without text, unknown extensions and
  file names that are not UTF-8 all go into the report instead;
- every bad file is named in the report, and a file that is only partly bad is named with
  the row or line at fault while its good rows (before and after the bad one) are kept;
- every good file is ingested and can be read back from the store.

Files are generated from a fixed seed, so a failure names a file that can be regenerated.
"""

from __future__ import annotations

import json
import os
import random
from collections.abc import Callable
from datetime import datetime, timezone
from pathlib import Path

from fpdf import FPDF

from cobbler.store import Store, open_client
from ingest.pipeline import ingest
from ingest.problems import Problem
from tests.conftest import make_settings

SEED = 20261123
MAX_FILE_MB = 0.5  # small, so "too big" files stay cheap to write; huge lines fit under it
OVERSIZED_BYTES = 600_000
HUGE_LINE_BYTES = (150_000, 250_000)  # over the csv module's 131,072-character cell limit

# A wholly bad file's bytes, from the seeded random and the file's extension.
Maker = Callable[[random.Random, str], bytes]
# A partly bad file's bytes, given the titles of the good rows it must keep.
PartialMaker = Callable[[random.Random, list[str]], bytes]


def _row(title: str, price: object = "£10.00") -> dict[str, object]:
    return {"title": title, "price": price, "brand": "Fuzzwell", "breadcrumbs": "Shoes › Boots"}


def _catalog(*rows: object) -> bytes:
    return json.dumps(list(rows), ensure_ascii=False).encode()


def _rows_as(suffix: str, *rows: str) -> bytes:
    """Rows written as JSON text, one per line in JSONL, in an array otherwise."""
    return ("\n".join(rows) if suffix == ".jsonl" else "[" + ", ".join(rows) + "]").encode()


def _pdf(*pages: str) -> bytes:
    pdf = FPDF()
    pdf.set_creation_date(datetime(2026, 1, 1, tzinfo=timezone.utc))  # same bytes every run
    pdf.set_font("helvetica", size=12)
    for text in pages or ("",):
        pdf.add_page()
        if text:
            pdf.multi_cell(0, 8, text)
    return bytes(pdf.output())


def _deep(depth: int, lists: bool) -> str:
    if lists:
        return "[" * depth + '"Leather"' + "]" * depth
    return '{"Upper": ' * depth + '"Leather"' + "}" * depth


# ---------------------------------------------------------------- wholly bad files


def truncated_json(r: random.Random, suffix: str) -> bytes:
    whole = _catalog(*(_row(f"Cut Boot {n}") for n in range(5)))
    return whole[: r.randint(1, len(whole) - 2)]


def json_not_a_catalog(r: random.Random, suffix: str) -> bytes:
    # [1, 2, 3] and [[]] parse but hold no product objects: reported by item.
    shapes = [42, "shoes", None, True, 3.5, {}, {"no": "list"}, {"products": "x"}, [], [1, 2, 3]]
    return json.dumps(r.choice(shapes + [[[]], ["a"]])).encode()


def wrong_title_type(r: random.Random, suffix: str) -> bytes:
    titles = [["Boot", "Shoe"], {"en": {"name": "Boot"}}, 42, 3.5, True, None, "", "   "]
    return _catalog(*(_row(r.choice(titles)) for _ in range(r.randint(1, 3))))


def wrong_price_type(r: random.Random, suffix: str) -> bytes:
    # Not a price: str() of a list or dict has digits (str([12, 30]) → "£12.00 – £30.00"),
    # NaN and inf printed as "£nan" and "£inf". Each must be a reported row, not a product.
    prices = [[12, 30], ["£12"], {"gbp": {"amount": 12}}, True, False, float("nan"), 1e999]
    prices += [-1e999, "£" + "9" * 400]
    title = f"Wrong Price Boot {r.randrange(10**6)}"
    return _catalog(_row(title, r.choice(prices)))  # json.dumps writes NaN and Infinity


def huge_number(r: random.Random, suffix: str) -> bytes:
    # Over Python's 4,300-digit int limit: json.loads raises ValueError, not JSONDecodeError.
    digits = "9" * r.randint(4_400, 6_000)
    return _rows_as(suffix, f'{{"title": "Huge Number Boot", "price": {digits}}}')


def lone_surrogate(r: random.Random, suffix: str) -> bytes:
    escape = r.choice(["\\ud83d", "\\udc00", "\\udfff", "\\ud800 x \\ud800"])
    return _rows_as(suffix, '{"title": "Surrogate ' + escape + ' Boot", "price": "£5"}')


def deeply_nested_file(r: random.Random, suffix: str) -> bytes:
    return _deep(r.randint(10_000, 30_000), lists=r.random() < 0.5).encode()


def deeply_nested_value(r: random.Random, suffix: str) -> bytes:
    # Parses (up to ~900 deep), but flattening it to text overflows the stack; deeper, the
    # parser's own limit trips. Flattening takes two frames a level for these shapes.
    field, lists = r.choice([("features", True), ("images_list", True), ("product_details", False)])
    value = _deep(r.randint(600, 2_000), lists)
    return _rows_as(suffix, f'{{"title": "Nested Boot", "price": "£1", "{field}": {value}}}')


def deeply_nested_csv_cell(r: random.Random, suffix: str) -> bytes:
    cell = "[" * r.randint(700, 3000)
    cell += "]" * len(cell)
    return f'title,price,features\nNested Cell Boot,£1,"{cell}"\n'.encode()


_UTF8_TEXT = [  # mostly English with the odd £ or dash, and a dense one
    "Returns are free within 30 days. Gift cards start at £10 – ask in store.\n",
    "Größe 42, café-au-lait suede, £49.99 – £59.99, “hand-stitched” naïve soles’ edge.\n",
]
_BROKEN_UTF8 = [b"\x80", b"\xbf", b"\xc0\xaf", b"\xed\xa0\x80", b"\xf8\x88\x80", b"\xff", b"\xe2"]


def damaged_utf8(r: random.Random, suffix: str) -> bytes:
    """Real UTF-8 with a few broken sequences: read as a legacy code page it would garble
    (the old fallback turned "£10 –" into cp932's "ﾂ｣10 窶")."""
    data = bytearray((r.choice(_UTF8_TEXT) * r.randint(1, 6)).encode())
    for _ in range(r.randint(1, 3)):  # between two ASCII bytes, so the £ and – stay whole
        at = r.choice([i for i in range(1, len(data)) if data[i - 1] < 0x80 > data[i]])
        data[at:at] = r.choice(_BROKEN_UTF8)
    if r.random() < 0.3:  # also cut the file inside its last character
        data += "–".encode()[:2]
    return bytes(data)


def undecodable_bytes(r: random.Random, suffix: str) -> bytes:
    # No encoding makes sense of these, so detection gives up. (One stray byte in ASCII text
    # is read as a legacy code page by design, like any cp1252 file, so it is not used here.)
    noise = bytes(
        r.choice([0xC3, 0xFF, 0xFE, 0x80, 0x81, 0xC0]) for _ in range(r.randint(300, 900))
    )
    return b"# Returns\n\n" + noise


def invalid_utf16(r: random.Random, suffix: str) -> bytes:
    body = "Returns within 30 days.".encode("utf-16-le")
    broken = [b"\x00\xd8A\x00", b"\x00\xdc", b"A"]  # lone surrogates, half a code unit
    return b"\xff\xfe" + body + r.choice(broken)


def binary_with_text_extension(r: random.Random, suffix: str) -> bytes:
    header = r.choice([b"\x89PNG\r\n\x1a\n", b"PK\x03\x04", b"\x1f\x8b\x08", b"\x7fELF", b""])
    data = bytearray(header + r.randbytes(r.randint(64, 4096)))
    data.insert(r.randrange(len(data)), 0)  # binary data has NULs somewhere
    return bytes(data)


def nul_in_text(r: random.Random, suffix: str) -> bytes:
    # Beyond the first 8 KB too: a check of only the file's start would miss it.
    text = bytearray(b"title,price\n" + b"Quiet Boot,\xc2\xa310.00\n" * r.randint(10, 900))
    text.insert(r.randrange(len(text)), 0)
    return bytes(text)


def empty(r: random.Random, suffix: str) -> bytes:
    return r.choice([b"", b" ", b"\n\n", b" \t\r\n \n", b"\xef\xbb\xbf"])


def csv_without_rows(r: random.Random, suffix: str) -> bytes:
    shapes = [
        b"title,price\n",  # header only
        b"\n\n\n",
        b"sku,colour\nA1,red\nA2,blue\n",  # no title column: every row is reported
        b",,,\n,,,\n",
        b'"title,price\nBoot,1\n',  # the header's quote never closes
    ]
    return r.choice(shapes)


def not_a_pdf(r: random.Random, suffix: str) -> bytes:
    good = _pdf("Fuzzwell warranty covers stitching for a year. " * 30)
    shapes = [
        lambda: b"not a pdf at all",
        lambda: b"%PDF-1.7\n",
        lambda: b"%PDF-1.4\n1 0 obj << /Type /Catalog",
        lambda: good[: r.randint(1, len(good) - 10)],  # truncated
        lambda: good.replace(b"/FlateDecode", b"/FlateDecXde"),  # pypdf: NotImplementedError
        lambda: b"<html><body><p>Saved as PDF by mistake</p></body></html>",
        lambda: _pdf(),  # a real PDF with no text layer
    ]
    return r.choice(shapes)()


def html_without_text(r: random.Random, suffix: str) -> bytes:
    shapes = [
        b"<html><head><script>alert(1)</script></head><body></body></html>",
        b"<script>var shoes = [1, 2, 3];</script>",
        b"<style>p { color: red }</style><nav><a href='/'>Home</a></nav>",
        b"<!-- only a comment -->",
        b"<html><body>   \n\t </body></html>",
        b"<p>Size <![guide</p>",  # markup html.parser rejects outright
        b"<html><![ <body><p>Returns</p></body></html>",
    ]
    return r.choice(shapes)


def unknown_extension(r: random.Random, suffix: str) -> bytes:
    return b"MZ\x90\x00" + r.randbytes(200)


def oversized(r: random.Random, suffix: str) -> bytes:
    line = b'{"title": "Big Boot", "price": "\xc2\xa31"}\n'
    return line * (OVERSIZED_BYTES // len(line) + 1)


# (kind, maker, extensions cycled through, number of files)
WHOLLY_BAD: list[tuple[str, Maker, list[str], int]] = [
    ("truncated-json", truncated_json, [".json"], 16),
    ("json-not-a-catalog", json_not_a_catalog, [".json"], 14),
    ("wrong-title-type", wrong_title_type, [".json"], 14),
    ("wrong-price-type", wrong_price_type, [".json"], 16),
    ("huge-number", huge_number, [".json", ".jsonl"], 4),
    ("lone-surrogate", lone_surrogate, [".json", ".jsonl"], 6),
    ("deeply-nested-file", deeply_nested_file, [".json", ".jsonl"], 10),
    ("deeply-nested-value", deeply_nested_value, [".json", ".jsonl"], 8),
    ("deeply-nested-csv-cell", deeply_nested_csv_cell, [".csv"], 4),
    ("damaged-utf8", damaged_utf8, [".md", ".txt", ".csv", ".json", ".jsonl", ".html"], 18),
    ("undecodable-bytes", undecodable_bytes, [".md", ".txt", ".html", ".json"], 12),
    ("invalid-utf16", invalid_utf16, [".txt", ".csv", ".md"], 6),
    ("binary", binary_with_text_extension, [".txt", ".md", ".csv", ".json", ".jsonl", ".html"], 24),
    ("nul-in-text", nul_in_text, [".md", ".txt", ".csv"], 9),
    ("empty", empty, [".md", ".txt", ".json", ".jsonl", ".csv", ".html", ".pdf"], 14),
    ("csv-without-rows", csv_without_rows, [".csv"], 10),
    ("not-a-pdf", not_a_pdf, [".pdf"], 14),
    ("html-without-text", html_without_text, [".html", ".htm"], 14),
    ("unknown-extension", unknown_extension, [".exe", ".docx", ".xlsx", ".zip", ".json~", ""], 12),
    ("oversized", oversized, [".jsonl", ".txt", ".md"], 3),
]

# ---------------------------------------------------------------- partly bad files


def csv_ragged(r: random.Random, keep: list[str]) -> bytes:
    extra = ",".join("x" for _ in range(r.randint(1, 5)))
    return (
        f"title,price,brand\n{keep[0]},£40.00,Fuzzwell\nRagged Boot,£1,B,{extra}\n"
        f"{keep[1]},£41.00\n"  # fewer cells than the header is fine: empty cells
    ).encode()


def csv_bad_quote(r: random.Random, keep: list[str]) -> bytes:
    if r.random() < 0.5:  # a quoted cell with text after its closing quote
        return f'title,price\n{keep[0]},£40\n"Quoted"Boot,£1\n{keep[1]},£41\n'.encode()
    # A quote that never closes swallows the rest of the file: the good rows come first.
    return f'title,price\n{keep[0]},£40\n{keep[1]},£41\n"Open Quote Boot,£1\nLost,£2\n'.encode()


def csv_huge_cell(r: random.Random, keep: list[str]) -> bytes:
    huge = "x" * r.randint(*HUGE_LINE_BYTES)
    return f'title,price\n{keep[0]},£40\n"{huge}",£1\n{keep[1]},£41\n'.encode()


def jsonl_bad_lines(r: random.Random, keep: list[str]) -> bytes:
    bad = [
        '{"title": ',
        "[1, 2]",
        '"just a string"',
        "42",
        '{"title": null}',
        '{"title": ["a"], "price": "£1"}',
        '{"title": "Listed Price Boot", "price": [1, 2]}',
        '{"title": "NaN Boot", "price": NaN}',
        '{"title": "Surrogate \\ud800 Boot"}',
        '{"a": ' * 20_000,
        "[" * 20_000 + "]" * 20_000,
        "z" * r.randint(*HUGE_LINE_BYTES),  # one huge line that is not JSON
    ]
    lines = [json.dumps({"title": keep[0], "price": "£40"}), r.choice(bad), r.choice(bad)]
    lines.append(json.dumps({"title": keep[1], "price": 41}))
    return "\n".join(lines).encode()


def json_some_bad_items(r: random.Random, keep: list[str]) -> bytes:
    bad = [42, "boot", None, [], _row(["x"]), _row({"n": {"m": 1}}), _row("Dict Price", {"a": 1})]
    return _catalog(_row(keep[0]), r.choice(bad), r.choice(bad), _row(keep[1]))


def truncated_jsonl(r: random.Random, keep: list[str]) -> bytes:
    last = json.dumps(_row("Cut Line Boot"))
    lines = [json.dumps(_row(t)) for t in keep] + [last[: r.randint(1, len(last) - 2)]]
    return "\n".join(lines).encode()


PARTLY_BAD: list[tuple[str, PartialMaker, str, int]] = [
    ("csv-ragged", csv_ragged, ".csv", 6),
    ("csv-bad-quote", csv_bad_quote, ".csv", 6),
    ("csv-huge-cell", csv_huge_cell, ".csv", 4),
    ("jsonl-bad-lines", jsonl_bad_lines, ".jsonl", 10),
    ("json-some-bad-items", json_some_bad_items, ".json", 6),
    ("truncated-jsonl", truncated_jsonl, ".jsonl", 4),
]

# ---------------------------------------------------------------- good files

GOOD_PRODUCTS = {
    "good/catalog.json": ["Harbour Canvas Plimsoll", "Moorland Suede Chukka", "Lantern Slipper"],
    "good/catalog.jsonl": ["Saltmarsh Wader Boot", "Orchard Leather Loafer"],
    "good/catalog.csv": ["Tidewater Deck Shoe, Navy", "Brackenridge Fell Runner"],
}
GOOD_DOCUMENTS = {  # file → a phrase its stored chunks must contain
    "good/care.md": "Brush Fuzzwell suede weekly",
    "good/gifts.txt": "Fuzzwell gift wrap is free in December",
    "good/stores.html": "Our Harrogate shop opens at nine",
    "good/warranty.pdf": "Fuzzwell resoles any boot",
    "good/one-long-line.txt": "Fuzzwell laces are waxed cotton",
    "good/legacy-cp1252.txt": "Café loyalty cards from £10",
}


def _write_good_files(kb: Path) -> None:
    (kb / "good").mkdir()
    json_titles, jsonl_titles, csv_titles = GOOD_PRODUCTS.values()
    (kb / "good/catalog.json").write_bytes(_catalog(*(_row(t) for t in json_titles)))
    jsonl = [  # a raw U+2028 is valid inside a JSON string and must not split the line
        {"title": jsonl_titles[0], "price": "£65.00", "features": ["Line one\u2028line two"]},
        {"title": jsonl_titles[1], "price": 72.5},
    ]
    (kb / "good/catalog.jsonl").write_text(
        "\n".join(json.dumps(j, ensure_ascii=False) for j in jsonl)
    )
    rows = f'title,price,brand\n"{csv_titles[0]}",£34.99,Fuzzwell\n{csv_titles[1]},£80,Fuzzwell\n'
    (kb / "good/catalog.csv").write_text(rows)
    docs = GOOD_DOCUMENTS
    (kb / "good/care.md").write_text(f"# Fuzzwell care\n\n## Suede\n\n{docs['good/care.md']}.\n")
    (kb / "good/gifts.txt").write_text(docs["good/gifts.txt"] + ".\n")
    html = f"<html><script>x()</script><body><h1>Stores</h1><p>{docs['good/stores.html']}.</p>"
    (kb / "good/stores.html").write_text(html + "</body></html>")
    (kb / "good/warranty.pdf").write_bytes(_pdf(docs["good/warranty.pdf"] + " for £30."))
    # One line of ~200 kB, under the size limit: long, but nothing wrong with it.
    line = docs["good/one-long-line.txt"] + ". "
    (kb / "good/one-long-line.txt").write_text(line * (200_000 // len(line)))
    # Not UTF-8 but a legacy encoding, read as such: the damaged-UTF-8 rule must not catch it.
    text = docs["good/legacy-cp1252.txt"] + ", open Monday to Saturday, 9am–5pm."
    (kb / "good/legacy-cp1252.txt").write_bytes(text.encode("cp1252"))


def _write_knowledge_base(kb: Path) -> tuple[set[str], dict[str, list[str]]]:
    """Write every file; return the wholly bad names and each partly bad file's kept titles."""
    r = random.Random(SEED)
    wholly: set[str] = set()
    partly: dict[str, list[str]] = {}
    (kb / "bad").mkdir(parents=True)
    for kind, make, suffixes, count in WHOLLY_BAD:
        for n in range(count):
            suffix = suffixes[n % len(suffixes)]
            name = f"bad/{kind}-{n:02d}{suffix}"
            (kb / name).write_bytes(make(r, suffix))
            wholly.add(name)
    # Names that are not UTF-8 (a zip made on Windows): Chroma cannot store them as a source.
    for n, raw in enumerate([b"caf\xe9", b"gr\xf6\xdfe", b"\xff\xfe"]):
        path = os.fsencode(kb / "bad") + b"/" + raw + f"-{n}.md".encode()
        Path(os.fsdecode(path)).write_text("# Fine text, bad name\n")
        shown = os.fsdecode(path).encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        wholly.add(Path(shown).relative_to(kb).as_posix())
    (kb / "partial").mkdir()
    for kind, make, suffix, count in PARTLY_BAD:
        for n in range(count):
            name = f"partial/{kind}-{n:02d}{suffix}"
            keep = [f"Fuzzwell Kept {kind} {n:02d} {side}" for side in ("Before", "After")]
            (kb / name).write_bytes(make(r, keep))
            partly[name] = keep
    _write_good_files(kb)
    return wholly, partly


def test_hundreds_of_bad_files_crash_nothing_and_are_all_reported(tmp_path, embedder):
    kb = tmp_path / "kb"
    wholly, partly = _write_knowledge_base(kb)
    assert len(wholly) + len(partly) >= 200
    settings = make_settings(tmp_path, kb_dir=kb, max_file_mb=MAX_FILE_MB)
    client = open_client(settings)

    report = ingest(settings, embedder, client)  # no exception is the first half of the proof

    by_file: dict[str, list[Problem]] = {}
    for problem in report.skipped:
        by_file.setdefault(problem.file, []).append(problem)
    missing = sorted(wholly - by_file.keys())
    assert not missing, f"{len(missing)} bad files not in the report: {missing[:12]}"
    for name in partly:
        assert by_file.get(name), f"{name} is partly bad but not reported"
        assert all(p.where for p in by_file[name]), by_file[name]  # row or line named
    unexpected = sorted(by_file.keys() - wholly - partly.keys())
    assert not unexpected, [str(p) for f in unexpected for p in by_file[f]]  # e.g. a good file

    stored = (
        Store(client, settings.collection).require_active().get(include=["metadatas", "documents"])
    )
    products = {m["title"]: m["source"] for m in stored["metadatas"] if m["kind"] == "product"}
    for name, titles in GOOD_PRODUCTS.items():
        assert all(products.get(t) == name for t in titles), (name, titles)
    for name, titles in partly.items():  # the good rows around a bad one are all kept
        assert all(products.get(t) == name for t in titles), (name, titles, by_file[name])
    texts: dict[str, str] = {}
    for meta, text in zip(stored["metadatas"], stored["documents"], strict=True):
        texts[meta["source"]] = texts.get(meta["source"], "") + "\n" + text
    for name, phrase in GOOD_DOCUMENTS.items():
        assert phrase in texts.get(name, ""), (name, texts.get(name, "")[:200])
    leaked = sorted(wholly & texts.keys())
    assert not leaked, f"bad files got into the store: {leaked}"
