"""`yuqing train sentiment`: retrains the trained sentiment model on an office's own labelled posts, holds
back a fifth to compare the model in use with the retrained one, and writes weights that severity.yaml
selects with `sentiment_weights`. Needs the `train` extra (scikit-learn). Registered in commands/cli.py."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from classifiers import metrics
from classifiers.sentiment_trained import TrainedSentiment, WeightsError, dump_weights
from commands.common import Exit, fail
from commands.common import out as screen  # `out` is the --out option here
from config.loader import config_dir

train_app = typer.Typer(help="用本单位标注的帖子重新训练分析模型", no_args_is_help=True)

LABELS = {"正面": "positive", "负面": "negative", "中性": "neutral"}
NAMES = {value: key for key, value in LABELS.items()}
TARGETS = {"positive": 1.0, "negative": 0.0, "neutral": 0.5}
WEIGHTS_FILE = "sentiment_weights.json.gz"
MIN_POSTS = 20
# Stronger regularisation than the shipped fit: a few hundred posts should adjust the model, not replace it.
RETRAIN_C = 1.0


def read_labels(path: Path) -> list[tuple[str, str]]:
    """(text, label) pairs from JSON lines {"text": …, "label": "正面|负面|中性"}; a bad line stops with its
    number and what is wrong."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise typer.BadParameter(f"{path}：无法读取（{exc.strerror}）") from None
    except UnicodeDecodeError:
        raise typer.BadParameter(f"{path}：不是 UTF-8 编码的文本") from None
    posts = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise typer.BadParameter(f"{path}:{number}：不是一行 JSON（{exc.msg}）") from None
        text, label = (row.get("text"), row.get("label")) if isinstance(row, dict) else (None, None)
        if not isinstance(text, str) or not text.strip():
            raise typer.BadParameter(f"{path}:{number}：缺少 text")
        if label not in LABELS and label not in TARGETS:
            raise typer.BadParameter(f"{path}:{number}：label 应为 正面、负面 或 中性，而不是 {label!r}")
        posts.append((text, LABELS.get(label, str(label))))
    return posts


# Fewer held-back posts than this make the before/after comparison a rough one, and the command says so.
FEW_HELD = 50


def split(posts: list[tuple[str, str]]) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(training, held back): posts ordered by the hash of their text, every fifth held back, so the same
    file always holds back the same posts, whatever order its lines are in."""
    ordered = sorted(posts, key=lambda p: hashlib.sha1(p[0].encode("utf-8")).hexdigest())
    return [p for i, p in enumerate(ordered) if i % 5], ordered[::5]


@train_app.command("sentiment")
def sentiment(
    labels: Annotated[
        Path,
        typer.Option(
            "--labels", help='标注文件：每行一个 JSON，{"text": "帖子正文", "label": "正面|负面|中性"}'
        ),
    ],
    out: Annotated[
        Path | None,
        typer.Option("--out", help=f"新权重写到哪里；默认为配置目录下的 {WEIGHTS_FILE}"),
    ] = None,
) -> None:
    """重新训练情感模型：留出五分之一比较现用模型与新模型的宏平均 F1，写出新权重。"""
    from classifiers.sentiment_train import Example, fit
    from pipeline.context import Context, place_names

    posts = read_labels(labels)
    present = {label for _, label in posts}
    if len(posts) < MIN_POSTS or not {"positive", "negative"} <= present:
        raise typer.BadParameter(
            f"{labels}：至少需要 {MIN_POSTS} 条标注，且正面、负面都要有（现有 {len(posts)} 条）"
        )
    context = Context.load()
    places = place_names(context.gazetteer)
    try:
        current = context.sentiment
        if not isinstance(current, TrainedSentiment):
            current = TrainedSentiment(places=places)
    except WeightsError as exc:
        raise typer.BadParameter(str(exc)) from None
    words = context.tokeniser.words
    training, held = split(posts)
    examples = [
        Example(*current.features.example(text, words(text)), TARGETS[label]) for text, label in training
    ]
    try:
        weights, bias = fit(
            examples, c=RETRAIN_C, min_count=1, prune=0.01, prior=(current.weights, current.bias)
        )
    except ImportError:
        raise fail(
            "重新训练需要 scikit-learn：在项目目录运行 .venv/bin/pip install -e '.[train]'", Exit.FAILED
        ) from None
    # The neutral band stays the one the model in use was given: refitted on the office's training posts it
    # would follow those few hundred posts, not the posts to come.
    data: dict = {
        "bias": bias,
        "weights": weights,
        "neutral": [current.negative_below, current.positive_above],
    }
    if current.mix is not None:
        data["mix"] = current.mix  # the retrained regression is added to the lexicon as the shipped one was
    data["description"] = (
        f"在 {current.path.name} 的基础上，用 {labels.name} 的 {len(training)} 条标注重新训练"
    )
    target = out or config_dir() / WEIGHTS_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(dump_weights(data))
    retrained = TrainedSentiment(target, places)

    gold = [label for _, label in held]
    before = metrics.score(gold, [current.judge(t, words(t)).polarity.value for t, _ in held])
    after = metrics.score(gold, [retrained.judge(t, words(t)).polarity.value for t, _ in held])
    screen.print(f"现用模型：{current.path}", soft_wrap=True, markup=False, highlight=False)
    table = Table(title=f"留出的 {len(held)} 条（共 {len(posts)} 条，{len(training)} 条用于训练）")
    table.add_column("模型")
    table.add_column("宏平均 F1", justify="right")
    table.add_column("准确率", justify="right")
    for label in sorted(set(gold)):
        table.add_column(f"{NAMES[label]} F1", justify="right")
    for name, result in (("现用模型", before), ("重新训练", after)):
        table.add_row(
            name,
            f"{result.macro_f1:.3f}",
            f"{result.accuracy:.3f}",
            *(f"{result.per_label[label]:.3f}" for label in sorted(set(gold))),
        )
    screen.print(table)
    if len(held) < FEW_HELD:
        screen.print(
            f"注意：只留出了 {len(held)} 条，上表的比较只能粗略参考；标注到 {FEW_HELD * 5} 条以上再比较更可靠。",
            soft_wrap=True,
            markup=False,
            highlight=False,
        )
    screen.print(
        f"新权重已写入 {target}（{len(weights)} 个特征）。", soft_wrap=True, markup=False, highlight=False
    )
    shown = target.name if target.resolve().parent == config_dir().resolve() else str(target.resolve())
    screen.print(
        f"启用方法：在 severity.yaml 中写 sentiment_model: trained 与 sentiment_weights: {shown}",
        soft_wrap=True,
        markup=False,
        highlight=False,
    )
