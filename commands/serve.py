"""`yuqing serve`: the one scheduler process (APScheduler 3.x). A minute tick patrols whenever the holiday
calendar says a patrol is due, so 调休 and holidays need no rescheduling; the deadline sweep and the daily
舆情日志 run beside it. A lock file in the data folder keeps a second instance from running the same jobs.
Each job first reads the config again; while an edit leaves it broken, the jobs run on the last good one
(commands.config_watch).
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import signal
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import IO, Any

from apscheduler.events import EVENT_SCHEDULER_STARTED
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from alerts import dispatcher
from alerts.calendar import SHANGHAI, Cadence, calendar_warning
from alerts.database import LeaderLock as DatabaseLeaderLock
from alerts.outbox import Outbox
from alerts.records import daily_log_text
from alerts.silences import released
from alerts.workflow import SweepReport, Workflow
from commands.config_watch import ConfigWatch
from config.env import Env
from config.errors import YuqingError
from config.models import OfficeConfig, ScheduleFile, SilencePolicy
from pipeline import clock
from pipeline.health import checkpoint_runs

logger = logging.getLogger(__name__)

STOP_SIGNALS = {signal.SIGTERM, signal.SIGINT}


class AlreadyServing(YuqingError):
    """Another `yuqing serve` holds the lock."""


class ServeLock:
    """An exclusive `flock` on a file in the data folder. The kernel drops it when the holder exits, even
    when killed, so a stale lock never blocks a restart."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._handle: IO[str] | None = None

    def holder(self) -> str:
        try:
            return self.path.read_text(encoding="utf-8").strip() or "未知进程"
        except OSError:
            return "未知进程"

    def acquire(self, *, wait: bool, on_wait: Callable[[str], None] | None = None) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = self.path.open("a+", encoding="utf-8")
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if not wait:
                handle.close()
                raise AlreadyServing(
                    f"已有一个 yuqing serve 在运行（{self.holder()}；锁文件 {self.path}），本实例退出，"
                    "以免同一任务执行两次（加 --wait 可待命，等它停止后接替）"
                ) from None
            if on_wait:
                on_wait(self.holder())
            fcntl.flock(handle, fcntl.LOCK_EX)
        handle.seek(0)
        handle.truncate()
        handle.write(f"进程号 {os.getpid()}，{clock.now().astimezone(SHANGHAI):%Y-%m-%d %H:%M:%S} 起运行")
        handle.flush()
        self._handle = handle

    def release(self) -> None:
        if self._handle is not None:
            self._handle.close()  # closing the descriptor releases the lock
            self._handle = None


class LeadershipLost(YuqingError):
    """The leader's session on the shared database ended: a standby may be running the jobs now."""


# How often the leader makes sure it still leads; a standby takes over once the server drops the session.
LEADERSHIP_CHECK_SECONDS = 10


class LeaderLock:
    """With the alerts database on PostgreSQL (YUQING_DB_URL), `serve` may run on several machines: the
    one holding the database's leader lock runs the jobs, the others (`--wait`) stand by and take over
    when its session ends."""

    def __init__(self, url: str) -> None:
        # The server keeps only ASCII in a session's name; `_holder` says it in words.
        self._lock = DatabaseLeaderLock(url, f"yuqing-serve {socket.gethostname()} {os.getpid()}")

    def _holder(self) -> str:
        name = self._lock.holder().split()
        return f"{name[1]} 上的进程号 {name[2]}" if len(name) == 3 else "另一台机器上的实例"

    def acquire(self, *, wait: bool, on_wait: Callable[[str], None] | None = None) -> None:
        if self._lock.acquire(wait=False):
            return
        holder = self._holder()
        if not wait:
            raise AlreadyServing(
                f"已有一个 yuqing serve 在运行（{holder}，共用同一预警数据库），本实例退出，"
                "以免同一任务执行两次（加 --wait 可待命，等它停止后接替）"
            )
        if on_wait:
            on_wait(holder)
        self._lock.acquire(wait=True)

    def held(self) -> bool:
        return self._lock.held()

    def release(self) -> None:
        self._lock.release()


@dataclass(slots=True)
class PatrolRun:
    slot: datetime
    checkpoint: bool
    ok: bool


