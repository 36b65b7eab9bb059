"""The durable memory of recent events: each post's signature, counts, places, lines of work and the level
it was judged at, so a post crawled today can join an incident first seen yesterday, from another source,
in another crawl process, and the event keeps the highest level it reached.

SQLite in WAL mode beside the other state; `MemoryEventStore`, with the same answers, for the one run of
`yuqing analyze` or `yuqing route`. The judgement itself is `classifiers.events`.
"""

from __future__ import annotations

import bisect
import json
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from operator import attrgetter
from pathlib import Path

from mypy_extensions import mypyc_attr

from classifiers.events import EventMatcher, Signature, SignatureIndex
from classifiers.types import Level, RuleHit
from config import databases

SCHEMA = """
CREATE TABLE IF NOT EXISTS signatures (
    post_id TEXT PRIMARY KEY,
    event_id TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    terms TEXT NOT NULL,
    counties TEXT NOT NULL,
    published_ts REAL NOT NULL,
    published_at TEXT NOT NULL,
    source TEXT NOT NULL,
    media TEXT,
    comments INTEGER NOT NULL,
    reposts INTEGER NOT NULL,
    likes INTEGER NOT NULL,
    departments TEXT NOT NULL DEFAULT '[]',
    level TEXT
);
CREATE INDEX IF NOT EXISTS signatures_time ON signatures (published_ts);
CREATE INDEX IF NOT EXISTS signatures_event ON signatures (event_id);
-- Posts per hour of each watched series (a county, a topic), for spikes (classifiers.spikes): one row per
-- series and hour that had any, counted once per post, whichever crawl of the patrol saw it.
CREATE TABLE IF NOT EXISTS hourly (
    kind TEXT NOT NULL,
    name TEXT NOT NULL,
    hour_ts REAL NOT NULL,
    posts INTEGER NOT NULL,
    PRIMARY KEY (kind, name, hour_ts)
) WITHOUT ROWID;
-- Events found to be one (a post bridged them, or an earlier post named the event): where each absorbed
-- id went, so a link or a case kept under it still finds the event.
CREATE TABLE IF NOT EXISTS merged (
    event_id TEXT PRIMARY KEY,
    into_event TEXT NOT NULL
) WITHOUT ROWID;
"""
# Hourly counts are kept this long behind the newest: a week of history and the hour being filled.
KEEP_HOURLY_S = 8 * 24 * 3600
HOUR_S = 3600

# The moment `timestamp` was last asked for, with its answer: one pair, replaced whole, so that threads
# asking at once (the console's previews) never read one moment with another's answer.
_last: tuple[datetime | None, float] = (None, 0.0)


def timestamp(moment: datetime) -> float:
    """`moment.timestamp()`, remembered for the moment last asked: the event stage and the store ask it of
    one post's time several times, and each answer from a zoneinfo time zone costs half a microsecond."""
    global _last
    last = _last
    if last[0] is moment:
        return last[1]
    seconds = moment.timestamp()
    _last = (moment, seconds)
    return seconds


# Columns added since the first version; a file written before them gains them when opened.
ADDED_COLUMNS = {
    "departments": "TEXT NOT NULL DEFAULT '[]'",
    "level": "TEXT",
    "kinds": "TEXT NOT NULL DEFAULT '[]'",
    # What the event's judgement reads of each post besides its counts: its rule hits, how negative it is,
    # whether an official account wrote it.
    "rules": "TEXT NOT NULL DEFAULT '[]'",
    "sentiment": "REAL",
    "official": "INTEGER NOT NULL DEFAULT 0",
}


