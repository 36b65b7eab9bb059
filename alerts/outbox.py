"""The durable outbox: an alert is written here before anyone is told, and each delivery is recorded.

One row per alert (its key is unique, so raising it twice is a no-op) and one row per (alert, recipient)
delivery with its own idempotency key: marked `sending` before a channel is called and `sent` after it
acknowledged, so a restarted sender resends what was not acknowledged and never what was. The same
database keeps channel health, the send times rate windows are counted on, and silences with what each did
to each alert it concerned (held, released, superseded, or overridden for its level). The queries live in
alerts/repositories/; this is what the rest of the program asks of them.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import replace
from datetime import datetime
from pathlib import Path

from alerts.database import AlertsDatabase
from alerts.models import Alert
from alerts.noise import EventHistory, judge
from alerts.repositories.channels import ChannelLedger, Health
from alerts.repositories.outbox import (
    DIGESTED,
    FAILED,
    HELD,
    PENDING,
    SENDING,
    SENT,
    SILENCED,
    TO_SEND,
    AlertRepository,
    Delivery,
    DeliveryRepository,
    SilenceRecord,
)
from alerts.repositories.silences import SilenceRepository
from alerts.silences import HELD as HOLD_HELD
from alerts.silences import RELEASED, SUPERSEDED, Silence
from classifiers.types import Level
from config.delivery import RealertPolicy

__all__ = [
    "DIGESTED",
    "FAILED",
    "HELD",
    "PENDING",
    "SENDING",
    "SENT",
    "SILENCED",
    "TO_SEND",
    "Delivery",
    "Health",
    "Outbox",
    "SilenceRecord",
]


class Outbox:
    """`read_only` opens the file for reading alone (and creates nothing): for commands that only show.
    `url` names a PostgreSQL database instead of the file (by default YUQING_DB_URL does)."""

    def __init__(
        self,
        path: Path,
        *,
        realert: RealertPolicy | None = None,
        read_only: bool = False,
        url: str | None = None,
    ) -> None:
        self.path = path
        self.realert = realert or RealertPolicy()
        self.read_only = read_only
        self.database = AlertsDatabase(path, read_only=read_only, url=url)
        self._transaction = self.database.transaction
        self._alerts = AlertRepository(self.database)
        self._deliveries = DeliveryRepository(self.database)
        self._channels = ChannelLedger(self.database)
        self._silences = SilenceRepository(self.database)
        self._claimer: int | None = None  # this process's sender number while it sends on PostgreSQL

    def exclusive(self, timeout: float = 60.0) -> AbstractContextManager[None]:
        """Held by the one process that plans and sends (see `AlertsDatabase.exclusive`)."""
        return self.database.exclusive(timeout)

    @contextmanager
    def sending(self, timeout: float = 60.0) -> Iterator[None]:
        """Around a sending run. On the SQLite file it is the one sender's (`exclusive`); on PostgreSQL
        several may send at once, each taking deliveries by claiming them (`due`) and giving back at the
        end what it did not finish."""
        if self.database.dialect == "sqlite":
            with self.exclusive(timeout):
                yield
            return
        with self.database.sender_session() as number:
            self._claimer = number
            try:
                yield
            finally:
                self._claimer = None
                self._deliveries.release(number)

    def planning(self, timeout: float = 60.0) -> AbstractContextManager[None]:
        """Inside `sending`: planning and gathering digests, one process at a time."""
        return nullcontext() if self.database.dialect == "sqlite" else self.exclusive(timeout)

    # -- alerts ----------------------------------------------------------------------------------------

    def enqueue(self, alert: Alert) -> bool:
        """Persist an alert unless noise control holds it back; False when nothing new was raised.

        The same key twice is a no-op. For the pipeline's own alerts about an event, a lower or equal
        level for an event already alerted is held back unless the event grew enough since (then stored
        as a numbered re-alert, e.g. key `…@复杂敏感事件#2`). Other alerts (health, notices) and re-alerts
        already numbered are stored as they come.
        """
        if not alert.about_event or alert.realert:
            return self._alerts.insert(alert)
        with self._transaction():
            posts, reach = self._alerts.add_event_post(alert.event_id, alert.post_id, alert.reach)
            decision = judge(alert, self._history(alert.event_id, posts, reach), self.realert)
            if not decision.raise_alert:
                return False
            if decision.realert:
                top = self._top_level(alert.event_id) or alert.level
                alert = replace(
                    alert,
                    key=decision.key,
                    level=top,
                    realert=decision.realert,
                    reasons=[decision.reason, *alert.reasons],
                )
            return self._alerts.insert(alert, posts, reach)

    def merge_events(self, absorbed: Iterable[str], into: str, at: datetime) -> None:
        """The event stage found these events to be one (see `EventStage`): `into` takes their alerts, and a
        case opened under an absorbed id receives `into`'s later alerts."""
        others = [event for event in dict.fromkeys(absorbed) if event != into]
        if others:
            with self._transaction():
                self._alerts.merge_events(others, into, at)

    def merged_into(self, event_id: str) -> list[str]:
        """The events merged into this one, the earliest merged first."""
        return self._alerts.merged_into(event_id)

    def _top_level(self, event_id: str) -> Level | None:
        levels = self._alerts.levels_of_event(event_id)
        return max(levels, key=lambda level: level.rank) if levels else None

    def _history(self, event_id: str, posts: int, reach: int) -> EventHistory | None:
        top = self._top_level(event_id)
        if top is None:
            return None
        last_at, posts_then, reach_then = self._alerts.last_of_event(event_id)
        return EventHistory(
            top_level=top,
            last_alert_at=last_at,
            growth_realerts=self._alerts.growth_realerts(event_id, top),
            posts_then=posts_then,
            reach_then=reach_then,
            posts_now=posts,
            reach_now=reach,
        )

    def alert(self, key: str) -> Alert | None:
        return self._alerts.get(key)

    def alerts(self, *, since: datetime | None = None) -> list[Alert]:
        return self._alerts.since(since)

    def alerts_after(self, cursor: int | None) -> tuple[list[Alert], int]:
        """What was stored since `cursor`, and the new cursor (a live feed's position)."""
        return self._alerts.after(cursor)

    def unplanned(self) -> list[Alert]:
        return self._alerts.unplanned()

    # -- planning --------------------------------------------------------------------------------------

    def plan_alert(
        self,
        alert_key: str,
        routes: list[tuple[str, list[str]]],
        *,
        status: str,
        silenced_by: int | None = None,
        silence_state: str | None = None,
        silence_note: str | None = None,
        body: Alert | None = None,
    ) -> None:
        """All deliveries of one alert at once: (recipient, channel chain) pairs, one row per recipient;
        with what a silence made of it, and its text as told when that changed it, in the same
        transaction (so no sweep ever sees it planned but not yet marked held)."""
        with self._transaction():
            for recipient, chain in routes:
                self._deliveries.plan(alert_key, recipient, chain, status)
            if silenced_by is not None:
                self._alerts.mark_silenced(alert_key, silenced_by, silence_state or HOLD_HELD, silence_note)
            if body is not None:
                self._alerts.set_body(alert_key, body)

    # -- sending ---------------------------------------------------------------------------------------

    def due(self, now: float) -> list[Delivery]:
        """Deliveries to try now: waiting ones whose time has come, and any left `sending` (by a sender
        that died; while several send, a few at a time, claimed for this one)."""
        return self._deliveries.due(now, self._claimer)

    def waiting(self) -> list[tuple[str, float]]:
        """(idem key, when due) of every delivery still to be made; 0 is due now."""
        return self._deliveries.waiting(self._claimer)

    def next_due(self) -> float | None:
        return self._deliveries.next_due()

    def deliveries(self, alert_key: str | None = None) -> list[Delivery]:
        return self._deliveries.of_alert(alert_key)

    def start_sending(self, idem_key: str, channel: str, at: datetime) -> None:
        """Recorded before the channel is called: if the process dies now, the row is resent."""
        self._deliveries.start_sending(idem_key, channel, at)

    def sent(self, idem_key: str, channel: str, at: datetime) -> None:
        self._deliveries.sent(idem_key, channel, at)

    def failed(
        self, idem_key: str, *, error: str, tries: dict[str, int], next_attempt_at: float | None, at: datetime
    ) -> None:
        self._deliveries.failed(idem_key, error, tries, next_attempt_at, at)

    def defer(self, idem_key: str, until: float, note: str | None = None) -> None:
        """Not tried now (a rate window is full, or no channel can take it yet): due again at `until`."""
        self._deliveries.defer(idem_key, until, note)

    def due_now(self, channel: str) -> None:
        """Waiting deliveries last tried on `channel` become due at once (it died: they move on)."""
        self._deliveries.due_now(channel)

    def delivery_counts(self) -> dict[str, int]:
        return self._deliveries.counts()

    # -- digests ---------------------------------------------------------------------------------------

    def held(self) -> list[Delivery]:
        return self._deliveries.held()

    def add_digest(
        self,
        digest_key: str,
        recipient: str,
        chain: list[str],
        subject: str,
        body: str,
        members: list[str],
        at: datetime,
    ) -> None:
        """The digest's own delivery and its members' hand-over, in one transaction."""
        with self._transaction():
            self._deliveries.add_digest(digest_key, recipient, chain, subject, body, at)
            for idem in members:
                self._deliveries.hand_to_digest(idem, digest_key, at)

    def digest_exists(self, digest_key: str) -> bool:
        return self._deliveries.exists(digest_key)

    # -- channels: health and rate windows -------------------------------------------------------------

    def health(self, channel: str | None = None) -> list[Health]:
        return self._channels.health(channel)

    def channel_ok(self, channel: str, at: float) -> None:
        self._channels.ok(channel, at)

    def channel_failed(
        self, channel: str, at: float, error: str, dead_after: int, *, resume_at: float | None = None
    ) -> Health:
        """One more consecutive failure; the channel is dead from `dead_after` of them on."""
        with self._transaction():
            self._channels.failed(channel, at, error, dead_after, resume_at)
        return self.health(channel)[0]

    def record_send(self, channel: str, at: float) -> None:
        self._channels.record_send(channel, at)

    def sends_since(self, channel: str, since: float) -> list[float]:
        return self._channels.sends_since(channel, since)

    def forget_sends(self, before: float) -> None:
        self._channels.forget_sends(before)

    # -- silences --------------------------------------------------------------------------------------

    def add_silence(self, match: str, until: datetime, reason: str, created_by: str, at: datetime) -> Silence:
        return self._silences.add(match, until, reason, created_by, at)

    def lift_silence(self, silence_id: int, by: str, reason: str, at: datetime) -> Silence | None:
        """End a silence now, on record; None when there is no such silence or it already ended."""
        with self._transaction():
            silence = self.silence(silence_id)
            if silence is None or not silence.active(at):
                return None
            self._silences.lift(silence_id, by, reason, at)
        return self.silence(silence_id)

    def silence(self, silence_id: int) -> Silence | None:
        return next((s for s in self.silences() if s.id == silence_id), None)

    def silences(self, *, active_at: datetime | None = None) -> list[Silence]:
        return [s for s in self._silences.all() if active_at is None or s.active(active_at)]

    def silenced(self) -> list[tuple[Alert, int]]:
        """Alerts a silence holds back now, with the silence's id: kept, not sent, no case opened."""
        return [(r.alert, r.silence_id) for r in self.silence_records(HOLD_HELD)]

    def silence_records(self, *states: str) -> list[SilenceRecord]:
        """What silences did to alerts (only those in `states`, when given), oldest first."""
        return [r for r in self._alerts.silence_records() if not states or r.state in states]

    def untold(self) -> set[str]:
        """Keys of the alerts a silence kept from everyone (held, or superseded while held): no case is
        opened for them and no unit answers for them."""
        return self._alerts.untold()

    def planned_keys(self) -> set[str]:
        """Keys of the alerts the sender has planned (and so judged against the silences)."""
        return self._deliveries.planned_keys()

    def told_after(self, event_id: str, after: datetime) -> list[Level]:
        """Levels the event was told at by alerts raised after `after` (planned, not kept back)."""
        return self._alerts.told_after(event_id, after)

    def release(self, alert: Alert, *, status: str, note: str, at: datetime) -> None:
        """A held alert goes out after all, told as `alert` (its time and deadlines are the release's)."""
        with self._transaction():
            self._deliveries.release_silenced(alert.key, status, at)
            self._alerts.set_silence_state(alert.key, RELEASED, note, at, body=alert)

    def supersede(self, alert_key: str, *, note: str, at: datetime) -> None:
        """A held alert stays unsent once its silence ends: the event was told since at its level or above."""
        self._alerts.set_silence_state(alert_key, SUPERSEDED, note, at)

    def alerted_events(self) -> list[str]:
        """Event and post ids the pipeline raised alerts about, newest first (what a silence may name)."""
        return self._alerts.alerted_events()

    def close(self) -> None:
        self.database.close()
