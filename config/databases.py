"""Opening the project's SQLite files: every opener goes through `connect`, which checks the file first, so a
damaged database is refused with one clear line and never replaced; reads open it read-only and create
nothing; `backup_file` copies a live database with SQLite's online backup.

A database once created leaves a marker beside it (`alerts.sqlite3.created`), so a file that later turns
up empty or missing is told apart from one that was never made.
"""

from __future__ import annotations

import errno
import logging
import os
import re
import sqlite3
import time
from pathlib import Path
from urllib.parse import quote

from config.errors import YuqingError

logger = logging.getLogger(__name__)

_MAGIC = b"SQLite format 3\x00"
# Up to this size every open runs `PRAGMA quick_check` (a few ms for the outbox); a larger file, such as a
# post store grown over years, is checked in full by `yuqing doctor` and `check`, and on each open only
# for its header, length and schema, so a search does not read gigabytes first.
QUICK_CHECK_MAX_BYTES = 64 * 1024 * 1024
MARKER_SUFFIX = ".created"
# Why a file was refused, for `DatabaseDamaged.reason`; the message adds what to do.
_CORRUPT = ("SQLITE_CORRUPT", "SQLITE_NOTADB")


class DatabaseError(YuqingError):
    """A database that cannot be used as asked; the message names the file and what to do."""

    def __init__(self, path: Path, message: str) -> None:
        super().__init__(message)
        self.path = path


class DatabaseDamaged(DatabaseError):
    def __init__(self, path: Path, reason: str) -> None:
        super().__init__(path, damaged_message(path, reason))
        self.reason = reason


class DatabaseReadOnly(DatabaseError):
    def __init__(self, path: Path) -> None:
        super().__init__(
            path,
            f"数据库 {path} 或其所在目录只读，这个命令需要写入，未做任何改动；"
            "只读时仍可用 doctor、cases、log、report、search、silence list 查看",
        )


class StorageFull(DatabaseError):
    def __init__(self, path: Path, detail: str = "") -> None:
        where = f"（{detail}）" if detail else ""
        super().__init__(
            path, f"磁盘已满：无法写入 {path}{where}；已写入的内容完好，这一步未完成，请腾出空间后重试"
        )


def marker_path(path: Path) -> Path:
    return path.with_name(path.name + MARKER_SUFFIX)


def damaged_message(path: Path, reason: str) -> str:
    return (
        f"数据库 {path} 已损坏：{reason}。yuqing 不会改动或重建它，请从备份恢复：停止 yuqing serve，"
        f"把它和同名的 -wal、-shm 文件移走留待排查，再把最近的备份（yuqing backup 所建，yuqing doctor "
        f"会指出）复制为 {path}；没有备份而决定从空库重新开始，就把它连同 {marker_path(path).name} 一起移走"
    )


def is_disk_full(exc: BaseException) -> bool:
    """True for the ways a full disk (or quota) shows itself: SQLite's SQLITE_FULL and ENOSPC/EDQUOT."""
    if isinstance(exc, StorageFull):
        return True
    if isinstance(exc, sqlite3.Error):
        return getattr(exc, "sqlite_errorname", "") == "SQLITE_FULL" or "database or disk is full" in str(exc)
    return isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT)


def is_corrupt(exc: BaseException) -> bool:
    name = getattr(exc, "sqlite_errorname", "")
    return isinstance(exc, sqlite3.DatabaseError) and (
        name.startswith(_CORRUPT) or "malformed" in str(exc) or "not a database" in str(exc)
    )


def writable(path: Path) -> bool:
    """Whether this process may write the database and the files SQLite keeps beside it."""
    folder = path.parent
    while not folder.exists():  # a folder still to be made: the first existing one decides
        if folder.parent == folder:
            return False
        folder = folder.parent
    if not os.access(folder, os.W_OK | os.X_OK):
        return False
    return not path.exists() or os.access(path, os.W_OK)


