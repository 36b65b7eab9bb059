"""What every news-portal spider shares: its source config, incremental state, problem counting, and turning
an article page into a `Post`.

A portal spider lists articles (roll API, channel page), decides which are new with `SourceState`, and hands
each article page to `article_post` with what the list said about it. Field parsers are plain functions on
strings so they can be table-tested.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar, Self

import scrapy
from parsel import Selector
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.http import TextResponse

from config.errors import ConfigError
from config.loader import config_dir, load_file
from config.models import SourceConfig, SourcesFile
from pipeline.clock import now
from pipeline.items import SHANGHAI, AuthorKind, Counts, Post, Source
from spiders.middlewares import ORIGINAL_URL
from spiders.state import DEFAULT_LIMIT, SourceState

logger = logging.getLogger(__name__)

_MINUTE = timedelta(minutes=1)

# Central media whose reports weigh as 官方媒体; a name matches when it starts with one of these
# (人民日报客户端, 新华社客户端, 央视新闻客户端 ...).
CENTRAL_MEDIA: tuple[str, ...] = (
    "人民日报",
    "人民网",
    "新华社",
    "新华网",
    "新华每日电讯",
    "央视新闻",
    "央视网",
    "央广网",
    "中央广播电视总台",
    "中国新闻网",
    "中新网",
    "中国新闻社",
    "光明日报",
    "光明网",
    "经济日报",
    "中国日报",
    "求是",
    "解放军报",
    "中国青年报",
    "中国青年网",
    "法治日报",
    "工人日报",
    "农民日报",
    "科技日报",
    "中国纪检监察报",
    "中央纪委国家监委网站",
    "中国政府网",
    "国际在线",
    "中国网",
)


# Field parsers ---------------------------------------------------------------------------------------------

_CN_DATETIME = re.compile(
    r"(?P<y>\d{4})\s*年\s*(?P<m>\d{1,2})\s*月\s*(?P<d>\d{1,2})\s*日"
    r"(?:\s*(?P<H>\d{1,2})\s*[:：时]\s*(?P<M>\d{1,2})(?:\s*[:：分]\s*(?P<S>\d{1,2}))?)?"
)
_NUMERIC_DATETIME = re.compile(
    r"(?P<y>\d{4})[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2})"
    r"(?:[ T]+(?P<H>\d{1,2}):(?P<M>\d{2})(?::(?P<S>\d{2}))?(?:\.\d+)?"
    r"\s*(?P<tz>Z|[+-]\d{2}:?\d{2})?)?"
)


def parse_cn_datetime(text: str | None) -> datetime | None:
    """A time as Chinese pages write it, aware in Asia/Shanghai; None when there is none.

    "2026年11月23日 08:57", "2026年11月23日08:57", "2026-11-23 08:57:12", "2026-11-23T08:57:12+08:00",
    "2026/11/23 08:57"; text around it ("... 来源：新华社") is ignored. A written offset is honoured and
    converted; without one the time is read as Beijing time.
    """
    if not text:
        return None
    match = _CN_DATETIME.search(text) or _NUMERIC_DATETIME.search(text)
    if match is None:
        return None
    parts = match.groupdict()
    try:
        moment = datetime(
            int(parts["y"]),
            int(parts["m"]),
            int(parts["d"]),
            int(parts["H"] or 0),
            int(parts["M"] or 0),
            int(parts["S"] or 0),
        )
    except ValueError:
        return None
    offset = parts.get("tz")
    if not offset:
        return moment.replace(tzinfo=SHANGHAI)
    if offset == "Z":
        offset = "+00:00"
    elif ":" not in offset:
        offset = f"{offset[:3]}:{offset[3:]}"
    return datetime.fromisoformat(f"{moment.isoformat()}{offset}").astimezone(SHANGHAI)


def parse_unix_time(value: Any) -> datetime | None:
    """Unix seconds (number or numeric string, as APIs send them) to an aware Asia/Shanghai time."""
    try:
        seconds = int(str(value).strip())
    except (TypeError, ValueError):
        return None
    if seconds <= 0:
        return None
    return datetime.fromtimestamp(seconds, SHANGHAI)


_SPACES = re.compile(r"[ \t\r\f\v\u00a0\u2002\u2003\u2009\u3000]+")
_INVISIBLE = re.compile(r"[\u200b\u200c\u200d\u2060\ufeff]")


def clean_text(text: str | None) -> str:
    """One paragraph as a reader sees it: full-width indents, nbsp and zero-width marks gone, spaces single."""
    if not text:
        return ""
    text = _INVISIBLE.sub("", text)
    lines = (_SPACES.sub(" ", line).strip() for line in text.splitlines())
    return " ".join(line for line in lines if line)


_COUNT = re.compile(r"(\d+(?:\.\d+)?)\s*([万亿wW]?)")


def parse_count(text: Any) -> int:
    """Counts as pages print them: "3,862" -> 3862, "1.2万" -> 12000; empty or junk -> 0."""
    if isinstance(text, int):
        return max(text, 0)
    match = _COUNT.search(str(text or "").replace(",", "").replace("，", ""))
    if match is None:
        return 0
    number = float(match.group(1))
    unit = match.group(2)
    if unit in ("万", "w", "W"):
        number *= 10_000
    elif unit == "亿":
        number *= 100_000_000
    return int(number)


_EDITOR = re.compile(r"^[\[【(（]?\s*(?:责任编辑|责编|编辑)\s*[:：]\s*(?P<name>[^\]】)）]*?)\s*[\]】)）]?$")


def parse_editor(line: str) -> str | None:
    """The name in an editor credit ("责任编辑：李明" -> "李明"); None for any other line."""
    match = _EDITOR.match(clean_text(line))
    if match is None:
        return None
    return match.group("name").strip() or None


def dedupe_paragraphs(paragraphs: list[str]) -> tuple[list[str], int]:
    """Drop paragraphs repeated later on the page (some pages print their body twice); returns the count."""
    kept: list[str] = []
    seen: set[str] = set()
    for paragraph in paragraphs:
        key = re.sub(r"\s+", "", paragraph)
        if key in seen:
            continue
        seen.add(key)
        kept.append(paragraph)
    return kept, len(paragraphs) - len(kept)


def author_kind_of(media: str | None) -> AuthorKind:
    name = clean_text(media)
    if name and name.startswith(CENTRAL_MEDIA):
        return AuthorKind.OFFICIAL_MEDIA
    return AuthorKind.UNKNOWN


# Article pages ---------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ArticleLayout:
    """Where a portal's article template keeps each field; every list is tried in order, first hit wins."""

    title: tuple[str, ...]
    published: tuple[str, ...]
    media: tuple[str, ...]
    body: tuple[str, ...]
    drop: tuple[str, ...] = ()
    editor: tuple[str, ...] = ()


