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
from pathlib import Path
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
HOSTILE = "Pebblestep <script>window.pwned=1</script><b>Bold</b> Slipper"
# The bundled catalog's own image host: its pictures are the only requests the page may
# make beyond 127.0.0.1, and offline they fail (the cards then show their placeholder).
IMAGE_HOST = "img.cobblerandco.example"
# Screenshots for review, kept out of git (.gitignore).
SHOTS = Path(os.environ.get("COBBLER_SCREENSHOTS", ROOT / "tests" / "screenshots"))
# The answer text is the assistant message after the sources message.
ANSWER = "[...document.querySelectorAll('#chat .bot')].pop()"
LAST_SOURCES = "[...document.querySelectorAll('#chat .sources')].pop()"


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
    (kb / "docs" / "empty.md").write_text("")  # skipped by ingest: the owner's page says why
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
    context = browser.new_context(viewport={"width": 1100, "height": 1000})
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.outside = []
    page.on(
        "request",
        lambda r: (
            r.url.startswith("http")
            and urlparse(r.url).hostname not in ("127.0.0.1", IMAGE_HOST)
            and page.outside.append(r.url)
        ),
    )
    page.goto(app["url"], wait_until="domcontentloaded")
    yield page
    assert page.outside == [], "the page reached outside 127.0.0.1"
    context.close()


def ask(page, question: str) -> None:
    page.locator("#question textarea").fill(question)
    page.keyboard.press("Enter")


def wait_done(page, answers: int = 1, timeout: float = 300_000) -> str:
    """Wait for the `answers`-th finished answer (its sources get their details line last)
    and return the answer's text."""
    page.wait_for_function(
        f"() => document.querySelectorAll('#chat .sources.done').length >= {answers}",
        timeout=timeout,
    )
    return page.locator("#chat .bot").last.inner_text()


def shown_sources(page) -> list[dict]:
    """The last answer's sources as the shopper sees them."""
    return page.evaluate(
        f"""() => [...{LAST_SOURCES}.querySelectorAll('.card, .doc')].map(e => ({{
            id: e.id,
            n: e.querySelector('.num').textContent.replace(/\\D/g, ''),
            kind: e.classList.contains('card') ? 'product' : 'document',
            cited: e.classList.contains('cited'),
            badge: e.querySelector('.badge')?.textContent ?? '',
            text: e.innerText,
        }}))"""
    )


def citations(page) -> list[dict]:
    """The [n] links in the last answer's text, with where they point."""
    return page.evaluate(
        f"() => [...{ANSWER}.querySelectorAll('a[href^=\"#\"]')]"
        ".map(a => ({text: a.innerText, target: a.getAttribute('href').slice(1)}))"
    )


def shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / name), full_page=True)


def test_cards_come_before_the_answer_and_numbers_match_the_citations(page):
    ask(page, "Do you have waterproof walking boots under £90?")
    # Cards are on screen while the answer has no words yet.
    page.wait_for_selector("#chat .sources .card", timeout=120_000)
    assert page.locator("#chat .bot").last.inner_text().strip() in ("…", "")
    lengths = []
    deadline = time.monotonic() + 180
    while time.monotonic() < deadline:
        text = page.evaluate(f"() => {ANSWER}?.innerText ?? ''")
        if not lengths or len(text) != lengths[-1]:
            lengths.append(len(text))
        if page.locator("#chat .sources.done").count():
            break
        time.sleep(0.1)
    assert len(lengths) >= 4, lengths  # streamed, not shown at once

    sources = shown_sources(page)
    cards = [s for s in sources if s["kind"] == "product"]
    assert cards and [s["n"] for s in sources] == [str(i + 1) for i in range(len(sources))]
    for card in cards:
        assert "£" in card["text"]
        assert (card["badge"] == "Cited") == card["cited"]
    # Every [n] in the answer points at the source shown with number n, which is marked cited.
    cited = citations(page)
    assert cited, page.locator("#chat .bot").last.inner_text()
    by_id = {s["id"]: s for s in sources}
    for link in cited:
        assert link["text"] == f"[{by_id[link['target']]['n']}]"
        assert by_id[link["target"]]["cited"]
    # Clicking [n] (by keyboard: focus and Enter) brings that source into view, highlighted.
    page.locator("#chat .bot").last.locator("a[href^='#']").first.focus()
    page.keyboard.press("Enter")
    page.wait_for_function(f"() => location.hash === '#{cited[0]['target']}'")
    assert page.evaluate("() => document.querySelector(':target')?.id") == cited[0]["target"]
    assert page.locator(f"#{cited[0]['target']}").is_visible()

    # Offline, each picture fails and the card shows its placeholder instead.
    thumbs = page.evaluate(
        f"""() => [...{LAST_SOURCES}.querySelectorAll('.card .thumb')].map(t => ({{
            height: t.getBoundingClientRect().height,
            placeholder: getComputedStyle(t).backgroundImage.includes('data:image/svg'),
            loaded: t.querySelector('img')?.naturalWidth ?? 0,
        }}))"""
    )
    assert thumbs and all(t["height"] > 50 and t["placeholder"] and not t["loaded"] for t in thumbs)
    card = page.locator("#chat .sources .card").first
    assert card.locator("a[href*='/dp/']").count() == 1
    assert card.locator(".price").inner_text().startswith("£")
    assert card.locator(".matched li").count() in (1, 2)

    # Copy copies the answer alone, without the sources' markup.
    page.locator("#chat button[aria-label='Copy message']").last.click()
    copied = page.evaluate("() => navigator.clipboard.readText()")
    shown = page.locator("#chat .bot").last.inner_text()
    assert shown[:30] in copied and "<" not in copied  # its [n] copy as Markdown links
    shot(page, "chat.png")


