"""The alerts database's one owner: it opens it, runs the versioned migrations at open, gives out
transactions, and holds the locks that keep senders and `serve` instances from doing a job twice. The
repositories in alerts/repositories/ hold the queries; nothing else writes SQL against it.

By default the database is the SQLite file at `outbox_path` (checked first, WAL, busy timeout); with
`YUQING_DB_URL` it is a PostgreSQL database that several machines share.
"""

from __future__ import annotations

import fcntl
import logging
import secrets
import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVarTuple, overload

from sqlalchemy import Connection, CursorResult, Executable, create_engine, event, func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool
from sqlalchemy.schema import CreateTable
from sqlalchemy.sql.selectable import TypedReturnsRows

from alerts import schema
from config import databases
from config.env import get_env
from config.errors import YuqingError

if TYPE_CHECKING:
    from alembic.config import Config

logger = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).with_name("migrations")
# The column types of a SELECT's rows.
_Columns = TypeVarTuple("_Columns")


class OutboxBusy(YuqingError):
    """Another process is sending from the alerts database; the message says to try again later."""


@cache
def _alembic() -> tuple[Config, str]:
    # Alembic is imported where a database is opened: commands that open none (analyze) start without it.
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config, ScriptDirectory.from_config(config).get_current_head() or ""


@cache
def _stand_ins() -> str:
    """CREATE TABLE IF NOT EXISTS for every table: what a read-only open of a file that lacks some of them
    (never created, or made before they existed) reads instead, empty."""
    from sqlalchemy.dialects import sqlite

    return ";\n".join(
        str(CreateTable(table, if_not_exists=True).compile(dialect=sqlite.dialect())).strip()
        for table in schema.metadata.sorted_tables
    )


@contextmanager
def native_errors() -> Iterator[None]:
    """SQLite's own exceptions, as the callers that tell a full disk, a damaged file or a read-only folder
    apart (config.databases, pipeline.storage) know them."""
    try:
        yield
    except DBAPIError as exc:
        if isinstance(exc.orig, sqlite3.Error):
            raise exc.orig from None
        raise


def _read_before_kinds(conn: sqlite3.Connection) -> None:
    """A file not yet at revision 0003, opened read-only (so not migrated): its alerts are read through a
    view that takes each one's kind from its stored text. The re-alert number reads as 0; only noise
    control counts it, and that writes, so it runs on a migrated file."""
    columns = {row[1] for row in conn.execute("PRAGMA main.table_info(alerts)")}
    if columns and "kind" not in columns:
        # A temporary object is found before the file's own of the same name.
        conn.execute(
            "CREATE TEMP VIEW alerts AS SELECT rowid AS rowid, *, "
            "CASE WHEN key LIKE '工作流:%' THEN 'workflow' "
            "ELSE coalesce(json_extract(body, '$.kind'), 'post') END AS kind, 0 AS realert FROM main.alerts"
        )


# Advisory lock keys on PostgreSQL: one writer at a time (per transaction, as SQLite's write lock), and per
# session the one planning sender and the one leader.
WRITE_LOCK = 0x79710001
SEND_LOCK = 0x79710002
LEAD_LOCK = 0x79710003  # the `serve` that runs the scheduled jobs
# With a sender's own number as the second key: held while it sends, so its claims count (pg_locks).
SENDER_CLASS = 0x79710004


def configured_url() -> str | None:
    url = get_env().db_url
    return url.get_secret_value() if url else None


