"""百度贴吧 pages read into plain data, and that data into `Post`s: forum thread lists, thread pages with
their floors, 楼中楼 replies, keyword search results, and the security-verification page. Plain functions on
decoded text, so they can be tested on recordings without a crawler; each section names the shape it reads.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import quote, urlsplit

from parsel import Selector

from classifiers.text import clean_text
from pipeline.items import AuthorKind, Counts, Post, Source
from spiders.base.community import PageError
from spiders.parsing.fields import object_at
from spiders.parsing.times import parse_time

TIEBA = "https://tieba.baidu.com"
FORUM_PAGE_SIZE = 50
FLOORS_PER_PAGE = 30
REPLIES_PER_PAGE = 10
LAYOUT = "layout_changed"


# URLs ------------------------------------------------------------------------------------------------------


def forum_name(name: str) -> str:
    """The name Tieba's URLs use: "濮阳吧" -> "濮阳"."""
    name = name.strip()
    return name.removesuffix("吧") or name


def forum_list_url(forum: str, page: int = 1, base: str = TIEBA) -> str:
    return f"{base}/f?kw={quote(forum)}&ie=utf-8&pn={FORUM_PAGE_SIZE * (page - 1)}"


def thread_url(tid: str, page: int = 1, base: str = TIEBA) -> str:
    return f"{base}/p/{tid}?pn={page}"


def total_comment_url(tid: str, fid: str, page: int, base: str = TIEBA) -> str:
    return f"{base}/p/totalComment?tid={tid}&fid={fid}&pn={page}"


def reply_page_url(tid: str, pid: str, page: int, base: str = TIEBA) -> str:
    return f"{base}/p/comment?tid={tid}&pid={pid}&pn={page}"


def search_url(forum: str, word: str, page: int = 1, base: str = TIEBA) -> str:
    return f"{base}/f/search/res?ie=utf-8&kw={quote(forum)}&qw={quote(word)}&rn=20&pn={page}"


def post_link(tid: str, pid: str | None = None, cid: str | None = None, base: str = TIEBA) -> str:
    """Where a reader sees a thread, a floor or a 楼中楼 reply."""
    if pid is None:
        return f"{base}/p/{tid}"
    if cid is None:
        return f"{base}/p/{tid}?pid={pid}#{pid}"
    return f"{base}/p/{tid}?pid={pid}&cid={cid}#{cid}"


# Block pages -----------------------------------------------------------------------------------------------
# A crawler Baidu distrusts is redirected to `wappass.baidu.com/static/captcha/tuxing.html?..&backurl=..`,
# a page titled 百度安全验证 (sometimes served in place, with HTTP 403).


def is_verification_page(url: str, text: str) -> bool:
    """Baidu's 安全验证 instead of content: the wappass host, or a page titled 百度安全验证."""
    if urlsplit(url).hostname == "wappass.baidu.com":
        return True
    title = Selector(text=text[:20000], type="html").css("title::text").get() or ""
    return "百度安全验证" in title


# Shared field parsers --------------------------------------------------------------------------------------

_BR = re.compile(r"<br\s*/?>", re.IGNORECASE)


def html_text(html: str) -> str:
    """What a reader sees of a post's HTML: lines kept, pictures and emoticons dropped, spaces single."""
    tree = Selector(text=f"<div>{_BR.sub(chr(10), html)}</div>", type="html")
    lines = "".join(tree.xpath("//text()[not(ancestor::script) and not(ancestor::style)]").getall())
    return "\n".join(filter(None, (clean_text(line) for line in lines.split("\n"))))


def data_field(selector: Selector) -> dict[str, Any]:
    """The JSON in an element's `data-field` attribute ({} when absent or not JSON)."""
    raw = selector.attrib.get("data-field")
    if not raw:
        return {}
    try:
        value = json.loads(raw)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def as_int(value: Any) -> int | None:
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def as_id(value: Any) -> str | None:
    number = as_int(value)
    return str(number) if number is not None and number > 0 else None


# Provinces, regions and countries are all written in characters: "河南", "中国香港", "美国".
_IP = re.compile(r"IP属地\s*[:：]\s*([\u4e00-\u9fff]+)")


def parse_ip_location(text: str) -> str | None:
    """The province in a floor's tail: "IP属地:河南" -> "河南"."""
    match = _IP.search(text)
    return match.group(1) if match else None


