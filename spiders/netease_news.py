"""网易 news lists, article pages and their public comment threads (跟贴).

Lists: `news.163.com/special/cm_<channel>/?callback=data_callback` (page 1) and `cm_<channel>_02` … `_10`,
JSONP `data_callback([{title, digest, docurl, commenturl, tienum, time "MM/DD/YYYY HH:MM:SS", label,
keywords, newstype, imgurl, channelname, source, ..}])`, newest first. Article pages (2020+ template):
`html@data-publishtime`, `h1.post_title`, `div.post_info` (time, 来源 link, IP属地), `div.post_body`,
`div.post_author` (责任编辑). Comments: `comment.api.163.com/api/v1/products/<productKey>/threads/<docid>/
comments/newList?offset=&limit=` answers `{"commentIds": ["id" | "parent,child"], "comments": {id: {commentId,
content, createTime, vote, against, user{nickname, location}}}, "newListSize"}`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import scrapy
from scrapy.http import Response, TextResponse

from pipeline.clock import now
from pipeline.items import AuthorKind, Counts, Post, Source
from spiders.base.listing import ListError, ListPage, RollingListSpider, load_json
from spiders.base.news_portal import Listing, clean_text, parse_count, parse_time
from spiders.health import EXPECTS
from spiders.parsing.fields import object_at
from spiders.parsing.layouts import NETEASE_LAYOUT

PRODUCT_KEY = "a2869674571f77b5a0867c3d71db5856"
COMMENTS_API = (
    "https://comment.api.163.com/api/v1/products/{key}/threads/{docid}/comments/newList"
    "?ibc=newspc&limit={limit}&showLevelThreshold=72&headLimit=1&tailLimit=2&offset={offset}"
)
COMMENT_PAGE = 30
_DOCID = re.compile(r"/([0-9A-Z]{16})(?:_\w+)?\.html")
_PAGE_PATH = re.compile(r"^(?P<stem>.*?/cm_[a-z]+)(?:_(?P<page>\d{2}))?/?$")


def docid_of(url: str) -> str | None:
    match = _DOCID.search(url)
    return match.group(1) if match else None


def page_url(url: str, page: int) -> str:
    """`cm_guonei` is page 1, `cm_guonei_02` … `cm_guonei_10` the next ones; the query is kept."""
    parts = urlsplit(url)
    match = _PAGE_PATH.match(parts.path)
    if match is None:
        raise ListError("bad_config", f"{url} is not a cm_<channel> list address")
    path = match.group("stem") + ("/" if page == 1 else f"_{page:02d}/")
    return urlunsplit(parts._replace(path=path))


def page_of(url: str) -> int:
    match = _PAGE_PATH.match(urlsplit(url).path)
    return int(match.group("page")) if match and match.group("page") else 1


def parse_news_list(body: bytes) -> tuple[list[Any], list[Listing], list[tuple[str, ListError]]]:
    # The lists are served as GBK on older channels and UTF-8 on newer ones.
    try:
        entries = load_json(body.decode("utf-8"))
    except UnicodeDecodeError:
        entries = load_json(body.decode("gb18030", errors="replace"))
    if not isinstance(entries, list):
        raise ListError("bad_json", f"data_callback 里是 {type(entries).__name__}，不是列表")
    listings, errors = [], []
    for position, entry in enumerate(entries):
        try:
            listings.append(parse_news_entry(entry))
        except ListError as exc:
            errors.append((f"[{position}]", exc))
    return entries, listings, errors


def parse_news_entry(entry: Any) -> Listing:
    if not isinstance(entry, dict):
        raise ListError("bad_entry", f"条目是 {type(entry).__name__}，不是对象")
    url = clean_text(entry.get("docurl"))
    docid = docid_of(url)
    if not url.startswith(("http://", "https://")) or docid is None:
        raise ListError("bad_entry", f"{entry.get('title')!r} has no article docurl ({url!r})")
    published = parse_time(entry.get("time"))
    if published is None:
        raise ListError("bad_entry", f"{url} has no usable time ({entry.get('time')!r})")
    return Listing(
        native_id=docid,
        url=url,
        title=clean_text(entry.get("title")) or None,
        published_at=published,
        media=clean_text(entry.get("source")) or None,
        intro=clean_text(entry.get("digest")) or None,
        comments=parse_count(entry.get("tienum")),
    )


def comments_url(docid: str, offset: int = 0, limit: int = COMMENT_PAGE) -> str:
    return COMMENTS_API.format(key=PRODUCT_KEY, docid=docid, limit=limit, offset=offset)


def parse_comments(body: bytes) -> tuple[list[str], dict[str, Any], int]:
    """The id chains, the comments by id and the thread's size; an error answer is named."""
    data = load_json(body)
    if not isinstance(data, dict):
        raise ListError("bad_json", "回答不是 JSON 对象")
    if "code" in data and "comments" not in data:
        raise ListError("api_status", f"code {data.get('code')!r}: {data.get('message')!r}")
    ids, comments = data.get("commentIds"), data.get("comments")
    if not isinstance(ids, list) or not isinstance(comments, dict):
        raise ListError("bad_json", "no commentIds list or comments object")
    return [str(i) for i in ids], comments, parse_count(data.get("newListSize"))


