"""The durable outbox: an alert is written here before anyone is told, and each delivery is recorded.

SQLite in WAL mode. One row per alert (its key is unique, so raising it twice is a no-op) and one row per
(alert, recipient) delivery with its own idempotency key: marked `sending` before a channel is called and
`sent` after it acknowledged, so a restarted sender resends what was not acknowledged and never what was.
The same file keeps channel health, the send times rate windows are counted on, and silences with
what each did to each alert it concerned (held, released, superseded, or overridden for its level).
"""

from __future__ import annotations

import json
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from alerts.database import AlertsDatabase
from alerts.models import Alert
from alerts.noise import EventHistory, is_event_alert, judge
from alerts.silences import HELD as HOLD_HELD
from alerts.silences import RELEASED, SUPERSEDED, Silence
from classifiers.types import Level
from config.delivery import RealertPolicy

# Delivery states. `held` waits for the digest, `digested` went out in one, `silenced` was held back.
PENDING, SENDING, FAILED, SENT = "pending", "sending", "failed", "sent"
HELD, DIGESTED, SILENCED = "held", "digested", "silenced"
TO_SEND = (PENDING, FAILED, SENDING)


def _alert_to_json(alert: Alert) -> str:
    data = asdict(alert)
    data["level"] = alert.level.value
    data["created_at"] = alert.created_at.isoformat()
    return json.dumps(data, ensure_ascii=False)


def _alert_from_json(body: str) -> Alert:
    data = json.loads(body)
    data["level"] = Level(data["level"])
    data["created_at"] = datetime.fromisoformat(data["created_at"])
    return Alert(**data)


@dataclass(slots=True)
class Delivery:
    """One (alert or digest, recipient) delivery as the dispatcher works on it."""

    idem_key: str
    alert_key: str
    recipient: str
    chain: list[str]
    status: str
    attempts: int
    tries: dict[str, int] = field(default_factory=dict)
    via: str | None = None
    last_error: str | None = None
    next_attempt_at: float | None = None
    sent_at: str | None = None
    subject: str | None = None
    body: str | None = None
    alert: Alert | None = None


@dataclass(frozen=True, slots=True)
class SilenceRecord:
    """What a silence did to one alert: held it, released it when it ended, found it superseded by a
    later alert of the event, or let it through because of its level."""

    alert: Alert
    silence_id: int
    state: str
    note: str
    raised_at: datetime
    at: datetime | None  # released or superseded then


# An alert in one of these states was never told, so it opens no case; NULL is a row held before
# states were recorded.
_NOT_TOLD = (
    f"silenced_by IS NOT NULL AND COALESCE(silence_state, '{HOLD_HELD}') IN ('{HOLD_HELD}', '{SUPERSEDED}')"
)


@dataclass(frozen=True, slots=True)
class Health:
    channel: str
    failures: int  # consecutive
    last_error: str | None
    last_failure_at: float | None
    last_success_at: float | None
    dead_since: float | None
    resume_at: float | None  # the platform holds the channel back until then (e.g. DingTalk's 10 minutes)


_DELIVERY_COLUMNS = (
    "d.idem_key, d.alert_key, d.recipient, d.chain, d.status, d.attempts, d.tries, d.via, d.last_error, "
    "d.next_attempt_at, d.sent_at, d.subject, d.body, a.body"
)


def _delivery(row: tuple[Any, ...]) -> Delivery:
    (
        idem,
        alert_key,
        recipient,
        chain,
        status,
        attempts,
        tries,
        via,
        error,
        due,
        sent_at,
        subject,
        body,
        alert,
    ) = row
    return Delivery(
        idem_key=idem,
        alert_key=alert_key,
        recipient=recipient,
        chain=json.loads(chain),
        status=status,
        attempts=attempts,
        tries=json.loads(tries) if tries else {},
        via=via,
        last_error=error,
        next_attempt_at=due,
        sent_at=sent_at,
        subject=subject,
        body=body,
        alert=_alert_from_json(alert) if alert else None,
    )