class AlertsDatabase:
    """One open connection to the alerts database: the SQLite file at `path`, or the PostgreSQL database
    `url` names (by default YUQING_DB_URL). `read_only` opens it for reading alone and creates nothing (no
    folder, no file, no migration)."""

    def __init__(self, path: Path, *, read_only: bool = False, url: str | None = None) -> None:
        self.path = Path(path)
        self.read_only = read_only
        self.url = url if url is not None else configured_url()
        self._immediate = False
        if self.url:
            options = {"postgresql_readonly": True} if read_only else {}
            self.engine = create_engine(self.url, poolclass=NullPool, execution_options=options)
        else:
            self.engine = create_engine("sqlite://", creator=self._connect, poolclass=NullPool)
        event.listen(self.engine, "begin", self._begin)
        with native_errors():
            self.connection = self.engine.connect()
        try:
            if not read_only:
                self._migrate()
        except BaseException:
            self.close()
            raise

    def _connect(self) -> sqlite3.Connection:
        conn = databases.connect(
            self.path, read_only=self.read_only, schema=_stand_ins() if self.read_only else ""
        )
        if self.read_only:
            _read_before_kinds(conn)
        else:
            conn.execute("PRAGMA synchronous=FULL")  # an acknowledged send must survive a power cut
        return conn

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def _begin(self, conn: Connection) -> None:
        # A writing transaction holds the write lock from its start, so two writers never both read and
        # then both write. SQLite's driver is left in autocommit (a lone statement commits by itself) and
        # the transaction begun here.
        if not self._immediate:
            return
        if self.dialect == "sqlite":
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.execute(select(func.pg_advisory_xact_lock(WRITE_LOCK)))

    def close(self) -> None:
        self.connection.close()
        self.engine.dispose()

    # -- transactions ----------------------------------------------------------------------------------

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """One write transaction (the file's write lock taken at its start); inside one already, that one."""
        if self.connection.in_transaction():
            yield self.connection
            return
        with native_errors():
            self._immediate = True
            try:
                outer = self.connection.begin()
            finally:
                self._immediate = False
            with outer:
                yield self.connection

    @overload
    def execute(
        self, statement: TypedReturnsRows[*_Columns], parameters: Any = None
    ) -> CursorResult[*_Columns]: ...

    @overload
    def execute(self, statement: Executable, parameters: Any = None) -> CursorResult[*tuple[Any, ...]]: ...

    def execute(self, statement: Executable, parameters: Any = None) -> CursorResult[*tuple[Any, ...]]:
        """One statement: inside the open transaction, else committed on its own. A typed SELECT gives
        rows of its columns' types, as SQLAlchemy's own `execute` does."""
        with native_errors():
            if self.connection.in_transaction():
                return self.connection.execute(statement, parameters)
            with self.connection.begin():
                return self.connection.execute(statement, parameters)

    # -- migrations ------------------------------------------------------------------------------------

    def revision(self) -> str | None:
        """The migration the file stands at; None for a file made before revisions were recorded."""
        from alembic.runtime.migration import MigrationContext

        if self.connection.in_transaction():
            return MigrationContext.configure(self.connection).get_current_revision()
        with native_errors(), self.connection.begin():
            return MigrationContext.configure(self.connection).get_current_revision()

    def _migrate(self) -> None:
        from alembic import command
        from alembic.runtime.migration import MigrationContext

        config, head = _alembic()
        if self.revision() == head:
            return
        # Several processes may open an old file at once; one migrates under the write lock, the others
        # then find it done.
        with self.transaction() as conn:
            if MigrationContext.configure(conn).get_current_revision() == head:
                return
            logger.info("%s：预警数据库升级到版本 %s", self.path, head)
            config.attributes["connection"] = conn
            try:
                command.upgrade(config, "head")
            finally:
                config.attributes.pop("connection", None)

    # -- the one sender --------------------------------------------------------------------------------

    @contextmanager
    def exclusive(self, timeout: float = 60.0) -> Iterator[None]:
        """Held by the one process that sends. A row still `sending` while it is held was left by a
        process that died mid-send (the lock dies with its holder), so it is resent."""
        if self.dialect != "sqlite":
            with self._exclusive_session(timeout):
                yield
            return
        lock = self.path.with_name(self.path.name + ".send.lock").open("a")
        deadline = time.monotonic() + timeout
        try:
            while True:
                try:
                    fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise OutboxBusy(f"另一进程正在发送 {self.path} 中的预警，请稍后再试") from None
                    time.sleep(0.2)
            yield
        finally:
            lock.close()  # closing releases the lock

    @contextmanager
    def sender_session(self) -> Iterator[int]:
        """A sending process's number, held as a session lock while it sends: the deliveries it claims
        are its own while the lock shows it alive, and anyone's once its session is gone."""
        number = secrets.randbelow(2**31 - 2) + 1
        with self.engine.connect() as conn:
            conn.execute(select(func.pg_advisory_lock(SENDER_CLASS, number)))
            conn.commit()
            yield number

    @contextmanager
    def _exclusive_session(self, timeout: float) -> Iterator[None]:
        # A session lock on a connection of its own: released when it closes, or when the process dies
        # and the server drops the session.
        deadline = time.monotonic() + timeout
        with self.engine.connect() as conn:
            while not conn.execute(select(func.pg_try_advisory_lock(SEND_LOCK))).scalar():
                conn.commit()
                if time.monotonic() >= deadline:
                    where = self.engine.url.render_as_string(hide_password=True)
                    raise OutboxBusy(f"另一进程正在发送预警数据库 {where} 中的预警，请稍后再试")
                time.sleep(0.2)
            conn.commit()
            yield


