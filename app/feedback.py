"""What shoppers told the shop, kept locally in SQLite: thumbs up/down on answers (exportable
as CSV or JSONL), and the questions the shop could not answer, for the owner's page."""

from __future__ import annotations

import csv
import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import IO

from cobbler.records import Answer

_SCHEMA = """
CREATE TABLE IF NOT EXISTS feedback (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created REAL NOT NULL,
    session TEXT NOT NULL,
    question TEXT NOT NULL,
    answer TEXT NOT NULL,
    sources TEXT NOT NULL,
    model TEXT NOT NULL,
    timings TEXT NOT NULL,
    rating INTEGER NOT NULL,
    comment TEXT NOT NULL DEFAULT ''
)"""
_UNANSWERED = """
CREATE TABLE IF NOT EXISTS unanswered (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    created REAL NOT NULL,
    session TEXT NOT NULL,
    question TEXT NOT NULL,
    outcome TEXT NOT NULL,
    wanted TEXT NOT NULL
)"""
GAP_COLUMNS = ["asked for", "times", "outcome", "last asked", "example question"]
COLUMNS = [
    "id",
    "created",
    "session",
    "question",
    "answer",
    "sources",
    "model",
    "timings",
    "rating",
    "comment",
]


class FeedbackStore:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        # WAL: a record survives the app being killed right after it was written.
        self.db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute(_SCHEMA)
        self.db.execute(_UNANSWERED)
        self._lock = threading.Lock()

    def record(self, session: str, question: str, answer: Answer, model: str, liked: bool) -> int:
        sources = [
            s.model_dump(
                include={"n", "id", "kind", "title", "source", "url", "price_min", "price_max"}
            )
            for s in answer.sources
        ]
        with self._lock:
            cursor = self.db.execute(
                "INSERT INTO feedback (created, session, question, answer, sources, model, "
                "timings, rating) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    time.time(),
                    session,
                    question,
                    answer.answer,
                    json.dumps(sources),
                    model,
                    answer.timings.model_dump_json(),
                    1 if liked else -1,
                ),
            )
        return int(cursor.lastrowid)

    def comment(self, feedback_id: int, text: str) -> None:
        with self._lock:
            self.db.execute("UPDATE feedback SET comment = ? WHERE id = ?", (text, feedback_id))

    def unanswered(self, session: str, question: str, answer: Answer) -> None:
        """Remember a question the shop had no answer to (an honest none, an "I don't
        know", or a fallback list), grouped later by what was asked for."""
        if answer.outcome == "answered":
            return
        with self._lock:
            self.db.execute(
                "INSERT INTO unanswered (created, session, question, outcome, wanted) "
                "VALUES (?, ?, ?, ?, ?)",
                (time.time(), session, question, answer.outcome, answer.wanted or question),
            )

    def gaps(self, limit: int = 500) -> list[dict]:
        """Unanswered questions grouped by what was asked for, most often asked first."""
        with self._lock:
            cursor = self.db.execute(
                "SELECT wanted, COUNT(*), GROUP_CONCAT(DISTINCT outcome), MAX(created), "
                "(SELECT question FROM unanswered u WHERE u.wanted = g.wanted "
                " ORDER BY created DESC LIMIT 1) "
                "FROM unanswered g GROUP BY wanted ORDER BY COUNT(*) DESC, MAX(created) DESC "
                "LIMIT ?",
                (limit,),
            )
            rows = cursor.fetchall()
        return [
            dict(zip(GAP_COLUMNS, (wanted, n, outcome, _when(last), example)))
            for wanted, n, outcome, last, example in rows
        ]

    def disliked(self, limit: int = 500) -> list[dict]:
        """Thumbs-down answers, newest first, with the shopper's comment."""
        with self._lock:
            cursor = self.db.execute(
                "SELECT created, question, answer, comment FROM feedback WHERE rating < 0 "
                "ORDER BY id DESC LIMIT ?",
                (limit,),
            )
            rows = cursor.fetchall()
        return [
            {"when": _when(created), "question": q, "answer": a, "comment": c}
            for created, q, a, c in rows
        ]

    def rows(self) -> list[dict]:
        with self._lock:
            cursor = self.db.execute(f"SELECT {', '.join(COLUMNS)} FROM feedback ORDER BY id")
            return [dict(zip(COLUMNS, row)) for row in cursor.fetchall()]

    def export(self, out: IO[str], fmt: str = "csv") -> int:
        rows = self.rows()
        if fmt == "jsonl":
            for row in rows:
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
        else:
            writer = csv.DictWriter(out, fieldnames=COLUMNS)
            writer.writeheader()
            writer.writerows(rows)
        return len(rows)


def _when(created: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(created))


def write_csv(out: IO[str], rows: list[dict], columns: list[str]) -> None:
    """Rows as CSV; a shopper's text that a spreadsheet would run as a formula ("=...")
    is kept as text."""
    writer = csv.DictWriter(out, fieldnames=columns)
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _inert(v) for k, v in row.items()})


def _inert(value: object) -> object:
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value
