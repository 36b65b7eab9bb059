"""Events: posts about the same incident grouped into one, so it raises one alert and its volume adds up.

Two posts join when they are near-duplicates (reposts, copied articles, the same page twice: 64-bit
simhash within a few bits) or when they share enough key terms (places, rule terms, the rarer words)
inside a time window. Pure: the caller supplies the recent events to compare with.
"""

from __future__ import annotations

import hashlib
import re
from collections import _count_elements  # type: ignore[attr-defined]
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import ahocorasick_rs

from classifiers.tokenise import Kept

BITS = 64
# Words too common in news to say which incident a post is about.
_COMMON = frozenset(
    [
        "我们",
        "他们",
        "记者",
        "表示",
        "目前",
        "相关",
        "工作",
        "进行",
        "已经",
        "没有",
        "一个",
        "这个",
        "时间",
        "今天",
        "昨天",
        "日前",
        "近日",
        "情况",
        "问题",
        "发生",
        "部门",
        "有关",
        "了解",
        "发现",
        "记者",
        "介绍",
        "通过",
        "要求",
        "开展",
        "进一步",
        "其中",
        "以及",
        "可以",
        "因为",
        "所以",
        "但是",
        "如果",
        "就是",
        "还是",
        "一些",
        "这些",
        "表示",
        "称",
        "说",
        "新闻",
        "报道",
        "消息",
        "网友",
        "视频",
        "图片",
        "原标题",
        "来源",
        "责任编辑",
        "编辑",
    ]
)


# A lane's byte that holds its top bit, to that bit as a binary digit.
_TOP_AS_DIGIT = bytes.maketrans(b"\0\x80", b"01")


