"""Where each portal's article template keeps title, time, media, editor and body, and how to read them.

`extract_article` applies an `ArticleLayout` (CSS selectors, first hit wins) to a page; 凤凰网 pages are read
from the `var allData = {...}` JSON they embed instead of their hashed class names. Spiders and
`spiders.parsing.extract` share these rules, so a template change is fixed in one place.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from parsel import Selector

from classifiers.text import clean_text
from spiders.parsing.fields import dedupe_paragraphs, find_editor, split_editor
from spiders.parsing.times import parse_time


class Selectable(Protocol):
    """A parsel `Selector` or a Scrapy `TextResponse`: anything with `.css`."""

    def css(self, query: str) -> Any: ...


@dataclass(frozen=True, slots=True)
class ArticleLayout:
    """Where a portal's article template keeps each field; every list is tried in order, first hit wins.

    `editor` queries ending in `::text` read that text; any other query reads all the text of each element.
    """

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
    # Why no body was found, in words a log reader can act on.
    missing: str | None = None

    @property
    def text(self) -> str:
        return "\n".join(self.paragraphs)


_SOURCE_PREFIX = re.compile(r"^(?:本文)?来源\s*[:：]\s*")


def clean_media(value: str | None) -> str | None:
    """The media name without its "来源：" label; None when empty."""
    name = _SOURCE_PREFIX.sub("", clean_text(value))
    return name or None


def _first(selector: Selectable, queries: tuple[str, ...]) -> str | None:
    for query in queries:
        for value in selector.css(query).getall():
            text = clean_text(value)
            if text:
                return text
    return None


def _first_time(selector: Selectable, queries: tuple[str, ...]) -> datetime | None:
    for query in queries:
        for value in selector.css(query).getall():
            moment = parse_time(value)
            if moment is not None:
                return moment
    return None


def _editor(selector: Selectable, queries: tuple[str, ...]) -> str | None:
    for query in queries:
        if query.endswith("::text"):
            texts = selector.css(query).getall()
        else:
            texts = [" ".join(element.xpath(".//text()").getall()) for element in selector.css(query)]
        for text in texts:
            name = find_editor(text)
            if name:
                return name
    return None


def paragraphs_of(html: str, drop: tuple[str, ...] = ()) -> list[str]:
    """The readable paragraphs of an HTML fragment: `<p>` blocks, or its text lines when it has none."""
    body = Selector(text=html, type="html")
    for query in (*COMMON_DROP, *drop):
        body.css(query).drop()
    blocks = body.css("p")
    raw = (
        ["".join(p.xpath(".//text()").getall()) for p in blocks]
        if blocks
        else body.xpath("//body//text()").getall()
    )
    return [text for text in map(clean_text, raw) if text]


def _fill_body(page: ArticlePage, paragraphs: list[str]) -> ArticlePage:
    kept, editor = split_editor(paragraphs)
    page.editor = page.editor or editor
    page.paragraphs, page.repeated = dedupe_paragraphs(kept)
    if not page.paragraphs:
        page.missing = "正文区域里没有文字"
    return page


def extract_article(selector: Selectable, layout: ArticleLayout) -> ArticlePage:
    """The fields of one article page; the caller decides what a missing field means."""
    page = ArticlePage(
        title=_first(selector, layout.title),
        published_at=_first_time(selector, layout.published),
        media=clean_media(_first(selector, layout.media)),
        editor=_editor(selector, layout.editor),
    )
    container = next(filter(None, (selector.css(query) for query in layout.body)), None)
    if not container:
        page.missing = f"页面上没有 {'、'.join(layout.body)} 中的任何一个"
        return page
    page.body_found = True
    # A fresh tree for the body, so dropping nodes leaves the page as it came.
    return _fill_body(page, paragraphs_of(container[0].get(), layout.drop))


# 新浪 ------------------------------------------------------------------------------------------------------

SINA_LAYOUT = ArticleLayout(
    title=(
        "h1.main-title::text",
        "h1#artibodyTitle::text",
        "meta[property='og:title']::attr(content)",
    ),
    published=(
        "meta[property='article:published_time']::attr(content)",
        ".date-source span.date::text",
        "#navtimeSource::text",
        ".time-source::text",
        "#pub_date::text",
        "meta[name='weibo: article:create_at']::attr(content)",
    ),
    media=(
        ".date-source a.source::text",
        ".date-source .source::text",
        ".time-source [data-sudaclick='media_name'] a::text",
        ".time-source [data-sudaclick='media_name']::text",
        "#media_name a::text",
        "#media_name::text",
        "meta[property='article:author']::attr(content)",
        "meta[name='mediaid']::attr(content)",
    ),
    body=("div#article", "div#artibody"),
    drop=(
        ".img_wrapper",
        ".ct_hqimg",
        ".appendQr_wrap",
        ".app-kaihu-qr",
        "#left_hzh_ad",
        ".tech-quotation",
        ".article-notice",
        ".show_statement",
        "ins.sinaads",
        "[id^='ad_']",
        "p.show_author",
    ),
    editor=("#article p.show_author::text", ".show_author::text", ".article-editor::text"),
)

# 人民网 ----------------------------------------------------------------------------------------------------
# Two templates are live: the older `div.text_title` + `div.box01 div.fl` + `div#rwb_zw`, and the newer
# `div.rm_txt` + `div.col-1-1` + `div.rm_txt_con`. Both print "2026年11月23日08:18 | 来源：<a>…</a>".

PEOPLE_LAYOUT = ArticleLayout(
    title=(
        "div.text_title h1::text",
        "div.rm_txt h1::text",
        "h1::text",
        "meta[name='title']::attr(content)",
    ),
    published=(
        "div.box01 div.fl::text",
        "div.rm_txt div.col-1-1::text",
        "meta[name='publishdate']::attr(content)",
    ),
    media=(
        "div.box01 div.fl a::text",
        "div.rm_txt div.col-1-1 a::text",
        "meta[name='source']::attr(content)",
    ),
    body=("div#rwb_zw", "div.rm_txt_con"),
    drop=("div.edit", "div.box_pic", "div.otitle", "div.zdfy", "center", "div.paper_num"),
    editor=("div.edit", "div.box_con div.edit"),
)

# 网易 ------------------------------------------------------------------------------------------------------
# The 2020+ template (`www.163.com/<channel>/article/<ID>.html`) and the older `news.163.com/<yy>/<mmdd>/..`
# one (`.post_time_source`, `#ne_article_source`, `#endText`).

NETEASE_LAYOUT = ArticleLayout(
    title=(
        "h1.post_title::text",
        "div.post_content_main h1::text",
        "meta[property='og:title']::attr(content)",
    ),
    published=(
        "html::attr(data-publishtime)",
        "meta[property='article:published_time']::attr(content)",
        "div.post_info::text",
        "div.post_time_source::text",
    ),
    media=(
        "div.post_info a:not(.post_jubao)::text",
        "#ne_article_source::text",
        "div.post_time_source a::text",
    ),
    body=("div.post_body", "div#endText"),
    drop=("div.post_top", ".post_ad", "div.gg200x300", "div.ep-source"),
    editor=("div.post_author", "span.ep-editor::text"),
)

# 搜狐 ------------------------------------------------------------------------------------------------------

SOHU_LAYOUT = ArticleLayout(
    title=(
        "div.text-title h1::text",
        "div.article-box h1::text",
        "h1::text",
        "meta[property='og:title']::attr(content)",
    ),
    published=(
        "span#news-time::text",
        "div.article-info span.time::text",
        "meta[itemprop='datePublished']::attr(content)",
        "meta[property='og:release_date']::attr(content)",
    ),
    media=(
        "div#user-info h4 a::text",
        "div.user-info h4 a::text",
        "meta[name='mediaid']::attr(content)",
    ),
    body=("article#mp-editor", "article.article"),
    drop=("#backsohucom", "p[data-role='editor-name']", "div.lookall-box", "p.ql-align-center img"),
    editor=("p[data-role='editor-name']",),
)

# 凤凰网 ----------------------------------------------------------------------------------------------------
# Article pages are rendered from `var allData = {...};` (docData: title, newsTime, source, author,
# editorName, contentData.contentList[{type, data}]); the visible markup uses hashed class names that change
# with every build, so the JSON is what to read. Column pages embed the same object with `newsstream`.

_ALL_DATA = re.compile(r"var\s+allData\s*=\s*")


class AllDataError(ValueError):
    """A page whose `var allData` is missing or not JSON; `reason` is the counted key."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def parse_all_data(html: str) -> dict[str, Any]:
    """The `var allData = {...}` object of a 凤凰网 page."""
    match = _ALL_DATA.search(html)
    if match is None:
        raise AllDataError("no_all_data", "页面上没有 var allData = 脚本")
    try:
        data, _ = json.JSONDecoder().raw_decode(html, match.end())
    except ValueError as exc:
        raise AllDataError("bad_json", f"var allData 不是有效的 JSON（{exc}）") from None
    if not isinstance(data, dict):
        raise AllDataError("bad_json", f"var allData 是 {type(data).__name__}，不是对象")
    return data


