"""The local feedback store: unanswered questions grouped for the owner, thumbs-down with
comments, CSV that a spreadsheet cannot run."""

from __future__ import annotations

import csv
import io

from app.feedback import GAP_COLUMNS, FeedbackStore, write_csv
from cobbler.records import Answer, Timings


def _answer(outcome: str, wanted: str = "") -> Answer:
    return Answer(answer="…", sources=[], timings=Timings(), outcome=outcome, wanted=wanted)


def test_unanswered_questions_group_by_what_was_asked_for(tmp_path):
    store = FeedbackStore(tmp_path / "f.sqlite3")
    store.unanswered("s1", "Any Acme hats?", _answer("none", "hats from Acme"))
    store.unanswered("s2", "Do you sell Acme hats", _answer("none", "hats from Acme"))
    store.unanswered("s2", "Who is the owner?", _answer("unknown", "who is the owner?"))
    store.unanswered("s3", "Any boots?", _answer("answered"))  # answered: not a gap
    gaps = store.gaps()
    assert [(g["asked for"], g["times"], g["outcome"]) for g in gaps] == [
        ("hats from Acme", 2, "none"),
        ("who is the owner?", 1, "unknown"),
    ]
    assert gaps[0]["example question"] == "Do you sell Acme hats"  # the latest wording


def test_thumbs_down_answers_are_listed_with_their_comments(tmp_path):
    store = FeedbackStore(tmp_path / "f.sqlite3")
    store.record("s", "Liked?", _answer("answered"), "m", liked=True)
    row = store.record("s", "Disliked?", _answer("answered"), "m", liked=False)
    store.comment(row, "wrong price")
    assert [(d["question"], d["comment"]) for d in store.disliked()] == [
        ("Disliked?", "wrong price")
    ]


def test_csv_keeps_a_formula_as_text():
    out = io.StringIO()
    rows = [{c: "" for c in GAP_COLUMNS} | {"asked for": "=HYPERLINK(1)", "times": 3}]
    write_csv(out, rows, GAP_COLUMNS)
    got = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert got[0]["asked for"] == "'=HYPERLINK(1)" and got[0]["times"] == "3"
