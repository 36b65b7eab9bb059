"""The portal spiders' shared parts: field parsers, incremental state, source config."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path

import pytest

from config.errors import ConfigError
from pipeline.items import SHANGHAI, AuthorKind
from spiders.base.news_portal import (
    author_kind_of,
    dedupe_paragraphs,
    load_source_config,
    parse_count,
    parse_editor,
)
from spiders.state import SourceState


def sh(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("3,862", 3862),
        ("3862", 3862),
        ("1.2万", 12000),
        ("2亿", 200_000_000),
        ("评论 15", 15),
        ("", 0),
        (None, 0),
    ],
)
def test_parse_count(text, expected):
    assert parse_count(text) == expected


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("责任编辑：李明 ", "李明"),
        ("\u3000\u3000责任编辑:张三", "张三"),
        ("【责任编辑：王五】", "王五"),
        ("（编辑：赵六）", "赵六"),
        ("责任编辑：", None),
        ("记者 王磊", None),
        ("本报编辑部收到群众来信", None),
    ],
)
def test_parse_editor(line, expected):
    assert parse_editor(line) == expected


def test_dedupe_paragraphs_keeps_the_first_of_each():
    kept, dropped = dedupe_paragraphs(["甲", "乙", "丙", "甲", "乙 ", "丁"])
    assert kept == ["甲", "乙", "丙", "丁"]
    assert dropped == 2


@pytest.mark.parametrize(
    ("media", "kind"),
    [
        ("新华社", AuthorKind.OFFICIAL_MEDIA),
        ("人民日报客户端", AuthorKind.OFFICIAL_MEDIA),
        ("中国新闻网", AuthorKind.OFFICIAL_MEDIA),
        ("央视新闻", AuthorKind.OFFICIAL_MEDIA),
        ("大河报", AuthorKind.UNKNOWN),
        ("濮阳日报", AuthorKind.UNKNOWN),
        (None, AuthorKind.UNKNOWN),
    ],
)
def test_author_kind_of(media, kind):
    assert author_kind_of(media) is kind


# State ---------------------------------------------------------------------------------------------------


def test_state_new_seen_and_changed():
    state = SourceState("sina_news")
    assert state.first_run
    assert state.is_new("a", 100)
    state.remember("a", published=90, version=100)
    assert not state.first_run
    assert not state.is_new("a", 100)
    assert not state.is_new("a", 99)
    assert state.is_new("a", 101)  # modified since it was fetched
    assert state.newest == 90


def test_state_is_bounded_oldest_out():
    state = SourceState("s", limit=3)
    for n in range(5):
        state.remember(f"id{n}", published=n, version=n)
    assert list(state.seen) == ["id2", "id3", "id4"]
    state.remember("id2", published=2, version=7)  # seen again: now the most recent
    state.remember("id5", published=5, version=5)
    assert list(state.seen) == ["id4", "id2", "id5"]
    assert state.newest == 5


def test_state_round_trips_atomically(tmp_path):
    state = SourceState("sina_news")
    state.remember("nhysupf2818662", published=1795394467, version=1795394887)
    path = state.save(tmp_path)
    assert path == tmp_path / "sina_news.json"
    assert [p.name for p in tmp_path.iterdir()] == ["sina_news.json"]  # no temp file left behind
    saved = json.loads(path.read_text(encoding="utf-8"))
    assert saved["newest_at"] == "2026-11-23T08:41:07+08:00"
    loaded = SourceState.load("sina_news", tmp_path)
    assert loaded.seen == {"nhysupf2818662": 1795394887}
    assert loaded.newest == 1795394467


@pytest.mark.parametrize("content", ["{not json", '{"seen": ["a", "b"]}', '{"seen": {"a": "x"}}'])
def test_a_damaged_state_file_starts_afresh(tmp_path, content, caplog):
    (tmp_path / "sina_news.json").write_text(content, encoding="utf-8")
    state = SourceState.load("sina_news", tmp_path)
    assert state.first_run
    assert "sina_news: state file" in caplog.text


def test_state_uses_the_configured_state_dir(tmp_path, monkeypatch):
    from config.env import get_env

    monkeypatch.setenv("YUQING_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("YUQING_STATE_DIR", raising=False)
    get_env.cache_clear()
    try:
        assert SourceState("x").save() == tmp_path / "state" / "x.json"
    finally:
        get_env.cache_clear()


# Source config -------------------------------------------------------------------------------------------


SOURCES = """\
sources:
  - name: sina_news
    spider: sina_news
    start_urls:
      - https://feed.mix.sina.com.cn/api/roll/get?pageid=153&lid=2510&k=&num=50&page=1
    max_pages: 3
    max_age_hours: 72
  - name: sina_world
    spider: sina_news
    start_urls:
      - https://feed.mix.sina.com.cn/api/roll/get?pageid=153&lid=2511&k=&num=50&page=1
"""


def test_load_source_config_needs_only_sources_yaml(tmp_path: Path):
    (tmp_path / "sources.yaml").write_text(SOURCES, encoding="utf-8")
    source = load_source_config("sina_world", tmp_path)
    assert source.spider == "sina_news"
    assert source.start_urls == [
        "https://feed.mix.sina.com.cn/api/roll/get?pageid=153&lid=2511&k=&num=50&page=1"
    ]


def test_an_unknown_source_is_named_with_the_known_ones(tmp_path: Path):
    (tmp_path / "sources.yaml").write_text(SOURCES, encoding="utf-8")
    with pytest.raises(ConfigError) as raised:
        load_source_config("sina_nope", tmp_path)
    assert "'sina_nope'" in str(raised.value)
    assert "sina_news、sina_world" in str(raised.value)
    assert raised.value.file.endswith("sources.yaml")
