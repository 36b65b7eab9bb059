"""One patrol: every enabled source crawled at once in one child process (`commands.crawl`: one Scrapy
`CrawlerProcess`; a Twisted reactor cannot restart inside one process, and a crash there must not take the
caller, or `serve`, down). The child tells each crawl's start and end with its stats; each source's alerts
are sent as it ends, the outbox drained at the end. A crawl that failed before it could judge its own
health, or that the child's death cut short, is reported as a source-health failure here. Whoever runs the
patrol may follow it source by source (`started`, `finished`)."""

from __future__ import annotations

import contextlib
import json
import logging
import os
import queue
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from alerts.dispatcher import DispatchReport, build_channels, dispatch
from alerts.outbox import Outbox
from commands.config_watch import report_config_failure
from commands.crawl import FINISHED, STARTED
from config.env import PROJECT_ROOT, REPLAY_URL, RUN_ID, Env
from config.loader import DEFAULT_DIR
from config.models import OfficeConfig, SourceConfig
from pipeline import clock
from pipeline.health import (
    DEFERRED_STAT,
    FAILED,
    PARTIAL,
    UNREACHABLE,
    Verdict,
    health_dir,
    is_failure,
    report_health,
    report_unreachable,
    source_label,
)
from pipeline.storage import EXIT_DISK_FULL, DiskGuard, check_all

logger = logging.getLogger(__name__)


UNKNOWN = "unknown"
# The one log of a patrol's crawls, in the logs folder; the next patrol writes it anew.
LOG_NAME = "patrol.log"
TOLD = frozenset(
    {RUN_ID, REPLAY_URL, clock.VARIABLE}
)  # given to the child as arguments, never by its environment


@dataclass(slots=True)
class SourceRun:
    source: str
    exit_code: int  # 0, or why the crawl did not run to its end: 1 if it raised, else the child's exit code
    finish_reason: str = UNKNOWN
    health: str = UNKNOWN  # "ok" or the reason the source is not delivering (pipeline.health)
    stats: dict[str, Any] = field(default_factory=dict)
    label: str = ""  # the Chinese name people read
    seconds: float = 0.0
    detail: str = ""  # what went wrong, when something did
    assessed: bool = False  # the crawl judged its own health, and raised its own alert if it had to

    @property
    def failed(self) -> bool:
        """The source did not deliver: any health but ok or partial, or a crawl that failed."""
        return is_failure(self.health) or self.exit_code != 0

    @property
    def warning(self) -> bool:
        return not self.failed and self.health == PARTIAL

    def stat(self, key: str) -> int:
        return int(self.stats.get(key, 0) or 0)

    @property
    def items(self) -> int:
        return self.stat("item_scraped_count")

    @property
    def dropped(self) -> int:
        return self.stat("item_dropped_count")

    def drop_reasons(self) -> dict[str, int]:
        """Posts the stages dropped, by reason (`yuqing/dropped/<reason>`)."""
        prefix = "yuqing/dropped/"
        return {k.removeprefix(prefix): int(v) for k, v in self.stats.items() if k.startswith(prefix)}

    def source_problems(self) -> dict[str, int]:
        prefix = f"yuqing/source/{self.source}/"
        return {k.removeprefix(prefix): int(v) for k, v in self.stats.items() if k.startswith(prefix)}


@dataclass(slots=True)
class PatrolReport:
    runs: list[SourceRun]
    seconds: float
    dispatch: DispatchReport
    alerts_raised: int
    stopped: str | None = None  # why the patrol stopped early (a full disk), with what was kept and what not
    crawl_process_max_rss_kb: int = 0  # the peak memory of the patrol's crawl process

    @property
    def items(self) -> int:
        return sum(r.items for r in self.runs)

    @property
    def failed(self) -> list[SourceRun]:
        return [r for r in self.runs if r.failed]

    @property
    def warnings(self) -> list[SourceRun]:
        return [r for r in self.runs if r.warning]

    @property
    def ok(self) -> bool:
        return self.stopped is None and not self.failed


