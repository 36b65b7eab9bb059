"""The durable memory of recent events: each post's signature and counts, so a post crawled today can
join an incident first seen yesterday, from another source, in another crawl process.

SQLite in WAL mode beside the other state; the judgement itself is `classifiers.events`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from classifiers.events import Signature
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
    likes INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS signatures_time ON signatures (published_ts);
CREATE INDEX IF NOT EXISTS signatures_event ON signatures (event_id);
"""


@dataclass(frozen=True, slots=True)
class EventTotals:
    posts: int
    sources: tuple[str, ...]
    media: tuple[str, ...]
    comments: int
    reposts: int
    likes: int
    first_published: datetime


class EventStore:
    def __init__(self, path: Path) -> None:
        self.db = databases.connect(path, schema=SCHEMA)  # checked: a damaged file is refused, not replaced

    def recent(self, around: datetime, window: timedelta, limit: int = 5000) -> list[Signature]:
        rows = self.db.execute(
            "SELECT post_id, event_id, fingerprint, terms, published_at, counties FROM signatures "
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
            )
            for post, event, fp, terms, at, c in rows
        ]

    def event_of(self, post_id: str) -> str | None:
        row = self.db.execute("SELECT event_id FROM signatures WHERE post_id = ?", (post_id,)).fetchone()
        return row[0] if row else None

    def record(
        self, signature: Signature, *, source: str, media: str | None, comments: int, reposts: int, likes: int
    ) -> None:
        """Remember a post under its event; a re-crawl refreshes its counts."""
        self.db.execute(
            "INSERT INTO signatures VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT(post_id) DO UPDATE SET "
            "comments = excluded.comments, reposts = excluded.reposts, likes = excluded.likes",
            (
                signature.post_id,
                signature.event_id,
                f"{signature.fingerprint:016x}",
                json.dumps(sorted(signature.terms), ensure_ascii=False),
                json.dumps(signature.counties, ensure_ascii=False),
                signature.published_at.timestamp(),
                signature.published_at.isoformat(),
                source,
                media,
                comments,
                reposts,
                likes,
            ),
        )

    def totals(self, event_id: str) -> EventTotals:
        rows = self.db.execute(
            "SELECT source, media, comments, reposts, likes, published_at FROM signatures WHERE event_id = ?",
            (event_id,),
        ).fetchall()
        return EventTotals(
            posts=len(rows),
            sources=tuple(sorted({r[0] for r in rows})),
            media=tuple(sorted({r[1] for r in rows if r[1]})),
            comments=sum(r[2] for r in rows),
            reposts=sum(r[3] for r in rows),
            likes=sum(r[4] for r in rows),
            first_published=min(datetime.fromisoformat(r[5]) for r in rows),
        )

    def close(self) -> None:
        self.db.close()
