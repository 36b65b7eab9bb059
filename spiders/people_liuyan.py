"""人民网 地方领导留言板 (liuyan.people.com.cn): what citizens write to a city's or county's leaders, and the
answers of the units that handle it.

Both calls are POSTs of `{"appCode", "token", "signature", "param"}`, `param` being the JSON text of the
query and `signature = md5(path + param + md5(appCode)[:16] + token)`, as the site's own page signs them:
`/v1/threads/list/df` with `{"fid", "showUnAnswer", "typeId", "lastItem", "position", "rows", "orderType"}`
answers `resultData.data[]` (tid, subject, content cut short, nickName, dateline, threadsCheckTime,
forumName, typeName, domainName, stateInfo, answerDateline, from, ...) and `resultData.lastItem` for the next
page; `/v1/threads/content` with `{"tid", "fromTrash"}` answers `resultData.contentList[]`, `dataType` 1 the
message in full and 4 each official reply (content, dateline, organization).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import scrapy
from scrapy.http import Response, TextResponse

from pipeline.clock import now
from pipeline.items import AuthorKind, Counts, Post, Source
from spiders.base.listing import ListError, ListPage, RollingListSpider, load_json
from spiders.base.news_portal import Listing, clean_text, parse_time
from spiders.health import EXPECTS

SITE = "https://liuyan.people.com.cn"
LIST_PATH = "/v1/threads/list/df"
CONTENT_PATH = "/v1/threads/content"
# The page's public `SITE_CONFIG.appCode`; it changes with site builds, so a source may set `app_code`.
APP_CODE = "PC42ce3bfa4980a9"
ROWS = 10
# typeId 5 lists every kind of message (建言, 投诉, 咨询, ...).
ALL_TYPES = 5


def signed_body(path: str, param: dict[str, Any], app_code: str = APP_CODE, token: str = "") -> str:
    """The request body the site's page sends for `param`: the signature covers the exact param text."""
    text = json.dumps(param, ensure_ascii=False, separators=(",", ":"))
    # MD5 because the site signs with it; nothing here is a secret.
    key = hashlib.md5(app_code.encode()).hexdigest()[:16]
    signature = hashlib.md5(f"{path}{text}{key}{token}".encode()).hexdigest()
    return json.dumps(
        {"appCode": app_code, "token": token, "signature": signature, "param": text},
        ensure_ascii=False,
        separators=(",", ":"),
    )


def list_param(fid: str, last_item: str = "") -> dict[str, Any]:
    return {
        "fid": fid,
        "showUnAnswer": 1,
        "typeId": ALL_TYPES,
        "lastItem": last_item,
        "position": 0,
        "rows": ROWS,
        "orderType": 2,
    }


def thread_url(tid: str) -> str:
    return f"{SITE}/threads/content?tid={tid}"


def native_id(tid: str) -> str:
    return f"liuyan-{tid}"


def result_data(body: bytes) -> dict[str, Any]:
    """`resultData` of an answer; an error envelope (`{"code": "SN0006", "msg": ..}`) is named."""
    data = load_json(body)
    if not isinstance(data, dict):
        raise ListError("bad_json", "回答不是 JSON 对象")
    code = data.get("code", 0)
    result = data.get("resultData")
    if str(code) not in ("0", "200") or not isinstance(result, dict):
        raise ListError("api_status", f"code {code!r}: {data.get('msg')!r}")
    return result


def parse_thread_list(body: bytes) -> tuple[list[Any], list[tuple[Listing, dict[str, Any]]], list, str]:
    """Entries, usable (listing, entry) pairs, broken entries and the cursor of the next page."""
    result = result_data(body)
    entries = result.get("data")
    if entries is None:
        entries = []
    if not isinstance(entries, list):
        raise ListError("bad_json", f"resultData.data 是 {type(entries).__name__}，不是列表")
    usable, errors = [], []
    for position, entry in enumerate(entries):
        try:
            usable.append((thread_listing(entry), entry))
        except ListError as exc:
            errors.append((f"resultData.data[{position}]", exc))
    last = result.get("lastItem")
    if not last and entries and isinstance(entries[-1], dict):
        last = entries[-1].get("tid")
    return entries, usable, errors, clean_text(str(last or ""))


def thread_listing(entry: Any) -> Listing:
    if not isinstance(entry, dict):
        raise ListError("bad_entry", f"条目是 {type(entry).__name__}，不是对象")
    tid = clean_text(str(entry.get("tid") or ""))
    if not tid.isdigit():
        raise ListError("bad_entry", f"entry has no tid ({entry.get('tid')!r})")
    posted = parse_time(entry.get("dateline")) or parse_time(entry.get("createDateline"))
    if posted is None:
        raise ListError("bad_entry", f"tid {tid} has no usable dateline ({entry.get('dateline')!r})")
    answered = [
        moment
        for moment in map(parse_time, (entry.get("answerDateline"), entry.get("lastAnswerTime")))
        if moment is not None
    ]
    forum = clean_text(entry.get("forumName"))
    return Listing(
        native_id=native_id(tid),
        url=thread_url(tid),
        title=clean_text(entry.get("subject")) or None,
        published_at=posted,
        # An answer given since the last patrol makes the thread worth reading again.
        modified_at=max([posted, *answered]),
        media=f"人民网领导留言板·{forum}" if forum else "人民网领导留言板",
        intro=clean_text(entry.get("content")) or None,
        comments=1 if answered else 0,
    )


def thread_contents(body: bytes) -> list[dict[str, Any]]:
    result = result_data(body)
    contents = result.get("contentList")
    if not isinstance(contents, list):
        raise ListError("bad_json", "no resultData.contentList list")
    return [c for c in contents if isinstance(c, dict)]