def test_a_document_source_shows_where_and_opens_there(page, app):
    ask(page, "How long do I have to return shoes?")
    wait_done(page)
    docs = [s for s in shown_sources(page) if s["kind"] == "document"]
    assert docs and "returns-and-refunds.md" in docs[0]["text"] and "›" in docs[0]["text"]
    links = page.locator("#chat .sources").last.locator(".doc a[href*='gradio_api/file']")
    assert links.count() >= 1
    href = links.first.get_attribute("href")
    assert "return" in href and "#:~:text=" in href  # opens at the section's heading
    body = page.request.get(urljoin(app["url"], href)).text()
    assert "30 days" in body


def test_the_page_offers_the_shops_examples_and_labels_its_controls(page):
    for example in ("How long do I have to return shoes?", "How much is next-day delivery?"):
        page.get_by_text(example).first.wait_for(timeout=30_000)  # the page is still loading
    assert page.get_by_label("Your question").count() >= 1
    assert page.locator("#chat [role='log']").get_attribute("aria-label")  # read aloud
    shot(page, "start.png")  # what a shopper sees first


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


def test_stop_halts_generation_then_retry_and_clear(page):
    ask(page, "Tell me everything about all of your walking boots and hiking boots, in detail.")
    page.wait_for_function(f"() => ({ANSWER}?.innerText ?? '').length > 40", timeout=120_000)
    page.get_by_role("button", name="Stop").click()
    time.sleep(1)
    before = page.locator("#chat .bot").last.inner_text()
    time.sleep(3)
    assert page.locator("#chat .bot").last.inner_text() == before
    assert page.locator("#chat .sources.done").count() == 0  # it never finished
    # The model is free again: retry answers the same question anew.
    page.locator("#chat button[aria-label='Retry']").last.click()
    wait_done(page, timeout=240_000)
    assert page.locator("#chat .user").count() == 1
    page.locator("#chat button[aria-label='Clear']").click()
    page.wait_for_function("() => !document.querySelector('#chat .user')")
    assert page.locator("#chat .bot").count() == 0


def test_keyboard_alone_asks_and_reaches_every_control(page):
    """Tab into the question box, type, Enter; then Tab reaches each answer's controls."""
    page.get_by_text("How much is next-day delivery?").first.wait_for(timeout=30_000)
    for _ in range(40):
        page.keyboard.press("Tab")
        if page.evaluate("() => document.activeElement.closest('#question') !== null"):
            break
    page.keyboard.type("Do you sell slippers?")
    page.keyboard.press("Enter")
    wait_done(page)
    reached = set()
    for _ in range(80):
        page.keyboard.press("Shift+Tab")  # back up from the question box through the chat
        reached.add(page.evaluate("() => document.activeElement.getAttribute('aria-label')"))
    assert {"Copy message", "Like", "Dislike", "Retry", "Clear"} <= reached, reached


def test_on_a_phone_the_cards_scroll_sideways_and_the_page_does_not(app, browser):
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True)
    page = context.new_page()
    page.goto(app["url"], wait_until="domcontentloaded")
    ask(page, "Do you have waterproof walking boots under £90?")
    wait_done(page)
    fit = page.evaluate(
        """() => ({page: document.scrollingElement.scrollWidth, screen: innerWidth,
                   card: document.querySelector('#chat .card').getBoundingClientRect().width,
                   row: document.querySelector('#chat .cards').scrollWidth})"""
    )
    assert fit["page"] <= fit["screen"], fit  # no sideways scrolling of the whole page
    assert 120 < fit["card"] <= 0.8 * fit["screen"] < fit["row"], fit  # a card, then the next
    shot(page, "phone.png")
    context.close()


def test_two_sessions_get_their_own_answers_and_the_second_its_sources_at_once(app, browser):
    pages = [browser.new_context().new_page() for _ in range(2)]
    for page in pages:
        page.goto(app["url"], wait_until="domcontentloaded")
    ask(pages[0], "Tell me everything about all of your walking boots, in detail.")
    pages[0].wait_for_function(f"() => ({ANSWER}?.innerText ?? '').length > 5", timeout=120_000)
    ask(pages[1], "Do you sell slippers?")  # while the first answer is being written
    pages[1].wait_for_selector("#chat .sources .card", timeout=30_000)
    pages[1].get_by_text("1 other answer is being written before yours").wait_for(timeout=30_000)
    assert pages[0].locator("#chat .sources.done").count() == 0  # still writing the first
    boots, slippers = (wait_done(p, timeout=240_000) for p in pages)
    assert "boot" in boots.lower() and "slipper" not in boots.lower()
    assert "slipper" in slippers.lower() and "being written" not in slippers
    assert len(pages[0].locator("#chat .user").all()) == 1
    for page in pages:
        page.context.close()


