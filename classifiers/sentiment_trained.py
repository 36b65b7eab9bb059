"""The trained sentiment model (the default, `sentiment_model: trained`): logistic regression over a post's
words and Han-character bigrams, its weights read from classifiers/data/sentiment_weights.json.gz (see
PROVENANCE.md beside it), added to the lexicon's evidence (sentiment_lexicon.py) in the proportions the
weights file gives (`mix`). The regression reads what the lexicon has no word for; the lexicon brings
negation, contrast, sarcasm and the emoticons the regression never sees. Scoring is a sum of weights: the
weighted character pairs found by one automaton over the text, the other weighted words looked up among the
post's own; the reasons name the words and features that weighed most.

Emoticons, emoji, @mentions, links and the office's place names are removed before features are taken:
the training labels came partly from emoticons, and a county's name says nothing about a post's mood.
"""

from __future__ import annotations

import gzip
import json
import math
import re
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import ahocorasick_rs

from classifiers import DATA
from classifiers.native import lower
from classifiers.sentiment import NEGATIVE_BELOW, NO_EVIDENCE, POSITIVE_ABOVE, Sentiment
from classifiers.sentiment_lexicon import LexiconSentiment
from classifiers.types import Polarity

DEFAULT_WEIGHTS = DATA / "sentiment_weights.json.gz"
FORMAT = "yuqing-sentiment-logistic-1"

LISTED = 5  # features named per side in the reasons
# A feature is named only when it moved the logit by at least this much before length scaling: the
# many faint bigrams of a long post explain nothing on their own.
NAMED_WEIGHT = 0.8

_EMOJI_RANGES = ((0x1F000, 0x1FAFF), (0x2600, 0x27BF), (0x2B00, 0x2BFF), (0xFE0F, 0xFE0F), (0x200D, 0x200D))
_EMOJI = "".join(f"{chr(low)}-{chr(high)}" for low, high in _EMOJI_RANGES)  # emoji and their joiners


def _emoji_points() -> list[int]:
    return [point for low, high in _EMOJI_RANGES for point in range(low, high + 1)]


_MARKUP = re.compile(
    r"\[[^\[\]\s]{1,12}\]"  # Weibo emoticons: [怒] [哈哈]
    r"|https?://\S+|www\.\S+"  # links
    r"|@[\w\u4e00-\u9fff\-]{1,30}"  # @mentions
    rf"|[{_EMOJI}]",
    re.IGNORECASE,
)
# What every piece of markup begins with, lower-cased: most posts hold none, and then the markup pattern,
# slow to try at every character, need not run. Looked for by the place names' automaton, in the same pass.
_MARKUP_STARTS = ["[", "@", "http", "www", *(chr(c) for c in _emoji_points())]


# Above this many characters, the words the cleaned text still holds are found without a search per word.
_SCAN_LIMIT = 400

_HAN_BIGRAM = re.compile(r"(?=([\u4e00-\u9fff]{2}))")
_HAN_PAIR = re.compile(r"[\u4e00-\u9fff]{2}")


def size(body: str) -> int:
    """What a post's evidence is scaled by (divided by its square root): the cleaned text's characters less
    its commas, spaces and line breaks, so a long post is not sure of itself merely for being long. The
    commas are clause breaks and what stands for removed markup and place names, so a place name changes no
    score, nor does the line between a title and its text, nor the pipeline's normalising of a full-width
    comma to ",". Training scales each example by the same, so the weights fit it. (Counting the distinct
    features instead would mean cutting every pair of characters out of the text, which scoring otherwise
    never does.)"""
    return len(body) - body.count("，") - body.count(",") - body.count(" ") - body.count("\n")


class WeightsError(ValueError):
    """A weights file that cannot be read; names the file and what is wrong."""