class _Lanes:
    """Words' 64-bit hashes spread out, bit i of a hash at bit i * `width`: summing these counts, for all
    64 bits at once, the words that have each bit set, in counters that hold up to `most` words."""

    def __init__(self, width: int) -> None:
        self.width = width
        self.most = (1 << width) - 1
        self._off, self._on = "\0" * (width // 8), "\1" + "\0" * (width // 8 - 1)
        self._every = int.from_bytes((self._on * BITS).encode("latin-1"), "little")  # 1 at each lane's bottom
        self._tops = self._every << (width - 1)
        # What `majority` adds for each weight up to 255, worked out once (a multiplication of these wide
        # numbers costs as much as an addition).
        self._raise = [self._raising(weight) for weight in range(min(self.most, 255) + 1)]
        # Kept, as a post's words recur across posts.
        self.of = Kept(self._spread).__getitem__

    def _spread(self, word: str) -> int:
        h = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=8).digest(), "big")
        # Lowest bit first.
        spread = format(h, f"0{BITS}b")[::-1].replace("0", self._off).replace("1", self._on)
        return int.from_bytes(spread.encode("latin-1"), "little")

    def _raising(self, weight: int) -> int:
        # Adding 2**(width - 1) minus half the weight plus one to every lane carries into the lane's top bit
        # exactly where its count reaches that, for all 64 lanes in one addition.
        return ((1 << (self.width - 1)) - (weight // 2 + 1)) * self._every

    def majority(self, stacked: int, weight: int) -> int:
        """The bits whose count in `stacked` reaches half of `weight` (at most `most`) plus one."""
        raising = self._raise[weight] if weight < len(self._raise) else self._raising(weight)
        top = (stacked + raising) & self._tops
        # Big-endian, a lane's top bit is in its first byte, and the highest lane comes first, as `int`
        # reads binary digits.
        return int(
            top.to_bytes(BITS * self.width // 8, "big")[:: self.width // 8].translate(_TOP_AS_DIGIT), 2
        )


# Narrow lanes for most posts: numbers a quarter as wide add four times as fast; wide ones for the rest.
_NARROW_LANES, _WIDE_LANES = _Lanes(8), _Lanes(32)


def word_counts(words: Iterable[str]) -> dict[str, int]:
    """The words of two or more characters, each with how often it occurs, first seen first: what
    `simhash` and `key_terms` read, counted once when both are wanted. A plain dictionary: `Counter`'s
    methods run as Python, a cost on every post."""
    counts: dict[str, int] = {}
    for word in words:
        if len(word) > 1:
            counts[word] = counts.get(word, 0) + 1
    return counts


def simhash(words: Iterable[str] | dict[str, int]) -> int:
    """64-bit simhash of the words (or of their `word_counts`), each weighted by how often it occurs: a bit
    is set where the words with that bit set outweigh those without."""
    counts: dict[str, int] = words if isinstance(words, dict) else word_counts(words)
    weight = sum(counts.values())
    lanes = _NARROW_LANES if weight <= _NARROW_LANES.most else _WIDE_LANES
    spread = lanes.of
    stacked = sum(map(spread, counts))
    if weight != len(counts):
        # Most words occur once: only the others are multiplied (a multiplication of these wide numbers
        # costs as much as the addition), by the occurrences beyond their first.
        stacked += sum([spread(word) * (count - 1) for word, count in counts.items() if count > 1])
    # A bit is set where its count reaches half the weight plus one.
    return lanes.majority(stacked, weight)


def hamming(a: int, b: int) -> int:
    return (a ^ b).bit_count()


# What a repost or a post carries besides what it says: 转发微博 and the //@chain, @mentions, #话题# labels,
# [emoticons] and links. Shared by unrelated posts (every repost by one account, every post under one
# topic), so none of it names an incident.
_MARKUP = re.compile(
    r"转发微博|//@[^:：\s]{1,30}[:：]?|@[\w\u4e00-\u9fff\-]{1,30}|#[^#\n]{1,40}#|\[[^\[\]\s]{1,12}\]"
    r"|https?://\S+"
)


def markup(text: str) -> str:
    """The markup of a post (see `_MARKUP`) joined by spaces, "" when it has none: its words are taken out of
    the words that name the incident."""
    return " ".join(_MARKUP.findall(text))


def without(counts: dict[str, int], words: Iterable[str]) -> dict[str, int]:
    """`counts` less one occurrence of each of `words` (a word the text also says outside its markup stays)."""
    removed = word_counts(words)
    return {word: n - removed.get(word, 0) for word, n in counts.items() if n > removed.get(word, 0)}


def _boilerplate(word: str) -> bool:
    return word in _COMMON or word.isdigit()


# Kept, as a post's words recur across posts: one look-up instead of the set's and `isdigit`'s.
_is_boilerplate = Kept(_boilerplate).__getitem__


def key_terms(
    words: Iterable[str] | dict[str, int], must_have: Iterable[str] = (), limit: int = 12
) -> frozenset[str]:
    """The words that name an incident: the given ones (places, rule terms) plus the most frequent
    words (or `word_counts`) of two or more characters that are not news boilerplate."""
    counts: dict[str, int] = words if isinstance(words, dict) else word_counts(words)
    chosen = {w for w in must_have if w}
    named: list[str] = []
    repeated: list[str] = []  # those said more than once, which come first
    for word, count in counts.items():
        if not _is_boilerplate(word):
            named.append(word)
            if count > 1:
                repeated.append(word)
    if len(chosen) + len(named) <= limit:
        # Room for all of them (most posts): no order to choose them in.
        chosen.update(named)
        return frozenset(chosen)
    if repeated:
        # A stable sort by count, most first, keeps first-seen order among equal counts (as `most_common`
        # does), so sorting only the words that are no boilerplate picks what counting only those would.
        # The words said once keep their order after those said more.
        repeated.sort(key=counts.__getitem__, reverse=True)
        named = repeated + [word for word in named if counts[word] == 1]
    for word in named:
        if len(chosen) >= limit:
            break
        chosen.add(word)
    return frozenset(chosen)


# What happened, by the words that name it. Two posts that each say what happened, with nothing in common,
# report different incidents however many other words they share (the county, 死亡, 受伤, 原因正在调查). A
# drill is a kind of its own: a real flood never joins the exercise that simulated one.
_INCIDENT_WORDS = {
    **dict.fromkeys(["爆炸", "爆燃", "炸了", "闪爆"], "爆炸"),
    **dict.fromkeys(["相撞", "车祸", "追尾", "侧翻", "撞车", "交通事故", "撞死", "撞伤"], "交通事故"),
    **dict.fromkeys(["火灾", "起火", "着火", "失火", "大火"], "火灾"),
    **dict.fromkeys(["坍塌", "塌方", "倒塌", "垮塌"], "坍塌"),
    **dict.fromkeys(["溺水", "落水", "溺亡"], "溺水"),
    **dict.fromkeys(["中毒", "食物中毒"], "中毒"),
    **dict.fromkeys(["泄漏", "泄露"], "泄漏"),
    **dict.fromkeys(["漫滩", "决口", "溃堤", "管涌", "内涝", "洪水"], "水情"),
    **dict.fromkeys(["演练", "演习"], DRILL := "演练"),
}


_INCIDENT_NAMES = list(_INCIDENT_WORDS)
# Read in the text, not the words: the tokeniser keeps 发生爆炸 or 三车相撞 whole.
_INCIDENT_AUTOMATON = ahocorasick_rs.AhoCorasick(_INCIDENT_NAMES)


def incident_kinds(text: str) -> frozenset[str]:
    """The kinds of incident a text names (爆炸, 交通事故, 演练 …), none for most posts."""
    found = _INCIDENT_AUTOMATON.find_matches_as_indexes(text, overlapping=True)
    return frozenset(_INCIDENT_WORDS[_INCIDENT_NAMES[index]] for index, _start, _end in found)


def different_incidents(a: frozenset[str], b: frozenset[str]) -> bool:
    """Whether two posts' incident kinds show they report different things: a drill and no drill, or each
    naming what happened with nothing in common."""
    return (DRILL in a) != (DRILL in b) or bool(a and b and not a & b)


# One of each per post, so their `__init__` is written out to be compiled (see classifiers/sentiment.py).
@dataclass(frozen=True, slots=True, init=False)
class Signature:
    post_id: str
    event_id: str
    fingerprint: int
    terms: frozenset[str]
    published_at: datetime
    counties: tuple[str, ...]
    kinds: frozenset[str]  # `incident_kinds` of its words

    def __init__(
        self,
        post_id: str,
        event_id: str,
        fingerprint: int,
        terms: frozenset[str],
        published_at: datetime,
        counties: tuple[str, ...] = (),
        kinds: frozenset[str] = frozenset(),
    ) -> None:
        object.__setattr__(self, "post_id", post_id)
        object.__setattr__(self, "event_id", event_id)
        object.__setattr__(self, "fingerprint", fingerprint)
        object.__setattr__(self, "terms", terms)
        object.__setattr__(self, "published_at", published_at)
        object.__setattr__(self, "counties", counties)
        object.__setattr__(self, "kinds", kinds)

    def with_event(self, event_id: str) -> Signature:
        """The same post's signature in another event (the one it joined)."""
        # Built directly: `dataclasses.replace` costs twice as much, for every joined post.
        return Signature(
            self.post_id, event_id, self.fingerprint, self.terms, self.published_at, self.counties, self.kinds
        )


@dataclass(frozen=True, slots=True, init=False)
class Assignment:
    event_id: str
    new: bool
    reasons: tuple[str, ...]
    # Other events the post matches as well: it bridges them and the event it joins, which are one.
    also: tuple[str, ...]

    def __init__(
        self, event_id: str, new: bool, reasons: tuple[str, ...], also: tuple[str, ...] = ()
    ) -> None:
        object.__setattr__(self, "event_id", event_id)
        object.__setattr__(self, "new", new)
        object.__setattr__(self, "reasons", reasons)
        object.__setattr__(self, "also", also)


@dataclass(frozen=True, slots=True)
class EventMatcher:
    window: timedelta = timedelta(hours=72)
    near_duplicate_bits: int = 3
    min_shared_terms: int = 4
    min_overlap: float = 0.4

    def assign(self, post: Signature, recent: Iterable[Signature]) -> Assignment:
        """The event the post belongs to (its best match), with every other event it matches too, or a new
        one named after the post. Matching is symmetric, so the events a run ends with (the posts linked
        by matches, through any bridging post) do not depend on the order the posts came in."""
        # The best so far: its score, the signature, and why (its fingerprint's distance for a near-duplicate,
        # else the terms they share); the reason is worded for the best one only.
        best: tuple[float, Signature, int, frozenset[str]] | None = None
        counties = set(post.counties)
        matched: dict[str, None] = {}  # every event matched, in order
        for other in recent:
            if other.post_id == post.post_id:
                return Assignment(other.event_id, False, ("同一条信息再次采集",))
            if abs(post.published_at - other.published_at) > self.window:
                continue
            if counties and other.counties and counties.isdisjoint(other.counties):
                continue
            distance = hamming(post.fingerprint, other.fingerprint)
            if distance <= self.near_duplicate_bits:
                score, shared = 2.0, frozenset[str]()
            else:
                if different_incidents(post.kinds, other.kinds):
                    continue
                shared = post.terms & other.terms
                overlap = len(shared) / max(1, min(len(post.terms), len(other.terms)))
                if len(shared) < self.min_shared_terms or overlap < self.min_overlap:
                    continue
                score = overlap
            matched[other.event_id] = None
            if best is None or score > best[0]:
                best = (score, other, distance, shared)
        if best is None:
            return Assignment(post.event_id, True, ("新事件",))
        score, other, distance, shared = best
        if distance <= self.near_duplicate_bits:
            reason = f"与{other.post_id}内容近似重复(指纹相差{distance}位)"
        else:
            reason = f"与{other.post_id}共有关键词「{'」「'.join(sorted(shared)[:6])}」"
        return Assignment(other.event_id, False, (reason,), tuple(e for e in matched if e != other.event_id))


class SignatureIndex:
    """Among many signatures, the few `EventMatcher.assign` could join a post to, found without comparing
    the post with each: those sharing at least `min_shared_terms` key terms, and those agreeing with its
    fingerprint on one of `near_duplicate_bits + 1` slices (fingerprints that differ in no more bits than
    that leave at least one slice whole). Every other signature is one `assign` would pass over."""

    def __init__(self, matcher: EventMatcher) -> None:
        self.min_shared_terms = matcher.min_shared_terms
        slices = min(BITS, matcher.near_duplicate_bits + 1)
        width = -(-BITS // slices)
        # Each slice's shift, mask and table, the table keyed by the slice's bits alone: no tuple to build
        # and hash per look-up.
        self._slices: list[tuple[int, int, dict[int, list[int]]]] = [
            (shift, (1 << width) - 1, {}) for shift in range(0, BITS, width)
        ]
        # Sets, not lists: `candidates` asks whether a signature holds a common term without reading all
        # the signatures that do.
        self._by_term: dict[str, set[int]] = {}

    def add(self, key: int, signature: Signature) -> None:
        """Index a signature under `key`, a number the caller chooses and gets back from `candidates`."""
        by_term = self._by_term
        # One object for the key in every set and list: compiled, an `int` put in each would be a new one,
        # thousands of copies for the tally in `candidates` to read all over memory.
        boxed: Any = key
        for term in signature.terms:
            if (keys := by_term.get(term)) is None:
                by_term[term] = {boxed}
            else:
                keys.add(boxed)
        fingerprint = signature.fingerprint
        for shift, mask, table in self._slices:
            part = fingerprint >> shift & mask
            if (same_slice := table.get(part)) is None:
                table[part] = [boxed]
            else:
                same_slice.append(boxed)

    def candidates(self, signature: Signature) -> set[int] | None:
        """The keys of the signatures that could match; None when every one could (no term minimum)."""
        need = self.min_shared_terms
        if need <= 0:
            return None
        found: set[int] = set()
        terms = signature.terms
        # A post with fewer key terms than the minimum shares that many with none: no count needed.
        if len(terms) >= need:
            by_term = self._by_term
            holders = [keys for term in terms if (keys := by_term.get(term))]
            if len(holders) >= need:
                # A signature sharing `need` of the post's terms is in at least one of any len - need + 1 of
                # their sets: it is counted in the shortest ones, then only looked up in the longest (the
                # county, 发生), which are never read through.
                holders.sort(key=len)
                split = len(holders) - need + 1
                # Tallied by `Counter`'s own counting loop, in C, where a loop here would box every key.
                shared: dict[Any, int] = {}
                for keys in holders[:split]:
                    _count_elements(shared, keys)
                longest = holders[split:]
                for key, count in shared.items():
                    # Looked up in the longest sets, shortest first, only until it has enough or can no
                    # longer get them: most keys were counted once and are not in the first one.
                    lacking = need - count
                    left = len(longest)
                    for keys in longest:
                        if lacking <= 0 or lacking > left:
                            break
                        left -= 1
                        if key in keys:
                            lacking -= 1
                    if lacking <= 0:
                        found.add(key)
        fingerprint = signature.fingerprint
        for shift, mask, table in self._slices:
            if (same_slice := table.get(fingerprint >> shift & mask)) is not None:
                found.update(same_slice)
        return found
