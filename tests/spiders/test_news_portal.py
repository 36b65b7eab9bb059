"""The portal spiders' shared parts: field parsers, incremental state, source config."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from config.errors import ConfigError
from pipeline.items import SHANGHAI, AuthorKind
from spiders.base.news_portal import (
    author_kind_of,
    clean_text,
    dedupe_paragraphs,
    load_source_config,
    parse_cn_datetime,
    parse_count,
    parse_editor,
    parse_unix_time,
)
from spiders.state import SourceState


def sh(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=SHANGHAI)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026年11月23日 08:57", sh(2026, 11, 23, 8, 57)),
        ("2026年11月23日08:57", sh(2026, 11, 23, 8, 57)),
        ("2026年1月3日 8:05:09", sh(2026, 1, 3, 8, 5, 9)),
        ("2026年11月23日", sh(2026, 11, 23)),
        ("2026年11月22日16:20\xa0濮阳日报", sh(2026, 11, 22, 16, 20)),
        ("2026年11月23日 08时57分", sh(2026, 11, 23, 8, 57)),
        ("2026-11-23 08:57:12", sh(2026, 11, 23, 8, 57, 12)),
        ("2026-11-23T08:57:12+08:00", sh(2026, 11, 23, 8, 57, 12)),
        ("2026-11-23T00:57:12Z", sh(2026, 11, 23, 8, 57, 12)),
        ("2026-11-23T00:57:12+0000", sh(2026, 11, 23, 8, 57, 12)),
        ("2026/11/23 08:57", sh(2026, 11, 23, 8, 57)),
        ("发布时间：2026.11.23 08:57 来源：新华社", sh(2026, 11, 23, 8, 57)),
        ("", None),
        (None, None),
        ("昨天 08:57", None),
        ("2026年13月40日 08:57", None),
    ],
)
def test_parse_cn_datetime(text, expected):
    parsed = parse_cn_datetime(text)
    assert parsed == expected
    if parsed is not None:
        assert parsed.utcoffset() == timedelta(hours=8)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("1795394467", sh(2026, 11, 23, 8, 41, 7)),
        (1795394467, sh(2026, 11, 23, 8, 41, 7)),
        (" 1795394467 ", sh(2026, 11, 23, 8, 41, 7)),
        ("", None),
        ("0", None),
        (None, None),
        ("abc", None),
    ],
)
def test_parse_unix_time(value, expected):
    parsed = parse_unix_time(value)
    assert parsed == expected
    if parsed is not None:
        assert parsed.tzinfo is SHANGHAI


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("\u3000\u3000新华社北京11月23日电", "新华社北京11月23日电"),
        ("a\xa0\xa0b\u200b c", "a b c"),
        ("\n  第一行\n\n第二行  \n", "第一行 第二行"),
        ("\ufeff", ""),
        (None, ""),
    ],
)
def test_clean_text(raw, expected):
    assert clean_text(raw) == expected


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


def test_times_are_compared_as_instants():
    assert parse_cn_datetime("2026-11-23T08:00:00+08:00") == datetime(2026, 11, 23, 0, tzinfo=UTC)
