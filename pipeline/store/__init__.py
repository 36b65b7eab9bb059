"""Where posts are kept: `open_store()` picks Elasticsearch when `ES_URL` is set, else embedded SQLite."""

from __future__ import annotations

from pathlib import Path

from config.env import Env, get_env
from pipeline.store.base import SearchHit, Store, WriteResult
from pipeline.store.elasticsearch import ElasticsearchStore, redact_url
from pipeline.store.sqlite import SqliteStore

__all__ = [
    "ElasticsearchStore",
    "SearchHit",
    "SqliteStore",
    "Store",
    "WriteResult",
    "describe_store",
    "open_store",
    "sqlite_path",
]


def sqlite_path(env: Env) -> Path:
    return env.store_dir / "posts.sqlite3"


def open_store(env: Env | None = None, *, read_only: bool = False) -> Store:
    """`read_only` for commands that only read: the embedded store is then opened read-only and nothing
    is created."""
    env = env or get_env()
    if env.es_url:
        return ElasticsearchStore(env.es_url, env.es_index, spool_dir=env.spool_dir)
    return SqliteStore(sqlite_path(env), read_only=read_only)


def describe_store(env: Env | None = None) -> str:
    """One line for status output and logs; credentials in the URL are never shown."""
    env = env or get_env()
    if env.es_url:
        return f"Elasticsearch {redact_url(env.es_url)}，索引 {env.es_index}"
    return f"内置 SQLite 存储 {sqlite_path(env)}"
