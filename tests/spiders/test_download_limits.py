"""A page over DOWNLOAD_MAXSIZE is cut off in a real crawl, and counted and logged against its source
(`too_large`) while the rest of the source is still read."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from config import settings
from pipeline.replay import ReplayServer
from tests.helpers import crawl, feed, run_record

FIXTURES = Path(__file__).parents[1] / "fixtures" / "local_gov"
HUGE = "https://www.puyang.gov.cn/zwdt/202611/t20261122_2046105.html"


def test_a_page_over_the_download_limit_is_counted_for_its_source(tmp_path: Path) -> None:
    recordings = tmp_path / "local_gov"
    shutil.copytree(FIXTURES, recordings)
    entries = json.loads((recordings / "index.json").read_text(encoding="utf-8"))["responses"]
    page = recordings / next(e["file"] for e in entries if e["url"] == HUGE)
    # The real page with a runaway comment appended: valid HTML, one byte per character, over the limit.
    page.write_bytes(page.read_bytes() + b"<!--" + b"x" * settings.DOWNLOAD_MAXSIZE + b"-->")

    with ReplayServer(recordings) as server:
        done = crawl(
            "generic",
            "puyang_gov_zwdt",
            server=server,
            data_dir=tmp_path / "data",
            config_dir=None,
            now="2026-11-23T09:00:00+08:00",
            out=tmp_path / "items.jsonl",
        )
    assert done.returncode == 0, done.stderr[-3000:]
    urls = {item["url"] for item in feed(tmp_path / "items.jsonl")}
    assert HUGE not in urls
    assert len(urls) == 6  # the other articles of the two list pages
    stats = run_record(tmp_path / "data", "puyang_gov_zwdt")["stats"]
    assert stats["yuqing/source/puyang_gov_zwdt/too_large"] == 1
    assert f"puyang_gov_zwdt: too_large: {HUGE}: 页面声明 " in done.stderr
    assert f"超过下载上限 {settings.DOWNLOAD_MAXSIZE:,} 字节" in done.stderr
