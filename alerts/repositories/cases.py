"""Cases: one per event, the alerts it gathers, its history, deadlines, lapses, extension requests and
the notices raised about it. Rows come back by column name; alerts/workflow.py makes them into cases."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import RowMapping, Table, select, update

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


class CaseRepository:
    def __init__(self, database: AlertsDatabase) -> None:
        self.db = database

    def _rows(self, query: Any) -> list[RowMapping]:
        return list(self.db.execute(query).mappings())

    def _set(self, table: Table, key: object, **values: Any) -> int:
        return self.db.execute(update(table).where(table.c.id == key).values(**values)).rowcount

    # -- cases and their alerts --------------------------------------------------------------------

    def get(self, case_id: str) -> RowMapping | None:
        return self.db.execute(select(cases).where(cases.c.id == case_id)).mappings().first()

    def ids(self) -> list[str]:
        return list(self.db.execute(select(cases.c.id)).scalars())

    def opened(self, start: str, end: str) -> list[RowMapping]:
        """Cases opened in [start, end), as UTC text."""
        c = cases.c
        return self._rows(
            select(cases).where(c.opened_at >= start, c.opened_at < end).order_by(c.opened_at, c.id)
        )

    def in_states(self, states: Iterable[str]) -> list[RowMapping]:
        return self._rows(select(cases).where(cases.c.state.in_(list(states))))

    def open_case(self, **values: Any) -> None:
        self.db.execute(cases.insert().values(**values))

    def set_case(self, case_id: str, **values: Any) -> None:
        self._set(cases, case_id, **values)

    def case_of_alert(self, alert_key: str) -> str | None:
        return self.db.execute(
            select(case_alerts.c.case_id).where(case_alerts.c.alert_key == alert_key)
        ).scalar()

    def alert_keys(self, case_id: str | None = None) -> list[tuple[str, str]]:
        """(case id, alert key) of every alert gathered into a case (into `case_id`, when given)."""
        query = select(case_alerts.c.case_id, case_alerts.c.alert_key)
        if case_id is not None:
            query = query.where(case_alerts.c.case_id == case_id)
        return [(case, key) for case, key in self.db.execute(query)]

    def add_alert(self, alert_key: str, case_id: str, level: str, created_at: str) -> None:
        self.db.execute(
            case_alerts.insert().values(
                alert_key=alert_key, case_id=case_id, level=level, created_at=created_at
            )
        )

    # -- history ------------------------------------------------------------------------------------

    def add_history(
        self,
        case_id: str,
        at: str,
        action: str,
        from_state: str | None,
        to_state: str,
        actor: str,
        unit: str | None = None,
        note: str = "",
    ) -> None:
        self.db.execute(
            case_history.insert().values(
                case_id=case_id,
                at=at,
                action=action,
                from_state=from_state,
                to_state=to_state,
                actor=actor,
                unit=unit,
                note=note,
            )
        )

    def history(self, case_id: str) -> list[RowMapping]:
        h = case_history.c
        return self._rows(select(case_history).where(h.case_id == case_id).order_by(h.id))

    # -- deadlines and lapses ------------------------------------------------------------------------

    def deadlines(self, case_id: str | None = None, status: str | None = None) -> list[RowMapping]:
        d = case_deadlines.c
        query = select(case_deadlines).order_by(d.due_at, d.id)
        if case_id is not None:
            query = query.where(d.case_id == case_id)
        if status is not None:
            query = query.where(d.status == status)
        return self._rows(query)

    def add_deadline(self, case_id: str, round_: int, kind: str, due_at: str, units: str) -> None:
        self.db.execute(
            case_deadlines.insert().values(
                case_id=case_id, round=round_, kind=kind, due_at=due_at, original_due_at=due_at, units=units
            )
        )

    def set_deadline(self, deadline_id: int, **values: Any) -> None:
        self._set(case_deadlines, deadline_id, **values)

    def lapse_if_open(self, deadline_id: int, due_at: str) -> bool:
        """Mark an open deadline lapsed unless someone did first or it moved; True when this call did."""
        d = case_deadlines.c
        statement = (
            update(case_deadlines)
            .where(d.id == deadline_id, d.status == "open", d.due_at == due_at)
            .values(status="lapsed")
        )
        return self.db.execute(statement).rowcount > 0

    def add_lapse(
        self, deadline_id: int, due_at: str, case_id: str, kind: str, lapsed_at: str, units: str
    ) -> None:
        """A lapse on record, once per deadline and due time."""
        statement = upsert(self.db, case_lapses).values(
            deadline_id=deadline_id,
            due_at=due_at,
            case_id=case_id,
            kind=kind,
            lapsed_at=lapsed_at,
            units=units,
        )
        self.db.execute(statement.on_conflict_do_nothing())

    def lapses(self, case_id: str | None = None) -> list[RowMapping]:
        query = select(case_lapses).order_by(case_lapses.c.lapsed_at)
        if case_id:
            query = query.where(case_lapses.c.case_id == case_id)
        return self._rows(query)

    # -- extension requests ---------------------------------------------------------------------------

    def add_extension(self, **values: Any) -> None:
        self.db.execute(case_extensions.insert().values(**values))

    def set_extension(self, extension_id: int, **values: Any) -> None:
        self._set(case_extensions, extension_id, **values)

    def withdraw_extensions(self, case_id: str, at: str) -> None:
        e = case_extensions.c
        self.db.execute(
            update(case_extensions)
            .where(e.case_id == case_id, e.status == "pending")
            .values(status="withdrawn", decided_at=at)
        )

    def extensions(self, case_id: str | None = None) -> list[RowMapping]:
        query = select(case_extensions).order_by(case_extensions.c.id)
        if case_id:
            query = query.where(case_extensions.c.case_id == case_id)
        return self._rows(query)

    # -- notices --------------------------------------------------------------------------------------

    def add_notice(self, key: str, case_id: str, kind: str, at: str) -> None:
        statement = upsert(self.db, case_notices).values(key=key, case_id=case_id, kind=kind, at=at)
        self.db.execute(statement.on_conflict_do_nothing())

    def notice_exists(self, key: str) -> bool:
        return (
            self.db.execute(select(case_notices.c.key).where(case_notices.c.key == key)).first() is not None
        )
