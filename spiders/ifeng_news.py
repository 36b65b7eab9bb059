"""凤凰网 news column and article pages, read from the `var allData = {...}` JSON the pages embed.

The column page (`news.ifeng.com/shanklist/3-35191-/`) embeds its first batch as `allData.newsstream[]`
(`id, base62Id?, title, url, newsTime "YYYY-MM-DD HH:MM:SS", source, type, commentUrl`); later batches come
from `shankapi.ifeng.com/shanklist/_/getColumnInfo/_/dynamicFragment/<last id>/<last time ms>/20/<column>/
getColumnInfoCallback`, JSONP `{"code": 0, "data": {"isEnd", "newsstream": [..]}}`. Articles: `allData.docData`.
"""

from __future__ import annotations

import re
from typing import Any

from scrapy.http import TextResponse

from pipeline.items import Source
from spiders.base.listing import ListError, ListPage, RollingListSpider, load_json
from spiders.base.news_portal import Listing, clean_text, parse_time
from spiders.health import EXPECTS
from spiders.parsing.fields import object_at
from spiders.parsing.layouts import AllDataError, ArticlePage, ifeng_article, parse_all_data

COLUMN_API = (
    "https://shankapi.ifeng.com/shanklist/_/getColumnInfo/_/dynamicFragment/{last_id}/{last_ms}/20/{column}/"
    "getColumnInfoCallback?callback=getColumnInfoCallback"
)
_COLUMN = re.compile(r"/shanklist/(?P<column>[\d-]+-)/?")
_BASE62 = re.compile(r"/c/(?:s/)?([0-9A-Za-z_-]{8,})")


def column_of(url: str) -> str | None:
    match = _COLUMN.search(url)
    return match.group("column") if match else None


def stream_listing(entry: Any) -> Listing:
    if not isinstance(entry, dict):
        raise ListError("bad_entry", f"条目是 {type(entry).__name__}，不是对象")
    url = clean_text(entry.get("url"))
    if url.startswith("//"):
        url = f"https:{url}"
    match = _BASE62.search(url)
    native_id = clean_text(str(entry.get("base62Id") or "")) or (match.group(1) if match else "")
    if not url.startswith(("http://", "https://")) or not native_id:
        raise ListError("bad_entry", f"{entry.get('title')!r} has no article url ({url!r})")
    published = parse_time(entry.get("newsTime"))
    if published is None:
        raise ListError("bad_entry", f"{url} has no usable newsTime ({entry.get('newsTime')!r})")
    return Listing(
        native_id=native_id,
        url=url,
        title=clean_text(entry.get("title")) or None,
        published_at=published,
        media=clean_text(entry.get("source")) or None,
    )


def read_stream(stream: Any, where: str) -> tuple[list[Any], list[Listing], list[tuple[str, ListError]]]:
    if not isinstance(stream, list):
        raise ListError("bad_json", f"{where} 是 {type(stream).__name__}，不是列表")
    listings, errors = [], []
    for position, entry in enumerate(stream):
        try:
            # Video and slide entries have no article text to read.
            if isinstance(entry, dict) and entry.get("type") not in (None, "article", "doc"):
                continue
            listings.append(stream_listing(entry))
        except ListError as exc:
            errors.append((f"{where}[{position}]", exc))
    return stream, listings, errors


class IfengNewsSpider(RollingListSpider):
    """Start URLs are column pages, `https://news.ifeng.com/shanklist/<column>/`."""

    name = "ifeng_news"
    portal = Source.IFENG
    # The first batch is a page (the column); the later ones are JSONP.
    list_expects = "list"

    def read_list(self, response: TextResponse, page: int) -> ListPage:
        column = response.meta.get("column") or column_of(response.url)
        if column is None:
            raise ListError("bad_config", "not a shanklist column address")
        if page == 1:
            try:
                data = parse_all_data(response.text)
            except AllDataError as exc:
                raise ListError(exc.reason, exc.detail) from None
            stream, listings, errors = read_stream(data.get("newsstream"), "allData.newsstream")
            ended = False
        else:
            answer = load_json(response.body)
            if not isinstance(answer, dict) or str(answer.get("code")) != "0":
                code = answer.get("code") if isinstance(answer, dict) else None
                raise ListError("api_status", f"code {code!r}")
            data = object_at(answer, "data")
            stream, listings, errors = read_stream(data.get("newsstream"), "data.newsstream")
            ended = bool(data.get("isEnd"))
        following = None
        last = stream[-1] if stream and isinstance(stream[-1], dict) else None
        last_time = parse_time(last.get("newsTime")) if last else None
        if last and last_time and not ended:
            url = COLUMN_API.format(
                last_id=clean_text(str(last.get("id"))),
                last_ms=int(last_time.timestamp() * 1000),
                column=column,
            )
            following = self.list_request(url, page + 1, meta={"column": column, EXPECTS: "json"})
        return ListPage(listings=listings, errors=errors, entries=len(stream), next_request=following)

    def read_article(self, response: TextResponse) -> ArticlePage:
        # The hashed class names change with every build of the site; the embedded JSON does not.
        return ifeng_article(response.text)
