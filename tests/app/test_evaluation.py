"""The evaluation harness: metrics on crafted inputs, and a real run over the bundled store."""

from __future__ import annotations

import json
import math
import subprocess
import sys

import pytest

from app.evaluation import Expected, _scores, keyword_ranks, load_tests, ndcg, source_ranks
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


def test_expected_files_are_judged_by_the_file_a_source_comes_from():
    sources = [_doc(1, "a"), _doc(2, "b")]
    sources[1].source = "policies/returns.md"
    assert source_ranks(sources, ["policies/returns.md", "other.md"]) == [2, None]
    assert ndcg(sources, "policies/returns.md", 2, by_file=True) == pytest.approx(1 / math.log2(3))


def test_recall_is_per_question_and_coverage_over_all_targets():
    rows = [
        {"keywords": [(1, 1.0), (None, 0.0)], "constraint_hits": [], "none_ok": None},
        {"keywords": [(2, 0.6)], "constraint_hits": [], "none_ok": None},
    ]
    scores = _scores(rows)
    assert scores.recall == 0.75  # (1/2 + 1) / 2
    assert scores.coverage == round(2 / 3, 4)
    assert scores.mrr == round((1 + 0 + 0.5) / 3, 4)


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


def test_eval_retrieval_compares_four_retrievers_on_one_split(tmp_path):
    kb = tmp_path / "kb"
    (kb / "guides").mkdir(parents=True)
    (kb / "guides" / "watering.md").write_text(
        "# Watering\n\nWater ferns twice a week in summer and once a week in winter.\n"
    )
    (kb / "opening.md").write_text("# Opening hours\n\nThe greenhouse opens at 9 am daily.\n")
    (kb / "parking.md").write_text("# Parking\n\nThere are ten free spaces by the gate.\n")
    tests = tmp_path / "questions.jsonl"
    lines = [
        {
            "question": "How often should ferns be watered?",
            "sources": ["guides/watering.md"],
            "split": "tune",
        },
        {"question": "When does the greenhouse open?", "keywords": ["9 am"], "split": "report"},
    ]
    tests.write_text("".join(json.dumps(line) + "\n" for line in lines))
    command = [sys.executable, "-m", "app", "eval", "retrieval", "--tests", str(tests)]
    command += ["--kb", str(kb), "--json", "--compare", "--split", "tune"]
    out = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert set(result) == {"hybrid", "dense", "bm25", "tutorial"}
    for report in result.values():
        assert report["overall"]["n"] == 1 and list(report["by_split"]) == ["tune"]
        assert report["overall"]["recall"] == 1.0  # three files: the right one is in the top 10
    assert result["hybrid"]["overall"]["mrr"] == 1.0


def test_an_amount_shown_in_an_earlier_turn_is_supported_and_one_shown_nowhere_is_not():
    # A scripted assistant: the model cannot be made to write a chosen amount, and the judge
    # of amounts is what is tested here.
    from app.evaluation import Test, evaluate_answers
    from app.understanding import Shown, Turn
    from cobbler.records import Answer, Timings

    class Scripted:
        def replay(self, messages):
            shown = [Shown(id="p9", title="Earlier pair", price_min=80.5, currency="GBP")]
            return [Turn(question=m["content"], shown=shown) for m in messages]

        def ask(self, question, conversation):
            sources = [product_source(1, "Cheaper pair", 61.99)]
            amount = "£80.50" if conversation else "£70.00"
            text = f"Here are ones cheaper than {amount}: Cheaper pair costs £61.99 [1]."
            return Answer(answer=text, sources=sources, timings=Timings())

    tests = [
        Test(question="cheaper ones?", history=["What boots do you have?"], split="tune"),
        Test(question="cheaper ones?", split="tune"),
    ]
    report = evaluate_answers(Scripted(), tests)  # type: ignore[arg-type]
    assert [f.wrong for f in report.failures] == [["amount £70.00 in no source"]]


def test_quoting_a_policy_that_says_cannot_find_is_not_declining():
    from app.evaluation import declines

    policy = _doc(1, "If you cannot find your parcel, check with neighbours, then contact us.")
    assert not declines("If you cannot find your parcel, contact us [1].", [policy])
    assert declines("Sorry, I cannot find that in the shop's information.", [policy])
    assert declines("I cannot find your parcel anywhere.", [])
