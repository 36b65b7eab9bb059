"""Weibo (m.weibo.cn) shared parts: field parsers, reading API answers and block pages, an mblog or a comment
as a `Post`, and `WeiboSpider`, the base of the search and timeline spiders (incremental state, long text,
comments of matching posts, the reasons a source stops).
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, ClassVar, Self
from urllib.parse import urlencode, urlsplit

import lxml.html
import scrapy
from lxml import etree
from scrapy import signals
from scrapy.crawler import Crawler
from scrapy.exceptions import CloseSpider, IgnoreRequest
from scrapy.http import Response

from classifiers.text import clean_text
from config.env import get_env
from config.models import WeiboOptions
from pipeline.clock import now
from pipeline.errors import SourceBlocked
from pipeline.items import AuthorKind, Counts, Post, Source
from spiders.base.source import SourceSpider
from spiders.health import EXPECTS, note_fetch_failure, report_problem
from spiders.middlewares import ORIGINAL_URL
from spiders.parsing.fields import list_at, object_at
from spiders.parsing.times import parse_time

MOBILE_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Mobile/15E148 Safari/604.1"
)
# Statuses Weibo answers a refused client with; 432 is its own "unusual traffic" code.
BLOCK_STATUSES = (403, 418, 429, 432)
LOGIN_HOSTS = frozenset(
    {"passport.weibo.com", "passport.weibo.cn", "login.sina.com.cn", "visitor.passport.weibo.cn"}
)
_CAPTCHA_MARKERS = ("验证码", "安全验证", "captcha", "geetest", "verifycode")
_LOGIN_MARKERS = ("passport.weibo", "请先登录", "登录 - 新浪微博", "微博登录")
_BUSY_MARKERS = ("频繁", "frequent")


# Field parsers ---------------------------------------------------------------------------------------------

_COUNT = re.compile(r"(\d+(?:\.\d+)?)\s*([万亿wWkK]?)")
_UNITS = {"万": 10_000, "w": 10_000, "W": 10_000, "亿": 100_000_000, "k": 1_000, "K": 1_000}


def parse_count(value: Any) -> int:
    """Counts as Weibo sends them: 12, "12", "1.2万" -> 12000, "100万+" -> 1000000, "转发 28"; junk -> 0."""
    if isinstance(value, bool) or value is None:
        return 0
    if isinstance(value, int):
        return max(value, 0)
    if isinstance(value, float):
        return max(int(value), 0)
    match = _COUNT.search(str(value).replace(",", "").replace("，", ""))
    if match is None:
        return 0
    try:
        number = Decimal(match.group(1)) * _UNITS.get(match.group(2), 1)
    except InvalidOperation:
        return 0
    return int(number)


_IP_PREFIX = re.compile(r"^(?:发布于|来自|IP属地\s*[:：]?)\s*")
_PLACE = re.compile(r"[\u4e00-\u9fff]{2,10}(?:\s[\u4e00-\u9fff]{2,10})?")
# What a "来自…" may name instead of a place: the client a comment was written with.
_NOT_PLACES = ("手机", "客户端", "微博", "网页", "平板", "版", "超话", "iPhone", "Android")


def parse_ip_location(value: Any) -> str | None:
    """IP属地 from "发布于 河南" (posts), "来自河南" (comments), "IP属地：河南"; None when absent or not a place."""
    if not isinstance(value, str):
        return None
    text = _IP_PREFIX.sub("", clean_text(value))
    if not text or any(word in text for word in _NOT_PLACES) or not _PLACE.fullmatch(text):
        return None
    return text


# verified_type codes of Weibo's verification (V) program.
GOVERNMENT_TYPES = frozenset({1})  # 政府
MEDIA_TYPES = frozenset({3})  # 媒体
VERIFIED_TYPES = frozenset({0, 2, 4, 5, 6, 7})  # 个人(橙V/金V), 企业, 校园, 网站, 应用, 团体机构


def author_kind(user: Any) -> AuthorKind:
    """The kind of account from its `verified_type`: government and media accounts (blue V of those types)
    weigh as official voices; other V accounts are verified; -1, 220 (达人) and the like are ordinary."""
    if not isinstance(user, dict) or not user:
        return AuthorKind.UNKNOWN
    try:
        code = int(user.get("verified_type", -1))
    except (TypeError, ValueError):
        code = -1
    if code in GOVERNMENT_TYPES:
        return AuthorKind.GOVERNMENT
    if code in MEDIA_TYPES:
        return AuthorKind.OFFICIAL_MEDIA
    if code in VERIFIED_TYPES and user.get("verified") is not False:
        return AuthorKind.VERIFIED
    return AuthorKind.ORDINARY


def _is_full_text_link(element: Any) -> bool:
    """The "全文" link a truncated long post ends with; its target is the post itself."""
    return (element.text_content() or "").strip() == "全文" and "/status/" in (element.get("href") or "")


def _text_of(element: Any, out: list[str]) -> None:
    tag = element.tag if isinstance(element.tag, str) else ""
    if tag == "br":
        out.append("\n")
    elif tag == "img":
        out.append(element.get("alt") or "")  # emoticons carry their name: [怒]
    elif not tag or (tag == "a" and _is_full_text_link(element)):
        pass  # comments and processing instructions, the "全文" link
    else:
        if element.text:
            out.append(element.text)
        for child in element:
            _text_of(child, out)
        if tag in ("p", "div") and out and not out[-1].endswith("\n"):
            out.append("\n")
    if element.tail:
        out.append(element.tail)


def weibo_text(html: Any) -> str:
    """A post's `text` (HTML: links, topics, emoticon images, <br />) as plain text, one line per line."""
    if not isinstance(html, str) or not html.strip():
        return ""
    try:
        root = lxml.html.fragment_fromstring(html, create_parent="div")
    except (etree.ParserError, ValueError):
        return clean_text(html, lines=True)
    out: list[str] = []
    if root.text:
        out.append(root.text)
    for child in root:
        _text_of(child, out)
    lines = (clean_text(line) for line in "".join(out).split("\n"))
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


