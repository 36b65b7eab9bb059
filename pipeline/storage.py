"""The project's databases as an operator meets them: their lines in `yuqing doctor`, `yuqing backup`, the
one-line messages a damaged, read-only or full storage gives at the CLI's edge, and the clean stop of a
patrol when the disk fills up (what was kept, what was not)."""

from __future__ import annotations

import errno
import os
import sqlite3
import tempfile
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from alerts.calendar import SHANGHAI
from alerts.outbox import Outbox
from config import databases
from config.databases import DatabaseDamaged, DatabaseError, is_corrupt, is_disk_full
from config.env import Env, get_env
from pipeline import clock

# The finish reason of a crawl stopped by a full disk, and its counter.
DISK_FULL = "disk_full"
DISK_FULL_STAT = "yuqing/storage/disk_full"
# The exit code of a crawl process that stopped on a full disk (EX_TEMPFAIL: try again once there is room).
EXIT_DISK_FULL = 75
OTHER = "其他"  # a SQLite file in the data folder that is not one of the program's own (the demo's outbox)
READ_ONLY_HINT = "数据目录只读时仍可用 doctor、cases、log、report、search、silence list 查看"
# A patrol goes on only while this much can still be written beside its databases.
ROOM_NEEDED = 64 * 1024


def backups_dir(env: Env) -> Path:
    return env.data_dir / "backups"


def database_files(env: Env) -> list[tuple[str, Path]]:
    """(what it holds, path) of each database: the three the program keeps, then any other SQLite file
    in the data folder (e.g. the demo's outbox)."""
    files = [("预警、投递与案件", env.outbox_path), ("事件归并", env.data_dir / "events.sqlite3")]
    if not env.es_url:
        files.append(("帖子库", env.store_dir / "posts.sqlite3"))
    known = {path.resolve() for _, path in files}
    if env.data_dir.is_dir():
        for path in sorted([*env.data_dir.glob("*.sqlite3"), *env.data_dir.glob("*/*.sqlite3")]):
            if path.parent.name != backups_dir(env).name and path.resolve() not in known:
                files.append((OTHER, path))
    return files


def check_all(env: Env) -> None:
    """Raise `DatabaseDamaged` for the first damaged database: a patrol must not crawl what it could not
    keep or alert on (what is crawled while the outbox is damaged would never be told)."""
    for holds, path in database_files(env):
        if holds != OTHER:
            databases.check(path, thorough=False)  # each open checks as much again; doctor in full


def _size(path: Path) -> str:
    size = path.stat().st_size
    return f"{size / 1048576:.1f} MB" if size >= 1048576 else f"{max(size // 1024, 1)} KB"


def newest_backup(env: Env, path: Path) -> Path | None:
    found = sorted(backups_dir(env).glob(f"{path.stem}-*.sqlite3")) if backups_dir(env).is_dir() else []
    return found[-1] if found else None


def restore_hint(env: Env, path: Path) -> str:
    backup = newest_backup(env, path)
    source = f"最近的备份 {backup}" if backup else "最近的备份（yuqing backup 所建）"
    return (
        f"停止 yuqing serve，把 {path.name} 和同名的 -wal、-shm 文件移走（留待排查），"
        f"把{source}复制为 {path}，再运行 yuqing doctor"
    )


def doctor_lines(env: Env | None = None) -> list[tuple[bool, str, str]]:
    """(ok, what, detail) for `yuqing doctor`: each database checked (read-only), and for a damaged one
    how to restore it."""
    env = env or get_env()
    lines: list[tuple[bool, str, str]] = []
    for holds, path in database_files(env):
        what = f"数据库 {path.name}"
        try:
            databases.check(path)
        except DatabaseDamaged as exc:
            lines.append((False, what, f"{path} 已损坏：{exc.reason}；恢复：{restore_hint(env, path)}"))
            continue
        except (sqlite3.Error, OSError) as exc:
            lines.append((False, what, f"{path} 无法读取：{exc}"))
            continue
        if not path.exists():
            lines.append((True, what, f"{path}（{holds}）尚未建立"))
            continue
        backup = newest_backup(env, path)
        since = f"，最近备份 {backup.name}" if backup else "，尚无备份（yuqing backup）"
        lines.append((True, what, f"{path}（{holds}）完好，{_size(path)}{since}"))
    return lines


