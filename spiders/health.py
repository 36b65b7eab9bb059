"""Source health at the download: the answers that mean a site has stopped letting us read it, and the
fetches that got no answer at all.

`SourceHealthMiddleware` recognises refusals (HTTP 401/403/418/429/432), redirects to a login or verification
page, and captcha or login pages served where the spider expected JSON or a list. Each is logged once with
source, URL and reason, counted as `yuqing/source/<source>/<reason>`, and closes the crawl with that reason:
going on would only hammer a site that is refusing us. It also counts, for every spider alike, each fetch
that was answered and each that failed for good (DNS, refused, reset, timeout, TLS, proxy, a 5xx left after
the retries), named by `classify_failure`; when the first fetches all failed the crawl is closed as
`unreachable` rather than trying the rest one by one. `pipeline.health.assess` judges the counts and
`pipeline.extensions.SourceHealthExtension` turns the verdict into a health alert. Spiders report the
problems only they can see (an empty list, a changed layout) with `report_problem`.
"""

from __future__ import annotations

import logging
import re
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import parse_qs, urlsplit

from OpenSSL import SSL
from parsel import Selector
from scrapy.core.downloader.handlers.http11 import TunnelError
from scrapy.exceptions import (
    CannotResolveHostError,
    DownloadCancelledError,
    DownloadConnectionRefusedError,
    DownloadFailedError,
    DownloadTimeoutError,
    IgnoreRequest,
    ResponseDataLossError,
)
from scrapy.http import Request, Response, TextResponse
from scrapy.utils.defer import deferred_from_coro
from twisted.internet import error as tx
from twisted.python.failure import Failure

from pipeline.health import FETCH_FAILURES, REASONS, UNREACHABLE, detail_key, fetch_key, problem_key
from pipeline.replay import REPLAY_PATH
from spiders.middlewares import ORIGINAL_URL

if TYPE_CHECKING:
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

# Request meta a spider sets to say what it expects back: "json" (an API) or "list" (a page of entries).
EXPECTS = "yuqing_expects"
# Request meta set to False for a request that may legitimately meet a login page (a login flow itself).
CHECK = "yuqing_health_check"
# Request meta the middleware sets on a request that failed for good: its `FetchFailure`.
FAILURE = "yuqing_fetch_failure"

# The crawl is closed as unreachable after this many fetches failed for good before any was answered.
UNREACHABLE_AFTER = 2

# Answers that are no answer: the server failed, or a gateway timed out waiting for it.
SERVER_ERRORS = range(500, 600)

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
        return Problem("captcha", f"被重定向到验证页 {target}")
    if LOGIN_URL.search(target):
        return Problem("login_wall", f"被重定向到登录页 {target}")
    return None


def judge_status(status: int, retry_after: str | None = None) -> Problem | None:
    reason = REFUSALS.get(status)
    if reason is None:
        return None
    detail = f"HTTP {status}" + (f"（Retry-After: {retry_after}）" if retry_after else "")
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
        where, haystack = "应返回 JSON 处返回的网页", stripped
    else:
        page = Selector(text=text)
        title = " ".join(page.css("title::text").getall())
        visible = "".join(
            page.xpath("//body//text()[not(ancestor::script) and not(ancestor::style)]").getall()
        )
        visible = re.sub(r"\s+", "", visible)
        if len(visible) <= BLOCK_PAGE_MAX_CHARS:
            where, haystack = f"只有 {len(visible)} 个字的页面", f"{title} {visible}"
        else:
            where, haystack = "页面标题", title
    if marker := _marker(haystack, CAPTCHA_MARKERS):
        return Problem("captcha", f"{where}要求验证（「{marker}」）")
    if marker := _marker(haystack, LOGIN_MARKERS):
        return Problem("login_wall", f"{where}要求登录（「{marker}」）")
    return None


@dataclass(frozen=True, slots=True)
class FetchFailure:
    """Why a fetch got no usable answer: `kind` is a key of `pipeline.health.FETCH_FAILURES`; `host` the
    host (or proxy) that failed; `error` the exception or status, for the log."""

    kind: str
    host: str
    error: str
    status: int | None = None

    @property
    def detail(self) -> str:
        status = f" HTTP {self.status}" if self.status is not None else ""
        return f"{FETCH_FAILURES[self.kind]}{status} {self.host}"


# Chromium's own words for the same failures, when a page is rendered in the browser.
CHROMIUM_ERRORS: tuple[tuple[str, str], ...] = (
    ("ERR_PROXY", "proxy"),
    ("ERR_TUNNEL", "proxy"),
    ("ERR_SSL", "tls"),
    ("ERR_CERT", "tls"),
    ("ERR_NAME_NOT_RESOLVED", "dns"),
    ("ERR_NAME_RESOLUTION_FAILED", "dns"),
    ("ERR_CONNECTION_REFUSED", "refused"),
    ("ERR_TIMED_OUT", "timeout"),
    ("ERR_CONNECTION_TIMED_OUT", "timeout"),
    ("ERR_CONNECTION_RESET", "reset"),
    ("ERR_CONNECTION_CLOSED", "reset"),
    ("ERR_EMPTY_RESPONSE", "reset"),
    ("ERR_INTERNET_DISCONNECTED", "network"),
    ("ERR_ADDRESS_UNREACHABLE", "network"),
    ("ERR_NETWORK", "network"),
)

