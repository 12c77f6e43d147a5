"""`python -m ingest`: build the vector store from the knowledge base."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cobbler  # noqa: F401  (offline switches before any model library loads)
from cobbler.embeddings import Embedder
from cobbler.models import ModelError
from cobbler.settings import Settings
from cobbler.store import StoreError, open_client
from ingest.pipeline import IngestError, ingest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ingest", description=__doc__)
    parser.add_argument("--kb", type=Path, help="knowledge base folder (COBBLER_KB_DIR)")
    parser.add_argument("--db", type=Path, help="vector store folder (COBBLER_DB_DIR)")
    parser.add_argument("--rebuild", action="store_true", help="re-embed everything")
    parser.add_argument(
        "--strict", action="store_true", help="fail, publishing nothing, if anything is skipped"
    )
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    args = parser.parse_args(argv)

    overrides = {"kb_dir": args.kb, "db_dir": args.db}
    settings = Settings(**{k: v for k, v in overrides.items() if v is not None})
    try:
        embedder = Embedder.from_settings(settings)
        client = open_client(settings)
        report = ingest(
            settings,
            embedder,
            client,
            rebuild=args.rebuild,
            strict=args.strict,
            progress=sys.stderr.isatty() and not args.json,
            log=lambda message: print(message, file=sys.stderr, flush=True),
        )
    except (ModelError, StoreError, IngestError) as exc:
        print(f"ingest: {exc}", file=sys.stderr)
        return 2

    if args.json:
        print(json.dumps(report.model_dump(mode="json")))
    else:
        where = settings.chroma_url or settings.db_dir
        print(f"Ingested {settings.kb_dir} into {where}: {report.summary()}.")
        for problem in report.skipped:
            print(f"  skipped {problem}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
