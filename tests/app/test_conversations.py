"""Multi-turn chats through the service and the command line (real store, real `small` model)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.conftest import BUNDLED_KB, ROOT, SHOPS, app_env


def _retrieve(env: dict, *args: str) -> list[dict]:
    """`python -m app retrieve ... --json`: the sources it prints."""
    done = subprocess.run(
        [sys.executable, "-m", "app", "retrieve", *args, "--json"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout)["sources"]


def chat(assistant, *questions: str):
    """Ask each question in turn, as the chat page does; the last answer."""
    conversation, answer = [], None
    for question in questions:
        answer = assistant.ask(question, conversation)
        conversation.append(answer.turn)
    return answer, conversation


@pytest.mark.llm
def test_a_policy_follow_up_after_products_gets_the_policy(assistant):
    answer, turns = chat(
        assistant, "Do you have waterproof walking boots for men?", "And can I return them?"
    )
    assert turns[0].topic == "products" and turns[1].topic == "documents"
    assert answer.sources[0].source == "docs/returns-and-refunds.md"
    assert all(s.kind == "document" for s in answer.sources)
    # The boots of the first answer do not leak into an answer about returns.
    assert not any(shown.title in answer.answer for shown in turns[0].shown)
    assert "Unfortunately" not in answer.answer


@pytest.mark.llm
def test_the_second_one_is_the_second_product_shown(assistant):
    answer, turns = chat(assistant, "Any court shoes for women?", "How much is the second one?")
    second = turns[0].shown[1]
    assert [s.id for s in answer.sources] == [second.id]
    assert turns[1].shown[0].id == second.id


@pytest.mark.llm
def test_a_brand_switch_to_a_brand_the_shop_lacks_is_an_honest_none(assistant):
    answer, _ = chat(assistant, "Do you have Stridewell walking boots?", "What about from Salomon?")
    assert answer.answer.startswith(
        "Unfortunately, we do not have any walking boots from Salomon at the moment."
    )
    assert answer.timings.tokens == 0  # decided from the evidence, not by the model


@pytest.mark.llm
def test_three_turns_narrow_to_the_cheapest_of_the_right_kind(assistant):
    answer, turns = chat(
        assistant, "Do you have walking boots for women?", "from Bramble?", "the cheapest"
    )
    products = [s for s in answer.sources if s.kind == "product"]
    assert products and all(
        s.brand == "Bramble" and s.tags.get("type_walking_boot") and s.tags.get("for_women")
        for s in products
    )
    prices = [s.price_min for s in products]
    assert prices == sorted(prices)


def test_the_command_line_takes_the_chat_so_far(tmp_path):
    """`retrieve --history FILE`: the earlier question is searched again to learn what was
    shown, and "cheaper ones?" is read against it."""
    history = tmp_path / "chat.json"
    history.write_text(
        json.dumps(
            [
                {"role": "user", "content": "Do you have walking boots for women?"},
                {"role": "assistant", "content": "Yes, we have several [1][2]."},
            ]
        )
    )
    env = app_env(tmp_path, BUNDLED_KB)
    subprocess.run([sys.executable, "-m", "ingest"], cwd=ROOT, env=env, check=True)

    first = _retrieve(env, "Do you have walking boots for women?")
    cheaper = _retrieve(env, "cheaper ones?", "--history", str(history))
    assert cheaper and all(s["tags"].get("for_women") for s in cheaper)
    # Below the cheapest priced one shown (a product without a price may be among them).
    shown = min(f["price_min"] for f in first if f.get("price_min") is not None)
    assert all(s["price_min"] < shown for s in cheaper)
    bad = tmp_path / "bad.json"
    bad.write_text('{"role": "user"}')
    failed = subprocess.run(
        [sys.executable, "-m", "app", "retrieve", "x", "--history", str(bad)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    assert failed.returncode == 2 and "must be a JSON list" in failed.stderr


def test_the_command_line_reads_what_an_answer_showed_from_its_sources(tmp_path):
    """`retrieve --history FILE` where the assistant's message carries the `sources` that
    `ask --json` printed (the same records `retrieve --json` prints): "the second one" is
    the second of those sources, not of the earlier question searched again."""
    env = app_env(tmp_path, SHOPS / "watches")
    subprocess.run([sys.executable, "-m", "ingest"], cwd=ROOT, env=env, check=True)

    question = "Which GPS running watches do you sell?"
    searched = _retrieve(env, question)
    assert len(searched) >= 3
    # The answer showed two of them, in its own order.
    given = [searched[2] | {"n": 1}, searched[0] | {"n": 2}]
    history = tmp_path / "chat.json"
    history.write_text(
        json.dumps(
            [
                {"role": "user", "content": question},
                {"role": "assistant", "content": "We have these two [1][2].", "sources": given},
            ]
        )
    )
    second = _retrieve(env, "Tell me more about the second one", "--history", str(history))
    assert [s["id"] for s in second] == [searched[0]["id"]]  # searched again, it was [1]
