"""`python -m app`: the chat UI (default), or `ask` / `retrieve` for scripts and checks."""

from __future__ import annotations

import argparse
import ipaddress
import json
import logging
import sys
import time
from pathlib import Path

import cobbler  # noqa: F401  (offline switches before any model library loads)
from cobbler.models import ModelError
from cobbler.settings import Settings, SettingsError, load_settings
from cobbler.store import StoreError

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
FLAGS = {"db_dir": "--db", "model": "--model", "k": "--k", "host": "--host", "port": "--port"}


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
        command.add_argument(
            "--history",
            type=Path,
            help='the chat so far: a JSON list of {"role", "content"} messages; an assistant '
            'message may carry the "sources" that ask --json printed for it',
        )
    evaluate = commands.add_parser("eval", help="measure retrieval, answer or conversation quality")
    evaluate.add_argument("what", choices=["retrieval", "answers", "conversations", "attacks"])
    evaluate.add_argument("--tests", type=Path, required=True, help="JSONL test file")
    evaluate.add_argument("--kb", type=Path, help="ingest this folder into a temporary store")
    evaluate.add_argument("--db", type=Path, help="vector store folder (COBBLER_DB_DIR)")
    evaluate.add_argument("--model", help="small, default, or a .gguf path (COBBLER_MODEL)")
    evaluate.add_argument(
        "--k",
        type=int,
        help="retrieval: sources judged per question (default 10); answers, conversations and "
        "attacks: sources given to the model (default COBBLER_K, as the app)",
    )
    evaluate.add_argument("--compare-dense", action="store_true", help="also the plain retriever")
    evaluate.add_argument(
        "--compare",
        action="store_true",
        help="retrieval: dense only, BM25 only and the course's plain recipe (documents of --kb "
        "in 500-character chunks, dense only) alongside the hybrid",
    )
    evaluate.add_argument(
        "--split", choices=["tune", "report", "all"], default="all", help="tests of one split"
    )
    evaluate.add_argument("--json", action="store_true", help="print one JSON object")
    evaluate.add_argument(
        "--no-model", action="store_true", help="conversations: check searches only, no answers"
    )
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
    try:
        settings = load_settings(overrides, FLAGS)
        return _run(args, settings)
    except (ModelError, StoreError, ValueError) as exc:  # SettingsError is a ValueError
        print(f"cobbler: {exc}", file=sys.stderr)
        return 2


def check_exposure(settings: Settings) -> str | None:
    """Refuse to serve beyond this machine without a login unless COBBLER_ALLOW_OPEN says
    so; then return a warning to print. None when the page stays on this machine."""
    host = settings.host.strip("[]").lower()
    try:
        loopback = host in LOOPBACK or ipaddress.ip_address(host).is_loopback
    except ValueError:  # a host name other than localhost
        loopback = False
    if loopback or settings.auth:
        return None
    where = f"{settings.host}:{settings.port}"
    if not settings.allow_open:
        raise SettingsError(
            f"host {settings.host!r} (COBBLER_HOST or --host) serves the chat beyond this "
            "machine without a login: set COBBLER_AUTH=user:password, or "
            "COBBLER_ALLOW_OPEN=true to serve it openly on purpose"
        )
    return (
        f"WARNING: the chat page is open to anyone who can reach {where}, with no login "
        "(COBBLER_ALLOW_OPEN=true). Set COBBLER_AUTH=user:password to require one."
    )


def _messages(path: Path) -> list[dict]:
    """The chat history file of `ask --history`, checked: a JSON list of messages."""
    try:
        messages = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{path}: not a readable JSON file ({exc})") from exc
    if not isinstance(messages, list) or not all(
        isinstance(m, dict) and m.get("role") in ("user", "assistant") for m in messages
    ):
        raise ValueError(
            f'{path}: must be a JSON list of {{"role": "user" or "assistant", "content": ...}}'
        )
    return messages


def _question(text: str, settings: Settings) -> str:
    """The chat page's question rules, for the command line too."""
    question = text.strip()
    if not question:
        raise ValueError("the question is empty")
    if len(question) > settings.max_question_chars:
        raise ValueError(
            f"the question is {len(question)} characters long; the limit is "
            f"{settings.max_question_chars} (COBBLER_MAX_QUESTION_CHARS)"
        )
    return question


