"""The one item every spider yields and every stage passes on: `Post`.

Spiders fill the source fields; the stages fill `analysis`. `validate_post` is the single check
the clean stage applies, so a spider bug becomes a counted drop with a reason, not a crash.
"""

from __future__ import annotations

import dataclasses
import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import orjson
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
    ValidationError,
    model_validator,
)
from pydantic_core import PydanticCustomError

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


# The names people know these sources by, for everything they read (tables, alerts, reasons).
SOURCE_NAMES: dict[str, str] = {
    Source.SINA: "新浪",
    Source.PEOPLE: "人民网",
    Source.IFENG: "凤凰网",
    Source.NETEASE: "网易",
    Source.SOHU: "搜狐",
    Source.TIEBA: "百度贴吧",
    Source.TIANYA: "天涯",
    Source.WEIBO: "微博",
    Source.WEIXIN: "微信",
    Source.LOCAL: "本地网站",
}


def source_name(source: str | None) -> str:
    """`微博` for `weibo`; a value that is no known source is shown as it is."""
    return SOURCE_NAMES.get(str(source), str(source or ""))


def source_text(source: str | None, media: str | None = None) -> str:
    """Where a post was found, as people read it: `百度贴吧·华龙区吧`, or `微博` when no media is named."""
    name = source_name(source)
    if media and media != name:
        return f"{name}·{media}" if name else media
    return name


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
class Truncation:
    """A text longer than the analysis cap: how many characters were analysed (and kept) of how many."""

    analysed: int
    total: int
    note: str = ""


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
    # Events this post showed to be part of `event_id` (it bridged them, or named the event earlier than
    # its first post): the alert stage moves their alerts to it.
    merged_events: list[str] = field(default_factory=list)
    event: EventScope | None = None
    truncated: Truncation | None = None  # set when the text was cut to the analysis cap


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
    # `isspace` rather than `strip`, which would copy the whole text of every post to test it.
    for name, given in (("id", post.id), ("url", post.url)):
        if not isinstance(given, str) or not given or given.isspace():
            raise InvalidPost(name, "missing")
    if not post.url.startswith(("http://", "https://")):
        raise InvalidPost("url", f"not an http(s) URL: {post.url!r}")
    if not isinstance(post.source, Source):  # a member already is its own Source(...), at no cost
        try:
            post.source = Source(post.source)
        except ValueError:
            raise InvalidPost("source", f"unknown source {post.source!r}") from None
    text, title = post.text, post.title or ""
    if not isinstance(text, str) or ((not text or text.isspace()) and (not title or title.isspace())):
        raise InvalidPost("text", "empty: neither text nor title")
    for name, moment in (("published_at", post.published_at), ("crawled_at", post.crawled_at)):
        if not isinstance(moment, datetime):
            raise InvalidPost(name, f"not a datetime: {moment!r}")
        if moment.tzinfo is None or moment.utcoffset() is None:
            raise InvalidPost(name, "naive datetime (needs a time zone)")
    counts = post.counts
    for name, count in (
        ("reposts", counts.reposts),
        ("comments", counts.comments),
        ("likes", counts.likes),
        ("reads", counts.reads),
    ):
        if not isinstance(count, int) or count < 0:
            raise InvalidPost(f"counts.{name}", f"not a non-negative integer: {count!r}")
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


def to_json(obj: Any) -> bytes:
    """`to_dict(obj)` as compact UTF-8 JSON, straight from the dataclasses: the stores write every post
    this way, and going through `to_dict` first would cost them more than the database does."""
    try:
        return orjson.dumps(obj)
    except orjson.JSONEncodeError:
        # orjson refuses lone surrogates (and integers past 64 bits); the standard encoder escapes them.
        return json.dumps(to_dict(obj)).encode("ascii")


# The input schema -----------------------------------------------------------------------------------------
# What analysts may give `yuqing analyze` and `yuqing route` per line: the source fields of a Post, each
# checked for its type (a number is never read as text, nor text as a number), so a bad field costs its
# line with a message naming the field, never the lines after it.

# No post has a trillion reads; a bigger number is a mistake, and would not fit the stores' integers.
MAX_COUNT = 10**12


