"""The lexicon sentiment model (`sentiment_model: lexicon`): Weibo emoticons and a word lexicon with
negation, intensity and contrast, summed per post and turned into a probability with a logistic function.
Every decision names its words.

The lexicon is data (classifiers/data/sentiment_lexicon.txt), read once in the constructor.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import ahocorasick_rs

from classifiers import DATA
from classifiers.native import lower
from classifiers.sentiment import NO_EVIDENCE, Sentiment, polarity

DEFAULT_LEXICON = DATA / "sentiment_lexicon.txt"

# Fitted on tests/data/sentiment/dev.jsonl (benchmarks/sentiment.py --fit): the neutral band 0.4..0.6 of
# the probability then holds posts whose evidence sums to less than half an ordinary word.
DEFAULT_SCALE = 0.8

SECTIONS = (
    "emoticons",
    "sarcasm",
    "positive",
    "negative",
    "negators",
    "intensifiers",
    "neutralisers",
    "contrast",
    "concession",
    "neutral",
)
_WEIGHTED = {"emoticons": None, "positive": 1.0, "negative": -1.0, "intensifiers": None}

# How far (in characters, within one clause) a modifier reaches the sentiment word after it.
NEGATION_REACH = 5
INTENSIFIER_REACH = 2
NEUTRALISER_REACH = 6
# Complaints about the remedy itself: never taken out by the remedy word before them (整治不力, 治理效果差).
_REMEDY_FAILED = frozenset(
    ["不力", "不到位", "走过场", "不作为", "敷衍", "形式主义", "推诿", "差", "很差", "太差", "没用", "无效"]
)
NEGATED = -0.8  # 不满意 is a little milder than 差; 不差 a little milder than 好
CONCEDED = 0.5  # the clause of 虽然, and everything before 但是
STRESSED = 1.5  # what follows 但是
EXCLAIMED = 1.25
REPEATS = (1.0, 0.5, 0.5)  # the first three occurrences of one word or emoticon; later ones add nothing
SARCASTIC = -0.5  # praise beside [微笑] is read as its opposite, at half strength
DOUBLE_QUESTION = -0.6
LISTED = 8  # words named per reason

_EMOTICON = re.compile(r"\[([^\[\]\s]{1,12})\]")
_BREAKS = frozenset("，。！？；,.!?;、…~～\n\r\t :：（）()【】「」“”\"'《》")
# 就 and 才 end what a negator governs: in 不到一年就塌 the 不 is about the time, not about 塌.
_SCOPE_ENDS = frozenset("就才")
_SCOPE_STOPS = _BREAKS | _SCOPE_ENDS
# The same characters for the regex engine, which finds a clause's end faster than a loop over characters.
_BREAK = re.compile(f"[{re.escape(''.join(sorted(_BREAKS)))}]")
_EXCLAIM = frozenset("！!")
_DOUBLE_QUESTION = re.compile(r"[？?][？?!！]")


class LexiconError(ValueError):
    """A lexicon file that cannot be read; names the file and line."""

    def __init__(self, source: str, line: int, reason: str) -> None:
        super().__init__(f"{source}:{line}: {reason}")
        self.source = source
        self.line = line
        self.reason = reason


@dataclass(slots=True)
class _Entry:
    term: str
    weight: float = 0.0
    negator: bool = False
    intensity: float = 0.0
    neutraliser: bool = False
    contrast: bool = False
    concession: bool = False

    @property
    def sentiment(self) -> bool:
        return self.weight != 0.0


@dataclass(frozen=True, slots=True)
class Lexicon:
    """The parsed lexicon: emoticon weights, sarcasm emoticons, and the word entries by term."""

    emoticons: dict[str, float]
    sarcasm: frozenset[str]
    entries: dict[str, _Entry] = field(default_factory=dict)

    @classmethod
    def parse(cls, text: str, source: str = "<lexicon>") -> Lexicon:
        emoticons: dict[str, float] = {}
        sarcasm: set[str] = set()
        entries: dict[str, _Entry] = {}
        seen: dict[tuple[str, str], int] = {}
        section: str | None = None
        for number, raw in enumerate(text.splitlines(), start=1):
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            if line.startswith("["):
                name = line.strip("[]").strip()
                if not line.endswith("]") or name not in SECTIONS:
                    raise LexiconError(
                        source, number, f"unknown section {line!r}; known: {', '.join(SECTIONS)}"
                    )
                section = name
                continue
            if section is None:
                raise LexiconError(source, number, "entry before the first [section]")
            parts = line.split()
            if len(parts) > 2:
                raise LexiconError(source, number, f"expected `term [weight]`, got {line!r}")
            term = lower(parts[0])
            key = (section, term)
            if key in seen:
                raise LexiconError(
                    source, number, f"{term!r} already listed in [{section}] at line {seen[key]}"
                )
            seen[key] = number
            weight = _weight(parts, section, source, number)
            if section == "emoticons":
                emoticons[term] = weight
                continue
            if section == "sarcasm":
                sarcasm.add(term)
                continue
            entry = entries.setdefault(term, _Entry(term))
            if section in ("positive", "negative"):
                if (weight < 0) if section == "positive" else (weight > 0):
                    raise LexiconError(source, number, f"{term!r}: weight {weight:g} has the wrong sign")
                entry.weight = weight
            elif section == "negators":
                entry.negator = True
            elif section == "intensifiers":
                if weight <= 0:
                    raise LexiconError(source, number, f"{term!r}: an intensity must be above 0")
                entry.intensity = weight
            elif section == "neutralisers":
                entry.neutraliser = True
            elif section == "contrast":
                entry.contrast = True
            elif section == "concession":
                entry.concession = True
        if not entries:
            raise LexiconError(source, 0, "no words")
        return cls(emoticons, frozenset(sarcasm), entries)

    @classmethod
    def load(cls, path: Path | str) -> Lexicon:
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise LexiconError(str(path), 0, "file not found") from None
        except UnicodeDecodeError as exc:
            raise LexiconError(str(path), 0, f"not UTF-8 ({exc.reason} at byte {exc.start})") from None
        return cls.parse(text, str(path))


def _weight(parts: list[str], section: str, source: str, number: int) -> float:
    if len(parts) == 1:
        default = _WEIGHTED.get(section, 0.0)
        if default is None:
            raise LexiconError(source, number, f"[{section}] needs a weight after {parts[0]!r}")
        return default
    if section not in _WEIGHTED:
        raise LexiconError(source, number, f"[{section}] takes no weight, got {parts[1]!r}")
    try:
        value = float(parts[1])
    except ValueError:
        raise LexiconError(source, number, f"weight {parts[1]!r} is not a number") from None
    if not math.isfinite(value):
        raise LexiconError(source, number, f"weight {parts[1]!r} is not finite")
    return value


# One word of evidence, as a plain tuple (a dataclass per hit cost more than the rest of a short post):
# (start, end, value, label) — where it is (end inclusive), what it adds before the clause's turns and
# exclamation, and how the reasons name it. An emoticon's evidence is (value, label).
_WordHit = tuple[int, int, float, str]
_EmoticonHit = tuple[float, str]
# What the evidence loop reads of each lexicon entry, by the automaton's index, unpacked at once:
# (term, weight, intensity, negator, neutraliser, turn), turn None or whether it is a concession.
_Reading = tuple[str, float, float, bool, bool, bool | None]
_Turn = tuple[int, bool, str]  # (offset, is_concession, word)


class LexiconSentiment:
    """Lexicon and emoticon scorer over the raw text; needs no tokens, so it costs far less than jieba."""

    name = "lexicon"

    def __init__(self, lexicon: Lexicon | Path | str = DEFAULT_LEXICON, scale: float = DEFAULT_SCALE) -> None:
        self.lexicon = lexicon if isinstance(lexicon, Lexicon) else Lexicon.load(lexicon)
        self.scale = scale
        # Leftmost-longest and without overlaps: 不满意 is one word, not 不 then 满意.
        self._entries = list(self.lexicon.entries.values())
        self._readings: list[_Reading] = [
            (
                e.term,
                e.weight,
                e.intensity,
                e.negator,
                e.neutraliser,
                e.concession if e.contrast or e.concession else None,
            )
            for e in self._entries
        ]
        self._automaton = ahocorasick_rs.AhoCorasick(
            list(self.lexicon.entries), matchkind=ahocorasick_rs.MatchKind.LeftmostLongest
        )

    def judge(self, text: str, words: Sequence[str] = ()) -> Sentiment:
        """`words` is accepted for the common interface and not needed: matching runs on the text."""
        weighed = self.weigh(text)
        if weighed is None:
            return NO_EVIDENCE
        total, reasons = weighed
        score = 1.0 / (1.0 + math.exp(-self.scale * total))
        reasons.append(f"合计 {total:+.2f} → P(正面)={score:.2f}")
        return Sentiment(score, polarity(score), tuple(reasons))

    def weigh(self, text: str, *, lowered: bool = False) -> tuple[float, list[str]] | None:
        """The evidence summed (its log-odds are `scale` times it) and the reasons naming it; None when the
        text holds none (no sentiment word or emoticon, nothing taken out by a remedy word). `lowered`: the
        caller has lower-cased the text already (lower-casing twice gives the same text), so the automaton
        reads the very string the caller's did, whose UTF-8 form Python keeps."""
        body = text if lowered else lower(text)
        emoticons: list[str] = []
        if "[" in body:  # most posts hold no emoticon: no pass of the emoticon pattern for them
            emoticons = _EMOTICON.findall(body)
            body = _EMOTICON.sub("，", body)  # an emoticon ends a clause: 不 before it does not reach past it
        words, turns, neutralised = self._word_hits(body)
        faces: list[_EmoticonHit] = []
        sarcastic: list[str] = []
        if emoticons:
            faces = self._emoticon_hits(emoticons)
            sarcastic = [e for e in dict.fromkeys(emoticons) if e in self.lexicon.sarcasm]
        if words or faces:
            total, reasons, ironic = _weigh(body, words, faces, turns, bool(sarcastic))
        else:  # nothing to weigh: a fifth of posts hold no lexicon word at all
            total, reasons, ironic = 0.0, [], False
        notes: list[str] = []
        if turns:
            notes.extend(f"转折「{term}」：其后为重" for _offset, concession, term in turns if not concession)
            notes.extend(f"让步「{term}」：该句减半" for _offset, concession, term in turns if concession)
        if ironic:
            notes.insert(0, f"反讽表情{''.join(f'[{e}]' for e in sarcastic)}：赞语按反话计")
        # Most posts ask nothing: two searches for a question mark cost less than one of the pattern.
        if ("?" in text or "？" in text) and _DOUBLE_QUESTION.search(text):
            total += DOUBLE_QUESTION
            notes.append("连用问号/问叹号：质问语气")
        if not words and not faces and not notes and not neutralised:
            return None
        reasons += notes
        if neutralised:
            reasons.append(f"治理、防范语境不计「{'」「'.join(neutralised[:LISTED])}」")
        return total, reasons

    # --- evidence --------------------------------------------------------------------------------------

    def _word_hits(self, body: str) -> tuple[list[_WordHit], list[_Turn], list[str]]:
        """Sentiment words with their modifiers applied, contrast turns (offset, is_concession, word),
        and the negative words a remedy word (整治, 防范 …) took out. Runs for every post: the entries are
        read from plain tuples, and the modifiers' lists are only looked at when they hold something."""
        readings = self._readings
        matches = self._automaton.find_matches_as_indexes(body)
        hits: list[_WordHit] = []
        turns: list[_Turn] = []
        neutralised: list[str] = []
        if not matches:
            return hits, turns, neutralised
        counts: dict[str, int] = {}
        negators: list[tuple[int, int]] = []  # (start, end) since the last sentiment word
        intensifiers: list[tuple[int, int, float]] = []
        remedies: list[int] = []
        last = len(matches) - 1
        for position, (index, start, stop) in enumerate(matches):
            term, weight, intensity, negator, neutraliser, turn = readings[index]
            end = stop - 1
            if turn is not None:
                turns.append((start, turn, term))
            # 好 in 好美 intensifies the sentiment word right after it; 好 alone is a word of praise.
            if intensity and (
                not weight
                or (
                    position < last
                    and readings[matches[position + 1][0]][1]
                    and matches[position + 1][1] <= stop
                )
            ):
                intensifiers.append((start, end, intensity))
                continue
            if negator:
                negators.append((start, end))
            if neutraliser:
                remedies.append(end)
            if not weight:
                continue
            value = weight
            first = start
            if negators:
                flips = [s for s, e in negators if _reaches(body, e, start, NEGATION_REACH)]
                if len(flips) % 2:
                    value *= NEGATED
                if flips:
                    first = min(first, flips[0])
                negators.clear()
            if intensifiers:
                for s, e, factor in intensifiers:
                    if _reaches(body, e, start, INTENSIFIER_REACH):
                        value *= factor
                        first = min(first, s)
                intensifiers.clear()
            if (
                remedies
                and value < 0
                and term not in _REMEDY_FAILED
                and any(_reaches(body, e, start, NEUTRALISER_REACH) for e in remedies)
            ):
                neutralised.append(body[first:stop])
                continue
            seen = counts.get(term, 0)
            counts[term] = seen + 1
            if seen >= len(REPEATS):
                continue
            hits.append((first, end, value * REPEATS[seen], body[first:stop]))
        return hits, turns, neutralised

    def _emoticon_hits(self, names: Iterable[str]) -> list[_EmoticonHit]:
        hits: list[_EmoticonHit] = []
        counts: dict[str, int] = {}
        for name in names:
            weight = self.lexicon.emoticons.get(name)
            if weight is None:
                weight = self._unknown_emoticon(name)
            if not weight:
                continue
            seen = counts.get(name, 0)
            counts[name] = seen + 1
            if seen >= len(REPEATS):
                continue
            hits.append((weight * REPEATS[seen], f"[{name}]"))
        return hits

    def _unknown_emoticon(self, name: str) -> float:
        """An emoticon not in the list is read by its name (「泪流满面」 has 泪), capped like a known one."""
        found = self._automaton.find_matches_as_indexes(name)
        weight: float = sum(self._entries[index].weight for index, _start, _end in found)
        return max(-2.0, min(2.0, weight * 1.5))