class Features:
    """Turns a post into its feature set: the cleaned text's words (as the caller's tokeniser cut them)
    and its Han-character bigrams, without markup or place names. Shared by training and scoring so both read the
    same features."""

    def __init__(self, places: Iterable[str] = ()) -> None:
        names = sorted({lower(p.strip()) for p in places if p and len(p.strip()) >= 2})
        self.places = tuple(names)
        # Markup is replaced by a comma; a name without one cannot appear in the pieces markup leaves of a
        # text it was not in (see `read`).
        self._no_comma = not any("，" in name for name in names)
        # The place names, then what markup begins with (`_MARKUP_STARTS`): a match past the names says the
        # text may hold markup. Names are Han and the starts are not, so neither hides the other.
        self._names = len(names)
        self._automaton = ahocorasick_rs.AhoCorasick(
            [*names, *_MARKUP_STARTS], matchkind=ahocorasick_rs.MatchKind.LeftmostLongest
        )

    def clean(self, text: str) -> str:
        """Lower-cased text with markup and place names each replaced by a comma (a clause break)."""
        return self.read(text)[0]

    def without_places(self, text: str) -> str:
        """Lower-cased text with only the place names replaced: what the lexicon reads beside the regression,
        emoticons and all, so that 南乐县 is not the 乐 of joy."""
        return self._without_places(lower(text))[0]

    def read(self, text: str) -> tuple[str, str]:
        """`clean(text)` and `without_places(text)` together, from one lower-casing and, unless the text holds
        both markup and a place name, one search for place names (which also tells whether it may hold
        markup)."""
        lowered = lower(text)
        without, had_places, may_hold_markup = self._without_places(lowered)
        if not may_hold_markup:
            return without, without  # no markup to replace
        marked = _MARKUP.sub("，", lowered)
        if not had_places and self._no_comma:
            # Every piece of `marked` is a piece of `lowered`, which holds no place name.
            return marked, without
        return self._without_places(marked)[0], without

    def _without_places(self, body: str) -> tuple[str, bool, bool]:
        """The body with its place names replaced, whether it held any, and whether it holds the start of a
        piece of markup."""
        parts, last = [], 0
        names = self._names
        starts = False
        for index, start, end in self._automaton.find_matches_as_indexes(body):
            if index >= names:
                starts = True
                continue
            parts.append(body[last:start])
            last = end
        if not parts:
            return body, False, starts
        parts.append(body[last:])
        return "，".join(parts), True, starts

    def of(self, text: str, words: Sequence[str]) -> set[str]:
        """The feature set: the words the cleaned text still holds, which drops the words cut from an
        emoticon, a link, a mention or a place name (南乐县 → 南乐, 乐) in one test; and every pair of
        neighbouring Han characters. A two-character word and the bigram that spells it are one feature."""
        return self.of_cleaned(self.clean(text), words)

    def example(self, text: str, words: Sequence[str]) -> tuple[frozenset[str], int]:
        """What training reads of a post: its feature set (`of`) and the `size` its evidence is scaled by."""
        body = self.clean(text)
        return frozenset(self.of_cleaned(body, words)), size(body)

    def of_cleaned(self, body: str, words: Sequence[str]) -> set[str]:
        """`of`, for a text `clean` has already read."""
        pairs = _HAN_BIGRAM.findall(body)
        if len(body) <= _SCAN_LIMIT:
            found = set(filter(body.__contains__, words))
        else:
            # A long article: a search of the text per word grows with the square of its length. A single
            # character is in the text when it is in its set of characters, a pair of Han characters when
            # it is among the text's pairs (all of them are); only the rest are searched for.
            chars, known = set(body), set(pairs)
            found = set()
            for word in set(words):
                if word in chars if len(word) == 1 else word in known or word in body:
                    found.add(word)
        found.update(pairs)  # the overlapping pairs, cut by the regex engine in C
        return found


