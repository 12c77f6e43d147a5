"""A file, row or line that could not be ingested, and why."""

from __future__ import annotations

from pydantic import BaseModel


class Problem(BaseModel):
    file: str
    reason: str
    where: str | None = None  # "row 12", "line 3"

    def __str__(self) -> str:
        at = f" ({self.where})" if self.where else ""
        return f"{self.file}{at}: {self.reason}"


class SkipFile(Exception):
    """Raised by a loader when a whole file must be skipped; the message is the reason."""