# Searched by the regex engine: a Python loop over each character cost more than the rest of reading a post.
_SURROGATE = re.compile("[\ud800-\udfff]")


def _whole_text(value: str) -> str:
    # A lone UTF-16 surrogate (`"\ud800"` in JSON; Weibo texts cut inside an emoji have them) cannot be
    # written as UTF-8: it becomes U+FFFD, as undecodable bytes do, instead of failing the answer.
    if _SURROGATE.search(value):
        return value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    return value


def _iso_time(value: Any) -> Any:
    if value is None or isinstance(value, datetime):
        return value
    if not isinstance(value, str):
        raise PydanticCustomError("time_type", "应为 ISO 8601 时间字符串，如 2026-11-23T09:00:00+08:00")
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise PydanticCustomError(
            "time_format", "不是 ISO 8601 时间，应写作 2026-11-23T09:00:00+08:00"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=SHANGHAI)


def _http_url(value: str) -> str:
    if not value.startswith(("http://", "https://")) or any(c.isspace() for c in value):
        raise PydanticCustomError("url", "应为 http:// 或 https:// 开头的地址")
    return value


Text = Annotated[StrictStr, AfterValidator(_whole_text)]
Time = Annotated[datetime | None, BeforeValidator(_iso_time)]
Count = Annotated[StrictInt, Field(ge=0, le=MAX_COUNT)]


class _Input(BaseModel):
    # Fields the schema does not know are ignored: `to_dict` output carries `analysis`, and analysts'
    # exports carry their own columns.
    model_config = ConfigDict(extra="ignore")


class CountsInput(_Input):
    reposts: Count = 0
    comments: Count = 0
    likes: Count = 0
    reads: Count = 0


class PostInput(_Input):
    """One post as analysts give it; only `text` (or `title`) is needed, the rest gets stand-ins."""

    id: Text | None = None
    source: Source | None = None
    url: Annotated[Text, AfterValidator(_http_url)] | None = None
    text: Text | None = None
    title: Text | None = None
    author: Text | None = None
    author_kind: AuthorKind | None = None
    media: Text | None = None
    published_at: Time = None
    crawled_at: Time = None
    counts: CountsInput | None = None
    ip_location: Text | None = None
    author_location: Text | None = None
    parent_id: Text | None = None
    repost_of: Text | None = None
    images: list[Text] | None = None
    has_video: StrictBool | None = None
    raw_ref: Text | None = None

    @model_validator(mode="after")
    def _something_to_read(self) -> PostInput:
        if not (self.text or "").strip() and not (self.title or "").strip():
            raise PydanticCustomError("empty", "text 与 title 都为空，没有可分析的文字")
        return self

    def to_post(self, *, stand_in_id: str, stand_in_url: str, now: datetime) -> Post:
        """The Post, with stand-ins for a missing id, url or time (a bare `{"text": ...}` is enough)."""
        post = Post(
            id=self.id or stand_in_id,
            source=self.source or Source.LOCAL,
            url=self.url or stand_in_url,
            text=self.text or "",
            published_at=self.published_at or now,
            crawled_at=self.crawled_at or now,
        )
        # The other fields keep the Post's defaults unless one of them was given: most lines give only a
        # text, and passing every field to the constructor anyway cost a third of making the post.
        if not self.model_fields_set <= _ALWAYS_PASSED:
            post.title = self.title
            post.author = self.author
            post.author_kind = self.author_kind or AuthorKind.UNKNOWN
            post.media = self.media
            post.counts = Counts(**self.counts.model_dump()) if self.counts else Counts()
            post.ip_location = self.ip_location
            post.author_location = self.author_location
            post.parent_id = self.parent_id
            post.repost_of = self.repost_of
            post.images = list(self.images or [])
            post.has_video = bool(self.has_video)
            post.raw_ref = self.raw_ref
        return post


# The fields of `PostInput.to_post`'s constructor call: a line giving no other has nothing more to copy.
_ALWAYS_PASSED = frozenset({"id", "source", "url", "text", "published_at", "crawled_at"})