class TrainedSentiment:
    """Logistic regression over words and bigrams, with the lexicon's evidence added when the weights say how
    much (`mix`: {"model": a, "lexicon": b}, log-odds a × regression + b × lexicon); `places` are the
    office's place names, never features."""

    name = "trained"

    def __init__(
        self, weights: Path | str | dict[str, Any] = DEFAULT_WEIGHTS, places: Iterable[str] = ()
    ) -> None:
        """`weights` is a weights file, or the dictionary a fit returned (`bias`, `weights`, …)."""
        data = weights if isinstance(weights, dict) else load_weights(weights)
        self.path = Path("（未保存）") if isinstance(weights, dict) else Path(weights)
        self.weights: dict[str, float] = data["weights"]
        self.bias = float(data["bias"])
        low, high = data.get("neutral", (NEGATIVE_BELOW, POSITIVE_ABOVE))
        self.negative_below, self.positive_above = float(low), float(high)
        self.description: str = data.get("description", "")
        self.features = Features(places)
        mix = data.get("mix")
        self.mix: dict[str, float] | None = None
        self.lexicon: LexiconSentiment | None = None
        if mix is not None:
            if not _valid_mix(mix):
                raise WeightsError(
                    f'{self.path}: mix 应为 {{"model": 数, "lexicon": 数}}（可加 "silent": 数），'
                    f"各数不小于 0 且 model、lexicon 不全为 0，现为 {mix!r}"
                )
            self.mix = {"model": float(mix["model"]), "lexicon": float(mix["lexicon"])}
            # The regression's share where the lexicon finds no word at all; the same share when not given.
            self.mix["silent"] = float(mix.get("silent", mix["model"]))
            self.lexicon = LexiconSentiment()
        self._mix_model, self._mix_lexicon, self._mix_silent = (
            (self.mix["model"], self.mix["lexicon"], self.mix["silent"]) if self.mix else (1.0, 0.0, 1.0)
        )
        # The heavy weights, which name the reasons, in the order they are named: by weight, ties (weights are
        # rounded) by name, the same in every process. A post's named features are sorted by their rank here.
        heavy = sorted((w, f) for f, w in self.weights.items() if abs(w) >= NAMED_WEIGHT)
        self._heavy_names = [f for _w, f in heavy]
        self._heavy_rank = {f: rank for rank, f in enumerate(self._heavy_names)}
        self._first_positive = bisect_left(heavy, (0.0, ""))  # the rank of the lightest positive weight
        # The weighted pairs of Han characters, most of the weights, are found in the text by one automaton
        # (overlapping matches, as the pairs overlap); the other weighted features, words of one character,
        # of three or more or not Han, are looked up among the post's words. Together they are the weighted
        # features of `Features.of`, without cutting the text into its many unweighted pairs.
        pairs = [f for f in self.weights if _HAN_PAIR.fullmatch(f)]
        self._pairs = ahocorasick_rs.AhoCorasick(pairs) if pairs else None
        self._pair_weights = [self.weights[f] for f in pairs]
        # What one look-up of a post's word tells: its weight when the automaton does not count it (0.0 for
        # a pair), and its rank among the heavy features (-1 for none), which `_named` reads.
        counted = frozenset(pairs)
        self._word_table: dict[str, tuple[float, int]] = {
            f: (0.0 if f in counted else w, self._heavy_rank.get(f, -1))
            for f, w in self.weights.items()
            if f in self._heavy_rank or f not in counted
        }

    def polarity(self, score: float) -> Polarity:
        if score < self.negative_below:
            return Polarity.NEGATIVE
        if score > self.positive_above:
            return Polarity.POSITIVE
        return Polarity.NEUTRAL

    def _logit(self, body: str, words: Sequence[str]) -> float:
        """The evidence: the weights of the features of a cleaned text (`Features.of(text, words)`) summed,
        each feature once, divided by the square root of the text's `size`."""
        return self._weigh(body, words)[0]

    def _weigh(self, body: str, words: Sequence[str]) -> tuple[float, list[int]]:
        """`_logit`, and the ranks of the heavy features among the post's words that the cleaned text `body`
        still holds (the words `_named` names), from one pass over the words."""
        total = 0.0
        if self._pairs is not None:
            weights = self._pair_weights
            seen: set[Any] = set()  # the indexes as the automaton boxed them, not unboxed and boxed again
            matches: list[Any] = self._pairs.find_matches_as_indexes(body, overlapping=True)
            for match in matches:
                index = match[0]
                if index not in seen:
                    seen.add(index)
                    total += weights[index]
        ranks: list[int] = []
        table = self._word_table
        counted: set[str] = set()
        for word in words:
            entry = table.get(word)
            if entry is not None and word not in counted and word in body:
                counted.add(word)
                weight, rank = entry
                total += weight
                if rank >= 0:
                    ranks.append(rank)
        if not total:
            return 0.0, ranks
        return total / math.sqrt(size(body)), ranks

    def score(self, text: str, words: Sequence[str]) -> float:
        """`judge`'s probability, without its reasons."""
        _ranks, evidence, weighed = self._evidence(text, words)
        if not evidence and weighed is None:
            return NO_EVIDENCE.score
        return self._combine(evidence, weighed)

    def judge(self, text: str, words: Sequence[str]) -> Sentiment:
        """`words` are the post's tokens from the project's tokeniser, lower-cased."""
        ranks, evidence, weighed = self._evidence(text, words)
        if not evidence and weighed is None:
            # no known feature and no lexicon word (weights are never 0; an exact cancellation reads the same)
            return NO_EVIDENCE
        reasons = self._named(ranks)
        score = self._combine(evidence, weighed)
        if self.mix is None or self.lexicon is None:
            reasons.append(f"统计模型（按词与二字组）：P(正面)={score:.2f}")
            return Sentiment(score, self.polarity(score), tuple(reasons))
        model = _sigmoid(self.bias + evidence)
        if weighed is None:
            reasons.append(f"情感词典未见情感词，统计模型 P(正面)={model:.2f} → 合计 P(正面)={score:.2f}")
            return Sentiment(score, self.polarity(score), tuple(reasons))
        total, lexicon_reasons = weighed
        lexicon_reasons += reasons  # the lexicon's reasons come first; its list is this post's own
        lexicon_reasons.append(
            f"情感词典合计 {total:+.2f}，统计模型 P(正面)={model:.2f} → 合计 P(正面)={score:.2f}"
        )
        return Sentiment(score, self.polarity(score), tuple(lexicon_reasons))

    def _named(self, ranks: list[int]) -> list[str]:
        """The heaviest evidence of each side, in order of weight, from the ranks `_weigh` found. Named: whole
        words only, as a reader would say them, not pairs that straddle two words."""
        reasons: list[str] = []
        if not ranks:
            return reasons
        ranks.sort()
        names = self._heavy_names
        split = bisect_left(ranks, self._first_positive)
        if split:
            reasons.append("负面依据：" + _listed([names[r] for r in ranks[:split]]))
        if split < len(ranks):
            reasons.append("正面依据：" + _listed([names[r] for r in reversed(ranks[split:])]))
        return reasons

    def _evidence(
        self, text: str, words: Sequence[str]
    ) -> tuple[list[int], float, tuple[float, list[str]] | None]:
        """The ranks of the heavy words to name, the regression's evidence from the features, and the
        lexicon's reading (None without a mix, or when the lexicon finds nothing)."""
        cleaned, without_places = self.features.read(text)
        weighed = self.lexicon.weigh(without_places, lowered=True) if self.lexicon is not None else None
        evidence, ranks = self._weigh(cleaned, words)
        return ranks, evidence, weighed

    def _combine(self, evidence: float, weighed: tuple[float, list[str]] | None) -> float:
        """The probability: the regression's log-odds alone, or added to the lexicon's as the mix says; where
        the lexicon finds no word, the regression's log-odds at the mix's `silent` share."""
        if self.lexicon is None:
            return _sigmoid(self.bias + evidence)
        if weighed is None:
            return _sigmoid(self._mix_silent * (self.bias + evidence))
        return _sigmoid(
            self._mix_model * (self.bias + evidence) + self._mix_lexicon * self.lexicon.scale * weighed[0]
        )