def _tie_key(docid: str) -> str:
    return f"{docid}#tie"


class NeteaseNewsSpider(RollingListSpider):
    """`options.comments` (default true) reads each article's newest comments, `options.comment_pages`
    pages of 30 (default 1); a thread that grew since the last patrol is read again."""

    name = "netease_news"
    portal = Source.NETEASE
    layout = NETEASE_LAYOUT

    @property
    def wants_comments(self) -> bool:
        return bool(self.source_config.options.get("comments", True))

    def read_list(self, response: TextResponse, page: int) -> ListPage:
        entries, listings, errors = parse_news_list(response.body)
        following = page_of(response.url) + 1
        return ListPage(
            listings=listings,
            errors=errors,
            entries=len(entries),
            next_request=self.list_request(page_url(response.url, following), page + 1)
            if following <= 10
            else None,
        )

    def list_extras(self, listings: list[Listing], wanted: list[Listing]) -> Iterator[scrapy.Request]:
        if not self.wants_comments:
            return
        fresh = {listing.native_id for listing in wanted}
        for listing in listings:
            known = self.state.seen.get(_tie_key(listing.native_id))
            if listing.native_id in fresh or known is None or listing.comments <= known:
                continue
            self.stat("threads_grown")
            yield self.comments_request(listing, 0)

    def more_requests(self, post: Post, listing: Listing) -> Iterator[scrapy.Request]:
        if self.wants_comments and listing.comments > 0:
            yield self.comments_request(listing, 0)

    def comments_request(self, listing: Listing, offset: int) -> scrapy.Request:
        return scrapy.Request(
            comments_url(listing.native_id, offset),
            callback=self.parse_comments,
            errback=self.fetch_failed,
            cb_kwargs={"listing": listing, "offset": offset},
            meta={EXPECTS: "json"},
        )

    def parse_comments(
        self, response: Response, listing: Listing, offset: int
    ) -> Iterator[Post | scrapy.Request]:
        try:
            chains, comments, size = parse_comments(response.body)
        except ListError as exc:
            self.problem(exc.reason, response.url, exc.detail)
            return
        article_id = Post.make_id(self.portal, listing.native_id)
        crawled = now()
        done: set[str] = set()
        for chain in chains:
            # "a,b" is b answering a; a is also listed on its own, and is yielded once.
            ids = [part for part in chain.split(",") if part]
            for position, comment_id in enumerate(ids):
                comment = comments.get(comment_id)
                if not isinstance(comment, dict) or comment_id in done:
                    continue
                done.add(comment_id)
                parent = (
                    Post.make_id(self.portal, f"{listing.native_id}-c{ids[position - 1]}")
                    if position
                    else article_id
                )
                post = self.comment_post(comment, comment_id, parent, listing, crawled)
                if post is None:
                    self.problem("bad_comment", response.url, f"comment {comment_id} has no text or time")
                    continue
                self.stat("comments")
                yield post
        self.state.remember(_tie_key(listing.native_id), 0, max(size, listing.comments))
        pages = int(self.source_config.options.get("comment_pages", 1))
        following = offset + COMMENT_PAGE
        if chains and following < size and following < pages * COMMENT_PAGE:
            yield self.comments_request(listing, following)

    def comment_post(
        self, comment: dict[str, Any], comment_id: str, parent: str, listing: Listing, crawled: datetime
    ) -> Post | None:
        text = clean_text(comment.get("content"))
        published = parse_time(comment.get("createTime"))
        if not text or published is None:
            return None
        user = object_at(comment, "user")
        return Post(
            id=Post.make_id(self.portal, f"{listing.native_id}-c{comment_id}"),
            source=self.portal,
            url=f"https://comment.tie.163.com/{listing.native_id}.html",
            text=text,
            published_at=published,
            crawled_at=crawled,
            author=clean_text(user.get("nickname")) or "网易网友",
            author_kind=AuthorKind.ORDINARY,
            ip_location=clean_text(user.get("location")) or None,
            counts=Counts(likes=parse_count(comment.get("vote"))),
            parent_id=parent,
            raw_ref=listing.url,
        )
