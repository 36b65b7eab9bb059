"""Reading a page with the selectors an office writes in `sources.yaml`: a generic source's list and article
selectors, and the `site_rules` for its own sites. CSS, or XPath when the query starts like a path.

`read_with_rule(page, rule)` applies a rule's title, time, author, body and drop selectors to an article
page and says, field by field, which selector found it, or that none did.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from parsel import Selector, SelectorList
from scrapy.http import TextResponse

from classifiers.text import clean_text
from config.models import ArticleSelectors, SiteRuleConfig
from spiders.parsing.fields import split_editor
from spiders.parsing.times import parse_time


def select(node: Selector | TextResponse, query: str) -> SelectorList:
    """CSS, or XPath when the query starts like a path (as the configuration checked it)."""
    if query.startswith(("/", "(", "./", "../")):
        return node.xpath(query)
    return node.css(query)


def _text_of(found: Selector) -> str:
    # A ::text or ::attr() query yields strings; an element query yields the element, read as its text.
    if isinstance(found.root, str):
        return found.root
    return "".join(found.xpath(".//text()").getall())


def first_found(node: Selector | TextResponse, queries: tuple[str, ...]) -> tuple[str | None, str | None]:
    """The text the first query that finds any gives (every node it finds, joined), and that query."""
    for query in queries:
        text = clean_text(" ".join(_text_of(found) for found in select(node, query)))
        if text:
            return text, query
    return None, None


def first_text(node: Selector | TextResponse, queries: tuple[str, ...]) -> str | None:
    """The text of the first query that finds any; every node it finds, joined."""
    return first_found(node, queries)[0]


def body_paragraphs(
    node: Selector | TextResponse, body: tuple[str, ...], drop: tuple[str, ...]
) -> tuple[list[str], str | None]:
    """The paragraphs of the first body selector that finds an element, with what `drop` names taken out,
    and that selector; ([], None) when none finds one."""
    for query in body:
        container = select(node, query)
        if not container:
            continue
        # A fresh tree, so dropping nodes leaves the page as it came.
        tree = Selector(text=container[0].get())
        for dropped in ("script", "style", *drop):
            for found in select(tree, dropped):
                found.drop()
        blocks = tree.css("p")
        raw = (
            ["".join(p.xpath(".//text()").getall()) for p in blocks]
            if blocks
            else tree.xpath("//text()").getall()
        )
        return [text for text in map(clean_text, raw) if text], query
    return [], None


@dataclass(slots=True)
class RuleReading:
    """What a site rule found; `how` names the selector of each field, `failed` the fields it did not find."""

    rule: str
    title: str | None = None
    published_at: datetime | None = None
    author: str | None = None
    editor: str | None = None
    paragraphs: list[str] = field(default_factory=list)
    how: dict[str, str] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)


_FIELD_NAMES = {"title": "标题", "time": "时间", "author": "作者", "body": "正文"}


def read_with_rule(
    page: Selector | TextResponse,
    rule: SiteRuleConfig | ArticleSelectors,
    name: str,
    now: datetime | None = None,
    formats: tuple[str, ...] = (),
) -> RuleReading:
    """The fields `rule` (a site rule, or a generic source's article selectors) finds in `page`."""
    reading = RuleReading(name)
    times = rule.time if isinstance(rule, SiteRuleConfig) else rule.date
    formats = tuple(rule.date_formats) if isinstance(rule, SiteRuleConfig) else formats
    for key, queries in (("title", rule.title), ("author", rule.author)):
        if not queries:
            continue
        text, query = first_found(page, queries)
        if text is None:
            reading.failed[key] = f"{_FIELD_NAMES[key]}选择器 {'、'.join(queries)} 都没有找到文字"
            continue
        setattr(reading, key, text)
        reading.how[key] = f"网站规则 {name} 的{_FIELD_NAMES[key]}选择器 {query}"
    if times:
        stamp, query = first_found(page, times)
        moment = parse_time(stamp, now, formats) if stamp else None
        if moment is None or stamp is None:
            found = f"找到「{stamp[:40]}」但读不出时间" if stamp else "都没有找到文字"
            reading.failed["time"] = f"时间选择器 {'、'.join(times)} {found}"
        else:
            reading.published_at = moment
            reading.how["time"] = f"网站规则 {name} 的时间选择器 {query}（「{stamp[:40]}」）"
    paragraphs, query = body_paragraphs(page, rule.body, rule.drop)
    kept, reading.editor = split_editor(paragraphs)
    if not kept:
        where = f"{query} 里没有文字" if query else f"{'、'.join(rule.body)} 都没有找到元素"
        reading.failed["body"] = f"正文选择器 {where}"
    else:
        reading.paragraphs = kept
        chars = sum(len(text) for text in kept)
        reading.how["body"] = f"网站规则 {name} 的正文选择器 {query}（{len(kept)} 段，{chars} 字）"
    return reading