# Forum lists -----------------------------------------------------------------------------------------------
# `/f?kw=<吧>&ie=utf-8&pn=<50·k>`: the list is inside an HTML comment in `<code class="pagelet_html"
# id="pagelet_html_frs-list/pagelet/thread_list">`; each `li.j_thread_list` has a `data-field` JSON (`id`,
# `author_name`, `author_nickname`, `first_post_id`, `reply_num`, `is_top`, ..), title `a.j_th_tit`, abstract
# `.threadlist_abs`, last reply `.threadlist_reply_date`; `#frs_list_pager` has `a.next` while more follow.


@dataclass(frozen=True, slots=True)
class ThreadListing:
    """What a forum list says about one thread."""

    tid: str
    title: str
    author: str | None
    reply_num: int
    is_top: bool
    abstract: str
    last_reply_at: datetime | None


@dataclass(slots=True)
class ForumPage:
    forum: str | None
    threads: list[ThreadListing]
    has_next: bool
    bad_entries: list[str] = field(default_factory=list)  # what made an entry unreadable, one per entry


_THREAD_LIST_CODE = "code[id='pagelet_html_frs-list/pagelet/thread_list']"


def _thread_list(page: Selector) -> Selector | None:
    """The tree holding `ul#thread_list`: the page itself when rendered, else the commented-out pagelet."""
    if page.css("ul#thread_list"):
        return page
    codes = page.css(_THREAD_LIST_CODE) or page.css("code.pagelet_html")
    for code in codes:
        for comment in code.xpath("comment()").getall():
            inner = comment.removeprefix("<!--").removesuffix("-->")
            if "thread_list" in inner:
                return Selector(text=inner, type="html")
    return None


def parse_forum_page(html: str, now: datetime) -> ForumPage:
    """The threads of one forum list page; raises `PageError("layout_changed", ..)` when there is no list."""
    page = Selector(text=html, type="html")
    tree = _thread_list(page)
    if tree is None:
        raise PageError(LAYOUT, "页面上和 thread_list 分片里都没有帖子列表 ul#thread_list")
    items = tree.css("ul#thread_list > li.j_thread_list")
    forum = _page_forum_name(page)
    threads: list[ThreadListing] = []
    bad: list[str] = []
    for position, item in enumerate(items):
        info = data_field(item)
        tid = as_id(info.get("id")) or as_id(item.attrib.get("data-tid"))
        title = clean_text("".join(item.css("a.j_th_tit ::text").getall()))
        if tid is None or not title:
            bad.append(f"li[{position}]: no thread id or title in data-field / a.j_th_tit")
            continue
        reply_num = as_int(info.get("reply_num"))
        if reply_num is None:
            reply_num = as_int(item.css("span.threadlist_rep_num::text").get()) or 0
        author = info.get("author_nickname") or info.get("author_name")
        threads.append(
            ThreadListing(
                tid=tid,
                title=title,
                author=clean_text(author) or None,
                reply_num=max(reply_num, 0),
                is_top=bool(info.get("is_top")) or bool(item.css(".icon-top")),
                abstract=clean_text(" ".join(item.css(".threadlist_abs ::text").getall())),
                # Printed coarsely ("11:24" today, "11-22", "2014-03"): the latest moment it can mean, so
                # nothing active is judged too old.
                last_reply_at=parse_time(item.css(".threadlist_reply_date::text").get(), now, latest=True),
            )
        )
    has_next = bool(tree.css("#frs_list_pager a.next") or page.css("#frs_list_pager a.next"))
    return ForumPage(forum=forum, threads=threads, has_next=has_next, bad_entries=bad)


_PAGE_FORUM = re.compile(
    r"PageData\.forum\s*=\s*\{[^}]*?(?<![\w$])['\"]?(?:forum_)?name['\"]?\s*:\s*(['\"])(.*?)\1", re.DOTALL
)


def _page_forum_name(page: Selector) -> str | None:
    name = page.css("meta[fname]::attr(fname)").get()
    if name:
        return clean_text(name)
    for script in page.css("script::text").getall():
        match = _PAGE_FORUM.search(script)
        if match:
            raw = match.group(2)
            try:
                return clean_text(json.loads(f'"{raw}"'))
            except ValueError:
                return clean_text(raw)
    return None