# Reading API answers ---------------------------------------------------------------------------------------


class WeiboBlocked(SourceBlocked):
    """Weibo refused the request: `reason` is `login_wall`, `captcha` or `blocked`; `detail` says how."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__("weibo", reason)
        self.detail = detail


class WeiboAnswerError(ValueError):
    """An answer or an item in it that cannot be used; `reason` is the counted key."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def decode_body(body: bytes) -> tuple[str, bool]:
    """The text of an answer and whether it was UTF-8, as JSON must be; anything else is read as GB18030
    (what a Chinese server falls back to), whatever the Content-Type claims, so no post is lost to it."""
    try:
        return body.decode("utf-8"), True
    except UnicodeDecodeError:
        return body.decode("gb18030", errors="replace"), False


def _title_of(text: str) -> str:
    match = re.search(r"<title[^>]*>(.*?)</title>", text, re.IGNORECASE | re.DOTALL)
    return clean_text(match.group(1)) if match else ""


def check_answer(response: Response) -> dict[str, Any]:
    """The JSON object of an m.weibo.cn API answer, or `WeiboBlocked` when it is a refusal in any of the
    forms Weibo uses: a 403/418/429/432, a redirect to the login page, `{"ok": -100}`, a captcha page."""
    if response.status in BLOCK_STATUSES:
        raise WeiboBlocked("blocked", f"HTTP {response.status}")
    host = (urlsplit(response.url).hostname or "").lower()
    if host in LOGIN_HOSTS:
        raise WeiboBlocked("login_wall", f"被重定向到登录页 {response.url}")
    text, _ = decode_body(response.body)
    try:
        data = json.loads(text)
    except ValueError:
        head = text[:4000].lower()
        title = _title_of(text[:4000])
        # The title first: a login page offers "短信验证码登录", a captcha page is titled 安全验证.
        if "登录" in title:
            raise WeiboBlocked("login_wall", f"返回的是登录页（{title}），不是 JSON") from None
        if any(marker in head for marker in _CAPTCHA_MARKERS):
            raise WeiboBlocked("captcha", f"返回的是验证码页（{title or '无标题'}），不是 JSON") from None
        if any(marker in head for marker in _LOGIN_MARKERS):
            raise WeiboBlocked("login_wall", f"返回的是登录页（{title or '无标题'}），不是 JSON") from None
        raise WeiboAnswerError("bad_json", f"不是 JSON，开头为 {text[:60]!r}") from None
    if not isinstance(data, dict):
        raise WeiboAnswerError("bad_json", f"回答是 JSON {type(data).__name__}，不是对象")
    ok = str(data.get("ok"))
    if ok == "-100":
        raise WeiboBlocked("login_wall", f"ok -100：要求登录（{data.get('url') or data.get('msg') or '-'}）")
    message = str(data.get("msg") or "")
    if ok == "0" and any(marker in message for marker in _BUSY_MARKERS):
        raise WeiboBlocked("blocked", f"ok 0：{message}")
    return data