def _last_lines(path: Path, count: int = 3) -> str:
    try:
        lines = [
            line for line in path.read_text(encoding="utf-8", errors="replace").splitlines() if line.strip()
        ]
    except OSError:
        return ""
    return " | ".join(lines[-count:])


def report_dead_crawl(run: SourceRun, env: Env, duty: list[str], log_file: Path | None) -> None:
    """A crawl that failed before it could judge its own health (bad config, missing browser, a spider that
    raised as it was made) or that its process's death cut short never reached the health extension: its
    silence is reported here, as `failed`, with what it raised, or the end of the crawl log."""
    detail = run.finish_reason + (f"；日志最后几行：{_last_lines(log_file)}" if log_file else "")
    verdict = Verdict(run.source, FAILED, detail, run.finish_reason, 0, {}, label=run.label)
    report_health(verdict, health_dir=health_dir(env), outbox_path=env.outbox_path, duty=duty, at=clock.now())


def run_patrol(
    office: OfficeConfig,
    env: Env,
    *,
    only: list[str] | None = None,
    extra_env: dict[str, str] | None = None,
    replay_url: str | None = None,
    started: Callable[[int, int, SourceConfig], None] | None = None,
    finished: Callable[[int, int, SourceRun], None] | None = None,
) -> PatrolReport:
    """Crawl every source at once in one child process; `started(n, total, source)` and
    `finished(n, total, run)` are told as each one begins and ends (`n` is its place in sources.yaml)."""
    began = time.perf_counter()
    check_all(env)  # a damaged database stops the patrol before anything is crawled
    extra = dict(extra_env or {})
    # The patrol's name, so crawls on several machines sharing a Redis frontier find each other.
    run_id = extra.pop(RUN_ID, None) or env.run_id or f"{clock.now():%Y%m%dT%H%M}"
    replay_url = replay_url or extra.pop(REPLAY_URL, None) or env.replay_url
    sources = [s for s in office.sources.sources if s.enabled and (not only or s.name in only)]
    patrol = _Patrol(office, env, sources, started, finished)
    if sources:
        try:
            patrol.crawl(run_id, replay_url, extra)
        finally:
            patrol.tell_unreachable()  # what was learnt is told, even from a patrol that broke off
    if not patrol.disk.full:
        with patrol.disk.step("预警发送"):
            _add(patrol.dispatched, _dispatch(env, office, patrol.channels, wait=None))
    runs = sorted(patrol.runs, key=lambda run: patrol.place[run.source])
    raised = sum(r.stat("yuqing/alert/raised") for r in runs)
    stopped = patrol.disk.summary([s.name for s in sources], patrol.done) if patrol.disk.full else None
    return PatrolReport(
        runs, time.perf_counter() - began, patrol.dispatched, raised, stopped, patrol.child_max_rss_kb
    )


def run_demo_patrol(
    office: OfficeConfig, env: Env, recordings: list[Path], *, only: list[str] | None = None, now: str | None
) -> tuple[PatrolReport, str]:
    """`yuqing demo`'s patrol: the recordings replayed on 127.0.0.1 into a demo folder of its own, published
    as `var/demo` once complete; `now` is the clock unless `YUQING_NOW` says otherwise. The report and the
    replay server's address."""
    from commands.demo import DemoBuild, on_data_folder
    from pipeline.replay import ReplayServer

    with (
        DemoBuild(env) as build,
        on_data_folder(build.path, demo=True, now=now) as demo_env,
        ReplayServer(*recordings) as server,
    ):
        report = run_patrol(office, demo_env, only=only, replay_url=server.base_url)
        build.publish(now=now or None, sources=[run.source for run in report.runs])
    return report, server.base_url