# Never part of what a reader reads, whatever the portal.
COMMON_DROP: tuple[str, ...] = (
    "script",
    "style",
    "noscript",
    "iframe",
    "object",
    "embed",
    "form",
    "button",
    "[style*='display:none']",
    "[style*='display: none']",
    "[hidden]",
)


@dataclass(slots=True)
class ArticlePage:
    title: str | None = None
    published_at: datetime | None = None
    media: str | None = None
    editor: str | None = None
    paragraphs: list[str] = field(default_factory=list)
    repeated: int = 0
    body_found: bool = False

    @property
    def text(self) -> str:
        return "\n".join(self.paragraphs)


def _first(selector: Selector | TextResponse, queries: tuple[str, ...]) -> str | None:
    for query in queries:
        for value in selector.css(query).getall():
            text = clean_text(value)
            if text:
                return text
    return None


def _first_time(selector: Selector | TextResponse, queries: tuple[str, ...]) -> datetime | None:
    for query in queries:
        for value in selector.css(query).getall():
            moment = parse_cn_datetime(value)
            if moment is not None:
                return moment
    return None


def extract_article(response: TextResponse, layout: ArticleLayout) -> ArticlePage:
    """The fields of one article page; the caller decides what a missing field means."""
    page = ArticlePage(
        title=_first(response, layout.title),
        published_at=_first_time(response, layout.published),
        media=_first(response, layout.media),
    )
    for query in layout.editor:
        page.editor = page.editor or next(filter(None, map(parse_editor, response.css(query).getall())), None)
    container = next(filter(None, (response.css(query) for query in layout.body)), None)
    if not container:
        return page
    page.body_found = True
    # A fresh tree for the body, so dropping nodes leaves the response as it came.
    body = Selector(text=container[0].get())
    for query in (*COMMON_DROP, *layout.drop):
        body.css(query).drop()
    blocks = body.css("p")
    raw = (
        ["".join(p.xpath(".//text()").getall()) for p in blocks]
        if blocks
        else body.xpath("//text()").getall()
    )
    paragraphs = []
    for text in map(clean_text, raw):
        if not text:
            continue
        editor = parse_editor(text)
        if editor is not None:
            page.editor = page.editor or editor
            continue
        paragraphs.append(text)
    page.paragraphs, page.repeated = dedupe_paragraphs(paragraphs)
    return page