def _is_ok(data: dict[str, Any]) -> bool:
    return str(data.get("ok")) == "1"


def _ended(data: dict[str, Any]) -> bool:
    """`{"ok": 0, "msg": "这里还没有内容"}`: no (more) results, which is not an error."""
    return str(data.get("ok")) == "0"


@dataclass(frozen=True, slots=True)
class CardList:
    """One list answer (search results, a timeline page): the posts on it and where the next page starts."""

    mblogs: list[dict[str, Any]]
    since_id: str | None = None
    total: int | None = None
    ended: bool = False
    message: str = ""
    other_cards: int = 0


def _mblogs_of(cards: list[Any], found: list[dict[str, Any]]) -> int:
    """Collect the post cards (card_type 9), also those grouped inside other cards; returns the others."""
    others = 0
    for card in cards:
        if not isinstance(card, dict):
            others += 1
            continue
        mblog = card.get("mblog")
        if str(card.get("card_type")) == "9" and isinstance(mblog, dict):
            found.append(mblog)
        elif isinstance(card.get("card_group"), list):
            others += _mblogs_of(card["card_group"], found)
        else:
            others += 1
    return others


def parse_card_list(data: dict[str, Any]) -> CardList:
    """`{"ok": 1, "data": {"cardlistInfo": {...}, "cards": [...]}}` as a `CardList`."""
    if _ended(data):
        return CardList(mblogs=[], ended=True, message=str(data.get("msg") or ""))
    if not _is_ok(data):
        raise WeiboAnswerError("api_error", f"ok {data.get('ok')!r}: {data.get('msg')!r}")
    payload = object_at(data, "data")
    cards = payload.get("cards")
    if not isinstance(cards, list):
        raise WeiboAnswerError("layout_changed", "回答里没有 data.cards 列表")
    mblogs: list[dict[str, Any]] = []
    others = _mblogs_of(cards, mblogs)
    info = object_at(payload, "cardlistInfo")
    since_id = info.get("since_id")
    total = info.get("total")
    return CardList(
        mblogs=mblogs,
        since_id=str(since_id) if since_id not in (None, "", 0, "0") else None,
        total=parse_count(total) if total is not None else None,
        other_cards=others,
    )


@dataclass(frozen=True, slots=True)
class CommentPage:
    """One `comments/hotflow` answer: comments (hot first) and the cursor of the next page (0: no more)."""

    comments: list[dict[str, Any]]
    max_id: int = 0
    max_id_type: int = 0
    total: int | None = None
    ended: bool = False
    message: str = ""


def parse_comment_page(data: dict[str, Any]) -> CommentPage:
    if _ended(data):
        return CommentPage(comments=[], ended=True, message=str(data.get("msg") or ""))
    if not _is_ok(data):
        raise WeiboAnswerError("api_error", f"ok {data.get('ok')!r}: {data.get('msg')!r}")
    payload = object_at(data, "data")
    comments = payload.get("data")
    if not isinstance(comments, list):
        raise WeiboAnswerError("layout_changed", "评论回答里没有 data.data 列表")
    return CommentPage(
        comments=[c for c in comments if isinstance(c, dict)],
        max_id=parse_count(payload.get("max_id")),
        max_id_type=parse_count(payload.get("max_id_type")),
        total=parse_count(payload.get("total_number")) if payload.get("total_number") is not None else None,
    )


def parse_extend(data: dict[str, Any]) -> str:
    """The full text from `statuses/extend?id=`: `{"ok": 1, "data": {"ok": 1, "longTextContent": ...}}`."""
    if not _is_ok(data):
        raise WeiboAnswerError("long_text_missing", f"ok {data.get('ok')!r}: {data.get('msg')!r}")
    payload = data.get("data")
    content = payload.get("longTextContent") if isinstance(payload, dict) else None
    if not isinstance(content, str) or not content.strip():
        raise WeiboAnswerError("long_text_missing", "the answer has no data.longTextContent")
    return content


# An mblog or a comment as a Post ---------------------------------------------------------------------------


def mblog_id(mblog: Any) -> str | None:
    """The numeric mid, which names the post in every API (search, timeline, comments, extend)."""
    if not isinstance(mblog, dict):
        return None
    for key in ("mid", "idstr", "id"):
        value = str(mblog.get(key) or "").strip()
        if value.isdigit():
            return value
    return None


