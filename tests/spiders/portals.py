"""Shared by the portal spider tests: answer a spider's requests from the recordings, GET or POST, as the
replay server would, and follow them the way Scrapy's engine does, in the test process."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
import scrapy
from scrapy.http import Response
from scrapy.responsetypes import responsetypes
from scrapy.utils.request import fingerprint
from scrapy.utils.test import get_crawler

from config.env import PROJECT_ROOT, get_env
from config.models import SourceConfig
from pipeline.items import Post
from pipeline.replay import ReplayServer

FIXTURES = PROJECT_ROOT / "tests" / "fixtures"
ROUND_1_AT = "2026-11-23T09:00:00+08:00"
ROUND_2_AT = "2026-11-23T11:30:00+08:00"


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("YUQING_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("YUQING_NOW", ROUND_1_AT)
    for name in ("YUQING_STATE_DIR", "YUQING_REPLAY_URL", "YUQING_CONFIG_DIR"):
        monkeypatch.delenv(name, raising=False)
    get_env.cache_clear()
    yield tmp_path
    get_env.cache_clear()


def make_spider(cls: type, start_urls: list[str], **config: Any):
    source = SourceConfig(
        name=cls.name,
        spider=cls.name,
        start_urls=start_urls,
        max_pages=config.pop("max_pages", 3),
        max_age_hours=72,
        **config,
    )
    return cls.from_crawler(get_crawler(cls), source_config=source)


class Recordings:
    """One recordings folder, answering requests the way the replay server does."""

    def __init__(self, folder: str) -> None:
        self.directory = FIXTURES / folder
        self.server = ReplayServer(self.directory)  # loaded, never started

    def answer(self, request: scrapy.Request, round_: int = 1) -> Response:
        recording = self.server.lookup(request.url, round_, request.method, request.body or None)
        if recording is None:
            raise LookupError(f"no recording for {request.method} {request.url} {request.body[:120]!r}")
        return self.response(request, recording.file, dict(recording.headers), recording.status)

    def file(self, name: str) -> Path:
        return self.directory / name

    @staticmethod
    def response(request: scrapy.Request, path: Path, headers: dict[str, str], status: int = 200) -> Response:
        body = path.read_bytes()
        cls = responsetypes.from_args(headers=headers, url=request.url, body=body)
        return cls(url=request.url, status=status, headers=headers, body=body, request=request)


def follow(
    recordings: Recordings, requests: Iterable[scrapy.Request], round_: int = 1
) -> tuple[list[Post], list[scrapy.Request]]:
    """Every post the requests lead to, and every request made, in the order an engine would fetch them;
    a request already made is dropped unless it says `dont_filter`, as Scrapy's duplicate filter does."""
    queue = list(requests)
    posts: list[Post] = []
    made: list[scrapy.Request] = []
    seen: set[bytes] = set()
    while queue:
        request = queue.pop(0)
        key = fingerprint(request)
        if key in seen and not request.dont_filter:
            continue
        seen.add(key)
        made.append(request)
        for result in request.callback(recordings.answer(request, round_), **request.cb_kwargs) or ():
            if isinstance(result, scrapy.Request):
                queue.append(result)
            else:
                posts.append(result)
    return posts, made


def stats(spider, kind: str = "source") -> dict[str, int]:
    """Problems counted (`kind="source"`) or what the patrol did (`kind="crawl"`)."""
    prefix = f"yuqing/{kind}/{spider.source_name}/"
    found = spider.crawler.stats.get_stats().items()
    return {key.removeprefix(prefix): value for key, value in found if key.startswith(prefix)}
