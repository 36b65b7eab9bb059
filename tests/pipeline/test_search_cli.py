"""`yuqing search` with its filters, through the real command on a real embedded store."""

from __future__ import annotations

import json
import subprocess
from datetime import datetime, timedelta
from pathlib import Path

from classifiers.types import Level, Severity
from pipeline.items import Analysis, Post, Source
from pipeline.store.sqlite import SqliteStore
from tests.helpers import yuqing

NOW = datetime.fromisoformat("2026-11-23T09:00:00+08:00")


def post(native_id: str, source: Source, hours_ago: int, level: Level) -> Post:
    return Post(
        id=Post.make_id(source, native_id),
        source=source,
        url=f"https://example.cn/{native_id}",
        text="化工厂夜里排污",
        published_at=NOW - timedelta(hours=hours_ago),
        crawled_at=NOW,
        analysis=Analysis(tokens=["化工厂", "排污"], severity=Severity(level=level, score=1.0, reasons=())),
    )


def found(result: subprocess.CompletedProcess[str]) -> list[str]:
    assert result.returncode == 0, result.stderr
    return [json.loads(line)["id"] for line in result.stdout.splitlines()]


def test_search_narrowed_by_time_source_and_level(data_env: dict[str, str], tmp_path: Path) -> None:
    store = SqliteStore(tmp_path / "var" / "store" / "posts.sqlite3")
    store.write(
        [
            post("a", Source.WEIBO, 1, Level.SENSITIVE),
            post("b", Source.TIEBA, 2, Level.SENSITIVE),
            post("c", Source.WEIBO, 30, Level.GENERAL),
        ]
    )
    store.close()

    assert found(yuqing("search", "化工厂", "--json", env=data_env)) == ["weibo:a", "tieba:b", "weibo:c"]
    by_name = yuqing("search", "化工厂", "--json", "--source", "微博", env=data_env)
    assert found(by_name) == ["weibo:a", "weibo:c"]
    recent = yuqing("search", "化工厂", "--json", "--since", "2026-11-23 06:00", env=data_env)
    assert found(recent) == ["weibo:a", "tieba:b"]
    before = yuqing("search", "化工厂", "--json", "--until", "2026-11-23 06:00", env=data_env)
    assert found(before) == ["weibo:c"]
    level = yuqing("search", "化工厂", "--json", "--level", "复杂敏感事件", "--source", "tieba", env=data_env)
    assert found(level) == ["tieba:b"]


def test_a_filter_that_names_nothing_is_refused_with_the_choices(data_env: dict[str, str]) -> None:
    source = yuqing("search", "化工厂", "--source", "抖音", env=data_env)
    assert source.returncode == 2
    assert "没有来源 抖音" in source.stderr
    assert "微博（weibo）" in source.stderr
    level = yuqing("search", "化工厂", "--level", "特别重大", env=data_env)
    assert level.returncode == 2
    assert "没有级别 特别重大" in level.stderr
    assert "重大突发事态" in level.stderr
    moment = yuqing("search", "化工厂", "--since", "上周", env=data_env)
    assert moment.returncode == 2
    assert "--since 上周：不是时间" in moment.stderr


def test_search_reads_like_the_rules_and_a_word_after_a_minus_is_left_out(
    data_env: dict[str, str], tmp_path: Path
) -> None:
    store = SqliteStore(tmp_path / "var" / "store" / "posts.sqlite3")
    drill = post("drill", Source.WEIBO, 1, Level.GENERAL)
    drill.text, drill.title = "化工厂夜里排污应急演练", "应急演练"
    drill.analysis.tokens = ["化工厂", "排污", "应急", "演练"]
    real = post("real", Source.TIEBA, 2, Level.SENSITIVE)
    real.title = "村民举报"
    real.analysis.tokens = ["村民", "举报", "化工厂", "排污"]
    store.write([drill, real])
    store.close()

    # Typed as an analyst types it, no quotes: -演练 is a word to leave out, not an option.
    assert found(yuqing("search", "化工厂", "-演练", "--json", env=data_env)) == ["tieba:real"]
    assert found(yuqing("search", "title:演练", "--json", env=data_env)) == ["weibo:drill"]
    assert found(yuqing("search", "(演练|举报)", "排污", "--json", env=data_env)) == [
        "weibo:drill",
        "tieba:real",
    ]
    wrong = yuqing("search", "化工厂", "(排污", env=data_env)
    assert wrong.returncode == 2
    assert "检索式「化工厂 (排污」第 5 个字符处：左括号 ( 没有对应的右括号 )" in wrong.stderr
    only_not = yuqing("search", "-演练", env=data_env)
    assert only_not.returncode == 2
    assert "请加上必须出现的词" in only_not.stderr
    typo = yuqing("search", "化工厂", "--limt", "3", env=data_env)
    assert typo.returncode == 2
    assert "没有选项 --limt" in typo.stderr