# Most telling first: a wrapped exception may carry several (a reset seen while a TLS handshake failed).
KIND_ORDER = ("proxy", "tls", "dns", "refused", "timeout", "network", "reset", "other")


def _chain(exception: BaseException) -> Iterator[BaseException]:
    """The exception, what it wraps (`__cause__`, `__context__`) and Twisted's wrapped reasons."""
    seen: list[BaseException] = []
    pending: list[Any] = [exception]
    while pending:
        current = pending.pop(0)
        if isinstance(current, Failure):
            current = current.value
        if not isinstance(current, BaseException) or any(current is s for s in seen):
            continue
        seen.append(current)
        yield current
        pending += [current.__cause__, current.__context__, *(getattr(current, "reasons", None) or [])]


def _kind(exception: BaseException) -> str:
    if isinstance(exception, TunnelError):
        return "proxy"
    if isinstance(exception, SSL.Error | ssl.SSLError | tx.SSLError | tx.VerifyError | tx.CertificateError):
        return "tls"
    if isinstance(exception, CannotResolveHostError | tx.DNSLookupError | tx.UnknownHostError):
        return "dns"
    if isinstance(
        exception, DownloadConnectionRefusedError | tx.ConnectionRefusedError | ConnectionRefusedError
    ):
        return "refused"
    if isinstance(exception, DownloadTimeoutError | tx.TimeoutError | tx.TCPTimedOutError | TimeoutError):
        return "timeout"
    message = str(exception)
    for marker, kind in CHROMIUM_ERRORS:
        if marker in message:
            return kind
    if type(exception).__name__ == "TimeoutError":  # Playwright's own, a browser page that never loaded
        return "timeout"
    if isinstance(exception, tx.NoRouteError | tx.ConnectError):
        return "network"
    if isinstance(
        exception,
        tx.ConnectionLost
        | tx.ConnectionDone
        | ResponseDataLossError
        | ConnectionResetError
        | DownloadFailedError,
    ):
        return "reset"
    return "other"


