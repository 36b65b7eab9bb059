"""The replay middleware: requests go to the replay server, answers come back under the original URL."""

from __future__ import annotations

import pytest
from scrapy import Request
from scrapy.exceptions import NotConfigured
from scrapy.http import HtmlResponse
from scrapy.utils.test import get_crawler

from config.env import get_env
from spiders.middlewares import ORIGINAL_URL, ReplayMiddleware

ARTICLE = "https://news.sina.com.cn/s/2026-11-23/doc-inhysupf2818662.shtml"


@pytest.fixture
def replay_url(monkeypatch):
    monkeypatch.setenv("YUQING_REPLAY_URL", "http://127.0.0.1:8765/")
    get_env.cache_clear()
    yield "http://127.0.0.1:8765"
    get_env.cache_clear()


def test_off_unless_a_replay_url_is_set(monkeypatch):
    monkeypatch.delenv("YUQING_REPLAY_URL", raising=False)
    get_env.cache_clear()
    try:
        with pytest.raises(NotConfigured, match="YUQING_REPLAY_URL"):
            ReplayMiddleware.from_crawler(get_crawler())
    finally:
        get_env.cache_clear()


def test_a_patrol_gives_each_crawl_its_replay_server_as_a_setting(monkeypatch):
    monkeypatch.delenv("YUQING_REPLAY_URL", raising=False)
    get_env.cache_clear()
    try:
        crawler = get_crawler(settings_dict={"YUQING_REPLAY_URL": "http://127.0.0.1:8766/"})
        middleware = ReplayMiddleware.from_crawler(crawler)
    finally:
        get_env.cache_clear()
    assert middleware.process_request(Request(ARTICLE)).url.startswith("http://127.0.0.1:8766/replay?url=")


def test_requests_are_sent_to_the_replay_server(replay_url):
    middleware = ReplayMiddleware.from_crawler(get_crawler())
    original = Request(ARTICLE, cb_kwargs={"listing": "x"}, meta={"page": 1})
    stand_in = middleware.process_request(original)
    assert stand_in.url == (
        f"{replay_url}/replay?url=https%3A%2F%2Fnews.sina.com.cn%2Fs%2F2026-11-23%2Fdoc-inhysupf2818662.shtml"
    )
    assert stand_in.meta == {"page": 1, ORIGINAL_URL: ARTICLE}
    assert stand_in.cb_kwargs == {"listing": "x"}
    assert stand_in.dont_filter
    assert middleware.process_request(stand_in) is None  # already on its way to the replay server

    answer = HtmlResponse(url=stand_in.url, body=b"<html></html>", request=stand_in)
    assert middleware.process_response(stand_in, answer).url == ARTICLE


def test_a_redirect_copying_the_meta_is_sent_to_the_replay_server_too(replay_url):
    middleware = ReplayMiddleware.from_crawler(get_crawler())
    target = "https://news.sina.com.cn/c/2026-11-23/doc-inhoterl6999016.shtml"
    redirected = Request(target, meta={ORIGINAL_URL: ARTICLE})
    stand_in = middleware.process_request(redirected)
    assert stand_in.meta[ORIGINAL_URL] == target


def test_answers_to_other_requests_pass_untouched(replay_url):
    middleware = ReplayMiddleware.from_crawler(get_crawler())
    request = Request(ARTICLE)
    answer = HtmlResponse(url=ARTICLE, body=b"", request=request)
    assert middleware.process_response(request, answer) is answer
