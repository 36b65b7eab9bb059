"""Sentiment: the probability that a post is positive, 0..1, and its polarity.

`SnowNLPSentiment` uses snownlp's naive Bayes model but feeds it our jieba tokens, skipping snownlp's own
segmentation (its slowest part). Models sit behind the `SentimentModel` protocol so a faster or better
one can replace it without touching the stages.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from classifiers.types import Polarity

NEGATIVE_BELOW = 0.4
POSITIVE_ABOVE = 0.6


class SentimentModel(Protocol):
    name: str

    def score(self, tokens: Sequence[str]) -> float: ...


class SnowNLPSentiment:
    name = "snownlp"

    def __init__(self) -> None:
        from snownlp import normal
        from snownlp.sentiment import classifier

        self._classify = classifier.classifier.classify
        self._filter_stop = normal.filter_stop

    def score(self, tokens: Sequence[str]) -> float:
        words = self._filter_stop(list(tokens))
        if not words:
            return 0.5
        label, probability = self._classify(words)
        return float(probability if label == "pos" else 1.0 - probability)


def polarity(score: float) -> Polarity:
    if score < NEGATIVE_BELOW:
        return Polarity.NEGATIVE
    if score > POSITIVE_ABOVE:
        return Polarity.POSITIVE
    return Polarity.NEUTRAL
