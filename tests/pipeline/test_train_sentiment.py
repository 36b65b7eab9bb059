"""`yuqing train sentiment`: retrains on an office's labelled posts, prints the shipped and the retrained
model on the held-back fifth, writes weights that severity.yaml selects, and `analyze` then uses them."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from classifiers.sentiment_trained import DEFAULT_WEIGHTS, TrainedSentiment, load_weights
from commands.cli import app
from commands.cli_train import read_labels, split
from pipeline.context import Context

ROOT = Path(__file__).resolve().parents[2]
LABELS = ROOT / "tests" / "data" / "sentiment" / "office_labels.jsonl"


@pytest.fixture
def config(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "config"
    shutil.copytree(ROOT / "config", folder, ignore=shutil.ignore_patterns("*.py", "__pycache__"))
    monkeypatch.setenv("YUQING_CONFIG_DIR", str(folder))
    return folder


def test_retrain_writes_reports_and_is_selected_and_used(
    config: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    result = CliRunner().invoke(app, ["train", "sentiment", "--labels", str(LABELS)])
    assert result.exit_code == 0, result.output
    written = config / "sentiment_weights.json.gz"
    assert written.is_file()
    assert "留出的 10 条（共 50 条，40 条用于训练）" in result.output
    rows = {line.split("│")[1].strip(): line for line in result.output.splitlines() if line.count("│") > 3}
    shipped = next(line for name, line in rows.items() if name == "现用模型")
    retrained = rows["重新训练"]
    for line in (shipped, retrained):
        assert re.search(r"│\s+[01]\.\d{3}\s+│", line), line
    assert "sentiment_model: trained 与 sentiment_weights: sentiment_weights.json.gz" in result.output

    assert "注意：只留出了 10 条" in result.output  # 10 held back: the comparison is a rough one

    data = load_weights(written)
    shipped_data = load_weights(DEFAULT_WEIGHTS)
    assert data["weights"] != shipped_data["weights"]
    assert "office_labels.jsonl" in data["description"]
    # The retrained regression is added to the lexicon as the shipped one is, within the same band.
    assert data["mix"] == shipped_data["mix"]
    assert data["neutral"] == shipped_data["neutral"]

    severity = config / "severity.yaml"
    text = severity.read_text(encoding="utf-8")
    assert "sentiment_model: trained" in text  # the default
    severity.write_text(text + "sentiment_weights: sentiment_weights.json.gz\n", encoding="utf-8")
    context = Context.load()
    assert isinstance(context.sentiment, TrainedSentiment)
    assert context.sentiment.path == written

    text = "县人社局召开根治欠薪工作推进会，部署冬季专项检查"
    lines = json.dumps({"text": text}, ensure_ascii=False) + "\n"
    out = CliRunner().invoke(app, ["analyze"], input=lines)
    assert out.exit_code == 0, out.output
    (analysed,) = [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]
    words = context.tokeniser.words(text)
    expected = context.sentiment.judge(text, words)
    assert analysed["sentiment"] == pytest.approx(expected.score, abs=1e-4)
    shipped_model = TrainedSentiment(places=context.sentiment.features.places)
    assert expected.score != pytest.approx(shipped_model.judge(text, words).score, abs=1e-4)


def test_the_held_back_fifth_does_not_depend_on_line_order() -> None:
    posts = read_labels(LABELS)
    training, held = split(posts)
    assert len(held) == 10
    assert len(training) == 40
    assert split(list(reversed(posts)))[1] == held
    assert not {t for t, _ in held} & {t for t, _ in training}


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ('{"text": "好", "label": "很好"}', "label 应为 正面、负面 或 中性"),
        ('{"label": "正面"}', "缺少 text"),
        ("not json", "不是一行 JSON"),
    ],
)
def test_a_bad_label_file_is_named_with_its_line(
    config: Path, tmp_path: Path, line: str, message: str
) -> None:
    labels = tmp_path / "labels.jsonl"
    labels.write_text(LABELS.read_text(encoding="utf-8") + line + "\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["train", "sentiment", "--labels", str(labels)])
    assert result.exit_code == 2
    flat = re.sub(r"[\s│]+", "", result.output)  # the error panel wraps long lines
    assert "labels.jsonl:51" in flat
    assert message.replace(" ", "") in flat
    assert not (config / "sentiment_weights.json.gz").exists()


def test_too_few_labels_are_refused(config: Path, tmp_path: Path) -> None:
    labels = tmp_path / "few.jsonl"
    labels.write_text(
        "\n".join(LABELS.read_text(encoding="utf-8").splitlines()[:10]) + "\n", encoding="utf-8"
    )
    result = CliRunner().invoke(app, ["train", "sentiment", "--labels", str(labels)])
    assert result.exit_code == 2
    assert "至少需要20条标注" in re.sub(r"[\s│]+", "", result.output)


def test_weights_that_are_missing_are_named_with_file_and_key(config: Path) -> None:
    severity = config / "severity.yaml"
    text = severity.read_text(encoding="utf-8")
    assert "sentiment_model: trained" in text  # the default
    severity.write_text(text + "sentiment_weights: nowhere.json.gz\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["analyze"], input='{"text": "服务太差"}\n')
    (line,) = [json.loads(x) for x in result.stdout.splitlines() if x.startswith("{")]
    assert line["error"].startswith(f"第 1 行：{severity}: sentiment_weights: ")
    assert "nowhere.json.gz" in line["error"]
    assert "程序缺陷" not in line["error"]