# Thread pages ----------------------------------------------------------------------------------------------
# `/p/<tid>?pn=<N>`: `PageData.thread` / `PageData.forum` in a script; each floor a `div.l_post` with a
# `data-field` JSON (`author{user_name,user_nickname}`, `content{post_id,post_no,comment_num,forum_id,
# thread_id}`), text `div.d_post_content`, tail `.post-tail-wrap` ("IP属地:河南", "3楼", "2026-11-23 08:12");
# reply count and page count in `li.l_reply_num span.red`.


@dataclass(frozen=True, slots=True)
class Floor:
    """One floor (楼) of a thread; floor 1 is the thread's own post."""

    pid: str
    post_no: int
    author: str | None
    text: str
    published_at: datetime | None
    ip_location: str | None
    comment_num: int  # 楼中楼 replies under it


@dataclass(slots=True)
class ThreadPage:
    tid: str
    page: int
    title: str | None
    forum: str | None
    fid: str | None
    reply_num: int | None  # floors and 楼中楼 replies, as the page counts them
    total_pages: int
    floors: list[Floor]
    bad_floors: list[str] = field(default_factory=list)

    @property
    def first_floor(self) -> Floor | None:
        return next((floor for floor in self.floors if floor.post_no == 1), None)


_THREAD_DATA = re.compile(r"PageData\.thread\s*=\s*\{(?P<body>.*?)\}\s*;", re.DOTALL)
_JS_FIELD = r"(?<![\w$])['\"]?{name}['\"]?\s*:\s*(?:(['\"])(?P<str>(?:\\.|(?!\1).)*)\1|(?P<num>\d+))"
_FORUM_DATA = re.compile(r"PageData\.forum\s*=\s*\{(?P<body>.*?)\}\s*;", re.DOTALL)
_GONE = ("该贴已被删除", "该贴子已被删除", "贴子不存在", "很抱歉，该贴已被删除")
_FLOOR_NO = re.compile(r"^(\d+)楼$")


def _js_value(body: str, name: str) -> str | None:
    """A field of a `PageData.x = {..}` literal; quoted text is unescaped as JavaScript would."""
    match = re.search(_JS_FIELD.format(name=re.escape(name)), body, re.DOTALL)
    if match is None:
        return None
    if match.group("num") is not None:
        return match.group("num")
    raw = match.group("str")
    try:
        return json.loads(f'"{raw}"')
    except ValueError:
        return raw


