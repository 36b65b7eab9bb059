"""The embedded store: one SQLite file, no server, the default when no Elasticsearch is configured.

Posts live as JSON documents keyed by id; an FTS5 index over the jieba tokens serves `search`, which ranks
inside the index and reads only the posts it returns. WAL mode lets the crawl subprocess write while the CLI
reads the same file.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import threading
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from classifiers.search_query import SearchQuery, fts5
from config import databases
from pipeline.errors import StoreError
from pipeline.items import Post, to_json
from pipeline.store.base import RuleHits, SearchHit, WriteResult

logger = logging.getLogger(__name__)

SCHEMA_VERSION = 2

# Tokens arrive already segmented (and lower-cased) by the tokeniser and are joined by spaces, so every
# character except white space and control characters must count as part of a term: "covid-19",
# "3.15", "阿卜杜·克里木" stay whole, as they do under Elasticsearch's whitespace analyzer.
_TOKENIZER = "unicode61 remove_diacritics 0 categories 'L* M* N* P* S* Co Cf Cn Cs'"

# `post_meta` repeats the few fields search orders and filters by, one short row per post under the same
# row id: checking a match there costs a fraction of reading its row in `posts`, whose document fills pages.
_META = (
    "CREATE TABLE IF NOT EXISTS post_meta"
    " (rowid INTEGER PRIMARY KEY, id TEXT NOT NULL, published_ts REAL NOT NULL, source TEXT, level TEXT)"
)
_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS posts (id TEXT PRIMARY KEY, published_ts REAL NOT NULL, doc TEXT NOT NULL)",
    f'CREATE VIRTUAL TABLE IF NOT EXISTS post_tokens USING fts5(tokens, tokenize="{_TOKENIZER}")',
    _META,
)
_FILL_META = (
    "INSERT INTO post_meta (rowid, id, published_ts, source, level) SELECT rowid, id, published_ts,"
    " json_extract(doc, '$.source'), json_extract(doc, '$.analysis.severity.level') FROM posts"
)
# What a command that only reads (and so never migrates) uses in its place on a file of schema 1.
_META_OF_SCHEMA_1 = (
    "(SELECT rowid AS rowid, id, published_ts, json_extract(doc, '$.source') AS source,"
    " json_extract(doc, '$.analysis.severity.level') AS level FROM posts)"
)

# SQLite's default limit on host parameters in one statement is 32766 (999 before 3.32); stay well below.
_IDS_PER_LOOKUP = 500
# How many of the best matches a search takes from the index at first. More than it returns: posts tied on
# rank (reposts of one text) go newest first, and a filter may leave some out; only when these do not settle
# the answer does it go through every match again.
_CANDIDATES = 200
_SCANNED = 5000  # rows read at a time by `scan`


class SqliteStore:
    """`Store` on a local SQLite file. Row ids of `posts`, `post_tokens` and `post_meta` are kept equal."""

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
        self._meta = "post_meta"
        if read_only:
            if not self._conn.execute("SELECT 1 FROM main.sqlite_master WHERE name = 'post_meta'").fetchone():
                self._meta = _META_OF_SCHEMA_1 if self._has_posts() else "post_meta"
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
            if version < 1:
                for statement in _SCHEMA:
                    self._conn.execute(statement)
            elif version < 2:
                self._conn.execute(_META)
                self._conn.execute(_FILL_META)
            if version < SCHEMA_VERSION:
                self._conn.execute(f"PRAGMA user_version={SCHEMA_VERSION}")

    def _has_posts(self) -> bool:
        return bool(self._conn.execute("SELECT 1 FROM main.sqlite_master WHERE name = 'posts'").fetchone())

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
        """One transaction and one statement per table for the whole batch. A post seen before keeps its
        row id: its document is updated and its old tokens are taken out of the index before the new go in."""
        rows: dict[str, tuple[float, str, str | None, str, str]] = {}
        written = 0
        for post in posts:
            severity = post.analysis.severity
            rows[post.id] = (  # the same post twice in one batch: the last one wins
                post.published_at.timestamp(),
                str(post.source),
                str(severity.level) if severity is not None else None,
                to_json(post).decode("utf-8"),
                " ".join(post.analysis.tokens),
            )
            written += 1
        if not rows:
            return WriteResult()
        with self._transaction() as conn:
            known = self._rowids(conn, list(rows))
            (last,) = conn.execute("SELECT coalesce(max(rowid), 0) FROM posts").fetchone()
            updated, inserted, tokens, meta = [], [], [], []
            for post_id, (ts, source, level, doc, text) in rows.items():
                rowid = known.get(post_id)
                if rowid is None:
                    last += 1
                    rowid = last
                    inserted.append((rowid, post_id, ts, doc))
                else:
                    updated.append((ts, doc, rowid))
                tokens.append((rowid, text))
                meta.append((rowid, post_id, ts, source, level))
            if updated:
                conn.executemany("UPDATE posts SET published_ts = ?, doc = ? WHERE rowid = ?", updated)
                conn.executemany("DELETE FROM post_tokens WHERE rowid = ?", [(row[-1],) for row in updated])
            conn.executemany("INSERT INTO posts (rowid, id, published_ts, doc) VALUES (?, ?, ?, ?)", inserted)
            conn.executemany("INSERT INTO post_tokens (rowid, tokens) VALUES (?, ?)", tokens)
            conn.executemany(
                "INSERT OR REPLACE INTO post_meta (rowid, id, published_ts, source, level) VALUES (?, ?, ?, ?, ?)",
                meta,
            )
        return WriteResult(written=written)

    @staticmethod
    def _rowids(conn: sqlite3.Connection, ids: list[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        for start in range(0, len(ids), _IDS_PER_LOOKUP):
            chunk = ids[start : start + _IDS_PER_LOOKUP]
            marks = ",".join("?" * len(chunk))
            found.update(conn.execute(f"SELECT id, rowid FROM posts WHERE id IN ({marks})", chunk))
        return found

    def get(self, post_id: str) -> dict[str, Any] | None:
        with self._lock:
            row = self._conn.execute("SELECT doc FROM posts WHERE id = ?", (post_id,)).fetchone()
        return json.loads(row[0]) if row else None

    def search(
        self,
        terms: Sequence[str] | SearchQuery,
        *,
        limit: int = 20,
        since: datetime | None = None,
        until: datetime | None = None,
        sources: Collection[str] = (),
        levels: Collection[str] = (),
    ) -> list[SearchHit]:
        """Posts holding every term, best first, then newest first; an empty list of terms matches nothing.
        A `SearchQuery` (the rules' syntax) is answered by `_search_checked`.

        The index ranks its matches itself and hands over only the best few, so only those posts are read.
        A filter cannot be applied inside the index: it is checked on the best `_CANDIDATES` matches, and
        only when those do not settle the answer on every match (a second ranking of all matches, and one
        short `post_meta` row read per match).
        """
        if isinstance(terms, SearchQuery):
            if limit <= 0:
                return []
            return self._search_checked(terms, limit, *self._filters(since, until, sources, levels))
        query = fts_query(terms)
        if not query or limit <= 0:
            return []
        condition, params = self._filters(since, until, sources, levels)
        wanted = max(limit + 1, _CANDIDATES)
        with self._lock:
            candidates = self._conn.execute(
                f"SELECT f.rowid, f.rank, p.published_ts, p.id, {condition} FROM"
                " (SELECT rowid, rank FROM post_tokens WHERE post_tokens MATCH ? ORDER BY rank LIMIT ?) AS f"
                f" JOIN {self._meta} AS p ON p.rowid = f.rowid",
                (*params, query, wanted),
            ).fetchall()
            chosen = sorted((row for row in candidates if row[4]), key=_order)[:limit]
            # Every match left out ranks no better than the worst candidate. Ties on rank go newest first,
            # so the answer is settled only if the last post kept ranks strictly better than that.
            settled = len(candidates) < wanted or (
                len(chosen) == limit and chosen[-1][1] < max(row[1] for row in candidates)
            )
            if not settled:
                bound = f"f.rank <= {chosen[-1][1]!r} AND " if len(chosen) == limit else ""
                chosen = self._conn.execute(
                    "SELECT f.rowid, f.rank, p.published_ts, p.id FROM"
                    " (SELECT rowid, rank FROM post_tokens WHERE post_tokens MATCH ?) AS f"
                    f" JOIN {self._meta} AS p ON p.rowid = f.rowid WHERE {bound}{condition}"
                    " ORDER BY f.rank, p.published_ts DESC, p.id LIMIT ?",
                    (query, *params, limit),
                ).fetchall()
            marks = ",".join("?" * len(chosen))
            docs = dict(
                self._conn.execute(
                    f"SELECT rowid, doc FROM posts WHERE rowid IN ({marks})", [row[0] for row in chosen]
                )
            )
        # bm25() is lower-is-better; the contract's score is higher-is-better.
        return [SearchHit(id=row[3], score=-row[1], doc=json.loads(docs[row[0]])) for row in chosen]

    def _search_checked(
        self, query: SearchQuery, limit: int, condition: str, params: list[Any]
    ) -> list[SearchHit]:
        """The posts the query's rule matches, in the order of `search`. As there, the index ranks the
        matches of what a post must hold and hands over only the best few; each that passes the filters is
        read and checked with the rule (exclusions, scopes, NEAR). When those do not settle the answer, four
        times as many are taken, until they do or every match has been checked."""
        fts = fts5(query.index)
        if query.newest_first:
            return self._newest_checked(query, fts, limit, condition, params)
        wanted = max(limit + 1, _CANDIDATES)
        checked: dict[int, dict[str, Any] | None] = {}  # rowid -> its document, None when the rule says no
        with self._lock:
            while True:
                rows = self._conn.execute(
                    f"SELECT f.rowid, f.rank, p.published_ts, p.id, {condition} FROM"
                    " (SELECT rowid, rank FROM post_tokens WHERE post_tokens MATCH ? ORDER BY rank LIMIT ?) AS f"
                    f" JOIN {self._meta} AS p ON p.rowid = f.rowid",
                    (*params, fts, wanted),
                ).fetchall()
                unread = [row[0] for row in rows if row[4] and row[0] not in checked]
                for rowid, doc in self._documents(unread).items():
                    checked[rowid] = doc if query.matches(doc) else None
                kept = sorted((row for row in rows if row[4] and checked[row[0]] is not None), key=_order)[
                    :limit
                ]
                # As in `search`: settled when every match was taken, or the last post kept ranks strictly
                # better than the worst taken (every match not taken ranks no better than that).
                if len(rows) < wanted or (len(kept) == limit and kept[-1][1] < max(row[1] for row in rows)):
                    return [SearchHit(id=row[3], score=-row[1], doc=checked[row[0]] or {}) for row in kept]
                wanted *= 4

    def _newest_checked(
        self, query: SearchQuery, fts: str, limit: int, condition: str, params: list[Any]
    ) -> list[SearchHit]:
        """`_search_checked` newest first: the index's matches that pass the filters, newest first, read a
        batch at a time and checked with the rule until `limit` are found (score 0: not ranked)."""
        found: list[SearchHit] = []
        with self._lock:
            cursor = self._conn.execute(
                "SELECT f.rowid, p.id FROM (SELECT rowid FROM post_tokens WHERE post_tokens MATCH ?) AS f"
                f" JOIN {self._meta} AS p ON p.rowid = f.rowid WHERE {condition}"
                " ORDER BY p.published_ts DESC, p.id",
                (fts, *params),
            )
            try:
                while len(found) < limit and (rows := cursor.fetchmany(_CANDIDATES)):
                    docs = self._documents([row[0] for row in rows])
                    for rowid, post_id in rows:
                        if query.matches(doc := docs[rowid]):
                            found.append(SearchHit(id=post_id, score=0.0, doc=doc))
                            if len(found) == limit:
                                break
            finally:
                cursor.close()
        return found

    def _documents(self, rowids: list[int]) -> dict[int, dict[str, Any]]:
        """The documents of these rows, read a few hundred at a time (the caller holds the lock)."""
        found: dict[int, dict[str, Any]] = {}
        for start in range(0, len(rowids), _IDS_PER_LOOKUP):
            chunk = rowids[start : start + _IDS_PER_LOOKUP]
            marks = ",".join("?" * len(chunk))
            for rowid, text in self._conn.execute(
                f"SELECT rowid, doc FROM posts WHERE rowid IN ({marks})", chunk
            ):
                found[rowid] = json.loads(text)
        return found

    def _filters(
        self,
        since: datetime | None,
        until: datetime | None,
        sources: Collection[str],
        levels: Collection[str],
    ) -> tuple[str, list[Any]]:
        """An SQL condition on `post_meta AS p` ("1" when nothing is filtered) and its parameters."""
        parts: list[str] = []
        params: list[Any] = []
        if since is not None:
            parts.append("p.published_ts >= ?")
            params.append(since.timestamp())
        if until is not None:
            parts.append("p.published_ts < ?")
            params.append(until.timestamp())
        for column, values in (("p.source", sources), ("p.level", levels)):
            if values:
                parts.append(f"{column} IN ({','.join('?' * len(values))})")
                params.extend(str(value) for value in values)
        return (" AND ".join(parts) or "1"), params

    def scan(self, since: datetime) -> Iterator[dict[str, Any]]:
        # The fields are taken out of each document by SQLite: parsing whole documents cost several times more.
        with self._lock:
            cursor = self._conn.execute(
                "SELECT id, json_extract(doc, '$.title'), json_extract(doc, '$.text'),"
                " json_extract(doc, '$.author'), json_extract(doc, '$.source'), json_extract(doc, '$.media')"
                " FROM posts WHERE published_ts >= ? ORDER BY published_ts",
                (since.timestamp(),),
            )
            try:
                while rows := cursor.fetchmany(_SCANNED):
                    for post_id, title, text, author, source, media in rows:
                        yield {
                            "id": post_id,
                            "title": title,
                            "text": text,
                            "author": author,
                            "source": source,
                            "media": media,
                        }
            finally:
                cursor.close()

    def rule_hits(self, since: datetime) -> dict[str, RuleHits]:
        with self._lock:
            rows = self._conn.execute(
                "SELECT json_extract(r.value, '$.id') AS rule, count(*), max(p.published_ts)"
                " FROM posts AS p, json_each(p.doc, '$.analysis.rules') AS r"
                " WHERE p.published_ts >= ? GROUP BY rule",
                (since.timestamp(),),
            ).fetchall()
        return {
            rule: RuleHits(posts, datetime.fromtimestamp(last, UTC)) for rule, posts, last in rows if rule
        }

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


def _order(row: tuple[Any, ...]) -> tuple[float, float, str]:
    """Best rank first, then newest, then by id: the order `search` returns."""
    return (row[1], -row[2], row[3])


def fts_query(terms: Sequence[str]) -> str:
    """An FTS5 query requiring every term, each quoted so that no term is read as query syntax."""
    quoted = ['"' + term.replace('"', '""') + '"' for term in terms if term.strip()]
    return " AND ".join(quoted)
