"""Which lines of work (谁主管) a post concerns: keywords per topic, from config/units.yaml."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping

import ahocorasick

from classifiers.types import Departments


class DepartmentMatcher:
    def __init__(self, keywords: Mapping[str, Iterable[str]]) -> None:
        """`keywords`: topic -> words that show a post is about it. Topic order is kept in results."""
        self._order = {topic: i for i, topic in enumerate(keywords)}
        by_word: dict[str, list[str]] = defaultdict(list)
        for topic, words in keywords.items():
            for word in words:
                by_word[word.lower()].append(topic)
        self._automaton = ahocorasick.Automaton()
        for word, topics in by_word.items():
            self._automaton.add_word(word, (word, tuple(topics)))
        if by_word:
            self._automaton.make_automaton()
        self._empty = not by_word

    def match(self, text: str) -> Departments:
        if self._empty:
            return Departments()
        hits: dict[str, list[str]] = defaultdict(list)
        for _end, (word, topics) in self._automaton.iter(text.lower()):
            for topic in topics:
                if word not in hits[topic]:
                    hits[topic].append(word)
        # One passing word is weak evidence: it counts only when no topic has two or more.
        strongest = max((len(words) for words in hits.values()), default=0)
        topics = sorted(
            (t for t, words in hits.items() if len(words) >= 2 or strongest < 2),
            key=self._order.__getitem__,
        )
        reasons = tuple(f"{t}: 「{'」「'.join(hits[t])}」" for t in topics)
        return Departments(tuple(topics), reasons)
