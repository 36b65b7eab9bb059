"""Rendering through the system Chromium (scrapy-playwright), only for sources with `render: true`.

`render_settings` are the Scrapy settings such a source's crawl runs with; `RenderMiddleware` marks each of
its requests for Playwright. Against the replay server every request the page makes (the page itself, its
scripts, its XHR) is answered from the recordings inside the browser, so the page keeps its real address and
its relative links resolve as on the live site.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Self

from scrapy.exceptions import NotConfigured
from scrapy.http import Request

from config.env import Env
from pipeline.browser import launch_options
from pipeline.replay import replay_request_url
from spiders.middlewares import replay_url

if TYPE_CHECKING:
    from playwright.async_api import Page, Route
    from playwright.async_api import Request as PlaywrightRequest
    from scrapy.crawler import Crawler

logger = logging.getLogger(__name__)

HANDLER = "scrapy_playwright.handler.ScrapyPlaywrightDownloadHandler"

# Where a rendered request's page is replayed from: the crawl's replay server, carried on the request since
# the page callback sees no crawler.
REPLAY_BASE = "yuqing_replay_base"

# Pictures, fonts and media change nothing in the text we read; not fetching them is lighter for the site.
HEAVY_RESOURCES = frozenset({"image", "media", "font"})


def skip_heavy_resources(request: PlaywrightRequest) -> bool:
    """PLAYWRIGHT_ABORT_REQUEST: True for what the page does not need to be read."""
    return request.resource_type in HEAVY_RESOURCES


def render_settings(env: Env, concurrency: int, timeout_seconds: float) -> dict[str, Any]:
    """Settings of a crawl whose pages are rendered; raises BrowserMissing without a system Chromium."""
    return {
        "DOWNLOAD_HANDLERS": {"http": HANDLER, "https": HANDLER},
        "PLAYWRIGHT_BROWSER_TYPE": "chromium",
        "PLAYWRIGHT_LAUNCH_OPTIONS": launch_options(env),
        "PLAYWRIGHT_ABORT_REQUEST": "spiders.render.skip_heavy_resources",
        "PLAYWRIGHT_MAX_PAGES_PER_CONTEXT": concurrency,
        "PLAYWRIGHT_DEFAULT_NAVIGATION_TIMEOUT": timeout_seconds * 1000,
    }


async def replay_in_browser(page: Page, request: Request) -> None:
    """playwright_page_init_callback: answer everything the page asks for from the replay server."""
    base = request.meta.get(REPLAY_BASE)
    if not base:
        return

    async def answer(route: Route) -> None:
        url = route.request.url
        if not url.startswith(("http://", "https://")) or url.startswith(base):
            await route.fallback()
            return
        recorded = await page.context.request.fetch(
            replay_request_url(base, url), method=route.request.method, max_redirects=0
        )
        await route.fulfill(response=recorded)

    await page.route("**/*", answer)


class RenderMiddleware:
    """Downloader middleware: every request of a `render` source goes through Playwright, unless the spider
    set `playwright` in its meta itself (False keeps that one request plain)."""

    def __init__(self, replay: str | None) -> None:
        self.replay = replay

    @classmethod
    def from_crawler(cls, crawler: Crawler) -> Self:
        source = getattr(crawler.spider, "source_config", None)
        if source is None or not getattr(source, "render", False):
            raise NotConfigured  # no message: Scrapy would log one warning per crawl
        replay = replay_url(crawler)
        logger.info("%s: pages are rendered in Chromium%s", source.name, " (replayed)" if replay else "")
        return cls(replay)

    def process_request(self, request: Request) -> None:
        meta = request.meta
        if "playwright" not in meta:
            meta["playwright"] = True
        if meta["playwright"] and self.replay:
            meta.setdefault(REPLAY_BASE, self.replay)
            meta.setdefault("playwright_page_init_callback", replay_in_browser)
