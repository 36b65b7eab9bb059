"""Source health at the download: the answers that mean a site has stopped letting us read it.

`SourceHealthMiddleware` recognises refusals (HTTP 401/403/418/429/432), redirects to a login or verification
page, and captcha or login pages served where the spider expected JSON or a list. Each is logged once with
source, URL and reason, counted as `yuqing/source/<source>/<reason>`, and closes the crawl with that reason:
going on would only hammer a site that is refusing us. `pipeline.extensions.SourceHealthExtension` turns the
reason into a health alert. Spiders report the problems only they can see (an empty list, a changed layout)
with `report_problem`.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Self
from urllib.parse import parse_qs, urlsplit

from parsel import Selector
from scrapy.exceptions import IgnoreRequest
from scrapy.http import Request, Response, TextResponse
from scrapy.utils.defer import deferred_from_coro

from pipeline.health import REASONS, detail_key, problem_key
from pipeline.replay import REPLAY_PATH
from spiders.middlewares import ORIGINAL_URL

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

# Request meta a spider sets to say what it expects back: "json" (an API) or "list" (a page of entries).
EXPECTS = "yuqing_expects"
# Request meta set to False for a request that may legitimately meet a login page (a login flow itself).
CHECK = "yuqing_health_check"

REFUSALS: dict[int, str] = {
    401: "login_wall",
    403: "blocked",
    418: "blocked",  # Weibo and some WAFs answer bots with "I'm a teapot"
    429: "blocked",  # only after the retries with backoff are spent
    432: "blocked",  # Baidu's anti-crawler status
}

# Where sites send a visitor they will not serve. Verification first: Baidu's wappass is also a passport.
CAPTCHA_URL = re.compile(
    r"captcha|wappass\.baidu\.com|/verify|/antispider|/sec(?:urity)?[_-]?check", re.IGNORECASE
)
LOGIN_URL = re.compile(
    # Whole words only, so /blogging/ is not a login; "logging" is Discuz's member.php?mod=logging.
    r"passport|(?<![a-z])(?:login|logon|signin|sign_in|logging)(?![a-z])|/sso[/.?]|/cas/",
    re.IGNORECASE,
)

CAPTCHA_MARKERS = (
    "验证码",
    "安全验证",
    "人机验证",
    "滑动验证",
    "请完成验证",
    "访问验证",
    "antispider",
    "captcha",
)
LOGIN_MARKERS = ("请登录", "请先登录", "登录后查看", "登录后才能", "扫码登录")

# A block page is small. An ordinary page that merely mentions a 验证码 (news about fraud, a login box in
# the header) has far more text than this, so a marker only counts on a page this short or in its title.
BLOCK_PAGE_MAX_CHARS = 400


@dataclass(frozen=True, slots=True)
class Problem:
    reason: str
    detail: str


def _marker(text: str, markers: tuple[str, ...]) -> str | None:
    lowered = text.lower()
    return next((marker for marker in markers if marker.lower() in lowered), None)


def judge_redirect(target: str) -> Problem | None:
    """A redirect to a verification or login page, or None."""
    if CAPTCHA_URL.search(target):
        return Problem("captcha", f"redirected to a verification page {target}")
    if LOGIN_URL.search(target):
        return Problem("login_wall", f"redirected to a login page {target}")
    return None


def judge_status(status: int, retry_after: str | None = None) -> Problem | None:
    reason = REFUSALS.get(status)
    if reason is None:
        return None
    detail = f"HTTP {status}" + (f" (Retry-After: {retry_after})" if retry_after else "")
    return Problem(reason, detail)


def judge_page(text: str, expects: str | None) -> Problem | None:
    """A captcha or login page in place of what the spider asked for, or None.

    Where JSON was expected, any HTML page naming a verification or a login is one. Elsewhere only the
    page's title, or the whole text of a page too short to be anything but a block page, is read.
    """
    stripped = text.lstrip()
    if stripped.startswith(("{", "[")):
        return None  # JSON: what it says (an error code, a login message) is for the spider to read
    if expects == "json":
        if not stripped.startswith("<"):
            return None
        where, haystack = "an HTML page where JSON was expected", stripped
    else:
        page = Selector(text=text)
        title = " ".join(page.css("title::text").getall())
        visible = "".join(
            page.xpath("//body//text()[not(ancestor::script) and not(ancestor::style)]").getall()
        )
        visible = re.sub(r"\s+", "", visible)
        if len(visible) <= BLOCK_PAGE_MAX_CHARS:
            where, haystack = f"a {len(visible)}-character page", f"{title} {visible}"
        else:
            where, haystack = "the page title", title
    if marker := _marker(haystack, CAPTCHA_MARKERS):
        return Problem("captcha", f"{where} asks for verification ({marker!r})")
    if marker := _marker(haystack, LOGIN_MARKERS):
        return Problem("login_wall", f"{where} asks to log in ({marker!r})")
    return None


def original_of(url: str) -> str:
    """The site's own address of a URL that may be a replay server's stand-in for it."""
    parts = urlsplit(url)
    if parts.path == REPLAY_PATH:
        return parse_qs(parts.query).get("url", [url])[0]
    return url


class SourceUnavailable(IgnoreRequest):
    """The answer was a refusal, captcha or login page: dropped here, counted, and the crawl is closing."""

    def __init__(self, source: str, problem: Problem, url: str) -> None:
        super().__init__(f"{source}: {problem.reason}: {url}: {problem.detail}")
        self.source = source
        self.problem = problem
        self.url = url


def report_problem(
    crawler: Crawler, source: str, reason: str, url: str, detail: str, *, close: bool = False
) -> None:
    """One greppable line and the counter `yuqing/source/<source>/<reason>`; for a health reason the first
    detail is kept for the alert and, when `close`, the crawl is closed with `reason` as its finish reason."""
    logger.warning("%s: %s: %s: %s", source, reason, url, detail)
    stats = crawler.stats
    if stats is not None:
        stats.inc_value(problem_key(source, reason))
        if reason in REASONS and stats.get_value(detail_key(source)) is None:
            stats.set_value(detail_key(source), f"{detail} ({url})")
    if close and crawler.engine is not None and crawler.engine.spider is not None:
        # Scheduled, not awaited: closing waits for the downloads in flight, this one among them.
        deferred_from_coro(crawler.engine.close_spider_async(reason=reason))


class SourceHealthMiddleware:
    """Downloader middleware; sits just inside the retry middleware, so it judges the answer that is left
    when the retries are spent, and sees every redirected request before it is fetched."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.closing: str | None = None

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    @property
    def source(self) -> str:
        spider = self.crawler.spider
        return getattr(spider, "source_name", None) or getattr(spider, "name", "?")

    def process_request(self, request: Request) -> None:
        if not request.meta.get("redirect_urls") or request.meta.get(CHECK) is False:
            return
        target = request.meta.get(ORIGINAL_URL, request.url)
        problem = judge_redirect(target)
        if problem is not None:
            self._fail(problem, original_of(request.meta["redirect_urls"][0]))

    def process_response(self, request: Request, response: Response) -> Response:
        if request.meta.get(CHECK) is False:
            return response
        url = request.meta.get(ORIGINAL_URL, request.url)
        retry_after = response.headers.get("Retry-After")
        problem = judge_status(response.status, retry_after.decode("latin-1") if retry_after else None)
        if problem is None and isinstance(response, TextResponse) and 200 <= response.status < 300:
            problem = judge_page(response.text, request.meta.get(EXPECTS))
        if problem is not None:
            self._fail(problem, url)
        return response

    def _fail(self, problem: Problem, url: str) -> None:
        report_problem(
            self.crawler, self.source, problem.reason, url, problem.detail, close=self.closing is None
        )
        self.closing = self.closing or problem.reason
        raise SourceUnavailable(self.source, problem, url)