@dataclass(frozen=True, slots=True, init=False)
class EventTotals:
    posts: int
    sources: tuple[str, ...]
    media: tuple[str, ...]
    comments: int
    reposts: int
    likes: int
    first_published: datetime
    counties: tuple[str, ...]  # every county its posts named, first seen first
    departments: tuple[str, ...]  # every line of work its posts touched, first seen first
    level: Level | None  # the highest level any of its posts was judged at
    # What its posts say together, the same whatever order they came in: every rule any of them hit (by
    # rule id), the most negative sentiment, whether any was an official account's, and the sum of each
    # post's comments and reposts per hour of its age (at `now`, when `totals` was given one).
    rules: tuple[RuleHit, ...]
    sentiment: float | None
    official: bool
    per_hour: float | None

    # Written out, to be compiled: one is made for every post that joins an event (see
    # classifiers/sentiment.py).
    def __init__(
        self,
        *,
        posts: int,
        sources: tuple[str, ...],
        media: tuple[str, ...],
        comments: int,
        reposts: int,
        likes: int,
        first_published: datetime,
        counties: tuple[str, ...],
        departments: tuple[str, ...],
        level: Level | None,
        rules: tuple[RuleHit, ...] = (),
        sentiment: float | None = None,
        official: bool = False,
        per_hour: float | None = None,
    ) -> None:
        object.__setattr__(self, "posts", posts)
        object.__setattr__(self, "sources", sources)
        object.__setattr__(self, "media", media)
        object.__setattr__(self, "comments", comments)
        object.__setattr__(self, "reposts", reposts)
        object.__setattr__(self, "likes", likes)
        object.__setattr__(self, "first_published", first_published)
        object.__setattr__(self, "counties", counties)
        object.__setattr__(self, "departments", departments)
        object.__setattr__(self, "level", level)
        object.__setattr__(self, "rules", rules)
        object.__setattr__(self, "sentiment", sentiment)
        object.__setattr__(self, "official", official)
        object.__setattr__(self, "per_hour", per_hour)


class _EventRules:
    """The rules an event's posts hit, one hit per rule (its terms from every post), gathered post by post:
    an event of many posts is not read again whole for every post that joins it."""

    __slots__ = ("first", "terms")

    def __init__(self, hits: Iterable[RuleHit] = ()) -> None:
        self.first: dict[str, RuleHit] = {}
        self.terms: dict[str, set[str]] = {}  # a rule's terms from every post, once more than one hit it
        self.add(hits)

    def add(self, hits: Iterable[RuleHit]) -> None:
        first, terms = self.first, self.terms
        for hit in hits:
            if (seen := first.get(hit.id)) is None:
                first[hit.id] = hit
            elif (union := terms.get(hit.id)) is None:
                terms[hit.id] = {*seen.terms, *hit.terms}
            else:
                union.update(hit.terms)

    def hits(self) -> tuple[RuleHit, ...]:
        """In rule-id order; a rule hit by one post keeps that post's terms, by several their sorted union."""
        first, terms = self.first, self.terms
        return tuple(
            first[rule] if (union := terms.get(rule)) is None else _with_terms(first[rule], union)
            for rule in sorted(first)
        )


def _with_terms(hit: RuleHit, terms: set[str]) -> RuleHit:
    return RuleHit(hit.id, hit.name, hit.category, hit.weight, tuple(sorted(terms)))


def _event_rules(hits: Iterable[RuleHit]) -> tuple[RuleHit, ...]:
    """The rules an event's posts hit, one hit per rule (its terms from every post), in rule-id order."""
    return _EventRules(hits).hits()


def _rate(comments: int, reposts: int, published: datetime, now: datetime) -> float:
    """A post's comments and reposts per hour of its age, as severity reads one (at least half an hour)."""
    if not comments and not reposts:
        return 0.0  # without its age: most posts are read before anyone answers them
    return (comments + reposts) / max((now - published).total_seconds() / 3600, 0.5)


