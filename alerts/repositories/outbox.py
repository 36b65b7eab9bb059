"""Alerts and their deliveries: what was raised, the rows each (alert or digest, recipient) delivery
moves through, and what silences did to each alert."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Integer,
    Row,
    and_,
    case,
    cast,
    column,
    delete,
    func,
    literal_column,
    select,
    table,
    update,
)

from alerts.database import SENDER_CLASS, AlertsDatabase
from alerts.models import Alert, AlertKind
from alerts.repositories import upsert
from alerts.schema import alerts, deliveries, event_merges, event_posts
from alerts.silences import HELD as HOLD_HELD
from alerts.silences import SUPERSEDED
from classifiers.types import Level

# Delivery states. `held` waits for the digest, `digested` went out in one, `silenced` was held back.
PENDING, SENDING, FAILED, SENT = "pending", "sending", "failed", "sent"
HELD, DIGESTED, SILENCED = "held", "digested", "silenced"
TO_SEND = (PENDING, FAILED, SENDING)


def alert_to_json(alert: Alert) -> str:
    data = asdict(alert)
    data["level"] = alert.level.value
    data["kind"] = alert.kind.value
    data["created_at"] = alert.created_at.isoformat()
    return json.dumps(data, ensure_ascii=False)


def alert_from_json(body: str, kind: str | None = None, realert: int | None = None) -> Alert:
    """An alert from its stored text; its kind and re-alert number from their columns when given (the
    text of a row stored before those columns existed lacks the number)."""
    data = json.loads(body)
    data["level"] = Level(data["level"])
    data["created_at"] = datetime.fromisoformat(data["created_at"])
    if kind is not None:
        data["kind"] = AlertKind(kind)
    if realert is not None:
        data["realert"] = realert
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


def _of_event(event_id: str) -> ColumnElement[bool]:
    """The pipeline's alerts of an event, its growth re-alerts included (not the notices about its case,
    which carry its id too)."""
    a = alerts.c
    return and_(a.event_id == event_id, a.kind == AlertKind.EVENT.value)


# An alert in one of these states was never told, so it opens no case; NULL is a row held before
# states were recorded.
_NOT_TOLD = and_(
    alerts.c.silenced_by.is_not(None),
    func.coalesce(alerts.c.silence_state, HOLD_HELD).in_([HOLD_HELD, SUPERSEDED]),
)
_PLANNED = select(deliveries.c.alert_key)
# What an alert is read back from: its text, and its kind and re-alert number from their columns.
_ALERT = (alerts.c.body, alerts.c.kind, alerts.c.realert)
# Insertion order, which SQLite keeps as the row id.
_ALERT_ORDER = literal_column("alerts.rowid", Integer)
_DELIVERY_ORDER = literal_column("deliveries.rowid", Integer)


class AlertRepository:
    def __init__(self, database: AlertsDatabase) -> None:
        self.db = database

    def insert(self, alert: Alert, posts: int | None = None, reach: int | None = None) -> bool:
        """False when an alert of that key was stored already."""
        statement = upsert(self.db, alerts).values(
            key=alert.key,
            created_at=alert.created_at.isoformat(),
            level=alert.level.value,
            body=alert_to_json(alert),
            event_id=alert.event_id,
            kind=alert.kind.value,
            realert=alert.realert,
            event_posts=posts,
            event_reach=reach,
        )
        stored = statement.on_conflict_do_nothing().returning(alerts.c.key)
        return self.db.execute(stored).first() is not None

    def add_event_post(self, event_id: str, post_id: str, reach: int) -> tuple[int, int]:
        """Count a post into its event (its largest reach seen); the event's posts and total reach."""
        statement = upsert(self.db, event_posts).values(event_id=event_id, post_id=post_id, reach=reach)
        new = statement.excluded.reach
        self.db.execute(
            statement.on_conflict_do_update(
                index_elements=["event_id", "post_id"],
                set_={"reach": case((new > event_posts.c.reach, new), else_=event_posts.c.reach)},
            )
        )
        posts, total = self.db.execute(
            select(func.count(), func.coalesce(func.sum(event_posts.c.reach), 0)).where(
                event_posts.c.event_id == event_id
            )
        ).one()
        return posts, int(total)

    def merge_events(self, absorbed: list[str], into: str, at: datetime) -> None:
        """The absorbed events are part of `into` from now: their alerts and counted posts move to it (so
        noise control reads one history), and each is remembered as merged, with the events merged into it
        before, for the case already opened under its id."""
        a = alerts.c
        for key, body in self.db.execute(
            select(a.key, a.body).where(a.event_id.in_(absorbed), a.kind == AlertKind.EVENT.value)
        ).all():
            data = json.loads(body)
            data["event_id"] = into
            self.db.execute(
                update(alerts)
                .where(a.key == key)
                .values(event_id=into, body=json.dumps(data, ensure_ascii=False))
            )
        e = event_posts.c
        for post_id, reach in self.db.execute(
            select(e.post_id, e.reach).where(e.event_id.in_(absorbed))
        ).all():
            self.add_event_post(into, post_id, reach)
        self.db.execute(delete(event_posts).where(e.event_id.in_(absorbed)))
        m = event_merges.c
        self.db.execute(update(event_merges).where(m.into_event.in_(absorbed)).values(into_event=into))
        for event_id in absorbed:
            statement = upsert(self.db, event_merges).values(
                event_id=event_id, into_event=into, merged_at=at.isoformat()
            )
            self.db.execute(
                statement.on_conflict_do_update(
                    index_elements=["event_id"], set_={"into_event": into, "merged_at": at.isoformat()}
                )
            )

    def merged_into(self, event_id: str) -> list[str]:
        """The events merged into this one, the earliest merged first."""
        m = event_merges.c
        return list(
            self.db.execute(
                select(m.event_id).where(m.into_event == event_id).order_by(m.merged_at, m.event_id)
            ).scalars()
        )

    def levels_of_event(self, event_id: str) -> list[Level]:
        return [
            Level(v) for v in self.db.execute(select(alerts.c.level).where(_of_event(event_id))).scalars()
        ]

    def last_of_event(self, event_id: str) -> tuple[datetime, int, int]:
        """When the event's latest alert was raised, and the event's posts and reach then."""
        a = alerts.c
        at, posts, reach = self.db.execute(
            select(a.created_at, func.coalesce(a.event_posts, 1), func.coalesce(a.event_reach, 0))
            .where(_of_event(event_id))
            .order_by(a.created_at.desc(), _ALERT_ORDER.desc())
            .limit(1)
        ).one()
        return datetime.fromisoformat(at), posts, reach

    def growth_realerts(self, event_id: str, level: Level) -> int:
        a = alerts.c
        return self.db.execute(
            select(func.count()).where(_of_event(event_id), a.level == level.value, a.realert > 0)
        ).scalar_one()

    def get(self, key: str) -> Alert | None:
        row = self.db.execute(select(*_ALERT).where(alerts.c.key == key)).first()
        return alert_from_json(*row) if row else None

    def since(self, since: datetime | None) -> list[Alert]:
        rows = self.db.execute(
            select(*_ALERT)
            .where(alerts.c.created_at >= (since.isoformat() if since else ""))
            .order_by(alerts.c.created_at, alerts.c.key)
        )
        return [alert_from_json(*row) for row in rows]

    def after(self, cursor: int | None) -> tuple[list[Alert], int]:
        """The alerts stored after `cursor` (their insertion number; None: none, only the cursor now),
        in the order they were stored, and the cursor after them. Writers take turns, so the numbers
        come in the order the alerts were committed."""
        if cursor is None:
            newest = self.db.execute(
                select(func.coalesce(func.max(_ALERT_ORDER), 0)).select_from(alerts)
            ).scalar()
            return [], int(newest or 0)
        rows = self.db.execute(
            select(_ALERT_ORDER, *_ALERT).where(_ALERT_ORDER > cursor).order_by(_ALERT_ORDER)  # noqa: SIM300
        ).all()
        found = [alert_from_json(*row[1:]) for row in rows]
        return found, int(rows[-1][0]) if rows else cursor

    def unplanned(self) -> list[Alert]:
        rows = self.db.execute(
            select(*_ALERT).where(alerts.c.key.not_in(_PLANNED)).order_by(alerts.c.created_at, alerts.c.key)
        )
        return [alert_from_json(*row) for row in rows]

    def mark_silenced(self, key: str, silenced_by: int, state: str, note: str | None) -> None:
        self.db.execute(
            update(alerts)
            .where(alerts.c.key == key)
            .values(silenced_by=silenced_by, silence_state=state, silence_note=note)
        )

    def set_body(self, key: str, alert: Alert) -> None:
        self.db.execute(update(alerts).where(alerts.c.key == key).values(body=alert_to_json(alert)))

    def set_silence_state(
        self, key: str, state: str, note: str, at: datetime, body: Alert | None = None
    ) -> None:
        values: dict[str, Any] = {"silence_state": state, "silence_note": note, "silence_at": at.isoformat()}
        if body is not None:
            values["body"] = alert_to_json(body)
        self.db.execute(update(alerts).where(alerts.c.key == key).values(**values))

    def silence_records(self) -> list[SilenceRecord]:
        a = alerts.c
        rows = self.db.execute(
            select(
                *_ALERT,
                a.silenced_by,
                func.coalesce(a.silence_state, HOLD_HELD),
                func.coalesce(a.silence_note, ""),
                a.created_at,
                a.silence_at,
            )
            .where(a.silenced_by.is_not(None))
            .order_by(a.created_at, a.key)
        )
        return [
            SilenceRecord(
                alert_from_json(body, kind, realert),
                sid,
                state,
                note,
                datetime.fromisoformat(raised),
                datetime.fromisoformat(at) if at else None,
            )
            for body, kind, realert, sid, state, note, raised, at in rows
        ]

    def untold(self) -> set[str]:
        return set(self.db.execute(select(alerts.c.key).where(_NOT_TOLD)).scalars())

    def told_after(self, event_id: str, after: datetime) -> list[Level]:
        a = alerts.c
        rows = self.db.execute(
            select(a.level).where(
                _of_event(event_id), a.created_at > after.isoformat(), ~_NOT_TOLD, a.key.in_(_PLANNED)
            )
        )
        return [Level(level) for level in rows.scalars()]

    def alerted_events(self) -> list[str]:
        """Event and post ids of the pipeline's own alerts, newest first."""
        rows = self.db.execute(
            select(alerts.c.event_id, alerts.c.body)
            .where(alerts.c.kind == AlertKind.EVENT.value)
            .order_by(alerts.c.created_at.desc(), _ALERT_ORDER.desc())
        )
        names: list[str | None] = []
        for event_id, body in rows:
            names.extend([event_id, json.loads(body).get("post_id")])
        return list(dict.fromkeys(name for name in names if name))


