"""`yuqing analyze` with each sentiment model: the trained default (the regression added to the lexicon)
explains itself with both, the lexicon alone and snownlp are selectable in config/severity.yaml, and a
wrong choice stops with the file and key named."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from classifiers.sentiment import SnowNLPSentiment
from commands.cli import app

ROOT = Path(__file__).resolve().parents[2]
COMPLAINT = "清丰县一小区停暖多日，居民多次投诉，物业推诿，热力公司踢皮球[怒]"


def config_with(tmp_path: Path, choice: str) -> Path:
    config = tmp_path / "config"
    shutil.copytree(ROOT / "config", config, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    severity = config / "severity.yaml"
    text = severity.read_text(encoding="utf-8")
    assert "sentiment_model: trained" in text
    severity.write_text(
        text.replace("sentiment_model: trained", f"sentiment_model: {choice}"), encoding="utf-8"
    )
    return config


def analyse(monkeypatch: pytest.MonkeyPatch, config: Path | None, *texts: str):
    if config is not None:
        monkeypatch.setenv("YUQING_CONFIG_DIR", str(config))
    lines = "\n".join(json.dumps({"text": t}, ensure_ascii=False) for t in texts) + "\n"
    return CliRunner().invoke(app, ["analyze"], input=lines)


def outputs(result) -> list[dict]:
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


def test_the_default_model_explains_a_complaint_with_both_readings(monkeypatch: pytest.MonkeyPatch) -> None:
    """The default: the lexicon's words and the emoticon, the regression's heaviest words, and the sum;
    the county's name is in no reason and no feature."""
    monkeypatch.delenv("YUQING_CONFIG_DIR", raising=False)
    (out,) = outputs(analyse(monkeypatch, None, COMPLAINT))
    assert out["polarity"] == "negative"
    assert out["sentiment"] < 0.1
    reasons = out["sentiment_reasons"]
    assert any("「推诿」" in r and "「踢皮球」" in r for r in reasons), reasons
    assert "负面表情[怒]" in reasons
    (negative,) = [r for r in reasons if r.startswith("负面依据：")]
    assert {"推诿", "投诉", "踢皮球"} & set(negative.removeprefix("负面依据：").split("、")), negative
    assert reasons[-1].startswith("情感词典合计")
    assert "统计模型 P(正面)=" in reasons[-1]
    assert not any("清丰" in r for r in reasons)


def test_the_lexicon_alone_is_selectable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (out,) = outputs(analyse(monkeypatch, config_with(tmp_path, "lexicon"), COMPLAINT))
    assert out["polarity"] == "negative"
    assert any("「推诿」" in r and "「踢皮球」" in r for r in out["sentiment_reasons"])
    assert "负面表情[怒]" in out["sentiment_reasons"]
    assert out["sentiment_reasons"][-1].startswith("合计")
    assert not any("统计模型" in r for r in out["sentiment_reasons"])


def test_snownlp_is_selectable_and_reads_our_words(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (out,) = outputs(analyse(monkeypatch, config_with(tmp_path, "snownlp"), COMPLAINT))
    expected = SnowNLPSentiment().score(out["tokens"])
    assert out["sentiment"] == pytest.approx(expected, abs=1e-4)
    assert out["sentiment_reasons"][0].startswith("snownlp")


def test_an_unknown_model_is_named_with_file_and_key(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    config = config_with(tmp_path, "bert")
    result = analyse(monkeypatch, config, COMPLAINT)
    assert result.exit_code == 2
    assert f"{config / 'severity.yaml'}:" in result.stderr
    assert "sentiment_model" in result.stderr


def test_the_same_posts_read_the_same_in_every_process() -> None:
    """The reasons name features in the same order whatever Python's string hashing does in a process:
    weights are rounded, and the tied ones (了 and 冲突) once came out in either order."""
    import os
    import subprocess
    import sys

    posts = [
        "又有人在广场打人了，冲突越闹越大，太气愤了，玻璃都砸破了",
        "南乐县城管打人引发冲突，围观群众气愤不已",
        "清丰县一小区停暖多日，居民多次投诉，物业推诿，热力公司踢皮球",
    ]
    lines = "".join(json.dumps({"text": t}, ensure_ascii=False) + "\n" for t in posts).encode()
    answers = set()
    for seed in ("1", "2", "3", "4"):
        done = subprocess.run(
            [sys.executable, "-m", "commands.cli", "analyze"],
            input=lines,
            capture_output=True,
            check=True,
            cwd=ROOT,
            env={**os.environ, "PYTHONHASHSEED": seed},
        )
        answers.add(done.stdout)
    assert len(answers) == 1