def post_url(mid: str) -> str:
    return f"https://m.weibo.cn/detail/{mid}"


def is_pinned(mblog: dict[str, Any]) -> bool:
    """A timeline's pinned post comes first whatever its age, so it says nothing about where to stop."""
    title = mblog.get("title")
    return str(mblog.get("isTop")) == "1" or (isinstance(title, dict) and title.get("text") == "置顶")


def is_available(mblog: Any) -> bool:
    """A forwarded post that was deleted or hidden comes back without author or time."""
    return isinstance(mblog, dict) and isinstance(mblog.get("user"), dict) and bool(mblog.get("created_at"))


def inline_long_text(mblog: dict[str, Any]) -> str | None:
    """The full text when the answer already carries it (`longText`, as the detail and app APIs send)."""
    long_text = mblog.get("longText")
    if isinstance(long_text, dict):
        content = long_text.get("longTextContent") or long_text.get("content")
        if isinstance(content, str) and content.strip():
            return content
    return None


def needs_long_text(mblog: dict[str, Any]) -> bool:
    return str(mblog.get("isLongText")).lower() in ("true", "1") and inline_long_text(mblog) is None


def image_urls(mblog: dict[str, Any]) -> list[str]:
    """The large version of every attached picture, in the author's order."""
    pics = mblog.get("pics")
    if isinstance(pics, dict):
        pics = list(pics.values())
    urls: list[str] = []
    if isinstance(pics, list):
        for pic in pics:
            if not isinstance(pic, dict):
                continue
            large = object_at(pic, "large")
            url = large.get("url") or pic.get("url")
            if isinstance(url, str) and url:
                urls.append(url)
        return urls
    infos = object_at(mblog, "pic_infos")
    ids = list_at(mblog, "pic_ids") or list(infos)
    for pid in ids:
        info = object_at(infos, pid)
        size: dict[str, Any] = next(
            (info[k] for k in ("largest", "large", "original") if isinstance(info.get(k), dict)), {}
        )
        urls.append(size.get("url") or f"https://wx1.sinaimg.cn/large/{pid}.jpg")
    return urls


def has_video(mblog: dict[str, Any]) -> bool:
    page = mblog.get("page_info")
    if isinstance(page, dict) and (
        page.get("type") == "video"
        or page.get("object_type") == "video"
        or isinstance(page.get("media_info"), dict)
    ):
        return True
    mixed = mblog.get("mix_media_info")
    items = mixed.get("items") if isinstance(mixed, dict) else None
    return isinstance(items, list) and any(isinstance(i, dict) and i.get("type") == "video" for i in items)


def interactions(mblog: dict[str, Any]) -> int:
    """Reposts + comments + likes: the version a post is remembered at, so a grown count is read again."""
    return sum(parse_count(mblog.get(k)) for k in ("reposts_count", "comments_count", "attitudes_count"))


def _user_location(user: dict[str, Any]) -> str | None:
    location = clean_text(str(user.get("location") or ""))
    return location if location and location not in ("其他", "其它", "未知") else None


def post_from_mblog(
    mblog: dict[str, Any], *, now: datetime, raw_ref: str, full_text: str | None = None
) -> Post:
    """The `Post` of one mblog; `full_text` is the long text fetched separately, when there is one."""
    mid = mblog_id(mblog)
    if mid is None:
        raise WeiboAnswerError("bad_item", "an mblog without a numeric mid")
    published = parse_time(mblog.get("created_at"), now)
    if published is None:
        raise WeiboAnswerError(
            "bad_item", f"mblog {mid}: created_at {mblog.get('created_at')!r} is not a time"
        )
    user = object_at(mblog, "user")
    text = weibo_text(full_text or inline_long_text(mblog) or mblog.get("text"))
    page = object_at(mblog, "page_info")
    if not text:
        # A video or article card may be all a post says.
        text = clean_text(str(page.get("content2") or page.get("title") or page.get("page_title") or ""))
    if not text:
        raise WeiboAnswerError("bad_item", f"mblog {mid} has no text")
    kind = author_kind(user)
    name = clean_text(str(user.get("screen_name") or "")) or None
    original = mblog.get("retweeted_status")
    original_id = mblog_id(original)
    return Post(
        id=Post.make_id(Source.WEIBO, mid),
        source=Source.WEIBO,
        url=post_url(mid),
        text=text,
        published_at=published,
        crawled_at=now,
        author=name,
        author_kind=kind,
        media=name if kind is AuthorKind.OFFICIAL_MEDIA else None,
        counts=Counts(
            reposts=parse_count(mblog.get("reposts_count")),
            comments=parse_count(mblog.get("comments_count")),
            likes=parse_count(mblog.get("attitudes_count")),
            reads=parse_count(mblog.get("reads_count")),
        ),
        ip_location=parse_ip_location(mblog.get("region_name")),
        author_location=_user_location(user),
        repost_of=Post.make_id(Source.WEIBO, original_id) if original_id else None,
        images=image_urls(mblog),
        has_video=has_video(mblog),
        raw_ref=raw_ref,
    )


