"""Article extraction as one piece: decode the bytes, apply the site's rules, fall back to trafilatura.

`extract(html_bytes, url)` gives title, body text, publication time (Asia/Shanghai), source media and author
of any news page; `decode_html` finds the charset a page really uses when it declares another. `read_file` and
`fetch_url` read a page for `yuqing extract` under the crawls' size limit (DOWNLOAD_MAXSIZE).
"""

from __future__ import annotations

import codecs
import logging
import os
import re
import stat
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from parsel import Selector

from classifiers.text import clean_text
from config.errors import YuqingError
from config.models import ArticleSelectors, SiteRuleConfig
from config.settings import DOWNLOAD_MAXSIZE, DOWNLOAD_TIMEOUT
from spiders.parsing.fields import find_editor
from spiders.parsing.layouts import (
    NETEASE_LAYOUT,
    PEOPLE_LAYOUT,
    SINA_LAYOUT,
    SOHU_LAYOUT,
    ArticleLayout,
    ArticlePage,
    clean_media,
    extract_article,
    ifeng_article,
)
from spiders.parsing.reader import Reading, read_article
from spiders.parsing.selectors import read_with_rule
from spiders.parsing.times import parse_time

logger = logging.getLogger(__name__)


class ExtractError(YuqingError):
    """A page that cannot be read at all (no text anywhere); names the page and why."""

    def __init__(self, where: str, reason: str) -> None:
        super().__init__(f"{where}: {reason}")
        self.where = where
        self.reason = reason


# Reading a page under the size limit -------------------------------------------------------------------

_LIMIT_NAME = "config/settings.py 的 DOWNLOAD_MAXSIZE"


def _mib(size: int) -> str:
    return f"{size:,} 字节（{size / 1024 / 1024:.1f} MiB）"


def read_file(path: Path, limit: int = DOWNLOAD_MAXSIZE) -> bytes:
    """The bytes of a saved page; `ExtractError` for a file over `limit` (at most limit + 1 bytes are
    ever read, so a device or a pipe that never ends cannot fill the memory)."""
    where = str(path)
    try:
        with path.open("rb") as handle:
            status = os.fstat(handle.fileno())
            if stat.S_ISREG(status.st_mode) and status.st_size > limit:
                raise ExtractError(
                    where, f"文件大小 {_mib(status.st_size)}，超过上限 {_mib(limit)}（{_LIMIT_NAME}）"
                )
            body = handle.read(limit + 1)
    except OSError as exc:
        raise ExtractError(where, f"无法读取文件：{exc.strerror or exc}") from None
    if len(body) > limit:
        raise ExtractError(where, f"已读到 {_mib(limit)} 仍未结束，超过上限（{_LIMIT_NAME}）")
    return body


@dataclass(frozen=True, slots=True)
class Fetched:
    body: bytes
    url: str  # after redirects
    declared: str | None  # the charset the server states, if it states one


def fetch_url(url: str, limit: int = DOWNLOAD_MAXSIZE, seconds: float = DOWNLOAD_TIMEOUT * 2) -> Fetched:
    """A page over HTTP, streamed and stopped at `limit` bytes or after `seconds` in all, so an endless or
    trickling answer ends with `ExtractError` instead of exhausting the memory or the user's patience."""
    import requests  # imported here: most commands never fetch

    started = time.monotonic()
    try:
        with requests.get(
            url, timeout=(10, DOWNLOAD_TIMEOUT), headers={"User-Agent": "Mozilla/5.0 yuqing"}, stream=True
        ) as answer:
            if answer.status_code >= 400:
                raise ExtractError(url, f"无法下载：HTTP {answer.status_code} {answer.reason or ''}".rstrip())
            announced = answer.headers.get("Content-Length", "")
            if announced.isdigit() and int(announced) > limit:
                raise ExtractError(
                    url, f"服务器声明页面大小 {_mib(int(announced))}，超过上限 {_mib(limit)}（{_LIMIT_NAME}）"
                )
            chunks: list[bytes] = []
            received = 0
            for chunk in answer.iter_content(64 * 1024):
                received += len(chunk)
                if received > limit:
                    raise ExtractError(
                        url, f"已收到 {_mib(received)} 仍未结束，超过上限 {_mib(limit)}（{_LIMIT_NAME}）"
                    )
                if time.monotonic() - started > seconds:
                    raise ExtractError(url, f"下载超过 {seconds:.0f} 秒仍未完成（已收到 {received:,} 字节）")
                chunks.append(chunk)
            # Only a charset the server states; requests guesses ISO-8859-1 for any bare text/html.
            stated = "charset" in answer.headers.get("Content-Type", "").lower()
            return Fetched(b"".join(chunks), answer.url, answer.encoding if stated else None)
    except requests.RequestException as exc:
        raise ExtractError(url, f"无法下载：{exc}") from None


