"""Sentiment: the probability that a post is positive (0..1), its polarity, and the reasons for both.

Models sit behind the `SentimentModel` protocol: the default `TrainedSentiment` (sentiment_trained.py),
`LexiconSentiment` (sentiment_lexicon.py) and `SnowNLPSentiment`, snownlp's naive Bayes model fed our
jieba words (skipping its own slow segmentation).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from classifiers.types import Polarity

NEGATIVE_BELOW = 0.4
POSITIVE_ABOVE = 0.6


# The records made for every post in the compiled modules (classifiers/native.py) write their `__init__`
# out: compiled, it takes a tenth of the time of the one `dataclass` generates, which stays Python. Frozen
# all the same: `object.__setattr__` is how a frozen dataclass's own `__init__` sets its fields.
@dataclass(frozen=True, slots=True, init=False)
class Sentiment:
    """`score` is the probability that the post is positive; `reasons` say what moved it."""

    score: float
    polarity: Polarity
    reasons: tuple[str, ...]

    def __init__(self, score: float, polarity: Polarity, reasons: tuple[str, ...] = ()) -> None:
        object.__setattr__(self, "score", score)
        object.__setattr__(self, "polarity", polarity)
        object.__setattr__(self, "reasons", reasons)


NO_EVIDENCE = Sentiment(0.5, Polarity.NEUTRAL, ("无情感词",))


class SentimentModel(Protocol):
    name: str

    def judge(self, text: str, words: Sequence[str]) -> Sentiment:
        """`text` is the post as written (title and body); `words` its jieba words, lower-cased."""
        ...


class SnowNLPSentiment:
    """snownlp's classifier, trained on product reviews; kept selectable (`sentiment_model: snownlp`)."""

    name = "snownlp"

    def __init__(self) -> None:
        from snownlp import normal
        from snownlp.sentiment import classifier

        self._classify = classifier.classifier.classify
        self._filter_stop = normal.filter_stop

    def score(self, words: Sequence[str]) -> float:
        kept = self._filter_stop(list(words))
        if not kept:
            return 0.5
        label, probability = self._classify(kept)
        return float(probability if label == "pos" else 1.0 - probability)

    def judge(self, text: str, words: Sequence[str]) -> Sentiment:
        if not self._filter_stop(list(words)):
            return NO_EVIDENCE
        score = self.score(words)
        return Sentiment(
            score, polarity(score), (f"snownlp 朴素贝叶斯（商品评论语料）：P(正面)={score:.2f}",)
        )


def polarity(score: float) -> Polarity:
    if score < NEGATIVE_BELOW:
        return Polarity.NEGATIVE
    if score > POSITIVE_ABOVE:
        return Polarity.POSITIVE
    return Polarity.NEUTRAL
