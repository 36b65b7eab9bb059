"""Floors for each analysis component on the hand-labelled posts, so a rule or gazetteer change that
makes the office's analysis worse fails here (figures: `benchmarks/accuracy.py`)."""

import pytest

from benchmarks.accuracy import score

FLOORS = {
    "territory (counties exact)": 0.9,
    "local or not": 0.9,
    "departments (exact)": 0.75,
    "severity level (within one)": 0.85,
    "spam": 1.0,
}


@pytest.fixture(scope="module")
def results() -> dict:
    return score()


@pytest.mark.parametrize("component", FLOORS)
def test_component_stays_above_its_floor(results: dict, component: str) -> None:
    outcomes = results[component]
    accuracy = sum(ok for ok, _ in outcomes) / len(outcomes)
    misses = [detail for ok, detail in outcomes if not ok]
    assert accuracy >= FLOORS[component], misses
