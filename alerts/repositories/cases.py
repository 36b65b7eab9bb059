"""Cases: one per event, the alerts it gathers, its history, deadlines, lapses, extension requests and
the notices raised about it. Takes and gives the case model's records (alerts/cases.py); times are stored
as UTC text, lists and the baseline as JSON."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from enum import Enum
from typing import Any

from sqlalchemy import Executable, RowMapping, Table, select, update

from alerts.calendar import SHANGHAI
from alerts.cases import Case, Deadline, DeadlineKind, Extension, HistoryEntry, Lapse, State
from alerts.database import AlertsDatabase
from alerts.repositories import upsert
from alerts.schema import (
    case_alerts,
    case_deadlines,
    case_extensions,
    case_history,
    case_lapses,
    case_notices,
    cases,
)
from classifiers.types import Level


def stamp(moment: datetime) -> str:
    """A time as stored: UTC with a fixed shape, so the text sorts and compares in time order."""
    if moment.tzinfo is None:
        raise ValueError(f"a time without a time zone: {moment}")
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(SHANGHAI)


def _maybe_time(text: str | None) -> datetime | None:
    return _time(text) if text else None


def _column(value: object) -> object:
    """A value as its column holds it."""
    if isinstance(value, datetime):
        return stamp(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return value


def _columns(values: Mapping[str, object]) -> dict[str, object]:
    return {name: _column(value) for name, value in values.items()}


def _case(row: RowMapping) -> Case:
    return Case(
        id=row["id"],
        alert_key=row["alert_key"],
        post_id=row["post_id"],
        level=Level(row["level"]),
        title=row["title"],
        url=row["url"],
        source=row["source"],
        counties=json.loads(row["counties"]),
        first=json.loads(row["first_units"]),
        claim=json.loads(row["claim_units"]),
        opened_at=_time(row["opened_at"]),
        state=State(row["state"]),
        prev_state=State(row["prev_state"]) if row["prev_state"] else None,
        round=row["round"],
        round_started_at=_time(row["round_started_at"]),
        owner=row["owner"],
        assigned=row["assigned"],
        updated_at=_time(row["updated_at"]),
        watch_from=_maybe_time(row["watch_from"]),
        baseline=json.loads(row["baseline"]),
    )


def _deadline(row: RowMapping) -> Deadline:
    return Deadline(
        id=row["id"],
        case_id=row["case_id"],
        round=row["round"],
        kind=DeadlineKind(row["kind"]),
        due_at=_time(row["due_at"]),
        original_due_at=_time(row["original_due_at"]),
        status=row["status"],
        units=json.loads(row["units"]),
        met_at=_maybe_time(row["met_at"]),
        met_unit=row["met_unit"],
    )


def _history(row: RowMapping) -> HistoryEntry:
    return HistoryEntry(
        case_id=row["case_id"],
        at=_time(row["at"]),
        action=row["action"],
        from_state=State(row["from_state"]) if row["from_state"] else None,
        to_state=State(row["to_state"]),
        actor=row["actor"],
        unit=row["unit"],
        note=row["note"],
    )


def _lapse(row: RowMapping) -> Lapse:
    return Lapse(
        case_id=row["case_id"],
        deadline_id=row["deadline_id"],
        kind=DeadlineKind(row["kind"]),
        due_at=_time(row["due_at"]),
        lapsed_at=_time(row["lapsed_at"]),
        units=json.loads(row["units"]),
    )


def _extension(row: RowMapping) -> Extension:
    return Extension(
        id=row["id"],
        case_id=row["case_id"],
        deadline_id=row["deadline_id"],
        unit=row["unit"],
        requested_by=row["requested_by"],
        requested_at=_time(row["requested_at"]),
        until=_time(row["until"]),
        reason=row["reason"],
        status=row["status"],
        decided_by=row["decided_by"],
        decided_at=_maybe_time(row["decided_at"]),
    )


class CaseRepository:
    def __init__(self, database: AlertsDatabase) -> None:
        self.db = database

    def _rows(self, query: Executable) -> list[RowMapping]:
        return list(self.db.execute(query).mappings())

    def _set(self, table: Table, key: object, values: Mapping[str, object]) -> int:
        statement = update(table).where(table.c.id == key).values(_columns(values))
        return self.db.execute(statement).rowcount

    # -- cases and their alerts --------------------------------------------------------------------

    def get(self, case_id: str) -> Case | None:
        row = self.db.execute(select(cases).where(cases.c.id == case_id)).mappings().first()
        return _case(row) if row else None

    def ids(self) -> list[str]:
        return list(self.db.execute(select(cases.c.id)).scalars())

    def opened(self, start: datetime | None = None, end: datetime | None = None) -> list[Case]:
        """Cases opened in [start, end), every one when neither is given."""
        c = cases.c
        query = select(cases).order_by(c.opened_at, c.id)
        if start is not None:
            query = query.where(c.opened_at >= stamp(start))
        if end is not None:
            query = query.where(c.opened_at < stamp(end))
        return [_case(row) for row in self._rows(query)]

    def in_states(self, states: Iterable[State]) -> list[Case]:
        query = select(cases).where(cases.c.state.in_([s.value for s in states]))
        return [_case(row) for row in self._rows(query)]

    def open_case(self, case: Case) -> None:
        self.db.execute(
            cases.insert().values(
                _columns(
                    {
                        "id": case.id,
                        "alert_key": case.alert_key,
                        "post_id": case.post_id,
                        "level": case.level,
                        "title": case.title,
                        "url": case.url,
                        "source": case.source,
                        "counties": case.counties,
                        "first_units": case.first,
                        "claim_units": case.claim,
                        "opened_at": case.opened_at,
                        "state": case.state,
                        "prev_state": case.prev_state,
                        "round": case.round,
                        "round_started_at": case.round_started_at,
                        "owner": case.owner,
                        "assigned": case.assigned,
                        "updated_at": case.updated_at,
                        "watch_from": case.watch_from,
                        "baseline": case.baseline,
                    }
                )
            )
        )

    def set_case(self, case_id: str, **values: Any) -> None:
        """Columns of a case by name; times, states, lists and the baseline as the model holds them."""
        self._set(cases, case_id, values)

    def case_of_alert(self, alert_key: str) -> str | None:
        found: str | None = self.db.execute(
            select(case_alerts.c.case_id).where(case_alerts.c.alert_key == alert_key)
        ).scalar()
        return found

    def alert_keys(self, case_id: str | None = None) -> list[tuple[str, str]]:
        """(case id, alert key) of every alert gathered into a case (into `case_id`, when given)."""
        query = select(case_alerts.c.case_id, case_alerts.c.alert_key)
        if case_id is not None:
            query = query.where(case_alerts.c.case_id == case_id)
        return [(row.case_id, row.alert_key) for row in self.db.execute(query)]

    def add_alert(self, alert_key: str, case_id: str, level: Level, created_at: datetime) -> None:
        self.db.execute(
            case_alerts.insert().values(
                alert_key=alert_key, case_id=case_id, level=level.value, created_at=stamp(created_at)
            )
        )

    # -- history ------------------------------------------------------------------------------------

    def add_history(
        self,
        case_id: str,
        at: datetime,
        action: str,
        from_state: State | None,
        to_state: State,
        actor: str,
        unit: str | None = None,
        note: str = "",
    ) -> None:
        self.db.execute(
            case_history.insert().values(
                case_id=case_id,
                at=stamp(at),
                action=action,
                from_state=from_state.value if from_state else None,
                to_state=to_state.value,
                actor=actor,
                unit=unit,
                note=note,
            )
        )

    def history(self, case_id: str) -> list[HistoryEntry]:
        h = case_history.c
        return [
            _history(r) for r in self._rows(select(case_history).where(h.case_id == case_id).order_by(h.id))
        ]

    # -- deadlines and lapses ------------------------------------------------------------------------

    def deadlines(self, case_id: str | None = None, status: str | None = None) -> list[Deadline]:
        d = case_deadlines.c
        query = select(case_deadlines).order_by(d.due_at, d.id)
        if case_id is not None:
            query = query.where(d.case_id == case_id)
        if status is not None:
            query = query.where(d.status == status)
        return [_deadline(r) for r in self._rows(query)]

    def add_deadline(
        self, case_id: str, round_: int, kind: DeadlineKind, due: datetime, units: list[str]
    ) -> None:
        self.db.execute(
            case_deadlines.insert().values(
                case_id=case_id,
                round=round_,
                kind=kind.value,
                due_at=stamp(due),
                original_due_at=stamp(due),
                units=_column(units),
            )
        )

    def set_deadline(self, deadline_id: int, **values: Any) -> None:
        """Columns of a deadline by name (status, due_at, units, met_at, met_unit)."""
        self._set(case_deadlines, deadline_id, values)

    def lapse_if_open(self, deadline: Deadline) -> bool:
        """Mark an open deadline lapsed unless someone did first or it moved; True when this call did."""
        d = case_deadlines.c
        statement = (
            update(case_deadlines)
            .where(d.id == deadline.id, d.status == "open", d.due_at == stamp(deadline.due_at))
            .values(status="lapsed")
        )
        return self.db.execute(statement).rowcount > 0

    def add_lapse(self, deadline: Deadline, lapsed_at: datetime) -> None:
        """A lapse on record, once per deadline and due time."""
        statement = upsert(self.db, case_lapses).values(
            deadline_id=deadline.id,
            due_at=stamp(deadline.due_at),
            case_id=deadline.case_id,
            kind=deadline.kind.value,
            lapsed_at=stamp(lapsed_at),
            units=_column(deadline.units),
        )
        self.db.execute(statement.on_conflict_do_nothing())

    def lapses(self, case_id: str | None = None) -> list[Lapse]:
        query = select(case_lapses).order_by(case_lapses.c.lapsed_at)
        if case_id:
            query = query.where(case_lapses.c.case_id == case_id)
        return [_lapse(r) for r in self._rows(query)]

    # -- extension requests ---------------------------------------------------------------------------

    def add_extension(
        self,
        *,
        case_id: str,
        deadline_id: int,
        unit: str,
        requested_by: str,
        requested_at: datetime,
        until: datetime,
        reason: str,
    ) -> None:
        self.db.execute(
            case_extensions.insert().values(
                case_id=case_id,
                deadline_id=deadline_id,
                unit=unit,
                requested_by=requested_by,
                requested_at=stamp(requested_at),
                until=stamp(until),
                reason=reason,
            )
        )

    def decide_extension(
        self, extension_id: int, *, status: str, decided_by: str, decided_at: datetime
    ) -> None:
        self._set(
            case_extensions,
            extension_id,
            {"status": status, "decided_by": decided_by, "decided_at": decided_at},
        )

    def withdraw_extensions(self, case_id: str, at: datetime) -> None:
        e = case_extensions.c
        self.db.execute(
            update(case_extensions)
            .where(e.case_id == case_id, e.status == "pending")
            .values(status="withdrawn", decided_at=stamp(at))
        )

    def extensions(self, case_id: str | None = None) -> list[Extension]:
        query = select(case_extensions).order_by(case_extensions.c.id)
        if case_id:
            query = query.where(case_extensions.c.case_id == case_id)
        return [_extension(r) for r in self._rows(query)]

    # -- notices --------------------------------------------------------------------------------------

    def add_notice(self, key: str, case_id: str, kind: str, at: datetime) -> None:
        statement = upsert(self.db, case_notices).values(key=key, case_id=case_id, kind=kind, at=stamp(at))
        self.db.execute(statement.on_conflict_do_nothing())

    def notice_exists(self, key: str) -> bool:
        found = self.db.execute(select(case_notices.c.key).where(case_notices.c.key == key)).first()
        return found is not None