def _evaluate(args: argparse.Namespace, settings: Settings) -> int:
    import tempfile

    from app import evaluation
    from app.wiring import build_assistant

    if args.what == "attacks":
        return _attacks(args, settings)
    if args.what == "conversations":
        conversations = evaluation.load_conversations(args.tests)
    else:
        tests = evaluation.load_tests(args.tests)
    if args.kb:
        from cobbler.embeddings import Embedder
        from cobbler.store import open_client
        from ingest.pipeline import ingest

        settings = settings.model_copy(
            update={"kb_dir": args.kb, "db_dir": Path(tempfile.mkdtemp(prefix="cobbler-eval-"))}
        )
        ingest(settings, Embedder.from_settings(settings), open_client(settings))
    if args.what == "conversations":
        with_model = not args.no_model
        assistant = build_assistant(settings, with_model=with_model)
        report = evaluation.evaluate_conversations(assistant, conversations, with_model)
        if args.json:
            print(report.model_dump_json())
        else:
            model = assistant.chat.label if assistant.chat else "no model: searches only"
            print(f"{args.tests} ({len(conversations)} conversations, {_setup(model, settings)})")
            print(evaluation.format_conversations(report, conversations))
        return 0
    if args.split != "all":
        tests = [t for t in tests if t.split == args.split]
        if not tests:
            raise ValueError(f"{args.tests} has no tests in the {args.split} split")
    assistant = build_assistant(settings, with_model=args.what == "answers")
    if args.what == "answers":
        report = evaluation.evaluate_answers(assistant, tests)
        if args.json:
            print(evaluation.dump(report))
        else:
            print(f"{args.tests} ({len(tests)} tests, {_setup(assistant.chat.label, settings)})")
            print(evaluation.format_answers(report))
        return 0
    k = args.k or 10
    reports = {"hybrid": evaluation.evaluate_retrieval(assistant, tests, k)}
    if args.compare_dense or args.compare:
        reports["dense"] = evaluation.evaluate_retrieval(assistant, tests, k, "dense")
    if args.compare:
        reports["bm25"] = evaluation.evaluate_retrieval(assistant, tests, k, "bm25")
        if args.kb:
            tutorial = evaluation.TutorialBaseline(args.kb, assistant.retriever.embedder)
            reports["tutorial"] = evaluation.evaluate_retrieval(
                assistant, tests, k, "tutorial", tutorial
            )
    if args.json:
        data = {n: r.model_dump() for n, r in reports.items()}
        print(json.dumps(data if len(reports) > 1 else data["hybrid"]))
    else:
        print(f"{args.tests} ({len(tests)} tests, k={k})")
        print(evaluation.format_retrieval(reports, k))
    return 0


def _setup(model: str, settings: Settings) -> str:
    """What an answer evaluation measured: the model, and the settings that change answers."""
    return f"{model}, k={settings.k}, temperature {settings.temperature:g}"


def _attacks(args: argparse.Namespace, settings: Settings) -> int:
    """Plant the attack set in a copy of the knowledge base and ask with the real model."""
    from app.attacks import evaluate_attacks, format_attacks, load_attacks
    from app.generation import open_chat_model
    from cobbler.embeddings import Embedder

    attacks = [a for a in load_attacks(args.tests) if args.split in ("all", a.split)]
    kb = args.kb or settings.kb_dir
    chat = open_chat_model(settings)

    def say(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    report = evaluate_attacks(
        settings, kb, attacks, chat, Embedder.from_settings(settings), say=say
    )
    if args.json:
        print(report.model_dump_json())
    else:
        print(f"{args.tests} ({len(attacks)} attacks, {_setup(report.model, settings)})")
        print(format_attacks(report))
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

    if args.command in ("ask", "retrieve"):
        args.question = _question(args.question, settings)  # before any model loads
        messages = _messages(args.history) if args.history else []
    warning = check_exposure(settings) if args.command == "serve" else None
    assistant = build_assistant(settings, with_model=args.command != "retrieve")
    if args.command in ("ask", "retrieve"):
        conversation = assistant.replay(messages)
    if args.command == "retrieve":
        started = time.perf_counter()
        sources = assistant.search(args.question, conversation)[0].sources
        ms = (time.perf_counter() - started) * 1000
        if args.json:
            print(json.dumps({"sources": [s.model_dump() for s in sources], "retrieve_ms": ms}))
        else:
            for s in sources:
                print(f"[{s.n}] {s.score:.3f} {s.title} ({s.source})")
        return 0
    if args.command == "ask":
        answer = assistant.ask(args.question, conversation)
        if args.json:
            print(answer.model_dump_json())
        else:
            print(answer.answer)
            for s in answer.sources:
                print(f"  [{s.n}] {s.title} · {s.price_label if s.kind == 'product' else s.where}")
        return 0

    from app.feedback import FeedbackStore
    from app.ui import CSS, THEME, ServedFiles, build_ui

    served = ServedFiles(settings.kb_dir, assistant.retriever.store)
    served.refresh()
    page = build_ui(
        assistant,
        FeedbackStore(settings.feedback_db),
        settings.kb_dir,
        settings.max_question_chars,
        served,
        # Shoppers' questions and comments are for the owner: never on a page served
        # beyond this machine without a login.
        owner_page=warning is None,
    )
    served.page = page
    served.follow()
    if warning:
        bar = "!" * min(len(warning), 100)
        print(f"{bar}\n{warning}\n{bar}", file=sys.stderr, flush=True)
    page.queue(default_concurrency_limit=settings.concurrency).launch(
        server_name=settings.host,
        server_port=settings.port,
        theme=THEME,
        css=CSS,
        footer_links=[],
        # Only the published documents, never the whole folder (a hidden .env, a skipped
        # file). ServedFiles refreshes this list when an ingest is published.
        allowed_paths=served.allowed,
        max_file_size=0,  # the page takes no uploads: refuse any that are sent anyway
        auth=tuple(settings.auth.split(":", 1)) if settings.auth else None,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
