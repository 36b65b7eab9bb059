"""The production store: an Elasticsearch index whose mapping lives in `mappings/posts.json`.

Posts the node cannot take (down, overloaded, rejecting a document) go to an fsync'd spool file and
are replayed, oldest first, before the next write; nothing is lost while the node is away.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import time
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from elastic_transport import TransportError
from elasticsearch import ApiError, BadRequestError, Elasticsearch, NotFoundError
from elasticsearch.helpers import streaming_bulk

from pipeline.errors import StoreError, StoreUnavailable
from pipeline.items import Post, to_dict
from pipeline.store.base import SearchHit, WriteResult

logger = logging.getLogger(__name__)

MAPPING_FILE = Path(__file__).with_name("mappings") / "posts.json"

# Item statuses worth retrying later; any other failed item is a document the node will never take.
_RETRYABLE = frozenset({429, 500, 502, 503, 504})


def redact_url(url: str) -> str:
    """The URL without user name, password or query, fit for logs and status lines."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    if parts.username or parts.password:
        netloc = f"***@{netloc}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def load_template_body() -> dict[str, Any]:
    with open(MAPPING_FILE, encoding="utf-8") as f:
        return json.load(f)


class ElasticsearchStore:
    """`Store` on one Elasticsearch index, created from a composable index template of the same name."""

    name = "elasticsearch"

    def __init__(
        self,
        url: str,
        index: str,
        spool_dir: Path,
        *,
        chunk_size: int = 500,
        request_timeout: float = 30.0,
        slow_failure: float = 5.0,
        pause_after_slow_failure: float = 60.0,
    ) -> None:
        self.index = index
        self.display_url = redact_url(url)
        self.spool = Spool(Path(spool_dir) / f"{index}.spool.jsonl")
        self.chunk_size = chunk_size
        self._client = Elasticsearch(url, request_timeout=request_timeout, max_retries=2)
        self._prepared = False
        # A node that fails fast (refused, 503) is tried on every write; one that hangs until the timeout
        # is left alone for a while, so a crawl does not stall on every batch while it is away.
        self._slow_failure = slow_failure
        self._pause = pause_after_slow_failure
        self._paused_until = 0.0
        started = time.monotonic()
        try:
            self._prepare()
        except (TransportError, ApiError) as exc:
            self._note_failure(started)
            permanent = isinstance(exc, ApiError) and exc.status_code not in _RETRYABLE
            logger.log(
                logging.ERROR if permanent else logging.WARNING,
                "elasticsearch at %s not ready (%s); posts will be spooled until it is",
                self.display_url,
                _describe(exc),
            )

    def _prepare(self) -> None:
        """Put the index template and create the index, so no write can create it with guessed types."""
        if self._prepared:
            return
        body = load_template_body()
        self._client.indices.put_index_template(
            name=self.index,
            index_patterns=[self.index],
            priority=500,
            version=body["_meta"]["version"],
            meta=body["_meta"],
            template={"settings": body["settings"], "mappings": body["mappings"]},
        )
        if not self._client.indices.exists(index=self.index):
            try:
                self._client.indices.create(index=self.index)
            except BadRequestError as exc:
                if exc.error != "resource_already_exists_exception":
                    raise
        self._prepared = True

    # -- writing ---------------------------------------------------------------------------------

    def write(self, posts: Iterable[Post]) -> WriteResult:
        docs = [to_dict(post) for post in posts]
        result = WriteResult()
        wait = self._paused_until - time.monotonic()
        if wait > 0:
            self._spool(docs, f"it timed out recently; next attempt in {wait:.0f}s")
            result.spooled = len(docs)
            return result
        if self.spool.pending():
            replay = self.replay_spool()
            result.errors.extend(replay.errors)
            if self.spool.pending():
                # Older versions are still waiting; indexing these first would let replay overwrite them.
                self._spool(docs, "earlier posts are still waiting in the spool")
                result.spooled = len(docs)
                return result
        if not docs:
            return result
        try:
            outcome = self._index(docs)
        except BaseException:
            self._spool(docs, "unexpected error while indexing")
            raise
        result.written = outcome.written
        result.spooled = self._settle(outcome, result.errors)
        return result

    def replay_spool(self) -> WriteResult:
        """Send the spooled posts to the node; the spool file goes only once the node has them all."""
        result = WriteResult()
        with self.spool.locked():
            entries, corrupt = self.spool.read()
            for lineno, line, reason in corrupt:
                where = f"{self.spool.path}:{lineno}"
                self.spool.reject({"from": where, "reason": reason, "line": line})
                logger.error(
                    "spool line %s is not a post (%s); kept in %s", where, reason, self.spool.rejected
                )
                result.errors.append(f"{where}: {reason}")
            if not entries:
                self.spool.remove()
                return result
            outcome = self._index(entries)
            for doc, reason in outcome.rejected:
                self._reject(doc, reason, result.errors)
            result.written = outcome.written
            if outcome.retry:
                self.spool.rewrite(outcome.retry)
                result.spooled = len(outcome.retry)
                logger.warning(
                    "elasticsearch at %s still unavailable (%s); %d posts stay in %s",
                    self.display_url,
                    outcome.failure or "documents not accepted",
                    len(outcome.retry),
                    self.spool.path,
                )
            else:
                self.spool.remove()
            if outcome.written:
                logger.info("replayed %d spooled posts into %s", outcome.written, self.index)
        return result

    def _index(self, docs: list[dict[str, Any]]) -> _Outcome:
        latest = {doc["id"]: doc for doc in docs}  # the same post twice in one batch: the last one wins
        copies = Counter(doc["id"] for doc in docs)
        outcome = _Outcome()
        actions = (
            {"_op_type": "index", "_index": self.index, "_id": post_id, "_source": doc}
            for post_id, doc in latest.items()
        )
        unresolved = dict(latest)
        started = time.monotonic()
        try:
            self._prepare()
            for ok, item in streaming_bulk(
                self._client,
                actions,
                chunk_size=self.chunk_size,
                max_retries=2,
                initial_backoff=1,
                max_backoff=10,
                raise_on_error=False,
                raise_on_exception=True,
            ):
                info = next(iter(item.values()))
                post_id = info.get("_id")
                doc = unresolved.pop(post_id, None)
                if doc is None:
                    continue
                if ok:
                    outcome.written += copies[post_id]
                elif info.get("status") in _RETRYABLE:
                    outcome.retry.append(doc)
                    outcome.failure = _item_reason(info)
                else:
                    outcome.rejected.append((doc, _item_reason(info)))
        except (TransportError, ApiError) as exc:
            outcome.failure = _describe(exc)
            self._note_failure(started)
        outcome.retry.extend(unresolved.values())
        return outcome

    def _note_failure(self, started: float) -> None:
        if time.monotonic() - started > self._slow_failure:
            self._paused_until = time.monotonic() + self._pause

    def _settle(self, outcome: _Outcome, errors: list[str]) -> int:
        """Spool what may succeed later, set aside what never will; returns how many posts that was."""
        if outcome.retry:
            self._spool(outcome.retry, outcome.failure or "documents not accepted")
        for doc, reason in outcome.rejected:
            self._reject(doc, reason, errors)
        return len(outcome.retry) + len(outcome.rejected)

    def _spool(self, docs: list[dict[str, Any]], reason: str) -> None:
        if not docs:
            return
        with self.spool.locked():
            self.spool.append(docs)
        logger.warning(
            "elasticsearch at %s unavailable (%s): spooled %d posts to %s",
            self.display_url,
            reason,
            len(docs),
            self.spool.path,
        )

    def _reject(self, doc: dict[str, Any], reason: str, errors: list[str]) -> None:
        self.spool.reject({"reason": reason, "doc": doc})
        logger.error(
            "elasticsearch rejected post %s (%s); kept in %s", doc.get("id"), reason, self.spool.rejected
        )
        errors.append(f"{doc.get('id')}: {reason}")

    # -- reading ---------------------------------------------------------------------------------

    def get(self, post_id: str) -> dict[str, Any] | None:
        with self._reading("get"):
            try:
                response = self._client.get(index=self.index, id=post_id)
            except NotFoundError:
                return None
        return response["_source"]

    def search(self, terms: Sequence[str], *, limit: int = 20) -> list[SearchHit]:
        """Posts holding every term, by score, then newest first; an empty list of terms matches nothing."""
        query = " ".join(term for term in terms if term.strip())
        if not query:
            return []
        with self._reading("search"):
            try:
                response = self._client.search(
                    index=self.index,
                    query={"match": {"analysis.tokens": {"query": query, "operator": "and"}}},
                    sort=[{"_score": "desc"}, {"published_at": "desc"}, {"id": "asc"}],
                    size=limit,
                    track_scores=True,
                    track_total_hits=False,
                )
            except NotFoundError:
                return []
        return [
            SearchHit(id=hit["_id"], score=hit["_score"], doc=hit["_source"])
            for hit in response["hits"]["hits"]
        ]

    def count(self) -> int:
        with self._reading("count"):
            try:
                return self._client.count(index=self.index)["count"]
            except NotFoundError:
                return 0

    def refresh(self) -> None:
        with self._reading("refresh"), suppress(NotFoundError):
            self._client.indices.refresh(index=self.index)

    def close(self) -> None:
        self._client.close()

    @contextmanager
    def _reading(self, what: str) -> Iterator[None]:
        try:
            yield
        except TransportError as exc:
            raise StoreUnavailable(f"elasticsearch at {self.display_url}: {what} failed: {exc}") from exc
        except ApiError as exc:
            if exc.status_code in _RETRYABLE:
                raise StoreUnavailable(f"elasticsearch at {self.display_url}: {what} failed: {exc}") from exc
            raise StoreError(f"elasticsearch at {self.display_url}: {what} failed: {exc}") from exc

    def __repr__(self) -> str:
        return f"ElasticsearchStore({self.display_url!r}, index={self.index!r})"