class Service:
    """The jobs `yuqing serve` schedules, callable on their own (tests drive them with a frozen clock)."""

    def __init__(
        self,
        office: OfficeConfig,
        env: Env,
        *,
        now: Callable[[], datetime] = clock.now,
        patrol: Callable[[], Any] | None = None,
        watch: ConfigWatch | None = None,
    ) -> None:
        self.office = office
        self.env = env
        self.now = now
        self.cadence = Cadence.from_schedule(office.schedule)
        self.state_path = env.serve_state_path
        self._patrolling = threading.Lock()
        self._patrol = patrol or self._run_patrol
        # Without a watch (the `sweep` command, tests) the config given is used as it is.
        self.watch = watch
        self.config_folder: Path | None = None  # the checked copy the patrol's crawls read
        self.on_new_config: Callable[[OfficeConfig, OfficeConfig], None] | None = None

    # -- config: read again before each job, the last good one kept while an edit is broken ----------

    def refresh(self) -> None:
        if self.watch is None:
            return
        try:
            checked = self.watch.check(self.office)
        except Exception:  # e.g. a full disk while copying: the jobs go on with the config they have
            logger.exception("重新读取配置失败，各项任务继续按上一份检查通过的配置运行")
            return
        self.config_folder = checked.folder
        if checked.office is not self.office:
            old, self.office = self.office, checked.office
            self.cadence = Cadence.from_schedule(checked.office.schedule)
            if self.on_new_config is not None:
                self.on_new_config(old, checked.office)
        if checked.alerted:
            try:
                self._dispatch(digest=False)
            except Exception:
                logger.exception("【配置错误】预警发送失败，留在待发队列，下次发送时重试")

    # -- state: which slot ran last, so a restart neither repeats nor skips a patrol ------------------

    def _state(self) -> dict[str, str]:
        try:
            return json.loads(self.state_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}

    def _save(self, state: dict[str, str]) -> None:
        tmp = self.state_path.with_suffix(".tmp")
        tmp.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(json.dumps(state), encoding="utf-8")
        tmp.replace(self.state_path)

    # -- jobs ---------------------------------------------------------------------------------------

    def tick(self) -> PatrolRun | None:
        """Patrol if a slot (claim patrol or checkpoint) has come since the last patrol. Missed slots are
        coalesced: after downtime there is one patrol, not one per slot missed."""
        self.refresh()
        now = self.now()
        slot = self.cadence.last_slot(now)
        if slot is None:
            return None
        state = self._state()
        last = state.get("patrol_slot")
        if last and datetime.fromisoformat(last) >= slot:
            return None
        if not self._patrolling.acquire(blocking=False):
            return None  # the previous patrol is still running; the next tick takes this slot
        try:
            if self.watch is not None:
                self.watch.prune(keep=self.config_folder)  # no crawl reads an older copy now
            checkpoint = slot in self.cadence.checkpoint_times(slot.date())
            logger.info(
                "巡查：%s 的班次%s",
                f"{slot.astimezone(SHANGHAI):%Y-%m-%d %H:%M}",
                "（时间节点）" if checkpoint else "",
            )
            ok = True
            try:
                self._patrol()
            except Exception:  # a failed patrol must not stop the schedule; the next slot tries again
                logger.exception(
                    "%s 班次的巡查失败，下一班次再试", f"{slot.astimezone(SHANGHAI):%Y-%m-%d %H:%M}"
                )
                ok = False
            if checkpoint:
                self.digest()
            if checkpoint:
                state = checkpoint_runs(state, slot, self.now(), ok)
            self._save({**state, "patrol_slot": slot.isoformat()})
            self.sweep()
            self.follow_up()
            return PatrolRun(slot, checkpoint, ok)
        finally:
            self._patrolling.release()

    def _run_patrol(self) -> None:
        from commands.patrol import run_patrol

        folder = self.config_folder
        extra = {"YUQING_CONFIG_DIR": str(folder)} if folder is not None else None
        report = run_patrol(self.office, self.env, extra_env=extra)
        logger.info("巡查完成：%d 条，新预警 %d 条", report.items, report.alerts_raised)

    def _dispatch(self, *, digest: bool) -> None:
        send = getattr(dispatcher, "dispatch_digest", None) if digest else dispatcher.dispatch
        if send is None:
            return
        outbox = Outbox(self.env.outbox_path, realert=self.office.alerts.realert)
        try:
            send(outbox, self.office.alerts, dispatcher.build_channels(self.office.alerts), self.now)
        finally:
            outbox.close()

    def digest(self) -> None:
        """At a checkpoint: the digest of low-level alerts, where the dispatcher provides one."""
        try:
            self._dispatch(digest=True)
        except Exception:
            logger.exception("汇总摘要发送失败，下一个时间节点再试")

    def sweep(self) -> SweepReport:
        """Deadlines: remind, record lapses, escalate; then send what the sweep raised."""
        self.refresh()
        outbox = Outbox(self.env.outbox_path, realert=self.office.alerts.realert)
        workflow = Workflow(outbox, self.office, self.now)
        try:
            report = workflow.sweep()
            over = _silence_over(outbox, self.office.alerts.silences, self.now())
        finally:
            workflow.close()
            outbox.close()
        if report.notices:
            logger.info("时限检查发出 %d 条通知：%s", len(report.notices), "、".join(report.notices))
        if over:
            # A silence that ends at night would otherwise hold its alerts until the next patrol.
            logger.info("%d 条暂缓的预警静默已结束，现在处理（每个事件补发一条）", over)
        if report.notices or over:
            try:
                self._dispatch(digest=False)
            except Exception:
                logger.exception("时限检查的通知发送失败，下次巡查时重试")
        return report

    def follow_up(self) -> int:
        """Feed the watched cases what the store now holds of their posts; the number reopened."""
        from pipeline.store import open_store

        outbox = Outbox(self.env.outbox_path, realert=self.office.alerts.realert)
        workflow = Workflow(outbox, self.office, self.now)
        reopened = 0
        try:
            store = open_store(self.env)
            try:
                for case in workflow.watched():
                    doc = store.get(case.post_id)
                    if doc and isinstance(doc.get("counts"), dict):
                        reopened += workflow.observe(case.id, doc["counts"]) is not None
            finally:
                store.close()
        except Exception:  # the store may be down; the next patrol looks again
            logger.exception("跟踪关注中的案件失败（存储可能不可用），下次巡查再看")
        finally:
            workflow.close()
            outbox.close()
        return reopened

    def evidence(self) -> int:
        """存证: copies of the originals of the posts alerted in the last days, each once (a page that
        cannot be reached is tried again, a few times). Chromium runs in processes of its own, so a crash
        of it is an error logged here, not the scheduler's end. Returns how many copies were taken."""
        from pipeline.evidence import RECENT, capture, wanted

        outbox = Outbox(self.env.outbox_path)
        try:
            alerts = [(a.post_id, a.url) for a in outbox.alerts(since=self.now() - RECENT) if a.about_event]
        finally:
            outbox.close()
        todo = wanted(self.env, alerts)
        if not todo:
            return 0
        try:
            taken, failed = capture(self.env, todo, self.now())
        except Exception:  # a browser that will not start must not stop the schedule
            logger.exception("存证失败：Chromium 未能启动或中途退出，下一轮再试")
            return 0
        for line in failed:
            logger.warning("未能存证 %s", line)
        if taken:
            logger.info("已存证 %d 条预警帖子的原网页", len(taken))
        return len(taken)

    def write_daily_log(self, day: date | None = None) -> Path:
        self.refresh()
        day = day or self.now().astimezone(SHANGHAI).date()
        from pipeline.documents import file_daily_logs

        outbox = Outbox(self.env.outbox_path, realert=self.office.alerts.realert)
        workflow = Workflow(outbox, self.office, self.now)
        try:
            workflow.sync()
            text = daily_log_text(workflow, day)
            # The Word logs, the office's and each unit's, go out as records through the outbox.
            records = file_daily_logs(workflow, self.env, day)
            for record in records:
                outbox.enqueue(record)
        finally:
            workflow.close()
            outbox.close()
        path = self.env.data_dir / "daily" / f"{day:%Y-%m-%d}.txt"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        logger.info("舆情日志 %s 已写入 %s，并按单位发出 %d 份", day, path, len(records))
        self._dispatch(digest=False)
        return path