def _weigh(
    body: str, words: list[_WordHit], faces: list[_EmoticonHit], turns: list[_Turn], sarcastic: bool
) -> tuple[float, list[str], bool]:
    """The evidence summed, words first, then emoticons; the reasons naming it; whether praise was read as
    irony. A word's value is turned by the contrast words around it and raised by an exclamation at the end
    of its clause; beside a sarcastic emoticon, praise counts as its opposite."""
    negative_words: list[str] = []
    positive_words: list[str] = []
    ironic: list[str] = []
    negative_faces: list[str] = []
    positive_faces: list[str] = []
    contrasts = [t for t in turns if not t[1]] if turns else turns
    concessions = [t for t in turns if t[1]] if turns else turns
    exclaimed = "!" in body or "！" in body  # else no clause can end in one
    # Each piece of evidence as weighed so far, as listed, and the lists it is named in by its side.
    readings = []
    for start, end, value, label in words:
        weighed = value
        if turns:  # without them the factor is 1
            weighed *= _turn_factor(body, start, contrasts, concessions)
        if exclaimed and _clause_end_char(body, end) in _EXCLAIM:
            weighed *= EXCLAIMED
        readings.append((weighed, value, label, negative_words, positive_words))
    readings.extend((value, value, label, negative_faces, positive_faces) for value, label in faces)
    total = 0.0
    for weighed, value, label, negatives, positives in readings:
        if sarcastic and weighed > 0:
            weighed *= SARCASTIC
            ironic.append(label)
        elif value < 0:
            negatives.append(label)
        elif value > 0:
            positives.append(label)
        total += weighed
    reasons = []
    if negative_words:
        reasons.append(_named("负面词", negative_words))
    if positive_words:
        reasons.append(_named("正面词", positive_words))
    if ironic:
        reasons.append(_named("反话", ironic))
    if negative_faces:
        reasons.append("负面表情" + "".join(list(dict.fromkeys(negative_faces))[:LISTED]))
    if positive_faces:
        reasons.append("正面表情" + "".join(list(dict.fromkeys(positive_faces))[:LISTED]))
    return total, reasons, bool(ironic)


