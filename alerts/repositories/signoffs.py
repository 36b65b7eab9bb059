"""Patrol sign-offs in the alerts database: one row per checkpoint a day (alerts/signoffs.py decides)."""

from __future__ import annotations

import json

from sqlalchemy import RowMapping, select

from alerts.database import AlertsDatabase
from alerts.schema import signoffs


class SignOffRepository:
    def __init__(self, database: AlertsDatabase) -> None:
        self.db = database

    def of_days(self, first: str, last: str) -> list[RowMapping]:
        """The sign-offs of the days `first` to `last` (ISO dates, both included), in order."""
        query = (
            select(signoffs)
            .where(signoffs.c.day >= first, signoffs.c.day <= last)
            .order_by(signoffs.c.day, signoffs.c.signed_at)
        )
        return list(self.db.execute(query).mappings())

    def add(
        self,
        *,
        day: str,
        checkpoint: str,
        account: str,
        signed_at: str,
        healthy: list[str],
        failed: list[str],
        reviewed: list[str],
        zero_report: bool,
        note: str,
    ) -> None:
        self.db.execute(
            signoffs.insert().values(
                day=day,
                checkpoint=checkpoint,
                account=account,
                signed_at=signed_at,
                healthy=json.dumps(healthy, ensure_ascii=False),
                failed=json.dumps(failed, ensure_ascii=False),
                reviewed=json.dumps(reviewed, ensure_ascii=False),
                zero_report=int(zero_report),
                note=note,
            )
        )