class _Patrol:
    """One patrol as its child process tells it: each source's end becomes a `SourceRun`, its alerts are
    sent, and whoever follows the patrol is told."""

    def __init__(
        self,
        office: OfficeConfig,
        env: Env,
        sources: list[SourceConfig],
        started: Callable[[int, int, SourceConfig], None] | None,
        finished: Callable[[int, int, SourceRun], None] | None,
    ) -> None:
        self.office, self.env, self.sources = office, env, sources
        self.place = {source.name: number for number, source in enumerate(sources, 1)}
        self.on_started, self.on_finished = started, finished
        self.channels = build_channels(office.alerts)
        self.dispatched = DispatchReport()
        self.disk = DiskGuard(env)  # a full disk stops the patrol, keeping what was written
        self.runs: list[SourceRun] = []
        self.done: list[str] = []  # sources whose crawl ended before the disk filled
        self.told_started: set[str] = set()
        self.log_file = env.logs_dir / LOG_NAME
        self.child_max_rss_kb = 0
        self.config_dir: str | None = None

    def crawl(self, run_id: str, replay_url: str | None, extra_env: dict[str, str]) -> None:
        # The clock, the patrol's name and the replay server are told to the child as arguments; the
        # variables a person may set for this process are not passed on, so the child never reads them.
        env_vars = {
            k: v for k, v in {**os.environ, **extra_env, **self.env.process_vars()}.items() if k not in TOLD
        }
        self.config_dir = env_vars.get("YUQING_CONFIG_DIR")
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        read_end, write_end = os.pipe()
        command = [sys.executable, "-m", "commands.crawl", "--report-fd", str(write_end), "--run-id", run_id]
        moment, shifted = clock.fixed(), clock.offset()
        if moment is not None:
            command += ["--now", moment.isoformat()]
        elif shifted is not None:
            command += ["--clock-offset", repr(shifted)]
        if replay_url:
            command += ["--replay-url", replay_url]
        command += [f"{source.name}={source.spider}" for source in self.sources]
        try:
            with self.log_file.open("w", encoding="utf-8") as log:
                child = subprocess.Popen(
                    command,
                    cwd=PROJECT_ROOT,
                    env=env_vars,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=log,
                    pass_fds=(write_end,),
                )
        except BaseException:
            os.close(read_end)
            raise
        finally:
            os.close(write_end)
        logger.info("巡查进程 %d：%s（日志 %s）", child.pid, " ".join(command), self.log_file)
        events: queue.SimpleQueue[dict[str, Any] | None] = queue.SimpleQueue()
        reader = threading.Thread(
            target=_read_events, args=(read_end, events), name="patrol-events", daemon=True
        )
        reader.start()
        try:
            while (event := events.get()) is not None:
                try:
                    self.told(event, child)
                except Exception:  # one source's report (its send, a progress line) must not end the patrol
                    logger.exception("处理巡查进程的报告出错：%s", event.get("source"))
        finally:
            reader.join()
            code = self._wait(child)
        for source in self.sources:
            if source.name not in {run.source for run in self.runs}:
                self.ended(source, self._dead_run(source, code), child, died=True)
        if code == EXIT_DISK_FULL:
            self.disk.crawl_process_full(self.runs[-1].source if self.runs else "?")

    def _wait(self, child: subprocess.Popen[bytes]) -> int:
        if child.returncode is not None:  # already collected (`poll` when the disk filled)
            return child.returncode
        _pid, status, usage = os.wait4(child.pid, 0)
        child.returncode = os.waitstatus_to_exitcode(status)
        self.child_max_rss_kb = usage.ru_maxrss
        return child.returncode

    def told(self, event: dict[str, Any], child: subprocess.Popen[bytes]) -> None:
        source = next((s for s in self.sources if s.name == event.get("source")), None)
        if source is None:
            logger.warning("巡查进程报告了未知来源：%s", event)
            return
        if event.get("event") == STARTED:
            self.start(source)
        elif event.get("event") == FINISHED:
            self.ended(source, _run_of(source, event, self.log_file), child)

    def start(self, source: SourceConfig) -> None:
        if source.name in self.told_started:
            return
        self.told_started.add(source.name)
        if self.on_started is not None:
            self.on_started(self.place[source.name], len(self.sources), source)

    def ended(
        self, source: SourceConfig, run: SourceRun, child: subprocess.Popen[bytes], *, died: bool = False
    ) -> None:
        self.start(source)  # a crawl that failed before it opened is still seen to begin
        self.runs.append(run)
        was_full = self.disk.full
        with self.disk.step(source.name):
            if not self.disk.after_crawl(run):
                self.done.append(run.source)
                # A crawl that did not judge its own health (it died, or ended without a verdict) raised
                # no alert of its own: it is told here.
                if run.health == FAILED and not run.assessed and not self._died_on_config(run):
                    duty = self.office.units.city_units.duty
                    report_dead_crawl(run, self.env, duty, self.log_file if died else None)
                # Sent here, in this process, as each source ends: people hear of it now rather than after
                # the slowest source, the crawls in the child go on meanwhile, and the channels' rate
                # windows are kept in one place; what must wait for a window is left to the final round.
                _add(self.dispatched, _dispatch(self.env, self.office, self.channels, wait=0))
        if self.disk.full and not was_full and child.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                child.terminate()  # the crawls still running stop as on Ctrl-C, keeping what they stored
        if self.on_finished is not None:
            self.on_finished(self.place[source.name], len(self.sources), run)

    def tell_unreachable(self) -> None:
        """The sites the crawls could not reach, in one health alert when there are several."""
        left = [run for run in self.runs if run.stat(DEFERRED_STAT)]
        verdicts = [
            Verdict(run.source, UNREACHABLE, run.detail, run.finish_reason, run.items, {}, label=run.label)
            for run in sorted(left, key=lambda run: self.place[run.source])
        ]
        with self.disk.step("来源健康预警"):
            report_unreachable(
                verdicts,
                patrolled=len(self.sources),
                health_dir=health_dir(self.env),
                outbox_path=self.env.outbox_path,
                duty=self.office.units.city_units.duty,
                at=clock.now(),
            )

    def _dead_run(self, source: SourceConfig, code: int) -> SourceRun:
        run = SourceRun(source.name, code or 1, label=source_label(source.name, source.spider, source.label))
        run.finish_reason = f"抓取进程异常退出（退出码 {code}），见 {self.log_file}"
        run.health = FAILED
        run.detail = f"抓取进程在 {run.label} 结束前退出（退出码 {code}），见 {self.log_file}"
        return run

    def _died_on_config(self, run: SourceRun) -> bool:
        """A crawl that died on a config file edited since the patrol began says nothing about its site: it
        is told to duty staff as a config error, never as the source's health."""
        directory = Path(self.config_dir or DEFAULT_DIR)
        duty = self.office.units.city_units.duty
        error = report_config_failure(directory, outbox_path=self.env.outbox_path, duty=duty, at=clock.now())
        if error is not None:
            run.finish_reason = f"配置错误：{error}"
        return error is not None