def _delivery(row: Row[*tuple[Any, ...]]) -> Delivery:
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
        kind,
        realert,
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
        alert=alert_from_json(alert, kind, realert) if alert else None,
    )


_d = deliveries.c
_WITH_ALERT = select(
    _d.idem_key,
    _d.alert_key,
    _d.recipient,
    _d.chain,
    _d.status,
    _d.attempts,
    _d.tries,
    _d.via,
    _d.last_error,
    _d.next_attempt_at,
    _d.sent_at,
    _d.subject,
    _d.body,
    *_ALERT,
).select_from(deliveries.outerjoin(alerts, alerts.c.key == _d.alert_key))
_OPEN = _d.status.in_(TO_SEND)
# Claimed a few at a time, so senders running at once share the work.
CLAIM_BATCH = 4
_locks = table(
    "pg_locks", column("locktype"), column("classid"), column("objid"), column("objsubid"), column("granted")
)
# The senders alive now: each holds its number as an advisory lock (AlertsDatabase.sender_session).
_LIVE_SENDERS = select(cast(_locks.c.objid, BigInteger)).where(
    _locks.c.locktype == "advisory",
    cast(_locks.c.classid, BigInteger) == SENDER_CLASS,
    _locks.c.objsubid == 2,
    _locks.c.granted,
)