def _valid_mix(mix: object) -> bool:
    if not isinstance(mix, dict):
        return False
    values = [mix.get(key) for key in ("model", "lexicon")] + ([mix["silent"]] if "silent" in mix else [])
    numbers = [
        v for v in values if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v)
    ]
    return len(numbers) == len(values) and all(v >= 0 for v in numbers) and any(v > 0 for v in numbers[:2])


def _sigmoid(x: float) -> float:
    if x < -35:
        return 0.0
    return 1.0 / (1.0 + math.exp(-x))


def _listed(side: list[str]) -> str:
    """At most LISTED features, heaviest first; a feature inside one already named (好 after 真好) is not
    named again. Plain loops and a substring test: this runs for every post."""
    named = ""
    count = 0
    for feature in side:
        if feature not in named:  # features hold no 、, so a hit is inside one named feature
            named = f"{named}、{feature}" if named else feature
            count += 1
            if count == LISTED:
                break
    return named


def load_weights(path: Path | str) -> dict[str, Any]:
    """The gzip JSON weights file: `format`, `bias`, `weights` {feature: weight}, optional `neutral`
    [below, above] and `description`."""
    source = Path(path)
    try:
        data = json.loads(gzip.decompress(source.read_bytes()).decode("utf-8"))
    except OSError as exc:
        raise WeightsError(f"{source}: 无法读取情感模型权重：{exc.strerror or exc}") from None
    except (ValueError, EOFError) as exc:
        raise WeightsError(f"{source}: 不是情感模型权重文件（gzip JSON）：{exc}") from None
    if (
        not isinstance(data, dict)
        or data.get("format") != FORMAT
        or not isinstance(data.get("weights"), dict)
    ):
        raise WeightsError(f"{source}: 不是情感模型权重文件（缺少 format={FORMAT} 或 weights）")
    return data


def dump_weights(data: dict[str, Any]) -> bytes:
    """The bytes of a weights file; `mtime=0` so the same model always gives the same file."""
    body = json.dumps({"format": FORMAT, **data}, ensure_ascii=False, separators=(",", ":"), sort_keys=True)
    return gzip.compress(body.encode("utf-8"), compresslevel=9, mtime=0)
