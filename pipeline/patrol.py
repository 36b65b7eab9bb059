"""One patrol: every enabled source crawled in its own `scrapy crawl` process (Twisted's reactor cannot
restart inside one process), then the outbox drained, then a summary read from the run records. A crawl
that died without a record is reported as a source-health failure here. Whoever runs the patrol may follow
it source by source (`started`, `finished`)."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from alerts.dispatcher import DispatchReport, build_channels, dispatch
from alerts.outbox import Outbox
from config.env import PROJECT_ROOT, Env
from config.loader import DEFAULT_DIR
from config.models import OfficeConfig, SourceConfig
from pipeline import clock
from pipeline.config_watch import report_config_failure
from pipeline.health import FAILED, OK, PARTIAL, Verdict, health_dir, is_failure, report_health, source_label
from pipeline.storage import DiskGuard, check_all

logger = logging.getLogger(__name__)


UNKNOWN = "unknown"


@dataclass(slots=True)
class SourceRun:
    source: str
    exit_code: int
    finish_reason: str = UNKNOWN
    health: str = UNKNOWN  # "ok" or the reason the source is not delivering (pipeline.health)
    stats: dict[str, Any] = field(default_factory=dict)
    label: str = ""  # the Chinese name people read
    seconds: float = 0.0
    detail: str = ""  # what went wrong, when something did

    @property
    def failed(self) -> bool:
        """The source did not deliver: any health but ok or partial, or a crawl process that failed."""
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


def crawl_source(source: SourceConfig, env_vars: dict[str, str], log_dir: Path) -> SourceRun:
    runs_dir = Path(env_vars["YUQING_DATA_DIR"]) / "runs"
    before = set(runs_dir.glob(f"{source.name}-*.json")) if runs_dir.exists() else set()
    log_dir.mkdir(parents=True, exist_ok=True)
    log_file = log_dir / f"{source.name}.log"
    command = [sys.executable, "-m", "scrapy", "crawl", source.spider, "-a", f"source={source.name}"]
    if env_vars.get("YUQING_REPLAY_URL"):
        # Recorded pages on 127.0.0.1 need no politeness delay.
        command += ["-s", "DOWNLOAD_DELAY=0", "-s", "AUTOTHROTTLE_ENABLED=False"]
    logger.info("抓取 %s：%s（日志 %s）", source.name, " ".join(command), log_file)
    started = time.perf_counter()
    with log_file.open("w", encoding="utf-8") as log:
        code = subprocess.run(
            command, cwd=PROJECT_ROOT, env=env_vars, stdout=log, stderr=log, check=False
        ).returncode
    run = SourceRun(source.name, code, label=source_label(source.name, source.spider, source.label))
    run.seconds = time.perf_counter() - started
    new = sorted(set(runs_dir.glob(f"{source.name}-*.json")) - before) if runs_dir.exists() else []
    if new:
        record = json.loads(new[-1].read_text(encoding="utf-8"))
        health = record.get("health") or {}
        run.finish_reason = record.get("finish_reason", UNKNOWN)
        run.stats = record.get("stats", {})
        run.health = health.get("state", UNKNOWN)
        run.detail = health.get("detail", "")
        if code != 0 and run.health == OK:
            run.detail = f"抓取进程异常退出（退出码 {code}），见 {log_file}"
    else:
        run.finish_reason = f"抓取进程异常退出（退出码 {code}），见 {log_file}"
        run.health = FAILED
        run.detail = f"抓取进程未留下巡查记录（退出码 {code}），见 {log_file}"
    return run


def _last_lines(path: Path, count: int = 3) -> str:
    try:
        lines = [
            line for line in path.read_text(encoding="utf-8", errors="replace").splitlines() if line.strip()
        ]
    except OSError:
        return ""
    return " | ".join(lines[-count:])


def report_dead_crawl(run: SourceRun, env: Env, duty: list[str], log_file: Path) -> None:
    """A crawl that died before writing its run record (bad config, missing browser, a crash) never reached
    the health extension: its silence is reported here, as `failed`, with the end of its log."""
    detail = f"{run.finish_reason}；日志最后几行：{_last_lines(log_file)}"
    verdict = Verdict(run.source, FAILED, detail, run.finish_reason, 0, {}, label=run.label)
    report_health(verdict, health_dir=health_dir(env), outbox_path=env.outbox_path, duty=duty, at=clock.now())


def _died_on_config(run: SourceRun, env_vars: dict[str, str], env: Env, office: OfficeConfig) -> bool:
    """A crawl that died on a config file edited since the patrol began says nothing about its site: it is
    told to duty staff as a config error, never as the source's health."""
    directory = Path(env_vars.get("YUQING_CONFIG_DIR") or DEFAULT_DIR)
    duty = office.units.city_units.duty
    error = report_config_failure(directory, outbox_path=env.outbox_path, duty=duty, at=clock.now())
    if error is not None:
        run.finish_reason = f"配置错误：{error}"
    return error is not None


def run_patrol(
    office: OfficeConfig,
    env: Env,
    *,
    only: list[str] | None = None,
    extra_env: dict[str, str] | None = None,
    started: Callable[[int, int, SourceConfig], None] | None = None,
    finished: Callable[[int, int, SourceRun], None] | None = None,
) -> PatrolReport:
    """Crawl each source in turn; `started(n, total, source)` and `finished(n, total, run)` are told as
    each one begins and ends."""
    began = time.perf_counter()
    check_all(env)  # a damaged database stops the patrol before anything is crawled
    # The crawls write into the same data folder as this process, whatever `.env` they would read.
    env_vars = {**os.environ, **(extra_env or {}), **env.process_vars()}
    # One name for this patrol, so crawls on several machines sharing a Redis frontier find each other.
    env_vars.setdefault("YUQING_RUN_ID", f"{clock.now():%Y%m%dT%H%M}")
    sources = [s for s in office.sources.sources if s.enabled and (not only or s.name in only)]
    log_dir = env.logs_dir
    channels = build_channels(office.alerts)
    report = DispatchReport()
    runs: list[SourceRun] = []
    disk = DiskGuard(env)  # a full disk stops the patrol here, keeping what was written
    for number, source in enumerate(sources, 1):
        if started is not None:
            started(number, len(sources), source)
        with disk.step(source.name):
            run = crawl_source(source, env_vars, log_dir)
            runs.append(run)
            if not disk.after_crawl(run):
                if run.health == FAILED and not run.stats and not _died_on_config(run, env_vars, env, office):
                    report_dead_crawl(run, env, office.units.city_units.duty, log_dir / f"{run.source}.log")
                # Tell people now what this source raised, rather than after every other source is crawled;
                # what must wait for a rate window or a retry is left to the final round.
                _add(report, _dispatch(env, office, channels, wait=0))
        if finished is not None:
            finished(number, len(sources), run)
        if disk.full:
            break
    else:
        with disk.step("预警发送"):
            _add(report, _dispatch(env, office, channels, wait=None))
    raised = sum(r.stat("yuqing/alert/raised") for r in runs)
    stopped = disk.summary([s.name for s in sources], [r.source for r in runs]) if disk.full else None
    return PatrolReport(runs, time.perf_counter() - began, report, raised, stopped)


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