def _claimable(claimer: int) -> ColumnElement[bool]:
    """Unclaimed, claimed by `claimer`, or claimed by a sender whose session (and lock) is gone."""
    return _d.claimed_by.is_(None) | (_d.claimed_by == claimer) | _d.claimed_by.not_in(_LIVE_SENDERS)


class DeliveryRepository:
    def __init__(self, database: AlertsDatabase) -> None:
        self.db = database

    def plan(self, alert_key: str, recipient: str, chain: list[str], status: str) -> None:
        """One recipient's delivery of an alert; planned already, it stays as it is."""
        statement = upsert(self.db, deliveries).values(
            alert_key=alert_key,
            channel=chain[0],
            recipient=recipient,
            status=status,
            idem_key=f"{alert_key}|{recipient}",
            chain=json.dumps(chain, ensure_ascii=False),
        )
        self.db.execute(statement.on_conflict_do_nothing())

    def add_digest(
        self, digest_key: str, recipient: str, chain: list[str], subject: str, body: str, at: datetime
    ) -> None:
        self.db.execute(
            deliveries.insert().values(
                alert_key=digest_key,
                channel=chain[0],
                recipient=recipient,
                status=PENDING,
                idem_key=f"{digest_key}|{recipient}",
                chain=json.dumps(chain, ensure_ascii=False),
                subject=subject,
                body=body,
                updated_at=at.isoformat(),
            )
        )

    def hand_to_digest(self, idem_key: str, digest_key: str, at: datetime) -> None:
        self.db.execute(
            update(deliveries)
            .where(_d.idem_key == idem_key, _d.status == HELD)
            .values(status=DIGESTED, digest=digest_key, updated_at=at.isoformat())
        )

    def exists(self, alert_key: str) -> bool:
        return (
            self.db.execute(select(_d.alert_key).where(_d.alert_key == alert_key).limit(1)).first()
            is not None
        )

    def due(self, now: float, claimer: int | None = None) -> list[Delivery]:
        """Deliveries to try now. With `claimer` (several senders on PostgreSQL): at most CLAIM_BATCH of
        those no live sender claimed, claimed for it, locked while claimed so no other takes them too."""
        due = (_d.status == SENDING) | (
            _d.status.in_([PENDING, FAILED]) & (_d.next_attempt_at.is_(None) | (_d.next_attempt_at <= now))
        )
        order = (func.coalesce(alerts.c.created_at, _d.updated_at), _d.alert_key, _d.recipient)
        if claimer is None:
            return [_delivery(row) for row in self.db.execute(_WITH_ALERT.where(due).order_by(*order))]
        with self.db.transaction():
            keys = list(
                self.db.execute(
                    select(_d.idem_key)
                    .select_from(deliveries.outerjoin(alerts, alerts.c.key == _d.alert_key))
                    .where(due, _claimable(claimer))
                    .order_by(*order)
                    .limit(CLAIM_BATCH)
                    .with_for_update(of=deliveries, skip_locked=True)
                ).scalars()
            )
            if not keys:
                return []
            self.db.execute(update(deliveries).where(_d.idem_key.in_(keys)).values(claimed_by=claimer))
            rows = self.db.execute(_WITH_ALERT.where(_d.idem_key.in_(keys)).order_by(*order))
            return [_delivery(row) for row in rows]

    def waiting(self, claimer: int | None = None) -> list[tuple[str, float]]:
        query = select(_d.idem_key, func.coalesce(_d.next_attempt_at, 0)).where(_OPEN)
        if claimer is not None:
            query = query.where(_claimable(claimer))
        return [(key, at) for key, at in self.db.execute(query)]

    def release(self, claimer: int) -> None:
        """What a sender claimed and did not finish goes back to whoever sends next."""
        self.db.execute(update(deliveries).where(_d.claimed_by == claimer).values(claimed_by=None))

    def next_due(self) -> float | None:
        return self.db.execute(select(func.min(func.coalesce(_d.next_attempt_at, 0))).where(_OPEN)).scalar()

    def of_alert(self, alert_key: str | None) -> list[Delivery]:
        query = _WITH_ALERT if alert_key is None else _WITH_ALERT.where(_d.alert_key == alert_key)
        return [_delivery(row) for row in self.db.execute(query.order_by(_DELIVERY_ORDER))]

    def held(self) -> list[Delivery]:
        rows = self.db.execute(
            _WITH_ALERT.where(_d.status == HELD, alerts.c.key.is_not(None)).order_by(
                _d.recipient, alerts.c.created_at, alerts.c.key
            )
        )
        return [_delivery(row) for row in rows]

    def counts(self) -> dict[str, int]:
        return dict(self.db.execute(select(_d.status, func.count()).group_by(_d.status)).all())

    def planned_keys(self) -> set[str]:
        return set(self.db.execute(select(_d.alert_key).distinct()).scalars())

    def _set(self, idem_key: str, **values: Any) -> None:
        self.db.execute(update(deliveries).where(_d.idem_key == idem_key).values(**values))

    def start_sending(self, idem_key: str, channel: str, at: datetime) -> None:
        self._set(idem_key, status=SENDING, via=channel, attempts=_d.attempts + 1, updated_at=at.isoformat())

    def sent(self, idem_key: str, channel: str, at: datetime) -> None:
        stamp = at.isoformat()
        self._set(
            idem_key,
            status=SENT,
            via=channel,
            sent_at=stamp,
            updated_at=stamp,
            next_attempt_at=None,
            claimed_by=None,
        )

    def failed(
        self, idem_key: str, error: str, tries: dict[str, int], next_attempt_at: float | None, at: datetime
    ) -> None:
        self._set(
            idem_key,
            status=FAILED,
            last_error=error,
            tries=json.dumps(tries, ensure_ascii=False),
            next_attempt_at=next_attempt_at,
            updated_at=at.isoformat(),
        )

    def defer(self, idem_key: str, until: float, note: str | None) -> None:
        self._set(
            idem_key,
            next_attempt_at=until,
            last_error=func.coalesce(note, _d.last_error),
            status=case((_d.status == SENDING, PENDING), else_=_d.status),
        )

    def due_now(self, channel: str) -> None:
        self.db.execute(
            update(deliveries)
            .where(_d.via == channel, _d.status.in_([PENDING, FAILED]))
            .values(next_attempt_at=None)
        )

    def release_silenced(self, alert_key: str, status: str, at: datetime) -> None:
        self.db.execute(
            update(deliveries)
            .where(_d.alert_key == alert_key, _d.status == SILENCED)
            .values(status=status, next_attempt_at=None, updated_at=at.isoformat())
        )
