"""Session fixtures for the real services the tests talk to (see tests/services.py).

A service that cannot start fails the tests that need it, with the reason; it never skips them.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from elasticsearch import Elasticsearch

from tests.services import EsNode, RedisServer, ServiceError


@pytest.fixture(scope="session")
def es_node() -> Iterator[EsNode]:
    """The session's Elasticsearch node. A test may `stop()` and `start()` it; it must leave it running."""
    node = None
    try:
        node = EsNode()
        node.start()
    except ServiceError as exc:
        if node is not None:
            node.close()
        pytest.fail(f"Elasticsearch could not be started: {exc}", pytrace=False)
    try:
        yield node
    finally:
        node.close()


@pytest.fixture(scope="session")
def es_url(es_node: EsNode) -> str:
    return es_node.url


@pytest.fixture
def es_client(es_node: EsNode) -> Iterator[Elasticsearch]:
    client = Elasticsearch(es_node.url)
    yield client
    client.close()


@pytest.fixture(scope="session")
def redis_url() -> Iterator[str]:
    server = None
    try:
        server = RedisServer()
        server.start()
    except ServiceError as exc:
        if server is not None:
            server.close()
        pytest.fail(f"Redis could not be started: {exc}", pytrace=False)
    try:
        yield server.url
    finally:
        server.close()
