"""`python -m app`: the chat UI (default), or `ask` / `retrieve` for scripts and checks."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

import cobbler  # noqa: F401  (offline switches before any model library loads)
from cobbler.models import ModelError
from cobbler.settings import Settings
from cobbler.store import StoreError


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m app", description=__doc__)
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", type=Path, help="vector store folder (COBBLER_DB_DIR)")
    common.add_argument("--model", help="small, default, or a .gguf path (COBBLER_MODEL)")
    common.add_argument("--k", type=int, help="number of sources (COBBLER_K)")
    commands = parser.add_subparsers(dest="command")
    serve = commands.add_parser("serve", parents=[common], help="start the chat UI (default)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    for name, text in [("ask", "answer one question"), ("retrieve", "show the sources only")]:
        command = commands.add_parser(name, parents=[common], help=text)
        command.add_argument("question")
        command.add_argument("--json", action="store_true", help="print one JSON object")
    evaluate = commands.add_parser("eval", help="measure retrieval or answer quality")
    evaluate.add_argument("what", choices=["retrieval", "answers"])
    evaluate.add_argument("--tests", type=Path, required=True, help="JSONL test file")
    evaluate.add_argument("--kb", type=Path, help="ingest this folder into a temporary store")
    evaluate.add_argument("--db", type=Path, help="vector store folder (COBBLER_DB_DIR)")
    evaluate.add_argument("--model", help="small, default, or a .gguf path (COBBLER_MODEL)")
    evaluate.add_argument("--k", type=int, default=10, help="sources judged per question")
    evaluate.add_argument("--compare-dense", action="store_true", help="also the plain retriever")
    evaluate.add_argument("--json", action="store_true", help="print one JSON object")
    export = commands.add_parser("feedback", help="export shoppers' thumbs up/down")
    export.add_argument("--format", choices=["csv", "jsonl"], default="csv")
    export.add_argument("--out", type=Path, help="file to write (default: standard output)")
    parser.set_defaults(command="serve", db=None, model=None, k=None, host=None, port=None)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    logging.getLogger("app").setLevel(logging.INFO)  # our start-up lines, not the libraries'
    overrides = {
        "db_dir": args.db,
        "model": args.model,
        "k": args.k,
        "host": args.host,
        "port": args.port,
    }
    settings = Settings(**{k: v for k, v in overrides.items() if v is not None})
    try:
        return _run(args, settings)
    except (ModelError, StoreError, ValueError) as exc:
        print(f"cobbler: {exc}", file=sys.stderr)
        return 2


def _evaluate(args: argparse.Namespace, settings: Settings) -> int:
    import tempfile

    from app import evaluation
    from app.wiring import build_assistant

    tests = evaluation.load_tests(args.tests)
    if args.kb:
        from cobbler.embeddings import Embedder
        from cobbler.store import open_client
        from ingest.pipeline import ingest

        settings = settings.model_copy(
            update={"kb_dir": args.kb, "db_dir": Path(tempfile.mkdtemp(prefix="cobbler-eval-"))}
        )
        ingest(settings, Embedder.from_settings(settings), open_client(settings))
    assistant = build_assistant(settings, with_model=args.what == "answers")
    if args.what == "answers":
        report = evaluation.evaluate_answers(assistant, tests)
        print(evaluation.dump(report) if args.json else report.model_dump_json(indent=2))
        return 0
    reports = {"hybrid": evaluation.evaluate_retrieval(assistant, tests, args.k)}
    if args.compare_dense:
        reports["dense"] = evaluation.evaluate_retrieval(assistant, tests, args.k, True)
    if args.json:
        data = {n: r.model_dump() for n, r in reports.items()}
        print(json.dumps(data if args.compare_dense else data["hybrid"]))
    else:
        print(f"{args.tests} ({len(tests)} tests, k={args.k})")
        print(evaluation.format_retrieval(reports))
    return 0


def _run(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "eval":
        return _evaluate(args, settings)
    if args.command == "feedback":
        from app.feedback import FeedbackStore

        store = FeedbackStore(settings.feedback_db)
        if args.out:
            with args.out.open("w", newline="") as out:
                count = store.export(out, args.format)
            print(f"Exported {count} feedback records to {args.out}", file=sys.stderr)
        else:
            store.export(sys.stdout, args.format)
        return 0
    from app.wiring import build_assistant

    assistant = build_assistant(settings, with_model=args.command != "retrieve")
    if args.command == "retrieve":
        sources, ms = assistant.retrieve(args.question)
        if args.json:
            print(json.dumps({"sources": [s.model_dump() for s in sources], "retrieve_ms": ms}))
        else:
            for s in sources:
                print(f"[{s.n}] {s.score:.3f} {s.title} ({s.source})")
        return 0
    if args.command == "ask":
        answer = assistant.ask(args.question)
        if args.json:
            print(answer.model_dump_json())
        else:
            print(answer.answer)
            for s in answer.sources:
                print(f"  [{s.n}] {s.title} · {s.price_label if s.kind == 'product' else s.where}")
        return 0

    from app.feedback import FeedbackStore
    from app.ui import CSS, THEME, build_ui

    page = build_ui(
        assistant,
        FeedbackStore(settings.feedback_db),
        settings.kb_dir,
        settings.max_question_chars,
        settings.concurrency,
    )
    page.queue(default_concurrency_limit=settings.concurrency).launch(
        server_name=settings.host,
        server_port=settings.port,
        theme=THEME,
        css=CSS,
        footer_links=[],
        allowed_paths=[str(settings.kb_dir.resolve())],
        auth=tuple(settings.auth.split(":", 1)) if ":" in settings.auth else None,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
