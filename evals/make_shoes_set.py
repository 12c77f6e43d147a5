"""Writes constraint questions generated from the real catalog in ../shared/data.

The questions come from the data itself (brand × type pairs that exist, with and without
a price bound, and pairs that do not exist), so they cannot be tuned by hand. The output
holds product names from that third-party data, so it is written outside the repository
(default: a temporary file) and never committed.

    python evals/make_shoes_set.py [OUT.jsonl]
"""

from __future__ import annotations

import json
import random
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from cobbler.profile import ShopProfile  # noqa: E402
from ingest.catalog import load_catalog  # noqa: E402
from ingest.pipeline import learn_shop  # noqa: E402

CSV = ROOT.parent / "shared" / "data" / "amazon_uk_shoes_1k.csv"
INVENTED = ["Gucci", "Balenciaga", "Prada", "Louboutin", "Manolo"]


def main() -> None:
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkstemp(suffix=".jsonl")[1])
    products, _ = load_catalog(CSV.read_text(encoding="utf-8"), ".csv", CSV.name)
    chunks = [p.to_chunk() for p in products]
    # The product types as ingest learns them from this catalog, by their shopper names.
    types_learned = learn_shop(chunks, ShopProfile()).vocabulary.types
    rng = random.Random(11)
    pairs: Counter[tuple[str, str]] = Counter()
    prices: dict[tuple[str, str], list[float]] = {}
    for product, chunk in zip(products, chunks):
        for key in chunk.tags:
            kind = types_learned.get(key.removeprefix("type_"))
            if key.startswith("type_") and product.brand and kind and not kind.general:
                pair = (product.brand, kind.name)
                pairs[pair] += 1
                if product.price_min is not None:
                    prices.setdefault(pair, []).append(product.price_min)
    brands = sorted({b for b, _ in pairs})
    types = sorted({t for _, t in pairs})
    tests = []
    existing = [p for p, n in pairs.items() if n >= 2]
    for brand, kind in rng.sample(existing, min(50, len(existing))):
        tests.append(
            {
                "question": f"Do you have {kind} from {brand}?",
                "keywords": [brand],
                "category": "brand+type",
                "constraints": {"brand": brand, "type": kind},
            }
        )
    priced = [p for p in existing if len(prices.get(p, [])) >= 2]
    for brand, kind in rng.sample(priced, min(40, len(priced))):
        bound = round(sorted(prices[(brand, kind)])[len(prices[(brand, kind)]) // 2] + 1)
        tests.append(
            {
                "question": f"Any {kind} from {brand} under £{bound}?",
                "keywords": [brand],
                "category": "brand+type+price",
                "constraints": {"brand": brand, "type": kind, "price_max": bound},
            }
        )
    absent = [(b, t) for b in brands for t in types if (b, t) not in pairs and " " not in b]
    for brand, kind in rng.sample(absent, min(20, len(absent))):
        tests.append(
            {
                "question": f"Do you have {kind} from {brand}?",
                "keywords": [],
                "category": "none",
                "expect_none": True,
            }
        )
    for brand in INVENTED:
        kind = rng.choice(types)
        tests.append(
            {
                "question": f"Can you recommend some {kind} from {brand}?",
                "keywords": [],
                "category": "none",
                "expect_none": True,
            }
        )
    out.write_text("".join(json.dumps(t) + "\n" for t in tests))
    print(out)


if __name__ == "__main__":
    main()
