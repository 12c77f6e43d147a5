"""Shoppers' thumbs up/down on answers, kept locally in SQLite, exportable as CSV or JSONL."""

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
