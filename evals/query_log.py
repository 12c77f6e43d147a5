"""How the question parser reads real shoppers' queries: which get a filter, and whether
that filter leaves anything to show.

    python -m evals.query_log [--queries ../shared/data/wands_queries.tsv] [--kb DIR] [--show N]

The queries are a public search log (WANDS: 480 queries typed by a furniture shop's
shoppers, MIT licence), read from ../shared/data, never copied here. Each query is read
against the shop in `--kb` exactly as the app reads it (the vocabulary learned from that
shop's files; no encoder or store needed) and its hard filters are applied to the shop's
products. Queries with an even id are the tuning split, odd ids the report split: change the
parser looking only at the tuning split's examples (`--split tune --show N`).
"""

from __future__ import annotations

import argparse
import csv
import sys
from collections import Counter
from pathlib import Path

from app.understanding import Catalog, Constraints, parse
from cobbler.profile import load_profile
from cobbler.settings import Settings
from ingest.pipeline import learn_shop, load_knowledge_base

ROOT = Path(__file__).resolve().parent.parent
QUERIES = ROOT.parent / "shared" / "data" / "wands_queries.tsv"
FURNITURE = ROOT / "tests" / "fixtures" / "shops" / "furniture"


def filters(c: Constraints) -> list[str]:
    kinds = [("brand", c.brands), ("unknown brand", c.unknown_brands), ("type", c.types)]
    found = [name for name, value in kinds if value]
    if c.audience:
        found.append("audience")
    if c.price_min is not None or c.upper is not None:
        found.append("price")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--queries", type=Path, default=QUERIES)
    parser.add_argument("--kb", type=Path, default=FURNITURE, help="the shop to read them for")
    parser.add_argument("--split", choices=["tune", "report", "all"], default="all")
    parser.add_argument("--show", type=int, default=0, help="print N filtered queries")
    args = parser.parse_args(argv)
    if not args.queries.is_file():
        print(f"{args.queries} is absent (no ../shared/data): nothing to measure")
        return 0
    with args.queries.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    profile = load_profile(args.kb)
    _, chunks, _ = load_knowledge_base(Settings(kb_dir=args.kb), profile=profile)
    shop = learn_shop(chunks, profile)
    metadatas = [c.metadata() for c in chunks]
    catalog = Catalog.build(shop, [c.text for c in chunks], metadatas)
    products = [m for m in metadatas if m.get("kind") == "product"]

    splits = {"tune": [], "report": []}
    for row in rows:
        splits["tune" if int(row["query_id"]) % 2 == 0 else "report"].append(row["query"])
    chosen = splits if args.split == "all" else {args.split: splits[args.split]}
    print(f"{args.queries.name} read for the shop in {args.kb} ({len(products)} products)")
    for name, queries in chosen.items():
        kinds: Counter[str] = Counter()
        filtered = emptied = still_empty = 0
        examples = []
        for query in queries:
            c = parse(query, catalog)
            found = filters(c)
            if not found:
                continue
            filtered += 1
            kinds.update(found)
            if any(c.admits(m) for m in products):
                continue
            emptied += 1
            looser = c.without_loose()
            if looser is None or not any(looser.admits(m) for m in products):
                still_empty += 1
            examples.append(f"{query!r}: {', '.join(found)}")
        print(
            f"  {name:<6} {len(queries)} queries: {filtered} get a filter "
            f"({', '.join(f'{k} {n}' for k, n in kinds.most_common()) or 'none'}); "
            f"{emptied} of those leave no product, {still_empty} even after loose filters "
            "are dropped"
        )
        for example in examples[: args.show]:
            print(f"    {example}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