# Charsets ------------------------------------------------------------------------------------------------

# Pages labelled GB2312 or GBK routinely use characters only their supersets have (喆, 䶮); GB18030 reads all.
_GB_FAMILY = {
    "gb2312",
    "gbk",
    "gb18030",
    "xgbk",
    "cp936",
    "ms936",
    "windows936",
    "euccn",
    "gb231280",
    "csgb2312",
}
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-.:]+)""", re.IGNORECASE)
_BOMS = ((codecs.BOM_UTF8, "utf-8"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))


def normalise_charset(label: str | None) -> str | None:
    """A codec name Python knows for a charset label, GB2312/GBK read as GB18030; None when unknown."""
    if not label:
        return None
    label = label.strip().strip("\"'").lower()
    if re.sub(r"[^a-z0-9]", "", label) in _GB_FAMILY:
        return "gb18030"
    try:
        name = codecs.lookup(label).name
    except LookupError:
        return None
    return "gb18030" if name in ("gb2312", "gbk") else name


def meta_charset(body: bytes) -> str | None:
    """The charset a page's `<meta>` declares (looked for in the first 4 KiB, as browsers do)."""
    match = _META_CHARSET.search(body[:4096])
    return match.group(1).decode("ascii", "replace") if match else None


@dataclass(frozen=True, slots=True)
class Decoded:
    text: str
    encoding: str  # the codec used
    declared: str | None  # what the page or the server said, as written
    replaced: int = 0  # bytes that no candidate could read, shown as U+FFFD

    @property
    def mislabelled(self) -> bool:
        return self.declared is not None and normalise_charset(self.declared) != self.encoding


def _strict(body: bytes, encoding: str) -> str | None:
    try:
        return body.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


def decode_html(body: bytes, declared: str | None = None) -> Decoded:
    """The text of a page, whatever its label says.

    A byte-order mark wins. Otherwise bytes that are valid UTF-8 and not plain ASCII are UTF-8 whatever the
    label (GBK text practically never is valid UTF-8, while browser-saved pages keep their old `gb2312`
    meta over UTF-8 bytes). Then the declared charset (`declared`, else the page's meta), then GB18030 and
    UTF-8; when no candidate reads every byte, the one with the fewest replacement characters.
    """
    stated = declared or meta_charset(body)
    for bom, encoding in _BOMS:
        if body.startswith(bom):
            return Decoded(body[len(bom) :].decode(encoding, "replace"), encoding, stated)
    if not body.isascii():
        text = _strict(body, "utf-8")
        if text is not None:
            return Decoded(text, "utf-8", stated)
    candidates: list[str] = []
    for label in (declared, meta_charset(body), "gb18030", "utf-8"):
        name = normalise_charset(label)
        if name and name not in candidates:
            candidates.append(name)
    for name in candidates:
        text = _strict(body, name)
        if text is not None:
            return Decoded(text, name, stated)
    scored = []
    for name in candidates:
        text = body.decode(name, "replace")
        scored.append((text.count("\ufffd"), candidates.index(name), name, text))
    replaced, _, name, text = min(scored)
    return Decoded(text, name, stated, replaced=replaced)


# The generic extractor -----------------------------------------------------------------------------------

# Less than this is a stray notice or a footer line, not an article.
MIN_GENERIC_CHARS = 100