def parse_thread_page(html: str, page: int = 1) -> ThreadPage:
    """One page of a thread. Raises `PageError("thread_gone", ..)` for a deleted thread and
    `PageError("layout_changed", ..)` when the page has neither floors nor the thread's data."""
    tree = Selector(text=html, type="html")
    scripts = "\n".join(tree.css("script::text").getall())
    thread_data = _THREAD_DATA.search(scripts)
    forum_data = _FORUM_DATA.search(scripts)
    posts = tree.css("div.l_post")
    if not posts and not thread_data:
        text = " ".join(tree.css("body ::text").getall())
        if any(marker in text for marker in _GONE):
            raise PageError("thread_gone", "帖子已被删除")
        raise PageError(LAYOUT, "页面上没有楼层 div.l_post，也没有 PageData.thread")
    tid = None
    title = None
    reply_num = None
    if thread_data:
        body = thread_data.group("body")
        tid = as_id(_js_value(body, "thread_id"))
        title = clean_text(_js_value(body, "title")) or None
        reply_num = as_int(_js_value(body, "reply_num"))
    fid = forum = None
    if forum_data:
        body = forum_data.group("body")
        fid = as_id(_js_value(body, "forum_id") or _js_value(body, "id"))
        forum = clean_text(_js_value(body, "forum_name") or _js_value(body, "name")) or None
    title = (
        clean_text(tree.css(".core_title_txt::attr(title)").get())
        or clean_text("".join(tree.css(".core_title_txt ::text").getall()))
        or title
    )
    forum = forum or clean_text(tree.css("meta[fname]::attr(fname)").get()) or None
    counts = [as_int(text) for text in tree.css("li.l_reply_num span.red::text").getall()]
    if counts and counts[0] is not None:
        reply_num = counts[0]
    total_pages = counts[1] if len(counts) > 1 and counts[1] else 1
    floors: list[Floor] = []
    bad: list[str] = []
    for position, post in enumerate(posts):
        info = data_field(post)
        content = object_at(info, "content")
        author = object_at(info, "author")
        pid = as_id(content.get("post_id")) or as_id(post.attrib.get("data-pid"))
        if pid is None:
            # Advertising "floors" share the class but carry no post.
            continue
        tid = tid or as_id(content.get("thread_id"))
        fid = fid or as_id(content.get("forum_id"))
        body = post.css(f"#post_content_{pid}") or post.css("div.d_post_content")
        tail = post.css(".post-tail-wrap")
        tail_texts = [clean_text(t) for t in tail.css("span.tail-info::text").getall()]
        published = next(filter(None, map(parse_time, reversed(tail_texts))), None)
        post_no = as_int(content.get("post_no"))
        if post_no is None:
            post_no = next((int(m.group(1)) for t in tail_texts if (m := _FLOOR_NO.match(t))), None)
        if not body or published is None or post_no is None:
            missing = [
                name
                for name, ok in (("text", body), ("time", published), ("floor number", post_no))
                if not ok
            ]
            bad.append(f"floor pid {pid} (div.l_post[{position}]): no {', '.join(missing)}")
            continue
        shown = clean_text(post.css("a.p_author_name::text").get())
        floors.append(
            Floor(
                pid=pid,
                post_no=post_no,
                author=shown or clean_text(author.get("user_nickname") or author.get("user_name")) or None,
                text=html_text(body[0].get()),
                published_at=published,
                ip_location=next(filter(None, map(parse_ip_location, tail.css("span::text").getall())), None),
                comment_num=max(as_int(content.get("comment_num")) or 0, 0),
            )
        )
    if tid is None:
        raise PageError(LAYOUT, "PageData.thread 和各楼层的 data-field 里都没有帖子编号")
    if posts and not floors and not bad:
        raise PageError(LAYOUT, "楼层 div.l_post 没有楼层编号")
    return ThreadPage(
        tid=tid,
        page=page,
        title=title,
        forum=forum,
        fid=fid,
        reply_num=reply_num,
        total_pages=max(total_pages, page),
        floors=floors,
        bad_floors=bad,
    )


def pages_to_read(total: int, wanted: int) -> list[int]:
    """The newest `wanted` pages after the first, oldest first: new floors are always at the end."""
    if wanted <= 0 or total <= 1:
        return []
    return list(range(max(2, total - wanted + 1), total + 1))


def trailing_pages(total: int, before: int | None, now_count: int, limit: int) -> list[int]:
    """Pages after the first worth reading for a thread that had `before` replies and now has `now_count`.

    A thread seen for the first time gets its newest `limit` pages; a grown one the pages its growth can
    fill, plus the one it may have started on.
    """
    if before is None:
        return pages_to_read(total, limit)
    grown = now_count - before
    if grown <= 0:
        return []
    return pages_to_read(total, min(limit, math.ceil(grown / FLOORS_PER_PAGE) + 1))


# 楼中楼 replies -------------------------------------------------------------------------------------------
# `/p/totalComment?tid=&fid=&pn=`: `{errno, errmsg, data: {comment_list: {<pid>: {comment_num,
# comment_list_num, comment_info: [{comment_id, post_id, thread_id, user_id, username, show_nickname,
# now_time, content}]}}, user_list: {<uid>: {..}}}}`, the first ten replies of each floor of that page
# (`comment_list` is `[]` when there are none); the rest from `/p/comment?tid=&pid=&pn=`: `li.lzl_single_post`
# with `data-field` `spid`, `span.lzl_content_main`, `span.lzl_time`, and the pager `li.lzl_li_pager`.


@dataclass(frozen=True, slots=True)
class Reply:
    """A 楼中楼 reply under floor `pid`."""

    cid: str
    pid: str
    author: str | None
    text: str
    published_at: datetime | None


@dataclass(slots=True)
class ReplyBlock:
    pid: str
    total: int  # replies under the floor, of which `replies` are the first ones
    replies: list[Reply]

    @property
    def pages(self) -> int:
        return max(1, math.ceil(self.total / REPLIES_PER_PAGE))


