"""The evaluation harness: metrics on crafted inputs, and a real run over the bundled store."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest

from app.evaluation import Expected, keyword_ranks, load_tests, ndcg
from cobbler.records import Source
from cobbler.vocabulary import ProductWords, learn
from tests.conftest import ROOT, product_source


def _doc(n: int, text: str) -> Source:
    return Source(id=f"d{n}", kind="document", n=n, score=1.0, title="t", source="s.md", text=text)


SOURCES = [_doc(1, "Free delivery over £50"), _doc(2, "30 days to return"), _doc(3, "30 days")]


def test_keyword_ranks_and_ndcg():
    assert keyword_ranks(SOURCES, ["30 DAYS", "£50", "bitcoin"]) == [2, 1, None]
    # Relevant at ranks 2 and 3 of 3: DCG = 1/log2(3) + 1/log2(4); ideal = 1 + 1/log2(3).
    expected = (1 / math.log2(3) + 1 / 2) / (1 + 1 / math.log2(3))
    assert ndcg(SOURCES, "30 days", 3) == pytest.approx(expected)
    assert ndcg(SOURCES, "bitcoin", 3) == 0.0


def test_expected_constraints_check_structured_fields():
    vocabulary = learn([ProductWords(title="Northfell Boot", category_path=["Walking Boots"])])
    boot = product_source(
        1, "Northfell Boot", 79.0, 99.0, tags={"type_walking_boot": True, "for_men": True}
    )
    assert Expected(brand="northfell", type="walking boots", price_max=80).admits(boot, vocabulary)
    assert not Expected(type="sandals").admits(boot, vocabulary)  # not a type of this shop
    assert not Expected(audience="women").admits(boot, vocabulary)
    assert not Expected(price_max=70).admits(boot, vocabulary)


def test_a_bad_test_line_names_the_file_and_line(tmp_path):
    path = tmp_path / "tests.jsonl"
    path.write_text('{"question": "ok", "keywords": []}\n{"keywords": ["x"]}\n')
    with pytest.raises(ValueError, match=r"tests.jsonl, line 2: not a valid test"):
        load_tests(path)


def test_eval_retrieval_cli_on_a_folder(tmp_path):
    tests = tmp_path / "t.jsonl"
    tests.write_text(
        json.dumps(
            {
                "question": "How much is next-day delivery?",
                "keywords": ["£6.95"],
                "category": "delivery",
            }
        )
        + "\n"
        + json.dumps({"question": "Any Gucci sandals?", "keywords": [], "expect_none": True})
        + "\n"
    )
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "app",
            "eval",
            "retrieval",
            "--tests",
            str(tests),
            "--kb",
            str(ROOT / "knowledge_base"),
            "--json",
            "--compare-dense",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    hybrid = result["hybrid"]
    assert hybrid["overall"]["coverage"] == 1.0 and hybrid["overall"]["none_accuracy"] == 1.0
    assert set(hybrid["by_category"]) == {"delivery", "uncategorised"}
    assert {"p50", "p95"} <= hybrid["latency_ms"].keys()
    assert result["dense"]["overall"]["none_accuracy"] == 0.0
