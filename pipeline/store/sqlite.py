"""The embedded store: one SQLite file, no server, the default when no Elasticsearch is configured.

Posts live as JSON documents keyed by id; an FTS5 index over the jieba tokens serves `search`.
WAL mode lets the crawl subprocess write while the CLI reads the same file.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from config import databases
from pipeline.errors import StoreError
from pipeline.items import Post, to_dict
from pipeline.store.base import SearchHit, WriteResult

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 1

# Tokens arrive already segmented (and lower-cased) by the tokeniser and are joined by spaces, so every
# character except white space and control characters must count as part of a term: "covid-19",
# "3.15", "阿卜杜·克里木" stay whole, as they do under Elasticsearch's whitespace analyzer.
_TOKENIZER = "unicode61 remove_diacritics 0 categories 'L* M* N* P* S* Co Cf Cn Cs'"

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS posts (id TEXT PRIMARY KEY, published_ts REAL NOT NULL, doc TEXT NOT NULL)",
    f'CREATE VIRTUAL TABLE IF NOT EXISTS post_tokens USING fts5(tokens, tokenize="{_TOKENIZER}")',
)


class SqliteStore:
    """`Store` on a local SQLite file. Row ids of `posts` and `post_tokens` are kept equal."""

    name = "sqlite"

    def __init__(self, path: Path, *, busy_timeout: float = 30.0, read_only: bool = False) -> None:
        self.path = Path(path)
        # Transactions are opened explicitly (BEGIN IMMEDIATE) so a writer takes the lock up front instead
        # of failing on an upgrade when another process writes. A damaged file raises DatabaseDamaged.
        self._conn = databases.connect(
            self.path,
            read_only=read_only,
            schema=";".join(_SCHEMA) if read_only else "",
            timeout=busy_timeout,
            check_same_thread=False,
        )
        self._lock = threading.Lock()
        if read_only:
            return
        try:
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._migrate()
        except sqlite3.Error as exc:
            self._conn.close()
            if databases.is_disk_full(exc):
                raise databases.StorageFull(self.path, str(exc)) from exc
            raise StoreError(f"cannot open the SQLite store at {self.path}: {exc}") from exc

    def _migrate(self) -> None:
        with self._transaction():
            (version,) = self._conn.execute("PRAGMA user_version").fetchone()
            if version > SCHEMA_VERSION:
                raise StoreError(
                    f"{self.path} has schema version {version}; this code knows up to {SCHEMA_VERSION}"
                )
            if version < SCHEMA_VERSION:
                for statement in _SCHEMA:
                    self._conn.execute(statement)
                self._conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def write(self, posts: Iterable[Post]) -> WriteResult:
        try:
            return self._write(posts)
        except sqlite3.OperationalError as exc:
            if databases.is_disk_full(exc):  # the batch was rolled back; what was written before stays
                raise databases.StorageFull(self.path, str(exc)) from exc
            raise

    def _write(self, posts: Iterable[Post]) -> WriteResult:
        result = WriteResult()
        with self._transaction() as conn:
            for post in posts:
                doc = to_dict(post)
                (rowid,) = conn.execute(
                    "INSERT INTO posts (id, published_ts, doc) VALUES (?, ?, ?) "
                    "ON CONFLICT(id) DO UPDATE SET published_ts = excluded.published_ts, doc = excluded.doc "
                    "RETURNING rowid",
                    (post.id, post.published_at.timestamp(), json.dumps(doc, ensure_ascii=False)),
                ).fetchone()
                conn.execute("DELETE FROM post_tokens WHERE rowid = ?", (rowid,))
                conn.execute(
                    "INSERT INTO post_tokens (rowid, tokens) VALUES (?, ?)",
                    (rowid, " ".join(post.analysis.tokens)),
                )
                result.written += 1
        return result

    def get(self, post_id: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._conn.execute("SELECT doc FROM posts WHERE id = ?", (post_id,)).fetchone()
        return json.loads(row[0]) if row else None

    def search(self, terms: Sequence[str], *, limit: int = 20) -> list[SearchHit]:
        """Posts holding every term; an empty list of terms matches nothing."""
        query = fts_query(terms)
        if not query:
            return []
        with self._lock:
            rows = self._conn.execute(
                "SELECT p.id, bm25(post_tokens) AS rank, p.doc FROM post_tokens "
                "JOIN posts AS p ON p.rowid = post_tokens.rowid "
                "WHERE post_tokens MATCH ? ORDER BY rank, p.published_ts DESC, p.id LIMIT ?",
                (query, limit),
            ).fetchall()
        # bm25() is lower-is-better; the contract's score is higher-is-better.
        return [SearchHit(id=post_id, score=-rank, doc=json.loads(doc)) for post_id, rank, doc in rows]

    def count(self) -> int:
        with self._lock:
            (n,) = self._conn.execute("SELECT count(*) FROM posts").fetchone()
        return n

    def refresh(self) -> None:
        """Writes are visible as soon as they commit."""

    def close(self) -> None:
        with self._lock:
            self._conn.close()

    def __repr__(self) -> str:
        return f"SqliteStore({str(self.path)!r})"


def fts_query(terms: Sequence[str]) -> str:
    """An FTS5 query requiring every term, each quoted so that no term is read as query syntax."""
    quoted = ['"' + term.replace('"', '""') + '"' for term in terms if term.strip()]
    return " AND ".join(quoted)