class PeopleLiuyanSpider(RollingListSpider):
    """Start URLs are the boards' pages, `https://liuyan.people.com.cn/threads/list?fid=<forum id>`."""

    name = "people_liuyan"
    portal = Source.PEOPLE

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The list entry of each thread asked for: board, category and state are only in the list.
        self.entries: dict[str, dict[str, Any]] = {}

    @property
    def app_code(self) -> str:
        return str(self.source_config.options.get("app_code") or APP_CODE)

    def first_requests(self) -> Iterator[scrapy.Request]:
        for url in self.start_urls:
            fid = dict(parse_qsl(urlsplit(url).query)).get("fid", "")
            if not fid.isdigit():
                self.problem("bad_config", url, "a board URL needs ?fid=<forum id>")
                continue
            yield self.board_request(fid, "", 1)

    def board_request(self, fid: str, last_item: str, page: int) -> scrapy.Request:
        return self.list_request(
            f"{SITE}{LIST_PATH}",
            page,
            method="POST",
            body=signed_body(LIST_PATH, list_param(fid, last_item), self.app_code),
            headers=_headers(fid),
            meta={"fid": fid},
        )

    def read_list(self, response: TextResponse, page: int) -> ListPage:
        entries, usable, errors, last = parse_thread_list(response.body)
        fid = response.meta["fid"]
        self.entries.update({listing.native_id: entry for listing, entry in usable})
        more = len(entries) >= ROWS and last
        return ListPage(
            listings=[listing for listing, _ in usable],
            errors=errors,
            entries=len(entries),
            next_request=self.board_request(fid, last, page + 1) if more else None,
        )

    def article_request(self, listing: Listing) -> scrapy.Request:
        tid = listing.native_id.removeprefix("liuyan-")
        return scrapy.Request(
            f"{SITE}{CONTENT_PATH}",
            method="POST",
            body=signed_body(CONTENT_PATH, {"tid": tid, "fromTrash": 0}, self.app_code),
            headers=_headers(None, tid),
            callback=self.parse_thread,
            errback=self.fetch_failed,
            cb_kwargs={"listing": listing},
            # Every thread is the same URL; only the body tells them apart.
            dont_filter=True,
            meta={EXPECTS: "json"},
        )

    def parse_thread(self, response: Response, listing: Listing) -> Iterator[Post]:
        try:
            contents = thread_contents(response.body)
        except ListError as exc:
            self.problem(exc.reason, listing.url, exc.detail)
            return
        try:
            yield from self.thread_posts(listing, self.entries.get(listing.native_id, {}), contents)
        except Exception:
            self.logger.exception("%s: parse_error: %s", self.source_name, listing.url)
            self.count_problem("parse_error")

    def thread_posts(
        self, listing: Listing, entry: dict[str, Any], contents: list[dict[str, Any]]
    ) -> Iterator[Post]:
        message = next((c for c in contents if str(c.get("dataType")) == "1"), {})
        replies = [c for c in contents if str(c.get("dataType")) == "4" and clean_text(c.get("content"))]
        text = clean_text(message.get("content")) or listing.intro or ""
        if not text or listing.published_at is None:
            self.problem("no_body", listing.url, "the thread has no message text")
            return
        state = clean_text(message.get("stateInfo") or entry.get("stateInfo")) or "-"
        self.stat("answered" if replies else "unanswered")
        crawled = now()
        post = Post(
            id=Post.make_id(self.portal, listing.native_id),
            source=self.portal,
            url=listing.url,
            title=clean_text(message.get("subject")) or listing.title,
            text=text,
            published_at=listing.published_at,
            crawled_at=crawled,
            author=clean_text(message.get("nickName") or entry.get("nickName")) or None,
            author_kind=AuthorKind.ORDINARY,
            media=listing.media,
            author_location=clean_text(entry.get("from")) or None,
            counts=Counts(comments=len(replies)),
            raw_ref=listing.url,
        )
        self.logger.info(
            "%s: thread %s %s (%s/%s, %s)",
            self.source_name,
            listing.native_id,
            state,
            clean_text(entry.get("typeName")) or "-",
            clean_text(entry.get("domainName")) or "-",
            clean_text(entry.get("forumName")) or "-",
        )
        yield post
        self.stat("posts")
        for number, reply in enumerate(replies, start=1):
            answered = parse_time(reply.get("dateline"))
            if answered is None:
                self.problem("no_time", listing.url, f"reply {number} has no usable dateline")
                continue
            organization = clean_text(reply.get("organization")) or None
            yield Post(
                id=Post.make_id(self.portal, f"{listing.native_id}-reply-{number}"),
                source=self.portal,
                url=listing.url,
                title=f"回复：{post.title}" if post.title else None,
                text=clean_text(reply.get("content")),
                published_at=answered,
                crawled_at=crawled,
                author=organization,
                author_kind=AuthorKind.GOVERNMENT,
                media=listing.media,
                parent_id=post.id,
                raw_ref=listing.url,
            )
            self.stat("replies")
        version = listing.modified_at or listing.published_at
        self.state.remember(
            listing.native_id, int(listing.published_at.timestamp()), int(version.timestamp())
        )


def _headers(fid: str | None, tid: str | None = None) -> dict[str, str]:
    referer = f"{SITE}/threads/list?fid={fid}" if fid else f"{SITE}/threads/content?tid={tid}"
    return {"Content-Type": "application/json;charset=UTF-8", "Referer": referer, "Origin": SITE}