# The database files this process has opened through SQLite. Closing any descriptor of a file drops every
# POSIX lock this process holds on it, SQLite's own included (sqlite.org/howtocorrupt.html, 2.2): another
# process then takes itself for the file's last user, checkpoints and deletes the write-ahead log under
# this process's open connections, and the file is damaged. So a file's header is read directly only
# before the first connection to it; after that SQLite's own checks speak for it.
_OPENED: set[str] = set()


def _opened(path: Path) -> None:
    _OPENED.add(str(path.absolute()))


def damage(path: Path) -> str | None:
    """Why the file at `path` is not a usable database, or None when it is (or was never created)."""
    marked = marker_path(path).exists()
    if not path.exists():
        return f"文件不见了，而 {marker_path(path).name} 表明它曾存有数据" if marked else None
    size = path.stat().st_size
    if size == 0:
        return "文件是空的（0 字节），而它曾存有数据" if marked else None
    if str(path.absolute()) in _OPENED:
        return None  # not opened again beside this process's connections (see _OPENED)
    with path.open("rb") as handle:
        header = handle.read(100)
    if not header.startswith(_MAGIC):
        return "不是 SQLite 数据库（文件开头不对）"
    if len(header) < 100:
        return f"文件被截断：只有 {size} 字节，连文件头都不完整"
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    pages = int.from_bytes(header[28:32], "big")
    header_valid = header[24:28] == header[92:96]  # the page count is only kept current when these match
    wal = path.with_name(path.name + "-wal")
    # With a write-ahead log present the file may legitimately lag its header until the log is replayed.
    if header_valid and pages and size < pages * page_size and not (wal.exists() and wal.stat().st_size):
        return f"文件被截断：文件头记载 {pages * page_size} 字节，实际只有 {size} 字节"
    return None


def _uri(path: Path, **params: str) -> str:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return f"file:{quote(path.resolve().as_posix())}?{query}"


def _quick_check(conn: sqlite3.Connection) -> str | None:
    rows = conn.execute("PRAGMA quick_check(3)").fetchall()
    problems = [row[0] for row in rows if row[0] != "ok"]
    return "；".join(problems) if problems else None


def connect(
    path: Path,
    *,
    read_only: bool = False,
    schema: str = "",
    timeout: float = 30.0,
    check_same_thread: bool = True,
    thorough: bool = False,
) -> sqlite3.Connection:
    """A connection to the database at `path`, checked first (raises `DatabaseDamaged`).

    Writing: the folder is made, the file opened in WAL mode, `schema` run, and the marker left.
    Reading (`read_only`): nothing is created. A database not made yet is an empty one in memory holding
    `schema`; tables of `schema` the file lacks are read as empty temporary ones; a read-only folder
    (where SQLite cannot make its WAL index) is read with `immutable=1`.
    `thorough` runs `quick_check` whatever the size (see QUICK_CHECK_MAX_BYTES).
    """
    path = Path(path)
    reason = damage(path)
    if reason:
        raise DatabaseDamaged(path, reason)
    full = thorough or not path.exists() or path.stat().st_size <= QUICK_CHECK_MAX_BYTES
    if read_only:
        return _connect_read_only(path, schema, timeout, check_same_thread, full)
    if not writable(path):
        raise DatabaseReadOnly(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=timeout, isolation_level=None, check_same_thread=check_same_thread)
    _opened(path)
    try:
        _verify(conn, path, full)
        _use_wal(conn, timeout)  # on a new file this writes its header: it is no longer empty
        if schema:
            conn.executescript(schema)
    except BaseException:
        conn.close()
        raise
    _mark(path)
    return conn


