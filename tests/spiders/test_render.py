"""Rendering in the system Chromium: a list that the page builds in JavaScript (a 南乐县 column page, whose
entries sit in a datastore that the site's script turns into a list) is read only with `render: true`;
without it the list is empty and the source says so. `yuqing doctor` really launches the browser."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from config.env import PROJECT_ROOT, Env
from config.loader import DEFAULT_DIR
from pipeline.browser import check_browser
from pipeline.replay import ReplayServer

pytestmark = pytest.mark.browser

FIXTURES = Path(__file__).parents[1] / "fixtures" / "local_gov" / "render"
COLUMN = "https://www.nanle.gov.cn/col/col2961/index.html"
SOURCES = f"""\
sources:
  - name: nanle_rendered
    spider: generic
    render: true
    start_urls: [{COLUMN}]
    options: &nanle
      container: "div[id='4185761']"
      items: "div[id='4185761'] li"
      fields: {{url: "a::attr(href)", title: "a::attr(title)", date: "span::text"}}
      date_formats: ["%Y-%m-%d"]
  - name: nanle_plain
    spider: generic
    start_urls: [{COLUMN}]
    options: *nanle
"""


@pytest.fixture(scope="module")
def crawls(tmp_path_factory):
    root = tmp_path_factory.mktemp("render")
    config = root / "config"
    shutil.copytree(DEFAULT_DIR, config, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    (config / "sources.yaml").write_text(SOURCES, encoding="utf-8")
    results = {}
    with ReplayServer(FIXTURES) as server:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("YUQING_", "ES_"))}
        env.update(
            YUQING_REPLAY_URL=server.base_url,
            YUQING_DATA_DIR=str(root / "data"),
            YUQING_CONFIG_DIR=str(config),
            YUQING_NOW="2026-11-23T09:00:00+08:00",
        )
        for source in ("nanle_rendered", "nanle_plain"):
            server.served.clear()
            out = root / f"{source}.jsonl"
            command = [
                sys.executable,
                "-m",
                "scrapy",
                "crawl",
                "generic",
                "-a",
                f"source={source}",
                "-O",
                str(out),
            ]
            command += [
                "-s",
                "ITEM_PIPELINES={}",
                "-s",
                "DOWNLOAD_DELAY=0",
                "-s",
                "AUTOTHROTTLE_ENABLED=False",
            ]
            done = subprocess.run(
                command, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=180, check=False
            )
            items = (
                [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
                if out.exists()
                else []
            )
            results[source] = (done, items, list(server.served))
    return results


def test_with_render_the_list_built_by_javascript_is_read(crawls):
    done, items, served = crawls["nanle_rendered"]
    assert done.returncode == 0, done.stderr[-3000:]
    assert "'finish_reason': 'finished'" in done.stderr, done.stderr[-3000:]
    assert [item["title"] for item in items] == [
        "南乐县召开冬季森林防火工作部署会",
        "南乐县元村镇开展农村人居环境集中整治",
        "南乐县政务服务中心推出“午间不打烊”服务",
        "南乐县千口镇蔬菜大棚冬季生产忙",
        "南乐县开展冬季校园食品安全专项检查",
    ]
    assert items[0]["url"] == "https://www.nanle.gov.cn/art/2026/11/23/art_2961_1180345.html"
    assert items[0]["published_at"] == "2026-11-23T00:00:00+08:00"
    # The page ran the site's own script, fetched by the browser at the site's address.
    assert (200, "https://www.nanle.gov.cn/module/web/jpage/jpage.js") in [(s, u) for _, s, u in served]
    assert "Browser chromium launched" in done.stderr


def test_without_render_the_same_page_is_reported_empty(crawls):
    done, items, served = crawls["nanle_plain"]
    assert done.returncode == 0, done.stderr[-3000:]
    assert items == []
    assert "'finish_reason': 'empty'" in done.stderr
    assert "'yuqing/source/nanle_plain/empty': 1" in done.stderr
    assert "页面上有列表（div[id='4185761']），但其中没有条目" in done.stderr
    assert [url for _, _, url in served] == [COLUMN]  # no browser: the script is never fetched


def test_doctor_launches_the_system_chromium(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("YUQING_", "ES_"))}
    env.update(YUQING_DATA_DIR=str(tmp_path / "data"), COLUMNS="250")
    doctor = subprocess.run(
        [sys.executable, "-m", "commands.cli", "doctor"],
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    [line] = [line for line in doctor.stdout.splitlines() if " 浏览器：" in line]
    assert line.startswith("正常 浏览器：")
    assert "（Chromium " in line
    assert "可无界面渲染 JavaScript 网页" in line


def test_a_chromium_that_cannot_start_is_reported_with_the_reason(tmp_path, monkeypatch):
    fake = tmp_path / "chromium"
    fake.write_text("#!/bin/sh\necho 'error while loading shared libraries: libnss3.so' >&2\nexit 127\n")
    fake.chmod(0o755)
    monkeypatch.setenv("YUQING_CHROMIUM", str(fake))
    check = check_browser(Env(), timeout_ms=15_000)
    assert not check.ok
    assert check.detail.startswith(f"{fake} 无法启动：")
    monkeypatch.setenv("YUQING_CHROMIUM", str(tmp_path / "nowhere"))
    missing = check_browser(Env())
    assert (missing.ok, missing.detail) == (False, f"YUQING_CHROMIUM={tmp_path / 'nowhere'} 不是文件")


def test_a_rendered_source_crawls_in_the_patrols_one_process_beside_plain_ones(tmp_path, monkeypatch):
    """The patrol runs a rendered source's crawler in the same process as the others (its Chromium is a
    process of its own anyway): its list is read, the plain source beside it is unaffected."""
    from commands.patrol import run_patrol
    from config.env import get_env
    from config.loader import load_config

    config = tmp_path / "config"
    shutil.copytree(DEFAULT_DIR, config, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    sina = '  - name: sina_news\n    spider: sina_news\n    start_urls: ["https://feed.mix.sina.com.cn/api/roll/get?pageid=153&lid=2510&k=&num=50&page=1"]\n'
    (config / "sources.yaml").write_text(SOURCES + sina, encoding="utf-8")
    for name in [k for k in os.environ if k.startswith(("YUQING_", "ES_"))]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("YUQING_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("YUQING_CONFIG_DIR", str(config))
    monkeypatch.setenv("YUQING_NOW", "2026-11-23T09:00:00+08:00")
    get_env.cache_clear()
    try:
        with ReplayServer(FIXTURES, FIXTURES.parents[1] / "sina") as server:
            report = run_patrol(load_config(config), get_env(), replay_url=server.base_url)
    finally:
        get_env.cache_clear()
    runs = {run.source: run for run in report.runs}
    assert (runs["nanle_rendered"].health, runs["nanle_rendered"].items) == ("ok", 5), runs[
        "nanle_rendered"
    ].detail
    assert runs["nanle_plain"].health == "empty"
    assert (runs["sina_news"].health, runs["sina_news"].items) == ("ok", 25)
    pids = {path.name.split("-")[-2] for path in (tmp_path / "data" / "runs").glob("*.json")}
    assert len(pids) == 1
