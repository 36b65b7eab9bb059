"""Fitting the trained sentiment model: logistic regression (scikit-learn, imported only here and only
when fitting, from the optional `train` extra) over the feature sets of sentiment_trained.py, pruned to
the weights that matter, plus the neutral band and the calibration figures reported beside it.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import product

from classifiers import metrics

# Targets: 1.0 positive, 0.0 negative, 0.5 neutral. A neutral example enters the fit twice at half weight,
# once per side, which is the cross-entropy of the soft target 0.5: it pulls its words towards zero.
NEUTRAL = 0.5
PRIOR = "\x00prior"  # the column holding the shipped model's logit when an office retrains


@dataclass(frozen=True, slots=True)
class Example:
    features: frozenset[str]
    size: int  # what its evidence is scaled by (sentiment_trained.size): `Features.example` gives both
    target: float  # 0.0, 0.5 or 1.0
    weight: float = 1.0


def fit(
    examples: Sequence[Example],
    *,
    c: float = 1.0,
    min_count: int = 2,
    prune: float = 0.05,
    prior: tuple[dict[str, float], float] | None = None,
) -> tuple[dict[str, float], float]:
    """Weights {feature: weight} and bias. Features seen in fewer than `min_count` examples get no column;
    weights below `prune` in size are dropped (the file stays small; the scores hardly move).

    With `prior` (weights, bias of a shipped model) its logit is one more column, so the result is the
    shipped model rescaled plus what the new examples teach: still one dictionary of weights."""
    from scipy.sparse import csr_matrix
    from sklearn.linear_model import LogisticRegression

    counts = Counter(f for e in examples for f in e.features)
    columns = {f: i for i, f in enumerate(sorted(f for f, n in counts.items() if n >= min_count))}
    extra = len(columns)
    rows, cols, values, targets, weights = [], [], [], [], []
    row = 0
    for example in examples:
        scale = 1.0 / math.sqrt(example.size) if example.size else 0.0
        sides = [(1, 1.0)] if example.target == 1.0 else [(0, 1.0)] if example.target == 0.0 else []
        if not sides:
            sides = [(1, 1.0 - NEUTRAL), (0, NEUTRAL)]
        for label, share in sides:
            for feature in example.features:
                index = columns.get(feature)
                if index is not None:
                    rows.append(row)
                    cols.append(index)
                    values.append(scale)
            if prior is not None:
                rows.append(row)
                cols.append(extra)
                values.append(prior_logit(prior, example.features, example.size))
            targets.append(label)
            weights.append(example.weight * share)
            row += 1
    width = extra + (1 if prior is not None else 0)
    matrix = csr_matrix((values, (rows, cols)), shape=(row, width))
    model = LogisticRegression(C=c, solver="liblinear", max_iter=1000, random_state=0)
    model.fit(matrix, targets, sample_weight=weights)
    coefficients = model.coef_[0]
    bias = float(model.intercept_[0])
    learned = {f: float(coefficients[i]) for f, i in columns.items()}
    if prior is not None:
        factor = float(coefficients[extra])
        bias += factor * prior[1]
        for feature, weight in prior[0].items():
            learned[feature] = learned.get(feature, 0.0) + factor * weight
    kept = {f: round(w, 3) for f, w in learned.items() if abs(w) >= prune}
    return kept, round(bias, 4)


def prior_logit(prior: tuple[dict[str, float], float], features: frozenset[str], size: int) -> float:
    """The shipped model's log-odds for a post's features and size, as TrainedSentiment computes it."""
    weights, bias = prior
    if not features or not size:
        return bias
    return bias + sum(weights.get(f, 0.0) for f in features) / math.sqrt(size)


def fit_band(sets: Sequence[tuple[Sequence[float], Sequence[str]]]) -> tuple[float, float, float]:
    """The neutral band (below it negative, above it positive) that gives the best mean of the three-way
    macro-F1s (negative/neutral/positive) of the labelled sets, each a (scores, gold) pair, and that mean;
    searched on a grid of 0.02, the band kept within 0.2..0.8."""
    best = (-1.0, 0.4, 0.6)
    grid = [round(0.2 + 0.02 * i, 2) for i in range(31)]
    for low in grid:
        for high in grid:
            if high < low:
                continue
            f1 = sum(
                metrics.score(
                    gold, ["negative" if s < low else "positive" if s > high else "neutral" for s in scores]
                ).macro_f1
                for scores, gold in sets
            ) / len(sets)
            # ties go to the band nearest the middle, the least surprising
            if f1 > best[0] + 1e-9 or (
                abs(f1 - best[0]) <= 1e-9
                and abs(low - 0.4) + abs(high - 0.6) < abs(best[1] - 0.4) + abs(best[2] - 0.6)
            ):
                best = (f1, low, high)
    return best[1], best[2], best[0]


def brier(scores: Sequence[float], positive: Sequence[bool]) -> float:
    """Mean squared gap between the probability and what happened (0 is perfect, 0.25 is a coin)."""
    return sum((s - (1.0 if p else 0.0)) ** 2 for s, p in zip(scores, positive, strict=True)) / len(scores)


def reliability(
    scores: Sequence[float], positive: Sequence[bool], bins: int = 10
) -> list[tuple[str, int, float, float]]:
    """Per probability bin: (range, posts, mean predicted, share actually positive)."""
    table = []
    for b in range(bins):
        low, high = b / bins, (b + 1) / bins
        inside = [
            (s, p)
            for s, p in zip(scores, positive, strict=True)
            if low <= s < high or (b == bins - 1 and s == 1.0)
        ]
        if inside:
            mean = sum(s for s, _ in inside) / len(inside)
            share = sum(1 for _, p in inside if p) / len(inside)
            table.append((f"{low:.1f}–{high:.1f}", len(inside), mean, share))
    return table


# The proportions tried for the regression's and the lexicon's log-odds: some of the regression always, so
# the mix is never the lexicon alone; and the regression's share where the lexicon finds no word.
MIX_MODEL = (0.25, 0.5, 0.75, 1.0, 1.25, 1.5)
MIX_LEXICON = (0.0, 0.25, 0.5, 0.75, 1.0, 1.25, 1.5, 2.0)
MIX_SILENT = (0.1, 0.25, 0.5, 1.0)


def fit_mix(
    sets: Sequence[tuple[Sequence[float], Sequence[float | None], Sequence[str]]],
) -> tuple[dict[str, float], tuple[float, float]]:
    """How much of the regression's and of the lexicon's log-odds to add up, how much of the regression's
    to keep where the lexicon finds no word, and the neutral band over the sum, chosen together for the best
    mean three-way macro-F1 over labelled sets of posts the regression never saw, each a (regression
    log-odds, lexicon log-odds or None where it found no word, gold) triple."""
    best: tuple[float, dict[str, float], tuple[float, float]] | None = None
    # ties keep the earlier: the least of the regression where the lexicon is silent, then less of the lexicon
    for silent, a, b in product(MIX_SILENT, MIX_MODEL, MIX_LEXICON):
        scored = [
            (
                [
                    1.0 / (1.0 + math.exp(-(silent * m if x is None else a * m + b * x)))
                    for m, x in zip(model, lexicon, strict=True)
                ],
                gold,
            )
            for model, lexicon, gold in sets
        ]
        low, high, f1 = fit_band(scored)
        if best is None or f1 > best[0] + 1e-9:
            best = (f1, {"model": a, "lexicon": b, "silent": silent}, (low, high))
    assert best is not None
    return best[1], best[2]
