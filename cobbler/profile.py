"""Who the shop is: its optional profile file, and what ingest learned about it.

A shop owner may put `shop.toml` at the top of the knowledge base (name, what it sells,
country, currency, contact, example questions, its own synonyms). Whatever it leaves out is
learned at ingest from the catalog (currency from the prices, product types and audiences
from the category tree and titles). Both are stored with the published index as one `Shop`,
so the app, the prompt and the chat page speak about the shop that was ingested.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import tomllib
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from cobbler.vocabulary import Vocabulary

PROFILE_NAME = "shop.toml"


class ProfileError(ValueError):
    """The profile file cannot be used; the message names the file and the field."""


class ShopProfile(BaseModel):
    """What the shop owner says about the shop; every field is optional."""

    model_config = ConfigDict(extra="forbid")  # a misspelt key must be reported, not ignored

    name: str | None = Field(None, description="The shop's name, as shoppers know it.")
    assistant: str = Field("Cobbler", description="What the assistant calls itself.")
    sells: str | None = Field(None, description='What the shop sells: "tea and teaware".')
    country: str | None = None
    currency: str | None = Field(None, description="ISO 4217 code of the shop's prices.")
    language: str = Field("English", description="The language answers are written in.")
    contact: str | None = Field(None, description="How shoppers reach the shop's staff.")
    examples: list[str] = Field(default_factory=list, description="Questions for the chat page.")
    synonyms: dict[str, list[str]] = Field(
        default_factory=dict, description='The shop\'s own words: {"settee": ["couch"]}.'
    )

    @field_validator("currency")
    @classmethod
    def _iso(cls, value: str | None) -> str | None:
        if value is None:
            return None
        code = value.strip().upper()
        if len(code) != 3 or not code.isalpha():
            raise ValueError(f"must be a three-letter ISO code such as EUR, not {value!r}")
        return code


def load_profile(kb_dir: Path) -> ShopProfile:
    """The profile in `kb_dir/shop.toml`, or an empty one when there is none."""
    path = kb_dir / PROFILE_NAME
    if not path.is_file() or path.is_symlink():
        return ShopProfile()
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ProfileError(f"{path}: not valid TOML ({exc})") from exc
    try:
        return ShopProfile.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(top level)"
        raise ProfileError(f"{path}: {where}: {first['msg']}") from exc


class Shop(BaseModel):
    """The profile with the gaps filled from the catalog, as stored with the index."""

    profile: ShopProfile = Field(default_factory=ShopProfile)
    vocabulary: Vocabulary = Field(default_factory=Vocabulary)
    currencies: dict[str, int] = Field(default_factory=dict)  # ISO code → products priced in it

    @property
    def name(self) -> str:
        return self.profile.name or "the shop"

    @property
    def currency(self) -> str | None:
        """The profile's currency, else the one most of the catalog is priced in."""
        if self.profile.currency:
            return self.profile.currency
        return max(self.currencies, key=self.currencies.__getitem__) if self.currencies else None

    @property
    def sells(self) -> str | None:
        """What the shop sells, from the profile or its most common product types."""
        if self.profile.sells:
            return self.profile.sells
        known = self.vocabulary.types
        # The shop's main kinds: not the whole range, and not a kind of another main kind.
        types = sorted(
            (
                t
                for t in known.values()
                if not t.general and all(known[p].general for p in t.parents if p in known)
            ),
            key=lambda t: -t.count,
        )
        names = [t.name for t in types[:4]]
        if not names:
            general = [t.name for t in self.vocabulary.types.values() if t.general]
            return general[0] if general else None
        return ", ".join(names[:-1]) + f" and {names[-1]}" if len(names) > 1 else names[0]

    def examples(self) -> list[str]:
        """Example questions: the profile's, else some made from what the shop sells."""
        if self.profile.examples:
            return self.profile.examples
        types = sorted(
            (t for t in self.vocabulary.types.values() if not t.general and t.count >= 2),
            key=lambda t: -t.count,
        )
        examples = [f"Do you have any {t.name}?" for t in types[:2]]
        if types:
            examples.append(f"What are your cheapest {types[0].name}?")
        return examples + ["How can I return an item?"]


def count_currencies(currencies: list[str | None]) -> dict[str, int]:
    return dict(Counter(c for c in currencies if c))
