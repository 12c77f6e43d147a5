"""The chat page in a real headless Chromium, against the real app with the `small` model."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from urllib.parse import urljoin, urlparse

import pytest

from bench.servers import app_server
from tests.conftest import BUNDLED_KB, ROOT, app_env

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.llm,
    pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed"),
]
LAST_BOT = "[...document.querySelectorAll('#chat .bot')].pop()"
HOSTILE = "Pebblestep <script>window.pwned=1</script><b>Bold</b> Slipper"


@pytest.fixture(scope="module")
def app(tmp_path_factory, embedder) -> Iterator[dict]:
    """The bundled shop plus one product with markup in its title, served by `python -m app`."""
    tmp = tmp_path_factory.mktemp("browser")
    kb = tmp / "kb"
    shutil.copytree(BUNDLED_KB, kb)
    (kb / "catalog" / "hostile.json").write_text(
        json.dumps(
            [
                {
                    "title": HOSTILE,
                    "asin": "B0HOSTILE1",
                    "price": "£19.99",
                    "brand": "Pebblestep",
                    "url": "https://www.cobblerandco.example/dp/B0HOSTILE1",
                    "breadcrumbs": "Shoes › Women's Shoes › Slippers",
                }
            ]
        )
    )
    env = app_env(tmp, kb, max_tokens="300")
    subprocess.run(
        [sys.executable, "-m", "ingest"], cwd=ROOT, env=env, check=True, capture_output=True
    )
    with app_server(env, tmp / "app.log") as server:
        yield {
            "url": server.url + "/",
            "feedback": tmp / "feedback.sqlite3",
            "env": env,
            "server": server,
            "tmp": tmp,
        }


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(app, browser):
    context = browser.new_context()
    page = context.new_page()
    page.outside = []
    page.on(
        "request",
        lambda r: (
            r.url.startswith("http")
            and urlparse(r.url).hostname != "127.0.0.1"
            and page.outside.append(r.url)
        ),
    )
    page.goto(app["url"], wait_until="domcontentloaded")
    yield page
    assert page.outside == [], "the page reached outside 127.0.0.1"
    context.close()


def ask(page, question: str) -> None:
    page.locator("textarea").first.fill(question)
    page.keyboard.press("Enter")


def wait_done(page, timeout: float = 120_000) -> str:
    """Wait for the finished answer (its details line appears last) and return its text."""
    page.wait_for_function(f"() => {LAST_BOT}?.querySelector('details')", timeout=timeout)
    return page.locator("#chat .bot").last.inner_text()


def test_answer_streams_progressively_with_clickable_product_sources(page):
    ask(page, "Do you have waterproof walking boots under £90?")
    lengths = []
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        text = page.evaluate(f"() => {LAST_BOT}?.innerText.split('Sources')[0] ?? ''")
        if not lengths or len(text) != lengths[-1]:
            lengths.append(len(text))
        if page.evaluate(f"() => !!{LAST_BOT}?.querySelector('details')"):
            break
        time.sleep(0.1)
    # Before the first token the bubble shows a placeholder; from then on the text only grows.
    drops = [i for i in range(1, len(lengths)) if lengths[i] < lengths[i - 1]]
    growing = lengths[drops[-1] if drops else 0 :]
    assert len(growing) >= 4 and len(drops) <= 1, lengths
    bot = page.locator("#chat .bot").last
    assert bot.locator("a[href*='/dp/']").count() >= 1
    assert "£" in bot.inner_text()


def test_a_document_citation_opens_that_document(page, app):
    ask(page, "How long do I have to return shoes?")
    wait_done(page)
    links = page.locator("#chat .bot").last.locator("a[href*='gradio_api/file']")
    assert links.count() >= 1
    href = links.first.get_attribute("href")
    assert "return" in href
    body = page.request.get(urljoin(app["url"], href)).text()
    assert "30 days" in body


def test_thumbs_up_is_recorded_with_a_comment(page, app):
    ask(page, "Do you sell slippers?")
    wait_done(page)
    page.locator("#chat button[aria-label='Like']").last.click()
    page.locator("#feedback-comment textarea").fill("Just what I needed")
    page.keyboard.press("Enter")
    rows: list = []
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and not (rows and rows[-1][2]):
        time.sleep(0.2)
        with sqlite3.connect(app["feedback"]) as db:
            rows = db.execute("SELECT question, rating, comment, sources FROM feedback").fetchall()
    question, rating, comment, sources = rows[-1]
    assert (question, rating, comment) == ("Do you sell slippers?", 1, "Just what I needed")
    assert json.loads(sources)


def test_stop_halts_generation(page):
    ask(page, "Tell me everything about all of your walking boots and hiking boots, in detail.")
    page.wait_for_function(
        f"() => ({LAST_BOT}?.innerText.split('Sources')[0] ?? '').length > 40", timeout=60_000
    )
    page.locator("button.stop-button").click()
    time.sleep(1)
    before = page.locator("#chat .bot").last.inner_text()
    time.sleep(3)
    assert page.locator("#chat .bot").last.inner_text() == before
    # The model is free again: a new question is answered.
    ask(page, "How much is next-day delivery?")
    assert "£" in wait_done(page)


def test_two_sessions_get_their_own_answers(app, browser):
    pages = []
    for question in ("How long do I have to return shoes?", "Do you sell slippers?"):
        page = browser.new_context().new_page()
        page.goto(app["url"], wait_until="domcontentloaded")
        ask(page, question)
        pages.append(page)
    returns, slippers = (wait_done(p, timeout=240_000) for p in pages)
    assert "return" in returns.lower() and "slipper" not in returns.lower().split("sources")[0]
    assert "slipper" in slippers.lower()
    assert len(pages[0].locator("#chat .user").all()) == 1
    for page in pages:
        page.context.close()


def test_markup_in_a_product_title_is_shown_as_text(page):
    ask(page, "Pebblestep Bold Slipper")
    text = wait_done(page)
    assert "<script>" in text and "<b>Bold</b>" in text
    assert page.evaluate("() => window.pwned") is None
    assert page.locator("#chat .bot b").count() == 0


def _feedback_rows(path) -> list[tuple]:
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        return db.execute("SELECT question, rating FROM feedback ORDER BY id").fetchall()


def test_a_follow_up_typed_in_the_page_is_read_against_what_was_shown(page):
    """The page keeps the conversation per browser session: "cheaper ones?" after a product
    question gets cheaper products of the same kind, and a returns question after it gets
    the returns policy, not more products."""
    ask(page, "Do you have walking boots for women?")
    first = wait_done(page)
    shown = _lowest_prices(first)
    assert shown, first
    ask(page, "cheaper ones?")
    page.wait_for_function("() => document.querySelectorAll('#chat .bot').length >= 2")
    second = wait_done(page)
    listed = second.split("Sources")[-1]
    prices = _lowest_prices(listed)
    assert prices and all(p < min(shown) for p in prices), (shown, listed)
    assert "Walking Boots" in listed and "Women" in listed
    ask(page, "And can I return them if they don't fit?")
    page.wait_for_function("() => document.querySelectorAll('#chat .bot').length >= 3")
    third = wait_done(page)
    assert "returns-and-refunds.md" in third.split("Sources")[-1] or "Returns" in third


def test_kill_9_during_generation_loses_no_feedback(app, browser):
    """Last in this module: it kills the shared server, then serves the same store anew."""
    page = browser.new_context().new_page()
    page.goto(app["url"], wait_until="domcontentloaded")
    ask(page, "Do you have any sandals?")
    wait_done(page)
    page.locator("#chat button[aria-label='Dislike']").last.click()
    deadline = time.monotonic() + 15
    while ("Do you have any sandals?", -1) not in _feedback_rows(app["feedback"]):
        assert time.monotonic() < deadline, "the thumbs-down was not recorded"
        time.sleep(0.2)
    before = _feedback_rows(app["feedback"])

    ask(page, "Tell me everything about all of your walking boots and hiking boots, in detail.")
    page.wait_for_function(
        f"() => ({LAST_BOT}?.innerText.split('Sources')[0] ?? '').length > 40", timeout=60_000
    )
    os.kill(app["server"].process.pid, signal.SIGKILL)  # mid-answer, no chance to clean up
    app["server"].process.wait()
    page.context.close()

    assert _feedback_rows(app["feedback"]) == before
    with app_server(app["env"], app["tmp"] / "restarted.log") as again:
        page = browser.new_context().new_page()
        page.goto(again.url + "/", wait_until="domcontentloaded")
        ask(page, "How much is next-day delivery?")
        assert "£" in wait_done(page)
        page.context.close()
    assert _feedback_rows(app["feedback"]) == before


def _lowest_prices(text: str) -> list[float]:
    """Each listed product's lowest price (the first amount on its line)."""
    lines = [line for line in text.splitlines() if "·" in line and "£" in line]
    found = [re.search(r"£(\d[\d,]*\.\d\d)", line) for line in lines]
    return [float(m.group(1).replace(",", "")) for m in found if m]
