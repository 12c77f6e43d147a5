"""Ingestion speed and memory on the real 997-product catalog and a synthetic large one.

Prints: chunks/s through the pipeline, the same texts through raw
SentenceTransformer.encode in the same run (the floor), their ratio, the no-change
re-ingest time and the peak RSS of each ingest process.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import cobbler  # noqa: F401
from bench.common import ROOT, SHARED_CSV, run_measured, table
from cobbler.embeddings import Embedder
from cobbler.records import Product
from cobbler.settings import load_settings
from ingest.catalog import to_product
from ingest.pipeline import load_knowledge_base


def synthetic_rows(count: int) -> Iterator[dict]:
    """`count` varied products in the Crawl Feeds shape."""
    rng = random.Random(1)
    brands = [f"Brand{n:03d}" for n in range(300)]
    kinds = ["Trainers", "Walking Boots", "Sandals", "Slippers", "Running Shoes", "Loafers"]
    colours = ["Black", "Brown", "Navy", "White", "Grey", "Tan", "Red", "Green"]
    for n in range(count):
        brand, kind = rng.choice(brands), rng.choice(kinds)
        low = round(rng.uniform(10, 150), 2)
        yield {
            "asin": f"B{n:09d}",
            "title": f"{brand} {rng.choice(['Men', 'Women', 'Kids'])}'s Model{n} {kind} "
            f"{rng.choice(colours)} {rng.randint(3, 12)} UK",
            "brand": brand,
            "price": f"£{low:.2f}" if n % 3 else f"£{low:.2f} - £{low * 1.6:.2f}",
            "breadcrumbs": f"Shoes › {kind}",
            "product_details": {"Outer Material": rng.choice(["Leather", "Mesh", "Suede"])},
            "features": [f"Feature {rng.randint(1, 999)} of model {n}"],
            "url": f"https://shop.example/dp/B{n:09d}",
        }


def synthetic_products(count: int) -> Iterator[Product]:
    return (to_product(row, "synthetic.jsonl") for row in synthetic_rows(count))


def synthetic_catalog(path: Path, count: int) -> None:
    """Write `count` synthetic products as a JSONL catalog."""
    with path.open("w") as out:
        for row in synthetic_rows(count):
            out.write(json.dumps(row) + "\n")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--large",
        type=int,
        default=int(os.environ.get("BENCH_LARGE", "50000")),
        help="synthetic products to ingest for the memory figure (0: skip)",
    )
    args = parser.parse_args(argv)
    if not SHARED_CSV.is_file():
        print(f"ingest bench skipped: {SHARED_CSV} is absent")
        return
    work = Path(tempfile.mkdtemp(prefix="cobbler-bench-"))
    kb = work / "kb"
    shutil.copytree(ROOT / "knowledge_base" / "docs", kb / "docs")
    shutil.copy(SHARED_CSV, kb / SHARED_CSV.name)
    db = work / "db"
    try:
        out, wall, rss = run_measured(["ingest", "--kb", str(kb), "--db", str(db), "--json"])
        report = json.loads(out)
        out2, wall2, rss2 = run_measured(["ingest", "--kb", str(kb), "--db", str(db), "--json"])
        again = json.loads(out2)

        # The floor: the same texts through the raw encoder, in this process, same run.
        settings = load_settings({"kb_dir": kb})
        _, chunks, _ = load_knowledge_base(settings)
        embedder = Embedder.from_settings(settings)
        embedder.embed(["warm up"])  # the backend ingest used, on its own
        started = time.perf_counter()
        embedder.embed([c.text for c in chunks])
        raw_rate = len(chunks) / (time.perf_counter() - started)
        rate = report["embedded"] / (report["seconds"] - report["encoder_load_seconds"])
        rows = [
            ("chunks", f"{report['products']} products + {report['document_chunks']} doc chunks"),
            (
                "pipeline",
                f"{rate:.1f} chunks/s ({report['seconds']:.1f} s in ingest, of which "
                f"{report['encoder_load_seconds']:.1f} s loading the encoder; "
                f"{wall:.1f} s with process start)",
            ),
            ("raw encoder", f"{raw_rate:.1f} chunks/s ({embedder.name} alone, same texts)"),
            ("ratio", f"{rate / raw_rate:.2f} (target >= 0.85)"),
            (
                "no-change re-ingest",
                f"{wall2:.2f} s wall, {again['seconds']:.2f} s in ingest (target <= 2 s)",
            ),
            ("peak RSS", f"{rss:.0f} MB first ingest, {rss2:.0f} MB re-ingest"),
        ]
        if args.large:
            big = work / "big"
            big.mkdir()
            synthetic_catalog(big / "catalog.jsonl", args.large)
            out3, wall3, rss3 = run_measured(
                ["ingest", "--kb", str(big), "--db", str(work / "bigdb"), "--json"]
            )
            large = json.loads(out3)
            rows.append(
                (
                    f"{args.large:,} synthetic",
                    f"{large['products']} products in "
                    f"{wall3:.0f} s, peak RSS {rss3:.0f} MB (target <= 1536 MB)",
                )
            )
        table("Ingest (real 997-product catalog + bundled documents)", rows)
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