def parse_total_comment(body: bytes | str) -> dict[str, ReplyBlock]:
    """The replies of each floor of one thread page, by floor pid."""
    text = body.decode("utf-8", "replace") if isinstance(body, bytes) else body
    try:
        data = json.loads(text)
    except ValueError as exc:
        raise PageError("bad_json", f"不是 JSON（{exc}），开头为 {text[:60]!r}") from None
    if not isinstance(data, dict):
        raise PageError("bad_json", f"回答是 {type(data).__name__}，不是对象")
    errno = data.get("errno")
    if errno not in (0, "0", None):
        raise PageError("api_error", f"errno {errno!r}: {data.get('errmsg')!r}")
    payload = data.get("data")
    if not isinstance(payload, dict) or "comment_list" not in payload:
        raise PageError(LAYOUT, "回答里没有 data.comment_list")
    comments = payload.get("comment_list")
    users = object_at(payload, "user_list")
    if isinstance(comments, list):  # PHP writes an empty map as []
        if comments:
            raise PageError(LAYOUT, "data.comment_list 是非空列表，不是按楼层的映射")
        return {}
    if not isinstance(comments, dict):
        raise PageError(LAYOUT, f"data.comment_list 是 {type(comments).__name__}，不是映射")
    blocks: dict[str, ReplyBlock] = {}
    for key, block in comments.items():
        pid = as_id(key)
        if pid is None or not isinstance(block, dict):
            continue
        replies = []
        for info in block.get("comment_info") or []:
            if not isinstance(info, dict) or as_id(info.get("comment_id")) is None:
                continue
            user = users.get(str(info.get("user_id"))) if isinstance(users, dict) else None
            user = user if isinstance(user, dict) else {}
            name = (
                info.get("show_nickname")
                or user.get("show_nickname")
                or user.get("display_name")
                or info.get("username")
                or user.get("user_name")
            )
            replies.append(
                Reply(
                    cid=str(as_id(info.get("comment_id"))),
                    pid=pid,
                    author=clean_text(name) or None,
                    text=html_text(str(info.get("content") or "")),
                    published_at=parse_time(info.get("now_time")),
                )
            )
        total = as_int(block.get("comment_num")) or len(replies)
        blocks[pid] = ReplyBlock(pid=pid, total=max(total, len(replies)), replies=replies)
    return blocks


_LOOSE_JSON_KEY = re.compile(r"([{,]\s*)([A-Za-z_]\w*)\s*:")


def _loose_data_field(raw: str | None) -> dict[str, Any]:
    """`data-field` of the reply pager, which Tieba sometimes writes with bare keys ({total_num:0,..})."""
    if not raw:
        return {}
    for text in (raw, _LOOSE_JSON_KEY.sub(r'\1"\2":', raw)):
        try:
            value = json.loads(text)
        except ValueError:
            continue
        return value if isinstance(value, dict) else {}
    return {}


def parse_reply_page(html: str, pid: str) -> tuple[list[Reply], int]:
    """One `/p/comment` page of replies under floor `pid`, and how many such pages there are."""
    tree = Selector(text=html, type="html")
    items = tree.css("li.lzl_single_post")
    pager = _loose_data_field(tree.css("li.lzl_li_pager").attrib.get("data-field"))
    if not items and not tree.css("li.lzl_li_pager"):
        raise PageError(LAYOUT, "没有楼中楼回复 li.lzl_single_post，也没有翻页 li.lzl_li_pager")
    replies = []
    for item in items:
        info = data_field(item)
        cid = as_id(info.get("spid"))
        if cid is None:
            continue
        replies.append(
            Reply(
                cid=cid,
                pid=pid,
                author=clean_text(info.get("showname") or info.get("user_name")) or None,
                text=html_text(item.css("span.lzl_content_main").get() or ""),
                published_at=parse_time(item.css("span.lzl_time::text").get()),
            )
        )
    return replies, max(as_int(pager.get("total_page")) or 1, 1)


# Search ----------------------------------------------------------------------------------------------------
# `/f/search/res?ie=utf-8&kw=<吧>&qw=<词>&rn=20&pn=<N>`, served as GBK: `div.s_post` with `.p_title a`
# (`data-tid`, href `/p/<tid>?pid=<pid>..`), `.p_content`, `a.p_forum`, the author link, `font.p_date`.


@dataclass(frozen=True, slots=True)
class SearchHit:
    """A post the forum search found: a thread or one of its floors."""

    tid: str
    pid: str | None
    title: str
    text: str
    forum: str | None
    author: str | None
    published_at: datetime | None