def _use_wal(conn: sqlite3.Connection, timeout: float) -> None:
    """Switch to WAL, waiting (up to `timeout`) while another process does the same. SQLite answers a second
    switch on a file being made by another process with "database is locked" at once, without waiting, so
    two crawls ending together would otherwise lose the alert one of them was storing."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            conn.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if (
                not getattr(exc, "sqlite_errorname", "").startswith("SQLITE_BUSY")
                or time.monotonic() > deadline
            ):
                raise
            time.sleep(0.01)


def _connect_read_only(
    path: Path, schema: str, timeout: float, check_same_thread: bool, full: bool
) -> sqlite3.Connection:
    if not path.exists() or path.stat().st_size == 0:
        conn = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=check_same_thread)
        conn.executescript(schema)
        return conn

    def open_as(**params: str) -> sqlite3.Connection:
        conn = sqlite3.connect(
            _uri(path, **params),
            uri=True,
            timeout=timeout,
            isolation_level=None,
            check_same_thread=check_same_thread,
        )
        _opened(path)
        try:
            _verify(conn, path, full)
        except sqlite3.OperationalError:
            conn.close()
            raise
        return conn

    try:
        conn = open_as(mode="ro")
    except sqlite3.OperationalError as exc:
        # SQLite could not make the WAL index beside the file: a read-only folder, or a full disk. With no
        # write-ahead log waiting, the file alone holds everything and no writer can be at work (it would
        # need that index too), so it is read as it stands.
        wal = path.with_name(path.name + "-wal")
        if writable(path) and wal.exists() and wal.stat().st_size:
            raise
        logger.info("%s: read as immutable (%s)", path, exc)
        conn = open_as(mode="ro", immutable="1")
    if schema:
        _add_missing_tables(conn, schema)
    return conn


def _verify(conn: sqlite3.Connection, path: Path, full: bool) -> None:
    try:
        if full:
            problem = _quick_check(conn)
        else:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            problem = None
    except sqlite3.DatabaseError as exc:
        if not is_corrupt(exc):
            raise
        conn.close()
        raise DatabaseDamaged(path, f"SQLite 报告「{exc}」") from None
    if problem:
        conn.close()
        raise DatabaseDamaged(path, f"完整性检查（PRAGMA quick_check）未通过：{problem}")


_CREATE = re.compile(r"^\s*CREATE\s+(VIRTUAL\s+)?TABLE\s+IF\s+NOT\s+EXISTS\s+(\w+)", re.IGNORECASE)


def _add_missing_tables(conn: sqlite3.Connection, schema: str) -> None:
    """Empty temporary stand-ins for the tables of `schema` a read-only file does not have yet (e.g. the
    case tables of an outbox no workflow has opened), so a read finds nothing rather than failing."""
    present = {name for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    for statement in filter(str.strip, schema.split(";")):
        match = _CREATE.match(statement)
        if not match or match.group(2) in present:
            continue
        name = match.group(2)
        conn.execute(statement[: match.start(2)] + "temp." + statement[match.start(2) :])
        present.add(name)


def check(path: Path, *, thorough: bool = True) -> None:
    """Raise `DatabaseDamaged` when the file at `path` is damaged (`quick_check` whatever its size, unless
    not `thorough`); reads it only, creates nothing."""
    connect(path, read_only=True, thorough=thorough).close()


def is_stand_in(conn: sqlite3.Connection) -> bool:
    """True for the empty in-memory database a read gets when the file was never created."""
    return conn.execute("PRAGMA database_list").fetchone()[2] == ""


def _mark(path: Path) -> None:
    marker = marker_path(path)
    if marker.exists():
        return
    try:
        marker.write_text(
            f"{path.name} 已建立并存有数据。它若变空或不见了，yuqing 会拒绝使用并提示从备份恢复；"
            "请勿删除本文件（见 README「Backup and restore」）。\n",
            encoding="utf-8",
        )
    except OSError as exc:  # a full disk must not stop the open; the next one writes it
        logger.warning("%s: could not leave the marker %s: %s", path, marker, exc)


def backup_file(path: Path, target: Path) -> None:
    """Copy the live database at `path` to `target` with SQLite's online backup (consistent even while
    others write), then check the copy. The copy appears under its name only once it is complete."""
    source = connect(path, read_only=True)
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    copy = sqlite3.connect(partial)
    try:
        source.backup(copy)
        problem = _quick_check(copy)
    finally:
        copy.close()
        source.close()
    if problem:
        partial.unlink(missing_ok=True)
        raise DatabaseDamaged(path, f"备份副本未通过完整性检查：{problem}")
    partial.replace(target)
