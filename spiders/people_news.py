"""人民网 rolling news, and its keyword search where a source asks for one.

Rolling list: `news.people.com.cn/210801/211150/index.js?_=<ms>` answers `{"items": [{id, title, url, date},
..]}`, newest first, one page. Search: POST JSON `{key, page, limit, hasTitle, hasContent, isFuzzy, type,
sortType, startTime, endTime}` to `search.people.cn/search-platform/front/search`, answering `{"code": "0",
"data": {"records": [{title, url, displayTime, content, belongsName}], "pages", "total"}}`. Article pages
declare GB2312 and are GBK: `h1`, "2026年11月23日08:18 | 来源：<a>…</a>" in `div.box01 div.fl` (or
`div.col-1-1`), body `div#rwb_zw` or `div.rm_txt_con`, editor `div.edit`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import scrapy
from scrapy.http import TextResponse

from pipeline.items import Source
from spiders.base.listing import ListError, ListPage, RollingListSpider, load_json
from spiders.base.news_portal import Listing, clean_text, parse_time
from spiders.parsing.fields import object_at
from spiders.parsing.layouts import PEOPLE_LAYOUT

SEARCH_API = "http://search.people.cn/search-platform/front/search"
SEARCH_ROWS = 10

# Article addresses end in `c<node>-<content id>.html`; the content id names the article on every channel.
_CONTENT_ID = re.compile(r"/c\d+-(\d+)\.html")
_TAGS = re.compile(r"<[^>]+>")


def content_id_of(url: str, fallback: Any = None) -> str | None:
    match = _CONTENT_ID.search(url)
    if match:
        return match.group(1)
    value = clean_text(str(fallback)) if fallback not in (None, "") else ""
    return value or None


def with_cache_buster(url: str, moment: datetime) -> str:
    """The rolling URL with `_=<ms>` as the site's own page adds it, from the patrol clock."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "_"]
    query.append(("_", str(int(moment.timestamp() * 1000))))
    return urlunsplit(parts._replace(query=urlencode(query)))


def parse_rolling(body: bytes) -> tuple[list[Any], list[Listing], list[tuple[str, ListError]]]:
    data = load_json(body)
    items = data.get("items") if isinstance(data, dict) else None
    if not isinstance(items, list):
        raise ListError("bad_json", "no `items` list")
    listings, errors = [], []
    for position, item in enumerate(items):
        try:
            listings.append(parse_rolling_item(item))
        except ListError as exc:
            errors.append((f"items[{position}]", exc))
    return items, listings, errors


def parse_rolling_item(item: Any) -> Listing:
    if not isinstance(item, dict):
        raise ListError("bad_entry", f"条目是 {type(item).__name__}，不是对象")
    url = clean_text(item.get("url"))
    if not url.startswith(("http://", "https://")):
        raise ListError("bad_entry", f"id {item.get('id')!r} has no article URL ({url!r})")
    native_id = content_id_of(url, item.get("id"))
    if native_id is None:
        raise ListError("bad_entry", f"{url} has no content id")
    published = parse_time(item.get("date"))
    if published is None:
        raise ListError("bad_entry", f"{url} has no usable date ({item.get('date')!r})")
    return Listing(
        native_id=native_id, url=url, title=clean_text(item.get("title")) or None, published_at=published
    )


def search_body(keyword: str, page: int, start: datetime, end: datetime) -> str:
    """The search API's JSON body, keys in the order the site's own page sends them."""
    return json.dumps(
        {
            "key": keyword,
            "page": page,
            "limit": SEARCH_ROWS,
            "hasTitle": True,
            "hasContent": True,
            "isFuzzy": False,
            "type": 0,
            "sortType": 2,
            "startTime": int(start.timestamp() * 1000),
            "endTime": int(end.timestamp() * 1000),
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )


def parse_search(body: bytes) -> tuple[list[Any], list[Listing], list[tuple[str, ListError]], int]:
    """Records, usable listings, broken records and the page count of one search answer."""
    data = load_json(body)
    if not isinstance(data, dict):
        raise ListError("bad_json", "回答不是 JSON 对象")
    if str(data.get("code")) != "0":
        raise ListError(
            "api_status", f"code {data.get('code')!r}: {data.get('msg') or data.get('message')!r}"
        )
    result = object_at(data, "data")
    records = result.get("records")
    if not isinstance(records, list):
        raise ListError("bad_json", "no data.records list")
    listings, errors = [], []
    for position, record in enumerate(records):
        try:
            listings.append(parse_search_record(record))
        except ListError as exc:
            errors.append((f"data.records[{position}]", exc))
    pages = str(result.get("pages") or "")
    return records, listings, errors, int(pages) if pages.isdigit() else 1


def parse_search_record(record: Any) -> Listing:
    if not isinstance(record, dict):
        raise ListError("bad_entry", f"记录是 {type(record).__name__}，不是对象")
    url = clean_text(record.get("url"))
    native_id = content_id_of(url, record.get("id"))
    if not url.startswith(("http://", "https://")) or native_id is None:
        raise ListError("bad_entry", f"record {record.get('title')!r} has no article URL ({url!r})")
    published = parse_time(record.get("displayTime"))
    if published is None:
        raise ListError("bad_entry", f"{url} has no usable displayTime ({record.get('displayTime')!r})")
    return Listing(
        native_id=native_id,
        url=url,
        # The API marks the matched words with <em>.
        title=clean_text(_TAGS.sub("", str(record.get("title") or ""))) or None,
        published_at=published,
        media=clean_text(record.get("belongsName")) or None,
        intro=clean_text(_TAGS.sub("", str(record.get("content") or ""))) or None,
    )


class PeopleNewsSpider(RollingListSpider):
    """`options.search_keywords` (a list) adds a keyword search over the same time window."""

    name = "people_news"
    portal = Source.PEOPLE
    layout = PEOPLE_LAYOUT

    def first_requests(self) -> Iterator[scrapy.Request]:
        for url in self.start_urls:
            yield self.list_request(with_cache_buster(url, self.patrol_at), 1)
        keywords = self.source_config.options.get("search_keywords") or []
        if isinstance(keywords, str):
            keywords = [keywords]
        for keyword in keywords:
            yield self.search_request(str(keyword), 1)

    def search_request(self, keyword: str, page: int) -> scrapy.Request:
        return self.list_request(
            SEARCH_API,
            page,
            method="POST",
            body=search_body(keyword, page, self.cutoff, self.patrol_at),
            headers={"Content-Type": "application/json;charset=UTF-8", "Referer": "http://search.people.cn/"},
            meta={"keyword": keyword},
        )

    def read_list(self, response: TextResponse, page: int) -> ListPage:
        keyword = response.meta.get("keyword")
        if keyword is None:
            items, listings, errors = parse_rolling(response.body)
            # The rolling list is one page: everything the site still rolls is in it.
            return ListPage(listings=listings, errors=errors, entries=len(items))
        records, listings, errors, pages = parse_search(response.body)
        self.stat("search_pages")
        following = self.search_request(keyword, page + 1) if page < pages else None
        return ListPage(listings=listings, errors=errors, entries=len(records), next_request=following)