def _read_events(fd: int, events: queue.SimpleQueue[dict[str, Any] | None]) -> None:
    """Everything the child tells, line by line, until it exits; read all the time, so the child never
    waits on a full pipe while this process sends alerts."""
    with os.fdopen(fd, encoding="utf-8", errors="replace") as lines:
        for line in lines:
            try:
                events.put(json.loads(line))
            except ValueError:
                logger.warning("巡查进程的报告无法读取：%r", line[:200])
    events.put(None)


def _run_of(source: SourceConfig, event: dict[str, Any], log_file: Path) -> SourceRun:
    error = event.get("error")
    run = SourceRun(
        source.name,
        1 if error else 0,
        finish_reason=event.get("finish_reason") or UNKNOWN,
        health=event.get("health") or UNKNOWN,
        stats=event.get("stats") or {},
        label=source_label(source.name, source.spider, source.label),
        seconds=float(event.get("seconds") or 0.0),
        detail=event.get("detail") or "",
        assessed=bool(event.get("assessed")),
    )
    if error and not run.assessed:
        run.finish_reason = f"{error}，见 {log_file}"
    return run


def _dispatch(
    env: Env, office: OfficeConfig, channels: dict[str, Any], *, wait: float | None
) -> DispatchReport:
    outbox = Outbox(env.outbox_path)
    try:
        return dispatch(outbox, office.alerts, channels, clock.now, wait=wait)
    finally:
        outbox.close()


def _add(total: DispatchReport, part: DispatchReport) -> None:
    for f in fields(DispatchReport):
        mine, theirs = getattr(total, f.name), getattr(part, f.name)
        if isinstance(mine, list):
            mine.extend(x for x in theirs if x not in mine)
        else:
            setattr(total, f.name, mine + theirs)
