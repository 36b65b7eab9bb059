"""Scores of a classifier against gold labels: accuracy and macro-F1 over the labels the gold set uses."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Scores:
    accuracy: float
    macro_f1: float
    per_label: dict[str, float]  # F1 of each gold label
    count: int


def score(gold: Sequence[str], predicted: Sequence[str]) -> Scores:
    """Macro-F1 averages the F1 of each label present in `gold`; a prediction of a label the gold set
    never uses (neutral on a two-way set) counts as a miss and adds no class of its own."""
    if len(gold) != len(predicted):
        raise ValueError(f"{len(gold)} gold labels but {len(predicted)} predictions")
    if not gold:
        raise ValueError("no labelled examples")
    per_label: dict[str, float] = {}
    for label in sorted(set(gold)):
        true_positive = sum(1 for g, p in zip(gold, predicted, strict=True) if g == p == label)
        predicted_as = sum(1 for p in predicted if p == label)
        actual = sum(1 for g in gold if g == label)
        precision = true_positive / predicted_as if predicted_as else 0.0
        recall = true_positive / actual
        per_label[label] = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    correct = sum(1 for g, p in zip(gold, predicted, strict=True) if g == p)
    return Scores(correct / len(gold), sum(per_label.values()) / len(per_label), per_label, len(gold))
