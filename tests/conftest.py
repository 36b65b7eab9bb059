"""Session fixtures for the real services the tests talk to (see tests/services.py).

A service that cannot start fails the tests that need it, with the reason; it never skips them.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch

from tests.helpers import office_env
from tests.services import EsNode, PostgresServer, RedisServer, ServiceError

REPOSITORY = Path(__file__).resolve().parent.parent


class OutsideRepository(RuntimeError):
    """A test opened a file beside the repository: it would pass here and fail on a clean clone."""


def _refuse_files_beside_the_repository(event: str, args: tuple[object, ...]) -> None:
    # Tests must pass on a clone with nothing next to it, so the folders that sit beside a working copy
    # (another project's data, shared notes) are off limits to this process. System paths, the virtualenv
    # and temporary folders are elsewhere and stay open.
    if event != "open" or not isinstance(args[0], str | bytes):
        return
    # Not Path.resolve(): no symlink lookups inside a hook that runs on every open.
    path = os.path.abspath(os.fsdecode(args[0]))  # noqa: PTH100
    parent, root = str(REPOSITORY.parent), str(REPOSITORY)
    if path.startswith(parent + os.sep) and not (path == root or path.startswith(root + os.sep)):
        raise OutsideRepository(f"a test opened {path}, outside the repository {root}")


sys.addaudithook(_refuse_files_beside_the_repository)

# No developer's `.env` (an office's Elasticsearch, its webhooks) reaches the tests or the commands they
# start: they read an empty one. A test of `.env` itself names its own file.
_NO_DOTENV = Path(os.environ.get("TMPDIR", "/tmp")) / f"yuqing-tests-{os.getpid()}.env"
_NO_DOTENV.write_text("", encoding="utf-8")
os.environ["YUQING_ENV_FILE"] = str(_NO_DOTENV)


@pytest.fixture
def data_env(tmp_path: Path) -> dict[str, str]:
    """An environment for `tests.helpers.yuqing` on a fresh data folder (`tmp_path / "var"`), with none of
    the caller's `YUQING_*` or `ES_*` settings."""
    return office_env(tmp_path / "var")


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


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """The session's PostgreSQL server; `postgres.database(name)` gives a test a database of its own."""
    server = None
    try:
        server = PostgresServer()
        server.start()
    except ServiceError as exc:
        if server is not None:
            server.close()
        pytest.fail(f"PostgreSQL could not be started: {exc}", pytrace=False)
    try:
        yield server
    finally:
        server.close()
