"""搜狐 channel feeds and article pages.

Feed: `v2.sohu.com/public-api/feed?scene=CHANNEL&sceneId=<channel>&page=N&size=M` answers a JSON list of
`{id, authorId, authorName, title, mobileTitle, picUrl, images, publicTime (ms), tags, type, ..}`, newest
first; the article is `https://www.sohu.com/a/<id>_<authorId>`. Article pages: `div.text-title h1`,
`span#news-time`, the account in `#user-info h4 a`, body `article#mp-editor` ending with "返回搜狐，查看更多"
and a 责任编辑 line.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from scrapy.http import TextResponse

from pipeline.items import Source
from spiders.base.listing import ListError, ListPage, RollingListSpider, load_json
from spiders.base.news_portal import Listing, clean_text, parse_time
from spiders.parsing.layouts import SOHU_LAYOUT


def with_page(url: str, page: int) -> str:
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    if any(key == "page" for key, _ in query):
        query = [(key, str(page) if key == "page" else value) for key, value in query]
    else:
        query.append(("page", str(page)))
    return urlunsplit(parts._replace(query=urlencode(query)))


def article_url(entry: dict[str, Any]) -> str:
    return f"https://www.sohu.com/a/{entry['id']}_{entry['authorId']}"


def parse_feed(body: bytes) -> tuple[list[Any], list[Listing], list[tuple[str, ListError]]]:
    entries = load_json(body)
    if isinstance(entries, dict):
        # An error answer is an object: `{"code": .., "msg": ..}`.
        raise ListError("api_status", f"expected a list, got {str(entries)[:120]}")
    if not isinstance(entries, list):
        raise ListError("bad_json", f"expected a list, got {type(entries).__name__}")
    listings, errors = [], []
    for position, entry in enumerate(entries):
        try:
            listings.append(parse_feed_entry(entry))
        except ListError as exc:
            errors.append((f"[{position}]", exc))
    return entries, listings, errors


def parse_feed_entry(entry: Any) -> Listing:
    if not isinstance(entry, dict):
        raise ListError("bad_entry", f"条目是 {type(entry).__name__}，不是对象")
    if not str(entry.get("id") or "").isdigit() or not str(entry.get("authorId") or "").isdigit():
        raise ListError("bad_entry", f"{entry.get('title')!r} has no id/authorId")
    published = parse_time(entry.get("publicTime"))
    if published is None:
        raise ListError("bad_entry", f"id {entry['id']} has no usable publicTime")
    return Listing(
        native_id=str(entry["id"]),
        url=article_url(entry),
        title=clean_text(entry.get("title")) or None,
        published_at=published,
        media=clean_text(entry.get("authorName")) or None,
    )


class SohuNewsSpider(RollingListSpider):
    name = "sohu_news"
    portal = Source.SOHU
    layout = SOHU_LAYOUT

    def read_list(self, response: TextResponse, page: int) -> ListPage:
        entries, listings, errors = parse_feed(response.body)
        return ListPage(
            listings=listings,
            errors=errors,
            entries=len(entries),
            next_request=self.list_request(with_page(response.url, page + 1), page + 1) if entries else None,
        )