def exists(path: Path) -> bool:
    """Whether the alerts database has been made: a server's always counts, the file once it is there."""
    return bool(configured_url()) or Path(path).exists()


def writable(path: Path) -> bool:
    """Whether this process may write the alerts database (a server's: as far as the file system goes)."""
    return bool(configured_url()) or databases.writable(path)


class LeaderLock:
    """Leadership among the machines that share a PostgreSQL alerts database: a session advisory lock
    that the server drops when its holder's session ends, at once when the process dies and, through the
    keepalives asked for here, within about half a minute when its machine or network does."""

    def __init__(self, url: str, description: str, key: int = LEAD_LOCK) -> None:
        # The client's keepalives too, so a leader cut off from the server finds out as soon as it does.
        client = {"keepalives": 1, "keepalives_idle": 10, "keepalives_interval": 5, "keepalives_count": 3}
        # Keepalives say nothing while a query waits unanswered: a cut link would then block the leader's
        # check for the kernel's full retry time (some 15 minutes), with the standby already leading.
        client["tcp_user_timeout"] = 20_000
        self.engine = create_engine(
            url, poolclass=NullPool, connect_args={"application_name": description[:63], **client}
        )
        self.key = key
        self._conn: Connection | None = None

    def _session(self) -> Connection:
        conn = self.engine.connect()
        for setting in (
            "tcp_keepalives_idle = 10",
            "tcp_keepalives_interval = 5",
            "tcp_keepalives_count = 3",
        ):
            conn.exec_driver_sql(f"SET {setting}")
        conn.commit()
        return conn

    def acquire(self, *, wait: bool) -> bool:
        """Take the lead; False when another holds it and `wait` is not set (else wait until it is free)."""
        conn = self._session()
        try:
            if wait:
                conn.execute(select(func.pg_advisory_lock(self.key)))
                got = True
            else:
                got = bool(conn.execute(select(func.pg_try_advisory_lock(self.key))).scalar())
            conn.commit()
        except BaseException:
            conn.close()
            raise
        if not got:
            conn.close()
            return False
        self._conn = conn
        return True

    def holder(self) -> str:
        """Who leads, as the holder named itself when it connected."""
        with self.engine.connect() as conn:
            name = conn.exec_driver_sql(
                "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
                "WHERE l.locktype = 'advisory' AND l.objsubid = 1 AND l.objid = %(key)s AND l.granted",
                {"key": self.key},
            ).scalar()
        return name or "未知进程"

    def held(self) -> bool:
        """Whether this process still leads (its session is alive)."""
        if self._conn is None:
            return False
        try:
            self._conn.exec_driver_sql("SELECT 1")
            self._conn.commit()
        except DBAPIError:
            return False
        return True

    def release(self) -> None:
        if self._conn is not None:
            self._conn.close()  # ending the session releases the lock
            self._conn = None
        self.engine.dispose()
