"""Silences: who held back what, until when and why, and who lifted one early."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update

from alerts.database import AlertsDatabase
from alerts.schema import silences
from alerts.silences import Silence

_s = silences.c


class SilenceRepository:
    def __init__(self, database: AlertsDatabase) -> None:
        self.db = database

    def add(self, match: str, until: datetime, reason: str, created_by: str, at: datetime) -> Silence:
        statement = silences.insert().values(
            match=match,
            until=until.isoformat(),
            reason=reason,
            created_by=created_by,
            created_at=at.isoformat(),
        )
        silence_id: int = self.db.execute(statement.returning(_s.id)).scalar_one()
        return Silence(silence_id, match, until, reason, created_by, at)

    def lift(self, silence_id: int, by: str, reason: str, at: datetime) -> None:
        self.db.execute(
            update(silences)
            .where(_s.id == silence_id)
            .values(lifted_at=at.isoformat(), lifted_by=by, lift_reason=reason)
        )

    def all(self) -> list[Silence]:
        rows = self.db.execute(
            select(
                _s.id,
                _s.match,
                _s.until,
                _s.reason,
                _s.created_by,
                _s.created_at,
                _s.lifted_at,
                _s.lifted_by,
                _s.lift_reason,
            ).order_by(_s.id)
        )
        return [
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