# Compiled (classifiers/native.py), yet a Python class may derive from it: the tests narrow its candidates.
@mypyc_attr(allow_interpreted_subclasses=True)
class EventStore:
    def __init__(self, path: Path | None) -> None:
        """`path` None keeps the events in memory only, for one run that must leave the office's alone."""
        if path is None:
            self.db = sqlite3.connect(":memory:", isolation_level=None)
            self.db.executescript(SCHEMA)
        else:
            # Checked: a damaged file is refused, not replaced.
            self.db = databases.connect(path, schema=SCHEMA)
        have = {row[1] for row in self.db.execute("PRAGMA table_info(signatures)")}
        for column, kind in ADDED_COLUMNS.items():
            if column not in have:
                try:
                    self.db.execute(f"ALTER TABLE signatures ADD COLUMN {column} {kind}")
                except sqlite3.OperationalError as exc:
                    # Another crawl of the same patrol opened the file at the same moment and added it.
                    if "duplicate column" not in str(exc):
                        raise
        self.db.execute(
            "DELETE FROM hourly WHERE hour_ts < (SELECT MAX(hour_ts) FROM hourly) - ?", (KEEP_HOURLY_S,)
        )
        self._first_hour: float | None = None

    def recent(self, around: datetime, window: timedelta, limit: int = 5000) -> list[Signature]:
        rows = self.db.execute(
            "SELECT post_id, event_id, fingerprint, terms, published_at, counties, kinds FROM signatures "
            "WHERE published_ts BETWEEN ? AND ? ORDER BY published_ts DESC LIMIT ?",
            ((around - window).timestamp(), (around + window).timestamp(), limit),
        )
        return [
            Signature(
                post,
                event,
                int(fp, 16),
                frozenset(json.loads(terms)),
                datetime.fromisoformat(at),
                tuple(json.loads(c)),
                frozenset(json.loads(kinds)),
            )
            for post, event, fp, terms, at, c, kinds in rows
        ]

    def candidates(self, signature: Signature, window: timedelta) -> list[Signature]:
        """The signatures a post could join, for `EventMatcher.assign`: every recent one."""
        return self.recent(signature.published_at, window)

    def event_of(self, post_id: str) -> str | None:
        row = self.db.execute("SELECT event_id FROM signatures WHERE post_id = ?", (post_id,)).fetchone()
        return row[0] if row else None

    def earliest(self, event_ids: Sequence[str]) -> tuple[float, str]:
        """(published_ts, post id) of the events' first post, ties by post id: what names them as one."""
        marks = ",".join("?" * len(event_ids))
        row = self.db.execute(
            f"SELECT published_ts, post_id FROM signatures WHERE event_id IN ({marks}) "
            "ORDER BY published_ts, post_id LIMIT 1",
            tuple(event_ids),
        ).fetchone()
        return (row[0], row[1]) if row else (float("inf"), "")

    def merge(self, absorbed: Sequence[str], into: str) -> None:
        """The absorbed events' posts are `into`'s from now, and their ids lead to it."""
        marks = ",".join("?" * len(absorbed))
        self.db.execute("BEGIN IMMEDIATE")
        try:
            self.db.execute(
                f"UPDATE signatures SET event_id = ? WHERE event_id IN ({marks})", (into, *absorbed)
            )
            self.db.execute(
                f"UPDATE merged SET into_event = ? WHERE into_event IN ({marks})", (into, *absorbed)
            )
            self.db.executemany(
                "INSERT OR REPLACE INTO merged (event_id, into_event) VALUES (?, ?)",
                [(event_id, into) for event_id in absorbed],
            )
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise

    def current(self, event_id: str) -> str:
        """The event's id now: itself, or the event it was merged into."""
        row = self.db.execute("SELECT into_event FROM merged WHERE event_id = ?", (event_id,)).fetchone()
        return row[0] if row else event_id

    def merged_into(self, event_id: str) -> list[str]:
        """The ids of the events merged into this one, which posts stored before the merge still carry."""
        rows = self.db.execute(
            "SELECT event_id FROM merged WHERE into_event = ? ORDER BY event_id", (event_id,)
        ).fetchall()
        return [row[0] for row in rows]

    def record(
        self,
        signature: Signature,
        *,
        source: str,
        media: str | None,
        comments: int,
        reposts: int,
        likes: int,
        departments: Sequence[str] = (),
        rules: Sequence[RuleHit] = (),
        sentiment: float | None = None,
        official: bool = False,
    ) -> None:
        """Remember a post under its event; a re-crawl refreshes its counts, lines of work and reading."""
        self.db.execute(
            "INSERT INTO signatures (post_id, event_id, fingerprint, terms, counties, published_ts, "
            "published_at, source, media, comments, reposts, likes, departments, kinds, rules, sentiment, "
            "official) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(post_id) DO "
            "UPDATE SET comments = excluded.comments, reposts = excluded.reposts, likes = excluded.likes, "
            "departments = excluded.departments, rules = excluded.rules, sentiment = excluded.sentiment, "
            "official = excluded.official",
            (
                signature.post_id,
                signature.event_id,
                f"{signature.fingerprint:016x}",
                json.dumps(sorted(signature.terms), ensure_ascii=False),
                json.dumps(signature.counties, ensure_ascii=False),
                timestamp(signature.published_at),
                signature.published_at.isoformat(),
                source,
                media,
                comments,
                reposts,
                likes,
                json.dumps(list(departments), ensure_ascii=False),
                json.dumps(sorted(signature.kinds), ensure_ascii=False),
                json.dumps(
                    [[h.id, h.name, h.category, h.weight, list(h.terms)] for h in rules], ensure_ascii=False
                ),
                sentiment,
                int(official),
            ),
        )

    def count_hour(self, hour_ts: float, series: Sequence[tuple[str, str]]) -> None:
        """One more post in the hour starting at `hour_ts` for each series (kind, name)."""
        self.db.executemany(
            "INSERT INTO hourly (kind, name, hour_ts, posts) VALUES (?, ?, ?, 1) "
            "ON CONFLICT DO UPDATE SET posts = posts + 1",
            [(kind, name, hour_ts) for kind, name in series],
        )
        if self._first_hour is not None:
            self._first_hour = min(self._first_hour, hour_ts)

    def watched_hours(self, hour_ts: float) -> int:
        """Whole hours counted before the hour starting at `hour_ts`: how much history any series has."""
        if self._first_hour is None:
            first = self.db.execute("SELECT MIN(hour_ts) FROM hourly").fetchone()[0]
            if first is None:
                return 0
            self._first_hour = first
        return max(0, int((hour_ts - self._first_hour) // HOUR_S))

    def hourly(self, series: tuple[str, str], hour_ts: float, hours: int) -> list[int]:
        """The series' posts in each of the `hours` hours before the one starting at `hour_ts`, oldest
        first, then in that hour itself."""
        counts = [0] * (hours + 1)
        start = hour_ts - hours * HOUR_S
        for at, posts in self.db.execute(
            "SELECT hour_ts, posts FROM hourly WHERE kind = ? AND name = ? AND hour_ts BETWEEN ? AND ?",
            (*series, start, hour_ts),
        ):
            counts[int((at - start) // HOUR_S)] = posts
        return counts

    def busiest(self, since: datetime, limit: int = 10) -> list[tuple[str, int, list[str]]]:
        """The events with the most posts published since `since`: (event id, posts, counties)."""
        rows = self.db.execute(
            "SELECT event_id, count(*), group_concat(counties, '') FROM signatures WHERE published_ts >= ?"
            " GROUP BY event_id ORDER BY count(*) DESC, max(published_ts) DESC LIMIT ?",
            (since.timestamp(), limit),
        ).fetchall()
        found = []
        for event_id, posts, counties in rows:
            names = [
                c
                for part in (counties or "").replace("][", "]\n[").splitlines()
                for c in json.loads(part or "[]")
            ]
            found.append((event_id, posts, list(dict.fromkeys(names))))
        return found

    def posts_of(self, event_id: str) -> list[tuple[str, str, datetime]]:
        """(post id, source, published at) of each post of the event, oldest first."""
        rows = self.db.execute(
            "SELECT post_id, source, published_at FROM signatures WHERE event_id = ? ORDER BY published_ts, rowid",
            (event_id,),
        ).fetchall()
        return [(post, source, datetime.fromisoformat(at)) for post, source, at in rows]

    def judged(self, post_id: str, level: Level) -> None:
        """The level the post was finally judged at, which the event keeps as a floor."""
        self.db.execute("UPDATE signatures SET level = ? WHERE post_id = ?", (level.value, post_id))

    def totals(self, event_id: str, now: datetime | None = None) -> EventTotals:
        rows = self.db.execute(
            "SELECT source, media, comments, reposts, likes, published_at, counties, departments, level, "
            "rules, sentiment, official FROM signatures WHERE event_id = ? ORDER BY published_ts, rowid",
            (event_id,),
        ).fetchall()
        levels = [Level(r[8]) for r in rows if r[8]]
        readings = [r[10] for r in rows if r[10] is not None]
        return EventTotals(
            posts=len(rows),
            sources=tuple(sorted({r[0] for r in rows})),
            media=tuple(sorted({r[1] for r in rows if r[1]})),
            comments=sum(r[2] for r in rows),
            reposts=sum(r[3] for r in rows),
            likes=sum(r[4] for r in rows),
            first_published=min(datetime.fromisoformat(r[5]) for r in rows),
            counties=tuple(dict.fromkeys(c for r in rows for c in json.loads(r[6]))),
            departments=tuple(dict.fromkeys(d for r in rows for d in json.loads(r[7]))),
            level=max(levels, key=lambda level: level.rank) if levels else None,
            rules=_event_rules(
                RuleHit(rule, name, category, weight, tuple(terms))
                for r in rows
                for rule, name, category, weight, terms in json.loads(r[9])
            ),
            sentiment=min(readings) if readings else None,
            official=any(r[11] for r in rows),
            per_hour=None
            if now is None
            else sum(_rate(r[2], r[3], datetime.fromisoformat(r[5]), now) for r in rows),
        )

    def close(self) -> None:
        self.db.close()


def with_merged(path: Path, event_ids: Sequence[str]) -> list[str]:
    """The events asked for, each as its whole merged event (an old name leads to it) with every name it
    absorbed: what a search for an event's posts looks for among stored posts, each indexed under the id its
    event had then."""
    if not event_ids or not path.exists():
        return list(event_ids)
    store = EventStore(path)
    try:
        names: dict[str, None] = {}
        for asked in event_ids:
            current = store.current(asked)
            names.update(dict.fromkeys([asked, current, *store.merged_into(current)]))
        return list(names)
    finally:
        store.close()


class _Row:
    """One post of `MemoryEventStore`: a plain class, as one is made for every post and a dataclass's
    `__init__` would run as Python where this one is compiled (classifiers/native.py)."""

    def __init__(
        self,
        *,
        signature: Signature,
        order: tuple[float, int],
        source: str,
        media: str | None,
        comments: int,
        reposts: int,
        likes: int,
        departments: Sequence[str],
        rules: Sequence[RuleHit] = (),
        sentiment: float | None = None,
        official: bool = False,
    ) -> None:
        self.signature = signature
        self.order = order  # (published_ts, insertion): SQLite's (published_ts, rowid)
        self.source = source
        self.media = media
        self.comments = comments
        self.reposts = reposts
        self.likes = likes
        self.departments = departments
        self.rules = rules
        self.sentiment = sentiment
        self.official = official
        self.level: Level | None = None


_ORDER = attrgetter("order")


class MemoryEventStore:
    """`EventStore(None)`'s answers, for one run of `yuqing analyze` or `yuqing route`, from Python objects
    and an index of terms and fingerprints: reading every recent signature back from SQLite for every
    line, and comparing the line with each, made a run's cost grow with the square of its lines."""

    def __init__(self, matcher: EventMatcher, limit: int = 5000) -> None:
        self.limit = limit  # as `EventStore.recent`: a post is compared with the latest `limit` only
        self._rows: list[_Row] = []
        self._by_post: dict[str, _Row] = {}
        self._by_event: dict[str, list[_Row]] = {}
        self._times: list[tuple[float, int]] = []  # every row's order, sorted
        self._index = SignatureIndex(matcher)
        self._hourly: dict[tuple[str, str], dict[float, int]] = {}
        self._first_hour: float | None = None
        self._merged: dict[str, str] = {}  # absorbed event id: the event it is part of now
        self._rules: dict[str, _EventRules] = {}  # each event's rules so far; gathered again when missing

    def candidates(self, signature: Signature, window: timedelta) -> list[Signature]:
        """The recent signatures `assign` could join the post to, in `EventStore.recent`'s order."""
        keys = self._index.candidates(signature)
        same = self._by_post.get(signature.post_id)
        if not keys and keys is not None and same is None:  # most posts: nothing to compare with
            return []
        around = timestamp(signature.published_at)
        span = window.total_seconds()
        low, high = around - span, around + span
        rows = list(self._rows) if keys is None else [self._rows[k] for k in keys]
        if same is not None:
            rows.append(same)
        times = self._times
        # Only more rows in the window than `limit` can put any of them beyond the latest `limit`.
        crowded = len(times) > self.limit and (
            (end := bisect.bisect_right(times, (high, len(self._rows))))
            - bisect.bisect_left(times, (low, -1))
            > self.limit
        )
        found = {
            id(row): row
            for row in rows
            if low <= row.order[0] <= high
            and not (crowded and end - bisect.bisect_right(times, row.order) >= self.limit)
        }
        if not found:
            return []
        return [row.signature for row in sorted(found.values(), key=_ORDER, reverse=True)]

    def event_of(self, post_id: str) -> str | None:
        row = self._by_post.get(post_id)
        return row.signature.event_id if row else None

    def earliest(self, event_ids: Sequence[str]) -> tuple[float, str]:
        return min(
            ((row.order[0], row.signature.post_id) for e in event_ids for row in self._by_event.get(e, ())),
            default=(float("inf"), ""),
        )

    def merge(self, absorbed: Sequence[str], into: str) -> None:
        rows = self._by_event.setdefault(into, [])
        self._rules.pop(into, None)
        for event_id in absorbed:
            self._rules.pop(event_id, None)
            for row in self._by_event.pop(event_id, []):
                row.signature = row.signature.with_event(into)
                rows.append(row)
        rows.sort(key=_ORDER)
        for event_id, target in self._merged.items():
            if target in absorbed:
                self._merged[event_id] = into
        self._merged.update(dict.fromkeys(absorbed, into))

    def current(self, event_id: str) -> str:
        return self._merged.get(event_id, event_id)

    def record(
        self,
        signature: Signature,
        *,
        source: str,
        media: str | None,
        comments: int,
        reposts: int,
        likes: int,
        departments: Sequence[str] = (),
        rules: Sequence[RuleHit] = (),
        sentiment: float | None = None,
        official: bool = False,
    ) -> None:
        if (row := self._by_post.get(signature.post_id)) is not None:
            row.comments, row.reposts, row.likes, row.departments = (
                comments,
                reposts,
                likes,
                list(departments),
            )
            row.rules, row.sentiment, row.official = tuple(rules), sentiment, official
            self._rules.pop(row.signature.event_id, None)
            return
        key = len(self._rows)
        order = (timestamp(signature.published_at), key)
        row = _Row(
            signature=signature,
            order=order,
            source=source,
            media=media,
            comments=comments,
            reposts=reposts,
            likes=likes,
            departments=list(departments),
            rules=tuple(rules),
            sentiment=sentiment,
            official=official,
        )
        self._rows.append(row)
        self._by_post[signature.post_id] = row
        # Posts mostly come in time order: appending then is what the sorted insertion would do.
        if (gathered := self._rules.get(signature.event_id)) is not None:
            gathered.add(row.rules)
        if (event := self._by_event.get(signature.event_id)) is None:
            self._by_event[signature.event_id] = [row]
        elif event[-1].order <= order:
            event.append(row)
        else:
            bisect.insort(event, row, key=_ORDER)
        times = self._times
        if not times or times[-1] <= order:
            times.append(order)
        else:
            bisect.insort(times, order)
        self._index.add(key, signature)

    def count_hour(self, hour_ts: float, series: Sequence[tuple[str, str]]) -> None:
        hourly = self._hourly
        for key in series:
            if (hours := hourly.get(key)) is None:
                hourly[key] = {hour_ts: 1}
            else:
                hours[hour_ts] = hours.get(hour_ts, 0) + 1
        if self._first_hour is None or hour_ts < self._first_hour:
            self._first_hour = hour_ts

    def watched_hours(self, hour_ts: float) -> int:
        if self._first_hour is None:
            return 0
        return max(0, int((hour_ts - self._first_hour) // HOUR_S))

    def hourly(self, series: tuple[str, str], hour_ts: float, hours: int) -> list[int]:
        counted = self._hourly.get(series, {})
        return [counted.get(hour_ts - back * HOUR_S, 0) for back in range(hours, -1, -1)]

    def judged(self, post_id: str, level: Level) -> None:
        if (row := self._by_post.get(post_id)) is not None:
            row.level = level

    def totals(self, event_id: str, now: datetime | None = None) -> EventTotals:
        rows = self._by_event[event_id]
        # One pass over the event's rows for every total (an event of many posts is read for each post that
        # joins it): the same answers as a pass per total, the firsts and the highest kept as those would.
        sources: set[str] = set()
        media: set[str] = set()
        comments = reposts = likes = 0
        first = rows[0].signature.published_at
        counties: dict[str, None] = {}
        departments: dict[str, None] = {}
        level: Level | None = None
        sentiment: float | None = None
        official = False
        rates = 0.0  # comments and reposts per hour, summed when there is a `now` to measure ages at
        for r in rows:
            if now is not None:
                rates += _rate(r.comments, r.reposts, r.signature.published_at, now)
            sources.add(r.source)
            if r.media:
                media.add(r.media)
            comments += r.comments
            reposts += r.reposts
            likes += r.likes
            first = min(first, r.signature.published_at)
            for county in r.signature.counties:
                counties[county] = None
            for department in r.departments:
                departments[department] = None
            if r.level and (level is None or r.level.rank > level.rank):
                level = r.level
            if r.sentiment is not None and (sentiment is None or r.sentiment < sentiment):
                sentiment = r.sentiment
            official = official or r.official
        return EventTotals(
            posts=len(rows),
            sources=tuple(sorted(sources)),
            media=tuple(sorted(media)),
            comments=comments,
            reposts=reposts,
            likes=likes,
            first_published=first,
            counties=tuple(counties),
            departments=tuple(departments),
            level=level,
            rules=self._event_rules(event_id, rows),
            sentiment=sentiment,
            official=official,
            per_hour=None if now is None else rates,
        )

    def _event_rules(self, event_id: str, rows: list[_Row]) -> tuple[RuleHit, ...]:
        if (gathered := self._rules.get(event_id)) is None:
            gathered = self._rules[event_id] = _EventRules(hit for r in rows for hit in r.rules)
        return gathered.hits()

    def close(self) -> None:
        """Nothing to flush: the run's events end with it."""