@dataclass(slots=True)
class _Outcome:
    written: int = 0
    retry: list[dict[str, Any]] = field(default_factory=list)
    rejected: list[tuple[dict[str, Any], str]] = field(default_factory=list)
    failure: str | None = None


def _describe(exc: BaseException) -> str:
    if not isinstance(exc, ApiError):
        return f"{type(exc).__name__}: {exc}"
    text = f"HTTP {exc.status_code} {exc.error}"
    error = exc.info.get("error") if isinstance(exc.info, dict) else None
    if isinstance(error, dict):
        text += f": {error.get('reason')}"
        cause = error.get("caused_by")
        if isinstance(cause, dict):
            text += f" (caused by {cause.get('type')}: {cause.get('reason')})"
    return text


def _item_reason(info: dict[str, Any]) -> str:
    error = info.get("error")
    if isinstance(error, dict):
        return f"HTTP {info.get('status')} {error.get('type')}: {error.get('reason')}"
    return f"HTTP {info.get('status')} {error}"


class Spool:
    """Append-only JSON-lines file of post documents waiting for the node, one document per line.

    Every change is fsync'd before it counts. An flock on a sibling file keeps the crawl processes
    and the CLI from appending while another one replays. Lines that can never be indexed (corrupt
    lines, documents the node rejects) move to a `.rejected.jsonl` file for a person to look at.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        stem = path.name.removesuffix(".spool.jsonl")
        self.rejected = path.with_name(f"{stem}.rejected.jsonl")
        self._lock_path = path.with_name(f"{stem}.spool.lock")

    def pending(self) -> bool:
        return self.path.exists()

    @contextmanager
    def locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self._lock_path, "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def append(self, docs: Iterable[dict[str, Any]]) -> None:
        _append_lines(self.path, (json.dumps(doc, ensure_ascii=False) for doc in docs))

    def reject(self, record: dict[str, Any]) -> None:
        _append_lines(self.rejected, [json.dumps(record, ensure_ascii=False)])

    def read(self) -> tuple[list[dict[str, Any]], list[tuple[int, str, str]]]:
        """The spooled documents in order, and the (line number, line, reason) of lines that are not."""
        docs: list[dict[str, Any]] = []
        corrupt: list[tuple[int, str, str]] = []
        if not self.path.exists():
            return docs, corrupt
        with open(self.path, "rb") as f:
            for lineno, raw in enumerate(f, start=1):
                text = raw.rstrip(b"\n").decode("utf-8", errors="backslashreplace")
                if not text.strip():
                    continue
                try:
                    doc = json.loads(raw)
                except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                    corrupt.append((lineno, text, f"not JSON: {exc}"))
                    continue
                if not isinstance(doc, dict) or not isinstance(doc.get("id"), str) or not doc["id"]:
                    corrupt.append((lineno, text, "not a post document (no string id)"))
                    continue
                docs.append(doc)
        return docs, corrupt

    def rewrite(self, docs: list[dict[str, Any]]) -> None:
        tmp = self.path.with_name(self.path.name + ".tmp")
        with open(tmp, "w", encoding="utf-8") as f:
            f.writelines(json.dumps(doc, ensure_ascii=False) + "\n" for doc in docs)
            f.flush()
            os.fsync(f.fileno())
        tmp.replace(self.path)
        _fsync_dir(self.path.parent)

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)
        _fsync_dir(self.path.parent)


def _append_lines(path: Path, lines: Iterable[str]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    created = not path.exists()
    with open(path, "a+b") as f:
        # A crash in the middle of an earlier append leaves a torn last line; start on a fresh one so
        # only that line is lost to the corrupt-line report, not the first of these.
        if f.seek(0, os.SEEK_END) > 0:
            f.seek(-1, os.SEEK_END)
            if f.read(1) != b"\n":
                f.write(b"\n")
        f.writelines((line + "\n").encode("utf-8") for line in lines)
        f.flush()
        os.fsync(f.fileno())
    if created:
        _fsync_dir(path.parent)


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
