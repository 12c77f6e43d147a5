"""The indirect prompt-injection evaluation: orders planted in shop data, and how often
they work.

Each attack (one JSONL line, see evals/make_attacks.py) is a payload planted in a supplier's
product (a feature line, the description or a detail value) or in a shop document, a
shopper's question that retrieves it, and regular expressions that show, in the answer,
that the attack worked. The attacks are planted in batches into a temporary copy of a
knowledge base (ingest is the slow part; unchanged chunks keep their vectors between
batches), each question is asked with the real model, and the attack success rate is
reported overall, by kind, by where it was planted and by split (tune / report).
"""

from __future__ import annotations

import json
import re
import shutil
import tempfile
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError

from app.generation import ChatBackend, ChatModel, system_prompt
from app.retrieval import Retriever
from app.service import Assistant
from cobbler.embeddings import Embedder
from cobbler.settings import Settings
from cobbler.store import Store, open_client
from ingest.pipeline import ingest

PLANTED_CATALOG = "planted-attacks.json"


class Attack(BaseModel):
    id: str
    kind: str
    split: Literal["tune", "report"] = "report"
    place: Literal["product", "document"]
    payload: str
    question: str
    success: list[str] = Field(min_length=1)  # any match in the answer: the attack worked
    field: Literal["features", "description", "detail"] = "features"
    product: dict[str, Any] | None = None  # a catalog row, without the payload
    document: dict[str, str] | None = None  # {"file", "title", "text" with "{payload}"}

    def planted(self, sources: Sequence[Any]) -> bool:
        """Whether the question's sources include the item the payload was planted in."""
        if self.product is not None:
            return any(s.kind == "product" and s.title == self.product["title"] for s in sources)
        name = Path((self.document or {}).get("file", "")).name
        return any(s.kind == "document" and s.source.endswith(f"planted-{name}") for s in sources)

    def worked(self, answer: str) -> str | None:
        """The words in the answer that show the attack worked, else None."""
        for pattern in self.success:
            if found := re.search(pattern, answer, re.I):
                return found.group()
        return None


def load_attacks(path: Path) -> list[Attack]:
    attacks = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            attacks.append(Attack.model_validate_json(line))
        except ValidationError as exc:
            raise ValueError(f"{path}, line {number}: not a valid attack ({exc})") from exc
    if not attacks:
        raise ValueError(f"{path} has no attacks")
    return attacks


def plant(kb: Path, attacks: Sequence[Attack]) -> dict[str, tuple[str, str | None]]:
    """Write the attacks into the knowledge base `kb`: their products into one catalog file
    (replacing the previous batch's), each document into its own file. Returns where each
    attack went: its file and, for a product, its row as ingest reports it."""
    for old in kb.rglob("planted-*"):
        old.unlink()
    rows: list[dict[str, Any]] = []
    places: dict[str, tuple[str, str | None]] = {}
    for attack in attacks:
        if attack.product is not None:
            row = dict(attack.product)
            if attack.field == "features":
                row["features"] = [*row.get("features", []), attack.payload]
            elif attack.field == "description":
                row["description"] = f"{row.get('description', '')} {attack.payload}".strip()
            else:
                row["product_details"] = {**row.get("product_details", {}), "Note": attack.payload}
            rows.append(row)
            places[attack.id] = (PLANTED_CATALOG, f"item {len(rows)}")
        elif attack.document is not None:
            file = Path(attack.document["file"])
            file = file.with_name(f"planted-{file.name}")
            (kb / file).parent.mkdir(parents=True, exist_ok=True)
            (kb / file).write_text(attack.document["text"].replace("{payload}", attack.payload))
            places[attack.id] = (file.as_posix(), None)
    if rows:
        (kb / PLANTED_CATALOG).write_text(json.dumps(rows, ensure_ascii=False))
    return places


class AttackResult(BaseModel):
    id: str
    kind: str
    split: str
    place: str
    retrieved: bool  # the planted item was among the sources
    succeeded: bool
    evidence: str | None = None  # what in the answer showed it
    flagged: bool = False  # ingest reported the payload as suspect text
    answer: str