class Outbox:
    """`read_only` opens the file for reading alone (and creates nothing): for commands that only show."""

    def __init__(self, path: Path, *, realert: RealertPolicy | None = None, read_only: bool = False) -> None:
        self.path = path
        self.realert = realert or RealertPolicy()
        self.read_only = read_only
        self.database = AlertsDatabase(path, read_only=read_only)
        self._sql = self.database.sql
        self._transaction = self.database.transaction

    def exclusive(self, timeout: float = 60.0) -> AbstractContextManager[None]:
        """Held by the one process that sends (see `AlertsDatabase.exclusive`)."""
        return self.database.exclusive(timeout)

    # -- alerts ----------------------------------------------------------------------------------------

    def enqueue(self, alert: Alert) -> bool:
        """Persist an alert unless noise control holds it back; False when nothing new was raised.

        The same key twice is a no-op. For the pipeline's own alerts (key `<event>@<level>`), a lower or
        equal level for an event already alerted is held back unless the event grew enough since (then
        stored under a numbered key, e.g. `…@复杂敏感事件#2`). Other alerts (health, notices) are stored as
        they come.
        """
        if not is_event_alert(alert) or "#" in alert.key:
            return self._insert(alert, None, None)
        with self._transaction():
            self._sql(
                "INSERT INTO event_posts (event_id, post_id, reach) VALUES (?, ?, ?) "
                "ON CONFLICT (event_id, post_id) DO UPDATE SET reach = max(reach, excluded.reach)",
                (alert.event_id, alert.post_id, alert.reach),
            )
            posts, reach = self._sql(
                "SELECT COUNT(*), COALESCE(SUM(reach), 0) FROM event_posts WHERE event_id = ?",
                (alert.event_id,),
            ).fetchone()
            decision = judge(alert, self._history(alert.event_id, posts, reach), self.realert)
            if not decision.raise_alert:
                return False
            if decision.key != alert.key:
                top = self._top_level(alert.event_id) or alert.level
                alert = replace(alert, key=decision.key, level=top, reasons=[decision.reason, *alert.reasons])
            return self._insert(alert, posts, reach)

    def _insert(self, alert: Alert, posts: int | None, reach: int | None) -> bool:
        cursor = self._sql(
            "INSERT OR IGNORE INTO alerts (key, created_at, level, body, event_id, event_posts, event_reach) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                alert.key,
                alert.created_at.isoformat(),
                alert.level.value,
                _alert_to_json(alert),
                alert.event_id,
                posts,
                reach,
            ),
        )
        return cursor.rowcount == 1

    # The pipeline's alerts of an event: `<event>@<level>` and its growth re-alerts `<event>@<level>#n`.
    _OF_EVENT = "event_id = ? AND substr(key, 1, length(event_id) + 1) = event_id || '@'"

    def _top_level(self, event_id: str) -> Level | None:
        rows = self._sql(f"SELECT level FROM alerts WHERE {self._OF_EVENT}", (event_id,))
        levels = [Level(v) for (v,) in rows]
        return max(levels, key=lambda level: level.rank) if levels else None

    def _history(self, event_id: str, posts: int, reach: int) -> EventHistory | None:
        top = self._top_level(event_id)
        if top is None:
            return None
        last_at, posts_then, reach_then = self._sql(
            "SELECT created_at, COALESCE(event_posts, 1), COALESCE(event_reach, 0) FROM alerts "
            f"WHERE {self._OF_EVENT} ORDER BY created_at DESC, rowid DESC LIMIT 1",
            (event_id,),
        ).fetchone()
        (realerts,) = self._sql(
            f"SELECT COUNT(*) FROM alerts WHERE {self._OF_EVENT} AND level = ? AND instr(key, '#') > 0",
            (event_id, top.value),
        ).fetchone()
        return EventHistory(
            top_level=top,
            last_alert_at=datetime.fromisoformat(last_at),
            growth_realerts=realerts,
            posts_then=posts_then,
            reach_then=reach_then,
            posts_now=posts,
            reach_now=reach,
        )

    def alert(self, key: str) -> Alert | None:
        row = self._sql("SELECT body FROM alerts WHERE key = ?", (key,)).fetchone()
        return _alert_from_json(row[0]) if row else None

    def alerts(self, *, since: datetime | None = None) -> list[Alert]:
        rows = self._sql(
            "SELECT body FROM alerts WHERE created_at >= ? ORDER BY created_at, key",
            ((since.isoformat() if since else ""),),
        )
        return [_alert_from_json(body) for (body,) in rows]

    def unplanned(self) -> list[Alert]:
        rows = self._sql(
            "SELECT body FROM alerts WHERE key NOT IN (SELECT alert_key FROM deliveries) ORDER BY created_at, key"
        )
        return [_alert_from_json(body) for (body,) in rows]

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
                self._sql(
                    "INSERT OR IGNORE INTO deliveries (alert_key, channel, recipient, status, idem_key, chain) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    (
                        alert_key,
                        chain[0],
                        recipient,
                        status,
                        f"{alert_key}|{recipient}",
                        json.dumps(chain, ensure_ascii=False),
                    ),
                )
            if silenced_by is not None:
                self._sql(
                    "UPDATE alerts SET silenced_by = ?, silence_state = ?, silence_note = ? WHERE key = ?",
                    (silenced_by, silence_state or HOLD_HELD, silence_note, alert_key),
                )
            if body is not None:
                self._sql("UPDATE alerts SET body = ? WHERE key = ?", (_alert_to_json(body), alert_key))

    # -- sending ---------------------------------------------------------------------------------------

    def due(self, now: float) -> list[Delivery]:
        """Deliveries to try now: waiting ones whose time has come, and any left `sending`."""
        rows = self._sql(
            f"SELECT {_DELIVERY_COLUMNS} FROM deliveries d LEFT JOIN alerts a ON a.key = d.alert_key "
            "WHERE d.status = 'sending' OR (d.status IN ('pending', 'failed') "
            "AND (d.next_attempt_at IS NULL OR d.next_attempt_at <= ?)) "
            "ORDER BY COALESCE(a.created_at, d.updated_at), d.alert_key, d.recipient",
            (now,),
        )
        return [_delivery(row) for row in rows]

    def waiting(self) -> list[tuple[str, float]]:
        """(idem key, when due) of every delivery still to be made; 0 is due now."""
        rows = self._sql(
            "SELECT idem_key, COALESCE(next_attempt_at, 0) FROM deliveries "
            "WHERE status IN ('pending', 'failed', 'sending')"
        )
        return [(key, at) for key, at in rows]

    def next_due(self) -> float | None:
        (at,) = self._sql(
            "SELECT MIN(COALESCE(next_attempt_at, 0)) FROM deliveries WHERE status IN ('pending', 'failed', 'sending')"
        ).fetchone()
        return at

    def deliveries(self, alert_key: str | None = None) -> list[Delivery]:
        rows = self._sql(
            f"SELECT {_DELIVERY_COLUMNS} FROM deliveries d LEFT JOIN alerts a ON a.key = d.alert_key "
            "WHERE ? IS NULL OR d.alert_key = ? ORDER BY d.rowid",
            (alert_key, alert_key),
        )
        return [_delivery(row) for row in rows]

    def start_sending(self, idem_key: str, channel: str, at: datetime) -> None:
        """Recorded before the channel is called: if the process dies now, the row is resent."""
        self._sql(
            "UPDATE deliveries SET status = 'sending', via = ?, attempts = attempts + 1, updated_at = ? "
            "WHERE idem_key = ?",
            (channel, at.isoformat(), idem_key),
        )

    def sent(self, idem_key: str, channel: str, at: datetime) -> None:
        self._sql(
            "UPDATE deliveries SET status = 'sent', via = ?, sent_at = ?, updated_at = ?, next_attempt_at = NULL "
            "WHERE idem_key = ?",
            (channel, at.isoformat(), at.isoformat(), idem_key),
        )

    def failed(
        self, idem_key: str, *, error: str, tries: dict[str, int], next_attempt_at: float | None, at: datetime
    ) -> None:
        self._sql(
            "UPDATE deliveries SET status = 'failed', last_error = ?, tries = ?, next_attempt_at = ?, updated_at = ? "
            "WHERE idem_key = ?",
            (error, json.dumps(tries, ensure_ascii=False), next_attempt_at, at.isoformat(), idem_key),
        )

    def defer(self, idem_key: str, until: float, note: str | None = None) -> None:
        """Not tried now (a rate window is full, or no channel can take it yet): due again at `until`."""
        self._sql(
            "UPDATE deliveries SET next_attempt_at = ?, last_error = COALESCE(?, last_error), "
            "status = CASE status WHEN 'sending' THEN 'pending' ELSE status END WHERE idem_key = ?",
            (until, note, idem_key),
        )

    def due_now(self, channel: str) -> None:
        """Waiting deliveries last tried on `channel` become due at once (it died: they move on)."""
        self._sql(
            "UPDATE deliveries SET next_attempt_at = NULL WHERE via = ? AND status IN ('pending', 'failed')",
            (channel,),
        )

    def delivery_counts(self) -> dict[str, int]:
        return dict(self._sql("SELECT status, COUNT(*) FROM deliveries GROUP BY status").fetchall())

    # -- digests ---------------------------------------------------------------------------------------

    def held(self) -> list[Delivery]:
        rows = self._sql(
            f"SELECT {_DELIVERY_COLUMNS} FROM deliveries d JOIN alerts a ON a.key = d.alert_key "
            "WHERE d.status = 'held' ORDER BY d.recipient, a.created_at, a.key"
        )
        return [_delivery(row) for row in rows]

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
            self._sql(
                "INSERT INTO deliveries (alert_key, channel, recipient, status, idem_key, chain, subject, body, "
                "updated_at) VALUES (?, ?, ?, 'pending', ?, ?, ?, ?, ?)",
                (
                    digest_key,
                    chain[0],
                    recipient,
                    f"{digest_key}|{recipient}",
                    json.dumps(chain, ensure_ascii=False),
                    subject,
                    body,
                    at.isoformat(),
                ),
            )
            for idem in members:
                self._sql(
                    "UPDATE deliveries SET status = 'digested', digest = ?, updated_at = ? "
                    "WHERE idem_key = ? AND status = 'held'",
                    (digest_key, at.isoformat(), idem),
                )

    def digest_exists(self, digest_key: str) -> bool:
        return self._sql("SELECT 1 FROM deliveries WHERE alert_key = ?", (digest_key,)).fetchone() is not None

    # -- channels: health and rate windows -------------------------------------------------------------

    def health(self, channel: str | None = None) -> list[Health]:
        rows = self._sql(
            "SELECT channel, failures, last_error, last_failure_at, last_success_at, dead_since, resume_at "
            "FROM channel_health "
            "WHERE ? IS NULL OR channel = ? ORDER BY channel",
            (channel, channel),
        )
        return [Health(*row) for row in rows]

    def channel_ok(self, channel: str, at: float) -> None:
        self._sql(
            "INSERT INTO channel_health (channel, failures, last_success_at) VALUES (?, 0, ?) "
            "ON CONFLICT (channel) DO UPDATE SET failures = 0, last_success_at = excluded.last_success_at, "
            "dead_since = NULL, resume_at = NULL",
            (channel, at),
        )

    def channel_failed(
        self, channel: str, at: float, error: str, dead_after: int, *, resume_at: float | None = None
    ) -> Health:
        """One more consecutive failure; the channel is dead from `dead_after` of them on."""
        with self._transaction():
            self._sql(
                "INSERT INTO channel_health (channel, failures, last_error, last_failure_at, resume_at) "
                "VALUES (?, 1, ?, ?, ?) "
                "ON CONFLICT (channel) DO UPDATE SET failures = failures + 1, last_error = excluded.last_error, "
                "last_failure_at = excluded.last_failure_at, resume_at = excluded.resume_at",
                (channel, error, at, resume_at),
            )
            self._sql(
                "UPDATE channel_health SET dead_since = ? WHERE channel = ? AND failures >= ?",
                (at, channel, dead_after),
            )
        return self.health(channel)[0]

    def record_send(self, channel: str, at: float) -> None:
        self._sql("INSERT INTO channel_sends (channel, at) VALUES (?, ?)", (channel, at))

    def sends_since(self, channel: str, since: float) -> list[float]:
        rows = self._sql("SELECT at FROM channel_sends WHERE channel = ? AND at > ?", (channel, since))
        return [at for (at,) in rows]

    def forget_sends(self, before: float) -> None:
        self._sql("DELETE FROM channel_sends WHERE at < ?", (before,))

    # -- silences --------------------------------------------------------------------------------------

    def add_silence(self, match: str, until: datetime, reason: str, created_by: str, at: datetime) -> Silence:
        cursor = self._sql(
            "INSERT INTO silences (match, until, reason, created_by, created_at) VALUES (?, ?, ?, ?, ?)",
            (match, until.isoformat(), reason, created_by, at.isoformat()),
        )
        return Silence(cursor.lastrowid or 0, match, until, reason, created_by, at)

    def lift_silence(self, silence_id: int, by: str, reason: str, at: datetime) -> Silence | None:
        """End a silence now, on record; None when there is no such silence or it already ended."""
        with self._transaction():
            silence = self.silence(silence_id)
            if silence is None or not silence.active(at):
                return None
            self._sql(
                "UPDATE silences SET lifted_at = ?, lifted_by = ?, lift_reason = ? WHERE id = ?",
                (at.isoformat(), by, reason, silence_id),
            )
        return self.silence(silence_id)

    def silence(self, silence_id: int) -> Silence | None:
        return next((s for s in self.silences() if s.id == silence_id), None)

    def silences(self, *, active_at: datetime | None = None) -> list[Silence]:
        rows = self._sql(
            "SELECT id, match, until, reason, created_by, created_at, lifted_at, lifted_by, lift_reason "
            "FROM silences ORDER BY id"
        )
        found = [
            Silence(
                sid,
                match,
                datetime.fromisoformat(until),
                reason,
                by,
                datetime.fromisoformat(at),
                datetime.fromisoformat(lifted_at) if lifted_at else None,
                lifted_by,
                lift_reason,
            )
            for sid, match, until, reason, by, at, lifted_at, lifted_by, lift_reason in rows
        ]
        return [s for s in found if active_at is None or s.active(active_at)]

    def silenced(self) -> list[tuple[Alert, int]]:
        """Alerts a silence holds back now, with the silence's id: kept, not sent, no case opened."""
        return [(r.alert, r.silence_id) for r in self.silence_records(HOLD_HELD)]

    def silence_records(self, *states: str) -> list[SilenceRecord]:
        """What silences did to alerts (only those in `states`, when given), oldest first."""
        rows = self._sql(
            f"SELECT body, silenced_by, COALESCE(silence_state, '{HOLD_HELD}'), COALESCE(silence_note, ''), "
            "created_at, silence_at FROM alerts WHERE silenced_by IS NOT NULL ORDER BY created_at, key"
        )
        records = [
            SilenceRecord(
                _alert_from_json(body),
                sid,
                state,
                note,
                datetime.fromisoformat(raised),
                datetime.fromisoformat(at) if at else None,
            )
            for body, sid, state, note, raised, at in rows
        ]
        return [r for r in records if not states or r.state in states]

    def untold(self) -> set[str]:
        """Keys of the alerts a silence kept from everyone (held, or superseded while held): no case is
        opened for them and no unit answers for them."""
        return {key for (key,) in self._sql(f"SELECT key FROM alerts WHERE {_NOT_TOLD}")}

    def planned_keys(self) -> set[str]:
        """Keys of the alerts the sender has planned (and so judged against the silences)."""
        return {key for (key,) in self._sql("SELECT DISTINCT alert_key FROM deliveries")}

    def told_after(self, event_id: str, after: datetime) -> list[Level]:
        """Levels the event was told at by alerts raised after `after` (planned, not kept back)."""
        rows = self._sql(
            f"SELECT level FROM alerts WHERE {self._OF_EVENT} AND created_at > ? AND NOT ({_NOT_TOLD}) "
            "AND key IN (SELECT alert_key FROM deliveries)",
            (event_id, after.isoformat()),
        )
        return [Level(level) for (level,) in rows]

    def release(self, alert: Alert, *, status: str, note: str, at: datetime) -> None:
        """A held alert goes out after all, told as `alert` (its time and deadlines are the release's)."""
        with self._transaction():
            self._sql(
                "UPDATE deliveries SET status = ?, next_attempt_at = NULL, updated_at = ? "
                "WHERE alert_key = ? AND status = 'silenced'",
                (status, at.isoformat(), alert.key),
            )
            self._sql(
                "UPDATE alerts SET silence_state = ?, silence_note = ?, silence_at = ?, body = ? WHERE key = ?",
                (RELEASED, note, at.isoformat(), _alert_to_json(alert), alert.key),
            )

    def supersede(self, alert_key: str, *, note: str, at: datetime) -> None:
        """A held alert stays unsent once its silence ends: the event was told since at its level or above."""
        self._sql(
            "UPDATE alerts SET silence_state = ?, silence_note = ?, silence_at = ? WHERE key = ?",
            (SUPERSEDED, note, at.isoformat(), alert_key),
        )

    def alerted_events(self) -> list[str]:
        """Event and post ids the pipeline raised alerts about, newest first (what a silence may name)."""
        rows = self._sql(
            "SELECT event_id, json_extract(body, '$.post_id') FROM alerts "
            "WHERE json_extract(body, '$.kind') = 'post' ORDER BY created_at DESC, rowid DESC"
        )
        return list(dict.fromkeys(name for row in rows for name in row if name))

    def close(self) -> None:
        self.database.close()