_GENERIC_TIME: tuple[str, ...] = (
    "meta[property='article:published_time']::attr(content)",
    "meta[name='publishdate']::attr(content)",
    "meta[name='PubDate']::attr(content)",
    "meta[itemprop='datePublished']::attr(content)",
    "meta[name='weibo: article:create_at']::attr(content)",
    "time::attr(datetime)",
)
_GENERIC_MEDIA: tuple[str, ...] = (
    "meta[name='source']::attr(content)",
    "meta[name='ContentSource']::attr(content)",
    "meta[property='og:site_name']::attr(content)",
    "meta[name='mediaid']::attr(content)",
)
# A time printed with its hour, as article headers print it; a date alone is a weaker guess.
_TIME_IN_TEXT = re.compile(
    r"\d{4}\s*年\s*\d{1,2}\s*月\s*\d{1,2}\s*日\s*\d{1,2}[:：]\d{2}|\d{4}-\d{1,2}-\d{1,2}\s+\d{1,2}:\d{2}(?::\d{2})?"
)
_SOURCE_IN_TEXT = re.compile(r"来源\s*[:：]\s*(?P<name>[^\s|｜<>]{2,30})")


def _media(selector: Selector, html: str) -> str | None:
    """Who published the page: its meta tags, or the "来源：" it prints."""
    media = next(
        filter(None, (clean_media(v) for q in _GENERIC_MEDIA for v in selector.css(q).getall())), None
    )
    if media is None:
        found = _SOURCE_IN_TEXT.search(clean_text(html_text(selector)))
        media = found.group("name") if found else None
    return media


def generic_article(html: str, url: str | None = None) -> ArticlePage:
    """What trafilatura finds in a page no site rule covers; `missing` says why when it finds no article."""
    import trafilatura  # imported here: loading it costs a second that most commands never need
    from trafilatura.settings import Document

    page = ArticlePage()
    document = trafilatura.bare_extraction(
        html, url=url, with_metadata=True, include_comments=False, include_tables=False, favor_precision=True
    )
    selector = Selector(text=html, type="html")
    page.published_at = next(
        filter(None, (parse_time(v) for q in _GENERIC_TIME for v in selector.css(q).getall())), None
    )
    if not isinstance(document, Document):  # None, or a dict had it been asked for one
        page.missing = "通用提取未找到正文"
        return page
    page.title = clean_text(document.title) or None
    visible = clean_text(html_text(selector))
    if page.published_at is None:
        printed = _TIME_IN_TEXT.search(visible)
        page.published_at = parse_time(printed.group(0) if printed else document.date)
    text = document.text or ""
    paragraphs = [line for line in map(clean_text, text.splitlines()) if line]
    if paragraphs and paragraphs[0] == page.title:
        # The headline repeated as the first line of the body.
        paragraphs = paragraphs[1:]
    page.media = _media(selector, html)
    page.editor = find_editor(document.author) or clean_text(document.author) or None
    page.paragraphs = paragraphs
    page.body_found = True
    if sum(len(p) for p in paragraphs) < MIN_GENERIC_CHARS:
        page.paragraphs = []
        page.missing = f"通用提取找到的正文不足 {MIN_GENERIC_CHARS} 字"
    return page


def generic_page(html: str, url: str | None = None) -> ArticlePage:
    """A page no rule could read: the generic reader's reading, or trafilatura's when the reader finds no
    body; `missing` gives both reasons when neither does."""
    reading = read_article(html, url)
    if reading.paragraphs:
        return ArticlePage(
            title=reading.title,
            published_at=reading.published_at,
            media=_media(Selector(text=html, type="html"), html),
            editor=reading.editor,
            paragraphs=reading.paragraphs,
            body_found=True,
        )
    page = generic_article(html, url)
    if not page.paragraphs:
        page.missing = f"通用读法：{reading.missing}；trafilatura：{page.missing}"
    return page


def fill_from_generic(page: ArticlePage, generic: ArticlePage) -> ArticlePage:
    """The generic extractor's body with what the site rule did read (title, time, media, editor) kept."""
    generic.title = page.title or generic.title
    generic.published_at = page.published_at or generic.published_at
    generic.media = page.media or generic.media
    generic.editor = page.editor or generic.editor
    return generic


def html_text(selector: Selector) -> str:
    """The visible text of the page body, scripts and styles left out."""
    return " ".join(selector.xpath("//body//text()[not(ancestor::script) and not(ancestor::style)]").getall())