def _silence_over(outbox: Outbox, policy: SilencePolicy, now: datetime) -> int:
    """How many held alerts the next send takes up, their silence over (`alerts.silences.released`)."""
    silences = {s.id: s for s in outbox.silences()}
    return sum(released(alert, silences.get(sid), policy, now) for alert, sid in outbox.silenced())


def _daily_log_trigger(schedule: ScheduleFile) -> CronTrigger:
    hour, minute = (int(part) for part in schedule.daily_log.split(":"))
    if hour == 24:  # "24:00" is the end of the day
        hour, minute = 23, 59
    # A trigger built without a zone keeps the machine's, not the scheduler's: 23:50 would be UTC.
    return CronTrigger(hour=hour, minute=minute, timezone=SHANGHAI)


def build_scheduler(service: Service) -> BlockingScheduler:
    schedule = service.office.schedule
    scheduler = BlockingScheduler(
        timezone=SHANGHAI,
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300},
    )
    # Two instances of the tick may overlap while a long patrol runs; the second returns at once
    # (a lock inside `tick`) instead of APScheduler logging a skipped run every minute.
    scheduler.add_job(
        service.tick, CronTrigger(second=0, timezone=SHANGHAI), id="patrol-tick", max_instances=2
    )
    scheduler.add_job(
        service.sweep, IntervalTrigger(minutes=schedule.sweep_minutes, timezone=SHANGHAI), id="deadline-sweep"
    )
    scheduler.add_job(service.write_daily_log, _daily_log_trigger(schedule), id="daily-log")
    scheduler.add_job(service.evidence, IntervalTrigger(minutes=5, timezone=SHANGHAI), id="evidence")

    def reschedule(old: OfficeConfig, new: OfficeConfig) -> None:
        # An edited schedule.yaml takes effect without a restart, like every other file.
        if new.schedule.sweep_minutes != old.schedule.sweep_minutes:
            scheduler.reschedule_job(
                "deadline-sweep",
                trigger=IntervalTrigger(minutes=new.schedule.sweep_minutes, timezone=SHANGHAI),
            )
        if new.schedule.daily_log != old.schedule.daily_log:
            scheduler.reschedule_job("daily-log", trigger=_daily_log_trigger(new.schedule))

    service.on_new_config = reschedule
    return scheduler


