"""The floor the default sentiment model is held to, measured on a labelled set: a TF-IDF (characters and
character pairs) + logistic regression trained on 10,000 in-domain posts labelled by people, printed
beside the default model on the same posts, two-way (positive at a probability of at least 0.5).

The in-domain posts are the `label,review` CSV that benchmarks/smp2020_usual_train.py writes (its neutral
rows are left out); the set scored is the JSON lines of benchmarks/smp2020_usual.py --two-way, whose texts
that CSV leaves out. Needs the `train` extra (scikit-learn).

    .venv/bin/python benchmarks/sentiment_floor.py --train smp2020_usual_train.csv --test usual_test2.jsonl
"""

from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

from train_sentiment import read_corpus

from classifiers import metrics
from classifiers.sentiment_trained import TrainedSentiment
from config.env import get_env
from config.loader import load_config
from pipeline.context import Context, place_names


def main() -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--train", type=Path, required=True)
    parser.add_argument("--test", type=Path, required=True)
    parser.add_argument("--posts", type=int, default=10_000)
    parser.add_argument("--seeds", type=int, default=3, help="how many random draws of the training posts")
    args = parser.parse_args()
    rows = [(text, label) for text, label in read_corpus(args.train)[0] if label in (0.0, 1.0)]
    test = [json.loads(line) for line in args.test.read_text(encoding="utf-8").splitlines() if line.strip()]
    texts, gold = [t["text"] for t in test], [t["label"] for t in test]

    size = min(args.posts, len(rows))
    floors = []
    for seed in range(args.seeds):
        sample = random.Random(seed).sample(rows, size)
        vectoriser = TfidfVectorizer(analyzer="char", ngram_range=(1, 2), sublinear_tf=True, min_df=2)
        matrix = vectoriser.fit_transform([t for t, _ in sample])
        model = LogisticRegression(C=4.0, max_iter=2000, class_weight="balanced")
        model.fit(matrix, [int(y) for _, y in sample])
        called = ["positive" if y else "negative" for y in model.predict(vectoriser.transform(texts))]
        floors.append(metrics.score(gold, called))

    context = Context(office=load_config(), env=get_env())
    default = TrainedSentiment(places=place_names(context.gazetteer))  # as benchmarks/sentiment.py reads it
    words_of = context.tokeniser.words
    called = ["positive" if default.score(t, words_of(t)) >= 0.5 else "negative" for t in texts]
    ours = metrics.score(gold, called)
    print(f"{args.test.name}: {len(texts)} posts, two-way macro-F1")
    for seed, floor in enumerate(floors):
        print(f"  TF-IDF + logistic regression, {size:,} posts (draw {seed}): {floor.macro_f1:.3f}")
    print(f"  default model: {ours.macro_f1:.3f} (accuracy {ours.accuracy:.3f})")


if __name__ == "__main__":
    main()
