"""The answers the service writes itself, not the model: shop text in them stays text
(no model, no store)."""

from __future__ import annotations

import pytest

from app.service import fallback_answer, listing_answer, none_answer
from app.understanding import Constraints
from cobbler.profile import Shop
from cobbler.records import Source
from tests.conftest import product_source

MARKUP = "<img src=http://evil.example/x.png> [click](http://evil.example)"
PLANTED = product_source(1, f"Trailmaster {MARKUP} Walking Boot", 80.5)
GUIDE = Source(
    id="d2", kind="document", n=2, score=1.0, title=MARKUP, source="guides/size.md",
    section=f"Sizes › {MARKUP}", text="Sizes: UK 9, EU 43.",
)  # fmt: skip


def _live(text: str) -> list[str]:
    """Markup the chat page would act on: an unescaped tag, or a link's target."""
    return [m for m in ("<img", "](http") if m in text.replace("\\<img", "")]


@pytest.mark.parametrize(
    "answer",
    [
        none_answer(Constraints(unknown_brands=[MARKUP]), [PLANTED], "other brands", Shop()),
        fallback_answer([PLANTED, GUIDE]),
        listing_answer(Constraints(brands=[MARKUP]), [PLANTED], Shop()),
    ],
    ids=["none", "fallback", "listing"],
)
def test_shop_text_in_the_services_own_answers_is_never_live_markup(answer):
    assert "[1]" in answer and "Walking Boot" in answer  # the product is still listed
    assert _live(answer) == []