@dataclass(slots=True)
class SearchPage:
    hits: list[SearchHit]
    no_results: bool
    has_next: bool


_PID = re.compile(r"[?&]pid=(\d+)")
_NO_RESULTS = ("抱歉，没有找到", "没有找到与")


def parse_search_page(html: str) -> SearchPage:
    """One page of forum search results; a page saying nothing was found is not an error."""
    tree = Selector(text=html, type="html")
    posts = tree.css("div.s_post")
    hits = []
    for post in posts:
        link = post.css(".p_title a")
        tid = as_id(link.attrib.get("data-tid")) if link else None
        if tid is None:
            continue
        pid = _PID.search(link.attrib.get("href", ""))
        hits.append(
            SearchHit(
                tid=tid,
                pid=pid.group(1) if pid else None,
                title=clean_text("".join(link.css("::text").getall())),
                text=clean_text("".join(post.css(".p_content ::text").getall())),
                forum=clean_text("".join(post.css("a.p_forum ::text").getall())) or None,
                author=clean_text("".join(post.css("a[href^='/home/main'] ::text").getall())) or None,
                published_at=parse_time(post.css(".p_date::text").get()),
            )
        )
    text = " ".join(tree.css("body ::text").getall())
    no_results = not posts and any(marker in text for marker in _NO_RESULTS)
    if not posts and not no_results and not tree.css("div.s_post_list"):
        raise PageError(LAYOUT, "no div.s_post_list results and no 没有找到 notice")
    return SearchPage(hits=hits, no_results=no_results, has_next=bool(tree.css(".pager a.next")))


# Posts -----------------------------------------------------------------------------------------------------


def _media(forum: str | None) -> str | None:
    return f"{forum}吧" if forum else None


def thread_post(page: ThreadPage, crawled_at: datetime, raw_ref: str, base: str = TIEBA) -> Post | None:
    """The thread itself (floor 1 with the thread's title and reply count), id `tieba:<tid>`."""
    first = page.first_floor
    if first is None or first.published_at is None:
        return None
    return Post(
        id=Post.make_id(Source.TIEBA, page.tid),
        source=Source.TIEBA,
        url=post_link(page.tid, base=base),
        title=page.title,
        text=first.text,
        published_at=first.published_at,
        crawled_at=crawled_at,
        author=first.author,
        author_kind=AuthorKind.ORDINARY,
        media=_media(page.forum),
        counts=Counts(comments=page.reply_num or 0),
        ip_location=first.ip_location,
        raw_ref=raw_ref,
    )


def floor_post(
    page: ThreadPage, floor: Floor, crawled_at: datetime, raw_ref: str, base: str = TIEBA
) -> Post | None:
    """A floor after the first, id `tieba:<tid>:<pid>`, its parent the thread."""
    if floor.published_at is None:
        return None
    return Post(
        id=Post.make_id(Source.TIEBA, f"{page.tid}:{floor.pid}"),
        source=Source.TIEBA,
        url=post_link(page.tid, floor.pid, base=base),
        text=floor.text,
        published_at=floor.published_at,
        crawled_at=crawled_at,
        author=floor.author,
        author_kind=AuthorKind.ORDINARY,
        media=_media(page.forum),
        counts=Counts(comments=floor.comment_num),
        ip_location=floor.ip_location,
        parent_id=Post.make_id(Source.TIEBA, page.tid),
        raw_ref=raw_ref,
    )


def reply_post(
    tid: str,
    reply: Reply,
    forum: str | None,
    first_pid: str | None,
    crawled_at: datetime,
    raw_ref: str,
    base: str = TIEBA,
) -> Post | None:
    """A 楼中楼 reply, id `tieba:<tid>:<cid>`; its parent is its floor (the thread, under floor 1)."""
    if reply.published_at is None:
        return None
    parent = tid if reply.pid == first_pid else f"{tid}:{reply.pid}"
    return Post(
        id=Post.make_id(Source.TIEBA, f"{tid}:{reply.cid}"),
        source=Source.TIEBA,
        url=post_link(tid, reply.pid, reply.cid, base=base),
        text=reply.text,
        published_at=reply.published_at,
        crawled_at=crawled_at,
        author=reply.author,
        author_kind=AuthorKind.ORDINARY,
        media=_media(forum),
        parent_id=Post.make_id(Source.TIEBA, parent),
        raw_ref=raw_ref,
    )