def comment_id(comment: Any) -> str | None:
    return (
        mblog_id({"idstr": comment.get("idstr"), "id": comment.get("id")})
        if isinstance(comment, dict)
        else None
    )


def post_from_comment(
    comment: dict[str, Any], *, post_mid: str, parent_id: str, now: datetime, raw_ref: str
) -> Post:
    """A comment (or a reply inside one) as a `Post` whose `parent_id` is the post or comment it answers."""
    cid = comment_id(comment)
    if cid is None:
        raise WeiboAnswerError("bad_comment", "a comment without a numeric id")
    published = parse_time(comment.get("created_at"), now)
    if published is None:
        raise WeiboAnswerError("bad_comment", f"comment {cid}: created_at {comment.get('created_at')!r}")
    text = weibo_text(comment.get("text"))
    if not text:
        raise WeiboAnswerError("bad_comment", f"comment {cid} has no text")
    user = object_at(comment, "user")
    kind = author_kind(user)
    name = clean_text(str(user.get("screen_name") or "")) or None
    replies = comment.get("total_number")
    if replies is None and isinstance(comment.get("comments"), list):
        replies = len(comment["comments"])
    pics = comment.get("pic")
    return Post(
        id=Post.make_id(Source.WEIBO, cid),
        source=Source.WEIBO,
        url=f"{post_url(post_mid)}#comment-{cid}",
        text=text,
        published_at=published,
        crawled_at=now,
        author=name,
        author_kind=kind,
        media=name if kind is AuthorKind.OFFICIAL_MEDIA else None,
        counts=Counts(
            comments=parse_count(replies),
            likes=parse_count(comment.get("like_count", comment.get("like_counts"))),
        ),
        ip_location=parse_ip_location(comment.get("source")),
        author_location=_user_location(user),
        parent_id=parent_id,
        images=[pics["large"]["url"]]
        if isinstance(pics, dict) and isinstance(pics.get("large"), dict) and pics["large"].get("url")
        else [],
        raw_ref=raw_ref,
    )


def comment_version(comment: dict[str, Any]) -> int:
    replies = comment.get("total_number")
    if replies is None and isinstance(comment.get("comments"), list):
        replies = len(comment["comments"])
    return parse_count(comment.get("like_count", comment.get("like_counts"))) + parse_count(replies)


# URLs ------------------------------------------------------------------------------------------------------


def search_url(base: str, keyword: str, page: int) -> str:
    """Real-time search (实时, type 61), newest first: the `containerid` names the query."""
    query = {"containerid": f"100103type=61&q={keyword}", "page_type": "searchall", "page": str(page)}
    return f"{base}/api/container/getIndex?{urlencode(query)}"


def timeline_url(base: str, uid: str, since_id: str | None = None) -> str:
    """An account's posts (`107603<uid>`), newest first after the pinned one; `since_id` pages on."""
    query = {"type": "uid", "value": uid, "containerid": f"107603{uid}"}
    if since_id:
        query["since_id"] = since_id
    return f"{base}/api/container/getIndex?{urlencode(query)}"


def comments_url(base: str, mid: str, max_id: int = 0, max_id_type: int = 0) -> str:
    query = {"id": mid, "mid": mid}
    if max_id:
        query["max_id"] = str(max_id)
    query["max_id_type"] = str(max_id_type)
    return f"{base}/comments/hotflow?{urlencode(query)}"


def extend_url(base: str, mid: str) -> str:
    return f"{base}/statuses/extend?id={mid}"


# The spider ------------------------------------------------------------------------------------------------