# -- yuqing backup -------------------------------------------------------------------------------------


@dataclass(slots=True)
class BackupResult:
    lines: list[str] = field(default_factory=list)
    failed: int = 0


def backup(env: Env | None = None, out_dir: Path | None = None) -> BackupResult:
    """Copy each database with SQLite's online backup into `out_dir` (default `var/backups/`), named
    `<name>-<Beijing time>.sqlite3`. A damaged database is not copied: a backup must be one to restore."""
    env = env or get_env()
    out_dir = out_dir or backups_dir(env)
    stamp = f"{clock.now().astimezone(SHANGHAI):%Y%m%d-%H%M%S}"
    result = BackupResult()
    if env.es_url:
        result.lines.append("帖子存于 Elasticsearch，不在此备份：请用 Elasticsearch 的快照（snapshot）备份")
    for holds, path in database_files(env):
        if holds == OTHER:
            continue
        if not path.exists():
            result.lines.append(f"{path}（{holds}）尚未建立，无需备份")
            continue
        target = out_dir / f"{path.stem}-{stamp}.sqlite3"
        number = 1
        while target.exists():
            number += 1
            target = out_dir / f"{path.stem}-{stamp}-{number}.sqlite3"
        try:
            out_dir.mkdir(parents=True, exist_ok=True)
            databases.backup_file(path, target)
        except DatabaseDamaged as exc:
            result.failed += 1
            result.lines.append(f"{path} 已损坏，未备份：{exc.reason}")
            continue
        except (sqlite3.Error, OSError) as exc:
            result.failed += 1
            result.lines.append(f"{path} 未能备份到 {target}：{explain(exc) or exc}")
            continue
        result.lines.append(f"{path}（{holds}）→ {target}（{_size(target)}，完整性检查通过）")
    return result


# -- the CLI's edge --------------------------------------------------------------------------------------


def explain(exc: BaseException) -> str | None:
    """One Chinese line for a storage failure the commands do not catch themselves; None for others."""
    data_dir = get_env().data_dir
    if isinstance(exc, DatabaseError):
        return str(exc)
    if is_disk_full(exc):
        return f"磁盘已满（数据目录 {data_dir}）：{exc}；已写入的内容完好，这一步未完成，请腾出空间后重试"
    if is_corrupt(exc):
        return f"数据库已损坏：SQLite 报告「{exc}」；运行 yuqing doctor 查看是哪个文件、如何从备份恢复"
    if isinstance(exc, sqlite3.Error) and "readonly" in str(exc):
        return f"无法写入数据目录 {data_dir} 中的数据库（只读），这个命令未完成；{READ_ONLY_HINT}"
    if isinstance(exc, OSError) and exc.errno in (errno.EROFS, errno.EACCES) and exc.filename:
        where = Path(os.fsdecode(exc.filename))
        inside = where.resolve().is_relative_to(data_dir.resolve())
        return f"无法写入 {where}：{exc.strerror}，这个命令未完成" + (f"；{READ_ONLY_HINT}" if inside else "")
    return None


@contextmanager
def storage_errors(say: Callable[[str], None]) -> Iterator[None]:
    """Around a whole command: a storage failure becomes one line and exit code 1, not a traceback."""
    try:
        yield
    except (DatabaseError, sqlite3.Error, OSError) as exc:
        message = explain(exc)
        if message is None:
            raise
        say(message)
        raise SystemExit(1) from None


# -- a full disk during a patrol ------------------------------------------------------------------------


