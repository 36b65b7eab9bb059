"""Drains the outbox: plans one delivery per alert and recipient, then sends each through that
recipient's chain of channels (their own, then the configured fallbacks) with retries and backoff,
within each channel's rate windows, and records every step.

At least once, never twice: a delivery is marked `sending` before its channel is called and `sent` only
after the channel acknowledged; one left `sending` by a killed process is sent again, one marked `sent`
never is. Low levels wait for the digest (`dispatch_digest`); alerts a silence holds back are kept, not
sent, and go out when it ends; one above the level silences may hold goes out with a note saying so.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from itertools import groupby
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import requests

from alerts.channels import CHANNELS, Channel, ChannelUnavailable, DeliveryResult, Message
from alerts.channels.base import CHANNEL_KINDS
from alerts.channels.http import HttpChannel
from alerts.channels.rehearsal import RehearsalChannel, rehearsing
from alerts.digest import digest_subject, render_digest
from alerts.models import Alert
from alerts.outbox import HELD, PENDING, SILENCED, Delivery, Health, Outbox, SilenceRecord
from alerts.ratelimit import wait_for
from alerts.silences import HELD as HOLD_HELD
from alerts.silences import OVERRIDDEN, judge, longest, released
from config.databases import DatabaseError
from config.env import environment
from config.models import AlertsFile
from config.secrets import mask

logger = logging.getLogger(__name__)

CONSOLE_RECIPIENT = "控制台"
SHANGHAI = ZoneInfo("Asia/Shanghai")


@dataclass(slots=True)
class DispatchReport:
    sent: int = 0
    failed: int = 0  # attempts that failed (each is retried or moved on to the next channel)
    deferred: int = 0  # waiting for a rate window, a retry or a dead channel's next try
    fell_back: int = 0  # delivered by a channel after the recipient's first
    silenced: int = 0  # held back by a silence
    released: int = 0  # held back until a silence ended, sent now
    held: int = 0  # low-level alerts kept for the digest
    digests: int = 0
    channels_dead: list[str] = field(default_factory=list)
    # One line per alert a silence held back, let through for its level, or released: for the summaries.
    silence_notes: list[str] = field(default_factory=list)


# -- channels ---------------------------------------------------------------------------------------------


def open_channels(
    config: AlertsFile,
    *,
    environ: Mapping[str, str] | None = None,
    session: requests.Session | None = None,
    timer: Callable[[], float] = time.time,
) -> tuple[dict[str, Channel], dict[str, str]]:
    """Every configured channel that can be built here, and for the others why not. In a demo every channel
    but the console is rehearsed: its alerts are invented and must reach nobody."""
    environ = environment() if environ is None else environ
    session = session or requests.Session()
    channels: dict[str, Channel] = {}
    unavailable: dict[str, str] = {}
    rehearse = rehearsing(environ)
    for spec in config.channels:
        if rehearse and spec.type != "console":
            channels[spec.name] = RehearsalChannel(spec.name, spec.type, timer=timer)
            continue
        kind = CHANNELS[spec.type]
        extra: dict[str, Any] = {"session": session} if issubclass(kind, HttpChannel) else {}
        try:
            channels[spec.name] = kind(spec.name, spec.options, environ=environ, timer=timer, **extra)
        except ChannelUnavailable as exc:
            unavailable[spec.name] = exc.reason
    return channels, unavailable


def build_channels(config: AlertsFile, overrides: Mapping[str, Channel] | None = None) -> dict[str, Channel]:
    channels, unavailable = open_channels(config)
    for name, reason in unavailable.items():
        logger.warning("渠道 %s 不可用：%s（经它的投递改走后备渠道或等待）", name, reason)
    channels.update(overrides or {})
    return channels


# -- planning ---------------------------------------------------------------------------------------------


def routes(recipients: Iterable[str], config: AlertsFile) -> list[tuple[str, list[str]]]:
    """(recipient, channel chain) pairs: each recipient's own channels then the fallbacks, in order.

    Recipients with no channel of their own are told once, on the console where duty staff watch (the
    message lists every unit). Planned from config, not from what is up now, so a channel that is down
    keeps its deliveries waiting or passes them on."""
    configured = {c.name: c.type for c in config.channels}
    fallback = [name for name in config.fallback if name in configured]
    consoles = [name for name, kind in configured.items() if kind == "console"]
    planned: list[tuple[str, list[str]]] = []
    unrouted = False
    for recipient in recipients:
        own = [name for name in config.recipients.get(recipient, []) if name in configured]
        if own:
            planned.append((recipient, list(dict.fromkeys([*own, *fallback]))))
        else:
            unrouted = True
    if unrouted:
        chain = list(dict.fromkeys([*consoles, *fallback]))
        if chain:
            planned.append((CONSOLE_RECIPIENT, chain))
    return planned


# -- sending ----------------------------------------------------------------------------------------------


class Dispatcher:
    """One sending run over an outbox. `now` is the business clock (records, silences, digests);
    `timer` and `sleep` are real seconds (backoff, rate windows), which pass even when `now` is frozen."""

    def __init__(
        self,
        outbox: Outbox,
        config: AlertsFile,
        channels: Mapping[str, Channel],
        now: Callable[[], datetime],
        *,
        unavailable: Mapping[str, str] | None = None,
        timer: Callable[[], float] = time.time,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.outbox = outbox
        self.config = config
        self.policy = config.delivery
        self.channels = channels
        self.now = now
        self.unavailable = dict(unavailable or {})
        self.timer = timer
        self.sleep = sleep
        self.report = DispatchReport()

    def _first_status(self, alert: Alert) -> str:
        digest_below = self.config.digest_below
        if alert.about_event and digest_below is not None and alert.level.rank < digest_below.rank:
            return HELD
        return PENDING

    def plan(self) -> None:
        now = self.now()
        policy = self.config.silences
        silences = self.outbox.silences()
        self.release_ended(now)
        for alert in self.outbox.unplanned():
            planned = routes(alert.recipients(), self.config)
            if not planned:
                continue
            hold = judge(alert, silences, policy, now)
            what = f"【{alert.level.value}】{alert.title}"
            if hold is not None and hold.held:
                self.outbox.plan_alert(
                    alert.key,
                    planned,
                    status=SILENCED,
                    silenced_by=hold.silence.id,
                    silence_state=HOLD_HELD,
                    silence_note=hold.note,
                )
                self.report.silenced += 1
                self.report.silence_notes.append(f"{hold.silence.label()}暂缓：{what}")
                logger.info("预警 %s 被静默 #%d 暂缓（%s）", alert.key, hold.silence.id, hold.note)
                continue
            status = self._first_status(alert)
            if hold is None:
                self.outbox.plan_alert(alert.key, planned, status=status)
            else:
                # Sent despite the silence; whoever set it reads why in the alert and in the record.
                self.outbox.plan_alert(
                    alert.key,
                    planned,
                    status=status,
                    silenced_by=hold.silence.id,
                    silence_state=OVERRIDDEN,
                    silence_note=hold.note,
                    body=replace(alert, reasons=[hold.note, *alert.reasons]),
                )
                self.report.silence_notes.append(f"照常发送{what}：{hold.note}")
                logger.warning(
                    "预警 %s 不受静默 #%d 限制，照常发送：%s", alert.key, hold.silence.id, hold.note
                )
            if status == HELD:
                self.report.held += 1

    def release_ended(self, now: datetime) -> None:
        """What silences that have ended (expired, lifted, or now above the level a silence may hold)
        kept back: per event the highest and newest alert goes out now, told as raised now, so its
        claim and response clocks start from when the units hear of it; the others, and one whose
        event was told since at its level or above, are recorded as superseded and not sent."""
        policy = self.config.silences
        silences = {s.id: s for s in self.outbox.silences()}
        by_event: dict[str, list[SilenceRecord]] = {}
        for record in self.outbox.silence_records(HOLD_HELD):
            if released(record.alert, silences.get(record.silence_id), policy, now):
                by_event.setdefault(record.alert.event_id, []).append(record)
        for event_id, records in by_event.items():
            records.sort(key=lambda r: (r.alert.level.rank, r.raised_at))
            chosen = records[-1]
            for older in records[:-1]:
                note = f"静默 #{older.silence_id} 结束时，同一事件补发了预警 {chosen.alert.key}，此条不再单独补发"
                self.outbox.supersede(older.alert.key, note=note, at=now)
            alert = chosen.alert
            silence = silences.get(chosen.silence_id)
            told = [
                lv for lv in self.outbox.told_after(event_id, chosen.raised_at) if lv.rank >= alert.level.rank
            ]
            if told:
                note = f"静默 #{chosen.silence_id} 结束时，该事件此后已按{told[0].value}预警，此条不再补发"
                self.outbox.supersede(alert.key, note=note, at=now)
                continue
            if silence is not None and silence.lifted_at is not None and silence.lifted_at <= now:
                how = f"已于 {_local(silence.lifted_at)} 由{silence.lifted_by}解除"
            elif alert.level.rank > policy.max_level.rank:
                how = f"不再适用于{alert.level.value}"
            else:
                how = f"已于 {_local(silence.ends_at(longest(policy)) if silence else now)} 到期"
            note = (
                f"静默 #{chosen.silence_id} 期间暂缓（{_local(chosen.raised_at)} 发现），静默{how}，"
                f"{_local(now)} 补发；认领、回应时限自补发时起算"
            )
            told_now = replace(alert, created_at=now, reasons=[note, *alert.reasons])
            self.outbox.release(told_now, status=self._first_status(alert), note=note, at=now)
            self.report.released += 1
            self.report.silence_notes.append(
                f"静默 #{chosen.silence_id} 结束，补发【{alert.level.value}】{alert.title}"
            )
            logger.info("预警 %s 补发：%s", alert.key, note)

    def gather_digests(self) -> None:
        now = self.now()
        stamp = f"digest@{now:%Y-%m-%dT%H:%M}"
        for recipient, group in groupby(self.outbox.held(), key=lambda d: d.recipient):
            members = list(group)
            alerts = [d.alert for d in members if d.alert is not None]
            key, number = stamp, 1
            while self.outbox.digest_exists(f"{key}|{recipient}"):
                number += 1
                key = f"{stamp}#{number}"
            self.outbox.add_digest(
                key,
                recipient,
                members[0].chain,
                digest_subject(recipient, alerts, now),
                render_digest(recipient, alerts, now),
                [d.idem_key for d in members],
                now,
            )
            self.report.digests += 1

    def deliver(self, wait: float) -> None:
        """Send what is due; wait (up to `wait` seconds in all) for rate windows and retries to come due."""
        deadline = self.timer() + wait
        self.outbox.forget_sends(self.timer() - 86400)
        stuck: set[str] = set()  # nothing in this process can carry these; they wait for the next run
        while True:
            for delivery in self.outbox.due(self.timer()):
                if delivery.idem_key not in stuck and not self.attempt(delivery):
                    stuck.add(delivery.idem_key)
            waiting = [d for d in self.outbox.waiting() if d[0] not in stuck]
            if not waiting:
                return
            next_at = min(at for _key, at in waiting)
            pause = next_at - self.timer()
            if pause > 0:
                if next_at > deadline:
                    return
                self.sleep(pause)

    def _health(self, channel: str) -> Health | None:
        found = self.outbox.health(channel)
        return found[0] if found else None

    def pick(self, delivery: Delivery) -> tuple[str | None, list[str], list[float], bool]:
        """The first channel of the chain that can take this delivery now; else why not, when one may,
        and whether some channel used up its attempts."""
        now = self.timer()
        notes: list[str] = []
        later: list[float] = []
        exhausted = False
        for name in delivery.chain:
            if name not in self.channels:
                notes.append(f"{name}：{self.unavailable.get(name, '本进程中不可用')}")
                continue
            if delivery.tries.get(name, 0) >= self.policy.attempts_per_channel:
                exhausted = True
                notes.append(f"{name}：已试 {delivery.tries[name]} 次")
                continue
            health = self._health(name)
            if health is not None and health.dead_since is not None:
                retry_at = max(
                    health.dead_since + self.policy.retry_dead_after_seconds, health.resume_at or 0
                )
                if retry_at > now:
                    notes.append(f"{name}：已失效（{health.last_error}）")
                    later.append(retry_at)
                    continue
            if health is not None and health.resume_at is not None and health.resume_at > now:
                notes.append(f"{name}：平台限流，{_clock(health.resume_at)} 后才能再发")
                later.append(health.resume_at)
                continue
            return name, notes, later, exhausted
        return None, notes, later, exhausted

    def attempt(self, delivery: Delivery) -> bool:
        """One step for one delivery; False when no channel in this process can ever take it."""
        name, notes, later, exhausted = self.pick(delivery)
        if name is None:
            note = "暂时没有渠道能发送：" + "；".join(notes)
            if later:
                self.outbox.defer(delivery.idem_key, min(later), mask(note))
                self.report.deferred += 1
                return True
            if exhausted:
                # Every channel had its attempts: start a new round after the longest backoff.
                self.outbox.failed(
                    delivery.idem_key,
                    error=mask(note),
                    tries={},
                    next_attempt_at=self.timer() + self.policy.max_retry_after_seconds,
                    at=self.now(),
                )
                self.report.deferred += 1
                return True
            self.outbox.failed(
                delivery.idem_key, error=mask(note), tries=delivery.tries, next_attempt_at=None, at=self.now()
            )
            self.report.failed += 1
            logger.warning("投递 %s 等待：%s", delivery.idem_key, note)
            return False
        channel = self.channels[name]
        now = self.timer()
        window = max((limit.seconds for limit in channel.limits), default=0)
        wait = wait_for(self.outbox.sends_since(name, now - window), channel.limits, now) if window else 0
        if wait > 0:
            # Over the platform's limit the bot would be blocked; wait for the window instead.
            self.outbox.defer(delivery.idem_key, now + wait)
            self.report.deferred += 1
            return True
        self.outbox.start_sending(delivery.idem_key, name, self.now())
        self.outbox.record_send(name, now)
        try:
            result = channel.send(self.message(delivery))
        except Exception as exc:  # a channel bug must not stop the others
            logger.exception("渠道 %s 发送 %s 时出错", name, delivery.idem_key)
            result = DeliveryResult(ok=False, error=channel.scrub(f"{type(exc).__name__}: {exc}"))
        if result.ok:
            self.outbox.sent(delivery.idem_key, name, self.now())
            self.outbox.channel_ok(name, self.timer())
            self.report.sent += 1
            if name != delivery.chain[0]:
                self.report.fell_back += 1
            logger.info("已送达 %s（经 %s）", delivery.idem_key, name)
            return True
        self.failure(delivery, name, result)
        return True

    def failure(self, delivery: Delivery, name: str, result: DeliveryResult) -> None:
        error = mask(result.error or "发送失败")  # a platform may repeat the bare token: never stored
        tries = {**delivery.tries, name: delivery.tries.get(name, 0) + 1}
        now = self.timer()
        health = self.outbox.channel_failed(
            name,
            now,
            error,
            self.policy.dead_after_failures,
            resume_at=now + result.retry_after if result.retry_after else None,
        )
        dead = health.dead_since is not None
        if dead and health.failures == self.policy.dead_after_failures:
            logger.warning("渠道 %s 连续失败 %d 次，判定失效：%s", name, health.failures, error)
            self.report.channels_dead.append(name)
            self.outbox.due_now(name)  # what waits on it moves on to the next channel now
        move_on = (
            result.permanent
            or dead
            or result.retry_after is not None
            or tries[name] >= self.policy.attempts_per_channel
        )
        next_at = None if move_on else now + self.policy.backoff(tries[name])
        self.outbox.failed(
            delivery.idem_key, error=error, tries=tries, next_attempt_at=next_at, at=self.now()
        )
        self.report.failed += 1
        logger.warning("投递 %s 经 %s 失败（第 %d 次）：%s", delivery.idem_key, name, tries[name], error)

    def message(self, delivery: Delivery) -> Message:
        alert = delivery.alert
        if alert is None:  # a digest: its text is stored with the delivery
            return Message(
                recipient=delivery.recipient,
                subject=delivery.subject or "",
                body=delivery.body or "",
                key=delivery.idem_key,
            )
        return Message(
            recipient=delivery.recipient,
            subject=alert.subject(),
            body=alert.render(),
            key=delivery.idem_key,
            level=alert.level,
            data=_alert_data(alert),
        )


def _alert_data(alert: Alert) -> dict[str, Any]:
    data = asdict(alert)
    data["level"] = alert.level.value
    data["created_at"] = alert.created_at.isoformat()
    # Through JSON and back, so it holds only what JSON holds (the kind's text, not the enum).
    plain: dict[str, Any] = json.loads(json.dumps(data, ensure_ascii=False))
    return plain


def _clock(at: float) -> str:
    return f"{datetime.fromtimestamp(at, SHANGHAI):%m-%d %H:%M:%S}"


def _local(moment: datetime) -> str:
    return f"{moment.astimezone(SHANGHAI):%m-%d %H:%M}"


def dispatch(
    outbox: Outbox,
    config: AlertsFile,
    channels: Mapping[str, Channel],
    now: Callable[[], datetime],
    *,
    unavailable: Mapping[str, str] | None = None,
    timer: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
    wait: float | None = None,
) -> DispatchReport:
    """Plan new alerts and send what is due, waiting up to `wait` seconds (default: the config's
    `delivery.wait_seconds`) for rate windows and retries."""
    dispatcher = Dispatcher(outbox, config, channels, now, unavailable=unavailable, timer=timer, sleep=sleep)
    with outbox.sending():
        with outbox.planning():
            dispatcher.plan()
        dispatcher.deliver(config.delivery.wait_seconds if wait is None else wait)
    return dispatcher.report


def dispatch_digest(
    outbox: Outbox,
    config: AlertsFile,
    channels: Mapping[str, Channel],
    now: Callable[[], datetime],
    *,
    unavailable: Mapping[str, str] | None = None,
    timer: Callable[[], float] = time.time,
    sleep: Callable[[float], None] = time.sleep,
    wait: float | None = None,
) -> DispatchReport:
    """At a checkpoint: one digest per unit of the low-level alerts held since the last one, delivered
    like any alert (together with anything else due)."""
    dispatcher = Dispatcher(outbox, config, channels, now, unavailable=unavailable, timer=timer, sleep=sleep)
    with outbox.sending():
        with outbox.planning():
            dispatcher.plan()
            dispatcher.gather_digests()
        dispatcher.deliver(config.delivery.wait_seconds if wait is None else wait)
    return dispatcher.report


# -- doctor -----------------------------------------------------------------------------------------------


def delivery_checks(
    config: AlertsFile, outbox_path: Path, *, environ: Mapping[str, str] | None = None
) -> list[tuple[bool, str, str]]:
    """(ok, what, detail) lines for `yuqing doctor`: each channel, its health, and what waits to be sent."""
    channels, unavailable = open_channels(config, environ=environ)
    health: dict[str, Health] = {}
    waiting: list[Delivery] = []
    lines: list[tuple[bool, str, str]] = []
    try:
        outbox = Outbox(outbox_path, read_only=True)
    except DatabaseError as exc:  # the database's own line says how to restore it
        lines.append((False, "deliveries", f"无法读取 {outbox_path}：{getattr(exc, 'reason', exc)}"))
    else:
        try:
            health = {h.channel: h for h in outbox.health()}
            waiting = [d for d in outbox.deliveries() if d.status in ("pending", "failed", "sending")]
        finally:
            outbox.close()
    for spec in config.channels:
        what = f"channel {spec.name}"
        kind = CHANNEL_KINDS.get(spec.type, spec.type)
        if spec.name in unavailable:
            lines.append((False, what, f"{kind}：不可用，{unavailable[spec.name]}"))
            continue
        detail = describe_channel(channels[spec.name])
        state = health.get(spec.name)
        if state is not None and state.dead_since is not None:
            lines.append(
                (
                    False,
                    what,
                    (
                        f"自 {_clock(state.dead_since)} 起失效（连续失败 {state.failures} 次）；"
                        f"最近一次错误：{mask(state.last_error or '')}（{detail}）"
                    ),
                )
            )
        elif state is not None and state.failures:
            lines.append(
                (
                    True,
                    what,
                    f"{detail}；最近失败 {state.failures} 次，最近一次：{mask(state.last_error or '')}",
                )
            )
        else:
            lines.append((True, what, detail))
    troubled = [d for d in waiting if d.last_error]
    if troubled:
        lines.append(
            (
                False,
                "deliveries",
                (
                    f"{len(waiting)} 条待发送，其中 {len(troubled)} 条发送失败过；例如 {troubled[0].idem_key}："
                    f"{mask(troubled[0].last_error or '')}"
                ),
            )
        )
    elif waiting:
        lines.append((True, "deliveries", f"{len(waiting)} 条等待发送"))
    return lines


def describe_channel(channel: Channel) -> str:
    """`钉钉机器人，发往 https://oapi.dingtalk.com，限频 每 60 秒 20 条` for `yuqing doctor`: never a secret."""
    info = channel.describe()
    parts = [CHANNEL_KINDS.get(str(info.get("type")), str(info.get("type")))]
    if "to" in info:
        parts.append(f"发往 {info['to']}")
    if "units" in info:
        parts.append(f"已配置 {info['units']} 个单位的地址")
    if channel.limits:
        parts.append("限频 " + "、".join(f"每 {lim.seconds:g} 秒 {lim.count} 条" for lim in channel.limits))
    return "，".join(parts)