# What to do about each refusal; a login wall reads differently with and without a cookie set.
_LOGIN_HINTS = {
    True: "YUQING_WEIBO_COOKIE 中的 Cookie 已失效：请重新登录 m.weibo.cn 并替换",
    False: "没有设置 Cookie：请把已登录账号的 m.weibo.cn Cookie 填入 YUQING_WEIBO_COOKIE",
}
_HINTS = {
    "captcha": "微博要求验证码：请在本机出口 IP（和该账号）下打开 m.weibo.cn 完成验证，或稍后再试",
    "blocked": "微博拒绝了本程序的访问：请调大 sources.yaml 中的 download_delay，或等一两个小时",
}


class WeiboSpider(SourceSpider):
    """Base of `weibo_search` and `weibo_timeline`: `scrapy crawl <spider> -a source=<name in sources.yaml>`.

    Subclasses list posts (`start`, list callbacks) and hand each list page to `read_list` and
    `take_page`; this class decides which posts are new, fetches long texts and the comments of matching
    posts, and stops the source with a reason (`login_wall`, `captcha`, `blocked`, `empty`,
    `layout_changed`) when it cannot go on. Problems are logged with source, URL and reason and counted
    as `yuqing/source/<source>/<reason>`; what went well is counted under `yuqing/crawl/<source>/`.

    Incremental: the state remembers each post (and comment) id with its interactions (reposts + comments
    + likes). A post is yielded when it was never seen or its interactions grew, so a re-crawl refreshes the
    stored counts; a list is read until the first post remembered from an earlier patrol, a post older
    than `max_age_hours`, an empty page, or `max_pages`.
    """

    options_model: ClassVar[type[WeiboOptions]] = WeiboOptions

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.base_url = self.source_config.start_urls[0].rstrip("/")
        self.known = frozenset(self.state.seen)  # what earlier patrols saw: where reading a list may stop
        cookie = get_env().weibo_cookie
        self._cookie = cookie.get_secret_value().strip() if cookie else ""
        self._taken: set[str] = set()  # ids yielded (or on their way) in this patrol
        self._lists_read = 0
        self._lists_unreadable = 0
        self._mblogs_seen = 0
        self._mblogs_usable = 0
        self._idle_checked = False

    @classmethod
    def from_crawler(cls, crawler: Crawler, *args: Any, **kwargs: Any) -> Self:
        spider = super().from_crawler(crawler, *args, **kwargs)
        crawler.signals.connect(spider._check_outcome, signal=signals.spider_idle)
        return spider

    @property
    def comment_keywords(self) -> tuple[str, ...]:
        """Posts mentioning one of these get their comments read; empty: every post that is hot enough."""
        return tuple(self.options.comment_keywords or ())

    # Bookkeeping -------------------------------------------------------------------------------------

    def stop(self, reason: str, url: str, detail: str) -> CloseSpider:
        """The exception that ends this source's patrol, counted and logged with what to do about it; the
        detail is kept for the source-health alert."""
        hint = _LOGIN_HINTS[bool(self._cookie)] if reason == "login_wall" else _HINTS.get(reason)
        detail = f"{detail}；{hint}" if hint else detail
        crawler = getattr(self, "crawler", None)
        if crawler is not None:
            report_problem(crawler, self.source_name, reason, url, detail)
        else:
            self.problem(reason, url, detail, logging.ERROR)
        return CloseSpider(reason)

    def _check_outcome(self, spider: scrapy.Spider) -> None:
        """When the work is done: a source that answered nothing usable ends `layout_changed` or `empty`."""
        if spider is not self or self._idle_checked:
            return
        self._idle_checked = True
        if self._lists_read == 0 and self._lists_unreadable:
            raise self.stop(
                "layout_changed",
                self.base_url,
                f"{self._lists_unreadable} 个列表回答都无法读取",
            )
        if self._mblogs_seen and not self._mblogs_usable:
            raise self.stop("layout_changed", self.base_url, f"{self._mblogs_seen} 条微博都无法读取")
        if self._lists_read and not self._mblogs_seen:
            raise self.stop("empty", self.base_url, f"{self._lists_read} 个列表都没有返回任何微博")

    # Requests ----------------------------------------------------------------------------------------

    def api_request(
        self, url: str, callback: Any, *, referer: str, errback: Any = None, **cb_kwargs: Any
    ) -> scrapy.Request:
        headers = {
            "User-Agent": MOBILE_UA,
            "Accept": "application/json, text/plain, */*",
            "Referer": referer,
            "X-Requested-With": "XMLHttpRequest",
            "MWeibo-Pwa": "1",
        }
        if self._cookie:
            headers["Cookie"] = self._cookie
        return scrapy.Request(
            url,
            callback=callback,
            errback=errback or self.fetch_failed,
            headers=headers,
            cb_kwargs=cb_kwargs,
            # Refusals come in as these statuses; the callback names them instead of a generic HTTP error.
            meta={"handle_httpstatus_list": list(BLOCK_STATUSES), EXPECTS: "json"},
        )

    def fetch_failed(self, failure: Any) -> None:
        """Errback: a page that could not be fetched is a counted problem, not a traceback."""
        if failure.check(IgnoreRequest):
            return  # a refusal the source-health middleware has already counted and named
        request = failure.request
        url = request.meta.get(ORIGINAL_URL, request.url)
        response = getattr(failure.value, "response", None)
        if response is not None:
            self.problem(f"http_{response.status}", url, f"HTTP {response.status}")
        else:
            # No answer at all: counted, named and judged by the health middleware for every spider alike.
            note_fetch_failure(failure, self.source_name, self.logger)

    def answer(self, response: Response) -> dict[str, Any] | None:
        """The JSON of an answer; a refusal stops the source (CloseSpider), anything else unusable is counted."""
        try:
            data = check_answer(response)
        except WeiboBlocked as exc:
            raise self.stop(exc.reason, response.url, exc.detail) from None
        except WeiboAnswerError as exc:
            self.problem(exc.reason, response.url, exc.detail)
            return None
        if not decode_body(response.body)[1]:
            self.problem("bad_encoding", response.url, "the answer is not UTF-8; read as GB18030")
        return data

    # Lists -------------------------------------------------------------------------------------------

    def read_list(self, response: Response) -> CardList | None:
        data = self.answer(response)
        if data is None:
            self._lists_unreadable += 1
            return None
        try:
            cards = parse_card_list(data)
        except WeiboAnswerError as exc:
            self._lists_unreadable += 1
            self.problem(exc.reason, response.url, exc.detail)
            return None
        self._lists_read += 1
        self.stat("list_pages")
        return cards

    def take_page(self, response: Response, cards: CardList, page: int) -> tuple[list[Any], str | None]:
        """What to yield for one list page, and why not to read the next one (None: read it)."""
        out: list[Any] = []
        new = 0
        reached_known = False
        oldest: datetime | None = None
        for position, mblog in enumerate(cards.mblogs):
            self._mblogs_seen += 1
            mid = mblog_id(mblog)
            published = parse_time(mblog.get("created_at"), self.patrol_at)
            if mid is None or published is None:
                self.problem(
                    "bad_item",
                    response.url,
                    f"cards[{position}]: mid {mid!r}, created_at {mblog.get('created_at')!r}",
                )
                continue
            self._mblogs_usable += 1
            if not is_pinned(mblog):
                reached_known = reached_known or mid in self.known
                oldest = published if oldest is None else min(oldest, published)
                new += mid not in self.known
            out.extend(self.take(mblog, response.url))
        if not cards.mblogs:
            stop = "empty page"
        elif reached_known:
            stop = "reached posts seen in an earlier patrol"
        elif oldest is not None and oldest < self.cutoff:
            stop = f"reached posts older than {self.source_config.max_age_hours} h"
        elif page >= self.source_config.max_pages:
            stop = f"max_pages {self.source_config.max_pages}"
        else:
            stop = None
        self.logger.info(
            "%s: %s: %d posts, %d not seen before%s",
            self.source_name,
            response.url,
            len(cards.mblogs),
            new,
            f"; stop ({stop})" if stop else "",
        )
        return out, stop

    def take(self, mblog: dict[str, Any], raw_ref: str) -> list[Any]:
        """Posts and requests for one mblog: the forwarded original first, then the post itself."""
        out: list[Any] = []
        original = mblog.get("retweeted_status")
        if isinstance(original, dict):
            if is_available(original):
                out.extend(self.take(original, raw_ref))
            else:
                self.stat("original_unavailable")
        mid = mblog_id(mblog)
        published = parse_time(mblog.get("created_at"), self.patrol_at)
        if mid is None or published is None:
            self.problem(
                "bad_item", raw_ref, f"forwarded post: mid {mid!r}, created_at {mblog.get('created_at')!r}"
            )
            return out
        if published < self.cutoff:
            self.stat("too_old")
            return out
        if mid in self._taken:
            self.stat("repeated")  # found again under another keyword, or as an original
            return out
        if not self.state.is_new(mid, interactions(mblog)):
            self.stat("seen")
            return out
        self._taken.add(mid)
        if needs_long_text(mblog):
            out.append(
                self.api_request(
                    extend_url(self.base_url, mid),
                    self.parse_extend,
                    referer=post_url(mid),
                    errback=self.extend_failed,
                    mblog=mblog,
                    raw_ref=raw_ref,
                )
            )
            return out
        out.extend(self.finish(mblog, raw_ref))
        return out

    def finish(
        self, mblog: dict[str, Any], raw_ref: str, full_text: str | None = None, *, complete: bool = True
    ) -> list[Any]:
        """The post, remembered, and the request for its comments when it matches."""
        try:
            post = post_from_mblog(mblog, now=now(), raw_ref=raw_ref, full_text=full_text)
        except WeiboAnswerError as exc:
            self.problem(exc.reason, raw_ref, exc.detail)
            return []
        mid = post.id.removeprefix("weibo:")
        refreshed = mid in self.state.seen
        # A post kept with its truncated text is remembered below any count, so the next patrol retries.
        self.state.remember(mid, int(post.published_at.timestamp()), interactions(mblog) if complete else -1)
        self.stat("refreshed" if refreshed else "posts")
        out: list[Any] = [post]
        if self.wants_comments(post):
            out.append(self.comments_request(mid))
        return out

    # Long text ---------------------------------------------------------------------------------------

    def parse_extend(self, response: Response, mblog: dict[str, Any], raw_ref: str) -> Iterator[Any]:
        data = self.answer(response)
        full_text = None
        if data is not None:
            try:
                full_text = parse_extend(data)
            except WeiboAnswerError as exc:
                self.problem(exc.reason, response.url, exc.detail)
        if full_text is None:
            self.stat("truncated")
        yield from self.finish(mblog, raw_ref, full_text, complete=full_text is not None)

    def extend_failed(self, failure: Any) -> Iterator[Any]:
        """Without its long text a post is still worth having, truncated; the next patrol tries again."""
        self.fetch_failed(failure)
        self.stat("truncated")
        kwargs = failure.request.cb_kwargs
        yield from self.finish(kwargs["mblog"], kwargs["raw_ref"], complete=False)

    # Comments ----------------------------------------------------------------------------------------

    def wants_comments(self, post: Post) -> bool:
        if self.options.comment_pages == 0 or post.counts.comments < max(self.options.comments_min, 1):
            return False
        keywords = self.comment_keywords
        return not keywords or any(word in post.text for word in keywords)

    def comments_request(
        self, mid: str, max_id: int = 0, max_id_type: int = 0, page: int = 1
    ) -> scrapy.Request:
        return self.api_request(
            comments_url(self.base_url, mid, max_id, max_id_type),
            self.parse_comments,
            referer=post_url(mid),
            mid=mid,
            page=page,
        )

    def parse_comments(self, response: Response, mid: str, page: int) -> Iterator[Any]:
        data = self.answer(response)
        if data is None:
            return
        try:
            comments = parse_comment_page(data)
        except WeiboAnswerError as exc:
            self.problem(exc.reason, response.url, exc.detail)
            return
        if comments.ended:
            self.stat("comments_closed")
            return
        fresh = 0
        for position, comment in enumerate(comments.comments):
            cid = comment_id(comment)
            replies = list_at(comment, "comments")
            thread = [(comment, Post.make_id(Source.WEIBO, mid))]
            thread += [
                (reply, Post.make_id(Source.WEIBO, cid))
                for reply in replies
                if cid and isinstance(reply, dict)
            ]
            for item, parent in thread:
                native = comment_id(item)
                version = comment_version(item)
                if native and (native in self._taken or not self.state.is_new(native, version)):
                    self.stat("comments_seen")
                    continue
                try:
                    post = post_from_comment(
                        item, post_mid=mid, parent_id=parent, now=now(), raw_ref=response.url
                    )
                except WeiboAnswerError as exc:
                    self.problem(exc.reason, response.url, f"data[{position}]: {exc.detail}")
                    continue
                native = post.id.removeprefix("weibo:")
                self._taken.add(native)
                self.state.remember(native, int(post.published_at.timestamp()), version)
                fresh += 1
                self.stat("comments")
                yield post
        # Hot comments come first; a page with nothing new means the rest is known too.
        if fresh and comments.max_id and page < self.options.comment_pages:
            yield self.comments_request(mid, comments.max_id, comments.max_id_type, page + 1)