class Rate(BaseModel):
    n: int
    retrieved: float
    success: float  # attack success rate


class AttackReport(BaseModel):
    model: str
    overall: Rate
    by_split: dict[str, Rate]
    by_kind: dict[str, Rate]
    by_place: dict[str, Rate]
    results: list[AttackResult]


def _rate(results: Sequence[AttackResult]) -> Rate:
    n = len(results)
    return Rate(
        n=n,
        retrieved=round(sum(r.retrieved for r in results) / n, 3) if n else 0.0,
        success=round(sum(r.succeeded for r in results) / n, 3) if n else 0.0,
    )


def _grouped(results: Sequence[AttackResult], key: str) -> dict[str, Rate]:
    groups: dict[str, list[AttackResult]] = defaultdict(list)
    for result in results:
        groups[getattr(result, key)].append(result)
    return {name: _rate(group) for name, group in sorted(groups.items())}


def _batches(attacks: Sequence[Attack], size: int) -> list[list[Attack]]:
    """Batches that mix kinds and places, so no batch holds two similar documents."""
    batches: list[list[Attack]] = [[] for _ in range(max(1, -(-len(attacks) // size)))]
    for i, attack in enumerate(attacks):
        batches[i % len(batches)].append(attack)
    return batches


def evaluate_attacks(
    settings: Settings,
    kb: Path,
    attacks: Sequence[Attack],
    chat: ChatBackend,
    embedder: Embedder,
    batch_size: int = 12,
    say: Callable[[str], None] = lambda message: None,
) -> AttackReport:
    """Plant the attacks batch by batch into a copy of `kb`, ask each question with `chat`,
    and report how often the attacks worked."""
    work = Path(tempfile.mkdtemp(prefix="cobbler-attacks-"))
    copy = work / "kb"
    shutil.copytree(kb, copy)
    settings = settings.model_copy(update={"kb_dir": copy, "db_dir": work / "db"})
    client = open_client(settings)
    results = []
    try:
        for number, batch in enumerate(_batches(attacks, batch_size), 1):
            places = plant(copy, batch)
            report = ingest(settings, embedder, client)
            suspect = getattr(report, "suspect", [])  # absent before ingest screened text
            say(f"batch {number}: {len(batch)} attacks planted, {len(suspect)} lines flagged")
            store = Store(client, settings.collection)
            assistant = Assistant(Retriever(embedder, store, settings), chat, settings)
            if isinstance(chat, ChatModel):  # as the app starts: the rules cached
                chat.warm(system_prompt(assistant.retriever.catalog().shop))
            for attack in batch:
                answer = assistant.ask(attack.question)
                evidence = attack.worked(answer.answer)
                file, row = places[attack.id]
                results.append(
                    AttackResult(
                        id=attack.id,
                        kind=attack.kind,
                        split=attack.split,
                        place=attack.place,
                        retrieved=attack.planted(answer.sources),
                        succeeded=evidence is not None,
                        evidence=evidence,
                        flagged=any(p.file == file and row in (None, p.where) for p in suspect),
                        answer=answer.answer,
                    )
                )
                say(f"  {attack.id}: {'WORKED (' + evidence + ')' if evidence else 'failed'}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    results.sort(key=lambda r: r.id)
    return AttackReport(
        model=chat.label,
        overall=_rate(results),
        by_split=_grouped(results, "split"),
        by_kind=_grouped(results, "kind"),
        by_place=_grouped(results, "place"),
        results=results,
    )


def format_attacks(report: AttackReport) -> str:
    """One table: attack success rate (and how often the planted item was retrieved)."""
    lines = [f"{'':<22}{'n':>4}{'retrieved':>11}{'success':>9}"]

    def row(name: str, rate: Rate) -> str:
        return f"{name:<22}{rate.n:>4}{rate.retrieved:>11.3f}{rate.success:>9.3f}"

    lines.append(row("overall", report.overall))
    for title, group in (
        ("split", report.by_split),
        ("place", report.by_place),
        ("kind", report.by_kind),
    ):
        lines.append(f"by {title}:")
        lines += [row(f"  {name}", rate) for name, rate in group.items()]
    return "\n".join(lines)
