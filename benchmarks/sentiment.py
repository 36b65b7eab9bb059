"""Accuracy, macro-F1 and throughput (posts/s, MB/s) of the sentiment models (the trained default, the
lexicon alone, snownlp), beside jieba alone.

Sets: the shipped tests/data/sentiment/{dev,test}.jsonl (negative/neutral/positive) and any `--extra`
FILE.csv|jsonl, e.g. a weibo_senti_100k split (CSV or tab-separated, `label` 1/0 and one text column). On a set with only two labels a
model's call is positive when its probability is at least 0.5; on three-way sets it is its polarity.

    .venv/bin/python benchmarks/sentiment.py [--extra FILE] [--limit N] [--fit] [--errors FILE]
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import jieba

from classifiers import metrics
from classifiers.sentiment import Sentiment, SnowNLPSentiment, polarity
from classifiers.sentiment_lexicon import DEFAULT_SCALE, LexiconSentiment
from classifiers.sentiment_trained import TrainedSentiment
from classifiers.types import Polarity
from config.env import get_env
from config.loader import load_config
from pipeline.context import Context, place_names

ROOT = Path(__file__).resolve().parents[1]
SHIPPED = ROOT / "tests" / "data" / "sentiment"
LABELS = {
    "negative": "negative",
    "neg": "negative",
    "0": "negative",
    "neutral": "neutral",
    "neu": "neutral",
    "positive": "positive",
    "pos": "positive",
    "1": "positive",
}


@dataclass(frozen=True, slots=True)
class Example:
    text: str
    label: str


class LabelledSet:
    """Examples read from a JSONL (`text`, `label`) or CSV (`label`, `review` or `text`) file. A line that
    cannot be read is named in `problems` and skipped; the others are kept."""

    def __init__(self, path: Path, limit: int | None = None) -> None:
        self.path = path
        self.name = path.name
        self.examples: list[Example] = []
        self.problems: list[str] = []
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise SystemExit(f"{path}: cannot read: {exc.strerror}") from None
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise SystemExit(f"{path}: not UTF-8 (byte {exc.start})") from None
        rows = self._csv(text) if path.suffix.lower() == ".csv" else self._jsonl(text)
        for line, label, body in rows:
            normal = LABELS.get(str(label).strip().lower())
            if normal is None:
                self.problems.append(f"{path}:{line}: unknown label {label!r}")
            elif not isinstance(body, str) or not body.strip():
                self.problems.append(f"{path}:{line}: no text")
            else:
                self.examples.append(Example(body, normal))
            if limit and len(self.examples) >= limit:
                break
        if not self.examples:
            raise SystemExit(f"{path}: no usable examples ({len(self.problems)} problems)")

    def _jsonl(self, text: str):
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                data = json.loads(line)
            except json.JSONDecodeError as exc:
                self.problems.append(f"{self.path}:{number}: not JSON ({exc.msg})")
                continue
            if not isinstance(data, dict):
                self.problems.append(f"{self.path}:{number}: not a JSON object")
                continue
            yield number, data.get("label"), data.get("text") or data.get("review")

    def _csv(self, text: str):
        lines = text.splitlines()
        delimiter = "\t" if lines and "\t" in lines[0] else ","
        reader = csv.DictReader(lines, delimiter=delimiter)
        fields = list(reader.fieldnames or ())
        others = [f for f in fields if f != "label"]
        column = next((f for f in ("review", "text") if f in fields), others[0] if len(others) == 1 else None)
        if "label" not in fields or column is None:
            raise SystemExit(f"{self.path}:1: header needs `label` and one text column, got {fields}")
        for row in reader:
            yield reader.line_num, row.get("label"), row.get(column)

    @property
    def labels(self) -> set[str]:
        return {e.label for e in self.examples}

    @property
    def megabytes(self) -> float:
        return sum(len(e.text.encode()) for e in self.examples) / 1e6


def call(score: float, three_way: bool, band: Polarity | None = None) -> str:
    """The call on a set: its polarity on three-way sets (the model's own band when it has one), else
    positive at a probability of at least 0.5."""
    if three_way:
        return (band or polarity(score)).value
    return "positive" if score >= 0.5 else "negative"


def models(scale: float) -> dict[str, Callable[[str], tuple[float, Polarity | None]]]:
    from snownlp import SnowNLP

    context = Context(office=load_config(), env=get_env())
    tokeniser = context.tokeniser
    bayes = SnowNLPSentiment()
    lexicon = LexiconSentiment(scale=scale)
    trained = TrainedSentiment(places=place_names(context.gazetteer))

    def snownlp_as_is(text: str) -> tuple[float, Polarity | None]:
        return float(SnowNLP(text).sentiments), None

    def judged(result: Sentiment) -> tuple[float, Polarity | None]:
        return result.score, result.polarity

    return {
        "snownlp as-is": snownlp_as_is,
        "snownlp on our jieba words": lambda text: judged(bayes.judge(text, tokeniser.words(text))),
        "lexicon alone": lambda text: judged(lexicon.judge(text)),
        "trained (default)": lambda text: judged(trained.judge(text, tokeniser.words(text))),
    }


def run(sets: list[LabelledSet], scale: float) -> dict:
    chosen = models(scale)
    for model in chosen.values():
        model("预热：加载模型与词典")
    plain = jieba.Tokenizer()
    plain.initialize()
    summary: dict = {}
    for labelled in sets:
        texts = [e.text for e in labelled.examples]
        gold = [e.label for e in labelled.examples]
        three_way = "neutral" in labelled.labels
        mb = labelled.megabytes
        print(f"\n{labelled.name}: {len(texts)} posts, {mb:.3f} MB, labels {sorted(labelled.labels)}")
        for problem in labelled.problems[:5]:
            print(f"  skipped {problem}")
        if len(labelled.problems) > 5:
            print(f"  … {len(labelled.problems) - 5} more lines skipped")
        print(f"  {'model':<28} {'accuracy':>8} {'macro-F1':>8} {'posts/s':>10} {'MB/s':>8}")
        start = time.perf_counter()
        for text in texts:
            plain.lcut(text)
        seconds = time.perf_counter() - start
        rows = {
            "jieba alone": {"posts_per_s": round(len(texts) / seconds), "mb_per_s": round(mb / seconds, 3)}
        }
        print(f"  {'jieba alone':<28} {'':>8} {'':>8} {len(texts) / seconds:10.0f} {mb / seconds:8.3f}")
        for name, model in chosen.items():
            start = time.perf_counter()
            calls = [model(text) for text in texts]
            seconds = time.perf_counter() - start
            result = metrics.score(gold, [call(score, three_way, band) for score, band in calls])
            rows[name] = {
                "accuracy": round(result.accuracy, 4),
                "macro_f1": round(result.macro_f1, 4),
                "posts_per_s": round(len(texts) / seconds),
                "mb_per_s": round(mb / seconds, 3),
            }
            print(
                f"  {name:<28} {result.accuracy:8.3f} {result.macro_f1:8.3f} "
                f"{len(texts) / seconds:10.0f} {mb / seconds:8.3f}"
            )
        summary[labelled.name] = {"posts": len(texts), "skipped": len(labelled.problems), "models": rows}
    return summary


def fit(dev: LabelledSet) -> None:
    """The scale of the lexicon model's logistic, chosen on the dev split only."""
    gold = [e.label for e in dev.examples]
    best = (0.0, DEFAULT_SCALE)
    for step in range(10, 151, 5):
        scale = step / 100
        model = LexiconSentiment(scale=scale)
        result = metrics.score(gold, [model.judge(e.text).polarity.value for e in dev.examples])
        print(f"scale {scale:.2f}: accuracy {result.accuracy:.3f} macro-F1 {result.macro_f1:.3f}")
        best = max(best, (result.macro_f1, scale))
    print(f"best scale on {dev.name}: {best[1]:.2f} (macro-F1 {best[0]:.3f})")


def errors(labelled: LabelledSet, scale: float) -> None:
    model = LexiconSentiment(scale=scale)
    three_way = "neutral" in labelled.labels
    for example in labelled.examples:
        result = model.judge(example.text)
        guess = call(result.score, three_way)
        if guess != example.label:
            print(f"{example.label:>8} ← {guess:<8} {example.text}\n{'':>20}{'; '.join(result.reasons)}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--extra", type=Path, action="append", default=[], help="another labelled set")
    parser.add_argument("--limit", type=int, default=None, help="at most N posts of each extra set")
    parser.add_argument("--scale", type=float, default=DEFAULT_SCALE)
    parser.add_argument("--fit", action="store_true", help="choose the lexicon scale on the dev split")
    parser.add_argument("--errors", type=Path, help="print the lexicon model's misses on FILE")
    args = parser.parse_args()
    if args.fit:
        fit(LabelledSet(SHIPPED / "dev.jsonl"))
        return
    if args.errors:
        errors(LabelledSet(args.errors), args.scale)
        return
    sets = [LabelledSet(SHIPPED / "dev.jsonl"), LabelledSet(SHIPPED / "test.jsonl")]
    sets += [LabelledSet(path, args.limit) for path in args.extra]
    summary = run(sets, args.scale)
    print(json.dumps(summary, ensure_ascii=False))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