@dataclass(frozen=True, slots=True)
class Listing:
    """What a list page said about an article; the article page wins where it says otherwise."""

    native_id: str
    url: str
    title: str | None = None
    published_at: datetime | None = None
    modified_at: datetime | None = None
    media: str | None = None
    intro: str | None = None
    comments: int = 0


# Config ----------------------------------------------------------------------------------------------------


def load_sources(directory: Path | None = None) -> SourcesFile:
    """Only `sources.yaml`: a crawl needs nothing else from the office config."""
    return load_file((directory or config_dir()) / "sources.yaml", SourcesFile)


def load_source_config(name: str, directory: Path | None = None) -> SourceConfig:
    sources = load_sources(directory)
    for source in sources.sources:
        if source.name == name:
            return source
    known = ", ".join(s.name for s in sources.sources) or "none"
    raise ConfigError(
        str((directory or config_dir()) / "sources.yaml"),
        "sources",
        f"no source named {name!r} (known: {known})",
    )


# The spider ------------------------------------------------------------------------------------------------


class NewsPortalSpider(scrapy.Spider):
    """Base of the portal spiders: `scrapy crawl <spider> -a source=<name in sources.yaml>`.

    Subclasses set `name`, `portal` (the `Source`) and `layout`, list articles in `start`/callbacks and call
    `article_post` on each article page. Problems are logged once with source, URL and reason, and counted
    as `yuqing/source/<source>/<reason>`; the crawl goes on. What went well is counted under
    `yuqing/crawl/<source>/`.
    """

    portal: ClassVar[Source]
    layout: ClassVar[ArticleLayout]

    def __init__(
        self, source: str | None = None, *, source_config: SourceConfig | None = None, **kwargs: Any
    ) -> None:
        super().__init__(**kwargs)
        self.source_config = source_config or load_source_config(source or self.name)
        if self.source_config.spider != self.name:
            raise ConfigError(
                "sources.yaml",
                f"{self.source_config.name}.spider",
                f"is {self.source_config.spider!r}, but this spider is {self.name!r}",
            )
        self.source_name = self.source_config.name
        self.start_urls = list(self.source_config.start_urls)
        self.state = SourceState.load(
            self.source_name, limit=int(self.source_config.options.get("state_limit", DEFAULT_LIMIT))
        )
        self.patrol_at = now()
        self.cutoff = self.patrol_at - timedelta(hours=self.source_config.max_age_hours)

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        spider._apply_source_settings(crawler)
        crawler.signals.connect(spider._save_state, signal=signals.spider_closed)
        return spider

    def _apply_source_settings(self, crawler: Crawler) -> None:
        if crawler.settings.frozen:
            return
        # Spider priority: a `-s` on the command line still wins.
        crawler.settings.set("DOWNLOAD_DELAY", self.source_config.download_delay, priority="spider")
        crawler.settings.set(
            "CONCURRENT_REQUESTS_PER_DOMAIN", self.source_config.concurrency, priority="spider"
        )

    def _save_state(self, spider: scrapy.Spider, reason: str) -> None:
        if spider is not self:
            return
        path = self.state.save()
        logger.info(
            "%s: state saved to %s (%d ids, newest %s, close reason %s)",
            self.source_name,
            path,
            len(self.state.seen),
            datetime.fromtimestamp(self.state.newest, SHANGHAI).isoformat() if self.state.newest else "-",
            reason,
        )

    def _inc(self, key: str) -> None:
        crawler = getattr(self, "crawler", None)
        if crawler is not None and crawler.stats is not None:
            crawler.stats.inc_value(key)

    def stat(self, key: str) -> None:
        """Count what a patrol did (`yuqing/crawl/<source>/<key>`): pages listed, items seen, posts made."""
        self._inc(f"yuqing/crawl/{self.source_name}/{key}")

    def count_problem(self, reason: str) -> None:
        self._inc(f"yuqing/source/{self.source_name}/{reason}")

    def problem(self, reason: str, url: str, detail: str, level: int = logging.WARNING) -> None:
        """One greppable line naming source, URL and what is wrong, counted as `yuqing/source/<source>/<reason>`."""
        self.logger.log(level, "%s: %s: %s: %s", self.source_name, reason, url, detail)
        self.count_problem(reason)

    def fetch_failed(self, failure: Any) -> None:
        """Errback for every request: a page that could not be fetched is a counted problem, not a traceback."""
        request = failure.request
        # Name the page the spider asked for, also when the replay middleware sent a stand-in.
        url = request.meta.get(ORIGINAL_URL, request.url)
        response = getattr(failure.value, "response", None)
        if response is not None:
            self.problem(f"http_{response.status}", url, f"HTTP {response.status}")
        else:
            self.problem("fetch_error", url, f"{failure.type.__name__}: {failure.getErrorMessage()}")

    def is_wanted(self, listing: Listing) -> bool:
        """New or changed since the last patrol, and young enough to matter."""
        if listing.published_at is not None and listing.published_at < self.cutoff:
            self.stat("too_old")
            return False
        version = int((listing.modified_at or listing.published_at or self.patrol_at).timestamp())
        if not self.state.is_new(listing.native_id, version):
            self.stat("seen")
            return False
        return True

    def article_post(self, response: TextResponse, listing: Listing) -> Post | None:
        """The `Post` for one article page, or None (counted) when the page has no body to read."""
        page = extract_article(response, self.layout)
        if not page.body_found:
            self.problem("no_body", response.url, f"none of {', '.join(self.layout.body)} on the page")
            return None
        if not page.paragraphs:
            self.problem("no_body", response.url, "the article container holds no text")
            return None
        if page.repeated:
            self.problem(
                "body_repeated", response.url, f"{page.repeated} repeated paragraphs dropped", logging.INFO
            )
        published = page.published_at or listing.published_at
        if (
            page.published_at
            and listing.published_at
            and abs(page.published_at - listing.published_at) < _MINUTE
        ):
            # Pages often print minutes only; the list's time is the same moment, to the second.
            published = listing.published_at
        if published is None:
            self.problem("no_time", response.url, "no publication time on the page or in the list")
            return None
        if page.published_at is None:
            self.problem("no_page_time", response.url, "publication time taken from the list", logging.INFO)
        media = page.media or listing.media
        post = Post(
            id=Post.make_id(self.portal, listing.native_id),
            source=self.portal,
            url=response.url,
            title=page.title or listing.title,
            text=page.text,
            published_at=published,
            crawled_at=now(),
            author=page.editor,
            author_kind=author_kind_of(media),
            media=media,
            counts=Counts(comments=listing.comments),
            raw_ref=response.url,
        )
        listed = listing.published_at or published
        self.state.remember(
            listing.native_id, int(listed.timestamp()), int((listing.modified_at or listed).timestamp())
        )
        self.stat("posts")
        return post
