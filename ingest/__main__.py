"""`python -m ingest`: build the vector store from the knowledge base."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import cobbler  # noqa: F401  (offline switches before any model library loads)
from cobbler.embeddings import Embedder
from cobbler.models import ModelError
from cobbler.settings import SettingsError, load_settings
from cobbler.store import StoreError, open_client, set_aside
from ingest.pipeline import IngestError, IngestReport, ingest, ingest_lock


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

    def say(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    overrides = {"kb_dir": args.kb, "db_dir": args.db}
    try:
        settings = load_settings(overrides, {"kb_dir": "--kb", "db_dir": "--db"})
    except SettingsError as exc:
        say(f"ingest: {exc}")
        return 2

    def run() -> IngestReport:
        return ingest(
            settings,
            embedder,
            open_client(settings),
            rebuild=args.rebuild,
            strict=args.strict,
            progress=sys.stderr.isatty() and not args.json,
            log=say,
        )

    try:
        with ingest_lock(settings.db_dir, say=say):  # one ingest at a time into a store
            embedder = Embedder.from_settings(settings)
            try:
                report = run()
            except StoreError as exc:
                if not args.rebuild or settings.chroma_url:
                    raise
                kept = set_aside(settings.db_dir)  # a local store we cannot read: start afresh
                say(f"ingest: {exc}\ningest: moved the unreadable files to {kept}; rebuilding")
                report = run()
    except (ModelError, StoreError, IngestError) as exc:
        say(f"ingest: {exc}")
        return 2

    if args.json:
        print(json.dumps(report.model_dump(mode="json")))
    else:
        where = settings.chroma_url or settings.db_dir
        print(f"Ingested {settings.kb_dir} into {where}: {report.summary()}.")
        for file, roles in report.catalogs.items():
            print(f"  {file}: " + ", ".join(f"{role} ← {column}" for role, column in roles.items()))
        for problem in report.skipped:
            print(f"  skipped {problem}")
        for problem in report.suspect:
            print(f"  suspect {problem}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
