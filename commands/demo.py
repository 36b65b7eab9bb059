"""The demo's own data folder. `yuqing demo` fills a private folder under `var/demos/` and, once it is
complete, points `var/demo` at it in one step; `--demo` on a command runs that command on it. The office's
own data is never read or written, and two demos at once neither share nor delete each other's folder."""

from __future__ import annotations

import fcntl
import functools
import inspect
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import IO, Annotated, Any, Self, TypeVar

import typer

from commands.common import Exit, err, fail
from config.env import PROJECT_ROOT, Env, get_env, rules_path
from config.errors import YuqingError
from pipeline import clock
from pipeline.items import SHANGHAI

# The moment the shipped recordings were made: the demo runs its clock there so ages and rates are real.
DEMO_NOW = "2026-11-23T09:00:00+08:00"
# The recorded sites the demo replays: one folder per site, each with its `index.json`.
RECORDINGS = PROJECT_ROOT / "tests" / "fixtures"
# Written last into a demo's folder: what it patrolled and at which moment.
RECORD = "demo.json"
# Locked for as long as a folder is in use: exclusively while a demo fills it, shared while a command
# reads it. A folder nobody holds and `var/demo` does not point at is left over, and removed.
IN_USE = ".in-use"

_SWITCHED = ("YUQING_DATA_DIR", "YUQING_DEMO", "YUQING_NOW")


class DemoMissing(YuqingError):
    def __init__(self, where: Path) -> None:
        super().__init__(f"还没有演示数据（{where} 不存在）：请先运行 ./yuqing demo")


def _lock(path: Path, how: int) -> IO[str]:
    handle = path.open("a+", encoding="utf-8")
    try:
        fcntl.flock(handle, how)
    except BaseException:
        handle.close()
        raise
    return handle


@contextmanager
def _builds_locked(env: Env) -> Iterator[Path]:
    """Creating, publishing and removing demo folders, one process at a time (a moment each)."""
    builds = env.demo_builds_dir
    builds.mkdir(parents=True, exist_ok=True)
    handle = _lock(builds / ".lock", fcntl.LOCK_EX)
    try:
        yield builds
    finally:
        handle.close()


def _published(env: Env) -> Path | None:
    link = env.demo_dir
    return link.resolve() if link.exists() else None


