"""The production store: an Elasticsearch index whose mapping lives in `mappings/posts.json`.

Posts are serialised once (orjson, straight from the dataclasses) and sent as ready-made bulk bodies.
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
from collections.abc import Collection, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import orjson
from elastic_transport import TransportError
from elasticsearch import ApiError, BadRequestError, Elasticsearch, NotFoundError

from classifiers import search_query
from classifiers.search_query import SearchQuery
from pipeline.errors import StoreError, StoreUnavailable
from pipeline.items import Post, to_json
from pipeline.store.base import RuleHits, SearchHit, WriteResult

logger = logging.getLogger(__name__)

MAPPING_FILE = Path(__file__).with_name("mappings") / "posts.json"

# Item statuses worth retrying later; any other failed item is a document the node will never take.
_RETRYABLE = frozenset({429, 500, 502, 503, 504})
# The order of every search: best score, then newest, then by id (also what `search_after` pages by).
_RANKED: list[dict[str, Any]] = [{"_score": "desc"}, {"published_at": "desc"}, {"id": "asc"}]
_NEWEST: list[dict[str, Any]] = [{"published_at": "desc"}, {"id": "asc"}]
# Matches read at a time when each must be checked with a rule.
_PAGE = 200
_SCAN_PAGE = 2000  # posts a page when every recent post is read (`scan`)
# A bulk request stops at this many bytes even before `chunk_size` documents (the node's limit is 100 MB).
_MAX_CHUNK_BYTES = 10 * 1024 * 1024
# Only what the write path reads of a bulk answer: the node need not send back every document's metadata.
_BULK_FILTER = ["errors", "items.*.status", "items.*.error"]
# Times a document the node throttles (HTTP 429) is sent again, after 1 s and 2 s, before it is spooled.
_BULK_RETRIES = 2

# A post as it travels: its id and its JSON document, serialised once.
_Doc = tuple[str, bytes]


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
        self._action = b'{"index":{"_index":' + orjson.dumps(index) + b',"_id":'
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
                self._update_mapping(body)
        else:
            self._update_mapping(body)
        self._prepared = True

    def _update_mapping(self, body: dict[str, Any]) -> None:
        """Give an index made by an earlier version the fields added since, and make them searchable in the
        posts it already holds. A field's type or analyzer cannot change in place (the node refuses): that
        needs a new index and a reindex, and is logged as an error while writing goes on."""
        current = self._client.indices.get_mapping(index=self.index)[self.index]["mappings"]
        missing = sorted(
            set(_mapped_paths(body["mappings"]["properties"]))
            - set(_mapped_paths(current.get("properties", {})))
        )
        if not missing:
            return
        try:
            self._client.indices.put_mapping(
                index=self.index, properties=body["mappings"]["properties"], meta=body["_meta"]
            )
        except BadRequestError as exc:
            logger.error(
                "索引 %s 的映射无法就地更新（%s）：需新建索引并重建（reindex），新增字段 %s 暂不可检索",
                self.index,
                _describe(exc),
                "、".join(missing),
            )
            return
        # Posts indexed before the fields were mapped keep them only in _source until indexed again.
        try:
            task = self._client.update_by_query(
                index=self.index, conflicts="proceed", wait_for_completion=False
            )
        except ApiError as exc:  # a node without the reindex module (the small test distribution)
            logger.warning(
                "索引 %s 已新增字段 %s，但已有帖子未能重新索引（%s）：它们再次入库后才能按这些字段检索",
                self.index,
                "、".join(missing),
                _describe(exc),
            )
            return
        logger.info(
            "索引 %s 新增字段 %s；已有帖子在后台重新索引（任务 %s）",
            self.index,
            "、".join(missing),
            task.get("task"),
        )

    # -- writing ---------------------------------------------------------------------------------

    def write(self, posts: Iterable[Post]) -> WriteResult:
        docs = [(post.id, to_json(post)) for post in posts]
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
                logger.error("暂存文件 %s 不是帖子（%s），已留存于 %s", where, reason, self.spool.rejected)
                result.errors.append(f"{where}: {reason}")
            if not entries:
                self.spool.remove()
                return result
            outcome = self._index(entries)
            for doc, reason in outcome.rejected:
                self._reject(doc, reason, result.errors)
            result.written = outcome.written
            if outcome.retry:
                self.spool.rewrite(body for _id, body in outcome.retry)
                result.spooled = len(outcome.retry)
                logger.warning(
                    "Elasticsearch（%s）仍不可用（%s），%d 条帖子继续暂存于 %s",
                    self.display_url,
                    outcome.failure or "文档未被接收",
                    len(outcome.retry),
                    self.spool.path,
                )
            else:
                self.spool.remove()
            if outcome.written:
                logger.info("暂存的 %d 条帖子已补写入索引 %s", outcome.written, self.index)
        return result

    def _index(self, docs: list[_Doc]) -> _Outcome:
        unresolved = dict(docs)  # the same post twice in one batch: the last one wins
        copies = Counter(post_id for post_id, _body in docs)
        outcome = _Outcome()
        started = time.monotonic()
        try:
            self._prepare()
            for chunk in self._chunks(list(unresolved.items())):
                self._send(chunk, copies, unresolved, outcome)
        except (TransportError, ApiError) as exc:
            outcome.failure = _describe(exc)
            self._note_failure(started)
        outcome.retry.extend(unresolved.items())
        return outcome

    def _chunks(self, docs: list[_Doc]) -> Iterator[list[_Doc]]:
        chunk: list[_Doc] = []
        size = 0
        for doc in docs:
            if chunk and (len(chunk) >= self.chunk_size or size + len(doc[1]) > _MAX_CHUNK_BYTES):
                yield chunk
                chunk, size = [], 0
            chunk.append(doc)
            size += len(doc[1])
        if chunk:
            yield chunk

    def _send(
        self, chunk: list[_Doc], copies: Counter[str], unresolved: dict[str, bytes], outcome: _Outcome
    ) -> None:
        """One bulk request per chunk; documents the node throttles (429) are sent again after a pause."""
        for attempt in range(_BULK_RETRIES + 1):
            body = bytearray()
            for post_id, doc in chunk:
                body += self._action + orjson.dumps(post_id) + b"}}\n"
                body += doc
                body += b"\n"
            # The client sends bytes as given: the NDJSON is built here once, not re-serialised per action.
            response = self._client.bulk(operations=bytes(body), filter_path=_BULK_FILTER)  # type: ignore[arg-type]
            if not response.get("errors"):
                for post_id, _doc in chunk:
                    outcome.written += copies[post_id]
                    del unresolved[post_id]
                return
            throttled: list[_Doc] = []
            for (post_id, doc), item in zip(chunk, response["items"], strict=True):
                info = next(iter(item.values()))
                status = info.get("status")
                if status == 429 and attempt < _BULK_RETRIES:
                    throttled.append((post_id, doc))
                    continue
                del unresolved[post_id]
                if status is not None and 200 <= status < 300:
                    outcome.written += copies[post_id]
                elif status in _RETRYABLE:
                    outcome.retry.append((post_id, doc))
                    outcome.failure = _item_reason(info)
                else:
                    outcome.rejected.append(((post_id, doc), _item_reason(info)))
            if not throttled:
                return
            chunk = throttled
            time.sleep(min(10.0, 2.0**attempt))

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

    def _spool(self, docs: list[_Doc], reason: str) -> None:
        if not docs:
            return
        with self.spool.locked():
            self.spool.append(body for _id, body in docs)
        logger.warning(
            "Elasticsearch（%s）不可用（%s），%d 条帖子已暂存到 %s",
            self.display_url,
            reason,
            len(docs),
            self.spool.path,
        )

    def _reject(self, doc: _Doc, reason: str, errors: list[str]) -> None:
        post_id, body = doc
        self.spool.reject({"reason": reason, "doc": json.loads(body)})
        logger.error("Elasticsearch 拒收帖子 %s（%s），已留存于 %s", post_id, reason, self.spool.rejected)
        errors.append(f"{post_id}: {reason}")

    # -- reading ---------------------------------------------------------------------------------

    def get(self, post_id: str) -> dict[str, Any] | None:
        with self._reading("get"):
            try:
                response = self._client.get(index=self.index, id=post_id)
            except NotFoundError:
                return None
        return response["_source"]

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
        """Posts holding every term, by score, then newest first; an empty list of terms matches nothing.
        Filters do not change the score (they are a bool query's filter clauses). A `SearchQuery` (the
        rules' syntax) is answered by `_search_checked`."""
        if limit <= 0:
            return []
        filters = self._filters(since, until, sources, levels)
        if isinstance(terms, SearchQuery):
            return self._search_checked(terms, limit, filters)
        query = " ".join(term for term in terms if term.strip())
        if not query:
            return []
        match: dict[str, Any] = {"match": {"analysis.tokens": {"query": query, "operator": "and"}}}
        with self._reading("search"):
            try:
                response = self._client.search(
                    index=self.index,
                    query={"bool": {"must": [match], "filter": filters}} if filters else match,
                    sort=_RANKED,
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

    def _search_checked(
        self, query: SearchQuery, limit: int, filters: list[dict[str, Any]]
    ) -> list[SearchHit]:
        """The posts the query's rule matches, in the order of `search`: the index's matches of what a post
        must hold, read best first a page at a time (each page after the last one's sort values), each
        checked with the rule (exclusions, scopes, NEAR) until `limit` are found or the matches run out."""
        narrowed = search_query.elasticsearch(query.index, "analysis.tokens")
        filters = [*filters]
        if query.counties:
            filters.append({"terms": {"analysis.territory.counties": sorted(query.counties)}})
        if query.polarities:
            filters.append({"terms": {"analysis.polarity": sorted(query.polarities)}})
        if query.events:
            filters.append({"terms": {"analysis.event_id": sorted(query.events)}})
        body = {"bool": {"must": [narrowed], "filter": filters}} if filters else narrowed
        order = _NEWEST if query.newest_first else _RANKED
        found: list[SearchHit] = []
        after: list[Any] | None = None
        while len(found) < limit:
            with self._reading("search"):
                try:
                    response = self._client.search(
                        index=self.index,
                        query=body,
                        sort=order,
                        size=_PAGE,
                        track_scores=True,
                        track_total_hits=False,
                        search_after=after,
                    )
                except NotFoundError:
                    return []
            hits = response["hits"]["hits"]
            for hit in hits:
                if query.matches(hit["_source"]):
                    score = 0.0 if query.newest_first else hit["_score"]
                    found.append(SearchHit(id=hit["_id"], score=score, doc=hit["_source"]))
                    if len(found) == limit:
                        break
            if len(hits) < _PAGE:
                break
            after = hits[-1]["sort"]
        return found

    @staticmethod
    def _filters(
        since: datetime | None, until: datetime | None, sources: Collection[str], levels: Collection[str]
    ) -> list[dict[str, Any]]:
        filters: list[dict[str, Any]] = []
        if since is not None or until is not None:
            span = {"gte": since.isoformat()} if since is not None else {}
            if until is not None:
                span["lt"] = until.isoformat()
            filters.append({"range": {"published_at": span}})
        if sources:
            filters.append({"terms": {"source": [str(value) for value in sources]}})
        if levels:
            filters.append({"terms": {"analysis.severity.level": [str(value) for value in levels]}})
        return filters

    def scan(self, since: datetime) -> Iterator[dict[str, Any]]:
        fields = ["id", "title", "text", "author", "source", "media"]
        after: list[Any] | None = None
        while True:
            with self._reading("scan"):
                try:
                    response = self._client.search(
                        index=self.index,
                        query={"range": {"published_at": {"gte": since.isoformat()}}},
                        sort=[{"published_at": "asc"}, {"id": "asc"}],
                        source_includes=fields,
                        size=_SCAN_PAGE,
                        search_after=after,
                        track_total_hits=False,
                    )
                except NotFoundError:
                    return
            hits = response["hits"]["hits"]
            for hit in hits:
                yield {field: hit["_source"].get(field) for field in fields} | {"id": hit["_id"]}
            if len(hits) < _SCAN_PAGE:
                return
            after = hits[-1]["sort"]

    def rule_hits(self, since: datetime) -> dict[str, RuleHits]:
        with self._reading("rule_hits"):
            try:
                response = self._client.search(
                    index=self.index,
                    query={"range": {"published_at": {"gte": since.isoformat()}}},
                    size=0,
                    aggs={
                        "rules": {
                            "terms": {"field": "analysis.rules.id", "size": 10_000},
                            "aggs": {"last": {"max": {"field": "published_at"}}},
                        }
                    },
                )
            except NotFoundError:
                return {}
        return {
            bucket["key"]: RuleHits(
                bucket["doc_count"], datetime.fromtimestamp(bucket["last"]["value"] / 1000, UTC)
            )
            for bucket in response["aggregations"]["rules"]["buckets"]
        }

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
    retry: list[_Doc] = field(default_factory=list)
    rejected: list[tuple[_Doc, str]] = field(default_factory=list)
    failure: str | None = None


def _mapped_paths(properties: dict[str, Any], prefix: str = "") -> Iterator[str]:
    for name, spec in properties.items():
        yield prefix + name
        if "properties" in spec:
            yield from _mapped_paths(spec["properties"], f"{prefix}{name}.")


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

    def append(self, docs: Iterable[bytes]) -> None:
        """Add documents already serialised as one-line JSON."""
        _append_lines(self.path, docs)

    def reject(self, record: dict[str, Any]) -> None:
        _append_lines(self.rejected, [json.dumps(record, ensure_ascii=False).encode("utf-8")])

    def read(self) -> tuple[list[_Doc], list[tuple[int, str, str]]]:
        """The spooled documents (id, JSON) in order, and the (line number, line, reason) of lines that are not."""
        docs: list[_Doc] = []
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
                docs.append((doc["id"], raw.strip()))
        return docs, corrupt

    def rewrite(self, docs: Iterable[bytes]) -> None:
        tmp = self.path.with_name(self.path.name + ".tmp")
        with open(tmp, "wb") as f:
            f.writelines(doc + b"\n" for doc in docs)
            f.flush()
            os.fsync(f.fileno())
        tmp.replace(self.path)
        _fsync_dir(self.path.parent)

    def remove(self) -> None:
        self.path.unlink(missing_ok=True)
        _fsync_dir(self.path.parent)


def _append_lines(path: Path, lines: Iterable[bytes]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    created = not path.exists()
    with open(path, "a+b") as f:
        # A crash in the middle of an earlier append leaves a torn last line; start on a fresh one so
        # only that line is lost to the corrupt-line report, not the first of these.
        if f.seek(0, os.SEEK_END) > 0:
            f.seek(-1, os.SEEK_END)
            if f.read(1) != b"\n":
                f.write(b"\n")
        f.writelines(line + b"\n" for line in lines)
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
