"""微信公众号 articles as the 搜狗 WeChat search front end lists them, read into plain data and `Post`s,
and its antispider page. Plain functions on decoded text, testable on recordings without a crawler.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote, urljoin, urlsplit

from parsel import Selector

from classifiers.text import clean_text
from pipeline.items import Post, Source
from spiders.base.community import PageError
from spiders.base.news_portal import author_kind_of
from spiders.parsing.times import parse_time

SOGOU_WEIXIN = "https://weixin.sogou.com"
LAYOUT = "layout_changed"


def search_url(query: str, page: int = 1, base: str = SOGOU_WEIXIN) -> str:
    url = f"{base}/weixin?type=2&query={quote(query)}&ie=utf8"
    return url if page == 1 else f"{url}&page={page}"


def is_antispider_page(url: str, text: str) -> bool:
    """Sogou's verification instead of results: a redirect to `/antispider/?from=..`, or its captcha form
    (`#seccodeForm`, `#seccodeImage`) wherever it is served."""
    if urlsplit(url).path.startswith("/antispider"):
        return True
    page = Selector(text=text[:50000], type="html")
    return bool(page.css("#seccodeForm, #seccodeImage"))


@dataclass(frozen=True, slots=True)
class Article:
    """One search result: a 公众号 article as the result list shows it."""

    doc_id: str
    title: str
    summary: str
    account: str | None
    published_at: datetime | None
    link: str


@dataclass(slots=True)
class ResultPage:
    articles: list[Article]
    no_results: bool
    has_next: bool
    bad_entries: list[str]


_TIME_CONVERT = re.compile(r"timeConvert\(\s*'?(\d{9,11})'?\s*\)")
_NO_RESULTS = ("暂无与", "没有找到相关的微信公众号文章", "没有找到相关")


def parse_result_page(html: str, base: str = SOGOU_WEIXIN) -> ResultPage:
    """One page of article results; a page saying nothing was found is not an error.

    `weixin.sogou.com/weixin?type=2&query=<词>&ie=utf8[&page=N]`: `ul.news-list > li` with `d` (Sogou's
    document id), `div.txt-box h3 a` (title; href `/link?url=..`, a redirect to mp.weixin.qq.com),
    `p.txt-info` (summary), `div.s-p` (attribute `t`, unix seconds) with the account (`span.all-time-y2`,
    formerly `a.account`) and `span.s2 > script` `document.write(timeConvert('<unix seconds>'))`;
    `a#sogou_next` while there are more pages.
    """
    tree = Selector(text=html, type="html")
    items = tree.css("ul.news-list > li")
    articles: list[Article] = []
    bad: list[str] = []
    for position, item in enumerate(items):
        link = item.css("div.txt-box h3 a")
        title = clean_text("".join(link.css("::text").getall())) if link else ""
        href = link.attrib.get("href", "") if link else ""
        if not title or not href:
            bad.append(f"li[{position}]: no title or link in div.txt-box h3 a")
            continue
        meta = item.css("div.s-p")
        script = " ".join(meta.css("script::text").getall())
        stamp = _TIME_CONVERT.search(script)
        published = parse_time(stamp.group(1) if stamp else meta.attrib.get("t") if meta else None)
        account = clean_text(
            " ".join(meta.css("span.all-time-y2::text").getall() or meta.css("a.account::text").getall())
        )
        doc_id = (
            item.attrib.get("d") or hashlib.blake2b(f"{account}|{title}".encode(), digest_size=10).hexdigest()
        )
        articles.append(
            Article(
                doc_id=doc_id,
                title=title,
                summary=clean_text("".join(item.css("p.txt-info ::text").getall())),
                account=account or None,
                published_at=published,
                link=urljoin(base + "/", href),
            )
        )
    text = " ".join(tree.css("body ::text").getall())
    no_results = not items and any(marker in text for marker in _NO_RESULTS)
    if not items and not no_results:
        raise PageError(LAYOUT, "页面上没有结果列表 ul.news-list，也没有“暂无”提示")
    return ResultPage(
        articles=articles, no_results=no_results, has_next=bool(tree.css("a#sogou_next")), bad_entries=bad
    )


def article_post(article: Article, crawled_at: datetime, raw_ref: str) -> Post | None:
    """The article as a `Post`, id `weixin:<Sogou document id>`; its text is the summary the list shows."""
    if article.published_at is None:
        return None
    return Post(
        id=Post.make_id(Source.WEIXIN, article.doc_id),
        source=Source.WEIXIN,
        url=article.link,
        title=article.title,
        text=article.summary,
        published_at=article.published_at,
        crawled_at=crawled_at,
        author=article.account,
        author_kind=author_kind_of(article.account),
        media=article.account,
        raw_ref=raw_ref,
    )