def _named(title: str, labels: list[str]) -> str:
    """负面词「差」「失望」: each word once, at most LISTED of them."""
    return f"{title}「{'」「'.join(list(dict.fromkeys(labels))[:LISTED])}」"


def _turn_factor(body: str, start: int, contrasts: list[_Turn], concessions: list[_Turn]) -> float:
    factor = 1.0
    later = [offset for offset, _c, _t in contrasts if offset > start]
    if later:
        factor *= CONCEDED
    elif any(offset < start for offset, _c, _t in contrasts):
        factor *= STRESSED
    for offset, _c, _t in concessions:
        clause_end = _clause_end(body, offset)
        if offset <= start <= clause_end:
            factor *= CONCEDED
        elif start > clause_end and not later and not any(o < start for o, _c, _t in contrasts):
            factor *= STRESSED
    return factor


def _reaches(body: str, modifier_end: int, start: int, reach: int) -> bool:
    """Whether a modifier ending at `modifier_end` governs the word at `start`: near enough, and nothing
    between them ends its scope."""
    return 0 <= start - modifier_end - 1 <= reach and _SCOPE_STOPS.isdisjoint(body[modifier_end + 1 : start])


def _clause_end(body: str, position: int) -> int:
    found = _BREAK.search(body, position)
    return found.start() if found else len(body)


def _clause_end_char(body: str, position: int) -> str:
    end = _clause_end(body, position + 1)
    return body[end] if end < len(body) else ""
