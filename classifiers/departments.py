"""Which lines of work (谁主管) a post concerns: keywords per topic, from config/units.yaml.

A topic's decisive words (公积金, 食堂) name it on their own and outrank the ordinary words of broader
topics, so an ambiguous post goes first to the most specific department, and the reasons say why.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from operator import itemgetter

import ahocorasick_rs

from classifiers.native import lower


@dataclass(frozen=True, slots=True, init=False)
class Departments:
    """The lines of work (谁主管) a post concerns, e.g. 生态环境, 教育."""

    topics: tuple[str, ...]
    reasons: tuple[str, ...]

    # Written out, to be compiled with this module: one is made for every post (classifiers/sentiment.py).
    def __init__(self, topics: tuple[str, ...] = (), reasons: tuple[str, ...] = ()) -> None:
        object.__setattr__(self, "topics", topics)
        object.__setattr__(self, "reasons", reasons)


_NONE = Departments()

# A match is (word index, start, end).
_END_THEN_START = itemgetter(2, 1)

# A decisive word counts as much as two ordinary words or one in the title: alone, it settles the topic.
DECISIVE_SCORE = 2


class DepartmentMatcher:
    def __init__(
        self,
        keywords: Mapping[str, Iterable[str]],
        decisive: Mapping[str, Iterable[str]] | None = None,
    ) -> None:
        """`keywords`: topic -> words that show a post is about it; `decisive`: topic -> words that alone
        name it. Topic order is kept in results between topics of equal weight."""
        self._order = {topic: i for i, topic in enumerate(keywords)}
        by_word: dict[str, list[str]] = defaultdict(list)
        self._decisive: set[tuple[str, str]] = set()
        for topic, words in keywords.items():
            for word in words:
                by_word[lower(word)].append(topic)
        for topic, words in (decisive or {}).items():
            for word in map(lower, words):
                if topic not in by_word[word]:
                    by_word[word].append(topic)
                self._decisive.add((word, topic))
        self._words = list(by_word)
        self._topics = [tuple(by_word[word]) for word in self._words]
        # ahocorasick_rs (Rust): several times faster over a post than pyahocorasick, the same matches. As a
        # DFA, a third faster again for a few hundred words, which cost a millisecond and a megabyte more.
        self._automaton = (
            ahocorasick_rs.AhoCorasick(self._words, implementation=ahocorasick_rs.Implementation.DFA)
            if by_word
            else None
        )

    def match(self, text: str, title: str = "") -> Departments:
        """Topics with two or more of their words, one in the title, or one decisive word, the weightiest
        first; a lone passing word elsewhere counts only when it is the only topic touched at all."""
        automaton = self._automaton
        if automaton is None:
            return _NONE
        # Most posts have no title: nothing to lower-case and scan.
        scans = [
            (where, found)
            for where, value in (("title", title), ("text", text))
            if value and (found := automaton.find_matches_as_indexes(lower(value), overlapping=True))
        ]
        if not scans:  # a third of all posts touch no line of work: nothing to weigh
            return _NONE
        hits: dict[str, list[str]] = defaultdict(list)
        decisive: dict[str, list[str]] = defaultdict(list)  # of each topic's words, those that name it alone
        in_title: set[str] = set()
        for where, found in scans:
            # In the order they end, the longer of two ending together first: the words' order in reasons.
            found.sort(key=_END_THEN_START)
            for index, _start, _end in found:
                word = self._words[index]
                for topic in self._topics[index]:
                    if word not in hits[topic]:
                        hits[topic].append(word)
                        if (word, topic) in self._decisive:
                            decisive[topic].append(word)
                    if where == "title":
                        in_title.add(topic)
        scores = {
            t: len(words) + (t in in_title) + (DECISIVE_SCORE - 1) * len(decisive[t])
            for t, words in hits.items()
        }
        chosen = [t for t, score in scores.items() if score >= 2] or (list(hits) if len(hits) == 1 else [])
        topics = sorted(chosen, key=lambda t: (-bool(decisive[t]), -scores[t], self._order[t]))
        reasons = tuple(
            f"{t}: 「{'」「'.join(hits[t])}」"
            + (f"，「{'」「'.join(decisive[t])}」专指此项" if decisive[t] else "")
            + ("，标题提及" if t in in_title else "")
            for t in topics
        )
        return Departments(tuple(topics), reasons)
