"""The `Store` contract: upsert posts by id, fetch one, search by tokens, count.

Two implementations keep it: `SqliteStore` (embedded default, zero set-up) and `ElasticsearchStore`.
The same contract tests run against both.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from classifiers.search_query import SearchQuery
from pipeline.items import Post


@dataclass(slots=True)
class WriteResult:
    written: int = 0
    spooled: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class RuleHits:
    posts: int
    last: datetime


@dataclass(slots=True)
class SearchHit:
    id: str
    score: float
    doc: dict[str, Any]


class Store(Protocol):
    """Where posts live after the pipeline. A re-written id replaces the old document, never duplicates it."""

    name: str

    def write(self, posts: Iterable[Post]) -> WriteResult:
        """Upsert by `Post.id`. Posts the backend could not take are spooled, never lost."""
        ...

    def get(self, post_id: str) -> dict[str, Any] | None: ...

    def search(
        self,
        terms: Sequence[str] | SearchQuery,
        *,
        limit: int = 20,
        since: datetime | None = None,
        until: datetime | None = None,
        sources: Collection[str] = (),
        levels: Collection[str] = (),
    ) -> list[SearchHit]:
        """Posts whose tokens contain every term, best first, then newest first. Terms come from the same
        tokeniser as the posts. A `SearchQuery` (the keyword rules' syntax) instead gives the posts its rule
        matches, in the same order. Filters narrow the posts without changing their order: published at or
        after `since` and before `until`, from one of `sources`, at one of the severity `levels`."""
        ...

    def count(self) -> int: ...

    def scan(self, since: datetime) -> Iterator[dict[str, Any]]:
        """The fields a keyword rule reads (`id`, `title`, `text`, `author`, `source`, `media`) of every post
        published at or after `since`, oldest first: what a rule's preview runs over."""
        ...

    def rule_hits(self, since: datetime) -> dict[str, RuleHits]:
        """For each rule id that matched a post published at or after `since`: how many, and the newest."""
        ...

    def refresh(self) -> None:
        """Make everything written so far visible to search (a no-op where writes are immediate)."""
        ...

    def close(self) -> None: ...
