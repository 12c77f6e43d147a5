"""Chat page speed as a shopper sees it, in a real headless Chromium against `python -m app`.

For each question, in a fresh browser session: the time from pressing Enter to the
answer's sources on screen (product cards, or document lines), and to the answer's first
words. Prints the medians, and for sources the 90th percentile and the slowest (default:
10 questions with the default preset, after one warm-up question). Each answer is stopped
with the page's Stop button once its first words show, so the next question does not wait
for a long answer. Shoppers' logs go to a temporary folder, never to the
shop's own feedback database.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import cobbler  # noqa: F401
from bench.common import percentile, table
from bench.servers import app_server
from cobbler.settings import load_settings

QUESTIONS = [
    "Do you have waterproof walking boots under £90?",
    "Any sandals for girls?",
    "Can you recommend some running shoes under £80?",
    "Do you sell slippers?",
    "Have you got leather loafers?",
    "Show me hiking boots for women",
    "What trainers do you have for kids?",
    "How long do I have to return shoes?",
    "How much is next-day delivery?",
    "What is a UK size 8 in EU sizes?",
]
WARM_UP = "Do you have wellington boots?"
ANSWER = "[...document.querySelectorAll('#chat .bot')].pop()"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def time_question(browser, url: str, question: str, timeout_ms: float = 300_000) -> dict:
    """Seconds from Enter to sources on screen and to the first answer words."""
    page = browser.new_context().new_page()
    try:
        page.goto(url, wait_until="domcontentloaded")
        box = page.locator("#question textarea")
        box.wait_for(timeout=60_000)
        box.fill(question)
        started = time.perf_counter()
        page.keyboard.press("Enter")
        page.wait_for_selector("#chat .sources", timeout=timeout_ms)
        sources = time.perf_counter() - started
        cards = page.locator("#chat .sources .card").count()
        page.wait_for_function(
            f"() => !['', '…'].includes(({ANSWER}?.innerText ?? '').trim())", timeout=timeout_ms
        )
        words = time.perf_counter() - started
        if not page.locator("#chat .sources.done").count():
            page.get_by_role("button", name="Stop").click()  # free the model for the next one
            time.sleep(1)
        return {"question": question, "sources_s": sources, "words_s": words, "cards": cards}
    finally:
        page.context.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default="default")
    parser.add_argument("--db", type=Path, help="vector store folder (COBBLER_DB_DIR)")
    parser.add_argument("-n", type=int, default=len(QUESTIONS), help="questions to time")
    args = parser.parse_args(argv)
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        print("\nChat page in Chromium: skipped (no chromium; `make browser` installs it)")
        return
    from playwright.sync_api import sync_playwright

    settings = load_settings({"model": args.model, "db_dir": args.db})
    questions = (QUESTIONS * (1 + args.n // len(QUESTIONS)))[: args.n]
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        env = {
            "COBBLER_MODEL": settings.model,
            "COBBLER_DB_DIR": str(settings.db_dir),
            "COBBLER_FEEDBACK_DB": str(Path(tmp) / "feedback.sqlite3"),
        }
        with (
            app_server(env, Path(tmp) / "app.log") as app,
            sync_playwright() as playwright,
        ):
            browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
            time_question(browser, app.url + "/", WARM_UP)  # loads the encoder and the model
            for question in questions:
                results.append(time_question(browser, app.url + "/", question))
                r = results[-1]
                print(
                    f"  {r['sources_s']:6.2f} s sources ({r['cards']} cards), "
                    f"{r['words_s']:6.2f} s first words: {question}",
                    flush=True,
                )
            browser.close()
    with_cards = [r["sources_s"] for r in results if r["cards"]]
    shown = [r["sources_s"] for r in results]
    table(
        f"Chat page in Chromium, '{settings.model}' preset ({len(results)} questions)",
        [
            (
                "Enter → product cards",
                f"median {statistics.median(with_cards):.2f} s over {len(with_cards)} questions"
                if with_cards
                else "no question showed product cards",
            ),
            (
                "Enter → sources (any)",
                f"median {statistics.median(shown):.2f} s, p90 {percentile(shown, 0.9):.2f} s, "
                f"max {max(shown):.2f} s (target <= 0.5 s)",
            ),
            (
                "Enter → first answer words",
                f"median {statistics.median(r['words_s'] for r in results):.2f} s "
                f"(min {min(r['words_s'] for r in results):.2f}, "
                f"max {max(r['words_s'] for r in results):.2f})",
            ),
        ],
    )


if __name__ == "__main__":
    main()
