"""`open_store` picks the backend from the environment; `describe_store` names it without secrets."""

from __future__ import annotations

from pathlib import Path

from config.env import Env
from pipeline.store import describe_store, open_store
from pipeline.store.sqlite import SqliteStore


def test_without_es_url_the_embedded_store_opens_under_the_data_dir(tmp_path: Path) -> None:
    env = Env(YUQING_DATA_DIR=tmp_path)
    store = open_store(env)
    try:
        assert isinstance(store, SqliteStore)
        assert store.path == tmp_path / "store" / "posts.sqlite3"
        assert describe_store(env) == f"内置 SQLite 存储 {tmp_path / 'store' / 'posts.sqlite3'}"
    finally:
        store.close()


def test_the_description_of_elasticsearch_hides_credentials() -> None:
    env = Env(ES_URL="https://elastic:s3cr3t@es.example.gov.cn:9200/?api_key=abc", YUQING_ES_INDEX="posts")
    line = describe_store(env)
    assert line == "Elasticsearch https://***@es.example.gov.cn:9200/，索引 posts"
    assert "s3cr3t" not in line
    assert "abc" not in line