# Site rules ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SiteRule:
    name: str
    hosts: tuple[str, ...]  # the host or any of its subdomains
    read: Callable[[str, Selector], ArticlePage]

    def covers(self, host: str) -> bool:
        return any(host == h or host.endswith(f".{h}") for h in self.hosts)


def _with_layout(layout: ArticleLayout) -> Callable[[str, Selector], ArticlePage]:
    def read(html: str, selector: Selector) -> ArticlePage:
        return extract_article(selector, layout)

    return read


SITE_RULES: tuple[SiteRule, ...] = (
    SiteRule("sina", ("sina.com.cn", "sina.cn"), _with_layout(SINA_LAYOUT)),
    SiteRule("people", ("people.com.cn", "people.cn"), _with_layout(PEOPLE_LAYOUT)),
    SiteRule("netease", ("163.com",), _with_layout(NETEASE_LAYOUT)),
    SiteRule("sohu", ("sohu.com",), _with_layout(SOHU_LAYOUT)),
    SiteRule("ifeng", ("ifeng.com",), lambda html, selector: ifeng_article(html)),
)

_PAGE_URL: tuple[str, ...] = (
    "link[rel='canonical']::attr(href)",
    "meta[property='og:url']::attr(content)",
    "meta[name='mobile-agent']::attr(content)",
)


# Browsers note where a saved page came from: `<!-- saved from url=(0061)http://... -->`.
_SAVED_FROM = re.compile(r"<!--\s*saved from url=\(\d+\)(?P<url>https?://[^\s>]+)\s*-->", re.IGNORECASE)


def page_url(selector: Selector, html: str = "") -> str | None:
    """The address a page gives for itself (canonical link, og:url, a browser's "saved from" note), for
    pages read from a file."""
    saved = _SAVED_FROM.search(html[:2000])
    if saved:
        return saved.group("url")
    for query in _PAGE_URL:
        for value in selector.css(query).getall():
            found = re.search(r"https?://\S+", value) or re.match(r"//\S+", value)
            if found:
                url = found.group(0)
                return f"https:{url}" if url.startswith("//") else url
    return None


def site_rule_for(url: str | None) -> SiteRule | None:
    host = (urlsplit(url).hostname or "").lower() if url else ""
    return next((rule for rule in SITE_RULES if host and rule.covers(host)), None)


# The one entry point -------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Extracted:
    title: str | None
    text: str
    published_at: datetime | None
    media: str | None
    author: str | None
    url: str | None = None
    encoding: str | None = None
    declared_charset: str | None = None
    extractor: str = "reader"  # "site:<name>" when a site rule read the page, "trafilatura" for the fallback
    notes: tuple[str, ...] = ()
    how: dict[str, str] = field(default_factory=dict)  # how each field was found, in words

    def to_dict(self) -> dict[str, Any]:
        return {
            "url": self.url,
            "title": self.title,
            "text": self.text,
            "published_at": self.published_at.isoformat() if self.published_at else None,
            "media": self.media,
            "author": self.author,
            "encoding": self.encoding,
            "declared_charset": self.declared_charset,
            "extractor": self.extractor,
            "how": self.how,
            "notes": list(self.notes),
        }


def _decoded(
    html: bytes | str, declared_charset: str | None, notes: list[str]
) -> tuple[str, str | None, str | None]:
    if not isinstance(html, bytes):
        return html, None, declared_charset
    decoded = decode_html(html, declared_charset)
    if decoded.mislabelled:
        notes.append(f"网页声明的编码是 {decoded.declared}，实际是 {decoded.encoding}（已按实际编码读取）")
    if decoded.replaced:
        notes.append(f"有 {decoded.replaced} 个字节用任何候选编码都无法解码（已替换）")
    return decoded.text, decoded.encoding, decoded.declared


def configured_rule_for(url: str | None, rules: Sequence[SiteRuleConfig]) -> SiteRuleConfig | None:
    """The office's own rule (sources.yaml `site_rules`) for the host of `url`."""
    host = (urlsplit(url).hostname or "").lower() if url else ""
    return next((rule for rule in rules if host and rule.covers(host)), None)