def has_room(folder: Path, need: int = ROOM_NEEDED) -> bool:
    """Whether `need` bytes can really be written in `folder` now (written, synced and removed)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(prefix=".room-", dir=folder)
    except OSError as exc:
        return not is_disk_full(exc)
    try:
        left = need
        while left > 0:
            left -= os.write(handle, b"\0" * min(left, 65536))
        os.fsync(handle)
    except OSError as exc:
        if not is_disk_full(exc):
            raise
        return False
    finally:
        os.close(handle)
        Path(name).unlink(missing_ok=True)
    return True


class DiskGuard:
    """Stops a patrol at the first full disk: a crawl that stopped on it, a probe that cannot write, or a
    write of the patrol itself that failed. Then says what was kept and what was not."""

    def __init__(self, env: Env) -> None:
        self.env = env
        self.stopped_at: str | None = None
        self.detail = ""

    @property
    def full(self) -> bool:
        return self.stopped_at is not None

    def _stop(self, source: str, detail: str) -> None:
        if self.stopped_at is None:
            self.stopped_at, self.detail = source, detail

    @contextmanager
    def step(self, source: str) -> Iterator[None]:
        """One step of the patrol; a full disk met inside it stops the patrol instead of crashing it."""
        try:
            yield
        except (DatabaseError, sqlite3.Error, OSError) as exc:
            if not is_disk_full(exc):
                raise
            self._stop(source, str(exc))

    def after_crawl(self, run: Any) -> bool:
        """True when the patrol must stop after this crawl (a `SourceRun`, marked `disk_full` then)."""
        if run.exit_code == EXIT_DISK_FULL or run.finish_reason == DISK_FULL or run.stat(DISK_FULL_STAT):
            self._stop(run.source, "抓取进程写入时磁盘已满")
        else:
            folders = {self.env.data_dir, self.env.outbox_path.parent}
            if not all(has_room(folder) for folder in folders):
                self._stop(run.source, f"剩余空间不足 {ROOM_NEEDED // 1024} KB")
        if self.full:
            # The crawl did not finish on its own terms: the source's health is not known from it.
            run.finish_reason, run.health = DISK_FULL, "unknown"
        return self.full

    def crawl_process_full(self, source: str) -> None:
        """The crawl process ended on a full disk (its exit code), after `source` was told ended."""
        self._stop(source, "抓取进程写入时磁盘已满")

    def summary(self, sources: Sequence[str], done: Sequence[str]) -> str:
        """What was kept and what was not, read back (read-only) from the databases themselves. `done`: the
        sources whose crawl ended before the disk filled; the others were stopped where they were."""
        at = self.stopped_at or "?"
        finished = "、".join(name for name in done if name != at)
        rest = "、".join(name for name in sources if name not in done and name != at)
        try:
            from pipeline.store import open_store

            store = open_store(self.env, read_only=True)
            try:
                posts = f"{store.count()} 条"
            finally:
                store.close()
        except Exception as exc:  # noqa: BLE001 - the summary reports what it can read
            posts = f"未能读出（{exc}）"
        try:
            outbox = Outbox(self.env.outbox_path, read_only=True)
            try:
                alerts = f"{len(outbox.alerts())} 条"
            finally:
                outbox.close()
        except Exception as exc:  # noqa: BLE001
            alerts = f"未能读出（{exc}）"
        damaged = []
        for _holds, path in database_files(self.env):
            try:
                databases.check(path)
            except (DatabaseError, sqlite3.Error, OSError):
                damaged.append(path.name)
        intact = f"检查未通过：{'、'.join(damaged)}" if damaged else "各数据库经检查完好"
        return (
            f"磁盘已满，巡查在 {at} 处停止（{self.detail}）。"
            f"已保存：{finished + ' 的巡查结果；' if finished else ''}帖子库现有帖子 {posts}，"
            f"发件箱现有预警 {alerts}，{intact}。"
            f"未完成：{at} 的内容可能未全部入库，{rest + ' 的巡查已中止，' if rest else ''}本次预警未发送。"
            f"请腾出 {self.env.data_dir} 所在磁盘的空间后重新巡查"
        )
