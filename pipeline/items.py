"""The one item every spider yields and every stage passes on: `Post`.

Spiders fill the source fields; the stages fill `analysis`. `validate_post` is the single check
the clean stage applies, so a spider bug becomes a counted drop with a reason, not a crash.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any
from zoneinfo import ZoneInfo

from classifiers.types import Level, Polarity, RuleHit, Severity, Territory

SHANGHAI = ZoneInfo("Asia/Shanghai")


class Source(StrEnum):
    """Where a post was found; the seeds' collection range (seed 000 附件2 第三条) plus local sites."""

    SINA = "sina"
    PEOPLE = "people"
    IFENG = "ifeng"
    NETEASE = "netease"
    SOHU = "sohu"
    TIEBA = "tieba"
    TIANYA = "tianya"
    WEIBO = "weibo"
    WEIXIN = "weixin"
    LOCAL = "local"


class AuthorKind(StrEnum):
    OFFICIAL_MEDIA = "official_media"
    GOVERNMENT = "government"
    VERIFIED = "verified"
    ORDINARY = "ordinary"
    UNKNOWN = "unknown"


@dataclass(slots=True, kw_only=True)
class Counts:
    reposts: int = 0
    comments: int = 0
    likes: int = 0
    reads: int = 0


@dataclass(slots=True, kw_only=True)
class Responsible:
    """Who answers for a post under 属地管理、分级负责、谁主管谁负责 (seed 000 三, 附件2 第六条), and the
    level it was routed on: the event's final level, so the record and the alert can be checked against it."""

    level: Level | None = None
    first: list[str] = field(default_factory=list)
    coordinate: list[str] = field(default_factory=list)
    claim: list[str] = field(default_factory=list)
    inform: list[str] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)


@dataclass(slots=True, kw_only=True)
class EventScope:
    """What the whole event a post belongs to concerns, as the event stage last saw it: all its posts'
    counties and lines of work. Routing reads these, so every alert of an event reaches all of its places."""

    posts: int = 1
    counties: list[str] = field(default_factory=list)
    departments: list[str] = field(default_factory=list)


@dataclass(slots=True, kw_only=True)
class Analysis:
    words: list[str] = field(default_factory=list)  # precise cut, read by the classifiers
    tokens: list[str] = field(default_factory=list)  # words plus their sub-words, what search indexes
    sentiment: float | None = None
    polarity: Polarity | None = None
    sentiment_reasons: list[str] = field(default_factory=list)
    rules: list[RuleHit] = field(default_factory=list)
    severity: Severity | None = None
    territory: Territory | None = None
    departments: list[str] = field(default_factory=list)
    department_reasons: list[str] = field(default_factory=list)  # the words that named each line of work
    responsible: Responsible | None = None
    spam: bool = False
    spam_reasons: list[str] = field(default_factory=list)
    event_id: str | None = None
    event: EventScope | None = None


@dataclass(slots=True, kw_only=True)
class Post:
    """One post, article, thread floor or comment, whatever the source."""

    id: str
    source: Source
    url: str
    text: str
    published_at: datetime
    crawled_at: datetime
    title: str | None = None
    author: str | None = None
    author_kind: AuthorKind = AuthorKind.UNKNOWN
    media: str | None = None
    counts: Counts = field(default_factory=Counts)
    ip_location: str | None = None
    author_location: str | None = None
    parent_id: str | None = None
    repost_of: str | None = None  # id of the post this one forwards (a Weibo 转发)
    images: list[str] = field(default_factory=list)  # URLs of the pictures attached
    has_video: bool = False
    raw_ref: str | None = None
    analysis: Analysis = field(default_factory=Analysis)

    @staticmethod
    def make_id(source: Source | str, native_id: str) -> str:
        """The same post always gets the same id, whichever spider found it."""
        return f"{Source(source).value}:{native_id}"


class InvalidPost(ValueError):
    """A post that breaks the schema; names the field so the drop reason is actionable."""

    def __init__(self, field_name: str, reason: str) -> None:
        super().__init__(f"{field_name}: {reason}")
        self.field = field_name
        self.reason = reason


def validate_post(post: Any) -> Post:
    """Check what the type hints cannot: required text, aware times, non-negative counts."""
    if not isinstance(post, Post):
        raise InvalidPost("item", f"expected a Post, got {type(post).__name__}")
    for name in ("id", "url"):
        value = getattr(post, name)
        if not isinstance(value, str) or not value.strip():
            raise InvalidPost(name, "missing")
    if not post.url.startswith(("http://", "https://")):
        raise InvalidPost("url", f"not an http(s) URL: {post.url!r}")
    try:
        post.source = Source(post.source)
    except ValueError:
        raise InvalidPost("source", f"unknown source {post.source!r}") from None
    if not isinstance(post.text, str) or not (post.text.strip() or (post.title or "").strip()):
        raise InvalidPost("text", "empty: neither text nor title")
    for name in ("published_at", "crawled_at"):
        value = getattr(post, name)
        if not isinstance(value, datetime):
            raise InvalidPost(name, f"not a datetime: {value!r}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise InvalidPost(name, "naive datetime (needs a time zone)")
    for name in ("reposts", "comments", "likes", "reads"):
        value = getattr(post.counts, name)
        if not isinstance(value, int) or value < 0:
            raise InvalidPost(f"counts.{name}", f"not a non-negative integer: {value!r}")
    return post


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, StrEnum):
        return value.value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def to_dict(obj: Any) -> Any:
    """JSON-ready form of a Post or any record in it (times ISO 8601, enums as their values)."""
    return _plain(obj)


def post_from_dict(data: dict[str, Any]) -> Post:
    """Rebuild a Post from `to_dict` output or from analysts' JSON (source fields only)."""
    counts = data.get("counts") or {}
    return Post(
        id=data.get("id") or "",
        source=data.get("source") or Source.LOCAL,
        url=data.get("url") or "",
        text=data.get("text") or "",
        title=data.get("title"),
        author=data.get("author"),
        author_kind=AuthorKind(data.get("author_kind") or AuthorKind.UNKNOWN),
        media=data.get("media"),
        published_at=_parse_time(data.get("published_at")),
        crawled_at=_parse_time(data.get("crawled_at")),
        counts=Counts(
            **{k: int(v) for k, v in counts.items() if k in ("reposts", "comments", "likes", "reads")}
        ),
        ip_location=data.get("ip_location"),
        author_location=data.get("author_location"),
        parent_id=data.get("parent_id"),
        repost_of=data.get("repost_of"),
        images=[str(url) for url in data.get("images") or []],
        has_video=bool(data.get("has_video")),
        raw_ref=data.get("raw_ref"),
    )


def _parse_time(value: Any) -> Any:
    if isinstance(value, str) and value:
        parsed = datetime.fromisoformat(value)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=SHANGHAI)
    return value