def _remove_unused(env: Env, builds: Path) -> None:
    current = _published(env)
    for folder in builds.iterdir():
        if not folder.is_dir() or folder.resolve() == current:
            continue
        try:
            handle = _lock(folder / IN_USE, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except (BlockingIOError, FileNotFoundError):
            continue  # a demo is filling it or a command is reading it
        try:
            shutil.rmtree(folder, ignore_errors=True)
        finally:
            handle.close()


class DemoBuild:
    """One demo's private data folder: published as `var/demo` when the demo completes, removed if it
    does not (interrupted, or a crash)."""

    def __init__(self, env: Env) -> None:
        self.env = env
        self.path = Path()
        self._in_use: IO[str] | None = None

    def __enter__(self) -> Self:
        with _builds_locked(self.env) as builds:
            _remove_unused(self.env, builds)
            self.path = Path(tempfile.mkdtemp(prefix=f"{datetime.now(SHANGHAI):%Y%m%dT%H%M%S}-", dir=builds))
            # Taken before the builds lock is let go, so no other demo takes this folder for a leftover.
            self._in_use = _lock(self.path / IN_USE, fcntl.LOCK_EX)
            self._carry_rules()
        return self

    def _carry_rules(self) -> None:
        """The rules in force in the last demo (an analyst's saved version) are this demo's too, so a rule
        written on the demo's data is tried by the next demo patrol; all else starts afresh."""
        previous = _published(self.env)
        if previous is None:
            return
        rules = rules_path(previous)
        if rules.is_file():
            target = rules_path(self.path)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(rules, target)

    def publish(self, *, now: str | None, sources: list[str]) -> None:
        """Point `var/demo` at this folder in one step: a reader sees the previous demo or this one, whole."""
        record = {"now": now, "sources": sources, "finished_at": datetime.now(SHANGHAI).isoformat()}
        (self.path / RECORD).write_text(json.dumps(record, ensure_ascii=False, indent=1), encoding="utf-8")
        link = self.env.demo_dir
        with _builds_locked(self.env) as builds:
            if link.exists() and not link.is_symlink():  # a plain folder an older version left
                link.rename(builds / f"{self.path.name}-previous")
            staged = link.with_name(f".demo-{os.getpid()}.link")
            staged.unlink(missing_ok=True)
            staged.symlink_to(os.path.relpath(self.path, link.parent), target_is_directory=True)
            staged.replace(link)
            _remove_unused(self.env, builds)

    def __exit__(self, *exc: object) -> None:
        if self._in_use is not None:
            self._in_use.close()
            self._in_use = None
        # This folder if it was not published (interrupted, a crash) or a later demo's replaced it.
        with _builds_locked(self.env) as builds:
            _remove_unused(self.env, builds)


@contextmanager
def on_data_folder(path: Path, *, demo: bool, now: str | None = None) -> Iterator[Env]:
    """This process, and the processes it starts, on another data folder for the time of the block; `now`
    sets the clock unless `YUQING_NOW` already does."""
    saved = {name: os.environ.get(name) for name in _SWITCHED}
    os.environ["YUQING_DATA_DIR"] = str(path)
    os.environ["YUQING_DEMO"] = "1" if demo else "0"
    if now is not None and "YUQING_NOW" not in os.environ:
        os.environ["YUQING_NOW"] = now
    get_env.cache_clear()
    try:
        yield get_env()
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        get_env.cache_clear()


@contextmanager
def reading_demo(env: Env) -> Iterator[Env]:
    """The last complete demo's folder, at the demo's moment unless `YUQING_NOW` says otherwise, kept from
    removal by a later demo while the block runs."""
    for _attempt in range(3):
        folder = _published(env)
        if folder is None:
            break
        try:
            in_use = _lock(folder / IN_USE, fcntl.LOCK_SH)
        except FileNotFoundError:
            continue  # removed as a newer demo was published: look again
        try:
            record = json.loads((folder / RECORD).read_text(encoding="utf-8"))
        except FileNotFoundError:
            in_use.close()
            continue
        try:
            with on_data_folder(folder, demo=True, now=record.get("now")) as demo_env:
                yield demo_env
            return
        finally:
            in_use.close()
    raise DemoMissing(env.demo_dir)


Command = TypeVar("Command", bound=Callable[..., Any])

DemoFlag = Annotated[
    bool,
    typer.Option(
        "--demo",
        help="用演示数据（./yuqing demo 生成的 var/demo/，时钟在演示时刻），不碰真实数据",
    ),
]


def demo_option(command: Command) -> Command:
    """Gives a command that reads or acts on the data a `--demo` option, which runs it on the demo's folder."""
    signature = inspect.signature(command, eval_str=True)

    @functools.wraps(command)
    def with_demo(*args: Any, demo: bool = False, **kwargs: Any) -> Any:
        if not demo:
            return command(*args, **kwargs)
        office_env = get_env()
        try:
            with reading_demo(office_env):
                moment = clock.now().astimezone(SHANGHAI)
                err.print(
                    f"演示数据：{office_env.demo_dir}，时钟 {moment:%Y-%m-%d %H:%M}",
                    highlight=False,
                    soft_wrap=True,
                )
                return command(*args, **kwargs)
        except DemoMissing as exc:
            raise fail(str(exc), Exit.FAILED) from None

    flag = inspect.Parameter("demo", inspect.Parameter.KEYWORD_ONLY, default=False, annotation=DemoFlag)
    with_demo.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[*signature.parameters.values(), flag]
    )
    return with_demo  # type: ignore[return-value]