def serve(env: Env, *, wait: bool, say: Callable[[str], None]) -> None:
    """Check the config, take the lock, catch up (a sweep and any patrol missed while down), then run until
    a signal. A broken config folder with no last good copy raises its ConfigError before anything runs."""
    watch = ConfigWatch(env)
    office = watch.startup()
    lock = LeaderLock(env.db_url.get_secret_value()) if env.db_url else ServeLock(env.data_dir / "serve.lock")
    lock.acquire(wait=wait, on_wait=lambda holder: say(f"yuqing serve：等待正在运行的实例停止（{holder}）"))
    try:
        warning = calendar_warning(clock.now().astimezone(SHANGHAI).date())
        if warning:
            logger.warning("%s", warning)
        service = Service(office, env, watch=watch)
        service.sweep()
        service.tick()
        scheduler = build_scheduler(service)
        lost = threading.Event()
        if isinstance(lock, LeaderLock):

            def still_leading() -> None:
                # Cut off from the server, a standby may lead already: stop rather than run the jobs twice.
                if not lock.held():
                    logger.error("与预警数据库的会话已断开，不再执行任务，停止")
                    lost.set()
                    scheduler.shutdown(wait=False)

            scheduler.add_job(
                still_leading, IntervalTrigger(seconds=LEADERSHIP_CHECK_SECONDS), id="leadership"
            )

        def stop(signum: int, _frame: Any) -> None:
            logger.info("收到信号 %d，停止调度", signum)
            scheduler.shutdown(wait=False)

        def started(_event: Any) -> None:
            # Signals are taken before "running" is said, so whoever reads that line can stop it at once.
            signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
            now = clock.now().astimezone(SHANGHAI)
            upcoming = [s for s in service.cadence.patrol_slots(now.date()) if s > now] or [
                service.cadence.patrol_slots(now.date() + timedelta(days=1))[0]
            ]
            say(
                f"yuqing serve：运行中（进程号 {os.getpid()}）；巡查按节假日日历进行，下次 "
                f"{upcoming[0].astimezone(SHANGHAI):%Y-%m-%d %H:%M}；每 {service.office.schedule.sweep_minutes} "
                f"分钟检查一次时限；每天 {service.office.schedule.daily_log} 生成舆情日志（均为北京时间）"
            )

        # A stop signal that comes before the scheduler runs would find nothing to shut down; it waits,
        # blocked, until the scheduler has started (the listener runs in this thread as it starts).
        signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        scheduler.add_listener(started, EVENT_SCHEDULER_STARTED)
        scheduler.start()
        if lost.is_set():
            raise LeadershipLost(
                "与预警数据库的会话已断开，本实例已停止执行任务（其他待命的实例会接替）；"
                "网络恢复后可重新启动（加 --wait 待命）"
            )
        say("yuqing serve：已停止")
    finally:
        lock.release()
