"""百度贴吧: the thread lists of the configured 吧, new or grown threads with their floors and 楼中楼 replies,
and keyword search inside each 吧. A grown thread is read again from its first and newest pages, yielding the
thread with its new reply count and only the floors and replies not seen before.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Generator, Iterator
from dataclasses import dataclass
from typing import Any

import scrapy
from scrapy.http import Response, TextResponse

from config.models import TiebaOptions
from pipeline.clock import now
from pipeline.items import Post
from spiders.base.community import EMPTY, LAYOUT_CHANGED, CommunitySpider, PageError
from spiders.base.tieba import (
    LAYOUT,
    TIEBA,
    Reply,
    ThreadPage,
    floor_post,
    forum_list_url,
    forum_name,
    is_verification_page,
    pages_to_read,
    parse_forum_page,
    parse_reply_page,
    parse_search_page,
    parse_thread_page,
    parse_total_comment,
    reply_page_url,
    reply_post,
    search_url,
    thread_post,
    thread_url,
    total_comment_url,
    trailing_pages,
)
from spiders.health import EXPECTS


@dataclass(slots=True)
class ThreadVisit:
    """One thread being read this patrol. Its reply count is remembered only once every page asked for has
    been read, so a page that failed is asked for again next time."""

    tid: str
    forum: str
    outstanding: int = 0
    failed: bool = False
    reply_num: int | None = None
    published: int | None = None
    first_pid: str | None = None


class TiebaSpider(CommunitySpider):
    name = "tieba"
    options_model = TiebaOptions

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.base = (self.start_urls[0] if self.start_urls else TIEBA).rstrip("/")
        self.forums = [forum_name(name) for name in self.options.forums]
        self.visits: dict[str, ThreadVisit] = {}

    async def start(self) -> AsyncIterator[scrapy.Request]:
        self.logger.info(
            "%s: patrol at %s of %s, skipping posts older than %s (%s)",
            self.source_name,
            self.patrol_at.isoformat(),
            "、".join(f"{forum}吧" for forum in self.forums),
            self.cutoff.isoformat(),
            "first run" if self.state.first_run else f"{len(self.state.seen)} ids remembered",
        )
        for forum in self.forums:
            yield self._list_request(forum, 1)
        for forum in self.forums:
            for word in self.options.search_words:
                yield self._search_request(forum, word, 1)

    def is_block_page(self, response: Response) -> bool:
        text = response.text if isinstance(response, TextResponse) else ""
        return is_verification_page(response.url, text)

    def _read(self, response: Response) -> TextResponse | None:
        """The response in its true charset; a verification page ends the crawl."""
        if not isinstance(response, TextResponse):
            self.problem("not_text", response.url, f"{response.headers.get('Content-Type')!r} is not a page")
            return None
        response = self.in_true_charset(response)
        if is_verification_page(response.url, response.text):
            self.blocked(self.requested_url(response), f"出现验证页 {response.url}")
        return response

    # Forum lists ---------------------------------------------------------------------------------------

    def _list_request(self, forum: str, page: int) -> scrapy.Request:
        return scrapy.Request(
            forum_list_url(forum, page, self.base),
            callback=self.parse_forum,
            errback=self.fetch_failed,
            cb_kwargs={"forum": forum, "page": page},
            meta={EXPECTS: "list"},
            priority=10,
        )

    def parse_forum(self, response: Response, forum: str, page: int) -> Iterator[scrapy.Request]:
        read = self._read(response)
        if read is None:
            return
        try:
            listing = parse_forum_page(read.text, self.patrol_at)
        except PageError as exc:
            self.unhealthy(LAYOUT_CHANGED, response.url, f"{forum}吧列表页：{exc.detail}")
            return
        self.stat("list_pages")
        for detail in listing.bad_entries:
            self.problem("bad_entry", response.url, detail)
        if not listing.threads:
            if page == 1:
                self.unhealthy(EMPTY, response.url, f"{forum}吧 lists no threads")
            return
        wanted = 0
        oldest = None
        for thread in listing.threads:
            self.stat("threads_listed")
            if not thread.is_top and thread.last_reply_at is not None:
                oldest = thread.last_reply_at if oldest is None else min(oldest, thread.last_reply_at)
            if thread.last_reply_at is not None and thread.last_reply_at < self.cutoff:
                self.stat("too_old")
                continue
            if thread.tid in self.visits:
                wanted += 1  # already being read, found by a search
                continue
            if not self.state.is_new(thread.tid, thread.reply_num):
                self.stat("seen")
                continue
            wanted += 1
            yield self._thread_request(thread.tid, forum, 1)
        stop = None
        if not listing.has_next:
            stop = "last page"
        elif wanted == 0:
            stop = "nothing new on the page"
        elif oldest is not None and oldest < self.cutoff:
            stop = f"reached threads older than {self.source_config.max_age_hours} h"
        elif page >= self.source_config.max_pages:
            stop = f"max_pages {self.source_config.max_pages}"
        self.logger.info(
            "%s: %s吧 page %d: %d threads, %d to read%s",
            self.source_name,
            forum,
            page,
            len(listing.threads),
            wanted,
            f"; stop ({stop})" if stop else "",
        )
        if stop is None:
            yield self._list_request(forum, page + 1)

    # Search --------------------------------------------------------------------------------------------

    def _search_request(self, forum: str, word: str, page: int) -> scrapy.Request:
        return scrapy.Request(
            search_url(forum, word, page, self.base),
            callback=self.parse_search,
            errback=self.fetch_failed,
            cb_kwargs={"forum": forum, "word": word, "page": page},
            meta={EXPECTS: "list"},
            priority=5,
        )

    def parse_search(self, response: Response, forum: str, word: str, page: int) -> Iterator[scrapy.Request]:
        read = self._read(response)
        if read is None:
            return
        try:
            results = parse_search_page(read.text)
        except PageError as exc:
            self.unhealthy(LAYOUT_CHANGED, response.url, f"search {word!r} in {forum}吧: {exc.detail}")
            return
        self.stat("search_pages")
        wanted = 0
        for hit in results.hits:
            self.stat("search_hits")
            if hit.published_at is not None and hit.published_at < self.cutoff:
                self.stat("too_old")
                continue
            known = f"{hit.tid}:{hit.pid}" in self.state.seen or (
                hit.pid is None and hit.tid in self.state.seen
            )
            if hit.tid in self.visits or known:
                self.stat("seen")
                continue
            wanted += 1
            yield self._thread_request(hit.tid, hit.forum or forum, 1)
        if results.has_next and wanted and page < self.source_config.max_pages:
            yield self._search_request(forum, word, page + 1)

    # Threads -------------------------------------------------------------------------------------------

    def _visit_request(
        self, visit: ThreadVisit, url: str, callback: Any, *, expects: str | None = None, **kwargs: Any
    ) -> scrapy.Request:
        visit.outstanding += 1
        return scrapy.Request(
            url,
            callback=callback,
            errback=self.thread_fetch_failed,
            cb_kwargs={"tid": visit.tid, **kwargs},
            meta={EXPECTS: expects} if expects else {},
        )

    def _thread_request(self, tid: str, forum: str, page: int) -> scrapy.Request:
        visit = self.visits.setdefault(tid, ThreadVisit(tid=tid, forum=forum))
        if page == 1:
            self.stat("threads")
        return self._visit_request(visit, thread_url(tid, page, self.base), self.parse_thread, page=page)

    def _done(self, tid: str, ok: bool) -> None:
        visit = self.visits[tid]
        visit.outstanding -= 1
        visit.failed = visit.failed or not ok
        if visit.outstanding == 0 and not visit.failed and visit.reply_num is not None:
            self.state.remember(tid, visit.published or int(self.patrol_at.timestamp()), visit.reply_num)

    def thread_fetch_failed(self, failure: Any) -> None:
        tid = failure.request.cb_kwargs.get("tid")
        try:
            self.fetch_failed(failure)
        finally:
            if tid in self.visits:
                self._done(tid, ok=False)

    def parse_thread(self, response: Response, tid: str, page: int) -> Iterator[Post | scrapy.Request]:
        ok = False
        try:
            ok = yield from self._thread_page(response, tid, page)
        finally:
            self._done(tid, ok)

    def _thread_page(
        self, response: Response, tid: str, page: int
    ) -> Generator[Post | scrapy.Request, None, bool]:
        """Posts and further requests of one thread page; returns whether the page could be read."""
        visit = self.visits[tid]
        read = self._read(response)
        if read is None:
            return False
        try:
            thread = parse_thread_page(read.text, page)
        except PageError as exc:
            if exc.reason == LAYOUT:
                self.unhealthy(LAYOUT_CHANGED, response.url, f"帖子 {tid}：{exc.detail}")
            else:
                self.problem(exc.reason, response.url, f"帖子 {tid}：{exc.detail}", logging.INFO)
            return False
        self.stat("thread_pages")
        for detail in thread.bad_floors:
            self.problem("bad_floor", response.url, detail)
        crawled = now()
        if page == 1:
            yield from self._first_page(visit, thread, read.url)
        for floor in thread.floors:
            if floor.post_no == 1:
                continue
            native = f"{tid}:{floor.pid}"
            if floor.published_at is not None and floor.published_at < self.cutoff:
                self.stat("too_old")
                continue
            if native in self.state.seen:
                self.stat("seen")
                continue
            post = floor_post(thread, floor, crawled, read.url, self.base)
            if post is not None:
                self._remember(native, post)
                self.stat("floors")
                yield post
        if any(floor.comment_num for floor in thread.floors):
            if thread.fid is None:
                self.problem("no_forum_id", response.url, f"thread {tid}: replies cannot be asked for")
            else:
                yield self._visit_request(
                    visit,
                    total_comment_url(tid, thread.fid, page, self.base),
                    self.parse_replies,
                    expects="json",
                    forum=thread.forum or visit.forum,
                )
        return True

    def _remember(self, native_id: str, post: Post) -> None:
        moment = int(post.published_at.timestamp())
        self.state.remember(native_id, moment, moment)

    def _first_page(
        self, visit: ThreadVisit, thread: ThreadPage, url: str
    ) -> Iterator[Post | scrapy.Request]:
        first = thread.first_floor
        visit.first_pid = first.pid if first else None
        post = thread_post(thread, now(), url, self.base)
        if post is None or first is None:  # a post is made of floor 1 only
            self.problem("no_first_floor", url, f"thread {thread.tid}: floor 1 is not on its first page")
        else:
            visit.published = int(post.published_at.timestamp())
            # Remembered by its floor id as well, so a search hit on floor 1 is known next time.
            self._remember(f"{thread.tid}:{first.pid}", post)
            self.stat("threads_read")
            yield post
        known = self.state.seen.get(thread.tid)
        count = thread.reply_num if thread.reply_num is not None else 0
        visit.reply_num = count
        more = trailing_pages(thread.total_pages, known, count, self.options.thread_pages - 1)
        for page in more:
            yield self._visit_request(
                visit, thread_url(thread.tid, page, self.base), self.parse_thread, page=page
            )

    # 楼中楼 ---------------------------------------------------------------------------------------------

    def parse_replies(self, response: Response, tid: str, forum: str) -> Iterator[Post | scrapy.Request]:
        ok = False
        try:
            ok = yield from self._replies(response, tid, forum)
        finally:
            self._done(tid, ok)

    def _replies(
        self, response: Response, tid: str, forum: str
    ) -> Generator[Post | scrapy.Request, None, bool]:
        """The 楼中楼 replies of one thread page (the totalComment answer); returns whether it could be read."""
        visit = self.visits[tid]
        if self.is_block_page(response):
            self.blocked(self.requested_url(response), f"出现验证页 {response.url}")
        try:
            blocks = parse_total_comment(response.body)
        except PageError as exc:
            if exc.reason == LAYOUT:
                self.unhealthy(LAYOUT_CHANGED, response.url, f"帖子 {tid} 的楼中楼：{exc.detail}")
            else:
                self.problem(exc.reason, response.url, f"帖子 {tid} 的楼中楼：{exc.detail}")
            return False
        for block in blocks.values():
            yield from self._reply_posts(visit, block.replies, forum, response.url)
            if block.total > len(block.replies) and self.options.reply_pages:
                for page in pages_to_read(block.pages, self.options.reply_pages):
                    yield self._visit_request(
                        visit,
                        reply_page_url(tid, block.pid, page, self.base),
                        self.parse_reply_page,
                        pid=block.pid,
                        forum=forum,
                    )
        return True

    def parse_reply_page(self, response: Response, tid: str, pid: str, forum: str) -> Iterator[Post]:
        ok = False
        try:
            read = self._read(response)
            if read is None:
                return
            try:
                replies, _ = parse_reply_page(read.text, pid)
            except PageError as exc:
                self.unhealthy(LAYOUT_CHANGED, response.url, f"帖子 {tid} 楼层 {pid}：{exc.detail}")
                return
            yield from self._reply_posts(self.visits[tid], replies, forum, response.url)
            ok = True
        finally:
            self._done(tid, ok)

    def _reply_posts(self, visit: ThreadVisit, replies: list[Reply], forum: str, url: str) -> Iterator[Post]:
        crawled = now()
        for reply in replies:
            native = f"{visit.tid}:{reply.cid}"
            if reply.published_at is None:
                self.problem("bad_reply", url, f"reply {reply.cid} under floor {reply.pid} has no time")
                continue
            if reply.published_at < self.cutoff:
                self.stat("too_old")
                continue
            if native in self.state.seen:
                self.stat("seen")
                continue
            post = reply_post(visit.tid, reply, forum, visit.first_pid, crawled, url, self.base)
            if post is not None:
                self._remember(native, post)
                self.stat("replies")
                yield post