_KIND = {bool: "布尔值", int: "整数", float: "小数", str: "字符串", list: "列表", dict: "对象"}
_EXPECTED = {
    "string_type": "应为字符串",
    "int_type": "应为整数",
    "int_from_float": "应为整数",
    "int_parsing": "应为整数",
    "bool_type": "应为 true 或 false",
    "list_type": "应为列表",
    "dict_type": "应为对象",
    "model_type": "应为对象",
    "model_attributes_type": "应为对象",
    "datetime_type": "应为 ISO 8601 时间字符串",
    "none_required": "应为 null",
}
_ENUMS: dict[str, type[StrEnum]] = {"source": Source, "author_kind": AuthorKind}
_OWN_ERRORS = {"time_type", "time_format", "url"}


def printable(value: str, limit: int = 40) -> str:
    """`value` shortened for a message, with anything UTF-8 cannot carry shown as an escape."""
    value = value if len(value) <= limit else f"{value[:limit]}…"
    return value.encode("utf-8", "backslashreplace").decode("utf-8")


def describe_value(value: Any) -> str:
    """What a JSON value is, in words, e.g. 整数 5, 字符串 "abc", 列表（3 项）."""
    if value is None:
        return "null"
    kind = _KIND.get(type(value), type(value).__name__)
    if isinstance(value, list | dict):
        return f"{kind}（{len(value)} 项）"
    shown = json.dumps(value, ensure_ascii=False) if isinstance(value, str) else repr(value)
    return f"{kind} {printable(shown)}"


def _where(loc: tuple[int | str, ...]) -> str:
    where = ""
    for part in loc:
        where += f"[{part}]" if isinstance(part, int) else (f".{part}" if where else str(part))
    return where


def input_errors(exc: ValidationError) -> str:
    """A pydantic error on `PostInput` as one Chinese clause per field, e.g.
    「字段 media 应为字符串，收到整数 5」."""
    clauses = []
    for error in exc.errors(include_url=False):
        loc = tuple(error["loc"])
        kind = error["type"]
        value = error.get("input")
        where = _where(loc)
        if kind == "empty":
            clauses.append(f"字段 {error['msg']}")
            continue
        if kind in _EXPECTED:
            expected = _EXPECTED[kind]
        elif kind == "enum" and where in _ENUMS:
            expected = "应为 " + "、".join(member.value for member in _ENUMS[where]) + " 之一"
        elif kind == "greater_than_equal":
            expected = "应为非负整数"
        elif kind == "less_than_equal":
            expected = f"应不大于 {MAX_COUNT:,}"
        elif kind in _OWN_ERRORS:
            expected = error["msg"]  # already in Chinese
        else:
            expected = f"不合要求（{error['msg']}）"
        clauses.append(f"字段 {where} {expected}，收到{describe_value(value)}")
    return "；".join(clauses)


def post_from_dict(
    data: dict[str, Any], *, stand_in_id: str = "", stand_in_url: str = "", now: datetime | None = None
) -> Post:
    """A Post from `to_dict` output or analysts' JSON (source fields only), checked against `PostInput`;
    raises `ValueError` with the fields at fault in Chinese."""
    if now is None:
        # Imported here, and only when asked: the clock module reads this one's time zone, and running an
        # import statement for every post of a batch (which brings its own time) cost a tenth of reading it.
        from pipeline import clock

        now = clock.now()
    if (
        len(data) == 1
        and type(text := data.get("text")) is str
        and text
        and not text.isspace()  # as in `validate_post`: `strip` would copy the text to test it
        and not _SURROGATE.search(text)
    ):
        # A bare {"text": ...}, as most lines of `analyze` are: what `PostInput` would make of it, without
        # building one (the checks it would make are the three above).
        return Post(
            id=stand_in_id, source=Source.LOCAL, url=stand_in_url, text=text, published_at=now, crawled_at=now
        )
    try:
        checked = PostInput.model_validate(data)
    except ValidationError as exc:
        raise ValueError(input_errors(exc)) from None
    return checked.to_post(stand_in_id=stand_in_id, stand_in_url=stand_in_url, now=now)