def test_markup_in_a_product_title_is_shown_as_text(page):
    ask(page, "Pebblestep Bold Slipper")
    wait_done(page)
    card = page.locator("#chat .sources .card").first.inner_text()
    assert "<script>" in card and "<b>Bold</b>" in card
    assert page.evaluate("() => window.pwned") is None
    assert page.locator("#chat b, #chat script").count() == 0


def test_the_owner_page_lists_what_the_shop_could_not_answer(page, app):
    """Questions worded differently group under what was asked for; a thumbs-down and its
    comment show too; both export as CSV; shoppers' markup stays text."""
    for n, question in enumerate(
        ["Do you have running shoes from Gucci?", "Any Gucci running shoes <i>please</i>?"], 1
    ):
        ask(page, question)
        answer = wait_done(page, answers=n)
        assert "do not have" in answer
    page.locator("#chat button[aria-label='Dislike']").last.click()
    page.locator("#feedback-comment textarea").fill('=HYPERLINK("x") I wanted Gucci')
    page.keyboard.press("Enter")
    page.wait_for_selector("#feedback-comment", state="hidden")

    page.goto(app["url"] + "owner", wait_until="domcontentloaded")
    page.wait_for_function(
        "() => document.querySelector('#owner-gaps')?.innerText.includes('from Gucci')",
        timeout=30_000,
    )
    gaps = page.locator("#owner-gaps").inner_text()
    assert re.search(r"running shoes from Gucci\s+2\s+none\s", gaps), gaps
    index = page.locator("#owner-index").inner_text()
    assert re.search(r"\b\d+ products and \d+ document chunks", index)
    assert page.locator("#owner-mapping").get_by_text("breadcrumbs").count() >= 1
    assert "docs/empty.md" in page.locator("#owner-skipped").inner_text()
    assert "I wanted Gucci" in page.locator("#owner-disliked").inner_text()
    assert "<i>please</i>" in gaps and page.locator("#owner-gaps i").count() == 0  # text
    with page.expect_download() as download:
        page.locator("#owner-gaps-csv").click()
    rows = download.value.path().read_text().splitlines()
    assert rows[0] == "asked for,times,outcome,last asked,example question"
    assert any(r.startswith("running shoes from Gucci,2,none,") for r in rows)
    with page.expect_download() as download:
        page.locator("#owner-disliked-csv").click()
    assert "'=HYPERLINK" in download.value.path().read_text()  # never a live formula
    shot(page, "owner.png")


def test_the_owner_page_needs_the_login_when_the_app_is_exposed(app, browser):
    env = {**app["env"], "COBBLER_HOST": "0.0.0.0", "COBBLER_AUTH": "owner:s3cret-pass"}
    with app_server(env, app["tmp"] / "exposed.log") as exposed:
        page = browser.new_context().new_page()
        page.goto(exposed.url + "/owner", wait_until="domcontentloaded")
        password = page.locator("input[type='password']")
        password.wait_for(timeout=30_000)
        assert page.get_by_text("What the shop could not answer").count() == 0
        page.locator("input[type='text']").first.fill("owner")
        password.fill("s3cret-pass")
        page.keyboard.press("Enter")
        page.get_by_text("What the shop could not answer").wait_for(timeout=30_000)
        page.context.close()


def _feedback_rows(path) -> list[tuple]:
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        return db.execute("SELECT question, rating FROM feedback ORDER BY id").fetchall()


def test_a_follow_up_typed_in_the_page_is_read_against_what_was_shown(page):
    """The page keeps the conversation per browser session: "cheaper ones?" after a product
    question gets cheaper products of the same kind, and a returns question after it gets
    the returns policy, not more products."""
    ask(page, "Do you have walking boots for women?")
    wait_done(page)
    shown = _lowest_prices(page)
    assert shown
    ask(page, "cheaper ones?")
    wait_done(page, answers=2)
    prices = _lowest_prices(page)
    listed = page.locator("#chat .sources").last.inner_text()
    assert prices and all(p < min(shown) for p in prices), (shown, listed)
    assert "Walking Boots" in listed and "Women" in listed
    ask(page, "And can I return them if they don't fit?")
    third = wait_done(page, answers=3)
    where = page.locator("#chat .sources").last.inner_text()
    assert "returns-and-refunds.md" in where or "Returns" in third


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
    page.wait_for_function(f"() => ({ANSWER}?.innerText ?? '').length > 40", timeout=120_000)
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


def _lowest_prices(page) -> list[float]:
    """Each product card's lowest price in the last answer's sources."""
    labels = page.locator("#chat .sources").last.locator(".card .price").all_inner_texts()
    found = [re.search(r"£(\d[\d,]*\.\d\d)", label) for label in labels]
    return [float(m.group(1).replace(",", "")) for m in found if m]