def _fill_title_and_time(
    page: ArticlePage, found: ArticlePage | Reading, how: dict[str, str], found_how: dict[str, str]
) -> None:
    """The title and time `page` lacks, taken from what another reader `found`, with how it found them."""
    for key, attribute in (("title", "title"), ("time", "published_at")):
        if getattr(page, attribute) is None and getattr(found, attribute) is not None:
            setattr(page, attribute, getattr(found, attribute))
            how[key] = found_how[key]


def extract(
    html: bytes | str,
    url: str | None = None,
    declared_charset: str | None = None,
    *,
    rules: Sequence[SiteRuleConfig] = (),
    rule: SiteRuleConfig | ArticleSelectors | None = None,
    rule_name: str | None = None,
) -> Extracted:
    """Title, text, time, media and author of one page, and how each was found.

    An office's own rule (`rules`, from sources.yaml, by the page's host; or `rule`, named `rule_name`,
    whatever the host) goes first, then the built-in portal rules, then the generic reader (the headline
    nearest the body, the time printed nearest the headline, the densest block), then trafilatura. What a
    rule does not find, the reader fills, and `notes` says so. Raises `ExtractError` when nothing finds any
    text.
    """
    notes: list[str] = []
    text, encoding, declared = _decoded(html, declared_charset, notes)
    selector = Selector(text=text, type="html")
    where = url or page_url(selector, text)
    how: dict[str, str] = {}
    page = ArticlePage()
    extractor = "reader"
    office_rule = rule or configured_rule_for(where, rules)
    if office_rule is not None:
        name = rule_name or getattr(office_rule, "name", "") or "?"
        found = read_with_rule(selector, office_rule, name)
        page = ArticlePage(
            title=found.title,
            published_at=found.published_at,
            editor=found.author or found.editor,
            paragraphs=found.paragraphs,
        )
        how.update(found.how)
        for failure in found.failed.values():
            notes.append(f"网站规则 {name}：{failure}，已改用通用读法")
        if found.paragraphs:
            extractor = f"site:{name}"
    else:
        builtin = site_rule_for(where)
        if builtin is not None:
            page = builtin.read(text, selector)
            if page.paragraphs:
                extractor = f"site:{builtin.name}"
                how = {
                    key: f"内置网站规则 {builtin.name}"
                    for key, value in (
                        ("title", page.title),
                        ("time", page.published_at),
                        ("body", page.paragraphs),
                    )
                    if value
                }
            else:
                notes.append(f"{builtin.name} 网站规则未找到正文（{page.missing}），已改用通用读法")
                logger.warning("%s: %s rule found no body: %s", where or "page", builtin.name, page.missing)
    if not (page.paragraphs and page.title and page.published_at):
        reading = read_article(text, where)
        if not page.paragraphs and reading.paragraphs:
            page.paragraphs = reading.paragraphs
            page.editor = page.editor or reading.editor
            how["body"] = reading.how["body"]
        _fill_title_and_time(page, reading, how, reading.how)
        if not page.paragraphs:
            generic = generic_article(text, where)
            if not generic.paragraphs:
                raise ExtractError(where or "网页", generic.missing or reading.missing or "没有正文")
            notes.append(f"通用读法未找到正文（{reading.missing}），已改用 trafilatura")
            page.paragraphs = generic.paragraphs
            how["body"] = "trafilatura"
            extractor = "trafilatura"
            _fill_title_and_time(page, generic, how, {"title": "trafilatura", "time": "trafilatura"})
            page.editor = page.editor or generic.editor
            page.media = page.media or generic.media
    if page.title and page.paragraphs and clean_text(page.paragraphs[0]) == clean_text(page.title):
        page.paragraphs = page.paragraphs[1:]  # the headline repeated as the body's first line
    page.media = page.media or _media(selector, text)
    how = {key: how[key] for key in ("title", "time", "author", "body") if key in how}
    return Extracted(
        title=page.title,
        text=page.text,
        published_at=page.published_at,
        media=page.media,
        author=page.editor,
        url=where,
        encoding=encoding,
        declared_charset=declared,
        extractor=extractor,
        notes=tuple(notes),
        how=how,
    )
