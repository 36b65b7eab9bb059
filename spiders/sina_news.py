"""新浪 rolling news: the roll API lists the articles, each article page gives the text.

Roll API: `feed.mix.sina.com.cn/api/roll/get?pageid=..&lid=..&num=..&page=N` answers
`{"result": {"status": {"code": 0, "msg": ..}, "data": [{docid, title, url, intro, ctime, mtime, media_name,
keywords, comment_total, ..}], ..}}`, newest first. Article pages: `h1.main-title`, `.date-source` with
`span.date` and `a.source`, body `div#article`; older (GBK) pages `h1#artibodyTitle`, `.time-source`, `#artibody`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from scrapy.http import TextResponse

from pipeline.items import Source
from spiders.base.listing import ListError, ListPage, RollingListSpider
from spiders.base.news_portal import (
    Listing,
    clean_text,
    parse_count,
    parse_time,
)
from spiders.parsing.fields import object_at
from spiders.parsing.layouts import SINA_LAYOUT

_DOC_ID_IN_URL = re.compile(r"doc-i([a-z0-9]+)\.shtml|detail-i([a-z0-9]+)\.(?:d\.html|shtml)")


class RollError(ValueError):
    """A roll API answer or entry that cannot be used; `reason` is the counted key."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


@dataclass(frozen=True, slots=True)
class RollPage:
    entries: list[dict[str, Any]]
    total: int | None


def parse_roll_page(body: bytes) -> RollPage:
    """The entries of one roll API answer (plain JSON, or JSONP when a `callback=` was asked for)."""
    text = body.decode("utf-8", errors="replace").strip()
    jsonp = re.match(r"^(?:try\s*\{\s*)?[\w$.]+\s*\(\s*(?P<json>\{.*\})\s*\)\s*;?", text, re.DOTALL)
    if jsonp:
        text = jsonp.group("json")
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise RollError("bad_json", f"不是 JSON（{exc}），开头为 {text[:60]!r}") from None
    result = data.get("result") if isinstance(data, dict) else None
    if not isinstance(result, dict):
        raise RollError("bad_json", "no result object")
    status = object_at(result, "status")
    code = status.get("code")
    if code != 0 and str(code) != "0":
        raise RollError("api_status", f"status code {code!r}: {status.get('msg')!r}")
    entries = result.get("data")
    if entries is None:
        entries = []
    if not isinstance(entries, list):
        raise RollError("bad_json", f"result.data 是 {type(entries).__name__}，不是列表")
    total = str(result.get("total") or "")
    return RollPage(entries=entries, total=int(total) if total.isdigit() else None)


def native_id_of(docid: Any, url: str) -> str | None:
    """`comos:nhzkmra5071234` -> `nhzkmra5071234`; from the URL (`doc-i<id>.shtml`) when the docid is missing."""
    if isinstance(docid, str) and docid.strip():
        docid = docid.strip()
        return docid.removeprefix("comos:")
    match = _DOC_ID_IN_URL.search(url)
    if match:
        return match.group(1) or match.group(2)
    return None


def parse_roll_entry(entry: Any) -> Listing:
    """One `result.data[]` entry as a `Listing`; raises `RollError("bad_entry", ..)` when it cannot be fetched."""
    if not isinstance(entry, dict):
        raise RollError("bad_entry", f"条目是 {type(entry).__name__}，不是对象")
    url = clean_text(entry.get("url"))
    if not url.startswith(("http://", "https://")):
        raise RollError("bad_entry", f"docid {entry.get('docid')!r} has no article URL ({url!r})")
    native_id = native_id_of(entry.get("docid"), url)
    if native_id is None:
        raise RollError("bad_entry", f"{url} has no docid")
    published = parse_time(entry.get("ctime")) or parse_time(entry.get("intime"))
    if published is None:
        raise RollError("bad_entry", f"{url} has no usable ctime ({entry.get('ctime')!r})")
    return Listing(
        native_id=native_id,
        url=url,
        title=clean_text(entry.get("title")) or None,
        published_at=published,
        modified_at=parse_time(entry.get("mtime")) or published,
        media=clean_text(entry.get("media_name")) or None,
        intro=clean_text(entry.get("intro")) or None,
        comments=parse_count(entry.get("comment_total")),
    )


def with_page(url: str, page: int) -> str:
    """The same roll URL asking for another page; every other parameter is kept as written."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    if any(key == "page" for key, _ in query):
        query = [(key, str(page) if key == "page" else value) for key, value in query]
    else:
        query.append(("page", str(page)))
    return urlunsplit(parts._replace(query=urlencode(query)))


def page_of(url: str) -> int:
    value = dict(parse_qsl(urlsplit(url).query)).get("page", "1")
    return int(value) if value.isdigit() else 1


class SinaNewsSpider(RollingListSpider):
    name = "sina_news"
    portal = Source.SINA
    layout = SINA_LAYOUT
    # Sina has retired roll channels before; an empty first page is how that shows.
    empty_list_detail = "滚动新闻接口没有返回任何条目：lid 是否仍在使用？"

    def read_list(self, response: TextResponse, page: int) -> ListPage:
        try:
            roll = parse_roll_page(response.body)
        except RollError as exc:
            raise ListError(exc.reason, exc.detail) from None
        listed = ListPage(
            entries=len(roll.entries),
            next_request=self.list_request(with_page(response.url, page + 1), page + 1),
        )
        for position, entry in enumerate(roll.entries):
            try:
                listed.listings.append(parse_roll_entry(entry))
            except RollError as exc:
                listed.errors.append((f"data[{position}]", ListError(exc.reason, exc.detail)))
        return listed
