"""The errors of fetching and storing, caught at the edges (the CLI, a stage adapter) and turned into counted
messages. The whole tree of the project's errors is drawn in config/errors.py."""

from __future__ import annotations

from config.errors import YuqingError


class SourceError(YuqingError):
    """A site refused or failed a request: `reason` is the counted health reason."""

    def __init__(self, source: str, reason: str) -> None:
        super().__init__(f"{source}: {reason}")
        self.source = source
        self.reason = reason


class SourceBlocked(SourceError):
    """A login wall, a captcha or a refusal (403/418/429)."""


class StoreError(YuqingError):
    """The post store failed a request; the message names the store and what failed."""


class StoreUnavailable(StoreError):
    """The store cannot be reached at all: what it could not take is spooled and replayed."""
