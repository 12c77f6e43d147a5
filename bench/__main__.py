"""The figures: `python -m bench [PART ...]`, PART one of ingest, embeddings, contention,
retrieval, answer, documents, load, ui (all of them when none is named).

Each part also runs alone, with its own options: `python -m bench.load --help`.
"""

from __future__ import annotations

import sys

from bench import answer, contention, documents, embeddings, ingest, load, retrieval, ui
from cobbler.settings import SettingsError

PARTS = {
    "ingest": ingest.main,
    "embeddings": embeddings.main,
    "contention": contention.main,
    "retrieval": retrieval.main,
    "answer": answer.main,
    "documents": documents.main,
    "load": load.main,
    "ui": ui.main,
}


def main() -> None:
    args = sys.argv[1:]
    if args and args[0] not in PARTS:  # "--help", or a part that does not exist
        if args[0] in ("-h", "--help"):
            sys.exit(print(__doc__.strip()))
        sys.exit(f"bench: no part {args[0]!r}; choose from {', '.join(PARTS)}")
    try:
        if args and args[0] in PARTS and any(a.startswith("-") for a in args):
            PARTS[args[0]](args[1:])  # one part with its own options
            return
        for name in [a for a in args if a in PARTS] or list(PARTS):
            PARTS[name]([])
    except SettingsError as exc:  # a bad COBBLER_ variable: one line, not a traceback
        sys.exit(f"bench: {exc}")


if __name__ == "__main__":
    main()