def _host(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or url
    return f"{host}:{parts.port}" if parts.port else host


def classify_failure(exception: BaseException, request: Request) -> FetchFailure | None:
    """What kind of failure an exception of the download is, or None when it is no failure of the site
    (a request dropped on purpose, a download cancelled because the crawl is closing)."""
    if isinstance(exception, IgnoreRequest | DownloadCancelledError):
        return None
    kinds = {_kind(found) for found in _chain(exception)}
    kind = next(kind for kind in KIND_ORDER if kind in kinds)
    host = _host(request.url)
    proxy = request.meta.get("proxy")
    if proxy and kind in ("dns", "refused", "network", "proxy"):
        # The connection that failed was the one to the proxy; its URL may hold a password, its host not.
        kind, host = "proxy", _host(proxy)
    return FetchFailure(kind, host, f"{type(exception).__name__}: {exception}")


def note_fetch_failure(failure: Any, source: str, log: logging.Logger | logging.LoggerAdapter) -> bool:
    """For spiders' errbacks: True when the failure is a fetch the health middleware has already counted
    and logged (or a request it dropped); anything else is logged here, so nothing fails silently."""
    request = failure.request
    if request.meta.get(FAILURE) is not None or failure.check(IgnoreRequest):
        return True
    url = request.meta.get(ORIGINAL_URL, request.url)
    log.warning("%s: fetch_error: %s: %s: %s", source, url, failure.type.__name__, failure.getErrorMessage())
    return False


def original_of(url: str) -> str:
    """The site's own address of a URL that may be a replay server's stand-in for it."""
    parts = urlsplit(url)
    if parts.path == REPLAY_PATH:
        return parse_qs(parts.query).get("url", [url])[0]
    return url


class CrawlStopped(IgnoreRequest):
    """A request still waiting for its turn when the crawl was closed as unreachable: not fetched at all."""


class SourceUnavailable(IgnoreRequest):
    """The answer was a refusal, captcha or login page: dropped here, counted, and the crawl is closing."""

    def __init__(self, source: str, problem: Problem, url: str) -> None:
        super().__init__(f"{source}: {problem.reason}: {url}: {problem.detail}")
        self.source = source
        self.problem = problem
        self.url = url


def source_of(spider: object) -> str:
    """The source a spider crawls (its `source_name`), or its name for one that is not a source's."""
    return str(getattr(spider, "source_name", None) or getattr(spider, "name", "?"))


def report_problem(
    crawler: Crawler,
    source: str,
    reason: str,
    url: str,
    detail: str,
    *,
    close: bool = False,
    level: int = logging.WARNING,
) -> None:
    """One greppable line and the counter `yuqing/source/<source>/<reason>`; for a health reason the first
    detail is kept for the alert and, when `close`, the crawl is closed with `reason` as its finish reason."""
    logger.log(level, "%s: %s: %s: %s", source, reason, url, detail)
    stats = crawler.stats
    if stats is not None:
        stats.inc_value(problem_key(source, reason))
        if reason in REASONS and stats.get_value(detail_key(source)) is None:
            stats.set_value(detail_key(source), f"{detail}（{url}）")
    if close and crawler.engine is not None and crawler.engine.spider is not None:
        # Scheduled, not awaited: closing waits for the downloads in flight, this one among them.
        deferred_from_coro(crawler.engine.close_spider_async(reason=reason))


class SourceHealthMiddleware:
    """Downloader middleware; sits just inside the retry middleware, so it judges the answer that is left
    when the retries are spent, and sees every redirected request before it is fetched."""

    def __init__(self, crawler: Crawler) -> None:
        self.crawler = crawler
        self.closing: str | None = None
        self.fetched = 0
        self.failed = 0
        self.unreachable_after = crawler.settings.getint("YUQING_UNREACHABLE_AFTER", UNREACHABLE_AFTER)

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        return cls(crawler)

    @property
    def source(self) -> str:
        return source_of(self.crawler.spider)

    def process_request(self, request: Request) -> None:
        if self.closing == UNREACHABLE:
            # A request that comes back after the verdict (a retry, a stand-in for the replay server).
            raise CrawlStopped(f"{self.source}: {UNREACHABLE}: not fetched: {request.url}")
        if not request.meta.get("redirect_urls") or request.meta.get(CHECK) is False:
            return
        target = request.meta.get(ORIGINAL_URL, request.url)
        problem = judge_redirect(target)
        if problem is not None:
            self._fail(problem, original_of(request.meta["redirect_urls"][0]))

    def process_response(self, request: Request, response: Response) -> Response:
        if response.status in SERVER_ERRORS:
            # What is left when the retries are spent: the site is there but cannot serve us.
            status = response.status
            failure = FetchFailure("server_error", _host(request.url), f"HTTP {status}", status)
            self._fetch_failed(request, failure)
            return response
        if request.meta.get(CHECK) is False:
            self._fetched()
            return response
        url = request.meta.get(ORIGINAL_URL, request.url)
        retry_after = response.headers.get("Retry-After")
        problem = judge_status(response.status, retry_after.decode("latin-1") if retry_after else None)
        if problem is None and isinstance(response, TextResponse) and 200 <= response.status < 300:
            problem = judge_page(response.text, request.meta.get(EXPECTS))
        if problem is not None:
            self._fail(problem, url)
        self._fetched()
        return response

    def process_exception(self, request: Request, exception: Exception) -> None:
        """A download that failed for good (the retry middleware, outside, has given up on it). Counted and
        named here, then left to go on to the spider's errback."""
        failure = classify_failure(exception, request)
        if failure is not None:
            self._fetch_failed(request, failure)

    def _fetched(self) -> None:
        self.fetched += 1
        if self.crawler.stats is not None:
            self.crawler.stats.inc_value(fetch_key(self.source, "ok"))

    def _fetch_failed(self, request: Request, failure: FetchFailure) -> None:
        request.meta[FAILURE] = failure
        self.failed += 1
        source = self.source
        url = request.meta.get(ORIGINAL_URL, request.url)
        logger.warning("%s: fetch_failed: %s: %s (%s)", source, url, failure.detail, failure.error)
        stats = self.crawler.stats
        if stats is not None:
            stats.inc_value(fetch_key(source, "failed"))
            stats.inc_value(fetch_key(source, f"failed/{failure.kind}"))
            if stats.get_value(fetch_key(source, "first_failure")) is None:
                stats.set_value(fetch_key(source, "first_failure"), f"{failure.detail}（{url}）")
        if self.closing is None and not self.fetched and self.failed >= self.unreachable_after:
            self.closing = UNREACHABLE
            logger.error(
                "%s: %s: 前 %d 次请求全部失败、没有一次得到回应，本次抓取到此停止",
                source,
                UNREACHABLE,
                self.failed,
            )
            self._close(UNREACHABLE)

    def _close(self, reason: str) -> None:
        engine = self.crawler.engine
        if engine is None or engine.spider is None:
            return
        # Scheduled, not awaited: closing waits for the downloads in flight, this one among them.
        deferred_from_coro(engine.close_spider_async(reason=reason))
        # Closing also waits for every request the downloader has queued, each after the source's delay,
        # so a dead site would still be asked once per queued page; they are dropped instead.
        slots = getattr(getattr(engine, "downloader", None), "slots", None) or {}
        dropped = 0
        for slot in list(slots.values()):
            queue = getattr(slot, "queue", None)
            while queue:
                request, waiting = queue.popleft()
                waiting.errback(Failure(CrawlStopped(f"{self.source}: {reason}: not fetched: {request.url}")))
                dropped += 1
        if dropped:
            logger.info("%s: 放弃排队中的 %d 个请求，不再抓取", self.source, dropped)

    def _fail(self, problem: Problem, url: str) -> None:
        report_problem(
            self.crawler, self.source, problem.reason, url, problem.detail, close=self.closing is None
        )
        self.closing = self.closing or problem.reason
        raise SourceUnavailable(self.source, problem, url)