def _content_list(doc: dict[str, Any]) -> list[Any] | None:
    content = doc.get("contentData")
    if not isinstance(content, dict):
        return None
    items = content.get("contentList")
    if isinstance(items, str):
        # Older builds store the list as a JSON string inside the JSON.
        try:
            items = json.loads(items)
        except ValueError:
            return None
    return items if isinstance(items, list) else None


def ifeng_article(html: str) -> ArticlePage:
    """The fields of a 凤凰网 article page, from its embedded `allData.docData`."""
    try:
        data = parse_all_data(html)
    except AllDataError as exc:
        return ArticlePage(missing=exc.detail)
    doc = data.get("docData")
    if not isinstance(doc, dict):
        return ArticlePage(missing="allData 里没有 docData")
    author = clean_text(doc.get("author"))
    page = ArticlePage(
        title=clean_text(doc.get("title")) or None,
        published_at=parse_time(doc.get("newsTime") or doc.get("createTime")),
        # Originals leave `source` empty: the site itself is the media.
        media=clean_media(doc.get("source")) or "凤凰网",
        editor=author or clean_text(doc.get("editorName")) or None,
    )
    items = _content_list(doc)
    if items is None:
        page.missing = "allData.docData 里没有 contentData.contentList"
        return page
    page.body_found = True
    paragraphs: list[str] = []
    for item in items:
        if isinstance(item, dict) and item.get("type") == "text" and isinstance(item.get("data"), str):
            paragraphs.extend(paragraphs_of(item["data"]))
    return _fill_body(page, paragraphs)
